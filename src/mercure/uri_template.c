/* uri_template.c -- RFC 6570 templates as matchers, topic selectors and
 * the match cache (the reading is stated in uri_template.h).
 *
 * Compile: the template is split into literal and expression elements;
 * every byte is checked against RFC 6570 section 2 (literals, operators,
 * varnames, modifiers); nothing is interpreted at match time.
 *
 * Match: a set of reachable positions in the subject, carried element by
 * element. An expression is a small automaton over (variable, position):
 * cnt[j][p] is the fewest characters of variable j's value read when an
 * item of j can continue at p (NONE if it cannot), done[j][p] says an
 * item of j can end at p. Positions are visited in increasing order, so
 * every state is final before it is read. Key invariant: a state is only
 * ever set at a position >= the one being visited. Counts are kept only
 * under a prefix modifier (< 10000), so they fit a uint16_t below NONE. */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mercure/uri_template.h"
#include "base/util.h"

#define UT_NONE 0xFFFFu                 /* cnt: no item in progress */

enum ut_kind { UT_LITERAL, UT_EXPR };

struct ut_var {
    size_t name;                /* offset of the name in text */
    size_t name_len;
    unsigned maxlen;            /* prefix :N, 0 = none */
    bool explode;               /* {v*} */
};

struct ut_elem {
    enum ut_kind kind;
    size_t off, len;            /* literal: bytes in text */
    const struct ut_op *op;     /* expression: its operator */
    size_t var0, n_vars;        /* expression: vars[var0 .. +n_vars) */
};

struct uri_template {
    char *text;                 /* copy of the template */
    struct ut_elem *elems; size_t n_elems;
    struct ut_var *vars; size_t n_vars;
    size_t widest;              /* most variables in one expression */
    size_t tail_from;           /* elements from here on are all
                                   expressions (each may match "") */
};

/* RFC 6570 section 3.2.1 table, one row an operator. */
struct ut_op {
    char op;                    /* '\0' for simple string expansion */
    const char *first;          /* written before the first item */
    char sep;                   /* between items */
    bool named;                 /* "name=value" items */
    bool reserved;              /* values may hold reserved characters */
};

static const struct ut_op ut_ops[] = {
    { '\0', "",  ',', false, false },
    { '+',  "",  ',', false, true },
    { '#',  "#", ',', false, true },
    { '.',  ".", '.', false, false },
    { '/',  "/", '/', false, false },
    { ';',  ";", ';', true,  false },
    { '?',  "?", '&', true,  false },
    { '&',  "&", '&', true,  false },
};

/* ---- character classes (RFC 3986 section 2, RFC 6570 section 2) ---- */

