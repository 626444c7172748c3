/* check_cli.c -- the `sseq` tool run as a user would: create, publish,
 * tail and stats on a private queue, and the exit codes of bad input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit_run.h"

static char cli_dir[64];        /* private dir with sseq.conf */
static char cli_queue[64];      /* private shm name */

/* Runs `sseq -c CONF args` with stdin from input (may be NULL); returns the
 * exit status and leaves stdout+stderr in out (malloc'd). */
static int cli_run(const char *args, const char *input, char **out)
{
    char cmd[1024], path[128];
    size_t cap = 1 << 16, n = 0;
    FILE *p;
    int st;

    snprintf(path, sizeof(path), "%s/stdin", cli_dir);
    p = fopen(path, "w");
    ck_assert_ptr_nonnull(p);
    if (input)
        fputs(input, p);
    fclose(p);
    snprintf(cmd, sizeof(cmd), "%s/src/sseq -c %s/sseq.conf %s <%s 2>&1",
             BUILDDIR, cli_dir, args, path);
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
static char *cli_expect(const char *args, const char *input, int status)
{
    char *out;
    int rc = cli_run(args, input, &out);

    ck_assert_msg(rc == status, "sseq %s: expected exit %d, got %d: %s",
                  args, status, rc, out);
    return out;
}

static void cli_setup(void)
{
    char path[128];
    FILE *f;

    snprintf(cli_dir, sizeof(cli_dir), "/tmp/sseq-cli-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(cli_dir));
    snprintf(cli_queue, sizeof(cli_queue), "/sseq-cli-%d", (int)getpid());
    snprintf(path, sizeof(path), "%s/sseq.conf", cli_dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "queue: { path = \"%s\"; size = \"1M\"; };\n"
               "max_message_size = 100;\n", cli_queue);
    fclose(f);
    free(cli_expect("create", NULL, 0));
}

static void cli_teardown(void)
{
    char cmd[160];

    snprintf(cmd, sizeof(cmd), "rm -rf %s /dev/shm%s", cli_dir, cli_queue);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_publish_tail_round_trip)
{
    char *id = cli_expect("publish --event greet chat 'hi there'", NULL, 0);
    char *out = cli_expect("tail chat --backlog 1", NULL, 0);
    char want[256];

    id[strcspn(id, "\n")] = 0;
    snprintf(want, sizeof(want), "id: %s\nevent: greet\ndata: hi there\n\n",
             id);
    ck_assert_msg(strstr(out, want) != NULL,
                  "tail should print the SSE event '%s', got '%s'", want,
                  out);
    free(id);
    free(out);
}
END_TEST

START_TEST(test_publish_mercure)
{
    char *id = cli_expect("publish --private --topic chat --topic "
                          "https://e.example/u/7 --id urn:x:1 --retry 900 "
                          "https://e.example/books/1 hello", NULL, 0);
    char *out = cli_expect("tail --json --backlog 1", NULL, 0);

    ck_assert_msg(strstr(out, "\"channel\":\"https://e.example/books/1\","
                         "\"alt\":[\"chat\",\"https://e.example/u/7\"],"
                         "\"private\":true,\"pub_id\":\"urn:x:1\","
                         "\"retry\":900,") != NULL,
                  "the record should carry every Mercure field: '%s'", out);
    free(id);
    free(out);
}
END_TEST

START_TEST(test_publish_from_stdin_multiline)
{
    char *id = cli_expect("publish chat", "line one\nline two", 0);
    char *out = cli_expect("tail chat --json", NULL, 0);

    ck_assert_msg(strstr(out, "\"data\":\"line one\\nline two\"") != NULL,
                  "stdin data should arrive whole, got %s", out);
    free(id);
    free(out);
}
END_TEST

/* Issue 11.9: `echo hello | sseq publish` publishes "hello": one final
 * newline from stdin is dropped, a second one is kept. */
START_TEST(test_publish_stdin_final_newline)
{
    char *out;

    free(cli_expect("publish chat", "hello\n", 0));
    free(cli_expect("publish chat", "two\n\n", 0));
    free(cli_expect("publish chat", "crlf\r\n", 0));
    out = cli_expect("tail chat --json", NULL, 0);
    ck_assert_msg(strstr(out, "\"data\":\"hello\"}") &&
                  strstr(out, "\"data\":\"two\\n\"}") &&
                  strstr(out, "\"data\":\"crlf\"}"),
                  "one final newline must be dropped, got %s", out);
    free(out);
}
END_TEST

START_TEST(test_tail_filters_channels_and_from_id)
{
    char *a = cli_expect("publish a one", NULL, 0);
    char *b = cli_expect("publish b two", NULL, 0);
    char *c = cli_expect("publish a three", NULL, 0);
    char args[128], *out;

    a[strcspn(a, "\n")] = 0;
    snprintf(args, sizeof(args), "tail a --from-id %s", a);
    out = cli_expect(args, NULL, 0);
    ck_assert_msg(strstr(out, "three") && !strstr(out, "one") &&
                  !strstr(out, "two"),
                  "only a's messages after %s expected, got %s", a, out);
    free(a); free(b); free(c); free(out);
}
END_TEST

START_TEST(test_stats_counts_appends)
{
    free(cli_expect("publish chat x", NULL, 0));
    free(cli_expect("publish chat y", NULL, 0));
    char *out = cli_expect("stats --json", NULL, 0);

    ck_assert_msg(strstr(out, "\"records\":2,") != NULL,
                  "stats should count 2 records: %s", out);
    free(out);
}
END_TEST

/* Each bad input: exit status and the culprit named in the message. */
static const struct {
    const char *args, *input; int status; const char *says;
} cli_bad[] = {
    { "publish 'bad name' x", NULL, 1, "bad channel name 'bad name'" },
    { "publish --event 'a\nb' chat x", NULL, 1,
      "bad event type \"a\\x0ab\"" },
    { "publish chat", "0123456789012345678901234567890123456789012345678901"
      "2345678901234567890123456789012345678901234567890123", 1,
      "over max_message_size" },
    { "publish chat \"$(printf '\\377')\"", NULL, 1,
      "bad data: must be valid UTF-8" },
    { "create", NULL, 1, "exists; use --force" },
    { "tail chat --backlog x", NULL, 2, "--backlog wants a number" },
    { "frobnicate", NULL, 2, "unknown command 'frobnicate'" },
    { "publish", NULL, 2, "need CHANNEL" },
    { "publish 'urn:a b' x", NULL, 1, "bad channel name 'urn:a b'" },
    { "publish --topic 'a b' chat x", NULL, 1, "bad topic 'a b'" },
    { "publish --id \"$(printf 'a\\nb')\" chat x", NULL, 1, "bad id" },
    { "publish --id 123 chat x", NULL, 1, "bad id \"123\"" },
    { "publish --id '#x' chat x", NULL, 1, "must not start with '#'" },
    { "publish --id earliest chat x", NULL, 1, "bad id \"earliest\"" },
    { "publish --retry 0 chat x", NULL, 2, "bad --retry '0'" },
    { "publish --retry x chat x", NULL, 2, "bad --retry 'x'" },
};

START_TEST(test_bad_input)
{
    char *out = cli_expect(cli_bad[_i].args, cli_bad[_i].input,
                           cli_bad[_i].status);

    ck_assert_msg(strstr(out, cli_bad[_i].says) != NULL,
                  "sseq %s should say '%s', said '%s'", cli_bad[_i].args,
                  cli_bad[_i].says, out);
    free(out);
}
END_TEST

/* A bad event type or id never reaches the queue (queue_msg.h). */
START_TEST(test_bad_never_queued)
{
    char *out;

    free(cli_expect("publish --event 'a\nb' chat x", NULL, 1));
    free(cli_expect("publish --id 42 chat x", NULL, 1));
    free(cli_expect("publish --id \"$(printf 'a\\r\\nb')\" chat x", NULL,
                    1));
    out = cli_expect("stats --json", NULL, 0);
    ck_assert_msg(strstr(out, "\"records\":0,") != NULL,
                  "refused publishes should append nothing: %s", out);
    free(out);
}
END_TEST

START_TEST(test_missing_queue)
{
    char cmd[128], *out;

    snprintf(cmd, sizeof(cmd), "rm -f /dev/shm%s", cli_queue);
    ck_assert_int_eq(system(cmd), 0);
    out = cli_expect("publish chat x", NULL, 1);
    ck_assert_msg(strstr(out, cli_queue) && strstr(out, "sseq create"),
                  "a missing queue should be named, with the fix: %s", out);
    free(out);
}
END_TEST

START_TEST(test_bad_config_names_file_line_setting)
{
    char path[128], *out;
    FILE *f;

    snprintf(path, sizeof(path), "%s/sseq.conf", cli_dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "queue: { path = \"%s\"; };\nstream: { heartbeat = -5; };\n",
            cli_queue);
    fclose(f);
    out = cli_expect("check-config", NULL, 1);
    ck_assert_msg(strstr(out, "sseq.conf:2:") && strstr(out, "heartbeat"),
                  "expected FILE:2: ...heartbeat..., got %s", out);
    free(out);
}
END_TEST

/* Writes text as the test's sseq.conf. */
static void cli_write_conf(const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/sseq.conf", cli_dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Issue 11.3: a placeholder token stops every command that loads the
 * config, naming the setting; `sseq token` still works and its output is
 * accepted. */
START_TEST(test_placeholder_token_refused)
{
    char conf[512], *out, *tok;

    snprintf(conf, sizeof(conf), "queue: { path = \"%s\"; };\npublish: "
             "{ tokens = ( { token = \"change-me\"; } ); };\n", cli_queue);
    cli_write_conf(conf);
    out = cli_expect("check-config", NULL, 1);
    ck_assert_msg(strstr(out, "sseq.conf:2: publish.tokens[0].token: is a "
                         "placeholder") && strstr(out, "sseq token"),
                  "check-config must refuse change-me, naming the setting "
                  "and the fix: %s", out);
    free(out);
    free(cli_expect("publish chat x", NULL, 1));
    tok = cli_expect("token", NULL, 0);
    ck_assert_msg(strlen(tok) == 65 && strspn(tok, "0123456789abcdef") == 64,
                  "sseq token must print 64 hex digits: %s", tok);
    tok[64] = '\0';
    snprintf(conf, sizeof(conf), "queue: { path = \"%s\"; };\npublish: "
             "{ tokens = ( { token = \"%s\"; } ); };\n", cli_queue, tok);
    cli_write_conf(conf);
    out = cli_expect("check-config", NULL, 0);
    ck_assert_msg(strstr(out, tok) == NULL, "the token must stay masked");
    free(out);
    out = cli_expect("token", NULL, 0);
    ck_assert_msg(strncmp(out, tok, 64) != 0, "two tokens must differ");
    free(out);
    free(tok);
}
END_TEST

/* Starts the built sseq-stream on a socket in cli_dir; waits until its
 * slot shows in `sseq stats`. Returns its pid. */
/* The one child of pid (sseq-stream's worker under its master), or -1. */
static pid_t cli_child(pid_t pid)
{
    char path[64];
    long child = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
             (int)pid);
    f = fopen(path, "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &child) != 1)
            child = -1;
        fclose(f);
    }
    return (pid_t)child;
}

/* Starts sseq-stream (a master and one worker) on the test queue and
 * waits until its worker shows in sseq stats; returns the master's pid. */
static pid_t cli_start_stream(void)
{
    char conf[128], sock[128], bin[256], *out = NULL;
    pid_t pid;

    snprintf(conf, sizeof(conf), "%s/sseq.conf", cli_dir);
    snprintf(sock, sizeof(sock), "unix:%s/stream.sock", cli_dir);
    snprintf(bin, sizeof(bin), "%s/src/sseq-stream", BUILDDIR);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl(bin, bin, "-c", conf, "--listen", sock, "--processes", "1",
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        free(out);
        out = cli_expect("stats", NULL, 0);
        if (strstr(out, "(stream)") != NULL)
            break;
        usleep(10000);
    }
    ck_assert_msg(strstr(out, "(stream)") != NULL,
                  "sseq-stream never showed in sseq stats: %s", out);
    free(out);
    return pid;
}

/* Issue 11.1: create --force refuses while a real sseq-stream uses the
 * queue, names it and the safe way; --while-running overrides; once it
 * has stopped --force works. */
START_TEST(test_create_force_refused_while_running)
{
    char pidstr[32], *out;
    pid_t pid = cli_start_stream();
    int st;

    out = cli_expect("create --force", NULL, 1);
    snprintf(pidstr, sizeof(pidstr), "pid %d (stream)", (int)cli_child(pid));
    ck_assert_msg(strstr(out, "in use by 1 process") &&
                  strstr(out, pidstr) && strstr(out, "stop them first") &&
                  strstr(out, "--while-running"),
                  "create --force must refuse, naming pid %d: %s", (int)pid,
                  out);
    free(out);
    free(cli_expect("create --while-running", NULL, 2));
    free(cli_expect("create --force --while-running", NULL, 0));
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    out = cli_expect("create --force", NULL, 0);
    ck_assert_msg(strstr(out, "created") != NULL, "got %s", out);
    free(out);
}
END_TEST

/* Issue 11.2: as root, create gives the queue to www-data (the user the
 * shipped sseq-spawn runs the programs as), or to queue.owner/group; and
 * check-config says whether that user can use it. */
START_TEST(test_create_owner_and_check_config)
{
    char conf[512], file[96], want[160], *out;
    struct stat st;

    snprintf(file, sizeof(file), "/dev/shm%s", cli_queue);
    ck_assert_int_eq(stat(file, &st), 0);
    if (geteuid() != 0) {
        ck_assert_msg(st.st_uid == geteuid(), "a user's queue stays its own");
        out = cli_expect("check-config", NULL, 0);
        ck_assert_msg(strstr(out, "can read and write it: ok"), "%s", out);
        free(out);
        return;
    }
    ck_assert_msg(st.st_uid == 33 && st.st_gid == 33 &&
                  (st.st_mode & 0777) == 0600,
                  "as root the queue must be www-data:www-data 0600, is "
                  "%u:%u %04o", st.st_uid, st.st_gid, st.st_mode & 0777);
    out = cli_expect("check-config", NULL, 0);
    snprintf(want, sizeof(want), "# queue %s: www-data (uid 33) can read "
             "and write it: ok", file);
    ck_assert_msg(strstr(out, want), "expected '%s' in %s", want, out);
    free(out);
    snprintf(conf, sizeof(conf), "%s/sseq.conf", cli_dir);
    ck_assert_int_eq(chmod(conf, 0640), 0);
    out = cli_expect("check-config", NULL, 1);
    ck_assert_msg(strstr(out, "root:root 0640 and the programs run as "
                         "www-data") && strstr(out, "chgrp www-data"),
                  "an unreadable config must be named with the fix: %s",
                  out);
    free(out);
    ck_assert_int_eq(chown(conf, 0, 33), 0);
    free(cli_expect("check-config", NULL, 0));
    ck_assert_int_eq(chown(file, 0, 0), 0);
    out = cli_expect("check-config", NULL, 1);
    ck_assert_msg(strstr(out, "is root:root 0600 and the programs run as "
                         "www-data (uid 33)") &&
                  strstr(out, "sseq create --force"),
                  "check-config must name owner, mode, user and fix: %s",
                  out);
    free(out);
    snprintf(conf, sizeof(conf), "queue: { path = \"%s\"; size = \"1M\";"
             " owner = \"nobody\"; group = \"www-data\"; mode = "
             "\"0660\"; };\n", cli_queue);
    cli_write_conf(conf);
    out = cli_expect("create --force", NULL, 0);
    ck_assert_msg(strstr(out, "nobody:www-data 0660"), "%s", out);
    free(out);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_msg(st.st_uid == 65534 && st.st_gid == 33,
                  "owner and group as configured");
    snprintf(conf, sizeof(conf), "queue: { path = \"%s\"; owner = "
             "\"no-such-user-x\"; };\n", cli_queue);
    cli_write_conf(conf);
    out = cli_expect("create --force", NULL, 1);
    ck_assert_msg(strstr(out, "no user or group 'no-such-user-x'"), "%s",
                  out);
    free(out);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, cli_setup, cli_teardown);
    tcase_add_test(core, test_publish_tail_round_trip);
    tcase_add_test(core, test_publish_from_stdin_multiline);
    tcase_add_test(core, test_publish_mercure);
    tcase_add_test(core, test_publish_stdin_final_newline);
    tcase_add_test(core, test_tail_filters_channels_and_from_id);
    tcase_add_test(core, test_stats_counts_appends);
    suite_add_tcase(s, core);
    tcase_add_checked_fixture(errors, cli_setup, cli_teardown);
    tcase_add_loop_test(errors, test_bad_input, 0,
                        sizeof(cli_bad) / sizeof(cli_bad[0]));
    tcase_add_test(errors, test_bad_never_queued);
    tcase_add_test(errors, test_missing_queue);
    tcase_add_test(errors, test_bad_config_names_file_line_setting);
    tcase_add_test(errors, test_placeholder_token_refused);
    tcase_add_test(errors, test_create_force_refused_while_running);
    tcase_add_test(errors, test_create_owner_and_check_config);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(cli_suite());
}
