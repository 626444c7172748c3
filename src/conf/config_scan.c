/* config_scan.c -- integer literals libconfig 1.5 would misread.
 *
 * libconfig 1.5 silently wraps an integer literal beyond 32 bits that has
 * no L suffix ("size = 4294967296;" reads as 0, 0xFFFFFFFF as -1). This
 * scanner, a small state machine over the file text, finds such literals
 * so that the setting holding one is refused rather than misread
 * (config_get_uint claims them; config_check_big reports the rest). */
#include "ac_config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf/config_int.h"

enum config_scan_state {
    CS_CODE, CS_STRING, CS_ESCAPE, CS_LINE_COMMENT, CS_BLOCK_COMMENT,
};

/* Value of digit c in base 10 or 16, -1 if it is not one. */
static int config_digit(char c, unsigned base)
{
    int d = -1;

    if (c >= '0' && c <= '9')
        d = c - '0';
    else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
    return d >= 0 && (unsigned)d < base ? d : -1;
}

/* Scans the number at p (sign, decimal or 0x hex, maybe a float); records
 * it when it does not fit an int and has no L suffix. Returns its end. */
static const char *config_scan_number(struct config_load *ld, const char *p,
                                      unsigned line)
{
    const char *start = p;
    unsigned base = 10;
    uint64_t v = 0, lim;
    bool neg = *p == '-', big = false;
    int d;

    if (*p == '-' || *p == '+')
        p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (; (d = config_digit(*p, base)) >= 0; p++) {
        big |= v > (UINT64_MAX - (unsigned)d) / base;
        v = v * base + (unsigned)d;
    }
    if (base == 10 && (*p == '.' || *p == 'e' || *p == 'E'))
        return p + strspn(p, "0123456789.eE+-");       /* a float */
    if (*p == 'L')
        return p + strspn(p, "L");
    lim = base == 16 ? INT_MAX : neg ? (uint64_t)INT_MAX + 1 : INT_MAX;
    if ((big || v > lim) && ld->n_big < CONFIG_BIG_MAX) {
        struct config_big *b = &ld->big[ld->n_big++];

        b->line = line;
        snprintf(b->text, sizeof b->text, "%.*s", (int)(p - start), start);
    }
    return p;
}

/* One step in code (outside strings and comments); returns the next p. */
static const char *config_scan_code(struct config_load *ld, const char *p,
                                    unsigned line,
                                    enum config_scan_state *st)
{
    static const char ident[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "abcdefghijklmnopqrstuvwxyz0123456789-_*";

    if (*p == '"')
        *st = CS_STRING;
    else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
        *st = CS_LINE_COMMENT;
    else if (p[0] == '/' && p[1] == '*') {
        *st = CS_BLOCK_COMMENT;
        return p + 2;
    } else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
               *p == '*' || *p == '_')
        return p + strspn(p, ident);
    else if ((*p >= '0' && *p <= '9') ||
             ((*p == '-' || *p == '+') && p[1] >= '0' && p[1] <= '9'))
        return config_scan_number(ld, p, line);
    return p + 1;
}

/* Records in ld->big every integer literal of text libconfig would wrap. */
void config_scan(struct config_load *ld, const char *text)
{
    enum config_scan_state st = CS_CODE;
    unsigned line = 1;
    const char *p = text;

    while (*p != '\0') {
        const char *q = p;

        switch (st) {
        case CS_CODE:
            p = config_scan_code(ld, p, line, &st);
            break;
        case CS_STRING:
            st = *p == '\\' ? CS_ESCAPE : *p == '"' ? CS_CODE : CS_STRING;
            p++;
            break;
        case CS_ESCAPE:
            st = CS_STRING;
            p++;
            break;
        case CS_LINE_COMMENT:
            st = *p == '\n' ? CS_CODE : CS_LINE_COMMENT;
            p++;
            break;
        case CS_BLOCK_COMMENT:
            if (p[0] == '*' && p[1] == '/') {
                st = CS_CODE;
                p++;
            }
            p++;
            break;
        }
        for (; q < p; q++)
            line += *q == '\n';
    }
}

/* Reports a too-large integer no setting claimed (see config_scan). */
int config_check_big(struct config_load *ld)
{
    for (size_t i = 0; i < ld->n_big; i++) {
        if (ld->big[i].claimed)
            continue;
        snprintf(ld->err, ld->errlen, "%s:%u: integer %s: too large for "
                 "32 bits without an L suffix (write %sL)", ld->path,
                 ld->big[i].line, ld->big[i].text, ld->big[i].text);
        return -EINVAL;
    }
    return 0;
}
