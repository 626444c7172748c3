/* mercure_hub.h -- the one rule for which requests are for the Mercure
 * hub (/.well-known/mercure) rather than sseq's own /events and /publish:
 * both programs serve both APIs, told apart by the request's path. */
#ifndef SSEQ_MERCURE_HUB_H
#define SSEQ_MERCURE_HUB_H

#include <stdbool.h>
#include <stddef.h>

#define MERCURE_HUB_PATH "/.well-known/mercure"
#define MERCURE_HUB_URL_MAX 1024        /* bytes of the hub's URL */

/* A request's FastCGI parameter by name (NULL: absent). */
typedef const char *(*mercure_hub_get_fn)(const char *name, void *ctx);

/* Whether the request is for the hub: its DOCUMENT_URI (nginx, lighttpd),
 * else SCRIPT_NAME (Apache), else the path of REQUEST_URI, ends with
 * MERCURE_HUB_PATH. NULL arguments are skipped. */
bool mercure_hub_request(const char *document_uri, const char *script_name,
                         const char *request_uri);

/* Whether document_uri is a path under the hub's (its MERCURE_HUB_PATH
 * segment followed by '/': the subscription API). NULL: false. */
bool mercure_hub_under(const char *document_uri);

/* The hub's URL, the base of relative URL patterns and topics (both
 * programs, every endpoint), into out[0..cap): setting (mercure.hub_url)
 * when not NULL or "", else the request's: REQUEST_SCHEME (else "https"
 * when HTTPS is "on", else "http"), "://", HTTP_HOST (else SERVER_NAME,
 * else "localhost"),
 * ":" SERVER_PORT when the host names no port and it is not the scheme's
 * default, and the path of DOCUMENT_URI up to the end of its first
 * MERCURE_HUB_PATH segment (so the subscription API under the hub gets
 * the hub's URL; MERCURE_HUB_PATH when it has none). Its length, 0 when
 * it does not fit or holds a control character (C0, DEL: a request's
 * Host or path can carry one; a selector name must not). */
size_t mercure_hub_url(const char *setting, mercure_hub_get_fn get,
                       void *ctx, char *out, size_t cap);

#endif
