/* fcgi_conn.h -- the input side of one FastCGI connection: a resumable
 * state machine that assembles a request (BEGIN_REQUEST, PARAMS, STDIN)
 * from whatever bytes the web server has sent so far, within limits, and
 * answers management records (GET_VALUES, unknown types).
 *
 * It never blocks and never reads: the caller (fcgi_server.c) reads the
 * socket and feeds the bytes; each call stops at the first event, so a
 * caller that loops over fcgi_conn_feed sees every event in order. One
 * request at a time (FCGI_MPXS_CONNS = 0): a BEGIN_REQUEST for another id
 * while one is open is answered with END_REQUEST(CANT_MPX_CONN). */
#ifndef SSEQ_FCGI_CONN_H
#define SSEQ_FCGI_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/fcgi_rec.h"

/* Events of fcgi_conn_feed (besides -errno). */
enum fcgi_conn_event {
    FCGI_CONN_MORE = 0,         /* all given bytes consumed; wait for more */
    FCGI_CONN_PARAMS,           /* params complete: set body_keep now */
    FCGI_CONN_REQUEST,          /* STDIN complete: the request is ready */
    FCGI_CONN_ABORT,            /* the web server aborted the request */
    FCGI_CONN_REPLY,            /* reply[0..reply_len) must be written */
};

/* One name-value pair of the request, NUL-terminated, in c->dec. */
struct fcgi_param {
    const char *name;
    const char *value;
};

/* Limits of one connection's request. */
struct fcgi_conn_limits {
    size_t params_max;          /* bytes of PARAMS content */
    size_t body_drain_max;      /* body bytes read at most (kept or not) */
};

struct fcgi_conn {
    /* record being read */
    uint8_t hdr[FCGI_REC_HEADER_LEN];
    uint8_t hdr_got;
    uint8_t type;               /* of the record whose content is read */
    unsigned rec_id;
    uint32_t content_left, pad_left;
    uint8_t small[16];          /* BEGIN_REQUEST / GET_VALUES content */
    uint32_t small_got;
    /* the request */
    struct fcgi_conn_limits lim;
    bool begun, params_done, stdin_done, keep_conn;
    unsigned request_id;
    char *raw;                  /* PARAMS content as received */
    size_t raw_len, raw_cap;
    char *dec;                  /* the pairs decoded, NUL-terminated */
    struct fcgi_param *params;
    size_t n_params;
    char *body;                 /* the first body_keep bytes of STDIN */
    size_t body_len, body_cap;
    size_t body_keep;           /* set by the caller at FCGI_CONN_PARAMS */
    size_t body_seen;           /* every STDIN byte, kept or not */
    /* a management answer to write */
    uint8_t reply[96];
    size_t reply_len;
};

/* Starts c with limits lim (everything zeroed, nothing allocated). */
void fcgi_conn_init(struct fcgi_conn *c, const struct fcgi_conn_limits *lim);

/* Frees what c allocated; c can be init'ed again. */
void fcgi_conn_free(struct fcgi_conn *c);

/* Forgets the finished request so the next BEGIN_REQUEST can start one
 * (FCGI_KEEP_CONN); keeps the record state and the buffers. */
void fcgi_conn_next(struct fcgi_conn *c);

/* Feeds len bytes from the web server. Stops at the first event and sets
 * *used to the bytes consumed (feed the rest again after acting on it).
 * -EPROTO: a record of another version or out of order; -EMSGSIZE: params
 * over params_max; -E2BIG: body over body_drain_max; -ENOMEM. */
int fcgi_conn_feed(struct fcgi_conn *c, const uint8_t *buf, size_t len,
                   size_t *used);

/* The value of param name of the current request, or NULL. */
const char *fcgi_conn_param(const struct fcgi_conn *c, const char *name);

/* Whether bytes of a request have arrived (a request is begun and not yet
 * complete, or a record is half read). */
bool fcgi_conn_in_request(const struct fcgi_conn *c);

#endif
