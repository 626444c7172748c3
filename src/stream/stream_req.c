/* stream_req.c -- parsing the event-stream request and writing sseq-stream's
 * CGI response heads.
 *
 * Two APIs, told apart by path (mercure_hub_request):
 *   /events: channel= names (comma lists too), each checked against
 *     channel_pattern; last_event_id= and backlog=; a resume id is a
 *     number (else 400); tag=channel adds a "channel:" line to each
 *     event (other tag= values: 400).
 *   the hub, in both Mercure dialects at once: v0.x's topic= selectors,
 *     each one value (percent-decoded, 1 to mercure.topic_max bytes, no
 *     NUL), "*" and templates matched as patterns (stream_match_kind),
 *     and lastEventID=; 1.0's match= / match_exact= topics, compared
 *     byte for byte ("*" is every topic), UTF-8 without control
 *     characters; match_urlpattern= URL patterns (urlpattern.h),
 *     compiled here against the hub's URL (stream_req_hub_url) to check
 *     them and their cost (a bad or too costly one is a 400 naming the
 *     culprit), kept as stream_match.h's URL pattern selector name; and
 *     last_event_id=; another name in 1.0's reserved match namespace is
 *     a 400 naming it; mercure.protocol_v0 = false refuses v0.x's names.
 *     A resume id is any text (resolved against the queue by
 *     stream_feed_plan: a hub id, a publisher id or "earliest"); the
 *     authorization= parameter is read by stream_auth.
 * Precedence: the Last-Event-ID header (HTTP_LAST_EVENT_ID, what a browser
 * sends when it reconnects) wins over the query parameter (the id the
 * page started with); backlog= applies only without either. Unknown query
 * keys (cache busters) are ignored. */
#include "ac_config.h"

#include "stream/stream_req.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/http_status.h"
#include "runtime/http_cors.h"
#include "mercure/mercure_hub.h"
#include "mercure/mercure_text.h"
#include "base/query.h"
#include "mercure/urlpattern.h"
#include "stream/stream_match.h"
#include "base/util.h"

bool stream_req_has_channel(const struct stream_req *r, const char *ch,
                            size_t len)
{
    unsigned i;

    for (i = 0; i < r->n_channels; i++)
        if (r->len[i] == len && memcmp(r->names + r->off[i], ch, len) == 0)
            return true;
    return false;
}

/* Formats a refusal's reason into r->why and points *reason at it;
 * returns 400. */
