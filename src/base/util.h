/* util.h -- small helpers shared by the programs: clocks, number parsing,
 * URL decoding, UTF-8 validation. */
#ifndef SSEQ_UTIL_H
#define SSEQ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* CLOCK_REALTIME / CLOCK_MONOTONIC in microseconds. */
uint64_t util_now_us(void);
uint64_t util_mono_us(void);

/* Parses a whole decimal u64 (no sign, no spaces, no overflow). 0 or
 * -EINVAL. */
int util_parse_u64(const char *s, size_t len, uint64_t *out);

/* Parses a size with an optional K, M or G suffix (powers of 1024). */
int util_parse_size(const char *s, uint64_t *out);

/* The value of hex digit c (either case), or -1 if c is not one. */
int util_hex(unsigned char c);

/* Percent-decodes src (and '+' to space when form) into dst (cap >= len).
 * Returns the decoded length or -EINVAL on a bad escape. */
long util_url_decode(char *dst, const char *src, size_t len, bool form);

/* Copies src[0..len) into dst (cap) for a reason or log line: printable
 * ASCII as is, other bytes and '\\' as \xNN, cut to 64 input bytes with
 * "...". Returns dst. */
const char *util_quote(char *dst, size_t cap, const char *src, size_t len);

/* true if s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
bool util_utf8_valid(const char *s, size_t len);

/* true if s[0..len) is text: valid UTF-8 without C0 or C1 controls or
 * DEL (what a Mercure topic, selector or grant may hold). */
bool util_text_valid(const char *s, size_t len);

/* Sets O_NONBLOCK on fd. 0 or -errno (fcntl's). */
int util_fd_nonblock(int fd);

/* Sets (on) or clears FD_CLOEXEC on fd. 0 or -errno (fcntl's). */
int util_fd_cloexec(int fd, bool on);

/* Raises RLIMIT_NOFILE soft limit to the hard limit; returns the new soft
 * limit or -errno. */
long util_raise_nofile(void);

#endif
