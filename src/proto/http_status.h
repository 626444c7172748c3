/* http_status.h -- HTTP status codes and the plain-text error responses
 * sseq's FastCGI/CGI programs send in CGI form:
 *   "Status: 413 Content Too Large\r\n"
 *   "Content-Type: text/plain; charset=utf-8\r\n"
 *   "Content-Length: N\r\n" <extra headers> "\r\n"
 *   "<one-line reason>\n"
 * Shared by sseq-publish and sseq-stream, which write the buffer
 * themselves (a FastCGI reply, or stdout in CGI mode). */
#ifndef SSEQ_HTTP_STATUS_H
#define SSEQ_HTTP_STATUS_H

#include <stddef.h>

/* Longest response http_status_format needs for a reason of up to
 * HTTP_STATUS_REASON_MAX bytes and extra headers of up to
 * HTTP_STATUS_EXTRA_MAX bytes. */
#define HTTP_STATUS_REASON_MAX 512
#define HTTP_STATUS_EXTRA_MAX  1024
#define HTTP_STATUS_RESPONSE_MAX \
    (256 + HTTP_STATUS_EXTRA_MAX + HTTP_STATUS_REASON_MAX)

/* The reason phrase of code ("Content Too Large"), or "Unknown" for a code
 * not in the table. */
const char *http_status_reason(int code);

/* The error statuses of the table (400 and up), numbered from 0 in
 * ascending order: the index of each process's refusal counter
 * (queue_proc_info.refused). */
#define HTTP_STATUS_REFUSALS 14

/* The refusal index of code, or -1 for a code under 400 or not in the
 * table. */
int http_status_refusal_index(int code);

/* The status of refusal index i, or 0 outside 0..HTTP_STATUS_REFUSALS-1. */
int http_status_refusal_code(int index);

/* Formats the whole error response into buf (cap bytes): status line,
 * Content-Type text/plain, Content-Length, extra (zero or more complete
 * "Name: value\r\n" lines, may be NULL), blank line, then reason and "\n"
 * as the body (reason NULL = the reason phrase). Control bytes in reason
 * are written as '?', so the body stays one line; a longer reason than
 * HTTP_STATUS_REASON_MAX is cut. Returns the length, or -ENOBUFS if cap is
 * too small (buf then holds nothing useful). */
int http_status_format(char *buf, size_t cap, int code, const char *extra,
                       const char *reason);

#endif
