/* check_subscription.c -- the "subscription" suite: a subscription
 * update's topic and document in both dialects (the spec examples of
 * Active Subscriptions, v0.x and 1.0), percent-encoding once, the
 * subscriber id, the sizing contract (cap 0 counts), and the
 * subscription API's paths: what each asks for, which subscriptions it
 * selects, which it refuses; the token's mercure.payload kept as compact
 * JSON for the documents. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "mercure/subscription.h"
#include "mercure/subscription_path.h"
#include "mercure/jwt_claims.h"
#include "unit_run.h"

#define SUB1 "urn:uuid:bb3de268-05b0-4c65-b44e-8f9acefc29d6"

/* The document of s as a C string (static buffer). */
static const char *doc(const struct subscription *s, bool active,
                       unsigned flags, const char *last)
{
    static char buf[2048];
    size_t n = subscription_doc(buf, sizeof(buf) - 1, s, active, flags,
                                last);

    ck_assert_uint_lt(n, sizeof(buf));
    ck_assert_uint_eq(subscription_doc(NULL, 0, s, active, flags, last), n);
    buf[n] = '\0';
    return buf;
}

/* The topic of s as a C string (static buffer). */
static const char *topic(const struct subscription *s)
{
    static char buf[1024];
    size_t n = subscription_topic(buf, sizeof(buf) - 1, s);

    ck_assert_uint_lt(n, sizeof(buf));
    buf[n] = '\0';
    return buf;
}

START_TEST(test_v0_spec_example)
{
    const char *sel = "https://example.com/{selector}";
    struct subscription s = {
        SUBSCRIPTION_V0, 0, sel, strlen(sel), SUB1, strlen(SUB1),
        "{\"foo\":\"bar\"}", 13,
    };

    ck_assert_str_eq(topic(&s), "/.well-known/mercure/subscriptions/"
                     "https%3A%2F%2Fexample.com%2F%7Bselector%7D/"
                     "urn%3Auuid%3Abb3de268-05b0-4c65-b44e-8f9acefc29d6");
    ck_assert_str_eq(doc(&s, true, SUBSCRIPTION_DOC_CONTEXT, NULL),
        "{\"@context\":\"https://mercure.rocks/\","
        "\"id\":\"/.well-known/mercure/subscriptions/"
        "https%3A%2F%2Fexample.com%2F%7Bselector%7D/"
        "urn%3Auuid%3Abb3de268-05b0-4c65-b44e-8f9acefc29d6\","
        "\"type\":\"Subscription\","
        "\"topic\":\"https://example.com/{selector}\","
        "\"subscriber\":\"" SUB1 "\",\"active\":true,"
        "\"payload\":{\"foo\":\"bar\"}}");
}
END_TEST

START_TEST(test_v1_spec_example)
{
    const char *sel = "https://example.com/:selector";
    struct subscription s = {
        SUBSCRIPTION_V1, SUBSCRIPTION_MATCH_URLPATTERN, sel, strlen(sel),
        SUB1, strlen(SUB1), "{\"foo\":\"bar\"}", 13,
    };

    ck_assert_str_eq(topic(&s), "/.well-known/mercure/subscriptions/"
                     "urlpattern/https%3A%2F%2Fexample.com%2F%3Aselector/"
                     "urn%3Auuid%3Abb3de268-05b0-4c65-b44e-8f9acefc29d6");
    ck_assert_str_eq(doc(&s, false, 0, NULL),
        "{\"id\":\"/.well-known/mercure/subscriptions/urlpattern/"
        "https%3A%2F%2Fexample.com%2F%3Aselector/"
        "urn%3Auuid%3Abb3de268-05b0-4c65-b44e-8f9acefc29d6\","
        "\"type\":\"subscription\",\"match_type\":\"urlpattern\","
        "\"match\":\"https://example.com/:selector\","
        "\"subscriber\":\"" SUB1 "\",\"active\":false,"
        "\"payload\":{\"foo\":\"bar\"}}");
}
END_TEST

START_TEST(test_escaping)
{
    const char *sel = "a%2Fb \"q\"\n";
    struct subscription s = {
        SUBSCRIPTION_V1, SUBSCRIPTION_MATCH_EXACT, sel, strlen(sel),
        "x", 1, NULL, 0,
    };

    ck_assert_msg(strcmp(topic(&s), "/.well-known/mercure/subscriptions/"
                         "exact/a%252Fb%20%22q%22%0A/x") == 0,
                  "a '%%' is encoded again (once, as a whole): %s",
                  topic(&s));
    ck_assert_str_eq(doc(&s, true, 0, "42"),
        "{\"id\":\"/.well-known/mercure/subscriptions/exact/"
        "a%252Fb%20%22q%22%0A/x\",\"type\":\"subscription\","
        "\"match_type\":\"exact\",\"match\":\"a%2Fb \\\"q\\\"\\n\","
        "\"subscriber\":\"x\",\"active\":true,\"lastEventID\":\"42\"}");
}
END_TEST

