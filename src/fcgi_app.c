/* fcgi_app.c -- start-up shared by sseq-stream and sseq-publish: options,
 * config, the listening socket, and telling FastCGI from plain CGI. */
#include "fcgi_app.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcgiapp.h>

#include "ac_config.h"
#include "log.h"

/* Prints the common usage text to out. */
static void fcgi_app_usage(FILE *out, const char *prog, const char *summary)
{
    fprintf(out,
        "usage: %s [-c FILE] [--listen SPEC]\n"
        "%s\n\n"
        "  -c, --config FILE   config file (default: $SSEQ_CONF, else %s)\n"
        "  -l, --listen SPEC   listen on unix:/path or HOST:PORT instead of\n"
        "                      the socket on fd 0 (spawn-fcgi, systemd)\n"
        "  -h, --help          this text\n"
        "  -V, --version       print the version\n"
        "Started without a FastCGI socket, it serves one plain CGI "
        "request.\n", prog, summary, config_path(NULL));
}

void fcgi_app_parse_args(int argc, char **argv, const char *summary,
                         struct fcgi_app_opts *opts)
{
    static const struct option longopts[] = {
        { "config",  required_argument, NULL, 'c' },
        { "listen",  required_argument, NULL, 'l' },
        { "help",    no_argument,       NULL, 'h' },
        { "version", no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(opts, 0, sizeof(*opts));
    while ((c = getopt_long(argc, argv, "c:l:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': opts->config_path = optarg; break;
        case 'l': opts->listen = optarg; break;
        case 'h': fcgi_app_usage(stdout, argv[0], summary); exit(0);
        case 'V': printf("%s %s\n", argv[0], PACKAGE_VERSION); exit(0);
        default:
            fprintf(stderr, "%s: try --help\n", argv[0]);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0],
                argv[optind]);
        exit(2);
    }
}

void fcgi_app_load_config(const char *ident, const char *path,
                          struct config *cfg)
{
    char err[512];

    log_init(ident, LOG_LEVEL_INFO);
    if (config_load(cfg, config_path(path),
                    path != NULL || getenv("SSEQ_CONF") != NULL, err,
                    sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", ident, err);
        exit(1);
    }
    log_set_level(cfg->log_level);
}

/* Whether fd 0 is a listening socket (spawn-fcgi, systemd): accept() on a
 * non-socket fails with ENOTSOCK, getsockopt tells a listening one. */
static bool fcgi_app_fd0_listens(void)
{
    int listening = 0;
    socklen_t len = sizeof(listening);

    if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
        return false;
    return listening != 0;
}

int fcgi_app_listen(const char *spec, bool *is_cgi)
{
    int fd;

    *is_cgi = false;
    if (FCGX_Init() != 0) {
        log_error("FCGX_Init failed");
        return -EIO;
    }
    if (spec == NULL) {
        *is_cgi = !fcgi_app_fd0_listens();
        return 0;
    }
    if (strncmp(spec, "unix:", 5) == 0)
        spec += 5;
    fd = FCGX_OpenSocket(spec, 1024);
    if (fd < 0) {
        int e = errno ? errno : EINVAL;
        log_error("cannot listen on '%s': %s", spec, strerror(e));
        return -e;
    }
    return fd;
}
