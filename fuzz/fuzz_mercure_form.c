/* fuzz_mercure_form.c -- libFuzzer target: the Mercure hub's publish
 * form (src/mercure/mercure_form.c). The first byte picks topic_max (1 to 256).
 * Properties: no crash or sanitizer report; on success every topic,
 * data, id and type lies inside the scratch buffer, topics are 1 to
 * topic_max bytes of UTF-8 without NUL and at most
 * MERCURE_FORM_TOPICS_MAX, data is UTF-8, id and type are valid SSE
 * fields and id does not start with '#'; the reserved-namespace check
 * (mercure_form_reserved against a fixed hub URL) neither crashes nor
 * answers anything but 0 or a refusal; a refusal carries a one-line
 * reason. */
#include "ac_config.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "mercure/mercure_form.h"
#include "proto/sse.h"
#include "base/util.h"

#define FUZZ_HUB "https://hub.example/.well-known/mercure"

/* true if p[0..n) lies inside base[0..cap). */
static int fuzz_inside(const char *p, size_t n, const char *base, size_t cap)
{
    return n == 0 || (p >= base && n <= cap && p - base <= (long)(cap - n));
}

/* Checks the properties of a parsed form. */
static void fuzz_check(const struct mercure_form *f, const char *scratch,
                       size_t len, size_t topic_max)
{
    size_t i;

    FUZZ_ASSERT(f->n_topic >= 1 && f->n_topic <= MERCURE_FORM_TOPICS_MAX,
                "1 to MERCURE_FORM_TOPICS_MAX topics");
    for (i = 0; i < f->n_topic; i++) {
        FUZZ_ASSERT(fuzz_inside(f->topic[i], f->topic_len[i], scratch, len),
                    "a topic lies in the scratch");
        FUZZ_ASSERT(f->topic_len[i] >= 1 && f->topic_len[i] <= topic_max,
                    "a topic is 1 to topic_max bytes");
        FUZZ_ASSERT(memchr(f->topic[i], '\0', f->topic_len[i]) == NULL &&
                    util_utf8_valid(f->topic[i], f->topic_len[i]),
                    "a topic is UTF-8 without NUL");
    }
    FUZZ_ASSERT(f->data_len == 0 ||
                fuzz_inside(f->data, f->data_len, scratch, len),
                "data lies in the scratch");
    FUZZ_ASSERT(util_utf8_valid(f->data, f->data_len), "data is UTF-8");
    FUZZ_ASSERT(f->id_len == 0 ||
                (fuzz_inside(f->id, f->id_len, scratch, len) &&
                 sse_validate_field(f->id, f->id_len) == 0 &&
                 f->id[0] != '#'), "id is a valid SSE id");
    FUZZ_ASSERT(f->type_len == 0 ||
                (fuzz_inside(f->type, f->type_len, scratch, len) &&
                 sse_validate_field(f->type, f->type_len) == 0),
                "type is a valid SSE field");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mercure_form f;
    size_t len, topic_max;
    char *copy, *scratch;
    int rc;

    if (size == 0)
        return 0;
    topic_max = (size_t)data[0] + 1;
    len = size - 1;
    copy = malloc(len ? len : 1);       /* exact size: ASan sees overreads */
    scratch = malloc(len ? len : 1);
    FUZZ_ASSERT(copy != NULL && scratch != NULL, "malloc");
    memcpy(copy, data + 1, len);
    rc = mercure_form_parse(copy, len, topic_max, scratch, &f);
    if (rc == 0) {
        fuzz_check(&f, scratch, len, topic_max);
        rc = mercure_form_reserved(&f, FUZZ_HUB, sizeof(FUZZ_HUB) - 1);
        FUZZ_ASSERT(rc == 0 || rc == -EINVAL || rc == -ENOMEM,
                    "the reserved-namespace check is 0, -EINVAL, -ENOMEM");
        if (rc == -ENOMEM)
            rc = 0;
    }
    if (rc != 0) {
        FUZZ_ASSERT(rc == -EINVAL, "a refusal is -EINVAL");
        FUZZ_ASSERT(memchr(f.why, '\0', sizeof(f.why)) != NULL &&
                    f.why[0] != '\0' && strchr(f.why, '\n') == NULL,
                    "a refusal has a one-line reason");
    }
    free(scratch);
    free(copy);
    return 0;
}
