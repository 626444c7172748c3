/* check_auth.c -- the "auth" suite: constant-time token comparison, the
 * Bearer header, token channel globs, open channels and the refusals when
 * no tokens are configured. The config is built by hand: auth reads only
 * the publish settings. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
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

START_TEST(test_parse_bearer)
{
    const char *t;
    size_t n;

    ck_assert(auth_parse_bearer("Bearer abc", &t, &n));
    ck_assert(n == 3 && memcmp(t, "abc", 3) == 0);
    ck_assert(auth_parse_bearer("  bearer \t abc.def=  ", &t, &n));
    ck_assert_msg(n == 8 && memcmp(t, "abc.def=", 8) == 0,
                  "scheme is case-insensitive, spaces are trimmed");
    ck_assert_msg(!auth_parse_bearer("Basic dXNlcjpwYXNz", &t, &n),
                  "Basic is not Bearer");
    ck_assert_msg(!auth_parse_bearer("Bearer", &t, &n), "no token");
    ck_assert_msg(!auth_parse_bearer("Bearer   ", &t, &n), "blank token");
    ck_assert_msg(!auth_parse_bearer("Bearerabc", &t, &n),
                  "scheme must be followed by a space");
    ck_assert_msg(!auth_parse_bearer("", &t, &n), "empty header");
}
END_TEST

START_TEST(test_check_tokens)
{
    struct config cfg = make_config(2, 0);

    ck_assert_int_eq(auth_check(&cfg, "Bearer " TOKEN_ALL, "chat"), AUTH_OK);
    ck_assert_int_eq(auth_check(&cfg, "Bearer " TOKEN_NEWS, "news"), AUTH_OK);
    ck_assert_int_eq(auth_check(&cfg, "Bearer " TOKEN_NEWS, "news.sport"),
                     AUTH_OK);
    ck_assert_int_eq(auth_check(&cfg, "Bearer " TOKEN_ALL, "news.sport"),
                     AUTH_OK);
}
END_TEST

START_TEST(test_check_open)
{
    struct config cfg = make_config(2, 2);

    ck_assert_int_eq(auth_check(&cfg, NULL, "open-chat"), AUTH_OPEN);
    ck_assert_int_eq(auth_check(&cfg, NULL, "lobby"), AUTH_OPEN);
    ck_assert_int_eq(auth_check(&cfg, "Bearer " TOKEN_ALL, "lobby"),
                     AUTH_OK);
    ck_assert_msg(auth_check(&cfg, "Bearer " TOKEN_NEWS, "lobby") ==
                  AUTH_OPEN, "a valid token for other channels may still "
                  "use an open channel");
    ck_assert_int_eq(auth_check(&cfg, NULL, "lobby2"), AUTH_MISSING);
    cfg = make_config(0, 2);
    ck_assert_int_eq(auth_check(&cfg, NULL, "open-x"), AUTH_OPEN);
    ck_assert_int_eq(auth_status(AUTH_OPEN), 0);
    ck_assert_int_eq(auth_status(AUTH_OK), 0);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_check_refusals)
{
    struct config cfg = make_config(2, 2);

    ck_assert_int_eq(auth_check(&cfg, NULL, "chat"), AUTH_MISSING);
    ck_assert_int_eq(auth_check(&cfg, "", "chat"), AUTH_MISSING);
    ck_assert_int_eq(auth_check(&cfg, "Basic " TOKEN_ALL, "chat"),
                     AUTH_NOT_BEARER);
    ck_assert_int_eq(auth_check(&cfg, "Bearer all-channels-token-0124",
                                "chat"), AUTH_WRONG_TOKEN);
    ck_assert_int_eq(auth_check(&cfg, "Bearer short", "chat"),
                     AUTH_WRONG_TOKEN);
    ck_assert_int_eq(auth_check(&cfg, "Bearer " TOKEN_ALL "x", "chat"),
                     AUTH_WRONG_TOKEN);
    ck_assert_int_eq(auth_check(&cfg, "Bearer " TOKEN_NEWS, "chat"),
                     AUTH_CHANNEL_DENIED);
    ck_assert_int_eq(auth_check(&cfg, "Bearer " TOKEN_NEWS, "newsy"),
                     AUTH_CHANNEL_DENIED);
    cfg = make_config(0, 0);
    ck_assert_int_eq(auth_check(&cfg, "Bearer " TOKEN_ALL, "chat"),
                     AUTH_DISABLED);
    ck_assert_int_eq(auth_check(&cfg, NULL, "open-chat"), AUTH_DISABLED);
}
END_TEST

/* Issue 11.4: a credential presented on an open channel is checked. */
START_TEST(test_check_open_wrong_token)
{
    struct config cfg = make_config(2, 2);

    ck_assert_msg(auth_check(&cfg, "Bearer wrong-token", "lobby") ==
                  AUTH_WRONG_TOKEN, "a wrong token on an open channel "
                  "must be refused, not ignored");
    ck_assert_int_eq(auth_status(AUTH_WRONG_TOKEN), 403);
    ck_assert_int_eq(auth_check(&cfg, "Basic dXNlcjpwYXNz", "open-x"),
                     AUTH_NOT_BEARER);
    cfg = make_config(0, 2);
    ck_assert_msg(auth_check(&cfg, "Bearer any-token-at-all", "open-x") ==
                  AUTH_WRONG_TOKEN, "with no tokens configured every "
                  "presented token is wrong");
    ck_assert_int_eq(auth_check(&cfg, "", "open-x"), AUTH_OPEN);
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

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_add_test(core, test_token_equal);
    tcase_add_test(core, test_parse_bearer);
    tcase_add_test(core, test_check_tokens);
    tcase_add_test(core, test_check_open);
    tcase_add_test(core, test_check_open_wrong_token);
    tcase_add_test(core, test_glob);
    tcase_add_test(errors, test_check_refusals);
    tcase_add_test(errors, test_status_reason);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(auth_suite());
}
