"""
o311.py - what an Open311 GeoReport v2 response must look like, checked field
by field, in JSON and XML.

- JSON is validated against Open311's own JSON Schemas (copies in
  tests/data/open311-schema/, see SOURCES.md there), plus the stricter
  promises of src/open311/o311_write.h: times are UTC "YYYY-MM-DDTHH:MM:SSZ",
  service_request_id is a string, every field of a request is present.
- XML must start with the XML declaration, be well-formed, keep its wrappers
  (even around 0 or 1 element) and say the same as the JSON (the Spark
  convention: JSON null <-> empty element).
- Errors are [{"code": N, "description": "..."}] / <errors><error><code>N
  </code><description>...</description></error></errors>, N the HTTP status.
"""
import calendar
import json
import os
import re
import time
import xml.etree.ElementTree as ET

import jsonschema

import harness

CT_JSON = "application/json"
CT_XML = "text/xml"
XML_DECL = b'<?xml version="1.0" encoding="utf-8"?>'
DT_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ID_RE = re.compile(r"^[1-9][0-9]*$")
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")

# The fields of a request, in the spec's order (GET requests / requests/{id}).
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name",
                  "service_code", "description", "agency_responsible", "service_notice",
                  "requested_datetime", "updated_datetime", "expected_datetime", "address",
                  "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description",
                    "order", "description", "values"]
UPDATE_FIELDS = ["update_id", "service_request_id", "status", "updated_datetime",
                 "description", "media_url", "external_status_code"]
NOTE_FIELDS = ["datetime", "type", "status", "detailed_status", "description"]

# JSON array member -> XML element name of each item.
ITEM_TAGS = {"attributes": "attribute", "values": "value", "notes": "note",
             "endpoints": "endpoint", "formats": "format"}

# ---- time ----


