/* check_stream_match.c -- the "stream_match" suite: who receives a
 * record (stream_match.h), on tables: selector kinds; exact, "*" and
 * template selectors against canonical and alternate topics; private
 * records against anonymous subscribers and token claims; the hub and
 * /events encodings of a record (publisher id, retry). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream_feed.h"
#include "stream/stream_match.h"
#include "unit_run.h"

#define ALTS_MAX 4
#define SELS_MAX 4

struct kind_case {
    const char *sel;
    enum stream_req_kind kind;
};

static const struct kind_case kinds[] = {
    { "*", STREAM_REQ_PATTERN },
    { "chat.lobby", STREAM_REQ_EXACT },
    { "https://example.com/books/1", STREAM_REQ_EXACT },
    { "https://example.com/books/{id}", STREAM_REQ_PATTERN },
    { "{?topic}", STREAM_REQ_PATTERN },
    { "https://example.com/{bad", STREAM_REQ_EXACT },
    { "**", STREAM_REQ_EXACT },
};

START_TEST(test_kind)
{
    const struct kind_case *k = &kinds[_i];

    ck_assert_msg(stream_match_kind(k->sel, strlen(k->sel)) == k->kind,
                  "selector '%s' should be %s", k->sel,
                  k->kind == STREAM_REQ_EXACT ? "exact" : "a pattern");
}
END_TEST

/* One row: a record, a subscriber, and whether it receives the record. */
struct match_case {
    const char *topic;
    const char *alts[ALTS_MAX];         /* NULL-terminated */
    bool private;
    const char *sels[SELS_MAX];         /* the subscriber's selectors */
    bool token;                         /* claims below are a token's */
    const char *claims[SELS_MAX];       /* mercure.subscribe */
    bool want;
};

static const struct match_case matches[] = {
    /* the spec's Subscription examples */
    { "https://example.com/books/1", { NULL }, false,
      { "https://example.com/books/1" }, false, { NULL }, true },
    { "https://example.com/books/1", { NULL }, false,
      { "https://example.com/books/2" }, false, { NULL }, false },
    { "https://example.com/books/1", { NULL }, false,
      { "https://example.com/books/{id}" }, false, { NULL }, true },
    { "https://example.com/reviews/1", { NULL }, false,
      { "https://example.com/books/{id}" }, false, { NULL }, false },
    { "https://example.com/books/1?topic=x", { NULL }, false,
      { "https://example.com/books/1{?topic}" }, false, { NULL }, true },
    { "anything at all", { NULL }, false, { "*" }, false, { NULL }, true },
    { "a", { NULL }, false, { "b", "c", "a" }, false, { NULL }, true },
    /* alternates */
    { "https://example.com/books/1",
      { "https://example.com/users/7/books", NULL }, false,
      { "https://example.com/users/{u}/books" }, false, { NULL }, true },
    { "x", { "chat.lobby", NULL }, false, { "chat.lobby" }, false,
      { NULL }, true },
    { "x", { "y", "z", NULL }, false, { "w" }, false, { NULL }, false },
    /* a bad template is a plain string */
    { "https://e/{bad", { NULL }, false, { "https://e/{bad" }, false,
      { NULL }, true },
    /* private: anonymous never, claims must match a topic */
    { "a", { NULL }, true, { "a" }, false, { NULL }, false },
    { "a", { NULL }, true, { "*" }, false, { NULL }, false },
    { "a", { NULL }, true, { "a" }, true, { "a" }, true },
    { "a", { NULL }, true, { "a" }, true, { "b" }, false },
    { "a", { NULL }, true, { "*" }, true, { "*" }, true },
    { "https://e/books/1", { NULL }, true, { "*" }, true,
      { "https://e/books/{id}" }, true },
    { "a", { "https://e/users/7", NULL }, true, { "a" }, true,
      { "https://e/users/{id}" }, true },
    { "a", { NULL }, true, { "a" }, true, { NULL }, false },
    /* public: claims do not matter */
    { "a", { NULL }, false, { "a" }, true, { "b" }, true },
};

