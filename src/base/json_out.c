/* json_out.c -- JSON string escaping (RFC 8259 section 7). */
#include "base/json_out.h"

#include <string.h>

/* The short escape for c, or 0 when c needs \u00XX or nothing. */
static char json_short_escape(unsigned char c)
{
    switch (c) {
    case '"':  return '"';
    case '\\': return '\\';
    case '\b': return 'b';
    case '\f': return 'f';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    default:   return 0;
    }
}

size_t json_escaped_len(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (json_short_escape(c))
            n += 2;
        else if (c < 0x20)
            n += 6;
        else
            n += 1;
    }
    return n;
}

size_t json_escape(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char e = json_short_escape(c);

        if (e) {
            *p++ = '\\';
            *p++ = e;
        } else if (c < 0x20) {
            memcpy(p, "\\u00", 4);
            p[4] = hex[c >> 4];
            p[5] = hex[c & 15];
            p += 6;
        } else {
            *p++ = (char)c;
        }
    }
    return (size_t)(p - out);
}

void json_write_string(FILE *f, const char *s, size_t len)
{
    char buf[512];
    size_t i = 0;

    fputc('"', f);
    while (i < len) {
        size_t chunk = len - i < 80 ? len - i : 80;   /* 80*6 < 512 */
        size_t n = json_escape(buf, s + i, chunk);

        fwrite(buf, 1, n, f);
        i += chunk;
    }
    fputc('"', f);
}
