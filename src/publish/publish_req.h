/* publish_req.h -- the publish request of sseq-publish: POST
 * /publish/NAME (or /publish?channel=NAME) with a body whose message is
 * appended to the queue; the answer (202 with the id as JSON, or one
 * refusal from the table in http_status.c) is written into the request's
 * output buffer. A request whose path is the Mercure hub's
 * (mercure_hub.h) is a Mercure publish instead: a form (mercure_form.h),
 * a publisher JWT (auth.h), and 200 with the update's id as text/plain.
 * The same logic serves FastCGI (fcgi_server.c has read the
 * whole body) and plain CGI (publish_main.c reads stdin).
 *
 * Every refusal gets its status, a one-line reason naming the culprit, one
 * log line (status, reason, channel, remote address; never a token), and
 * writes nothing to the queue. */
#ifndef SSEQ_PUBLISH_REQ_H
#define SSEQ_PUBLISH_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "metrics/http_refusals.h"
#include "mercure/jwt_auth.h"
#include "queue/queue.h"
#include "mercure/topic_selector.h"
#include "publish/publish_lag.h"

#define PUBLISH_REQ_OUT_MAX 4096    /* longest answer */

/* The process's publishing state: its config, the queue (opened on first
 * use, so a queue created after start-up is found) and its counters. One
 * thread uses it at a time. */
struct publish_app {
    struct config cfg;
    struct queue *q;            /* NULL until it opens */
    int slot;                   /* queue_proc_claim slot, or -1 */
    uint64_t published, bytes, requests;
    struct http_refusals refused;       /* errors answered, by status */
    int q_last_rc;              /* last queue_open outcome logged */
    int append_last_rc;         /* last queue_append failure logged */
    bool lag_refusing;          /* backpressure refuses (logged once) */
    struct publish_lag_dec lag_dec;     /* its last decision ... */
    uint64_t lag_at_us;                 /* ... taken then (monotonic) */
    struct jwt_auth_key pub_key;        /* from cfg.mercure_pub */
    bool has_pub_key;                   /* pub_key holds a key */
    struct topic_selector_cache cache;  /* publish selector results */
    bool has_cache;
};

/* One request: where its params come from, its body as read, and the
 * answer written by publish_req_handle. */
struct publish_io {
    const char *(*param)(void *ctx, const char *name);
    void *ctx;
    const char *body;           /* the first body_len bytes of the body */
    size_t body_len;
    size_t body_seen;           /* the whole body's length */
    int read_error;             /* 0, -ETIMEDOUT or -EPIPE (CGI stdin) */
    char out[PUBLISH_REQ_OUT_MAX];
    size_t out_len;
};

/* Sets up app (slot -1, no queue) over a loaded config it now owns, and
 * its publisher key (jwt_auth_key_init; a key that cannot be set up is
 * logged and left out: no JWT is then accepted). */
void publish_app_init(struct publish_app *app);

/* SIGHUP: replaces app's config by nc (now owned by app; the old one is
 * freed) and sets the publisher key up again from it. */
void publish_app_reload(struct publish_app *app, struct config *nc);

/* Releases the queue slot, closes the queue, frees the config. */
void publish_app_close(struct publish_app *app);

/* How many body bytes to keep for a request of content_type (NULL ok):
 * the limit of that body type (publish_body_limit), 0 for a type that
 * will be refused. */
size_t publish_req_body_limit(const struct publish_app *app,
                              const char *content_type);

/* Counts an error answered with status (publish_req_handle's, or the
 * runtime's 408) and copies the counts into app's queue slot. */
void publish_app_refused(struct publish_app *app, int status);

/* Answers one request into io->out, whatever the outcome. */
void publish_req_handle(struct publish_app *app, struct publish_io *io);

#endif
