/* pump_coalesce.c -- when the pump's fan-out pass runs. Every loop
 * iteration the pump observes (records pending, whether a full pass
 * waits, the streams the last pass wrote, the time since it and when it
 * was seen read, the bytes of it still unread, how long records have
 * waited) and pump_hold_decide (pump_hold.c, pure) says: pass now, sleep
 * until records come (the tail thread wakes the pump), or look again
 * after a while (the hold timer, timerfd cfd; the tail thread is not
 * armed meanwhile). After each pass to enough streams the pump looks
 * at once (PUMP_HOLD_POLL_MIN_US) and then keeps watching it being read.
 *
 * "Unread" is SIOCOUTQ on the last PUMP_PROBES live streams written (on
 * a Unix socket: bytes the web server has not read yet), the least of
 * them: the web server reads its connections in the order they became
 * readable, so the streams written last are read last, and one slow
 * client (the web server stops reading its stream) is not load. Over
 * TCP it is the bytes not yet acknowledged, which on loopback is about
 * nothing: holds are then rare and short. A pass "ends" when the pump
 * has written it (pump_coalesce_flushed). */
#include "ac_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>

#include "base/log.h"
#include "stream/pump_hold.h"
#include "stream/pump_int.h"
#include "base/util.h"

/* Notes that live stream s was written (it becomes a probe). */
void pump_coalesce_wrote(struct pump *p, struct stream *s)
{
    struct pump_coalesce *co = &p->co;

    co->probe[co->next_probe] = s;
    co->next_probe = (co->next_probe + 1) % PUMP_PROBES;
}

/* Forgets the probes that died in this iteration (before they are
 * freed at its end). */
void pump_coalesce_prune(struct pump *p)
{
    unsigned i;

    for (i = 0; i < PUMP_PROBES; i++)
        if (p->co.probe[i] != NULL && p->co.probe[i]->state == PUMP_DEAD)
            p->co.probe[i] = NULL;
}

/* Bytes the web server has not read of the probes' output: the least
 * over them; 0 without probes. */
static uint64_t pump_coalesce_unread(const struct pump *p)
{
    uint64_t least = UINT64_MAX;
    unsigned i;

    for (i = 0; i < PUMP_PROBES; i++) {
        const struct stream *s = p->co.probe[i];
        int n = 0;

        if (s == NULL || s->state == PUMP_DEAD ||  /* its fd is closed */
            ioctl(s->fd, SIOCOUTQ, &n) < 0)
            continue;
        if ((uint64_t)n < least)
            least = (uint64_t)n;
    }
    return least == UINT64_MAX ? 0 : least;
}

/* Records in the queue the pump has not read. */
static uint64_t pump_coalesce_pending(const struct pump *p)
{
    uint64_t oldest, next;

    queue_bounds(p->q, &oldest, &next);
    return next > p->next_live ? next - p->next_live : 0;
}

