/* queue.c -- the shared-memory message queue: one mmap'd object holding a
 * versioned header, an id -> offset index and a byte ring of records.
 *
 * Layout of the object (all positions are offsets from its start):
 *   [struct queue_hdr][index: u64 x index_slots][ring: ring_size bytes]
 * A record is a struct queue_rec followed by the channel, event, pub_id,
 * alternate topics (each followed by a NUL) and data bytes, padded to 8;
 * it never straddles the end of the ring (the writer skips the tail end of
 * the ring instead). Positions in the ring are 64-bit logical offsets that
 * only grow; the byte lives at offset % ring_size.
 *
 * Key invariant (writers): every append happens under the robust mutex in
 * this order: evict (store oldest_id, then tail with release, then a release
 * fence), write the record bytes, store index[id % slots], store head, and
 * last store next_id with release. A writer killed anywhere before the last
 * store leaves next_id unchanged, so readers never see its record; the next
 * writer gets EOWNERDEAD and queue_repair() makes tail and next_id agree
 * with what was completely written.
 *
 * Key invariant (readers): a record whose id is >= oldest_id has not been
 * overwritten: a writer advances oldest_id and tail past a record before
 * it writes any byte that aliases it. Readers load index[id % slots], copy
 * the record, fence(acquire), then load tail, head and oldest_id: id below
 * oldest_id is an overrun; otherwise the copy is the record as written, and
 * anything inconsistent in it (offset outside [tail, head) or the ring,
 * another id, fields out of their limits) is damage, never data.
 *
 * Key invariant (damage): a sound queue keeps, at every instant, the
 * geometry queue_layout gives for its size, created_us <= oldest_id <=
 * next_id <= oldest_id + slots, head and tail 8-aligned with tail <= head
 * <= tail + ring_size, index[oldest_id] == tail and the newest record
 * ending at head (these two when records are retained; else tail ==
 * head). Open checks what it can without the lock, each read the id
 * bounds (loaded next, oldest, next so that racing writers never look like
 * damage) and the entry it follows, each append all of it under the lock
 * plus every record it evicts. No loop runs more than slots steps, and no
 * address is formed from an unchecked offset.
 *
 * Key invariant (waking): the wake word is bumped (seq_cst) after every
 * append and then the waiter count is read (seq_cst); a waiter increments
 * the count (seq_cst) and then reads the word. One of the two always sees
 * the other, so FUTEX_WAKE is issued only when someone may sleep and no
 * wakeup is lost. */
#include "ac_config.h"
#include "queue/queue.h"
#include "queue/queue_msg.h"
#include "queue/queue_access.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAGIC      UINT64_C(0x4555455551455353) /* "SSQEUEUE" LE */
#define QUEUE_VERSION    2u     /* 2: Mercure fields in the record */
#define QUEUE_LINE       64
#define QUEUE_MIN_RING   4096u
#define QUEUE_MAX_PAYLOAD_CAP (UINT32_C(1) << 30)
#define QUEUE_SPINS      64     /* trylock attempts before sleeping */

#if defined(__x86_64__) || defined(__i386__)
#define QUEUE_RELAX()    __builtin_ia32_pause()
#else
#define QUEUE_RELAX()    atomic_signal_fence(memory_order_seq_cst)
#endif

/* One process's entry in the slot table; two cache lines so processes do
 * not share a line. The refusal counters took the bytes that were padding
 * (zero in a new file, never written by binaries before them), so the
 * layout and its version are unchanged. The fan-out position took the
 * second half of what was a 16-byte role (every binary zeroes all 16 at
 * claim, and roles are at most 7 bytes), the pump's beat the 4 bytes of
 * alignment padding (zero in a new file; an older binary leaves it as it
 * was but zeroes the position, so its slot reports no fan-out). */
struct queue_proc_slot {
    _Atomic int32_t pid;            /* owner pid, 0 = free */
    _Atomic uint32_t beat_ms;       /* when the pump last went round its
                                       loop: CLOCK_MONOTONIC ms, wrapping */
    char role[8];                   /* "stream", "publish", ... NUL-padded */
    _Atomic uint64_t fanout;        /* the next id the pump fans out, 0 =
                                       not reported (no pump, or a binary
                                       before it) */
    _Atomic uint64_t started_us;    /* claim time, CLOCK_REALTIME us */
    _Atomic uint64_t c[5];          /* queue_proc_counters, in its order */
    _Atomic uint32_t refused[QUEUE_PROC_REFUSALS];
                                    /* queue_proc_info.refused, wrapping */
};

/* The header at offset 0 of the object. */
struct queue_hdr {
    /* line 0: identity, written once at create, read-only afterwards */
    _Atomic uint64_t magic;         /* QUEUE_MAGIC, stored last at create */
    uint32_t version;               /* QUEUE_VERSION */
    uint32_t hdr_size;              /* sizeof(struct queue_hdr) */
    uint64_t file_size;             /* size of the whole object in bytes */
    uint64_t index_off;             /* offset of the index array */
    uint64_t index_slots;           /* entries in the index */
    uint64_t ring_off;              /* offset of the ring */
    uint64_t ring_size;             /* bytes in the ring, multiple of 64 */
    uint64_t created_us;            /* creation time = first id */
    /* line 1: limits, read-only afterwards */
    uint32_t max_age;               /* seconds of retention, 0 = no limit */
    uint32_t max_payload;           /* largest channel+event+data */
    uint8_t pad1[QUEUE_LINE - 8];   /* own cache line */
    /* line 2: the writers' lock */
    pthread_mutex_t lock;           /* robust, process-shared */
    uint8_t pad2[QUEUE_LINE - sizeof(pthread_mutex_t)]; /* own line */
    /* line 3: writer state, stored under the lock, read lock-free */
    _Atomic uint64_t head;          /* logical end of the newest record */
    _Atomic uint64_t tail;          /* logical start of the oldest record */
    _Atomic uint64_t next_id;       /* id of the next append (publication) */
    _Atomic uint64_t oldest_id;     /* oldest retained id */
    _Atomic uint64_t appends;       /* appends since creation */
    _Atomic uint64_t recovered;     /* EOWNERDEAD recoveries */
    uint8_t pad3[QUEUE_LINE - 48];  /* keeps readers' line apart */
    /* line 4: waking; the word is bumped by writers, waiters by readers */
    _Atomic uint32_t wake;          /* futex word, +1 per append */
    _Atomic uint32_t waiters;       /* readers inside queue_wait */
    uint8_t pad4[QUEUE_LINE - 8];   /* own cache line */
    /* lines 5..: per-process stats */
    struct queue_proc_slot procs[QUEUE_PROC_SLOTS]; /* slot table */
};

/* A record's header in the ring; the payload follows in this order:
 * channel, event, pub_id, alternates (each + NUL), data. */
struct queue_rec {
    uint64_t id;                    /* sequence number */
    uint64_t time_us;               /* publish time, CLOCK_REALTIME us */
    uint32_t len;                   /* whole record incl. padding */
    uint32_t data_len;              /* bytes of data */
    uint32_t alt_len;               /* bytes of alternates incl. NULs */
    uint32_t retry_ms;              /* Mercure retry, 0 = none */
    uint16_t channel_len;           /* bytes of channel, 1..QUEUE_TOPIC_MAX */
    uint16_t pub_id_len;            /* bytes of pub_id, 0..QUEUE_PUBID_MAX */
    uint8_t event_len;              /* bytes of event type, 0..255 */
    uint8_t n_alt;                  /* alternates, 0..QUEUE_TOPICS_MAX */
    uint8_t flags;                  /* QUEUE_MSG_PRIVATE */
    uint8_t pad0;                   /* zero */
};

