/* chan_file.c -- a stream process's top channels in a shared file (see
 * chan_file.h). */
#include "ac_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics/chan_file.h"

#define CHAN_FILE_MAGIC  UINT64_C(0x534e414843515353)  /* "SSQCHANS" LE */
#define CHAN_FILE_TRIES  100    /* reader copies before -EAGAIN */

struct chan_file_rec {
    uint32_t streams;               /* streams on the channel */
    uint16_t len;                   /* bytes of name, <= NAME_MAX */
    uint16_t pad0;                  /* zero */
    char name[CHAN_FILE_NAME_MAX];  /* not NUL-terminated */
};

/* The whole file; written by its process only. */
struct chan_file_hdr {
    _Atomic uint64_t magic;         /* CHAN_FILE_MAGIC once pid and
                                       started_us are stored, 0 before */
    int32_t pid;                    /* the owner */
    uint32_t n;                     /* entries in e[], <= ENTRIES */
    uint64_t started_us;            /* the owner's queue slot start */
    _Atomic uint64_t seq;           /* odd while e[] and n change */
    uint8_t pad[32];                /* header is one cache line */
    struct chan_file_rec e[CHAN_FILE_ENTRIES];  /* streams, descending */
};

_Static_assert(sizeof(struct chan_file_rec) == 208, "record is 208 bytes");
_Static_assert(sizeof(struct chan_file_hdr) == 64 + 208 * CHAN_FILE_ENTRIES,
               "header is one cache line");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "seq is lock-free");

struct chan_file {
    struct chan_file_hdr *h;        /* the mapping */
    dev_t dev;                      /* the file this process made: */
    ino_t ino;                      /* removed only while path is it */
    char path[256];
};

int chan_file_path(char *out, size_t cap, const char *qpath, int slot)
{
    int n = snprintf(out, cap, "%s.chans-%d", qpath, slot);

    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Maps path's file of the right size; -errno. *st gets its metadata. */
static int chan_file_map(const char *path, int flags, struct chan_file_hdr
                         **h, struct stat *st)
{
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
    void *m;
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, st) < 0)
        rc = -errno;
    else if ((size_t)st->st_size != sizeof(**h) || !S_ISREG(st->st_mode))
        rc = -EPROTO;
    if (rc == 0) {
        m = mmap(NULL, sizeof(**h), (flags & O_ACCMODE) == O_RDONLY ?
                 PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED)
            rc = -errno;
        else
            *h = m;
    }
    close(fd);
    return rc;
}

/* Creates path anew (O_EXCL) at the file's size with mode: a file left
 * by a crashed process is unlinked first (a reader that has it mapped
 * keeps the old copy), so a file another user planted there, or a hard
 * link to someone's file, is never written; -errno (-EPERM when the one
 * there belongs to another user in a sticky /dev/shm). */
static int chan_file_make(const char *path, unsigned mode)
{
    int fd, rc = 0;

    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)sizeof(struct chan_file_hdr)) < 0 ||
        fchmod(fd, (mode_t)(mode & 0666)) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

int chan_file_create(const char *qpath, int slot, unsigned mode,
                     uint64_t started_us, struct chan_file **out)
{
    struct chan_file *f = calloc(1, sizeof(*f));
    struct stat st;
    int rc;

    if (f == NULL)
        return -ENOMEM;
    rc = chan_file_path(f->path, sizeof(f->path), qpath, slot);
    if (rc == 0)
        rc = chan_file_make(f->path, mode);
    if (rc == 0)
        rc = chan_file_map(f->path, O_RDWR, &f->h, &st);
    if (rc < 0) {
        free(f);
        return rc;
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    atomic_store_explicit(&f->h->magic, 0, memory_order_release);
    chan_file_write(f, NULL, 0);
    f->h->pid = (int32_t)getpid();
    f->h->started_us = started_us;
    atomic_store_explicit(&f->h->magic, CHAN_FILE_MAGIC,
                          memory_order_release);
    *out = f;
    return 0;
}

void chan_file_write(struct chan_file *f, const struct chan_top_entry *top,
                     unsigned n)
{
    struct chan_file_hdr *h = f->h;
    uint64_t s = atomic_load_explicit(&h->seq, memory_order_relaxed);
    unsigned i;

    if (n > CHAN_FILE_ENTRIES)
        n = CHAN_FILE_ENTRIES;
    atomic_store_explicit(&h->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (i = 0; i < n; i++) {
        size_t len = top[i].len < CHAN_FILE_NAME_MAX ? top[i].len
                                                     : CHAN_FILE_NAME_MAX;

        h->e[i].streams = top[i].streams > UINT32_MAX ? UINT32_MAX
                          : (uint32_t)top[i].streams;
        h->e[i].len = (uint16_t)len;
        memcpy(h->e[i].name, top[i].name, len);
    }
    h->n = n;
    atomic_store_explicit(&h->seq, s + 2, memory_order_release);
}

void chan_file_remove(struct chan_file *f)
{
    struct stat st;

    if (f == NULL)
        return;
    /* After `sseq create --force --while-running` a new process of the
     * new queue may hold the same slot number, hence the same path: its
     * file is not ours to remove. */
    if (lstat(f->path, &st) == 0 && st.st_dev == f->dev &&
        st.st_ino == f->ino)
        unlink(f->path);
    munmap(f->h, sizeof(*f->h));
    free(f);
}

/* Copies h's entries into out under its sequence count; the count, or
 * -EAGAIN if a write was in progress every time. */
static int chan_file_copy(struct chan_file_hdr *h,
                          struct chan_file_entry *out, unsigned max)
{
    struct chan_file_rec e[CHAN_FILE_ENTRIES];
    int tries;

    for (tries = 0; tries < CHAN_FILE_TRIES; tries++) {
        uint64_t s1 = atomic_load_explicit(&h->seq, memory_order_acquire);
        uint32_t n = h->n;

        if (s1 & 1) {
            sched_yield();
            continue;
        }
        memcpy(e, h->e, sizeof(e));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&h->seq, memory_order_relaxed) != s1) {
            sched_yield();
            continue;
        }
        if (n > CHAN_FILE_ENTRIES)
            return -EPROTO;
        if (n > max)
            n = max;
        for (uint32_t i = 0; i < n; i++) {
            if (e[i].len > CHAN_FILE_NAME_MAX)
                return -EPROTO;
            out[i].streams = e[i].streams;
            out[i].len = e[i].len;
            memcpy(out[i].name, e[i].name, e[i].len);
            out[i].name[e[i].len] = '\0';
        }
        return (int)n;
    }
    return -EAGAIN;
}

int chan_file_read(const char *qpath, int slot, pid_t pid,
                   uint64_t started_us, struct chan_file_entry *out,
                   unsigned max)
{
    struct chan_file_hdr *h;
    struct stat st;
    char path[256];
    int rc;

    rc = chan_file_path(path, sizeof(path), qpath, slot);
    if (rc == 0)
        rc = chan_file_map(path, O_RDONLY, &h, &st);
    if (rc < 0)
        return rc;
    if (atomic_load_explicit(&h->magic, memory_order_acquire) !=
        CHAN_FILE_MAGIC)
        rc = -EPROTO;
    else if (h->pid != (int32_t)pid || h->started_us != started_us)
        rc = -ENOENT;
    else
        rc = chan_file_copy(h, out, max);
    munmap(h, sizeof(*h));
    return rc;
}
