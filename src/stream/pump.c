/* pump.c -- sseq-stream's event loop and stream lifecycle (see pump.h
 * for the invariants, pump_int.h for the other parts).
 *
 * One iteration: epoll events (stream I/O, eventfd, signalfd, timers),
 * then adopt a new queue, take submitted streams, fan out new queue
 * records or hold them (pump_coalesce.c), advance replays
 * (pump_replay.c), write every stream touched, free streams that died.
 * A stream is freed only at the end of an iteration ("graveyard"), so an
 * epoll event or a list still naming it never sees freed memory.
 *
 * A stream whose queue would pass client_buffer is first written to (a
 * batch must not drop a client that keeps up), then dropped if it still
 * would (the browser reconnects and resumes by id); nobody waits for it.
 * A stream whose token has an exp is on the expiring list and is ended
 * (END_REQUEST) at the first timer tick at or after exp. */
#include "ac_config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include <time.h>

#include "base/log.h"
#include "stream/pump_int.h"
#include "base/util.h"
#include "runtime/signals.h"

#define PUMP_EVENTS       256       /* epoll events per wait */
#define PUMP_TICK_MS      250       /* timer: heartbeats, counters */
#define PUMP_DRAIN_US     700000    /* SIGTERM: time to flush END_REQUEST */

static const char pump_heartbeat[] = SSE_HEARTBEAT;

/* Takes s off the all-streams list. */
static void pump_all_unlink(struct pump *p, struct stream *s)
{
    if (s->prev) s->prev->next = s->next; else p->all_head = s->next;
    if (s->next) s->next->prev = s->prev; else p->all_tail = s->prev;
    s->prev = s->next = NULL;
}

/* Puts s at the end of the all-streams list (output now). */
static void pump_all_append(struct pump *p, struct stream *s)
{
    s->prev = p->all_tail;
    s->next = NULL;
    if (p->all_tail) p->all_tail->next = s; else p->all_head = s;
    p->all_tail = s;
    s->last_us = p->now_us;
}

/* Marks s for writing at the end of this iteration. */
static void pump_touch(struct pump *p, struct stream *s)
{
    if (s->touched)
        return;
    s->touched = true;
    s->tnext = p->touched;
    p->touched = s;
}

/* Puts s on the expiring list (its end_us is set). */
static void pump_expiry_add(struct pump *p, struct stream *s)
{
    s->xprev = NULL;
    s->xnext = p->expiring;
    if (p->expiring != NULL)
        p->expiring->xprev = s;
    p->expiring = s;
}

/* Takes s off the expiring list (if it is on it). */
static void pump_expiry_unlink(struct pump *p, struct stream *s)
{
    if (s->end_us == 0)
        return;
    if (s->xprev) s->xprev->xnext = s->xnext; else p->expiring = s->xnext;
    if (s->xnext) s->xnext->xprev = s->xprev;
    s->xprev = s->xnext = NULL;
    s->end_us = 0;
}

/* Closes s at once (no END_REQUEST): client gone, too slow, or done. */
void pump_kill(struct pump *p, struct stream *s)
{
    uint32_t i;

    if (s->state == PUMP_DEAD)
        return;
    pump_subs_close(p, s);
    pump_coalesce_forget(p, s);
    pump_expiry_unlink(p, s);
    for (i = 0; i < s->nsubs; i++) {
        stream_chan_unlink(&s->subs[i]);
        if (s->subs[i].chan)
            pump_chan_unref(p, s->subs[i].chan);
        s->subs[i].chan = NULL;
    }
    if (s->state == PUMP_REPLAY)
        pump_replay_unlink(p, s);
    pump_all_unlink(p, s);
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    stream_out_free(&s->out);
    s->state = PUMP_DEAD;
    s->gnext = p->grave;
    p->grave = s;
    atomic_fetch_sub(&p->nstreams, 1);
    p->c_dirty = true;
}

/* Ends s cleanly: no more events, END_REQUEST after what is queued. */
static void pump_end(struct pump *p, struct stream *s)
{
    uint32_t i;

    if (s->state == PUMP_DEAD || s->state == PUMP_ENDING)
        return;
    pump_expiry_unlink(p, s);
    for (i = 0; i < s->nsubs; i++)
        stream_chan_unlink(&s->subs[i]);
    if (s->state == PUMP_REPLAY)
        pump_replay_unlink(p, s);
    s->state = PUMP_ENDING;
    if (stream_out_end(&s->out) < 0) {
        pump_kill(p, s);
        return;
    }
    pump_touch(p, s);
}

