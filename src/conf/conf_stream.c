/* conf_stream.c -- sseq-stream's settings (stream.*) and the rule that a
 * client's buffer holds the largest message. */
#include "ac_config.h"

#include "conf/config_int.h"

static const struct config_item conf_stream_items[] = {
    CONFIG_NUM("stream.heartbeat", config_type_uint, heartbeat, 1, 3600,
               15),
    CONFIG_NUM("stream.retry", config_type_uint, retry_ms, 100, 3600000,
               3000),
    CONFIG_NUM("stream.max_subscribers", config_type_uint, max_subscribers,
               1, 1000000, 10000),
    CONFIG_NUM("stream.client_buffer", config_type_size, client_buffer,
               4 * KIB, GIB, 256 * KIB),
    CONFIG_NUM("stream.backlog_max", config_type_uint, backlog_max, 0,
               1000000, 1000),
    CONFIG_NUM("stream.coalesce_us", config_type_uint, coalesce_us, 0,
               1000000, 100000),
    CONFIG_NUM("stream.processes", config_type_uint, stream_processes, 1,
               256, 2),
};

/* A stream's output bound must hold one message of max_message_size. */
static int conf_stream_check(struct config_load *ld)
{
    if (ld->cfg->client_buffer >= ld->cfg->max_message_size)
        return 0;
    return config_fail_pair(ld, "stream.client_buffer",
                            "must be at least max_message_size",
                            "max_message_size",
                            "must be at most stream.client_buffer");
}

const struct config_module conf_stream_module =
    CONFIG_MODULE(conf_stream_items, NULL, conf_stream_check, NULL);