/* Packs alternates the way queue_read returns them. */
static size_t pack_alts(const char *const *alts, char *buf, size_t *n)
{
    size_t used = 0;

    for (*n = 0; *n < ALTS_MAX && alts[*n] != NULL; (*n)++) {
        size_t l = strlen(alts[*n]);

        memcpy(buf + used, alts[*n], l + 1);
        used += l + 1;
    }
    return used;
}

/* A request holding sels (kinds as stream_req_parse gives them). */
static void make_req(struct stream_req *r, const char *const *sels)
{
    size_t used = 0;

    memset(r, 0, sizeof(*r));
    r->hub = true;
    for (unsigned i = 0; i < SELS_MAX && sels[i] != NULL; i++) {
        size_t l = strlen(sels[i]);

        memcpy(r->names + used, sels[i], l + 1);
        r->off[i] = (uint16_t)used;
        r->len[i] = (uint16_t)l;
        r->kind[i] = (uint8_t)stream_match_kind(sels[i], l);
        used += l + 1;
        r->n_channels++;
    }
}

START_TEST(test_match)
{
    const struct match_case *m = &matches[_i];
    static struct stream_req r;
    struct queue_record rec = { .id = 7 };
    struct jwt_claims c = { 0 };
    char *subs[SELS_MAX];
    size_t lens[SELS_MAX];
    char alts[512];
    struct topic_selector_cache cache;

    rec.channel = m->topic;
    rec.channel_len = strlen(m->topic);
    rec.alt = alts;
    rec.alt_len = pack_alts(m->alts, alts, &rec.n_alt);
    rec.flags = m->private ? QUEUE_MSG_PRIVATE : 0;
    make_req(&r, m->sels);
    for (unsigned i = 0; i < SELS_MAX && m->claims[i] != NULL; i++) {
        subs[i] = (char *)m->claims[i];
        lens[i] = strlen(m->claims[i]);
        c.n_subscribe++;
    }
    c.subscribe = subs;
    c.subscribe_len = lens;
    ck_assert_int_eq(topic_selector_cache_init(&cache, 64, 4096), 0);
    for (int pass = 0; pass < 2; pass++)        /* cold, then cached */
        ck_assert_msg(stream_match_record(&r, m->token ? &c : NULL, &rec,
                                          pass ? &cache : NULL) == m->want,
                      "row %d (topic '%s', first selector '%s'): expected "
                      "%s", _i, m->topic, m->sels[0],
                      m->want ? "delivered" : "not delivered");
    topic_selector_cache_free(&cache);
}
END_TEST

/* One row: a record's fields and its encoding on each endpoint. */
struct enc_case {
    const char *pub_id;
    uint32_t retry;
    const char *hub, *events;
};

static const struct enc_case encs[] = {
    { NULL, 0, "id: 42\ndata: d\n\n", "id: 42\ndata: d\n\n" },
    { "urn:uuid:1", 0, "id: urn:uuid:1\ndata: d\n\n", "id: 42\ndata: d\n\n" },
    { "p", 5000, "id: p\nretry: 5000\ndata: d\n\n",
      "id: 42\nretry: 5000\ndata: d\n\n" },
    { "bad\nid", 0, "id: 42\ndata: d\n\n", "id: 42\ndata: d\n\n" },
};

START_TEST(test_encode)
{
    const struct enc_case *e = &encs[_i];
    struct queue_record rec = { .id = 42, .channel = "t", .channel_len = 1,
                                .data = "d", .data_len = 1 };
    char out[256];
    size_t n;

    rec.pub_id = e->pub_id;
    rec.pub_id_len = e->pub_id ? strlen(e->pub_id) : 0;
    rec.retry_ms = e->retry;
    n = stream_feed_event(out, &rec, STREAM_FEED_HUB);
    ck_assert_uint_eq(n, stream_feed_event_size(&rec, STREAM_FEED_HUB));
    out[n] = '\0';
    ck_assert_str_eq(out, e->hub);
    n = stream_feed_event(out, &rec, STREAM_FEED_EVENTS);
    ck_assert_uint_eq(n, stream_feed_event_size(&rec, STREAM_FEED_EVENTS));
    out[n] = '\0';
    ck_assert_str_eq(out, e->events);
}
END_TEST

/* tag=channel: the /events encoding with a "channel:" line for the
 * channel and for each alternate. */