static void pump_write(struct pump *p, struct stream *s);

/* Queues b->data[off..off+len) (events: how many SSE events it holds)
 * on s, dropping s if that would pass its buffer bound. */
void pump_send(struct pump *p, struct stream *s, struct stream_buf *b,
               size_t off, size_t len, unsigned events)
{
    if (s->state == PUMP_DEAD || s->state == PUMP_ENDING)
        return;
    if (s->out.queued + len > p->set.client_buffer && !s->epout)
        pump_write(p, s);           /* a batch must not drop a fast client */
    if (s->state == PUMP_DEAD)
        return;
    if (s->out.queued + len > p->set.client_buffer) {
        log_debug("stream fd %d: output buffer full (%zu bytes), dropped",
                  s->fd, s->out.queued);
        p->c.dropped_slow++;
        pump_kill(p, s);
        return;
    }
    if (stream_out_data(&s->out, b, off, len) < 0) {
        log_error("stream fd %d: out of memory, dropped", s->fd);
        pump_kill(p, s);
        return;
    }
    p->c.events += events;
    if (s->last_us != p->now_us) {  /* once an iteration is enough */
        pump_all_unlink(p, s);
        pump_all_append(p, s);
    }
    pump_touch(p, s);
}

/* Queues the sseq-gap event on s. */
void pump_send_gap(struct pump *p, struct stream *s, uint64_t requested,
                   uint64_t oldest)
{
    char tmp[STREAM_FEED_GAP_MAX];
    size_t n = stream_feed_gap(tmp, requested, oldest);
    struct stream_buf *b = stream_out_buf_copy(tmp, n);

    if (b == NULL) {
        pump_kill(p, s);
        return;
    }
    pump_send(p, s, b, 0, n, 1);
    stream_out_buf_put(b);
}

/* Reads the record at *cursor into the pump's buffer, growing it when the
 * record does not fit. queue_read's result. */
int pump_read(struct pump *p, uint64_t *cursor, struct queue_record *rec)
{
    int rc = queue_read(p->q, cursor, rec, p->rbuf, p->rcap);

    if (rc == -ENOBUFS) {
        char *nb = realloc(p->rbuf, p->rcap * 2);

        if (nb == NULL)
            return -ENOMEM;
        p->rbuf = nb;
        p->rcap *= 2;
        rc = queue_read(p->q, cursor, rec, p->rbuf, p->rcap);
    }
    return rc;
}

/* Writes what s has queued; arms EPOLLOUT if the socket is full. */
static void pump_write(struct pump *p, struct stream *s)
{
    ssize_t n = stream_out_write(&s->out, s->fd);
    bool want_out;

    if (n < 0) {
        log_debug("stream fd %d: write: %s", s->fd, strerror((int)-n));
        pump_kill(p, s);
        return;
    }
    p->c.bytes += (uint64_t)n;
    p->n_writes++;
    want_out = stream_out_pending(&s->out);
    if (!want_out && s->state == PUMP_ENDING) {
        pump_kill(p, s);
        return;
    }
    if (want_out != s->epout) {
        struct epoll_event ev = {
            .events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0),
            .data.ptr = s,
        };

        if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0) {
            pump_kill(p, s);
            return;
        }
        s->epout = want_out;
    }
}

/* Writes every stream touched in this iteration (unless it waits for
 * EPOLLOUT anyway). */
static void pump_flush(struct pump *p)
{
    uint64_t t0 = p->touched ? util_mono_us() : 0;
    struct stream *s;

    while ((s = p->touched) != NULL) {
        p->touched = s->tnext;
        s->touched = false;
        if (s->state != PUMP_DEAD && !s->epout) {
            pump_write(p, s);
            if (s->state == PUMP_LIVE && !s->epout)
                pump_coalesce_wrote(p, s);
        }
    }
    if (t0 != 0) {
        uint64_t t1 = util_mono_us();

        p->flush_us += t1 - t0;
        pump_coalesce_flushed(p, t1);
    }
}

