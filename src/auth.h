/* auth.h -- who may publish to a channel: "Authorization: Bearer TOKEN"
 * compared in constant time against the config's publish.tokens, each
 * limited to channel globs; channels matching publish.open_channels need
 * no token, but a token presented there must still be a valid one (a
 * wrong or malformed credential is refused, never ignored). With no
 * tokens configured, publishing to any other channel is refused (never
 * open by default). Tokens never leave this module: no outcome, reason or
 * log line contains one. */
#ifndef SSEQ_AUTH_H
#define SSEQ_AUTH_H

#include <stddef.h>
#include <stdbool.h>

#include "config.h"

/* Outcomes of auth_check (domain results, not errors). */
enum auth_result {
    AUTH_OK = 0,            /* a configured token, allowed for the channel */
    AUTH_OPEN,              /* open channel: no token presented, or a
                               valid one limited to other channels */
    AUTH_MISSING,           /* no Authorization header (401) */
    AUTH_NOT_BEARER,        /* Authorization is not "Bearer <token>" (401) */
    AUTH_WRONG_TOKEN,       /* no configured token matches (403) */
    AUTH_CHANNEL_DENIED,    /* token valid, not for this channel (403) */
    AUTH_DISABLED,          /* no tokens configured (403) */
};

/* Decides whether a request with the given Authorization header value
 * (NULL if absent) may publish to channel (NUL-terminated, already
 * validated). Every configured token is compared, in constant time. */
enum auth_result auth_check(const struct config *cfg,
                            const char *authorization, const char *channel);

/* The HTTP status for an outcome: 0 for AUTH_OK/AUTH_OPEN, else 401/403. */
int auth_status(enum auth_result r);

/* A one-line reason for a refusal (never contains the token). */
const char *auth_reason(enum auth_result r);

/* Whether a[0..alen) equals b[0..blen); time depends on alen only, never
 * on the contents or on where they differ. */
bool auth_token_equal(const char *a, size_t alen, const char *b, size_t blen);

/* Whether channel matches one of the n fnmatch globs (n == 0: none). */
bool auth_glob_match(char *const *globs, size_t n, const char *channel);

/* Extracts the token of a "Bearer <token>" header value (scheme case-
 * insensitive, spaces around the token ignored). true with *tok and *len
 * pointing into value, false if value is not a non-empty Bearer token. */
bool auth_parse_bearer(const char *value, const char **tok, size_t *len);

#endif
