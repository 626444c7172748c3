/* queue.c -- the shared-memory message queue: one mmap'd object holding a
 * versioned header, an id -> offset index and a byte ring of records.
 *
 * Layout of the object (all positions are offsets from its start):
 *   [struct queue_hdr][index: u64 x index_slots][ring: ring_size bytes]
 * A record is a struct queue_rec followed by channel, event and data bytes,
 * padded to 8; it never straddles the end of the ring (the writer skips the
 * tail end of the ring instead). Positions in the ring are 64-bit logical
 * offsets that only grow; the byte lives at offset % ring_size.
 *
 * Key invariant (writers): every append happens under the robust mutex in
 * this order: evict (store oldest_id, then tail with release, then a release
 * fence), write the record bytes, store index[id % slots], store head, and
 * last store next_id with release. A writer killed anywhere before the last
 * store leaves next_id unchanged, so readers never see its record; the next
 * writer gets EOWNERDEAD and queue_repair() makes tail and next_id agree
 * with what was completely written.
 *
 * Key invariant (readers): a record whose start offset is >= tail has not
 * been overwritten: a writer advances tail past a record before it writes
 * any byte that aliases it. Readers load index[id % slots], copy the record,
 * fence(acquire), then re-check tail and the record's own id; a failed check
 * is an overrun, never data.
 *
 * Key invariant (waking): the wake word is bumped (seq_cst) after every
 * append and then the waiter count is read (seq_cst); a waiter increments
 * the count (seq_cst) and then reads the word. One of the two always sees
 * the other, so FUTEX_WAKE is issued only when someone may sleep and no
 * wakeup is lost. */
#include "queue.h"

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
#define QUEUE_VERSION    1u
#define QUEUE_LINE       64
#define QUEUE_MIN_RING   4096u
#define QUEUE_MAX_PAYLOAD_CAP (UINT32_C(1) << 30)
#define QUEUE_NAME_MAX   255u
#define QUEUE_SPINS      64     /* trylock attempts before sleeping */

#if defined(__x86_64__) || defined(__i386__)
#define QUEUE_RELAX()    __builtin_ia32_pause()
#else
#define QUEUE_RELAX()    atomic_signal_fence(memory_order_seq_cst)
#endif

/* One process's entry in the slot table; two cache lines so processes do
 * not share a line. */
