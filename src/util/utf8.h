/*
 * utf8.h - strict UTF-8 validation (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF. Every text that enters Civic311 is
 * checked once at the door, so the writers can trust what they escape.
 */
#ifndef CIVIC_UTF8_H
#define CIVIC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool utf8_valid(const char *s, size_t n);

/* Number of code points in a valid UTF-8 string (for length limits that a
 * person counts in characters, not bytes). */
size_t utf8_length(const char *s, size_t n);

/* The longest prefix of s[0..n) of at most max bytes that ends on a code
 * point boundary: for clipping text without splitting a character. */
size_t utf8_clip(const char *s, size_t n, size_t max);

#endif
