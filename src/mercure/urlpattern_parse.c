/* urlpattern_parse.c -- URL Pattern tokenizer and pattern string parser
 * (urlpattern_parse.h), after the URL Pattern Living Standard's
 * "tokenize", "parse a pattern string" and "generate a regular
 * expression and name list", generating the expression as parts are
 * read (only whether it matches is asked, so the name list is kept only
 * to refuse a duplicate name).
 *
 * Code points: a name is ASCII letters, digits (not first), '$', '_',
 * or any non-ASCII UTF-8 sequence (the standard's ID_Start/ID_Continue,
 * approximated); regexp groups are ASCII only, as the standard says. */
#include "ac_config.h"

#include "mercure/urlpattern_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mercure/url_parts.h"

void urlpattern_str_add(struct urlpattern_str *s, const char *b, size_t n)
{
    if (s->oom)
        return;
    if (s->n + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        char *p;

        while (cap < s->n + n + 1)
            cap *= 2;
        p = realloc(s->p, cap);
        if (p == NULL) {
            s->oom = true;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    if (n > 0)
        memcpy(s->p + s->n, b, n);
    s->n += n;
    s->p[s->n] = '\0';
}

void urlpattern_str_free(struct urlpattern_str *s)
{
    free(s->p);
    *s = (struct urlpattern_str){ 0 };
}

/* Formats a reason into why[0..cap); returns -EINVAL. */
static int upp_fail(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int upp_fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (cap > 0) {
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Bytes of the code point at s[i] (a UTF-8 sequence, or 1). */
static size_t upp_cp_len(const char *s, size_t i, size_t len)
{
    unsigned char c = (unsigned char)s[i];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    size_t k = 1;

    while (k < n && i + k < len && ((unsigned char)s[i + k] & 0xc0) == 0x80)
        k++;
    return k;
}

static bool upp_name_char(unsigned char c, bool first)
{
    if (c >= 0x80 || c == '$' || c == '_')
        return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return true;
    return !first && c >= '0' && c <= '9';
}

struct upp_tokenizer {
    const char *s;
    size_t len;
    bool strict;
    struct urlpattern_token *t;
    size_t n;
    char *why;
    size_t cap;
};

static void upp_tok(struct upp_tokenizer *tk, int type, size_t index,
                    size_t vpos, size_t vlen)
{
    tk->t[tk->n++] = (struct urlpattern_token){
        .type = (unsigned char)type, .index = index, .vpos = vpos,
        .vlen = vlen };
}

/* A tokenizing error at index: -EINVAL when strict, else an invalid
 * token of one code point; *next: where tokenizing goes on. */
static int upp_tok_error(struct upp_tokenizer *tk, size_t index,
                         size_t *next, const char *what)
{
    if (tk->strict)
        return upp_fail(tk->why, tk->cap, "%s at offset %zu", what, index);
    *next = index + upp_cp_len(tk->s, index, tk->len);
    upp_tok(tk, UPT_INVALID, index, index, *next - index);
    return 0;
}

/* Reads the regexp group starting at '(' at index i: 0 and *next past
 * it, or a tokenizing error. */
static int upp_regexp(struct upp_tokenizer *tk, size_t i, size_t *next)
{
    const char *s = tk->s;
    size_t pos = i + 1, start = i + 1;
    int depth = 1;

    while (pos < tk->len) {
        unsigned char c = (unsigned char)s[pos];

        if (c >= 0x80)
            return upp_tok_error(tk, i, next, "non-ASCII character in a "
                                 "regexp group");
        if (pos == start && c == '?')
            return upp_tok_error(tk, i, next, "regexp group starting with "
                                 "'?'");
        if (c == '\\') {
            if (pos + 1 >= tk->len || (unsigned char)s[pos + 1] >= 0x80)
                return upp_tok_error(tk, i, next, "bad escape in a regexp "
                                     "group");
            pos += 2;
            continue;
        }
        if (c == ')' && --depth == 0)
            break;
        if (c == '(') {
            depth++;
            if (pos + 1 >= tk->len || s[pos + 1] != '?')
                return upp_tok_error(tk, i, next, "capturing group inside "
                                     "a regexp group (use (?:...))");
        }
        pos++;
    }
    if (depth != 0)
        return upp_tok_error(tk, i, next, "unterminated regexp group");
    if (pos == start)
        return upp_tok_error(tk, i, next, "empty regexp group");
    upp_tok(tk, UPT_REGEXP, i, start, pos - start);
    *next = pos + 1;
    return 0;
}

/* Reads the token at i; *next: where the next one starts. */
static int upp_token(struct upp_tokenizer *tk, size_t i, size_t *next)
{
    const char *s = tk->s;
    size_t k;

    *next = i + 1;
    switch (s[i]) {
    case '*':
        upp_tok(tk, UPT_ASTERISK, i, i, 1);
        return 0;
    case '+': case '?':
        upp_tok(tk, UPT_MODIFIER, i, i, 1);
        return 0;
    case '{':
        upp_tok(tk, UPT_OPEN, i, i, 1);
        return 0;
    case '}':
        upp_tok(tk, UPT_CLOSE, i, i, 1);
        return 0;
    case '\\':
        if (i + 1 >= tk->len)
            return upp_tok_error(tk, i, next, "pattern ends with a "
                                 "backslash");
        k = upp_cp_len(s, i + 1, tk->len);
        upp_tok(tk, UPT_ESCAPED, i, i + 1, k);
        *next = i + 1 + k;
        return 0;
    case ':':
        k = i + 1;
        while (k < tk->len && upp_name_char((unsigned char)s[k], k == i + 1))
            k++;
        if (k == i + 1)
            return upp_tok_error(tk, i, next, "':' without a name");
        upp_tok(tk, UPT_NAME, i, i + 1, k - i - 1);
        *next = k;
        return 0;
    case '(':
        return upp_regexp(tk, i, next);
    default:
        k = upp_cp_len(s, i, tk->len);
        upp_tok(tk, UPT_CHAR, i, i, k);
        *next = i + k;
        return 0;
    }
}

int urlpattern_tokenize(const char *s, size_t len, bool strict,
                        struct urlpattern_token **out, size_t *n,
                        char *why, size_t cap)
{
    struct upp_tokenizer tk = { .s = s, .len = len, .strict = strict,
                                .why = why, .cap = cap };
    size_t i = 0;

    tk.t = malloc((len + 1) * sizeof(*tk.t));
    if (tk.t == NULL)
        return -ENOMEM;
    while (i < len) {
        size_t next;

        if (upp_token(&tk, i, &next) < 0) {
            free(tk.t);
            return -EINVAL;
        }
        i = next;
    }
    upp_tok(&tk, UPT_END, len, len, 0);
    *out = tk.t;
    *n = tk.n;
    return 0;
}

/* Appends s[0..len) lowercased when lower (ASCII). */
static void upp_add_case(struct urlpattern_str *out, const char *s,
                         size_t len, bool lower)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        urlpattern_str_add(out, &c, 1);
    }
}

/* Checks fixed text s[0..len) against enc's allowed characters; 0 or
 * -EINVAL naming the first bad one. */
static int upp_check(enum urlpattern_enc enc, const char *s, size_t len,
                     char *why, size_t cap)
{
    static const char *const what[] = {
        [UPE_PROTOCOL] = "protocol", [UPE_DOMAIN] = "hostname",
        [UPE_HOST] = "hostname", [UPE_IPV6] = "IPv6 hostname",
        [UPE_PORT] = "port",
    };

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alnum = (c >= '0' && c <= '9') ||
                     ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
        bool bad = false;

        if (enc == UPE_PROTOCOL)
            bad = !alnum && c != '+' && c != '-' && c != '.';
        else if (enc == UPE_PORT)
            bad = !(c >= '0' && c <= '9');
        else if (enc == UPE_IPV6)
            bad = !(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' &&
                  (c | 0x20) <= 'f') && c != '[' && c != ']' && c != ':';
        else if (enc == UPE_DOMAIN || enc == UPE_HOST)
            bad = c <= 0x20 || strchr("#/:<>?@[\\]^|", c) != NULL ||
                  (enc == UPE_DOMAIN && (c == '%' || c == 0x7f));
        if (bad)
            return upp_fail(why, cap, "character '%c' (0x%02x) not allowed "
                            "in the %s", c > 0x20 && c < 0x7f ? c : '?', c,
                            what[enc]);
    }
    return 0;
}

/* The standard's "canonicalize a pathname" of fixed text s[0..len)
 * (len > 0): resolved and encoded as a special URL's path, after "/-"
 * when it does not start with a slash (then taken off). */
static int upp_path(const char *s, size_t len, struct urlpattern_str *out)
{
    size_t off = s[0] == '/' ? 0 : 2, n;
    char *in = malloc(len + 2), *o = malloc(3 * (len + 2) + 3);

    if (in == NULL || o == NULL) {
        free(in);
        free(o);
        out->oom = true;
        return 0;
    }
    memcpy(in, "/-", 2);
    memcpy(in + off, s, len);
    n = url_parts_path_encode(o, 3 * (len + 2) + 3, in, len + off);
    if (n >= off)
        urlpattern_str_add(out, o + off, n - off);
    free(in);
    free(o);
    return 0;
}

int urlpattern_encode(enum urlpattern_enc enc, const char *s, size_t len,
                      struct urlpattern_str *out, char *why, size_t cap)
{
    static const enum url_encode_set sets[] = {
        [UPE_USERINFO] = URL_ENCODE_USERINFO, [UPE_HOST] = URL_ENCODE_C0,
        [UPE_PATH] = URL_ENCODE_PATH, [UPE_OPAQUE_PATH] = URL_ENCODE_C0,
        [UPE_SEARCH] = URL_ENCODE_QUERY, [UPE_HASH] = URL_ENCODE_FRAGMENT,
    };
    char *tmp;
    size_t n;

    if (enc == UPE_DOMAIN || enc == UPE_HOST) {
        size_t end = 0;         /* the host parser stops there */

        while (end < len && strchr("/?#\\", s[end]) == NULL)
            end++;
        len = end;
    }
    if (upp_check(enc, s, len, why, cap) < 0)
        return -EINVAL;
    if (enc == UPE_PATH && len > 0)
        return upp_path(s, len, out);
    if (enc == UPE_PROTOCOL || enc == UPE_DOMAIN || enc == UPE_IPV6 ||
        enc == UPE_PORT) {
        upp_add_case(out, s, len, enc != UPE_PORT);
        return 0;
    }
    tmp = malloc(3 * len + 1);
    if (tmp == NULL) {
        out->oom = true;
        return 0;
    }
    n = url_parts_encode(tmp, s, len, sets[enc]);
    urlpattern_str_add(out, tmp, n);
    free(tmp);
    return 0;
}

/* Appends s[0..len) with regexp syntax characters escaped. */
static void upp_escape_regexp(struct urlpattern_str *out, const char *s,
                              size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (strchr("\\.+*?()|[]{}^$/", s[i]) != NULL && s[i] != '\0')
            urlpattern_str_add(out, "\\", 1);
        urlpattern_str_add(out, s + i, 1);
    }
}

