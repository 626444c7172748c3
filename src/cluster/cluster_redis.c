/* cluster_redis.c -- the Redis side of the cluster mode (see
 * cluster_redis.h): connections (hiredis, blocking, with timeouts), the
 * two Lua scripts that hand out dense ids, publishing through a small
 * connection pool, and the bridge's reads.
 *
 * Key invariant (ids): only the publish script writes the stream, always
 * with id max(counter, stream's newest, caller's floor) + 1, XADD first
 * and the counter after, so a failed XADD hands out nothing and entry ids
 * are dense except where a host's floor raised them (a join).
 *
 * Key invariant (secrets): the password goes to Redis in AUTH and nowhere
 * else; every text this file logs or returns shows the URL redacted.
 *
 * Sentinel mode (a redis+sentinel:// URL): every new connection asks the
 * sentinels for the master (cluster_sentinel.c) and checks with ROLE that
 * it is one; a READONLY reply (a demoted master) breaks the link like a
 * lost connection, so the next one asks again: nothing is ever written
 * to a replica.
 *
 * Key invariant (acknowledged writes, Sentinel mode with
 * cluster.wait_replicas > 0): a publish answers with its id only after
 * WAIT said the write reached that many replicas, or every replica the
 * master had when the link connected if more (one gone: WAIT times out,
 * 503, the link is dropped and the next one counts again), and then
 * marks its id in {prefix}:ack (XADD <id>-0; a smaller id than the
 * newest mark is refused by Redis and covered by it). Bridges read the
 * stream only up to the newest mark, so a host holds only entries the
 * replicas have: after a failover the new master has every entry any
 * host holds, its counter is past them, and no id is reused. The
 * replication stream is ordered, so a mark n covers every entry <= n. */
#include "ac_config.h"
#include "cluster/cluster_redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cluster/cluster_sentinel.h"
#include "proto/cluster_url.h"
#include "base/log.h"
#include "queue/queue_msg.h"

#define CLUSTER_POOL      16        /* idle connections kept for publish */
#define CLUSTER_REQ_TTL   "86400"   /* seconds a request id is remembered */
#define CLUSTER_REQ_MAX   200       /* bytes of a request id */
#define CLUSTER_KEY_MAX   (64 + CLUSTER_REQ_MAX + 16)

/* Ids in the scripts are decimal strings, never Lua numbers (doubles,
 * exact only up to 2^53): num() reads one (anything else is "0"), lt()
 * compares two, inc() adds one. END is QUEUE_ID_END, 2^63: no host takes
 * an id at or past it. top() is the newest id handed out: the larger of
 * the counter and the stream's newest entry (the counter may be lost, or
 * an entry added by hand); a counter past the range is ignored, and an
 * entry past it, which no host can take and which would make every XADD
 * fail, is deleted and the stream's last id set back (at most 8 a call). */
#define CLUSTER_LUA_TOP \
    "local END = '9223372036854775808'\n" \
    "local function num(s)\n" \
    "  return type(s) == 'string' and string.match(s, '^0*(%d+)$') or '0'\n" \
    "end\n" \
    "local function lt(a, b)\n" \
    "  if #a ~= #b then return #a < #b end\n" \
    "  return a < b\n" \
    "end\n" \
    "local function max(a, b) if lt(a, b) then return b end return a end\n" \
    "local function inc(s)\n" \
    "  local i = #s\n" \
    "  while i > 0 and string.byte(s, i) == 57 do i = i - 1 end\n" \
    "  if i == 0 then return '1' .. string.rep('0', #s) end\n" \
    "  return string.sub(s, 1, i - 1) .. string.char(string.byte(s, i) + 1)\n" \
    "         .. string.rep('0', #s - i)\n" \
    "end\n" \
    "local function top()\n" \
    "  local c = num(redis.call('GET', KEYS[1]))\n" \
    "  if not lt(c, END) then c = '0' end\n" \
    "  local cut = false\n" \
    "  for _ = 1, 8 do\n" \
    "    local e = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)\n" \
    "    if not e[1] then break end\n" \
    "    local t = num(string.match(e[1][1], '^(%d+)-'))\n" \
    "    if lt(t, END) then\n" \
    "      if cut then redis.call('XSETID', KEYS[2], e[1][1]) end\n" \
    "      return max(c, t)\n" \
    "    end\n" \
    "    redis.call('XDEL', KEYS[2], e[1][1])\n" \
    "    cut = true\n" \
    "  end\n" \
    "  if cut then redis.call('XSETID', KEYS[2], '0-1') end\n" \
    "  return c\n" \
    "end\n"

