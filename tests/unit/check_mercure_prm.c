/* check_mercure_prm.c -- the "mercure_prm" suite: the RFC 9728 metadata
 * URL derived from the hub's resource identifier, the document and the
 * WWW-Authenticate challenge, on tables. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "mercure/mercure_prm.h"
#include "unit_run.h"

static const struct {
    const char *resource, *url, *path;
} urls[] = {
    { "https://localhost/.well-known/mercure",
      "https://localhost/.well-known/oauth-protected-resource/.well-known/"
      "mercure", "/.well-known/oauth-protected-resource/.well-known/mercure" },
    { "http://127.0.0.1:8080/app/.well-known/mercure/",
      "http://127.0.0.1:8080/.well-known/oauth-protected-resource/app/"
      ".well-known/mercure",
      "/.well-known/oauth-protected-resource/app/.well-known/mercure" },
    { "https://hub.example", "https://hub.example/.well-known/"
      "oauth-protected-resource", "/.well-known/oauth-protected-resource" },
    { "https://hub.example/", "https://hub.example/.well-known/"
      "oauth-protected-resource", "/.well-known/oauth-protected-resource" },
    /* refused: not http(s), no authority, a query, a fragment */
    { "ftp://hub/x", NULL, NULL },
    { "https:///x", NULL, NULL },
    { "https://hub/x?y=1", NULL, NULL },
    { "https://hub/x#y", NULL, NULL },
    { "/.well-known/mercure", NULL, NULL },
};

START_TEST(test_url)
{
    char out[256];
    long n = mercure_prm_url(urls[_i].resource, out, sizeof(out));

    if (urls[_i].url == NULL) {
        ck_assert_msg(n == -EINVAL, "%s must be refused", urls[_i].resource);
        return;
    }
    ck_assert_msg(n > 0 && strcmp(out, urls[_i].url) == 0,
                  "%s: metadata at %s expected, got %s", urls[_i].resource,
                  urls[_i].url, n > 0 ? out : "an error");
    n = mercure_prm_path(urls[_i].resource, out, sizeof(out));
    ck_assert_msg(n > 0 && strcmp(out, urls[_i].path) == 0,
                  "%s: path %s expected, got %s", urls[_i].resource,
                  urls[_i].path, n > 0 ? out : "an error");
    ck_assert(mercure_prm_url(urls[_i].resource, out, 10) == -E2BIG);
}
END_TEST

START_TEST(test_document)
{
    struct mercure_prm m = {
        .resource = "https://localhost/.well-known/mercure",
        .cookie = "__Secure-mercure_access_token",
    };
    char out[1024];

    ck_assert(mercure_prm_document(&m, out, sizeof(out)) > 0);
    ck_assert_str_eq(out, "{\"resource\":\"https://localhost/.well-known/"
                     "mercure\",\"bearer_methods_supported\":[\"header\"],"
                     "\"authorization_details_types_supported\":[\"https://"
                     "mercure.rocks/authorization-detail\"],\"mercure_cookie"
                     "\":\"__Secure-mercure_access_token\",\"mercure_matcher_"
                     "types_supported\":[\"exact\"]}\n");
    m.cookie = NULL;
    m.urlpattern = m.subscriptions = true;
    ck_assert(mercure_prm_document(&m, out, sizeof(out)) > 0);
    ck_assert_msg(strstr(out, "mercure_cookie") == NULL &&
                  strstr(out, "[\"exact\",\"urlpattern\"]") != NULL &&
                  strstr(out, "\"mercure_subscriptions\":true}") != NULL,
                  "%s", out);
    ck_assert(mercure_prm_document(&m, out, 40) == -E2BIG);
}
END_TEST

START_TEST(test_challenge)
{
    static const struct {
        const char *resource, *error, *want;
    } t[] = {
        { NULL, NULL, "Bearer" },
        { NULL, "invalid_token", "Bearer error=\"invalid_token\"" },
        { "https://h/.well-known/mercure", NULL, "Bearer resource_metadata="
          "\"https://h/.well-known/oauth-protected-resource/.well-known/"
          "mercure\"" },
        { "https://h/m", "insufficient_scope", "Bearer resource_metadata="
          "\"https://h/.well-known/oauth-protected-resource/m\", "
          "error=\"insufficient_scope\"" },
    };
    char out[512];

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert(mercure_prm_challenge(t[i].resource, t[i].error, out,
                                        sizeof(out)) > 0);
        ck_assert_str_eq(out, t[i].want);
    }
}
END_TEST

static Suite *mercure_prm_suite(void)
{
    Suite *s = suite_create("mercure_prm");
    TCase *core = tcase_create("core");

    tcase_add_loop_test(core, test_url, 0,
                        (int)(sizeof(urls) / sizeof(urls[0])));
    tcase_add_test(core, test_document);
    tcase_add_test(core, test_challenge);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return unit_run(mercure_prm_suite());
}
