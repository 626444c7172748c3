/* stream_match.h -- who receives a queue record: the subscription policy
 * shared by sseq-stream's pump (fan-out, replay), its plain CGI loop and
 * the backlog scan. Pure functions of their arguments.
 *
 * A record has topics: its channel (the canonical topic) and up to
 * QUEUE_TOPICS_MAX alternates. A subscriber has selectors: /events
 * channels (exact), hub topic= selectors (exact, "*" or an RFC 6570
 * template), and, when it presented a token, the token's
 * mercure.subscribe selectors. It receives a record, once, when
 *   - some selector matches some topic (topic_selector_match), and
 *   - the record is public, or some mercure.subscribe selector matches
 *     some topic (an anonymous subscriber never sees a private record).
 *
 * Pattern budget: matching a template costs uri_template_cost units a
 * topic byte ("*" 1, an exact selector 0: a hash lookup). A selector
 * costs at most mercure.selector_cost_max (stream_req.c refuses it), a
 * stream's patterns in all at most mercure.stream_pattern_cost (with a
 * token) or mercure.anonymous_pattern_cost (without), and the distinct
 * patterns a process holds at most mercure.process_pattern_cost
 * (stream_match_budget_check: 400, 400, 503). The pump compiles each
 * distinct pattern once, when its first stream opens
 * (stream_match_pattern). */
#ifndef SSEQ_STREAM_MATCH_H
#define SSEQ_STREAM_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "mercure/jwt_claims.h"
#include "queue/queue.h"
#include "stream/stream_req.h"
#include "mercure/topic_selector.h"
#include "mercure/urlpattern.h"

#define STREAM_MATCH_UP_CACHE 8 /* URL patterns compiled a thread, kept */

/* A match_urlpattern= selector is one hub selector name: this byte, the
 * base URL (the hub's), this byte again, the pattern. A hub selector
 * never holds it otherwise (stream_req refuses LF in topic= and match=
 * values), so no other selector takes this form, and streams with the
 * same pattern and hub URL share one compiled pattern in the pump. */
#define STREAM_MATCH_URLPATTERN '\n'

/* Writes the selector name of URL pattern pat[0..plen) against base
 * URL base[0..blen) into out[0..cap) (NUL-terminated): its length, or 0
 * when it does not fit. */
size_t stream_match_urlpattern_name(char *out, size_t cap, const char *base,
                                    size_t blen, const char *pat,
                                    size_t plen);

/* Whether hub selector sel[0..len) is a URL pattern's name. */
bool stream_match_is_urlpattern(const char *sel, size_t len);

/* How selector sel[0..len) is matched: "*" and templates that compile
 * are PATTERN; anything else (a bad template included, which
 * topic_selector_match treats as a plain string) is EXACT. */
enum stream_req_kind stream_match_kind(const char *sel, size_t len);

/* What matching selector sel[0..len) costs a topic byte: 0 for an exact
 * one (a bad template included), 1 for "*", a template's
 * uri_template_cost (at least 1), a URL pattern's urlpattern_cost.
 * *exprs and *vars (may be NULL) get a template's expressions and
 * variables, for messages. */
unsigned long stream_match_cost(const char *sel, size_t len, size_t *exprs,
                                size_t *vars);

/* A pattern selector compiled once: what the pump matches against. */
struct stream_match_pattern {
    struct uri_template *tpl;   /* a template, or */
    struct urlpattern *up;      /* a URL pattern; both NULL: "*" */
    unsigned long cost;         /* stream_match_cost */
};

/* Compiles pattern selector sel[0..len) into m. 0, -EINVAL (not a
 * pattern: an exact selector) or -ENOMEM. */
int stream_match_pattern_init(struct stream_match_pattern *m,
                              const char *sel, size_t len);

void stream_match_pattern_free(struct stream_match_pattern *m);

/* Whether compiled pattern m is "*" (every topic, no matching). */
bool stream_match_pattern_all(const struct stream_match_pattern *m);

/* Whether compiled pattern m matches some topic of rec (1 or 0; 0 on
 * ENOMEM too: a record is refused, never sent by mistake). */
bool stream_match_pattern_any(const struct stream_match_pattern *m,
                              const struct queue_record *rec);

/* Whether compiled pattern m matches topic t[0..len) (false on ENOMEM
 * too). */
bool stream_match_pattern_topic(const struct stream_match_pattern *m,
                                const char *t, size_t len);

/* The budgets a new stream's patterns must fit. */
struct stream_match_budget {
    unsigned long stream_max;       /* its patterns' costs in all */
    const char *stream_setting;     /* where stream_max comes from */
    unsigned long process_max;      /* the process's patterns in all */
    unsigned long process_used;     /* ... held or promised now */
};

/* The budget a stream with (anonymous) or without a token gets from cfg,
 * with process_used the process's cost now. */
void stream_match_budget_of(const struct config *cfg, bool anonymous,
                            unsigned long process_used,
                            struct stream_match_budget *b);

/* The cost of r's pattern selectors in all (stream_req.cost). */
unsigned long stream_match_req_cost(const struct stream_req *r);

/* Whether a stream whose patterns cost `cost` may open within b: 0, 400
 * (over its stream budget) or 503 (the process's budget is full), with
 * a one-line reason naming the setting in why[0..cap). Pure. */
int stream_match_budget_check(unsigned long cost,
                              const struct stream_match_budget *b,
                              char *why, size_t cap);

/* Whether selector sel[0..len) of kind matches some topic of rec (only
 * rec's channel and alternates are read). cache may be NULL. A URL
 * pattern is compiled once a thread: each thread keeps its last
 * STREAM_MATCH_UP_CACHE (freed when the thread ends). */
bool stream_match_any_topic(const char *sel, size_t len,
                            enum stream_req_kind kind,
                            const struct queue_record *rec,
                            struct topic_selector_cache *cache);

/* Whether a subscriber with claims c (NULL: anonymous) may receive rec:
 * rec is public, or a mercure.subscribe selector of c matches a topic of
 * rec. cache may be NULL. */
bool stream_match_allowed(const struct jwt_claims *c,
                          const struct queue_record *rec,
                          struct topic_selector_cache *cache);

/* The whole policy for one subscriber: request r's selectors, claims c
 * (NULL: anonymous). cache may be NULL. */
bool stream_match_record(const struct stream_req *r,
                         const struct jwt_claims *c,
                         const struct queue_record *rec,
                         struct topic_selector_cache *cache);

#endif
