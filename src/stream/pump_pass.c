/* pump_pass.c -- the pump's fan-out pass (see pump_int.h for the parts).
 *
 * One pass: the new records (at most PUMP_PASS_MAX, about PUMP_PASS_BYTES
 * of events, as many as PUMP_PASS_US of reading and matching allow, at
 * least one) are read; each is routed to the channels (stream_chan) that
 * want it:
 *   - for each of its topics (canonical, alternates), the /events channel
 *     (plain and tag=channel) and the hub exact topic of that name (hash
 *     lookups);
 *   - every hub pattern selector ("*", a template) with subscribers,
 *     compiled once (pump_pattern.c), matched against its topics: one
 *     evaluation per distinct selector and record, whatever the number
 *     of subscribers sharing the selector; their costs in all are
 *     bounded by mercure.process_pattern_cost.
 * A routed record is encoded once per flavor into a scratch buffer
 * (stream_feed_event: publisher ids on the hub, "channel:" lines for
 * tag=channel streams), then copied into one
 * shared stream_buf per channel, back to back in id order. Each (record,
 * channel) is then queued, in id order, to the channel's subscribers;
 * a stream reached through several channels gets the record once (its
 * sent_id), and a private record only if stream_match_allowed says so.
 * Consecutive events of one channel extend the subscriber's last
 * segment, so a subscriber gets a whole pass as one STDOUT record and one
 * iovec. A stream pins only buffers of its own channels.
 *
 * A record the queue cannot read (queue_read -EIO: a bad record) is
 * logged once and skipped, counted in pump_skipped(); the pump's own
 * ENOMEM leaves it for the next pass. */
#include "ac_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "stream/pump_int.h"
#include "stream/stream_match.h"

int pump_pass_init(struct pump_pass *pass)
{
    memset(pass, 0, sizeof(*pass));
    return 0;
}

void pump_pass_free(struct pump_pass *pass)
{
    free(pass->ev);
    free(pass->slots);
    free(pass->priv);
    free(pass->ebuf);
    memset(pass, 0, sizeof(*pass));
}

/* Makes room for one more element of size sz in *arr (n used, *cap).
 * 0 or -ENOMEM. */
static int pump_pass_room(void **arr, unsigned n, unsigned *cap, size_t sz)
{
    unsigned nc = *cap ? *cap * 2 : 256;
    void *na;

    if (n < *cap)
        return 0;
    na = realloc(*arr, (size_t)nc * sz);
    if (na == NULL)
        return -ENOMEM;
    *arr = na;
    *cap = nc;
    return 0;
}

/* Makes room for len more bytes in the pass scratch. 0 or -ENOMEM. */
static int pump_pass_scratch(struct pump_pass *pass, size_t len)
{
    size_t cap = pass->ecap ? pass->ecap : 4096;
    char *nb;

    if (pass->eused + len <= pass->ecap)
        return 0;
    while (cap < pass->eused + len)
        cap *= 2;
    nb = realloc(pass->ebuf, cap);
    if (nb == NULL)
        return -ENOMEM;
    pass->ebuf = nb;
    pass->ecap = cap;
    return 0;
}

/* The slot of channel c in the pass, taken (with a reference on c, so a
 * dropped stream cannot free it) on c's first event; -ENOMEM. */
static long pump_pass_slot(struct pump_pass *pass, struct stream_chan *c)
{
    struct pump_pass_chan *pc;

    if (c->pass_slot != 0)
        return (long)c->pass_slot - 1;
    if (pump_pass_room((void **)&pass->slots, pass->nused,
                       &pass->slots_cap, sizeof(*pass->slots)) < 0)
        return -ENOMEM;
    pc = &pass->slots[pass->nused];
    memset(pc, 0, sizeof(*pc));
    pc->chan = c;
    c->refs++;
    c->pass_slot = ++pass->nused;
    return (long)pass->nused - 1;
}

/* What one record of the pass has in the scratch so far. */
struct pump_pass_rec {
    const struct queue_record *rec;
    int64_t off[STREAM_FEED_NFLAVORS];  /* its encoding a flavor, -1 none */
    uint32_t len[STREAM_FEED_NFLAVORS]; /* by enum stream_feed_flavor */
    uint32_t priv;                  /* pump_pass_priv + 1, 0 none */
};

/* The flavor the subscribers of channel c get. */
static enum stream_feed_flavor pump_pass_flavor(const struct stream_chan *c)
{
    if (c->tag == PUMP_MAP_EVENTS)
        return STREAM_FEED_EVENTS;
    return c->tag == PUMP_MAP_TAGGED ? STREAM_FEED_TAGGED : STREAM_FEED_HUB;
}

/* Encodes the record in flavor f into the scratch (once). 0 or
 * -ENOMEM. */
static int pump_pass_encode(struct pump_pass *pass, struct pump_pass_rec *pr,
                            enum stream_feed_flavor f)
{
    size_t len;

