/* queue.h -- the shared-memory message queue: one mmap'd file, many writers
 * (serialised by a robust process-shared mutex), many lock-free readers.
 *
 * Every message gets a u64 sequence number ("id"), global to the queue; the
 * first id of a new queue is its creation time in microseconds. Readers use
 * ids as cursors: the index maps an id to its record in O(1).
 *
 * Return convention: >= 0 success, -errno failure. Reader outcomes that are
 * not failures have their own codes (QUEUE_EMPTY, QUEUE_OVERRUN).
 *
 * Damage (a stray write, a truncated file, a bad restore): every header
 * field a loop or an address depends on is checked at open and again where
 * it is used, and every loop is bounded by the layout, so a damaged queue
 * never hangs, spins or crashes its users. It is reported as:
 *   QUEUE_DAMAGED (-EUCLEAN) from queue_open, queue_read, queue_append,
 *     queue_find_pub_id and queue_verify: the queue's shared state is
 *     inconsistent; it is never repaired in place, so every later call
 *     fails the same way until the queue is re-created (`sseq create
 *     --force`). queue_error() says, in one line,
 *     "queue PATH is damaged: WHAT; re-create it with `sseq create
 *     --force`". A program reports it once (log line, exit status 1, HTTP
 *     503) and stops using the handle; reopening finds a re-created queue.
 *   QUEUE_BAD_RECORD from queue_read and queue_verify: one retained record
 *     (its index entry or its bytes) is damaged while the header is sound;
 *     queue_read has moved the cursor past it, so reading on is safe and
 *     bounded. queue_error() names the record. Writers refuse to append
 *     (QUEUE_DAMAGED) once they meet it. */
#ifndef SSEQ_QUEUE_H
#define SSEQ_QUEUE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct queue;                   /* opaque handle: fd, mapping, path */

/* Parameters for queue_create. */
struct queue_params {
    uint64_t size;              /* file size: header + index + ring */
    unsigned mode;              /* file mode, e.g. 0600 */
    uint32_t max_age;           /* seconds a record is retained, 0 = no limit */
};

/* Limits of a record's fields in the layout (what a stored record may
 * hold). What a writer may append is queue_msg.h's rule, stricter for the
 * event type and the publisher id (128 bytes each). */
#define QUEUE_TOPIC_MAX   4096u /* bytes of a topic (channel or alternate) */
#define QUEUE_TOPICS_MAX  32u   /* alternate topics besides the channel */
#define QUEUE_EVENT_MAX   255u  /* bytes of an event type */
#define QUEUE_PUBID_MAX   256u  /* bytes of a publisher-supplied id */

/* Ids are below QUEUE_ID_END (2^63): they fit a signed 64-bit integer
 * (Redis, JSON readers) and id + slots never wraps. */
#define QUEUE_ID_END      (UINT64_C(1) << 63)

/* Record flags. */
#define QUEUE_MSG_PRIVATE 1u    /* a Mercure private update */

/* One message as given to queue_append. Zero-initialised new fields mean
 * "no alternates, no publisher id, no retry, public". */
struct queue_msg {
    const char *channel;  size_t channel_len;   /* canonical topic,
                                                   1..QUEUE_TOPIC_MAX */
    const char *event;    size_t event_len;     /* 0 = no event type */
    const char *data;     size_t data_len;
    const char *const *alt;  const size_t *alt_len; size_t n_alt;
                                /* alternate topics, 0..QUEUE_TOPICS_MAX,
                                   each 1..QUEUE_TOPIC_MAX bytes, no NUL */
    const char *pub_id;   size_t pub_id_len;    /* 0 = none, else
                                                   1..QUEUE_PUBID_MAX */
    uint32_t retry_ms;                          /* 0 = none */
    unsigned flags;                             /* QUEUE_MSG_PRIVATE */
};

/* One message as read back: pointers into the caller's buffer. */
struct queue_record {
    uint64_t id;                /* sequence number */
    uint64_t time_us;           /* publish time, CLOCK_REALTIME microseconds */
    const char *channel;  size_t channel_len;
    const char *event;    size_t event_len;
    const char *data;     size_t data_len;
    const char *alt;  size_t alt_len;  size_t n_alt;
                                /* the alternates packed, each topic
                                   followed by '\0'; alt_len counts them */
    const char *pub_id; size_t pub_id_len;      /* 0 = none */
    uint32_t retry_ms;                          /* 0 = none */
    unsigned flags;                             /* QUEUE_MSG_PRIVATE */
};

/* Iterates the topics of r: the canonical one, then the alternates. Start
 * with *pos = 0; each call stores the next topic in *t, *len and returns
 * true, or returns false after the last. */
bool queue_record_next_topic(const struct queue_record *r, size_t *pos,
                             const char **t, size_t *len);

