/* pump_stream.c -- the stream lifecycle of sseq-stream's pump (see
 * pump_stream.h): opening a submitted connection as a stream, queuing
 * output and writing it, heartbeats, token expiry, ending and killing,
 * the graveyard, and the lists a stream is on.
 *
 * A stream whose queue would pass client_buffer is first written to (a
 * batch must not drop a client that keeps up), then dropped if it still
 * would (the browser reconnects and resumes by id); nobody waits for it.
 * A stream whose token has an exp is on the expiring list and is ended
 * (END_REQUEST) at the first timer tick at or after exp. */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "base/log.h"
#include "base/util.h"
#include "stream/pump_int.h"

static const char pump_heartbeat[] = SSE_HEARTBEAT;

/* Puts s on the list of replaying streams. */
static void pump_stream_replay_add(struct pump *p, struct stream *s)
{
    s->state = PUMP_REPLAY;
    s->rprev = NULL;
    s->rnext = p->streams.replaying;
    if (p->streams.replaying)
        p->streams.replaying->rprev = s;
    p->streams.replaying = s;
}

/* Takes s off the list of replaying streams. */
static void pump_stream_replay_unlink(struct pump *p, struct stream *s)
{
    if (p->streams.replay_next == s)
        p->streams.replay_next = s->rnext;
    if (s->rprev) s->rprev->rnext = s->rnext; else p->streams.replaying = s->rnext;
    if (s->rnext) s->rnext->rprev = s->rprev;
    s->rprev = s->rnext = NULL;
}

/* Takes s off the all-streams list. */
static void pump_all_unlink(struct pump *p, struct stream *s)
{
    if (s->prev) s->prev->next = s->next; else p->streams.all_head = s->next;
    if (s->next) s->next->prev = s->prev; else p->streams.all_tail = s->prev;
    s->prev = s->next = NULL;
}

/* Puts s at the end of the all-streams list (output now). */
static void pump_all_append(struct pump *p, struct stream *s)
{
    s->prev = p->streams.all_tail;
    s->next = NULL;
    if (p->streams.all_tail) p->streams.all_tail->next = s; else p->streams.all_head = s;
    p->streams.all_tail = s;
    s->last_us = p->now_us;
}

/* Marks s for writing at the end of this iteration. */
static void pump_touch(struct pump *p, struct stream *s)
{
    if (s->touched)
        return;
    s->touched = true;
    s->tnext = p->streams.touched;
    p->streams.touched = s;
}

/* Puts s on the expiring list (its end_us is set). */
static void pump_expiry_add(struct pump *p, struct stream *s)
{
    s->xprev = NULL;
    s->xnext = p->streams.expiring;
    if (p->streams.expiring != NULL)
        p->streams.expiring->xprev = s;
    p->streams.expiring = s;
}

/* Takes s off the expiring list (if it is on it). */
static void pump_expiry_unlink(struct pump *p, struct stream *s)
{
    if (s->end_us == 0)
        return;
    if (s->xprev) s->xprev->xnext = s->xnext; else p->streams.expiring = s->xnext;
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
    pump_expiry_unlink(p, s);
    for (i = 0; i < s->nsubs; i++) {
        stream_chan_unlink(&s->subs[i]);
        if (s->subs[i].chan)
            pump_chan_unref(p, s->subs[i].chan);
        s->subs[i].chan = NULL;
    }
    if (s->state == PUMP_REPLAY)
        pump_stream_replay_unlink(p, s);
    pump_all_unlink(p, s);
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    stream_out_free(&s->out);
    s->state = PUMP_DEAD;
    s->gnext = p->streams.grave;
    p->streams.grave = s;
    atomic_fetch_sub(&p->nstreams, 1);
    p->c_dirty = true;
}

