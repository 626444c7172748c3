/* uri_template.h -- RFC 6570 URI templates (levels 1-4) used as matchers,
 * the Mercure topic selectors built on them, and a bounded cache of
 * (selector, topic) match results.
 *
 * A template matches a string when some assignment of values to its
 * variables expands to exactly that string, read as follows:
 *   - literal text matches itself, byte for byte;
 *   - an expression matches the empty string (no variable defined), or
 *     the operator's first string ("" . / ; ? & #) followed by one or
 *     more items separated by the operator's separator ("," for simple,
 *     + and #, else the first string; "&" for ?), each item the value of
 *     one variable, variables in template order, each at most once
 *     unless exploded ({v*}: one or more items);
 *   - a value is a run, possibly empty, of unreserved characters,
 *     pct-encoded triplets and ',' (list values); + and # also allow the
 *     reserved set; an exploded value also allows '=' (key=value pairs);
 *   - named operators (; ? &) put "name=" before a non-exploded value
 *     (";name" alone for an empty ; value); exploded items carry their
 *     own keys, which are not checked;
 *   - a prefix {v:N} limits the value to N characters (a triplet is one).
 * This is the reading of the Mercure hub (yosida95/uritemplate Regexp)
 * except that names of named operators and prefix lengths are checked,
 * as RFC 6570 expansion writes them.
 *
 * Matching is a dynamic program over string positions: time
 * O(len(s) x cost), never backtracking (uri_template_cost). */
#ifndef SSEQ_URI_TEMPLATE_H
#define SSEQ_URI_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define URI_TEMPLATE_MAX 8192       /* template bytes */
#define URI_TEMPLATE_VARS_MAX 32    /* variables in one expression */
#define URI_TEMPLATE_SUBJECT_MAX (64u * 1024)   /* longer: no match */

struct uri_template;                /* a compiled template */

/* Compiles tpl[0..tlen) into *out. 0, -EINVAL for a template that is not
 * RFC 6570 (bad literal, bad escape, unbalanced brace, reserved operator,
 * bad variable name or modifier, too long) or -ENOMEM. */
int uri_template_compile(const char *tpl, size_t tlen,
                         struct uri_template **out);

void uri_template_free(struct uri_template *t);

/* Whether the compiled template matches all of s[0..slen): 1 or 0
 * (always 0 past URI_TEMPLATE_SUBJECT_MAX bytes), or -ENOMEM. */
int uri_template_match_compiled(const struct uri_template *t,
                                const char *s, size_t slen);

/* What matching the compiled template costs, in work units a subject
 * byte: each literal 1 + len/16, each expression of one plain variable
 * ({v}, {+v}, {#v}, {.v}, {/v}: a run scan) 1, any other expression 2
 * + 4 a variable (the (variable, position) automaton). Matching a
 * subject of n bytes does at most about cost x (n + 1) units of work; a
 * subject not starting (ending) with the template's first (last)
 * literal is refused at once, and the scan stops at the first element
 * nothing reaches, or when the end is reached and only expressions are
 * left. */
unsigned long uri_template_cost(const struct uri_template *t);

/* The template's expressions and variables (for messages). */
size_t uri_template_expressions(const struct uri_template *t);
size_t uri_template_variables(const struct uri_template *t);

/* Compiles and matches once: 1 match, 0 no match, -EINVAL bad template,
 * -ENOMEM. */
int uri_template_match(const char *tpl, size_t tlen,
                       const char *s, size_t slen);

#endif
