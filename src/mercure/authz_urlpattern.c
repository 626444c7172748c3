/* authz_urlpattern.c -- the URL Pattern engine seen from authorization
 * details: not built yet, so every urlpattern grant is refused with a
 * reason (see authz_urlpattern.h for what replaces this). */
#include "ac_config.h"

#include <errno.h>

#include "mercure/authz_urlpattern.h"

bool authz_urlpattern_supported(void)
{
    return false;
}

int authz_urlpattern_compile(const char *pattern, size_t len,
                             struct authz_urlpattern **out,
                             const char **why)
{
    (void)pattern;
    (void)len;
    *out = NULL;
    *why = "match_type \"urlpattern\" is not supported by this hub yet "
           "(use exact matchers or \"*\")";
    return -ENOTSUP;
}

bool authz_urlpattern_match(const struct authz_urlpattern *p,
                            const char *topic, size_t len)
{
    (void)p;
    (void)topic;
    (void)len;
    return false;
}

void authz_urlpattern_free(struct authz_urlpattern *p)
{
    (void)p;
}
