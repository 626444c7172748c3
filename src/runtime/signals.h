/* signals.h -- the one table of the signals that stop or reload an sseq
 * program. A FastCGI master or worker blocks SIGTERM, SIGINT and SIGHUP
 * and reads them from a signalfd (stop, stop, reload); a program that
 * waits in a blocking call (sseq tail, CGI mode, sseq-bridge) catches
 * SIGTERM and SIGINT with a handler installed without SA_RESTART, so the
 * wait returns EINTR and the loop sees its stop flag. */
#ifndef SSEQ_SIGNALS_H
#define SSEQ_SIGNALS_H

#include <signal.h>

/* Empties set, then adds SIGTERM, SIGINT and SIGHUP. */
void signals_control_set(sigset_t *set);

/* Blocks signals_control_set in the calling thread (and the threads it
 * starts later). 0 or -errno. */
int signals_control_block(void);

/* Installs handler for SIGTERM and SIGINT, without SA_RESTART. 0 or
 * -errno (sigaction's). */
int signals_on_stop(void (*handler)(int));

#endif
