/* fuzz_fcgi_conn.c -- libFuzzer target: the FastCGI request assembler
 * (src/proto/fcgi_conn.c) the runtime feeds every connection's bytes to. The
 * first byte seeds the chunk sizes. Properties: no crash or sanitizer
 * report; the events (and their order) are the same whether the bytes
 * come at once or in chunks; every event is a known one; a completed
 * request's body is within its limits. */
#include "ac_config.h"

#include <errno.h>
#include <string.h>

#include "proto/fcgi_conn.h"
#include "fuzz.h"

#define FUZZ_EVENTS 64

/* Feeds data in chunks of sizes drawn from seed (0: at once); records
 * up to FUZZ_EVENTS events in ev; returns their count. */
static int fuzz_feed(const uint8_t *data, size_t size, unsigned seed,
                     int *ev)
{
    static const struct fcgi_conn_limits lim = { 2048, 4096 };
    struct fcgi_conn c;
    size_t off = 0, used;
    int n = 0;

    fcgi_conn_init(&c, &lim);
    while (off < size && n < FUZZ_EVENTS) {
        size_t chunk = seed ? 1 + (seed + off) % 7 : size - off;
        size_t end = off + (chunk < size - off ? chunk : size - off);

        while (off < end && n < FUZZ_EVENTS) {
            int e = fcgi_conn_feed(&c, data + off, end - off, &used);

            FUZZ_ASSERT(used <= end - off, "used within what was fed");
            off += used;
            if (e == FCGI_CONN_MORE)
                continue;
            FUZZ_ASSERT(e == FCGI_CONN_PARAMS || e == FCGI_CONN_REQUEST ||
                        e == FCGI_CONN_ABORT || e == FCGI_CONN_REPLY ||
                        e == -EPROTO || e == -EMSGSIZE || e == -E2BIG,
                        "known event");
            ev[n++] = e;
            if (e == FCGI_CONN_PARAMS)
                c.body_keep = 100;
            if (e == FCGI_CONN_REQUEST) {
                FUZZ_ASSERT(c.body_len <= 100, "body kept within limit");
                FUZZ_ASSERT(c.body_seen <= lim.body_drain_max, "drain");
                fcgi_conn_next(&c);
            }
            if (e == FCGI_CONN_ABORT || e < 0)
                off = size;             /* the runtime closes then */
        }
    }
    fcgi_conn_free(&c);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int whole[FUZZ_EVENTS], part[FUZZ_EVENTS], n1, n2;

    if (size == 0)
        return 0;
    n1 = fuzz_feed(data + 1, size - 1, 0, whole);
    n2 = fuzz_feed(data + 1, size - 1, data[0] | 1u, part);
    if (n1 < FUZZ_EVENTS && n2 < FUZZ_EVENTS) {
        FUZZ_ASSERT(n1 == n2, "same event count at once and in chunks");
        FUZZ_ASSERT(memcmp(whole, part, (size_t)n1 * sizeof(int)) == 0,
                    "same events at once and in chunks");
    }
    return 0;
}
