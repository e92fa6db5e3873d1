/*
 * test_i18n.c - the website's message catalogs (web/i18n.h): every piece
 * of .po syntax the parser understands, every way a catalog is refused
 * (the message names the line and never repeats the file's text), fuzzy
 * and untranslated entries left out, lookups, the Accept-Language
 * negotiation (hostile headers included), the fallback to English, and
 * the catalogs embedded in the binary.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"
#include "web/i18n.h"

/* Every bad catalog below carries this word in its text; no error message
 * may contain it. */
#define SECRET "Secreto"

static const char HEADER[] = "msgid \"\"\n"
                             "msgstr \"\"\n"
                             "\"Project-Id-Version: Civic311\\n\"\n"
                             "\"Language: es\\n\"\n"
                             "\"Content-Type: text/plain; charset=UTF-8\\n\"\n"
                             "\"Plural-Forms: nplurals=2; plural=(n != 1);\\n\"\n";

static i18n_catalog *parse_ok(const char *lang, const char *po)
{
    i18n_catalog *c = NULL;
    err_t err;
    err_clear(&err);
    err_code rc = i18n_catalog_parse(lang, po, strlen(po), &c, &err);
    if (rc != ERR_OK)
        fprintf(stderr, "unexpected parse error: %s\n", err.msg);
    return c;
}

static void test_syntax(void)
{
    static const char po[] = "# translator comment\n"
                             "#. extracted comment\n"
                             "#: src/web/web.c:12 src/web/web.c:40\n"
                             "#, c-format\n"
                             "#| msgid \"Old text\"\n"
                             "msgid \"Hello\"\n"
                             "msgstr \"Hola\"\n"
                             "\n"
                             "msgid \"\"\n" /* the header, after an entry: order does not matter */
                             "msgstr \"\"\n"
                             "\"Content-Type: text/plain; charset=utf-8\\n\"\n"
                             "\n"
                             "msgid \"\"\n"
                             "\"Two \"\n"
                             "\"lines\"\n"
                             "msgstr \"\"\n"
                             "\"Dos \"\n"
                             "   \"líneas\"   \n"
                             "\n"
                             "msgid \"Escapes\"\n"
                             "msgstr \"a\\\\b \\\"c\\\" d\\ne\\tf\"\n"
                             "\n"
                             "msgctxt \"month\"\n"
                             "msgid \"May\"\n"
                             "msgstr \"mayo\"\n"
                             "\n"
                             "msgctxt \"verb\"\n"
                             "msgid \"May\"\n"
                             "msgstr \"poder\"\n"
                             "\n"
                             "msgctxt \"odd\"\n" /* an empty msgid with a context is no header */
                             "msgid \"\"\n"
                             "msgstr \"raro\"\n"
                             "\n"
                             "msgid \"day\"\n"
                             "msgid_plural \"days\"\n"
                             "msgstr[0] \"día\"\n"
                             "msgstr[1] \"días\"\n"
                             "  msgid\t\"Indented\"\n"
                             "msgstr\"Sangrado\"\n"
                             "#~ msgid \"Gone\"\n"
                             "#~ msgstr \"Ido\"\n";
    i18n_catalog *c = parse_ok("es", po);
    REQUIRE(c != NULL);
    CHECK_STR(i18n_catalog_lang(c), "es");
    CHECK_INT(i18n_catalog_count(c), 8); /* the header is no translation; "Gone" is a comment */
    CHECK_STR(i18n_catalog_lookup(c, "Hello"), "Hola");
    CHECK_STR(i18n_catalog_lookup(c, "Two lines"), "Dos líneas");
    CHECK_STR(i18n_catalog_lookup(c, "Escapes"), "a\\b \"c\" d\ne\tf");
    CHECK_STR(i18n_catalog_lookup(c, "day"), "día"); /* msgstr[0] */
    CHECK_STR(i18n_catalog_lookup(c, "days"), NULL);
    CHECK_STR(i18n_catalog_lookup(c, "Indented"), "Sangrado");
    /* Entries with a context are parsed but not what a msgid looks up. */
    CHECK_STR(i18n_catalog_lookup(c, "May"), NULL);
    CHECK_STR(i18n_catalog_lookup(c, ""), NULL);
    CHECK_STR(i18n_catalog_lookup(c, "Gone"), NULL);
    CHECK_STR(i18n_catalog_lookup(c, "Hell"), NULL);
    CHECK_STR(i18n_catalog_lookup(c, NULL), NULL);
    i18n_catalog_free(c);
}

