/* stream_main.c -- sseq-stream: the FastCGI responder for
 * GET /events?channel=NAME. A few accept threads let libfcgi accept and
 * parse each request (FCGX_Accept_r), answer errors themselves, and hand
 * every stream's connection to the pump (pump.c), detached from libfcgi so
 * that it never writes on or closes a connection the pump owns.
 * Without a FastCGI socket it serves one plain CGI request (stream_cgi.c).
 *
 * Signals: SIGTERM/SIGINT/SIGHUP are blocked in every thread and read by
 * the pump from a signalfd; SIGUSR1 (no-op handler, no SA_RESTART) pokes
 * threads out of accept() and futex waits at shutdown. */
#include "ac_config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fcgi_app.h"
#include "log.h"
#include "pump.h"
#include "queue.h"
#include "sse.h"
#include "stream_cgi.h"
#include "stream_feed.h"
#include "stream_req.h"
#include "util.h"

#define STREAM_ACCEPT_THREADS 4
#define STREAM_QUEUE_RETRY_US 1000000   /* between queue_open attempts */
#define STREAM_JOIN_US        400000    /* accept threads, at exit */

struct stream_app {
    struct fcgi_app_opts opts;
    pthread_rwlock_t cfg_lock;          /* cfg: read by accept threads */
    struct config cfg;
    struct pump *pump;
    int listen_fd;
    pthread_t threads[STREAM_ACCEPT_THREADS];
    int nthreads;
    atomic_bool stopping;
    pthread_mutex_t q_mu;               /* opening the queue */
    _Atomic(struct queue *) q;
    uint64_t q_retry_us;
};

/* Per accept thread: its libfcgi request and a record buffer. */
struct stream_worker {
    struct stream_app *app;
    FCGX_Request req;
    char *rbuf;
    size_t rcap;
};

static void stream_on_usr1(int sig)
{
    (void)sig;
}

/* FCGX_GetParam in the shape stream_req_parse wants. */
static const char *stream_getparam(const char *name, void *envp)
{
    return FCGX_GetParam(name, envp);
}

/* The queue, opening it if it is not yet (at most once a second); NULL
 * while it cannot be opened. Call with cfg_lock held. */
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
        if (queue_open(a->cfg.queue_path, &q) == 0) {
            atomic_store(&a->q, q);
            pump_set_queue(a->pump, q);
        } else {
            log_error("%s", queue_error());
            q = NULL;
        }
    }
    pthread_mutex_unlock(&a->q_mu);
    return q;
}

/* Answers status with a one-line reason through libfcgi and finishes the
 * request (END_REQUEST, close). */
static void stream_reject(struct stream_worker *w, int status,
                          const char *reason, const char *cors)
{
    char out[1024];
    unsigned retry_s = (w->app->cfg.retry_ms + 999) / 1000;
    size_t n = stream_req_error(out, sizeof(out), status, reason, retry_s,
                                cors);

    if (status >= 500)
        log_warn("%d: %s", status, reason);
    FCGX_PutStr(out, (int)n, w->req.out);
}

/* Reads and discards the request body up to its end (nginx sends an empty
 * STDIN record for GET), so the pump starts at a record boundary. */
static void stream_drain_stdin(FCGX_Request *req)
{
    char buf[4096];

    while (FCGX_GetStr(buf, sizeof(buf), req->in) > 0)
        ;
}

/* Checks everything but the request itself; 0 or a status with reason. */
static int stream_admit(struct stream_worker *w, struct queue **q,
                        const char **reason)
{
    struct stream_app *a = w->app;

    if (atomic_load(&a->stopping)) {
        *reason = "shutting down";
        return 503;
    }
    *q = stream_queue(a);
    if (*q == NULL) {
        *reason = "queue unavailable";
        return 503;
    }
    if (pump_streams(a->pump) >= a->cfg.max_subscribers) {
        *reason = "too many streams in this process";
        return 503;
    }
    if (w->rcap < stream_feed_bufsize(*q)) {
        free(w->rbuf);
        w->rcap = stream_feed_bufsize(*q);
        w->rbuf = malloc(w->rcap);
        if (w->rbuf == NULL) {
            w->rcap = 0;
            *reason = "out of memory";
            return 503;
        }
    }
    return 0;
}

