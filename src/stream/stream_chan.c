/* stream_chan.c -- channel name -> subscribers map of sseq-stream. */
#include "ac_config.h"

#include "stream/stream_chan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_CHAN_MIN_BUCKETS 64

/* FNV-1a. */
static uint32_t stream_chan_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

int stream_chan_map_init(struct stream_chan_map *m)
{
    m->nb = STREAM_CHAN_MIN_BUCKETS;
    m->n = 0;
    m->all = NULL;
    m->b = calloc(m->nb, sizeof(*m->b));
    return m->b ? 0 : -ENOMEM;
}

void stream_chan_map_free(struct stream_chan_map *m)
{
    uint32_t i;

    for (i = 0; i < m->nb; i++) {
        while (m->b[i] != NULL) {
            struct stream_chan *c = m->b[i];

            m->b[i] = c->hnext;
            free(c);
        }
    }
    free(m->b);
    m->b = NULL;
    m->all = NULL;
    m->nb = m->n = 0;
}

struct stream_chan *stream_chan_find(const struct stream_chan_map *m,
                                     const char *name, size_t len)
{
    uint32_t h = stream_chan_hash(name, len);
    struct stream_chan *c;

    for (c = m->b[h & (m->nb - 1)]; c != NULL; c = c->hnext)
        if (c->hash == h && c->len == len && memcmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

/* Doubles the bucket array; on ENOMEM the map just stays denser. */
static void stream_chan_grow(struct stream_chan_map *m)
{
    uint32_t nb = m->nb * 2, i;
    struct stream_chan **b = calloc(nb, sizeof(*b));

    if (b == NULL)
        return;
    for (i = 0; i < m->nb; i++) {
        while (m->b[i] != NULL) {
            struct stream_chan *c = m->b[i];

            m->b[i] = c->hnext;
            c->hnext = b[c->hash & (nb - 1)];
            b[c->hash & (nb - 1)] = c;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

struct stream_chan *stream_chan_ref(struct stream_chan_map *m,
                                    const char *name, size_t len)
{
    struct stream_chan *c = stream_chan_find(m, name, len);

    if (c != NULL) {
        c->refs++;
        return c;
    }
    if (len > UINT16_MAX)
        return NULL;
    c = calloc(1, sizeof(*c) + len + 1);
    if (c == NULL)
        return NULL;
    c->hash = stream_chan_hash(name, len);
    c->len = (uint16_t)len;
    memcpy(c->name, name, len);
    c->refs = 1;
    c->hnext = m->b[c->hash & (m->nb - 1)];
    m->b[c->hash & (m->nb - 1)] = c;
    c->anext = m->all;
    if (m->all != NULL)
        m->all->aprev = c;
    m->all = c;
    if (++m->n > m->nb)
        stream_chan_grow(m);
    return c;
}

void stream_chan_unref(struct stream_chan_map *m, struct stream_chan *c)
{
    struct stream_chan **pp;

    if (--c->refs > 0)
        return;
    for (pp = &m->b[c->hash & (m->nb - 1)]; *pp != NULL;
         pp = &(*pp)->hnext) {
        if (*pp == c) {
            *pp = c->hnext;
            m->n--;
            break;
        }
    }
    if (c->aprev != NULL)
        c->aprev->anext = c->anext;
    else
        m->all = c->anext;
    if (c->anext != NULL)
        c->anext->aprev = c->aprev;
    free(c);
}

void stream_chan_link(struct stream_sub *sub)
{
    struct stream_chan *c = sub->chan;

    if (sub->linked)
        return;
    sub->prev = NULL;
    sub->next = c->subs;
    if (c->subs != NULL)
        c->subs->prev = sub;
    c->subs = sub;
    c->nsubs++;
    sub->linked = true;
}

void stream_chan_unlink(struct stream_sub *sub)
{
    struct stream_chan *c = sub->chan;

    if (!sub->linked)
        return;
    if (sub->prev != NULL)
        sub->prev->next = sub->next;
    else
        c->subs = sub->next;
    if (sub->next != NULL)
        sub->next->prev = sub->prev;
    c->nsubs--;
    sub->linked = false;
}
