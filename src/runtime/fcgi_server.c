/* fcgi_server.c -- the FastCGI runtime's loop (see fcgi_server.h for the
 * invariants).
 *
 * Every connection is in exactly one list:
 *   pending  a request is being read; ordered by deadline (every deadline
 *            is arrival + read_timeout, so appending keeps the order and
 *            expiry looks only at the head);
 *   idle     a kept connection between requests (no deadline);
 *   writing  an answer is being written (EPOLLOUT).
 * A connection being handled or taken (detached) is in none. Closed
 * connections are freed at the end of the loop turn (graveyard), so an
 * epoll event of the same turn never sees freed memory. */
#include "ac_config.h"

#include "runtime/fcgi_server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "proto/fcgi_conn.h"
#include "proto/fcgi_rec.h"
#include "proto/http_status.h"
#include "base/log.h"
#include "base/util.h"
#include "runtime/signals.h"

#define FCGI_SERVER_EVENTS     256
#define FCGI_SERVER_ACCEPTS    64      /* accepts per listen event */
#define FCGI_SERVER_TICK_MS    250
#define FCGI_SERVER_READ       65536   /* bytes read per event */
#define FCGI_SERVER_CHUNK      32768   /* STDOUT record content */
#define FCGI_SERVER_PAUSE_US   100000  /* no accepting after EMFILE */
#define FCGI_SERVER_REPORT_US  10000000 /* drop summary at most this often */

enum fcgi_server_list { FS_NONE, FS_PENDING, FS_IDLE, FS_WRITING };

struct fcgi_request {                   /* one connection */
    struct fcgi_request *prev, *next;
    struct fcgi_request *gnext;         /* graveyard */
    struct fcgi_server *srv;
    int fd;
    uint8_t list;                       /* enum fcgi_server_list */
    bool epout, detached, dead;
    bool answering;                     /* out ends with an END_REQUEST */
    bool handled;                       /* answered or taken */
    uint64_t deadline_us;
    struct fcgi_conn in;
    char *out;                          /* answer bytes not yet written */
    size_t out_len, out_off;
};

struct fcgi_server_dlist {
    struct fcgi_request *head, *tail;
    unsigned n;
};

struct fcgi_server {
    int listen_fd, epfd, efd, sfd;
    bool listening;
    uint64_t paused_until_us;
    struct fcgi_server_ops ops;
    struct fcgi_server_limits lim;
    pthread_mutex_t mu;                 /* new_lim */
    struct fcgi_server_limits new_lim;
    bool lim_changed;
    atomic_bool stop;
    bool stopping;
    struct fcgi_server_dlist lists[4];
    struct fcgi_request *graveyard;
    atomic_ulong dropped;
    unsigned long reported;
    uint64_t report_us;
    uint64_t now_us;
};

/* ---- lists ---- */

static void fcgi_server_unlist(struct fcgi_server *s, struct fcgi_request *c)
{
    struct fcgi_server_dlist *l = &s->lists[c->list];

    if (c->list == FS_NONE)
        return;
    if (c->prev) c->prev->next = c->next; else l->head = c->next;
    if (c->next) c->next->prev = c->prev; else l->tail = c->prev;
    c->prev = c->next = NULL;
    l->n--;
    c->list = FS_NONE;
}

static void fcgi_server_enlist(struct fcgi_server *s, struct fcgi_request *c,
                               enum fcgi_server_list which)
{
    struct fcgi_server_dlist *l = &s->lists[which];

    fcgi_server_unlist(s, c);
    c->list = (uint8_t)which;
    c->prev = l->tail;
    c->next = NULL;
    if (l->tail) l->tail->next = c; else l->head = c;
    l->tail = c;
    l->n++;
}

/* Closes c's descriptor and buries it (freed at the end of the turn). */
static void fcgi_server_close(struct fcgi_server *s, struct fcgi_request *c)
{
    if (c->dead)
        return;
    fcgi_server_unlist(s, c);
    if (c->fd >= 0 && !c->detached)
        close(c->fd);               /* close also leaves the epoll set */
    c->fd = -1;
    c->dead = true;
    c->gnext = s->graveyard;
    s->graveyard = c;
}

static void fcgi_server_bury(struct fcgi_server *s)
{
    struct fcgi_request *c;

    while ((c = s->graveyard) != NULL) {
        s->graveyard = c->gnext;
        fcgi_conn_free(&c->in);
        free(c->out);
        free(c);
    }
}

/* Drops c, a connection that did not complete its request in time or is
 * the oldest when room is needed; counted for the periodic summary. */
