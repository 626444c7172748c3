/* mercure_hub.h -- the one rule for which requests are for the Mercure
 * hub (/.well-known/mercure) rather than sseq's own /events and /publish:
 * both programs serve both APIs, told apart by the request's path. */
#ifndef SSEQ_MERCURE_HUB_H
#define SSEQ_MERCURE_HUB_H

#include <stdbool.h>

#define MERCURE_HUB_PATH "/.well-known/mercure"

/* Whether the request is for the hub: its DOCUMENT_URI (nginx, lighttpd),
 * else SCRIPT_NAME (Apache), else the path of REQUEST_URI, ends with
 * MERCURE_HUB_PATH. NULL arguments are skipped. */
bool mercure_hub_request(const char *document_uri, const char *script_name,
                         const char *request_uri);

#endif
