/*
 * web_photo.c - a photo on the report form (P11): cleaned, sealed, and
 * shown back only to the browser session that sent it.
 *
 * The report form is filled in over several pages (form, review, perhaps
 * the form again), and a photo is too big to travel in every page the way
 * the typed text does. So the first page that carries it cleans it
 * (media/photo.h: checked by content, re-encoded, no metadata left) and
 * stores it at once, sealed under a new privacy subject by the vault and
 * tied to no request yet; the pages after that carry only a token naming
 * it. "Send" ties it to the new request in the same transaction that
 * files it (web_report.c); a report never sent leaves a file that
 * retention erases a day later (retention.h, unsent_file).
 *
 * The token is "<blob>-<subject>-<mac>", the mac a keyed BLAKE2b of the
 * session id and both numbers under a key derived from the key file: only
 * the session that uploaded the photo can attach it or see it, any node
 * can check it, and nothing is stored for it. The numbers are not
 * personal data; the photo is, so it is only ever read back through the
 * gatekeeper, as its own subject's data (an audited read), and sent with
 * Cache-Control: private, no-store.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/photo.h"
#include "privacy/gate.h"
#include "privacy/vault.h"
#include "util/log.h"
#include "web/web_int.h"

#define PHOTO_MAC_LEN 16 /* bytes: a forgery needs 2^128 guesses */
#define PHOTO_WAIT_SECONDS 20

/* The mac of (session, blob, subject). */
static void photo_mac(const web_ctx *c, const web_photo *p, unsigned char mac[PHOTO_MAC_LEN])
{
    char ids[48];
    int n = snprintf(ids, sizeof ids, "|%lld|%lld", (long long)p->blob, (long long)p->subject);
    crypto_generichash_state st;
    crypto_generichash_init(&st, c->app->photo_key, sizeof c->app->photo_key, PHOTO_MAC_LEN);
    crypto_generichash_update(&st, (const unsigned char *)c->sid, strlen(c->sid));
    crypto_generichash_update(&st, (const unsigned char *)ids, (size_t)n);
    crypto_generichash_final(&st, mac, PHOTO_MAC_LEN);
}

void web_photo_token(const web_ctx *c, const web_photo *p, char out[WEB_PHOTO_TOKEN_MAX])
{
    unsigned char mac[PHOTO_MAC_LEN];
    char hex[2 * PHOTO_MAC_LEN + 1];
    photo_mac(c, p, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, WEB_PHOTO_TOKEN_MAX, "%lld-%lld-%s", (long long)p->blob, (long long)p->subject,
             hex);
}

