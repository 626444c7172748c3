/* fcgi_app.c -- start-up shared by sseq-stream and sseq-publish: options,
 * config, the listening socket (inherited, --listen, systemd, fd 0), and
 * telling FastCGI from plain CGI. */
#include "runtime/fcgi_app.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "ac_config.h"
#include "runtime/conf_load.h"
#include "runtime/fcgi_master.h"
#include "base/log.h"
#include "base/util.h"

#define FCGI_APP_PARAMS_MAX (64 * 1024)  /* bytes of a request's params */

/* The program's name without its directory. */
static const char *fcgi_app_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');

    return slash ? slash + 1 : argv0;
}

/* Prints the common usage text to out. */
static void fcgi_app_usage(FILE *out, const char *prog, const char *summary)
{
    fprintf(out,
        "usage: %s [-c FILE] [--listen SPEC] [--processes N]\n"
        "%s\n\n"
        "  -c, --config FILE   config file (default: $SSEQ_CONF, else %s)\n"
        "  -l, --listen SPEC   listen on unix:/path or HOST:PORT instead of\n"
        "                      the socket on fd 0 (spawn-fcgi, systemd)\n"
        "      --socket-mode M mode of a --listen unix: socket (0660)\n"
        "  -p, --processes N   worker processes (default: the config's)\n"
        "  -t, --test          check the config and exit\n"
        "  -h, --help          this text\n"
        "  -V, --version       print the version\n"
        "Started without a FastCGI socket, it serves one plain CGI "
        "request.\nSignals: TERM stops (streams end over fastcgi.drain), "
        "HUP reloads the live\nsettings, USR2 restarts with no "
        "downtime (and runs a new binary), USR1\nreopens the log.\n",
        prog, summary, config_path(NULL));
}

/* Parses a number option or exits 2 naming it. */
static unsigned fcgi_app_number(const char *prog, const char *opt,
                                const char *val, int base, unsigned max)
{
    char *end;
    unsigned long v = strtoul(val, &end, base);

    if (*val == '\0' || *end != '\0' || v == 0 || v > max) {
        fprintf(stderr, "%s: %s '%s': must be %s 1 to %u\n", prog, opt, val,
                base == 8 ? "an octal mode" : "a number", max);
        exit(2);
    }
    return (unsigned)v;
}

