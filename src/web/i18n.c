/*
 * i18n.c - the website's message catalogs and the choice of a language.
 * See i18n.h for the contract.
 *
 * Owns: the strict gettext .po parser, the catalogs it builds, the set of
 * languages offered, and the Accept-Language negotiation.
 *
 * A catalog is one block of text holding every decoded string (allocated
 * once at the input's size, which no decoded text can exceed, so it never
 * moves and entries point into it) and an array of its translated entries
 * sorted by (context, msgid), searched by binary search. Nothing changes it
 * after i18n_catalog_parse returns, so any number of threads may read it.
 *
 * Never: quotes a catalog's text or a header's value in an error message
 * (a message names a line number and what was wrong there); keeps a
 * pointer into an Accept-Language header; does unbounded work on one.
 */
#include "web/i18n.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "web/i18n_builtin.h"

/* A catalog is a few hundred KiB; anything far larger is a mistake. */
#define PO_MAX_BYTES ((size_t)16 << 20)
/* msgstr[0..15]: gettext's languages need at most 6 plural forms. */
#define PO_MAX_FORMS 16

/* Accept-Language: only this much of a header, and this many of its
 * ranges, are looked at. Browsers send a few ranges in under 100 bytes. */
#define AL_MAX_BYTES 1024
#define AL_MAX_RANGES 32

#define NONE SIZE_MAX

/* ---- small ASCII helpers (no locale) ---- */

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* a[0..n) equals b[0..n), ignoring ASCII case. */
static bool ascii_caseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* A language tag as the set keeps them: 1-8 letters, then any number of
 * "-" and 1-8 letters or digits, shorter than I18N_TAG_MAX. */
static bool tag_valid(const char *t)
{
    size_t n = strnlen(t, I18N_TAG_MAX);
    if (n == 0 || n >= I18N_TAG_MAX)
        return false;
    size_t i = 0, run = 0;
    while (i < n && ascii_alpha(t[i]))
        i++, run++;
    if (run == 0 || run > 8)
        return false;
    while (i < n) {
        if (t[i++] != '-')
            return false;
        run = 0;
        while (i < n && (ascii_alpha(t[i]) || ascii_digit(t[i])))
            i++, run++;
        if (run == 0 || run > 8)
            return false;
    }
    return true;
}

/* ---- catalogs ---- */

/* One entry. Its strings point into the catalog's text block. */
typedef struct {
    const char *ctx;    /* msgctxt, or NULL when it has none */
    const char *id;     /* msgid */
    const char *plural; /* msgid_plural, or NULL */
    /* msgstr, or msgstr[0] of a plural entry; msgstr[k] follows
     * msgstr[k-1]'s NUL in the text block, so all nforms are kept. */
    const char *str;
    size_t nforms;
    size_t line; /* of the entry's first keyword */
    bool fuzzy;
} po_msg;

struct i18n_catalog {
    char lang[I18N_TAG_MAX];
    char *text;   /* every decoded string, each NUL-terminated */
    po_msg *msgs; /* the translated entries, sorted by msg_cmp */
    size_t count; /* of msgs */
    size_t plain; /* how many come first with no context: what lookup searches */
};

/* No context first, then by context, then by msgid; the line only makes
 * the order total (qsort is not stable). */
static int msg_cmp(const void *a, const void *b)
{
    const po_msg *x = a, *y = b;
    if ((x->ctx == NULL) != (y->ctx == NULL))
        return x->ctx == NULL ? -1 : 1;
    int d = x->ctx != NULL ? strcmp(x->ctx, y->ctx) : 0;
    if (d == 0)
        d = strcmp(x->id, y->id);
    if (d == 0)
        d = (x->line > y->line) - (x->line < y->line);
    return d;
}

static bool same_key(const po_msg *x, const po_msg *y)
{
    if ((x->ctx == NULL) != (y->ctx == NULL))
        return false;
    if (x->ctx != NULL && strcmp(x->ctx, y->ctx) != 0)
        return false;
    return strcmp(x->id, y->id) == 0;
}

/* ---- the parser ---- */

/* Where the parser is in an entry: after which keyword. */
typedef enum { PO_IDLE, PO_CTX, PO_ID, PO_PLURAL, PO_STR, PO_STRN } po_state;

