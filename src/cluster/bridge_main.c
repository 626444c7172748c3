/* bridge_main.c -- sseq-bridge: carries the cluster's Redis stream into
 * this host's queue (cluster mode, see cluster_redis.h).
 *
 * One process a host, one thread, one Redis connection: XREAD BLOCK from
 * the newest id the local queue holds, then queue_append_at with each
 * entry's id. It is the only writer of the queue in cluster mode (sseq
 * publish and sseq-publish write to Redis), so the queue's newest id is
 * the bridge's position: a restarted bridge, even after SIGKILL, resumes
 * from it, with nothing lost or doubled (an entry already there is
 * -EALREADY). An entry past the next id means Redis no longer retains the
 * ones between: the queue jumps and its readers get sseq-gap. Redis is
 * not trusted: an entry that is not a valid message by queue_msg.h's
 * rule (a foreign XADD: a forged event type or id, an id outside the
 * queue's range or not <n>-0) is skipped, with one log line each (at
 * most BRIDGE_BAD_LOGS a BRIDGE_BAD_WINDOW), as is one this queue cannot
 * take (too big); the bridge reads on after the newest full entry id
 * it has handled, so no entry is read twice. An entry past the queue's
 * id range stays ahead of the read (the next publish deletes it; until
 * then it is logged once and the bridge polls every BRIDGE_BLOCK_MS).
 *
 * In Sentinel mode (cluster_redis.h) each connection asks the sentinels
 * for the master, so a failover is followed by reconnecting; with
 * cluster.wait_replicas the bridge appends only entries the replicas have
 * (up to the newest acknowledged mark), so the new master has every
 * entry this host holds and hands out no id it already has.
 *
 * Redis unreachable: the bridge retries (100 ms doubling to 2 s) and logs
 * once per change of state. Its queue slot (role "bridge") carries:
 * streams = 1 while connected, streams_total = connections made,
 * dropped_slow = ids Redis no longer had, events/bytes = entries/data
 * bytes appended. SIGTERM/SIGINT end it within BRIDGE_BLOCK_MS; SIGHUP
 * is ignored (a changed cluster setting needs a restart). */
#include "ac_config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster_redis.h"
#include "proto/cluster_url.h"
#include "conf/config.h"
#include "base/log.h"
#include "queue/queue.h"
#include "runtime/conf_load.h"
#include "runtime/queue_lazy.h"
#include "runtime/signals.h"

#define BRIDGE_BLOCK_MS   500       /* XREAD BLOCK: also the stop latency */
#define BRIDGE_BATCH      1000      /* entries a read */
#define BRIDGE_RETRY_MIN  100       /* ms before reconnecting, doubling */
#define BRIDGE_RETRY_MAX  2000
#define BRIDGE_BAD_LOGS   10        /* bad-entry lines a window, at most */
#define BRIDGE_BAD_WINDOW 10000     /* ms of that window */

static const char bridge_help[] =
    "usage: sseq-bridge [-c FILE]\n"
    "Carries the cluster's Redis stream (cluster.redis) into this host's\n"
    "queue. One per host; sseq stats shows it.\n"
    "  -c, --config FILE  the config (default $SSEQ_CONF, else "
    SYSCONFDIR "/sseq.conf)\n";

static volatile sig_atomic_t bridge_stop;

struct bridge {
    struct config cfg;
    struct queue *q;
    int slot;                       /* queue_proc_claim, -1 */
    struct queue_proc_counters c;   /* see the file comment */
    struct cluster_link *link;      /* NULL while not connected */
    struct cluster_pos seen;        /* newest entry handled, 0-0 = none;
                                       never past QUEUE_ID_END */
    struct cluster_pos beyond;      /* the last entry past QUEUE_ID_END
                                       logged (the publish script deletes
                                       it, so the read stays before it) */
    bool progress;                  /* the last read moved seen */
    uint64_t skipped;               /* bad entries since the last append */
    uint64_t bad_window_ms;         /* start of the bad-entry log window */
    unsigned bad_logged;            /* lines logged in that window */
    uint64_t bad_quiet;             /* bad entries not logged since */
};