void urlpattern_escape_pattern(struct urlpattern_str *out, const char *s,
                               size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (strchr("\\+*?(){}:", s[i]) != NULL && s[i] != '\0')
            urlpattern_str_add(out, "\\", 1);
        urlpattern_str_add(out, s + i, 1);
    }
}

#define UPP_NAMES_MAX 64        /* named groups a component */

/* The pattern string parser's state. */
struct upp_parser {
    const char *s;
    const struct urlpattern_token *t;
    size_t n, index;
    enum urlpattern_enc enc;
    char delim, prefix;
    struct urlpattern_str pending;      /* fixed text not yet a part */
    struct urlpattern_str *re;
    const struct urlpattern_token *names[UPP_NAMES_MAX];
    size_t n_names;
    char *why;
    size_t cap;
};

/* The next token if it is of type (consumed), else NULL. */
static const struct urlpattern_token *upp_try(struct upp_parser *p,
                                              int type)
{
    if (p->index < p->n && p->t[p->index].type == type)
        return &p->t[p->index++];
    return NULL;
}

/* A regexp token, or (without a name) an asterisk. */
static const struct urlpattern_token *upp_try_rw(
    struct upp_parser *p, const struct urlpattern_token *name)
{
    const struct urlpattern_token *t = upp_try(p, UPT_REGEXP);

