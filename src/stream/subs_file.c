/* subs_file.c -- a process's active subscriptions in a file beside the
 * queue (see subs_file.h).
 *
 * Layout (host byte order; the file never leaves the host):
 *   header  "SSEQSUB1", int32 pid, uint32 n, uint64 started_us,
 *           uint64 body bytes;
 *   n records: uint8 dialect, uint8 match, uint16 zero, uint32
 *           selector, subscriber and payload lengths (payload
 *           SUBS_FILE_NONE: none), then those bytes. */
#include "ac_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "stream/subs_file.h"

#define SUBS_FILE_MAGIC "SSEQSUB1"
#define SUBS_FILE_NONE  UINT32_MAX  /* payload length: no payload */

struct subs_file_hdr {
    char magic[8];                  /* SUBS_FILE_MAGIC */
    int32_t pid;                    /* the owner */
    uint32_t n;                     /* records */
    uint64_t started_us;            /* the owner's queue slot start */
    uint64_t body;                  /* bytes after the header */
};

struct subs_file_rec {
    uint8_t dialect, match;         /* struct subscription's */
    uint16_t zero;
    uint32_t sel_len, sub_len, payload_len;
};

_Static_assert(sizeof(struct subs_file_hdr) == 32, "header is 32 bytes");
_Static_assert(sizeof(struct subs_file_rec) == 16, "record is 16 bytes");

int subs_file_path(char *out, size_t cap, const char *qpath, int slot)
{
    int n = snprintf(out, cap, "%s.subs-%d", qpath, slot);

    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* The bytes subs[0..n) take in the body. */
static size_t subs_file_body(const struct subscription *subs, size_t n)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        len += sizeof(struct subs_file_rec) + subs[i].selector_len +
               subs[i].subscriber_len + subs[i].payload_len;
    return len;
}

/* Appends s[0..len) at *p. */
static char *subs_file_put(char *p, const void *s, size_t len)
{
    memcpy(p, s, len);
    return p + len;
}

/* Lays the header and records out in buf (sized by subs_file_body). */
static void subs_file_fill(char *buf, uint64_t started_us,
                           const struct subscription *subs, size_t n,
                           size_t body)
{
    struct subs_file_hdr h = { SUBS_FILE_MAGIC, (int32_t)getpid(),
                               (uint32_t)n, started_us, body };
    char *p = subs_file_put(buf, &h, sizeof(h));

    for (size_t i = 0; i < n; i++) {
        const struct subscription *s = &subs[i];
        struct subs_file_rec r = {
            s->dialect, s->match, 0, (uint32_t)s->selector_len,
            (uint32_t)s->subscriber_len,
            s->payload ? (uint32_t)s->payload_len : SUBS_FILE_NONE,
        };

        p = subs_file_put(p, &r, sizeof(r));
        p = subs_file_put(p, s->selector, s->selector_len);
        p = subs_file_put(p, s->subscriber, s->subscriber_len);
        if (s->payload)
            p = subs_file_put(p, s->payload, s->payload_len);
    }
}

/* Writes buf[0..len) to a new file tmp (unlinked first, O_EXCL: a file
 * another user planted is never written through). -errno. */
static int subs_file_make(const char *tmp, unsigned mode, const char *buf,
                          size_t len)
{
    int fd, rc = 0;

    if (unlink(tmp) < 0 && errno != ENOENT)
        return -errno;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (fd < 0)
        return -errno;
    if (fchmod(fd, (mode_t)(mode & 0666)) < 0)
        rc = -errno;
    while (rc == 0 && len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            break;
        }
        buf += w;
        len -= (size_t)w;
    }
    close(fd);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int subs_file_write(const char *qpath, int slot, unsigned mode,
                    uint64_t started_us, const struct subscription *subs,
                    size_t n)
{
    char path[512], tmp[520];
    size_t body = subs_file_body(subs, n);
    size_t len = sizeof(struct subs_file_hdr) + body;
    char *buf;
    int rc = subs_file_path(path, sizeof(path), qpath, slot);

    if (rc < 0)
        return rc;
    if (len > SUBS_FILE_MAX)
        return -EFBIG;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    buf = malloc(len);
    if (buf == NULL)
        return -ENOMEM;
    subs_file_fill(buf, started_us, subs, n, body);
    rc = subs_file_make(tmp, mode, buf, len);
    free(buf);
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -errno;
        unlink(tmp);
    }
    return rc;
}