_Static_assert(sizeof(struct queue_rec) == 40, "record header is 40 bytes");
_Static_assert(QUEUE_TOPIC_MAX <= UINT16_MAX &&
               QUEUE_PUBID_MAX <= UINT16_MAX &&
               QUEUE_EVENT_MAX <= UINT8_MAX &&
               QUEUE_TOPICS_MAX <= UINT8_MAX,
               "record header fields hold the limits");
_Static_assert(sizeof(struct queue_proc_slot) == 128, "slot is 2 lines");
_Static_assert(offsetof(struct queue_proc_slot, refused) == 72,
               "the refusal counters are the bytes that were padding");
_Static_assert(offsetof(struct queue_proc_slot, beat_ms) == 4 &&
               offsetof(struct queue_proc_slot, role) == 8 &&
               offsetof(struct queue_proc_slot, fanout) == 16 &&
               offsetof(struct queue_proc_slot, started_us) == 24,
               "the beat and the fan-out position are the bytes that were "
               "padding and the role's NUL padding");
_Static_assert(sizeof(struct queue_proc_counters) ==
               sizeof(((struct queue_proc_slot *)0)->c),
               "c[] holds struct queue_proc_counters");
_Static_assert(sizeof(pthread_mutex_t) <= QUEUE_LINE, "mutex fits a line");
_Static_assert(offsetof(struct queue_hdr, max_age) == 64, "line 1");
_Static_assert(offsetof(struct queue_hdr, lock) == 128, "line 2");
_Static_assert(offsetof(struct queue_hdr, head) == 192, "line 3");
_Static_assert(offsetof(struct queue_hdr, wake) == 256, "line 4");
_Static_assert(offsetof(struct queue_hdr, index_off) == 24 &&
               offsetof(struct queue_hdr, ring_off) == 40 &&
               offsetof(struct queue_hdr, ring_size) == 48 &&
               offsetof(struct queue_hdr, tail) == 200 &&
               offsetof(struct queue_hdr, next_id) == 208 &&
               offsetof(struct queue_hdr, oldest_id) == 216,
               "offsets the damage tests and fuzzers write to");
_Static_assert(offsetof(struct queue_hdr, procs) == 320, "slot table");
_Static_assert(sizeof(struct queue_hdr) == 320 + 128 * QUEUE_PROC_SLOTS,
               "header size is part of the layout version");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics lock-free");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "atomics have no lock");

struct queue {
    int fd;                         /* the backing object */
    struct queue_hdr *h;            /* the mapping */
    size_t map_size;                /* bytes mapped */
    _Atomic uint64_t *index;        /* h + index_off */
    unsigned char *ring;            /* h + ring_off */
    uint64_t ring_size;             /* copies validated at open */
    uint64_t slots;
    uint64_t max_payload;
    uint64_t max_age_us;
    uint64_t created_us;            /* the first id */
    _Atomic int own_slot;           /* 1 + the slot queue_proc_claim took
                                       through this handle, 0 = none */
    char name[160];                 /* for messages: the file or
                                       /dev/shm/NAME */
};

void (*queue_test_hook_locked)(void);

static _Thread_local char queue_err[256];

#define LOAD(p, o)     atomic_load_explicit((p), memory_order_##o)
#define STORE(p, v, o) atomic_store_explicit((p), (v), memory_order_##o)

/* Formats the thread's last error text. */
static void queue_set_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void queue_set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(queue_err, sizeof(queue_err), fmt, ap);
    va_end(ap);
}

const char *queue_error(void)
{
    return queue_err;
}

/* Sets the error to "queue NAME is damaged: WHAT; ..." and returns
 * QUEUE_DAMAGED. */
static int queue_damaged(const struct queue *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int queue_damaged(const struct queue *q, const char *fmt, ...)
{
    char what[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    queue_set_error("queue %s is damaged: %s; re-create it with `sseq "
                    "create --force`", q->name, what);
    return QUEUE_DAMAGED;
}

/* Sets the error to "queue NAME is damaged: record ID at index entry OFF:
 * WHAT; ..." and returns QUEUE_BAD_RECORD. */
static int queue_bad_record(const struct queue *q, uint64_t id,
                            const char *what, uint64_t off)
{
    queue_set_error("queue %s is damaged: record %llu at index entry %llu: "
                    "%s; re-create it with `sseq create --force`", q->name,
                    (unsigned long long)id, (unsigned long long)off, what);
    return QUEUE_BAD_RECORD;
}

/* CLOCK_REALTIME in microseconds. */
static uint64_t queue_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* 1 for a POSIX shm name ("/name"), 0 for a file path, -EINVAL otherwise. */
static int queue_path_kind(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return -EINVAL;
    if (strchr(path + 1, '/') != NULL)
        return 0;
    if (path[0] == '/' && path[1] != '\0' && strlen(path) <= NAME_MAX)
        return 1;
    return -EINVAL;
}

/* Opens the backing object; returns the fd or -errno with the error set. */
static int queue_open_fd(const char *path, int flags, mode_t mode)
{
    int kind = queue_path_kind(path);
    int fd;

    if (kind < 0) {
        queue_set_error("%s: not a shm name (\"/name\") nor a file path",
                        path ? path : "(null)");
        return -EINVAL;
    }
    flags |= O_RDWR | O_CLOEXEC;
    fd = kind ? shm_open(path, flags, mode) : open(path, flags, mode);
    if (fd < 0) {
        int err = errno;

        queue_set_error("%s: %s: %s", path, kind ? "shm_open" : "open",
                        strerror(err));
        return -err;
    }
    return fd;
}

int queue_unlink(const char *path)
{
    int kind = queue_path_kind(path);

    if (kind < 0)
        return -EINVAL;
    if ((kind ? shm_unlink(path) : unlink(path)) < 0)
        return -errno;
    return 0;
}

/* Fills the geometry of a fresh header for a file of size bytes;
 * -EINVAL if the ring or index would be too small. */
static int queue_layout(struct queue_hdr *h, uint64_t size)
{
    uint64_t hs = sizeof(*h), avail, slots, ring_off, ring;

    if (size < hs + QUEUE_MIN_RING || size > (UINT64_C(1) << 46))
        return -EINVAL;
    avail = size - hs;
    slots = avail / (QUEUE_LINE + 8);
    ring_off = hs + ((slots * 8 + QUEUE_LINE - 1) & ~(uint64_t)63);
    ring = (size - ring_off) & ~(uint64_t)63;
    if (ring < QUEUE_MIN_RING || slots < 16)
        return -EINVAL;
    h->version = QUEUE_VERSION;
    h->hdr_size = (uint32_t)hs;
    h->file_size = size;
    h->index_off = hs;
    h->index_slots = slots;
    h->ring_off = ring_off;
    h->ring_size = ring;
    h->max_payload = (uint32_t)(ring / 4 - sizeof(struct queue_rec) - 8);
    if (h->max_payload > QUEUE_MAX_PAYLOAD_CAP)
        h->max_payload = QUEUE_MAX_PAYLOAD_CAP;
    return 0;
}

/* Initialises the robust, process-shared writers' mutex; -errno. */
static int queue_init_lock(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    int rc;

    if ((rc = pthread_mutexattr_init(&a)) != 0)
        return -rc;
    rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return -rc;
}

/* The name of path for messages: the file, or /dev/shm/NAME. */
static void queue_name(char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "%s%s", queue_path_kind(path) == 1 ? "/dev/shm" : "",
             path);
}

/* Builds the handle over a validated mapping. */
static void queue_bind(struct queue *q, int fd, void *map, size_t size,
                       const char *path)
{
    queue_name(q->name, sizeof(q->name), path);
    q->fd = fd;
    q->h = map;
    q->map_size = size;
    q->index = (_Atomic uint64_t *)((char *)map + q->h->index_off);
    q->ring = (unsigned char *)map + q->h->ring_off;
    q->ring_size = q->h->ring_size;
    q->slots = q->h->index_slots;
    q->max_payload = q->h->max_payload;
    q->max_age_us = (uint64_t)q->h->max_age * 1000000u;
    q->created_us = q->h->created_us;
}

/* Writes a fresh header into map; -errno. */
static int queue_init(struct queue_hdr *h, const struct queue_params *p)
{
    uint64_t now = queue_now_us();
    int rc;

    if ((rc = queue_layout(h, p->size)) < 0)
        return rc;
    if ((rc = queue_init_lock(&h->lock)) < 0)
        return rc;
    h->max_age = p->max_age;
    h->created_us = now;
    STORE(&h->next_id, now, relaxed);
    STORE(&h->oldest_id, now, relaxed);
    STORE(&h->magic, QUEUE_MAGIC, release);
    return 0;
}

/* Maps fd (size bytes) shared; returns the address or NULL with errno. */
static void *queue_mmap(int fd, uint64_t size)
{
    void *m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd, 0);

    return m == MAP_FAILED ? NULL : m;
}

