/* conf_fastcgi.c -- the FastCGI runtime's settings (fastcgi.*), shared by
 * sseq-stream and sseq-publish (runtime/fcgi_server.c). */
#include "ac_config.h"

#include "conf/config_int.h"

static const struct config_item conf_fastcgi_items[] = {
    CONFIG_NUM("fastcgi.read_timeout", config_type_uint, read_timeout_ms,
               100, 600000, 3000),
    CONFIG_NUM("fastcgi.max_pending", config_type_uint, max_pending, 16,
               1000000, 1024),
    CONFIG_NUM("fastcgi.drain", config_type_uint, drain_ms, 0, 600000,
               3000),
};

const struct config_module conf_fastcgi_module =
    CONFIG_MODULE(conf_fastcgi_items, NULL, NULL, NULL);
