/* stream_out.h -- the output queue of one FastCGI stream in sseq-stream's
 * pump: refcounted shared buffers (one SSE encoding of a message, shared
 * by every subscriber), and a ring of segments pointing into them, framed
 * as FastCGI STDOUT records and written with writev.
 *
 * Key invariant: a record header is reserved when its first content byte
 * is queued and filled in (sealed) before any byte of the queue is
 * written; a sealed header is never touched again. Several events queued
 * between two writes share one STDOUT record (up to 65535 bytes).
 * Content queued right after the previous content of the same buffer
 * extends that segment (a batch of events encoded back to back in one
 * shared buffer costs one segment, one iovec).
 * A ring of STREAM_OUT_SMALL segments lives inside the struct (no
 * allocation for the usual header + data + END_REQUEST); a larger ring is
 * allocated when needed and freed when it drains, so an idle stream holds
 * no output memory beyond the struct. Single-threaded (the pump thread). */
#ifndef SSEQ_STREAM_OUT_H
#define SSEQ_STREAM_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bytes shared by streams; freed when the last reference goes. */
struct stream_buf {
    uint32_t refs;              /* holders: the creator + every segment */
    uint32_t len;               /* bytes in data */
    char data[];
};

struct stream_out_seg {
    struct stream_buf *buf;     /* NULL: the bytes are in inl */
    uint32_t off;               /* first unwritten byte (buf->data or inl) */
    uint32_t len;               /* unwritten bytes */
    uint8_t inl[16];            /* record headers, END_REQUEST, tiny data */
};

#define STREAM_OUT_SMALL 4      /* segments of the built-in ring */

struct stream_out {
    struct stream_out_seg *segs;  /* ring, cap a power of 2: small or heap */
    uint32_t cap, head, count;
    uint32_t open_idx;          /* ring index of the open record's header */
    uint32_t open_len;          /* content bytes in the open record */
    bool open;                  /* a record header waits to be sealed */
    uint16_t request_id;
    size_t queued;              /* unwritten bytes, headers included */
    struct stream_out_seg small[STREAM_OUT_SMALL];  /* the built-in ring */
};

/* A buffer of len bytes with one reference (the caller's); NULL on ENOMEM. */
struct stream_buf *stream_out_buf_new(size_t len);
/* A buffer holding a copy of s[0..len). */
struct stream_buf *stream_out_buf_copy(const void *s, size_t len);
/* Drops one reference. */
void stream_out_buf_put(struct stream_buf *b);

/* An empty queue for the FastCGI request request_id. */
void stream_out_init(struct stream_out *o, unsigned request_id);

/* Queues b->data[off..off+len) as STDOUT content (takes its own
 * reference, or extends the last segment when it ends at b->data + off).
 * 0 or -ENOMEM (nothing queued then). */
int stream_out_data(struct stream_out *o, struct stream_buf *b,
                    size_t off, size_t len);

/* Queues up to 16 bytes copied inline, as STDOUT content. 0 or -ENOMEM. */
int stream_out_bytes(struct stream_out *o, const void *s, size_t len);

/* Seals the open record and queues END_REQUEST (app status 0). 0 or
 * -ENOMEM. Nothing may be queued after it. */
int stream_out_end(struct stream_out *o);

/* Writes as much as fd takes (non-blocking). Returns the bytes written
 * (>= 0; check stream_out_pending for what is left) or -errno on a write
 * error other than EAGAIN. */
ssize_t stream_out_write(struct stream_out *o, int fd);

static inline bool stream_out_pending(const struct stream_out *o)
{
    return o->count != 0;
}

/* Releases every segment and the ring. */
void stream_out_free(struct stream_out *o);

#endif
