/* pump_int.h -- what the parts of sseq-stream's pump share (pump thread
 * only unless a field says otherwise):
 *   pump.c           the loop: epoll events, signals, the timer tick,
 *                    draining, counters; calls every part below;
 *   pump_pass.c      the fan-out pass: new records read once, encoded
 *                    once a flavor (stream_feed.h), queued to the
 *                    subscribers of their topics (exact maps) and of
 *                    the pattern
 *                    selectors matching them (each evaluated once);
 *   pump_replay.c    a new stream's replay up to the live cursor,
 *                    a turn bounded by time;
 *   pump_pattern.c   pattern selectors compiled once, their results
 *                    remembered by topic, the process's budget;
 *   pump_tail.c      the tail thread that wakes a sleeping pump;
 *   pump_coalesce.c  when the pass runs: observes the web server's
 *                    sockets and asks the policy (pump_hold.c, pure);
 *   pump_read.c      the record buffer the pass and the replay read into;
 *   pump_subs.c      Mercure active subscriptions: updates when a hub
 *                    stream opens and closes, the process's file;
 *   pump_stream.c    the stream lifecycle (open, send, write, end, kill,
 *                    heartbeats, expiry, the graveyard and the lists a
 *                    stream is on; pump_stream.h), below the pass, the
 *                    replay and the loop, calling none of them.
 * Each part's state (pass, co, tail, streams, topics, top) is its own
 * file's; the others call its functions. The settings, the queue and
 * its cursor next_live, the subscription maps, the claims cache and the
 * counters c are the shared ground every part reads. */
#ifndef SSEQ_PUMP_INT_H
#define SSEQ_PUMP_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "stream/pump.h"
#include "proto/fcgi_rec.h"
#include "stream/pump_hold.h"
#include "proto/sse.h"
#include "metrics/chan_file.h"
#include "stream/stream_chan.h"
#include "mercure/topic_selector.h"
#include "stream/pump_stream.h"

#define PUMP_PASS_MAX     1024      /* records fanned out per pass */
#define PUMP_PASS_BYTES   (256 * 1024)  /* encoded bytes per pass (about) */
#define PUMP_PASS_US      5000      /* reading and matching, per pass */
#define PUMP_PROBES       4         /* streams written last, watched */

#define PUMP_CACHE_ENTRIES 4096    /* (selector, topic) results kept */

/* The pump's subscription maps (stream_chan tag): /events channels, hub
 * exact topics, hub pattern selectors ("*", templates), /events channels
 * of tag=channel streams (their own encoding, STREAM_FEED_TAGGED). */
enum pump_map { PUMP_MAP_EVENTS, PUMP_MAP_HUB, PUMP_MAP_PATTERN,
                PUMP_MAP_TAGGED, PUMP_NMAPS };
/* The maps keyed by a topic's exact name (all but the patterns), for
 * whatever looks a name up in each: routing, the metrics' top channels. */
#define PUMP_EXACT_MAPS { PUMP_MAP_EVENTS, PUMP_MAP_TAGGED, PUMP_MAP_HUB }
#define PUMP_NEXACT       3

/* One (record, channel or selector) of the pass being fanned out. */
struct pump_ev {
    struct stream_chan *chan;
    uint64_t id;
    uint32_t slot;                  /* its channel's pump_pass_chan */
    uint32_t off, len;              /* in the scratch, then in the buf */
    uint32_t priv;                  /* private: its pump_pass_priv + 1 */
};

/* The topics of a private record of the pass (in the scratch). */
struct pump_pass_priv {
    uint32_t off;                   /* channel, then the alternates */
    uint32_t channel_len, alt_len, n_alt;
};

/* A channel with events in the pass (stream_chan.pass_slot = index+1). */
struct pump_pass_chan {
    struct stream_chan *chan;
    struct stream_buf *buf;         /* the pass's events of chan */
    uint32_t fill;                  /* bytes of them (size, then fill) */
    uint64_t last_id;               /* record last added (once a record) */
};

/* The pass being fanned out (pump_pass.c). Arrays grow as needed. */
struct pump_pass {
    struct pump_ev *ev;
    unsigned n, ev_cap;
    char *ebuf;                     /* scratch: the pass's events */
    size_t ecap, eused;
    struct pump_pass_chan *slots;   /* channels with events, in order */
    unsigned nused, slots_cap;
    struct pump_pass_priv *priv;
    unsigned npriv, priv_cap;
    unsigned sends;                 /* events queued to streams */
    unsigned records;               /* records in the pass (subscribed) */
    size_t bytes;                   /* their encoded bytes */
    unsigned streams;               /* streams the pass queued to */
};

/* The tail thread (pump_tail.c). */
struct pump_tail {
    pthread_t thread;
    bool started;                   /* pump thread only */
    atomic_bool stop;
    atomic_uint armed;              /* futex word: 1 = wake the pump */
    _Atomic uint64_t seen;          /* next_live when the pump armed */
};

