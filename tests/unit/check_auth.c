/* check_auth.c -- the "auth" suite: constant-time token comparison, the
 * token channel globs, open channels and the refusals when
 * no tokens are configured; the publish decision table (hub and /publish)
 * row by row, and auth_publish with publisher JWTs minted by python3-jwt
 * (Debian's /usr/bin/python3). The config is built by hand: auth reads
 * only the publish and mercure settings. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "publish/auth.h"
#include "mercure/jwt_auth.h"
#include "unit_run.h"

#define LIT(s) (s), (sizeof(s) - 1)
#define TOKEN_ALL "all-channels-token-0123"
#define TOKEN_NEWS "news-only-token-4567890"

static char *news_globs[] = { "news", "news.*" };
static char *open_globs[] = { "open-*", "lobby" };

/* A config with two tokens (one for every channel, one for news globs)
 * and two open-channel globs; n_tokens / n_open pick how many apply. */
static struct config make_config(size_t n_tokens, size_t n_open)
{
    static struct config_token tokens[2];
    struct config cfg;

    memset(&cfg, 0, sizeof(cfg));
    tokens[0].token = TOKEN_ALL;
    tokens[0].channels = NULL;
    tokens[0].n_channels = 0;
    tokens[1].token = TOKEN_NEWS;
    tokens[1].channels = news_globs;
    tokens[1].n_channels = 2;
    cfg.tokens = tokens;
    cfg.n_tokens = n_tokens;
    cfg.open_channels = open_globs;
    cfg.n_open_channels = n_open;
    return cfg;
}

/* auth_publish on /publish for one channel, without a publisher key. */
static enum auth_result publish_as(const struct config *cfg,
                                   const char *authorization,
                                   const char *channel)
{
    size_t clen = strlen(channel);
    struct auth_pub_request req = {
        .authorization = authorization, .topic = &channel,
        .topic_len = &clen, .n_topic = 1,
    };
    const char *detail;

    return auth_publish(cfg, NULL, NULL, &req, time(NULL), &detail);
}

/* ---- core ---- */

START_TEST(test_token_equal)
{
    ck_assert_msg(auth_token_equal(LIT("secret-1"), LIT("secret-1")),
                  "equal tokens must compare equal");
    ck_assert_msg(!auth_token_equal(LIT("secret-2"), LIT("secret-1")),
                  "same length, last byte differs: not equal");
    ck_assert_msg(!auth_token_equal(LIT("Secret-1"), LIT("secret-1")),
                  "first byte differs: not equal");
    ck_assert_msg(!auth_token_equal(LIT("secret"), LIT("secret-1")),
                  "a prefix of the token must not match");
    ck_assert_msg(!auth_token_equal(LIT("secret-1-and-more"),
                                    LIT("secret-1")),
                  "the token followed by more must not match");
    ck_assert_msg(!auth_token_equal(LIT(""), LIT("secret-1")),
                  "an empty token must not match");
    ck_assert_msg(!auth_token_equal(LIT(""), LIT("")),
                  "an empty configured token must never match");
    ck_assert_msg(!auth_token_equal(LIT("x"), LIT("")),
                  "an empty configured token must never match");
}
END_TEST

START_TEST(test_check_tokens)
{
    struct config cfg = make_config(2, 0);

    ck_assert_int_eq(publish_as(&cfg, "Bearer " TOKEN_ALL, "chat"), AUTH_OK);
    ck_assert_int_eq(publish_as(&cfg, "Bearer " TOKEN_NEWS, "news"), AUTH_OK);
    ck_assert_int_eq(publish_as(&cfg, "Bearer " TOKEN_NEWS, "news.sport"),
                     AUTH_OK);
    ck_assert_int_eq(publish_as(&cfg, "Bearer " TOKEN_ALL, "news.sport"),
                     AUTH_OK);
}
END_TEST

