/* check_uri_template.c -- the "uri_template" suite: RFC 6570 templates as
 * matchers (every operator, modifiers, the Mercure spec's examples, bad
 * templates), Mercure topic selectors and the (selector, topic) cache. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mercure/topic_selector.h"
#include "mercure/uri_template.h"
#include "unit_run.h"

#define LIT(s) (s), (sizeof(s) - 1)

struct match_case {
    const char *tpl;
    const char *subject;
    int want;                   /* 1 match, 0 no match */
};

static const struct match_case match_cases[] = {
    /* the Mercure spec's examples */
    { "https://example.com/books/{id}", "https://example.com/books/1", 1 },
    { "https://example.com/books/{id}",
      "https://example.com/books/1/reviews", 0 },
    { "https://example.com/books/{id}", "https://example.com/books/", 1 },
    { "https://example.com/books/{id}", "https://example.com/book/1", 0 },
    { "https://example.com/users/foo/{?topic}",
      "https://example.com/users/foo/?topic=bar", 1 },
    { "https://example.com/users/foo/{?topic}",
      "https://example.com/users/foo/", 1 },
    { "https://example.com/users/foo/{?topic}",
      "https://example.com/users/foo/?other=bar", 0 },
    { "https://example.com/users/foo/{?topic}",
      "https://example.com/users/foo/?topic=a&topic=b", 0 },
    /* the shortcuts: first and last literals, an all-expression tail */
    { "{+a}!", "x!", 1 },
    { "{+a}!", "x", 0 },
    { "{+a}!", "!", 1 },
    { "ab{x}", "a", 0 },
    { "ab{x}ab", "ab", 0 },                 /* the ends overlap */
    { "ab{x}ab", "abab", 1 },
    { "{a}{b}{c}", "", 1 },
    { "{a}{b}{c}", "x", 1 },
    { "x{a}{b}", "x", 1 },
    { "{a}/{b}{c}", "p/q", 1 },
    { "{a}/{b}{c}", "p/q/", 0 },
    /* literals only */
    { "https://example.com/x", "https://example.com/x", 1 },
    { "https://example.com/x", "https://example.com/x/", 0 },
    { "a{x}b", "a1b", 1 },
    { "a{x}b", "ab", 1 },
    { "a{x}b", "a1", 0 },
    { "http://{host}/", "https://h/", 0 },
    /* simple {var}: unreserved, pct-encoded, ',' for lists */
    { "{var}", "value", 1 },
    { "{var}", "", 1 },
    { "{var}", "hello%20world", 1 },
    { "{var}", "a,b,c", 1 },
    { "{var}", "a/b", 0 },
    { "{var}", "a?b", 0 },
    { "{var}", "a=b", 0 },
    { "{var}", "a%2", 0 },
    { "{var}", "a%zz", 0 },
    { "{var}", "caf\xc3\xa9", 0 },
    { "{var}", "a b", 0 },
    { "{x,y}", "1024,768", 1 },
    { "map?{x,y}", "map?1024,768", 1 },
    /* reserved {+var} */
    { "{+path}/here", "/foo/bar/here", 1 },
    { "{+var}", "a/b?c#d=e", 1 },
    { "{+var}", "a b", 0 },
    { "{+x,hello,y}", "1024,Hello%20World!,768", 1 },
    /* fragment {#var} */
    { "X{#var}", "X#/foo!", 1 },
    { "X{#var}", "X", 1 },
    { "X{#var}", "X/foo", 0 },
    { "{#x,hello,y}", "#1024,Hello%20World!,768", 1 },
    /* label {.var} */
    { "X{.var}", "X.value", 1 },
    { "X{.x,y}", "X.1024.768", 1 },
    { "www{.dom*}", "www.example.com", 1 },
    { "X{.var}", "X/value", 0 },
    { "X{.var}", "Xvalue", 0 },
    /* path {/var} */
    { "{/var}", "/foo", 1 },
    { "{/var}", "/foo/bar", 0 },
    { "{/var}", "foo", 0 },
    { "{/var,x}/here", "/foo/1024/here", 1 },
    { "{/list*}", "/red/green/blue", 1 },
    { "{/list*,path:4}", "/red/green/blue/%2Ffoo", 1 },
    { "{/var:1,var}", "/v/value", 1 },
    { "{/var:1}", "/va", 0 },
    { "{/x,y}", "/1/2/3", 0 },
    /* path-style parameters {;var} */
    { "{;x,y}", ";x=1024;y=768", 1 },
    { "{;x,y,empty}", ";x=1024;y=768;empty", 1 },
    { "{;x}", ";x", 1 },
    { "{;x}", ";y=1", 0 },
    { "{;x}", ";x=a;x=b", 0 },
    { "{;list*}", ";list=red;list=green;list=blue", 1 },
    { "{;keys*}", ";semi=%3B;dot=.;comma=%2C", 1 },
    { "{;hello:5}", ";hello=Hello", 1 },
    { "{;hello:5}", ";hello=Hello!", 0 },
    /* query {?var} */
    { "{?x,y}", "?x=1024&y=768", 1 },
    { "{?x,y}", "?y=768", 1 },
    { "{?x,y}", "?y=768&x=1024", 0 },
    { "{?x,y,empty}", "?x=1024&y=768&empty=", 1 },
    { "{?x}", "?x", 0 },
    { "{?x}", "?x=a=b", 0 },
    { "{?list*}", "?list=red&list=green&list=blue", 1 },
    { "{?keys*}", "?semi=%3B&dot=.&comma=%2C", 1 },
    { "{?var:3}", "?var=val", 1 },
    { "{?var:3}", "?var=valu", 0 },
    /* continuation {&var} */
    { "?fixed=yes{&x}", "?fixed=yes&x=1024", 1 },
    { "?fixed=yes{&x}", "?fixed=yes", 1 },
    { "{&x,y,empty}", "&x=1024&y=768&empty=", 1 },
    { "{&x}", "?x=1", 0 },
    /* prefix {var:N}: a triplet is one character */
    { "{var:3}", "val", 1 },
    { "{var:3}", "valu", 0 },
    { "{var:3}", "%20ab", 1 },
    { "{var:3}", "%20abc", 0 },
    { "{var:3}", "", 1 },
    { "{+path:6}/here", "/foo/b/here", 1 },
    { "{+path:6}/here", "/foo/ba/here", 0 },
    { "{x:3,y}", "abc,defgh", 1 },
    { "{x:3}{y:2}", "abcde", 1 },
    { "{x:3}{y:2}", "abcdef", 0 },
    /* explode {var*} */
    { "{list*}", "red,green,blue", 1 },
    { "{keys*}", "semi=%3B,dot=.,comma=%2C", 1 },
    { "{+keys*}", "semi=;,dot=.,comma=,", 1 },
    { "{#keys*}", "#semi=;,dot=.", 1 },
    /* several expressions */
    { "{scheme}://{host}{/path*}{?q,lang}{#frag}",
      "https://example.com/a/b?q=x&lang=fr#top", 1 },
    { "{scheme}://{host}{/path*}{?q,lang}{#frag}",
      "https://example.com?lang=fr", 1 },
    { "{scheme}://{host}{/path*}{?q,lang}{#frag}",
      "https://example.com?lang=fr&q=x", 0 },
    { "/users{/id}{.format}", "/users/42.json", 1 },
    { "/users{/id}{.format}", "/users.json", 1 },
    { "/users{/id}{.format}", "/users/42/x.json", 0 },
};

