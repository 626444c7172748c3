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

/* Where a request may carry its token, besides the Authorization
 * header (always first). */
struct mercure_token_where {
    bool query;                 /* v0.x's authorization= parameter, next */
    const char *cookie;         /* then this cookie (NULL: none) */
    const char *cookie2;        /* then this one (NULL: none) */
};

/* mercure_token_find with the sources of w (the same rules: the first
 * present decides). */
int mercure_token_find_in(const struct mercure_token_where *w,
                          const char *authorization, const char *query,
                          const char *cookies, char *buf, size_t cap,
                          size_t *len, enum mercure_token_source *source);

/* Whether the raw query string carries a token parameter: v0.x's
 * "authorization" or RFC 6750's "access_token" (Mercure 1.0 takes
 * neither: a token never travels in a URL). */
bool mercure_token_in_url(const char *query);

/* "header", "query", "cookie" or "none". */
const char *mercure_token_source_name(enum mercure_token_source s);

#endif
