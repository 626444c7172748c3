/* floor.c -- the floor of an nginx + FastCGI fan-out (issue 23): the least
 * a FastCGI responder behind sseq's own nginx snippet can do, for
 * bench/run to measure sseq against. One process, one epoll loop, raw
 * sockets, no library: every GET nginx passes (/events?channel=NAME) is
 * held as a subscriber of NAME after a 200 head; every POST (/publish/NAME
 * or ?channel=NAME) is answered 200, then one FastCGI STDOUT record
 * "id: N\ndata: ...\n\n" goes to each subscriber of NAME at once. No
 * queue, no auth, no replay, no heartbeat, no batching: a bound, not a
 * server.
 *
 * Usage: floor SOCKET [SOCKET...]   (unix sockets it creates and listens
 * on; SIGTERM or SIGINT ends it and removes them)
 *
 * Key invariant: nginx sends one request at a time on a connection (it
 * never multiplexes), so a connection is either reading a request, or a
 * subscriber, and bytes a socket would not take wait in its out buffer,
 * in order, until EPOLLOUT drains them: nothing is dropped or reordered. */
#define _GNU_SOURCE                     /* accept4 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

enum { REC_BEGIN = 1, REC_ABORT = 2, REC_END = 3, REC_PARAMS = 4,
       REC_STDIN = 5, REC_STDOUT = 6 };
enum { HDR = 8, CONTENT_MAX = 65535, PARAMS_MAX = 65536,
       BODY_MAX = 65536, READ_CHUNK = 4096 };
enum conn_kind { CONN_LISTEN, CONN_REQ, CONN_SUB };

struct buf {
    char *p;
    size_t len, cap;
};

struct conn {
    int fd;
    enum conn_kind kind;
    uint16_t req_id;                    /* from BEGIN_REQUEST */
    uint8_t keep;                       /* FCGI_KEEP_CONN was set */
    uint8_t closing;                    /* close once out is written */
    uint8_t dead;                       /* in the graveyard: ignore */
    struct buf in, params, body;        /* request bytes (freed once held) */
    struct buf out;                     /* bytes the socket did not take */
    char *channel;                      /* a subscriber's channel */
    struct conn *prev, *next;           /* the subscriber list */
};

static int ep;
static struct conn *subs;               /* every subscriber */
static struct conn *graveyard;          /* closed, freed after the batch */
static unsigned long long next_id = 1;  /* the id: of the next event */
static volatile sig_atomic_t stop;

