/* check_util.c -- the "util" suite: clocks, strict number parsing, URL
 * decoding, UTF-8 validation and the descriptor limit, including hostile
 * inputs (overflow, truncated escapes, overlong and surrogate UTF-8). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/util.h"
#include "unit_run.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* Check records every passing ck_assert (a write(2) each); hot loops
 * assert through this instead, which only reports failures. */
#define REQUIRE(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

/* ---- core ---- */

START_TEST(test_clocks)
{
    uint64_t a = util_mono_us(), b = util_mono_us();
    uint64_t now = util_now_us();

    ck_assert_msg(b >= a, "monotonic clock must not go back");
    ck_assert_msg(now > 1500000000ull * 1000000u,
                  "realtime clock must be in microseconds since 1970");
}
END_TEST

START_TEST(test_parse_u64)
{
    uint64_t v = 1;

    ck_assert_msg(util_parse_u64(LIT("0"), &v) == 0 && v == 0,
                  "\"0\" must parse as 0");
    ck_assert_msg(util_parse_u64(LIT("12345"), &v) == 0 && v == 12345,
                  "\"12345\" must parse as 12345");
    ck_assert_msg(util_parse_u64(LIT("007"), &v) == 0 && v == 7,
                  "leading zeros must be accepted");
    ck_assert_msg(util_parse_u64("123456", 3, &v) == 0 && v == 123,
                  "only len bytes must be read");
}
END_TEST

START_TEST(test_parse_size)
{
    static const struct { const char *s; uint64_t v; } ok[] = {
        { "0", 0 }, { "65536", 65536 }, { "1K", 1024 }, { "1k", 1024 },
        { "64M", 64ull << 20 }, { "2G", 2ull << 30 }, { "3g", 3ull << 30 },
    };
    uint64_t v;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(util_parse_size(ok[i].s, &v) == 0,
                      "\"%s\" must be a valid size", ok[i].s);
        ck_assert_msg(v == ok[i].v, "\"%s\" must be %llu bytes", ok[i].s,
                      (unsigned long long)ok[i].v);
    }
}
END_TEST

START_TEST(test_url_decode)
{
    char out[64];
    long n;

    n = util_url_decode(out, LIT("a%20b+c%2Bd"), false);
    ck_assert_msg(n == 7 && memcmp(out, "a b+c+d", 7) == 0,
                  "plain mode must keep '+' and decode %%20 and %%2B");
    n = util_url_decode(out, LIT("a%20b+c%2Bd"), true);
    ck_assert_msg(n == 7 && memcmp(out, "a b c+d", 7) == 0,
                  "form mode must turn '+' into a space, %%2B into '+'");
    n = util_url_decode(out, LIT("%e2%82%AC"), false);
    ck_assert_msg(n == 3 && memcmp(out, "\xe2\x82\xac", 3) == 0,
                  "hex digits of either case must decode");
    n = util_url_decode(out, "", 0, true);
    ck_assert_msg(n == 0, "empty input must decode to empty output");
}
END_TEST

START_TEST(test_url_decode_in_place)
{
    char buf[] = "x%3Dy%26z";
    long n = util_url_decode(buf, buf, strlen(buf), true);

    ck_assert_msg(n == 5 && memcmp(buf, "x=y&z", 5) == 0,
                  "decoding in place (dst == src) must work");
}
END_TEST

START_TEST(test_utf8_valid)
{
    ck_assert_msg(util_utf8_valid(LIT("")), "empty string is valid");
    ck_assert_msg(util_utf8_valid(LIT("plain ascii")), "ASCII is valid");
    ck_assert_msg(util_utf8_valid(LIT("caf\xc3\xa9")), "U+00E9 is valid");
    ck_assert_msg(util_utf8_valid(LIT("\xe2\x82\xac")), "U+20AC is valid");
    ck_assert_msg(util_utf8_valid(LIT("\xf0\x9f\x98\x80")),
                  "U+1F600 is valid");
    ck_assert_msg(util_utf8_valid(LIT("\xf4\x8f\xbf\xbf")),
                  "U+10FFFF is valid");
    ck_assert_msg(util_utf8_valid(LIT("\xed\x9f\xbf")),
                  "U+D7FF (just below the surrogates) is valid");
    ck_assert_msg(util_utf8_valid(LIT("\xee\x80\x80")),
                  "U+E000 (just above the surrogates) is valid");
    ck_assert_msg(util_utf8_valid("a\0b", 3), "NUL is valid UTF-8");
}
END_TEST

