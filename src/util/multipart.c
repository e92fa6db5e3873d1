/*
 * multipart.c - the multipart/form-data decoder (RFC 7578 parts between
 * RFC 2046 delimiters). See multipart.h for the contract.
 *
 * Owns: the boundary parameter of the Content-Type, splitting the body at
 * its delimiters, each part's headers and its Content-Disposition. Text
 * fields go through kv_add, the door form_decode uses, so a multipart form
 * meets exactly the limits and UTF-8 rules of a urlencoded one. Never puts
 * a value, a file name or file bytes in an error message, and never copies
 * a file's bytes.
 *
 * Linear in the body, whatever it holds: the delimiter search moves
 * forward only (see delim_search), header lines are looked at through a
 * window of at most MP_LINE_MAX + 2 bytes, and every part costs at most
 * one kv_add or one array slot, both bounded by the limits.
 */
#include "util/multipart.h"

#include <stdbool.h>
#include <string.h>

#include "util/utf8.h"

enum {
    MP_BOUNDARY_MAX = 70, /* RFC 2046 */
    MP_LINE_MAX = 1024,   /* a part header line, without its CRLF */
    MP_HEADERS_MAX = 8,   /* header lines per part */
};

static const char MP_FORM_DATA[] = "multipart/form-data";
static const char MP_DEFAULT_TYPE[] = "application/octet-stream";

/* What follows "CRLF--boundary" (or "--boundary" at the start). */
typedef enum {
    DELIM_NONE,  /* not a delimiter: the bytes are data */
    DELIM_PART,  /* transport padding and CRLF: a part follows */
    DELIM_CLOSE, /* "--": the close delimiter */
    DELIM_TRUNC, /* the body ends before it can tell */
} delim_kind;

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 7230 tchar: header names, parameter names, disposition types. */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars (a space only inside, checked by the caller). */
static bool is_bchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the lower-case literal lit, ignoring ASCII case. */
static bool ieq(const char *s, size_t n, const char *lit)
{
    if (strlen(lit) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(s[i]) != lit[i])
            return false;
    return true;
}

int mp_is_multipart(const char *content_type)
{
    if (content_type == NULL)
        return 0;
    while (is_ows(*content_type))
        content_type++;
    size_t n = sizeof MP_FORM_DATA - 1;
    for (size_t i = 0; i < n; i++)
        if (content_type[i] == '\0' || ascii_lower(content_type[i]) != MP_FORM_DATA[i])
            return 0;
    char next = content_type[n];
    return next == '\0' || next == ';' || is_ows(next);
}

/*
 * Parameters (RFC 7231 / RFC 6266): `; name=value` with optional white
 * space around, the value a token or a quoted-string. Quoted values are
 * unescaped into scratch, which has room for n bytes (no value unescapes
 * longer than its text, nor all of them together).
 *
 * escapes says whether a backslash escapes the next byte. The RFCs say it
 * does, and older browsers sent \" for a quote; browsers that follow the
 * HTML standard (Chromium, Firefox) send %22 for a quote and a backslash
 * as itself, so a file named `a\` arrives as filename="a\". The caller
 * parses with escapes first and, if that fails, again without.
 */
typedef struct {
    const char *s;
    size_t n, pos;
    bool escapes;
    char *scratch;
    size_t used;
} param_iter;

/* 1 and the next parameter, 0 at the end, -1 when malformed. The name
 * points into s; the value into s or scratch. */
static int param_next(param_iter *it, const char **name, size_t *name_len, const char **value,
                      size_t *value_len)
{
    const char *s = it->s;
    while (it->pos < it->n && is_ows(s[it->pos]))
        it->pos++;
    if (it->pos == it->n)
        return 0;
    if (s[it->pos] != ';')
        return -1;
    /* Empty parameters (";;", a trailing ';') are skipped: harmless. */
    while (it->pos < it->n && (s[it->pos] == ';' || is_ows(s[it->pos])))
        it->pos++;
    if (it->pos == it->n)
        return 0;
    size_t start = it->pos;
    while (it->pos < it->n && is_tchar((unsigned char)s[it->pos]))
        it->pos++;
    if (it->pos == start)
        return -1;
    *name = s + start;
    *name_len = it->pos - start;
    while (it->pos < it->n && is_ows(s[it->pos]))
        it->pos++;
    if (it->pos == it->n || s[it->pos] != '=')
        return -1;
    it->pos++;
    while (it->pos < it->n && is_ows(s[it->pos]))
        it->pos++;
    if (it->pos < it->n && s[it->pos] == '"') {
        it->pos++;
        char *out = it->scratch + it->used;
        size_t o = 0;
        for (;;) {
            if (it->pos == it->n)
                return -1; /* no closing quote */
            char c = s[it->pos++];
            if (c == '"')
                break;
            if (c == '\\' && it->escapes) {
                if (it->pos == it->n)
                    return -1;
                c = s[it->pos++];
            }
            out[o++] = c;
        }
        it->used += o;
        *value = out;
        *value_len = o;
        return 1;
    }
    /* A bare value: anything up to white space or ';' but a quote or a
     * control character (tolerant of what a token strictly allows). */
    start = it->pos;
    while (it->pos < it->n) {
        unsigned char c = (unsigned char)s[it->pos];
        if (is_ows((char)c) || c == ';' || c == '"' || c < 0x20 || c == 0x7f)
            break;
        it->pos++;
    }
    if (it->pos == start)
        return -1;
    *value = s + start;
    *value_len = it->pos - start;
    return 1;
}