void fcgi_app_parse_args(int argc, char **argv, const char *summary,
                         struct fcgi_app_opts *opts)
{
    static const struct option longopts[] = {
        { "config",      required_argument, NULL, 'c' },
        { "listen",      required_argument, NULL, 'l' },
        { "processes",   required_argument, NULL, 'p' },
        { "socket-mode", required_argument, NULL, 'm' },
        { "test",        no_argument,       NULL, 't' },
        { "help",        no_argument,       NULL, 'h' },
        { "version",     no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *prog = fcgi_app_name(argv[0]);
    int c;

    memset(opts, 0, sizeof(*opts));
    opts->socket_mode = 0660;
    opts->argv = argv;
    while ((c = getopt_long(argc, argv, "c:l:p:thV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': opts->config_path = optarg; break;
        case 'l': opts->listen = optarg; break;
        case 'p':
            opts->processes = fcgi_app_number(prog, "--processes", optarg,
                                              10, 256);
            break;
        case 'm':
            opts->socket_mode = fcgi_app_number(prog, "--socket-mode",
                                                optarg, 8, 0777);
            break;
        case 't': opts->test = true; break;
        case 'h': fcgi_app_usage(stdout, prog, summary); exit(0);
        case 'V': printf("%s %s\n", prog, PACKAGE_VERSION); exit(0);
        default:
            fprintf(stderr, "%s: try --help\n", prog);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
                argv[optind]);
        exit(2);
    }
}

void fcgi_app_load_config(const char *ident,
                          const struct fcgi_app_opts *opts,
                          struct config *cfg)
{
    const char *path = opts->config_path;

    log_init(ident, LOG_LEVEL_INFO);
    conf_load_or_exit(ident, path, false, cfg);
    log_set_level(cfg->log_level);
    if (opts->test) {
        printf("%s: config %s ok\n", ident, config_path(path));
        config_free(cfg);
        exit(0);
    }
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

/* The descriptor a restarting master passed, or -1. */
static int fcgi_app_inherited(void)
{
    const char *v = getenv(FCGI_MASTER_ENV_FD);
    char *end;
    long fd;

    if (v == NULL)
        return -1;
    fd = strtol(v, &end, 10);
    if (*end != '\0' || fd < 0 || fd > 65535)
        return -1;
    return (int)fd;
}

/* systemd's socket activation protocol: LISTEN_PID is us, LISTEN_FDS >= 1
 * (the socket is fd 3). */
static int fcgi_app_systemd_fd(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

    if (pid == NULL || fds == NULL || atol(pid) != (long)getpid() ||
        atoi(fds) < 1)
        return -1;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return 3;
}

/* Whether a process accepts on the unix socket at path: a connect that
 * succeeds, or finds the backlog full (EAGAIN), says so. */
static bool fcgi_app_unix_live(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd, rc;

    if (strlen(path) >= sizeof sa.sun_path)
        return false;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    rc = rc == 0 || errno == EAGAIN;
    close(fd);
    return rc;
}

/* Checks that a --listen unix socket may take path: libfcgi unlinks
 * whatever is there before it binds, which would take a live socket
 * from the process serving it (whose exit then removed the new one) or
 * delete a file. 0 when the path is free or a dead socket; -EADDRINUSE
 * or -EEXIST (logged, with what to do) otherwise. */
static int fcgi_app_unix_free(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        log_error("--listen unix:%s: the path exists and is not a socket: "
                  "remove it or choose another path", path);
        return -EEXIST;
    }
    if (fcgi_app_unix_live(path)) {
        log_error("--listen unix:%s: another process already listens on "
                  "it: stop that one first (sseq-spawn stop, or its pid), "
                  "or choose another path", path);
        return -EADDRINUSE;
    }
    return 0;
}

/* Opens the --listen socket. A unix socket gets the mode and its path in
 * *created; a bare word (no '/', no ':') is refused: it would make a
 * socket file in the current directory by mistake. */
static int fcgi_app_open(const struct fcgi_app_opts *o, const char **created)
{
    const char *spec = o->listen;
    bool is_unix = strncmp(spec, "unix:", 5) == 0 || spec[0] == '/';
    int fd, rc;

    if (strncmp(spec, "unix:", 5) == 0)
        spec += 5;
    if (!is_unix && strchr(spec, ':') == NULL) {
        log_error("--listen '%s': not a socket: use unix:/path/to.sock, "
                  "HOST:PORT or :PORT", o->listen);
        return -EINVAL;
    }
    if (is_unix && spec[0] != '/') {
        log_error("--listen '%s': a unix socket needs an absolute path "
                  "(unix:/run/sseq/stream.sock)", o->listen);
        return -EINVAL;
    }
    if (is_unix && (rc = fcgi_app_unix_free(spec)) < 0)
        return rc;
    fd = FCGX_OpenSocket(spec, 4096);
    if (fd < 0) {
        int e = errno ? errno : EINVAL;
        log_error("cannot listen on '%s': %s", spec, strerror(e));
        return -e;
    }
    rc = util_fd_cloexec(fd, true);
    if (rc < 0) {
        log_error("fcntl FD_CLOEXEC on '%s' (fd %d): %s", spec, fd,
                  strerror(-rc));
        close(fd);
        return rc;
    }
    if (is_unix) {
        if (chmod(spec, o->socket_mode) < 0)
            log_warn("chmod %s %o: %s", spec, o->socket_mode,
                     strerror(errno));
        *created = spec;
    }
    return fd;
}

int fcgi_app_listen(const struct fcgi_app_opts *opts, bool *is_cgi,
                    const char **created)
{
    int fd;

    *is_cgi = false;
    *created = NULL;
    if (FCGX_Init() != 0) {
        log_error("FCGX_Init failed");
        return -EIO;
    }
    fd = fcgi_app_inherited();
    if (fd >= 0)
        return fd;
    if (opts->listen != NULL)
        return fcgi_app_open(opts, created);
    fd = fcgi_app_systemd_fd();
    if (fd >= 0)
        return fd;
    *is_cgi = !fcgi_app_fd0_listens();
    return 0;
}

void fcgi_app_limits(const struct config *cfg, size_t body_drain_max,
                     struct fcgi_server_limits *lim)
{
    lim->read_timeout_ms = cfg->read_timeout_ms;
    lim->max_pending = cfg->max_pending;
    lim->params_max = FCGI_APP_PARAMS_MAX;
    lim->body_drain_max = body_drain_max;
}

/* SIGUSR1: reopen the log. */
static void fcgi_app_on_usr1(int sig)
{
    (void)sig;
    log_reopen();
}

void fcgi_app_worker_signals(void)
{
    struct sigaction sa = { .sa_handler = fcgi_app_on_usr1 };

    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);      /* no SA_RESTART: EINTR pokes */
    signal(SIGPIPE, SIG_IGN);
}