/* Creates the object exclusively, sized and mode-set; fd or -errno. */
static int queue_create_fd(const char *path, const struct queue_params *p,
                           int force)
{
    mode_t mode = p->mode ? (mode_t)p->mode : 0600;
    int fd, rc;

    if (force)
        queue_unlink(path);
    fd = queue_open_fd(path, O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return fd;
    if (fchmod(fd, mode) < 0) {
        rc = -errno;
        queue_set_error("%s: fchmod %o: %s", path, (unsigned)mode,
                        strerror(-rc));
        goto fail_unlink;
    }
    rc = posix_fallocate(fd, 0, (off_t)p->size);
    if (rc != 0) {
        queue_set_error("%s: posix_fallocate %llu bytes: %s", path,
                        (unsigned long long)p->size, strerror(rc));
        rc = -rc;
        goto fail_unlink;
    }
    return fd;

fail_unlink:
    close(fd);
    queue_unlink(path);
    return rc;
}

int queue_create(const char *path, const struct queue_params *p, int force,
                 struct queue **out)
{
    struct queue_hdr probe;
    struct queue *q;
    void *map;
    int fd, rc;

    memset(&probe, 0, sizeof(probe));
    if (queue_layout(&probe, p->size) < 0) {
        queue_set_error("%s: size %llu too small or too large", path,
                        (unsigned long long)p->size);
        return -EINVAL;
    }
    if ((q = calloc(1, sizeof(*q))) == NULL)
        return -ENOMEM;
    if ((fd = queue_create_fd(path, p, force)) < 0) {
        rc = fd;
        goto fail_free;
    }
    if ((map = queue_mmap(fd, p->size)) == NULL) {
        rc = -errno;
        queue_set_error("%s: mmap: %s", path, strerror(-rc));
        goto fail_close;
    }
    if ((rc = queue_init(map, p)) < 0) {
        queue_set_error("%s: init: %s", path, strerror(-rc));
        goto fail_unmap;
    }
    queue_bind(q, fd, map, p->size, path);
    *out = q;
    return 0;

fail_unmap:
    munmap(map, (size_t)p->size);
fail_close:
    close(fd);
    queue_unlink(path);
fail_free:
    free(q);
    return rc;
}

/* true if h's geometry (index, ring, max payload) is exactly what
 * queue_layout gives for a file of size bytes. */
static bool queue_geometry_ok(const struct queue_hdr *h, uint64_t size)
{
    struct queue_hdr want;              /* only its geometry is used */

    memset(&want, 0, sizeof(want));
    return queue_layout(&want, size) == 0 &&
           h->index_off == want.index_off &&
           h->index_slots == want.index_slots &&
           h->ring_off == want.ring_off &&
           h->ring_size == want.ring_size &&
           h->max_payload == want.max_payload;
}

/* Checks a mapped header against the object's real size; -EPROTO with the
 * error text naming path when it is not a queue of this layout version,
 * QUEUE_DAMAGED when its geometry is inconsistent. */
static int queue_check(const struct queue_hdr *h, uint64_t size,
                       const char *path)
{
    uint64_t hs = sizeof(*h);
    char name[160];

    if (LOAD(&h->magic, acquire) != QUEUE_MAGIC) {
        queue_set_error("%s: bad magic: not a queue (or still being "
                        "created)", path);
        return -EPROTO;
    }
    if (h->version != QUEUE_VERSION || h->hdr_size != hs) {
        queue_set_error("%s: layout version %u (header %u bytes), expected "
                        "%u (%llu); re-create it with `sseq create --force`",
                        path, h->version, h->hdr_size, QUEUE_VERSION,
                        (unsigned long long)hs);
        return -EPROTO;
    }
    if (h->file_size != size) {
        queue_set_error("%s: header says %llu bytes, file has %llu; "
                        "re-create it with `sseq create --force`", path,
                        (unsigned long long)h->file_size,
                        (unsigned long long)size);
        return -EPROTO;
    }
    if (!queue_geometry_ok(h, size)) {
        queue_name(name, sizeof(name), path);
        queue_set_error("queue %s is damaged: geometry in header (index "
                        "at %llu, %llu slots, ring at %llu, %llu bytes, "
                        "max payload %u) is not the layout of a %llu-byte "
                        "queue; re-create it with `sseq create --force`",
                        name, (unsigned long long)h->index_off,
                        (unsigned long long)h->index_slots,
                        (unsigned long long)h->ring_off,
                        (unsigned long long)h->ring_size, h->max_payload,
                        (unsigned long long)size);
        return QUEUE_DAMAGED;
    }
    return 0;
}

static int queue_load_bounds(const struct queue *q, uint64_t *oldest,
                             uint64_t *next);

/* Checks what a bound handle's users depend on beyond the geometry: the
 * id bounds and the alignment of head and tail. 0 or QUEUE_DAMAGED. */
static int queue_check_state(const struct queue *q)
{
    uint64_t oldest, next, head = LOAD(&q->h->head, acquire);
    uint64_t tail = LOAD(&q->h->tail, acquire);

    if (head % 8 != 0 || tail % 8 != 0)
        return queue_damaged(q, "ring offsets misaligned (head %llu, tail "
                             "%llu)", (unsigned long long)head,
                             (unsigned long long)tail);
    return queue_load_bounds(q, &oldest, &next);
}

int queue_health(const struct queue *q)
{
    int rc = queue_check(q->h, q->map_size, q->name);

    return rc < 0 ? rc : queue_check_state(q);
}

static atomic_uint queue_trusted_uid = (unsigned)-1;  /* queue_trust_owner */

void queue_trust_owner(uid_t uid)
{
    atomic_store(&queue_trusted_uid, (unsigned)uid);
}

int queue_trust_check(const struct stat *st, const char *path, uid_t euid)
{
    uid_t trusted = (uid_t)atomic_load(&queue_trusted_uid);
    char file[256], owner[64], self[64];

    if (queue_access_file(path, file, sizeof file) < 0)
        snprintf(file, sizeof file, "%s", path);
    switch (queue_access_owner_check(st, euid, trusted)) {
    case QUEUE_ACCESS_OWNER_OK:
        return 0;
    case QUEUE_ACCESS_OTHERS_WRITE:
        queue_set_error("queue %s is writable by every user (mode %04o): "
                        "anyone could forge messages; chmod o-w %s, or "
                        "re-create it with `sseq create --force`", file,
                        (unsigned)(st->st_mode & 07777), file);
        return -EPERM;
    default:
        queue_access_user_name(st->st_uid, owner, sizeof owner);
        queue_access_user_name(euid, self, sizeof self);
        queue_set_error("queue %s is owned by %s, not by root, the user %s "
                        "that opens it or queue.owner: another user "
                        "could forge messages; if %s is right, set "
                        "queue.owner = \"%s\", else remove the file and run "
                        "`sseq create`", file, owner, self, owner, owner);
        return -EPERM;
    }
}

/* Maps and validates an opened object; the handle on success or -errno. */
static int queue_open_map(struct queue *q, int fd, const char *path)
{
    struct stat st;
    void *map;
    int rc;

    if (fstat(fd, &st) < 0) {
        rc = -errno;
        queue_set_error("%s: fstat: %s", path, strerror(-rc));
        return rc;
    }
    if ((rc = queue_trust_check(&st, path, geteuid())) < 0)
        return rc;
    if ((uint64_t)st.st_size < sizeof(struct queue_hdr)) {
        queue_set_error("%s: truncated: %lld bytes, a queue header needs "
                        "%zu", path, (long long)st.st_size,
                        sizeof(struct queue_hdr));
        return -EPROTO;
    }
    if ((map = queue_mmap(fd, (uint64_t)st.st_size)) == NULL) {
        rc = -errno;
        queue_set_error("%s: mmap: %s", path, strerror(-rc));
        return rc;
    }
    if ((rc = queue_check(map, (uint64_t)st.st_size, path)) < 0)
        goto fail_unmap;
    queue_bind(q, fd, map, (size_t)st.st_size, path);
    if ((rc = queue_check_state(q)) < 0)
        goto fail_unmap;
    return 0;

fail_unmap:
    munmap(map, (size_t)st.st_size);
    return rc;
}

int queue_open(const char *path, struct queue **out)
{
    struct queue *q;
    int fd, rc;

    if ((q = calloc(1, sizeof(*q))) == NULL)
        return -ENOMEM;
    if ((fd = queue_open_fd(path, 0, 0)) < 0) {
        rc = fd;
        goto fail_free;
    }
    if ((rc = queue_open_map(q, fd, path)) < 0)
        goto fail_close;
    *out = q;
    return 0;

fail_close:
    close(fd);
fail_free:
    free(q);
    return rc;
}

void queue_close(struct queue *q)
{
    if (q == NULL)
        return;
    munmap(q->h, q->map_size);
    close(q->fd);
    free(q);
}

size_t queue_max_payload(const struct queue *q)
{
    return (size_t)q->max_payload;
}

/* Bytes of a record's payload, from its header. */
static size_t queue_rec_payload(const struct queue_rec *r)
{
    return (size_t)r->channel_len + r->event_len + r->pub_id_len +
           r->alt_len + r->data_len;
}

/* true if a record header's fields are within the limits append keeps. */
static bool queue_rec_sane(const struct queue *q, const struct queue_rec *r)
{
    return queue_rec_payload(r) <= q->max_payload &&
           r->channel_len >= 1 && r->channel_len <= QUEUE_TOPIC_MAX &&
           r->pub_id_len <= QUEUE_PUBID_MAX &&
           r->n_alt <= QUEUE_TOPICS_MAX &&
           r->alt_len >= 2u * r->n_alt &&
           r->alt_len <= r->n_alt * (QUEUE_TOPIC_MAX + 1) &&
           (r->flags & ~QUEUE_MSG_PRIVATE) == 0 && r->len % 8 == 0 &&
           r->len >= sizeof(*r) + queue_rec_payload(r);
}

/* true if a record published at time_us is older than max_age at now. */
static int queue_expired(const struct queue *q, uint64_t time_us,
                         uint64_t now)
{
    return q->max_age_us != 0 && now > time_us &&
           now - time_us > q->max_age_us;
}

/* Loads the id bounds: next, oldest, next again. Both only grow and a
 * sound queue keeps first id <= oldest <= next <= oldest + slots at every
 * instant, so the loads in this order always satisfy oldest <= next2 and
 * next1 - oldest <= slots. Sets *oldest <= *next = next1; 0 or
 * QUEUE_DAMAGED. */
static int queue_load_bounds(const struct queue *q, uint64_t *oldest,
                             uint64_t *next)
{
    uint64_t n1 = LOAD(&q->h->next_id, acquire);
    uint64_t o = LOAD(&q->h->oldest_id, acquire);
    uint64_t n2 = LOAD(&q->h->next_id, acquire);

    if (o < q->created_us || o > n2)
        return queue_damaged(q, "oldest id %llu is outside [first id %llu, "
                             "next id %llu]", (unsigned long long)o,
                             (unsigned long long)q->created_us,
                             (unsigned long long)n2);
    if (o <= n1 && n1 - o > q->slots)
        return queue_damaged(q, "next id %llu is %llu ids past the oldest "
                             "%llu, the index holds %llu",
                             (unsigned long long)n1,
                             (unsigned long long)(n1 - o),
                             (unsigned long long)o,
                             (unsigned long long)q->slots);
    *oldest = o < n1 ? o : n1;
    *next = n1;
    return 0;
}

/* Checks record id's index entry off and the record header there (under
 * the lock): aligned, inside [tail, head) and the ring, its own id, sane
 * fields. Stores the header in *r; 0 or QUEUE_DAMAGED. */
static int queue_rec_check(const struct queue *q, uint64_t id, uint64_t off,
                           uint64_t tail, uint64_t head, struct queue_rec *r)
{
    uint64_t pos = off % q->ring_size;
    const char *what = NULL;

    if (off % 8 != 0)
        what = "misaligned";
    else if (off < tail || off >= head)
        what = "outside the retained ring";
    else if (pos + sizeof(*r) > q->ring_size)
        what = "past the end of the ring";
    if (what == NULL) {
        memcpy(r, q->ring + pos, sizeof(*r));
        if (r->id != id)
            what = "holds another id";
        else if (!queue_rec_sane(q, r) || pos + r->len > q->ring_size ||
                 off + r->len > head)
            what = "record header out of its limits";
    }
    if (what == NULL)
        return 0;
    return queue_damaged(q, "record %llu at index entry %llu: %s",
                         (unsigned long long)id, (unsigned long long)off,
                         what);
}

/* Checks the writers' state under the lock: id bounds, head and tail, the
 * oldest record's offset = tail, the newest record ending at head.
 * O(1); 0 or QUEUE_DAMAGED. */
static int queue_check_locked(struct queue *q)
{
    struct queue_hdr *h = q->h;
    uint64_t oldest, next, off, head = LOAD(&h->head, relaxed);
    uint64_t tail = LOAD(&h->tail, relaxed);
    struct queue_rec r;
    int rc;

    if ((rc = queue_load_bounds(q, &oldest, &next)) < 0)
        return rc;
    if (LOAD(&h->oldest_id, relaxed) > next)
        return queue_damaged(q, "oldest id is past next id %llu",
                             (unsigned long long)next);
    if (head % 8 != 0 || tail % 8 != 0 || tail > head ||
        head - tail > q->ring_size)
        return queue_damaged(q, "ring offsets inconsistent (head %llu, "
                             "tail %llu, ring %llu bytes)",
                             (unsigned long long)head,
                             (unsigned long long)tail,
                             (unsigned long long)q->ring_size);
    if (oldest == next)
        return tail == head ? 0 : queue_damaged(q, "no records but tail "
                                                "%llu != head %llu",
                                                (unsigned long long)tail,
                                                (unsigned long long)head);
    if ((off = LOAD(&q->index[oldest % q->slots], relaxed)) != tail)
        return queue_damaged(q, "oldest record %llu at %llu, tail at %llu",
                             (unsigned long long)oldest,
                             (unsigned long long)off,
                             (unsigned long long)tail);
    off = LOAD(&q->index[(next - 1) % q->slots], relaxed);
    if ((rc = queue_rec_check(q, next - 1, off, tail, head, &r)) < 0)
        return rc;
    if (off + r.len != head)
        return queue_damaged(q, "newest record %llu ends at %llu, head at "
                             "%llu", (unsigned long long)(next - 1),
                             (unsigned long long)(off + r.len),
                             (unsigned long long)head);
    return 0;
}

/* After a writer died holding the lock: makes tail agree with oldest_id and
 * publishes a record that was complete but not yet published. Leaves a
 * queue whose id bounds are damaged as it is (the caller reports it). */
static void queue_repair(struct queue *q)
{
    struct queue_hdr *h = q->h;
    uint64_t next = LOAD(&h->next_id, relaxed);
    uint64_t oldest = LOAD(&h->oldest_id, relaxed);
    uint64_t head = LOAD(&h->head, relaxed);
    uint64_t off = LOAD(&q->index[next % q->slots], relaxed);
    uint64_t pos = off % q->ring_size;
    struct queue_rec r;

    STORE(&h->recovered, LOAD(&h->recovered, relaxed) + 1, relaxed);
    if (oldest < q->created_us || next - oldest > q->slots ||
        next == UINT64_MAX)
        return;
    memset(&r, 0, sizeof(r));
    if (pos % 8 == 0 && pos + sizeof(r) <= q->ring_size)
        memcpy(&r, q->ring + pos, sizeof(r));
    if (r.id == next && off + r.len == head && oldest + q->slots > next)
        STORE(&h->next_id, ++next, release);
    STORE(&h->tail, oldest < next ? LOAD(&q->index[oldest % q->slots],
                                         relaxed) : head, release);
}

/* Takes the writers' lock, spinning briefly before sleeping (the critical
 * section is short) for at most QUEUE_LOCK_TIMEOUT_S, and repairs after a
 * dead owner (the lock is made consistent even on a damaged queue); 0,
 * -ETIMEDOUT with the error set, or -errno. */
static int queue_lock(struct queue *q)
{
    struct timespec until;
    int rc = EBUSY, spins;

    for (spins = 0; spins < QUEUE_SPINS && rc == EBUSY; spins++) {
        if (spins > 0)
            QUEUE_RELAX();
        rc = pthread_mutex_trylock(&q->h->lock);
    }
    if (rc == EBUSY) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += QUEUE_LOCK_TIMEOUT_S;
        rc = pthread_mutex_timedlock(&q->h->lock, &until);
    }
    if (rc == ETIMEDOUT)
        queue_set_error("queue %s: the writers' lock is still held after "
                        "%d s (a hung writer, or a damaged lock: re-create "
                        "it with `sseq create --force`)", q->name,
                        QUEUE_LOCK_TIMEOUT_S);
    if (rc == EOWNERDEAD) {
        queue_repair(q);
        rc = pthread_mutex_consistent(&q->h->lock);
    }
    return -rc;
}

