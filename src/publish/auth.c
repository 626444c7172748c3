/* auth.c -- bearer tokens, token channel globs, open channels, publisher
 * JWTs; the decision table and the mechanism that gathers its facts. */
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include "publish/auth.h"
#include "base/bearer.h"
#include "mercure/jwt_auth.h"
#include "mercure/jwt_claims.h"
#include "mercure/mercure_token.h"
#include "queue/queue.h"

struct auth_outcome {
    enum auth_result result;
    int status;
    const char *reason;
    const char *error;          /* RFC 6750 error code, or NULL */
};

#define AO_TOKEN "invalid_token"
#define AO_SCOPE "insufficient_scope"

/* Status and reason of every outcome; indexed by enum auth_result. */
static const struct auth_outcome auth_outcomes[] = {
    { AUTH_OK, 0, "authorized", NULL },
    { AUTH_OPEN, 0, "open channel", NULL },
    { AUTH_MISSING, 401,
      "authorization required: send \"Authorization: Bearer <token>\"",
      NULL },
    { AUTH_NOT_BEARER, 401,
      "Authorization header is not \"Bearer <token>\"", AO_TOKEN },
    { AUTH_WRONG_TOKEN, 403, "wrong token", NULL },
    { AUTH_CHANNEL_DENIED, 403, "token not allowed for this channel",
      NULL },
    { AUTH_DISABLED, 403,
      "publishing is disabled: no tokens in the config (publish.tokens)",
      NULL },
    { AUTH_UNUSABLE, 401, "unusable credential: Authorization not "
      "\"Bearer <token>\", authorization= empty, bad or given twice, or "
      "an empty cookie", AO_TOKEN },
    { AUTH_JWT_INVALID, 401, "invalid publisher JWT", AO_TOKEN },
    { AUTH_TOPIC_DENIED, 403,
      "the token may not publish to every topic of the update", AO_SCOPE },
    { AUTH_HUB_DISABLED, 403, "publishing through the hub is disabled: "
      "no mercure.publisher_jwt_key in the config", NULL },
    { AUTH_STATIC_ON_HUB, 401, "a publish.tokens token is not accepted on "
      "the hub (mercure.static_tokens_on_hub = false): send a JWT",
      AO_TOKEN },
    { AUTH_COOKIE_ORIGIN, 403, "the hub cookie was sent from a page of "
      "another origin (not in mercure.cors_credentials_origins)", NULL },
    { AUTH_TOKEN_IN_URL, 400, "an access token (typ at+jwt) is never "
      "taken from the URL: send Authorization: Bearer or the "
      "mercure.access_cookie_name cookie", "invalid_request" },
};

int auth_status(enum auth_result r)
{
    return auth_outcomes[r].status;
}

const char *auth_error(enum auth_result r)
{
    return auth_outcomes[r].error;
}

const char *auth_reason(enum auth_result r)
{
    return auth_outcomes[r].reason;
}

bool auth_token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    volatile unsigned char diff = 0;
    size_t i;

    /* Walk the presented token's length; read b within bounds through a
     * mask so that neither the lengths nor the contents pick a branch. */
    diff |= (unsigned char)((alen != blen) | (blen == 0));
    for (i = 0; i < alen; i++) {
        size_t in = (size_t)0 - (size_t)(i < blen);     /* all ones if i<blen */
        size_t j = i & in;
        unsigned char bc = blen ? (unsigned char)b[j] : 0;
        diff |= (unsigned char)a[i] ^ bc;
    }
    return diff == 0;
}

bool auth_glob_match(char *const *globs, size_t n, const char *channel)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (fnmatch(globs[i], channel, 0) == 0)
            return true;
    return false;
}

/* Index of the configured token equal to tok, or -1; compares against
 * every token so the time does not tell which one (if any) matched. */
static long auth_find_token(const struct config *cfg, const char *tok,
                            size_t len)
{
    long found = -1;
    size_t i;

    for (i = 0; i < cfg->n_tokens; i++) {
        const char *t = cfg->tokens[i].token;
        bool eq = auth_token_equal(tok, len, t, strlen(t));
        long mask = -(long)eq;          /* all ones if eq */

        found = (found & ~mask) | ((long)i & mask);
    }
    return found;
}