/* Copies the boundary parameter of content_type into out (room for
 * MP_BOUNDARY_MAX bytes) after checking it. */
static err_code find_boundary(const char *content_type, pool_t *pool, char *out, size_t *out_len,
                              err_t *err)
{
    if (!mp_is_multipart(content_type))
        return err_set(err, ERR_INVALID, "the body is not multipart/form-data");
    while (is_ows(*content_type))
        content_type++;
    size_t n = strlen(content_type);
    char *scratch = pool_alloc(pool, n + 1);
    if (scratch == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    param_iter it = {content_type, n, sizeof MP_FORM_DATA - 1, true, scratch, 0};
    const char *name, *value = NULL, *v;
    size_t name_len, value_len = 0, vlen;
    int r;
    while ((r = param_next(&it, &name, &name_len, &v, &vlen)) == 1) {
        if (!ieq(name, name_len, "boundary"))
            continue;
        if (value != NULL)
            return err_set(err, ERR_INVALID, "the Content-Type has more than one boundary");
        value = v;
        value_len = vlen;
    }
    if (r < 0)
        return err_set(err, ERR_INVALID, "the Content-Type's parameters are malformed");
    if (value == NULL)
        return err_set(err, ERR_INVALID, "multipart/form-data needs a boundary parameter");
    if (value_len == 0 || value_len > MP_BOUNDARY_MAX)
        return err_set(err, ERR_INVALID, "the multipart boundary must be 1 to %d characters",
                       MP_BOUNDARY_MAX);
    for (size_t i = 0; i < value_len; i++)
        if (!is_bchar((unsigned char)value[i]))
            return err_set(err, ERR_INVALID,
                           "the multipart boundary has a character RFC 2046 does not allow");
    if (value[value_len - 1] == ' ')
        return err_set(err, ERR_INVALID, "the multipart boundary ends with a space");
    memcpy(out, value, value_len);
    *out_len = value_len;
    return ERR_OK;
}

/* What the bytes from q (just after a boundary) make of it; *next is where
 * a part's headers start (DELIM_PART) or the epilogue (DELIM_CLOSE). */
static delim_kind classify(const char *q, const char *end, const char **next)
{
    if (q < end && *q == '-') {
        if (q + 1 == end)
            return DELIM_TRUNC;
        if (q[1] == '-') {
            *next = q + 2; /* transport padding and epilogue: ignored */
            return DELIM_CLOSE;
        }
        return DELIM_NONE;
    }
    while (q < end && is_ows(*q))
        q++;
    if (q == end || (*q == '\r' && q + 1 == end))
        return DELIM_TRUNC;
    if (q[0] == '\r' && q[1] == '\n') {
        *next = q + 2;
        return DELIM_PART;
    }
    return DELIM_NONE;
}

/*
 * The delimiter, "\r\n--" and the boundary, and a Horspool skip table
 * for it, built once per body.
 *
 * Not memmem: under ASan (make test, the fuzzers) its interceptor checks
 * the whole rest of the body on every call, so a body of many parts cost
 * quadratic time there. And not memchr for each CR: a body of CRs stops
 * it at every byte. Horspool moves on by what the window's last byte
 * allows (usually the whole delimiter), never backwards.
 */
typedef struct {
    char text[4 + MP_BOUNDARY_MAX];
    size_t len;
    unsigned char skip[256]; /* len is at most 74 */
} delimiter;

static void delim_init(delimiter *d, const char *boundary, size_t blen)
{
    memcpy(d->text, "\r\n--", 4);
    memcpy(d->text + 4, boundary, blen);
    d->len = 4 + blen;
    memset(d->skip, (int)d->len, sizeof d->skip);
    for (size_t j = 0; j + 1 < d->len; j++)
        d->skip[(unsigned char)d->text[j]] = (unsigned char)(d->len - 1 - j);
}

/*
 * The first "\r\n--boundary" at or after from, or NULL. Linear: the
 * window moves forward at least one byte a step (by the skip table, or to
 * the next CR when its last byte matches but it does not start with one);
 * bytes are compared only where the window starts with a CR, and what a
 * compare matched (after its CR) holds no CR, since no bchar is one, so no
 * byte is compared by two compares. Measured on 10 MB in the release
 * build: 0.8 ms for random bytes, under 10 ms for the worst shapes tried
 * (boundaries of one repeated byte, a near-delimiter every 6 bytes).
 */
static const char *delim_search(const delimiter *d, const char *from, const char *end)
{
    size_t m = d->len;
    unsigned char last = (unsigned char)d->text[m - 1];
    while ((size_t)(end - from) >= m) {
        unsigned char c = (unsigned char)from[m - 1];
        if (c == last && from[0] != '\r') {
            /* A boundary like "aaaa" skips one byte at a time through
             * "aaaa..."; but a delimiter starts with a CR, so go there. */
            from = memchr(from + 1, '\r', (size_t)(end - from) - m);
            if (from == NULL)
                return NULL;
            continue;
        }
        if (c == last && memcmp(from + 1, d->text + 1, m - 2) == 0)
            return from;
        from += d->skip[c];
    }
    return NULL;
}

/*
 * The first delimiter at or after from; returns where its CR is, or NULL
 * if there is none (*kind then DELIM_NONE). "\r\n--boundary" followed by
 * anything but padding and CRLF, or "--", is data (as Go's mime/multipart
 * reads it), and the search goes on from the next byte: padding after
 * such a false match is looked at twice, nothing more.
 */
static const char *find_delim(const delimiter *d, const char *from, const char *end,
                              delim_kind *kind, const char **next)
{
    const char *cr;
    while ((cr = delim_search(d, from, end)) != NULL) {
        *kind = classify(cr + d->len, end, next);
        if (*kind != DELIM_NONE)
            return cr;
        from = cr + 1;
    }
    /* Not a whole delimiter, but the body may end inside one ("\r\n--bou"):
     * the caller reports that as a missing closing delimiter either way. */
    *kind = DELIM_NONE;
    return NULL;
}

/* A part's Content-Disposition, as far as a form cares. */
typedef struct {
    const char *name; /* NULL if absent; into the header line or scratch */
    size_t name_len;
    bool is_file; /* filename or filename* present */
} disposition;

typedef enum { DISP_OK, DISP_MALFORMED, DISP_NOT_FORM_DATA, DISP_REPEATED } disp_result;

static disp_result parse_disposition(const char *v, size_t n, bool escapes, char *scratch,
                                     disposition *d)
{
    d->name = NULL;
    d->name_len = 0;
    d->is_file = false;
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)v[i]))
        i++;
    if (i == 0)
        return DISP_MALFORMED;
    if (!ieq(v, i, "form-data"))
        return DISP_NOT_FORM_DATA;
    param_iter it = {v, n, i, escapes, scratch, 0};
    bool seen_filename = false, seen_filename_ext = false;
    const char *name, *value;
    size_t name_len, value_len;
    int r;
    while ((r = param_next(&it, &name, &name_len, &value, &value_len)) == 1) {
        if (ieq(name, name_len, "name")) {
            if (d->name != NULL)
                return DISP_REPEATED;
            d->name = value;
            d->name_len = value_len;
        } else if (ieq(name, name_len, "filename")) {
            if (seen_filename)
                return DISP_REPEATED;
            seen_filename = true;
        } else if (ieq(name, name_len, "filename*")) {
            /* RFC 5987's form of the name: not decoded, since the file
             * name is never used, but it marks a file all the same. */
            if (seen_filename_ext)
                return DISP_REPEATED;
            seen_filename_ext = true;
        }
    }
    if (r < 0)
        return DISP_MALFORMED;
    d->is_file = seen_filename || seen_filename_ext;
    return DISP_OK;
}

