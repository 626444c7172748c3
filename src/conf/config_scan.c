/* config_scan.c -- integer literals libconfig 1.5 would misread.
 *
 * libconfig 1.5 silently wraps an integer literal beyond 32 bits that has
 * no L suffix ("size = 4294967296;" reads as 0, 0xFFFFFFFF as -1). This
 * scanner, a small state machine over the file text, finds such literals
 * so that the setting holding one is refused rather than misread
 * (config_get_uint claims them; config_check_big reports the rest). */
#include "ac_config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf/config_int.h"

enum config_scan_state {
    CS_CODE, CS_STRING, CS_ESCAPE, CS_LINE_COMMENT, CS_BLOCK_COMMENT,
};

/* What the lexer hands its visitor: code outside strings and comments. */
enum config_tok {
    CT_NAME,                    /* a name, or true/false */
    CT_NUMBER,                  /* an integer or float literal */
    CT_PUNCT,                   /* any other character but a blank */
};

/* Called for each token text[start..end) on line. */
typedef void (*config_tok_fn)(void *ctx, enum config_tok kind,
                              const char *start, const char *end,
                              unsigned line);

/* Value of digit c in base 10 or 16, -1 if it is not one. */
static int config_digit(char c, unsigned base)
{
    int d = -1;

    if (c >= '0' && c <= '9')
        d = c - '0';
    else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
    return d >= 0 && (unsigned)d < base ? d : -1;
}

/* The end of the number at p (sign, decimal or 0x hex, maybe a float);
 * *big: an integer that does not fit an int and has no L suffix. */
static const char *config_scan_number(const char *p, bool *big)
{
    unsigned base = 10;
    uint64_t v = 0, lim;
    bool neg = *p == '-', over = false;
    int d;

    *big = false;
    if (*p == '-' || *p == '+')
        p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (; (d = config_digit(*p, base)) >= 0; p++) {
        over |= v > (UINT64_MAX - (unsigned)d) / base;
        v = v * base + (unsigned)d;
    }
    if (base == 10 && (*p == '.' || *p == 'e' || *p == 'E'))
        return p + strspn(p, "0123456789.eE+-");       /* a float */
    if (*p == 'L')
        return p + strspn(p, "L");
    lim = base == 16 ? INT_MAX : neg ? (uint64_t)INT_MAX + 1 : INT_MAX;
    *big = over || v > lim;
    return p;
}

/* One step in code (outside strings and comments): hands a token to fn;
 * returns the next p. */
static const char *config_scan_code(const char *p, unsigned line,
                                    enum config_scan_state *st,
                                    config_tok_fn fn, void *ctx)
{
    static const char ident[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "abcdefghijklmnopqrstuvwxyz0123456789-_*";
    const char *end = p + 1;
    enum config_tok kind = CT_PUNCT;
    bool big;

    if (*p == '"')
        *st = CS_STRING;
    else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
        *st = CS_LINE_COMMENT;
    else if (p[0] == '/' && p[1] == '*') {
        *st = CS_BLOCK_COMMENT;
        return p + 2;
    }
    if (*st != CS_CODE || strchr(" \t\r\n\f\v", *p) != NULL)
        return p + 1;
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
        *p == '*' || *p == '_') {
        kind = CT_NAME;
        end = p + strspn(p, ident);
    } else if ((*p >= '0' && *p <= '9') ||
               ((*p == '-' || *p == '+') && p[1] >= '0' && p[1] <= '9')) {
        kind = CT_NUMBER;
        end = config_scan_number(p, &big);
    }
    fn(ctx, kind, p, end, line);
    return end;
}

/* Hands every token of text, in order, to fn. */
static void config_scan_tokens(const char *text, config_tok_fn fn,
                               void *ctx)
{
    enum config_scan_state st = CS_CODE;
    unsigned line = 1;
    const char *p = text;

    while (*p != '\0') {
        const char *q = p;

        switch (st) {
        case CS_CODE:
            p = config_scan_code(p, line, &st, fn, ctx);
            break;
        case CS_STRING:
            st = *p == '\\' ? CS_ESCAPE : *p == '"' ? CS_CODE : CS_STRING;
            p++;
            break;
        case CS_ESCAPE:
            st = CS_STRING;
            p++;
            break;
        case CS_LINE_COMMENT:
            st = *p == '\n' ? CS_CODE : CS_LINE_COMMENT;
            p++;
            break;
        case CS_BLOCK_COMMENT:
            if (p[0] == '*' && p[1] == '/') {
                st = CS_CODE;
                p++;
            }
            p++;
            break;
        }
        for (; q < p; q++)
            line += *q == '\n';
    }
}

