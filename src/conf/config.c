/* config.c -- the settings engine: reads the one libconfig file every
 * sseq program uses, against the settings tables of the owners (conf_*.c,
 * gathered in config_modules[]; see config_int.h).
 *
 * Every setting is one row of an owner's table: its dotted name in the
 * file, its type (how it is parsed, printed and freed: config_types.c or
 * the owner's own), its field in struct config, its limits and default.
 * Loading walks the parsed file and looks every setting up in the
 * tables, so an unknown (misspelt) setting is an error, like a bad value;
 * then each owner checks the relations between its settings. Each error
 * reads "FILE:LINE: setting: reason".
 *
 * Ownership invariant: config_defaults allocates nothing (default strings
 * are the tables' literals, the default channel regex is compiled once per
 * process and shared: conf_channel.c). A string field is heap-owned
 * exactly when it differs from its default pointer, and lists are always
 * owned. Hence config_defaults may run any number of times without
 * leaking, and config_free frees exactly what config_load allocated. */
#include "ac_config.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "conf/config_int.h"
#include "queue/queue.h"
#include "queue/queue_access.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define CONFIG_FILE_MAX    (1 << 20) /* bytes of a config file */

/* Every owner's settings, in the order config_print writes them (a
 * group's rows stay contiguous across owners). */
static const struct config_module *const config_modules[] = {
    &conf_queue_module, &conf_stream_module, &conf_publish_module,
    &conf_fastcgi_module, &conf_channel_module, &conf_http_module,
    &conf_log_module, &conf_mercure_module, &conf_cluster_module,
};
#define CONFIG_N_MODULES (sizeof config_modules / sizeof config_modules[0])

/* ---- the rows ---- */

/* The i-th row over every module, in print order; NULL past the end. */
static const struct config_item *config_item_at(size_t i)
{
    for (size_t m = 0; m < CONFIG_N_MODULES; m++) {
        if (i < config_modules[m]->n_items)
            return &config_modules[m]->items[i];
        i -= config_modules[m]->n_items;
    }
    return NULL;
}

/* The row for a dotted name and its index (for ld->line), or NULL. */
static const struct config_item *config_item_find(const char *name,
                                                  size_t *idx)
{
    const struct config_item *it;

    for (size_t i = 0; (it = config_item_at(i)) != NULL; i++)
        if (strcmp(it->name, name) == 0) {
            assert(i < CONFIG_ITEMS_MAX);
            *idx = i;
            return it;
        }
    return NULL;
}

/* Whether name is a group of the tables ("queue" for "queue.path"). */
static bool config_is_group(const char *name)
{
    const struct config_item *it;
    size_t n = strlen(name);

    for (size_t i = 0; (it = config_item_at(i)) != NULL; i++)
        if (strncmp(it->name, name, n) == 0 && it->name[n] == '.')
            return true;
    return false;
}

/* ---- errors ---- */

/* Writes "FILE:LINE: name: reason" into ld->err; -EINVAL. */
static int config_report(struct config_load *ld, const char *file,
                         unsigned line, const char *name, const char *reason)
{
    snprintf(ld->err, ld->errlen, "%s:%u: %s: %s", file ? file : ld->path,
             line, name, reason);
    return -EINVAL;
}

/* The line setting name was read from; 0 if it kept its default. */
static unsigned config_line_of(const struct config_load *ld,
                               const char *name)
{
    size_t idx;

    return config_item_find(name, &idx) != NULL ? ld->line[idx] : 0;
}

