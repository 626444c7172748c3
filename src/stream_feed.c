/* stream_feed.c -- start planning for new event streams (resume, backlog,
 * live) and the sseq-gap event. */
#include "ac_config.h"

#include "stream_feed.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sse.h"

size_t stream_feed_bufsize(const struct queue *q)
{
    return queue_max_payload(q) + 256;
}

/* The id from which replaying forward yields the last n records of r's
 * channels (fewer if the scan cap or the oldest record comes first). */
static uint64_t stream_feed_backlog(struct queue *q,
                                    const struct stream_req *r,
                                    char *buf, size_t cap)
{
    struct queue_record rec;
    uint64_t oldest, next, id, start, cursor;
    unsigned found = 0, scanned = 0;

    queue_bounds(q, &oldest, &next);
    start = next;
    for (id = next; id > oldest && found < r->backlog &&
         scanned < STREAM_FEED_SCAN_MAX; scanned++) {
        cursor = --id;
        if (queue_read(q, &cursor, &rec, buf, cap) != 0)
            break;
        if (stream_req_has_channel(r, rec.channel, rec.channel_len)) {
            found++;
            start = id;
        }
    }
    return start;
}

void stream_feed_plan(struct queue *q, const struct stream_req *r,
                      char *buf, size_t cap, struct stream_feed_plan *out)
{
    uint64_t oldest, next;

    memset(out, 0, sizeof(*out));
    queue_bounds(q, &oldest, &next);
    out->start = next;
    if (r->has_last_id) {
        if (r->last_id >= next)
            return;
        out->start = r->last_id + 1;
        if (out->start < oldest) {
            out->gap = true;
            out->gap_requested = r->last_id;
            out->gap_oldest = oldest;
            out->start = oldest;
        }
        return;
    }
    if (r->backlog > 0)
        out->start = stream_feed_backlog(q, r, buf, cap);
}

size_t stream_feed_gap(char *out, uint64_t requested, uint64_t oldest)
{
    char data[96];
    struct sse_event ev = { 0 };
    int n;

    n = snprintf(data, sizeof(data),
                 "{\"requested\":\"%" PRIu64 "\",\"oldest\":\"%" PRIu64
                 "\"}", requested, oldest);
    ev.event = "sseq-gap";
    ev.event_len = strlen(ev.event);
    ev.data = data;
    ev.data_len = (size_t)n;
    return sse_encode_event(out, &ev);
}
