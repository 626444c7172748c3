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

#include "mercure/jwt_claims.h"
#include "base/json_in.h"
#include "base/util.h"

#define JS_KEY_MAX 16               /* longest member name compared */
#define JS_TIME_MAX 253402300799.0  /* 9999-12-31T23:59:59Z */

/* ---- the JOSE header ---- */

int jwt_claims_header_alg(const char *json, size_t len, char *alg,
                          size_t cap)
{
    struct json_in j;
    char key[JS_KEY_MAX + 1];
    bool first = true, seen = false, nul;
    size_t n;
    int rc;

    json_in_init(&j, json, len, JWT_CLAIMS_DEPTH_MAX);
    if (cap == 0 || !util_utf8_valid(json, len) ||
        json_in_object_open(&j) < 0)
        return -EINVAL;
    while ((rc = json_in_object_next(&j, &first, key, sizeof(key))) == 1) {
        if (strcmp(key, "crit") == 0)
            return -EINVAL;
        if (strcmp(key, "alg") != 0) {
            if (json_in_value(&j, NULL, 0, NULL) < 0)
                return -EINVAL;
            continue;
        }
        if (seen || json_in_string(&j, alg, cap, &n, &nul) < 0 || n >= cap ||
            nul)
            return -EINVAL;
        alg[n] = '\0';
        seen = true;
    }
    if (rc < 0 || !seen)
        return -EINVAL;
    return json_in_end(&j);
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

/* Reads one top-level member named key. */
static int jc_member(struct json_in *j, const char *key, struct jwt_claims *c,
                     unsigned *seen, const char **why)
{
    static const char *const names[] = { "exp", "nbf", "mercure" };
    size_t i;

    for (i = 0; i < 3 && strcmp(key, names[i]) != 0; i++)
        ;
    if (i == 3)
        return json_in_value(j, NULL, 0, NULL) < 0 ? -EINVAL : 0;
    if (*seen & (1u << i)) {
        *why = "a claim is given twice";
        return -EBADMSG;
    }
    *seen |= 1u << i;
    if (i == 2)
        return jc_mercure(j, c, why);
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

void jwt_claims_free(struct jwt_claims *c)
{
    for (size_t i = 0; i < c->n_publish; i++)
        free(c->publish[i]);
    for (size_t i = 0; i < c->n_subscribe; i++)
        free(c->subscribe[i]);
    free(c->publish);
    free(c->publish_len);
    free(c->subscribe);
    free(c->subscribe_len);
    free(c->payload);
    memset(c, 0, sizeof(*c));
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
    return jc_any(c->publish, c->publish_len, c->n_publish, topic, len,
                  cache);
}

bool jwt_claims_can_subscribe(const struct jwt_claims *c, const char *topic,
                              size_t len, struct topic_selector_cache *cache)
{
    return jc_any(c->subscribe, c->subscribe_len, c->n_subscribe, topic,
                  len, cache);
}
