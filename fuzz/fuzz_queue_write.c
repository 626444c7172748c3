/* fuzz_queue_write.c -- libFuzzer target: the queue's writers on a damaged
 * image (fuzz_queue.h): open, append messages built from the rest of the
 * input, read each back, then read everything. Properties: no crash, no
 * sanitizer report, no hang (a writer that finds damage inside the lock
 * leaves it usable: every later append returns promptly), an append that
 * succeeded reads back intact, damage is reported naming the file. */
#include "ac_config.h"

#include "fuzz_queue.h"
#include "queue/queue_msg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fq_init("write");
    atexit(fq_fini);
    return 0;
}

/* Appends a message of the bytes in msg (its first byte picks the
 * shape) and checks it reads back. */
static void fq_append_one(struct queue *q, const uint8_t *msg, size_t len,
                          unsigned k)
{
    static const char *const alts[] = { "urn:x", "urn:y" };
    static const size_t alt_lens[] = { 5, 5 };
    static char buf[FQ_SIZE];
    uint8_t shape = len ? msg[0] : 0;
    struct queue_msg m = {
        .channel = "c", .channel_len = 1,
        .data = (const char *)msg, .data_len = len,
        .alt = alts, .alt_len = alt_lens, .n_alt = shape % 3,
        .pub_id = shape & 4 ? "pub-w" : NULL,
        .pub_id_len = shape & 4 ? 5 : 0, .retry_ms = shape,
        .flags = shape >> 7,
    };
    struct queue_record r;
    uint64_t id, cur;
    int rc = queue_append(q, &m, &id);

    fq_check_error(rc);
    FUZZ_ASSERT(rc == 0 || rc == QUEUE_DAMAGED || rc == -EMSGSIZE ||
                (rc == -EINVAL && queue_msg_check(&m, NULL) < 0),
                "known append outcome (-EINVAL only for an invalid message)");
    if (rc != 0)
        return;
    cur = id;
    rc = queue_read(q, &cur, &r, buf, queue_max_payload(q) + 64);
    FUZZ_ASSERT(rc == 0 && r.id == id && r.data_len == len &&
                (len == 0 || memcmp(r.data, msg, len) == 0) &&
                r.n_alt == shape % 3 && r.retry_ms == shape,
                "an appended record reads back intact");
    (void)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = fq_damage(data, size), rest = size - off, part;
    struct queue_verify v;
    struct queue *q;
    unsigned k;
    int rc;

    rc = queue_open(fq_path, &q);
    if (rc < 0) {
        FUZZ_ASSERT(rc == QUEUE_DAMAGED || rc == -EPROTO,
                    "open refuses a damaged header as damaged");
        fq_check_error(rc);
        return 0;
    }
    part = rest / 4;
    for (k = 0; k < 4; k++)
        fq_append_one(q, data + off + k * part, k < 3 ? part
                                                      : rest - 3 * part, k);
    for (k = 0; k < 20; k++)
        fq_append_one(q, (const uint8_t *)"0123456789abcdef" + k % 16,
                      16 - k % 16, k);
    fq_read_all(q);
    rc = queue_verify(q, &v);
    fq_check_error(rc);
    queue_close(q);
    return 0;
}
