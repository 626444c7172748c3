/* pump_top.c -- this process's channels with the most live streams
 * (chan_top.h), written to its file beside the queue (chan_file.h) for
 * the metrics' sseq_channel_streams. Rewritten at most once a
 * PUMP_TOP_EVERY_US, from the pump's counter publishing (every tick):
 * O(channels) each time. /events channels and hub topics count; hub
 * pattern selectors ("*", templates) do not. */
#include "ac_config.h"

#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "stream/pump_int.h"

#define PUMP_TOP_EVERY_US 1000000

uint64_t pump_top_started(struct pump *p)
{
    struct queue_proc_info info[QUEUE_PROC_SLOTS];
    int n = queue_proc_list(p->q, info, QUEUE_PROC_SLOTS);

    for (int i = 0; i < n; i++)
        if (info[i].slot == p->slot && info[i].pid == getpid())
            return info[i].started_us;
    return 0;
}

void pump_top_open(struct pump *p)
{
    int mode = queue_file_mode(p->q);
    int rc;

    if (p->slot < 0)
        return;
    rc = mode < 0 ? mode : chan_file_create(queue_file_path(p->q), p->slot,
                                            (unsigned)mode,
                                            pump_top_started(p), &p->top);
    if (rc < 0) {
        log_warn("%s.chans-%d: %s (no sseq_channel_streams from this "
                 "process)", queue_file_path(p->q), p->slot, strerror(-rc));
        p->top = NULL;
    }
}

/* Offers every channel of map m to top[0..*n). */
static void pump_top_map(const struct stream_chan_map *m,
                         struct chan_top_entry *top, unsigned *n)
{
    for (const struct stream_chan *c = m->all; c != NULL; c = c->anext) {
        struct chan_top_entry e = { c->name, c->len, c->nsubs };

        chan_top_offer(top, n, CHAN_FILE_ENTRIES, &e);
    }
}

void pump_top_publish(struct pump *p)
{
    static const enum pump_map exact[PUMP_NEXACT] = PUMP_EXACT_MAPS;
    struct chan_top_entry one[CHAN_FILE_ENTRIES], top[CHAN_FILE_ENTRIES];
    struct chan_top_entry all[PUMP_NEXACT * CHAN_FILE_ENTRIES];
    unsigned n, total = 0;

    if (p->top == NULL || p->now_us < p->top_us + PUMP_TOP_EVERY_US)
        return;
    p->top_us = p->now_us;
    /* A name in several maps (a channel with plain and tag=channel
     * streams, a hub topic that is also an /events channel) is one
     * channel of the queue: summed. */
    for (unsigned i = 0; i < PUMP_NEXACT; i++) {
        n = 0;
        pump_top_map(&p->maps[exact[i]], one, &n);
        memcpy(all + total, one, n * sizeof(one[0]));
        total += n;
    }
    chan_file_write(p->top, top, chan_top_merge(all, total, top,
                                                CHAN_FILE_ENTRIES));
}

void pump_top_close(struct pump *p)
{
    chan_file_remove(p->top);
    p->top = NULL;
}
