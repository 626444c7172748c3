/* fcgi_master.c -- the parent of the FastCGI workers (see fcgi_master.h).
 *
 * A table of workers, each with its pid, a pipe it writes one byte to
 * once it accepts, and whether it belongs to the current generation or is
 * an old one being stopped. One loop: poll the signalfd and the readiness
 * pipes; reap children; start the missing workers of this generation;
 * stop the old generation once this one is ready; once a second, restart
 * if the queue's file was replaced. */
#include "ac_config.h"

#include "runtime/fcgi_master.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/log.h"
#include "base/util.h"
#include "runtime/signals.h"

#define FM_MAX          600         /* workers, old and new */
#define FM_READY_US     10000000    /* new workers must accept within */
#define FM_YOUNG_US     1000000     /* a worker dying younger is delayed */
#define FM_KILL_US      5000000     /* past drain: SIGKILL */
#define FM_TICK_MS      200
#define FM_WATCH_US     1000000     /* between checks of watch_path */

struct fm_worker {
    pid_t pid;
    int ready_fd;                   /* read end, -1 once read or closed */
    bool ready, old;
    uint64_t started_us;
};

static struct {
    const struct fcgi_master_conf *conf;
    fcgi_master_worker_fn worker;
    void *ctx;
    int listen_fd, sfd;
    char self[PATH_MAX];
    struct fm_worker w[FM_MAX];
    int n;
    bool stopping, handover;        /* old workers wait for new ones */
    uint64_t now_us, handover_until_us, respawn_at_us, kill_at_us;
    bool watch_known;               /* watch_dev/ino name the queue seen */
    dev_t watch_dev;
    ino_t watch_ino;
    uint64_t watch_at_us;
} fm;

static int fm_ready_write_fd = -1;  /* in a worker: its readiness pipe */

void fcgi_master_ready(void)
{
    char one = 1;

    if (fm_ready_write_fd < 0)
        return;
    if (write(fm_ready_write_fd, &one, 1) < 0)
        log_debug("readiness pipe: %s", strerror(errno));
    close(fm_ready_write_fd);
    fm_ready_write_fd = -1;
}

/* In the child after fork: default signal state, then the worker. The
 * stop and reload signals stay blocked (the worker reads them from its
 * signalfd): unblocked, one the master sends before the worker blocks
 * them again (a reload right after a start) would kill it. A master that
 * dies (SIGKILL) sends no SIGTERM: the kernel does (PR_SET_PDEATHSIG), so
 * no worker serves on without a master; one that died before the prctl
 * is seen by the parent's pid. */
static void fm_child(int ready_wr, pid_t master)
{
    sigset_t control;

    close(fm.sfd);
    for (int i = 0; i < fm.n; i++)
        if (fm.w[i].ready_fd >= 0)
            close(fm.w[i].ready_fd);
    fm_ready_write_fd = ready_wr;
    signal(SIGUSR2, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    signals_control_set(&control);
    sigprocmask(SIG_SETMASK, &control, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
        log_warn("prctl PR_SET_PDEATHSIG: %s", strerror(errno));
    if (getppid() != master)
        kill(getpid(), SIGTERM);
    exit(fm.worker(fm.listen_fd, fm.ctx));
}

/* Forks one worker of the current generation. */
static void fm_spawn(void)
{
    pid_t master = getpid(), pid;
    int p[2];

    if (fm.n >= FM_MAX || pipe2(p, O_CLOEXEC) < 0) {
        log_error("cannot start a worker: %s", fm.n >= FM_MAX ?
                  "too many processes" : strerror(errno));
        return;
    }
    pid = fork();
    if (pid < 0) {
        log_error("fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return;
    }
    if (pid == 0)
        fm_child(p[1], master);
    close(p[1]);
    fm.w[fm.n++] = (struct fm_worker){ .pid = pid, .ready_fd = p[0],
                                       .started_us = fm.now_us };
}

static unsigned fm_count(bool old, bool ready_only);

/* Starts the workers this generation lacks; after a failed fork, tries
 * again a second later. */
static void fm_fill(void)
{
    while (fm_count(false, false) < fm.conf->processes) {
        int before = fm.n;

        fm_spawn();
        if (fm.n == before) {
            fm.respawn_at_us = fm.now_us + FM_YOUNG_US;
            return;
        }
    }
}

static unsigned fm_count(bool old, bool ready_only)
{
    unsigned k = 0;

    for (int i = 0; i < fm.n; i++)
        if (fm.w[i].old == old && (!ready_only || fm.w[i].ready))
            k++;
    return k;
}

static void fm_signal_all(int sig, bool old_only)
{
    for (int i = 0; i < fm.n; i++)
        if (!old_only || fm.w[i].old)
            kill(fm.w[i].pid, sig);
}

/* Removes entry i (reaped). */
static void fm_forget(int i)
{
    if (fm.w[i].ready_fd >= 0)
        close(fm.w[i].ready_fd);
    fm.w[i] = fm.w[--fm.n];
}

/* Reaps exited children; a current worker that died unasked is replaced. */
static void fm_reap(void)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < fm.n; i++) {
            if (fm.w[i].pid != pid)
                continue;
            if (!fm.w[i].old && !fm.stopping) {
                log_error("worker %d %s %d: starting another", (int)pid,
                          WIFSIGNALED(status) ? "killed by signal"
                                              : "exited with",
                          WIFSIGNALED(status) ? WTERMSIG(status)
                                              : WEXITSTATUS(status));
                if (fm.now_us - fm.w[i].started_us < FM_YOUNG_US)
                    fm.respawn_at_us = fm.now_us + FM_YOUNG_US;
            }
            fm_forget(i);
            break;
        }
    }
}

