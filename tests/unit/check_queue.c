/* check_queue.c -- Check suite "queue": round trips, wrap-around, index
 * lookups, overruns, limits, bad files, process slots, and several
 * processes writing, reading, waiting and dying inside the writers' lock.
 *
 * Key invariant: every record a test writes carries a checksum of its own
 * data (FNV-1a in the first 4 bytes), so any torn or garbage record a read
 * returns fails the test. Each test uses its own queue name and unlinks it. */
#include "queue/queue.h"
#include "queue/queue_msg.h"
#include "proto/sse.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "unit_run.h"

#define MIB (UINT64_C(1) << 20)

static char test_name[64];
static struct queue *test_q;
static pid_t test_runner;             /* the Check runner's pid */

/* Makes a private queue name for this test. */
static const char *test_name_make(void)
{
    static int n;

    snprintf(test_name, sizeof(test_name), "/sseq-test-%d-%d-%d",
             (int)test_runner, (int)getpid(), n++);
    return test_name;
}

/* Creates the test's queue of size bytes (max_age seconds). */
static struct queue *test_create(uint64_t size, uint32_t max_age)
{
    struct queue_params p = { .size = size, .mode = 0600,
                              .max_age = max_age };
    int rc = queue_create(test_name_make(), &p, 1, &test_q);

    ck_assert_msg(rc == 0, "queue_create(%s) should succeed, got %d: %s",
                  test_name, rc, queue_error());
    return test_q;
}

/* Removes the test's queue. */
static void test_cleanup(void)
{
    if (test_name[0] != '\0')
        queue_unlink(test_name);
    test_name[0] = '\0';
}

/* Unlinks every "sseq-test-<runner pid>-*" in dir: a failed assertion ends
 * a test's process without its teardown, so the runner sweeps after. */
static void test_sweep_dir(const char *dir)
{
    char prefix[64], path[512];
    struct dirent *e;
    DIR *d = opendir(dir);

    if (d == NULL)
        return;
    snprintf(prefix, sizeof(prefix), "sseq-test-%d-", (int)test_runner);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static void test_sweep(void)
{
    test_sweep_dir("/dev/shm");
    test_sweep_dir("/tmp");
}

static void test_teardown(void)
{
    if (test_q != NULL)
        queue_close(test_q);
    test_q = NULL;
    test_cleanup();
}

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;

    while (n--)
        h = (h ^ (unsigned char)*p++) * 16777619u;
    return h;
}

/* The low 16 bits of h as 4 letters 'a'..'p' (data must be UTF-8). */
static void sum_text(char *out, uint32_t h)
{
    int i;

    for (i = 0; i < 4; i++)
        out[i] = (char)('a' + ((h >> (4 * i)) & 15));
}

/* Fills buf[0..n) (n >= 4) with a payload of printable ASCII: checksum,
 * then bytes from seed. */
static void payload_make(char *buf, size_t n, uint32_t seed)
{
    size_t i;

    for (i = 4; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (char)(' ' + (seed >> 16) % 95);
    }
    sum_text(buf, fnv1a(buf + 4, n - 4));
}

/* 1 if the payload's checksum matches. */
static int payload_ok(const char *buf, size_t n)
{
    char sum[4];

    if (n < 4)
        return 0;
    sum_text(sum, fnv1a(buf + 4, n - 4));
    return memcmp(sum, buf, 4) == 0;
}

/* Appends a checksummed record of n data bytes on channel "c". */
static int append_sum(struct queue *q, size_t n, uint32_t seed, uint64_t *id)
{
    char buf[65536];
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .data = buf, .data_len = n };

    payload_make(buf, n, seed);
    return queue_append(q, &m, id);
}

/* A child's exit status: 0 = passed. */
static int child_status(pid_t pid)
{
    int st;

    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

START_TEST(test_round_trip)
{
    struct queue *q = test_create(MIB, 0);
    struct queue_msg m = { .channel = "news", .channel_len = 4,
                           .event = "update", .event_len = 6,
                           .data = "hello", .data_len = 5 };
    struct queue_record r;
    struct queue_stats st;
    uint64_t id, cur, oldest, next;
    struct timespec t0;
    char buf[256];

    clock_gettime(CLOCK_REALTIME, &t0);
    queue_get_stats(q, &st);
    ck_assert_msg(queue_append(q, &m, &id) == 0, "append should succeed");
    ck_assert_msg(id == st.created_us, "first id should be creation time");
    queue_bounds(q, &oldest, &next);
    ck_assert_msg(oldest == id && next == id + 1,
                  "bounds should be [id, id+1)");
    cur = id;
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == 0,
                  "read should return the record");
    ck_assert_msg(r.id == id && cur == id + 1, "read should advance cursor");
    ck_assert_msg(r.channel_len == 4 && !memcmp(r.channel, "news", 4),
                  "channel should round-trip");
    ck_assert_msg(r.event_len == 6 && !memcmp(r.event, "update", 6),
                  "event should round-trip");
    ck_assert_msg(r.data_len == 5 && !memcmp(r.data, "hello", 5),
                  "data should round-trip");
    ck_assert_msg(r.time_us / 1000000 >= (uint64_t)t0.tv_sec &&
                  r.time_us / 1000000 <= (uint64_t)t0.tv_sec + 60,
                  "publish time should be now");
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == QUEUE_EMPTY,
                  "a second read should be QUEUE_EMPTY");
}
END_TEST

START_TEST(test_no_event)
{
    struct queue *q = test_create(MIB, 0);
    struct queue_msg m = { .channel = "a", .channel_len = 1 };
    struct queue_record r;
    uint64_t id, cur;
    char buf[64];

    ck_assert_msg(queue_append(q, &m, &id) == 0, "empty data is allowed");
    cur = id;
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == 0 &&
                  r.event_len == 0 && r.data_len == 0,
                  "a record without event and data should round-trip");
    ck_assert_msg(queue_read(q, &cur, &r, buf, 0) == QUEUE_EMPTY,
                  "then the queue should be empty");
}
END_TEST

/* Collects r's topics with queue_record_next_topic into out (max n). */
static size_t topics_of(const struct queue_record *r, const char **t,
                        size_t *len, size_t n)
{
    size_t pos = 0, k = 0;

    while (k < n && queue_record_next_topic(r, &pos, &t[k], &len[k]))
        k++;
    return k;
}

START_TEST(test_mercure_round_trip)
{
    struct queue *q = test_create(MIB, 0);
    const char *alt[] = { "https://example.com/books/{id}", "urn:x" };
    size_t alt_len[] = { 30, 5 }, tlen[4];
    struct queue_msg m = { .channel = "https://example.com/books/1",
                           .channel_len = 27, .data = "{}", .data_len = 2,
                           .event = "upd", .event_len = 3,
                           .alt = alt, .alt_len = alt_len, .n_alt = 2,
                           .pub_id = "urn:uuid:1", .pub_id_len = 10,
                           .retry_ms = 1500, .flags = QUEUE_MSG_PRIVATE };
    struct queue_record r;
    const char *t[4];
    uint64_t id, cur;
    char buf[512];

    ck_assert_msg(queue_append(q, &m, &id) == 0, "append should succeed");
    cur = id;
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == 0,
                  "read should return the record");
    ck_assert_msg(r.channel_len == 27 &&
                  !memcmp(r.channel, "https://example.com/books/1", 27),
                  "the canonical topic should round-trip");
    ck_assert_msg(r.n_alt == 2 && r.alt_len == 37 &&
                  !memcmp(r.alt, "https://example.com/books/{id}\0urn:x\0",
                          37), "alternates should come back packed");
    ck_assert_msg(r.pub_id_len == 10 && !memcmp(r.pub_id, "urn:uuid:1", 10),
                  "the publisher id should round-trip");
    ck_assert_msg(r.retry_ms == 1500 && r.flags == QUEUE_MSG_PRIVATE,
                  "retry and the private flag should round-trip");
    ck_assert_msg(r.event_len == 3 && !memcmp(r.event, "upd", 3) &&
                  r.data_len == 2 && !memcmp(r.data, "{}", 2),
                  "event and data should round-trip");
    ck_assert_msg(topics_of(&r, t, tlen, 4) == 3, "three topics expected");
    ck_assert_msg(tlen[0] == 27 && t[0] == r.channel && tlen[1] == 30 &&
                  !memcmp(t[1], alt[0], 30) && tlen[2] == 5 &&
                  !memcmp(t[2], "urn:x", 5),
                  "the iterator should give channel then alternates");
}
END_TEST