START_TEST(test_check_open)
{
    struct config cfg = make_config(2, 2);

    ck_assert_int_eq(publish_as(&cfg, NULL, "open-chat"), AUTH_OPEN);
    ck_assert_int_eq(publish_as(&cfg, NULL, "lobby"), AUTH_OPEN);
    ck_assert_int_eq(publish_as(&cfg, "Bearer " TOKEN_ALL, "lobby"),
                     AUTH_OK);
    ck_assert_msg(publish_as(&cfg, "Bearer " TOKEN_NEWS, "lobby") ==
                  AUTH_OPEN, "a valid token for other channels may still "
                  "use an open channel");
    ck_assert_int_eq(publish_as(&cfg, NULL, "lobby2"), AUTH_MISSING);
    cfg = make_config(0, 2);
    ck_assert_int_eq(publish_as(&cfg, NULL, "open-x"), AUTH_OPEN);
    ck_assert_int_eq(auth_status(AUTH_OPEN), 0);
    ck_assert_int_eq(auth_status(AUTH_OK), 0);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_check_refusals)
{
    struct config cfg = make_config(2, 2);

    ck_assert_int_eq(publish_as(&cfg, NULL, "chat"), AUTH_MISSING);
    ck_assert_int_eq(publish_as(&cfg, "", "chat"), AUTH_MISSING);
    ck_assert_int_eq(publish_as(&cfg, "Basic " TOKEN_ALL, "chat"),
                     AUTH_NOT_BEARER);
    ck_assert_int_eq(publish_as(&cfg, "Bearer all-channels-token-0124",
                                "chat"), AUTH_WRONG_TOKEN);
    ck_assert_int_eq(publish_as(&cfg, "Bearer short", "chat"),
                     AUTH_WRONG_TOKEN);
    ck_assert_int_eq(publish_as(&cfg, "Bearer " TOKEN_ALL "x", "chat"),
                     AUTH_WRONG_TOKEN);
    ck_assert_int_eq(publish_as(&cfg, "Bearer " TOKEN_NEWS, "chat"),
                     AUTH_CHANNEL_DENIED);
    ck_assert_int_eq(publish_as(&cfg, "Bearer " TOKEN_NEWS, "newsy"),
                     AUTH_CHANNEL_DENIED);
    cfg = make_config(0, 0);
    ck_assert_int_eq(publish_as(&cfg, "Bearer " TOKEN_ALL, "chat"),
                     AUTH_DISABLED);
    ck_assert_int_eq(publish_as(&cfg, NULL, "open-chat"), AUTH_DISABLED);
}
END_TEST

/* Issue 11.4: a credential presented on an open channel is checked. */
START_TEST(test_check_open_wrong_token)
{
    struct config cfg = make_config(2, 2);

    ck_assert_msg(publish_as(&cfg, "Bearer wrong-token", "lobby") ==
                  AUTH_WRONG_TOKEN, "a wrong token on an open channel "
                  "must be refused, not ignored");
    ck_assert_int_eq(auth_status(AUTH_WRONG_TOKEN), 403);
    ck_assert_int_eq(publish_as(&cfg, "Basic dXNlcjpwYXNz", "open-x"),
                     AUTH_NOT_BEARER);
    cfg = make_config(0, 2);
    ck_assert_msg(publish_as(&cfg, "Bearer any-token-at-all", "open-x") ==
                  AUTH_WRONG_TOKEN, "with no tokens configured every "
                  "presented token is wrong");
    ck_assert_int_eq(publish_as(&cfg, "", "open-x"), AUTH_OPEN);
}
END_TEST

