/* cluster_url.c -- parses and redacts the cluster.redis URL (see
 * cluster_url.h). A small scanner over scheme, credentials, address and
 * database, each with an explicit limit; nothing it reports quotes the
 * password. */
#include "ac_config.h"
#include "proto/cluster_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies [s, s+n) into dst (cap bytes); -EINVAL if it does not fit. */
static int cluster_url_copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return -EINVAL;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* Reads a decimal number of [s, s+n) within [lo, hi] into *v. */
static int cluster_url_num(const char *s, size_t n, unsigned long lo,
                           unsigned long hi, unsigned long *v)
{
    char buf[16], *end;

    if (n == 0 || n >= sizeof(buf) || strspn(s, "0123456789") < n)
        return -EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *v = strtoul(buf, &end, 10);
    return *v >= lo && *v <= hi ? 0 : -EINVAL;
}

/* Splits "[USER]:PASSWORD@" off the front of *s (up to the last '@'
 * before end); fills user and password. */
static int cluster_url_creds(const char **s, const char *end,
                             struct cluster_url *u, const char **why)
{
    const char *at = NULL, *colon, *p;

    for (p = *s; p < end; p++)
        if (*p == '@')
            at = p;
    if (at == NULL)
        return 0;
    colon = memchr(*s, ':', (size_t)(at - *s));
    if (colon == NULL) {
        *why = "credentials must be written USER:PASSWORD@ or :PASSWORD@";
        return -EINVAL;
    }
    if (cluster_url_copy(u->user, sizeof(u->user), *s,
                         (size_t)(colon - *s)) < 0 ||
        cluster_url_copy(u->password, sizeof(u->password), colon + 1,
                         (size_t)(at - colon - 1)) < 0) {
        *why = "user or password too long";
        return -EINVAL;
    }
    *s = at + 1;
    return 0;
}

/* Parses HOST[:PORT][/DB] of a redis:// URL. */
static int cluster_url_tcp(const char *s, struct cluster_url *u,
                           const char **why)
{
    const char *end, *slash, *hend, *port;
    unsigned long v;

    if (cluster_url_creds(&s, s + strlen(s), u, why) < 0)
        return -EINVAL;
    slash = strchr(s, '/');
    end = slash ? slash : s + strlen(s);
    if (*s == '[') {
        hend = memchr(s, ']', (size_t)(end - s));
        if (hend == NULL || hend == s + 1) {
            *why = "an IPv6 host must be written [ADDRESS]";
            return -EINVAL;
        }
        if (cluster_url_copy(u->host, sizeof(u->host), s + 1,
                             (size_t)(hend - s - 1)) < 0)
            goto fail_host;
        port = hend + 1 < end && hend[1] == ':' ? hend + 2 : NULL;
        if (port == NULL && hend + 1 != end)
            goto fail_host;
    } else {
        port = memchr(s, ':', (size_t)(end - s));
        hend = port ? port : end;
        if (hend == s || cluster_url_copy(u->host, sizeof(u->host), s,
                                          (size_t)(hend - s)) < 0 ||
            strspn(u->host, "abcdefghijklmnopqrstuvwxyz"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
            strlen(u->host))
            goto fail_host;
        if (port)
            port++;
    }
    if (port != NULL) {
        if (cluster_url_num(port, (size_t)(end - port), 1, 65535, &v) < 0) {
            *why = "the port must be a number from 1 to 65535";
            return -EINVAL;
        }
        u->port = (int)v;
    }
    if (slash != NULL && slash[1] != '\0') {
        if (cluster_url_num(slash + 1, strlen(slash + 1), 0, 65535,
                            &v) < 0) {
            *why = "the database after '/' must be a number";
            return -EINVAL;
        }
        u->db = (unsigned)v;
    }
    return 0;

fail_host:
    *why = "the host must be a name, an IPv4 address or [IPv6]";
    return -EINVAL;
}

/* Parses [CREDS@]/PATH[?db=DB] of a unix:// URL. */
static int cluster_url_unix(const char *s, struct cluster_url *u,
                            const char **why)
{
    const char *q = strchr(s, '?'), *end = q ? q : s + strlen(s);
    const char *path = s;
    unsigned long v;

    for (const char *p = s; p < end; p++)
        if (*p == '@' && p[1] == '/')
            path = p + 1;
    if (path != s) {
        if (cluster_url_creds(&s, path, u, why) < 0)
            return -EINVAL;
    }
    if (*path != '/' || end - path < 2 ||
        cluster_url_copy(u->path, sizeof(u->path), path,
                         (size_t)(end - path)) < 0) {
        *why = "a unix socket URL must be unix:///absolute/path (at most "
               "107 bytes)";
        return -EINVAL;
    }
    if (q != NULL) {
        if (strncmp(q, "?db=", 4) != 0 ||
            cluster_url_num(q + 4, strlen(q + 4), 0, 65535, &v) < 0) {
            *why = "the only query a unix socket URL takes is ?db=NUMBER";
            return -EINVAL;
        }
        u->db = (unsigned)v;
    }
    return 0;
}

int cluster_url_parse(const char *s, struct cluster_url *u, const char **why)
{
    memset(u, 0, sizeof(*u));
    u->port = 6379;
    *why = "";
    if (s == NULL || strlen(s) >= CLUSTER_URL_MAX) {
        *why = "must be at most 1023 bytes";
        return -EINVAL;
    }
    if (strncmp(s, "redis://", 8) == 0)
        return cluster_url_tcp(s + 8, u, why);
    if (strncmp(s, "unix://", 7) == 0)
        return cluster_url_unix(s + 7, u, why);
    *why = "must start with redis:// or unix://";
    return -EINVAL;
}

const char *cluster_url_redact(const char *s, char *out, size_t cap)
{
    const char *scheme = strstr(s, "://"), *at, *colon, *stop;

    if (cap == 0)
        return out;
    at = scheme ? strchr(scheme + 3, '@') : NULL;
    stop = scheme ? strpbrk(scheme + 3, "?") : NULL;
    if (at != NULL && stop != NULL && stop < at)
        at = NULL;
    while (at != NULL && strchr(at + 1, '@') != NULL &&
           (stop == NULL || strchr(at + 1, '@') < stop))
        at = strchr(at + 1, '@');
    colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (colon == NULL)
        snprintf(out, cap, "%s", s);
    else
        snprintf(out, cap, "%.*s:***%s", (int)(colon - s), s, at);
    return out;
}