/* Coalescing state (pump_coalesce.c). */
struct pump_coalesce {
    uint64_t pass_end_us;           /* the last pass was written */
    bool written;                   /* ... yes (pass_end_us is final) */
    uint64_t read_us;               /* ... and read this long after; 0 */
    uint64_t hold_start_us;         /* records first seen pending; 0 */
    bool waiting;                   /* records held: the timer wakes it */
    struct stream *probe[PUMP_PROBES];  /* live streams written last */
    unsigned next_probe;            /* ring index */
    unsigned streams;               /* streams the last pass wrote */
    size_t rec_bytes;               /* its mean event size */
    bool behind;                    /* the last pass hit its limit */
    bool sent;                      /* ... and queued events */
    uint64_t n_passes, n_holds;     /* for the exit log line */
    uint64_t n_why[PUMP_HOLD_NWHY]; /* decisions by pump_hold_why */
    uint64_t pass_us;               /* time in passes (reading, queuing) */
};

struct pump {
    int epfd, efd, sfd, tfd, cfd;
    struct pump_settings set;
    /* shared with other threads */
    pthread_mutex_t mu;
    struct pump_conn *submitted;    /* LIFO, under mu */
    _Atomic(struct queue *) q_new;
    atomic_uint nstreams;
    _Atomic uint64_t skipped;       /* unreadable records skipped */
    atomic_ulong pattern_cost;      /* distinct patterns compiled */
    atomic_ulong pattern_pending;   /* reserved by pump_admit, not open */
    struct pump_tail tail;
    /* pump thread only */
    struct queue *q;
    int slot;
    struct stream_chan_map maps[PUMP_NMAPS];    /* enum pump_map */
    struct topic_selector_cache cache;          /* claims' results */
    struct pump_topics *topics;     /* pump_pattern.c; NULL until used */
    struct pump_streams streams;    /* pump_stream.c */
    uint64_t next_live;
    char *rbuf;
    size_t rcap;
    struct pump_pass pass;
    struct pump_coalesce co;
    uint64_t flush_us;              /* for the exit log line */
    uint64_t now_us;
    bool stopping;
    atomic_bool damaged;            /* the queue read QUEUE_DAMAGED */
    atomic_bool intake_open;        /* pump_open_intake, not yet closed */
    uint64_t deadline_us;
    uint64_t stop_us;               /* when SIGTERM came */
    unsigned drain_total;           /* streams open then */
    unsigned drain_ended;           /* of them, ended so far */
    struct queue_proc_counters c;
    bool c_dirty;
    struct chan_file *top;          /* pump_top.c; NULL: none */
    uint64_t top_us;                /* ... last written (monotonic) */
    struct pump_subs *subs;         /* pump_subs.c; NULL until used */
};

/* pump_read.c: the buffer for q's records (-ENOMEM); a record read into
 * it at *cursor (queue_read's result); the buffer freed. */
int pump_read_init(struct pump *p, struct queue *q);
int pump_read(struct pump *p, uint64_t *cursor, struct queue_record *rec);
void pump_read_free(struct pump *p);

/* pump_pass.c; pump_pass_last: what the last pass did (sends, streams,
 * records, bytes; for the coalescing). */
int pump_pass_init(struct pump_pass *pass);
void pump_pass_free(struct pump_pass *pass);
bool pump_pass_run(struct pump *p);
const struct pump_pass *pump_pass_last(const struct pump *p);

/* pump_replay.c */
bool pump_replay_run(struct pump *p);

/* pump_pattern.c: a pattern channel's compiled selector (its
 * owner_data), made when its first stream opens, freed with the
 * channel; their costs in pattern_cost. Topics seen lately get ids
 * (pump_topics), so each pattern remembers its last results by id. */
int pump_pattern_attach(struct pump *p, struct stream_chan *c);
void pump_pattern_release(struct pump *p, struct pump_conn *c);
void pump_chan_unref(struct pump *p, struct stream_chan *c);
bool pump_pattern_any(struct pump *p, struct stream_chan *c,
                      const struct queue_record *rec);
void pump_topics_free(struct pump *p);

/* pump_tail.c */
int pump_tail_start(struct pump *p);
void pump_tail_arm(struct pump *p);
void pump_tail_stop(struct pump *p);

/* pump_top.c: the process's top channels for the metrics (chan_file.h);
 * open after the slot claim, publish on every counter publishing
 * (rate-limited), close before the slot's release. */
void pump_top_open(struct pump *p);
void pump_top_publish(struct pump *p);
void pump_top_close(struct pump *p);
/* The start time queue_proc_claim stored in this process's slot, or 0. */
uint64_t pump_top_started(struct pump *p);

/* pump_subs.c: a hub stream's subscriptions (mercure.subscriptions).
 * open after the stream is set up (claims taken), close when it dies
 * (any way; again is nothing); flush every iteration (rate-limited
 * unless now), destroy after the last stream died, before the slot's
 * release. */
void pump_subs_open(struct pump *p, struct stream *s,
                    const struct pump_conn *c);
void pump_subs_close(struct pump *p, struct stream *s);
void pump_subs_flush(struct pump *p, bool now);
void pump_subs_destroy(struct pump *p);

/* pump_coalesce.c */
bool pump_coalesce_run(struct pump *p);
bool pump_coalesce_holding(const struct pump *p);
void pump_coalesce_wrote(struct pump *p, struct stream *s);
void pump_coalesce_flushed(struct pump *p, uint64_t t);
void pump_coalesce_prune(struct pump *p);
void pump_coalesce_log(const struct pump *p, uint64_t writes,
                       uint64_t flush_us);

/* pump_stream.c: the queue read QUEUE_DAMAGED: logs queue_error() once,
 * ends every stream; later reads stop (pump thread). */
void pump_mark_damaged(struct pump *p);

#endif