/* KEYS: seq, stream[, req]; ARGV: floor, maxlen, channel, event, data,
 * time_us, alternates (each followed by a NUL), private ("1" or ""),
 * publisher id, retry (decimal or ""). Empty optional fields are left
 * out of the entry. Returns the id (a string) of the new or remembered
 * entry; an error once ids reach END. */
static const char cluster_lua_publish[] = CLUSTER_LUA_TOP
    "if KEYS[3] then\n"
    "  local done = redis.call('GET', KEYS[3])\n"
    "  if done then return done end\n"
    "end\n"
    "local id = inc(max(top(), num(ARGV[1])))\n"
    "if not lt(id, END) then\n"
    "  return redis.error_reply('sseq: ids exhausted (2^63)')\n"
    "end\n"
    "local a = {'XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], id .. '-0',\n"
    "           'c', ARGV[3], 'd', ARGV[5], 't', ARGV[6]}\n"
    "local opt = {[4] = 'e', [7] = 'a', [8] = 'p', [9] = 'i', [10] = 'r'}\n"
    "for i, f in pairs(opt) do\n"
    "  if ARGV[i] and ARGV[i] ~= '' then\n"
    "    a[#a + 1] = f; a[#a + 1] = ARGV[i]\n"
    "  end\n"
    "end\n"
    "redis.call(unpack(a))\n"
    "redis.call('SET', KEYS[1], id)\n"
    "if KEYS[3] then redis.call('SET', KEYS[3], id, 'EX', "
    CLUSTER_REQ_TTL ") end\n"
    "return id\n";

/* KEYS: seq, stream; ARGV: floor. Raises the counter to floor. */
static const char cluster_lua_join[] = CLUSTER_LUA_TOP
    "local id = max(top(), num(ARGV[1]))\n"
    "redis.call('SET', KEYS[1], id)\n"
    "return id\n";

struct cluster_link {
    redisContext *ctx;          /* NULL once broken */
    char sha_publish[41];       /* SCRIPT LOAD results */
    char sha_join[41];
    char key_seq[80];           /* {prefix}:seq */
    char key_stream[80];        /* {prefix}:stream */
    char key_ack[80];           /* {prefix}:ack, the acknowledged marks */
    char prefix[72];            /* {prefix} */
    char maxlen[24];            /* cluster.retention as text */
    unsigned wait_replicas;     /* 0: no WAIT and no ack marks; else the
                                   larger of cluster.wait_replicas and
                                   the replicas at connect (ROLE) */
    unsigned wait_ms;           /* WAIT's timeout */
    struct cluster_link *next;  /* in the pool's idle list */
};

static _Thread_local char cluster_err[256];

/* The publish pool: idle links, reused by any thread. */
static struct {
    pthread_mutex_t lock;
    struct cluster_link *idle;
    unsigned n_idle;
} cluster_pool = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

/* Sentinel mode: the master this process last connected to. */
static struct {
    pthread_mutex_t lock;
    char addr[300];
} cluster_master = { PTHREAD_MUTEX_INITIALIZER, "" };

/* Last state logged by this process: 0 none yet, 1 up, 2 down. */
static atomic_int cluster_logged;

static int cluster_fail(int rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets this thread's reason; returns rc. */
static int cluster_fail(int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cluster_err, sizeof(cluster_err), fmt, ap);
    va_end(ap);
    return rc;
}

const char *cluster_error(void)
{
    return cluster_err;
}

bool cluster_enabled(const struct config *cfg)
{
    return cfg->cluster_redis != NULL && cfg->cluster_redis[0] != '\0';
}

void cluster_note_state(const struct config *cfg, bool up)
{
    char shown[CLUSTER_URL_MAX];
    int want = up ? 1 : 2;

    if (atomic_exchange(&cluster_logged, want) == want)
        return;
    cluster_url_redact(cfg->cluster_redis, shown, sizeof(shown));
    if (up)
        log_info("redis %s: reachable", shown);
    else
        log_error("redis %s: unreachable: %s", shown, cluster_err);
}

/* -errno for a broken context, with the reason set. */
static int cluster_ctx_fail(struct cluster_link *l, const char *what)
{
    int rc = -EIO;

    if (l->ctx != NULL && l->ctx->err == REDIS_ERR_IO &&
        (errno == EAGAIN || errno == ETIMEDOUT))
        rc = -ETIMEDOUT;
    else if (l->ctx != NULL && l->ctx->err == REDIS_ERR_EOF)
        rc = -ENOTCONN;
    cluster_fail(rc, "%s: %s", what, l->ctx ? l->ctx->errstr : "no link");
    if (l->ctx != NULL)
        redisFree(l->ctx);
    l->ctx = NULL;
    return rc;
}

/* Runs one command (argv form); on success *out is the reply (caller
 * frees), an error reply is -EIO / -EACCES / -ENOSYS (NOSCRIPT). */
