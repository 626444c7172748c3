/* mercure_form.h -- the body of a Mercure publish (POST
 * /.well-known/mercure, application/x-www-form-urlencoded), as the v0.x
 * spec and the Mercure.rocks hub (<= 0.24) read it:
 *   topic    repeated, at least once: the first is the canonical topic,
 *            the others its alternates (at most MERCURE_FORM_TOPICS_MAX
 *            in all, each 1..topic_max bytes of UTF-8 without CR, LF or
 *            NUL);
 *   data     the update's data (absent: empty), UTF-8;
 *   id       the update's id (absent or empty: the hub makes one): a
 *            publisher id by queue_msg.h's rule (1..QUEUE_MSG_ID_MAX
 *            bytes, no CR, LF or NUL, not starting with '#', not all
 *            digits, not "earliest");
 *   type     the SSE event type (absent or empty: none): queue_msg.h's
 *            rule;
 *   retry    the SSE retry in milliseconds: 1 to 10 decimal digits, at
 *            most UINT32_MAX;
 *   private  present (whatever its value): a private update.
 * Mercure 1.0 adds (one place for the hub's publish rules): topics, id
 * and type hold no control or format character (mercure_text.h); a
 * topic is not exactly "*" (the wildcard); the type is not "mercure"
 * (the hub's own events); and, with the hub's URL, mercure_form_reserved
 * refuses a topic under the hub's path (subscription events are the
 * hub's to publish).
 * Other fields are ignored; data, id, type and retry given twice, a bad
 * percent escape or invalid UTF-8 are refused. Every refusal has a one-line
 * reason naming the field. Pure: writes only into caller memory. */
#ifndef SSEQ_MERCURE_FORM_H
#define SSEQ_MERCURE_FORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "queue/queue.h"

#define MERCURE_FORM_TOPICS_MAX (1 + QUEUE_TOPICS_MAX)  /* with canonical */
#define MERCURE_FORM_WHY_MAX 320
#define MERCURE_FORM_HUB_TYPE "mercure"     /* the hub's own event type */

/* A parsed update. Strings point into the caller's scratch buffer; id and
 * type have length 0 when absent. */
struct mercure_form {
    const char *topic[MERCURE_FORM_TOPICS_MAX];
    size_t topic_len[MERCURE_FORM_TOPICS_MAX];
    size_t n_topic;                     /* >= 1 after a parse */
    const char *data; size_t data_len;  /* "" when absent */
    const char *id;   size_t id_len;
    const char *type; size_t type_len;
    uint32_t retry_ms;                  /* 0 = none */
    bool private_;                      /* the private field was present */
    char why[MERCURE_FORM_WHY_MAX];     /* reason when parsing failed */
};

/* Parses body[0..len) into *f. scratch must hold len bytes (every
 * decoded value is no longer than its source). topic_max: the longest
 * topic in bytes (mercure.topic_max, at most QUEUE_TOPIC_MAX is used).
 * Returns 0, or -EINVAL with f->why set. */
int mercure_form_parse(const char *body, size_t len, size_t topic_max,
                       char *scratch, struct mercure_form *f);

/* Refuses a parsed update one of whose topics, resolved against the
 * hub's URL hub[0..hlen) with the URL parser (url_parts.h), has a path
 * (percent-encoded unreserved characters decoded, dot segments removed)
 * equal to the hub URL's path or under it, whatever its scheme and
 * authority; a topic that is no URL reference names no hub path. 0;
 * -EINVAL with f->why naming the topic (or a hub URL that is none);
 * -ENOMEM. */
int mercure_form_reserved(struct mercure_form *f, const char *hub,
                          size_t hlen);

#endif
