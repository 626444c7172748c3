/* publish_req.c -- the publish request (see publish_req.h): method,
 * channel, token, content type, body checks, parse, append, answer; on
 * the hub's path: content type, body checks, form, publisher token,
 * append, answer. */
#include "ac_config.h"

#include "publish/publish_req.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "publish/auth.h"
#include "cluster/cluster_redis.h"
#include "proto/http_status.h"
#include "runtime/http_cors.h"
#include "runtime/queue_lazy.h"
#include "base/log.h"
#include "mercure/mercure_form.h"
#include "mercure/mercure_hub.h"
#include "mercure/mercure_prm.h"
#include "publish/publish_body.h"
#include "base/query.h"
#include "publish/publish_lag.h"
#include "queue/queue_access.h"
#include "queue/queue_msg.h"
#include "proto/sse.h"
#include "base/util.h"

#define PUBLISH_CHANNEL_MAX   QUEUE_MSG_CHANNEL_MAX   /* /events names */
#define PUBLISH_ALLOW         "Allow: POST, OPTIONS\r\n"
#define PUBLISH_CHALLENGE     "WWW-Authenticate: Bearer realm=\"sseq\"\r\n"
#define PUBLISH_SELECTOR_CACHE 1024     /* (selector, topic) results */
#define PUBLISH_LAG_RECHECK_US 1000     /* backpressure looked at anew */

/* One request being answered. */
struct publish_req {
    struct publish_app *app;
    struct publish_io *io;
    const char *remote;         /* REMOTE_ADDR or "-" */
    const char *query;          /* QUERY_STRING or "" */
    char cors[512];             /* CORS header lines, or "" */
    char channel[PUBLISH_CHANNEL_MAX + 1];   /* NUL-terminated once valid */
    char *scratch;              /* malloc'd, decoded data/event */
    enum publish_body_type type;
    bool hub;                   /* a Mercure publish (mercure_hub.h) */
    char hub_url[MERCURE_HUB_URL_MAX];  /* the hub's URL (mercure_hub_url) */
    size_t hub_url_len;         /* 0 until known */
    bool logged;                /* the cause of a 503 was logged already:
                                   its refusal line goes at debug level */
};

static void publish_refuse(struct publish_req *r, int status,
                           const char *extra, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static const char *publish_param(struct publish_req *r, const char *name)
{
    return r->io->param(r->io->ctx, name);
}

/* publish_param as a mercure_hub_get_fn (ctx: the publish_req). */
static const char *publish_param_get(const char *name, void *ctx)
{
    return publish_param(ctx, name);
}

/* Writes n bytes of the answer into io->out (cut at its size). */
static void publish_write(struct publish_req *r, const char *buf, size_t n)
{
    struct publish_io *io = r->io;

    if (n > sizeof(io->out) - io->out_len)
        n = sizeof(io->out) - io->out_len;
    memcpy(io->out + io->out_len, buf, n);
    io->out_len += n;
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
    log_msg(r->logged ? LOG_LEVEL_DEBUG : status >= 500 ? LOG_LEVEL_ERROR
            : LOG_LEVEL_INFO, "refused %d: %s; channel=%s remote=%s", status,
            reason,
            r->channel[0] ? r->channel : "-", r->remote);
    n = http_status_format(resp, sizeof(resp), status, headers, reason);
    if (n > 0)
        publish_write(r, resp, (size_t)n);
    publish_app_refused(r->app, status);
}

/* Sets r->cors to the CORS header lines for the request's Origin. */
static void publish_cors(struct publish_req *r)
{
    struct http_cors c;

    http_cors_decide(&r->app->cfg, publish_param(r, "HTTP_ORIGIN"), &c);
    http_cors_format(r->cors, sizeof(r->cors), &c);
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
        publish_write(r, resp, (size_t)n);
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
    const char *path = publish_param(r, "PATH_INFO");
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
                       util_quote(quoted, 150, name, len),
                       util_quote(quoted + 150, 150, q, qlen));
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
        !config_channel_valid(&r->app->cfg, name, len)) {
        publish_refuse(r, 400, NULL, "bad channel name \"%s\": must match "
                       "%s", util_quote(quoted, sizeof(quoted), name, len),
                       r->app->cfg.channel_pattern);
        return -EINVAL;
    }
    memcpy(r->channel, name, len);
    r->channel[len] = '\0';
    return 0;
}

