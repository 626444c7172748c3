/* check_chan_file.c -- the "chan_file" suite: a process's top channels
 * written and read back through the file (names cut at the limit, the
 * entry bound), and what a reader refuses: another process's file (pid
 * or start time), no file, a file that is not one. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics/chan_file.h"
#include "unit_run.h"

static char qpath[64];

static void setup(void)
{
    snprintf(qpath, sizeof(qpath), "/dev/shm/sseq-test-chans-%d",
             (int)getpid());
}

START_TEST(test_round_trip)
{
    static char longname[CHAN_FILE_NAME_MAX + 50];
    struct chan_top_entry top[CHAN_FILE_ENTRIES + 2];
    struct chan_file_entry e[CHAN_FILE_ENTRIES];
    struct chan_file *f;
    char path[128];
    unsigned i;
    int n;

    memset(longname, 'x', sizeof(longname));
    for (i = 0; i < CHAN_FILE_ENTRIES + 2; i++)
        top[i] = (struct chan_top_entry){ "chan", 4, 100 - i };
    top[1] = (struct chan_top_entry){ longname, sizeof(longname), 99 };
    ck_assert_int_eq(chan_file_create(qpath, 7, 0640, 1234, &f), 0);
    n = chan_file_read(qpath, 7, getpid(), 1234, e, CHAN_FILE_ENTRIES);
    ck_assert_msg(n == 0, "a new file should list nothing, got %d", n);
    chan_file_write(f, top, CHAN_FILE_ENTRIES + 2);
    n = chan_file_read(qpath, 7, getpid(), 1234, e, CHAN_FILE_ENTRIES);
    ck_assert_msg(n == CHAN_FILE_ENTRIES, "the file should hold %d "
                  "entries, read %d", CHAN_FILE_ENTRIES, n);
    ck_assert_msg(e[0].streams == 100 && strcmp(e[0].name, "chan") == 0,
                  "entry 0 should be chan:100");
    ck_assert_msg(e[1].len == CHAN_FILE_NAME_MAX &&
                  strlen(e[1].name) == CHAN_FILE_NAME_MAX,
                  "a long name should be cut at %d bytes",
                  CHAN_FILE_NAME_MAX);
    ck_assert_int_eq(chan_file_read(qpath, 7, getpid(), 1234, e, 3), 3);
    ck_assert_int_eq(chan_file_read(qpath, 7, getpid() + 1, 1234, e, 3),
                     -ENOENT);
    ck_assert_int_eq(chan_file_read(qpath, 7, getpid(), 1235, e, 3),
                     -ENOENT);
    ck_assert_int_eq(chan_file_read(qpath, 8, getpid(), 1234, e, 3),
                     -ENOENT);
    chan_file_write(f, top, 2);
    ck_assert_int_eq(chan_file_read(qpath, 7, getpid(), 1234, e, 32), 2);
    ck_assert_int_eq(chan_file_path(path, sizeof(path), qpath, 7), 0);
    ck_assert_int_eq(access(path, F_OK), 0);
    chan_file_remove(f);
    ck_assert_msg(access(path, F_OK) < 0, "remove should unlink %s", path);
    ck_assert_int_eq(chan_file_read(qpath, 7, getpid(), 1234, e, 3),
                     -ENOENT);
}
END_TEST

/* A file already at the path (a crash's leftover, or a hard link to
 * someone's file) is replaced, never written through. */
START_TEST(test_create_never_reuses)
{
    char path[128], victim[160], buf[16];
    struct chan_file *f;
    struct stat st;
    int fd;

    ck_assert_int_eq(chan_file_path(path, sizeof(path), qpath, 5), 0);
    snprintf(victim, sizeof(victim), "%s.victim", qpath);
    fd = open(victim, O_RDWR | O_CREAT | O_TRUNC, 0666);
    ck_assert_msg(fd >= 0 && write(fd, "victim", 6) == 6, "victim file");
    close(fd);
    unlink(path);
    ck_assert_int_eq(link(victim, path), 0);
    ck_assert_int_eq(chan_file_create(qpath, 5, 0640, 1, &f), 0);
    fd = open(victim, O_RDONLY);
    ck_assert_msg(fd >= 0 && read(fd, buf, sizeof(buf)) == 6 &&
                  memcmp(buf, "victim", 6) == 0,
                  "the hard-linked file should be left as it was");
    close(fd);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0640 && st.st_nlink == 1,
                  "a new file with the asked mode");
    chan_file_remove(f);
    unlink(victim);
}
END_TEST

START_TEST(test_not_a_file)
{
    struct chan_file_entry e[2];
    char path[128];
    int fd;

    ck_assert_int_eq(chan_file_path(path, sizeof(path), qpath, 3), 0);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "not a file of channels", 22), 22);
    close(fd);
    ck_assert_int_eq(chan_file_read(qpath, 3, getpid(), 1, e, 2), -EPROTO);
    unlink(path);
    ck_assert_int_eq(chan_file_path(path, 8, qpath, 3), -ENAMETOOLONG);
}
END_TEST

static Suite *chan_file_suite(void)
{
    Suite *s = suite_create("chan_file");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, setup, NULL);
    tcase_add_checked_fixture(errors, setup, NULL);
    tcase_add_test(core, test_round_trip);
    tcase_add_test(errors, test_not_a_file);
    tcase_add_test(errors, test_create_never_reuses);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(chan_file_suite());
}
