/* cmd_check_config.c -- `sseq check-config`: the config was loaded (and
 * validated) before any command runs; this prints what is in effect. */
#include <stdio.h>

#include "cli.h"

static const char cmd_check_config_help[] =
    "usage: sseq check-config\n"
    "Validates the config file and prints every effective setting (tokens\n"
    "masked). A bad value exits 1 with FILE:LINE: setting: reason.\n";

int cmd_check_config(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(cmd_check_config_help, stdout);
        return CLI_OK;
    }
    if (argc > 1)
        return cli_usage_error("check-config", "unexpected '%s'", argv[1]);
    if (cli->cfg.file)
        printf("# %s: ok\n", cli->cfg.file);
    else
        printf("# no config file at %s: built-in defaults\n",
               config_path(cli->config_file));
    config_print(&cli->cfg, stdout);
    return CLI_OK;
}
