/* mercure_prm.c -- the protected resource metadata, its URL and the
 * challenge pointing at it (see mercure_prm.h). */
#include "ac_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/json_out.h"
#include "mercure/mercure_authz.h"
#include "mercure/mercure_prm.h"

/* Splits resource at its path: *path_at is the offset of the path
 * ("" when none), *path_len its length without a trailing '/'. -EINVAL
 * unless it is an http(s) URL with an authority and no query or
 * fragment. */
static int prm_split(const char *resource, size_t *path_at,
                     size_t *path_len)
{
    const char *sep = strstr(resource, "://");
    const char *path;
    size_t n = strlen(resource);

    if (sep == NULL || (sep - resource != 4 && sep - resource != 5) ||
        strncmp(resource, "http", 4) != 0 || sep[3] == '\0' ||
        sep[3] == '/' || strpbrk(resource, "?#") != NULL)
        return -EINVAL;
    path = strchr(sep + 3, '/');
    *path_at = path != NULL ? (size_t)(path - resource) : n;
    *path_len = n - *path_at;
    if (*path_len > 0 && resource[*path_at + *path_len - 1] == '/')
        (*path_len)--;
    return 0;
}

long mercure_prm_url(const char *resource, char *out, size_t cap)
{
    size_t at, plen;
    int k;

    if (prm_split(resource, &at, &plen) < 0)
        return -EINVAL;
    k = snprintf(out, cap, "%.*s%s%.*s", (int)at, resource,
                 MERCURE_PRM_WELL_KNOWN, (int)plen, resource + at);
    return k < 0 || (size_t)k >= cap ? -E2BIG : k;
}

long mercure_prm_path(const char *resource, char *out, size_t cap)
{
    size_t at, plen;
    int k;

    if (prm_split(resource, &at, &plen) < 0)
        return -EINVAL;
    k = snprintf(out, cap, "%s%.*s", MERCURE_PRM_WELL_KNOWN, (int)plen,
                 resource + at);
    return k < 0 || (size_t)k >= cap ? -E2BIG : k;
}

/* Appends printf output at out[*n] (cap bytes); false when it does not
 * fit. */
static bool prm_put(char *out, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool prm_put(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (*n >= cap)
        return false;
    va_start(ap, fmt);
    k = vsnprintf(out + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= cap - *n)
        return false;
    *n += (size_t)k;
    return true;
}

/* Appends s as a quoted JSON string. */
static bool prm_string(char *out, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s), e = json_escaped_len(s, len);

    if (*n + e + 3 > cap)
        return false;
    out[(*n)++] = '"';
    *n += json_escape(out + *n, s, len);
    out[(*n)++] = '"';
    out[*n] = '\0';
    return true;
}

long mercure_prm_document(const struct mercure_prm *m, char *out,
                          size_t cap)
{
    size_t n = 0;
    bool ok;

    ok = prm_put(out, cap, &n, "{\"resource\":") &&
         prm_string(out, cap, &n, m->resource) &&
         prm_put(out, cap, &n, ",\"bearer_methods_supported\":[\"header\"]"
                 ",\"authorization_details_types_supported\":[\"%s\"]",
                 MERCURE_AUTHZ_TYPE);
    if (ok && m->cookie != NULL)
        ok = prm_put(out, cap, &n, ",\"mercure_cookie\":") &&
             prm_string(out, cap, &n, m->cookie);
    if (ok)
        ok = prm_put(out, cap, &n, ",\"mercure_matcher_types_supported\":"
                     "[\"exact\"%s]", m->urlpattern ? ",\"urlpattern\"" : "");
    if (ok && m->subscriptions)
        ok = prm_put(out, cap, &n, ",\"mercure_subscriptions\":true");
    if (ok)
        ok = prm_put(out, cap, &n, "}\n");
    return ok ? (long)n : -E2BIG;
}

long mercure_prm_challenge(const char *resource, const char *error,
                           char *out, size_t cap)
{
    char url[MERCURE_PRM_URL_MAX];
    size_t n = 0;
    bool ok = prm_put(out, cap, &n, "Bearer");

    if (ok && resource != NULL && mercure_prm_url(resource, url,
                                                  sizeof(url)) > 0)
        ok = prm_put(out, cap, &n, " resource_metadata=\"%s\"", url);
    if (ok && error != NULL)
        ok = prm_put(out, cap, &n, "%s error=\"%s\"",
                     n > 6 ? "," : "", error);
    return ok ? (long)n : -E2BIG;
}
