/* json_in.c -- the strict JSON reader (see json_in.h).
 *
 * Key invariant: every function reads at most up to j->len and, when it
 * writes, writes at most cap bytes of out while counting every byte it
 * would write, so a caller that sizes out from the raw text never loses
 * a byte and a caller with a small out never overflows it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_in.h"
#include "base/util.h"

void json_in_init(struct json_in *j, const char *s, size_t len,
                  unsigned depth_max)
{
    memset(j, 0, sizeof(*j));
    j->s = s;
    j->len = len;
    j->depth_max = depth_max;
}

int json_in_fail(struct json_in *j, const char *why)
{
    j->why = why;
    return -EINVAL;
}

static void json_in_ws(struct json_in *j)
{
    while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
                               j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
        j->pos++;
}

bool json_in_at(struct json_in *j, char c)
{
    json_in_ws(j);
    return j->pos < j->len && j->s[j->pos] == c;
}

bool json_in_eat(struct json_in *j, char c)
{
    if (!json_in_at(j, c))
        return false;
    j->pos++;
    return true;
}

bool json_in_word(struct json_in *j, const char *w)
{
    size_t n = strlen(w);

    json_in_ws(j);
    if (j->len - j->pos < n || memcmp(j->s + j->pos, w, n) != 0)
        return false;
    j->pos += n;
    return true;
}

/* Appends byte c at out[*o] when it fits in cap; counts it anyway. */
static void json_in_put(char *out, size_t cap, size_t *o, unsigned c)
{
    if (out != NULL && *o < cap)
        out[*o] = (char)c;
    (*o)++;
}

/* Appends code point cp as UTF-8. */
static void json_in_put_utf8(char *out, size_t cap, size_t *o, unsigned cp)
{
    if (cp < 0x80) {
        json_in_put(out, cap, o, cp);
    } else if (cp < 0x800) {
        json_in_put(out, cap, o, 0xC0 | cp >> 6);
        json_in_put(out, cap, o, 0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        json_in_put(out, cap, o, 0xE0 | cp >> 12);
        json_in_put(out, cap, o, 0x80 | (cp >> 6 & 0x3F));
        json_in_put(out, cap, o, 0x80 | (cp & 0x3F));
    } else {
        json_in_put(out, cap, o, 0xF0 | cp >> 18);
        json_in_put(out, cap, o, 0x80 | (cp >> 12 & 0x3F));
        json_in_put(out, cap, o, 0x80 | (cp >> 6 & 0x3F));
        json_in_put(out, cap, o, 0x80 | (cp & 0x3F));
    }
}

/* Reads the 4 hex digits of a \u escape. */
static int json_in_hex4(struct json_in *j, unsigned *v)
{
    *v = 0;
    if (j->len - j->pos < 4)
        return json_in_fail(j, "bad \\u escape");
    for (int i = 0; i < 4; i++) {
        int d = util_hex((unsigned char)j->s[j->pos]);

        if (d < 0)
            return json_in_fail(j, "bad \\u escape");
        *v = *v << 4 | (unsigned)d;
        j->pos++;
    }
    return 0;
}

/* Reads the code point of a \u escape (the "\u" already read), joining
 * a surrogate pair; a lone surrogate is refused. */
static int json_in_escape_u(struct json_in *j, unsigned *cp)
{
    unsigned lo;

    if (json_in_hex4(j, cp) < 0)
        return -EINVAL;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return json_in_fail(j, "lone low surrogate");
    if (*cp < 0xD800 || *cp > 0xDBFF)
        return 0;
    if (j->len - j->pos < 2 || j->s[j->pos] != '\\' ||
        j->s[j->pos + 1] != 'u')
        return json_in_fail(j, "lone high surrogate");
    j->pos += 2;
    if (json_in_hex4(j, &lo) < 0)
        return -EINVAL;
    if (lo < 0xDC00 || lo > 0xDFFF)
        return json_in_fail(j, "lone high surrogate");
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    return 0;
}

/* Reads one escape (the backslash already read) into out. */
static int json_in_escape(struct json_in *j, char *out, size_t cap,
                          size_t *o, bool *nul)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    unsigned cp;
    char c;

    if (j->pos >= j->len)
        return json_in_fail(j, "unterminated string");
    c = j->s[j->pos++];
    if (c == 'u') {
        if (json_in_escape_u(j, &cp) < 0)
            return -EINVAL;
        *nul |= cp == 0;
        json_in_put_utf8(out, cap, o, cp);
        return 0;
    }
    hit = c != '\0' ? strchr(from, c) : NULL;
    if (hit == NULL) {
        j->pos--;
        return json_in_fail(j, "bad escape");
    }
    json_in_put(out, cap, o, (unsigned char)to[hit - from]);
    return 0;
}

int json_in_string(struct json_in *j, char *out, size_t cap, size_t *n,
                   bool *nul)
{
    size_t o = 0;

    *nul = false;
    if (!json_in_eat(j, '"'))
        return json_in_fail(j, "expected a string");
    for (;;) {
        unsigned char c;

        if (j->pos >= j->len)
            return json_in_fail(j, "unterminated string");
        c = (unsigned char)j->s[j->pos];
        if (c < 0x20)
            return json_in_fail(j, "control character in string");
        j->pos++;
        if (c == '"')
            break;
        if (c != '\\')
            json_in_put(out, cap, &o, c);
        else if (json_in_escape(j, out, cap, &o, nul) < 0)
            return -EINVAL;
    }
    *n = o;
    return 0;
}

