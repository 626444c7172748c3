/* loadgen.c -- SSE fan-out load generator: one process, one epoll loop,
 * N subscriber connections (HTTP/1.1 GET, Accept: text/event-stream) and a
 * forked publisher child that POSTs M messages "<seq> <mono_us>" on one
 * keep-alive connection, at a rate or back to back. Reports connect time,
 * delivered / expected / lost / duplicated / reordered, delivered
 * events/s, latency quantiles, and CPU seconds and RSS of the server
 * processes named with --pids (children included): idle, with N
 * connected, and at peak.
 *
 * Key invariant: bounded in every dimension. Each phase has a deadline,
 * the whole run has --timeout, and the run ends by itself once every
 * expected event arrived or nothing arrived for --drain seconds after the
 * last POST. Message i goes to channel i % C and subscriber j listens to
 * channel j % C, so each subscriber knows exactly what it must receive.
 *
 * Usage: loadgen -s SUB_URL -p PUB_URL [options]   (see lg_usage) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     /* memmem, strcasestr, asprintf */
#endif
#include "loadgen.h"

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SUB_IDLE, SUB_CONNECTING, SUB_HEAD, SUB_LIVE, SUB_DEAD };

/* One subscriber connection. */
struct sub {
    struct lg_sse p;                    /* its response parser */
    int fd;
    uint32_t channel;                   /* channel index */
    uint32_t got;                       /* distinct messages received */
    int32_t last;                       /* highest seq received, -1 */
    uint8_t state;                      /* SUB_* */
    uint8_t tries;                      /* connection attempts */
    uint64_t t_start;                   /* first attempt, for connect time */
};

/* Options. */
struct lg_opts {
    const char *sub_url, *pub_url, *token, *prefix, *json;
    uint32_t n, m, channels, pad, concurrency;
    double rate, timeout, drain, settle, idle_window;
    struct lg_proc_group groups[LG_PROC_GROUPS];
    unsigned ngroups;
    bool quiet;
};

/* A group's samples across the run. */
struct lg_group_stats {
    struct lg_proc_sample idle, connected, idle_end, run_end;
    uint64_t rss_peak_kib;
};

/* Everything the run measures. */
struct lg_run {
    struct sub *subs;
    uint8_t *bits;                      /* N x bits_per bitmap */
    size_t bits_per;                    /* bytes per subscriber */
    struct lg_hist *hist;
    uint64_t now;                       /* time of the current read */
    uint64_t t_first_event, t_last_event;
    uint64_t events, unique, dups, reorders, misrouted, bad, unexpected;
    uint64_t heads_ok, head_errors, retries, disconnects, bad_status;
    uint16_t last_bad_status;
    uint64_t connect_us, hs_max_us;
    struct lg_sse_sink sink;
    struct lg_pub *pub;
    struct lg_group_stats gs[LG_PROC_GROUPS];
    int ep;
    struct sockaddr_storage sa;
    unsigned salen;
    uint32_t live;
    char **req;                         /* GET request per channel */
    size_t *req_len;
};

static struct lg_opts o = {
    .prefix = "bench", .n = 100, .m = 100, .channels = 1,
    .concurrency = 256, .rate = 0, .timeout = 120, .drain = 5,
    .settle = 0.5, .idle_window = 1,
};
static struct lg_run r;
static volatile sig_atomic_t lg_stop;

/* Prints the usage to f. */
static void lg_usage(FILE *f)
{
    fputs("usage: loadgen -s SUB_URL -p PUB_URL [options]\n"
          "  -s, --sub URL          subscriber URL; {ch} = channel name\n"
          "  -p, --pub URL          publish URL (POST text/plain); {ch}\n"
          "  -t, --token TOKEN      Authorization: Bearer TOKEN on POSTs\n"
          "  -n, --subscribers N    subscriber connections (100)\n"
          "  -m, --messages M       messages to publish (100)\n"
          "  -r, --rate R           messages/s; 0 = back to back (0)\n"
          "  -c, --channels C       channels; message i -> i %% C (1)\n"
          "      --prefix NAME      channel name (prefix-<i> if C > 1)\n"
          "      --pad BYTES        extra bytes of data per message (0)\n"
          "  -P, --pids NAME=PID,.. server processes to measure\n"
          "      --concurrency K    connects in flight (256)\n"
          "      --settle S         wait after the last connect (0.5)\n"
          "      --idle-window S    idle CPU measure with N connected (1)\n"
          "      --drain S          give up S after the last POST (5)\n"
          "      --timeout S        bound on the whole run (120)\n"
          "  -j, --json FILE        write the report as JSON too\n"
          "  -q, --quiet            only the report\n", f);
}