static int cluster_cmd(struct cluster_link *l, int argc, const char **argv,
                       const size_t *lens, redisReply **out)
{
    redisReply *r;

    *out = NULL;
    if (l->ctx == NULL)
        return cluster_fail(-ENOTCONN, "not connected");
    r = redisCommandArgv(l->ctx, argc, argv, lens);
    if (r == NULL)
        return cluster_ctx_fail(l, argv[0]);
    if (r->type == REDIS_REPLY_ERROR) {
        int rc = strncmp(r->str, "NOSCRIPT", 8) == 0 ? -ENOSYS :
                 strncmp(r->str, "WRONGPASS", 9) == 0 ||
                 strncmp(r->str, "NOAUTH", 6) == 0 ||
                 strncmp(r->str, "NOPERM", 6) == 0 ? -EACCES :
                 strncmp(r->str, "READONLY", 8) == 0 ? -EROFS : -EIO;

        cluster_fail(rc, "%s: %.200s", argv[0], r->str);
        freeReplyObject(r);
        if (rc == -EROFS) {         /* a replica now: ask for the master */
            redisFree(l->ctx);
            l->ctx = NULL;
        }
        return rc;
    }
    *out = r;
    return 0;
}

/* A command of NUL-terminated words whose reply is not kept. */
static int cluster_cmd_words(struct cluster_link *l, int argc,
                             const char **argv)
{
    redisReply *r;
    int rc = cluster_cmd(l, argc, argv, NULL, &r);

    freeReplyObject(r);
    return rc;
}

/* Connects l->ctx to the URL with the configured timeout. */
static int cluster_connect(struct cluster_link *l, const struct config *cfg,
                           const struct cluster_url *u, int block_ms)
{
    unsigned ms = cfg->cluster_timeout_ms;
    struct timeval tv = { ms / 1000, (long)(ms % 1000) * 1000 };
    struct timeval rw = { (ms + (unsigned)block_ms) / 1000,
                          (long)((ms + (unsigned)block_ms) % 1000) * 1000 };

    l->ctx = u->path[0] ? redisConnectUnixWithTimeout(u->path, tv)
                        : redisConnectWithTimeout(u->host, u->port, tv);
    if (l->ctx == NULL)
        return cluster_fail(-ENOMEM, "connect: out of memory");
    if (l->ctx->err) {
        int rc = u->path[0]
            ? cluster_fail(-ENOTCONN, "connect to %s: %s", u->path,
                           l->ctx->errstr)
            : cluster_fail(-ENOTCONN, "connect to %s:%d: %s", u->host,
                           u->port, l->ctx->errstr);

        redisFree(l->ctx);
        l->ctx = NULL;
        return rc;
    }
    if (redisSetTimeout(l->ctx, rw) != REDIS_OK)
        return cluster_ctx_fail(l, "setsockopt");
    return 0;
}

/* Sentinel mode: asks the sentinels for the master and points u's host
 * and port at it. */
static int cluster_find_master(const struct config *cfg,
                               struct cluster_url *u)
{
    struct cluster_addr a;
    char why[sizeof(cluster_err) - 64];

    if (u->n_sentinels == 0)
        return 0;
    if (cluster_sentinel_ask(u, cfg->cluster_timeout_ms, &a, why,
                             sizeof(why)) < 0)
        return cluster_fail(-ENOTCONN, "no master %s: %s", u->master, why);
    memcpy(u->host, a.host, sizeof(u->host));
    u->port = a.port;
    return 0;
}

/* Sentinel mode: logs the master's address when it is not the one this
 * process connected to last (a failover followed), once a change. */
static void cluster_note_master(const struct cluster_url *u)
{
    char now[sizeof(cluster_master.addr)];
    bool changed;

    if (u->n_sentinels == 0)
        return;
    snprintf(now, sizeof(now), "%s:%d", u->host, u->port);
    pthread_mutex_lock(&cluster_master.lock);
    changed = strcmp(now, cluster_master.addr) != 0;
    if (changed)
        memcpy(cluster_master.addr, now, sizeof(now));
    pthread_mutex_unlock(&cluster_master.lock);
    if (changed)
        log_info("redis master %s is %s (as the sentinels say; ROLE "
                 "master)", u->master, now);
}

/* Sentinel mode: ROLE must say master (a failover may be under way);
 * a new master is logged. With WAIT on, the link waits for every
 * replica the master lists now, if more than cluster.wait_replicas: a
 * write acknowledged by only some replicas would be lost if Sentinel
 * promoted another (it ranks them by an offset up to a second old). */
