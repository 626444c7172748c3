/* check_json_in.c -- the "json_in" suite: the shared strict JSON reader,
 * row by row: values it accepts (with their compact copy), values it
 * refuses (with the reason), strings and their decoding, depth. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "base/json_in.h"
#include "unit_run.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* One value and its compact text, or NULL and the reason it is refused. */
static const struct {
    const char *text;
    const char *compact;        /* NULL: refused */
    const char *why;            /* the reason when refused */
} value_cases[] = {
    { "0", "0", NULL },
    { " -1.5e+3 ", "-1.5e+3", NULL },
    { "true", "true", NULL },
    { "null", "null", NULL },
    { "\"a\\n\"", "\"a\\n\"", NULL },
    { "[ 1 , {\"k\" : [ ] } ]", "[1,{\"k\":[]}]", NULL },
    { "{}", "{}", NULL },
    { "", NULL, "unexpected end" },
    { "01", "0", NULL },                /* the value is 0; 1 follows */
    { "1.", NULL, "bad number" },
    { "-", NULL, "bad number" },
    { "1e", NULL, "bad number" },
    { "tru", NULL, "unexpected character" },
    { "NaN", NULL, "unexpected character" },
    { "'x'", NULL, "unexpected character" },
    { "[1,]", NULL, "unexpected character" },
    { "[1 2]", NULL, "expected ',' or ']'" },
    { "{\"a\" 1}", NULL, "expected ':'" },
    { "{a:1}", NULL, "expected a member name" },
    { "{\"a\":1 \"b\":2}", NULL, "expected ',' or '}'" },
    { "\"a", NULL, "unterminated string" },
    { "\"a\x01\"", NULL, "control character in string" },
    { "\"\\x\"", NULL, "bad escape" },
    { "\"\\u12\"", NULL, "bad \\u escape" },
    { "\"\\ud800\"", NULL, "lone high surrogate" },
    { "\"\\ud800\\u0041\"", NULL, "lone high surrogate" },
    { "\"\\udc00\"", NULL, "lone low surrogate" },
};

START_TEST(test_value_table)
{
    const char *t = value_cases[_i].text, *want = value_cases[_i].compact;
    struct json_in j;
    char out[64];
    size_t n = 0;
    int rc;

    json_in_init(&j, t, strlen(t), 8);
    rc = json_in_value(&j, out, sizeof(out), &n);
    if (want == NULL) {
        ck_assert_msg(rc == -EINVAL && j.why != NULL &&
                      strcmp(j.why, value_cases[_i].why) == 0,
                      "'%s' must be refused with \"%s\", got %d \"%s\"", t,
                      value_cases[_i].why, rc, j.why ? j.why : "");
        return;
    }
    ck_assert_msg(rc == 0 && n == strlen(want) && memcmp(out, want, n) == 0,
                  "'%s' must read as '%s', got %d '%.*s' (%s)", t, want, rc,
                  (int)n, out, j.why ? j.why : "");
}
END_TEST

START_TEST(test_string_decode)
{
    static const char text[] = "\"a\\u00e9\\ud83d\\ude00\\/\\u0000\"";
    struct json_in j;
    char out[32];
    size_t n;
    bool nul;

    json_in_init(&j, LIT(text), 8);
    ck_assert_int_eq(json_in_string(&j, out, sizeof(out), &n, &nul), 0);
    ck_assert_msg(n == 9 && memcmp(out, "a\xc3\xa9\xf0\x9f\x98\x80/\0", 9)
                  == 0 && nul, "escapes must decode to UTF-8 and flag NUL");
    ck_assert_msg(j.pos == sizeof(text) - 1, "the cursor must be after it");
    json_in_init(&j, LIT(text), 8);
    ck_assert_int_eq(json_in_string(&j, out, 2, &n, &nul), 0);
    ck_assert_msg(n == 9, "what does not fit must be counted");
}
END_TEST

START_TEST(test_object_members)
{
    static const char text[] = " { \"exp\" : 12.5 , \"a-very-long-member\":1,"
                               "\"n\\u0000\":2 } ";
    struct json_in j;
    char key[8];
    bool first = true;
    double v;

    json_in_init(&j, LIT(text), 8);
    ck_assert_int_eq(json_in_object_open(&j), 0);
    ck_assert_int_eq(json_in_object_next(&j, &first, key, sizeof(key)), 1);
    ck_assert_str_eq(key, "exp");
    ck_assert_msg(json_in_number(&j, &v) == 0 && v == 12.5, "exp is 12.5");
    ck_assert_int_eq(json_in_object_next(&j, &first, key, sizeof(key)), 1);
    ck_assert_msg(key[0] == '\0', "a name longer than key must read \"\"");
    ck_assert_int_eq(json_in_value(&j, NULL, 0, NULL), 0);
    ck_assert_int_eq(json_in_object_next(&j, &first, key, sizeof(key)), 1);
    ck_assert_msg(key[0] == '\0', "a name holding NUL must read \"\"");
    ck_assert_int_eq(json_in_value(&j, NULL, 0, NULL), 0);
    ck_assert_int_eq(json_in_object_next(&j, &first, key, sizeof(key)), 0);
    ck_assert_int_eq(json_in_end(&j), 0);
}
END_TEST

START_TEST(test_depth)
{
    struct json_in j;
    bool first = true;
    char key[4];

    json_in_init(&j, LIT("[[[]]]"), 3);
    ck_assert_msg(json_in_value(&j, NULL, 0, NULL) == 0,
                  "three levels fit a limit of 3");
    json_in_init(&j, LIT("[[[[]]]]"), 3);
    ck_assert_msg(json_in_value(&j, NULL, 0, NULL) == -EINVAL &&
                  strcmp(j.why, "nesting too deep") == 0,
                  "four levels exceed a limit of 3");
    json_in_init(&j, LIT("{\"a\":[[]]}"), 2);
    ck_assert_int_eq(json_in_object_open(&j), 0);
    ck_assert_int_eq(json_in_object_next(&j, &first, key, sizeof(key)), 1);
    ck_assert_msg(json_in_value(&j, NULL, 0, NULL) == -EINVAL,
                  "the outer object counts toward the limit");
}
END_TEST

START_TEST(test_number_limit)
{
    char text[JSON_IN_NUMBER_MAX + 2];
    struct json_in j;
    double v;

    memset(text, '1', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    json_in_init(&j, text, strlen(text), 1);
    ck_assert_msg(json_in_number(&j, &v) == -EINVAL,
                  "a number longer than JSON_IN_NUMBER_MAX is not read");
    json_in_init(&j, text, strlen(text), 1);
    ck_assert_msg(json_in_number(&j, NULL) == 0,
                  "skipping a long number is fine");
}
END_TEST

START_TEST(test_trailing)
{
    struct json_in j;

    json_in_init(&j, LIT("{} x"), 2);
    ck_assert_int_eq(json_in_value(&j, NULL, 0, NULL), 0);
    ck_assert_msg(json_in_end(&j) == -EINVAL && j.pos == 3,
                  "trailing data must be refused at its byte");
}
END_TEST

static Suite *json_in_suite(void)
{
    Suite *s = suite_create("json_in");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_loop_test(core, test_value_table, 0,
                        (int)(sizeof(value_cases) / sizeof(value_cases[0])));
    tcase_add_test(core, test_string_decode);
    tcase_add_test(core, test_object_members);
    suite_add_tcase(s, core);
    tcase_add_test(limits, test_depth);
    tcase_add_test(limits, test_number_limit);
    suite_add_tcase(s, limits);
    tcase_add_test(errors, test_trailing);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(json_in_suite());
}