struct queue_proc_slot {
    _Atomic int32_t pid;            /* owner pid, 0 = free */
    uint32_t pad0;                  /* keeps the fields below aligned */
    char role[16];                  /* "stream", "publish", ... NUL-padded */
    _Atomic uint64_t started_us;    /* claim time, CLOCK_REALTIME us */
    _Atomic uint64_t c[5];          /* queue_proc_counters, in its order */
    uint8_t pad1[128 - 72];         /* up to two cache lines */
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

/* A record's header in the ring. */
struct queue_rec {
    uint64_t id;                    /* sequence number */
    uint64_t time_us;               /* publish time, CLOCK_REALTIME us */
    uint32_t len;                   /* whole record incl. padding */
    uint32_t data_len;              /* bytes of data */
    uint8_t channel_len;            /* bytes of channel, 1..255 */
    uint8_t event_len;              /* bytes of event type, 0..255 */
    uint16_t pad0;                  /* zero */
    uint32_t pad1;                  /* zero */
};

_Static_assert(sizeof(struct queue_rec) == 32, "record header is 32 bytes");
_Static_assert(sizeof(struct queue_proc_slot) == 128, "slot is 2 lines");
_Static_assert(sizeof(pthread_mutex_t) <= QUEUE_LINE, "mutex fits a line");
_Static_assert(offsetof(struct queue_hdr, max_age) == 64, "line 1");
_Static_assert(offsetof(struct queue_hdr, lock) == 128, "line 2");
_Static_assert(offsetof(struct queue_hdr, head) == 192, "line 3");
_Static_assert(offsetof(struct queue_hdr, wake) == 256, "line 4");
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

/* Builds the handle over a validated mapping. */
static void queue_bind(struct queue *q, int fd, void *map, size_t size)
{
    q->fd = fd;
    q->h = map;
    q->map_size = size;
    q->index = (_Atomic uint64_t *)((char *)map + q->h->index_off);
    q->ring = (unsigned char *)map + q->h->ring_off;
    q->ring_size = q->h->ring_size;
    q->slots = q->h->index_slots;
    q->max_payload = q->h->max_payload;
    q->max_age_us = (uint64_t)q->h->max_age * 1000000u;
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
    queue_bind(q, fd, map, p->size);
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

/* Checks a mapped header against the object's real size; -EPROTO with the
 * error text naming path when it is not a usable queue. */
static int queue_check(const struct queue_hdr *h, uint64_t size,
                       const char *path)
{
    uint64_t hs = sizeof(*h);

    if (LOAD(&h->magic, acquire) != QUEUE_MAGIC) {
        queue_set_error("%s: bad magic: not a queue (or still being "
                        "created)", path);
        return -EPROTO;
    }
    if (h->version != QUEUE_VERSION || h->hdr_size != hs) {
        queue_set_error("%s: layout version %u (header %u bytes), expected "
                        "%u (%llu)", path, h->version, h->hdr_size,
                        QUEUE_VERSION, (unsigned long long)hs);
        return -EPROTO;
    }
    if (h->file_size != size) {
        queue_set_error("%s: header says %llu bytes, file has %llu", path,
                        (unsigned long long)h->file_size,
                        (unsigned long long)size);
        return -EPROTO;
    }
    if (h->index_off != hs || h->index_slots < 16 ||
        h->index_slots > size / 8 ||
        h->ring_off < hs + h->index_slots * 8 ||
        h->ring_off > size || h->ring_size > size ||
        h->ring_size < QUEUE_MIN_RING || h->ring_size % 64 != 0 ||
        h->ring_off + h->ring_size > size ||
        h->max_payload > h->ring_size / 4) {
        queue_set_error("%s: inconsistent geometry in header", path);
        return -EPROTO;
    }
    return 0;
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
    if ((rc = queue_check(map, (uint64_t)st.st_size, path)) < 0) {
        munmap(map, (size_t)st.st_size);
        return rc;
    }
    queue_bind(q, fd, map, (size_t)st.st_size);
    return 0;
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

/* The record header at logical offset off (writer side, under the lock). */
static const struct queue_rec *queue_rec_at(const struct queue *q,
                                            uint64_t off)
{
    return (const struct queue_rec *)(q->ring + off % q->ring_size);
}

/* true if a record published at time_us is older than max_age at now. */
static int queue_expired(const struct queue *q, uint64_t time_us,
                         uint64_t now)
{
    return q->max_age_us != 0 && now > time_us &&
           now - time_us > q->max_age_us;
}

/* After a writer died holding the lock: makes tail agree with oldest_id and
 * publishes a record that was complete but not yet published. */
static void queue_repair(struct queue *q)
{
    struct queue_hdr *h = q->h;
    uint64_t next = LOAD(&h->next_id, relaxed);
    uint64_t oldest = LOAD(&h->oldest_id, relaxed);
    uint64_t head = LOAD(&h->head, relaxed);
    uint64_t off = LOAD(&q->index[next % q->slots], relaxed);
    const struct queue_rec *r = queue_rec_at(q, off);

    if (oldest > next)
        STORE(&h->oldest_id, oldest = next, relaxed);
    if (off % q->ring_size + sizeof(*r) <= q->ring_size &&
        r->id == next && off + r->len == head && oldest + q->slots > next) {
        STORE(&h->next_id, ++next, release);
    }
    STORE(&h->tail, oldest < next ? LOAD(&q->index[oldest % q->slots],
                                         relaxed) : head, release);
    STORE(&h->recovered, LOAD(&h->recovered, relaxed) + 1, relaxed);
}

/* Takes the writers' lock, spinning briefly before sleeping (the critical
 * section is short), and repairs after a dead owner; 0 or -errno. */
static int queue_lock(struct queue *q)
{
    int rc = EBUSY, spins;

    for (spins = 0; spins < QUEUE_SPINS && rc == EBUSY; spins++) {
        if (spins > 0)
            QUEUE_RELAX();
        rc = pthread_mutex_trylock(&q->h->lock);
    }
    if (rc == EBUSY)
        rc = pthread_mutex_lock(&q->h->lock);

    if (rc == EOWNERDEAD) {
        queue_repair(q);
        rc = pthread_mutex_consistent(&q->h->lock);
    }
    return -rc;
}

/* Evicts the oldest records until a record at [start, end) fits without
 * touching them, id fits the index, and none is older than max_age. */
static void queue_evict(struct queue *q, uint64_t id, uint64_t start,
                        uint64_t end, uint64_t now)
{
    struct queue_hdr *h = q->h;
    uint64_t oldest0 = LOAD(&h->oldest_id, relaxed), oldest = oldest0;
    uint64_t tail;

    for (; oldest < id; oldest++) {
        uint64_t off = LOAD(&q->index[oldest % q->slots], relaxed);

        if (off + q->ring_size >= end && id - oldest < q->slots &&
            !queue_expired(q, queue_rec_at(q, off)->time_us, now))
            break;
    }
    tail = oldest < id ? LOAD(&q->index[oldest % q->slots], relaxed) : start;
    if (oldest == oldest0 && tail == LOAD(&h->tail, relaxed))
        return;
    STORE(&h->oldest_id, oldest, release);
    STORE(&h->tail, tail, release);
    atomic_thread_fence(memory_order_release);
}

/* Copies the record into the ring at logical offset start. */
static void queue_write(struct queue *q, uint64_t start, uint32_t len,
                        uint64_t id, uint64_t now, const struct queue_msg *m)
{
    unsigned char *p = q->ring + start % q->ring_size;
    struct queue_rec r = {
        .id = id, .time_us = now, .len = len,
        .data_len = (uint32_t)m->data_len,
        .channel_len = (uint8_t)m->channel_len,
        .event_len = (uint8_t)m->event_len,
    };

    memcpy(p, &r, sizeof(r));
    p += sizeof(r);
    memcpy(p, m->channel, m->channel_len);
    p += m->channel_len;
    if (m->event_len)
        memcpy(p, m->event, m->event_len);
    p += m->event_len;
    if (queue_test_hook_locked != NULL)
        queue_test_hook_locked();
    if (m->data_len)
        memcpy(p, m->data, m->data_len);
}

/* Wakes sleepers in queue_wait after an append. */
static void queue_wake(struct queue *q)
{
    atomic_fetch_add_explicit(&q->h->wake, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&q->h->waiters, memory_order_seq_cst) != 0)
        syscall(SYS_futex, &q->h->wake, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* -EINVAL / -EMSGSIZE for a message that can never be appended. */
static int queue_msg_check(const struct queue *q, const struct queue_msg *m)
{
    if (m->channel_len == 0 || m->channel_len > QUEUE_NAME_MAX ||
        m->event_len > QUEUE_NAME_MAX || m->channel == NULL ||
        (m->event_len && m->event == NULL) ||
        (m->data_len && m->data == NULL))
        return -EINVAL;
    if (m->data_len > q->max_payload ||
        m->channel_len + m->event_len + m->data_len > q->max_payload)
        return -EMSGSIZE;
    return 0;
}

int queue_append(struct queue *q, const struct queue_msg *m, uint64_t *id)
{
    struct queue_hdr *h = q->h;
    uint64_t head, start, nid, now, pos;
    uint32_t len;
    int rc;

    if ((rc = queue_msg_check(q, m)) < 0)
        return rc;
    len = (uint32_t)((sizeof(struct queue_rec) + m->channel_len +
                      m->event_len + m->data_len + 7) & ~(size_t)7);
    if ((rc = queue_lock(q)) < 0)
        return rc;
    head = LOAD(&h->head, relaxed);
    pos = head % q->ring_size;
    start = pos + len > q->ring_size ? head + (q->ring_size - pos) : head;
    nid = LOAD(&h->next_id, relaxed);
    now = queue_now_us();
    queue_evict(q, nid, start, start + len, now);
    queue_write(q, start, len, nid, now, m);
    STORE(&q->index[nid % q->slots], start, release);
    STORE(&h->head, start + len, release);
    STORE(&h->next_id, nid + 1, release);
    STORE(&h->appends, LOAD(&h->appends, relaxed) + 1, relaxed);
    pthread_mutex_unlock(&h->lock);
    queue_wake(q);
    if (id != NULL)
        *id = nid;
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

int queue_append_at(struct queue *q, const struct queue_msg *m, uint64_t id)
{
    struct queue_hdr *h = q->h;
    uint64_t head, start, nid, now, pos;
    uint32_t len;
    int rc;

    if ((rc = queue_msg_check(q, m)) < 0)
        return rc;
    len = (uint32_t)((sizeof(struct queue_rec) + m->channel_len +
                      m->event_len + m->data_len + 7) & ~(size_t)7);
    if ((rc = queue_lock(q)) < 0)
        return rc;
    nid = LOAD(&h->next_id, relaxed);
    if (id < nid) {
        pthread_mutex_unlock(&h->lock);
        return -EALREADY;
    }
    head = LOAD(&h->head, relaxed);
    pos = head % q->ring_size;
    start = pos + len > q->ring_size ? head + (q->ring_size - pos) : head;
    if (id > nid)
        queue_jump(q, id, start);
    now = queue_now_us();
    queue_evict(q, id, start, start + len, now);
    queue_write(q, start, len, id, now, m);
    STORE(&q->index[id % q->slots], start, release);
    STORE(&h->head, start + len, release);
    STORE(&h->next_id, id + 1, release);
    STORE(&h->appends, LOAD(&h->appends, relaxed) + 1, relaxed);
    pthread_mutex_unlock(&h->lock);
    queue_wake(q);
    return 0;
}

void queue_bounds(const struct queue *q, uint64_t *oldest, uint64_t *next)
{
    uint64_t n = LOAD(&q->h->next_id, acquire);
    uint64_t o = LOAD(&q->h->oldest_id, acquire);

    *oldest = o < n ? o : n;
    *next = n;
}

/* Copies record id's header into *r and, if buf, its payload; validates the
 * copy. 0, QUEUE_OVERRUN (gone or overwritten), -ENOBUFS, or -EIO for a
 * record that is intact but malformed. */
static int queue_fetch(const struct queue *q, uint64_t id,
                       struct queue_rec *r, char *buf, size_t cap)
{
    uint64_t off = LOAD(&q->index[id % q->slots], acquire);
    uint64_t pos = off % q->ring_size;
    size_t payload = 0;
    int rc = -EIO;

    memset(r, 0, sizeof(*r));
    if (pos % 8 == 0 && pos + sizeof(*r) <= q->ring_size) {
        memcpy(r, q->ring + pos, sizeof(*r));
        payload = (size_t)r->channel_len + r->event_len + r->data_len;
        if (r->len >= sizeof(*r) + payload && pos + r->len <= q->ring_size)
            rc = 0;
    }
    if (rc == 0 && buf != NULL && payload > cap)
        rc = -ENOBUFS;
    else if (rc == 0 && buf != NULL)
        memcpy(buf, q->ring + pos + sizeof(*r), payload);
    atomic_thread_fence(memory_order_acquire);
    if (off < LOAD(&q->h->tail, relaxed) || r->id != id)
        return QUEUE_OVERRUN;
    return rc;
}

/* The first id at or after from that is retained and not expired. */
static uint64_t queue_first_live(const struct queue *q, uint64_t from)
{
    struct queue_rec r;
    uint64_t now = queue_now_us(), id = from, oldest, next;

    for (;;) {
        queue_bounds(q, &oldest, &next);
        if (id < oldest)
            id = oldest;
        if (id >= next || q->max_age_us == 0)
            return id;
        if (queue_fetch(q, id, &r, NULL, 0) == 0 &&
            !queue_expired(q, r.time_us, now))
            return id;
        id++;
    }
}

/* Points rec's fields into buf after a successful fetch. */
static void queue_fill(struct queue_record *rec, const struct queue_rec *r,
                       char *buf, size_t cap)
{
    size_t payload = (size_t)r->channel_len + r->event_len + r->data_len;

    rec->id = r->id;
    rec->time_us = r->time_us;
    rec->channel = buf;
    rec->channel_len = r->channel_len;
    rec->event = buf + r->channel_len;
    rec->event_len = r->event_len;
    rec->data = buf + r->channel_len + r->event_len;
    rec->data_len = r->data_len;
    if (payload < cap)
        buf[payload] = '\0';
}

int queue_read(const struct queue *q, uint64_t *cursor,
               struct queue_record *rec, char *buf, size_t cap)
{
    struct queue_rec r;
    uint64_t cur = *cursor, oldest, next;
    int rc;

    queue_bounds(q, &oldest, &next);
    if (cur >= next)
        return QUEUE_EMPTY;
    rc = cur < oldest ? QUEUE_OVERRUN : queue_fetch(q, cur, &r, buf, cap);
    if (rc == 0 && q->max_age_us != 0 &&
        queue_expired(q, r.time_us, queue_now_us()))
        rc = QUEUE_OVERRUN;
    if (rc == QUEUE_OVERRUN) {
        *cursor = queue_first_live(q, cur + 1);
        return QUEUE_OVERRUN;
    }
    if (rc < 0)
        return rc;
    queue_fill(rec, &r, buf, cap);
    *cursor = cur + 1;
    return 0;
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
    for (i = 0; i < 5; i++)
        STORE(&s->c[i], 0, relaxed);
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
            return i;
        }
    }
    return -ENOSPC;
}

void queue_proc_release(struct queue *q, int slot)
{
    int32_t me = (int32_t)getpid();

    if (slot >= 0 && slot < QUEUE_PROC_SLOTS)
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

/* Copies one live slot into *o. */
static void queue_proc_copy(const struct queue_proc_slot *s, int32_t pid,
                            struct queue_proc_info *o)
{
    o->pid = (pid_t)pid;
    memcpy(o->role, s->role, sizeof(o->role));
    o->role[sizeof(o->role) - 1] = '\0';
    o->started_us = LOAD(&s->started_us, acquire);
    o->c.streams = LOAD(&s->c[0], relaxed);
    o->c.streams_total = LOAD(&s->c[1], relaxed);
    o->c.dropped_slow = LOAD(&s->c[2], relaxed);
    o->c.events = LOAD(&s->c[3], relaxed);
    o->c.bytes = LOAD(&s->c[4], relaxed);
}

int queue_proc_list(const struct queue *q, struct queue_proc_info *out, int n)
{
    int i, k = 0;

    for (i = 0; i < QUEUE_PROC_SLOTS && k < n; i++) {
        const struct queue_proc_slot *s = &q->h->procs[i];
        int32_t pid = LOAD(&s->pid, acquire);

        if (pid != 0 && queue_pid_alive(pid))
            queue_proc_copy(s, pid, &out[k++]);
    }
    return k;
}
