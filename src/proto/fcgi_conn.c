/* fcgi_conn.c -- assembling one FastCGI request from the bytes the web
 * server sends (see fcgi_conn.h). Records: an 8-byte header, content,
 * padding; content is routed by type into the request's params or body,
 * or answered (management records, request id 0). */
#include "ac_config.h"

#include "proto/fcgi_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FCGI_CONN_VERSION        1
#define FCGI_CONN_RESPONDER      1
#define FCGI_CONN_KEEP_CONN      1
#define FCGI_CONN_GET_VALUES     9
#define FCGI_CONN_VALUES_RESULT  10
#define FCGI_CONN_UNKNOWN_TYPE   11
#define FCGI_CONN_CANT_MPX       1  /* END_REQUEST protocol statuses */
#define FCGI_CONN_UNKNOWN_ROLE   3

void fcgi_conn_init(struct fcgi_conn *c, const struct fcgi_conn_limits *lim)
{
    memset(c, 0, sizeof(*c));
    c->lim = *lim;
}

void fcgi_conn_free(struct fcgi_conn *c)
{
    free(c->raw);
    free(c->dec);
    free(c->params);
    free(c->body);
    c->raw = c->dec = c->body = NULL;
    c->params = NULL;
}

void fcgi_conn_next(struct fcgi_conn *c)
{
    c->begun = c->params_done = c->stdin_done = c->keep_conn = false;
    c->request_id = 0;
    c->raw_len = c->n_params = c->body_len = c->body_keep = 0;
    c->body_seen = 0;
}

bool fcgi_conn_in_request(const struct fcgi_conn *c)
{
    return c->begun || c->hdr_got > 0 || c->content_left > 0 ||
           c->pad_left > 0;
}

/* Grows *buf (capacity *cap) to hold need bytes. 0 or -ENOMEM. */
static int fcgi_conn_grow(char **buf, size_t *cap, size_t need)
{
    size_t ncap = *cap ? *cap : 1024;
    char *nb;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    nb = realloc(*buf, ncap);
    if (nb == NULL)
        return -ENOMEM;
    *buf = nb;
    *cap = ncap;
    return 0;
}

/* Writes an END_REQUEST with protocol status pstatus for id as the reply. */
static int fcgi_conn_reply_end(struct fcgi_conn *c, unsigned id,
                               uint8_t pstatus)
{
    fcgi_rec_end_request(c->reply, id, 0);
    c->reply[12] = pstatus;
    c->reply_len = FCGI_REC_END_LEN;
    return FCGI_CONN_REPLY;
}

/* Appends one name-value pair to the GET_VALUES_RESULT being built. */
static void fcgi_conn_value(struct fcgi_conn *c, const char *name,
                            const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);

    if (c->reply_len + 2 + nl + vl > sizeof(c->reply))
        return;
    c->reply[c->reply_len++] = (uint8_t)nl;
    c->reply[c->reply_len++] = (uint8_t)vl;
    memcpy(c->reply + c->reply_len, name, nl);
    memcpy(c->reply + c->reply_len + nl, value, vl);
    c->reply_len += nl + vl;
}

/* GET_VALUES: answers the three variables the spec defines, whatever
 * was asked (the query names only echo them). */
static int fcgi_conn_get_values(struct fcgi_conn *c)
{
    size_t content;

    c->reply_len = FCGI_REC_HEADER_LEN;
    fcgi_conn_value(c, "FCGI_MAX_CONNS", "1000");
    fcgi_conn_value(c, "FCGI_MAX_REQS", "1000");
    fcgi_conn_value(c, "FCGI_MPXS_CONNS", "0");
    content = c->reply_len - FCGI_REC_HEADER_LEN;
    fcgi_rec_header(c->reply, FCGI_CONN_VALUES_RESULT, 0, content);
    return FCGI_CONN_REPLY;
}

/* Reads a pair length (1 or 4 bytes) at *pos of raw; -1 if cut short. */
static long fcgi_conn_pair_len(const uint8_t *raw, size_t len, size_t *pos)
{
    uint32_t n;

    if (*pos >= len)
        return -1;
    if (!(raw[*pos] & 0x80))
        return raw[(*pos)++];
    if (len - *pos < 4)
        return -1;
    n = ((uint32_t)(raw[*pos] & 0x7f) << 24) | (uint32_t)raw[*pos + 1] << 16 |
        (uint32_t)raw[*pos + 2] << 8 | raw[*pos + 3];
    *pos += 4;
    return (long)n;
}

