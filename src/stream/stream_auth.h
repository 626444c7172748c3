/* stream_auth.h -- who an event-stream subscriber is (both endpoints):
 * its Mercure token, found by mercure_token_find (Authorization: Bearer,
 * else the authorization query parameter, else the mercure.cookie_name
 * cookie) and verified with the subscriber key (jwt_auth.h).
 *
 * Policy (as the Mercure.rocks hub):
 *   - no token: allowed when mercure.anonymous (public updates only),
 *     else 401;
 *   - a token presented but unusable, invalid, expired, of another
 *     algorithm, or with no subscriber key configured: 401, even when
 *     anonymous subscribers are allowed;
 *   - a valid token: its grants (mercure.subscribe selectors, or a 1.0
 *     access token's subscribe authorization details, its urlpattern
 *     ones compiled against the hub's URL within
 *     mercure.selector_cost_max: one that is no URL pattern or costs
 *     more refuses the token, 401) decide which
 *     private updates the stream gets (stream_match.h), its exp when the
 *     stream ends.
 * Mercure 1.0 (a hub request with a 1.0 key: match=, last_event_id=):
 *   - the token comes from the Authorization header or the
 *     mercure.access_cookie_name cookie; a token parameter in the URL
 *     (authorization=, access_token=) is a 400, never a fall through;
 *   - an access token (at+jwt) is never taken from the URL on any
 *     request (400);
 *   - its refusals carry a WWW-Authenticate challenge with
 *     resource_metadata (mercure.resource set) and the RFC 6750 error
 *     (stream_auth_challenge). A v0.x request keeps plain "Bearer".
 * Reasons are constant text and never quote the token or a cookie. */
#ifndef SSEQ_STREAM_AUTH_H
#define SSEQ_STREAM_AUTH_H

#include <stdbool.h>
#include <time.h>

#include "conf/config.h"
#include "mercure/jwt_auth.h"
#include "mercure/jwt_claims.h"
#include "mercure/mercure_token.h"
#include "stream/stream_req.h"

/* A subscriber's identity. */
struct stream_auth {
    bool token;                 /* a valid token was presented */
    bool v1;                    /* a Mercure 1.0 hub request */
    const char *error;          /* refused: the RFC 6750 error code, or
                                   NULL (no token presented) */
    enum mercure_token_source source;   /* where it came from */
    struct jwt_claims claims;   /* its claims (empty without a token) */
    char why[240];              /* a refusal's reason naming a grant */
};

/* The subscriber key of cfg into *k (*have false when none is
 * configured). 0, or -EINVAL / -ENOMEM with *why set. */
int stream_auth_key_load(const struct config *cfg, struct jwt_auth_key *k,
                         bool *have, const char **why);

/* Reads and checks the token of the request behind get/ctx at time now.
 * key: the subscriber key, NULL when none is configured. Returns 0
 * (*out filled), or 401 with *reason (constant, or out->why). Free
 * out->claims with jwt_claims_free in either case. */
int stream_auth_check(const struct config *cfg, const struct jwt_auth_key *key,
                      stream_req_get_fn get, void *ctx, time_t now,
                      struct stream_auth *out, const char **reason);

/* The WWW-Authenticate value for a refusal with status of a request
 * whose identity is a, into out (cap bytes): on a 1.0 request, for a 401
 * or a refused token, mercure_prm_challenge's text with cfg's resource;
 * else NULL (a v0.x 401 keeps the caller's plain "Bearer"). */
const char *stream_auth_challenge(const struct config *cfg,
                                  const struct stream_auth *a, int status,
                                  char *out, size_t cap);

#endif