void subs_file_remove(const char *qpath, int slot)
{
    char path[512];

    if (subs_file_path(path, sizeof(path), qpath, slot) == 0)
        unlink(path);
}

/* Reads all of fd (a regular file of ours, at most SUBS_FILE_MAX) into
 * a new buffer. -errno, -EPROTO. */
static int subs_file_slurp(int fd, char **out, size_t *len)
{
    struct stat st;
    size_t got = 0;
    char *buf;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        st.st_size < (off_t)sizeof(struct subs_file_hdr) ||
        st.st_size > (off_t)SUBS_FILE_MAX)
        return -EPROTO;
    buf = malloc((size_t)st.st_size);
    if (buf == NULL)
        return -ENOMEM;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            return r < 0 ? -errno : -EPROTO;
        }
        got += (size_t)r;
    }
    *out = buf;
    *len = got;
    return 0;
}

/* Takes len bytes at *p (before end) into *s; false past end. */
static bool subs_file_take(const char **p, const char *end, size_t len,
                           const char **s)
{
    if ((size_t)(end - *p) < len)
        return false;
    *s = *p;
    *p += len;
    return true;
}

/* Reads the records of a checked buffer into out->subs. -EPROTO. */
static int subs_file_parse(struct subs_file_snap *out, size_t len)
{
    const struct subs_file_hdr *h = (const void *)out->buf;
    const char *p = out->buf + sizeof(*h), *end = out->buf + len, *r;
    size_t n = h->n;

    if (n > len / sizeof(struct subs_file_rec))
        return -EPROTO;
    out->subs = calloc(n ? n : 1, sizeof(out->subs[0]));
    if (out->subs == NULL)
        return -ENOMEM;
    for (out->n = 0; out->n < n; out->n++) {
        struct subscription *s = &out->subs[out->n];
        struct subs_file_rec rec;
        bool has = true;

        if (!subs_file_take(&p, end, sizeof(rec), &r))
            return -EPROTO;
        memcpy(&rec, r, sizeof(rec));
        *s = (struct subscription){ rec.dialect, rec.match, NULL,
                                    rec.sel_len, NULL, rec.sub_len, NULL,
                                    rec.payload_len };
        if (rec.payload_len == SUBS_FILE_NONE) {
            s->payload_len = 0;
            has = false;
        }
        if (rec.dialect > SUBSCRIPTION_V1 ||
            rec.match >= SUBSCRIPTION_NMATCH ||
            !subs_file_take(&p, end, rec.sel_len, &s->selector) ||
            !subs_file_take(&p, end, rec.sub_len, &s->subscriber) ||
            (has && !subs_file_take(&p, end, rec.payload_len, &s->payload)))
            return -EPROTO;
    }
    return p == end ? 0 : -EPROTO;
}

int subs_file_read(const char *qpath, int slot, pid_t pid,
                   uint64_t started_us, struct subs_file_snap *out)
{
    const struct subs_file_hdr *h;
    char path[512];
    size_t len = 0;
    int fd, rc;

    memset(out, 0, sizeof(*out));
    if ((rc = subs_file_path(path, sizeof(path), qpath, slot)) < 0)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    rc = subs_file_slurp(fd, &out->buf, &len);
    close(fd);
    if (rc < 0)
        return rc;
    h = (const void *)out->buf;
    if (memcmp(h->magic, SUBS_FILE_MAGIC, 8) != 0 ||
        h->body != len - sizeof(*h))
        rc = -EPROTO;
    else if (h->pid != (int32_t)pid || h->started_us != started_us)
        rc = -ENOENT;
    else
        rc = subs_file_parse(out, len);
    if (rc < 0)
        subs_file_snap_free(out);
    return rc;
}

void subs_file_snap_free(struct subs_file_snap *s)
{
    free(s->buf);
    free(s->subs);
    memset(s, 0, sizeof(*s));
}
