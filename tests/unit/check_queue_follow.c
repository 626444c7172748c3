/* check_queue_follow.c -- the "queue_follow" suite: the blocking
 * follower over a real queue (a private shm name): every record handed
 * over in order, a caught-up idle ends it on request, a jump is one
 * overrun from the id it was at to the id it moved to, a callback's
 * value or the stop flag ends it. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/queue_follow.h"
#include "unit_run.h"

static char name[64];
static struct queue *q;
static char buf[1 << 16];

/* What the callbacks saw. */
struct seen {
    int records, overruns, idles;
    uint64_t first_id, last_id, requested, oldest;
    int record_rc;              /* what on_record returns */
};

static void setup(void)
{
    struct queue_params p = { .size = 1 << 20, .mode = 0600 };

    snprintf(name, sizeof(name), "/sseq-test-follow-%d", (int)getpid());
    ck_assert_msg(queue_create(name, &p, 1, &q) == 0,
                  "queue_create(%s): %s", name, queue_error());
}

static void teardown(void)
{
    queue_close(q);
    queue_unlink(name);
}

static uint64_t append(const char *data)
{
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .data = data, .data_len = strlen(data) };
    uint64_t id;

    ck_assert_int_eq(queue_append(q, &m, &id), 0);
    return id;
}

static int on_record(void *ctx, const struct queue_record *r)
{
    struct seen *s = ctx;

    if (s->records++ == 0)
        s->first_id = r->id;
    s->last_id = r->id;
    return s->record_rc;
}

static int on_overrun(void *ctx, uint64_t requested, uint64_t oldest)
{
    struct seen *s = ctx;

    s->overruns++;
    s->requested = requested;
    s->oldest = oldest;
    return 0;
}

/* Caught up: ends the follow (1). */
static int on_idle(void *ctx, int *wait_ms)
{
    struct seen *s = ctx;

    (void)wait_ms;
    s->idles++;
    return 1;
}

static volatile sig_atomic_t stop;

static struct queue_follow follower(struct seen *s, uint64_t cursor)
{
    struct queue_follow f = {
        .q = q, .cursor = cursor, .buf = buf, .cap = sizeof(buf),
        .skip_bad = false, .stop = &stop, .ctx = s,
        .on_record = on_record, .on_overrun = on_overrun,
        .on_idle = on_idle,
    };

    return f;
}

START_TEST(test_all_then_idle)
{
    uint64_t a = append("1"), c;
    struct seen s = { 0 };
    struct queue_follow f;

    append("2");
    c = append("3");
    f = follower(&s, a);
    ck_assert_int_eq(queue_follow_run(&f), 1);
    ck_assert_msg(s.records == 3 && s.first_id == a && s.last_id == c &&
                  s.idles == 1 && s.overruns == 0,
                  "three records in order, then one idle");
    ck_assert_msg(f.cursor == c + 1, "the cursor ends after the last");
}
END_TEST

START_TEST(test_jump_is_one_overrun)
{
    uint64_t a = append("1"), jump = a + 100;
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .data = "j", .data_len = 1 };
    struct seen s = { 0 };
    struct queue_follow f;

    ck_assert_int_eq(queue_append_at(q, &m, jump), 0);
    f = follower(&s, a);
    ck_assert_int_eq(queue_follow_run(&f), 1);
    ck_assert_msg(s.overruns == 1 && s.requested == a && s.oldest == jump,
                  "one overrun from %llu to %llu (got %d, %llu to %llu)",
                  (unsigned long long)a, (unsigned long long)jump,
                  s.overruns, (unsigned long long)s.requested,
                  (unsigned long long)s.oldest);
    ck_assert_msg(s.records == 1 && s.last_id == jump,
                  "then the record it moved to");
}
END_TEST

START_TEST(test_callback_and_stop_end_it)
{
    uint64_t a = append("1");
    struct seen s = { .record_rc = -5 };
    struct queue_follow f = follower(&s, a);

    append("2");
    ck_assert_msg(queue_follow_run(&f) == -5 && s.records == 1,
                  "on_record's value must end the follow at once");
    stop = 1;
    s.records = 0;
    f = follower(&s, a);
    ck_assert_msg(queue_follow_run(&f) == 0 && s.records == 0,
                  "a set stop flag must end it before any read");
    stop = 0;
}
END_TEST

static Suite *queue_follow_suite(void)
{
    Suite *s = suite_create("queue_follow");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(core, test_all_then_idle);
    tcase_add_test(core, test_jump_is_one_overrun);
    suite_add_tcase(s, core);
    tcase_add_test(errors, test_callback_and_stop_end_it);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(queue_follow_suite());
}
