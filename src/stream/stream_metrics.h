/* stream_metrics.h -- sseq-stream's Prometheus endpoint. The web server
 * selects it with the FastCGI param SSEQ_ENDPOINT=metrics (nginx:
 * `fastcgi_param SSEQ_ENDPOINT metrics;` in the location /sseq/metrics
 * of fcgi-conf/nginx/sseq.conf). A client cannot set a param: its
 * headers arrive as HTTP_*. The answer is metrics_prom_write's text. */
#ifndef SSEQ_STREAM_METRICS_H
#define SSEQ_STREAM_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "queue/queue.h"
#include "stream/stream_req.h"

/* The param that selects an endpoint other than the event stream. */
#define STREAM_METRICS_PARAM "SSEQ_ENDPOINT"

/* Whether the request (its params through get) names an endpoint: the
 * param STREAM_METRICS_PARAM is set, to anything. */
bool stream_metrics_wanted(stream_req_get_fn get, void *ctx);

/* The whole CGI response to a request stream_metrics_wanted accepted:
 * 200 with the metrics of queue q (named path) for GET and HEAD; 404 for
 * an endpoint other than "metrics", 405 for another method, 503 when q
 * is NULL (the queue cannot be opened). Stores a malloc'd response in
 * *out (the caller frees it), its length in *len and its status in
 * *status. 0, or -ENOMEM / -EIO with nothing stored. */
int stream_metrics_respond(struct queue *q, const char *path,
                           stream_req_get_fn get, void *ctx,
                           char **out, size_t *len, int *status);

#endif
