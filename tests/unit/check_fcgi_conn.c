/* check_fcgi_conn.c -- the "fcgi_conn" suite: a FastCGI request is
 * assembled the same however its bytes are split (padding included),
 * params and body are bounded, management records are answered, a second
 * request on the connection is refused while one is open, and a kept
 * connection starts the next request cleanly. */
#include "ac_config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/fcgi_conn.h"
#include "unit_run.h"

static const struct fcgi_conn_limits lim = { 4096, 1000 };

/* Appends a record (type, id, content, padding) to buf at *n. */
static void rec(uint8_t *buf, size_t *n, int type, unsigned id,
                const void *content, size_t len, unsigned pad)
{
    fcgi_rec_header(buf + *n, type, id, len);
    buf[*n + 6] = (uint8_t)pad;
    *n += 8;
    memcpy(buf + *n, content, len);
    *n += len;
    memset(buf + *n, 0xee, pad);
    *n += pad;
}

/* A whole request: BEGIN (flags), params with padding, body in 2 records. */
static size_t request(uint8_t *buf, unsigned id, int flags,
                      const char *body)
{
    static const uint8_t pairs[] = {
        14, 3, 'R','E','Q','U','E','S','T','_','M','E','T','H','O','D',
        'G','E','T',
        12, 9, 'Q','U','E','R','Y','_','S','T','R','I','N','G',
        'c','h','a','n','n','e','l','=','a',
    };
    uint8_t begin[8] = { 0, 1, (uint8_t)flags, 0, 0, 0, 0, 0 };
    size_t n = 0, half = strlen(body) / 2;

    rec(buf, &n, FCGI_REC_BEGIN_REQUEST, id, begin, 8, 0);
    rec(buf, &n, FCGI_REC_PARAMS, id, pairs, sizeof(pairs), 5);
    rec(buf, &n, FCGI_REC_PARAMS, id, "", 0, 0);
    rec(buf, &n, FCGI_REC_STDIN, id, body, half, 3);
    rec(buf, &n, FCGI_REC_STDIN, id, body + half, strlen(body) - half, 0);
    rec(buf, &n, FCGI_REC_STDIN, id, "", 0, 0);
    return n;
}

/* Feeds buf in pieces of step bytes; returns the events seen, in order,
 * as letters (P params, R request, A abort, Y reply, E error). */
static void feed_all(struct fcgi_conn *c, const uint8_t *buf, size_t n,
                     size_t step, char *events, size_t keep)
{
    size_t off = 0, k = 0;

    while (off < n) {
        size_t len = n - off < step ? n - off : step, used = 0, p = 0;

        while (p < len) {
            int ev = fcgi_conn_feed(c, buf + off + p, len - p, &used);

            p += used;
            if (ev == FCGI_CONN_PARAMS) {
                events[k++] = 'P';
                c->body_keep = keep;
            } else if (ev == FCGI_CONN_REQUEST) {
                events[k++] = 'R';
            } else if (ev == FCGI_CONN_ABORT) {
                events[k++] = 'A';
            } else if (ev == FCGI_CONN_REPLY) {
                events[k++] = 'Y';
            } else if (ev < 0) {
                events[k++] = 'E';
                events[k] = '\0';
                return;
            }
        }
        off += len;
    }
    events[k] = '\0';
}

START_TEST(test_any_split)
{
    uint8_t buf[512];
    size_t n = request(buf, 7, 0, "hello world"), step;

    for (step = 1; step <= n; step++) {
        struct fcgi_conn c;
        char ev[16];

        fcgi_conn_init(&c, &lim);
        feed_all(&c, buf, n, step, ev, 100);
        ck_assert_msg(strcmp(ev, "PR") == 0, "step %zu: events %s, want PR",
                      step, ev);
        ck_assert_uint_eq(c.request_id, 7);
        ck_assert_str_eq(fcgi_conn_param(&c, "REQUEST_METHOD"), "GET");
        ck_assert_str_eq(fcgi_conn_param(&c, "QUERY_STRING"), "channel=a");
        ck_assert_ptr_null(fcgi_conn_param(&c, "HTTP_HOST"));
        ck_assert_uint_eq(c.body_len, 11);
        ck_assert_mem_eq(c.body, "hello world", 11);
        ck_assert(!c.keep_conn);
        fcgi_conn_free(&c);
    }
}
END_TEST

START_TEST(test_body_kept_up_to_limit)
{
    uint8_t buf[512];
    size_t n = request(buf, 1, 0, "0123456789");
    struct fcgi_conn c;
    char ev[16];

    fcgi_conn_init(&c, &lim);
    feed_all(&c, buf, n, n, ev, 4);
    ck_assert_str_eq(ev, "PR");
    ck_assert_uint_eq(c.body_len, 4);
    ck_assert_uint_eq(c.body_seen, 10);
    fcgi_conn_free(&c);
}
END_TEST

START_TEST(test_limits)
{
    static const struct fcgi_conn_limits tiny = { 16, 5 };
    uint8_t buf[512];
    size_t n = request(buf, 1, 0, "0123456789");
    struct fcgi_conn c;
    char ev[16];

    fcgi_conn_init(&c, &tiny);
    feed_all(&c, buf, n, n, ev, 100);
    ck_assert_msg(strcmp(ev, "E") == 0, "params over params_max: %s", ev);
    fcgi_conn_free(&c);

    fcgi_conn_init(&c, &(struct fcgi_conn_limits){ 4096, 5 });
    feed_all(&c, buf, n, n, ev, 100);
    ck_assert_msg(strcmp(ev, "PE") == 0, "body over its drain max: %s", ev);
    fcgi_conn_free(&c);
}
END_TEST

