/* conf_http.c -- cors_origins, the origins answered with CORS headers,
 * and config_cors_allow, their one reader. */
#include "ac_config.h"

#include <string.h>

#include "conf/config_int.h"

static const struct config_item conf_http_items[] = {
    CONFIG_LIST("cors_origins", config_type_strings, cors_origins,
                n_cors_origins, config_check_origin),
};

const struct config_module conf_http_module =
    CONFIG_MODULE(conf_http_items, NULL, NULL, NULL);

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
