/*
 * test_multipart.c - the multipart/form-data decoder (util/multipart.c):
 * bodies as real browsers send them, the boundary and delimiter rules of
 * RFC 2046, every refusal with its exact code and message, and that a
 * hostile body costs time linear in its size.
 *
 * Every refusal is checked the same way (expect_fail): the code, the
 * message, that the message holds no value and no file name (each
 * refused body carries the marker SECRET in them), and that the outputs
 * are as they were: the caller's list keeps its one pair, no files.
 */
#include <time.h>

#include "testlib.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/kv.h"
#include "util/multipart.h"
#include "util/pool.h"

static const mp_limits LIMITS = {5, 10 * 1024 * 1024};
static const kv_limits TINY_KV = {3, 4, 8};

typedef struct {
    pool_t *pool;
    kv_list fields;
    mp_file *files;
    size_t nfiles;
    err_t err;
} result;

static err_code decode_lim(result *r, const char *ct, const char *body, size_t len,
                           const kv_limits *kv_lim, const mp_limits *lim)
{
    kv_init(&r->fields);
    err_clear(&r->err);
    return mp_decode(ct, body, len, r->pool, kv_lim, lim, &r->fields, &r->files, &r->nfiles,
                     &r->err);
}

static err_code decode(result *r, const char *ct, const char *body, size_t len)
{
    return decode_lim(r, ct, body, len, &KV_DEFAULT_LIMITS, &LIMITS);
}

/* Decodes with a caller's list that already holds one pair and output
 * pointers set to garbage; true if the decode fails with code and exactly
 * msg, and leaves the list as it was, no files, no marker in the message. */
static bool expect_fail_lim(const char *ct, const char *body, size_t len, const kv_limits *kv_lim,
                            const mp_limits *lim, err_code code, const char *msg)
{
    pool_t *pool = pool_new();
    if (pool == NULL)
        return false;
    kv_list fields;
    kv_init(&fields);
    err_t err;
    bool ok = kv_add(&fields, pool, "pre", 3, "kept", 4, &KV_DEFAULT_LIMITS, &err) == ERR_OK;
    static mp_file garbage;
    mp_file *files = &garbage;
    size_t nfiles = 99;
    err_clear(&err);
    err_code rc = mp_decode(ct, body, len, pool, kv_lim, lim, &fields, &files, &nfiles, &err);
    if (rc != code || err.code != code || strcmp(err.msg, msg) != 0) {
        fprintf(stderr, "  got %d \"%s\", want %d \"%s\"\n", (int)rc, err.msg, (int)code, msg);
        ok = false;
    }
    if (strstr(err.msg, "SECRET") != NULL) {
        fprintf(stderr, "  a value or file name leaked into \"%s\"\n", err.msg);
        ok = false;
    }
    if (fields.count != 1 || strcmp(fields.items[0].key, "pre") != 0 ||
        strcmp(fields.items[0].value, "kept") != 0 || files != NULL || nfiles != 0) {
        fprintf(stderr, "  outputs half filled: %zu fields, files %p, %zu files\n", fields.count,
                (void *)files, nfiles);
        ok = false;
    }
    pool_free(pool);
    return ok;
}

static bool expect_fail(const char *ct, const char *body, size_t len, err_code code,
                        const char *msg)
{
    return expect_fail_lim(ct, body, len, &KV_DEFAULT_LIMITS, &LIMITS, code, msg);
}

/* A C string literal body (no NUL inside). */
#define FAILS(ct, body, code, msg) CHECK(expect_fail((ct), (body), strlen(body), (code), (msg)))

static bool bytes_eq(const void *got, size_t got_len, const void *want, size_t want_len)
{
    return got_len == want_len && (want_len == 0 || memcmp(got, want, want_len) == 0);
}

/* ---- real browsers ---- */

/*
 * Captured byte for byte from Chromium 156 (Debian 12), headless, posting
 * a form with enctype="multipart/form-data": a text input, a textarea
 * (two lines), two checked checkboxes of one name, and three file inputs:
 * a small binary file, none chosen, and an empty file named `we"ird\.txt`
 * (the quote sent as %22, the backslash as itself). Only the binary
 * file's content was edited afterwards, to hold CRLF, "--", NUL, 0xFF,
 * the delimiter less its last byte, and to end with "\r\n--" just before
 * the real delimiter.
 */
/* clang-format off */
#define CR_B "----WebKitFormBoundaryKwPc8lEBZ5peTWkv"
#define CR_CT "multipart/form-data; boundary=" CR_B
#define CR_FILE "A\r\n--B\r\n\r\n--" "----WebKitFormBoundaryKwPc8lEBZ5peTWk" "\x00\xff\r\n--"
static const char CHROMIUM_BODY[] =
    "--" CR_B "\r\n"
    "Content-Disposition: form-data; name=\"description\"\r\n"
    "\r\n"
    "Deep pothole, caf\xc3\xa9\r\n"
    "--" CR_B "\r\n"
    "Content-Disposition: form-data; name=\"notes\"\r\n"
    "\r\n"
    "line1\r\nline2\r\n"
    "--" CR_B "\r\n"
    "Content-Disposition: form-data; name=\"attribute[SIDE][]\"\r\n"
    "\r\n"
    "NORTH\r\n"
    "--" CR_B "\r\n"
    "Content-Disposition: form-data; name=\"attribute[SIDE][]\"\r\n"
    "\r\n"
    "SOUTH\r\n"
    "--" CR_B "\r\n"
    "Content-Disposition: form-data; name=\"photo\"; filename=\"pic.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    CR_FILE "\r\n"
    "--" CR_B "\r\n"
    "Content-Disposition: form-data; name=\"photo2\"; filename=\"\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\r\n"
    "--" CR_B "\r\n"
    "Content-Disposition: form-data; name=\"photo3\"; filename=\"we%22ird\\.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "\r\n"
    "--" CR_B "--\r\n";
