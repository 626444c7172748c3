/* chan_top.c -- top channels by streams (see chan_top.h). */
#include "ac_config.h"

#include <stdlib.h>
#include <string.h>

#include "metrics/chan_top.h"

/* Bytewise order of names, shorter first on a common prefix. */
static int chan_top_name_cmp(const struct chan_top_entry *a,
                             const struct chan_top_entry *b)
{
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, m);

    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Whether a ranks before b. */
static int chan_top_before(const struct chan_top_entry *a,
                           const struct chan_top_entry *b)
{
    if (a->streams != b->streams)
        return a->streams > b->streams;
    return chan_top_name_cmp(a, b) < 0;
}

void chan_top_offer(struct chan_top_entry *top, unsigned *n, unsigned k,
                    const struct chan_top_entry *e)
{
    unsigned i;

    if (e->streams == 0 || k == 0)
        return;
    if (*n == k && !chan_top_before(e, &top[k - 1]))
        return;
    i = *n < k ? (*n)++ : k - 1;
    for (; i > 0 && chan_top_before(e, &top[i - 1]); i--)
        top[i] = top[i - 1];
    top[i] = *e;
}

static int chan_top_qsort_name(const void *a, const void *b)
{
    return chan_top_name_cmp(a, b);
}

unsigned chan_top_merge(struct chan_top_entry *all, unsigned n,
                        struct chan_top_entry *top, unsigned k)
{
    unsigned i, kept = 0;

    if (n == 0)
        return 0;
    qsort(all, n, sizeof(*all), chan_top_qsort_name);
    for (i = 0; i < n; ) {
        struct chan_top_entry sum = all[i];

        while (++i < n && chan_top_name_cmp(&all[i], &sum) == 0)
            sum.streams += all[i].streams;
        chan_top_offer(top, &kept, k, &sum);
    }
    return kept;
}
