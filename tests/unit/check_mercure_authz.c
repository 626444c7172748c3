/* check_mercure_authz.c -- the "mercure_authz" suite: Mercure 1.0
 * authorization_details read from hand-written JSON (the claim's value)
 * and evaluated: a table of valid claims with the grants each gives,
 * a table of claims refused with the reason each names (when read, or
 * when their URL patterns are bound to the hub's URL). Tokens around
 * the claim (typ, iss, aud, exp) are check_jwt_auth's. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_in.h"
#include "mercure/mercure_authz.h"
#include "unit_run.h"

#define T "\"type\":\"https://mercure.rocks/authorization-detail\""
#define PUB MERCURE_AUTHZ_PUBLISH
#define SUB MERCURE_AUTHZ_SUBSCRIBE
#define HUB "https://example.com/.well-known/mercure"
#define COST_MAX 64             /* mercure.selector_cost_max's default */

static char bind_why[300];

/* Parses json into *a and binds its URL patterns to HUB; returns the
 * rc, *why the reason. */
static int parse(const char *json, struct mercure_authz *a,
                 const char **why)
{
    struct json_in j;
    int rc;

    json_in_init(&j, json, strlen(json), 32);
    *why = "";
    rc = mercure_authz_parse(&j, a, why);
    if (rc < 0)
        return rc;
    bind_why[0] = '\0';
    *why = bind_why;
    return mercure_authz_bind(a, HUB, strlen(HUB), COST_MAX, bind_why,
                              sizeof(bind_why));
}

/* One probe: whether action on topic is granted. */
struct probe {
    unsigned action;
    const char *topic;
    bool want;
};

