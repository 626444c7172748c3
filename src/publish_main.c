/* publish_main.c -- sseq-publish: the HTTP publish handler.
 *
 * POST /publish/NAME or POST /publish?channel=NAME appends the body's
 * message to the shared-memory queue and answers 202 with its id as JSON.
 * Runs as a FastCGI responder (listening socket on fd 0 from spawn-fcgi or
 * systemd, or --listen) with PUBLISH_THREADS threads accepting on it, or as
 * a plain CGI program (one request, CGI variables, body on stdin).
 *
 * Every refusal gets its status, a one-line reason naming the culprit, one
 * log line (status, reason, channel, remote address; never a token), and
 * writes nothing to the queue. Bodies are read fully before anything is
 * appended, bounded by the announced length, a limit derived from
 * max_message_size, and an inactivity timeout (SO_RCVTIMEO / poll). */
#include <errno.h>
#include <fcgiapp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "auth.h"
#include "cluster_redis.h"
#include "config.h"
#include "fcgi_app.h"
#include "http_status.h"
#include "log.h"
#include "publish_body.h"
#include "query.h"
#include "queue.h"
#include "sse.h"
#include "util.h"

#define PUBLISH_THREADS       4         /* accepting threads per process */
#define PUBLISH_TIMEOUT_S     5         /* body read inactivity timeout */
#define PUBLISH_DRAIN_MAX     (16u << 20)   /* body discarded before a 413 */
#define PUBLISH_CHANNEL_MAX   255       /* queue's limit */
#define PUBLISH_STOP_WAIT_S   10        /* SIGTERM: wait for requests */
#define PUBLISH_ALLOW         "Allow: POST, OPTIONS\r\n"

/* How one request is read and answered: FastCGI or CGI. */
struct publish_io {
    const char *(*param)(struct publish_io *io, const char *name);
    /* Reads up to n bytes: > 0 bytes, 0 at the end, -ETIMEDOUT, -errno. */
    long (*read)(struct publish_io *io, char *buf, size_t n);
    void (*write)(struct publish_io *io, const char *buf, size_t n);
    FCGX_Request *req;          /* FastCGI request, NULL in CGI mode */
};

/* One request being answered. */
struct publish_req {
    struct publish_io *io;
    const char *remote;         /* REMOTE_ADDR or "-" */
    const char *query;          /* QUERY_STRING or "" */
    char cors[512];             /* CORS header lines, or "" */
    char channel[PUBLISH_CHANNEL_MAX + 1];   /* NUL-terminated once valid */
    char *body;                 /* malloc'd request body */
    size_t body_len;
    char *scratch;              /* malloc'd, decoded data/event */
    enum publish_body_type type;
};

/* The process: config, queue (opened lazily), stats slot, shutdown. */
static struct {
    struct config cfg;
    pthread_mutex_t lock;       /* queue opening, busy count */
    pthread_cond_t idle;        /* busy dropped to 0 */
    unsigned busy;              /* requests being handled */
    struct queue *q;            /* NULL until it opens */
    int slot;                   /* queue_proc_claim slot, -1 */
    atomic_uint_fast64_t published, bytes, requests;
} publish;