/* Evicts the oldest records until a record at [start, end) fits without
 * touching them, id fits the index, and none is older than max_age.
 * Checks every record it looks at before storing anything; 0 or
 * QUEUE_DAMAGED (nothing stored). At most id - oldest <= slots steps. */
static int queue_evict(struct queue *q, uint64_t id, uint64_t start,
                       uint64_t end, uint64_t now)
{
    struct queue_hdr *h = q->h;
    uint64_t oldest0 = LOAD(&h->oldest_id, relaxed), oldest = oldest0;
    uint64_t tail0 = LOAD(&h->tail, relaxed), head = LOAD(&h->head, relaxed);
    uint64_t tail, prev = tail0;
    struct queue_rec r;
    int rc;

    for (; oldest < id; oldest++) {
        uint64_t off = LOAD(&q->index[oldest % q->slots], relaxed);

        if ((rc = queue_rec_check(q, oldest, off, prev, head, &r)) < 0)
            return rc;
        prev = off;
        if (off + q->ring_size >= end && id - oldest < q->slots &&
            !queue_expired(q, r.time_us, now))
            break;
    }
    tail = oldest < id ? LOAD(&q->index[oldest % q->slots], relaxed) : start;
    if (oldest == oldest0 && tail == tail0)
        return 0;
    STORE(&h->oldest_id, oldest, release);
    STORE(&h->tail, tail, release);
    atomic_thread_fence(memory_order_release);
    return 0;
}

