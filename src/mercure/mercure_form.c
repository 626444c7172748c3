/* mercure_form.c -- the Mercure publish form (see mercure_form.h): one
 * pass over the pairs, each known field decoded into scratch and checked.
 * Key invariant: the scratch write position never passes the read
 * position (a decoded value is no longer than its source), so scratch of
 * len bytes suffices. */
#include "ac_config.h"

#include "mercure/mercure_form.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/query.h"
#include "mercure/mercure_text.h"
#include "mercure/url_parts.h"
#include "queue/queue_msg.h"
#include "base/util.h"

static int mercure_form_fail(struct mercure_form *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets the reason; returns -EINVAL. */
static int mercure_form_fail(struct mercure_form *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(f->why, sizeof(f->why), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Decodes the pair's value at *out (advanced) into *val, *vlen and checks
 * it is UTF-8. 0 or -EINVAL naming field. */
static int mercure_form_value(struct mercure_form *f,
                              const struct query_pair *qp, const char *field,
                              char **out, const char **val, size_t *vlen)
{
    long n = util_url_decode(*out, qp->val, qp->val_len, true);

    if (n < 0)
        return mercure_form_fail(f, "malformed form body: bad percent "
                                 "escape in the %s= field", field);
    if (!util_utf8_valid(*out, (size_t)n))
        return mercure_form_fail(f, "the %s= field is not valid UTF-8",
                                 field);
    *val = *out;
    *vlen = (size_t)n;
    *out += n;
    return 0;
}

/* Mercure's character rule (mercure_text.h) on field's value v[0..n):
 * 0, or -EINVAL naming the field, the value and the character. */
static int mercure_form_text(struct mercure_form *f, const char *field,
                             const char *v, size_t n)
{
    char q[100], what[160];
    size_t at = 0;
    uint32_t cp = 0;
    int rc = mercure_text_check(v, n, &at, &cp);

    if (rc == 0)
        return 0;
    return mercure_form_fail(f, "bad %s= \"%s\": %s", field,
                             util_quote(q, sizeof(q), v, n),
                             mercure_text_describe(rc, at, cp, what,
                                                   sizeof(what)));
}

/* One topic= field: canonical or alternate. */
static int mercure_form_topic(struct mercure_form *f,
                              const struct query_pair *qp, size_t topic_max,
                              char **out)
{
    const char *t;
    size_t tlen;

    if (f->n_topic == MERCURE_FORM_TOPICS_MAX)
        return mercure_form_fail(f, "too many topic= fields: at most %u "
                                 "(a topic and %u alternates)",
                                 MERCURE_FORM_TOPICS_MAX, QUEUE_TOPICS_MAX);
    if (mercure_form_value(f, qp, "topic", out, &t, &tlen) < 0)
        return -EINVAL;
    if (tlen == 0)
        return mercure_form_fail(f, "empty topic= field");
    if (tlen > topic_max)
        return mercure_form_fail(f, "topic of %zu bytes is over "
                                 "mercure.topic_max %zu", tlen, topic_max);
    if (queue_msg_topic_check(t, tlen) < 0)
        return mercure_form_fail(f, "bad topic=: %s",
                                 queue_msg_rule(QUEUE_MSG_CHANNEL));
    if (mercure_form_text(f, "topic", t, tlen) < 0)
        return -EINVAL;
    if (tlen == 1 && t[0] == '*')
        return mercure_form_fail(f, "topic %zu is \"*\", reserved for the "
                                 "wildcard matcher (Mercure 1.0): no update "
                                 "may be published to it", f->n_topic + 1);
    f->topic[f->n_topic] = t;
    f->topic_len[f->n_topic++] = tlen;
    return 0;
}

/* A single-valued field (data, id, type): refused when given twice. */
static int mercure_form_once(struct mercure_form *f,
                             const struct query_pair *qp, const char *field,
                             bool *seen, char **out, const char **val,
                             size_t *vlen)
{
    if (*seen)
        return mercure_form_fail(f, "malformed form body: duplicate %s= "
                                 "field", field);
    *seen = true;
    return mercure_form_value(f, qp, field, out, val, vlen);
}

/* retry=: decimal digits only, at most UINT32_MAX. */
static int mercure_form_retry(struct mercure_form *f,
                              const struct query_pair *qp, bool *seen)
{
    uint64_t v = 0;
    size_t i;

    if (*seen)
        return mercure_form_fail(f, "malformed form body: duplicate "
                                 "retry= field");
    *seen = true;
    if (qp->val_len == 0 || qp->val_len > 10)
        return mercure_form_fail(f, "bad retry=: 1 to 10 decimal digits "
                                 "(milliseconds)");
    for (i = 0; i < qp->val_len; i++) {
        if (qp->val[i] < '0' || qp->val[i] > '9')
            return mercure_form_fail(f, "bad retry=: decimal digits only "
                                     "(milliseconds)");
        v = v * 10 + (uint64_t)(qp->val[i] - '0');
    }
    if (v > UINT32_MAX)
        return mercure_form_fail(f, "retry= %llu is over %lu",
                                 (unsigned long long)v,
                                 (unsigned long)UINT32_MAX);
    f->retry_ms = (uint32_t)v;
    return 0;
}

/* Checks the optional id and type once the body is read, by the queue's
 * rule (queue_msg.h), then Mercure's character rule; the type "mercure"
 * is the hub's own (subscription events). */
static int mercure_form_fields(struct mercure_form *f)
{
    if (f->id_len > 0 && queue_msg_pub_id_check(f->id, f->id_len) < 0)
        return mercure_form_fail(f, "bad id=: %s",
                                 queue_msg_rule(QUEUE_MSG_PUB_ID));
    if (f->id_len > 0 && mercure_form_text(f, "id", f->id, f->id_len) < 0)
        return -EINVAL;
    if (f->type_len > 0 && queue_msg_event_check(f->type, f->type_len) < 0)
        return mercure_form_fail(f, "bad type=: %s",
                                 queue_msg_rule(QUEUE_MSG_EVENT));
    if (f->type_len > 0 &&
        mercure_form_text(f, "type", f->type, f->type_len) < 0)
        return -EINVAL;
    if (f->type_len == sizeof(MERCURE_FORM_HUB_TYPE) - 1 &&
        memcmp(f->type, MERCURE_FORM_HUB_TYPE, f->type_len) == 0)
        return mercure_form_fail(f, "bad type= \"%s\": reserved for the "
                                 "hub's own events (subscription events, "
                                 "Mercure 1.0)", MERCURE_FORM_HUB_TYPE);
    if (f->n_topic == 0)
        return mercure_form_fail(f, "no topic= field");
    return 0;
}

int mercure_form_parse(const char *body, size_t len, size_t topic_max,
                       char *scratch, struct mercure_form *f)
{
    bool seen_data = false, seen_id = false, seen_type = false;
    bool seen_retry = false;
    struct query_pair qp;
    size_t pos = 0;
    char *out = scratch;
    int rc = 0;

    memset(f, 0, sizeof(*f));
    f->data = "";
    if (topic_max > QUEUE_TOPIC_MAX)
        topic_max = QUEUE_TOPIC_MAX;
    while (rc == 0 && query_next(body, len, &pos, &qp)) {
        if (query_key_is(&qp, "topic"))
            rc = mercure_form_topic(f, &qp, topic_max, &out);
        else if (query_key_is(&qp, "data"))
            rc = mercure_form_once(f, &qp, "data", &seen_data, &out,
                                   &f->data, &f->data_len);
        else if (query_key_is(&qp, "id"))
            rc = mercure_form_once(f, &qp, "id", &seen_id, &out, &f->id,
                                   &f->id_len);
        else if (query_key_is(&qp, "type"))
            rc = mercure_form_once(f, &qp, "type", &seen_type, &out,
                                   &f->type, &f->type_len);
        else if (query_key_is(&qp, "retry"))
            rc = mercure_form_retry(f, &qp, &seen_retry);
        else if (query_key_is(&qp, "private"))
            f->private_ = true;
    }
    return rc < 0 ? rc : mercure_form_fields(f);
}

/* Whether c is an RFC 3986 unreserved character. */
static bool mercure_form_unreserved(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Decodes in place the %XX of path p[0..*n) that stand for unreserved
 * characters (RFC 3986 section 6.2.2.2); *n becomes the new length. */
static void mercure_form_decode_unreserved(char *p, size_t *n)
{
    size_t i, o = 0;

    for (i = 0; i < *n; i++) {
        int hi, lo;

        if (p[i] == '%' && i + 2 < *n &&
            (hi = util_hex((unsigned char)p[i + 1])) >= 0 &&
            (lo = util_hex((unsigned char)p[i + 2])) >= 0 &&
            mercure_form_unreserved(hi * 16 + lo)) {
            p[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            p[o++] = p[i];
        }
    }
    *n = o;
}

/* RFC 3986 section 5.2.4 remove_dot_segments on absolute path p[0..*n),
 * in place; *n becomes the new length. */
static void mercure_form_remove_dots(char *p, size_t *n)
{
    size_t i = 0, o = 0;

    while (i < *n) {
        size_t end = i + 1, seg;

        while (end < *n && p[end] != '/')
            end++;
        seg = end - i - 1;              /* p[i] is '/' */
        if (seg == 1 && p[i + 1] == '.') {
            if (end == *n)
                p[o++] = '/';
        } else if (seg == 2 && p[i + 1] == '.' && p[i + 2] == '.') {
            while (o > 0 && p[--o] != '/')
                ;
            if (end == *n)
                p[o++] = '/';
        } else {
            memmove(p + o, p + i, end - i);
            o += end - i;
        }
        i = end;
    }
    *n = o;
}

/* The normalized path of u (unreserved decoded, dot segments removed)
 * into a malloc'd *out (*n bytes); NULL when u's path is no absolute
 * path (an opaque one). -ENOMEM. */
static int mercure_form_norm_path(const struct url_parts *u, char **out,
                                  size_t *n)
{
    *out = NULL;
    *n = u->len[URL_PATHNAME];
    if (u->opaque_path || *n == 0 || u->v[URL_PATHNAME][0] != '/')
        return 0;
    *out = malloc(*n + 1);
    if (*out == NULL)
        return -ENOMEM;
    memcpy(*out, u->v[URL_PATHNAME], *n);
    mercure_form_decode_unreserved(*out, n);
    mercure_form_remove_dots(*out, n);
    return 0;
}

/* Whether path p[0..n) is hub path h[0..hn) or under it. */
static bool mercure_form_under(const char *p, size_t n, const char *h,
                               size_t hn)
{
    while (hn > 0 && h[hn - 1] == '/')
        hn--;
    return n >= hn && memcmp(p, h, hn) == 0 && (n == hn || p[hn] == '/');
}

/* Whether topic t[0..len), resolved against hub, addresses the hub's
 * path hp[0..hn). 1, 0, or -ENOMEM. */
static int mercure_form_topic_reserved(const char *t, size_t len,
                                       const struct url_parts *hub,
                                       const char *hp, size_t hn)
{
    struct url_parts u;
    char *p;
    size_t n;
    int rc;

    if (url_parts_parse(&u, t, len, hub) < 0)
        return 0;                       /* no URL: names no hub path */
    rc = mercure_form_norm_path(&u, &p, &n);
    url_parts_free(&u);
    if (rc < 0 || p == NULL)
        return rc;
    rc = mercure_form_under(p, n, hp, hn);
    free(p);
    return rc;
}

int mercure_form_reserved(struct mercure_form *f, const char *hub,
                          size_t hlen)
{
    struct url_parts h;
    char *hp, q[100];
    size_t hn;
    int rc = 0;

    if (url_parts_parse(&h, hub, hlen, NULL) < 0)
        return mercure_form_fail(f, "the hub's URL \"%s\" is not a URL "
                                 "(mercure.hub_url)",
                                 util_quote(q, sizeof(q), hub, hlen));
    if (mercure_form_norm_path(&h, &hp, &hn) < 0) {
        url_parts_free(&h);
        return -ENOMEM;
    }
    for (size_t i = 0; rc == 0 && hp != NULL && i < f->n_topic; i++) {
        rc = mercure_form_topic_reserved(f->topic[i], f->topic_len[i], &h,
                                         hp, hn);
        if (rc == 1)
            rc = mercure_form_fail(f, "topic %zu \"%s\" is under the hub's "
                                   "path %.*s, reserved for the hub's own "
                                   "updates (subscription events, Mercure "
                                   "1.0)", i + 1,
                                   util_quote(q, sizeof(q), f->topic[i],
                                              f->topic_len[i]),
                                   (int)hn, hp);
    }
    free(hp);
    url_parts_free(&h);
    return rc;
}
