/* config_token.h -- whether a bearer token or an HMAC key is a secret:
 * the characters a token may hold, placeholder words copied from an
 * example, and an estimate of how many bits a guesser must find. A pure
 * policy (no I/O), table-tested in check_config. */
#ifndef SSEQ_CONFIG_TOKEN_H
#define SSEQ_CONFIG_TOKEN_H

#include <stddef.h>

#define CONFIG_TOKEN_MIN_BITS 64    /* weaker tokens and keys are refused */

/* Why str cannot be a publish token (too short or long, bad characters,
 * a placeholder word such as "change-me", too few distinct characters,
 * under CONFIG_TOKEN_MIN_BITS), or NULL if it can. The reason never
 * quotes str and says how to make a token. */
const char *config_token_check(const char *str);

/* The placeholder word str contains ("change-me", ...), or NULL. */
const char *config_token_placeholder(const char *str);

/* Why the HMAC secret key[0..len) is no secret (a placeholder word, or
 * under CONFIG_TOKEN_MIN_BITS), or NULL. The reason never quotes the key
 * and says how to make one. */
const char *config_token_key_check(const void *key, size_t len);

/* A guesser's work for s[0..len), in bits, estimated: log2 of the pool of
 * the character classes s uses, for each character that is not a run,
 * a sequence ("abc", "321") or a repeat of an earlier three characters
 * (those count 1 bit); a dictionary word ("password", "secret", ...,
 * also written "p@ssw0rd") counts 8 bits. */
unsigned config_token_bits(const void *s, size_t len);

#endif