    if (pr->off[f] >= 0)
        return 0;
    len = stream_feed_event_size(pr->rec, f);
    if (pump_pass_scratch(pass, len) < 0)
        return -ENOMEM;
    stream_feed_event(pass->ebuf + pass->eused, pr->rec, f);
    pr->off[f] = (int64_t)pass->eused;
    pr->len[f] = (uint32_t)len;
    pass->eused += len;
    return 0;
}

/* Keeps the topics of a private record in the scratch, for the claims
 * checks of the fan-out. 0 or -ENOMEM. */
static int pump_pass_keep_topics(struct pump_pass *pass,
                                 struct pump_pass_rec *pr)
{
    const struct queue_record *rec = pr->rec;
    struct pump_pass_priv *pv;

    if (pr->priv != 0 || !(rec->flags & QUEUE_MSG_PRIVATE))
        return 0;
    if (pump_pass_room((void **)&pass->priv, pass->npriv, &pass->priv_cap,
                       sizeof(*pass->priv)) < 0 ||
        pump_pass_scratch(pass, rec->channel_len + rec->alt_len) < 0)
        return -ENOMEM;
    pv = &pass->priv[pass->npriv];
    pv->off = (uint32_t)pass->eused;
    pv->channel_len = (uint32_t)rec->channel_len;
    pv->alt_len = (uint32_t)rec->alt_len;
    pv->n_alt = (uint32_t)rec->n_alt;
    memcpy(pass->ebuf + pass->eused, rec->channel, rec->channel_len);
    if (rec->alt_len > 0)
        memcpy(pass->ebuf + pass->eused + rec->channel_len, rec->alt,
               rec->alt_len);
    pass->eused += rec->channel_len + rec->alt_len;
    pr->priv = ++pass->npriv;
    return 0;
}

/* Routes the record to channel c (its flavor from c's map), once. */
static void pump_pass_route(struct pump *p, struct pump_pass_rec *pr,
                            struct stream_chan *c)
{
    struct pump_pass *pass = &p->pass;
    enum stream_feed_flavor f = pump_pass_flavor(c);
    struct pump_ev *e;
    long slot;

    if (c->nsubs == 0)
        return;
    slot = pump_pass_slot(pass, c);
    if (slot >= 0 && pass->slots[slot].last_id == pr->rec->id)
        return;                     /* an alternate naming it again */
    if (slot < 0 || pump_pass_encode(pass, pr, f) < 0 ||
        pump_pass_keep_topics(pass, pr) < 0 ||
        pump_pass_room((void **)&pass->ev, pass->n, &pass->ev_cap,
                       sizeof(*pass->ev)) < 0) {
        log_error("out of memory routing event %" PRIu64 " to %s",
                  pr->rec->id, c->name);
        return;
    }
    e = &pass->ev[pass->n++];
    e->chan = c;
    e->id = pr->rec->id;
    e->slot = (uint32_t)slot;
    e->off = (uint32_t)pr->off[f];
    e->len = pr->len[f];
    e->priv = pr->priv;
    pass->slots[slot].fill += e->len;
    pass->slots[slot].last_id = e->id;
}

/* Adds rec to the pass for every channel and selector that wants it. */
static void pump_pass_collect(struct pump *p, const struct queue_record *rec)
{
    static const enum pump_map exact[PUMP_NEXACT] = PUMP_EXACT_MAPS;
    struct pump_pass_rec pr = { rec, { -1, -1, -1 }, { 0, 0, 0 }, 0 };
    struct stream_chan *c;
    const char *t;
    size_t pos = 0, tlen, i;

    while (queue_record_next_topic(rec, &pos, &t, &tlen)) {
        for (i = 0; i < PUMP_NEXACT; i++) {
            c = stream_chan_find(&p->maps[exact[i]], t, tlen);
            if (c != NULL)
                pump_pass_route(p, &pr, c);
        }
    }
    for (c = p->maps[PUMP_MAP_PATTERN].all; c != NULL; c = c->anext)
        if (c->nsubs > 0 && pump_pattern_any(p, c, rec))
            pump_pass_route(p, &pr, c);
}

/* Gives every channel of the pass its buffer and copies its events into
 * it, back to back (a channel whose buffer cannot be had loses them). */
static void pump_pass_buffers(struct pump_pass *pass)
{
    unsigned i;

    for (i = 0; i < pass->nused; i++) {
        struct pump_pass_chan *pc = &pass->slots[i];

        pc->buf = stream_out_buf_new(pc->fill);
        if (pc->buf == NULL)
            log_error("out of memory: %u bytes of events for channel %s "
                      "lost", pc->fill, pc->chan->name);
        pc->fill = 0;
    }
    for (i = 0; i < pass->n; i++) {
        struct pump_ev *e = &pass->ev[i];
        struct pump_pass_chan *pc = &pass->slots[e->slot];

        if (pc->buf == NULL)
            continue;
        memcpy(pc->buf->data + pc->fill, pass->ebuf + e->off, e->len);
        e->off = pc->fill;
        pc->fill += e->len;
    }
}

