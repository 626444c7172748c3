/* publish_main.c -- sseq-publish: the HTTP publish handler.
 *
 * FastCGI: the master (fcgi_master.c) holds the socket and runs the
 * workers; each worker is one thread running the runtime (fcgi_server.c),
 * which reads every request whole (params and body, under
 * fastcgi.read_timeout) and calls publish_req_handle (publish_req.c).
 * Connections kept by nginx (fastcgi_keep_conn on) serve request after
 * request and cost no thread while idle.
 * Plain CGI (no FastCGI socket): one request from the environment and
 * stdin, each read bounded by PUBLISH_CGI_TIMEOUT_S. */
#include "ac_config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "runtime/conf_load.h"
#include "runtime/fcgi_app.h"
#include "runtime/fcgi_master.h"
#include "runtime/fcgi_server.h"
#include "runtime/signals.h"
#include "base/log.h"
#include "publish/publish_req.h"
#include "queue/queue_access.h"

#define PUBLISH_CGI_TIMEOUT_S 5         /* CGI stdin inactivity timeout */
#define PUBLISH_DRAIN_MAX     (16u << 20)   /* body read before a 413 */

static struct fcgi_app_opts publish_opts;
static struct publish_app publish;
static struct fcgi_server *publish_srv;

/* ---- FastCGI ---- */

static const char *publish_fcgi_param(void *ctx, const char *name)
{
    return fcgi_request_param(ctx, name);
}

static size_t publish_on_params(struct fcgi_request *r, void *ctx)
{
    return publish_req_body_limit(&publish,
                                  fcgi_request_param(r, "CONTENT_TYPE"));
}

static void publish_on_request(struct fcgi_request *r, void *ctx)
{
    static struct publish_io io;

    io.param = publish_fcgi_param;
    io.ctx = r;
    io.body = fcgi_request_body(r, &io.body_len, &io.body_seen);
    io.read_error = 0;
    publish_req_handle(&publish, &io);
    fcgi_request_reply(r, io.out, io.out_len);
}

/* SIGHUP: re-reads the config (tokens, keys, limits) and keeps the
 * running one if the new one is bad. */
static void publish_reload(void)
{
    const char *path = config_path(publish_opts.config_path);
    struct fcgi_server_limits lim;
    struct config nc;

    if (conf_reload(path, &publish.cfg, &nc) < 0)
        return;
    publish_app_reload(&publish, &nc);
    log_set_level(publish.cfg.log_level);
    fcgi_app_limits(&publish.cfg, PUBLISH_DRAIN_MAX, &lim);
    fcgi_server_set_limits(publish_srv, &lim);
    log_info("reloaded %s", path);
}

static void publish_on_signal(int signo, void *ctx)
{
    if (signo == SIGHUP) {
        publish_reload();
        return;
    }
    log_info("signal %d: answering the requests in progress, then "
             "exiting", signo);
    fcgi_server_stop(publish_srv);
}

/* The runtime answered an error itself (408). */
static void publish_on_refusal(int status, void *ctx)
{
    (void)ctx;
    publish_app_refused(&publish, status);
}

/* A worker: the runtime in this thread, signals read by it. */
static int publish_worker(int listen_fd, void *ctx)
{
    struct fcgi_server_ops ops = {
        .body_limit = publish_on_params, .handle = publish_on_request,
        .on_signal = publish_on_signal, .on_refusal = publish_on_refusal,
    };
    struct fcgi_server_limits lim;
    int rc;

    fcgi_app_worker_signals();
    signals_control_block();
    fcgi_app_limits(&publish.cfg, PUBLISH_DRAIN_MAX, &lim);
    rc = fcgi_server_create(listen_fd, &lim, &ops, &publish_srv);
    if (rc == 0) {
        fcgi_master_ready();
        rc = fcgi_server_run(publish_srv);
    }
    fcgi_server_destroy(publish_srv);
    publish_app_close(&publish);
    return rc < 0 ? 1 : 0;
}

