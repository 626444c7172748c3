/* check_jwt_auth.c -- the "jwt_auth" suite: JWS verification against
 * tokens minted by a real JWT library (python3-jwt, with
 * python3-cryptography for RSA and EC keys, made at test time in a
 * temporary directory), never by sseq code; the claims reader, strict
 * base64url, and the three token sources of mercure_token.
 *
 * main() makes the keys and the minting script once; every test mints
 * what it needs through popen("python3 mint.py ..."). The interpreter is
 * Debian's /usr/bin/python3 (where python3-jwt is installed), or
 * $SSEQ_PYTHON. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/b64url.h"
#include "mercure/jwt_auth.h"
#include "mercure/mercure_hub.h"
#include "mercure/jwt_claims.h"
#include "mercure/mercure_token.h"
#include "unit_run.h"

#define LIT(s) (s), (sizeof(s) - 1)
#define TOKEN_CAP 8192

static char keydir[] = "/tmp/sseq-jwt-XXXXXX";
static const char *python = "/usr/bin/python3";

#define HS256_SECRET "0123456789abcdef0123456789abcdef-hs256"
#define HS384_SECRET "0123456789abcdef0123456789abcdef0123456789abcdef-hs384"
#define HS512_SECRET "0123456789abcdef0123456789abcdef" \
                     "0123456789abcdef0123456789abcdef-hs512"
#define OTHER_SECRET "another-secret-of-more-than-32-bytes-!!"

/* The minting script: mint.py ALG KEYFILE CLAIMS_JSON [HEADERS_JSON].
 * ALG "none" signs nothing; ALG "HS256-raw" HMACs the token by hand with
 * KEYFILE's bytes as the secret (PyJWT refuses PEM text as an HMAC
 * secret, which is exactly the forgery tested); ALG "HS256-body" signs a
 * payload given as raw text instead of JSON. */
static const char mint_py[] =
    "import sys, json, hmac, hashlib, base64\n"
    "import jwt\n"
    "alg, keyfile, claims = sys.argv[1], sys.argv[2], sys.argv[3]\n"
    "headers = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None\n"
    "key = open(keyfile, 'rb').read() if keyfile != '-' else None\n"
    "def b64(b):\n"
    "    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()\n"
    "def hs256(body):\n"
    "    head = b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())\n"
    "    msg = head + '.' + b64(body)\n"
    "    sig = hmac.new(key, msg.encode(), hashlib.sha256).digest()\n"
    "    return msg + '.' + b64(sig)\n"
    "if alg == 'HS256-raw':\n"
    "    print(hs256(json.dumps(json.loads(claims)).encode()))\n"
    "elif alg == 'HS256-body':\n"
    "    print(hs256(claims.encode()))\n"
    "elif alg == 'none':\n"
    "    print(jwt.encode(json.loads(claims), None, algorithm='none',\n"
    "                     headers=headers))\n"
    "else:\n"
    "    print(jwt.encode(json.loads(claims), key, algorithm=alg,\n"
    "                     headers=headers))\n";

/* The keys: PEM pairs made with python3-cryptography. */
static const char keys_py[] =
    "import sys\n"
    "from cryptography.hazmat.primitives.asymmetric import rsa, ec\n"
    "from cryptography.hazmat.primitives import serialization as s\n"
    "d = sys.argv[1]\n"
    "def save(name, k):\n"
    "    open(d + '/' + name + '.key', 'wb').write(k.private_bytes(\n"
    "        s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))\n"
    "    open(d + '/' + name + '.pub', 'wb').write(\n"
    "        k.public_key().public_bytes(s.Encoding.PEM,\n"
    "            s.PublicFormat.SubjectPublicKeyInfo))\n"
    "save('rsa', rsa.generate_private_key(65537, 2048))\n"
    "save('rsa2', rsa.generate_private_key(65537, 2048))\n"
    "save('ec', ec.generate_private_key(ec.SECP256R1()))\n"
    "save('ec2', ec.generate_private_key(ec.SECP256R1()))\n";

/* Writes len bytes of data to keydir/name. */
static void put_file(const char *name, const char *data, size_t len)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", keydir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* The contents of keydir/name (malloc'd, NUL-terminated). */
static char *get_file(const char *name, size_t *len)
{
    char path[256], *buf;
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/%s", keydir, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert(buf != NULL);
    ck_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Mints a token with python3-jwt; alg and claims as mint.py takes them,
 * keyfile a name in keydir or "-". Returns a malloc'd token. */
static char *mint(const char *alg, const char *keyfile, const char *claims,
                  const char *headers)
{
    size_t cap = strlen(claims) + (headers ? strlen(headers) : 0) + 512;
    char *cmd = malloc(cap), *tok = malloc(TOKEN_CAP * 4);
    FILE *p;
    size_t n;

    ck_assert(tok != NULL && cmd != NULL);
    snprintf(cmd, cap, "cd '%s' && '%s' mint.py '%s' '%s' '%s'"
             " %s%s%s", keydir, python, alg, keyfile, claims,
             headers ? "'" : "", headers ? headers : "", headers ? "'" : "");
    p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "popen python3");
    n = fread(tok, 1, TOKEN_CAP * 4 - 1, p);
    ck_assert_msg(pclose(p) == 0, "minting failed: %s", cmd);
    while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
        n--;
    tok[n] = '\0';
    ck_assert_msg(n > 0, "no token from: %s", cmd);
    free(cmd);
    return tok;
}

/* A key: alg and the contents of keydir/file (or the literal secret). */
static struct jwt_auth_key key_of(const char *alg, const char *file,
                                  const char *secret)
{
    struct jwt_auth_key k;
    enum jwt_auth_alg a;
    const char *why;
    size_t len;
    char *material;

    ck_assert(jwt_auth_alg_parse(alg, &a) == 0);
    material = secret ? strdup(secret) : get_file(file, &len);
    ck_assert(material != NULL);
    if (secret)
        len = strlen(secret);
    ck_assert_msg(jwt_auth_key_init(&k, a, material, len, &why) == 0,
                  "key %s: %s", alg, why);
    free(material);
    return k;
}

/* Verifies tok with k now; returns the result, claims freed unless kept. */
static int verify(const struct jwt_auth_key *k, const char *tok,
                  struct jwt_claims *keep)
{
    struct jwt_claims c;
    const char *why = NULL;
    int rc = jwt_auth_verify(k, tok, strlen(tok), time(NULL), &c, &why);

    ck_assert_msg(why != NULL && strstr(why, tok) == NULL,
                  "a reason is given and never holds the token");
    if (keep != NULL)
        *keep = c;
    else
        jwt_claims_free(&c);
    return rc;
}

#define CLAIMS_PUBSUB \
    "{\"mercure\": {\"publish\": [\"https://example.com/books/{id}\"], " \
    "\"subscribe\": [\"https://example.com/users/foo/{?topic}\", " \
    "\"exact\"]}}"

