/* check_publish_body.c -- the "publish_body" suite: Content-Type dispatch
 * and the text, form and JSON body parsers of sseq-publish, including
 * truncated, nested, duplicated and hostile inputs. Bodies are copied to
 * exact-size heap blocks so the sanitizers catch any read past the end. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publish/publish_body.h"
#include "unit_run.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* A parse of a heap copy of s[0..len); the result strings are copied out
 * NUL-terminated so the test can compare them after freeing. */
struct parsed {
    int rc;
    char *data, *event;         /* NULL if none */
    size_t data_len, event_len;
    char why[PUBLISH_BODY_WHY_MAX];
};

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    ck_assert_ptr_nonnull(d);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static struct parsed parse(enum publish_body_type type, const char *s,
                           size_t len)
{
    struct parsed p = { 0 };
    struct publish_body b;
    char *body = malloc(len ? len : 1), *scratch = malloc(len ? len : 1);

    ck_assert_ptr_nonnull(body);
    ck_assert_ptr_nonnull(scratch);
    memcpy(body, s, len);
    p.rc = publish_body_parse(type, body, len, scratch, &b);
    if (p.rc == 0) {
        p.data = dup_n(b.data, b.data_len);
        p.data_len = b.data_len;
        if (b.event) {
            p.event = dup_n(b.event, b.event_len);
            p.event_len = b.event_len;
        }
    } else {
        strcpy(p.why, b.why);
    }
    free(body);
    free(scratch);
    return p;
}

static void parsed_free(struct parsed *p)
{
    free(p->data);
    free(p->event);
}

/* Asserts that s parses as type with the given data and event. */
static void expect_ok(enum publish_body_type type, const char *s,
                      size_t len, const char *data, size_t data_len,
                      const char *event)
{
    struct parsed p = parse(type, s, len);

    ck_assert_msg(p.rc == 0, "body \"%s\" must parse, got: %s", s, p.why);
    ck_assert_msg(p.data_len == data_len &&
                  memcmp(p.data, data, data_len) == 0,
                  "body \"%s\" must give data \"%s\", got \"%s\"", s, data,
                  p.data);
    if (event == NULL)
        ck_assert_msg(p.event == NULL, "body \"%s\" must have no event", s);
    else
        ck_assert_msg(p.event && strcmp(p.event, event) == 0,
                      "body \"%s\" must give event \"%s\"", s, event);
    parsed_free(&p);
}

/* Asserts that s is refused with a reason containing why. */
static void expect_bad(enum publish_body_type type, const char *s,
                       size_t len, const char *why)
{
    struct parsed p = parse(type, s, len);

    ck_assert_msg(p.rc == -EINVAL, "body \"%.*s\" must be refused",
                  (int)len, s);
    ck_assert_msg(strstr(p.why, why) != NULL,
                  "reason for \"%.*s\" must mention \"%s\", got \"%s\"",
                  (int)len, s, why, p.why);
    parsed_free(&p);
}

#define OK(t, s, d, e) expect_ok(t, LIT(s), LIT(d), e)
#define BAD(t, s, w) expect_bad(t, LIT(s), w)
#define TEXT PUBLISH_BODY_TEXT
#define FORM PUBLISH_BODY_FORM
#define JSON PUBLISH_BODY_JSON

/* ---- core ---- */

START_TEST(test_type)
{
    char why[PUBLISH_BODY_WHY_MAX];

    ck_assert_int_eq(publish_body_type("text/plain", why, sizeof(why)),
                     TEXT);
    ck_assert_int_eq(publish_body_type("Text/Plain; charset=UTF-8", why,
                                       sizeof(why)), TEXT);
    ck_assert_int_eq(publish_body_type("application/x-www-form-urlencoded",
                                       why, sizeof(why)), FORM);
    ck_assert_int_eq(publish_body_type(
        "application/x-www-form-urlencoded;charset=utf-8", why,
        sizeof(why)), FORM);
    ck_assert_int_eq(publish_body_type("application/json ; charset=\"utf-8\"",
                                       why, sizeof(why)), JSON);
    ck_assert_int_eq(publish_body_type("application/json; foo=bar", why,
                                       sizeof(why)), JSON);
}
END_TEST