static int cluster_check_role(struct cluster_link *l,
                              const struct cluster_url *u)
{
    const char *argv[1] = { "ROLE" };
    redisReply *r;
    int rc, replicas;

    if (u->n_sentinels == 0)
        return 0;
    if ((rc = cluster_cmd(l, 1, argv, NULL, &r)) < 0)
        return rc;
    replicas = cluster_sentinel_master_replicas(r);
    freeReplyObject(r);
    if (replicas >= 0) {
        if (l->wait_replicas > 0 && (unsigned)replicas > l->wait_replicas)
            l->wait_replicas = (unsigned)replicas;
        cluster_note_master(u);
        return 0;
    }
    redisFree(l->ctx);
    l->ctx = NULL;
    return cluster_fail(-EROFS, "%s:%d, which the sentinels name master "
                        "%s, is not a master (a failover under way)",
                        u->host, u->port, u->master);
}

/* Whether an error cluster_cmd wrote for AUTH (cluster_err) may be shown:
 * only Redis's known refusals. Redis quotes an unknown command's
 * arguments (AUTH renamed away, a server without it), the password
 * among them. */
static bool cluster_auth_err_shown(const char *err)
{
    return strncmp(err, "AUTH: ERR invalid password", 26) == 0 ||
           strstr(err, "called without any password configured") != NULL;
}

/* AUTH (with the ACL user if any) and SELECT. */
static int cluster_login(struct cluster_link *l, const struct cluster_url *u)
{
    const char *auth[3] = { "AUTH", u->user, u->password };
    char db[16];
    const char *sel[2] = { "SELECT", db };
    int rc;

    if (u->password[0] != '\0') {
        rc = u->user[0] ? cluster_cmd_words(l, 3, auth)
                        : cluster_cmd_words(l, 2,
                                            (const char *[]){ "AUTH",
                                                u->password });
        if (rc < 0 && rc != -EIO)
            return rc;
        if (rc < 0) {
            char why[sizeof(cluster_err)];

            snprintf(why, sizeof(why), "%s", cluster_auth_err_shown(
                         cluster_err) ? cluster_err : "the reply is not "
                     "shown: it may quote the password");
            return cluster_fail(-EACCES, "AUTH refused (%s)", why);
        }
    }
    if (u->db != 0) {
        snprintf(db, sizeof(db), "%u", u->db);
        if ((rc = cluster_cmd_words(l, 2, sel)) < 0)
            return rc;
    }
    return 0;
}

/* SCRIPT LOAD of one script into sha (41 bytes). */
static int cluster_load(struct cluster_link *l, const char *lua, char *sha)
{
    const char *argv[3] = { "SCRIPT", "LOAD", lua };
    redisReply *r;
    int rc = cluster_cmd(l, 3, argv, NULL, &r);

    if (rc < 0)
        return rc;
    if (r->type != REDIS_REPLY_STRING || r->len != 40) {
        freeReplyObject(r);
        return cluster_fail(-EPROTO, "SCRIPT LOAD: unexpected reply");
    }
    memcpy(sha, r->str, 41);
    freeReplyObject(r);
    return 0;
}

/* Fills the key names and the retention text from cfg. */
static void cluster_keys(struct cluster_link *l, const struct config *cfg)
{
    snprintf(l->prefix, sizeof(l->prefix), "{%s}", cfg->cluster_prefix);
    snprintf(l->key_seq, sizeof(l->key_seq), "%s:seq", l->prefix);
    snprintf(l->key_stream, sizeof(l->key_stream), "%s:stream", l->prefix);
    snprintf(l->key_ack, sizeof(l->key_ack), "%s:ack", l->prefix);
    snprintf(l->maxlen, sizeof(l->maxlen), "%" PRIu64,
             cfg->cluster_retention);
}

int cluster_link_open(const struct config *cfg, int block_ms,
                      struct cluster_link **out)
{
    struct cluster_link *l;
    struct cluster_url u;
    const char *why;
    int rc;

    if (cluster_url_parse(cfg->cluster_redis, &u, &why) < 0)
        return cluster_fail(-EINVAL, "cluster.redis: %s", why);
    if ((l = calloc(1, sizeof(*l))) == NULL) {
        rc = cluster_fail(-ENOMEM, "out of memory");
        goto fail_wipe;
    }
    cluster_keys(l, cfg);
    if (u.n_sentinels > 0) {
        l->wait_replicas = cfg->cluster_wait_replicas;
        l->wait_ms = cfg->cluster_wait_ms;
    }
    if ((rc = cluster_find_master(cfg, &u)) < 0 ||
        (rc = cluster_connect(l, cfg, &u, block_ms)) < 0 ||
        (rc = cluster_login(l, &u)) < 0 ||
        (rc = cluster_check_role(l, &u)) < 0 ||
        (rc = cluster_load(l, cluster_lua_publish, l->sha_publish)) < 0 ||
        (rc = cluster_load(l, cluster_lua_join, l->sha_join)) < 0)
        goto fail_link;
    explicit_bzero(&u, sizeof(u));
    *out = l;
    return 0;

fail_link:
    cluster_link_close(l);
fail_wipe:
    explicit_bzero(&u, sizeof(u));
    return rc;
}