/* clang-format on */

static void test_chromium(void)
{
    result r = {pool_new(), {0}, NULL, 0, {0}};
    REQUIRE(r.pool != NULL);
    CHECK(mp_is_multipart(CR_CT));
    CHECK_INT(decode(&r, CR_CT, CHROMIUM_BODY, sizeof CHROMIUM_BODY - 1), ERR_OK);
    CHECK_INT(r.fields.count, 4);
    CHECK_STR(kv_get(&r.fields, "description"), "Deep pothole, caf\xc3\xa9");
    CHECK_STR(kv_get(&r.fields, "notes"), "line1\r\nline2");
    CHECK_INT(kv_count(&r.fields, "attribute[SIDE][]"), 2);
    REQUIRE(r.fields.count == 4);
    CHECK_STR(r.fields.items[2].value, "NORTH");
    CHECK_STR(r.fields.items[3].value, "SOUTH");
    REQUIRE(r.nfiles == 3 && r.files != NULL);
    CHECK_STR(r.files[0].name, "photo");
    CHECK_STR(r.files[0].content_type, "application/octet-stream");
    CHECK(bytes_eq(r.files[0].data, r.files[0].len, CR_FILE, sizeof CR_FILE - 1));
    /* No copy: the bytes are the body's own. */
    const char *at = CHROMIUM_BODY + (sizeof CHROMIUM_BODY - 1);
    CHECK((const char *)r.files[0].data > CHROMIUM_BODY && (const char *)r.files[0].data < at);
    CHECK(r.files[0].has_filename);
    /* No file chosen: there, empty, so it differs from a missing field. */
    CHECK_STR(r.files[1].name, "photo2");
    CHECK_INT(r.files[1].len, 0);
    CHECK(r.files[1].has_filename);
    CHECK_STR(r.files[2].name, "photo3");
    CHECK_STR(r.files[2].content_type, "text/plain");
    CHECK_INT(r.files[2].len, 0);

    /* The same form as Chromium sends it urlencoded: the same pairs. */
    static const char form[] = "description=Deep+pothole%2C+caf%C3%A9&notes=line1%0D%0Aline2&"
                               "attribute%5BSIDE%5D%5B%5D=NORTH&attribute%5BSIDE%5D%5B%5D=SOUTH";
    kv_list urlenc;
    kv_init(&urlenc);
    CHECK_INT(form_decode(form, strlen(form), r.pool, &KV_DEFAULT_LIMITS, &urlenc, &r.err), 0);
    REQUIRE(urlenc.count == r.fields.count);
    for (size_t i = 0; i < urlenc.count; i++) {
        CHECK_STR(r.fields.items[i].key, urlenc.items[i].key);
        CHECK_STR(r.fields.items[i].value, urlenc.items[i].value);
        CHECK_INT(r.fields.items[i].value_len, urlenc.items[i].value_len);
    }
    pool_free(r.pool);
}

/* Also captured from Chromium 156: a field whose name holds a quote (sent
 * as %22, kept as sent), and a file named `end\` (the backslash sent
 * bare, so the quoted string reads as unterminated if \" were an escape). */
#define CR2_B "----WebKitFormBoundaryDPEd3b5QfWXRIoDN"
static const char CHROMIUM_BACKSLASH[] =
    "--" CR2_B "\r\n"
    "Content-Disposition: form-data; name=\"na%22me\"\r\n"
    "\r\n"
    "x\r\n"
    "--" CR2_B "\r\n"
    "Content-Disposition: form-data; name=\"photo3\"; filename=\"end\\\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\r\n"
    "--" CR2_B "--\r\n";

/* Firefox (the classic form of its boundary: 27 dashes and digits). */
#define FF_B "---------------------------9051914041544843365972754266"
static const char FIREFOX_BODY[] =
    "--" FF_B "\r\n"
    "Content-Disposition: form-data; name=\"text\"\r\n"
    "\r\n"
    "text default\r\n"
    "--" FF_B "\r\n"
    "Content-Disposition: form-data; name=\"file1\"; filename=\"a.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Content of a.txt.\n\r\n"
    "--" FF_B "\r\n"
    "Content-Disposition: form-data; name=\"file2\"; filename=\"a.html\"\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<!DOCTYPE html><title>Content of a.html.</title>\n\r\n"
    "--" FF_B "--\r\n";

static void test_other_browsers(void)
{
    result r = {pool_new(), {0}, NULL, 0, {0}};
    REQUIRE(r.pool != NULL);
    CHECK_INT(decode(&r, "multipart/form-data; boundary=" CR2_B, CHROMIUM_BACKSLASH,
                     sizeof CHROMIUM_BACKSLASH - 1),
              ERR_OK);
    CHECK_STR(kv_get(&r.fields, "na%22me"), "x");
    REQUIRE(r.nfiles == 1);
    CHECK_STR(r.files[0].name, "photo3");

    CHECK_INT(
        decode(&r, "multipart/form-data; boundary=" FF_B, FIREFOX_BODY, sizeof FIREFOX_BODY - 1),
        ERR_OK);
    CHECK_STR(kv_get(&r.fields, "text"), "text default");
    REQUIRE(r.nfiles == 2);
    CHECK_STR(r.files[0].name, "file1");
    CHECK_STR(r.files[0].content_type, "text/plain");
    CHECK(bytes_eq(r.files[0].data, r.files[0].len, "Content of a.txt.\n", 18));
    CHECK_STR(r.files[1].content_type, "text/html");
    pool_free(r.pool);
}

