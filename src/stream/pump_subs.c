/* pump_subs.c -- Mercure active subscriptions, the pump's side (when
 * mercure.subscriptions is on): every hub stream gets a subscriber id
 * (urn:uuid:, random) when it opens; each of its selectors is one
 * subscription. Opening and closing queue an update per selector
 * (subscription.h: private, on the subscription's topic, the 1.0 ones
 * with the SSE event type "mercure"); at most every PUMP_SUBS_EVERY_US
 * (at once while stopping) the pump rewrites its subscriptions file
 * (subs_file.h), then appends the queued updates to the queue, so they
 * fan out like any record (through this process's pump too).
 *
 * Key invariant (the API's cursor): the file is rewritten before the
 * updates that changed it are appended, so a reader taking the queue's
 * newest id N and then the files sees every change of an update <= N.
 *
 * Costs: nothing for /events streams and nothing on the fan-out path; a
 * hub stream pays one allocation and two appends a selector, and the
 * file rewrite is O(this process's subscriptions), at most 20 a second.
 * A process killed (SIGKILL) publishes no "active": false for its
 * streams; its file is ignored from then on (its slot's owner is gone). */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/log.h"
#include "stream/pump_int.h"
#include "stream/stream_match.h"
#include "stream/subs_file.h"

#define PUMP_SUBS_EVERY_US 50000    /* file rewrites: at most 20 a second */

/* One hub stream's subscriptions (its stream's subs_entry). */
struct pump_subs_entry {
    struct pump_subs_entry *prev, *next;
    unsigned n;
    char id[SUBSCRIPTION_ID_MAX];
    struct subscription subs[];     /* then the names and payloads */
};

/* An update to append after the next file rewrite. */
struct pump_subs_update {
    struct pump_subs_update *next;
    bool v1;                        /* event type "mercure" */
    size_t topic_len, doc_len;
    char bytes[];                   /* topic, then document */
};

struct pump_subs {
    struct pump_subs_entry *head;   /* every hub stream with an entry */
    size_t n;                       /* their subscriptions */
    struct pump_subs_update *first, **last; /* to append, in order */
    bool dirty;                     /* the file is behind */
    uint64_t written_us;            /* last rewrite (monotonic) */
    bool file_failed;               /* logged once */
};

/* The pump's state, made at the first hub stream; NULL on ENOMEM. */
static struct pump_subs *pump_subs_state(struct pump *p)
{
    if (p->subs == NULL) {
        p->subs = calloc(1, sizeof(*p->subs));
        if (p->subs != NULL)
            p->subs->last = &p->subs->first;
    }
    return p->subs;
}

/* Queues the update of subscription s (active or not). -ENOMEM. */
static int pump_subs_queue(struct pump_subs *ps,
                           const struct subscription *s, bool active)
{
    unsigned flags = s->dialect == SUBSCRIPTION_V0 ?
                     SUBSCRIPTION_DOC_CONTEXT : 0;
    size_t tn = subscription_topic(NULL, 0, s);
    size_t dn = subscription_doc(NULL, 0, s, active, flags, NULL);
    struct pump_subs_update *u = malloc(sizeof(*u) + tn + dn);

    if (u == NULL)
        return -ENOMEM;
    u->next = NULL;
    u->v1 = s->dialect == SUBSCRIPTION_V1;
    u->topic_len = subscription_topic(u->bytes, tn, s);
    u->doc_len = subscription_doc(u->bytes + tn, dn, s, active, flags,
                                  NULL);
    *ps->last = u;
    ps->last = &u->next;
    ps->dirty = true;
    return 0;
}

/* The dialect and matcher type of a selector that came in as d. */
static void pump_subs_kind(uint8_t d, struct subscription *s)
{
    s->dialect = d == STREAM_REQ_V0 ? SUBSCRIPTION_V0 : SUBSCRIPTION_V1;
    s->match = d == STREAM_REQ_V1_URLPATTERN ? SUBSCRIPTION_MATCH_URLPATTERN
                                             : SUBSCRIPTION_MATCH_EXACT;
}

/* The text a subscriber gave for selector name[0..*len): a URL
 * pattern's name is "\n" base "\n" pattern (stream_match.h), the rest
 * are the name itself. */
