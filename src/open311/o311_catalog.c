/*
 * o311_catalog.c - importing a catalog from Open311 documents (services
 * lists, service definitions, our bundle; JSON or XML) and exporting the
 * bundle. See o311_catalog.h for the contract.
 *
 * Owns: the reading of catalog documents from outside, and the bundle's
 * layout. Never changes the target catalog unless the whole document was
 * read and checked: everything is built in a new catalog first, which then
 * takes the target's place (so pointers into the old catalog do not
 * survive a successful import; import is an admin command, not a request).
 * Error messages name the document's structure (element, index, service
 * code) and never repeat a text value.
 *
 * How a document is read, in three steps:
 *  1. checks on the raw bytes: size (16 MiB), UTF-8, nesting depth;
 *  2. parsing into one tree (a jansson json_t): JSON directly, XML through
 *     expat with the Spark convention the spec names (a wrapper element
 *     such as <services> becomes an array of its <service> children, even
 *     when it has one child or none; a leaf becomes a string, or null when
 *     empty or xsi:nil; namespace prefixes are dropped; attributes such as
 *     is_array are ignored; <attribute> directly under
 *     <service_definition>, without <attributes>, is collected as if the
 *     wrapper were there);
 *  3. interpretation of the tree, which accepts the real-world deviations
 *     seen in captured documents: booleans as strings in any case, numbers
 *     as strings (XML has no other kind), codes and keys as JSON numbers,
 *     "" for an absent optional text.
 *
 * Merge rules: a service in the document replaces the one with its code.
 * A plain Open311 services list carries neither our fields (agency, SLA,
 * notice) nor attributes, so those are kept from the old service; a bundle
 * carries our fields, so they are taken from it. Attributes are replaced
 * only by a service definition in the same document; otherwise they are
 * kept.
 */
#include "open311/o311_catalog.h"

#include <expat.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/utf8.h"

#define O311_MAX_DOC (16u * 1024u * 1024u)
#define O311_MAX_DEPTH 32
#define O311_MAX_SLA_HOURS 876000.0 /* 100 years */

/* ---- small helpers ---- */

/* A name from the document that is safe to put in a message: short
 * printable ASCII (service codes, element names). Anything else is not
 * shown, so a message never carries a resident's text by accident. */
static const char *safe_name(const char *s)
{
    if (s == NULL)
        return "?";
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return "?";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return "?";
    return s;
}

/* Prefixes err's message with "what N" (1-based) or "what N (code)". */
static err_code wrap_at(err_t *err, const char *what, size_t i, const char *code)
{
    buf_t b = BUF_INIT;
    buf_printf(&b, "%s %zu", what, i + 1);
    if (code != NULL)
        buf_printf(&b, " (%s)", safe_name(code));
    err_code rc = err_wrap(err, buf_failed(&b) ? what : b.data);
    buf_free(&b);
    return rc;
}

static bool is_list(attr_type t)
{
    return t == ATTR_SINGLEVALUELIST || t == ATTR_MULTIVALUELIST;
}

/* ---- step 1: the raw bytes ---- */

/* Deepest nesting of [ and { outside strings; stops counting past limit. */
static int json_depth(const char *s, size_t n)
{
    int depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < n && max <= O311_MAX_DEPTH; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

typedef enum { DOC_JSON, DOC_XML } doc_kind;

static err_code check_bytes(const char *data, size_t n, doc_kind *kind, err_t *err)
{
    if (n > O311_MAX_DOC)
        return err_set(err, ERR_TOO_LARGE, "document is larger than 16 MiB");
    if (!utf8_valid(data, n))
        return err_set(err, ERR_INVALID, "document is not valid UTF-8");
    size_t i = 0;
    if (n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && strchr(" \t\r\n", data[i]) != NULL && data[i] != '\0')
        i++;
    if (i == n)
        return err_set(err, ERR_INVALID, "document is empty");
    if (data[i] == '<') {
        *kind = DOC_XML;
        return ERR_OK;
    }
    if (data[i] != '[' && data[i] != '{')
        return err_set(err, ERR_INVALID, "document is neither JSON nor XML");
    if (json_depth(data, n) > O311_MAX_DEPTH)
        return err_set(err, ERR_INVALID, "document nests deeper than %d levels", O311_MAX_DEPTH);
    *kind = DOC_JSON;
    return ERR_OK;
}

/* ---- step 2a: JSON ---- */

static const char *json_error_what(const json_error_t *je)
{
    switch (json_error_code(je)) {
    case json_error_out_of_memory:
        return "out of memory";
    case json_error_stack_overflow:
        return "nesting too deep";
    case json_error_invalid_utf8:
        return "invalid UTF-8";
    case json_error_premature_end_of_input:
        return "unexpected end (truncated?)";
    case json_error_end_of_input_expected:
        return "text after the end of the document";
    case json_error_null_character:
        return "NUL character in a string";
    case json_error_duplicate_key:
        return "duplicate key in an object";
    case json_error_numeric_overflow:
        return "number out of range";
    default:
        return "syntax error";
    }
}

static err_code parse_json(const char *data, size_t n, json_t **out, err_t *err)
{
    json_error_t je;
    *out = json_loadb(data, n, JSON_REJECT_DUPLICATES, &je);
    if (*out != NULL)
        return ERR_OK;
    /* je.text may quote the input: only its code and position are used. */
    err_code code = json_error_code(&je) == json_error_out_of_memory ? ERR_NOMEM : ERR_INVALID;
    return err_set(err, code, "JSON: %s at line %d, column %d", json_error_what(&je), je.line,
                   je.column);
}

/* ---- step 2b: XML to the same tree ---- */

/* Wrapper elements and the one element each holds. */
static const char *const XML_WRAPPERS[][2] = {
    {"services", "service"},
    {"attributes", "attribute"},
    {"values", "value"},
    {"agencies", "agency"},
    {"service_definitions", "service_definition"},
};

static const char *wrapper_item(const char *name)
{
    for (size_t i = 0; i < sizeof XML_WRAPPERS / sizeof XML_WRAPPERS[0]; i++)
        if (strcmp(name, XML_WRAPPERS[i][0]) == 0)
            return XML_WRAPPERS[i][1];
    return NULL;
}

typedef struct {
    char *name;       /* local name (prefix dropped), malloc'd */
    const char *item; /* wrapper: the child element expected; else NULL */
    json_t *val;      /* the array or object built from children, or NULL */
    buf_t text;
    bool nil;
} xframe;

typedef struct {
    XML_Parser p;
    xframe st[O311_MAX_DEPTH];
    int depth;
    json_t *root;
    err_t *err;
    bool failed;
} xconv;

static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon != NULL ? colon + 1 : name;
}

