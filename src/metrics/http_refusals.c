/* http_refusals.c -- per-process HTTP refusal counters (see
 * http_refusals.h). Counts are 32 bits, as in the queue slot. */
#include "ac_config.h"

#include "metrics/http_refusals.h"

_Static_assert(HTTP_STATUS_REFUSALS == QUEUE_PROC_REFUSALS,
               "one slot counter per error status");

int http_refusals_add(struct http_refusals *r, int code)
{
    int i = http_status_refusal_index(code);

    if (i >= 0)
        atomic_fetch_add_explicit(&r->n[i], 1, memory_order_relaxed);
    return i;
}

uint32_t http_refusals_get(const struct http_refusals *r, int code)
{
    int i = http_status_refusal_index(code);

    return i < 0 ? 0 : atomic_load_explicit(&r->n[i], memory_order_relaxed);
}

void http_refusals_publish(const struct http_refusals *r, struct queue *q)
{
    uint32_t n[QUEUE_PROC_REFUSALS];
    int i;

    if (q == NULL)
        return;
    for (i = 0; i < QUEUE_PROC_REFUSALS; i++)
        n[i] = atomic_load_explicit(&r->n[i], memory_order_relaxed);
    queue_proc_set_refused(q, n);
}
