/* check_pump_hold.c -- the "pump_hold" suite: the pump's coalescing
 * policy (pump_hold_decide) on tables of observations: one row a rule
 * ("rules"), and observations sseq-stream logged in the bench run of
 * bench/RESULTS.md with the decision it took ("traces"). */
#include "ac_config.h"

#include <check.h>
#include <stdlib.h>

#include "stream/pump_hold.h"
#include "unit_run.h"

struct row {
    const char *what;
    struct pump_hold_obs o;
    enum pump_hold_act act;
    enum pump_hold_why why;
    uint64_t wait_us;               /* PUMP_HOLD_WAIT only */
};

#define C 2000                      /* a short coalesce_us: limits show */

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

/* One rule a row, in the order pump_hold_rule tries them. */
static const struct row rules[] = {
    { "nothing pending, the last pass read: sleep",
      { .streams = 1000, .since_pass_us = 900, .read_us = 300,
        .coalesce_us = C },
      PUMP_HOLD_IDLE, PUMP_HOLD_NOTHING, 0 },
    { "nothing pending, the last pass being read: look again soon",
      { .streams = 1000, .since_pass_us = 100, .unread = 96,
        .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_WATCHING, PUMP_HOLD_POLL_MIN_US },
    { "nothing pending, a pass to one stream: nothing to watch",
      { .streams = 1, .since_pass_us = 100, .unread = 96,
        .coalesce_us = C },
      PUMP_HOLD_IDLE, PUMP_HOLD_NOTHING, 0 },
    { "nothing pending, unread for coalesce_us: stop watching",
      { .streams = 1000, .since_pass_us = C, .unread = 96,
        .coalesce_us = C },
      PUMP_HOLD_IDLE, PUMP_HOLD_NOTHING, 0 },
    { "stopping: everything goes out now",
      { .pending = 3, .streams = 1000, .since_pass_us = 10, .unread = 900,
        .held_us = 10, .coalesce_us = C, .stopping = true },
      PUMP_HOLD_PASS, PUMP_HOLD_URGENT, 0 },
    { "coalescing off: every record at once",
      { .pending = 3, .streams = 1000, .since_pass_us = 10, .unread = 900,
        .coalesce_us = 0 },
      PUMP_HOLD_PASS, PUMP_HOLD_URGENT, 0 },
    { "a full pass waits: gathering adds nothing",
      { .pending = 5000, .full = true, .streams = 5000, .unread = 900,
        .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_FULL, 0 },
    { "a lone message to an idle pump goes at once",
      { .pending = 1, .since_pass_us = 5000000, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_FEW, 0 },
    { "one stream written: its unread bytes may be a slow client",
      { .pending = 2, .streams = 1, .since_pass_us = 10, .unread = 70000,
        .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_FEW, 0 },
    { "held coalesce_us: go although unread",
      { .pending = 4, .streams = 1000, .since_pass_us = 2500, .unread = 96,
        .held_us = C, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_LIMIT, 0 },
    { "unread for coalesce_us: a stuck reader, not load: go",
      { .pending = 1, .streams = 1000, .since_pass_us = C, .unread = 96,
        .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_STALE, 0 },
    { "the last pass is unread: gather, first look soon",
      { .pending = 1, .streams = 1000, .since_pass_us = 40, .unread = 96,
        .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, PUMP_HOLD_POLL_MIN_US },
    { "unread 800 us after the pass: look after a quarter of that",
      { .pending = 4, .streams = 1000, .since_pass_us = 800, .unread = 96,
        .held_us = 400, .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, 200 },
    { "long reads are looked at PUMP_HOLD_POLL_MAX_US apart",
      { .pending = 40, .streams = 5000, .since_pass_us = 20000,
        .unread = 96, .held_us = 15000, .coalesce_us = 100000 },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, PUMP_HOLD_POLL_MAX_US },
    { "a look never waits past coalesce_us of holding",
      { .pending = 4, .streams = 1000, .since_pass_us = 1990, .unread = 96,
        .held_us = 1980, .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, 20 },
    { "came while unread, read after 400 us: go with all that came",
      { .pending = 4, .streams = 1000, .since_pass_us = 400,
        .held_us = 300, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_DRAINED, 0 },
    { "came while unread, the read seen earlier: go",
      { .pending = 4, .streams = 1000, .since_pass_us = 900,
        .read_us = 400, .held_us = 800, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_DRAINED, 0 },
    { "came SOON_US after a 400 us read: at once",
      { .pending = 1, .streams = 1000,
        .since_pass_us = 400 + PUMP_HOLD_SOON_US, .read_us = 400,
        .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_READ, 0 },
    { "a message after a pass read long ago goes at once",
      { .pending = 1, .streams = 1000, .since_pass_us = 50000,
        .read_us = 3000, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_READ, 0 },
    { "came with the read seen: a waiting publisher, gather r / 4",
      { .pending = 1, .streams = 1000, .since_pass_us = 400,
        .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_LINGERING, 100 },
    { "came 100 us after a 400 us read: gather",
      { .pending = 1, .streams = 1000, .since_pass_us = 500,
        .read_us = 400, .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_LINGERING, 100 },
    { "lingering, the last look comes at r after the read",
      { .pending = 3, .streams = 1000, .since_pass_us = 760,
        .read_us = 400, .held_us = 300, .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_LINGERING, 50 },
    { "lingering after a long read: looks 1 ms apart at most",
      { .pending = 1, .streams = 1000, .since_pass_us = 27000,
        .read_us = 26000, .held_us = 500, .coalesce_us = 100000 },
      PUMP_HOLD_WAIT, PUMP_HOLD_LINGERING, PUMP_HOLD_POLL_MAX_US },
    { "lingered r after the read: the gathered records go",
      { .pending = 6, .streams = 1000, .since_pass_us = 800,
        .read_us = 400, .held_us = 350, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_GATHERED, 0 },
    { "lingering, a read's worth gathered: go",
      { .pending = 40, .pending_bytes = PUMP_HOLD_READ_BYTES,
        .streams = 1000, .since_pass_us = 500, .read_us = 400,
        .held_us = 100, .coalesce_us = C },
      PUMP_HOLD_PASS, PUMP_HOLD_ENOUGH, 0 },
    { "lingering, less than a read's worth: gather on",
      { .pending = 39, .pending_bytes = PUMP_HOLD_READ_BYTES - 1,
        .streams = 1000, .since_pass_us = 500, .read_us = 400,
        .held_us = 100, .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_LINGERING, 100 },
    { "unread: a read's worth or more still waits for the read",
      { .pending = 400, .pending_bytes = 10 * PUMP_HOLD_READ_BYTES,
        .streams = 1000, .since_pass_us = 800, .unread = 96,
        .held_us = 400, .coalesce_us = C },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, 200 },
};

/* Observations sseq-stream logged in the run of bench/RESULTS.md
 * (BENCH_LOG_LEVEL=debug, the first of each kind a case decided), with
 * what it decided then. */
static const struct row traces[] = {
    { "N=100, 20/s: read",
      { .pending = 1, .pending_bytes = 42, .streams = 49,
        .since_pass_us = 48182, .unread = 0, .read_us = 626,
        .held_us = 0, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_READ, 0 },
    { "N=100, 20/s: lingering",
      { .pending = 1, .pending_bytes = 43, .streams = 49,
        .since_pass_us = 3554, .unread = 0, .read_us = 2942,
        .held_us = 0, .coalesce_us = 100000 },
      PUMP_HOLD_WAIT, PUMP_HOLD_LINGERING, 735 },
    { "N=100, 20/s: gathered",
      { .pending = 1, .pending_bytes = 43, .streams = 49,
        .since_pass_us = 5932, .unread = 0, .read_us = 2942,
        .held_us = 2378, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_GATHERED, 0 },
    { "N=1000, 20/s: read",
      { .pending = 1, .pending_bytes = 42, .streams = 540,
        .since_pass_us = 47161, .unread = 0, .read_us = 16456,
        .held_us = 0, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_READ, 0 },
    { "N=1000, 200/s: unread",
      { .pending = 1, .pending_bytes = 41, .streams = 501,
        .since_pass_us = 3403, .unread = 768, .read_us = 0,
        .held_us = 1825, .coalesce_us = 100000 },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, 850 },
    { "N=1000, 200/s: drained",
      { .pending = 1, .pending_bytes = 41, .streams = 501,
        .since_pass_us = 7491, .unread = 0, .read_us = 7491,
        .held_us = 5913, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_DRAINED, 0 },
    { "N=1000, 200/s: lingering",
      { .pending = 1, .pending_bytes = 41, .streams = 501,
        .since_pass_us = 13449, .unread = 0, .read_us = 11513,
        .held_us = 0, .coalesce_us = 100000 },
      PUMP_HOLD_WAIT, PUMP_HOLD_LINGERING, 1000 },
    { "N=1000, 200/s: read",
      { .pending = 1, .pending_bytes = 41, .streams = 499,
        .since_pass_us = 19235, .unread = 0, .read_us = 3556,
        .held_us = 0, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_READ, 0 },
    { "N=1000, 200/s: gathered",
      { .pending = 10, .pending_bytes = 410, .streams = 501,
        .since_pass_us = 23060, .unread = 0, .read_us = 11513,
        .held_us = 9611, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_GATHERED, 0 },
    { "N=2000, 200/s: limit",
      { .pending = 5, .pending_bytes = 215, .streams = 1497,
        .since_pass_us = 100056, .unread = 0, .read_us = 0,
        .held_us = 100037, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_LIMIT, 0 },
    { "N=1000, throughput: enough",
      { .pending = 57, .pending_bytes = 2508, .streams = 501,
        .since_pass_us = 38616, .unread = 0, .read_us = 22811,
        .held_us = 15805, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_ENOUGH, 0 },
    { "N=5000, throughput: drained",
      { .pending = 1, .pending_bytes = 41, .streams = 2686,
        .since_pass_us = 100841, .unread = 0, .read_us = 0,
        .held_us = 31623, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_DRAINED, 0 },
    { "N=5000, throughput: limit",
      { .pending = 2, .pending_bytes = 84, .streams = 2686,
        .since_pass_us = 100092, .unread = 0, .read_us = 0,
        .held_us = 100031, .coalesce_us = 100000 },
      PUMP_HOLD_PASS, PUMP_HOLD_LIMIT, 0 },
    { "N=10000, 200/s: unread",
      { .pending = 1, .pending_bytes = 41, .streams = 4854,
        .since_pass_us = 34123, .unread = 768, .read_us = 0,
        .held_us = 29023, .coalesce_us = 100000 },
      PUMP_HOLD_WAIT, PUMP_HOLD_UNREAD, 1000 },
};

START_TEST(test_rules)
{
    check_rows(rules, sizeof(rules) / sizeof(rules[0]));
}
END_TEST

START_TEST(test_traces)
{
    check_rows(traces, sizeof(traces) / sizeof(traces[0]));
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
    tcase_add_test(core, test_traces);
    tcase_add_test(core, test_names);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return unit_run(pump_hold_suite());
}
