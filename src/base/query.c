/* query.c -- iteration over "key=value&key=value" text (URL query strings
 * and application/x-www-form-urlencoded bodies). No allocation, no
 * decoding: callers decode the values they keep with util_url_decode. */
#include "base/query.h"

#include <string.h>

/* Splits one "key[=value]" segment s[0..len) into *pair. */
static void query_split(const char *s, size_t len, struct query_pair *pair)
{
    const char *eq = memchr(s, '=', len);

    pair->key = s;
    if (eq == NULL) {
        pair->key_len = len;
        pair->val = s + len;
        pair->val_len = 0;
        return;
    }
    pair->key_len = (size_t)(eq - s);
    pair->val = eq + 1;
    pair->val_len = len - pair->key_len - 1;
}

bool query_next(const char *s, size_t len, size_t *pos,
                struct query_pair *pair)
{
    while (*pos < len) {
        const char *start = s + *pos;
        const char *amp = memchr(start, '&', len - *pos);
        size_t seg = amp ? (size_t)(amp - start) : len - *pos;

        *pos += seg + (amp ? 1 : 0);
        if (seg == 0)
            continue;
        query_split(start, seg, pair);
        return true;
    }
    return false;
}

bool query_key_is(const struct query_pair *pair, const char *key)
{
    size_t n = strlen(key);

    return pair->key_len == n && memcmp(pair->key, key, n) == 0;
}

bool query_find(const char *s, size_t len, const char *key,
                const char **val, size_t *val_len)
{
    struct query_pair pair;
    size_t pos = 0;

    while (query_next(s, len, &pos, &pair)) {
        if (query_key_is(&pair, key)) {
            *val = pair.val;
            *val_len = pair.val_len;
            return true;
        }
    }
    return false;
}
