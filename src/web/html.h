/*
 * html.h - writing HTML safely: one formatter whose conversions escape by
 * default, so that putting a value into a page unescaped takes a
 * deliberate %R and a constant.
 *
 *   html_fmt(b, "<a href=\"/requests/%u\">%s</a>", id_text, name);
 *
 * Conversions:
 *   %s  text or attribute value, escaped (& < > " ' and CR; characters
 *       HTML cannot carry are dropped); NULL writes nothing
 *   %u  a URL path segment or query value, percent-encoded (then safe in
 *       an attribute as is)
 *   %d  int          %L  int64_t
 *   %R  raw HTML: only for constant markup and for the output of other
 *       html_ functions, never for a value from a request or the store
 *   %%  a percent sign
 * Anything else is a programming error: the buffer is marked failed, so
 * the page turns into a 500 rather than into broken markup.
 */
#ifndef CIVIC_WEB_HTML_H
#define CIVIC_WEB_HTML_H

#include <stdarg.h>
#include <stdint.h>

#include "util/buf.h"

void html_fmt(buf_t *b, const char *fmt, ...);
void html_vfmt(buf_t *b, const char *fmt, va_list ap);

#endif
