/* mercure_token.c -- the places a Mercure request carries its JWT.
 * Nothing here reads the token itself: it is copied out for jwt_auth. */
#include "ac_config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "mercure/mercure_token.h"
#include "base/bearer.h"
#include "base/query.h"
#include "base/util.h"

/* Copies src[0..n) into buf as a NUL-terminated token. */
static int mt_copy(const char *src, size_t n, char *buf, size_t cap,
                   size_t *len)
{
    if (n == 0)
        return -EINVAL;
    if (n >= cap)
        return -E2BIG;
    memcpy(buf, src, n);
    buf[n] = '\0';
    *len = n;
    return 0;
}

/* The token of "Bearer <token>" (bearer.h's rule). */
static int mt_bearer(const char *v, char *buf, size_t cap, size_t *len)
{
    const char *tok;
    size_t n;

    if (!bearer_parse(v, &tok, &n))
        return -EINVAL;
    return mt_copy(tok, n, buf, cap, len);
}

/* The "authorization" query parameter, percent-decoded: -ENOENT if
 * absent, -EINVAL if given twice, empty or badly encoded. */
static int mt_query(const char *q, char *buf, size_t cap, size_t *len)
{
    struct query_pair pair, found = { 0 };
    size_t pos = 0, qlen = strlen(q), seen = 0;
    long n;

    while (query_next(q, qlen, &pos, &pair)) {
        if (query_key_is(&pair, MERCURE_TOKEN_QUERY_PARAM) && seen++ == 0)
            found = pair;
    }
    if (seen == 0)
        return -ENOENT;
    if (seen > 1 || found.val_len == 0)
        return -EINVAL;
    if (found.val_len >= cap)           /* decoding never lengthens */
        return -E2BIG;
    n = util_url_decode(buf, found.val, found.val_len, true);
    if (n <= 0 || memchr(buf, '\0', (size_t)n) != NULL)
        return -EINVAL;
    buf[n] = '\0';
    *len = (size_t)n;
    return 0;
}

/* The first cookie called name in a Cookie header ("a=1; b=2"), its
 * value unquoted: -ENOENT if absent. */
static int mt_cookie(const char *c, const char *name, char *buf,
                     size_t cap, size_t *len)
{
    size_t nlen = strlen(name);

    while (*c != '\0') {
        const char *end = strchr(c, ';'), *v, *ve;

        if (end == NULL)
            end = c + strlen(c);
        while (c < end && (*c == ' ' || *c == '\t'))
            c++;
        v = c + nlen;
        if ((size_t)(end - c) > nlen && memcmp(c, name, nlen) == 0 &&
            *v == '=') {
            v++;
            ve = end;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
                v++;
                ve--;
            }
            return mt_copy(v, (size_t)(ve - v), buf, cap, len);
        }
        c = *end ? end + 1 : end;
    }
    return -ENOENT;
}

int mercure_token_find_in(const struct mercure_token_where *w,
                          const char *authorization, const char *query,
                          const char *cookies, char *buf, size_t cap,
                          size_t *len, enum mercure_token_source *source)
{
    const char *names[2] = { w->cookie, w->cookie2 };
    int rc;

    *len = 0;
    *source = MERCURE_TOKEN_NONE;
    if (cap > 0)
        buf[0] = '\0';
    if (authorization != NULL && authorization[0] != '\0') {
        *source = MERCURE_TOKEN_HEADER;
        return mt_bearer(authorization, buf, cap, len);
    }
    if (w->query && query != NULL) {
        rc = mt_query(query, buf, cap, len);
        if (rc != -ENOENT) {
            *source = MERCURE_TOKEN_QUERY;
            return rc;
        }
    }
    for (size_t i = 0; i < 2 && cookies != NULL; i++) {
        if (names[i] == NULL || names[i][0] == '\0')
            continue;
        rc = mt_cookie(cookies, names[i], buf, cap, len);
        if (rc != -ENOENT) {
            *source = MERCURE_TOKEN_COOKIE;
            return rc;
        }
    }
    return -ENOENT;
}

int mercure_token_find(const char *authorization, const char *query,
                       const char *cookies, const char *cookie_name,
                       char *buf, size_t cap, size_t *len,
                       enum mercure_token_source *source)
{
    struct mercure_token_where w = {
        .query = true,
        .cookie = cookie_name != NULL && cookie_name[0] != '\0'
                  ? cookie_name : MERCURE_TOKEN_COOKIE_DEFAULT,
    };

    return mercure_token_find_in(&w, authorization, query, cookies, buf,
                                 cap, len, source);
}

bool mercure_token_in_url(const char *query)
{
    struct query_pair pair;
    size_t pos = 0, qlen;

    if (query == NULL)
        return false;
    qlen = strlen(query);
    while (query_next(query, qlen, &pos, &pair))
        if (query_key_is(&pair, MERCURE_TOKEN_QUERY_PARAM) ||
            query_key_is(&pair, "access_token"))
            return true;
    return false;
}

const char *mercure_token_source_name(enum mercure_token_source s)
{
    switch (s) {
    case MERCURE_TOKEN_HEADER:
        return "header";
    case MERCURE_TOKEN_QUERY:
        return "query";
    case MERCURE_TOKEN_COOKIE:
        return "cookie";
    default:
        return "none";
    }
}