/* ---- the Content-Type and the boundary ---- */

static void test_is_multipart(void)
{
    CHECK(mp_is_multipart("multipart/form-data"));
    CHECK(mp_is_multipart("Multipart/Form-Data; boundary=x"));
    CHECK(mp_is_multipart("  multipart/form-data ;boundary=x"));
    CHECK(mp_is_multipart("multipart/form-data\t; boundary=x"));
    CHECK(!mp_is_multipart(NULL));
    CHECK(!mp_is_multipart(""));
    CHECK(!mp_is_multipart("multipart/form-dat"));
    CHECK(!mp_is_multipart("multipart/form-datax; boundary=x"));
    CHECK(!mp_is_multipart("multipart/mixed; boundary=x"));
    CHECK(!mp_is_multipart("application/x-www-form-urlencoded"));
}

#define SIMPLE(b) "--" b "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--" b "--\r\n"

static void test_boundary(void)
{
    result r = {pool_new(), {0}, NULL, 0, {0}};
    REQUIRE(r.pool != NULL);
    /* Quoted, with the characters only a quoted boundary may hold. */
    CHECK_INT(decode(&r, "multipart/form-data; boundary=\"a b:c,d?e=(f)\"", SIMPLE("a b:c,d?e=(f)"),
                     strlen(SIMPLE("a b:c,d?e=(f)"))),
              ERR_OK);
    CHECK_STR(kv_get(&r.fields, "a"), "1");
    /* Parameters in any order, any case, with white space. */
    CHECK_INT(decode(&r, "MULTIPART/FORM-DATA ; charset=UTF-8;\tBoundary = xyz ;", SIMPLE("xyz"),
                     strlen(SIMPLE("xyz"))),
              ERR_OK);
    CHECK_STR(kv_get(&r.fields, "a"), "1");
    /* 70 characters, the most RFC 2046 allows. */
    const char *b70 = "0123456789012345678901234567890123456789012345678901234567890123456789";
    buf_t ct = BUF_INIT, body = BUF_INIT;
    buf_printf(&ct, "multipart/form-data; boundary=%s", b70);
    buf_printf(&body, "--%s\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--%s--", b70,
               b70);
    CHECK_INT(decode(&r, ct.data, body.data, body.len), ERR_OK);
    CHECK_STR(kv_get(&r.fields, "a"), "1");
    buf_reset(&ct);
    buf_printf(&ct, "multipart/form-data; boundary=%sx", b70);
    CHECK(expect_fail(ct.data, body.data, body.len, ERR_INVALID,
                      "the multipart boundary must be 1 to 70 characters"));
    buf_free(&ct);
    buf_free(&body);

    const char *b = SIMPLE("xyz");
    FAILS(NULL, b, ERR_INVALID, "the body is not multipart/form-data");
    FAILS("text/plain", b, ERR_INVALID, "the body is not multipart/form-data");
    FAILS("multipart/mixed; boundary=xyz", b, ERR_INVALID, "the body is not multipart/form-data");
    FAILS("multipart/form-data", b, ERR_INVALID, "multipart/form-data needs a boundary parameter");
    FAILS("multipart/form-data; charset=utf-8", b, ERR_INVALID,
          "multipart/form-data needs a boundary parameter");
    FAILS("multipart/form-data; boundary=\"\"", b, ERR_INVALID,
          "the multipart boundary must be 1 to 70 characters");
    FAILS("multipart/form-data; boundary=x@z", b, ERR_INVALID,
          "the multipart boundary has a character RFC 2046 does not allow");
    FAILS("multipart/form-data; boundary=\"x\\\"z\"", b, ERR_INVALID,
          "the multipart boundary has a character RFC 2046 does not allow");
    FAILS("multipart/form-data; boundary=\"x\tz\"", b, ERR_INVALID,
          "the multipart boundary has a character RFC 2046 does not allow");
    FAILS("multipart/form-data; boundary=\"xyz \"", b, ERR_INVALID,
          "the multipart boundary ends with a space");
    FAILS("multipart/form-data; boundary=xyz; boundary=xyz", b, ERR_INVALID,
          "the Content-Type has more than one boundary");
    FAILS("multipart/form-data; boundary=\"xyz", b, ERR_INVALID,
          "the Content-Type's parameters are malformed");
    FAILS("multipart/form-data; boundary=", b, ERR_INVALID,
          "the Content-Type's parameters are malformed");
    FAILS("multipart/form-data boundary=xyz", b, ERR_INVALID,
          "the Content-Type's parameters are malformed");
    pool_free(r.pool);
}

/* ---- delimiters, preamble, epilogue ---- */

#define CT "multipart/form-data; boundary=xyz"
#define D "--xyz\r\n"
#define CD(n) "Content-Disposition: form-data; name=\"" n "\"\r\n"
#define END "--xyz--\r\n"

