/*
 * vault.c - where personal data enters the store: sealed under its
 * person's data key, indexed blind, and recorded in the audit log, all in
 * the caller's transaction (see vault.h).
 *
 * Data keys exist in the clear only on the stack of these functions and
 * of the gatekeeper, and are zeroed before they return.
 */
#include "privacy/vault.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/audit.h"
#include "util/buf.h"

/* The first version of every data key. Keys are never replaced in place
 * (rotation re-wraps them), so this stays 1 until a future re-keying. */
#define VAULT_KEY_VERSION 1

/* The id first (the wrapping's associated data names it), then the row
 * with its wrapped key in one insert. */
static err_code subject_create(store_t *s, const keyring_t *k, const char *kind, int64_t now,
                               int64_t *id_out, unsigned char key[SEAL_KEY_LEN], err_t *err)
{
    int kek_version = keyring_kek_current(k);
    const unsigned char *kek = keyring_kek_borrow(k, kek_version);
    if (kek == NULL)
        return err_set(err, ERR_INTERNAL, "the key file has no current key-encryption key");
    int64_t id;
    err_code rc = store_subject_reserve(s, &id, err);
    if (rc != ERR_OK)
        return rc;
    unsigned char wrapped[SEAL_WRAPPED_LEN];
    seal_new_key(key);
    seal_wrap_key(kek, id, VAULT_KEY_VERSION, kek_version, key, wrapped);
    store_subject sub = {
        .id = id,
        .kind = kind,
        .key_version = VAULT_KEY_VERSION,
        .kek_version = kek_version,
        .wrapped_key = wrapped,
        .wrapped_len = sizeof wrapped,
        .created_at = now,
    };
    rc = store_subject_insert(s, &sub, err);
    if (rc != ERR_OK) {
        sodium_memzero(key, SEAL_KEY_LEN);
        return rc;
    }
    *id_out = id;
    return ERR_OK;
}

err_code vault_subject_new(store_t *s, const keyring_t *k, const char *kind, int64_t now,
                           int64_t *id_out, err_t *err)
{
    unsigned char key[SEAL_KEY_LEN];
    err_code rc = subject_create(s, k, kind, now, id_out, key, err);
    sodium_memzero(key, sizeof key);
    return rc;
}

err_code vault_subject_key(store_t *s, const keyring_t *k, int64_t subject_id,
                           unsigned char key[SEAL_KEY_LEN], int *key_version, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_subject sub;
    err_code rc = store_subject_get(s, subject_id, pool, &sub, err);
    if (rc == ERR_OK && (sub.erased_at != 0 || sub.wrapped_key == NULL))
        rc = err_set(err, ERR_CONFLICT, "the personal data of person s:%lld was erased",
                     (long long)subject_id);
    const unsigned char *kek = NULL;
    if (rc == ERR_OK && (kek = keyring_kek_borrow(k, sub.kek_version)) == NULL)
        rc = err_set(err, ERR_INTERNAL,
                     "the data key of person s:%lld is wrapped under key-encryption key "
                     "version %d, which the key file does not hold (destroyed by a rotation, "
                     "or the wrong key file)",
                     (long long)subject_id, sub.kek_version);
    if (rc == ERR_OK && !seal_unwrap_key(kek, subject_id, sub.key_version, sub.kek_version,
                                         sub.wrapped_key, sub.wrapped_len, key))
        rc = err_set(err, ERR_INTERNAL,
                     "the data key of person s:%lld does not open: its row was altered or "
                     "moved",
                     (long long)subject_id);
    if (rc == ERR_OK)
        *key_version = sub.key_version;
    pool_free(pool);
    return rc;
}

/* Seals the fields of class dc the reporter gave (if any) as one record,
 * stored as one personal_field row, and adds their names to names. */
