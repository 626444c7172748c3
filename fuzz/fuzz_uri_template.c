/* fuzz_uri_template.c -- libFuzzer target for uri_template.c and
 * topic_selector.c. Input: a template, '\n', a subject. Checks beyond
 * "no crash": compile and the one-shot match agree; a template without
 * expressions matches exactly itself; "*" and an equal string are
 * selectors that match; the cache answers what it was told. */
#include "ac_config.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mercure/topic_selector.h"
#include "mercure/uri_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t tlen = nl ? (size_t)(nl - in) : size;
    const char *s = nl ? nl + 1 : in + size;
    size_t slen = nl ? size - tlen - 1 : 0;
    struct uri_template *t = NULL;
    struct topic_selector_cache c;
    int once, rc;
    bool m;

    once = uri_template_match(in, tlen, s, slen);
    rc = uri_template_compile(in, tlen, &t);
    assert(once == -EINVAL || once == 0 || once == 1);
    assert((rc == 0) == (once != -EINVAL));
    if (rc == 0) {
        assert(uri_template_match_compiled(t, s, slen) == once);
        assert(uri_template_match_compiled(t, in, tlen) >= 0);
        uri_template_free(t);
        if (memchr(in, '{', tlen) == NULL)
            assert(once == (tlen == slen && memcmp(in, s, slen) == 0));
    }
    m = topic_selector_match(in, tlen, s, slen);
    assert(topic_selector_match(in, tlen, in, tlen));
    assert(topic_selector_match("*", 1, s, slen));
    if (topic_selector_cache_init(&c, 4, 1 << 16) == 0) {
        assert(topic_selector_match_cached(&c, in, tlen, s, slen) == m);
        assert(topic_selector_match_cached(&c, in, tlen, s, slen) == m);
        topic_selector_cache_free(&c);
    }
    return 0;
}
