/* jwt_auth.c -- JWS verification around libjwt 1.10 (jwt_decode,
 * jwt_get_alg): the checks libjwt does not make, in this order:
 *   1. shape: 1..JWT_AUTH_TOKEN_MAX bytes, three '.'-separated parts,
 *      each strict base64url, header and payload non-empty;
 *   2. the header's alg, read here: "none" and anything but the key's
 *      algorithm are refused before libjwt is called (libjwt 1.10 picks
 *      the verification from the header, so a token saying HS256 would
 *      be checked with the RSA key's PEM text as its HMAC secret);
 *   3. the claims are read from the payload (jwt_claims.c: strict JSON,
 *      so malformed payloads never reach libjwt), but trusted only after
 *   4. libjwt verifies the signature with the key; its own reading of
 *      alg must again be the key's algorithm (an access token, typ
 *      at+jwt, which libjwt 1.10 refuses to read, is verified by
 *      jws_verify.c with the key's algorithm instead);
 *   5. an access token (typ at+jwt) against the key's 1.0 profile: exp
 *      present, iss the key's issuer, aud holding its resource; any
 *      other token must carry no authorization_details;
 *   6. exp and nbf against now (no leeway).
 * The token copy handed to libjwt is wiped before it is freed. */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jwt.h>

#include "base/b64url.h"
#include "mercure/jws_verify.h"
#include "mercure/jwt_auth.h"

/* One row an algorithm. */
struct jwt_auth_alg_row {
    const char *name;           /* JOSE "alg" */
    jwt_alg_t lib;              /* libjwt's value */
    size_t min_secret;          /* HS: shortest secret; 0: a PEM key */
    enum jws_verify_family family;      /* for jws_verify */
    unsigned bits;                      /* its SHA-2 digest */
};

static const struct jwt_auth_alg_row jwt_auth_algs[] = {
    [JWT_AUTH_HS256] = { "HS256", JWT_ALG_HS256, 32,
                         JWS_VERIFY_HMAC, 256 },
    [JWT_AUTH_HS384] = { "HS384", JWT_ALG_HS384, 48,
                         JWS_VERIFY_HMAC, 384 },
    [JWT_AUTH_HS512] = { "HS512", JWT_ALG_HS512, 64,
                         JWS_VERIFY_HMAC, 512 },
    [JWT_AUTH_RS256] = { "RS256", JWT_ALG_RS256, 0,
                         JWS_VERIFY_RSA, 256 },
    [JWT_AUTH_RS384] = { "RS384", JWT_ALG_RS384, 0,
                         JWS_VERIFY_RSA, 384 },
    [JWT_AUTH_RS512] = { "RS512", JWT_ALG_RS512, 0,
                         JWS_VERIFY_RSA, 512 },
    [JWT_AUTH_ES256] = { "ES256", JWT_ALG_ES256, 0,
                         JWS_VERIFY_ECDSA, 256 },
    [JWT_AUTH_ES384] = { "ES384", JWT_ALG_ES384, 0,
                         JWS_VERIFY_ECDSA, 384 },
    [JWT_AUTH_ES512] = { "ES512", JWT_ALG_ES512, 0,
                         JWS_VERIFY_ECDSA, 512 },
};
#define JWT_AUTH_N_ALGS (sizeof(jwt_auth_algs) / sizeof(jwt_auth_algs[0]))

static const char jwt_auth_pem_begin[] = "-----BEGIN PUBLIC KEY-----";
static const char jwt_auth_pem_end[] = "-----END PUBLIC KEY-----";

