/*
 * web_report.c - filing a request on the website (I2, I5): the service's
 * form, then a review page, then the filing itself, each a plain HTML
 * form so that it all works without JavaScript.
 *
 * The form's field names are Open311's own (address_string,
 * attribute[CODE], attribute[CODE][], description, first_name, email...),
 * so what a browser sends goes to the same intake as an Open311 POST and
 * meets the same rules (Q2). Between the steps the values travel in the
 * page itself (hidden fields of a POST form, never a URL), so nothing is
 * stored until the resident presses "Send", and a failed step never loses
 * what was typed: every refusal shows the form again, filled in.
 *
 * "step" says what the resident pressed: "review" (the form's button),
 * "edit" (back from the review), "send" (the review's button).
 *
 * The form is multipart/form-data for its photo. A photo is the one thing
 * stored before "Send": the page that brings it has it cleaned and sealed
 * (web_photo.c), and the pages after carry a token naming it, which "send"
 * ties to the new request in the same transaction.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/apikey.h"
#include "core/emergency.h"
#include "core/intake.h"
#include "media/photo.h"
#include "open311/o311_params.h"
#include "notify/notify.h"
#include "privacy/vault.h"
#include "store/commitq.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/multipart.h"
#include "web/web_int.h"

/* The service a /report/{code} path names, or NULL after answering 404. */
static const service *find_service(web_ctx *c, const char *raw)
{
    char *code = pool_strdup(http_pool(c->req), raw);
    const service *sv = NULL;
    if (code != NULL && strlen(code) <= 200 && url_unescape_segment(code))
        sv = catalog_find_service(c->app->cat, code);
    if (sv == NULL)
        web_error_page(c, 404, web_t(c, I18N_("Service not found")),
                       web_t(c, I18N_("There is no such service. Choose one from the home "
                                      "page.")));
    return sv;
}

/* "attribute[CODE]" or, for a multiple choice, "attribute[CODE][]". */
static const char *attr_field(web_ctx *c, const attribute *a)
{
    buf_t n = BUF_INIT;
    buf_printf(&n, "attribute[%s]%s", a->code, a->datatype == ATTR_MULTIVALUELIST ? "[]" : "");
    char *s = buf_failed(&n) ? NULL : pool_strdup(http_pool(c->req), n.data);
    buf_free(&n);
    return s ? s : "";
}

static bool kv_has_value(const kv_list *kv, const char *key, const char *value)
{
    for (size_t i = 0; i < kv->count; i++)
        if (strcmp(kv->items[i].key, key) == 0 && strcmp(kv->items[i].value, value) == 0)
            return true;
    return false;
}

/* Our own failure before anything was stored. */
static void not_sent(web_ctx *c)
{
    web_error_page(c, 500, web_t(c, I18N_("Your report was not sent")),
                   web_t(c, I18N_("Please try again.")));
}

/* ---- saying what is wrong, as the form asks it ---- */

/* What a refusal by intake means for the resident: a sentence in their
 * language that names the question as the form shows it, and the field to
 * mark (aria-invalid). Intake stays the one place that decides; its
 * messages name the Open311 parameter first ("attribute[SIZE] must be...",
 * "email is not...", "a location is required..."), which is what is read
 * here. The message itself never holds a value. */
web_problem web_report_explain(web_ctx *c, const service *sv, const kv_list *v, const char *msg)
{
    web_problem p = {web_t(c, I18N_("Some answers could not be accepted. Check them and send "
                                    "the form again.")),
                     NULL};
    if (web_location_problem(c, v, msg, &p.text, &p.field))
        return p;
    pool_t *pool = http_pool(c->req);
    if (strncmp(msg, "a location", 10) == 0 || strncmp(msg, "address_string", 14) == 0) {
        p.field = "address_string";
        p.text = strncmp(msg, "a location", 10) == 0
                     ? web_t(c, I18N_("Enter the address or place of the problem."))
                     : web_t(c, I18N_("The address is too long or has line breaks."));
    } else if (strncmp(msg, "description", 11) == 0) {
        p.field = "description";
        p.text = web_t(c, I18N_("The description is too long: at most 4000 characters."));
    } else if (strncmp(msg, "email", 5) == 0) {
        p.field = "email";
        p.text = web_t(c, I18N_("Check the email address, or leave it empty."));
    } else if (strncmp(msg, "phone", 5) == 0) {
        p.field = "phone";
        p.text = web_t(c, I18N_("Check the phone number, or leave it empty."));
    } else if (strncmp(msg, "first_name", 10) == 0 || strncmp(msg, "last_name", 9) == 0) {
        p.field = msg[0] == 'f' ? "first_name" : "last_name";
        p.text = web_t(c, I18N_("A name must fit on one line, in at most 200 characters."));
    } else if (strncmp(msg, "attribute[", 10) == 0) {
        for (size_t i = 0; i < sv->nattrs; i++) {
            const attribute *a = &sv->attrs[i];
            size_t n = strlen(a->code);
            if (strncmp(msg + 10, a->code, n) != 0 || msg[10 + n] != ']')
                continue;
            const char *how = strstr(msg, "is required")     ? I18N_("Answer this question:")
                              : a->datatype == ATTR_NUMBER   ? I18N_("Enter a number, like 3, for:")
                              : a->datatype == ATTR_DATETIME ? I18N_("Enter a date and time for:")
                              : a->nvalues > 0 ? I18N_("Choose from the answers given for:")
                                               : I18N_("Shorten the answer to:");
            buf_t t = BUF_INIT;
            buf_printf(&t, "%s \u201c%s\u201d", web_t(c, how),
                       a->description ? web_catalog_t(c, a->description) : a->code);
            char *text = buf_failed(&t) ? NULL : pool_strdup(pool, t.data);
            buf_free(&t);
            if (text != NULL)
                p.text = text;
            p.field = attr_field(c, a);
            break;
        }
    }
    return p;
}

