/* check_urlpattern.c -- the "urlpattern" suite: Mercure 1.0's urlpattern
 * matcher. Topics split into URL components (url_parts), the linear-time
 * regexp dialect (urlpattern_regex: what it matches, what it refuses and
 * that pathological expressions stay linear), URL patterns against
 * topics (the Mercure spec's examples, relative patterns and topics
 * against the hub URL, and the web-platform-tests cases it can take:
 * urlpattern_wpt.inc), and bad patterns named in the error. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mercure/url_parts.h"
#include "mercure/urlpattern.h"
#include "mercure/urlpattern_regex.h"
#include "unit_run.h"

#define HUB "https://hub.example/.well-known/mercure"

struct parts_case {
    const char *url;
    const char *base;           /* NULL: none */
    const char *want[URL_PARTS];        /* NULL: refused */
};

static const struct parts_case parts_cases[] = {
    { "https://example.com/books/1", NULL,
      { "https", "", "", "example.com", "", "/books/1", "", "" } },
    { "HTTPS://User:Pw@EXAMPLE.com:443/a/./b/../c?x=1#f", NULL,
      { "https", "User", "Pw", "example.com", "", "/a/c", "x=1", "f" } },
    { "http://h:8080", NULL,
      { "http", "", "", "h", "8080", "/", "", "" } },
    { "http://h:0080/", NULL,
      { "http", "", "", "h", "", "/", "", "" } },
    { "http://h:08080/", NULL,
      { "http", "", "", "h", "8080", "/", "", "" } },
    { "https://h/a b/%7e/{x}?q=a b'#frag ment", NULL,
      { "https", "", "", "h", "", "/a%20b/%7e/%7Bx%7D", "q=a%20b%27",
        "frag%20ment" } },
    { "https://h/a/%2e%2E/b/.", NULL,
      { "https", "", "", "h", "", "/b/", "", "" } },
    { "https:\\\\h\\a\\b", NULL,
      { "https", "", "", "h", "", "/a/b", "", "" } },
    { "urn:isbn:0451450523", NULL,
      { "urn", "", "", "", "", "isbn:0451450523", "", "" } },
    { "foo://Host/P/../q", NULL,
      { "foo", "", "", "Host", "", "/q", "", "" } },
    { "http://[::1]:8080/", NULL,
      { "http", "", "", "[::1]", "8080", "/", "", "" } },
    { "file:///etc/passwd", NULL,
      { "file", "", "", "", "", "/etc/passwd", "", "" } },
    /* relative references against the hub URL */
    { "/books/1", HUB,
      { "https", "", "", "hub.example", "", "/books/1", "", "" } },
    { "books/1", HUB,
      { "https", "", "", "hub.example", "", "/.well-known/books/1", "",
        "" } },
    { "../x", HUB, { "https", "", "", "hub.example", "", "/x", "", "" } },
    { "?q", HUB,
      { "https", "", "", "hub.example", "", "/.well-known/mercure", "q",
        "" } },
    { "#h", HUB,
      { "https", "", "", "hub.example", "", "/.well-known/mercure", "",
        "h" } },
    { "//other.example/p", HUB,
      { "https", "", "", "other.example", "", "/p", "", "" } },
    { "", HUB,
      { "https", "", "", "hub.example", "", "/.well-known/mercure", "",
        "" } },
    /* refused */
    { "books/1", NULL, { NULL } },
    { "https://", NULL, { NULL } },
    { "https://h:99999/", NULL, { NULL } },
    { "https://h:8a/", NULL, { NULL } },
    { "https://a b/", NULL, { NULL } },
    { "https://h%2fx/", NULL, { NULL } },
    { "http://[::1/", NULL, { NULL } },
};

START_TEST(test_url_parts)
{
    const struct parts_case *c = &parts_cases[_i];
    struct url_parts base, u;
    int rc;

    if (c->base != NULL)
        ck_assert_int_eq(url_parts_parse(&base, c->base, strlen(c->base),
                                         NULL), 0);
    rc = url_parts_parse(&u, c->url, strlen(c->url),
                         c->base != NULL ? &base : NULL);
    if (c->want[0] == NULL) {
        ck_assert_msg(rc == -EINVAL, "\"%s\" should be refused, got %d",
                      c->url, rc);
    } else {
        ck_assert_msg(rc == 0, "\"%s\" should parse, got %d", c->url, rc);
        for (int k = 0; k < URL_PARTS; k++)
            ck_assert_msg(strcmp(u.v[k], c->want[k]) == 0 &&
                          u.len[k] == strlen(c->want[k]),
                          "\"%s\": component %d is \"%s\", want \"%s\"",
                          c->url, k, u.v[k], c->want[k]);
        url_parts_free(&u);
    }
    if (c->base != NULL)
        url_parts_free(&base);
}
END_TEST

