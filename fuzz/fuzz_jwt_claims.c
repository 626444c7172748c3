/* fuzz_jwt_claims.c -- libFuzzer target for what reads attacker bytes
 * before any signature is trusted: b64url.c, jwt_claims.c (header alg,
 * claims set), the pre-signature path of jwt_auth_verify and the token
 * sources of mercure_token.c. The first byte picks the entry point; the
 * rest is its input (mercure_token_find takes three '\0'-separated
 * parts: Authorization, query string, Cookie). */
#include "ac_config.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/b64url.h"
#include "mercure/jwt_auth.h"
#include "mercure/jwt_claims.h"
#include "mercure/mercure_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_secret[] = "fuzz-secret-0123456789abcdef-0123456789";

/* The claims reader; selectors it returns are well-formed. */
static void fuzz_claims(const char *in, size_t len)
{
    struct jwt_claims c;
    const char *why;
    int rc = jwt_claims_parse(in, len, &c, &why);

    assert(rc == 0 || rc == -EINVAL || rc == -EBADMSG || rc == -ENOMEM);
    assert(why != NULL);
    if (rc == 0) {
        static const char hub[] = "https://hub.example/.well-known/mercure";
        char bwhy[300];

        for (size_t i = 0; i < c.n_publish; i++)
            assert(strlen(c.publish[i]) == c.publish_len[i]);
        for (size_t i = 0; i < c.n_subscribe; i++)
            assert(strlen(c.subscribe[i]) == c.subscribe_len[i]);
        rc = jwt_claims_bind(&c, hub, sizeof(hub) - 1, 64, bwhy,
                             sizeof(bwhy));
        assert(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
        (void)jwt_claims_can_publish(&c, "https://example.com/a", 21, NULL);
        (void)jwt_claims_can_subscribe(&c, in, len, NULL);
    }
    jwt_claims_free(&c);
}

/* The header reader: an alg it returns fits and holds no NUL. */
static void fuzz_header(const char *in, size_t len)
{
    char alg[JWT_CLAIMS_ALG_MAX];

    if (jwt_claims_header_alg(in, len, alg, sizeof(alg)) == 0)
        assert(strlen(alg) < sizeof(alg));
}

/* Strict base64url: what decodes re-decodes to the same length. */
static void fuzz_b64(const char *in, size_t len)
{
    size_t cap = B64URL_DECODED_MAX(len);
    unsigned char *out = malloc(cap ? cap : 1);
    long n;

    if (out == NULL)
        return;
    n = b64url_decode(out, cap, in, len);
    assert(n == -EINVAL || (n >= 0 && (size_t)n <= cap));
    free(out);
}

/* The whole verification with an HS256 key: anything fuzzed is refused
 * (the fuzzer cannot forge HMAC-SHA256), and nothing crashes. */
static void fuzz_verify(const char *in, size_t len)
{
    struct jwt_auth_key k;
    struct jwt_claims c;
    const char *why;

    if (jwt_auth_key_init(&k, JWT_AUTH_HS256, fuzz_secret,
                          sizeof(fuzz_secret) - 1, &why) != 0)
        return;
    (void)jwt_auth_verify(&k, in, len, time(NULL), &c, &why);
    jwt_claims_free(&c);
    jwt_auth_key_free(&k);
}

/* The token sources, on three NUL-terminated parts. */
static void fuzz_sources(const char *in, size_t len)
{
    char *copy = malloc(len + 3), buf[256];
    const char *auth, *query, *cookies;
    enum mercure_token_source src;
    size_t n;
    int rc;

    if (copy == NULL)
        return;
    memcpy(copy, in, len);
    memset(copy + len, 0, 3);
    auth = copy;
    query = auth + strlen(auth) + 1;
    if ((size_t)(query - copy) > len)
        query = copy + len + 1;
    cookies = query + strlen(query) + 1;
    if ((size_t)(cookies - copy) > len + 1)
        cookies = copy + len + 2;
    rc = mercure_token_find(auth, query, cookies, NULL, buf, sizeof(buf),
                            &n, &src);
    assert(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -E2BIG);
    if (rc == 0)
        assert(n > 0 && n < sizeof(buf) && strlen(buf) <= n);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data + 1;
    size_t len = size ? size - 1 : 0;

    if (size == 0)
        return 0;
    switch (data[0] % 5) {
    case 0:
        fuzz_claims(in, len);
        break;
    case 1:
        fuzz_header(in, len);
        break;
    case 2:
        fuzz_b64(in, len);
        break;
    case 3:
        fuzz_verify(in, len);
        break;
    default:
        fuzz_sources(in, len);
        break;
    }
    return 0;
}
