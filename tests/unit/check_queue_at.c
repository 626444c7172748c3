/* check_queue_at.c -- Check suite "queue_at": queue_append_at, the append
 * with an id given by the caller (the cluster bridge): in order, a jump
 * (older ids gone, readers see an overrun), a duplicate (-EALREADY,
 * nothing written), plain appends after a jump, and a writer killed
 * inside the lock in the middle of a jump. Each test uses its own queue
 * name and unlinks it. */
#include "queue/queue.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit_run.h"

static char at_name[64];
static struct queue *at_q;

/* Creates a private 1 MiB queue. */
static void at_setup(void)
{
    static int n;
    struct queue_params p = { .size = 1u << 20, .mode = 0600 };
    int rc;

    snprintf(at_name, sizeof(at_name), "/sseq-test-at-%d-%d",
             (int)getpid(), n++);
    rc = queue_create(at_name, &p, 1, &at_q);
    ck_assert_msg(rc == 0, "queue_create(%s) should succeed, got %d: %s",
                  at_name, rc, queue_error());
}

static void at_teardown(void)
{
    queue_close(at_q);
    queue_unlink(at_name);
}

/* A message on channel "c" with data s. */
static struct queue_msg at_msg(const char *s)
{
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .data = s, .data_len = strlen(s) };

    return m;
}

/* The next id the queue will assign. */
static uint64_t at_next(void)
{
    uint64_t oldest, next;

    queue_bounds(at_q, &oldest, &next);
    return next;
}

/* Reads the record at *cur and checks its id and data. */
static void at_expect(uint64_t *cur, uint64_t id, const char *data)
{
    struct queue_record rec;
    char buf[256];
    int rc = queue_read(at_q, cur, &rec, buf, sizeof(buf));

    ck_assert_msg(rc == 0, "read at %llu should succeed, got %d",
                  (unsigned long long)id, rc);
    ck_assert_msg(rec.id == id, "id should be %llu, got %llu",
                  (unsigned long long)id, (unsigned long long)rec.id);
    ck_assert_msg(rec.data_len == strlen(data) &&
                  memcmp(rec.data, data, rec.data_len) == 0,
                  "data of %llu should be \"%s\"", (unsigned long long)id,
                  data);
}

START_TEST(test_at_in_order)
{
    uint64_t base = at_next(), cur = base;
    struct queue_msg a = at_msg("a"), b = at_msg("b");

    ck_assert_int_eq(queue_append_at(at_q, &a, base), 0);
    ck_assert_int_eq(queue_append_at(at_q, &b, base + 1), 0);
    ck_assert_msg(at_next() == base + 2, "next id should follow the ids");
    at_expect(&cur, base, "a");
    at_expect(&cur, base + 1, "b");
}
END_TEST

START_TEST(test_at_duplicate)
{
    uint64_t base = at_next();
    struct queue_msg a = at_msg("a"), x = at_msg("x");
    struct queue_stats st;

    ck_assert_int_eq(queue_append_at(at_q, &a, base), 0);
    ck_assert_msg(queue_append_at(at_q, &x, base) == -EALREADY,
                  "the same id again should be -EALREADY");
    ck_assert_msg(queue_append_at(at_q, &x, base - 5) == -EALREADY,
                  "an older id should be -EALREADY");
    queue_get_stats(at_q, &st);
    ck_assert_msg(st.appends == 1 && st.next_id == base + 1,
                  "a duplicate should write nothing (appends %llu)",
                  (unsigned long long)st.appends);
}
END_TEST

START_TEST(test_at_jump_is_overrun)
{
    uint64_t base = at_next(), cur = base, mid = base + 1;
    struct queue_msg a = at_msg("a"), b = at_msg("b"), j = at_msg("j");
    struct queue_record rec;
    char buf[256];

    ck_assert_int_eq(queue_append_at(at_q, &a, base), 0);
    ck_assert_int_eq(queue_append_at(at_q, &b, base + 1), 0);
    ck_assert_int_eq(queue_append_at(at_q, &j, base + 100), 0);
    ck_assert_msg(queue_read(at_q, &cur, &rec, buf, sizeof(buf)) ==
                  QUEUE_OVERRUN, "a retained id before a jump is gone");
    ck_assert_msg(cur == base + 100, "the cursor should move to the jump "
                  "target, got +%llu", (unsigned long long)(cur - base));
    at_expect(&cur, base + 100, "j");
    ck_assert_msg(queue_read(at_q, &mid, &rec, buf, sizeof(buf)) ==
                  QUEUE_OVERRUN && mid == base + 100,
                  "a cursor at a skipped id should overrun to the target");
}
END_TEST