/* Reader outcomes (besides >= 0 = a record was read, and -errno). */
enum {
    QUEUE_EMPTY   = -1000,      /* no record at or after the cursor yet */
    QUEUE_OVERRUN = -1001,      /* cursor's record was overwritten; cursor
                                   was moved to the oldest retained id */
    QUEUE_BAD_RECORD = -1002,   /* cursor's record is damaged; cursor was
                                   moved past it; see queue_error() */
    QUEUE_DAMAGED = -EUCLEAN,   /* the queue is damaged; see queue_error() */
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
/* Refusal counters in a slot: one per HTTP error status, in the order of
 * http_status_refusal_code (HTTP_STATUS_REFUSALS of them). 32 bits each,
 * so they wrap (a counter reset to Prometheus) after 2^32 refusals. */
#define QUEUE_PROC_REFUSALS 14
struct queue_proc_info {
    pid_t pid;
    int slot;                   /* its index in the slot table */
    char role[16];
    uint64_t started_us;
    struct queue_proc_counters c;
    uint32_t refused[QUEUE_PROC_REFUSALS];  /* refusals by status */
};

/* One process's fan-out, as queue_fanout_list sees it: how far the
 * pump of an sseq-stream process is behind the queue's newest record. */
struct queue_fanout {
    pid_t pid;
    bool alive;                 /* its pid is alive (see queue_fanout_list) */
    uint64_t streams;           /* its open streams */
    uint64_t behind;            /* records it has not fanned out yet */
    uint64_t lag_us;            /* how long the oldest of them has waited
                                   (0 when it is at the head) */
    uint32_t quiet_ms;          /* since its pump last went round its loop
                                   (wrapping: large when it never did) */
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

/* The owner queue_open trusts besides root and this process's user
 * (queue.owner, or the user `sseq create` gives the queue to as root;
 * set by config_load). (uid_t)-1 = none. Process-wide. */
void queue_trust_owner(uid_t uid);

/* Whether queue_open, run as euid, trusts a queue file of st's owner and
 * mode at path (queue_access_owner_check with the trusted owner): 0, or
 * -EPERM with queue_error() naming the owner or mode found and the fix.
 * queue_open applies it with geteuid(); `sseq check-config` with the
 * programs' user. */
int queue_trust_check(const struct stat *st, const char *path, uid_t euid);

/* Opens an existing queue. -ENOENT if missing; -EPERM for a file writable
 * by every user, or owned by someone but root, this process's user and
 * the trusted owner (another user could forge messages: queue_error()
 * names the owner found and the fix); -EPROTO for a file that is
 * not a queue (bad magic) or of another layout version / size;
 * QUEUE_DAMAGED for a header whose geometry, offsets or id bounds are
 * inconsistent. The error text for any failure is left in queue_error(). */
int queue_open(const char *path, struct queue **out);

/* Removes the queue's backing object (shm_unlink or unlink). */
int queue_unlink(const char *path);

void queue_close(struct queue *q);

/* A one-line description of the last failure in this thread, naming the
 * path: of queue_create / queue_open, or QUEUE_DAMAGED, QUEUE_BAD_RECORD
 * or -ETIMEDOUT from the other calls; e.g. "/sseq: layout version 3,
 * expected 2; ..." or "queue /dev/shm/sseq is damaged: ...". */
const char *queue_error(void);

/* Largest total of variable bytes a record may hold in this queue:
 * channel + event + pub_id + data + each alternate plus one. */
size_t queue_max_payload(const struct queue *q);

/* Appends a message; stores its id in *id. -EMSGSIZE if it can never fit
 * (see queue_max_payload); -EINVAL for a message queue_msg_check refuses
 * (queue_error() names the field); -ERANGE once the next id reaches
 * QUEUE_ID_END; QUEUE_DAMAGED if the header, the index
 * entries or the records it must evict are inconsistent (checked under the
 * lock before anything is stored; the lock stays usable); -ETIMEDOUT if
 * the writers' lock stays held QUEUE_LOCK_TIMEOUT_S seconds (a hung writer
 * or a damaged lock word). Never blocks on readers: the oldest records are
 * overwritten. */
int queue_append(struct queue *q, const struct queue_msg *m, uint64_t *id);

/* Appends m with the given id (the cluster bridge: ids come from Redis).
 * id == next id: a plain append. id > next id: a jump; every older id,
 * skipped or retained, is gone (readers get QUEUE_OVERRUN and move to id,
 * as on a lapped queue). id < next id: -EALREADY (a duplicate), nothing
 * written. id 0 or at or past QUEUE_ID_END: -ERANGE, nothing written.
 * Otherwise as queue_append. */
int queue_append_at(struct queue *q, const struct queue_msg *m, uint64_t id);

/* Id bounds right now: the oldest retained id and the next id to be
 * assigned (newest = next - 1), oldest <= next. Lock-free; does not check
 * for damage (queue_read does). */
void queue_bounds(const struct queue *q, uint64_t *oldest, uint64_t *next);

/* Reads the record with id *cursor into buf (cap bytes; a record's bytes
 * never exceed queue_max_payload, larger is damage, so cap >=
 * queue_max_payload + 1 never gets -ENOBUFS). On success fills *rec,
 * advances *cursor and returns 0. QUEUE_EMPTY when *cursor >= next id.
 * QUEUE_OVERRUN when the record is gone: *cursor is set to the oldest
 * retained id. -ENOBUFS if cap is too small (*cursor unchanged).
 * Records older than max_age are reported as OVERRUN too.
 * QUEUE_BAD_RECORD: the record is damaged, *cursor moved past it.
 * QUEUE_DAMAGED: the id bounds are inconsistent, *cursor unchanged. Costs
 * O(1) (O(records) at most after an overrun with max_age). Lock-free:
 * copies, then validates it was not overwritten. */
int queue_read(const struct queue *q, uint64_t *cursor,
               struct queue_record *rec, char *buf, size_t cap);

/* Finds the retained record whose publisher id is pub_id[0..len); newest
 * first. Sets *id; 0, or -ENOENT when no retained record has it (damaged
 * records are passed over), or QUEUE_DAMAGED. Lock-free scan of retained
 * history (cost: records retained). */
int queue_find_pub_id(const struct queue *q, const char *pub_id, size_t len,
                      uint64_t *id);

/* Current value of the wake word; pass it to queue_wait. */
uint32_t queue_wake_word(const struct queue *q);

/* Blocks until an append happens after `word` was read, or timeout_ms
 * passes (-1 = forever). Returns 0 when woken or the word already moved,
 * -ETIMEDOUT, or -EINTR on a signal. Call pattern:
 *   w = queue_wake_word(q); if (nothing to read) queue_wait(q, w, ms); */
int queue_wait(struct queue *q, uint32_t word, int timeout_ms);

/* What queue_verify found. */
struct queue_verify {
    uint64_t records;           /* retained records read intact */
    uint64_t bad;               /* damaged records */
    uint64_t first_bad;         /* id of the first damaged record */
};

/* Reads the whole queue: the header, index bounds and newest record under
 * the writers' lock (held only for that), then every retained record
 * lock-free. 0 when sound; QUEUE_BAD_RECORD when v->bad > 0 (queue_error()
 * names the first); QUEUE_DAMAGED, -ETIMEDOUT or -ENOMEM with
 * queue_error() set. Records evicted during the walk are not damage. */
int queue_verify(struct queue *q, struct queue_verify *v);

/* Seconds queue_append and queue_verify wait for the writers' lock. */
#define QUEUE_LOCK_TIMEOUT_S 5

/* Re-checks, lock-free and in O(1), what queue_open checked of the
 * header (geometry, id bounds, alignment): 0, or QUEUE_DAMAGED with
 * queue_error() set. For long-lived handles, on a timer. */
int queue_health(const struct queue *q);

/* The queue's file (/dev/shm/NAME for a shm name), and its mode bits
 * (or -errno from fstat): for files kept beside it (chan_file.h). */
const char *queue_file_path(const struct queue *q);
int queue_file_mode(const struct queue *q);

/* Header snapshot. */
void queue_get_stats(const struct queue *q, struct queue_stats *st);

/* Claims a slot in the process table (reclaiming slots of dead pids);
 * returns the slot index >= 0 or -ENOSPC. */
int queue_proc_claim(struct queue *q, const char *role);
/* Frees this process's slot (its refusal counts zeroed first, as binaries
 * older than them do not zero them when they claim it). */
void queue_proc_release(struct queue *q, int slot);
/* Publishes this process's counters into its slot (plain stores). */
void queue_proc_update(struct queue *q, int slot,
                       const struct queue_proc_counters *c);
/* Publishes this process's refusal counts (queue_proc_info.refused) into
 * the slot claimed through q (plain stores); nothing before a claim or
 * after its release. Any thread of the claiming process may call it. */
void queue_proc_set_refused(struct queue *q,
                            const uint32_t n[QUEUE_PROC_REFUSALS]);
/* The pump's side of backpressure: stores in the slot claimed through q
 * the next id this process fans out and the time it went round its loop
 * (plain stores, cheap enough for every loop; nothing before a claim). */
void queue_proc_fanout(struct queue *q, uint64_t next_id);
/* The publishers' side: lists into out (max n) the slots that report a
 * fan-out position; returns the count, or QUEUE_DAMAGED. A slot lagging
 * check_us or more has its pid checked (.alive; a kill(2) each), one
 * lagging less is listed as alive unchecked: the check costs a syscall
 * and a caller that acts only past a limit passes that limit. */
int queue_fanout_list(const struct queue *q, uint64_t check_us,
                      struct queue_fanout *out, int n);
/* Lists live processes' slots into out (max n); returns the count. */
int queue_proc_list(const struct queue *q, struct queue_proc_info *out, int n);

/* Test hook: when set, queue_append calls it while holding the writers'
 * lock, after it has started changing the ring (so a test can SIGKILL a
 * writer inside the critical section). NULL in production. */
extern void (*queue_test_hook_locked)(void);

#endif
