/* check_publish_req.c -- Check suite "publish_req": sseq-publish's
 * request logic (publish_req.c) driven as the FastCGI runtime drives it,
 * over a real queue. The table of requests gives each outcome's status,
 * the words of its one-line reason (naming the culprit) and whether the
 * message entered the queue: methods, channels, bearer tokens and their
 * channels, open channels, body types, lengths and limits, the hub with
 * no publisher key. The two doors (POST /publish/NAME and the Mercure
 * hub's form) apply the queue's rule for a message (queue_msg.h): a bad
 * event type or publisher id is answered 400 naming the field and never
 * enters the queue, while a good message does. */
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
static char pm_token[65];           /* made per run: no credential in a file */
static char pm_bearer[80];

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

/* A random token of 64 hex digits (config_token_check's entropy). */
static void pm_make_token(void)
{
    unsigned char raw[32];
    FILE *r = fopen("/dev/urandom", "rb");

    ck_assert_msg(r != NULL && fread(raw, 1, sizeof(raw), r) == sizeof(raw),
                  "/dev/urandom");
    fclose(r);
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(pm_token + 2 * i, 3, "%02x", raw[i]);
    snprintf(pm_bearer, sizeof(pm_bearer), "Bearer %s", pm_token);
}

/* Loads a config of the given publish group over a private queue, and
 * creates the queue. */
static void pm_setup_with(const char *publish_group)
{
    char path[] = "/tmp/sseq-pm-XXXXXX", err[512];
    struct queue_params p = { .size = 1u << 20, .mode = 0600 };
    struct queue *q;
    FILE *f;
    int fd;

    snprintf(pm_queue, sizeof(pm_queue), "/sseq-test-pm-%d", (int)getpid());
    fd = mkstemp(path);
    ck_assert_msg(fd >= 0 && (f = fdopen(fd, "w")) != NULL, "temp config");
    fprintf(f, "queue: { path = \"%s\"; };\nmax_message_size = 1024;\n"
            "publish: { %s };\n", pm_queue, publish_group);
    fclose(f);
    ck_assert_msg(config_load(&pm_app.cfg, path, true, err,
                              sizeof(err)) == 0, "config: %s", err);
    unlink(path);
    publish_app_init(&pm_app);
    ck_assert_msg(queue_create(pm_queue, &p, 1, &q) == 0, "queue: %s",
                  queue_error());
    queue_close(q);
}

/* Every channel open to anyone. */
static void pm_setup(void)
{
    pm_setup_with("open_channels = [ \"*\" ];");
}

/* A token for news.*, open.* open to anyone, the rest closed. */
static void pm_setup_tokens(void)
{
    char group[256];

    pm_make_token();
    snprintf(group, sizeof(group), "tokens = ( { token = \"%s\"; "
             "channels = [ \"news.*\" ]; } ); "
             "open_channels = [ \"open.*\" ];", pm_token);
    pm_setup_with(group);
}

static void pm_teardown(void)
{
    publish_app_close(&pm_app);
    queue_unlink(pm_queue);
}

/* A request as the web server passes it; NULL fields are absent. */
struct pm_http {
    const char *method, *uri, *query, *ctype, *body;
    const char *authorization;      /* "TOKEN": pm_bearer's value */
    const char *content_length;     /* absent: the body's length */
};

/* Runs one request; returns the answer (static). */
static const char *pm_request(const struct pm_http *h)
{
    static struct publish_io io;
    const char *path_info = strncmp(h->uri, "/publish", 8) == 0 ? h->uri + 8
                                                                : "";
    const char *auth = h->authorization != NULL &&
                       strcmp(h->authorization, "TOKEN") == 0 ? pm_bearer
                                                              : h->authorization;
    const char *body = h->body != NULL ? h->body : "";
    const char *kv[20];
    char len[24];
    size_t n = 0;
    struct pm_req r = { kv };

#define PM_KV(k, v) do { if ((v) != NULL) { kv[n++] = (k); kv[n++] = (v); } } while (0)
    snprintf(len, sizeof(len), "%zu", strlen(body));
    PM_KV("REQUEST_METHOD", h->method != NULL ? h->method : "POST");
    PM_KV("DOCUMENT_URI", h->uri);
    PM_KV("PATH_INFO", path_info);
    PM_KV("QUERY_STRING", h->query != NULL ? h->query : "");
    PM_KV("CONTENT_TYPE", h->ctype);
    PM_KV("CONTENT_LENGTH", h->content_length != NULL ? h->content_length
                                                      : len);
    PM_KV("HTTP_AUTHORIZATION", auth);
#undef PM_KV
    kv[n] = NULL;
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

/* Runs one POST; returns the answer (static). */
static const char *pm_post(const char *uri, const char *query,
                           const char *ctype, const char *body)
{
    struct pm_http h = { .uri = uri, .query = query, .ctype = ctype,
                         .body = body };

    return pm_request(&h);
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
    /* Mercure 1.0: the hub's namespace, event type and characters */
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=urn:a&topic=/.well-known/mercure/subscriptions/exact/a/b",
      "topic 2 \"/.well-known/mercure/subscriptions/exact/a/b\" is under "
      "the hub's path /.well-known/mercure" },
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=https://h.example/.well-known/%256Dercure/x&data=x",
      "is under the hub's path" },
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=a&data=x&type=mercure", "reserved for the hub's own events" },
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=a%E2%80%8Bb&data=x", "U+200B (a format character, Cf)" },
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=a&id=x%C2%85", "bad id= \"x\\xc2\\x85\": U+0085" },
    { "/.well-known/mercure", "", "application/x-www-form-urlencoded",
      "topic=*&data=x", "topic 1 is \"*\", reserved" },
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