static void bridge_on_signal(int sig)
{
    (void)sig;
    bridge_stop = 1;
}

/* Sleeps ms milliseconds unless a stop signal comes. */
static void bridge_sleep(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    if (!bridge_stop)
        nanosleep(&ts, NULL);
}

/* CLOCK_MONOTONIC in milliseconds. */
static uint64_t bridge_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Logs a bad entry, one line each, at most BRIDGE_BAD_LOGS a window of
 * BRIDGE_BAD_WINDOW ms (a flood of foreign entries cannot flood the
 * log); the next window's first line says how many went unlogged. */
static void bridge_log_bad(struct bridge *b, const struct cluster_entry *e)
{
    uint64_t now = bridge_now_ms();

    if (now - b->bad_window_ms >= BRIDGE_BAD_WINDOW) {
        if (b->bad_quiet > 0)
            log_error("%llu more bad entries skipped, not logged",
                      (unsigned long long)b->bad_quiet);
        b->bad_window_ms = now;
        b->bad_logged = 0;
        b->bad_quiet = 0;
    }
    if (b->bad_logged == BRIDGE_BAD_LOGS) {
        b->bad_quiet++;
        return;
    }
    b->bad_logged++;
    log_error("entry %llu-%llu skipped: %s", (unsigned long long)e->id,
              (unsigned long long)e->seq, e->why);
}

/* Whether a is after b in the stream. */
static bool bridge_after(const struct cluster_pos *a,
                         const struct cluster_pos *b)
{
    return a->id > b->id || (a->id == b->id && a->seq > b->seq);
}

/* Appends one entry with its id; a duplicate is skipped, a bad entry is
 * logged and skipped (the read goes on after its full id). */
static int bridge_append(void *arg, const struct cluster_entry *e)
{
    struct bridge *b = arg;
    struct cluster_pos at = { e->id, e->seq };
    struct queue_stats st;
    int rc;

    if (e->id >= QUEUE_ID_END) {
        if (at.id != b->beyond.id || at.seq != b->beyond.seq)
            bridge_log_bad(b, e);
        b->beyond = at;
        return 0;
    }
    if (bridge_after(&at, &b->seen)) {
        b->seen = at;
        b->progress = true;
    }
    if (e->bad) {
        bridge_log_bad(b, e);
        b->skipped++;
        return 0;
    }
    queue_get_stats(b->q, &st);
    rc = queue_append_at(b->q, &e->msg, e->id);
    if (rc == -EALREADY)
        return 0;
    if (rc < 0) {
        log_error("entry %llu (channel %.*s, %zu bytes): queue_append_at: "
                  "%s; not delivered on this host",
                  (unsigned long long)e->id, (int)e->msg.channel_len,
                  e->msg.channel, e->msg.data_len,
                  rc == QUEUE_DAMAGED || rc == -EINVAL || rc == -ERANGE ||
                  rc == -ETIMEDOUT ? queue_error() : strerror(-rc));
        return 0;
    }
    if (e->id > st.next_id && st.appends == 0)
        log_info("joined the stream at id %llu", (unsigned long long)e->id);
    else if (e->id > st.next_id) {
        b->c.dropped_slow += e->id - st.next_id;
        log_warn("ids %llu to %llu are not on this host (%llu bad entries "
                 "skipped, any other no longer in Redis: cluster.retention)"
                 ": streams past them get sseq-gap",
                 (unsigned long long)st.next_id,
                 (unsigned long long)e->id - 1,
                 (unsigned long long)b->skipped);
    }
    b->skipped = 0;
    b->c.events++;
    b->c.bytes += e->msg.data_len;
    return 0;
}

/* Publishes the counters into the slot. */
static void bridge_publish_stats(struct bridge *b)
{
    b->c.streams = b->link != NULL;
    queue_proc_update(b->q, b->slot, &b->c);
}

/* Connects and joins (raises the counter to our newest id). */
static int bridge_connect(struct bridge *b)
{
    uint64_t oldest, next;
    int rc;

    if ((rc = cluster_link_open(&b->cfg, BRIDGE_BLOCK_MS, &b->link)) < 0)
        return rc;
    queue_bounds(b->q, &oldest, &next);
    if ((rc = cluster_join(b->link, next - 1)) < 0) {
        cluster_link_close(b->link);
        b->link = NULL;
        return rc;
    }
    b->c.streams_total++;
    return 0;
}

