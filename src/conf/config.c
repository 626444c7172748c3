/* config.c -- the one libconfig file read by every sseq program.
 *
 * Every setting is one row of config_items[]: its dotted name in the file,
 * its kind (how it is parsed, printed and freed: config_kinds[]), its field
 * in struct config, its limits and its default. Loading walks the parsed
 * file and looks every setting up in the table, so an unknown (misspelt)
 * setting is an error, like a bad value; each error reads
 * "FILE:LINE: setting: reason".
 *
 * Ownership invariant: config_defaults allocates nothing (default strings
 * are the table's literals, the default channel regex is compiled once per
 * process and shared). A string field is heap-owned exactly when it differs
 * from its default pointer, channel_re is owned exactly when
 * channel_pattern is, and lists are always owned. Hence config_defaults may
 * run any number of times without leaking, and config_free frees exactly
 * what config_load allocated. (A glibc regex_t only points at its compiled
 * program, so a by-value copy shares it; regexec on it is thread-safe.) */
#include "ac_config.h"          /* _GNU_SOURCE: strcasestr */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "proto/cluster_url.h"
#include "conf/config.h"
#include "mercure/jwt_auth.h"
#include "base/log.h"
#include "mercure/uri_template.h"
#include "base/util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define CONFIG_NAME_MAX    128  /* longest dotted setting name reported */
#define CONFIG_LIST_MAX    1024 /* entries in any list setting */
#define CONFIG_GLOB_MAX    255  /* bytes of a channel glob */
#define CONFIG_PATTERN_MAX 1024 /* bytes of channel_pattern */
#define CONFIG_TOKEN_MIN   16 /* shorter is guessable (issue 11.3) */
#define CONFIG_TOKEN_VARIETY 6 /* fewest distinct characters */
#define CONFIG_TOKEN_MAX   512
#define CONFIG_ORIGIN_MAX  255
#define CONFIG_CHANNEL_MAX 255  /* longest valid channel name */
#define CONFIG_SHM_NAME_MAX 255 /* NAME_MAX, after the leading '/' */
#define CONFIG_FILE_MAX    (1 << 20) /* bytes of a config file */
#define CONFIG_BIG_MAX     16   /* too-large integers remembered */
#define CONFIG_COOKIE_MAX  128  /* bytes of mercure.cookie_name */

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define TIB (1ull << 40)

static const char config_def_queue_path[] = "/sseq";
static const char config_def_account[] = "";  /* queue.owner, .group */
static const char config_def_pattern[] = "^[A-Za-z0-9_.:-]{1,64}$";
static const char config_def_none[] = "";
static const char config_def_alg[] = "HS256";
static const char config_def_cookie[] = "mercureAuthorization";
static const char config_def_empty[] = "";
static const char config_def_prefix[] = "sseq";

/* How a setting is written in the file. */
enum config_kind {
    CK_QUEUE_PATH,              /* string: "/shm-name" or a file path */
    CK_UINT,                    /* integer within [min, max] */
    CK_SIZE,                    /* integer or "64K" / "64M" / "1G" string */
    CK_MODE,                    /* octal string, e.g. "0600" */
    CK_LEVEL,                   /* "error" | "warn" | "info" | "debug" */
    CK_REGEX,                   /* POSIX ERE string */
    CK_GLOBS,                   /* [ "glob", ... ] for fnmatch */
    CK_ORIGINS,                 /* [ "*" or "https://host[:port]", ... ] */
    CK_TOKENS,                  /* ( { token = ".."; channels = [..]; } ) */
    CK_SECRET,                  /* string printed as "****" and wiped */
    CK_PATH,                    /* "" or an absolute file path */
    CK_JWT_ALG,                 /* "HS256" ... "ES512" (jwt_auth.h) */
    CK_COOKIE,                  /* an RFC 6265 cookie name */
    CK_BOOL,                    /* true | false */
    CK_CRED_ORIGINS,            /* [ "https://host[:port]", ... ], no "*" */
    CK_ACCOUNT,                 /* "" or a user/group name or number */
    CK_REDIS_URL,               /* "" or a cluster_url.h URL (secret) */
    CK_KEY,                     /* Redis key prefix: 1-64 of A-Za-z0-9_.:- */
};

/* One row of the settings table. */
struct config_item {
    const char *name;           /* dotted path in the file */
    enum config_kind kind;
    size_t off;                 /* offset of the field in struct config */
    size_t width;               /* sizeof the field (numbers) */
    size_t count_off;           /* offset of the count field (lists) */
    uint64_t min, max;          /* limits (numbers) */
    uint64_t def;               /* default (numbers) */
    const char *def_str;        /* default (strings) */
};

#define FIELD_SIZE(f) sizeof(((struct config *)0)->f)
#define NUM(n, k, f, lo, hi, d) \
    { n, k, offsetof(struct config, f), FIELD_SIZE(f), 0, lo, hi, d, NULL }
#define STR(n, k, f, d) \
    { n, k, offsetof(struct config, f), FIELD_SIZE(f), 0, 0, 0, 0, d }
#define LIST(n, k, f, cnt) \
    { n, k, offsetof(struct config, f), FIELD_SIZE(f), \
      offsetof(struct config, cnt), 0, CONFIG_LIST_MAX, 0, NULL }

/* Every setting, in the order config_print writes them; a group's rows
 * are contiguous. */
static const struct config_item config_items[] = {
    STR("queue.path", CK_QUEUE_PATH, queue_path, config_def_queue_path),
    NUM("queue.size", CK_SIZE, queue_size, 64 * KIB, TIB, 64 * MIB),
    NUM("queue.mode", CK_MODE, queue_mode, 0, 0777, 0600),
    STR("queue.owner", CK_ACCOUNT, queue_owner, config_def_account),
    STR("queue.group", CK_ACCOUNT, queue_group, config_def_account),
    NUM("queue.max_age", CK_UINT, max_age, 0, 10 * 366 * 86400u, 0),
    NUM("max_message_size", CK_SIZE, max_message_size, 1, 64 * MIB,
        65536),
    NUM("stream.heartbeat", CK_UINT, heartbeat, 1, 3600, 15),
    NUM("stream.retry", CK_UINT, retry_ms, 100, 3600000, 3000),
    NUM("stream.max_subscribers", CK_UINT, max_subscribers, 1, 1000000,
        10000),
    NUM("stream.client_buffer", CK_SIZE, client_buffer, 4 * KIB, GIB,
        256 * KIB),
    NUM("stream.backlog_max", CK_UINT, backlog_max, 0, 1000000, 1000),
    NUM("stream.coalesce_us", CK_UINT, coalesce_us, 0, 1000000, 100000),
    NUM("stream.processes", CK_UINT, stream_processes, 1, 256, 2),
    LIST("publish.tokens", CK_TOKENS, tokens, n_tokens),
    LIST("publish.open_channels", CK_GLOBS, open_channels,
         n_open_channels),
    NUM("publish.processes", CK_UINT, publish_processes, 1, 256, 2),
    NUM("fastcgi.read_timeout", CK_UINT, read_timeout_ms, 100, 600000,
        3000),
    NUM("fastcgi.max_pending", CK_UINT, max_pending, 16, 1000000, 1024),
    NUM("fastcgi.drain", CK_UINT, drain_ms, 0, 600000, 3000),
    STR("channel_pattern", CK_REGEX, channel_pattern, config_def_pattern),
    LIST("cors_origins", CK_ORIGINS, cors_origins, n_cors_origins),
    NUM("log_level", CK_LEVEL, log_level, 0, LOG_LEVEL_DEBUG,
        LOG_LEVEL_INFO),
    STR("mercure.publisher_jwt_key", CK_SECRET, mercure_pub_key,
        config_def_none),
    STR("mercure.publisher_jwt_key_file", CK_PATH, mercure_pub_key_file,
        config_def_none),
    STR("mercure.publisher_jwt_alg", CK_JWT_ALG, mercure_pub_alg,
        config_def_alg),
    STR("mercure.subscriber_jwt_key", CK_SECRET, mercure_sub_key,
        config_def_none),
    STR("mercure.subscriber_jwt_key_file", CK_PATH, mercure_sub_key_file,
        config_def_none),
    STR("mercure.subscriber_jwt_alg", CK_JWT_ALG, mercure_sub_alg,
        config_def_alg),
    STR("mercure.cookie_name", CK_COOKIE, mercure_cookie_name,
        config_def_cookie),
    NUM("mercure.anonymous", CK_BOOL, mercure_anonymous, 0, 1, 1),
    NUM("mercure.topic_max", CK_UINT, mercure_topic_max, 1,
        URI_TEMPLATE_SUBJECT_MAX, 1024),
    LIST("mercure.cors_credentials_origins", CK_CRED_ORIGINS,
         mercure_cred_origins, n_mercure_cred_origins),
    NUM("mercure.static_tokens_on_hub", CK_BOOL, mercure_static_on_hub, 0,
        1, 0),
    NUM("mercure.selector_cost_max", CK_UINT, mercure_selector_cost_max,
        1, 1000000, 64),
    NUM("mercure.stream_pattern_cost", CK_UINT, mercure_stream_pattern_cost,
        1, 100000000, 512),
    NUM("mercure.anonymous_pattern_cost", CK_UINT, mercure_anon_pattern_cost,
        1, 100000000, 32),
    NUM("mercure.process_pattern_cost", CK_UINT,
        mercure_process_pattern_cost, 1, 1000000000, 4096),
    STR("cluster.redis", CK_REDIS_URL, cluster_redis, config_def_empty),
    STR("cluster.prefix", CK_KEY, cluster_prefix, config_def_prefix),
    NUM("cluster.retention", CK_UINT, cluster_retention, 10, 1000000000,
        1000000),
    NUM("cluster.timeout_ms", CK_UINT, cluster_timeout_ms, 10, 60000,
        2000),
};
#define CONFIG_N_ITEMS (sizeof config_items / sizeof config_items[0])

