/* cmd_create.c -- `sseq create`: make the queue the config describes. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const char cmd_create_help[] =
    "usage: sseq create [--size BYTES] [--force [--while-running]]\n"
    "Creates the queue named by the config's queue.path (a POSIX shared\n"
    "memory name like /sseq, or a file path) with queue.size bytes and\n"
    "queue.mode. Refuses to replace an existing queue unless --force, and\n"
    "refuses --force while sseq-stream or sseq-publish processes use the\n"
    "queue (they would keep the old one: stop them first).\n"
    "  --size BYTES      size instead of queue.size (K, M, G suffixes)\n"
    "  --force           replace an existing queue (its messages are lost)\n"
    "  --while-running   with --force: replace it even while processes use\n"
    "                    it (they must be restarted to see the new one)\n";

/* Whether live processes use the queue at path; prints them and the safe
 * way to replace it. An unreadable queue (not one, another layout) has no
 * process table to ask: false. */
static bool cmd_create_in_use(const char *path)
{
    struct queue_proc_info procs[QUEUE_PROC_SLOTS];
    struct queue *q;
    int n;

    if (queue_open(path, &q) < 0)
        return false;
    n = queue_proc_list(q, procs, QUEUE_PROC_SLOTS);
    queue_close(q);
    if (n <= 0)
        return false;
    cli_fail("%s is in use by %d process%s: replacing it now would leave "
             "them on the old queue, and what is published to the new one "
             "would reach no one", path, n, n == 1 ? "" : "es");
    for (int i = 0; i < n; i++)
        fprintf(stderr, "  pid %d (%s)\n", (int)procs[i].pid, procs[i].role);
    fputs("Stop them first (sseq-spawn: kill -TERM $(cat /run/sseq/ROLE.pid);"
          "\nsystemd: systemctl stop sseq-stream sseq-publish), run "
          "`sseq create --force`,\nthen start them again; or add "
          "--while-running and restart them after.\n", stderr);
    return true;
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "size", required_argument, NULL, 's' },
        { "force", no_argument, NULL, 'f' },
        { "while-running", no_argument, NULL, 'w' },
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
    int force = 0, running = 0, c, rc;

    while ((c = getopt_long(argc, argv, "+s:fwh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (util_parse_size(optarg, &p.size) < 0)
                return cli_usage_error("create", "bad size '%s'", optarg);
            break;
        case 'f': force = 1; break;
        case 'w': running = 1; break;
        case 'h': fputs(cmd_create_help, stdout); return CLI_OK;
        default: return cli_usage_error("create", "bad option");
        }
    }
    if (optind < argc)
        return cli_usage_error("create", "unexpected '%s'", argv[optind]);
    if (running && !force)
        return cli_usage_error("create", "--while-running needs --force");
    if (force && !running && cmd_create_in_use(cli->cfg.queue_path))
        return CLI_FAIL;
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