START_TEST(test_match_table)
{
    const struct match_case *c = &match_cases[_i];
    int got = uri_template_match(c->tpl, strlen(c->tpl), c->subject,
                                 strlen(c->subject));

    ck_assert_msg(got == c->want, "template \"%s\" against \"%s\": "
                  "expected %d, got %d", c->tpl, c->subject, c->want, got);
}
END_TEST

static const char *const bad_templates[] = {
    "{", "}", "{x", "x}", "{}", "{x}}", "{{x}}", "a{x}{",
    "{=x}", "{,x}", "{!x}", "{@x}", "{|x}",
    "{x y}", "{x-y}", "{x,}", "{,}", "{x.}", "{.x.}", "{x..y}", "{.x}.{.}",
    "{x:0}", "{x:01}", "{x:10000}", "{x:}", "{x*:3}", "{x:3*}", "{x**}",
    "{%2x}", "{%}", "%zz{x}", "%2", "a b{x}", "a<b{x}", "a\"b", "a'b",
    "a\\b", "a^b", "a`b", "a|b", "\x01{x}", "a\x7f",
    "\xff{x}", "\xc3{x}",
};

START_TEST(test_bad_templates)
{
    const char *t = bad_templates[_i];

    ck_assert_msg(uri_template_match(t, strlen(t), "x", 1) == -EINVAL,
                  "\"%s\" is not an RFC 6570 template: -EINVAL expected", t);
}
END_TEST