/* An integer literal libconfig 1.5 cannot hold (see config_scan). */
struct config_big {
    unsigned line;              /* where it is in the file */
    char text[24];              /* the literal, maybe cut */
    bool claimed;               /* reported against a setting */
};

/* State of one config_load: where errors go, where each setting was. */
struct config_load {
    struct config *cfg;
    const char *path;
    char *err;
    size_t errlen;
    unsigned line[CONFIG_N_ITEMS];     /* 0 = left at its default */
    struct config_big big[CONFIG_BIG_MAX];
    size_t n_big;
};

/* The operations of one kind of setting. */
struct config_kind_ops {
    int (*parse)(struct config_load *ld, const struct config_item *it,
                 const config_setting_t *s, const char *name);
    void (*print)(const struct config_item *it, const struct config *cfg,
                  FILE *out);
    void (*release)(const struct config_item *it, struct config *cfg);
};

/* ---- field access ---- */

static void *config_field(const struct config_item *it,
                          const struct config *cfg)
{
    return (char *)cfg + it->off;
}

static size_t *config_count(const struct config_item *it,
                            const struct config *cfg)
{
    return (size_t *)((char *)cfg + it->count_off);
}

/* Stores v in a numeric field of any of the widths struct config uses. */
static void config_store_num(const struct config_item *it,
                             struct config *cfg, uint64_t v)
{
    void *f = config_field(it, cfg);

    if (it->width == sizeof(uint64_t))
        *(uint64_t *)f = v;
    else if (it->width == sizeof(bool))
        *(bool *)f = v != 0;
    else
        *(unsigned *)f = (unsigned)v;
}

static uint64_t config_load_num(const struct config_item *it,
                                const struct config *cfg)
{
    const void *f = config_field(it, cfg);

    if (it->width == sizeof(uint64_t))
        return *(const uint64_t *)f;
    if (it->width == sizeof(bool))
        return *(const bool *)f;
    return *(const unsigned *)f;
}

_Static_assert(sizeof(size_t) == sizeof(uint64_t),
               "size_t fields are stored as 64-bit numbers");
_Static_assert(sizeof(int) == sizeof(unsigned),
               "log_level is stored as an unsigned-width number");
_Static_assert(sizeof(bool) != sizeof(unsigned) &&
               sizeof(bool) != sizeof(uint64_t),
               "bool fields are told apart by their width");

/* ---- errors ---- */

/* Formats "FILE:LINE: name: reason" for setting s into ld->err; returns
 * -EINVAL so a parser can `return config_fail(...)`. */
__attribute__((format(printf, 4, 5)))
static int config_fail(struct config_load *ld, const config_setting_t *s,
                       const char *name, const char *fmt, ...)
{
    const char *file = s ? config_setting_source_file(s) : NULL;
    unsigned line = s ? config_setting_source_line(s) : 0;
    char reason[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s:%u: %s: %s", file ? file : ld->path,
             line, name, reason);
    return -EINVAL;
}

/* The name of a libconfig value type, for "must be X (got Y)". */
static const char *config_type_name(const config_setting_t *s)
{
    static const char *const names[] = {
        [CONFIG_TYPE_NONE] = "nothing", [CONFIG_TYPE_GROUP] = "a group",
        [CONFIG_TYPE_INT] = "an integer", [CONFIG_TYPE_INT64] = "an integer",
        [CONFIG_TYPE_FLOAT] = "a float", [CONFIG_TYPE_STRING] = "a string",
        [CONFIG_TYPE_BOOL] = "a boolean", [CONFIG_TYPE_ARRAY] = "an array",
        [CONFIG_TYPE_LIST] = "a list",
    };
    int t = config_setting_type(s);

    if (t < 0 || (size_t)t >= sizeof names / sizeof names[0])
        return "an unknown type";
    return names[t];
}

static int config_fail_type(struct config_load *ld, const config_setting_t *s,
                            const char *name, const char *want)
{
    return config_fail(ld, s, name, "must be %s (got %s)", want,
                       config_type_name(s));
}

/* Writes n with a K/M/G suffix when it divides evenly (as
 * util_parse_size reads it back). */
static const char *config_fmt_size(char *buf, size_t len, uint64_t n)
{
    static const struct { uint64_t mul; char c; } units[] = {
        { GIB, 'G' }, { MIB, 'M' }, { KIB, 'K' },
    };

    for (size_t i = 0; n != 0 && i < sizeof units / sizeof units[0]; i++) {
        if (n % units[i].mul == 0) {
            snprintf(buf, len, "%" PRIu64 "%c", n / units[i].mul,
                     units[i].c);
            return buf;
        }
    }
    snprintf(buf, len, "%" PRIu64, n);
    return buf;
}

/* Joins a, sep and b into a setting name for messages; a name too long
 * for buf is cut (it is only ever shown). */
static void config_name(char *buf, size_t len, const char *a,
                        const char *sep, const char *b)
{
    if (snprintf(buf, len, "%s%s%s", a, sep, b) >= (int)len)
        buf[len - 1] = '\0';
}

/* ---- scalar parsers ---- */

/* Reads an integer setting into *v; -EINVAL (reported) for another type
 * or a negative value. */
static int config_get_uint(struct config_load *ld, const config_setting_t *s,
                           const char *name, uint64_t *v)
{
    long long x;

    if (config_setting_type(s) != CONFIG_TYPE_INT &&
        config_setting_type(s) != CONFIG_TYPE_INT64)
        return config_fail_type(ld, s, name, "an integer");
    if (config_setting_type(s) == CONFIG_TYPE_INT)
        for (size_t i = 0; i < ld->n_big; i++)
            if (ld->big[i].line == config_setting_source_line(s)) {
                ld->big[i].claimed = true;
                return config_fail(ld, s, name, "%s is too large for 32 "
                                   "bits without an L suffix (write %sL)",
                                   ld->big[i].text, ld->big[i].text);
            }
    x = config_setting_get_int64(s);
    if (x < 0)
        return config_fail(ld, s, name, "must not be negative (got %lld)",
                           x);
    *v = (uint64_t)x;
    return 0;
}