int config_fail(struct config_load *ld, const config_setting_t *s,
                const char *name, const char *fmt, ...)
{
    char reason[CONFIG_WHY_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return config_report(ld, s ? config_setting_source_file(s) : NULL,
                         s ? config_setting_source_line(s) : 0, name,
                         reason);
}

const char *config_type_name(const config_setting_t *s)
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

int config_fail_type(struct config_load *ld, const config_setting_t *s,
                     const char *name, const char *want)
{
    return config_fail(ld, s, name, "must be %s (got %s)", want,
                       config_type_name(s));
}

int config_fail_at(struct config_load *ld, const char *name,
                   const char *fmt, ...)
{
    char reason[CONFIG_WHY_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return config_report(ld, NULL, config_line_of(ld, name), name, reason);
}

int config_fail_pair(struct config_load *ld, const char *a,
                     const char *reason_a, const char *b,
                     const char *reason_b)
{
    if (config_line_of(ld, a) != 0)
        return config_report(ld, NULL, config_line_of(ld, a), a, reason_a);
    return config_report(ld, NULL, config_line_of(ld, b), b, reason_b);
}

/* Joins a, sep and b into a setting name for messages; a name too long
 * for buf is cut (it is only ever shown). */
void config_name(char *buf, size_t len, const char *a, const char *sep,
                 const char *b)
{
    if (snprintf(buf, len, "%s%s%s", a, sep, b) >= (int)len)
        buf[len - 1] = '\0';
}

/* ---- defaults and freeing ---- */

/* Fills cfg from the tables; allocates nothing (see the file comment).
 * -ENOMEM only if the default channel pattern cannot be compiled. */
int config_defaults(struct config *cfg)
{
    const struct config_item *it;

    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; (it = config_item_at(i)) != NULL; i++) {
        if (it->def_str != NULL)
            *(const char **)config_field(it, cfg) = it->def_str;
        else if (it->count_off == 0)
            config_store_num(it, cfg, it->def);
    }
    for (size_t m = 0; m < CONFIG_N_MODULES; m++)
        if (config_modules[m]->defaults != NULL &&
            config_modules[m]->defaults(cfg) < 0)
            return -ENOMEM;
    return 0;
}

/* Frees what config_load allocated and leaves cfg holding the defaults,
 * so freeing twice, or using cfg after, is safe. */
void config_free(struct config *cfg)
{
    const struct config_item *it;

    if (cfg == NULL)
        return;
    for (size_t i = 0; (it = config_item_at(i)) != NULL; i++)
        it->type->release(it, cfg);
    for (size_t m = 0; m < CONFIG_N_MODULES; m++)
        if (config_modules[m]->release != NULL)
            config_modules[m]->release(cfg);
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

static int config_walk(struct config_load *ld, const config_setting_t *grp,
                       const char *prefix);

/* Parses member s of a group whose dotted name is name. */
static int config_walk_one(struct config_load *ld,
                           const config_setting_t *s, const char *name)
{
    size_t idx;
    const struct config_item *it = config_item_find(name, &idx);

    if (it != NULL) {
        if (it->type->parse(ld, it, s, name) < 0)
            return -EINVAL;
        ld->line[idx] = config_setting_source_line(s);
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

/* Runs every owner's check after reading; reports the first failure. */
static int config_check_modules(struct config_load *ld)
{
    for (size_t m = 0; m < CONFIG_N_MODULES; m++)
        if (config_modules[m]->check != NULL &&
            config_modules[m]->check(ld) < 0)
            return -EINVAL;
    return 0;
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

/* Reports libconfig's parse error as "FILE:LINE: setting: message",
 * naming the setting from the text of the file the error is in
 * (libconfig names none; an @include'd file's names lack the including
 * group's prefix). A setting given twice is the one named. -EINVAL. */
static int config_fail_parse(struct config_load *ld, const config_t *lc,
                             const char *text)
{
    const char *file = config_error_file(lc) ? config_error_file(lc)
                                             : ld->path;
    const char *why = config_error_text(lc) ? config_error_text(lc)
                                            : "parse error";
    bool twice = strcmp(why, "duplicate setting name") == 0;
    int line = config_error_line(lc);
    struct config_load inc = { .path = file, .err = ld->err,
                               .errlen = ld->errlen };
    char name[CONFIG_NAME_MAX], *other = NULL;
    int rc = -ENOENT;

    if (line > 0 && config_error_file(lc) == NULL)
        rc = config_scan_name_at(text, (unsigned)line, twice, name,
                                 sizeof name);
    else if (line > 0 && config_read_text(&inc, true, &other) == 0)
        rc = config_scan_name_at(other, (unsigned)line, twice, name,
                                 sizeof name);
    free(other);
    if (rc == 0 && twice)
        snprintf(ld->err, ld->errlen, "%s:%d: %s: is set twice (duplicate "
                 "setting name): set it once; a group's settings all go "
                 "in one group", file, line, name);
    else if (rc == 0)
        snprintf(ld->err, ld->errlen, "%s:%d: %s: %s", file, line, name,
                 why);
    else
        snprintf(ld->err, ld->errlen, "%s:%d: %s", file, line, why);
    return -EINVAL;
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
    return config_fail_parse(ld, lc, text);
}

/* Tells queue_open whose queue to trust besides root and the process's
 * user: queue.owner, or the user `sseq create` gives the queue to as
 * root (www-data) when it is not set; nobody more if there is none. */
static void config_trust_queue_owner(const struct config *cfg)
{
    const char *what;
    uid_t uid;
    gid_t gid;

    if (queue_access_target(cfg->queue_owner ? cfg->queue_owner : "", "",
                            0, &uid, &gid, &what) < 0)
        uid = (uid_t)-1;
    queue_trust_owner(uid);
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
    if (rc > 0)                         /* no file: the defaults */
        config_trust_queue_owner(cfg);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    config_init(&lc);
    if (config_parse_text(&ld, &lc, text) < 0)
        goto fail_parse;
    config_scan(&ld, text);
    tmp.file = strdup(ld.path);
    if (tmp.file == NULL ||
        config_walk(&ld, config_root_setting(&lc), NULL) < 0 ||
        config_check_big(&ld) < 0 || config_check_modules(&ld) < 0)
        goto fail_walk;
    config_destroy(&lc);
    free(text);
    *cfg = tmp;
    config_trust_queue_owner(cfg);
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

/* ---- printing ---- */

void config_print(const struct config *cfg, FILE *out)
{
    const char *group = NULL;
    size_t glen = 0;

    const struct config_item *it;

    fprintf(out, "# sseq effective configuration (%s)\n",
            cfg->file ? cfg->file : "built-in defaults");
    for (size_t i = 0; (it = config_item_at(i)) != NULL; i++) {
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
        it->type->print(it, cfg, out);
        fputs(";\n", out);
    }
    if (group)
        fputs("};\n", out);
}