START_TEST(test_good_templates)
{
    static const char *const good[] = {
        "{a%20b}", "{x:9999}", "{x.y}", "{_}", "{X_1.y2}", "caf\xc3\xa9{x}",
        "%41{x}", "{x*,y:3,z}", "!$&()*+,;=:@?/[]~_.-",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct uri_template *t = NULL;

        ck_assert_msg(uri_template_compile(good[i], strlen(good[i]), &t) == 0,
                      "\"%s\" is a valid template", good[i]);
        uri_template_free(t);
    }
}
END_TEST

/* ---- limits ---- */

START_TEST(test_var_limit)
{
    char tpl[512];
    size_t n = 0;

    n += (size_t)snprintf(tpl + n, sizeof(tpl) - n, "{v0");
    for (int i = 1; i < URI_TEMPLATE_VARS_MAX; i++)
        n += (size_t)snprintf(tpl + n, sizeof(tpl) - n, ",v%d", i);
    ck_assert(n + 2 < sizeof(tpl));
    tpl[n] = '}';
    tpl[n + 1] = '\0';
    ck_assert_msg(uri_template_match(tpl, n + 1, "a,b", 3) == 1,
                  "%d variables are allowed", URI_TEMPLATE_VARS_MAX);
    n += (size_t)snprintf(tpl + n, sizeof(tpl) - n, ",extra}");
    ck_assert_msg(uri_template_match(tpl, n, "a", 1) == -EINVAL,
                  "one variable more than the limit is refused");
}
END_TEST

START_TEST(test_length_limits)
{
    size_t big = URI_TEMPLATE_MAX + 1;
    char *tpl = malloc(big);
    char *subject = malloc(URI_TEMPLATE_SUBJECT_MAX + 1);

    ck_assert(tpl != NULL && subject != NULL);
    memset(tpl, 'a', big);
    ck_assert_msg(uri_template_match(tpl, big, tpl, big) == -EINVAL,
                  "a template longer than URI_TEMPLATE_MAX is refused");
    memcpy(tpl, "{x}", 3);
    memset(subject, 'a', URI_TEMPLATE_SUBJECT_MAX + 1);
    ck_assert_msg(uri_template_match(tpl, 3, subject,
                                     URI_TEMPLATE_SUBJECT_MAX) == 1,
                  "a subject of URI_TEMPLATE_SUBJECT_MAX bytes is matched");
    ck_assert_msg(uri_template_match(tpl, 3, subject,
                                     URI_TEMPLATE_SUBJECT_MAX + 1) == 0,
                  "a longer subject never matches");
    free(tpl);
    free(subject);
}
END_TEST

/* Many variables against a long subject that almost matches: the
 * dynamic program must finish (a backtracking matcher would not). */
START_TEST(test_no_backtracking_blowup)
{
    const char *tpl = "{a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p}!";
    size_t len = 16384;
    char *s = malloc(len);

    ck_assert(s != NULL);
    for (size_t i = 0; i < len; i++)
        s[i] = (i % 2) ? ',' : 'x';
    ck_assert_msg(uri_template_match(tpl, strlen(tpl), s, len) == 0,
                  "no '!' at the end: no match");
    s[len - 1] = '!';
    ck_assert_msg(uri_template_match(tpl, strlen(tpl), s, len) == 1,
                  "values then '!': a match");
    free(s);
}
END_TEST

struct cost_case {
    const char *tpl;
    unsigned long cost;         /* uri_template_cost */
    size_t exprs, vars;
};

/* Each literal 1 + len/16, a plain one-variable expression 1, any other
 * expression 2 + 4 a variable. */
