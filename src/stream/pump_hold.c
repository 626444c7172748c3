/* pump_hold.c -- the pump's coalescing policy (see pump_hold.h). */
#include "ac_config.h"

#include "stream/pump_hold.h"

#include <stddef.h>

/* When (since the pass) the web server read the last pass: as noted, or
 * now; 0 if it has not. */
static uint64_t pump_hold_read_at(const struct pump_hold_obs *o)
{
    if (o->read_us != 0)
        return o->read_us;
    return o->unread == 0 ? (o->since_pass_us ? o->since_pass_us : 1) : 0;
}

/* When (since the pass) gathering after a read at r ends. */
static uint64_t pump_hold_linger_end(uint64_t r)
{
    return r + r * PUMP_HOLD_LINGER_PCT / 100;
}

/* How soon after a read a record shows a publisher that waited for the
 * web server. */
static uint64_t pump_hold_soon(uint64_t r)
{
    uint64_t s = r * PUMP_HOLD_SOON_PCT / 100;

    return s > PUMP_HOLD_SOON_US ? s : PUMP_HOLD_SOON_US;
}

/* Whether the last pass is still being read (worth watching). */
static bool pump_hold_watching(const struct pump_hold_obs *o)
{
    return o->streams >= PUMP_HOLD_MIN_STREAMS && o->coalesce_us > 0 &&
           pump_hold_read_at(o) == 0 && o->since_pass_us < o->coalesce_us;
}

/* The rules, tried in order; the first that matches decides. */
static enum pump_hold_why pump_hold_rule(const struct pump_hold_obs *o)
{
    uint64_t r = pump_hold_read_at(o), first;

    if (o->pending == 0)
        return pump_hold_watching(o) ? PUMP_HOLD_WATCHING :
               PUMP_HOLD_NOTHING;
    if (o->stopping || o->coalesce_us == 0)
        return PUMP_HOLD_URGENT;
    if (o->full)
        return PUMP_HOLD_FULL;
    if (o->streams < PUMP_HOLD_MIN_STREAMS)
        return PUMP_HOLD_FEW;
    if (o->held_us >= o->coalesce_us)
        return PUMP_HOLD_LIMIT;
    if (r == 0)
        return o->since_pass_us >= o->coalesce_us ? PUMP_HOLD_STALE :
               PUMP_HOLD_UNREAD;
    first = o->since_pass_us - o->held_us;  /* records first seen */
    if (first < r)
        return PUMP_HOLD_DRAINED;
    if (first >= r + pump_hold_soon(r))
        return PUMP_HOLD_READ;
    if (o->pending_bytes >= PUMP_HOLD_READ_BYTES)
        return PUMP_HOLD_ENOUGH;
    if (o->since_pass_us < pump_hold_linger_end(r))
        return PUMP_HOLD_LINGERING;
    return PUMP_HOLD_GATHERED;
}

/* How long until the next look: while the pass is unread, a quarter of
 * the time since it (a short read is seen soon, a long one costs few
 * looks); while lingering, a quarter of r (to see a read's worth
 * gathered); both within [POLL_MIN_US, POLL_MAX_US], never past the
 * lingering's end nor coalesce_us of holding. */
static uint64_t pump_hold_wait(const struct pump_hold_obs *o,
                               enum pump_hold_why why)
{
    uint64_t w, left;

    if (why == PUMP_HOLD_LINGERING) {
        uint64_t r = pump_hold_read_at(o);

        w = pump_hold_linger_end(r) - o->since_pass_us;
        if (w > r / PUMP_HOLD_POLL_DIV)
            w = r / PUMP_HOLD_POLL_DIV;
        if (w > PUMP_HOLD_POLL_MAX_US)
            w = PUMP_HOLD_POLL_MAX_US;
        if (w < PUMP_HOLD_POLL_MIN_US)
            w = PUMP_HOLD_POLL_MIN_US;
    } else {
        w = o->since_pass_us / PUMP_HOLD_POLL_DIV;
        if (w < PUMP_HOLD_POLL_MIN_US)
            w = PUMP_HOLD_POLL_MIN_US;
        if (w > PUMP_HOLD_POLL_MAX_US)
            w = PUMP_HOLD_POLL_MAX_US;
    }
    left = o->coalesce_us - (why == PUMP_HOLD_WATCHING ? o->since_pass_us
                                                       : o->held_us);
    return w < left ? w : left;
}

struct pump_hold_dec pump_hold_decide(const struct pump_hold_obs *o)
{
    struct pump_hold_dec d = { PUMP_HOLD_PASS, pump_hold_rule(o), 0 };

    switch (d.why) {
    case PUMP_HOLD_NOTHING:
        d.act = PUMP_HOLD_IDLE;
        break;
    case PUMP_HOLD_WATCHING:
    case PUMP_HOLD_UNREAD:
    case PUMP_HOLD_LINGERING:
        d.act = PUMP_HOLD_WAIT;
        d.wait_us = pump_hold_wait(o, d.why);
        break;
    default:
        break;
    }
    return d;
}

const char *pump_hold_why_name(enum pump_hold_why why)
{
    static const char *const names[PUMP_HOLD_NWHY] = {
        [PUMP_HOLD_NOTHING] = "nothing",
        [PUMP_HOLD_WATCHING] = "watching",
        [PUMP_HOLD_URGENT] = "urgent",
        [PUMP_HOLD_FULL] = "full",
        [PUMP_HOLD_FEW] = "few",
        [PUMP_HOLD_LIMIT] = "limit",
        [PUMP_HOLD_STALE] = "stale",
        [PUMP_HOLD_UNREAD] = "unread",
        [PUMP_HOLD_DRAINED] = "drained",
        [PUMP_HOLD_READ] = "read",
        [PUMP_HOLD_ENOUGH] = "enough",
        [PUMP_HOLD_LINGERING] = "lingering",
        [PUMP_HOLD_GATHERED] = "gathered",
    };

    if ((unsigned)why < PUMP_HOLD_NWHY)
        return names[why];
    return "?";
}