struct regex_case {
    const char *re;
    const char *text;
    int want;                   /* 1 match, 0 not, -EINVAL refused */
    const char *why;            /* refused: a word the reason has */
};

static const struct regex_case regex_cases[] = {
    { "abc", "abc", 1, NULL },
    { "abc", "abcd", 0, NULL },             /* a whole match */
    { "abc", "ab", 0, NULL },
    { "a|b|c", "b", 1, NULL },
    { "(?:ab)+", "ababab", 1, NULL },
    { "(?:ab)+", "", 0, NULL },
    { "(?:ab)*", "", 1, NULL },
    { "a{2,3}", "a", 0, NULL },
    { "a{2,3}", "aaa", 1, NULL },
    { "a{2,3}", "aaaa", 0, NULL },
    { "a{2,}", "aaaaaaa", 1, NULL },
    { "a{2}?b", "aab", 1, NULL },
    { "[a-c]+\\d", "abcabc7", 1, NULL },
    { "[^/]+?", "x/y", 0, NULL },
    { "[^]+?", "x/y", 1, NULL },
    { "[]", "", 0, NULL },
    { ".*", "anything", 1, NULL },
    { ".", "\n", 0, NULL },
    { "\\w+\\s\\W", "ab_9 !", 1, NULL },
    { "[\\d.-]+", "1.2-3", 1, NULL },
    { "\\x41", "A", 1, NULL },
    { "^a$", "a", 1, NULL },
    { "a^b", "ab", 0, NULL },
    { "(?<year>\\d{4})", "2024", 1, NULL },
    { "(a*)*b", "aaaab", 1, NULL },
    { "(?:a|)*c", "aaac", 1, NULL },
    /* refused constructs, named */
    { "(a)\\1", "", -EINVAL, "backreference" },
    { "(?<n>a)\\k<n>", "", -EINVAL, "backreference" },
    { "a(?=b)", "", -EINVAL, "lookahead" },
    { "a(?!b)", "", -EINVAL, "lookahead" },
    { "(?<=a)b", "", -EINVAL, "lookbehind" },
    { "(?<!a)b", "", -EINVAL, "lookbehind" },
    { "\\bfoo", "", -EINVAL, "word boundary" },
    { "\\p{L}", "", -EINVAL, "property" },
    { "a**", "", -EINVAL, "repeat" },
    { "*a", "", -EINVAL, "repeat" },
    { "(a", "", -EINVAL, "unterminated" },
    { "a)", "", -EINVAL, "unmatched" },
    { "[b-a]", "", -EINVAL, "order" },
    { "a{3,2}", "", -EINVAL, "order" },
    { "a{1000}", "", -EINVAL, "over" },
    { "\\u0041", "", -EINVAL, "\\u" },
    { "\\", "", -EINVAL, "backslash" },
    /* fuzz_urlpattern: "(?" at the end (read past it for the message) */
    { "(?", "", -EINVAL, "unterminated group" },
    { "a(?", "", -EINVAL, "unterminated group" },
    { "(?x)", "", -EINVAL, "unknown group (?x" },
};

START_TEST(test_regex)
{
    const struct regex_case *c = &regex_cases[_i];
    struct urlpattern_regex *r;
    char why[200] = "";
    size_t len = strlen(c->re);
    char *re = malloc(len > 0 ? len : 1);   /* no NUL after it: ASan */
    int rc;

    ck_assert_ptr_nonnull(re);
    memcpy(re, c->re, len);
    rc = urlpattern_regex_compile(re, len, &r, why, sizeof(why));
    free(re);

    if (c->want < 0) {
        ck_assert_msg(rc == c->want, "/%s/ should be refused, got %d",
                      c->re, rc);
        ck_assert_msg(strstr(why, c->why) != NULL, "/%s/: reason \"%s\" "
                      "should say \"%s\"", c->re, why, c->why);
        return;
    }
    ck_assert_msg(rc == 0, "/%s/ should compile: %s", c->re, why);
    ck_assert_msg(urlpattern_regex_match(r, c->text, strlen(c->text)) ==
                  (c->want == 1), "/%s/ against \"%s\": want %d", c->re,
                  c->text, c->want);
    urlpattern_regex_free(r);
}
END_TEST

