/* b64url.c -- strict base64url decoding. Every input has at most one
 * accepted encoding: no padding, no other alphabet, unused bits zero. */
#include "ac_config.h"

#include <errno.h>

#include "base/b64url.h"

/* The 6-bit value of c, or -1. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long b64url_decode(unsigned char *dst, size_t cap, const char *src,
                   size_t len)
{
    unsigned long acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    if (len % 4 == 1)
        return -EINVAL;
    if (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > cap)
        return -E2BIG;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)src[i]);

        if (v < 0)
            return -EINVAL;
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (unsigned char)(acc >> bits);
            acc &= (1ul << bits) - 1;
        }
    }
    if (acc != 0)
        return -EINVAL;             /* unused low bits must be zero */
    return (long)o;
}
