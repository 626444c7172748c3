/* loadgen_sse.c -- one subscriber's response parser: the HTTP/1.1 head,
 * then chunked or identity framing, then SSE lines (LF, CR or CRLF;
 * data:, event:, id:, retry:, comments), as three small resumable state
 * machines. A read may end at any byte, also between CR and LF.
 *
 * Key invariant: only the first sizeof(data) bytes of an event's data are
 * kept (the load generator's messages start with "<seq> <time>"), so a
 * subscriber costs under 100 bytes of parser state once its head is in. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     /* memmem, strcasestr, asprintf */
#endif
#include "loadgen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LG_HEAD_MAX 4096

enum {                                  /* chunked framing (ck_state) */
    CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_END, CK_DONE,
};

enum {                                  /* SSE line (ln_state) */
    LN_START, LN_NAME, LN_SPACE, LN_DATA, LN_EVENT, LN_SKIP, LN_COMMENT,
};

int lg_sse_init(struct lg_sse *p)
{
    memset(p, 0, sizeof(*p));
    p->head = malloc(LG_HEAD_MAX);
    return p->head ? 0 : -ENOMEM;
}

void lg_sse_free(struct lg_sse *p)
{
    free(p->head);
    p->head = NULL;
}

/* Reads the status and Transfer-Encoding out of the complete head;
 * -EPROTO when the status line is not HTTP/1.x NNN. */
