/* subscription.h -- Mercure active subscriptions, both dialects: the
 * topic of a subscription update and its JSON(-LD) document.
 *
 * v0.x: topic  /.well-known/mercure/subscriptions/{topic}/{subscriber},
 *       document {"@context", "id", "type": "Subscription", "topic",
 *       "subscriber", "active", "payload"};
 * 1.0:  topic  /.well-known/mercure/subscriptions/{match_type}/{match}/
 *       {subscriber}, document {"id", "type": "subscription",
 *       "match_type", "match", "subscriber", "active", "payload"}.
 * Each variable is percent-encoded once, as a whole (RFC 6570 simple
 * expansion: every byte but ALPHA DIGIT - . _ ~ becomes %XX, a '%' too).
 * The payload is compact JSON text from the subscriber's token, copied
 * as is. Pure: no allocation; every writer works like snprintf (returns
 * the length it needs, writes only what fits in cap, never a NUL). */
#ifndef SSEQ_SUBSCRIPTION_H
#define SSEQ_SUBSCRIPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mercure/mercure_hub.h"

#define SUBSCRIPTION_PATH MERCURE_HUB_PATH "/subscriptions"
#define SUBSCRIPTION_CONTEXT "https://mercure.rocks/"
#define SUBSCRIPTION_ID_MAX 46      /* "urn:uuid:" + 36 + NUL */
#define SUBSCRIPTION_EVENT "mercure"    /* 1.0's SSE event type */

/* Which protocol the subscription was made in (which document). */
enum subscription_dialect {
    SUBSCRIPTION_V0 = 0,        /* topic= selector */
    SUBSCRIPTION_V1,            /* 1.0 matcher */
};

/* A 1.0 matcher type (its canonical name: subscription_match_name). */
enum subscription_match {
    SUBSCRIPTION_MATCH_EXACT = 0,
    SUBSCRIPTION_MATCH_URLPATTERN,
    SUBSCRIPTION_NMATCH,
};

/* One subscription: a selector of one stream. */
struct subscription {
    uint8_t dialect;            /* enum subscription_dialect */
    uint8_t match;              /* 1.0: enum subscription_match */
    const char *selector;       /* v0.x topic selector, or 1.0 matcher */
    size_t selector_len;
    const char *subscriber;     /* the stream's id (subscription_id) */
    size_t subscriber_len;
    const char *payload;        /* JSON text; NULL: none */
    size_t payload_len;
};

/* Extra members of a document (subscription_doc). */
enum subscription_doc_flags {
    SUBSCRIPTION_DOC_CONTEXT = 1,   /* v0.x "@context" (a top document) */
};

/* The canonical name of matcher type m ("exact", "urlpattern"). */
const char *subscription_match_name(enum subscription_match m);

/* The matcher type named name[0..len), or -ENOENT. */
int subscription_match_parse(const char *name, size_t len);

/* Percent-encodes s[0..len) as one RFC 6570 simple-expansion value into
 * out (see the top). Returns the encoded length. */
size_t subscription_pct_encode(char *out, size_t cap, const char *s,
                               size_t len);

/* The subscriber id for 16 random bytes: "urn:uuid:" and a version 4
 * UUID, into out (SUBSCRIPTION_ID_MAX bytes, NUL-terminated). */
void subscription_id(char out[SUBSCRIPTION_ID_MAX], const uint8_t rnd[16]);

/* The update's topic for s (its "id" too). Returns its length. */
size_t subscription_topic(char *out, size_t cap, const struct subscription *s);

/* The document of s, "active": active, flags as above; last_event_id
 * (NULL: none) adds v0.x's "lastEventID" member. Returns its length. */
size_t subscription_doc(char *out, size_t cap, const struct subscription *s,
                        bool active, unsigned flags,
                        const char *last_event_id);

#endif
