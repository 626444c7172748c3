/* pump_pattern.c -- the pump's pattern selectors ("*", URI templates,
 * URL patterns):
 * each distinct one is compiled once, when the first stream naming it
 * opens (its stream_chan's owner_data), and freed with its channel, so
 * the fan-out and the replays never compile; and the process's pattern
 * budget (stream_match.h): pattern_cost, the cost of the distinct
 * patterns compiled, plus pattern_pending, what pump_admit promised to
 * streams not opened yet, stays within mercure.process_pattern_cost.
 *
 * Results are remembered by topic: the pump gives each topic it sees an
 * id (pump_topics: a direct-mapped table of PUMP_TOPIC_SLOTS topics,
 * compared byte for byte; a topic that comes back after its slot was
 * taken gets a new id), and each pattern keeps its last PUMP_MEMO_WAYS
 * (topic id, result) pairs, so a topic published again costs a pattern
 * a few comparisons instead of a match, however many replays and
 * passes ask. Ids never repeat (64-bit counter): a memo is never wrong.
 *
 * Key invariant: pattern_cost is the sum of the costs of the pattern
 * channels whose owner_data is set. */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream/pump_int.h"
#include "stream/stream_match.h"

int pump_admit(struct pump *p, const struct config *cfg,
               struct pump_conn *c, const char **reason)
{
    unsigned long cost = stream_match_req_cost(&c->req);
    unsigned long used = atomic_load(&p->pattern_cost) +
                         atomic_load(&p->pattern_pending);
    struct stream_match_budget b;
    int status;

    c->pattern_reserved = 0;
    if (cost == 0)
        return 0;
    stream_match_budget_of(cfg, !c->auth.token, used, &b);
    status = stream_match_budget_check(cost, &b, c->req.why,
                                       sizeof(c->req.why));
    if (status != 0) {
        *reason = c->req.why;
        return status;
    }
    if (!c->req.head) {
        c->pattern_reserved = cost;
        atomic_fetch_add(&p->pattern_pending, cost);
    }
    return 0;
}

void pump_admit_cancel(struct pump *p, struct pump_conn *c)
{
    pump_pattern_release(p, c);
}

/* Gives back what pump_admit reserved for c (its stream opened, or
 * never will). */
void pump_pattern_release(struct pump *p, struct pump_conn *c)
{
    if (c->pattern_reserved > 0)
        atomic_fetch_sub(&p->pattern_pending, c->pattern_reserved);
    c->pattern_reserved = 0;
}

unsigned long pump_pattern_cost(const struct pump *p)
{
    return atomic_load(&p->pattern_cost);
}

#define PUMP_TOPIC_SLOTS 1024      /* topics given ids, direct-mapped */
#define PUMP_MEMO_WAYS   8          /* results a pattern remembers */

struct pump_topic_slot {
    uint64_t hash;
    uint64_t id;                /* 0: empty */
    size_t len;
    char *bytes;                /* the topic, malloc'd */
};

struct pump_topics {
    struct pump_topic_slot slot[PUMP_TOPIC_SLOTS];
    uint64_t next_id;           /* last id given */
    uint64_t rec_id;            /* the record ids[] are of; 0 none */
    unsigned n;                 /* its topics */
    uint64_t ids[QUEUE_TOPICS_MAX + 1];
};

/* A pattern channel's owner_data: the compiled selector, its memo. */
struct pump_pattern {
    struct stream_match_pattern m;
    uint64_t memo_id[PUMP_MEMO_WAYS];   /* topic ids; 0 empty */
    bool memo_hit[PUMP_MEMO_WAYS];
    unsigned memo_next;                 /* the way replaced next */
};

/* Compiles pattern channel c's selector unless it is already. 0 or
 * -ENOMEM (-EINVAL cannot happen: the request said it is a pattern). */
int pump_pattern_attach(struct pump *p, struct stream_chan *c)
{
    struct pump_pattern *pp;
    int rc;

    if (c->owner_data != NULL)
        return 0;
    pp = calloc(1, sizeof(*pp));
    if (pp == NULL)
        return -ENOMEM;
    rc = stream_match_pattern_init(&pp->m, c->name, c->len);
    if (rc < 0) {
        free(pp);
        return rc;
    }
    c->owner_data = pp;
    atomic_fetch_add(&p->pattern_cost, pp->m.cost);
    return 0;
}