/* Records our own error (the first one) and stops expat. */
static void x_fail(xconv *x, err_code code, const char *msg, const char *elem)
{
    if (!x->failed) {
        x->failed = true;
        err_set(x->err, code, "XML line %lu: %s <%s>",
                (unsigned long)XML_GetCurrentLineNumber(x->p), msg, safe_name(elem));
    }
    XML_StopParser(x->p, XML_FALSE);
}

static bool attr_is_nil(const char **atts)
{
    for (size_t i = 0; atts[i] != NULL; i += 2)
        if (strcmp(local_name(atts[i]), "nil") == 0 &&
            (strcasecmp(atts[i + 1], "true") == 0 || strcmp(atts[i + 1], "1") == 0))
            return true;
    return false;
}

static void XMLCALL x_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xconv *x = ud;
    if (x->failed)
        return;
    const char *local = local_name(name);
    if (x->depth >= O311_MAX_DEPTH) {
        x_fail(x, ERR_INVALID, "document nests deeper than 32 levels at", local);
        return;
    }
    xframe *f = &x->st[x->depth];
    memset(f, 0, sizeof *f);
    f->name = strdup(local);
    if (f->name == NULL) {
        x_fail(x, ERR_NOMEM, "out of memory at", local);
        return;
    }
    buf_init(&f->text, 0);
    f->item = wrapper_item(local);
    f->nil = attr_is_nil(atts);
    x->depth++;
}

static void XMLCALL x_text(void *ud, const XML_Char *s, int len)
{
    xconv *x = ud;
    if (x->failed || x->depth == 0 || len <= 0)
        return;
    xframe *f = &x->st[x->depth - 1];
    if (f->val == NULL && f->item == NULL)
        buf_append(&f->text, s, (size_t)len);
}

/* The value of a finished element: its children, or its text. */
static json_t *x_value(xframe *f)
{
    if (f->val != NULL) {
        json_t *v = f->val;
        f->val = NULL;
        return v;
    }
    if (f->item != NULL)
        return json_array();
    if (f->nil || f->text.len == 0)
        return json_null();
    /* Pretty-printing whitespace around a value carries no meaning. */
    const char *s = f->text.data, *e = s + f->text.len;
    while (s < e && strchr(" \t\r\n", *s) != NULL)
        s++;
    while (e > s && strchr(" \t\r\n", e[-1]) != NULL)
        e--;
    return s == e ? json_null() : json_stringn(s, (size_t)(e - s));
}

static void x_frame_free(xframe *f)
{
    free(f->name);
    f->name = NULL;
    json_decref(f->val);
    f->val = NULL;
    buf_free(&f->text);
}

/* An element of a wrapper (a <service> of <services>): v is stolen. */
static void x_add_item(xconv *x, xframe *parent, const char *name, json_t *v)
{
    if (strcmp(name, parent->item) != 0) {
        json_decref(v);
        x_fail(x, ERR_INVALID, "unexpected element in a list:", name);
        return;
    }
    if (parent->val == NULL && (parent->val = json_array()) == NULL) {
        json_decref(v);
        x_fail(x, ERR_NOMEM, "out of memory at", name);
        return;
    }
    /* jansson's *_new functions take v even when they fail. */
    if (json_array_append_new(parent->val, v) != 0)
        x_fail(x, ERR_NOMEM, "out of memory at", name);
}

