/* cmd_tail.c -- `sseq tail`: print a channel's messages as SSE text or
 * JSON lines, optionally following new ones until interrupted. */
#include "ac_config.h"
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "base/json_out.h"
#include "proto/sse.h"
#include "base/util.h"
#include "runtime/queue_follow.h"
#include "runtime/signals.h"

static const char cmd_tail_help[] =
    "usage: sseq tail [CHANNEL...] [--from-id ID | --backlog N] [--follow]\n"
    "               [--json]\n"
    "Prints the retained messages of the channels (all channels if none\n"
    "given) as SSE text, oldest first. An overrun or gap goes to stderr.\n"
    "  -i, --from-id ID  start after message ID (as Last-Event-ID does)\n"
    "  -n, --backlog N   start with the last N messages of the channels\n"
    "  -f, --follow      keep printing new messages until interrupted\n"
    "  -j, --json        one JSON object a line instead of SSE\n";

struct tail {
    char **channels; int n_channels;    /* empty = every channel */
    int json, follow;
    char *buf; size_t cap;              /* one record's bytes */
    char *out; size_t out_cap;          /* one encoded event */
};

static volatile sig_atomic_t tail_stop;

static void tail_on_signal(int sig)
{
    (void)sig;
    tail_stop = 1;
}

static int tail_wants(const struct tail *t, const struct queue_record *r)
{
    if (t->n_channels == 0)
        return 1;
    for (int i = 0; i < t->n_channels; i++)
        if (strlen(t->channels[i]) == r->channel_len &&
            memcmp(t->channels[i], r->channel, r->channel_len) == 0)
            return 1;
    return 0;
}

/* Prints r's alternate topics as a JSON array. */
static void tail_print_json_alt(const struct queue_record *r)
{
    const char *t;
    size_t pos = 0, len;
    int first = 1;

    fputs(",\"alt\":[", stdout);
    queue_record_next_topic(r, &pos, &t, &len);     /* the channel */
    while (queue_record_next_topic(r, &pos, &t, &len)) {
        if (!first)
            fputc(',', stdout);
        json_write_string(stdout, t, len);
        first = 0;
    }
    fputc(']', stdout);
}

/* Prints r as one JSON object line. */
static void tail_print_json(const struct queue_record *r)
{
    printf("{\"id\":\"%llu\",\"time_us\":%llu,\"channel\":",
           (unsigned long long)r->id, (unsigned long long)r->time_us);
    json_write_string(stdout, r->channel, r->channel_len);
    tail_print_json_alt(r);
    printf(",\"private\":%s,\"pub_id\":",
           (r->flags & QUEUE_MSG_PRIVATE) ? "true" : "false");
    if (r->pub_id_len != 0)
        json_write_string(stdout, r->pub_id, r->pub_id_len);
    else
        fputs("null", stdout);
    printf(",\"retry\":%lu,\"event\":", (unsigned long)r->retry_ms);
    json_write_string(stdout, r->event, r->event_len);
    fputs(",\"data\":", stdout);
    json_write_string(stdout, r->data, r->data_len);
    fputs("}\n", stdout);
}

/* Prints r as the SSE event a stream would send; -ENOMEM on failure. */
static int tail_print_sse(struct tail *t, const struct queue_record *r)
{
    struct sse_event ev = {
        .id = r->id, .event = r->event, .event_len = r->event_len,
        .data = r->data, .data_len = r->data_len,
    };
    size_t need = sse_event_size(&ev);

    if (need > t->out_cap) {
        char *bigger = realloc(t->out, need);
        if (bigger == NULL)
            return -ENOMEM;
        t->out = bigger;
        t->out_cap = need;
    }
    fwrite(t->out, 1, sse_encode_event(t->out, &ev), stdout);
    return 0;
}

static int tail_print(struct tail *t, const struct queue_record *r)
{
    if (!tail_wants(t, r))
        return 0;
    if (t->json) {
        tail_print_json(r);
        return 0;
    }
    return tail_print_sse(t, r);
}

/* The id to start at for the last n messages of t's channels: scans
 * backwards from the newest, one index lookup a step. Damage found on the
 * way is left at the start for tail_run to report. */
static uint64_t tail_backlog_start(struct tail *t, struct queue *q,
                                   uint64_t n)
{
    uint64_t oldest, next, id;
    struct queue_record r;

    queue_bounds(q, &oldest, &next);
    for (id = next; id > oldest && n > 0; id--) {
        uint64_t cursor = id - 1;
        int rc = queue_read(q, &cursor, &r, t->buf, t->cap);

        if (rc == QUEUE_DAMAGED || rc == QUEUE_BAD_RECORD)
            return id - 1;
        if (rc < 0)
            break;
        if (tail_wants(t, &r))
            n--;
    }
    return id;
}