    if (t == NULL && name == NULL)
        t = upp_try(p, UPT_ASTERISK);
    return t;
}

/* A modifier: '?', '+' or '*'; 0 for none. */
static char upp_try_modifier(struct upp_parser *p)
{
    const struct urlpattern_token *t = upp_try(p, UPT_MODIFIER);

    if (t == NULL)
        t = upp_try(p, UPT_ASTERISK);
    return t != NULL ? p->s[t->vpos] : 0;
}

/* Appends the encoded, regexp-escaped fixed text s[0..len) to re. */
static int upp_fixed_re(struct upp_parser *p, const char *s, size_t len)
{
    struct urlpattern_str enc = { 0 };
    int rc = urlpattern_encode(p->enc, s, len, &enc, p->why, p->cap);

    if (rc == 0 && enc.n > 0)
        upp_escape_regexp(p->re, enc.p, enc.n);
    if (enc.oom)
        p->re->oom = true;
    urlpattern_str_free(&enc);
    return rc;
}

/* Turns the pending fixed text into a part. */
static int upp_flush(struct upp_parser *p)
{
    int rc = 0;

    if (p->pending.n > 0)
        rc = upp_fixed_re(p, p->pending.p, p->pending.n);
    p->pending.n = 0;
    return rc;
}

/* Appends the regexp value of a group part (rw NULL: the segment
 * wildcard). */