void cluster_link_close(struct cluster_link *l)
{
    if (l == NULL)
        return;
    if (l->ctx != NULL)
        redisFree(l->ctx);
    free(l);
}

/* A reply holding an id as a string or integer, into *id. */
static int cluster_reply_id(const redisReply *r, uint64_t *id)
{
    char *end;

    if (r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
        *id = (uint64_t)r->integer;
        return 0;
    }
    if (r->type != REDIS_REPLY_STRING || r->len == 0)
        return cluster_fail(-EPROTO, "script: unexpected reply type %d",
                            r->type);
    errno = 0;
    *id = strtoull(r->str, &end, 10);
    if (errno != 0 || *end != '\0' || *id == 0)
        return cluster_fail(-EPROTO, "script: bad id \"%.40s\"", r->str);
    return 0;
}

/* EVALSHA argv (argv[1] is the sha); reloads the scripts once after
 * NOSCRIPT (Redis restarted). The id the script returns into *id. */
static int cluster_eval(struct cluster_link *l, int argc, const char **argv,
                        const size_t *lens, uint64_t *id)
{
    redisReply *r;
    int rc = cluster_cmd(l, argc, argv, lens, &r);

    if (rc == -ENOSYS) {
        bool pub = strcmp(argv[1], l->sha_publish) == 0;

        if ((rc = cluster_load(l, cluster_lua_publish, l->sha_publish)) < 0 ||
            (rc = cluster_load(l, cluster_lua_join, l->sha_join)) < 0)
            return rc;
        argv[1] = pub ? l->sha_publish : l->sha_join;
        rc = cluster_cmd(l, argc, argv, lens, &r);
    }
    if (rc < 0)
        return rc;
    rc = cluster_reply_id(r, id);
    freeReplyObject(r);
    return rc;
}

int cluster_join(struct cluster_link *l, uint64_t floor)
{
    char f[24];
    const char *argv[6] = { "EVALSHA", l->sha_join, "2", l->key_seq,
                            l->key_stream, f };
    uint64_t id;

    snprintf(f, sizeof(f), "%" PRIu64, floor);
    return cluster_eval(l, 6, argv, NULL, &id);
}

/* CLOCK_REALTIME in microseconds. */
static uint64_t cluster_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* m's alternates packed as the queue stores them (each followed by a
 * NUL) into a malloc'd *out; 0 or -ENOMEM. */
static int cluster_pack_alt(const struct queue_msg *m, char **out,
                            size_t *len)
{
    size_t i, o = 0, n = 0;

    for (i = 0; i < m->n_alt; i++)
        n += m->alt_len[i] + 1;
    *out = malloc(n ? n : 1);
    if (*out == NULL)
        return cluster_fail(-ENOMEM, "out of memory");
    for (i = 0; i < m->n_alt; i++) {
        memcpy(*out + o, m->alt[i], m->alt_len[i]);
        o += m->alt_len[i];
        (*out)[o++] = '\0';
    }
    *len = n;
    return 0;
}

/* WAIT until this link's writes reached l->wait_replicas replicas;
 * -ETIMEDOUT when fewer did within l->wait_ms, and the link is dropped
 * (after a failover the old master may still take writes for a while,
 * with no replica: the next link asks the sentinels again). */
static int cluster_wait(struct cluster_link *l)
{
    char n[16], ms[16];
    const char *argv[3] = { "WAIT", n, ms };
    redisReply *r;
    long long got;
    int rc;

    snprintf(n, sizeof(n), "%u", l->wait_replicas);
    snprintf(ms, sizeof(ms), "%u", l->wait_ms);
    if ((rc = cluster_cmd(l, 3, argv, NULL, &r)) < 0)
        return rc;
    got = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    if (got < 0)
        return cluster_fail(-EPROTO, "WAIT: unexpected reply");
    if (got >= (long long)l->wait_replicas)
        return 0;
    redisFree(l->ctx);              /* maybe a master the sentinels have */
    l->ctx = NULL;                  /* left: the next link asks them */
    return cluster_fail(-ETIMEDOUT, "WAIT: the message reached %lld of %u "
                        "replicas within %u ms (it may still be delivered)",
                        got, l->wait_replicas, l->wait_ms);
}

/* Marks id acknowledged ({prefix}:ack): bridges deliver up to it. Redis
 * refusing an id at or below the newest mark is no failure: that mark
 * covers it. */
