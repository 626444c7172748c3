/* check_metrics_prom.c -- Prometheus label values: escapes, and bytes
 * that are not UTF-8 (a hub selector in another encoding, a name cut
 * mid-character) replaced so a scrape never fails. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_prom.h"
#include "unit_run.h"

#define R METRICS_PROM_REPLACEMENT

static const struct {
    const char *in, *out;
} label_cases[] = {
    { "chat.lobby", "chat.lobby" },
    { "a\"b\\c\nd", "a\\\"b\\\\c\\nd" },
    { "caf\xc3\xa9", "caf\xc3\xa9" },                  /* é kept */
    { "\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!" },      /* 4-byte kept */
    { "caf\xe9", "caf" R },                            /* Latin-1 é */
    { "cut\xe2\x82", "cut" R R },                      /* cut mid-char */
    { "\xc0\xaf", R R },                               /* overlong '/' */
    { "\xed\xa0\x80", R R R },                         /* surrogate */
    { "\xff" "x", R "x" },
};

START_TEST(test_label)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(out);
    metrics_prom_label(out, label_cases[_i].in);
    fclose(out);
    ck_assert_str_eq(buf, label_cases[_i].out);
    free(buf);
}
END_TEST

static Suite *metrics_prom_suite(void)
{
    Suite *s = suite_create("metrics_prom");
    TCase *tc = tcase_create("label");

    tcase_add_loop_test(tc, test_label, 0,
                        sizeof label_cases / sizeof label_cases[0]);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(metrics_prom_suite());
}
