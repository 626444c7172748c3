/* stream_auth.c -- a subscriber's token, found and verified (see
 * stream_auth.h for the policy). */
#include "ac_config.h"

#include "stream/stream_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/query.h"
#include "mercure/mercure_hub.h"
#include "mercure/mercure_prm.h"

int stream_auth_key_load(const struct config *cfg, struct jwt_auth_key *k,
                         bool *have, const char **why)
{
    int rc;

    memset(k, 0, sizeof(*k));
    *have = false;
    if (cfg->mercure_sub.key == NULL)
        return 0;
    rc = jwt_auth_key_init(k, cfg->mercure_sub.alg, cfg->mercure_sub.key,
                           cfg->mercure_sub.len, why);
    if (rc == 0 && cfg->mercure_issuer[0] != '\0') {
        rc = jwt_auth_key_access(k, cfg->mercure_issuer,
                                 cfg->mercure_resource);
        *why = "out of memory";
        if (rc < 0)
            jwt_auth_key_free(k);
    }
    *have = rc == 0;
    return rc;
}

/* Whether the request is a Mercure 1.0 hub request: on the hub, with a
 * query key of 1.0 (stream_req_hub_key: neither v0.x's nor another). */
static bool stream_auth_v1(stream_req_get_fn get, void *ctx)
{
    const char *q = get("QUERY_STRING", ctx);
    struct query_pair pr;
    size_t pos = 0, len;

    if (q == NULL || !mercure_hub_request(get("DOCUMENT_URI", ctx),
                                          get("SCRIPT_NAME", ctx),
                                          get("REQUEST_URI", ctx)))
        return false;
    len = strlen(q);
    while (query_next(q, len, &pos, &pr)) {
        enum stream_req_hub_key k = stream_req_hub_key(pr.key, pr.key_len);

        if (k != STREAM_REQ_KEY_OTHER && k != STREAM_REQ_KEY_TOPIC &&
            k != STREAM_REQ_KEY_LAST_V0)
            return true;
    }
    return false;
}

/* Verifies token[0..len) into out. 0, or 401 / 400 with *reason. */
static int stream_auth_verify(const struct jwt_auth_key *key,
                              const char *token, size_t len, time_t now,
                              struct stream_auth *out, const char **reason)
{
    const char *why;
    int rc;

    out->error = "invalid_token";
    if (key == NULL) {
        *reason = "token presented but no subscriber key is configured";
        return 401;
    }
    rc = jwt_auth_verify(key, token, len, now, &out->claims, &why);
    if (rc != JWT_AUTH_OK) {
        *reason = why;
        return 401;
    }
    if (out->claims.access_token && out->source == MERCURE_TOKEN_QUERY) {
        out->error = "invalid_request";
        *reason = "an access token (typ at+jwt) is never taken from the "
                  "URL: send Authorization: Bearer or the "
                  "mercure.access_cookie_name cookie";
        return 400;
    }
    out->error = NULL;
    out->token = true;
    return 0;
}

/* Compiles the URL pattern grants of a verified token against the hub's
 * URL (mercure_hub_url), each within mercure.selector_cost_max. 0, or
 * 401 (invalid_token) / 503 with *reason (out->why). */
static int stream_auth_bind(const struct config *cfg, stream_req_get_fn get,
                            void *ctx, struct stream_auth *out,
                            const char **reason)
{
    char hub[STREAM_REQ_HUB_URL_MAX];
    size_t hlen;
    int rc;

    if (out->claims.authz.n_patterns == 0)
        return 0;
    hlen = stream_req_hub_url(cfg, get, ctx, hub, sizeof(hub));
    rc = hlen == 0 ? -EBADMSG
         : jwt_claims_bind(&out->claims, hub, hlen,
                           cfg->mercure_selector_cost_max, out->why,
                           sizeof(out->why));
    if (hlen == 0)
        snprintf(out->why, sizeof(out->why), "the token's urlpattern "
                 "grants need the hub's URL, unusable here (set "
                 "mercure.hub_url)");
    *reason = rc == -ENOMEM ? "out of memory" : out->why;
    if (rc == 0)
        return 0;
    out->token = false;
    out->error = "invalid_token";
    return rc == -ENOMEM ? 503 : 401;
}

