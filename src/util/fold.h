/*
 * fold.h - text folded for matching words, the way a person reads them:
 * UTF-8 decoded strictly, capitals lowered, the accented letters of
 * Latin-1 and Latin Extended-A without their accents (á->a, ñ->n, ü->u,
 * ß->ss, œ->oe), combining accents and invisible joiners dropped, and
 * everything else (punctuation, spaces, other scripts, bytes that are not
 * UTF-8) a separator. So "Árbol caído" and "arbol caido" fold alike.
 * Used by the I5 emergency matcher (core/emergency.c) and the website's
 * catalog search. No state: thread-safe.
 */
#ifndef CIVIC_FOLD_H
#define CIVIC_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum { FOLD_NOT_UTF8 = 0x110000 }; /* the first number that is no code point */

/* Decodes the code point at *p (p < end), strictly (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), and moves *p past it. A
 * byte that does not start a whole valid sequence gives FOLD_NOT_UTF8 and
 * moves *p by that one byte only, so a valid sequence after it is read. */
uint32_t fold_decode(const unsigned char **p, const unsigned char *end);

/* What code point cp adds to a word: lower-case ASCII letters or digits
 * (in ascii[] for ASCII), "" for a mark that belongs to the letter before
 * it, or NULL if cp separates words. */
const char *fold_codepoint(uint32_t cp, char ascii[2]);

/* Appends text (len bytes) folded: its words in lower-case ASCII, each
 * run of separators one space (none at the start; one may end it). */
void fold_text(const char *text, size_t len, buf_t *out);

#endif
