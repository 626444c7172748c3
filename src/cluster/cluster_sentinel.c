/* cluster_sentinel.c -- asks Redis Sentinel where the master is (see
 * cluster_sentinel.h): one short blocking connection a sentinel, tried in
 * the URL's order, and the checks of what they answer. */
#include "ac_config.h"
#include "cluster/cluster_sentinel.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
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

int cluster_sentinel_error(const redisReply *r, const char **why)
{
    if (r->type != REDIS_REPLY_ERROR)
        return 0;
    if (strncmp(r->str, "NOAUTH", 6) == 0) {
        *why = "the sentinel requires a password: add "
               "?sentinel_password=PASSWORD to the URL";
        return -EACCES;
    }
    if (strncmp(r->str, "WRONGPASS", 9) == 0 ||
        strncmp(r->str, "ERR invalid password", 20) == 0) {
        *why = "the sentinel refused the URL's sentinel_password";
        return -EACCES;
    }
    if (strstr(r->str, "without any password configured") != NULL) {
        *why = "the URL gives a sentinel_password but the sentinel has "
               "none (requirepass)";
        return -EACCES;
    }
    *why = NULL;                /* another error: its own text says it */
    return -EIO;
}

/* Sends AUTH password to c when password is set. The reply, or NULL on
 * a broken connection; a reply of status OK is freed and replaced by
 * what the next command answers (so the caller sees one reply); *auth
 * says whether the reply is AUTH's. */
static redisReply *cluster_sentinel_command(redisContext *c,
                                            const char *password,
                                            int argc, const char **argv,
                                            bool *auth)
{
    const char *cmd[2] = { "AUTH", password };
    redisReply *r;

    *auth = password[0] != '\0';
    if (*auth) {
        r = redisCommandArgv(c, 2, cmd, NULL);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            return r;
        freeReplyObject(r);
        *auth = false;
    }
    return redisCommandArgv(c, argc, argv, NULL);
}

/* Writes into why the reason of error reply r from sentinel s. An error
 * to AUTH that is none of cluster_sentinel_error's is not quoted: Redis
 * echoes an unknown command's arguments, the password among them. */
static void cluster_sentinel_why(const struct cluster_addr *s,
                                 const redisReply *r, bool auth, char *why,
                                 size_t cap)
{
    const char *what;

    cluster_sentinel_error(r, &what);
    if (what == NULL && auth)
        what = "AUTH failed (the reply is not shown: it may quote the "
               "password; a sentinel older than Redis 5.0.1 takes none)";
    if (what != NULL)
        snprintf(why, cap, "sentinel %s:%d: %s", s->host, s->port, what);
    else
        snprintf(why, cap, "sentinel %s:%d: %.200s", s->host, s->port,
                 r->str);
}

/* Asks one sentinel s (AUTH first with password, if any); 0 with *a, or
 * -errno with the reason in why (never the password). */
static int cluster_sentinel_ask_one(const struct cluster_addr *s,
                                    const char *name, const char *password,
                                    struct timeval tv,
                                    struct cluster_addr *a, char *why,
                                    size_t cap)
{
    const char *argv[3] = { "SENTINEL", "get-master-addr-by-name", name };
    redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
    redisReply *r = NULL;
    const char *what;
    bool auth = false;
    int rc = -ENOTCONN;

    if (c == NULL) {
        snprintf(why, cap, "sentinel %s:%d: out of memory", s->host,
                 s->port);
        return -ENOMEM;
    }
    if (c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK)
        r = cluster_sentinel_command(c, password, 3, argv, &auth);
    if (r == NULL)
        snprintf(why, cap, "sentinel %s:%d: %s", s->host, s->port,
                 c->err ? c->errstr : "no answer");
    else if (r->type == REDIS_REPLY_ERROR)
        cluster_sentinel_why(s, r, auth, why, cap);
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
        if (cluster_sentinel_ask_one(&u->sentinel[i], u->master,
                                     u->sentinel_password, tv, a, why,
                                     cap) == 0)
            return 0;
    return -ENOTCONN;
}