START_TEST(test_status_reason)
{
    static const struct { enum auth_result r; int status; const char *w; }
    cases[] = {
        { AUTH_MISSING, 401, "Bearer" },
        { AUTH_NOT_BEARER, 401, "Bearer" },
        { AUTH_WRONG_TOKEN, 403, "wrong token" },
        { AUTH_CHANNEL_DENIED, 403, "not allowed" },
        { AUTH_DISABLED, 403, "disabled" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = auth_reason(cases[i].r);

        ck_assert_int_eq(auth_status(cases[i].r), cases[i].status);
        ck_assert_msg(strstr(why, cases[i].w) != NULL,
                      "reason \"%s\" must mention \"%s\"", why, cases[i].w);
        ck_assert_msg(strstr(why, TOKEN_ALL) == NULL &&
                      strstr(why, TOKEN_NEWS) == NULL,
                      "a reason must never contain a token");
    }
}
END_TEST

START_TEST(test_glob)
{
    ck_assert(auth_glob_match(news_globs, 2, "news"));
    ck_assert(auth_glob_match(news_globs, 2, "news.a.b"));
    ck_assert(!auth_glob_match(news_globs, 2, "new"));
    ck_assert(!auth_glob_match(news_globs, 0, "news"));
}
END_TEST

/* ---- the decision table ---- */

enum { N = AUTH_CRED_NONE, U = AUTH_CRED_UNUSABLE, S = AUTH_CRED_STATIC,
       J = AUTH_CRED_JWT, B = AUTH_CRED_JWT_BAD, W = AUTH_CRED_WRONG,
       Q = AUTH_CRED_JWT_IN_URL };

/* Each row: the facts, then the outcome. */
static const struct {
    bool hub; int cred; bool covered, open, tokens, key, static_on_hub,
    cookie_foreign; enum auth_result want;
} decide_rows[] = {
    /* hub  cred cov   open   tokens key    static foreign  outcome */
    { true, J, true,  false, false, true,  false, false, AUTH_OK },
    { true, J, false, false, false, true,  false, false, AUTH_TOPIC_DENIED },
    { true, N, false, false, true,  true,  false, false, AUTH_MISSING },
    { true, U, false, false, false, true,  false, false, AUTH_UNUSABLE },
    { true, B, false, false, false, true,  false, false, AUTH_JWT_INVALID },
    { true, W, false, false, false, true,  false, false, AUTH_JWT_INVALID },
    { true, S, true,  false, true,  true,  false, false,
      AUTH_STATIC_ON_HUB },
    { true, S, true,  false, true,  true,  true,  false, AUTH_OK },
    { true, S, false, false, true,  true,  true,  false, AUTH_TOPIC_DENIED },
    { true, S, true,  false, true,  false, true,  false, AUTH_OK },
    { true, J, true,  false, true,  false, false, false,
      AUTH_HUB_DISABLED },
    { true, N, false, false, false, false, false, false,
      AUTH_HUB_DISABLED },
    { true, J, true,  false, false, true,  false, true,  AUTH_COOKIE_ORIGIN },
    { true, B, false, false, false, true,  false, true,  AUTH_COOKIE_ORIGIN },
    /* a 1.0 access token in the URL: refused even when it covers */
    { true, Q, true,  false, false, true,  false, false, AUTH_TOKEN_IN_URL },
    { true, Q, false, false, false, true,  false, false, AUTH_TOKEN_IN_URL },
    /* the hub has no open channels: open is ignored */
    { true, N, false, true,  false, true,  false, false, AUTH_MISSING },
    /* /publish */
    { false, N, false, true,  true,  false, false, false, AUTH_OPEN },
    { false, N, false, false, true,  false, false, false, AUTH_MISSING },
    { false, N, false, false, false, false, false, false, AUTH_DISABLED },
    { false, S, true,  false, false, false, false, false, AUTH_DISABLED },
    { false, N, false, false, false, true,  false, false, AUTH_MISSING },
    { false, U, false, true,  true,  true,  false, false, AUTH_NOT_BEARER },
    { false, W, false, true,  true,  true,  false, false, AUTH_WRONG_TOKEN },
    { false, B, false, true,  true,  true,  false, false, AUTH_JWT_INVALID },
    { false, S, true,  false, true,  false, false, false, AUTH_OK },
    { false, S, false, false, true,  false, false, false,
      AUTH_CHANNEL_DENIED },
    { false, S, false, true,  true,  false, false, false, AUTH_OPEN },
    { false, J, true,  false, false, true,  false, false, AUTH_OK },
    { false, J, false, false, false, true,  false, false,
      AUTH_CHANNEL_DENIED },
    { false, J, false, true,  false, true,  false, false, AUTH_OPEN },
    /* static_on_hub and cookies do not matter on /publish */
    { false, S, true,  false, true,  false, false, true,  AUTH_OK },
};

START_TEST(test_decide_table)
{
    const struct auth_pub_facts f = {
        .hub = decide_rows[_i].hub,
        .cred = (enum auth_cred)decide_rows[_i].cred,
        .covered = decide_rows[_i].covered, .open = decide_rows[_i].open,
        .tokens = decide_rows[_i].tokens, .key = decide_rows[_i].key,
        .static_on_hub = decide_rows[_i].static_on_hub,
        .cookie_foreign = decide_rows[_i].cookie_foreign,
    };
    enum auth_result got = auth_publish_decide(&f);

    ck_assert_msg(got == decide_rows[_i].want, "row %d: got %d (%s), "
                  "want %d (%s)", _i, got, auth_reason(got),
                  decide_rows[_i].want, auth_reason(decide_rows[_i].want));
}
END_TEST

START_TEST(test_new_status_reason)
{
    static const struct { enum auth_result r; int status; const char *w; }
    cases[] = {
        { AUTH_UNUSABLE, 401, "unusable" },
        { AUTH_JWT_INVALID, 401, "JWT" },
        { AUTH_TOPIC_DENIED, 403, "every topic" },
        { AUTH_HUB_DISABLED, 403, "publisher_jwt_key" },
        { AUTH_STATIC_ON_HUB, 401, "static_tokens_on_hub" },
        { AUTH_COOKIE_ORIGIN, 403, "origin" },
        { AUTH_TOKEN_IN_URL, 400, "never taken from the URL" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(auth_status(cases[i].r), cases[i].status);
        ck_assert_msg(strstr(auth_reason(cases[i].r), cases[i].w) != NULL,
                      "reason of %d must mention \"%s\"", cases[i].r,
                      cases[i].w);
    }
}
END_TEST

/* The RFC 6750 error each refusal's challenge carries (Mercure 1.0). */
START_TEST(test_error_codes)
{
    static const struct { enum auth_result r; const char *error; } t[] = {
        { AUTH_OK, NULL }, { AUTH_MISSING, NULL },
        { AUTH_JWT_INVALID, "invalid_token" },
        { AUTH_UNUSABLE, "invalid_token" },
        { AUTH_TOPIC_DENIED, "insufficient_scope" },
        { AUTH_TOKEN_IN_URL, "invalid_request" },
        { AUTH_COOKIE_ORIGIN, NULL },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char *e = auth_error(t[i].r);

        ck_assert_msg(t[i].error == NULL ? e == NULL
                      : e != NULL && strcmp(e, t[i].error) == 0,
                      "outcome %d: error %s expected, got %s", t[i].r,
                      t[i].error ? t[i].error : "none", e ? e : "none");
    }
}
END_TEST

/* ---- auth_publish with publisher JWTs ---- */

#define PUB_SECRET "publisher-secret-0123456789abcdef-0123"
#define BOOK "https://example.com/books/1"
#define REVIEW "https://example.com/reviews/1"

/* A token signed by python3-jwt with alg and secret over claims (JSON);
 * static buffer. */
static const char *mint(const char *alg, const char *secret,
                        const char *claims)
{
    static char out[4096];
    char cmd[2048];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c 'import sys, json, "
             "jwt; a = sys.argv[1]; print(jwt.encode(json.loads("
             "sys.argv[3]), None if a == \"none\" else sys.argv[2], "
             "algorithm=a))' '%s' '%s' '%s'", alg, secret, claims);
    p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "popen python3");
    n = fread(out, 1, sizeof(out) - 1, p);
    ck_assert_msg(pclose(p) == 0 && n > 10, "python3-jwt must mint a "
                  "token (apt-get install python3-jwt)");
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        n--;
    out[n] = '\0';
    return out;
}

