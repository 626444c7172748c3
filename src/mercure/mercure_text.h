/* mercure_text.h -- the one character rule Mercure 1.0 puts on the
 * strings a publisher names things with (topics, an update's id and
 * type; spec "Terminology" and "Publication") and sseq also applies to
 * 1.0 tokens' matchers: valid UTF-8 without a C0 control (U+0000 to
 * U+001F), DEL (U+007F), a C1 control (U+0080 to U+009F) or a format
 * character (general category Cf: soft hyphen, bidirectional and
 * zero-width controls, tags, ...), which are invisible and let one
 * identifier pass for another. The Cf table is Unicode 15.1's
 * (DerivedGeneralCategory); the spec cites 17.0 and lets a hub refuse
 * later additions. Pure. */
#ifndef SSEQ_MERCURE_TEXT_H
#define SSEQ_MERCURE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Checks s[0..len). 0; -EILSEQ (not UTF-8); -EINVAL when it holds a
 * character the rule refuses, the first one's byte offset in *at and
 * code point in *cp. */
int mercure_text_check(const char *s, size_t len, size_t *at, uint32_t *cp);

/* One line naming a refusal of mercure_text_check (rc, at, cp) into
 * out[0..cap), e.g. "U+200B (a format character, Cf) at byte 4"; out. */
const char *mercure_text_describe(int rc, size_t at, uint32_t cp, char *out,
                                  size_t cap);

#endif
