/* mercure_text.c -- Mercure's character rule (see mercure_text.h): a
 * strict UTF-8 walk, each code point looked up in the control ranges and
 * the Cf table (sorted ranges, binary search). */
#include "ac_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/util.h"
#include "mercure/mercure_text.h"

/* General category Cf, Unicode 15.1: first and last code point. */
static const uint32_t mt_cf[][2] = {
    { 0x00AD, 0x00AD }, { 0x0600, 0x0605 }, { 0x061C, 0x061C },
    { 0x06DD, 0x06DD }, { 0x070F, 0x070F }, { 0x0890, 0x0891 },
    { 0x08E2, 0x08E2 }, { 0x180E, 0x180E }, { 0x200B, 0x200F },
    { 0x202A, 0x202E }, { 0x2060, 0x2064 }, { 0x2066, 0x206F },
    { 0xFEFF, 0xFEFF }, { 0xFFF9, 0xFFFB }, { 0x110BD, 0x110BD },
    { 0x110CD, 0x110CD }, { 0x13430, 0x1343F }, { 0x1BCA0, 0x1BCA3 },
    { 0x1D173, 0x1D17A }, { 0xE0001, 0xE0001 }, { 0xE0020, 0xE007F },
};

/* Whether cp is of general category Cf. */
static bool mt_is_cf(uint32_t cp)
{
    size_t lo = 0, hi = sizeof(mt_cf) / sizeof(mt_cf[0]);

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (cp < mt_cf[mid][0])
            hi = mid;
        else if (cp > mt_cf[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/* The code point at s[*i] of valid UTF-8; *i moves past it. */
static uint32_t mt_next(const unsigned char *s, size_t *i)
{
    uint32_t c = s[(*i)++];
    int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;

    c &= more == 3 ? 0x07 : more == 2 ? 0x0F : more == 1 ? 0x1F : 0x7F;
    while (more-- > 0)
        c = (c << 6) | (s[(*i)++] & 0x3F);
    return c;
}

int mercure_text_check(const char *s, size_t len, size_t *at, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    if (!util_utf8_valid(s, len))
        return -EILSEQ;
    while (i < len) {
        size_t start = i;
        uint32_t c = mt_next(u, &i);

        if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || mt_is_cf(c)) {
            *at = start;
            *cp = c;
            return -EINVAL;
        }
    }
    return 0;
}

const char *mercure_text_describe(int rc, size_t at, uint32_t cp, char *out,
                                  size_t cap)
{
    if (rc == -EILSEQ)
        snprintf(out, cap, "not valid UTF-8");
    else
        snprintf(out, cap, "U+%04X (%s) at byte %zu: no control or format "
                 "character (C0, DEL, C1, Cf) is allowed", (unsigned)cp,
                 cp < 0x20 || cp == 0x7F ? "a control character, C0/DEL"
                 : cp <= 0x9F ? "a control character, C1"
                 : "a format character, Cf", at);
    return out;
}