/* Bytes of m's packed alternates: each topic plus its NUL. */
static size_t queue_msg_alt_len(const struct queue_msg *m)
{
    size_t i, n = 0;

    for (i = 0; i < m->n_alt; i++)
        n += m->alt_len[i] + 1;
    return n;
}

/* Copies n bytes (if any) to p; returns the end. */
static unsigned char *queue_put(unsigned char *p, const void *src, size_t n)
{
    if (n != 0)
        memcpy(p, src, n);
    return p + n;
}

/* Copies the record into the ring at logical offset start. */
static void queue_write(struct queue *q, uint64_t start, uint32_t len,
                        uint64_t id, uint64_t now, const struct queue_msg *m)
{
    unsigned char *p = q->ring + start % q->ring_size;
    struct queue_rec r = {
        .id = id, .time_us = now, .len = len,
        .data_len = (uint32_t)m->data_len,
        .alt_len = (uint32_t)queue_msg_alt_len(m),
        .retry_ms = m->retry_ms,
        .channel_len = (uint16_t)m->channel_len,
        .pub_id_len = (uint16_t)m->pub_id_len,
        .event_len = (uint8_t)m->event_len,
        .n_alt = (uint8_t)m->n_alt,
        .flags = (uint8_t)m->flags,
    };
    size_t i;

    p = queue_put(p, &r, sizeof(r));
    p = queue_put(p, m->channel, m->channel_len);
    p = queue_put(p, m->event, m->event_len);
    p = queue_put(p, m->pub_id, m->pub_id_len);
    for (i = 0; i < m->n_alt; i++) {
        p = queue_put(p, m->alt[i], m->alt_len[i]);
        *p++ = '\0';
    }
    if (queue_test_hook_locked != NULL)
        queue_test_hook_locked();
    queue_put(p, m->data, m->data_len);
}

