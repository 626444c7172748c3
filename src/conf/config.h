/* config.h -- the one libconfig file read by every sseq program.
 * Path: -c FILE, else $SSEQ_CONF, else SYSCONFDIR "/sseq.conf". Settings are
 * described by their owners' tables (src/conf/conf_*.c: name, type,
 * default, limits), read by config.c; a bad value is reported as
 * "FILE:LINE: setting: reason". Includes no subsystem header. */
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

/* A Mercure JWT key as loaded: the material of *_jwt_key or *_jwt_key_file
 * (a secret: never logged), checked against its algorithm. */
struct config_jwt_key {
    unsigned char *key;         /* NULL = no key configured */
    size_t len;
    int alg;                    /* the *_jwt_alg setting, as an enum
                                   jwt_auth_alg (mercure/jwt_auth.h) */
};

struct config {
    char *file;                 /* path read, NULL if defaults only */
    /* queue */
    char *queue_path;           /* shm name "/sseq" or file path */
    uint64_t queue_size;        /* bytes, default 64 MiB */
    unsigned queue_mode;        /* default 0600 */
    char *queue_owner;          /* user `sseq create` gives the queue to;
                                   "" = www-data when run as root */
    char *queue_group;          /* its group; "" = the owner's group */
    unsigned max_age;           /* seconds, 0 = none */
    /* messages */
    size_t max_message_size;    /* data bytes, default 65536 */
    /* stream */
    unsigned heartbeat;         /* seconds between idle comments, default 15 */
    unsigned retry_ms;          /* SSE retry:, default 3000 */
    unsigned max_subscribers;   /* streams per process, default 10000 */
    size_t client_buffer;       /* per-stream output bound, default 256 KiB */
    unsigned backlog_max;       /* cap for backlog=N, default 1000 */
    unsigned coalesce_us;       /* longest hold of a record under load
                                   (pump_hold.h), default 100000 */
    unsigned stream_processes;  /* sseq-stream workers, default 2 */
    /* publish */
    unsigned publish_processes; /* sseq-publish workers, default 2 */
    unsigned max_lag_ms;        /* backpressure (publish_lag.h): refuse a
                                   publish while the slowest fan-out is
                                   more behind; 0 = never, default 2000 */
    struct config_token *tokens; size_t n_tokens;
    char **open_channels; size_t n_open_channels;  /* globs; default none */
    /* fastcgi: the runtime both programs share (fcgi_server.c) */
    unsigned read_timeout_ms;   /* a request must be complete within it */
    unsigned max_pending;       /* incomplete connections per process */
    unsigned drain_ms;          /* restart/stop: streams ended over it */
    /* channels */
    char *channel_pattern;      /* POSIX ERE, whole-name match */
    regex_t channel_re;         /* compiled channel_pattern */
    /* http */
    char **cors_origins; size_t n_cors_origins;    /* "*" or exact origins */
    int log_level;              /* LOG_LEVEL_* from log.h */
    /* mercure: the Mercure hub (settings as written; keys are secrets) */
    char *mercure_pub_key;      /* publisher_jwt_key, "" = none */
    char *mercure_pub_key_file; /* publisher_jwt_key_file, "" = none */
    char *mercure_pub_alg;      /* publisher_jwt_alg, default "HS256" */
    char *mercure_sub_key;      /* subscriber_jwt_key, "" = none */
    char *mercure_sub_key_file; /* subscriber_jwt_key_file, "" = none */
    char *mercure_sub_alg;      /* subscriber_jwt_alg, default "HS256" */
    char *mercure_cookie_name;  /* default "mercureAuthorization" */
    char *mercure_issuer;       /* 1.0 tokens' iss, "" = 1.0 tokens off */
    char *mercure_resource;     /* the hub's resource identifier (their
                                   aud), "" = 1.0 tokens off */
    char *mercure_access_cookie;        /* 1.0 cookie, default
                                           "__Secure-mercure_access_token" */
    bool mercure_anonymous;     /* subscribers without a token allowed */
    unsigned mercure_topic_max; /* bytes of a topic or selector */
    char **mercure_cred_origins;        /* cors_credentials_origins */
    size_t n_mercure_cred_origins;
    bool mercure_static_on_hub; /* publish.tokens accepted on the hub */
    bool mercure_protocol_v0;   /* the hub takes topic= and lastEventID= */
    bool mercure_subscriptions; /* active subscriptions: updates, API */
    unsigned mercure_selector_cost_max;     /* one pattern selector */
    unsigned mercure_stream_pattern_cost;   /* a token holder's stream */
    unsigned mercure_anon_pattern_cost;     /* an anonymous stream */
    unsigned mercure_process_pattern_cost;  /* a process's patterns */
    char *mercure_hub_url;      /* the base of relative URL patterns and
                                   topics; "" = from each request */
    /* derived at load from the settings above (config_free frees them) */
    struct config_jwt_key mercure_pub;  /* publisher key, or key NULL */
    struct config_jwt_key mercure_sub;  /* subscriber key, or key NULL */
    /* cluster: hosts joined through one Redis stream (sseq-bridge) */
    char *cluster_redis;        /* "" = off; URL, its password a secret */
    char *cluster_prefix;       /* Redis key prefix, default "sseq" */
    uint64_t cluster_retention; /* stream entries kept (MAXLEN ~) */
    unsigned cluster_timeout_ms; /* connect and command timeout */
    unsigned cluster_wait_replicas; /* Sentinel mode: replicas a publish
                                       must reach before its 202 (WAIT) */
    unsigned cluster_wait_ms;   /* WAIT's timeout, then 503 */
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

/* Prints every effective setting in libconfig syntax (tokens and JWT
 * keys masked). */
void config_print(const struct config *cfg, FILE *out);

/* Whether name (len bytes, not NUL-terminated) matches channel_pattern. */
bool config_channel_valid(const struct config *cfg, const char *name,
                          size_t len);

/* Whether origin may be answered with CORS headers; returns the value for
 * Access-Control-Allow-Origin ("*" or origin) or NULL. */
const char *config_cors_allow(const struct config *cfg, const char *origin);

/* The hub's URL as configured: mercure.hub_url, else mercure.resource
 * (the 1.0 tokens' audience names the same URL), else NULL (each
 * request's own, mercure_hub_url). */
const char *config_hub_url(const struct config *cfg);

#endif
