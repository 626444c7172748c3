/* stream_out.c -- per-stream output queue of FastCGI STDOUT records over
 * shared, refcounted buffers (see stream_out.h for the invariants). */
#include "ac_config.h"

#include "stream/stream_out.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "proto/fcgi_rec.h"

#define STREAM_OUT_IOV 64       /* iovecs per writev */

struct stream_buf *stream_out_buf_new(size_t len)
{
    struct stream_buf *b;

    if (len > UINT32_MAX)
        return NULL;
    b = malloc(sizeof(*b) + len);
    if (b == NULL)
        return NULL;
    b->refs = 1;
    b->len = (uint32_t)len;
    return b;
}

struct stream_buf *stream_out_buf_copy(const void *s, size_t len)
{
    struct stream_buf *b = stream_out_buf_new(len);

    if (b != NULL)
        memcpy(b->data, s, len);
    return b;
}

void stream_out_buf_put(struct stream_buf *b)
{
    if (b != NULL && --b->refs == 0)
        free(b);
}

void stream_out_init(struct stream_out *o, unsigned request_id)
{
    memset(o, 0, sizeof(*o));
    o->request_id = (uint16_t)request_id;
}

/* Gives the ring back: the built-in one again, a heap one freed. */
static void stream_out_release(struct stream_out *o)
{
    if (o->segs != o->small)
        free(o->segs);
    o->segs = NULL;
    o->cap = o->head = 0;
}

/* Takes the built-in ring, or doubles the ring on the heap, keeping
 * order. 0 or -ENOMEM. */
static int stream_out_grow(struct stream_out *o)
{
    uint32_t cap = o->cap ? o->cap * 2 : STREAM_OUT_SMALL, i;
    struct stream_out_seg *segs = o->small;

    if (cap > STREAM_OUT_SMALL)
        segs = malloc(cap * sizeof(*segs));
    if (segs == NULL)
        return -ENOMEM;
    for (i = 0; i < o->count; i++)
        segs[i] = o->segs[(o->head + i) & (o->cap - 1)];
    if (o->open)
        o->open_idx = (o->open_idx - o->head) & (o->cap - 1);
    if (o->segs != o->small)
        free(o->segs);
    o->segs = segs;
    o->cap = cap;
    o->head = 0;
    return 0;
}

/* A new segment at the tail, or NULL on ENOMEM. */
static struct stream_out_seg *stream_out_push(struct stream_out *o)
{
    struct stream_out_seg *sg;

    if (o->count == o->cap && stream_out_grow(o) < 0)
        return NULL;
    assert(o->count < o->cap && (o->cap & (o->cap - 1)) == 0);
    sg = &o->segs[(o->head + o->count) & (o->cap - 1)];
    o->count++;
    memset(sg, 0, sizeof(*sg));
    return sg;
}

/* Fills in the open record's header. A record longer than FastCGI's
 * 65535 content bytes would desynchronise nginx's framing of every byte
 * after it: never written. */
static void stream_out_seal(struct stream_out *o)
{
    if (!o->open)
        return;
    assert(o->open_len <= FCGI_REC_CONTENT_MAX);
    fcgi_rec_header(o->segs[o->open_idx].inl, FCGI_REC_STDOUT,
                    o->request_id, o->open_len);
    o->open = false;
}

/* Makes room for up to want content bytes in an open record; returns how
 * many fit (> 0) or -ENOMEM. */
static long stream_out_room(struct stream_out *o, size_t want)
{
    struct stream_out_seg *sg;
    size_t room;

    if (o->open && o->open_len == FCGI_REC_CONTENT_MAX)
        stream_out_seal(o);
    if (!o->open) {
        sg = stream_out_push(o);
        if (sg == NULL)
            return -ENOMEM;
        sg->len = FCGI_REC_HEADER_LEN;
        o->open_idx = (uint32_t)(sg - o->segs);
        o->open_len = 0;
        o->open = true;
        o->queued += FCGI_REC_HEADER_LEN;
    }
    room = FCGI_REC_CONTENT_MAX - o->open_len;
    return (long)(want < room ? want : room);
}

/* Accounts n content bytes just queued. */
static void stream_out_took(struct stream_out *o, size_t n)
{
    o->open_len += (uint32_t)n;
    o->queued += n;
}

