/* chan_file.h -- one sseq-stream's top channels (chan_top.h) in a small
 * shared file beside the queue, "<queue file>.chans-<slot>" (slot: the
 * process's queue slot), which `sseq stats --prometheus` and
 * /sseq/metrics read from other processes. A file of its own keeps the
 * queue's layout unchanged. The writer is the pump thread; readers copy
 * under a sequence count and retry when it moved (a seqlock), so they
 * never block it.
 *
 * Key invariant: a reader trusts a file only when its pid and start time
 * are those of the live process in that slot now; a file left by a
 * crashed process (it is removed at a clean exit) is ignored until its
 * slot's next owner overwrites it. */
#ifndef SSEQ_CHAN_FILE_H
#define SSEQ_CHAN_FILE_H

#include <stdint.h>
#include <sys/types.h>

#include "metrics/chan_top.h"

#define CHAN_FILE_ENTRIES  32   /* channels a process lists */
#define CHAN_FILE_NAME_MAX 200  /* bytes of a name kept (longer: cut) */

struct chan_file;               /* the writer's handle */

/* A channel as read back: its name cut to CHAN_FILE_NAME_MAX bytes. */
struct chan_file_entry {
    uint32_t streams;
    uint16_t len;
    char name[CHAN_FILE_NAME_MAX + 1];  /* NUL-terminated */
};

/* The file's path for queue file qpath and slot, into out (cap bytes).
 * 0, or -ENAMETOOLONG. */
int chan_file_path(char *out, size_t cap, const char *qpath, int slot);

/* Creates (or takes over) the file of slot for this process (pid,
 * started_us as in its queue slot), mode as given. 0 with *out set, or
 * -errno (the process then lists no channels). */
int chan_file_create(const char *qpath, int slot, unsigned mode,
                     uint64_t started_us, struct chan_file **out);

/* Stores top[0..n) (n cut to CHAN_FILE_ENTRIES). */
void chan_file_write(struct chan_file *f, const struct chan_top_entry *top,
                     unsigned n);

/* Removes the file, if the path still names the one f made (a process
 * of a re-created queue may have made its own there since), and frees f
 * (NULL: nothing). */
void chan_file_remove(struct chan_file *f);

/* Reads the file of slot, owned by pid started at started_us, into
 * out[0..max). Returns the entries read, or -ENOENT (no file, or one of
 * another process), -EPROTO (not such a file), -EAGAIN (kept changing
 * while read), -errno. */
int chan_file_read(const char *qpath, int slot, pid_t pid,
                   uint64_t started_us, struct chan_file_entry *out,
                   unsigned max);

#endif