/* auth_publish on the hub for topics with the token in the header. */
static enum auth_result hub_check(const struct config *cfg,
                                  const struct jwt_auth_key *key,
                                  const char *token, const char *cookie,
                                  const char *origin,
                                  const char *const *topic, size_t n)
{
    char header[4200];
    size_t len[4];
    struct auth_pub_request req = {
        .hub = true, .authorization = NULL, .cookie = cookie,
        .origin = origin, .topic = topic, .topic_len = len, .n_topic = n,
    };
    const char *detail;
    size_t i;

    for (i = 0; i < n; i++)
        len[i] = strlen(topic[i]);
    if (token != NULL) {
        snprintf(header, sizeof(header), "Bearer %s", token);
        req.authorization = header;
    }
    return auth_publish(cfg, key, NULL, &req, time(NULL), &detail);
}

START_TEST(test_publish_jwt)
{
    struct config cfg = make_config(2, 0);
    static char *cred[] = { "https://app.example.com" };
    const char *both[] = { BOOK, REVIEW };
    struct jwt_auth_key key;
    const char *why, *tok;
    char claims[256], cookie[4200];

    cfg.mercure_cookie_name = "mercureAuthorization";
    cfg.mercure_cred_origins = cred;
    cfg.n_mercure_cred_origins = 1;
    ck_assert_int_eq(jwt_auth_key_init(&key, JWT_AUTH_HS256, PUB_SECRET,
                                       strlen(PUB_SECRET), &why), 0);
    snprintf(claims, sizeof(claims), "{\"mercure\": {\"publish\": "
             "[\"https://example.com/books/{id}\"]}, \"exp\": %lld}",
             (long long)time(NULL) + 3600);
    tok = mint("HS256", PUB_SECRET, claims);
    ck_assert_int_eq(hub_check(&cfg, &key, tok, NULL, NULL, both, 1),
                     AUTH_OK);
    ck_assert_msg(hub_check(&cfg, &key, tok, NULL, NULL, both, 2) ==
                  AUTH_TOPIC_DENIED, "an alternate topic the selectors do "
                  "not match must be refused");
    ck_assert_int_eq(hub_check(&cfg, NULL, tok, NULL, NULL, both, 1),
                     AUTH_HUB_DISABLED);
    snprintf(cookie, sizeof(cookie), "mercureAuthorization=%s", tok);
    ck_assert_int_eq(hub_check(&cfg, &key, NULL, cookie, NULL, both, 1),
                     AUTH_OK);
    ck_assert_int_eq(hub_check(&cfg, &key, NULL, cookie,
                               "https://app.example.com", both, 1), AUTH_OK);
    ck_assert_int_eq(hub_check(&cfg, &key, NULL, cookie,
                               "https://evil.example.net", both, 1),
                     AUTH_COOKIE_ORIGIN);
    ck_assert_int_eq(hub_check(&cfg, &key, TOKEN_ALL, NULL, NULL, both, 2),
                     AUTH_STATIC_ON_HUB);
    cfg.mercure_static_on_hub = true;
    ck_assert_int_eq(hub_check(&cfg, &key, TOKEN_ALL, NULL, NULL, both, 2),
                     AUTH_OK);
    ck_assert_int_eq(hub_check(&cfg, &key, TOKEN_NEWS, NULL, NULL, both, 1),
                     AUTH_TOPIC_DENIED);
    tok = mint("HS256", "another-secret-0123456789abcdef-0123456", claims);
    ck_assert_int_eq(hub_check(&cfg, &key, tok, NULL, NULL, both, 1),
                     AUTH_JWT_INVALID);
    tok = mint("none", "-", claims);
    ck_assert_int_eq(hub_check(&cfg, &key, tok, NULL, NULL, both, 1),
                     AUTH_JWT_INVALID);
    snprintf(claims, sizeof(claims), "{\"mercure\": {\"publish\": "
             "[\"*\"]}, \"exp\": %lld}", (long long)time(NULL) - 10);
    tok = mint("HS256", PUB_SECRET, claims);
    ck_assert_int_eq(hub_check(&cfg, &key, tok, NULL, NULL, both, 1),
                     AUTH_JWT_INVALID);
    ck_assert_int_eq(hub_check(&cfg, &key, NULL, NULL, NULL, both, 1),
                     AUTH_MISSING);
    jwt_auth_key_free(&key);
}
END_TEST

