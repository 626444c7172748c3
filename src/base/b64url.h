/* b64url.h -- strict base64url decoding (RFC 4648 section 5, no padding,
 * as JWS compact serialization writes it: RFC 7515 section 2). */
#ifndef SSEQ_B64URL_H
#define SSEQ_B64URL_H

#include <stddef.h>

/* Bytes b64url_decode writes for len input characters (an upper bound
 * the caller sizes dst with). */
#define B64URL_DECODED_MAX(len) ((len) / 4 * 3 + 2)

/* Decodes src[0..len) into dst (cap bytes). Returns the decoded length,
 * or -EINVAL for a character outside A-Z a-z 0-9 - _ (padding included),
 * a length of 4n+1, or non-zero unused bits (a non-canonical encoding);
 * -E2BIG if dst is too small. */
long b64url_decode(unsigned char *dst, size_t cap, const char *src,
                   size_t len);

#endif
