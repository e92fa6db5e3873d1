/*
 * fuzz_po.c - the website's message catalogs (web/i18n.c): the strict .po
 * parser, since a translator's editor may write anything, and the
 * Accept-Language negotiation, since a browser may send anything.
 *
 * The input is parsed as a catalog. On failure the message must be
 * "line N: " (N a line of the input) followed by one of the parser's own
 * fixed texts: that proves it quotes nothing of the file. On success the
 * header entry is no translation, every msgid the harness can find in the
 * text (a one-line msgid "...") is looked up and any translation found
 * must be non-empty valid UTF-8, a second parse must agree, and the
 * catalog joins a set in which the input is negotiated as a header.
 *
 * Every input is also negotiated as an Accept-Language header (and as an
 * explicit choice) against a fixed set of four languages: the answer must
 * always be one of the set's own tags, never a pointer into the header.
 *
 * Corpus: fuzz/corpus/po/.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strnlen, also when built without the Makefile */
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/utf8.h"
#include "web/i18n.h"

/* What the parser may say after "line N: ". */
static const char *const MESSAGES[] = {
    "a NUL byte",
    "invalid UTF-8",
    "a string outside an entry",
    "a string is not terminated",
    "a control character in a string",
    "an unknown escape (only \\\\ \\\" \\n \\t)",
    "unexpected text after a string",
    "unexpected text",
    "a comment inside an entry, before its msgstr",
    "a bad index in msgstr[N]",
    "a keyword without its string",
    "msgctxt out of place",
    "msgid out of place (the entry before has no msgstr)",
    "msgid_plural without a msgid just before it",
    "msgstr without msgid",
    "msgstr after msgid_plural (msgstr[0], msgstr[1], ... expected)",
    "msgstr out of place",
    "msgstr[N] without msgid_plural",
    "msgstr[N] out of place",
    "msgstr[N] out of order (msgstr[0], msgstr[1], ... expected)",
    "too many plural forms",
    "a plural entry with an empty msgid",
    "a byte order mark (save as UTF-8 without one)",
    "an entry without msgstr",
    "the header's charset is not UTF-8",
};

/* Reads a decimal number at *s; false if there is none. */
static bool read_number(const char **s, size_t *out)
{
    const char *p = *s;
    size_t v = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        CHECK(v < SIZE_MAX / 10 - 10);
        v = v * 10 + (size_t)(*p++ - '0');
    }
    *s = p;
    *out = v;
    return true;
}

static void check_error(err_code rc, const err_t *err, size_t lines)
{
    CHECK(err->code == rc);
    if (rc == ERR_NOMEM)
        return;
    CHECK(rc == ERR_INVALID);
    const char *m = err->msg;
    size_t n = strnlen(m, sizeof err->msg);
    CHECK(n > 0 && n < sizeof err->msg);
    size_t line;
    CHECK(strncmp(m, "line ", 5) == 0);
    m += 5;
    CHECK(read_number(&m, &line));
    CHECK(line >= 1 && line <= lines);
    CHECK(strncmp(m, ": ", 2) == 0);
    m += 2;
    for (size_t i = 0; i < sizeof MESSAGES / sizeof MESSAGES[0]; i++)
        if (strcmp(m, MESSAGES[i]) == 0)
            return;
    /* The one message with a second number. */
    static const char dup[] = "a duplicate msgid (first at line ";
    CHECK(strncmp(m, dup, sizeof dup - 1) == 0);
    m += sizeof dup - 1;
    size_t first;
    CHECK(read_number(&m, &first));
    CHECK(first >= 1 && first < line);
    CHECK(strcmp(m, ")") == 0);
}

/* Decodes the one-line string after msgid at s[0..n) into out (room for
 * n + 1); false if it is not a plain, complete one. */
static bool msgid_on_line(const char *s, size_t n, char *out)
{
    size_t i = 0, o = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (n - i < 7 || memcmp(s + i, "msgid \"", 7) != 0)
        return false;
    for (i += 7; i < n && s[i] != '"'; i++) {
        if (s[i] != '\\') {
            out[o++] = s[i];
            continue;
        }
        if (++i == n)
            return false;
        switch (s[i]) {
        case 'n':
            out[o++] = '\n';
            break;
        case 't':
            out[o++] = '\t';
            break;
        default:
            out[o++] = s[i];
            break;
        }
    }
    out[o] = '\0';
    return i < n;
}