static void test_line_ends_and_bom(void)
{
    static const char po[] = "# CRLF\r\n"
                             "msgid \"Yes\"\r\n"
                             "msgstr \"Sí\"\r\n"
                             "\r\n"
                             "msgid \"No\"\r\n"
                             "msgstr \"No\""; /* no newline at the end */
    i18n_catalog *c = parse_ok("es", po);
    REQUIRE(c != NULL);
    CHECK_INT(i18n_catalog_count(c), 2);
    CHECK_STR(i18n_catalog_lookup(c, "Yes"), "Sí");
    CHECK_STR(i18n_catalog_lookup(c, "No"), "No");
    i18n_catalog_free(c);
    /* msgfmt refuses a byte order mark; so does the parser, saying so. */
    static const char bom[] = "\xEF\xBB\xBFmsgid \"Yes\"\nmsgstr \"S\xC3\xAD\"\n";
    err_t err;
    c = NULL;
    CHECK_INT(i18n_catalog_parse("es", bom, strlen(bom), &c, &err), ERR_INVALID);
    CHECK(c == NULL);
    CHECK_STR(err.msg, "line 1: a byte order mark (save as UTF-8 without one)");
}

static void test_empty_and_trivial(void)
{
    static const char *const ok[] = {"",
                                     "\n\n",
                                     "# only a comment\n",
                                     "#, fuzzy\n",
                                     HEADER,
                                     "#, fuzzy\nmsgid \"\"\nmsgstr \"\"\n\"Content-Type: "
                                     "text/plain; charset=UTF-8\\n\"\n"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        i18n_catalog *c = parse_ok("es", ok[i]);
        CHECK(c != NULL);
        if (c != NULL)
            CHECK_INT(i18n_catalog_count(c), 0);
        i18n_catalog_free(c);
    }
    /* No text at all. */
    i18n_catalog *c = NULL;
    err_t err;
    CHECK_INT(i18n_catalog_parse("es", NULL, 0, &c, &err), ERR_OK);
    REQUIRE(c != NULL);
    CHECK_INT(i18n_catalog_count(c), 0);
    CHECK_STR(i18n_catalog_lookup(c, "x"), NULL);
    i18n_catalog_free(c);
}

static void test_fuzzy_and_untranslated(void)
{
    static const char po[] = "#, fuzzy\n"
                             "msgid \"Fuzzy\"\n"
                             "msgstr \"Borroso\"\n"
                             "\n"
                             "msgid \"After fuzzy\"\n" /* the flag was for the entry above only */
                             "msgstr \"Tras borroso\"\n"
                             "\n"
                             "#, c-format, fuzzy\n"
                             "msgid \"Flag list\"\n"
                             "msgstr \"Lista\"\n"
                             "\n"
                             "#,fuzzyish, no-fuzzy\n" /* not the fuzzy flag */
                             "msgid \"Not fuzzy\"\n"
                             "msgstr \"No borroso\"\n"
                             "\n"
                             "#. fuzzy\n" /* not a flag line */
                             "msgid \"Extracted\"\n"
                             "msgstr \"Extraído\"\n"
                             "\n"
                             "msgid \"Empty\"\n"
                             "msgstr \"\"\n"
                             "\n"
                             "msgid \"one\"\n"
                             "msgid_plural \"many\"\n"
                             "msgstr[0] \"uno\"\n"
                             "msgstr[1] \"\"\n" /* a missing form: English, not a blank */
                             "\n"
                             "#, fuzzy\n"
                             "msgctxt \"c\"\n"
                             "msgid \"Ctx fuzzy\"\n"
                             "msgstr \"x\"\n";
    i18n_catalog *c = parse_ok("es", po);
    REQUIRE(c != NULL);
    CHECK_INT(i18n_catalog_count(c), 3);
    CHECK_STR(i18n_catalog_lookup(c, "Fuzzy"), NULL);
    CHECK_STR(i18n_catalog_lookup(c, "After fuzzy"), "Tras borroso");
    CHECK_STR(i18n_catalog_lookup(c, "Flag list"), NULL);
    CHECK_STR(i18n_catalog_lookup(c, "Not fuzzy"), "No borroso");
    CHECK_STR(i18n_catalog_lookup(c, "Extracted"), "Extraído");
    CHECK_STR(i18n_catalog_lookup(c, "Empty"), NULL);
    CHECK_STR(i18n_catalog_lookup(c, "one"), NULL);
    i18n_catalog_free(c);
}

