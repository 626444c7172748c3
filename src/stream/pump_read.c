/* pump_read.c -- the pump's reading of queue records (pump thread only):
 * one buffer, sized for the queue's largest record when the queue is
 * adopted and doubled if a record still does not fit; the pass and the
 * replay read through it. */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>

#include "stream/pump_int.h"
#include "stream/stream_feed.h"

int pump_read_init(struct pump *p, struct queue *q)
{
    p->rcap = stream_feed_bufsize(q);
    p->rbuf = malloc(p->rcap);
    return p->rbuf != NULL ? 0 : -ENOMEM;
}

/* Reads the record at *cursor into the pump's buffer, growing it when the
 * record does not fit. queue_read's result. */
int pump_read(struct pump *p, uint64_t *cursor, struct queue_record *rec)
{
    int rc = queue_read(p->q, cursor, rec, p->rbuf, p->rcap);

    if (rc == -ENOBUFS) {
        char *nb = realloc(p->rbuf, p->rcap * 2);

        if (nb == NULL)
            return -ENOMEM;
        p->rbuf = nb;
        p->rcap *= 2;
        rc = queue_read(p->q, cursor, rec, p->rbuf, p->rcap);
    }
    return rc;
}

void pump_read_free(struct pump *p)
{
    free(p->rbuf);
    p->rbuf = NULL;
    p->rcap = 0;
}
