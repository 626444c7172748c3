/* queue_msg.c -- the validity of a message (see queue_msg.h): one check a
 * field, a table of each field's name and rule for the reasons, and the
 * walk over a whole message. */
#include "ac_config.h"

#include "queue/queue_msg.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "proto/sse.h"

#define QUEUE_MSG_EARLIEST "earliest"   /* the hub's resume keyword */

/* A field's name and rule, as reasons show them. */
static const struct {
    const char *name;
    const char *rule;
} queue_msg_fields[] = {
    [QUEUE_MSG_VALID]   = { "message", "valid" },
    [QUEUE_MSG_CHANNEL] = { "channel", "1 to 4096 bytes of UTF-8 without "
                            "CR, LF or NUL" },
    [QUEUE_MSG_ALT]     = { "topic", "at most 32 alternates, each 1 to 4096 "
                            "bytes of UTF-8 without CR, LF or NUL" },
    [QUEUE_MSG_EVENT]   = { "event type", "1 to 128 bytes of UTF-8 without "
                            "CR, LF or NUL" },
    [QUEUE_MSG_PUB_ID]  = { "id", "1 to 128 bytes of UTF-8 without CR, LF "
                            "or NUL; must not start with '#', be all digits "
                            "or be \"earliest\"" },
    [QUEUE_MSG_DATA]    = { "data", "must be valid UTF-8" },
    [QUEUE_MSG_FLAGS]   = { "flags", "only the private flag" },
};

_Static_assert(QUEUE_TOPIC_MAX == 4096 && QUEUE_TOPICS_MAX == 32 &&
               SSE_EVENT_MAX == 128 && QUEUE_MSG_ID_MAX == 128,
               "queue_msg_fields' rules quote these limits");
_Static_assert(QUEUE_MSG_ID_MAX <= QUEUE_PUBID_MAX &&
               SSE_EVENT_MAX <= QUEUE_EVENT_MAX &&
               QUEUE_MSG_CHANNEL_MAX <= QUEUE_TOPIC_MAX,
               "the rules fit the record layout");

/* Whether s[0..len) holds a CR, LF or NUL (would end an SSE line). */
static bool queue_msg_breaks_line(const char *s, size_t len)
{
    return memchr(s, '\r', len) != NULL || memchr(s, '\n', len) != NULL ||
           memchr(s, '\0', len) != NULL;
}

int queue_msg_topic_check(const char *t, size_t len)
{
    if (t == NULL || len == 0 || len > QUEUE_TOPIC_MAX ||
        queue_msg_breaks_line(t, len) || !util_utf8_valid(t, len))
        return -EINVAL;
    return 0;
}

int queue_msg_event_check(const char *e, size_t len)
{
    return e != NULL && sse_validate_field(e, len) == 0 ? 0 : -EINVAL;
}

/* Whether s[0..len) is all decimal digits (len >= 1). */
static bool queue_msg_all_digits(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len > 0;
}

int queue_msg_pub_id_check(const char *id, size_t len)
{
    if (id == NULL || len > QUEUE_MSG_ID_MAX ||
        sse_validate_field(id, len) < 0 || id[0] == '#' ||
        queue_msg_all_digits(id, len) ||
        (len == sizeof(QUEUE_MSG_EARLIEST) - 1 &&
         memcmp(id, QUEUE_MSG_EARLIEST, len) == 0))
        return -EINVAL;
    return 0;
}

/* The length of the all-ASCII prefix of s[0..len), in whole 8-byte
 * words (a fast path: most data is ASCII, and every append checks it). */
static size_t queue_msg_ascii_prefix(const char *s, size_t len)
{
    size_t i;
    uint64_t w;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, s + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
    }
    return i;
}

int queue_msg_data_check(const char *d, size_t len)
{
    size_t ascii;

    if (len == 0)
        return 0;
    if (d == NULL)
        return -EINVAL;
    ascii = queue_msg_ascii_prefix(d, len);
    return util_utf8_valid(d + ascii, len - ascii) ? 0 : -EINVAL;
}