static int stream_req_bad(struct stream_req *r, const char **reason,
                          const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int stream_req_bad(struct stream_req *r, const char **reason,
                          const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
    *reason = r->why;
    return 400;
}

/* Sets the kind and cost of hub selector n_channels (ch[0..len)); 400
 * with *reason for one costing more than mercure.selector_cost_max. */
static int stream_req_cost(struct stream_req *r, const struct config *cfg,
                           const char *ch, size_t len, const char **reason)
{
    size_t exprs, vars;
    unsigned long cost = stream_match_cost(ch, len, &exprs, &vars);
    char q[300];

    if (cost > cfg->mercure_selector_cost_max)
        return stream_req_bad(r, reason, "topic selector \"%s\" too "
                              "costly: %zu expressions, %zu variables, %zu "
                              "bytes cost %lu, at most %u a selector "
                              "(mercure.selector_cost_max)",
                              util_quote(q, sizeof(q), ch, len), exprs, vars,
                              len, cost, cfg->mercure_selector_cost_max);
    r->cost[r->n_channels] = (uint32_t)cost;
    r->kind[r->n_channels] = cost > 0 ? STREAM_REQ_PATTERN : STREAM_REQ_EXACT;
    return 0;
}

static int stream_req_store(struct stream_req *r, const char *ch, size_t len,
                            const char **reason);

/* Adds one channel name or hub selector (not decoded further): checked
 * against channel_pattern on /events, against mercure.topic_max on the
 * hub. exact: a 1.0 exact matcher, never a template (no template cost;
 * "*" is still every topic). 0, or 400 with *reason. */
static int stream_req_add_channel(struct stream_req *r,
                                  const struct config *cfg, const char *ch,
                                  size_t len, bool exact,
                                  const char **reason)
{
    char q[300];
    int rc;

    if (len == 0 && !r->hub)
        return 0;
    if (r->hub && (len == 0 || len > cfg->mercure_topic_max ||
                   memchr(ch, '\0', len) || memchr(ch, '\r', len) ||
                   memchr(ch, '\n', len)))
        return stream_req_bad(r, reason, "bad topic selector \"%s\": must "
                              "be 1 to %u bytes (mercure.topic_max), no CR, "
                              "LF or NUL",
                              util_quote(q, sizeof(q), ch, len),
                              cfg->mercure_topic_max);
    if (!r->hub && (len > STREAM_REQ_CHANNEL_MAX ||
                    !config_channel_valid(cfg, ch, len)))
        return stream_req_bad(r, reason, "bad channel name \"%s\": must "
                              "match %s, at most %d bytes",
                              util_quote(q, sizeof(q), ch, len),
                              cfg->channel_pattern, STREAM_REQ_CHANNEL_MAX);
    rc = stream_req_store(r, ch, len, reason);
    if (rc <= 0)
        return -rc;
    r->dialect[r->n_channels] = r->hub && exact ? STREAM_REQ_V1_EXACT
                                                : STREAM_REQ_V0;
    if (r->hub && !exact) {
        rc = stream_req_cost(r, cfg, ch, len, reason);
        if (rc != 0)
            return rc;
    } else if (exact && len == 1 && ch[0] == '*') {
        r->cost[r->n_channels] = 1;
        r->kind[r->n_channels] = STREAM_REQ_PATTERN;
    }
    r->n_channels++;
    return 0;
}

/* Stores selector or channel n_channels as ch[0..len) (EXACT, cost 0;
 * n_channels not moved). 1 stored, 0 a duplicate (nothing to add), or
 * -400 with *reason when there is no room. */
static int stream_req_store(struct stream_req *r, const char *ch, size_t len,
                            const char **reason)
{
    size_t used;

    if (stream_req_has_channel(r, ch, len))
        return 0;
    used = r->n_channels == 0 ? 0 :
        (size_t)r->off[r->n_channels - 1] + r->len[r->n_channels - 1] + 1;
    if (r->n_channels == STREAM_REQ_CHANNELS_MAX ||
        used + len + 1 > STREAM_REQ_NAMES_MAX)
        return -stream_req_bad(r, reason, "too many %s: at most %d a "
                               "stream, %d bytes in all",
                               r->hub ? "topics" : "channels",
                               STREAM_REQ_CHANNELS_MAX, STREAM_REQ_NAMES_MAX);
    memcpy(r->names + used, ch, len);
    r->names[used + len] = '\0';
    r->off[r->n_channels] = (uint16_t)used;
    r->len[r->n_channels] = (uint16_t)len;
    r->cost[r->n_channels] = 0;
    r->kind[r->n_channels] = STREAM_REQ_EXACT;
    return 1;
}

/* Percent-decodes query value pr into buf (STREAM_REQ_NAMES_MAX bytes):
 * its length, or -400 with *reason naming what (e.g. "topic selector")
 * when it is too long or holds a bad escape. */
static long stream_req_decode(struct stream_req *r, const struct query_pair *pr,
                              const char *what, char *buf,
                              const char **reason)
{
    char q[300];
    long n = -1;

    if (pr->val_len <= STREAM_REQ_NAMES_MAX)
        n = util_url_decode(buf, pr->val, pr->val_len, true);
    if (n >= 0)
        return n;
    return -stream_req_bad(r, reason, "bad %s \"%s\": a bad percent escape,"
                           " or over %d bytes", what,
                           util_quote(q, sizeof(q), pr->val, pr->val_len),
                           STREAM_REQ_NAMES_MAX);
}

/* The 400 for a hub selector value that is no UTF-8 text. */
static int stream_req_bad_text(struct stream_req *r,
                               const struct query_pair *pr,
                               const char **reason)
{
    char q[300];

    return stream_req_bad(r, reason, "bad %.*s= value \"%s\": must be "
                          "UTF-8 without control characters",
                          (int)pr->key_len, pr->key,
                          util_quote(q, sizeof(q), pr->val, pr->val_len));
}

/* Mercure 1.0's character rule (mercure_text.h) on a matcher value
 * v[0..n) of pr: 0, or the 400 naming the parameter and the character. */
static int stream_req_matcher_text(struct stream_req *r,
                                   const struct query_pair *pr,
                                   const char *v, size_t n,
                                   const char **reason)
{
    char q[300], what[160];
    size_t at = 0;
    uint32_t cp = 0;
    int rc = mercure_text_check(v, n, &at, &cp);

    if (rc == 0)
        return 0;
    return stream_req_bad(r, reason, "bad %.*s= value \"%s\": %s",
                          (int)pr->key_len, pr->key,
                          util_quote(q, sizeof(q), v, n),
                          mercure_text_describe(rc, at, cp, what,
                                                sizeof(what)));
}

/* Decodes a topic= value (one selector). */
static int stream_req_topic(struct stream_req *r, const struct config *cfg,
                            const struct query_pair *pr, const char **reason)
{
    char buf[STREAM_REQ_NAMES_MAX];
    long n = stream_req_decode(r, pr, "topic selector", buf, reason);

    if (n < 0)
        return (int)-n;
    if (!util_text_valid(buf, (size_t)n))
        return stream_req_bad_text(r, pr, reason);
    return stream_req_add_channel(r, cfg, buf, (size_t)n, false, reason);
}

/* Keeps a hub resume id (raw: header; else a query value to decode);
 * one too long to be any id, or with a CR, LF or NUL (it would be echoed
 * in the Last-Event-ID header), is kept as unknown (length 0). */
static void stream_req_resume(struct stream_req *r, const char *s,
                              size_t len, bool decode)
{
    long n = (long)len;

    r->has_resume = true;
    r->resume_len = 0;
    if (len > 3 * STREAM_REQ_RESUME_MAX)
        return;
    if (decode) {
        char buf[3 * STREAM_REQ_RESUME_MAX];

        n = util_url_decode(buf, s, len, true);
        if (n < 0 || n > STREAM_REQ_RESUME_MAX)
            return;
        memcpy(r->resume, buf, (size_t)n);
    } else {
        if (len > STREAM_REQ_RESUME_MAX)
            return;
        memcpy(r->resume, s, len);
    }
    if (memchr(r->resume, '\r', (size_t)n) || memchr(r->resume, '\n',
        (size_t)n) || memchr(r->resume, '\0', (size_t)n)) {
        r->resume[0] = '\0';
        return;
    }
    r->resume[n] = '\0';
    r->resume_len = (uint16_t)n;
}

/* Decodes a channel= value and adds each comma-separated name in it. */
static int stream_req_channels(struct stream_req *r, const struct config *cfg,
                               const struct query_pair *pr,
                               const char **reason)
{
    char buf[STREAM_REQ_NAMES_MAX];
    long n = stream_req_decode(r, pr, "channel= value", buf, reason);
    size_t start = 0, i;
    int rc;

    if (n < 0)
        return (int)-n;
    for (i = 0; i <= (size_t)n; i++) {
        if (i < (size_t)n && buf[i] != ',')
            continue;
        rc = stream_req_add_channel(r, cfg, buf + start, i - start, false,
                                    reason);
        if (rc != 0)
            return rc;
        start = i + 1;
    }
    return 0;
}

/* Decodes and parses a u64 query value. 0 or -EINVAL. */
static int stream_req_u64(const struct query_pair *pr, uint64_t *out)
{
    char buf[32];
    long n;

    if (pr->val_len >= sizeof(buf))
        return -EINVAL;
    n = util_url_decode(buf, pr->val, pr->val_len, true);
    if (n <= 0)
        return -EINVAL;
    return util_parse_u64(buf, (size_t)n, out);
}

enum stream_req_hub_key stream_req_hub_key(const char *key, size_t len)
{
    static const struct {
        const char *name;
        enum stream_req_hub_key kind;
    } keys[] = {
        { "topic", STREAM_REQ_KEY_TOPIC },
        { "lastEventID", STREAM_REQ_KEY_LAST_V0 },
        { "match", STREAM_REQ_KEY_MATCH_EXACT },
        { "match_exact", STREAM_REQ_KEY_MATCH_EXACT },
        { "last_event_id", STREAM_REQ_KEY_LAST_V1 },
        { "match_urlpattern", STREAM_REQ_KEY_MATCH_URLPATTERN },
    };

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i].name) == len &&
            memcmp(keys[i].name, key, len) == 0)
            return keys[i].kind;
    if (len >= 5 && strncasecmp(key, "match", 5) == 0)
        return STREAM_REQ_KEY_MATCH_UNSUPPORTED;
    return STREAM_REQ_KEY_OTHER;
}

