/* cluster_redis.h -- the Redis side of the cluster mode: hosts joined
 * through one Redis stream (cluster.redis in the config).
 *
 * Every publish on any host goes to Redis once (a Lua script: INCR-like
 * counter, XADD <n>-0 MAXLEN ~ retention), never to the local queue; each
 * host's sseq-bridge reads the stream (XREAD BLOCK from the newest id its
 * queue holds) and appends every entry with that id (queue_append_at). So
 * every host carries the same messages with the same ids in the same
 * order, and the ids stay dense: entry <n>-0 is sseq id n.
 *
 * Keys (one hash tag, so Redis Cluster keeps them in one slot):
 *   {PREFIX}:stream     the stream; fields c (channel), e (event, if any),
 *                       d (data), t (publish time, microseconds)
 *   {PREFIX}:seq        the newest id handed out
 *   {PREFIX}:req:KEY    the id a request id was published as (1 day)
 *   {PREFIX}:ack        Sentinel mode with WAIT: entries <id>-0 marking
 *                       the ids whose write reached the replicas
 *
 * Return convention: >= 0 success, -errno failure, with a one-line reason
 * in cluster_error() that never holds a secret. Redis unreachable, timed
 * out or refusing is -ENOTCONN / -ETIMEDOUT / -EACCES / -EIO. */
#ifndef SSEQ_CLUSTER_REDIS_H
#define SSEQ_CLUSTER_REDIS_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster_entry.h"
#include "conf/config.h"
#include "queue/queue.h"

struct cluster_link;            /* one Redis connection; one thread */

/* A position in the stream: the full entry id <id>-<seq>. */
struct cluster_pos {
    uint64_t id;
    uint64_t seq;
};

/* Called for each entry in order; a negative return stops the read. */
typedef int (*cluster_entry_fn)(void *arg, const struct cluster_entry *e);

/* Whether cfg switches the cluster mode on (cluster.redis set). */
bool cluster_enabled(const struct config *cfg);

/* The reason of this thread's last failure. */
const char *cluster_error(void);

/* Publishes m through Redis and stores its global id in *id; nothing is
 * appended locally (the bridge does that). q is the local queue: its
 * newest id is a floor for the id, its payload limit is checked first.
 * request_id (NULL or "" = none): a retry with the same request id gets
 * the first id back and publishes nothing. -EMSGSIZE / -EINVAL for a
 * message that can never be appended; -ENOTCONN etc. when Redis cannot
 * take it (nothing was written). Logs once per change between reachable
 * and not. Thread-safe: connections come from a small pool. */
int cluster_publish(const struct config *cfg, struct queue *q,
                    const struct queue_msg *m, const char *request_id,
                    uint64_t *id);

/* Connects, authenticates, selects the database and loads the scripts;
 * reads may block up to block_ms more than cluster.timeout_ms. */
int cluster_link_open(const struct config *cfg, int block_ms,
                      struct cluster_link **out);
void cluster_link_close(struct cluster_link *l);

/* Raises the stream's counter to at least floor, so that ids never go
 * backwards on a host whose queue already holds floor. */
int cluster_join(struct cluster_link *l, uint64_t floor);

/* XREAD BLOCK block_ms COUNT count from after the entry id `after`;
 * calls fn for each entry in order. Returns the number of entries (0 on
 * timeout), fn's negative return, or -errno. An entry that is not a
 * valid sseq message (cluster_entry.h) comes with e->bad and e->why; a
 * reply entry without an id is -EPROTO. In Sentinel mode with
 * cluster.wait_replicas, only entries up to the newest acknowledged mark
 * ({prefix}:ack) are read, and *after may move to a mark past which the
 * stream has no entry (they were trimmed). */
int cluster_read(struct cluster_link *l, struct cluster_pos *after,
                 int block_ms, unsigned count, cluster_entry_fn fn,
                 void *arg);

/* The stream's newest id (*top, 0 if empty) and the publish time of the
 * first entry after `after` (*next_us, 0 if none): for the bridge's lag. */
int cluster_tip(struct cluster_link *l, uint64_t after, uint64_t *top,
                uint64_t *next_us);

/* What `sseq stats` shows of the cluster besides the bridge's slot. */
struct cluster_view {
    bool reachable;             /* Redis answered */
    char why[256];              /* why not, if not */
    uint64_t top;               /* the stream's newest id, 0 if empty */
    uint64_t lag;               /* entries newer than newest */
    uint64_t lag_ms;            /* age of the oldest of them, 0 if none */
};

/* Asks Redis how far the local queue (newest id) is behind. Never fails:
 * an unreachable Redis is v->reachable = false with v->why. */
void cluster_view_get(const struct config *cfg, uint64_t newest,
                      struct cluster_view *v);

/* Logs "redis URL: up" or "... down: reason" when the state differs from
 * the last one logged by this process (never per request). */
void cluster_note_state(const struct config *cfg, bool up);

#endif
