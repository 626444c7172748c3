/* urlpattern.c -- URL patterns compiled against a base URL and matched
 * against topics (urlpattern.h): the standard's constructor string
 * parser, "process a URLPatternInit" for type "pattern" with the base,
 * and the eight components compiled (urlpattern_parse.c, then
 * urlpattern_regex.c). */
#include "ac_config.h"

#include "mercure/urlpattern.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mercure/url_parts.h"
#include "mercure/urlpattern_parse.h"
#include "mercure/urlpattern_regex.h"

struct urlpattern {
    struct urlpattern_regex *re[URL_PARTS];
    struct url_parts base;      /* topics are resolved against it */
    bool has_base;              /* else relative topics match nothing */
    unsigned long cost;
};

static const char *const urlpattern_names[URL_PARTS] = {
    "protocol", "username", "password", "hostname", "port", "pathname",
    "search", "hash",
};

/* A component of the parsed constructor string: s[0..len) when set. */
struct up_init {
    const char *s[URL_PARTS];
    size_t len[URL_PARTS];
    bool set[URL_PARTS];
};

enum up_state {
    UPS_INIT = 0, UPS_PROTOCOL, UPS_AUTHORITY, UPS_USERNAME, UPS_PASSWORD,
    UPS_HOSTNAME, UPS_PORT, UPS_PATHNAME, UPS_SEARCH, UPS_HASH, UPS_DONE,
};

/* The component each state writes (-1: none). */
static const int up_state_part[] = {
    [UPS_INIT] = -1, [UPS_PROTOCOL] = URL_PROTOCOL,
    [UPS_AUTHORITY] = -1, [UPS_USERNAME] = URL_USERNAME,
    [UPS_PASSWORD] = URL_PASSWORD, [UPS_HOSTNAME] = URL_HOSTNAME,
    [UPS_PORT] = URL_PORT, [UPS_PATHNAME] = URL_PATHNAME,
    [UPS_SEARCH] = URL_SEARCH, [UPS_HASH] = URL_HASH, [UPS_DONE] = -1,
};

/* The constructor string parser's state (the standard's names). */
struct up_cparser {
    const char *s;
    const struct urlpattern_token *t;
    size_t n;
    struct up_init *r;
    size_t component_start, token_index, token_increment;
    int group_depth, ipv6_depth;
    bool special;
    enum up_state state;
};

/* Token i, or the last (the end) past the list. */
static const struct urlpattern_token *up_tok(const struct up_cparser *p,
                                             size_t i)
{
    return &p->t[i < p->n ? i : p->n - 1];
}

/* Whether token i is a char, escaped or invalid token of value c. */
static bool up_is_char(const struct up_cparser *p, size_t i, char c)
{
    const struct urlpattern_token *t = up_tok(p, i);

    return t->vlen == 1 && p->s[t->vpos] == c &&
           (t->type == UPT_CHAR || t->type == UPT_ESCAPED ||
            t->type == UPT_INVALID);
}

/* The standard's "is a search prefix". */
static bool up_is_search(const struct up_cparser *p)
{
    const struct urlpattern_token *t = up_tok(p, p->token_index), *prev;

    if (up_is_char(p, p->token_index, '?'))
        return true;
    if (t->vlen != 1 || p->s[t->vpos] != '?')
        return false;
    if (p->token_index == 0)
        return true;
    prev = up_tok(p, p->token_index - 1);
    return prev->type != UPT_NAME && prev->type != UPT_REGEXP &&
           prev->type != UPT_CLOSE && prev->type != UPT_ASTERISK;
}

static void up_rewind(struct up_cparser *p)
{
    p->token_index = p->component_start;
    p->token_increment = 0;
}

/* The standard's "change state": ends the current component, fills the
 * implied ones, moves to state ns skipping skip tokens. */