static int lg_head_parse(struct lg_sse *p, size_t len)
{
    char *h = p->head, *line, *end = h + len;

    if (len < 12 || strncmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ')
        return -EPROTO;
    p->status = (uint16_t)strtoul(h + 9, NULL, 10);
    if (p->status < 100 || p->status > 599)
        return -EPROTO;
    for (line = memchr(h, '\n', len); line && line < end;
         line = memchr(line, '\n', (size_t)(end - line))) {
        line++;
        if (end - line > 18 &&
            strncasecmp(line, "transfer-encoding:", 18) == 0) {
            char *eol = memchr(line, '\n', (size_t)(end - line));
            size_t n = eol ? (size_t)(eol - line) : (size_t)(end - line);
            char save = line[n];

            line[n] = '\0';
            p->chunked = strcasestr(line + 18, "chunked") != NULL;
            line[n] = save;
        }
    }
    return 0;
}

/* Takes head bytes; returns how many of buf it used (the rest is body) or
 * -E2BIG / -EPROTO. */
static long lg_head_feed(struct lg_sse *p, const char *buf, size_t len)
{
    size_t old = p->head_len, take = len, i;
    int rc;

    if (take > LG_HEAD_MAX - 1 - old)
        take = LG_HEAD_MAX - 1 - old;
    memcpy(p->head + old, buf, take);
    p->head_len = (uint16_t)(old + take);
    for (i = old > 3 ? old - 3 : 0; i < p->head_len; i++) {
        size_t e = 0;

        if (p->head[i] != '\n')
            continue;
        if (i >= 1 && p->head[i - 1] == '\n')
            e = i + 1;
        else if (i >= 2 && p->head[i - 1] == '\r' && p->head[i - 2] == '\n')
            e = i + 1;
        if (!e)
            continue;
        p->head[e] = '\0';
        rc = lg_head_parse(p, e);
        free(p->head);
        p->head = NULL;
        if (rc < 0)
            return rc;
        p->phase = LG_SSE_BODY;
        return (long)(e - old);
    }
    return p->head_len >= LG_HEAD_MAX - 1 ? -E2BIG : (long)take;
}

/* Ends the event at a blank line: reports it or counts it as other. */
static void lg_dispatch(struct lg_sse *p, struct lg_sse_sink *s)
{
    if (p->has_data) {
        if (p->other_event)
            s->others++;
        else
            s->event(s->ctx, p->data, p->data_len);
    }
    p->has_data = 0;
    p->data_len = 0;
    p->other_event = 0;
}

/* The state for the value of the field named in p->name. */
static uint8_t lg_field_state(struct lg_sse *p)
{
    if (p->name_len == 4 && memcmp(p->name, "data", 4) == 0) {
        if (p->has_data && p->data_len < sizeof(p->data))
            p->data[p->data_len++] = '\n';
        p->has_data = 1;
        return LN_DATA;
    }
    if (p->name_len == 5 && memcmp(p->name, "event", 5) == 0) {
        p->name_len = 0;
        return LN_EVENT;
    }
    return LN_SKIP;
}

/* Ends the current line (c is its CR or LF). */
static void lg_line_end(struct lg_sse *p, struct lg_sse_sink *s, char c)
{
    switch (p->ln_state) {
    case LN_START:
        lg_dispatch(p, s);
        break;
    case LN_NAME:                       /* "data" alone: empty value */
    case LN_SPACE:                      /* "data:" then the line end */
        if (lg_field_state(p) == LN_EVENT)
            p->other_event = 0;
        break;
    case LN_EVENT:
        p->other_event = !(p->name_len == 0 || (p->name_len == 7 &&
                           memcmp(p->name, "message", 7) == 0));
        break;
    case LN_COMMENT:
        s->comments++;
        break;
    default:
        break;
    }
    p->ln_state = LN_START;
    p->cr = c == '\r';
}

/* Feeds body bytes (framing removed) to the SSE line machine. */
static void lg_lines_feed(struct lg_sse *p, const char *b, size_t n,
                          struct lg_sse_sink *s)
{
    size_t i = 0;

    while (i < n) {
        char c = b[i];

        if (p->cr) {
            p->cr = 0;
            if (c == '\n') {
                i++;
                continue;
            }
        }
        if (c == '\n' || c == '\r') {
            lg_line_end(p, s, c);
            i++;
            continue;
        }
        switch (p->ln_state) {
        case LN_START:
            p->name_len = 0;
            p->ln_state = c == ':' ? LN_COMMENT : LN_NAME;
            if (c == ':')
                break;
            /* fall through */
        case LN_NAME:
            if (c == ':')
                p->ln_state = LN_SPACE;
            else if (p->name_len < sizeof(p->name))
                p->name[p->name_len++] = c;
            else
                p->name_len = 0xff;
            break;
        case LN_SPACE:
            p->ln_state = lg_field_state(p);
            if (c == ' ')
                break;
            continue;                   /* reprocess c as value */
        case LN_DATA: {
            size_t j = i;

            while (j < n && b[j] != '\n' && b[j] != '\r')
                j++;
            while (i < j && p->data_len < sizeof(p->data))
                p->data[p->data_len++] = b[i++];
            i = j;
            continue;
        }
        case LN_EVENT:
            if (p->name_len < sizeof(p->name))
                p->name[p->name_len++] = c;
            else
                p->name_len = 0xff;
            break;
        default:                        /* LN_SKIP, LN_COMMENT */
            break;
        }
        i++;
    }
}

/* Removes chunked framing from b[0..n), feeding the data to the lines;
 * -EPROTO on bad framing. */
static int lg_chunks_feed(struct lg_sse *p, const char *b, size_t n,
                          struct lg_sse_sink *s)
{
    size_t i = 0;

    while (i < n && p->phase == LG_SSE_BODY) {
        char c = b[i];

        switch (p->ck_state) {
        case CK_SIZE:
            if (c >= '0' && c <= '9')
                p->ck_left = p->ck_left * 16 + (uint32_t)(c - '0');
            else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                p->ck_left = p->ck_left * 16 + (uint32_t)((c | 0x20) - 'a'
                                                           + 10);
            else if (c == ';' || c == ' ' || c == '\t')
                p->ck_state = CK_EXT;
            else if (c == '\r')
                p->ck_state = CK_SIZE_LF;
            else if (c == '\n') {
                i++;
                goto size_done;
            } else
                return -EPROTO;
            if (p->ck_left > (1u << 28))
                return -EPROTO;
            i++;
            continue;
        case CK_EXT:
        case CK_SIZE_LF:
            i++;
            if (c == '\n')
                goto size_done;
            continue;
        case CK_DATA: {
            size_t take = n - i < p->ck_left ? n - i : p->ck_left;

            lg_lines_feed(p, b + i, take, s);
            i += take;
            p->ck_left -= (uint32_t)take;
            if (p->ck_left == 0)
                p->ck_state = CK_DATA_END;
            continue;
        }
        case CK_DATA_END:
            i++;
            if (c == '\n')
                p->ck_state = CK_SIZE;
            else if (c != '\r')
                return -EPROTO;
            continue;
        default:
            p->phase = LG_SSE_END;
            return 0;
        }
size_done:                              /* i is past the LF */
        p->ck_state = p->ck_left ? CK_DATA : CK_DONE;
        if (p->ck_state == CK_DONE)
            p->phase = LG_SSE_END;
    }
    return 0;
}

int lg_sse_feed(struct lg_sse *p, const char *buf, size_t len,
                struct lg_sse_sink *sink)
{
    if (p->phase == LG_SSE_HEAD) {
        long used = lg_head_feed(p, buf, len);

        if (used < 0)
            return (int)used;
        buf += used;
        len -= (size_t)used;
        if (p->phase == LG_SSE_HEAD || len == 0)
            return 0;
    }
    if (p->phase != LG_SSE_BODY)
        return 0;
    if (p->chunked)
        return lg_chunks_feed(p, buf, len, sink);
    lg_lines_feed(p, buf, len, sink);
    return 0;
}
