/* cluster_entry.h -- one entry of the cluster's Redis stream, as the
 * bridge reads it (XREAD / XRANGE reply: [id, [field, value, ...]]).
 *
 * Redis is not trusted: anyone who can write to it can XADD anything. An
 * entry becomes a message only if its id is "<n>-0" with n inside the
 * queue's id range and its fields make a message that queue_msg_check
 * accepts, the rule every other writer passes. Any other entry is bad:
 * it carries only its full id (to read past it) and a one-line reason. */
#ifndef SSEQ_CLUSTER_ENTRY_H
#define SSEQ_CLUSTER_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "queue/queue.h"

#define CLUSTER_ENTRY_WHY_MAX 400

struct redisReply;              /* hiredis */

/* One entry: pointers into the reply (valid while it is). */
struct cluster_entry {
    uint64_t id;                /* the entry id's first part */
    uint64_t seq;               /* its second part; 0 for sseq's */
    bool bad;                   /* not a valid sseq message: skip it */
    char why[CLUSTER_ENTRY_WHY_MAX];    /* why, naming the field (one
                                           line, culprit quoted) */
    uint64_t time_us;           /* publish time on the publishing host */
    struct queue_msg msg;       /* its alt / alt_len point to the arrays
                                   below (do not copy an entry) */
    const char *alt[QUEUE_TOPICS_MAX];  /* the alternate topics */
    size_t alt_len[QUEUE_TOPICS_MAX];
};

/* Fills e from one entry of a reply. 0: a valid message (e->msg);
 * -EINVAL: an entry with a readable id that is not one (e->bad, e->why;
 * skip it and read after <id>-<seq>); -EPROTO: not an entry (no id). */
int cluster_entry_parse(const struct redisReply *r, struct cluster_entry *e);

#endif