/* Finds the request's token into buf: a 1.0 request in the header or
 * the 1.0 cookie (a token in its URL is -EPERM); any other in the
 * header, the authorization= parameter or the v0.x cookie (on the hub
 * and under it, the subscription API, also the 1.0 one). */
static int stream_auth_find(const struct config *cfg, bool hub,
                            stream_req_get_fn get, void *ctx,
                            struct stream_auth *out, char *buf,
                            size_t *len)
{
    struct mercure_token_where w = {
        .query = !out->v1,
        .cookie = out->v1 ? cfg->mercure_access_cookie
                          : cfg->mercure_cookie_name,
        .cookie2 = (hub || mercure_hub_under(get("DOCUMENT_URI", ctx))) &&
                   !out->v1 ? cfg->mercure_access_cookie : NULL,
    };
    const char *authz = get("HTTP_AUTHORIZATION", ctx);

    if (out->v1 && (authz == NULL || authz[0] == '\0') &&
        mercure_token_in_url(get("QUERY_STRING", ctx))) {
        out->source = MERCURE_TOKEN_QUERY;
        return -EPERM;
    }
    return mercure_token_find_in(&w, authz, get("QUERY_STRING", ctx),
                                 get("HTTP_COOKIE", ctx), buf,
                                 JWT_AUTH_TOKEN_MAX + 1, len, &out->source);
}

int stream_auth_check(const struct config *cfg, const struct jwt_auth_key *key,
                      stream_req_get_fn get, void *ctx, time_t now,
                      struct stream_auth *out, const char **reason)
{
    bool hub = mercure_hub_request(get("DOCUMENT_URI", ctx),
                                   get("SCRIPT_NAME", ctx),
                                   get("REQUEST_URI", ctx));
    size_t len = 0;
    char *buf;
    int rc;

    memset(out, 0, sizeof(*out));
    out->v1 = stream_auth_v1(get, ctx);
    buf = malloc(JWT_AUTH_TOKEN_MAX + 1);
    if (buf == NULL) {
        *reason = "out of memory";
        return 503;
    }
    rc = stream_auth_find(cfg, hub, get, ctx, out, buf, &len);
    if (rc == -ENOENT) {
        rc = cfg->mercure_anonymous ? 0 : 401;
        *reason = "no token, and mercure.anonymous is off";
    } else if (rc == -EPERM) {
        out->error = "invalid_request";
        *reason = "a Mercure 1.0 request (match=) takes no token in the "
                  "URL (authorization=, access_token=): send "
                  "Authorization: Bearer or the mercure.access_cookie_name "
                  "cookie";
        rc = 400;
    } else if (rc < 0) {
        out->error = "invalid_token";
        *reason = rc == -E2BIG ? "token too long" :
                  "token unusable (Authorization not \"Bearer\", or an "
                  "empty or badly encoded parameter or cookie)";
        rc = 401;
    } else {
        rc = stream_auth_verify(key, buf, len, now, out, reason);
        if (rc == 0)
            rc = stream_auth_bind(cfg, get, ctx, out, reason);
    }
    memset(buf, 0, len);
    free(buf);
    return rc;
}

const char *stream_auth_challenge(const struct config *cfg,
                                  const struct stream_auth *a, int status,
                                  char *out, size_t cap)
{
    const char *res = cfg->mercure_resource[0] != '\0'
                      ? cfg->mercure_resource : NULL;

    if (!a->v1 || (status != 401 && a->error == NULL))
        return NULL;
    return mercure_prm_challenge(res, a->error, out, cap) > 0 ? out : NULL;
}
