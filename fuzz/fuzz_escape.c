/*
 * fuzz_escape.c - the escaping appenders of buf.h (buf_json_str,
 * buf_json_strn, buf_xml_text, buf_csv_field), through which every value
 * a resident sent reaches a JSON, XML, HTML or CSV document.
 *
 * The input is any valid UTF-8 text (others are skipped: the writers'
 * contract is UTF-8 checked at the door). Each writer appends after a
 * prefix already in the buffer, and:
 *  - JSON: the output parses back with jansson to exactly the input (the
 *    whole input with buf_json_strn, NULs included; up to the first NUL
 *    with buf_json_str), and holds no raw control character;
 *  - XML: no raw '<', '>', '"', '\'' or CR, every '&' starts one of the
 *    entities written (&amp; &lt; &gt; &quot; &#39; &#13;), no character
 *    XML 1.0 forbids (C0 controls but tab, LF, CR; U+FFFE, U+FFFF), and
 *    <r>OUTPUT</r> is a well-formed document (expat) whose text is exactly
 *    the input without the dropped characters;
 *  - CSV: a field that needs no quotes is the input itself; otherwise it
 *    is quoted with inner quotes doubled, and unquoting gives the input.
 *
 * Corpus: fuzz/corpus/escape/.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <expat.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/buf.h"
#include "util/utf8.h"

#define PREFIX "x:"
#define PREFIX_LEN (sizeof PREFIX - 1)

/* buf_json_strn(s, n) (counted) or buf_json_str(s) after PREFIX. */
static void check_json(const char *s, size_t n, bool counted)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, PREFIX);
    if (counted)
        buf_json_strn(&b, s, n);
    else
        buf_json_str(&b, s);
    CHECK(!buf_failed(&b));
    CHECK(b.len >= PREFIX_LEN + 2 && memcmp(b.data, PREFIX, PREFIX_LEN) == 0);
    CHECK(b.data[b.len] == '\0');
    const char *out = b.data + PREFIX_LEN;
    size_t len = b.len - PREFIX_LEN;
    for (size_t i = 0; i < len; i++)
        CHECK((unsigned char)out[i] >= 0x20);

    size_t want = counted ? n : strlen(s);
    json_error_t je;
    json_t *v = json_loadb(out, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (v == NULL)
        fprintf(stderr, "fuzz_escape: JSON did not parse: %s\n", je.text);
    CHECK(json_is_string(v));
    CHECK(json_string_length(v) == want);
    CHECK(memcmp(json_string_value(v), s, want) == 0);
    json_decref(v);
    buf_free(&b);
}

/* What buf_xml_text must keep: all but the C0 controls XML 1.0 forbids
 * and the non-characters U+FFFE and U+FFFF (EF BF BE, EF BF BF). */
static size_t xml_expected(const char *s, char *out)
{
    size_t o = 0;
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == 0xEF && (unsigned char)p[1] == 0xBF &&
            ((unsigned char)p[2] == 0xBE || (unsigned char)p[2] == 0xBF))
            p += 2;
        else if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
            out[o++] = *p;
    }
    return o;
}

typedef struct {
    buf_t text;
} xml_collect;

static void XMLCALL collect_text(void *ud, const XML_Char *s, int len)
{
    xml_collect *x = ud;
    buf_append(&x->text, s, (size_t)len);
}

