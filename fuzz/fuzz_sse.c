/* fuzz_sse.c -- libFuzzer target: the SSE encoder (src/proto/sse.c). Input: 8
 * bytes of id, a length byte, the event type, then the data. The encoded
 * event is parsed back the way a browser parses an event stream (WHATWG
 * HTML, "Parsing an event stream"). Properties: the size is exact; no
 * input injects a field: exactly one event is dispatched, at the very
 * end, with only id, event and data fields, carrying the id, the event
 * type (when sse_validate_field accepts it, as the queue requires) and the
 * data with each CRLF or CR read as LF. */
#include "ac_config.h"

#include <inttypes.h>
#include <string.h>

#include "fuzz.h"
#include "proto/sse.h"

/* What a browser makes of an event stream. */
struct fuzz_parsed {
    char *data; size_t data_len;        /* the data buffer */
    const char *event; size_t event_len;
    const char *id; size_t id_len;
    int events;                         /* events dispatched */
    int other;                          /* lines that are no id/event/data */
    int after;                          /* bytes after the first dispatch */
};

/* Handles one line (without its end) of the stream. */
static void fuzz_line(struct fuzz_parsed *p, const char *l, size_t n)
{
    const char *colon = memchr(l, ':', n), *v;
    size_t flen = colon ? (size_t)(colon - l) : n, vlen;

    if (n == 0) {
        p->events++;
        return;
    }
    if (p->events > 0)
        p->after++;
    if (flen == 0) {
        p->other++;                     /* a comment */
        return;
    }
    v = colon ? colon + 1 : l + n;
    vlen = colon ? n - flen - 1 : 0;
    if (vlen > 0 && v[0] == ' ')
        v++, vlen--;
    if (flen == 4 && memcmp(l, "data", 4) == 0) {
        memcpy(p->data + p->data_len, v, vlen);
        p->data_len += vlen;
        p->data[p->data_len++] = '\n';
    } else if (flen == 5 && memcmp(l, "event", 5) == 0) {
        p->event = v, p->event_len = vlen;
    } else if (flen == 2 && memcmp(l, "id", 2) == 0) {
        p->id = v, p->id_len = vlen;
    } else {
        p->other++;
    }
}

/* Splits out[0..n) into lines on CRLF, LF or CR. */
static void fuzz_parse(struct fuzz_parsed *p, const char *out, size_t n)
{
    size_t i = 0, start = 0;

    while (i < n) {
        if (out[i] != '\r' && out[i] != '\n') {
            i++;
            continue;
        }
        fuzz_line(p, out + start, i - start);
        i += (out[i] == '\r' && i + 1 < n && out[i + 1] == '\n') ? 2 : 1;
        start = i;
    }
    FUZZ_ASSERT(start == n, "the stream ends with a line end");
}

/* The data as the browser must see it: CRLF and CR become LF. */
static size_t fuzz_expect(char *dst, const char *d, size_t n)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        if (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n')
            continue;
        dst[k++] = d[i] == '\r' ? '\n' : d[i];
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sse_event ev = { 0 };
    struct fuzz_parsed p = { 0 };
    char idtext[24], *out, *want;
    size_t need, got, wlen, elen;

    if (size < 9)
        return 0;
    memcpy(&ev.id, data, 8);
    elen = data[8] % 160;
    if (elen > size - 9)
        elen = size - 9;
    if (elen && sse_validate_field((const char *)data + 9, elen) == 0) {
        ev.event = (const char *)data + 9;
        ev.event_len = elen;
    }
    ev.data = (const char *)data + 9 + elen;
    ev.data_len = size - 9 - elen;
    need = sse_event_size(&ev);
    out = malloc(need);                 /* exact: ASan sees any overrun */
    p.data = malloc(need + 1);
    want = malloc(ev.data_len + 1);
    FUZZ_ASSERT(out && p.data && want, "malloc");
    got = sse_encode_event(out, &ev);
    FUZZ_ASSERT(got == need, "sse_event_size is exact");
    fuzz_parse(&p, out, got);
    FUZZ_ASSERT(p.events == 1 && p.after == 0, "exactly one event, at the "
                "end");
    FUZZ_ASSERT(p.other == 0, "no field but id, event and data");
    FUZZ_ASSERT(p.data_len > 0, "the data field is always sent");
    wlen = fuzz_expect(want, ev.data, ev.data_len);
    FUZZ_ASSERT(p.data_len - 1 == wlen &&
                memcmp(p.data, want, wlen) == 0, "the data arrives whole");
    FUZZ_ASSERT(p.event_len == ev.event_len &&
                (ev.event_len == 0 ||
                 memcmp(p.event, ev.event, ev.event_len) == 0),
                "the event type arrives whole");
    snprintf(idtext, sizeof(idtext), "%" PRIu64, ev.id);
    FUZZ_ASSERT(ev.id == 0 ? p.id == NULL
                           : (p.id_len == strlen(idtext) &&
                              memcmp(p.id, idtext, p.id_len) == 0),
                "the id arrives whole");
    free(want);
    free(p.data);
    free(out);
    return 0;
}