static void test_many_lookups(void)
{
    /* Enough entries, in no particular order, for the binary search to
     * go both ways many times. */
    char *po = malloc(300 * 64);
    REQUIRE(po != NULL);
    size_t n = 0;
    for (int i = 0; i < 300; i++) {
        int k = (i * 7919) % 300;
        n += (size_t)snprintf(po + n, 300 * 64 - n, "msgid \"m%d\"\nmsgstr \"t%d\"\n\n", k, k);
    }
    i18n_catalog *c = NULL;
    err_t err;
    CHECK_INT(i18n_catalog_parse("es", po, n, &c, &err), ERR_OK);
    free(po);
    REQUIRE(c != NULL);
    CHECK_INT(i18n_catalog_count(c), 300);
    for (int k = 0; k < 300; k++) {
        char id[16], want[16];
        snprintf(id, sizeof id, "m%d", k);
        snprintf(want, sizeof want, "t%d", k);
        CHECK_STR(i18n_catalog_lookup(c, id), want);
    }
    CHECK_STR(i18n_catalog_lookup(c, "m300"), NULL);
    CHECK_STR(i18n_catalog_lookup(c, "a"), NULL);
    CHECK_STR(i18n_catalog_lookup(c, "z"), NULL);
    i18n_catalog_free(c);
}

typedef struct {
    const char *po;
    size_t len; /* 0: strlen(po) */
    int line;   /* the line the message must name */
    const char *what;
} bad_case;