/* The outcome of one request: its status, words of its reason, and
 * how many records the queue holds after it (fixture pm_setup_tokens;
 * body "BIG" stands for 2,000 bytes, over max_message_size 1024). */
static const struct {
    struct pm_http h;
    int status;
    const char *says;
    uint64_t appends;
} pm_rows[] = {
    { { .method = "GET", .uri = "/publish/open.a" }, 405,
      "method \"GET\" not allowed: use POST", 0 },
    { { .method = "DELETE", .uri = "/publish/open.a" }, 405,
      "method \"DELETE\"", 0 },
    { { .method = "OPTIONS", .uri = "/publish/open.a" }, 204, "", 0 },
    { { .uri = "/publish/news.a", .ctype = "text/plain", .body = "x" }, 401,
      "news.a", 0 },
    { { .uri = "/publish/news.a", .ctype = "text/plain", .body = "x",
        .authorization = "Bearer 0123456789abcdef0123456789abcdef" }, 403,
      "wrong token (channel news.a)", 0 },
    { { .uri = "/publish/news.a", .ctype = "text/plain", .body = "x",
        .authorization = "Basic dXNlcjpwYXNz" }, 401,
      "Authorization header is not \"Bearer <token>\"", 0 },
    { { .uri = "/publish/news.a", .ctype = "text/plain", .body = "x",
        .authorization = "TOKEN" }, 202, "\"channel\":\"news.a\"}", 1 },
    { { .uri = "/publish/sports.a", .ctype = "text/plain", .body = "x",
        .authorization = "TOKEN" }, 403, "sports.a", 0 },
    { { .uri = "/publish/open.a", .ctype = "text/plain", .body = "x" }, 202,
      "\"channel\":\"open.a\"}", 1 },
    { { .uri = "/publish", .query = "channel=open.q", .ctype = "text/plain",
        .body = "x" }, 202, "\"channel\":\"open.q\"}", 1 },
    { { .uri = "/publish/open.a", .ctype = "application/json",
        .body = "{\"data\":\"hi\",\"event\":\"e\"}" }, 202,
      "\"channel\":\"open.a\"}", 1 },
    { { .uri = "/publish/open.a", .ctype = "application/json",
        .body = "{\"data\":" }, 400, "malformed JSON body", 0 },
    { { .uri = "/publish/open.a", .ctype = "image/png", .body = "x" }, 415,
      "image/png", 0 },
    { { .uri = "/publish/open.a", .ctype = "text/plain", .body = "BIG" },
      413, "max_message_size 1024", 0 },
    { { .uri = "/publish/open.a", .ctype = "text/plain", .body = "x",
        .content_length = "abc" }, 400, "bad Content-Length \"abc\"", 0 },
    { { .uri = "/publish/open.a", .ctype = "text/plain", .body = "12345",
        .content_length = "10" }, 400, "cut short (got 5 of 10 bytes)", 0 },
    { { .uri = "/publish/open.a", .ctype = "text/plain", .body = "12345",
        .content_length = "3" }, 413, "longer than its Content-Length 3",
      0 },
    { { .uri = "/publish/", .ctype = "text/plain", .body = "x" }, 400,
      "no channel: POST /publish/NAME", 0 },
    { { .uri = "/publish/open.a%20b", .ctype = "text/plain", .body = "x" },
      400, "bad channel name", 0 },
    { { .uri = "/.well-known/mercure",
        .ctype = "application/x-www-form-urlencoded",
        .body = "topic=a&data=x" }, 403, "publishing through the hub is "
      "disabled", 0 },
};

START_TEST(test_request_table)
{
    static char big[2001];
    struct pm_http h = pm_rows[_i].h;
    char status[16];
    const char *out;

    if (h.body != NULL && strcmp(h.body, "BIG") == 0) {
        memset(big, 'x', sizeof(big) - 1);
        h.body = big;
    }
    out = pm_request(&h);
    snprintf(status, sizeof(status), "Status: %d", pm_rows[_i].status);
    ck_assert_msg(strncmp(out, status, strlen(status)) == 0,
                  "row %d should be %d, got: %.200s", _i, pm_rows[_i].status,
                  out);
    ck_assert_msg(strstr(out, pm_rows[_i].says) != NULL,
                  "row %d should say '%s', said: %s", _i, pm_rows[_i].says,
                  out);
    ck_assert_msg(pm_appends() == pm_rows[_i].appends,
                  "row %d: the queue should hold %llu record(s)", _i,
                  (unsigned long long)pm_rows[_i].appends);
}
END_TEST

static Suite *publish_req_suite(void)
{
    Suite *s = suite_create("publish_req");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    TCase *table = tcase_create("table");

    tcase_add_checked_fixture(core, pm_setup, pm_teardown);
    tcase_add_test(core, test_good_enters);
    tcase_add_checked_fixture(errors, pm_setup, pm_teardown);
    tcase_add_loop_test(errors, test_bad_refused, 0,
                        (int)(sizeof(pm_bad) / sizeof(pm_bad[0])));
    tcase_add_checked_fixture(table, pm_setup_tokens, pm_teardown);
    tcase_add_loop_test(table, test_request_table, 0,
                        (int)(sizeof(pm_rows) / sizeof(pm_rows[0])));
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, table);
    return s;
}

int main(void)
{
    return unit_run(publish_req_suite());
}
