/* check_stream_req.c -- the "stream_req" suite: channels (repeated and
 * comma lists, validated, deduplicated), Last-Event-ID header over the
 * last_event_id= parameter, backlog capped, methods, and the exact
 * response heads. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "stream/stream_req.h"
#include "unit_run.h"

static struct config cfg;

struct env {
    const char *method, *qs, *last_id, *uri;
    const char *scheme, *host;  /* REQUEST_SCHEME, HTTP_HOST */
    const char *port;           /* SERVER_PORT */
};

static const char *get(const char *name, void *ctx)
{
    const struct env *e = ctx;

    if (strcmp(name, "DOCUMENT_URI") == 0) return e->uri;
    if (strcmp(name, "REQUEST_METHOD") == 0) return e->method;
    if (strcmp(name, "QUERY_STRING") == 0) return e->qs;
    if (strcmp(name, "HTTP_LAST_EVENT_ID") == 0) return e->last_id;
    if (strcmp(name, "REQUEST_SCHEME") == 0) return e->scheme;
    if (strcmp(name, "HTTP_HOST") == 0) return e->host;
    if (strcmp(name, "SERVER_PORT") == 0) return e->port;
    return NULL;
}

static int parse(struct stream_req *r, const char *method, const char *qs,
                 const char *last_id, const char **reason)
{
    struct env e = { method, qs, last_id, "/events", NULL, NULL, NULL };

    *reason = NULL;
    return stream_req_parse(r, &cfg, get, &e, reason);
}

/* The same on the hub's path. */
static int hub(struct stream_req *r, const char *qs, const char *last_id,
               const char **reason)
{
    struct env e = { "GET", qs, last_id, "/.well-known/mercure", NULL,
                     NULL, NULL };

    *reason = NULL;
    return stream_req_parse(r, &cfg, get, &e, reason);
}

/* One hub request and what it must read. */
struct hub_case {
    const char *qs, *header;
    int status;
    unsigned n;                 /* selectors */
    const char *first;          /* the first, decoded */
    enum stream_req_kind kind;  /* its kind */
    const char *resume;         /* NULL: none */
};

