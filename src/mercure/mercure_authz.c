/* mercure_authz.c -- the authorization_details claim (see
 * mercure_authz.h), read with the shared strict JSON reader.
 *
 * Each entry is read twice: once for its "type" (members may come in
 * any order, and an entry of another type may give "topics" another
 * shape), then, when it is a Mercure detail, for its members. Limits:
 * MERCURE_AUTHZ_DETAILS_MAX entries, MERCURE_AUTHZ_MATCHERS_MAX
 * matchers in all, MERCURE_AUTHZ_MATCH_MAX bytes a match value; a
 * member read must appear once. */
#include "ac_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "mercure/mercure_authz.h"
#include "mercure/mercure_text.h"

#define MA_KEY_MAX 16               /* longest member name compared */
#define MA_TYPE_MAX 64              /* bytes of a "type" compared */

/* Reads the string at the cursor into a fresh NUL-terminated copy (*s,
 * *n). -EBADMSG (not a string, a NUL, longer than max) or -ENOMEM. */
static int ma_string(struct json_in *j, size_t max, char **s, size_t *n)
{
    size_t start, cap;
    bool nul;

    if (!json_in_at(j, '"'))
        return -EBADMSG;
    start = j->pos;
    if (json_in_string(j, NULL, 0, n, &nul) < 0 || nul || *n > max)
        return -EBADMSG;
    cap = j->pos - start;           /* raw length >= decoded length */
    *s = malloc(cap + 1);
    if (*s == NULL)
        return -ENOMEM;
    j->pos = start;
    (void)json_in_string(j, *s, cap, n, &nul);
    (*s)[*n] = '\0';
    return 0;
}

/* Whether s[0..len) keeps Mercure's character rule (mercure_text.h). */
static bool ma_text(const char *s, size_t len)
{
    size_t at;
    uint32_t cp;

    return mercure_text_check(s, len, &at, &cp) == 0;
}

/* Steps an array open at the cursor: 1 at an element, 0 at its end
 * (']' consumed). */
static int ma_array_next(struct json_in *j, bool *first)
{
    if (json_in_eat(j, ']'))
        return 0;
    if (!*first && !json_in_eat(j, ','))
        return -EINVAL;
    *first = false;
    return 1;
}

/* Reads a detail's "type" without consuming it: 1 when it is
 * MERCURE_AUTHZ_TYPE, 0 another type, -EBADMSG / -EINVAL. */
static int ma_detail_type(struct json_in *j, const char **why)
{
    size_t pos = j->pos, n;
    unsigned depth = j->depth;
    char key[MA_KEY_MAX + 1], type[MA_TYPE_MAX + 1];
    bool first = true, seen = false, nul;
    int rc, mercure = 0;

    *why = "an authorization_details entry is not an object";
    if (json_in_object_open(j) < 0)
        return -EBADMSG;
    while ((rc = json_in_object_next(j, &first, key, sizeof(key))) == 1) {
        if (strcmp(key, "type") != 0) {
            if (json_in_value(j, NULL, 0, NULL) < 0)
                return -EINVAL;
            continue;
        }
        *why = "an authorization_details entry has a type that is not "
               "one string";
        if (seen || !json_in_at(j, '"') ||
            json_in_string(j, type, sizeof(type), &n, &nul) < 0)
            return -EBADMSG;
        seen = true;
        mercure = !nul && n == sizeof(MERCURE_AUTHZ_TYPE) - 1 &&
                  memcmp(type, MERCURE_AUTHZ_TYPE, n) == 0;
    }
    *why = "an authorization_details entry has no type";
    if (rc < 0)
        return -EINVAL;
    if (!seen)
        return -EBADMSG;
    j->pos = pos;
    j->depth = depth;
    return mercure;
}