START_TEST(test_text)
{
    OK(TEXT, "hello", "hello", NULL);
    OK(TEXT, "", "", NULL);
    OK(TEXT, "line 1\nline 2\r\nline 3", "line 1\nline 2\r\nline 3", NULL);
    OK(TEXT, "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80",
       NULL);
}
END_TEST

START_TEST(test_form)
{
    OK(FORM, "data=hello", "hello", NULL);
    OK(FORM, "data=a+b%0Ac&event=upd", "a b\nc", "upd");
    OK(FORM, "event=x&data=", "", "x");
    OK(FORM, "x=1&data=%E2%82%AC&y", "\xe2\x82\xac", NULL);
    OK(FORM, "&&data=1&&", "1", NULL);
}
END_TEST

START_TEST(test_json_string)
{
    OK(JSON, "{\"data\":\"hi\"}", "hi", NULL);
    OK(JSON, " {\n \"data\" : \"a\\nb\" , \"event\" : \"e\" }\n", "a\nb",
       "e");
    OK(JSON, "{\"event\":\"e1\",\"data\":\"x\"}", "x", "e1");
    OK(JSON, "{\"data\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", "\"\\/\b\f\n\r\t",
       NULL);
    OK(JSON, "{\"data\":\"\\u00e9\\u20AC\\ud83d\\ude00\"}",
       "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", NULL);
    OK(JSON, "{\"data\":\"caf\xc3\xa9\"}", "caf\xc3\xa9", NULL);
    OK(JSON, "{\"data\":\"\",\"event\":null}", "", NULL);
    OK(JSON, "{\"d\\u0061ta\":\"escaped key\"}", "escaped key", NULL);
}
END_TEST

START_TEST(test_json_value)
{
    OK(JSON, "{\"data\": {\"a\": [1, 2.5e-3, true, null], \"b\" : \"x y\"}}",
       "{\"a\":[1,2.5e-3,true,null],\"b\":\"x y\"}", NULL);
    OK(JSON, "{\"data\": [ ] }", "[]", NULL);
    OK(JSON, "{\"data\": { } }", "{}", NULL);
    OK(JSON, "{\"data\": -0.5E+10}", "-0.5E+10", NULL);
    OK(JSON, "{\"data\": null}", "null", NULL);
    OK(JSON, "{\"data\": false, \"event\": \"flag\"}", "false", "flag");
    OK(JSON, "{\"data\": [\"\\u00e9\", \"a\\\"b\"]}",
       "[\"\\u00e9\",\"a\\\"b\"]", NULL);
}
END_TEST

START_TEST(test_json_other_members)
{
    OK(JSON, "{\"id\": 5, \"data\": \"x\", \"meta\": {\"k\": [1, {}]}}",
       "x", NULL);
    OK(JSON, "{\"channel\": \"c\", \"data\": 1}", "1", NULL);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_limit)
{
    ck_assert_uint_eq(publish_body_limit(TEXT, 65536), 65536);
    ck_assert_uint_eq(publish_body_limit(FORM, 65536), 3 * 65536 + 4096);
    ck_assert_uint_eq(publish_body_limit(JSON, 100), 4396);
    ck_assert_uint_eq(publish_body_limit(JSON, (size_t)-1), (size_t)-1);
}
END_TEST

/* A JSON body whose data is depth nested arrays. */
static char *nested(int depth, size_t *len)
{
    char *s = malloc((size_t)depth * 2 + 32);
    size_t n = 0;
    int i;

    ck_assert_ptr_nonnull(s);
    n += (size_t)sprintf(s, "{\"data\":");
    for (i = 0; i < depth; i++)
        s[n++] = '[';
    for (i = 0; i < depth; i++)
        s[n++] = ']';
    s[n++] = '}';
    s[n] = '\0';
    *len = n;
    return s;
}

START_TEST(test_json_depth)
{
    size_t len;
    char *s = nested(PUBLISH_BODY_JSON_DEPTH - 1, &len);
    struct parsed p = parse(JSON, s, len);

    ck_assert_msg(p.rc == 0, "nesting below the limit must parse: %s",
                  p.why);
    parsed_free(&p);
    free(s);
    s = nested(100000, &len);
    expect_bad(JSON, s, len, "nesting too deep");
    free(s);
}
END_TEST

