/* cluster_sentinel.h -- finding the Redis master through Redis Sentinel
 * (a redis+sentinel:// cluster.redis URL). Debian 12's hiredis 0.14 has
 * no Sentinel client: SENTINEL get-master-addr-by-name and ROLE are
 * plain commands, and their replies, like everything from Redis, are
 * checked before use (an address is a host of name, IPv4 or IPv6
 * characters and a port from 1 to 65535; a master says "master" first in
 * ROLE). */
#ifndef SSEQ_CLUSTER_SENTINEL_H
#define SSEQ_CLUSTER_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/cluster_url.h"

struct redisReply;              /* hiredis */

/* Reads a get-master-addr-by-name reply ([host, port]) into *a. 0, or
 * -ENOENT for a nil reply (the sentinel does not know the name), -EPROTO
 * for anything else, with *why set. */
int cluster_sentinel_addr(const struct redisReply *r, struct cluster_addr *a,
                          const char **why);

/* The number of replicas a ROLE reply lists if it is a master's
 * (["master", offset, [[host, port, offset], ...]]), or -1 if it is not
 * a master's or is malformed. */
int cluster_sentinel_master_replicas(const struct redisReply *r);

/* What error reply r of a sentinel means: 0 if r is no error; -EACCES
 * for an AUTH problem (a password missing, wrong, or given to a sentinel
 * without requirepass) with *why saying what to change in the URL;
 * -EIO for another error, *why NULL (r->str says it). */
int cluster_sentinel_error(const struct redisReply *r, const char **why);

/* Asks u's sentinels, in order, for u->master's address (first AUTH
 * with u->sentinel_password when set); the first valid answer wins.
 * Each sentinel gets timeout_ms to connect and answer. 0 with *a, or
 * -ENOTCONN when none answered with an address, with the last
 * sentinel's reason in why (cap bytes; never a secret: the sentinels
 * never get the master's password, and no reason quotes theirs). */
int cluster_sentinel_ask(const struct cluster_url *u, unsigned timeout_ms,
                         struct cluster_addr *a, char *why, size_t cap);

#endif
