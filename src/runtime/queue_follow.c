/* queue_follow.c -- the blocking queue reader (see queue_follow.h). */
#include <assert.h>

#include "runtime/queue_follow.h"

#define QUEUE_FOLLOW_WAIT_MS 1000   /* longest sleep: signals, expiry */

/* One read at the cursor and what it means; 0 to go on. */
static int queue_follow_step(struct queue_follow *f)
{
    struct queue_record rec;
    uint64_t before = f->cursor;
    uint32_t word = queue_wake_word(f->q);
    int wait_ms = QUEUE_FOLLOW_WAIT_MS;
    int rc = queue_read(f->q, &f->cursor, &rec, f->buf, f->cap);

    switch (rc) {
    case 0:
        return f->on_record(f->ctx, &rec);
    case QUEUE_OVERRUN:
        assert(f->cursor > before);
        return f->on_overrun(f->ctx, before, f->cursor);
    case QUEUE_EMPTY:
        rc = f->on_idle(f->ctx, &wait_ms);
        if (rc == 0)
            queue_wait(f->q, word, wait_ms);
        return rc;
    case QUEUE_BAD_RECORD:
        return f->skip_bad ? 0 : rc;
    default:
        return rc;
    }
}

int queue_follow_run(struct queue_follow *f)
{
    int rc = 0;

    while (rc == 0 && !*f->stop)
        rc = queue_follow_step(f);
    return rc;
}
