/* config_types.c -- the value types settings rows name (config_int.h):
 * numbers (uint, size, bool), strings and secrets that pass the row's
 * check, arrays of such strings; and the reading, printing and freeing
 * helpers owners build their own types from. A string field is
 * heap-owned exactly when it differs from its row's default pointer (see
 * config.c's file comment); a value equal to the default keeps it. */
#include "ac_config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config_int.h"
#include "base/util.h"

#define CONFIG_ORIGIN_MAX  255

_Static_assert(sizeof(size_t) == sizeof(uint64_t),
               "size_t fields are stored as 64-bit numbers");
_Static_assert(sizeof(int) == sizeof(unsigned),
               "log_level is stored as an unsigned-width number");
_Static_assert(sizeof(bool) != sizeof(unsigned) &&
               sizeof(bool) != sizeof(uint64_t),
               "bool fields are told apart by their width");

/* ---- numbers ---- */

void config_store_num(const struct config_item *it, struct config *cfg,
                      uint64_t v)
{
    void *f = config_field(it, cfg);

    if (it->width == sizeof(uint64_t))
        *(uint64_t *)f = v;
    else if (it->width == sizeof(bool))
        *(bool *)f = v != 0;
    else
        *(unsigned *)f = (unsigned)v;
}

uint64_t config_load_num(const struct config_item *it,
                         const struct config *cfg)
{
    const void *f = config_field(it, cfg);

    if (it->width == sizeof(uint64_t))
        return *(const uint64_t *)f;
    if (it->width == sizeof(bool))
        return *(const bool *)f;
    return *(const unsigned *)f;
}

/* Reads an integer setting into *v; -EINVAL (reported) for another type,
 * a negative value, or a literal libconfig wrapped (config_scan.c: the
 * one on the setting's line that is its value). */
