/*
 * test_util.c - buffers and their escapers, pools, dates, UTF-8 and the
 * urlencoded decoder (the first line of Q2: bad input is refused here).
 */
#include <math.h>
#include <string.h>

#include "testlib.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fold.h"
#include "util/datetime.h"
#include "util/kv.h"
#include "util/pool.h"
#include "util/utf8.h"

static void test_buf_basics(void)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "a");
    buf_printf(&b, "%d-%s", 42, "x");
    buf_put_i64(&b, -7);
    CHECK_STR(b.data, "a42-x-7");
    char big[1000];
    memset(big, 'z', sizeof big);
    buf_printf(&b, "%.*s", (int)sizeof big, big); /* longer than the stack buffer */
    CHECK_INT(b.len, 7 + 1000);
    char *s = buf_detach(&b);
    CHECK(s != NULL && b.data == NULL && b.len == 0);
    free(s);

    buf_t lim;
    buf_init(&lim, 4);
    buf_puts(&lim, "abcd");
    CHECK(!buf_failed(&lim));
    buf_puts(&lim, "e");
    CHECK(buf_failed(&lim));
    buf_puts(&lim, "f"); /* sticky: ignored */
    CHECK_INT(lim.len, 4);
    CHECK(buf_detach(&lim) == NULL);
}

static void test_buf_double(void)
{
    buf_t b = BUF_INIT;
    buf_put_double(&b, 40.7128);
    buf_putc(&b, ' ');
    buf_put_double(&b, -73.9);
    buf_putc(&b, ' ');
    buf_put_double(&b, 1e-7);
    buf_putc(&b, ' ');
    buf_put_double(&b, NAN);
    CHECK_STR(b.data, "40.7128 -73.9 0.0000001 null");
    buf_reset(&b);
    buf_put_double(&b, 0.0000123456789); /* fuzz: digits were lost */
    buf_putc(&b, ' ');
    buf_put_double(&b, 1e300);
    CHECK_STR(b.data, "0.0000123456789 1e+300");
    buf_free(&b);
}

static void test_buf_escapes(void)
{
    buf_t b = BUF_INIT;
    buf_json_str(&b, "a\"b\\c\n\x01</script>é");
    CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001</script>é\"");
    buf_reset(&b);
    buf_json_str(&b, NULL);
    CHECK_STR(b.data, "null");
    buf_reset(&b);
    buf_xml_text(&b, "<a href='x'>&\"\x02\r\n");
    CHECK_STR(b.data, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&#13;\n");
    buf_reset(&b);
    buf_xml_text(&b, "a\xEF\xBF\xBF" "b\xEF\xBF\xBE" "c\xEF\xBF\xBD"); /* fuzz: U+FFFF, U+FFFE */
    CHECK_STR(b.data, "abc\xEF\xBF\xBD");
    buf_reset(&b);
    buf_xml_elem(&b, "zipcode", NULL);
    buf_xml_elem(&b, "lat", "1");
    CHECK_STR(b.data, "<zipcode/><lat>1</lat>");
    buf_reset(&b);
    buf_csv_field(&b, "plain");
    buf_putc(&b, ',');
    buf_csv_field(&b, "has \"quote\", comma\nand line");
    CHECK_STR(b.data, "plain,\"has \"\"quote\"\", comma\nand line\"");
    buf_reset(&b);
    buf_url_encode(&b, "a b/é~");
    CHECK_STR(b.data, "a%20b%2F%C3%A9~");
    buf_free(&b);
}

static void test_pool(void)
{
    pool_t *p = pool_new();
    REQUIRE(p != NULL);
    for (int i = 0; i < 10000; i++) {
        char *s = pool_strdup(p, "hello");
        CHECK(s != NULL && strcmp(s, "hello") == 0);
        CHECK(((uintptr_t)pool_alloc(p, 3) % sizeof(void *)) == 0);
    }
    char *big = pool_alloc(p, 100000);
    CHECK(big != NULL);
    memset(big, 1, 100000);
    int *arr = pool_calloc(p, 4, sizeof *arr);
    arr[3] = 9;
    int *grown = pool_realloc_array(p, arr, 4, 8, sizeof *arr);
    CHECK(grown != NULL && grown[3] == 9);
    CHECK(pool_strdup(p, NULL) == NULL);
    CHECK(pool_calloc(p, SIZE_MAX / 2, 4) == NULL);
    pool_free(p);
}

