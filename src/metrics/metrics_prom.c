/* metrics_prom.c -- Prometheus text format of the queue header and the
 * process-slot table (see metrics_prom.h).
 *
 * Process counters are labelled {pid, role}; the totals over live
 * processes (sseq_streams_open, sseq_delivered_total, ...) drop when a
 * process exits, which Prometheus reads as a counter reset. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "metrics/chan_file.h"
#include "metrics/chan_top.h"
#include "proto/http_status.h"
#include "metrics/metrics_prom.h"

typedef unsigned long long ull;

/* Which role a per-process metric belongs to ("" for every role). */
struct metrics_prom_proc {
    const char *name, *type, *help, *role;
    uint64_t (*get)(const struct queue_proc_info *p);
};

static uint64_t mp_streams(const struct queue_proc_info *p)
{
    return p->c.streams;
}

static uint64_t mp_streams_total(const struct queue_proc_info *p)
{
    return p->c.streams_total;
}

static uint64_t mp_dropped(const struct queue_proc_info *p)
{
    return p->c.dropped_slow;
}

static uint64_t mp_events(const struct queue_proc_info *p)
{
    return p->c.events;
}

static uint64_t mp_bytes(const struct queue_proc_info *p)
{
    return p->c.bytes;
}

/* The per-process metrics; sseq-publish fills the same slot fields with
 * requests (streams_total), messages (events) and data bytes. */
static const struct metrics_prom_proc metrics_prom_procs[] = {
    { "sseq_process_streams_open", "gauge",
      "Streams open in this sseq-stream process.", "stream", mp_streams },
    { "sseq_process_streams_accepted_total", "counter",
      "Streams accepted by this sseq-stream process.", "stream",
      mp_streams_total },
    { "sseq_process_dropped_slow_total", "counter",
      "Streams this process dropped for a full client buffer.", "stream",
      mp_dropped },
    { "sseq_process_delivered_total", "counter",
      "Events this sseq-stream process wrote to streams.", "stream",
      mp_events },
    { "sseq_process_stream_bytes_total", "counter",
      "Bytes this sseq-stream process wrote to streams.", "stream",
      mp_bytes },
    { "sseq_process_requests_total", "counter",
      "Requests this sseq-publish process handled.", "publish",
      mp_streams_total },
    { "sseq_process_published_total", "counter",
      "Messages this sseq-publish process appended.", "publish",
      mp_events },
    { "sseq_process_published_bytes_total", "counter",
      "Data bytes this sseq-publish process appended.", "publish",
      mp_bytes },
};

/* Sums of the stream processes' counters. */
static const struct metrics_prom_proc metrics_prom_sums[] = {
    { "sseq_streams_open", "gauge",
      "Streams open in all live sseq-stream processes.", "stream",
      mp_streams },
    { "sseq_delivered_total", "counter",
      "Events written to streams by all live sseq-stream processes.",
      "stream", mp_events },
    { "sseq_dropped_slow_total", "counter",
      "Streams dropped for a full client buffer, all live processes.",
      "stream", mp_dropped },
};

#define MP_N(a) (sizeof(a) / sizeof((a)[0]))

/* The roles whose totals are written (sseq-bridge answers no HTTP). */
static const char *const metrics_prom_roles[] = { "stream", "publish" };