typedef struct {
    err_t *err;
    size_t line;
    char *text; /* the catalog's block */
    size_t len, cap;
    bool open; /* a string is being written at text + len */
    po_msg *msgs;
    size_t nmsgs, msgcap;
    po_state state;
    po_msg cur;      /* the entry being read (state != PO_IDLE) */
    bool fuzzy_next; /* a "#, fuzzy" line came before the next entry */
} po_parser;

static err_code perr(po_parser *p, const char *what)
{
    return err_set(p->err, ERR_INVALID, "line %zu: %s", p->line, what);
}

/* The text block has room for the whole input, and decoding never grows
 * text (a string's bytes plus one NUL for its two quotes), so running out
 * is a bug here, never a property of the input. */
static err_code text_put(po_parser *p, const char *s, size_t n)
{
    if (n > p->cap - p->len)
        return err_set(p->err, ERR_INTERNAL, "line %zu: catalog text overflow", p->line);
    memcpy(p->text + p->len, s, n);
    p->len += n;
    return ERR_OK;
}

static err_code field_close(po_parser *p)
{
    if (!p->open)
        return ERR_OK;
    p->open = false;
    return text_put(p, "", 1);
}

/* Starts a new string at the end of the text block; *where gets it. */
static err_code field_begin(po_parser *p, const char **where)
{
    err_code rc = field_close(p);
    if (rc != ERR_OK)
        return rc;
    *where = p->text + p->len;
    p->open = true;
    return ERR_OK;
}

static void entry_begin(po_parser *p)
{
    p->cur = (po_msg){.line = p->line, .fuzzy = p->fuzzy_next};
    p->fuzzy_next = false;
}

/* Ends the entry being read (which has its msgstr) and keeps it. */
static err_code entry_end(po_parser *p)
{
    err_code rc = field_close(p);
    if (rc != ERR_OK)
        return rc;
    p->state = PO_IDLE;
    /* msgid "" without a context is the header, which has no plural. */
    if (p->cur.id[0] == '\0' && p->cur.ctx == NULL && p->cur.plural != NULL)
        return err_set(p->err, ERR_INVALID, "line %zu: a plural entry with an empty msgid",
                       p->cur.line);
    if (p->nmsgs == p->msgcap) {
        size_t ncap = p->msgcap ? p->msgcap * 2 : 64;
        if (ncap > SIZE_MAX / sizeof *p->msgs)
            return err_set(p->err, ERR_NOMEM, "out of memory");
        po_msg *n = realloc(p->msgs, ncap * sizeof *n);
        if (n == NULL)
            return err_set(p->err, ERR_NOMEM, "out of memory");
        p->msgs = n;
        p->msgcap = ncap;
    }
    p->msgs[p->nmsgs++] = p->cur;
    return ERR_OK;
}

/* Decodes the string that starts at s[i] (a '"') onto the text block; the
 * rest of the line must be blank. */
static err_code read_string(po_parser *p, const char *s, size_t n, size_t i)
{
    err_code rc;
    i++;
    for (;;) {
        size_t run = i;
        while (i < n && s[i] != '"' && s[i] != '\\' &&
               ((unsigned char)s[i] >= 0x20 || s[i] == '\t') && s[i] != 0x7f)
            i++;
        if (i > run && (rc = text_put(p, s + run, i - run)) != ERR_OK)
            return rc;
        if (i == n)
            return perr(p, "a string is not terminated");
        if (s[i] == '"')
            break;
        if (s[i] != '\\')
            return perr(p, "a control character in a string");
        if (i + 1 == n)
            return perr(p, "a string is not terminated");
        const char *e;
        switch (s[i + 1]) {
        case '\\':
            e = "\\";
            break;
        case '"':
            e = "\"";
            break;
        case 'n':
            e = "\n";
            break;
        case 't':
            e = "\t";
            break;
        default:
            return perr(p, "an unknown escape (only \\\\ \\\" \\n \\t)");
        }
        if ((rc = text_put(p, e, 1)) != ERR_OK)
            return rc;
        i += 2;
    }
    if (skip_ws(s, n, i + 1) != n)
        return perr(p, "unexpected text after a string");
    return ERR_OK;
}

/* A comment line (s[0] is '#'). Only "#," flags mean anything: "fuzzy"
 * among them drops the entry that follows. Obsolete entries ("#~") and
 * previous msgids ("#|") are comments too. */