/* ---- valid tokens, each algorithm ---- */

/* Mints CLAIMS_PUBSUB with alg and the signing key, verifies with the
 * verification key and checks the claims read. */
static void check_valid(const char *alg, const char *sign_file,
                        const char *verify_file, const char *secret)
{
    struct jwt_auth_key k = key_of(alg, verify_file, secret);
    char *tok = mint(alg, sign_file, CLAIMS_PUBSUB, NULL);
    struct jwt_claims c;
    int rc = verify(&k, tok, &c);

    ck_assert_msg(rc == JWT_AUTH_OK, "%s token: expected OK, got %s", alg,
                  jwt_auth_result_name(rc));
    ck_assert(c.n_publish == 1 && c.n_subscribe == 2);
    ck_assert_str_eq(c.publish[0], "https://example.com/books/{id}");
    ck_assert(c.publish_len[0] == strlen(c.publish[0]));
    ck_assert_str_eq(c.subscribe[1], "exact");
    ck_assert(!c.has_exp && !c.has_nbf);
    jwt_claims_free(&c);
    jwt_auth_key_free(&k);
    free(tok);
}

START_TEST(test_valid_hs256)
{
    put_file("hs256", LIT(HS256_SECRET));
    check_valid("HS256", "hs256", NULL, HS256_SECRET);
}
END_TEST

START_TEST(test_valid_hs384)
{
    put_file("hs384", LIT(HS384_SECRET));
    check_valid("HS384", "hs384", NULL, HS384_SECRET);
}
END_TEST

START_TEST(test_valid_hs512)
{
    put_file("hs512", LIT(HS512_SECRET));
    check_valid("HS512", "hs512", NULL, HS512_SECRET);
}
END_TEST

START_TEST(test_valid_rs256)
{
    check_valid("RS256", "rsa.key", "rsa.pub", NULL);
}
END_TEST

START_TEST(test_valid_es256)
{
    check_valid("ES256", "ec.key", "ec.pub", NULL);
}
END_TEST

/* ---- refusals ---- */

START_TEST(test_alg_none)
{
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);
    char *tok = mint("none", "-", CLAIMS_PUBSUB, NULL);
    int rc = verify(&k, tok, NULL);

    ck_assert_msg(rc == JWT_AUTH_ALG_NONE, "alg none: got %s",
                  jwt_auth_result_name(rc));
    jwt_auth_key_free(&k);
    free(tok);
}
END_TEST

START_TEST(test_wrong_key)
{
    struct jwt_auth_key hk = key_of("HS256", NULL, HS256_SECRET);
    struct jwt_auth_key rk = key_of("RS256", "rsa.pub", NULL);
    struct jwt_auth_key ek = key_of("ES256", "ec.pub", NULL);
    char *t1, *t2, *t3;

    put_file("other", LIT(OTHER_SECRET));
    t1 = mint("HS256", "other", CLAIMS_PUBSUB, NULL);
    t2 = mint("RS256", "rsa2.key", CLAIMS_PUBSUB, NULL);
    t3 = mint("ES256", "ec2.key", CLAIMS_PUBSUB, NULL);
    ck_assert_msg(verify(&hk, t1, NULL) == JWT_AUTH_BAD_SIGNATURE,
                  "HS256 with another secret");
    ck_assert_msg(verify(&rk, t2, NULL) == JWT_AUTH_BAD_SIGNATURE,
                  "RS256 with another RSA key");
    ck_assert_msg(verify(&ek, t3, NULL) == JWT_AUTH_BAD_SIGNATURE,
                  "ES256 with another EC key");
    jwt_auth_key_free(&hk);
    jwt_auth_key_free(&rk);
    jwt_auth_key_free(&ek);
    free(t1);
    free(t2);
    free(t3);
}
END_TEST

/* The algorithm-confusion forgery: HS256 with the RSA public key's PEM
 * text as HMAC secret. The same token verifies against an HS256 key of
 * that text (so it is a correct forgery) and must be refused by the
 * RS256 key, before libjwt is asked. */
START_TEST(test_hs256_with_rsa_pem_refused)
{
    struct jwt_auth_key rk = key_of("RS256", "rsa.pub", NULL);
    struct jwt_auth_key hk = { .alg = JWT_AUTH_HS256 };
    char *tok = mint("HS256-raw", "rsa.pub", CLAIMS_PUBSUB, NULL);
    int rc;

    /* Built by hand: jwt_auth_key_init refuses PEM text as HS secret. */
    hk.key = (unsigned char *)get_file("rsa.pub", &hk.len);
    ck_assert_msg(verify(&hk, tok, NULL) == JWT_AUTH_OK,
                  "control: the forgery is a valid HS256 token for the PEM");
    rc = verify(&rk, tok, NULL);
    ck_assert_msg(rc == JWT_AUTH_ALG_MISMATCH,
                  "HS256 forged with the RSA PEM against RS256: got %s",
                  jwt_auth_result_name(rc));
    jwt_auth_key_free(&rk);
    jwt_auth_key_free(&hk);
    free(tok);
}
END_TEST

START_TEST(test_alg_mismatch)
{
    struct jwt_auth_key hk = key_of("HS256", NULL, HS256_SECRET);
    struct jwt_auth_key ek = key_of("ES256", "ec.pub", NULL);
    char *t1, *t2, *t3;

    put_file("hs256", LIT(HS256_SECRET));
    put_file("hs384", LIT(HS384_SECRET));
    t1 = mint("HS384", "hs256", CLAIMS_PUBSUB, NULL);
    t2 = mint("RS256", "rsa.key", CLAIMS_PUBSUB, NULL);
    t3 = mint("ES256", "ec.key", CLAIMS_PUBSUB, NULL);
    ck_assert_msg(verify(&hk, t1, NULL) == JWT_AUTH_ALG_MISMATCH,
                  "HS384 token, HS256 key (same secret)");
    ck_assert_msg(verify(&hk, t2, NULL) == JWT_AUTH_ALG_MISMATCH,
                  "RS256 token, HS256 key");
    ck_assert_msg(verify(&ek, t2, NULL) == JWT_AUTH_ALG_MISMATCH,
                  "RS256 token, ES256 key");
    ck_assert_msg(verify(&hk, t3, NULL) == JWT_AUTH_ALG_MISMATCH,
                  "ES256 token, HS256 key");
    ck_assert_msg(verify(&ek, t3, NULL) == JWT_AUTH_OK,
                  "control: the ES256 token is valid for the ES256 key");
    jwt_auth_key_free(&hk);
    jwt_auth_key_free(&ek);
    free(t1);
    free(t2);
    free(t3);
}
END_TEST

