/* url_parts.c -- URLs split into URL pattern components (url_parts.h).
 *
 * One pass over the input, writing components into one buffer sized
 * up front (every input byte becomes at most 3, the base's components
 * are copied at most once, and dot-segment removal only shortens), so
 * no write can pass its end (asserted). */
#include "ac_config.h"

#include "mercure/url_parts.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *scheme;
    const char *port;           /* NULL: none */
} url_parts_specials[] = {
    { "http", "80" }, { "https", "443" }, { "ws", "80" },
    { "wss", "443" }, { "ftp", "21" }, { "file", NULL },
};

#define URL_SPECIALS (sizeof(url_parts_specials) / \
                      sizeof(url_parts_specials[0]))

bool url_parts_special(const char *s, size_t len)
{
    for (size_t i = 0; i < URL_SPECIALS; i++)
        if (strlen(url_parts_specials[i].scheme) == len &&
            memcmp(url_parts_specials[i].scheme, s, len) == 0)
            return true;
    return false;
}

const char *url_parts_default_port(const char *s, size_t len)
{
    for (size_t i = 0; i < URL_SPECIALS; i++)
        if (strlen(url_parts_specials[i].scheme) == len &&
            memcmp(url_parts_specials[i].scheme, s, len) == 0)
            return url_parts_specials[i].port;
    return NULL;
}

/* Whether byte c is in encode set `set`. */
static bool url_parts_in_set(unsigned char c, enum url_encode_set set)
{
    if (c < 0x20 || c > 0x7e)
        return true;
    switch (set) {
    case URL_ENCODE_C0:
        return false;
    case URL_ENCODE_FRAGMENT:
        return strchr(" \"<>`", c) != NULL;
    case URL_ENCODE_QUERY:
        return strchr(" \"#<>", c) != NULL;
    case URL_ENCODE_SPECIAL_QUERY:
        return strchr(" \"#<>'", c) != NULL;
    case URL_ENCODE_PATH:
        return strchr(" \"#<>?`{}", c) != NULL;
    default:
        return strchr(" \"#<>?`{}/:;=@[\\]^|", c) != NULL;
    }
}

size_t url_parts_encode(char *out, const char *s, size_t len,
                        enum url_encode_set set)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (url_parts_in_set(c, set)) {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        } else {
            out[n++] = (char)c;
        }
    }
    return n;
}

/* The builder: components written one after another into buf. */
struct url_build {
    struct url_parts *u;
    char *buf;
    size_t n, cap;
    bool special;
    const char *scheme;         /* the lowercase scheme, in buf */
    size_t scheme_len;
};

/* Starts component part at the builder's end. */
static char *url_begin(struct url_build *b, enum url_part part)
{
    b->u->v[part] = b->buf + b->n;
    return b->buf + b->n;
}

/* Ends component part (NUL-terminates it). */
static void url_end(struct url_build *b, enum url_part part)
{
    b->u->len[part] = (size_t)(b->buf + b->n - b->u->v[part]);
    assert(b->n < b->cap);
    b->buf[b->n++] = '\0';
}

/* Writes component part as s[0..len) encoded with set. */
static void url_put(struct url_build *b, enum url_part part, const char *s,
                    size_t len, enum url_encode_set set)
{
    url_begin(b, part);
    assert(b->n + 3 * len < b->cap);
    b->n += url_parts_encode(b->buf + b->n, s, len, set);
    url_end(b, part);
}

/* Copies component part from base. */
static void url_copy(struct url_build *b, enum url_part part,
                     const struct url_parts *base)
{
    url_begin(b, part);
    assert(b->n + base->len[part] < b->cap);
    memcpy(b->buf + b->n, base->v[part], base->len[part]);
    b->n += base->len[part];
    url_end(b, part);
}

/* Whether c ends an authority or a path segment here. */
static bool url_is_slash(const struct url_build *b, char c)
{
    return c == '/' || (b->special && c == '\\');
}

/* Whether s[0..len) is "." or ".." (dots 1 or 2), %2e forms included. */
static bool url_is_dots(const char *s, size_t len, int dots)
{
    int seen = 0;

    for (size_t i = 0; i < len; seen++) {
        if (s[i] == '.')
            i++;
        else if (len - i >= 3 && s[i] == '%' && s[i + 1] == '2' &&
                 (s[i + 2] | 0x20) == 'e')
            i += 3;
        else
            return false;
    }
    return seen == dots;
}

/* Writes path s[0..len) (starting with a slash) as the pathname: split
 * into segments, dot segments resolved, each segment path-encoded. */