/* Frees the streams that died in this iteration. */
static void pump_bury(struct pump *p)
{
    struct stream *s;

    while ((s = p->grave) != NULL) {
        p->grave = s->gnext;
        jwt_claims_free(&s->claims);
        free(s);
    }
}

/* Reads and discards what the web server sends; ends s on EOF or
 * ABORT_REQUEST. */
static void pump_readable(struct pump *p, struct stream *s)
{
    uint8_t buf[4096];
    ssize_t n;

    for (;;) {
        n = read(s->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            pump_kill(p, s);
            return;
        }
        switch (fcgi_rec_parse(&s->in, buf, (size_t)n)) {
        case FCGI_REC_MORE:
            break;
        case FCGI_REC_ABORT:
            pump_end(p, s);
            return;
        default:
            log_warn("stream fd %d: bad FastCGI record", s->fd);
            pump_kill(p, s);
            return;
        }
    }
}

/* Handles an epoll event on a stream's connection. */
static void pump_stream_event(struct pump *p, struct stream *s, uint32_t ev)
{
    if (s->state == PUMP_DEAD)
        return;
    if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        pump_kill(p, s);
        return;
    }
    if (ev & EPOLLIN)
        pump_readable(p, s);
    if ((ev & EPOLLOUT) && s->state != PUMP_DEAD)
        pump_write(p, s);
}

/* The map a selector of request r goes to. */
static enum pump_map pump_map_of(const struct stream_req *r, unsigned i)
{
    if (!r->hub)
        return r->tag ? PUMP_MAP_TAGGED : PUMP_MAP_EVENTS;
    return r->kind[i] == STREAM_REQ_PATTERN ? PUMP_MAP_PATTERN
                                            : PUMP_MAP_HUB;
}

/* Links s's subscriptions to the channels of c's request; false on
 * ENOMEM (the ones made are undone by pump_kill). */
static bool pump_open_subs(struct pump *p, struct stream *s,
                           const struct pump_conn *c)
{
    unsigned i;

    for (i = 0; i < s->nsubs; i++) {
        enum pump_map m = pump_map_of(&c->req, i);
        struct stream_chan *ch;

        s->subs[i].owner = s;
        ch = stream_chan_ref(&p->maps[m], c->req.names + c->req.off[i],
                             c->req.len[i]);
        if (ch == NULL)
            return false;
        ch->tag = (uint8_t)m;
        s->subs[i].chan = ch;
        if (m == PUMP_MAP_PATTERN && pump_pattern_attach(p, ch) < 0)
            return false;
    }
    return true;
}

/* Takes the token's claims of c into s, and its exp: s ends then. */
static void pump_open_auth(struct pump *p, struct stream *s,
                           struct pump_conn *c)
{
    time_t now = time(NULL);

    s->authed = c->auth.token;
    s->claims = c->auth.claims;
    memset(&c->auth.claims, 0, sizeof(c->auth.claims));
    if (!s->authed || !s->claims.has_exp)
        return;
    s->end_us = p->now_us + (s->claims.exp > now ?
                (uint64_t)(s->claims.exp - now) * 1000000 : 0) + 1;
    pump_expiry_add(p, s);
}

/* Builds the pump's stream for a submitted connection and queues its
 * head (and gap event). Closes the connection on failure. */
static void pump_open(struct pump *p, struct pump_conn *c)
{
    unsigned n = c->req.n_channels;
    struct stream *s = calloc(1, sizeof(*s) + n * sizeof(s->subs[0]));
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
    bool ok;
    int rc;

    if (s == NULL)
        goto fail_close;
    s->fd = c->fd;
    s->nsubs = n;
    s->flavor = (uint8_t)stream_feed_flavor(&c->req);
    stream_out_init(&s->out, c->request_id);
    rc = util_fd_nonblock(s->fd);
    if (rc < 0) {
        log_error("fcntl O_NONBLOCK fd %d: %s", s->fd, strerror(-rc));
        goto fail_free;
    }
    ev.data.ptr = s;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        log_error("epoll_ctl ADD fd %d: %s", s->fd, strerror(errno));
        goto fail_free;
    }
    ok = pump_open_subs(p, s, c);
    pump_replay_add(p, s);
    pump_all_append(p, s);
    pump_open_auth(p, s, c);
    p->c.streams_total++;
    p->c_dirty = true;
    if (!ok) {
        pump_kill(p, s);
        return;
    }
    s->min_id = c->plan.start;
    s->cursor = c->plan.start < p->next_live ? c->plan.start : p->next_live;
    pump_send(p, s, c->head, 0, c->head->len, 0);
    if (c->plan.gap)
        pump_send_gap(p, s, c->plan.gap_requested, c->plan.gap_oldest);
    pump_subs_open(p, s, c);
    if (p->stopping || atomic_load(&p->damaged))
        pump_end(p, s);
    return;

