/* stream_feed.h -- where a new event stream starts reading the queue
 * (live, after Last-Event-ID, or backlog=N back), the SSE bytes of a
 * record on each endpoint, and of the events sseq-stream makes itself
 * (the sseq-gap event). Shared by the FastCGI pump and the plain CGI
 * loop.
 *
 * Hub resume (Last-Event-ID header, else lastEventID=): "earliest"
 * replays everything retained; a hub id (a number in [oldest - 1,
 * newest]) resumes after it; else a publisher id found in retained
 * history (queue_find_pub_id, newest first) on a record the subscriber
 * may receive resumes after that record; anything else (unknown,
 * evicted, too long, a private update the subscriber may not see)
 * starts live, even when lastEventID=earliest came with a Last-Event-ID
 * header too long to keep. The answer
 * then carries Last-Event-ID: what was resumed from ("earliest", the
 * id as sent), or for an unknown id the newest retained record's id as
 * a hub stream would show it (its number if it is private; "earliest"
 * when nothing is retained). */
#ifndef SSEQ_STREAM_FEED_H
#define SSEQ_STREAM_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mercure/jwt_claims.h"
#include "queue/queue.h"
#include "stream/stream_req.h"

#define STREAM_FEED_SCAN_MAX 100000     /* records a backlog scan reads */
#define STREAM_FEED_GAP_MAX  128        /* bytes of one gap event */

/* Where to start: deliver ids >= start on the stream's channels; first
 * say sseq-gap when gap is set. */
struct stream_feed_plan {
    uint64_t start;
    bool gap;
    uint64_t gap_requested, gap_oldest;
    bool has_hdr;                       /* answer with Last-Event-ID */
    char hdr[STREAM_REQ_RESUME_MAX + 1];        /* ... this value */
};

/* Plans the start of r on q: on /events resume after r->last_id (gap if
 * it is older than what is retained; an id the queue never issued starts
 * live), backlog (scans back from the newest record, at most
 * STREAM_FEED_SCAN_MAX records, for r->backlog records the subscriber
 * with claims c, NULL if anonymous, receives), or live, answering
 * tag=channel streams with Last-Event-ID: start - 1 (resuming after it
 * misses nothing of this stream, even before its first event); on the
 * hub as above. buf (cap bytes) is scratch for reading records. */
void stream_feed_plan(struct queue *q, const struct stream_req *r,
                      const struct jwt_claims *c, char *buf, size_t cap,
                      struct stream_feed_plan *out);

/* How a record is written on a stream: its endpoint's flavor. */
enum stream_feed_flavor {
    STREAM_FEED_EVENTS = 0,     /* /events: "id:" the queue's id */
    STREAM_FEED_HUB,            /* hub: "id:" the publisher id if usable */
    STREAM_FEED_TAGGED,         /* /events?tag=channel: + "channel:" lines,
                                   the record's channel and alternates */
    STREAM_FEED_NFLAVORS
};

/* The flavor of request r's stream. */
enum stream_feed_flavor stream_feed_flavor(const struct stream_req *r);

/* Bytes of rec as an SSE event in flavor f, with "retry:" when rec has
 * retry_ms. */
size_t stream_feed_event_size(const struct queue_record *rec,
                              enum stream_feed_flavor f);

/* Writes that event into out (stream_feed_event_size bytes); returns
 * its length. */
size_t stream_feed_event(char *out, const struct queue_record *rec,
                         enum stream_feed_flavor f);

/* Writes the SSE "event: sseq-gap" event with
 * data {"requested":"ID","oldest":"ID"} into out (STREAM_FEED_GAP_MAX
 * bytes); returns its length. */
size_t stream_feed_gap(char *out, uint64_t requested, uint64_t oldest);

/* Size needed for a record buffer of q (queue_read's cap). */
size_t stream_feed_bufsize(const struct queue *q);

#endif
