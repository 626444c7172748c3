/* cluster_sentinel.c -- asks Redis Sentinel where the master is (see
 * cluster_sentinel.h): one short blocking connection a sentinel, tried in
 * the URL's order, and the checks of what they answer. */
#include "ac_config.h"
#include "cluster/cluster_sentinel.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Characters of a host name, an IPv4 or an IPv6 address. */
static const char cluster_sentinel_host_chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:";

int cluster_sentinel_addr(const redisReply *r, struct cluster_addr *a,
                          const char **why)
{
    const redisReply *h, *p;
    char port[8], *end;
    long v;

    if (r->type == REDIS_REPLY_NIL) {
        *why = "the sentinel does not know the master's name";
        return -ENOENT;
    }
    *why = "the sentinel's answer is not [host, port]";
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return -EPROTO;
    h = r->element[0];
    p = r->element[1];
    if (h->type != REDIS_REPLY_STRING || p->type != REDIS_REPLY_STRING ||
        h->len == 0 || h->len >= sizeof(a->host) ||
        strlen(h->str) != h->len ||
        strspn(h->str, cluster_sentinel_host_chars) != h->len ||
        p->len == 0 || p->len >= sizeof(port) ||
        strspn(p->str, "0123456789") != p->len)
        return -EPROTO;
    memcpy(port, p->str, p->len + 1);
    v = strtol(port, &end, 10);
    if (v < 1 || v > 65535)
        return -EPROTO;
    memcpy(a->host, h->str, h->len + 1);
    a->port = (int)v;
    return 0;
}

int cluster_sentinel_master_replicas(const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "master") != 0 ||
        r->element[2]->type != REDIS_REPLY_ARRAY ||
        r->element[2]->elements > 1024)
        return -1;
    return (int)r->element[2]->elements;
}

/* Asks one sentinel s; 0 with *a, or -errno with the reason in why. */
static int cluster_sentinel_ask_one(const struct cluster_addr *s,
                                    const char *name, struct timeval tv,
                                    struct cluster_addr *a, char *why,
                                    size_t cap)
{
    const char *argv[3] = { "SENTINEL", "get-master-addr-by-name", name };
    redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
    redisReply *r = NULL;
    const char *what;
    int rc = -ENOTCONN;

    if (c == NULL) {
        snprintf(why, cap, "sentinel %s:%d: out of memory", s->host,
                 s->port);
        return -ENOMEM;
    }
    if (c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK)
        r = redisCommandArgv(c, 3, argv, NULL);
    if (r == NULL)
        snprintf(why, cap, "sentinel %s:%d: %s", s->host, s->port,
                 c->err ? c->errstr : "no answer");
    else if (r->type == REDIS_REPLY_ERROR)
        snprintf(why, cap, "sentinel %s:%d: %.200s", s->host, s->port,
                 r->str);
    else if ((rc = cluster_sentinel_addr(r, a, &what)) < 0)
        snprintf(why, cap, "sentinel %s:%d: master %s: %s", s->host,
                 s->port, name, what);
    if (r != NULL && r->type == REDIS_REPLY_ERROR)
        rc = -EIO;
    freeReplyObject(r);
    redisFree(c);
    return rc;
}

int cluster_sentinel_ask(const struct cluster_url *u, unsigned timeout_ms,
                         struct cluster_addr *a, char *why, size_t cap)
{
    struct timeval tv = { timeout_ms / 1000,
                          (long)(timeout_ms % 1000) * 1000 };
    unsigned i;

    snprintf(why, cap, "no sentinel");
    for (i = 0; i < u->n_sentinels; i++)
        if (cluster_sentinel_ask_one(&u->sentinel[i], u->master, tv, a, why,
                                     cap) == 0)
            return 0;
    return -ENOTCONN;
}
