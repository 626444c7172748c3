/* check_stream_req.c -- the "stream_req" suite: channels (repeated and
 * comma lists, validated, deduplicated), Last-Event-ID header over the
 * last_event_id= parameter, backlog capped, methods, and the exact
 * response heads. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "stream_req.h"
#include "unit_run.h"

static struct config cfg;

struct env {
    const char *method, *qs, *last_id;
};

static const char *get(const char *name, void *ctx)
{
    const struct env *e = ctx;

    if (strcmp(name, "REQUEST_METHOD") == 0) return e->method;
    if (strcmp(name, "QUERY_STRING") == 0) return e->qs;
    if (strcmp(name, "HTTP_LAST_EVENT_ID") == 0) return e->last_id;
    return NULL;
}

static int parse(struct stream_req *r, const char *method, const char *qs,
                 const char *last_id, const char **reason)
{
    struct env e = { method, qs, last_id };

    *reason = NULL;
    return stream_req_parse(r, &cfg, get, &e, reason);
}

static void setup(void)
{
    char err[256];

    ck_assert_int_eq(config_load(&cfg, "/nonexistent/sseq.conf", false,
                                 err, sizeof(err)), 0);
    cfg.backlog_max = 100;
}

static void teardown(void)
{
    config_free(&cfg);
}

START_TEST(test_channels)
{
    struct stream_req r;
    const char *why;

    ck_assert_int_eq(parse(&r, "GET", "channel=a&x=1&channel=b%2Cc,a",
                           NULL, &why), 0);
    ck_assert_uint_eq(r.n_channels, 3);
    ck_assert_str_eq(r.names + r.off[0], "a");
    ck_assert_str_eq(r.names + r.off[1], "b");
    ck_assert_str_eq(r.names + r.off[2], "c");
    ck_assert(stream_req_has_channel(&r, "c", 1));
    ck_assert(!stream_req_has_channel(&r, "d", 1));
    ck_assert(!r.has_last_id);
}
END_TEST

START_TEST(test_resume)
{
    struct stream_req r;
    const char *why;

    ck_assert_int_eq(parse(&r, "GET", "channel=a&last_event_id=5&backlog=3",
                           NULL, &why), 0);
    ck_assert(r.has_last_id);
    ck_assert_uint_eq(r.last_id, 5);
    ck_assert_msg(r.backlog == 0, "backlog only applies to fresh streams");
    ck_assert_int_eq(parse(&r, "GET", "channel=a&last_event_id=5", "9",
                           &why), 0);
    ck_assert_msg(r.last_id == 9, "the header must win over the query");
    ck_assert_int_eq(parse(&r, "GET", "channel=a&backlog=5000", NULL,
                           &why), 0);
    ck_assert_msg(r.backlog == 100, "backlog must be capped by backlog_max");
}
END_TEST

START_TEST(test_errors)
{
    struct stream_req r;
    const char *why;

    ck_assert_int_eq(parse(&r, "GET", "", NULL, &why), 400);
    ck_assert_int_eq(parse(&r, "GET", "channel=", NULL, &why), 400);
    ck_assert_int_eq(parse(&r, "GET", "channel=a%20b", NULL, &why), 400);
    ck_assert_int_eq(parse(&r, "GET", "channel=a&last_event_id=x", NULL,
                           &why), 400);
    ck_assert_int_eq(parse(&r, "GET", "channel=a&last_event_id=", NULL,
                           &why), 400);
    ck_assert_int_eq(parse(&r, "GET", "channel=a&backlog=-1", NULL, &why),
                     400);
    ck_assert_int_eq(parse(&r, "GET", "channel=a", "abc", &why), 400);
    ck_assert_int_eq(parse(&r, "POST", "channel=a", NULL, &why), 405);
    ck_assert_int_eq(parse(&r, "HEAD", "channel=a", NULL, &why), 0);
    ck_assert(r.head);
}
END_TEST

START_TEST(test_heads)
{
    char out[512];
    size_t n;

    n = stream_req_error(out, sizeof(out), 405, "use GET", 3, NULL);
    ck_assert_uint_eq(n, strlen(out));
    ck_assert_str_eq(out, "Status: 405 Method Not Allowed\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Cache-Control: no-cache\r\n"
                     "Allow: GET, HEAD\r\n\r\nuse GET\n");
    stream_req_error(out, sizeof(out), 503, "busy", 3, "*");
    ck_assert_ptr_nonnull(strstr(out, "Retry-After: 3\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "Access-Control-Allow-Origin: *\r\n"));
    n = stream_req_head(out, sizeof(out), "https://a.example");
    ck_assert_uint_eq(n, strlen(out));
    ck_assert_str_eq(out, "Status: 200 OK\r\n"
                     "Content-Type: text/event-stream; charset=utf-8\r\n"
                     "Cache-Control: no-cache\r\n"
                     "X-Accel-Buffering: no\r\n"
                     "Access-Control-Allow-Origin: https://a.example\r\n"
                     "Vary: Origin\r\n\r\n");
    ck_assert_uint_eq(stream_req_head(out, 40, NULL), 0);
}
END_TEST

static Suite *stream_req_suite(void)
{
    Suite *s = suite_create("stream_req");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(core, test_channels);
    tcase_add_test(core, test_resume);
    tcase_add_test(core, test_heads);
    tcase_add_test(errors, test_errors);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(stream_req_suite());
}