/* Appends n bytes to b; 0, or -ENOMEM (b unchanged). */
static int buf_add(struct buf *b, const void *p, size_t n)
{
    size_t cap = b->cap ? b->cap : 256;
    char *np;

    while (cap < b->len + n)
        cap *= 2;
    if (cap != b->cap) {
        if (!(np = realloc(b->p, cap)))
            return -ENOMEM;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* Closes c (a subscriber leaves the list) and moves it to the graveyard:
 * an event of this epoll batch may still name it. Closing twice is a
 * no-op. */
static void conn_close(struct conn *c)
{
    if (c->dead)
        return;
    if (c->kind == CONN_SUB) {
        if (c->prev)
            c->prev->next = c->next;
        else
            subs = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    close(c->fd);
    buf_free(&c->in);
    buf_free(&c->params);
    buf_free(&c->body);
    buf_free(&c->out);
    free(c->channel);
    c->dead = 1;
    c->next = graveyard;
    graveyard = c;
}

/* Frees the connections closed during the last batch. */
static void graveyard_empty(void)
{
    struct conn *c;

    while ((c = graveyard)) {
        graveyard = c->next;
        free(c);
    }
}

/* Asks epoll for EPOLLOUT too (want) or EPOLLIN only. */
static int conn_watch(struct conn *c, int want_out)
{
    struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0),
                              .data.ptr = c };

    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -errno : 0;
}

/* Writes iov[0..n) in order after what c->out holds; what the socket does
 * not take now goes to c->out. 0, or -errno (c must be closed). */
static int conn_sendv(struct conn *c, struct iovec *iov, int n)
{
    ssize_t w = 0;
    int i, was_empty = c->out.len == 0;

    if (was_empty && (w = writev(c->fd, iov, n)) < 0) {
        if (errno != EAGAIN)
            return -errno;
        w = 0;
    }
    for (i = 0; i < n; i++) {
        size_t skip = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;

        w -= (ssize_t)skip;
        if (skip < iov[i].iov_len &&
            buf_add(&c->out, (char *)iov[i].iov_base + skip,
                    iov[i].iov_len - skip) < 0)
            return -ENOMEM;
    }
    return was_empty && c->out.len ? conn_watch(c, 1) : 0;
}

/* Fills an 8-byte FastCGI record header. */
static void rec_header(uint8_t *h, int type, uint16_t id, size_t len)
{
    h[0] = 1, h[1] = (uint8_t)type, h[2] = id >> 8, h[3] = id & 0xff;
    h[4] = (uint8_t)(len >> 8), h[5] = len & 0xff, h[6] = 0, h[7] = 0;
}

/* Sends one record of type with content p[0..len), len <= CONTENT_MAX. */
static int conn_record(struct conn *c, int type, const void *p, size_t len)
{
    uint8_t h[HDR];
    struct iovec iov[2] = { { h, HDR }, { (void *)p, len } };

    rec_header(h, type, c->req_id, len);
    return conn_sendv(c, iov, len ? 2 : 1);
}

/* Answers the request with head+body, ends it (STDOUT end, END_REQUEST);
 * the connection closes after unless nginx asked to keep it. */
static int conn_answer(struct conn *c, const char *text)
{
    static const uint8_t end_body[8];   /* appStatus 0, REQUEST_COMPLETE */
    int rc;

    if ((rc = conn_record(c, REC_STDOUT, text, strlen(text))) < 0 ||
        (rc = conn_record(c, REC_STDOUT, NULL, 0)) < 0 ||
        (rc = conn_record(c, REC_END, end_body, sizeof(end_body))) < 0)
        return rc;
    buf_free(&c->params);
    buf_free(&c->body);
    if (c->keep)
        return 0;
    c->closing = 1;
    return c->out.len ? 0 : -ECONNRESET;
}

/* The value of param name in the PARAMS stream p[0..n), or NULL. */
static const char *param_get(const struct buf *p, const char *name,
                             size_t *vlen)
{
    const uint8_t *s = (const uint8_t *)p->p, *e = s + p->len;
    size_t len[2], nlen = strlen(name);
    int k;

    while (s < e) {
        for (k = 0; k < 2; k++) {
            if (s < e && !(*s & 0x80)) {
                len[k] = *s++;
            } else if (e - s >= 4) {
                len[k] = ((size_t)(s[0] & 0x7f) << 24) | (s[1] << 16) |
                         (s[2] << 8) | s[3];
                s += 4;
            } else {
                return NULL;
            }
        }
        if ((size_t)(e - s) < len[0] + len[1])
            return NULL;
        if (len[0] == nlen && memcmp(s, name, nlen) == 0) {
            *vlen = len[1];
            return (const char *)s + len[0];
        }
        s += len[0] + len[1];
    }
    return NULL;
}

/* The value of key in query q[0..n) (no percent-decoding): a malloc'd
 * string, or NULL. */
static char *query_get(const char *q, size_t n, const char *key)
{
    const char *end = q + n, *amp;
    size_t k = strlen(key);

    for (; q < end; q = amp + (amp < end)) {
        if (!(amp = memchr(q, '&', (size_t)(end - q))))
            amp = end;
        if ((size_t)(amp - q) > k && memcmp(q, key, k) == 0 && q[k] == '=')
            return strndup(q + k + 1, (size_t)(amp - q) - k - 1);
    }
    return NULL;
}

/* The channel of the request: PATH_INFO "/NAME", else the query's
 * channel=NAME; a malloc'd string or NULL. */
static char *req_channel(const struct conn *c)
{
    const char *v;
    size_t n;

    if ((v = param_get(&c->params, "PATH_INFO", &n)) && n > 1 && *v == '/')
        return strndup(v + 1, n - 1);
    if (!(v = param_get(&c->params, "QUERY_STRING", &n)))
        return NULL;
    return query_get(v, n, "channel");
}

/* Formats the SSE event of body into ev ("id:", one "data:" a line). */
static int event_format(struct buf *ev, const struct buf *body)
{
    const char *s = body->p, *e = s + body->len, *nl;
    char id[32];
    int rc = buf_add(ev, id, (size_t)snprintf(id, sizeof(id), "id: %llu\n",
                                              next_id++));

    while (rc == 0 && s < e) {
        size_t n;

        if (!(nl = memchr(s, '\n', (size_t)(e - s))))
            nl = e;
        n = (size_t)(nl - s) - (nl > s && nl[-1] == '\r');
        if ((rc = buf_add(ev, "data: ", 6)) == 0 &&
            (rc = buf_add(ev, s, n)) == 0)
            rc = buf_add(ev, "\n", 1);
        s = nl + 1;
    }
    return rc ? rc : buf_add(ev, "\n", 1);
}

/* Writes one STDOUT record of event ev to every subscriber of ch; a
 * subscriber whose socket fails is closed. */
static void fanout(const char *ch, const struct buf *ev)
{
    struct conn *s, *next;
    uint8_t h[HDR];
    struct iovec iov[2];

    for (s = subs; s; s = next) {
        next = s->next;
        if (strcmp(s->channel, ch) != 0)
            continue;
        rec_header(h, REC_STDOUT, s->req_id, ev->len);
        iov[0] = (struct iovec){ h, HDR };
        iov[1] = (struct iovec){ ev->p, ev->len };
        if (conn_sendv(s, iov, 2) < 0)
            conn_close(s);
    }
}

/* Publishes c's body on ch: answers 200 first (as sseq-publish answers
 * once the message is queued, before any subscriber has it), then fans
 * out; 413 when the event does not fit one record. */
static int req_publish(struct conn *c, const char *ch)
{
    struct buf ev = { 0 };
    int rc;

    if (event_format(&ev, &c->body) < 0 || ev.len > CONTENT_MAX) {
        buf_free(&ev);
        return conn_answer(c, "Status: 413 Too Large\r\n"
                           "Content-Length: 0\r\n\r\n");
    }
    rc = conn_answer(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n"
                     "Content-Length: 3\r\n\r\nok\n");
    fanout(ch, &ev);
    buf_free(&ev);
    return rc;
}

/* Handles a whole request: POST publishes, any other method subscribes. */
static int req_dispatch(struct conn *c)
{
    static const char head[] = "Status: 200 OK\r\n"
        "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
    size_t n;
    const char *m = param_get(&c->params, "REQUEST_METHOD", &n);
    char *ch = req_channel(c);
    int rc;

    if (!ch || !m) {
        free(ch);
        return conn_answer(c, "Status: 400 Bad Request\r\n"
                           "Content-Length: 0\r\n\r\n");
    }
    if (n == 4 && memcmp(m, "POST", 4) == 0) {
        rc = req_publish(c, ch);
        free(ch);
        return rc;
    }
    c->channel = ch;
    c->kind = CONN_SUB;
    c->next = subs;
    if (subs)
        subs->prev = c;
    subs = c;
    buf_free(&c->params);
    buf_free(&c->body);
    return conn_record(c, REC_STDOUT, head, sizeof(head) - 1);
}

/* Handles one record of content p[0..len). 0, or -errno to close. */
static int req_record(struct conn *c, int type, uint16_t id,
                      const uint8_t *p, size_t len)
{
    switch (type) {
    case REC_BEGIN:
        c->req_id = id;
        c->keep = len >= 3 && (p[2] & 1);
        return 0;
    case REC_PARAMS:
        if (c->params.len + len > PARAMS_MAX)
            return -E2BIG;
        return len ? buf_add(&c->params, p, len) : 0;
    case REC_STDIN:
        if (c->body.len + len > BODY_MAX)
            return -E2BIG;
        if (len)
            return buf_add(&c->body, p, len);
        return c->kind == CONN_REQ ? req_dispatch(c) : 0;
    case REC_ABORT:
        return -ECONNABORTED;
    default:
        return 0;
    }
}

/* Handles every whole record in c->in, keeping a partial one. */
static int conn_records(struct conn *c)
{
    const uint8_t *s = (const uint8_t *)c->in.p;
    size_t off = 0, len, whole;
    int rc = 0;

    while (rc == 0 && c->in.len - off >= HDR) {
        len = ((size_t)s[off + 4] << 8) | s[off + 5];
        whole = HDR + len + s[off + 6];
        if (c->in.len - off < whole)
            break;
        rc = req_record(c, s[off + 1], (uint16_t)(s[off + 2] << 8 |
                        s[off + 3]), s + off + HDR, len);
        off += whole;
    }
    memmove(c->in.p, c->in.p + off, c->in.len - off);
    c->in.len -= off;
    if (c->kind == CONN_SUB && c->in.len == 0)
        buf_free(&c->in);
    return rc;
}

/* Reads what c's socket has; 0, or -errno when c is to be closed. */
static int conn_read(struct conn *c)
{
    uint8_t tmp[READ_CHUNK];
    ssize_t r;
    int rc;

    for (;;) {
        r = read(c->fd, tmp, sizeof(tmp));
        if (r == 0)
            return -ECONNRESET;
        if (r < 0)
            return errno == EAGAIN ? 0 : -errno;
        if ((rc = buf_add(&c->in, tmp, (size_t)r)) < 0 ||
            (rc = conn_records(c)) < 0)
            return rc;
    }
}

/* Writes what c->out holds; 0, or -errno when c is to be closed. */
static int conn_flush(struct conn *c)
{
    ssize_t w = write(c->fd, c->out.p, c->out.len);

    if (w < 0)
        return errno == EAGAIN ? 0 : -errno;
    memmove(c->out.p, c->out.p + w, c->out.len - (size_t)w);
    c->out.len -= (size_t)w;
    if (c->out.len)
        return 0;
    buf_free(&c->out);
    return c->closing ? -ECONNRESET : conn_watch(c, 0);
}

/* Adds fd to the loop as a new connection of kind; -errno on failure. */
static int conn_add(int fd, enum conn_kind kind)
{
    struct conn *c = calloc(1, sizeof(*c));
    struct epoll_event ev = { .events = EPOLLIN };

    if (!c)
        return close(fd), -ENOMEM;
    c->fd = fd;
    c->kind = kind;
    ev.data.ptr = c;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;

        return close(fd), free(c), -e;
    }
    return 0;
}

