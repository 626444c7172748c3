/* sse.c -- the Server-Sent Events encoder (WHATWG HTML "Server-sent
 * events", section "Parsing an event stream").
 *
 * Wire format written, field by field:
 *   "id: <text>\n"              when ev->id_text is a usable line, else
 *   "id: <decimal>\n"           when ev->id != 0
 *   "retry: <ms>\n"             when ev->retry_ms != 0
 *   "event: <type>\n"           when ev->event_len != 0
 *   "channel: <name>\n"         for ev->channel and each of ev->alt
 *                               (when channel_len != 0; a name
 *                               sse_channel_ok refuses is left out)
 *   "data: <line>\n"            for each non-empty line of the data
 *   "data:\n"                   for each empty line of the data
 *   "\n"                        ends the event
 * The data is split on LF, CRLF and CR, exactly as a browser splits the
 * stream, so "a\n" is the two lines "a" and "" and every byte of the data
 * arrives unchanged in MessageEvent.data (with "\n" for each break).
 *
 * Invariants: sse_event_size and sse_encode_event walk the data with the
 * same line iterator, so the size is exact by construction. Nothing here
 * ever writes a byte-order mark; event types and ids are checked by
 * sse_validate_field before a message is queued, never at encode time. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "proto/sse.h"
#include "base/util.h"

#define SSE_ID_PREFIX    "id: "
#define SSE_RETRY_PREFIX "retry: "
#define SSE_EVENT_PREFIX "event: "
#define SSE_CHANNEL_PREFIX "channel: "
#define SSE_DATA_PREFIX  "data: "
#define SSE_DATA_EMPTY   "data:"
#define SSE_LIT_LEN(s)   (sizeof(s) - 1)

/* Walks the lines of a data buffer; next CR / LF positions are cached so
 * each byte is searched once (memchr), whatever the number of lines. */
struct sse_lines {
    const char *p, *end;        /* unread data */
    const char *cr, *lf;        /* next CR / LF at or after p, or end */
    bool done;                  /* the last line was returned */
};

static void sse_lines_init(struct sse_lines *it, const char *data,
                           size_t len)
{
    if (data == NULL)
        data = "";
    it->p = data;
    it->end = data + len;
    it->cr = it->lf = NULL;
    it->done = false;
}

/* Position of the next c at or after p, or end. */
static const char *sse_find(const char *p, const char *end, char c)
{
    const char *q = p < end ? memchr(p, c, (size_t)(end - p)) : NULL;

    return q ? q : end;
}

/* Stores the next line in *line and *len; false once all were given.
 * Empty data has exactly one (empty) line; a trailing break adds one. */
static bool sse_lines_next(struct sse_lines *it, const char **line,
                           size_t *len)
{
    const char *brk;

    if (it->done)
        return false;
    if (it->cr == NULL || it->cr < it->p)
        it->cr = sse_find(it->p, it->end, '\r');
    if (it->lf == NULL || it->lf < it->p)
        it->lf = sse_find(it->p, it->end, '\n');
    brk = it->cr < it->lf ? it->cr : it->lf;
    *line = it->p;
    *len = (size_t)(brk - it->p);
    if (brk == it->end) {
        it->done = true;
        return true;
    }
    it->p = brk + 1;
    if (*brk == '\r' && it->p < it->end && *it->p == '\n')
        it->p++;
    return true;
}

