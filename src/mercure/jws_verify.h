/* jws_verify.h -- a JWS signature checked with libcrypto (OpenSSL 3),
 * for the tokens libjwt 1.10 cannot read: it refuses every header typ
 * but "JWT", and Mercure 1.0 access tokens say "at+jwt" (RFC 9068).
 * jwt_auth.c calls it after its own checks (the algorithm pinned by the
 * key and compared with the header's before anything else), so this
 * module only computes: the key's type must suit the family (an RSA key
 * for RSA, an EC key of the digest's curve for ECDSA), which is the
 * algorithm-confusion defence at this level. */
#ifndef SSEQ_JWS_VERIFY_H
#define SSEQ_JWS_VERIFY_H

#include <stddef.h>

/* The signature families of RFC 7518 section 3 sseq takes. */
enum jws_verify_family {
    JWS_VERIFY_HMAC,            /* HS256/384/512: a secret */
    JWS_VERIFY_RSA,             /* RS256/384/512: RSASSA-PKCS1-v1_5 */
    JWS_VERIFY_ECDSA,           /* ES256/384/512: P-256, P-384, P-521 */
};

/* Verifies sig[0..sig_len) (the decoded third part) over the signing
 * input in[0..len) ("header.payload" as sent) with digest SHA-bits (256,
 * 384, 512) and key[0..key_len) (a secret, or PEM "PUBLIC KEY" text).
 * 0 when it verifies; -EBADMSG when it does not; -EINVAL when the key
 * does not suit the family and digest; -ENOMEM. */
int jws_verify(enum jws_verify_family family, unsigned bits,
               const unsigned char *key, size_t key_len, const char *in,
               size_t len, const unsigned char *sig, size_t sig_len);

#endif
