/* stream_feed.c -- start planning for new event streams (resume, backlog,
 * live) and the sseq-gap event. */
#include "ac_config.h"

#include "stream/stream_feed.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "proto/sse.h"
#include "stream/stream_match.h"
#include "base/util.h"

#define STREAM_FEED_EARLIEST "earliest"

size_t stream_feed_bufsize(const struct queue *q)
{
    return queue_max_payload(q) + 256;
}

/* The id from which replaying forward yields the last n records of r's
 * channels (fewer if the scan cap or the oldest record comes first). */
static uint64_t stream_feed_backlog(struct queue *q,
                                    const struct stream_req *r,
                                    const struct jwt_claims *c,
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
        if (stream_match_record(r, c, &rec, NULL)) {
            found++;
            start = id;
        }
    }
    return start;
}

/* Whether a publisher id can be an SSE id line: 1..QUEUE_PUBID_MAX
 * bytes, no CR, LF or NUL (sseq's writers check this; a queue record is
 * still not trusted to). */
static bool stream_feed_pub_id_ok(const struct queue_record *rec)
{
    return rec->pub_id_len > 0 && rec->pub_id_len <= QUEUE_PUBID_MAX &&
           memchr(rec->pub_id, '\n', rec->pub_id_len) == NULL &&
           memchr(rec->pub_id, '\r', rec->pub_id_len) == NULL &&
           memchr(rec->pub_id, '\0', rec->pub_id_len) == NULL;
}

/* The hub id of the newest retained record into out->hdr ("earliest"
 * when none is); its number when it is private, so that the answer never
 * shows a private update's publisher id. */
static void stream_feed_newest(struct queue *q, char *buf, size_t cap,
                               struct stream_feed_plan *out)
{
    struct queue_record rec;
    uint64_t oldest, next, cursor;

    queue_bounds(q, &oldest, &next);
    cursor = next - 1;
    if (next == oldest || queue_read(q, &cursor, &rec, buf, cap) != 0) {
        strcpy(out->hdr, STREAM_FEED_EARLIEST);
    } else if (stream_feed_pub_id_ok(&rec) &&
               !(rec.flags & QUEUE_MSG_PRIVATE)) {
        memcpy(out->hdr, rec.pub_id, rec.pub_id_len);
        out->hdr[rec.pub_id_len] = '\0';
    } else {
        snprintf(out->hdr, sizeof(out->hdr), "%" PRIu64, rec.id);
    }
}

/* Whether r's resume id is "earliest" (resume_len, not the buffer: a
 * Last-Event-ID header too long to keep leaves lastEventID's text in
 * it). */
static bool stream_feed_earliest(const struct stream_req *r)
{
    return r->resume_len == sizeof(STREAM_FEED_EARLIEST) - 1 &&
           memcmp(r->resume, STREAM_FEED_EARLIEST, r->resume_len) == 0;
}

/* Finds the retained record with r's resume id as publisher id into *v,
 * only if the subscriber with claims c (NULL: anonymous) may receive it:
 * a private update it may not see is as unknown, so the answer never
 * tells whether one with that id exists. */
static bool stream_feed_find_pub(struct queue *q, const struct stream_req *r,
                                 const struct jwt_claims *c, char *buf,
                                 size_t cap, uint64_t *v)
{
    struct queue_record rec;
    uint64_t cursor;

    if (queue_find_pub_id(q, r->resume, r->resume_len, v) != 0)
        return false;
    cursor = *v;
    return queue_read(q, &cursor, &rec, buf, cap) == 0 && rec.id == *v &&
           stream_match_allowed(c, &rec, NULL);
}

/* Hub resume (see stream_feed.h). */
static void stream_feed_hub(struct queue *q, const struct stream_req *r,
                            const struct jwt_claims *c, char *buf,
                            size_t cap, struct stream_feed_plan *out)
{
    uint64_t oldest, next, v;

    queue_bounds(q, &oldest, &next);
    out->start = next;
    if (!r->has_resume)
        return;
    out->has_hdr = true;
    if (stream_feed_earliest(r)) {
        out->start = oldest;
        strcpy(out->hdr, STREAM_FEED_EARLIEST);
        return;
    }
    if (r->resume_len > 0 &&
        ((util_parse_u64(r->resume, r->resume_len, &v) == 0 &&
          v < next && v + 1 >= oldest) ||
         stream_feed_find_pub(q, r, c, buf, cap, &v))) {
        out->start = v + 1;
        memcpy(out->hdr, r->resume, r->resume_len + 1);
        return;
    }
    stream_feed_newest(q, buf, cap, out);
}

/* The start of an /events stream (see stream_feed_plan). */
static void stream_feed_events(struct queue *q, const struct stream_req *r,
                               const struct jwt_claims *c, char *buf,
                               size_t cap, struct stream_feed_plan *out)
{
    uint64_t oldest, next;

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
        out->start = stream_feed_backlog(q, r, c, buf, cap);
}

void stream_feed_plan(struct queue *q, const struct stream_req *r,
                      const struct jwt_claims *c, char *buf, size_t cap,
                      struct stream_feed_plan *out)
{
    memset(out, 0, sizeof(*out));
    if (r->hub) {
        stream_feed_hub(q, r, c, buf, cap, out);
        return;
    }
    stream_feed_events(q, r, c, buf, cap, out);
    if (r->tag) {
        out->has_hdr = true;
        snprintf(out->hdr, sizeof(out->hdr), "%" PRIu64, out->start - 1);
    }
}

enum stream_feed_flavor stream_feed_flavor(const struct stream_req *r)
{
    if (r->hub)
        return STREAM_FEED_HUB;
    return r->tag ? STREAM_FEED_TAGGED : STREAM_FEED_EVENTS;
}

/* The SSE event of rec in flavor f: the queue id, or on the hub the
 * publisher's id when usable; the record's retry; channel lines when
 * tagged. */
static void stream_feed_sse(const struct queue_record *rec,
                            enum stream_feed_flavor f, struct sse_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->id = rec->id;
    ev->event = rec->event;
    ev->event_len = rec->event_len;
    ev->data = rec->data;
    ev->data_len = rec->data_len;
    if (f == STREAM_FEED_TAGGED) {
        ev->channel = rec->channel;
        ev->channel_len = rec->channel_len;
        ev->alt = rec->alt;
        ev->alt_len = rec->alt_len;
    }
    if (f == STREAM_FEED_HUB && stream_feed_pub_id_ok(rec)) {
        ev->id_text = rec->pub_id;
        ev->id_text_len = rec->pub_id_len;
    }
    ev->retry_ms = rec->retry_ms;
}

size_t stream_feed_event_size(const struct queue_record *rec,
                              enum stream_feed_flavor f)
{
    struct sse_event ev;

    stream_feed_sse(rec, f, &ev);
    return sse_event_size(&ev);
}

size_t stream_feed_event(char *out, const struct queue_record *rec,
                         enum stream_feed_flavor f)
{
    struct sse_event ev;

    stream_feed_sse(rec, f, &ev);
    return sse_encode_event(out, &ev);
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
