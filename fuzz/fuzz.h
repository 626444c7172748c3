/* fuzz.h -- what the libFuzzer targets in fuzz/ share: an always-on
 * assertion that names the broken property, and the entry point's
 * prototype. Each fuzz_NAME.c defines LLVMFuzzerTestOneInput (and may
 * define LLVMFuzzerInitialize); see fuzz/fuzz.am. */
#ifndef SSEQ_FUZZ_H
#define SSEQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Aborts (a crash libFuzzer records with its input) when cond is false. */
#define FUZZ_ASSERT(cond, what)                                           \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: property broken: %s (%s)\n",          \
                    __FILE__, __LINE__, what, #cond);                     \
            abort();                                                      \
        }                                                                 \
    } while (0)

#endif
