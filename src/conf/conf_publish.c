/* conf_publish.c -- sseq-publish's settings (publish.*): the bearer
 * tokens with the channel globs each may publish to, the channels open
 * to anyone, the workers, the backpressure limit (max_lag_ms). Tokens are secrets: never printed or quoted,
 * wiped when freed; a weak one is refused (config_token.c). */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config_int.h"
#include "conf/config_token.h"

#define CONF_GLOB_MAX 255       /* bytes of a channel glob */

static const char *conf_publish_glob_check(const char *str, char *buf,
                                           size_t len)
{
    size_t n = strlen(str);

    (void)buf;
    (void)len;
    if (n == 0 || n > CONF_GLOB_MAX)
        return "must be a channel glob of 1 to 255 bytes";
    return NULL;
}

/* publish.tokens[i].token: a secret config_token_check accepts. */
static int conf_publish_parse_token(struct config_load *ld,
                                    struct config_token *tok,
                                    const config_setting_t *s,
                                    const char *name)
{
    const char *str, *why, *word;

    if (config_get_str(ld, s, name, &str) < 0)
        return -EINVAL;
    why = config_token_check(str);
    word = config_token_placeholder(str);
    if (why != NULL && word != NULL)
        return config_fail(ld, s, name, "%s (it contains \"%s\")", why,
                           word);
    if (why != NULL)
        return config_fail(ld, s, name, "%s", why);
    return config_dup(ld, s, name, str, &tok->token);
}

/* publish.tokens[i].channels: a non-empty array of globs. */
static int conf_publish_parse_channels(struct config_load *ld,
                                       struct config_token *tok,
                                       const config_setting_t *s,
                                       const char *name)
{
    if (config_check_list(ld, s, name, false) < 0)
        return -EINVAL;
    if (config_setting_length(s) == 0)
        return config_fail(ld, s, name, "must list at least one channel "
                           "glob (leave it out to allow every channel)");
    return config_parse_strs(ld, s, name, conf_publish_glob_check,
                             &tok->channels, &tok->n_channels);
}

/* The members a token group may have. */
static const struct {
    const char *name;
    int (*parse)(struct config_load *ld, struct config_token *tok,
                 const config_setting_t *s, const char *name);
} conf_publish_token_members[] = {
    { "token", conf_publish_parse_token },
    { "channels", conf_publish_parse_channels },
};

/* Parses one { token = ..; channels = [..]; } group into tok. */
static int conf_publish_parse_group(struct config_load *ld,
                                    struct config_token *tok,
                                    const config_setting_t *g,
                                    const char *gname)
{
    size_t nm = sizeof conf_publish_token_members /
                sizeof conf_publish_token_members[0];
    char name[CONFIG_NAME_MAX];
    int n = config_setting_length(g);

    if (!config_setting_is_group(g))
        return config_fail_type(ld, g, gname, "a group { token = ...; }");
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *mname = config_setting_name(m);
        size_t k = 0;

        config_name(name, sizeof name, gname, ".", mname);
        while (k < nm &&
               strcmp(conf_publish_token_members[k].name, mname) != 0)
            k++;
        if (k == nm)
            return config_fail(ld, m, name, "unknown setting (a token has "
                               "\"token\" and \"channels\")");
        if (conf_publish_token_members[k].parse(ld, tok, m, name) < 0)
            return -EINVAL;
    }
    if (tok->token == NULL)
        return config_fail(ld, g, gname, "has no \"token\"");
    return 0;
}

static int conf_publish_parse_tokens(struct config_load *ld,
                                     const struct config_item *it,
                                     const config_setting_t *s,
                                     const char *name)
{
    struct config *cfg = ld->cfg;
    int n;

    (void)it;
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
        if (conf_publish_parse_group(ld, &cfg->tokens[i],
                                     config_setting_get_elem(s, (unsigned)i),
                                     gname) < 0)
            return -EINVAL;
    }
    return 0;
}

/* Tokens are secrets: each prints as "****". */
static void conf_publish_print_tokens(const struct config_item *it,
                                      const struct config *cfg, FILE *out)
{
    (void)it;
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

static void conf_publish_release_tokens(const struct config_item *it,
                                        struct config *cfg)
{
    (void)it;
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

static const struct config_type conf_publish_tokens = {
    conf_publish_parse_tokens, conf_publish_print_tokens,
    conf_publish_release_tokens,
};

static const struct config_item conf_publish_items[] = {
    CONFIG_LIST("publish.tokens", conf_publish_tokens, tokens, n_tokens,
                NULL),
    CONFIG_LIST("publish.open_channels", config_type_strings, open_channels,
                n_open_channels, conf_publish_glob_check),
    CONFIG_NUM("publish.processes", config_type_uint, publish_processes, 1,
               256, 2),
    CONFIG_NUM("publish.max_lag_ms", config_type_uint, max_lag_ms, 0,
               3600000, 2000),
};

const struct config_module conf_publish_module =
    CONFIG_MODULE(conf_publish_items, NULL, NULL, NULL);
