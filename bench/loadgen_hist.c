/* loadgen_hist.c -- a log-linear latency histogram in microseconds: exact
 * below 1024 us, then 512 sub-buckets per power of two, so a quantile is
 * within 0.2 % of the true value and adding a sample is O(1). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     /* memmem, strcasestr, asprintf */
#endif
#include "loadgen.h"

/* The bucket of value v. */
static unsigned lg_hist_index(uint64_t v)
{
    unsigned e;

    if (v < 1024)
        return (unsigned)v;
    e = (unsigned)(63 - __builtin_clzll(v)) - 9;    /* v >> e in 512..1023 */
    if (e > 40)
        return LG_HIST_BUCKETS - 1;
    return 1024 + (e - 1) * 512 + (unsigned)((v >> e) - 512);
}

/* The lowest value of bucket i. */
static uint64_t lg_hist_value(unsigned i)
{
    unsigned e;

    if (i < 1024)
        return i;
    e = (i - 1024) / 512 + 1;
    return (uint64_t)((i - 1024) % 512 + 512) << e;
}

void lg_hist_add(struct lg_hist *h, uint64_t us)
{
    unsigned i = lg_hist_index(us);

    if (i >= LG_HIST_BUCKETS)
        i = LG_HIST_BUCKETS - 1;
    h->b[i]++;
    h->count++;
    if (us > h->max)
        h->max = us;
}

uint64_t lg_hist_quantile(const struct lg_hist *h, double q)
{
    uint64_t want, seen = 0;
    unsigned i;

    if (h->count == 0)
        return 0;
    want = (uint64_t)(q * (double)h->count);
    if (want >= h->count)
        want = h->count - 1;
    for (i = 0; i < LG_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen > want)
            return lg_hist_value(i);
    }
    return h->max;
}