fail_free:
    free(s);
fail_close:
    close(c->fd);
    atomic_fetch_sub(&p->nstreams, 1);
}

/* Opens every stream submitted since the last iteration. */
static void pump_take(struct pump *p)
{
    struct pump_conn *list, *c, *rev = NULL;

    pthread_mutex_lock(&p->mu);
    list = p->submitted;
    p->submitted = NULL;
    pthread_mutex_unlock(&p->mu);
    while ((c = list) != NULL) {        /* submission order */
        list = c->next;
        c->next = rev;
        rev = c;
    }
    while ((c = rev) != NULL) {
        rev = c->next;
        pump_open(p, c);
        pump_pattern_release(p, c);
        stream_out_buf_put(c->head);
        jwt_claims_free(&c->auth.claims);
        free(c);
    }
}

/* Takes the queue given by pump_set_queue: cursor, slot, tail thread. */
static void pump_adopt(struct pump *p)
{
    struct queue *q = atomic_load(&p->q_new);
    uint64_t oldest;

    if (p->q != NULL || q == NULL)
        return;
    p->rcap = stream_feed_bufsize(q);
    p->rbuf = malloc(p->rcap);
    if (p->rbuf == NULL)
        return;
    p->q = q;
    queue_bounds(q, &oldest, &p->next_live);
    p->slot = queue_proc_claim(q, "stream");
    if (p->slot < 0)
        log_warn("no free stats slot in the queue: %s", strerror(-p->slot));
    pump_top_open(p);
    pump_tail_start(p);
    p->c_dirty = true;
}

/* Sends heartbeats to streams silent for `heartbeat` seconds. */
static void pump_heartbeats(struct pump *p)
{
    uint64_t limit = p->now_us - (uint64_t)p->set.heartbeat * 1000000;
    struct stream *s;

    if (p->set.heartbeat == 0)
        return;

    while ((s = p->all_head) != NULL && s->last_us <= limit) {
        pump_all_unlink(p, s);
        pump_all_append(p, s);
        if (s->state == PUMP_ENDING || stream_out_pending(&s->out))
            continue;
        if (stream_out_bytes(&s->out, pump_heartbeat,
                             sizeof(pump_heartbeat) - 1) < 0) {
            pump_kill(p, s);
            continue;
        }
        pump_touch(p, s);
    }
}

/* Ends the streams whose token expired. */
static void pump_expire(struct pump *p)
{
    struct stream *s, *ns;

    for (s = p->expiring; s != NULL; s = ns) {
        ns = s->xnext;
        if (p->now_us >= s->end_us) {
            log_info("stream fd %d: token expired, stream ended", s->fd);
            pump_end(p, s);
        }
    }
}

/* Publishes the counters in the queue's process table. */
static void pump_publish_counters(struct pump *p)
{
    p->c.streams = atomic_load(&p->nstreams);
    if (p->q != NULL && p->slot >= 0)
        queue_proc_update(p->q, p->slot, &p->c);
    pump_top_publish(p);
    p->c_dirty = false;
}

/* SIGTERM: stop accepting; the streams are ended by pump_drain. */
static void pump_stop(struct pump *p, const struct pump_hooks *h)
{
    if (p->stopping)
        return;
    p->stopping = true;
    p->stop_us = p->now_us;
    p->drain_total = atomic_load(&p->nstreams);
    p->deadline_us = p->now_us + (uint64_t)p->set.drain_ms * 1000 +
                     PUMP_DRAIN_US;
    if (h->on_term)
        h->on_term(h->ctx);
}