static void test_errors(void)
{
    static const char nul[] = "msgid \"a\"\nmsgstr \"" SECRET "\0\"\n";
    static const bad_case cases[] = {
        {"msgid \"" SECRET "\\q\"\nmsgstr \"x\"\n", 0, 1, "unknown escape"},
        {"msgid \"a\"\nmsgstr \"" SECRET "\\r\"\n", 0, 2, "unknown escape"},
        {"msgid \"a\"\nmsgstr \"\\101" SECRET "\"\n", 0, 2, "unknown escape"},
        {"msgid \"a\"\nmsgstr \"" SECRET "\n", 0, 2, "not terminated"},
        {"msgid \"a\"\nmsgstr \"" SECRET "\\\n", 0, 2, "not terminated"},
        {"msgid \"a\"\nmsgstr \"\"\n\"" SECRET "\n", 0, 3, "not terminated"},
        {"# c\n\nmsgstr \"" SECRET "\"\n", 0, 3, "msgstr without msgid"},
        {"msgctxt \"c\"\nmsgstr \"" SECRET "\"\n", 0, 2, "msgstr without msgid"},
        {"msgid \"" SECRET "\"\nmsgstr \"x\"\n\nmsgid \"" SECRET "\"\nmsgstr \"y\"\n", 0, 4,
         "duplicate msgid (first at line 1)"},
        /* Duplicates are duplicates even when fuzzy or untranslated. */
        {"msgid \"a\"\nmsgstr \"\"\n#, fuzzy\nmsgid \"a\"\nmsgstr \"" SECRET "\"\n", 0, 4,
         "duplicate"},
        {"msgctxt \"c\"\nmsgid \"a\"\nmsgstr \"x\"\nmsgctxt \"c\"\nmsgid \"a\"\nmsgstr \"" SECRET
         "\"\n",
         0, 4, "duplicate"},
        {"msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[0] \"x\"\nmsgstr[1] \"y\"\n"
         "msgid \"a\"\nmsgstr \"" SECRET "\"\n",
         0, 5, "duplicate"},
        {"msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=ISO-8859-1\\n\"\n", 0, 1,
         "charset is not UTF-8"},
        {"# x\nmsgid \"\"\nmsgstr \"Content-Type: text/plain; charset=" SECRET "\\n\"\n", 0, 2,
         "charset is not UTF-8"},
        {"msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=CHARSET\\n\"\n", 0, 1, "charset"},
        {"msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n"
         "msgid \"\"\nmsgstr \"\"\n",
         0, 4, "duplicate"},
        {"msgid \"a\"\nmsgstr \"" SECRET "\xC3\x28\"\n", 0, 2, "invalid UTF-8"},
        {"msgid \"a\"\nmsgstr \"\xC0\xAF" SECRET "\"\n", 0, 2, "invalid UTF-8"},     /* overlong */
        {"msgid \"a\"\nmsgstr \"\xED\xA0\x80" SECRET "\"\n", 0, 2, "invalid UTF-8"}, /* surrogate */
        {"# " SECRET " \xFF\nmsgid \"a\"\nmsgstr \"b\"\n", 0, 1,
         "invalid UTF-8"}, /* in a comment */
        {"msgid \"a\"\nmsgstr \"b\"\n\xE2\x82\n", 0, 3, "invalid UTF-8"},
        {"msgid \"a\"\nmsgstr \"b\"\n" SECRET "\n", 0, 3, "unexpected text"},
        {"msgid \"a\" " SECRET "\nmsgstr \"b\"\n", 0, 1, "unexpected text after a string"},
        {"msgid \"a\"\nmsgstr \"b\"\nmsgstrx \"" SECRET "\"\n", 0, 3, "unexpected text"},
        {"MSGID \"" SECRET "\"\nmsgstr \"b\"\n", 0, 1, "unexpected text"},
        {"msgid " SECRET "\nmsgstr \"b\"\n", 0, 1, "keyword without its string"},
        {"\"" SECRET "\"\n", 0, 1, "string outside an entry"},
        {"msgid \"a\"\nmsgstr \"b\"\n# c\n\"" SECRET "\"\n", 0, 4, "string outside an entry"},
        {"msgid \"a\"\nmsgstr[0] \"" SECRET "\"\n", 0, 2, "msgstr[N] without msgid_plural"},
        {"msgid \"a\"\nmsgid_plural \"b\"\nmsgstr \"" SECRET "\"\n", 0, 3,
         "msgstr after msgid_plural"},
        {"msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[1] \"" SECRET "\"\n", 0, 3, "out of order"},
        {"msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[0] \"x\"\nmsgstr[0] \"" SECRET "\"\n", 0, 4,
         "out of order"},
        {"msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[01] \"" SECRET "\"\n", 0, 3, "bad index"},
        {"msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[] \"" SECRET "\"\n", 0, 3, "bad index"},
        {"msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[0 \"" SECRET "\"\n", 0, 3, "bad index"},
        {"msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[9999] \"" SECRET "\"\n", 0, 3, "bad index"},
        {"msgid_plural \"" SECRET "\"\n", 0, 1, "msgid_plural without a msgid"},
        {"msgid \"a\"\nmsgstr \"b\"\nmsgstr \"" SECRET "\"\n", 0, 3, "msgstr out of place"},
        {"msgid \"a\"\nmsgctxt \"" SECRET "\"\nmsgstr \"b\"\n", 0, 2, "msgctxt out of place"},
        {"msgid \"a\"\nmsgid \"" SECRET "\"\nmsgstr \"b\"\n", 0, 2, "msgid out of place"},
        {"msgid \"a\"\n# " SECRET "\nmsgstr \"b\"\n", 0, 2, "comment inside an entry"},
        {"msgstr \"x\"\n", 0, 1, "msgstr without msgid"},
        {"# c\nmsgid \"" SECRET "\"\n\n", 0, 2, "entry without msgstr"},
        {"msgid \"a\"\nmsgstr \"b\"\nmsgctxt \"" SECRET "\"\n", 0, 3, "entry without msgstr"},
        {"msgid \"\"\nmsgid_plural \"" SECRET "\"\nmsgstr[0] \"x\"\n", 0, 1, "empty msgid"},
        {"msgid \"a\"\nmsgstr \"" SECRET "\x01\"\n", 0, 2, "control character"},
        {"msgid \"a\"\nmsgstr \"" SECRET "\r\"\n", 0, 2, "control character"},
        {"msgid \"a\"\nmsgstr \"b\"\r" SECRET "\n", 0, 2, "unexpected text"},
        {nul, sizeof nul - 1, 2, "NUL"},
    };
    static max_align_t poison;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *bc = &cases[i];
        i18n_catalog *c = (i18n_catalog *)(void *)&poison; /* must be reset to NULL */
        err_t err;
        err_clear(&err);
        size_t len = bc->len ? bc->len : strlen(bc->po);
        err_code rc = i18n_catalog_parse("es", bc->po, len, &c, &err);
        char want[32];
        snprintf(want, sizeof want, "line %d: ", bc->line);
        bool good = rc == ERR_INVALID && err.code == ERR_INVALID && c == NULL &&
                    strncmp(err.msg, want, strlen(want)) == 0 &&
                    strstr(err.msg, bc->what) != NULL && strstr(err.msg, SECRET) == NULL;
        if (!good) {
            fprintf(stderr, "case %zu: rc %d, message \"%s\"; want \"%s...%s\"\n", i, (int)rc,
                    err.msg, want, bc->what);
            CHECK(good);
        }
        if (rc == ERR_OK)
            i18n_catalog_free(c);
    }
}