static void fcgi_server_drop(struct fcgi_server *s, struct fcgi_request *c)
{
    atomic_fetch_add(&s->dropped, 1);
    fcgi_server_close(s, c);
}

/* Moves c to pending with a fresh deadline. */
static void fcgi_server_pend(struct fcgi_server *s, struct fcgi_request *c)
{
    c->deadline_us = s->now_us + (uint64_t)s->lim.read_timeout_ms * 1000;
    fcgi_server_enlist(s, c, FS_PENDING);
}

/* ---- writing ---- */

static void fcgi_server_want_out(struct fcgi_server *s,
                                 struct fcgi_request *c, bool on)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };

    if (c->epout == on)
        return;
    if (on)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->epout = on;
}

/* The answer is written: keep the connection for the next request, or
 * close it (no FCGI_KEEP_CONN, or stopping). */
static void fcgi_server_answered(struct fcgi_server *s,
                                 struct fcgi_request *c)
{
    if (!c->in.keep_conn || s->stopping) {
        fcgi_server_close(s, c);
        return;
    }
    fcgi_conn_next(&c->in);
    fcgi_server_enlist(s, c, FS_IDLE);
}

/* Writes what is pending of c's output; once an answer is out, keeps or
 * closes the connection. */
static void fcgi_server_flush(struct fcgi_server *s, struct fcgi_request *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off,
                          c->out_len - c->out_off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->answering)
                fcgi_server_enlist(s, c, FS_WRITING);
            fcgi_server_want_out(s, c, true);
            return;
        }
        if (n <= 0) {
            fcgi_server_close(s, c);
            return;
        }
        c->out_off += (size_t)n;
    }
    c->out_len = c->out_off = 0;
    fcgi_server_want_out(s, c, false);
    if (c->answering) {
        c->answering = false;
        fcgi_server_answered(s, c);
    }
}

/* Appends len bytes to c's pending output. 0 or -ENOMEM. */
static int fcgi_server_put(struct fcgi_request *c, const void *buf,
                           size_t len)
{
    char *nb = realloc(c->out, c->out_len + len);

    if (nb == NULL)
        return -ENOMEM;
    c->out = nb;
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    return 0;
}

int fcgi_request_reply(struct fcgi_request *r, const char *cgi, size_t len)
{
    struct fcgi_server *s = r->srv;
    unsigned id = r->in.request_id;
    uint8_t hdr[FCGI_REC_HEADER_LEN], end[FCGI_REC_END_LEN];
    size_t off = 0;
    int rc = 0;

    r->handled = true;
    while (rc == 0 && off < len) {
        size_t n = len - off < FCGI_SERVER_CHUNK ? len - off
                                                 : FCGI_SERVER_CHUNK;

        fcgi_rec_header(hdr, FCGI_REC_STDOUT, id, n);
        rc = fcgi_server_put(r, hdr, sizeof(hdr));
        if (rc == 0)
            rc = fcgi_server_put(r, cgi + off, n);
        off += n;
    }
    fcgi_rec_header(hdr, FCGI_REC_STDOUT, id, 0);
    fcgi_rec_end_request(end, id, 0);
    if (rc == 0)
        rc = fcgi_server_put(r, hdr, sizeof(hdr));
    if (rc == 0)
        rc = fcgi_server_put(r, end, sizeof(end));
    if (rc < 0) {
        fcgi_server_close(s, r);
        return rc;
    }
    r->answering = true;
    fcgi_server_flush(s, r);
    return r->dead ? -EPIPE : 0;
}

int fcgi_request_detach(struct fcgi_request *r, unsigned *request_id)
{
    struct fcgi_server *s = r->srv;
    int fd = r->fd;

    r->handled = true;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
    *request_id = r->in.request_id;
    r->detached = true;
    fcgi_server_close(s, r);
    return fd;
}

const char *fcgi_request_param(const struct fcgi_request *r,
                               const char *name)
{
    return fcgi_conn_param(&r->in, name);
}

const char *fcgi_request_body(const struct fcgi_request *r, size_t *len,
                              size_t *seen)
{
    *len = r->in.body_len;
    *seen = r->in.body_seen;
    return r->in.body ? r->in.body : "";
}

/* ---- reading ---- */

/* Hands the complete request to the program. */
static void fcgi_server_dispatch(struct fcgi_server *s,
                                 struct fcgi_request *c)
{
    fcgi_server_unlist(s, c);
    c->handled = false;
    s->ops.handle(c, s->ops.ctx);
    if (!c->handled && !c->dead) {      /* neither answered nor taken */
        log_error("request %u left unanswered: closing it",
                  c->in.request_id);
        fcgi_server_close(s, c);
    }
}

