/*
 * fuzz_record.c - seal_record_decode, the decoder of what a sealed
 * personal record holds once opened (the name/value pairs of one data
 * class of a request, seal.h).
 *
 * The input is the plaintext given to the decoder. Whenever it is
 * accepted:
 *  - there are 1..SEAL_RECORD_MAX_PAIRS pairs, every name and value lies
 *    inside the input and ends with its 0 byte there;
 *  - no name repeats, and each is 1..SEAL_RECORD_NAME_MAX of [a-z0-9_];
 *  - seal_record_size of the pairs is the input's length, and encoding
 *    them again gives the input byte for byte: a record has one encoding,
 *    so no two different plaintexts decode to the same pairs.
 * Whatever the input, a decoder given fewer slots than pairs refuses it.
 *
 * Corpus: fuzz/corpus/record/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "privacy/seal.h"

static bool inside(const char *p, const uint8_t *data, size_t size)
{
    return (const uint8_t *)p >= data && (const uint8_t *)p < data + size &&
           memchr(p, 0, size - (size_t)((const uint8_t *)p - data)) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seal_pair pairs[SEAL_RECORD_MAX_PAIRS];
    size_t n = 99;
    if (!seal_record_decode(data, size, pairs, SEAL_RECORD_MAX_PAIRS, &n)) {
        CHECK(n == 0);
        return 0;
    }
    CHECK(n >= 1 && n <= SEAL_RECORD_MAX_PAIRS);
    for (size_t i = 0; i < n; i++) {
        CHECK(inside(pairs[i].name, data, size) && inside(pairs[i].value, data, size));
        size_t nl = strlen(pairs[i].name);
        CHECK(nl >= 1 && nl <= SEAL_RECORD_NAME_MAX);
        for (size_t k = 0; k < nl; k++) {
            char c = pairs[i].name[k];
            CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
        }
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(pairs[i].name, pairs[j].name) != 0);
    }
    size_t len = seal_record_size(pairs, n);
    CHECK(len == size);
    unsigned char *again = malloc(len);
    if (again == NULL)
        abort();
    seal_record_encode(pairs, n, again);
    CHECK(memcmp(again, data, size) == 0);
    free(again);
    seal_pair fewer[SEAL_RECORD_MAX_PAIRS];
    size_t m = 99;
    CHECK(!seal_record_decode(data, size, fewer, n - 1, &m) && m == 0);
    return 0;
}
