/* pump_hold.h -- when sseq-stream's pump fans out the records that came
 * in: at once while the web server keeps up, gathering them while it has
 * not yet read the previous pass. Nagle's algorithm with "unread" for
 * "unacknowledged": the evidence of backlog is the bytes of the last pass
 * still unread in the web server's sockets (or a full pass waiting), not
 * the size of the fan-out, so batches grow exactly when and as much as
 * the load requires, and a lone message to an idle stream goes at once.
 *
 * A pure function of observed numbers (tests/unit/check_pump_hold.c);
 * the pump observes and acts (pump_coalesce.c). */
#ifndef SSEQ_PUMP_HOLD_H
#define SSEQ_PUMP_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#define PUMP_HOLD_MIN_STREAMS 2     /* fewer written: unread is no load */
#define PUMP_HOLD_POLL_MIN_US 50    /* first looks at the sockets */
#define PUMP_HOLD_POLL_MAX_US 1000  /* later looks, at most this apart */
#define PUMP_HOLD_POLL_DIV    4     /* look again after held / this */

/* What the pump sees when records are waiting. */
struct pump_hold_obs {
    uint64_t pending;       /* records the pump has not read */
    bool full;              /* a full pass waits (the last one hit its
                               limit, or pending fills one) */
    uint64_t unread;        /* bytes of the last pass the web server has
                               not read: least over the streams it wrote
                               last (one slow client is not load) */
    unsigned streams;       /* streams the last pass wrote */
    uint64_t held_us;       /* since the hold began; 0: not holding */
    unsigned coalesce_us;   /* longest hold (stream.coalesce_us); 0: none */
    bool stopping;          /* SIGTERM: everything goes out now */
};

enum pump_hold_act {
    PUMP_HOLD_IDLE,         /* nothing to fan out */
    PUMP_HOLD_PASS,         /* fan out now */
    PUMP_HOLD_WAIT          /* gather; look again after wait_us */
};

/* Why: one reason per rule, in the order the rules are tried. */
enum pump_hold_why {
    PUMP_HOLD_NOTHING,      /* no records pending */
    PUMP_HOLD_URGENT,       /* stopping, or coalescing off */
    PUMP_HOLD_FULL,         /* a full pass waits: gathering adds nothing */
    PUMP_HOLD_FEW,          /* the last pass wrote < MIN_STREAMS streams */
    PUMP_HOLD_READ,         /* the web server read the last pass */
    PUMP_HOLD_LIMIT,        /* held coalesce_us already */
    PUMP_HOLD_UNREAD        /* the last pass is still unread: gather */
};

struct pump_hold_dec {
    enum pump_hold_act act;
    enum pump_hold_why why;
    uint64_t wait_us;       /* PUMP_HOLD_WAIT: look again after this */
};

/* Decides from o (see the file top); never fails. */
struct pump_hold_dec pump_hold_decide(const struct pump_hold_obs *o);

/* The rule's name, for logs and test messages ("unread", ...). */
const char *pump_hold_why_name(enum pump_hold_why why);

#endif
