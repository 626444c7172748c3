/* pump_stream.h -- the stream lifecycle of sseq-stream's pump (pump
 * thread only): a stream opens from a submitted connection, is queued
 * output (pump_send), written when touched, ended cleanly (pump_end:
 * END_REQUEST after what is queued) or killed (pump_kill: closed at
 * once), and freed at the end of the loop iteration (the graveyard), so
 * nothing that still names it in this iteration sees freed memory.
 *
 * The lists a stream is on (all streams oldest output first, replaying,
 * touched, graveyard, expiring tokens) are pump_stream.c's alone; the
 * other parts go through the functions below. The loop (pump.c) calls
 * this layer; the pass (pump_pass.c) and the replay (pump_replay.c)
 * call it; it calls none of them (only the parts below it: the
 * compiled selectors, pump_pattern.c, and the active subscriptions,
 * pump_subs.c, told when a stream opens and dies). */
#ifndef SSEQ_PUMP_STREAM_H
#define SSEQ_PUMP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/fcgi_rec.h"
#include "stream/stream_chan.h"
#include "stream/stream_out.h"
#include "mercure/jwt_claims.h"

struct pump;
struct pump_conn;

enum pump_state { PUMP_REPLAY, PUMP_LIVE, PUMP_ENDING, PUMP_DEAD };

/* One stream. The list links, out, in, fd, epout, touched and end_us
 * are this layer's; the pass and the replay read state and own the
 * delivery fields (cursor, min_id, sent_id, flavor, authed, claims,
 * subs' channels). */
struct stream {
    struct stream *prev, *next;     /* all streams, oldest output first */
    struct stream *rprev, *rnext;   /* streams replaying */
    struct stream *tnext;           /* touched this iteration */
    struct stream *gnext;           /* graveyard */
    uint64_t last_us;               /* last output queued (monotonic) */
    uint64_t cursor;                /* replay: next id to read */
    uint64_t min_id;                /* never deliver ids below this */
    struct stream_out out;
    struct fcgi_rec_parser in;
    int fd;
    uint8_t state;                  /* enum pump_state */
    bool touched, epout;
    uint8_t flavor;                 /* enum stream_feed_flavor */
    bool authed;                    /* claims hold a valid token's */
    uint64_t sent_id;               /* last record queued live (once) */
    uint64_t end_us;                /* token exp (monotonic); 0: none */
    struct stream *xprev, *xnext;   /* streams with end_us */
    struct jwt_claims claims;
    struct pump_subs_entry *subs_entry; /* pump_subs.c; NULL: none */
    uint32_t nsubs;
    struct stream_sub subs[];
};

/* The lists (in struct pump as `streams`; this layer's only). */
struct pump_streams {
    struct stream *all_head, *all_tail;
    struct stream *replaying;
    struct stream *replay_next;     /* the next replay turn starts here */
    struct stream *touched, *grave, *expiring;
    uint64_t n_writes;              /* for the exit log line */
};

/* Opening, I/O, ending. */
void pump_stream_open(struct pump *p, struct pump_conn *c);
void pump_stream_event(struct pump *p, struct stream *s, uint32_t ev);
void pump_send(struct pump *p, struct stream *s, struct stream_buf *b,
               size_t off, size_t len, unsigned events);
void pump_send_gap(struct pump *p, struct stream *s, uint64_t requested,
                   uint64_t oldest);
void pump_end(struct pump *p, struct stream *s);
void pump_kill(struct pump *p, struct stream *s);

/* Writes made (for the exit log line). */
uint64_t pump_stream_writes(const struct pump *p);
/* Whether s was queued output in this iteration already. */
bool pump_stream_touched(const struct stream *s);
/* Bytes queued on s and not written yet. */
size_t pump_stream_queued(const struct stream *s);

/* The end of an iteration: takes the next stream touched in it (NULL:
 * none left); writes it (unless it waits for EPOLLOUT anyway), true if
 * it is live and all of it was written; frees the streams that died. */
struct stream *pump_stream_take_touched(struct pump *p);
bool pump_stream_flush(struct pump *p, struct stream *s);
void pump_stream_bury(struct pump *p);

/* Every stream: heartbeats to the silent ones, the end of the ones
 * whose token expired, the gap event to the live ones (the pump fell
 * behind the ring), the end of up to max of the oldest (draining; the
 * number ended), of all (the queue is damaged), closing all (exit). */
void pump_stream_heartbeats(struct pump *p);
void pump_stream_expire(struct pump *p);
void pump_stream_gap_live(struct pump *p, uint64_t requested,
                          uint64_t oldest);
unsigned pump_stream_end_oldest(struct pump *p, unsigned max);
void pump_stream_end_all(struct pump *p);
void pump_stream_kill_all(struct pump *p);
bool pump_stream_any(const struct pump *p);

/* The replaying streams, for the replay turns (pump_replay.c): how
 * many; where the turn starts (the one after the last served, else the
 * first; NULL: none); the one after s, wrapping; where the next turn
 * starts; s caught up: it joins its channels and goes live. */
unsigned pump_stream_replaying(const struct pump *p);
struct stream *pump_stream_replay_first(const struct pump *p);
struct stream *pump_stream_replay_after(const struct pump *p,
                                        const struct stream *s);
void pump_stream_replay_resume(struct pump *p, struct stream *s);
void pump_stream_go_live(struct pump *p, struct stream *s);

#endif