START_TEST(test_encode_tagged)
{
    struct queue_record rec = { .id = 42, .channel = "t", .channel_len = 1,
                                .data = "d", .data_len = 1, .pub_id = "p",
                                .pub_id_len = 1 };
    char out[256];
    size_t n;

    n = stream_feed_event(out, &rec, STREAM_FEED_TAGGED);
    ck_assert_uint_eq(n, stream_feed_event_size(&rec, STREAM_FEED_TAGGED));
    out[n] = '\0';
    ck_assert_str_eq(out, "id: 42\nchannel: t\ndata: d\n\n");
    rec.alt = "u\0v\0";
    rec.alt_len = 4;
    rec.n_alt = 2;
    n = stream_feed_event(out, &rec, STREAM_FEED_TAGGED);
    ck_assert_uint_eq(n, stream_feed_event_size(&rec, STREAM_FEED_TAGGED));
    out[n] = '\0';
    ck_assert_str_eq(out, "id: 42\nchannel: t\nchannel: u\nchannel: v\n"
                     "data: d\n\n");
}
END_TEST

struct cost_case {
    const char *sel;
    unsigned long cost;         /* stream_match_cost */
};

static const struct cost_case costs[] = {
    { "*", 1 },
    { "chat.lobby", 0 },                        /* exact: a hash lookup */
    { "https://example.com/{bad", 0 },          /* a plain string */
    { "https://example.com/books/{id}", 3 },
    { "{+a}{+b}{+c}{+d}", 4 },
    { "{a,b,c,d}", 18 },
};

START_TEST(test_cost)
{
    const struct cost_case *k = &costs[_i];

    ck_assert_msg(stream_match_cost(k->sel, strlen(k->sel), NULL, NULL) ==
                  k->cost, "selector '%s' should cost %lu", k->sel, k->cost);
}
END_TEST

/* One row: a stream's pattern cost against its budgets. */
struct budget_case {
    unsigned long cost;
    bool anonymous;
    unsigned long used;         /* the process's now */
    int want;                   /* 0, 400, 503 */
    const char *names;          /* the setting the reason names */
};

/* Budgets: token 512, anonymous 64, process 1000. */
static const struct budget_case budgets[] = {
    { 0, true, 5000, 0, NULL },         /* exact selectors: free */
    { 64, true, 0, 0, NULL },
    { 65, true, 0, 400, "mercure.anonymous_pattern_cost" },
    { 65, false, 0, 0, NULL },
    { 512, false, 488, 0, NULL },
    { 513, false, 0, 400, "mercure.stream_pattern_cost" },
    { 64, true, 936, 0, NULL },          /* exactly full */
    { 64, true, 937, 503, "mercure.process_pattern_cost" },
    { 1, true, 1000, 503, "mercure.process_pattern_cost" },
    { 1, true, 2000, 503, "mercure.process_pattern_cost" },  /* lowered */
    { 600, false, 999, 400, "mercure.stream_pattern_cost" }, /* 400 first */
};

START_TEST(test_budget)
{
    const struct budget_case *k = &budgets[_i];
    struct config cfg = {
        .mercure_stream_pattern_cost = 512,
        .mercure_anon_pattern_cost = 64,
        .mercure_process_pattern_cost = 1000,
    };
    struct stream_match_budget b;
    char why[512] = "";
    int rc;

    stream_match_budget_of(&cfg, k->anonymous, k->used, &b);
    rc = stream_match_budget_check(k->cost, &b, why, sizeof(why));
    ck_assert_msg(rc == k->want, "cost %lu (%s, process at %lu): %d, not %d",
                  k->cost, k->anonymous ? "anonymous" : "token", k->used,
                  k->want, rc);
    if (k->names != NULL)
        ck_assert_msg(strstr(why, k->names) != NULL, "reason \"%s\" names "
                      "%s", why, k->names);
}
END_TEST