static void up_change(struct up_cparser *p, enum up_state ns, size_t skip)
{
    int part = up_state_part[p->state];
    enum up_state st = p->state;

    if (part >= 0) {
        size_t from = up_tok(p, p->component_start)->index;

        p->r->s[part] = p->s + from;
        p->r->len[part] = up_tok(p, p->token_index)->index - from;
        p->r->set[part] = true;
    }
    if (st != UPS_INIT && ns != UPS_DONE) {
        if (!p->r->set[URL_HOSTNAME] && st >= UPS_PROTOCOL &&
            st <= UPS_PASSWORD && ns >= UPS_PORT && ns <= UPS_HASH) {
            p->r->s[URL_HOSTNAME] = "";
            p->r->set[URL_HOSTNAME] = true;
        }
        if (!p->r->set[URL_PATHNAME] && st >= UPS_PROTOCOL &&
            st <= UPS_PORT && (ns == UPS_SEARCH || ns == UPS_HASH)) {
            p->r->s[URL_PATHNAME] = p->special ? "/" : "";
            p->r->len[URL_PATHNAME] = p->special;
            p->r->set[URL_PATHNAME] = true;
        }
        if (!p->r->set[URL_SEARCH] && st >= UPS_PROTOCOL &&
            st <= UPS_PATHNAME && ns == UPS_HASH) {
            p->r->s[URL_SEARCH] = "";
            p->r->set[URL_SEARCH] = true;
        }
    }
    p->state = ns;
    p->token_index += skip;
    p->component_start = p->token_index;
    p->token_increment = 0;
}

static int up_compile_part(struct urlpattern *up, int part, const char *s,
                           size_t len, enum urlpattern_enc enc, char delim,
                           char prefix, char *why, size_t cap);

/* Whether protocol pattern s[0..len) matches a special scheme (the
 * standard's "protocol component matches a special scheme"). */
static int up_protocol_special(const char *s, size_t len, bool *special,
                               char *why, size_t cap)
{
    static const char *const schemes[] = {
        "ftp", "file", "http", "https", "ws", "wss",
    };
    struct urlpattern tmp = { 0 };
    int rc = up_compile_part(&tmp, URL_PROTOCOL, s, len, UPE_PROTOCOL, 0,
                             0, why, cap);

    *special = false;
    for (size_t i = 0; rc == 0 && i < sizeof schemes / sizeof schemes[0];
         i++)
        if (urlpattern_regex_match(tmp.re[URL_PROTOCOL], schemes[i],
                                   strlen(schemes[i])))
            *special = true;
    urlpattern_regex_free(tmp.re[URL_PROTOCOL]);
    return rc;
}

/* Hostname (outside brackets) and port end alike: at a '/', a search
 * start or a '#'. */
static void up_after_host(struct up_cparser *p, size_t i)
{
    if (up_is_char(p, i, '/'))
        up_change(p, UPS_PATHNAME, 0);
    else if (up_is_search(p))
        up_change(p, UPS_SEARCH, 1);
    else if (up_is_char(p, i, '#'))
        up_change(p, UPS_HASH, 1);
}

