/* sse.h -- the Server-Sent Events encoder (WHATWG HTML "Server-sent
 * events"). Everything here is pure: it writes into caller memory. */
#ifndef SSEQ_SSE_H
#define SSEQ_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSE_EVENT_MAX 128       /* longest event type accepted */
#define SSE_CHANNEL_MAX 4096    /* longest "channel:" value written */
#define SSE_HEARTBEAT   ":\n\n"  /* an empty comment: the heartbeat */

struct sse_event {
    uint64_t id;                /* sent as "id: <decimal>"; 0 = no id line */
    const char *id_text; size_t id_text_len;   /* sent as "id: <text>"
                                           instead of id, when set and
                                           it holds no CR, LF or NUL */
    uint32_t retry_ms;          /* "retry: <ms>"; 0 = no retry line */
    const char *event; size_t event_len;   /* 0 = no event line */
    const char *data;  size_t data_len;
    const char *channel; size_t channel_len;   /* 0 = no channel lines */
    const char *alt;   size_t alt_len;  /* more channels, each followed
                                           by '\0' (queue_record's) */
};

/* 0 if s may be an event type or id value: 1..SSE_EVENT_MAX bytes, no CR,
 * LF or NUL, valid UTF-8. -EINVAL otherwise. */
int sse_validate_field(const char *s, size_t len);

/* Exact number of bytes sse_encode_event writes for ev. */
size_t sse_event_size(const struct sse_event *ev);

/* Whether name[0..len) can be a "channel:" line: 1..SSE_CHANNEL_MAX
 * bytes, no CR, LF or NUL (which would end the line early). */
bool sse_channel_ok(const char *name, size_t len);

/* Encodes ev: "id:" (id_text or id), "retry:", "event:", a "channel:" line for channel and each
 * alternate that sse_channel_ok accepts (others are left out), one
 * "data:" line per line of data (split on LF, CRLF or CR; empty data
 * gives one "data:" line), then a blank line.
 * out must hold sse_event_size(ev) bytes; returns that count. */
size_t sse_encode_event(char *out, const struct sse_event *ev);

/* "retry: <ms>\n\n"; out needs 32 bytes. Returns bytes written. */
size_t sse_encode_retry(char *out, unsigned ms);

#endif
