/* topic_selector.c -- Mercure topic selectors and their match cache.
 *
 * The cache: n_sets sets of TOPIC_SELECTOR_CACHE_WAYS entries; a pair
 * hashes (FNV-1a 64 over both lengths and both strings) to one set. An
 * entry owns one malloc'd key, selector bytes then topic bytes. A hit
 * sets the entry's reference bit; an insert into a full set moves the
 * set's clock hand, clearing reference bits, to the first entry without
 * one and replaces it. Key invariant: a used entry's key holds exactly
 * sel_len + topic_len bytes and its hash is the hash of that pair. */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mercure/topic_selector.h"
#include "mercure/uri_template.h"

struct topic_selector_cache_entry {
    char *key;                  /* selector bytes, then topic bytes */
    size_t sel_len, topic_len;
    uint64_t hash;
    bool used;                  /* holds a result */
    bool match;                 /* the result */
    bool ref;                   /* read since the hand last passed */
};

/* 1 match, 0 no match, -ENOMEM (a bad template is a plain string). */
static int ts_match(const char *sel, size_t slen, const char *topic,
                    size_t tlen)
{
    int rc;

    if (slen == 1 && sel[0] == '*')
        return 1;
    if (slen == tlen && memcmp(sel, topic, slen) == 0)
        return 1;
    if (memchr(sel, '{', slen) == NULL)
        return 0;
    rc = uri_template_match(sel, slen, topic, tlen);
    return rc == -EINVAL ? 0 : rc;
}

bool topic_selector_match(const char *sel, size_t slen,
                          const char *topic, size_t tlen)
{
    return ts_match(sel, slen, topic, tlen) == 1;
}

/* FNV-1a 64 of n bytes, continuing from h. */
static uint64_t ts_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The pair's hash; the lengths go first so ("ab","c") != ("a","bc"). */
static uint64_t ts_hash(const char *sel, size_t slen, const char *topic,
                        size_t tlen)
{
    uint64_t h = 0xcbf29ce484222325ull;

    h = ts_fnv(h, &slen, sizeof(slen));
    h = ts_fnv(h, &tlen, sizeof(tlen));
    h = ts_fnv(h, sel, slen);
    return ts_fnv(h, topic, tlen);
}

int topic_selector_cache_init(struct topic_selector_cache *c,
                              size_t capacity, size_t key_max)
{
    size_t sets = 1;

    memset(c, 0, sizeof(*c));
    if (capacity == 0)
        return -EINVAL;
    while (sets * TOPIC_SELECTOR_CACHE_WAYS < capacity) {
        if (sets > SIZE_MAX / 4 / TOPIC_SELECTOR_CACHE_WAYS)
            return -ENOMEM;
        sets *= 2;
    }
    c->slots = calloc(sets * TOPIC_SELECTOR_CACHE_WAYS, sizeof(*c->slots));
    c->hands = calloc(sets, 1);
    if (c->slots == NULL || c->hands == NULL) {
        topic_selector_cache_free(c);
        return -ENOMEM;
    }
    c->n_sets = sets;
    c->key_max = key_max;
    return 0;
}

void topic_selector_cache_free(struct topic_selector_cache *c)
{
    size_t n = c->n_sets * TOPIC_SELECTOR_CACHE_WAYS;

    for (size_t i = 0; c->slots != NULL && i < n; i++)
        free(c->slots[i].key);
    free(c->slots);
    free(c->hands);
    memset(c, 0, sizeof(*c));
}

/* The entry holding the pair in its set, or NULL. */
static struct topic_selector_cache_entry *
ts_find(struct topic_selector_cache *c, uint64_t h, const char *sel,
        size_t slen, const char *topic, size_t tlen)
{
    struct topic_selector_cache_entry *set =
        &c->slots[(h & (c->n_sets - 1)) * TOPIC_SELECTOR_CACHE_WAYS];

    for (size_t i = 0; i < TOPIC_SELECTOR_CACHE_WAYS; i++) {
        struct topic_selector_cache_entry *e = &set[i];

        if (e->used && e->hash == h && e->sel_len == slen &&
            e->topic_len == tlen && memcmp(e->key, sel, slen) == 0 &&
            memcmp(e->key + slen, topic, tlen) == 0)
            return e;
    }
    return NULL;
}

int topic_selector_cache_lookup(struct topic_selector_cache *c,
                                const char *sel, size_t slen,
                                const char *topic, size_t tlen)
{
    uint64_t h = ts_hash(sel, slen, topic, tlen);
    struct topic_selector_cache_entry *e =
        ts_find(c, h, sel, slen, topic, tlen);

    if (e == NULL) {
        c->misses++;
        return -ENOENT;
    }
    c->hits++;
    e->ref = true;
    return e->match ? 1 : 0;
}

/* The entry of set s to (re)use: a free one, else the clock's victim. */
static struct topic_selector_cache_entry *
ts_victim(struct topic_selector_cache *c, size_t s)
{
    struct topic_selector_cache_entry *set =
        &c->slots[s * TOPIC_SELECTOR_CACHE_WAYS];

    for (size_t i = 0; i < TOPIC_SELECTOR_CACHE_WAYS; i++)
        if (!set[i].used)
            return &set[i];
    for (;;) {
        struct topic_selector_cache_entry *e = &set[c->hands[s]];

        c->hands[s] = (unsigned char)((c->hands[s] + 1) %
                                      TOPIC_SELECTOR_CACHE_WAYS);
        if (!e->ref) {
            c->evictions++;
            return e;
        }
        e->ref = false;
    }
}

int topic_selector_cache_insert(struct topic_selector_cache *c,
                                const char *sel, size_t slen,
                                const char *topic, size_t tlen, bool match)
{
    uint64_t h = ts_hash(sel, slen, topic, tlen);
    struct topic_selector_cache_entry *e;
    char *key;

    if (slen > c->key_max || tlen > c->key_max - slen)
        return -E2BIG;
    e = ts_find(c, h, sel, slen, topic, tlen);
    if (e != NULL) {
        e->match = match;
        return 0;
    }
    key = malloc(slen + tlen + 1);
    if (key == NULL)
        return -ENOMEM;
    memcpy(key, sel, slen);
    memcpy(key + slen, topic, tlen);
    e = ts_victim(c, h & (c->n_sets - 1));
    free(e->key);
    *e = (struct topic_selector_cache_entry){
        .key = key, .sel_len = slen, .topic_len = tlen, .hash = h,
        .used = true, .match = match, .ref = false,
    };
    return 0;
}

bool topic_selector_match_cached(struct topic_selector_cache *c,
                                 const char *sel, size_t slen,
                                 const char *topic, size_t tlen)
{
    int rc;

    if (c == NULL || memchr(sel, '{', slen) == NULL)
        return topic_selector_match(sel, slen, topic, tlen);
    rc = topic_selector_cache_lookup(c, sel, slen, topic, tlen);
    if (rc >= 0)
        return rc == 1;
    rc = ts_match(sel, slen, topic, tlen);
    if (rc < 0)
        return false;               /* out of memory: refuse, not stored */
    (void)topic_selector_cache_insert(c, sel, slen, topic, tlen, rc == 1);
    return rc == 1;
}
