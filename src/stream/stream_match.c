/* stream_match.c -- who receives a queue record (see stream_match.h). */
#include "ac_config.h"

#include "stream/stream_match.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mercure/uri_template.h"

size_t stream_match_urlpattern_name(char *out, size_t cap, const char *base,
                                    size_t blen, const char *pat,
                                    size_t plen)
{
    if (blen + plen + 3 > cap)
        return 0;
    out[0] = STREAM_MATCH_URLPATTERN;
    memcpy(out + 1, base, blen);
    out[1 + blen] = STREAM_MATCH_URLPATTERN;
    memcpy(out + 2 + blen, pat, plen);
    out[2 + blen + plen] = '\0';
    return blen + plen + 2;
}

bool stream_match_is_urlpattern(const char *sel, size_t len)
{
    return len >= 2 && sel[0] == STREAM_MATCH_URLPATTERN &&
           memchr(sel + 1, STREAM_MATCH_URLPATTERN, len - 1) != NULL;
}

/* Compiles URL pattern selector name sel[0..len) into *out (-EINVAL when
 * it is not one; else urlpattern_compile's result). */
static int stream_match_urlpattern(const char *sel, size_t len,
                                   struct urlpattern **out)
{
    const char *sep;
    char why[8];

    if (!stream_match_is_urlpattern(sel, len))
        return -EINVAL;
    sep = memchr(sel + 1, STREAM_MATCH_URLPATTERN, len - 1);
    return urlpattern_compile(sep + 1, (size_t)(sel + len - sep - 1),
                              sel + 1, (size_t)(sep - sel - 1), out, why,
                              sizeof(why));
}

/* A thread's compiled URL patterns, by name (stream_match_any_topic). */
struct stream_match_up_cache {
    struct {
        char *name;
        size_t len;
        struct urlpattern *up;
    } e[STREAM_MATCH_UP_CACHE];
    unsigned next;              /* the entry replaced next */
};

static pthread_key_t stream_match_up_key;
static pthread_once_t stream_match_up_once = PTHREAD_ONCE_INIT;

/* Frees a thread's cache (the key's destructor, at thread exit). */
static void stream_match_up_cache_free(void *arg)
{
    struct stream_match_up_cache *c = arg;

    for (unsigned i = 0; i < STREAM_MATCH_UP_CACHE; i++) {
        free(c->e[i].name);
        urlpattern_free(c->e[i].up);
    }
    free(c);
}

static void stream_match_up_key_init(void)
{
    (void)pthread_key_create(&stream_match_up_key,
                             stream_match_up_cache_free);
}

/* The compiled URL pattern of selector name sel[0..len), from this
 * thread's cache or compiled into it; NULL when it does not compile or
 * on ENOMEM. */
static struct urlpattern *stream_match_up_get(const char *sel, size_t len)
{
    struct stream_match_up_cache *c;
    struct urlpattern *up;
    unsigned i;
    char *name;

    pthread_once(&stream_match_up_once, stream_match_up_key_init);
    c = pthread_getspecific(stream_match_up_key);
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL || pthread_setspecific(stream_match_up_key, c) != 0) {
            free(c);
            return NULL;
        }
    }
    for (i = 0; i < STREAM_MATCH_UP_CACHE; i++)
        if (c->e[i].up != NULL && c->e[i].len == len &&
            memcmp(c->e[i].name, sel, len) == 0)
            return c->e[i].up;
    if (stream_match_urlpattern(sel, len, &up) < 0)
        return NULL;
    name = malloc(len);
    if (name == NULL) {
        urlpattern_free(up);
        return NULL;
    }
    memcpy(name, sel, len);
    i = c->next;
    c->next = (c->next + 1) % STREAM_MATCH_UP_CACHE;
    free(c->e[i].name);
    urlpattern_free(c->e[i].up);
    c->e[i].name = name;
    c->e[i].len = len;
    c->e[i].up = up;
    return up;
}

enum stream_req_kind stream_match_kind(const char *sel, size_t len)
{
    return stream_match_cost(sel, len, NULL, NULL) > 0 ? STREAM_REQ_PATTERN
                                                       : STREAM_REQ_EXACT;
}

unsigned long stream_match_cost(const char *sel, size_t len, size_t *exprs,
                                size_t *vars)
{
    struct uri_template *t;
    unsigned long cost;

    if (exprs != NULL)
        *exprs = 0;
    if (vars != NULL)
        *vars = 0;
    if (len == 1 && sel[0] == '*')
        return 1;
    if (stream_match_is_urlpattern(sel, len)) {
        struct urlpattern *up;

        if (stream_match_urlpattern(sel, len, &up) < 0)
            return 0;
        cost = urlpattern_cost(up);
        urlpattern_free(up);
        return cost;
    }
    if (memchr(sel, '{', len) == NULL)
        return 0;
    if (uri_template_compile(sel, len, &t) < 0)
        return 0;
    cost = uri_template_cost(t);
    if (exprs != NULL)
        *exprs = uri_template_expressions(t);
    if (vars != NULL)
        *vars = uri_template_variables(t);
    uri_template_free(t);
    return cost > 0 ? cost : 1;
}

