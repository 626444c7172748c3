/* pump.c -- sseq-stream's event loop (see pump.h for the invariants).
 *
 * One iteration: epoll events (stream I/O, eventfd, signalfd, timer), then
 * adopt a new queue, take submitted streams, fan out new queue records,
 * advance replays, write every stream touched, free streams that died.
 * A stream is freed only at the end of an iteration ("graveyard"), so an
 * epoll event or a list still naming it never sees freed memory.
 *
 * Fan-out, one pass: the new records (at most PUMP_LIVE_BATCH, about
 * PUMP_PASS_BYTES of events) are read, those with subscribers here
 * encoded once each into a scratch buffer, then copied into one shared
 * stream_buf per channel, back to back in id order. Each record is then
 * queued, in id order, to the subscribers of its channel; consecutive
 * events of one channel extend the subscriber's last segment, so a
 * subscriber gets a whole pass as one STDOUT record and one iovec. A
 * stream pins only buffers of its own channels.
 *
 * Adaptive coalescing, weighed by fan-out: a pass costs the web server
 * about PUMP_STREAM_US per stream written (one read, one client write),
 * whatever the events per write, so the pump batches in proportion to
 * that work w (PUMP_STREAM_US x streams the last pass wrote). When
 * records arrive and the last pass ended less than PUMP_BUSY_WINDOWS x
 * min(w, coalesce_us) ago (under load), the pump holds them (a timerfd):
 * until the web server has read the last pass (polled on the stream
 * written last) and at least coalesce_us more, and at least
 * clamp(w, coalesce_us, PUMP_HOLD_CAP_US) since the hold began; never
 * more than that plus PUMP_HOLD_MAX x coalesce_us. What arrives
 * meanwhile goes out in the same records and writes. A pass that wrote
 * to a few streams is cheap, so passes close together do not count as
 * load then. When the pump was idle, or is behind (a pass hit its
 * limit), or is stopping, the pass runs at once: a lone message on an
 * idle stream is never delayed.
 *
 * Wake-ups: the tail thread writes the eventfd only when the pump has
 * armed it (it sleeps in epoll with nothing to read); while the pump is
 * busy or holding, appends wake nobody here (and publishers skip the
 * futex wake when no tail thread waits).
 *
 * A stream whose queue would pass client_buffer is first written to (a
 * batch must not drop a client that keeps up), then dropped if it still
 * would (the browser reconnects and resumes by id); nobody waits for it. */
#include "ac_config.h"

#include "pump.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include "fcgi_rec.h"
#include "log.h"
#include "sse.h"
#include "stream_chan.h"
#include "util.h"

#define PUMP_EVENTS       256       /* epoll events per wait */
#define PUMP_LIVE_BATCH   1024      /* records fanned out per pass */
#define PUMP_PASS_BYTES   (256 * 1024)  /* encoded bytes per pass (about) */
#define PUMP_BUSY_WINDOWS 8         /* "under load" span, x the work */
#define PUMP_HOLD_MAX     25        /* longest drain wait, x coalesce_us */
#define PUMP_STREAM_US    10        /* web server's work per stream write */
#define PUMP_HOLD_CAP_US  100000    /* longest fan-out-scaled hold */
#define PUMP_DRAIN_POLLS  4         /* drain checks per coalesce_us */
#define PUMP_HOLD_BYTES   (32 * 1024)   /* no hold after a pass this big */
#define PUMP_REPLAY_STEP  256       /* records one stream replays per turn */
#define PUMP_REPLAY_HIGH  (64 * 1024)   /* replay pauses above this queue */
#define PUMP_TICK_MS      250       /* timer: heartbeats, counters */
#define PUMP_DRAIN_US     700000    /* SIGTERM: time to flush END_REQUEST */

enum pump_state { PUMP_REPLAY, PUMP_LIVE, PUMP_ENDING, PUMP_DEAD };