/* Sets the hold timer to fire after us. 0 or -errno. */
static int pump_coalesce_timer(struct pump *p, uint64_t us)
{
    struct itimerspec its = {
        .it_value = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 },
    };

    if (timerfd_settime(p->cfd, 0, &its, NULL) < 0) {
        log_error("timerfd_settime: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

/* What the pump sees now (see pump_hold.h); notes when the last pass
 * is first seen read. */
static void pump_coalesce_observe(struct pump *p, struct pump_hold_obs *o)
{
    struct pump_coalesce *co = &p->co;

    memset(o, 0, sizeof(*o));
    o->pending = pump_coalesce_pending(p);
    o->pending_bytes = o->pending * co->rec_bytes;
    o->full = co->behind || o->pending >= PUMP_PASS_MAX;
    o->streams = co->streams;
    o->since_pass_us = p->now_us - co->pass_end_us;
    o->coalesce_us = p->set.coalesce_us;
    o->stopping = p->stopping;
    if (o->pending > 0 && co->hold_start_us == 0)
        co->hold_start_us = p->now_us;
    o->held_us = o->pending > 0 ? p->now_us - co->hold_start_us : 0;
    if (co->read_us == 0 && o->streams >= PUMP_HOLD_MIN_STREAMS &&
        o->since_pass_us < o->coalesce_us && !o->full && !o->stopping) {
        o->unread = pump_coalesce_unread(p);
        if (o->unread == 0)
            co->read_us = o->since_pass_us ? o->since_pass_us : 1;
    }
    o->read_us = co->read_us;
}

/* Runs a pass and notes what it did; true if it hit its limit. */
static bool pump_coalesce_pass(struct pump *p)
{
    struct pump_coalesce *co = &p->co;
    const struct pump_pass *pass;
    uint64_t t0 = util_mono_us();

    if (co->hold_start_us != p->now_us)
        co->n_holds++;
    co->hold_start_us = 0;
    co->behind = pump_pass_run(p);
    queue_proc_fanout(p->q, p->next_live);  /* publishers' backpressure */
    co->pass_us += util_mono_us() - t0;
    pass = pump_pass_last(p);
    co->sent = pass->sends > 0;
    if (co->sent) {
        co->n_passes++;
        co->streams = pass->streams;
        if (pass->records > 0)
            co->rec_bytes = pass->bytes / pass->records;
        co->read_us = 0;
        co->pass_end_us = p->now_us;  /* till written: see _flushed */
        co->written = false;
    }
    return co->behind;
}

/* Logs a decision with what it saw (debug; the rows of
 * tests/unit/check_pump_hold.c's traces come from these lines). */
static void pump_coalesce_trace(const struct pump_hold_obs *o,
                                const struct pump_hold_dec *d)
{
    log_debug("hold %s: pending %" PRIu64 " (%" PRIu64 " bytes)%s, streams"
              " %u, since pass %" PRIu64 " us, unread %" PRIu64 ", read %"
              PRIu64 " us, held %" PRIu64 " us, wait %" PRIu64 " us",
              pump_hold_why_name(d->why), o->pending, o->pending_bytes,
              o->full ? " full" : "", o->streams, o->since_pass_us,
              o->unread, o->read_us, o->held_us, d->wait_us);
}

/* After a pass: the first look at the web server reading it (see
 * pump_hold.h), unless the pass wrote to too few streams to watch. */
static void pump_coalesce_watch(struct pump *p)
{
    if (p->co.sent && p->co.streams >= PUMP_HOLD_MIN_STREAMS &&
        p->set.coalesce_us > 0)
        pump_coalesce_timer(p, PUMP_HOLD_POLL_MIN_US);
}

/* The live part of an iteration: a pass now, or a look again later (see
 * pump_hold.h). true if the pump is behind (it runs again at once). */
bool pump_coalesce_run(struct pump *p)
{
    struct pump_coalesce *co = &p->co;
    struct pump_hold_obs o;
    struct pump_hold_dec d;

    co->waiting = false;
    if (p->q == NULL)
        return false;
    queue_proc_fanout(p->q, p->next_live);  /* the beat: see queue.h */
    pump_coalesce_observe(p, &o);
    d = pump_hold_decide(&o);
    co->n_why[d.why]++;
    if (d.why != PUMP_HOLD_NOTHING && d.why != PUMP_HOLD_WATCHING)
        pump_coalesce_trace(&o, &d);
    if (d.act == PUMP_HOLD_IDLE)
        return false;
    if (d.act == PUMP_HOLD_WAIT && pump_coalesce_timer(p, d.wait_us) == 0) {
        co->waiting = o.pending > 0;    /* watching: the tail thread too */
        return false;
    }
    if (d.act == PUMP_HOLD_WAIT && o.pending == 0)
        return false;
    if (!pump_coalesce_pass(p))
        pump_coalesce_watch(p);
    return co->behind;
}

/* The pump wrote what it queued this iteration, at t (monotonic us):
 * a pass queued in it ends now. */
void pump_coalesce_flushed(struct pump *p, uint64_t t)
{
    if (!p->co.written) {
        p->co.pass_end_us = t;
        p->co.written = true;
    }
}

/* Whether the pump holds records (its timer will wake it; the tail
 * thread need not). While it only watches a pass being read, new records
 * wake it through the tail thread, so that it sees when they came. */
bool pump_coalesce_holding(const struct pump *p)
{
    return p->co.waiting;
}

/* Logs what the coalescing did, for the exit line. */
void pump_coalesce_log(const struct pump *p, uint64_t writes,
                       uint64_t flush_us)
{
    const struct pump_coalesce *co = &p->co;

    char why[512];
    size_t n = 0;
    unsigned i;

    why[0] = '\0';
    for (i = 0; i < PUMP_HOLD_NWHY && n < sizeof(why); i++)
        n += (size_t)snprintf(why + n, sizeof(why) - n, " %s %" PRIu64,
                              pump_hold_why_name((enum pump_hold_why)i),
                              co->n_why[i]);
    log_info("pump: %" PRIu64 " events in %" PRIu64 " passes (%" PRIu64
             " held), %" PRIu64 " writes; %" PRIu64 " us in passes, %"
             PRIu64 " us writing; looks:%s", p->c.events, co->n_passes,
             co->n_holds, writes, co->pass_us, flush_us, why);
}