static err_code comment(po_parser *p, const char *s, size_t n)
{
    if (p->state == PO_CTX || p->state == PO_ID || p->state == PO_PLURAL)
        return perr(p, "a comment inside an entry, before its msgstr");
    if (p->state != PO_IDLE) {
        err_code rc = entry_end(p);
        if (rc != ERR_OK)
            return rc;
    }
    if (n < 2 || s[1] != ',')
        return ERR_OK;
    size_t i = 2;
    while (i < n) {
        size_t start = skip_ws(s, n, i), end = start;
        while (end < n && s[end] != ',')
            end++;
        size_t last = end;
        while (last > start && (s[last - 1] == ' ' || s[last - 1] == '\t'))
            last--;
        if (last - start == 5 && memcmp(s + start, "fuzzy", 5) == 0)
            p->fuzzy_next = true;
        i = end + 1;
    }
    return ERR_OK;
}

typedef enum { KW_NONE, KW_MSGCTXT, KW_MSGID, KW_MSGID_PLURAL, KW_MSGSTR, KW_MSGSTR_N } po_kw;

static po_kw keyword_of(const char *w, size_t n)
{
    static const struct {
        const char *name;
        po_kw kw;
    } words[] = {{"msgctxt", KW_MSGCTXT},
                 {"msgid", KW_MSGID},
                 {"msgid_plural", KW_MSGID_PLURAL},
                 {"msgstr", KW_MSGSTR}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].name) == n && memcmp(words[i].name, w, n) == 0)
            return words[i].kw;
    return KW_NONE;
}

/* What a keyword does to the entry being read. Sets *field to where its
 * string goes, or leaves it NULL for a further plural form. */
static err_code keyword_step(po_parser *p, po_kw kw, size_t index, const char ***field)
{
    err_code rc;
    *field = NULL;
    if ((kw == KW_MSGCTXT || kw == KW_MSGID) && (p->state == PO_STR || p->state == PO_STRN)) {
        if ((rc = entry_end(p)) != ERR_OK)
            return rc;
    }
    switch (kw) {
    case KW_MSGCTXT:
        if (p->state != PO_IDLE)
            return perr(p, "msgctxt out of place");
        entry_begin(p);
        p->state = PO_CTX;
        *field = &p->cur.ctx;
        return ERR_OK;
    case KW_MSGID:
        if (p->state == PO_IDLE)
            entry_begin(p);
        else if (p->state != PO_CTX)
            return perr(p, "msgid out of place (the entry before has no msgstr)");
        p->state = PO_ID;
        *field = &p->cur.id;
        return ERR_OK;
    case KW_MSGID_PLURAL:
        if (p->state != PO_ID)
            return perr(p, "msgid_plural without a msgid just before it");
        p->state = PO_PLURAL;
        *field = &p->cur.plural;
        return ERR_OK;
    case KW_MSGSTR:
        if (p->state == PO_IDLE || p->state == PO_CTX)
            return perr(p, "msgstr without msgid");
        if (p->state == PO_PLURAL)
            return perr(p, "msgstr after msgid_plural (msgstr[0], msgstr[1], ... expected)");
        if (p->state != PO_ID)
            return perr(p, "msgstr out of place");
        p->state = PO_STR;
        p->cur.nforms = 1;
        *field = &p->cur.str;
        return ERR_OK;
    case KW_MSGSTR_N:
        if (p->state == PO_IDLE || p->state == PO_CTX)
            return perr(p, "msgstr without msgid");
        if (p->state == PO_ID)
            return perr(p, "msgstr[N] without msgid_plural");
        if (p->state != PO_PLURAL && p->state != PO_STRN)
            return perr(p, "msgstr[N] out of place");
        if (index != (p->state == PO_PLURAL ? 0 : p->cur.nforms))
            return perr(p, "msgstr[N] out of order (msgstr[0], msgstr[1], ... expected)");
        if (index >= PO_MAX_FORMS)
            return perr(p, "too many plural forms");
        if (p->state == PO_PLURAL)
            *field = &p->cur.str;
        p->state = PO_STRN;
        p->cur.nforms = index + 1;
        return ERR_OK;
    case KW_NONE:
        break;
    }
    return perr(p, "unexpected text");
}

