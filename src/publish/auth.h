/* auth.h -- who may publish to a channel: "Authorization: Bearer TOKEN"
 * compared in constant time against the config's publish.tokens, each
 * limited to channel globs; channels matching publish.open_channels need
 * no token, but a token presented there must still be a valid one (a
 * wrong or malformed credential is refused, never ignored). With no
 * tokens configured, publishing to any other channel is refused (never
 * open by default). Tokens never leave this module: no outcome, reason or
 * log line contains one.
 *
 * Publishers may also present a Mercure JWT (jwt_auth.h), verified with
 * the publisher key: its mercure.publish selectors must match every topic
 * of the update (on /publish: the channel). On the Mercure hub
 * (/.well-known/mercure) the token comes from mercure_token_find_in
 * (header, authorization= parameter, the v0.x cookie, the 1.0 cookie;
 * a 1.0 access token is never taken from the URL), only JWTs count unless
 * mercure.static_tokens_on_hub, there are no open channels, and a cookie
 * sent from a page of another origin than a cors_credentials_origins one
 * is refused (a browser would send it on a forged POST). The decision is
 * auth_publish_decide, a pure function of the facts auth_publish
 * gathers. */
#ifndef SSEQ_AUTH_H
#define SSEQ_AUTH_H

#include <stddef.h>
#include <stdbool.h>
#include <time.h>

#include "conf/config.h"

/* Outcomes of auth_publish (domain results, not errors). */
enum auth_result {
    AUTH_OK = 0,            /* a configured token, allowed for the channel */
    AUTH_OPEN,              /* open channel: no token presented, or a
                               valid one limited to other channels */
    AUTH_MISSING,           /* no Authorization header (401) */
    AUTH_NOT_BEARER,        /* Authorization is not "Bearer <token>" (401) */
    AUTH_WRONG_TOKEN,       /* no configured token matches (403) */
    AUTH_CHANNEL_DENIED,    /* token valid, not for this channel (403) */
    AUTH_DISABLED,          /* no tokens configured (403) */
    AUTH_UNUSABLE,          /* hub: token source present, unusable (401) */
    AUTH_JWT_INVALID,       /* JWT refused by the publisher key (401) */
    AUTH_TOPIC_DENIED,      /* hub: a topic is not covered (403) */
    AUTH_HUB_DISABLED,      /* hub: no publisher key configured (403) */
    AUTH_STATIC_ON_HUB,     /* hub: a publish.tokens token, not allowed
                               there (401) */
    AUTH_COOKIE_ORIGIN,     /* hub: cookie sent from a foreign origin (403) */
    AUTH_TOKEN_IN_URL,      /* hub: a 1.0 access token in the URL (400) */
};

/* What the credential of a publish request turned out to be. */
enum auth_cred {
    AUTH_CRED_NONE = 0,     /* none presented */
    AUTH_CRED_UNUSABLE,     /* a source present but unusable */
    AUTH_CRED_STATIC,       /* equal to a publish.tokens token */
    AUTH_CRED_JWT,          /* a JWT the publisher key accepted */
    AUTH_CRED_JWT_BAD,      /* a JWT (has a '.') the key refused, or any
                               token on the hub that is neither */
    AUTH_CRED_WRONG,        /* neither a token nor a JWT */
    AUTH_CRED_JWT_IN_URL,   /* a 1.0 access token the key accepted, sent
                               in the authorization= parameter */
};

/* The facts a publish decision depends on. */
struct auth_pub_facts {
    bool hub;               /* the request is for /.well-known/mercure */
    enum auth_cred cred;
    bool covered;           /* the credential's globs or selectors match
                               every topic of the update */
    bool open;              /* /publish: the channel is an open one */
    bool tokens;            /* publish.tokens has a token */
    bool key;               /* a publisher key is configured */
    bool static_on_hub;     /* mercure.static_tokens_on_hub */
    bool cookie_foreign;    /* the token came from the cookie and Origin
                               is neither absent nor a credentials origin */
};

/* The outcome for the facts (pure; the table-driven unit suite). */
enum auth_result auth_publish_decide(const struct auth_pub_facts *f);

/* A publish request's credential sources and the update's topics. */
struct auth_pub_request {
    bool hub;                   /* /.well-known/mercure */
    const char *authorization;  /* Authorization header, NULL if absent */
    const char *query;          /* hub: the raw query string, or NULL */
    const char *cookie;         /* hub: the Cookie header, or NULL */
    const char *origin;         /* hub: the Origin header, or NULL */
    const char *const *topic;   /* the topics (on /publish: the channel) */
    const size_t *topic_len;
    size_t n_topic;
    const char *hub_url;        /* hub: its URL, the base of a 1.0
                                   token's urlpattern grants */
    size_t hub_url_len;
    char *why;                  /* room for a refused grant's reason */
    size_t why_cap;
};

struct jwt_auth_key;
struct topic_selector_cache;

/* Finds and checks the request's credential against cfg's tokens and the
 * publisher key (NULL: none) at time now, then decides. *detail is set
 * to a one-line detail for a refused JWT ("expired", ...; req->why when
 * a urlpattern grant is refused), or "" (never NULL, never a token).
 * cache may be NULL. */
enum auth_result auth_publish(const struct config *cfg,
                              const struct jwt_auth_key *key,
                              struct topic_selector_cache *cache,
                              const struct auth_pub_request *req,
                              time_t now, const char **detail);

/* The HTTP status for an outcome: 0 for AUTH_OK/AUTH_OPEN, else 401/403. */
int auth_status(enum auth_result r);

/* The RFC 6750 error code of a refusal's WWW-Authenticate challenge
 * (Mercure 1.0): "invalid_token", "insufficient_scope",
 * "invalid_request", or NULL (no token presented, or not a token
 * matter). */
const char *auth_error(enum auth_result r);

/* A one-line reason for a refusal (never contains the token). */
const char *auth_reason(enum auth_result r);

/* Whether a[0..alen) equals b[0..blen); time depends on alen only, never
 * on the contents or on where they differ. */
bool auth_token_equal(const char *a, size_t alen, const char *b, size_t blen);

/* Whether channel matches one of the n fnmatch globs (n == 0: none). */
bool auth_glob_match(char *const *globs, size_t n, const char *channel);

#endif