static int64_t parse(const char *s)
{
    int64_t t = 0;
    return dt_parse(s, strlen(s), &t) ? t : -1;
}

static void test_datetime(void)
{
    char out[DT_BUFSZ];
    CHECK_INT(parse("1970-01-01T00:00:00Z"), 0);
    CHECK_INT(parse("2010-04-14T06:37:38Z"), 1271227058);
    CHECK_INT(parse("2010-04-14T08:37:38+02:00"), 1271227058);
    CHECK_INT(parse("2010-04-14T01:37:38-0500"), 1271227058);
    CHECK_INT(parse("2010-04-14T07:37:38+01"), 1271227058);
    CHECK_INT(parse("2010-04-14T08:37:38 02:00"), 1271227058); /* '+' sent unencoded */
    CHECK_INT(parse("2010-04-14T06:37:38.975Z"), 1271227058);
    CHECK_INT(parse("2010-04-14 06:37:38"), 1271227058);
    CHECK_INT(parse("2010-04-14"), 1271203200);
    CHECK_INT(parse("2012-02-29T00:00Z"), 1330473600);
    CHECK_INT(parse("1998-12-31T23:59:60Z"), 915148799); /* leap second */
    CHECK_INT(parse("2010-04-14T24:00:00Z"), 1271289600);
    const char *bad[] = {"", "2010", "2010-13-01", "2011-02-29", "2010-04-31", "2010-04-14T25:00Z",
                         "2010-04-14T06:61Z", "2010-04-14T06:37:38+24:00", "2010-04-14T06:37:38Q",
                         "2010-04-14T06:37:38Zjunk", "1899-12-31", "10000-01-01", "2010-4-14",
                         "2010-04-14T06:37:38.", "2010-04-14T24:00:01Z", "abcd-ef-gh"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i]) != -1)
            fprintf(stderr, "accepted bad date %s\n", bad[i]);
        CHECK(parse(bad[i]) == -1);
    }
    CHECK_STR(dt_format(1271227058, out), "2010-04-14T06:37:38Z");
    CHECK_STR(dt_format(0, out), "1970-01-01T00:00:00Z");
    CHECK_STR(dt_format(-1, out), "1969-12-31T23:59:59Z");
    CHECK_STR(dt_format(DT_MAX, out), "9999-12-31T23:59:59Z");
    CHECK_STR(dt_format(DT_MIN, out), "1900-01-01T00:00:00Z");
    /* Every day for 200 years round-trips. */
    for (int64_t t = -2208988800LL; t < 4102444800LL; t += 86400 + 3601) {
        dt_format(t, out);
        CHECK_INT(parse(out), t);
    }
}