static int cluster_ack(struct cluster_link *l, uint64_t id)
{
    char at[32];
    const char *argv[8] = { "XADD", l->key_ack, "MAXLEN", "~", "1000", at,
                            "n", "1" };
    redisReply *r;
    int rc;

    snprintf(at, sizeof(at), "%" PRIu64 "-0", id);
    rc = cluster_cmd(l, 8, argv, NULL, &r);
    if (rc == -EIO && strstr(cluster_err, "equal or smaller") != NULL)
        return 0;                   /* a newer mark covers it */
    freeReplyObject(r);
    return rc;
}

/* Runs the publish script on l. */
static int cluster_publish_on(struct cluster_link *l,
                              const struct queue_msg *m, const char *req,
                              uint64_t floor, uint64_t *id)
{
    char f[24], t[24], r[16], rkey[CLUSTER_KEY_MAX], *alt = NULL;
    bool has_req = req != NULL && req[0] != '\0';
    const char *argv[16] = {
        "EVALSHA", l->sha_publish, has_req ? "3" : "2", l->key_seq,
        l->key_stream,
    };
    size_t lens[16], alt_len = 0;
    int n = 5, i, rc;

    if (has_req) {
        snprintf(rkey, sizeof(rkey), "%s:req:%s", l->prefix, req);
        argv[n++] = rkey;
    }
    snprintf(f, sizeof(f), "%" PRIu64, floor);
    snprintf(t, sizeof(t), "%" PRIu64, cluster_now_us());
    argv[n++] = f;
    argv[n++] = l->maxlen;
    for (i = 0; i < n; i++)
        lens[i] = strlen(argv[i]);
    argv[n] = m->channel, lens[n++] = m->channel_len;
    argv[n] = m->event_len ? m->event : "", lens[n++] = m->event_len;
    argv[n] = m->data_len ? m->data : "", lens[n++] = m->data_len;
    argv[n] = t, lens[n++] = strlen(t);
    if ((rc = cluster_pack_alt(m, &alt, &alt_len)) < 0)
        return rc;
    snprintf(r, sizeof(r), "%" PRIu32, m->retry_ms);
    argv[n] = alt, lens[n++] = alt_len;
    argv[n] = (m->flags & QUEUE_MSG_PRIVATE) ? "1" : "";
    lens[n] = strlen(argv[n]), n++;
    argv[n] = m->pub_id_len ? m->pub_id : "", lens[n++] = m->pub_id_len;
    argv[n] = m->retry_ms ? r : "", lens[n] = strlen(argv[n]), n++;
    rc = cluster_eval(l, n, argv, lens, id);
    free(alt);
    if (rc < 0 || l->wait_replicas == 0)
        return rc;
    if ((rc = cluster_wait(l)) < 0)
        return rc;
    return cluster_ack(l, *id);
}

/* An idle pool link, or a new one; NULL with the reason set. */
static struct cluster_link *cluster_pool_get(const struct config *cfg,
                                             int *rc)
{
    struct cluster_link *l;

    pthread_mutex_lock(&cluster_pool.lock);
    l = cluster_pool.idle;
    if (l != NULL) {
        cluster_pool.idle = l->next;
        cluster_pool.n_idle--;
    }
    pthread_mutex_unlock(&cluster_pool.lock);
    if (l != NULL)
        return l;
    *rc = cluster_link_open(cfg, 0, &l);
    return *rc < 0 ? NULL : l;
}

/* Returns a healthy link to the pool; closes a broken one or a surplus. */
static void cluster_pool_put(struct cluster_link *l)
{
    if (l->ctx != NULL) {
        pthread_mutex_lock(&cluster_pool.lock);
        if (cluster_pool.n_idle < CLUSTER_POOL) {
            l->next = cluster_pool.idle;
            cluster_pool.idle = l;
            cluster_pool.n_idle++;
            l = NULL;
        }
        pthread_mutex_unlock(&cluster_pool.lock);
    }
    cluster_link_close(l);
}

/* Closes every idle link (after one broke: Redis restarted or went). */
static void cluster_pool_drain(void)
{
    struct cluster_link *l;

    pthread_mutex_lock(&cluster_pool.lock);
    l = cluster_pool.idle;
    cluster_pool.idle = NULL;
    cluster_pool.n_idle = 0;
    pthread_mutex_unlock(&cluster_pool.lock);
    while (l != NULL) {
        struct cluster_link *next = l->next;

        cluster_link_close(l);
        l = next;
    }
}

/* -EINVAL for a message queue_msg_check refuses or a long request id,
 * -EMSGSIZE for one the local queue could never hold (every host's queue
 * is assumed to be alike). */