START_TEST(test_mercure_defaults)
{
    struct queue *q = test_create(MIB, 0);
    struct queue_msg m = { .channel = "c", .channel_len = 1 };
    struct queue_record r;
    size_t tlen[2];
    const char *t[2];
    uint64_t id, cur;
    char buf[64];

    ck_assert_msg(queue_append(q, &m, &id) == 0, "append should succeed");
    cur = id;
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == 0,
                  "read should return the record");
    ck_assert_msg(r.n_alt == 0 && r.alt_len == 0 && r.pub_id_len == 0 &&
                  r.pub_id == NULL && r.retry_ms == 0 && r.flags == 0,
                  "zeroed new fields should read back as none");
    ck_assert_msg(topics_of(&r, t, tlen, 2) == 1 && tlen[0] == 1,
                  "a record without alternates has one topic");
}
END_TEST

START_TEST(test_mercure_max)
{
    struct queue *q = test_create(MIB, 0);
    static char topic[QUEUE_TOPICS_MAX + 1][QUEUE_TOPIC_MAX];
    static char rbuf[256 * 1024];
    const char *alt[QUEUE_TOPICS_MAX];
    size_t alt_len[QUEUE_TOPICS_MAX], tlen[QUEUE_TOPICS_MAX + 2];
    const char *t[QUEUE_TOPICS_MAX + 2];
    char ev[SSE_EVENT_MAX], pub[QUEUE_MSG_ID_MAX];
    struct queue_msg m = { .channel = topic[0],
                           .channel_len = QUEUE_TOPIC_MAX,
                           .event = ev, .event_len = sizeof(ev),
                           .alt = alt, .alt_len = alt_len,
                           .n_alt = QUEUE_TOPICS_MAX, .pub_id = pub,
                           .pub_id_len = sizeof(pub),
                           .retry_ms = UINT32_MAX, .data = "d",
                           .data_len = 1 };
    struct queue_record r;
    uint64_t id, cur;
    size_t i, n;

    for (i = 0; i <= QUEUE_TOPICS_MAX; i++)
        memset(topic[i], 'a' + (int)(i % 26), QUEUE_TOPIC_MAX);
    for (i = 0; i < QUEUE_TOPICS_MAX; i++) {
        alt[i] = topic[i + 1];
        alt_len[i] = QUEUE_TOPIC_MAX;
    }
    memset(ev, 'e', sizeof(ev));
    memset(pub, 'p', sizeof(pub));
    ck_assert_msg(queue_max_payload(q) > 140000, "1 MiB holds the maximum");
    ck_assert_msg(queue_append(q, &m, &id) == 0,
                  "a record with every field at its maximum should fit");
    cur = id;
    ck_assert_msg(queue_read(q, &cur, &r, rbuf, sizeof(rbuf)) == 0,
                  "the maximal record should read back");
    n = topics_of(&r, t, tlen, QUEUE_TOPICS_MAX + 2);
    ck_assert_msg(n == QUEUE_TOPICS_MAX + 1, "33 topics, got %zu", n);
    for (i = 0; i < n; i++)
        ck_assert_msg(tlen[i] == QUEUE_TOPIC_MAX &&
                      !memcmp(t[i], topic[i], QUEUE_TOPIC_MAX),
                      "topic %zu should round-trip", i);
    ck_assert_msg(r.pub_id_len == sizeof(pub) &&
                  !memcmp(r.pub_id, pub, sizeof(pub)) &&
                  r.event_len == sizeof(ev) &&
                  r.retry_ms == UINT32_MAX && r.data_len == 1 &&
                  r.data[0] == 'd', "pub id, event, retry and data too");
}
END_TEST

/* Expects queue_append(m) to be -EINVAL, saying why. */
static void expect_einval(struct queue *q, const struct queue_msg *m,
                          const char *what)
{
    uint64_t id;
    int rc = queue_append(q, m, &id);

    ck_assert_msg(rc == -EINVAL, "%s should be -EINVAL, got %d", what, rc);
}

START_TEST(test_mercure_refused)
{
    struct queue *q = test_create(MIB, 0);
    static char topic[QUEUE_TOPIC_MAX + 1];
    const char *alt[QUEUE_TOPICS_MAX + 1];
    size_t alt_len[QUEUE_TOPICS_MAX + 1], i;
    char pub[QUEUE_MSG_ID_MAX + 1];
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .alt = alt, .alt_len = alt_len };
    struct queue_stats st;

    memset(topic, 't', sizeof(topic));
    memset(pub, 'p', sizeof(pub));
    for (i = 0; i <= QUEUE_TOPICS_MAX; i++) {
        alt[i] = topic;
        alt_len[i] = 1;
    }
    m.n_alt = QUEUE_TOPICS_MAX + 1;
    expect_einval(q, &m, "33 alternates");
    m.n_alt = 1;
    alt_len[0] = QUEUE_TOPIC_MAX + 1;
    expect_einval(q, &m, "a 4097-byte alternate");
    alt_len[0] = 0;
    expect_einval(q, &m, "an empty alternate");
    alt[0] = "a\0b";
    alt_len[0] = 3;
    expect_einval(q, &m, "an alternate with a NUL");
    alt[0] = topic;
    alt_len[0] = 1;
    m.channel = topic;
    m.channel_len = QUEUE_TOPIC_MAX + 1;
    expect_einval(q, &m, "a 4097-byte channel");
    m.channel_len = QUEUE_TOPIC_MAX;
    m.pub_id = pub;
    m.pub_id_len = QUEUE_MSG_ID_MAX + 1;
    expect_einval(q, &m, "a 129-byte publisher id");
    m.pub_id_len = 0;
    m.flags = 2;
    expect_einval(q, &m, "an unknown flag");
    m.flags = 0;
    m.alt = NULL;
    expect_einval(q, &m, "alternates counted but not given");
    queue_get_stats(q, &st);
    ck_assert_msg(st.appends == 0, "refused messages should append nothing");
}
END_TEST

/* Appends a record on "c" with publisher id pub (NULL = none). */
static uint64_t append_pub(struct queue *q, const char *pub)
{
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .data = "0123456789", .data_len = 10,
                           .pub_id = pub, .pub_id_len = pub ? strlen(pub)
                                                            : 0 };
    uint64_t id;

    ck_assert_msg(queue_append(q, &m, &id) == 0, "append should work");
    return id;
}

START_TEST(test_find_pub_id)
{
    struct queue *q = test_create(16384, 0);
    uint64_t a, b1, b2, got = 0;
    int i;

    a = append_pub(q, "urn:a");
    b1 = append_pub(q, "urn:b");
    append_pub(q, NULL);
    b2 = append_pub(q, "urn:b");
    append_pub(q, "urn:bb");
    ck_assert_msg(queue_find_pub_id(q, "urn:a", 5, &got) == 0 && got == a,
                  "urn:a should be found at its id");
    ck_assert_msg(queue_find_pub_id(q, "urn:b", 5, &got) == 0 && got == b2,
                  "the newest record with urn:b should win");
    ck_assert_msg(b1 < b2, "ids grow");
    ck_assert_msg(queue_find_pub_id(q, "urn:c", 5, &got) == -ENOENT,
                  "an unknown publisher id should be -ENOENT");
    ck_assert_msg(queue_find_pub_id(q, "urn:", 4, &got) == -ENOENT,
                  "a prefix should not match");
    for (i = 0; i < 2000; i++)
        append_pub(q, NULL);
    ck_assert_msg(queue_find_pub_id(q, "urn:a", 5, &got) == -ENOENT,
                  "an evicted record should be -ENOENT");
}
END_TEST

/* Reads everything after *cur; checks checksums and id order. */
static void drain_check(struct queue *q, uint64_t *cur, char *buf,
                        size_t cap, int *overruns)
{
    struct queue_record r;
    int rc;

    while ((rc = queue_read(q, cur, &r, buf, cap)) != QUEUE_EMPTY) {
        if (rc == QUEUE_OVERRUN) {
            (*overruns)++;
            continue;
        }
        ck_assert_msg(rc == 0, "read should succeed, got %d", rc);
        ck_assert_msg(r.id + 1 == *cur, "cursor should follow the id");
        ck_assert_msg(payload_ok(r.data, r.data_len),
                      "record %llu should have an intact checksum",
                      (unsigned long long)r.id);
    }
}