/* A valid claim and what it grants (up to 6 probes). */
static const struct {
    const char *json;
    size_t n_details;
    struct probe probes[6];
} valid[] = {
    /* the grant: "*" for both actions */
    { "[{" T ",\"actions\":[\"publish\",\"subscribe\"],"
      "\"topics\":[{\"match\":\"*\"}]}]", 1,
      { { PUB, "https://x/a", true }, { SUB, "anything", true },
        { PUB, "", true } } },
    /* exact is byte for byte: no template, no normalisation */
    { "[{" T ",\"actions\":[\"subscribe\"],\"topics\":["
      "{\"match\":\"https://example.com/books/{id}\"},"
      "{\"match\":\"https://example.com/books/1\",\"match_type\":\"exact\"}"
      "]}]", 1,
      { { SUB, "https://example.com/books/1", true },
        { SUB, "https://example.com/books/2", false },
        { SUB, "https://example.com/books/{id}", true },
        { SUB, "https://EXAMPLE.com/books/1", false },
        { PUB, "https://example.com/books/1", false } } },
    /* "*" is the wildcard whatever its match_type */
    { "[{" T ",\"actions\":[\"publish\"],"
      "\"topics\":[{\"match\":\"*\",\"match_type\":\"urlpattern\"}]}]", 1,
      { { PUB, "a", true }, { SUB, "a", false } } },
    /* unknown actions grant nothing and do not invalidate */
    { "[{" T ",\"actions\":[\"delete\",\"subscribe\"],"
      "\"topics\":[{\"match\":\"a\"}]},"
      "{" T ",\"actions\":[\"admin\"],\"topics\":[{\"match\":\"*\"}]}]", 2,
      { { SUB, "a", true }, { PUB, "a", false }, { SUB, "b", false } } },
    /* other detail types are skipped whole, whatever their shape */
    { "[{\"type\":\"payment_initiation\",\"topics\":\"x\",\"actions\":1},"
      "{\"actions\":[\"publish\"],\"topics\":[{\"match\":\"b\"}]," T "}]",
      1, { { PUB, "b", true }, { PUB, "x", false } } },
    /* a type spelt differently is another type: no grant */
    { "[{\"type\":\"https://mercure.rocks/authorization-detail/\","
      "\"actions\":[\"publish\"],\"topics\":[{\"match\":\"*\"}]}]", 0,
      { { PUB, "a", false } } },
    { "[]", 0, { { PUB, "a", false }, { SUB, "a", false } } },
    /* urlpattern grants: the engine, named groups and wildcards */
    { "[{" T ",\"actions\":[\"subscribe\"],\"topics\":[{\"match\":"
      "\"https://example.com/books/:id\",\"match_type\":\"urlpattern\"}]}]",
      1, { { SUB, "https://example.com/books/1", true },
           { SUB, "https://example.com/books/1/x", false },
           { SUB, "https://example.com/books/", false },
           { SUB, "https://EXAMPLE.com/books/7", true },
           { SUB, "urn:books:1", false },
           { PUB, "https://example.com/books/1", false } } },
    /* the spec's users/42 wildcard grant, publish and subscribe */
    { "[{" T ",\"actions\":[\"publish\",\"subscribe\"],\"topics\":["
      "{\"match\":\"https://example.com/users/42/*\",\"match_type\":"
      "\"urlpattern\"}]}]", 1,
      { { SUB, "https://example.com/users/42/books/1", true },
        { PUB, "https://example.com/users/42/", true },
        { PUB, "https://example.com/users/43/books/1", false },
        { SUB, "https://example.com/books/1", false } } },
    /* a relative pattern and relative topics resolve against the hub */
    { "[{" T ",\"actions\":[\"subscribe\"],\"topics\":[{\"match\":"
      "\"/.well-known/mercure/subscriptions/*\",\"match_type\":"
      "\"urlpattern\"}]}]", 1,
      { { SUB, "/.well-known/mercure/subscriptions/exact/a/b", true },
        { SUB, "/.well-known/mercure/subscriptions", false },
        { SUB, HUB "/subscriptions/exact/a", true },
        { SUB, "https://other.com/.well-known/mercure/subscriptions/x",
          false },
        { SUB, "subscriptions/x", false } } },
    /* an exact grant beside a pattern keeps its byte-exact meaning */
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":["
      "{\"match\":\"https://example.com/:x\",\"match_type\":\"urlpattern\"},"
      "{\"match\":\"https://example.com/:x\"}]}]", 1,
      { { PUB, "https://example.com/a", true },
        { PUB, "https://example.com/:x", true },
        { PUB, "https://example.com/a/b", false } } },
    /* members in any order, unknown members skipped, payload kept */
    { "[{\"payload\":{\"nick\": \"ann\", \"n\":[1, 2]},\"topics\":"
      "[{\"x\":1,\"match\":\"room\"}],\"extra\":null,\"actions\":"
      "[\"subscribe\"]," T "}]", 1,
      { { SUB, "room", true }, { SUB, "room2", false } } },
};