START_TEST(test_malformed)
{
    static const char *const bad[] = {
        "", "abc", "a.b", "a.b.c.d", ".e30.c2ln", "eyJhbGciOiJIUzI1NiJ9..x",
        "!!!.e30.c2ln",
        "eyJhbGciOiJIUzI1NiJ9.e30=.c2ln",        /* padding */
        "eyJhbGciOiJIUzI1NiJ9.e+0.c2ln",         /* base64, not url */
        "bm90IGpzb24.e30.c2ln",                  /* "not json" */
        "eyJ0eXAiOiJKV1QifQ.e30.c2ln",           /* {"typ":"JWT"}: no alg */
        "eyJhbGciOjF9.e30.c2ln",                 /* {"alg":1} */
        "eyJhbGciOiJIUzI1NiJ9.e30",              /* two parts */
        "eyJhbGciOiJIUzI1NiJ9.e30.",             /* empty signature */
    };
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jwt_claims c;
        const char *why;
        int rc = jwt_auth_verify(&k, bad[i], strlen(bad[i]), time(NULL),
                                 &c, &why);

        ck_assert_msg(rc == JWT_AUTH_MALFORMED, "\"%s\": expected "
                      "MALFORMED, got %s", bad[i], jwt_auth_result_name(rc));
        jwt_claims_free(&c);
    }
    jwt_auth_key_free(&k);
}
END_TEST

/* A validly signed token whose payload is not JSON, or whose header
 * asks for an extension (crit), is refused. */
START_TEST(test_malformed_signed)
{
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);
    char *t1, *t2, *t3, *t4;

    put_file("hs256", LIT(HS256_SECRET));
    t1 = mint("HS256-body", "hs256", "not json at all", NULL);
    t2 = mint("HS256-body", "hs256", "{\"a\": 1} trailing", NULL);
    t3 = mint("HS256", "hs256", "{}", "{\"crit\": [\"exp\"]}");
    t4 = mint("HS256-body", "hs256", "[1, 2]", NULL);
    ck_assert(verify(&k, t1, NULL) == JWT_AUTH_MALFORMED);
    ck_assert(verify(&k, t2, NULL) == JWT_AUTH_MALFORMED);
    ck_assert(verify(&k, t3, NULL) == JWT_AUTH_MALFORMED);
    ck_assert(verify(&k, t4, NULL) == JWT_AUTH_MALFORMED);
    jwt_auth_key_free(&k);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
}
END_TEST

START_TEST(test_times)
{
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);
    time_t now = time(NULL);
    char claims[256], *tok;
    struct jwt_claims c;
    const char *why;
    int rc;

    put_file("hs256", LIT(HS256_SECRET));
    snprintf(claims, sizeof(claims), "{\"exp\": %lld}", (long long)now - 10);
    tok = mint("HS256", "hs256", claims, NULL);
    ck_assert_msg(verify(&k, tok, NULL) == JWT_AUTH_EXPIRED, "exp passed");
    free(tok);

    snprintf(claims, sizeof(claims), "{\"exp\": %lld}", (long long)now + 100);
    tok = mint("HS256", "hs256", claims, NULL);
    rc = jwt_auth_verify(&k, tok, strlen(tok), now, &c, &why);
    ck_assert_msg(rc == JWT_AUTH_OK, "exp ahead: %s", why);
    ck_assert_msg(c.has_exp && c.exp == now + 100, "exp is returned");
    jwt_claims_free(&c);
    rc = jwt_auth_verify(&k, tok, strlen(tok), now + 100, &c, &why);
    ck_assert_msg(rc == JWT_AUTH_EXPIRED, "now == exp is expired");
    free(tok);

    snprintf(claims, sizeof(claims), "{\"nbf\": %lld}", (long long)now + 100);
    tok = mint("HS256", "hs256", claims, NULL);
    ck_assert_msg(jwt_auth_verify(&k, tok, strlen(tok), now, &c, &why) ==
                  JWT_AUTH_NOT_YET_VALID, "nbf ahead");
    ck_assert_msg(jwt_auth_verify(&k, tok, strlen(tok), now + 100, &c, &why)
                  == JWT_AUTH_OK, "nbf reached");
    jwt_claims_free(&c);
    free(tok);
    jwt_auth_key_free(&k);
}
END_TEST

START_TEST(test_too_long)
{
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);
    char *tok, claims[JWT_AUTH_TOKEN_MAX];
    struct jwt_claims c;
    const char *why;

    put_file("hs256", LIT(HS256_SECRET));
    snprintf(claims, sizeof(claims), "{\"pad\": \"%0*d\"}",
             JWT_AUTH_TOKEN_MAX * 3 / 4, 0);
    tok = mint("HS256", "hs256", claims, NULL);
    ck_assert(strlen(tok) > JWT_AUTH_TOKEN_MAX);
    ck_assert(jwt_auth_verify(&k, tok, strlen(tok), time(NULL), &c, &why)
              == JWT_AUTH_TOO_LONG);
    free(tok);
    jwt_auth_key_free(&k);
}
END_TEST

/* ---- claims ---- */

START_TEST(test_claims_missing)
{
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);
    struct jwt_claims c;
    char *tok;

    put_file("hs256", LIT(HS256_SECRET));
    tok = mint("HS256", "hs256", "{\"sub\": \"x\"}", NULL);
    ck_assert(verify(&k, tok, &c) == JWT_AUTH_OK);
    ck_assert_msg(c.n_publish == 0 && c.n_subscribe == 0 && !c.has_exp,
                  "no mercure claim: no selectors");
    ck_assert(!jwt_claims_can_publish(&c, LIT("x"), NULL));
    ck_assert(!jwt_claims_can_subscribe(&c, LIT("x"), NULL));
    jwt_claims_free(&c);
    free(tok);
    jwt_auth_key_free(&k);
}
END_TEST

START_TEST(test_claims_bad_types)
{
    static const char *const bad[] = {
        "{\"mercure\": {\"publish\": \"*\"}}",
        "{\"mercure\": {\"publish\": [1]}}",
        "{\"mercure\": {\"subscribe\": [\"a\", null]}}",
        "{\"mercure\": [\"*\"]}",
        "{\"exp\": \"tomorrow\"}",
        "{\"exp\": -1}",
        "{\"nbf\": 1e300}",
    };
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);

    put_file("hs256", LIT(HS256_SECRET));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *tok = mint("HS256", "hs256", bad[i], NULL);
        int rc = verify(&k, tok, NULL);

        ck_assert_msg(rc == JWT_AUTH_BAD_CLAIMS, "%s: expected BAD_CLAIMS, "
                      "got %s", bad[i], jwt_auth_result_name(rc));
        free(tok);
    }
    jwt_auth_key_free(&k);
}
END_TEST