static void test_delimiters(void)
{
    result r = {pool_new(), {0}, NULL, 0, {0}};
    REQUIRE(r.pool != NULL);
    /* A preamble (with boundary-like text), transport padding after each
     * delimiter, an epilogue holding another delimiter. */
    /* clang-format off */
    const char *b = "preamble --xyz\r\n-xyz \r\n--xyzz\r\n"
                    "--xyz \t\r\n" CD("a") "\r\n1\r\n"
                    "--xyz\t\r\n" CD("b") "\r\n2\r\n"
                    "--xyz--  \r\nepilogue\r\n--xyz\r\n" CD("c") "\r\n3\r\n--xyz--\r\n";
    /* clang-format on */
    CHECK_INT(decode(&r, CT, b, strlen(b)), ERR_OK);
    CHECK_INT(r.fields.count, 2);
    CHECK_STR(kv_get(&r.fields, "a"), "1");
    CHECK_STR(kv_get(&r.fields, "b"), "2");
    CHECK(kv_get(&r.fields, "c") == NULL);
    /* The close delimiter with nothing after it. */
    b = D CD("a") "\r\nv\r\n--xyz--";
    CHECK_INT(decode(&r, CT, b, strlen(b)), ERR_OK);
    CHECK_STR(kv_get(&r.fields, "a"), "v");
    /* No parts at all (a form with no field to send). */
    b = "--xyz--\r\n";
    CHECK_INT(decode(&r, CT, b, strlen(b)), ERR_OK);
    CHECK_INT(r.fields.count, 0);
    CHECK_INT(r.nfiles, 0);
    /* Things that look like a delimiter inside a value are data. */
    b = D CD("a") "\r\n--xyz\r\n\n--xyz\r\n\r\n--xyzX\r\n--xy\r\n-xyz--\r\n--xyz \tz\r\n" END;
    CHECK_INT(decode(&r, CT, b, strlen(b)), ERR_OK);
    CHECK_STR(kv_get(&r.fields, "a"),
              "--xyz\r\n\n--xyz\r\n\r\n--xyzX\r\n--xy\r\n-xyz--\r\n--xyz \tz");
    /* Empty values, and a value that is just CRLF. */
    b = D CD("a") "\r\n\r\n" D CD("b") "\r\n\r\n\r\n" END;
    CHECK_INT(decode(&r, CT, b, strlen(b)), ERR_OK);
    CHECK_STR(kv_get(&r.fields, "a"), "");
    CHECK_STR(kv_get(&r.fields, "b"), "\r\n");

    FAILS(CT, "", ERR_INVALID, "the body has no multipart delimiter");
    CHECK(expect_fail(CT, NULL, 0, ERR_INVALID, "the body has no multipart delimiter"));
    FAILS(CT, "SECRET", ERR_INVALID, "the body has no multipart delimiter");
    FAILS(CT, "--xyzz\r\n" CD("a") "\r\nSECRET\r\n--xyzz--\r\n", ERR_INVALID,
          "the body has no multipart delimiter");
    /* Bare LF line ends are not a delimiter. */
    FAILS(CT, "--xyz\n" CD("a") "\nSECRET\n--xyz--\n", ERR_INVALID,
          "the body has no multipart delimiter");
    /* Truncated, at every place a delimiter can be cut. */
    static const char truncated[] = "the body ends before the closing multipart delimiter";
    FAILS(CT, "--xyz", ERR_INVALID, truncated);
    FAILS(CT, "--xyz  ", ERR_INVALID, truncated);
    FAILS(CT, "--xyz-", ERR_INVALID, truncated);
    FAILS(CT, "--xyz\r", ERR_INVALID, truncated);
    FAILS(CT, D CD("a") "\r\nSECRET value", ERR_INVALID, truncated);
    FAILS(CT, D CD("a") "\r\nSECRET\r\n", ERR_INVALID, truncated);
    FAILS(CT, D CD("a") "\r\nSECRET\r\n--xy", ERR_INVALID, truncated);
    FAILS(CT, D CD("a") "\r\nSECRET\r\n--xyz", ERR_INVALID, truncated);
    FAILS(CT, D CD("a") "\r\nSECRET\r\n--xyz-", ERR_INVALID, truncated);
    FAILS(CT, D CD("a") "\r\nSECRET\r\n--xyz \t", ERR_INVALID, truncated);
    FAILS(CT, D CD("a") "\r\nSECRET\r\n--xyz\r", ERR_INVALID, truncated);
    /* A good part, then a bad one: the good one is not left behind. */
    FAILS(CT, D CD("a") "\r\nok\r\n" D CD("b") "\r\nSECRET", ERR_INVALID, truncated);
    pool_free(r.pool);
}

/* ---- part headers ---- */

