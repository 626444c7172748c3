/* cmd_create.c -- `sseq create`: make the queue the config describes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const char cmd_create_help[] =
    "usage: sseq create [--size BYTES] [--force]\n"
    "Creates the queue named by the config's queue.path (a POSIX shared\n"
    "memory name like /sseq, or a file path) with queue.size bytes and\n"
    "queue.mode. Refuses to replace an existing queue unless --force.\n"
    "  --size BYTES  size instead of queue.size (K, M, G suffixes)\n"
    "  --force       replace an existing queue (its messages are lost)\n";

int cmd_create(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "size", required_argument, NULL, 's' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct queue_params p = {
        .size = cli->cfg.queue_size,
        .mode = cli->cfg.queue_mode,
        .max_age = cli->cfg.max_age,
    };
    struct queue_stats st;
    struct queue *q;
    int force = 0, c, rc;

    while ((c = getopt_long(argc, argv, "+s:fh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (util_parse_size(optarg, &p.size) < 0)
                return cli_usage_error("create", "bad size '%s'", optarg);
            break;
        case 'f': force = 1; break;
        case 'h': fputs(cmd_create_help, stdout); return CLI_OK;
        default: return cli_usage_error("create", "bad option");
        }
    }
    if (optind < argc)
        return cli_usage_error("create", "unexpected '%s'", argv[optind]);
    rc = queue_create(cli->cfg.queue_path, &p, force, &q);
    if (rc == -EEXIST)
        return cli_fail("%s: exists; use --force to replace it",
                        cli->cfg.queue_path);
    if (rc < 0)
        return cli_fail("%s", queue_error());
    queue_get_stats(q, &st);
    printf("created %s: %llu bytes, first id %llu\n", cli->cfg.queue_path,
           (unsigned long long)st.file_size,
           (unsigned long long)st.next_id);
    queue_close(q);
    return CLI_OK;
}
