/*
 * o311_write.c - the Open311 GeoReport v2 documents we send, in JSON and
 * XML. See o311_write.h for the contract.
 *
 * Owns: the names, order and shapes of every element we send. Never writes
 * personal data: it reads no field of sr_reporter, and an event's note is
 * written only when the event says the note is public.
 *
 * One emitter (o311_em below) writes both formats, so the JSON and the XML
 * of a document cannot drift apart: a field is one call, and the emitter
 * turns it into "key":value or <key>value</key>. Arrays keep their XML
 * wrapper element even when empty (<services></services>), since clients
 * that map XML to objects (XML::Simple in FixMyStreet, the Ruby gem) expect
 * the wrapper to be there.
 *
 * Sources the shapes were checked against:
 *  - GeoReport v2 (open311/open311.github.io GeoReport_v2/index.md): the
 *    field names and order of services, service_definition, requests,
 *    tokens and errors.
 *  - Service Discovery (open311.github.io Service_Discovery.md) and the real
 *    Boston (JSON) and DC (XML) discovery documents: changeset, contact,
 *    key_service, endpoints/endpoint{specification,url,changeset,type,
 *    formats/format}.
 *  - extensions=true: Chicago's Open311 docs (Chicago/open311-api-docs
 *    docs/service_requests.md: extra data "nested in the
 *    'extended_attributes' field", e.g. extended_attributes.channel; notes
 *    with datetime, type (opened/closed/activity) and description) and
 *    Mark-a-Spot (markaspot/markaspot_open311 GeoreportProcessor.php: its
 *    history log also lives under extended_attributes). As o311_write.h
 *    says, we nest our history as extended_attributes.notes:
 *      "extended_attributes": {"channel": "web", "detailed_status":
 *        "in_progress", "resolution": null, "merged_into": null,
 *        "notes": [{"datetime": "...Z",
 *        "type": "opened", "status": "open", "detailed_status": "open",
 *        "description": null}]}
 *    XML: <extended_attributes><channel/>..<notes><note>..</note></notes>
 *    </extended_attributes>. Chicago itself puts "notes" beside
 *    extended_attributes rather than inside it.
 *  - mySociety servicerequestupdates: the FixMyStreet wiki "Open311 FMS -
 *    Proposed differences to Open311" (service_request_updates ⇊,
 *    request_update ↴), mySociety's own server open311-adapter
 *    (perllib/Open311/Endpoint/Role/mySociety.pm format_updates, and its test
 *    of GET /servicerequestupdates.xml), and the client FixMyStreet
 *    perllib/Open311.pm get_service_request_updates (fetches
 *    servicerequestupdates.xml only, parses it with XML::Simple, which drops
 *    the root element and reads {request_update}). The XML is
 *      <service_request_updates><request_update>
 *        <update_id/><service_request_id/><status/><updated_datetime/>
 *        <description/><media_url/><external_status_code/>
 *      </request_update></service_request_updates>
 *    (FixMyStreet's own test fixtures spell the root
 *    service_requests_updates; XML::Simple ignores the root name, and
 *    open311-adapter writes service_request_updates, so we follow it).
 *    JSON, as open311-adapter writes it (Spark convention: the root is
 *    dropped), is a bare array of the same objects. description and
 *    media_url are "" rather than null when empty because the mySociety
 *    schema requires strings there (open311-adapter writes `$value || ''`).
 */
#include "open311/o311_write.h"

#include <stdlib.h>

#include "util/datetime.h"

/* ---- the emitter ---- */

#define O311_EM_DEPTH 8 /* our deepest document (requests with notes) nests 5 */

typedef struct {
    buf_t *b;
    o311_format f;
    int depth;
    char close[O311_EM_DEPTH];      /* JSON: ']' or '}' */
    bool need_comma[O311_EM_DEPTH]; /* JSON: a member was written at this level */
    const char *tag[O311_EM_DEPTH]; /* XML: the element to close */
} o311_em;

