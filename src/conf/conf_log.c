/* conf_log.c -- log_level, read by name ("error" ... "debug", log.h). */
#include "ac_config.h"

#include <errno.h>

#include "conf/config_int.h"
#include "base/log.h"

static int conf_log_parse_level(struct config_load *ld,
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

static void conf_log_print_level(const struct config_item *it,
                                 const struct config *cfg, FILE *out)
{
    fprintf(out, "\"%s\"", log_level_name((int)config_load_num(it, cfg)));
}

static const struct config_type conf_log_level = {
    conf_log_parse_level, conf_log_print_level, config_release_none,
};

static const struct config_item conf_log_items[] = {
    CONFIG_NUM("log_level", conf_log_level, log_level, 0, LOG_LEVEL_DEBUG,
               LOG_LEVEL_INFO),
};

const struct config_module conf_log_module =
    CONFIG_MODULE(conf_log_items, NULL, NULL, NULL);