/* ---- the form ---- */

void web_report_question(web_ctx *c, buf_t *b, const attribute *a, const kv_list *v)
{
    const char *name = attr_field(c, a);
    /* The id from the code, made safe for an id attribute. */
    char id[96] = "q-";
    size_t k = 2;
    for (const char *p = a->code; *p && k + 1 < sizeof id; p++)
        id[k++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
                      ? *p
                      : '_';
    id[k] = '\0';
    const char *label = a->description ? a->description : a->code;
    const char *hint = a->datatype_description;
    if (!a->variable) {
        html_fmt(b, "<p class=\"info\">");
        web_catalog_text(c, b, label);
        html_fmt(b, "</p>");
        return;
    }
    switch (a->datatype) {
    case ATTR_STRING:
        web_input_field(c, b, id, name, label, hint, true, "text", NULL, v, a->required,
                    INTAKE_MAX_SHORT);
        break;
    case ATTR_NUMBER:
        web_input_field(c, b, id, name, label, hint, true, "text", " inputmode=\"decimal\"", v,
                    a->required, 32);
        break;
    case ATTR_DATETIME:
        web_input_field(c, b, id, name, label, hint, true, "datetime-local", NULL, v, a->required, 0);
        break;
    case ATTR_TEXT: {
        char hint_id[112];
        web_field_label(c, b, id, label, true, "", a->required);
        web_field_hint(c, b, id, hint, true, hint_id, sizeof hint_id);
        html_fmt(b, "<textarea id=\"%s\" name=\"%s\" rows=\"4\" maxlength=\"%d\"%R", id, name,
                 INTAKE_MAX_TEXT, a->required ? " required" : "");
        web_field_aria(c, b, name, hint_id[0] ? hint_id : NULL);
        html_fmt(b, ">%s</textarea></div>", v ? kv_get(v, name) : NULL);
        break;
    }
    case ATTR_SINGLEVALUELIST:
    case ATTR_MULTIVALUELIST: {
        bool multi = a->datatype == ATTR_MULTIVALUELIST;
        html_fmt(b, "<fieldset class=\"field\"><legend>");
        web_catalog_text(c, b, label);
        web_required_mark(c, b, a->required);
        html_fmt(b, "</legend>");
        if (multi)
            html_fmt(b, "<p class=\"hint\">%s</p>", web_t(c, I18N_("Choose all that apply.")));
        for (size_t i = 0; i < a->nvalues; i++) {
            bool on = v != NULL && kv_has_value(v, name, a->values[i].key);
            html_fmt(b,
                     "<div class=\"choice\"><input type=\"%s\" id=\"%s-%d\" name=\"%s\" "
                     "value=\"%s\"%R%R",
                     multi ? "checkbox" : "radio", id, (int)i, name, a->values[i].key,
                     on ? " checked" : "", !multi && a->required && i == 0 ? " required" : "");
            web_field_aria(c, b, name, NULL);
            html_fmt(b, "><label for=\"%s-%d\">", id, (int)i);
            web_catalog_text(c, b, a->values[i].name);
            html_fmt(b, "</label></div>");
        }
        html_fmt(b, "</fieldset>");
        break;
    }
    }
}

/* The photo step: a file input, and the photo already attached (v's
 * token) with a way to take it out. */
static void photo_fieldset(web_ctx *c, buf_t *b, const kv_list *v)
{
    const char *token = v != NULL ? kv_get(v, "photo") : NULL;
    web_photo p;
    bool have = token != NULL && web_photo_parse(c, token, &p);
    html_fmt(b, "<fieldset><legend>%s</legend>", web_t(c, I18N_("Photo (optional)")));
    if (have) {
        html_fmt(b,
                 "<input type=\"hidden\" name=\"photo\" value=\"%s\">"
                 "<figure class=\"photo\"><img src=\"/photos/%u\" alt=\"%s\">"
                 "<figcaption>%s</figcaption></figure>"
                 "<div class=\"field choice\"><input type=\"checkbox\" id=\"remove-photo\" "
                 "name=\"remove_photo\" value=\"1\"><label for=\"remove-photo\">%s</label></div>",
                 token, token, web_t(c, I18N_("The photo you added")),
                 web_t(c, I18N_("A photo is added to this report.")),
                 web_t(c, I18N_("Take this photo out")));
    }
    char hint_id[112];
    web_field_label(c, b, "photo-file", have ? web_t(c, I18N_("Choose a different photo"))
                                             : web_t(c, I18N_("Add a photo")),
                    false, "", false);
    web_field_hint(c, b, "photo-file",
                   web_t(c, I18N_("JPEG, PNG or WebP, at most 10 MB. We remove the location, "
                                  "camera details and everything else hidden in the file. "
                                  "Only you and city staff see it.")),
                   false, hint_id, sizeof hint_id);
    html_fmt(b,
             "<input id=\"photo-file\" name=\"photo\" type=\"file\" "
             "accept=\"image/jpeg,image/png,image/webp\"");
    web_field_aria(c, b, "photo", hint_id);
    html_fmt(b, "></div></fieldset>");
}

/* The form, filled with v (NULL: empty). problem: an error summary to
 * show first (NULL: none); emergency: show the 911 notice and ask the
 * resident to confirm it is not one. */
static void report_form(web_ctx *c, int status, const service *sv, const kv_list *v,
                        const char *problem, const char *bad_field, bool emergency)
{
    buf_t b = BUF_INIT;
    c->bad_field = bad_field;
    web_page_begin(c, &b, web_catalog_t(c, sv->name));
    if (emergency || emergency_service(sv))
        web_emergency_notice(c, &b);
    html_fmt(&b, "<h1>");
    web_catalog_text(c, &b, sv->name);
    html_fmt(&b, "</h1>");
    if (problem != NULL)
        html_fmt(&b,
                 "<div class=\"notice error\" role=\"alert\" id=\"problem\"><h2>%s</h2><p>%s</p>"
                 "</div>",
                 web_t(c, I18N_("Please check the form")), problem);
    if (sv->description != NULL) {
        html_fmt(&b, "<p class=\"lead\">");
        web_catalog_text(c, &b, sv->description);
        html_fmt(&b, "</p>");
    }
    html_fmt(&b,
             "<form method=\"post\" action=\"/report/%u\" class=\"report\" "
             "enctype=\"multipart/form-data\" novalidate>",
             sv->code);
    web_csrf_field(c, &b);

    web_location_fieldset(c, &b, sv, v);

    bool any = false;
    for (size_t i = 0; i < sv->nattrs; i++) {
        if (!any)
            html_fmt(&b, "<fieldset><legend>%s</legend>", web_t(c, I18N_("About the problem")));
        any = true;
        web_report_question(c, &b, &sv->attrs[i], v);
    }
    if (any)
        html_fmt(&b, "</fieldset>");

    html_fmt(&b,
             "<fieldset><legend>%s</legend><div class=\"field\"><label for=\"description\">%s"
             "</label><p class=\"hint\" id=\"description-hint\">%s</p>"
             "<textarea id=\"description\" name=\"description\" rows=\"5\" maxlength=\"4000\"",
             web_t(c, I18N_("Describe it")), web_t(c, I18N_("Description")),
             web_t(c, I18N_("What you see, and anything that helps the crew find it. This text "
                            "is public: do not write names or phone numbers in it.")));
    web_field_aria(c, &b, "description", "description-hint");
    html_fmt(&b, ">%s</textarea></div></fieldset>", v ? kv_get(v, "description") : NULL);

    photo_fieldset(c, &b, v);

    html_fmt(&b,
             "<fieldset><legend>%s</legend><p class=\"hint\">%s <a href=\"/privacy\">%s</a></p>",
             web_t(c, I18N_("Your contact details (optional)")),
             web_t(c, I18N_("Only to contact you about this request. They are never shown "
                            "publicly and are erased a set time after the request is closed.")),
             web_t(c, I18N_("How we protect them")));
    web_text_input(c, &b, "first_name", "first_name", web_t(c, I18N_("First name")), NULL, "text",
               "given-name", v, false, 200);
    web_text_input(c, &b, "last_name", "last_name", web_t(c, I18N_("Last name")), NULL, "text",
               "family-name", v, false, 200);
    web_text_input(c, &b, "email", "email", web_t(c, I18N_("Email")), NULL, "email", "email", v, false,
               254);
    web_text_input(c, &b, "phone", "phone", web_t(c, I18N_("Phone")), NULL, "tel", "tel", v, false, 32);
    /* W6: unticked unless the resident ticked it; only with an email. */
    const char *notify = v ? kv_get(v, "notify") : NULL;
    html_fmt(&b,
             "<div class=\"field choice\"><input type=\"checkbox\" id=\"notify\" name=\"notify\" "
             "value=\"1\" aria-describedby=\"notify-hint\"%R><label for=\"notify\">%s</label>"
             "<p class=\"hint\" id=\"notify-hint\">%s</p></div>",
             notify != NULL && strcmp(notify, "1") == 0 ? " checked" : "",
             web_t(c, I18N_("Email me when this request changes")),
             web_t(c, I18N_("Needs your email address above. We write only when the city "
                            "changes the request's status or adds a public note.")));
    html_fmt(&b, "</fieldset>");
    if (emergency || emergency_service(sv)) {
        const char *ticked = v ? kv_get(v, "not_emergency") : NULL;
        html_fmt(
            &b,
            "<div class=\"field choice confirm\"><input type=\"checkbox\" id=\"not-emergency\" "
            "name=\"not_emergency\" value=\"1\" required%R><label for=\"not-emergency\">%s"
            "</label></div>",
            ticked != NULL && strcmp(ticked, "1") == 0 ? " checked" : "",
            web_t(c, I18N_("This is not an emergency: nobody is in danger.")));
    }
    html_fmt(&b,
             "<input type=\"hidden\" name=\"step\" value=\"review\">"
             "<p class=\"actions\"><button type=\"submit\">%s</button></p></form>",
             web_t(c, I18N_("Review the report")));
    web_page_end(c, &b);
    web_send_page(c, status, &b);
}

void web_report_get(web_ctx *c, const char *code)
{
    const service *sv = find_service(c, code);
    if (sv == NULL)
        return;
    report_form(c, 200, sv, NULL, NULL, NULL, false);
}

/* ---- the review page ---- */

static void hidden_values(buf_t *b, const kv_list *v)
{
    for (size_t i = 0; i < v->count; i++) {
        const char *k = v->items[i].key;
        if (strcmp(k, "service_code") == 0)
            continue;
        html_fmt(b, "<input type=\"hidden\" name=\"%s\" value=\"%s\">", k, v->items[i].value);
    }
}

static void review_row(buf_t *b, const char *label, const char *value)
{
    if (value != NULL && *value != '\0')
        html_fmt(b, "<dt>%s</dt><dd>%s</dd>", label, value);
}

static void review_page(web_ctx *c, const service *sv, const kv_list *v)
{
    buf_t b = BUF_INIT;
    c->page = BEACON_REVIEW;
    web_page_begin(c, &b, web_t(c, I18N_("Check your report")));
    html_fmt(&b, "<h1>%s</h1><p class=\"lead\">%s</p><dl class=\"facts\">",
             web_t(c, I18N_("Check your report")),
             web_t(c, I18N_("Nothing has been sent yet. Check the details, then send.")));
    review_row(&b, web_t(c, I18N_("Service")), web_catalog_t(c, sv->name));
    web_location_review(c, &b, sv, v); /* the address, the point, open requests nearby */
    for (size_t i = 0; i < sv->nattrs; i++) {
        const attribute *a = &sv->attrs[i];
        if (!a->variable)
            continue;
        const char *name = attr_field(c, a);
        const char *label = a->description ? web_catalog_t(c, a->description) : a->code;
        if (a->nvalues == 0) {
            review_row(&b, label, kv_get(v, name));
            continue;
        }
        buf_t names = BUF_INIT;
        for (size_t j = 0; j < a->nvalues; j++)
            if (kv_has_value(v, name, a->values[j].key)) {
                if (names.len > 0)
                    buf_puts(&names, ", ");
                buf_puts(&names, web_catalog_t(c, a->values[j].name));
            }
        review_row(&b, label, buf_failed(&names) ? NULL : names.data);
        buf_free(&names);
    }
    review_row(&b, web_t(c, I18N_("Description")), kv_get(v, "description"));
    const char *token = kv_get(v, "photo");
    if (token != NULL)
        html_fmt(&b,
                 "<dt>%s</dt><dd><figure class=\"photo\"><img src=\"/photos/%u\" alt=\"%s\">"
                 "</figure></dd>",
                 web_t(c, I18N_("Photo")), token, web_t(c, I18N_("The photo you added")));
    review_row(&b, web_t(c, I18N_("First name")), kv_get(v, "first_name"));
    review_row(&b, web_t(c, I18N_("Last name")), kv_get(v, "last_name"));
    review_row(&b, web_t(c, I18N_("Email")), kv_get(v, "email"));
    review_row(&b, web_t(c, I18N_("Phone")), kv_get(v, "phone"));
    if (kv_get(v, "notify") != NULL)
        review_row(&b, web_t(c, I18N_("Email me when this request changes")),
                   web_t(c, I18N_("Yes")));
    html_fmt(&b, "</dl><form method=\"post\" action=\"/report/%u\">", sv->code);
    web_csrf_field(c, &b);
    hidden_values(&b, v);
    /* A fresh key for this page's "Send": pressed twice, it files once. */
    unsigned char key[WEB_SEND_KEY_BYTES];
    char key_hex[2 * WEB_SEND_KEY_BYTES + 1];
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(key_hex, sizeof key_hex, key, sizeof key);
    html_fmt(&b, "<input type=\"hidden\" name=\"send_key\" value=\"%s\">", key_hex);
    html_fmt(
        &b,
        "<p class=\"actions\"><button type=\"submit\" name=\"step\" value=\"send\">%s</button> "
        "<button type=\"submit\" name=\"step\" value=\"edit\" class=\"secondary\">%s</button>"
        "</p></form>",
        web_t(c, I18N_("Send the report")), web_t(c, I18N_("Change something")));
    web_page_end(c, &b);
    web_send_page(c, 200, &b);
}

/* ---- what a browser may send ---- */

/* The fields of the report form: only these reach intake. Open311 has
 * more (account_id, device_id, media_url, address_id, lat/long...), but
 * the website does not offer them, and a crafted POST must not file an
 * account's report without its sign-in or publish a media_url the API
 * would only take from a keyed client. */
static const char *const FORM_FIELDS[] = {
    "address_string", "description", "first_name", "last_name", "email", "phone", "not_emergency",
    "lat", "long", "photo", "remove_photo", "send_key", "notify"};

bool web_report_form_field(const service *sv, const char *key)
{
    for (size_t i = 0; i < sizeof FORM_FIELDS / sizeof FORM_FIELDS[0]; i++)
        if (strcmp(key, FORM_FIELDS[i]) == 0)
            return true;
    if (strncmp(key, "attribute[", 10) != 0)
        return false;
    for (size_t i = 0; i < sv->nattrs; i++) {
        const attribute *a = &sv->attrs[i];
        size_t n = strlen(a->code);
        const char *rest = key + 10;
        if (a->variable && strncmp(rest, a->code, n) == 0 &&
            strcmp(rest + n, a->datatype == ATTR_MULTIVALUELIST ? "][]" : "]") == 0)
            return true;
    }
    return false;
}

/* Copies the form's own fields of in into out, with the page's service;
 * ERR_INVALID for any other field but csrf and step (a browser sends
 * nothing else, so it is a crafted or stale form: refused, not dropped). */
static err_code form_values(web_ctx *c, const service *sv, const kv_list *in, kv_list *out,
                            err_t *err)
{
    pool_t *pool = http_pool(c->req);
    kv_init(out);
    err_code rc =
        kv_add(out, pool, "service_code", 12, sv->code, strlen(sv->code), &KV_DEFAULT_LIMITS, err);
    for (size_t i = 0; rc == ERR_OK && i < in->count; i++) {
        const kv_pair *p = &in->items[i];
        if (web_report_form_field(sv, p->key))
            rc = kv_add(out, pool, p->key, strlen(p->key), p->value, p->value_len,
                        &KV_DEFAULT_LIMITS, err);
        else if (strcmp(p->key, "csrf") != 0 && strcmp(p->key, "step") != 0)
            rc = err_set(err, ERR_INVALID, "a field the form does not have");
    }
    return rc;
}

/* The form again, with what intake refused said as the form asks it. */
static void refuse(web_ctx *c, const service *sv, const kv_list *v, const char *msg)
{
    web_problem p = web_report_explain(c, sv, v, msg);
    report_form(c, 400, sv, v, p.text, p.field, false);
}

/* ---- filing ---- */

typedef struct {
    web_ctx *c;
    const service *sv;
    const kv_list *v;   /* the form's values, to show again if the photo is gone */
    service_type type;
    service_request sr;
    web_photo photo;    /* blob 0: none */
    bool photo_gone;
    bool has_send_key;  /* the review page's key, hashed: */
    unsigned char send_hash[STORE_DIGEST_LEN];
    bool sent_before;   /* this key filed a request already: that one is the answer */
    bool follow;        /* "Email me when this request changes" (W6) */
} web_create_job;

/* The request, its reporter's fields sealed under one subject (the
 * photo's, which is the signed-in resident's when there is one), and the
 * photo tied to it: all or nothing. */
static err_code web_create_apply(store_t *s, void *arg, err_t *err)
{
    web_create_job *job = arg;
    web_ctx *c = job->c;
    int64_t subject = job->photo.blob != 0 ? job->photo.subject : c->account_subject;
    char actor[40] = "web";
    if (c->account_id != 0)
        snprintf(actor, sizeof actor, "account:%lld", (long long)c->account_id);
    if (job->has_send_key) {
        /* "Send" pressed again (a double click, a retry after a dropped
         * connection, in the same batch or a later one): the request it
         * filed is the answer, and nothing is filed twice. */
        int64_t filed;
        err_code found = store_send_find(s, job->send_hash, &filed, err);
        if (found == ERR_OK) {
            job->sent_before = true;
            job->sr.id = job->sr.row_id = filed;
            return ERR_OK;
        }
        if (found != ERR_NOT_FOUND)
            return found;
    }
    err_code rc = store_request_insert(s, &job->sr, err);
    int64_t reporter = 0;
    if (rc == ERR_OK)
        rc = vault_collect_reporter(s, c->app->keys, &job->sr, actor, subject,
                                    job->sr.requested_at, &reporter, err);
    /* The consent and the follow, with the request or not at all. */
    if (rc == ERR_OK && job->follow)
        rc = notify_follow(s, job->sr.row_id, reporter, actor, job->sr.requested_at, err);
    if (rc == ERR_OK && job->photo.blob != 0) {
        rc = store_blob_attach(s, job->photo.blob, job->photo.subject, job->sr.row_id, err);
        job->photo_gone = rc == ERR_NOT_FOUND;
    }
    if (rc == ERR_OK && job->has_send_key)
        rc = store_send_insert(s, job->send_hash, job->sr.row_id, job->sr.requested_at, err);
    return rc;
}

/* On the writer thread, once the request is on disk (or failed). */
static void web_create_done(void *arg, err_code rc, const err_t *err)
{
    web_create_job *job = arg;
    web_ctx *c = job->c;
    if (rc != ERR_OK && job->photo_gone) {
        /* Erased a day after upload, or sent already (a second press of
         * "Send" in another tab): nothing was filed; the form again. */
        kv_list *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
        if (v != NULL) {
            kv_init(v);
            err_t ignored;
            for (size_t i = 0; i < job->v->count; i++)
                if (strcmp(job->v->items[i].key, "photo") != 0)
                    (void)kv_add(v, http_pool(c->req), job->v->items[i].key,
                                 strlen(job->v->items[i].key), job->v->items[i].value,
                                 job->v->items[i].value_len, &KV_DEFAULT_LIMITS, &ignored);
        }
        report_form(c, 409, job->sv, v,
                    web_t(c, I18N_("The photo is no longer here: it was sent already, or the "
                                   "report waited more than a day. Nothing was sent. Add the "
                                   "photo again, or send the report without it.")),
                    "photo", false);
        return;
    }
    if (rc != ERR_OK) {
        log_error("web: filing failed: %s", err->msg);
        web_error_page(c, 503, web_t(c, I18N_("Your report was not sent")),
                       web_t(c, I18N_("Something went wrong on our side and nothing was saved. "
                                      "Please go back and send it again in a minute.")));
        return;
    }
    if (job->type == SERVICE_REALTIME && job->sr.id > 0) {
        /* The photo's token rides along so the confirmation can show it
         * to this session (and only to it: the token is bound to it). */
        char path[64 + WEB_PHOTO_TOKEN_MAX], token[WEB_PHOTO_TOKEN_MAX];
        if (job->photo.blob != 0)
            web_photo_token(c, &job->photo, token);
        snprintf(path, sizeof path, "/requests/%lld?filed=1%s%s", (long long)job->sr.id,
                 job->photo.blob != 0 ? "&photo=" : "", job->photo.blob != 0 ? token : "");
        web_redirect(c, path);
        return;
    }
    /* Batch and blackbox services give no number at once. */
    buf_t b = BUF_INIT;
    web_page_begin(c, &b, web_t(c, I18N_("Your report was received")));
    html_fmt(&b, "<div class=\"notice success\" role=\"status\"><h1>%s</h1><p>%s</p></div>",
             web_t(c, I18N_("Your report was received")),
             job->type == SERVICE_BATCH
                 ? web_t(c, I18N_("The agency will give it a request number shortly."))
                 : web_t(c, I18N_("It has been forwarded to the agency that handles it.")));
    if (job->sr.service_notice != NULL)
        html_fmt(&b, "<p class=\"notice info\">%s</p>", web_catalog_t(c, job->sr.service_notice));
    html_fmt(&b, "<p><a href=\"/\">%s</a></p>", web_t(c, I18N_("Report another problem")));
    web_page_end(c, &b);
    web_send_page(c, 200, &b);
}

/* Files sr, which intake has accepted (its strings live in the request's
 * pool), and answers once it is on disk. */
static void file_request(web_ctx *c, const service *sv, const kv_list *v,
                         const service_request *sr, const web_photo *photo, const char *send_key)
{
    err_t err;
    web_create_job *job = pool_calloc(http_pool(c->req), 1, sizeof *job);
    if (job == NULL) {
        not_sent(c);
        return;
    }
    job->c = c;
    job->sv = sv;
    job->v = v;
    job->type = sv->type;
    job->sr = *sr;
    job->photo = *photo;
    job->follow = kv_get(v, "notify") != NULL;
    unsigned char key[WEB_SEND_KEY_BYTES];
    size_t key_len = 0;
    const char *end = NULL;
    if (send_key != NULL && strlen(send_key) == 2 * WEB_SEND_KEY_BYTES &&
        sodium_hex2bin(key, sizeof key, send_key, strlen(send_key), NULL, &key_len, &end) == 0 &&
        key_len == sizeof key && *end == '\0') {
        crypto_generichash(job->send_hash, sizeof job->send_hash, key, sizeof key, NULL, 0);
        job->has_send_key = true;
    }
    if (c->account_id != 0) {
        /* Filed from an account: its requests are the ones whose account
         * record is sealed under its subject ("my requests"). */
        char *id = pool_alloc(http_pool(c->req), 24);
        if (id == NULL) {
            not_sent(c);
            return;
        }
        snprintf(id, 24, "%lld", (long long)c->account_id);
        job->sr.reporter.account_id = id;
    }
    if (sv->type == SERVICE_BATCH) {
        char *token = pool_alloc(http_pool(c->req), 33);
        if (token == NULL) {
            not_sent(c);
            return;
        }
        apikey_random_token(token);
        job->sr.token = token;
    }
    if (!c->deferred) { /* already, when a photo thread carries on the POST */
        http_defer(c->req);
        c->deferred = true;
    }
    if (commitq_submit(c->app->writer, web_create_apply, web_create_done, job, &err) != ERR_OK)
        web_create_done(job, err.code, &err);
}

/* Adds p's token to v as its one "photo" value ({0, 0}: none). */
static bool put_photo(web_ctx *c, kv_list *v, const web_photo *p)
{
    if (p->blob == 0)
        return true;
    err_t err;
    char t[WEB_PHOTO_TOKEN_MAX];
    web_photo_token(c, p, t);
    return kv_add(v, http_pool(c->req), "photo", 5, t, strlen(t), &KV_DEFAULT_LIMITS, &err) ==
           ERR_OK;
}

/* Takes every key's value out of v; returns the first (NULL if none). */
static const char *take_value(kv_list *v, const char *key)
{
    const char *value = kv_get(v, key);
    size_t kept = 0;
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->items[i].key, key) != 0)
            v->items[kept++] = v->items[i];
    v->count = kept;
    return value;
}