START_TEST(test_at_reader_waiting_at_next)
{
    uint64_t base = at_next(), cur = base;
    struct queue_msg j = at_msg("j");
    struct queue_record rec;
    char buf[256];

    ck_assert_int_eq(queue_read(at_q, &cur, &rec, buf, sizeof(buf)),
                     QUEUE_EMPTY);
    ck_assert_int_eq(queue_append_at(at_q, &j, base + 7), 0);
    ck_assert_int_eq(queue_read(at_q, &cur, &rec, buf, sizeof(buf)),
                     QUEUE_OVERRUN);
    at_expect(&cur, base + 7, "j");
}
END_TEST

START_TEST(test_at_then_append)
{
    uint64_t base = at_next(), id = 0, cur;
    struct queue_msg j = at_msg("j"), n = at_msg("n");

    ck_assert_int_eq(queue_append_at(at_q, &j, base + 1000), 0);
    ck_assert_int_eq(queue_append(at_q, &n, &id), 0);
    ck_assert_msg(id == base + 1001, "queue_append should continue after "
                  "the jump");
    cur = base + 1000;
    at_expect(&cur, base + 1000, "j");
    at_expect(&cur, base + 1001, "n");
}
END_TEST

START_TEST(test_at_wraps_ring)
{
    static char data[4001];
    uint64_t base = at_next() + 50, cur, oldest, next;
    struct queue_msg m;
    struct queue_record rec;
    char buf[8192];
    int i;

    memset(data, 'w', sizeof(data) - 1);
    m = at_msg(data);
    for (i = 0; i < 1000; i++)
        ck_assert_int_eq(queue_append_at(at_q, &m, base + (uint64_t)i), 0);
    queue_bounds(at_q, &oldest, &next);
    ck_assert_msg(next == base + 1000 && oldest > base,
                  "1000 x 4 KB should lap a 1 MiB queue");
    for (cur = oldest; cur < next;)
        ck_assert_int_eq(queue_read(at_q, &cur, &rec, buf, sizeof(buf)), 0);
}
END_TEST

/* A Mercure record (alternates, publisher id, retry, private) appended
 * with its id reads back whole and leaves the queue sound (the record's
 * length once left the alternates and the publisher id out). */
START_TEST(test_at_mercure_fields)
{
    static const char *const alt[] = { "https://example.com/a", "b" };
    static const size_t alt_len[] = { 21, 1 };
    struct queue_msg m = at_msg("data");
    struct queue_record rec;
    struct queue_verify v;
    uint64_t cur = at_next(), id = cur;
    char buf[512];
    size_t pos = 0, len;
    const char *t;

    m.alt = alt;
    m.alt_len = alt_len;
    m.n_alt = 2;
    m.pub_id = "urn:uuid:1";
    m.pub_id_len = 10;
    m.retry_ms = 2500;
    m.flags = QUEUE_MSG_PRIVATE;
    ck_assert_int_eq(queue_append_at(at_q, &m, id), 0);
    ck_assert_int_eq(queue_append_at(at_q, &m, id + 1), 0);
    ck_assert_int_eq(queue_read(at_q, &cur, &rec, buf, sizeof(buf)), 0);
    ck_assert_uint_eq(rec.n_alt, 2);
    ck_assert(queue_record_next_topic(&rec, &pos, &t, &len));
    ck_assert(queue_record_next_topic(&rec, &pos, &t, &len));
    ck_assert_msg(len == 21 && memcmp(t, alt[0], 21) == 0,
                  "the first alternate reads back");
    ck_assert_uint_eq(rec.pub_id_len, 10);
    ck_assert_uint_eq(rec.retry_ms, 2500);
    ck_assert_uint_eq(rec.flags, QUEUE_MSG_PRIVATE);
    ck_assert_msg(rec.data_len == 4 && memcmp(rec.data, "data", 4) == 0,
                  "the data reads back");
    ck_assert_msg(queue_verify(at_q, &v) == 0, "the queue must stay sound: "
                  "%s", queue_error());
}
END_TEST

START_TEST(test_at_bad_message)
{
    struct queue_msg m = { .channel = "", .data = "x", .data_len = 1 };
    uint64_t next = at_next();

    ck_assert_int_eq(queue_append_at(at_q, &m, next + 5), -EINVAL);
    ck_assert_msg(at_next() == next, "a refused message must not jump");
}
END_TEST

/* A forged event type (what a foreign XADD once carried) or publisher
 * id cannot enter through queue_append_at, and nothing moves. */
START_TEST(test_at_forged_fields)
{
    struct queue_msg m = at_msg("x");
    uint64_t next = at_next();

    m.event = "message\ndata: {\"forged\":1}\nid: 1\n\nevent: message";
    m.event_len = strlen(m.event);
    ck_assert_msg(queue_append_at(at_q, &m, next) == -EINVAL,
                  "an event type with LF should be refused");
    ck_assert_msg(strstr(queue_error(), "bad event type") != NULL,
                  "queue_error() should name the event type: %s",
                  queue_error());
    m.event_len = 0;
    m.pub_id = "a\r\nSet-Cookie: x=1";
    m.pub_id_len = strlen(m.pub_id);
    ck_assert_msg(queue_append_at(at_q, &m, next) == -EINVAL,
                  "a publisher id with CR LF should be refused");
    ck_assert_msg(at_next() == next, "nothing should have been appended");
}
END_TEST

