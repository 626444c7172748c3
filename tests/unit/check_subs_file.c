/* check_subs_file.c -- the "subs_file" suite: a process's active
 * subscriptions written and read back through the file beside the queue
 * (with and without a payload, an empty list, a rewrite replacing the
 * old list), and what a reader refuses: another process's file (pid or
 * start time), no file, a truncated one, one that is not such a file. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stream/subs_file.h"
#include "unit_run.h"

static char qpath[64];

static void setup(void)
{
    snprintf(qpath, sizeof(qpath), "/dev/shm/sseq-test-subs-%d",
             (int)getpid());
}

static void teardown(void)
{
    subs_file_remove(qpath, 3);
}

/* A subscription of selector sel for subscriber "s1" (payload or NULL). */
static struct subscription sub(uint8_t dialect, const char *sel,
                               const char *payload)
{
    return (struct subscription){
        dialect, 0, sel, strlen(sel), "s1", 2, payload,
        payload ? strlen(payload) : 0,
    };
}

START_TEST(test_round_trip)
{
    struct subscription in[3] = {
        sub(SUBSCRIPTION_V0, "chat.lobby", "{\"nick\":\"ada\"}"),
        sub(SUBSCRIPTION_V1, "urn:x", NULL),
        sub(SUBSCRIPTION_V0, "https://e/{id}", "\"\""),
    };
    struct subs_file_snap sn;

    ck_assert_int_eq(subs_file_write(qpath, 3, 0600, 42, in, 3), 0);
    ck_assert_int_eq(subs_file_read(qpath, 3, getpid(), 42, &sn), 0);
    ck_assert_uint_eq(sn.n, 3);
    for (size_t i = 0; i < 3; i++) {
        const struct subscription *a = &in[i], *b = &sn.subs[i];

        ck_assert_msg(a->dialect == b->dialect &&
                      a->selector_len == b->selector_len &&
                      memcmp(a->selector, b->selector, a->selector_len) == 0
                      && b->subscriber_len == 2 &&
                      memcmp(b->subscriber, "s1", 2) == 0,
                      "subscription %zu read back as written", i);
        ck_assert_msg((a->payload == NULL) == (b->payload == NULL) &&
                      a->payload_len == b->payload_len &&
                      (!a->payload || memcmp(a->payload, b->payload,
                                             a->payload_len) == 0),
                      "payload %zu kept, or none", i);
    }
    subs_file_snap_free(&sn);
    ck_assert_int_eq(subs_file_write(qpath, 3, 0600, 42, in, 0), 0);
    ck_assert_int_eq(subs_file_read(qpath, 3, getpid(), 42, &sn), 0);
    ck_assert_msg(sn.n == 0, "a rewrite replaces the list");
    subs_file_snap_free(&sn);
}
END_TEST

START_TEST(test_refused)
{
    struct subscription in[1] = { sub(SUBSCRIPTION_V0, "a", NULL) };
    struct subs_file_snap sn;
    char path[128];
    int fd;

    ck_assert_int_eq(subs_file_read(qpath, 3, getpid(), 42, &sn), -ENOENT);
    ck_assert_int_eq(subs_file_write(qpath, 3, 0600, 42, in, 1), 0);
    ck_assert_int_eq(subs_file_read(qpath, 3, getpid(), 43, &sn), -ENOENT);
    ck_assert_int_eq(subs_file_read(qpath, 3, getpid() + 1, 42, &sn),
                     -ENOENT);
    ck_assert_int_eq(subs_file_path(path, sizeof(path), qpath, 3), 0);
    ck_assert_int_eq(truncate(path, 40), 0);
    ck_assert_msg(subs_file_read(qpath, 3, getpid(), 42, &sn) == -EPROTO,
                  "a truncated file is not read");
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "not a subscriptions file at all, no\n",
                           36), 36);
    close(fd);
    ck_assert_msg(subs_file_read(qpath, 3, getpid(), 42, &sn) == -EPROTO,
                  "another file is not read");
    ck_assert_ptr_null(sn.buf);
}
END_TEST

static Suite *subs_file_suite(void)
{
    Suite *s = suite_create("subs_file");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(core, test_round_trip);
    tcase_add_test(errors, test_refused);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(subs_file_suite());
}