static void test_headers(void)
{
    result r = {pool_new(), {0}, NULL, 0, {0}};
    REQUIRE(r.pool != NULL);
    /* Names of headers and parameters in any case, parameters in any
     * order, a bare name, white space, other headers ignored, a text
     * part's Content-Type ignored. */
    /* clang-format off */
    const char *b = D "content-disposition: Form-Data; NAME=\"a\"\r\n\r\n1\r\n"
                    D "X-Whatever: SECRET\r\nContent-Disposition:form-data;name=b ;\r\n"
                    "Content-Type: text/plain; charset=UTF-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n\r\n2\r\n"
                    D "Content-Disposition: form-data ; filename=\"f.jpg\" ; name = \"c\"\r\n"
                    "CONTENT-TYPE:   image/jpeg  \r\n\r\nJPG\r\n"
                    D "Content-Disposition: form-data; name=\"caf\xc3\xa9\"\r\n\r\n3\r\n" END;
    /* clang-format on */
    CHECK_INT(decode(&r, CT, b, strlen(b)), ERR_OK);
    CHECK_INT(r.fields.count, 3);
    CHECK_STR(kv_get(&r.fields, "a"), "1");
    CHECK_STR(kv_get(&r.fields, "b"), "2");
    CHECK_STR(kv_get(&r.fields, "caf\xc3\xa9"), "3");
    REQUIRE(r.nfiles == 1);
    CHECK_STR(r.files[0].name, "c");
    CHECK_STR(r.files[0].content_type, "image/jpeg");
    CHECK(bytes_eq(r.files[0].data, r.files[0].len, "JPG", 3));

    /* Quotes in file names: old browsers' \" and today's %22; a quoted
     * name with an escaped quote; filename* (RFC 5987) alone marks a file;
     * a file with no Content-Type gets the default. */
    /* clang-format off */
    b = D "Content-Disposition: form-data; name=\"f1\"; filename=\"a\\\"b.txt\"\r\n\r\nx\r\n"
        D "Content-Disposition: form-data; name=\"f2\"; filename=\"a%22b.txt\"\r\n\r\ny\r\n"
        D "Content-Disposition: form-data; name=\"q\\\"t\"\r\n\r\nz\r\n"
        D "Content-Disposition: form-data; name=f3; filename*=UTF-8''%E2%82%AC.txt\r\n\r\n\r\n"
        D "Content-Disposition: form-data; name=\"f4\"; filename=\"e.txt\";"
        " filename*=UTF-8''e.txt\r\nContent-Type:\r\n\r\nw\r\n"
        /* Chromium's trailing backslash, the name after the file name. */
        D "Content-Disposition: form-data; filename=\"end\\\"; name=\"f5\"\r\n\r\n\r\n" END;
    /* clang-format on */
    CHECK_INT(decode(&r, CT, b, strlen(b)), ERR_OK);
    CHECK_INT(r.fields.count, 1);
    CHECK_STR(kv_get(&r.fields, "q\"t"), "z");
    REQUIRE(r.nfiles == 5);
    CHECK_STR(r.files[0].name, "f1");
    CHECK_STR(r.files[0].content_type, "application/octet-stream");
    CHECK_STR(r.files[1].name, "f2");
    CHECK_STR(r.files[2].name, "f3");
    CHECK_INT(r.files[2].len, 0);
    CHECK_STR(r.files[3].name, "f4");
    CHECK_STR(r.files[3].content_type, "application/octet-stream");
    CHECK_STR(r.files[4].name, "f5");

    /* 8 header lines of 1024 bytes each: the most allowed. */
    buf_t big = BUF_INIT;
    buf_puts(&big, D "Content-Disposition: form-data; name=\"a\"; x=\"");
    while (big.len < 7 + 1024 - 1)
        buf_putc(&big, 'S');
    buf_puts(&big, "\"\r\n");
    for (int i = 0; i < 7; i++) {
        buf_puts(&big, "X-Pad: ");
        for (int k = 0; k < 1024 - 7; k++)
            buf_putc(&big, 'S');
        buf_puts(&big, "\r\n");
    }
    buf_puts(&big, "\r\n1\r\n" END);
    CHECK_INT(decode(&r, CT, big.data, big.len), ERR_OK);
    CHECK_STR(kv_get(&r.fields, "a"), "1");
    /* One byte more in a line. */
    buf_reset(&big);
    buf_puts(&big, D "Content-Disposition: form-data; name=\"a\"; filename=\"SECRET");
    while (big.len < 7 + 1024)
        buf_putc(&big, 'S');
    buf_puts(&big, "\"\r\n\r\n1\r\n" END);
    CHECK(expect_fail(CT, big.data, big.len, ERR_TOO_LARGE,
                      "a part header line is longer than 1024 bytes"));
    /* A line with no end at all: long, or short enough to be cut off. */
    buf_reset(&big);
    buf_puts(&big, D);
    for (int i = 0; i < 2000; i++)
        buf_putc(&big, 'S');
    CHECK(expect_fail(CT, big.data, big.len, ERR_TOO_LARGE,
                      "a part header line is longer than 1024 bytes"));
    CHECK(expect_fail(CT, big.data, 7 + 1026, ERR_TOO_LARGE,
                      "a part header line is longer than 1024 bytes"));
    CHECK(
        expect_fail(CT, big.data, 7 + 1025, ERR_INVALID, "the body ends inside a part's headers"));
    /* Nine header lines. */
    buf_reset(&big);
    buf_puts(&big, D CD("a"));
    for (int i = 0; i < 8; i++)
        buf_puts(&big, "X-Pad: SECRET\r\n");
    buf_puts(&big, "\r\n1\r\n" END);
    CHECK(expect_fail(CT, big.data, big.len, ERR_TOO_LARGE, "a part has more than 8 header lines"));
    buf_free(&big);

    static const char inside[] = "the body ends inside a part's headers";
    FAILS(CT, D "Content-Disposition: form-da", ERR_INVALID, inside);
    FAILS(CT, D CD("a"), ERR_INVALID, inside);
    FAILS(CT, D CD("a") "\r", ERR_INVALID, inside);
    FAILS(CT, D "Content-Type: text/plain\r\n\r\nSECRET\r\n" END, ERR_INVALID,
          "a part has no Content-Disposition");
    FAILS(CT, D "\r\nSECRET\r\n" END, ERR_INVALID, "a part has no Content-Disposition");
    FAILS(CT,
          D "Content-Disposition: attachment; name=\"a\"; filename=\"SECRET.txt\"\r\n\r\nx\r\n" END,
          ERR_INVALID, "a part's Content-Disposition is not form-data");
    FAILS(CT, D "Content-Disposition: form-data; filename=\"SECRET.txt\"\r\n\r\nx\r\n" END,
          ERR_INVALID, "a part has no name");
    FAILS(CT, D "Content-Disposition: form-data\r\n\r\nSECRET\r\n" END, ERR_INVALID,
          "a part has no name");
    FAILS(CT, D CD("") "\r\nSECRET\r\n" END, ERR_INVALID, "a part has an empty name");
    FAILS(CT, D "SECRET\r\n\r\nx\r\n" END, ERR_INVALID, "a part header is malformed");
    FAILS(CT, D " " CD("a") "\r\nSECRET\r\n" END, ERR_INVALID, "a part header is malformed");
    FAILS(CT, D "Content-Disposition : form-data; name=a\r\n\r\nSECRET\r\n" END, ERR_INVALID,
          "a part header is malformed");
    FAILS(CT, D ": SECRET\r\n\r\nx\r\n" END, ERR_INVALID, "a part header is malformed");
    FAILS(CT, D "Content-Disposition: form-data; name=\"a\"\n\r\nSECRET\r\n" END, ERR_INVALID,
          "a part header line does not end with CRLF");
    FAILS(CT, D CD("a") CD("b") "\r\nSECRET\r\n" END, ERR_INVALID,
          "a part has more than one Content-Disposition");
    FAILS(CT, D CD("a") "Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nSECRET\r\n" END,
          ERR_INVALID, "a part has more than one Content-Type");
    FAILS(CT,
          D "Content-Disposition: form-data; name=\"a\"; filename=\"SECRET\"\r\n"
            "Content-Type: text/plain\x01\r\n\r\nx\r\n" END,
          ERR_INVALID, "a part's Content-Type is not ASCII text");
    FAILS(CT,
          D "Content-Disposition: form-data; name=\"a\"; filename=\"SECRET\"\r\n"
            "Content-Type: text/pl\xc3\xa4in\r\n\r\nx\r\n" END,
          ERR_INVALID, "a part's Content-Type is not ASCII text");
    static const char repeats[] = "a part's Content-Disposition repeats a parameter";
    FAILS(CT, D "Content-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nSECRET\r\n" END,
          ERR_INVALID, repeats);
    FAILS(CT,
          D "Content-Disposition: form-data; name=\"a\"; filename=\"SECRET\"; FILENAME=\"x\"\r\n"
            "\r\nx\r\n" END,
          ERR_INVALID, repeats);
    FAILS(CT,
          D "Content-Disposition: form-data; name=\"a\"; filename*=x; filename*=y\r\n"
            "\r\nSECRET\r\n" END,
          ERR_INVALID, repeats);
    static const char malformed[] = "a part's Content-Disposition is malformed";
    FAILS(CT, D "Content-Disposition: form-data; name=\"a\r\n\r\nSECRET\r\n" END, ERR_INVALID,
          malformed);
    FAILS(CT, D "Content-Disposition: form-data; name=\r\n\r\nSECRET\r\n" END, ERR_INVALID,
          malformed);
    FAILS(CT, D "Content-Disposition: form-data name=\"a\"\r\n\r\nSECRET\r\n" END, ERR_INVALID,
          malformed);
    FAILS(CT, D "Content-Disposition: form-data; =\"a\"\r\n\r\nSECRET\r\n" END, ERR_INVALID,
          malformed);
    FAILS(CT, D "Content-Disposition: form-data; name=\"a\"x\r\n\r\nSECRET\r\n" END, ERR_INVALID,
          malformed);
    FAILS(CT, D "Content-Disposition: ; name=\"a\"\r\n\r\nSECRET\r\n" END, ERR_INVALID, malformed);
    FAILS(CT, D "Content-Disposition: form-data; name=\"a\"; filename=\"SECRET\\\r\n\r\nx\r\n" END,
          ERR_INVALID, malformed);
    pool_free(r.pool);
}

