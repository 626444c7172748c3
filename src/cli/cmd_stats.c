/* cmd_stats.c -- `sseq stats`: the queue's header counters and each live
 * process's counters from the slot table. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/cluster_redis.h"
#include "proto/cluster_url.h"
#include "base/json_out.h"
#include "metrics/metrics_prom.h"

static const char cmd_stats_help[] =
    "usage: sseq stats [--json | --prometheus]\n"
    "Shows the queue's size, bytes used, records, oldest and newest id,\n"
    "appends, writers recovered after a crash, and the counters of every\n"
    "live sseq-stream process (streams, delivered events, bytes, slow\n"
    "clients dropped) and sseq-publish process (requests, messages\n"
    "published, bytes). In cluster mode also the bridge: connected or not,\n"
    "its last id, and its lag behind Redis.\n"
    "  -j, --json        one JSON object\n"
    "  -p, --prometheus  Prometheus text format (node_exporter's textfile\n"
    "                    collector: write to a temporary file, then mv)\n";

typedef unsigned long long ull;

/* One line for a process, in the words of its role: sseq-publish fills
 * the slot's streams_total, events and bytes with requests, messages
 * published and their bytes. */
static void stats_print_proc(const struct queue_proc_info *p)
{
    if (strcmp(p->role, "publish") == 0)
        printf("process %d (publish): requests %llu, published %llu, "
               "bytes %llu\n", (int)p->pid, (ull)p->c.streams_total,
               (ull)p->c.events, (ull)p->c.bytes);
    else
        printf("process %d (%s): streams %llu, total %llu, dropped slow "
               "%llu, delivered %llu, bytes %llu\n", (int)p->pid, p->role,
               (ull)p->c.streams, (ull)p->c.streams_total,
               (ull)p->c.dropped_slow, (ull)p->c.events, (ull)p->c.bytes);
}

static void stats_print_text(const char *path, const struct queue_stats *s,
                             const struct queue_proc_info *p, int n)
{
    printf("queue:       %s\n", path);
    printf("size:        %llu bytes (ring %llu, index %llu slots)\n",
           (ull)s->file_size, (ull)s->ring_size, (ull)s->index_slots);
    printf("used:        %llu bytes\n", (ull)s->bytes_used);
    printf("records:     %llu\n", (ull)s->records);
    printf("oldest id:   %llu\n", (ull)s->oldest_id);
    printf("newest id:   %llu\n", (ull)s->newest_id);
    printf("appends:     %llu\n", (ull)s->appends);
    printf("recovered:   %llu\n", (ull)s->recovered);
    printf("max age:     %u s\n", s->max_age);
    for (int i = 0; i < n; i++)
        stats_print_proc(&p[i]);
}

static void stats_print_json(const char *path, const struct queue_stats *s,
                             const struct queue_proc_info *p, int n)
{
    fputs("{\"queue\":", stdout);
    json_write_string(stdout, path, strlen(path));
    printf(",\"size\":%llu,\"ring_size\":%llu,\"index_slots\":%llu,"
           "\"bytes_used\":%llu,\"records\":%llu,\"oldest_id\":%llu,"
           "\"newest_id\":%llu,\"next_id\":%llu,\"appends\":%llu,"
           "\"recovered\":%llu,\"max_age\":%u,\"version\":%u,"
           "\"processes\":[",
           (ull)s->file_size, (ull)s->ring_size, (ull)s->index_slots,
           (ull)s->bytes_used, (ull)s->records, (ull)s->oldest_id,
           (ull)s->newest_id, (ull)s->next_id, (ull)s->appends,
           (ull)s->recovered, s->max_age, s->version);
    for (int i = 0; i < n; i++) {
        printf("%s{\"pid\":%d,\"role\":", i ? "," : "", (int)p[i].pid);
        json_write_string(stdout, p[i].role, strlen(p[i].role));
        printf(",\"started_us\":%llu,", (ull)p[i].started_us);
        if (strcmp(p[i].role, "publish") == 0)
            printf("\"requests\":%llu,\"published\":%llu,\"bytes\":%llu}",
                   (ull)p[i].c.streams_total, (ull)p[i].c.events,
                   (ull)p[i].c.bytes);
        else
            printf("\"streams\":%llu,\"streams_total\":%llu,"
                   "\"dropped_slow\":%llu,\"events\":%llu,\"bytes\":%llu}",
                   (ull)p[i].c.streams, (ull)p[i].c.streams_total,
                   (ull)p[i].c.dropped_slow, (ull)p[i].c.events,
                   (ull)p[i].c.bytes);
    }
    fputs("]", stdout);
}

