/* subs_file.h -- one sseq-stream's active subscriptions (Mercure, see
 * subscription.h) in a file beside the queue, "<queue file>.subs-<slot>"
 * (slot: the process's queue slot), read by every sseq-stream process
 * that answers the subscription API. The pump rewrites it whole (a new
 * file renamed over the old one, so a reader sees one version or the
 * other, never a mix) before it appends the updates that changed it:
 * a reader that takes the queue's newest id first, then the files, sees
 * every change up to that id (and maybe some later ones, which the
 * updates after that id replay).
 *
 * Key invariant: a reader trusts a file only when it is a regular file
 * of the reader's own user whose pid and start time are those of the
 * live process in that slot now; a file left by a crashed process (it
 * is removed at a clean exit) is ignored, then replaced. */
#ifndef SSEQ_SUBS_FILE_H
#define SSEQ_SUBS_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mercure/subscription.h"

#define SUBS_FILE_MAX (64u << 20)   /* bytes of a file read */

/* The file's path for queue file qpath and slot, into out (cap bytes).
 * 0, or -ENAMETOOLONG. */
int subs_file_path(char *out, size_t cap, const char *qpath, int slot);

/* Replaces the file of slot with subs[0..n), owned by this process
 * (pid, started_us as in its queue slot), mode as given. 0, or -errno
 * (-EFBIG past SUBS_FILE_MAX; the old file then stays). */
int subs_file_write(const char *qpath, int slot, unsigned mode,
                    uint64_t started_us, const struct subscription *subs,
                    size_t n);

/* Removes the file of slot (a clean exit). */
void subs_file_remove(const char *qpath, int slot);

/* A file as read: subs[i] point into buf. */
struct subs_file_snap {
    char *buf;
    struct subscription *subs;
    size_t n;
};

/* Reads the file of slot, owned by pid started at started_us, into *out
 * (free with subs_file_snap_free). 0; -ENOENT (none, or not that live
 * process's), -EPROTO (not such a file, or not ours), -ENOMEM, -errno. */
int subs_file_read(const char *qpath, int slot, pid_t pid,
                   uint64_t started_us, struct subs_file_snap *out);

void subs_file_snap_free(struct subs_file_snap *s);

#endif
