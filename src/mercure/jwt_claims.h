/* jwt_claims.h -- what sseq reads from a JWS: the header's "alg", and
 * from the payload the registered exp and nbf claims and the Mercure
 * claim's topic selectors ("mercure": {"publish": [..], "subscribe":
 * [..]}) and its payload (any JSON, kept as compact text for active
 * subscriptions). The JSON reader is strict (RFC 8259, UTF-8, no duplicate
 * member among the ones read, bounded depth) and allocates only the
 * selectors it returns. It never verifies anything: jwt_auth.h does. */
#ifndef SSEQ_JWT_CLAIMS_H
#define SSEQ_JWT_CLAIMS_H

#include <stddef.h>
#include <stdbool.h>
#include <time.h>

#include "mercure/topic_selector.h"

#define JWT_CLAIMS_SELECTORS_MAX 1024   /* entries in publish / subscribe */
#define JWT_CLAIMS_DEPTH_MAX 32         /* nesting of arrays and objects */
#define JWT_CLAIMS_ALG_MAX 16           /* bytes of an "alg" value + NUL */

struct jwt_claims {
    char **publish;             /* mercure.publish selectors (NUL-free) */
    size_t *publish_len;        /* their lengths */
    size_t n_publish;
    char **subscribe;           /* mercure.subscribe selectors */
    size_t *subscribe_len;
    size_t n_subscribe;
    bool has_exp;               /* exp present */
    time_t exp;                 /* expiry, seconds since the epoch */
    bool has_nbf;               /* nbf present */
    time_t nbf;                 /* not before */
    char *payload;              /* mercure.payload, compact JSON; NULL */
    size_t payload_len;
};

/* Reads the "alg" of a JOSE header (JSON text, len bytes) into alg (cap
 * bytes, NUL-terminated). 0, or -EINVAL: not a JSON object, no "alg"
 * string, alg longer than cap - 1, "alg" twice, or a "crit" member (no
 * extension is understood, so RFC 7515 section 4.1.11 says refuse). */
int jwt_claims_header_alg(const char *json, size_t len, char *alg,
                          size_t cap);

/* Reads a JWT claims set (JSON text, len bytes) into *out (zeroed
 * first; free with jwt_claims_free even on failure). 0; -EINVAL with
 * *why set when the text is not one JSON object; -EBADMSG with *why set
 * when a claim read is wrong (exp/nbf not a number in [0, year 9999],
 * mercure not an object, publish/subscribe not an array of strings, a
 * selector with a NUL, too many selectors, a member given twice);
 * -ENOMEM. */
int jwt_claims_parse(const char *json, size_t len, struct jwt_claims *out,
                     const char **why);

void jwt_claims_free(struct jwt_claims *c);

/* Whether a selector of mercure.publish (resp. mercure.subscribe)
 * matches topic[0..len); cache may be NULL. */
bool jwt_claims_can_publish(const struct jwt_claims *c, const char *topic,
                            size_t len, struct topic_selector_cache *cache);
bool jwt_claims_can_subscribe(const struct jwt_claims *c, const char *topic,
                              size_t len,
                              struct topic_selector_cache *cache);

#endif