static err_code put_record(store_t *s, const unsigned char key[SEAL_KEY_LEN], int key_version,
                           const service_request *sr, data_class dc, int64_t subject_id,
                           int64_t now, buf_t *names, err_t *err)
{
    seal_pair pairs[SEAL_RECORD_MAX_PAIRS];
    size_t n = 0;
    bool too_many = false;
    buf_t fields = BUF_INIT;
    for (size_t i = 0; i < SR_PERSONAL_FIELD_COUNT && !too_many; i++) {
        const sr_personal_field *f = &SR_PERSONAL_FIELDS[i];
        const char *v = f->dclass == dc ? sr_reporter_get(&sr->reporter, f) : NULL;
        if (v == NULL)
            continue;
        if (n == SEAL_RECORD_MAX_PAIRS) {
            too_many = true;
            break;
        }
        pairs[n++] = (seal_pair){f->name, v};
        if (fields.len > 0)
            buf_putc(&fields, ',');
        buf_puts(&fields, f->name);
    }
    if (n == 0)
        return ERR_OK; /* nothing written to fields either */
    err_code rc = ERR_OK;
    size_t len = too_many ? 0 : seal_record_size(pairs, n);
    unsigned char *plain = NULL, *sealed = NULL;
    if (buf_failed(&fields))
        rc = err_set(err, ERR_NOMEM, "out of memory");
    else if (len == 0) /* names are constants, values C strings, classes small: a bug */
        rc = err_set(err, ERR_INTERNAL, "the %s fields do not make a record",
                     sr_data_class_name(dc));
    else if (len > SIZE_MAX - SEAL_OVERHEAD || (plain = malloc(len)) == NULL ||
             (sealed = malloc(len + SEAL_OVERHEAD)) == NULL)
        rc = err_set(err, ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        char ad[SEAL_AD_MAX];
        seal_ad_field(ad, sr->row_id, sr_data_class_name(dc), subject_id, key_version);
        seal_record_encode(pairs, n, plain);
        seal_encrypt(key, ad, plain, len, sealed);
        store_personal p = {
            .request_id = sr->row_id,
            .dclass = dc,
            .subject_id = subject_id,
            .key_version = key_version,
            .fields = fields.data,
            .sealed = sealed,
            .sealed_len = len + SEAL_OVERHEAD,
            .collected_at = now,
        };
        rc = store_personal_insert(s, &p, err);
    }
    if (rc == ERR_OK) {
        if (names->len > 0)
            buf_putc(names, ',');
        buf_puts(names, fields.data);
    }
    /* The record is the values in the clear. */
    if (plain != NULL)
        sodium_memzero(plain, len);
    free(plain);
    free(sealed);
    buf_free(&fields);
    return rc;
}

/* Adds the blind index of one contact value, if it normalises: a value we
 * cannot normalise is stored all the same, it just cannot be looked up. */
static err_code put_blind(store_t *s, const keyring_t *k, const char *kind, const char *value,
                          int64_t request_id, int64_t subject_id, err_t *err)
{
    char norm[320];
    bool ok = strcmp(kind, "email") == 0 ? seal_normalize_email(value, norm, sizeof norm)
                                         : seal_normalize_phone(value, norm, sizeof norm);
    if (!ok)
        return ERR_OK;
    unsigned char digest[SEAL_DIGEST_LEN];
    seal_blind_digest(keyring_blind_key_borrow(k), kind, norm, digest);
    sodium_memzero(norm, sizeof norm);
    return store_blind_insert(s, kind, digest, request_id, subject_id, err);
}