/* Ends s cleanly: no more events, END_REQUEST after what is queued. */
void pump_end(struct pump *p, struct stream *s)
{
    uint32_t i;

    if (s->state == PUMP_DEAD || s->state == PUMP_ENDING)
        return;
    pump_expiry_unlink(p, s);
    for (i = 0; i < s->nsubs; i++)
        stream_chan_unlink(&s->subs[i]);
    if (s->state == PUMP_REPLAY)
        pump_stream_replay_unlink(p, s);
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
    p->streams.n_writes++;
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
void pump_stream_event(struct pump *p, struct stream *s, uint32_t ev)
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
void pump_stream_open(struct pump *p, struct pump_conn *c)
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
    pump_stream_replay_add(p, s);
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

/* Sends heartbeats to streams silent for `heartbeat` seconds. */
void pump_stream_heartbeats(struct pump *p)
{
    uint64_t limit = p->now_us - (uint64_t)p->set.heartbeat * 1000000;
    struct stream *s;

    if (p->set.heartbeat == 0)
        return;

    while ((s = p->streams.all_head) != NULL && s->last_us <= limit) {
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
void pump_stream_expire(struct pump *p)
{
    struct stream *s, *ns;

    for (s = p->streams.expiring; s != NULL; s = ns) {
        ns = s->xnext;
        if (p->now_us >= s->end_us) {
            log_info("stream fd %d: token expired, stream ended", s->fd);
            pump_end(p, s);
        }
    }
}


uint64_t pump_stream_writes(const struct pump *p)
{
    return p->streams.n_writes;
}

/* Ends every stream once the queue read QUEUE_DAMAGED (logged once). */
void pump_mark_damaged(struct pump *p)
{
    if (atomic_exchange(&p->damaged, true))
        return;
    log_error("%s; ending %u stream(s), new ones get 503 until then "
              "(with --while-running the programs move to the new queue "
              "by themselves)", queue_error(), atomic_load(&p->nstreams));
    pump_stream_end_all(p);
}

bool pump_stream_touched(const struct stream *s)
{
    return s->touched;
}

size_t pump_stream_queued(const struct stream *s)
{
    return s->out.queued;
}

struct stream *pump_stream_take_touched(struct pump *p)
{
    struct stream *s = p->streams.touched;

    if (s != NULL) {
        p->streams.touched = s->tnext;
        s->touched = false;
    }
    return s;
}

bool pump_stream_flush(struct pump *p, struct stream *s)
{
    if (s->state == PUMP_DEAD || s->epout)
        return false;
    pump_write(p, s);
    return s->state == PUMP_LIVE && !s->epout;
}

void pump_stream_bury(struct pump *p)
{
    struct stream *s;

    while ((s = p->streams.grave) != NULL) {
        p->streams.grave = s->gnext;
        jwt_claims_free(&s->claims);
        free(s);
    }
}

void pump_stream_gap_live(struct pump *p, uint64_t requested,
                          uint64_t oldest)
{
    struct stream *s, *ns;

    for (s = p->streams.all_head; s != NULL; s = ns) {
        ns = s->next;
        if (s->state == PUMP_LIVE)
            pump_send_gap(p, s, requested, oldest);
    }
}

unsigned pump_stream_end_oldest(struct pump *p, unsigned max)
{
    struct stream *s, *ns;
    unsigned n = 0;

    for (s = p->streams.all_head; s != NULL && n < max; s = ns) {
        ns = s->next;
        if (s->state == PUMP_ENDING || s->state == PUMP_DEAD)
            continue;
        pump_end(p, s);
        n++;
    }
    return n;
}

void pump_stream_end_all(struct pump *p)
{
    pump_stream_end_oldest(p, UINT32_MAX);
}

void pump_stream_kill_all(struct pump *p)
{
    struct stream *s;

    while ((s = p->streams.all_head) != NULL)
        pump_kill(p, s);
}

bool pump_stream_any(const struct pump *p)
{
    return p->streams.all_head != NULL;
}

unsigned pump_stream_replaying(const struct pump *p)
{
    const struct stream *s;
    unsigned n = 0;

    for (s = p->streams.replaying; s != NULL; s = s->rnext)
        n++;
    return n;
}

struct stream *pump_stream_replay_first(const struct pump *p)
{
    return p->streams.replay_next != NULL ? p->streams.replay_next
                                          : p->streams.replaying;
}

struct stream *pump_stream_replay_after(const struct pump *p,
                                        const struct stream *s)
{
    return s->rnext != NULL ? s->rnext : p->streams.replaying;
}

void pump_stream_replay_resume(struct pump *p, struct stream *s)
{
    p->streams.replay_next = p->streams.replaying != NULL ? s : NULL;
}

void pump_stream_go_live(struct pump *p, struct stream *s)
{
    uint32_t i;

    pump_stream_replay_unlink(p, s);
    for (i = 0; i < s->nsubs; i++)
        stream_chan_link(&s->subs[i]);
    s->state = PUMP_LIVE;
}