static void check_xml(const char *s, size_t n)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, PREFIX);
    buf_xml_text(&b, s);
    CHECK(!buf_failed(&b));
    CHECK(b.len >= PREFIX_LEN && memcmp(b.data, PREFIX, PREFIX_LEN) == 0);
    const char *out = b.data + PREFIX_LEN;
    size_t len = b.len - PREFIX_LEN;
    CHECK(utf8_valid(out, len));

    /* Decode the entities by hand: must give the input minus the dropped
     * characters. A CR is written as &#13;: raw, XML readers give LF. */
    static const char *const ENTITIES[][2] = {{"&amp;", "&"},   {"&lt;", "<"},  {"&gt;", ">"},
                                              {"&quot;", "\""}, {"&#39;", "'"}, {"&#13;", "\r"}};
    const size_t nent = sizeof ENTITIES / sizeof ENTITIES[0];
    char *want = malloc(n + 1), *got = malloc(len + 1);
    CHECK(want != NULL && got != NULL);
    size_t wn = xml_expected(s, want), gn = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)out[i];
        CHECK(c != '<' && c != '>' && c != '"' && c != '\'' && c != '\r');
        CHECK(c >= 0x20 || c == '\t' || c == '\n');
        if (c != '&') {
            got[gn++] = out[i++];
            continue;
        }
        size_t e = 0;
        while (e < nent && strncmp(out + i, ENTITIES[e][0], strlen(ENTITIES[e][0])) != 0)
            e++;
        CHECK(e < nent); /* a raw '&' that starts no entity */
        got[gn++] = ENTITIES[e][1][0];
        i += strlen(ENTITIES[e][0]);
    }
    CHECK(gn == wn && memcmp(got, want, wn) == 0);

    /* And an XML parser agrees: well-formed, and the same text. */
    buf_t doc = BUF_INIT;
    buf_puts(&doc, "<r>");
    buf_append(&doc, out, len);
    buf_puts(&doc, "</r>");
    CHECK(!buf_failed(&doc));
    xml_collect x = {BUF_INIT};
    XML_Parser p = XML_ParserCreate("UTF-8");
    CHECK(p != NULL);
    XML_SetUserData(p, &x);
    XML_SetCharacterDataHandler(p, collect_text);
    enum XML_Status st = XML_Parse(p, doc.data, (int)doc.len, XML_TRUE);
    if (st != XML_STATUS_OK)
        fprintf(stderr, "fuzz_escape: XML not well-formed: %s at column %lu\n",
                XML_ErrorString(XML_GetErrorCode(p)), (unsigned long)XML_GetCurrentColumnNumber(p));
    CHECK(st == XML_STATUS_OK);
    CHECK(x.text.len == wn && (wn == 0 || memcmp(x.text.data, want, wn) == 0));
    XML_ParserFree(p);
    buf_free(&x.text);
    buf_free(&doc);
    free(want);
    free(got);
    buf_free(&b);
}

static void check_csv(const char *s)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, PREFIX);
    buf_csv_field(&b, s);
    CHECK(!buf_failed(&b));
    CHECK(b.len >= PREFIX_LEN && memcmp(b.data, PREFIX, PREFIX_LEN) == 0);
    const char *out = b.data + PREFIX_LEN;
    size_t len = b.len - PREFIX_LEN, n = strlen(s);
    if (strpbrk(s, ",\"\r\n") == NULL) {
        CHECK(len == n && memcmp(out, s, n) == 0);
    } else {
        CHECK(len >= 2 && out[0] == '"' && out[len - 1] == '"');
        /* Unquote: inside, every quote is doubled. */
        size_t k = 0;
        for (size_t i = 1; i + 1 < len; i++) {
            if (out[i] == '"') {
                CHECK(i + 2 < len && out[i + 1] == '"');
                i++;
            }
            CHECK(k < n && out[i] == s[k]);
            k++;
        }
        CHECK(k == n);
    }
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    if (!utf8_valid(s, size))
        return 0;
    /* The C-string writers get a NUL-terminated copy (up to the first NUL
     * of the input); buf_json_strn gets the bytes as they are. */
    char *cstr = malloc(size + 1);
    if (cstr == NULL)
        return 0;
    memcpy(cstr, s, size);
    cstr[size] = '\0';
    check_json(s, size, true);
    check_json(cstr, size, false);
    check_xml(cstr, strlen(cstr));
    check_csv(cstr);
    free(cstr);
    return 0;
}