/* A refused claim and a word of the reason it must give. */
static const struct {
    const char *json;
    int rc;
    const char *why;
} invalid[] = {
    { "{}", -EBADMSG, "not an array" },
    { "[1]", -EBADMSG, "not an object" },
    { "[{\"actions\":[\"publish\"]}]", -EBADMSG, "no type" },
    { "[{\"type\":7}]", -EBADMSG, "type" },
    { "[{" T "," T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":"
      "\"a\"}]}]", -EBADMSG, "type" },
    { "[{" T ",\"topics\":[{\"match\":\"a\"}]}]", -EBADMSG,
      "lacks actions" },
    { "[{" T ",\"actions\":[\"publish\"]}]", -EBADMSG, "lacks actions or "
      "topics" },
    { "[{" T ",\"actions\":[],\"topics\":[{\"match\":\"a\"}]}]", -EBADMSG,
      "actions" },
    { "[{" T ",\"actions\":[\"publish\", 1],\"topics\":[{\"match\":\"a\"}]}]",
      -EBADMSG, "actions" },
    { "[{" T ",\"actions\":\"publish\",\"topics\":[{\"match\":\"a\"}]}]",
      -EBADMSG, "actions" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[]}]", -EBADMSG,
      "topics" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[\"a\"]}]", -EBADMSG,
      "not an object" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match_type\":"
      "\"exact\"}]}]", -EBADMSG, "no match" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":null}]}]",
      -EBADMSG, "match" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":\"a\","
      "\"match_type\":\"regex\"}]}]", -EBADMSG, "does not support" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":\"a\","
      "\"match_type\":\"Exact\"}]}]", -EBADMSG, "does not support" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":\"a\","
      "\"match_type\":\"*\"}]}]", -EBADMSG, "does not support" },
    /* a bad or costly URL pattern refuses the claim, never skipped */
    { "[{" T ",\"actions\":[\"subscribe\"],\"topics\":[{\"match\":\"a\"},"
      "{\"match\":\"https://x/(a\",\"match_type\":\"urlpattern\"}]}]",
      -EBADMSG, "is not a URL pattern" },
    { "[{" T ",\"actions\":[\"subscribe\"],\"topics\":[{\"match\":"
      "\"https://x/(a(?=b))\",\"match_type\":\"urlpattern\"}]}]",
      -EBADMSG, "urlpattern grant" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":"
      "\"https://x/" "0123456789012345678901234567890123456789"
      "0123456789012345678901234567890123456789\",\"match_type\":"
      "\"urlpattern\"}]}]", -EBADMSG, "selector_cost_max" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":"
      "\"a\\u0007\"}]}]", -EBADMSG, "control" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":"
      "\"a\\u0085\"}]}]", -EBADMSG, "control" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":\"a\"}],"
      "\"payload\":\"nick\"}]", -EBADMSG, "payload" },
    { "[{" T ",\"actions\":[\"publish\"],\"actions\":[\"subscribe\"],"
      "\"topics\":[{\"match\":\"a\"}]}]", -EBADMSG, "twice" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":\"a\","
      "\"match\":\"*\"}]}]", -EBADMSG, "match" },
    { "[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match\":\"a\"}]",
      -EINVAL, "malformed" },
};

START_TEST(test_valid)
{
    const char *why;
    struct mercure_authz a;
    int rc = parse(valid[_i].json, &a, &why);

    ck_assert_msg(rc == 0, "row %d must parse, got %d (%s)", _i, rc, why);
    ck_assert_msg(a.n_details == valid[_i].n_details,
                  "row %d: %zu Mercure details expected, got %zu", _i,
                  valid[_i].n_details, a.n_details);
    for (size_t p = 0; p < 6 && valid[_i].probes[p].action != 0; p++) {
        const struct probe *pr = &valid[_i].probes[p];

        ck_assert_msg(mercure_authz_allows(&a, pr->action, pr->topic,
                                           strlen(pr->topic)) == pr->want,
                      "row %d: %s on \"%s\" must be %s", _i,
                      pr->action == PUB ? "publish" : "subscribe",
                      pr->topic, pr->want ? "granted" : "refused");
    }
    mercure_authz_free(&a);
}
END_TEST

START_TEST(test_invalid)
{
    const char *why;
    struct mercure_authz a;
    int rc = parse(invalid[_i].json, &a, &why);

    ck_assert_msg(rc == invalid[_i].rc, "row %d (%s): rc %d expected, got "
                  "%d (%s)", _i, invalid[_i].json, invalid[_i].rc, rc, why);
    ck_assert_msg(strstr(why, invalid[_i].why) != NULL,
                  "row %d: the reason \"%s\" must name \"%s\"", _i, why,
                  invalid[_i].why);
    mercure_authz_free(&a);
}
END_TEST

/* The payload: of the first subscribe detail whose matchers match the
 * subscription's own matcher; "*" serves as the default. */
