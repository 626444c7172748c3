/* urlpattern_regex.h -- the regular expressions of URL patterns, matched
 * in linear time: a restricted dialect of ECMAScript regexps compiled to
 * a Thompson NFA and simulated a byte at a time (every live state once a
 * byte), so matching text of n bytes with a program of m instructions is
 * O(n x m) whatever the pattern; no backtracking, no recursion on input.
 *
 * The dialect: literals; escapes \d \D \w \W \s \S \t \n \r \f \v \0
 * \xHH (ASCII) and identity escapes of punctuation; "." (any byte but CR
 * and LF); classes [..] with ranges, negation, the class escapes, and
 * ECMAScript's [] (nothing) and [^] (anything); groups (...), (?:...),
 * (?<name>...); alternation |; quantifiers ? * + {n} {n,} {n,m} (n, m
 * up to URLPATTERN_REGEX_REPEAT_MAX), lazy or not (only whether a match
 * exists is asked, so laziness changes nothing); the assertions ^ and $
 * (input start and end). Refused, with a reason naming the construct:
 * backreferences (\1, \k<name>), lookahead and lookbehind ((?= (?! (?<=
 * (?<!), word boundaries (\b \B), Unicode property escapes (\p \P),
 * control escapes (\c) and \u escapes: none has a linear-time automaton
 * here.
 *
 * Bytes, not code points: a multi-byte UTF-8 character is several bytes
 * to "." and to negated classes (URL components are percent-encoded
 * ASCII except a raw non-ASCII hostname, so this only changes what {n}
 * counts there). Always a whole match: the text must match from its
 * first byte to its last. */
#ifndef SSEQ_URLPATTERN_REGEX_H
#define SSEQ_URLPATTERN_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#define URLPATTERN_REGEX_REPEAT_MAX 100     /* n, m of {n,m} */
#define URLPATTERN_REGEX_PROG_MAX   4096    /* instructions a program */

struct urlpattern_regex;

/* Compiles re[0..len) into *out. 0; -EINVAL (bad or refused syntax:
 * why[0..cap) says which construct, quoting it); -E2BIG (more than
 * URLPATTERN_REGEX_PROG_MAX instructions, why says so); -ENOMEM. */
int urlpattern_regex_compile(const char *re, size_t len,
                             struct urlpattern_regex **out, char *why,
                             size_t cap);

void urlpattern_regex_free(struct urlpattern_regex *r);

/* Instructions in r's program: the most states alive at one byte, so
 * the matching work a text byte costs. */
size_t urlpattern_regex_size(const struct urlpattern_regex *r);

/* Whether r matches all of s[0..len). Uses r's scratch lists: one
 * regex, one thread at a time. */
bool urlpattern_regex_match(struct urlpattern_regex *r, const char *s,
                            size_t len);

#endif
