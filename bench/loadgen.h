/* loadgen.h -- the SSE fan-out load generator's parts: the subscriber
 * stream parser (loadgen_sse.c), the publisher child (loadgen_pub.c), the
 * latency histogram (loadgen_hist.c), server process sampling
 * (loadgen_proc.c) and URLs/clocks (loadgen_util.c). loadgen.c drives them.
 *
 * Key invariant: every message the publisher sends carries its sequence
 * number and its send time ("<seq> <mono_us>"), so a subscriber can tell a
 * loss, a duplicate, a reordering and a latency from its own bytes alone. */
#ifndef SSEQ_LOADGEN_H
#define SSEQ_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- clocks and URLs (loadgen_util.c) ---- */

/* CLOCK_MONOTONIC in microseconds (the same clock in every process). */
uint64_t lg_mono_us(void);

/* An http:// URL split into what a client needs. */
struct lg_url {
    char host[256];                     /* as written, for Host: */
    char port[8];                       /* decimal, "80" when absent */
    char path[2048];                    /* path and query, "/" at least */
};

/* Parses "http://host[:port][/path]"; 0 or -EINVAL. */
int lg_url_parse(const char *text, struct lg_url *u);

/* Copies tmpl to dst with every "{ch}" replaced by ch; 0 or -ENAMETOOLONG. */
int lg_subst(char *dst, size_t cap, const char *tmpl, const char *ch);

/* Resolves u into a sockaddr (first IPv4/IPv6 answer); 0 or -errno. */
int lg_url_addr(const struct lg_url *u, void *sa, unsigned *salen);

/* ---- the subscriber's stream parser (loadgen_sse.c) ---- */

enum lg_sse_phase {
    LG_SSE_HEAD,                        /* reading the response head */
    LG_SSE_BODY,                        /* streaming events */
    LG_SSE_END,                         /* last chunk or bad framing */
};

/* One subscriber's parser state: HTTP head, chunked framing, SSE lines.
 * Resumable at any byte: a read may end anywhere, even inside a CRLF. */
struct lg_sse {
    char *head;                         /* head bytes until it is complete */
    uint16_t head_len;                  /* bytes in head */
    uint16_t status;                    /* HTTP status, 0 until known */
    uint8_t phase;                      /* enum lg_sse_phase */
    uint8_t chunked;                    /* Transfer-Encoding: chunked */
    uint8_t ck_state;                   /* chunked framing state */
    uint8_t ln_state;                   /* SSE line state */
    uint8_t cr;                         /* last byte was CR (LF follows?) */
    uint8_t name_len;                   /* bytes of the field name */
    uint8_t data_len;                   /* bytes kept of the data field */
    uint8_t has_data;                   /* a data: line in this event */
    uint8_t other_event;                /* event: is set, not "message" */
    char name[8];                       /* field name being read */
    char data[40];                      /* start of the data field */
    uint32_t ck_left;                   /* bytes left in the chunk */
};

/* What the parser reports to its owner. */
struct lg_sse_sink {
    /* A complete event whose data is data[0..len) (the first bytes). */
    void (*event)(void *ctx, const char *data, size_t len);
    void *ctx;
    uint64_t comments;                  /* comment lines seen */
    uint64_t others;                    /* events of other types */
};

/* Resets p for a new response; allocates the head buffer. 0 or -ENOMEM. */
int lg_sse_init(struct lg_sse *p);

/* Frees what p holds (the head buffer while the head is incomplete). */
void lg_sse_free(struct lg_sse *p);

/* Feeds buf[0..len) to p, calling sink for each event. Returns 0, or
 * -EPROTO on a malformed head or chunk framing, -E2BIG on a head too
 * large; p->phase tells whether the head is complete or the body ended. */
int lg_sse_feed(struct lg_sse *p, const char *buf, size_t len,
                struct lg_sse_sink *sink);

/* ---- the publisher (loadgen_pub.c) ---- */

/* What the parent tells the publisher and what it answers, in a
 * MAP_SHARED mapping created before fork. */
struct lg_pub {
    struct lg_url url;                  /* the publish URL template */
    char url_tmpl[2048];                /* with {ch} */
    const char *token;                  /* Authorization: Bearer, or NULL */
    uint32_t messages;                  /* how many to send */
    uint32_t channels;                  /* message i goes to channel i % c */
    const char *ch_prefix;              /* channel names */
    double rate;                        /* per second; 0: back to back */
    uint32_t pad;                       /* extra data bytes per message */
    uint64_t deadline_us;               /* stop sending at this time */
    /* answers */
    uint64_t start_us, end_us;          /* first send, last answer */
    uint32_t sent, ok, errors;          /* requests, 2xx answers, others */
    uint32_t reconnects;                /* keep-alive connections opened */
    uint32_t refused;                   /* 503 + Retry-After, sent again */
    uint64_t refused_wait_us;           /* time waited as they said */
    uint16_t last_bad_status;           /* a non-2xx status, for the log */
    uint64_t post_us_max, post_us_sum;  /* request round trips */
    uint8_t status[];                   /* per message: 1 = accepted */
};

/* The publisher's body: sends the messages, fills the answers; returns
 * 0, or -errno when it could not reach the server at all. */
int lg_pub_run(struct lg_pub *p);

/* Channel name of channel index i into dst. */
void lg_channel_name(char *dst, size_t cap, const char *prefix,
                     uint32_t channels, uint32_t i);

/* ---- latency histogram (loadgen_hist.c) ---- */

#define LG_HIST_BUCKETS (1024 + 40 * 512)

/* Log-linear microsecond histogram: exact below 1024 us, then 512
 * sub-buckets per power of two (error < 0.2 %). */
struct lg_hist {
    uint64_t count;
    uint64_t max;
    uint64_t b[LG_HIST_BUCKETS];
};

void lg_hist_add(struct lg_hist *h, uint64_t us);

/* The value at quantile q (0..1), 0 when empty. */
uint64_t lg_hist_quantile(const struct lg_hist *h, double q);

/* ---- server processes (loadgen_proc.c) ---- */

#define LG_PROC_GROUPS 8
#define LG_PROC_PIDS 16

/* A named group of PIDs; each PID's descendants count too. */
struct lg_proc_group {
    char name[32];
    pid_t pid[LG_PROC_PIDS];
    unsigned npid;
};

/* CPU seconds (user + system) and resident KiB of a group and the
 * processes below it, summed. */
struct lg_proc_sample {
    double cpu_s;
    uint64_t rss_kib;
    unsigned procs;
};

/* Parses "name=pid,pid,..." into g; 0 or -EINVAL. */
int lg_proc_parse(const char *text, struct lg_proc_group *g);

/* Samples group g now (one /proc scan). */
void lg_proc_sample(const struct lg_proc_group *g, struct lg_proc_sample *s);

#endif
