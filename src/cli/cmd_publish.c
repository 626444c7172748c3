/* cmd_publish.c -- `sseq publish`: append one message from the shell. */
#include "ac_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/cluster_redis.h"
#include "publish/publish_lag.h"
#include "queue/queue_msg.h"
#include "base/util.h"

static const char cmd_publish_help[] =
    "usage: sseq publish [--event NAME] [--request-id KEY] [--private]\n"
    "                    [--topic TOPIC]... [--id ID] [--retry MS]\n"
    "                    CHANNEL [DATA]\n"
    "Appends a message to CHANNEL and prints its id. CHANNEL (and each\n"
    "--topic) is a channel name (channel_pattern) or a Mercure topic: an\n"
    "IRI (with a ':'), up to mercure.topic_max bytes, no spaces or\n"
    "control characters. DATA is read from\n"
    "standard input when absent, less one final newline (so `echo hi |\n"
    "sseq publish chat` publishes \"hi\"; end with two to keep one).\n"
    "Exits 1 on a bad channel or event name,\n"
    "data over max_message_size or not UTF-8, or a missing queue. In\n"
    "cluster mode (cluster.redis) the message goes to Redis, and exits 1\n"
    "when Redis cannot take it. Exits 75 and publishes nothing while the\n"
    "subscribers' fan-out is more than publish.max_lag_ms behind.\n"
    "  -e, --event NAME  the SSE event type (default: none, i.e. message)\n"
    "  -r, --request-id KEY  cluster mode: a retry with the same KEY (within\n"
    "                    a day) prints the first id and publishes nothing\n"
    "  -p, --private     a Mercure private update: only subscribers whose\n"
    "                    token's mercure.subscribe matches a topic get it\n"
    "  -t, --topic TOPIC an alternate topic (repeatable, up to 32)\n"
    "  -i, --id ID       the update's id as subscribers see it (Mercure\n"
    "                    publisher id; 1-128 bytes, no CR, LF or NUL, not\n"
    "                    starting with '#', not all digits, not earliest)\n"
    "  -R, --retry MS    the SSE retry: field sent with the update\n";

#define CMD_PUBLISH_ALT_MAX QUEUE_TOPICS_MAX

/* The message being built from the command line. */
struct cmd_publish_args {
    struct queue_msg m;
    const char *alt[CMD_PUBLISH_ALT_MAX];
    size_t alt_len[CMD_PUBLISH_ALT_MAX];
    const char *request_id;
};

/* Whether t[0..len) is a Mercure topic the CLI takes: an IRI (a ':'),
 * 1..topic_max bytes of UTF-8, no spaces or control characters. */
static bool cmd_publish_iri(const struct config *cfg, const char *t,
                            size_t len)
{
    size_t i;

    if (len == 0 || len > cfg->mercure_topic_max || len > QUEUE_TOPIC_MAX ||
        memchr(t, ':', len) == NULL || !util_utf8_valid(t, len))
        return false;
    for (i = 0; i < len; i++)
        if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f)
            return false;
    return true;
}

/* Whether t[0..len) may be a topic (canonical or alternate). */
static bool cmd_publish_topic_ok(const struct config *cfg, const char *t,
                                 size_t len)
{
    return config_channel_valid(cfg, t, len) ||
           cmd_publish_iri(cfg, t, len);
}

/* Reads all of stdin, up to limit+2 bytes, into a malloc'd *out, and
 * drops one final "\n" (or "\r\n"), as echo and here-documents add one. */
static int cmd_publish_read_stdin(size_t limit, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);

    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, stdin);

        n += got;
        if (n > limit + 2 || got == 0)
            break;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                break;
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf == NULL || ferror(stdin)) {
        free(buf);
        return -EIO;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n -= 1 + (n > 1 && buf[n - 2] == '\r');
    *out = buf;
    *len = n;
    return 0;
}

/* Checks the topics against the config, the data's size, then the
 * queue's rule for a message (queue_msg.h); prints the culprit. */
static int cmd_publish_validate(const struct cli *cli,
                                const struct queue_msg *m)
{
    struct queue_msg_fault f;
    char why[400];
    size_t i;

    if (!cmd_publish_topic_ok(&cli->cfg, m->channel, m->channel_len))
        return cli_fail("bad channel name '%.*s' (must match %s, or be a "
                        "Mercure topic)", (int)m->channel_len, m->channel,
                        cli->cfg.channel_pattern);
    for (i = 0; i < m->n_alt; i++)
        if (!cmd_publish_topic_ok(&cli->cfg, m->alt[i], m->alt_len[i]))
            return cli_fail("bad topic '%.*s' (a channel name or a Mercure "
                            "topic)", (int)m->alt_len[i], m->alt[i]);
    if (m->data_len > cli->cfg.max_message_size)
        return cli_fail("data is %zu bytes, over max_message_size %zu",
                        m->data_len, cli->cfg.max_message_size);
    if (queue_msg_check(m, &f) < 0)
        return cli_fail("%s", queue_msg_describe(m, &f, why, sizeof(why)));
    return CLI_OK;
}