/* Acts on one event of the connection's parser. */
static void fcgi_server_on_event(struct fcgi_server *s,
                                 struct fcgi_request *c, int ev)
{
    switch (ev) {
    case FCGI_CONN_MORE:
        if (c->list == FS_IDLE && fcgi_conn_in_request(&c->in))
            fcgi_server_pend(s, c);
        break;
    case FCGI_CONN_PARAMS:
        c->in.body_keep = s->ops.body_limit ? s->ops.body_limit(c,
                                                  s->ops.ctx) : 0;
        break;
    case FCGI_CONN_REQUEST:
        fcgi_server_dispatch(s, c);
        break;
    case FCGI_CONN_REPLY:
        if (fcgi_server_put(c, c->in.reply, c->in.reply_len) < 0)
            fcgi_server_close(s, c);
        else if (!c->epout)
            fcgi_server_flush(s, c);
        break;
    default:                        /* ABORT, or a protocol error */
        if (ev < 0)
            log_debug("connection closed: %s", strerror(-ev));
        fcgi_server_close(s, c);
    }
}

/* Reads what c's peer sent and feeds it to the parser, event by event. */
static void fcgi_server_read(struct fcgi_server *s, struct fcgi_request *c)
{
    static __thread uint8_t buf[FCGI_SERVER_READ];
    size_t off = 0, used;
    ssize_t n;

    do
        n = read(c->fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {                       /* the web server closed it */
        fcgi_server_close(s, c);
        return;
    }
    while (off < (size_t)n && !c->dead && !c->detached) {
        int ev = fcgi_conn_feed(&c->in, buf + off, (size_t)n - off, &used);

        off += used;
        fcgi_server_on_event(s, c, ev);
    }
}

static void fcgi_server_conn_event(struct fcgi_server *s,
                                   struct fcgi_request *c, uint32_t ev)
{
    if (c->dead)
        return;
    if (ev & EPOLLOUT)
        fcgi_server_flush(s, c);
    if (!c->dead && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        fcgi_server_read(s, c);
}

/* ---- accepting ---- */

static void fcgi_server_listen_on(struct fcgi_server *s, bool on)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE,
                              .data.ptr = &s->listen_fd };

    if (s->listening == on)
        return;
    if (on && epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0) {
        log_error("epoll_ctl ADD listening fd %d: %s", s->listen_fd,
                  strerror(errno));
        return;
    }
    if (!on)
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listen_fd, NULL);
    s->listening = on;
}

/* Adopts an accepted descriptor as a pending connection. */
static void fcgi_server_adopt(struct fcgi_server *s, int fd)
{
    struct fcgi_conn_limits cl = { s->lim.params_max, s->lim.body_drain_max };
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
    struct fcgi_request *c;

    if (s->lists[FS_PENDING].n >= s->lim.max_pending)
        fcgi_server_drop(s, s->lists[FS_PENDING].head);
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->srv = s;
    fcgi_conn_init(&c->in, &cl);
    ev.data.ptr = c;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        log_error("epoll_ctl ADD fd %d: %s", fd, strerror(errno));
        close(fd);
        free(c);
        return;
    }
    fcgi_server_pend(s, c);
}

/* Sends this worker to the back of the line for the next connection.
 * EPOLLEXCLUSIVE wakes the first idle worker in the socket's wait queue,
 * and an epoll stays where it was added: connections that arrive one at
 * a time (browsers, spread over the day) would all go to one worker while
 * the others idle, and that worker alone would meet max_subscribers.
 * Deleting and adding the listening socket again moves this worker to the
 * tail, so idle workers take turns (busy ones are skipped anyway). */
static void fcgi_server_rotate(struct fcgi_server *s)
{
    if (!s->listening || s->stopping)
        return;
    fcgi_server_listen_on(s, false);
    fcgi_server_listen_on(s, true);
}

/* Accepts a batch of connections, then lets the other workers go first
 * (fcgi_server_rotate). Out of descriptors, it first drops the oldest
 * pending connection; with none to drop it pauses accepting. */