/* Reads "actions" into *actions. */
static int ma_actions(struct json_in *j, unsigned *actions,
                      const char **why)
{
    char name[16];
    bool first = true, nul, any = false;
    size_t n;
    int rc;

    *why = "a Mercure detail's actions is not a non-empty array of "
           "strings";
    if (!json_in_eat(j, '['))
        return -EBADMSG;
    while ((rc = ma_array_next(j, &first)) == 1) {
        if (!json_in_at(j, '"') ||
            json_in_string(j, name, sizeof(name), &n, &nul) < 0)
            return -EBADMSG;
        any = true;
        if (!nul && n == 7 && memcmp(name, "publish", 7) == 0)
            *actions |= MERCURE_AUTHZ_PUBLISH;
        else if (!nul && n == 9 && memcmp(name, "subscribe", 9) == 0)
            *actions |= MERCURE_AUTHZ_SUBSCRIBE;
    }
    if (rc < 0)
        return -EINVAL;
    return any ? 0 : -EBADMSG;
}

/* Sets m's kind from its match_type t[0..n) ("" when absent); a URL
 * pattern is counted in a, compiled by mercure_authz_bind. */
static int ma_matcher_kind(struct mercure_authz *a,
                           struct mercure_authz_matcher *m, const char *t,
                           size_t n, const char **why)
{
    if (n != 0 && !(n == 5 && memcmp(t, "exact", 5) == 0) &&
        !(n == 10 && memcmp(t, "urlpattern", 10) == 0)) {
        *why = "a topic matcher has a match_type this hub does not "
               "support (it takes \"exact\" and \"urlpattern\")";
        return -EBADMSG;
    }
    if (m->len == 1 && m->match[0] == '*')
        m->kind = MERCURE_AUTHZ_ANY;
    else if (n != 10)
        m->kind = MERCURE_AUTHZ_EXACT;
    else {
        m->kind = MERCURE_AUTHZ_URLPATTERN;
        a->n_patterns++;
    }
    return 0;
}