static const struct cost_case cost_cases[] = {
    { "https://example.com/books/1", 2, 0, 0 },           /* 26 bytes */
    { "https://example.com/books/{id}", 3, 1, 1 },
    { "{id}", 1, 1, 1 },
    { "{+path}", 1, 1, 1 },
    { "{#frag}", 1, 1, 1 },
    { "{.dom}", 1, 1, 1 },
    { "{/seg}", 1, 1, 1 },
    { "{?q}", 6, 1, 1 },                                  /* named */
    { "{;p}", 6, 1, 1 },
    { "{v*}", 6, 1, 1 },                                  /* explode */
    { "{v:3}", 6, 1, 1 },                                 /* prefix */
    { "{x,y}", 10, 1, 2 },
    { "{+a}{+b}{+c}", 3, 3, 3 },
    { "a{x}b", 3, 1, 1 },
    { "https://example.com/users/{u}/books/{id}{?format}", 11, 3, 3 },
    { "{a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p}", 66, 1, 16 },
};

START_TEST(test_cost_table)
{
    const struct cost_case *c = &cost_cases[_i];
    struct uri_template *t;

    ck_assert_msg(uri_template_compile(c->tpl, strlen(c->tpl), &t) == 0,
                  "\"%s\" compiles", c->tpl);
    ck_assert_msg(uri_template_cost(t) == c->cost,
                  "\"%s\" costs %lu, not %lu", c->tpl, c->cost,
                  uri_template_cost(t));
    ck_assert_msg(uri_template_expressions(t) == c->exprs &&
                  uri_template_variables(t) == c->vars,
                  "\"%s\": %zu expressions, %zu variables", c->tpl,
                  c->exprs, c->vars);
    uri_template_free(t);
}
END_TEST

/* A template of n copies of unit, each '#' of copy i replaced by i. */
static char *repeat_template(const char *unit, int n)
{
    size_t cap = (strlen(unit) * 8 + 1) * (size_t)n + 1, used = 0;
    char *tpl = malloc(cap);

    ck_assert(tpl != NULL);
    for (int i = 0; i < n; i++) {
        for (const char *u = unit; *u != '\0'; u++) {
            if (*u == '#')
                used += (size_t)snprintf(tpl + used, cap - used, "%d", i);
            else
                tpl[used++] = *u;
        }
    }
    tpl[used] = '\0';
    return tpl;
}

struct patho_case {
    const char *unit;           /* repeated, '#' numbered */
    int copies;
    char fill;                  /* the subject: 64 KiB of it ... */
    char last;                  /* ... ending in this byte */
    int want;
};

/* Shapes that make a backtracking matcher exponential, decided by the
 * dynamic program on the longest subject it reads (the suite's timeout
 * is the guard: no timing is asserted). */
static const struct patho_case patho_cases[] = {
    { "{+a#}", 1000, 'a', 'a', 1 },
    { "{+a#}", 1000, 'a', ' ', 0 },           /* ' ' no value holds */
    { "{a#}", 1000, 'a', '/', 0 },
    { "{+a#}x", 200, 'x', 'x', 1 },
    { "{+a#}x", 200, 'x', 'y', 0 },
    { "{a#,b#,c#}", 100, ',', ',', 1 },
    { "{a#*}", 200, 'a', '!', 0 },
    { "{?a#}", 200, 'a', 'a', 0 },            /* no "?a0=" */
    { "{/a#*}", 200, '/', '/', 1 },
    { "{+a#:9}", 200, 'a', 'a', 0 },          /* 200 x 9 < 64 KiB */
};

START_TEST(test_pathological)
{
    const struct patho_case *c = &patho_cases[_i];
    size_t len = URI_TEMPLATE_SUBJECT_MAX;
    char *tpl = repeat_template(c->unit, c->copies);
    char *s = malloc(len);
    int rc;

    ck_assert(s != NULL);
    memset(s, c->fill, len);
    s[len - 1] = c->last;
    rc = uri_template_match(tpl, strlen(tpl), s, len);
    ck_assert_msg(rc == c->want, "%d x \"%s\" against %zu x '%c' then "
                  "'%c': %d, not %d", c->copies, c->unit, len - 1, c->fill,
                  c->last, c->want, rc);
    free(s);
    free(tpl);
}
END_TEST

