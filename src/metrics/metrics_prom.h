/* metrics_prom.h -- the queue's and its processes' counters in the
 * Prometheus text exposition format (version 0.0.4): what
 * `sseq stats --prometheus` prints for node_exporter's textfile collector,
 * and what an HTTP metrics endpoint can serve (open_memstream for a
 * buffer). Reads only the queue header and the process-slot table. */
#ifndef SSEQ_METRICS_PROM_H
#define SSEQ_METRICS_PROM_H

#include <stdio.h>

#include "queue/queue.h"

/* Channels listed by sseq_channel_streams. */
#define METRICS_PROM_TOP_CHANNELS 10

/* What a byte that is not part of valid UTF-8 becomes in a label value:
 * U+FFFD, so a scrape never fails on a name cut mid-character or a
 * selector in another encoding. */
#define METRICS_PROM_REPLACEMENT "\xef\xbf\xbd"

/* Writes s as a Prometheus label value: backslash, quote and newline
 * escaped, invalid UTF-8 bytes replaced by METRICS_PROM_REPLACEMENT. */
void metrics_prom_label(FILE *out, const char *s);

/* Writes every metric of queue q (named path in sseq_queue_info) to out.
 * Returns 0, or -EIO if writing failed, -ENOMEM. */
int metrics_prom_write(const struct queue *q, const char *path, FILE *out);

#endif
