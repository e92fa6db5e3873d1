/*
 * fuzz.h - what every harness shares: libFuzzer's entry point, and CHECK,
 * which aborts on a broken invariant so the fuzzer (or the replay in
 * `make test`) stops at the input that broke it.
 */
#ifndef CIVIC_FUZZ_H
#define CIVIC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#endif