/* util_text_valid: UTF-8 without C0, C1 or DEL, one row a case. */
static const struct {
    const char *s;
    size_t len;
    bool ok;
    const char *what;
} text_rows[] = {
    { "https://example.com/books/1", 27, true, "a URL" },
    { "caf\xc3\xa9 \xe2\x82\xac", 9, true, "non-ASCII letters" },
    { "", 0, true, "empty" },
    { "\xc2\xa0", 2, true, "U+00A0 (the first after C1)" },
    { "a\nb", 3, false, "LF (C0)" },
    { "a\rb", 3, false, "CR (C0)" },
    { "a\0b", 3, false, "NUL" },
    { "a\x7f", 2, false, "DEL" },
    { "a\xc2\x85", 3, false, "U+0085 NEL (C1)" },
    { "a\xc2\x9f", 3, false, "U+009F (last C1)" },
    { "a\xc3\x28", 3, false, "bad UTF-8" },
    { "a\xc2", 2, false, "a cut sequence" },
};

START_TEST(test_text_valid)
{
    for (size_t i = 0; i < sizeof(text_rows) / sizeof(text_rows[0]); i++)
        ck_assert_msg(util_text_valid(text_rows[i].s, text_rows[i].len) ==
                      text_rows[i].ok, "%s: want %s", text_rows[i].what,
                      text_rows[i].ok ? "text" : "refused");
}
END_TEST

START_TEST(test_raise_nofile)
{
    struct rlimit rl;
    long n = util_raise_nofile();

    ck_assert_msg(n > 0, "raise_nofile must return the new limit");
    ck_assert_msg(getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
                  rl.rlim_cur == rl.rlim_max,
                  "soft limit must equal the hard limit afterwards");
}
END_TEST

/* ---- limits ---- */

START_TEST(test_parse_u64_limits)
{
    uint64_t v = 0;

    ck_assert_msg(util_parse_u64(LIT("18446744073709551615"), &v) == 0 &&
                  v == UINT64_MAX, "UINT64_MAX must parse");
    ck_assert_msg(util_parse_u64(LIT("18446744073709551616"), &v) ==
                  -EINVAL, "UINT64_MAX + 1 must be -EINVAL");
    ck_assert_msg(util_parse_u64(LIT("99999999999999999999"), &v) ==
                  -EINVAL, "20 nines must be -EINVAL");
    ck_assert_msg(util_parse_u64(LIT("000000000000000000000000001"), &v)
                  == 0 && v == 1, "many leading zeros must not overflow");
}
END_TEST

START_TEST(test_parse_size_limits)
{
    uint64_t v;

    ck_assert_msg(util_parse_size("17179869183G", &v) == 0 &&
                  v == 17179869183ull << 30, "largest G multiple must fit");
    ck_assert_msg(util_parse_size("17179869184G", &v) == -EINVAL,
                  "a G size overflowing 64 bits must be -EINVAL");
    ck_assert_msg(util_parse_size("18446744073709551615", &v) == 0 &&
                  v == UINT64_MAX, "UINT64_MAX bytes must parse");
}
END_TEST

START_TEST(test_url_decode_limits)
{
    char out[8];
    long n;

    n = util_url_decode(out, LIT("%00"), false);
    ck_assert_msg(n == 1 && out[0] == '\0', "%%00 must decode to one NUL");
    n = util_url_decode(out, LIT("%41%42"), false);
    ck_assert_msg(n == 2 && memcmp(out, "AB", 2) == 0,
                  "adjacent escapes must decode");
    n = util_url_decode(out, "%41%4", 3, false);
    ck_assert_msg(n == 1 && out[0] == 'A',
                  "only len bytes must be read (a cut after an escape)");
}
END_TEST

START_TEST(test_utf8_limits)
{
    ck_assert_msg(!util_utf8_valid(LIT("\xf4\x90\x80\x80")),
                  "U+110000 (above U+10FFFF) must be invalid");
    ck_assert_msg(!util_utf8_valid(LIT("\xed\xa0\x80")),
                  "U+D800 (a surrogate) must be invalid");
    ck_assert_msg(!util_utf8_valid(LIT("\xed\xbf\xbf")),
                  "U+DFFF (a surrogate) must be invalid");
    ck_assert_msg(!util_utf8_valid(LIT("\xc0\x80")),
                  "overlong NUL (C0 80) must be invalid");
    ck_assert_msg(!util_utf8_valid(LIT("\xc1\xbf")),
                  "overlong 2-byte (C1 BF) must be invalid");
    ck_assert_msg(!util_utf8_valid(LIT("\xe0\x9f\xbf")),
                  "overlong 3-byte (E0 9F BF) must be invalid");
    ck_assert_msg(!util_utf8_valid(LIT("\xf0\x8f\xbf\xbf")),
                  "overlong 4-byte (F0 8F BF BF) must be invalid");
    ck_assert_msg(util_utf8_valid(LIT("\xc2\x80")),
                  "U+0080 (shortest 2-byte) must be valid");
    ck_assert_msg(util_utf8_valid(LIT("\xe0\xa0\x80")),
                  "U+0800 (shortest 3-byte) must be valid");
    ck_assert_msg(util_utf8_valid(LIT("\xf0\x90\x80\x80")),
                  "U+10000 (shortest 4-byte) must be valid");
}
END_TEST