static int tail_on_record(void *ctx, const struct queue_record *r)
{
    return tail_print(ctx, r);
}

static int tail_on_overrun(void *ctx, uint64_t requested, uint64_t oldest)
{
    (void)ctx;
    (void)requested;
    fprintf(stderr, "sseq: overrun: skipped to id %llu\n",
            (unsigned long long)oldest);
    return 0;
}

/* Caught up: flush, then wait (--follow) or end (1). */
static int tail_on_idle(void *ctx, int *wait_ms)
{
    const struct tail *t = ctx;

    (void)wait_ms;
    fflush(stdout);
    return t->follow ? 0 : 1;
}

/* Prints records from cursor until the queue is empty (or forever with
 * --follow); a damaged record or queue ends it. CLI_OK or CLI_FAIL. */
static int tail_run(struct tail *t, struct queue *q, uint64_t cursor)
{
    struct queue_follow f = {
        .q = q, .cursor = cursor, .buf = t->buf, .cap = t->cap,
        .skip_bad = false, .stop = &tail_stop, .ctx = t,
        .on_record = tail_on_record, .on_overrun = tail_on_overrun,
        .on_idle = tail_on_idle,
    };
    int rc = queue_follow_run(&f);

    fflush(stdout);
    if (rc == -ENOMEM)
        return cli_fail("out of memory");
    if (rc == QUEUE_DAMAGED || rc == QUEUE_BAD_RECORD)
        return cli_fail("%s", queue_error());
    if (rc < 0)
        return cli_fail("read %s: %s", "queue", strerror(-rc));
    return ferror(stdout) ? CLI_FAIL : CLI_OK;
}

/* The first id to print, from --from-id / --backlog / the oldest. */
static uint64_t tail_start(struct tail *t, struct queue *q,
                           const char *from_id, const char *backlog)
{
    uint64_t oldest, next, v = 0;

    queue_bounds(q, &oldest, &next);
    if (backlog) {
        util_parse_u64(backlog, strlen(backlog), &v);
        return tail_backlog_start(t, q, v);
    }
    if (from_id == NULL)
        return oldest;
    util_parse_u64(from_id, strlen(from_id), &v);
    if (v + 1 < oldest)
        fprintf(stderr, "sseq: gap: id %llu is older than the oldest "
                "retained message %llu\n", (unsigned long long)v,
                (unsigned long long)oldest);
    return v + 1 < oldest ? oldest : v + 1;
}

/* Checks that s is a whole decimal number; prints the culprit if not. */
static int tail_check_number(const char *opt, const char *s)
{
    uint64_t v;

    if (s && util_parse_u64(s, strlen(s), &v) < 0)
        return cli_usage_error("tail", "%s wants a number, not '%s'",
                               opt, s);
    return CLI_OK;
}

int cmd_tail(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "from-id", required_argument, NULL, 'i' },
        { "backlog", required_argument, NULL, 'n' },
        { "follow", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct tail t = { 0 };
    const char *from_id = NULL, *backlog = NULL;
    struct queue *q;
    int c, rc;

    while ((c = getopt_long(argc, argv, "i:n:fjh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': from_id = optarg; break;
        case 'n': backlog = optarg; break;
        case 'f': t.follow = 1; break;
        case 'j': t.json = 1; break;
        case 'h': fputs(cmd_tail_help, stdout); return CLI_OK;
        default: return cli_usage_error("tail", "bad option");
        }
    }
    if (from_id && backlog)
        return cli_usage_error("tail", "--from-id and --backlog exclude "
                               "each other");
    if ((rc = tail_check_number("--from-id", from_id)) != CLI_OK ||
        (rc = tail_check_number("--backlog", backlog)) != CLI_OK)
        return rc;
    for (int i = optind; i < argc; i++)
        if (!config_channel_valid(&cli->cfg, argv[i], strlen(argv[i])))
            return cli_fail("bad channel name '%s' (must match %s)",
                            argv[i], cli->cfg.channel_pattern);
    t.channels = argv + optind;
    t.n_channels = argc - optind;
    if (cli_open_queue(cli, &q) < 0)
        return CLI_FAIL;
    t.cap = queue_max_payload(q) + 4096;
    t.buf = malloc(t.cap);
    if (t.buf == NULL) {
        queue_close(q);
        return cli_fail("out of memory");
    }
    signals_on_stop(tail_on_signal);
    rc = tail_run(&t, q, tail_start(&t, q, from_id, backlog));
    free(t.buf);
    free(t.out);
    queue_close(q);
    return rc;
}
