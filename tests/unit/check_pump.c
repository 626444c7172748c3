/* check_pump.c -- Check suite "pump": sseq-stream's pump (pump*.c) run
 * in a thread of the test over a real queue, with each stream a real
 * socketpair whose far end the test reads as nginx would (FastCGI STDOUT
 * records, END_REQUEST). What a subscriber would check: each stream gets
 * exactly its channels' events in order; a resume replays exactly what
 * followed its id and then goes live without a duplicate; a client that
 * goes away is closed; a client that stops reading is dropped while one
 * on the same channel still gets every event; a silent stream gets
 * heartbeats; SIGTERM ends every stream with END_REQUEST, including one
 * the runtime hands over after it (while the intake is open). Every wait
 * is for a condition, with a deadline. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "conf/config.h"
#include "proto/fcgi_rec.h"
#include "queue/queue.h"
#include "runtime/signals.h"
#include "stream/pump.h"
#include "stream/stream_feed.h"
#include "stream/stream_out.h"
#include "stream/stream_req.h"
#include "unit_run.h"

#define PT_WAIT_MS 10000            /* the longest wait for a condition */

static struct config pt_cfg;
static char pt_queue[64];
static struct queue *pt_q;
static struct pump *pt_pump;
static pthread_t pt_thread;
static bool pt_running;

/* The far end of one stream, as the web server reads it. */
struct pt_client {
    int fd;
    char text[4 << 20];             /* STDOUT content so far */
    size_t len;
    size_t events;                  /* "data: " lines in text */
    size_t scanned;                 /* text counted so far */
    bool ended;                     /* END_REQUEST seen */
    bool eof;                       /* the pump closed the connection */
    uint8_t raw[1 << 17];           /* bytes not parsed yet (> a record) */
    size_t raw_len;
};

struct pt_env {
    const char *qs, *last_id;
};

static const char *pt_get(const char *name, void *ctx)
{
    const struct pt_env *e = ctx;

    if (strcmp(name, "DOCUMENT_URI") == 0) return "/events";
    if (strcmp(name, "REQUEST_METHOD") == 0) return "GET";
    if (strcmp(name, "QUERY_STRING") == 0) return e->qs;
    if (strcmp(name, "HTTP_LAST_EVENT_ID") == 0) return e->last_id;
    return NULL;
}

static uint64_t pt_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* SIGUSR1 pokes the tail thread out of its wait (pump_tail_stop); the
 * worker's handler reopens the log, this one does nothing. */
static void pt_on_usr1(int sig)
{
    (void)sig;
}

static void *pt_run(void *arg)
{
    static const struct pump_hooks hooks = { 0 };

    (void)arg;
    pump_run(pt_pump, &hooks);
    return NULL;
}

/* Starts a pump with these settings over a new private queue. */
static void pt_start(unsigned heartbeat, size_t client_buffer)
{
    char path[] = "/tmp/sseq-pt-XXXXXX", err[512];
    struct queue_params qp = { .size = 8u << 20, .mode = 0600 };
    struct pump_settings set = { .heartbeat = heartbeat,
                                 .client_buffer = client_buffer };
    struct sigaction sa = { .sa_handler = pt_on_usr1 };
    FILE *f;
    int fd;

    sigaction(SIGUSR1, &sa, NULL);
    ck_assert_int_eq(signals_control_block(), 0);
    snprintf(pt_queue, sizeof(pt_queue), "/sseq-test-pt-%d", (int)getpid());
    fd = mkstemp(path);
    ck_assert_msg(fd >= 0 && (f = fdopen(fd, "w")) != NULL, "temp config");
    fprintf(f, "queue: { path = \"%s\"; };\n", pt_queue);
    fclose(f);
    ck_assert_msg(config_load(&pt_cfg, path, true, err, sizeof(err)) == 0,
                  "config: %s", err);
    unlink(path);
    ck_assert_msg(queue_create(pt_queue, &qp, 1, &pt_q) == 0, "queue: %s",
                  queue_error());
    ck_assert_int_eq(pump_create(&set, &pt_pump), 0);
    pump_set_queue(pt_pump, pt_q);
    ck_assert_int_eq(pthread_create(&pt_thread, NULL, pt_run, NULL), 0);
    pt_running = true;
}