static err_code disposition_error(disp_result r, err_t *err)
{
    switch (r) {
    case DISP_OK:
        return ERR_OK;
    case DISP_MALFORMED:
        return err_set(err, ERR_INVALID, "a part's Content-Disposition is malformed");
    case DISP_NOT_FORM_DATA:
        return err_set(err, ERR_INVALID, "a part's Content-Disposition is not form-data");
    case DISP_REPEATED:
        return err_set(err, ERR_INVALID, "a part's Content-Disposition repeats a parameter");
    }
    return err_set(err, ERR_INTERNAL, "content disposition parser");
}

/* One part's headers, read from *p up to and past the empty line. */
typedef struct {
    bool has_disposition;
    disposition disp;
    char disp_scratch[MP_LINE_MAX]; /* the unescaped values of the disposition */
    const char *content_type;       /* NULL if absent; into the body */
    size_t content_type_len;
} part_head;

static err_code header_line(const char *line, size_t n, part_head *h, err_t *err)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i == n || line[i] != ':')
        return err_set(err, ERR_INVALID, "a part header is malformed");
    size_t name_len = i++;
    while (i < n && is_ows(line[i]))
        i++;
    while (n > i && is_ows(line[n - 1]))
        n--;
    const char *v = line + i;
    size_t vlen = n - i;
    if (ieq(line, name_len, "content-disposition")) {
        if (h->has_disposition)
            return err_set(err, ERR_INVALID, "a part has more than one Content-Disposition");
        h->has_disposition = true;
        disp_result r = parse_disposition(v, vlen, true, h->disp_scratch, &h->disp);
        if (r != DISP_OK && memchr(v, '\\', vlen) != NULL &&
            parse_disposition(v, vlen, false, h->disp_scratch, &h->disp) == DISP_OK)
            r = DISP_OK;
        return disposition_error(r, err);
    }
    if (ieq(line, name_len, "content-type")) {
        if (h->content_type != NULL)
            return err_set(err, ERR_INVALID, "a part has more than one Content-Type");
        for (size_t k = 0; k < vlen; k++)
            if (!(v[k] == '\t' || (v[k] >= 0x20 && v[k] < 0x7f)))
                return err_set(err, ERR_INVALID, "a part's Content-Type is not ASCII text");
        h->content_type = v;
        h->content_type_len = vlen;
    }
    /* Any other header (Content-Transfer-Encoding, ...) is ignored. */
    return ERR_OK;
}