/* Takes "photo" and "remove_photo" out of v and returns the photo the page
 * carried (its token, if this session was given it), {0, 0} if none or if
 * "take this photo out" was ticked. */
static web_photo photo_carried(web_ctx *c, kv_list *v)
{
    const char *token = take_value(v, "photo");
    const char *remove = take_value(v, "remove_photo");
    web_photo had = {0, 0};
    if (token == NULL || (remove != NULL && strcmp(remove, "1") == 0) ||
        !web_photo_parse(c, token, &had))
        had = (web_photo){0, 0};
    return had;
}

/* "YYYY-MM-DDTHH:MM[:SS]" without a zone (what a datetime-local input
 * sends) as a local time of the process's zone, the city's: the instant,
 * or -1 if s is not of that form. */
static int64_t local_instant(const char *s)
{
    size_t n = strlen(s);
    if (n != 16 && n != 19)
        return -1;
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < n; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return -1;
#define DIGITS2(p) (((p)[0] - '0') * 10 + ((p)[1] - '0'))
    struct tm tm = {.tm_year = DIGITS2(s) * 100 + DIGITS2(s + 2) - 1900,
                    .tm_mon = DIGITS2(s + 5) - 1,
                    .tm_mday = DIGITS2(s + 8),
                    .tm_hour = DIGITS2(s + 11),
                    .tm_min = DIGITS2(s + 14),
                    .tm_sec = n == 19 ? DIGITS2(s + 17) : 0,
                    .tm_isdst = -1}; /* mktime finds whether summer time applies */
#undef DIGITS2
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 59)
        return -1;
    time_t t = mktime(&tm);
    return t == (time_t)-1 ? -1 : (int64_t)t;
}

