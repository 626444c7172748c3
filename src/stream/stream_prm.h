/* stream_prm.h -- sseq-stream answers the hub's RFC 9728 Protected
 * Resource Metadata document (mercure_prm.h) when the web server selects
 * it with the FastCGI param SSEQ_ENDPOINT=oauth-protected-resource
 * (nginx: the location /.well-known/oauth-protected-resource/.well-known/
 * mercure of fcgi-conf/nginx/sseq.conf). A client cannot set a param: its
 * headers arrive as HTTP_*. */
#ifndef SSEQ_STREAM_PRM_H
#define SSEQ_STREAM_PRM_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "stream/stream_req.h"

#define STREAM_PRM_ENDPOINT "oauth-protected-resource"
#define STREAM_PRM_RESPONSE_MAX 8192    /* the whole response */

/* Whether the request names this endpoint. */
bool stream_prm_wanted(stream_req_get_fn get, void *ctx);

/* The whole CGI response into out (cap >= STREAM_PRM_RESPONSE_MAX): 200
 * application/json with the document for GET (head only for HEAD), 405
 * for another method, 404 when mercure.resource is not set (Mercure 1.0
 * tokens are off). Returns its length (0: does not fit), its status in
 * *status. */
size_t stream_prm_respond(const struct config *cfg, stream_req_get_fn get,
                          void *ctx, char *out, size_t cap, int *status);

#endif
