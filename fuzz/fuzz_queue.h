/* fuzz_queue.h -- the damaged-image harness the two queue targets share.
 *
 * At start a 32 KiB file-backed queue in /dev/shm (or $TMPDIR) is filled
 * with records of every shape (alternate topics, publisher ids, retry,
 * private, sizes that wrap the ring) and its bytes are kept as the
 * pristine image. For each input the file is reset to that image through
 * the harness's own mapping, then the input, read as a program of
 * 11-byte steps {kind, where (u16), value (u64)}, damages it:
 *   kind % 6 == 0  a header field := value
 *   kind % 6 == 1  a header field += a small signed delta
 *   kind % 6 == 2  an index entry := value
 *   kind % 6 == 3  an index entry += a small signed delta
 *   kind % 6 == 4  a u64 of the ring := value (record headers)
 *   kind % 6 == 5  a byte of the ring := value
 * The writers' lock (a pthread mutex) is never damaged: a garbage lock
 * word is the one damage only the 5 s lock timeout catches. What follows
 * the steps (after a 0xFF kind) is left to the target. */
#ifndef SSEQ_FUZZ_QUEUE_H
#define SSEQ_FUZZ_QUEUE_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "queue/queue.h"

#define FQ_SIZE   32768u
#define FQ_STEP   11u

/* Header fields the steps may damage (offsets in the layout version 2
 * header; queue.c pins them with _Static_assert). */
static const uint16_t fq_fields[] = {
    16,     /* file_size */
    24,     /* index_off */
    32,     /* index_slots */
    40,     /* ring_off */
    48,     /* ring_size */
    56,     /* created_us */
    64,     /* max_age, max_payload */
    192,    /* head */
    200,    /* tail */
    208,    /* next_id */
    216,    /* oldest_id */
    224,    /* appends */
    256,    /* wake, waiters */
};
#define FQ_NFIELDS (sizeof(fq_fields) / sizeof(fq_fields[0]))

static char fq_path[128];
static unsigned char *fq_img;           /* the harness's own mapping */
static unsigned char fq_pristine[FQ_SIZE];
static uint64_t fq_index_off, fq_slots, fq_ring_off, fq_ring_size;

/* Appends record k of the seed history. */
static void fq_seed_one(struct queue *q, unsigned k)
{
    static const char *const alts[] = { "urn:a", "https://x/{id}", "b" };
    static const size_t alt_lens[] = { 5, 14, 1 };
    static char data[1500];
    char pub[32];
    struct queue_msg m = {
        .channel = k % 5 ? "c" : "https://example.com/books/1",
        .channel_len = k % 5 ? 1 : 27,
        .event = k % 3 ? NULL : "upd", .event_len = k % 3 ? 0 : 3,
        .data = data, .data_len = (k * 97) % sizeof(data),
        .alt = alts, .alt_len = alt_lens, .n_alt = k % 4,
        .retry_ms = k % 7 ? 0 : 1000 + k, .flags = k % 2,
    };
    uint64_t id;

    memset(data, 'a' + (int)(k % 26), sizeof(data));
    if (k % 3 == 1) {
        m.pub_id = pub;
        m.pub_id_len = (size_t)snprintf(pub, sizeof(pub), "pub-%u", k % 40);
    }
    FUZZ_ASSERT(queue_append(q, &m, &id) == 0, "seed append");
}

