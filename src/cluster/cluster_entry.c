/* cluster_entry.c -- reads one Redis stream entry into a message (see
 * cluster_entry.h): the id, the fields sseq writes (c channel, e event,
 * d data, t time, a alternates, p private, i publisher id, r retry),
 * then queue_msg_check. Fields of a later version are ignored; a field
 * given twice keeps the last value, as XADD writes each once. */
#include "ac_config.h"

#include "cluster/cluster_entry.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "queue/queue_msg.h"

static int cluster_entry_bad(struct cluster_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Marks e bad with the reason; returns -EINVAL. */
static int cluster_entry_bad(struct cluster_entry *e, const char *fmt, ...)
{
    va_list ap;

    e->bad = true;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof(e->why), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Reads decimal s[0..len) (1 to 20 digits, no sign) into *v. */
static int cluster_entry_u64(const char *s, size_t len, uint64_t *v)
{
    return len > 0 && len <= 20 ? util_parse_u64(s, len, v) : -EINVAL;
}

/* Reads the entry id "<id>-<seq>" into e. 0 or -EPROTO. */
static int cluster_entry_id(const redisReply *r, struct cluster_entry *e)
{
    const char *dash;

    if (r->type != REDIS_REPLY_STRING ||
        (dash = memchr(r->str, '-', r->len)) == NULL ||
        cluster_entry_u64(r->str, (size_t)(dash - r->str), &e->id) < 0 ||
        cluster_entry_u64(dash + 1, r->len - (size_t)(dash + 1 - r->str),
                          &e->seq) < 0)
        return -EPROTO;
    return 0;
}

/* Splits the packed alternates v[0..len) (each followed by a NUL) into
 * e's arrays. 0 or -EINVAL. */
static int cluster_entry_alt(struct cluster_entry *e, const char *v,
                             size_t len)
{
    size_t o = 0;

    e->msg.n_alt = 0;
    if (len == 0 || v[len - 1] != '\0')
        return cluster_entry_bad(e, "bad field a: alternates must each "
                                 "end with a NUL");
    while (o < len) {
        size_t n = strlen(v + o);

        if (n == 0 || e->msg.n_alt == QUEUE_TOPICS_MAX)
            return cluster_entry_bad(e, "bad field a: an empty topic or "
                                     "more than %u", QUEUE_TOPICS_MAX);
        e->alt[e->msg.n_alt] = v + o;
        e->alt_len[e->msg.n_alt++] = n;
        o += n + 1;
    }
    e->msg.alt = e->alt;
    e->msg.alt_len = e->alt_len;
    return 0;
}

/* The r field: a retry in milliseconds, 1 to 10 digits, <= UINT32_MAX. */
static int cluster_entry_retry(struct cluster_entry *e, const redisReply *v)
{
    uint64_t r;

    if (v->len > 10 || cluster_entry_u64(v->str, v->len, &r) < 0 ||
        r > UINT32_MAX)
        return cluster_entry_bad(e, "bad field r: a retry is 1 to 10 "
                                 "digits, at most %" PRIu32, UINT32_MAX);
    e->msg.retry_ms = (uint32_t)r;
    return 0;
}

/* Stores one field k = v of the entry into e. 0 or -EINVAL. */
static int cluster_entry_field(struct cluster_entry *e, char k,
                               const redisReply *v)
{
    switch (k) {
    case 'c': e->msg.channel = v->str, e->msg.channel_len = v->len; break;
    case 'e': e->msg.event = v->str, e->msg.event_len = v->len; break;
    case 'd': e->msg.data = v->str, e->msg.data_len = v->len; break;
    case 'i': e->msg.pub_id = v->str, e->msg.pub_id_len = v->len; break;
    case 'p': e->msg.flags |= QUEUE_MSG_PRIVATE; break;
    case 'a': return cluster_entry_alt(e, v->str, v->len);
    case 'r': return cluster_entry_retry(e, v);
    case 't':
        if (cluster_entry_u64(v->str, v->len, &e->time_us) < 0)
            return cluster_entry_bad(e, "bad field t: a time in "
                                     "microseconds is digits");
        break;
    default:
        break;                  /* a field of a later version */
    }
    return 0;
}

/* Reads the field list f into e. 0 or -EINVAL. */
static int cluster_entry_fields(struct cluster_entry *e,
                                const redisReply *f)
{
    size_t i;
    int rc;

    if (f->type != REDIS_REPLY_ARRAY || f->elements % 2 != 0)
        return cluster_entry_bad(e, "fields are not name-value pairs");
    for (i = 0; i < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return cluster_entry_bad(e, "field %zu is not a string", i / 2);
        if (k->len == 1 && (rc = cluster_entry_field(e, k->str[0], v)) < 0)
            return rc;
    }
    if (e->msg.channel == NULL || e->msg.data == NULL)
        return cluster_entry_bad(e, "not an sseq message (needs fields c "
                                 "and d)");
    return 0;
}

int cluster_entry_parse(const struct redisReply *r, struct cluster_entry *e)
{
    struct queue_msg_fault f;
    int rc;

    memset(e, 0, sizeof(*e));
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        cluster_entry_id(r->element[0], e) < 0)
        return -EPROTO;
    if (e->seq != 0 || e->id == 0 || e->id >= QUEUE_ID_END)
        return cluster_entry_bad(e, "id %" PRIu64 "-%" PRIu64 " is not "
                                 "one sseq writes (<n>-0, 0 < n < 2^63)",
                                 e->id, e->seq);
    if ((rc = cluster_entry_fields(e, r->element[1])) < 0)
        return rc;
    if (queue_msg_check(&e->msg, &f) < 0) {
        char why[CLUSTER_ENTRY_WHY_MAX];

        queue_msg_describe(&e->msg, &f, why, sizeof(why));
        return cluster_entry_bad(e, "%s", why);
    }
    return 0;
}
