/* stream_match.c -- who receives a queue record (see stream_match.h). */
#include "ac_config.h"

#include "stream/stream_match.h"

#include <string.h>

#include "mercure/uri_template.h"

enum stream_req_kind stream_match_kind(const char *sel, size_t len)
{
    struct uri_template *t;

    if (len == 1 && sel[0] == '*')
        return STREAM_REQ_PATTERN;
    if (memchr(sel, '{', len) == NULL)
        return STREAM_REQ_EXACT;
    if (uri_template_compile(sel, len, &t) < 0)
        return STREAM_REQ_EXACT;
    uri_template_free(t);
    return STREAM_REQ_PATTERN;
}

bool stream_match_any_topic(const char *sel, size_t len,
                            enum stream_req_kind kind,
                            const struct queue_record *rec,
                            struct topic_selector_cache *cache)
{
    const char *t;
    size_t pos = 0, tlen;

    while (queue_record_next_topic(rec, &pos, &t, &tlen)) {
        if (kind == STREAM_REQ_EXACT) {
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