/* The hub's decision (see auth.h). */
static enum auth_result auth_decide_hub(const struct auth_pub_facts *f)
{
    if (!f->key && !(f->static_on_hub && f->tokens))
        return AUTH_HUB_DISABLED;
    if (f->cred == AUTH_CRED_NONE)
        return AUTH_MISSING;
    if (f->cookie_foreign)
        return AUTH_COOKIE_ORIGIN;
    switch (f->cred) {
    case AUTH_CRED_UNUSABLE:
        return AUTH_UNUSABLE;
    case AUTH_CRED_STATIC:
        if (!f->static_on_hub)
            return AUTH_STATIC_ON_HUB;
        break;
    case AUTH_CRED_JWT:
        break;
    case AUTH_CRED_JWT_IN_URL:
        return AUTH_TOKEN_IN_URL;
    default:
        return AUTH_JWT_INVALID;
    }
    return f->covered ? AUTH_OK : AUTH_TOPIC_DENIED;
}

/* /publish's decision (see auth.h). */
static enum auth_result auth_decide_channel(const struct auth_pub_facts *f)
{
    if (f->cred == AUTH_CRED_NONE && f->open)
        return AUTH_OPEN;
    if (!f->open && !f->tokens && !f->key)
        return AUTH_DISABLED;
    switch (f->cred) {
    case AUTH_CRED_NONE:
        return AUTH_MISSING;
    case AUTH_CRED_UNUSABLE:
        return AUTH_NOT_BEARER;
    case AUTH_CRED_WRONG:
        return AUTH_WRONG_TOKEN;
    case AUTH_CRED_JWT_BAD:
        return AUTH_JWT_INVALID;
    default:
        break;
    }
    /* A valid credential limited to other channels may still use an open
     * one; a wrong or malformed credential is refused even there. */
    if (f->covered)
        return AUTH_OK;
    return f->open ? AUTH_OPEN : AUTH_CHANNEL_DENIED;
}

enum auth_result auth_publish_decide(const struct auth_pub_facts *f)
{
    return f->hub ? auth_decide_hub(f) : auth_decide_channel(f);
}

/* Whether s[0..len) matches one of the n globs (s copied to be NUL-
 * terminated; longer than a topic: no match). */
static bool auth_glob_match_n(char *const *globs, size_t n, const char *s,
                              size_t len)
{
    char buf[QUEUE_TOPIC_MAX + 1];

    if (n == 0 || len > QUEUE_TOPIC_MAX)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return auth_glob_match(globs, n, buf);
}

/* Whether the static token t covers every topic of req. */
static bool auth_static_covers(const struct config_token *t,
                               const struct auth_pub_request *req)
{
    size_t i;

    if (t->n_channels == 0)
        return true;
    for (i = 0; i < req->n_topic; i++)
        if (!auth_glob_match_n(t->channels, t->n_channels, req->topic[i],
                               req->topic_len[i]))
            return false;
    return true;
}

/* Whether the JWT's publish selectors cover every topic of req. */
static bool auth_jwt_covers(const struct jwt_claims *c,
                            struct topic_selector_cache *cache,
                            const struct auth_pub_request *req)
{
    size_t i;

    for (i = 0; i < req->n_topic; i++)
        if (!jwt_claims_can_publish(c, req->topic[i], req->topic_len[i],
                                    cache))
            return false;
    return true;
}

/* Whether origin may send the hub cookie: absent, or a credentials
 * origin. */
static bool auth_cookie_origin_ok(const struct config *cfg,
                                  const char *origin)
{
    size_t i;

    if (origin == NULL || origin[0] == '\0')
        return true;
    for (i = 0; i < cfg->n_mercure_cred_origins; i++)
        if (strcmp(cfg->mercure_cred_origins[i], origin) == 0)
            return true;
    return false;
}

/* Finds the request's token: into buf (hub: the header, authorization=,
 * the v0.x cookie, the 1.0 cookie) or pointing into the header
 * (/publish). Returns the credential kind for NONE/UNUSABLE/JWT_BAD (too
 * long), or -1 with *tok, *len and *src set. */
