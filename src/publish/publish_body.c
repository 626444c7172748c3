/* publish_body.c -- Content-Type dispatch and the three body parsers of
 * sseq-publish. The JSON parser is a strict recursive-descent reader of
 * RFC 8259 text for one object; it decodes strings into the caller's
 * scratch buffer and writes any other data value there as compact JSON.
 * Key invariant: the scratch write position never passes the read position
 * (every decoding is no longer than its source), so scratch of len bytes
 * always suffices. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "publish/publish_body.h"
#include "base/query.h"
#include "base/util.h"

struct publish_body_media {
    const char *name;
    enum publish_body_type type;
};

/* The media types sseq-publish reads. */
static const struct publish_body_media publish_body_medias[] = {
    { "text/plain", PUBLISH_BODY_TEXT },
    { "application/x-www-form-urlencoded", PUBLISH_BODY_FORM },
    { "application/json", PUBLISH_BODY_JSON },
};

static void publish_body_why(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes a one-line reason (cut to cap). */
static void publish_body_why(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

static bool publish_body_is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether s[0..len), without optional quotes, names UTF-8. */
static bool publish_body_charset_utf8(const char *s, size_t len)
{
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    return (len == 5 && strncasecmp(s, "utf-8", 5) == 0) ||
           (len == 4 && strncasecmp(s, "utf8", 4) == 0);
}

/* Checks the ";name=value" parameters after the media type: a charset
 * must be UTF-8. 0 or -EILSEQ with why set. */
static int publish_body_params(const char *p, char *why, size_t cap)
{
    while (*p != '\0') {
        const char *name, *val, *end;
        size_t nlen;

        while (*p == ';' || publish_body_is_ws(*p))
            p++;
        name = p;
        while (*p != '\0' && *p != '=' && *p != ';')
            p++;
        nlen = (size_t)(p - name);
        while (nlen > 0 && publish_body_is_ws(name[nlen - 1]))
            nlen--;
        if (*p != '=')
            continue;
        val = ++p;
        while (publish_body_is_ws(*val))
            val++;
        end = strchr(val, ';');
        if (end == NULL)
            end = val + strlen(val);
        p = end;
        while (end > val && publish_body_is_ws(end[-1]))
            end--;
        if (nlen == 7 && strncasecmp(name, "charset", 7) == 0 &&
            !publish_body_charset_utf8(val, (size_t)(end - val))) {
            publish_body_why(why, cap, "unsupported charset \"%.*s\": "
                             "only utf-8 is accepted",
                             (int)(end - val > 40 ? 40 : end - val), val);
            return -EILSEQ;
        }
    }
    return 0;
}

int publish_body_type(const char *content_type, char *why, size_t cap)
{
    const char *p = content_type, *end;
    size_t len, i;

    if (p == NULL || *p == '\0') {
        publish_body_why(why, cap, "missing Content-Type: use text/plain, "
                         "application/x-www-form-urlencoded or "
                         "application/json");
        return -EPROTONOSUPPORT;
    }
    while (publish_body_is_ws(*p))
        p++;
    end = strchr(p, ';');
    if (end == NULL)
        end = p + strlen(p);
    len = (size_t)(end - p);
    while (len > 0 && publish_body_is_ws(p[len - 1]))
        len--;
    for (i = 0; i < sizeof(publish_body_medias) /
                    sizeof(publish_body_medias[0]); i++) {
        const struct publish_body_media *m = &publish_body_medias[i];

        if (strlen(m->name) == len && strncasecmp(m->name, p, len) == 0)
            return publish_body_params(end, why, cap) < 0 ? -EILSEQ
                                                          : (int)m->type;
    }
    publish_body_why(why, cap, "unsupported Content-Type \"%.*s\": use "
                     "text/plain, application/x-www-form-urlencoded or "
                     "application/json", (int)(len > 60 ? 60 : len), p);
    return -EPROTONOSUPPORT;
}

size_t publish_body_limit(enum publish_body_type type, size_t max_data)
{
    if (type == PUBLISH_BODY_TEXT)
        return max_data;
    if (max_data > (SIZE_MAX - 4096) / 3)
        return SIZE_MAX;
    return 3 * max_data + 4096;
}

/* ---- application/x-www-form-urlencoded ---- */

/* Decodes one form field value into *out (advanced); field names it. */
static int publish_body_form_field(const struct query_pair *qp,
                                   const char *field, char **out,
                                   const char **val, size_t *val_len,
                                   struct publish_body *b)
{
    long n;

    if (*val != NULL) {
        publish_body_why(b->why, sizeof(b->why),
                         "malformed form body: duplicate %s= field", field);
        return -EINVAL;
    }
    n = util_url_decode(*out, qp->val, qp->val_len, true);
    if (n < 0) {
        publish_body_why(b->why, sizeof(b->why), "malformed form body: bad "
                         "percent escape in the %s= field", field);
        return -EINVAL;
    }
    *val = *out;
    *val_len = (size_t)n;
    *out += n;
    return 0;
}

/* data=...&event=...; other fields are ignored. */
static int publish_body_form(const char *body, size_t len, char *scratch,
                             struct publish_body *b)
{
    struct query_pair qp;
    size_t pos = 0;
    char *out = scratch;
    int rc;

    while (query_next(body, len, &pos, &qp)) {
        if (query_key_is(&qp, "data"))
            rc = publish_body_form_field(&qp, "data", &out, &b->data,
                                         &b->data_len, b);
        else if (query_key_is(&qp, "event"))
            rc = publish_body_form_field(&qp, "event", &out, &b->event,
                                         &b->event_len, b);
        else {
            if (query_key_is(&qp, "private"))
                b->private_ = true;
            rc = 0;
        }
        if (rc < 0)
            return rc;
    }
    if (b->data == NULL) {
        publish_body_why(b->why, sizeof(b->why),
                         "malformed form body: no data= field");
        return -EINVAL;
    }
    return 0;
}

/* ---- application/json ---- */

struct json {
    const char *s, *p, *end;    /* input, read position, end */
    char *out;                  /* scratch write position */
    struct publish_body *b;     /* where the reason goes */
};

/* Sets the reason "malformed JSON body: what at byte N"; returns -EINVAL. */
static int json_fail(struct json *j, const char *what)
{
    publish_body_why(j->b->why, sizeof(j->b->why),
                     "malformed JSON body: %s at byte %zu", what,
                     (size_t)(j->p - j->s));
    return -EINVAL;
}

static void json_ws(struct json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
                             *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Whether the next byte is c (false at the end). */
static bool json_at(const struct json *j, char c)
{
    return j->p < j->end && *j->p == c;
}

/* Reads 4 hex digits after "\u". 0 or -EINVAL. */
static int json_hex4(struct json *j, unsigned *u)
{
    int i;

    *u = 0;
    for (i = 0; i < 4; i++, j->p++) {
        char c = j->p < j->end ? *j->p : '\0';
        unsigned d;

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (unsigned)((c | 0x20) - 'a' + 10);
        else
            return json_fail(j, "bad \\u escape");
        *u = *u << 4 | d;
    }
    return 0;
}

/* Writes code point u as UTF-8 at *dst (if dst) and advances it. */
static void json_put_utf8(char **dst, unsigned u)
{
    unsigned char b[4];
    int n, i;

    if (u < 0x80) {
        b[0] = (unsigned char)u; n = 1;
    } else if (u < 0x800) {
        b[0] = (unsigned char)(0xc0 | u >> 6);
        b[1] = (unsigned char)(0x80 | (u & 0x3f)); n = 2;
    } else if (u < 0x10000) {
        b[0] = (unsigned char)(0xe0 | u >> 12);
        b[1] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
        b[2] = (unsigned char)(0x80 | (u & 0x3f)); n = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | u >> 18);
        b[1] = (unsigned char)(0x80 | (u >> 12 & 0x3f));
        b[2] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
        b[3] = (unsigned char)(0x80 | (u & 0x3f)); n = 4;
    }
    if (dst == NULL)
        return;
    for (i = 0; i < n; i++)
        *(*dst)++ = (char)b[i];
}

/* Reads the "\uXXXX" escape (p after the 'u'), joining surrogate pairs;
 * a lone surrogate is refused. 0 or -EINVAL. */
static int json_unicode(struct json *j, char **dst)
{
    unsigned hi, lo;

    if (json_hex4(j, &hi) < 0)
        return -EINVAL;
    if (hi >= 0xdc00 && hi <= 0xdfff)
        return json_fail(j, "lone low surrogate");
    if (hi >= 0xd800 && hi <= 0xdbff) {
        if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
            return json_fail(j, "lone high surrogate");
        j->p += 2;
        if (json_hex4(j, &lo) < 0)
            return -EINVAL;
        if (lo < 0xdc00 || lo > 0xdfff)
            return json_fail(j, "lone high surrogate");
        hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    }
    json_put_utf8(dst, hi);
    return 0;
}

/* The byte an escape letter stands for, or -1. */
static int json_escape_byte(char c)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *f = c != '\0' ? strchr(from, c) : NULL;

    return f ? to[f - from] : -1;
}

/* Reads a string (p at '"'), decoding it to *dst (advanced) if dst is not
 * NULL. Raw bytes are copied; UTF-8 is checked by the caller. */
static int json_string(struct json *j, char **dst)
{
    j->p++;
    for (;;) {
        unsigned char c;
        int e;

        if (j->p >= j->end)
            return json_fail(j, "unterminated string");
        c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            return 0;
        }
        if (c < 0x20)
            return json_fail(j, "control character in string");
        j->p++;
        if (c != '\\') {
            if (dst)
                *(*dst)++ = (char)c;
            continue;
        }
        if (j->p >= j->end)
            return json_fail(j, "unterminated string");
        if (*j->p == 'u') {
            j->p++;
            if (json_unicode(j, dst) < 0)
                return -EINVAL;
            continue;
        }
        e = json_escape_byte(*j->p);
        if (e < 0)
            return json_fail(j, "bad escape");
        j->p++;
        if (dst)
            *(*dst)++ = (char)e;
    }
}