/* Adds one 1.0 exact matcher (a match= or match_exact= value): compared
 * byte for byte, never as a template; "*" is every topic. Its value keeps
 * Mercure's character rule (v0.x's topic= the older one: no control). */
static int stream_req_match(struct stream_req *r, const struct config *cfg,
                            const struct query_pair *pr, const char **reason)
{
    char buf[STREAM_REQ_NAMES_MAX];
    long n = stream_req_decode(r, pr, "topic matcher", buf, reason);
    int rc;

    if (n < 0)
        return (int)-n;
    if (!util_text_valid(buf, (size_t)n))
        return stream_req_bad_text(r, pr, reason);
    rc = stream_req_matcher_text(r, pr, buf, (size_t)n, reason);
    if (rc != 0)
        return rc;
    return stream_req_add_channel(r, cfg, buf, (size_t)n, true, reason);
}

size_t stream_req_hub_url(const struct config *cfg, stream_req_get_fn get,
                          void *ctx, char *out, size_t cap)
{
    return mercure_hub_url(config_hub_url(cfg), get, ctx, out, cap);
}

/* Adds one match_urlpattern= value: a URL pattern (UTF-8 without
 * control characters, 1 to mercure.topic_max bytes) compiled against
 * hub[0..hlen) to check it and cost it, stored as its selector name. */
