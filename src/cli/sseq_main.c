/* sseq_main.c -- `sseq`, the command-line tool for the shared-memory
 * queue: a table of commands, global options, and what they share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ac_config.h"
#include "base/log.h"
#include "runtime/conf_load.h"

struct cli_command {
    const char *name;
    int (*run)(struct cli *cli, int argc, char **argv);
    const char *summary;
    bool no_config;     /* runs without loading the config (token: a
                           config with a refused token must not stop it) */
};

static const struct cli_command cli_commands[] = {
    { "create", cmd_create, "create the queue from the config", false },
    { "publish", cmd_publish, "append a message to a channel", false },
    { "tail", cmd_tail, "print messages as SSE or JSON", false },
    { "stats", cmd_stats, "show queue and process counters", false },
    { "check-config", cmd_check_config, "validate and print the config",
      false },
    { "check", cmd_check, "read the queue and report damage", false },
    { "token", cmd_token, "print a new random publish token", true },
};
#define CLI_NCOMMANDS (sizeof(cli_commands) / sizeof(cli_commands[0]))

int cli_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("sseq: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sseq %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; try 'sseq %s --help'\n", cmd);
    return CLI_USAGE;
}

int cli_open_queue(struct cli *cli, struct queue **q)
{
    int rc = queue_open(cli->cfg.queue_path, q);

    if (rc == -ENOENT)
        cli_fail("%s; create it with 'sseq create'", queue_error());
    else if (rc < 0)
        cli_fail("%s", queue_error());
    return rc;
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

/* Prints the global usage and the command table to out. */
static void cli_usage(FILE *out)
{
    fprintf(out, "usage: sseq [-c FILE] COMMAND [ARGS]\n"
                 "The command-line tool for sseq's shared-memory queue.\n\n"
                 "  -c FILE   config file (default: $SSEQ_CONF, else %s)\n\n"
                 "commands:\n", config_path(NULL));
    for (size_t i = 0; i < CLI_NCOMMANDS; i++)
        fprintf(out, "  %-13s %s\n", cli_commands[i].name,
                cli_commands[i].summary);
    fputs("\n'sseq COMMAND --help' tells more.\n", out);
}

static const struct cli_command *cli_find(const char *name)
{
    for (size_t i = 0; i < CLI_NCOMMANDS; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

/* Loads the config into cli->cfg; exits 1 with FILE:LINE on error. */
static void cli_load_config(struct cli *cli)
{
    log_init("sseq", LOG_LEVEL_WARN);
    conf_load_or_exit("sseq", cli->config_file, false, &cli->cfg);
}

int main(int argc, char **argv)
{
    struct cli cli = { 0 };
    const struct cli_command *cmd;
    int i = 1, rc;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            cli.config_file = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            cli_usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "-V") == 0 ||
                   strcmp(argv[i], "--version") == 0) {
            printf("sseq %s\n", PACKAGE_VERSION);
            return CLI_OK;
        } else {
            fprintf(stderr, "sseq: unknown option '%s'\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        cli_usage(stderr);
        return CLI_USAGE;
    }
    cmd = cli_find(argv[i]);
    if (cmd == NULL) {
        fprintf(stderr, "sseq: unknown command '%s'; try 'sseq --help'\n",
                argv[i]);
        return CLI_USAGE;
    }
    if (!cmd->no_config)
        cli_load_config(&cli);
    else
        config_defaults(&cli.cfg);
    rc = cmd->run(&cli, argc - i, argv + i);
    config_free(&cli.cfg);
    return rc;
}
