/* check_bearer.c -- the "bearer" suite: which Authorization values carry
 * a Bearer token and which bytes of them are the token, row by row. */
#include <check.h>
#include <string.h>

#include "base/bearer.h"
#include "unit_run.h"

static const struct {
    const char *value;
    const char *token;          /* NULL: not a Bearer token */
    const char *why;
} bearer_cases[] = {
    { "Bearer abc", "abc", "the plain form" },
    { "  bearer \t abc.def=  ", "abc.def=",
      "the scheme is case-insensitive, blanks are trimmed" },
    { "BEARER\tx", "x", "a tab may follow the scheme" },
    { "Bearer a b", "a b", "inner blanks are the token's (it then "
      "matches nothing)" },
    { "Basic dXNlcjpwYXNz", NULL, "Basic is not Bearer" },
    { "Bearer", NULL, "no token" },
    { "Bearer   ", NULL, "a blank token" },
    { "Bearerabc", NULL, "the scheme must be followed by a blank" },
    { "", NULL, "an empty value" },
    { "Bear", NULL, "a cut scheme" },
};

START_TEST(test_bearer_table)
{
    const char *v = bearer_cases[_i].value, *want = bearer_cases[_i].token;
    const char *tok = NULL;
    size_t len = 0;
    bool ok = bearer_parse(v, &tok, &len);

    ck_assert_msg(ok == (want != NULL), "\"%s\": %s: must be %s", v,
                  bearer_cases[_i].why, want ? "a token" : "refused");
    if (want != NULL)
        ck_assert_msg(len == strlen(want) && memcmp(tok, want, len) == 0,
                      "\"%s\": the token must be \"%s\", got \"%.*s\"", v,
                      want, (int)len, tok);
}
END_TEST

static Suite *bearer_suite(void)
{
    Suite *s = suite_create("bearer");
    TCase *core = tcase_create("core");

    tcase_add_loop_test(core, test_bearer_table, 0,
                        (int)(sizeof(bearer_cases) / sizeof(bearer_cases[0])));
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return unit_run(bearer_suite());
}