START_TEST(test_wrap)
{
    struct queue *q = test_create(16384, 0);
    size_t max = queue_max_payload(q) - 1, total = 0;
    uint64_t cur, id, next;
    struct queue_stats st;
    int i, overruns = 0;
    char buf[65536];

    queue_bounds(q, &cur, &next);
    srand(7);
    for (i = 0; i < 20000; i++) {
        size_t n = 4 + (size_t)rand() % (max - 4);

        ck_assert_msg(append_sum(q, n, (uint32_t)i, &id) == 0,
                      "append of %zu bytes should succeed", n);
        total += n;
        if (rand() % 4 == 0)
            drain_check(q, &cur, buf, sizeof(buf), &overruns);
    }
    drain_check(q, &cur, buf, sizeof(buf), &overruns);
    queue_get_stats(q, &st);
    ck_assert_msg(total > 100 * st.ring_size, "the ring should wrap often");
    ck_assert_msg(st.bytes_used <= st.ring_size, "used should fit the ring");
    ck_assert_msg(cur == id + 1, "the reader should reach the end");
}
END_TEST

START_TEST(test_index_lookup)
{
    struct queue *q = test_create(16 * MIB, 0);
    struct queue_record r;
    uint64_t first, id, cur, k;
    char buf[256];
    struct queue_msg m = { .channel = "idx", .channel_len = 3, .data = buf };

    for (k = 0; k < 100000; k++) {
        m.data_len = (size_t)snprintf(buf, sizeof(buf), "n=%llu",
                                      (unsigned long long)k);
        ck_assert_msg(queue_append(q, &m, &id) == 0, "append should work");
        if (k == 0)
            first = id;
    }
    for (k = 0; k < 100000; k++) {
        uint64_t want = first + (k * 7919) % 100000;
        char exp[32];
        int n = snprintf(exp, sizeof(exp), "n=%llu",
                         (unsigned long long)(want - first));

        cur = want;
        ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == 0,
                      "id %llu should be found", (unsigned long long)want);
        ck_assert_msg(r.id == want && r.data_len == (size_t)n &&
                      !memcmp(r.data, exp, (size_t)n),
                      "lookup of %llu should return that record",
                      (unsigned long long)want);
    }
}
END_TEST

START_TEST(test_stats)
{
    struct queue *q = test_create(MIB, 30);
    struct queue_stats st;
    uint64_t id;
    int i;

    for (i = 0; i < 10; i++)
        ck_assert_msg(append_sum(q, 40, 1, &id) == 0, "append should work");
    queue_get_stats(q, &st);
    ck_assert_msg(st.appends == 10 && st.records == 10,
                  "stats should count 10 appends and records");
    ck_assert_msg(st.newest_id == id && st.oldest_id == id - 9,
                  "stats should bound the ids");
    ck_assert_msg(st.max_age == 30 && st.version >= 1 && st.recovered == 0,
                  "stats should carry max_age and version");
    ck_assert_msg(st.file_size == MIB && st.bytes_used > 400,
                  "stats should carry sizes");
}
END_TEST

START_TEST(test_too_big)
{
    struct queue *q = test_create(64 * 1024, 0);
    size_t max = queue_max_payload(q);
    char *big = calloc(1, 1 << 20);
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .data = big, .data_len = max };
    char chan[QUEUE_TOPIC_MAX + 8];
    uint64_t id;

    ck_assert_msg(max > 1000 && max < 64 * 1024 / 4,
                  "max payload should be about ring/4");
    ck_assert_msg(queue_append(q, &m, &id) == -EMSGSIZE,
                  "channel+data over max payload should be -EMSGSIZE");
    m.data_len = 1 << 20;
    ck_assert_msg(queue_append(q, &m, &id) == -EMSGSIZE,
                  "a record larger than the ring should be -EMSGSIZE");
    m.data_len = max - 1;
    ck_assert_msg(queue_append(q, &m, &id) == 0,
                  "a record of exactly max payload should fit");
    m.data_len = 1;
    m.channel_len = 0;
    ck_assert_msg(queue_append(q, &m, &id) == -EINVAL,
                  "an empty channel should be -EINVAL");
    memset(chan, 'x', sizeof(chan));
    m.channel = chan;
    m.channel_len = QUEUE_TOPIC_MAX + 1;
    ck_assert_msg(queue_append(q, &m, &id) == -EINVAL,
                  "a channel over QUEUE_TOPIC_MAX should be -EINVAL");
    free(big);
}
END_TEST

START_TEST(test_small_buffer)
{
    struct queue *q = test_create(MIB, 0);
    struct queue_record r;
    uint64_t id, cur;
    char buf[16];

    ck_assert_msg(append_sum(q, 100, 3, &id) == 0, "append should work");
    cur = id;
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == -ENOBUFS,
                  "a too-small buffer should be -ENOBUFS");
    ck_assert_msg(cur == id, "-ENOBUFS should not move the cursor");
}
END_TEST

START_TEST(test_overrun_simple)
{
    struct queue *q = test_create(16384, 0);
    struct queue_record r;
    uint64_t first, id, cur, oldest, next;
    char buf[4096];
    int i;

    ck_assert_msg(append_sum(q, 200, 0, &first) == 0, "append should work");
    for (i = 1; i < 500; i++)
        ck_assert_msg(append_sum(q, 200, (uint32_t)i, &id) == 0,
                      "append should work");
    cur = first;
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == QUEUE_OVERRUN,
                  "a lapped reader should get QUEUE_OVERRUN");
    queue_bounds(q, &oldest, &next);
    ck_assert_msg(cur == oldest && oldest > first,
                  "the cursor should move to the oldest retained id");
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == 0 &&
                  r.id == oldest && payload_ok(r.data, r.data_len),
                  "the oldest retained record should then be readable");
    cur = first - 1000000;
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == QUEUE_OVERRUN
                  && cur == oldest, "an ancient id should be an overrun");
}
END_TEST

/* Child: appends checksummed records of random size as fast as it can. */
static void overrun_writer(const char *name, int n)
{
    struct queue *q;
    uint64_t id;
    int i;

    if (queue_open(name, &q) < 0)
        _exit(2);
    for (i = 0; i < n; i++)
        if (append_sum(q, 4 + (size_t)(i * 37) % 900, (uint32_t)i, &id) < 0)
            _exit(3);
    queue_close(q);
    _exit(0);
}

START_TEST(test_overrun_concurrent)
{
    struct queue *q = test_create(16384, 0);
    uint64_t cur, next;
    int overruns = 0, reads = 0;
    char buf[4096];
    pid_t pid;

    queue_bounds(q, &cur, &next);
    if ((pid = fork()) == 0)
        overrun_writer(test_name, 300000);
    ck_assert_msg(pid > 0, "fork should succeed");
    while (waitpid(pid, NULL, WNOHANG) == 0) {
        struct queue_record r;
        int rc = queue_read(q, &cur, &r, buf, sizeof(buf));

        if (rc == QUEUE_OVERRUN)
            overruns++;
        ck_assert_msg(rc == 0 || rc == QUEUE_OVERRUN || rc == QUEUE_EMPTY,
                      "read should not fail, got %d", rc);
        ck_assert_msg(rc != 0 || payload_ok(r.data, r.data_len),
                      "a record read under overwrite should be intact");
        reads += rc == 0;
    }
    ck_assert_msg(reads > 0, "the reader should have read records");
}
END_TEST

START_TEST(test_max_age)
{
    struct queue *q = test_create(MIB, 1);
    struct queue_record r;
    uint64_t first, id, cur, oldest, next;
    char buf[256];

    ck_assert_msg(append_sum(q, 10, 1, &first) == 0, "append should work");
    usleep(2100 * 1000);
    cur = first;
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == QUEUE_OVERRUN,
                  "a record older than max_age should be gone");
    ck_assert_msg(cur == first + 1, "the cursor should skip expired records");
    ck_assert_msg(append_sum(q, 10, 2, &id) == 0, "append should work");
    queue_bounds(q, &oldest, &next);
    ck_assert_msg(oldest == id, "append should evict expired records");
    ck_assert_msg(queue_read(q, &cur, &r, buf, sizeof(buf)) == 0 &&
                  r.id == id, "a fresh record should be readable");
}
END_TEST

