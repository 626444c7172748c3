/* stream_main.c -- sseq-stream: the FastCGI responder for
 * GET /events?channel=NAME and the Mercure hub's
 * GET /.well-known/mercure?topic=SELECTOR. The master (fcgi_master.c)
 * holds the socket and runs the workers; in each worker the runtime
 * (fcgi_server.c) reads requests in one thread and calls
 * stream_on_request, which answers errors and HEAD itself and hands
 * every stream's connection to the pump (pump.c), which owns it from
 * then on and runs in the main thread.
 * Without a FastCGI socket it serves one plain CGI request (stream_cgi.c).
 *
 * Signals in a worker: SIGTERM/SIGINT/SIGHUP are blocked in every thread
 * and read by the pump from a signalfd (on_term stops the runtime's
 * accepting, the pump ends the streams over fastcgi.drain); SIGUSR1
 * reopens the log and pokes the tail thread out of its futex wait. */
#include "ac_config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/config.h"
#include "runtime/conf_load.h"
#include "runtime/fcgi_app.h"
#include "runtime/fcgi_master.h"
#include "runtime/fcgi_server.h"
#include "runtime/queue_lazy.h"
#include "runtime/signals.h"
#include "metrics/http_refusals.h"
#include "base/log.h"
#include "stream/pump.h"
#include "queue/queue.h"
#include "queue/queue_access.h"
#include "proto/sse.h"
#include "mercure/mercure_prm.h"
#include "stream/stream_auth.h"
#include "stream/stream_cgi.h"
#include "stream/stream_feed.h"
#include "stream/stream_metrics.h"
#include "stream/stream_prm.h"
#include "stream/stream_req.h"
#include "stream/subs_api.h"
#include "base/util.h"

#define STREAM_QUEUE_RETRY_US 1000000   /* between queue_open attempts */
#define STREAM_BODY_DRAIN     (64 * 1024)

struct stream_app {
    struct fcgi_app_opts opts;
    pthread_rwlock_t cfg_lock;          /* cfg: read by the runtime thread */
    struct config cfg;
    struct jwt_auth_key sub_key;        /* of cfg, under cfg_lock */
    bool have_key;                      /* sub_key is set */
    struct pump *pump;
    struct fcgi_server *srv;
    pthread_mutex_t q_mu;               /* opening the queue */
    _Atomic(struct queue *) q;
    uint64_t q_retry_us;
    int q_last_rc;                      /* last queue_open outcome logged */
    char *rbuf;                         /* record buffer (runtime thread) */
    size_t rcap;
    struct http_refusals refused;       /* errors answered, by status */
};

/* fcgi_request_param in the shape stream_req_parse wants. */
static const char *stream_getparam(const char *name, void *r)
{
    return fcgi_request_param(r, name);
}

/* The queue, opening it if it is not yet (at most once a second); NULL
 * while it cannot be opened. */
static struct queue *stream_queue(struct stream_app *a)
{
    struct queue *q = atomic_load(&a->q);
    uint64_t now;

    if (q != NULL)
        return q;
    pthread_mutex_lock(&a->q_mu);
    q = atomic_load(&a->q);
    now = util_mono_us();
    if (q == NULL && now >= a->q_retry_us) {
        a->q_retry_us = now + STREAM_QUEUE_RETRY_US;
        if (queue_lazy_open(a->cfg.queue_path, &q, &a->q_last_rc) == 1) {
            atomic_store(&a->q, q);
            pump_set_queue(a->pump, q);
        }
    }
    pthread_mutex_unlock(&a->q_mu);
    return q;
}

/* Checks everything but the request itself; 0 or a status with reason. */
static int stream_admit(struct stream_app *a, struct queue **q,
                        const char **reason)
{
    *q = stream_queue(a);
    if (*q == NULL) {
        *reason = "queue unavailable";
        return 503;
    }
    if (pump_queue_damaged(a->pump) || queue_health(*q) == QUEUE_DAMAGED) {
        *reason = "queue damaged (the server's log says how to fix it)";
        return 503;
    }
    if (pump_streams(a->pump) >= a->cfg.max_subscribers) {
        *reason = "too many streams in this process";
        return 503;
    }
    if (a->rcap < stream_feed_bufsize(*q)) {
        free(a->rbuf);
        a->rcap = stream_feed_bufsize(*q);
        a->rbuf = malloc(a->rcap);
        if (a->rbuf == NULL) {
            a->rcap = 0;
            *reason = "out of memory";
            return 503;
        }
    }
    return 0;
}