/* A line that starts with a keyword at s[i]. */
static err_code keyword_line(po_parser *p, const char *s, size_t n, size_t i)
{
    size_t k = i;
    while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || s[k] == '_'))
        k++;
    po_kw kw = keyword_of(s + i, k - i);
    size_t index = 0;
    if (kw == KW_MSGSTR && k < n && s[k] == '[') {
        size_t d = ++k;
        while (k < n && ascii_digit(s[k]) && k - d < 3)
            index = index * 10 + (size_t)(s[k++] - '0');
        if (k == d || k == n || s[k] != ']' || (s[d] == '0' && k - d > 1))
            return perr(p, "a bad index in msgstr[N]");
        k++;
        kw = KW_MSGSTR_N;
    }
    if (kw == KW_NONE)
        return perr(p, "unexpected text");
    k = skip_ws(s, n, k);
    if (k == n || s[k] != '"')
        return perr(p, "a keyword without its string");
    /* A further plural form needs no pointer: it follows the last one. */
    const char **field, *unused;
    err_code rc = keyword_step(p, kw, index, &field);
    if (rc == ERR_OK)
        rc = field_begin(p, field != NULL ? field : &unused);
    if (rc != ERR_OK)
        return rc;
    return read_string(p, s, n, k);
}

static err_code parse_line(po_parser *p, const char *s, size_t n)
{
    if (memchr(s, '\0', n) != NULL)
        return perr(p, "a NUL byte");
    if (!utf8_valid(s, n))
        return perr(p, "invalid UTF-8");
    size_t i = skip_ws(s, n, 0);
    if (i == n)
        return ERR_OK;
    if (s[i] == '#')
        return comment(p, s + i, n - i);
    if (s[i] == '"') {
        if (p->state == PO_IDLE)
            return perr(p, "a string outside an entry");
        return read_string(p, s, n, i); /* continues the last string */
    }
    return keyword_line(p, s, n, i);
}

/* The header entry's msgstr holds "Name: value" lines. If its
 * Content-Type names a charset, that must be UTF-8. */
static bool header_charset_ok(const char *h)
{
    static const char ct[] = "Content-Type:", cs[] = "charset=";
    while (*h != '\0') {
        const char *eol = strchr(h, '\n');
        size_t n = eol != NULL ? (size_t)(eol - h) : strlen(h);
        if (n >= sizeof ct - 1 && ascii_caseeq(h, ct, sizeof ct - 1)) {
            for (size_t i = sizeof ct - 1; i + sizeof cs - 1 <= n; i++) {
                if (!ascii_caseeq(h + i, cs, sizeof cs - 1))
                    continue;
                size_t v = i + sizeof cs - 1, e = v;
                while (e < n && h[e] != ';' && h[e] != ' ' && h[e] != '\t')
                    e++;
                if (e - v != 5 || !ascii_caseeq(h + v, "UTF-8", 5))
                    return false;
                break;
            }
        }
        if (eol == NULL)
            break;
        h = eol + 1;
    }
    return true;
}

/* Every form of m is a non-empty string. */
static bool translated(const po_msg *m)
{
    const char *f = m->str;
    for (size_t k = 0; k < m->nforms; k++) {
        if (f[0] == '\0')
            return false;
        f += strlen(f) + 1;
    }
    return true;
}

/* After the last line: duplicates, the header, and the entries kept. */
static err_code finish(po_parser *p, i18n_catalog *c)
{
    po_msg *m = p->msgs;
    size_t n = p->nmsgs;
    if (n > 1)
        qsort(m, n, sizeof *m, msg_cmp);
    /* Of all duplicates, report the one that comes first in the file. */
    size_t dup = NONE, first = 0;
    for (size_t i = 1; i < n; i++) {
        if (same_key(&m[i - 1], &m[i]) && (dup == NONE || m[i].line < dup)) {
            dup = m[i].line;
            first = m[i - 1].line;
        }
    }
    if (dup != NONE)
        return err_set(p->err, ERR_INVALID, "line %zu: a duplicate msgid (first at line %zu)", dup,
                       first);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].ctx == NULL && m[i].id[0] == '\0') {
            /* The header, fuzzy or not: its charset says what the bytes are. */
            if (!header_charset_ok(m[i].str))
                return err_set(p->err, ERR_INVALID, "line %zu: the header's charset is not UTF-8",
                               m[i].line);
            continue;
        }
        if (m[i].fuzzy || !translated(&m[i]))
            continue;
        m[kept++] = m[i];
        if (m[i].ctx == NULL)
            c->plain = kept;
    }
    c->msgs = p->msgs;
    c->count = kept;
    p->msgs = NULL;
    return ERR_OK;
}