/* Expressions that backtracking engines take exponential time on: here
 * each is a whole answer over a long text, however the text is made. */
START_TEST(test_regex_pathological)
{
    static const char *const res[] = {
        "(a+)+b", "(a|a)*b", "(a|aa)+$b", "(?:a*)*b", "(.*a){20}b",
        "(?:(?:(?:a+)+)+)+b", "(\\w+\\d*)+z",
    };
    static char text[20001];
    struct urlpattern_regex *r;
    char why[200];

    memset(text, 'a', sizeof(text) - 1);
    for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        int rc = urlpattern_regex_compile(res[i], strlen(res[i]), &r, why,
                                          sizeof(why));

        ck_assert_msg(rc == 0, "/%s/ should compile: %s", res[i], why);
        ck_assert_msg(urlpattern_regex_size(r) < 1000, "/%s/: %zu states",
                      res[i], urlpattern_regex_size(r));
        ck_assert_msg(!urlpattern_regex_match(r, text, sizeof(text) - 1),
                      "/%s/ must not match 20000 a's", res[i]);
        urlpattern_regex_free(r);
    }
}
END_TEST

/* A program bigger than the limit is refused as too large, not built. */
START_TEST(test_regex_too_large)
{
    struct urlpattern_regex *r;
    char why[200] = "";
    const char *re = "(?:(?:(?:a{100}){100}){100})";

    ck_assert_int_eq(urlpattern_regex_compile(re, strlen(re), &r, why,
                                              sizeof(why)), -E2BIG);
    ck_assert_msg(strstr(why, "too large") != NULL, "reason: %s", why);
}
END_TEST

struct pattern_case {
    const char *pat;
    const char *base;           /* NULL: HUB */
    const char *topic;
    int want;                   /* 1 match, 0 not, -1 bad pattern */
};