static int auth_find_credential(const struct config *cfg,
                                const struct auth_pub_request *req,
                                char *buf, size_t cap, const char **tok,
                                size_t *len, enum mercure_token_source *src,
                                struct auth_pub_facts *f,
                                const char **detail)
{
    struct mercure_token_where w = {
        .query = true,
        .cookie = cfg->mercure_cookie_name != NULL &&
                  cfg->mercure_cookie_name[0] != '\0'
                  ? cfg->mercure_cookie_name : MERCURE_TOKEN_COOKIE_DEFAULT,
        .cookie2 = cfg->mercure_access_cookie,
    };
    int rc;

    *src = MERCURE_TOKEN_HEADER;
    if (!req->hub) {
        if (req->authorization == NULL || req->authorization[0] == '\0')
            return AUTH_CRED_NONE;
        return bearer_parse(req->authorization, tok, len)
               ? -1 : AUTH_CRED_UNUSABLE;
    }
    rc = mercure_token_find_in(&w, req->authorization, req->query,
                               req->cookie, buf, cap, len, src);
    if (rc == -ENOENT)
        return AUTH_CRED_NONE;
    f->cookie_foreign = *src == MERCURE_TOKEN_COOKIE &&
                        !auth_cookie_origin_ok(cfg, req->origin);
    if (rc == -E2BIG) {
        *detail = "token too long";
        return AUTH_CRED_JWT_BAD;
    }
    if (rc < 0)
        return AUTH_CRED_UNUSABLE;
    *tok = buf;
    return -1;
}

/* Compiles the urlpattern grants of a verified token c against the
 * hub's URL, each within mercure.selector_cost_max. 0, or -1 with
 * *detail the reason (in req->why) naming the grant. */
static int auth_bind(const struct config *cfg,
                     const struct auth_pub_request *req,
                     struct jwt_claims *c, const char **detail)
{
    int rc;

    if (c->authz.n_patterns == 0)
        return 0;
    *detail = "the token's urlpattern grants need the hub's URL";
    if (req->hub_url == NULL || req->hub_url_len == 0 || req->why == NULL)
        return -1;
    rc = jwt_claims_bind(c, req->hub_url, req->hub_url_len,
                         cfg->mercure_selector_cost_max, req->why,
                         req->why_cap);
    *detail = rc == -ENOMEM ? "out of memory" : req->why;
    return rc < 0 ? -1 : 0;
}

/* Classifies the presented token tok[0..len) (from src): a static
 * token, a JWT the key accepts, or why not; sets f->covered. */
static enum auth_cred auth_classify(const struct config *cfg,
                                    const struct jwt_auth_key *key,
                                    struct topic_selector_cache *cache,
                                    const struct auth_pub_request *req,
                                    const char *tok, size_t len,
                                    enum mercure_token_source src, time_t now,
                                    struct auth_pub_facts *f,
                                    const char **detail)
{
    struct jwt_claims claims;
    long i = auth_find_token(cfg, tok, len);
    bool in_url;
    int rc;

    if (i >= 0) {
        f->covered = auth_static_covers(&cfg->tokens[i], req);
        return AUTH_CRED_STATIC;
    }
    if (key == NULL || memchr(tok, '.', len) == NULL) {
        *detail = key == NULL ? "" : "not a JWT";
        return req->hub ? AUTH_CRED_JWT_BAD : AUTH_CRED_WRONG;
    }
    rc = jwt_auth_verify(key, tok, len, now, &claims, detail);
    if (rc == JWT_AUTH_OK && auth_bind(cfg, req, &claims, detail) < 0)
        rc = JWT_AUTH_BAD_CLAIMS;
    if (rc != JWT_AUTH_OK) {
        jwt_claims_free(&claims);
        return AUTH_CRED_JWT_BAD;
    }
    f->covered = auth_jwt_covers(&claims, cache, req);
    in_url = claims.access_token && src == MERCURE_TOKEN_QUERY;
    jwt_claims_free(&claims);
    *detail = "";
    return in_url ? AUTH_CRED_JWT_IN_URL : AUTH_CRED_JWT;
}

enum auth_result auth_publish(const struct config *cfg,
                              const struct jwt_auth_key *key,
                              struct topic_selector_cache *cache,
                              const struct auth_pub_request *req,
                              time_t now, const char **detail)
{
    char buf[JWT_AUTH_TOKEN_MAX + 1];
    struct auth_pub_facts f = {
        .hub = req->hub, .tokens = cfg->n_tokens > 0, .key = key != NULL,
        .static_on_hub = cfg->mercure_static_on_hub,
    };
    enum mercure_token_source src;
    const char *tok = NULL;
    size_t len = 0;
    int kind;

    *detail = "";
    if (!req->hub && req->n_topic > 0)
        f.open = auth_glob_match_n(cfg->open_channels, cfg->n_open_channels,
                                   req->topic[0], req->topic_len[0]);
    kind = auth_find_credential(cfg, req, buf, sizeof(buf), &tok, &len,
                                &src, &f, detail);
    if (kind >= 0)
        f.cred = (enum auth_cred)kind;
    else
        f.cred = auth_classify(cfg, key, cache, req, tok, len, src, now, &f,
                               detail);
    return auth_publish_decide(&f);
}