/* Skips a run of digits; false if there is none. */
static bool json_digits(struct json *j)
{
    const char *start = j->p;

    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > start;
}

/* Reads a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(struct json *j)
{
    if (json_at(j, '-'))
        j->p++;
    if (json_at(j, '0'))
        j->p++;
    else if (!json_digits(j))
        return json_fail(j, "bad number");
    if (json_at(j, '.')) {
        j->p++;
        if (!json_digits(j))
            return json_fail(j, "bad number");
    }
    if (json_at(j, 'e') || json_at(j, 'E')) {
        j->p++;
        if (json_at(j, '+') || json_at(j, '-'))
            j->p++;
        if (!json_digits(j))
            return json_fail(j, "bad number");
    }
    return 0;
}

/* Reads true, false or null. */
static int json_literal(struct json *j)
{
    static const char *const words[] = { "true", "false", "null" };
    size_t i;

    for (i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);

        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0) {
            j->p += n;
            return 0;
        }
    }
    return json_fail(j, "unexpected character");
}

static int json_value(struct json *j, int depth, char **dst);

/* Reads an array or object (p at '[' or '{'), elements separated by ','. */
static int json_container(struct json *j, int depth, char **dst)
{
    char close = *j->p == '[' ? ']' : '}';
    bool object = close == '}';

    if (depth >= PUBLISH_BODY_JSON_DEPTH)
        return json_fail(j, "nesting too deep");
    if (dst)
        *(*dst)++ = *j->p;
    j->p++;
    json_ws(j);
    if (json_at(j, close))
        goto done;
    for (;;) {
        if (object) {
            if (!json_at(j, '"'))
                return json_fail(j, "expected a member name");
            if (json_value(j, depth + 1, dst) < 0)
                return -EINVAL;
            json_ws(j);
            if (!json_at(j, ':'))
                return json_fail(j, "expected ':'");
            if (dst)
                *(*dst)++ = ':';
            j->p++;
            json_ws(j);
        }
        if (json_value(j, depth + 1, dst) < 0)
            return -EINVAL;
        json_ws(j);
        if (json_at(j, close))
            break;
        if (!json_at(j, ','))
            return json_fail(j, object ? "expected ',' or '}'"
                                       : "expected ',' or ']'");
        if (dst)
            *(*dst)++ = ',';
        j->p++;
        json_ws(j);
    }
done:
    if (dst)
        *(*dst)++ = close;
    j->p++;
    return 0;
}