/* ---- text values: the kv rules, exactly ---- */

static void test_values(void)
{
    static const char utf8[] = "parameter desc is not valid UTF-8 text";
    FAILS(CT, D CD("desc") "\r\nSECRET\xff\r\n" END, ERR_INVALID, utf8);
    FAILS(CT, D CD("desc") "\r\nSECRET\xed\xa0\x80\r\n" END, ERR_INVALID, utf8); /* surrogate */
    FAILS(CT, D CD("desc") "\r\nSECRET\xc0\xaf\r\n" END, ERR_INVALID, utf8);     /* overlong */
    static const char nul[] = D CD("desc") "\r\nSECRET\0after\r\n" END;
    CHECK(expect_fail(CT, nul, sizeof nul - 1, ERR_INVALID, utf8));
    static const char badname[] = "a parameter name is not valid UTF-8 text";
    FAILS(CT, D CD("a\xff") "\r\nSECRET\r\n" END, ERR_INVALID, badname);
    FAILS(CT,
          D "Content-Disposition: form-data; name=\"a\xff\"; filename=\"SECRET\"\r\n\r\n\r\n" END,
          ERR_INVALID, badname);
    static const char nulname[] =
        D "Content-Disposition: form-data; name=\"a\0b\"\r\n\r\nSECRET\r\n" END;
    CHECK(expect_fail(CT, nulname, sizeof nulname - 1, ERR_INVALID, badname));

    /* The limits of kv_limits: count, name length, value length. */
    const mp_limits *lim = &LIMITS;
    const char *b = D CD("a") "\r\n1\r\n" D CD("b") "\r\n2\r\n" D CD("c") "\r\nSECRET\r\n" END;
    /* The caller's pair counts: three in all. */
    CHECK(expect_fail_lim(CT, b, strlen(b), &TINY_KV, lim, ERR_TOO_LARGE,
                          "too many parameters (at most 3)"));
    result r = {pool_new(), {0}, NULL, 0, {0}};
    REQUIRE(r.pool != NULL);
    CHECK_INT(decode_lim(&r, CT, b, strlen(b), &TINY_KV, lim), ERR_OK);
    CHECK_INT(r.fields.count, 3);
    b = D CD("abcd") "\r\n12345678\r\n" END;
    CHECK_INT(decode_lim(&r, CT, b, strlen(b), &TINY_KV, lim), ERR_OK);
    CHECK_STR(kv_get(&r.fields, "abcd"), "12345678");
    b = D CD("abcde") "\r\nSECRET\r\n" END;
    CHECK(expect_fail_lim(CT, b, strlen(b), &TINY_KV, lim, ERR_TOO_LARGE,
                          "a parameter name is longer than 4 bytes"));
    b = D "Content-Disposition: form-data; name=\"abcde\"; filename=\"SECRET\"\r\n\r\n\r\n" END;
    CHECK(expect_fail_lim(CT, b, strlen(b), &TINY_KV, lim, ERR_TOO_LARGE,
                          "a parameter name is longer than 4 bytes"));
    b = D CD("a") "\r\nSECRET123\r\n" END;
    CHECK(expect_fail_lim(CT, b, strlen(b), &TINY_KV, lim, ERR_TOO_LARGE,
                          "parameter a is longer than 8 bytes"));
    /* A file's bytes are not text: no UTF-8 rule, no value limit. */
    static const char bin[] = D "Content-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n"
                                "\r\n\xff\0\xfe\xc0\xaf and more than eight\r\n" END;
    CHECK_INT(decode_lim(&r, CT, bin, sizeof bin - 1, &TINY_KV, lim), ERR_OK);
    REQUIRE(r.nfiles == 1);
    CHECK_INT(r.files[0].len, 25);
    /* Decoding appends to what the caller's list holds. */
    kv_list l;
    kv_init(&l);
    CHECK_INT(kv_add(&l, r.pool, "x", 1, "0", 1, &KV_DEFAULT_LIMITS, &r.err), 0);
    b = D CD("a") "\r\n1\r\n" END;
    CHECK_INT(mp_decode(CT, b, strlen(b), r.pool, &KV_DEFAULT_LIMITS, lim, &l, &r.files, &r.nfiles,
                        &r.err),
              ERR_OK);
    CHECK_INT(l.count, 2);
    CHECK_STR(kv_get(&l, "x"), "0");
    CHECK_STR(kv_get(&l, "a"), "1");
    pool_free(r.pool);
}

