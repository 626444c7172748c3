/* conf_queue.c -- the queue's settings: queue.* and max_message_size
 * (the queue's largest record), and the rule between them. */
#include "ac_config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "conf/config_int.h"

#define CONF_SHM_NAME_MAX 255   /* NAME_MAX, after the leading '/' */

static const char conf_queue_def_path[] = "/sseq";
static const char conf_queue_def_account[] = "";  /* owner, group */

/* Whether str names a queue the way queue_create expects: "/name" for
 * POSIX shared memory, or an absolute file path with a '/' after its
 * start. A relative path is refused: each program would resolve it
 * against its own current directory (sseq-spawn's, the shell's). */
static const char *conf_queue_path_check(const char *str, char *buf,
                                         size_t len)
{
    static const char reason[] = "must be a shared-memory name such as "
        "\"/sseq\" or a file path such as \"/var/lib/sseq/queue\"";
    size_t n = strlen(str);
    const char *slash = strchr(str, '/');

    (void)buf;
    (void)len;
    if (n == 0 || n >= PATH_MAX || slash == NULL || str[n - 1] == '/')
        return reason;
    if (slash != str)
        return "is relative, so each program would find the queue in its "
               "own current directory: write the whole path, e.g. "
               "\"/var/lib/sseq/queue\"";
    if (slash == str && strchr(str + 1, '/') == NULL &&
        n - 1 > CONF_SHM_NAME_MAX)
        return reason;
    return NULL;
}

/* A user or group as useradd(8) allows it (letters, digits, . _ -, not
 * starting with '-', at most 32 bytes) or a number; "" for automatic. */
static const char *conf_queue_account_check(const char *str, char *buf,
                                            size_t len)
{
    size_t n = strlen(str);

    (void)buf;
    (void)len;
    if (n <= 32 && str[0] != '-' &&
        strspn(str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789._-") == n)
        return NULL;
    return "must be a user or group name such as \"www-data\", a number, "
           "or \"\"";
}

/* queue.mode: an octal string that lets the owner read and write and
 * does not let every user write. */
static int conf_queue_parse_mode(struct config_load *ld,
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

static void conf_queue_print_mode(const struct config_item *it,
                                  const struct config *cfg, FILE *out)
{
    fprintf(out, "\"0%03o\"", (unsigned)config_load_num(it, cfg));
}

static const struct config_type conf_queue_mode = {
    conf_queue_parse_mode, conf_queue_print_mode, config_release_none,
};

static const struct config_item conf_queue_items[] = {
    CONFIG_STR("queue.path", config_type_string, queue_path,
               conf_queue_def_path, conf_queue_path_check),
    CONFIG_NUM("queue.size", config_type_size, queue_size, 64 * KIB, TIB,
               64 * MIB),
    CONFIG_NUM("queue.mode", conf_queue_mode, queue_mode, 0, 0777, 0600),
    CONFIG_STR("queue.owner", config_type_string, queue_owner,
               conf_queue_def_account, conf_queue_account_check),
    CONFIG_STR("queue.group", config_type_string, queue_group,
               conf_queue_def_account, conf_queue_account_check),
    CONFIG_NUM("queue.max_age", config_type_uint, max_age, 0,
               10 * 366 * 86400u, 0),
    CONFIG_NUM("max_message_size", config_type_size, max_message_size, 1,
               64 * MIB, 65536),
};

/* A record of max_message_size must fit a quarter of the queue. */
static int conf_queue_check(struct config_load *ld)
{
    if (ld->cfg->max_message_size <= ld->cfg->queue_size / 4)
        return 0;
    return config_fail_pair(ld, "max_message_size",
                            "must be at most a quarter of queue.size",
                            "queue.size",
                            "must be at least 4 times max_message_size");
}

const struct config_module conf_queue_module =
    CONFIG_MODULE(conf_queue_items, NULL, conf_queue_check, NULL);
