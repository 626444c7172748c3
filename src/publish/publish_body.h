/* publish_body.h -- the body of a publish request, by Content-Type:
 *   text/plain                         the body is the data;
 *   application/x-www-form-urlencoded  data=...&event=... and private
 *                                      (present: a private message; others
 *                                      ignored);
 *   application/json                   one object {"data": .., "event": ..}
 *                                      where data is a string (sent as its
 *                                      value) or any JSON value (sent as its
 *                                      compact JSON text), "private": true
 *                                      or false; other members are
 *                                      checked and ignored.
 * The parsers are strict and bounded: a duplicate data or event, a bad
 * percent escape, malformed or truncated JSON, JSON nested deeper than
 * PUBLISH_BODY_JSON_DEPTH, or data/event that is not UTF-8 is refused with
 * a one-line reason naming the culprit (and its byte offset for JSON). */
#ifndef SSEQ_PUBLISH_BODY_H
#define SSEQ_PUBLISH_BODY_H

#include <stddef.h>
#include <stdbool.h>

#define PUBLISH_BODY_JSON_DEPTH 64
#define PUBLISH_BODY_WHY_MAX 160

enum publish_body_type {
    PUBLISH_BODY_TEXT = 0,
    PUBLISH_BODY_FORM,
    PUBLISH_BODY_JSON,
};

/* Result of publish_body_parse. data/event point into the body or into the
 * caller's scratch buffer; event is NULL when the body names none. */
struct publish_body {
    const char *data;  size_t data_len;
    const char *event; size_t event_len;
    bool private_;                      /* private field / "private": true */
    char why[PUBLISH_BODY_WHY_MAX];     /* reason when parsing failed */
};

/* Reads a Content-Type header value (NULL if absent) and returns its body
 * type (>= 0), or -EPROTONOSUPPORT for a missing or unsupported media
 * type and -EILSEQ for a charset other than UTF-8; why names the culprit
 * (why_cap bytes). */
int publish_body_type(const char *content_type, char *why, size_t why_cap);

/* Parses body[0..len) of the given type into *out. scratch must hold len
 * bytes (decoded data and event never exceed the body); it may be NULL for
 * PUBLISH_BODY_TEXT. Returns 0, or -EINVAL with out->why set (malformed
 * body, data missing, bad escape, invalid UTF-8). */
int publish_body_parse(enum publish_body_type type, const char *body,
                       size_t len, char *scratch, struct publish_body *out);

/* Bytes of body allowed for a type when data may be up to max_data bytes:
 * max_data for text, 3 * max_data + 4096 for form and JSON (encoding). */
size_t publish_body_limit(enum publish_body_type type, size_t max_data);

#endif