/* Creates the seeded queue and maps it; aborts on failure. */
static void fq_init(const char *role)
{
    struct queue_params p = { .size = FQ_SIZE, .mode = 0600 };
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    struct queue *q;
    unsigned k;
    int fd;

    snprintf(fq_path, sizeof(fq_path), "%s/sseq-fuzz-%d-%s", dir,
             (int)getpid(), role);
    FUZZ_ASSERT(queue_create(fq_path, &p, 1, &q) == 0, queue_error());
    for (k = 0; k < 300; k++)
        fq_seed_one(q, k);
    queue_close(q);
    fd = open(fq_path, O_RDWR);
    FUZZ_ASSERT(fd >= 0, "open the image");
    fq_img = mmap(NULL, FQ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    FUZZ_ASSERT(fq_img != MAP_FAILED, "map the image");
    close(fd);
    memcpy(fq_pristine, fq_img, FQ_SIZE);
    memcpy(&fq_index_off, fq_img + 24, 8);
    memcpy(&fq_slots, fq_img + 32, 8);
    memcpy(&fq_ring_off, fq_img + 40, 8);
    memcpy(&fq_ring_size, fq_img + 48, 8);
}

/* Removes the file at exit. */
static void fq_fini(void)
{
    unlink(fq_path);
}

static uint64_t fq_get(size_t at)
{
    uint64_t v;

    memcpy(&v, fq_img + at, 8);
    return v;
}

static void fq_put(size_t at, uint64_t v)
{
    memcpy(fq_img + at, &v, 8);
}

/* Applies one step. */
static void fq_step(const uint8_t *s)
{
    uint16_t where = (uint16_t)(s[1] | s[2] << 8);
    uint64_t value, at;
    int64_t delta;

    memcpy(&value, s + 3, 8);
    delta = (int64_t)(value % 257) - 128;
    switch (s[0] % 6) {
    case 0:
    case 1:
        at = fq_fields[where % FQ_NFIELDS];
        break;
    case 2:
    case 3:
        at = fq_index_off + (where % fq_slots) * 8;
        break;
    case 4:
        at = fq_ring_off + ((uint64_t)where * 8) % fq_ring_size;
        break;
    default:
        fq_img[fq_ring_off + where % fq_ring_size] = (uint8_t)value;
        return;
    }
    fq_put(at, s[0] % 2 ? fq_get(at) + (uint64_t)delta : value);
}

/* Resets the image and applies the steps of data; returns the offset of
 * what follows them. */
static size_t fq_damage(const uint8_t *data, size_t size)
{
    size_t off = 0;

    memcpy(fq_img, fq_pristine, FQ_SIZE);
    while (off + FQ_STEP <= size && data[off] != 0xFF) {
        fq_step(data + off);
        off += FQ_STEP;
    }
    return off < size ? off + 1 : off;
}

/* Checks the error text of a failed call. */
static void fq_check_error(int rc)
{
    if (rc == QUEUE_DAMAGED || rc == QUEUE_BAD_RECORD)
        FUZZ_ASSERT(strstr(queue_error(), " is damaged: ") != NULL &&
                    strstr(queue_error(), fq_path) != NULL,
                    "damage is reported naming the file");
}

volatile unsigned fq_sink;             /* keeps fq_touch's reads */

/* Touches every byte of a read record and walks its topics. */
static void fq_touch(const struct queue_record *r)
{
    const char *t;
    size_t pos = 0, len, i, n = 0;
    unsigned sum = 0;

    for (i = 0; i < r->channel_len; i++)
        sum += (unsigned char)r->channel[i];
    for (i = 0; i < r->event_len; i++)
        sum += (unsigned char)r->event[i];
    for (i = 0; i < r->data_len; i++)
        sum += (unsigned char)r->data[i];
    for (i = 0; i < r->pub_id_len; i++)
        sum += (unsigned char)r->pub_id[i];
    while (queue_record_next_topic(r, &pos, &t, &len)) {
        FUZZ_ASSERT(++n <= QUEUE_TOPICS_MAX + 1, "at most 33 topics");
        FUZZ_ASSERT(len >= 1 && len <= QUEUE_TOPIC_MAX, "topic length");
        sum += (unsigned char)t[0] + (unsigned char)t[len - 1];
    }
    FUZZ_ASSERT(n == r->n_alt + 1, "the iterator gives every topic");
    fq_sink = sum;
}

/* Reads the whole queue as a stream would, then as tail --backlog does,
 * then looks up publisher ids: every loop must end within the bounds the
 * layout allows. */
static void fq_read_all(struct queue *q)
{
    static char buf[FQ_SIZE];
    struct queue_record r;
    struct queue_stats st;
    uint64_t oldest, next, cur, id, steps = 0;
    int rc;

    queue_get_stats(q, &st);
    queue_bounds(q, &oldest, &next);
    FUZZ_ASSERT(queue_max_payload(q) + 64 <= sizeof(buf), "buffer size");
    cur = oldest;
    while ((rc = queue_read(q, &cur, &r, buf, queue_max_payload(q) + 64))
           != QUEUE_EMPTY) {
        FUZZ_ASSERT(++steps <= st.index_slots + 2, "reads end (no spin)");
        fq_check_error(rc);
        FUZZ_ASSERT(rc == 0 || rc == QUEUE_OVERRUN || rc == QUEUE_DAMAGED
                    || rc == QUEUE_BAD_RECORD, "known read outcome");
        if (rc == QUEUE_DAMAGED)
            break;
        if (rc == 0)
            fq_touch(&r);
    }
    for (id = next; id > oldest && next - id <= st.index_slots; id--) {
        cur = id - 1;
        rc = queue_read(q, &cur, &r, buf, queue_max_payload(q) + 64);
        fq_check_error(rc);
        if (rc == QUEUE_DAMAGED)
            break;
    }
    rc = queue_find_pub_id(q, "pub-7", 5, &id);
    fq_check_error(rc);
    FUZZ_ASSERT(rc == 0 || rc == -ENOENT || rc == QUEUE_DAMAGED,
                "known find outcome");
}

#endif