static void url_path(struct url_build *b, const char *s, size_t len)
{
    char *start = url_begin(b, URL_PATHNAME);
    size_t i = len > 0 && url_is_slash(b, s[0]) ? 1 : 0;

    for (;;) {
        size_t j = i;
        bool last;

        while (j < len && !url_is_slash(b, s[j]))
            j++;
        last = j >= len;
        if (url_is_dots(s + i, j - i, 2)) {
            while (b->buf + b->n > start && b->buf[b->n - 1] != '/')
                b->n--;
            if (b->buf + b->n > start)
                b->n--;
            if (last)
                b->buf[b->n++] = '/';
        } else if (url_is_dots(s + i, j - i, 1)) {
            if (last)
                b->buf[b->n++] = '/';
        } else {
            b->buf[b->n++] = '/';
            assert(b->n + 3 * (j - i) < b->cap);
            b->n += url_parts_encode(b->buf + b->n, s + i, j - i,
                                     URL_ENCODE_PATH);
        }
        if (last)
            break;
        i = j + 1;
    }
    if (b->buf + b->n == start)
        b->buf[b->n++] = '/';
    url_end(b, URL_PATHNAME);
}

size_t url_parts_path_encode(char *out, size_t cap, const char *s,
                             size_t len)
{
    struct url_parts u;
    struct url_build b = { .u = &u, .buf = out, .cap = cap,
                           .special = true };

    assert(cap >= 3 * len + 3);
    memset(&u, 0, sizeof(u));
    url_path(&b, s, len);
    return u.len[URL_PATHNAME];
}

/* Whether c may not appear in a host (WHATWG forbidden host code
 * points; domain: the domain ones, for special URLs). */
static bool url_host_forbidden(unsigned char c, bool domain)
{
    if (c == 0 || c == '\t' || c == '\n' || c == '\r')
        return true;
    if (strchr(" #/:<>?@[\\]^|", c) != NULL)
        return true;
    return domain && (c < 0x20 || c == '%' || c == 0x7f);
}

static int url_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* Writes host s[0..len) as the hostname. -EINVAL on a bad host. */
static int url_host(struct url_build *b, const char *s, size_t len)
{
    char *h = url_begin(b, URL_HOSTNAME);

    if (len > 0 && s[0] == '[') {
        if (len < 3 || s[len - 1] != ']')
            return -EINVAL;
        for (size_t i = 1; i + 1 < len; i++)
            if (url_hex(s[i]) < 0 && s[i] != ':' && s[i] != '.')
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
            b->buf[b->n++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ?
                                    s[i] | 0x20 : s[i]);
    } else if (b->special) {
        for (size_t i = 0; i < len; i++) {
            int c = (unsigned char)s[i], hi, lo;

            if (c == '%' && i + 2 < len &&
                (hi = url_hex(s[i + 1])) >= 0 &&
                (lo = url_hex(s[i + 2])) >= 0) {
                c = hi * 16 + lo;
                i += 2;
            }
            if (url_host_forbidden((unsigned char)c, true))
                return -EINVAL;
            b->buf[b->n++] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
        }
        if (b->buf + b->n == h &&
            !(b->scheme_len == 4 && memcmp(b->scheme, "file", 4) == 0))
            return -EINVAL;
    } else {
        for (size_t i = 0; i < len; i++)
            if (url_host_forbidden((unsigned char)s[i], false))
                return -EINVAL;
        b->n += url_parts_encode(b->buf + b->n, s, len, URL_ENCODE_C0);
    }
    url_end(b, URL_HOSTNAME);
    return 0;
}

/* Writes port s[0..len) (digits; "" none) as the port, the scheme's
 * default dropped. -EINVAL on a bad port. */
static int url_port(struct url_build *b, const char *s, size_t len)
{
    const char *def = url_parts_default_port(b->scheme, b->scheme_len);
    unsigned long v = 0;
    char digits[8];
    size_t n = 0;

    url_begin(b, URL_PORT);
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v > 65535)
            return -EINVAL;
    }
    if (len > 0) {
        do {
            digits[n++] = (char)('0' + v % 10);
            v /= 10;
        } while (v > 0);
        while (n > 0)
            b->buf[b->n++] = digits[--n];
    }
    if (def != NULL && b->buf + b->n - b->u->v[URL_PORT] ==
        (ptrdiff_t)strlen(def) && memcmp(b->u->v[URL_PORT], def,
                                         strlen(def)) == 0)
        b->n = (size_t)(b->u->v[URL_PORT] - b->buf);
    url_end(b, URL_PORT);
    return 0;
}