static int stream_req_urlpattern(struct stream_req *r,
                                 const struct config *cfg,
                                 const struct query_pair *pr,
                                 const char *hub, size_t hlen,
                                 const char **reason)
{
    char buf[STREAM_REQ_NAMES_MAX], name[STREAM_REQ_NAMES_MAX], q[300];
    char why[300];
    long n = stream_req_decode(r, pr, "URL pattern", buf, reason);
    struct urlpattern *up;
    unsigned long cost;
    size_t nlen;
    int rc;

    if (n < 0)
        return (int)-n;
    util_quote(q, sizeof(q), buf, (size_t)n);
    if (n == 0 || (size_t)n > cfg->mercure_topic_max ||
        !util_text_valid(buf, (size_t)n))
        return stream_req_bad(r, reason, "bad match_urlpattern= value "
                              "\"%s\": must be 1 to %u bytes "
                              "(mercure.topic_max) of UTF-8 without control "
                              "characters", q, cfg->mercure_topic_max);
    rc = stream_req_matcher_text(r, pr, buf, (size_t)n, reason);
    if (rc != 0)
        return rc;
    if (hlen == 0)
        return stream_req_bad(r, reason, "match_urlpattern= \"%s\": the "
                              "hub's URL is unusable: too long, or a "
                              "control character in the request's Host or "
                              "path (set mercure.hub_url)", q);
    rc = urlpattern_compile(buf, (size_t)n, hub, hlen, &up, why,
                            sizeof(why));
    if (rc < 0)
        return stream_req_bad(r, reason, "bad match_urlpattern= value "
                              "\"%s\" (hub URL %.*s): %s", q, (int)hlen,
                              hub, rc == -ENOMEM ? "out of memory" : why);
    cost = urlpattern_cost(up);
    urlpattern_free(up);
    if (cost > cfg->mercure_selector_cost_max)
        return stream_req_bad(r, reason, "URL pattern \"%s\" too costly: "
                              "its largest component compiles to %lu "
                              "states, at most %u a selector "
                              "(mercure.selector_cost_max)", q, cost,
                              cfg->mercure_selector_cost_max);
    nlen = stream_match_urlpattern_name(name, sizeof(name), hub, hlen, buf,
                                        (size_t)n);
    rc = nlen > 0 ? stream_req_store(r, name, nlen, reason)
                  : -stream_req_bad(r, reason, "too many topics: at most %d "
                                    "bytes in all", STREAM_REQ_NAMES_MAX);
    if (rc <= 0)
        return -rc;
    r->cost[r->n_channels] = (uint32_t)cost;
    r->kind[r->n_channels] = STREAM_REQ_PATTERN;
    r->dialect[r->n_channels] = STREAM_REQ_V1_URLPATTERN;
    r->n_channels++;
    return 0;
}

/* The 400 for a hub key the hub does not take (kind says why). */
static int stream_req_hub_refuse(struct stream_req *r,
                                 const struct query_pair *pr,
                                 enum stream_req_hub_key kind,
                                 const char **reason)
{
    char q[300];

    util_quote(q, sizeof(q), pr->key, pr->key_len);
    if (kind == STREAM_REQ_KEY_MATCH_UNSUPPORTED)
        return stream_req_bad(r, reason, "unsupported topic matcher \"%s\":"
                              " this hub takes match=, match_exact= and "
                              "match_urlpattern=", q);
    return stream_req_bad(r, reason, "\"%s\" is Mercure v0.x, turned off on"
                          " this hub (mercure.protocol_v0 = false): use "
                          "match= and last_event_id=", q);
}

/* Walks a hub query string: topic selectors and matchers, the resume id
 * of either dialect. */