/* Reads a string setting into *v; -EINVAL (reported) for another type. */
static int config_get_str(struct config_load *ld, const config_setting_t *s,
                          const char *name, const char **v)
{
    *v = "";
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return config_fail_type(ld, s, name, "a string");
    *v = config_setting_get_string(s);
    return 0;
}

/* Duplicates s, reporting ENOMEM against the setting. */
static int config_dup(struct config_load *ld, const config_setting_t *s,
                      const char *name, const char *v, char **out)
{
    *out = strdup(v);
    if (*out == NULL)
        return config_fail(ld, s, name, "out of memory");
    return 0;
}

static int config_parse_uint(struct config_load *ld,
                             const struct config_item *it,
                             const config_setting_t *s, const char *name)
{
    uint64_t v;

    if (config_get_uint(ld, s, name, &v) < 0)
        return -EINVAL;
    if (v < it->min || v > it->max)
        return config_fail(ld, s, name, "must be between %" PRIu64
                           " and %" PRIu64 " (got %" PRIu64 ")",
                           it->min, it->max, v);
    config_store_num(it, ld->cfg, v);
    return 0;
}

static int config_parse_size(struct config_load *ld,
                             const struct config_item *it,
                             const config_setting_t *s, const char *name)
{
    char lo[32], hi[32], got[32];
    const char *str;
    uint64_t v;

    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        str = config_setting_get_string(s);
        if (util_parse_size(str, &v) < 0)
            return config_fail(ld, s, name, "must be a size such as 65536, "
                               "\"64K\", \"64M\" or \"1G\" (got \"%s\")",
                               str);
    } else if (config_get_uint(ld, s, name, &v) < 0) {
        return -EINVAL;
    }
    if (v < it->min || v > it->max)
        return config_fail(ld, s, name, "must be between %s and %s "
                           "(got %s)",
                           config_fmt_size(lo, sizeof lo, it->min),
                           config_fmt_size(hi, sizeof hi, it->max),
                           config_fmt_size(got, sizeof got, v));
    config_store_num(it, ld->cfg, v);
    return 0;
}

static int config_parse_mode(struct config_load *ld,
                             const struct config_item *it,
                             const config_setting_t *s, const char *name)
{
    const char *str;
    size_t n;
    unsigned v = 0;

    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return config_fail(ld, s, name, "must be an octal string such as "
                           "\"0600\" (got %s; an unquoted 0600 is decimal)",
                           config_type_name(s));
    str = config_setting_get_string(s);
    n = strlen(str);
    for (size_t i = 0; i < n && n <= 4; i++)
        v = v * 8 + (unsigned)(str[i] - '0');
    if (n == 0 || n > 4 || strspn(str, "01234567") != n || v > it->max)
        return config_fail(ld, s, name, "must be an octal file mode from "
                           "\"0000\" to \"0777\" (got \"%s\")", str);
    if ((v & 0600) != 0600)
        return config_fail(ld, s, name, "must let the owner read and write"
                           " (0600; got \"%s\")", str);
    if (v & 0002)
        return config_fail(ld, s, name, "must not let every user write the"
                           " queue (got \"%s\"; share it with a group: "
                           "\"0660\")", str);
    config_store_num(it, ld->cfg, v);
    return 0;
}

static int config_parse_level(struct config_load *ld,
                              const struct config_item *it,
                              const config_setting_t *s, const char *name)
{
    const char *str;
    int v;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    v = log_level_parse(str);
    if (v < 0)
        return config_fail(ld, s, name, "must be \"error\", \"warn\", "
                           "\"info\" or \"debug\" (got \"%s\")", str);
    config_store_num(it, ld->cfg, (uint64_t)v);
    return 0;
}

/* Whether str names a queue the way queue_create expects: "/name" for
 * POSIX shared memory, or a file path with a '/' after its start. */
static bool config_queue_path_ok(const char *str)
{
    size_t n = strlen(str);
    const char *slash = strchr(str, '/');

    if (n == 0 || n >= PATH_MAX || slash == NULL || str[n - 1] == '/')
        return false;
    if (slash == str && strchr(str + 1, '/') == NULL)
        return n - 1 <= CONFIG_SHM_NAME_MAX;
    return true;
}

static int config_parse_queue_path(struct config_load *ld,
                                   const struct config_item *it,
                                   const config_setting_t *s,
                                   const char *name)
{
    const char *str;
    char **f = config_field(it, ld->cfg);

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    if (!config_queue_path_ok(str))
        return config_fail(ld, s, name, "must be a shared-memory name such "
                           "as \"/sseq\" or a file path such as "
                           "\"/var/lib/sseq/queue\" (got \"%s\")", str);
    return config_dup(ld, s, name, str, f);
}

/* A user or group as useradd(8) allows it (letters, digits, . _ -, not
 * starting with '-', at most 32 bytes) or a number; "" for automatic. */
