/* stream_req.h -- the event-stream request of sseq-stream: reading
 * GET /events?channel=..&last_event_id=..&backlog=..&tag=channel (and the
 * Last-Event-ID header) and the Mercure hub's
 * GET /.well-known/mercure?topic=..&lastEventID=.. from FastCGI/CGI
 * params, and writing the CGI response heads: the 200 event-stream head
 * and the one-line errors. */
#ifndef SSEQ_STREAM_REQ_H
#define SSEQ_STREAM_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "mercure/mercure_hub.h"
#include "queue/queue.h"
#include "queue/queue_msg.h"
#include "runtime/http_cors.h"

#define STREAM_REQ_CHANNELS_MAX 64      /* channels / selectors a stream */
#define STREAM_REQ_NAMES_MAX    16384   /* their bytes in total (nginx's
                                           request line is 8 KiB) */
#define STREAM_REQ_CHANNEL_MAX  QUEUE_MSG_CHANNEL_MAX   /* /events name */
#define STREAM_REQ_RESUME_MAX   QUEUE_PUBID_MAX /* longest hub resume id */
#define STREAM_REQ_WHY_MAX      512     /* a refusal's reason */

/* How a selector is matched (stream_match.h). */
enum stream_req_kind {
    STREAM_REQ_EXACT = 0,       /* equal topic only: the channel map */
    STREAM_REQ_PATTERN,         /* "*", a URI template or a URL pattern */
};

/* The query key a hub selector came in (active subscriptions say it):
 * v0.x's topic=, 1.0's exact matchers and URL patterns. */
enum stream_req_dialect {
    STREAM_REQ_V0 = 0,          /* topic= (and every /events channel) */
    STREAM_REQ_V1_EXACT,        /* match=, match_exact= */
    STREAM_REQ_V1_URLPATTERN,   /* match_urlpattern= */
};

/* A parsed request. Channel (or hub topic selector) i is
 * names[off[i] .. off[i]+len[i]), NUL-terminated, no duplicates, in the
 * order given; kind[i] says how it matches (always EXACT on /events). */
struct stream_req {
    bool head;                  /* HEAD: answer with the head only */
    bool hub;                   /* a Mercure hub request (mercure_hub.h) */
    bool tag;                   /* /events tag=channel: each event names
                                   its channels ("channel:" lines) */
    bool has_last_id;           /* /events: resume after last_id */
    uint64_t last_id;
    bool has_resume;            /* hub: Last-Event-ID or lastEventID */
    uint16_t resume_len;        /* its bytes (0: too long, unknown) */
    unsigned backlog;           /* fresh stream: replay the last N, capped */
    unsigned n_channels;
    uint16_t off[STREAM_REQ_CHANNELS_MAX];
    uint16_t len[STREAM_REQ_CHANNELS_MAX];
    uint8_t kind[STREAM_REQ_CHANNELS_MAX];      /* enum stream_req_kind */
    uint32_t cost[STREAM_REQ_CHANNELS_MAX];     /* stream_match_cost */
    uint8_t dialect[STREAM_REQ_CHANNELS_MAX];   /* enum stream_req_dialect */
    char resume[STREAM_REQ_RESUME_MAX + 1];     /* hub resume id, or
                                                   "earliest" */
    char names[STREAM_REQ_NAMES_MAX];
    char why[STREAM_REQ_WHY_MAX];   /* a 400's reason, naming the culprit */
};

/* Where params come from: FCGX_GetParam on a request's envp, or getenv. */
typedef const char *(*stream_req_get_fn)(const char *name, void *ctx);

/* Reads the request. Returns 0, or the HTTP status to answer (400, 405)
 * with a one-line *reason (static text or r->why, so valid while r is)
 * that names the bad parameter and what it allows. */
int stream_req_parse(struct stream_req *r, const struct config *cfg,
                     stream_req_get_fn get, void *ctx, const char **reason);

/* Whether channel ch[0..len) is one of r's channels. */
bool stream_req_has_channel(const struct stream_req *r, const char *ch,
                            size_t len);

/* What a response head carries besides the status. */
struct stream_req_resp {
    struct http_cors cors;      /* http_cors_decide's answer */
    const char *last_event_id;  /* Last-Event-ID header value, or NULL */
    bool hub;                   /* the hub: Mercure-Last-Event-ID (1.0)
                                   beside Last-Event-ID (v0.x) */
    bool cache_private;         /* Cache-Control: private, no-cache */
    const char *challenge;      /* an error's WWW-Authenticate value
                                   (stream_auth_challenge), or NULL:
                                   "Bearer" on a 401 */
};

/* What a hub query parameter is: v0.x's topic= and lastEventID=; 1.0's
 * exact matchers (match=, match_exact=), URL pattern matchers
 * (match_urlpattern=) and last_event_id=; another name in 1.0's
 * reserved match namespace (any case: this hub does not support it);
 * anything else (ignored). */
enum stream_req_hub_key {
    STREAM_REQ_KEY_OTHER = 0,
    STREAM_REQ_KEY_TOPIC,
    STREAM_REQ_KEY_LAST_V0,
    STREAM_REQ_KEY_MATCH_EXACT,
    STREAM_REQ_KEY_LAST_V1,
    STREAM_REQ_KEY_MATCH_UNSUPPORTED,
    STREAM_REQ_KEY_MATCH_URLPATTERN,
};

#define STREAM_REQ_HUB_URL_MAX MERCURE_HUB_URL_MAX  /* the hub's URL */

/* The hub's URL, the base of relative URL patterns and topics, into
 * out[0..cap): mercure_hub_url with mercure.hub_url. Its length, 0 when
 * it does not fit. */
size_t stream_req_hub_url(const struct config *cfg, stream_req_get_fn get,
                          void *ctx, char *out, size_t cap);

/* The kind of hub query key key[0..len). Pure. */
enum stream_req_hub_key stream_req_hub_key(const char *key, size_t len);

/* Writes a complete CGI error response into out: http_status_format's
 * (status, text/plain, Content-Length, no-store, the one-line reason)
 * with Allow for 405, WWW-Authenticate (resp's challenge, else Bearer
 * for 401), Retry-After for 503 (retry_ms rounded up to whole seconds,
 * at least 1) and the CORS headers of resp (may be NULL). Returns its
 * length, or 0 when cap is below HTTP_STATUS_RESPONSE_MAX and it does
 * not fit. */
size_t stream_req_error(char *out, size_t cap, int status,
                        const char *reason, unsigned retry_ms,
                        const struct stream_req_resp *resp);

/* Writes the 200 event-stream CGI head (ending in the blank line) into
 * out, with the headers resp asks for (resp may be NULL). Returns its
 * length, or 0 if cap is too small. */
size_t stream_req_head(char *out, size_t cap,
                       const struct stream_req_resp *resp);

#endif
