/* check_publish_msg.c -- Check suite "publish_msg": sseq-publish's two
 * doors (POST /publish/NAME and the Mercure hub's form) apply the queue's
 * rule for a message (queue_msg.h): a bad event type or publisher id is
 * answered 400 naming the field and never enters the real queue, while a
 * good message does. Requests go through publish_req_handle as the
 * FastCGI runtime calls it. */
#include "publish/publish_req.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit_run.h"

static struct publish_app pm_app;
static char pm_queue[64];

/* One request's params: NULL-terminated name, value pairs. */
struct pm_req {
    const char *const *kv;
};

static const char *pm_param(void *ctx, const char *name)
{
    const struct pm_req *r = ctx;

    for (size_t i = 0; r->kv[i] != NULL; i += 2)
        if (strcmp(r->kv[i], name) == 0)
            return r->kv[i + 1];
    return NULL;
}

/* A config with a private queue and every channel open; creates it. */
static void pm_setup(void)
{
    char path[] = "/tmp/sseq-pm-XXXXXX", err[512];
    struct queue_params p = { .size = 1u << 20, .mode = 0600 };
    struct queue *q;
    FILE *f;
    int fd;

    snprintf(pm_queue, sizeof(pm_queue), "/sseq-test-pm-%d", (int)getpid());
    fd = mkstemp(path);
    ck_assert_msg(fd >= 0 && (f = fdopen(fd, "w")) != NULL, "temp config");
    fprintf(f, "queue: { path = \"%s\"; };\n"
            "publish: { open_channels = [ \"*\" ]; };\n", pm_queue);
    fclose(f);
    ck_assert_msg(config_load(&pm_app.cfg, path, true, err,
                              sizeof(err)) == 0, "config: %s", err);
    unlink(path);
    publish_app_init(&pm_app);
    ck_assert_msg(queue_create(pm_queue, &p, 1, &q) == 0, "queue: %s",
                  queue_error());
    queue_close(q);
}

static void pm_teardown(void)
{
    publish_app_close(&pm_app);
    queue_unlink(pm_queue);
}

/* Runs one POST; returns the answer (static). */
static const char *pm_post(const char *uri, const char *query,
                           const char *ctype, const char *body)
{
    static struct publish_io io;
    const char *path_info = strncmp(uri, "/publish", 8) == 0 ? uri + 8 : "";
    const char *kv[] = { "REQUEST_METHOD", "POST", "DOCUMENT_URI", uri,
                         "PATH_INFO", path_info, "QUERY_STRING", query,
                         "CONTENT_TYPE", ctype, NULL };
    struct pm_req r = { kv };

    memset(&io, 0, sizeof(io));
    io.param = pm_param;
    io.ctx = &r;
    io.body = body;
    io.body_len = io.body_seen = strlen(body);
    publish_req_handle(&pm_app, &io);
    io.out[io.out_len < sizeof(io.out) ? io.out_len : sizeof(io.out) - 1] =
        '\0';
    return io.out;
}

/* The number of records appended to the private queue. */
static uint64_t pm_appends(void)
{
    struct queue_stats st;
    struct queue *q;

    ck_assert_int_eq(queue_open(pm_queue, &q), 0);
    queue_get_stats(q, &st);
    queue_close(q);
    return st.appends;
}

/* A request refused 400 with a reason that names the field. */
static const struct {
    const char *uri, *query, *ctype, *body, *says;
} pm_bad[] = {
    { "/publish/chat", "event=a%0Adata:%20forged", "text/plain", "x",
      "bad event name \"a\\x0adata: forged\"" },
    { "/publish/chat", "event=a%0D", "text/plain", "x", "bad event name" },
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=a&data=x&id=a%0D%0ASet-Cookie:%20x=1", "bad id=" },
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=a&data=x&id=12345", "be all digits" },
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=a&data=x&id=earliest", "bad id=" },
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=a&data=x&type=a%0Ab", "bad type=" },
};

START_TEST(test_bad_refused)
{
    const char *out = pm_post(pm_bad[_i].uri, pm_bad[_i].query,
                              pm_bad[_i].ctype, pm_bad[_i].body);

    ck_assert_msg(strncmp(out, "Status: 400", 11) == 0,
                  "row %d should be 400, got: %.60s", _i, out);
    ck_assert_msg(strstr(out, pm_bad[_i].says) != NULL,
                  "row %d should say '%s', said: %s", _i, pm_bad[_i].says,
                  out);
    ck_assert_msg(pm_appends() == 0, "row %d: nothing enters the queue",
                  _i);
}
END_TEST

START_TEST(test_good_enters)
{
    const char *out = pm_post("/publish/chat", "event=update", "text/plain",
                              "hello");

    ck_assert_msg(strncmp(out, "Status: 202", 11) == 0, "202, got: %.80s",
                  out);
    ck_assert_msg(pm_appends() == 1, "the message entered the queue");
}
END_TEST

static Suite *publish_msg_suite(void)
{
    Suite *s = suite_create("publish_msg");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, pm_setup, pm_teardown);
    tcase_add_test(core, test_good_enters);
    tcase_add_checked_fixture(errors, pm_setup, pm_teardown);
    tcase_add_loop_test(errors, test_bad_refused, 0,
                        (int)(sizeof(pm_bad) / sizeof(pm_bad[0])));
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(publish_msg_suite());
}