err_code i18n_catalog_parse(const char *lang, const char *po, size_t len, i18n_catalog **out,
                            err_t *err)
{
    if (out == NULL)
        return err_set(err, ERR_INTERNAL, "i18n_catalog_parse: no place for the result");
    *out = NULL;
    if (lang == NULL || !tag_valid(lang))
        return err_set(err, ERR_INVALID, "a catalog's language is not a valid language tag");
    if (po == NULL && len > 0)
        return err_set(err, ERR_INTERNAL, "i18n_catalog_parse: no text");
    if (len > PO_MAX_BYTES)
        return err_set(err, ERR_TOO_LARGE, "a catalog is larger than %zu MiB", PO_MAX_BYTES >> 20);

    i18n_catalog *c = calloc(1, sizeof *c);
    po_parser p = {.err = err, .cap = len + 1};
    if (c == NULL || (p.text = malloc(p.cap)) == NULL) {
        free(c);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    memcpy(c->lang, lang, strlen(lang) + 1);
    c->text = p.text;

    err_code rc = ERR_OK;
    size_t pos = 0;
    /* Some editors start a UTF-8 file with a byte order mark; msgfmt
     * refuses it, and so do we, with a message that says what it is. */
    if (len >= 3 && memcmp(po, "\xEF\xBB\xBF", 3) == 0) {
        rc = err_set(err, ERR_INVALID, "line 1: a byte order mark (save as UTF-8 without one)");
        goto fail;
    }
    while (pos < len) {
        const char *nl = memchr(po + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - po) : len;
        size_t n = end - pos;
        if (n > 0 && po[pos + n - 1] == '\r')
            n--; /* CRLF line ends */
        p.line++;
        if ((rc = parse_line(&p, po + pos, n)) != ERR_OK)
            goto fail;
        pos = end + 1;
    }
    if (p.state == PO_CTX || p.state == PO_ID || p.state == PO_PLURAL) {
        rc = err_set(err, ERR_INVALID, "line %zu: an entry without msgstr", p.cur.line);
        goto fail;
    }
    if (p.state != PO_IDLE && (rc = entry_end(&p)) != ERR_OK)
        goto fail;
    if ((rc = finish(&p, c)) != ERR_OK)
        goto fail;
    *out = c;
    return ERR_OK;
fail:
    free(p.msgs);
    i18n_catalog_free(c);
    return rc;
}

void i18n_catalog_free(i18n_catalog *c)
{
    if (c == NULL)
        return;
    free(c->msgs);
    free(c->text);
    free(c);
}

const char *i18n_catalog_lang(const i18n_catalog *c)
{
    return c->lang;
}

size_t i18n_catalog_count(const i18n_catalog *c)
{
    return c->count;
}

const char *i18n_catalog_lookup(const i18n_catalog *c, const char *msgid)
{
    if (c == NULL || msgid == NULL)
        return NULL;
    size_t lo = 0, hi = c->plain;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(msgid, c->msgs[mid].id);
        if (d == 0)
            return c->msgs[mid].str;
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ---- the set of languages ---- */

struct i18n_set {
    size_t ncat;
    i18n_catalog *cat[I18N_MAX_LANGS - 1]; /* language i is cat[i - 1]; 0 is English */
};

static const char ENGLISH[] = "en";

err_code i18n_set_new(i18n_set **out, err_t *err)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    return ERR_OK;
}

/* The index of lang in s (ASCII case ignored, as in BCP 47), or NONE. */
static size_t set_find(const i18n_set *s, const char *lang)
{
    if (s == NULL || lang == NULL)
        return NONE;
    size_t n = strnlen(lang, I18N_TAG_MAX);
    if (n >= I18N_TAG_MAX)
        return NONE;
    for (size_t i = 0; i < i18n_set_count(s); i++) {
        const char *t = i18n_set_lang(s, i);
        if (t == lang || (strlen(t) == n && ascii_caseeq(t, lang, n)))
            return i;
    }
    return NONE;
}

err_code i18n_set_add_take(i18n_set *s, i18n_catalog *c, err_t *err)
{
    err_code rc = ERR_OK;
    if (c == NULL)
        return err_set(err, ERR_INTERNAL, "i18n_set_add_take: no catalog");
    if (set_find(s, c->lang) != NONE)
        rc = err_set(err, ERR_CONFLICT, "the language of a catalog is already offered");
    else if (s->ncat >= sizeof s->cat / sizeof s->cat[0])
        rc = err_set(err, ERR_TOO_LARGE, "more than %d languages", I18N_MAX_LANGS);
    if (rc != ERR_OK) {
        i18n_catalog_free(c);
        return rc;
    }
    s->cat[s->ncat++] = c;
    return ERR_OK;
}

void i18n_set_free(i18n_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->ncat; i++)
        i18n_catalog_free(s->cat[i]);
    free(s);
}