/* Builds the stream for request r into c: identity, start plan, head.
 * Writes the head of a HEAD request into head (its length in *head_len)
 * instead. Call with cfg_lock held. 0 or a status with reason. */
static int stream_prepare(struct stream_app *a, struct fcgi_request *r,
                          struct pump_conn *c, struct stream_req_resp *resp,
                          char *head, size_t *head_len, const char **reason)
{
    struct queue *q;
    size_t n;
    int status;

    status = stream_req_parse(&c->req, &a->cfg, stream_getparam, r, reason);
    if (status == 0)
        status = stream_auth_check(&a->cfg, a->have_key ? &a->sub_key : NULL,
                                   stream_getparam, r, time(NULL), &c->auth,
                                   reason);
    if (status == 0)
        status = stream_admit(a, &q, reason);
    if (status == 0)
        status = pump_admit(a->pump, &a->cfg, c, reason);
    if (status != 0)
        return status;
    stream_feed_plan(q, &c->req, c->auth.token ? &c->auth.claims : NULL,
                     a->rbuf, a->rcap, &c->plan);
    resp->last_event_id = c->plan.has_hdr ? c->plan.hdr : NULL;
    resp->hub = c->req.hub;
    resp->cache_private = c->auth.source == MERCURE_TOKEN_QUERY;
    n = stream_req_head(head, *head_len - 32, resp);
    if (c->req.head) {
        *head_len = n;
        return 0;
    }
    n += sse_encode_retry(head + n, a->cfg.retry_ms);
    c->head = stream_out_buf_copy(head, n);
    if (c->head == NULL) {
        pump_admit_cancel(a->pump, c);
        *reason = "out of memory";
        return 503;
    }
    return 0;
}

/* Logs a refusal: one line, the status and reason (never a token). */
static void stream_log_refusal(struct fcgi_request *r, int status,
                               const char *reason)
{
    const char *uri = fcgi_request_param(r, "DOCUMENT_URI");

    if (status >= 500)
        log_warn("%d %s: %s", status, uri ? uri : "-", reason);
    else
        log_info("refused %d %s: %s", status, uri ? uri : "-", reason);
}

/* Counts an error answered with status; copies the counts into the
 * queue slot once the pump has claimed one. */
static void stream_refused(struct stream_app *a, int status)
{
    http_refusals_add(&a->refused, status);
    http_refusals_publish(&a->refused, atomic_load(&a->q));
}

/* The runtime answered an error itself (408). */
static void stream_on_refusal(int status, void *ctx)
{
    stream_refused(ctx, status);
}