START_TEST(test_claims_selectors)
{
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);
    struct topic_selector_cache cache;
    struct jwt_claims c;
    char *tok;

    put_file("hs256", LIT(HS256_SECRET));
    ck_assert(topic_selector_cache_init(&cache, 64, 1024) == 0);
    tok = mint("HS256", "hs256", CLAIMS_PUBSUB, NULL);
    ck_assert(verify(&k, tok, &c) == JWT_AUTH_OK);
    ck_assert(jwt_claims_can_publish(&c, LIT("https://example.com/books/1"),
                                     &cache));
    ck_assert(!jwt_claims_can_publish(&c,
              LIT("https://example.com/books/1/reviews"), &cache));
    ck_assert_msg(!jwt_claims_can_publish(&c, LIT("exact"), &cache),
                  "subscribe selectors do not grant publishing");
    ck_assert(jwt_claims_can_subscribe(&c, LIT("exact"), NULL));
    ck_assert(jwt_claims_can_subscribe(&c,
              LIT("https://example.com/users/foo/?topic=bar"), &cache));
    ck_assert(!jwt_claims_can_subscribe(&c, LIT("exact2"), &cache));
    jwt_claims_free(&c);
    free(tok);

    tok = mint("HS256", "hs256", "{\"mercure\": {\"publish\": [\"*\"]}}",
               NULL);
    ck_assert(verify(&k, tok, &c) == JWT_AUTH_OK);
    ck_assert_msg(jwt_claims_can_publish(&c, LIT("any/topic"), &cache),
                  "* grants every topic");
    ck_assert(!jwt_claims_can_subscribe(&c, LIT("any/topic"), &cache));
    jwt_claims_free(&c);
    free(tok);
    topic_selector_cache_free(&cache);
    jwt_auth_key_free(&k);
}
END_TEST

/* The reader alone, on hand-written JSON. */
START_TEST(test_claims_reader)
{
    struct { const char *json; int want; } cases[] = {
        { "{}", 0 },
        { " { \"a\" : [ 1, -2.5e3, true, false, null, {\"b\": {}} ] } ", 0 },
        { "{\"mercure\": {\"publish\": [\"a\\u00e9\\ud83d\\ude00\"]}}", 0 },
        { "{\"mercure\": {\"payload\": {\"x\": [1]}, \"publish\": []}}", 0 },
        { "{\"exp\": 1.5e9}", 0 },
        { "", -EINVAL },
        { "[]", -EINVAL },
        { "{", -EINVAL },
        { "{\"a\": 1,}", -EINVAL },
        { "{\"a\" 1}", -EINVAL },
        { "{} {}", -EINVAL },
        { "{\"a\": 01}", -EINVAL },
        { "{\"a\": \"\\x\"}", -EINVAL },
        { "{\"a\": \"\\ud800\"}", -EINVAL },
        { "{\"a\": \"\\udc00\"}", -EINVAL },
        { "{\"a\": \"tab\there\"}", -EINVAL },
        { "{\"a\": \"\xff\"}", -EINVAL },
        { "{\"a\": tru}", -EINVAL },
        { "{\"exp\": 1, \"exp\": 2}", -EBADMSG },
        { "{\"e\\u0078p\": 1, \"exp\": 2}", -EBADMSG },
        { "{\"mercure\": {\"publish\": [\"a\\u0000b\"]}}", -EBADMSG },
        { "{\"mercure\": {\"publish\": [], \"publish\": []}}", -EBADMSG },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jwt_claims c;
        const char *why;
        int rc = jwt_claims_parse(cases[i].json, strlen(cases[i].json), &c,
                                  &why);

        ck_assert_msg(rc == cases[i].want, "%s: expected %d, got %d (%s)",
                      cases[i].json, cases[i].want, rc, why);
        jwt_claims_free(&c);
    }
}
END_TEST

START_TEST(test_claims_reader_values)
{
    const char *json = "{\"exp\": 1.5e9, \"mercure\": {\"publish\": "
                       "[\"a\\u00e9\\ud83d\\ude00\\n\\/\"]}}";
    struct jwt_claims c;
    const char *why;

    ck_assert(jwt_claims_parse(json, strlen(json), &c, &why) == 0);
    ck_assert(c.has_exp && c.exp == 1500000000);
    ck_assert(c.n_publish == 1);
    ck_assert_str_eq(c.publish[0], "a\xc3\xa9\xf0\x9f\x98\x80\n/");
    ck_assert(c.publish_len[0] == 9);
    jwt_claims_free(&c);
}
END_TEST

