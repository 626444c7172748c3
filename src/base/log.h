/* log.h -- one-line log messages to stderr ("ident[pid]: level: text"),
 * which spawn-fcgi, systemd and nginx's error_log all collect. */
#ifndef SSEQ_LOG_H
#define SSEQ_LOG_H

enum {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN  = 1,
    LOG_LEVEL_INFO  = 2,
    LOG_LEVEL_DEBUG = 3,
};

void log_init(const char *ident, int level);
void log_set_level(int level);
/* Parses "error|warn|info|debug"; -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(int level);

/* Reopens $SSEQ_SPAWN_LOG (where sseq-spawn sends stderr) onto stderr;
 * a no-op without it. Async-signal-safe (SIGUSR1, logrotate). */
void log_reopen(void);

void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
