/* conf_load.h -- how every sseq program reads its config at start-up:
 * the file (per config_path) over the defaults; a file named with -c or
 * SSEQ_CONF (or one the program cannot do without) must exist; a bad
 * config is fatal, "ident: FILE:LINE: setting: reason" on stderr and
 * exit status 1. A reload reads the file the same way and never exits. */
#ifndef SSEQ_CONF_LOAD_H
#define SSEQ_CONF_LOAD_H

#include <stdbool.h>

#include "conf/config.h"

/* Loads the config named by path (NULL: SSEQ_CONF or the default) into
 * cfg; required: the file must exist even when not named. Returns only
 * on success; exits 1 with the message otherwise. */
void conf_load_or_exit(const char *ident, const char *path, bool required,
                       struct config *cfg);

/* Loads the file at path (resolved, must exist) into nc for a reload
 * (SIGHUP) of a program running with cfg. 0; -1 after logging
 * "reload: FILE:LINE: setting: reason (keeping the running config)"
 * (nc freed). Warns when queue.path changed: only a restart moves it. */
int conf_reload(const char *path, const struct config *cfg,
                struct config *nc);

#endif