/* While stopping: ends as many streams as the time elapsed of drain_ms
 * calls for (all at once when drain_ms is 0), oldest first. */
static void pump_drain(struct pump *p)
{
    uint64_t span = (uint64_t)p->set.drain_ms * 1000;
    uint64_t gone = p->now_us - p->stop_us;
    uint64_t want = span == 0 || gone >= span ? UINT32_MAX :
                    (uint64_t)p->drain_total * gone / span + 1;
    struct stream *s, *ns;

    for (s = p->all_head; s != NULL && p->drain_ended < want; s = ns) {
        ns = s->next;
        if (s->state == PUMP_ENDING || s->state == PUMP_DEAD)
            continue;
        pump_end(p, s);
        p->drain_ended++;
    }
}

/* Reads the signalfd. */
static void pump_signals(struct pump *p, const struct pump_hooks *h)
{
    struct signalfd_siginfo si;

    while (read(p->sfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            if (h->on_hup)
                h->on_hup(h->ctx, p);
        } else {
            log_info("signal %u: ending %u streams", si.ssi_signo,
                     atomic_load(&p->nstreams));
            pump_stop(p, h);
        }
    }
}

/* Handles one epoll event. */
static void pump_event(struct pump *p, const struct pump_hooks *h,
                       struct epoll_event *ev)
{
    uint64_t v;

    if (ev->data.ptr == &p->efd) {
        while (read(p->efd, &v, sizeof(v)) == sizeof(v))
            ;
    } else if (ev->data.ptr == &p->sfd) {
        pump_signals(p, h);
    } else if (ev->data.ptr == &p->cfd) {
        while (read(p->cfd, &v, sizeof(v)) == sizeof(v))
            ;
    } else if (ev->data.ptr == &p->tfd) {
        while (read(p->tfd, &v, sizeof(v)) == sizeof(v))
            ;
        pump_heartbeats(p);
        pump_expire(p);
        if (p->q != NULL && !atomic_load(&p->damaged) &&
            queue_health(p->q) == QUEUE_DAMAGED)
            pump_mark_damaged(p);
        p->c_dirty = true;
    } else {
        pump_stream_event(p, ev->data.ptr, ev->events);
    }
}

int pump_run(struct pump *p, const struct pump_hooks *hooks)
{
    struct epoll_event evs[PUMP_EVENTS];
    bool more = false;
    int n, i;

    for (;;) {
        n = epoll_wait(p->epfd, evs, PUMP_EVENTS, more ? 0 :
                       p->stopping ? PUMP_TICK_MS / 5 : PUMP_TICK_MS);
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            return -errno;
        }
        p->now_us = util_mono_us();
        for (i = 0; i < n; i++)
            pump_event(p, hooks, &evs[i]);
        pump_adopt(p);
        pump_take(p);
        if (p->stopping)
            pump_drain(p);
        more = pump_coalesce_run(p);
        more |= pump_replay_run(p);
        pump_flush(p);
        pump_bury(p);
        pump_subs_flush(p, false);
        if (!more && !pump_coalesce_holding(p) && p->q != NULL)
            pump_tail_arm(p);
        if (p->c_dirty)
            pump_publish_counters(p);
        if (p->stopping && (p->all_head == NULL ||
                            p->now_us >= p->deadline_us))
            return 0;
    }
}

/* Adds fd to epoll with data.ptr = tag. */
static int pump_watch(struct pump *p, int fd, void *tag)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

    if (fd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    return 0;
}

/* Opens the pump's own descriptors. */
static int pump_open_fds(struct pump *p)
{
    struct itimerspec its = {
        .it_interval = { 0, PUMP_TICK_MS * 1000000L },
        .it_value = { 0, PUMP_TICK_MS * 1000000L },
    };
    sigset_t sigs;
    int rc;

    signals_control_set(&sigs);
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    p->cfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (p->epfd < 0 || p->efd < 0 || p->sfd < 0 || p->tfd < 0 ||
        p->cfd < 0)
        return -errno;
    if (timerfd_settime(p->tfd, 0, &its, NULL) < 0)
        return -errno;
    rc = pump_watch(p, p->efd, &p->efd);
    if (rc == 0)
        rc = pump_watch(p, p->sfd, &p->sfd);
    if (rc == 0)
        rc = pump_watch(p, p->tfd, &p->tfd);
    if (rc == 0)
        rc = pump_watch(p, p->cfd, &p->cfd);
    return rc;
}