START_TEST(test_payload)
{
    const char *why;
    const struct mercure_authz_detail *d;
    struct mercure_authz a;

    ck_assert(parse("[{" T ",\"actions\":[\"publish\"],\"topics\":[{\"match"
                    "\":\"*\"}],\"payload\":{\"p\":0}},"
                    "{" T ",\"actions\":[\"subscribe\"],\"topics\":[{\"match"
                    "\":\"room\"}],\"payload\":{ \"nick\" : \"ann\" }},"
                    "{" T ",\"actions\":[\"subscribe\"],\"topics\":[{\"match"
                    "\":\"*\"}],\"payload\":{\"default\":true}}]",
                    &a, &why) == 0);
    d = mercure_authz_payload(&a, "room", 4);
    ck_assert_msg(d != NULL && strcmp(d->payload, "{\"nick\":\"ann\"}") == 0,
                  "the specific subscribe detail's payload, compacted");
    d = mercure_authz_payload(&a, "other", 5);
    ck_assert_msg(d != NULL && strcmp(d->payload, "{\"default\":true}") == 0,
                  "the * subscribe detail's payload as the default");
    mercure_authz_free(&a);
}
END_TEST

/* A claim with a URL pattern grants nothing until bound: no partial
 * acceptance of its exact grants either. */
START_TEST(test_unbound)
{
    static const char json[] = "[{" T ",\"actions\":[\"publish\"],"
        "\"topics\":[{\"match\":\"a\"},{\"match\":\"https://x/:y\","
        "\"match_type\":\"urlpattern\"}]}]";
    struct mercure_authz a;
    struct json_in j;
    const char *why;
    char buf[300];

    json_in_init(&j, json, strlen(json), 32);
    ck_assert_int_eq(mercure_authz_parse(&j, &a, &why), 0);
    ck_assert_msg(!mercure_authz_usable(&a) &&
                  !mercure_authz_allows(&a, PUB, "a", 1),
                  "an unbound claim with a URL pattern grants nothing");
    ck_assert_int_eq(mercure_authz_bind(&a, HUB, strlen(HUB), COST_MAX, buf,
                                        sizeof(buf)), 0);
    ck_assert(mercure_authz_allows(&a, PUB, "a", 1));
    ck_assert(mercure_authz_allows(&a, PUB, "https://x/z", 11));
    ck_assert_msg(mercure_authz_bind(&a, HUB, strlen(HUB), 1, buf,
                                     sizeof(buf)) == -EBADMSG &&
                  !mercure_authz_allows(&a, PUB, "a", 1),
                  "a failed re-bind leaves the claim granting nothing");
    mercure_authz_free(&a);
}
END_TEST

/* Limits: entries and matchers are counted, over them is refused. */
START_TEST(test_limits)
{
    size_t n = MERCURE_AUTHZ_MATCHERS_MAX + 1, cap = n * 16 + 256;
    char *json = malloc(cap), *p = json;
    struct mercure_authz a;
    const char *why;

    ck_assert(json != NULL);
    p += sprintf(p, "[{" T ",\"actions\":[\"publish\"],\"topics\":[");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s{\"match\":\"t\"}", i ? "," : "");
    strcpy(p, "]}]");
    ck_assert(parse(json, &a, &why) == -EBADMSG);
    ck_assert_msg(strstr(why, "too many") != NULL, "%s", why);
    mercure_authz_free(&a);

    p = json;
    *p++ = '[';
    for (size_t i = 0; i <= MERCURE_AUTHZ_DETAILS_MAX; i++)
        p += sprintf(p, "%s{\"type\":\"x\"}", i ? "," : "");
    strcpy(p, "]");
    ck_assert(parse(json, &a, &why) == -EBADMSG);
    ck_assert_msg(strstr(why, "too many") != NULL, "%s", why);
    mercure_authz_free(&a);
    free(json);
}
END_TEST

static Suite *mercure_authz_suite(void)
{
    Suite *s = suite_create("mercure_authz");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");
    TCase *limits = tcase_create("limits");

    tcase_add_loop_test(core, test_valid, 0,
                        (int)(sizeof(valid) / sizeof(valid[0])));
    tcase_add_test(core, test_payload);
    tcase_add_test(core, test_unbound);
    tcase_add_loop_test(errors, test_invalid, 0,
                        (int)(sizeof(invalid) / sizeof(invalid[0])));
    tcase_add_test(limits, test_limits);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return unit_run(mercure_authz_suite());
}