/* <attribute> directly in <service_definition>: collected under
 * "attributes", as if the wrapper were there. v is stolen. */
static void x_add_bare_attribute(xconv *x, json_t *obj, json_t *v)
{
    json_t *list = json_object_get(obj, "attributes");
    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(obj, "attributes", list) != 0) {
            json_decref(v);
            x_fail(x, ERR_NOMEM, "out of memory at", "attribute");
            return;
        }
    }
    if (!json_is_array(list)) {
        json_decref(v);
        x_fail(x, ERR_INVALID, "element appears twice:", "attributes");
        return;
    }
    if (json_array_append_new(list, v) != 0)
        x_fail(x, ERR_NOMEM, "out of memory at", "attribute");
}

/* A member of an object (a <service_code> of <service>): v is stolen. */
static void x_add_member(xconv *x, xframe *parent, const char *name, json_t *v)
{
    if (parent->val == NULL && (parent->val = json_object()) == NULL) {
        json_decref(v);
        x_fail(x, ERR_NOMEM, "out of memory at", name);
        return;
    }
    if (strcmp(name, "attribute") == 0) {
        x_add_bare_attribute(x, parent->val, v);
        return;
    }
    if (json_object_get(parent->val, name) != NULL) {
        json_decref(v);
        x_fail(x, ERR_INVALID, "element appears twice:", name);
        return;
    }
    if (json_object_set_new(parent->val, name, v) != 0)
        x_fail(x, ERR_NOMEM, "out of memory at", name);
}

static void XMLCALL x_end(void *ud, const XML_Char *name)
{
    (void)name;
    xconv *x = ud;
    if (x->failed || x->depth == 0)
        return;
    xframe *f = &x->st[x->depth - 1];
    json_t *v = x_value(f);
    if (v == NULL) {
        x_fail(x, ERR_NOMEM, "out of memory at", f->name);
        return;
    }
    x->depth--;
    if (x->depth == 0)
        x->root = v;
    else if (x->st[x->depth - 1].item != NULL)
        x_add_item(x, &x->st[x->depth - 1], f->name, v);
    else
        x_add_member(x, &x->st[x->depth - 1], f->name, v);
    x_frame_free(f);
}

/* A DOCTYPE is where entity expansion attacks live; Open311 has none. */
static void XMLCALL x_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                              const XML_Char *pubid, int has_internal_subset)
{
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    x_fail(ud, ERR_INVALID, "DOCTYPE declarations are not accepted:", name);
}

static err_code parse_xml(const char *data, size_t n, json_t **out, err_t *err)
{
    xconv x;
    memset(&x, 0, sizeof x);
    x.err = err;
    /* Forced UTF-8: checked above, and the spec requires it. */
    x.p = XML_ParserCreate("UTF-8");
    if (x.p == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    XML_SetUserData(x.p, &x);
    XML_SetElementHandler(x.p, x_start, x_end);
    XML_SetCharacterDataHandler(x.p, x_text);
    XML_SetStartDoctypeDeclHandler(x.p, x_doctype);
    enum XML_Status st = XML_Parse(x.p, data, (int)n, XML_TRUE);
    err_code rc = ERR_OK;
    if (x.failed) {
        rc = err->code;
    } else if (st != XML_STATUS_OK) {
        enum XML_Error xe = XML_GetErrorCode(x.p);
        /* Expat's messages name the problem, never the text at fault. */
        bool cut = xe == XML_ERROR_NO_ELEMENTS || xe == XML_ERROR_UNCLOSED_TOKEN ||
                   xe == XML_ERROR_PARTIAL_CHAR;
        rc = err_set(err, xe == XML_ERROR_NO_MEMORY ? ERR_NOMEM : ERR_INVALID,
                     "XML: %s%s at line %lu, column %lu", XML_ErrorString(xe),
                     cut ? " (truncated?)" : "", (unsigned long)XML_GetCurrentLineNumber(x.p),
                     (unsigned long)XML_GetCurrentColumnNumber(x.p));
    } else if (x.root == NULL) {
        rc = err_set(err, ERR_INVALID, "XML: no root element");
    }
    for (int i = 0; i < x.depth; i++)
        x_frame_free(&x.st[i]);
    XML_ParserFree(x.p);
    if (rc != ERR_OK) {
        json_decref(x.root);
        return rc;
    }
    *out = x.root;
    return ERR_OK;
}

/* ---- step 3: interpreting the tree ---- */

typedef struct {
    service svc; /* strings in the document pool; no attributes */
    bool metadata;
} doc_service;

typedef struct {
    const char *code;
    attribute *attrs;
    size_t nattrs;
} doc_def;

typedef struct {
    pool_t *pool;
    bool bundle; /* services carry our own fields (agency, SLA, notice) */
    agency *agencies;
    size_t nagencies;
    doc_service *services;
    size_t nservices;
    doc_def *defs;
    size_t ndefs;
} o311_doc;

/* A text field. Absent, null and "" are all "not given": required fields
 * are then an error, optional ones NULL. Codes and keys may be JSON
 * numbers (the spec's own examples write "key":123). */
static err_code rd_str(pool_t *p, const json_t *o, const char *key, bool required, const char **out,
                       err_t *err)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (json_is_string(v) && json_string_length(v) > 0) {
        *out = pool_strndup(p, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        buf_t b = BUF_INIT;
        buf_put_i64(&b, json_integer_value(v));
        *out = buf_failed(&b) ? NULL : pool_strdup(p, b.data);
        buf_free(&b);
    } else if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
        return err_set(err, ERR_INVALID, "%s must be a string", key);
    } else {
        if (required)
            return err_set(err, ERR_INVALID, "%s is missing", key);
        return ERR_OK;
    }
    if (*out == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    return ERR_OK;
}

/* true/false, or the strings "true"/"false" in any case. */
static err_code rd_bool(const json_t *o, const char *key, bool dflt, bool *out, err_t *err)
{
    const json_t *v = json_object_get(o, key);
    *out = dflt;
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return ERR_OK;
    }
    if (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0) {
        *out = true;
        return ERR_OK;
    }
    if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0) {
        *out = false;
        return ERR_OK;
    }
    return err_set(err, ERR_INVALID, "%s must be true or false", key);
}