/* Reads the readiness byte of worker i. */
static void fm_on_ready(int i)
{
    char b;

    if (read(fm.w[i].ready_fd, &b, 1) == 1)
        fm.w[i].ready = true;
    close(fm.w[i].ready_fd);
    fm.w[i].ready_fd = -1;
}

/* Stops the old generation once every new worker accepts (or, after
 * FM_READY_US, at least one does). */
static void fm_handover(void)
{
    unsigned ready = fm_count(false, true), want = fm.conf->processes;

    if (!fm.handover)
        return;
    if (ready < want && !(ready > 0 && fm.now_us >= fm.handover_until_us))
        return;
    if (fm_count(true, false) > 0)
        log_info("%u new worker(s) accept: stopping %u old one(s)", ready,
                 fm_count(true, false));
    fm_signal_all(SIGTERM, true);
    fm.handover = false;
}

/* Whether `self -t ...` (config and binary check) exits 0. */
static bool fm_self_test(void)
{
    char *args[64];
    int n = 0, status;
    pid_t pid;

    args[n++] = fm.conf->argv[0];
    args[n++] = (char *)"-t";
    for (int i = 1; fm.conf->argv[i] != NULL && n < 63; i++)
        args[n++] = fm.conf->argv[i];
    args[n] = NULL;
    pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(fm.self, args);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* SIGUSR2: re-executes the binary with the socket and the workers'
 * pids in the environment; on any failure the running workers stay. */
static void fm_restart(void)
{
    char old[FM_MAX * 12] = "", fd[16];
    size_t o = 0;

    if (fm.stopping)
        return;
    if (!fm_self_test()) {
        log_error("restart refused: '%s -t' failed (see the lines above); "
                  "the running workers stay", fm.self);
        return;
    }
    for (int i = 0; i < fm.n; i++)
        o += (size_t)snprintf(old + o, sizeof(old) - o, "%s%d",
                              o ? "," : "", (int)fm.w[i].pid);
    snprintf(fd, sizeof(fd), "%d", fm.listen_fd);
    setenv(FCGI_MASTER_ENV_FD, fd, 1);
    setenv(FCGI_MASTER_ENV_OLD, old, 1);
    if (util_fd_cloexec(fm.listen_fd, false) < 0) {
        log_error("restart: fcntl F_SETFD on the listening socket (fd %d): "
                  "%s; the running workers stay", fm.listen_fd,
                  strerror(errno));
        goto fail_env;
    }
    log_info("restarting: executing %s (%d worker(s) keep serving until "
             "the new ones accept)", fm.self, fm.n);
    execv(fm.self, fm.conf->argv);
    log_error("restart: execv %s: %s; the running workers stay", fm.self,
              strerror(errno));
    (void)util_fd_cloexec(fm.listen_fd, true);
fail_env:
    unsetenv(FCGI_MASTER_ENV_FD);
    unsetenv(FCGI_MASTER_ENV_OLD);
}

/* Adopts the workers a previous image of this master left running. */
static void fm_adopt_old(void)
{
    const char *old = getenv(FCGI_MASTER_ENV_OLD);
    char *end;

    if (old == NULL)
        return;
    while (*old != '\0' && fm.n < FM_MAX) {
        long pid = strtol(old, &end, 10);

        if (end == old)
            break;
        if (pid > 0)
            fm.w[fm.n++] = (struct fm_worker){ .pid = (pid_t)pid,
                                               .ready_fd = -1, .old = true,
                                               .ready = true };
        old = *end == ',' ? end + 1 : end;
    }
    unsetenv(FCGI_MASTER_ENV_OLD);
    unsetenv(FCGI_MASTER_ENV_FD);
}

static void fm_stop(void)
{
    if (fm.stopping)
        return;
    fm.stopping = true;
    fm.handover = false;
    fm.kill_at_us = fm.now_us + (uint64_t)fm.conf->drain_ms * 1000 +
                    FM_KILL_US;
    log_info("stopping %d worker(s)", fm.n);
    fm_signal_all(SIGTERM, false);
}

static void fm_on_signal(int sig)
{
    switch (sig) {
    case SIGCHLD: fm_reap(); break;
    case SIGHUP:  fm_signal_all(SIGHUP, false); break;
    case SIGUSR1: log_reopen(); fm_signal_all(SIGUSR1, false); break;
    case SIGUSR2: fm_restart(); break;
    default:      fm_stop(); break;
    }
}

/* Once a second: whether the queue's file was replaced since it was last
 * seen (another inode under its name); a missing file is no change, since
 * its workers get errors and the log says so. The first sighting is kept. */
static bool fm_watch_replaced(void)
{
    struct stat st;

    if (fm.conf->watch_path == NULL || fm.now_us < fm.watch_at_us)
        return false;
    fm.watch_at_us = fm.now_us + FM_WATCH_US;
    if (stat(fm.conf->watch_path, &st) < 0)
        return false;
    if (fm.watch_known && st.st_dev == fm.watch_dev &&
        st.st_ino == fm.watch_ino)
        return false;
    if (!fm.watch_known) {
        fm.watch_known = true;
        fm.watch_dev = st.st_dev;
        fm.watch_ino = st.st_ino;
        return false;
    }
    fm.watch_dev = st.st_dev;
    fm.watch_ino = st.st_ino;
    return true;
}

/* One turn: wait for a signal or a readiness byte, then act. */
static void fm_turn(void)
{
    struct pollfd pfd[FM_MAX + 1];
    int idx[FM_MAX + 1], np = 0;
    struct signalfd_siginfo si;

    pfd[np++] = (struct pollfd){ .fd = fm.sfd, .events = POLLIN };
    for (int i = 0; i < fm.n; i++)
        if (fm.w[i].ready_fd >= 0) {
            idx[np] = i;
            pfd[np++] = (struct pollfd){ .fd = fm.w[i].ready_fd,
                                         .events = POLLIN };
        }
    if (poll(pfd, (nfds_t)np, FM_TICK_MS) < 0 && errno != EINTR)
        log_error("poll: %s", strerror(errno));
    fm.now_us = util_mono_us();
    for (int k = np - 1; k >= 1; k--)
        if (pfd[k].revents)
            fm_on_ready(idx[k]);
    while (read(fm.sfd, &si, sizeof(si)) == sizeof(si))
        fm_on_signal((int)si.ssi_signo);
    fm_reap();
}

int fcgi_master_run(int listen_fd, const struct fcgi_master_conf *conf,
                    fcgi_master_worker_fn worker, void *ctx)
{
    sigset_t sigs;
    ssize_t n;

    fm.conf = conf;
    fm.worker = worker;
    fm.ctx = ctx;
    fm.listen_fd = listen_fd;
    n = readlink("/proc/self/exe", fm.self, sizeof(fm.self) - 1);
    if (n <= 0)
        snprintf(fm.self, sizeof(fm.self), "%s", conf->argv[0]);
    else
        fm.self[n] = '\0';
    signals_control_set(&sigs);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGUSR2);
    sigaddset(&sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    fm.sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fm.sfd < 0) {
        log_error("signalfd: %s", strerror(errno));
        return 1;
    }
    fm.now_us = util_mono_us();
    fm_adopt_old();
    fm.handover = true;
    fm.handover_until_us = fm.now_us + FM_READY_US;
    while (!fm.stopping || fm.n > 0) {
        if (!fm.stopping && fm.now_us >= fm.respawn_at_us)
            fm_fill();
        fm_handover();
        fm_turn();
        if (!fm.stopping && fm_watch_replaced()) {
            log_warn("queue %s was replaced (sseq create --force): "
                     "restarting the workers onto the new one",
                     fm.conf->watch_path);
            fm_restart();
        }
        if (fm.stopping && fm.now_us >= fm.kill_at_us && fm.n > 0) {
            log_warn("%d worker(s) still running: SIGKILL", fm.n);
            fm_signal_all(SIGKILL, false);
            fm.kill_at_us = UINT64_MAX;
        }
    }
    if (conf->unlink_path != NULL)
        unlink(conf->unlink_path);
    log_info("stopped");
    close(fm.sfd);
    return 0;
}