/* Accepts every pending connection on listener l. */
static void listen_accept(struct conn *l)
{
    int fd;

    while ((fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))
           >= 0)
        if (conn_add(fd, CONN_REQ) < 0)
            perror("floor: epoll_ctl ADD");
    if (errno != EAGAIN && errno != ECONNABORTED)
        perror("floor: accept4");
}

/* Creates, binds and listens on unix socket path; 0 or -errno. */
static int listen_on(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
        return fprintf(stderr, "floor: socket %s: %s\n", path,
                       strerror(fd < 0 ? errno : ENAMETOOLONG)), -EINVAL;
    strcpy(sa.sun_path, path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 4096) < 0) {
        fprintf(stderr, "floor: bind/listen %s: %s\n", path, strerror(errno));
        return close(fd), -EINVAL;
    }
    return conn_add(fd, CONN_LISTEN);
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Runs the loop until SIGTERM/SIGINT. */
static void loop(void)
{
    struct epoll_event ev[256];
    int i, n, rc;

    while (!stop) {
        n = epoll_wait(ep, ev, 256, -1);
        for (i = 0; i < n; i++) {
            struct conn *c = ev[i].data.ptr;

            if (c->dead)
                continue;
            if (c->kind == CONN_LISTEN) {
                listen_accept(c);
                continue;
            }
            rc = 0;
            if (ev[i].events & EPOLLOUT)
                rc = conn_flush(c);
            if (rc == 0 && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                rc = conn_read(c);
            if (rc < 0)
                conn_close(c);
        }
        graveyard_empty();
    }
}

int main(int argc, char **argv)
{
    struct sigaction sa = { .sa_handler = on_signal };
    struct rlimit rl;
    int i;

    if (argc < 2) {
        fputs("usage: floor SOCKET [SOCKET...]\n", stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return perror("floor: epoll_create1"), 1;
    for (i = 1; i < argc; i++)
        if (listen_on(argv[i]) < 0)
            return 1;
    loop();
    for (i = 1; i < argc; i++)
        unlink(argv[i]);
    return 0;
}