struct stream {
    struct stream *prev, *next;     /* all streams, oldest output first */
    struct stream *rprev, *rnext;   /* streams replaying */
    struct stream *tnext;           /* touched this iteration */
    struct stream *gnext;           /* graveyard */
    uint64_t last_us;               /* last output queued (monotonic) */
    uint64_t cursor;                /* replay: next id to read */
    uint64_t min_id;                /* never deliver ids below this */
    struct stream_out out;
    struct fcgi_rec_parser in;
    int fd;
    uint8_t state;                  /* enum pump_state */
    bool touched, epout;
    uint32_t nsubs;
    struct stream_sub subs[];
};

/* One record of the pass being fanned out. */
struct pump_ev {
    struct stream_chan *chan;
    uint64_t id;
    uint32_t off, len;              /* in the scratch, then in chan's buf */
};

struct pump {
    int epfd, efd, sfd, tfd, cfd;
    struct pump_settings set;
    /* shared with other threads */
    pthread_mutex_t mu;
    struct pump_conn *submitted;    /* LIFO, under mu */
    _Atomic(struct queue *) q_new;
    atomic_uint nstreams;
    atomic_bool tail_stop;
    atomic_uint tail_armed;         /* futex word: 1 = wake the pump */
    _Atomic uint64_t tail_seen;     /* next_live when the pump armed */
    /* pump thread only */
    struct queue *q;
    int slot;
    pthread_t tail;
    bool tail_started;
    struct stream_chan_map chans;
    struct stream *all_head, *all_tail;
    struct stream *replaying, *touched, *grave;
    uint64_t next_live;
    char *rbuf;
    size_t rcap;
    /* the pass being fanned out */
    struct pump_ev *pass;           /* PUMP_LIVE_BATCH entries */
    unsigned npass;
    char *ebuf;                     /* scratch: the pass's events */
    size_t ecap, eused;
    struct stream_chan *pass_chans; /* channels with events in the pass */
    unsigned pass_sends;            /* events queued to streams */
    unsigned pass_streams;          /* streams the pass queued to */
    uint64_t work_us;               /* web server's work, last pass */
    size_t pass_bytes;              /* encoded bytes of the last pass */
    /* coalescing */
    uint64_t busy_until_us;         /* records before this are held */
    uint64_t hold_until_us;         /* holding until then; 0: not */
    uint64_t hold_start_us;         /* the hold began */
    uint64_t hold_us;               /* hold at least this long */
    bool drained;                   /* the web server read the last pass */
    struct stream *probe;           /* written last in the last pass */
    bool behind;                    /* the last pass hit its limit */
    uint64_t n_passes, n_holds, n_writes;   /* for the exit log line */
    uint64_t now_us;
    bool stopping;
    uint64_t deadline_us;
    uint64_t stop_us;               /* when SIGTERM came */
    unsigned drain_total;           /* streams open then */
    unsigned drain_ended;           /* of them, ended so far */
    struct queue_proc_counters c;
    bool c_dirty;
};

static const char pump_heartbeat[] = ":\n\n";

/* Moves s to the end of the all-streams list (most recent output). */
static void pump_all_unlink(struct pump *p, struct stream *s)
{
    if (s->prev) s->prev->next = s->next; else p->all_head = s->next;
    if (s->next) s->next->prev = s->prev; else p->all_tail = s->prev;
    s->prev = s->next = NULL;
}

static void pump_all_append(struct pump *p, struct stream *s)
{
    s->prev = p->all_tail;
    s->next = NULL;
    if (p->all_tail) p->all_tail->next = s; else p->all_head = s;
    p->all_tail = s;
    s->last_us = p->now_us;
}

