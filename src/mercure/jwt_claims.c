/* jwt_claims.c -- the JOSE header's alg and the claims sseq uses, read by
 * a small strict JSON reader.
 *
 * The reader is the shared one (json_in.h): a cursor over the text.
 * Limits: the text is checked as UTF-8 first; nesting stops at
 * JWT_CLAIMS_DEPTH_MAX; a number that is read (exp, nbf) is at most
 * JSON_IN_NUMBER_MAX characters. A decoded string is never longer than
 * its raw text, so a buffer of the raw length always holds it. Members that sseq reads must appear once: a second "alg" or
 * "exp" could be read differently by libjwt (jansson keeps the last). */
#include "ac_config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mercure/jwt_claims.h"
#include "base/json_in.h"
#include "base/util.h"

#define JS_KEY_MAX 24               /* longest member name compared */
#define JS_TIME_MAX 253402300799.0  /* 9999-12-31T23:59:59Z */

/* ---- the JOSE header ---- */

/* Whether typ t[0..n) names an RFC 9068 access token: "at+jwt", with or
 * without "application/", compared in any case (RFC 7515 4.1.9). */
static bool jc_typ_at_jwt(const char *t, size_t n)
{
    static const char app[] = "application/";

    if (n > sizeof(app) - 1 && strncasecmp(t, app, sizeof(app) - 1) == 0) {
        t += sizeof(app) - 1;
        n -= sizeof(app) - 1;
    }
    return n == 6 && strncasecmp(t, "at+jwt", 6) == 0;
}

/* Reads the header member named key (the cursor at its value). */
static int jc_header_member(struct json_in *j, const char *key,
                            struct jwt_header *h, unsigned *seen)
{
    char typ[32];
    size_t n;
    bool nul;
    unsigned bit = strcmp(key, "alg") == 0 ? 1u
                 : strcmp(key, "typ") == 0 ? 2u : 0u;

    if (strcmp(key, "crit") == 0 || (*seen & bit))
        return -EINVAL;
    *seen |= bit;
    if (bit == 0)
        return json_in_value(j, NULL, 0, NULL) < 0 ? -EINVAL : 0;
    if (!json_in_at(j, '"'))
        return -EINVAL;
    if (bit == 2) {
        if (json_in_string(j, typ, sizeof(typ), &n, &nul) < 0)
            return -EINVAL;
        h->at_jwt = !nul && n < sizeof(typ) && jc_typ_at_jwt(typ, n);
        h->typ_other = !h->at_jwt &&
                       !(n == 3 && strncasecmp(typ, "JWT", 3) == 0);
        return 0;
    }
    if (json_in_string(j, h->alg, sizeof(h->alg), &n, &nul) < 0 ||
        n >= sizeof(h->alg) || nul)
        return -EINVAL;
    h->alg[n] = '\0';
    return 0;
}

int jwt_claims_header(const char *json, size_t len, struct jwt_header *h)
{
    struct json_in j;
    char key[JS_KEY_MAX + 1];
    bool first = true;
    unsigned seen = 0;
    int rc;

    memset(h, 0, sizeof(*h));
    json_in_init(&j, json, len, JWT_CLAIMS_DEPTH_MAX);
    if (!util_utf8_valid(json, len) || json_in_object_open(&j) < 0)
        return -EINVAL;
    while ((rc = json_in_object_next(&j, &first, key, sizeof(key))) == 1)
        if (jc_header_member(&j, key, h, &seen) < 0)
            return -EINVAL;
    if (rc < 0 || !(seen & 1u))
        return -EINVAL;
    return json_in_end(&j);
}

int jwt_claims_header_alg(const char *json, size_t len, char *alg,
                          size_t cap)
{
    struct jwt_header h;
    size_t n;

    if (cap == 0 || jwt_claims_header(json, len, &h) < 0)
        return -EINVAL;
    n = strlen(h.alg);
    if (n >= cap)
        return -EINVAL;
    memcpy(alg, h.alg, n + 1);
    return 0;
}

/* ---- the claims set ---- */

/* One selector list being filled. */
struct jc_list {
    char ***v;
    size_t **lens;
    size_t *n;
};

/* Appends the string at the cursor to the list. */
static int jc_push(struct json_in *j, struct jc_list *l, const char **why)
{
    size_t start, n, cap;
    bool nul;
    char *s;

    if (*l->n >= JWT_CLAIMS_SELECTORS_MAX) {
        *why = "too many topic selectors";
        return -EBADMSG;
    }
    (void)json_in_at(j, '"');          /* past the blanks */
    start = j->pos;
    if (json_in_string(j, NULL, 0, &n, &nul) < 0 || nul) {
        *why = "a topic selector is not a string (or holds a NUL)";
        return -EBADMSG;
    }
    cap = j->pos - start;           /* raw length >= decoded length */
    s = malloc(cap + 1);
    if (s == NULL)
        return -ENOMEM;
    j->pos = start;
    (void)json_in_string(j, s, cap, &n, &nul);
    s[n] = '\0';
    if (*l->n % 8 == 0) {
        char **v = realloc(*l->v, (*l->n + 8) * sizeof(*v));
        size_t *lens = v ? realloc(*l->lens, (*l->n + 8) * sizeof(*lens))
                         : NULL;

        if (v != NULL)
            *l->v = v;
        if (lens == NULL) {
            free(s);
            return -ENOMEM;
        }
        *l->lens = lens;
    }
    (*l->v)[*l->n] = s;
    (*l->lens)[*l->n] = n;
    (*l->n)++;
    return 0;
}

