/*
 * i18n.h - the website's languages: message catalogs a translator edits
 * (gettext .po files under po/, one per language, embedded in the binary
 * at build time) and the choice of a language for each request.
 *
 * English is the source language: a msgid is the English text itself, so a
 * message missing from a catalog (or marked fuzzy, or with an empty msgstr)
 * shows in English, never as a key. The page code marks each message with
 * I18N_("...") so that xgettext (keyword I18N_) extracts it into
 * po/civic311.pot; `make po` merges that into every po/LANG.po.
 *
 * A catalog is read once at start-up and is immutable afterwards: lookups
 * from any number of threads need no lock. The parser is strict (a
 * malformed file is an error naming its line, never a half-loaded
 * catalog) and is fuzzed (fuzz/fuzz_po.c), since a translator's editor may
 * write anything.
 */
#ifndef CIVIC_WEB_I18N_H
#define CIVIC_WEB_I18N_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Marks a message for extraction; evaluates to its argument. */
#define I18N_(s) (s)

/* Languages the website speaks: English (the source) and every catalog. */
#define I18N_MAX_LANGS 8
#define I18N_TAG_MAX 16 /* "es", "zh-Hant", ... */

typedef struct i18n_catalog i18n_catalog;
typedef struct i18n_set i18n_set;

/* Parses one .po file's bytes (UTF-8; the header's charset must be UTF-8
 * if it names one). Understands: comments (#, #., #:, #,; "fuzzy" in a #,
 * line drops that entry), msgctxt, msgid, msgid_plural, msgstr, msgstr[N],
 * strings continued on following lines, and the escapes \\ \" \n \t. An
 * entry with an empty msgstr is left out. Duplicate msgid (with the same
 * msgctxt) is an error. Errors name the line number, never quote text.
 * The caller frees *out with i18n_catalog_free. */
err_code i18n_catalog_parse(const char *lang, const char *po, size_t len, i18n_catalog **out,
                            err_t *err);
void i18n_catalog_free(i18n_catalog *c);
const char *i18n_catalog_lang(const i18n_catalog *c);
size_t i18n_catalog_count(const i18n_catalog *c); /* translated entries */

/* The translation of msgid (no context) in c, or NULL if it has none. */
const char *i18n_catalog_lookup(const i18n_catalog *c, const char *msgid);

/* The set of languages the server offers: English plus each catalog
 * added (the set takes ownership of it; on error it is freed). */
err_code i18n_set_new(i18n_set **out, err_t *err);
err_code i18n_set_add_take(i18n_set *s, i18n_catalog *c, err_t *err);
void i18n_set_free(i18n_set *s);

/* The set built from the catalogs embedded in the binary (po/LANG.po). */
err_code i18n_set_builtin(i18n_set **out, err_t *err);

size_t i18n_set_count(const i18n_set *s);             /* English included */
const char *i18n_set_lang(const i18n_set *s, size_t i); /* 0 is "en" */
/* Its name in itself, for the language switch ("English", "Español"):
 * the catalog's own translation of the msgid "LANGUAGE_NAME", else the
 * tag. */
const char *i18n_set_lang_name(const i18n_set *s, size_t i);
bool i18n_set_has(const i18n_set *s, const char *lang);

/* The language for a request: an explicit choice (a ?lang= parameter or
 * the language cookie, already validated as a tag we offer, or NULL) wins;
 * else the best match of the Accept-Language header (RFC 9110 12.5.4:
 * q-values, "es-MX" matches "es", "*" matches English, q=0 excludes,
 * malformed parts skipped); else English. Returns one of the set's own
 * tags (never a pointer into the header). */
const char *i18n_negotiate(const i18n_set *s, const char *choice, const char *accept_language);

/* The text of msgid in lang: the translation if the catalog has one,
 * else msgid itself. lang must be one of the set's tags. */
const char *i18n_text(const i18n_set *s, const char *lang, const char *msgid);

#endif