int jwt_auth_alg_parse(const char *name, enum jwt_auth_alg *out)
{
    for (size_t i = 0; i < JWT_AUTH_N_ALGS; i++) {
        if (strcmp(name, jwt_auth_algs[i].name) == 0) {
            *out = (enum jwt_auth_alg)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *jwt_auth_alg_name(enum jwt_auth_alg alg)
{
    return (size_t)alg < JWT_AUTH_N_ALGS ? jwt_auth_algs[alg].name : "?";
}

/* Whether needle[0..n) occurs in hay[0..len). */
static bool jwt_auth_contains(const void *hay, size_t len,
                              const char *needle)
{
    size_t n = strlen(needle);

    return len >= n && memmem(hay, len, needle, n) != NULL;
}

int jwt_auth_key_check(enum jwt_auth_alg alg, const void *key, size_t len,
                       const char **why)
{
    const struct jwt_auth_alg_row *a;

    if ((size_t)alg >= JWT_AUTH_N_ALGS) {
        *why = "unknown algorithm";
        return -EINVAL;
    }
    a = &jwt_auth_algs[alg];
    if (len > JWT_AUTH_KEY_MAX) {
        *why = "key longer than 64 KiB";
        return -EINVAL;
    }
    if (a->min_secret != 0 && len < a->min_secret) {
        *why = alg == JWT_AUTH_HS256 ? "HS256 secret shorter than 32 bytes"
             : alg == JWT_AUTH_HS384 ? "HS384 secret shorter than 48 bytes"
             : "HS512 secret shorter than 64 bytes";
        return -EINVAL;
    }
    if (a->min_secret != 0 && jwt_auth_contains(key, len, "-----BEGIN")) {
        *why = "an HS secret must not be PEM text (a public key is no "
               "secret: anyone could sign with it)";
        return -EINVAL;
    }
    if (a->min_secret == 0 &&
        (!jwt_auth_contains(key, len, jwt_auth_pem_begin) ||
         !jwt_auth_contains(key, len, jwt_auth_pem_end) ||
         memchr(key, '\0', len) != NULL)) {
        *why = "RS/ES key is not a PEM public key "
               "(-----BEGIN PUBLIC KEY-----)";
        return -EINVAL;
    }
    *why = "ok";
    return 0;
}

int jwt_auth_key_init(struct jwt_auth_key *k, enum jwt_auth_alg alg,
                      const void *key, size_t len, const char **why)
{
    memset(k, 0, sizeof(*k));
    if (jwt_auth_key_check(alg, key, len, why) < 0)
        return -EINVAL;
    k->key = malloc(len + 1);               /* NUL for libjwt's PEM read */
    if (k->key == NULL)
        return -ENOMEM;
    memcpy(k->key, key, len);
    k->key[len] = '\0';
    k->len = len;
    k->alg = alg;
    return 0;
}

int jwt_auth_key_access(struct jwt_auth_key *k, const char *issuer,
                        const char *resource)
{
    char *i, *r;

    if (issuer == NULL || resource == NULL || issuer[0] == '\0' ||
        resource[0] == '\0')
        return -EINVAL;
    i = strdup(issuer);
    r = strdup(resource);
    if (i == NULL || r == NULL) {
        free(i);
        free(r);
        return -ENOMEM;
    }
    free(k->issuer);
    free(k->resource);
    k->issuer = i;
    k->resource = r;
    return 0;
}

void jwt_auth_key_free(struct jwt_auth_key *k)
{
    if (k->key != NULL) {
        explicit_bzero(k->key, k->len);
        free(k->key);
    }
    free(k->issuer);
    free(k->resource);
    memset(k, 0, sizeof(*k));
}

const char *jwt_auth_result_name(enum jwt_auth_result r)
{
    static const char *const names[] = {
        [JWT_AUTH_OK] = "ok",
        [JWT_AUTH_MALFORMED] = "malformed token",
        [JWT_AUTH_TOO_LONG] = "token too long",
        [JWT_AUTH_ALG_NONE] = "unsigned token (alg none)",
        [JWT_AUTH_ALG_MISMATCH] = "token algorithm is not the key's",
        [JWT_AUTH_BAD_SIGNATURE] = "bad signature",
        [JWT_AUTH_EXPIRED] = "token expired",
        [JWT_AUTH_NOT_YET_VALID] = "token not valid yet (nbf)",
        [JWT_AUTH_BAD_CLAIMS] = "bad claims",
        [JWT_AUTH_NO_MEMORY] = "out of memory",
        [JWT_AUTH_ACCESS_OFF] = "at+jwt access token, but Mercure 1.0 "
            "tokens are not configured (mercure.issuer, mercure.resource)",
        [JWT_AUTH_WRONG_ISSUER] = "access token from another issuer (iss)",
        [JWT_AUTH_WRONG_AUDIENCE] = "access token for another resource "
            "(aud)",
        [JWT_AUTH_NO_EXP] = "access token without exp",
        [JWT_AUTH_NOT_AT_JWT] = "authorization_details in a token whose "
            "typ is not at+jwt",
        [JWT_AUTH_BAD_TYP] = "token typ is neither JWT nor at+jwt",
    };

    if ((size_t)r >= sizeof(names) / sizeof(names[0]) || names[r] == NULL)
        return "unknown";
    return names[r];
}

/* The three parts of a compact token. */
struct jwt_auth_parts {
    const char *head, *body, *sig;
    size_t head_len, body_len, sig_len;
};

/* Splits token at its two dots; false unless there are exactly two and
 * the header and payload are not empty. */
static bool jwt_auth_split(const char *t, size_t len,
                           struct jwt_auth_parts *p)
{
    const char *end = t + len;
    const char *d1 = memchr(t, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;

    if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
        return false;
    p->head = t;
    p->head_len = (size_t)(d1 - t);
    p->body = d1 + 1;
    p->body_len = (size_t)(d2 - d1 - 1);
    p->sig = d2 + 1;
    p->sig_len = (size_t)(end - d2 - 1);
    return p->head_len > 0 && p->body_len > 0;
}

/* Decodes one base64url part into a fresh buffer (*out, *n). 0, -EINVAL
 * or -ENOMEM. */
static int jwt_auth_part(const char *s, size_t len, char **out, size_t *n)
{
    size_t cap = B64URL_DECODED_MAX(len);
    char *buf = malloc(cap + 1);
    long rc;

    if (buf == NULL)
        return -ENOMEM;
    rc = b64url_decode((unsigned char *)buf, cap, s, len);
    if (rc < 0) {
        free(buf);
        return -EINVAL;
    }
    buf[rc] = '\0';
    *out = buf;
    *n = (size_t)rc;
    return 0;
}

/* Decodes the payload and reads the claims from it into *out. */
static int jwt_auth_claims(const struct jwt_auth_parts *p,
                           struct jwt_claims *out, const char **why)
{
    char *body;
    size_t n;
    int rc = jwt_auth_part(p->body, p->body_len, &body, &n);

    *why = "payload is not base64url";
    if (rc < 0)
        return rc == -ENOMEM ? JWT_AUTH_NO_MEMORY : JWT_AUTH_MALFORMED;
    rc = jwt_claims_parse(body, n, out, why);
    free(body);
    if (rc == -ENOMEM)
        return JWT_AUTH_NO_MEMORY;
    if (rc == -EBADMSG)
        return JWT_AUTH_BAD_CLAIMS;
    return rc < 0 ? JWT_AUTH_MALFORMED : JWT_AUTH_OK;
}

/* Steps 1 to 3: shape, the header's alg, the claims. */
static int jwt_auth_precheck(const struct jwt_auth_key *key,
                             const char *token, size_t len,
                             struct jwt_claims *out, bool *at_jwt,
                             const char **why)
{
    struct jwt_auth_parts p;
    struct jwt_header h;
    char *head, *sig;
    const char *alg = h.alg;
    size_t n;
    int rc;

    *why = "not three base64url parts separated by dots";
    if (!jwt_auth_split(token, len, &p))
        return JWT_AUTH_MALFORMED;
    rc = jwt_auth_part(p.head, p.head_len, &head, &n);
    if (rc < 0)
        return rc == -ENOMEM ? JWT_AUTH_NO_MEMORY : JWT_AUTH_MALFORMED;
    rc = jwt_claims_header(head, n, &h);
    free(head);
    *why = "header is not a JSON object with one alg, at most one typ "
           "(and no crit)";
    if (rc < 0)
        return JWT_AUTH_MALFORMED;
    *at_jwt = h.at_jwt;
    *why = jwt_auth_result_name(JWT_AUTH_BAD_TYP);
    if (h.typ_other)
        return JWT_AUTH_BAD_TYP;
    *why = "unsigned token (alg none) refused";
    if (strcasecmp(alg, "none") == 0)
        return JWT_AUTH_ALG_NONE;
    *why = "token algorithm is not the one configured for this key";
    if (strcmp(alg, jwt_auth_algs[key->alg].name) != 0)
        return JWT_AUTH_ALG_MISMATCH;
    *why = "signature part empty or not base64url";
    if (p.sig_len == 0)
        return JWT_AUTH_MALFORMED;
    rc = jwt_auth_part(p.sig, p.sig_len, &sig, &n);
    if (rc < 0)
        return rc == -ENOMEM ? JWT_AUTH_NO_MEMORY : JWT_AUTH_MALFORMED;
    free(sig);
    return jwt_auth_claims(&p, out, why);
}

/* Step 4 for an access token (typ at+jwt, which libjwt 1.10 refuses):
 * jws_verify with the key's pinned algorithm. */
static int jwt_auth_signature_at(const struct jwt_auth_key *key,
                                 const char *token, size_t len,
                                 const char **why)
{
    const struct jwt_auth_alg_row *a = &jwt_auth_algs[key->alg];
    struct jwt_auth_parts p;
    char *sig;
    size_t n;
    int rc;

    if (!jwt_auth_split(token, len, &p))
        return JWT_AUTH_MALFORMED;          /* checked before: no way */
    rc = jwt_auth_part(p.sig, p.sig_len, &sig, &n);
    if (rc < 0)
        return rc == -ENOMEM ? JWT_AUTH_NO_MEMORY : JWT_AUTH_MALFORMED;
    rc = jws_verify(a->family, a->bits, key->key, key->len, token,
                    (size_t)(p.sig - 1 - token), (unsigned char *)sig, n);
    free(sig);
    *why = "signature does not verify with the configured key";
    return rc == 0 ? JWT_AUTH_OK : rc == -ENOMEM ? JWT_AUTH_NO_MEMORY
         : JWT_AUTH_BAD_SIGNATURE;
}

/* Step 4: libjwt checks the signature; its alg must be the key's. */
static int jwt_auth_signature(const struct jwt_auth_key *key,
                              const char *token, size_t len,
                              const char **why)
{
    char *copy = malloc(len + 1);
    jwt_t *j = NULL;
    int rc;

    if (copy == NULL)
        return JWT_AUTH_NO_MEMORY;
    memcpy(copy, token, len);
    copy[len] = '\0';
    rc = jwt_decode(&j, copy, key->key, (int)key->len);
    explicit_bzero(copy, len);
    free(copy);
    *why = "signature does not verify with the configured key";
    if (rc != 0 || j == NULL) {
        if (j != NULL)
            jwt_free(j);
        return JWT_AUTH_BAD_SIGNATURE;
    }
    rc = jwt_get_alg(j) == jwt_auth_algs[key->alg].lib
             ? JWT_AUTH_OK : JWT_AUTH_ALG_MISMATCH;
    jwt_free(j);
    if (rc != JWT_AUTH_OK)
        *why = "libjwt read another algorithm than the configured one";
    return rc;
}

/* Step 5: the token's kind. An access token needs a key with a 1.0
 * profile, exp, the issuer and the resource; its grants are its
 * authorization_details. */
static int jwt_auth_profile(const struct jwt_auth_key *key, bool at_jwt,
                            struct jwt_claims *c, const char **why)
{
    int rc = JWT_AUTH_OK;

    if (!at_jwt)
        rc = c->has_authz ? JWT_AUTH_NOT_AT_JWT : JWT_AUTH_OK;
    else if (key->issuer == NULL || key->resource == NULL)
        rc = JWT_AUTH_ACCESS_OFF;
    else if (!c->has_exp)
        rc = JWT_AUTH_NO_EXP;
    else if (c->iss == NULL || strcmp(c->iss, key->issuer) != 0)
        rc = JWT_AUTH_WRONG_ISSUER;
    else if (!jwt_claims_has_aud(c, key->resource))
        rc = JWT_AUTH_WRONG_AUDIENCE;
    c->access_token = at_jwt && rc == JWT_AUTH_OK;
    *why = jwt_auth_result_name((enum jwt_auth_result)rc);
    return rc;
}

/* Step 6: the times. */
static int jwt_auth_times(const struct jwt_claims *c, time_t now,
                          const char **why)
{
    if (c->has_exp && now >= c->exp) {
        *why = "token expired (exp)";
        return JWT_AUTH_EXPIRED;
    }
    if (c->has_nbf && now < c->nbf) {
        *why = "token not valid yet (nbf)";
        return JWT_AUTH_NOT_YET_VALID;
    }
    *why = "ok";
    return JWT_AUTH_OK;
}

int jwt_auth_verify(const struct jwt_auth_key *key, const char *token,
                    size_t len, time_t now, struct jwt_claims *out,
                    const char **why)
{
    bool at_jwt = false;
    int rc;

    memset(out, 0, sizeof(*out));
    *why = "empty token";
    if (len == 0 || key->key == NULL)
        return JWT_AUTH_MALFORMED;
    *why = "token longer than JWT_AUTH_TOKEN_MAX";
    if (len > JWT_AUTH_TOKEN_MAX)
        return JWT_AUTH_TOO_LONG;
    rc = jwt_auth_precheck(key, token, len, out, &at_jwt, why);
    if (rc == JWT_AUTH_OK)
        rc = at_jwt ? jwt_auth_signature_at(key, token, len, why)
                    : jwt_auth_signature(key, token, len, why);
    if (rc == JWT_AUTH_OK)
        rc = jwt_auth_profile(key, at_jwt, out, why);
    if (rc == JWT_AUTH_OK)
        rc = jwt_auth_times(out, now, why);
    if (rc == JWT_AUTH_NO_MEMORY)
        *why = "out of memory";
    if (rc != JWT_AUTH_OK)
        jwt_claims_free(out);
    return rc;
}