START_TEST(test_claims_limits)
{
    size_t cap = 16 + JWT_CLAIMS_DEPTH_MAX * 2 + 1;
    char *deep = malloc(cap), *many;
    struct jwt_claims c;
    const char *why;
    size_t n = 0;

    ck_assert(deep != NULL);
    n += (size_t)sprintf(deep, "{\"a\":");
    for (int i = 0; i < JWT_CLAIMS_DEPTH_MAX; i++)
        deep[n++] = '[';
    for (int i = 0; i < JWT_CLAIMS_DEPTH_MAX; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    ck_assert_msg(jwt_claims_parse(deep, n, &c, &why) == -EINVAL,
                  "nesting deeper than JWT_CLAIMS_DEPTH_MAX is refused");
    jwt_claims_free(&c);
    free(deep);

    many = malloc(64 + (JWT_CLAIMS_SELECTORS_MAX + 1) * 4);
    ck_assert(many != NULL);
    n = (size_t)sprintf(many, "{\"mercure\":{\"publish\":[");
    for (int i = 0; i <= JWT_CLAIMS_SELECTORS_MAX; i++)
        n += (size_t)sprintf(many + n, "%s\"\"", i ? "," : "");
    n += (size_t)sprintf(many + n, "]}}");
    ck_assert_msg(jwt_claims_parse(many, n, &c, &why) == -EBADMSG,
                  "more than JWT_CLAIMS_SELECTORS_MAX selectors");
    jwt_claims_free(&c);
    free(many);
}
END_TEST

START_TEST(test_header_alg)
{
    char alg[JWT_CLAIMS_ALG_MAX];

    ck_assert(jwt_claims_header_alg(LIT("{\"alg\":\"ES256\",\"typ\":\"JWT\"}"),
                                    alg, sizeof(alg)) == 0);
    ck_assert_str_eq(alg, "ES256");
    ck_assert(jwt_claims_header_alg(LIT("{\"alg\":\"HS\\u0032\\u00356\"}"),
                                    alg, sizeof(alg)) == 0);
    ck_assert_str_eq(alg, "HS256");
    ck_assert(jwt_claims_header_alg(LIT("{\"alg\":\"HS256\",\"alg\":\"none\"}"),
                                    alg, sizeof(alg)) == -EINVAL);
    ck_assert(jwt_claims_header_alg(LIT("{\"alg\":\"HS256\",\"crit\":[]}"),
                                    alg, sizeof(alg)) == -EINVAL);
    ck_assert(jwt_claims_header_alg(LIT("{\"typ\":\"JWT\"}"), alg,
                                    sizeof(alg)) == -EINVAL);
    ck_assert(jwt_claims_header_alg(LIT("{\"alg\":\"a-very-long-algorithm\"}"),
                                    alg, sizeof(alg)) == -EINVAL);
    ck_assert(jwt_claims_header_alg(LIT("{\"alg\":\"HS\\u0000\"}"), alg,
                                    sizeof(alg)) == -EINVAL);
}
END_TEST

START_TEST(test_b64url)
{
    unsigned char out[16];

    ck_assert(b64url_decode(out, sizeof(out), LIT("")) == 0);
    ck_assert(b64url_decode(out, sizeof(out), LIT("YQ")) == 1 &&
              out[0] == 'a');
    ck_assert(b64url_decode(out, sizeof(out), LIT("YWI")) == 2);
    ck_assert(b64url_decode(out, sizeof(out), LIT("YWJj")) == 3);
    ck_assert(b64url_decode(out, sizeof(out), LIT("-_8")) == 2 &&
              out[0] == 0xfb && out[1] == 0xff);
    ck_assert_msg(b64url_decode(out, sizeof(out), LIT("YR")) == -EINVAL,
                  "non-zero unused bits: not canonical");
    ck_assert(b64url_decode(out, sizeof(out), LIT("YQ==")) == -EINVAL);
    ck_assert(b64url_decode(out, sizeof(out), LIT("Y")) == -EINVAL);
    ck_assert(b64url_decode(out, sizeof(out), LIT("+/8")) == -EINVAL);
    ck_assert(b64url_decode(out, 2, LIT("YWJj")) == -E2BIG);
}
END_TEST

START_TEST(test_key_check)
{
    const char *why;
    enum jwt_auth_alg a;
    size_t len;
    char *pem = get_file("rsa.pub", &len), *priv;

    ck_assert(jwt_auth_alg_parse("none", &a) == -EINVAL);
    ck_assert(jwt_auth_alg_parse("hs256", &a) == -EINVAL);
    ck_assert(jwt_auth_alg_parse("ES512", &a) == 0 && a == JWT_AUTH_ES512);
    ck_assert_str_eq(jwt_auth_alg_name(JWT_AUTH_RS384), "RS384");
    ck_assert(jwt_auth_key_check(JWT_AUTH_HS256, LIT("short"), &why)
              == -EINVAL);
    ck_assert(jwt_auth_key_check(JWT_AUTH_HS256, LIT(HS256_SECRET), &why)
              == 0);
    ck_assert_msg(jwt_auth_key_check(JWT_AUTH_HS512, LIT(HS256_SECRET), &why)
                  == -EINVAL, "HS512 wants 64 bytes");
    ck_assert(jwt_auth_key_check(JWT_AUTH_RS256, pem, len, &why) == 0);
    ck_assert_msg(jwt_auth_key_check(JWT_AUTH_RS256, LIT(HS256_SECRET), &why)
                  == -EINVAL, "RS256 wants a PEM public key");
    ck_assert_msg(jwt_auth_key_check(JWT_AUTH_HS256, pem, len, &why)
                  == -EINVAL, "a PEM public key is no HS secret");
    free(pem);
    priv = get_file("rsa.key", &len);
    ck_assert_msg(jwt_auth_key_check(JWT_AUTH_RS256, priv, len, &why)
                  == -EINVAL, "a private key is not a public key");
    free(priv);
}
END_TEST

/* ---- token sources ---- */

START_TEST(test_token_sources)
{
    char buf[64];
    size_t len;
    enum mercure_token_source src;

    ck_assert(mercure_token_find("Bearer hdr.tok.en", "authorization=q.t.k",
                                 "mercureAuthorization=c.t.k", NULL, buf,
                                 sizeof(buf), &len, &src) == 0);
    ck_assert_msg(src == MERCURE_TOKEN_HEADER &&
                  strcmp(buf, "hdr.tok.en") == 0 && len == 10,
                  "the header beats the query and the cookie");
    ck_assert(mercure_token_find(NULL, "topic=x&authorization=q.t%2Ek",
                                 "mercureAuthorization=c.t.k", NULL, buf,
                                 sizeof(buf), &len, &src) == 0);
    ck_assert_msg(src == MERCURE_TOKEN_QUERY && strcmp(buf, "q.t.k") == 0,
                  "the query beats the cookie, and is percent-decoded");
    ck_assert(mercure_token_find("", "topic=x",
                                 "a=1; mercureAuthorization=c.t.k; b=2",
                                 NULL, buf, sizeof(buf), &len, &src) == 0);
    ck_assert_msg(src == MERCURE_TOKEN_COOKIE && strcmp(buf, "c.t.k") == 0,
                  "the cookie among several, empty header = absent");
    ck_assert(mercure_token_find(NULL, NULL, "x=1;auth=\"q.u.o\"", "auth",
                                 buf, sizeof(buf), &len, &src) == 0);
    ck_assert_msg(src == MERCURE_TOKEN_COOKIE && strcmp(buf, "q.u.o") == 0,
                  "configured cookie name, quoted value");
    ck_assert_msg(mercure_token_find(NULL, NULL,
                                     "mercureAuthorization=c.t.k", "auth",
                                     buf, sizeof(buf), &len, &src)
                  == -ENOENT, "the default name does not apply when "
                  "another is configured");
    ck_assert(mercure_token_find(NULL, NULL,
                                 "xmercureAuthorization=1; "
                                 "mercureAuthorizationx=2; "
                                 "mercureAuthorization=3; "
                                 "mercureAuthorization=4", NULL,
                                 buf, sizeof(buf), &len, &src) == 0);
    ck_assert_msg(strcmp(buf, "3") == 0, "exact name, first one wins");
    ck_assert(mercure_token_find(NULL, "a=1", "b=2", NULL, buf, sizeof(buf),
                                 &len, &src) == -ENOENT);
    ck_assert(src == MERCURE_TOKEN_NONE);
    ck_assert(mercure_token_find(NULL, NULL, NULL, NULL, buf, sizeof(buf),
                                 &len, &src) == -ENOENT);
}
END_TEST

START_TEST(test_token_sources_errors)
{
    char buf[16];
    size_t len;
    enum mercure_token_source src;

    ck_assert_msg(mercure_token_find("Basic dXNlcjpwYXNz", "authorization=q",
                                     NULL, NULL, buf, sizeof(buf), &len,
                                     &src) == -EINVAL &&
                  src == MERCURE_TOKEN_HEADER,
                  "a non-Bearer header is an error, not a fall through");
    ck_assert(mercure_token_find("Bearer   ", NULL, NULL, NULL, buf,
                                 sizeof(buf), &len, &src) == -EINVAL);
    ck_assert(mercure_token_find("bearer  a.b.c ", NULL, NULL, NULL, buf,
                                 sizeof(buf), &len, &src) == 0 &&
              strcmp(buf, "a.b.c") == 0);
    ck_assert_msg(mercure_token_find(NULL, "authorization=a&authorization=b",
                                     "mercureAuthorization=c", NULL, buf,
                                     sizeof(buf), &len, &src) == -EINVAL,
                  "the parameter twice");
    ck_assert(mercure_token_find(NULL, "authorization=", NULL, NULL, buf,
                                 sizeof(buf), &len, &src) == -EINVAL);
    ck_assert(mercure_token_find(NULL, "authorization=a%2", NULL, NULL, buf,
                                 sizeof(buf), &len, &src) == -EINVAL);
    ck_assert(mercure_token_find(NULL, "authorization=a%00b", NULL, NULL,
                                 buf, sizeof(buf), &len, &src) == -EINVAL);
    ck_assert(mercure_token_find(NULL, NULL, "mercureAuthorization=", NULL,
                                 buf, sizeof(buf), &len, &src) == -EINVAL);
    ck_assert(mercure_token_find("Bearer 0123456789abcdef", NULL, NULL, NULL,
                                 buf, sizeof(buf), &len, &src) == -E2BIG);
    ck_assert(mercure_token_find(NULL, "authorization=0123456789abcdef",
                                 NULL, NULL, buf, sizeof(buf), &len, &src)
              == -E2BIG);
    ck_assert_str_eq(mercure_token_source_name(MERCURE_TOKEN_QUERY), "query");
}
END_TEST

/* Which requests are for the hub: by DOCUMENT_URI, SCRIPT_NAME, or the
 * path of REQUEST_URI, in that order. */
/* The 1.0 sources: header, then the 1.0 cookie; no URL parameter. */
START_TEST(test_token_sources_v1)
{
    struct mercure_token_where v1 = {
        .cookie = "__Secure-mercure_access_token",
    };
    struct mercure_token_where pub = {
        .query = true, .cookie = "mercureAuthorization",
        .cookie2 = "__Secure-mercure_access_token",
    };
    char buf[64];
    size_t len;
    enum mercure_token_source src;

    ck_assert(mercure_token_find_in(&v1, "Bearer h.h.h", NULL,
              "__Secure-mercure_access_token=c.c.c", buf, sizeof(buf), &len,
              &src) == 0 && strcmp(buf, "h.h.h") == 0 &&
              src == MERCURE_TOKEN_HEADER);
    ck_assert_msg(mercure_token_find_in(&v1, NULL, "authorization=q.q.q",
                  "x=1; __Secure-mercure_access_token=c.c.c", buf,
                  sizeof(buf), &len, &src) == 0 &&
                  strcmp(buf, "c.c.c") == 0 && src == MERCURE_TOKEN_COOKIE,
                  "1.0 never reads the parameter");
    ck_assert_msg(mercure_token_find_in(&v1, NULL, NULL,
                  "mercureAuthorization=o.o.o", buf, sizeof(buf), &len,
                  &src) == -ENOENT, "1.0 does not read the v0.x cookie");
    ck_assert_msg(mercure_token_find_in(&pub, NULL, NULL,
                  "__Secure-mercure_access_token=c.c.c", buf, sizeof(buf),
                  &len, &src) == 0 && strcmp(buf, "c.c.c") == 0,
                  "a publish reads the 1.0 cookie after the v0.x one");
    ck_assert(mercure_token_find_in(&pub, NULL, NULL,
              "mercureAuthorization=o.o.o; __Secure-mercure_access_token=c",
              buf, sizeof(buf), &len, &src) == 0 &&
              strcmp(buf, "o.o.o") == 0);
    ck_assert(mercure_token_in_url("match=a&authorization=x"));
    ck_assert(mercure_token_in_url("access_token=x"));
    ck_assert(!mercure_token_in_url("match=authorization&access=1"));
    ck_assert(!mercure_token_in_url(NULL));
}
END_TEST

START_TEST(test_hub_request)
{
    static const struct {
        const char *doc, *script, *uri;
        bool hub;
    } t[] = {
        { "/.well-known/mercure", NULL, NULL, true },
        { "/app/.well-known/mercure", NULL, NULL, true },
        { "/events", NULL, "/.well-known/mercure", false },
        { NULL, "/.well-known/mercure", NULL, true },
        { "", NULL, "/.well-known/mercure?topic=a", true },
        { NULL, NULL, "/events?x=/.well-known/mercure", false },
        { NULL, NULL, "/.well-known/mercure/x", false },
        { NULL, NULL, NULL, false },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_msg(mercure_hub_request(t[i].doc, t[i].script,
                                          t[i].uri) == t[i].hub,
                      "row %zu: hub must be %d", i, t[i].hub);
}
END_TEST

/* ---- Mercure 1.0: RFC 9068 access tokens ---- */

#define ISS "https://localhost"
#define AUD "https://localhost/.well-known/mercure"
#define AT "{\"typ\": \"at+jwt\"}"
#define DETAIL(actions, topics) \
    "{\"type\": \"https://mercure.rocks/authorization-detail\", " \
    "\"actions\": " actions ", \"topics\": " topics "}"
#define STAR_BOTH DETAIL("[\"publish\", \"subscribe\"]", "[{\"match\": \"*\"}]")

/* One access-token row: header, claims (EXP is replaced by a time an
 * hour ahead, PAST an hour ago), the result, and for OK rows whether it
 * may publish and subscribe on topic "t". */
static const struct {
    const char *name, *alg, *headers, *claims;
    int want;
    bool pub, sub;
} access_rows[] = {
    { "the issue's grant", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [" STAR_BOTH "]}", JWT_AUTH_OK, 1, 1 },
    { "application/AT+JWT, aud an array", "HS256",
      "{\"typ\": \"application/AT+JWT\"}",
      "{\"iss\": \"" ISS "\", \"aud\": [\"x\", \"" AUD "\"], \"exp\": EXP, "
      "\"authorization_details\": [" STAR_BOTH "]}", JWT_AUTH_OK, 1, 1 },
    { "subscribe only", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [" DETAIL("[\"subscribe\"]",
      "[{\"match\": \"t\"}]") "]}", JWT_AUTH_OK, 0, 1 },
    { "an unknown action only", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [" DETAIL("[\"read\"]",
      "[{\"match\": \"*\"}]") "]}", JWT_AUTH_OK, 0, 0 },
    { "another detail type", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [{\"type\": \"mercure\", \"actions\": "
      "[\"publish\"], \"topics\": [{\"match\": \"*\"}]}]}", JWT_AUTH_OK,
      0, 0 },
    { "the v0.x claim in an access token grants nothing", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"mercure\": {\"publish\": [\"*\"], \"subscribe\": [\"*\"]}}",
      JWT_AUTH_OK, 0, 0 },
    { "typ JWT with authorization_details", "HS256", "{\"typ\": \"JWT\"}",
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [" STAR_BOTH "]}", JWT_AUTH_NOT_AT_JWT, 0, 0 },
    { "no typ with authorization_details", "HS256", NULL,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": []}", JWT_AUTH_NOT_AT_JWT, 0, 0 },
    { "typ id+jwt", "HS256", "{\"typ\": \"id+jwt\"}",
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [" STAR_BOTH "]}", JWT_AUTH_BAD_TYP, 0, 0 },
    { "wrong iss", "HS256", AT,
      "{\"iss\": \"https://localhost/\", \"aud\": \"" AUD "\", \"exp\": "
      "EXP, \"authorization_details\": [" STAR_BOTH "]}",
      JWT_AUTH_WRONG_ISSUER, 0, 0 },
    { "no iss", "HS256", AT,
      "{\"aud\": \"" AUD "\", \"exp\": EXP, \"authorization_details\": ["
      STAR_BOTH "]}", JWT_AUTH_WRONG_ISSUER, 0, 0 },
    { "wrong aud", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": [\"https://other/.well-known/"
      "mercure\"], \"exp\": EXP, \"authorization_details\": [" STAR_BOTH
      "]}", JWT_AUTH_WRONG_AUDIENCE, 0, 0 },
    { "no aud", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"exp\": EXP, \"authorization_details\": ["
      STAR_BOTH "]}", JWT_AUTH_WRONG_AUDIENCE, 0, 0 },
    { "aud not strings", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": [1], \"exp\": EXP}",
      JWT_AUTH_BAD_CLAIMS, 0, 0 },
    { "no exp", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", "
      "\"authorization_details\": [" STAR_BOTH "]}", JWT_AUTH_NO_EXP, 0, 0 },
    { "expired", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": PAST, "
      "\"authorization_details\": [" STAR_BOTH "]}", JWT_AUTH_EXPIRED, 0, 0 },
    { "unsupported match_type", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [" DETAIL("[\"publish\"]",
      "[{\"match\": \"t\", \"match_type\": \"regexp\"}]") "]}",
      JWT_AUTH_BAD_CLAIMS, 0, 0 },
    /* verified, but no grant counts until its URL patterns are bound
     * to the hub's URL (jwt_claims_bind, check_mercure_authz) */
    { "urlpattern, not bound", "HS256", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [" DETAIL("[\"subscribe\"]",
      "[{\"match\": \"t\"}, "
      "{\"match\": \"/books/:id\", \"match_type\": \"urlpattern\"}]")
      "]}", JWT_AUTH_OK, 0, 0 },
    { "alg none", "none", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [" STAR_BOTH "]}", JWT_AUTH_ALG_NONE, 0, 0 },
    { "HS512 against an HS256 key", "HS512", AT,
      "{\"iss\": \"" ISS "\", \"aud\": \"" AUD "\", \"exp\": EXP, "
      "\"authorization_details\": [" STAR_BOTH "]}", JWT_AUTH_ALG_MISMATCH, 0, 0 },
};

/* Replaces the words EXP and PAST of claims with times around now. */
static char *access_claims(const char *claims)
{
    size_t cap = strlen(claims) + 64;
    char *out = malloc(cap), *o = out;
    long now = (long)time(NULL);

    ck_assert(out != NULL);
    while (*claims != '\0') {
        if (strncmp(claims, "EXP", 3) == 0 || strncmp(claims, "PAST", 4) == 0) {
            bool past = claims[0] == 'P';

            o += sprintf(o, "%ld", past ? now - 3600 : now + 3600);
            claims += past ? 4 : 3;
        } else {
            *o++ = *claims++;
        }
    }
    *o = '\0';
    return out;
}

START_TEST(test_access_tokens)
{
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);
    char *claims = access_claims(access_rows[_i].claims);
    const char *alg = access_rows[_i].alg;
    char *tok;
    struct jwt_claims c;
    int rc;

    put_file("hs256", LIT(HS256_SECRET));
    put_file("hs512", LIT(HS512_SECRET));
    ck_assert(jwt_auth_key_access(&k, ISS, AUD) == 0);
    tok = mint(alg, strcmp(alg, "none") == 0 ? "-" :
               strcmp(alg, "HS512") == 0 ? "hs512" : "hs256", claims,
               access_rows[_i].headers);
    rc = verify(&k, tok, &c);
    ck_assert_msg(rc == access_rows[_i].want, "%s: expected %s, got %s",
                  access_rows[_i].name,
                  jwt_auth_result_name(access_rows[_i].want),
                  jwt_auth_result_name(rc));
    if (rc == JWT_AUTH_OK) {
        ck_assert_msg(c.access_token, "%s: read as an access token",
                      access_rows[_i].name);
        ck_assert_msg(jwt_claims_can_publish(&c, LIT("t"), NULL) ==
                      access_rows[_i].pub, "%s: publish on t must be %d",
                      access_rows[_i].name, access_rows[_i].pub);
        ck_assert_msg(jwt_claims_can_subscribe(&c, LIT("t"), NULL) ==
                      access_rows[_i].sub, "%s: subscribe on t must be %d",
                      access_rows[_i].name, access_rows[_i].sub);
    }
    jwt_claims_free(&c);
    free(tok);
    free(claims);
    jwt_auth_key_free(&k);
}
END_TEST

/* A key without a 1.0 profile refuses every access token; its v0.x
 * tokens are unchanged. */
START_TEST(test_access_off)
{
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);
    char *claims = access_claims("{\"iss\": \"" ISS "\", \"aud\": \"" AUD
                                 "\", \"exp\": EXP, \"authorization_details"
                                 "\": [" STAR_BOTH "]}");
    char *tok;
    struct jwt_claims c;

    put_file("hs256", LIT(HS256_SECRET));
    tok = mint("HS256", "hs256", claims, AT);
    ck_assert(verify(&k, tok, NULL) == JWT_AUTH_ACCESS_OFF);
    free(tok);
    tok = mint("HS256", "hs256", CLAIMS_PUBSUB, NULL);
    ck_assert(verify(&k, tok, &c) == JWT_AUTH_OK);
    ck_assert(!c.access_token && c.n_publish == 1);
    jwt_claims_free(&c);
    free(tok);
    free(claims);
    ck_assert(jwt_auth_key_access(&k, "", AUD) == -EINVAL);
    jwt_auth_key_free(&k);
}
END_TEST

/* Access tokens signed with RSA and EC keys (verified by jws_verify.c,
 * not libjwt): the right key passes, another key or a key of another
 * type is refused, and the HS256-with-the-PEM forgery stays refused. */
START_TEST(test_access_asymmetric)
{
    static const struct {
        const char *alg, *sign, *verify;
        int want;
    } t[] = {
        { "RS256", "rsa.key", "rsa.pub", JWT_AUTH_OK },
        { "RS256", "rsa2.key", "rsa.pub", JWT_AUTH_BAD_SIGNATURE },
        { "ES256", "ec.key", "ec.pub", JWT_AUTH_OK },
        { "ES256", "ec2.key", "ec.pub", JWT_AUTH_BAD_SIGNATURE },
        { "ES256", "ec.key", "rsa.pub", JWT_AUTH_BAD_SIGNATURE },
        { "RS256", "rsa.key", "ec.pub", JWT_AUTH_BAD_SIGNATURE },
    };
    char *claims = access_claims("{\"iss\": \"" ISS "\", \"aud\": \"" AUD
                                 "\", \"exp\": EXP, \"authorization_details"
                                 "\": [" STAR_BOTH "]}");

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct jwt_auth_key k = key_of(t[i].alg, t[i].verify, NULL);
        char *tok = mint(t[i].alg, t[i].sign, claims, AT);
        int rc;

        ck_assert(jwt_auth_key_access(&k, ISS, AUD) == 0);
        rc = verify(&k, tok, NULL);
        ck_assert_msg(rc == t[i].want, "%s signed with %s, verified with "
                      "%s: expected %s, got %s", t[i].alg, t[i].sign,
                      t[i].verify, jwt_auth_result_name(t[i].want),
                      jwt_auth_result_name(rc));
        free(tok);
        jwt_auth_key_free(&k);
    }
    free(claims);
}
END_TEST

/* A changed signature fails the HMAC of an access token. */
START_TEST(test_access_tampered)
{
    struct jwt_auth_key k = key_of("HS256", NULL, HS256_SECRET);
    char *claims = access_claims("{\"iss\": \"" ISS "\", \"aud\": \"" AUD
                                 "\", \"exp\": EXP, \"authorization_details"
                                 "\": [" STAR_BOTH "]}");
    char *tok, *dot;

    put_file("hs256", LIT(HS256_SECRET));
    ck_assert(jwt_auth_key_access(&k, ISS, AUD) == 0);
    tok = mint("HS256", "hs256", claims, AT);
    ck_assert(verify(&k, tok, NULL) == JWT_AUTH_OK);
    dot = strrchr(tok, '.');
    dot[1] = dot[1] == 'A' ? 'B' : 'A';         /* a signature bit */
    ck_assert_int_eq(verify(&k, tok, NULL), JWT_AUTH_BAD_SIGNATURE);
    free(tok);
    free(claims);
    jwt_auth_key_free(&k);
}
END_TEST

/* typ and alg in the header. */
START_TEST(test_header_typ)
{
    struct { const char *json; int rc; bool at; } t[] = {
        { "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", 0, true },
        { "{\"typ\":\"AT+JWT\",\"alg\":\"HS256\"}", 0, true },
        { "{\"alg\":\"HS256\",\"typ\":\"application/at+jwt\"}", 0, true },
        { "{\"alg\":\"HS256\",\"typ\":\"application/\"}", 0, false },
        { "{\"alg\":\"HS256\",\"typ\":\"at+jwt2\"}", 0, false },
        { "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 0, false },
        { "{\"alg\":\"HS256\"}", 0, false },
        { "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"typ\":\"JWT\"}", -EINVAL,
          false },
        { "{\"alg\":\"HS256\",\"typ\":1}", -EINVAL, false },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct jwt_header h;
        int rc = jwt_claims_header(t[i].json, strlen(t[i].json), &h);

        ck_assert_msg(rc == t[i].rc && (rc < 0 || h.at_jwt == t[i].at),
                      "%s: rc %d at_jwt %d expected", t[i].json, t[i].rc,
                      t[i].at);
    }
}
END_TEST

static Suite *jwt_auth_suite(void)
{
    Suite *s = suite_create("jwt_auth");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");
    TCase *claims = tcase_create("claims");
    TCase *sources = tcase_create("sources");
    TCase *access = tcase_create("access");

    tcase_add_test(core, test_hub_request);
    tcase_add_test(core, test_valid_hs256);
    tcase_add_test(core, test_valid_hs384);
    tcase_add_test(core, test_valid_hs512);
    tcase_add_test(core, test_valid_rs256);
    tcase_add_test(core, test_valid_es256);
    tcase_add_test(core, test_times);
    tcase_add_test(core, test_key_check);
    tcase_add_test(errors, test_alg_none);
    tcase_add_test(errors, test_wrong_key);
    tcase_add_test(errors, test_hs256_with_rsa_pem_refused);
    tcase_add_test(errors, test_alg_mismatch);
    tcase_add_test(errors, test_malformed);
    tcase_add_test(errors, test_malformed_signed);
    tcase_add_test(errors, test_too_long);
    tcase_add_test(claims, test_claims_missing);
    tcase_add_test(claims, test_claims_bad_types);
    tcase_add_test(claims, test_claims_selectors);
    tcase_add_test(claims, test_claims_reader);
    tcase_add_test(claims, test_claims_reader_values);
    tcase_add_test(claims, test_claims_limits);
    tcase_add_test(claims, test_header_alg);
    tcase_add_test(claims, test_b64url);
    tcase_add_test(sources, test_token_sources);
    tcase_add_test(sources, test_token_sources_errors);
    tcase_add_test(sources, test_token_sources_v1);
    tcase_add_loop_test(access, test_access_tokens, 0,
                        (int)(sizeof(access_rows) / sizeof(access_rows[0])));
    tcase_add_test(access, test_access_off);
    tcase_add_test(access, test_access_asymmetric);
    tcase_add_test(access, test_access_tampered);
    tcase_add_test(access, test_header_typ);
    tcase_set_timeout(access, 60);
    tcase_set_timeout(core, 60);
    tcase_set_timeout(errors, 60);
    tcase_set_timeout(claims, 60);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, claims);
    suite_add_tcase(s, sources);
    suite_add_tcase(s, access);
    return s;
}

/* Makes the key directory, the minting script and the key pairs. */
static void setup_keys(void)
{
    char cmd[512];

    if (mkdtemp(keydir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    put_file("mint.py", mint_py, sizeof(mint_py) - 1);
    put_file("keys.py", keys_py, sizeof(keys_py) - 1);
    if (getenv("SSEQ_PYTHON") != NULL)
        python = getenv("SSEQ_PYTHON");
    snprintf(cmd, sizeof(cmd), "'%s' '%s/keys.py' '%s'", python, keydir,
             keydir);
    if (system(cmd) != 0) {
        fprintf(stderr, "check_jwt_auth: cannot make keys (python3-jwt and "
                "python3-cryptography needed)\n");
        exit(1);
    }
}

int main(void)
{
    char cmd[512];
    int rc;

    setup_keys();
    rc = unit_run(jwt_auth_suite());
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", keydir);
    if (system(cmd) != 0)
        fprintf(stderr, "check_jwt_auth: cannot remove %s\n", keydir);
    return rc;
}
