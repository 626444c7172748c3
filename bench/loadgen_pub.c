/* loadgen_pub.c -- the load generator's publisher: one keep-alive HTTP/1.1
 * connection, one POST in flight at a time, each body "<seq> <mono_us>"
 * (plus padding), at a fixed rate on an absolute schedule or back to back.
 *
 * Key invariant: a request is never sent twice, except one refused with
 * 503 + Retry-After (sseq's backpressure, which writes nothing): that one
 * goes again after the wait it names. A POST whose answer does not come
 * counts as an error and its message as not published, so the
 * subscribers' expected counts stay exact. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     /* memmem, strcasestr, asprintf */
#endif
#include "loadgen.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PUB_BUF 16384

/* An open connection and what is buffered from it. */
struct pub_conn {
    int fd;
    size_t have;
    unsigned retry_after;       /* the last answer's Retry-After, 0 none */
    char buf[PUB_BUF];
};

/* Connects to u (blocking, TCP_NODELAY); the fd or -errno. */
static int pub_connect(const struct lg_url *u)
{
    struct sockaddr_storage sa;
    unsigned salen;
    int fd, one = 1, rc;

    rc = lg_url_addr(u, &sa, &salen);
    if (rc < 0)
        return rc;
    fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* Writes all of buf; 0 or -errno. */
static int pub_write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads more into c->buf; -EPIPE at EOF, -E2BIG when full. */
static int pub_fill(struct pub_conn *c)
{
    ssize_t n;

    if (c->have >= sizeof(c->buf))
        return -E2BIG;
    do
        n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -EPIPE;
    c->have += (size_t)n;
    return 0;
}

/* Drops the first n buffered bytes. */
static void pub_consume(struct pub_conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->have - n);
    c->have -= n;
}

/* Value of header name in head (NUL-terminated), or NULL. */
static const char *pub_header(const char *head, const char *name)
{
    size_t nl = strlen(name);
    const char *l;

    for (l = strchr(head, '\n'); l; l = strchr(l, '\n')) {
        l++;
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':')
            return l + nl + 1;
    }
    return NULL;
}

/* Skips a chunked body; 0 or -errno. */
static int pub_skip_chunked(struct pub_conn *c)
{
    for (;;) {
        char *eol;
        unsigned long size;
        int rc;

        while (!(eol = memchr(c->buf, '\n', c->have)))
            if ((rc = pub_fill(c)) < 0)
                return rc;
        size = strtoul(c->buf, NULL, 16);
        pub_consume(c, (size_t)(eol - c->buf) + 1);
        if (size == 0)
            break;
        size += 2;                      /* the CRLF after the data */
        while (size) {
            size_t take = c->have < size ? c->have : size;

            pub_consume(c, take);
            size -= take;
            if (size && (rc = pub_fill(c)) < 0)
                return rc;
        }
    }
    for (;;) {                          /* trailers, then a blank line */
        char *eol;
        int rc;

        while (!(eol = memchr(c->buf, '\n', c->have)))
            if ((rc = pub_fill(c)) < 0)
                return rc;
        if (eol == c->buf || (eol == c->buf + 1 && c->buf[0] == '\r')) {
            pub_consume(c, (size_t)(eol - c->buf) + 1);
            return 0;
        }
        pub_consume(c, (size_t)(eol - c->buf) + 1);
    }
}

/* Reads one response; returns its status, or -errno. *close is set when
 * the server will close the connection after it. */
static int pub_response(struct pub_conn *c, bool *close_after)
{
    char head[PUB_BUF + 1];
    const char *v;
    char *end;
    size_t hl;
    long status, clen = -1;
    int rc;

    while (!(end = memmem(c->buf, c->have, "\r\n\r\n", 4)))
        if ((rc = pub_fill(c)) < 0)
            return rc;
    hl = (size_t)(end - c->buf) + 4;
    memcpy(head, c->buf, hl);
    head[hl] = '\0';
    pub_consume(c, hl);
    if (strncmp(head, "HTTP/1.", 7) != 0)
        return -EPROTO;
    status = strtol(head + 9, NULL, 10);
    v = pub_header(head, "Retry-After");
    c->retry_after = v ? (unsigned)strtoul(v, NULL, 10) : 0;
    v = pub_header(head, "Connection");
    *close_after = v && strncasecmp(v + strspn(v, " "), "close", 5) == 0;
    if ((v = pub_header(head, "Transfer-Encoding")) &&
        strncasecmp(v + strspn(v, " "), "chunked", 7) == 0) {
        rc = pub_skip_chunked(c);
        return rc < 0 ? rc : (int)status;
    }
    if ((v = pub_header(head, "Content-Length")))
        clen = strtol(v, NULL, 10);
    if (clen < 0) {
        *close_after = true;            /* body until EOF */
        while ((rc = pub_fill(c)) == 0)
            c->have = 0;
        return (int)status;
    }
    while ((size_t)clen > c->have)
        if ((rc = pub_fill(c)) < 0)
            return rc;
    pub_consume(c, (size_t)clen);
    return (int)status;
}

