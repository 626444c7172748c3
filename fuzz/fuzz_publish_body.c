/* fuzz_publish_body.c -- libFuzzer target: publish request bodies
 * (src/publish/publish_body.c) of each type, and Content-Type values. The first
 * byte picks the body type. Properties: no crash or sanitizer report;
 * parsed data and event lie inside the body or the scratch buffer and are
 * valid UTF-8; a refusal carries a one-line reason. */
#include "ac_config.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "publish/publish_body.h"
#include "base/util.h"

/* true if p[0..n) lies inside base[0..cap). */
static int fuzz_inside(const char *p, size_t n, const char *base, size_t cap)
{
    return n == 0 || (p >= base && n <= cap && p - base <= (long)(cap - n));
}

/* Parses the Content-Type value held in data (NUL-terminated copy). */
static void fuzz_type(const uint8_t *data, size_t size)
{
    char *ct = malloc(size + 1), why[128];
    int rc;

    FUZZ_ASSERT(ct != NULL, "malloc");
    memcpy(ct, data, size);
    ct[size] = '\0';
    why[0] = '\0';
    rc = publish_body_type(ct, why, sizeof(why));
    FUZZ_ASSERT(rc >= 0 || rc == -EPROTONOSUPPORT || rc == -EILSEQ,
                "known type outcome");
    FUZZ_ASSERT(memchr(why, '\0', sizeof(why)) != NULL, "why ends");
    free(ct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum publish_body_type type;
    struct publish_body out;
    const char *body;
    char *copy, *scratch;
    size_t len;
    int rc;

    if (size == 0)
        return 0;
    fuzz_type(data + 1, size - 1);
    type = (enum publish_body_type)(data[0] % 3);
    len = size - 1;
    copy = malloc(len ? len : 1);       /* exact size: ASan sees overreads */
    scratch = malloc(len ? len : 1);
    FUZZ_ASSERT(copy != NULL && scratch != NULL, "malloc");
    memcpy(copy, data + 1, len);
    body = copy;
    memset(&out, 0, sizeof(out));
    rc = publish_body_parse(type, body, len, scratch, &out);
    if (rc == 0) {
        FUZZ_ASSERT(fuzz_inside(out.data, out.data_len, body, len) ||
                    fuzz_inside(out.data, out.data_len, scratch, len),
                    "data lies in the body or the scratch");
        FUZZ_ASSERT(out.event == NULL ||
                    fuzz_inside(out.event, out.event_len, body, len) ||
                    fuzz_inside(out.event, out.event_len, scratch, len),
                    "event lies in the body or the scratch");
        FUZZ_ASSERT(util_utf8_valid(out.data, out.data_len),
                    "data is UTF-8");
        FUZZ_ASSERT(out.event == NULL ||
                    util_utf8_valid(out.event, out.event_len),
                    "event is UTF-8");
    } else {
        FUZZ_ASSERT(rc == -EINVAL, "a refusal is -EINVAL");
        FUZZ_ASSERT(memchr(out.why, '\0', sizeof(out.why)) != NULL &&
                    out.why[0] != '\0' && strchr(out.why, '\n') == NULL,
                    "a refusal has a one-line reason");
    }
    free(scratch);
    free(copy);
    return 0;
}