static void test_too_many_forms(void)
{
    char po[2048];
    size_t n = (size_t)snprintf(po, sizeof po, "msgid \"a\"\nmsgid_plural \"b\"\n");
    for (int k = 0; k < 17; k++)
        n += (size_t)snprintf(po + n, sizeof po - n, "msgstr[%d] \"x\"\n", k);
    i18n_catalog *c = NULL;
    err_t err;
    CHECK_INT(i18n_catalog_parse("es", po, n, &c, &err), ERR_INVALID);
    CHECK(strstr(err.msg, "line 19: too many plural forms") != NULL);
    CHECK(c == NULL);
    /* Sixteen are fine. */
    n = (size_t)(strstr(po, "msgstr[16]") - po);
    CHECK_INT(i18n_catalog_parse("es", po, n, &c, &err), ERR_OK);
    REQUIRE(c != NULL);
    CHECK_STR(i18n_catalog_lookup(c, "a"), "x");
    i18n_catalog_free(c);
}

static void test_bad_language_tags(void)
{
    static const char *const bad[] = {
        "", "e s", "es_MX", "-es", "es-", "toolongtag", "es-MX-abcdefghi", "ñ", "es-MX-1234567890"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        i18n_catalog *c = NULL;
        err_t err;
        CHECK_INT(i18n_catalog_parse(bad[i], "", 0, &c, &err), ERR_INVALID);
        CHECK(c == NULL);
    }
    static const char *const good[] = {"es", "zh-Hant", "pt-BR", "es-419", "x-klingon"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        i18n_catalog *c = parse_ok(good[i], "");
        CHECK(c != NULL);
        if (c != NULL)
            CHECK_STR(i18n_catalog_lang(c), good[i]);
        i18n_catalog_free(c);
    }
}

/* en, es (with a name), zh-Hant, pt-BR (without one). */
static i18n_set *test_set(void)
{
    static const struct {
        const char *lang, *po;
    } cats[] = {
        {"es", "msgid \"LANGUAGE_NAME\"\nmsgstr \"Español\"\nmsgid \"Hello\"\nmsgstr \"Hola\"\n"},
        {"zh-Hant", "msgid \"LANGUAGE_NAME\"\nmsgstr \"中文\"\n"},
        {"pt-BR", "msgid \"Hello\"\nmsgstr \"Olá\"\n"},
    };
    i18n_set *s = NULL;
    err_t err;
    if (i18n_set_new(&s, &err) != ERR_OK)
        return NULL;
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++) {
        i18n_catalog *c = parse_ok(cats[i].lang, cats[i].po);
        if (c == NULL || i18n_set_add_take(s, c, &err) != ERR_OK) {
            i18n_set_free(s);
            return NULL;
        }
    }
    return s;
}