static bool config_account_ok(const char *str)
{
    size_t n = strlen(str);

    return n <= 32 && str[0] != '-' &&
           strspn(str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789._-") == n;
}

static int config_parse_account(struct config_load *ld,
                                const struct config_item *it,
                                const config_setting_t *s, const char *name)
{
    const char *str;
    char **f = config_field(it, ld->cfg);

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    if (!config_account_ok(str))
        return config_fail(ld, s, name, "must be a user or group name "
                           "such as \"www-data\", a number, or \"\" "
                           "(got \"%s\")", str);
    if (str[0] == '\0')
        return 0;
    return config_dup(ld, s, name, str, f);
}

/* cluster.redis: "" or a URL cluster_url_parse takes (its password is a
 * secret: wiped from the stack copy). */
static int config_parse_redis_url(struct config_load *ld,
                                  const struct config_item *it,
                                  const config_setting_t *s,
                                  const char *name)
{
    struct cluster_url u;
    const char *str, *why;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    if (str[0] != '\0' && cluster_url_parse(str, &u, &why) < 0) {
        explicit_bzero(&u, sizeof(u));
        return config_fail(ld, s, name, "%s (a URL such as \"redis://"
                           "127.0.0.1:6379/0\", \"redis://:PASSWORD@host"
                           "\" or \"unix:///run/redis/redis.sock\")", why);
    }
    explicit_bzero(&u, sizeof(u));
    return config_dup(ld, s, name, str, config_field(it, ld->cfg));
}

/* cluster.prefix: 1 to 64 of A-Z a-z 0-9 _ . : - */
static int config_parse_key(struct config_load *ld,
                            const struct config_item *it,
                            const config_setting_t *s, const char *name)
{
    const char *str;
    size_t n;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    n = strlen(str);
    if (n == 0 || n > 64 || strspn(str, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789"
                                   "_.:-") != n)
        return config_fail(ld, s, name, "must be 1 to 64 of A-Z a-z 0-9 "
                           "_ . : - (got \"%s\")", str);
    return config_dup(ld, s, name, str, config_field(it, ld->cfg));
}

/* Compiles the ERE pat to match whole names ("^(pat)$") into re; 0 or a
 * regcomp error code. */
static int config_regcomp(regex_t *re, const char *pat)
{
    size_t n = strlen(pat) + 5;
    char *whole = malloc(n);
    int rc;

    if (whole == NULL)
        return REG_ESPACE;
    snprintf(whole, n, "^(%s)$", pat);
    rc = regcomp(re, whole, REG_EXTENDED | REG_NOSUB);
    free(whole);
    return rc;
}

static int config_parse_regex(struct config_load *ld,
                              const struct config_item *it,
                              const config_setting_t *s, const char *name)
{
    struct config *cfg = ld->cfg;
    const char *str;
    char why[256], *dup;
    regex_t re;
    int rc;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    if (str[0] == '\0' || strlen(str) > CONFIG_PATTERN_MAX)
        return config_fail(ld, s, name, "must be 1 to %d bytes",
                           CONFIG_PATTERN_MAX);
    /* Checked alone first, so "a)|(b" cannot hide inside "^(...)$". */
    rc = regcomp(&re, str, REG_EXTENDED | REG_NOSUB);
    if (rc == 0) {
        regfree(&re);
        rc = config_regcomp(&re, str);
    }
    if (rc != 0) {
        regerror(rc, NULL, why, sizeof why);
        return config_fail(ld, s, name, "bad regular expression \"%s\": %s",
                           str, why);
    }
    if (config_dup(ld, s, name, str, &dup) < 0) {
        regfree(&re);
        return -EINVAL;
    }
    cfg->channel_re = re;
    cfg->channel_pattern = dup;
    return 0;
}

/* A Mercure JWT key given inline: a secret or PEM text ("" = none). */
static int config_parse_secret(struct config_load *ld,
                               const struct config_item *it,
                               const config_setting_t *s, const char *name)
{
    const char *str;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    if (strlen(str) > JWT_AUTH_KEY_MAX)
        return config_fail(ld, s, name, "must be at most %d bytes",
                           JWT_AUTH_KEY_MAX);
    return config_dup(ld, s, name, str, config_field(it, ld->cfg));
}

static int config_parse_path(struct config_load *ld,
                             const struct config_item *it,
                             const config_setting_t *s, const char *name)
{
    const char *str;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    if (str[0] != '\0' && (str[0] != '/' || strlen(str) >= PATH_MAX))
        return config_fail(ld, s, name, "must be an absolute file path "
                           "(got \"%s\")", str);
    return config_dup(ld, s, name, str, config_field(it, ld->cfg));
}

static int config_parse_jwt_alg(struct config_load *ld,
                                const struct config_item *it,
                                const config_setting_t *s, const char *name)
{
    enum jwt_auth_alg alg;
    const char *str;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    if (jwt_auth_alg_parse(str, &alg) < 0)
        return config_fail(ld, s, name, "must be \"HS256\", \"HS384\", "
                           "\"HS512\", \"RS256\", \"RS384\", \"RS512\", "
                           "\"ES256\", \"ES384\" or \"ES512\" (got \"%s\")",
                           str);
    return config_dup(ld, s, name, str, config_field(it, ld->cfg));
}

/* A cookie name: an RFC 6265 token (visible ASCII but separators). */
static int config_parse_cookie(struct config_load *ld,
                               const struct config_item *it,
                               const config_setting_t *s, const char *name)
{
    const char *str;
    size_t n;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    n = strlen(str);
    for (size_t i = 0; i < n; i++)
        if (str[i] <= 0x20 || str[i] >= 0x7f ||
            strchr("()<>@,;:\\\"/[]?={}", str[i]) != NULL)
            n = 0;
    if (n == 0 || n > CONFIG_COOKIE_MAX)
        return config_fail(ld, s, name, "must be a cookie name of 1 to %d "
                           "visible ASCII characters without ()<>@,;:\\\"/"
                           "[]?={} (got \"%s\")", CONFIG_COOKIE_MAX, str);
    return config_dup(ld, s, name, str, config_field(it, ld->cfg));
}

static int config_parse_bool(struct config_load *ld,
                             const struct config_item *it,
                             const config_setting_t *s, const char *name)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return config_fail_type(ld, s, name, "true or false");
    config_store_num(it, ld->cfg, (uint64_t)config_setting_get_bool(s));
    return 0;
}

/* ---- list parsers ---- */

/* Checks that s is an array or list of at most max entries. */
static int config_check_list(struct config_load *ld,
                             const config_setting_t *s, const char *name,
                             bool groups)
{
    int t = config_setting_type(s), n = config_setting_length(s);

    if (t != CONFIG_TYPE_LIST && (groups || t != CONFIG_TYPE_ARRAY))
        return config_fail_type(ld, s, name, groups ?
                                "a list ( { ... }, ... )" :
                                "an array [ \"...\", ... ]");
    if (n > CONFIG_LIST_MAX)
        return config_fail(ld, s, name, "must have at most %d entries "
                           "(got %d)", CONFIG_LIST_MAX, n);
    return 0;
}

/* Validates one string of a list; NULL if fine, else the reason. */
typedef const char *(*config_str_check)(const char *str);

static const char *config_glob_check(const char *str)
{
    size_t n = strlen(str);

    if (n == 0 || n > CONFIG_GLOB_MAX)
        return "must be a channel glob of 1 to 255 bytes";
    return NULL;
}

/* Origin as a browser sends it: "*" or scheme://host[:port], lowercase,
 * no path, no trailing slash. */
static const char *config_origin_check(const char *str)
{
    static const char reason[] = "must be \"*\" or an origin such as "
        "\"https://example.com\" or \"http://localhost:8080\" (lowercase, "
        "no path)";
    const char *sep = strstr(str, "://");
    size_t scheme, n = strlen(str);

    if (strcmp(str, "*") == 0)
        return NULL;
    if (sep == NULL || n > CONFIG_ORIGIN_MAX || sep[3] == '\0')
        return reason;
    scheme = (size_t)(sep - str);
    if (scheme == 0 || strspn(str, "abcdefghijklmnopqrstuvwxyz"
                              "0123456789+.-") != scheme)
        return reason;
    if (strspn(sep + 3, "abcdefghijklmnopqrstuvwxyz0123456789.-:[]")
        != strlen(sep + 3))
        return reason;
    return NULL;
}

/* Parses an array of strings, each passing check, into a fresh *arr
 * (*cnt entries). On failure *arr holds what was parsed so far. */
static int config_parse_strs(struct config_load *ld,
                             const config_setting_t *s, const char *name,
                             config_str_check check, char ***arr,
                             size_t *cnt)
{
    int n;

    if (config_check_list(ld, s, name, false) < 0)
        return -EINVAL;
    n = config_setting_length(s);
    *arr = calloc((size_t)n + 1, sizeof **arr);
    if (*arr == NULL)
        return config_fail(ld, s, name, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char ename[CONFIG_NAME_MAX];
        const char *str, *why;

        snprintf(ename, sizeof ename, "%s[%d]", name, i);
        if (config_get_str(ld, e, ename, &str) < 0)
            return -EINVAL;
        why = check(str);
        if (why != NULL)
            return config_fail(ld, e, ename, "%s (got \"%s\")", why, str);
        if (config_dup(ld, e, ename, str, &(*arr)[i]) < 0)
            return -EINVAL;
        *cnt = (size_t)i + 1;
    }
    return 0;
}

static int config_parse_globs(struct config_load *ld,
                              const struct config_item *it,
                              const config_setting_t *s, const char *name)
{
    return config_parse_strs(ld, s, name, config_glob_check,
                             config_field(it, ld->cfg),
                             config_count(it, ld->cfg));
}

/* An origin trusted with credentials: never "*" (browsers refuse it). */
static const char *config_cred_origin_check(const char *str)
{
    if (strcmp(str, "*") == 0)
        return "must be an exact origin: \"*\" cannot carry credentials";
    return config_origin_check(str);
}

static int config_parse_cred_origins(struct config_load *ld,
                                     const struct config_item *it,
                                     const config_setting_t *s,
                                     const char *name)
{
    return config_parse_strs(ld, s, name, config_cred_origin_check,
                             config_field(it, ld->cfg),
                             config_count(it, ld->cfg));
}

static int config_parse_origins(struct config_load *ld,
                                const struct config_item *it,
                                const config_setting_t *s, const char *name)
{
    return config_parse_strs(ld, s, name, config_origin_check,
                             config_field(it, ld->cfg),
                             config_count(it, ld->cfg));
}