START_TEST(test_sizing)
{
    const char *sel = "chat.lobby";
    struct subscription s = {
        SUBSCRIPTION_V0, 0, sel, strlen(sel), SUB1, strlen(SUB1), NULL, 0,
    };
    char small[20];
    size_t need = subscription_doc(NULL, 0, &s, true, 0, NULL);

    memset(small, 'Z', sizeof(small));
    ck_assert_uint_eq(subscription_doc(small, 10, &s, true, 0, NULL), need);
    ck_assert_msg(small[10] == 'Z', "nothing written past cap");
    ck_assert_msg(memcmp(small, "{\"id\":\"/.w", 10) == 0,
                  "what fits is written");
}
END_TEST

START_TEST(test_id)
{
    uint8_t rnd[16];
    char id[SUBSCRIPTION_ID_MAX];

    memset(rnd, 0xff, sizeof(rnd));
    subscription_id(id, rnd);
    ck_assert_str_eq(id, "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff");
    memset(rnd, 0, sizeof(rnd));
    subscription_id(id, rnd);
    ck_assert_str_eq(id, "urn:uuid:00000000-0000-4000-8000-000000000000");
}
END_TEST

/* A path and what it must parse to ("-" for NULL). */
struct path_case {
    const char *path;
    int rc;
    enum subscription_path_kind kind;
    const char *selector, *subscriber;
    int match;
};

static const struct path_case paths[] = {
    { "/.well-known/mercure/subscriptions", 0, SUBSCRIPTION_PATH_ALL,
      "-", "-", 0 },
    { "/.well-known/mercure/subscriptions/chat.lobby", 0,
      SUBSCRIPTION_PATH_V0_TOPIC, "chat.lobby", "-", 0 },
    { "/.well-known/mercure/subscriptions/https%3A%2F%2Fex.com%2F%7Bx%7D/"
      "urn%3Auuid%3A1", 0, SUBSCRIPTION_PATH_V0_ONE, "https://ex.com/{x}",
      "urn:uuid:1", 0 },
    { "/.well-known/mercure/subscriptions/exact/a%2Fb", 0,
      SUBSCRIPTION_PATH_V1_MATCH, "a/b", "-", SUBSCRIPTION_MATCH_EXACT },
    { "/.well-known/mercure/subscriptions/urlpattern/"
      "https%3A%2F%2Fex.com%2F%3Aid/urn%3Auuid%3A1", 0,
      SUBSCRIPTION_PATH_V1_ONE, "https://ex.com/:id", "urn:uuid:1",
      SUBSCRIPTION_MATCH_URLPATTERN },
    { "/.well-known/mercure/subscriptions/exact", 0,
      SUBSCRIPTION_PATH_V0_TOPIC, "exact", "-", 0 },
    /* refused */
    { "/.well-known/mercure/subscriptions/", -ENOENT, 0, "-", "-", 0 },
    { "/.well-known/mercure/subscriptions/a//b", -ENOENT, 0, "-", "-", 0 },
    { "/.well-known/mercure/subscriptions/a/b/c", -ENOENT, 0, "-", "-", 0 },
    { "/.well-known/mercure/subscriptions/exact/a/b/c", -ENOENT, 0, "-",
      "-", 0 },
    { "/.well-known/mercure/subscriptionsX", -ENOENT, 0, "-", "-", 0 },
    { "/.well-known/mercure", -ENOENT, 0, "-", "-", 0 },
    { "/.well-known/mercure/subscriptions/a%2", -EINVAL, 0, "-", "-", 0 },
    { "/.well-known/mercure/subscriptions/a%00b", -EINVAL, 0, "-", "-", 0 },
    { "/.well-known/mercure/subscriptions/Exact/a/b", -ENOENT, 0, "-", "-",
      0 },
};

