/* check_publish_lag.c -- the "publish_lag" suite: backpressure's decision
 * (publish_lag_decide) on tables of fan-outs: which fan-out counts (the
 * slowest healthy one), when a publish is refused and the Retry-After it
 * gets. */
#include "ac_config.h"

#include <check.h>
#include <stdlib.h>

#include "publish/publish_lag.h"
#include "unit_run.h"

#define MS 1000u                    /* us */
#define MAX (500 * MS)              /* the limit of most rows */

/* A healthy fan-out of pid lagging lag_us. */
#define OK(p, lag) \
    { .pid = (p), .alive = true, .streams = 10, .behind = 5, \
      .lag_us = (lag), .quiet_ms = 1 }

struct row {
    const char *what;
    struct queue_fanout f[4];
    size_t n;
    uint64_t max_lag_us;
    bool refuse;
    uint64_t lag_us;                /* the lag the decision names */
    pid_t pid;
    unsigned retry_after_s;         /* with refuse */
};

static const struct row rows[] = {
    { "no stream process: publish", { { 0 } }, 0, MAX, false, 0, 0, 0 },
    { "every fan-out at the head: publish",
      { OK(10, 0), OK(11, 0) }, 2, MAX, false, 0, 0, 0 },
    { "behind, within the limit: publish",
      { OK(10, 120 * MS), OK(11, 480 * MS) }, 2, MAX, false, 480 * MS,
      11, 0 },
    { "exactly at the limit: publish",
      { OK(10, MAX) }, 1, MAX, false, MAX, 10, 0 },
    { "one fan-out past the limit: refuse, naming it",
      { OK(10, 20 * MS), OK(11, MAX + 1) }, 2, MAX, true, MAX + 1, 11, 1 },
    { "the slowest is the one named",
      { OK(10, 900 * MS), OK(11, 3 * MAX), OK(12, 700 * MS) }, 3, MAX,
      true, 3 * MAX, 11, 1 },
    { "Retry-After is the excess rounded up to seconds",
      { OK(10, MAX + 2000 * MS + 1) }, 1, MAX, true, MAX + 2000 * MS + 1,
      10, 3 },
    { "Retry-After is at most 60 s",
      { OK(10, 3600000 * (uint64_t)MS) }, 1, MAX, true,
      3600000 * (uint64_t)MS, 10, 60 },
    { "limit 0: never refuse",
      { OK(10, 3600000 * (uint64_t)MS) }, 1, 0, false,
      3600000 * (uint64_t)MS, 10, 0 },
    { "a dead process is not waited for",
      { { .pid = 10, .alive = false, .streams = 10, .lag_us = 9 * MAX },
        OK(11, 10 * MS) }, 2, MAX, false, 10 * MS, 11, 0 },
    { "a process without streams is behind no one",
      { { .pid = 10, .alive = true, .streams = 0, .lag_us = 9 * MAX },
        OK(11, 10 * MS) }, 2, MAX, false, 10 * MS, 11, 0 },
    { "a pump quiet for longer than PUBLISH_LAG_STUCK_MS is stuck, not "
      "slow",
      { { .pid = 10, .alive = true, .streams = 10, .lag_us = 9 * MAX,
          .quiet_ms = PUBLISH_LAG_STUCK_MS + 1 }, OK(11, 10 * MS) }, 2, MAX,
      false, 10 * MS, 11, 0 },
    { "a pump quiet for PUBLISH_LAG_STUCK_MS exactly still counts",
      { { .pid = 10, .alive = true, .streams = 10, .lag_us = 9 * MAX,
          .quiet_ms = PUBLISH_LAG_STUCK_MS } }, 1, MAX, true, 9 * MAX, 10,
      4 },
    { "a pump that never beat (quiet wraps large) is not waited for",
      { { .pid = 10, .alive = true, .streams = 10, .lag_us = 9 * MAX,
          .quiet_ms = UINT32_MAX } }, 1, MAX, false, 0, 0, 0 },
};

START_TEST(test_rows)
{
    const struct row *r = &rows[_i];
    struct publish_lag_dec d = publish_lag_decide(r->f, r->n, r->max_lag_us);

    ck_assert_msg(d.refuse == r->refuse, "%s: want %s", r->what,
                  r->refuse ? "refused" : "published");
    ck_assert_msg(d.lag_us == r->lag_us && d.pid == r->pid,
                  "%s: want lag %llu us of pid %d, got %llu us of pid %d",
                  r->what, (unsigned long long)r->lag_us, (int)r->pid,
                  (unsigned long long)d.lag_us, (int)d.pid);
    if (r->refuse)
        ck_assert_msg(d.retry_after_s == r->retry_after_s,
                      "%s: want Retry-After %u, got %u", r->what,
                      r->retry_after_s, d.retry_after_s);
}
END_TEST

static Suite *publish_lag_suite(void)
{
    Suite *s = suite_create("publish_lag");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_rows, 0, sizeof(rows) / sizeof(rows[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(publish_lag_suite());
}