static void em_init(o311_em *e, buf_t *b, o311_format f)
{
    e->b = b;
    e->f = f;
    e->depth = 0;
    e->need_comma[0] = false;
    if (f == O311_XML)
        buf_puts(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
}

/* JSON: the comma before a member and its key, if it has one. */
static void em_json_key(o311_em *e, const char *key)
{
    if (e->need_comma[e->depth])
        buf_putc(e->b, ',');
    e->need_comma[e->depth] = true;
    if (key != NULL) {
        buf_json_str(e->b, key);
        buf_putc(e->b, ':');
    }
}

/*
 * Opens an array ('[') or object ('{'). key is the JSON member name (NULL
 * for an element of an array or the root); tag is the XML element.
 */
static void em_open(o311_em *e, char kind, const char *key, const char *tag)
{
    /* The documents are fixed in code: too deep is a bug, not input. */
    if (e->depth + 1 >= O311_EM_DEPTH)
        abort();
    if (e->f == O311_JSON) {
        em_json_key(e, key);
        buf_putc(e->b, kind);
    } else {
        buf_putc(e->b, '<');
        buf_puts(e->b, tag);
        buf_putc(e->b, '>');
    }
    e->depth++;
    e->close[e->depth] = kind == '[' ? ']' : '}';
    e->need_comma[e->depth] = false;
    e->tag[e->depth] = tag;
}

static void em_close(o311_em *e)
{
    if (e->depth <= 0)
        abort();
    if (e->f == O311_JSON) {
        buf_putc(e->b, e->close[e->depth]);
    } else {
        buf_puts(e->b, "</");
        buf_puts(e->b, e->tag[e->depth]);
        buf_putc(e->b, '>');
    }
    e->depth--;
}

/* A string member; NULL is JSON null / an empty XML element. */
static void em_str(o311_em *e, const char *key, const char *value)
{
    if (e->f == O311_JSON) {
        em_json_key(e, key);
        buf_json_str(e->b, value);
    } else {
        buf_xml_elem(e->b, key, value);
    }
}

/* A string that is never null: NULL becomes "" (the mySociety schema). */
static void em_str_or_empty(o311_em *e, const char *key, const char *value)
{
    em_str(e, key, value != NULL ? value : "");
}

/* Opens a member whose value is written raw (a number, true, false). */
static void em_raw_begin(o311_em *e, const char *key)
{
    if (e->f == O311_JSON) {
        em_json_key(e, key);
    } else {
        buf_putc(e->b, '<');
        buf_puts(e->b, key);
        buf_putc(e->b, '>');
    }
}

static void em_raw_end(o311_em *e, const char *key)
{
    if (e->f == O311_XML) {
        buf_puts(e->b, "</");
        buf_puts(e->b, key);
        buf_putc(e->b, '>');
    }
}

static void em_null(o311_em *e, const char *key)
{
    em_str(e, key, NULL);
}

static void em_bool(o311_em *e, const char *key, bool v)
{
    em_raw_begin(e, key);
    buf_puts(e->b, v ? "true" : "false");
    em_raw_end(e, key);
}

static void em_int(o311_em *e, const char *key, int64_t v)
{
    em_raw_begin(e, key);
    buf_put_i64(e->b, v);
    em_raw_end(e, key);
}

static void em_double(o311_em *e, const char *key, double v)
{
    em_raw_begin(e, key);
    buf_put_double(e->b, v);
    em_raw_end(e, key);
}

/* An identifier: a JSON string (the schema's type for service_request_id),
 * null when id is not positive. */
static void em_id(o311_em *e, const char *key, int64_t id)
{
    if (id <= 0) {
        em_null(e, key);
        return;
    }
    if (e->f == O311_JSON) {
        em_json_key(e, key);
        buf_putc(e->b, '"');
        buf_put_i64(e->b, id);
        buf_putc(e->b, '"');
    } else {
        em_int(e, key, id);
    }
}

static void em_time(o311_em *e, const char *key, int64_t t)
{
    char tmp[DT_BUFSZ];
    em_str(e, key, dt_format(t, tmp));
}

/* A time that may be absent (0): null / empty element. */
static void em_time_opt(o311_em *e, const char *key, int64_t t)
{
    if (t == 0)
        em_null(e, key);
    else
        em_time(e, key, t);
}

/* Open311 writes empty strings as absent: "" is never a URL or a note. */
static const char *nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

/* ---- errors and discovery ---- */

void o311_write_error(buf_t *b, o311_format f, int code, const char *description)
{
    o311_em e;
    em_init(&e, b, f);
    em_open(&e, '[', NULL, "errors");
    em_open(&e, '{', NULL, "error");
    em_int(&e, "code", code);
    em_str(&e, "description", description != NULL ? description : "");
    em_close(&e);
    em_close(&e);
}

/* In JSON an element of a string array has no key; em_str with a key would
 * write one, so formats use this instead. */
static void em_array_str(o311_em *e, const char *tag, const char *value)
{
    if (e->f == O311_JSON) {
        em_json_key(e, NULL);
        buf_json_str(e->b, value);
    } else {
        buf_xml_elem(e->b, tag, value);
    }
}

static void write_formats(o311_em *e)
{
    em_open(e, '[', "formats", "formats");
    em_array_str(e, "format", "text/xml");
    em_array_str(e, "format", "application/json");
    em_close(e);
}

void o311_write_discovery(buf_t *b, o311_format f, const o311_discovery *d)
{
    o311_em e;
    em_init(&e, b, f);
    em_open(&e, '{', NULL, "discovery");
    em_str(&e, "changeset", d->changeset);
    em_str(&e, "contact", d->contact);
    em_str(&e, "key_service", d->key_service);
    em_open(&e, '[', "endpoints", "endpoints");
    for (size_t i = 0; i < d->nendpoints; i++) {
        const o311_endpoint *ep = &d->endpoints[i];
        em_open(&e, '{', NULL, "endpoint");
        em_str(&e, "specification", ep->specification);
        em_str(&e, "url", ep->url);
        em_str(&e, "changeset", ep->changeset);
        em_str(&e, "type", ep->type);
        write_formats(&e);
        em_close(&e);
    }
    em_close(&e);
    em_close(&e);
}

/* ---- services and service definitions ---- */

void o311_write_services(buf_t *b, o311_format f, const catalog *c)
{
    o311_em e;
    em_init(&e, b, f);
    em_open(&e, '[', NULL, "services");
    for (size_t i = 0; i < c->nservices; i++) {
        const service *s = &c->services[i];
        em_open(&e, '{', NULL, "service");
        em_str(&e, "service_code", s->code);
        em_str(&e, "service_name", s->name);
        em_str(&e, "description", s->description);
        em_bool(&e, "metadata", service_has_metadata(s));
        em_str(&e, "type", service_type_name(s->type));
        em_str(&e, "keywords", s->keywords);
        em_str(&e, "group", s->group);
        em_close(&e);
    }
    em_close(&e);
}

static void write_values(o311_em *e, const attribute *a)
{
    em_open(e, '[', "values", "values");
    for (size_t k = 0; k < a->nvalues; k++) {
        em_open(e, '{', NULL, "value");
        em_str(e, "key", a->values[k].key);
        em_str(e, "name", a->values[k].name);
        em_close(e);
    }
    em_close(e);
}

static void write_attribute(o311_em *e, const attribute *a, int order)
{
    em_open(e, '{', NULL, "attribute");
    em_bool(e, "variable", a->variable);
    em_str(e, "code", a->code);
    em_str(e, "datatype", attr_type_name(a->datatype));
    em_bool(e, "required", a->required);
    em_str(e, "datatype_description", a->datatype_description);
    em_int(e, "order", order);
    em_str(e, "description", a->description);
    write_values(e, a);
    em_close(e);
}

void o311_write_service_definition(buf_t *b, o311_format f, const service *s)
{
    o311_em e;
    em_init(&e, b, f);
    em_open(&e, '{', NULL, "service_definition");
    em_str(&e, "service_code", s->code);
    em_open(&e, '[', "attributes", "attributes");
    /* The spec wants a positive order unique within the service. The
     * catalog sorts attributes by order with unordered (0) ones last, so
     * numbering those after the last order given keeps every order unique
     * and the list in the order it is shown. */
    int last = 0;
    for (size_t i = 0; i < s->nattrs; i++) {
        const attribute *a = &s->attrs[i];
        int order = a->order > last ? a->order : last + 1;
        write_attribute(&e, a, order);
        last = order;
    }
    em_close(&e);
    em_close(&e);
}

/* ---- service requests ---- */

/* Chicago's note types: opened, closed, or any other activity. */
static const char *note_type(const sr_event *ev)
{
    if (ev->kind == SR_EV_CREATED)
        return "opened";
    if ((ev->kind == SR_EV_STATUS || ev->kind == SR_EV_MERGE) && ev->status == SR_CLOSED)
        return "closed";
    return "activity";
}

static void write_note(o311_em *e, const sr_event *ev)
{
    em_open(e, '{', NULL, "note");
    em_time(e, "datetime", ev->at);
    em_str(e, "type", note_type(ev));
    em_str(e, "status", sr_open311_status(ev->status));
    em_str(e, "detailed_status", sr_status_name(ev->status));
    /* A staff-only note never leaves through Open311. */
    em_str(e, "description", ev->public_note ? nonempty(ev->note) : NULL);
    em_close(e);
}

static void write_extended(o311_em *e, const service_request *sr, const o311_history *h)
{
    em_open(e, '{', "extended_attributes", "extended_attributes");
    em_str(e, "channel", sr_channel_name(sr->channel));
    em_str(e, "detailed_status", sr_status_name(sr->status));
    /* Always present (null while open) so the shape does not change when a
     * request closes. */
    em_str(e, "resolution",
           sr->status == SR_CLOSED ? nonempty(sr_resolution_name(sr->resolution)) : NULL);
    /* W5: the request a duplicate was merged into, for clients to follow
     * (Open311 has no field for it); null otherwise, so the shape stays. */
    if (sr->merged_into > 0)
        em_id(e, "merged_into", sr->merged_into);
    else
        em_null(e, "merged_into");
    em_open(e, '[', "notes", "notes");
    for (size_t i = 0; i < h->nevents; i++)
        write_note(e, &h->events[i]);
    em_close(e);
    em_close(e);
}

static void write_location(o311_em *e, const service_request *sr)
{
    if (sr->has_location) {
        em_double(e, "lat", sr->lat);
        em_double(e, "long", sr->lon);
    } else {
        em_null(e, "lat");
        em_null(e, "long");
    }
}

static void write_request(o311_em *e, const catalog *c, const service_request *sr,
                          const o311_history *h)
{
    const service *s = catalog_find_service(c, sr->service_code);
    const agency *ag = catalog_find_agency(c, sr->agency_code);

    em_open(e, '{', NULL, "request");
    em_id(e, "service_request_id", sr->id);
    em_str(e, "status", sr_open311_status(sr->status));
    em_str(e, "status_notes", nonempty(sr->status_notes));
    em_str(e, "service_name", s != NULL ? s->name : NULL);
    em_str(e, "service_code", sr->service_code);
    em_str(e, "description", nonempty(sr->description));
    em_str(e, "agency_responsible", ag != NULL ? ag->name : NULL);
    em_str(e, "service_notice", nonempty(sr->service_notice));
    em_time(e, "requested_datetime", sr->requested_at);
    em_time(e, "updated_datetime", sr->updated_at);
    em_time_opt(e, "expected_datetime", sr->expected_at);
    em_str(e, "address", nonempty(sr->address));
    em_str(e, "address_id", nonempty(sr->address_id));
    em_str(e, "zipcode", nonempty(sr->zipcode));
    write_location(e, sr);
    em_str(e, "media_url", nonempty(sr->media_url));
    if (h != NULL)
        write_extended(e, sr, h);
    em_close(e);
}

void o311_write_requests(buf_t *b, o311_format f, const catalog *c, const service_request *requests,
                         size_t n, const o311_history *histories)
{
    o311_em e;
    em_init(&e, b, f);
    em_open(&e, '[', NULL, "service_requests");
    for (size_t i = 0; i < n; i++)
        write_request(&e, c, &requests[i], histories != NULL ? &histories[i] : NULL);
    em_close(&e);
}

void o311_write_created(buf_t *b, o311_format f, const service_request *sr, service_type type)
{
    o311_em e;
    em_init(&e, b, f);
    em_open(&e, '[', NULL, "service_requests");
    em_open(&e, '{', NULL, "request");
    /* The spec: a token "should not be returned if service_request_id is
     * returned", and the other way round; blackbox returns neither. */
    if (type == SERVICE_REALTIME)
        em_id(&e, "service_request_id", sr->id);
    else if (type == SERVICE_BATCH)
        em_str(&e, "token", sr->token);
    em_str(&e, "service_notice", nonempty(sr->service_notice));
    /* account_id belongs to the reporter: personal data, never echoed. */
    em_null(&e, "account_id");
    em_close(&e);
    em_close(&e);
}

void o311_write_token(buf_t *b, o311_format f, const char *token, int64_t id)
{
    o311_em e;
    em_init(&e, b, f);
    em_open(&e, '[', NULL, "service_requests");
    em_open(&e, '{', NULL, "request");
    /* While pending, XML omits the element: XML::Simple clients
     * (FixMyStreet) read an empty <service_request_id/> as a true value. */
    if (id > 0 || f == O311_JSON)
        em_id(&e, "service_request_id", id);
    em_str(&e, "token", token);
    em_close(&e);
    em_close(&e);
}

/* ---- mySociety servicerequestupdates ---- */

static void write_update(o311_em *e, const sr_event *ev)
{
    em_open(e, '{', NULL, "request_update");
    em_id(e, "update_id", ev->id);
    em_id(e, "service_request_id", ev->request_id);
    em_str(e, "status", sr_fms_status(ev->status, ev->resolution));
    em_time(e, "updated_datetime", ev->at);
    em_str_or_empty(e, "description", ev->public_note ? ev->note : NULL);
    em_str_or_empty(e, "media_url", NULL);
    em_str(e, "external_status_code", sr_status_name(ev->status));
    em_close(e);
}

void o311_write_updates(buf_t *b, o311_format f, const sr_event *events, size_t n)
{
    o311_em e;
    em_init(&e, b, f);
    em_open(&e, '[', NULL, "service_request_updates");
    for (size_t i = 0; i < n; i++)
        write_update(&e, &events[i]);
    em_close(&e);
}
