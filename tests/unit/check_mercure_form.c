/* check_mercure_form.c -- the "mercure_form" suite: the hub's publish
 * form read as Mercure.rocks reads it (topics in order, data, id, type,
 * retry, private present whatever its value), and every refusal with the
 * field it names. Table-driven. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mercure/mercure_form.h"
#include "unit_run.h"

/* Parses body (a C string, copied without its NUL) with topic_max 64
 * into *f; returns rc. The copy and the scratch buffer are exactly the
 * body's length, so an overread or overrun shows under ASan. The strings
 * point into scratch: it is kept until 64 calls later. */
static int parse(const char *body, struct mercure_form *f)
{
    size_t len = strlen(body);
    char *copy = malloc(len ? len : 1), *scratch = malloc(len ? len : 1);
    static char *keep[64];
    static int n_keep;
    int rc;

    ck_assert_ptr_nonnull(copy);
    ck_assert_ptr_nonnull(scratch);
    memcpy(copy, body, len);
    rc = mercure_form_parse(copy, len, 64, scratch, f);
    free(copy);
    free(keep[n_keep % 64]);
    keep[n_keep++ % 64] = scratch;
    return rc;
}

static void eq(const char *got, size_t len, const char *want)
{
    ck_assert_msg(len == strlen(want) && memcmp(got, want, len) == 0,
                  "got \"%.*s\", want \"%s\"", (int)len, got, want);
}

/* ---- core ---- */

START_TEST(test_every_field)
{
    struct mercure_form f;

    ck_assert_int_eq(parse("topic=https%3A%2F%2Fexample.com%2Fbooks%2F1"
                           "&topic=https://example.com/users/1&topic=b+c"
                           "&data=Hello+%E2%82%AC&id=urn:uuid:1&type=up"
                           "&retry=4500&private=on&other=x", &f), 0);
    ck_assert_uint_eq(f.n_topic, 3);
    eq(f.topic[0], f.topic_len[0], "https://example.com/books/1");
    eq(f.topic[1], f.topic_len[1], "https://example.com/users/1");
    eq(f.topic[2], f.topic_len[2], "b c");
    eq(f.data, f.data_len, "Hello \xe2\x82\xac");
    eq(f.id, f.id_len, "urn:uuid:1");
    eq(f.type, f.type_len, "up");
    ck_assert_uint_eq(f.retry_ms, 4500);
    ck_assert(f.private_);
}
END_TEST

START_TEST(test_defaults)
{
    struct mercure_form f;

    ck_assert_int_eq(parse("topic=a", &f), 0);
    ck_assert_uint_eq(f.n_topic, 1);
    eq(f.data, f.data_len, "");
    ck_assert_uint_eq(f.id_len, 0);
    ck_assert_uint_eq(f.type_len, 0);
    ck_assert_uint_eq(f.retry_ms, 0);
    ck_assert(!f.private_);
    ck_assert_int_eq(parse("topic=a&id=&type=&data=", &f), 0);
    ck_assert_uint_eq(f.id_len, 0);
    ck_assert_uint_eq(f.type_len, 0);
}
END_TEST

/* private= counts whatever its value, even none at all. */
static const char *const private_rows[] = {
    "topic=a&private", "topic=a&private=", "topic=a&private=on",
    "topic=a&private=false", "private=0&topic=a",
};

START_TEST(test_private)
{
    struct mercure_form f;

    ck_assert_int_eq(parse(private_rows[_i], &f), 0);
    ck_assert_msg(f.private_, "%s must be private", private_rows[_i]);
}
END_TEST

START_TEST(test_limits)
{
    char body[4096], topic[80];
    struct mercure_form f;
    size_t o = 0;
    int i;

    for (i = 0; i < (int)MERCURE_FORM_TOPICS_MAX; i++)
        o += (size_t)snprintf(body + o, sizeof(body) - o, "topic=t%d&", i);
    body[o - 1] = '\0';
    ck_assert_int_eq(parse(body, &f), 0);
    ck_assert_uint_eq(f.n_topic, MERCURE_FORM_TOPICS_MAX);
    snprintf(body + o - 1, sizeof(body) - o, "&topic=x");
    ck_assert_int_eq(parse(body, &f), -EINVAL);
    ck_assert_ptr_nonnull(strstr(f.why, "too many topic="));
    memset(topic, 'a', 64);
    topic[64] = '\0';
    snprintf(body, sizeof(body), "topic=%s", topic);
    ck_assert_int_eq(parse(body, &f), 0);
    snprintf(body, sizeof(body), "topic=%sa", topic);
    ck_assert_int_eq(parse(body, &f), -EINVAL);
    ck_assert_ptr_nonnull(strstr(f.why, "topic_max"));
    ck_assert_int_eq(parse("topic=a&retry=4294967295", &f), 0);
    ck_assert_uint_eq(f.retry_ms, UINT32_MAX);
}
END_TEST

