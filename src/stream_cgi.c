/* stream_cgi.c -- the plain CGI mode of sseq-stream: the same request
 * rules and start plan as the pump, then a blocking loop of queue_read /
 * queue_wait writing SSE to stdout. One client per process, so blocking
 * writes are fine; SIGTERM interrupts the futex wait. */
#include "ac_config.h"

#include "stream_cgi.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "queue.h"
#include "sse.h"
#include "stream_feed.h"
#include "stream_req.h"
#include "util.h"

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

/* Writes rec as an SSE event. */
static int stream_cgi_event(const struct queue_record *rec)
{
    struct sse_event ev = {
        .id = rec->id, .event = rec->event, .event_len = rec->event_len,
        .data = rec->data, .data_len = rec->data_len,
    };
    size_t n = sse_event_size(&ev);
    char *out = malloc(n);
    int rc;

    if (out == NULL)
        return -ENOMEM;
    sse_encode_event(out, &ev);
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

/* Waits for the queue to grow past *cursor, or writes a heartbeat when
 * the stream was silent for `heartbeat` seconds. */
static int stream_cgi_idle(struct queue *q, uint64_t cursor,
                           unsigned heartbeat, uint64_t *last_us)
{
    uint64_t oldest, next, now = util_mono_us();
    uint64_t due = *last_us + (uint64_t)heartbeat * 1000000;
    uint32_t w = queue_wake_word(q);

    queue_bounds(q, &oldest, &next);
    if (next > cursor)
        return 0;
    if (heartbeat > 0 && now >= due) {
        *last_us = now;
        return stream_cgi_write(":\n\n", 3);
    }
    queue_wait(q, w, heartbeat > 0 ? (int)((due - now) / 1000) + 1 : -1);
    return 0;
}

/* Streams r's channels from plan until stdout fails or SIGTERM. */
static int stream_cgi_loop(struct queue *q, const struct stream_req *r,
                           const struct stream_feed_plan *plan,
                           unsigned heartbeat, char *buf, size_t cap)
{
    struct queue_record rec;
    uint64_t cursor = plan->start, last_us = util_mono_us();
    int rc = 0;

    if (plan->gap)
        rc = stream_cgi_gap(plan->gap_requested, plan->gap_oldest);
    while (rc == 0 && !stream_cgi_stop) {
        uint64_t before = cursor;

        rc = queue_read(q, &cursor, &rec, buf, cap);
        if (rc == QUEUE_EMPTY) {
            rc = stream_cgi_idle(q, cursor, heartbeat, &last_us);
        } else if (rc == QUEUE_OVERRUN) {
            rc = stream_cgi_gap(before - 1, cursor);
        } else if (rc == 0 &&
                   stream_req_has_channel(r, rec.channel, rec.channel_len)) {
            rc = stream_cgi_event(&rec);
            last_us = util_mono_us();
        }
    }
    return rc;
}

/* Writes an error response to stdout. */
static int stream_cgi_error(int status, const char *reason, unsigned retry_s)
{
    char out[512];
    size_t n = stream_req_error(out, sizeof(out), status, reason, retry_s,
                                NULL);

    stream_cgi_write(out, n);
    return 0;
}

int stream_cgi_run(const struct config *cfg)
{
    struct sigaction sa = { .sa_handler = stream_cgi_on_term };
    struct stream_req *r = malloc(sizeof(*r));
    struct stream_feed_plan plan;
    struct queue *q = NULL;
    unsigned retry_s = (cfg->retry_ms + 999) / 1000;
    const char *reason, *cors;
    char head[1024], *buf = NULL;
    size_t n, cap;
    int status;

    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (r == NULL)
        return stream_cgi_error(503, "out of memory", retry_s);
    status = stream_req_parse(r, cfg, stream_cgi_getenv, NULL, &reason);
    if (status != 0) {
        free(r);
        return stream_cgi_error(status, reason, retry_s);
    }
    if (queue_open(cfg->queue_path, &q) < 0) {
        log_error("%s", queue_error());
        free(r);
        return stream_cgi_error(503, "queue unavailable", retry_s);
    }
    cors = config_cors_allow(cfg, getenv("HTTP_ORIGIN"));
    n = stream_req_head(head, sizeof(head) - 32, cors);
    if (!r->head)
        n += sse_encode_retry(head + n, cfg->retry_ms);
    cap = stream_feed_bufsize(q);
    buf = malloc(cap);
    /* The start is fixed before the head goes out: a client that sees
     * the head and then publishes must get what it published. */
    if (buf != NULL && !r->head)
        stream_feed_plan(q, r, buf, cap, &plan);
    if (buf != NULL && stream_cgi_write(head, n) == 0 && !r->head)
        stream_cgi_loop(q, r, &plan, cfg->heartbeat, buf, cap);
    free(buf);
    free(r);
    queue_close(q);
    return 0;
}