/* Parses authority s[0..len): userinfo, host, port. */
static int url_authority(struct url_build *b, const char *s, size_t len)
{
    const char *at = NULL, *colon, *hp;
    size_t hlen;

    for (size_t i = 0; i < len; i++)
        if (s[i] == '@')
            at = s + i;
    if (at != NULL) {
        const char *c = memchr(s, ':', (size_t)(at - s));
        size_t ulen = c != NULL ? (size_t)(c - s) : (size_t)(at - s);

        url_put(b, URL_USERNAME, s, ulen, URL_ENCODE_USERINFO);
        url_put(b, URL_PASSWORD, c != NULL ? c + 1 : at,
                c != NULL ? (size_t)(at - c - 1) : 0, URL_ENCODE_USERINFO);
        hp = at + 1;
    } else {
        url_put(b, URL_USERNAME, s, 0, URL_ENCODE_USERINFO);
        url_put(b, URL_PASSWORD, s, 0, URL_ENCODE_USERINFO);
        hp = s;
    }
    hlen = (size_t)(s + len - hp);
    colon = NULL;
    if (hlen > 0 && hp[0] == '[') {
        const char *close = memchr(hp, ']', hlen);

        if (close == NULL)
            return -EINVAL;
        if (close + 1 < hp + hlen && close[1] != ':')
            return -EINVAL;
        colon = close + 1 < hp + hlen ? close + 1 : NULL;
    } else {
        colon = memchr(hp, ':', hlen);
    }
    if (url_host(b, hp, colon != NULL ? (size_t)(colon - hp) : hlen) < 0)
        return -EINVAL;
    if (colon != NULL)
        return url_port(b, colon + 1, (size_t)(hp + hlen - colon - 1));
    return url_port(b, hp, 0);
}

/* Writes search and hash from rest s[0..len) (starting at '?', '#' or
 * its end); "" for what is absent. */
static void url_tail(struct url_build *b, const char *s, size_t len)
{
    const char *hash = memchr(s, '#', len);
    size_t qend = hash != NULL ? (size_t)(hash - s) : len;

    if (qend > 0 && s[0] == '?')
        url_put(b, URL_SEARCH, s + 1, qend - 1, b->special ?
                URL_ENCODE_SPECIAL_QUERY : URL_ENCODE_QUERY);
    else
        url_put(b, URL_SEARCH, s, 0, URL_ENCODE_QUERY);
    if (hash != NULL)
        url_put(b, URL_HASH, hash + 1, (size_t)(s + len - hash - 1),
                URL_ENCODE_FRAGMENT);
    else
        url_put(b, URL_HASH, s, 0, URL_ENCODE_FRAGMENT);
}

/* Length of the path in s[0..len): up to '?' or '#'. */
static size_t url_path_len(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len && s[i] != '?' && s[i] != '#')
        i++;
    return i;
}

/* Parses what follows "scheme:" (or a scheme-relative "//..."): an
 * authority and a path, or an opaque path; then search and hash. */
static int url_hier(struct url_build *b, const char *s, size_t len)
{
    bool file = b->scheme_len == 4 && memcmp(b->scheme, "file", 4) == 0;
    size_t i = 0, a, p;

    if (file && len >= 2 && url_is_slash(b, s[0]) && url_is_slash(b, s[1])) {
        i = 2;
    } else if (b->special && !file) {
        while (i < len && url_is_slash(b, s[i]))
            i++;
    } else if (!file && len >= 2 && s[0] == '/' && s[1] == '/') {
        i = 2;
    } else if (file) {
        p = url_path_len(s, len);
        for (int k = URL_USERNAME; k <= URL_PORT; k++)
            url_put(b, (enum url_part)k, s, 0, URL_ENCODE_C0);
        url_path(b, s, p);
        url_tail(b, s + p, len - p);
        return 0;
    } else {
        p = url_path_len(s, len);
        for (int k = URL_USERNAME; k <= URL_PORT; k++)
            url_put(b, (enum url_part)k, s, 0, URL_ENCODE_C0);
        b->u->opaque_path = len == 0 || s[0] != '/';
        if (b->u->opaque_path)
            url_put(b, URL_PATHNAME, s, p, URL_ENCODE_C0);
        else
            url_path(b, s, p);
        url_tail(b, s + p, len - p);
        return 0;
    }
    a = i;
    while (a < len && !url_is_slash(b, s[a]) && s[a] != '?' && s[a] != '#')
        a++;
    if (url_authority(b, s + i, a - i) < 0)
        return -EINVAL;
    p = a + url_path_len(s + a, len - a);
    if (p > a || b->special)
        url_path(b, s + a, p - a);
    else
        url_put(b, URL_PATHNAME, s, 0, URL_ENCODE_PATH);
    url_tail(b, s + p, len - p);
    return 0;
}

