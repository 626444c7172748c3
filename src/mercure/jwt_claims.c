/* jwt_claims.c -- the JOSE header's alg and the claims sseq uses, read by
 * a small strict JSON reader.
 *
 * The reader is a cursor over the text (struct js): every function reads
 * one JSON production at the cursor and leaves the cursor after it, or
 * fails with -EINVAL and the cursor anywhere. Limits: the text is checked
 * as UTF-8 first; nesting stops at JWT_CLAIMS_DEPTH_MAX; a number that is
 * read (exp, nbf) is at most JS_NUMBER_MAX characters. A decoded string
 * is never longer than its raw text, so a buffer of the raw length always
 * holds it. Members that sseq reads must appear once: a second "alg" or
 * "exp" could be read differently by libjwt (jansson keeps the last). */
#include "ac_config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mercure/jwt_claims.h"
#include "base/util.h"

#define JS_NUMBER_MAX 63            /* characters of a number read */
#define JS_KEY_MAX 16               /* longest member name compared */
#define JS_TIME_MAX 253402300799.0  /* 9999-12-31T23:59:59Z */

struct js {
    const char *s;
    size_t len, pos;
    unsigned depth;             /* open arrays and objects */
};

/* ---- the JSON reader ---- */

static void js_ws(struct js *j)
{
    while (j->pos < j->len && strchr(" \t\r\n", j->s[j->pos]) != NULL &&
           j->s[j->pos] != '\0')
        j->pos++;
}

/* Skips blanks, then consumes c if it is next. */
static bool js_eat(struct js *j, char c)
{
    js_ws(j);
    if (j->pos < j->len && j->s[j->pos] == c) {
        j->pos++;
        return true;
    }
    return false;
}

/* Reads 4 hex digits of a \u escape. */
static int js_hex4(struct js *j, unsigned *v)
{
    *v = 0;
    if (j->len - j->pos < 4)
        return -EINVAL;
    for (int i = 0; i < 4; i++) {
        char c = j->s[j->pos++];
        unsigned d;

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
        *v = *v << 4 | d;
    }
    return 0;
}

/* Appends byte c at out[*o] when it fits in cap; counts it anyway. */
static void js_put(char *out, size_t cap, size_t *o, unsigned c)
{
    if (out != NULL && *o < cap)
        out[*o] = (char)c;
    (*o)++;
}

