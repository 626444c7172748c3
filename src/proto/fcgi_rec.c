/* fcgi_rec.c -- FastCGI record framing: headers we write, and the small
 * state machine that skips over what the web server sends once a stream
 * has started (only ABORT_REQUEST matters there). */
#include "ac_config.h"

#include "proto/fcgi_rec.h"

#include <errno.h>
#include <string.h>

#define FCGI_REC_VERSION 1
#define FCGI_REC_REQUEST_COMPLETE 0

void fcgi_rec_header(uint8_t *out, int type, unsigned request_id,
                     size_t len)
{
    out[0] = FCGI_REC_VERSION;
    out[1] = (uint8_t)type;
    out[2] = (uint8_t)(request_id >> 8);
    out[3] = (uint8_t)request_id;
    out[4] = (uint8_t)(len >> 8);
    out[5] = (uint8_t)len;
    out[6] = 0;
    out[7] = 0;
}

void fcgi_rec_end_request(uint8_t *out, unsigned request_id,
                          uint32_t app_status)
{
    fcgi_rec_header(out, FCGI_REC_END_REQUEST, request_id, 8);
    out[8] = (uint8_t)(app_status >> 24);
    out[9] = (uint8_t)(app_status >> 16);
    out[10] = (uint8_t)(app_status >> 8);
    out[11] = (uint8_t)app_status;
    out[12] = FCGI_REC_REQUEST_COMPLETE;
    memset(out + 13, 0, 3);
}

/* Acts on a complete header: ABORT ends the stream, anything else is
 * skipped with its content and padding. */
static int fcgi_rec_header_done(struct fcgi_rec_parser *p)
{
    const uint8_t *h = p->hdr;

    p->hdr_got = 0;
    if (h[0] != FCGI_REC_VERSION)
        return -EPROTO;
    p->skip = ((uint32_t)h[4] << 8 | h[5]) + h[6];
    if (h[1] == FCGI_REC_ABORT_REQUEST)
        return FCGI_REC_ABORT;
    return FCGI_REC_MORE;
}

size_t fcgi_rec_header_take(uint8_t *hdr, uint8_t *got, const uint8_t *buf,
                            size_t len)
{
    size_t n = FCGI_REC_HEADER_LEN - *got;

    if (n > len)
        n = len;
    memcpy(hdr + *got, buf, n);
    *got = (uint8_t)(*got + n);
    return n;
}

int fcgi_rec_parse(struct fcgi_rec_parser *p, const uint8_t *buf,
                   size_t len)
{
    size_t pos = 0;

    while (pos < len) {
        size_t n;
        int rc;

        if (p->skip > 0) {
            n = len - pos < p->skip ? len - pos : p->skip;
            p->skip -= (uint32_t)n;
            pos += n;
            continue;
        }
        pos += fcgi_rec_header_take(p->hdr, &p->hdr_got, buf + pos,
                                    len - pos);
        if (p->hdr_got < FCGI_REC_HEADER_LEN)
            break;
        rc = fcgi_rec_header_done(p);
        if (rc != FCGI_REC_MORE)
            return rc;
    }
    return FCGI_REC_MORE;
}
