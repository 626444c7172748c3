/* urlpattern.h -- Mercure 1.0's urlpattern matcher: a URL Pattern (WHATWG
 * URL Pattern Living Standard, constructor string form, no ignoreCase)
 * compiled once against a base URL (the hub's) and matched against
 * topics in time linear in the topic's length.
 *
 * Compiling follows the standard: the constructor string parser splits
 * the pattern into protocol, username, password, hostname, port,
 * pathname, search and hash (a relative pattern takes the base's
 * protocol, hostname and port, and its pathname is resolved against the
 * base's; a component left out is "*"); each component's pattern string
 * (named groups :name, * wildcards, regexp groups (...), modifiers ? +
 * *, {...} groups, \ escapes) becomes the standard's regular
 * expression, with fixed text canonicalized as the URL parser would
 * (url_parts.h) and each component's default segment rule ([^/]+? for
 * pathname, [^.]+? for hostname, [^]+? elsewhere); that expression is
 * compiled by urlpattern_regex.h (linear time; backreferences and
 * lookaround refused). A topic is parsed as a URL reference against the
 * base (a topic that is not one matches nothing) and matches when every
 * component matches.
 *
 * Cost: the largest component program's instructions (each topic byte
 * is matched by one component, and a program keeps at most one thread
 * an instruction), the unit stream_match.h budgets in. */
#ifndef SSEQ_URLPATTERN_H
#define SSEQ_URLPATTERN_H

#include <stdbool.h>
#include <stddef.h>

struct urlpattern;

/* Compiles pattern pat[0..len) into *out, against base URL
 * base[0..blen) (blen 0: none). The base is used as the Mercure spec
 * says, for a relative pattern (one without a protocol) and for relative
 * topics; an absolute pattern is compiled as the standard does without
 * a base. 0; -EINVAL (not a valid URL pattern, a relative one without a
 * base, or a construct refused: why[0..cap) names the component and the
 * culprit); -E2BIG (a component over URLPATTERN_REGEX_PROG_MAX states,
 * said in why); -ENOMEM. */
int urlpattern_compile(const char *pat, size_t len, const char *base,
                       size_t blen, struct urlpattern **out, char *why,
                       size_t cap);

void urlpattern_free(struct urlpattern *p);

/* What matching costs a topic byte (see above); at least 1. */
unsigned long urlpattern_cost(const struct urlpattern *p);

/* Whether topic t[0..len) matches p (false when it is not a URL
 * reference against the base, and on ENOMEM). One pattern, one thread at
 * a time (scratch lives in p). */
bool urlpattern_match(struct urlpattern *p, const char *t, size_t len);

#endif
