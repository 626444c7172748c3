/* loadgen_util.c -- the load generator's clock, URL parsing and "{ch}"
 * templates. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     /* memmem, strcasestr, asprintf */
#endif
#include "loadgen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

uint64_t lg_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Copies s[0..n) into dst[cap] with a NUL; -ENAMETOOLONG if it does not
 * fit. */
static int lg_copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return -ENAMETOOLONG;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

int lg_url_parse(const char *text, struct lg_url *u)
{
    const char *p, *hs, *he, *colon;

    if (strncmp(text, "http://", 7) != 0)
        return -EINVAL;
    hs = text + 7;
    he = hs + strcspn(hs, "/?");
    if (he == hs)
        return -EINVAL;
    colon = memchr(hs, ':', (size_t)(he - hs));
    if (lg_copy(u->host, sizeof(u->host), hs,
                (size_t)((colon ? colon : he) - hs)) < 0)
        return -EINVAL;
    if (colon) {
        if (he - colon - 1 < 1 || lg_copy(u->port, sizeof(u->port),
                                          colon + 1,
                                          (size_t)(he - colon - 1)) < 0)
            return -EINVAL;
    } else {
        strcpy(u->port, "80");
    }
    p = *he ? he : "/";
    if (*p == '?') {
        u->path[0] = '/';
        return lg_copy(u->path + 1, sizeof(u->path) - 1, p, strlen(p)) < 0 ?
            -EINVAL : 0;
    }
    return lg_copy(u->path, sizeof(u->path), p, strlen(p)) < 0 ? -EINVAL : 0;
}

int lg_subst(char *dst, size_t cap, const char *tmpl, const char *ch)
{
    size_t o = 0, chl = strlen(ch);

    while (*tmpl) {
        if (strncmp(tmpl, "{ch}", 4) == 0) {
            if (o + chl >= cap)
                return -ENAMETOOLONG;
            memcpy(dst + o, ch, chl);
            o += chl;
            tmpl += 4;
            continue;
        }
        if (o + 1 >= cap)
            return -ENAMETOOLONG;
        dst[o++] = *tmpl++;
    }
    if (o >= cap)
        return -ENAMETOOLONG;
    dst[o] = '\0';
    return 0;
}

int lg_url_addr(const struct lg_url *u, void *sa, unsigned *salen)
{
    struct addrinfo hints, *res;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "loadgen: getaddrinfo(%s, %s): %s\n", u->host,
                u->port, gai_strerror(rc));
        return -EHOSTUNREACH;
    }
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *salen = (unsigned)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

void lg_channel_name(char *dst, size_t cap, const char *prefix,
                     uint32_t channels, uint32_t i)
{
    if (channels <= 1)
        snprintf(dst, cap, "%s", prefix);
    else
        snprintf(dst, cap, "%s-%u", prefix, i);
}
