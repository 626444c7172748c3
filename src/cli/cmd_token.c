/* cmd_token.c -- `sseq token`: print a new random publish token. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "cli/cli.h"
#include "conf/config_token.h"

#define CMD_TOKEN_BYTES 32      /* 256 bits from the kernel's CSPRNG */

static const char cmd_token_help[] =
    "usage: sseq token\n"
    "Prints a new random bearer token (32 bytes from getrandom(2), as 64\n"
    "hex digits) for publish.tokens in sseq.conf:\n"
    "  publish: { tokens = ( { token = \"<it>\"; channels = [ \"*\" ]; } );"
    " };\n"
    "Then restart sseq-publish (or send it SIGHUP) to use it.\n";

/* Fills buf with n random bytes; -errno if the kernel cannot. */
static int cmd_token_random(unsigned char *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        got += (size_t)r;
    }
    return 0;
}

int cmd_token(struct cli *cli, int argc, char **argv)
{
    unsigned char raw[CMD_TOKEN_BYTES];
    char hex[2 * CMD_TOKEN_BYTES + 1];
    int rc;

    (void)cli;
    if (cli_wants_help(argc, argv)) {
        fputs(cmd_token_help, stdout);
        return CLI_OK;
    }
    if (argc > 1)
        return cli_usage_error("token", "unexpected '%s'", argv[1]);
    rc = cmd_token_random(raw, sizeof raw);
    if (rc < 0)
        return cli_fail("getrandom: %s", strerror(-rc));
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    explicit_bzero(raw, sizeof raw);
    puts(hex);
    return config_token_check(hex) == NULL ? CLI_OK :
           cli_fail("generated token refused by config_token_check");
}