START_TEST(test_compiled_reuse)
{
    struct uri_template *t;
    const char *tpl = "https://example.com/books/{id}";

    ck_assert(uri_template_compile(tpl, strlen(tpl), &t) == 0);
    ck_assert(uri_template_match_compiled(t,
              LIT("https://example.com/books/7")) == 1);
    ck_assert(uri_template_match_compiled(t,
              LIT("https://example.com/books/7/x")) == 0);
    ck_assert(uri_template_match_compiled(t,
              LIT("https://example.com/books/8")) == 1);
    uri_template_free(t);
}
END_TEST

/* ---- topic selectors ---- */

START_TEST(test_selector)
{
    ck_assert_msg(topic_selector_match(LIT("*"), LIT("anything at all")),
                  "* matches every topic");
    ck_assert_msg(topic_selector_match(LIT("*"), LIT("")),
                  "* matches the empty topic");
    ck_assert_msg(topic_selector_match(LIT("https://a/b"), LIT("https://a/b")),
                  "an equal string matches");
    ck_assert_msg(!topic_selector_match(LIT("https://a/b"), LIT("https://a/")),
                  "a prefix does not match");
    ck_assert_msg(!topic_selector_match(LIT("*x"), LIT("ax")),
                  "* inside a selector is not a wildcard");
    ck_assert_msg(topic_selector_match(LIT("https://a/{id}"),
                                       LIT("https://a/1")),
                  "a template selector matches");
    ck_assert_msg(topic_selector_match(LIT("https://a/{id}"),
                                       LIT("https://a/{id}")) ,
                  "a template selector matches itself exactly");
    ck_assert_msg(topic_selector_match(LIT("{bad"), LIT("{bad")),
                  "a bad template still matches itself");
    ck_assert_msg(!topic_selector_match(LIT("{bad"), LIT("bad")),
                  "a bad template matches nothing else");
    ck_assert_msg(!topic_selector_match(LIT("a%20b"), LIT("a b")),
                  "no decoding: bytes are compared");
}
END_TEST

/* ---- the cache ---- */

START_TEST(test_cache_lookup_insert)
{
    struct topic_selector_cache c;

    ck_assert(topic_selector_cache_init(&c, 0, 64) == -EINVAL);
    ck_assert(topic_selector_cache_init(&c, 16, 64) == 0);
    ck_assert_msg(topic_selector_cache_lookup(&c, LIT("s{x}"), LIT("s1"))
                  == -ENOENT, "an empty cache has nothing");
    ck_assert(topic_selector_cache_insert(&c, LIT("s{x}"), LIT("s1"), true)
              == 0);
    ck_assert(topic_selector_cache_insert(&c, LIT("s{x}"), LIT("t1"), false)
              == 0);
    ck_assert(topic_selector_cache_lookup(&c, LIT("s{x}"), LIT("s1")) == 1);
    ck_assert(topic_selector_cache_lookup(&c, LIT("s{x}"), LIT("t1")) == 0);
    ck_assert_msg(topic_selector_cache_lookup(&c, LIT("s{x"), LIT("}s1"))
                  == -ENOENT, "the split between selector and topic counts");
    ck_assert(topic_selector_cache_insert(&c, LIT("s{x}"), LIT("s1"), false)
              == 0);
    ck_assert_msg(topic_selector_cache_lookup(&c, LIT("s{x}"), LIT("s1"))
                  == 0, "an insert replaces the pair's result");
    ck_assert_msg(c.hits == 3 && c.misses == 2, "hits %llu misses %llu",
                  (unsigned long long)c.hits, (unsigned long long)c.misses);
    topic_selector_cache_free(&c);
}
END_TEST

START_TEST(test_cache_key_max)
{
    struct topic_selector_cache c;

    ck_assert(topic_selector_cache_init(&c, 4, 8) == 0);
    ck_assert(topic_selector_cache_insert(&c, LIT("1234"), LIT("5678"), true)
              == 0);
    ck_assert_msg(topic_selector_cache_insert(&c, LIT("1234"), LIT("56789"),
                                              true) == -E2BIG,
                  "a pair longer than key_max is not stored");
    ck_assert_msg(topic_selector_match_cached(&c, LIT("a{x}"),
                                              LIT("a-long-topic")),
                  "a pair too long for the cache is still computed");
    topic_selector_cache_free(&c);
}
END_TEST

