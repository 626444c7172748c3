/* pump_tail.c -- the tail thread that wakes a sleeping pump: it waits
 * until the pump arms it (the pump is about to sleep in epoll with
 * nothing left to read), then futex-waits on the queue until it has
 * records past what the pump read, disarms and writes the pump's
 * eventfd. While the pump is busy or holding, appends wake nobody here
 * (and publishers skip the futex wake when no tail thread waits). */
#include "ac_config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "base/log.h"
#include "stream/pump_int.h"

/* Blocks while *word == val (FUTEX_WAIT, private); returns on a wake,
 * a changed word or a signal. */
static void pump_tail_futex_wait(atomic_uint *word, unsigned val)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

/* Wakes the thread blocked on word. */
static void pump_tail_futex_wake(atomic_uint *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* The thread (see the file top). */
static void *pump_tail_main(void *arg)
{
    struct pump *p = arg;
    struct pump_tail *t = &p->tail;
    uint64_t oldest, next;
    uint64_t one = 1;

    while (!atomic_load(&t->stop)) {
        uint32_t w;

        if (atomic_load(&t->armed) == 0) {
            pump_tail_futex_wait(&t->armed, 0);
            continue;
        }
        w = queue_wake_word(p->q);
        queue_bounds(p->q, &oldest, &next);
        if (next > atomic_load(&t->seen)) {
            atomic_store(&t->armed, 0);
            if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
                log_error("eventfd write: %s", strerror(errno));
            continue;
        }
        queue_wait(p->q, w, -1);
    }
    return NULL;
}

/* Starts the thread on p->q; it takes SIGUSR1 only (pump_tail_stop
 * pokes it with that). 0 or -errno (logged; the pump then never sleeps
 * long: its tick still finds new records). */
int pump_tail_start(struct pump *p)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    sigdelset(&all, SIGUSR1);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&p->tail.thread, NULL, pump_tail_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        log_error("pthread_create tail: %s", strerror(rc));
    p->tail.started = rc == 0;
    return -rc;
}

/* Asks the tail thread for a wake-up when records past next_live come
 * (the pump is about to sleep with nothing to read). */
void pump_tail_arm(struct pump *p)
{
    struct pump_tail *t = &p->tail;

    if (!t->started || atomic_load(&t->armed) != 0)
        return;
    atomic_store(&t->seen, p->next_live);
    atomic_store(&t->armed, 1);
    pump_tail_futex_wake(&t->armed);
}

/* Stops and joins the tail thread (it may be inside a futex wait, so it
 * is poked with SIGUSR1 until it leaves). */
void pump_tail_stop(struct pump *p)
{
    struct pump_tail *t = &p->tail;
    struct timespec ts;

    if (!t->started)
        return;
    atomic_store(&t->stop, true);
    atomic_store(&t->armed, 1);
    pump_tail_futex_wake(&t->armed);
    for (;;) {
        pthread_kill(t->thread, SIGUSR1);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (pthread_timedjoin_np(t->thread, NULL, &ts) == 0)
            break;
    }
    t->started = false;
}