START_TEST(test_min_size)
{
    struct queue_params p = { .size = 4096, .mode = 0600 };
    struct queue *q;

    ck_assert_msg(queue_create(test_name_make(), &p, 1, &q) == -EINVAL,
                  "a queue too small for header and ring should be -EINVAL");
    ck_assert_msg(queue_open(test_name, &q) == -ENOENT,
                  "a refused create should leave nothing behind");
}
END_TEST

/* Makes a file-backed queue path under /tmp for this test. */
static const char *test_file_make(void)
{
    static int n;

    snprintf(test_name, sizeof(test_name), "/tmp/sseq-test-%d-%d-f%d",
             (int)test_runner, (int)getpid(), n++);
    return test_name;
}

/* Asserts that opening path fails with -EPROTO and a message naming it. */
static void expect_eproto(const char *path, const char *what)
{
    struct queue *q;
    int rc = queue_open(path, &q);

    ck_assert_msg(rc == -EPROTO, "%s should be -EPROTO, got %d", what, rc);
    ck_assert_msg(strstr(queue_error(), path) != NULL,
                  "the error for %s should name the path: %s", what,
                  queue_error());
}

/* Creates a file-backed queue, closes it, and returns an fd on the file. */
static int test_file_queue(void)
{
    struct queue_params p = { .size = MIB, .mode = 0600 };
    struct queue *q;
    int fd;

    ck_assert_msg(queue_create(test_file_make(), &p, 1, &q) == 0,
                  "file-backed create should work: %s", queue_error());
    queue_close(q);
    fd = open(test_name, O_RDWR);
    ck_assert_msg(fd >= 0, "the queue file should exist");
    return fd;
}