/* The values as intake takes them. With a city time zone (config
 * time_zone), a date-time question is answered in local time (the form
 * says so): its answer goes to intake as the UTC instant it names. The
 * page keeps what was typed. */
const kv_list *web_report_intake_values(web_ctx *c, const service *sv, const kv_list *v)
{
    if (!c->app->local_time)
        return v;
    kv_list *out = pool_calloc(http_pool(c->req), 1, sizeof *out);
    if (out == NULL)
        return NULL;
    kv_init(out);
    err_t err;
    for (size_t i = 0; i < v->count; i++) {
        const kv_pair *p = &v->items[i];
        const char *value = p->value;
        size_t len = p->value_len;
        char utc[DT_BUFSZ];
        for (size_t a = 0; a < sv->nattrs; a++) {
            const attribute *at = &sv->attrs[a];
            int64_t t;
            if (at->datatype == ATTR_DATETIME && strcmp(p->key, attr_field(c, at)) == 0 &&
                (t = local_instant(value)) >= 0) {
                dt_format(t, utc);
                value = utc;
                len = strlen(utc);
            }
        }
        if (kv_add(out, http_pool(c->req), p->key, strlen(p->key), value, len,
                   &KV_DEFAULT_LIMITS, &err) != ERR_OK)
            return NULL;
    }
    return out;
}

