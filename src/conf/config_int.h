/* config_int.h -- what the settings engine (config.c), its value types
 * (config_types.c) and the owners' settings files (conf_*.c) share.
 *
 * Like an nginx module's ngx_command_t[], each owner (queue, stream,
 * publish, ...) exports one struct config_module: its rows of settings,
 * each naming a type (how a value is parsed, printed and freed) and, for
 * strings and list entries, a check of the value; plus optional hooks:
 * defaults beyond the rows, a check of relations between settings run
 * after the file is read, and a release of what that check derived.
 * config.c lists the modules once (config_modules[]), in the order
 * config_print writes them.
 * Not for use outside src/conf/. */
#ifndef SSEQ_CONFIG_INT_H
#define SSEQ_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "conf/config.h"

#define CONFIG_NAME_MAX    128  /* longest dotted setting name reported */
#define CONFIG_LIST_MAX    1024 /* entries in any list setting */
#define CONFIG_ITEMS_MAX   64   /* rows over every module */
#define CONFIG_BIG_MAX     16   /* too-large integers remembered */
#define CONFIG_WHY_MAX     512  /* bytes of a reason */

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define TIB (1ull << 40)

struct config_item;
struct config_load;

/* Why str cannot be the value of a string setting (or a list entry), or
 * NULL if it can. The reason may be written into buf[0..len). */
typedef const char *(*config_check)(const char *str, char *buf, size_t len);

/* How one type of value is parsed (reporting its own error), printed in
 * libconfig syntax and freed. */
struct config_type {
    int (*parse)(struct config_load *ld, const struct config_item *it,
                 const config_setting_t *s, const char *name);
    void (*print)(const struct config_item *it, const struct config *cfg,
                  FILE *out);
    void (*release)(const struct config_item *it, struct config *cfg);
};

/* One row of a settings table. */
struct config_item {
    const char *name;           /* dotted path in the file */
    const struct config_type *type;
    size_t off;                 /* offset of the field in struct config */
    size_t width;               /* sizeof the field (numbers) */
    size_t count_off;           /* offset of the count field (lists) */
    uint64_t min, max;          /* limits (numbers) */
    uint64_t def;               /* default (numbers) */
    const char *def_str;        /* default (strings) */
    config_check check;         /* strings and list entries; NULL = any */
};

#define CONFIG_FIELD_SIZE(f) sizeof(((struct config *)0)->f)
#define CONFIG_NUM(n, t, f, lo, hi, d) \
    { n, &(t), offsetof(struct config, f), CONFIG_FIELD_SIZE(f), 0, lo, \
      hi, d, NULL, NULL }
#define CONFIG_STR(n, t, f, d, chk) \
    { n, &(t), offsetof(struct config, f), CONFIG_FIELD_SIZE(f), 0, 0, 0, \
      0, d, chk }
#define CONFIG_LIST(n, t, f, cnt, chk) \
    { n, &(t), offsetof(struct config, f), CONFIG_FIELD_SIZE(f), \
      offsetof(struct config, cnt), 0, CONFIG_LIST_MAX, 0, NULL, chk }

/* One owner's settings. */
struct config_module {
    const struct config_item *items;
    size_t n_items;
    int (*defaults)(struct config *cfg);        /* beyond the rows; NULL */
    int (*check)(struct config_load *ld);       /* relations; NULL */
    void (*release)(struct config *cfg);        /* what check derived */
};

#define CONFIG_MODULE(items, defaults, check, release) \
    { items, sizeof (items) / sizeof (items)[0], defaults, check, release }

/* An integer literal libconfig 1.5 cannot hold (see config_scan.c). */
struct config_big {
    unsigned line;              /* where it is in the file */
    char text[24];              /* the literal, maybe cut */
    char name[CONFIG_NAME_MAX]; /* the setting it is the value of, or "" */
    bool claimed;               /* reported against a setting */
};

/* State of one config_load: where errors go, where each setting was. */
struct config_load {
    struct config *cfg;
    const char *path;
    char *err;
    size_t errlen;
    unsigned line[CONFIG_ITEMS_MAX];    /* by config_item_index; 0 = the
                                           default */
    struct config_big big[CONFIG_BIG_MAX];
    size_t n_big;
};

/* The owners (conf_*.c), gathered by config.c. */
extern const struct config_module conf_queue_module, conf_stream_module,
    conf_publish_module, conf_fastcgi_module, conf_channel_module,
    conf_http_module, conf_log_module, conf_mercure_module,
    conf_cluster_module;

/* ---- engine (config.c) ---- */

/* Formats "FILE:LINE: name: reason" for setting s into ld->err; returns
 * -EINVAL so a parser can `return config_fail(...)`. */
