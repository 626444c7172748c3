/* log.c -- one-line log messages to stderr: "ident[pid]: level: text".
 *
 * Invariants: a message is formatted into a stack buffer and written with a
 * single write(2), so lines of concurrent threads and processes (spawn-fcgi
 * -F N children share one stderr) never interleave. A message is always one
 * line: control characters in the text become '?', and a message longer
 * than LOG_LINE_MAX is cut and ends in "...". errno is preserved. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

#define LOG_LINE_MAX 2048       /* bytes of one line, newline included */
#define LOG_IDENT_MAX 32

static char log_ident[LOG_IDENT_MAX] = "sseq";
static char log_file[4096];     /* $SSEQ_SPAWN_LOG, for log_reopen */
static atomic_int log_level = LOG_LEVEL_INFO;

static const char *const log_names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN]  = "warn",
    [LOG_LEVEL_INFO]  = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};
#define LOG_N_LEVELS ((int)(sizeof log_names / sizeof log_names[0]))

/* Sets the program name and level; call once, before threads start. */
void log_init(const char *ident, int level)
{
    if (ident != NULL) {
        const char *slash = strrchr(ident, '/');

        snprintf(log_ident, sizeof log_ident, "%s", slash ? slash + 1 : ident);
    }
    if (getenv("SSEQ_SPAWN_LOG") != NULL)
        snprintf(log_file, sizeof log_file, "%s", getenv("SSEQ_SPAWN_LOG"));
    log_set_level(level);
}

/* Sets the most verbose level written; out-of-range values are clamped. */
void log_set_level(int level)
{
    if (level < LOG_LEVEL_ERROR)
        level = LOG_LEVEL_ERROR;
    if (level > LOG_LEVEL_DEBUG)
        level = LOG_LEVEL_DEBUG;
    atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int log_level_parse(const char *name)
{
    for (int i = 0; name != NULL && i < LOG_N_LEVELS; i++)
        if (strcmp(name, log_names[i]) == 0)
            return i;
    return -1;
}

/* The level's name, "?" for an unknown level. */
const char *log_level_name(int level)
{
    if (level < 0 || level >= LOG_N_LEVELS)
        return "?";
    return log_names[level];
}

/* Replaces control characters in buf[0..len) so the text stays one line. */
static void log_sanitize(char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            buf[i] = '?';
    }
}

void log_msg(int level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    int saved = errno, head, n;
    size_t len;
    va_list ap;

    if (level > atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    head = snprintf(line, sizeof line, "%s[%ld]: %s: ", log_ident,
                    (long)getpid(), log_level_name(level));
    if (head < 0 || (size_t)head >= sizeof line - 1)
        goto out;
    va_start(ap, fmt);
    n = vsnprintf(line + head, sizeof line - (size_t)head, fmt, ap);
    va_end(ap);
    if (n < 0)
        goto out;
    len = (size_t)head + (size_t)n;
    if (len > sizeof line - 1) {
        len = sizeof line - 1;
        memcpy(line + len - 3, "...", 3);
    }
    log_sanitize(line + head, len - (size_t)head);
    line[len++] = '\n';
    while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR)
        ;
out:
    errno = saved;
}

/* Reopens the log file stderr was pointed at ($SSEQ_SPAWN_LOG, set by
 * sseq-spawn) after logrotate moved it. Async-signal-safe (open, dup2,
 * close): called from a SIGUSR1 handler. */
void log_reopen(void)
{
    int saved = errno, fd;

    if (log_file[0] == '\0')
        return;
    fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    errno = saved;
}