/* A number, or a string holding one (XML), as a finite double. */
static bool num_value(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out);
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 32)
        return false;
    const char *s = json_string_value(v);
    char *end;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out) && strchr(s, 'x') == NULL && strchr(s, 'X') == NULL;
}

/* A whole number in [0, INT32_MAX]; absent or null is 0. */
static err_code rd_order(const json_t *o, const char *key, int *out, err_t *err)
{
    const json_t *v = json_object_get(o, key);
    *out = 0;
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    double d;
    if (!num_value(v, &d) || d < 0 || d > 2147483647.0 || d != floor(d))
        return err_set(err, ERR_INVALID, "%s must be a whole number, 0 or more", key);
    *out = (int)d;
    return ERR_OK;
}

static err_code rd_sla(const json_t *o, int64_t *secs, err_t *err)
{
    const json_t *v = json_object_get(o, "sla_hours");
    *secs = 0;
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    double h;
    if (!num_value(v, &h) || h < 0 || h > O311_MAX_SLA_HOURS)
        return err_set(err, ERR_INVALID, "sla_hours must be a number of hours, 0 to 876000");
    *secs = llround(h * 3600.0);
    return ERR_OK;
}

static err_code rd_service_type(const json_t *o, service_type *out, err_t *err)
{
    const json_t *v = json_object_get(o, "type");
    *out = SERVICE_REALTIME;
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    const char *s = json_string_value(v);
    for (int t = SERVICE_REALTIME; s != NULL && t <= SERVICE_BLACKBOX; t++)
        if (strcasecmp(s, service_type_name((service_type)t)) == 0) {
            *out = (service_type)t;
            return ERR_OK;
        }
    return err_set(err, ERR_INVALID, "type must be realtime, batch or blackbox");
}

static err_code rd_datatype(const json_t *o, attr_type *out, err_t *err)
{
    const json_t *v = json_object_get(o, "datatype");
    if (v == NULL || json_is_null(v))
        return err_set(err, ERR_INVALID, "datatype is missing");
    const char *s = json_string_value(v);
    for (int t = ATTR_STRING; s != NULL && t <= ATTR_MULTIVALUELIST; t++)
        if (strcasecmp(s, attr_type_name((attr_type)t)) == 0) {
            *out = (attr_type)t;
            return ERR_OK;
        }
    return err_set(err, ERR_INVALID,
                   "datatype must be string, number, datetime, text, singlevaluelist or "
                   "multivaluelist");
}

/* An array member; absent and null are an empty array. */
static err_code rd_array(const json_t *o, const char *key, const json_t **out, err_t *err)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    if (!json_is_array(v))
        return err_set(err, ERR_INVALID, "%s must be a list", key);
    *out = v;
    return ERR_OK;
}

static err_code need_object(const json_t *v, const char *what, size_t i, err_t *err)
{
    if (json_is_object(v))
        return ERR_OK;
    return err_set(err, ERR_INVALID, "%s %zu must be an object", what, i + 1);
}

static void *alloc_items(pool_t *p, size_t n, size_t size)
{
    return pool_calloc(p, n > 0 ? n : 1, size);
}

