/* stream_metrics.c -- sseq-stream's Prometheus endpoint (see
 * stream_metrics.h): the request's checks and the CGI response around
 * metrics_prom_write's text. Runs in the runtime's thread. */
#include "ac_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http_status.h"
#include "metrics/metrics_prom.h"
#include "stream/stream_metrics.h"

#define STREAM_METRICS_HEAD_MAX 256

bool stream_metrics_wanted(stream_req_get_fn get, void *ctx)
{
    return get(STREAM_METRICS_PARAM, ctx) != NULL;
}

/* The status a metrics request gets before any metrics are read: 0 to
 * serve them, else 404/405/503 with *reason. */
static int stream_metrics_check(const struct queue *q, stream_req_get_fn get,
                                void *ctx, const char **reason)
{
    const char *ep = get(STREAM_METRICS_PARAM, ctx);
    const char *method = get("REQUEST_METHOD", ctx);

    if (ep == NULL || strcmp(ep, "metrics") != 0) {
        *reason = "unknown " STREAM_METRICS_PARAM " (the web server's "
                  "config names it; only \"metrics\" exists)";
        return 404;
    }
    if (method == NULL || (strcmp(method, "GET") != 0 &&
                           strcmp(method, "HEAD") != 0)) {
        *reason = "method not allowed: the metrics are read with GET";
        return 405;
    }
    if (q == NULL) {
        *reason = "queue unavailable";
        return 503;
    }
    return 0;
}

/* The metrics text of q in a malloc'd *body (*blen bytes). 0 or -errno. */
static int stream_metrics_body(const struct queue *q, const char *path,
                               char **body, size_t *blen)
{
    FILE *f = open_memstream(body, blen);
    int rc;

    if (f == NULL)
        return -errno;
    rc = metrics_prom_write(q, path, f);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc < 0) {
        free(*body);
        *body = NULL;
    }
    return rc;
}

/* Joins head[0..hlen) and body[0..blen) into a malloc'd *out. */
static int stream_metrics_join(const char *head, size_t hlen,
                               const char *body, size_t blen,
                               char **out, size_t *len)
{
    char *r = malloc(hlen + blen + 1);

    if (r == NULL)
        return -ENOMEM;
    memcpy(r, head, hlen);
    memcpy(r + hlen, body, blen);
    r[hlen + blen] = '\0';
    *out = r;
    *len = hlen + blen;
    return 0;
}

int stream_metrics_respond(struct queue *q, const char *path,
                           stream_req_get_fn get, void *ctx,
                           char **out, size_t *len, int *status)
{
    char head[STREAM_METRICS_HEAD_MAX + HTTP_STATUS_REASON_MAX];
    const char *reason = NULL;
    char *body;
    size_t blen, hlen;
    int s, rc, k;

    s = stream_metrics_check(q, get, ctx, &reason);
    if (s != 0) {
        hlen = stream_req_error(head, sizeof(head), s, reason, 1000,
                                NULL);
        rc = stream_metrics_join(head, hlen, "", 0, out, len);
        *status = rc == 0 ? s : 0;
        return rc;
    }
    rc = stream_metrics_body(q, path, &body, &blen);
    if (rc < 0)
        return rc;
    k = snprintf(head, sizeof(head), "Status: 200 OK\r\n"
                 "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n\r\n", blen);
    rc = k < 0 || (size_t)k >= sizeof(head) ? -EIO :
         stream_metrics_join(head, (size_t)k, body, blen, out, len);
    free(body);
    *status = rc == 0 ? 200 : 0;
    return rc;
}
