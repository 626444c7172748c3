/* fuzz_queue_read.c -- libFuzzer target: the queue's readers on a damaged
 * image (fuzz_queue.h): open, read everything, read backwards, look up
 * publisher ids, verify. Properties: no crash, no sanitizer report, every
 * loop ends within the layout's bounds, damage is reported naming the
 * file. */
#include "ac_config.h"

#include "fuzz_queue.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fq_init("read");
    atexit(fq_fini);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct queue_verify v;
    struct queue *q;
    int rc;

    fq_damage(data, size);
    rc = queue_open(fq_path, &q);
    if (rc < 0) {
        FUZZ_ASSERT(rc == QUEUE_DAMAGED || rc == -EPROTO,
                    "open refuses a damaged header as damaged");
        fq_check_error(rc);
        return 0;
    }
    fq_read_all(q);
    rc = queue_verify(q, &v);
    fq_check_error(rc);
    FUZZ_ASSERT(rc == 0 || rc == QUEUE_DAMAGED || rc == QUEUE_BAD_RECORD,
                "known verify outcome");
    FUZZ_ASSERT(rc != QUEUE_BAD_RECORD || v.bad > 0, "verify counts");
    queue_close(q);
    return 0;
}
