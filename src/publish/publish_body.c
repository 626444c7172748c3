/* publish_body.c -- Content-Type dispatch and the three body parsers of
 * sseq-publish. JSON is read by the shared strict reader (json_in.h)
 * for one object; strings are decoded into the caller's scratch buffer
 * and any other data value is written there as compact JSON.
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
#include "base/json_in.h"
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

/* A JSON body being read: the cursor and the scratch written so far. */
struct publish_json {
    struct json_in in;
    char *scratch;
    size_t used, cap;           /* scratch bytes written, its size */
};

/* Sets the reason "malformed JSON body: what at byte N" from the
 * reader's failure (or what); returns -EINVAL. */
static int publish_json_fail(struct publish_json *pj, struct publish_body *b,
                             const char *what)
{
    if (what != NULL)
        json_in_fail(&pj->in, what);
    publish_body_why(b->why, sizeof(b->why),
                     "malformed JSON body: %s at byte %zu",
                     pj->in.why ? pj->in.why : "bad value", pj->in.pos);
    return -EINVAL;
}

/* Reads the value at the cursor into scratch: a string decoded, else
 * its compact JSON text, or when not_string is set that refusal. *val
 * and *len point at what was written. */
static int publish_json_take(struct publish_json *pj, struct publish_body *b,
                             const char *not_string, const char **val,
                             size_t *len)
{
    char *start = pj->scratch + pj->used;
    size_t room = pj->cap - pj->used, n = 0;
    bool nul;
    int rc;

    if (json_in_at(&pj->in, '"'))
        rc = json_in_string(&pj->in, start, room, &n, &nul);
    else if (not_string == NULL)
        rc = json_in_value(&pj->in, start, room, &n);
    else
        return publish_json_fail(pj, b, not_string);
    if (rc < 0)
        return publish_json_fail(pj, b, NULL);
    *val = start;
    *len = n;
    pj->used += n;
    return 0;
}

/* Reads the value of "data": a string's value, else compact JSON text. */
static int publish_json_data(struct publish_json *pj, struct publish_body *b)
{
    if (b->data != NULL)
        return publish_json_fail(pj, b, "duplicate \"data\"");
    return publish_json_take(pj, b, NULL, &b->data, &b->data_len);
}

/* Reads the value of "event": a string, or null for none. */
static int publish_json_event(struct publish_json *pj,
                              struct publish_body *b)
{
    if (b->event != NULL)
        return publish_json_fail(pj, b, "duplicate \"event\"");
    if (json_in_word(&pj->in, "null"))
        return 0;
    return publish_json_take(pj, b, "\"event\" is not a string",
                             &b->event, &b->event_len);
}

/* Reads the value of "private": true or false. */
static int publish_json_private(struct publish_json *pj,
                                struct publish_body *b, bool *seen)
{
    if (*seen)
        return publish_json_fail(pj, b, "duplicate \"private\"");
    *seen = true;
    if (json_in_word(&pj->in, "true")) {
        b->private_ = true;
        return 0;
    }
    if (json_in_word(&pj->in, "false"))
        return 0;
    return publish_json_fail(pj, b, "\"private\" is not true or false");
}

/* Reads the value of the member named key; others are checked and
 * skipped. */
static int publish_json_member(struct publish_json *pj, const char *key,
                               struct publish_body *b, bool *seen_private)
{
    if (strcmp(key, "data") == 0)
        return publish_json_data(pj, b);
    if (strcmp(key, "event") == 0)
        return publish_json_event(pj, b);
    if (strcmp(key, "private") == 0)
        return publish_json_private(pj, b, seen_private);
    if (json_in_value(&pj->in, NULL, 0, NULL) < 0)
        return publish_json_fail(pj, b, NULL);
    return 0;
}

/* One object, nothing after it but whitespace; the whole body UTF-8. */
static int publish_body_json(const char *body, size_t len, char *scratch,
                             struct publish_body *b)
{
    struct publish_json pj = { .scratch = scratch, .cap = len };
    bool first = true, seen_private = false;
    char key[8];
    int rc;

    json_in_init(&pj.in, body, len, PUBLISH_BODY_JSON_DEPTH);
    if (json_in_object_open(&pj.in) < 0)
        return publish_json_fail(&pj, b, NULL);
    while ((rc = json_in_object_next(&pj.in, &first, key, sizeof(key))) == 1)
        if (publish_json_member(&pj, key, b, &seen_private) < 0)
            return -EINVAL;
    if (rc < 0 || json_in_end(&pj.in) < 0)
        return publish_json_fail(&pj, b, NULL);
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
    /* RFC 8259 section 8.1, as for a JWT: the whole text is UTF-8, the
     * members skipped too. */
    if (type == PUBLISH_BODY_JSON && !util_utf8_valid(body, len)) {
        publish_body_why(out->why, sizeof(out->why),
                         "JSON body is not valid UTF-8");
        return -EINVAL;
    }
    return 0;
}