static void test_set_basics(void)
{
    i18n_set *s = test_set();
    REQUIRE(s != NULL);
    CHECK_INT(i18n_set_count(s), 4);
    CHECK_STR(i18n_set_lang(s, 0), "en");
    CHECK_STR(i18n_set_lang(s, 1), "es");
    CHECK_STR(i18n_set_lang(s, 2), "zh-Hant");
    CHECK_STR(i18n_set_lang(s, 3), "pt-BR");
    CHECK_STR(i18n_set_lang(s, 4), NULL);
    CHECK_STR(i18n_set_lang_name(s, 0), "English");
    CHECK_STR(i18n_set_lang_name(s, 1), "Español");
    CHECK_STR(i18n_set_lang_name(s, 2), "中文");
    CHECK_STR(i18n_set_lang_name(s, 3), "pt-BR"); /* no LANGUAGE_NAME: the tag */
    CHECK_STR(i18n_set_lang_name(s, 4), NULL);
    CHECK(i18n_set_has(s, "en"));
    CHECK(i18n_set_has(s, "es"));
    CHECK(i18n_set_has(s, "ZH-hant")); /* tags ignore case */
    CHECK(!i18n_set_has(s, "zh"));
    CHECK(!i18n_set_has(s, "fr"));
    CHECK(!i18n_set_has(s, ""));
    CHECK(!i18n_set_has(s, NULL));

    /* English is the source, a language is offered once, and there is
     * room for I18N_MAX_LANGS in all; a refused catalog is freed (ASan's
     * leak check watches). */
    err_t err;
    CHECK_INT(i18n_set_add_take(s, parse_ok("en", ""), &err), ERR_CONFLICT);
    CHECK_INT(i18n_set_add_take(s, parse_ok("ES", ""), &err), ERR_CONFLICT);
    static const char *const more[] = {"fr", "de", "it", "ru"};
    for (size_t i = 0; i < 4; i++)
        CHECK_INT(i18n_set_add_take(s, parse_ok(more[i], ""), &err), ERR_OK);
    CHECK_INT(i18n_set_count(s), I18N_MAX_LANGS);
    CHECK_INT(i18n_set_add_take(s, parse_ok("nl", ""), &err), ERR_TOO_LARGE);
    CHECK_INT(i18n_set_count(s), I18N_MAX_LANGS);
    i18n_set_free(s);
    i18n_set_free(NULL);
}

static void test_text_fallback(void)
{
    i18n_set *s = test_set();
    REQUIRE(s != NULL);
    CHECK_STR(i18n_text(s, "es", "Hello"), "Hola");
    CHECK_STR(i18n_text(s, "pt-BR", "Hello"), "Olá");
    const char *msgid = "Not translated";
    CHECK(i18n_text(s, "es", msgid) == msgid); /* English, the very same text */
    CHECK(i18n_text(s, "en", "Hello") != NULL);
    CHECK_STR(i18n_text(s, "en", "Hello"), "Hello");
    CHECK_STR(i18n_text(s, "zh-Hant", "Hello"), "Hello");
    CHECK_STR(i18n_text(s, "fr", "Hello"), "Hello"); /* not offered: English */
    CHECK_STR(i18n_text(s, NULL, "Hello"), "Hello");
    i18n_set_free(s);
}

typedef struct {
    const char *choice, *header, *want;
} nego_case;