static int stream_req_hub_query(struct stream_req *r,
                                const struct config *cfg, const char *qs,
                                const char *hub, size_t hlen,
                                const char **reason)
{
    struct query_pair pr;
    size_t pos = 0, len = strlen(qs);
    int rc = 0;

    while (rc == 0 && query_next(qs, len, &pos, &pr)) {
        enum stream_req_hub_key kind = stream_req_hub_key(pr.key,
                                                          pr.key_len);

        if (!cfg->mercure_protocol_v0 && (kind == STREAM_REQ_KEY_TOPIC ||
                                          kind == STREAM_REQ_KEY_LAST_V0))
            rc = stream_req_hub_refuse(r, &pr, kind, reason);
        else if (kind == STREAM_REQ_KEY_TOPIC)
            rc = stream_req_topic(r, cfg, &pr, reason);
        else if (kind == STREAM_REQ_KEY_MATCH_EXACT)
            rc = stream_req_match(r, cfg, &pr, reason);
        else if (kind == STREAM_REQ_KEY_MATCH_URLPATTERN)
            rc = stream_req_urlpattern(r, cfg, &pr, hub, hlen, reason);
        else if (kind == STREAM_REQ_KEY_MATCH_UNSUPPORTED)
            rc = stream_req_hub_refuse(r, &pr, kind, reason);
        else if ((kind == STREAM_REQ_KEY_LAST_V0 ||
                  kind == STREAM_REQ_KEY_LAST_V1) && pr.val_len > 0)
            stream_req_resume(r, pr.val, pr.val_len, true);
    }
    if (rc == 0 && r->n_channels == 0) {
        *reason = "no topic: use ?match=TOPIC (Mercure 1.0) or "
                  "?topic=SELECTOR (v0.x)";
        return 400;
    }
    return rc;
}

/* Walks the query string: channels, last_event_id, backlog, tag. */
static int stream_req_query(struct stream_req *r, const struct config *cfg,
                            const char *qs, uint64_t *backlog,
                            const char **reason)
{
    struct query_pair pr;
    size_t pos = 0, len = strlen(qs);
    char q[300];
    int rc;

    while (query_next(qs, len, &pos, &pr)) {
        if (query_key_is(&pr, "channel")) {
            rc = stream_req_channels(r, cfg, &pr, reason);
            if (rc != 0)
                return rc;
        } else if (query_key_is(&pr, "last_event_id")) {
            if (stream_req_u64(&pr, &r->last_id) < 0)
                return stream_req_bad(r, reason, "bad last_event_id \"%s\": "
                                      "must be an event id (digits)",
                                      util_quote(q, sizeof(q), pr.val,
                                                 pr.val_len));
            r->has_last_id = true;
        } else if (query_key_is(&pr, "backlog")) {
            if (stream_req_u64(&pr, backlog) < 0)
                return stream_req_bad(r, reason, "bad backlog \"%s\": must "
                                      "be a count (digits; at most %u are "
                                      "sent)", util_quote(q, sizeof(q),
                                      pr.val, pr.val_len), cfg->backlog_max);
        } else if (query_key_is(&pr, "tag")) {
            if (pr.val_len != 7 || memcmp(pr.val, "channel", 7) != 0)
                return stream_req_bad(r, reason, "bad tag \"%s\": use "
                                      "tag=channel", util_quote(q, sizeof(q),
                                      pr.val, pr.val_len));
            r->tag = true;
        }
    }
    if (r->n_channels == 0) {
        *reason = "no channel: use ?channel=NAME";
        return 400;
    }
    return 0;
}

/* Checks REQUEST_METHOD: GET and HEAD pass, others get 405. */
static int stream_req_method(struct stream_req *r, const char *m,
                             const char **reason)
{
    if (m == NULL || strcmp(m, "GET") == 0)
        return 0;
    if (strcmp(m, "HEAD") == 0) {
        r->head = true;
        return 0;
    }
    *reason = "method not allowed: use GET";
    return 405;
}