static void pt_setup(void)
{
    pt_start(0, 256 * 1024);
}

/* SIGTERM to the process: the pump ends its streams and returns. */
static void pt_stop(void)
{
    if (!pt_running)
        return;
    kill(getpid(), SIGTERM);
    pthread_join(pt_thread, NULL);
    pt_running = false;
}

static void pt_teardown(void)
{
    pt_stop();
    pump_destroy(pt_pump);
    queue_close(pt_q);
    queue_unlink(pt_queue);
    config_free(&pt_cfg);
}

/* Opens a stream of request qs (and Last-Event-ID) in the pump; cl gets
 * its far end. */
static void pt_open(struct pt_client *cl, const char *qs, const char *last)
{
    static const char head[] = "Status: 200 OK\r\n\r\n";
    struct pump_conn *c = calloc(1, sizeof(*c));
    struct pt_env e = { qs, last };
    size_t cap = stream_feed_bufsize(pt_q);
    char *rbuf = malloc(cap);
    const char *reason = NULL;
    int sv[2];

    ck_assert(c != NULL && rbuf != NULL);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                     0);
    ck_assert_msg(stream_req_parse(&c->req, &pt_cfg, pt_get, &e, &reason)
                  == 0, "request %s: %s", qs, reason);
    stream_feed_plan(pt_q, &c->req, NULL, rbuf, cap, &c->plan);
    free(rbuf);
    c->head = stream_out_buf_copy(head, sizeof(head) - 1);
    ck_assert(c->head != NULL);
    c->fd = sv[0];
    c->request_id = 1;
    memset(cl, 0, sizeof(*cl));
    cl->fd = sv[1];
    pump_submit(pt_pump, c);
}

/* Counts the "data: " lines that arrived (one may straddle records). */
static void pt_count(struct pt_client *cl)
{
    const char *p = cl->text + cl->scanned;

    while ((p = strstr(p, "data: ")) != NULL) {
        cl->events++;
        p += 6;
    }
    if (cl->len > 5 && cl->len - 5 > cl->scanned)
        cl->scanned = cl->len - 5;
}

/* Takes the whole records out of cl->raw. */
static void pt_parse(struct pt_client *cl)
{
    size_t off = 0;

    while (cl->raw_len - off >= FCGI_REC_HEADER_LEN) {
        const uint8_t *h = cl->raw + off;
        size_t clen = (size_t)h[4] << 8 | h[5], total;

        total = FCGI_REC_HEADER_LEN + clen + h[6];
        if (cl->raw_len - off < total)
            break;
        if (h[1] == FCGI_REC_STDOUT) {
            ck_assert(cl->len + clen < sizeof(cl->text));
            memcpy(cl->text + cl->len, h + FCGI_REC_HEADER_LEN, clen);
            cl->len += clen;
            cl->text[cl->len] = '\0';
            pt_count(cl);
        } else if (h[1] == FCGI_REC_END_REQUEST) {
            cl->ended = true;
        }
        off += total;
    }
    memmove(cl->raw, cl->raw + off, cl->raw_len - off);
    cl->raw_len -= off;
}

/* Reads what cl has, waiting at most ms: 1 if bytes came, 0 if none
 * did, -1 at EOF (the pump closed it). */
static int pt_read(struct pt_client *cl, int ms)
{
    struct pollfd pfd = { .fd = cl->fd, .events = POLLIN };
    ssize_t n;

    if (cl->eof)
        return -1;
    if (poll(&pfd, 1, ms) <= 0)
        return 0;
    n = read(cl->fd, cl->raw + cl->raw_len, sizeof(cl->raw) - cl->raw_len);
    if (n <= 0) {
        cl->eof = true;
        return -1;
    }
    cl->raw_len += (size_t)n;
    pt_parse(cl);
    return 1;
}

/* Reads cl until its text holds want, or fails after PT_WAIT_MS. */
static void pt_wait_text(struct pt_client *cl, const char *want)
{
    uint64_t end = pt_now_ms() + PT_WAIT_MS;

    while (strstr(cl->text, want) == NULL) {
        ck_assert_msg(pt_now_ms() < end && !cl->eof,
                      "stream never got \"%s\"; it got: %.300s", want,
                      cl->text);
        pt_read(cl, 50);
    }
}

