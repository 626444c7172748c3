/* stream_cgi.c -- the plain CGI mode of sseq-stream: the same request
 * rules and start plan as the pump, then a blocking loop of queue_read /
 * queue_wait writing SSE to stdout. One client per process, so blocking
 * writes are fine; SIGTERM interrupts the futex wait. The same token
 * rules (stream_auth.h) and matching (stream_match.h) as the pump; a
 * token's exp ends the stream (checked at least once a second). */
#include "ac_config.h"

#include "stream/stream_cgi.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "queue/queue.h"
#include "queue/queue_access.h"
#include <time.h>

#include "mercure/mercure_prm.h"
#include "proto/http_status.h"
#include "proto/sse.h"
#include "stream/stream_auth.h"
#include "stream/stream_feed.h"
#include "stream/stream_match.h"
#include "stream/stream_req.h"
#include "base/util.h"
#include "runtime/queue_follow.h"
#include "runtime/queue_lazy.h"
#include "runtime/signals.h"

/* What the loop needs besides the queue. */
struct stream_cgi {
    const struct stream_req *r;
    const struct jwt_claims *claims;    /* NULL: anonymous */
    time_t exp;                         /* 0: none */
    unsigned heartbeat;
    uint64_t last_us;                   /* last write (monotonic) */
};

static volatile sig_atomic_t stream_cgi_stop;

static void stream_cgi_on_term(int sig)
{
    (void)sig;
    stream_cgi_stop = 1;
}

/* getenv in the shape stream_req_parse wants. */
static const char *stream_cgi_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

/* Writes all of s to stdout. 0 or -errno (the client is gone). */
static int stream_cgi_write(const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, s, len);

        if (n < 0 && errno == EINTR && !stream_cgi_stop)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EPIPE;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes rec as an SSE event of r's endpoint. */
static int stream_cgi_event(const struct stream_req *r,
                            const struct queue_record *rec)
{
    size_t n = stream_feed_event_size(rec, stream_feed_flavor(r));
    char *out = malloc(n);
    int rc;

    if (out == NULL)
        return -ENOMEM;
    stream_feed_event(out, rec, stream_feed_flavor(r));
    rc = stream_cgi_write(out, n);
    free(out);
    return rc;
}

/* Writes the sseq-gap event. */
static int stream_cgi_gap(uint64_t requested, uint64_t oldest)
{
    char out[STREAM_FEED_GAP_MAX];

    return stream_cgi_write(out, stream_feed_gap(out, requested, oldest));
}

/* Whether the subscriber's token has expired. */
static bool stream_cgi_expired(const struct stream_cgi *sc)
{
    return sc->exp != 0 && time(NULL) >= sc->exp;
}

/* A record: written when it is the subscriber's; an expired token ends
 * the stream (1). */
static int stream_cgi_on_record(void *ctx, const struct queue_record *rec)
{
    struct stream_cgi *sc = ctx;
    int rc;

    if (stream_cgi_expired(sc))
        return 1;
    if (!stream_match_record(sc->r, sc->claims, rec, NULL))
        return 0;
    rc = stream_cgi_event(sc->r, rec);
    sc->last_us = util_mono_us();
    return rc;
}

/* Lapped: the sseq-gap event from the last id the client had. */
static int stream_cgi_on_overrun(void *ctx, uint64_t requested,
                                 uint64_t oldest)
{
    (void)ctx;
    return stream_cgi_gap(requested - 1, oldest);
}

/* Nothing to read: ends on expiry (1), writes a heartbeat when the
 * stream was silent for `heartbeat` seconds, and wakes for the next. */
static int stream_cgi_on_idle(void *ctx, int *wait_ms)
{
    struct stream_cgi *sc = ctx;
    uint64_t now = util_mono_us(), period, due, ms;

    if (stream_cgi_expired(sc))
        return 1;
    if (sc->heartbeat == 0)
        return 0;
    period = (uint64_t)sc->heartbeat * 1000000;
    due = sc->last_us + period;
    if (now >= due) {
        sc->last_us = now;
        due = now + period;
        if (stream_cgi_write(SSE_HEARTBEAT, sizeof(SSE_HEARTBEAT) - 1) < 0)
            return -EPIPE;
    }
    ms = (due - now) / 1000 + 1;
    if (ms < (uint64_t)*wait_ms)
        *wait_ms = (int)ms;
    return 0;
}

/* Streams what the subscriber receives from plan until stdout fails,
 * SIGTERM, or its token expires. */
