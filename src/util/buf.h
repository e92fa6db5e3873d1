/*
 * buf.h - the one growable byte buffer, used wherever output is built
 * (JSON, XML, HTML, CSV, SQL text, log lines).
 *
 * Like curl's dynbuf and git's strbuf, with one twist: errors are sticky.
 * Once an append fails (out of memory, or over the buffer's limit) the
 * buffer is marked failed, later appends do nothing, and the writer checks
 * buf_failed() once at the end instead of after every call.
 *
 * Escaping lives here, in the append functions, so that building a document
 * without escaping a value takes more effort than escaping it.
 *
 * The contents are always NUL-terminated (when len > 0 or after any append),
 * so b->data can be passed to C string functions.
 */
#ifndef CIVIC_BUF_H
#define CIVIC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;   /* owned; NULL until the first append */
    size_t len;   /* bytes used, not counting the NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* 0 = no limit; else appends past it fail */
    bool failed;  /* sticky: an append failed */
} buf_t;

#define BUF_INIT {NULL, 0, 0, 0, false}

void buf_init(buf_t *b, size_t limit);
void buf_free(buf_t *b);
void buf_reset(buf_t *b); /* empties it, keeps the memory, clears failed */
bool buf_failed(const buf_t *b);

/* Takes the bytes out of the buffer: the caller frees the result with
 * free(). Returns NULL if the buffer failed (and frees its memory). An
 * empty buffer gives an empty string. The buffer is left empty. */
char *buf_detach(buf_t *b);

void buf_append(buf_t *b, const void *p, size_t n);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_put_i64(buf_t *b, int64_t v);

/* A double in the shortest form that reads back to the same value, never
 * in exponent form for coordinates (e.g. 40.712776, -73.9). NaN and
 * infinities append "null". */
void buf_put_double(buf_t *b, double v);

/* JSON: a string literal with its quotes, escaped per RFC 8259. NULL
 * appends null. The input must be valid UTF-8 (we validate at the door). */
void buf_json_str(buf_t *b, const char *s);
void buf_json_strn(buf_t *b, const char *s, size_t n);

/* XML 1.0 / HTML text and attribute values: escapes & < > " ' and CR (as
 * &#13;, which a parser would otherwise turn into LF). Characters XML 1.0
 * cannot carry (C0 controls but tab/LF/CR, U+FFFE, U+FFFF) are dropped. */
void buf_xml_text(buf_t *b, const char *s);

/* <name>escaped text</name>; a NULL value writes <name/> (empty element). */
void buf_xml_elem(buf_t *b, const char *name, const char *text);

/* One CSV field per RFC 4180: quoted when it holds a comma, quote, CR or
 * LF; quotes doubled. */
void buf_csv_field(buf_t *b, const char *s);

/* Percent-encodes s for a URL query component (RFC 3986 unreserved kept). */
void buf_url_encode(buf_t *b, const char *s);

#endif