/* One token of the constructor string parser in state p->state. */
static int up_cstep(struct up_cparser *p, char *why, size_t cap)
{
    size_t i = p->token_index;

    switch (p->state) {
    case UPS_INIT:
        if (up_is_char(p, i, ':')) {
            up_rewind(p);
            p->state = UPS_PROTOCOL;
        }
        break;
    case UPS_PROTOCOL:
        if (up_is_char(p, i, ':')) {
            const struct urlpattern_token *a = up_tok(p, p->component_start);
            int rc = up_protocol_special(p->s + a->index,
                                         p->t[i].index - a->index,
                                         &p->special, why, cap);

            if (rc < 0)
                return rc;
            if (up_is_char(p, i + 1, '/') && up_is_char(p, i + 2, '/'))
                up_change(p, UPS_AUTHORITY, 3);
            else if (p->special)
                up_change(p, UPS_AUTHORITY, 1);
            else
                up_change(p, UPS_PATHNAME, 1);
        }
        break;
    case UPS_AUTHORITY:
        if (up_is_char(p, i, '@')) {
            up_rewind(p);
            p->state = UPS_USERNAME;
        } else if (up_is_char(p, i, '/') || up_is_search(p) ||
                   up_is_char(p, i, '#')) {
            up_rewind(p);
            p->state = UPS_HOSTNAME;
        }
        break;
    case UPS_USERNAME:
        if (up_is_char(p, i, ':'))
            up_change(p, UPS_PASSWORD, 1);
        else if (up_is_char(p, i, '@'))
            up_change(p, UPS_HOSTNAME, 1);
        break;
    case UPS_PASSWORD:
        if (up_is_char(p, i, '@'))
            up_change(p, UPS_HOSTNAME, 1);
        break;
    case UPS_HOSTNAME:
        if (up_is_char(p, i, '['))
            p->ipv6_depth++;
        else if (up_is_char(p, i, ']'))
            p->ipv6_depth--;
        else if (up_is_char(p, i, ':') && p->ipv6_depth == 0)
            up_change(p, UPS_PORT, 1);
        else
            up_after_host(p, i);
        break;
    case UPS_PORT:
        up_after_host(p, i);
        break;
    case UPS_PATHNAME:
        if (up_is_search(p))
            up_change(p, UPS_SEARCH, 1);
        else if (up_is_char(p, i, '#'))
            up_change(p, UPS_HASH, 1);
        break;
    case UPS_SEARCH:
        if (up_is_char(p, i, '#'))
            up_change(p, UPS_HASH, 1);
        break;
    default:
        break;
    }
    return 0;
}

/* At the end token: 1 when parsing is done, else 0 (a state change). */
static int up_cend(struct up_cparser *p)
{
    if (p->state == UPS_INIT) {
        up_rewind(p);
        if (up_is_char(p, p->token_index, '#'))
            up_change(p, UPS_HASH, 1);
        else if (up_is_search(p))
            up_change(p, UPS_SEARCH, 1);
        else
            up_change(p, UPS_PATHNAME, 0);
        return 0;
    }
    if (p->state == UPS_AUTHORITY) {
        up_rewind(p);
        p->state = UPS_HOSTNAME;
        return 0;
    }
    up_change(p, UPS_DONE, 0);
    return 1;
}

/* The standard's "parse a constructor string" into r. */
static int up_parse_constructor(const char *s, size_t len,
                                struct up_init *r, char *why, size_t cap)
{
    struct up_cparser p = { .s = s, .r = r };
    struct urlpattern_token *t;
    int rc = urlpattern_tokenize(s, len, false, &t, &p.n, why, cap);

    if (rc < 0)
        return rc;
    p.t = t;
    while (rc == 0 && p.token_index < p.n) {
        p.token_increment = 1;
        if (p.t[p.token_index].type == UPT_END) {
            if (up_cend(&p) == 1)
                break;
        } else if (p.t[p.token_index].type == UPT_OPEN) {
            p.group_depth++;
        } else if (p.group_depth > 0 &&
                   p.t[p.token_index].type != UPT_CLOSE) {
            /* inside a {...} group: no component boundary */
        } else {
            if (p.group_depth > 0)
                p.group_depth--;
            rc = up_cstep(&p, why, cap);
        }
        p.token_index += p.token_increment;
    }
    if (r->set[URL_HOSTNAME] && !r->set[URL_PORT]) {
        r->s[URL_PORT] = "";
        r->set[URL_PORT] = true;
    }
    free(t);
    return rc;
}

/* The base's component part, escaped as a pattern string, into init
 * (the value lives in store[part]). */
static void up_from_base(struct up_init *in, struct urlpattern_str *store,
                         const struct url_parts *base, int part)
{
    urlpattern_escape_pattern(&store[part], base->v[part], base->len[part]);
    urlpattern_str_add(&store[part], "", 0);
    in->s[part] = store[part].p != NULL ? store[part].p : "";
    in->len[part] = store[part].n;
    in->set[part] = true;
}

