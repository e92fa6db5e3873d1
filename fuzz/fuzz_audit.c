/*
 * fuzz_audit.c - the audit log's strict decoders, which `audit verify`
 * runs on whatever an attacker may have written into the store or an
 * export: audit_entry_decode, audit_checkpoint_from_json and
 * audit_frontier_decode.
 *
 * Invariants, for every input:
 *  - no crash, no leak, no read out of bounds;
 *  - an accepted entry re-encodes to exactly the input bytes (canonical:
 *    one byte string per entry, so no edit can keep a leaf hash);
 *  - an accepted checkpoint re-serialises to exactly the input;
 *  - an accepted frontier re-encodes to exactly the input.
 *
 * Corpus: fuzz/corpus/audit/.
 */
#include <string.h>

#include "fuzz.h"
#include "privacy/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    pool_t *pool = pool_new();
    CHECK(pool != NULL);
    err_t err;
    audit_entry e;
    int64_t seq;
    if (audit_entry_decode(text, size, pool, &e, &seq, &err) == ERR_OK) {
        buf_t b = BUF_INIT;
        CHECK(audit_entry_encode(&e, seq, &b, &err) == ERR_OK);
        CHECK(b.len == size && memcmp(b.data, data, size) == 0);
        buf_free(&b);
    }
    store_checkpoint cp;
    if (audit_checkpoint_from_json(text, size, &cp, &err) == ERR_OK) {
        buf_t b = BUF_INIT;
        audit_checkpoint_to_json(&cp, &b);
        CHECK(!buf_failed(&b) && b.len == size && memcmp(b.data, data, size) == 0);
        buf_free(&b);
    }
    audit_frontier f;
    if (audit_frontier_decode(data, size, &f, &err) == ERR_OK) {
        buf_t b = BUF_INIT;
        audit_frontier_encode(&f, &b);
        CHECK(!buf_failed(&b) && b.len == size && (size == 0 || memcmp(b.data, data, size) == 0));
        buf_free(&b);
    }
    pool_free(pool);
    return 0;
}
