/* util.c -- small helpers shared by the programs: clocks, strict number
 * parsing, URL decoding, UTF-8 validation, descriptor flags and limit.
 *
 * Every parser here is strict: it accepts the whole input or nothing, and
 * never reads past the length it was given. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/util.h"

/* Microseconds of the given clock (both clocks always exist on Linux). */
static uint64_t util_clock_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t util_now_us(void)
{
    return util_clock_us(CLOCK_REALTIME);
}

uint64_t util_mono_us(void)
{
    return util_clock_us(CLOCK_MONOTONIC);
}

/* Parses len decimal digits into *out; -EINVAL for an empty string, any
 * other byte (sign, space, NUL) or a value above UINT64_MAX. */
int util_parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';

        if (d > 9)
            return -EINVAL;
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Multiplier for a size suffix (K, M, G in either case), 0 if unknown. */
static uint64_t util_size_unit(char c)
{
    static const struct { char c; uint64_t mul; } units[] = {
        { 'K', 1ull << 10 }, { 'k', 1ull << 10 },
        { 'M', 1ull << 20 }, { 'm', 1ull << 20 },
        { 'G', 1ull << 30 }, { 'g', 1ull << 30 },
    };

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (units[i].c == c)
            return units[i].mul;
    return 0;
}

/* Parses "123", "64K", "64M", "2G" (powers of 1024); -EINVAL for anything
 * else, including an empty number, other suffixes, or overflow. */
int util_parse_size(const char *s, uint64_t *out)
{
    size_t n = 0;
    uint64_t v, mul = 1;

    if (s == NULL)
        return -EINVAL;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (s[n] != '\0') {
        mul = util_size_unit(s[n]);
        if (mul == 0 || s[n + 1] != '\0')
            return -EINVAL;
    }
    if (util_parse_u64(s, n, &v) < 0)
        return -EINVAL;
    if (v > UINT64_MAX / mul)
        return -EINVAL;
    *out = v * mul;
    return 0;
}

int util_hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes src[0..len) into dst; dst may equal src (the output is
 * never longer than the input). -EINVAL for '%' not followed by two hex
 * digits. The output may contain NUL bytes (from %00): use the length. */
long util_url_decode(char *dst, const char *src, size_t len, bool form)
{
    size_t i = 0, o = 0;

    while (i < len) {
        unsigned char c = (unsigned char)src[i];

        if (c == '%') {
            int hi, lo;

            if (len - i < 3)
                return -EINVAL;
            hi = util_hex((unsigned char)src[i + 1]);
            lo = util_hex((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            dst[o++] = (char)(hi << 4 | lo);
            i += 3;
            continue;
        }
        dst[o++] = (form && c == '+') ? ' ' : (char)c;
        i++;
    }
    return (long)o;
}

/* Length of the UTF-8 sequence led by c and the smallest code point it
 * may encode; 0 for a byte that cannot lead (continuation, C0, C1, F5+). */
static int util_utf8_lead(unsigned char c, uint32_t *cp, uint32_t *min)
{
    static const struct { unsigned char mask, bits; int len; uint32_t min; }
    leads[] = {
        { 0x80, 0x00, 1, 0x0 },
        { 0xe0, 0xc0, 2, 0x80 },
        { 0xf0, 0xe0, 3, 0x800 },
        { 0xf8, 0xf0, 4, 0x10000 },
    };

    for (size_t i = 0; i < sizeof leads / sizeof leads[0]; i++) {
        if ((c & leads[i].mask) == leads[i].bits) {
            *cp = c & (unsigned char)~leads[i].mask;
            *min = leads[i].min;
            return leads[i].len;
        }
    }
    return 0;
}


const char *util_quote(char *dst, size_t cap, const char *src, size_t len)
{
    size_t i, o = 0;

    for (i = 0; i < len && i < 64 && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)src[i];

        if (c >= 0x20 && c < 0x7f && c != '\\')
            dst[o++] = (char)c;
        else
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
    }
    if (i < len && o + 4 < cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

/* true if s[0..len) is valid UTF-8: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence. */
bool util_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        uint32_t cp, min;
        int n;

        if (p[i] < 0x80) {
            i++;
            continue;
        }
        n = util_utf8_lead(p[i], &cp, &min);
        if (n == 0 || (size_t)n > len - i)
            return false;
        for (int k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += (size_t)n;
    }
    return true;
}

bool util_text_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f ||
            (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0))
            return false;
    }
    return util_utf8_valid(s, len);
}

int util_fd_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

int util_fd_cloexec(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFD);

    if (fl < 0)
        return -errno;
    fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
    return fcntl(fd, F_SETFD, fl) < 0 ? -errno : 0;
}

/* Raises the soft RLIMIT_NOFILE to the hard limit (a stream process holds
 * one descriptor per client). Returns the new soft limit or -errno. */
long util_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            return -errno;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX)
        return LONG_MAX;
    return (long)rl.rlim_cur;
}