static const char *pump_subs_given(const char *name, size_t *len)
{
    const char *nl;

    if (*len < 2 || name[0] != STREAM_MATCH_URLPATTERN ||
        (nl = memchr(name + 1, STREAM_MATCH_URLPATTERN, *len - 1)) == NULL)
        return name;
    *len -= (size_t)(nl + 1 - name);
    return nl + 1;
}

/* The payload of the subscription whose own matcher is m[0..len):
 * for a 1.0 access token, that of the first subscribe detail matching m
 * as a topic (mercure_authz_payload); else the mercure claim's; NULL
 * when none (*pl 0). */
static const char *pump_subs_payload(const struct jwt_claims *claims,
                                     const char *m, size_t len, size_t *pl)
{
    const struct mercure_authz_detail *d;

    *pl = 0;
    if (!claims->access_token) {
        *pl = claims->payload ? claims->payload_len : 0;
        return claims->payload;
    }
    d = mercure_authz_payload(&claims->authz, m, len);
    if (d == NULL)
        return NULL;
    *pl = d->payload_len;
    return d->payload;
}

/* The selectors of a stream as subscribers gave them, with their
 * payloads (pump_subs_payload, looked up once each). */
struct pump_subs_given {
    const char *given[STREAM_REQ_CHANNELS_MAX];
    size_t len[STREAM_REQ_CHANNELS_MAX];
    const char *pay[STREAM_REQ_CHANNELS_MAX];   /* NULL: none */
    size_t pl[STREAM_REQ_CHANNELS_MAX];
};

/* Whether selector i's payload is one an earlier selector has (the same
 * detail's): copied once. */
static bool pump_subs_shared(const struct pump_subs_given *g, unsigned i,
                             unsigned *j)
{
    for (*j = 0; g->pay[i] != NULL && *j < i; (*j)++)
        if (g->pay[*j] == g->pay[i])
            return true;
    return false;
}

/* Fills g from r and claims; the bytes an entry needs after its
 * subscriptions (names, each distinct payload once). */
static size_t pump_subs_gather(const struct stream_req *r,
                               const struct jwt_claims *claims,
                               struct pump_subs_given *g)
{
    size_t n = 0;
    unsigned j;

    for (unsigned i = 0; i < r->n_channels; i++) {
        g->len[i] = r->len[i];
        g->given[i] = pump_subs_given(r->names + r->off[i], &g->len[i]);
        g->pay[i] = pump_subs_payload(claims, g->given[i], g->len[i],
                                      &g->pl[i]);
        n += g->len[i] + (pump_subs_shared(g, i, &j) ? 0 : g->pl[i]);
    }
    return n;
}

/* The entry of c's selectors, its id from 16 random bytes, each
 * subscription's payload copied from claims (pump_subs_payload; may have
 * none). NULL on failure. */