static void test_utf8(void)
{
    /* Clipping never splits a character (fuzz: error messages did). */
    CHECK_INT(utf8_clip("a\xC3\xA9", 3, 2), 1);
    CHECK_INT(utf8_clip("a\xC3\xA9", 3, 3), 3);
    CHECK_INT(utf8_clip("\xF0\x9D\x84\x9E", 4, 3), 0);
    err_t e;
    char name[400];
    memset(name, 'x', sizeof name);
    for (size_t i = 1; i + 1 < sizeof name; i += 2)
        name[i] = '\xC3', name[i + 1] = '\xA9';
    name[sizeof name - 1] = '\0';
    err_set(&e, ERR_INVALID, "%s", name);
    CHECK(utf8_valid(e.msg, strlen(e.msg)));
    CHECK(utf8_valid("héllo €𝄞", strlen("héllo €𝄞")));
    CHECK(!utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
    CHECK(!utf8_valid("\xE0\x80\xAF", 3));     /* overlong */
    CHECK(!utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    CHECK(!utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!utf8_valid("\xE2\x82", 2));         /* truncated */
    CHECK(!utf8_valid("\xFF", 1));
    CHECK(!utf8_valid("\x80", 1));
    CHECK_INT(utf8_length("é€𝄞a", strlen("é€𝄞a")), 4);
}

static err_code decode(const char *s, pool_t *p, kv_list *l, err_t *e)
{
    kv_init(l);
    return form_decode(s, strlen(s), p, &KV_DEFAULT_LIMITS, l, e);
}

static void test_form_decode(void)
{
    pool_t *p = pool_new();
    kv_list l;
    err_t e;
    REQUIRE(p != NULL);
    CHECK_INT(decode("a=1&b=hello+world&&c=%C3%A9&d&attribute%5BX%5D%5B%5D=v", p, &l, &e), 0);
    CHECK_INT(l.count, 5);
    CHECK_STR(kv_get(&l, "b"), "hello world");
    CHECK_STR(kv_get(&l, "c"), "é");
    CHECK_STR(kv_get(&l, "d"), "");
    CHECK_STR(kv_get(&l, "attribute[X][]"), "v");
    CHECK(kv_get(&l, "zz") == NULL);
    CHECK_INT(decode("", p, &l, &e), 0);
    CHECK_INT(l.count, 0);

    CHECK_INT(decode("a=%G1", p, &l, &e), ERR_INVALID);
    CHECK(strstr(e.msg, "a") != NULL && strstr(e.msg, "escape") != NULL);
    CHECK_INT(decode("a=%4", p, &l, &e), ERR_INVALID);
    CHECK_INT(decode("a=%", p, &l, &e), ERR_INVALID);
    CHECK_INT(decode("a=%FF", p, &l, &e), ERR_INVALID);
    CHECK_INT(decode("a=%00", p, &l, &e), ERR_INVALID);
    CHECK_INT(decode("=x", p, &l, &e), ERR_INVALID);
    CHECK_INT(decode("%FF=1", p, &l, &e), ERR_INVALID);
    /* The message names the parameter but never repeats its value. */
    CHECK_INT(decode("email=canary%FFsecret", p, &l, &e), ERR_INVALID);
    CHECK(strstr(e.msg, "canary") == NULL && strstr(e.msg, "email") != NULL);

    buf_t many = BUF_INIT;
    for (int i = 0; i < 201; i++)
        buf_printf(&many, "k%d=v&", i);
    CHECK_INT(decode(many.data, p, &l, &e), ERR_TOO_LARGE);
    buf_reset(&many);
    buf_puts(&many, "a=");
    for (int i = 0; i < 16385; i++)
        buf_putc(&many, 'x');
    CHECK_INT(decode(many.data, p, &l, &e), ERR_TOO_LARGE);
    buf_free(&many);
    pool_free(p);
}

/* Folding for word matching: case, accents, separators, bad UTF-8. */
static void folds_to(const char *in, size_t len, const char *want)
{
    buf_t b = BUF_INIT;
    fold_text(in, len, &b);
    CHECK(!buf_failed(&b));
    CHECK_STR(b.data ? b.data : "", want);
    buf_free(&b);
}

static void test_fold(void)
{
    folds_to("Árbol caído", strlen("Árbol caído"), "arbol caido");
    folds_to("  CALEFACCIÓN, agua   caliente!", 32, "calefaccion agua caliente ");
    folds_to("Straße Œuvre ĳs", strlen("Straße Œuvre ĳs"), "strasse oeuvre ijs");
    folds_to("e\xcc\x81te", 5, "ete");            /* a combining accent */
    folds_to("ab\xff\xfe" "cd", 6, "ab cd");      /* not UTF-8: a separator */
    folds_to("\xe2\x82", 2, "");                  /* a cut sequence */
    folds_to("\xed\xa0\x80x", 4, "x");           /* a surrogate, at the start */
    folds_to("x\0y", 3, "x y");                    /* NUL separates */
    folds_to("", 0, "");
    char ascii[2];
    CHECK_STR(fold_codepoint('Q', ascii), "q");
    CHECK(fold_codepoint(0xD7, ascii) == NULL); /* multiplication sign */
    CHECK(fold_codepoint(0x4E2D, ascii) == NULL);
}

TEST_MAIN(TEST(test_buf_basics), TEST(test_buf_double), TEST(test_buf_escapes), TEST(test_pool),
          TEST(test_datetime), TEST(test_utf8), TEST(test_form_decode), TEST(test_fold))
