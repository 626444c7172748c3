/* stream_auth.c -- a subscriber's token, found and verified (see
 * stream_auth.h for the policy). */
#include "ac_config.h"

#include "stream/stream_auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* Verifies token[0..len) into out. 0 or 401 with *reason. */
static int stream_auth_verify(const struct jwt_auth_key *key,
                              const char *token, size_t len, time_t now,
                              struct stream_auth *out, const char **reason)
{
    const char *why;
    int rc;

    if (key == NULL) {
        *reason = "token presented but no subscriber key is configured";
        return 401;
    }
    rc = jwt_auth_verify(key, token, len, now, &out->claims, &why);
    if (rc != JWT_AUTH_OK) {
        *reason = jwt_auth_result_name((enum jwt_auth_result)rc);
        return 401;
    }
    out->token = true;
    return 0;
}

int stream_auth_check(const struct config *cfg, const struct jwt_auth_key *key,
                      stream_req_get_fn get, void *ctx, time_t now,
                      struct stream_auth *out, const char **reason)
{
    size_t len = 0;
    char *buf;
    int rc;

    memset(out, 0, sizeof(*out));
    buf = malloc(JWT_AUTH_TOKEN_MAX + 1);
    if (buf == NULL) {
        *reason = "out of memory";
        return 503;
    }
    rc = mercure_token_find(get("HTTP_AUTHORIZATION", ctx),
                            get("QUERY_STRING", ctx),
                            get("HTTP_COOKIE", ctx),
                            cfg->mercure_cookie_name, buf,
                            JWT_AUTH_TOKEN_MAX + 1, &len, &out->source);
    if (rc == -ENOENT) {
        rc = cfg->mercure_anonymous ? 0 : 401;
        *reason = "no token, and mercure.anonymous is off";
    } else if (rc < 0) {
        *reason = rc == -E2BIG ? "token too long" :
                  "token unusable (Authorization not \"Bearer\", or an "
                  "empty or badly encoded parameter or cookie)";
        rc = 401;
    } else {
        rc = stream_auth_verify(key, buf, len, now, out, reason);
    }
    memset(buf, 0, len);
    free(buf);
    return rc;
}
