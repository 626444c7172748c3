/* pump.c -- sseq-stream's event loop (see pump.h for the invariants,
 * pump_int.h for the other parts, pump_stream.h for the stream
 * lifecycle it drives).
 *
 * One iteration: epoll events (stream I/O, eventfd, signalfd, timers),
 * then adopt a new queue, take submitted streams, fan out new queue
 * records or hold them (pump_coalesce.c), advance replays
 * (pump_replay.c), write every stream touched, free streams that died.
 * A stream is freed only at the end of an iteration ("graveyard"), so an
 * epoll event or a list still naming it never sees freed memory.
 */
#include "ac_config.h"

#include <errno.h>
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

/* Writes every stream touched in this iteration (unless it waits for
 * EPOLLOUT anyway); the live ones written whole become the coalescing's
 * probes. */
static void pump_flush(struct pump *p)
{
    struct stream *s = pump_stream_take_touched(p);
    uint64_t t0, t1;

    if (s == NULL)
        return;
    t0 = util_mono_us();
    for (; s != NULL; s = pump_stream_take_touched(p))
        if (pump_stream_flush(p, s))
            pump_coalesce_wrote(p, s);
    t1 = util_mono_us();
    p->flush_us += t1 - t0;
    pump_coalesce_flushed(p, t1);
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
        pump_stream_open(p, c);
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
    if (pump_read_init(p, q) < 0)
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

    if (p->drain_ended < want)
        p->drain_ended += pump_stream_end_oldest(p, (unsigned)(want -
                                                 p->drain_ended));
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
        pump_stream_heartbeats(p);
        pump_stream_expire(p);
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
        pump_coalesce_prune(p);
        pump_stream_bury(p);
        pump_subs_flush(p, false);
        if (!more && !pump_coalesce_holding(p) && p->q != NULL)
            pump_tail_arm(p);
        if (p->c_dirty)
            pump_publish_counters(p);
        if (p->stopping && !atomic_load(&p->intake_open) &&
            (!pump_stream_any(p) || p->now_us >= p->deadline_us))
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

void pump_open_intake(struct pump *p)
{
    atomic_store(&p->intake_open, true);
}

void pump_close_intake(struct pump *p)
{
    uint64_t one = 1;

    atomic_store(&p->intake_open, false);
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

uint64_t pump_skipped(const struct pump *p)
{
    return atomic_load(&p->skipped);
}

void pump_destroy(struct pump *p)
{
    struct pump_conn *c;
    int i;

    if (p == NULL)
        return;
    pump_tail_stop(p);
    pump_coalesce_log(p, pump_stream_writes(p), p->flush_us);
    pump_stream_kill_all(p);
    pump_stream_bury(p);
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
    pump_read_free(p);
    pump_pass_free(&p->pass);
    if (p->epfd >= 0) close(p->epfd);
    if (p->efd >= 0) close(p->efd);
    if (p->sfd >= 0) close(p->sfd);
    if (p->tfd >= 0) close(p->tfd);
    if (p->cfd >= 0) close(p->cfd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
