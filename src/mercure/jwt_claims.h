/* jwt_claims.h -- what sseq reads from a JWS: the header's "alg" and
 * "typ", and from the payload the registered exp, nbf, iss, aud and sub
 * claims, v0.x's Mercure claim's topic selectors ("mercure": {"publish":
 * [..], "subscribe": [..]}) and its payload (any JSON, kept as compact
 * text for active subscriptions), and 1.0's authorization_details
 * (mercure_authz.h). Which grants count is the token's kind: an RFC 9068
 * access token (typ at+jwt, access_token set by jwt_auth.c) is granted
 * by its authorization_details only, any other token by its mercure
 * claim only. The JSON reader is strict (RFC 8259, UTF-8, no duplicate
 * member among the ones read, bounded depth) and allocates only the
 * selectors it returns. It never verifies anything: jwt_auth.h does. */
#ifndef SSEQ_JWT_CLAIMS_H
#define SSEQ_JWT_CLAIMS_H

#include <stddef.h>
#include <stdbool.h>
#include <time.h>

#include "mercure/mercure_authz.h"
#include "mercure/topic_selector.h"

#define JWT_CLAIMS_SELECTORS_MAX 1024   /* entries in publish / subscribe */
#define JWT_CLAIMS_DEPTH_MAX 32         /* nesting of arrays and objects */
#define JWT_CLAIMS_ALG_MAX 16           /* bytes of an "alg" value + NUL */
#define JWT_CLAIMS_AUD_MAX 64           /* entries of an aud array */
#define JWT_CLAIMS_STRING_MAX 2048      /* bytes of iss, sub, an aud */

/* What sseq reads from a JOSE header. */
struct jwt_header {
    char alg[JWT_CLAIMS_ALG_MAX];   /* "alg", NUL-terminated */
    bool at_jwt;                    /* "typ" is at+jwt or application/
                                       at+jwt (any case): RFC 9068 */
    bool typ_other;                 /* "typ" is neither that nor JWT */
};

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
    char *iss;                  /* iss, or NULL */
    char *sub;                  /* sub, or NULL */
    char **aud;                 /* aud (a string or an array of them) */
    size_t *aud_len;
    size_t n_aud;
    bool has_authz;             /* authorization_details present */
    struct mercure_authz authz; /* its Mercure details */
    bool access_token;          /* an RFC 9068 access token (set by
                                   jwt_auth.c): authz grants, not the
                                   mercure claim */
    char *payload;              /* mercure.payload, compact JSON; NULL */
    size_t payload_len;
};

/* Reads a JOSE header (JSON text, len bytes) into *h. 0, or -EINVAL:
 * not a JSON object, no "alg" string, alg longer than
 * JWT_CLAIMS_ALG_MAX - 1, "alg" or "typ" twice, typ not a string, or a
 * "crit" member (no extension is understood, so RFC 7515 section
 * 4.1.11 says refuse). */
int jwt_claims_header(const char *json, size_t len, struct jwt_header *h);

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
 * selector with a NUL, too many selectors, iss/sub not a string, aud
 * not a string or an array of strings, authorization_details breaking
 * a rule of mercure_authz.h, a member given twice); -ENOMEM. */
int jwt_claims_parse(const char *json, size_t len, struct jwt_claims *out,
                     const char **why);

void jwt_claims_free(struct jwt_claims *c);

/* Compiles the URL pattern grants of c's authorization_details against
 * the hub's URL base[0..blen), each at most cost_max
 * (mercure_authz_bind; until then they grant nothing). 0; -EBADMSG with
 * why[0..cap) naming the pattern (refuse the token); -ENOMEM. */
int jwt_claims_bind(struct jwt_claims *c, const char *base, size_t blen,
                    unsigned long cost_max, char *why, size_t cap);

/* Whether aud of c holds s (NUL-terminated). */
bool jwt_claims_has_aud(const struct jwt_claims *c, const char *s);

/* Whether c grants publishing (resp. receiving private updates) on
 * topic[0..len): for an access token a Mercure detail with that action
 * (mercure_authz_allows), else a selector of mercure.publish (resp.
 * mercure.subscribe); cache (for templates) may be NULL. */
bool jwt_claims_can_publish(const struct jwt_claims *c, const char *topic,
                            size_t len, struct topic_selector_cache *cache);
bool jwt_claims_can_subscribe(const struct jwt_claims *c, const char *topic,
                              size_t len,
                              struct topic_selector_cache *cache);

#endif
