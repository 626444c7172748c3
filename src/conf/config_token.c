/* config_token.c -- whether a publish token or an HMAC key is a secret
 * (see config_token.h). Three tests, cheapest first: the characters
 * (tokens only), placeholder words copied from an example, then an
 * estimate of the bits a guesser must find, refused under
 * CONFIG_TOKEN_MIN_BITS. No reason quotes the secret. */
#include "ac_config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "conf/config_token.h"

#define CONFIG_TOKEN_MIN     16 /* shorter is guessable (issue 11.3) */
#define CONFIG_TOKEN_MAX     512
#define CONFIG_TOKEN_VARIETY 6  /* fewest distinct characters */
#define CONFIG_TOKEN_WORD_BITS 8 /* a dictionary word, as one guess */

static const char config_token_chars[] = "must be 16 to 512 characters of "
    "A-Z a-z 0-9 - . _ ~ + / (then optional '='); make one with "
    "`sseq token`";
static const char config_token_weak[] = "is too easy to guess (under 64 "
    "bits: a run, a sequence, a common word or too short): replace it "
    "with the output of `sseq token` or `openssl rand -hex 16`";
static const char config_key_weak[] = "is too easy to guess (under 64 "
    "bits: a run, a sequence, a common word or too short): make a key "
    "with `openssl rand -base64 32`";
static const char config_key_example[] = "is a placeholder copied from an "
    "example, not a secret: make a key with `openssl rand -base64 32`";

/* Words that mark a secret as a placeholder copied from an example;
 * matched case-insensitively anywhere. keys_too: also refused in a JWT
 * key (the others were only ever example tokens). */
static const struct {
    const char *word;
    bool keys_too;
} config_token_placeholders[] = {
    { "change-me", true }, { "changeme", true }, { "change_me", true },
    { "changethis", true }, { "replace-me", true }, { "replaceme", true },
    { "replace_me", true }, { "your-token", false }, { "your_token", false },
    { "yourtoken", false }, { "placeholder", true }, { "example", true },
    { "another-secret", false },
};

/* Words a guesser tries first; each counts CONFIG_TOKEN_WORD_BITS. */
static const char *const config_token_words[] = {
    "password", "passwd", "secret", "changeme", "changethis", "letmein",
    "qwerty", "asdfgh", "admin", "welcome", "default", "iloveyou",
    "monkey", "dragon", "master", "hello",
};

#define N_OF(a) (sizeof (a) / sizeof (a)[0])

/* The placeholder word in s[0..len), or NULL; keys: only the keys_too
 * words. Never reads past len (a key need not end in NUL). */
static const char *config_token_find_placeholder(const char *s, size_t len,
                                                 bool keys)
{
    for (size_t w = 0; w < N_OF(config_token_placeholders); w++) {
        const char *word = config_token_placeholders[w].word;
        size_t n = strlen(word);

        if (keys && !config_token_placeholders[w].keys_too)
            continue;
        for (size_t i = 0; n <= len && i <= len - n; i++)
            if (strncasecmp(s + i, word, n) == 0)
                return word;
    }
    return NULL;
}

const char *config_token_placeholder(const char *str)
{
    return config_token_find_placeholder(str, strlen(str), false);
}

/* log2(x) for x >= 1, in 1/256 bits (the fraction by squaring). */
static unsigned config_token_log2(unsigned x)
{
    unsigned ip = 0, frac = 0;
    uint64_t m;

    while ((x >> ip) > 1)
        ip++;
    m = ((uint64_t)x << 16) >> ip;          /* x / 2^ip in [1, 2), 16.16 */
    for (unsigned b = 128; b > 0; b >>= 1) {
        m = (m * m) >> 16;
        if (m >= (2u << 16)) {
            m >>= 1;
            frac |= b;
        }
    }
    return ip * 256 + frac;
}

/* The pool a guesser draws each character of s from: the sizes of the
 * classes s uses (lower 26, upper 26, digits 10, ASCII punctuation and
 * space 33, any other byte 128). */