/* Builds the stream for the accepted request c->req: head, start plan.
 * Call with cfg_lock held. 0 or a status with reason. */
static int stream_prepare(struct stream_worker *w, struct pump_conn *c,
                          const char *cors, const char **reason)
{
    struct stream_app *a = w->app;
    struct queue *q;
    char head[1024];
    size_t n;
    int status;

    status = stream_req_parse(&c->req, &a->cfg, stream_getparam,
                              w->req.envp, reason);
    if (status == 0)
        status = stream_admit(w, &q, reason);
    if (status != 0)
        return status;
    n = stream_req_head(head, sizeof(head) - 32, cors);
    if (c->req.head) {
        FCGX_PutStr(head, (int)n, w->req.out);
        return 0;
    }
    n += sse_encode_retry(head + n, a->cfg.retry_ms);
    c->head = stream_out_buf_copy(head, n);
    if (c->head == NULL) {
        *reason = "out of memory";
        return 503;
    }
    stream_feed_plan(q, &c->req, w->rbuf, w->rcap, &c->plan);
    return 0;
}

/* Serves one accepted request: an error or HEAD through libfcgi, or a
 * stream detached from libfcgi and handed to the pump. */
static void stream_handle(struct stream_worker *w)
{
    struct stream_app *a = w->app;
    struct pump_conn *c = calloc(1, sizeof(*c));
    const char *reason = "out of memory", *cors;
    int status = 503;

    pthread_rwlock_rdlock(&a->cfg_lock);
    cors = config_cors_allow(&a->cfg,
                             FCGX_GetParam("HTTP_ORIGIN", w->req.envp));
    if (c != NULL)
        status = stream_prepare(w, c, cors, &reason);
    if (status != 0)
        stream_reject(w, status, reason, cors);
    pthread_rwlock_unlock(&a->cfg_lock);
    if (status != 0 || c->head == NULL) {
        FCGX_Finish_r(&w->req);
        free(c);
        return;
    }
    stream_drain_stdin(&w->req);
    c->fd = w->req.ipcFd;
    c->request_id = (unsigned)w->req.requestId;
    FCGX_Free(&w->req, 0);          /* streams and params; not the fd */
    w->req.ipcFd = -1;              /* the next accept must not touch it */
    pump_submit(a->pump, c);
}

