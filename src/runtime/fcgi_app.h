/* fcgi_app.h -- what sseq-stream and sseq-publish share at start-up:
 * options, config, the listening socket, and telling FastCGI from CGI. */
#ifndef SSEQ_FCGI_APP_H
#define SSEQ_FCGI_APP_H

#include <stdbool.h>
#include "conf/config.h"
#include "runtime/fcgi_server.h"

struct fcgi_app_opts {
    const char *config_path;    /* -c FILE, or NULL */
    const char *listen;         /* --listen SPEC, or NULL (socket on fd 0) */
    unsigned processes;         /* --processes N, 0 = the config's */
    unsigned socket_mode;       /* --socket-mode, for --listen unix: */
    bool test;                  /* -t: check the config, then exit */
    char **argv;                /* the command line (restart re-runs it) */
};

/* Parses -c FILE, -l/--listen SPEC, -p/--processes N, --socket-mode
 * MODE, -t/--test, -h/--help, -V/--version. Prints usage (summary first)
 * and exits 0 on --help, prints "prog: reason" and exits 2 on a bad
 * option. */
void fcgi_app_parse_args(int argc, char **argv, const char *summary,
                         struct fcgi_app_opts *opts);

/* log_init(ident), loads the config (-c, per config_path) over the
 * defaults, applies its log level. On a bad config prints
 * "ident: FILE:LINE: setting: reason" and exits 1; with -t, prints
 * "ident: config FILE ok" and exits 0. */
void fcgi_app_load_config(const char *ident,
                          const struct fcgi_app_opts *opts,
                          struct config *cfg);

/* Returns the listening descriptor, in this order: the one a restarting
 * master passed (SSEQ_MASTER_FD), the socket opened for --listen
 * ("unix:/path", "/path", "127.0.0.1:9000", ":9000"; a unix socket gets
 * --socket-mode and its path in *created), systemd's LISTEN_FDS (fd 3), or
 * fd 0 (spawn-fcgi, systemd's StandardInput=socket). Sets *is_cgi when
 * none applies and fd 0 is not a listening socket (a plain CGI start).
 * -errno on failure, logged with the reason and what to do. */
int fcgi_app_listen(const struct fcgi_app_opts *opts, bool *is_cgi,
                    const char **created);

/* The runtime's limits from cfg (fastcgi.read_timeout, max_pending), with
 * 64 KiB of params and body_drain_max bytes of body read at most. */
void fcgi_app_limits(const struct config *cfg, size_t body_drain_max,
                     struct fcgi_server_limits *lim);

/* In a worker: SIGUSR1 reopens the log (logrotate), SIGPIPE ignored. */
void fcgi_app_worker_signals(void);

#endif