static const struct hub_case hubs[] = {
    { "topic=https%3A%2F%2Fexample.com%2Fbooks%2F1", NULL, 0, 1,
      "https://example.com/books/1", STREAM_REQ_EXACT, NULL },
    { "topic=https://example.com/books/%7Bid%7D", NULL, 0, 1,
      "https://example.com/books/{id}", STREAM_REQ_PATTERN, NULL },
    { "topic=*&topic=a,b&topic=*", NULL, 0, 2, "*", STREAM_REQ_PATTERN,
      NULL },
    { "topic=chat.lobby&lastEventID=urn%3Auuid%3A1", NULL, 0, 1,
      "chat.lobby", STREAM_REQ_EXACT, "urn:uuid:1" },
    { "topic=a&lastEventID=5", "earliest", 0, 1, "a", STREAM_REQ_EXACT,
      "earliest" },
    { "topic=a b", NULL, 0, 1, "a b", STREAM_REQ_EXACT, NULL },
    { "channel=a", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "topic=", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "topic=a%00b", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    /* a topic is an IRI: UTF-8 text, as the 1.0 matchers */
    { "topic=a%FFb", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "topic=a%07b", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "topic=caf%C3%A9", NULL, 0, 1, "caf\xc3\xa9", STREAM_REQ_EXACT, NULL },
    { "topic=%zz", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    /* Mercure 1.0: exact matchers never patterns, "*" still all */
    { "match=https://example.com/books/%7Bid%7D", NULL, 0, 1,
      "https://example.com/books/{id}", STREAM_REQ_EXACT, NULL },
    { "match_exact=a&match=*", NULL, 0, 2, "a", STREAM_REQ_EXACT, NULL },
    { "match=*", NULL, 0, 1, "*", STREAM_REQ_PATTERN, NULL },
    /* an exact matcher costs no template work: never "too costly" */
    { "match=%7Ba%7D%7Bb%7D%7Bc%7D%7Bd%7D%7Be%7D%7Bf%7D%7Bg%7D%7Bh%7D"
      "%7Bi%7D%7Bj%7D%7Bk%7D%7Bl%7D%7Bm%7D%7Bn%7D%7Bo%7D%7Bp%7D%7Bq%7D"
      "%7B%2Ba,b,c,d,e,f,g,h%7D%7B%2Bi,j,k,l,m,n,o,p%7D", NULL, 0, 1,
      "{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}{n}{o}{p}{q}{+a,b,c,d,e,f,g,h}"
      "{+i,j,k,l,m,n,o,p}", STREAM_REQ_EXACT, NULL },
    { "topic=%7Ba%7D%7Bb%7D%7Bc%7D%7Bd%7D%7Be%7D%7Bf%7D%7Bg%7D%7Bh%7D"
      "%7Bi%7D%7Bj%7D%7Bk%7D%7Bl%7D%7Bm%7D%7Bn%7D%7Bo%7D%7Bp%7D%7Bq%7D"
      "%7B%2Ba,b,c,d,e,f,g,h%7D%7B%2Bi,j,k,l,m,n,o,p%7D", NULL, 400, 0,
      NULL, STREAM_REQ_EXACT, NULL },       /* the same as a template is */
    { "match=a&last_event_id=urn%3Ax", NULL, 0, 1, "a", STREAM_REQ_EXACT,
      "urn:x" },
    { "match=a&last_event_id=urn%3Ax", "earliest", 0, 1, "a",
      STREAM_REQ_EXACT, "earliest" },
    { "topic=t&match=m", NULL, 0, 2, "t", STREAM_REQ_EXACT, NULL },
    { "match=caf%C3%A9", NULL, 0, 1, "caf\xc3\xa9", STREAM_REQ_EXACT, NULL },
    { "match=a&MATCH=b", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "match=a%01b", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "match=a%C2%85b", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "match=a%7Fb", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "match=caf%E9", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "match=", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    /* 1.0 matchers: no format character (Cf); v0.x topic= unchanged */
    { "match=a%E2%80%8Bb", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "match_exact=%E2%80%AEa", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "match=a%C2%ADb", NULL, 400, 0, NULL, STREAM_REQ_EXACT, NULL },
    { "topic=a%E2%80%8Bb", NULL, 0, 1, "a\xe2\x80\x8b" "b",
      STREAM_REQ_EXACT, NULL },
};

/* Hub query keys: each dialect's names exactly, the reserved match
 * namespace in any case. */
static const struct {
    const char *key;
    enum stream_req_hub_key kind;
} hub_keys[] = {
    { "topic", STREAM_REQ_KEY_TOPIC },
    { "lastEventID", STREAM_REQ_KEY_LAST_V0 },
    { "match", STREAM_REQ_KEY_MATCH_EXACT },
    { "match_exact", STREAM_REQ_KEY_MATCH_EXACT },
    { "last_event_id", STREAM_REQ_KEY_LAST_V1 },
    { "match_urlpattern", STREAM_REQ_KEY_MATCH_URLPATTERN },
    { "match_URLPattern", STREAM_REQ_KEY_MATCH_UNSUPPORTED },
    { "match_regex", STREAM_REQ_KEY_MATCH_UNSUPPORTED },
    { "Match", STREAM_REQ_KEY_MATCH_UNSUPPORTED },
    { "MATCH_EXACT", STREAM_REQ_KEY_MATCH_UNSUPPORTED },
    { "matches", STREAM_REQ_KEY_MATCH_UNSUPPORTED },
    { "matc", STREAM_REQ_KEY_OTHER },
    { "Topic", STREAM_REQ_KEY_OTHER },
    { "lasteventid", STREAM_REQ_KEY_OTHER },
    { "authorization", STREAM_REQ_KEY_OTHER },
    { "", STREAM_REQ_KEY_OTHER },
};

START_TEST(test_hub_key)
{
    const char *k = hub_keys[_i].key;

    ck_assert_msg(stream_req_hub_key(k, strlen(k)) == hub_keys[_i].kind,
                  "key \"%s\"", k);
}
END_TEST

/* mercure.protocol_v0 = false refuses v0.x's names, naming the setting;
 * 1.0's still work. */
START_TEST(test_hub_v0_off)
{
    static struct stream_req r;
    const char *why;

    cfg.mercure_protocol_v0 = false;
    ck_assert_int_eq(hub(&r, "topic=a", NULL, &why), 400);
    ck_assert_ptr_nonnull(strstr(why, "mercure.protocol_v0"));
    ck_assert_int_eq(hub(&r, "match=a&lastEventID=x", NULL, &why), 400);
    ck_assert_int_eq(hub(&r, "match=a&last_event_id=x", NULL, &why), 0);
    ck_assert_str_eq(r.resume, "x");
    cfg.mercure_protocol_v0 = true;
}
END_TEST

START_TEST(test_hub)
{
    const struct hub_case *h = &hubs[_i];
    static struct stream_req r;
    const char *why;

    ck_assert_int_eq(hub(&r, h->qs, h->header, &why), h->status);
    if (h->status != 0)
        return;
    ck_assert(r.hub);
    ck_assert_uint_eq(r.n_channels, h->n);
    ck_assert_str_eq(r.names + r.off[0], h->first);
    ck_assert_int_eq(r.kind[0], h->kind);
    ck_assert(r.has_resume == (h->resume != NULL));
    if (h->resume != NULL)
        ck_assert_str_eq(r.resume, h->resume);
}
END_TEST

/* match_urlpattern=: compiled against the hub's URL (mercure.hub_url, or
 * the request's scheme and Host), kept as its URL pattern selector name;
 * a bad or too costly pattern is a 400 naming the culprit. */
static const struct {
    const char *qs, *hub_url, *host, *port;
    int status;
    const char *want;           /* 0: the name (after "\n"), else words */
} urlpatterns[] = {
    { "match_urlpattern=https://example.com/books/:id", "", "hub.example",
      NULL, 0, "https://hub.example/.well-known/mercure\n"
               "https://example.com/books/:id" },
    { "match_urlpattern=%2Fbooks%2F%3Aid", "", "hub.example:8443", NULL, 0,
      "https://hub.example:8443/.well-known/mercure\n/books/:id" },
    { "match_urlpattern=/books/:id", "https://set.example/hub", "h", NULL, 0,
      "https://set.example/hub\n/books/:id" },
    { "match_urlpattern=https://example.com/(a%5C1)", "", "h", NULL, 400,
      "backreference" },
    { "match_urlpattern=https://example.com/((%3F=a)b)", "", "h", NULL, 400,
      "lookahead" },
    { "match_urlpattern=https://example.com/:id/:id", "", "h", NULL, 400,
      "duplicate" },
    { "match_urlpattern=https://example.com/(a%7B70%7D)", "", "h", NULL, 400,
      "mercure.selector_cost_max" },
    { "match_urlpattern=", "", "h", NULL, 400, "match_urlpattern" },
    { "match_urlpattern=a%0Ab", "", "h", NULL, 400, "control" },
    { "match_urlpattern=/a%E2%80%8B", "", "h", NULL, 400,
      "U+200B (a format character, Cf)" },
    { "match_urlpattern=/x", "", "a b", NULL, 400, "base URL" },
    /* a Host with a control character: no base URL, and the reason is
     * one line (no CR or LF from the Host) */
    { "match_urlpattern=/x", "", "h\nx", NULL, 400,
      "hub's URL is unusable" },
    { "match_urlpattern=/x", "", "h\r\nX-Injected: 1", NULL, 400,
      "hub's URL is unusable" },
    /* nginx's stock fastcgi_params: HTTP_HOST without the port */
    { "match_urlpattern=/x", "", "hub.example", "8080", 0,
      "https://hub.example:8080/.well-known/mercure\n/x" },
    { "match_urlpattern=/x", "", "hub.example", "443", 0,
      "https://hub.example/.well-known/mercure\n/x" },
    { "match_urlpattern=/x", "", "hub.example:8443", "8080", 0,
      "https://hub.example:8443/.well-known/mercure\n/x" },
};

/* The hub's URL (mercure_hub_url, one rule for both programs): the
 * setting, else the request's, its path cut after the hub's segment (the
 * subscription API's base is the hub's), else the hub's path. */
static const struct {
    const char *setting, *uri, *scheme, *host, *want;
} hub_urls[] = {
    { "", "/.well-known/mercure", "https", "h.example",
      "https://h.example/.well-known/mercure" },
    { "", "/.well-known/mercure/subscriptions/exact/a%2Fb", "http",
      "h:8080", "http://h:8080/.well-known/mercure" },
    { "", "/site/.well-known/mercure", "https", "h",
      "https://h/site/.well-known/mercure" },
    { "", "/.well-known/mercurex/.well-known/mercure/x", "https", "h",
      "https://h/.well-known/mercurex/.well-known/mercure" },
    { "", "/events", "https", "h", "https://h/.well-known/mercure" },
    { "", "/.well-known/mercure", NULL, NULL,
      "http://localhost/.well-known/mercure" },
    { "https://set.example/hub", "/.well-known/mercure/subscriptions",
      "http", "h", "https://set.example/hub" },
    /* found by fuzz_stream_req: a control character in the request's
     * path or Host is no hub URL (a selector name must hold no LF) */
    { "", "/a\nb/.well-known/mercure", "https", "h", "" },
    { "", "/.well-known/mercure", "https", "h\x7f", "" },
};

START_TEST(test_hub_url)
{
    struct env e = { "GET", "", NULL, hub_urls[_i].uri, hub_urls[_i].scheme,
                     hub_urls[_i].host, NULL };
    char out[STREAM_REQ_HUB_URL_MAX];
    size_t n = mercure_hub_url(hub_urls[_i].setting, get, &e, out,
                               sizeof(out));

    ck_assert_msg(n == strlen(hub_urls[_i].want) &&
                  (n == 0 || strcmp(out, hub_urls[_i].want) == 0),
                  "%s: got \"%.*s\", want \"%s\"", hub_urls[_i].uri,
                  (int)n, out, hub_urls[_i].want);
    ck_assert_msg(mercure_hub_under(hub_urls[_i].uri) ==
                  (strstr(hub_urls[_i].uri, "mercure/") != NULL),
                  "%s: under the hub's path or not", hub_urls[_i].uri);
    ck_assert_msg(mercure_hub_url("", get, &e, out, 10) == 0,
                  "a URL that does not fit is 0");
}
END_TEST

START_TEST(test_hub_urlpattern)
{
    static struct stream_req r;
    struct env e = { "GET", urlpatterns[_i].qs, NULL, "/.well-known/mercure",
                     "https", urlpatterns[_i].host, urlpatterns[_i].port };
    const char *why = NULL, *want = urlpatterns[_i].want;
    char *saved = cfg.mercure_hub_url;
    int rc;

    cfg.mercure_hub_url = (char *)urlpatterns[_i].hub_url;
    rc = stream_req_parse(&r, &cfg, get, &e, &why);
    cfg.mercure_hub_url = saved;
    ck_assert_msg(rc == urlpatterns[_i].status, "%s: %d (%s)",
                  urlpatterns[_i].qs, rc, why ? why : "");
    if (rc != 0) {
        ck_assert_msg(strstr(why, want) != NULL, "reason \"%s\" should "
                      "say \"%s\"", why, want);
        ck_assert_msg(strpbrk(why, "\r\n") == NULL, "one line: %s", why);
        return;
    }
    ck_assert_uint_eq(r.n_channels, 1);
    ck_assert_int_eq(r.kind[0], STREAM_REQ_PATTERN);
    ck_assert_uint_gt(r.cost[0], 0);
    ck_assert_msg(r.names[r.off[0]] == '\n' &&
                  strcmp(r.names + r.off[0] + 1, want) == 0,
                  "name \"%s\", want \"\\n%s\"", r.names + r.off[0], want);
}
END_TEST

START_TEST(test_hub_limits)
{
    static struct stream_req r;
    static char qs[8192], topic[2048];
    const char *why;

    memset(topic, 'a', 1025);
    snprintf(qs, sizeof(qs), "topic=%.1024s", topic);
    ck_assert_int_eq(hub(&r, qs, NULL, &why), 0);
    ck_assert_uint_eq(r.len[0], 1024);
    snprintf(qs, sizeof(qs), "topic=%.1025s", topic);
    ck_assert_msg(hub(&r, qs, NULL, &why) == 400,
                  "a selector over topic_max must be refused");
    memset(topic, 'b', 300);
    snprintf(qs, sizeof(qs), "topic=a&lastEventID=%.300s", topic);
    ck_assert_int_eq(hub(&r, qs, NULL, &why), 0);
    ck_assert_msg(r.has_resume && r.resume_len == 0,
                  "an id longer than any id is kept as unknown");
    ck_assert_int_eq(hub(&r, "topic=a&lastEventID=a%0D%0ASet-Cookie:%20x",
                         NULL, &why), 0);
    ck_assert_msg(r.has_resume && r.resume_len == 0 && r.resume[0] == '\0',
                  "an id with CR LF is unknown, never echoed");
    ck_assert_int_eq(hub(&r, "topic=a%0D%0Ab", NULL, &why), 400);
    ck_assert_msg(strstr(why, "without control characters") != NULL,
                  "a selector with CR LF is refused: %s", why);
    ck_assert_int_eq(hub(&r, "topic=a", "a\nb", &why), 0);
    ck_assert_msg(r.has_resume && r.resume_len == 0,
                  "a Last-Event-ID with LF is unknown");
}
END_TEST

/* A hub selector costing more than mercure.selector_cost_max (64 by
 * default) is refused with a reason naming the setting and its cost;
 * one at the limit is read, its cost kept. */
START_TEST(test_hub_selector_cost)
{
    static struct stream_req r;
    static char qs[4096];
    size_t n = 0;
    const char *why;

    n += (size_t)snprintf(qs + n, sizeof(qs) - n, "topic=");
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(qs + n, sizeof(qs) - n, "%%7Ba%d%%7D", i);
    ck_assert_int_eq(hub(&r, qs, NULL, &why), 0);
    ck_assert_uint_eq(r.cost[0], 64);
    ck_assert_int_eq(r.kind[0], STREAM_REQ_PATTERN);
    snprintf(qs + n, sizeof(qs) - n, "%%7Bz%%7D");
    ck_assert_int_eq(hub(&r, qs, NULL, &why), 400);
    ck_assert_msg(strstr(why, "mercure.selector_cost_max") != NULL &&
                  strstr(why, "cost 65") != NULL &&
                  strstr(why, "65 expressions") != NULL,
                  "the reason names the setting and the cost: %s", why);
}
END_TEST

static void setup(void)
{
    char err[256];

    ck_assert_int_eq(config_load(&cfg, "/nonexistent/sseq.conf", false,
                                 err, sizeof(err)), 0);
    cfg.backlog_max = 100;
}

static void teardown(void)
{
    config_free(&cfg);
}

START_TEST(test_channels)
{
    struct stream_req r;
    const char *why;

    ck_assert_int_eq(parse(&r, "GET", "channel=a&x=1&channel=b%2Cc,a",
                           NULL, &why), 0);
    ck_assert_uint_eq(r.n_channels, 3);
    ck_assert_str_eq(r.names + r.off[0], "a");
    ck_assert_str_eq(r.names + r.off[1], "b");
    ck_assert_str_eq(r.names + r.off[2], "c");
    ck_assert(stream_req_has_channel(&r, "c", 1));
    ck_assert(!stream_req_has_channel(&r, "d", 1));
    ck_assert(!r.has_last_id);
    ck_assert_msg(!r.tag, "events name no channel unless tag=channel");
    ck_assert_int_eq(parse(&r, "GET", "channel=a&tag=channel", NULL, &why),
                     0);
    ck_assert_msg(r.tag, "tag=channel asks for channel lines");
}
END_TEST

START_TEST(test_resume)
{
    struct stream_req r;
    const char *why;

    ck_assert_int_eq(parse(&r, "GET", "channel=a&last_event_id=5&backlog=3",
                           NULL, &why), 0);
    ck_assert(r.has_last_id);
    ck_assert_uint_eq(r.last_id, 5);
    ck_assert_msg(r.backlog == 0, "backlog only applies to fresh streams");
    ck_assert_int_eq(parse(&r, "GET", "channel=a&last_event_id=5", "9",
                           &why), 0);
    ck_assert_msg(r.last_id == 9, "the header must win over the query");
    ck_assert_int_eq(parse(&r, "GET", "channel=a&backlog=5000", NULL,
                           &why), 0);
    ck_assert_msg(r.backlog == 100, "backlog must be capped by backlog_max");
}
END_TEST

/* One refused /events request and what its reason must name: the bad
 * part (culprit) and what is allowed (rule). */
struct error_case {
    const char *method, *qs, *header;
    int status;
    const char *culprit, *rule;
};

static const struct error_case error_cases[] = {
    { "GET", "", NULL, 400, "no channel", "?channel=NAME" },
    { "GET", "channel=", NULL, 400, "no channel", "?channel=NAME" },
    { "GET", "channel=a%20b", NULL, 400, "\"a b\"", "must match ^" },
    { "GET", "channel=ok,b%0Ad", NULL, 400, "\"b\\x0ad\"", "must match" },
    { "GET", "channel=a%zz", NULL, 400, "\"a%zz\"", "percent escape" },
    { "GET", "channel=a&last_event_id=x", NULL, 400,
      "last_event_id \"x\"", "digits" },
    { "GET", "channel=a&last_event_id=", NULL, 400, "last_event_id \"\"",
      "digits" },
    { "GET", "channel=a&backlog=-1", NULL, 400, "backlog \"-1\"",
      "at most 100" },
    { "GET", "channel=a", "abc", 400, "Last-Event-ID header \"abc\"",
      "digits" },
    { "GET", "channel=a&tag=topic", NULL, 400, "tag \"topic\"",
      "tag=channel" },
    { "GET", "channel=a&tag=", NULL, 400, "tag \"\"", "tag=channel" },
    { "POST", "channel=a", NULL, 405, "method", "use GET" },
};

START_TEST(test_errors)
{
    const struct error_case *e = &error_cases[_i];
    static struct stream_req r;
    struct env env = { e->method, e->qs, e->header, "/events", NULL,
                       NULL, NULL };
    const char *why = NULL;

    ck_assert_int_eq(stream_req_parse(&r, &cfg, get, &env, &why), e->status);
    ck_assert_ptr_nonnull(why);
    ck_assert_msg(strstr(why, e->culprit) && strstr(why, e->rule),
                  "%s: reason \"%s\" must name %s and %s", e->qs, why,
                  e->culprit, e->rule);
    ck_assert_ptr_null(strchr(why, '\n'));
}
END_TEST

START_TEST(test_head)
{
    struct stream_req r;
    const char *why;

    ck_assert_int_eq(parse(&r, "HEAD", "channel=a", NULL, &why), 0);
    ck_assert(r.head);
}
END_TEST

START_TEST(test_heads)
{
    char out[512];
    size_t n;

    n = stream_req_error(out, sizeof(out), 405, "use GET", 3000, NULL);
    ck_assert_uint_eq(n, strlen(out));
    ck_assert_str_eq(out, "Status: 405 Method Not Allowed\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: 8\r\n"
                     "Cache-Control: no-store\r\n"
                     "Allow: GET, HEAD\r\n\r\nuse GET\n");
    stream_req_error(out, sizeof(out), 503, "busy", 2001,
                     &(struct stream_req_resp){ .cors = { "*", false } });
    ck_assert_ptr_nonnull(strstr(out, "Retry-After: 3\r\n"));  /* up */
    ck_assert_ptr_nonnull(strstr(out, "Access-Control-Allow-Origin: *\r\n"));
    n = stream_req_head(out, sizeof(out),
                        &(struct stream_req_resp){
                            .cors = { "https://a.example", false } });
    ck_assert_uint_eq(n, strlen(out));
    ck_assert_str_eq(out, "Status: 200 OK\r\n"
                     "Content-Type: text/event-stream; charset=utf-8\r\n"
                     "Cache-Control: no-cache\r\n"
                     "X-Accel-Buffering: no\r\n"
                     "Access-Control-Allow-Origin: https://a.example\r\n"
                     "Vary: Origin\r\n\r\n");
    ck_assert_uint_eq(stream_req_head(out, 40, NULL), 0);
    n = stream_req_head(out, sizeof(out), &(struct stream_req_resp){
        .cors = { "https://app.example", true },
        .last_event_id = "earliest", .cache_private = true });
    ck_assert_str_eq(out, "Status: 200 OK\r\n"
                     "Content-Type: text/event-stream; charset=utf-8\r\n"
                     "Cache-Control: private, no-cache\r\n"
                     "X-Accel-Buffering: no\r\n"
                     "Access-Control-Allow-Origin: https://app.example\r\n"
                     "Access-Control-Allow-Credentials: true\r\n"
                     "Vary: Origin\r\n"
                     "Last-Event-ID: earliest\r\n\r\n");
    stream_req_head(out, sizeof(out), &(struct stream_req_resp){
        .last_event_id = "urn:a", .hub = true });
    ck_assert_ptr_nonnull(strstr(out, "\r\nLast-Event-ID: urn:a\r\n"
                                 "Mercure-Last-Event-ID: urn:a\r\n\r\n"));
    stream_req_error(out, sizeof(out), 401, "no", 3000, NULL);
    ck_assert_ptr_nonnull(strstr(out, "WWW-Authenticate: Bearer\r\n"));
}
END_TEST

static Suite *stream_req_suite(void)
{
    Suite *s = suite_create("stream_req");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(core, test_channels);
    tcase_add_test(core, test_resume);
    tcase_add_test(core, test_heads);
    tcase_add_loop_test(core, test_hub, 0,
                        (int)(sizeof(hubs) / sizeof(hubs[0])));
    tcase_add_test(errors, test_hub_limits);
    tcase_add_loop_test(core, test_hub_url, 0,
                        (int)(sizeof(hub_urls) / sizeof(hub_urls[0])));
    tcase_add_loop_test(core, test_hub_urlpattern, 0,
                        sizeof(urlpatterns) / sizeof(urlpatterns[0]));
    tcase_add_loop_test(core, test_hub_key, 0,
                        sizeof hub_keys / sizeof hub_keys[0]);
    tcase_add_test(errors, test_hub_v0_off);
    tcase_add_test(errors, test_hub_selector_cost);
    tcase_add_loop_test(errors, test_errors, 0,
                        (int)(sizeof(error_cases) / sizeof(error_cases[0])));
    tcase_add_test(core, test_head);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(stream_req_suite());
}
