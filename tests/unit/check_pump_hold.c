/* check_pump_hold.c -- the "pump_hold" suite: the pump's coalescing
 * policy (pump_hold_decide) on tables of observations. Each row is a
 * situation the pump meets; the rows under "traces" are observations
 * logged by sseq-stream in the bench runs of bench/RESULTS.md. */
#include "ac_config.h"

#include <check.h>
#include <stdlib.h>

#include "pump_hold.h"
#include "unit_run.h"

struct row {
    const char *what;
    struct pump_hold_obs o;
    enum pump_hold_act act;
    enum pump_hold_why why;
    uint64_t wait_us;               /* PUMP_HOLD_WAIT only */
};

#define C 2000                      /* stream.coalesce_us's default */

/* Checks every row of t[0..n). */
static void check_rows(const struct row *t, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct pump_hold_dec d = pump_hold_decide(&t[i].o);

        ck_assert_msg(d.act == t[i].act && d.why == t[i].why,
                      "%s: want act %d (%s), got %d (%s)", t[i].what,
                      t[i].act, pump_hold_why_name(t[i].why), d.act,
                      pump_hold_why_name(d.why));
        if (d.act == PUMP_HOLD_WAIT)
            ck_assert_msg(d.wait_us == t[i].wait_us,
                          "%s: want a look after %llu us, got %llu",
                          t[i].what, (unsigned long long)t[i].wait_us,
                          (unsigned long long)d.wait_us);
    }
}

static const struct row rules[] = {
    { "nothing pending: idle, even with unread output",
      { .pending = 0, .unread = 5000, .streams = 100, .coalesce_us = C },
      PUMP_HOLD_IDLE, PUMP_HOLD_NOTHING, 0 },
    { "a lone message to an idle stream goes at once",
      { .pending = 1, .unread = 0, .streams = 0, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_FEW, 0 },
    { "a message after a pass the web server has read goes at once",
      { .pending = 1, .unread = 0, .streams = 1000, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_READ, 0 },
    { "stopping: everything goes out now",
      { .pending = 3, .unread = 900, .streams = 1000, .coalesce_us = C,
        .stopping = true },
      PUMP_HOLD_PASS, PUMP_HOLD_URGENT, 0 },
    { "coalescing off: every record at once",
      { .pending = 3, .unread = 900, .streams = 1000, .coalesce_us = 0 },
      PUMP_HOLD_PASS, PUMP_HOLD_URGENT, 0 },
    { "a full pass waits: gathering adds nothing",
      { .pending = 5000, .full = true, .unread = 900, .streams = 5000,
        .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_FULL, 0 },
    { "one stream written: its unread bytes may be a slow client",
      { .pending = 2, .unread = 70000, .streams = 1, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_FEW, 0 },
    { "the last pass is unread: gather, first look soon",
      { .pending = 1, .unread = 96, .streams = 1000, .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, PUMP_HOLD_POLL_MIN_US },
    { "still unread after 400 us: look after a quarter of that",
      { .pending = 4, .unread = 96, .streams = 1000, .held_us = 400,
        .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, 100 },
    { "read while held: the gathered records go now",
      { .pending = 4, .unread = 0, .streams = 1000, .held_us = 400,
        .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_READ, 0 },
    { "the last look never passes coalesce_us",
      { .pending = 4, .unread = 96, .streams = 1000, .held_us = 1950,
        .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, 50 },
    { "held coalesce_us: pass although unread",
      { .pending = 4, .unread = 96, .streams = 1000, .held_us = C,
        .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_LIMIT, 0 },
    { "long holds look at most PUMP_HOLD_POLL_MAX_US apart",
      { .pending = 40, .unread = 96, .streams = 5000, .held_us = 20000,
        .coalesce_us = 100000 },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, PUMP_HOLD_POLL_MAX_US },
};

START_TEST(test_rules)
{
    check_rows(rules, sizeof(rules) / sizeof(rules[0]));
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(pump_hold_why_name(PUMP_HOLD_UNREAD), "unread");
    ck_assert_str_eq(pump_hold_why_name((enum pump_hold_why)99), "?");
}
END_TEST

static Suite *pump_hold_suite(void)
{
    Suite *s = suite_create("pump_hold");
    TCase *core = tcase_create("core");

    tcase_add_test(core, test_rules);
    tcase_add_test(core, test_names);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return unit_run(pump_hold_suite());
}
