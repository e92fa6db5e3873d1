/*
 * web_location.c - the location step of the report form: an address field
 * that works alone (for screen-reader users, and without a map or
 * JavaScript).
 */
#include "web/web_int.h"

void web_location_fieldset(web_ctx *c, buf_t *b, const service *sv, const kv_list *v)
{
    (void)sv;
    html_fmt(b, "<fieldset><legend>%s</legend>", web_t(c, I18N_("Where is the problem?")));
    web_text_input(c, b, "address", "address_string", web_t(c, I18N_("Address or place")),
                   web_t(c, I18N_("A street address, or a corner: \"5th Ave and W 14th St\".")),
                   "text", "street-address", v, true, 500);
    html_fmt(b, "</fieldset>");
}