__attribute__((format(printf, 4, 5)))
int config_fail(struct config_load *ld, const config_setting_t *s,
                const char *name, const char *fmt, ...);

/* The name of a libconfig value type, for "must be X (got Y)". */
const char *config_type_name(const config_setting_t *s);

/* "must be WANT (got TYPE)" against s; -EINVAL. */
int config_fail_type(struct config_load *ld, const config_setting_t *s,
                     const char *name, const char *want);

/* Reports reason against setting name at the line it was read from (a
 * check after reading); -EINVAL. */
__attribute__((format(printf, 3, 4)))
int config_fail_at(struct config_load *ld, const char *name,
                   const char *fmt, ...);

/* A broken relation between settings a and b: reported against a, or
 * against b when a was left at its default; -EINVAL. */
int config_fail_pair(struct config_load *ld, const char *a,
                     const char *reason_a, const char *b,
                     const char *reason_b);

/* Joins a, sep and b into a setting name for messages (cut to len). */
void config_name(char *buf, size_t len, const char *a, const char *sep,
                 const char *b);

/* ---- values (config_types.c) ---- */

static inline void *config_field(const struct config_item *it,
                                 const struct config *cfg)
{
    return (char *)cfg + it->off;
}

static inline size_t *config_count(const struct config_item *it,
                                   const struct config *cfg)
{
    return (size_t *)((char *)cfg + it->count_off);
}

/* Stores or reads a numeric field of any width struct config uses. */
void config_store_num(const struct config_item *it, struct config *cfg,
                      uint64_t v);
uint64_t config_load_num(const struct config_item *it,
                         const struct config *cfg);

/* Reads an integer (>= 0) or a string setting; -EINVAL (reported) for
 * another type. */
int config_get_uint(struct config_load *ld, const config_setting_t *s,
                    const char *name, uint64_t *v);
int config_get_str(struct config_load *ld, const config_setting_t *s,
                   const char *name, const char **v);

/* Duplicates v into *out, reporting ENOMEM against the setting. */
int config_dup(struct config_load *ld, const config_setting_t *s,
               const char *name, const char *v, char **out);

/* Checks that s is an array (or, with groups, a list) of at most
 * CONFIG_LIST_MAX entries; -EINVAL (reported). */
int config_check_list(struct config_load *ld, const config_setting_t *s,
                      const char *name, bool groups);

/* Parses an array of strings, each passing check, into a fresh *arr
 * (*cnt entries). On failure *arr holds what was parsed so far. */
int config_parse_strs(struct config_load *ld, const config_setting_t *s,
                      const char *name, config_check check, char ***arr,
                      size_t *cnt);

/* Writes str as a libconfig string literal; arr as an array of them. */
void config_print_str(const char *str, FILE *out);
void config_print_strs(char *const *arr, size_t n, FILE *out);

/* Frees n strings and the array. */
void config_free_strs(char **arr, size_t n);

/* The operations types are built of (owners compose their own). */
int config_parse_string(struct config_load *ld, const struct config_item *it,
                        const config_setting_t *s, const char *name);
int config_parse_secret(struct config_load *ld, const struct config_item *it,
                        const config_setting_t *s, const char *name);
void config_print_string(const struct config_item *it,
                         const struct config *cfg, FILE *out);
void config_release_string(const struct config_item *it, struct config *cfg);
void config_release_secret(const struct config_item *it, struct config *cfg);
void config_release_none(const struct config_item *it, struct config *cfg);

/* The types every owner may use. */
extern const struct config_type config_type_uint;   /* [min, max] */
extern const struct config_type config_type_size;   /* or "64K" ... */
extern const struct config_type config_type_bool;   /* true | false */
extern const struct config_type config_type_string; /* passes check */
extern const struct config_type config_type_secret; /* printed "****",
                                                       wiped, never quoted */
extern const struct config_type config_type_strings; /* [ "...", ... ] */

/* Checks shared by owners: "" or an absolute file path; an origin as a
 * browser sends it ("*" or scheme://host[:port]). */
const char *config_check_path(const char *str, char *buf, size_t len);
const char *config_check_origin(const char *str, char *buf, size_t len);

/* ---- integer literals libconfig 1.5 would wrap (config_scan.c) ---- */

/* Records in ld->big every integer literal of text libconfig would wrap. */
void config_scan(struct config_load *ld, const char *text);

/* For a libconfig error on line of text (which names no setting): the
 * dotted name ("queue", "queue.path", "publish.tokens[1].token") of the
 * setting there that was already set before (twice), or else of the
 * first setting there, or of the group open there; into name[0..len).
 * 0, or -ENOENT. */
int config_scan_name_at(const char *text, unsigned line, bool twice,
                        char *name, size_t len);

/* Reports a too-large integer no setting claimed; -EINVAL. */
int config_check_big(struct config_load *ld);

#endif
