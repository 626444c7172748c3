/* stream_prm.c -- the protected resource metadata endpoint (see
 * stream_prm.h). The document is public (it names no secret): any
 * origin may read it, caches may keep it for five minutes. */
#include "ac_config.h"

#include <stdio.h>
#include <string.h>

#include "mercure/authz_urlpattern.h"
#include "mercure/mercure_prm.h"
#include "proto/http_status.h"
#include "stream/stream_metrics.h"
#include "stream/stream_prm.h"

bool stream_prm_wanted(stream_req_get_fn get, void *ctx)
{
    const char *ep = get(STREAM_METRICS_PARAM, ctx);

    return ep != NULL && strcmp(ep, STREAM_PRM_ENDPOINT) == 0;
}

/* An error response with reason. */
static size_t stream_prm_error(char *out, size_t cap, int status,
                               const char *reason)
{
    int k = http_status_format(out, cap, status,
                               status == 405 ? "Allow: GET, HEAD\r\n" : NULL,
                               reason);

    return k < 0 ? 0 : (size_t)k;
}

size_t stream_prm_respond(const struct config *cfg, stream_req_get_fn get,
                          void *ctx, char *out, size_t cap, int *status)
{
    const char *method = get("REQUEST_METHOD", ctx);
    struct mercure_prm m = {
        .resource = cfg->mercure_resource,
        .cookie = cfg->mercure_access_cookie,
        .urlpattern = authz_urlpattern_supported(),
        .subscriptions = cfg->mercure_subscriptions,
    };
    char doc[STREAM_PRM_RESPONSE_MAX / 2];
    long n;
    int k;

    *status = 405;
    if (method != NULL && strcmp(method, "GET") != 0 &&
        strcmp(method, "HEAD") != 0)
        return stream_prm_error(out, cap, 405, "method not allowed: use "
                                "GET");
    *status = 404;
    if (cfg->mercure_resource[0] == '\0')
        return stream_prm_error(out, cap, 404, "no protected resource "
                                "metadata: Mercure 1.0 tokens are off "
                                "(mercure.resource is not set)");
    n = mercure_prm_document(&m, doc, sizeof(doc));
    *status = 503;
    if (n < 0)
        return stream_prm_error(out, cap, 503, "metadata too long");
    *status = 200;
    k = snprintf(out, cap, "Status: 200 OK\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %ld\r\n"
                 "Cache-Control: max-age=300\r\n"
                 "Access-Control-Allow-Origin: *\r\n\r\n%s", n,
                 method != NULL && strcmp(method, "HEAD") == 0 ? "" : doc);
    return k < 0 || (size_t)k >= cap ? 0 : (size_t)k;
}
