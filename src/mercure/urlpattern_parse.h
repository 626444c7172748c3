/* urlpattern_parse.h -- the URL Pattern Living Standard's tokenizer and
 * pattern string parser: one component's pattern string (":id", "*",
 * "(\\d+)", "{/:x}?", ...) turned into the standard's regular expression
 * (urlpattern_regex.h compiles it), fixed text canonicalized by the
 * component's encoding. Used by urlpattern.c; pure functions. */
#ifndef SSEQ_URLPATTERN_PARSE_H
#define SSEQ_URLPATTERN_PARSE_H

#include <stdbool.h>
#include <stddef.h>

enum urlpattern_tok {
    UPT_OPEN = 0,       /* { */
    UPT_CLOSE,          /* } */
    UPT_REGEXP,         /* (...): value without the parentheses */
    UPT_NAME,           /* :name: value without the colon */
    UPT_CHAR,
    UPT_ESCAPED,        /* \c: value c */
    UPT_MODIFIER,       /* ? or + */
    UPT_ASTERISK,       /* * */
    UPT_END,
    UPT_INVALID,        /* lenient tokenizing only */
};

struct urlpattern_token {
    unsigned char type;         /* enum urlpattern_tok */
    size_t index;               /* where it starts in the input */
    size_t vpos, vlen;          /* its value in the input */
};

/* Tokenizes s[0..len) into *out (malloc'd, *n tokens, the last UPT_END).
 * strict: a malformed token is an error (-EINVAL, why[0..cap) says which
 * and where); else it becomes UPT_INVALID. 0, -EINVAL or -ENOMEM. */
int urlpattern_tokenize(const char *s, size_t len, bool strict,
                        struct urlpattern_token **out, size_t *n,
                        char *why, size_t cap);

/* How a component's fixed text is canonicalized (the standard's
 * encoding callbacks). */
enum urlpattern_enc {
    UPE_PROTOCOL = 0,   /* lowercased, scheme characters only */
    UPE_USERINFO,       /* userinfo percent-encode set */
    UPE_DOMAIN,         /* special hosts: lowercased, no forbidden */
    UPE_HOST,           /* opaque hosts: no forbidden, C0-encoded */
    UPE_IPV6,           /* hex digits, [ ] :, lowercased */
    UPE_PORT,           /* digits */
    UPE_PATH,           /* path percent-encode set */
    UPE_OPAQUE_PATH,    /* C0 control percent-encode set */
    UPE_SEARCH,         /* query percent-encode set */
    UPE_HASH,           /* fragment percent-encode set */
};

/* A growing string; oom set once an append failed. */
struct urlpattern_str {
    char *p;
    size_t n, cap;
    bool oom;
};

void urlpattern_str_add(struct urlpattern_str *s, const char *b, size_t n);
void urlpattern_str_free(struct urlpattern_str *s);

/* Canonicalizes fixed text s[0..len) with enc, appending it to out.
 * 0, or -EINVAL with why naming the bad character. */
int urlpattern_encode(enum urlpattern_enc enc, const char *s, size_t len,
                      struct urlpattern_str *out, char *why, size_t cap);

/* Appends the standard's regular expression for component pattern
 * string s[0..len) to re (without ^ and $: matched whole). delim: the
 * segment delimiter ('/', '.', 0 none); prefix: the prefix code point
 * ('/' or 0). 0, -EINVAL (why names the culprit) or -ENOMEM. */
int urlpattern_parse_component(const char *s, size_t len,
                               enum urlpattern_enc enc, char delim,
                               char prefix, struct urlpattern_str *re,
                               char *why, size_t cap);

/* Appends s[0..len) with the pattern syntax characters escaped (the
 * standard's "escape a pattern string"). */
void urlpattern_escape_pattern(struct urlpattern_str *out, const char *s,
                               size_t len);

#endif