static const struct pattern_case pattern_cases[] = {
    /* the Mercure spec's examples */
    { "https://example.com/bar/:id", NULL, "https://example.com/bar/1", 1 },
    { "https://example.com/bar/:id", NULL, "https://example.com/bar/1/x",
      0 },
    { "https://example.com/bar/:id", NULL, "https://example.com/foo", 0 },
    { "https://example.com/books/:id", NULL,
      "https://example.com/books/42?view=full", 1 },
    { "https://example.com/users/42/*", NULL,
      "https://example.com/users/42/books/1", 1 },
    { "https://example.com/users/42/*", NULL,
      "https://example.com/users/43/books/1", 0 },
    { "/.well-known/mercure/subscriptions/exact/:topic/:subscriber", NULL,
      "/.well-known/mercure/subscriptions/exact/a%2Fb/urn%3Auuid%3A1", 1 },
    { "/.well-known/mercure/subscriptions/exact/:topic/:subscriber", NULL,
      HUB "/subscriptions/exact/a/b", 1 },
    { "/.well-known/mercure/subscriptions/exact/:topic/:subscriber", NULL,
      "https://elsewhere.example/.well-known/mercure/subscriptions/exact/"
      "a/b", 0 },
    /* relative patterns and topics, against the hub URL */
    { "/books/:id", NULL, "https://hub.example/books/1", 1 },
    { "/books/:id", NULL, "/books/1", 1 },
    { "/books/:id", NULL, "books/1", 0 },   /* /.well-known/books/1 */
    { "books/:id", NULL, "/.well-known/books/7", 1 },
    { "/books/:id", NULL, "http://hub.example/books/1", 0 },
    { "/books/:id", "http://hub.example:8080/.well-known/mercure",
      "http://hub.example:8080/books/1", 1 },
    { "/books/:id", "http://hub.example:8080/.well-known/mercure",
      "http://hub.example/books/1", 0 },
    /* components, modifiers, groups, regexps */
    { "http{s}?://{*.}?example.com/:a/:b", NULL,
      "http://x.y.example.com/p/q", 1 },
    { "https://*.example.com/*", NULL, "https://EXAMPLE.com/", 0 },
    { "https://*.example.com/*", NULL, "https://a.EXAMPLE.com/x", 1 },
    { "https://example.com/:id(\\d+)", NULL, "https://example.com/123", 1 },
    { "https://example.com/:id(\\d+)", NULL, "https://example.com/12a", 0 },
    { "https://example.com/:p+", NULL, "https://example.com/a/b/c", 1 },
    { "https://example.com/x/:p*", NULL, "https://example.com/x", 1 },
    { "https://example.com/x/:p*", NULL, "https://example.com/x/", 0 },
    { "https://example.com/:p?/x", NULL, "https://example.com/x", 1 },
    { "https://example.com/{:p}?/x", NULL, "https://example.com/q/x", 1 },
    { "https://example.com/Books", NULL, "https://example.com/books", 0 },
    { "https://example.com/*\\?q=:v", NULL, "https://example.com/a?q=1",
      1 },
    { "https://example.com/*\\?q=:v", NULL, "https://example.com/a?r=1",
      0 },
    { "https://example.com/*?q=:v", NULL, "https://example.com/a?q=1", 0 },
    { "https://example.com/*#:h", NULL, "https://example.com/a#top", 1 },
    { "urn\\:isbn\\:*", NULL, "urn:isbn:123", 1 },  /* escaped ':' too */
    { "urn:*", NULL, "urn:isbn:123", 1 },
    { "https://example.com/a b", NULL, "https://example.com/a%20b", 1 },
    /* fuzz_urlpattern: an empty {} group (no text: memcpy from NULL) */
    { "https://example.com/a{}b", NULL, "https://example.com/ab", 1 },
    { "https://example.com/a{}?b", NULL, "https://example.com/ab", 1 },
    /* topics that are not URLs match nothing */
    { "*", NULL, "https://h:99999/", 0 },
    { "https://example.com/*", NULL, "https:// bad/", 0 },
    /* bad patterns */
    { "https://example.com/:id/:id", NULL, "", -1 },
    { "https://example.com/(a\\1)", NULL, "", -1 },
    { "https://example.com/(a)\\1", NULL, "https://example.com/a1", 1 },
    { "https://example.com/((a))", NULL, "", -1 },
    { "https://example.com/(?=a)", NULL, "", -1 },
    { "https://example.com/(a(?=b))", NULL, "", -1 },
    { "https://example.com/{a", NULL, "", -1 },
    { "https://exa mple.com/", NULL, "", -1 },
    { "https://example.com:8a/", NULL, "", -1 },
    { "ht%tp://example.com/", NULL, "", -1 },
};

/* A heap copy of s without its NUL (so ASan sees a read past it). */
static char *tight(const char *s)
{
    char *t = malloc(strlen(s) > 0 ? strlen(s) : 1);

    ck_assert_ptr_nonnull(t);
    memcpy(t, s, strlen(s));
    return t;
}

/* Compiles pat against base ("": none) and matches topic: 1, 0, or -1
 * when the pattern is refused. */
static int try_pattern(const char *pat, const char *base, const char *topic,
                       char *why, size_t cap)
{
    char *tp = tight(pat), *tb = tight(base), *tt = tight(topic);
    struct urlpattern *p;
    int rc;

    rc = urlpattern_compile(tp, strlen(pat), tb, strlen(base), &p, why,
                            cap);
    if (rc == 0) {
        rc = urlpattern_match(p, tt, strlen(topic));
        urlpattern_free(p);
    } else {
        rc = -1;
    }
    free(tp);
    free(tb);
    free(tt);
    return rc;
}

START_TEST(test_pattern)
{
    const struct pattern_case *c = &pattern_cases[_i];
    char why[300] = "";
    int got = try_pattern(c->pat, c->base != NULL ? c->base : HUB,
                          c->topic, why, sizeof(why));

    ck_assert_msg(got == c->want, "\"%s\" against \"%s\": got %d, want %d"
                  " (%s)", c->pat, c->topic, got, c->want, why);
}
END_TEST

static const struct pattern_case wpt_cases[] = {
#include "urlpattern_wpt.inc"
};

START_TEST(test_wpt)
{
    const struct pattern_case *c = &wpt_cases[_i];
    char why[300] = "";
    int got = try_pattern(c->pat, c->base != NULL ? c->base : "", c->topic,
                          why, sizeof(why));

    ck_assert_msg(got == c->want, "wpt: \"%s\" (base %s) against \"%s\": "
                  "got %d, want %d (%s)", c->pat, c->base ? c->base : "none",
                  c->topic, got, c->want, why);
}
END_TEST

