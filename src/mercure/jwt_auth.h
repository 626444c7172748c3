/* jwt_auth.h -- verification of the JWS compact tokens Mercure publishers
 * and subscribers present, against one configured key with its pinned
 * algorithm (HS256/384/512 with a secret, RS256/384/512 or ES256/384/512
 * with a PEM public key). Signatures are checked by libjwt; this module
 * decides what is acceptable around it:
 *   - the header's "alg" is read and compared with the key's algorithm
 *     BEFORE libjwt sees the token (so an HS256 token is never checked
 *     with an RSA key's PEM text as its HMAC secret), and libjwt's own
 *     reading is compared again after;
 *   - "none", any other algorithm, a malformed token (not three strict
 *     base64url parts, JSON that is not an object, a "crit" header), an
 *     expired exp (now >= exp) or a future nbf (now < nbf) is refused;
 *   - an RFC 9068 access token (header typ at+jwt: Mercure 1.0) is taken
 *     only by a key that has an issuer and a resource identifier
 *     (jwt_auth_key_access), and must carry exp, an iss equal to the
 *     issuer and an aud holding the resource; its grants are its
 *     authorization_details (claims.access_token set). Any other token
 *     is a v0.x one, granted by its mercure claim, and must not carry
 *     authorization_details (1.0 grants outside an access token);
 *   - the claims are returned (jwt_claims.h).
 * No result, reason or log line contains the token or the key. */
#ifndef SSEQ_JWT_AUTH_H
#define SSEQ_JWT_AUTH_H

#include <stddef.h>
#include <stdbool.h>
#include <time.h>

#include "mercure/jwt_claims.h"

#define JWT_AUTH_TOKEN_MAX 16384    /* bytes of a token */
#define JWT_AUTH_KEY_MAX 65536      /* bytes of a secret or PEM key */

/* The algorithms a key may be pinned to (never "none"). */
enum jwt_auth_alg {
    JWT_AUTH_HS256, JWT_AUTH_HS384, JWT_AUTH_HS512,
    JWT_AUTH_RS256, JWT_AUTH_RS384, JWT_AUTH_RS512,
    JWT_AUTH_ES256, JWT_AUTH_ES384, JWT_AUTH_ES512,
};

/* A verification key: the algorithm and its material (a secret for HS*,
 * PEM text "-----BEGIN PUBLIC KEY-----" for RS* and ES*). Owned. */
struct jwt_auth_key {
    enum jwt_auth_alg alg;
    unsigned char *key;         /* secret: never logged or printed */
    size_t len;
    char *issuer;               /* 1.0: the iss it signs for, or NULL */
    char *resource;             /* 1.0: the aud it is good for, or NULL */
};

/* Outcomes of jwt_auth_verify (domain results, not errors). */
enum jwt_auth_result {
    JWT_AUTH_OK = 0,            /* signature, algorithm and times valid */
    JWT_AUTH_MALFORMED,         /* not a JWS compact token sseq can read */
    JWT_AUTH_TOO_LONG,          /* longer than JWT_AUTH_TOKEN_MAX */
    JWT_AUTH_ALG_NONE,          /* "alg": "none" (unsigned) */
    JWT_AUTH_ALG_MISMATCH,      /* alg is not the key's algorithm */
    JWT_AUTH_BAD_SIGNATURE,     /* libjwt refused the signature */
    JWT_AUTH_EXPIRED,           /* now >= exp */
    JWT_AUTH_NOT_YET_VALID,     /* now < nbf */
    JWT_AUTH_BAD_CLAIMS,        /* exp/nbf/mercure of the wrong type */
    JWT_AUTH_NO_MEMORY,         /* allocation failed */
    JWT_AUTH_ACCESS_OFF,        /* at+jwt, but the key has no issuer or
                                   resource (1.0 not configured) */
    JWT_AUTH_WRONG_ISSUER,      /* at+jwt: iss is not the key's issuer */
    JWT_AUTH_WRONG_AUDIENCE,    /* at+jwt: aud lacks the resource */
    JWT_AUTH_NO_EXP,            /* at+jwt without exp */
    JWT_AUTH_NOT_AT_JWT,        /* authorization_details, typ not at+jwt */
    JWT_AUTH_BAD_TYP,           /* typ neither JWT nor at+jwt */
};

/* Parses an algorithm name ("HS256", exact case); -EINVAL for any other,
 * "none" included. */
int jwt_auth_alg_parse(const char *name, enum jwt_auth_alg *out);

/* The JOSE name of alg ("HS256"). */
const char *jwt_auth_alg_name(enum jwt_auth_alg alg);

/* Whether key material suits alg: an HS secret at least as long as the
 * hash (RFC 7518 section 3.2: 32, 48, 64 bytes) and not PEM text; an
 * RS/ES key a PEM "PUBLIC KEY" block. 0, or -EINVAL with *why set. */
int jwt_auth_key_check(enum jwt_auth_alg alg, const void *key, size_t len,
                       const char **why);

/* Copies checked key material into *k. 0, -EINVAL (*why set) or
 * -ENOMEM. */
int jwt_auth_key_init(struct jwt_auth_key *k, enum jwt_auth_alg alg,
                      const void *key, size_t len, const char **why);

/* Lets k take Mercure 1.0 access tokens: signed for issuer (their iss)
 * and addressed to resource (in their aud); both copied. 0, -EINVAL
 * (either empty) or -ENOMEM. */
int jwt_auth_key_access(struct jwt_auth_key *k, const char *issuer,
                        const char *resource);

/* Wipes and frees the key material. */
void jwt_auth_key_free(struct jwt_auth_key *k);

/* Verifies token[0..len) with key at time now. Returns a jwt_auth_result
 * with *why a one-line reason ("ok" for JWT_AUTH_OK). On JWT_AUTH_OK,
 * *out holds the claims (free with jwt_claims_free); on any other result
 * *out is empty (freeing it is harmless). */
int jwt_auth_verify(const struct jwt_auth_key *key, const char *token,
                    size_t len, time_t now, struct jwt_claims *out,
                    const char **why);

/* A constant one-line description of r. */
const char *jwt_auth_result_name(enum jwt_auth_result r);

#endif