static struct pump_subs_entry *pump_subs_entry_new(
    const struct pump_conn *c, const struct jwt_claims *claims)
{
    const struct stream_req *r = &c->req;
    struct pump_subs_given *g = malloc(sizeof(*g));
    struct pump_subs_entry *e = NULL;
    uint8_t rnd[16];
    unsigned j;
    char *p;

    if (g == NULL || getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        goto fail;
    e = calloc(1, sizeof(*e) + r->n_channels * sizeof(e->subs[0]) +
               pump_subs_gather(r, claims, g));
    if (e == NULL)
        goto fail;
    subscription_id(e->id, rnd);
    e->n = r->n_channels;
    p = (char *)&e->subs[e->n];
    for (unsigned i = 0; i < e->n; i++) {
        struct subscription *s = &e->subs[i];

        pump_subs_kind(r->dialect[i], s);
        s->selector = memcpy(p, g->given[i], g->len[i]);
        s->selector_len = g->len[i];
        p += g->len[i];
        s->subscriber = e->id;
        s->subscriber_len = strlen(e->id);
        s->payload_len = g->pl[i];
        if (pump_subs_shared(g, i, &j))
            s->payload = e->subs[j].payload;
        else if (g->pay[i] != NULL) {
            s->payload = memcpy(p, g->pay[i], g->pl[i]);
            p += g->pl[i];
        }
    }
fail:
    free(g);
    return e;
}

void pump_subs_open(struct pump *p, struct stream *s,
                    const struct pump_conn *c)
{
    struct pump_subs *ps;
    struct pump_subs_entry *e;

    if (!c->req.hub || !p->set.subscriptions || s->state == PUMP_DEAD ||
        (ps = pump_subs_state(p)) == NULL)
        return;
    e = pump_subs_entry_new(c, &s->claims);
    if (e == NULL) {
        log_error("stream fd %d: out of memory (or no random bytes): no "
                  "subscription update", s->fd);
        return;
    }
    e->next = ps->head;
    if (ps->head != NULL)
        ps->head->prev = e;
    ps->head = e;
    ps->n += e->n;
    s->subs_entry = e;
    for (unsigned i = 0; i < e->n; i++)
        if (pump_subs_queue(ps, &e->subs[i], true) < 0)
            log_error("stream fd %d: out of memory: subscription update "
                      "lost", s->fd);
}

void pump_subs_close(struct pump *p, struct stream *s)
{
    struct pump_subs_entry *e = s->subs_entry;
    struct pump_subs *ps = p->subs;

    if (e == NULL)
        return;
    s->subs_entry = NULL;
    for (unsigned i = 0; i < e->n; i++)
        if (pump_subs_queue(ps, &e->subs[i], false) < 0)
            log_error("stream fd %d: out of memory: subscription update "
                      "lost", s->fd);
    if (e->prev) e->prev->next = e->next; else ps->head = e->next;
    if (e->next) e->next->prev = e->prev;
    ps->n -= e->n;
    ps->dirty = true;
    free(e);
}

/* Rewrites the file from the entries. Logs the first failure. */
static void pump_subs_write(struct pump *p, struct pump_subs *ps)
{
    struct subscription *all = malloc((ps->n ? ps->n : 1) * sizeof(*all));
    size_t k = 0;
    int mode = queue_file_mode(p->q), rc = -ENOMEM;

    if (all != NULL) {
        for (const struct pump_subs_entry *e = ps->head; e; e = e->next)
            for (unsigned i = 0; i < e->n; i++)
                all[k++] = e->subs[i];
        rc = mode < 0 ? mode :
             subs_file_write(queue_file_path(p->q), p->slot, (unsigned)mode,
                             pump_top_started(p), all, k);
        free(all);
    }
    if (rc < 0 && !ps->file_failed)
        log_error("%s.subs-%d: %s (the subscription API misses this "
                  "process's subscriptions)", queue_file_path(p->q),
                  p->slot, strerror(-rc));
    ps->file_failed = rc < 0;
}

/* Appends the queued updates (after the rewrite), oldest first. */
static void pump_subs_append(struct pump *p, struct pump_subs *ps)
{
    struct pump_subs_update *u;

    while ((u = ps->first) != NULL) {
        struct queue_msg m = {
            .channel = u->bytes, .channel_len = u->topic_len,
            .event = u->v1 ? SUBSCRIPTION_EVENT : NULL,
            .event_len = u->v1 ? sizeof(SUBSCRIPTION_EVENT) - 1 : 0,
            .data = u->bytes + u->topic_len, .data_len = u->doc_len,
            .flags = QUEUE_MSG_PRIVATE,
        };
        uint64_t id;
        int rc = p->q != NULL ? queue_append(p->q, &m, &id) : -ENXIO;

        if (rc < 0)
            log_warn("subscription update %.*s not published: %s",
                     (int)(u->topic_len < 200 ? u->topic_len : 200),
                     u->bytes, strerror(-rc));
        ps->first = u->next;
        free(u);
    }
    ps->last = &ps->first;
}

void pump_subs_flush(struct pump *p, bool now)
{
    struct pump_subs *ps = p->subs;

    if (ps == NULL || !ps->dirty || p->q == NULL ||
        (!now && !p->stopping &&
         p->now_us < ps->written_us + PUMP_SUBS_EVERY_US))
        return;
    if (p->slot >= 0)
        pump_subs_write(p, ps);
    pump_subs_append(p, ps);
    ps->written_us = p->now_us;
    ps->dirty = false;
}

void pump_subs_destroy(struct pump *p)
{
    struct pump_subs *ps = p->subs;

    if (ps == NULL)
        return;
    pump_subs_flush(p, true);
    if (p->q != NULL && p->slot >= 0)
        subs_file_remove(queue_file_path(p->q), p->slot);
    while (ps->first != NULL) {
        struct pump_subs_update *u = ps->first;

        ps->first = u->next;
        free(u);
    }
    free(ps);
    p->subs = NULL;
}
