/* queue_follow.h -- the blocking reader of the queue that one-client
 * programs share (sseq tail, sseq-stream's CGI mode): read from a cursor,
 * hand each record, gap and idle moment to the caller, and sleep on the
 * queue's futex when there is nothing to read.
 *
 * The rule, once: the wake word is taken before each read, so an append
 * between an empty read and the wait is never slept through; a lapped
 * cursor is an overrun (the caller is told, the cursor is at the oldest);
 * a damaged record is skipped or ends the follow, as the caller says; a
 * damaged queue always ends it (its cursor would never move). */
#ifndef SSEQ_QUEUE_FOLLOW_H
#define SSEQ_QUEUE_FOLLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/queue.h"

struct queue_follow {
    struct queue *q;
    uint64_t cursor;            /* next id to read */
    char *buf; size_t cap;      /* one record's bytes */
    bool skip_bad;              /* QUEUE_BAD_RECORD: skip, else stop */
    const volatile sig_atomic_t *stop;  /* set by a signal handler */
    void *ctx;                  /* for the callbacks */
    /* A record was read: 0 goes on, anything else ends the follow
     * with that value. */
    int (*on_record)(void *ctx, const struct queue_record *rec);
    /* The cursor was lapped: requested is the id it was at, oldest the
     * id it moved to. 0 goes on, else ends. */
    int (*on_overrun)(void *ctx, uint64_t requested, uint64_t oldest);
    /* Nothing to read: 0 waits up to *wait_ms (preset to 1000, the
     * callee may lower it), else ends. */
    int (*on_idle)(void *ctx, int *wait_ms);
};

/* Follows f->q until *f->stop or a callback ends it. Returns 0 on stop,
 * a callback's value, QUEUE_DAMAGED, QUEUE_BAD_RECORD (when !skip_bad)
 * or another -errno of queue_read. */
int queue_follow_run(struct queue_follow *f);

#endif
