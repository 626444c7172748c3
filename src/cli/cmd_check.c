/* cmd_check.c -- `sseq check`: read the whole queue and report damage. */
#include "ac_config.h"
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static const char cmd_check_help[] =
    "usage: sseq check\n"
    "Opens the queue, checks its header and the writers' state (under the\n"
    "writers' lock, briefly) and reads every retained record. Prints\n"
    "\"ok\" and the record count and exits 0 when the queue is sound; else\n"
    "prints what is damaged and exits 1. A damaged queue is re-created\n"
    "with `sseq create --force` (its messages are lost).\n";

int cmd_check(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct queue_verify v;
    struct queue *q;
    int c, rc;

    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(cmd_check_help, stdout); return CLI_OK;
        default: return cli_usage_error("check", "bad option");
        }
    }
    if (optind < argc)
        return cli_usage_error("check", "unexpected '%s'", argv[optind]);
    if (cli_open_queue(cli, &q) < 0)
        return CLI_FAIL;
    rc = queue_verify(q, &v);
    queue_close(q);
    if (rc == QUEUE_BAD_RECORD)
        return cli_fail("%s (%llu damaged records, %llu intact)",
                        queue_error(), (unsigned long long)v.bad,
                        (unsigned long long)v.records);
    if (rc < 0)
        return cli_fail("%s", queue_error());
    printf("%s: ok, %llu records\n", cli->cfg.queue_path,
           (unsigned long long)v.records);
    return CLI_OK;
}