static unsigned config_token_pool(const unsigned char *s, size_t len)
{
    bool lower = false, upper = false, digit = false, punct = false;
    bool other = false;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];

        lower |= c >= 'a' && c <= 'z';
        upper |= c >= 'A' && c <= 'Z';
        digit |= c >= '0' && c <= '9';
        punct |= c >= ' ' && c <= '~' && !(c >= 'a' && c <= 'z') &&
                 !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9');
        other |= c < ' ' || c > '~';
    }
    return 26u * lower + 26u * upper + 10u * digit + 33u * punct +
           128u * other;
}

/* c as the letter it stands for in a word: lowercase, and the digits
 * and signs people write for letters ("p@ssw0rd") read back. */
static int config_token_letter(unsigned char c)
{
    static const char leet[] = "@a4a0o1i3e5s$s7t";

    for (size_t k = 0; leet[k] != '\0'; k += 2)
        if (c == (unsigned char)leet[k])
            return leet[k + 1];
    return tolower(c);
}

/* The length of the dictionary word s[i..] starts with, or 0. */
static size_t config_token_word_at(const unsigned char *s, size_t len,
                                   size_t i)
{
    for (size_t w = 0; w < N_OF(config_token_words); w++) {
        const char *word = config_token_words[w];
        size_t n = strlen(word), k = 0;

        while (k < n && i + k < len &&
               config_token_letter(s[i + k]) == word[k])
            k++;
        if (k == n)
            return n;
    }
    return 0;
}

/* Whether s[i] follows from what is before it: a run ("aa"), a
 * sequence ("ab", "bA", "90"; case aside) or the end of three
 * characters seen earlier ("abcXabc"). */
static bool config_token_predictable(const unsigned char *s, size_t i)
{
    int d;

    if (i == 0)
        return false;
    d = tolower(s[i]) - tolower(s[i - 1]);
    if (d >= -1 && d <= 1)
        return true;
    if (s[i - 1] == '9' && s[i] == '0')
        return true;
    for (size_t j = 2; i >= 2 && j < i; j++)
        if (memcmp(s + j - 2, s + i - 2, 3) == 0)
            return true;
    return false;
}

unsigned config_token_bits(const void *p, size_t len)
{
    const unsigned char *s = p;
    unsigned pool = config_token_pool(s, len);
    unsigned per = pool > 1 ? config_token_log2(pool) : 0;
    uint64_t bits = 0;                      /* in 1/256 bits */

    for (size_t i = 0; i < len;) {
        size_t w = config_token_word_at(s, len, i);

        if (w != 0) {
            bits += CONFIG_TOKEN_WORD_BITS * 256;
            i += w;
            continue;
        }
        bits += config_token_predictable(s, i) ? 256 : per;
        i++;
    }
    bits /= 256;
    return bits > UINT32_MAX ? UINT32_MAX : (unsigned)bits;
}

/* Why str cannot be a bearer token, or NULL if it can: RFC 6750's
 * 16..512 of A-Z a-z 0-9 - . _ ~ + / then optional '=' padding, no
 * placeholder word, enough distinct characters and bits. */
const char *config_token_check(const char *str)
{
    bool seen[256] = { false };
    size_t n = strlen(str), body, variety = 0;

    if (config_token_placeholder(str) != NULL)
        return "is a placeholder copied from an example, not a secret: "
               "replace it with the output of `sseq token`";
    if (n < CONFIG_TOKEN_MIN || n > CONFIG_TOKEN_MAX)
        return config_token_chars;
    body = strspn(str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789-._~+/");
    if (body == 0 || strspn(str + body, "=") != n - body)
        return config_token_chars;
    for (size_t i = 0; i < n; i++) {
        variety += !seen[(unsigned char)str[i]];
        seen[(unsigned char)str[i]] = true;
    }
    if (variety < CONFIG_TOKEN_VARIETY)
        return "has too few distinct characters to be a secret: replace "
               "it with the output of `sseq token`";
    if (config_token_bits(str, body) < CONFIG_TOKEN_MIN_BITS)
        return config_token_weak;
    return NULL;
}

/* Why an HMAC key is no secret, or NULL: a placeholder word or too few
 * bits. */
const char *config_token_key_check(const void *key, size_t len)
{
    if (config_token_find_placeholder(key, len, true) != NULL)
        return config_key_example;
    if (config_token_bits(key, len) < CONFIG_TOKEN_MIN_BITS)
        return config_key_weak;
    return NULL;
}
