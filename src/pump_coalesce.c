/* pump_coalesce.c -- when the pump's fan-out pass runs. Every iteration
 * with records waiting, the pump observes (records pending, whether a
 * full pass waits, the bytes of its last output the web server has not
 * read, the streams the last pass wrote, how long it has held) and
 * pump_hold_decide (pump_hold.c, pure) says: pass now, or gather and
 * look again after a while (the hold timer, timerfd cfd).
 *
 * "Unread" is SIOCOUTQ on the last PUMP_PROBES live streams written (on
 * a Unix socket: bytes the web server has not read yet), the least of
 * them: the web server reads its connections in the order they became
 * readable, so the streams written last are read last, and one slow
 * client (the web server stops reading its stream) is not load. */
#include "ac_config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>

#include "log.h"
#include "pump_hold.h"
#include "pump_int.h"
#include "util.h"

/* Notes that live stream s was written (it becomes a probe). */
void pump_coalesce_wrote(struct pump *p, struct stream *s)
{
    struct pump_coalesce *co = &p->co;

    co->probe[co->next_probe] = s;
    co->next_probe = (co->next_probe + 1) % PUMP_PROBES;
}

/* Forgets s (it dies). */
void pump_coalesce_forget(struct pump *p, struct stream *s)
{
    unsigned i;

    for (i = 0; i < PUMP_PROBES; i++)
        if (p->co.probe[i] == s)
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

        if (s == NULL || ioctl(s->fd, SIOCOUTQ, &n) < 0)
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

/* What the pump sees now (see pump_hold.h). */
static void pump_coalesce_observe(const struct pump *p,
                                  struct pump_hold_obs *o)
{
    const struct pump_coalesce *co = &p->co;

    memset(o, 0, sizeof(*o));
    o->pending = pump_coalesce_pending(p);
    if (o->pending == 0)
        return;
    o->full = co->behind || o->pending >= PUMP_PASS_MAX;
    o->streams = co->streams;
    o->held_us = co->hold_start_us ? p->now_us - co->hold_start_us : 0;
    o->coalesce_us = p->set.coalesce_us;
    o->stopping = p->stopping;
    if (!o->full && !o->stopping && o->coalesce_us > 0 &&
        o->streams >= PUMP_HOLD_MIN_STREAMS)
        o->unread = pump_coalesce_unread(p);
}

/* Runs a pass and notes what it did; true if it hit its limit. */
static bool pump_coalesce_pass(struct pump *p)
{
    struct pump_coalesce *co = &p->co;
    uint64_t t0 = util_mono_us();

    co->hold_start_us = 0;
    co->behind = pump_pass_run(p);
    co->pass_us += util_mono_us() - t0;
    if (p->pass.sends > 0) {
        co->n_passes++;
        co->streams = p->pass.streams;
    }
    return co->behind;
}

/* The live part of an iteration: a pass now, or a hold while the web
 * server has not read the last one. true if the pump is behind (it runs
 * again at once). */
bool pump_coalesce_run(struct pump *p)
{
    struct pump_coalesce *co = &p->co;
    struct pump_hold_obs o;
    struct pump_hold_dec d;

    if (p->q == NULL)
        return false;
    pump_coalesce_observe(p, &o);
    d = pump_hold_decide(&o);
    co->n_why[d.why]++;
    if (d.act == PUMP_HOLD_IDLE) {
        co->hold_start_us = 0;
        co->behind = false;
        return false;
    }
    if (d.act == PUMP_HOLD_WAIT) {
        if (co->hold_start_us == 0) {
            co->hold_start_us = p->now_us;
            co->n_holds++;
            log_debug("hold: %" PRIu64 " pending, %" PRIu64 " bytes unread,"
                      " %u streams", o.pending, o.unread, o.streams);
        }
        if (pump_coalesce_timer(p, d.wait_us) == 0)
            return false;
    }
    return pump_coalesce_pass(p);
}

/* Whether the pump is gathering records (its timer will wake it). */
bool pump_coalesce_holding(const struct pump *p)
{
    return p->co.hold_start_us != 0;
}

/* Logs what the coalescing did, for the exit line. */
void pump_coalesce_log(const struct pump *p)
{
    const struct pump_coalesce *co = &p->co;

    log_info("pump: %" PRIu64 " events in %" PRIu64 " passes (%" PRIu64
             " held; decided read %" PRIu64 ", unread %" PRIu64 ", limit %"
             PRIu64 ", full %" PRIu64 ", few %" PRIu64 "), %" PRIu64
             " writes; %" PRIu64 " us passing, %" PRIu64 " us writing",
             p->c.events, co->n_passes, co->n_holds,
             co->n_why[PUMP_HOLD_READ], co->n_why[PUMP_HOLD_UNREAD],
             co->n_why[PUMP_HOLD_LIMIT], co->n_why[PUMP_HOLD_FULL],
             co->n_why[PUMP_HOLD_FEW], p->n_writes, co->pass_us,
             p->flush_us);
}
