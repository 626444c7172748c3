/* stream_req.h -- the event-stream request of sseq-stream: reading
 * GET /events?channel=..&last_event_id=..&backlog=.. (and the
 * Last-Event-ID header) from FastCGI/CGI params, and writing the CGI
 * response heads: the 200 event-stream head and the one-line errors. */
#ifndef SSEQ_STREAM_REQ_H
#define SSEQ_STREAM_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define STREAM_REQ_CHANNELS_MAX 32      /* channels on one stream */
#define STREAM_REQ_NAMES_MAX    2048    /* their names, bytes in total */
#define STREAM_REQ_CHANNEL_MAX  255     /* longest name the queue takes */

/* A parsed request. Channel i is names[off[i] .. off[i]+len[i]),
 * NUL-terminated, no duplicates, in the order given. */
struct stream_req {
    bool head;                  /* HEAD: answer with the head only */
    bool has_last_id;           /* resume after last_id */
    uint64_t last_id;
    unsigned backlog;           /* fresh stream: replay the last N, capped */
    unsigned n_channels;
    uint16_t off[STREAM_REQ_CHANNELS_MAX];
    uint8_t len[STREAM_REQ_CHANNELS_MAX];
    char names[STREAM_REQ_NAMES_MAX];
};

/* Where params come from: FCGX_GetParam on a request's envp, or getenv. */
typedef const char *(*stream_req_get_fn)(const char *name, void *ctx);

/* Reads the request. Returns 0, or the HTTP status to answer (400, 405)
 * with a one-line *reason (static text). */
int stream_req_parse(struct stream_req *r, const struct config *cfg,
                     stream_req_get_fn get, void *ctx, const char **reason);

/* Whether channel ch[0..len) is one of r's channels. */
bool stream_req_has_channel(const struct stream_req *r, const char *ch,
                            size_t len);

/* Writes a complete CGI error response (head and the reason line) into
 * out: Status, text/plain, Allow for 405, Retry-After for 503 (seconds),
 * Access-Control-Allow-Origin when cors != NULL. Returns its length
 * (truncated to cap - 1, always NUL-terminated). */
size_t stream_req_error(char *out, size_t cap, int status,
                        const char *reason, unsigned retry_after,
                        const char *cors);

/* Writes the 200 event-stream CGI head (ending in the blank line) into
 * out, with CORS headers when cors != NULL. Returns its length, or 0 if
 * cap is too small. */
size_t stream_req_head(char *out, size_t cap, const char *cors);

#endif