/* ---- files: how many, how large ---- */

#define FILE_PART(n, data)                                                                         \
    D "Content-Disposition: form-data; name=\"" n "\"; filename=\"SECRET.jpg\"\r\n"                \
      "Content-Type: image/jpeg\r\n\r\n" data "\r\n"

static void test_files(void)
{
    result r = {pool_new(), {0}, NULL, 0, {0}};
    REQUIRE(r.pool != NULL);
    const mp_limits two = {2, 10};
    const char *b = FILE_PART("p1", "0123456789") FILE_PART("p2", "") END;
    CHECK_INT(decode_lim(&r, CT, b, strlen(b), &KV_DEFAULT_LIMITS, &two), ERR_OK);
    REQUIRE(r.nfiles == 2);
    CHECK_INT(r.files[0].len, 10);
    CHECK_INT(r.files[1].len, 0);
    /* Many files: the array grows. */
    const mp_limits many = {100, 10};
    buf_t big = BUF_INIT;
    for (int i = 0; i < 50; i++)
        buf_printf(&big,
                   D "Content-Disposition: form-data; name=\"p%d\"; filename=\"\"\r\n\r\n%d\r\n", i,
                   i);
    buf_puts(&big, END);
    CHECK_INT(decode_lim(&r, CT, big.data, big.len, &KV_DEFAULT_LIMITS, &many), ERR_OK);
    REQUIRE(r.nfiles == 50);
    CHECK_STR(r.files[49].name, "p49");
    CHECK(bytes_eq(r.files[49].data, r.files[49].len, "49", 2));
    buf_free(&big);

    b = FILE_PART("p1", "0123456789a") END;
    CHECK(expect_fail_lim(CT, b, strlen(b), &KV_DEFAULT_LIMITS, &two, ERR_TOO_LARGE,
                          "file p1 is larger than 10 bytes"));
    b = FILE_PART("p1", "1") FILE_PART("p2", "2") FILE_PART("p3", "") END;
    CHECK(expect_fail_lim(CT, b, strlen(b), &KV_DEFAULT_LIMITS, &two, ERR_TOO_LARGE,
                          "too many files (at most 2)"));
    const mp_limits none = {0, 10};
    b = D CD("a") "\r\nSECRET\r\n" FILE_PART("p1", "") END;
    CHECK(expect_fail_lim(CT, b, strlen(b), &KV_DEFAULT_LIMITS, &none, ERR_TOO_LARGE,
                          "too many files (at most 0)"));
    /* Text alone is fine with no files allowed. */
    b = D CD("a") "\r\n1\r\n" END;
    CHECK_INT(decode_lim(&r, CT, b, strlen(b), &KV_DEFAULT_LIMITS, &none), ERR_OK);
    pool_free(r.pool);
}