/* Waits until the pump holds n streams. */
static void pt_wait_streams(unsigned n)
{
    uint64_t end = pt_now_ms() + PT_WAIT_MS;

    while (pump_streams(pt_pump) != n) {
        ck_assert_msg(pt_now_ms() < end, "the pump holds %u streams, not %u",
                      pump_streams(pt_pump), n);
        poll(NULL, 0, 10);
    }
}

/* Appends data to channel; its id. */
static uint64_t pt_publish(const char *channel, const char *data)
{
    struct queue_msg m = { .channel = channel,
                           .channel_len = strlen(channel),
                           .data = data, .data_len = strlen(data) };
    uint64_t id = 0;

    ck_assert_int_eq(queue_append(pt_q, &m, &id), 0);
    return id;
}

/* The "data: " lines of text, joined by spaces (static). */
static const char *pt_datas(const char *text)
{
    static char out[4096];
    const char *p = text;
    size_t n = 0;

    out[0] = '\0';
    while ((p = strstr(p, "data: ")) != NULL) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p - 6) : strlen(p + 6);

        if (n + l + 2 >= sizeof(out))
            break;
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%.*s",
                              n ? " " : "", (int)l, p + 6);
        p += 6;
    }
    return out;
}

START_TEST(test_fanout_by_channel)
{
    static struct pt_client a, ab, b;

    pt_open(&a, "channel=a", NULL);
    pt_open(&ab, "channel=a,b", NULL);
    pt_open(&b, "channel=b", NULL);
    pt_wait_streams(3);
    pt_publish("a", "a1");
    pt_publish("a", "a2");
    pt_publish("b", "b1");
    pt_publish("a", "a3");
    pt_publish("c", "c1");
    pt_publish("b", "b2");
    pt_wait_text(&a, "data: a3");
    pt_wait_text(&ab, "data: b2");
    pt_wait_text(&b, "data: b2");
    ck_assert_str_eq(pt_datas(a.text), "a1 a2 a3");
    ck_assert_str_eq(pt_datas(ab.text), "a1 a2 b1 a3 b2");
    ck_assert_str_eq(pt_datas(b.text), "b1 b2");
    close(a.fd);
    close(ab.fd);
    close(b.fd);
}
END_TEST

START_TEST(test_resume_then_live)
{
    static struct pt_client cl;
    char last[32];
    uint64_t second;

    pt_publish("a", "r1");
    second = pt_publish("a", "r2");
    pt_publish("b", "other");
    pt_publish("a", "r3");
    pt_publish("a", "r4");
    snprintf(last, sizeof(last), "%llu", (unsigned long long)second);
    pt_open(&cl, "channel=a", last);
    pt_wait_text(&cl, "data: r4");
    pt_publish("a", "live1");
    pt_wait_text(&cl, "data: live1");
    ck_assert_str_eq(pt_datas(cl.text), "r3 r4 live1");
    close(cl.fd);
}
END_TEST

START_TEST(test_client_gone_closed)
{
    static struct pt_client stay, gone;

    pt_open(&stay, "channel=a", NULL);
    pt_open(&gone, "channel=a", NULL);
    pt_wait_streams(2);
    pt_wait_text(&gone, "Status: 200");
    close(gone.fd);
    pt_wait_streams(1);
    pt_publish("a", "still");
    pt_wait_text(&stay, "data: still");
    close(stay.fd);
}
END_TEST

/* A client that stops reading is dropped (its buffer bound passed);
 * one on the same channel that keeps up (the publisher waits for it to
 * be at most PT_AHEAD events behind) gets every event in order. */
