/* check_queue_access.c -- the "queue_access" suite: who may read and
 * write a queue file of a given owner, group and mode (a table), the
 * backing file of a queue path, the owner `sseq create` picks, and the
 * one-line explanations of a failed open. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/queue_access.h"
#include "unit_run.h"

/* ---- core ---- */

static const struct {
    uid_t file_uid; gid_t file_gid; unsigned mode;
    uid_t uid; gid_t gid; gid_t extra;  /* extra: a supplementary group */
    bool allowed;
} access_cases[] = {
    { 0, 0, 0600, 33, 33, 33, false },      /* root:root 0600, www-data */
    { 0, 33, 0600, 33, 33, 33, false },     /* group, but no group bits */
    { 0, 33, 0660, 33, 33, 33, true },      /* group rw */
    { 0, 33, 0640, 33, 33, 33, false },     /* group r only */
    { 33, 33, 0600, 33, 33, 33, true },     /* owner */
    { 33, 0, 0660, 1000, 1000, 0, true },   /* supplementary group */
    { 33, 50, 0660, 1000, 1000, 1000, false },  /* other */
    { 33, 50, 0666, 1000, 1000, 1000, true },   /* other rw */
    { 33, 33, 0060, 33, 33, 33, false },    /* owner bits rule the owner */
    { 33, 33, 0000, 0, 0, 0, true },        /* root */
};

START_TEST(test_allows_table)
{
    struct queue_access_who who = { 0 };
    struct stat st = { 0 };

    st.st_uid = access_cases[_i].file_uid;
    st.st_gid = access_cases[_i].file_gid;
    st.st_mode = S_IFREG | access_cases[_i].mode;
    who.uid = access_cases[_i].uid;
    who.gid = access_cases[_i].gid;
    who.groups[0] = access_cases[_i].extra;
    who.ngroups = 1;
    ck_assert_msg(queue_access_allows(&st, &who) == access_cases[_i].allowed,
                  "case %d: %u:%u %04o for uid %u gid %u (+%u) must be %s",
                  _i, st.st_uid, st.st_gid, access_cases[_i].mode, who.uid,
                  who.gid, access_cases[_i].extra,
                  access_cases[_i].allowed ? "allowed" : "refused");
}
END_TEST

/* Whose queue file a process trusts (queue_open's check). */
static const struct {
    uid_t file_uid; unsigned mode; uid_t euid, trusted;
    enum queue_access_owner want;
} owner_cases[] = {
    { 0, 0600, 33, (uid_t)-1, QUEUE_ACCESS_OWNER_OK },        /* root's */
    { 33, 0600, 33, (uid_t)-1, QUEUE_ACCESS_OWNER_OK },       /* its own */
    { 33, 0660, 0, 33, QUEUE_ACCESS_OWNER_OK },               /* queue.owner */
    { 1000, 0660, 33, (uid_t)-1, QUEUE_ACCESS_FOREIGN },      /* a user's */
    { 1000, 0660, 0, 33, QUEUE_ACCESS_FOREIGN },              /* not owner */
    { 0, 0666, 33, (uid_t)-1, QUEUE_ACCESS_OTHERS_WRITE },    /* o+w */
    { 33, 0602, 33, 33, QUEUE_ACCESS_OTHERS_WRITE },          /* o+w only */
    { 33, 0604, 33, (uid_t)-1, QUEUE_ACCESS_OWNER_OK },       /* o+r is ok */
};

START_TEST(test_owner_table)
{
    struct stat st = { .st_uid = owner_cases[_i].file_uid,
                       .st_mode = S_IFREG | owner_cases[_i].mode };

    ck_assert_msg(queue_access_owner_check(&st, owner_cases[_i].euid,
                                           owner_cases[_i].trusted) ==
                  owner_cases[_i].want, "case %d: want %d", _i,
                  (int)owner_cases[_i].want);
}
END_TEST

