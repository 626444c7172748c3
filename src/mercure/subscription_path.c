/* subscription_path.c -- the subscription API's paths (see
 * subscription_path.h). */
#include "ac_config.h"

#include <errno.h>
#include <string.h>

#include "mercure/subscription_path.h"
#include "base/util.h"

#define SP_SEGMENTS 3               /* segments after /subscriptions */

/* Decodes segment s[0..len) into buf at *used; its start in *out. */
static int sp_decode(const char *s, size_t len, char *buf, size_t cap,
                     size_t *used, const char **out, size_t *out_len)
{
    long n;

    if (len == 0)
        return -ENOENT;             /* an empty segment: no such path */
    if (*used + len + 1 > cap)
        return -EINVAL;
    n = util_url_decode(buf + *used, s, len, false);
    if (n < 0 || memchr(buf + *used, '\0', (size_t)n) != NULL)
        return -EINVAL;
    buf[*used + (size_t)n] = '\0';
    *out = buf + *used;
    *out_len = (size_t)n;
    *used += (size_t)n + 1;
    return 0;
}

/* Splits rest[0..len) ("/a/b/c") into its raw segments; their count,
 * or -ENOENT when there are more than SP_SEGMENTS. */
static int sp_split(const char *rest, size_t len, const char *seg[],
                    size_t seg_len[])
{
    int n = 0;
    size_t i = 0;

    while (i < len) {
        size_t j = i + 1;

        if (rest[i] != '/' || n == SP_SEGMENTS)
            return -ENOENT;
        while (j < len && rest[j] != '/')
            j++;
        seg[n] = rest + i + 1;
        seg_len[n++] = j - i - 1;
        i = j;
    }
    return n;
}

/* Sets the kind from the count of segments and the first's name. */
static int sp_kind(struct subscription_path *out, int n, const char *first,
                   size_t first_len)
{
    int m = n >= 2 ? subscription_match_parse(first, first_len) : -ENOENT;

    out->match = m < 0 ? SUBSCRIPTION_MATCH_EXACT : m;
    if (n == 0)
        out->kind = SUBSCRIPTION_PATH_ALL;
    else if (n == 1)
        out->kind = SUBSCRIPTION_PATH_V0_TOPIC;
    else if (n == 2)
        out->kind = m < 0 ? SUBSCRIPTION_PATH_V0_ONE
                          : SUBSCRIPTION_PATH_V1_MATCH;
    else if (m < 0)
        return -ENOENT;
    else
        out->kind = SUBSCRIPTION_PATH_V1_ONE;
    return 0;
}

int subscription_path_parse(const char *path, size_t len,
                            struct subscription_path *out, char *buf,
                            size_t cap)
{
    static const char prefix[] = SUBSCRIPTION_PATH;
    const char *seg[SP_SEGMENTS];
    size_t seg_len[SP_SEGMENTS], used = 0, plen = sizeof(prefix) - 1;
    int n, rc, i;
    bool v1;

    memset(out, 0, sizeof(*out));
    if (len < plen || memcmp(path, prefix, plen) != 0)
        return -ENOENT;
    n = sp_split(path + plen, len - plen, seg, seg_len);
    if (n < 0)
        return n;
    if ((rc = sp_kind(out, n, n > 0 ? seg[0] : "", n > 0 ? seg_len[0] : 0))
        < 0)
        return rc;
    v1 = out->kind == SUBSCRIPTION_PATH_V1_MATCH ||
         out->kind == SUBSCRIPTION_PATH_V1_ONE;
    for (i = v1 ? 1 : 0, rc = 0; i < n && rc == 0; i++) {
        const char **o = out->selector == NULL ? &out->selector
                                               : &out->subscriber;
        size_t *ol = o == &out->selector ? &out->selector_len
                                         : &out->subscriber_len;

        rc = sp_decode(seg[i], seg_len[i], buf, cap, &used, o, ol);
    }
    return rc;
}

bool subscription_path_v1(const struct subscription_path *p, bool v1_default)
{
    if (p->kind == SUBSCRIPTION_PATH_ALL)
        return v1_default;
    return p->kind == SUBSCRIPTION_PATH_V1_MATCH ||
           p->kind == SUBSCRIPTION_PATH_V1_ONE;
}

/* Whether a[0..alen) and b[0..blen) are the same bytes. */
static bool sp_same(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

bool subscription_path_selects(const struct subscription_path *p,
                               const struct subscription *s)
{
    bool v1 = s->dialect == SUBSCRIPTION_V1;

    if (p->kind == SUBSCRIPTION_PATH_ALL)
        return true;
    if (v1 != subscription_path_v1(p, false) ||
        (v1 && s->match != p->match) ||
        !sp_same(p->selector, p->selector_len, s->selector, s->selector_len))
        return false;
    return p->subscriber == NULL ||
           sp_same(p->subscriber, p->subscriber_len, s->subscriber,
                   s->subscriber_len);
}