static void fcgi_server_accept(struct fcgi_server *s)
{
    int i;

    for (i = 0; i < FCGI_SERVER_ACCEPTS && !s->stopping; i++) {
        int fd = accept4(s->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd >= 0) {
            fcgi_server_adopt(s, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if ((errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
             errno == ENOBUFS) && s->lists[FS_PENDING].head != NULL) {
            fcgi_server_drop(s, s->lists[FS_PENDING].head);
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            log_error("accept on fd %d: %s (pausing for %d ms)",
                      s->listen_fd, strerror(errno),
                      FCGI_SERVER_PAUSE_US / 1000);
            fcgi_server_listen_on(s, false);
            s->paused_until_us = s->now_us + FCGI_SERVER_PAUSE_US;
        }
        return;
    }
}

/* ---- the loop ---- */

/* Tells a request whose params came but whose body did not complete in
 * time why it ends: 408 with a reason, one best-effort write. */
static void fcgi_server_timed_out(struct fcgi_server *s,
                                  struct fcgi_request *c)
{
    char reason[160], resp[HTTP_STATUS_RESPONSE_MAX];
    uint8_t rec[FCGI_REC_HEADER_LEN * 2 + HTTP_STATUS_RESPONSE_MAX +
                FCGI_REC_END_LEN];
    unsigned id = c->in.request_id;
    int n;

    snprintf(reason, sizeof(reason), "request body timed out: not "
             "complete within fastcgi.read_timeout (%u ms; got %zu bytes)",
             s->lim.read_timeout_ms, c->in.body_seen);
    n = http_status_format(resp, sizeof(resp), 408, NULL, reason);
    if (n <= 0)
        return;
    if (s->ops.on_refusal != NULL)
        s->ops.on_refusal(408, s->ops.ctx);
    fcgi_rec_header(rec, FCGI_REC_STDOUT, id, (size_t)n);
    memcpy(rec + FCGI_REC_HEADER_LEN, resp, (size_t)n);
    fcgi_rec_header(rec + FCGI_REC_HEADER_LEN + n, FCGI_REC_STDOUT, id, 0);
    fcgi_rec_end_request(rec + 2 * FCGI_REC_HEADER_LEN + n, id, 0);
    if (write(c->fd, rec, 2 * FCGI_REC_HEADER_LEN + (size_t)n +
              FCGI_REC_END_LEN) < 0)
        log_debug("408 to fd %d: %s", c->fd, strerror(errno));
}

/* Closes pending connections whose deadline has passed (a request with
 * its params complete is told so first). */
static void fcgi_server_expire(struct fcgi_server *s)
{
    struct fcgi_request *c;

    while ((c = s->lists[FS_PENDING].head) != NULL &&
           c->deadline_us <= s->now_us) {
        if (c->in.params_done && !c->epout)
            fcgi_server_timed_out(s, c);
        fcgi_server_drop(s, c);
    }
}

/* Logs how many connections were dropped, at most every 10 s. */
static void fcgi_server_report(struct fcgi_server *s)
{
    unsigned long d = atomic_load(&s->dropped);

    if (d == s->reported || s->now_us < s->report_us)
        return;
    log_warn("closed %lu connection(s) whose request was not complete "
             "within fastcgi.read_timeout (%u ms) or that made room "
             "(fastcgi.max_pending %u)", d - s->reported,
             s->lim.read_timeout_ms, s->lim.max_pending);
    s->reported = d;
    s->report_us = s->now_us + FCGI_SERVER_REPORT_US;
}

static void fcgi_server_signals(struct fcgi_server *s)
{
    struct signalfd_siginfo si;

    while (read(s->sfd, &si, sizeof(si)) == sizeof(si))
        s->ops.on_signal((int)si.ssi_signo, s->ops.ctx);
}

/* Applies stop and new limits; resumes accepting after a pause. */
static void fcgi_server_control(struct fcgi_server *s)
{
    struct fcgi_request *c;

    pthread_mutex_lock(&s->mu);
    if (s->lim_changed) {
        s->lim = s->new_lim;
        s->lim_changed = false;
    }
    pthread_mutex_unlock(&s->mu);
    if (atomic_load(&s->stop) && !s->stopping) {
        s->stopping = true;
        fcgi_server_listen_on(s, false);
    }
    if (s->stopping) {
        while ((c = s->lists[FS_IDLE].head) != NULL)
            fcgi_server_close(s, c);
        return;
    }
    if (!s->listening && s->now_us >= s->paused_until_us)
        fcgi_server_listen_on(s, true);
}

/* Milliseconds epoll may sleep: until the next deadline, at most a tick. */
static int fcgi_server_timeout(const struct fcgi_server *s)
{
    const struct fcgi_request *c = s->lists[FS_PENDING].head;
    uint64_t ms;

    if (c == NULL)
        return FCGI_SERVER_TICK_MS;
    if (c->deadline_us <= s->now_us)
        return 0;
    ms = (c->deadline_us - s->now_us + 999) / 1000;
    return ms < FCGI_SERVER_TICK_MS ? (int)ms : FCGI_SERVER_TICK_MS;
}

static bool fcgi_server_done(const struct fcgi_server *s)
{
    return s->stopping && s->lists[FS_PENDING].n == 0 &&
           s->lists[FS_IDLE].n == 0 && s->lists[FS_WRITING].n == 0;
}

int fcgi_server_run(struct fcgi_server *s)
{
    struct epoll_event evs[FCGI_SERVER_EVENTS];
    uint64_t v;
    int n, i;

    s->now_us = util_mono_us();
    for (;;) {
        fcgi_server_control(s);
        if (fcgi_server_done(s))
            return 0;
        n = epoll_wait(s->epfd, evs, FCGI_SERVER_EVENTS,
                       fcgi_server_timeout(s));
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            return -errno;
        }
        s->now_us = util_mono_us();
        for (i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;

            if (tag == &s->listen_fd) {
                fcgi_server_accept(s);
                fcgi_server_rotate(s);
            }
            else if (tag == &s->efd)
                while (read(s->efd, &v, sizeof(v)) == sizeof(v))
                    ;
            else if (tag == &s->sfd)
                fcgi_server_signals(s);
            else
                fcgi_server_conn_event(s, tag, evs[i].events);
        }
        fcgi_server_expire(s);
        fcgi_server_report(s);
        fcgi_server_bury(s);
    }
}

void fcgi_server_stop(struct fcgi_server *s)
{
    uint64_t one = 1;

    atomic_store(&s->stop, true);
    if (write(s->efd, &one, sizeof(one)) < 0)
        log_debug("eventfd write: %s", strerror(errno));
}

void fcgi_server_set_limits(struct fcgi_server *s,
                            const struct fcgi_server_limits *lim)
{
    uint64_t one = 1;

    pthread_mutex_lock(&s->mu);
    s->new_lim = *lim;
    s->lim_changed = true;
    pthread_mutex_unlock(&s->mu);
    if (write(s->efd, &one, sizeof(one)) < 0)
        log_debug("eventfd write: %s", strerror(errno));
}

unsigned long fcgi_server_dropped(const struct fcgi_server *s)
{
    return atomic_load(&s->dropped);
}

/* Adds fd to epoll, tagged with its own address in s. */
static int fcgi_server_watch(struct fcgi_server *s, int *fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = fd };

    return epoll_ctl(s->epfd, EPOLL_CTL_ADD, *fd, &ev) < 0 ? -errno : 0;
}