/* Wakes sleepers in queue_wait after an append. */
static void queue_wake(struct queue *q)
{
    atomic_fetch_add_explicit(&q->h->wake, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&q->h->waiters, memory_order_seq_cst) != 0)
        syscall(SYS_futex, &q->h->wake, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Bytes of m's payload: channel, event, pub_id, alternates and data. */
static size_t queue_msg_payload(const struct queue_msg *m)
{
    return m->channel_len + m->event_len + m->pub_id_len +
           queue_msg_alt_len(m) + m->data_len;
}

/* The ring bytes m's record takes: header and payload, 8-aligned. The one
 * sizing both append paths use (a twin once missed the alternates). */
static uint32_t queue_msg_rec_len(const struct queue_msg *m)
{
    return (uint32_t)((sizeof(struct queue_rec) + queue_msg_payload(m) + 7) &
                      ~(size_t)7);
}

/* -EINVAL for a message queue_msg_check refuses (queue_error() names the
 * field), -EMSGSIZE for one that can never fit this queue. */
static int queue_append_check(const struct queue *q,
                              const struct queue_msg *m)
{
    struct queue_msg_fault f;
    char why[400];

    if (queue_msg_check(m, &f) < 0) {
        queue_set_error("queue %s: %s", q->name,
                        queue_msg_describe(m, &f, why, sizeof(why)));
        return -EINVAL;
    }
    if (m->data_len > q->max_payload ||
        queue_msg_payload(m) > q->max_payload)
        return -EMSGSIZE;
    return 0;
}

/* Under the lock: empties the queue and makes id the next id, in the
 * eviction order (oldest_id, tail, then next_id), so a writer killed
 * between the stores leaves a state queue_repair accepts. */
static void queue_jump(struct queue *q, uint64_t id, uint64_t start)
{
    struct queue_hdr *h = q->h;

    STORE(&h->oldest_id, id, release);
    STORE(&h->tail, start, release);
    atomic_thread_fence(memory_order_release);
    STORE(&h->next_id, id, release);
}

/* The append itself, under the lock: checks the writers' state, evicts,
 * writes and publishes a record with id want (0: the next id), its id
 * into *nid. want below the next id is -EALREADY; a next id at the end
 * of the id range is -ERANGE; QUEUE_DAMAGED. Nothing stored on failure.
 * want past the next id drops every older record first (queue_jump). */
static int queue_append_locked(struct queue *q, const struct queue_msg *m,
                               uint32_t len, uint64_t want, uint64_t *nid)
{
    struct queue_hdr *h = q->h;
    uint64_t head, start, now, pos;
    int rc;

    if ((rc = queue_check_locked(q)) < 0)
        return rc;
    *nid = LOAD(&h->next_id, relaxed);
    if (want != 0 && want < *nid)
        return -EALREADY;
    if (want == 0 && *nid >= QUEUE_ID_END)
        return -ERANGE;
    head = LOAD(&h->head, relaxed);
    pos = head % q->ring_size;
    start = pos + len > q->ring_size ? head + (q->ring_size - pos) : head;
    if (want > *nid) {
        queue_jump(q, want, start);
        *nid = want;
    }
    now = queue_now_us();
    if ((rc = queue_evict(q, *nid, start, start + len, now)) < 0)
        return rc;
    queue_write(q, start, len, *nid, now, m);
    STORE(&q->index[*nid % q->slots], start, release);
    STORE(&h->head, start + len, release);
    STORE(&h->next_id, *nid + 1, release);
    STORE(&h->appends, LOAD(&h->appends, relaxed) + 1, relaxed);
    return 0;
}

/* Checks m, takes the lock and appends with id want (0: the next id). */
static int queue_append_id(struct queue *q, const struct queue_msg *m,
                           uint64_t want, uint64_t *id)
{
    uint64_t nid;
    uint32_t len;
    int rc;

    if ((rc = queue_append_check(q, m)) < 0)
        return rc;
    len = queue_msg_rec_len(m);
    if ((rc = queue_lock(q)) < 0)
        return rc;
    rc = queue_append_locked(q, m, len, want, &nid);
    pthread_mutex_unlock(&q->h->lock);
    if (rc < 0)
        return rc;
    queue_wake(q);
    if (id != NULL)
        *id = nid;
    return 0;
}

int queue_append(struct queue *q, const struct queue_msg *m, uint64_t *id)
{
    return queue_append_id(q, m, 0, id);
}

int queue_append_at(struct queue *q, const struct queue_msg *m, uint64_t id)
{
    if (id == 0 || id >= QUEUE_ID_END) {
        queue_set_error("queue %s: id %llu is outside the queue's id range "
                        "(1 to 2^63-1)", q->name, (unsigned long long)id);
        return -ERANGE;
    }
    return queue_append_id(q, m, id, NULL);
}

void queue_bounds(const struct queue *q, uint64_t *oldest, uint64_t *next)
{
    uint64_t n = LOAD(&q->h->next_id, acquire);
    uint64_t o = LOAD(&q->h->oldest_id, acquire);

    *oldest = o < n ? o : n;
    *next = n;
}

/* What queue_fetch copies besides the record header. */
enum queue_part {
    QUEUE_PART_NONE,                /* the header only */
    QUEUE_PART_ALL,                 /* the whole payload */
    QUEUE_PART_PUB_ID,              /* the pub_id bytes */
};

/* Copies record id's header into *r and the part of its payload into buf
 * (cap bytes), then validates the copy: the record is gone (evicted or
 * overwritten) iff id < oldest_id loaded after the copy; else any
 * inconsistency is damage. 0, QUEUE_OVERRUN, -ENOBUFS, or QUEUE_BAD_RECORD
 * with *why saying what (the error text is left to the caller). */
static int queue_fetch(const struct queue *q, uint64_t id,
                       struct queue_rec *r, enum queue_part part, char *buf,
                       size_t cap, const char **why)
{
    uint64_t off = LOAD(&q->index[id % q->slots], acquire);
    uint64_t pos = off % q->ring_size, tail, head;
    size_t skip = 0, n = 0;
    int rc = QUEUE_BAD_RECORD;

    memset(r, 0, sizeof(*r));
    if (off % 8 != 0)
        *why = "misaligned";
    else if (pos + sizeof(*r) > q->ring_size)
        *why = "past the end of the ring";
    else {
        memcpy(r, q->ring + pos, sizeof(*r));
        if (r->id != id)
            *why = "holds another id";
        else if (!queue_rec_sane(q, r) || pos + r->len > q->ring_size)
            *why = "record header out of its limits";
        else
            rc = 0;
    }
    if (part == QUEUE_PART_ALL)
        n = queue_rec_payload(r);
    else if (part == QUEUE_PART_PUB_ID) {
        skip = (size_t)r->channel_len + r->event_len;
        n = r->pub_id_len;
    }
    if (rc == 0 && n > cap)
        rc = -ENOBUFS;
    else if (rc == 0 && n != 0)
        memcpy(buf, q->ring + pos + sizeof(*r) + skip, n);
    atomic_thread_fence(memory_order_acquire);
    tail = LOAD(&q->h->tail, acquire);
    head = LOAD(&q->h->head, acquire);
    if (id < LOAD(&q->h->oldest_id, acquire))
        return QUEUE_OVERRUN;
    if (rc == 0 && (off < tail || off >= head)) {
        *why = "outside the retained ring";
        rc = QUEUE_BAD_RECORD;
    }
    return rc;
}

/* The first id at or after from that is retained and not expired (or
 * damaged, for the next read to report); at most slots steps. 0 or
 * QUEUE_DAMAGED. */
static int queue_first_live(const struct queue *q, uint64_t from,
                            uint64_t *live)
{
    struct queue_rec r;
    uint64_t now = queue_now_us(), id = from, oldest, next, step;
    const char *why;
    int rc;

    for (step = 0; step <= q->slots; step++) {
        if ((rc = queue_load_bounds(q, &oldest, &next)) < 0)
            return rc;
        if (id < oldest)
            id = oldest;
        if (id >= next || q->max_age_us == 0)
            break;
        rc = queue_fetch(q, id, &r, QUEUE_PART_NONE, NULL, 0, &why);
        if (rc == QUEUE_BAD_RECORD ||
            (rc == 0 && !queue_expired(q, r.time_us, now)))
            break;
        id++;
    }
    *live = id;
    return 0;
}

/* true if alt[0..len) holds exactly n non-empty NUL-terminated topics. */
static bool queue_alt_packed(const char *alt, size_t len, size_t n)
{
    size_t i, start = 0, k = 0;

    for (i = 0; i < len; i++) {
        if (alt[i] != '\0')
            continue;
        if (i == start)
            return false;
        k++;
        start = i + 1;
    }
    return k == n && start == len;
}

/* Points rec's fields into buf after a successful fetch. */
static void queue_fill(struct queue_record *rec, const struct queue_rec *r,
                       char *buf, size_t cap)
{
    size_t payload = queue_rec_payload(r);
    char *p = buf;

    memset(rec, 0, sizeof(*rec));
    rec->id = r->id;
    rec->time_us = r->time_us;
    rec->channel = p;
    rec->channel_len = r->channel_len;
    p += r->channel_len;
    rec->event = p;
    rec->event_len = r->event_len;
    p += r->event_len;
    rec->pub_id = r->pub_id_len ? p : NULL;
    rec->pub_id_len = r->pub_id_len;
    p += r->pub_id_len;
    rec->alt = p;
    rec->alt_len = r->alt_len;
    rec->n_alt = r->n_alt;
    p += r->alt_len;
    rec->data = p;
    rec->data_len = r->data_len;
    rec->retry_ms = r->retry_ms;
    rec->flags = r->flags;
    if (payload < cap)
        buf[payload] = '\0';
}

/* Reads record cur (cur is in [oldest, next)) into rec and buf; 0,
 * QUEUE_OVERRUN (also for an expired record), QUEUE_BAD_RECORD with the
 * error set, or -ENOBUFS. */
static int queue_read_at(const struct queue *q, uint64_t cur,
                         struct queue_record *rec, char *buf, size_t cap)
{
    struct queue_rec r;
    const char *why;
    int rc = queue_fetch(q, cur, &r, QUEUE_PART_ALL, buf, cap, &why);

    if (rc == 0 && q->max_age_us != 0 &&
        queue_expired(q, r.time_us, queue_now_us()))
        rc = QUEUE_OVERRUN;
    if (rc == 0 && !queue_alt_packed(buf + r.channel_len + r.event_len +
                                     r.pub_id_len, r.alt_len, r.n_alt)) {
        why = "alternate topics malformed";
        rc = QUEUE_BAD_RECORD;
    }
    if (rc == QUEUE_BAD_RECORD)
        return queue_bad_record(q, cur, why,
                                LOAD(&q->index[cur % q->slots], relaxed));
    if (rc == 0)
        queue_fill(rec, &r, buf, cap);
    return rc;
}

int queue_read(const struct queue *q, uint64_t *cursor,
               struct queue_record *rec, char *buf, size_t cap)
{
    uint64_t cur = *cursor, oldest, next;
    int rc;

    if ((rc = queue_load_bounds(q, &oldest, &next)) < 0)
        return rc;
    if (cur >= next)
        return QUEUE_EMPTY;
    rc = cur < oldest ? QUEUE_OVERRUN : queue_read_at(q, cur, rec, buf, cap);
    if (rc == QUEUE_OVERRUN) {
        if ((rc = queue_first_live(q, cur + 1, cursor)) < 0)
            return rc;
        return QUEUE_OVERRUN;
    }
    if (rc == 0 || rc == QUEUE_BAD_RECORD)
        *cursor = cur + 1;
    return rc;
}

bool queue_record_next_topic(const struct queue_record *r, size_t *pos,
                             const char **t, size_t *len)
{
    const char *start, *end;

    if (*pos == 0) {
        *t = r->channel;
        *len = r->channel_len;
        *pos = 1;
        return true;
    }
    if (*pos - 1 >= r->alt_len)
        return false;
    start = r->alt + (*pos - 1);
    end = memchr(start, '\0', r->alt_len - (*pos - 1));
    *t = start;
    *len = end ? (size_t)(end - start) : r->alt_len - (*pos - 1);
    *pos += *len + 1;
    return true;
}

int queue_find_pub_id(const struct queue *q, const char *pub_id, size_t len,
                      uint64_t *id)
{
    char got[QUEUE_PUBID_MAX];
    struct queue_rec r;
    uint64_t oldest, next, k;
    const char *why;
    int rc;

    if ((rc = queue_load_bounds(q, &oldest, &next)) < 0)
        return rc;
    if (len == 0 || len > QUEUE_PUBID_MAX)
        return -ENOENT;
    for (k = next; k > oldest; k--) {
        if (queue_fetch(q, k - 1, &r, QUEUE_PART_PUB_ID, got, sizeof(got),
                        &why) != 0 || r.pub_id_len != len ||
            memcmp(got, pub_id, len) != 0)
            continue;
        *id = k - 1;
        return 0;
    }
    return -ENOENT;
}

/* Checks the writers' state under the lock (held only for that); 0,
 * QUEUE_DAMAGED or -ETIMEDOUT with the error set, or -errno. */
static int queue_verify_locked(struct queue *q)
{
    int rc = queue_lock(q);

    if (rc < 0)
        return rc;
    rc = queue_check_locked(q);
    pthread_mutex_unlock(&q->h->lock);
    return rc;
}

int queue_verify(struct queue *q, struct queue_verify *v)
{
    char first[sizeof(queue_err)] = "";
    size_t cap = q->max_payload + 1;
    uint64_t oldest, next, id;
    struct queue_record rec;
    char *buf;
    int rc;

    memset(v, 0, sizeof(*v));
    if ((rc = queue_verify_locked(q)) < 0)
        return rc;
    if ((buf = malloc(cap)) == NULL) {
        queue_set_error("queue %s: out of memory", q->name);
        return -ENOMEM;
    }
    if ((rc = queue_load_bounds(q, &oldest, &next)) < 0)
        goto out;
    for (id = oldest; id < next; id++) {
        uint64_t cur = id;

        rc = queue_read(q, &cur, &rec, buf, cap);
        if (rc == QUEUE_DAMAGED)
            goto out;
        if (rc == 0)
            v->records++;
        if (rc == QUEUE_BAD_RECORD && v->bad++ == 0) {
            v->first_bad = id;
            memcpy(first, queue_err, sizeof(first));
        }
    }
    rc = v->bad ? QUEUE_BAD_RECORD : 0;
    if (v->bad)
        memcpy(queue_err, first, sizeof(first));
out:
    free(buf);
    return rc;
}

uint32_t queue_wake_word(const struct queue *q)
{
    return atomic_load_explicit(&q->h->wake, memory_order_seq_cst);
}

int queue_wait(struct queue *q, uint32_t word, int timeout_ms)
{
    struct queue_hdr *h = q->h;
    struct timespec ts, *tp = NULL;
    int rc = 0;

    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
        tp = &ts;
    }
    atomic_fetch_add_explicit(&h->waiters, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&h->wake, memory_order_seq_cst) == word &&
        syscall(SYS_futex, &h->wake, FUTEX_WAIT, word, tp, NULL, 0) < 0) {
        if (errno == ETIMEDOUT || errno == EINTR)
            rc = -errno;
    }
    atomic_fetch_sub_explicit(&h->waiters, 1, memory_order_seq_cst);
    return rc;
}