/* Words that mark a token as a placeholder copied from an example, never
 * a secret; matched case-insensitively anywhere in the token. */
static const char *const config_token_placeholders[] = {
    "change-me", "changeme", "change_me", "replace-me", "replaceme",
    "replace_me", "your-token", "your_token", "yourtoken", "placeholder",
    "example", "another-secret",
};

/* Which placeholder word tok contains, or NULL. */
const char *config_token_placeholder(const char *tok)
{
    size_t n = sizeof config_token_placeholders /
               sizeof config_token_placeholders[0];

    for (size_t i = 0; i < n; i++)
        if (strcasestr(tok, config_token_placeholders[i]) != NULL)
            return config_token_placeholders[i];
    return NULL;
}

/* Why str cannot be a bearer token, or NULL if it can: RFC 6750's
 * 16..512 of A-Z a-z 0-9 - . _ ~ + / then optional '=' padding, with
 * enough distinct characters, and no placeholder word. The reason never
 * quotes the token (it may be a real secret). */
const char *config_token_check(const char *str)
{
    bool seen[256] = { false };
    size_t n = strlen(str), body, variety = 0;

    if (config_token_placeholder(str) != NULL)
        return "is a placeholder copied from an example, not a secret: "
               "replace it with the output of `sseq token`";
    if (n < CONFIG_TOKEN_MIN || n > CONFIG_TOKEN_MAX)
        return "must be 16 to 512 characters of A-Z a-z 0-9 - . _ ~ + / "
               "(then optional '='); make one with `sseq token`";
    body = strspn(str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789-._~+/");
    if (body == 0 || strspn(str + body, "=") != n - body)
        return "must be 16 to 512 characters of A-Z a-z 0-9 - . _ ~ + / "
               "(then optional '='); make one with `sseq token`";
    for (size_t i = 0; i < n; i++) {
        variety += !seen[(unsigned char)str[i]];
        seen[(unsigned char)str[i]] = true;
    }
    if (variety < CONFIG_TOKEN_VARIETY)
        return "has too few distinct characters to be a secret: replace "
               "it with the output of `sseq token`";
    return NULL;
}

static int config_parse_token_value(struct config_load *ld,
                                    struct config_token *tok,
                                    const config_setting_t *s,
                                    const char *name)
{
    const char *str, *why;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    why = config_token_check(str);
    if (why != NULL && config_token_placeholder(str) != NULL)
        return config_fail(ld, s, name, "%s (it contains \"%s\")", why,
                           config_token_placeholder(str));
    if (why != NULL)
        return config_fail(ld, s, name, "%s", why);
    return config_dup(ld, s, name, str, &tok->token);
}

static int config_parse_token_channels(struct config_load *ld,
                                       struct config_token *tok,
                                       const config_setting_t *s,
                                       const char *name)
{
    if (config_check_list(ld, s, name, false) < 0)
        return -EINVAL;
    if (config_setting_length(s) == 0)
        return config_fail(ld, s, name, "must list at least one channel "
                           "glob (leave it out to allow every channel)");
    return config_parse_strs(ld, s, name, config_glob_check,
                             &tok->channels, &tok->n_channels);
}

/* The members a token group may have. */
static const struct {
    const char *name;
    int (*parse)(struct config_load *ld, struct config_token *tok,
                 const config_setting_t *s, const char *name);
} config_token_members[] = {
    { "token", config_parse_token_value },
    { "channels", config_parse_token_channels },
};

/* Parses one { token = ..; channels = [..]; } group into tok. */
static int config_parse_token(struct config_load *ld,
                              struct config_token *tok,
                              const config_setting_t *g, const char *gname)
{
    size_t nm = sizeof config_token_members / sizeof config_token_members[0];
    char name[CONFIG_NAME_MAX];
    int n = config_setting_length(g);

    if (!config_setting_is_group(g))
        return config_fail_type(ld, g, gname, "a group { token = ...; }");
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *mname = config_setting_name(m);
        size_t k = 0;

        config_name(name, sizeof name, gname, ".", mname);
        while (k < nm && strcmp(config_token_members[k].name, mname) != 0)
            k++;
        if (k == nm)
            return config_fail(ld, m, name, "unknown setting (a token has "
                               "\"token\" and \"channels\")");
        if (config_token_members[k].parse(ld, tok, m, name) < 0)
            return -EINVAL;
    }
    if (tok->token == NULL)
        return config_fail(ld, g, gname, "has no \"token\"");
    return 0;
}

static int config_parse_tokens(struct config_load *ld,
                               const struct config_item *it,
                               const config_setting_t *s, const char *name)
{
    struct config *cfg = ld->cfg;
    int n;

    if (config_check_list(ld, s, name, true) < 0)
        return -EINVAL;
    n = config_setting_length(s);
    cfg->tokens = calloc((size_t)n + 1, sizeof *cfg->tokens);
    if (cfg->tokens == NULL)
        return config_fail(ld, s, name, "out of memory");
    for (int i = 0; i < n; i++) {
        char gname[CONFIG_NAME_MAX];

        snprintf(gname, sizeof gname, "%s[%d]", name, i);
        cfg->n_tokens = (size_t)i + 1;
        if (config_parse_token(ld, &cfg->tokens[i],
                               config_setting_get_elem(s, (unsigned)i),
                               gname) < 0)
            return -EINVAL;
    }
    return 0;
}

/* ---- printing (libconfig syntax) ---- */

/* Writes str as a libconfig string literal. */
static void config_print_str(const char *str, FILE *out)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void config_print_strs(char *const *arr, size_t n, FILE *out)
{
    fputs("[ ", out);
    for (size_t i = 0; i < n; i++) {
        config_print_str(arr[i], out);
        fputs(i + 1 < n ? ", " : " ", out);
    }
    fputc(']', out);
}

static void config_print_string(const struct config_item *it,
                                const struct config *cfg, FILE *out)
{
    config_print_str(*(char *const *)config_field(it, cfg), out);
}

/* The URL with its password shown as "***". */
static void config_print_redis_url(const struct config_item *it,
                                   const struct config *cfg, FILE *out)
{
    char shown[CLUSTER_URL_MAX];

    config_print_str(cluster_url_redact(*(char *const *)config_field(it, cfg),
                                        shown, sizeof(shown)), out);
}

static void config_print_uint(const struct config_item *it,
                              const struct config *cfg, FILE *out)
{
    fprintf(out, "%" PRIu64, config_load_num(it, cfg));
}

static void config_print_size(const struct config_item *it,
                              const struct config *cfg, FILE *out)
{
    uint64_t v = config_load_num(it, cfg);
    char buf[32];

    config_fmt_size(buf, sizeof buf, v);
    if (v % KIB == 0 && v != 0)
        fprintf(out, "\"%s\"", buf);
    else
        fprintf(out, "%" PRIu64 "%s", v, v > INT_MAX ? "L" : "");
}

static void config_print_mode(const struct config_item *it,
                              const struct config *cfg, FILE *out)
{
    fprintf(out, "\"0%03" PRIo64 "\"", config_load_num(it, cfg));
}

static void config_print_level(const struct config_item *it,
                               const struct config *cfg, FILE *out)
{
    fprintf(out, "\"%s\"", log_level_name((int)config_load_num(it, cfg)));
}

static void config_print_list(const struct config_item *it,
                              const struct config *cfg, FILE *out)
{
    config_print_strs(*(char **const *)config_field(it, cfg),
                      *config_count(it, cfg), out);
}

/* Tokens are secrets: each prints as "****". */
static void config_print_tokens(const struct config_item *it,
                                const struct config *cfg, FILE *out)
{
    fputc('(', out);
    for (size_t i = 0; i < cfg->n_tokens; i++) {
        const struct config_token *t = &cfg->tokens[i];

        fputs(i ? ",\n      " : " ", out);
        fputs("{ token = \"****\";", out);
        if (t->n_channels != 0) {
            fputs(" channels = ", out);
            config_print_strs(t->channels, t->n_channels, out);
            fputc(';', out);
        }
        fputs(" }", out);
    }
    fputs(" )", out);
}