static void upp_value_re(struct upp_parser *p,
                         const struct urlpattern_token *rw)
{
    if (rw == NULL) {
        urlpattern_str_add(p->re, "[^", 2);
        if (p->delim != 0)
            upp_escape_regexp(p->re, &p->delim, 1);
        urlpattern_str_add(p->re, "]+?", 3);
    } else if (rw->type == UPT_ASTERISK) {
        urlpattern_str_add(p->re, ".*", 2);
    } else {
        urlpattern_str_add(p->re, p->s + rw->vpos, rw->vlen);
    }
}

/* Refuses a second group of the same name. */
static int upp_name(struct upp_parser *p, const struct urlpattern_token *nm)
{
    for (size_t i = 0; i < p->n_names; i++)
        if (p->names[i]->vlen == nm->vlen &&
            memcmp(p->s + p->names[i]->vpos, p->s + nm->vpos, nm->vlen) == 0)
            return upp_fail(p->why, p->cap, "duplicate group name \":%.*s\"",
                            (int)nm->vlen, p->s + nm->vpos);
    if (p->n_names == UPP_NAMES_MAX)
        return upp_fail(p->why, p->cap, "over %d named groups",
                        UPP_NAMES_MAX);
    p->names[p->n_names++] = nm;
    return 0;
}

/* The standard's "add a part": prefix and suffix are fixed text (not
 * encoded yet), name / rw the group's tokens, mod its modifier. */
static int upp_part(struct upp_parser *p, const char *pre, size_t plen,
                    const struct urlpattern_token *name,
                    const struct urlpattern_token *rw, const char *suf,
                    size_t slen, char mod)
{
    char m[2] = { mod, 0 };
    size_t ml = mod != 0;

    if (name == NULL && rw == NULL && mod == 0) {
        urlpattern_str_add(&p->pending, pre, plen);
        return 0;
    }
    if (upp_flush(p) < 0)
        return -EINVAL;
    if (name == NULL && rw == NULL) {
        if (slen > 0)
            return upp_fail(p->why, p->cap, "a {...} group with a "
                            "modifier and no name or regexp has text "
                            "after it");
        if (plen == 0)
            return 0;
        urlpattern_str_add(p->re, "(?:", 3);
        if (upp_fixed_re(p, pre, plen) < 0)
            return -EINVAL;
        urlpattern_str_add(p->re, ")", 1);
        urlpattern_str_add(p->re, m, ml);
        return 0;
    }
    if (name != NULL && upp_name(p, name) < 0)
        return -EINVAL;
    if (plen == 0 && slen == 0) {
        urlpattern_str_add(p->re, "(?:(?:", 6);
        upp_value_re(p, rw);
        urlpattern_str_add(p->re, ")", 1);
        urlpattern_str_add(p->re, m, ml);
        urlpattern_str_add(p->re, ")", 1);
        return 0;
    }
    urlpattern_str_add(p->re, "(?:", 3);
    if (upp_fixed_re(p, pre, plen) < 0)
        return -EINVAL;
    urlpattern_str_add(p->re, "(?:", 3);
    upp_value_re(p, rw);
    urlpattern_str_add(p->re, ")", 1);
    if (mod == '*' || mod == '+') {
        urlpattern_str_add(p->re, "(?:", 3);
        if (upp_fixed_re(p, suf, slen) < 0 || upp_fixed_re(p, pre, plen) < 0)
            return -EINVAL;
        urlpattern_str_add(p->re, "(?:", 3);
        upp_value_re(p, rw);
        urlpattern_str_add(p->re, "))*", 3);
    }
    if (upp_fixed_re(p, suf, slen) < 0)
        return -EINVAL;
    urlpattern_str_add(p->re, ")", 1);
    if (mod == '?' || mod == '*')
        urlpattern_str_add(p->re, "?", 1);
    return 0;
}