/* The WWW-Authenticate line of a refusal a with status (NULL: none): on
 * the hub with mercure.resource set, Mercure 1.0's challenge (RFC 9728
 * resource_metadata, RFC 6750 error) for a 401 or a token refused; else
 * PUBLISH_CHALLENGE for a 401. */
static const char *publish_challenge(struct publish_req *r,
                                     enum auth_result a, int status,
                                     char *out, size_t cap)
{
    const char *res = r->app->cfg.mercure_resource;
    int k;

    if (!r->hub || res == NULL || res[0] == '\0' ||
        (status != 401 && auth_error(a) == NULL))
        return status == 401 ? PUBLISH_CHALLENGE : NULL;
    k = snprintf(out, cap, "WWW-Authenticate: ");
    if (k < 0 || mercure_prm_challenge(res, auth_error(a), out + k,
                                       cap - (size_t)k - 2) < 0)
        return status == 401 ? PUBLISH_CHALLENGE : NULL;
    strcat(out, "\r\n");
    return out;
}

/* Checks the request's credential for its topics (on /publish: the
 * channel); refuses 400/401/403. */
static int publish_auth(struct publish_req *r, const char *const *topic,
                        const size_t *topic_len, size_t n_topic)
{
    struct publish_app *app = r->app;
    struct auth_pub_request req = {
        .hub = r->hub,
        .authorization = publish_param(r, "HTTP_AUTHORIZATION"),
        .query = r->query, .cookie = publish_param(r, "HTTP_COOKIE"),
        .origin = publish_param(r, "HTTP_ORIGIN"),
        .topic = topic, .topic_len = topic_len, .n_topic = n_topic,
    };
    char challenge[MERCURE_PRM_CHALLENGE_MAX + 32];
    char why[300];
    const char *detail;
    enum auth_result a;
    int status;

    if (r->hub) {
        req.hub_url = r->hub_url;
        req.hub_url_len = r->hub_url_len;
        req.why = why;
        req.why_cap = sizeof(why);
    }
    a = auth_publish(&app->cfg, app->has_pub_key ? &app->pub_key : NULL,
                     app->has_cache ? &app->cache : NULL, &req, time(NULL),
                     &detail);
    status = auth_status(a);
    if (status == 0)
        return 0;
    publish_refuse(r, status, publish_challenge(r, a, status, challenge,
                                                sizeof(challenge)),
                   "%s%s%s (%s %s)", auth_reason(a), detail[0] ? ": " : "",
                   detail, r->hub ? "topic" : "channel", r->channel);
    return -EACCES;
}

/* Checks the request's credential for its channel. */
static int publish_auth_channel(struct publish_req *r)
{
    const char *topic = r->channel;
    size_t len = strlen(r->channel);

    return publish_auth(r, &topic, &len, 1);
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
    if (queue_msg_event_check(b->event, b->event_len) < 0) {
        publish_refuse(r, 400, NULL, "bad event name \"%s\": %s",
                       util_quote(quoted, sizeof(quoted), b->event,
                                  b->event_len),
                       queue_msg_rule(QUEUE_MSG_EVENT));
        return -EINVAL;
    }
    return 0;
}

/* The queue, opened on first use (so a queue created after start-up is
 * found); NULL with *err set if it cannot be opened. */
static struct queue *publish_queue(struct publish_app *app, int *err)
{
    int rc = queue_lazy_open(app->cfg.queue_path, &app->q,
                             &app->q_last_rc);

    if (rc == 0)
        return app->q;
    if (rc < 0) {
        *err = -rc;
        return NULL;
    }
    app->slot = queue_proc_claim(app->q, "publish");
    http_refusals_publish(&app->refused, app->q);
    return app->q;
}