static int cluster_msg_check(struct queue *q, const struct queue_msg *m,
                             const char *req)
{
    struct queue_msg_fault f;
    char why[300];
    size_t i, total = m->channel_len + m->event_len + m->data_len +
                      m->pub_id_len;

    if (queue_msg_check(m, &f) < 0)
        return cluster_fail(-EINVAL, "%s",
                            queue_msg_describe(m, &f, why, sizeof(why)));
    if (req != NULL && strlen(req) > CLUSTER_REQ_MAX)
        return cluster_fail(-EINVAL, "request id over %d bytes",
                            CLUSTER_REQ_MAX);
    for (i = 0; i < m->n_alt; i++)
        total += m->alt_len[i] + 1;
    if (total > queue_max_payload(q))
        return cluster_fail(-EMSGSIZE, "message over %zu bytes",
                            queue_max_payload(q));
    return 0;
}

int cluster_publish(const struct config *cfg, struct queue *q,
                    const struct queue_msg *m, const char *request_id,
                    uint64_t *id)
{
    struct cluster_link *l;
    uint64_t oldest, next;
    int rc;

    if ((rc = cluster_msg_check(q, m, request_id)) < 0)
        return rc;
    queue_bounds(q, &oldest, &next);
    if ((l = cluster_pool_get(cfg, &rc)) == NULL) {
        cluster_note_state(cfg, false);
        return rc;
    }
    rc = cluster_publish_on(l, m, request_id, next - 1, id);
    if (l->ctx == NULL)
        cluster_pool_drain();           /* the idle ones broke as well */
    cluster_note_state(cfg, rc >= 0);
    cluster_pool_put(l);
    return rc < 0 ? rc : 0;
}

/* Calls fn for each entry of an array of entries [[id, fields], ...];
 * the number of entries, fn's negative return or -EPROTO. */
static int cluster_walk(const redisReply *entries, cluster_entry_fn fn,
                        void *arg)
{
    struct cluster_entry e;
    size_t i;
    int rc;

    for (i = 0; i < entries->elements; i++) {
        if (cluster_entry_parse(entries->element[i], &e) == -EPROTO)
            return cluster_fail(-EPROTO, "stream entry %zu has no id", i);
        if (fn != NULL && (rc = fn(arg, &e)) < 0)
            return rc;
    }
    return (int)entries->elements;
}

/* XREAD COUNT count BLOCK block_ms of key from `after`; *out is the
 * array of entries (NULL on timeout) inside *r (the caller frees *r). */
static int cluster_xread(struct cluster_link *l, const char *key,
                         const struct cluster_pos *after, int block_ms,
                         unsigned count, redisReply **r,
                         const redisReply **out)
{
    char from[48], cnt[16], blk[16];
    const char *argv[8] = { "XREAD", "COUNT", cnt, "BLOCK", blk, "STREAMS",
                            key, from };
    int rc;

    *out = NULL;
    snprintf(from, sizeof(from), "%" PRIu64 "-%" PRIu64, after->id,
             after->seq);
    snprintf(cnt, sizeof(cnt), "%u", count);
    snprintf(blk, sizeof(blk), "%d", block_ms);
    if ((rc = cluster_cmd(l, 8, argv, NULL, r)) < 0)
        return rc;
    if ((*r)->type == REDIS_REPLY_NIL)
        return 0;
    if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 1 ||
        (*r)->element[0]->type != REDIS_REPLY_ARRAY ||
        (*r)->element[0]->elements != 2 ||
        (*r)->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(*r);
        *r = NULL;
        return cluster_fail(-EPROTO, "XREAD: unexpected reply");
    }
    *out = (*r)->element[0]->element[1];
    return 0;
}

/* The newest acknowledged mark past `after` into *upto (0: none within
 * block_ms). A mark that is not "<n>-0" is -EPROTO. */