int config_get_uint(struct config_load *ld, const config_setting_t *s,
                    const char *name, uint64_t *v)
{
    long long x;

    if (config_setting_type(s) != CONFIG_TYPE_INT &&
        config_setting_type(s) != CONFIG_TYPE_INT64)
        return config_fail_type(ld, s, name, "an integer");
    if (config_setting_type(s) == CONFIG_TYPE_INT)
        for (size_t i = 0; i < ld->n_big; i++)
            if (ld->big[i].line == config_setting_source_line(s) &&
                (ld->big[i].name[0] == '\0' ||
                 strcmp(ld->big[i].name, name) == 0)) {
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

/* A size: an integer, or a string such as "64K" (util_parse_size). */
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

static int config_parse_bool(struct config_load *ld,
                             const struct config_item *it,
                             const config_setting_t *s, const char *name)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return config_fail_type(ld, s, name, "true or false");
    config_store_num(it, ld->cfg, (uint64_t)config_setting_get_bool(s));
    return 0;
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

static void config_print_bool(const struct config_item *it,
                              const struct config *cfg, FILE *out)
{
    fputs(config_load_num(it, cfg) ? "true" : "false", out);
}

void config_release_none(const struct config_item *it, struct config *cfg)
{
    (void)it;
    (void)cfg;
}

/* ---- strings ---- */

/* Reads a string setting into *v; -EINVAL (reported) for another type. */
int config_get_str(struct config_load *ld, const config_setting_t *s,
                   const char *name, const char **v)
{
    *v = "";
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return config_fail_type(ld, s, name, "a string");
    *v = config_setting_get_string(s);
    return 0;
}

int config_dup(struct config_load *ld, const config_setting_t *s,
               const char *name, const char *v, char **out)
{
    *out = strdup(v);
    if (*out == NULL)
        return config_fail(ld, s, name, "out of memory");
    return 0;
}

/* A string the row's check accepts into the row's field; a refused
 * secret is never quoted. */
static int config_parse_str_as(struct config_load *ld,
                               const struct config_item *it,
                               const config_setting_t *s, const char *name,
                               bool secret)
{
    char buf[CONFIG_WHY_MAX];
    const char *str, *why;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    why = it->check ? it->check(str, buf, sizeof buf) : NULL;
    if (why != NULL && secret)
        return config_fail(ld, s, name, "%s", why);
    if (why != NULL)
        return config_fail(ld, s, name, "%s (got \"%s\")", why, str);
    if (it->def_str != NULL && strcmp(str, it->def_str) == 0)
        return 0;                       /* keeps the default pointer */
    return config_dup(ld, s, name, str, config_field(it, ld->cfg));
}

int config_parse_string(struct config_load *ld, const struct config_item *it,
                        const config_setting_t *s, const char *name)
{
    return config_parse_str_as(ld, it, s, name, false);
}

int config_parse_secret(struct config_load *ld, const struct config_item *it,
                        const config_setting_t *s, const char *name)
{
    return config_parse_str_as(ld, it, s, name, true);
}

void config_print_str(const char *str, FILE *out)
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

void config_print_string(const struct config_item *it,
                         const struct config *cfg, FILE *out)
{
    config_print_str(*(char *const *)config_field(it, cfg), out);
}

/* A secret prints as "****" ("" when unset). */
static void config_print_secret(const struct config_item *it,
                                const struct config *cfg, FILE *out)
{
    const char *v = *(char *const *)config_field(it, cfg);

    fputs(v[0] != '\0' ? "\"****\"" : "\"\"", out);
}

void config_release_string(const struct config_item *it, struct config *cfg)
{
    char **f = config_field(it, cfg);

    if (*f != it->def_str)
        free(*f);
    *f = (char *)it->def_str;
}

/* A string that may hold a secret: wiped before it is freed. */
void config_release_secret(const struct config_item *it, struct config *cfg)
{
    char **f = config_field(it, cfg);

    if (*f != it->def_str)
        explicit_bzero(*f, strlen(*f));
    config_release_string(it, cfg);
}

/* ---- arrays of strings ---- */

int config_check_list(struct config_load *ld, const config_setting_t *s,
                      const char *name, bool groups)
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

int config_parse_strs(struct config_load *ld, const config_setting_t *s,
                      const char *name, config_check check, char ***arr,
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
        char ename[CONFIG_NAME_MAX], buf[CONFIG_WHY_MAX];
        const char *str, *why;

        snprintf(ename, sizeof ename, "%s[%d]", name, i);
        if (config_get_str(ld, e, ename, &str) < 0)
            return -EINVAL;
        why = check ? check(str, buf, sizeof buf) : NULL;
        if (why != NULL)
            return config_fail(ld, e, ename, "%s (got \"%s\")", why, str);
        if (config_dup(ld, e, ename, str, &(*arr)[i]) < 0)
            return -EINVAL;
        *cnt = (size_t)i + 1;
    }
    return 0;
}

static int config_parse_list(struct config_load *ld,
                             const struct config_item *it,
                             const config_setting_t *s, const char *name)
{
    return config_parse_strs(ld, s, name, it->check,
                             config_field(it, ld->cfg),
                             config_count(it, ld->cfg));
}

void config_print_strs(char *const *arr, size_t n, FILE *out)
{
    fputs("[ ", out);
    for (size_t i = 0; i < n; i++) {
        config_print_str(arr[i], out);
        fputs(i + 1 < n ? ", " : " ", out);
    }
    fputc(']', out);
}

static void config_print_list(const struct config_item *it,
                              const struct config *cfg, FILE *out)
{
    config_print_strs(*(char **const *)config_field(it, cfg),
                      *config_count(it, cfg), out);
}

void config_free_strs(char **arr, size_t n)
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

/* ---- checks shared by owners ---- */

const char *config_check_path(const char *str, char *buf, size_t len)
{
    (void)buf;
    (void)len;
    if (str[0] != '\0' && (str[0] != '/' || strlen(str) >= PATH_MAX))
        return "must be an absolute file path";
    return NULL;
}

/* Origin as a browser sends it: "*" or scheme://host[:port], lowercase,
 * no path, no trailing slash. */
const char *config_check_origin(const char *str, char *buf, size_t len)
{
    static const char reason[] = "must be \"*\" or an origin such as "
        "\"https://example.com\" or \"http://localhost:8080\" (lowercase, "
        "no path)";
    const char *sep = strstr(str, "://");
    size_t scheme, n = strlen(str);

    (void)buf;
    (void)len;
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

/* ---- the types ---- */

const struct config_type config_type_uint = {
    config_parse_uint, config_print_uint, config_release_none,
};
const struct config_type config_type_size = {
    config_parse_size, config_print_size, config_release_none,
};
const struct config_type config_type_bool = {
    config_parse_bool, config_print_bool, config_release_none,
};
const struct config_type config_type_string = {
    config_parse_string, config_print_string, config_release_string,
};
const struct config_type config_type_secret = {
    config_parse_secret, config_print_secret, config_release_secret,
};
const struct config_type config_type_strings = {
    config_parse_list, config_print_list, config_release_list,
};
