/* json_out.h -- writing JSON text: string escaping for the CLI's --json
 * output, the publish response and the stream's gap event. */
#ifndef SSEQ_JSON_OUT_H
#define SSEQ_JSON_OUT_H

#include <stddef.h>
#include <stdio.h>

/* Bytes json_escape writes for s[0..len) (quotes not included). */
size_t json_escaped_len(const char *s, size_t len);

/* Writes s escaped for a JSON string body (no quotes) into out, which
 * holds json_escaped_len(s, len) bytes; returns that count. Control
 * characters become \uXXXX; bytes >= 0x80 pass through (UTF-8). */
size_t json_escape(char *out, const char *s, size_t len);

/* Writes "s" (quoted, escaped) to f. */
void json_write_string(FILE *f, const char *s, size_t len);

#endif