static void pump_replay_unlink(struct pump *p, struct stream *s)
{
    if (s->rprev) s->rprev->rnext = s->rnext; else p->replaying = s->rnext;
    if (s->rnext) s->rnext->rprev = s->rprev;
    s->rprev = s->rnext = NULL;
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

/* Closes s at once (no END_REQUEST): client gone, too slow, or done. */
static void pump_kill(struct pump *p, struct stream *s)
{
    uint32_t i;

    if (s->state == PUMP_DEAD)
        return;
    if (p->probe == s)
        p->probe = NULL;
    for (i = 0; i < s->nsubs; i++) {
        stream_chan_unlink(&s->subs[i]);
        if (s->subs[i].chan)
            stream_chan_unref(&p->chans, s->subs[i].chan);
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
static void pump_send(struct pump *p, struct stream *s, struct stream_buf *b,
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

/* The SSE event of rec. */
static void pump_event_of(const struct queue_record *rec,
                          struct sse_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->id = rec->id;
    ev->event = rec->event;
    ev->event_len = rec->event_len;
    ev->data = rec->data;
    ev->data_len = rec->data_len;
}

/* Encodes rec as one SSE event in a new buffer; NULL on ENOMEM. */
static struct stream_buf *pump_encode(const struct queue_record *rec)
{
    struct sse_event ev;
    struct stream_buf *b;

    pump_event_of(rec, &ev);
    b = stream_out_buf_new(sse_event_size(&ev));
    if (b != NULL)
        sse_encode_event(b->data, &ev);
    return b;
}

/* Queues the sseq-gap event on s. */
static void pump_send_gap(struct pump *p, struct stream *s,
                          uint64_t requested, uint64_t oldest)
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

/* Whether s subscribes to channel ch[0..len). */
static bool pump_stream_wants(const struct stream *s, const char *ch,
                              size_t len)
{
    uint32_t i;

    for (i = 0; i < s->nsubs; i++)
        if (s->subs[i].chan->len == len &&
            memcmp(s->subs[i].chan->name, ch, len) == 0)
            return true;
    return false;
}

/* Reads the record at *cursor into the pump's buffer, growing it when the
 * record does not fit. queue_read's result. */
static int pump_read(struct pump *p, uint64_t *cursor,
                     struct queue_record *rec)
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

/* Makes room for len more bytes in the pass scratch. 0 or -ENOMEM. */
static int pump_scratch(struct pump *p, size_t len)
{
    size_t cap = p->ecap ? p->ecap : 4096;
    char *nb;

    if (p->eused + len <= p->ecap)
        return 0;
    while (cap < p->eused + len)
        cap *= 2;
    nb = realloc(p->ebuf, cap);
    if (nb == NULL)
        return -ENOMEM;
    p->ebuf = nb;
    p->ecap = cap;
    return 0;
}

/* Adds rec to the pass if its channel has live subscribers here,
 * encoded into the scratch (logged and skipped on ENOMEM). */
static void pump_collect(struct pump *p, const struct queue_record *rec)
{
    struct stream_chan *c = stream_chan_find(&p->chans, rec->channel,
                                             rec->channel_len);
    struct sse_event ev;
    struct pump_ev *e;
    size_t len;

    if (c == NULL || c->nsubs == 0)
        return;
    pump_event_of(rec, &ev);
    len = sse_event_size(&ev);
    if (pump_scratch(p, len) < 0) {
        log_error("out of memory encoding event %" PRIu64, rec->id);
        return;
    }
    sse_encode_event(p->ebuf + p->eused, &ev);
    e = &p->pass[p->npass++];
    e->chan = c;
    e->id = rec->id;
    e->off = (uint32_t)p->eused;
    e->len = (uint32_t)len;
    p->eused += len;
    if (c->pass_fill == 0) {        /* first event of c in this pass */
        c->refs++;                  /* a dropped stream must not free c */
        c->pnext = p->pass_chans;
        p->pass_chans = c;
    }
    c->pass_fill += (uint32_t)len;
}

/* Gives every channel of the pass its buffer and copies its events into
 * it, back to back (a channel whose buffer cannot be had loses them). */
static void pump_pass_buffers(struct pump *p)
{
    struct stream_chan *c;
    unsigned i;

    for (c = p->pass_chans; c != NULL; c = c->pnext) {
        c->pass_buf = stream_out_buf_new(c->pass_fill);
        if (c->pass_buf == NULL)
            log_error("out of memory: %u bytes of events for channel %s "
                      "lost", c->pass_fill, c->name);
        c->pass_fill = 0;
    }
    for (i = 0; i < p->npass; i++) {
        struct pump_ev *e = &p->pass[i];
        struct stream_buf *b = e->chan->pass_buf;

        if (b == NULL)
            continue;
        memcpy(b->data + e->chan->pass_fill, p->ebuf + e->off, e->len);
        e->off = e->chan->pass_fill;
        e->chan->pass_fill += e->len;
    }
}

/* Queues event e to the live subscribers of its channel. */
static void pump_fanout(struct pump *p, const struct pump_ev *e)
{
    struct stream_buf *b = e->chan->pass_buf;
    struct stream_sub *sub, *nsub;

    if (b == NULL)
        return;
    for (sub = e->chan->subs; sub != NULL; sub = nsub) {
        struct stream *s = sub->owner;

        nsub = sub->next;
        if (e->id >= s->min_id) {
            p->pass_streams += !s->touched;
            pump_send(p, s, b, e->off, e->len, 1);
            p->pass_sends++;
        }
    }
}

/* Fans out the pass collected so far, in id order, and empties it. */
static void pump_pass_flush(struct pump *p)
{
    struct stream_chan *c, *nc;
    unsigned i;

    if (p->npass == 0)
        return;
    pump_pass_buffers(p);
    for (i = 0; i < p->npass; i++)
        pump_fanout(p, &p->pass[i]);
    for (c = p->pass_chans; c != NULL; c = nc) {
        nc = c->pnext;
        stream_out_buf_put(c->pass_buf);
        c->pass_buf = NULL;
        c->pass_fill = 0;
        c->pnext = NULL;
        stream_chan_unref(&p->chans, c);
    }
    p->pass_chans = NULL;
    p->npass = 0;
    p->eused = 0;
}

/* Tells every live stream that records were lost (the pump fell behind
 * the ring by more than its size). */
static void pump_live_gap(struct pump *p, uint64_t requested, uint64_t oldest)
{
    struct stream *s, *ns;

    log_warn("fell behind the queue: ids %" PRIu64 "..%" PRIu64 " lost",
             requested + 1, oldest - 1);
    for (s = p->all_head; s != NULL; s = ns) {
        ns = s->next;
        if (s->state == PUMP_LIVE)
            pump_send_gap(p, s, requested, oldest);
    }
}

/* One pass: reads up to PUMP_LIVE_BATCH new records (about
 * PUMP_PASS_BYTES of events) and fans them out; true if it stopped at
 * that limit (more may be waiting). */
static bool pump_live(struct pump *p)
{
    struct queue_record rec;
    unsigned n;
    bool full;

    for (n = 0; n < PUMP_LIVE_BATCH && p->eused < PUMP_PASS_BYTES; n++) {
        uint64_t before = p->next_live;
        int rc = pump_read(p, &p->next_live, &rec);

        if (rc == QUEUE_EMPTY)
            break;
        if (rc == QUEUE_OVERRUN) {
            pump_pass_flush(p);     /* the gap goes after what came before */
            pump_live_gap(p, before - 1, p->next_live);
            continue;
        }
        if (rc < 0) {
            log_error("queue_read %" PRIu64 ": %s", before, strerror(-rc));
            break;
        }
        pump_collect(p, &rec);
    }
    full = n == PUMP_LIVE_BATCH || p->eused >= PUMP_PASS_BYTES;
    if (p->eused > 0)
        p->pass_bytes = p->eused;
    pump_pass_flush(p);
    return full;
}

/* A replaying stream has caught up with next_live: it goes live. */
static void pump_join(struct pump *p, struct stream *s)
{
    uint32_t i;

    pump_replay_unlink(p, s);
    for (i = 0; i < s->nsubs; i++)
        stream_chan_link(&s->subs[i]);
    s->state = PUMP_LIVE;
}

/* Replays up to PUMP_REPLAY_STEP records into s; true if s has more to
 * replay and room for it. */
static bool pump_replay_one(struct pump *p, struct stream *s)
{
    struct queue_record rec;
    unsigned n;

    for (n = 0; n < PUMP_REPLAY_STEP; n++) {
        uint64_t before = s->cursor;
        int rc;

        if (s->state != PUMP_REPLAY)
            return false;
        if (s->out.queued >= PUMP_REPLAY_HIGH)
            return false;
        if (s->cursor >= p->next_live) {
            pump_join(p, s);
            return false;
        }
        rc = pump_read(p, &s->cursor, &rec);
        if (rc == QUEUE_OVERRUN) {
            pump_send_gap(p, s, before - 1, s->cursor);
        } else if (rc == QUEUE_EMPTY) {
            s->cursor = p->next_live;
        } else if (rc < 0) {
            pump_kill(p, s);
            return false;
        } else if (rec.id >= s->min_id &&
                   pump_stream_wants(s, rec.channel, rec.channel_len)) {
            struct stream_buf *b = pump_encode(&rec);

            if (b == NULL) {
                pump_kill(p, s);
                return false;
            }
            pump_send(p, s, b, 0, b->len, 1);
            stream_out_buf_put(b);
        }
    }
    return true;
}

/* One replay turn for every replaying stream; true if any has more. */
static bool pump_replay(struct pump *p)
{
    struct stream *s, *ns;
    bool more = false;

    if (p->q == NULL)
        return false;
    for (s = p->replaying; s != NULL; s = ns) {
        ns = s->rnext;
        more |= pump_replay_one(p, s);
    }
    return more;
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
    struct stream *s;

    while ((s = p->touched) != NULL) {
        p->touched = s->tnext;
        s->touched = false;
        if (s->state != PUMP_DEAD && !s->epout) {
            pump_write(p, s);
            if (s->state == PUMP_LIVE && !s->epout)
                p->probe = s;
        }
    }
}

/* Frees the streams that died in this iteration. */
static void pump_bury(struct pump *p)
{
    struct stream *s;

    while ((s = p->grave) != NULL) {
        p->grave = s->gnext;
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

/* Builds the pump's stream for a submitted connection and queues its
 * head (and gap event). Closes the connection on failure. */
static void pump_open(struct pump *p, struct pump_conn *c)
{
    unsigned n = c->req.n_channels, i;
    struct stream *s = calloc(1, sizeof(*s) + n * sizeof(s->subs[0]));
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };

    if (s == NULL)
        goto fail_close;
    s->fd = c->fd;
    s->nsubs = n;
    stream_out_init(&s->out, c->request_id, false);
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    ev.data.ptr = s;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        log_error("epoll_ctl ADD fd %d: %s", s->fd, strerror(errno));
        goto fail_free;
    }
    for (i = 0; i < n; i++) {
        s->subs[i].owner = s;
        s->subs[i].chan = stream_chan_ref(&p->chans,
                                          c->req.names + c->req.off[i],
                                          c->req.len[i]);
        if (s->subs[i].chan == NULL)
            break;
    }
    s->state = PUMP_REPLAY;
    s->rnext = p->replaying;
    if (p->replaying)
        p->replaying->rprev = s;
    p->replaying = s;
    pump_all_append(p, s);
    p->c.streams_total++;
    p->c_dirty = true;
    if (i < n) {
        pump_kill(p, s);
        return;
    }
    s->min_id = c->plan.start;
    s->cursor = c->plan.start < p->next_live ? c->plan.start : p->next_live;
    pump_send(p, s, c->head, 0, c->head->len, 0);
    if (c->plan.gap)
        pump_send_gap(p, s, c->plan.gap_requested, c->plan.gap_oldest);
    if (p->stopping)
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
        stream_out_buf_put(c->head);
        free(c);
    }
}

/* Blocks while *word == val (FUTEX_WAIT, private); returns on a wake,
 * a changed word or a signal. */
static void pump_futex_wait(atomic_uint *word, unsigned val)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

/* Wakes the thread blocked on word. */
static void pump_futex_wake(atomic_uint *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Tail thread: waits until the pump is armed (it sleeps with nothing
 * left to read), then futex-waits on the queue until it has records past
 * what the pump read, disarms and wakes the pump through the eventfd. */
static void *pump_tail_main(void *arg)
{
    struct pump *p = arg;
    uint64_t oldest, next;
    uint64_t one = 1;

    while (!atomic_load(&p->tail_stop)) {
        uint32_t w;

        if (atomic_load(&p->tail_armed) == 0) {
            pump_futex_wait(&p->tail_armed, 0);
            continue;
        }
        w = queue_wake_word(p->q);
        queue_bounds(p->q, &oldest, &next);
        if (next > atomic_load(&p->tail_seen)) {
            atomic_store(&p->tail_armed, 0);
            if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
                log_error("eventfd write: %s", strerror(errno));
            continue;
        }
        queue_wait(p->q, w, -1);
    }
    return NULL;
}

/* Asks the tail thread for a wake-up when records past next_live come
 * (the pump is about to sleep with nothing to read). */
static void pump_arm(struct pump *p)
{
    if (!p->tail_started || atomic_load(&p->tail_armed) != 0)
        return;
    atomic_store(&p->tail_seen, p->next_live);
    atomic_store(&p->tail_armed, 1);
    pump_futex_wake(&p->tail_armed);
}

/* How many records the queue has that the pump has not read. */
static uint64_t pump_pending(const struct pump *p)
{
    uint64_t oldest, next;

    queue_bounds(p->q, &oldest, &next);
    return next > p->next_live ? next - p->next_live : 0;
}

/* Sets the hold timer (timerfd cfd) to t, absolute. 0 or -errno. */
static int pump_hold_at(struct pump *p, uint64_t t)
{
    struct itimerspec its = {
        .it_value = { (time_t)(t / 1000000), (long)(t % 1000000) * 1000 },
    };

    if (timerfd_settime(p->cfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        log_error("timerfd_settime: %s", strerror(errno));
        return -errno;
    }
    p->hold_until_us = t;
    return 0;
}

/* Whether the web server has not yet read all of the last pass (the
 * stream written last still has unread bytes in its socket). */
static bool pump_downstream_busy(const struct pump *p)
{
    int n = 0;

    if (p->probe == NULL || ioctl(p->probe->fd, SIOCOUTQ, &n) < 0)
        return false;
    return n > 0;
}

/* Re-arms a running hold: once the web server has read the last pass,
 * coalesce_us more but at least hold_us since the start; polling for that
 * meanwhile (at most PUMP_HOLD_MAX x coalesce_us more). false when the
 * hold is over. */
static bool pump_hold_more(struct pump *p)
{
    uint64_t c = p->set.coalesce_us;
    uint64_t end = p->hold_start_us + p->hold_us;

    if (p->drained || pump_pending(p) >= PUMP_LIVE_BATCH)
        return false;               /* a full pass is waiting: no use */
    if (p->now_us >= end + c * PUMP_HOLD_MAX)
        return false;
    if (pump_downstream_busy(p))
        return pump_hold_at(p, p->now_us + c / PUMP_DRAIN_POLLS + 1) == 0;
    p->drained = true;
    return pump_hold_at(p, end > p->now_us + c ? end : p->now_us + c) == 0;
}

/* Starts holding new records (see the file top) for the last pass's work
 * clamped to [coalesce_us, PUMP_HOLD_CAP_US], and until the web server
 * has read that pass plus coalesce_us. false if it cannot (the pass runs
 * now). */
static bool pump_hold(struct pump *p)
{
    uint64_t c = p->set.coalesce_us;

    p->hold_start_us = p->now_us;
    p->hold_us = p->work_us < PUMP_HOLD_CAP_US ? p->work_us :
                 PUMP_HOLD_CAP_US;
    if (p->hold_us < c)
        p->hold_us = c;
    p->drained = false;
    if (pump_hold_more(p))
        return true;
    p->hold_until_us = 0;
    return false;
}

/* The live part of an iteration: a pass now, or a hold while under load
 * (see the file top). true if the pump is behind (run again at once). */
static bool pump_coalesce(struct pump *p)
{
    bool urgent = p->behind || p->stopping || p->set.coalesce_us == 0;

    if (p->q == NULL)
        return false;
    if (p->hold_until_us != 0) {
        if (!urgent && (p->now_us < p->hold_until_us || pump_hold_more(p)))
            return false;
        p->hold_until_us = 0;
    } else if (!urgent && p->pass_bytes < PUMP_HOLD_BYTES &&
               pump_pending(p) > 0 &&
               (p->now_us < p->busy_until_us || pump_downstream_busy(p)) &&
               pump_hold(p)) {
        p->n_holds++;
        return false;
    }
    p->pass_sends = 0;
    p->pass_streams = 0;
    p->behind = pump_live(p);
    if (p->pass_sends > 0) {
        uint64_t span;

        p->n_passes++;
        p->work_us = (uint64_t)p->pass_streams * PUMP_STREAM_US;
        span = p->work_us < p->set.coalesce_us ? p->work_us :
               p->set.coalesce_us;
        p->busy_until_us = util_mono_us() + span * PUMP_BUSY_WINDOWS;
    }
    return p->behind;
}

/* Takes the queue given by pump_set_queue: cursor, slot, tail thread. */
static void pump_adopt(struct pump *p)
{
    struct queue *q = atomic_load(&p->q_new);
    uint64_t oldest;
    sigset_t all, old;
    int rc;

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
    /* the tail thread takes SIGUSR1 only (pump_destroy wakes it with it) */
    sigfillset(&all);
    sigdelset(&all, SIGUSR1);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&p->tail, NULL, pump_tail_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        log_error("pthread_create tail: %s", strerror(rc));
    p->tail_started = rc == 0;
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

/* Publishes the counters in the queue's process table. */
static void pump_publish_counters(struct pump *p)
{
    p->c.streams = atomic_load(&p->nstreams);
    if (p->q != NULL && p->slot >= 0)
        queue_proc_update(p->q, p->slot, &p->c);
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
        more = pump_coalesce(p);
        more |= pump_replay(p);
        pump_flush(p);
        pump_bury(p);
        if (!more && p->hold_until_us == 0 && p->q != NULL)
            pump_arm(p);
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

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
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
    int rc;

    if (p == NULL)
        return -ENOMEM;
    p->epfd = p->efd = p->sfd = p->tfd = p->cfd = -1;
    p->slot = -1;
    p->set = *set;
    pthread_mutex_init(&p->mu, NULL);
    p->pass = calloc(PUMP_LIVE_BATCH, sizeof(*p->pass));
    rc = p->pass ? stream_chan_map_init(&p->chans) : -ENOMEM;
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

/* Stops and joins the tail thread (it may be inside a futex wait, so it
 * is poked with SIGUSR1 until it leaves). */
static void pump_stop_tail(struct pump *p)
{
    struct timespec ts;

    if (!p->tail_started)
        return;
    atomic_store(&p->tail_stop, true);
    atomic_store(&p->tail_armed, 1);
    pump_futex_wake(&p->tail_armed);
    for (;;) {
        pthread_kill(p->tail, SIGUSR1);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (pthread_timedjoin_np(p->tail, NULL, &ts) == 0)
            break;
    }
    p->tail_started = false;
}

void pump_destroy(struct pump *p)
{
    struct pump_conn *c;
    struct stream *s;

    if (p == NULL)
        return;
    pump_stop_tail(p);
    log_info("pump: %" PRIu64 " events in %" PRIu64 " passes (%" PRIu64
             " held), %" PRIu64 " writes", p->c.events, p->n_passes,
             p->n_holds, p->n_writes);
    while ((s = p->all_head) != NULL)
        pump_kill(p, s);
    pump_bury(p);
    while ((c = p->submitted) != NULL) {
        p->submitted = c->next;
        close(c->fd);
        stream_out_buf_put(c->head);
        free(c);
    }
    if (p->q != NULL && p->slot >= 0) {
        pump_publish_counters(p);
        queue_proc_release(p->q, p->slot);
    }
    stream_chan_map_free(&p->chans);
    free(p->rbuf);
    free(p->ebuf);
    free(p->pass);
    if (p->epfd >= 0) close(p->epfd);
    if (p->efd >= 0) close(p->efd);
    if (p->sfd >= 0) close(p->sfd);
    if (p->tfd >= 0) close(p->tfd);
    if (p->cfd >= 0) close(p->cfd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