/* A Mercure 1.0 access token (typ at+jwt) by python3-jwt; static
 * buffer. */
static const char *mint_at(const char *secret, const char *claims)
{
    static char out[4096];
    char cmd[3072];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c 'import sys, json, "
             "jwt; print(jwt.encode(json.loads(sys.argv[2]), sys.argv[1], "
             "algorithm=\"HS256\", headers={\"typ\": \"at+jwt\"}))' "
             "'%s' '%s'", secret, claims);
    p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "popen python3");
    n = fread(out, 1, sizeof(out) - 1, p);
    ck_assert_msg(pclose(p) == 0 && n > 10, "python3-jwt must mint");
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        n--;
    out[n] = '\0';
    return out;
}

#define AT_ISS "https://localhost"
#define AT_AUD "https://localhost/.well-known/mercure"

/* Publishing on the hub with 1.0 access tokens: their publish grants
 * cover the topics, from the header or the 1.0 cookie, never from the
 * URL. */
START_TEST(test_publish_access)
{
    struct config cfg = make_config(0, 0);
    const char *both[] = { BOOK, REVIEW }, *why, *tok, *detail;
    struct jwt_auth_key key;
    char claims[1024], cookie[4200], query[4200];
    size_t len[2] = { strlen(BOOK), strlen(REVIEW) };
    struct auth_pub_request req = {
        .hub = true, .query = query, .topic = both, .topic_len = len,
        .n_topic = 2,
    };

    cfg.mercure_cookie_name = "mercureAuthorization";
    cfg.mercure_access_cookie = "__Secure-mercure_access_token";
    ck_assert_int_eq(jwt_auth_key_init(&key, JWT_AUTH_HS256, PUB_SECRET,
                                       strlen(PUB_SECRET), &why), 0);
    snprintf(claims, sizeof(claims), "{\"iss\": \"" AT_ISS "\", \"aud\": "
             "\"" AT_AUD "\", \"exp\": %lld, \"authorization_details\": "
             "[{\"type\": \"https://mercure.rocks/authorization-detail\", "
             "\"actions\": [\"publish\"], \"topics\": [{\"match\": \"" BOOK
             "\"}]}]}", (long long)time(NULL) + 3600);
    tok = mint_at(PUB_SECRET, claims);
    ck_assert_msg(hub_check(&cfg, &key, tok, NULL, NULL, both, 1) ==
                  AUTH_JWT_INVALID, "a key without the 1.0 profile refuses "
                  "access tokens");
    ck_assert_int_eq(jwt_auth_key_access(&key, AT_ISS, AT_AUD), 0);
    ck_assert_int_eq(hub_check(&cfg, &key, tok, NULL, NULL, both, 1),
                     AUTH_OK);
    ck_assert_msg(hub_check(&cfg, &key, tok, NULL, NULL, both, 2) ==
                  AUTH_TOPIC_DENIED, "the grant must cover every topic");
    snprintf(cookie, sizeof(cookie), "a=1; __Secure-mercure_access_token=%s",
             tok);
    ck_assert_int_eq(hub_check(&cfg, &key, NULL, cookie, NULL, both, 1),
                     AUTH_OK);
    snprintf(query, sizeof(query), "authorization=%s", tok);
    ck_assert_msg(auth_publish(&cfg, &key, NULL, &req, time(NULL),
                               &detail) == AUTH_TOKEN_IN_URL,
                  "an access token in the URL is refused");
    jwt_auth_key_free(&key);
}
END_TEST