/* Read access alone (the config file, 0640 root:www-data). */
START_TEST(test_allows_read)
{
    struct queue_access_who who = { .uid = 33, .gid = 33 };
    struct stat st = { .st_uid = 0, .st_gid = 33, .st_mode = S_IFREG | 0640 };

    ck_assert_msg(queue_access_allows_mode(&st, &who, R_OK),
                  "group r: www-data may read a 0640 root:www-data file");
    ck_assert_msg(!queue_access_allows_mode(&st, &who, R_OK | W_OK),
                  "but not write it");
    st.st_gid = 0;
    ck_assert_msg(!queue_access_allows_mode(&st, &who, R_OK),
                  "root:root 0640 is unreadable for www-data");
}
END_TEST

START_TEST(test_file)
{
    char buf[64];

    ck_assert_int_eq(queue_access_file("/sseq", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "/dev/shm/sseq");
    ck_assert_int_eq(queue_access_file("/var/lib/sseq/q", buf, sizeof buf),
                     0);
    ck_assert_str_eq(buf, "/var/lib/sseq/q");
    ck_assert_int_eq(queue_access_file("/sseq", buf, 8), -ENAMETOOLONG);
}
END_TEST

/* Who `sseq create` gives the queue to, as root and as another user:
 * (queue.owner, queue.group, creator's euid) -> result, uid, gid. */
START_TEST(test_target)
{
    static const struct {
        const char *owner, *group;
        uid_t euid;
        int rc;
        uid_t uid;
        gid_t gid;
        const char *why;
    } cases[] = {
        { "", "", 1000, 0, (uid_t)-1, (gid_t)-1,
          "a non-root creator with nothing configured changes nothing" },
        { "", "", 0, 1, 33, 33,
          "root gives the queue to www-data:www-data by default (Debian: 33)" },
        { "root", "nogroup", 1000, 1, 0, 65534, "owner and group as set" },
        { "", "12345", 1000, 1, (uid_t)-1, 12345, "a group alone" },
    };
    const char *what;
    uid_t uid;
    gid_t gid;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = queue_access_target(cases[i].owner, cases[i].group,
                                     cases[i].euid, &uid, &gid, &what);
        ck_assert_msg(rc == cases[i].rc && uid == cases[i].uid &&
                      gid == cases[i].gid, "%s", cases[i].why);
    }
    ck_assert_int_eq(queue_access_target("no-such-user-sseq", "", 0, &uid,
                                         &gid, &what), -ENOENT);
    ck_assert_str_eq(what, "no-such-user-sseq");
}
END_TEST

/* ---- errors ---- */

START_TEST(test_explain)
{
    char path[64], file[80], buf[1024];
    struct queue_access_who who = { .uid = 33, .gid = 33 };
    FILE *f;

    snprintf(who.name, sizeof who.name, "www-data");
    snprintf(path, sizeof path, "/sseq-access-%d", (int)getpid());
    snprintf(file, sizeof file, "/dev/shm%s", path);
    queue_access_explain(path, -ENOENT, &who, "x", buf, sizeof buf);
    ck_assert_msg(strstr(buf, file) && strstr(buf, "does not exist") &&
                  strstr(buf, "sseq create"), "missing: %s", buf);
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(chmod(file, 0600), 0);
    queue_access_explain(path, EACCES, &who, "this process runs as", buf,
                         sizeof buf);
    unlink(file);
    ck_assert_msg(strstr(buf, "0600 and this process runs as www-data "
                         "(uid 33)") && strstr(buf, "sseq create --force")
                  && strstr(buf, "queue.owner") && strstr(buf, file),
                  "EACCES must name file, mode, user and fix: %s", buf);
    queue_access_explain(path, EIO, &who, "x", buf, sizeof buf);
    ck_assert_msg(strstr(buf, file) && strstr(buf, strerror(EIO)),
                  "other errors: %s", buf);
}
END_TEST

static Suite *queue_access_suite(void)
{
    Suite *s = suite_create("queue_access");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");

    tcase_add_loop_test(core, test_allows_table, 0,
                        sizeof access_cases / sizeof access_cases[0]);
    tcase_add_test(core, test_allows_read);
    tcase_add_loop_test(core, test_owner_table, 0,
                        (int)(sizeof(owner_cases) / sizeof(owner_cases[0])));
    tcase_add_test(core, test_file);
    tcase_add_test(core, test_target);
    suite_add_tcase(s, core);
    tcase_add_test(errors, test_explain);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(queue_access_suite());
}