/* Appends code point cp as UTF-8. */
static void js_put_utf8(char *out, size_t cap, size_t *o, unsigned cp)
{
    if (cp < 0x80) {
        js_put(out, cap, o, cp);
    } else if (cp < 0x800) {
        js_put(out, cap, o, 0xC0 | cp >> 6);
        js_put(out, cap, o, 0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        js_put(out, cap, o, 0xE0 | cp >> 12);
        js_put(out, cap, o, 0x80 | (cp >> 6 & 0x3F));
        js_put(out, cap, o, 0x80 | (cp & 0x3F));
    } else {
        js_put(out, cap, o, 0xF0 | cp >> 18);
        js_put(out, cap, o, 0x80 | (cp >> 12 & 0x3F));
        js_put(out, cap, o, 0x80 | (cp >> 6 & 0x3F));
        js_put(out, cap, o, 0x80 | (cp & 0x3F));
    }
}

/* Reads the code point of a \u escape (the "\u" already read), joining a
 * surrogate pair; a lone surrogate is refused. */
static int js_escape_u(struct js *j, unsigned *cp)
{
    unsigned lo;

    if (js_hex4(j, cp) < 0)
        return -EINVAL;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return -EINVAL;
    if (*cp < 0xD800 || *cp > 0xDBFF)
        return 0;
    if (j->len - j->pos < 2 || j->s[j->pos] != '\\' ||
        j->s[j->pos + 1] != 'u')
        return -EINVAL;
    j->pos += 2;
    if (js_hex4(j, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
        return -EINVAL;
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    return 0;
}

/* Reads one escape (the backslash already read) into out. */
static int js_escape(struct js *j, char *out, size_t cap, size_t *o,
                     bool *nul)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    unsigned cp;

    if (j->pos >= j->len)
        return -EINVAL;
    char c = j->s[j->pos++];
    if (c == 'u') {
        if (js_escape_u(j, &cp) < 0)
            return -EINVAL;
        if (cp == 0)
            *nul = true;
        js_put_utf8(out, cap, o, cp);
        return 0;
    }
    hit = c != '\0' ? strchr(from, c) : NULL;
    if (hit == NULL)
        return -EINVAL;
    js_put(out, cap, o, (unsigned char)to[hit - from]);
    return 0;
}

/* Reads a string at the cursor, decoding into out (cap bytes; what does
 * not fit is counted, not written). *n is the decoded length; *nul says
 * it holds a \u0000. */
static int js_string(struct js *j, char *out, size_t cap, size_t *n,
                     bool *nul)
{
    size_t o = 0;

    *nul = false;
    if (!js_eat(j, '"'))
        return -EINVAL;
    for (;;) {
        unsigned char c;

        if (j->pos >= j->len)
            return -EINVAL;
        c = (unsigned char)j->s[j->pos++];
        if (c == '"')
            break;
        if (c < 0x20)
            return -EINVAL;
        if (c == '\\') {
            if (js_escape(j, out, cap, &o, nul) < 0)
                return -EINVAL;
            continue;
        }
        js_put(out, cap, &o, c);
    }
    *n = o;
    return 0;
}

/* Consumes a run of digits; false if there is none. */
static bool js_digits(struct js *j)
{
    size_t start = j->pos;

    while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
        j->pos++;
    return j->pos > start;
}

/* Reads a number (RFC 8259 section 6); its value in *v if v != NULL. */
static int js_number(struct js *j, double *v)
{
    char buf[JS_NUMBER_MAX + 1];
    size_t start;

    js_ws(j);
    start = j->pos;
    if (j->pos < j->len && j->s[j->pos] == '-')
        j->pos++;
    if (j->pos < j->len && j->s[j->pos] == '0')
        j->pos++;
    else if (!js_digits(j))
        return -EINVAL;
    if (j->pos < j->len && j->s[j->pos] == '.') {
        j->pos++;
        if (!js_digits(j))
            return -EINVAL;
    }
    if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
        j->pos++;
        if (j->pos < j->len && (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
            j->pos++;
        if (!js_digits(j))
            return -EINVAL;
    }
    if (v == NULL)
        return 0;
    if (j->pos - start > JS_NUMBER_MAX)
        return -EINVAL;
    memcpy(buf, j->s + start, j->pos - start);
    buf[j->pos - start] = '\0';
    *v = strtod(buf, NULL);
    return 0;
}

/* Consumes the literal word w (true, false, null). */
static int js_word(struct js *j, const char *w)
{
    size_t n = strlen(w);

    if (j->len - j->pos < n || memcmp(j->s + j->pos, w, n) != 0)
        return -EINVAL;
    j->pos += n;
    return 0;
}

static int js_skip(struct js *j);

/* Skips an array or object (its opening byte at the cursor). */
static int js_skip_container(struct js *j, char open)
{
    char close = open == '[' ? ']' : '}';
    bool first = true;
    size_t n;
    bool nul;

    if (++j->depth > JWT_CLAIMS_DEPTH_MAX)
        return -EINVAL;
    j->pos++;
    while (!js_eat(j, close)) {
        if (!first && !js_eat(j, ','))
            return -EINVAL;
        first = false;
        if (open == '{' &&
            (js_string(j, NULL, 0, &n, &nul) < 0 || !js_eat(j, ':')))
            return -EINVAL;
        if (js_skip(j) < 0)
            return -EINVAL;
    }
    j->depth--;
    return 0;
}

/* Skips one value of any type. */
static int js_skip(struct js *j)
{
    size_t n;
    bool nul;

    js_ws(j);
    if (j->pos >= j->len)
        return -EINVAL;
    switch (j->s[j->pos]) {
    case '{':
    case '[':
        return js_skip_container(j, j->s[j->pos]);
    case '"':
        return js_string(j, NULL, 0, &n, &nul);
    case 't':
        return js_word(j, "true");
    case 'f':
        return js_word(j, "false");
    case 'n':
        return js_word(j, "null");
    default:
        return js_number(j, NULL);
    }
}

/* Opens an object: consumes '{'. */
static int js_object_open(struct js *j)
{
    if (!js_eat(j, '{') || ++j->depth > JWT_CLAIMS_DEPTH_MAX)
        return -EINVAL;
    return 0;
}

/* Steps to the next member of an open object: 1 with its name in key
 * (NUL-terminated; "" if longer than JS_KEY_MAX or holding a NUL) and
 * the cursor at its value, 0 at the end ('}' consumed), -EINVAL. */
static int js_object_next(struct js *j, bool *first, char *key)
{
    char buf[JS_KEY_MAX];
    size_t n;
    bool nul;

    if (js_eat(j, '}')) {
        j->depth--;
        return 0;
    }
    if (!*first && !js_eat(j, ','))
        return -EINVAL;
    *first = false;
    if (js_string(j, buf, sizeof(buf), &n, &nul) < 0 || !js_eat(j, ':'))
        return -EINVAL;
    if (n >= sizeof(buf) || nul)
        n = 0;
    memcpy(key, buf, n);
    key[n] = '\0';
    return 1;
}

/* Checks that only blanks follow the top-level value. */
static int js_end(struct js *j)
{
    js_ws(j);
    return j->pos == j->len ? 0 : -EINVAL;
}

/* ---- the JOSE header ---- */

int jwt_claims_header_alg(const char *json, size_t len, char *alg,
                          size_t cap)
{
    struct js j = { .s = json, .len = len };
    char key[JS_KEY_MAX + 1];
    bool first = true, seen = false, nul;
    size_t n;
    int rc;

    if (cap == 0 || !util_utf8_valid(json, len) || js_object_open(&j) < 0)
        return -EINVAL;
    while ((rc = js_object_next(&j, &first, key)) == 1) {
        if (strcmp(key, "crit") == 0)
            return -EINVAL;
        if (strcmp(key, "alg") != 0) {
            if (js_skip(&j) < 0)
                return -EINVAL;
            continue;
        }
        if (seen || js_string(&j, alg, cap, &n, &nul) < 0 || n >= cap ||
            nul)
            return -EINVAL;
        alg[n] = '\0';
        seen = true;
    }
    if (rc < 0 || !seen)
        return -EINVAL;
    return js_end(&j);
}

/* ---- the claims set ---- */

/* One selector list being filled. */
struct jc_list {
    char ***v;
    size_t **lens;
    size_t *n;
};

/* Appends the string at the cursor to the list. */
static int jc_push(struct js *j, struct jc_list *l, const char **why)
{
    size_t start, n, cap;
    bool nul;
    char *s;

    if (*l->n >= JWT_CLAIMS_SELECTORS_MAX) {
        *why = "too many topic selectors";
        return -EBADMSG;
    }
    js_ws(j);
    start = j->pos;
    if (js_string(j, NULL, 0, &n, &nul) < 0 || nul) {
        *why = "a topic selector is not a string (or holds a NUL)";
        return -EBADMSG;
    }
    cap = j->pos - start;           /* raw length >= decoded length */
    s = malloc(cap + 1);
    if (s == NULL)
        return -ENOMEM;
    j->pos = start;
    (void)js_string(j, s, cap, &n, &nul);
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
static int jc_list_read(struct js *j, struct jc_list *l, const char **why)
{
    bool first = true;
    int rc;

    if (!js_eat(j, '[')) {
        *why = "mercure.publish/subscribe is not an array";
        return -EBADMSG;
    }
    while (!js_eat(j, ']')) {
        if (!first && !js_eat(j, ',')) {
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

/* Reads the "mercure" object: publish and subscribe; others skipped. */
static int jc_mercure(struct js *j, struct jwt_claims *c, const char **why)
{
    struct jc_list pub = { &c->publish, &c->publish_len, &c->n_publish };
    struct jc_list sub = { &c->subscribe, &c->subscribe_len,
                           &c->n_subscribe };
    bool first = true, seen_pub = false, seen_sub = false;
    char key[JS_KEY_MAX + 1];
    int rc;

    if (js_object_open(j) < 0) {
        *why = "the mercure claim is not an object";
        return -EBADMSG;
    }
    while ((rc = js_object_next(j, &first, key)) == 1) {
        bool *seen = strcmp(key, "publish") == 0 ? &seen_pub
                   : strcmp(key, "subscribe") == 0 ? &seen_sub : NULL;

        if (seen == NULL) {
            rc = js_skip(j) < 0 ? -EINVAL : 0;
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
static int jc_time(struct js *j, time_t *t)
{
    double v;

    js_ws(j);
    if (j->pos >= j->len || j->s[j->pos] == '"' || js_number(j, &v) < 0)
        return -EINVAL;
    if (!isfinite(v) || v < 0 || v > JS_TIME_MAX)
        return -EINVAL;
    *t = (time_t)v;
    return 0;
}

/* Reads one top-level member named key. */
static int jc_member(struct js *j, const char *key, struct jwt_claims *c,
                     unsigned *seen, const char **why)
{
    static const char *const names[] = { "exp", "nbf", "mercure" };
    size_t i;

    for (i = 0; i < 3 && strcmp(key, names[i]) != 0; i++)
        ;
    if (i == 3)
        return js_skip(j) < 0 ? -EINVAL : 0;
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
    struct js j = { .s = json, .len = len };
    char key[JS_KEY_MAX + 1];
    bool first = true;
    unsigned seen = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    *why = "the claims are not a JSON object";
    if (!util_utf8_valid(json, len) || js_object_open(&j) < 0)
        return -EINVAL;
    while ((rc = js_object_next(&j, &first, key)) == 1) {
        *why = "malformed JSON in the claims";
        rc = jc_member(&j, key, out, &seen, why);
        if (rc < 0)
            return rc;
    }
    if (rc < 0 || js_end(&j) < 0) {
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
