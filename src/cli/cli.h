/* cli.h -- the `sseq` command-line tool: what every command shares. Each
 * command lives in its own cmd_<name>.c and has one row in sseq_main.c. */
#ifndef SSEQ_CLI_H
#define SSEQ_CLI_H

#include <stdbool.h>
#include "conf/config.h"
#include "queue/queue.h"

struct cli {
    const char *config_file;    /* -c FILE, or NULL */
    struct config cfg;          /* loaded before the command runs */
};

/* Exit statuses of every command. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2,
       CLI_TEMPFAIL = 75 };     /* sysexits' EX_TEMPFAIL: try again later
                                   (`sseq publish` under backpressure) */

/* Prints "sseq: <message>\n" to stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "sseq CMD: <message>; try 'sseq CMD --help'"; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Opens the configured queue; on failure prints why (naming the path and
 * suggesting `sseq create` when it is missing) and returns -errno. */
int cli_open_queue(struct cli *cli, struct queue **q);

/* Whether argv[i] is -h or --help. */
bool cli_wants_help(int argc, char **argv);

int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_publish(struct cli *cli, int argc, char **argv);
int cmd_tail(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_check_config(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_token(struct cli *cli, int argc, char **argv);

#endif
