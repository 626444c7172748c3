/* http_cors.c -- the CORS decision and its header lines (see
 * http_cors.h for the rule). */
#include <stdio.h>
#include <string.h>

#include "runtime/http_cors.h"

void http_cors_decide(const struct config *cfg, const char *origin,
                      struct http_cors *out)
{
    out->origin = NULL;
    out->credentials = false;
    if (origin == NULL || origin[0] == '\0')
        return;
    for (size_t i = 0; i < cfg->n_mercure_cred_origins; i++) {
        if (strcmp(cfg->mercure_cred_origins[i], origin) == 0) {
            out->origin = origin;
            out->credentials = true;
            return;
        }
    }
    out->origin = config_cors_allow(cfg, origin);
}

size_t http_cors_format(char *buf, size_t cap, const struct http_cors *c)
{
    int n;

    if (cap == 0)
        return 0;
    buf[0] = '\0';
    if (c == NULL || c->origin == NULL)
        return 0;
    n = snprintf(buf, cap, "Access-Control-Allow-Origin: %s\r\n%s"
                 "Vary: Origin\r\n", c->origin, c->credentials ?
                 "Access-Control-Allow-Credentials: true\r\n" : "");
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}