/* A secret prints as "****" ("" when unset). */
static void config_print_secret(const struct config_item *it,
                                const struct config *cfg, FILE *out)
{
    const char *v = *(char *const *)config_field(it, cfg);

    fputs(v[0] != '\0' ? "\"****\"" : "\"\"", out);
}

static void config_print_bool(const struct config_item *it,
                              const struct config *cfg, FILE *out)
{
    fputs(config_load_num(it, cfg) ? "true" : "false", out);
}

/* ---- freeing ---- */

static void config_release_string(const struct config_item *it,
                                  struct config *cfg)
{
    char **f = config_field(it, cfg);

    if (*f != it->def_str)
        free(*f);
    *f = (char *)it->def_str;
}

/* A string that may hold a secret: wiped before it is freed. */
static void config_release_secret(const struct config_item *it,
                                  struct config *cfg)
{
    char **f = config_field(it, cfg);

    if (*f != it->def_str)
        explicit_bzero(*f, strlen(*f));
    config_release_string(it, cfg);
}

static void config_release_regex(const struct config_item *it,
                                 struct config *cfg)
{
    if (cfg->channel_pattern != NULL &&
        cfg->channel_pattern != it->def_str)
        regfree(&cfg->channel_re);
    config_release_string(it, cfg);
}

static void config_free_strs(char **arr, size_t n)
{
    for (size_t i = 0; arr != NULL && i < n; i++)
        free(arr[i]);
    free(arr);
}

static void config_release_list(const struct config_item *it,
                                struct config *cfg)
{
    char ***arr = config_field(it, cfg);
    size_t *cnt = config_count(it, cfg);

    config_free_strs(*arr, *cnt);
    *arr = NULL;
    *cnt = 0;
}

static void config_release_tokens(const struct config_item *it,
                                  struct config *cfg)
{
    for (size_t i = 0; cfg->tokens != NULL && i < cfg->n_tokens; i++) {
        struct config_token *t = &cfg->tokens[i];

        if (t->token != NULL)
            explicit_bzero(t->token, strlen(t->token));
        free(t->token);
        config_free_strs(t->channels, t->n_channels);
    }
    free(cfg->tokens);
    cfg->tokens = NULL;
    cfg->n_tokens = 0;
}

static void config_release_none(const struct config_item *it,
                                struct config *cfg)
{
}

static const struct config_kind_ops config_kinds[] = {
    [CK_QUEUE_PATH] = { config_parse_queue_path, config_print_string,
                        config_release_string },
    [CK_UINT]       = { config_parse_uint, config_print_uint,
                        config_release_none },
    [CK_SIZE]       = { config_parse_size, config_print_size,
                        config_release_none },
    [CK_MODE]       = { config_parse_mode, config_print_mode,
                        config_release_none },
    [CK_LEVEL]      = { config_parse_level, config_print_level,
                        config_release_none },
    [CK_REGEX]      = { config_parse_regex, config_print_string,
                        config_release_regex },
    [CK_GLOBS]      = { config_parse_globs, config_print_list,
                        config_release_list },
    [CK_ORIGINS]    = { config_parse_origins, config_print_list,
                        config_release_list },
    [CK_TOKENS]     = { config_parse_tokens, config_print_tokens,
                        config_release_tokens },
    [CK_SECRET]     = { config_parse_secret, config_print_secret,
                        config_release_secret },
    [CK_PATH]       = { config_parse_path, config_print_string,
                        config_release_string },
    [CK_JWT_ALG]    = { config_parse_jwt_alg, config_print_string,
                        config_release_string },
    [CK_COOKIE]     = { config_parse_cookie, config_print_string,
                        config_release_string },
    [CK_BOOL]       = { config_parse_bool, config_print_bool,
                        config_release_none },
    [CK_CRED_ORIGINS] = { config_parse_cred_origins, config_print_list,
                          config_release_list },
    [CK_ACCOUNT]    = { config_parse_account, config_print_string,
                        config_release_string },
    [CK_REDIS_URL]  = { config_parse_redis_url, config_print_redis_url,
                        config_release_secret },
    [CK_KEY]        = { config_parse_key, config_print_string,
                        config_release_string },
};

/* ---- defaults ---- */

static pthread_once_t config_re_once = PTHREAD_ONCE_INIT;
static regex_t config_def_re;           /* compiled config_def_pattern */
static int config_def_re_rc = -1;       /* its regcomp result */

static void config_compile_default(void)
{
    config_def_re_rc = config_regcomp(&config_def_re, config_def_pattern);
}

/* Fills cfg from the table; allocates nothing (see the file comment).
 * -ENOMEM only if the default channel pattern cannot be compiled. */
int config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < CONFIG_N_ITEMS; i++) {
        const struct config_item *it = &config_items[i];

        if (it->def_str != NULL)
            *(const char **)config_field(it, cfg) = it->def_str;
        else if (it->count_off == 0)
            config_store_num(it, cfg, it->def);
    }
    pthread_once(&config_re_once, config_compile_default);
    if (config_def_re_rc != 0)
        return -ENOMEM;
    cfg->channel_re = config_def_re;
    return 0;
}

/* Wipes and frees a loaded JWT key. */
static void config_jwt_key_free(struct config_jwt_key *k)
{
    if (k->key != NULL)
        explicit_bzero(k->key, k->len);
    free(k->key);
    memset(k, 0, sizeof(*k));
}

/* Frees what config_load allocated and leaves cfg holding the defaults,
 * so freeing twice, or using cfg after, is safe. */
void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < CONFIG_N_ITEMS; i++)
        config_kinds[config_items[i].kind].release(&config_items[i], cfg);
    config_jwt_key_free(&cfg->mercure_pub);
    config_jwt_key_free(&cfg->mercure_sub);
    free(cfg->file);
    config_defaults(cfg);
}

const char *config_path(const char *explicit_path)
{
    const char *env;

    if (explicit_path != NULL && explicit_path[0] != '\0')
        return explicit_path;
    env = getenv("SSEQ_CONF");
    if (env != NULL && env[0] != '\0')
        return env;
    return SYSCONFDIR "/sseq.conf";
}

/* ---- loading ---- */

/* The table row for a dotted name, or NULL. */
static const struct config_item *config_item_find(const char *name)
{
    for (size_t i = 0; i < CONFIG_N_ITEMS; i++)
        if (strcmp(config_items[i].name, name) == 0)
            return &config_items[i];
    return NULL;
}

/* Whether name is a group of the table ("queue" for "queue.path"). */
static bool config_is_group(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < CONFIG_N_ITEMS; i++)
        if (strncmp(config_items[i].name, name, n) == 0 &&
            config_items[i].name[n] == '.')
            return true;
    return false;
}

static int config_walk(struct config_load *ld, const config_setting_t *grp,
                       const char *prefix);

/* Parses member s of a group whose dotted name is name. */
static int config_walk_one(struct config_load *ld,
                           const config_setting_t *s, const char *name)
{
    const struct config_item *it = config_item_find(name);

    if (it != NULL) {
        if (config_kinds[it->kind].parse(ld, it, s, name) < 0)
            return -EINVAL;
        ld->line[it - config_items] = config_setting_source_line(s);
        return 0;
    }
    if (!config_is_group(name))
        return config_fail(ld, s, name, "unknown setting");
    if (!config_setting_is_group(s))
        return config_fail_type(ld, s, name, "a group { ... }");
    return config_walk(ld, s, name);
}

/* Parses every member of group grp (the root when prefix is NULL). */
static int config_walk(struct config_load *ld, const config_setting_t *grp,
                       const char *prefix)
{
    int n = config_setting_length(grp);

    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
        char name[CONFIG_NAME_MAX];

        config_name(name, sizeof name, prefix ? prefix : "",
                    prefix ? "." : "", config_setting_name(s));
        if (config_walk_one(ld, s, name) < 0)
            return -EINVAL;
    }
    return 0;
}

