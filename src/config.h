/* config.h -- the one libconfig file read by every sseq program.
 * Path: -c FILE, else $SSEQ_CONF, else SYSCONFDIR "/sseq.conf". Settings are
 * described by a table in config.c (name, type, default, limits); a bad
 * value is reported as "FILE:LINE: setting: reason". */
#ifndef SSEQ_CONFIG_H
#define SSEQ_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <regex.h>

struct config_token {
    char *token;                /* bearer token (secret: never logged) */
    char **channels;            /* fnmatch globs it may publish to; */
    size_t n_channels;          /* 0 = every channel */
};

struct config {
    char *file;                 /* path read, NULL if defaults only */
    /* queue */
    char *queue_path;           /* shm name "/sseq" or file path */
    uint64_t queue_size;        /* bytes, default 64 MiB */
    unsigned queue_mode;        /* default 0600 */
    unsigned max_age;           /* seconds, 0 = none */
    /* messages */
    size_t max_message_size;    /* data bytes, default 65536 */
    /* stream */
    unsigned heartbeat;         /* seconds between idle comments, default 15 */
    unsigned retry_ms;          /* SSE retry:, default 3000 */
    unsigned max_subscribers;   /* streams per process, default 10000 */
    size_t client_buffer;       /* per-stream output bound, default 256 KiB */
    unsigned backlog_max;       /* cap for backlog=N, default 1000 */
    unsigned coalesce_us;       /* max delay to batch writes under load */
    /* publish */
    struct config_token *tokens; size_t n_tokens;
    char **open_channels; size_t n_open_channels;  /* globs; default none */
    /* channels */
    char *channel_pattern;      /* POSIX ERE, whole-name match */
    regex_t channel_re;         /* compiled channel_pattern */
    /* http */
    char **cors_origins; size_t n_cors_origins;    /* "*" or exact origins */
    int log_level;              /* LOG_LEVEL_* from log.h */
    /* cluster: hosts joined through one Redis stream (sseq-bridge) */
    char *cluster_redis;        /* "" = off; URL, its password a secret */
    char *cluster_prefix;       /* Redis key prefix, default "sseq" */
    uint64_t cluster_retention; /* stream entries kept (MAXLEN ~) */
    unsigned cluster_timeout_ms; /* connect and command timeout */
};

/* Fills cfg with every default (never fails short of ENOMEM). */
int config_defaults(struct config *cfg);

/* The path to read: explicit (from -c) if non-NULL, else $SSEQ_CONF, else
 * the compiled-in default. */
const char *config_path(const char *explicit_path);

/* Loads path over the defaults. Returns 0, or -1 with a one-line
 * "FILE:LINE: setting: reason" in err. A missing file is an error when
 * must_exist; otherwise defaults stand. cfg is valid (defaults) on error
 * and must be freed with config_free. */
int config_load(struct config *cfg, const char *path, bool must_exist,
                char *err, size_t errlen);

void config_free(struct config *cfg);

/* Prints every effective setting in libconfig syntax (tokens masked). */
void config_print(const struct config *cfg, FILE *out);

/* Whether name (len bytes, not NUL-terminated) matches channel_pattern. */
bool config_channel_valid(const struct config *cfg, const char *name,
                          size_t len);

/* Whether origin may be answered with CORS headers; returns the value for
 * Access-Control-Allow-Origin ("*" or origin) or NULL. */
const char *config_cors_allow(const struct config *cfg, const char *origin);

#endif
