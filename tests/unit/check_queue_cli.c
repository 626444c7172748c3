/* check_queue_cli.c -- Check suite "queue_cli": the queue as the `sseq`
 * tool shows it: `sseq tail --json` with the Mercure fields of a record.
 *
 * Each test makes a private directory with an sseq.conf naming a
 * file-backed queue in it, writes records through the queue API and runs
 * the built src/sseq on them (popen, under timeout(1) so a hang fails). */
#include "queue.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit_run.h"

static char qc_dir[64];         /* private dir with sseq.conf and queue */
static char qc_path[128];       /* the queue file */

/* Runs `sseq -c CONF args` (at most 10 s); returns the exit status and
 * leaves stdout+stderr in out (malloc'd). */
static int qc_run(const char *args, char **out)
{
    char cmd[1024];
    size_t cap = 1 << 16, n = 0;
    FILE *p;
    int st;

    snprintf(cmd, sizeof(cmd), "timeout -s KILL 10 %s/src/sseq -c "
             "%s/sseq.conf %s </dev/null 2>&1", BUILDDIR, qc_dir, args);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    *out = calloc(1, cap);
    while (n < cap - 1) {
        size_t got = fread(*out + n, 1, cap - 1 - n, p);
        if (got == 0)
            break;
        n += got;
    }
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs args and asserts the exit status; returns the output. */
static char *qc_expect(const char *args, int status)
{
    char *out;
    int rc = qc_run(args, &out);

    ck_assert_msg(rc == status, "sseq %s: expected exit %d, got %d: %s",
                  args, status, rc, out);
    return out;
}

static void qc_setup(void)
{
    char path[128];
    FILE *f;

    snprintf(qc_dir, sizeof(qc_dir), "/tmp/sseq-qcli-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(qc_dir));
    snprintf(qc_path, sizeof(qc_path), "%s/queue", qc_dir);
    snprintf(path, sizeof(path), "%s/sseq.conf", qc_dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "queue: { path = \"%s\"; size = \"1M\"; };\n", qc_path);
    fclose(f);
    free(qc_expect("create", 0));
}

static void qc_teardown(void)
{
    char cmd[160];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", qc_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Appends m to the test's queue. */
static void qc_append(const struct queue_msg *m)
{
    struct queue *q;
    uint64_t id;

    ck_assert_msg(queue_open(qc_path, &q) == 0, "open: %s", queue_error());
    ck_assert_msg(queue_append(q, m, &id) == 0, "append should work");
    queue_close(q);
}

START_TEST(test_tail_json_mercure)
{
    const char *alt[] = { "urn:b", "urn:\"c\"" };
    size_t alt_len[] = { 5, 7 };
    struct queue_msg m = { .channel = "urn:a", .channel_len = 5,
                           .data = "x", .data_len = 1,
                           .alt = alt, .alt_len = alt_len, .n_alt = 2,
                           .pub_id = "id-1", .pub_id_len = 4,
                           .retry_ms = 2500, .flags = QUEUE_MSG_PRIVATE };
    struct queue_msg plain = { .channel = "urn:a", .channel_len = 5,
                               .data = "y", .data_len = 1 };
    char *out;

    qc_append(&m);
    qc_append(&plain);
    out = qc_expect("tail --json", 0);
    ck_assert_msg(strstr(out, "\"channel\":\"urn:a\",\"alt\":[\"urn:b\","
                         "\"urn:\\\"c\\\"\"],\"private\":true,"
                         "\"pub_id\":\"id-1\",\"retry\":2500,") != NULL,
                  "tail --json should show alternates, private, pub_id "
                  "and retry: %s", out);
    ck_assert_msg(strstr(out, "\"alt\":[],\"private\":false,"
                         "\"pub_id\":null,\"retry\":0,") != NULL,
                  "a plain record should show empty Mercure fields: %s",
                  out);
    free(out);
}
END_TEST

static Suite *queue_cli_suite(void)
{
    Suite *s = suite_create("queue_cli");
    TCase *core = tcase_create("core");

    tcase_add_checked_fixture(core, qc_setup, qc_teardown);
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_tail_json_mercure);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return unit_run(queue_cli_suite());
}