static bool config_rule_msg_fits(const struct config *cfg)
{
    return cfg->max_message_size <= cfg->queue_size / 4;
}

static bool config_rule_buffer_holds(const struct config *cfg)
{
    return cfg->client_buffer >= cfg->max_message_size;
}

/* Relations between settings. A broken rule is reported against the
 * first setting, or against the second when the first is a default. */
static const struct config_rule {
    bool (*ok)(const struct config *cfg);
    const char *name, *reason;
    const char *other, *other_reason;
} config_rules[] = {
    { config_rule_msg_fits,
      "max_message_size", "must be at most a quarter of queue.size",
      "queue.size", "must be at least 4 times max_message_size" },
    { config_rule_buffer_holds,
      "stream.client_buffer", "must be at least max_message_size",
      "max_message_size", "must be at most stream.client_buffer" },
};

/* Checks config_rules; reports the first broken one. */
static int config_check_rules(struct config_load *ld)
{
    size_t n = sizeof config_rules / sizeof config_rules[0];

    for (size_t i = 0; i < n; i++) {
        const struct config_rule *r = &config_rules[i];
        size_t a = (size_t)(config_item_find(r->name) - config_items);
        size_t b = (size_t)(config_item_find(r->other) - config_items);

        if (r->ok(ld->cfg))
            continue;
        if (ld->line[a] != 0)
            snprintf(ld->err, ld->errlen, "%s:%u: %s: %s", ld->path,
                     ld->line[a], r->name, r->reason);
        else
            snprintf(ld->err, ld->errlen, "%s:%u: %s: %s", ld->path,
                     ld->line[b], r->other, r->other_reason);
        return -EINVAL;
    }
    return 0;
}

/* ---- Mercure JWT keys ---- */

/* The settings of one Mercure key and where its material goes. */
static const struct config_key_rule {
    const char *key, *file, *alg;       /* setting names */
    size_t key_off, file_off, alg_off, out_off;
} config_key_rules[] = {
    { "mercure.publisher_jwt_key", "mercure.publisher_jwt_key_file",
      "mercure.publisher_jwt_alg", offsetof(struct config, mercure_pub_key),
      offsetof(struct config, mercure_pub_key_file),
      offsetof(struct config, mercure_pub_alg),
      offsetof(struct config, mercure_pub) },
    { "mercure.subscriber_jwt_key", "mercure.subscriber_jwt_key_file",
      "mercure.subscriber_jwt_alg", offsetof(struct config, mercure_sub_key),
      offsetof(struct config, mercure_sub_key_file),
      offsetof(struct config, mercure_sub_alg),
      offsetof(struct config, mercure_sub) },
};

/* Reports reason against setting name at the line it was read from. */
__attribute__((format(printf, 3, 4)))
static int config_fail_at(struct config_load *ld, const char *name,
                          const char *fmt, ...)
{
    const struct config_item *it = config_item_find(name);
    char reason[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s:%u: %s: %s", ld->path,
             ld->line[it - config_items], name, reason);
    return -EINVAL;
}

/* Reads a key file (at most JWT_AUTH_KEY_MAX bytes) into *out, *len. */
static int config_read_key_file(const char *path, unsigned char **out,
                                size_t *len)
{
    FILE *fp = fopen(path, "rbe");
    unsigned char *buf;
    size_t n;
    int rc;

    if (fp == NULL)
        return -errno;
    buf = malloc(JWT_AUTH_KEY_MAX + 1);
    if (buf == NULL) {
        fclose(fp);
        return -ENOMEM;
    }
    n = fread(buf, 1, JWT_AUTH_KEY_MAX + 1, fp);
    rc = ferror(fp) ? -EIO : n > JWT_AUTH_KEY_MAX ? -EFBIG : 0;
    fclose(fp);
    if (rc < 0) {
        explicit_bzero(buf, n);
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Loads one key: from its file or inline text, checked against its
 * algorithm, into the derived field. */
static int config_load_key(struct config_load *ld,
                           const struct config_key_rule *r)
{
    const char *key = *(char **)((char *)ld->cfg + r->key_off);
    const char *file = *(char **)((char *)ld->cfg + r->file_off);
    const char *alg = *(char **)((char *)ld->cfg + r->alg_off);
    struct config_jwt_key *out = (void *)((char *)ld->cfg + r->out_off);
    const char *why;
    int rc;

    if (key[0] != '\0' && file[0] != '\0')
        return config_fail_at(ld, r->file, "set %s or %s, not both",
                              r->key, r->file);
    if (key[0] == '\0' && file[0] == '\0')
        return 0;
    (void)jwt_auth_alg_parse(alg, &out->alg);   /* checked when parsed */
    if (file[0] != '\0') {
        rc = config_read_key_file(file, &out->key, &out->len);
        if (rc < 0)
            return config_fail_at(ld, r->file, "cannot read \"%s\": %s",
                                  file, strerror(-rc));
    } else {
        out->len = strlen(key);
        out->key = (unsigned char *)strdup(key);
        if (out->key == NULL)
            return config_fail_at(ld, r->key, "out of memory");
    }
    if (jwt_auth_key_check(out->alg, out->key, out->len, &why) < 0)
        return config_fail_at(ld, file[0] ? r->file : r->key, "%s (%s is "
                              "%s)", why, r->alg, alg);
    return 0;
}

/* Loads every Mercure key; reports the first bad one. */
static int config_load_keys(struct config_load *ld)
{
    size_t n = sizeof config_key_rules / sizeof config_key_rules[0];

    for (size_t i = 0; i < n; i++)
        if (config_load_key(ld, &config_key_rules[i]) < 0)
            return -EINVAL;
    return 0;
}

/* ---- integer literals libconfig 1.5 would wrap ---- */

/* libconfig 1.5 silently wraps an integer literal beyond 32 bits that has
 * no L suffix ("size = 4294967296;" reads as 0, 0xFFFFFFFF as -1). This
 * scanner, a small state machine over the file text, finds such literals
 * so that the setting holding one is refused rather than misread. */
enum config_scan_state {
    CS_CODE, CS_STRING, CS_ESCAPE, CS_LINE_COMMENT, CS_BLOCK_COMMENT,
};

/* Value of digit c in base 10 or 16, -1 if it is not one. */
static int config_digit(char c, unsigned base)
{
    int d = -1;

    if (c >= '0' && c <= '9')
        d = c - '0';
    else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
    return d >= 0 && (unsigned)d < base ? d : -1;
}

/* Scans the number at p (sign, decimal or 0x hex, maybe a float); records
 * it when it does not fit an int and has no L suffix. Returns its end. */
static const char *config_scan_number(struct config_load *ld, const char *p,
                                      unsigned line)
{
    const char *start = p;
    unsigned base = 10;
    uint64_t v = 0, lim;
    bool neg = *p == '-', big = false;
    int d;

    if (*p == '-' || *p == '+')
        p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (; (d = config_digit(*p, base)) >= 0; p++) {
        big |= v > (UINT64_MAX - (unsigned)d) / base;
        v = v * base + (unsigned)d;
    }
    if (base == 10 && (*p == '.' || *p == 'e' || *p == 'E'))
        return p + strspn(p, "0123456789.eE+-");       /* a float */
    if (*p == 'L')
        return p + strspn(p, "L");
    lim = base == 16 ? INT_MAX : neg ? (uint64_t)INT_MAX + 1 : INT_MAX;
    if ((big || v > lim) && ld->n_big < CONFIG_BIG_MAX) {
        struct config_big *b = &ld->big[ld->n_big++];

        b->line = line;
        snprintf(b->text, sizeof b->text, "%.*s", (int)(p - start), start);
    }
    return p;
}

/* One step in code (outside strings and comments); returns the next p. */
static const char *config_scan_code(struct config_load *ld, const char *p,
                                    unsigned line,
                                    enum config_scan_state *st)
{
    static const char ident[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "abcdefghijklmnopqrstuvwxyz0123456789-_*";

    if (*p == '"')
        *st = CS_STRING;
    else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
        *st = CS_LINE_COMMENT;
    else if (p[0] == '/' && p[1] == '*') {
        *st = CS_BLOCK_COMMENT;
        return p + 2;
    } else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
               *p == '*' || *p == '_')
        return p + strspn(p, ident);
    else if ((*p >= '0' && *p <= '9') ||
             ((*p == '-' || *p == '+') && p[1] >= '0' && p[1] <= '9'))
        return config_scan_number(ld, p, line);
    return p + 1;
}

/* Records in ld->big every integer literal of text libconfig would wrap. */
static void config_scan(struct config_load *ld, const char *text)
{
    enum config_scan_state st = CS_CODE;
    unsigned line = 1;
    const char *p = text;

    while (*p != '\0') {
        const char *q = p;

        switch (st) {
        case CS_CODE:
            p = config_scan_code(ld, p, line, &st);
            break;
        case CS_STRING:
            st = *p == '\\' ? CS_ESCAPE : *p == '"' ? CS_CODE : CS_STRING;
            p++;
            break;
        case CS_ESCAPE:
            st = CS_STRING;
            p++;
            break;
        case CS_LINE_COMMENT:
            st = *p == '\n' ? CS_CODE : CS_LINE_COMMENT;
            p++;
            break;
        case CS_BLOCK_COMMENT:
            if (p[0] == '*' && p[1] == '/') {
                st = CS_CODE;
                p++;
            }
            p++;
            break;
        }
        for (; q < p; q++)
            line += *q == '\n';
    }
}

/* Reads the whole file at ld->path into a NUL-terminated *text (caller
 * frees). 1 if it is missing and may be; -errno (reported) on failure. */
static int config_read_text(struct config_load *ld, bool must_exist,
                            char **text)
{
    FILE *fp = fopen(ld->path, "re");
    struct stat st;
    size_t n;
    int rc = 0;

    if (fp == NULL) {
        if (errno == ENOENT && !must_exist)
            return 1;
        rc = -errno;
        goto fail_open;
    }
    if (fstat(fileno(fp), &st) < 0) {
        rc = -errno;
        goto fail_read;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -EFBIG;
        goto fail_read;
    }
    *text = malloc((size_t)st.st_size + 1);
    if (*text == NULL) {
        rc = -ENOMEM;
        goto fail_read;
    }
    n = fread(*text, 1, (size_t)st.st_size, fp);
    (*text)[n] = '\0';
    if (ferror(fp)) {
        rc = -EIO;
        free(*text);
        goto fail_read;
    }
    fclose(fp);
    return 0;

fail_read:
    fclose(fp);
fail_open:
    snprintf(ld->err, ld->errlen, "%s: cannot read: %s", ld->path,
             strerror(-rc));
    return rc;
}

/* Parses text into lc; -EINVAL (reported as FILE:LINE: the parser's
 * message) on a syntax error. @include paths are relative to the file. */
static int config_parse_text(struct config_load *ld, config_t *lc,
                             const char *text)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(ld->path, '/');

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == ld->path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - ld->path),
                 ld->path);
    config_set_include_dir(lc, dir);
    if (config_read_string(lc, text) == CONFIG_TRUE)
        return 0;
    snprintf(ld->err, ld->errlen, "%s:%d: %s",
             config_error_file(lc) ? config_error_file(lc) : ld->path,
             config_error_line(lc),
             config_error_text(lc) ? config_error_text(lc) : "parse error");
    return -EINVAL;
}