int pump_create(const struct pump_settings *set, struct pump **out)
{
    struct pump *p = calloc(1, sizeof(*p));
    int rc, i;

    if (p == NULL)
        return -ENOMEM;
    p->epfd = p->efd = p->sfd = p->tfd = p->cfd = -1;
    p->slot = -1;
    p->set = *set;
    pthread_mutex_init(&p->mu, NULL);
    rc = pump_pass_init(&p->pass);
    for (i = 0; rc == 0 && i < PUMP_NMAPS; i++)
        rc = stream_chan_map_init(&p->maps[i]);
    if (rc == 0)
        rc = topic_selector_cache_init(&p->cache, PUMP_CACHE_ENTRIES,
                                       STREAM_REQ_NAMES_MAX +
                                       QUEUE_TOPIC_MAX);
    if (rc < 0)
        goto fail;
    rc = pump_open_fds(p);
    if (rc < 0) {
        log_error("pump: epoll/eventfd/signalfd/timerfd: %s", strerror(-rc));
        goto fail;
    }
    p->now_us = util_mono_us();
    *out = p;
    return 0;

fail:
    pump_destroy(p);
    return rc;
}

void pump_configure(struct pump *p, const struct pump_settings *set)
{
    p->set = *set;
}

void pump_set_queue(struct pump *p, struct queue *q)
{
    struct queue *none = NULL;
    uint64_t one = 1;

    if (atomic_compare_exchange_strong(&p->q_new, &none, q) &&
        write(p->efd, &one, sizeof(one)) < 0)
        log_error("eventfd write: %s", strerror(errno));
}

void pump_submit(struct pump *p, struct pump_conn *c)
{
    uint64_t one = 1;

    atomic_fetch_add(&p->nstreams, 1);
    pthread_mutex_lock(&p->mu);
    c->next = p->submitted;
    p->submitted = c;
    pthread_mutex_unlock(&p->mu);
    if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_error("eventfd write: %s", strerror(errno));
}

unsigned pump_streams(const struct pump *p)
{
    return atomic_load(&p->nstreams);
}

bool pump_queue_damaged(const struct pump *p)
{
    return atomic_load(&p->damaged);
}

void pump_mark_damaged(struct pump *p)
{
    struct stream *s, *ns;

    if (atomic_exchange(&p->damaged, true))
        return;
    log_error("%s; ending %u stream(s), new ones get 503 until then "
              "(with --while-running the programs move to the new queue "
              "by themselves)", queue_error(), atomic_load(&p->nstreams));
    for (s = p->all_head; s != NULL; s = ns) {
        ns = s->next;
        pump_end(p, s);
    }
}

uint64_t pump_skipped(const struct pump *p)
{
    return atomic_load(&p->skipped);
}

void pump_destroy(struct pump *p)
{
    struct pump_conn *c;
    struct stream *s;
    int i;

    if (p == NULL)
        return;
    pump_tail_stop(p);
    pump_coalesce_log(p);
    while ((s = p->all_head) != NULL)
        pump_kill(p, s);
    pump_bury(p);
    pump_subs_destroy(p);
    while ((c = p->submitted) != NULL) {
        p->submitted = c->next;
        close(c->fd);
        stream_out_buf_put(c->head);
        jwt_claims_free(&c->auth.claims);
        free(c);
    }
    if (p->q != NULL && p->slot >= 0) {
        pump_publish_counters(p);
        pump_top_close(p);
        queue_proc_release(p->q, p->slot);
    }
    for (i = 0; i < PUMP_NMAPS; i++)
        if (p->maps[i].b != NULL)
            stream_chan_map_free(&p->maps[i]);
    topic_selector_cache_free(&p->cache);
    pump_topics_free(p);
    free(p->rbuf);
    pump_pass_free(&p->pass);
    if (p->epfd >= 0) close(p->epfd);
    if (p->efd >= 0) close(p->efd);
    if (p->sfd >= 0) close(p->sfd);
    if (p->tfd >= 0) close(p->tfd);
    if (p->cfd >= 0) close(p->cfd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