/* "Process a URLPatternInit" (type pattern) with base (NULL: none):
 * what a relative pattern takes from the base; the pathname resolved
 * against the base's; "*" for what is still missing. */
static void up_process(struct up_init *in, struct urlpattern_str *store,
                       const struct url_parts *base)
{
    bool given[URL_PARTS], above = false;
    const char *p = in->s[URL_PATHNAME];

    memcpy(given, in->set, sizeof(given));
    for (int k = URL_PROTOCOL; base != NULL && k < URL_PARTS; k++) {
        if (k == URL_PROTOCOL || k == URL_HOSTNAME || k == URL_PORT ||
            k >= URL_PATHNAME)
            above = above || given[k];
        if (!given[k] && !above && k != URL_USERNAME && k != URL_PASSWORD)
            up_from_base(in, store, base, k);
    }
    if (base != NULL && given[URL_PATHNAME] && !base->opaque_path &&
        !(in->len[URL_PATHNAME] > 0 && p[0] == '/') &&
        !(in->len[URL_PATHNAME] > 1 && (p[0] == '\\' || p[0] == '{') &&
          p[1] == '/')) {
        struct urlpattern_str *m = &store[URL_PARTS];
        size_t dir = base->len[URL_PATHNAME];

        while (dir > 0 && base->v[URL_PATHNAME][dir - 1] != '/')
            dir--;
        if (dir > 0) {
            urlpattern_escape_pattern(m, base->v[URL_PATHNAME], dir);
            urlpattern_str_add(m, p, in->len[URL_PATHNAME]);
            in->s[URL_PATHNAME] = m->p != NULL ? m->p : "";
            in->len[URL_PATHNAME] = m->n;
        }
    }
    for (int k = 0; k < URL_PARTS; k++)
        if (!in->set[k]) {
            in->s[k] = "*";
            in->len[k] = 1;
            in->set[k] = true;
        }
}

/* Compiles component part's pattern string s[0..len) into up->re[part].
 * Errors are said in why with the component's name. */
static int up_compile_part(struct urlpattern *up, int part, const char *s,
                           size_t len, enum urlpattern_enc enc, char delim,
                           char prefix, char *why, size_t cap)
{
    struct urlpattern_str re = { 0 };
    char sub[200];
    int rc = urlpattern_parse_component(s, len, enc, delim, prefix, &re,
                                        sub, sizeof(sub));

    if (rc == 0)
        rc = urlpattern_regex_compile(re.p != NULL ? re.p : "", re.n,
                                      &up->re[part], sub, sizeof(sub));
    if (rc == -EINVAL || rc == -E2BIG)
        snprintf(why, cap, "%s \"%.*s\": %s", urlpattern_names[part],
                 (int)(len > 100 ? 100 : len), s, sub);
    else if (rc == -ENOMEM)
        snprintf(why, cap, "out of memory");
    urlpattern_str_free(&re);
    return rc;
}

/* Whether hostname pattern s[0..len) is an IPv6 literal. */
static bool up_ipv6(const char *s, size_t len)
{
    return len >= 2 && (s[0] == '[' || ((s[0] == '{' || s[0] == '\\') &&
                                        s[1] == '['));
}