/* The members of one topic matcher object into m. */
static int ma_matcher_members(struct json_in *j,
                              struct mercure_authz_matcher *m,
                              char *type, size_t *type_len,
                              const char **why)
{
    char key[MA_KEY_MAX + 1];
    bool first = true, nul, seen_type = false;
    int rc;

    while ((rc = json_in_object_next(j, &first, key, sizeof(key))) == 1) {
        if (strcmp(key, "match") == 0) {
            *why = "a topic matcher's match is not one string of at most "
                   "4096 bytes";
            if (m->match != NULL)
                return -EBADMSG;
            rc = ma_string(j, MERCURE_AUTHZ_MATCH_MAX, &m->match, &m->len);
        } else if (strcmp(key, "match_type") == 0) {
            *why = "a topic matcher's match_type is not one string";
            if (seen_type || !json_in_at(j, '"'))
                return -EBADMSG;
            seen_type = true;
            rc = json_in_string(j, type, 16, type_len, &nul) < 0 ? -EINVAL
                 : 0;
            if (*type_len >= 16 || nul)
                *type_len = 16;         /* an unknown type */
        } else {
            rc = json_in_value(j, NULL, 0, NULL) < 0 ? -EINVAL : 0;
        }
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* Reads one topic matcher object into a->matchers[a->n_matchers]. */
static int ma_matcher(struct json_in *j, struct mercure_authz *a,
                      const char **why)
{
    struct mercure_authz_matcher *m;
    char type[16];
    size_t type_len = 0;
    int rc;

    *why = "too many topic matchers in authorization_details";
    if (a->n_matchers >= MERCURE_AUTHZ_MATCHERS_MAX)
        return -EBADMSG;
    if (a->n_matchers % 8 == 0) {
        m = realloc(a->matchers, (a->n_matchers + 8) * sizeof(*m));
        if (m == NULL)
            return -ENOMEM;
        a->matchers = m;
    }
    m = &a->matchers[a->n_matchers++];
    memset(m, 0, sizeof(*m));
    *why = "a topic matcher is not an object";
    if (json_in_object_open(j) < 0)
        return -EBADMSG;
    rc = ma_matcher_members(j, m, type, &type_len, why);
    if (rc < 0)
        return rc;
    *why = "a topic matcher has no match";
    if (m->match == NULL)
        return -EBADMSG;
    *why = "a topic matcher's match holds a control or format character "
           "or is not UTF-8";
    if (!ma_text(m->match, m->len))
        return -EBADMSG;
    return ma_matcher_kind(a, m, type, type_len, why);
}

/* Reads "topics" into the detail d's matchers. */
static int ma_topics(struct json_in *j, struct mercure_authz *a,
                     struct mercure_authz_detail *d, const char **why)
{
    bool first = true;
    int rc;

    *why = "a Mercure detail's topics is not a non-empty array";
    if (!json_in_eat(j, '['))
        return -EBADMSG;
    d->first = a->n_matchers;
    while ((rc = ma_array_next(j, &first)) == 1) {
        rc = ma_matcher(j, a, why);
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return -EINVAL;
    d->n = a->n_matchers - d->first;
    *why = "a Mercure detail's topics is not a non-empty array";
    return d->n > 0 ? 0 : -EBADMSG;
}

/* Reads "payload" (an object) as compact JSON into d. */
static int ma_payload(struct json_in *j, struct mercure_authz_detail *d,
                      const char **why)
{
    size_t start, raw, n = 0;

    *why = "a Mercure detail's payload is not an object";
    if (!json_in_at(j, '{'))
        return -EBADMSG;
    start = j->pos;
    if (json_in_value(j, NULL, 0, NULL) < 0)
        return -EINVAL;
    raw = j->pos - start;           /* a compact copy is never longer */
    d->payload = malloc(raw + 1);
    if (d->payload == NULL)
        return -ENOMEM;
    j->pos = start;
    (void)json_in_value(j, d->payload, raw, &n);
    d->payload[n] = '\0';
    d->payload_len = n;
    return 0;
}

/* Reads the members of a Mercure detail into d (which a owns). */
static int ma_detail_members(struct json_in *j, struct mercure_authz *a,
                             struct mercure_authz_detail *d,
                             const char **why)
{
    static const char *const names[] = { "actions", "topics", "payload",
                                         "type" };
    char key[MA_KEY_MAX + 1];
    bool first = true;
    unsigned seen = 0;
    size_t i;
    int rc;

    while ((rc = json_in_object_next(j, &first, key, sizeof(key))) == 1) {
        for (i = 0; i < 4 && strcmp(key, names[i]) != 0; i++)
            ;
        *why = "a Mercure detail gives a member twice";
        if (i < 4 && (seen & (1u << i)))
            return -EBADMSG;
        if (i < 4)
            seen |= 1u << i;
        rc = i == 0 ? ma_actions(j, &d->actions, why)
           : i == 1 ? ma_topics(j, a, d, why)
           : i == 2 ? ma_payload(j, d, why)
           : json_in_value(j, NULL, 0, NULL) < 0 ? -EINVAL : 0;
        if (rc < 0)
            return rc;
    }
    *why = "a Mercure detail lacks actions or topics";
    if (rc == 0 && (seen & 3u) != 3u)
        return -EBADMSG;
    return rc;
}

/* Reads one Mercure detail (the cursor at its '{'). */
static int ma_detail(struct json_in *j, struct mercure_authz *a,
                     const char **why)
{
    struct mercure_authz_detail *d;

    *why = "too many authorization_details entries";
    if (a->n_details >= MERCURE_AUTHZ_DETAILS_MAX)
        return -EBADMSG;
    if (a->n_details % 8 == 0) {
        d = realloc(a->details, (a->n_details + 8) * sizeof(*d));
        if (d == NULL)
            return -ENOMEM;
        a->details = d;
    }
    d = &a->details[a->n_details++];
    memset(d, 0, sizeof(*d));
    (void)json_in_object_open(j);       /* ma_detail_type read it */
    return ma_detail_members(j, a, d, why);
}

int mercure_authz_parse(struct json_in *j, struct mercure_authz *a,
                        const char **why)
{
    bool first = true;
    size_t entries = 0;
    int rc;

    memset(a, 0, sizeof(*a));
    *why = "authorization_details is not an array";
    if (!json_in_eat(j, '['))
        return -EBADMSG;
    while ((rc = ma_array_next(j, &first)) == 1) {
        *why = "too many authorization_details entries";
        if (++entries > MERCURE_AUTHZ_DETAILS_MAX)
            return -EBADMSG;
        rc = ma_detail_type(j, why);
        if (rc == 1)
            rc = ma_detail(j, a, why);
        else if (rc == 0)
            rc = json_in_value(j, NULL, 0, NULL) < 0 ? -EINVAL : 0;
        if (rc == -EINVAL)
            *why = "malformed JSON in authorization_details";
        if (rc < 0)
            return rc;
    }
    *why = "malformed JSON in authorization_details";
    return rc < 0 ? -EINVAL : 0;
}

void mercure_authz_free(struct mercure_authz *a)
{
    for (size_t i = 0; i < a->n_matchers; i++) {
        free(a->matchers[i].match);
        authz_urlpattern_free(a->matchers[i].pattern);
    }
    for (size_t i = 0; i < a->n_details; i++)
        free(a->details[i].payload);
    free(a->matchers);
    free(a->details);
    memset(a, 0, sizeof(*a));
}

/* Compiles matcher m, a URL pattern, against base[0..blen): 0, or
 * -EBADMSG with why[0..cap) naming the pattern and its fault, -ENOMEM. */
static int ma_bind_one(struct mercure_authz_matcher *m, const char *base,
                       size_t blen, unsigned long cost_max, char *why,
                       size_t cap)
{
    char fault[300], q[100];
    int rc;

    rc = authz_urlpattern_compile(m->match, m->len, base, blen, cost_max,
                                  &m->pattern, fault, sizeof(fault));
    if (rc == -ENOMEM || rc == 0)
        return rc;
    util_quote(q, sizeof(q), m->match, m->len);
    snprintf(why, cap, "urlpattern grant \"%s\" %s: %s", q,
             rc == -E2BIG ? "too costly" : "is not a URL pattern", fault);
    return -EBADMSG;
}

int mercure_authz_bind(struct mercure_authz *a, const char *base,
                       size_t blen, unsigned long cost_max, char *why,
                       size_t cap)
{
    int rc;

    for (size_t i = 0; i < a->n_matchers; i++) {
        struct mercure_authz_matcher *m = &a->matchers[i];

        if (m->kind != MERCURE_AUTHZ_URLPATTERN)
            continue;
        authz_urlpattern_free(m->pattern);
        m->pattern = NULL;
        a->bound = false;
        rc = ma_bind_one(m, base, blen, cost_max, why, cap);
        if (rc < 0)
            return rc;
    }
    a->bound = true;
    return 0;
}

bool mercure_authz_usable(const struct mercure_authz *a)
{
    return a->n_patterns == 0 || a->bound;
}

/* Whether matcher m matches topic[0..len). */
static bool ma_match(const struct mercure_authz_matcher *m,
                     const char *topic, size_t len)
{
    switch (m->kind) {
    case MERCURE_AUTHZ_ANY:
        return true;
    case MERCURE_AUTHZ_EXACT:
        return m->len == len && memcmp(m->match, topic, len) == 0;
    case MERCURE_AUTHZ_URLPATTERN:
        return m->pattern != NULL &&
               authz_urlpattern_match(m->pattern, topic, len);
    }
    return false;
}

/* Whether one of detail d's matchers matches topic[0..len). */
static bool ma_detail_match(const struct mercure_authz *a,
                            const struct mercure_authz_detail *d,
                            const char *topic, size_t len)
{
    for (size_t i = d->first; i < d->first + d->n; i++)
        if (ma_match(&a->matchers[i], topic, len))
            return true;
    return false;
}

bool mercure_authz_allows(const struct mercure_authz *a, unsigned action,
                          const char *topic, size_t len)
{
    if (!mercure_authz_usable(a))
        return false;
    for (size_t i = 0; i < a->n_details; i++)
        if ((a->details[i].actions & action) &&
            ma_detail_match(a, &a->details[i], topic, len))
            return true;
    return false;
}

const struct mercure_authz_detail *
mercure_authz_payload(const struct mercure_authz *a, const char *m,
                      size_t len)
{
    if (!mercure_authz_usable(a))
        return NULL;
    for (size_t i = 0; i < a->n_details; i++)
        if ((a->details[i].actions & MERCURE_AUTHZ_SUBSCRIBE) &&
            ma_detail_match(a, &a->details[i], m, len))
            return a->details[i].payload != NULL ? &a->details[i] : NULL;
    return NULL;
}