/* Consumes a run of digits; false if there is none. */
static bool json_in_digits(struct json_in *j)
{
    size_t start = j->pos;

    while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
        j->pos++;
    return j->pos > start;
}

/* Consumes c if it is the next byte (no blanks skipped). */
static bool json_in_next_is(struct json_in *j, char c)
{
    if (j->pos < j->len && j->s[j->pos] == c) {
        j->pos++;
        return true;
    }
    return false;
}

int json_in_number(struct json_in *j, double *v)
{
    char buf[JSON_IN_NUMBER_MAX + 1];
    size_t start;

    json_in_ws(j);
    start = j->pos;
    (void)json_in_next_is(j, '-');
    if (!json_in_next_is(j, '0') && !json_in_digits(j))
        return json_in_fail(j, "bad number");
    if (json_in_next_is(j, '.') && !json_in_digits(j))
        return json_in_fail(j, "bad number");
    if (json_in_next_is(j, 'e') || json_in_next_is(j, 'E')) {
        if (!json_in_next_is(j, '+'))
            (void)json_in_next_is(j, '-');
        if (!json_in_digits(j))
            return json_in_fail(j, "bad number");
    }
    if (v == NULL)
        return 0;
    if (j->pos - start > JSON_IN_NUMBER_MAX)
        return json_in_fail(j, "number too long");
    memcpy(buf, j->s + start, j->pos - start);
    buf[j->pos - start] = '\0';
    *v = strtod(buf, NULL);
    return 0;
}

/* Reads an array or object (its opening byte next), writing its compact
 * text into out (see json_in_value). */
static int json_in_container(struct json_in *j, char *out, size_t cap,
                             size_t *o)
{
    char open = j->s[j->pos], close = open == '[' ? ']' : '}';
    size_t n;
    bool nul;

    if (j->depth >= j->depth_max)
        return json_in_fail(j, "nesting too deep");
    j->depth++;
    j->pos++;
    json_in_put(out, cap, o, (unsigned char)open);
    if (json_in_eat(j, close))
        goto done;
    for (;;) {
        if (open == '{') {
            size_t start;

            if (!json_in_at(j, '"'))
                return json_in_fail(j, "expected a member name");
            start = j->pos;
            if (json_in_string(j, NULL, 0, &n, &nul) < 0)
                return -EINVAL;
            for (size_t i = start; i < j->pos; i++)
                json_in_put(out, cap, o, (unsigned char)j->s[i]);
            if (!json_in_eat(j, ':'))
                return json_in_fail(j, "expected ':'");
            json_in_put(out, cap, o, ':');
        }
        n = 0;
        if (json_in_value(j, out && *o < cap ? out + *o : NULL,
                          out && *o < cap ? cap - *o : 0, &n) < 0)
            return -EINVAL;
        *o += n;
        if (json_in_eat(j, close))
            break;
        if (!json_in_eat(j, ','))
            return json_in_fail(j, open == '{' ? "expected ',' or '}'"
                                               : "expected ',' or ']'");
        json_in_put(out, cap, o, ',');
    }
done:
    json_in_put(out, cap, o, (unsigned char)close);
    j->depth--;
    return 0;
}

/* Reads a scalar (string, literal or number) at the cursor. */
static int json_in_scalar(struct json_in *j)
{
    size_t n;
    bool nul;
    char c = j->s[j->pos];

    if (c == '"')
        return json_in_string(j, NULL, 0, &n, &nul);
    if (c == '-' || (c >= '0' && c <= '9'))
        return json_in_number(j, NULL);
    if (json_in_word(j, "true") || json_in_word(j, "false") ||
        json_in_word(j, "null"))
        return 0;
    return json_in_fail(j, "unexpected character");
}

int json_in_value(struct json_in *j, char *out, size_t cap, size_t *n)
{
    size_t start, o = 0;
    int rc;

    json_in_ws(j);
    if (j->pos >= j->len)
        return json_in_fail(j, "unexpected end");
    if (j->s[j->pos] == '{' || j->s[j->pos] == '[') {
        rc = json_in_container(j, out, cap, &o);
    } else {
        start = j->pos;
        rc = json_in_scalar(j);
        for (size_t i = start; rc == 0 && i < j->pos; i++)
            json_in_put(out, cap, &o, (unsigned char)j->s[i]);
    }
    if (n != NULL)
        *n = o;
    return rc;
}

int json_in_object_open(struct json_in *j)
{
    if (!json_in_eat(j, '{'))
        return json_in_fail(j, "expected '{'");
    if (j->depth >= j->depth_max)
        return json_in_fail(j, "nesting too deep");
    j->depth++;
    return 0;
}

int json_in_object_next(struct json_in *j, bool *first, char *key,
                        size_t cap)
{
    size_t n;
    bool nul;

    if (json_in_eat(j, '}')) {
        j->depth--;
        return 0;
    }
    if (!*first && !json_in_eat(j, ','))
        return json_in_fail(j, "expected ',' or '}'");
    *first = false;
    if (!json_in_at(j, '"'))
        return json_in_fail(j, "expected a member name");
    if (json_in_string(j, key, cap, &n, &nul) < 0)
        return -EINVAL;
    if (!json_in_eat(j, ':'))
        return json_in_fail(j, "expected ':'");
    if (n >= cap || nul)
        n = 0;
    key[n] = '\0';
    return 1;
}

int json_in_end(struct json_in *j)
{
    json_in_ws(j);
    return j->pos == j->len ? 0
           : json_in_fail(j, "trailing data after the object");
}