/* Parses a positive number option or exits. */
static double lg_num(const char *name, const char *v, double min, double max)
{
    char *end;
    double d = strtod(v, &end);

    if (end == v || *end || d < min || d > max) {
        fprintf(stderr, "loadgen: bad %s: '%s'\n", name, v);
        exit(1);
    }
    return d;
}

/* Parses argv into o or exits with the usage. */
static void lg_parse(int argc, char **argv)
{
    static const struct option lo[] = {
        { "sub", 1, 0, 's' }, { "pub", 1, 0, 'p' }, { "token", 1, 0, 't' },
        { "subscribers", 1, 0, 'n' }, { "messages", 1, 0, 'm' },
        { "rate", 1, 0, 'r' }, { "channels", 1, 0, 'c' },
        { "prefix", 1, 0, 1 }, { "pad", 1, 0, 2 }, { "pids", 1, 0, 'P' },
        { "concurrency", 1, 0, 3 }, { "settle", 1, 0, 4 },
        { "idle-window", 1, 0, 5 }, { "drain", 1, 0, 6 },
        { "timeout", 1, 0, 7 }, { "json", 1, 0, 'j' },
        { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "s:p:t:n:m:r:c:P:j:qh", lo,
                            NULL)) != -1) {
        switch (c) {
        case 's': o.sub_url = optarg; break;
        case 'p': o.pub_url = optarg; break;
        case 't': o.token = optarg; break;
        case 'n': o.n = (uint32_t)lg_num("-n", optarg, 1, 1000000); break;
        case 'm': o.m = (uint32_t)lg_num("-m", optarg, 0, 10000000); break;
        case 'r': o.rate = lg_num("-r", optarg, 0, 1e7); break;
        case 'c': o.channels = (uint32_t)lg_num("-c", optarg, 1, 1e6); break;
        case 1: o.prefix = optarg; break;
        case 2: o.pad = (uint32_t)lg_num("--pad", optarg, 0, 65000); break;
        case 3: o.concurrency = (uint32_t)lg_num("--concurrency", optarg,
                                                 1, 1e6); break;
        case 4: o.settle = lg_num("--settle", optarg, 0, 600); break;
        case 5: o.idle_window = lg_num("--idle-window", optarg, 0, 600);
            break;
        case 6: o.drain = lg_num("--drain", optarg, 0.1, 600); break;
        case 7: o.timeout = lg_num("--timeout", optarg, 1, 86400); break;
        case 'j': o.json = optarg; break;
        case 'q': o.quiet = true; break;
        case 'P':
            if (o.ngroups == LG_PROC_GROUPS ||
                lg_proc_parse(optarg, &o.groups[o.ngroups]) < 0) {
                fprintf(stderr, "loadgen: bad --pids '%s'\n", optarg);
                exit(1);
            }
            o.ngroups++;
            break;
        case 'h': lg_usage(stdout); exit(0);
        default: lg_usage(stderr); exit(1);
        }
    }
    if (!o.sub_url || !o.pub_url || optind != argc) {
        lg_usage(stderr);
        exit(1);
    }
}

/* Raises RLIMIT_NOFILE to need (the hard limit too, when allowed);
 * 0 or -errno. */
