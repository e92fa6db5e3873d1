/*
 * web_catalog_i18n.c - the service catalog in the resident's language.
 *
 * The catalog comes from the city's Open311 documents, in English, and
 * Open311 has no field for another language. Its translations are gettext
 * catalogs like the website's own, whose msgids are the catalog's English
 * texts (service names, descriptions, groups, notices, search keywords,
 * questions, hints, answers): a translator edits them with the same tools.
 * The demo catalog's Spanish is built in (data/demo/catalog-es.po); a city
 * puts its own at DIR/catalog-po/LANG.po, which replaces the built-in one
 * of that language. A text with no translation shows in English, marked
 * lang="en" (web_catalog_text), never as a gap.
 *
 * Loaded once by web_init; immutable afterwards, so lookups need no lock.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "web/web_int.h"

extern const char demo_catalog_po_es[];
extern const size_t demo_catalog_po_es_len;

/* A LANG.po file of at most 4 MiB, read whole; NULL with *err set. */
static char *read_po(const char *path, size_t *len, err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        err_set(err, ERR_IO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4u << 20;
    char *data = malloc(cap + 1);
    size_t n = data != NULL ? fread(data, 1, cap + 1, f) : 0;
    bool bad = ferror(f) != 0;
    fclose(f);
    if (data == NULL || bad || n > cap) {
        err_set(err,
                data == NULL ? ERR_NOMEM
                : bad        ? ERR_IO
                             : ERR_TOO_LARGE,
                "cannot read %s (at most 4 MiB)", path);
        free(data);
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}

/* The catalog for lang: DIR/catalog-po/LANG.po if there is one, else the
 * built-in one (Spanish only), else none (*out NULL). */
static err_code load_lang(const char *dir, const char *lang, i18n_catalog **out, err_t *err)
{
    *out = NULL;
    if (dir != NULL) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.po", dir, lang);
        FILE *probe = fopen(path, "rb");
        if (probe != NULL) {
            fclose(probe);
            size_t len = 0;
            char *po = read_po(path, &len, err);
            if (po == NULL)
                return err->code;
            err_code rc = i18n_catalog_parse(lang, po, len, out, err);
            free(po);
            if (rc != ERR_OK)
                err_wrap(err, path);
            return rc;
        }
    }
    if (strcmp(lang, "es") == 0)
        return i18n_catalog_parse(lang, demo_catalog_po_es, demo_catalog_po_es_len, out, err);
    return ERR_OK;
}

err_code web_catalog_i18n_load(web_app *app, err_t *err)
{
    err_code rc = i18n_set_new(&app->catalog_texts, err);
    for (size_t i = 1; rc == ERR_OK && i < i18n_set_count(app->langs); i++) {
        i18n_catalog *cat = NULL;
        rc = load_lang(app->catalog_po_dir, i18n_set_lang(app->langs, i), &cat, err);
        if (rc == ERR_OK && cat != NULL)
            rc = i18n_set_add_take(app->catalog_texts, cat, err);
    }
    if (rc != ERR_OK) {
        i18n_set_free(app->catalog_texts);
        app->catalog_texts = NULL;
    }
    return rc;
}

const char *web_catalog_t(const web_ctx *c, const char *text)
{
    if (text == NULL || c->app->catalog_texts == NULL ||
        !i18n_set_has(c->app->catalog_texts, c->lang))
        return text;
    return i18n_text(c->app->catalog_texts, c->lang, text);
}
