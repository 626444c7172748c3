/* pump_pattern.c -- the pump's pattern selectors ("*", URI templates):
 * each distinct one is compiled once, when the first stream naming it
 * opens (its stream_chan's owner_data), and freed with its channel, so
 * the fan-out and the replays never compile; and the process's pattern
 * budget (stream_match.h): pattern_cost, the cost of the distinct
 * patterns compiled, plus pattern_pending, what pump_admit promised to
 * streams not opened yet, stays within mercure.process_pattern_cost.
 * Key invariant: pattern_cost is the sum of the costs of the pattern
 * channels whose owner_data is set. */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>

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

/* Compiles pattern channel c's selector unless it is already. 0 or
 * -ENOMEM (-EINVAL cannot happen: the request said it is a pattern). */
int pump_pattern_attach(struct pump *p, struct stream_chan *c)
{
    struct stream_match_pattern *m;
    int rc;

    if (c->owner_data != NULL)
        return 0;
    m = malloc(sizeof(*m));
    if (m == NULL)
        return -ENOMEM;
    rc = stream_match_pattern_init(m, c->name, c->len);
    if (rc < 0) {
        free(m);
        return rc;
    }
    c->owner_data = m;
    atomic_fetch_add(&p->pattern_cost, m->cost);
    return 0;
}

/* stream_chan_unref, freeing a pattern channel's compiled selector with
 * its last reference. */
void pump_chan_unref(struct pump *p, struct stream_chan *c)
{
    struct stream_match_pattern *m = c->owner_data;

    if (c->refs == 1 && m != NULL) {
        atomic_fetch_sub(&p->pattern_cost, m->cost);
        stream_match_pattern_free(m);
        free(m);
        c->owner_data = NULL;
    }
    stream_chan_unref(&p->maps[c->tag], c);
}

/* Whether pattern channel c matches some topic of rec (false while it
 * has no compiled selector). */
bool pump_pattern_any(const struct stream_chan *c,
                      const struct queue_record *rec)
{
    return c->owner_data != NULL &&
           stream_match_pattern_any(c->owner_data, rec);
}
