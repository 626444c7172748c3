/* publish_lag.c -- backpressure: the decision whether the subscribers'
 * fan-out is too far behind to take a publish (see publish_lag.h). */
#include "ac_config.h"

#include "publish/publish_lag.h"

/* Whether f is a fan-out a publisher waits for (see the header). */
static bool publish_lag_healthy(const struct queue_fanout *f)
{
    return f->alive && f->streams > 0 && f->quiet_ms <= PUBLISH_LAG_STUCK_MS;
}

/* Whole seconds to wait for lag_us to come down to max_lag_us. */
static unsigned publish_lag_retry_after(uint64_t lag_us, uint64_t max_lag_us)
{
    uint64_t s = (lag_us - max_lag_us + 999999u) / 1000000u;

    if (s < 1)
        return 1;
    return s > PUBLISH_LAG_RETRY_MAX ? PUBLISH_LAG_RETRY_MAX : (unsigned)s;
}

struct publish_lag_dec publish_lag_decide(const struct queue_fanout *f,
                                          size_t n, uint64_t max_lag_us)
{
    struct publish_lag_dec d = { 0 };
    size_t i;

    for (i = 0; i < n; i++)
        if (publish_lag_healthy(&f[i]) && f[i].lag_us > d.lag_us) {
            d.lag_us = f[i].lag_us;
            d.pid = f[i].pid;
        }
    if (max_lag_us == 0 || d.lag_us <= max_lag_us)
        return d;
    d.refuse = true;
    d.retry_after_s = publish_lag_retry_after(d.lag_us, max_lag_us);
    return d;
}

struct publish_lag_dec publish_lag_check(const struct queue *q,
                                         uint64_t max_lag_us)
{
    struct queue_fanout f[PUBLISH_LAG_MAX_PROCS];
    struct publish_lag_dec none = { 0 };
    int n;

    if (max_lag_us == 0)
        return none;
    n = queue_fanout_list(q, max_lag_us, f, PUBLISH_LAG_MAX_PROCS);
    if (n <= 0)
        return none;
    return publish_lag_decide(f, (size_t)n, max_lag_us);
}
