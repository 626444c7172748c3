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
#include <string.h>

#include "base/query.h"
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
 * rule (queue_msg.h). */
static int mercure_form_fields(struct mercure_form *f)
{
    if (f->id_len > 0 && queue_msg_pub_id_check(f->id, f->id_len) < 0)
        return mercure_form_fail(f, "bad id=: %s",
                                 queue_msg_rule(QUEUE_MSG_PUB_ID));
    if (f->type_len > 0 && queue_msg_event_check(f->type, f->type_len) < 0)
        return mercure_form_fail(f, "bad type=: %s",
                                 queue_msg_rule(QUEUE_MSG_EVENT));
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