static err_code read_headers(const char **p, const char *end, part_head *h, err_t *err)
{
    h->has_disposition = false;
    h->content_type = NULL;
    h->content_type_len = 0;
    for (int lines = 0;; lines++) {
        size_t avail = (size_t)(end - *p);
        size_t window = avail < MP_LINE_MAX + 2 ? avail : MP_LINE_MAX + 2;
        const char *nl = memchr(*p, '\n', window);
        if (nl == NULL) {
            if (avail > MP_LINE_MAX + 1)
                return err_set(err, ERR_TOO_LARGE, "a part header line is longer than %d bytes",
                               MP_LINE_MAX);
            return err_set(err, ERR_INVALID, "the body ends inside a part's headers");
        }
        if (nl == *p || nl[-1] != '\r')
            return err_set(err, ERR_INVALID, "a part header line does not end with CRLF");
        const char *line = *p;
        size_t n = (size_t)(nl - 1 - line);
        *p = nl + 1;
        if (n == 0)
            return ERR_OK;
        if (lines == MP_HEADERS_MAX)
            return err_set(err, ERR_TOO_LARGE, "a part has more than %d header lines",
                           MP_HEADERS_MAX);
        err_code rc = header_line(line, n, h, err);
        if (rc != ERR_OK)
            return rc;
    }
}

/* The checks kv_add makes on a key, for a file's field name. */
static err_code check_file_name(const char *name, size_t n, const kv_limits *kv_lim, err_t *err)
{
    if (n > kv_lim->max_key_len)
        return err_set(err, ERR_TOO_LARGE, "a parameter name is longer than %zu bytes",
                       kv_lim->max_key_len);
    if (!utf8_valid(name, n) || memchr(name, '\0', n) != NULL)
        return err_set(err, ERR_INVALID, "a parameter name is not valid UTF-8 text");
    return ERR_OK;
}

typedef struct {
    mp_file *items;
    size_t count, cap;
} file_list;