/* Ids at or past QUEUE_ID_END (2^64-1 from a foreign XADD) are refused
 * before anything moves; the last id of the range is taken, after which
 * a plain append is -ERANGE and the queue stays healthy. */
START_TEST(test_at_id_range)
{
    struct queue_msg m = at_msg("x");
    uint64_t next = at_next(), cur;

    ck_assert_int_eq(queue_append_at(at_q, &m, UINT64_MAX), -ERANGE);
    ck_assert_int_eq(queue_append_at(at_q, &m, QUEUE_ID_END), -ERANGE);
    ck_assert_int_eq(queue_append_at(at_q, &m, 0), -ERANGE);
    ck_assert_msg(at_next() == next, "a refused id must not move next id");
    ck_assert_int_eq(queue_append_at(at_q, &m, QUEUE_ID_END - 1), 0);
    ck_assert_msg(at_next() == QUEUE_ID_END, "next id should be the end");
    ck_assert_int_eq(queue_append(at_q, &m, &cur), -ERANGE);
    ck_assert_int_eq(queue_health(at_q), 0);
    cur = QUEUE_ID_END - 1;
    at_expect(&cur, QUEUE_ID_END - 1, "x");
}
END_TEST

static int at_pipe[2];

/* Test hook: tells the parent it is inside the lock, then waits. */
static void at_crash_hook(void)
{
    char c = 'x';

    if (write(at_pipe[1], &c, 1) != 1)
        _exit(9);
    pause();
}

/* Forks a writer that jumps to id and is killed inside the lock. */
static void at_crash_jump(uint64_t id)
{
    struct queue_msg m = at_msg("torn");
    int status;
    pid_t pid;
    char c;

    if ((pid = fork()) == 0) {
        queue_test_hook_locked = at_crash_hook;
        queue_append_at(at_q, &m, id);
        _exit(8);
    }
    ck_assert_msg(pid > 0, "fork should succeed");
    ck_assert_msg(read(at_pipe[0], &c, 1) == 1,
                  "the child should reach the hook");
    kill(pid, SIGKILL);
    ck_assert_msg(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status),
                  "the child should die by SIGKILL");
}

START_TEST(test_at_crash_in_jump)
{
    uint64_t base = at_next(), cur, oldest, next;
    struct queue_msg a = at_msg("a"), b = at_msg("b");
    struct queue_record rec;
    struct queue_stats st;
    char buf[256];
    int k, rc;

    ck_assert(pipe(at_pipe) == 0);
    ck_assert_int_eq(queue_append_at(at_q, &a, base), 0);
    for (k = 1; k <= 20; k++) {
        uint64_t to = base + (uint64_t)k * 100;

        at_crash_jump(to);
        rc = queue_append_at(at_q, &b, to);
        ck_assert_msg(rc == 0, "the jump should be redone after a crash, "
                      "got %d", rc);
        queue_bounds(at_q, &oldest, &next);
        ck_assert_msg(oldest == to && next == to + 1,
                      "after the jump only its record is retained");
        cur = base;
        ck_assert_int_eq(queue_read(at_q, &cur, &rec, buf, sizeof(buf)),
                         QUEUE_OVERRUN);
        at_expect(&cur, to, "b");
        ck_assert_int_eq(queue_read(at_q, &cur, &rec, buf, sizeof(buf)),
                         QUEUE_EMPTY);
    }
    queue_get_stats(at_q, &st);
    ck_assert_msg(st.recovered == 20, "every crash is recovered");
}
END_TEST

static Suite *queue_at_suite(void)
{
    Suite *s = suite_create("queue_at");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, at_setup, at_teardown);
    tcase_add_test(core, test_at_in_order);
    tcase_add_test(core, test_at_jump_is_overrun);
    tcase_add_test(core, test_at_reader_waiting_at_next);
    tcase_add_test(core, test_at_then_append);
    tcase_add_test(core, test_at_wraps_ring);
    tcase_add_test(core, test_at_mercure_fields);
    suite_add_tcase(s, core);
    tcase_add_checked_fixture(errors, at_setup, at_teardown);
    tcase_add_test(errors, test_at_duplicate);
    tcase_add_test(errors, test_at_bad_message);
    tcase_add_test(errors, test_at_forged_fields);
    tcase_add_test(errors, test_at_id_range);
    tcase_add_test(errors, test_at_crash_in_jump);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(queue_at_suite());
}