/* A positive decimal id without sign, spaces or leading zeros, up to end. */
static bool parse_id(const char *s, const char *end, int64_t *out)
{
    if (s >= end || end - s > 18 || *s == '0')
        return false;
    int64_t v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

bool web_photo_parse(const web_ctx *c, const char *token, web_photo *p)
{
    if (token == NULL || c->sid[0] == '\0' || strlen(token) >= WEB_PHOTO_TOKEN_MAX)
        return false;
    const char *d1 = strchr(token, '-');
    const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    web_photo q;
    unsigned char want[PHOTO_MAC_LEN], got[PHOTO_MAC_LEN];
    size_t got_len = 0;
    const char *hex_end = NULL;
    if (d2 == NULL || !parse_id(token, d1, &q.blob) || !parse_id(d1 + 1, d2, &q.subject) ||
        strlen(d2 + 1) != 2 * PHOTO_MAC_LEN ||
        sodium_hex2bin(got, sizeof got, d2 + 1, 2 * PHOTO_MAC_LEN, NULL, &got_len, &hex_end) != 0 ||
        got_len != PHOTO_MAC_LEN || *hex_end != '\0')
        return false;
    photo_mac(c, &q, want);
    if (sodium_memcmp(want, got, PHOTO_MAC_LEN) != 0)
        return false;
    *p = q;
    return true;
}

/* ---- cleaning, on threads of their own ---- */

/*
 * Decoding a photo takes 0.1-0.3 s for a phone's JPEG and seconds for a
 * 40-megapixel WebP: on an HTTP worker that would stall every other
 * connection the worker serves. So the HTTP thread defers the request and
 * queues it here; a photo thread cleans the photo, stores it through the
 * writer, and calls the job's done() on that thread, which answers (as the
 * writer's done() does for filing). At most photo_slots photos are
 * decoded at once (each can take hundreds of MB), and at most
 * PHOTO_QUEUE_MAX wait: beyond that the upload is refused at once, busy.
 */
#define PHOTO_QUEUE_MAX 64

struct web_photo_job {
    struct web_photo_job *next;
    web_ctx *c;
    const unsigned char *data; /* the upload, in the request's body */
    size_t len;
    web_photo_done_fn done;
    void *arg;
};

typedef struct {
    web_ctx *c;
    const unsigned char *data;
    size_t len;
    const char *type;
    web_photo photo;
} photo_store_job;

/* On the writer thread: the file sealed under its own subject (or the
 * signed-in resident's), one COLLECT entry, no request yet. */
static err_code photo_store_apply(store_t *s, void *arg, err_t *err)
{
    photo_store_job *job = arg;
    web_ctx *c = job->c;
    int64_t now = c->app->now();
    job->photo.subject = c->account_subject;
    err_code rc = ERR_OK;
    if (job->photo.subject == 0)
        rc = vault_subject_new(s, c->app->keys, "reporter", now, &job->photo.subject, err);
    if (rc == ERR_OK)
        rc = vault_put_blob(s, c->app->keys, job->photo.subject, 0, DC_MEDIA, job->type, job->data,
                            job->len, "web", now, &job->photo.blob, err);
    return rc;
}

/* What a refusal by photo_clean means for the resident. Its messages are
 * fixed texts, never a file's content or name (photo.h). */
static const char *photo_problem(web_ctx *c, err_code rc, const char *msg)
{
    if (rc == ERR_TOO_LARGE)
        return strstr(msg, "pixels") != NULL
                   ? web_t(c, I18N_("The photo has too many pixels. Choose a smaller photo, or "
                                    "leave it out."))
                   : web_t(c, I18N_("The photo is too large: at most 10 MB. Choose a smaller "
                                    "photo, or leave it out."));
    if (rc == ERR_INVALID)
        return strstr(msg, "not a JPEG") != NULL
                   ? web_t(c, I18N_("This file is not a JPEG, PNG or WebP photo. Choose a photo "
                                    "in one of these formats, or leave it out."))
                   : web_t(c, I18N_("This photo could not be read: the file may be damaged. "
                                    "Choose another, or leave it out."));
    return web_t(c, I18N_("The photo could not be added just now. Try again in a minute, or "
                          "leave it out."));
}

/* Cleans and stores one upload, then tells the job's done(). */
static void photo_run(struct web_photo_job *job)
{
    web_ctx *c = job->c;
    err_t err;
    unsigned char *clean = NULL;
    size_t clean_len = 0;
    photo_type type;
    web_photo none = {0, 0};
    err_code rc =
        photo_clean(job->data, job->len, NULL, &clean, &clean_len, &type, NULL, NULL, &err);
    if (rc != ERR_OK) {
        if (rc != ERR_INVALID && rc != ERR_TOO_LARGE)
            log_error("web: a photo could not be cleaned: %s", err.msg);
        job->done(c, rc, &none, photo_problem(c, rc, err.msg), job->arg);
        return;
    }
    photo_store_job store = {.c = c, .data = clean, .len = clean_len, .type = photo_mime(type)};
    rc = commitq_run(c->app->writer, photo_store_apply, &store, &err);
    sodium_memzero(clean, clean_len);
    free(clean);
    if (rc != ERR_OK) {
        log_error("web: a photo could not be stored: %s", err.msg);
        job->done(c, rc, &none, photo_problem(c, rc, ""), job->arg);
        return;
    }
    job->done(c, ERR_OK, &store.photo, NULL, job->arg);
}

static void *photo_thread(void *arg)
{
    web_app *app = arg;
    pthread_mutex_lock(&app->photo_lock);
    for (;;) {
        while (app->photo_head == NULL && !app->photo_stopping)
            pthread_cond_wait(&app->photo_turn, &app->photo_lock);
        struct web_photo_job *job = app->photo_head;
        if (job == NULL) /* stopping, and nothing left to do */
            break;
        app->photo_head = job->next;
        if (app->photo_head == NULL)
            app->photo_tail = NULL;
        app->photo_queued--;
        pthread_mutex_unlock(&app->photo_lock);
        photo_run(job);
        pthread_mutex_lock(&app->photo_lock);
    }
    pthread_mutex_unlock(&app->photo_lock);
    return NULL;
}

err_code web_photos_start(web_app *app, err_t *err)
{
    unsigned n = app->photo_slots;
    if (n > WEB_PHOTO_THREADS_MAX)
        n = WEB_PHOTO_THREADS_MAX;
    for (app->photo_nthreads = 0; app->photo_nthreads < n; app->photo_nthreads++)
        if (pthread_create(&app->photo_threads[app->photo_nthreads], NULL, photo_thread, app) !=
            0) {
            web_photos_drain(app);
            return err_set(err, ERR_INTERNAL, "web: cannot start the photo threads");
        }
    return ERR_OK;
}

void web_photos_drain(web_app *app)
{
    if (!app->photo_sync)
        return;
    pthread_mutex_lock(&app->photo_lock);
    app->photo_stopping = true;
    pthread_cond_broadcast(&app->photo_turn);
    pthread_mutex_unlock(&app->photo_lock);
    for (unsigned i = 0; i < app->photo_nthreads; i++)
        pthread_join(app->photo_threads[i], NULL);
    app->photo_nthreads = 0;
}

err_code web_photo_accept_async(web_ctx *c, const unsigned char *data, size_t len,
                                web_photo_done_fn done, void *arg)
{
    web_app *app = c->app;
    struct web_photo_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL)
        return ERR_NOMEM;
    *job = (struct web_photo_job){.c = c, .data = data, .len = len, .done = done, .arg = arg};
    err_code rc = ERR_OK;
    pthread_mutex_lock(&app->photo_lock);
    if (app->photo_stopping || app->photo_nthreads == 0 || app->photo_queued >= PHOTO_QUEUE_MAX) {
        rc = ERR_UNAVAILABLE;
    } else {
        if (app->photo_tail != NULL)
            app->photo_tail->next = job;
        else
            app->photo_head = job;
        app->photo_tail = job;
        app->photo_queued++;
        pthread_cond_signal(&app->photo_turn);
    }
    pthread_mutex_unlock(&app->photo_lock);
    return rc;
}