err_code vault_collect_reporter(store_t *s, const keyring_t *k, const service_request *sr,
                                const char *actor, int64_t subject_id, int64_t now,
                                int64_t *subject_out, err_t *err)
{
    if (subject_out != NULL)
        *subject_out = 0;
    bool any = false;
    for (size_t i = 0; i < SR_PERSONAL_FIELD_COUNT; i++)
        if (sr_reporter_get(&sr->reporter, &SR_PERSONAL_FIELDS[i]) != NULL)
            any = true;
    if (!any)
        return ERR_OK;
    if (sr->row_id <= 0)
        return err_set(err, ERR_INTERNAL, "personal data for a request not yet stored");

    unsigned char key[SEAL_KEY_LEN];
    int key_version = VAULT_KEY_VERSION;
    err_code rc = subject_id != 0
                      ? vault_subject_key(s, k, subject_id, key, &key_version, err)
                      : subject_create(s, k, "reporter", now, &subject_id, key, err);
    if (rc != ERR_OK)
        return rc;

    /* One sealed record per class of fields, in class order, so the
     * COLLECT entry names the fields in SR_PERSONAL_FIELDS order. */
    buf_t fields = BUF_INIT;
    static const data_class FIELD_CLASSES[] = {DC_CONTACT, DC_DEVICE, DC_ACCOUNT};
    for (size_t i = 0; i < sizeof FIELD_CLASSES / sizeof FIELD_CLASSES[0] && rc == ERR_OK; i++)
        rc = put_record(s, key, key_version, sr, FIELD_CLASSES[i], subject_id, now, &fields, err);
    sodium_memzero(key, sizeof key);
    if (rc == ERR_OK && sr->reporter.email != NULL)
        rc = put_blind(s, k, "email", sr->reporter.email, sr->row_id, subject_id, err);
    if (rc == ERR_OK && sr->reporter.phone != NULL)
        rc = put_blind(s, k, "phone", sr->reporter.phone, sr->row_id, subject_id, err);
    if (rc == ERR_OK && buf_failed(&fields))
        rc = err_set(err, ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        audit_entry e = audit_entry_init(now, AUDIT_COLLECT, actor);
        e.purpose = "address_request";
        e.subject_id = subject_id;
        e.request_id = sr->row_id;
        e.fields = fields.data;
        rc = audit_append(s, &e, NULL, err);
    }
    buf_free(&fields);
    if (rc == ERR_OK && subject_out != NULL)
        *subject_out = subject_id;
    return rc;
}

err_code vault_put_blob(store_t *s, const keyring_t *k, int64_t subject_id, int64_t request_id,
                        data_class dc, const char *content_type, const void *data, size_t len,
                        const char *actor, int64_t now, int64_t *blob_id, err_t *err)
{
    if (dc != DC_MEDIA && dc != DC_RECORDING)
        return err_set(err, ERR_INTERNAL, "files are media or recordings");
    if (len > SIZE_MAX - SEAL_OVERHEAD)
        return err_set(err, ERR_TOO_LARGE, "the file is too large");
    unsigned char key[SEAL_KEY_LEN];
    int key_version;
    err_code rc = vault_subject_key(s, k, subject_id, key, &key_version, err);
    if (rc != ERR_OK)
        return rc;
    store_blob b = {
        .request_id = request_id,
        .subject_id = subject_id,
        .dclass = dc,
        .content_type = content_type,
        .key_version = key_version,
        .size = (int64_t)len,
        .created_at = now,
    };
    unsigned char *sealed = NULL;
    rc = store_blob_insert(s, &b, err);
    if (rc == ERR_OK && (sealed = malloc(len + SEAL_OVERHEAD)) == NULL)
        rc = err_set(err, ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        char ad[SEAL_AD_MAX];
        seal_ad_blob(ad, b.id, subject_id, key_version);
        seal_encrypt(key, ad, data, len, sealed);
        rc = store_blob_set_sealed(s, b.id, sealed, len + SEAL_OVERHEAD, err);
    }
    sodium_memzero(key, sizeof key);
    free(sealed);
    if (rc == ERR_OK) {
        audit_entry e = audit_entry_init(now, AUDIT_COLLECT, actor);
        e.purpose = "address_request";
        e.subject_id = subject_id;
        e.request_id = request_id;
        e.fields = sr_data_class_name(dc);
        e.count = 1;
        rc = audit_append(s, &e, NULL, err);
    }
    if (rc == ERR_OK)
        *blob_id = b.id;
    return rc;
}

/* ---- key rotation ---- */

/* Re-wraps one page of subjects not yet under kek `to`. Sets *last to the
 * last id seen and *seen to how many were listed. */
