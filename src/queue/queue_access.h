/* queue_access.h -- who may open the queue's backing file: the owner and
 * group `sseq create` gives it (queue.owner, queue.group), whether a given
 * user can read and write it, and a one-line explanation, naming the file,
 * its owner, group and mode, the user and the fix, for a failed open.
 * Uses only the file's metadata; never opens the queue itself. */
#ifndef SSEQ_QUEUE_ACCESS_H
#define SSEQ_QUEUE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The user the shipped sseq-spawn runs the programs as when started by
 * root, hence the queue's owner when root creates it with no queue.owner. */
#define QUEUE_ACCESS_DEFAULT_USER "www-data"

/* A user and the groups it is in. */
struct queue_access_who {
    uid_t uid;
    gid_t gid;                  /* primary group */
    gid_t groups[64];           /* supplementary groups (primary included) */
    int ngroups;
    char name[64];              /* user name, or the number */
};

/* The file that backs queue path: "/dev/shm/NAME" for a shm name, else
 * path. -ENAMETOOLONG if it does not fit buf. */
int queue_access_file(const char *path, char *buf, size_t len);

/* Whether who has the access want (R_OK, W_OK or both) to a file of st's
 * owner, group and mode (root always has). Pure. */
bool queue_access_allows_mode(const struct stat *st,
                              const struct queue_access_who *who, int want);

/* Whether who may read and write a file of st's owner, group and mode. */
bool queue_access_allows(const struct stat *st,
                         const struct queue_access_who *who);

/* Fills who for the user name or number; -ENOENT if there is none. */
int queue_access_lookup(const char *user, struct queue_access_who *who);

/* Fills who for this process (effective uid and gid, its groups). */
int queue_access_self(struct queue_access_who *who);

/* The uid and gid `sseq create` gives the queue, run with effective uid
 * euid: owner (queue.owner; "" for none), else QUEUE_ACCESS_DEFAULT_USER
 * when euid is 0; group (queue.group; "" for none), else the owner's
 * primary group. 1 with *uid and *gid set
 * ((uid_t)-1 / (gid_t)-1 = leave as is), 0 if nothing is to change,
 * -ENOENT if a named user or group does not exist (*what names it). */
int queue_access_target(const char *owner, const char *group, uid_t euid,
                        uid_t *uid, gid_t *gid, const char **what);

/* Gives the queue's backing file to uid:gid (fchown on an O_NOFOLLOW
 * descriptor). -errno on failure. */
int queue_access_chown(const char *path, uid_t uid, gid_t gid);

/* What queue_access_owner_check found of a queue file. */
enum queue_access_owner {
    QUEUE_ACCESS_OWNER_OK = 0,
    QUEUE_ACCESS_OTHERS_WRITE,  /* writable by every user */
    QUEUE_ACCESS_FOREIGN,       /* owned by someone not trusted */
};

/* Whether a queue file of st's owner and mode may be trusted by a
 * process of effective uid euid: not writable by others, and owned by
 * root, euid or trusted (queue.owner; (uid_t)-1 = none). Pure. */
enum queue_access_owner queue_access_owner_check(const struct stat *st,
                                                 uid_t euid, uid_t trusted);

/* The name of user uid into buf (its number when it has none). Returns
 * buf. Thread-safe. */
const char *queue_access_user_name(uid_t uid, char *buf, size_t len);

/* Writes into buf one line saying why who cannot use the queue at path
 * after open failed with err (errno, either sign): for EACCES/EPERM the
 * file's owner, group and mode, the user, and the fix; for ENOENT that it
 * is missing and how to create it. as says whose access it is, e.g.
 * "this process runs as". Returns buf. */
const char *queue_access_explain(const char *path, int err,
                                 const struct queue_access_who *who,
                                 const char *as, char *buf, size_t len);

/* queue_access_explain for this process: what the programs log when
 * queue_open fails. Returns buf. */
const char *queue_access_explain_self(const char *path, int err, char *buf,
                                      size_t len);

/* Logs the outcome of the programs' queue_open(path) = rc once per
 * change (*last holds the previous outcome, 0 to start): a failure with
 * queue_error() and, for a permission or missing-file error, who lacks
 * what and how to fix it; success after a failure as one info line. A
 * program retrying every second thus logs once, not every second. */
void queue_access_log_open(const char *path, int rc, int *last);

#endif
