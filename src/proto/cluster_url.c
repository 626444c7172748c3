/* cluster_url.c -- parses and redacts the cluster.redis URL (see
 * cluster_url.h). A small scanner over scheme, credentials, address and
 * database, each with an explicit limit; nothing it reports quotes the
 * password. */
#include "ac_config.h"
#include "proto/cluster_url.h"

#include <errno.h>
#include <stdbool.h>
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

/* The '@' that ends the credentials in rest (what follows "://"), or
 * NULL: for redis:// the last '@'; for unix:// the last '@' that starts
 * the socket path ("@/"). The one rule the parser and the redaction
 * share, so a password is what is hidden, whatever bytes it holds. */
static const char *cluster_url_creds_end(const char *rest, bool unix_sock)
{
    const char *at = NULL, *p;

    for (p = rest; *p != '\0'; p++)
        if (*p == '@' && (!unix_sock || p[1] == '/'))
            at = p;
    return at;
}

/* Reads "[USER]:PASSWORD" of [s, at) into user and password. */
static int cluster_url_creds(const char *s, const char *at,
                             struct cluster_url *u, const char **why)
{
    const char *colon = memchr(s, ':', (size_t)(at - s));

    if (colon == NULL) {
        *why = "credentials must be written USER:PASSWORD@ or :PASSWORD@";
        return -EINVAL;
    }
    if (cluster_url_copy(u->user, sizeof(u->user), s,
                         (size_t)(colon - s)) < 0 ||
        cluster_url_copy(u->password, sizeof(u->password), colon + 1,
                         (size_t)(at - colon - 1)) < 0) {
        *why = "user or password too long";
        return -EINVAL;
    }
    return 0;
}

/* Parses HOST[:PORT] of [s, end) into *a; a->port is left as it is
 * when no port is written. */
static int cluster_url_hostport(const char *s, const char *end,
                                struct cluster_addr *a, const char **why)
{
    const char *hend, *port;
    unsigned long v;