static err_code rewrap_page(store_t *s, const keyring_t *k, int to, int64_t after, size_t batch,
                            int64_t *last, size_t *seen, int64_t *rewrapped, err_t *err)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    store_subject *subs;
    size_t n = 0;
    err_code rc = store_subject_list_keyed(s, after, batch, pool, &subs, &n, err);
    const unsigned char *new_kek = keyring_kek_borrow(k, to);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        const store_subject *sub = &subs[i];
        *last = sub->id;
        if (sub->kek_version == to)
            continue;
        const unsigned char *old_kek = keyring_kek_borrow(k, sub->kek_version);
        unsigned char key[SEAL_KEY_LEN], wrapped[SEAL_WRAPPED_LEN];
        if (old_kek == NULL) {
            rc = err_set(err, ERR_INTERNAL,
                         "person s:%lld has a data key under key-encryption key version %d, "
                         "which the key file does not hold: rotation stopped, nothing lost",
                         (long long)sub->id, sub->kek_version);
            break;
        }
        if (!seal_unwrap_key(old_kek, sub->id, sub->key_version, sub->kek_version,
                             sub->wrapped_key, sub->wrapped_len, key)) {
            rc = err_set(err, ERR_INTERNAL,
                         "the data key of person s:%lld does not open: rotation stopped",
                         (long long)sub->id);
            break;
        }
        seal_wrap_key(new_kek, sub->id, sub->key_version, to, key, wrapped);
        sodium_memzero(key, sizeof key);
        rc = store_subject_set_key(s, sub->id, sub->key_version, to, wrapped, sizeof wrapped,
                                   err);
        if (rc == ERR_OK)
            (*rewrapped)++;
    }
    *seen = n;
    pool_free(pool);
    return rc;
}

err_code vault_rotate(store_t *s, keyring_t *k, const char *actor, int64_t now, size_t batch,
                      int64_t *rewrapped, err_t *err)
{
    int versions[KEYRING_MAX_KEKS];
    size_t nver = keyring_kek_versions(k, versions, KEYRING_MAX_KEKS);
    int from = versions[0], to;
    err_code rc;
    /* A key file holding several KEKs is a rotation that stopped half-way:
     * its newest KEK is already on disk, so finish towards it. */
    if (nver > 1)
        to = keyring_kek_current(k);
    else if ((rc = keyring_add_kek(k, &to, err)) != ERR_OK)
        return rc;
    if (batch == 0)
        batch = 1000;

    int64_t done = 0, after = 0;
    for (;;) {
        size_t seen = 0;
        if ((rc = store_begin(s, err)) != ERR_OK)
            return rc;
        rc = rewrap_page(s, k, to, after, batch, &after, &seen, &done, err);
        if (rc == ERR_OK)
            rc = store_commit(s, err);
        if (rc != ERR_OK) {
            store_rollback(s);
            return rc;
        }
        if (seen < batch)
            break;
    }

    char reason[64];
    snprintf(reason, sizeof reason, "key-encryption key version %d to %d", from, to);
    audit_entry e = audit_entry_init(now, AUDIT_ROTATE, actor);
    e.reason = reason;
    e.count = done;
    if ((rc = store_begin(s, err)) != ERR_OK)
        return rc;
    rc = audit_append(s, &e, NULL, err);
    rc = audit_commit(s, k, now, rc, err);
    if (rc != ERR_OK)
        return rc;
    /* Old wrappings must be gone from the WAL before the old KEK goes:
     * secure_delete zeroed the old cells, the checkpoint moves the pages
     * home and truncates the log. */
    if ((rc = store_compact(s, err)) != ERR_OK)
        return rc;
    for (size_t i = 0; i < nver; i++) {
        int64_t left;
        if (versions[i] == to)
            continue;
        if ((rc = store_subject_count_kek(s, versions[i], &left, err)) != ERR_OK)
            return rc;
        if (left != 0)
            return err_set(err, ERR_INTERNAL,
                           "%lld data keys are still under key-encryption key version %d: "
                           "the old key was kept",
                           (long long)left, versions[i]);
    }
    if ((rc = keyring_drop_old_keks(k, err)) != ERR_OK)
        return rc;
    if (rewrapped != NULL)
        *rewrapped = done;
    return ERR_OK;
}