static void test_negotiate(void)
{
    static const nego_case cases[] = {
        /* no header, or nothing usable: English */
        {NULL, NULL, "en"},
        {NULL, "", "en"},
        {NULL, "   ", "en"},
        {NULL, "fr", "en"},
        {NULL, "fr-CA, de;q=0.9", "en"},
        /* plain matches, case ignored */
        {NULL, "es", "es"},
        {NULL, "ES", "es"},
        {NULL, "zh-hant", "zh-Hant"},
        {NULL, "en-US,en;q=0.9,es;q=0.8", "en"},
        {NULL, "es-ES,es;q=0.9,en;q=0.8", "es"},
        /* region fallback (lookup) and a shorter range (filtering) */
        {NULL, "es-MX", "es"},
        {NULL, "es-419", "es"},
        {NULL, "zh-Hant-TW", "zh-Hant"},
        {NULL, "zh", "zh-Hant"},
        {NULL, "pt", "pt-BR"},
        {NULL, "pt-PT", "en"},
        {NULL, "en-GB", "en"},
        /* q-values */
        {NULL, "fr, es;q=0.5", "es"},
        {NULL, "en;q=0.5, es;q=0.8", "es"},
        {NULL, "en;q=0.1, es;q=0.2, pt;q=0.3", "pt-BR"},
        {NULL, "es;q=0.001, en;q=0", "es"},
        {NULL, " es ; q=0.9 ,\ten;Q=0.8 ", "es"},
        {NULL, "es;q=1.000", "es"},
        {NULL, "es;q=0.", "en"}, /* q=0 */
        /* ties: the first in the header */
        {NULL, "es;q=0.5, en;q=0.5", "es"},
        {NULL, "en;q=0.5, es;q=0.5", "en"},
        {NULL, "zh, es", "zh-Hant"},
        /* q=0 refuses, wherever it is */
        {NULL, "es;q=0", "en"},
        {NULL, "es, es;q=0", "en"},
        {NULL, "es;q=0.000, *", "en"},
        {NULL, "es-MX;q=0, es", "es"}, /* refusing Mexican Spanish is not refusing Spanish */
        {NULL, "es;q=0, es-MX", "en"},
        {NULL, "*;q=0", "en"},
        /* wildcards */
        {NULL, "*", "en"},
        {NULL, "fr, *;q=0.1", "en"},
        {NULL, "*;q=0.1, es;q=0.2", "es"},
        {NULL, "*;q=0.5, es;q=0.2", "en"},
        {NULL, "en;q=0, *", "es"}, /* anything but English */
        {NULL, "en;q=0, es;q=0, *", "zh-Hant"},
        /* malformed parts are skipped, the rest still counts */
        {NULL, "es;q=1.0001", "en"},
        {NULL, "es;q=1.0001, pt", "pt-BR"},
        {NULL, "es;q=abc", "en"},
        {NULL, "es;q=", "en"},
        {NULL, "es;q", "en"},
        {NULL, "es;", "en"},
        {NULL, "es;q=1.5", "en"},
        {NULL, "es;q=2", "en"},
        {NULL, "es;q=-1", "en"},
        {NULL, "es;q=.5", "en"},
        {NULL, "es;q=0.5;q=0.6", "en"},
        {NULL, "es;level=1", "en"},
        {NULL, "es q=0.5", "en"},
        {NULL, "es-", "en"},
        {NULL, "-es", "en"},
        {NULL, "e1", "en"},
        {NULL, "abcdefghi", "en"},
        {NULL, "es-abcdefghi", "en"},
        {NULL, "español", "en"},
        {NULL, "es\x01", "en"},
        {NULL, "*-es", "en"},
        {NULL, ",,, ,es,,", "es"},
        {NULL, "garbage;;;, es;q=0.3", "es"},
        /* an explicit choice wins; an unknown one is ignored */
        {"es", "en", "es"},
        {"es", NULL, "es"},
        {"ES", "en", "es"},
        {"en", "es", "en"},
        {"fr", "es", "es"},
        {"", "es", "es"},
        {"es-MX", "pt", "pt-BR"}, /* a choice must be a tag offered, as it is */
    };
    i18n_set *s = test_set();
    REQUIRE(s != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = i18n_negotiate(s, cases[i].choice, cases[i].header);
        bool own = false;
        for (size_t k = 0; k < i18n_set_count(s); k++)
            own = own || got == i18n_set_lang(s, k);
        if (!own || got == NULL || strcmp(got, cases[i].want) != 0) {
            fprintf(stderr, "case %zu: choice %s, header \"%s\": got %s, want %s\n", i,
                    cases[i].choice ? cases[i].choice : "(none)",
                    cases[i].header ? cases[i].header : "(none)", got ? got : "(null)",
                    cases[i].want);
            CHECK(own && got != NULL && strcmp(got, cases[i].want) == 0);
        }
    }
    i18n_set_free(s);
}

