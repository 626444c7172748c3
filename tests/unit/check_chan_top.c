/* check_chan_top.c -- the "chan_top" suite: the bounded ordered
 * selection (streams descending, ties by name, zeros never kept, the
 * bound) and the merge of several processes' lists (names summed). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "metrics/chan_top.h"
#include "unit_run.h"

/* Offers "name:streams" words of in (space-separated) with bound k and
 * writes the kept ones the same way into out. */
static void offer_all(const char *in, unsigned k, char *out, size_t cap)
{
    static char names[16][32];
    struct chan_top_entry top[16], e;
    unsigned n = 0, i = 0;
    unsigned long v;
    const char *p = in;
    int used;

    while (sscanf(p, "%31[^:]:%lu%n", names[i], &v, &used) == 2) {
        e = (struct chan_top_entry){ names[i], strlen(names[i]), v };
        chan_top_offer(top, &n, k, &e);
        p += used;
        p += *p == ' ';
        i++;
    }
    out[0] = '\0';
    for (i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%.*s:%lu",
                 i ? " " : "", (int)top[i].len, top[i].name,
                 (unsigned long)top[i].streams);
}

/* Offers and the list that must be kept. */
struct offer_case {
    const char *in;
    unsigned k;
    const char *kept;
};

static const struct offer_case offers[] = {
    { "a:1 b:3 c:2", 10, "b:3 c:2 a:1" },
    { "a:1 b:3 c:2", 2, "b:3 c:2" },
    { "a:5 b:4 c:3 d:9", 2, "d:9 a:5" },
    { "b:2 a:2 ab:2 c:2", 3, "a:2 ab:2 b:2" },
    { "x:0 y:1", 5, "y:1" },
    { "a:1", 0, "" },
    { "a:1 b:1", 1, "a:1" },
    { "b:1 a:1", 1, "a:1" },
    { "", 4, "" },
};

START_TEST(test_offer)
{
    const struct offer_case *c = &offers[_i];
    char got[256];

    offer_all(c->in, c->k, got, sizeof(got));
    ck_assert_msg(strcmp(got, c->kept) == 0, "offering \"%s\" with k=%u "
                  "should keep \"%s\", kept \"%s\"", c->in, c->k, c->kept,
                  got);
}
END_TEST

START_TEST(test_merge)
{
    struct chan_top_entry all[] = {
        { "hot", 3, 2 }, { "cold", 4, 1 }, { "warm", 4, 2 },
        { "hot", 3, 1 }, { "warm", 4, 1 }, { "ice", 3, 1 },
        { "hotter", 6, 3 },
    }, top[3];
    unsigned n = chan_top_merge(all, 7, top, 3);

    ck_assert_uint_eq(n, 3);
    ck_assert_msg(top[0].streams == 3 && top[0].len == 3 &&
                  memcmp(top[0].name, "hot", 3) == 0,
                  "hot (2 + 1) ties hotter (3) and sorts first");
    ck_assert_msg(top[1].streams == 3 && top[1].len == 6,
                  "then hotter");
    ck_assert_msg(top[2].streams == 3 && top[2].len == 4 &&
                  memcmp(top[2].name, "warm", 4) == 0, "then warm");
    ck_assert_uint_eq(chan_top_merge(all, 0, top, 3), 0);
}
END_TEST

static Suite *chan_top_suite(void)
{
    Suite *s = suite_create("chan_top");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");

    tcase_add_test(core, test_merge);
    tcase_add_loop_test(limits, test_offer, 0,
                        (int)(sizeof(offers) / sizeof(offers[0])));
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return unit_run(chan_top_suite());
}
