/* http_refusals.h -- a process's count of the HTTP errors it answered,
 * by status (http_status_refusal_index), kept in the process and copied
 * into its queue slot so `sseq stats --prometheus` and /sseq/metrics
 * read them from another process (sseq_refusals_total{role,status}). */
#ifndef SSEQ_HTTP_REFUSALS_H
#define SSEQ_HTTP_REFUSALS_H

#include <stdatomic.h>
#include <stdint.h>

#include "proto/http_status.h"
#include "queue/queue.h"

/* Zero-initialised: no refusals. Any thread may count. */
struct http_refusals {
    _Atomic uint32_t n[HTTP_STATUS_REFUSALS];   /* by refusal index */
};

/* Counts one answer of status code. A code with no counter (under 400,
 * or not in http_status's table) is not counted. Returns the index
 * counted, or -1. */
int http_refusals_add(struct http_refusals *r, int code);

/* The count of code so far (0 for a code with no counter). */
uint32_t http_refusals_get(const struct http_refusals *r, int code);

/* Copies the counts into the slot claimed through q
 * (queue_proc_set_refused); nothing when q is NULL or claimed none. */
void http_refusals_publish(const struct http_refusals *r, struct queue *q);

#endif