/* Reads and appends until stopped; reconnects with backoff. */
static void bridge_run(struct bridge *b)
{
    unsigned retry = BRIDGE_RETRY_MIN;
    struct cluster_pos from, start;
    uint64_t oldest, next;
    int rc;

    while (!bridge_stop) {
        if (b->link == NULL && bridge_connect(b) < 0) {
            cluster_note_state(&b->cfg, false);
            bridge_publish_stats(b);
            bridge_sleep(retry);
            retry = retry * 2 > BRIDGE_RETRY_MAX ? BRIDGE_RETRY_MAX
                                                 : retry * 2;
            continue;
        }
        cluster_note_state(&b->cfg, true);
        retry = BRIDGE_RETRY_MIN;
        queue_bounds(b->q, &oldest, &next);
        from = (struct cluster_pos){ next - 1, 0 };
        if (bridge_after(&b->seen, &from))
            from = b->seen;
        b->progress = false;
        start = from;
        rc = cluster_read(b->link, &from, BRIDGE_BLOCK_MS, BRIDGE_BATCH,
                          bridge_append, b);
        if (bridge_after(&from, &start)) {      /* past trimmed entries */
            b->seen = from;
            b->progress = true;
        }
        if (rc > 0 && !b->progress)
            bridge_sleep(BRIDGE_BLOCK_MS);  /* only entries past the id
                                               range: no busy loop */
        if (rc < 0) {
            cluster_note_state(&b->cfg, false);
            cluster_link_close(b->link);
            b->link = NULL;
        }
        bridge_publish_stats(b);
    }
}

/* Opens the queue, retrying each second until it exists or a stop. */
static int bridge_open_queue(struct bridge *b)
{
    int rc, last = 0, told = 0;

    while ((rc = queue_lazy_open(b->cfg.queue_path, &b->q, &last)) < 0 &&
           !bridge_stop) {
        if (!told++)
            log_info("queue %s: retrying each second", b->cfg.queue_path);
        bridge_sleep(1000);
    }
    return rc < 0 ? rc : 0;
}

/* Parses the options; returns the config path (NULL = default). */
static const char *bridge_args(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL;
    int c;

    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'h': fputs(bridge_help, stdout); exit(0);
        case 'V': puts("sseq-bridge " PACKAGE_VERSION); exit(0);
        default: fputs(bridge_help, stderr); exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sseq-bridge: unexpected '%s'\n", argv[optind]);
        exit(2);
    }
    return path;
}

/* Loads the config; exits 1 on a bad one or without cluster.redis. */
static void bridge_config(struct bridge *b, const char *path)
{
    char shown[CLUSTER_URL_MAX];
    const char *file = config_path(path);

    log_init("sseq-bridge", LOG_LEVEL_INFO);
    conf_load_or_exit("sseq-bridge", path, true, &b->cfg);
    log_set_level(b->cfg.log_level);
    if (!cluster_enabled(&b->cfg)) {
        fprintf(stderr, "sseq-bridge: %s: cluster.redis is not set: "
                "nothing to bridge\n", file);
        exit(1);
    }
    log_info("bridging redis %s (stream {%s}:stream) into %s",
             cluster_url_redact(b->cfg.cluster_redis, shown, sizeof(shown)),
             b->cfg.cluster_prefix, b->cfg.queue_path);
}

int main(int argc, char **argv)
{
    struct bridge b = { .slot = -1 };

    bridge_config(&b, bridge_args(argc, argv));
    signals_on_stop(bridge_on_signal);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);        /* nothing to reload: restart it */
    if (bridge_open_queue(&b) < 0) {
        config_free(&b.cfg);
        return bridge_stop ? 0 : 1;
    }
    b.slot = queue_proc_claim(b.q, "bridge");
    bridge_run(&b);
    cluster_link_close(b.link);
    queue_proc_release(b.q, b.slot);
    queue_close(b.q);
    config_free(&b.cfg);
    log_info("stopped");
    return 0;
}