static void publish_refuse(struct publish_req *r, int status,
                           const char *extra, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copies src[0..len) into dst (cap) for a reason or log line: printable
 * ASCII as is, other bytes as \xNN, cut to 64 input bytes with "...". */
static const char *publish_quote(char *dst, size_t cap, const char *src,
                                 size_t len)
{
    size_t i, o = 0;

    for (i = 0; i < len && i < 64 && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)src[i];

        if (c >= 0x20 && c < 0x7f && c != '\\')
            dst[o++] = (char)c;
        else
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
    }
    if (i < len && o + 4 < cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

/* Sends a refusal: status, CORS and extra headers, the reason as body;
 * logs it with the channel and remote address. */
static void publish_refuse(struct publish_req *r, int status,
                           const char *extra, const char *fmt, ...)
{
    char reason[HTTP_STATUS_REASON_MAX], headers[HTTP_STATUS_EXTRA_MAX];
    char resp[HTTP_STATUS_RESPONSE_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    snprintf(headers, sizeof(headers), "%s%s", r->cors, extra ? extra : "");
    log_msg(status >= 500 ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO,
            "refused %d: %s; channel=%s remote=%s", status, reason,
            r->channel[0] ? r->channel : "-", r->remote);
    n = http_status_format(resp, sizeof(resp), status, headers, reason);
    if (n > 0)
        r->io->write(r->io, resp, (size_t)n);
}

/* ---- FastCGI and CGI I/O ---- */

static const char *publish_fcgi_param(struct publish_io *io,
                                      const char *name)
{
    return FCGX_GetParam(name, io->req->envp);
}

static long publish_fcgi_read(struct publish_io *io, char *buf, size_t n)
{
    int got, err;

    if (n > (1u << 30))
        n = 1u << 30;
    got = FCGX_GetStr(buf, (int)n, io->req->in);
    if (got > 0)
        return got;
    err = FCGX_GetError(io->req->in);
    if (err == 0)
        return 0;
    if (err == EAGAIN || err == EWOULDBLOCK)
        return -ETIMEDOUT;
    return err > 0 ? -err : -EPIPE;
}

static void publish_fcgi_write(struct publish_io *io, const char *buf,
                               size_t n)
{
    FCGX_PutStr(buf, (int)n, io->req->out);
}

static const char *publish_cgi_param(struct publish_io *io, const char *name)
{
    return getenv(name);
}

/* Reads stdin, waiting at most PUBLISH_TIMEOUT_S for each chunk. */
static long publish_cgi_read(struct publish_io *io, char *buf, size_t n)
{
    struct pollfd pfd = { .fd = 0, .events = POLLIN };
    ssize_t got;
    int rc;

    do
        rc = poll(&pfd, 1, PUBLISH_TIMEOUT_S * 1000);
    while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return -ETIMEDOUT;
    if (rc < 0)
        return -errno;
    do
        got = read(0, buf, n);
    while (got < 0 && errno == EINTR);
    return got < 0 ? -errno : got;
}

static void publish_cgi_write(struct publish_io *io, const char *buf,
                              size_t n)
{
    while (n > 0) {
        ssize_t w = write(1, buf, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        buf += w;
        n -= (size_t)w;
    }
}

/* ---- the steps of a request ---- */

/* Sets r->cors from Origin and cors_origins. */
static void publish_cors(struct publish_req *r)
{
    const char *origin = r->io->param(r->io, "HTTP_ORIGIN");
    const char *allow;

    r->cors[0] = '\0';
    if (origin == NULL || origin[0] == '\0')
        return;
    allow = config_cors_allow(&publish.cfg, origin);
    if (allow != NULL && strlen(allow) < 256)
        snprintf(r->cors, sizeof(r->cors),
                 "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n",
                 allow);
}

/* OPTIONS: the CORS preflight (and a plain Allow answer). */
static void publish_preflight(struct publish_req *r)
{
    char resp[1024];
    int n;

    n = snprintf(resp, sizeof(resp),
                 "Status: 204 No Content\r\n" PUBLISH_ALLOW "%s%s\r\n",
                 r->cors, r->cors[0] == '\0' ? "" :
                 "Access-Control-Allow-Methods: POST, OPTIONS\r\n"
                 "Access-Control-Allow-Headers: Authorization, "
                 "Content-Type\r\n"
                 "Access-Control-Max-Age: 86400\r\n");
    if (n > 0 && (size_t)n < sizeof(resp))
        r->io->write(r->io, resp, (size_t)n);
}

/* Percent-decodes the query parameter key into dst (cap); 1 if found, 0
 * if absent, -EINVAL (bad escape) or -ENAMETOOLONG. */
static int publish_query_get(struct publish_req *r, const char *key,
                             char *dst, size_t cap, size_t *len)
{
    const char *val;
    size_t vlen;
    long n;

    if (!query_find(r->query, strlen(r->query), key, &val, &vlen))
        return 0;
    if (vlen >= cap)
        return -ENAMETOOLONG;
    n = util_url_decode(dst, val, vlen, true);
    if (n < 0)
        return -EINVAL;
    dst[n] = '\0';
    *len = (size_t)n;
    return 1;
}

/* Finds and validates the channel (PATH_INFO "/NAME" or ?channel=). */
static int publish_channel(struct publish_req *r)
{
    const char *path = r->io->param(r->io, "PATH_INFO");
    char q[3 * PUBLISH_CHANNEL_MAX + 1], quoted[300];
    const char *name = NULL;
    size_t len = 0, qlen = 0;
    int rc;

    if (path != NULL && path[0] == '/' && path[1] != '\0') {
        name = path + 1;
        len = strlen(name);
    }
    rc = publish_query_get(r, "channel", q, sizeof(q), &qlen);
    if (rc < 0) {
        publish_refuse(r, 400, NULL, "bad channel name: %s",
                       rc == -EINVAL ? "bad percent escape in ?channel="
                                     : "too long");
        return -EINVAL;
    }
    if (rc > 0 && name != NULL && (qlen != len || memcmp(q, name, len))) {
        publish_refuse(r, 400, NULL, "two channels given: \"%s\" in the "
                       "path and \"%s\" in ?channel=",
                       publish_quote(quoted, 150, name, len),
                       publish_quote(quoted + 150, 150, q, qlen));
        return -EINVAL;
    }
    if (name == NULL && rc > 0) {
        name = q;
        len = qlen;
    }
    if (name == NULL || len == 0) {
        publish_refuse(r, 400, NULL, "no channel: POST /publish/NAME or "
                       "/publish?channel=NAME");
        return -EINVAL;
    }
    if (len > PUBLISH_CHANNEL_MAX || memchr(name, '\0', len) != NULL ||
        !config_channel_valid(&publish.cfg, name, len)) {
        publish_refuse(r, 400, NULL, "bad channel name \"%s\": must match "
                       "%s", publish_quote(quoted, sizeof(quoted), name, len),
                       publish.cfg.channel_pattern);
        return -EINVAL;
    }
    memcpy(r->channel, name, len);
    r->channel[len] = '\0';
    return 0;
}

/* Checks Authorization for the channel. */
static int publish_auth(struct publish_req *r)
{
    enum auth_result a;
    int status;

    a = auth_check(&publish.cfg, r->io->param(r->io, "HTTP_AUTHORIZATION"),
                   r->channel);
    status = auth_status(a);
    if (status == 0)
        return 0;
    publish_refuse(r, status,
                   status == 401 ? "WWW-Authenticate: Bearer realm=\"sseq\""
                                   "\r\n" : NULL,
                   "%s (channel %s)", auth_reason(a), r->channel);
    return -EACCES;
}

/* Reads and discards up to PUBLISH_DRAIN_MAX body bytes (FastCGI only), so
 * the server is not cut off while still sending a refused body. */
static void publish_drain(struct publish_req *r)
{
    char buf[16384];
    size_t total = 0;
    long n;

    if (r->io->req == NULL)
        return;
    while (total < PUBLISH_DRAIN_MAX &&
           (n = r->io->read(r->io, buf, sizeof(buf))) > 0)
        total += (size_t)n;
}

/* Reads up to want bytes into buf; returns the count read (short at the
 * end of the body) or -errno with *got set. */
static long publish_read_all(struct publish_req *r, char *buf, size_t want,
                             size_t *got)
{
    long n;

    *got = 0;
    while (*got < want) {
        n = r->io->read(r->io, buf + *got, want - *got);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return (long)*got;
}

/* Reads the whole body into r->body, bounded by CONTENT_LENGTH and the
 * type's limit. Refuses 400 (bad length, short, stalled) or 413. */
static int publish_read_body(struct publish_req *r)
{
    const char *cl = r->io->param(r->io, "CONTENT_LENGTH");
    size_t limit = publish_body_limit(r->type, publish.cfg.max_message_size);
    uint64_t announced = 0;
    bool known = cl != NULL && cl[0] != '\0';
    size_t want, got;
    long rc;

    if (known && util_parse_u64(cl, strlen(cl), &announced) < 0) {
        publish_refuse(r, 400, NULL, "bad Content-Length \"%.20s\"", cl);
        return -EINVAL;
    }
    if (known && announced > limit) {
        publish_drain(r);
        publish_refuse(r, 413, NULL, "body of %llu bytes is over the limit "
                       "of %zu bytes (max_message_size %zu)",
                       (unsigned long long)announced, limit,
                       publish.cfg.max_message_size);
        return -EMSGSIZE;
    }
    want = known ? (size_t)announced : limit;
    /* One byte more than expected shows a body longer than announced
     * (FastCGI ends the body with an empty record; CGI stdin may not). */
    if (r->io->req != NULL || !known)
        want++;
    r->body = malloc(want + 1);
    r->scratch = malloc(want + 1);
    if (r->body == NULL || r->scratch == NULL) {
        publish_refuse(r, 503, NULL, "out of memory for a %zu-byte body",
                       want);
        return -ENOMEM;
    }
    rc = publish_read_all(r, r->body, want, &got);
    if (rc == -ETIMEDOUT) {
        publish_refuse(r, 400, NULL, "request body timed out after %d s "
                       "(got %zu of %llu bytes)", PUBLISH_TIMEOUT_S, got,
                       (unsigned long long)announced);
        return -ETIMEDOUT;
    }
    if (rc < 0 || (known && got < announced)) {
        publish_refuse(r, 400, NULL, "request body cut short (got %zu of "
                       "%llu bytes)", got, (unsigned long long)announced);
        return -EPIPE;
    }
    if ((known && got > announced) || got > limit) {
        publish_drain(r);
        publish_refuse(r, 413, NULL, known ?
                       "body longer than its Content-Length %llu" :
                       "body over the limit of %llu bytes",
                       (unsigned long long)(known ? announced : limit));
        return -EMSGSIZE;
    }
    r->body_len = got;
    return 0;
}

/* Picks the event: from the body, else ?event=; validates it. NULL/0 =
 * none. */
static int publish_event(struct publish_req *r, struct publish_body *b,
                         char *qbuf, size_t qcap)
{
    char quoted[300];
    size_t len = 0;
    int rc;

    if (b->event == NULL || b->event_len == 0) {
        rc = publish_query_get(r, "event", qbuf, qcap, &len);
        if (rc < 0) {
            publish_refuse(r, 400, NULL, "bad event name: %s",
                           rc == -EINVAL ? "bad percent escape in ?event="
                                         : "too long");
            return -EINVAL;
        }
        b->event = rc > 0 && len > 0 ? qbuf : NULL;
        b->event_len = b->event ? len : 0;
    }
    if (b->event == NULL || b->event_len == 0)
        return 0;
    if (sse_validate_field(b->event, b->event_len) < 0) {
        publish_refuse(r, 400, NULL, "bad event name \"%s\": 1 to %d bytes "
                       "of UTF-8 without CR, LF or NUL",
                       publish_quote(quoted, sizeof(quoted), b->event,
                                     b->event_len), SSE_EVENT_MAX);
        return -EINVAL;
    }
    return 0;
}

/* The queue, opened on first use (so a queue created after start-up is
 * found); NULL with *err set if it cannot be opened. */
static struct queue *publish_queue(int *err)
{
    struct queue *q;
    int rc;

    pthread_mutex_lock(&publish.lock);
    q = publish.q;
    if (q == NULL) {
        rc = queue_open(publish.cfg.queue_path, &publish.q);
        if (rc < 0) {
            *err = -rc;
            log_error("queue_open %s: %s (errno %d: %s)",
                      publish.cfg.queue_path, queue_error(), -rc,
                      strerror(-rc));
        } else {
            q = publish.q;
            publish.slot = queue_proc_claim(q, "publish");
        }
    }
    pthread_mutex_unlock(&publish.lock);
    return q;
}

/* Publishes this process's counters into its queue slot. */
static void publish_stats(struct queue *q, size_t data_len)
{
    struct queue_proc_counters c = { 0 };

    c.events = atomic_fetch_add(&publish.published, 1) + 1;
    c.bytes = atomic_fetch_add(&publish.bytes, data_len) + data_len;
    c.streams_total = atomic_load(&publish.requests);
    if (publish.slot >= 0)
        queue_proc_update(q, publish.slot, &c);
}

/* Writes s as a JSON string body (channel names are short). */
static size_t publish_json_str(char *dst, size_t cap, const char *s)
{
    size_t o = 0;

    for (; *s != '\0' && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            o += (size_t)snprintf(dst + o, cap - o, "\\%c", c);
        else if (c < 0x20)
            o += (size_t)snprintf(dst + o, cap - o, "\\u%04x", c);
        else
            dst[o++] = (char)c;
    }
    dst[o] = '\0';
    return o;
}

/* Appends the message and answers 202, or refuses 413/503. */
static void publish_append(struct publish_req *r, const struct publish_body *b)
{
    struct queue_msg m = {
        r->channel, strlen(r->channel), b->event, b->event_len,
        b->data, b->data_len,
    };
    char resp[2048], body[8 * PUBLISH_CHANNEL_MAX + 64];
    char chan[6 * PUBLISH_CHANNEL_MAX + 8];
    struct queue *q;
    uint64_t id;
    int err = 0, rc, n, blen;

    q = publish_queue(&err);
    if (q == NULL) {
        publish_refuse(r, 503, NULL, "queue %s unavailable: %s",
                       publish.cfg.queue_path, strerror(err));
        return;
    }
    if (cluster_enabled(&publish.cfg)) {
        rc = cluster_publish(&publish.cfg, q, &m,
                             r->io->param(r->io, "HTTP_IDEMPOTENCY_KEY"), &id);
        if (rc < 0 && rc != -EMSGSIZE) {
            publish_refuse(r, 503, "Retry-After: 1\r\n", "cluster: %s",
                           cluster_error());
            return;
        }
    } else
        rc = queue_append(q, &m, &id);
    if (rc == -EMSGSIZE) {
        publish_refuse(r, 413, NULL, "message of %zu bytes does not fit in "
                       "the queue (at most %zu)", b->data_len,
                       queue_max_payload(q));
        return;
    }
    if (rc < 0) {
        log_error("queue_append %s: errno %d: %s", publish.cfg.queue_path,
                  -rc, strerror(-rc));
        publish_refuse(r, 503, NULL, "queue %s unusable: %s",
                       publish.cfg.queue_path, strerror(-rc));
        return;
    }
    publish_stats(q, b->data_len);
    publish_json_str(chan, sizeof(chan), r->channel);
    blen = snprintf(body, sizeof(body), "{\"id\":\"%llu\",\"channel\":"
                    "\"%s\"}", (unsigned long long)id, chan);
    n = snprintf(resp, sizeof(resp), "Status: 202 Accepted\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %d\r\n"
                 "Cache-Control: no-store\r\n%s\r\n%s",
                 blen, r->cors, body);
    if (n > 0 && (size_t)n < sizeof(resp))
        r->io->write(r->io, resp, (size_t)n);
    log_debug("published id=%llu channel=%s bytes=%zu remote=%s",
              (unsigned long long)id, r->channel, b->data_len, r->remote);
}

/* Parses the body, checks event and size, appends. */
static void publish_message(struct publish_req *r)
{
    char qevent[3 * SSE_EVENT_MAX + 1];
    struct publish_body b;

    if (publish_body_parse(r->type, r->body, r->body_len, r->scratch,
                           &b) < 0) {
        publish_refuse(r, 400, NULL, "%s", b.why);
        return;
    }
    if (publish_event(r, &b, qevent, sizeof(qevent)) < 0)
        return;
    if (b.data_len > publish.cfg.max_message_size) {
        publish_refuse(r, 413, NULL, "data of %zu bytes is over "
                       "max_message_size %zu", b.data_len,
                       publish.cfg.max_message_size);
        return;
    }
    publish_append(r, &b);
}

/* Answers one request, whatever the outcome. */
static void publish_handle(struct publish_io *io)
{
    struct publish_req r = { .io = io };
    const char *method = io->param(io, "REQUEST_METHOD");
    char why[PUBLISH_BODY_WHY_MAX], quoted[100];
    int type;

    atomic_fetch_add(&publish.requests, 1);
    r.remote = io->param(io, "REMOTE_ADDR");
    r.remote = r.remote ? r.remote : "-";
    r.query = io->param(io, "QUERY_STRING");
    r.query = r.query ? r.query : "";
    method = method ? method : "";
    publish_cors(&r);
    if (strcmp(method, "OPTIONS") == 0) {
        publish_preflight(&r);
        return;
    }
    if (strcmp(method, "POST") != 0) {
        publish_refuse(&r, 405, PUBLISH_ALLOW, "method \"%s\" not allowed: "
                       "use POST", publish_quote(quoted, sizeof(quoted),
                                                 method, strlen(method)));
        return;
    }
    if (publish_channel(&r) < 0 || publish_auth(&r) < 0)
        return;
    type = publish_body_type(io->param(io, "CONTENT_TYPE"), why, sizeof(why));
    if (type < 0) {
        publish_drain(&r);
        publish_refuse(&r, 415, NULL, "%s", why);
        return;
    }
    r.type = (enum publish_body_type)type;
    if (publish_read_body(&r) == 0)
        publish_message(&r);
    free(r.body);
    free(r.scratch);
}

/* ---- process: FastCGI threads or one CGI request ---- */

/* Marks a request in progress (+1) or done (-1). */
static void publish_busy(int delta)
{
    pthread_mutex_lock(&publish.lock);
    publish.busy += (unsigned)delta;
    if (publish.busy == 0)
        pthread_cond_broadcast(&publish.idle);
    pthread_mutex_unlock(&publish.lock);
}

/* Accepts and answers FastCGI requests until accepting fails. */
static void *publish_worker(void *arg)
{
    struct timeval tv = { PUBLISH_TIMEOUT_S, 0 };
    struct publish_io io = {
        publish_fcgi_param, publish_fcgi_read, publish_fcgi_write, NULL,
    };
    FCGX_Request req;
    int fd = (int)(intptr_t)arg, rc;

    if (FCGX_InitRequest(&req, fd, 0) != 0) {
        log_error("FCGX_InitRequest failed");
        return NULL;
    }
    io.req = &req;
    while ((rc = FCGX_Accept_r(&req)) >= 0) {
        publish_busy(1);
        /* Bound every body read (the connection's, not the listener's). */
        setsockopt(req.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        publish_handle(&io);
        FCGX_Finish_r(&req);
        publish_busy(-1);
    }
    log_error("FCGX_Accept_r on fd %d: %s", fd,
              rc > -1000 ? strerror(-rc) : "libfcgi error");
    kill(getpid(), SIGTERM);
    return NULL;
}

/* Waits (bounded) for requests in progress to finish. */
static void publish_wait_idle(void)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += PUBLISH_STOP_WAIT_S;
    pthread_mutex_lock(&publish.lock);
    while (publish.busy > 0 &&
           pthread_cond_timedwait(&publish.idle, &publish.lock, &until) == 0)
        ;
    pthread_mutex_unlock(&publish.lock);
}

/* Runs the accepting threads; returns on SIGTERM/SIGINT once the requests
 * in progress are answered. */
static int publish_serve(int fd, const sigset_t *stop)
{
    pthread_t t;
    int i, sig, rc;

    for (i = 0; i < PUBLISH_THREADS; i++) {
        rc = pthread_create(&t, NULL, publish_worker, (void *)(intptr_t)fd);
        if (rc != 0) {
            log_error("pthread_create: %s", strerror(rc));
            return -rc;
        }
        pthread_detach(t);
    }
    log_info("serving FastCGI on fd %d with %d threads, queue %s", fd,
             PUBLISH_THREADS, publish.cfg.queue_path);
    sigwait(stop, &sig);
    log_info("signal %d: finishing requests in progress", sig);
    publish_wait_idle();
    return 0;
}

/* CGI mode: one request from the environment and stdin. */
static int publish_cgi(void)
{
    struct publish_io io = {
        publish_cgi_param, publish_cgi_read, publish_cgi_write, NULL,
    };

    publish_handle(&io);
    return 0;
}

int main(int argc, char **argv)
{
    struct fcgi_app_opts opts = { 0 };
    sigset_t stop;
    bool is_cgi = false;
    int fd, rc;

    fcgi_app_parse_args(argc, argv, "sseq-publish: publishes POSTed "
                        "messages to the sseq queue (FastCGI or CGI)", &opts);
    fcgi_app_load_config("sseq-publish", opts.config_path, &publish.cfg);
    pthread_mutex_init(&publish.lock, NULL);
    pthread_cond_init(&publish.idle, NULL);
    publish.slot = -1;
    /* Every thread blocks these; main takes them with sigwait. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    fd = fcgi_app_listen(opts.listen, &is_cgi);
    if (fd < 0)
        return 1;
    rc = is_cgi ? publish_cgi() : publish_serve(fd, &stop);
    if (publish.q != NULL) {
        if (publish.slot >= 0)
            queue_proc_release(publish.q, publish.slot);
        queue_close(publish.q);
    }
    config_free(&publish.cfg);
    return rc < 0 ? 1 : 0;
}
