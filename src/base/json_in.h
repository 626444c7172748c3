/* json_in.h -- a strict reader of RFC 8259 JSON text, the one every
 * door uses (publish bodies, JWT headers and claims).
 *
 * A cursor over the text (struct json_in): every call reads one JSON
 * production at the cursor (after any blanks) and leaves the cursor
 * after it, or fails with -EINVAL, j->why naming what was wrong and
 * j->pos where. Limits: containers nest at most depth_max deep (the
 * outermost counts); a number read for its value is at most
 * JSON_IN_NUMBER_MAX characters. A decoded string is never longer than
 * its raw text, and a compact copy of a value never longer than the
 * value, so a buffer of the raw length always holds either. UTF-8 is
 * the caller's to check (util_utf8_valid): raw bytes are copied. */
#ifndef SSEQ_JSON_IN_H
#define SSEQ_JSON_IN_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_IN_NUMBER_MAX 63       /* characters of a number read */

struct json_in {
    const char *s;              /* the text */
    size_t len, pos;            /* its length, the cursor */
    unsigned depth, depth_max;  /* open containers, their limit */
    const char *why;            /* what the failing call met, or NULL */
};

/* A cursor at the start of s[0..len). */
void json_in_init(struct json_in *j, const char *s, size_t len,
                  unsigned depth_max);

/* Sets j->why; returns -EINVAL (for a caller's own refusal at pos). */
int json_in_fail(struct json_in *j, const char *why);

/* Skips blanks; whether the next byte is c (not consumed). */
bool json_in_at(struct json_in *j, char c);

/* Skips blanks; consumes c if it is next. */
bool json_in_eat(struct json_in *j, char c);

/* Skips blanks; consumes the literal word w (true, false, null) if it
 * is next. */
bool json_in_word(struct json_in *j, const char *w);

/* Reads a string, decoding it into out (cap bytes; what does not fit is
 * counted, not written; out may be NULL). *n is the decoded length;
 * *nul says it holds a \u0000. */
int json_in_string(struct json_in *j, char *out, size_t cap, size_t *n,
                   bool *nul);

/* Reads a number (RFC 8259 section 6); its value in *v if v != NULL. */
int json_in_number(struct json_in *j, double *v);

/* Reads any value. With out, writes its compact text there (cap bytes,
 * counted like json_in_string, strings copied as written) and its
 * length in *n. */
int json_in_value(struct json_in *j, char *out, size_t cap, size_t *n);

/* Opens an object: consumes '{'. */
int json_in_object_open(struct json_in *j);

/* Steps to the next member of an open object: 1 with its name in key
 * (cap bytes, NUL-terminated; "" if it does not fit or holds a NUL) and
 * the cursor at its value; 0 at the end ('}' consumed); -EINVAL. */
int json_in_object_next(struct json_in *j, bool *first, char *key,
                        size_t cap);

/* Checks that only blanks follow the value read. */
int json_in_end(struct json_in *j);

#endif
