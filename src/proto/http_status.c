/* http_status.c -- the HTTP status table and CGI-form error responses. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/http_status.h"

struct http_status_entry {
    int code;
    const char *reason;
};

/* Every status an sseq program answers with (RFC 9110 phrases). */
static const struct http_status_entry http_status_table[] = {
    { 200, "OK" },
    { 202, "Accepted" },
    { 204, "No Content" },
    { 400, "Bad Request" },
    { 401, "Unauthorized" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 406, "Not Acceptable" },
    { 408, "Request Timeout" },
    { 411, "Length Required" },
    { 413, "Content Too Large" },
    { 415, "Unsupported Media Type" },
    { 429, "Too Many Requests" },
    { 500, "Internal Server Error" },
    { 501, "Not Implemented" },
    { 503, "Service Unavailable" },
};

const char *http_status_reason(int code)
{
    size_t i;

    for (i = 0; i < sizeof(http_status_table) / sizeof(http_status_table[0]);
         i++)
        if (http_status_table[i].code == code)
            return http_status_table[i].reason;
    return "Unknown";
}

int http_status_refusal_index(int code)
{
    size_t i;
    int k = 0;

    if (code < 400)
        return -1;
    for (i = 0; i < sizeof(http_status_table) / sizeof(http_status_table[0]);
         i++) {
        if (http_status_table[i].code == code)
            return k;
        k += http_status_table[i].code >= 400;
    }
    return -1;
}

int http_status_refusal_code(int index)
{
    size_t i;
    int k = 0;

    for (i = 0; i < sizeof(http_status_table) / sizeof(http_status_table[0]);
         i++) {
        if (http_status_table[i].code < 400)
            continue;
        if (k++ == index)
            return http_status_table[i].code;
    }
    return 0;
}

/* Copies reason into dst (cap > 0) with control bytes as '?'; returns the
 * length copied (cut at cap - 1). */
static size_t http_status_copy_line(char *dst, size_t cap, const char *src)
{
    size_t n = 0;

    for (; src[n] != '\0' && n + 1 < cap; n++) {
        unsigned char c = (unsigned char)src[n];
        dst[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    dst[n] = '\0';
    return n;
}

int http_status_format(char *buf, size_t cap, int code, const char *extra,
                       const char *reason)
{
    char body[HTTP_STATUS_REASON_MAX + 2];
    size_t blen;
    int n;

    blen = http_status_copy_line(body, HTTP_STATUS_REASON_MAX + 1,
                                 reason ? reason : http_status_reason(code));
    body[blen++] = '\n';
    body[blen] = '\0';
    n = snprintf(buf, cap,
                 "Status: %d %s\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n"
                 "%s\r\n%s",
                 code, http_status_reason(code), blen,
                 extra ? extra : "", body);
    if (n < 0 || (size_t)n >= cap)
        return -ENOBUFS;
    return n;
}