static err_code rd_values(pool_t *p, const json_t *o, attribute *a, err_t *err)
{
    const json_t *arr;
    err_code rc = rd_array(o, "values", &arr, err);
    if (rc != ERR_OK || arr == NULL)
        return rc;
    a->nvalues = json_array_size(arr);
    a->values = alloc_items(p, a->nvalues, sizeof *a->values);
    if (a->values == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < a->nvalues; k++) {
        const json_t *v = json_array_get(arr, k);
        if ((rc = need_object(v, "value", k, err)) != ERR_OK ||
            (rc = rd_str(p, v, "key", true, &a->values[k].key, err)) != ERR_OK ||
            (rc = rd_str(p, v, "name", false, &a->values[k].name, err)) != ERR_OK)
            return wrap_at(err, "value", k, NULL);
    }
    return ERR_OK;
}

static err_code rd_attr(pool_t *p, const json_t *o, attribute *a, err_t *err)
{
    err_code rc;
    memset(a, 0, sizeof *a);
    if ((rc = rd_str(p, o, "code", true, &a->code, err)) != ERR_OK ||
        (rc = rd_bool(o, "variable", true, &a->variable, err)) != ERR_OK ||
        (rc = rd_datatype(o, &a->datatype, err)) != ERR_OK ||
        (rc = rd_bool(o, "required", false, &a->required, err)) != ERR_OK ||
        (rc = rd_str(p, o, "datatype_description", false, &a->datatype_description, err)) !=
            ERR_OK ||
        (rc = rd_order(o, "order", &a->order, err)) != ERR_OK ||
        (rc = rd_str(p, o, "description", false, &a->description, err)) != ERR_OK ||
        (rc = rd_values(p, o, a, err)) != ERR_OK)
        return rc;
    if (is_list(a->datatype) && a->nvalues == 0)
        return err_set(err, ERR_INVALID, "a %s attribute needs values",
                       attr_type_name(a->datatype));
    return ERR_OK;
}

static err_code rd_def(pool_t *p, const json_t *o, doc_def *d, err_t *err)
{
    const json_t *arr;
    err_code rc;
    if ((rc = rd_str(p, o, "service_code", true, &d->code, err)) != ERR_OK ||
        (rc = rd_array(o, "attributes", &arr, err)) != ERR_OK)
        return rc;
    d->nattrs = arr != NULL ? json_array_size(arr) : 0;
    d->attrs = alloc_items(p, d->nattrs, sizeof *d->attrs);
    if (d->attrs == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < d->nattrs; i++) {
        const json_t *a = json_array_get(arr, i);
        if ((rc = need_object(a, "attribute", i, err)) != ERR_OK)
            return rc;
        if ((rc = rd_attr(p, a, &d->attrs[i], err)) != ERR_OK)
            return wrap_at(err, "attribute", i, d->attrs[i].code);
    }
    return ERR_OK;
}

static err_code rd_service(o311_doc *d, const json_t *o, doc_service *ds, err_t *err)
{
    service *s = &ds->svc;
    err_code rc;
    memset(ds, 0, sizeof *ds);
    if ((rc = rd_str(d->pool, o, "service_code", true, &s->code, err)) != ERR_OK ||
        (rc = rd_str(d->pool, o, "service_name", true, &s->name, err)) != ERR_OK ||
        (rc = rd_str(d->pool, o, "description", false, &s->description, err)) != ERR_OK ||
        (rc = rd_bool(o, "metadata", false, &ds->metadata, err)) != ERR_OK ||
        (rc = rd_service_type(o, &s->type, err)) != ERR_OK ||
        (rc = rd_str(d->pool, o, "keywords", false, &s->keywords, err)) != ERR_OK ||
        (rc = rd_str(d->pool, o, "group", false, &s->group, err)) != ERR_OK)
        return rc;
    if (!d->bundle)
        return ERR_OK;
    if ((rc = rd_str(d->pool, o, "agency_code", false, &s->agency_code, err)) != ERR_OK ||
        (rc = rd_sla(o, &s->sla_seconds, err)) != ERR_OK ||
        (rc = rd_str(d->pool, o, "service_notice", false, &s->service_notice, err)) != ERR_OK)
        return rc;
    return ERR_OK;
}

static err_code rd_services(o311_doc *d, const json_t *arr, err_t *err)
{
    d->nservices = json_array_size(arr);
    d->services = alloc_items(d->pool, d->nservices, sizeof *d->services);
    if (d->services == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < d->nservices; i++) {
        const json_t *o = json_array_get(arr, i);
        err_code rc = need_object(o, "service", i, err);
        if (rc != ERR_OK)
            return rc;
        if ((rc = rd_service(d, o, &d->services[i], err)) != ERR_OK)
            return wrap_at(err, "service", i, d->services[i].svc.code);
        if ((rc = service_check(&d->services[i].svc, err)) != ERR_OK)
            return wrap_at(err, "service", i, NULL);
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->services[j].svc.code, d->services[i].svc.code) == 0)
                return err_set(err, ERR_CONFLICT, "service %zu: service code %s appears twice",
                               i + 1, safe_name(d->services[i].svc.code));
    }
    return ERR_OK;
}

