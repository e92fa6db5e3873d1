/*
 * vault.h - the write side of the privacy engine: every personal value and
 * file enters the store here, sealed under its person's own data key.
 *
 * A subject is one person whose data we hold: the anonymous reporter of one
 * request, an account, a recorded caller. Each has a random data key,
 * wrapped by the key file's current key-encryption key and stored beside
 * the subject row; the key-encryption key never enters the database.
 * Erasing a subject's wrapped key (retention.h) makes everything sealed
 * under it unreadable at once (crypto-shredding).
 *
 * Every function works in the caller's transaction and writes the audit
 * entry for what it collects in that same transaction.
 */
#ifndef CIVIC_VAULT_H
#define CIVIC_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/request.h"
#include "privacy/keyring.h"
#include "privacy/seal.h"
#include "store/store.h"
#include "util/err.h"

/* A new subject of this kind ("reporter", "account", "caller") with a
 * fresh data key wrapped under the current KEK. */
err_code vault_subject_new(store_t *s, const keyring_t *k, const char *kind, int64_t now,
                           int64_t *id_out, err_t *err);

/* Unwraps a subject's data key. ERR_NOT_FOUND: no such subject;
 * ERR_CONFLICT: erased (shredded); ERR_INTERNAL: the key will not open
 * (its KEK is gone from the key file, or the row was altered): the message
 * says which, never any key material. key is the caller's to zero
 * (sodium_memzero) when done. */
err_code vault_subject_key(store_t *s, const keyring_t *k, int64_t subject_id,
                           unsigned char key[SEAL_KEY_LEN], int *key_version, err_t *err);

/*
 * Seals and stores the reporter's fields of a request already inserted
 * (sr->row_id set, even while a batch request is pending): the given
 * fields of SR_PERSONAL_FIELDS become one sealed record per data class
 * (contact, device, account), email and phone also get a blind index,
 * and one COLLECT entry (actor, purpose "address_request", the field
 * names) goes to the audit log. Under subject_id when non-zero (an account's requests), else under
 * a new "reporter" subject. *subject_out (may be NULL) gets the subject, or
 * 0 when the reporter gave no personal field: then nothing is written.
 */
err_code vault_collect_reporter(store_t *s, const keyring_t *k, const service_request *sr,
                                const char *actor, int64_t subject_id, int64_t now,
                                int64_t *subject_out, err_t *err);

/* Stores a file (a photo: DC_MEDIA; a call recording: DC_RECORDING) sealed
 * under the subject's key, tied to a request (0 = none yet). One COLLECT
 * entry. Sets *blob_id. */
err_code vault_put_blob(store_t *s, const keyring_t *k, int64_t subject_id, int64_t request_id,
                        data_class dc, const char *content_type, const void *data, size_t len,
                        const char *actor, int64_t now, int64_t *blob_id, err_t *err);

/*
 * Key rotation (`civic311 keys rotate`), resumable after a crash at any
 * point: adds a new KEK to the key file, re-wraps every subject's data key
 * under it in transactions of `batch` subjects, records one ROTATE audit
 * entry with a checkpoint, compacts the store so no page with an old
 * wrapping lingers in the WAL, and only then drops the old KEKs from the
 * key file. Runs its own transactions: call it outside one. *rewrapped
 * (may be NULL) counts the keys re-wrapped.
 */
err_code vault_rotate(store_t *s, keyring_t *k, const char *actor, int64_t now, size_t batch,
                      int64_t *rewrapped, err_t *err);

#endif