/* Reports a too-large integer no setting claimed (see config_scan). */
static int config_check_big(struct config_load *ld)
{
    for (size_t i = 0; i < ld->n_big; i++) {
        if (ld->big[i].claimed)
            continue;
        snprintf(ld->err, ld->errlen, "%s:%u: integer %s: too large for "
                 "32 bits without an L suffix (write %sL)", ld->path,
                 ld->big[i].line, ld->big[i].text, ld->big[i].text);
        return -EINVAL;
    }
    return 0;
}

/* Loads path into cfg (see config.h). cfg is first set to the defaults
 * (config_defaults allocates nothing, so a cfg already holding defaults is
 * fine; one holding a loaded file must be config_free'd first). */
int config_load(struct config *cfg, const char *path, bool must_exist,
                char *err, size_t errlen)
{
    struct config tmp;
    struct config_load ld = { .cfg = &tmp, .err = err, .errlen = errlen };
    char *text = NULL;
    config_t lc;
    int rc;

    if (errlen != 0)
        err[0] = '\0';
    ld.path = path ? path : config_path(NULL);
    if (config_defaults(cfg) < 0 || config_defaults(&tmp) < 0) {
        snprintf(err, errlen, "%s: out of memory", ld.path);
        return -1;
    }
    rc = config_read_text(&ld, must_exist, &text);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    config_init(&lc);
    if (config_parse_text(&ld, &lc, text) < 0)
        goto fail_parse;
    config_scan(&ld, text);
    tmp.file = strdup(ld.path);
    if (tmp.file == NULL ||
        config_walk(&ld, config_root_setting(&lc), NULL) < 0 ||
        config_check_big(&ld) < 0 || config_check_rules(&ld) < 0 ||
        config_load_keys(&ld) < 0)
        goto fail_walk;
    config_destroy(&lc);
    free(text);
    *cfg = tmp;
    return 0;

fail_walk:
    if (err[0] == '\0')
        snprintf(err, errlen, "%s: out of memory", ld.path);
    config_free(&tmp);
fail_parse:
    config_destroy(&lc);
    free(text);
    return -1;
}

/* ---- queries ---- */

void config_print(const struct config *cfg, FILE *out)
{
    const char *group = NULL;
    size_t glen = 0;

    fprintf(out, "# sseq effective configuration (%s)\n",
            cfg->file ? cfg->file : "built-in defaults");
    for (size_t i = 0; i < CONFIG_N_ITEMS; i++) {
        const struct config_item *it = &config_items[i];
        const char *dot = strchr(it->name, '.');
        size_t len = dot ? (size_t)(dot - it->name) : 0;

        if (group && (len != glen || strncmp(group, it->name, len) != 0)) {
            fputs("};\n", out);
            group = NULL;
        }
        if (dot && group == NULL) {
            fprintf(out, "%.*s: {\n", (int)len, it->name);
            group = it->name;
            glen = len;
        }
        fprintf(out, "%s%s = ", group ? "  " : "", dot ? dot + 1 : it->name);
        config_kinds[it->kind].print(it, cfg, out);
        fputs(";\n", out);
    }
    if (group)
        fputs("};\n", out);
}

bool config_channel_valid(const struct config *cfg, const char *name,
                          size_t len)
{
    char buf[CONFIG_CHANNEL_MAX + 1];

    if (name == NULL || len == 0 || len > CONFIG_CHANNEL_MAX ||
        memchr(name, '\0', len) != NULL || memchr(name, '\n', len) ||
        memchr(name, '\r', len))
        return false;               /* whatever the pattern: a channel
                                       name is an SSE "channel:" line */
    memcpy(buf, name, len);
    buf[len] = '\0';
    return regexec(&cfg->channel_re, buf, 0, NULL, 0) == 0;
}

const char *config_cors_allow(const struct config *cfg, const char *origin)
{
    for (size_t i = 0; i < cfg->n_cors_origins; i++)
        if (strcmp(cfg->cors_origins[i], "*") == 0)
            return "*";
    for (size_t i = 0; origin != NULL && i < cfg->n_cors_origins; i++)
        if (strcmp(cfg->cors_origins[i], origin) == 0)
            return origin;
    return NULL;
}
