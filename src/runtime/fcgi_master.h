/* fcgi_master.h -- the parent process of sseq-stream and sseq-publish in
 * FastCGI mode: it holds the listening socket for good and runs the
 * workers (fcgi_server.c loops) as its children.
 *
 * Key invariant (zero-downtime restart): the listening socket is never
 * closed while the service runs. SIGUSR2 re-executes the master's binary
 * in place (same pid, socket inherited), which starts new workers; only
 * when they accept are the old ones told to stop (SIGTERM: they stop
 * accepting, end their streams over fastcgi.drain and exit). A binary
 * replaced on disk (make install) is what the new workers run; a binary
 * that fails `-t` is not executed and the running workers stay.
 *
 * Signals: SIGTERM/SIGINT stop (workers drain, then the master exits),
 * SIGHUP is forwarded (live settings), SIGUSR1 is forwarded and reopens
 * the log, SIGUSR2 restarts. A worker that dies is started again (after
 * a second if it died young). Once a second the master checks the queue's
 * file (watch_path): a new file under its name restarts as SIGUSR2 does,
 * since workers keep the queue they opened. */
#ifndef SSEQ_FCGI_MASTER_H
#define SSEQ_FCGI_MASTER_H

/* A worker's body: serves on listen_fd, returns the process exit code.
 * It starts with SIGTERM, SIGINT and SIGHUP blocked (signals.h), pending
 * ones kept: it reads them from a signalfd. */
typedef int (*fcgi_master_worker_fn)(int listen_fd, void *ctx);

struct fcgi_master_conf {
    const char *ident;          /* program name, for log lines */
    unsigned processes;         /* workers */
    unsigned drain_ms;          /* how long workers take to stop */
    char **argv;                /* the command line to re-execute */
    const char *unlink_path;    /* socket file to remove at the end, or NULL */
    const char *watch_path;     /* the queue's file: when another file takes
                                   its name (sseq create --force), restart
                                   the workers onto it; or NULL */
};

/* Runs the master until SIGTERM/SIGINT and its workers are gone; returns
 * the exit code for main. Workers are forked from this process and run
 * worker(listen_fd, ctx). */
int fcgi_master_run(int listen_fd, const struct fcgi_master_conf *conf,
                    fcgi_master_worker_fn worker, void *ctx);

/* In a worker: tells the master this worker accepts now (first call only;
 * a no-op outside a worker). */
void fcgi_master_ready(void);

/* The pids of workers of a previous master image (from a restart), to be
 * stopped once the new workers accept; read from the environment by
 * fcgi_master_run. The environment variables the restart passes: */
#define FCGI_MASTER_ENV_FD  "SSEQ_MASTER_FD"
#define FCGI_MASTER_ENV_OLD "SSEQ_MASTER_OLD"

#endif
