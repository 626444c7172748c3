/* check_http_cors.c -- the "http_cors" suite: which Origin gets which
 * CORS answer (row by row, with and without "*" and credentials
 * origins), and the exact header lines. */
#include <check.h>
#include <string.h>

#include "runtime/http_cors.h"
#include "unit_run.h"

static char *plain[] = { "https://plain.example" };
static char *star[] = { "https://plain.example", "*" };
static char *cred[] = { "https://app.example" };

static const struct {
    char **cors; size_t n_cors;     /* cors_origins */
    const char *origin;             /* the request's Origin */
    const char *lines;              /* the header lines wanted */
} cors_cases[] = {
    { plain, 1, NULL, "" },
    { plain, 1, "", "" },
    { star, 2, NULL, "" },
    { plain, 1, "https://evil.example", "" },
    { plain, 1, "https://plain.example",
      "Access-Control-Allow-Origin: https://plain.example\r\n"
      "Vary: Origin\r\n" },
    { star, 2, "https://z.example",
      "Access-Control-Allow-Origin: *\r\nVary: Origin\r\n" },
    { star, 2, "https://app.example",
      "Access-Control-Allow-Origin: https://app.example\r\n"
      "Access-Control-Allow-Credentials: true\r\nVary: Origin\r\n" },
    { NULL, 0, "https://app.example",
      "Access-Control-Allow-Origin: https://app.example\r\n"
      "Access-Control-Allow-Credentials: true\r\nVary: Origin\r\n" },
    { NULL, 0, "https://app.example.evil", "" },
};

START_TEST(test_cors_table)
{
    struct config cfg;
    struct http_cors c;
    char buf[512];
    size_t n;

    memset(&cfg, 0, sizeof(cfg));
    cfg.cors_origins = cors_cases[_i].cors;
    cfg.n_cors_origins = cors_cases[_i].n_cors;
    cfg.mercure_cred_origins = cred;
    cfg.n_mercure_cred_origins = 1;
    http_cors_decide(&cfg, cors_cases[_i].origin, &c);
    n = http_cors_format(buf, sizeof(buf), &c);
    ck_assert_msg(n == strlen(buf) && strcmp(buf, cors_cases[_i].lines) == 0,
                  "Origin %s: want \"%s\", got \"%s\"",
                  cors_cases[_i].origin ? cors_cases[_i].origin : "(none)",
                  cors_cases[_i].lines, buf);
}
END_TEST

START_TEST(test_cors_small_buffer)
{
    struct http_cors c = { "https://plain.example", true };
    char buf[40] = "x";

    ck_assert_msg(http_cors_format(buf, sizeof(buf), &c) == 0 &&
                  buf[0] == '\0', "lines that do not fit must give \"\"");
    ck_assert_msg(http_cors_format(buf, 0, &c) == 0,
                  "a zero cap must write nothing");
}
END_TEST

static Suite *http_cors_suite(void)
{
    Suite *s = suite_create("http_cors");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");

    tcase_add_loop_test(core, test_cors_table, 0,
                        (int)(sizeof(cors_cases) / sizeof(cors_cases[0])));
    suite_add_tcase(s, core);
    tcase_add_test(limits, test_cors_small_buffer);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return unit_run(http_cors_suite());
}
