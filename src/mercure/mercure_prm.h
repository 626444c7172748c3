/* mercure_prm.h -- the hub as an OAuth 2.0 protected resource: its RFC
 * 9728 Protected Resource Metadata document, the URL that document is
 * served at (derived from the resource identifier: the well-known
 * segment goes between the authority and the path, so the hub
 * https://example.com/.well-known/mercure has its metadata at
 * https://example.com/.well-known/oauth-protected-resource/.well-known/
 * mercure), and the WWW-Authenticate challenge that points at it.
 * Pure functions of their arguments. */
#ifndef SSEQ_MERCURE_PRM_H
#define SSEQ_MERCURE_PRM_H

#include <stdbool.h>
#include <stddef.h>

#define MERCURE_PRM_WELL_KNOWN "/.well-known/oauth-protected-resource"
#define MERCURE_PRM_URL_MAX 4200        /* the URL of a 4 KiB resource */
#define MERCURE_PRM_CHALLENGE_MAX 4400  /* a challenge header's value */

/* What the document says. */
struct mercure_prm {
    const char *resource;       /* the hub's resource identifier */
    const char *cookie;         /* the 1.0 cookie's name, NULL: none */
    bool urlpattern;            /* match_type urlpattern is supported */
    bool subscriptions;         /* active subscriptions are served */
};

/* The metadata URL of resource (an http(s) URL without query or
 * fragment) into out (cap bytes, NUL-terminated). Its length, or
 * -EINVAL (not such a URL) / -E2BIG. */
long mercure_prm_url(const char *resource, char *out, size_t cap);

/* The path part of that URL (what the web server's location matches)
 * into out. Its length, or -EINVAL / -E2BIG. */
long mercure_prm_path(const char *resource, char *out, size_t cap);

/* The JSON document (RFC 9728 section 2: resource,
 * bearer_methods_supported ["header"], authorization_details_types_
 * supported [MERCURE_AUTHZ_TYPE], mercure_cookie, mercure_matcher_types_
 * supported, mercure_subscriptions when true) into out. Its length, or
 * -E2BIG. */
long mercure_prm_document(const struct mercure_prm *m, char *out,
                          size_t cap);

/* The value of a WWW-Authenticate header (RFC 6750 section 3, RFC 9728
 * section 5.1) into out: "Bearer", then resource_metadata="URL" when
 * resource is not NULL, then error="ERROR" when error is not NULL
 * ("invalid_token", "insufficient_scope", "invalid_request"). Its
 * length, or -E2BIG. */
long mercure_prm_challenge(const char *resource, const char *error,
                           char *out, size_t cap);

#endif