/* Compiles the eight components of processed init in. */
static int up_compile_all(struct urlpattern *up, struct up_init *in,
                          char *why, size_t cap)
{
    const char *def;
    bool special;
    enum urlpattern_enc host;
    int rc;

    def = url_parts_default_port(in->s[URL_PROTOCOL], in->len[URL_PROTOCOL]);
    if (def != NULL && strlen(def) == in->len[URL_PORT] &&
        memcmp(def, in->s[URL_PORT], in->len[URL_PORT]) == 0)
        in->len[URL_PORT] = 0;
    rc = up_protocol_special(in->s[URL_PROTOCOL], in->len[URL_PROTOCOL],
                             &special, why, cap);
    host = up_ipv6(in->s[URL_HOSTNAME], in->len[URL_HOSTNAME]) ? UPE_IPV6 :
           special || (in->len[URL_PROTOCOL] == 1 &&
                       in->s[URL_PROTOCOL][0] == '*') ? UPE_DOMAIN : UPE_HOST;
    {
        const struct {
            int part;
            enum urlpattern_enc enc;
            char delim, prefix;
        } c[URL_PARTS] = {
            { URL_PROTOCOL, UPE_PROTOCOL, 0, 0 },
            { URL_USERNAME, UPE_USERINFO, 0, 0 },
            { URL_PASSWORD, UPE_USERINFO, 0, 0 },
            { URL_HOSTNAME, host, '.', 0 },
            { URL_PORT, UPE_PORT, 0, 0 },
            { URL_PATHNAME, special ? UPE_PATH : UPE_OPAQUE_PATH,
              special ? '/' : 0, special ? '/' : 0 },
            { URL_SEARCH, UPE_SEARCH, 0, 0 },
            { URL_HASH, UPE_HASH, 0, 0 },
        };

        for (int k = 0; rc == 0 && k < URL_PARTS; k++)
            rc = up_compile_part(up, c[k].part, in->s[k], in->len[k],
                                 c[k].enc, c[k].delim, c[k].prefix, why,
                                 cap);
    }
    return rc;
}

int urlpattern_compile(const char *pat, size_t len, const char *base,
                       size_t blen, struct urlpattern **out, char *why,
                       size_t cap)
{
    struct urlpattern_str store[URL_PARTS + 1];
    struct up_init in;
    struct urlpattern *up = calloc(1, sizeof(*up));
    int rc;

    memset(store, 0, sizeof(store));
    memset(&in, 0, sizeof(in));

    *out = NULL;
    if (up == NULL)
        return -ENOMEM;
    rc = blen > 0 ? url_parts_parse(&up->base, base, blen, NULL) : 0;
    up->has_base = blen > 0 && rc == 0;
    if (rc == -EINVAL)
        snprintf(why, cap, "the base URL \"%.*s\" is not an absolute URL",
                 (int)(blen > 100 ? 100 : blen), base);
    if (rc == 0)
        rc = up_parse_constructor(pat, len, &in, why, cap);
    if (rc == 0 && !in.set[URL_PROTOCOL] && !up->has_base) {
        snprintf(why, cap, "a relative pattern and no base URL");
        rc = -EINVAL;
    }
    if (rc == 0) {
        up_process(&in, store, in.set[URL_PROTOCOL] ? NULL : &up->base);
        for (int k = 0; k <= URL_PARTS; k++)
            if (store[k].oom)
                rc = -ENOMEM;
    }
    if (rc == 0)
        rc = up_compile_all(up, &in, why, cap);
    for (int k = 0; k <= URL_PARTS; k++)
        urlpattern_str_free(&store[k]);
    if (rc < 0) {
        urlpattern_free(up);
        return rc;
    }
    for (int k = 0; k < URL_PARTS; k++)
        if (urlpattern_regex_size(up->re[k]) > up->cost)
            up->cost = urlpattern_regex_size(up->re[k]);
    *out = up;
    return 0;
}

void urlpattern_free(struct urlpattern *p)
{
    if (p == NULL)
        return;
    for (int k = 0; k < URL_PARTS; k++)
        urlpattern_regex_free(p->re[k]);
    url_parts_free(&p->base);
    free(p);
}

unsigned long urlpattern_cost(const struct urlpattern *p)
{
    return p->cost > 0 ? p->cost : 1;
}

bool urlpattern_match(struct urlpattern *p, const char *t, size_t len)
{
    struct url_parts u;
    bool hit = true;

    if (url_parts_parse(&u, t, len, p->has_base ? &p->base : NULL) < 0)
        return false;
    for (int k = 0; hit && k < URL_PARTS; k++)
        hit = urlpattern_regex_match(p->re[k], u.v[k], u.len[k]);
    url_parts_free(&u);
    return hit;
}
