/* fcgi_rec.h -- FastCGI record framing: the record header and
 * END_REQUEST both programs write (fcgi_server.c, the pump), and the
 * resumable parser the pump reads a stream's connection with once the
 * request is whole (only FCGI_ABORT_REQUEST matters then). Requests
 * themselves are assembled by fcgi_conn.c.
 *
 * Wire format (FastCGI 1.0): an 8-byte header {version=1, type,
 * requestId (big endian 16), contentLength (big endian 16), paddingLength,
 * reserved} then content and padding. sseq never pads. */
#ifndef SSEQ_FCGI_REC_H
#define SSEQ_FCGI_REC_H

#include <stddef.h>
#include <stdint.h>

#define FCGI_REC_HEADER_LEN   8
#define FCGI_REC_END_LEN      16        /* END_REQUEST header + body */
#define FCGI_REC_CONTENT_MAX  65535     /* content bytes in one record */

enum fcgi_rec_type {
    FCGI_REC_BEGIN_REQUEST = 1,
    FCGI_REC_ABORT_REQUEST = 2,
    FCGI_REC_END_REQUEST   = 3,
    FCGI_REC_PARAMS        = 4,
    FCGI_REC_STDIN         = 5,
    FCGI_REC_STDOUT        = 6,
    FCGI_REC_STDERR        = 7,
};

/* Adds to a record header being read (hdr, *got bytes of it so far) as
 * many of buf[0..len) as it lacks; returns how many it took. The header
 * is whole when *got reaches FCGI_REC_HEADER_LEN. */
size_t fcgi_rec_header_take(uint8_t *hdr, uint8_t *got, const uint8_t *buf,
                            size_t len);

/* Parser outcomes of fcgi_rec_parse (besides -errno). */
enum {
    FCGI_REC_MORE  = 0,         /* everything consumed, nothing to act on */
    FCGI_REC_ABORT = 1,         /* FCGI_ABORT_REQUEST seen: end the stream */
};

/* Resumable input parser state; zero it to start at a record boundary. */
struct fcgi_rec_parser {
    uint8_t hdr[FCGI_REC_HEADER_LEN];   /* header bytes gathered so far */
    uint8_t hdr_got;                    /* 0..8 */
    uint32_t skip;                      /* content+padding bytes left */
};

/* Writes a record header for type/request id with len content bytes
 * (len <= FCGI_REC_CONTENT_MAX) and no padding into out[8]. */
void fcgi_rec_header(uint8_t *out, int type, unsigned request_id,
                     size_t len);

/* Writes a complete END_REQUEST record (app status, protocol status
 * FCGI_REQUEST_COMPLETE) into out[16]. */
void fcgi_rec_end_request(uint8_t *out, unsigned request_id,
                          uint32_t app_status);

/* Feeds len bytes read from the web server. Returns FCGI_REC_ABORT as soon
 * as an ABORT_REQUEST header is complete (the rest of buf is not looked
 * at), FCGI_REC_MORE when all was consumed, -EPROTO for a header whose
 * version is not 1. */
int fcgi_rec_parse(struct fcgi_rec_parser *p, const uint8_t *buf,
                   size_t len);

#endif
