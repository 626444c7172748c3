/* authz_urlpattern.h -- where a `urlpattern` topic matcher of a Mercure
 * authorization detail (mercure_authz.h) plugs into the URL Pattern
 * engine (urlpattern.h). Three calls, nothing else: mercure_authz_bind
 * compiles each urlpattern grant of a token once per token check,
 * against the hub's URL, and mercure_authz_allows matches the compiled
 * pattern against the topics of the updates it authorizes.
 *   - compile: linear-time matching (the engine's), relative patterns
 *     resolved against the hub's URL as subscribe selectors are, no
 *     ignoreCase; a pattern costing more than the caller's limit
 *     (mercure.selector_cost_max, as a match_urlpattern= selector) is
 *     refused, which refuses the token;
 *   - match: a topic that is no URL reference is no match. */
#ifndef SSEQ_AUTHZ_URLPATTERN_H
#define SSEQ_AUTHZ_URLPATTERN_H

#include <stdbool.h>
#include <stddef.h>

struct authz_urlpattern;        /* a compiled pattern */

/* Whether the engine is there: what the protected resource metadata
 * advertises (mercure_prm.h). */
bool authz_urlpattern_supported(void);

/* Compiles pattern[0..len) against base[0..blen) (the hub's URL) into
 * *out. 0; -EINVAL (not a URL pattern) or -E2BIG (a cost over cost_max)
 * with why[0..cap) one line naming the fault; -ENOMEM. */
int authz_urlpattern_compile(const char *pattern, size_t len,
                             const char *base, size_t blen,
                             unsigned long cost_max,
                             struct authz_urlpattern **out, char *why,
                             size_t cap);

/* Whether compiled pattern p matches topic[0..len). One thread at a
 * time per pattern (the engine keeps its scratch in it). */
bool authz_urlpattern_match(const struct authz_urlpattern *p,
                            const char *topic, size_t len);

/* Frees a compiled pattern (NULL: nothing). */
void authz_urlpattern_free(struct authz_urlpattern *p);

#endif
