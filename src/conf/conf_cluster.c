/* conf_cluster.c -- the cluster's settings (cluster.*): the Redis URL
 * hosts join through (its password a secret: printed as "***", wiped,
 * never quoted; plain, unix socket or Sentinel), the key prefix, the
 * stream's length, the timeout, and in Sentinel mode how many replicas a
 * publish must reach before it is acknowledged (WAIT) and for how long. */
#include "ac_config.h"

#include <string.h>

#include "conf/config_int.h"
#include "proto/cluster_url.h"

static const char conf_cluster_def_url[] = "";
static const char conf_cluster_def_prefix[] = "sseq";

/* "" or a URL cluster_url_parse takes (the parsed copy is wiped). */
static const char *conf_cluster_url_check(const char *str, char *buf,
                                          size_t len)
{
    struct cluster_url u;
    const char *why = "bad URL";
    int rc;

    if (str[0] == '\0')
        return NULL;
    rc = cluster_url_parse(str, &u, &why);
    explicit_bzero(&u, sizeof(u));
    if (rc == 0)
        return NULL;
    snprintf(buf, len, "%s (a URL such as \"redis://127.0.0.1:6379/0\", "
             "\"redis://:PASSWORD@host\", \"unix:///run/redis/redis.sock\" or "
             "\"redis+sentinel://h1:26379,h2:26379/mymaster\")", why);
    return buf;
}

/* 1 to 64 of A-Z a-z 0-9 _ . : - */
static const char *conf_cluster_prefix_check(const char *str, char *buf,
                                             size_t len)
{
    size_t n = strlen(str);

    (void)buf;
    (void)len;
    if (n != 0 && n <= 64 &&
        strspn(str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789_.:-") == n)
        return NULL;
    return "must be 1 to 64 of A-Z a-z 0-9 _ . : -";
}

/* The URL with its password shown as "***". */
static void conf_cluster_print_url(const struct config_item *it,
                                   const struct config *cfg, FILE *out)
{
    char shown[CLUSTER_URL_MAX];

    config_print_str(cluster_url_redact(*(char *const *)config_field(it, cfg),
                                        shown, sizeof(shown)), out);
}

static const struct config_type conf_cluster_url = {
    config_parse_secret, conf_cluster_print_url, config_release_secret,
};

static const struct config_item conf_cluster_items[] = {
    CONFIG_STR("cluster.redis", conf_cluster_url, cluster_redis,
               conf_cluster_def_url, conf_cluster_url_check),
    CONFIG_STR("cluster.prefix", config_type_string, cluster_prefix,
               conf_cluster_def_prefix, conf_cluster_prefix_check),
    CONFIG_NUM("cluster.retention", config_type_uint, cluster_retention, 10,
               1000000000, 1000000),
    CONFIG_NUM("cluster.timeout_ms", config_type_uint, cluster_timeout_ms,
               10, 60000, 2000),
    CONFIG_NUM("cluster.wait_replicas", config_type_uint,
               cluster_wait_replicas, 0, 16, 1),
    CONFIG_NUM("cluster.wait_ms", config_type_uint, cluster_wait_ms, 10,
               60000, 1000),
};

const struct config_module conf_cluster_module =
    CONFIG_MODULE(conf_cluster_items, NULL, NULL, NULL);
