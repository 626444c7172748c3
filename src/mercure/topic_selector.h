/* topic_selector.h -- Mercure topic selectors (a topic the publisher or
 * subscriber names, "*", or an RFC 6570 template: uri_template.h) and a
 * bounded cache of (selector, topic) match results, so that a fan-out
 * evaluates a template once per pair, not once per subscriber. */
#ifndef SSEQ_TOPIC_SELECTOR_H
#define SSEQ_TOPIC_SELECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* "*" matches every topic, an equal string matches, a selector with '{'
 * is a template (a bad one matches only itself), any other selector only
 * itself. */
bool topic_selector_match(const char *sel, size_t slen,
                          const char *topic, size_t tlen);

/* Set-associative, TOPIC_SELECTOR_CACHE_WAYS entries a set, clock
 * eviction within a set. Not thread-safe: one cache per thread. */
#define TOPIC_SELECTOR_CACHE_WAYS 4

struct topic_selector_cache_entry;

struct topic_selector_cache {
    struct topic_selector_cache_entry *slots;   /* n_sets x ways */
    unsigned char *hands;       /* clock hand of each set */
    size_t n_sets;              /* power of two */
    size_t key_max;             /* longer selector+topic: not stored */
    uint64_t hits, misses, evictions;   /* counters, never reset */
};

/* Sizes the cache for at least capacity entries (sets rounded up to a
 * power of two); pairs whose selector+topic exceed key_max bytes are
 * computed but not stored. 0, -EINVAL (capacity 0) or -ENOMEM. */
int topic_selector_cache_init(struct topic_selector_cache *c,
                              size_t capacity, size_t key_max);

void topic_selector_cache_free(struct topic_selector_cache *c);

/* The cached result: 1 match, 0 no match, -ENOENT not cached. */
int topic_selector_cache_lookup(struct topic_selector_cache *c,
                                const char *sel, size_t slen,
                                const char *topic, size_t tlen);

/* Stores a result (replacing the pair's old one), evicting one entry of
 * the set when it is full. 0, -E2BIG (longer than key_max) or -ENOMEM. */
int topic_selector_cache_insert(struct topic_selector_cache *c,
                                const char *sel, size_t slen,
                                const char *topic, size_t tlen, bool match);

/* topic_selector_match through the cache (c may be NULL: no cache). */
bool topic_selector_match_cached(struct topic_selector_cache *c,
                                 const char *sel, size_t slen,
                                 const char *topic, size_t tlen);

#endif