/* ---- large and hostile bodies ----
 *
 * Correctness only: how fast these decode is a benchmark's business, never
 * a test's (a timed test fails on a busy machine). A quadratic decoder
 * would still show here as a suite that does not finish. */

#define MB10 (10u * 1024 * 1024)

static const char B70[] = "AaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03x1234";
#define CT70                                                                                       \
    "multipart/form-data; "                                                                        \
    "boundary=AaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03xAaB03x1234"

/* Decodes one file part whose data repeats unit until about 10 MB: *rc is
 * the result (ERR_INTERNAL if the file is not exactly that data, in
 * place). */
static void big_file(const char *unit, size_t unit_len, err_code *rc)
{
    buf_t b = BUF_INIT;
    buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x\"\r\n\r\n",
               B70);
    size_t start = b.len;
    while (b.len - start < MB10)
        buf_append(&b, unit, unit_len);
    size_t flen = b.len - start;
    buf_printf(&b, "\r\n--%s--\r\n", B70);
    result r = {pool_new(), {0}, NULL, 0, {0}};
    const mp_limits lim = {5, 2 * MB10};
    *rc = ERR_NOMEM;
    if (r.pool != NULL && !buf_failed(&b)) {
        *rc = decode_lim(&r, CT70, b.data, b.len, &KV_DEFAULT_LIMITS, &lim);
        if (*rc == ERR_OK && (r.nfiles != 1 || r.files[0].len != flen ||
                              (const char *)r.files[0].data != b.data + start))
            *rc = ERR_INTERNAL;
    }
    pool_free(r.pool);
    buf_free(&b);
}

static void test_large_and_hostile_bodies(void)
{
    err_code rc;
    /* A plain 10 MB file of pseudo-random bytes (CRs included). */
    char noise[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof noise; i++) {
        x = x * 1103515245u + 12345u;
        noise[i] = (char)(x >> 16);
    }
    big_file(noise, sizeof noise, &rc);
    CHECK_INT(rc, ERR_OK);
    /* The delimiter less one byte, over and over. */
    char unit[4 + 70 + 1];
    memcpy(unit, "\r\n--", 4);
    memcpy(unit + 4, B70, 69);
    big_file(unit, 4 + 69, &rc);
    CHECK_INT(rc, ERR_OK);
    /* The whole boundary, followed by what makes it data. */
    memcpy(unit + 4, B70, 70);
    unit[74] = 'X';
    big_file(unit, sizeof unit, &rc);
    CHECK_INT(rc, ERR_OK);
    /* Padding after a boundary that is not a delimiter after all. */
    buf_t u = BUF_INIT;
    buf_printf(&u, "\r\n--%s", B70);
    for (int i = 0; i < 1000; i++)
        buf_putc(&u, ' ');
    buf_putc(&u, 'X');
    big_file(u.data, u.len, &rc);
    CHECK_INT(rc, ERR_OK);
    buf_free(&u);
    /* Only CRs, and only "\r\n--". */
    big_file("\r\r\r\r\r\r\r\r", 8, &rc);
    CHECK_INT(rc, ERR_OK);
    big_file("\r\n--", 4, &rc);
    CHECK_INT(rc, ERR_OK);

    /* Many tiny parts (limits raised to let them all in): 2 MB, some
     * 40,000 parts, so a cost per part that grew with the body would take
     * minutes, while valgrind still runs it in seconds. */
    const kv_limits wide = {1000000, 128, 16384};
    buf_t b = BUF_INIT;
    size_t parts = 0;
    while (b.len < MB10 / 5) {
        buf_puts(&b, "--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n");
        parts++;
    }
    buf_puts(&b, END);
    result r = {pool_new(), {0}, NULL, 0, {0}};
    REQUIRE(r.pool != NULL && !buf_failed(&b));
    CHECK_INT(decode_lim(&r, CT, b.data, b.len, &wide, &LIMITS), ERR_OK);
    CHECK_INT(r.fields.count, parts);
    pool_free(r.pool);

    /* A 10 MB header line, and a 10 MB preamble of near-delimiters. */
    buf_reset(&b);
    buf_puts(&b, "--xyz\r\nX-Long: ");
    while (b.len < MB10)
        buf_puts(&b, "SECRETSECRET");
    CHECK(expect_fail(CT, b.data, b.len, ERR_TOO_LARGE,
                      "a part header line is longer than 1024 bytes"));
    buf_reset(&b);
    while (b.len < MB10)
        buf_puts(&b, "\r\n--xy\r\n--x\r\n--xyzz");
    CHECK(expect_fail(CT, b.data, b.len, ERR_INVALID, "the body has no multipart delimiter"));
    buf_free(&b);
}

TEST_MAIN(TEST(test_chromium), TEST(test_other_browsers), TEST(test_is_multipart),
          TEST(test_boundary), TEST(test_delimiters), TEST(test_headers), TEST(test_values),
          TEST(test_files), TEST(test_large_and_hostile_bodies))