/* Extends the last segment by len bytes when it ends at b->data + off
 * and its record has room; true if it did. */
static bool stream_out_extend(struct stream_out *o, struct stream_buf *b,
                              size_t off, size_t len)
{
    struct stream_out_seg *sg;

    if (o->count == 0 || !o->open)
        return false;
    sg = &o->segs[(o->head + o->count - 1) & (o->cap - 1)];
    if (sg->buf != b || sg->off + sg->len != off)
        return false;
    if (o->open_len + len > FCGI_REC_CONTENT_MAX)
        return false;
    sg->len += (uint32_t)len;
    stream_out_took(o, len);
    return true;
}

int stream_out_data(struct stream_out *o, struct stream_buf *b,
                    size_t off, size_t len)
{
    if (len > 0 && stream_out_extend(o, b, off, len))
        return 0;
    while (len > 0) {
        long n = stream_out_room(o, len);
        struct stream_out_seg *sg;

        if (n < 0)
            return (int)n;
        sg = stream_out_push(o);
        if (sg == NULL)
            return -ENOMEM;
        b->refs++;
        sg->buf = b;
        sg->off = (uint32_t)off;
        sg->len = (uint32_t)n;
        stream_out_took(o, (size_t)n);
        off += (size_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int stream_out_bytes(struct stream_out *o, const void *s, size_t len)
{
    struct stream_out_seg *sg;
    long n;

    if (len == 0 || len > sizeof(sg->inl))
        return len == 0 ? 0 : -EINVAL;
    n = stream_out_room(o, len);
    if (n < (long)len) {
        stream_out_seal(o);
        n = stream_out_room(o, len);
    }
    if (n < 0)
        return (int)n;
    sg = stream_out_push(o);
    if (sg == NULL)
        return -ENOMEM;
    memcpy(sg->inl, s, len);
    sg->len = (uint32_t)len;
    stream_out_took(o, len);
    return 0;
}

int stream_out_end(struct stream_out *o)
{
    struct stream_out_seg *sg;

    stream_out_seal(o);
    sg = stream_out_push(o);
    if (sg == NULL)
        return -ENOMEM;
    fcgi_rec_end_request(sg->inl, o->request_id, 0);
    sg->len = FCGI_REC_END_LEN;
    o->queued += FCGI_REC_END_LEN;
    return 0;
}

/* Fills iov from the queue head; returns the count. */
static int stream_out_iov(const struct stream_out *o, struct iovec *iov)
{
    uint32_t i, n = o->count < STREAM_OUT_IOV ? o->count : STREAM_OUT_IOV;

    for (i = 0; i < n; i++) {
        const struct stream_out_seg *sg =
            &o->segs[(o->head + i) & (o->cap - 1)];
        const char *base = sg->buf ? sg->buf->data : (const char *)sg->inl;

        iov[i].iov_base = (void *)(base + sg->off);
        iov[i].iov_len = sg->len;
    }
    return (int)n;
}

/* Drops n written bytes from the queue head. */
static void stream_out_consume(struct stream_out *o, size_t n)
{
    o->queued -= n;
    while (n > 0) {
        struct stream_out_seg *sg = &o->segs[o->head];

        if (n < sg->len) {
            sg->off += (uint32_t)n;
            sg->len -= (uint32_t)n;
            return;
        }
        n -= sg->len;
        stream_out_buf_put(sg->buf);
        o->head = (o->head + 1) & (o->cap - 1);
        o->count--;
    }
}

ssize_t stream_out_write(struct stream_out *o, int fd)
{
    struct iovec iov[STREAM_OUT_IOV];
    ssize_t total = 0, n;

    stream_out_seal(o);
    while (o->count > 0) {
        n = writev(fd, iov, stream_out_iov(o, iov));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return total;
            return -errno;
        }
        stream_out_consume(o, (size_t)n);
        total += n;
    }
    stream_out_release(o);
    return total;
}

void stream_out_free(struct stream_out *o)
{
    while (o->count > 0) {
        stream_out_buf_put(o->segs[o->head].buf);
        o->head = (o->head + 1) & (o->cap - 1);
        o->count--;
    }
    stream_out_release(o);
    o->queued = 0;
    o->open = false;
}