/* ---- errors ---- */

static const struct { const char *body, *why; } error_rows[] = {
    { "", "no topic=" },
    { "data=x", "no topic=" },
    { "topic=", "empty topic=" },
    { "topic=a%00b", "NUL" },
    { "topic=%ff", "topic= field is not valid UTF-8" },
    { "topic=a&data=%c3%28", "data= field is not valid UTF-8" },
    { "topic=a&data=%zz", "percent escape in the data=" },
    { "topic=a&data=%4", "percent escape in the data=" },
    { "topic=%4g", "percent escape in the topic=" },
    { "topic=a&data=1&data=2", "duplicate data=" },
    { "topic=a&id=1&id=2", "duplicate id=" },
    { "topic=a&type=x&type=y", "duplicate type=" },
    { "topic=a&retry=1&retry=2", "duplicate retry=" },
    { "topic=a&type=a%0Ab", "bad type=" },
    { "topic=a&type=a%0Db", "bad type=" },
    { "topic=a&type=a%00b", "bad type=" },
    { "topic=a&id=a%0Ab", "bad id=" },
    { "topic=a&id=a%0Db", "bad id=" },
    { "topic=a&id=%23x", "must not start with '#'" },
    { "topic=a&id=123", "be all digits" },
    { "topic=a&id=earliest", "bad id=" },
    { "topic=a&id=a%0D%0ASet-Cookie:%20x=1", "bad id=" },
    { "topic=a%0Ab", "bad topic=" },
    { "topic=a&retry=", "bad retry=" },
    { "topic=a&retry=12a", "bad retry=" },
    { "topic=a&retry=-1", "bad retry=" },
    { "topic=a&retry=%31", "bad retry=" },
    { "topic=a&retry=4294967296", "is over" },
    { "topic=a&retry=12345678901", "bad retry=" },
    /* Mercure 1.0: no control or format character in topics, id, type */
    { "topic=a%09b", "U+0009" },
    { "topic=a%7F", "U+007F" },
    { "topic=a%C2%85", "U+0085 (a control character, C1)" },
    { "topic=a%E2%80%8Bb", "U+200B (a format character, Cf) at byte 1" },
    { "topic=%E2%80%AEevil", "U+202E" },
    { "topic=a%C2%AD", "U+00AD" },
    { "topic=x%F3%A0%80%81", "U+E0001" },
    { "topic=a&topic=b%EF%BB%BF", "bad topic= \"b\\xef\\xbb\\xbf\"" },
    { "topic=a&id=x%E2%80%8B", "bad id= \"x\\xe2\\x80\\x8b\": U+200B" },
    { "topic=a&id=x%C2%9F", "U+009F" },
    { "topic=a&type=x%E2%81%A6", "bad type= \"x\\xe2\\x81\\xa6\": U+2066" },
    { "topic=a&type=%09", "bad type=" },
    /* Mercure 1.0: the wildcard and the hub's event type are reserved */
    { "topic=*", "topic 1 is \"*\", reserved" },
    { "topic=a&topic=*", "topic 2 is \"*\", reserved" },
    { "topic=a&type=mercure", "bad type= \"mercure\": reserved for the "
      "hub's own events" },
    /* found by fuzz_mercure_form: a reason quoted the value past its end */
    { "topic=a&retry=", "bad retry=" },
    { "topic=a&retry=1%0A", "bad retry=" },
};

START_TEST(test_errors)
{
    struct mercure_form f;

    ck_assert_msg(parse(error_rows[_i].body, &f) == -EINVAL,
                  "\"%s\" must be refused", error_rows[_i].body);
    ck_assert_msg(strstr(f.why, error_rows[_i].why) != NULL,
                  "\"%s\": reason \"%s\" must say \"%s\"",
                  error_rows[_i].body, f.why, error_rows[_i].why);
}
END_TEST

/* What the 1.0 rules leave alone: other characters, near names. */
static const char *const accepted_rows[] = {
    "topic=caf%C3%A9&id=urn:caf%C3%A9&type=%C3%A9t%C3%A9",
    "topic=%E2%80%8A",                  /* U+200A hair space: Zs */
    "topic=%F0%9F%98%80",               /* an emoji */
    "topic=**&topic=%2A%2A",
    "topic=a&type=Mercure",
    "topic=a&type=mercure2",
    "topic=a&type=mercur",
    "topic=a%C2%A0b",                   /* U+00A0: Zs, not C1 */
};

START_TEST(test_accepted)
{
    struct mercure_form f;

    ck_assert_msg(parse(accepted_rows[_i], &f) == 0, "\"%s\" must be "
                  "accepted, got \"%s\"", accepted_rows[_i], f.why);
}
END_TEST

#define HUB "https://example.com/.well-known/mercure"

/* The reserved namespace: a topic resolved against the hub's URL and
 * normalized, whose path is the hub's or under it; want 1 = refused. */
