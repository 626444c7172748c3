/* fcgi_app.h -- what sseq-stream and sseq-publish share at start-up:
 * options, config, the listening socket, and telling FastCGI from CGI. */
#ifndef SSEQ_FCGI_APP_H
#define SSEQ_FCGI_APP_H

#include <stdbool.h>
#include "config.h"

struct fcgi_app_opts {
    const char *config_path;    /* -c FILE, or NULL */
    const char *listen;         /* --listen SPEC, or NULL (socket on fd 0) */
};

/* Parses -c FILE, --listen SPEC, -h/--help, -V/--version. Prints usage
 * and exits 0 on --help, prints "prog: reason" and exits 2 on a bad
 * option. extra_help is printed after the common options. */
void fcgi_app_parse_args(int argc, char **argv, const char *summary,
                         struct fcgi_app_opts *opts);

/* log_init(ident), loads the config (path per config_path) over the
 * defaults, applies its log level. On a bad config prints
 * "ident: FILE:LINE: setting: reason" and exits 1. */
void fcgi_app_load_config(const char *ident, const char *path,
                          struct config *cfg);

/* Calls FCGX_Init and returns the listening descriptor: the socket opened
 * for spec ("unix:/path", "/path", "127.0.0.1:9000", ":9000") or 0 (the
 * FastCGI convention: spawn-fcgi and systemd's StandardInput=socket put it
 * there). Sets *is_cgi when there is no spec and fd 0 is not a listening
 * socket, i.e. the program was started as a plain CGI. -errno on failure
 * (logged with the spec). */
int fcgi_app_listen(const char *spec, bool *is_cgi);

#endif