/* ---- the dotted name of the setting on a line ---- */

#define CONFIG_DEPTH_MAX 16     /* nested groups and lists followed */
#define CONFIG_DUP_MAX   4      /* settings looked at on one line */

/* The name walker: where it is in the file, and what it looks for. */
struct config_names {
    char path[CONFIG_NAME_MAX]; /* the innermost open group or entry */
    size_t path_len[CONFIG_DEPTH_MAX];  /* path's length before each */
    int entry[CONFIG_DEPTH_MAX];        /* a list's entry; -1: a group */
    unsigned depth, deeper;     /* levels kept; levels past the last */
    char pending[CONFIG_NAME_MAX];      /* the last name, dotted */
    unsigned pending_line;      /* where that name is */
    bool named, assigned;       /* saw a name; then its ':' or '=' */
    size_t order;               /* settings seen so far */
    unsigned line;              /* the line looked at */
    bool on_line;               /* a token of it was seen */
    char around[CONFIG_NAME_MAX];       /* the group open at its start */
    size_t n_cand;              /* its settings: */
    char cand[CONFIG_DUP_MAX][CONFIG_NAME_MAX];
    size_t cand_order[CONFIG_DUP_MAX];
    int dup;                    /* the first one seen before, or -1 */
};

/* Opens a group or list (list: entries counted) named by the setting
 * just assigned, or, inside a list, by its entry "[i]". */
static void config_names_open(struct config_names *nm, bool list)
{
    size_t len = strlen(nm->path);

    if (nm->depth == CONFIG_DEPTH_MAX) {
        nm->deeper++;
        return;
    }
    nm->path_len[nm->depth] = len;
    if (nm->assigned)
        snprintf(nm->path, sizeof nm->path, "%s", nm->pending);
    else if (nm->depth > 0 && nm->entry[nm->depth - 1] >= 0)
        snprintf(nm->path + len, sizeof nm->path - len, "[%d]",
                 nm->entry[nm->depth - 1]);
    nm->entry[nm->depth++] = list ? 0 : -1;
    nm->named = nm->assigned = false;
}

static void config_names_close(struct config_names *nm)
{
    if (nm->deeper > 0)
        nm->deeper--;
    else if (nm->depth > 0)
        nm->path[nm->path_len[--nm->depth]] = '\0';
    nm->named = nm->assigned = false;
}

/* A setting's name and ':' or '=' seen: remembered when on nm->line,
 * compared with those when after them. */
static void config_names_setting(struct config_names *nm, unsigned line)
{
    for (size_t i = 0; i < nm->n_cand && nm->dup < 0; i++)
        if (nm->order < nm->cand_order[i] &&
            strcmp(nm->cand[i], nm->pending) == 0)
            nm->dup = (int)i;
    if (line == nm->line && nm->n_cand < CONFIG_DUP_MAX &&
        nm->cand_order[nm->n_cand] == SIZE_MAX) {
        snprintf(nm->cand[nm->n_cand], CONFIG_NAME_MAX, "%s", nm->pending);
        nm->cand_order[nm->n_cand++] = nm->order;
    }
    nm->order++;
}

