/* bearer.h -- the token of an "Authorization: Bearer <token>" header
 * value (RFC 6750 section 2.1), read the same way by sseq-publish's
 * /publish, the Mercure hub and sseq-stream: the scheme is matched
 * case-insensitively (RFC 9110 section 11.1) and must be followed by a
 * blank; blanks (space, tab) around the token are ignored. */
#ifndef SSEQ_BEARER_H
#define SSEQ_BEARER_H

#include <stdbool.h>
#include <stddef.h>

/* true with *tok and *len pointing into value (NUL-terminated) when it
 * holds a non-empty Bearer token; false otherwise. */
bool bearer_parse(const char *value, const char **tok, size_t *len);

#endif
