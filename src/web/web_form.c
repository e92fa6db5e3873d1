/*
 * web_form.c - the pieces every form of the website is built from: a
 * field's label (with its "required" mark inside, so a screen reader reads
 * both), its hint, and the aria attributes that tie a refused field to the
 * problem summary at the top of the page.
 */
#include <stdio.h>
#include <string.h>

#include "web/web_int.h"

/* " (required)" inside a label or legend, so a screen reader reads it
 * with the question. */
void web_required_mark(web_ctx *c, buf_t *b, bool required)
{
    if (required)
        html_fmt(b, " <span class=\"req\">(%s)</span>", web_t(c, I18N_("required")));
}

/* The label of a field: its text (catalog text marked as such), the
 * required mark inside it, so a screen reader reads both. */
void web_field_label(web_ctx *c, buf_t *b, const char *id, const char *label, bool from_catalog,
                     const char *suffix, bool required)
{
    html_fmt(b, "<div class=\"field\"><label for=\"%s\">", id);
    if (from_catalog)
        web_catalog_text(c, b, label);
    else
        html_fmt(b, "%s", label);
    html_fmt(b, "%s", suffix);
    web_required_mark(c, b, required);
    html_fmt(b, "</label>");
}

/* aria-describedby (the problem summary when this field is the one at
 * fault, and the hint if any) and aria-invalid. */
void web_field_aria(web_ctx *c, buf_t *b, const char *name, const char *hint_id)
{
    bool bad = c->bad_field != NULL && strcmp(c->bad_field, name) == 0;
    if (bad)
        html_fmt(b, " aria-invalid=\"true\"");
    if (bad || hint_id != NULL)
        html_fmt(b, " aria-describedby=\"%R%R%s\"", bad ? "problem" : "", bad && hint_id ? " " : "",
                 hint_id);
}

void web_field_hint(web_ctx *c, buf_t *b, const char *id, const char *hint, bool from_catalog,
                    char *hint_id, size_t hint_id_size)
{
    hint_id[0] = '\0';
    if (hint == NULL)
        return;
    snprintf(hint_id, hint_id_size, "%s-hint", id);
    html_fmt(b, "<p class=\"hint\" id=\"%s\">", hint_id);
    if (from_catalog)
        web_catalog_text(c, b, hint);
    else
        html_fmt(b, "%s", hint);
    html_fmt(b, "</p>");
}

/* One <input>: text, email, tel, decimal number or datetime-local. */
void web_input_field(web_ctx *c, buf_t *b, const char *id, const char *name, const char *label,
                     const char *hint, bool from_catalog, const char *type, const char *extra,
                     const kv_list *v, bool required, int maxlength)
{
    char hint_id[112];
    /* A date-time is typed in the city's local time when it has a time
     * zone (web_report.c converts it), else in UTC; the label says which. */
    char zone[64] = "";
    if (strcmp(type, "datetime-local") == 0)
        snprintf(zone, sizeof zone, " (%s)",
                 c->app->local_time ? web_t(c, I18N_("local time")) : "UTC");
    web_field_label(c, b, id, label, from_catalog, zone, required);
    web_field_hint(c, b, id, hint, from_catalog, hint_id, sizeof hint_id);
    html_fmt(b, "<input id=\"%s\" name=\"%s\" type=\"%s\" value=\"%s\"%R", id, name, type,
             v ? kv_get(v, name) : NULL, required ? " required" : "");
    if (maxlength > 0)
        html_fmt(b, " maxlength=\"%d\"", maxlength);
    if (extra != NULL)
        html_fmt(b, "%R", extra);
    web_field_aria(c, b, name, hint_id[0] ? hint_id : NULL);
    html_fmt(b, "></div>");
}

void web_text_input(web_ctx *c, buf_t *b, const char *id, const char *name, const char *label,
                    const char *hint, const char *type, const char *autocomplete, const kv_list *v,
                    bool required, int maxlength)
{
    char extra[64] = "";
    if (autocomplete != NULL)
        snprintf(extra, sizeof extra, " autocomplete=\"%s\"", autocomplete);
    web_input_field(c, b, id, name, label, hint, false, type, extra, v, required, maxlength);
}