int fcgi_server_create(int listen_fd, const struct fcgi_server_limits *lim,
                       const struct fcgi_server_ops *ops,
                       struct fcgi_server **out)
{
    struct fcgi_server *s;
    sigset_t sigs;
    int rc;

    rc = util_fd_nonblock(listen_fd);
    if (rc < 0) {
        log_error("fcntl O_NONBLOCK on the listening socket (fd %d): %s",
                  listen_fd, strerror(-rc));
        return rc;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->listen_fd = listen_fd;
    s->lim = *lim;
    s->ops = *ops;
    s->sfd = -1;
    pthread_mutex_init(&s->mu, NULL);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->epfd < 0 || s->efd < 0)
        goto fail;
    if (ops->on_signal != NULL) {
        signals_control_set(&sigs);
        s->sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
        if (s->sfd < 0 || fcgi_server_watch(s, &s->sfd) < 0)
            goto fail;
    }
    if (fcgi_server_watch(s, &s->efd) < 0)
        goto fail;
    s->now_us = util_mono_us();
    fcgi_server_listen_on(s, true);
    if (!s->listening)
        goto fail;
    *out = s;
    return 0;

fail:
    rc = errno ? -errno : -EIO;
    log_error("fcgi_server_create: %s", strerror(-rc));
    fcgi_server_destroy(s);
    return rc;
}

void fcgi_server_destroy(struct fcgi_server *s)
{
    int i;

    if (s == NULL)
        return;
    for (i = FS_PENDING; i <= FS_WRITING; i++)
        while (s->lists[i].head != NULL)
            fcgi_server_close(s, s->lists[i].head);
    fcgi_server_bury(s);
    if (s->epfd >= 0) close(s->epfd);
    if (s->efd >= 0) close(s->efd);
    if (s->sfd >= 0) close(s->sfd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
