/* urlpattern_regex.c -- URL patterns' regexps as Thompson NFAs, matched
 * in linear time (see urlpattern_regex.h).
 *
 * Two passes: a recursive-descent parser builds a syntax tree (children
 * as sibling lists, so a long sequence is a loop, not a deep recursion;
 * groups nest at most URLPATTERN_REGEX_DEPTH_MAX deep), then the tree is
 * emitted as a program of CLASS (a 256-bit byte set), SPLIT, JMP, BOL,
 * EOL and MATCH instructions. Matching keeps the set of live CLASS and
 * MATCH instructions; each byte moves every live CLASS whose set holds
 * it one step and follows the epsilon edges (JMP, SPLIT, assertions)
 * with an explicit stack, each instruction at most once a byte (a
 * generation mark), so an epsilon loop such as (a*)* ends. */
#include "ac_config.h"

#include "mercure/urlpattern_regex.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URLPATTERN_REGEX_DEPTH_MAX 32   /* nested groups */
#define URLPATTERN_REGEX_NODES_MAX 8192 /* syntax tree nodes */
#define REP_INF (-1)

enum upre_node_type { N_CLASS, N_CAT, N_ALT, N_REP, N_BOL, N_EOL };

struct upre_node {
    uint8_t type;
    int first;          /* CAT, ALT: first child; REP: the child */
    int next;           /* next sibling, -1 none */
    int cls;            /* CLASS: index into classes */
    int min, max;       /* REP: bounds, max REP_INF for none */
};

enum upre_op { OP_CLASS, OP_SPLIT, OP_JMP, OP_BOL, OP_EOL, OP_MATCH };

struct upre_inst {
    uint8_t op;
    uint32_t x, y;      /* CLASS: class; SPLIT: both targets; JMP: x */
};

struct urlpattern_regex {
    struct upre_inst *prog;
    size_t n;
    uint8_t (*classes)[32];
    uint32_t *mark;     /* generation an instruction was added in */
    uint32_t gen;
    uint32_t *list[2];  /* live CLASS / MATCH instructions */
    uint32_t *stack;
};

struct upre_parser {
    const char *s;
    size_t len, pos;
    struct upre_node *nodes;
    size_t n_nodes, cap_nodes;
    uint8_t (*classes)[32];
    size_t n_classes, cap_classes;
    int depth;
    int err;            /* 0 or the first error */
    char *why;
    size_t cap;
};