static void check_translation(const char *t)
{
    if (t == NULL)
        return;
    size_t n = strlen(t);
    CHECK(n > 0);
    CHECK(utf8_valid(t, n));
}

/* The answer of a negotiation is one of the set's own tags. */
static void check_negotiated(const i18n_set *s, const char *got)
{
    CHECK(got != NULL);
    bool own = false;
    for (size_t i = 0; i < i18n_set_count(s); i++)
        own = own || got == i18n_set_lang(s, i);
    CHECK(own);
}

static i18n_set *fixed_set(void)
{
    static i18n_set *set;
    static const struct {
        const char *lang, *po;
    } cats[] = {
        {"es", "msgid \"LANGUAGE_NAME\"\nmsgstr \"Español\"\n"},
        {"zh-Hant", "msgid \"LANGUAGE_NAME\"\nmsgstr \"中文\"\n"},
        {"pt-BR", ""},
    };
    if (set != NULL)
        return set;
    err_t err;
    CHECK(i18n_set_new(&set, &err) == ERR_OK);
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++) {
        i18n_catalog *c;
        CHECK(i18n_catalog_parse(cats[i].lang, cats[i].po, strlen(cats[i].po), &c, &err) == ERR_OK);
        CHECK(i18n_set_add_take(set, c, &err) == ERR_OK);
    }
    return set;
}

static void on_catalog(i18n_catalog *c, const char *s, size_t size, const char *header)
{
    err_t err;
    CHECK(i18n_catalog_lookup(c, "") == NULL);
    CHECK(i18n_catalog_count(c) <= size / 8); /* msgid "" msgstr "" at the least */

    /* The same bytes give the same catalog. */
    i18n_catalog *again;
    CHECK(i18n_catalog_parse("xx", s, size, &again, &err) == ERR_OK);
    CHECK(i18n_catalog_count(again) == i18n_catalog_count(c));

    char *id = malloc(size + 1);
    i18n_set *set;
    CHECK(i18n_set_new(&set, &err) == ERR_OK);
    CHECK(i18n_set_add_take(set, c, &err) == ERR_OK);
    for (size_t pos = 0; id != NULL && pos < size;) {
        const char *nl = memchr(s + pos, '\n', size - pos);
        size_t end = nl != NULL ? (size_t)(nl - s) : size;
        if (msgid_on_line(s + pos, end - pos, id)) {
            const char *t = i18n_catalog_lookup(c, id);
            check_translation(t);
            CHECK(i18n_catalog_lookup(again, id) == NULL || t != NULL);
            const char *shown = i18n_text(set, "xx", id);
            CHECK(shown == (t != NULL ? t : id));
            CHECK(i18n_text(set, "en", id) == id);
        }
        pos = end + 1;
    }
    check_negotiated(set, i18n_negotiate(set, NULL, header));
    check_negotiated(set, i18n_negotiate(set, "xx", header));
    const char *name = i18n_set_lang_name(set, 1);
    CHECK(name != NULL);
    check_translation(name);
    free(id);
    i18n_catalog_free(again);
    i18n_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    /* The header as a C string: up to the first NUL, as HTTP would give it. */
    char *header = malloc(size + 1);
    if (header == NULL)
        return 0;
    if (size > 0)
        memcpy(header, s, size);
    header[size] = '\0';

    i18n_set *fixed = fixed_set();
    check_negotiated(fixed, i18n_negotiate(fixed, NULL, header));
    check_negotiated(fixed, i18n_negotiate(fixed, header, NULL));
    check_negotiated(fixed, i18n_negotiate(fixed, header, header));
    const char *lang = i18n_negotiate(fixed, NULL, header);
    CHECK(i18n_text(fixed, lang, "LANGUAGE_NAME") != NULL);

    i18n_catalog *c = (i18n_catalog *)(void *)&fixed; /* must be set */
    err_t err;
    err_clear(&err);
    err_code rc = i18n_catalog_parse("xx", s, size, &c, &err);
    if (rc == ERR_OK) {
        CHECK(c != NULL);
        on_catalog(c, s, size, header);
    } else {
        CHECK(c == NULL);
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += s[i] == '\n';
        check_error(rc, &err, lines);
    }
    free(header);
    return 0;
}