static void test_negotiate_hostile(void)
{
    i18n_set *s = test_set();
    REQUIRE(s != NULL);
    size_t big = 1 << 20;
    char *h = malloc(big + 1);
    REQUIRE(h != NULL);

    /* A megabyte of ranges: only the first KiB is read, so a Spanish
     * range at the very end is never seen. */
    size_t n = 0;
    while (n + 3 < big - 3) {
        memcpy(h + n, "fr,", 3);
        n += 3;
    }
    memcpy(h + n, "es", 3);
    CHECK_STR(i18n_negotiate(s, NULL, h), "en");
    /* ... and one at the start is. */
    memcpy(h, "es,", 3);
    CHECK_STR(i18n_negotiate(s, NULL, h), "es");

    /* Only the first 32 ranges count. */
    n = 0;
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(h + n, big - n, "fr;q=0.9,");
    snprintf(h + n, big - n, "es");
    CHECK_STR(i18n_negotiate(s, NULL, h), "en");

    /* An element cut by the limit is not read as a shorter one. */
    n = (size_t)snprintf(h, big, "fr;q=0.5,");
    memset(h + n, ' ', 1100);
    n += 1100;
    snprintf(h + n, big - n, "es");
    CHECK_STR(i18n_negotiate(s, NULL, h), "en");

    /* One endless range, one endless parameter list, endless digits. */
    memset(h, 'a', big);
    h[big] = '\0';
    CHECK_STR(i18n_negotiate(s, NULL, h), "en");
    memcpy(h, "es", 2);
    memset(h + 2, ';', big - 2);
    CHECK_STR(i18n_negotiate(s, NULL, h), "en");
    n = (size_t)snprintf(h, big, "es;q=0.");
    memset(h + n, '0', big - n);
    CHECK_STR(i18n_negotiate(s, NULL, h), "en");
    /* A long tag of valid subtags that falls back to a language offered. */
    n = (size_t)snprintf(h, big, "es");
    while (n + 9 < 900) {
        memcpy(h + n, "-abcdefgh", 9);
        n += 9;
    }
    h[n] = '\0';
    CHECK_STR(i18n_negotiate(s, NULL, h), "es");
    free(h);
    i18n_set_free(s);
}

static void test_builtin(void)
{
    i18n_set *s = NULL;
    err_t err;
    err_clear(&err);
    err_code rc = i18n_set_builtin(&s, &err);
    if (rc != ERR_OK)
        fprintf(stderr, "builtin: %s\n", err.msg);
    REQUIRE(rc == ERR_OK && s != NULL);
    CHECK(i18n_set_count(s) >= 2);
    CHECK_STR(i18n_set_lang(s, 0), "en");
    CHECK_STR(i18n_set_lang_name(s, 0), "English");
    CHECK(i18n_set_has(s, "es"));
    size_t es = 0;
    for (size_t i = 0; i < i18n_set_count(s); i++)
        if (strcmp(i18n_set_lang(s, i), "es") == 0)
            es = i;
    CHECK(es > 0);
    CHECK_STR(i18n_set_lang_name(s, es), "Español");
    CHECK_STR(i18n_text(s, "es", "LANGUAGE_NAME"), "Español");
    CHECK_STR(i18n_negotiate(s, NULL, "es-MX,es;q=0.9,en;q=0.8"), "es");
    CHECK_STR(i18n_negotiate(s, NULL, "de-DE"), "en");
    i18n_set_free(s);
}

TEST_MAIN(TEST(test_syntax), TEST(test_line_ends_and_bom), TEST(test_empty_and_trivial),
          TEST(test_fuzzy_and_untranslated), TEST(test_many_lookups), TEST(test_errors),
          TEST(test_too_many_forms), TEST(test_bad_language_tags), TEST(test_set_basics),
          TEST(test_text_fallback), TEST(test_negotiate), TEST(test_negotiate_hostile),
          TEST(test_builtin))
