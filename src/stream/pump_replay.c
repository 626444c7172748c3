/* pump_replay.c -- a new stream's replay (Last-Event-ID, backlog=N,
 * lastEventID=, earliest): records [start, next_live) it receives
 * (stream_match.h), read and encoded for it alone, only while its output
 * stays under PUMP_REPLAY_HIGH; then it joins its channels' subscriber
 * lists and gets every later record from the fan-out pass exactly once
 * (only the pass advances next_live). A record the queue cannot read is
 * skipped (the pass logs and counts it).
 *
 * A turn (one a pump iteration, between live passes) lasts at most
 * PUMP_REPLAY_TURN_US, however costly the streams' patterns: each
 * stream replays at most PUMP_REPLAY_STEP records, and at least one,
 * and the turn stops when its time is spent; the next turn starts with
 * the stream after the last one served (replay_next), so every
 * replaying stream advances and live passes wait at most one turn. */
#include "ac_config.h"

#include <errno.h>
#include <string.h>

#include "stream/pump_int.h"
#include "stream/stream_match.h"
#include "base/util.h"

#define PUMP_REPLAY_STEP  256       /* records one stream replays a turn */
#define PUMP_REPLAY_TURN_US 2000    /* a turn's time, all streams */
#define PUMP_REPLAY_HIGH  (64 * 1024)   /* replay pauses above this queue */

/* Encodes rec as one SSE event of s's flavor in a new buffer; NULL on
 * ENOMEM. */
static struct stream_buf *pump_replay_encode(const struct stream *s,
                                             const struct queue_record *rec)
{
    struct stream_buf *b;

    b = stream_out_buf_new(stream_feed_event_size(rec, s->flavor));
    if (b != NULL)
        stream_feed_event(b->data, rec, s->flavor);
    return b;
}

/* Whether s receives rec (stream_match.h: one of its selectors matches
 * one of rec's topics, and rec is public or its claims allow it). */
static bool pump_replay_wants(struct pump *p, struct stream *s,
                              const struct queue_record *rec)
{
    uint32_t i;

    for (i = 0; i < s->nsubs; i++) {
        struct stream_chan *c = s->subs[i].chan;

        bool hit = c->tag == PUMP_MAP_PATTERN ? pump_pattern_any(p, c, rec) :
                   stream_match_any_topic(c->name, c->len, STREAM_REQ_EXACT,
                                          rec, NULL);

        if (hit)
            return stream_match_allowed(s->authed ? &s->claims : NULL,
                                        rec, &p->cache);
    }
    return false;
}

/* Queues rec on s if s wants it; false if s was dropped (ENOMEM). */
static bool pump_replay_send(struct pump *p, struct stream *s,
                             const struct queue_record *rec)
{
    struct stream_buf *b;

    if (rec->id < s->min_id || !pump_replay_wants(p, s, rec))
        return true;
    b = pump_replay_encode(s, rec);
    if (b == NULL) {
        pump_kill(p, s);
        return false;
    }
    pump_send(p, s, b, 0, b->len, 1);
    stream_out_buf_put(b);
    return true;
}

/* Replays up to PUMP_REPLAY_STEP records into s, at least one and then
 * only until end_us; true if s has more to replay and room for it. */
static bool pump_replay_one(struct pump *p, struct stream *s,
                            uint64_t end_us)
{
    struct queue_record rec;
    unsigned n;

    for (n = 0; n < PUMP_REPLAY_STEP; n++) {
        uint64_t before = s->cursor;
        int rc;

        if (s->state != PUMP_REPLAY)
            return false;
        if (pump_stream_queued(s) >= PUMP_REPLAY_HIGH)
            return false;
        if (s->cursor >= p->next_live) {
            pump_stream_go_live(p, s);
            return false;
        }
        if (n > 0 && util_mono_us() >= end_us)
            return true;
        rc = pump_read(p, &s->cursor, &rec);
        if (rc == QUEUE_OVERRUN) {
            pump_send_gap(p, s, before - 1, s->cursor);
        } else if (rc == QUEUE_EMPTY) {
            s->cursor = p->next_live;
        } else if (rc == -ENOMEM) {
            pump_kill(p, s);
            return false;
        } else if (rc == QUEUE_DAMAGED) {
            pump_mark_damaged(p);
            return false;
        } else if (rc < 0) {
            s->cursor = before + 1;         /* a bad record: skip it */
        } else if (!pump_replay_send(p, s, &rec)) {
            return false;
        }
    }
    return true;
}

/* One replay turn, at most PUMP_REPLAY_TURN_US, serving each replaying
 * stream at most once, starting with the stream after the last one
 * served; true if any stream has more (or was not served). */
bool pump_replay_run(struct pump *p)
{
    uint64_t end_us = util_mono_us() + PUMP_REPLAY_TURN_US;
    struct stream *s, *ns;
    unsigned n = 0, i;
    bool more = false;

    if (p->q == NULL)
        return false;
    n = pump_stream_replaying(p);
    s = pump_stream_replay_first(p);
    for (i = 0; i < n && s != NULL; i++) {
        ns = pump_stream_replay_after(p, s);
        more |= pump_replay_one(p, s, end_us);
        if (pump_stream_replay_first(p) == NULL ||
            atomic_load(&p->damaged)) {
            pump_stream_replay_resume(p, NULL);
            return false;
        }
        pump_stream_replay_resume(p, ns);
        s = ns;
        if (i + 1 < n && util_mono_us() >= end_us)
            return true;
    }
    return more;
}
