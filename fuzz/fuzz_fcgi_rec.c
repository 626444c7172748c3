/* fuzz_fcgi_rec.c -- libFuzzer target: the resumable FastCGI input parser
 * (src/proto/fcgi_rec.c). The first byte seeds the chunk sizes. Properties: no
 * crash or sanitizer report; feeding the bytes in chunks gives the same
 * outcome as feeding them at once (the first result that is not
 * FCGI_REC_MORE, or MORE for all); outcomes are MORE, ABORT or -EPROTO. */
#include "ac_config.h"

#include <errno.h>
#include <string.h>

#include "proto/fcgi_rec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fcgi_rec_parser whole = { 0 }, part = { 0 };
    unsigned seed;
    size_t off = 1, n;
    int r1, r2 = FCGI_REC_MORE;
    uint8_t *copy;

    if (size == 0)
        return 0;
    seed = data[0];
    copy = malloc(size);
    FUZZ_ASSERT(copy != NULL, "malloc");
    memcpy(copy, data, size);
    r1 = fcgi_rec_parse(&whole, copy + 1, size - 1);
    FUZZ_ASSERT(r1 == FCGI_REC_MORE || r1 == FCGI_REC_ABORT ||
                r1 == -EPROTO, "known parse outcome");
    while (off < size && r2 == FCGI_REC_MORE) {
        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % 23;
        if (n > size - off)
            n = size - off;
        r2 = fcgi_rec_parse(&part, copy + off, n);
        off += n;
    }
    FUZZ_ASSERT(r1 == r2, "chunked parsing agrees with whole parsing");
    free(copy);
    return 0;
}