/* Decodes raw PARAMS content into c->dec / c->params. -EPROTO if a pair
 * is cut short, -ENOMEM. */
static int fcgi_conn_decode(struct fcgi_conn *c)
{
    const uint8_t *raw = (const uint8_t *)c->raw;
    size_t pos = 0, out = 0, n = 0;

    free(c->dec);
    free(c->params);
    c->params = NULL;
    c->dec = malloc(c->raw_len + 2);
    c->params = malloc((c->raw_len / 2 + 1) * sizeof(*c->params));
    if (c->dec == NULL || c->params == NULL)
        return -ENOMEM;
    while (pos < c->raw_len) {
        long nl = fcgi_conn_pair_len(raw, c->raw_len, &pos);
        long vl = nl < 0 ? -1 : fcgi_conn_pair_len(raw, c->raw_len, &pos);

        if (vl < 0 || (size_t)nl + (size_t)vl > c->raw_len - pos)
            return -EPROTO;
        c->params[n].name = c->dec + out;
        memcpy(c->dec + out, raw + pos, (size_t)nl);
        out += (size_t)nl;
        c->dec[out++] = '\0';
        pos += (size_t)nl;
        c->params[n].value = c->dec + out;
        memcpy(c->dec + out, raw + pos, (size_t)vl);
        out += (size_t)vl;
        c->dec[out++] = '\0';
        pos += (size_t)vl;
        n++;
    }
    c->n_params = n;
    return 0;
}

const char *fcgi_conn_param(const struct fcgi_conn *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->n_params; i++)
        if (strcmp(c->params[i].name, name) == 0)
            return c->params[i].value;
    return NULL;
}

/* A complete BEGIN_REQUEST content: starts the request, or answers. */
static int fcgi_conn_begin(struct fcgi_conn *c)
{
    unsigned role = (unsigned)c->small[0] << 8 | c->small[1];

    if (c->begun)
        return fcgi_conn_reply_end(c, c->rec_id, FCGI_CONN_CANT_MPX);
    if (role != FCGI_CONN_RESPONDER)
        return fcgi_conn_reply_end(c, c->rec_id, FCGI_CONN_UNKNOWN_ROLE);
    c->begun = true;
    c->request_id = c->rec_id;
    c->keep_conn = (c->small[2] & FCGI_CONN_KEEP_CONN) != 0;
    return FCGI_CONN_MORE;
}

/* Content bytes of a PARAMS record of the request. */
static int fcgi_conn_params(struct fcgi_conn *c, const uint8_t *buf,
                            size_t n)
{
    if (c->params_done)
        return -EPROTO;
    if (c->raw_len + n > c->lim.params_max)
        return -EMSGSIZE;
    if (fcgi_conn_grow(&c->raw, &c->raw_cap, c->raw_len + n) < 0)
        return -ENOMEM;
    memcpy(c->raw + c->raw_len, buf, n);
    c->raw_len += n;
    return FCGI_CONN_MORE;
}

/* Content bytes of a STDIN record: kept up to body_keep, counted. */
static int fcgi_conn_stdin(struct fcgi_conn *c, const uint8_t *buf,
                           size_t n)
{
    size_t keep = 0;

    if (!c->params_done || c->stdin_done)
        return -EPROTO;
    c->body_seen += n;
    if (c->body_seen > c->lim.body_drain_max)
        return -E2BIG;
    if (c->body_len < c->body_keep)
        keep = c->body_keep - c->body_len < n ? c->body_keep - c->body_len
                                              : n;
    if (keep > 0) {
        if (fcgi_conn_grow(&c->body, &c->body_cap, c->body_len + keep + 1)
            < 0)
            return -ENOMEM;
        memcpy(c->body + c->body_len, buf, keep);
        c->body_len += keep;
        c->body[c->body_len] = '\0';
    }
    return FCGI_CONN_MORE;
}

/* A record's content is complete: acts on its type. For the PARAMS and
 * STDIN streams only an empty record (empty) means "the end". */
