/* http_cors.h -- the CORS answer of every sseq response (sseq-stream's
 * heads and errors, sseq-publish's answers and preflights), decided and
 * written once.
 *
 * The rule: a request without Origin gets no CORS header (it is not a
 * cross-origin request). An Origin listed in
 * mercure.cors_credentials_origins gets itself and
 * "Access-Control-Allow-Credentials: true"; else config_cors_allow's
 * answer ("*", the origin, or none). Whenever Access-Control-Allow-Origin
 * is sent, so is "Vary: Origin": the answer depends on the request's
 * Origin, and a cache must not hand it to another origin. */
#ifndef SSEQ_HTTP_CORS_H
#define SSEQ_HTTP_CORS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"

struct http_cors {
    const char *origin;         /* Access-Control-Allow-Origin, or NULL */
    bool credentials;           /* + Access-Control-Allow-Credentials */
};

/* The answer for the request's Origin header (NULL or "" if absent);
 * out->origin points into cfg or at origin. */
void http_cors_decide(const struct config *cfg, const char *origin,
                      struct http_cors *out);

/* Writes the header lines ("Name: value\r\n" each) of c into buf (cap
 * bytes, NUL-terminated). Returns their length: 0 when c allows no
 * origin, or when they do not fit (then buf holds ""). */
size_t http_cors_format(char *buf, size_t cap, const struct http_cors *c);

#endif