/* The POST once the photo is settled: "edit", the 911 check, intake, then
 * the review or the filing. v holds the photo's token if there is one. */
static void report_continue(web_ctx *c, const service *sv, kv_list *v, const char *step,
                            const web_photo *photo, const char *send_key)
{
    err_t err;
    if (step != NULL && strcmp(step, "edit") == 0) {
        report_form(c, 200, sv, v, NULL, NULL,
                    emergency_check(sv, kv_get(v, "description")) != EMERGENCY_NONE);
        return;
    }
    /* I5: before anything is filed, a report that reads like an emergency
     * gets the 911 notice and must be confirmed as not one. */
    const char *confirmed = kv_get(v, "not_emergency");
    if (emergency_check(sv, kv_get(v, "description")) != EMERGENCY_NONE &&
        (confirmed == NULL || strcmp(confirmed, "1") != 0)) {
        report_form(c, 200, sv, v, NULL, NULL, true);
        return;
    }
    /* W6: "email me" is a box ticked (value 1) beside an email address. */
    const char *notify = kv_get(v, "notify");
    const char *email = kv_get(v, "email");
    if (notify != NULL && (strcmp(notify, "1") != 0 || kv_count(v, "notify") != 1)) {
        report_form(c, 400, sv, v,
                    web_t(c, I18N_("The form sent a field this page does not have. Check "
                                   "the form and send it again.")),
                    NULL, false);
        return;
    }
    if (notify != NULL && (email == NULL || *email == '\0')) {
        report_form(c, 400, sv, v,
                    web_t(c, I18N_("To be emailed when the request changes, give your email "
                                   "address, or untick the box.")),
                    "email", false);
        return;
    }
    /* Check everything first: the review only shows a report that will be
     * accepted, and "send" files exactly what was checked. */
    service_request sr;
    const kv_list *iv = web_report_intake_values(c, sv, v);
    if (iv == NULL) {
        not_sent(c);
        return;
    }
    if (intake_request(c->app->cat, iv, SR_CHANNEL_WEB, c->app->now(), http_pool(c->req), &sr,
                       &err) != ERR_OK) {
        refuse(c, sv, v, err.msg);
        return;
    }
    if (step != NULL && strcmp(step, "send") == 0)
        file_request(c, sv, v, &sr, photo, send_key);
    else
        review_page(c, sv, v);
}