/* Table: what util_quote makes of a culprit for a reason line. */
struct quote_case {
    const char *in; size_t len;
    const char *out;
};

static const struct quote_case quote_cases[] = {
    { "chat.lobby", 10, "chat.lobby" },
    { "a\nb\r", 4, "a\\x0ab\\x0d" },
    { "x\\y", 3, "x\\x5cy" },
    { "\"q\"", 3, "\"q\"" },
    { "\0z", 2, "\\x00z" },
    { "\xc3\xa9", 2, "\\xc3\\xa9" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaX", 65,
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." },
};

START_TEST(test_quote)
{
    const struct quote_case *c = &quote_cases[_i];
    char out[300];

    ck_assert_str_eq(util_quote(out, sizeof(out), c->in, c->len), c->out);
}
END_TEST

START_TEST(test_quote_small_buffer)
{
    char out[8];

    util_quote(out, sizeof(out), "\n\n\n\n", 4);
    ck_assert_msg(strlen(out) < sizeof(out), "the output must fit cap");
}
END_TEST

/* ---- errors ---- */

START_TEST(test_parse_u64_errors)
{
    static const char *const bad[] = {
        "", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.5", "\xff",
    };
    uint64_t v = 42;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(util_parse_u64(bad[i], strlen(bad[i]), &v) == -EINVAL,
                      "\"%s\" must be -EINVAL", bad[i]);
    ck_assert_msg(util_parse_u64("1\0002", 3, &v) == -EINVAL,
                  "an embedded NUL must be -EINVAL");
    ck_assert_msg(v == 42, "*out must be untouched on error");
}
END_TEST

START_TEST(test_parse_size_errors)
{
    static const char *const bad[] = {
        "", "K", "-1", "1KB", "1T", "1 K", " 1", "1.5M", "0x10", "M1",
        "1KK", "1e6",
    };
    uint64_t v;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(util_parse_size(bad[i], &v) == -EINVAL,
                      "\"%s\" must be -EINVAL", bad[i]);
    ck_assert_msg(util_parse_size(NULL, &v) == -EINVAL,
                  "NULL must be -EINVAL");
}
END_TEST

START_TEST(test_url_decode_errors)
{
    static const char *const bad[] = {
        "%", "%4", "a%", "%zz", "%4g", "%g4", "ok%2", "%%41", "% 41",
    };
    char out[16];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(util_url_decode(out, bad[i], strlen(bad[i]), true) ==
                      -EINVAL, "\"%s\" must be -EINVAL", bad[i]);
    ck_assert_msg(util_url_decode(out, "%4100", 2, false) == -EINVAL,
                  "an escape cut by len must be -EINVAL (no over-read)");
}
END_TEST

START_TEST(test_utf8_errors)
{
    static const struct { const char *s; size_t n; const char *why; } bad[] = {
        { LIT("\x80"), "a lone continuation byte" },
        { LIT("\xbf"), "a lone continuation byte" },
        { LIT("\xc3"), "a truncated 2-byte sequence" },
        { LIT("\xe2\x82"), "a truncated 3-byte sequence" },
        { LIT("\xf0\x9f\x98"), "a truncated 4-byte sequence" },
        { LIT("\xc3\x28"), "a bad continuation byte" },
        { LIT("\xe2\x28\xa1"), "a bad second byte" },
        { LIT("\xe2\x82\x28"), "a bad third byte" },
        { LIT("\xf5\x80\x80\x80"), "lead byte F5" },
        { LIT("\xf8\x88\x80\x80\x80"), "a 5-byte sequence" },
        { LIT("\xfc\x84\x80\x80\x80\x80"), "a 6-byte sequence" },
        { LIT("\xfe"), "byte FE" },
        { LIT("\xff"), "byte FF" },
        { LIT("ok\xed\xa0\x80\xed\xb0\x80"), "a CESU-8 surrogate pair" },
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!util_utf8_valid(bad[i].s, bad[i].n),
                      "%s must be invalid", bad[i].why);
    ck_assert_msg(!util_utf8_valid("\xe2\x82\xac", 2),
                  "a sequence cut by len must be invalid (no over-read)");
}
END_TEST

/* The well-formed UTF-8 table of RFC 3629 section 4, written out as a
 * second, independent validator: the length of the sequence at s[0..n),
 * or 0 if none starts there. */
static size_t ref_utf8_seq(const unsigned char *s, size_t n)
{
    static const struct { unsigned char lo0, hi0, lo1, hi1; size_t len; }
    rows[] = {
        { 0x00, 0x7f, 0, 0, 1 },       { 0xc2, 0xdf, 0x80, 0xbf, 2 },
        { 0xe0, 0xe0, 0xa0, 0xbf, 3 }, { 0xe1, 0xec, 0x80, 0xbf, 3 },
        { 0xed, 0xed, 0x80, 0x9f, 3 }, { 0xee, 0xef, 0x80, 0xbf, 3 },
        { 0xf0, 0xf0, 0x90, 0xbf, 4 }, { 0xf1, 0xf3, 0x80, 0xbf, 4 },
        { 0xf4, 0xf4, 0x80, 0x8f, 4 },
    };

    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        size_t len = rows[r].len, k;

        if (s[0] < rows[r].lo0 || s[0] > rows[r].hi0)
            continue;
        if (len > n)
            return 0;
        if (len > 1 && (s[1] < rows[r].lo1 || s[1] > rows[r].hi1))
            return 0;
        for (k = 2; k < len; k++)
            if (s[k] < 0x80 || s[k] > 0xbf)
                return 0;
        return len;
    }
    return 0;
}