START_TEST(test_keep_conn_next)
{
    uint8_t buf[1024];
    size_t n = request(buf, 1, 1, "first");
    size_t n2 = request(buf + n, 2, 1, "second");
    struct fcgi_conn c;
    size_t used = 0, off = 0;
    int ev;

    fcgi_conn_init(&c, &lim);
    do {
        ev = fcgi_conn_feed(&c, buf + off, n + n2 - off, &used);
        off += used;
        if (ev == FCGI_CONN_PARAMS)
            c.body_keep = 100;
    } while (ev != FCGI_CONN_REQUEST);
    ck_assert(c.keep_conn);
    ck_assert_mem_eq(c.body, "first", 5);
    fcgi_conn_next(&c);
    do {
        ev = fcgi_conn_feed(&c, buf + off, n + n2 - off, &used);
        off += used;
        if (ev == FCGI_CONN_PARAMS)
            c.body_keep = 100;
    } while (ev != FCGI_CONN_REQUEST && ev >= 0);
    ck_assert_int_eq(ev, FCGI_CONN_REQUEST);
    ck_assert_uint_eq(c.request_id, 2);
    ck_assert_uint_eq(c.body_len, 6);
    ck_assert_mem_eq(c.body, "second", 6);
    fcgi_conn_free(&c);
}
END_TEST

START_TEST(test_management_and_mpx)
{
    uint8_t buf[256];
    uint8_t begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
    uint8_t filter[8] = { 0, 3, 0, 0, 0, 0, 0, 0 };
    size_t n = 0, used, off = 0;
    struct fcgi_conn c;
    int ev;

    rec(buf, &n, 9, 0, "\x0e\x00" "FCGI_MPXS_CONNS", 16, 0);
    rec(buf, &n, 77, 0, "", 0, 0);
    rec(buf, &n, FCGI_REC_BEGIN_REQUEST, 1, begin, 8, 0);
    rec(buf, &n, FCGI_REC_BEGIN_REQUEST, 2, begin, 8, 0);
    rec(buf, &n, FCGI_REC_BEGIN_REQUEST, 3, filter, 8, 0);
    rec(buf, &n, FCGI_REC_ABORT_REQUEST, 1, "", 0, 0);
    fcgi_conn_init(&c, &lim);

    ev = fcgi_conn_feed(&c, buf, n, &used);
    off += used;
    ck_assert_int_eq(ev, FCGI_CONN_REPLY);
    ck_assert_uint_eq(c.reply[1], 10);              /* GET_VALUES_RESULT */
    ck_assert_ptr_nonnull(memmem(c.reply, c.reply_len, "FCGI_MPXS_CONNS0",
                                 16));
    ev = fcgi_conn_feed(&c, buf + off, n - off, &used);
    off += used;
    ck_assert_int_eq(ev, FCGI_CONN_REPLY);
    ck_assert_uint_eq(c.reply[1], 11);              /* UNKNOWN_TYPE */
    ck_assert_uint_eq(c.reply[8], 77);
    ev = fcgi_conn_feed(&c, buf + off, n - off, &used);
    off += used;
    ck_assert_int_eq(ev, FCGI_CONN_REPLY);          /* request 2: no mpx */
    ck_assert_uint_eq(c.reply[1], 3);
    ck_assert_uint_eq(c.reply[3], 2);
    ck_assert_uint_eq(c.reply[12], 1);              /* CANT_MPX_CONN */
    ev = fcgi_conn_feed(&c, buf + off, n - off, &used);
    off += used;
    ck_assert_int_eq(ev, FCGI_CONN_REPLY);          /* 3, while 1 is open */
    ck_assert_uint_eq(c.reply[12], 1);
    ev = fcgi_conn_feed(&c, buf + off, n - off, &used);
    ck_assert_int_eq(ev, FCGI_CONN_ABORT);
    fcgi_conn_free(&c);

    n = 0;
    rec(buf, &n, FCGI_REC_BEGIN_REQUEST, 3, filter, 8, 0);
    fcgi_conn_init(&c, &lim);
    ev = fcgi_conn_feed(&c, buf, n, &used);
    ck_assert_int_eq(ev, FCGI_CONN_REPLY);          /* FILTER role */
    ck_assert_uint_eq(c.reply[12], 3);              /* UNKNOWN_ROLE */
    fcgi_conn_free(&c);
}
END_TEST

START_TEST(test_bad_version)
{
    uint8_t buf[8] = { 2, 1, 0, 1, 0, 0, 0, 0 };
    struct fcgi_conn c;
    size_t used;

    fcgi_conn_init(&c, &lim);
    ck_assert_int_eq(fcgi_conn_feed(&c, buf, 8, &used), -EPROTO);
    fcgi_conn_free(&c);
}
END_TEST

static Suite *fcgi_conn_suite(void)
{
    Suite *s = suite_create("fcgi_conn");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_test(core, test_any_split);
    tcase_add_test(core, test_keep_conn_next);
    tcase_add_test(core, test_management_and_mpx);
    tcase_add_test(limits, test_body_kept_up_to_limit);
    tcase_add_test(limits, test_limits);
    tcase_add_test(errors, test_bad_version);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(fcgi_conn_suite());
}
