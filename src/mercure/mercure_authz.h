/* mercure_authz.h -- Mercure 1.0 grants: the RFC 9396
 * `authorization_details` claim of an access token, read and evaluated.
 *
 * An entry whose "type" is MERCURE_AUTHZ_TYPE (compared byte for byte)
 * is a Mercure detail: "actions", a non-empty array of strings
 * ("publish", "subscribe"; others are ignored and grant nothing),
 * "topics", a non-empty array of {"match": STRING, "match_type":
 * STRING?} objects ("exact" when absent; "urlpattern" through
 * authz_urlpattern.h, compiled by mercure_authz_bind against the hub's
 * URL; any other type refuses the token), and an optional
 * "payload" object (kept as compact JSON for subscription events).
 * Entries of another type are skipped whole. A match of exactly "*" is
 * the wildcard, whatever its match_type. One bad Mercure detail refuses
 * the whole claim: no partial acceptance.
 *
 * A token grants an action on a topic when one of its Mercure details
 * lists the action and one of that detail's matchers matches the topic:
 * "*" every topic, exact byte for byte (never a template, never
 * normalised), urlpattern the compiled pattern. */
#ifndef SSEQ_MERCURE_AUTHZ_H
#define SSEQ_MERCURE_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "base/json_in.h"
#include "mercure/authz_urlpattern.h"

#define MERCURE_AUTHZ_TYPE "https://mercure.rocks/authorization-detail"
#define MERCURE_AUTHZ_DETAILS_MAX 64    /* entries of the claim */
#define MERCURE_AUTHZ_MATCHERS_MAX 1024 /* topics of all Mercure details */
#define MERCURE_AUTHZ_MATCH_MAX 4096    /* bytes of one match value */

/* The actions sseq knows (a bit each). */
enum mercure_authz_action {
    MERCURE_AUTHZ_PUBLISH = 1u << 0,
    MERCURE_AUTHZ_SUBSCRIBE = 1u << 1,
};

/* How a matcher matches. */
enum mercure_authz_kind {
    MERCURE_AUTHZ_ANY = 0,          /* "*": every topic */
    MERCURE_AUTHZ_EXACT,            /* byte for byte */
    MERCURE_AUTHZ_URLPATTERN,       /* a compiled URL pattern */
};

/* One entry of a detail's "topics". */
struct mercure_authz_matcher {
    enum mercure_authz_kind kind;
    char *match;                    /* the value, NUL-terminated */
    size_t len;
    struct authz_urlpattern *pattern;   /* URLPATTERN: compiled */
};

/* One Mercure detail. */
struct mercure_authz_detail {
    unsigned actions;               /* enum mercure_authz_action bits */
    size_t first, n;                /* its matchers: [first, first + n) */
    char *payload;                  /* compact JSON object, or NULL */
    size_t payload_len;
};

/* The Mercure details of a token (other types not kept). */
struct mercure_authz {
    struct mercure_authz_detail *details;
    size_t n_details;
    struct mercure_authz_matcher *matchers;
    size_t n_matchers;
    size_t n_patterns;              /* URLPATTERN matchers among them */
    bool bound;                     /* they are compiled (bind) */
};

/* Reads the claim's value at j's cursor (an array) into *a (zeroed
 * first; free with mercure_authz_free even on failure). 0; -EBADMSG
 * with *why a constant reason when the claim breaks a rule above or a
 * limit; -EINVAL (malformed JSON); -ENOMEM. */
int mercure_authz_parse(struct json_in *j, struct mercure_authz *a,
                        const char **why);

void mercure_authz_free(struct mercure_authz *a);

/* Compiles a's URL pattern matchers against base[0..blen) (the hub's
 * URL: relative patterns and topics resolve against it), each at most
 * cost_max (authz_urlpattern.h). Until it succeeds, a claim holding a
 * URL pattern grants nothing at all (no partial acceptance). 0;
 * -EBADMSG with why[0..cap) one line naming the pattern (not one, or too
 * costly): the token is to be refused; -ENOMEM. */
int mercure_authz_bind(struct mercure_authz *a, const char *base,
                       size_t blen, unsigned long cost_max, char *why,
                       size_t cap);

/* Whether a may grant anything: it holds no URL pattern, or is bound. */
bool mercure_authz_usable(const struct mercure_authz *a);

/* Whether a grants action (one enum mercure_authz_action bit) on
 * topic[0..len). */
bool mercure_authz_allows(const struct mercure_authz *a, unsigned action,
                          const char *topic, size_t len);

/* The payload for a subscription whose own matcher is m[0..len): that of
 * the first subscribe detail one of whose matchers matches m taken as a
 * topic; NULL when there is none or it has no payload. */
const struct mercure_authz_detail *
mercure_authz_payload(const struct mercure_authz *a, const char *m,
                      size_t len);

#endif
