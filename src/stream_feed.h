/* stream_feed.h -- where a new event stream starts reading the queue
 * (live, after Last-Event-ID, or backlog=N back), and the SSE bytes of
 * the events sseq-stream makes itself (the sseq-gap event). Shared by the
 * FastCGI pump and the plain CGI loop. */
#ifndef SSEQ_STREAM_FEED_H
#define SSEQ_STREAM_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"
#include "stream_req.h"

#define STREAM_FEED_SCAN_MAX 100000     /* records a backlog scan reads */
#define STREAM_FEED_GAP_MAX  128        /* bytes of one gap event */

/* Where to start: deliver ids >= start on the stream's channels; first
 * say sseq-gap when gap is set. */
struct stream_feed_plan {
    uint64_t start;
    bool gap;
    uint64_t gap_requested, gap_oldest;
};

/* Plans the start of r on q: resume after r->last_id (gap if it is older
 * than what is retained; an id the queue never issued starts live),
 * backlog (scans back from the newest record, at most
 * STREAM_FEED_SCAN_MAX records, for r->backlog matches), or live. buf
 * (cap bytes) is scratch for reading records. */
void stream_feed_plan(struct queue *q, const struct stream_req *r,
                      char *buf, size_t cap, struct stream_feed_plan *out);

/* Writes the SSE "event: sseq-gap" event with
 * data {"requested":"ID","oldest":"ID"} into out (STREAM_FEED_GAP_MAX
 * bytes); returns its length. */
size_t stream_feed_gap(char *out, uint64_t requested, uint64_t oldest);

/* Size needed for a record buffer of q (queue_read's cap). */
size_t stream_feed_bufsize(const struct queue *q);

#endif