START_TEST(test_path)
{
    const struct path_case *c = &paths[_i];
    struct subscription_path p;
    char buf[512];
    int rc = subscription_path_parse(c->path, strlen(c->path), &p, buf,
                                     sizeof(buf));

    ck_assert_msg(rc == c->rc, "%s: rc %d, want %d", c->path, rc, c->rc);
    if (rc != 0)
        return;
    ck_assert_msg(p.kind == c->kind, "%s: kind %d, want %d", c->path,
                  p.kind, c->kind);
    ck_assert_str_eq(p.selector ? p.selector : "-", c->selector);
    ck_assert_str_eq(p.subscriber ? p.subscriber : "-", c->subscriber);
    if (p.kind == SUBSCRIPTION_PATH_V1_MATCH ||
        p.kind == SUBSCRIPTION_PATH_V1_ONE)
        ck_assert_int_eq(p.match, c->match);
}
END_TEST

/* A path, a subscription (dialect, match, selector, subscriber) and
 * whether the path selects it. */
struct select_case {
    const char *path;
    uint8_t dialect, match;
    const char *selector, *subscriber;
    bool selected;
};

static const struct select_case selects[] = {
    { "/.well-known/mercure/subscriptions", 0, 0, "a", "s1", true },
    { "/.well-known/mercure/subscriptions", 1, 1, "a", "s1", true },
    { "/.well-known/mercure/subscriptions/a", 0, 0, "a", "s1", true },
    { "/.well-known/mercure/subscriptions/a", 0, 0, "ab", "s1", false },
    { "/.well-known/mercure/subscriptions/a", 1, 0, "a", "s1", false },
    { "/.well-known/mercure/subscriptions/a/s1", 0, 0, "a", "s1", true },
    { "/.well-known/mercure/subscriptions/a/s1", 0, 0, "a", "s2", false },
    { "/.well-known/mercure/subscriptions/exact/a", 1, 0, "a", "s1", true },
    { "/.well-known/mercure/subscriptions/exact/a", 1, 1, "a", "s1", false },
    { "/.well-known/mercure/subscriptions/exact/a", 0, 0, "a", "s1", false },
    { "/.well-known/mercure/subscriptions/urlpattern/a/s1", 1, 1, "a", "s1",
      true },
    { "/.well-known/mercure/subscriptions/urlpattern/a/s1", 1, 1, "a", "s",
      false },
};

START_TEST(test_select)
{
    const struct select_case *c = &selects[_i];
    struct subscription s = {
        c->dialect, c->match, c->selector, strlen(c->selector),
        c->subscriber, strlen(c->subscriber), NULL, 0,
    };
    struct subscription_path p;
    char buf[512];

    ck_assert_int_eq(subscription_path_parse(c->path, strlen(c->path), &p,
                                             buf, sizeof(buf)), 0);
    ck_assert_msg(subscription_path_selects(&p, &s) == c->selected,
                  "%s and (%u, %u, %s, %s): want %s", c->path, c->dialect,
                  c->match, c->selector, c->subscriber,
                  c->selected ? "selected" : "not selected");
}
END_TEST

START_TEST(test_token_payload)
{
    static const char with[] = "{\"mercure\": {\"subscribe\": [\"*\"],"
        " \"payload\": {\"nick\": \"ada\", \"x\": [1, 2]}}}";
    static const char twice[] = "{\"mercure\": {\"payload\": 1, "
        "\"payload\": 2}}";
    static const char without[] = "{\"mercure\": {\"subscribe\": []}}";
    struct jwt_claims c;
    const char *why = NULL;

    ck_assert_int_eq(jwt_claims_parse(with, strlen(with), &c, &why), 0);
    ck_assert_msg(c.payload != NULL && strcmp(c.payload,
                  "{\"nick\":\"ada\",\"x\":[1,2]}") == 0 &&
                  c.payload_len == strlen(c.payload),
                  "mercure.payload kept compact: %s", c.payload);
    jwt_claims_free(&c);
    ck_assert_int_eq(jwt_claims_parse(twice, strlen(twice), &c, &why),
                     -EBADMSG);
    jwt_claims_free(&c);
    ck_assert_int_eq(jwt_claims_parse(without, strlen(without), &c, &why),
                     0);
    ck_assert_msg(c.payload == NULL, "no payload claim: none");
    jwt_claims_free(&c);
}
END_TEST

static Suite *subscription_suite(void)
{
    Suite *s = suite_create("subscription");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_test(core, test_v0_spec_example);
    tcase_add_test(core, test_v1_spec_example);
    tcase_add_test(core, test_id);
    tcase_add_test(core, test_token_payload);
    tcase_add_loop_test(core, test_select, 0,
                        (int)(sizeof(selects) / sizeof(selects[0])));
    tcase_add_test(limits, test_escaping);
    tcase_add_test(limits, test_sizing);
    tcase_add_loop_test(errors, test_path, 0,
                        (int)(sizeof(paths) / sizeof(paths[0])));
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(subscription_suite());
}
