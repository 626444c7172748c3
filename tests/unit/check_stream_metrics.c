/* check_stream_metrics.c -- the "stream_metrics" suite: which requests
 * the metrics endpoint takes, the status each one gets (404, 405, 503),
 * and the 200 response around the Prometheus text of a real queue. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/queue.h"
#include "stream/stream_metrics.h"
#include "unit_run.h"

struct env {
    const char *endpoint, *method;
};

static const char *get(const char *name, void *ctx)
{
    const struct env *e = ctx;

    if (strcmp(name, STREAM_METRICS_PARAM) == 0) return e->endpoint;
    if (strcmp(name, "REQUEST_METHOD") == 0) return e->method;
    return NULL;
}

static char qname[64];
static struct queue *q;

static void setup(void)
{
    struct queue_params p = { .size = 1 << 20, .mode = 0600 };
    int rc;

    snprintf(qname, sizeof(qname), "/sseq-test-metrics-%d", (int)getpid());
    rc = queue_create(qname, &p, 1, &q);
    ck_assert_msg(rc == 0, "queue_create(%s) should succeed, got %d: %s",
                  qname, rc, queue_error());
}

static void teardown(void)
{
    queue_close(q);
    queue_unlink(qname);
}

/* One request and the status it must get. */
struct status_case {
    const char *endpoint, *method;
    bool queue;                 /* the queue is open */
    int status;
};

static const struct status_case statuses[] = {
    { "metrics", "GET", true, 200 },
    { "metrics", "HEAD", true, 200 },
    { "metrics", "POST", true, 405 },
    { "metrics", NULL, true, 405 },
    { "metrics", "GET", false, 503 },
    { "metric", "GET", true, 404 },
    { "", "GET", true, 404 },
    { "metrics", "DELETE", false, 405 },
};

START_TEST(test_status)
{
    const struct status_case *c = &statuses[_i];
    struct env e = { c->endpoint, c->method };
    char *out = NULL, want[64];
    size_t len = 0;
    int status = -1;

    ck_assert_msg(stream_metrics_wanted(get, &e),
                  "any %s value selects an endpoint", STREAM_METRICS_PARAM);
    ck_assert_int_eq(stream_metrics_respond(c->queue ? q : NULL, qname, get,
                                            &e, &out, &len, &status), 0);
    ck_assert_msg(status == c->status, "%s %s (queue %d) should get %d, "
                  "got %d", c->method, c->endpoint, c->queue, c->status,
                  status);
    snprintf(want, sizeof(want), "Status: %d ", c->status);
    ck_assert_msg(strncmp(out, want, strlen(want)) == 0,
                  "the response should start \"%s\": %.60s", want, out);
    ck_assert_uint_eq(strlen(out), len);
    if (c->status == 405)
        ck_assert_ptr_nonnull(strstr(out, "Allow: GET, HEAD\r\n"));
    free(out);
}
END_TEST

START_TEST(test_not_wanted)
{
    struct env e = { NULL, "GET" };

    ck_assert_msg(!stream_metrics_wanted(get, &e),
                  "without %s a request is a stream", STREAM_METRICS_PARAM);
}
END_TEST

START_TEST(test_body)
{
    struct env e = { "metrics", "GET" };
    char *out = NULL, *body;
    size_t len = 0, clen = 0;
    int status = 0;
    const char *cl;

    ck_assert_int_eq(stream_metrics_respond(q, qname, get, &e, &out, &len,
                                            &status), 0);
    ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Type: text/plain; "
                                 "version=0.0.4; charset=utf-8\r\n"));
    body = strstr(out, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    body += 4;
    cl = strstr(out, "\r\nContent-Length: ");
    ck_assert_ptr_nonnull(cl);
    ck_assert_int_eq(sscanf(cl, "\r\nContent-Length: %zu", &clen), 1);
    ck_assert_msg(clen == len - (size_t)(body - out),
                  "Content-Length %zu should be the body's %zu bytes", clen,
                  len - (size_t)(body - out));
    ck_assert_msg(strncmp(body, "# HELP sseq_queue_info ", 23) == 0,
                  "the body should be the metrics: %.60s", body);
    ck_assert_ptr_nonnull(strstr(body, "\nsseq_queue_appended_total 0\n"));
    free(out);
}
END_TEST

static Suite *stream_metrics_suite(void)
{
    Suite *s = suite_create("stream_metrics");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(core, test_body);
    tcase_add_test(core, test_not_wanted);
    tcase_add_loop_test(errors, test_status, 0,
                        (int)(sizeof(statuses) / sizeof(statuses[0])));
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(stream_metrics_suite());
}