/* Records the first error (code, formatted reason); returns -1. */
static int upre_fail(struct upre_parser *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int upre_fail(struct upre_parser *p, int code, const char *fmt, ...)
{
    va_list ap;

    if (p->err != 0)
        return -1;
    p->err = code;
    if (p->cap > 0) {
        va_start(ap, fmt);
        vsnprintf(p->why, p->cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A new node of type; its index, or -1 (ENOMEM or too many nodes). */
static int upre_node_new(struct upre_parser *p, int type)
{
    struct upre_node *nd;

    if (p->n_nodes == p->cap_nodes) {
        size_t cap = p->cap_nodes ? 2 * p->cap_nodes : 32;

        if (p->n_nodes >= URLPATTERN_REGEX_NODES_MAX)
            return upre_fail(p, -E2BIG, "regexp too large: over %d parts",
                             URLPATTERN_REGEX_NODES_MAX);
        nd = realloc(p->nodes, cap * sizeof(*nd));
        if (nd == NULL)
            return upre_fail(p, -ENOMEM, "out of memory");
        p->nodes = nd;
        p->cap_nodes = cap;
    }
    nd = &p->nodes[p->n_nodes];
    *nd = (struct upre_node){ .type = (uint8_t)type, .first = -1,
                              .next = -1, .cls = -1 };
    return (int)p->n_nodes++;
}

/* A new CLASS node with an empty byte set; its index or -1. */
static int upre_class_new(struct upre_parser *p)
{
    int nd;

    if (p->n_classes == p->cap_classes) {
        size_t cap = p->cap_classes ? 2 * p->cap_classes : 16;
        uint8_t (*c)[32] = realloc(p->classes, cap * sizeof(*c));

        if (c == NULL)
            return upre_fail(p, -ENOMEM, "out of memory");
        p->classes = c;
        p->cap_classes = cap;
    }
    nd = upre_node_new(p, N_CLASS);
    if (nd < 0)
        return -1;
    memset(p->classes[p->n_classes], 0, 32);
    p->nodes[nd].cls = (int)p->n_classes++;
    return nd;
}

static void upre_set(uint8_t *set, unsigned lo, unsigned hi)
{
    for (unsigned c = lo; c <= hi; c++)
        set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

/* Adds to set the bytes of class escape e (d D w W s S). */
static void upre_set_escape(uint8_t *set, char e)
{
    uint8_t tmp[32] = { 0 };
    bool neg = e == 'D' || e == 'W' || e == 'S';

    switch (e | 0x20) {
    case 'd':
        upre_set(tmp, '0', '9');
        break;
    case 'w':
        upre_set(tmp, '0', '9');
        upre_set(tmp, 'A', 'Z');
        upre_set(tmp, 'a', 'z');
        upre_set(tmp, '_', '_');
        break;
    default:                            /* 's' */
        upre_set(tmp, '\t', '\r');
        upre_set(tmp, ' ', ' ');
        break;
    }
    for (int i = 0; i < 32; i++)
        set[i] |= neg ? (uint8_t)~tmp[i] : tmp[i];
}

static int upre_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* Reads the escape after a backslash at p->pos (in a class when
 * in_class). A single byte: its value; a class escape (\d ...): 256 +
 * the letter; -1 on error (refused or malformed). */
static int upre_escape(struct upre_parser *p, bool in_class)
{
    char e;

    if (p->pos >= p->len)
        return upre_fail(p, -EINVAL, "regexp ends with a backslash");
    e = p->s[p->pos++];
    switch (e) {
    case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
        return 256 + e;
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case 'b':
        if (in_class)
            return '\b';
        return upre_fail(p, -EINVAL, "word boundary \\b is not supported "
                         "(no linear-time automaton here)");
    case 'B':
        return upre_fail(p, -EINVAL, "word boundary \\B is not supported "
                         "(no linear-time automaton here)");
    case 'k':
        return upre_fail(p, -EINVAL, "backreference \\k<...> is not "
                         "supported (no linear-time automaton exists)");
    case 'p': case 'P':
        return upre_fail(p, -EINVAL, "Unicode property escape \\%c is not "
                         "supported", e);
    case 'c':
        return upre_fail(p, -EINVAL, "control escape \\c is not supported");
    case 'u':
        return upre_fail(p, -EINVAL, "\\u escape is not supported: write "
                         "the character");
    case 'x': {
        int hi = p->pos + 1 < p->len ? upre_hex(p->s[p->pos]) : -1;
        int lo = hi >= 0 ? upre_hex(p->s[p->pos + 1]) : -1;

        if (lo < 0 || hi > 7)
            return upre_fail(p, -EINVAL, "\\x escape must be two hex "
                             "digits of an ASCII character");
        p->pos += 2;
        return hi * 16 + lo;
    }
    case '0':
        if (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            return upre_fail(p, -EINVAL, "octal escape \\0%c is not "
                             "supported", p->s[p->pos]);
        return 0;
    default:
        break;
    }
    if (e >= '1' && e <= '9')
        return upre_fail(p, -EINVAL, "backreference \\%c is not supported "
                         "(no linear-time automaton exists)", e);
    if (strchr("^$\\.*+?()[]{}|/-", e) != NULL)
        return (unsigned char)e;
    return upre_fail(p, -EINVAL, "unknown escape \\%c", e);
}

#define UPRE_CLASS_DEPTH_MAX 8   /* nested classes ([a[b]]) */

static int upre_class_body(struct upre_parser *p, uint8_t *set, int depth);

/* Reads one class operand at p->pos into set: a nested class, a class
 * escape, a character or a range. 0 or -1. */
static int upre_class_operand(struct upre_parser *p, uint8_t *set,
                              int depth)
{
    int lo, hi;

    if (p->s[p->pos] == '[') {
        bool neg;

        p->pos++;
        neg = p->pos < p->len && p->s[p->pos] == '^';
        p->pos += neg;
        if (depth >= UPRE_CLASS_DEPTH_MAX)
            return upre_fail(p, -EINVAL, "classes nested over %d deep",
                             UPRE_CLASS_DEPTH_MAX);
        if (upre_class_body(p, set, depth + 1) < 0)
            return -1;
        if (neg)
            for (int i = 0; i < 32; i++)
                set[i] = (uint8_t)~set[i];
        return 0;
    }
    lo = p->s[p->pos] == '\\' ? (p->pos++, upre_escape(p, true))
                              : (unsigned char)p->s[p->pos++];
    if (lo < 0)
        return -1;
    if (p->pos + 1 < p->len && p->s[p->pos] == '-' &&
        p->s[p->pos + 1] != ']' && p->s[p->pos + 1] != '-') {
        p->pos++;
        hi = p->s[p->pos] == '\\' ? (p->pos++, upre_escape(p, true))
                                  : (unsigned char)p->s[p->pos++];
        if (hi < 0)
            return -1;
        if (lo >= 256 || hi >= 256)
            return upre_fail(p, -EINVAL, "class escape in a range");
        if (lo > hi)
            return upre_fail(p, -EINVAL, "range out of order in "
                             "character class");
        upre_set(set, (unsigned)lo, (unsigned)hi);
    } else if (lo >= 256) {
        upre_set_escape(set, (char)(lo - 256));
    } else {
        upre_set(set, (unsigned)lo, (unsigned)lo);
    }
    return 0;
}

/* Reads a class's operands up to its ']' into set: their union, with
 * the v flag's && (intersection) and -- (difference) between them. */
static int upre_class_body(struct upre_parser *p, uint8_t *set, int depth)
{
    for (;;) {
        uint8_t tmp[32] = { 0 };
        char op = 0;

        if (p->pos >= p->len)
            return upre_fail(p, -EINVAL, "unterminated character class");
        if (p->s[p->pos] == ']') {
            p->pos++;
            return 0;
        }
        if (p->pos + 1 < p->len && p->s[p->pos] == p->s[p->pos + 1] &&
            (p->s[p->pos] == '&' || p->s[p->pos] == '-')) {
            op = p->s[p->pos];
            p->pos += 2;
            if (p->pos >= p->len)
                return upre_fail(p, -EINVAL, "unterminated character "
                                 "class");
        }
        if (upre_class_operand(p, tmp, depth) < 0)
            return -1;
        for (int i = 0; i < 32; i++)
            set[i] = op == '&' ? set[i] & tmp[i] :
                     op == '-' ? set[i] & (uint8_t)~tmp[i] : set[i] | tmp[i];
    }
}

/* Parses a class after its '[' into a CLASS node; its index or -1. */
static int upre_class(struct upre_parser *p)
{
    int nd = upre_class_new(p);
    uint8_t *set;
    bool neg;

    if (nd < 0)
        return -1;
    set = p->classes[p->nodes[nd].cls];
    neg = p->pos < p->len && p->s[p->pos] == '^';
    p->pos += neg;
    if (upre_class_body(p, set, 0) < 0)
        return -1;
    if (neg)
        for (int i = 0; i < 32; i++)
            set[i] = (uint8_t)~set[i];
    return nd;
}

/* A CLASS node of the single byte or class escape v (upre_escape). */
static int upre_class_of(struct upre_parser *p, int v)
{
    int nd = upre_class_new(p);

    if (nd < 0)
        return -1;
    if (v >= 256)
        upre_set_escape(p->classes[p->nodes[nd].cls], (char)(v - 256));
    else
        upre_set(p->classes[p->nodes[nd].cls], (unsigned)v, (unsigned)v);
    return nd;
}

static int upre_alt(struct upre_parser *p);

/* Parses a group after its '(' (the "(?" forms checked here). */
static int upre_group(struct upre_parser *p)
{
    int nd;

    if (p->pos < p->len && p->s[p->pos] == '?') {
        const char *g = p->s + p->pos + 1;
        size_t left = p->len - p->pos - 1;

        if (left >= 1 && (g[0] == '=' || g[0] == '!'))
            return upre_fail(p, -EINVAL, "lookahead (?%c is not supported "
                             "(no linear-time automaton here)", g[0]);
        if (left >= 2 && g[0] == '<' && (g[1] == '=' || g[1] == '!'))
            return upre_fail(p, -EINVAL, "lookbehind (?<%c is not "
                             "supported (no linear-time automaton here)",
                             g[1]);
        if (left >= 1 && g[0] == ':') {
            p->pos += 2;
        } else if (left >= 1 && g[0] == '<') {
            const char *end = memchr(g, '>', left);

            if (end == NULL || end == g + 1)
                return upre_fail(p, -EINVAL, "bad group name");
            p->pos = (size_t)(end - p->s) + 1;
        } else if (left == 0) {
            return upre_fail(p, -EINVAL, "unterminated group \"(?\"");
        } else {
            return upre_fail(p, -EINVAL, "unknown group (?%c", g[0]);
        }
    }
    if (++p->depth > URLPATTERN_REGEX_DEPTH_MAX)
        return upre_fail(p, -EINVAL, "groups nested over %d deep",
                         URLPATTERN_REGEX_DEPTH_MAX);
    nd = upre_alt(p);
    p->depth--;
    if (nd < 0)
        return -1;
    if (p->pos >= p->len || p->s[p->pos] != ')')
        return upre_fail(p, -EINVAL, "unterminated group");
    p->pos++;
    return nd;
}

/* Parses one atom (no quantifier); its node or -1. */
static int upre_atom(struct upre_parser *p)
{
    char c = p->s[p->pos++];
    int nd;

    switch (c) {
    case '(':
        return upre_group(p);
    case '[':
        return upre_class(p);
    case '.':
        nd = upre_class_new(p);
        if (nd >= 0) {
            uint8_t *set = p->classes[p->nodes[nd].cls];

            upre_set(set, 0, 255);
            set['\n' >> 3] &= (uint8_t)~(1u << ('\n' & 7));
            set['\r' >> 3] &= (uint8_t)~(1u << ('\r' & 7));
        }
        return nd;
    case '^':
        return upre_node_new(p, N_BOL);
    case '$':
        return upre_node_new(p, N_EOL);
    case '\\':
        nd = upre_escape(p, false);
        return nd < 0 ? -1 : upre_class_of(p, nd);
    case '*': case '+': case '?': case '{':
        return upre_fail(p, -EINVAL, "nothing to repeat before '%c'", c);
    case ']': case '}':
        return upre_fail(p, -EINVAL, "lone '%c' (escape it)", c);
    default:
        return upre_class_of(p, (unsigned char)c);
    }
}

/* Reads a decimal count at p->pos (at most REPEAT_MAX): it, or -1. */
static int upre_count(struct upre_parser *p)
{
    int v = 0;
    size_t start = p->pos;

    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        v = v * 10 + (p->s[p->pos++] - '0');
        if (v > URLPATTERN_REGEX_REPEAT_MAX)
            return upre_fail(p, -EINVAL, "repeat count over %d",
                             URLPATTERN_REGEX_REPEAT_MAX);
    }
    return p->pos > start ? v : upre_fail(p, -EINVAL, "bad {n,m} repeat");
}

/* Wraps atom nd in the quantifier at p->pos, if any. */
static int upre_quant(struct upre_parser *p, int nd)
{
    int min, max, rep;
    char c;

    if (p->pos >= p->len)
        return nd;
    c = p->s[p->pos];
    if (c == '*' || c == '+' || c == '?') {
        p->pos++;
        min = c == '+' ? 1 : 0;
        max = c == '?' ? 1 : REP_INF;
    } else if (c == '{') {
        p->pos++;
        min = max = upre_count(p);
        if (min < 0)
            return -1;
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            max = p->pos < p->len && p->s[p->pos] == '}' ? REP_INF
                                                          : upre_count(p);
            if (p->err)
                return -1;
        }
        if (p->pos >= p->len || p->s[p->pos] != '}')
            return upre_fail(p, -EINVAL, "bad {n,m} repeat");
        p->pos++;
        if (max != REP_INF && max < min)
            return upre_fail(p, -EINVAL, "repeat {%d,%d} out of order",
                             min, max);
    } else {
        return nd;
    }
    if (p->pos < p->len && p->s[p->pos] == '?')
        p->pos++;                       /* lazy: same language */
    if (p->nodes[nd].type == N_BOL || p->nodes[nd].type == N_EOL)
        return upre_fail(p, -EINVAL, "nothing to repeat: an assertion");
    rep = upre_node_new(p, N_REP);
    if (rep < 0)
        return -1;
    p->nodes[rep].first = nd;
    p->nodes[rep].min = min;
    p->nodes[rep].max = max;
    if (p->pos < p->len && strchr("*+?{", p->s[p->pos]) != NULL)
        return upre_fail(p, -EINVAL, "nothing to repeat: '%c' after a "
                         "quantifier", p->s[p->pos]);
    return rep;
}

/* Parses a sequence up to '|', ')' or the end: a CAT node. */
static int upre_seq(struct upre_parser *p)
{
    int cat = upre_node_new(p, N_CAT), last = -1;

    while (cat >= 0 && p->pos < p->len && p->s[p->pos] != '|' &&
           p->s[p->pos] != ')') {
        int nd = upre_atom(p);

        if (nd >= 0)
            nd = upre_quant(p, nd);
        if (nd < 0)
            return -1;
        if (last < 0)
            p->nodes[cat].first = nd;
        else
            p->nodes[last].next = nd;
        last = nd;
    }
    return cat;
}

/* Parses alternatives: an ALT node (its children the sequences). */
static int upre_alt(struct upre_parser *p)
{
    int alt = upre_node_new(p, N_ALT), last;

    if (alt < 0)
        return -1;
    last = upre_seq(p);
    if (last < 0)
        return -1;
    p->nodes[alt].first = last;
    while (p->pos < p->len && p->s[p->pos] == '|') {
        int nd;

        p->pos++;
        nd = upre_seq(p);
        if (nd < 0)
            return -1;
        p->nodes[last].next = nd;
        last = nd;
    }
    return alt;
}

struct upre_emitter {
    struct upre_parser *p;
    struct upre_inst *prog;
    size_t n;
};

/* Appends an instruction; its index, or -1 past PROG_MAX. */
static long upre_emit_op(struct upre_emitter *e, int op, uint32_t x,
                         uint32_t y)
{
    if (e->p->err)
        return -1;
    if (e->n >= URLPATTERN_REGEX_PROG_MAX) {
        upre_fail(e->p, -E2BIG, "regexp too large: over %d states",
                  URLPATTERN_REGEX_PROG_MAX);
        return -1;
    }
    e->prog[e->n] = (struct upre_inst){ .op = (uint8_t)op, .x = x, .y = y };
    return (long)e->n++;
}

static void upre_emit(struct upre_emitter *e, int nd);

/* Emits REP node r: min copies, then a loop or max - min optional
 * copies all jumping to one end. */
static void upre_emit_rep(struct upre_emitter *e, const struct upre_node *r)
{
    long split, patch[URLPATTERN_REGEX_REPEAT_MAX];
    int k = 0;

    for (int i = 0; i < r->min && !e->p->err; i++)
        upre_emit(e, r->first);
    if (r->max == REP_INF) {
        split = upre_emit_op(e, OP_SPLIT, 0, 0);
        if (split < 0)
            return;
        e->prog[split].x = (uint32_t)e->n;
        upre_emit(e, r->first);
        if (upre_emit_op(e, OP_JMP, (uint32_t)split, 0) < 0)
            return;
        e->prog[split].y = (uint32_t)e->n;
        return;
    }
    for (int i = r->min; i < r->max && !e->p->err; i++) {
        split = upre_emit_op(e, OP_SPLIT, 0, 0);
        if (split < 0)
            return;
        e->prog[split].x = (uint32_t)e->n;
        patch[k++] = split;
        upre_emit(e, r->first);
    }
    for (int i = 0; i < k && !e->p->err; i++)
        e->prog[patch[i]].y = (uint32_t)e->n;
}

/* Emits ALT node a: a chain of SPLITs, each branch jumping to the end. */
static void upre_emit_alt(struct upre_emitter *e, const struct upre_node *a)
{
    long jumps[64], split;
    size_t nj = 0;
    int c = a->first;

    while (c >= 0 && !e->p->err) {
        int next = e->p->nodes[c].next;

        if (next < 0) {
            upre_emit(e, c);
            break;
        }
        split = upre_emit_op(e, OP_SPLIT, 0, 0);
        if (split < 0)
            return;
        e->prog[split].x = (uint32_t)e->n;
        upre_emit(e, c);
        if (nj == sizeof(jumps) / sizeof(jumps[0])) {
            upre_fail(e->p, -EINVAL, "over %zu alternatives in one group",
                      sizeof(jumps) / sizeof(jumps[0]));
            return;
        }
        jumps[nj] = upre_emit_op(e, OP_JMP, 0, 0);
        if (jumps[nj++] < 0)
            return;
        e->prog[split].y = (uint32_t)e->n;
        c = next;
    }
    for (size_t i = 0; i < nj && !e->p->err; i++)
        e->prog[jumps[i]].x = (uint32_t)e->n;
}

static void upre_emit(struct upre_emitter *e, int nd)
{
    const struct upre_node *n = &e->p->nodes[nd];

    if (e->p->err)
        return;
    switch (n->type) {
    case N_CLASS:
        upre_emit_op(e, OP_CLASS, (uint32_t)n->cls, 0);
        break;
    case N_BOL:
        upre_emit_op(e, OP_BOL, 0, 0);
        break;
    case N_EOL:
        upre_emit_op(e, OP_EOL, 0, 0);
        break;
    case N_CAT:
        for (int c = n->first; c >= 0 && !e->p->err; c = e->p->nodes[c].next)
            upre_emit(e, c);
        break;
    case N_ALT:
        upre_emit_alt(e, n);
        break;
    default:
        upre_emit_rep(e, n);
        break;
    }
}

/* Allocates r's matching scratch for its n instructions. */
static int upre_scratch(struct urlpattern_regex *r)
{
    r->mark = calloc(r->n, sizeof(*r->mark));
    r->list[0] = calloc(r->n, sizeof(uint32_t));
    r->list[1] = calloc(r->n, sizeof(uint32_t));
    r->stack = calloc(r->n, sizeof(uint32_t));
    if (!r->mark || !r->list[0] || !r->list[1] || !r->stack)
        return -ENOMEM;
    return 0;
}

int urlpattern_regex_compile(const char *re, size_t len,
                             struct urlpattern_regex **out, char *why,
                             size_t cap)
{
    struct upre_parser p = { .s = re, .len = len, .why = why, .cap = cap };
    struct upre_emitter e = { .p = &p };
    struct urlpattern_regex *r = NULL;
    int root = upre_alt(&p);

    *out = NULL;
    if (root >= 0 && p.pos < p.len)
        upre_fail(&p, -EINVAL, "unmatched ')'");
    if (!p.err) {
        e.prog = malloc(URLPATTERN_REGEX_PROG_MAX * sizeof(*e.prog));
        if (e.prog == NULL)
            upre_fail(&p, -ENOMEM, "out of memory");
    }
    upre_emit(&e, root);
    upre_emit_op(&e, OP_MATCH, 0, 0);
    if (!p.err && (r = calloc(1, sizeof(*r))) == NULL)
        upre_fail(&p, -ENOMEM, "out of memory");
    if (!p.err) {
        r->prog = e.prog;
        r->n = e.n;
        r->classes = p.classes;
        e.prog = NULL;
        p.classes = NULL;
        if (upre_scratch(r) < 0)
            upre_fail(&p, -ENOMEM, "out of memory");
    }
    free(p.nodes);
    free(p.classes);
    free(e.prog);
    if (p.err) {
        urlpattern_regex_free(r);
        return p.err;
    }
    *out = r;
    return 0;
}

void urlpattern_regex_free(struct urlpattern_regex *r)
{
    if (r == NULL)
        return;
    free(r->prog);
    free(r->classes);
    free(r->mark);
    free(r->list[0]);
    free(r->list[1]);
    free(r->stack);
    free(r);
}

size_t urlpattern_regex_size(const struct urlpattern_regex *r)
{
    return r->n;
}

/* Adds instruction pc and what its epsilon edges reach at text position
 * pos (of len) to list l (*n entries), each instruction once a gen. */
static void upre_add(struct urlpattern_regex *r, uint32_t *l, size_t *n,
                     uint32_t pc, size_t pos, size_t len)
{
    size_t sp = 0;

#define UPRE_PUSH(t) do { if (r->mark[t] != r->gen) { \
        r->mark[t] = r->gen; r->stack[sp++] = (t); } } while (0)
    UPRE_PUSH(pc);
    while (sp > 0) {
        const struct upre_inst *in = &r->prog[pc = r->stack[--sp]];

        switch (in->op) {
        case OP_JMP:
            UPRE_PUSH(in->x);
            break;
        case OP_SPLIT:
            UPRE_PUSH(in->y);
            UPRE_PUSH(in->x);
            break;
        case OP_BOL:
            if (pos == 0)
                UPRE_PUSH(pc + 1);
            break;
        case OP_EOL:
            if (pos == len)
                UPRE_PUSH(pc + 1);
            break;
        default:
            l[(*n)++] = pc;
            break;
        }
    }
#undef UPRE_PUSH
}

/* Starts a new generation (the marks cleared when the counter wraps). */
static void upre_next_gen(struct urlpattern_regex *r)
{
    if (++r->gen == 0) {
        memset(r->mark, 0, r->n * sizeof(*r->mark));
        r->gen = 1;
    }
}

bool urlpattern_regex_match(struct urlpattern_regex *r, const char *s,
                            size_t len)
{
    size_t nc = 0, nn;
    uint32_t *cl = r->list[0], *nl = r->list[1], *t;

    upre_next_gen(r);
    upre_add(r, cl, &nc, 0, 0, len);
    for (size_t pos = 0; pos < len && nc > 0; pos++) {
        unsigned char c = (unsigned char)s[pos];

        upre_next_gen(r);
        nn = 0;
        for (size_t i = 0; i < nc; i++) {
            const struct upre_inst *in = &r->prog[cl[i]];

            if (in->op == OP_CLASS &&
                (r->classes[in->x][c >> 3] & (1u << (c & 7))))
                upre_add(r, nl, &nn, cl[i] + 1, pos + 1, len);
        }
        t = cl;
        cl = nl;
        nl = t;
        nc = nn;
    }
    for (size_t i = 0; i < nc; i++)
        if (r->prog[cl[i]].op == OP_MATCH)
            return true;
    return false;
}