/* Reads any value (p at its first byte), writing its compact text to *dst
 * (advanced) if dst is not NULL. */
static int json_value(struct json *j, int depth, char **dst)
{
    const char *start = j->p;
    int rc;

    if (j->p >= j->end)
        return json_fail(j, "unexpected end");
    switch (*j->p) {
    case '{':
    case '[':
        return json_container(j, depth, dst);
    case '"':
        rc = json_string(j, NULL);
        break;
    case 't':
    case 'f':
    case 'n':
        rc = json_literal(j);
        break;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        rc = json_number(j);
        break;
    default:
        return json_fail(j, "unexpected character");
    }
    if (rc == 0 && dst) {
        memcpy(*dst, start, (size_t)(j->p - start));
        *dst += j->p - start;
    }
    return rc;
}

/* Reads the value of "data": a string's value, else compact JSON text. */
static int json_member_data(struct json *j, struct publish_body *b)
{
    char *start = j->out;
    int rc;

    if (b->data != NULL)
        return json_fail(j, "duplicate \"data\"");
    if (json_at(j, '"'))
        rc = json_string(j, &j->out);
    else
        rc = json_value(j, 1, &j->out);
    if (rc < 0)
        return rc;
    b->data = start;
    b->data_len = (size_t)(j->out - start);
    return 0;
}

