/* cmd_publish.c -- `sseq publish`: append one message from the shell. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cluster_redis.h"
#include "sse.h"
#include "util.h"

static const char cmd_publish_help[] =
    "usage: sseq publish [--event NAME] [--request-id KEY] CHANNEL [DATA]\n"
    "Appends a message to CHANNEL and prints its id. DATA is read from\n"
    "standard input when absent, less one final newline (so `echo hi |\n"
    "sseq publish chat` publishes \"hi\"; end with two to keep one).\n"
    "Exits 1 on a bad channel or event name,\n"
    "data over max_message_size or not UTF-8, or a missing queue. In\n"
    "cluster mode (cluster.redis) the message goes to Redis, and exits 1\n"
    "when Redis cannot take it.\n"
    "  -e, --event NAME  the SSE event type (default: none, i.e. message)\n"
    "  -r, --request-id KEY  cluster mode: a retry with the same KEY (within\n"
    "                    a day) prints the first id and publishes nothing\n";

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

/* Checks channel, event and data against the config; prints the culprit. */
static int cmd_publish_validate(const struct cli *cli,
                                const struct queue_msg *m)
{
    if (!config_channel_valid(&cli->cfg, m->channel, m->channel_len))
        return cli_fail("bad channel name '%.*s' (must match %s)",
                        (int)m->channel_len, m->channel,
                        cli->cfg.channel_pattern);
    if (m->event_len && sse_validate_field(m->event, m->event_len) < 0)
        return cli_fail("bad event name '%.*s' (1-%d bytes of UTF-8, no "
                        "CR, LF or NUL)", (int)m->event_len, m->event,
                        SSE_EVENT_MAX);
    if (m->data_len > cli->cfg.max_message_size)
        return cli_fail("data is %zu bytes, over max_message_size %zu",
                        m->data_len, cli->cfg.max_message_size);
    if (!util_utf8_valid(m->data, m->data_len))
        return cli_fail("data is not valid UTF-8");
    return CLI_OK;
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

int cmd_publish(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "event", required_argument, NULL, 'e' },
        { "request-id", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct queue_msg m = { 0 };
    char *input = NULL;
    const char *request_id = NULL;
    int c, rc;

    while ((c = getopt_long(argc, argv, "+e:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': m.event = optarg; m.event_len = strlen(optarg); break;
        case 'r': request_id = optarg; break;
        case 'h': fputs(cmd_publish_help, stdout); return CLI_OK;
        default: return cli_usage_error("publish", "bad option");
        }
    }
    if (optind >= argc || argc - optind > 2)
        return cli_usage_error("publish", "need CHANNEL [DATA]");
    m.channel = argv[optind];
    m.channel_len = strlen(m.channel);
    if (optind + 1 < argc) {
        m.data = argv[optind + 1];
        m.data_len = strlen(m.data);
    } else {
        if (cmd_publish_read_stdin(cli->cfg.max_message_size, &input,
                                   &m.data_len) < 0)
            return cli_fail("cannot read data from standard input");
        m.data = input;
    }
    rc = cmd_publish_append(cli, &m, request_id);
    free(input);
    return rc;
}