void queue_get_stats(const struct queue *q, struct queue_stats *st)
{
    const struct queue_hdr *h = q->h;
    uint64_t head = LOAD(&h->head, acquire), tail = LOAD(&h->tail, acquire);

    memset(st, 0, sizeof(*st));
    st->file_size = h->file_size;
    st->ring_size = q->ring_size;
    st->index_slots = q->slots;
    st->bytes_used = head > tail ? head - tail : 0;
    queue_bounds(q, &st->oldest_id, &st->next_id);
    st->records = st->next_id - st->oldest_id;
    st->newest_id = st->next_id - 1;
    st->appends = LOAD(&h->appends, relaxed);
    st->recovered = LOAD(&h->recovered, relaxed);
    st->created_us = h->created_us;
    st->max_age = h->max_age;
    st->version = h->version;
}

/* true if pid names a live process (or one we may not signal). */
static int queue_pid_alive(int32_t pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH);
}

/* Fills a freshly claimed slot. */
static void queue_proc_init(struct queue_proc_slot *s, const char *role)
{
    size_t i;

    memset(s->role, 0, sizeof(s->role));
    if (role != NULL)
        strncpy(s->role, role, sizeof(s->role) - 1);
    STORE(&s->fanout, 0, relaxed);      /* as every binary's memset does */
    STORE(&s->beat_ms, 0, relaxed);
    for (i = 0; i < 5; i++)
        STORE(&s->c[i], 0, relaxed);
    for (i = 0; i < QUEUE_PROC_REFUSALS; i++)
        STORE(&s->refused[i], 0, relaxed);
    STORE(&s->started_us, queue_now_us(), release);
}

