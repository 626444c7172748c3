/* stream_chan.h -- sseq-stream's channel map: channel name (or topic
 * selector, up to UINT16_MAX bytes) -> the streams subscribed to it in
 * this process, so that a message costs O(subscribers of its channel).
 * Chained hash table, grown at load 1; every entry is also on the map's
 * list (the pump walks the pattern selectors' map in full).
 *
 * A channel exists while some stream refers to it (refs); only streams
 * that are live are linked in its subscriber list (nsubs). Single-threaded
 * (the pump thread). */
#ifndef SSEQ_STREAM_CHAN_H
#define SSEQ_STREAM_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct stream_chan;

/* One (stream, channel) membership; lives inside its stream. */
struct stream_sub {
    struct stream_sub *prev, *next;     /* the channel's subscriber list */
    struct stream_chan *chan;
    void *owner;                        /* the stream */
    bool linked;
};

struct stream_chan {
    struct stream_chan *hnext;  /* hash chain */
    struct stream_chan *aprev, *anext;  /* the map's list */
    uint32_t pass_slot;         /* the owner's scratch (the pump's pass:
                                   its slot + 1, 0 = none) */
    uint8_t tag;                /* the owner's: which of its maps */
    void *owner_data;           /* the owner's (the pump's compiled
                                   pattern); NULL until it sets it */
    uint32_t hash;
    uint32_t refs;              /* streams referring to it */
    uint32_t nsubs;             /* linked subscribers */
    struct stream_sub *subs;    /* list head */
    uint16_t len;
    char name[];                /* NUL-terminated */
};

struct stream_chan_map {
    struct stream_chan **b;     /* buckets, nb a power of 2 */
    uint32_t nb, n;
    struct stream_chan *all;    /* every channel, newest first */
};

int stream_chan_map_init(struct stream_chan_map *m);
void stream_chan_map_free(struct stream_chan_map *m);

/* The channel named name[0..len), or NULL if no stream refers to it. */
struct stream_chan *stream_chan_find(const struct stream_chan_map *m,
                                     const char *name, size_t len);

/* The channel, created if needed, with one more reference; NULL on
 * ENOMEM. */
struct stream_chan *stream_chan_ref(struct stream_chan_map *m,
                                    const char *name, size_t len);

/* Drops a reference; the channel is freed with the last one. */
void stream_chan_unref(struct stream_chan_map *m, struct stream_chan *c);

/* Adds sub to / removes it from its channel's subscriber list. */
void stream_chan_link(struct stream_sub *sub);
void stream_chan_unlink(struct stream_sub *sub);

#endif