static int lg_raise_nofile(rlim_t need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    if (rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max < need) {
        struct rlimit hard = { need, need };

        if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
            return 0;
        need = rl.rlim_max;
    }
    rl.rlim_cur = need;
    return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

/* Parses the digits at *p (advancing it); false if there are none. */
static bool lg_digits(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;

    *v = 0;
    while (*p < end && **p >= '0' && **p <= '9')
        *v = *v * 10 + (uint64_t)(*(*p)++ - '0');
    return *p > s;
}

/* A subscriber received an event with data "<seq> <mono_us>...". */
static void lg_on_event(void *ctx, const char *data, size_t len)
{
    struct sub *s = ctx;
    const char *p = data, *end = data + len;
    uint64_t seq, ts;
    uint8_t *bits;

    r.events++;
    if (!lg_digits(&p, end, &seq) || p == end || *p++ != ' ' ||
        !lg_digits(&p, end, &ts) || seq >= o.m) {
        r.bad++;
        return;
    }
    if (seq % o.channels != s->channel) {
        r.misrouted++;
        return;
    }
    bits = r.bits + (size_t)(s - r.subs) * r.bits_per;
    if (bits[seq >> 3] & (1u << (seq & 7))) {
        r.dups++;
        return;
    }
    bits[seq >> 3] |= (uint8_t)(1u << (seq & 7));
    if ((int64_t)seq < s->last)
        r.reorders++;
    else
        s->last = (int32_t)seq;
    s->got++;
    r.unique++;
    if (!r.t_first_event)
        r.t_first_event = r.now;
    r.t_last_event = r.now;
    lg_hist_add(r.hist, r.now > ts ? r.now - ts : 0);
}

/* Starts a connection attempt for subscriber i; 0 or -errno. */
static int lg_sub_connect(uint32_t i)
{
    struct sub *s = &r.subs[i];
    struct epoll_event ev = { EPOLLOUT, { .u32 = i } };
    int fd, rc;

    fd = socket(r.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&r.sa, r.salen) < 0 &&
        errno != EINPROGRESS) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (epoll_ctl(r.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (!s->tries++)
        s->t_start = lg_mono_us();
    s->fd = fd;
    s->state = SUB_CONNECTING;
    rc = lg_sse_init(&s->p);
    return rc;
}

/* Closes subscriber i's socket; with rst, aborts it (no TIME_WAIT). */
static void lg_sub_close(uint32_t i, bool rst)
{
    struct sub *s = &r.subs[i];
    struct linger lg = { 1, 0 };

    if (s->fd < 0)
        return;
    if (rst)
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(s->fd);
    s->fd = -1;
    lg_sse_free(&s->p);
}

/* Subscriber i failed (err < 0) or ended: retries a connect that never
 * got its head, else marks it dead. */
static void lg_sub_fail(uint32_t i, int err)
{
    struct sub *s = &r.subs[i];

    lg_sub_close(i, true);
    if (s->state == SUB_LIVE) {
        r.disconnects++;
        r.live--;
        s->state = SUB_DEAD;
        return;
    }
    if (s->tries < 4 && err != -EPROTO) {
        r.retries++;
        s->state = SUB_IDLE;            /* lg_connect_more retries it */
        return;
    }
    r.head_errors++;
    s->state = SUB_DEAD;
}

/* The socket of subscriber i is writable: sends the GET. */
static void lg_sub_send(uint32_t i)
{
    struct sub *s = &r.subs[i];
    struct epoll_event ev = { EPOLLIN | EPOLLRDHUP, { .u32 = i } };
    int err = 0;
    socklen_t el = sizeof(err);
    ssize_t n;

    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
        lg_sub_fail(i, -err);
        return;
    }
    n = send(s->fd, r.req[s->channel], r.req_len[s->channel],
             MSG_NOSIGNAL);
    if (n != (ssize_t)r.req_len[s->channel]) {
        lg_sub_fail(i, n < 0 ? -errno : -EIO);
        return;
    }
    s->state = SUB_HEAD;
    epoll_ctl(r.ep, EPOLL_CTL_MOD, s->fd, &ev);
}

/* The head of subscriber i is complete: 200 makes it live. */
static void lg_sub_head(uint32_t i)
{
    struct sub *s = &r.subs[i];
    uint64_t t;

    if (s->p.status != 200) {
        r.bad_status++;
        r.last_bad_status = s->p.status;
        s->tries = 255;                 /* no retry */
        lg_sub_fail(i, -EPROTO);
        return;
    }
    s->state = SUB_LIVE;
    r.live++;
    r.heads_ok++;
    t = lg_mono_us() - s->t_start;
    if (t > r.hs_max_us)
        r.hs_max_us = t;
}

/* Reads what subscriber i has. */
static void lg_sub_read(uint32_t i)
{
    static char buf[65536];
    struct sub *s = &r.subs[i];
    ssize_t n;
    int rc;

    n = recv(s->fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        lg_sub_fail(i, n < 0 ? -errno : -EPIPE);
        return;
    }
    r.now = lg_mono_us();
    r.sink.ctx = s;
    rc = lg_sse_feed(&s->p, buf, (size_t)n, &r.sink);
    if (rc < 0) {
        r.bad_status++;
        s->tries = 255;
        lg_sub_fail(i, -EPROTO);
        return;
    }
    if (s->state == SUB_HEAD && s->p.phase != LG_SSE_HEAD)
        lg_sub_head(i);
    if (s->state == SUB_LIVE && s->p.phase == LG_SSE_END)
        lg_sub_fail(i, -EPIPE);
}

/* Handles up to 1024 ready sockets, waiting at most ms; -errno on an
 * epoll failure. */
static int lg_poll(int ms)
{
    static struct epoll_event ev[1024];
    int n, k;

    n = epoll_wait(r.ep, ev, 1024, ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (k = 0; k < n; k++) {
        uint32_t i = ev[k].data.u32;

        if (r.subs[i].state == SUB_CONNECTING)
            lg_sub_send(i);
        else if (r.subs[i].state == SUB_HEAD ||
                 r.subs[i].state == SUB_LIVE)
            lg_sub_read(i);
    }
    return n;
}

/* Starts connects until K are in flight; returns how many wait still. */
static uint32_t lg_connect_more(uint32_t *next)
{
    uint32_t inflight = 0, waiting = 0, i;

    for (i = 0; i < o.n; i++) {
        uint8_t st = r.subs[i].state;

        inflight += st == SUB_CONNECTING || st == SUB_HEAD;
        waiting += st == SUB_IDLE;
    }
    for (i = *next; i < o.n + *next && inflight < o.concurrency; i++) {
        uint32_t j = i % o.n;
        int rc;

        if (r.subs[j].state != SUB_IDLE)
            continue;
        rc = lg_sub_connect(j);
        if (rc < 0) {
            fprintf(stderr, "loadgen: connect: %s\n", strerror(-rc));
            lg_sub_fail(j, rc);
            continue;
        }
        inflight++;
        waiting--;
    }
    *next = i % o.n;
    return waiting + inflight;
}

/* Connects all N subscribers (bounded by deadline); 0 or -ETIMEDOUT. */
static int lg_connect_all(uint64_t deadline)
{
    uint64_t t0 = lg_mono_us();
    uint32_t next = 0;

    while (!lg_stop && lg_connect_more(&next) > 0) {
        if (lg_mono_us() > deadline)
            return -ETIMEDOUT;
        if (lg_poll(50) < 0)
            return -EIO;
    }
    r.connect_us = lg_mono_us() - t0;
    return 0;
}

/* Keeps reading for s seconds. */
static void lg_pump_for(double s)
{
    uint64_t end = lg_mono_us() + (uint64_t)(s * 1e6);

    while (!lg_stop && lg_mono_us() < end)
        lg_poll(20);
}

/* Samples every server group into the slot picked by which (0 idle,
 * 1 connected, 2 after the idle window, 3 end; 4 peak only). */
static void lg_sample_all(int which)
{
    unsigned g;

    for (g = 0; g < o.ngroups; g++) {
        struct lg_group_stats *gs = &r.gs[g];
        struct lg_proc_sample s;

        lg_proc_sample(&o.groups[g], &s);
        if (s.rss_kib > gs->rss_peak_kib)
            gs->rss_peak_kib = s.rss_kib;
        if (which == 0) gs->idle = s;
        if (which == 1) gs->connected = s;
        if (which == 2) gs->idle_end = s;
        if (which == 3) gs->run_end = s;
    }
}

/* The number of successfully published messages for channel c. */
static uint64_t lg_ok_for(uint32_t c)
{
    uint64_t n = 0;
    uint32_t i;

    for (i = c; i < o.m; i += o.channels)
        n += r.pub->status[i];
    return n;
}

/* Events every subscriber should get from what the publisher got
 * accepted (subscribers that never connected included). */
static uint64_t lg_expected(void)
{
    uint64_t *per = calloc(o.channels, sizeof(*per)), n = 0;
    uint32_t c, i;

    if (!per)
        return 0;
    for (c = 0; c < o.channels && c < o.n; c++)
        per[c] = lg_ok_for(c);
    for (i = 0; i < o.n; i++)
        n += per[r.subs[i].channel];
    free(per);
    return n;
}

/* Runs the publisher child and reads until everything expected arrived,
 * nothing arrived for --drain s after its end, or the deadline. */
static int lg_publish_phase(uint64_t deadline)
{
    uint64_t last_unique = 0, t_progress, t_sample = 0, expected = 0;
    bool pub_done = false;
    pid_t pid;
    int st;

    r.pub->deadline_us = deadline;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int rc = lg_pub_run(r.pub);

        if (rc < 0)
            fprintf(stderr, "loadgen: publisher: %s\n", strerror(-rc));
        _exit(rc < 0 ? 1 : 0);
    }
    t_progress = lg_mono_us();
    while (!lg_stop) {
        uint64_t now = lg_mono_us();

        lg_poll(20);
        if (now - t_sample > 250000) {
            lg_sample_all(4);
            t_sample = now;
        }
        if (r.unique != last_unique) {
            last_unique = r.unique;
            t_progress = now;
        }
        if (!pub_done && waitpid(pid, &st, WNOHANG) == pid) {
            pub_done = true;
            expected = lg_expected();
            t_progress = now > t_progress ? now : t_progress;
        }
        if (pub_done && (r.unique >= expected ||
                         now - t_progress > (uint64_t)(o.drain * 1e6)))
            break;
        if (now > deadline + 2000000u)
            break;
    }
    if (!pub_done) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    return 0;
}

/* Counts the messages each subscriber should have and has not. */
static uint64_t lg_lost(void)
{
    uint64_t lost = 0;
    uint32_t i, seq;

    for (i = 0; i < o.n; i++) {
        const uint8_t *bits = r.bits + (size_t)i * r.bits_per;

        for (seq = r.subs[i].channel; seq < o.m; seq += o.channels)
            if (r.pub->status[seq] && !(bits[seq >> 3] & (1u << (seq & 7))))
                lost++;
    }
    return lost;
}

/* Builds the GET request of every channel. */
static int lg_build_requests(const struct lg_url *u)
{
    uint32_t c, nch = o.channels < o.n ? o.channels : o.n;

    r.req = calloc(nch, sizeof(*r.req));
    r.req_len = calloc(nch, sizeof(*r.req_len));
    if (!r.req || !r.req_len)
        return -ENOMEM;
    for (c = 0; c < nch; c++) {
        char ch[128], path[2048];
        int len;

        lg_channel_name(ch, sizeof(ch), o.prefix, o.channels, c);
        if (lg_subst(path, sizeof(path), u->path, ch) < 0)
            return -ENAMETOOLONG;
        len = asprintf(&r.req[c], "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
                       "Accept: text/event-stream\r\n"
                       "Cache-Control: no-cache\r\n\r\n", path, u->host,
                       u->port);
        if (len < 0)
            return -ENOMEM;
        r.req_len[c] = (size_t)len;
    }
    return 0;
}

/* Allocates the subscribers, their bitmaps, the histogram and the
 * shared publisher block; 0 or -errno. */
static int lg_setup(void)
{
    struct lg_url su;
    uint32_t i;
    int rc;

    if (lg_url_parse(o.sub_url, &su) < 0 ||
        lg_url_parse(o.pub_url, &(struct lg_url){ 0 }) < 0) {
        fprintf(stderr, "loadgen: bad URL (want http://host:port/path)\n");
        return -EINVAL;
    }
    if ((rc = lg_url_addr(&su, &r.sa, &r.salen)) < 0)
        return rc;
    if ((rc = lg_build_requests(&su)) < 0)
        return rc;
    r.subs = calloc(o.n, sizeof(*r.subs));
    r.bits_per = ((size_t)o.m + 7) / 8;
    r.bits = calloc(o.n, r.bits_per ? r.bits_per : 1);
    r.hist = calloc(1, sizeof(*r.hist));
    r.pub = mmap(NULL, sizeof(*r.pub) + o.m, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!r.subs || !r.bits || !r.hist || r.pub == MAP_FAILED)
        return -ENOMEM;
    for (i = 0; i < o.n; i++) {
        r.subs[i].fd = -1;
        r.subs[i].last = -1;
        r.subs[i].channel = i % o.channels;
    }
    lg_url_parse(o.pub_url, &r.pub->url);
    r.pub->token = o.token;
    r.pub->messages = o.m;
    r.pub->channels = o.channels;
    r.pub->ch_prefix = o.prefix;
    r.pub->rate = o.rate;
    r.pub->pad = o.pad;
    r.sink.event = lg_on_event;
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    return r.ep < 0 ? -errno : 0;
}

/* Prints the report (and the JSON file); returns the exit status. */
static int lg_report(uint64_t expected, uint64_t lost, double cli_cpu)
{
    double secs = r.t_last_event > r.pub->start_us ?
        (double)(r.t_last_event - r.pub->start_us) / 1e6 : 0;
    double pub_s = r.pub->end_us > r.pub->start_us ?
        (double)(r.pub->end_us - r.pub->start_us) / 1e6 : 0;
    double eps = secs > 0 ? (double)r.unique / secs : 0;
    uint64_t p50 = lg_hist_quantile(r.hist, 0.5),
        p90 = lg_hist_quantile(r.hist, 0.9),
        p99 = lg_hist_quantile(r.hist, 0.99);
    FILE *j = o.json ? fopen(o.json, "w") : NULL;
    bool clean = lost == 0 && r.dups == 0 && r.reorders == 0 &&
        r.misrouted == 0 && r.bad == 0 && r.heads_ok == o.n &&
        r.pub->ok == o.m;
    unsigned g;

    printf("subscribers  %u connected of %u in %.3f s (slowest %.1f ms), "
           "%llu retries, %llu failed\n", (unsigned)r.heads_ok, o.n,
           (double)r.connect_us / 1e6, (double)r.hs_max_us / 1e3,
           (unsigned long long)r.retries,
           (unsigned long long)r.head_errors);
    printf("published    %u of %u accepted in %.3f s (%.0f/s), "
           "%u errors, %u connections; %u refused (503 Retry-After, sent "
           "again after %.3f s in all)\n", r.pub->ok, o.m, pub_s,
           pub_s > 0 ? r.pub->ok / pub_s : 0, r.pub->errors,
           r.pub->reconnects, r.pub->refused,
           (double)r.pub->refused_wait_us / 1e6);
    printf("delivered    %llu of %llu expected: lost %llu, duplicated "
           "%llu, reordered %llu, misrouted %llu, unparsable %llu\n",
           (unsigned long long)r.unique, (unsigned long long)expected,
           (unsigned long long)lost, (unsigned long long)r.dups,
           (unsigned long long)r.reorders,
           (unsigned long long)r.misrouted, (unsigned long long)r.bad);
    printf("rate         %.0f events/s over %.3f s; disconnects %llu\n",
           eps, secs, (unsigned long long)r.disconnects);
    printf("latency      p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  "
           "max %.3f ms\n", p50 / 1e3, p90 / 1e3, p99 / 1e3,
           r.hist->max / 1e3);
    for (g = 0; g < o.ngroups; g++) {
        struct lg_group_stats *s = &r.gs[g];

        printf("server %-8s cpu: connect %.2f s, idle %.2f s, run %.2f s;"
               " rss KiB: idle %llu, connected %llu, peak %llu "
               "(%.2f KiB/subscriber, %u procs)\n", o.groups[g].name,
               s->connected.cpu_s - s->idle.cpu_s,
               s->idle_end.cpu_s - s->connected.cpu_s,
               s->run_end.cpu_s - s->idle_end.cpu_s,
               (unsigned long long)s->idle.rss_kib,
               (unsigned long long)s->connected.rss_kib,
               (unsigned long long)s->rss_peak_kib,
               ((double)s->connected.rss_kib - (double)s->idle.rss_kib) /
               o.n, s->connected.procs);
    }
    printf("client cpu   %.2f s\n", cli_cpu);
    if (j) {
        fprintf(j, "{\"subscribers\":%u,\"connected\":%llu,"
                "\"connect_s\":%.6f,\"messages\":%u,\"published\":%u,"
                "\"publish_errors\":%u,\"publish_refused\":%u,"
                "\"publish_s\":%.6f,"
                "\"expected\":%llu,\"delivered\":%llu,\"lost\":%llu,"
                "\"duplicated\":%llu,\"reordered\":%llu,\"misrouted\":%llu,"
                "\"unparsable\":%llu,\"disconnects\":%llu,"
                "\"events_per_s\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
                "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"client_cpu_s\":%.3f,"
                "\"servers\":{", o.n, (unsigned long long)r.heads_ok,
                (double)r.connect_us / 1e6, o.m, r.pub->ok, r.pub->errors,
                r.pub->refused, pub_s, (unsigned long long)expected,
                (unsigned long long)r.unique, (unsigned long long)lost,
                (unsigned long long)r.dups, (unsigned long long)r.reorders,
                (unsigned long long)r.misrouted, (unsigned long long)r.bad,
                (unsigned long long)r.disconnects, eps, p50 / 1e3,
                p90 / 1e3, p99 / 1e3, r.hist->max / 1e3, cli_cpu);
        for (g = 0; g < o.ngroups; g++) {
            struct lg_group_stats *s = &r.gs[g];

            fprintf(j, "%s\"%s\":{\"cpu_connect_s\":%.3f,"
                    "\"cpu_idle_s\":%.3f,\"cpu_run_s\":%.3f,"
                    "\"rss_idle_kib\":%llu,\"rss_connected_kib\":%llu,"
                    "\"rss_peak_kib\":%llu,\"procs\":%u}", g ? "," : "",
                    o.groups[g].name, s->connected.cpu_s - s->idle.cpu_s,
                    s->idle_end.cpu_s - s->connected.cpu_s,
                    s->run_end.cpu_s - s->idle_end.cpu_s,
                    (unsigned long long)s->idle.rss_kib,
                    (unsigned long long)s->connected.rss_kib,
                    (unsigned long long)s->rss_peak_kib,
                    s->connected.procs);
        }
        fprintf(j, "},\"clean\":%s}\n", clean ? "true" : "false");
        fclose(j);
    } else if (o.json) {
        fprintf(stderr, "loadgen: fopen(%s): %s\n", o.json,
                strerror(errno));
    }
    return clean ? 0 : 2;
}

/* Stops the run at the next loop turn. */
static void lg_on_signal(int sig)
{
    (void)sig;
    lg_stop = 1;
}

/* The client's own CPU seconds (publisher child included). */
static double lg_client_cpu(void)
{
    struct rusage a, b;

    getrusage(RUSAGE_SELF, &a);
    getrusage(RUSAGE_CHILDREN, &b);
    return (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec +
                    b.ru_utime.tv_sec + b.ru_stime.tv_sec) +
        (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec +
                 b.ru_utime.tv_usec + b.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    uint64_t deadline, expected, lost;
    uint32_t i;
    int rc;

    lg_parse(argc, argv);
    deadline = lg_mono_us() + (uint64_t)(o.timeout * 1e6);
    signal(SIGINT, lg_on_signal);
    signal(SIGTERM, lg_on_signal);
    signal(SIGPIPE, SIG_IGN);
    if ((rc = lg_raise_nofile((rlim_t)o.n + 64)) < 0)
        fprintf(stderr, "loadgen: setrlimit(RLIMIT_NOFILE, %u): %s\n",
                o.n + 64, strerror(-rc));
    if ((rc = lg_setup()) < 0) {
        fprintf(stderr, "loadgen: setup: %s\n", strerror(-rc));
        return 1;
    }
    lg_sample_all(0);
    rc = lg_connect_all(deadline);
    if (rc < 0 || r.heads_ok == 0) {
        fprintf(stderr, "loadgen: %llu of %u subscribers connected "
                "(last bad status %u)\n", (unsigned long long)r.heads_ok,
                o.n, r.last_bad_status);
        return 1;
    }
    lg_pump_for(o.settle);
    lg_sample_all(1);
    lg_pump_for(o.idle_window);
    lg_sample_all(2);
    lg_publish_phase(deadline);
    lg_sample_all(3);
    expected = lg_expected();
    lost = lg_lost();
    for (i = 0; i < o.n; i++)
        lg_sub_close(i, true);
    if (r.pub->errors)
        fprintf(stderr, "loadgen: %u POSTs failed (last status %u)\n",
                r.pub->errors, r.pub->last_bad_status);
    return lg_report(expected, lost, lg_client_cpu());
}
