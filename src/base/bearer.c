/* bearer.c -- the "Bearer <token>" credential (see bearer.h). */
#include <string.h>
#include <strings.h>

#include "base/bearer.h"

#define BEARER_SCHEME "Bearer"
#define BEARER_SCHEME_LEN (sizeof(BEARER_SCHEME) - 1)

static bool bearer_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool bearer_parse(const char *value, const char **tok, size_t *len)
{
    const char *p = value, *end;

    while (bearer_blank(*p))
        p++;
    if (strncasecmp(p, BEARER_SCHEME, BEARER_SCHEME_LEN) != 0 ||
        !bearer_blank(p[BEARER_SCHEME_LEN]))
        return false;
    p += BEARER_SCHEME_LEN;
    while (bearer_blank(*p))
        p++;
    end = p + strlen(p);
    while (end > p && bearer_blank(end[-1]))
        end--;
    if (end == p)
        return false;
    *tok = p;
    *len = (size_t)(end - p);
    return true;
}