/* Parses relative reference s[0..len) against base. */
static int url_relative(struct url_build *b, const char *s, size_t len,
                        const struct url_parts *base)
{
    size_t p;

    if (len >= 2 && url_is_slash(b, s[0]) && url_is_slash(b, s[1]))
        return url_hier(b, s, len);
    if (base->opaque_path && (len == 0 || s[0] != '#'))
        return -EINVAL;
    for (int k = URL_USERNAME; k <= URL_PORT; k++)
        url_copy(b, (enum url_part)k, base);
    b->u->opaque_path = base->opaque_path;
    if (len == 0 || s[0] == '#' || s[0] == '?') {
        url_copy(b, URL_PATHNAME, base);
        if (len > 0 && s[0] == '#') {
            url_copy(b, URL_SEARCH, base);
            url_put(b, URL_HASH, s + 1, len - 1, URL_ENCODE_FRAGMENT);
        } else {
            url_tail(b, s, len);
        }
        return 0;
    }
    p = url_path_len(s, len);
    if (url_is_slash(b, s[0])) {
        url_path(b, s, p);
    } else {
        /* base's directory + s's path, resolved in place: the merged
         * path is written first as scratch past the builder's end */
        const char *bp = base->v[URL_PATHNAME];
        size_t dir = base->len[URL_PATHNAME];
        char *m = b->buf + b->n + 4 * (len + dir) + 8;

        while (dir > 0 && bp[dir - 1] != '/')
            dir--;
        assert(m + dir + p + 1 < b->buf + b->cap);
        m[0] = '/';
        memcpy(m + (dir > 0 ? 0 : 1), bp, dir);
        memcpy(m + (dir > 0 ? dir : 1), s, p);
        url_path(b, m, (dir > 0 ? dir : 1) + p);
    }
    url_tail(b, s + p, len - p);
    return 0;
}

/* The length of the scheme at the start of s[0..len) (before its ':'),
 * 0 when it has none. */
static size_t url_scheme_len(const char *s, size_t len)
{
    size_t i = 0;

    if (len == 0 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
        return 0;
    while (i < len && s[i] != ':') {
        char c = s[i];

        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') &&
            !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.')
            return 0;
        i++;
    }
    return i < len ? i : 0;
}

/* Copies s[0..len) into clean without leading and trailing C0 controls
 * and spaces, and without tabs and newlines; the new length. */
static size_t url_clean(char *clean, const char *s, size_t len)
{
    size_t n = 0;

    while (len > 0 && (unsigned char)s[0] <= 0x20) {
        s++;
        len--;
    }
    while (len > 0 && (unsigned char)s[len - 1] <= 0x20)
        len--;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            clean[n++] = s[i];
    return n;
}

int url_parts_parse(struct url_parts *u, const char *in, size_t in_len,
                    const struct url_parts *base)
{
    struct url_build b = { .u = u };
    size_t len, sl, extra = 0;
    char *s;
    int rc;

    memset(u, 0, sizeof(*u));
    if (base != NULL)
        for (int k = 0; k < URL_PARTS; k++)
            extra += base->len[k];
    b.cap = 6 * (in_len + extra) + 64;
    s = malloc(in_len + 1);
    b.buf = u->buf = malloc(b.cap);
    if (s == NULL || b.buf == NULL) {
        free(s);
        url_parts_free(u);
        return -ENOMEM;
    }
    len = url_clean(s, in, in_len);
    sl = url_scheme_len(s, len);
    url_begin(&b, URL_PROTOCOL);
    if (sl > 0) {
        for (size_t i = 0; i < sl; i++)
            b.buf[b.n++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] | 0x20
                                                               : s[i]);
    } else if (base != NULL) {
        memcpy(b.buf, base->v[URL_PROTOCOL], base->len[URL_PROTOCOL]);
        b.n = base->len[URL_PROTOCOL];
    }
    url_end(&b, URL_PROTOCOL);
    b.scheme = u->v[URL_PROTOCOL];
    b.scheme_len = u->len[URL_PROTOCOL];
    b.special = url_parts_special(b.scheme, b.scheme_len);
    if (sl > 0)
        rc = url_hier(&b, s + sl + 1, len - sl - 1);
    else
        rc = base != NULL ? url_relative(&b, s, len, base) : -EINVAL;
    free(s);
    if (rc < 0)
        url_parts_free(u);
    return rc;
}

void url_parts_free(struct url_parts *u)
{
    free(u->buf);
    memset(u, 0, sizeof(*u));
}