/* Publishes this process's counters into its queue slot. */
static void publish_stats(struct publish_app *app, size_t data_len)
{
    struct queue_proc_counters c = { 0 };

    c.events = ++app->published;
    c.bytes = app->bytes += data_len;
    c.streams_total = app->requests;
    if (app->slot >= 0)
        queue_proc_update(app->q, app->slot, &c);
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

/* A failed append (rc): logged with queue_error() once per change of
 * outcome, answered 503 without naming the queue. */
static void publish_append_failed(struct publish_req *r, int rc)
{
    if (rc != r->app->append_last_rc)
        log_error("queue_append: %s", rc == QUEUE_DAMAGED ||
                  rc == -ETIMEDOUT ? queue_error() : strerror(-rc));
    r->app->append_last_rc = rc;
    r->logged = true;
    publish_refuse(r, 503, "Retry-After: 1\r\n", "%s", rc == QUEUE_DAMAGED ?
                   "queue damaged (the server's log says how to fix it)" :
                   "queue unusable (the server's log says why)");
}

/* The queue's rule for a message (queue_msg.h), the same for every
 * writer: 0, or refuses 400 naming the field and returns -1. */
static int publish_store_valid(struct publish_req *r,
                               const struct queue_msg *m)
{
    struct queue_msg_fault f;
    char why[400];

    if (queue_msg_check(m, &f) == 0)
        return 0;
    publish_refuse(r, 400, NULL, "%s",
                   queue_msg_describe(m, &f, why, sizeof(why)));
    return -1;
}

/* Backpressure (publish_lag.h): 0, or refuses 503 + Retry-After naming
 * the lag and the setting and returns -1 while the slowest fan-out is
 * more than publish.max_lag_ms behind. */
static int publish_lag_ok(struct publish_req *r, const struct queue *q)
{
    unsigned max_ms = r->app->cfg.max_lag_ms;
    uint64_t now = util_mono_us();
    struct publish_lag_dec d;
    char retry[40];

    /* A flood publishes thousands a second: the process table (64 slots
     * other processes write) is read at most once per
     * PUBLISH_LAG_RECHECK_US, against limits of 100 ms and more. */
    if (now - r->app->lag_at_us >= PUBLISH_LAG_RECHECK_US) {
        r->app->lag_dec = publish_lag_check(q, (uint64_t)max_ms * 1000);
        r->app->lag_at_us = now;
    }
    d = r->app->lag_dec;

    if (!d.refuse) {
        if (r->app->lag_refusing)
            log_info("backpressure: the fan-out is within "
                     "publish.max_lag_ms %u again: publishing", max_ms);
        r->app->lag_refusing = false;
        return 0;
    }
    if (!r->app->lag_refusing)
        log_warn("backpressure: the slowest fan-out (sseq-stream pid %d) "
                 "is %llu ms behind, over publish.max_lag_ms %u: refusing "
                 "publishes (503) until it catches up", (int)d.pid,
                 (unsigned long long)(d.lag_us / 1000), max_ms);
    r->app->lag_refusing = true;
    r->logged = true;           /* one line a flood, the refusals at debug */
    snprintf(retry, sizeof(retry), "Retry-After: %u\r\n", d.retry_after_s);
    publish_refuse(r, 503, retry, "subscribers are behind: the slowest "
                   "fan-out (sseq-stream pid %d) is %llu ms behind, over "
                   "publish.max_lag_ms %u; retry after %u s", (int)d.pid,
                   (unsigned long long)(d.lag_us / 1000), max_ms,
                   d.retry_after_s);
    return -1;
}

/* Appends m (to Redis in cluster mode); 0 with *id set, or refuses
 * 400/413/503 and returns -1. */
static int publish_store(struct publish_req *r, const struct queue_msg *m,
                         uint64_t *id)
{
    struct queue *q;
    int err = 0, rc;

    q = publish_queue(r->app, &err);
    if (q == NULL) {
        r->logged = true;       /* queue_access_log_open said why, once */
        publish_refuse(r, 503, "Retry-After: 1\r\n", "%s",
                       -err == QUEUE_DAMAGED ? "queue damaged (the server's "
                       "log says how to fix it)" : "queue unavailable (the "
                       "server's log says why)");
        return -1;
    }
    if (publish_store_valid(r, m) < 0 || publish_lag_ok(r, q) < 0)
        return -1;
    if (cluster_enabled(&r->app->cfg)) {
        rc = cluster_publish(&r->app->cfg, q, m,
                             publish_param(r, "HTTP_IDEMPOTENCY_KEY"), id);
        if (rc < 0 && rc != -EMSGSIZE) {
            r->logged = true;   /* cluster_publish logs state changes */
            publish_refuse(r, 503, "Retry-After: 1\r\n", "cluster: %s",
                           cluster_error());
            return -1;
        }
    } else
        rc = queue_append(q, m, id);
    if (rc == -EMSGSIZE) {
        publish_refuse(r, 413, NULL, "message of %zu bytes does not fit in "
                       "the queue (at most %zu)", m->data_len,
                       queue_max_payload(q));
        return -1;
    }
    if (rc < 0) {
        publish_append_failed(r, rc);
        return -1;
    }
    r->app->append_last_rc = 0;
    publish_stats(r->app, m->data_len);
    return 0;
}

/* Appends the message and answers 202, or refuses 413/503. */
static void publish_append(struct publish_req *r, const struct publish_body *b)
{
    struct queue_msg m = {
        .channel = r->channel, .channel_len = strlen(r->channel),
        .event = b->event, .event_len = b->event_len,
        .data = b->data, .data_len = b->data_len,
        .flags = b->private_ ? QUEUE_MSG_PRIVATE : 0,
    };
    char resp[2048], body[8 * PUBLISH_CHANNEL_MAX + 64];
    char chan[6 * PUBLISH_CHANNEL_MAX + 8];
    uint64_t id;
    int n, blen;

    if (publish_store(r, &m, &id) < 0)
        return;
    publish_json_str(chan, sizeof(chan), r->channel);
    blen = snprintf(body, sizeof(body), "{\"id\":\"%llu\",\"channel\":"
                    "\"%s\"}", (unsigned long long)id, chan);
    n = snprintf(resp, sizeof(resp), "Status: 202 Accepted\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %d\r\n"
                 "Cache-Control: no-store\r\n%s\r\n%s",
                 blen, r->cors, body);
    if (n > 0 && (size_t)n < sizeof(resp))
        publish_write(r, resp, (size_t)n);
    log_debug("published id=%llu channel=%s bytes=%zu remote=%s",
              (unsigned long long)id, r->channel, b->data_len, r->remote);
}

/* Parses the body, checks event and size, appends. */
static void publish_message(struct publish_req *r)
{
    char qevent[3 * SSE_EVENT_MAX + 1];
    struct publish_body b;

    if (publish_body_parse(r->type, r->io->body, r->io->body_len, r->scratch,
                           &b) < 0) {
        publish_refuse(r, 400, NULL, "%s", b.why);
        return;
    }
    if (publish_event(r, &b, qevent, sizeof(qevent)) < 0)
        return;
    if (b.data_len > r->app->cfg.max_message_size) {
        publish_refuse(r, 413, NULL, "data of %zu bytes is over "
                       "max_message_size %zu", b.data_len,
                       r->app->cfg.max_message_size);
        return;
    }
    publish_append(r, &b);
}

/* Checks the body's length against Content-Length and the type's
 * limit (the body was read already: its first bytes kept, all counted). */
static int publish_body_check(struct publish_req *r)
{
    const struct publish_io *io = r->io;
    const char *cl = publish_param(r, "CONTENT_LENGTH");
    size_t limit = publish_body_limit(r->type, r->app->cfg.max_message_size);
    uint64_t announced = 0;
    bool known = cl != NULL && cl[0] != '\0';

    if (known && util_parse_u64(cl, strlen(cl), &announced) < 0) {
        publish_refuse(r, 400, NULL, "bad Content-Length \"%.20s\"", cl);
        return -EINVAL;
    }
    if ((known && announced > limit) || io->body_seen > limit) {
        publish_refuse(r, 413, NULL, "body of %llu bytes is over the limit "
                       "of %zu bytes (max_message_size %zu)",
                       (unsigned long long)(known ? announced
                                                  : io->body_seen),
                       limit, r->app->cfg.max_message_size);
        return -EMSGSIZE;
    }
    if (io->read_error == -ETIMEDOUT) {
        publish_refuse(r, 400, NULL, "request body timed out (got %zu of "
                       "%llu bytes)", io->body_seen,
                       (unsigned long long)announced);
        return -ETIMEDOUT;
    }
    if (io->read_error < 0 || (known && io->body_seen < announced)) {
        publish_refuse(r, 400, NULL, "request body cut short (got %zu of "
                       "%llu bytes)", io->body_seen,
                       (unsigned long long)announced);
        return -EPIPE;
    }
    if (known && io->body_seen > announced) {
        publish_refuse(r, 413, NULL, "body longer than its Content-Length "
                       "%llu", (unsigned long long)announced);
        return -EMSGSIZE;
    }
    return 0;
}

/* ---- the Mercure hub ---- */

/* Appends the update f and answers 200 with its id as text/plain (the
 * publisher's id, else the queue's). */
static void publish_hub_append(struct publish_req *r,
                               const struct mercure_form *f)
{
    struct queue_msg m = {
        .channel = f->topic[0], .channel_len = f->topic_len[0],
        .event = f->type, .event_len = f->type_len,
        .data = f->data, .data_len = f->data_len,
        .alt = f->topic + 1, .alt_len = f->topic_len + 1,
        .n_alt = f->n_topic - 1,
        .pub_id = f->id, .pub_id_len = f->id_len,
        .retry_ms = f->retry_ms,
        .flags = f->private_ ? QUEUE_MSG_PRIVATE : 0,
    };
    char resp[1024], idbuf[24];
    const char *body = f->id;
    size_t blen = f->id_len;
    uint64_t id;
    int n;

    if (publish_store(r, &m, &id) < 0)
        return;
    if (blen == 0) {
        blen = (size_t)snprintf(idbuf, sizeof(idbuf), "%llu",
                                (unsigned long long)id);
        body = idbuf;
    }
    n = snprintf(resp, sizeof(resp), "Status: 200 OK\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n%s\r\n%.*s",
                 blen, r->cors, (int)blen, body);
    if (n > 0 && (size_t)n < sizeof(resp))
        publish_write(r, resp, (size_t)n);
    log_debug("published id=%llu topic=%s bytes=%zu private=%d remote=%s",
              (unsigned long long)id, r->channel, f->data_len,
              f->private_ ? 1 : 0, r->remote);
}

/* Refuses (400) an update with a topic under the hub's path
 * (mercure_form_reserved, against the hub's URL); -EINVAL when refused. */
static int publish_hub_reserved(struct publish_req *r,
                                struct mercure_form *f)
{
    int rc;

    r->hub_url_len = mercure_hub_url(config_hub_url(&r->app->cfg),
                                     publish_param_get, r, r->hub_url,
                                     sizeof(r->hub_url));
    if (r->hub_url_len == 0) {
        publish_refuse(r, 400, NULL, "the hub's URL is unusable: too "
                       "long, or a control character in the request's Host "
                       "or path (set mercure.hub_url)");
        return -EINVAL;
    }
    rc = mercure_form_reserved(f, r->hub_url, r->hub_url_len);
    if (rc == -ENOMEM)
        publish_refuse(r, 503, NULL, "out of memory");
    else if (rc < 0)
        publish_refuse(r, 400, NULL, "%s", f->why);
    return rc;
}

/* The hub's form: parsed, its topics checked against the hub's path,
 * its data size checked, the publisher authorized, then appended. */
static void publish_hub_form(struct publish_req *r)
{
    struct mercure_form f;

    if (mercure_form_parse(r->io->body, r->io->body_len,
                           r->app->cfg.mercure_topic_max, r->scratch,
                           &f) < 0) {
        publish_refuse(r, 400, NULL, "%s", f.why);
        return;
    }
    util_quote(r->channel, sizeof(r->channel), f.topic[0],
                  f.topic_len[0]);
    if (publish_hub_reserved(r, &f) < 0)
        return;
    if (f.data_len > r->app->cfg.max_message_size) {
        publish_refuse(r, 413, NULL, "data of %zu bytes is over "
                       "max_message_size %zu", f.data_len,
                       r->app->cfg.max_message_size);
        return;
    }
    if (publish_auth(r, f.topic, f.topic_len, f.n_topic) < 0)
        return;
    publish_hub_append(r, &f);
}

/* POST /.well-known/mercure: a form body only. */
static void publish_hub(struct publish_req *r)
{
    char why[PUBLISH_BODY_WHY_MAX];
    int type = publish_body_type(publish_param(r, "CONTENT_TYPE"), why,
                                 sizeof(why));

    if (type >= 0 && type != PUBLISH_BODY_FORM) {
        type = -EPROTONOSUPPORT;
        snprintf(why, sizeof(why), "the hub takes "
                 "application/x-www-form-urlencoded bodies only");
    }
    if (type < 0) {
        publish_refuse(r, 415, NULL, "%s", why);
        return;
    }
    r->type = PUBLISH_BODY_FORM;
    if (publish_body_check(r) < 0)
        return;
    r->scratch = malloc(r->io->body_len + 1);
    if (r->scratch == NULL) {
        publish_refuse(r, 503, NULL, "out of memory for a %zu-byte body",
                       r->io->body_len);
        return;
    }
    publish_hub_form(r);
    free(r->scratch);
}

size_t publish_req_body_limit(const struct publish_app *app,
                              const char *content_type)
{
    char why[PUBLISH_BODY_WHY_MAX];
    int type = publish_body_type(content_type, why, sizeof(why));

    return type < 0 ? 0 : publish_body_limit((enum publish_body_type)type,
                                             app->cfg.max_message_size);
}

/* Sets up the publisher key from app->cfg (none when not configured or
 * on failure, logged) and the selector cache. */
static void publish_app_keys(struct publish_app *app)
{
    const struct config_jwt_key *k = &app->cfg.mercure_pub;
    const char *why = "";
    int rc;

    app->has_pub_key = false;
    if (k->key != NULL) {
        rc = jwt_auth_key_init(&app->pub_key, k->alg, k->key, k->len, &why);
        if (rc == 0 && app->cfg.mercure_issuer[0] != '\0' &&
            jwt_auth_key_access(&app->pub_key, app->cfg.mercure_issuer,
                                app->cfg.mercure_resource) < 0) {
            jwt_auth_key_free(&app->pub_key);
            rc = -ENOMEM;
        }
        if (rc < 0)
            log_error("publisher key: %s (errno %d): no JWT is accepted",
                      rc == -EINVAL ? why : strerror(-rc), -rc);
        app->has_pub_key = rc == 0;
    }
    if (!app->has_cache)
        app->has_cache = topic_selector_cache_init(
            &app->cache, PUBLISH_SELECTOR_CACHE, 2 * QUEUE_TOPIC_MAX) == 0;
}

/* Frees the publisher key. */
static void publish_app_drop_key(struct publish_app *app)
{
    if (app->has_pub_key)
        jwt_auth_key_free(&app->pub_key);
    app->has_pub_key = false;
}

void publish_app_refused(struct publish_app *app, int status)
{
    http_refusals_add(&app->refused, status);
    http_refusals_publish(&app->refused, app->q);
}

void publish_app_init(struct publish_app *app)
{
    app->q = NULL;
    app->slot = -1;
    app->published = app->bytes = app->requests = 0;
    memset(&app->refused, 0, sizeof(app->refused));
    app->q_last_rc = app->append_last_rc = 0;
    app->lag_refusing = false;
    memset(&app->lag_dec, 0, sizeof(app->lag_dec));
    app->lag_at_us = 0;
    app->has_cache = false;
    publish_app_keys(app);
}

void publish_app_reload(struct publish_app *app, struct config *nc)
{
    publish_app_drop_key(app);
    config_free(&app->cfg);
    app->cfg = *nc;
    app->lag_at_us = 0;         /* a new publish.max_lag_ms applies now */
    publish_app_keys(app);
}

void publish_app_close(struct publish_app *app)
{
    if (app->q != NULL) {
        if (app->slot >= 0)
            queue_proc_release(app->q, app->slot);
        queue_close(app->q);
        app->q = NULL;
    }
    publish_app_drop_key(app);
    if (app->has_cache)
        topic_selector_cache_free(&app->cache);
    app->has_cache = false;
    config_free(&app->cfg);
}

/* Answers one request, whatever the outcome. */
void publish_req_handle(struct publish_app *app, struct publish_io *io)
{
    struct publish_req r = { .app = app, .io = io };
    const char *method = publish_param(&r, "REQUEST_METHOD");
    char why[PUBLISH_BODY_WHY_MAX], quoted[100];
    int type;

    io->out_len = 0;
    app->requests++;
    r.remote = publish_param(&r, "REMOTE_ADDR");
    r.remote = r.remote ? r.remote : "-";
    r.query = publish_param(&r, "QUERY_STRING");
    r.query = r.query ? r.query : "";
    r.hub = mercure_hub_request(publish_param(&r, "DOCUMENT_URI"),
                                publish_param(&r, "SCRIPT_NAME"),
                                publish_param(&r, "REQUEST_URI"));
    method = method ? method : "";
    publish_cors(&r);
    if (strcmp(method, "OPTIONS") == 0) {
        publish_preflight(&r);
        return;
    }
    if (strcmp(method, "POST") != 0) {
        publish_refuse(&r, 405, PUBLISH_ALLOW, "method \"%s\" not allowed: "
                       "use POST", util_quote(quoted, sizeof(quoted),
                                                 method, strlen(method)));
        return;
    }
    if (r.hub) {
        publish_hub(&r);
        return;
    }
    if (publish_channel(&r) < 0 || publish_auth_channel(&r) < 0)
        return;
    type = publish_body_type(publish_param(&r, "CONTENT_TYPE"), why,
                             sizeof(why));
    if (type < 0) {
        publish_refuse(&r, 415, NULL, "%s", why);
        return;
    }
    r.type = (enum publish_body_type)type;
    if (publish_body_check(&r) < 0)
        return;
    r.scratch = malloc(io->body_len + 1);
    if (r.scratch == NULL) {
        publish_refuse(&r, 503, NULL, "out of memory for a %zu-byte body",
                       io->body_len);
        return;
    }
    publish_message(&r);
    free(r.scratch);
}