/* A POST waiting for its photo (web_photo_accept_async). */
typedef struct {
    const service *sv;
    kv_list *v;
    const char *step;
    const char *send_key;
    web_photo had; /* the photo the page carried, kept if the new one is refused */
} report_waiting;

/* On a photo thread: the new photo stored (it replaces the one the page
 * carried), or refused (the form again, with everything typed and the
 * photo it had before). */
static void photo_done(web_ctx *c, err_code rc, const web_photo *p, const char *problem,
                       void *arg)
{
    report_waiting *w = arg;
    if (rc != ERR_OK) {
        (void)put_photo(c, w->v, &w->had);
        report_form(c, rc == ERR_INVALID || rc == ERR_TOO_LARGE ? 400 : 503, w->sv, w->v, problem,
                    "photo", false);
        return;
    }
    if (!put_photo(c, w->v, p)) {
        not_sent(c);
        return;
    }
    report_continue(c, w->sv, w->v, w->step, p, w->send_key);
}

void web_report_post(web_ctx *c, const char *code)
{
    const service *sv = find_service(c, code);
    if (sv == NULL)
        return;
    err_t err;
    size_t len;
    const char *body = http_body(c->req, &len);
    kv_list *v = pool_calloc(http_pool(c->req), 1, sizeof *v);
    if (v == NULL) {
        not_sent(c);
        return;
    }
    kv_init(v);
    /* One file at most (the form has one file input), of any size the HTTP
     * layer let through: photo_clean says "too large" itself, so that the
     * typed text comes back with that message rather than being lost. */
    const char *ctype = http_header(c->req, "Content-Type");
    mp_limits mpl = {.max_files = 1, .max_file_bytes = len};
    mp_file *files = NULL;
    size_t nfiles = 0;
    err_code drc =
        mp_is_multipart(ctype)
            ? mp_decode(ctype, body, len, http_pool(c->req), &KV_DEFAULT_LIMITS, &mpl, v, &files,
                        &nfiles, &err)
        : o311_content_type_is(ctype, "application/x-www-form-urlencoded")
            ? form_decode(body, len, http_pool(c->req), &KV_DEFAULT_LIMITS, v, &err)
            : ERR_INVALID;
    if (drc != ERR_OK) {
        kv_init(v);
        report_form(c, 400, sv, NULL,
                    web_t(c, I18N_("The form could not be read. Please fill it in again.")), NULL,
                    false);
        return;
    }
    if (!web_csrf_ok(c, v)) {
        /* An old page (the browser session ended) or another site's form:
         * nothing is filed; the resident sees the form again, filled. */
        report_form(c, 403, sv, v,
                    web_t(c, I18N_("This page has expired. Check the form and send it again.")),
                    NULL, false);
        return;
    }
    const char *step = kv_get(v, "step");
    kv_list *fv = pool_calloc(http_pool(c->req), 1, sizeof *fv);
    if (fv == NULL) {
        not_sent(c);
        return;
    }
    if (form_values(c, sv, v, fv, &err) != ERR_OK ||
        (nfiles > 0 && strcmp(files[0].name, "photo") != 0)) {
        /* What can be kept is shown again; the unknown field is not. */
        err_t ignored;
        kv_list *kept = pool_calloc(http_pool(c->req), 1, sizeof *kept);
        if (kept != NULL) {
            kv_init(kept);
            for (size_t i = 0; i < v->count; i++)
                if (web_report_form_field(sv, v->items[i].key))
                    (void)kv_add(kept, http_pool(c->req), v->items[i].key, strlen(v->items[i].key),
                                 v->items[i].value, v->items[i].value_len, &KV_DEFAULT_LIMITS,
                                 &ignored);
        }
        report_form(c, 400, sv, kept,
                    web_t(c, I18N_("The form sent a field this page does not have. Check "
                                   "the form and send it again.")),
                    NULL, false);
        return;
    }
    v = fv;
    web_photo had = photo_carried(c, v);
    const char *send_key = take_value(v, "send_key");
    const mp_file *file = nfiles > 0 && files[0].len > 0 ? &files[0] : NULL;
    if (file == NULL) {
        if (!put_photo(c, v, &had)) {
            not_sent(c);
            return;
        }
        report_continue(c, sv, v, step, &had, send_key);
        return;
    }
    /* A new photo: cleaned on a photo thread, which carries on from there. */
    report_waiting *w = pool_calloc(http_pool(c->req), 1, sizeof *w);
    if (w == NULL) {
        not_sent(c);
        return;
    }
    *w = (report_waiting){.sv = sv, .v = v, .step = step, .send_key = send_key, .had = had};
    http_defer(c->req);
    c->deferred = true;
    if (web_photo_accept_async(c, file->data, file->len, photo_done, w) != ERR_OK) {
        (void)put_photo(c, v, &had);
        report_form(c, 503, sv, v, web_photo_busy_text(c), "photo", false);
    }
}

/* ---- forgetting send keys ---- */

static err_code sends_purge_apply(store_t *s, void *arg, err_t *err)
{
    const int64_t *before = arg;
    return store_send_purge(s, *before, NULL, err);
}

err_code web_sends_purge(web_app *app, err_t *err)
{
    /* A day: far longer than anyone keeps a review page open and presses
     * "Send" again. */
    int64_t before = app->now() - 86400;
    return commitq_run(app->writer, sends_purge_apply, &before, err);
}