static err_code add_file(file_list *fl, pool_t *pool, const part_head *h, const char *data,
                         size_t len, const mp_limits *lim, err_t *err)
{
    const disposition *d = &h->disp;
    if (len > lim->max_file_bytes)
        return err_set(err, ERR_TOO_LARGE, "file %.*s is larger than %zu bytes",
                       (int)utf8_clip(d->name, d->name_len, 64), d->name, lim->max_file_bytes);
    mp_file *n = pool_grow(pool, fl->items, fl->count, &fl->cap, sizeof *n);
    if (n == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    fl->items = n;
    mp_file *f = &fl->items[fl->count];
    f->name = pool_strndup(pool, d->name, d->name_len);
    if (h->content_type != NULL && h->content_type_len > 0)
        f->content_type = pool_strndup(pool, h->content_type, h->content_type_len);
    else
        f->content_type = MP_DEFAULT_TYPE;
    if (f->name == NULL || f->content_type == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    f->data = (const unsigned char *)data;
    f->len = len;
    f->has_filename = 1;
    fl->count++;
    return ERR_OK;
}

/* The body after its boundary is known; fields and fl are filled as parts
 * are read, and the caller undoes them on failure. */
static err_code decode_parts(const char *body, size_t len, const delimiter *d, pool_t *pool,
                             const kv_limits *kv_lim, const mp_limits *lim, kv_list *fields,
                             file_list *fl, err_t *err)
{
    static const char truncated[] = "the body ends before the closing multipart delimiter";
    const char *end = body + len, *p = NULL;
    delim_kind kind = DELIM_NONE;
    /* The first delimiter may open the body without a CRLF before it. */
    if (len >= d->len - 2 && memcmp(body, d->text + 2, d->len - 2) == 0)
        kind = classify(body + d->len - 2, end, &p);
    if (kind == DELIM_NONE && find_delim(d, body, end, &kind, &p) == NULL)
        return err_set(err, ERR_INVALID, "the body has no multipart delimiter");
    if (kind == DELIM_TRUNC)
        return err_set(err, ERR_INVALID, truncated);

    part_head h;
    while (kind == DELIM_PART) {
        err_code rc = read_headers(&p, end, &h, err);
        if (rc != ERR_OK)
            return rc;
        const disposition *disp = &h.disp;
        if (!h.has_disposition)
            return err_set(err, ERR_INVALID, "a part has no Content-Disposition");
        if (disp->name == NULL)
            return err_set(err, ERR_INVALID, "a part has no name");
        if (disp->name_len == 0)
            return err_set(err, ERR_INVALID, "a part has an empty name");
        if (disp->is_file) {
            if ((rc = check_file_name(disp->name, disp->name_len, kv_lim, err)) != ERR_OK)
                return rc;
            if (fl->count >= lim->max_files)
                return err_set(err, ERR_TOO_LARGE, "too many files (at most %zu)", lim->max_files);
        }
        const char *next = NULL;
        const char *stop = find_delim(d, p, end, &kind, &next);
        if (stop == NULL || kind == DELIM_TRUNC)
            return err_set(err, ERR_INVALID, truncated);
        if (disp->is_file)
            rc = add_file(fl, pool, &h, p, (size_t)(stop - p), lim, err);
        else
            rc = kv_add(fields, pool, disp->name, disp->name_len, p, (size_t)(stop - p), kv_lim,
                        err);
        if (rc != ERR_OK)
            return rc;
        p = next;
    }
    return ERR_OK; /* DELIM_CLOSE: the epilogue is ignored */
}

err_code mp_decode(const char *content_type, const char *body, size_t len, pool_t *pool,
                   const kv_limits *kv_lim, const mp_limits *lim, kv_list *fields, mp_file **files,
                   size_t *nfiles, err_t *err)
{
    *files = NULL;
    *nfiles = 0;
    if (body == NULL && len > 0)
        return err_set(err, ERR_INTERNAL, "mp_decode: no body");
    if (body == NULL)
        body = "";
    char boundary[MP_BOUNDARY_MAX];
    size_t blen = 0;
    err_code rc = find_boundary(content_type, pool, boundary, &blen, err);
    if (rc != ERR_OK)
        return rc;
    delimiter d;
    delim_init(&d, boundary, blen);
    kv_list saved = *fields;
    file_list fl = {NULL, 0, 0};
    rc = decode_parts(body, len, &d, pool, kv_lim, lim, fields, &fl, err);
    if (rc != ERR_OK) {
        /* Nothing half-done: the list is as the caller gave it (pairs
         * added since live on in the pool, unreachable). */
        *fields = saved;
        return rc;
    }
    *files = fl.items;
    *nfiles = fl.count;
    return ERR_OK;
}
