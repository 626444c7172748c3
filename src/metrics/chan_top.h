/* chan_top.h -- the channels with the most streams: a bounded,
 * ordered selection (each sseq-stream keeps its own top channels) and
 * the merge of several processes' lists into one (the metrics' top N).
 * Pure functions over caller-owned arrays. */
#ifndef SSEQ_CHAN_TOP_H
#define SSEQ_CHAN_TOP_H

#include <stddef.h>
#include <stdint.h>

/* A channel and its stream count; name is not owned. */
struct chan_top_entry {
    const char *name;
    size_t len;
    uint64_t streams;
};

/* Offers e to top[0..*n), kept ordered by streams (descending), ties by
 * name (bytewise, shorter first), at most k entries: e is inserted when
 * it ranks before the last, which then drops out if *n == k. An entry
 * with 0 streams is never kept. */
void chan_top_offer(struct chan_top_entry *top, unsigned *n, unsigned k,
                    const struct chan_top_entry *e);

/* Sums the entries of all[0..n) (several processes' lists; all is
 * reordered) by name and keeps the k that rank first in top. Returns
 * how many it kept. */
unsigned chan_top_merge(struct chan_top_entry *all, unsigned n,
                        struct chan_top_entry *top, unsigned k);

#endif