/* Number of decimal digits of v. */
static size_t sse_digits(uint64_t v)
{
    size_t n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Writes v in decimal at out; returns the digit count. */
static size_t sse_put_u64(char *out, uint64_t v)
{
    size_t n = sse_digits(v);

    for (size_t i = n; i > 0; i--) {
        out[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return n;
}

/* Copies len bytes to out; returns len. */
static size_t sse_put(char *out, const char *s, size_t len)
{
    memcpy(out, s, len);
    return len;
}

/* 0 for a valid event type / id value, -EINVAL otherwise (see sse.h). */
int sse_validate_field(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > SSE_EVENT_MAX)
        return -EINVAL;
    if (memchr(s, '\r', len) || memchr(s, '\n', len) || memchr(s, '\0', len))
        return -EINVAL;
    if (!util_utf8_valid(s, len))
        return -EINVAL;
    return 0;
}

/* Whether s[0..len) fits on one field line: 1..max bytes, no CR, LF or
 * NUL (which would end the line early). */
static bool sse_line_ok(const char *s, size_t len, size_t max)
{
    return s != NULL && len > 0 && len <= max &&
           memchr(s, '\r', len) == NULL && memchr(s, '\n', len) == NULL &&
           memchr(s, '\0', len) == NULL;
}

bool sse_channel_ok(const char *name, size_t len)
{
    return sse_line_ok(name, len, SSE_CHANNEL_MAX);
}

/* Writes (out non-NULL) or counts "prefix<text>\n"; returns the bytes. */
static size_t sse_put_text_line(char *out, const char *prefix, size_t plen,
                                const char *text, size_t len)
{
    if (out != NULL) {
        memcpy(out, prefix, plen);
        memcpy(out + plen, text, len);
        out[plen + len] = '\n';
    }
    return plen + len + 1;
}

/* Writes (out non-NULL) or counts "prefix<v>\n"; returns the bytes. */
static size_t sse_put_u64_line(char *out, const char *prefix, size_t plen,
                               uint64_t v)
{
    size_t n = sse_digits(v);

    if (out != NULL) {
        memcpy(out, prefix, plen);
        sse_put_u64(out + plen, v);
        out[plen + n] = '\n';
    }
    return plen + n + 1;
}

/* Writes (out non-NULL) or counts the "id:" and "retry:" lines of ev;
 * the only place they are written. Returns the bytes. */
static size_t sse_put_fields(char *out, const struct sse_event *ev)
{
    size_t n = 0;

    if (sse_line_ok(ev->id_text, ev->id_text_len, SSE_CHANNEL_MAX))
        n = sse_put_text_line(out, SSE_ID_PREFIX,
                              SSE_LIT_LEN(SSE_ID_PREFIX), ev->id_text,
                              ev->id_text_len);
    else if (ev->id != 0)
        n = sse_put_u64_line(out, SSE_ID_PREFIX, SSE_LIT_LEN(SSE_ID_PREFIX),
                             ev->id);
    if (ev->retry_ms != 0)
        n += sse_put_u64_line(out ? out + n : NULL, SSE_RETRY_PREFIX,
                              SSE_LIT_LEN(SSE_RETRY_PREFIX), ev->retry_ms);
    return n;
}

/* Writes (out non-NULL) or counts the "channel:" line of name[0..len);
 * nothing when sse_channel_ok refuses it. Returns the bytes. */
static size_t sse_put_channel(char *out, const char *name, size_t len)
{
    if (!sse_channel_ok(name, len))
        return 0;
    return sse_put_text_line(out, SSE_CHANNEL_PREFIX,
                             SSE_LIT_LEN(SSE_CHANNEL_PREFIX), name, len);
}

/* Writes (out non-NULL) or counts the "channel:" lines of ev: its channel,
 * then each alternate (packed, each followed by '\0'). */
static size_t sse_put_channels(char *out, const struct sse_event *ev)
{
    const char *a = ev->alt, *end, *nul;
    size_t n;

    if (ev->channel_len == 0)
        return 0;
    n = sse_put_channel(out, ev->channel, ev->channel_len);
    if (a == NULL)
        return n;
    end = a + ev->alt_len;
    while (a < end) {
        nul = memchr(a, '\0', (size_t)(end - a));
        if (nul == NULL)
            nul = end;
        n += sse_put_channel(out ? out + n : NULL, a, (size_t)(nul - a));
        a = nul + 1;
    }
    return n;
}

size_t sse_event_size(const struct sse_event *ev)
{
    struct sse_lines it;
    const char *line;
    size_t n = 1, len;

    n += sse_put_fields(NULL, ev);
    if (ev->event_len != 0)
        n += SSE_LIT_LEN(SSE_EVENT_PREFIX) + ev->event_len + 1;
    n += sse_put_channels(NULL, ev);
    sse_lines_init(&it, ev->data, ev->data_len);
    while (sse_lines_next(&it, &line, &len))
        n += (len ? SSE_LIT_LEN(SSE_DATA_PREFIX) + len
                  : SSE_LIT_LEN(SSE_DATA_EMPTY)) + 1;
    return n;
}

/* Writes one "data:" line for line[0..len); returns the bytes written. */
static size_t sse_put_data_line(char *out, const char *line, size_t len)
{
    size_t n;

    if (len == 0) {
        n = sse_put(out, SSE_DATA_EMPTY, SSE_LIT_LEN(SSE_DATA_EMPTY));
    } else {
        n = sse_put(out, SSE_DATA_PREFIX, SSE_LIT_LEN(SSE_DATA_PREFIX));
        n += sse_put(out + n, line, len);
    }
    out[n++] = '\n';
    return n;
}

size_t sse_encode_event(char *out, const struct sse_event *ev)
{
    struct sse_lines it;
    const char *line;
    size_t n = 0, len;

    n += sse_put_fields(out, ev);
    if (ev->event_len != 0) {
        n += sse_put(out + n, SSE_EVENT_PREFIX,
                     SSE_LIT_LEN(SSE_EVENT_PREFIX));
        n += sse_put(out + n, ev->event, ev->event_len);
        out[n++] = '\n';
    }
    n += sse_put_channels(out + n, ev);
    sse_lines_init(&it, ev->data, ev->data_len);
    while (sse_lines_next(&it, &line, &len))
        n += sse_put_data_line(out + n, line, len);
    out[n++] = '\n';
    return n;
}

/* "retry: <ms>\n\n": digits only, as the spec requires. */
size_t sse_encode_retry(char *out, unsigned ms)
{
    size_t n = sse_put_u64_line(out, SSE_RETRY_PREFIX,
                                SSE_LIT_LEN(SSE_RETRY_PREFIX), ms);

    out[n++] = '\n';
    return n;
}