static bool ut_is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool ut_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool ut_is_hex(unsigned char c)
{
    return ut_is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

static bool ut_is_unreserved(unsigned char c)
{
    return ut_is_alpha(c) || ut_is_digit(c) || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static bool ut_is_reserved(unsigned char c)
{
    switch (c) {
    case ':': case '/': case '?': case '#': case '[': case ']': case '@':
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*':
    case '+': case ',': case ';': case '=':
        return true;
    default:
        return false;
    }
}

/* RFC 6570 "literals" for an ASCII byte: any visible character except
 * " ' % < > \ ^ ` { | } (non-ASCII is checked as UTF-8 elsewhere). */
static bool ut_is_literal(unsigned char c)
{
    return c > 0x20 && c < 0x7F && strchr("\"'%<>\\^`{|}", c) == NULL;
}

/* Whether s[i..i+3) is a pct-encoded triplet (i + 3 <= len checked). */
static bool ut_is_pct(const char *s, size_t len, size_t i)
{
    return i + 3 <= len && s[i] == '%' &&
           ut_is_hex((unsigned char)s[i + 1]) &&
           ut_is_hex((unsigned char)s[i + 2]);
}

/* Whether c may appear raw in a value of this operator and variable. */
static bool ut_value_char(const struct ut_op *op, const struct ut_var *v,
                          unsigned char c)
{
    if (ut_is_unreserved(c) || c == ',')
        return true;
    if (op->reserved && ut_is_reserved(c))
        return true;
    return v->explode && c == '=';
}

/* ---- compile ---- */

/* Appends an element; -ENOMEM. */
static int ut_push_elem(struct uri_template *t, size_t *cap,
                        const struct ut_elem *e)
{
    if (t->n_elems == *cap) {
        size_t n = *cap ? *cap * 2 : 8;
        struct ut_elem *p = realloc(t->elems, n * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        t->elems = p;
        *cap = n;
    }
    t->elems[t->n_elems++] = *e;
    return 0;
}

/* Appends a variable; -ENOMEM. */
static int ut_push_var(struct uri_template *t, size_t *cap,
                       const struct ut_var *v)
{
    if (t->n_vars == *cap) {
        size_t n = *cap ? *cap * 2 : 8;
        struct ut_var *p = realloc(t->vars, n * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        t->vars = p;
        *cap = n;
    }
    t->vars[t->n_vars++] = *v;
    return 0;
}

/* Reads the literal run at *pos (up to '{' or the end) and advances;
 * returns its length, or -EINVAL for a byte literals may not hold. */
static long ut_scan_literal(const char *s, size_t len, size_t *pos)
{
    size_t i = *pos;

    while (i < len && s[i] != '{') {
        unsigned char c = (unsigned char)s[i];

        if (c == '%') {
            if (!ut_is_pct(s, len, i))
                return -EINVAL;
            i += 3;
            continue;
        }
        if (c < 0x80 && !ut_is_literal(c))
            return -EINVAL;
        i++;
    }
    long n = (long)(i - *pos);
    *pos = i;
    return n;
}

/* Reads a varname (varchar *( ["."] varchar ), varchar = ALPHA / DIGIT /
 * "_" / pct-encoded) at *pos; its length or -EINVAL. */
static long ut_scan_varname(const char *s, size_t len, size_t *pos)
{
    size_t i = *pos;
    bool need_char = true;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];

        if (ut_is_alpha(c) || ut_is_digit(c) || c == '_') {
            i++;
        } else if (c == '%' && ut_is_pct(s, len, i)) {
            i += 3;
        } else if (c == '.' && !need_char) {
            i++;
            need_char = true;
            continue;
        } else {
            break;
        }
        need_char = false;
    }
    if (need_char)
        return -EINVAL;
    long n = (long)(i - *pos);
    *pos = i;
    return n;
}

/* Reads an optional modifier (":" 1-9 *3DIGIT, or "*") into v. */
static int ut_scan_modifier(const char *s, size_t len, size_t *pos,
                            struct ut_var *v)
{
    size_t i = *pos;

    if (i < len && s[i] == '*') {
        v->explode = true;
        *pos = i + 1;
        return 0;
    }
    if (i >= len || s[i] != ':')
        return 0;
    i++;
    if (i >= len || s[i] < '1' || s[i] > '9')
        return -EINVAL;
    while (i < len && ut_is_digit((unsigned char)s[i])) {
        if (v->maxlen >= 1000)
            return -EINVAL;             /* max-length < 10000 */
        v->maxlen = v->maxlen * 10 + (unsigned)(s[i] - '0');
        i++;
    }
    *pos = i;
    return 0;
}

/* The operator for byte c (simple if c is not an operator); NULL for the
 * reserved operators = , ! @ | . *pos is advanced past an operator. */
static const struct ut_op *ut_scan_op(const char *s, size_t len,
                                      size_t *pos)
{
    char c = *pos < len ? s[*pos] : '\0';

    if (c != '\0' && strchr("=,!@|", c) != NULL)
        return NULL;
    for (size_t i = 1; i < sizeof(ut_ops) / sizeof(ut_ops[0]); i++) {
        if (ut_ops[i].op == c) {
            (*pos)++;
            return &ut_ops[i];
        }
    }
    return &ut_ops[0];
}

/* Reads "{" op varspec *("," varspec) "}" at *pos into t. */
static int ut_scan_expr(struct uri_template *t, size_t len, size_t *pos,
                        size_t *vcap, size_t *ecap)
{
    const char *s = t->text;
    struct ut_elem e = { .kind = UT_EXPR, .var0 = t->n_vars };
    size_t i = *pos + 1;

    e.op = ut_scan_op(s, len, &i);
    if (e.op == NULL)
        return -EINVAL;
    for (;;) {
        struct ut_var v = { .name = i };
        long n = ut_scan_varname(s, len, &i);
        int rc;

        if (n < 0)
            return -EINVAL;
        v.name_len = (size_t)n;
        if (ut_scan_modifier(s, len, &i, &v) < 0)
            return -EINVAL;
        if (++e.n_vars > URI_TEMPLATE_VARS_MAX)
            return -EINVAL;
        rc = ut_push_var(t, vcap, &v);
        if (rc < 0)
            return rc;
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i < len && s[i] == '}')
            break;
        return -EINVAL;
    }
    *pos = i + 1;
    if (e.n_vars > t->widest)
        t->widest = e.n_vars;
    return ut_push_elem(t, ecap, &e);
}

/* Splits t->text[0..len) into elements. */
static int ut_parse(struct uri_template *t, size_t len)
{
    size_t pos = 0, vcap = 0, ecap = 0;

    while (pos < len) {
        size_t start = pos;
        long n = ut_scan_literal(t->text, len, &pos);
        int rc;

        if (n < 0)
            return -EINVAL;
        if (n > 0) {
            struct ut_elem e = { .kind = UT_LITERAL, .off = start,
                                 .len = (size_t)n };

            rc = ut_push_elem(t, &ecap, &e);
            if (rc < 0)
                return rc;
        }
        if (pos < len) {
            rc = ut_scan_expr(t, len, &pos, &vcap, &ecap);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int uri_template_compile(const char *tpl, size_t tlen,
                         struct uri_template **out)
{
    struct uri_template *t;
    int rc;

    if (tlen > URI_TEMPLATE_MAX || !util_utf8_valid(tpl, tlen) ||
        memchr(tpl, '\0', tlen) != NULL)
        return -EINVAL;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    t->text = malloc(tlen + 1);
    if (t->text == NULL) {
        free(t);
        return -ENOMEM;
    }
    memcpy(t->text, tpl, tlen);
    t->text[tlen] = '\0';
    rc = ut_parse(t, tlen);
    if (rc < 0) {
        uri_template_free(t);
        return rc;
    }
    t->tail_from = t->n_elems;
    while (t->tail_from > 0 && t->elems[t->tail_from - 1].kind == UT_EXPR)
        t->tail_from--;
    *out = t;
    return 0;
}

void uri_template_free(struct uri_template *t)
{
    if (t == NULL)
        return;
    free(t->text);
    free(t->elems);
    free(t->vars);
    free(t);
}

/* ---- match ---- */

/* The per-expression automaton state (see the file comment). */
struct ut_state {
    const struct uri_template *t;
    const struct ut_elem *e;
    const char *s;
    size_t slen;
    uint16_t *cnt;              /* [n_vars][slen + 1] */
    unsigned char *done;        /* [n_vars][slen + 1] */
};

/* Whether s[p..) starts with str (n bytes). */
static bool ut_has(const char *s, size_t slen, size_t p, const char *str,
                   size_t n)
{
    return p <= slen && slen - p >= n && memcmp(s + p, str, n) == 0;
}

/* Lowers cnt[j][p] to c. */
static void ut_reach(struct ut_state *st, size_t j, size_t p, unsigned c)
{
    uint16_t *slot = &st->cnt[j * (st->slen + 1) + p];

    if (p <= st->slen && c < *slot)
        *slot = (uint16_t)c;
}

/* An item of variable j may start at q: for a named, non-exploded
 * variable read "name" then "=" (";name" alone is a whole item). */
static void ut_item_start(struct ut_state *st, size_t j, size_t q)
{
    const struct ut_var *v = &st->t->vars[st->e->var0 + j];
    const struct ut_op *op = st->e->op;

    if (!op->named || v->explode) {
        ut_reach(st, j, q, 0);
        return;
    }
    if (!ut_has(st->s, st->slen, q, st->t->text + v->name, v->name_len))
        return;
    q += v->name_len;
    if (op->op == ';')
        st->done[j * (st->slen + 1) + q] = 1;
    if (q < st->slen && st->s[q] == '=')
        ut_reach(st, j, q + 1, 0);
}

/* Extends variable j's value from p by one character or triplet; marks
 * that an item of j can end at p. */
static void ut_item_step(struct ut_state *st, size_t j, size_t p)
{
    const struct ut_var *v = &st->t->vars[st->e->var0 + j];
    unsigned c = st->cnt[j * (st->slen + 1) + p], c1;

    if (c == UT_NONE)
        return;
    st->done[j * (st->slen + 1) + p] = 1;
    if (p >= st->slen || (v->maxlen != 0 && c >= v->maxlen))
        return;
    c1 = v->maxlen != 0 ? c + 1 : 0;    /* counted only under a prefix */
    if (ut_value_char(st->e->op, v, (unsigned char)st->s[p]))
        ut_reach(st, j, p + 1, c1);
    else if (ut_is_pct(st->s, st->slen, p))
        ut_reach(st, j, p + 3, c1);
}

/* Runs one expression: from the positions in cur, sets in next the
 * positions where it can end. */
static void ut_match_expr(struct ut_state *st, const unsigned char *cur,
                          unsigned char *next)
{
    const struct ut_op *op = st->e->op;
    size_t n = st->e->n_vars, w = st->slen + 1, flen = strlen(op->first);

    memcpy(next, cur, w);                   /* nothing defined */
    memset(st->done, 0, n * w);
    for (size_t i = 0; i < n * w; i++)
        st->cnt[i] = UT_NONE;
    for (size_t p = 0; p < w; p++) {
        bool before = false;            /* an item of some i < j ends at p */
        bool sep = p < st->slen && st->s[p] == op->sep;

        for (size_t j = 0; j < n; j++) {
            const struct ut_var *v = &st->t->vars[st->e->var0 + j];

            if (cur[p] && ut_has(st->s, st->slen, p, op->first, flen))
                ut_item_start(st, j, p + flen);
            if (before && sep)
                ut_item_start(st, j, p + 1);
            ut_item_step(st, j, p);
            if (st->done[j * w + p]) {
                if (v->explode && sep)
                    ut_item_start(st, j, p + 1);
                before = true;
                next[p] = 1;
            }
        }
    }
}

/* Runs one literal: next[p + len] for every p in cur followed by it. */
static void ut_match_literal(const struct uri_template *t,
                             const struct ut_elem *e, const char *s,
                             size_t slen, const unsigned char *cur,
                             unsigned char *next)
{
    memset(next, 0, slen + 1);
    for (size_t p = 0; p + e->len <= slen; p++)
        if (cur[p] && memcmp(s + p, t->text + e->off, e->len) == 0)
            next[p + e->len] = 1;
}

/* Whether expression e is one plain variable (no modifier, unnamed):
 * matched by a run scan instead of the automaton. */
static bool ut_expr_plain(const struct uri_template *t,
                          const struct ut_elem *e)
{
    const struct ut_var *v = &t->vars[e->var0];

    return e->n_vars == 1 && !v->explode && v->maxlen == 0 && !e->op->named;
}

/* Runs a plain expression (ut_expr_plain): nothing defined, or the
 * operator's first string and one value, a run of value characters and
 * triplets. reach[q]: a value can continue at q; one forward scan. */
static void ut_match_plain(const struct uri_template *t,
                           const struct ut_elem *e, const char *s,
                           size_t slen, const unsigned char *cur,
                           unsigned char *next, unsigned char *reach)
{
    const struct ut_var *v = &t->vars[e->var0];
    char first = e->op->first[0];       /* plain operators: 0 or 1 byte */

    memcpy(next, cur, slen + 1);
    memset(reach, 0, slen + 1);
    for (size_t p = 0; p <= slen; p++) {
        if (cur[p]) {
            if (first == '\0')
                reach[p] = 1;
            else if (p < slen && s[p] == first)
                reach[p + 1] = 1;
        }
        if (!reach[p])
            continue;
        next[p] = 1;
        if (p == slen)
            break;
        if (ut_value_char(e->op, v, (unsigned char)s[p]))
            reach[p + 1] = 1;
        else if (ut_is_pct(s, slen, p))
            reach[p + 3] = 1;
    }
}

/* Whether any position of set[0..w) is reachable. */
static bool ut_any(const unsigned char *set, size_t w)
{
    return memchr(set, 1, w) != NULL;
}

/* Whether s[0..slen) can match t at all as its literal ends say: a
 * template that starts (ends) with a literal matches only subjects that
 * start (end) with it. */
static bool ut_ends_fit(const struct uri_template *t, const char *s,
                        size_t slen)
{
    const struct ut_elem *first = &t->elems[0];
    const struct ut_elem *last = &t->elems[t->n_elems - 1];

    if (first->kind == UT_LITERAL &&
        (slen < first->len ||
         memcmp(s, t->text + first->off, first->len) != 0))
        return false;
    return last->kind != UT_LITERAL ||
           (slen >= last->len &&
            memcmp(s + slen - last->len, t->text + last->off,
                   last->len) == 0);
}

int uri_template_match_compiled(const struct uri_template *t,
                                const char *s, size_t slen)
{
    size_t w = slen + 1, vars = t->widest ? t->widest : 1;
    unsigned char *sets, *cur, *next;
    struct ut_state st = { .t = t, .s = s, .slen = slen };
    int rc;

    if (slen > URI_TEMPLATE_SUBJECT_MAX)
        return 0;
    if (t->n_elems == 0)
        return slen == 0;
    if (!ut_ends_fit(t, s, slen))
        return 0;
    sets = malloc(2 * w + vars * w * (sizeof(uint16_t) + 1));
    if (sets == NULL)
        return -ENOMEM;
    st.cnt = (uint16_t *)(void *)sets;     /* malloc'd: aligned */
    st.done = sets + vars * w * sizeof(uint16_t);
    cur = st.done + vars * w;
    next = cur + w;
    memset(cur, 0, w);
    cur[0] = 1;
    for (size_t i = 0; i < t->n_elems && ut_any(cur, w); i++) {
        unsigned char *tmp;

        if (i >= t->tail_from && cur[slen])
            break;                  /* the rest may all match "" */

        st.e = &t->elems[i];
        if (st.e->kind == UT_LITERAL)
            ut_match_literal(t, st.e, s, slen, cur, next);
        else if (ut_expr_plain(t, st.e))
            ut_match_plain(t, st.e, s, slen, cur, next, st.done);
        else
            ut_match_expr(&st, cur, next);
        tmp = cur;
        cur = next;
        next = tmp;
    }
    rc = cur[slen] ? 1 : 0;
    free(sets);
    return rc;
}

unsigned long uri_template_cost(const struct uri_template *t)
{
    unsigned long cost = 0;

    for (size_t i = 0; i < t->n_elems; i++) {
        const struct ut_elem *e = &t->elems[i];

        if (e->kind == UT_LITERAL)
            cost += 1 + e->len / 16;
        else if (ut_expr_plain(t, e))
            cost += 1;
        else
            cost += 2 + 4 * e->n_vars;
    }
    return cost;
}

size_t uri_template_expressions(const struct uri_template *t)
{
    size_t n = 0;

    for (size_t i = 0; i < t->n_elems; i++)
        n += t->elems[i].kind == UT_EXPR;
    return n;
}

size_t uri_template_variables(const struct uri_template *t)
{
    return t->n_vars;
}

int uri_template_match(const char *tpl, size_t tlen,
                       const char *s, size_t slen)
{
    struct uri_template *t;
    int rc = uri_template_compile(tpl, tlen, &t);

    if (rc < 0)
        return rc;
    rc = uri_template_match_compiled(t, s, slen);
    uri_template_free(t);
    return rc;
}
