/*
 * web_layout.c - the shell every page shares: head, skip link, header with
 * the language switch and the emergency line, footer. Landmarks (header,
 * nav, main, footer) and one h1 per page are what screen-reader users
 * navigate by; the skip link comes first for keyboard users. Every page
 * loads site.js (deferred), and works without it.
 */
#include <string.h>

#include "web/web_int.h"

/* The current path and query, for the language switch to come back to. */
static void put_here(web_ctx *c, buf_t *b)
{
    const char *q = http_query(c->req);
    buf_t here = BUF_INIT;
    buf_puts(&here, http_path(c->req));
    if (*q != '\0') {
        buf_putc(&here, '?');
        buf_puts(&here, q);
    }
    html_fmt(b, "%u", buf_failed(&here) ? "/" : here.data);
    buf_free(&here);
}

void web_page_begin(web_ctx *c, buf_t *b, const char *title)
{
    const char *city = c->app->city_name ? c->app->city_name : web_t(c, I18N_("311 Online"));
    html_fmt(b,
             "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             "<title>%s - %s</title>"
             "<link rel=\"stylesheet\" href=\"/static/site.css\"></head>"
             "<body data-page=\"%s\" data-msg-sending=\"%s\" data-msg-offline=\"%s\">"
             "<a class=\"skip\" href=\"#main\">%s</a>"
             "<header class=\"site\"><div class=\"bar\">"
             "<a class=\"brand\" href=\"/\">%s</a>",
             c->lang, title, city, beacon_page_name(c->page),
             /* site.js's texts for a form it sends (in the page's language) */
             web_t(c, I18N_("Sending\u2026")),
             web_t(c, I18N_("Your report could not be sent. Check your connection and try "
                            "again: nothing you typed has been lost.")),
             web_t(c, I18N_("Skip to the main content")), city);
    /* Accounts (web_account.c): the way in, or back to it. */
    bool in = c->account_id > 0;
    html_fmt(b, "<nav aria-label=\"%s\"><ul class=\"langs\"><li><a href=\"%R\">%s</a></li></ul>"
                "</nav>",
             web_t(c, I18N_("Account")), in ? "/account" : "/account/signin",
             in ? web_t(c, I18N_("My account")) : web_t(c, I18N_("Sign in")));
    html_fmt(b, "<nav aria-label=\"%s\"><ul class=\"langs\">",
             web_t(c, I18N_("Language")));
    for (size_t i = 0; i < i18n_set_count(c->app->langs); i++) {
        const char *tag = i18n_set_lang(c->app->langs, i);
        const char *name = i18n_set_lang_name(c->app->langs, i);
        if (strcmp(tag, c->lang) == 0) {
            html_fmt(b, "<li><span aria-current=\"true\" lang=\"%s\">%s</span></li>", tag, name);
        } else {
            html_fmt(b, "<li><a href=\"/lang/%u?next=", tag);
            put_here(c, b);
            html_fmt(b, "\" lang=\"%s\" hreflang=\"%s\">%s</a></li>", tag, tag, name);
        }
    }
    html_fmt(b,
             "</ul></nav></div>"
             "<p class=\"emergency-line\">%s <a href=\"tel:911\">911</a></p></header>"
             "<main id=\"main\" tabindex=\"-1\">",
             web_t(c, I18N_("Emergency? Do not use this site. Call")));
}

void web_page_end(web_ctx *c, buf_t *b)
{
    html_fmt(b,
             "</main><footer class=\"site\"><ul>"
             "<li><a href=\"/privacy\">%s</a></li>"
             "<li><a href=\"/requests\">%s</a></li>"
             "<li><a href=\"/open311/v2/discovery.json\">%s</a></li>"
             "</ul></footer><script src=\"/static/site.js\" defer></script></body></html>\n",
             web_t(c, I18N_("Privacy policy")), web_t(c, I18N_("Look up a request")),
             web_t(c, I18N_("Open311 API for developers")));
}

void web_catalog_text(web_ctx *c, buf_t *b, const char *text)
{
    const char *shown = web_catalog_t(c, text);
    if (strcmp(c->lang, WEB_CATALOG_LANG) == 0 || shown != text)
        html_fmt(b, "%s", shown);
    else
        html_fmt(b, "<span lang=\"%s\">%s</span>", WEB_CATALOG_LANG, text);
}

void web_emergency_notice(web_ctx *c, buf_t *b)
{
    html_fmt(b,
             "<div class=\"notice emergency\" role=\"alert\"><h2>%s</h2><p>%s</p>"
             "<p class=\"call\"><a href=\"tel:911\">%s</a></p></div>",
             web_t(c, I18N_("If this is an emergency, call 911 now")),
             web_t(c, I18N_("311 is for problems that are not emergencies. A fire, a gas "
                            "smell, someone hurt or in danger, a live wire down: call 911. "
                            "Reports here are not watched around the clock.")),
             web_t(c, I18N_("Call 911")));
}
