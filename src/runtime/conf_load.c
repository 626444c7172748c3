/* conf_load.c -- the start-up config load every program shares (see
 * conf_load.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#include "runtime/conf_load.h"

#define CONF_LOAD_ERR_MAX 1024      /* a FILE:LINE: setting: reason line */

void conf_load_or_exit(const char *ident, const char *path, bool required,
                       struct config *cfg)
{
    char err[CONF_LOAD_ERR_MAX];

    required = required || path != NULL || getenv("SSEQ_CONF") != NULL;
    if (config_load(cfg, config_path(path), required, err,
                    sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", ident, err);
        exit(1);
    }
}

int conf_reload(const char *path, const struct config *cfg,
                struct config *nc)
{
    char err[CONF_LOAD_ERR_MAX];

    if (config_load(nc, path, true, err, sizeof(err)) < 0) {
        log_error("reload: %s (keeping the running config)", err);
        config_free(nc);
        return -1;
    }
    if (strcmp(nc->queue_path, cfg->queue_path) != 0)
        log_warn("reload: queue.path changed: restart to use it");
    return 0;
}
