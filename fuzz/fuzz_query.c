/* fuzz_query.c -- libFuzzer target: the "key=value&..." iterator
 * (src/base/query.c) and the URL decoder on its values. Properties: no crash
 * or sanitizer report; each pair lies inside the text, its key holds no
 * '&' or '=', its value no '&'; the iterator always advances and ends;
 * query_find returns the first pair the iterator gives for that key. */
#include "ac_config.h"

#include <string.h>

#include "fuzz.h"
#include "base/query.h"
#include "base/util.h"

/* Decodes the value as util_url_decode would for a form and a query. */
static void fuzz_decode(const struct query_pair *p)
{
    char *dst = malloc(p->val_len ? p->val_len : 1);
    long n;

    FUZZ_ASSERT(dst != NULL, "malloc");
    n = util_url_decode(dst, p->val, p->val_len, true);
    FUZZ_ASSERT(n < 0 || (size_t)n <= p->val_len, "decoding never grows");
    n = util_url_decode(dst, p->val, p->val_len, false);
    FUZZ_ASSERT(n < 0 || (size_t)n <= p->val_len, "decoding never grows");
    free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    const char *fval = NULL, *val;
    struct query_pair p;
    size_t pos = 0, last, fval_len = 0, val_len, n = 0;
    bool found;

    FUZZ_ASSERT(s != NULL, "malloc");
    memcpy(s, data, size);
    for (;;) {
        last = pos;
        if (!query_next(s, size, &pos, &p))
            break;
        FUZZ_ASSERT(pos > last && pos <= size, "the iterator advances");
        FUZZ_ASSERT(++n <= size, "at most one pair a byte");
        FUZZ_ASSERT(p.key >= s && p.key + p.key_len <= s + size &&
                    (p.val_len == 0 ||
                     (p.val >= s && p.val + p.val_len <= s + size)),
                    "pairs lie in the text");
        FUZZ_ASSERT(memchr(p.key, '&', p.key_len) == NULL &&
                    memchr(p.key, '=', p.key_len) == NULL &&
                    memchr(p.val, '&', p.val_len) == NULL,
                    "no separator inside a pair");
        if (fval == NULL && query_key_is(&p, "channel")) {
            fval = p.val;
            fval_len = p.val_len;
        }
        fuzz_decode(&p);
    }
    found = query_find(s, size, "channel", &val, &val_len);
    FUZZ_ASSERT(found == (fval != NULL), "find agrees with the iterator");
    FUZZ_ASSERT(!found || (val == fval && val_len == fval_len),
                "find returns the first pair");
    free(s);
    return 0;
}
