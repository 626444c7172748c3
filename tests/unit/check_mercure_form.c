/* check_mercure_form.c -- the "mercure_form" suite: the hub's publish
 * form read as Mercure.rocks reads it (topics in order, data, id, type,
 * retry, private present whatever its value), and every refusal with the
 * field it names. Table-driven. */
#include <check.h>
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
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(mercure_form_suite());
}
