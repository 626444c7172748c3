/* publish_lag.h -- backpressure: whether a publish is refused because the
 * subscribers' fan-out is too far behind. A pure decision over what
 * queue_fanout_list observed (queue.h); sseq-publish (HTTP /publish and
 * the hub) and `sseq publish` take it before they append.
 *
 * The lag of a fan-out is how long the oldest record its pump has not
 * fanned out has waited; the decision looks at the slowest healthy one:
 * its pid is alive, it holds at least one stream (a pump with nobody to
 * send to is behind no one) and its pump went round its loop within
 * PUBLISH_LAG_STUCK_MS (a pump stopped longer is stuck, not slow: its
 * subscribers are lost either way, and it must not stop every publisher).
 * Past max_lag_us it refuses, with a Retry-After of the excess rounded
 * up to whole seconds (1 to PUBLISH_LAG_RETRY_MAX). A refused publish
 * writes nothing, so it is safe to send again. */
#ifndef SSEQ_PUBLISH_LAG_H
#define SSEQ_PUBLISH_LAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/queue.h"

#define PUBLISH_LAG_STUCK_MS  5000u     /* a quiet pump is stuck */
#define PUBLISH_LAG_RETRY_MAX 60u       /* seconds, at most */
#define PUBLISH_LAG_MAX_PROCS QUEUE_PROC_SLOTS

/* The decision and what it is based on. */
struct publish_lag_dec {
    bool refuse;                /* answer 503 / exit 75, append nothing */
    uint64_t lag_us;            /* the slowest healthy fan-out's lag */
    pid_t pid;                  /* its process, 0 if none is behind */
    unsigned retry_after_s;     /* with refuse: seconds to wait */
};

/* Decides over the fan-outs f[0..n) against max_lag_us (0 = never
 * refuse). Pure. */
struct publish_lag_dec publish_lag_decide(const struct queue_fanout *f,
                                          size_t n, uint64_t max_lag_us);

/* Observes q's fan-outs (queue_fanout_list) and decides; a queue that
 * cannot be read (damaged) is never a reason to refuse here (the append
 * says so). */
struct publish_lag_dec publish_lag_check(const struct queue *q,
                                         uint64_t max_lag_us);

#endif