START_TEST(test_publish_jwt_channel)
{
    struct config cfg = make_config(1, 2);
    const char *chan = "news", *detail, *tok;
    size_t clen = 4;
    struct auth_pub_request req = {
        .topic = &chan, .topic_len = &clen, .n_topic = 1,
    };
    struct jwt_auth_key key;
    char claims[256], header[4200];

    ck_assert_int_eq(jwt_auth_key_init(&key, JWT_AUTH_HS256, PUB_SECRET,
                                       strlen(PUB_SECRET), &detail), 0);
    snprintf(claims, sizeof(claims), "{\"mercure\": {\"publish\": "
             "[\"news\"]}}");
    tok = mint("HS256", PUB_SECRET, claims);
    snprintf(header, sizeof(header), "Bearer %s", tok);
    req.authorization = header;
    ck_assert_int_eq(auth_publish(&cfg, &key, NULL, &req, time(NULL),
                                  &detail), AUTH_OK);
    chan = "sport";
    clen = 5;
    ck_assert_int_eq(auth_publish(&cfg, &key, NULL, &req, time(NULL),
                                  &detail), AUTH_CHANNEL_DENIED);
    chan = "open-x";
    clen = 6;
    ck_assert_int_eq(auth_publish(&cfg, &key, NULL, &req, time(NULL),
                                  &detail), AUTH_OPEN);
    ck_assert_msg(auth_publish(&cfg, NULL, NULL, &req, time(NULL),
                               &detail) == AUTH_WRONG_TOKEN,
                  "without a publisher key a JWT is a wrong token");
    jwt_auth_key_free(&key);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");
    TCase *decide = tcase_create("decide");
    TCase *jwt = tcase_create("jwt");

    tcase_add_test(core, test_token_equal);
    tcase_add_test(core, test_check_tokens);
    tcase_add_test(core, test_check_open);
    tcase_add_test(core, test_check_open_wrong_token);
    tcase_add_test(core, test_glob);
    tcase_add_test(errors, test_check_refusals);
    tcase_add_test(errors, test_status_reason);
    tcase_add_test(errors, test_new_status_reason);
    tcase_add_test(errors, test_error_codes);
    tcase_add_loop_test(decide, test_decide_table, 0,
                        (int)(sizeof(decide_rows) / sizeof(decide_rows[0])));
    tcase_add_test(jwt, test_publish_jwt);
    tcase_add_test(jwt, test_publish_jwt_channel);
    tcase_add_test(jwt, test_publish_access);
    tcase_set_timeout(jwt, 60);
    suite_add_tcase(s, decide);
    suite_add_tcase(s, jwt);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(auth_suite());
}
