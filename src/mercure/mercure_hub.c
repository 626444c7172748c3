/* mercure_hub.c -- telling hub requests from sseq's own API by path. */
#include "ac_config.h"

#include "mercure/mercure_hub.h"

#include <string.h>

/* Whether path[0..len) ends with MERCURE_HUB_PATH. */
static bool mercure_hub_path(const char *path, size_t len)
{
    size_t n = sizeof(MERCURE_HUB_PATH) - 1;

    return len >= n && memcmp(path + len - n, MERCURE_HUB_PATH, n) == 0;
}

bool mercure_hub_request(const char *document_uri, const char *script_name,
                         const char *request_uri)
{
    if (document_uri != NULL && document_uri[0] != '\0')
        return mercure_hub_path(document_uri, strlen(document_uri));
    if (script_name != NULL && script_name[0] != '\0')
        return mercure_hub_path(script_name, strlen(script_name));
    if (request_uri != NULL)
        return mercure_hub_path(request_uri, strcspn(request_uri, "?#"));
    return false;
}