struct error_case {
    const char *pat;
    const char *words[2];       /* what the reason must say */
};

static const struct error_case error_cases[] = {
    { "https://example.com/(a\\1)", { "pathname", "backreference" } },
    { "https://example.com/(a(?=b))", { "pathname", "lookahead" } },
    { "https://example.com/((a))", { "pathname", "capturing group" } },
    { "https://example.com/:id/:id", { "pathname", "duplicate" } },
    { "https://exa mple.com/", { "hostname", "not allowed" } },
    { "https://example.com:8a/", { "port", "not allowed" } },
    { "https://example.com/((?:a{99}){99})", { "pathname", "too large" } },
    { "/books/:id", { "relative", "no base" } },
};

START_TEST(test_error_names_culprit)
{
    const struct error_case *c = &error_cases[_i];
    struct urlpattern *p = NULL;
    char why[300] = "";
    const char *base = strcmp(c->words[0], "relative") == 0 ? "" : HUB;
    int rc = urlpattern_compile(c->pat, strlen(c->pat), base, strlen(base),
                                &p, why, sizeof(why));

    ck_assert_msg(rc < 0 && p == NULL, "\"%s\" should be refused", c->pat);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(strstr(why, c->words[i]) != NULL, "\"%s\": reason "
                      "\"%s\" should say \"%s\"", c->pat, why, c->words[i]);
}
END_TEST

/* The cost is the biggest component program: a literal path costs its
 * length, wildcards little, and a pattern with a huge regexp a lot. */
START_TEST(test_cost)
{
    static const struct {
        const char *pat;
        unsigned long lo, hi;
    } cases[] = {
        { "https://example.com/books/:id", 5, 40 },
        { "https://*/*", 1, 10 },
        { "https://example.com/(a{1,99})", 99, 400 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct urlpattern *p;
        char why[300];

        ck_assert_int_eq(urlpattern_compile(cases[i].pat,
                         strlen(cases[i].pat), HUB, strlen(HUB), &p, why,
                         sizeof(why)), 0);
        ck_assert_msg(urlpattern_cost(p) >= cases[i].lo &&
                      urlpattern_cost(p) <= cases[i].hi, "\"%s\" costs %lu",
                      cases[i].pat, urlpattern_cost(p));
        urlpattern_free(p);
    }
}
END_TEST

/* A pathological pattern against a long topic: many wildcards and nested
 * quantifiers answer in one pass (no assertion on time: the state count
 * bounds the work, and the answer must come, whatever the topic). */
START_TEST(test_pattern_pathological)
{
    static const char *const pats[] = {
        "https://example.com/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
        "https://example.com/((?:a+)+)b",
        "https://example.com/:x((?:a|a)*)b",
        "https://*.*.*.*.*.*.*.*.*.*/*",
    };
    static char topic[4096 + 32];
    char why[300];

    strcpy(topic, "https://example.com/");
    memset(topic + strlen(topic), 'a', 4000);
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
        ck_assert_msg(try_pattern(pats[i], HUB, topic, why, sizeof(why))
                      == 0, "\"%s\" must not match 4000 a's: %s", pats[i],
                      why);
}
END_TEST

static Suite *urlpattern_suite(void)
{
    Suite *s = suite_create("urlpattern");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_loop_test(core, test_url_parts, 0,
                        sizeof(parts_cases) / sizeof(parts_cases[0]));
    tcase_add_loop_test(core, test_regex, 0,
                        sizeof(regex_cases) / sizeof(regex_cases[0]));
    tcase_add_loop_test(core, test_pattern, 0,
                        sizeof(pattern_cases) / sizeof(pattern_cases[0]));
    tcase_add_loop_test(core, test_wpt, 0,
                        sizeof(wpt_cases) / sizeof(wpt_cases[0]));
    tcase_add_test(limits, test_regex_pathological);
    tcase_add_test(limits, test_regex_too_large);
    tcase_add_test(limits, test_cost);
    tcase_add_test(limits, test_pattern_pathological);
    tcase_set_timeout(limits, 60);
    tcase_add_loop_test(errors, test_error_names_culprit, 0,
                        sizeof(error_cases) / sizeof(error_cases[0]));
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(urlpattern_suite());
}