static err_code rd_defs_at(o311_doc *d, const json_t *const *items, size_t n, err_t *err)
{
    d->ndefs = n;
    d->defs = alloc_items(d->pool, n, sizeof *d->defs);
    if (d->defs == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        err_code rc = need_object(items[i], "service definition", i, err);
        if (rc != ERR_OK)
            return rc;
        if ((rc = rd_def(d->pool, items[i], &d->defs[i], err)) != ERR_OK)
            return wrap_at(err, "service definition", i, d->defs[i].code);
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->defs[j].code, d->defs[i].code) == 0)
                return err_set(err, ERR_CONFLICT,
                               "service definition %zu: service code %s appears twice", i + 1,
                               safe_name(d->defs[i].code));
    }
    return ERR_OK;
}

static err_code rd_defs(o311_doc *d, const json_t *arr, err_t *err)
{
    size_t n = json_array_size(arr);
    const json_t **items = alloc_items(d->pool, n, sizeof *items);
    if (items == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        items[i] = json_array_get(arr, i);
    return rd_defs_at(d, items, n, err);
}

static err_code rd_agencies(o311_doc *d, const json_t *arr, err_t *err)
{
    d->nagencies = json_array_size(arr);
    d->agencies = alloc_items(d->pool, d->nagencies, sizeof *d->agencies);
    if (d->agencies == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < d->nagencies; i++) {
        const json_t *o = json_array_get(arr, i);
        agency *a = &d->agencies[i];
        err_code rc = need_object(o, "agency", i, err);
        if (rc == ERR_OK)
            rc = rd_str(d->pool, o, "code", true, &a->code, err);
        if (rc == ERR_OK)
            rc = rd_str(d->pool, o, "name", true, &a->name, err);
        if (rc != ERR_OK)
            return wrap_at(err, "agency", i, a->code);
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->agencies[j].code, a->code) == 0)
                return err_set(err, ERR_CONFLICT, "agency %zu: agency code %s appears twice", i + 1,
                               safe_name(a->code));
    }
    return ERR_OK;
}

static err_code rd_bundle(o311_doc *d, const json_t *root, err_t *err)
{
    const json_t *agencies, *services, *defs;
    err_code rc;
    d->bundle = true;
    if ((rc = rd_array(root, "agencies", &agencies, err)) != ERR_OK ||
        (rc = rd_array(root, "services", &services, err)) != ERR_OK ||
        (rc = rd_array(root, "service_definitions", &defs, err)) != ERR_OK)
        return rc;
    if (agencies != NULL && (rc = rd_agencies(d, agencies, err)) != ERR_OK)
        return rc;
    if (services != NULL && (rc = rd_services(d, services, err)) != ERR_OK)
        return rc;
    if (defs != NULL && (rc = rd_defs(d, defs, err)) != ERR_OK)
        return rc;
    return ERR_OK;
}

/* Which document this is, by its shape. */
static err_code rd_document(o311_doc *d, const json_t *root, err_t *err)
{
    if (json_is_array(root))
        return rd_services(d, root, err);
    if (!json_is_object(root))
        return err_set(err, ERR_INVALID, "document must be a list or an object");
    const json_t *inner = json_object_get(root, "service_definition");
    if (json_is_object(inner))
        root = inner;
    if (json_object_get(root, "service_code") != NULL)
        return rd_defs_at(d, &root, 1, err);
    if (json_object_get(root, "services") != NULL || json_object_get(root, "agencies") != NULL ||
        json_object_get(root, "service_definitions") != NULL)
        return rd_bundle(d, root, err);
    return err_set(err, ERR_INVALID,
                   "document is not a services list, a service definition or a catalog bundle");
}

/* ---- merging into a new catalog ---- */

static const doc_service *doc_find_service(const o311_doc *d, const char *code)
{
    for (size_t i = 0; i < d->nservices; i++)
        if (strcmp(d->services[i].svc.code, code) == 0)
            return &d->services[i];
    return NULL;
}

static const doc_def *doc_find_def(const o311_doc *d, const char *code)
{
    for (size_t i = 0; i < d->ndefs; i++)
        if (strcmp(d->defs[i].code, code) == 0)
            return &d->defs[i];
    return NULL;
}

static const agency *doc_find_agency(const o311_doc *d, const char *code)
{
    for (size_t i = 0; i < d->nagencies; i++)
        if (strcmp(d->agencies[i].code, code) == 0)
            return &d->agencies[i];
    return NULL;
}

/* The service as it will be: old (may be NULL), updated by the document. */
static service merged_service(const o311_doc *d, const service *old, const doc_service *ds)
{
    service s = ds != NULL ? ds->svc : *old;
    if (ds != NULL && old != NULL) {
        s.attrs = old->attrs;
        s.nattrs = old->nattrs;
        if (!d->bundle) {
            s.agency_code = old->agency_code;
            s.sla_seconds = old->sla_seconds;
            s.service_notice = old->service_notice;
        }
    }
    const doc_def *def = doc_find_def(d, s.code);
    if (def != NULL) {
        s.attrs = def->attrs;
        s.nattrs = def->nattrs;
    }
    return s;
}

