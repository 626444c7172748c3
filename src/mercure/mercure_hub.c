/* mercure_hub.c -- telling hub requests from sseq's own API by path;
 * the hub's URL. */
#include "ac_config.h"

#include "mercure/mercure_hub.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* ":SERVER_PORT" into buf when host names no port (nginx's stock
 * fastcgi_params pass HTTP_HOST as $host, without it) and the port is
 * not scheme's default; else "". */
static const char *mercure_hub_port(mercure_hub_get_fn get, void *ctx,
                                    const char *scheme, const char *host,
                                    char *buf, size_t cap)
{
    const char *port = get("SERVER_PORT", ctx);
    const char *colon = host != NULL ? strrchr(host, ':') : NULL;
    const char *def = strcmp(scheme, "https") == 0 ? "443" : "80";

    if (host == NULL || (colon != NULL && strchr(colon, ']') == NULL) ||
        port == NULL || port[0] == '\0' || strcmp(port, def) == 0 ||
        strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
        return "";
    snprintf(buf, cap, ":%s", port);
    return buf;
}

/* The length of the hub's path in path: up to the end of its first
 * MERCURE_HUB_PATH segment (followed by the end or '/'); 0 when none. */
static size_t mercure_hub_path_len(const char *path)
{
    size_t n = sizeof(MERCURE_HUB_PATH) - 1;
    const char *at = path;

    while ((at = strstr(at, MERCURE_HUB_PATH)) != NULL) {
        if (at[n] == '\0' || at[n] == '/')
            return (size_t)(at - path) + n;
        at++;
    }
    return 0;
}

bool mercure_hub_under(const char *document_uri)
{
    size_t n;

    if (document_uri == NULL || document_uri[0] != '/')
        return false;
    n = mercure_hub_path_len(document_uri);
    return n > 0 && document_uri[n] == '/';
}

size_t mercure_hub_url(const char *setting, mercure_hub_get_fn get,
                       void *ctx, char *out, size_t cap)
{
    const char *scheme = get("REQUEST_SCHEME", ctx);
    const char *https = get("HTTPS", ctx);
    const char *host = get("HTTP_HOST", ctx);
    const char *path = get("DOCUMENT_URI", ctx);
    size_t plen = path != NULL && path[0] == '/' ? mercure_hub_path_len(path)
                                                 : 0;
    char port[16];
    int n;

    if (setting != NULL && setting[0] != '\0')
        n = snprintf(out, cap, "%s", setting);
    else {
        if (scheme == NULL || scheme[0] == '\0')
            scheme = https != NULL && strcasecmp(https, "on") == 0 ? "https"
                                                                 : "http";
        if (host == NULL || host[0] == '\0')
            host = get("SERVER_NAME", ctx);
        if (host == NULL || host[0] == '\0')
            host = "localhost";         /* no authority: still a URL */
        if (plen == 0) {
            path = MERCURE_HUB_PATH;
            plen = strlen(path);
        }
        n = snprintf(out, cap, "%s://%s%s%.*s", scheme, host,
                     mercure_hub_port(get, ctx, scheme, host, port,
                                      sizeof(port)), (int)plen, path);
    }
    if (n <= 0 || (size_t)n >= cap)
        return 0;
    for (int i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            return 0;           /* a control from Host or the path */
    return (size_t)n;
}