/* Whether stream s may receive the private record of pass entry priv. */
static bool pump_pass_allowed(struct pump *p, const struct stream *s,
                              uint32_t priv)
{
    const struct pump_pass_priv *pv = &p->pass.priv[priv - 1];
    struct queue_record view = { .flags = QUEUE_MSG_PRIVATE };

    if (!s->authed)
        return false;
    view.channel = p->pass.ebuf + pv->off;
    view.channel_len = pv->channel_len;
    view.alt = view.channel + pv->channel_len;
    view.alt_len = pv->alt_len;
    view.n_alt = pv->n_alt;
    return stream_match_allowed(&s->claims, &view, &p->cache);
}

/* Queues event e to the live subscribers of its channel that have not
 * had its record yet and may see it. */
static void pump_pass_fanout(struct pump *p, const struct pump_ev *e)
{
    struct stream_buf *b = p->pass.slots[e->slot].buf;
    struct stream_sub *sub, *nsub;

    if (b == NULL)
        return;
    for (sub = e->chan->subs; sub != NULL; sub = nsub) {
        struct stream *s = sub->owner;

        nsub = sub->next;
        if (e->id < s->min_id || s->sent_id == e->id)
            continue;
        if (e->priv != 0 && !pump_pass_allowed(p, s, e->priv))
            continue;
        s->sent_id = e->id;
        p->pass.streams += !pump_stream_touched(s);
        pump_send(p, s, b, e->off, e->len, 1);
        p->pass.sends++;
    }
}

/* Fans out the pass collected so far, in id order, and empties it. */
static void pump_pass_flush(struct pump *p)
{
    struct pump_pass *pass = &p->pass;
    unsigned i;

    if (pass->n == 0 && pass->nused == 0) {
        pass->eused = 0;
        pass->npriv = 0;
        return;
    }
    pump_pass_buffers(pass);
    for (i = 0; i < pass->n; i++)
        pump_pass_fanout(p, &pass->ev[i]);
    for (i = 0; i < pass->nused; i++) {
        struct pump_pass_chan *pc = &pass->slots[i];

        stream_out_buf_put(pc->buf);
        pc->chan->pass_slot = 0;
        pump_chan_unref(p, pc->chan);
    }
    pass->nused = 0;
    pass->records += pass->n;
    pass->bytes += pass->eused;
    pass->n = 0;
    pass->eused = 0;
    pass->npriv = 0;
}

/* Tells every live stream that records were lost (the pump fell behind
 * the ring by more than its size). */
static void pump_pass_gap(struct pump *p, uint64_t requested, uint64_t oldest)
{
    log_warn("fell behind the queue: ids %" PRIu64 "..%" PRIu64 " lost",
             requested + 1, oldest - 1);
    pump_stream_gap_live(p, requested, oldest);
}

/* Skips the record at id, which the queue cannot read (rc). */
static void pump_pass_skip(struct pump *p, uint64_t id, int rc)
{
    log_error("queue_read %" PRIu64 ": %s: record skipped", id,
              rc == QUEUE_BAD_RECORD ? queue_error() : strerror(-rc));
    atomic_fetch_add(&p->skipped, 1);
    p->next_live = id + 1;
}

/* One pass: reads up to PUMP_PASS_MAX new records (about PUMP_PASS_BYTES
 * of events, at most PUMP_PASS_US of reading and matching) and fans them
 * out; true if it stopped at a limit (more may be waiting). */
bool pump_pass_run(struct pump *p)
{
    struct pump_pass *pass = &p->pass;
    struct queue_record rec;
    uint64_t end_us = util_mono_us() + PUMP_PASS_US;
    unsigned n;
    bool full, late = false;

    pass->sends = 0;
    pass->streams = 0;
    pass->records = 0;
    pass->bytes = 0;
    if (atomic_load(&p->damaged))
        return false;
    for (n = 0; n < PUMP_PASS_MAX && pass->eused < PUMP_PASS_BYTES; n++) {
        uint64_t before = p->next_live;
        int rc;

        if (n > 0 && util_mono_us() >= end_us) {
            late = true;            /* costly patterns: send what we have */
            break;
        }
        rc = pump_read(p, &p->next_live, &rec);

        if (rc == QUEUE_EMPTY)
            break;
        if (rc == QUEUE_OVERRUN) {
            pump_pass_flush(p);     /* the gap goes after what came before */
            pump_pass_gap(p, before - 1, p->next_live);
            continue;
        }
        if (rc == -ENOMEM) {        /* ours, not the record's: again */
            log_error("queue_read %" PRIu64 ": %s", before, strerror(-rc));
            break;
        }
        if (rc == QUEUE_DAMAGED) {
            pump_mark_damaged(p);
            break;
        }
        if (rc < 0) {
            pump_pass_skip(p, before, rc);
            continue;
        }
        pump_pass_collect(p, &rec);
    }
    full = late || n == PUMP_PASS_MAX || pass->eused >= PUMP_PASS_BYTES;
    pump_pass_flush(p);
    return full;
}

const struct pump_pass *pump_pass_last(const struct pump *p)
{
    return &p->pass;
}