/* Reads the value of "event": a string, or null for none. */
static int json_member_event(struct json *j, struct publish_body *b)
{
    char *start = j->out;

    if (b->event != NULL)
        return json_fail(j, "duplicate \"event\"");
    if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
        j->p += 4;
        return 0;
    }
    if (!json_at(j, '"'))
        return json_fail(j, "\"event\" is not a string");
    if (json_string(j, &j->out) < 0)
        return -EINVAL;
    b->event = start;
    b->event_len = (size_t)(j->out - start);
    return 0;
}

/* Reads the value of "private": true or false. */
static int json_member_private(struct json *j, struct publish_body *b,
                               bool *seen)
{
    if (*seen)
        return json_fail(j, "duplicate \"private\"");
    *seen = true;
    if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
        j->p += 4;
        b->private_ = true;
        return 0;
    }
    if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
        j->p += 5;
        return 0;
    }
    return json_fail(j, "\"private\" is not true or false");
}

/* Reads one member "name": value of the top-level object. */
static int json_member(struct json *j, struct publish_body *b,
                       bool *seen_private)
{
    char *key = j->out, *kend = j->out;
    size_t klen;

    if (!json_at(j, '"'))
        return json_fail(j, "expected a member name");
    if (json_string(j, &kend) < 0)       /* decoded at out, not kept */
        return -EINVAL;
    klen = (size_t)(kend - key);
    json_ws(j);
    if (!json_at(j, ':'))
        return json_fail(j, "expected ':'");
    j->p++;
    json_ws(j);
    if (klen == 4 && memcmp(key, "data", 4) == 0)
        return json_member_data(j, b);
    if (klen == 5 && memcmp(key, "event", 5) == 0)
        return json_member_event(j, b);
    if (klen == 7 && memcmp(key, "private", 7) == 0)
        return json_member_private(j, b, seen_private);
    return json_value(j, 1, NULL);
}

/* One object, nothing after it but whitespace. */
static int publish_body_json(const char *body, size_t len, char *scratch,
                             struct publish_body *b)
{
    struct json j = { body, body, body + len, scratch, b };
    bool seen_private = false;

    json_ws(&j);
    if (!json_at(&j, '{'))
        return json_fail(&j, "expected '{'");
    j.p++;
    json_ws(&j);
    while (!json_at(&j, '}')) {
        if (json_member(&j, b, &seen_private) < 0)
            return -EINVAL;
        json_ws(&j);
        if (json_at(&j, '}'))
            break;
        if (!json_at(&j, ','))
            return json_fail(&j, "expected ',' or '}'");
        j.p++;
        json_ws(&j);
        if (json_at(&j, '}'))
            return json_fail(&j, "expected a member name");
    }
    j.p++;
    json_ws(&j);
    if (j.p != j.end)
        return json_fail(&j, "trailing data after the object");
    if (b->data == NULL) {
        publish_body_why(b->why, sizeof(b->why),
                         "malformed JSON body: no \"data\" member");
        return -EINVAL;
    }
    return 0;
}

/* ---- all types ---- */

int publish_body_parse(enum publish_body_type type, const char *body,
                       size_t len, char *scratch, struct publish_body *out)
{
    int rc = 0;

    memset(out, 0, sizeof(*out));
    switch (type) {
    case PUBLISH_BODY_TEXT:
        out->data = body;
        out->data_len = len;
        break;
    case PUBLISH_BODY_FORM:
        rc = publish_body_form(body, len, scratch, out);
        break;
    case PUBLISH_BODY_JSON:
        rc = publish_body_json(body, len, scratch, out);
        break;
    default:
        publish_body_why(out->why, sizeof(out->why), "unknown body type");
        return -EINVAL;
    }
    if (rc < 0)
        return rc;
    if (!util_utf8_valid(out->data, out->data_len)) {
        publish_body_why(out->why, sizeof(out->why),
                         "data is not valid UTF-8");
        return -EINVAL;
    }
    if (out->event && !util_utf8_valid(out->event, out->event_len)) {
        publish_body_why(out->why, sizeof(out->why),
                         "event is not valid UTF-8");
        return -EINVAL;
    }
    return 0;
}
