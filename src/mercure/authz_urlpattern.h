/* authz_urlpattern.h -- where a `urlpattern` topic matcher of a Mercure
 * authorization detail (mercure_authz.h) plugs into the URL Pattern
 * engine. Three calls, nothing else: mercure_authz.c compiles each
 * urlpattern grant once, when the token is read, and matches the
 * compiled pattern against the topics of the updates it authorizes.
 *
 * Until the engine (src/mercure/urlpattern*.c) lands, compile refuses
 * every pattern with -ENOTSUP and a reason naming it, so a token
 * carrying a urlpattern grant is refused as a whole (the specification
 * forbids skipping a grant the hub cannot evaluate). Plugging it in is
 * rewriting authz_urlpattern.c to call the engine; the contract:
 *   - compile: linear-time matching (the engine's cost rule), relative
 *     patterns resolved against the hub's URL, no ignoreCase;
 *   - match: a topic that is no URL reference, or an evaluation over
 *     the engine's limit, is no match. */
#ifndef SSEQ_AUTHZ_URLPATTERN_H
#define SSEQ_AUTHZ_URLPATTERN_H

#include <stdbool.h>
#include <stddef.h>

struct authz_urlpattern;        /* the engine's compiled pattern */

/* Whether the engine is there (false until it lands): what the
 * protected resource metadata advertises (mercure_prm.h). */
bool authz_urlpattern_supported(void);

/* Compiles pattern[0..len) into *out. 0; -EINVAL (not a URL pattern) or
 * -ENOTSUP (no engine) with *why a constant one-line reason; -ENOMEM. */
int authz_urlpattern_compile(const char *pattern, size_t len,
                             struct authz_urlpattern **out,
                             const char **why);

/* Whether compiled pattern p matches topic[0..len). */
bool authz_urlpattern_match(const struct authz_urlpattern *p,
                            const char *topic, size_t len);

/* Frees a compiled pattern (NULL: nothing). */
void authz_urlpattern_free(struct authz_urlpattern *p);

#endif
