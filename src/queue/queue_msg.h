/* queue_msg.h -- what a valid message is: the one rule that every record
 * passes before it enters the queue, whoever writes it (HTTP publish, the
 * Mercure hub's form, `sseq publish`, sseq-bridge from Redis).
 * queue_append and queue_append_at apply it; writers call it first to
 * name the culprit in their own answer.
 *
 * A message is valid when:
 *   channel and each alternate topic: 1..QUEUE_TOPIC_MAX bytes of UTF-8
 *     without CR, LF or NUL (a topic goes on a "channel:" line);
 *   event type: none, or 1..SSE_EVENT_MAX bytes of UTF-8 without CR, LF
 *     or NUL (an "event:" line);
 *   publisher id: none, or 1..QUEUE_MSG_ID_MAX bytes of UTF-8 without CR,
 *     LF or NUL (an "id:" line and a Last-Event-ID header), not starting
 *     with '#' (Mercure reserves it), not all digits (a queue id) and not
 *     "earliest" (the resume keyword);
 *   data: UTF-8 (an event stream is UTF-8);
 *   at most QUEUE_TOPICS_MAX alternates; flags only QUEUE_MSG_PRIVATE.
 * The data's size against a queue is queue_append's check (-EMSGSIZE).
 * Pure: reads the message, writes only into caller memory. */
#ifndef SSEQ_QUEUE_MSG_H
#define SSEQ_QUEUE_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "queue/queue.h"

#define QUEUE_MSG_ID_MAX      128u  /* bytes of a publisher id */
#define QUEUE_MSG_CHANNEL_MAX 255u  /* bytes of an /events channel name
                                       (channel_pattern); a Mercure topic
                                       may have QUEUE_TOPIC_MAX */

/* The field a message fails on. */
enum queue_msg_field {
    QUEUE_MSG_VALID = 0,
    QUEUE_MSG_CHANNEL,          /* the canonical topic */
    QUEUE_MSG_ALT,              /* an alternate topic, or their count */
    QUEUE_MSG_EVENT,            /* the event type */
    QUEUE_MSG_PUB_ID,           /* the publisher id */
    QUEUE_MSG_DATA,             /* the data */
    QUEUE_MSG_FLAGS,            /* unknown flag bits */
};

/* Where queue_msg_check stopped: the field, and for QUEUE_MSG_ALT the
 * alternate's index (n_alt itself when there are too many). */
struct queue_msg_fault {
    enum queue_msg_field field;
    size_t alt;
};

/* 0 if m is a valid message; -EINVAL otherwise, with *f (may be NULL)
 * naming the first bad field. */
int queue_msg_check(const struct queue_msg *m, struct queue_msg_fault *f);

/* One field against its rule (see above): 0 or -EINVAL. */
int queue_msg_topic_check(const char *t, size_t len);
int queue_msg_event_check(const char *e, size_t len);
int queue_msg_pub_id_check(const char *id, size_t len);
int queue_msg_data_check(const char *d, size_t len);

/* What the field must be, in a few words (static text): e.g. "1 to 128
 * bytes of UTF-8 without CR, LF or NUL". */
const char *queue_msg_rule(enum queue_msg_field field);

/* The one-line reason for f on m into out (cap bytes), quoting the
 * culprit with util_quote: e.g. "bad event type \"a\\x0d\": 1 to 128
 * bytes of UTF-8 without CR, LF or NUL". Returns out. */
const char *queue_msg_describe(const struct queue_msg *m,
                               const struct queue_msg_fault *f, char *out,
                               size_t cap);

#endif