/* Follows one token through groups, lists and settings. */
static void config_names_token(void *ctx, enum config_tok kind,
                               const char *start, const char *end,
                               unsigned line)
{
    struct config_names *nm = ctx;
    char c = *start;

    if (line == nm->line && !nm->on_line) {
        nm->on_line = true;
        snprintf(nm->around, sizeof nm->around, "%s", nm->path);
    }
    if (kind == CT_NAME && !nm->assigned) {
        char name[CONFIG_NAME_MAX];

        snprintf(name, sizeof name, "%.*s", (int)(end - start), start);
        config_name(nm->pending, sizeof nm->pending, nm->path,
                    nm->path[0] ? "." : "", name);
        nm->named = true;
        nm->pending_line = line;
    } else if (kind == CT_PUNCT && (c == ':' || c == '=') && nm->named) {
        config_names_setting(nm, nm->pending_line);
        nm->named = false;
        nm->assigned = true;
    } else if (kind == CT_PUNCT && (c == '{' || c == '(' || c == '[')) {
        config_names_open(nm, c != '{');
    } else if (kind == CT_PUNCT && (c == '}' || c == ')' || c == ']')) {
        config_names_close(nm);
    } else {
        if (c == ',' && nm->depth > 0 && nm->deeper == 0 &&
            nm->entry[nm->depth - 1] >= 0)
            nm->entry[nm->depth - 1]++;
        nm->named = nm->assigned = false;
    }
}

/* Walks text once looking at line: learns the settings that start on it
 * and the group open where it starts. */
static void config_names_learn(struct config_names *nm, const char *text,
                               unsigned line)
{
    memset(nm, 0, sizeof *nm);
    nm->line = line;
    nm->dup = -1;
    for (size_t i = 0; i < CONFIG_DUP_MAX; i++)
        nm->cand_order[i] = SIZE_MAX;
    config_scan_tokens(text, config_names_token, nm);
}

/* Walks text again, finding which of the line's settings was set
 * before (nm->dup). */
static void config_names_find_twin(struct config_names *nm,
                                   const char *text)
{
    memset(nm->path, 0, sizeof nm->path);
    nm->depth = nm->deeper = 0;
    nm->order = 0;
    nm->named = nm->assigned = false;
    nm->line = 0;                       /* learn nothing more */
    config_scan_tokens(text, config_names_token, nm);
}

int config_scan_name_at(const char *text, unsigned line, bool twice,
                        char *name, size_t len)
{
    struct config_names nm;
    const char *found = NULL;

    config_names_learn(&nm, text, line);
    if (twice) {
        config_names_find_twin(&nm, text);
        found = nm.dup >= 0 ? nm.cand[nm.dup] : NULL;
    } else if (nm.n_cand > 0) {
        found = nm.cand[0];
    } else if (nm.around[0] != '\0') {
        found = nm.around;
    }
    if (found == NULL)
        return -ENOENT;
    snprintf(name, len, "%s", found);
    return 0;
}

/* ---- integer literals libconfig would wrap ---- */

/* The big-literal scan: the names walker says whose value each is. */
struct config_bigscan {
    struct config_load *ld;
    struct config_names nm;
};

/* Records a number token libconfig would wrap in ld->big, with the
 * dotted name of the setting it is the value of ("" if none). */
static void config_scan_big(void *ctx, enum config_tok kind,
                            const char *start, const char *end,
                            unsigned line)
{
    struct config_bigscan *bs = ctx;
    struct config_load *ld = bs->ld;
    bool big = false;

    if (kind == CT_NUMBER)
        (void)config_scan_number(start, &big);
    if (big && ld->n_big < CONFIG_BIG_MAX) {
        struct config_big *b = &ld->big[ld->n_big++];

        b->line = line;
        snprintf(b->text, sizeof b->text, "%.*s", (int)(end - start), start);
        snprintf(b->name, sizeof b->name, "%s",
                 bs->nm.assigned ? bs->nm.pending : "");
    }
    config_names_token(&bs->nm, kind, start, end, line);
}

void config_scan(struct config_load *ld, const char *text)
{
    struct config_bigscan bs = { .ld = ld };

    bs.nm.dup = -1;
    for (size_t i = 0; i < CONFIG_DUP_MAX; i++)
        bs.nm.cand_order[i] = SIZE_MAX;
    config_scan_tokens(text, config_scan_big, &bs);
}

/* Reports a too-large integer no setting claimed (see config_scan). */
int config_check_big(struct config_load *ld)
{
    for (size_t i = 0; i < ld->n_big; i++) {
        if (ld->big[i].claimed)
            continue;
        snprintf(ld->err, ld->errlen, "%s:%u: integer %s: too large for "
                 "32 bits without an L suffix (write %sL)", ld->path,
                 ld->big[i].line, ld->big[i].text, ld->big[i].text);
        return -EINVAL;
    }
    return 0;
}