err_code i18n_set_builtin(i18n_set **out, err_t *err)
{
    i18n_set *s;
    *out = NULL;
    err_code rc = i18n_set_new(&s, err);
    if (rc != ERR_OK)
        return rc;
    for (const struct i18n_builtin_po *b = i18n_builtin_po; b->lang != NULL; b++) {
        i18n_catalog *c;
        rc = i18n_catalog_parse(b->lang, b->data, *b->len, &c, err);
        if (rc == ERR_OK)
            rc = i18n_set_add_take(s, c, err);
        if (rc != ERR_OK) {
            /* The tag is a file name of ours (scripts/embed-po checked it). */
            char what[32];
            snprintf(what, sizeof what, "po/%.16s.po", b->lang);
            err_wrap(err, what);
            i18n_set_free(s);
            return rc;
        }
    }
    *out = s;
    return ERR_OK;
}

size_t i18n_set_count(const i18n_set *s)
{
    return 1 + s->ncat;
}

const char *i18n_set_lang(const i18n_set *s, size_t i)
{
    if (i == 0)
        return ENGLISH;
    return i <= s->ncat ? s->cat[i - 1]->lang : NULL;
}

const char *i18n_set_lang_name(const i18n_set *s, size_t i)
{
    if (i == 0)
        return "English";
    if (i > s->ncat)
        return NULL;
    /* TRANSLATORS: your language's name in itself, for the language switch ("Español"). */
    const char *name = i18n_catalog_lookup(s->cat[i - 1], I18N_("LANGUAGE_NAME"));
    return name != NULL ? name : s->cat[i - 1]->lang;
}

bool i18n_set_has(const i18n_set *s, const char *lang)
{
    return set_find(s, lang) != NONE;
}

const char *i18n_text(const i18n_set *s, const char *lang, const char *msgid)
{
    size_t i = set_find(s, lang);
    if (i == NONE || i == 0)
        return msgid;
    const char *t = i18n_catalog_lookup(s->cat[i - 1], msgid);
    return t != NULL ? t : msgid;
}

/* ---- Accept-Language (RFC 9110 12.5.4, RFC 4647 ranges) ---- */

typedef struct {
    const char *tag; /* into the header; never kept past negotiation */
    size_t len;
    bool star;
    unsigned q; /* thousandths: 0..1000 */
} al_range;

typedef enum { AL_EMPTY, AL_BAD, AL_OK } al_parse;

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ). A fourth
 * digit is left for the caller to find (and refuse). */
static bool parse_qvalue(const char *s, size_t n, size_t *i, unsigned *q)
{
    if (*i >= n || (s[*i] != '0' && s[*i] != '1'))
        return false;
    bool one = s[(*i)++] == '1';
    unsigned v = one ? 1000 : 0, scale = 100;
    if (*i < n && s[*i] == '.') {
        (*i)++;
        for (int d = 0; d < 3 && *i < n && ascii_digit(s[*i]); d++, (*i)++) {
            if (one && s[*i] != '0')
                return false;
            v += (unsigned)(s[*i] - '0') * scale;
            scale /= 10;
        }
    }
    *q = v;
    return true;
}

/* One element of the list: OWS language-range [ OWS ";" OWS "q=" qvalue ] OWS.
 * No other parameter exists for Accept-Language, so any is malformed. */
static al_parse parse_range(const char *s, size_t n, al_range *r)
{
    size_t i = skip_ws(s, n, 0);
    if (i == n)
        return AL_EMPTY;
    r->tag = s + i;
    r->star = s[i] == '*';
    if (r->star) {
        i++;
    } else {
        size_t run = 0;
        while (i < n && ascii_alpha(s[i]))
            i++, run++;
        if (run == 0 || run > 8)
            return AL_BAD;
        while (i < n && s[i] == '-') {
            i++;
            run = 0;
            while (i < n && (ascii_alpha(s[i]) || ascii_digit(s[i])))
                i++, run++;
            if (run == 0 || run > 8)
                return AL_BAD;
        }
    }
    r->len = (size_t)(s + i - r->tag);
    r->q = 1000;
    bool seen_q = false;
    i = skip_ws(s, n, i);
    while (i < n && s[i] == ';') {
        i = skip_ws(s, n, i + 1);
        if (seen_q || i + 1 >= n || (s[i] != 'q' && s[i] != 'Q') || s[i + 1] != '=')
            return AL_BAD;
        i += 2;
        if (!parse_qvalue(s, n, &i, &r->q))
            return AL_BAD;
        seen_q = true;
        i = skip_ws(s, n, i);
    }
    return i == n ? AL_OK : AL_BAD;
}