/* ---- plain CGI ---- */

static const char *publish_cgi_param(void *ctx, const char *name)
{
    return getenv(name);
}

/* Reads stdin to its end: the first keep bytes into *body, all counted
 * in *seen, waiting at most PUBLISH_CGI_TIMEOUT_S for each chunk.
 * 0, -ETIMEDOUT, -E2BIG (over PUBLISH_DRAIN_MAX) or -errno. */
static int publish_cgi_read(char *body, size_t keep, size_t *len,
                            size_t *seen)
{
    struct pollfd pfd = { .fd = 0, .events = POLLIN };
    char buf[16384];

    *len = *seen = 0;
    for (;;) {
        ssize_t got;
        int rc;

        do
            rc = poll(&pfd, 1, PUBLISH_CGI_TIMEOUT_S * 1000);
        while (rc < 0 && errno == EINTR);
        if (rc == 0)
            return -ETIMEDOUT;
        do
            got = read(0, buf, sizeof(buf));
        while (got < 0 && errno == EINTR);
        if (rc < 0 || got < 0)
            return -errno;
        if (got == 0)
            return 0;
        if ((size_t)got > keep - *len)
            memcpy(body + *len, buf, keep - *len), *len = keep;
        else
            memcpy(body + *len, buf, (size_t)got), *len += (size_t)got;
        *seen += (size_t)got;
        if (*seen > PUBLISH_DRAIN_MAX)
            return 0;
    }
}

/* CGI mode: one request from the environment and stdin. */
static int publish_cgi(void)
{
    static struct publish_io io;
    size_t keep = publish_req_body_limit(&publish, getenv("CONTENT_TYPE"));
    char *body = malloc(keep + 1);
    ssize_t w;

    if (body == NULL)
        return 1;
    io.param = publish_cgi_param;
    io.read_error = publish_cgi_read(body, keep, &io.body_len,
                                     &io.body_seen);
    body[io.body_len] = '\0';
    io.body = body;
    publish_req_handle(&publish, &io);
    for (size_t off = 0; off < io.out_len; off += (size_t)w) {
        w = write(1, io.out + off, io.out_len - off);
        if (w < 0 && errno == EINTR)
            w = 0;
        else if (w <= 0)
            break;
    }
    free(body);
    publish_app_close(&publish);
    return 0;
}

int main(int argc, char **argv)
{
    struct fcgi_master_conf mc = { .ident = "sseq-publish" };
    static char watch[PATH_MAX];
    const char *created;
    bool is_cgi = false;
    int fd, rc;

    fcgi_app_parse_args(argc, argv, "sseq-publish: publishes POSTed "
                        "messages to the sseq queue (FastCGI or CGI)",
                        &publish_opts);
    fcgi_app_load_config("sseq-publish", &publish_opts, &publish.cfg);
    publish_app_init(&publish);
    signal(SIGPIPE, SIG_IGN);
    fd = fcgi_app_listen(&publish_opts, &is_cgi, &created);
    if (fd < 0)
        return 1;
    if (is_cgi)
        return publish_cgi();
    mc.processes = publish_opts.processes ? publish_opts.processes
                                          : publish.cfg.publish_processes;
    mc.drain_ms = publish.cfg.drain_ms;
    mc.argv = argv;
    mc.unlink_path = created;
    if (queue_access_file(publish.cfg.queue_path, watch,
                          sizeof(watch)) == 0)
        mc.watch_path = watch;
    log_info("sseq-publish %s: fd %d, queue %s, %u processes, "
             "read_timeout %u ms", PACKAGE_VERSION, fd,
             publish.cfg.queue_path, mc.processes,
             publish.cfg.read_timeout_ms);
    rc = fcgi_master_run(fd, &mc, publish_worker, NULL);
    config_free(&publish.cfg);
    return rc;
}