static int cluster_ack_mark(struct cluster_link *l,
                            const struct cluster_pos *after, int block_ms,
                            uint64_t *upto)
{
    const redisReply *marks;
    struct cluster_entry e;
    redisReply *r = NULL;
    int rc;

    *upto = 0;
    rc = cluster_xread(l, l->key_ack, after, block_ms, 1000, &r, &marks);
    if (rc == 0 && marks != NULL && marks->elements > 0) {
        rc = cluster_entry_parse(marks->element[marks->elements - 1], &e);
        if (rc == -EPROTO || e.seq != 0)
            rc = cluster_fail(-EPROTO, "%s: a mark is not <id>-0",
                              l->key_ack);
        else
            *upto = e.id, rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

/* XRANGE of the stream in (after, upto-0], count at most, through fn. */
static int cluster_range(struct cluster_link *l,
                         const struct cluster_pos *after, uint64_t upto,
                         unsigned count, cluster_entry_fn fn, void *arg)
{
    char from[48], to[32], cnt[16];
    const char *argv[6] = { "XRANGE", l->key_stream, from, to, "COUNT",
                            cnt };
    redisReply *r;
    int rc;

    snprintf(from, sizeof(from), "(%" PRIu64 "-%" PRIu64, after->id,
             after->seq);
    snprintf(to, sizeof(to), "%" PRIu64 "-0", upto);
    snprintf(cnt, sizeof(cnt), "%u", count);
    if ((rc = cluster_cmd(l, 6, argv, NULL, &r)) < 0)
        return rc;
    rc = r->type == REDIS_REPLY_ARRAY
         ? cluster_walk(r, fn, arg)
         : cluster_fail(-EPROTO, "XRANGE: unexpected reply");
    freeReplyObject(r);
    return rc;
}

/* The gated read (Sentinel mode with WAIT): entries up to the newest
 * acknowledged mark. Marks past every entry in (after, mark] (the
 * entries trimmed, or a mark written by hand) wait for the next entry;
 * once one exists past the mark, *after skips to the mark. */
static int cluster_read_acked(struct cluster_link *l,
                              struct cluster_pos *after, int block_ms,
                              unsigned count, cluster_entry_fn fn,
                              void *arg)
{
    const redisReply *next;
    struct cluster_entry e;
    redisReply *r = NULL;
    uint64_t upto;
    int rc;

    if ((rc = cluster_ack_mark(l, after, block_ms, &upto)) < 0 ||
        upto == 0)
        return rc;
    if ((rc = cluster_range(l, after, upto, count, fn, arg)) != 0)
        return rc;
    rc = cluster_xread(l, l->key_stream, after, block_ms, 1, &r, &next);
    if (rc == 0 && next != NULL && next->elements == 1 &&
        cluster_entry_parse(next->element[0], &e) != -EPROTO &&
        e.id > upto)
        *after = (struct cluster_pos){ upto, 0 };
    freeReplyObject(r);
    return rc;
}

int cluster_read(struct cluster_link *l, struct cluster_pos *after,
                 int block_ms, unsigned count, cluster_entry_fn fn,
                 void *arg)
{
    const redisReply *entries;
    redisReply *r = NULL;
    int rc;

    if (l->wait_replicas > 0)
        return cluster_read_acked(l, after, block_ms, count, fn, arg);
    rc = cluster_xread(l, l->key_stream, after, block_ms, count, &r,
                       &entries);
    if (rc == 0 && entries != NULL)
        rc = cluster_walk(entries, fn, arg);
    freeReplyObject(r);
    return rc;
}

/* The id of the first entry of an XRANGE-like reply, and its t field. */
static int cluster_first(const redisReply *r, uint64_t *id, uint64_t *t)
{
    struct cluster_entry e;

    *id = 0;
    *t = 0;
    if (r->type != REDIS_REPLY_ARRAY)
        return cluster_fail(-EPROTO, "XRANGE: unexpected reply");
    if (r->elements == 0)
        return 0;
    if (cluster_entry_parse(r->element[0], &e) == -EPROTO)
        return cluster_fail(-EPROTO, "XRANGE: malformed entry");
    *id = e.id;
    *t = e.time_us;
    return 0;
}

int cluster_tip(struct cluster_link *l, uint64_t after, uint64_t *top,
                uint64_t *next_us)
{
    char from[32];
    const char *last[6] = { "XREVRANGE", l->key_stream, "+", "-", "COUNT",
                            "1" };
    const char *first[6] = { "XRANGE", l->key_stream, from, "+", "COUNT",
                             "1" };
    uint64_t t, id;
    redisReply *r;
    int rc;

    if ((rc = cluster_cmd(l, 6, last, NULL, &r)) < 0)
        return rc;
    rc = cluster_first(r, top, &t);
    freeReplyObject(r);
    if (rc < 0)
        return rc;
    snprintf(from, sizeof(from), "(%" PRIu64 "-0", after);
    if ((rc = cluster_cmd(l, 6, first, NULL, &r)) < 0)
        return rc;
    rc = cluster_first(r, &id, next_us);
    freeReplyObject(r);
    return rc;
}

void cluster_view_get(const struct config *cfg, uint64_t newest,
                      struct cluster_view *v)
{
    struct cluster_link *l = NULL;
    uint64_t next_us = 0, now = cluster_now_us();
    int rc;

    memset(v, 0, sizeof(*v));
    rc = cluster_link_open(cfg, 0, &l);
    if (rc == 0)
        rc = cluster_tip(l, newest, &v->top, &next_us);
    cluster_link_close(l);
    if (rc < 0) {
        snprintf(v->why, sizeof(v->why), "%s", cluster_err);
        return;
    }
    v->reachable = true;
    v->lag = v->top > newest ? v->top - newest : 0;
    v->lag_ms = v->lag && next_us && now > next_us ? (now - next_us) / 1000
                                                   : 0;
}