static void stream_cgi_loop(struct queue *q, struct stream_cgi *sc,
                            const struct stream_feed_plan *plan,
                            char *buf, size_t cap)
{
    struct queue_follow f = {
        .q = q, .cursor = plan->start, .buf = buf, .cap = cap,
        .skip_bad = true, .stop = &stream_cgi_stop, .ctx = sc,
        .on_record = stream_cgi_on_record,
        .on_overrun = stream_cgi_on_overrun,
        .on_idle = stream_cgi_on_idle,
    };

    sc->last_us = util_mono_us();
    if (plan->gap &&
        stream_cgi_gap(plan->gap_requested, plan->gap_oldest) < 0)
        return;
    (void)queue_follow_run(&f);
}

/* Writes an error response to stdout, with the CORS headers the
 * request's Origin gets and the challenge of identity auth (may be
 * NULL), as in FastCGI mode. */
static int stream_cgi_error(const struct config *cfg, int status,
                            const char *reason,
                            const struct stream_auth *auth)
{
    struct stream_req_resp resp = { 0 };
    char out[HTTP_STATUS_RESPONSE_MAX], challenge[MERCURE_PRM_CHALLENGE_MAX];
    size_t n;

    http_cors_decide(cfg, getenv("HTTP_ORIGIN"), &resp.cors);
    if (auth != NULL)
        resp.challenge = stream_auth_challenge(cfg, auth, status, challenge,
                                               sizeof(challenge));
    n = stream_req_error(out, sizeof(out), status, reason,
                         cfg->retry_ms, &resp);

    if (status >= 500)
        log_warn("%d: %s", status, reason);
    else
        log_info("refused %d: %s", status, reason);
    stream_cgi_write(out, n);
    return 0;
}

/* Answers the request with the head and the stream. */
static void stream_cgi_serve(const struct config *cfg, struct queue *q,
                             const struct stream_req *r,
                             const struct stream_auth *auth)
{
    struct stream_req_resp resp = { 0 };
    struct stream_feed_plan plan;
    struct stream_cgi sc = {
        .r = r, .claims = auth->token ? &auth->claims : NULL,
        .exp = auth->token && auth->claims.has_exp ? auth->claims.exp : 0,
        .heartbeat = cfg->heartbeat,
    };
    size_t n, cap = stream_feed_bufsize(q);
    char head[2048], *buf = malloc(cap);

    if (buf == NULL)
        return;
    /* The start is fixed before the head goes out: a client that sees
     * the head and then publishes must get what it published. */
    stream_feed_plan(q, r, sc.claims, buf, cap, &plan);
    http_cors_decide(cfg, getenv("HTTP_ORIGIN"), &resp.cors);
    resp.last_event_id = plan.has_hdr ? plan.hdr : NULL;
    resp.hub = r->hub;
    resp.cache_private = auth->source == MERCURE_TOKEN_QUERY;
    n = stream_req_head(head, sizeof(head) - 32, &resp);
    if (!r->head)
        n += sse_encode_retry(head + n, cfg->retry_ms);
    if (n > 0 && stream_cgi_write(head, n) == 0 && !r->head)
        stream_cgi_loop(q, &sc, &plan, buf, cap);
    free(buf);
}

int stream_cgi_run(const struct config *cfg, const struct jwt_auth_key *key)
{
    struct stream_req *r = malloc(sizeof(*r));
    struct stream_auth auth = { 0 };
    struct queue *q = NULL;
    const char *reason;
    int status;

    signals_on_stop(stream_cgi_on_term);
    signal(SIGPIPE, SIG_IGN);
    if (r == NULL)
        return stream_cgi_error(cfg, 503, "out of memory", NULL);
    status = stream_req_parse(r, cfg, stream_cgi_getenv, NULL, &reason);
    if (status == 0)
        status = stream_auth_check(cfg, key, stream_cgi_getenv, NULL,
                                   time(NULL), &auth, &reason);
    if (status == 0) {
        int last = 0;

        if (queue_lazy_open(cfg->queue_path, &q, &last) < 0) {
            status = 503;
            reason = "queue unavailable";
        }
    }
    if (status != 0)
        stream_cgi_error(cfg, status, reason, &auth);
    else
        stream_cgi_serve(cfg, q, r, &auth);
    jwt_claims_free(&auth.claims);
    free(r);
    if (q != NULL)
        queue_close(q);
    return 0;
}
