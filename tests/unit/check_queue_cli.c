/* check_queue_cli.c -- Check suite "queue_cli": the queue as the `sseq`
 * tool shows it: `sseq tail --json` with the Mercure fields of a record;
 * `sseq tail`, `publish` and `check` on damaged queues (each gives one
 * clear error and exit status 1, never a hang or endless output), and
 * `sseq create --force` as the way out.
 *
 * Each test makes a private directory with an sseq.conf naming a
 * file-backed queue in it, writes records through the queue API and runs
 * the built src/sseq on them (popen, under timeout(1) so a hang fails). */
#include "queue/queue.h"
#include "conf/config.h"

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

/* Starts `sseq -c CONF args` (killed after 10 s) reading its stdout and
 * stderr. */
static FILE *qc_start(const char *args)
{
    char cmd[1024];
    FILE *p;

    snprintf(cmd, sizeof(cmd), "timeout -s KILL 10 %s/src/sseq -c "
             "%s/sseq.conf %s </dev/null 2>&1", BUILDDIR, qc_dir, args);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Reads p's output (the first 64 KiB; the rest is drained) into out
 * (malloc'd) until it exits; returns its exit status. */
static int qc_finish(FILE *p, char **out)
{
    size_t cap = 1 << 16, n = 0;
    char sink[4096];
    int st;

    *out = calloc(1, cap);
    while (n < cap - 1) {
        size_t got = fread(*out + n, 1, cap - 1 - n, p);
        if (got == 0)
            break;
        n += got;
    }
    while (fread(sink, 1, sizeof(sink), p) > 0)
        ;
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `sseq -c CONF args` (at most 10 s); returns the exit status and
 * leaves stdout+stderr in out (malloc'd). */
static int qc_run(const char *args, char **out)
{
    return qc_finish(qc_start(args), out);
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
    char path[128], err[512];
    struct config cfg;
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
    /* This process opens the queue too: it trusts its owner as the
     * programs do, by loading the config (queue_trust_owner). */
    ck_assert_msg(config_load(&cfg, path, true, err, sizeof(err)) == 0,
                  "config: %s", err);
    config_free(&cfg);
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

/* Offsets of header fields (queue.c pins them with _Static_assert). */
#define HDR_INDEX_OFF   24
#define HDR_RING_OFF    40
#define HDR_NEXT_ID     208
#define HDR_OLDEST_ID   216

/* The u64 at offset at of the queue file. */
static uint64_t qc_peek(off_t at)
{
    FILE *f = fopen(qc_path, "r");
    uint64_t v;

    ck_assert_ptr_nonnull(f);
    ck_assert_msg(fseeko(f, at, SEEK_SET) == 0 && fread(&v, 8, 1, f) == 1,
                  "read the header");
    fclose(f);
    return v;
}

/* Sets the u64 at offset at of the queue file to value, or adds delta. */
static void qc_poke(off_t at, uint64_t value, int64_t delta)
{
    uint64_t v = delta ? qc_peek(at) + (uint64_t)delta : value;
    FILE *f = fopen(qc_path, "r+");

    ck_assert_ptr_nonnull(f);
    ck_assert_msg(fseeko(f, at, SEEK_SET) == 0 && fwrite(&v, 8, 1, f) == 1,
                  "write the header");
    fclose(f);
}

/* Appends n records on channel "c"; returns the last id. */
static uint64_t qc_fill(int n)
{
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .data = "hello", .data_len = 5 };
    struct queue *q;
    uint64_t id = 0;

    ck_assert_msg(queue_open(qc_path, &q) == 0, "open: %s", queue_error());
    while (n-- > 0)
        ck_assert_msg(queue_append(q, &m, &id) == 0, "append");
    queue_close(q);
    return id;
}

/* The file offset of id's index entry. */
static off_t qc_index_at(uint64_t id)
{
    struct queue_stats st;
    struct queue *q;

    ck_assert_msg(queue_open(qc_path, &q) == 0, "open: %s", queue_error());
    queue_get_stats(q, &st);
    queue_close(q);
    return (off_t)(qc_peek(HDR_INDEX_OFF) + 8 * (id % st.index_slots));
}

/* Runs args and expects exit 1 with one clear damage error. */
static void qc_expect_damage(const char *args, const char *what)
{
    char *out = qc_expect(args, 1);

    ck_assert_msg(strstr(out, qc_path) != NULL &&
                  strstr(out, " is damaged: ") != NULL &&
                  strstr(out, "sseq create --force") != NULL,
                  "%s: sseq %s should say the queue is damaged: %s", what,
                  args, out);
    ck_assert_msg(strlen(out) < 4096, "%s: sseq %s printed %zu bytes",
                  what, args, strlen(out));
    free(out);
}

/* The damaged images of issue 15, each read by `sseq tail` and `sseq
 * check` and written by `sseq publish`; then `sseq create --force`. */
START_TEST(test_damaged_cli)
{
    static const char *const names[] = {
        "oldest_id zeroed", "next_id 2^63", "index entry misaligned",
        "index entry past the ring", "ring_off misaligned",
    };
    uint64_t last = qc_fill(20);
    char *out;

    switch (_i) {
    case 0: qc_poke(HDR_OLDEST_ID, 0, 0); break;
    case 1: qc_poke(HDR_NEXT_ID, UINT64_C(1) << 63, 0); break;
    case 2: qc_poke(qc_index_at(last), 0, 4); break;
    case 3: qc_poke(qc_index_at(last), 0, 1 << 20); break;
    case 4: qc_poke(HDR_RING_OFF, 0, 8); break;
    }
    qc_expect_damage("tail", names[_i]);
    qc_expect_damage("tail --backlog 5", names[_i]);
    qc_expect_damage("publish c world", names[_i]);
    qc_expect_damage("check", names[_i]);
    free(qc_expect("create --force", 0));
    free(qc_expect("publish c again", 0));
    out = qc_expect("check", 0);
    ck_assert_msg(strstr(out, "ok, 1 records") != NULL,
                  "a re-created queue should check ok: %s", out);
    free(out);
}
END_TEST

/* `sseq tail --follow` that is following when next_id is damaged stops
 * with the clear error instead of spinning. */
START_TEST(test_damaged_while_following)
{
    FILE *p;
    char *out;

    qc_fill(3);
    p = qc_start("tail --follow");
    usleep(300 * 1000);
    qc_poke(HDR_NEXT_ID, UINT64_C(1) << 63, 0);
    ck_assert_msg(qc_finish(p, &out) == 1, "tail --follow should exit 1: "
                  "%s", out);
    ck_assert_msg(strstr(out, " is damaged: ") != NULL &&
                  strlen(out) < 4096, "one clear error expected: %s", out);
    free(out);
}
END_TEST

/* A sound queue checks ok; a damaged record in the middle is counted. */
START_TEST(test_check_counts)
{
    uint64_t last = qc_fill(10);
    char *out = qc_expect("check", 0);

    ck_assert_msg(strstr(out, "ok, 10 records") != NULL,
                  "check should count 10 records: %s", out);
    free(out);
    qc_poke(qc_index_at(last - 4), 0, 4);
    out = qc_expect("check", 1);
    ck_assert_msg(strstr(out, "1 damaged records, 9 intact") != NULL,
                  "check should count the damaged record: %s", out);
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
    tcase_add_loop_test(core, test_damaged_cli, 0, 5);
    tcase_add_test(core, test_damaged_while_following);
    tcase_add_test(core, test_check_counts);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return unit_run(queue_cli_suite());
}
