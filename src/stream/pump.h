/* pump.h -- sseq-stream's event loop: one thread per worker process that
 * owns every open stream's FastCGI connection once the runtime
 * (fcgi_server.c) has read the whole request. epoll, non-blocking writes
 * of STDOUT records, END_REQUEST when a stream ends; a tail thread
 * futex-waits on the queue and wakes it through an eventfd. Each queue
 * record is read once and encoded once an endpoint, then queued (shared,
 * refcounted) to the live subscribers of
 * its topics, once a subscriber (stream_match.h is the policy).
 * New records go out at once while the web server keeps up, and are
 * gathered while it has not read the previous pass (pump_hold.h).
 *
 * Key invariant (seamless resume): only the pump thread advances
 * next_live, the id of the next record it will fan out. A new stream
 * replays [start, next_live) of its channels inside the pump thread, then
 * joins the channel lists, so it sees every later record exactly once.
 *
 * Threads: pump_submit, pump_set_queue and pump_streams may be called
 * from any thread; everything else from the pump thread. */
#ifndef SSEQ_PUMP_H
#define SSEQ_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/queue.h"
#include "stream/stream_feed.h"
#include "stream/stream_auth.h"
#include "stream/stream_out.h"
#include "stream/stream_req.h"

struct pump;

/* Settings the pump applies live (SIGHUP). */
struct pump_settings {
    unsigned heartbeat;         /* seconds of silence before a ":" line */
    size_t client_buffer;       /* per-stream output bound, bytes */
    unsigned coalesce_us;       /* longest hold while the web server has
                                   not read the last pass; 0: no hold */
    unsigned drain_ms;          /* SIGTERM: streams are ended over it */
    bool subscriptions;         /* mercure.subscriptions (pump_subs.c) */
};

/* A stream handed over by the runtime's thread (which detached it with
 * fcgi_request_detach); the pump owns it, fd included, from pump_submit
 * on. */
struct pump_conn {
    struct pump_conn *next;     /* pump's submission list */
    int fd;                     /* FastCGI connection (blocking is fine) */
    unsigned request_id;
    struct stream_buf *head;    /* CGI head + "retry:" (one reference) */
    struct stream_feed_plan plan;
    struct stream_auth auth;    /* its claims move to the stream */
    unsigned long pattern_reserved; /* pump_admit's, until it opens */
    struct stream_req req;
};

/* What the pump calls back on signals (it reads them from a signalfd:
 * the caller blocks SIGTERM, SIGINT and SIGHUP in every thread). */
struct pump_hooks {
    void (*on_term)(void *ctx);                 /* stop accepting */
    void (*on_hup)(void *ctx, struct pump *p);  /* reload the config */
    void *ctx;
};

/* Creates the pump (epoll, eventfd, signalfd, timer). -errno. */
int pump_create(const struct pump_settings *set, struct pump **out);

/* Applies new settings (pump thread, e.g. from on_hup). */
void pump_configure(struct pump *p, const struct pump_settings *set);

/* Gives the pump its queue (once; any thread). The pump then starts the
 * tail thread and publishes its counters in a slot of q. */
void pump_set_queue(struct pump *p, struct queue *q);

/* Hands a stream to the pump (any thread). Never fails: on ENOMEM the
 * connection is closed. */
void pump_submit(struct pump *p, struct pump_conn *c);

/* The intake: a thread that calls pump_submit (the FastCGI runtime)
 * opens it before it starts and closes it once it has stopped for good.
 * While it is open a stopping pump_run keeps running, so a request the
 * runtime accepted before SIGTERM still gets its stream (at once ended
 * with the retry) instead of a closed connection, which nginx would
 * answer with 502. Any thread. */
void pump_open_intake(struct pump *p);
void pump_close_intake(struct pump *p);

/* Checks the pattern budgets of c's selectors (stream_match.h; the
 * runtime's thread, before the head is written): 0, 400 (over its
 * stream's budget) or 503 (the process's is full) with *reason in
 * c->req.why. A GET reserves their cost from the process's budget until
 * the stream opens in the pump; pump_admit_cancel gives it back for a
 * connection that will not be submitted. */
int pump_admit(struct pump *p, const struct config *cfg,
               struct pump_conn *c, const char **reason);
void pump_admit_cancel(struct pump *p, struct pump_conn *c);

/* The cost of the distinct pattern selectors the pump holds (any
 * thread). */
unsigned long pump_pattern_cost(const struct pump *p);

/* Streams open or submitted now (any thread). */
unsigned pump_streams(const struct pump *p);

/* Whether the queue was found damaged (QUEUE_DAMAGED): every stream was
 * ended then, and a stream submitted since is ended at once (any
 * thread). */
bool pump_queue_damaged(const struct pump *p);

/* Queue records skipped because they could not be read (any thread). */
uint64_t pump_skipped(const struct pump *p);

/* Runs until SIGTERM/SIGINT: then ends the streams with END_REQUEST,
 * spread evenly over drain_ms (so browsers do not all reconnect in the
 * same millisecond), waits for the intake to close and the streams to
 * drain (at most ~0.7 s past drain_ms) and returns 0. -errno if epoll
 * fails. */
int pump_run(struct pump *p, const struct pump_hooks *hooks);

/* Stops the tail thread, closes what is left, frees everything. */
void pump_destroy(struct pump *p);

#endif