/* The live bridge process among p, or NULL. */
static const struct queue_proc_info *stats_bridge(
    const struct queue_proc_info *p, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(p[i].role, "bridge") == 0)
            return &p[i];
    return NULL;
}

/* The cluster lines: Redis as seen from here, the bridge's state. */
static void stats_print_cluster(const struct config *cfg,
                                const struct queue_stats *s,
                                const struct queue_proc_info *p, int n,
                                bool json)
{
    const struct queue_proc_info *b = stats_bridge(p, n);
    char shown[CLUSTER_URL_MAX];
    struct cluster_view v;

    cluster_view_get(cfg, s->newest_id, &v);
    cluster_url_redact(cfg->cluster_redis, shown, sizeof(shown));
    if (json) {
        fputs(",\"cluster\":{\"redis\":", stdout);
        json_write_string(stdout, shown, strlen(shown));
        printf(",\"reachable\":%s,\"bridge_pid\":%d,\"connected\":%s,"
               "\"last_id\":%llu,\"redis_last_id\":%llu,"
               "\"lag_messages\":%llu,\"lag_ms\":%llu,\"reason\":",
               v.reachable ? "true" : "false", b ? (int)b->pid : 0,
               b && b->c.streams ? "true" : "false", (ull)s->newest_id,
               (ull)v.top, (ull)v.lag, (ull)v.lag_ms);
        json_write_string(stdout, v.why, strlen(v.why));
        fputs("}", stdout);
        return;
    }
    printf("redis:       %s, %s%s\n", shown,
           v.reachable ? "reachable" : "unreachable: ", v.why);
    if (b == NULL)
        printf("bridge:      not running\n");
    else
        printf("bridge:      pid %d, %s, last id %llu, lag %llu messages, "
               "%llu ms\n", (int)b->pid,
               b->c.streams ? "connected" : "not connected",
               (ull)s->newest_id, (ull)v.lag, (ull)v.lag_ms);
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
    struct queue_proc_info procs[QUEUE_PROC_SLOTS];
    struct queue_stats st;
    struct queue *q;
    int json = 0, prom = 0, n, rc = CLI_OK;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
            json = 1;
        else if (strcmp(argv[i], "--prometheus") == 0 ||
                 strcmp(argv[i], "-p") == 0)
            prom = 1;
        else if (cli_wants_help(2, (char *[]){ argv[0], argv[i] })) {
            fputs(cmd_stats_help, stdout);
            return CLI_OK;
        } else
            return cli_usage_error("stats", "unexpected '%s'", argv[i]);
    }
    if (json && prom)
        return cli_usage_error("stats", "--json or --prometheus, not both");
    if (cli_open_queue(cli, &q) < 0)
        return CLI_FAIL;
    if (prom) {
        if (metrics_prom_write(q, cli->cfg.queue_path, stdout) < 0 ||
            fflush(stdout) != 0)
            rc = cli_fail("writing the metrics failed");
        queue_close(q);
        return rc;
    }
    queue_get_stats(q, &st);
    n = queue_proc_list(q, procs, QUEUE_PROC_SLOTS);
    if (json)
        stats_print_json(cli->cfg.queue_path, &st, procs, n);
    else
        stats_print_text(cli->cfg.queue_path, &st, procs, n);
    if (cluster_enabled(&cli->cfg))
        stats_print_cluster(&cli->cfg, &st, procs, n, json);
    if (json)
        puts("}");
    queue_close(q);
    return CLI_OK;
}
