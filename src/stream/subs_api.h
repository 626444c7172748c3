/* subs_api.h -- the Mercure subscription API (active subscriptions, both
 * dialects): GET /.well-known/mercure/subscriptions[/...] answered by
 * any sseq-stream process from the files of every live one
 * (subs_file.h). The web server selects it with the FastCGI param
 * SSEQ_ENDPOINT=subscriptions (fcgi-conf/nginx/sseq.conf); the path is
 * read from REQUEST_URI, raw, so an encoded '/' stays in its segment.
 *
 * Policy:
 *   - off (mercure.subscriptions = false): 404;
 *   - the token (as a stream's: Authorization, authorization=, cookie)
 *     must be valid (else 401) and its subscribe selectors must match
 *     the requested path, query left out (else 403); none: 401;
 *   - a collection lists the subscriptions it selects whose update
 *     topic the token may subscribe to as well (a token for one room's
 *     subscriptions sees that room's only); a single one that is not
 *     there, or not visible, is 404;
 *   - the cursor: the queue's newest id before the files are read
 *     ("earliest" for an empty queue), as "lastEventID" (v0.x body) and
 *     the rel="mercure" Link's last-event-id (1.0). */
#ifndef SSEQ_SUBS_API_H
#define SSEQ_SUBS_API_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "mercure/jwt_auth.h"
#include "queue/queue.h"
#include "stream/stream_req.h"

/* Whether the request is for the API (SSEQ_ENDPOINT=subscriptions). */
bool subs_api_wanted(stream_req_get_fn get, void *ctx);

/* The whole CGI response (head and body) in a malloc'd *out (*len
 * bytes; the caller frees it), its status in *status and, for an
 * error, a one-line *reason to log. key: the subscriber key, NULL if
 * none. 0, or -ENOMEM with nothing stored. */
int subs_api_respond(const struct config *cfg, const struct jwt_auth_key *key,
                     struct queue *q, stream_req_get_fn get, void *ctx,
                     char **out, size_t *len, int *status,
                     const char **reason);

#endif
