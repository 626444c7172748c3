/* signals.c -- the signals that stop or reload an sseq program, listed
 * once (see signals.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include "runtime/signals.h"

/* Read from a signalfd by every master and worker: stop, stop, reload. */
static const int signals_control[] = { SIGTERM, SIGINT, SIGHUP };

/* Caught by the programs that wait in a blocking call: stop. */
static const int signals_stop[] = { SIGTERM, SIGINT };

void signals_control_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof(signals_control) / sizeof(int); i++)
        sigaddset(set, signals_control[i]);
}

int signals_control_block(void)
{
    sigset_t set;

    signals_control_set(&set);
    return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int signals_on_stop(void (*handler)(int))
{
    struct sigaction sa = { .sa_handler = handler };

    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(signals_stop) / sizeof(int); i++)
        if (sigaction(signals_stop[i], &sa, NULL) < 0)
            return -errno;
    return 0;
}