/* One set of four: a referenced entry survives the clock, the first
 * unreferenced one after the hand goes. */
START_TEST(test_cache_clock_eviction)
{
    struct topic_selector_cache c;
    char topic[8];

    ck_assert(topic_selector_cache_init(&c, 1, 64) == 0);
    ck_assert(c.n_sets == 1);
    for (int i = 0; i < TOPIC_SELECTOR_CACHE_WAYS; i++) {
        snprintf(topic, sizeof(topic), "t%d", i);
        ck_assert(topic_selector_cache_insert(&c, LIT("{x}"), topic,
                                              strlen(topic), true) == 0);
    }
    ck_assert(c.evictions == 0);
    ck_assert(topic_selector_cache_lookup(&c, LIT("{x}"), LIT("t0")) == 1);
    ck_assert(topic_selector_cache_insert(&c, LIT("{x}"), LIT("t9"), false)
              == 0);
    ck_assert_msg(c.evictions == 1, "a full set evicts one entry");
    ck_assert_msg(topic_selector_cache_lookup(&c, LIT("{x}"), LIT("t0")) == 1,
                  "the referenced entry survives");
    ck_assert_msg(topic_selector_cache_lookup(&c, LIT("{x}"), LIT("t1"))
                  == -ENOENT, "the first unreferenced entry is evicted");
    ck_assert(topic_selector_cache_lookup(&c, LIT("{x}"), LIT("t9")) == 0);
    for (int i = 0; i < 100; i++) {
        snprintf(topic, sizeof(topic), "u%d", i);
        ck_assert(topic_selector_cache_insert(&c, LIT("{x}"), topic,
                                              strlen(topic), true) == 0);
    }
    ck_assert_msg(c.evictions == 101, "the set never grows: %llu evictions",
                  (unsigned long long)c.evictions);
    topic_selector_cache_free(&c);
}
END_TEST

START_TEST(test_cache_match_cached)
{
    struct topic_selector_cache c;

    ck_assert(topic_selector_cache_init(&c, 64, 256) == 0);
    for (int round = 0; round < 3; round++) {
        ck_assert(topic_selector_match_cached(&c, LIT("https://a/{id}"),
                                              LIT("https://a/1")));
        ck_assert(!topic_selector_match_cached(&c, LIT("https://a/{id}"),
                                               LIT("https://a/1/2")));
        ck_assert(topic_selector_match_cached(&c, LIT("*"), LIT("x")));
        ck_assert(topic_selector_match_cached(NULL, LIT("https://a/{id}"),
                                              LIT("https://a/2")));
    }
    ck_assert_msg(c.misses == 2 && c.hits == 4,
                  "templates are evaluated once a pair (misses %llu, hits "
                  "%llu); * and plain strings bypass the cache",
                  (unsigned long long)c.misses, (unsigned long long)c.hits);
    topic_selector_cache_free(&c);
}
END_TEST

static Suite *uri_template_suite(void)
{
    Suite *s = suite_create("uri_template");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");
    TCase *cache = tcase_create("cache");

    tcase_add_loop_test(core, test_match_table, 0,
                        sizeof(match_cases) / sizeof(match_cases[0]));
    tcase_add_test(core, test_compiled_reuse);
    tcase_add_test(core, test_selector);
    tcase_add_test(core, test_good_templates);
    tcase_add_loop_test(errors, test_bad_templates, 0,
                        sizeof(bad_templates) / sizeof(bad_templates[0]));
    tcase_add_test(limits, test_var_limit);
    tcase_add_test(limits, test_length_limits);
    tcase_add_test(limits, test_no_backtracking_blowup);
    tcase_add_loop_test(limits, test_pathological, 0,
                        sizeof(patho_cases) / sizeof(patho_cases[0]));
    tcase_add_loop_test(core, test_cost_table, 0,
                        sizeof(cost_cases) / sizeof(cost_cases[0]));
    tcase_set_timeout(limits, 60);
    tcase_add_test(cache, test_cache_lookup_insert);
    tcase_add_test(cache, test_cache_key_max);
    tcase_add_test(cache, test_cache_clock_eviction);
    tcase_add_test(cache, test_cache_match_cached);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, cache);
    return s;
}

int main(void)
{
    return unit_run(uri_template_suite());
}