int queue_proc_claim(struct queue *q, const char *role)
{
    int32_t me = (int32_t)getpid();
    int i;

    for (i = 0; i < QUEUE_PROC_SLOTS; i++) {
        struct queue_proc_slot *s = &q->h->procs[i];
        int32_t pid = LOAD(&s->pid, acquire);

        if (pid != 0 && queue_pid_alive(pid))
            continue;
        if (atomic_compare_exchange_strong(&s->pid, &pid, me)) {
            queue_proc_init(s, role);
            STORE(&q->own_slot, i + 1, release);
            return i;
        }
    }
    return -ENOSPC;
}

void queue_proc_release(struct queue *q, int slot)
{
    int32_t me = (int32_t)getpid();

    if (slot < 0 || slot >= QUEUE_PROC_SLOTS)
        return;
    if (LOAD(&q->own_slot, acquire) == slot + 1)
        STORE(&q->own_slot, 0, release);
    if (LOAD(&q->h->procs[slot].pid, acquire) != me)
        return;
    /* A binary older than the refusal counters claims without zeroing
     * them: leave none behind. */
    for (size_t i = 0; i < QUEUE_PROC_REFUSALS; i++)
        STORE(&q->h->procs[slot].refused[i], 0, relaxed);
    atomic_compare_exchange_strong(&q->h->procs[slot].pid, &me, 0);
}

void queue_proc_update(struct queue *q, int slot,
                       const struct queue_proc_counters *c)
{
    struct queue_proc_slot *s;

    if (slot < 0 || slot >= QUEUE_PROC_SLOTS)
        return;
    s = &q->h->procs[slot];
    STORE(&s->c[0], c->streams, relaxed);
    STORE(&s->c[1], c->streams_total, relaxed);
    STORE(&s->c[2], c->dropped_slow, relaxed);
    STORE(&s->c[3], c->events, relaxed);
    STORE(&s->c[4], c->bytes, relaxed);
}

void queue_proc_set_refused(struct queue *q,
                            const uint32_t n[QUEUE_PROC_REFUSALS])
{
    int slot = LOAD(&q->own_slot, acquire) - 1;
    struct queue_proc_slot *s;
    size_t i;

    if (slot < 0 || slot >= QUEUE_PROC_SLOTS)
        return;
    s = &q->h->procs[slot];
    if (LOAD(&s->pid, relaxed) != (int32_t)getpid())
        return;
    for (i = 0; i < QUEUE_PROC_REFUSALS; i++)
        STORE(&s->refused[i], n[i], relaxed);
}

const char *queue_file_path(const struct queue *q)
{
    return q->name;
}

int queue_file_mode(const struct queue *q)
{
    struct stat st;

    if (fstat(q->fd, &st) < 0)
        return -errno;
    return (int)(st.st_mode & 07777);
}

/* Copies one live slot into *o. */
static void queue_proc_copy(const struct queue_proc_slot *s, int32_t pid,
                            struct queue_proc_info *o)
{
    _Static_assert(sizeof(o->role) > sizeof(s->role), "role fits");
    o->pid = (pid_t)pid;
    memset(o->role, 0, sizeof(o->role));
    memcpy(o->role, s->role, sizeof(s->role));
    o->role[sizeof(s->role) - 1] = '\0';
    o->started_us = LOAD(&s->started_us, acquire);
    o->c.streams = LOAD(&s->c[0], relaxed);
    o->c.streams_total = LOAD(&s->c[1], relaxed);
    o->c.dropped_slow = LOAD(&s->c[2], relaxed);
    o->c.events = LOAD(&s->c[3], relaxed);
    o->c.bytes = LOAD(&s->c[4], relaxed);
    for (size_t i = 0; i < QUEUE_PROC_REFUSALS; i++)
        o->refused[i] = LOAD(&s->refused[i], relaxed);
}

int queue_proc_list(const struct queue *q, struct queue_proc_info *out, int n)
{
    int i, k = 0;

    for (i = 0; i < QUEUE_PROC_SLOTS && k < n; i++) {
        const struct queue_proc_slot *s = &q->h->procs[i];
        int32_t pid = LOAD(&s->pid, acquire);

        if (pid != 0 && queue_pid_alive(pid)) {
            out[k].slot = i;
            queue_proc_copy(s, pid, &out[k++]);
        }
    }
    return k;
}

/* CLOCK_MONOTONIC in milliseconds, wrapping at 32 bits (the beat). */
static uint32_t queue_beat_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u +
                      (uint64_t)ts.tv_nsec / 1000000u);
}

void queue_proc_fanout(struct queue *q, uint64_t next_id)
{
    int slot = LOAD(&q->own_slot, acquire) - 1;
    struct queue_proc_slot *s;

    if (slot < 0 || slot >= QUEUE_PROC_SLOTS)
        return;
    s = &q->h->procs[slot];
    STORE(&s->fanout, next_id, relaxed);
    STORE(&s->beat_ms, queue_beat_now(), release);
}

/* The age at now_us of record id (CLOCK_REALTIME): 0 if it is not
 * published yet; for an id evicted or unreadable, the age of the oldest
 * retained record, which is younger (so the lag is never overstated). */
static uint64_t queue_fanout_age(const struct queue *q, uint64_t id,
                                 uint64_t oldest, uint64_t next,
                                 uint64_t now_us)
{
    struct queue_rec r;
    const char *why;
    uint64_t at = id < oldest ? oldest : id;

    if (at >= next ||
        queue_fetch(q, at, &r, QUEUE_PART_NONE, NULL, 0, &why) != 0)
        return 0;
    return now_us > r.time_us ? now_us - r.time_us : 0;
}

/* Fills o from live slot s (pid) at the bounds [oldest, next). */
static void queue_fanout_one(const struct queue *q,
                             const struct queue_proc_slot *s, int32_t pid,
                             uint64_t oldest, uint64_t next, uint64_t now_us,
                             uint32_t beat_now, struct queue_fanout *o)
{
    uint64_t pos = LOAD(&s->fanout, relaxed);

    memset(o, 0, sizeof(*o));
    o->pid = (pid_t)pid;
    o->streams = LOAD(&s->c[0], relaxed);
    o->quiet_ms = beat_now - LOAD(&s->beat_ms, acquire);
    o->alive = true;
    if (pos >= next)
        return;
    o->behind = next - pos;
    o->lag_us = queue_fanout_age(q, pos, oldest, next, now_us);
}

int queue_fanout_list(const struct queue *q, uint64_t check_us,
                      struct queue_fanout *out, int n)
{
    uint64_t oldest, next, now_us = queue_now_us();
    uint32_t beat_now = queue_beat_now();
    int i, k = 0, rc;

    if ((rc = queue_load_bounds(q, &oldest, &next)) < 0)
        return rc;
    for (i = 0; i < QUEUE_PROC_SLOTS && k < n; i++) {
        const struct queue_proc_slot *s = &q->h->procs[i];
        int32_t pid = LOAD(&s->pid, acquire);

        if (pid == 0 || LOAD(&s->fanout, relaxed) == 0)
            continue;
        queue_fanout_one(q, s, pid, oldest, next, now_us, beat_now, &out[k]);
        if (out[k].lag_us >= check_us)
            out[k].alive = queue_pid_alive(pid);
        k++;
    }
    return k;
}
