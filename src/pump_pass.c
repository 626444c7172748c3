/* pump_pass.c -- the pump's fan-out pass (see pump_int.h for the parts).
 *
 * One pass: the new records (at most PUMP_PASS_MAX, about PUMP_PASS_BYTES
 * of events) are read, those with subscribers here encoded once each
 * into a scratch buffer, then copied into one shared stream_buf per
 * channel, back to back in id order. Each record is then queued, in id
 * order, to the subscribers of its channel; consecutive events of one
 * channel extend the subscriber's last segment, so a subscriber gets a
 * whole pass as one STDOUT record and one iovec. A stream pins only
 * buffers of its own channels.
 *
 * The pass finds a channel's buffer by the channel's address in a small
 * open-addressing table (2 x PUMP_PASS_MAX slots, at most half full), so
 * struct stream_chan carries nothing of the pump.
 *
 * A record the queue cannot read (queue_read -EIO: a bad record) is
 * logged once and skipped, counted in pump_skipped(); the pump's own
 * ENOMEM leaves it for the next pass. */
#include "ac_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pump_int.h"
#include "sse.h"

#define PUMP_PASS_SLOTS (2 * PUMP_PASS_MAX)     /* a power of 2 */

int pump_pass_init(struct pump_pass *pass)
{
    pass->ev = calloc(PUMP_PASS_MAX, sizeof(*pass->ev));
    pass->slots = calloc(PUMP_PASS_SLOTS, sizeof(*pass->slots));
    pass->used = calloc(PUMP_PASS_MAX, sizeof(*pass->used));
    if (pass->ev == NULL || pass->slots == NULL || pass->used == NULL)
        return -ENOMEM;
    return 0;
}

void pump_pass_free(struct pump_pass *pass)
{
    free(pass->ev);
    free(pass->slots);
    free(pass->used);
    free(pass->ebuf);
    memset(pass, 0, sizeof(*pass));
}

/* The SSE event of rec. */
void pump_pass_event_of(const struct queue_record *rec, struct sse_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->id = rec->id;
    ev->event = rec->event;
    ev->event_len = rec->event_len;
    ev->data = rec->data;
    ev->data_len = rec->data_len;
}

/* The slot of channel c in the pass, taken (with a reference on c, so a
 * dropped stream cannot free it) on c's first event. */
static uint32_t pump_pass_slot(struct pump_pass *pass, struct stream_chan *c)
{
    uint32_t i = (uint32_t)(((uintptr_t)c >> 4) * 2654435761u);

    for (i &= PUMP_PASS_SLOTS - 1; pass->slots[i].chan != NULL;
         i = (i + 1) & (PUMP_PASS_SLOTS - 1))
        if (pass->slots[i].chan == c)
            return i;
    pass->slots[i].chan = c;
    c->refs++;
    pass->used[pass->nused++] = i;
    return i;
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

/* Adds rec to the pass if its channel has live subscribers here,
 * encoded into the scratch (logged and skipped on ENOMEM). */
static void pump_pass_collect(struct pump *p, const struct queue_record *rec)
{
    struct pump_pass *pass = &p->pass;
    struct stream_chan *c = stream_chan_find(&p->chans, rec->channel,
                                             rec->channel_len);
    struct sse_event ev;
    struct pump_ev *e;
    size_t len;

    if (c == NULL || c->nsubs == 0)
        return;
    pump_pass_event_of(rec, &ev);
    len = sse_event_size(&ev);
    if (pump_pass_scratch(pass, len) < 0) {
        log_error("out of memory encoding event %" PRIu64, rec->id);
        return;
    }
    sse_encode_event(pass->ebuf + pass->eused, &ev);
    e = &pass->ev[pass->n++];
    e->chan = c;
    e->id = rec->id;
    e->slot = pump_pass_slot(pass, c);
    e->off = (uint32_t)pass->eused;
    e->len = (uint32_t)len;
    pass->eused += len;
    pass->slots[e->slot].fill += (uint32_t)len;
}

/* Gives every channel of the pass its buffer and copies its events into
 * it, back to back (a channel whose buffer cannot be had loses them). */
static void pump_pass_buffers(struct pump_pass *pass)
{
    unsigned i;

    for (i = 0; i < pass->nused; i++) {
        struct pump_pass_chan *pc = &pass->slots[pass->used[i]];

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

/* Queues event e to the live subscribers of its channel. */
static void pump_pass_fanout(struct pump *p, const struct pump_ev *e)
{
    struct stream_buf *b = p->pass.slots[e->slot].buf;
    struct stream_sub *sub, *nsub;

    if (b == NULL)
        return;
    for (sub = e->chan->subs; sub != NULL; sub = nsub) {
        struct stream *s = sub->owner;

        nsub = sub->next;
        if (e->id >= s->min_id) {
            p->pass.streams += !s->touched;
            pump_send(p, s, b, e->off, e->len, 1);
            p->pass.sends++;
        }
    }
}

/* Fans out the pass collected so far, in id order, and empties it. */
static void pump_pass_flush(struct pump *p)
{
    struct pump_pass *pass = &p->pass;
    unsigned i;

    if (pass->n == 0)
        return;
    pump_pass_buffers(pass);
    for (i = 0; i < pass->n; i++)
        pump_pass_fanout(p, &pass->ev[i]);
    for (i = 0; i < pass->nused; i++) {
        struct pump_pass_chan *pc = &pass->slots[pass->used[i]];

        stream_out_buf_put(pc->buf);
        stream_chan_unref(&p->chans, pc->chan);
        memset(pc, 0, sizeof(*pc));
    }
    pass->nused = 0;
    pass->records += pass->n;
    pass->bytes += pass->eused;
    pass->n = 0;
    pass->eused = 0;
}

/* Tells every live stream that records were lost (the pump fell behind
 * the ring by more than its size). */
static void pump_pass_gap(struct pump *p, uint64_t requested, uint64_t oldest)
{
    struct stream *s, *ns;

    log_warn("fell behind the queue: ids %" PRIu64 "..%" PRIu64 " lost",
             requested + 1, oldest - 1);
    for (s = p->all_head; s != NULL; s = ns) {
        ns = s->next;
        if (s->state == PUMP_LIVE)
            pump_send_gap(p, s, requested, oldest);
    }
}

/* Skips the record at id, which the queue cannot read (rc). */
static void pump_pass_skip(struct pump *p, uint64_t id, int rc)
{
    log_error("queue_read %" PRIu64 ": %s: record skipped", id,
              strerror(-rc));
    atomic_fetch_add(&p->skipped, 1);
    p->next_live = id + 1;
}

/* One pass: reads up to PUMP_PASS_MAX new records (about PUMP_PASS_BYTES
 * of events) and fans them out; true if it stopped at that limit (more
 * may be waiting). */
bool pump_pass_run(struct pump *p)
{
    struct pump_pass *pass = &p->pass;
    struct queue_record rec;
    unsigned n;
    bool full;

    pass->sends = 0;
    pass->streams = 0;
    pass->records = 0;
    pass->bytes = 0;
    for (n = 0; n < PUMP_PASS_MAX && pass->eused < PUMP_PASS_BYTES; n++) {
        uint64_t before = p->next_live;
        int rc = pump_read(p, &p->next_live, &rec);

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
        if (rc < 0) {
            pump_pass_skip(p, before, rc);
            continue;
        }
        pump_pass_collect(p, &rec);
    }
    full = n == PUMP_PASS_MAX || pass->eused >= PUMP_PASS_BYTES;
    pump_pass_flush(p);
    return full;
}
