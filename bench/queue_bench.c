/* queue_bench.c -- measures the shared-memory queue: appends/s with one and
 * two writer processes, reads/s with one reader, and the wake latency from
 * an append in one process to a reader sleeping in queue_wait in another.
 *
 * Key invariant: every phase is bounded by a fixed duration or sample
 * count, so the run stops by itself (a few seconds); the queue is private
 * ("/sseq-bench-<pid>") and unlinked at the end, even on failure.
 *
 * Usage: queue_bench [seconds-per-phase]   (default 1) */
#include "queue/queue.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PAYLOAD  64
#define BENCH_SAMPLES  2000
#define BENCH_SIZE     (UINT64_C(64) << 20)

static char bench_name[64];
static double bench_secs = 1.0;

/* CLOCK_MONOTONIC in nanoseconds. */
static uint64_t bench_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Opens the benchmark queue or exits naming the failure. */
static struct queue *bench_open(void)
{
    struct queue *q;

    if (queue_open(bench_name, &q) < 0) {
        fprintf(stderr, "queue_bench: %s\n", queue_error());
        exit(1);
    }
    return q;
}

/* Appends 64-byte records until deadline; returns how many. */
static uint64_t bench_append_until(struct queue *q, uint64_t deadline)
{
    char data[BENCH_PAYLOAD];
    struct queue_msg m = { .channel = "bench", .channel_len = 5,
                           .data = data, .data_len = sizeof(data) };
    uint64_t n = 0, id;
    int i;

    memset(data, 'd', sizeof(data));
    while (bench_ns() < deadline) {
        for (i = 0; i < 1000; i++)
            if (queue_append(q, &m, &id) < 0)
                return n;
        n += 1000;
    }
    return n;
}

/* Child: appends until deadline, writes its count to fd, exits. */
static void bench_writer_child(int fd, uint64_t deadline)
{
    struct queue *q = bench_open();
    uint64_t n = bench_append_until(q, deadline);

    if (write(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
        _exit(1);
    queue_close(q);
    _exit(0);
}

/* Runs `writers` writer processes for one phase; returns appends/s. */
static double bench_appends(int writers)
{
    uint64_t start = bench_ns() + 20000000u, total = 0, n;
    uint64_t deadline = start + (uint64_t)(bench_secs * 1e9);
    int fds[2], i;

    if (pipe(fds) < 0)
        return -1;
    for (i = 0; i < writers; i++) {
        if (fork() == 0) {
            while (bench_ns() < start)
                ;
            bench_writer_child(fds[1], deadline);
        }
    }
    for (i = 0; i < writers; i++)
        if (read(fds[0], &n, sizeof(n)) == (ssize_t)sizeof(n))
            total += n;
    while (wait(NULL) > 0)
        ;
    close(fds[0]);
    close(fds[1]);
    return (double)total / bench_secs;
}

/* Reads every retained record repeatedly for one phase; returns reads/s. */
static double bench_reads(struct queue *q)
{
    uint64_t t0 = bench_ns(), deadline, n = 0, oldest, next, cur;
    struct queue_record r;
    char buf[4096];

    bench_append_until(q, t0 + 200000000u);
    queue_bounds(q, &oldest, &next);
    t0 = bench_ns();
    deadline = t0 + (uint64_t)(bench_secs * 1e9);
    while (bench_ns() < deadline) {
        queue_bounds(q, &oldest, &cur);
        cur = oldest;
        while (queue_read(q, &cur, &r, buf, sizeof(buf)) == 0)
            n++;
    }
    return (double)n * 1e9 / (double)(bench_ns() - t0);
}

static int bench_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Child: sleeps in queue_wait, measures append->wake latency of each
 * record (its data is the append's CLOCK_MONOTONIC ns); writes p50, p99. */
static void bench_wake_child(int fd, uint64_t cur)
{
    static uint64_t lat[BENCH_SAMPLES];
    struct queue *q = bench_open();
    struct queue_record r;
    uint64_t res[2], t;
    char buf[256];
    int n = 0;

    while (n < BENCH_SAMPLES) {
        uint32_t w = queue_wake_word(q);
        int rc = queue_read(q, &cur, &r, buf, sizeof(buf));

        if (rc == QUEUE_EMPTY && queue_wait(q, w, 2000) == -ETIMEDOUT)
            break;
        if (rc != 0 || r.data_len != sizeof(t))
            continue;
        memcpy(&t, r.data, sizeof(t));
        lat[n++] = bench_ns() - t;
    }
    qsort(lat, (size_t)n, sizeof(lat[0]), bench_cmp);
    res[0] = n ? lat[n / 2] : 0;
    res[1] = n ? lat[n * 99 / 100] : 0;
    if (write(fd, res, sizeof(res)) != (ssize_t)sizeof(res))
        _exit(1);
    _exit(n == BENCH_SAMPLES ? 0 : 2);
}

/* Measures wake latency; fills p50/p99 in microseconds; -1 on failure. */
static int bench_wake(struct queue *q, double *p50, double *p99)
{
    struct queue_msg m = { .channel = "bench", .channel_len = 5,
                           .data_len = sizeof(uint64_t) };
    uint64_t oldest, next, t, id, res[2];
    int fds[2], i, ok;
    pid_t pid;

    *p50 = *p99 = -1;
    if (pipe(fds) < 0)
        return -1;
    queue_bounds(q, &oldest, &next);
    if ((pid = fork()) == 0)
        bench_wake_child(fds[1], next);
    for (i = 0; i < BENCH_SAMPLES && pid > 0; i++) {
        usleep(400);
        t = bench_ns();
        m.data = (const char *)&t;
        queue_append(q, &m, &id);
    }
    ok = read(fds[0], res, sizeof(res)) == (ssize_t)sizeof(res);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    *p50 = ok ? (double)res[0] / 1000.0 : -1;
    *p99 = ok ? (double)res[1] / 1000.0 : -1;
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct queue_params p = { .size = BENCH_SIZE, .mode = 0600 };
    double a1, a2, rd, p50, p99;
    struct queue *q;

    if (argc > 1 && (bench_secs = atof(argv[1])) <= 0)
        bench_secs = 1.0;
    snprintf(bench_name, sizeof(bench_name), "/sseq-bench-%d", (int)getpid());
    if (queue_create(bench_name, &p, 1, &q) < 0) {
        fprintf(stderr, "queue_bench: %s\n", queue_error());
        return 1;
    }
    a1 = bench_appends(1);
    a2 = bench_appends(2);
    rd = bench_reads(q);
    bench_wake(q, &p50, &p99);
    printf("queue_bench: %.0f-byte payload, %llu MiB queue, %.1f s/phase\n",
           (double)BENCH_PAYLOAD, (unsigned long long)(BENCH_SIZE >> 20),
           bench_secs);
    printf("appends/s 1 writer:   %12.0f\n", a1);
    printf("appends/s 2 writers:  %12.0f\n", a2);
    printf("reads/s 1 reader:     %12.0f\n", rd);
    printf("wake latency p50/p99: %8.1f / %.1f us (%d samples)\n", p50, p99,
           BENCH_SAMPLES);
    queue_close(q);
    queue_unlink(bench_name);
    return 0;
}