const char *web_photo_busy_text(web_ctx *c)
{
    return photo_problem(c, ERR_UNAVAILABLE, "");
}

/* ---- showing it back ---- */

typedef struct {
    web_ctx *c;
    web_photo photo;
    const unsigned char *data;
    size_t len;
    const char *type;
} photo_read_job;

/* On the writer thread (a read of personal data writes its audit entry,
 * durably, before the data leaves). The bytes land in the request's pool,
 * which the HTTP thread does not touch while it waits in commitq_run. */
static err_code photo_read_apply(store_t *s, void *arg, err_t *err)
{
    photo_read_job *job = arg;
    web_ctx *c = job->c;
    char actor[40] = "web";
    if (c->account_id != 0)
        snprintf(actor, sizeof actor, "account:%lld", (long long)c->account_id);
    gate_actor a = {.role = GATE_RESIDENT, .actor = actor, .subject_id = job->photo.subject};
    return gate_read_blob(s, c->app->keys, &a, GATE_PURPOSE_ADDRESS_REQUEST, job->photo.blob,
                          c->app->now(), http_pool(c->req), &job->data, &job->len, &job->type, err);
}

void web_photo_get(web_ctx *c, const char *token)
{
    photo_read_job job = {.c = c};
    err_t err;
    err_code rc = ERR_NOT_FOUND;
    if (web_photo_parse(c, token, &job.photo))
        rc = commitq_run(c->app->writer, photo_read_apply, &job, &err);
    if (rc == ERR_NOT_FOUND || rc == ERR_FORBIDDEN || rc == ERR_CONFLICT) {
        /* Not this session's, erased, or its key shredded: all the same to
         * the visitor, and nothing that says which. */
        web_error_page(c, 404, web_t(c, I18N_("This photo is not available")),
                       web_t(c, I18N_("Photos are shown only to the person who sent them, in "
                                      "the same browser session.")));
        return;
    }
    if (rc != ERR_OK) {
        log_error("web: a photo could not be read: %s", err.msg);
        web_error_page(c, 503, web_t(c, I18N_("This photo is not available")),
                       web_t(c, I18N_("Please try again in a minute.")));
        return;
    }
    buf_t b = BUF_INIT;
    buf_append(&b, job.data, job.len);
    sodium_memzero((void *)job.data, job.len);
    http_add_header(c->req, "Cache-Control", "private, no-store");
    http_add_header(c->req, "Content-Disposition", "inline");
    http_respond(c->req, 200, job.type, &b);
}