static void mp_head(FILE *out, const char *name, const char *type,
                    const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void mp_value(FILE *out, const char *name, const char *type,
                     const char *help, ull v)
{
    mp_head(out, name, type, help);
    fprintf(out, "%s %llu\n", name, v);
}

/* The length of the valid UTF-8 sequence at s[0..left), 0 if none. */
static size_t mp_utf8_seq(const char *s, size_t left)
{
    for (size_t n = 2; n <= 4 && n <= left; n++)
        if (util_utf8_valid(s, n))
            return n;
    return 0;
}

void metrics_prom_label(FILE *out, const char *s)
{
    size_t len = strlen(s), step;

    for (size_t i = 0; i < len; i += step) {
        step = 1;
        if (s[i] == '\\' || s[i] == '"')
            fprintf(out, "\\%c", s[i]);
        else if (s[i] == '\n')
            fputs("\\n", out);
        else if ((unsigned char)s[i] < 0x80)
            fputc(s[i], out);
        else if ((step = mp_utf8_seq(s + i, len - i)) > 0)
            fwrite(s + i, 1, step, out);
        else {
            fputs(METRICS_PROM_REPLACEMENT, out);
            step = 1;
        }
    }
}

static void mp_queue(FILE *out, const char *path, const struct queue_stats *s)
{
    mp_head(out, "sseq_queue_info", "gauge",
            "The queue read: its path and layout version.");
    fputs("sseq_queue_info{path=\"", out);
    metrics_prom_label(out, path);
    fprintf(out, "\",version=\"%u\"} 1\n", s->version);
    mp_value(out, "sseq_queue_size_bytes", "gauge",
             "Size of the queue file.", s->file_size);
    mp_value(out, "sseq_queue_ring_bytes", "gauge",
             "Size of the ring that holds messages.", s->ring_size);
    mp_value(out, "sseq_queue_used_bytes", "gauge",
             "Bytes of the ring holding retained messages.", s->bytes_used);
    mp_head(out, "sseq_queue_fill_ratio", "gauge",
            "Used bytes over ring bytes (1 once the ring has wrapped).");
    fprintf(out, "sseq_queue_fill_ratio %.6f\n", s->ring_size ?
            (double)s->bytes_used / (double)s->ring_size : 0.0);
    mp_value(out, "sseq_queue_records", "gauge",
             "Messages retained in the queue.", s->records);
    mp_value(out, "sseq_queue_oldest_id", "gauge",
             "Id of the oldest retained message.", s->oldest_id);
    mp_value(out, "sseq_queue_newest_id", "gauge",
             "Id of the newest message.", s->newest_id);
    mp_value(out, "sseq_queue_appended_total", "counter",
             "Messages appended since the queue was created.", s->appends);
    mp_value(out, "sseq_queue_recovered_total", "counter",
             "Writers that died holding the lock, recovered.", s->recovered);
    mp_value(out, "sseq_queue_creation_time_seconds", "gauge",
             "When the queue was created (Unix time).",
             s->created_us / 1000000);
}

/* Writes one per-process metric for every process of its role. */
static void mp_proc(FILE *out, const struct metrics_prom_proc *m,
                    const struct queue_proc_info *p, int n)
{
    mp_head(out, m->name, m->type, m->help);
    for (int i = 0; i < n; i++) {
        if (strcmp(p[i].role, m->role) != 0)
            continue;
        fprintf(out, "%s{pid=\"%d\",role=\"", m->name, (int)p[i].pid);
        metrics_prom_label(out, p[i].role);
        fprintf(out, "\"} %llu\n", (ull)m->get(&p[i]));
    }
}

/* Refusals by role and status summed over live processes (every
 * status, zeros too), then each process's non-zero counts. */
static void mp_refusals(FILE *out, const struct queue_proc_info *p, int n)
{
    mp_head(out, "sseq_refusals_total", "counter",
            "HTTP errors answered by all live processes, by role and status.");
    for (size_t r = 0; r < MP_N(metrics_prom_roles); r++) {
        for (int s = 0; s < QUEUE_PROC_REFUSALS; s++) {
            ull sum = 0;

            for (int i = 0; i < n; i++)
                if (strcmp(p[i].role, metrics_prom_roles[r]) == 0)
                    sum += p[i].refused[s];
            fprintf(out, "sseq_refusals_total{role=\"%s\",status=\"%d\"} "
                    "%llu\n", metrics_prom_roles[r],
                    http_status_refusal_code(s), sum);
        }
    }
    mp_head(out, "sseq_process_refusals_total", "counter",
            "HTTP errors this process answered, by status (those above 0).");
    for (int i = 0; i < n; i++) {
        for (int s = 0; s < QUEUE_PROC_REFUSALS; s++) {
            if (p[i].refused[s] == 0)
                continue;
            fprintf(out, "sseq_process_refusals_total{pid=\"%d\",role=\"",
                    (int)p[i].pid);
            metrics_prom_label(out, p[i].role);
            fprintf(out, "\",status=\"%d\"} %llu\n",
                    http_status_refusal_code(s), (ull)p[i].refused[s]);
        }
    }
}

static void mp_procs(FILE *out, const struct queue_proc_info *p, int n)
{
    const char *const *roles = metrics_prom_roles;

    mp_head(out, "sseq_processes", "gauge",
            "Live processes using the queue, by role.");
    for (size_t r = 0; r < MP_N(metrics_prom_roles); r++) {
        int k = 0;

        for (int i = 0; i < n; i++)
            k += strcmp(p[i].role, roles[r]) == 0;
        fprintf(out, "sseq_processes{role=\"%s\"} %d\n", roles[r], k);
    }
    for (size_t m = 0; m < MP_N(metrics_prom_sums); m++) {
        ull sum = 0;

        for (int i = 0; i < n; i++)
            if (strcmp(p[i].role, metrics_prom_sums[m].role) == 0)
                sum += metrics_prom_sums[m].get(&p[i]);
        mp_value(out, metrics_prom_sums[m].name, metrics_prom_sums[m].type,
                 metrics_prom_sums[m].help, sum);
    }
    mp_head(out, "sseq_process_start_time_seconds", "gauge",
            "When the process started (Unix time).");
    for (int i = 0; i < n; i++) {
        fprintf(out, "sseq_process_start_time_seconds{pid=\"%d\",role=\"",
                (int)p[i].pid);
        metrics_prom_label(out, p[i].role);
        fprintf(out, "\"} %llu\n", (ull)p[i].started_us / 1000000);
    }
    for (size_t m = 0; m < MP_N(metrics_prom_procs); m++)
        mp_proc(out, &metrics_prom_procs[m], p, n);
    mp_refusals(out, p, n);
}

/* The channels with the most streams over every live sseq-stream: the
 * sum of each process's CHAN_FILE_ENTRIES first (chan_file.h), the
 * METRICS_PROM_TOP_CHANNELS first of that. -ENOMEM. */
static int mp_channels(FILE *out, const struct queue *q,
                       const struct queue_proc_info *p, int n)
{
    struct chan_top_entry *all, top[METRICS_PROM_TOP_CHANNELS];
    struct chan_file_entry *e;
    unsigned k = 0, kept;

    e = calloc((size_t)n * CHAN_FILE_ENTRIES + 1, sizeof(*e));
    all = calloc((size_t)n * CHAN_FILE_ENTRIES + 1, sizeof(*all));
    if (e == NULL || all == NULL) {
        free(e);
        free(all);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        int got;

        if (strcmp(p[i].role, "stream") != 0)
            continue;
        got = chan_file_read(queue_file_path(q), p[i].slot, p[i].pid,
                             p[i].started_us, e + k, CHAN_FILE_ENTRIES);
        for (int j = 0; j < got; j++, k++)
            all[k] = (struct chan_top_entry){ e[k].name, e[k].len,
                                              e[k].streams };
    }
    kept = chan_top_merge(all, k, top, METRICS_PROM_TOP_CHANNELS);
    mp_head(out, "sseq_channel_streams", "gauge",
            "Live streams on the channel (or hub topic), all sseq-stream "
            "processes: the channels with the most.");
    for (unsigned i = 0; i < kept; i++) {
        fputs("sseq_channel_streams{channel=\"", out);
        metrics_prom_label(out, top[i].name);
        fprintf(out, "\"} %llu\n", (ull)top[i].streams);
    }
    free(e);
    free(all);
    return 0;
}

int metrics_prom_write(const struct queue *q, const char *path, FILE *out)
{
    struct queue_proc_info procs[QUEUE_PROC_SLOTS];
    struct queue_stats st;
    int n;

    queue_get_stats(q, &st);
    n = queue_proc_list(q, procs, QUEUE_PROC_SLOTS);
    mp_queue(out, path, &st);
    mp_procs(out, procs, n < 0 ? 0 : n);
    if (mp_channels(out, q, procs, n < 0 ? 0 : n) < 0)
        return -ENOMEM;
    return ferror(out) ? -EIO : 0;
}