/* A compiled pattern matches as the uncompiled policy does. */
START_TEST(test_pattern_compiled)
{
    struct stream_match_pattern m;
    struct queue_record rec = { 0 };
    const char *sel = "https://example.com/books/{id}";

    ck_assert_int_eq(stream_match_pattern_init(&m, "exact", 5), -EINVAL);
    ck_assert_int_eq(stream_match_pattern_init(&m, sel, strlen(sel)), 0);
    ck_assert_uint_eq(m.cost, 3);
    rec.channel = "https://example.com/books/7";
    rec.channel_len = strlen(rec.channel);
    ck_assert(stream_match_pattern_any(&m, &rec));
    rec.channel = "https://example.com/users/7";
    ck_assert(!stream_match_pattern_any(&m, &rec));
    stream_match_pattern_free(&m);
    ck_assert_int_eq(stream_match_pattern_init(&m, "*", 1), 0);
    ck_assert(stream_match_pattern_any(&m, &rec));
    stream_match_pattern_free(&m);
}
END_TEST

/* A URL pattern selector name: a pattern, costed by its compiled size,
 * matching topics relative to the hub's URL too, through the compiled
 * form and the per-thread one of stream_match_any_topic alike. */
START_TEST(test_urlpattern)
{
    struct stream_match_pattern m;
    struct queue_record rec = { 0 };
    char name[256];
    const char *hub = "https://hub.example/.well-known/mercure";
    const char *pat = "https://example.com/books/:id(\\d+)";
    size_t n = stream_match_urlpattern_name(name, sizeof(name), hub,
                                            strlen(hub), pat, strlen(pat));

    ck_assert_uint_gt(n, 0);
    ck_assert(stream_match_is_urlpattern(name, n));
    ck_assert(!stream_match_is_urlpattern(pat, strlen(pat)));
    ck_assert_int_eq(stream_match_kind(name, n), STREAM_REQ_PATTERN);
    ck_assert_uint_gt(stream_match_cost(name, n, NULL, NULL), 1);
    ck_assert_int_eq(stream_match_pattern_init(&m, name, n), 0);
    ck_assert_uint_eq(m.cost, stream_match_cost(name, n, NULL, NULL));
    ck_assert(!stream_match_pattern_all(&m));
    rec.channel = "https://example.com/books/7";
    rec.channel_len = strlen(rec.channel);
    ck_assert(stream_match_pattern_any(&m, &rec));
    ck_assert(stream_match_any_topic(name, n, STREAM_REQ_PATTERN, &rec,
                                     NULL));
    rec.channel = "https://example.com/books/x";
    rec.channel_len = strlen(rec.channel);
    ck_assert(!stream_match_pattern_any(&m, &rec));
    ck_assert(!stream_match_any_topic(name, n, STREAM_REQ_PATTERN, &rec,
                                      NULL));
    stream_match_pattern_free(&m);
    /* a relative pattern matches a relative alternate topic */
    pat = "/.well-known/mercure/:rest";
    n = stream_match_urlpattern_name(name, sizeof(name), hub, strlen(hub),
                                     pat, strlen(pat));
    rec.channel = "https://elsewhere.example/.well-known/mercure/x";
    rec.channel_len = strlen(rec.channel);
    ck_assert(!stream_match_any_topic(name, n, STREAM_REQ_PATTERN, &rec,
                                      NULL));
    rec.alt = "/other\0/.well-known/mercure/x";
    rec.alt_len = sizeof("/other\0/.well-known/mercure/x");
    rec.n_alt = 2;
    ck_assert(stream_match_any_topic(name, n, STREAM_REQ_PATTERN, &rec,
                                     NULL));
}
END_TEST

static Suite *stream_match_suite(void)
{
    Suite *s = suite_create("stream_match");
    TCase *core = tcase_create("core");

    tcase_add_loop_test(core, test_kind, 0,
                        (int)(sizeof(kinds) / sizeof(kinds[0])));
    tcase_add_loop_test(core, test_match, 0,
                        (int)(sizeof(matches) / sizeof(matches[0])));
    tcase_add_loop_test(core, test_encode, 0,
                        (int)(sizeof(encs) / sizeof(encs[0])));
    tcase_add_test(core, test_encode_tagged);
    tcase_add_loop_test(core, test_cost, 0,
                        (int)(sizeof(costs) / sizeof(costs[0])));
    tcase_add_loop_test(core, test_budget, 0,
                        (int)(sizeof(budgets) / sizeof(budgets[0])));
    tcase_add_test(core, test_pattern_compiled);
    tcase_add_test(core, test_urlpattern);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return unit_run(stream_match_suite());
}
