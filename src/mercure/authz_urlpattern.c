/* authz_urlpattern.c -- the URL Pattern engine seen from authorization
 * details (see authz_urlpattern.h): urlpattern.h's compile, cost and
 * match, behind a handle whose matching keeps the engine's scratch. */
#include "ac_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "mercure/authz_urlpattern.h"
#include "mercure/urlpattern.h"

struct authz_urlpattern {
    struct urlpattern *up;      /* the engine's; its scratch is written */
};

bool authz_urlpattern_supported(void)
{
    return true;
}

int authz_urlpattern_compile(const char *pattern, size_t len,
                             const char *base, size_t blen,
                             unsigned long cost_max,
                             struct authz_urlpattern **out, char *why,
                             size_t cap)
{
    struct authz_urlpattern *p;
    unsigned long cost;
    int rc;

    *out = NULL;
    p = malloc(sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    rc = urlpattern_compile(pattern, len, base, blen, &p->up, why, cap);
    if (rc < 0) {
        free(p);
        return rc == -E2BIG ? -EINVAL : rc;
    }
    cost = urlpattern_cost(p->up);
    if (cost > cost_max) {
        snprintf(why, cap, "its largest component compiles to %lu states, "
                 "at most %lu a pattern (mercure.selector_cost_max)", cost,
                 cost_max);
        authz_urlpattern_free(p);
        return -E2BIG;
    }
    *out = p;
    return 0;
}

bool authz_urlpattern_match(const struct authz_urlpattern *p,
                            const char *topic, size_t len)
{
    return urlpattern_match(p->up, topic, len);
}

void authz_urlpattern_free(struct authz_urlpattern *p)
{
    if (p == NULL)
        return;
    urlpattern_free(p->up);
    free(p);
}
