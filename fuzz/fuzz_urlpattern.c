/* fuzz_urlpattern.c -- libFuzzer target for urlpattern.c,
 * urlpattern_parse.c, urlpattern_regex.c and url_parts.c. Input: a
 * pattern, '\n', a topic (a leading 'R' instead: a regexp, '\n', a
 * text). Checks beyond "no crash": compiling answers 0, -EINVAL or
 * -E2BIG, and an error says why; a compiled pattern's cost is 1 to
 * URLPATTERN_REGEX_PROG_MAX; matching twice answers the same; a topic
 * that parses yields NUL-terminated components and parses the same
 * against itself as base. */
#include "ac_config.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mercure/url_parts.h"
#include "mercure/urlpattern.h"
#include "mercure/urlpattern_regex.h"

#define FUZZ_HUB "https://hub.example/.well-known/mercure"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The regexp engine alone. */
static void fuzz_regex(const char *re, size_t rlen, const char *s,
                       size_t slen)
{
    struct urlpattern_regex *r;
    char why[200] = "";
    int rc = urlpattern_regex_compile(re, rlen, &r, why, sizeof(why));

    assert(rc == 0 || rc == -EINVAL || rc == -E2BIG);
    if (rc < 0) {
        assert(why[0] != '\0');
        return;
    }
    assert(urlpattern_regex_size(r) >= 1 &&
           urlpattern_regex_size(r) <= URLPATTERN_REGEX_PROG_MAX);
    assert(urlpattern_regex_match(r, s, slen) ==
           urlpattern_regex_match(r, s, slen));
    urlpattern_regex_free(r);
}

/* A topic's components, alone and against the hub URL. */
static void fuzz_parts(const char *s, size_t slen)
{
    struct url_parts base, u, again;

    if (url_parts_parse(&base, FUZZ_HUB, strlen(FUZZ_HUB), NULL) != 0)
        return;
    if (url_parts_parse(&u, s, slen, &base) == 0) {
        for (int k = 0; k < URL_PARTS; k++)
            assert(u.v[k][u.len[k]] == '\0');
        url_parts_free(&u);
    }
    if (url_parts_parse(&u, s, slen, NULL) == 0) {
        if (url_parts_parse(&again, s, slen, &u) == 0) {
            for (int k = 0; k < URL_PARTS; k++)
                assert(again.len[k] == u.len[k] &&
                       memcmp(again.v[k], u.v[k], u.len[k]) == 0);
            url_parts_free(&again);
        }
        url_parts_free(&u);
    }
    url_parts_free(&base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t plen = nl ? (size_t)(nl - in) : size;
    const char *s = nl ? nl + 1 : in + size;
    size_t slen = nl ? size - plen - 1 : 0;
    struct urlpattern *p;
    char why[300] = "";
    int rc;

    if (size > 0 && in[0] == 'R') {
        fuzz_regex(in + 1, plen - 1, s, slen);
        return 0;
    }
    fuzz_parts(s, slen);
    rc = urlpattern_compile(in, plen, FUZZ_HUB, strlen(FUZZ_HUB), &p, why,
                            sizeof(why));
    assert(rc == 0 || rc == -EINVAL || rc == -E2BIG);
    if (rc < 0) {
        assert(why[0] != '\0');
        return 0;
    }
    assert(urlpattern_cost(p) >= 1 &&
           urlpattern_cost(p) <= URLPATTERN_REGEX_PROG_MAX);
    assert(urlpattern_match(p, s, slen) == urlpattern_match(p, s, slen));
    urlpattern_free(p);
    return 0;
}
