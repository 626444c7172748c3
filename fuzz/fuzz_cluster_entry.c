/* fuzz_cluster_entry.c -- libFuzzer target: the bridge's reading of a
 * Redis stream entry (src/cluster/cluster_entry.c). The input is RESP, as
 * Redis sends it, read by hiredis's own reader; every reply it yields is
 * given to cluster_entry_parse as one entry.
 * Properties: no crash or sanitizer report; the result is 0, -EINVAL or
 * -EPROTO; 0 is a message queue_msg_check accepts, with an id "<n>-0",
 * 0 < n < QUEUE_ID_END, and no CR, LF or NUL in its event type or
 * publisher id (nothing can be smuggled onto an SSE line); -EINVAL marks
 * the entry bad with a one-line reason.
 * Inputs with an array header over FUZZ_ARRAY_MAX elements are skipped:
 * Debian 12's hiredis (0.14) allocates the whole array on reading its
 * header, which is hiredis's cost, not the parser's (a 6 GB calloc
 * stopped a run as out-of-memory). */
#include "ac_config.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <string.h>

#include "fuzz.h"
#include "cluster/cluster_entry.h"
#include "queue/queue_msg.h"

#define FUZZ_ARRAY_MAX 4096

/* Whether some line of data (at its start or after a LF) is an array
 * header "*N" with N over FUZZ_ARRAY_MAX. */
static int fuzz_huge_array(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned long n = 0;
        size_t k = i + 1;

        if (data[i] != '*' || (i > 0 && data[i - 1] != '\n'))
            continue;
        while (k < size && data[k] >= '0' && data[k] <= '9' &&
               n <= FUZZ_ARRAY_MAX)
            n = n * 10 + (unsigned long)(data[k++] - '0');
        if (n > FUZZ_ARRAY_MAX)
            return 1;
    }
    return 0;
}

/* Whether s[0..len) holds a CR, LF or NUL. */
static int fuzz_breaks_line(const char *s, size_t len)
{
    return len > 0 && (memchr(s, '\r', len) || memchr(s, '\n', len) ||
                       memchr(s, '\0', len));
}

/* Checks the properties of one parsed entry. */
static void fuzz_check(int rc, const struct cluster_entry *e)
{
    FUZZ_ASSERT(rc == 0 || rc == -EINVAL || rc == -EPROTO,
                "0, -EINVAL or -EPROTO");
    if (rc == -EINVAL) {
        FUZZ_ASSERT(e->bad && e->why[0] != '\0', "a bad entry says why");
        FUZZ_ASSERT(strpbrk(e->why, "\r\n") == NULL, "the reason is one "
                    "line");
        return;
    }
    if (rc != 0)
        return;
    FUZZ_ASSERT(!e->bad && e->seq == 0 && e->id > 0 &&
                e->id < QUEUE_ID_END, "a message has an id <n>-0 in range");
    FUZZ_ASSERT(queue_msg_check(&e->msg, NULL) == 0, "a message is valid");
    FUZZ_ASSERT(!fuzz_breaks_line(e->msg.event, e->msg.event_len) &&
                !fuzz_breaks_line(e->msg.pub_id, e->msg.pub_id_len),
                "event type and id fit one SSE line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    redisReader *rd;
    struct cluster_entry e;
    void *reply = NULL;
    int n = 0;

    if (fuzz_huge_array(data, size))
        return 0;
    rd = redisReaderCreate();
    FUZZ_ASSERT(rd != NULL, "redisReaderCreate");
    if (redisReaderFeed(rd, (const char *)data, size) != REDIS_OK)
        goto done;
    while (n++ < 64 && redisReaderGetReply(rd, &reply) == REDIS_OK &&
           reply != NULL) {
        fuzz_check(cluster_entry_parse(reply, &e), &e);
        freeReplyObject(reply);
        reply = NULL;
    }
done:
    redisReaderFree(rd);
    return 0;
}