#define PT_AHEAD 32
START_TEST(test_slow_client_dropped)
{
    static struct pt_client fast, slow;
    static char data[1025];
    const char *at;
    char want[16];
    unsigned i, n = 1500;           /* 1.5 MB: past the socket and the bound */
    uint64_t end;

    pt_teardown();
    pt_start(0, 300 * 1024);        /* above a pass (PUMP_PASS_BYTES) */
    pt_open(&fast, "channel=a", NULL);
    pt_open(&slow, "channel=a", NULL);
    pt_wait_streams(2);
    memset(data, 'x', sizeof(data) - 1);
    for (i = 0; i < n; i++) {
        snprintf(data, sizeof(data), "%06u", i);
        data[6] = 'x';
        pt_publish("a", data);
        end = pt_now_ms() + PT_WAIT_MS;
        while (fast.events + PT_AHEAD < i + 1) {
            ck_assert_msg(pt_now_ms() < end && !fast.eof, "the reading "
                          "stream stopped at %zu events", fast.events);
            pt_read(&fast, 50);
        }
    }
    snprintf(want, sizeof(want), "data: %06ux", n - 1);
    pt_wait_text(&fast, want);
    pt_wait_streams(1);             /* the slow one is gone */
    ck_assert_uint_eq(fast.events, n);
    for (i = 0, at = fast.text; i < n; i++) {   /* each, in order */
        snprintf(want, sizeof(want), "data: %06ux", i);
        at = strstr(at, want);
        ck_assert_msg(at != NULL, "event %u missing or out of order", i);
    }
    while (pt_read(&slow, PT_WAIT_MS) > 0)  /* what it had, then EOF */
        ;
    ck_assert_msg(slow.eof && !slow.ended, "the slow stream was closed "
                  "without END_REQUEST");
    ck_assert_msg(slow.events < n, "the slow stream got %zu of %u",
                  slow.events, n);
    close(fast.fd);
    close(slow.fd);
}
END_TEST

START_TEST(test_heartbeat_when_silent)
{
    static struct pt_client cl;

    pt_teardown();
    pt_start(1, 256 * 1024);
    pt_open(&cl, "channel=a", NULL);
    pt_wait_text(&cl, "Status: 200 OK\r\n\r\n:\n\n");
    close(cl.fd);
}
END_TEST

START_TEST(test_sigterm_ends_streams)
{
    static struct pt_client one, two;

    pt_open(&one, "channel=a", NULL);
    pt_open(&two, "channel=b", NULL);
    pt_wait_streams(2);
    pt_publish("a", "before");
    pt_wait_text(&one, "data: before");
    pt_stop();                      /* returns once the streams ended */
    while (!one.ended && pt_read(&one, PT_WAIT_MS) > 0)
        ;
    while (!two.ended && pt_read(&two, PT_WAIT_MS) > 0)
        ;
    ck_assert_msg(one.ended && two.ended, "every stream got END_REQUEST");
    close(one.fd);
    close(two.fd);
}
END_TEST

/* The runtime may hand over a request it read before SIGTERM after the
 * pump ended every stream: while the intake is open the pump stays, and
 * that stream gets its head and END_REQUEST (a closed connection would
 * be nginx's 502); closing the intake lets pump_run return. */
START_TEST(test_intake_after_sigterm)
{
    static struct pt_client one, late;

    pump_open_intake(pt_pump);
    pt_open(&one, "channel=a", NULL);
    pt_wait_streams(1);
    kill(getpid(), SIGTERM);
    while (!one.ended && pt_read(&one, PT_WAIT_MS) > 0)
        ;
    ck_assert_msg(one.ended, "the open stream got END_REQUEST");
    pt_open(&late, "channel=a", NULL);
    while (!late.ended && pt_read(&late, PT_WAIT_MS) > 0)
        ;
    ck_assert_msg(late.ended && strstr(late.text, "Status: 200") != NULL,
                  "the stream handed over after SIGTERM got its head and "
                  "END_REQUEST; it got: %.200s%s", late.text,
                  late.eof ? " (then EOF)" : "");
    pump_close_intake(pt_pump);
    pthread_join(pt_thread, NULL);
    pt_running = false;
    close(one.fd);
    close(late.fd);
}
END_TEST

static Suite *pump_suite(void)
{
    Suite *s = suite_create("pump");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, pt_setup, pt_teardown);
    tcase_add_test(tc, test_fanout_by_channel);
    tcase_add_test(tc, test_resume_then_live);
    tcase_add_test(tc, test_client_gone_closed);
    tcase_add_test(tc, test_slow_client_dropped);
    tcase_add_test(tc, test_heartbeat_when_silent);
    tcase_add_test(tc, test_sigterm_ends_streams);
    tcase_add_test(tc, test_intake_after_sigterm);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(pump_suite());
}