/* Answers a request for the metrics endpoint (stream_metrics.c). */
static void stream_serve_metrics(struct stream_app *a, struct fcgi_request *r)
{
    static const char fail[] = "Status: 503 Service Unavailable\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "metrics unavailable (the server's log says why)\n";
    char *resp = NULL;
    size_t n = 0;
    int status, rc;

    http_refusals_publish(&a->refused, atomic_load(&a->q));
    pthread_rwlock_rdlock(&a->cfg_lock);
    rc = stream_metrics_respond(stream_queue(a), a->cfg.queue_path,
                                stream_getparam, r, &resp, &n, &status);
    pthread_rwlock_unlock(&a->cfg_lock);
    if (rc < 0) {
        log_warn("metrics: %s", strerror(-rc));
        stream_refused(a, 503);
        fcgi_request_reply(r, fail, sizeof(fail) - 1);
        return;
    }
    if (status != 200) {
        stream_log_refusal(r, status, "metrics endpoint");
        stream_refused(a, status);
    }
    fcgi_request_reply(r, resp, n);
    free(resp);
}

/* Answers a request for the protected resource metadata (stream_prm.c). */
static void stream_serve_prm(struct stream_app *a, struct fcgi_request *r)
{
    char out[STREAM_PRM_RESPONSE_MAX];
    size_t n;
    int status;

    pthread_rwlock_rdlock(&a->cfg_lock);
    n = stream_prm_respond(&a->cfg, stream_getparam, r, out, sizeof(out),
                           &status);
    pthread_rwlock_unlock(&a->cfg_lock);
    if (status != 200) {
        stream_log_refusal(r, status, "protected resource metadata");
        stream_refused(a, status);
    }
    fcgi_request_reply(r, out, n);
}

/* Answers a request for the subscription API (subs_api.c). */
static void stream_serve_subs(struct stream_app *a, struct fcgi_request *r)
{
    static const char fail[] = "Status: 503 Service Unavailable\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nout of memory\n";
    const char *reason = NULL;
    char *resp = NULL;
    size_t n = 0;
    int status = 503, rc;

    pthread_rwlock_rdlock(&a->cfg_lock);
    rc = subs_api_respond(&a->cfg, a->have_key ? &a->sub_key : NULL,
                          stream_queue(a), stream_getparam, r, &resp, &n,
                          &status, &reason);
    pthread_rwlock_unlock(&a->cfg_lock);
    if (status != 200) {
        stream_log_refusal(r, status, rc < 0 ? "out of memory" : reason);
        stream_refused(a, status);
    }
    if (rc < 0)
        fcgi_request_reply(r, fail, sizeof(fail) - 1);
    else
        fcgi_request_reply(r, resp, n);
    free(resp);
}

/* The runtime's handler: an error or HEAD is answered here, a stream is
 * taken from the runtime and handed to the pump. */
static void stream_on_request(struct fcgi_request *r, void *ctx)
{
    struct stream_app *a = ctx;
    struct pump_conn *c;
    struct stream_req_resp resp = { 0 };
    const char *reason = "out of memory";
    char out[2048], challenge[MERCURE_PRM_CHALLENGE_MAX];
    size_t n = sizeof(out);
    int status = 503;

    if (stream_prm_wanted(stream_getparam, r)) {
        stream_serve_prm(a, r);
        return;
    }
    if (subs_api_wanted(stream_getparam, r)) {
        stream_serve_subs(a, r);
        return;
    }
    if (stream_metrics_wanted(stream_getparam, r)) {
        stream_serve_metrics(a, r);
        return;
    }
    c = calloc(1, sizeof(*c));
    pthread_rwlock_rdlock(&a->cfg_lock);
    http_cors_decide(&a->cfg, fcgi_request_param(r, "HTTP_ORIGIN"),
                     &resp.cors);
    if (c != NULL)
        status = stream_prepare(a, r, c, &resp, out, &n, &reason);
    if (status != 0) {
        stream_log_refusal(r, status, reason);
        stream_refused(a, status);
        resp.last_event_id = NULL;
        if (c != NULL)
            resp.challenge = stream_auth_challenge(&a->cfg, &c->auth,
                                                   status, challenge,
                                                   sizeof(challenge));
        n = stream_req_error(out, sizeof(out), status, reason,
                             a->cfg.retry_ms, &resp);
    }
    pthread_rwlock_unlock(&a->cfg_lock);
    if (status != 0 || c->head == NULL) {
        fcgi_request_reply(r, out, n);
        if (c != NULL)
            jwt_claims_free(&c->auth.claims);
        free(c);
        return;
    }
    c->fd = fcgi_request_detach(r, &c->request_id);
    pump_submit(a->pump, c);
}

/* The pump's settings from cfg. */
static void stream_settings(const struct config *cfg,
                            struct pump_settings *set)
{
    set->heartbeat = cfg->heartbeat;
    set->client_buffer = cfg->client_buffer;
    set->coalesce_us = cfg->coalesce_us;
    set->drain_ms = cfg->drain_ms;
    set->subscriptions = cfg->mercure_subscriptions;
}

/* SIGTERM (pump thread): stop accepting. */
static void stream_on_term(void *ctx)
{
    struct stream_app *a = ctx;

    fcgi_server_stop(a->srv);
}

/* SIGHUP (pump thread): re-reads the config; keeps the old one if the
 * new one is bad. The queue path needs a restart. */
static void stream_on_hup(void *ctx, struct pump *p)
{
    struct stream_app *a = ctx;
    const char *path = config_path(a->opts.config_path);
    struct config nc, old;
    struct jwt_auth_key key, old_key;
    const char *why;
    bool have;
    struct pump_settings set;
    struct fcgi_server_limits lim;

    if (conf_reload(path, &a->cfg, &nc) < 0)
        return;
    if (stream_auth_key_load(&nc, &key, &have, &why) < 0) {
        log_error("reload: subscriber key: %s (keeping the running "
                  "config)", why);
        config_free(&nc);
        return;
    }
    pthread_rwlock_wrlock(&a->cfg_lock);
    old = a->cfg;
    a->cfg = nc;
    old_key = a->sub_key;
    a->sub_key = key;
    a->have_key = have;
    pthread_rwlock_unlock(&a->cfg_lock);
    config_free(&old);
    jwt_auth_key_free(&old_key);
    log_set_level(a->cfg.log_level);
    stream_settings(&a->cfg, &set);
    pump_configure(p, &set);
    fcgi_app_limits(&a->cfg, STREAM_BODY_DRAIN, &lim);
    fcgi_server_set_limits(a->srv, &lim);
    log_info("reloaded %s", path);
}

/* The runtime's thread; its end closes the pump's intake. */
static void *stream_server_main(void *arg)
{
    struct stream_app *a = arg;

    if (fcgi_server_run(a->srv) < 0)
        kill(getpid(), SIGTERM);
    pump_close_intake(a->pump);
    return NULL;
}

/* A worker: the runtime in its thread, the pump in this one. */
static int stream_worker(int listen_fd, void *ctx)
{
    struct stream_app *a = ctx;
    struct pump_hooks hooks = {
        .on_term = stream_on_term, .on_hup = stream_on_hup, .ctx = a,
    };
    struct fcgi_server_ops ops = {
        .handle = stream_on_request, .on_refusal = stream_on_refusal,
        .ctx = a,
    };
    struct fcgi_server_limits lim;
    struct pump_settings set;
    struct queue *q;
    pthread_t t;
    int rc;

    fcgi_app_worker_signals();
    signals_control_block();
    stream_settings(&a->cfg, &set);
    fcgi_app_limits(&a->cfg, STREAM_BODY_DRAIN, &lim);
    if (pump_create(&set, &a->pump) < 0)
        return 1;
    stream_queue(a);
    rc = fcgi_server_create(listen_fd, &lim, &ops, &a->srv);
    if (rc == 0) {
        pump_open_intake(a->pump);
        rc = -pthread_create(&t, NULL, stream_server_main, a);
        if (rc < 0)
            log_error("pthread_create: %s", strerror(-rc));
    }
    if (rc == 0) {
        fcgi_master_ready();
        rc = pump_run(a->pump, &hooks);
        fcgi_server_stop(a->srv);
        pthread_join(t, NULL);
    }
    pump_destroy(a->pump);
    fcgi_server_destroy(a->srv);
    q = atomic_load(&a->q);
    if (q != NULL)
        queue_close(q);
    free(a->rbuf);
    jwt_auth_key_free(&a->sub_key);
    config_free(&a->cfg);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    static struct stream_app app;
    struct fcgi_master_conf mc = { .ident = "sseq-stream" };
    static char watch[PATH_MAX];
    const char *created, *why;
    bool is_cgi;
    long nofile;
    int fd, rc;

    fcgi_app_parse_args(argc, argv,
        "Streams sseq queue messages as Server-Sent Events (FastCGI).",
        &app.opts);
    fcgi_app_load_config("sseq-stream", &app.opts, &app.cfg);
    if (stream_auth_key_load(&app.cfg, &app.sub_key, &app.have_key,
                             &why) < 0) {
        log_error("mercure.subscriber_jwt_key: %s", why);
        return 1;
    }
    pthread_rwlock_init(&app.cfg_lock, NULL);
    pthread_mutex_init(&app.q_mu, NULL);
    nofile = util_raise_nofile();
    if (nofile < 0)
        log_warn("RLIMIT_NOFILE: %s", strerror((int)-nofile));
    fd = fcgi_app_listen(&app.opts, &is_cgi, &created);
    if (fd < 0)
        return 1;
    if (is_cgi) {
        rc = stream_cgi_run(&app.cfg, app.have_key ? &app.sub_key : NULL);
        config_free(&app.cfg);
        return rc;
    }
    mc.processes = app.opts.processes ? app.opts.processes
                                      : app.cfg.stream_processes;
    mc.drain_ms = app.cfg.drain_ms;
    mc.argv = argv;
    mc.unlink_path = created;
    if (queue_access_file(app.cfg.queue_path, watch, sizeof(watch)) == 0)
        mc.watch_path = watch;
    log_info("sseq-stream %s: fd %d, queue %s, %u processes, "
             "max_subscribers %u each, open files %ld, read_timeout %u ms, "
             "drain %u ms", PACKAGE_VERSION, fd, app.cfg.queue_path,
             mc.processes, app.cfg.max_subscribers, nofile,
             app.cfg.read_timeout_ms, app.cfg.drain_ms);
    rc = fcgi_master_run(fd, &mc, stream_worker, &app);
    jwt_auth_key_free(&app.sub_key);
    config_free(&app.cfg);
    return rc;
}