START_TEST(test_bad_magic)
{
    int fd = open(test_file_make(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    char junk[65536];

    memset(junk, 'J', sizeof(junk));
    ck_assert_msg(write(fd, junk, sizeof(junk)) == sizeof(junk), "write");
    close(fd);
    expect_eproto(test_name, "a file of junk");
}
END_TEST

START_TEST(test_bad_version)
{
    int fd = test_file_queue();
    uint32_t v = 99;

    /* The layout version is the u32 after the u64 magic. */
    ck_assert_msg(pwrite(fd, &v, 4, 8) == 4, "pwrite");
    close(fd);
    expect_eproto(test_name, "another layout version");
    ck_assert_msg(strstr(queue_error(), "version") != NULL &&
                  strstr(queue_error(), "sseq create --force") != NULL,
                  "the error should say version and how to re-create: %s",
                  queue_error());
}
END_TEST

START_TEST(test_bad_size)
{
    int fd = test_file_queue();

    ck_assert_msg(ftruncate(fd, (off_t)(MIB + 4096)) == 0, "ftruncate");
    close(fd);
    expect_eproto(test_name, "a grown file");
}
END_TEST

START_TEST(test_truncated)
{
    int fd = test_file_queue();

    ck_assert_msg(ftruncate(fd, 100) == 0, "ftruncate");
    close(fd);
    expect_eproto(test_name, "a truncated file");
    fd = open(test_name, O_RDWR | O_TRUNC);
    close(fd);
    expect_eproto(test_name, "an empty file");
}
END_TEST

START_TEST(test_missing_and_bad_path)
{
    struct queue_params p = { .size = MIB };
    struct queue *q;

    ck_assert_msg(queue_open(test_name_make(), &q) == -ENOENT,
                  "opening a missing queue should be -ENOENT");
    ck_assert_msg(strstr(queue_error(), test_name) != NULL,
                  "the error should name the path");
    ck_assert_msg(queue_create("noslash", &p, 0, &q) == -EINVAL,
                  "a name without '/' should be -EINVAL");
}
END_TEST

START_TEST(test_no_clobber)
{
    struct queue_params p = { .size = MIB, .mode = 0600 };
    struct queue *q2;

    test_create(MIB, 0);
    ck_assert_msg(queue_create(test_name, &p, 0, &q2) == -EEXIST,
                  "create over an existing queue should be -EEXIST");
    ck_assert_msg(queue_create(test_name, &p, 1, &q2) == 0,
                  "create with force should replace it");
    queue_close(q2);
}
END_TEST

/* Creates path with mode under a hostile umask; returns the file's mode. */
static unsigned mode_of_created(const char *path, unsigned mode)
{
    struct queue_params p = { .size = MIB, .mode = mode };
    char dev[128];
    struct queue *q;
    struct stat st;

    umask(mode == 0 ? 0 : 0077);
    ck_assert_msg(queue_create(path, &p, 1, &q) == 0, "create should work");
    queue_close(q);
    snprintf(dev, sizeof(dev), "%s%s", path[0] == '/' &&
             !strchr(path + 1, '/') ? "/dev/shm" : "", path);
    ck_assert_msg(stat(dev, &st) == 0, "the object should exist at %s", dev);
    return st.st_mode & 07777;
}

/* A queue file another user could write, or owned by someone but root,
 * this user and the trusted owner, is refused with the owner and the fix
 * named; trusting that owner lets it open. */
START_TEST(test_untrusted_owner)
{
    char file[96];
    struct queue *q;
    uid_t other = geteuid() == 65534 ? 65533 : 65534;
    int rc;

    test_create(MIB, 0);
    queue_close(test_q);
    test_q = NULL;
    snprintf(file, sizeof(file), "/dev/shm%s", test_name);
    ck_assert_int_eq(chmod(file, 0606), 0);
    rc = queue_open(test_name, &q);
    ck_assert_msg(rc == -EPERM && strstr(queue_error(), "writable by every "
                  "user (mode 0606)") && strstr(queue_error(), "chmod o-w"),
                  "o+w should be refused naming the mode and the fix, got "
                  "%d: %s", rc, queue_error());
    ck_assert_int_eq(chmod(file, 0600), 0);
    if (geteuid() != 0)
        return;                 /* only root can give the file away */
    ck_assert_int_eq(chown(file, other, (gid_t)-1), 0);
    queue_trust_owner((uid_t)-1);
    rc = queue_open(test_name, &q);
    ck_assert_msg(rc == -EPERM && strstr(queue_error(), "is owned by ") &&
                  strstr(queue_error(), "queue.owner = "),
                  "a foreign owner should be refused naming it and the fix, "
                  "got %d: %s", rc, queue_error());
    queue_trust_owner(other);
    ck_assert_msg(queue_open(test_name, &q) == 0, "the trusted owner's "
                  "queue should open: %s", queue_error());
    queue_close(q);
    queue_trust_owner((uid_t)-1);
}
END_TEST

START_TEST(test_mode)
{
    ck_assert_msg(mode_of_created(test_name_make(), 0) == 0600,
                  "the default mode should be 0600 whatever the umask");
    queue_unlink(test_name);
    ck_assert_msg(mode_of_created(test_name_make(), 0660) == 0660,
                  "mode 0660 should be honoured despite umask 077");
    queue_unlink(test_name);
    ck_assert_msg(mode_of_created(test_file_make(), 0640) == 0640,
                  "a file-backed queue should get its mode too");
}
END_TEST

START_TEST(test_proc_slots)
{
    struct queue *q = test_create(MIB, 0);
    struct queue_proc_counters c = { 1, 2, 3, 4, 5 };
    struct queue_proc_info info[QUEUE_PROC_SLOTS];
    int a, b, i, n;
    pid_t pid;

    a = queue_proc_claim(q, "stream");
    ck_assert_msg(a >= 0, "claim should give a slot");
    queue_proc_update(q, a, &c);
    n = queue_proc_list(q, info, QUEUE_PROC_SLOTS);
    ck_assert_msg(n == 1 && info[0].pid == getpid() &&
                  !strcmp(info[0].role, "stream") && info[0].c.bytes == 5 &&
                  info[0].c.streams == 1 && info[0].started_us > 0,
                  "list should show our slot with its counters");
    if ((pid = fork()) == 0)
        _exit(queue_proc_claim(q, "dead") >= 0 ? 0 : 1);
    ck_assert_msg(child_status(pid) == 0, "the child should claim a slot");
    n = queue_proc_list(q, info, QUEUE_PROC_SLOTS);
    ck_assert_msg(n == 1, "a dead pid's slot should not be listed");
    b = queue_proc_claim(q, "publish");
    ck_assert_msg(b == a + 1, "the dead pid's slot should be reclaimed");
    queue_proc_release(q, a);
    n = queue_proc_list(q, info, QUEUE_PROC_SLOTS);
    ck_assert_msg(n == 1 && !strcmp(info[0].role, "publish"),
                  "a released slot should not be listed");
    for (i = 0; i < QUEUE_PROC_SLOTS - 1; i++)
        ck_assert_msg(queue_proc_claim(q, "x") >= 0, "slots should remain");
    ck_assert_msg(queue_proc_claim(q, "x") == -ENOSPC,
                  "a full table should be -ENOSPC");
}
END_TEST

/* Fills n with i * 10 + k. */
static void proc_refused_fill(uint32_t n[QUEUE_PROC_REFUSALS], uint32_t k)
{
    for (int i = 0; i < QUEUE_PROC_REFUSALS; i++)
        n[i] = (uint32_t)i * 10 + k;
}

START_TEST(test_proc_refused)
{
    struct queue *q = test_create(MIB, 0);
    struct queue_proc_counters c = { 1, 2, 3, 4, 5 };
    struct queue_proc_info info[QUEUE_PROC_SLOTS];
    uint32_t n[QUEUE_PROC_REFUSALS];
    int a, i;
    pid_t pid;

    proc_refused_fill(n, 1);
    queue_proc_set_refused(q, n);
    a = queue_proc_claim(q, "stream");
    ck_assert_msg(a >= 0, "claim should give a slot");
    ck_assert_int_eq(queue_proc_list(q, info, QUEUE_PROC_SLOTS), 1);
    for (i = 0; i < QUEUE_PROC_REFUSALS; i++)
        ck_assert_msg(info[0].refused[i] == 0, "a new slot should count no "
                      "refusals (before a claim nothing is stored)");
    queue_proc_update(q, a, &c);
    queue_proc_set_refused(q, n);
    ck_assert_int_eq(queue_proc_list(q, info, QUEUE_PROC_SLOTS), 1);
    for (i = 0; i < QUEUE_PROC_REFUSALS; i++)
        ck_assert_msg(info[0].refused[i] == (uint32_t)i * 10 + 1,
                      "refused[%d] should be %d, got %u", i, i * 10 + 1,
                      info[0].refused[i]);
    ck_assert_msg(info[0].c.streams == 1 && info[0].c.bytes == 5,
                  "the refusal counters should leave the others alone");
    if ((pid = fork()) == 0) {
        uint32_t m[QUEUE_PROC_REFUSALS];

        proc_refused_fill(m, 7);
        queue_proc_set_refused(q, m);   /* the parent's slot: not ours */
        _exit(0);
    }
    ck_assert_msg(child_status(pid) == 0, "the child should exit 0");
    ck_assert_int_eq(queue_proc_list(q, info, QUEUE_PROC_SLOTS), 1);
    ck_assert_msg(info[0].refused[3] == 31, "a forked child should not "
                  "write its parent's slot, got %u", info[0].refused[3]);
    queue_proc_release(q, a);
    proc_refused_fill(n, 2);
    queue_proc_set_refused(q, n);
    a = queue_proc_claim(q, "publish");
    ck_assert_int_eq(queue_proc_list(q, info, QUEUE_PROC_SLOTS), 1);
    for (i = 0; i < QUEUE_PROC_REFUSALS; i++)
        ck_assert_msg(info[0].refused[i] == 0, "a reclaimed slot should "
                      "start at zero, refused[%d] = %u", i,
                      info[0].refused[i]);
}
END_TEST

/* The fan-out position a pump stores and what publishers list from it:
 * only slots that report one, records behind, nothing after release. */
START_TEST(test_proc_fanout)
{
    struct queue *q = test_create(MIB, 0);
    struct queue_proc_counters c = { .streams = 1 };
    struct queue_fanout f[QUEUE_PROC_SLOTS];
    uint64_t first, id;
    int a, b;

    b = queue_proc_claim(q, "publish");     /* reports no fan-out */
    a = queue_proc_claim(q, "stream");      /* the handle's own slot */
    ck_assert_msg(a >= 0 && b >= 0, "claims should give slots");
    queue_proc_update(q, a, &c);
    ck_assert_int_eq(append_sum(q, 16, 1, &first), 0);
    ck_assert_int_eq(append_sum(q, 16, 2, &id), 0);
    ck_assert_int_eq(append_sum(q, 16, 3, &id), 0);
    ck_assert_msg(queue_fanout_list(q, 0, f, QUEUE_PROC_SLOTS) == 0,
                  "no slot reports a fan-out before a pump stores one");
    queue_proc_fanout(q, first);
    ck_assert_msg(queue_fanout_list(q, 0, f, QUEUE_PROC_SLOTS) == 1,
                  "the pump's slot (only) should be listed");
    ck_assert_msg(f[0].pid == getpid() && f[0].alive && f[0].streams == 1 &&
                  f[0].behind == 3, "pid %d alive with 1 stream and 3 "
                  "records behind; got pid %d alive %d streams %llu behind "
                  "%llu", (int)getpid(), (int)f[0].pid, f[0].alive,
                  (unsigned long long)f[0].streams,
                  (unsigned long long)f[0].behind);
    queue_proc_fanout(q, id + 1);
    ck_assert_int_eq(queue_fanout_list(q, 0, f, QUEUE_PROC_SLOTS), 1);
    ck_assert_msg(f[0].behind == 0 && f[0].lag_us == 0,
                  "a pump at the head is 0 records and 0 us behind, got "
                  "%llu and %llu", (unsigned long long)f[0].behind,
                  (unsigned long long)f[0].lag_us);
    queue_proc_release(q, a);
    ck_assert_msg(queue_fanout_list(q, 0, f, QUEUE_PROC_SLOTS) == 0,
                  "a released slot reports no fan-out");
    a = queue_proc_claim(q, "stream");
    ck_assert_msg(queue_fanout_list(q, 0, f, QUEUE_PROC_SLOTS) == 0,
                  "a reclaimed slot reports none until its pump stores one");
    queue_proc_release(q, a);
    queue_proc_release(q, b);
}
END_TEST

#define MP_WRITERS 4
#define MP_PER     50000
#define MP_READERS 2

/* Child: appends MP_PER records "w<k>" carrying its index and sequence. */
static void mp_writer(const char *name, uint32_t k)
{
    struct queue *q;
    char buf[64];
    struct queue_msg m = { .channel = "mp", .channel_len = 2,
                           .event = "w", .event_len = 1, .data = buf };
    uint32_t i;
    uint64_t id;

    if (queue_open(name, &q) < 0)
        _exit(2);
    for (i = 0; i < MP_PER; i++) {
        char body[40];
        int n = snprintf(body, sizeof(body), "%u %u", k, i);

        m.data_len = 4 + (size_t)n + (i % 17);
        memset(buf + 4, '.', m.data_len - 4);
        memcpy(buf + 4, body, (size_t)n);
        sum_text(buf, fnv1a(buf + 4, m.data_len - 4));
        if (queue_append(q, &m, &id) < 0)
            _exit(3);
    }
    queue_close(q);
    _exit(0);
}

/* Checks one record: checksum, and its writer's sequence is next. */
static int mp_check(const struct queue_record *r, uint32_t *seq)
{
    unsigned k, i;

    if (!payload_ok(r->data, r->data_len) ||
        sscanf(r->data + 4, "%u %u", &k, &i) != 2 || k >= MP_WRITERS)
        return 10;
    if (i != seq[k])
        return 11;
    seq[k]++;
    return 0;
}

/* Child: reads every record from first, exactly once and in id order. */
static void mp_reader(const char *name, uint64_t first)
{
    uint32_t seq[MP_WRITERS] = { 0 };
    uint64_t cur = first, n = 0;
    struct queue_record r;
    struct queue *q;
    char buf[256];
    int rc, idle = 0;

    if (queue_open(name, &q) < 0)
        _exit(2);
    while (n < (uint64_t)MP_WRITERS * MP_PER) {
        uint32_t w = queue_wake_word(q);

        rc = queue_read(q, &cur, &r, buf, sizeof(buf));
        if (rc == QUEUE_EMPTY) {
            if (queue_wait(q, w, 1000) == -ETIMEDOUT && ++idle > 20)
                _exit(4);
            continue;
        }
        if (rc != 0 || r.id != first + n)
            _exit(5);
        if ((rc = mp_check(&r, seq)) != 0)
            _exit(rc);
        n++;
    }
    queue_close(q);
    _exit(0);
}

START_TEST(test_multi_process)
{
    struct queue *q = test_create(64 * MIB, 0);
    pid_t pids[MP_WRITERS + MP_READERS];
    uint64_t first, next;
    struct queue_stats st;
    int i;

    queue_bounds(q, &first, &next);
    for (i = 0; i < MP_READERS + MP_WRITERS; i++) {
        if ((pids[i] = fork()) == 0) {
            if (i < MP_READERS)
                mp_reader(test_name, first);
            mp_writer(test_name, (uint32_t)(i - MP_READERS));
        }
        ck_assert_msg(pids[i] > 0, "fork should succeed");
    }
    for (i = 0; i < MP_READERS + MP_WRITERS; i++) {
        int rc = child_status(pids[i]);

        ck_assert_msg(rc == 0, "%s %d should pass (exit status %d)",
                      i < MP_READERS ? "reader" : "writer", i, rc);
    }
    queue_get_stats(q, &st);
    ck_assert_msg(st.records == MP_WRITERS * MP_PER &&
                  st.oldest_id == first,
                  "the queue should retain all %d records",
                  MP_WRITERS * MP_PER);
}
END_TEST

static int crash_pipe[2];

/* Test hook: tells the parent we are inside the lock, then waits to die. */
static void crash_hook(void)
{
    char c = 'x';

    if (write(crash_pipe[1], &c, 1) != 1)
        _exit(9);
    for (;;)
        pause();
}

/* Reads every retained record; asserts all are intact. Returns the count. */
static uint64_t check_all(struct queue *q)
{
    uint64_t cur, next, n = 0;
    struct queue_record r;
    char buf[4096];
    int rc;

    queue_bounds(q, &cur, &next);
    while ((rc = queue_read(q, &cur, &r, buf, sizeof(buf))) != QUEUE_EMPTY) {
        ck_assert_msg(rc == 0, "no retained record should be lost: %d", rc);
        ck_assert_msg(payload_ok(r.data, r.data_len),
                      "no torn record should be visible");
        ck_assert_msg(r.channel_len == 1 && r.channel[0] == 'c',
                      "only the parent's records should be visible");
        n++;
    }
    return n;
}

/* Forks a writer that stops inside the lock and kills it with SIGKILL. */
static void crash_one(struct queue *q, int k)
{
    char c;
    pid_t pid = fork();

    if (pid == 0) {
        struct queue_msg m = { .channel = "dead", .channel_len = 4,
                               .data = "torn", .data_len = 4 };
        uint64_t id;

        queue_test_hook_locked = crash_hook;
        queue_append(q, &m, &id);
        _exit(8);
    }
    ck_assert_msg(pid > 0, "fork should succeed");
    ck_assert_msg(read(crash_pipe[0], &c, 1) == 1,
                  "the child should reach the hook (iteration %d)", k);
    kill(pid, SIGKILL);
    ck_assert_msg(child_status(pid) == 128 + SIGKILL,
                  "the child should die by SIGKILL");
}

START_TEST(test_crash_in_lock)
{
    struct queue *q = test_create(32768, 0);
    struct queue_stats st;
    uint64_t id;
    int k;

    ck_assert_msg(pipe(crash_pipe) == 0, "pipe");
    for (k = 0; k < 200; k++) {
        ck_assert_msg(append_sum(q, 50 + (size_t)k * 13 % 700, (uint32_t)k,
                                 &id) == 0, "append before crash");
        crash_one(q, k);
        ck_assert_msg(append_sum(q, 60, (uint32_t)k, &id) == 0,
                      "the next writer should proceed after a crash");
        check_all(q);
        queue_get_stats(q, &st);
        ck_assert_msg(st.recovered == (uint64_t)k + 1,
                      "every crash should be recovered and counted");
    }
    ck_assert_msg(check_all(q) > 0, "records should be readable");
}
END_TEST

/* Child: appends in a loop until killed. */
static void crash_loop_writer(struct queue *q)
{
    uint64_t id;
    uint32_t i;

    for (i = 0;; i++)
        append_sum(q, 20 + i % 300, i, &id);
}

START_TEST(test_crash_anywhere)
{
    struct queue *q = test_create(32768, 0);
    uint64_t id;
    int k;

    srand(11);
    for (k = 0; k < 100; k++) {
        pid_t pid = fork();

        if (pid == 0)
            crash_loop_writer(q);
        ck_assert_msg(pid > 0, "fork should succeed");
        usleep((useconds_t)(rand() % 3000));
        kill(pid, SIGKILL);
        child_status(pid);
        ck_assert_msg(append_sum(q, 60, (uint32_t)k, &id) == 0,
                      "a writer should proceed after a random kill");
        check_all(q);
    }
}
END_TEST

/* Child: blocks in queue_wait until a record shows up; 0 if it saw it. */
static void wait_child(const char *name, uint64_t cur)
{
    struct queue_record r;
    struct queue *q;
    char buf[256];
    int rc;

    if (queue_open(name, &q) < 0)
        _exit(2);
    for (;;) {
        uint32_t w = queue_wake_word(q);

        if ((rc = queue_read(q, &cur, &r, buf, sizeof(buf))) != QUEUE_EMPTY)
            break;
        if (queue_wait(q, w, 20000) != 0)
            _exit(3);
    }
    _exit(rc == 0 && r.data_len == 4 && !memcmp(r.data, "ping", 4) ? 0 : 4);
}

START_TEST(test_wait_wakes)
{
    struct queue *q = test_create(MIB, 0);
    struct queue_msg m = { .channel = "w", .channel_len = 1,
                           .data = "ping", .data_len = 4 };
    uint64_t cur, next, id;
    pid_t pid;

    queue_bounds(q, &cur, &next);
    if ((pid = fork()) == 0)
        wait_child(test_name, cur);
    ck_assert_msg(pid > 0, "fork should succeed");
    usleep(100 * 1000);
    ck_assert_msg(queue_append(q, &m, &id) == 0, "append should work");
    ck_assert_msg(child_status(pid) == 0,
                  "the waiting reader should wake and see the record");
}
END_TEST

START_TEST(test_wait_timeout)
{
    struct queue *q = test_create(MIB, 0);
    uint32_t w = queue_wake_word(q);

    ck_assert_msg(queue_wait(q, w, 10) == -ETIMEDOUT,
                  "a wait with no append should time out");
    ck_assert_msg(queue_wait(q, w + 1, -1) == 0,
                  "a wait on a stale word should return at once");
}
END_TEST

/* Offsets of the header fields the damage tests overwrite (queue.c pins
 * them with _Static_assert). */
#define HDR_INDEX_OFF   24
#define HDR_RING_OFF    40
#define HDR_RING_SIZE   48
#define HDR_MAX_AGE     64      /* u32 max_age, then u32 max_payload */
#define HDR_HEAD        192
#define HDR_TAIL        200
#define HDR_NEXT_ID     208
#define HDR_OLDEST_ID   216

/* A file-backed queue with records, open as q, and an fd on its file for
 * damaging it. */
struct dmg {
    struct queue *q;
    int fd;
    uint64_t first, last;       /* ids of the first and last record */
};

static uint64_t dmg_get(const struct dmg *d, off_t at)
{
    uint64_t v;

    ck_assert_msg(pread(d->fd, &v, 8, at) == 8, "pread %lld", (long long)at);
    return v;
}

static void dmg_put(const struct dmg *d, off_t at, uint64_t v)
{
    ck_assert_msg(pwrite(d->fd, &v, 8, at) == 8, "pwrite %lld",
                  (long long)at);
}

/* The file offset of id's index entry. */
static off_t dmg_index_at(const struct dmg *d, uint64_t id)
{
    struct queue_stats st;

    queue_get_stats(d->q, &st);
    return (off_t)(dmg_get(d, HDR_INDEX_OFF) + (id % st.index_slots) * 8);
}

/* Makes a 64 KiB file-backed queue (max_age seconds) with n records. */
static void dmg_make(struct dmg *d, uint32_t max_age, int n)
{
    struct queue_params p = { .size = 65536, .mode = 0600,
                              .max_age = max_age };
    int i;

    ck_assert_msg(queue_create(test_file_make(), &p, 1, &d->q) == 0,
                  "create: %s", queue_error());
    test_q = d->q;
    for (i = 0; i < n; i++)
        ck_assert_msg(append_sum(d->q, 100, (uint32_t)i, &d->last) == 0,
                      "append should work");
    d->first = d->last + 1 - (uint64_t)n;
    d->fd = open(test_name, O_RDWR);
    ck_assert_msg(d->fd >= 0, "the queue file should open");
}

/* Asserts rc is want and the error names the file and says damaged. */
static void expect_damage(int rc, int want, const char *what)
{
    ck_assert_msg(rc == want, "%s: expected %d, got %d (%s)", what, want,
                  rc, queue_error());
    ck_assert_msg(strstr(queue_error(), test_name) != NULL &&
                  strstr(queue_error(), " is damaged: ") != NULL &&
                  strstr(queue_error(), "sseq create --force") != NULL,
                  "%s: the error should name the file, say damaged and "
                  "how to re-create: %s", what, queue_error());
}

/* One damage to the header: field at offset, and its new value. */
struct dmg_case {
    const char *name;
    off_t at;
    uint64_t value;             /* if !delta */
    int64_t delta;              /* else: added to the field */
};

static const struct dmg_case dmg_header_cases[] = {
    { "oldest_id zeroed", HDR_OLDEST_ID, 0, 0 },
    { "next_id 2^63", HDR_NEXT_ID, UINT64_C(1) << 63, 0 },
    { "next_id before oldest_id", HDR_NEXT_ID, 0, -25 },
    { "oldest_id past next_id", HDR_OLDEST_ID, 0, 100 },
    { "next_id past the index", HDR_NEXT_ID, 0, 100000 },
};

/* Applies c to d's header. */
static void dmg_apply(const struct dmg *d, const struct dmg_case *c)
{
    uint64_t v = c->delta ? dmg_get(d, c->at) + (uint64_t)c->delta
                          : c->value;

    dmg_put(d, c->at, v);
}

/* The reader and the writer on an open handle, then a fresh open, all
 * get QUEUE_DAMAGED with the clear error; restoring the field makes the
 * same handle work again (the writers' lock stayed usable). */
START_TEST(test_damage_header)
{
    const struct dmg_case *c = &dmg_header_cases[_i % 5];
    uint32_t max_age = _i < 5 ? 0 : 60;
    struct queue_record r;
    struct queue_verify v;
    struct dmg d;
    uint64_t cur, id, saved;
    struct queue *q2;
    char buf[4096];

    dmg_make(&d, max_age, 20);
    saved = dmg_get(&d, c->at);
    dmg_apply(&d, c);
    cur = d.first;
    expect_damage(queue_read(d.q, &cur, &r, buf, sizeof(buf)),
                  QUEUE_DAMAGED, c->name);
    ck_assert_msg(cur == d.first, "%s: the cursor should stay", c->name);
    expect_damage(append_sum(d.q, 10, 1, &id), QUEUE_DAMAGED, c->name);
    expect_damage(append_sum(d.q, 10, 1, &id), QUEUE_DAMAGED, c->name);
    expect_damage(queue_find_pub_id(d.q, "x", 1, &id), QUEUE_DAMAGED,
                  c->name);
    expect_damage(queue_verify(d.q, &v), QUEUE_DAMAGED, c->name);
    expect_damage(queue_open(test_name, &q2), QUEUE_DAMAGED, c->name);
    dmg_put(&d, c->at, saved);
    ck_assert_msg(append_sum(d.q, 10, 1, &id) == 0 && id == d.last + 1,
                  "%s: restored, the writer should append again",
                  c->name);
    ck_assert_msg(queue_verify(d.q, &v) == 0 && v.records == 21,
                  "%s: restored, the queue should verify", c->name);
    close(d.fd);
}
END_TEST

/* Fields only writers depend on: readers read on, writers refuse. */
START_TEST(test_damage_writer_state)
{
    static const struct dmg_case cases[] = {
        { "head misaligned", HDR_HEAD, 0, 4 },
        { "head moved", HDR_HEAD, 0, 64 },
        { "tail misaligned", HDR_TAIL, 0, 4 },
        { "tail past head", HDR_TAIL, 0, 1 << 20 },
    };
    const struct dmg_case *c = &cases[_i];
    struct queue_record r;
    struct queue_verify v;
    struct dmg d;
    uint64_t cur, id, saved;
    char buf[4096];

    dmg_make(&d, 0, 20);
    saved = dmg_get(&d, c->at);
    dmg_apply(&d, c);
    expect_damage(append_sum(d.q, 10, 1, &id), QUEUE_DAMAGED, c->name);
    expect_damage(queue_verify(d.q, &v), QUEUE_DAMAGED, c->name);
    cur = d.first;
    ck_assert_msg(queue_read(d.q, &cur, &r, buf, sizeof(buf)) == 0 ||
                  strstr(queue_error(), " is damaged: ") != NULL,
                  "%s: a reader reads on or reports damage", c->name);
    dmg_put(&d, c->at, saved);
    ck_assert_msg(append_sum(d.q, 10, 1, &id) == 0,
                  "%s: restored, the writer should append again", c->name);
    close(d.fd);
}
END_TEST

/* A damaged index entry: the reader gets QUEUE_BAD_RECORD for that record
 * only (cursor moved past it), verify counts it, a writer refuses when it
 * is the oldest or the newest record. */
START_TEST(test_damage_index_entry)
{
    static const char *const names[] = {
        "misaligned", "past the end of the ring", "another record",
        "before the tail",
    };
    struct queue_stats st;
    struct queue_record r;
    struct queue_verify v;
    struct dmg d;
    uint64_t cur, id, bad, saved, off;
    char buf[4096];
    int rc, reads = 0, bads = 0;

    dmg_make(&d, 0, 20);
    queue_get_stats(d.q, &st);
    bad = (_i / 4) == 0 ? d.first + 7 : (_i / 4) == 1 ? d.first : d.last;
    saved = dmg_get(&d, dmg_index_at(&d, bad));
    off = _i % 4 == 0 ? saved + 4 :
          _i % 4 == 1 ? saved - saved % st.ring_size + st.ring_size - 8 :
          _i % 4 == 2 ? dmg_get(&d, dmg_index_at(&d, bad == d.last ?
                                                 bad - 1 : bad + 1))
                      : saved - 64 * st.ring_size;
    dmg_put(&d, dmg_index_at(&d, bad), off);
    for (cur = d.first; (rc = queue_read(d.q, &cur, &r, buf, sizeof(buf)))
         != QUEUE_EMPTY; ) {
        if (rc == QUEUE_BAD_RECORD) {
            bads++;
            expect_damage(rc, QUEUE_BAD_RECORD, names[_i % 4]);
            ck_assert_msg(cur == bad + 1, "the cursor should pass the bad "
                          "record");
            continue;
        }
        ck_assert_msg(rc == 0 && payload_ok(r.data, r.data_len),
                      "%s: the other records should read intact (%d)",
                      names[_i % 4], rc);
        reads++;
    }
    ck_assert_msg(bads == 1 && reads == 19, "%s: one bad record, 19 good, "
                  "got %d and %d", names[_i % 4], bads, reads);
    if (bad == d.first + 7) {
        expect_damage(queue_verify(d.q, &v), QUEUE_BAD_RECORD,
                      names[_i % 4]);
        ck_assert_msg(v.bad == 1 && v.first_bad == bad && v.records == 19,
                      "verify should count the bad record");
    } else {
        /* the writers' state names the oldest and the newest record */
        expect_damage(queue_verify(d.q, &v), QUEUE_DAMAGED, names[_i % 4]);
        expect_damage(append_sum(d.q, 10, 1, &id), QUEUE_DAMAGED,
                      names[_i % 4]);
    }
    dmg_put(&d, dmg_index_at(&d, bad), saved);
    ck_assert_msg(append_sum(d.q, 10, 1, &id) == 0,
                  "restored, the writer should append again");
    close(d.fd);
}
END_TEST

/* Damaged bytes of one record (its header, or its packed alternates):
 * QUEUE_BAD_RECORD for it, the others read intact, verify counts it. */
START_TEST(test_damage_record_bytes)
{
    const char *alt[] = { "urn:x", "urn:y" };
    size_t alt_len[] = { 5, 5 };
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .alt = alt, .alt_len = alt_len, .n_alt = 2,
                           .data = "d", .data_len = 1 };
    struct queue_record r;
    struct queue_verify v;
    struct dmg d;
    uint64_t bad, cur, id, rec_at, ring_off, ring_size;
    char buf[4096], x = 'x';
    uint16_t zero = 0;
    int rc, good = 0;

    dmg_make(&d, 0, 5);
    ck_assert_msg(queue_append(d.q, &m, &bad) == 0, "append");
    ck_assert_msg(append_sum(d.q, 100, 9, &id) == 0, "append");
    ring_off = dmg_get(&d, HDR_RING_OFF);
    ring_size = dmg_get(&d, HDR_RING_SIZE);
    rec_at = ring_off + dmg_get(&d, dmg_index_at(&d, bad)) % ring_size;
    if (_i == 0)        /* channel_len, at 32 in the 40-byte header */
        ck_assert_msg(pwrite(d.fd, &zero, 2, (off_t)rec_at + 32) == 2, "w");
    else                /* the NUL after the last alternate */
        ck_assert_msg(pwrite(d.fd, &x, 1, (off_t)rec_at + 40 + 1 + 11) == 1,
                      "w");
    for (cur = d.first; (rc = queue_read(d.q, &cur, &r, buf, sizeof(buf)))
         != QUEUE_EMPTY; ) {
        if (rc == QUEUE_BAD_RECORD) {
            expect_damage(rc, QUEUE_BAD_RECORD, "damaged record bytes");
            ck_assert_msg(cur == bad + 1, "the cursor should pass it");
            ck_assert_msg(strstr(queue_error(), _i == 0 ? "header out of"
                                 : "alternate topics") != NULL,
                          "the error should say what: %s", queue_error());
            continue;
        }
        ck_assert_msg(rc == 0, "the other records should read, got %d", rc);
        good++;
    }
    ck_assert_msg(good == 6, "6 intact records, got %d", good);
    expect_damage(queue_verify(d.q, &v), QUEUE_BAD_RECORD, "verify");
    ck_assert_msg(v.bad == 1 && v.first_bad == bad && v.records == 6,
                  "verify should count one damaged record");
    close(d.fd);
}
END_TEST

/* A damaged entry in the middle: writers append until they must evict it,
 * then refuse every time, promptly. */
START_TEST(test_damage_evicted_entry)
{
    struct dmg d;
    uint64_t id, bad;
    int i, rc = 0;

    dmg_make(&d, 0, 20);
    bad = d.first + 7;
    dmg_put(&d, dmg_index_at(&d, bad), dmg_get(&d, dmg_index_at(&d, bad))
            + 4);
    for (i = 0; i < 1000 && rc == 0; i++)
        rc = append_sum(d.q, 100, (uint32_t)i, &id);
    expect_damage(rc, QUEUE_DAMAGED, "evicting a misaligned entry");
    for (i = 0; i < 3; i++)
        expect_damage(append_sum(d.q, 100, 1, &id), QUEUE_DAMAGED,
                      "appending again");
    close(d.fd);
}
END_TEST

/* Geometry damage is refused at open, by every program alike. */
START_TEST(test_damage_geometry)
{
    static const struct dmg_case cases[] = {
        { "ring_off misaligned", HDR_RING_OFF, 0, 8 },
        { "ring_off past the file", HDR_RING_OFF, 0, 1 << 20 },
        { "ring_size odd", HDR_RING_SIZE, 0, -8 },
        { "index_off moved", HDR_INDEX_OFF, 0, 8 },
        /* found by fuzz_queue_read: readers got -ENOBUFS forever */
        { "max_age 1, max_payload 0", HDR_MAX_AGE, 1, 0 },
    };
    const struct dmg_case *c = &cases[_i];
    struct queue *q2;
    struct dmg d;

    dmg_make(&d, 0, 5);
    dmg_apply(&d, c);
    expect_damage(queue_open(test_name, &q2), QUEUE_DAMAGED, c->name);
    close(d.fd);
}
END_TEST

/* A writer dies inside the lock, then the header is damaged: the next
 * writer gets QUEUE_DAMAGED (no repair of a damaged queue) and leaves the
 * robust lock consistent, so after a restore appends work again. */
START_TEST(test_damage_after_crash)
{
    struct queue_stats st;
    struct dmg d;
    uint64_t id, saved;

    dmg_make(&d, 0, 10);
    ck_assert_msg(pipe(crash_pipe) == 0, "pipe");
    crash_one(d.q, 0);
    saved = dmg_get(&d, HDR_NEXT_ID);
    dmg_put(&d, HDR_NEXT_ID, UINT64_C(1) << 63);
    expect_damage(append_sum(d.q, 10, 1, &id), QUEUE_DAMAGED,
                  "owner died, next_id 2^63");
    dmg_put(&d, HDR_NEXT_ID, saved);
    ck_assert_msg(append_sum(d.q, 10, 1, &id) == 0 && id == d.last + 1,
                  "restored, the writer should append again");
    queue_get_stats(d.q, &st);
    ck_assert_msg(st.recovered == 1, "the dead owner should be counted");
    close(d.fd);
}
END_TEST

static Suite *queue_suite(void)
{
    Suite *s = suite_create("queue");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");
    TCase *procs = tcase_create("processes");

    tcase_add_checked_fixture(core, NULL, test_teardown);
    tcase_add_unchecked_fixture(core, NULL, test_sweep);
    tcase_add_test(core, test_round_trip);
    tcase_add_test(core, test_no_event);
    tcase_add_test(core, test_wrap);
    tcase_add_test(core, test_index_lookup);
    tcase_add_test(core, test_stats);
    tcase_add_test(core, test_mercure_round_trip);
    tcase_add_test(core, test_mercure_defaults);
    tcase_add_test(core, test_find_pub_id);
    suite_add_tcase(s, core);
    tcase_add_checked_fixture(limits, NULL, test_teardown);
    tcase_add_unchecked_fixture(limits, NULL, test_sweep);
    tcase_add_test(limits, test_too_big);
    tcase_add_test(limits, test_small_buffer);
    tcase_add_test(limits, test_overrun_simple);
    tcase_add_test(limits, test_overrun_concurrent);
    tcase_add_test(limits, test_max_age);
    tcase_add_test(limits, test_min_size);
    tcase_add_test(limits, test_mercure_max);
    tcase_add_test(limits, test_mercure_refused);
    tcase_set_timeout(limits, 60);
    suite_add_tcase(s, limits);
    tcase_add_checked_fixture(errors, NULL, test_teardown);
    tcase_add_unchecked_fixture(errors, NULL, test_sweep);
    tcase_add_test(errors, test_bad_magic);
    tcase_add_test(errors, test_bad_version);
    tcase_add_test(errors, test_bad_size);
    tcase_add_test(errors, test_truncated);
    tcase_add_test(errors, test_missing_and_bad_path);
    tcase_add_test(errors, test_no_clobber);
    tcase_add_test(errors, test_mode);
    tcase_add_test(errors, test_untrusted_owner);
    tcase_add_test(errors, test_proc_slots);
    tcase_add_test(errors, test_proc_refused);
    tcase_add_test(errors, test_proc_fanout);
    tcase_add_loop_test(errors, test_damage_header, 0, 10);
    tcase_add_loop_test(errors, test_damage_writer_state, 0, 4);
    tcase_add_loop_test(errors, test_damage_index_entry, 0, 12);
    tcase_add_loop_test(errors, test_damage_record_bytes, 0, 2);
    tcase_add_test(errors, test_damage_evicted_entry);
    tcase_add_loop_test(errors, test_damage_geometry, 0, 5);
    suite_add_tcase(s, errors);
    tcase_add_checked_fixture(procs, NULL, test_teardown);
    tcase_add_unchecked_fixture(procs, NULL, test_sweep);
    tcase_add_test(procs, test_multi_process);
    tcase_add_test(procs, test_crash_in_lock);
    tcase_add_test(procs, test_crash_anywhere);
    tcase_add_test(procs, test_damage_after_crash);
    tcase_add_test(procs, test_wait_wakes);
    tcase_add_test(procs, test_wait_timeout);
    tcase_set_timeout(procs, 120);
    suite_add_tcase(s, procs);
    return s;
}

int main(void)
{
    test_runner = getpid();
    return unit_run(queue_suite());
}
