/* pump_hold.c -- the pump's coalescing policy (see pump_hold.h). */
#include "ac_config.h"

#include "pump_hold.h"

#include <stddef.h>

/* The rules, tried in order; the first that matches decides. */
static enum pump_hold_why pump_hold_rule(const struct pump_hold_obs *o)
{
    if (o->pending == 0)
        return PUMP_HOLD_NOTHING;
    if (o->stopping || o->coalesce_us == 0)
        return PUMP_HOLD_URGENT;
    if (o->full)
        return PUMP_HOLD_FULL;
    if (o->streams < PUMP_HOLD_MIN_STREAMS)
        return PUMP_HOLD_FEW;
    if (o->unread == 0)
        return PUMP_HOLD_READ;
    if (o->held_us >= o->coalesce_us)
        return PUMP_HOLD_LIMIT;
    return PUMP_HOLD_UNREAD;
}

/* How long to gather before looking at the sockets again: a quarter of
 * the time held so far, so a short drain is seen soon and a long one
 * costs few looks; never past coalesce_us. */
static uint64_t pump_hold_wait(const struct pump_hold_obs *o)
{
    uint64_t w = o->held_us / PUMP_HOLD_POLL_DIV;
    uint64_t left = o->coalesce_us - o->held_us;

    if (w < PUMP_HOLD_POLL_MIN_US)
        w = PUMP_HOLD_POLL_MIN_US;
    if (w > PUMP_HOLD_POLL_MAX_US)
        w = PUMP_HOLD_POLL_MAX_US;
    return w < left ? w : left;
}

struct pump_hold_dec pump_hold_decide(const struct pump_hold_obs *o)
{
    struct pump_hold_dec d = { PUMP_HOLD_PASS, pump_hold_rule(o), 0 };

    if (d.why == PUMP_HOLD_NOTHING) {
        d.act = PUMP_HOLD_IDLE;
    } else if (d.why == PUMP_HOLD_UNREAD) {
        d.act = PUMP_HOLD_WAIT;
        d.wait_us = pump_hold_wait(o);
    }
    return d;
}

const char *pump_hold_why_name(enum pump_hold_why why)
{
    static const char *const names[] = {
        [PUMP_HOLD_NOTHING] = "nothing",
        [PUMP_HOLD_URGENT] = "urgent",
        [PUMP_HOLD_FULL] = "full",
        [PUMP_HOLD_FEW] = "few",
        [PUMP_HOLD_READ] = "read",
        [PUMP_HOLD_LIMIT] = "limit",
        [PUMP_HOLD_UNREAD] = "unread",
    };

    if ((unsigned)why < sizeof(names) / sizeof(names[0]))
        return names[why];
    return "?";
}