/* Accept thread: FCGX_Accept_r until shutdown. */
static void *stream_accept_main(void *arg)
{
    struct stream_worker *w = arg;
    struct stream_app *a = w->app;
    sigset_t usr1;

    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    FCGX_InitRequest(&w->req, a->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
    while (!atomic_load(&a->stopping)) {
        int rc = FCGX_Accept_r(&w->req);

        if (rc < 0) {
            struct timespec ts = { 0, 100000000 };

            if (atomic_load(&a->stopping))
                break;
            if (rc != -EINTR) {
                log_error("FCGX_Accept_r: %s", strerror(-rc));
                nanosleep(&ts, NULL);
            }
            continue;
        }
        stream_handle(w);
    }
    FCGX_Finish_r(&w->req);
    free(w->rbuf);
    free(w);
    return NULL;
}

/* The pump's settings from cfg. */
static void stream_settings(const struct config *cfg,
                            struct pump_settings *set)
{
    set->heartbeat = cfg->heartbeat;
    set->client_buffer = cfg->client_buffer;
    set->coalesce_us = cfg->coalesce_us;
}

/* SIGTERM (pump thread): stop accepting. */
static void stream_on_term(void *ctx)
{
    struct stream_app *a = ctx;
    int i;

    atomic_store(&a->stopping, true);
    FCGX_ShutdownPending();
    for (i = 0; i < a->nthreads; i++)
        pthread_kill(a->threads[i], SIGUSR1);
}

/* SIGHUP (pump thread): re-reads the config; keeps the old one if the
 * new one is bad. The queue path needs a restart. */
static void stream_on_hup(void *ctx, struct pump *p)
{
    struct stream_app *a = ctx;
    const char *path = config_path(a->opts.config_path);
    struct config nc, old;
    struct pump_settings set;
    char err[512];

    if (config_load(&nc, path, true, err, sizeof(err)) < 0) {
        log_error("reload: %s (keeping the running config)", err);
        config_free(&nc);
        return;
    }
    if (strcmp(nc.queue_path, a->cfg.queue_path) != 0)
        log_warn("reload: queue.path changed: restart to use it");
    pthread_rwlock_wrlock(&a->cfg_lock);
    old = a->cfg;
    a->cfg = nc;
    pthread_rwlock_unlock(&a->cfg_lock);
    config_free(&old);
    log_set_level(a->cfg.log_level);
    stream_settings(&a->cfg, &set);
    pump_configure(p, &set);
    log_info("reloaded %s", path);
}

/* Starts the accept threads. 0 or -errno. */
static int stream_start_accept(struct stream_app *a)
{
    int i, rc;

    for (i = 0; i < STREAM_ACCEPT_THREADS; i++) {
        struct stream_worker *w = calloc(1, sizeof(*w));

        if (w == NULL)
            return -ENOMEM;
        w->app = a;
        rc = pthread_create(&a->threads[i], NULL, stream_accept_main, w);
        if (rc != 0) {
            free(w);
            log_error("pthread_create: %s", strerror(rc));
            return -rc;
        }
        a->nthreads++;
    }
    return 0;
}

/* Joins the accept threads, poking them out of accept(); gives up on a
 * thread stuck longer than STREAM_JOIN_US (exit closes it anyway). */
static void stream_join_accept(struct stream_app *a)
{
    uint64_t end = util_mono_us() + STREAM_JOIN_US;
    int i;

    for (i = 0; i < a->nthreads; i++) {
        for (;;) {
            struct timespec ts;

            pthread_kill(a->threads[i], SIGUSR1);
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 20000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            if (pthread_timedjoin_np(a->threads[i], NULL, &ts) == 0)
                break;
            if (util_mono_us() >= end) {
                pthread_detach(a->threads[i]);
                break;
            }
        }
    }
}

/* Blocks the signals the pump reads (and SIGUSR1, which only the threads
 * that wait in accept()/futex take) and installs the SIGUSR1 no-op. */
static void stream_signals(void)
{
    struct sigaction sa = { .sa_handler = stream_on_usr1 };
    sigset_t set;

    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);     /* no SA_RESTART: EINTR */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* The FastCGI server: pump in this thread, accept threads around it. */
static int stream_serve(struct stream_app *a)
{
    struct pump_hooks hooks = {
        .on_term = stream_on_term, .on_hup = stream_on_hup, .ctx = a,
    };
    struct pump_settings set;
    struct queue *q;
    int rc;

    stream_signals();
    stream_settings(&a->cfg, &set);
    rc = pump_create(&set, &a->pump);
    if (rc < 0)
        return 1;
    pthread_rwlock_rdlock(&a->cfg_lock);
    stream_queue(a);
    pthread_rwlock_unlock(&a->cfg_lock);
    rc = stream_start_accept(a);
    if (rc == 0)
        rc = pump_run(a->pump, &hooks);
    stream_on_term(a);
    stream_join_accept(a);
    pump_destroy(a->pump);
    q = atomic_load(&a->q);
    if (q != NULL)
        queue_close(q);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    static struct stream_app app;
    bool is_cgi;
    long nofile;
    int rc;

    fcgi_app_parse_args(argc, argv,
        "Streams sseq queue messages as Server-Sent Events (FastCGI).",
        &app.opts);
    fcgi_app_load_config("sseq-stream", app.opts.config_path, &app.cfg);
    pthread_rwlock_init(&app.cfg_lock, NULL);
    pthread_mutex_init(&app.q_mu, NULL);
    nofile = util_raise_nofile();
    if (nofile < 0)
        log_warn("RLIMIT_NOFILE: %s", strerror((int)-nofile));
    app.listen_fd = fcgi_app_listen(app.opts.listen, &is_cgi);
    if (app.listen_fd < 0)
        return 1;
    if (is_cgi)
        rc = stream_cgi_run(&app.cfg);
    else
        rc = stream_serve(&app);
    config_free(&app.cfg);
    return rc;
}
