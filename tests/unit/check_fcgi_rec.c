/* check_fcgi_rec.c -- the "fcgi_rec" suite: record headers and
 * END_REQUEST are byte-exact FastCGI 1.0, the input parser finds
 * ABORT_REQUEST however the bytes are split and skips everything else,
 * and the stream_out queue frames events as STDOUT records. */
#include "ac_config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/fcgi_rec.h"
#include "stream/stream_out.h"
#include "unit_run.h"

START_TEST(test_header)
{
    uint8_t h[8];
    static const uint8_t want[8] = { 1, 6, 0x12, 0x34, 0xff, 0xff, 0, 0 };

    fcgi_rec_header(h, FCGI_REC_STDOUT, 0x1234, 65535);
    ck_assert_msg(memcmp(h, want, 8) == 0,
                  "STDOUT header must be version 1, big-endian id/length");
}
END_TEST

START_TEST(test_end_request)
{
    uint8_t e[16];
    static const uint8_t want[16] = { 1, 3, 0, 1, 0, 8, 0, 0,
                                      0, 0, 0, 0, 0, 0, 0, 0 };

    fcgi_rec_end_request(e, 1, 0);
    ck_assert_msg(memcmp(e, want, 16) == 0,
                  "END_REQUEST must carry app status 0, REQUEST_COMPLETE");
}
END_TEST

/* A record of type with n content bytes and pad padding bytes. */
static size_t rec(uint8_t *out, int type, unsigned n, unsigned pad)
{
    fcgi_rec_header(out, type, 1, n);
    out[6] = (uint8_t)pad;
    memset(out + 8, 'x', n + pad);
    return 8 + n + pad;
}

START_TEST(test_parse_split)
{
    uint8_t buf[256];
    size_t n = 0, cut;

    n += rec(buf + n, FCGI_REC_STDIN, 0, 0);
    n += rec(buf + n, FCGI_REC_STDIN, 13, 3);
    n += rec(buf + n, FCGI_REC_ABORT_REQUEST, 0, 0);
    for (cut = 0; cut <= n; cut++) {
        struct fcgi_rec_parser p = { 0 };
        int a = fcgi_rec_parse(&p, buf, cut);
        int b = a == FCGI_REC_ABORT ? a : fcgi_rec_parse(&p, buf + cut,
                                                         n - cut);

        ck_assert_msg(a == FCGI_REC_MORE || cut == n,
                      "no abort before the ABORT header is complete "
                      "(cut %zu)", cut);
        ck_assert_msg(b == FCGI_REC_ABORT,
                      "ABORT_REQUEST must be found when split at %zu", cut);
    }
}
END_TEST

START_TEST(test_parse_bad_version)
{
    uint8_t buf[8];
    struct fcgi_rec_parser p = { 0 };

    rec(buf, FCGI_REC_STDIN, 0, 0);
    buf[0] = 2;
    ck_assert_int_eq(fcgi_rec_parse(&p, buf, 8), -EPROTO);
}
END_TEST

/* Writes o through a pipe and returns what came out (NUL-terminated). */
static size_t drain(struct stream_out *o, uint8_t *out, size_t cap)
{
    int fds[2];
    ssize_t n;

    ck_assert_int_eq(pipe(fds), 0);
    fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);   /* holds the big test */
    ck_assert_int_ge(stream_out_write(o, fds[1]), 0);
    ck_assert_msg(!stream_out_pending(o), "small output must drain");
    close(fds[1]);
    n = read(fds[0], out, cap);
    close(fds[0]);
    ck_assert_int_ge(n, 0);
    return (size_t)n;
}

START_TEST(test_out_batch_one_record)
{
    struct stream_out o;
    struct stream_buf *a = stream_out_buf_copy("data: a\n\n", 9);
    struct stream_buf *b = stream_out_buf_copy("data: bb\n\n", 10);
    uint8_t out[128];
    size_t n;

    stream_out_init(&o, 7);
    ck_assert_int_eq(stream_out_data(&o, a, 0, a->len), 0);
    ck_assert_int_eq(stream_out_data(&o, b, 0, b->len), 0);
    ck_assert_int_eq(stream_out_bytes(&o, ":\n\n", 3), 0);
    ck_assert_int_eq(stream_out_end(&o), 0);
    ck_assert_uint_eq(o.queued, 8 + 22 + 16);
    n = drain(&o, out, sizeof(out));
    ck_assert_uint_eq(n, 8 + 22 + 16);
    ck_assert_msg(out[1] == FCGI_REC_STDOUT && out[3] == 7 && out[5] == 22,
                  "events queued together must share one STDOUT record");
    ck_assert_msg(memcmp(out + 8, "data: a\n\ndata: bb\n\n:\n\n", 22) == 0,
                  "content must be the events in order");
    ck_assert_msg(out[31] == FCGI_REC_END_REQUEST, "END_REQUEST last");
    ck_assert_uint_eq(a->refs, 1);
    stream_out_buf_put(a);
    stream_out_buf_put(b);
    stream_out_free(&o);
}
END_TEST

START_TEST(test_out_big_split)
{
    struct stream_out o;
    size_t big = 70000, n;
    struct stream_buf *b = stream_out_buf_new(big);
    uint8_t *out = malloc(big + 64);

    memset(b->data, 'z', big);
    stream_out_init(&o, 1);
    ck_assert_int_eq(stream_out_data(&o, b, 0, big), 0);
    n = drain(&o, out, big + 64);
    ck_assert_uint_eq(n, big + 16);
    ck_assert_msg(out[4] == 0xff && out[5] == 0xff,
                  "first record must hold 65535 bytes");
    ck_assert_msg(out[8 + 65535 + 1] == FCGI_REC_STDOUT,
                  "the rest must follow in a second record");
    stream_out_buf_put(b);
    stream_out_free(&o);
    free(out);
}
END_TEST

static Suite *fcgi_rec_suite(void)
{
    Suite *s = suite_create("fcgi_rec");
    TCase *core = tcase_create("core");

    tcase_add_test(core, test_header);
    tcase_add_test(core, test_end_request);
    tcase_add_test(core, test_parse_split);
    tcase_add_test(core, test_parse_bad_version);
    tcase_add_test(core, test_out_batch_one_record);
    tcase_add_test(core, test_out_big_split);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return unit_run(fcgi_rec_suite());
}