int stream_match_pattern_init(struct stream_match_pattern *m,
                              const char *sel, size_t len)
{
    int rc;

    m->tpl = NULL;
    m->up = NULL;
    m->cost = 1;
    if (len == 1 && sel[0] == '*')
        return 0;
    if (stream_match_is_urlpattern(sel, len)) {
        rc = stream_match_urlpattern(sel, len, &m->up);
        if (rc == 0)
            m->cost = urlpattern_cost(m->up);
        return rc == -ENOMEM ? rc : rc < 0 ? -EINVAL : 0;
    }
    if (memchr(sel, '{', len) == NULL)
        return -EINVAL;
    rc = uri_template_compile(sel, len, &m->tpl);
    if (rc < 0)
        return rc;
    m->cost = uri_template_cost(m->tpl);
    if (m->cost == 0)
        m->cost = 1;
    return 0;
}

void stream_match_pattern_free(struct stream_match_pattern *m)
{
    uri_template_free(m->tpl);
    urlpattern_free(m->up);
    m->tpl = NULL;
    m->up = NULL;
}

bool stream_match_pattern_all(const struct stream_match_pattern *m)
{
    return m->tpl == NULL && m->up == NULL;
}

bool stream_match_pattern_topic(const struct stream_match_pattern *m,
                                const char *t, size_t len)
{
    if (m->up != NULL)
        return urlpattern_match(m->up, t, len);
    return m->tpl == NULL || uri_template_match_compiled(m->tpl, t, len) == 1;
}

bool stream_match_pattern_any(const struct stream_match_pattern *m,
                              const struct queue_record *rec)
{
    const char *t;
    size_t pos = 0, tlen;

    while (queue_record_next_topic(rec, &pos, &t, &tlen))
        if (stream_match_pattern_topic(m, t, tlen))
            return true;
    return false;
}

void stream_match_budget_of(const struct config *cfg, bool anonymous,
                            unsigned long process_used,
                            struct stream_match_budget *b)
{
    b->stream_max = anonymous ? cfg->mercure_anon_pattern_cost
                              : cfg->mercure_stream_pattern_cost;
    b->stream_setting = anonymous ? "mercure.anonymous_pattern_cost"
                                  : "mercure.stream_pattern_cost";
    b->process_max = cfg->mercure_process_pattern_cost;
    b->process_used = process_used;
}

unsigned long stream_match_req_cost(const struct stream_req *r)
{
    unsigned long cost = 0;

    for (unsigned i = 0; i < r->n_channels; i++)
        cost += r->cost[i];
    return cost;
}

int stream_match_budget_check(unsigned long cost,
                              const struct stream_match_budget *b,
                              char *why, size_t cap)
{
    if (cost > b->stream_max) {
        snprintf(why, cap, "topic selectors too costly: their patterns "
                 "cost %lu in all, at most %lu a stream (%s)", cost,
                 b->stream_max, b->stream_setting);
        return 400;
    }
    if (cost > 0 && (b->process_used > b->process_max ||
                     cost > b->process_max - b->process_used)) {
        snprintf(why, cap, "pattern budget of this process full: %lu of "
                 "%lu used, this stream's patterns cost %lu "
                 "(mercure.process_pattern_cost)", b->process_used,
                 b->process_max, cost);
        return 503;
    }
    return 0;
}

bool stream_match_any_topic(const char *sel, size_t len,
                            enum stream_req_kind kind,
                            const struct queue_record *rec,
                            struct topic_selector_cache *cache)
{
    struct urlpattern *up = NULL;
    const char *t;
    size_t pos = 0, tlen;

    if (kind != STREAM_REQ_EXACT && stream_match_is_urlpattern(sel, len)) {
        up = stream_match_up_get(sel, len);
        if (up == NULL)
            return false;
    }
    while (queue_record_next_topic(rec, &pos, &t, &tlen)) {
        if (up != NULL) {
            if (urlpattern_match(up, t, tlen))
                return true;
        } else if (kind == STREAM_REQ_EXACT) {
            if (tlen == len && memcmp(t, sel, len) == 0)
                return true;
        } else if (topic_selector_match_cached(cache, sel, len, t, tlen)) {
            return true;
        }
    }
    return false;
}

bool stream_match_allowed(const struct jwt_claims *c,
                          const struct queue_record *rec,
                          struct topic_selector_cache *cache)
{
    const char *t;
    size_t pos = 0, tlen;

    if (!(rec->flags & QUEUE_MSG_PRIVATE))
        return true;
    if (c == NULL)
        return false;
    while (queue_record_next_topic(rec, &pos, &t, &tlen))
        if (jwt_claims_can_subscribe(c, t, tlen, cache))
            return true;
    return false;
}

bool stream_match_record(const struct stream_req *r,
                         const struct jwt_claims *c,
                         const struct queue_record *rec,
                         struct topic_selector_cache *cache)
{
    unsigned i;

    for (i = 0; i < r->n_channels; i++)
        if (stream_match_any_topic(r->names + r->off[i], r->len[i],
                                   (enum stream_req_kind)r->kind[i], rec,
                                   cache))
            return stream_match_allowed(c, rec, cache);
    return false;
}
