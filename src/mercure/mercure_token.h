/* mercure_token.h -- where a Mercure request carries its JWT, in the
 * hub's order: the "Authorization: Bearer" header; else the
 * "authorization" query parameter (percent-decoded); else the cookie
 * named cookie_name (default "mercureAuthorization"). The first source
 * present decides: a present but unusable one is an error, never a fall
 * through to the next (as the Mercure.rocks hub does). */
#ifndef SSEQ_MERCURE_TOKEN_H
#define SSEQ_MERCURE_TOKEN_H

#include <stddef.h>

#define MERCURE_TOKEN_COOKIE_DEFAULT "mercureAuthorization"
#define MERCURE_TOKEN_QUERY_PARAM "authorization"

enum mercure_token_source {
    MERCURE_TOKEN_NONE = 0,     /* no source present */
    MERCURE_TOKEN_HEADER,       /* Authorization: Bearer */
    MERCURE_TOKEN_QUERY,        /* ?authorization= */
    MERCURE_TOKEN_COOKIE,       /* Cookie: <cookie_name>= */
};

/* Finds the token. authorization: the Authorization header value (NULL
 * or "" if absent); query: the raw query string (NULL if none); cookies:
 * the Cookie header value (NULL if none; several cookies separated by
 * ';'); cookie_name: NULL for the default. The token is copied into
 * buf (cap bytes), NUL-terminated, its length in *len; *source says
 * where it came from (MERCURE_TOKEN_NONE when no source is present).
 * Returns 0; -ENOENT when no source is present; -EINVAL when the first
 * present source is unusable (Authorization not "Bearer <token>", the
 * parameter given twice, empty or badly percent-encoded, an empty
 * cookie); -E2BIG when the token does not fit buf. */
int mercure_token_find(const char *authorization, const char *query,
                       const char *cookies, const char *cookie_name,
                       char *buf, size_t cap, size_t *len,
                       enum mercure_token_source *source);

/* "header", "query", "cookie" or "none". */
const char *mercure_token_source_name(enum mercure_token_source s);

#endif
