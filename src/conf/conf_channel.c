/* conf_channel.c -- channel_pattern, the ERE every channel name must
 * match whole, and config_channel_valid, its one user.
 *
 * The default pattern is compiled once per process and shared (a glibc
 * regex_t only points at its compiled program, so a by-value copy shares
 * it; regexec on it is thread-safe); channel_re is owned exactly when
 * channel_pattern differs from the default pointer. */
#include "ac_config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config_int.h"
#include "queue/queue_msg.h"

#define CONF_PATTERN_MAX 1024   /* bytes of channel_pattern */
#define CONF_CHANNEL_MAX QUEUE_MSG_CHANNEL_MAX  /* longest channel name */

static const char conf_channel_def_pattern[] = "^[A-Za-z0-9_.:-]{1,64}$";

/* Compiles the ERE pat to match whole names ("^(pat)$") into re; 0 or a
 * regcomp error code. */
static int conf_channel_regcomp(regex_t *re, const char *pat)
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

static int conf_channel_parse(struct config_load *ld,
                              const struct config_item *it,
                              const config_setting_t *s, const char *name)
{
    struct config *cfg = ld->cfg;
    const char *str;
    char why[256], *dup;
    regex_t re;
    int rc;

    (void)it;
    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    if (str[0] == '\0' || strlen(str) > CONF_PATTERN_MAX)
        return config_fail(ld, s, name, "must be 1 to %d bytes",
                           CONF_PATTERN_MAX);
    /* Checked alone first, so "a)|(b" cannot hide inside "^(...)$". */
    rc = regcomp(&re, str, REG_EXTENDED | REG_NOSUB);
    if (rc == 0) {
        regfree(&re);
        rc = conf_channel_regcomp(&re, str);
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

static void conf_channel_release(const struct config_item *it,
                                 struct config *cfg)
{
    if (cfg->channel_pattern != NULL &&
        cfg->channel_pattern != it->def_str)
        regfree(&cfg->channel_re);
    config_release_string(it, cfg);
}

static const struct config_type conf_channel_pattern = {
    conf_channel_parse, config_print_string, conf_channel_release,
};

static pthread_once_t conf_channel_once = PTHREAD_ONCE_INIT;
static regex_t conf_channel_def_re;     /* compiled default pattern */
static int conf_channel_def_rc = -1;    /* its regcomp result */

static void conf_channel_compile_default(void)
{
    conf_channel_def_rc = conf_channel_regcomp(&conf_channel_def_re,
                                               conf_channel_def_pattern);
}

/* Shares the default pattern's compiled form; -ENOMEM if it cannot be
 * compiled. */
static int conf_channel_defaults(struct config *cfg)
{
    pthread_once(&conf_channel_once, conf_channel_compile_default);
    if (conf_channel_def_rc != 0)
        return -ENOMEM;
    cfg->channel_re = conf_channel_def_re;
    return 0;
}

static const struct config_item conf_channel_items[] = {
    CONFIG_STR("channel_pattern", conf_channel_pattern, channel_pattern,
               conf_channel_def_pattern, NULL),
};

const struct config_module conf_channel_module =
    CONFIG_MODULE(conf_channel_items, conf_channel_defaults, NULL, NULL);

bool config_channel_valid(const struct config *cfg, const char *name,
                          size_t len)
{
    char buf[CONF_CHANNEL_MAX + 1];

    if (name == NULL || len == 0 || len > CONF_CHANNEL_MAX ||
        memchr(name, '\0', len) != NULL || memchr(name, '\n', len) ||
        memchr(name, '\r', len))
        return false;               /* whatever the pattern: a channel
                                       name is an SSE "channel:" line */
    memcpy(buf, name, len);
    buf[len] = '\0';
    return regexec(&cfg->channel_re, buf, 0, NULL, 0) == 0;
}