/* Backpressure (publish_lag.h), as sseq-publish takes it: CLI_OK, or
 * CLI_TEMPFAIL with one line naming the lag and the setting. */
static int cmd_publish_lag(const struct cli *cli, const struct queue *q)
{
    unsigned max_ms = cli->cfg.max_lag_ms;
    struct publish_lag_dec d = publish_lag_check(q, (uint64_t)max_ms * 1000);

    if (!d.refuse)
        return CLI_OK;
    fprintf(stderr, "sseq: subscribers are behind: the slowest fan-out "
            "(sseq-stream pid %d) is %llu ms behind, over "
            "publish.max_lag_ms %u; nothing published, retry after %u s\n",
            (int)d.pid, (unsigned long long)(d.lag_us / 1000), max_ms,
            d.retry_after_s);
    return CLI_TEMPFAIL;
}

/* Validates and appends m; prints the id. */
static int cmd_publish_append(struct cli *cli, const struct queue_msg *m,
                              const char *request_id)
{
    struct queue *q;
    uint64_t id;
    int rc = cmd_publish_validate(cli, m);

    if (rc != CLI_OK)
        return rc;
    if (cli_open_queue(cli, &q) < 0)
        return CLI_FAIL;
    if ((rc = cmd_publish_lag(cli, q)) != CLI_OK) {
        queue_close(q);
        return rc;
    }
    if (cluster_enabled(&cli->cfg))
        rc = cluster_publish(&cli->cfg, q, m, request_id, &id);
    else
        rc = queue_append(q, m, &id);
    queue_close(q);
    if (rc < 0 && cluster_enabled(&cli->cfg))
        return cli_fail("publish through redis: %s", cluster_error());
    if (rc == -EMSGSIZE)
        return cli_fail("message too large for queue %s",
                        cli->cfg.queue_path);
    if (rc == QUEUE_DAMAGED || rc == -ETIMEDOUT)
        return cli_fail("%s", queue_error());
    if (rc < 0)
        return cli_fail("append to %s: %s", cli->cfg.queue_path,
                        strerror(-rc));
    printf("%llu\n", (unsigned long long)id);
    return CLI_OK;
}

/* Reads one option into a. CLI_OK, or a usage error. */
static int cmd_publish_opt(struct cmd_publish_args *a, int c,
                           const char *arg)
{
    struct queue_msg *m = &a->m;
    uint64_t v;

    switch (c) {
    case 'e': m->event = arg; m->event_len = strlen(arg); break;
    case 'r': a->request_id = arg; break;
    case 'p': m->flags |= QUEUE_MSG_PRIVATE; break;
    case 'i': m->pub_id = arg; m->pub_id_len = strlen(arg); break;
    case 't':
        if (m->n_alt == CMD_PUBLISH_ALT_MAX)
            return cli_usage_error("publish", "at most %u --topic",
                                   CMD_PUBLISH_ALT_MAX);
        a->alt[m->n_alt] = arg;
        a->alt_len[m->n_alt++] = strlen(arg);
        break;
    case 'R':
        if (util_parse_u64(arg, strlen(arg), &v) < 0 || v == 0 ||
            v > UINT32_MAX)
            return cli_usage_error("publish", "bad --retry '%s'", arg);
        m->retry_ms = (uint32_t)v;
        break;
    default:
        return cli_usage_error("publish", "bad option");
    }
    return CLI_OK;
}

int cmd_publish(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "event", required_argument, NULL, 'e' },
        { "request-id", required_argument, NULL, 'r' },
        { "private", no_argument, NULL, 'p' },
        { "topic", required_argument, NULL, 't' },
        { "id", required_argument, NULL, 'i' },
        { "retry", required_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static struct cmd_publish_args a;
    struct queue_msg *m = &a.m;
    char *input = NULL;
    int c, rc;

    memset(&a, 0, sizeof(a));
    m->alt = a.alt;
    m->alt_len = a.alt_len;
    while ((c = getopt_long(argc, argv, "+e:r:pt:i:R:h", opts,
                            NULL)) != -1) {
        if (c == 'h') {
            fputs(cmd_publish_help, stdout);
            return CLI_OK;
        }
        rc = cmd_publish_opt(&a, c, optarg);
        if (rc != CLI_OK)
            return rc;
    }
    if (optind >= argc || argc - optind > 2)
        return cli_usage_error("publish", "need CHANNEL [DATA]");
    m->channel = argv[optind];
    m->channel_len = strlen(m->channel);
    if (optind + 1 < argc) {
        m->data = argv[optind + 1];
        m->data_len = strlen(m->data);
    } else {
        if (cmd_publish_read_stdin(cli->cfg.max_message_size, &input,
                                   &m->data_len) < 0)
            return cli_fail("cannot read data from standard input");
        m->data = input;
    }
    rc = cmd_publish_append(cli, m, a.request_id);
    free(input);
    return rc;
}