/* stream_chan_unref, freeing a pattern channel's compiled selector with
 * its last reference. */
void pump_chan_unref(struct pump *p, struct stream_chan *c)
{
    struct pump_pattern *pp = c->owner_data;

    if (c->refs == 1 && pp != NULL) {
        atomic_fetch_sub(&p->pattern_cost, pp->m.cost);
        stream_match_pattern_free(&pp->m);
        free(pp);
        c->owner_data = NULL;
    }
    stream_chan_unref(&p->maps[c->tag], c);
}

/* FNV-1a 64 of t[0..len). */
static uint64_t pump_topic_hash(const char *t, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)t[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The id of topic t[0..len): the one its slot holds for these bytes, else
 * a new one (the slot is retaken); 0 on ENOMEM (not remembered). */
static uint64_t pump_topic_id(struct pump_topics *tp, const char *t,
                              size_t len)
{
    uint64_t h = pump_topic_hash(t, len);
    struct pump_topic_slot *sl = &tp->slot[h % PUMP_TOPIC_SLOTS];
    char *copy;

    if (sl->id != 0 && sl->hash == h && sl->len == len &&
        memcmp(sl->bytes, t, len) == 0)
        return sl->id;
    copy = malloc(len + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, t, len);
    free(sl->bytes);
    *sl = (struct pump_topic_slot){ .hash = h, .id = ++tp->next_id,
                                    .len = len, .bytes = copy };
    return sl->id;
}

/* The ids of rec's topics, in tp->ids (computed once a record). NULL on
 * ENOMEM. */
static struct pump_topics *pump_topics_of(struct pump *p,
                                          const struct queue_record *rec)
{
    struct pump_topics *tp = p->topics;
    const char *t;
    size_t pos = 0, tlen;

    if (tp == NULL) {
        tp = p->topics = calloc(1, sizeof(*tp));
        if (tp == NULL)
            return NULL;
    }
    if (rec->id != 0 && tp->rec_id == rec->id)
        return tp;
    tp->n = 0;
    while (queue_record_next_topic(rec, &pos, &t, &tlen) &&
           tp->n < QUEUE_TOPICS_MAX + 1)
        tp->ids[tp->n++] = pump_topic_id(tp, t, tlen);
    tp->rec_id = rec->id;
    return tp;
}

void pump_topics_free(struct pump *p)
{
    if (p->topics == NULL)
        return;
    for (size_t i = 0; i < PUMP_TOPIC_SLOTS; i++)
        free(p->topics->slot[i].bytes);
    free(p->topics);
    p->topics = NULL;
}

/* Whether pattern pp matches the topic t[0..len) of id (0: unknown, not
 * remembered), through its memo. */
static bool pump_pattern_topic(struct pump_pattern *pp, uint64_t id,
                               const char *t, size_t len)
{
    bool hit;

    for (unsigned w = 0; id != 0 && w < PUMP_MEMO_WAYS; w++)
        if (pp->memo_id[w] == id)
            return pp->memo_hit[w];
    hit = stream_match_pattern_topic(&pp->m, t, len);
    if (id != 0) {
        pp->memo_id[pp->memo_next] = id;
        pp->memo_hit[pp->memo_next] = hit;
        pp->memo_next = (pp->memo_next + 1) % PUMP_MEMO_WAYS;
    }
    return hit;
}

/* Whether pattern channel c matches some topic of rec (false while it
 * has no compiled selector). */
bool pump_pattern_any(struct pump *p, struct stream_chan *c,
                      const struct queue_record *rec)
{
    struct pump_pattern *pp = c->owner_data;
    struct pump_topics *tp;
    const char *t;
    size_t pos = 0, tlen;
    unsigned i = 0;

    if (pp == NULL)
        return false;
    if (stream_match_pattern_all(&pp->m))
        return true;                    /* "*" */
    tp = pump_topics_of(p, rec);
    while (queue_record_next_topic(rec, &pos, &t, &tlen)) {
        uint64_t id = tp != NULL && i < tp->n ? tp->ids[i] : 0;

        i++;
        if (pump_pattern_topic(pp, id, t, tlen))
            return true;
    }
    return false;
}