int stream_req_parse(struct stream_req *r, const struct config *cfg,
                     stream_req_get_fn get, void *ctx, const char **reason)
{
    const char *qs = get("QUERY_STRING", ctx);
    const char *hdr = get("HTTP_LAST_EVENT_ID", ctx);
    uint64_t backlog = 0;
    int rc;

    memset(r, 0, offsetof(struct stream_req, names));
    r->hub = mercure_hub_request(get("DOCUMENT_URI", ctx),
                                 get("SCRIPT_NAME", ctx),
                                 get("REQUEST_URI", ctx));
    rc = stream_req_method(r, get("REQUEST_METHOD", ctx), reason);
    if (rc != 0)
        return rc;
    if (r->hub) {
        char hub[STREAM_REQ_HUB_URL_MAX];
        size_t hlen = stream_req_hub_url(cfg, get, ctx, hub, sizeof(hub));

        rc = stream_req_hub_query(r, cfg, qs ? qs : "", hub, hlen, reason);
        if (rc == 0 && hdr != NULL && hdr[0] != '\0')
            stream_req_resume(r, hdr, strlen(hdr), false);
        return rc;
    }
    rc = stream_req_query(r, cfg, qs ? qs : "", &backlog, reason);
    if (rc != 0)
        return rc;
    if (hdr != NULL && hdr[0] != '\0') {
        char q[300];

        if (util_parse_u64(hdr, strlen(hdr), &r->last_id) < 0)
            return stream_req_bad(r, reason, "bad Last-Event-ID header "
                                  "\"%s\": must be an event id (digits)",
                                  util_quote(q, sizeof(q), hdr, strlen(hdr)));
        r->has_last_id = true;
    }
    if (!r->has_last_id)
        r->backlog = backlog > cfg->backlog_max ? cfg->backlog_max :
                     (unsigned)backlog;
    return 0;
}

/* Appends one formatted header line at out[*n] when it fits whole in
 * cap (NUL-terminated); a line that does not fit is left out. */
static void stream_req_line(char *out, size_t cap, size_t *n,
                            const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void stream_req_line(char *out, size_t cap, size_t *n,
                            const char *fmt, ...)
{
    va_list ap;
    int k;

    if (*n >= cap)
        return;
    va_start(ap, fmt);
    k = vsnprintf(out + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k < cap - *n)
        *n += (size_t)k;
    else
        out[*n] = '\0';
}

/* Appends the headers resp asks for at out[*n] (resp may be NULL). */
static void stream_req_extra(char *out, size_t cap, size_t *n,
                             const struct stream_req_resp *resp)
{
    if (resp == NULL || *n >= cap)
        return;
    *n += http_cors_format(out + *n, cap - *n, &resp->cors);
    if (resp->last_event_id != NULL)
        stream_req_line(out, cap, n, "Last-Event-ID: %s\r\n",
                        resp->last_event_id);
    if (resp->last_event_id != NULL && resp->hub)
        stream_req_line(out, cap, n, "Mercure-Last-Event-ID: %s\r\n",
                        resp->last_event_id);
}

size_t stream_req_error(char *out, size_t cap, int status,
                        const char *reason, unsigned retry_ms,
                        const struct stream_req_resp *resp)
{
    unsigned retry_after = (unsigned)(((uint64_t)retry_ms + 999) / 1000);

    char extra[HTTP_STATUS_EXTRA_MAX] = "";
    size_t n = 0;
    int k;

    if (status == 405)
        stream_req_line(extra, sizeof(extra), &n, "Allow: GET, HEAD\r\n");
    if (resp != NULL && resp->challenge != NULL)
        stream_req_line(extra, sizeof(extra), &n,
                        "WWW-Authenticate: %s\r\n", resp->challenge);
    if (status == 401 && strstr(extra, "WWW-Authenticate:") == NULL)
        stream_req_line(extra, sizeof(extra), &n,
                        "WWW-Authenticate: Bearer\r\n");
    if (status == 503)
        stream_req_line(extra, sizeof(extra), &n, "Retry-After: %u\r\n",
                        retry_after ? retry_after : 1);
    stream_req_extra(extra, sizeof(extra), &n, resp);
    k = http_status_format(out, cap, status, extra, reason);
    return k < 0 ? 0 : (size_t)k;
}

size_t stream_req_head(char *out, size_t cap,
                       const struct stream_req_resp *resp)
{
    size_t n;
    int k;

    k = snprintf(out, cap, "Status: 200 OK\r\n"
                 "Content-Type: text/event-stream; charset=utf-8\r\n"
                 "Cache-Control: %sno-cache\r\n"
                 "X-Accel-Buffering: no\r\n",
                 resp != NULL && resp->cache_private ? "private, " : "");
    if (k < 0 || (size_t)k >= cap)
        return 0;
    n = (size_t)k;
    stream_req_extra(out, cap, &n, resp);
    if (n + 3 > cap)
        return 0;
    memcpy(out + n, "\r\n", 3);
    return n + 2;
}