def parse_dt(s):
    """'2024-05-01T14:30:00Z' -> Unix seconds."""
    assert DT_RE.match(s), "not a UTC date-time YYYY-MM-DDTHH:MM:SSZ: %r" % s
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def fmt_dt(t, offset_minutes=0, sep="T", colon=True):
    """Unix seconds -> W3C date-time in the given offset ('Z' for 0 unless
    offset_minutes is None... use fmt_dt(t) for Z)."""
    t = int(t)
    if offset_minutes == 0:
        return time.strftime("%Y-%m-%d" + sep + "%H:%M:%SZ", time.gmtime(t))
    local = time.gmtime(t + offset_minutes * 60)
    sign = "+" if offset_minutes > 0 else "-"
    m = abs(offset_minutes)
    off = "%s%02d%s%02d" % (sign, m // 60, ":" if colon else "", m % 60)
    return time.strftime("%Y-%m-%d" + sep + "%H:%M:%S", local) + off


# ---- schemas ----

SCHEMA_DIR = os.path.join(harness.DATA, "open311-schema")
_validators = {}


def _format_checker():
    fc = jsonschema.FormatChecker()

    @fc.checks("date-time", raises=ValueError)
    def _dt(value):
        # RFC 3339 (what the schema's format means); DT_RE is checked apart.
        if not isinstance(value, str):
            return True
        if not re.match(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$",
                        value):
            raise ValueError("not an RFC 3339 date-time: %r" % value)
        return True

    return fc


def validator(name):
    if name not in _validators:
        path = os.path.join(SCHEMA_DIR, name)
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        base = "file://" + SCHEMA_DIR + "/"
        resolver = jsonschema.RefResolver(base_uri=base, referrer=schema)
        _validators[name] = jsonschema.Draft4Validator(schema, resolver=resolver,
                                                        format_checker=_format_checker())
    return _validators[name]


def validate(doc, name):
    errors = sorted(validator(name).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        msgs = ["%s: %s" % ("/".join(str(p) for p in e.path) or "(root)", e.message)
                for e in errors[:10]]
        raise AssertionError("response does not match Open311's %s:\n  %s" %
                             (name, "\n  ".join(msgs)))


# ---- responses ----

def fmt_of(path):
    base = path.split("?", 1)[0]
    return "json" if base.endswith(".json") else "xml"


def expect_status(resp, status):
    if isinstance(status, int):
        status = (status,)
    if resp.status not in status:
        raise AssertionError("want HTTP %s, got:\n%s" % ("/".join(map(str, status)),
                                                         resp.describe()))


def expect_json(resp, status=200, schema=None):
    expect_status(resp, status)
    if resp.ctype != CT_JSON:
        raise AssertionError("Content-Type must be exactly %r, got %r" % (CT_JSON, resp.ctype))
    try:
        doc = resp.json()
    except ValueError as e:
        raise AssertionError("not JSON (%s):\n%s" % (e, resp.describe()))
    if schema:
        validate(doc, schema)
    return doc


def expect_xml(resp, status=200, root=None):
    expect_status(resp, status)
    if resp.ctype != CT_XML:
        raise AssertionError("Content-Type must be exactly %r, got %r" % (CT_XML, resp.ctype))
    if not resp.body.startswith(XML_DECL):
        raise AssertionError("XML must begin with %s, got %r" % (XML_DECL, resp.body[:60]))
    try:
        el = resp.xml()
    except ET.ParseError as e:
        raise AssertionError("not well-formed XML (%s):\n%s" % (e, resp.describe()))
    if root is not None and el.tag != root:
        raise AssertionError("XML root must be <%s>, got <%s>" % (root, el.tag))
    return el


def expect_doc(resp, fmt, status=200, schema=None, root=None):
    if fmt == "json":
        return expect_json(resp, status, schema)
    return expect_xml(resp, status, root)


def expect_error(resp, status, fmt=None, contains=None):
    """The spec's error document with code == status. Returns the
    descriptions. contains: a substring (case-insensitive) one description
    must hold."""
    fmt = fmt or fmt_of(resp.target)
    expect_status(resp, status)
    descs = []
    if fmt == "json":
        doc = expect_json(resp, status)
        if not isinstance(doc, list) or not doc:
            raise AssertionError("a JSON error must be a non-empty array, got %r" % (doc,))
        for e in doc:
            if not isinstance(e, dict) or set(e) != {"code", "description"}:
                raise AssertionError("each error is {code, description}, got %r" % (e,))
            if type(e["code"]) is not int or e["code"] != status:
                raise AssertionError("error code must be the number %d, got %r" %
                                     (status, e["code"]))
            if not isinstance(e["description"], str) or not e["description"].strip():
                raise AssertionError("error description must be clear text, got %r" %
                                     (e["description"],))
            descs.append(e["description"])
    else:
        root = expect_xml(resp, status, "errors")
        errs = list(root)
        if not errs or any(e.tag != "error" for e in errs):
            raise AssertionError("<errors> must hold <error> elements: %s" % resp.describe())
        for e in errs:
            tags = [c.tag for c in e]
            if tags != ["code", "description"]:
                raise AssertionError("<error> must hold <code> and <description>, got %r" %
                                     tags)
            if e.find("code").text != str(status):
                raise AssertionError("<code> must be %d, got %r" % (status,
                                                                   e.find("code").text))
            d = e.find("description").text or ""
            if not d.strip():
                raise AssertionError("<description> is empty")
            descs.append(d)
    if contains is not None and not any(contains.lower() in d.lower() for d in descs):
        raise AssertionError("no error description mentions %r: %r" % (contains, descs))
    return descs


# ---- JSON <-> XML ----

def xml_value(el):
    """An XML leaf as the text it holds; an empty element is None."""
    if len(el):
        raise AssertionError("<%s> should be a leaf" % el.tag)
    return el.text if el.text not in (None, "") else None


def same_value(jv, xv, where):
    if jv is None or jv == "":
        if xv is not None:
            raise AssertionError("%s: JSON %r but XML %r" % (where, jv, xv))
    elif isinstance(jv, bool):
        if xv != ("true" if jv else "false"):
            raise AssertionError("%s: JSON %r but XML %r" % (where, jv, xv))
    elif isinstance(jv, (int, float)):
        if xv is None or float(xv) != float(jv):
            raise AssertionError("%s: JSON %r but XML %r" % (where, jv, xv))
    elif isinstance(jv, str):
        # XML parsers turn CR LF into LF; nothing else may differ.
        if (xv or "").replace("\r\n", "\n") != jv.replace("\r\n", "\n"):
            raise AssertionError("%s: JSON %r but XML %r" % (where, jv, xv))
    else:
        raise AssertionError("%s: unexpected JSON value %r" % (where, jv))


def same_object(jo, el, where):
    """A JSON object and an XML element must have the same members, in the
    same order, with the same values."""
    if not isinstance(jo, dict):
        raise AssertionError("%s: JSON %r is not an object" % (where, jo))
    jkeys = list(jo)
    xkeys = [c.tag for c in el]
    if jkeys != xkeys:
        raise AssertionError("%s: JSON members %r but XML elements %r" % (where, jkeys, xkeys))
    for k in jkeys:
        child = el.find(k)
        w = "%s/%s" % (where, k)
        v = jo[k]
        if isinstance(v, list):
            same_list(v, child, ITEM_TAGS.get(k, "?"), w)
        elif isinstance(v, dict):
            same_object(v, child, w)
        else:
            same_value(v, xml_value(child), w)


def same_list(jl, el, item_tag, where):
    items = list(el)
    if len(items) != len(jl):
        raise AssertionError("%s: %d JSON items but %d XML elements" % (where, len(jl),
                                                                      len(items)))
    for i, (jv, xe) in enumerate(zip(jl, items)):
        if xe.tag != item_tag:
            raise AssertionError("%s: XML item <%s>, want <%s>" % (where, xe.tag, item_tag))
        w = "%s[%d]" % (where, i)
        if isinstance(jv, dict):
            same_object(jv, xe, w)
        else:
            same_value(jv, xml_value(xe), w)


def same_document(jdoc, xroot, root_tag, item_tag):
    if xroot.tag != root_tag:
        raise AssertionError("XML root <%s>, want <%s>" % (xroot.tag, root_tag))
    if isinstance(jdoc, list):
        same_list(jdoc, xroot, item_tag, root_tag)
    else:
        same_object(jdoc, xroot, root_tag)


# ---- requests ----

def check_request_shape(r, extensions=False):
    """Types and names of one request of GET requests (JSON)."""
    want = REQUEST_FIELDS + (["extended_attributes"] if extensions else [])
    if list(r) != want:
        raise AssertionError("request members %r, want %r" % (list(r), want))
    if not isinstance(r["service_request_id"], str) or not ID_RE.match(r["service_request_id"]):
        raise AssertionError("service_request_id must be a string of digits: %r" %
                             (r["service_request_id"],))
    if r["status"] not in ("open", "closed"):
        raise AssertionError("status %r" % (r["status"],))
    for k in ("requested_datetime", "updated_datetime"):
        if not isinstance(r[k], str) or not DT_RE.match(r[k]):
            raise AssertionError("%s must be YYYY-MM-DDTHH:MM:SSZ: %r" % (k, r[k]))
    if r["expected_datetime"] is not None and not DT_RE.match(r["expected_datetime"]):
        raise AssertionError("expected_datetime %r" % (r["expected_datetime"],))
    for k in ("lat", "long"):
        v = r[k]
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise AssertionError("%s must be a number or null: %r" % (k, v))
    if (r["lat"] is None) != (r["long"] is None):
        raise AssertionError("lat and long come together: %r %r" % (r["lat"], r["long"]))
    for k in ("status_notes", "service_name", "description", "agency_responsible",
              "service_notice", "address", "address_id", "zipcode", "media_url"):
        if r[k] is not None and (not isinstance(r[k], str) or r[k] == ""):
            raise AssertionError("%s must be a non-empty string or null: %r" % (k, r[k]))
    if parse_dt(r["updated_datetime"]) < parse_dt(r["requested_datetime"]):
        raise AssertionError("updated_datetime before requested_datetime: %r" % (r,))
    if extensions:
        check_extended_shape(r["extended_attributes"])


def check_extended_shape(ext):
    want = ["channel", "detailed_status", "resolution", "merged_into", "notes"]
    if list(ext) != want:
        raise AssertionError("extended_attributes members %r, want %r" % (list(ext), want))
    if ext["channel"] not in ("api", "web", "phone", "mobile"):
        raise AssertionError("channel %r" % (ext["channel"],))
    if ext["detailed_status"] not in ("open", "acknowledged", "in_progress", "reopened",
                                      "closed"):
        raise AssertionError("detailed_status %r" % (ext["detailed_status"],))
    for n in ext["notes"]:
        if list(n) != NOTE_FIELDS:
            raise AssertionError("note members %r, want %r" % (list(n), NOTE_FIELDS))
        if not DT_RE.match(n["datetime"]):
            raise AssertionError("note datetime %r" % (n["datetime"],))
        if n["type"] not in ("opened", "closed", "activity"):
            raise AssertionError("note type %r" % (n["type"],))


def check_requests(resp_json, resp_xml=None, extensions=False):
    """GET requests(/{id}) in JSON (and the same in XML): schema, shapes,
    and JSON == XML. Returns the JSON list."""
    doc = expect_json(resp_json, 200, "requests.json")
    if not isinstance(doc, list):
        raise AssertionError("requests must be an array")
    for r in doc:
        check_request_shape(r, extensions)
    if resp_xml is not None:
        root = expect_xml(resp_xml, 200, "service_requests")
        same_document(doc, root, "service_requests", "request")
    return doc


# ---- the catalog, as the server tells it ----

class Catalog:
    """services.json plus every services/{code}.json, and helpers to pick a
    service by what a test needs, so tests do not hard-code the demo."""

    def __init__(self, client):
        self.services = expect_json(client.get("services.json"), 200, "services.json")
        self.by_code = {s["service_code"]: s for s in self.services}
        self.defs = {}
        for s in self.services:
            d = expect_json(client.get("services/%s.json" % s["service_code"]), 200,
                            "service-definition.json")
            self.defs[s["service_code"]] = d

    def attrs(self, code):
        return self.defs[code]["attributes"]

    def attr(self, code, attr_code):
        for a in self.attrs(code):
            if a["code"] == attr_code:
                return a
        raise KeyError(attr_code)

    def pick(self, type="realtime", datatype=None, required=None, metadata=None,
             nattrs=None, exclude=()):
        """The first service of this type with an attribute of datatype
        (variable; required as given). Fails the test if the demo has none:
        then this suite needs a service of its own."""
        for s in self.services:
            code = s["service_code"]
            if s["type"] != type or code in exclude:
                continue
            if metadata is not None and s["metadata"] != metadata:
                continue
            attrs = [a for a in self.attrs(code) if a["variable"]]
            if nattrs is not None and len(self.attrs(code)) != nattrs:
                continue
            if datatype is None:
                return code
            for a in attrs:
                if a["datatype"] == datatype and (required is None or a["required"] == required):
                    return code
        raise AssertionError("the demo catalog has no %s service with a %s%s attribute" %
                             (type, "required " if required else "", datatype or "(any)"))

    def attr_of(self, code, datatype, required=None):
        for a in self.attrs(code):
            if a["variable"] and a["datatype"] == datatype and (
                    required is None or a["required"] == required):
                return a
        raise AssertionError("%s has no %s attribute" % (code, datatype))

    def valid_answers(self, code, everything=False):
        """Form pairs answering every required (or, with everything, every
        variable) attribute of the service with a valid value."""
        pairs = []
        for a in self.attrs(code):
            if not a["variable"] or not (a["required"] or everything):
                continue
            pairs += answer_pairs(a)
        return pairs


SAMPLE = {"number": "12.5", "datetime": "2024-05-01T14:30:00Z", "string": "unit 4B",
          "text": "first line\nsecond line"}


def answer_pairs(a, values=None):
    """attribute[CODE]=value pairs for attribute a: its first key for lists
    (the first two for multivaluelist), else a sample of its datatype."""
    key = "attribute[%s]" % a["code"]
    if a["datatype"] == "multivaluelist":
        vals = values or [v["key"] for v in a["values"][:2]]
        return [(key + "[]", v) for v in vals]
    if a["datatype"] == "singlevaluelist":
        return [(key, (values or [a["values"][0]["key"]])[0])]
    return [(key, (values or [SAMPLE[a["datatype"]]])[0])]


def store_service(inst, code):
    """What the store says about a service: (sla_seconds, service_notice,
    agency name)."""
    rows = inst.query(
        "SELECT s.sla_seconds, s.service_notice, a.name FROM service s "
        "LEFT JOIN agency a ON a.code = s.agency_code WHERE s.code = ?", (code,))
    if not rows:
        raise AssertionError("store has no service %s" % code)
    return rows[0]
