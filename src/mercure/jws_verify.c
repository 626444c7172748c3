/* jws_verify.c -- JWS signatures with libcrypto: HMAC compared in
 * constant time; RSA and ECDSA through EVP_DigestVerify on a public key
 * read from PEM text, an ECDSA signature turned from JWS's r || s
 * (RFC 7518 3.4) into the DER OpenSSL verifies. */
#include "ac_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "mercure/jws_verify.h"

/* SHA-bits, or NULL. */
static const EVP_MD *jws_md(unsigned bits)
{
    return bits == 256 ? EVP_sha256() : bits == 384 ? EVP_sha384()
         : bits == 512 ? EVP_sha512() : NULL;
}

/* HMAC-SHA-bits of in, compared with sig in constant time. */
static int jws_hmac(const EVP_MD *md, const unsigned char *key,
                    size_t key_len, const char *in, size_t len,
                    const unsigned char *sig, size_t sig_len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int rc;

    if (HMAC(md, key, (int)key_len, (const unsigned char *)in, len, mac,
             &n) == NULL)
        return -ENOMEM;
    rc = n == sig_len && CRYPTO_memcmp(mac, sig, n) == 0 ? 0 : -EBADMSG;
    OPENSSL_cleanse(mac, sizeof(mac));
    return rc;
}

/* The public key of PEM text key[0..len), or NULL. */
static EVP_PKEY *jws_pubkey(const unsigned char *key, size_t len)
{
    BIO *b = BIO_new_mem_buf(key, (int)len);
    EVP_PKEY *k;

    if (b == NULL)
        return NULL;
    k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    return k;
}

/* JWS's ECDSA r || s (2 x the curve's bytes) as DER into *der. */
static int jws_ecdsa_der(const unsigned char *sig, size_t sig_len,
                         unsigned char **der, int *der_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r, *s;

    if (es == NULL)
        return -ENOMEM;
    r = BN_bin2bn(sig, (int)(sig_len / 2), NULL);
    s = BN_bin2bn(sig + sig_len / 2, (int)(sig_len / 2), NULL);
    if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -ENOMEM;
    }
    *der = NULL;
    *der_len = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);
    return *der_len > 0 ? 0 : -ENOMEM;
}

/* Whether key k suits the family at SHA-bits: RSA any size; EC of the
 * digest's curve (P-256, P-384, P-521). */
static bool jws_key_suits(EVP_PKEY *k, enum jws_verify_family f,
                          unsigned bits)
{
    if (f == JWS_VERIFY_RSA)
        return EVP_PKEY_base_id(k) == EVP_PKEY_RSA;
    return EVP_PKEY_base_id(k) == EVP_PKEY_EC &&
           EVP_PKEY_get_bits(k) == (bits == 512 ? 521 : (int)bits);
}

/* The curve's bytes for ES-bits. */
static size_t jws_ec_bytes(unsigned bits)
{
    return bits == 512 ? 66 : bits / 8;
}

/* RSA or ECDSA: EVP_DigestVerify of in with key k. */
static int jws_digest_verify(EVP_PKEY *k, enum jws_verify_family f,
                             const EVP_MD *md, unsigned bits,
                             const char *in, size_t len,
                             const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *ctx;
    unsigned char *der = NULL;
    int der_len = 0, rc;

    if (f == JWS_VERIFY_ECDSA) {
        if (sig_len != 2 * jws_ec_bytes(bits))
            return -EBADMSG;
        rc = jws_ecdsa_der(sig, sig_len, &der, &der_len);
        if (rc < 0)
            return rc;
        sig = der;
        sig_len = (size_t)der_len;
    }
    ctx = EVP_MD_CTX_new();
    rc = -ENOMEM;
    if (ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, md, NULL, k) == 1)
        rc = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)in,
                              len) == 1 ? 0 : -EBADMSG;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return rc;
}

int jws_verify(enum jws_verify_family family, unsigned bits,
               const unsigned char *key, size_t key_len, const char *in,
               size_t len, const unsigned char *sig, size_t sig_len)
{
    const EVP_MD *md = jws_md(bits);
    EVP_PKEY *k;
    int rc;

    if (md == NULL || key_len == 0 || key_len > INT32_MAX)
        return -EINVAL;
    if (family == JWS_VERIFY_HMAC)
        return jws_hmac(md, key, key_len, in, len, sig, sig_len);
    k = jws_pubkey(key, key_len);
    if (k == NULL)
        return -EINVAL;
    rc = jws_key_suits(k, family, bits)
         ? jws_digest_verify(k, family, md, bits, in, len, sig, sig_len)
         : -EINVAL;
    EVP_PKEY_free(k);
    return rc;
}