/* Consumes char and escaped-char tokens into text (the standard's
 * "consume text"). */
static void upp_text(struct upp_parser *p, struct urlpattern_str *text)
{
    const struct urlpattern_token *t;

    while ((t = upp_try(p, UPT_CHAR)) != NULL ||
           (t = upp_try(p, UPT_ESCAPED)) != NULL)
        urlpattern_str_add(text, p->s + t->vpos, t->vlen);
}

/* Parses a {...} group after its '{'. */
static int upp_group(struct upp_parser *p)
{
    struct urlpattern_str pre = { 0 }, suf = { 0 };
    const struct urlpattern_token *name, *rw;
    size_t at = p->index;
    char mod;
    int rc;

    upp_text(p, &pre);
    name = upp_try(p, UPT_NAME);
    rw = upp_try_rw(p, name);
    upp_text(p, &suf);
    if (upp_try(p, UPT_CLOSE) == NULL) {
        urlpattern_str_free(&pre);
        urlpattern_str_free(&suf);
        return upp_fail(p->why, p->cap, "'{' at offset %zu not closed by "
                        "'}' (or holds more than one group)",
                        p->t[at - 1].index);
    }
    mod = upp_try_modifier(p);
    rc = upp_part(p, pre.p, pre.n, name, rw, suf.p, suf.n, mod);
    if (pre.oom || suf.oom)
        p->re->oom = true;
    urlpattern_str_free(&pre);
    urlpattern_str_free(&suf);
    return rc;
}

/* One step of "parse a pattern string": a group part, fixed text, a
 * {...} group, or the end. */
static int upp_step(struct upp_parser *p)
{
    const struct urlpattern_token *ch = upp_try(p, UPT_CHAR);
    const struct urlpattern_token *name = upp_try(p, UPT_NAME);
    const struct urlpattern_token *rw = upp_try_rw(p, name), *t;

    if (name != NULL || rw != NULL) {
        const char *pre = ch != NULL ? p->s + ch->vpos : "";
        size_t plen = ch != NULL ? ch->vlen : 0;

        if (plen > 0 && !(plen == 1 && pre[0] == p->prefix &&
                          p->prefix != 0)) {
            urlpattern_str_add(&p->pending, pre, plen);
            plen = 0;
        }
        if (upp_flush(p) < 0)
            return -EINVAL;
        return upp_part(p, pre, plen, name, rw, "", 0, upp_try_modifier(p));
    }
    if (ch != NULL || (ch = upp_try(p, UPT_ESCAPED)) != NULL) {
        urlpattern_str_add(&p->pending, p->s + ch->vpos, ch->vlen);
        return 0;
    }
    if (upp_try(p, UPT_OPEN) != NULL)
        return upp_group(p);
    if (upp_flush(p) < 0)
        return -EINVAL;
    if (upp_try(p, UPT_END) != NULL)
        return 0;
    t = &p->t[p->index];
    return upp_fail(p->why, p->cap, "unexpected '%.*s' at offset %zu",
                    (int)t->vlen, p->s + t->vpos, t->index);
}

int urlpattern_parse_component(const char *s, size_t len,
                               enum urlpattern_enc enc, char delim,
                               char prefix, struct urlpattern_str *re,
                               char *why, size_t cap)
{
    struct upp_parser p = { .s = s, .enc = enc, .delim = delim,
                            .prefix = prefix, .re = re, .why = why,
                            .cap = cap };
    struct urlpattern_token *t;
    int rc = urlpattern_tokenize(s, len, true, &t, &p.n, why, cap);

    if (rc < 0)
        return rc;
    p.t = t;
    while (rc == 0 && p.index < p.n)
        rc = upp_step(&p);
    if (rc == 0 && (p.pending.oom || re->oom))
        rc = -ENOMEM;
    urlpattern_str_free(&p.pending);
    free(t);
    return rc;
}
