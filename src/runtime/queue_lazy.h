/* queue_lazy.h -- opening the queue on first use, the way every server
 * program does it (sseq-publish, sseq-stream in both modes, sseq-bridge):
 * a queue created or fixed after start-up is found by the next attempt,
 * and each change of outcome is logged once (queue_access_log_open:
 * the error, and for a permission or missing file who may open it), not
 * once per request. */
#ifndef SSEQ_QUEUE_LAZY_H
#define SSEQ_QUEUE_LAZY_H

#include "queue/queue.h"

/* Opens path into *q unless *q is open already; *last_rc is the last
 * outcome logged (0 at start). 1 when this call opened it (the caller
 * claims its process slot then), 0 when it was open, or -errno of
 * queue_open (*q stays NULL). */
int queue_lazy_open(const char *path, struct queue **q, int *last_rc);

#endif