static const struct { const char *hub, *topic; int want; } reserved_rows[] = {
    { HUB, "/.well-known/mercure", 1 },
    { HUB, "/.well-known/mercure/", 1 },
    { HUB, "/.well-known/mercure/subscriptions/exact/a/urn%3Auuid%3A1", 1 },
    { HUB, "https://example.com/.well-known/mercure/subscriptions/a", 1 },
    { HUB, "https://other.org/.well-known/mercure/x", 1 },
    { HUB, "http://EXAMPLE.com:8080/.well-known/mercure", 1 },
    { HUB, "urn:/.well-known/mercure/x", 1 },
    { HUB, "/.well-known/%6Dercure/subscriptions", 1 },
    { HUB, "/.well-known/%6dercure", 1 },
    { HUB, "/%2Ewell-known/mercure/x", 1 },
    { HUB, "/.well-known/mercure/../mercure/x", 1 },
    { HUB, "/a/b/../../.well-known/./mercure/x", 1 },
    { HUB, "/a/%2E%2E/.well-known/mercure", 1 },
    { HUB, "mercure/subscriptions", 1 },   /* relative to the hub's dir */
    { HUB, "/.well-known/mercure?x#y", 1 },
    { HUB, "/.well-known/mercurex", 0 },
    { HUB, "/.well-known/mercure-sub/x", 0 },
    { HUB, "/.well-known/MERCURE/x", 0 },
    { HUB, "/.well-known/mercure%2Fx", 0 },  /* %2F is no unreserved */
    { HUB, "/x/.well-known/mercure", 0 },
    { HUB, "https://example.com/books/1", 0 },
    { HUB, "chat.lobby", 0 },
    { HUB, "urn:uuid:6f1c-.well-known/mercure", 0 },
    { HUB, "http://[::1", 0 },              /* no URL: no hub path */
    { "http://h/hub/.well-known/mercure", "/.well-known/mercure/x", 0 },
    { "http://h/hub/.well-known/mercure", "/hub/.well-known/mercure/x", 1 },
    { "http://h/hub/.well-known/mercure/", "/hub/.well-known/mercure", 1 },
};

/* body: "topic=urn:b&topic=" and t percent-encoded where the form would
 * read it otherwise ('%', '&', '#', '+'). */
static void reserved_body(char *body, size_t cap, const char *t)
{
    size_t o = (size_t)snprintf(body, cap, "topic=urn:b&topic=");

    for (; *t && o + 4 < cap; t++)
        o += (size_t)snprintf(body + o, cap - o,
                              *t == '%' || *t == '&' || *t == '#' ||
                              *t == '+' ? "%%%02X" : "%c", (unsigned char)*t);
}

START_TEST(test_reserved)
{
    char body[300];
    struct mercure_form f;
    const char *hub = reserved_rows[_i].hub;
    int rc;

    reserved_body(body, sizeof(body), reserved_rows[_i].topic);
    ck_assert_int_eq(parse(body, &f), 0);
    rc = mercure_form_reserved(&f, hub, strlen(hub));
    ck_assert_msg(rc == (reserved_rows[_i].want ? -EINVAL : 0),
                  "\"%s\" against %s: %s expected, got %d (%s)",
                  reserved_rows[_i].topic, hub,
                  reserved_rows[_i].want ? "refused" : "accepted", rc, f.why);
    if (rc < 0)
        ck_assert_msg(strstr(f.why, "topic 2 \"") != NULL &&
                      strstr(f.why, "reserved for the hub") != NULL,
                      "the reason names the topic: %s", f.why);
}
END_TEST

START_TEST(test_long_id_and_type)
{
    char body[1024], val[300];
    struct mercure_form f;

    memset(val, 'i', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    snprintf(body, sizeof(body), "topic=a&id=%s", val);
    ck_assert_int_eq(parse(body, &f), -EINVAL);
    snprintf(body, sizeof(body), "topic=a&type=%s", val);
    ck_assert_int_eq(parse(body, &f), -EINVAL);
}
END_TEST

static Suite *mercure_form_suite(void)
{
    Suite *s = suite_create("mercure_form");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_test(core, test_every_field);
    tcase_add_test(core, test_defaults);
    tcase_add_loop_test(core, test_private, 0, (int)(sizeof(private_rows) /
                                                     sizeof(*private_rows)));
    tcase_add_test(limits, test_limits);
    tcase_add_loop_test(errors, test_errors, 0,
                        (int)(sizeof(error_rows) / sizeof(*error_rows)));
    tcase_add_test(errors, test_long_id_and_type);
    tcase_add_loop_test(core, test_accepted, 0, (int)(sizeof(accepted_rows) /
                                                      sizeof(*accepted_rows)));
    tcase_add_loop_test(errors, test_reserved, 0,
                        (int)(sizeof(reserved_rows) /
                              sizeof(*reserved_rows)));
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(mercure_form_suite());
}
