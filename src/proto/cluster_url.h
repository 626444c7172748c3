/* cluster_url.h -- the Redis address of the cluster mode (cluster.redis):
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
 *   unix://[[USER]:PASSWORD@]/PATH/TO/SOCKET[?db=DB]
 *   redis+sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]/NAME[/DB]
 *       [?sentinel_password=SENTINEL_PASSWORD]
 * HOST may be a name, an IPv4 address or [an IPv6 address]. A Sentinel
 * URL lists up to CLUSTER_URL_SENTINELS sentinels (port 26379 by default)
 * and the name of the master they watch; the credentials and the DB are
 * the master's. The sentinels' own password (their requirepass) is the
 * query's, which runs to the end of the URL, any bytes: the query starts
 * at the first "?sentinel_password=" before which the URL is whole.
 * Without it the sentinels are asked without AUTH. Passwords are
 * secrets: only cluster_url_redact's form may be shown or logged. */
#ifndef SSEQ_CLUSTER_URL_H
#define SSEQ_CLUSTER_URL_H

#include <stddef.h>

#define CLUSTER_URL_MAX 1024    /* bytes of a whole URL */
#define CLUSTER_URL_SENTINELS 8 /* sentinels a URL may list */
#define CLUSTER_URL_NAME_MAX 64 /* bytes of a Sentinel master name */
#define CLUSTER_URL_SENTINEL_QUERY "?sentinel_password="

struct cluster_addr {
    char host[256];             /* name, IPv4 or IPv6 (no brackets) */
    int port;
};

struct cluster_url {
    char host[256];             /* TCP host, "" for a unix socket */
    int port;                   /* TCP port, default 6379 */
    char path[108];             /* unix socket path, "" for TCP */
    char user[128];             /* ACL user, "" = default user */
    char password[256];         /* "" = no AUTH (secret) */
    unsigned db;                /* SELECT db, default 0 */
    unsigned n_sentinels;       /* 0: not a Sentinel URL */
    struct cluster_addr sentinel[CLUSTER_URL_SENTINELS];
    char master[CLUSTER_URL_NAME_MAX + 1];  /* the name Sentinel knows */
    char sentinel_password[256];    /* "" = sentinels without AUTH (secret) */
};

/* Parses s into *u. 0, or -EINVAL with *why set to a reason that never
 * quotes the password. */
int cluster_url_parse(const char *s, struct cluster_url *u, const char **why);

/* Writes s with its passwords replaced by "***" into out (cap bytes; cut
 * if longer): the password as cluster_url_parse splits it, whatever bytes
 * it holds ('?', '/', '@'), and a Sentinel URL's sentinel_password; for a
 * string that does not parse, everything between "://" and the last '@'.
 * Returns out. */
const char *cluster_url_redact(const char *s, char *out, size_t cap);

#endif
