/* auth.c -- bearer tokens, token channel globs, open channels. */
#include <fnmatch.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "auth.h"

struct auth_outcome {
    enum auth_result result;
    int status;
    const char *reason;
};

/* Status and reason of every outcome; indexed by enum auth_result. */
static const struct auth_outcome auth_outcomes[] = {
    { AUTH_OK, 0, "authorized" },
    { AUTH_OPEN, 0, "open channel" },
    { AUTH_MISSING, 401,
      "authorization required: send \"Authorization: Bearer <token>\"" },
    { AUTH_NOT_BEARER, 401,
      "Authorization header is not \"Bearer <token>\"" },
    { AUTH_WRONG_TOKEN, 403, "wrong token" },
    { AUTH_CHANNEL_DENIED, 403, "token not allowed for this channel" },
    { AUTH_DISABLED, 403,
      "publishing is disabled: no tokens in the config (publish.tokens)" },
};

int auth_status(enum auth_result r)
{
    return auth_outcomes[r].status;
}

const char *auth_reason(enum auth_result r)
{
    return auth_outcomes[r].reason;
}

bool auth_token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    volatile unsigned char diff = 0;
    size_t i;

    /* Walk the presented token's length; read b within bounds through a
     * mask so that neither the lengths nor the contents pick a branch. */
    diff |= (unsigned char)((alen != blen) | (blen == 0));
    for (i = 0; i < alen; i++) {
        size_t in = (size_t)0 - (size_t)(i < blen);     /* all ones if i<blen */
        size_t j = i & in;
        unsigned char bc = blen ? (unsigned char)b[j] : 0;
        diff |= (unsigned char)a[i] ^ bc;
    }
    return diff == 0;
}

bool auth_glob_match(char *const *globs, size_t n, const char *channel)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (fnmatch(globs[i], channel, 0) == 0)
            return true;
    return false;
}

bool auth_parse_bearer(const char *value, const char **tok, size_t *len)
{
    const char *p = value, *end;

    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
        return false;
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end == p)
        return false;
    *tok = p;
    *len = (size_t)(end - p);
    return true;
}

/* Index of the configured token equal to tok, or -1; compares against
 * every token so the time does not tell which one (if any) matched. */
static long auth_find_token(const struct config *cfg, const char *tok,
                            size_t len)
{
    long found = -1;
    size_t i;

    for (i = 0; i < cfg->n_tokens; i++) {
        const char *t = cfg->tokens[i].token;
        bool eq = auth_token_equal(tok, len, t, strlen(t));
        long mask = -(long)eq;          /* all ones if eq */

        found = (found & ~mask) | ((long)i & mask);
    }
    return found;
}

/* The outcome for a presented Authorization value (non-empty): a
 * configured token allowed for the channel, or why not. */
static enum auth_result auth_check_presented(const struct config *cfg,
                                             const char *authorization,
                                             const char *channel)
{
    const struct config_token *t;
    const char *tok;
    size_t len;
    long i;

    if (!auth_parse_bearer(authorization, &tok, &len))
        return AUTH_NOT_BEARER;
    i = auth_find_token(cfg, tok, len);
    if (i < 0)
        return AUTH_WRONG_TOKEN;
    t = &cfg->tokens[i];
    if (t->n_channels > 0 &&
        !auth_glob_match(t->channels, t->n_channels, channel))
        return AUTH_CHANNEL_DENIED;
    return AUTH_OK;
}

enum auth_result auth_check(const struct config *cfg,
                            const char *authorization, const char *channel)
{
    bool open = auth_glob_match(cfg->open_channels, cfg->n_open_channels,
                                channel);
    bool presented = authorization != NULL && authorization[0] != '\0';
    enum auth_result r;

    if (open && !presented)
        return AUTH_OPEN;
    if (!open && cfg->n_tokens == 0)
        return AUTH_DISABLED;
    if (!presented)
        return AUTH_MISSING;
    r = auth_check_presented(cfg, authorization, channel);
    /* A valid token limited to other channels may still use an open one;
     * a wrong or malformed credential is refused even there. */
    if (open && r == AUTH_CHANNEL_DENIED)
        return AUTH_OPEN;
    return r;
}
