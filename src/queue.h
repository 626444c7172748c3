/* queue.h -- the shared-memory message queue: one mmap'd file, many writers
 * (serialised by a robust process-shared mutex), many lock-free readers.
 *
 * Every message gets a u64 sequence number ("id"), global to the queue; the
 * first id of a new queue is its creation time in microseconds. Readers use
 * ids as cursors: the index maps an id to its record in O(1).
 *
 * Return convention: >= 0 success, -errno failure. Reader outcomes that are
 * not failures have their own codes (QUEUE_EMPTY, QUEUE_OVERRUN). */
#ifndef SSEQ_QUEUE_H
#define SSEQ_QUEUE_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

struct queue;                   /* opaque handle: fd, mapping, path */

/* Parameters for queue_create. */
struct queue_params {
    uint64_t size;              /* total file size in bytes (header+index+ring) */
    unsigned mode;              /* file mode, e.g. 0600 */
    uint32_t max_age;           /* seconds a record is retained, 0 = no limit */
};

/* One message as given to queue_append. */
struct queue_msg {
    const char *channel;  size_t channel_len;   /* 1..255, validated by caller */
    const char *event;    size_t event_len;     /* 0 = no event type */
    const char *data;     size_t data_len;
};

/* One message as read back: pointers into the caller's buffer. */
struct queue_record {
    uint64_t id;                /* sequence number */
    uint64_t time_us;           /* publish time, CLOCK_REALTIME microseconds */
    const char *channel;  size_t channel_len;
    const char *event;    size_t event_len;
    const char *data;     size_t data_len;
};

/* Reader outcomes (besides >= 0 = a record was read, and -errno). */
enum {
    QUEUE_EMPTY   = -1000,      /* no record at or after the cursor yet */
    QUEUE_OVERRUN = -1001,      /* cursor's record was overwritten; cursor
                                   was moved to the oldest retained id */
};

/* Counters a process publishes in the queue's slot table (sseq stats). */
#define QUEUE_PROC_SLOTS 64
struct queue_proc_counters {
    uint64_t streams;           /* open streams now */
    uint64_t streams_total;     /* streams accepted since start */
    uint64_t dropped_slow;      /* streams dropped for a full buffer */
    uint64_t events;            /* events written to streams */
    uint64_t bytes;             /* bytes written to streams */
};
struct queue_proc_info {
    pid_t pid;
    char role[16];
    uint64_t started_us;
    struct queue_proc_counters c;
};

/* Snapshot of the header for `sseq stats`. */
struct queue_stats {
    uint64_t file_size, ring_size, index_slots;
    uint64_t bytes_used;        /* head - tail */
    uint64_t records;           /* retained records */
    uint64_t oldest_id, newest_id;  /* newest_id = oldest_id-1 when empty */
    uint64_t next_id;
    uint64_t appends;           /* appends since creation */
    uint64_t recovered;         /* EOWNERDEAD recoveries */
    uint64_t created_us;
    uint32_t max_age;
    uint32_t version;
};

/* Creates the queue at path (a POSIX shm name "/name" or a file path with
 * another '/' in it). Fails with -EEXIST unless force; -ENOSPC if the
 * backing store cannot hold it (posix_fallocate); -EINVAL for a size too
 * small. On success *out is an open handle. */
int queue_create(const char *path, const struct queue_params *p, int force,
                 struct queue **out);

/* Opens an existing queue. -ENOENT if missing; -EPROTO for a file that is
 * not a queue (bad magic) or of another layout version / size; the error
 * text for any failure is left in queue_error(). */
int queue_open(const char *path, struct queue **out);

/* Removes the queue's backing object (shm_unlink or unlink). */
int queue_unlink(const char *path);

void queue_close(struct queue *q);

/* A one-line description of the last create/open failure in this thread,
 * naming the path, e.g. "/sseq: layout version 3, expected 1". */
const char *queue_error(void);

/* Largest data_len+channel_len+event_len a record may hold in this queue. */
size_t queue_max_payload(const struct queue *q);

/* Appends a message; stores its id in *id. -EMSGSIZE if it can never fit
 * (see queue_max_payload); -EINVAL for empty/oversize channel or event.
 * Never blocks on readers: the oldest records are overwritten. */
int queue_append(struct queue *q, const struct queue_msg *m, uint64_t *id);

/* Appends m with the given id (the cluster bridge: ids come from Redis).
 * id == next id: a plain append. id > next id: a jump; every older id,
 * skipped or retained, is gone (readers get QUEUE_OVERRUN and move to id,
 * as on a lapped queue). id < next id: -EALREADY (a duplicate), nothing
 * written. Otherwise as queue_append. */
int queue_append_at(struct queue *q, const struct queue_msg *m, uint64_t id);

/* Id bounds right now: the oldest retained id and the next id to be
 * assigned (newest = next - 1). Lock-free. */
void queue_bounds(const struct queue *q, uint64_t *oldest, uint64_t *next);

/* Reads the record with id *cursor into buf (cap bytes; records never
 * exceed queue_max_payload + 64). On success fills *rec, advances *cursor
 * and returns 0. QUEUE_EMPTY when *cursor >= next id. QUEUE_OVERRUN when
 * the record is gone: *cursor is set to the oldest retained id. -ENOBUFS
 * if cap is too small. Records older than max_age are reported as OVERRUN
 * too. Lock-free: copies, then validates it was not overwritten. */
int queue_read(const struct queue *q, uint64_t *cursor, struct queue_record *rec,
               char *buf, size_t cap);

/* Current value of the wake word; pass it to queue_wait. */
uint32_t queue_wake_word(const struct queue *q);

/* Blocks until an append happens after `word` was read, or timeout_ms
 * passes (-1 = forever). Returns 0 when woken or the word already moved,
 * -ETIMEDOUT, or -EINTR on a signal. Call pattern:
 *   w = queue_wake_word(q); if (nothing to read) queue_wait(q, w, ms); */
int queue_wait(struct queue *q, uint32_t word, int timeout_ms);

/* Header snapshot. */
void queue_get_stats(const struct queue *q, struct queue_stats *st);

/* Claims a slot in the process table (reclaiming slots of dead pids);
 * returns the slot index >= 0 or -ENOSPC. */
int queue_proc_claim(struct queue *q, const char *role);
void queue_proc_release(struct queue *q, int slot);
/* Publishes this process's counters into its slot (plain stores). */
void queue_proc_update(struct queue *q, int slot,
                       const struct queue_proc_counters *c);
/* Lists live processes' slots into out (max n); returns the count. */
int queue_proc_list(const struct queue *q, struct queue_proc_info *out, int n);

/* Test hook: when set, queue_append calls it while holding the writers'
 * lock, after it has started changing the ring (so a test can SIGKILL a
 * writer inside the critical section). NULL in production. */
extern void (*queue_test_hook_locked)(void);

#endif