static int fcgi_conn_record_done(struct fcgi_conn *c, bool empty)
{
    bool ours = c->begun && c->rec_id == c->request_id;

    if (c->rec_id == 0) {
        if (c->type == FCGI_CONN_GET_VALUES)
            return fcgi_conn_get_values(c);
        fcgi_rec_header(c->reply, FCGI_CONN_UNKNOWN_TYPE, 0, 8);
        memset(c->reply + 8, 0, 8);
        c->reply[8] = c->type;
        c->reply_len = 16;
        return FCGI_CONN_REPLY;
    }
    switch (c->type) {
    case FCGI_REC_BEGIN_REQUEST:
        return fcgi_conn_begin(c);
    case FCGI_REC_ABORT_REQUEST:
        return ours ? FCGI_CONN_ABORT : FCGI_CONN_MORE;
    case FCGI_REC_PARAMS:
        if (!empty)
            return FCGI_CONN_MORE;
        if (!ours || c->params_done)
            return ours ? -EPROTO : FCGI_CONN_MORE;
        c->params_done = true;
        if (fcgi_conn_decode(c) < 0)
            return -EPROTO;
        return FCGI_CONN_PARAMS;
    case FCGI_REC_STDIN:
        if (!empty)
            return FCGI_CONN_MORE;
        if (!ours || !c->params_done || c->stdin_done)
            return ours ? -EPROTO : FCGI_CONN_MORE;
        c->stdin_done = true;
        return FCGI_CONN_REQUEST;
    default:
        return FCGI_CONN_MORE;
    }
}

/* A complete record header: sets up reading its content. */
static int fcgi_conn_header(struct fcgi_conn *c)
{
    const uint8_t *h = c->hdr;

    c->hdr_got = 0;
    if (h[0] != FCGI_CONN_VERSION)
        return -EPROTO;
    c->type = h[1];
    c->rec_id = (unsigned)h[2] << 8 | h[3];
    c->content_left = (uint32_t)h[4] << 8 | h[5];
    c->pad_left = h[6];
    c->small_got = 0;
    if (c->content_left == 0)
        return fcgi_conn_record_done(c, true);
    return FCGI_CONN_MORE;
}

/* Content bytes of the current record, routed by type. */
static int fcgi_conn_content(struct fcgi_conn *c, const uint8_t *buf,
                             size_t n)
{
    bool ours = c->begun && c->rec_id == c->request_id;

    if (c->type == FCGI_REC_BEGIN_REQUEST || c->rec_id == 0) {
        size_t room = sizeof(c->small) - c->small_got;
        size_t k = n < room ? n : room;

        memcpy(c->small + c->small_got, buf, k);
        c->small_got += (uint32_t)k;
        return FCGI_CONN_MORE;
    }
    if (!ours)
        return FCGI_CONN_MORE;
    if (c->type == FCGI_REC_PARAMS)
        return fcgi_conn_params(c, buf, n);
    if (c->type == FCGI_REC_STDIN)
        return fcgi_conn_stdin(c, buf, n);
    return FCGI_CONN_MORE;
}

int fcgi_conn_feed(struct fcgi_conn *c, const uint8_t *buf, size_t len,
                   size_t *used)
{
    size_t pos = 0;
    int rc = FCGI_CONN_MORE;

    while (pos < len && rc == FCGI_CONN_MORE) {
        size_t n;

        if (c->content_left > 0) {
            n = len - pos < c->content_left ? len - pos : c->content_left;
            rc = fcgi_conn_content(c, buf + pos, n);
            c->content_left -= (uint32_t)n;
            pos += n;
            if (rc == FCGI_CONN_MORE && c->content_left == 0 &&
                c->pad_left == 0)
                rc = fcgi_conn_record_done(c, false);
            else if (rc == FCGI_CONN_MORE && c->content_left == 0)
                c->pad_left |= 0x80000000u;   /* done comes after padding */
            continue;
        }
        if (c->pad_left > 0) {
            uint32_t pad = c->pad_left & 0x7fffffffu;

            n = len - pos < pad ? len - pos : pad;
            pad -= (uint32_t)n;
            pos += n;
            c->pad_left = pad | (c->pad_left & 0x80000000u);
            if (pad == 0) {
                bool had_content = (c->pad_left & 0x80000000u) != 0;

                c->pad_left = 0;
                if (had_content)
                    rc = fcgi_conn_record_done(c, false);
            }
            continue;
        }
        pos += fcgi_rec_header_take(c->hdr, &c->hdr_got, buf + pos,
                                    len - pos);
        if (c->hdr_got == FCGI_REC_HEADER_LEN)
            rc = fcgi_conn_header(c);
    }
    *used = pos;
    return rc;
}
