/* subscription_path.h -- which subscriptions a request of the
 * subscription API asks for, read from its raw (still percent-encoded)
 * path, and whether a subscription is among them. Pure.
 *
 *   /.well-known/mercure/subscriptions                  every one
 *   .../subscriptions/{topic}                           v0.x, by selector
 *   .../subscriptions/{topic}/{subscriber}              v0.x, one
 *   .../subscriptions/{match_type}/{match}              1.0, by matcher
 *   .../subscriptions/{match_type}/{match}/{subscriber} 1.0, one
 *
 * Two segments whose first is a 1.0 matcher type name ("exact",
 * "urlpattern") are 1.0's; a v0.x selector spelt like one is not
 * reachable by this path. Segments are split on '/' before decoding, so
 * an encoded %2F stays inside its segment. */
#ifndef SSEQ_SUBSCRIPTION_PATH_H
#define SSEQ_SUBSCRIPTION_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "mercure/subscription.h"

enum subscription_path_kind {
    SUBSCRIPTION_PATH_ALL = 0,  /* the collection */
    SUBSCRIPTION_PATH_V0_TOPIC, /* v0.x collection of one selector */
    SUBSCRIPTION_PATH_V0_ONE,   /* v0.x single subscription */
    SUBSCRIPTION_PATH_V1_MATCH, /* 1.0 collection of one matcher */
    SUBSCRIPTION_PATH_V1_ONE,   /* 1.0 single subscription */
};

/* A parsed request path. selector and subscriber point into the
 * caller's buffer (decoded, NUL-terminated). */
struct subscription_path {
    enum subscription_path_kind kind;
    int match;                  /* 1.0: enum subscription_match */
    const char *selector;       /* NULL for ALL */
    size_t selector_len;
    const char *subscriber;     /* NULL unless a single subscription */
    size_t subscriber_len;
};

/* Reads path[0..len) (no query) into *out, decoding into buf (cap >=
 * len + 2). 0; -ENOENT: not a path of the API (404); -EINVAL: a bad
 * percent escape or an encoded NUL (400). */
int subscription_path_parse(const char *path, size_t len,
                            struct subscription_path *out, char *buf,
                            size_t cap);

/* Whether subscription s is among what p asks for. */
bool subscription_path_selects(const struct subscription_path *p,
                               const struct subscription *s);

/* Whether p asks for the documents of 1.0 (application/json, no
 * "@context"); v1_default for the collection of every one. */
bool subscription_path_v1(const struct subscription_path *p, bool v1_default);

#endif