    if (*s == '[') {
        hend = memchr(s, ']', (size_t)(end - s));
        if (hend == NULL || hend == s + 1 ||
            cluster_url_copy(a->host, sizeof(a->host), s + 1,
                             (size_t)(hend - s - 1)) < 0)
            goto fail_host;
        port = hend + 1 < end && hend[1] == ':' ? hend + 2 : NULL;
        if (port == NULL && hend + 1 != end)
            goto fail_host;
    } else {
        port = memchr(s, ':', (size_t)(end - s));
        hend = port ? port : end;
        if (hend == s || cluster_url_copy(a->host, sizeof(a->host), s,
                                          (size_t)(hend - s)) < 0 ||
            strspn(a->host, "abcdefghijklmnopqrstuvwxyz"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
            strlen(a->host))
            goto fail_host;
        if (port)
            port++;
    }
    if (port != NULL) {
        if (cluster_url_num(port, (size_t)(end - port), 1, 65535, &v) < 0) {
            *why = "the port must be a number from 1 to 65535";
            return -EINVAL;
        }
        a->port = (int)v;
    }
    return 0;

fail_host:
    *why = "the host must be a name, an IPv4 address or [IPv6]";
    return -EINVAL;
}

/* Reads the credentials ending at the last '@' of s, if any; returns
 * what follows them. NULL with *why on bad credentials. */
static const char *cluster_url_skip_creds(const char *s,
                                          struct cluster_url *u,
                                          const char **why)
{
    const char *at = cluster_url_creds_end(s, false);

    if (at == NULL)
        return s;
    return cluster_url_creds(s, at, u, why) < 0 ? NULL : at + 1;
}

/* Reads a "/DB" tail (s at the '/', or at the end) into u->db. */
static int cluster_url_db(const char *s, struct cluster_url *u,
                          const char **why)
{
    unsigned long v;

    if (*s == '\0' || s[1] == '\0')
        return 0;
    if (cluster_url_num(s + 1, strlen(s + 1), 0, 65535, &v) < 0) {
        *why = "the database after '/' must be a number";
        return -EINVAL;
    }
    u->db = (unsigned)v;
    return 0;
}

/* Parses HOST[:PORT][/DB] of a redis:// URL. */
static int cluster_url_tcp(const char *s, struct cluster_url *u,
                           const char **why)
{
    struct cluster_addr a = { .port = 6379 };
    const char *slash, *end;

    if ((s = cluster_url_skip_creds(s, u, why)) == NULL)
        return -EINVAL;
    slash = strchr(s, '/');
    end = slash ? slash : s + strlen(s);
    if (cluster_url_hostport(s, end, &a, why) < 0)
        return -EINVAL;
    memcpy(u->host, a.host, sizeof(u->host));
    u->port = a.port;
    return cluster_url_db(end, u, why);
}

/* Parses the NAME[/DB] after a Sentinel URL's list: 1 to
 * CLUSTER_URL_NAME_MAX of A-Z a-z 0-9 _ . - */
static int cluster_url_master(const char *s, struct cluster_url *u,
                              const char **why)
{
    size_t n = strcspn(s, "/");

    if (n == 0 || n > CLUSTER_URL_NAME_MAX ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789_.-") < n) {
        *why = "a Sentinel URL ends with /MASTERNAME (1 to 64 of A-Z a-z "
               "0-9 _ . -)[/DB][?sentinel_password=PASSWORD]";
        return -EINVAL;
    }
    memcpy(u->master, s, n);
    u->master[n] = '\0';
    return cluster_url_db(s + n, u, why);
}

/* Parses HOST[:PORT][,HOST[:PORT]...]/NAME[/DB] of a redis+sentinel://
 * URL: the sentinels (port 26379 by default), then the master's name. */
static int cluster_url_sentinels(const char *s, struct cluster_url *u,
                                 const char **why)
{
    const char *slash, *comma;

    if ((s = cluster_url_skip_creds(s, u, why)) == NULL)
        return -EINVAL;
    if ((slash = strchr(s, '/')) == NULL) {
        *why = "a Sentinel URL ends with /MASTERNAME";
        return -EINVAL;
    }
    while (s < slash) {
        struct cluster_addr *a = &u->sentinel[u->n_sentinels];

        if (u->n_sentinels == CLUSTER_URL_SENTINELS) {
            *why = "at most 8 sentinels";
            return -EINVAL;
        }
        comma = memchr(s, ',', (size_t)(slash - s));
        a->port = 26379;
        if (cluster_url_hostport(s, comma ? comma : slash, a, why) < 0)
            return -EINVAL;
        u->n_sentinels++;
        s = comma ? comma + 1 : slash;
        if (comma && s == slash)
            break;
    }
    if (u->n_sentinels == 0 || s[-1] == ',') {
        *why = "a Sentinel URL lists HOST[:PORT] sentinels separated by ','";
        return -EINVAL;
    }
    return cluster_url_master(slash + 1, u, why);
}

/* Parses [CREDS@]/PATH[?db=DB] of a unix:// URL. */
static int cluster_url_unix(const char *s, struct cluster_url *u,
                            const char **why)
{
    const char *at = cluster_url_creds_end(s, true);
    const char *path = at ? at + 1 : s, *q = strchr(path, '?');
    const char *end = q ? q : path + strlen(path);
    unsigned long v;

    if (at != NULL && cluster_url_creds(s, at, u, why) < 0)
        return -EINVAL;
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

/* The '?' of a Sentinel URL's "?sentinel_password=" query: the first one
 * before which s is a whole Sentinel URL (so the master's password may
 * hold the marker and the sentinels' may hold any byte); NULL if none. */
static const char *cluster_url_query(const char *s)
{
    static const char mark[] = CLUSTER_URL_SENTINEL_QUERY;
    char head[CLUSTER_URL_MAX];
    struct cluster_url t;
    const char *q, *why;

    for (q = strstr(s, mark); q != NULL; q = strstr(q + 1, mark)) {
        memset(&t, 0, sizeof(t));
        memcpy(head, s, (size_t)(q - s));
        head[q - s] = '\0';
        if (cluster_url_sentinels(head + 17, &t, &why) == 0)
            break;
    }
    explicit_bzero(&t, sizeof(t));
    explicit_bzero(head, sizeof(head));
    return q;
}

/* Parses a whole redis+sentinel:// URL s: the list and name, then the
 * sentinels' own password if the query gives one. */
static int cluster_url_sentinel(const char *s, struct cluster_url *u,
                                const char **why)
{
    const char *q = cluster_url_query(s), *pw;
    char head[CLUSTER_URL_MAX];
    int rc;

    if (q == NULL)
        return cluster_url_sentinels(s + 17, u, why);
    memcpy(head, s, (size_t)(q - s));
    head[q - s] = '\0';
    rc = cluster_url_sentinels(head + 17, u, why);
    explicit_bzero(head, sizeof(head));
    pw = q + strlen(CLUSTER_URL_SENTINEL_QUERY);
    if (rc == 0 && (*pw == '\0' ||
        cluster_url_copy(u->sentinel_password, sizeof(u->sentinel_password),
                         pw, strlen(pw)) < 0)) {
        *why = "sentinel_password= must be 1 to 255 bytes";
        rc = -EINVAL;
    }
    return rc;
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
    if (strncmp(s, "redis+sentinel://", 17) == 0)
        return cluster_url_sentinel(s, u, why);
    *why = "must start with redis://, unix:// or redis+sentinel://";
    return -EINVAL;
}

/* Redacts s (no "?sentinel_password=" query) into out: its credentials'
 * password, as parsed, or all between "://" and the last '@'. */
static const char *cluster_url_redact_creds(const char *s, char *out,
                                            size_t cap)
{
    const char *scheme = strstr(s, "://"), *rest, *at, *colon, *why;
    struct cluster_url u;
    bool parsed = cluster_url_parse(s, &u, &why) == 0;

    explicit_bzero(&u, sizeof(u));
    rest = scheme ? scheme + 3 : s;
    at = cluster_url_creds_end(rest, parsed &&
                               strncmp(s, "unix://", 7) == 0);
    colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
    if (at == NULL)
        snprintf(out, cap, "%s", s);
    else if (colon == NULL)         /* not a URL: all of it may be secret */
        snprintf(out, cap, "%.*s***%s", (int)(rest - s), s, at);
    else
        snprintf(out, cap, "%.*s:***%s", (int)(colon - s), s, at);
    return out;
}

const char *cluster_url_redact(const char *s, char *out, size_t cap)
{
    char head[CLUSTER_URL_MAX];
    const char *q = NULL;
    size_t n;

    if (cap == 0)
        return out;
    if (strncmp(s, "redis+sentinel://", 17) == 0 &&
        strlen(s) < CLUSTER_URL_MAX)
        q = cluster_url_query(s);
    if (q == NULL && strstr(s, CLUSTER_URL_SENTINEL_QUERY) != NULL) {
        snprintf(out, cap, "%.*s***", (int)(strstr(s, "://") + 3 - s), s);
        return out;             /* no whole URL before it: all secret */
    }
    if (q == NULL)
        return cluster_url_redact_creds(s, out, cap);
    memcpy(head, s, (size_t)(q - s));
    head[q - s] = '\0';
    cluster_url_redact_creds(head, out, cap);
    explicit_bzero(head, sizeof(head));
    n = strlen(out);
    snprintf(out + n, cap - n, "%s***", CLUSTER_URL_SENTINEL_QUERY);
    return out;
}