/* The range r is the tag t, or a prefix of it ending at a "-": RFC 4647
 * basic filtering ("es" covers "es-MX"). */
static bool range_covers(const al_range *r, const char *t)
{
    size_t n = strlen(t);
    return r->len <= n && ascii_caseeq(r->tag, t, r->len) && (r->len == n || t[r->len] == '-');
}

/* The language of s that the range r asks for: the same tag; else the
 * longest tag that r falls back to by dropping subtags (RFC 4647 lookup:
 * "es-MX" to "es"); else the first tag r covers ("zh" for "zh-Hant"). */
static size_t range_match(const i18n_set *s, const al_range *r)
{
    size_t best = NONE, best_len = 0;
    for (size_t i = 0; i < i18n_set_count(s); i++) {
        const char *t = i18n_set_lang(s, i);
        size_t n = strlen(t);
        if (n == r->len && ascii_caseeq(t, r->tag, n))
            return i;
        if (n < r->len && r->tag[n] == '-' && ascii_caseeq(t, r->tag, n) && n > best_len) {
            best = i;
            best_len = n;
        }
    }
    if (best != NONE)
        return best;
    for (size_t i = 0; i < i18n_set_count(s); i++)
        if (range_covers(r, i18n_set_lang(s, i)))
            return i;
    return NONE;
}

const char *i18n_negotiate(const i18n_set *s, const char *choice, const char *accept_language)
{
    size_t i = set_find(s, choice);
    if (i != NONE)
        return i18n_set_lang(s, i);
    if (s == NULL)
        return ENGLISH;
    if (accept_language == NULL)
        return ENGLISH;

    /* First pass: the ranges asked for, and the languages q=0 refuses
     * (a refusal anywhere in the header wins over an acceptance). */
    struct {
        size_t lang; /* NONE for "*" */
        unsigned q;
    } want[AL_MAX_RANGES];
    size_t nwant = 0, parts = 0;
    bool refused[I18N_MAX_LANGS] = {false};
    const char *h = accept_language;
    size_t limit = strnlen(h, AL_MAX_BYTES + 1);
    bool cut = limit > AL_MAX_BYTES;
    if (cut)
        limit = AL_MAX_BYTES;
    size_t pos = 0;
    while (pos < limit && parts < AL_MAX_RANGES) {
        const char *comma = memchr(h + pos, ',', limit - pos);
        if (comma == NULL && cut)
            break; /* the element runs past what is read: not seen whole */
        size_t end = comma != NULL ? (size_t)(comma - h) : limit;
        al_range r;
        al_parse got = parse_range(h + pos, end - pos, &r);
        pos = end + 1;
        if (got == AL_EMPTY)
            continue;
        parts++;
        if (got == AL_BAD)
            continue;
        if (r.q == 0) {
            for (size_t k = 0; !r.star && k < i18n_set_count(s); k++)
                if (range_covers(&r, i18n_set_lang(s, k)))
                    refused[k] = true;
            continue;
        }
        size_t lang = r.star ? NONE : range_match(s, &r);
        if (r.star || lang != NONE) {
            want[nwant].lang = lang;
            want[nwant].q = r.q;
            nwant++;
        }
    }

    /* "*" is English, or if English is refused the first language that
     * is not. The highest q wins; among equals, the first in the header. */
    size_t star = NONE;
    for (size_t k = 0; k < i18n_set_count(s) && star == NONE; k++)
        if (!refused[k])
            star = k;
    size_t best = NONE;
    unsigned best_q = 0;
    for (size_t k = 0; k < nwant; k++) {
        size_t lang = want[k].lang == NONE ? star : want[k].lang;
        if (lang != NONE && !refused[lang] && want[k].q > best_q) {
            best = lang;
            best_q = want[k].q;
        }
    }
    return best != NONE ? i18n_set_lang(s, best) : ENGLISH;
}