/* Sleeps until the monotonic time t_us. */
static void pub_sleep_until(uint64_t t_us)
{
    struct timespec ts = { (time_t)(t_us / 1000000u),
                           (long)(t_us % 1000000u) * 1000 };

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
           EINTR)
        ;
}

/* Builds the request for message seq into req; returns its length. */
static size_t pub_request(const struct lg_pub *p, uint32_t seq, char *req,
                          size_t cap, char *body, size_t bcap)
{
    char ch[128], path[2048];
    struct lg_url u;
    size_t bl, hl;

    lg_channel_name(ch, sizeof(ch), p->ch_prefix, p->channels,
                    seq % p->channels);
    lg_subst(path, sizeof(path), p->url.path, ch);
    u = p->url;
    bl = (size_t)snprintf(body, bcap, "%u %llu", seq,
                          (unsigned long long)lg_mono_us());
    if (p->pad && bl + 1 + p->pad < bcap) {
        body[bl++] = ' ';
        memset(body + bl, 'x', p->pad);
        bl += p->pad;
    }
    hl = (size_t)snprintf(req, cap, "POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
                          "Content-Type: text/plain\r\n"
                          "Content-Length: %zu\r\n%s%s%s\r\n",
                          path, u.host, u.port, bl,
                          p->token ? "Authorization: Bearer " : "",
                          p->token ? p->token : "", p->token ? "\r\n" : "");
    if (hl + bl >= cap)
        return 0;
    memcpy(req + hl, body, bl);
    return hl + bl;
}

/* Sends message seq on c (connecting first if needed); its status or
 * -errno. */
static int pub_one(struct lg_pub *p, struct pub_conn *c, uint32_t seq)
{
    static char req[PUB_BUF + 70000], body[66000];
    uint64_t t0;
    size_t len;
    bool close_after = false;
    int rc;

    if (c->fd < 0) {
        c->fd = pub_connect(&p->url);
        if (c->fd < 0)
            return c->fd;
        c->have = 0;
        p->reconnects++;
    }
    len = pub_request(p, seq, req, sizeof(req), body, sizeof(body));
    if (len == 0)
        return -E2BIG;
    t0 = lg_mono_us();
    p->sent++;
    rc = pub_write_all(c->fd, req, len);
    if (rc == 0)
        rc = pub_response(c, &close_after);
    if (rc < 0 || close_after) {
        close(c->fd);
        c->fd = -1;
    }
    t0 = lg_mono_us() - t0;
    p->post_us_sum += t0;
    if (t0 > p->post_us_max)
        p->post_us_max = t0;
    return rc;
}

/* Backpressure: a 503 with Retry-After wrote nothing; waits as told
 * (not past the deadline) before the same message goes again. */
static void pub_backoff(struct lg_pub *p, unsigned retry_after_s)
{
    uint64_t now = lg_mono_us();
    uint64_t until = now + (uint64_t)retry_after_s * 1000000u;

    p->refused++;
    if (until > p->deadline_us)
        until = p->deadline_us > now ? p->deadline_us : now;
    p->refused_wait_us += until - now;
    pub_sleep_until(until);
}

int lg_pub_run(struct lg_pub *p)
{
    struct pub_conn *c = malloc(sizeof(*c));
    uint32_t i;
    int rc;

    if (!c)
        return -ENOMEM;
    c->fd = -1;
    p->start_us = lg_mono_us();
    for (i = 0; i < p->messages; i++) {
        if (p->rate > 0)
            pub_sleep_until(p->start_us + (uint64_t)((double)i * 1e6 /
                                                     p->rate));
        if (lg_mono_us() > p->deadline_us)
            break;
        rc = pub_one(p, c, i);
        if (rc >= 200 && rc < 300) {
            p->status[i] = 1;
            p->ok++;
            continue;
        }
        if (rc == 503 && c->retry_after > 0) {
            pub_backoff(p, c->retry_after);
            i--;                /* refused, nothing written: again */
            continue;
        }
        p->errors++;
        if (rc > 0)
            p->last_bad_status = (uint16_t)rc;
        if (rc == -ECONNREFUSED && p->ok == 0 && i >= 10)
            break;                      /* nobody listens: give up */
    }
    p->end_us = lg_mono_us();
    if (c->fd >= 0)
        close(c->fd);
    free(c);
    return p->ok || p->messages == 0 ? 0 : -ECONNREFUSED;
}
