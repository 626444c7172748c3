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
 *     some topic (an anonymous subscriber never sees a private record). */
#ifndef SSEQ_STREAM_MATCH_H
#define SSEQ_STREAM_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "mercure/jwt_claims.h"
#include "queue/queue.h"
#include "stream/stream_req.h"
#include "mercure/topic_selector.h"

/* How selector sel[0..len) is matched: "*" and templates that compile
 * are PATTERN; anything else (a bad template included, which
 * topic_selector_match treats as a plain string) is EXACT. */
enum stream_req_kind stream_match_kind(const char *sel, size_t len);

/* Whether selector sel[0..len) of kind matches some topic of rec (only
 * rec's channel and alternates are read). cache may be NULL. */
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