static bool ref_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;

    while (i < n) {
        k = ref_utf8_seq(p + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Random bytes drawn mostly from lead, continuation and boundary values
 * (so that valid multi-byte text is common): util_utf8_valid agrees with
 * the RFC 3629 table on every input, decoding never lengthens, and a
 * u64 parse succeeds only on 1..20 digits. */
START_TEST(test_hostile_random)
{
    static const unsigned char pick[] = {
        'a', '0', '%', '+', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
        0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef,
        0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
    };
    char in[64], out[64];
    uint64_t v;
    int valid = 0;

    srand(12345);
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)rand() % 8;

        for (size_t i = 0; i < n; i++)
            in[i] = rand() % 4 == 0 ? (char)(rand() & 0xff)
                    : (char)pick[(size_t)rand() % sizeof pick];
        REQUIRE(util_utf8_valid(in, n) == ref_utf8_valid(in, n),
                "utf8_valid must agree with RFC 3629 on %zu bytes "
                "starting %02x", n, n ? (unsigned char)in[0] : 0u);
        valid += n > 1 && ref_utf8_valid(in, n);
        REQUIRE(util_url_decode(out, in, n, true) <= (long)n,
                "decoded output must never be longer than input");
        if (util_parse_u64(in, n, &v) == 0)
            REQUIRE(n >= 1 && n <= 20 && all_digits(in, n),
                    "only digits may parse as a u64");
    }
    ck_assert_msg(valid > 100, "the inputs must include valid multi-byte "
                  "text (got %d)", valid);
}
END_TEST

static Suite *util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_test(core, test_clocks);
    tcase_add_test(core, test_parse_u64);
    tcase_add_test(core, test_parse_size);
    tcase_add_test(core, test_url_decode);
    tcase_add_test(core, test_url_decode_in_place);
    tcase_add_test(core, test_utf8_valid);
    tcase_add_test(core, test_text_valid);
    tcase_add_test(core, test_raise_nofile);
    suite_add_tcase(s, core);
    tcase_add_test(limits, test_parse_u64_limits);
    tcase_add_test(limits, test_parse_size_limits);
    tcase_add_test(limits, test_url_decode_limits);
    tcase_add_test(limits, test_utf8_limits);
    tcase_add_loop_test(limits, test_quote, 0,
                        (int)(sizeof(quote_cases) / sizeof(quote_cases[0])));
    tcase_add_test(limits, test_quote_small_buffer);
    suite_add_tcase(s, limits);
    tcase_add_test(errors, test_parse_u64_errors);
    tcase_add_test(errors, test_parse_size_errors);
    tcase_add_test(errors, test_url_decode_errors);
    tcase_add_test(errors, test_utf8_errors);
    tcase_add_test(errors, test_hostile_random);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(util_suite());
}
