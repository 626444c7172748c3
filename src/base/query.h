/* query.h -- iteration over "key=value&key=value" text: URL query strings
 * and application/x-www-form-urlencoded bodies. Pairs are returned raw
 * (still percent-encoded); decode values with util_url_decode. */
#ifndef SSEQ_QUERY_H
#define SSEQ_QUERY_H

#include <stddef.h>
#include <stdbool.h>

struct query_pair {
    const char *key; size_t key_len;    /* raw key bytes */
    const char *val; size_t val_len;    /* raw value bytes ("" if no '=') */
};

/* Reads the pair that starts at *pos in s[0..len), skipping empty pairs
 * ("a=1&&b=2"), and advances *pos past it. Returns true with *pair set,
 * false at the end of the text. */
bool query_next(const char *s, size_t len, size_t *pos,
                struct query_pair *pair);

/* Whether the pair's raw key equals key (keys sseq reads are plain ASCII,
 * so no decoding is needed to compare). */
bool query_key_is(const struct query_pair *pair, const char *key);

/* Finds the first pair named key; true with the raw value in *val, *val_len. */
bool query_find(const char *s, size_t len, const char *key,
                const char **val, size_t *val_len);

#endif