/* Reads an array of strings into the list. */
static int jc_list_read(struct json_in *j, struct jc_list *l, const char **why)
{
    bool first = true;
    int rc;

    if (!json_in_eat(j, '[')) {
        *why = "mercure.publish/subscribe is not an array";
        return -EBADMSG;
    }
    while (!json_in_eat(j, ']')) {
        if (!first && !json_in_eat(j, ',')) {
            *why = "malformed JSON array";
            return -EINVAL;
        }
        first = false;
        rc = jc_push(j, l, why);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Keeps the value at the cursor (mercure.payload) as compact text. */
static int jc_payload(struct json_in *j, struct jwt_claims *c,
                      const char **why)
{
    size_t cap = j->len - j->pos;

    if (c->payload != NULL) {
        *why = "mercure.payload given twice";
        return -EBADMSG;
    }
    c->payload = malloc(cap + 1);
    if (c->payload == NULL)
        return -ENOMEM;
    if (json_in_value(j, c->payload, cap, &c->payload_len) < 0)
        return -EINVAL;
    c->payload[c->payload_len] = '\0';
    return 0;
}

/* Reads the "mercure" object: publish, subscribe and payload; others
 * skipped. */
static int jc_mercure(struct json_in *j, struct jwt_claims *c, const char **why)
{
    struct jc_list pub = { &c->publish, &c->publish_len, &c->n_publish };
    struct jc_list sub = { &c->subscribe, &c->subscribe_len,
                           &c->n_subscribe };
    bool first = true, seen_pub = false, seen_sub = false;
    char key[JS_KEY_MAX + 1];
    int rc;

    if (json_in_object_open(j) < 0) {
        *why = "the mercure claim is not an object";
        return -EBADMSG;
    }
    while ((rc = json_in_object_next(j, &first, key, sizeof(key))) == 1) {
        bool *seen = strcmp(key, "publish") == 0 ? &seen_pub
                   : strcmp(key, "subscribe") == 0 ? &seen_sub : NULL;

        if (strcmp(key, "payload") == 0) {
            rc = jc_payload(j, c, why);
        } else if (seen == NULL) {
            rc = json_in_value(j, NULL, 0, NULL) < 0 ? -EINVAL : 0;
        } else if (*seen) {
            *why = "mercure.publish or mercure.subscribe given twice";
            return -EBADMSG;
        } else {
            *seen = true;
            rc = jc_list_read(j, seen == &seen_pub ? &pub : &sub, why);
        }
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* Reads a NumericDate (RFC 7519 section 2) into *t. */
static int jc_time(struct json_in *j, time_t *t)
{
    double v;

    if (json_in_at(j, '"') || json_in_number(j, &v) < 0)
        return -EINVAL;
    if (!isfinite(v) || v < 0 || v > JS_TIME_MAX)
        return -EINVAL;
    *t = (time_t)v;
    return 0;
}

/* Reads a string claim (iss, sub) into a fresh copy *out. */
static int jc_string(struct json_in *j, char **out, const char **why)
{
    size_t start, n, cap;
    bool nul;

    *why = "iss or sub is not a string of at most 2048 bytes";
    if (!json_in_at(j, '"'))
        return -EBADMSG;
    start = j->pos;
    if (json_in_string(j, NULL, 0, &n, &nul) < 0 || nul ||
        n > JWT_CLAIMS_STRING_MAX)
        return -EBADMSG;
    cap = j->pos - start;
    *out = malloc(cap + 1);
    if (*out == NULL)
        return -ENOMEM;
    j->pos = start;
    (void)json_in_string(j, *out, cap, &n, &nul);
    (*out)[n] = '\0';
    return 0;
}

/* Reads aud: one string or an array of strings (RFC 7519 4.1.3). */
static int jc_aud(struct json_in *j, struct jwt_claims *c, const char **why)
{
    struct jc_list l = { &c->aud, &c->aud_len, &c->n_aud };
    int rc;

    rc = json_in_at(j, '"') ? jc_push(j, &l, why) : jc_list_read(j, &l, why);
    if (rc == -EBADMSG || c->n_aud > JWT_CLAIMS_AUD_MAX) {
        *why = "aud is not a string or an array of at most 64 strings";
        return -EBADMSG;
    }
    for (size_t i = 0; rc == 0 && i < c->n_aud; i++)
        if (c->aud_len[i] > JWT_CLAIMS_STRING_MAX) {
            *why = "an aud is longer than 2048 bytes";
            return -EBADMSG;
        }
    return rc;
}

/* Reads authorization_details (mercure_authz.h). */
static int jc_authz(struct json_in *j, struct jwt_claims *c,
                    const char **why)
{
    c->has_authz = true;
    return mercure_authz_parse(j, &c->authz, why);
}

/* Reads one top-level member named key. */
static int jc_member(struct json_in *j, const char *key, struct jwt_claims *c,
                     unsigned *seen, const char **why)
{
    static const char *const names[] = { "exp", "nbf", "mercure", "iss",
                                         "sub", "aud",
                                         "authorization_details" };
    size_t i, n = sizeof(names) / sizeof(names[0]);

    for (i = 0; i < n && strcmp(key, names[i]) != 0; i++)
        ;
    if (i == n)
        return json_in_value(j, NULL, 0, NULL) < 0 ? -EINVAL : 0;
    if (*seen & (1u << i)) {
        *why = "a claim is given twice";
        return -EBADMSG;
    }
    *seen |= 1u << i;
    switch (i) {
    case 2:
        return jc_mercure(j, c, why);
    case 3:
        return jc_string(j, &c->iss, why);
    case 4:
        return jc_string(j, &c->sub, why);
    case 5:
        return jc_aud(j, c, why);
    case 6:
        return jc_authz(j, c, why);
    }
    *why = "exp or nbf is not a NumericDate";
    if (jc_time(j, i == 0 ? &c->exp : &c->nbf) < 0)
        return -EBADMSG;
    if (i == 0)
        c->has_exp = true;
    else
        c->has_nbf = true;
    return 0;
}

int jwt_claims_parse(const char *json, size_t len, struct jwt_claims *out,
                     const char **why)
{
    struct json_in j;
    char key[JS_KEY_MAX + 1];
    bool first = true;
    unsigned seen = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    json_in_init(&j, json, len, JWT_CLAIMS_DEPTH_MAX);
    *why = "the claims are not a JSON object";
    if (!util_utf8_valid(json, len) || json_in_object_open(&j) < 0)
        return -EINVAL;
    while ((rc = json_in_object_next(&j, &first, key, sizeof(key))) == 1) {
        *why = "malformed JSON in the claims";
        rc = jc_member(&j, key, out, &seen, why);
        if (rc < 0)
            return rc;
    }
    if (rc < 0 || json_in_end(&j) < 0) {
        *why = "malformed JSON in the claims";
        return -EINVAL;
    }
    *why = "ok";
    return 0;
}

/* Frees the n strings of v and the arrays v and lens. */
static void jc_strings_free(char **v, size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    free(lens);
}

void jwt_claims_free(struct jwt_claims *c)
{
    jc_strings_free(c->publish, c->publish_len, c->n_publish);
    jc_strings_free(c->subscribe, c->subscribe_len, c->n_subscribe);
    jc_strings_free(c->aud, c->aud_len, c->n_aud);
    free(c->iss);
    free(c->sub);
    mercure_authz_free(&c->authz);
    free(c->payload);
    memset(c, 0, sizeof(*c));
}

int jwt_claims_bind(struct jwt_claims *c, const char *base, size_t blen,
                    unsigned long cost_max, char *why, size_t cap)
{
    if (c->authz.n_patterns == 0)
        return 0;
    return mercure_authz_bind(&c->authz, base, blen, cost_max, why, cap);
}

bool jwt_claims_has_aud(const struct jwt_claims *c, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < c->n_aud; i++)
        if (c->aud_len[i] == n && memcmp(c->aud[i], s, n) == 0)
            return true;
    return false;
}

/* Whether one of the n selectors matches the topic. */
static bool jc_any(char *const *v, const size_t *lens, size_t n,
                   const char *topic, size_t len,
                   struct topic_selector_cache *cache)
{
    for (size_t i = 0; i < n; i++)
        if (topic_selector_match_cached(cache, v[i], lens[i], topic, len))
            return true;
    return false;
}

bool jwt_claims_can_publish(const struct jwt_claims *c, const char *topic,
                            size_t len, struct topic_selector_cache *cache)
{
    if (c->access_token)
        return mercure_authz_allows(&c->authz, MERCURE_AUTHZ_PUBLISH, topic,
                                    len);
    return jc_any(c->publish, c->publish_len, c->n_publish, topic, len,
                  cache);
}

bool jwt_claims_can_subscribe(const struct jwt_claims *c, const char *topic,
                              size_t len, struct topic_selector_cache *cache)
{
    if (c->access_token)
        return mercure_authz_allows(&c->authz, MERCURE_AUTHZ_SUBSCRIBE,
                                    topic, len);
    return jc_any(c->subscribe, c->subscribe_len, c->n_subscribe, topic,
                  len, cache);
}