START_TEST(test_large)
{
    size_t n = 1 << 20, i;
    char *data = malloc(n), *form = malloc(n * 3 + 16);
    size_t flen;

    ck_assert_ptr_nonnull(data);
    ck_assert_ptr_nonnull(form);
    for (i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    flen = (size_t)sprintf(form, "data=");
    for (i = 0; i < n; i++)
        flen += (size_t)sprintf(form + flen, "%%%02X",
                                (unsigned char)data[i]);
    expect_ok(FORM, form, flen, data, n, NULL);
    free(data);
    free(form);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_type_errors)
{
    char why[PUBLISH_BODY_WHY_MAX];

    ck_assert_int_eq(publish_body_type(NULL, why, sizeof(why)),
                     -EPROTONOSUPPORT);
    ck_assert_msg(strstr(why, "missing Content-Type") != NULL,
                  "reason must say the Content-Type is missing: %s", why);
    ck_assert_int_eq(publish_body_type("", why, sizeof(why)),
                     -EPROTONOSUPPORT);
    ck_assert_int_eq(publish_body_type("application/xml", why, sizeof(why)),
                     -EPROTONOSUPPORT);
    ck_assert_msg(strstr(why, "application/xml") != NULL,
                  "reason must name the type: %s", why);
    ck_assert_int_eq(publish_body_type("text/plainx", why, sizeof(why)),
                     -EPROTONOSUPPORT);
    ck_assert_int_eq(publish_body_type("text/plain; charset=iso-8859-1",
                                       why, sizeof(why)), -EILSEQ);
    ck_assert_msg(strstr(why, "iso-8859-1") != NULL,
                  "reason must name the charset: %s", why);
}
END_TEST

START_TEST(test_form_errors)
{
    BAD(FORM, "", "no data= field");
    BAD(FORM, "hello", "no data= field");
    BAD(FORM, "event=x", "no data= field");
    BAD(FORM, "data=1&data=2", "duplicate data=");
    BAD(FORM, "data=1&event=a&event=b", "duplicate event=");
    BAD(FORM, "data=%ZZ", "percent escape in the data= field");
    BAD(FORM, "data=%4", "percent escape");
    BAD(FORM, "data=x&event=%", "percent escape in the event= field");
    BAD(FORM, "data=%FF%FE", "not valid UTF-8");
    BAD(FORM, "data=ok&event=%C0%80", "event is not valid UTF-8");
}
END_TEST

START_TEST(test_json_errors)
{
    BAD(JSON, "", "expected '{' at byte 0");
    BAD(JSON, "[]", "expected '{'");
    BAD(JSON, "\"data\"", "expected '{'");
    BAD(JSON, "{}", "no \"data\" member");
    BAD(JSON, "{\"event\":\"x\"}", "no \"data\" member");
    BAD(JSON, "{\"data\":\"a\",\"data\":\"b\"}", "duplicate \"data\"");
    BAD(JSON, "{\"data\":1,\"event\":\"a\",\"event\":\"b\"}",
        "duplicate \"event\"");
    BAD(JSON, "{\"data\":1,}", "expected a member name");
    BAD(JSON, "{\"data\":1} x", "trailing data after the object at byte 11");
    BAD(JSON, "{\"data\":1}{}", "trailing data");
    BAD(JSON, "{\"data\" 1}", "expected ':'");
    BAD(JSON, "{data:1}", "expected a member name");
    BAD(JSON, "{\"data\":[1 2]}", "expected ',' or ']'");
    BAD(JSON, "{\"data\":{\"a\" 1}}", "expected ':'");
    BAD(JSON, "{\"data\":[1,]}", "unexpected");
    BAD(JSON, "{\"data\":01}", "expected ',' or '}'");
    BAD(JSON, "{\"data\":1.}", "bad number");
    BAD(JSON, "{\"data\":-}", "bad number");
    BAD(JSON, "{\"data\":1e}", "bad number");
    BAD(JSON, "{\"data\":tru}", "unexpected character");
    BAD(JSON, "{\"data\":NaN}", "unexpected character");
    BAD(JSON, "{\"data\":'x'}", "unexpected character");
    BAD(JSON, "{\"data\":\"a\x01\"}", "control character in string");
    BAD(JSON, "{\"data\":\"a\nb\"}", "control character in string");
    BAD(JSON, "{\"data\":\"\\x\"}", "bad escape");
    BAD(JSON, "{\"data\":\"\\u12\"}", "bad \\u escape");
    BAD(JSON, "{\"data\":\"\\ud800\"}", "lone high surrogate");
    BAD(JSON, "{\"data\":\"\\ud800\\u0041\"}", "lone high surrogate");
    BAD(JSON, "{\"data\":\"\\udc00\"}", "lone low surrogate");
    BAD(JSON, "{\"data\":\"\xff\"}", "data is not valid UTF-8");
    BAD(JSON, "{\"data\":[\"\xc0\xaf\"]}", "data is not valid UTF-8");
    BAD(JSON, "{\"data\":\"x\",\"event\":\"\xed\xa0\x80\"}",
        "event is not valid UTF-8");
    BAD(JSON, "{\"data\":\"x\",\"event\":5}", "\"event\" is not a string");
    BAD(JSON, "{\"data\":\"x\",\"other\":\"\\q\"}", "bad escape");
    BAD(JSON, "{\"data\":\"x\",\"other\":\"\xff\"}",
        "JSON body is not valid UTF-8");
}
END_TEST

START_TEST(test_text_errors)
{
    BAD(TEXT, "\xff", "data is not valid UTF-8");
    BAD(TEXT, "ok \xc3", "data is not valid UTF-8");
    BAD(TEXT, "\xed\xa0\x80", "data is not valid UTF-8");
}
END_TEST

/* Every proper prefix of a valid JSON body is refused, without reading
 * past it (ASan watches the exact-size copies). */
START_TEST(test_json_truncated)
{
    static const char doc[] =
        "{\"event\":\"e\\u00e9\",\"x\":[1,-2.5e+3,{\"k\":null}],"
        "\"data\":{\"s\":\"\\ud83d\\ude00\\n\",\"t\":true,\"f\":false}}";
    size_t i;

    for (i = 0; i < sizeof(doc) - 1; i++) {
        struct parsed p = parse(JSON, doc, i);

        ck_assert_msg(p.rc == -EINVAL, "prefix of %zu bytes must be refused",
                      i);
        parsed_free(&p);
    }
    {
        struct parsed p = parse(JSON, doc, sizeof(doc) - 1);

        ck_assert_msg(p.rc == 0, "the whole document must parse: %s", p.why);
        parsed_free(&p);
    }
}
END_TEST

/* Random bytes from an alphabet of JSON and form syntax: no crash, no
 * read or write out of bounds, and every success is valid. */
START_TEST(test_hostile_random)
{
    static const char alpha[] = "{}[]\":,\\u0aD8dfe-+.E tnrl=&%data"
                                "event\x01\xc3\xa9\xff\n";
    char buf[64];
    int i, t;

    srand(12345);
    for (i = 0; i < 20000; i++) {
        size_t len = (size_t)(rand() % (int)sizeof(buf)), k;

        for (k = 0; k < len; k++)
            buf[k] = alpha[rand() % (int)(sizeof(alpha) - 1)];
        if (i % 3 == 0 && len > 9)
            memcpy(buf, "{\"data\":", 8);
        for (t = TEXT; t <= JSON; t++) {
            struct parsed p = parse((enum publish_body_type)t, buf, len);

            ck_assert_msg(p.rc == 0 || p.rc == -EINVAL,
                          "parse must succeed or return -EINVAL");
            if (p.rc == 0)
                ck_assert_msg(p.data_len <= len && p.event_len <= len,
                              "decoded parts must not exceed the body");
            parsed_free(&p);
        }
    }
}
END_TEST

static Suite *publish_body_suite(void)
{
    Suite *s = suite_create("publish_body");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_test(core, test_type);
    tcase_add_test(core, test_text);
    tcase_add_test(core, test_form);
    tcase_add_test(core, test_json_string);
    tcase_add_test(core, test_json_value);
    tcase_add_test(core, test_json_other_members);
    tcase_add_test(limits, test_limit);
    tcase_add_test(limits, test_json_depth);
    tcase_add_test(limits, test_large);
    tcase_add_test(errors, test_type_errors);
    tcase_add_test(errors, test_form_errors);
    tcase_add_test(errors, test_json_errors);
    tcase_add_test(errors, test_text_errors);
    tcase_add_test(errors, test_json_truncated);
    tcase_add_test(errors, test_hostile_random);
    tcase_set_timeout(errors, 60);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(publish_body_suite());
}