/* -EINVAL with *f set to field (and alt), for queue_msg_check. */
static int queue_msg_bad(struct queue_msg_fault *f,
                         enum queue_msg_field field, size_t alt)
{
    if (f != NULL) {
        f->field = field;
        f->alt = alt;
    }
    return -EINVAL;
}

/* The alternates of m: their count, arrays and each topic. */
static int queue_msg_alt_check(const struct queue_msg *m,
                               struct queue_msg_fault *f)
{
    size_t i;

    if (m->n_alt > QUEUE_TOPICS_MAX ||
        (m->n_alt != 0 && (m->alt == NULL || m->alt_len == NULL)))
        return queue_msg_bad(f, QUEUE_MSG_ALT, m->n_alt);
    for (i = 0; i < m->n_alt; i++)
        if (queue_msg_topic_check(m->alt[i], m->alt_len[i]) < 0)
            return queue_msg_bad(f, QUEUE_MSG_ALT, i);
    return 0;
}

int queue_msg_check(const struct queue_msg *m, struct queue_msg_fault *f)
{
    if (f != NULL)
        *f = (struct queue_msg_fault){ QUEUE_MSG_VALID, 0 };
    if (queue_msg_topic_check(m->channel, m->channel_len) < 0)
        return queue_msg_bad(f, QUEUE_MSG_CHANNEL, 0);
    if (queue_msg_alt_check(m, f) < 0)
        return -EINVAL;
    if (m->event_len != 0 &&
        queue_msg_event_check(m->event, m->event_len) < 0)
        return queue_msg_bad(f, QUEUE_MSG_EVENT, 0);
    if (m->pub_id_len != 0 &&
        queue_msg_pub_id_check(m->pub_id, m->pub_id_len) < 0)
        return queue_msg_bad(f, QUEUE_MSG_PUB_ID, 0);
    if (queue_msg_data_check(m->data, m->data_len) < 0)
        return queue_msg_bad(f, QUEUE_MSG_DATA, 0);
    if ((m->flags & ~QUEUE_MSG_PRIVATE) != 0)
        return queue_msg_bad(f, QUEUE_MSG_FLAGS, 0);
    return 0;
}

const char *queue_msg_rule(enum queue_msg_field field)
{
    if ((size_t)field >= sizeof(queue_msg_fields) / sizeof(*queue_msg_fields))
        return "unknown";
    return queue_msg_fields[field].rule;
}

/* The bytes f names in m (NULL, 0 for the data, flags or a count). */
static void queue_msg_culprit(const struct queue_msg *m,
                              const struct queue_msg_fault *f,
                              const char **s, size_t *len)
{
    *s = NULL;
    *len = 0;
    if (f->field == QUEUE_MSG_CHANNEL)
        *s = m->channel, *len = m->channel_len;
    else if (f->field == QUEUE_MSG_ALT && f->alt < m->n_alt &&
             m->alt != NULL && m->alt_len != NULL)
        *s = m->alt[f->alt], *len = m->alt_len[f->alt];
    else if (f->field == QUEUE_MSG_EVENT)
        *s = m->event, *len = m->event_len;
    else if (f->field == QUEUE_MSG_PUB_ID)
        *s = m->pub_id, *len = m->pub_id_len;
}

const char *queue_msg_describe(const struct queue_msg *m,
                               const struct queue_msg_fault *f, char *out,
                               size_t cap)
{
    char quoted[300];
    const char *s;
    size_t len;

    if (f->field == QUEUE_MSG_VALID || (size_t)f->field >=
        sizeof(queue_msg_fields) / sizeof(*queue_msg_fields)) {
        snprintf(out, cap, "valid message");
        return out;
    }
    queue_msg_culprit(m, f, &s, &len);
    if (s == NULL)
        snprintf(out, cap, "bad %s: %s", queue_msg_fields[f->field].name,
                 queue_msg_fields[f->field].rule);
    else
        snprintf(out, cap, "bad %s \"%s\": %s",
                 queue_msg_fields[f->field].name,
                 util_quote(quoted, sizeof(quoted), s, len),
                 queue_msg_fields[f->field].rule);
    return out;
}