static err_code merge_agencies(catalog *nc, const catalog *c, const o311_doc *d, err_t *err)
{
    err_code rc;
    for (size_t i = 0; i < c->nagencies; i++) {
        const agency *a = doc_find_agency(d, c->agencies[i].code);
        if ((rc = catalog_add_agency(nc, a != NULL ? a : &c->agencies[i], err)) != ERR_OK)
            return rc;
    }
    for (size_t i = 0; i < d->nagencies; i++)
        if (catalog_find_agency(c, d->agencies[i].code) == NULL &&
            (rc = catalog_add_agency(nc, &d->agencies[i], err)) != ERR_OK)
            return wrap_at(err, "agency", i, NULL);
    return ERR_OK;
}

static err_code merge_services(catalog *nc, const catalog *c, const o311_doc *d, err_t *err)
{
    err_code rc;
    for (size_t i = 0; i < c->nservices; i++) {
        const service *old = &c->services[i];
        service s = merged_service(d, old, doc_find_service(d, old->code));
        if ((rc = catalog_add_service(nc, &s, err)) != ERR_OK)
            return rc;
    }
    for (size_t i = 0; i < d->nservices; i++) {
        if (catalog_find_service(c, d->services[i].svc.code) != NULL)
            continue;
        service s = merged_service(d, NULL, &d->services[i]);
        if ((rc = catalog_add_service(nc, &s, err)) != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

/* What the document refers to must exist once it is merged. */
static err_code check_refs(const catalog *c, const o311_doc *d, err_t *err)
{
    for (size_t i = 0; i < d->ndefs; i++)
        if (catalog_find_service(c, d->defs[i].code) == NULL &&
            doc_find_service(d, d->defs[i].code) == NULL)
            return err_set(err, ERR_NOT_FOUND,
                           "service definition for %s: no such service (import the services "
                           "list first)",
                           safe_name(d->defs[i].code));
    for (size_t i = 0; i < d->nservices; i++) {
        const char *ac = d->services[i].svc.agency_code;
        if (ac != NULL && catalog_find_agency(c, ac) == NULL && doc_find_agency(d, ac) == NULL)
            return err_set(err, ERR_INVALID, "service %s: agency_code %s is not a known agency",
                           safe_name(d->services[i].svc.code), safe_name(ac));
    }
    return ERR_OK;
}

static err_code merge(catalog *c, const o311_doc *d, err_t *err)
{
    err_code rc = check_refs(c, d, err);
    if (rc != ERR_OK)
        return rc;
    catalog *nc = catalog_new();
    if (nc == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    if ((rc = merge_agencies(nc, c, d, err)) != ERR_OK ||
        (rc = merge_services(nc, c, d, err)) != ERR_OK) {
        catalog_free(nc);
        return rc;
    }
    /* Swap contents so the caller's pointer stays valid, then free the old. */
    catalog old = *c;
    *c = *nc;
    *nc = old;
    catalog_free(nc);
    return ERR_OK;
}

/* Adds this document's counts to *stats, so that a caller importing
 * several documents (services list, then definitions) sees the totals. A
 * metadata=true service counts as "without definition" only if it ended up
 * with no attributes, so re-importing a list over a catalog whose
 * definitions are already in place does not warn. Runs after the merge:
 * c is the new catalog. */
static void count_stats(const catalog *c, const o311_doc *d, o311_import_stats *stats)
{
    stats->services += d->nservices;
    stats->definitions += d->ndefs;
    stats->agencies += d->nagencies;
    for (size_t i = 0; i < d->nservices; i++) {
        const service *s = catalog_find_service(c, d->services[i].svc.code);
        if (d->services[i].metadata && s != NULL && s->nattrs == 0)
            stats->metadata_without_definition++;
    }
}

static err_code read_into(catalog *c, const char *data, size_t n, o311_import_stats *stats,
                          err_t *err)
{
    doc_kind kind = DOC_JSON;
    json_t *root = NULL;
    err_code rc = check_bytes(data, n, &kind, err);
    if (rc != ERR_OK)
        return rc;
    rc = kind == DOC_JSON ? parse_json(data, n, &root, err) : parse_xml(data, n, &root, err);
    if (rc != ERR_OK)
        return rc;
    o311_doc d;
    memset(&d, 0, sizeof d);
    d.pool = pool_new();
    if (d.pool == NULL) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = rd_document(&d, root, err)) != ERR_OK || (rc = merge(c, &d, err)) != ERR_OK)
        goto done;
    if (stats != NULL)
        count_stats(c, &d, stats);
done:
    pool_free(d.pool);
    json_decref(root);
    return rc;
}

/* stats (may be NULL) is added to on success and left alone on error, so
 * the caller zeroes it once and may read several documents into it. */
err_code o311_catalog_read(catalog *c, const char *data, size_t n, o311_import_stats *stats,
                           err_t *err)
{
    /* A private err_t: err_wrap needs one, and err may be NULL. */
    err_t e;
    err_clear(&e);
    err_code rc = read_into(c, data, n, stats, &e);
    if (rc != ERR_OK && err != NULL)
        *err = e;
    return rc;
}

/* ---- writing the bundle ---- */

/* A pretty JSON writer: two-space indent, one member a line. */
typedef struct {
    buf_t *b;
    int depth;
    bool first; /* nothing written yet in the innermost container */
} pj;

static void pj_newline(pj *w)
{
    buf_putc(w->b, '\n');
    for (int i = 0; i < w->depth; i++)
        buf_puts(w->b, "  ");
}

static void pj_key(pj *w, const char *key)
{
    if (!w->first)
        buf_putc(w->b, ',');
    w->first = false;
    pj_newline(w);
    if (key != NULL) {
        buf_json_str(w->b, key);
        buf_puts(w->b, ": ");
    }
}

static void pj_open(pj *w, const char *key, char kind)
{
    pj_key(w, key);
    buf_putc(w->b, kind);
    w->depth++;
    w->first = true;
}

static void pj_close(pj *w, char kind)
{
    w->depth--;
    if (!w->first)
        pj_newline(w);
    buf_putc(w->b, kind);
    w->first = false;
}

static void pj_str(pj *w, const char *key, const char *v)
{
    pj_key(w, key);
    buf_json_str(w->b, v);
}

static void pj_bool(pj *w, const char *key, bool v)
{
    pj_key(w, key);
    buf_puts(w->b, v ? "true" : "false");
}

static void pj_int_or_null(pj *w, const char *key, int64_t v)
{
    pj_key(w, key);
    if (v == 0)
        buf_puts(w->b, "null");
    else
        buf_put_i64(w->b, v);
}

static void pj_sla(pj *w, int64_t secs)
{
    pj_key(w, "sla_hours");
    if (secs == 0)
        buf_puts(w->b, "null");
    else if (secs % 3600 == 0)
        buf_put_i64(w->b, secs / 3600);
    else
        buf_put_double(w->b, (double)secs / 3600.0);
}

static void write_bundle_service(pj *w, const service *s)
{
    pj_open(w, NULL, '{');
    pj_str(w, "service_code", s->code);
    pj_str(w, "service_name", s->name);
    pj_str(w, "description", s->description);
    pj_bool(w, "metadata", service_has_metadata(s));
    pj_str(w, "type", service_type_name(s->type));
    pj_str(w, "keywords", s->keywords);
    pj_str(w, "group", s->group);
    pj_str(w, "agency_code", s->agency_code);
    pj_sla(w, s->sla_seconds);
    pj_str(w, "service_notice", s->service_notice);
    pj_close(w, '}');
}

static void write_bundle_attr(pj *w, const attribute *a)
{
    pj_open(w, NULL, '{');
    pj_bool(w, "variable", a->variable);
    pj_str(w, "code", a->code);
    pj_str(w, "datatype", attr_type_name(a->datatype));
    pj_bool(w, "required", a->required);
    pj_str(w, "datatype_description", a->datatype_description);
    pj_int_or_null(w, "order", a->order);
    pj_str(w, "description", a->description);
    pj_open(w, "values", '[');
    for (size_t k = 0; k < a->nvalues; k++) {
        pj_open(w, NULL, '{');
        pj_str(w, "key", a->values[k].key);
        pj_str(w, "name", a->values[k].name);
        pj_close(w, '}');
    }
    pj_close(w, ']');
    pj_close(w, '}');
}

static void write_bundle_def(pj *w, const service *s)
{
    pj_open(w, NULL, '{');
    pj_str(w, "service_code", s->code);
    pj_open(w, "attributes", '[');
    for (size_t i = 0; i < s->nattrs; i++)
        write_bundle_attr(w, &s->attrs[i]);
    pj_close(w, ']');
    pj_close(w, '}');
}

void o311_catalog_write_bundle(buf_t *b, const catalog *c)
{
    pj w = {b, 0, true};
    buf_putc(b, '{');
    w.depth = 1;
    pj_open(&w, "agencies", '[');
    for (size_t i = 0; i < c->nagencies; i++) {
        pj_open(&w, NULL, '{');
        pj_str(&w, "code", c->agencies[i].code);
        pj_str(&w, "name", c->agencies[i].name);
        pj_close(&w, '}');
    }
    pj_close(&w, ']');
    pj_open(&w, "services", '[');
    for (size_t i = 0; i < c->nservices; i++)
        write_bundle_service(&w, &c->services[i]);
    pj_close(&w, ']');
    pj_open(&w, "service_definitions", '[');
    for (size_t i = 0; i < c->nservices; i++)
        if (c->services[i].nattrs > 0)
            write_bundle_def(&w, &c->services[i]);
    pj_close(&w, ']');
    pj_close(&w, '}');
    buf_putc(b, '\n');
}
