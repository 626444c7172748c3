/* pump_hold.h -- when sseq-stream's pump fans out the records that came
 * in. A pure function of observed numbers (tests/unit/check_pump_hold.c);
 * pump_coalesce.c observes and acts.
 *
 * Nagle's algorithm with "unread" for "unacknowledged". After each pass
 * the pump watches the web server read it (the bytes still unread in the
 * sockets it wrote last); it took r, measured from the pass's end.
 * - A record that comes while the pass is unread is evidence of backlog:
 *   it waits until the web server has read the pass, then goes out with
 *   all that came meanwhile, so batches grow when and as much as the load
 *   requires.
 * - A record that comes within PUMP_HOLD_SOON_US after the read is a
 *   publisher that was waiting for the web server (busy with the pass, it
 *   relayed the publisher's request late): the pump gathers until r after
 *   the read, or until one web server read's worth (PUMP_HOLD_READ_BYTES:
 *   more in one pass costs the web server as many reads, and a longer
 *   hold would only grow a backlog behind a publisher answered while the
 *   web server idles).
 * - A record that comes later goes at once: a lone message, and every
 *   message while the web server keeps up, is never held.
 * No record waits more than coalesce_us. A full pass waiting, a pass to
 * fewer than PUMP_HOLD_MIN_STREAMS streams (one slow client's unread
 * bytes are not load), a pass the web server has not read in coalesce_us
 * (a stuck reader, not load), or SIGTERM: no hold. */
#ifndef SSEQ_PUMP_HOLD_H
#define SSEQ_PUMP_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#define PUMP_HOLD_MIN_STREAMS 2     /* fewer written: unread is no load */
#define PUMP_HOLD_READ_BYTES  2048  /* what the web server reads at once
                                       (the snippet's fastcgi_buffer_size) */
#ifndef PUMP_HOLD_LINGER_PCT
#define PUMP_HOLD_LINGER_PCT  100   /* gather r x this / 100 after a read */
#endif
#define PUMP_HOLD_POLL_MIN_US 50    /* first looks at the sockets */
#define PUMP_HOLD_POLL_MAX_US 1000  /* later looks, at most this apart */
#ifndef PUMP_HOLD_SOON_US
#define PUMP_HOLD_SOON_US     3000  /* this soon after a read: a publisher
                                       that waited for the web server */
#endif
#ifndef PUMP_HOLD_SOON_PCT
#define PUMP_HOLD_SOON_PCT    0     /* ... or within r x this / 100 */
#endif
#define PUMP_HOLD_POLL_DIV    4     /* look again after since_pass / 4,
                                       lingering after r / 4 */

/* What the pump sees when it looks (each loop iteration). */
struct pump_hold_obs {
    uint64_t pending;       /* records the pump has not read */
    uint64_t pending_bytes; /* about their events' size (pending x the
                               mean of the last pass) */
    bool full;              /* a full pass waits (the last one hit its
                               limit, or pending fills one) */
    unsigned streams;       /* streams the last pass wrote (0: none yet) */
    uint64_t since_pass_us; /* since the last pass ended */
    uint64_t unread;        /* bytes of the last pass the web server has
                               not read now (least over the streams
                               written last); looked at only until read */
    uint64_t read_us;       /* since_pass_us when it was first seen read;
                               0: not yet */
    uint64_t held_us;       /* since records were first seen pending; 0:
                               none were before this look */
    unsigned coalesce_us;   /* longest hold (stream.coalesce_us); 0: none */
    bool stopping;          /* SIGTERM: everything goes out now */
};

enum pump_hold_act {
    PUMP_HOLD_IDLE,         /* nothing to do: sleep until records come */
    PUMP_HOLD_PASS,         /* fan out now */
    PUMP_HOLD_WAIT          /* look again after wait_us */
};

/* Why: one per rule, in the order the rules are tried. */
enum pump_hold_why {
    PUMP_HOLD_NOTHING,      /* no records, the last pass read (or old) */
    PUMP_HOLD_WATCHING,     /* no records, the last pass is being read */
    PUMP_HOLD_URGENT,       /* stopping, or coalescing off */
    PUMP_HOLD_FULL,         /* a full pass waits: gathering adds nothing */
    PUMP_HOLD_FEW,          /* the last pass wrote < MIN_STREAMS streams */
    PUMP_HOLD_LIMIT,        /* held coalesce_us already */
    PUMP_HOLD_STALE,        /* last pass unread for coalesce_us: no load */
    PUMP_HOLD_UNREAD,       /* the last pass is unread: gather */
    PUMP_HOLD_DRAINED,      /* came while unread, now read: go */
    PUMP_HOLD_READ,         /* came SOON_US or more after the read: go */
    PUMP_HOLD_ENOUGH,       /* came soon after: a read's worth: go */
    PUMP_HOLD_LINGERING,    /* came soon after: gather till r after it */
    PUMP_HOLD_GATHERED,     /* came soon after: r after the read: go */
    PUMP_HOLD_NWHY
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
