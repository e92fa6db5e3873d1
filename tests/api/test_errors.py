"""
Bad input (Q2, I1): every mistake a client can make gets the right status,
Open311's error document with a description that says what to fix, and
leaves NOTHING behind: the number of requests the API shows and the row
count of every table in the store are the same before and after.

Error descriptions must never repeat what was sent (it may be personal
data): bad values carry a canary, and the canary must not come back.

ADDING A CASE is one line in CASES below:

    Bad("what it is", "METHOD", "path", "body", status, "words the error says"),

- path is relative to /open311/v2/; "{fmt}" runs the case twice, as .json and
  as .xml, and checks the error document in that format.
- body is a str (or bytes) with placeholders, expanded per run:
    {key}          a valid api key          {loc}   lat=..&long=.. (valid)
    {base}         api_key + service_code + every required answer, no location
    {canary}       a fresh marker that must not come back in the response
    {n_base} {NUM}     a service with a number attribute, its other answers; the code
    {d_base} {DT}      ... datetime attribute
    {s_base} {SVL} {SVL_K1} {SVL_K2}   ... singlevaluelist attribute, two of its keys
    {m_base} {MVL} {MVL_K1} {MVL_K2}   ... multivaluelist attribute
    {t_base} {STR}     ... string attribute
    {r_code}       a service with a required attribute (for "missing answer")
    {P}            the service of {base}
  Bodies are form-encoded unless ctype says otherwise (JSON=, None for none).
- kw: ctype=..., headers={...}, allow="GET, HEAD" (405: the Allow header),
  query="..." (added to the path), canary=False (no canary check needed).
"""
import re
import unittest

import harness
import o311
from base import ApiTest, canary, server_bug
from client import FORM, Client, raw_http, wait_until

JSON = "application/json"


class Bad:
    def __init__(self, what, method, path, body=None, status=400, says=None, ctype=FORM,
                 headers=None, allow=None, bug=None):
        self.what = what
        self.method = method
        self.path = path
        self.body = body
        self.status = status
        self.says = says
        self.ctype = ctype
        self.headers = headers or {}
        self.allow = allow
        self.bug = bug


D4001 = "d" * 4001
LONG_ADDR = "a" * 501
NAME201 = "n" * 201
PHONE41 = "5" * 41
WRONG_KEY = "c311_" + "A" * 43
MANY = "&".join("x%d=1" % i for i in range(201))
IDS1001 = ",".join(str(i) for i in range(1, 1002))
BIG = "description=" + "a" * (1024 * 1024 + 16)

BUG3 = ("BUG-3: a path that ends in .json but names no resource gets an XML error: "
        "o311_api_handle answers R_NONE in guess_format(req) (the Accept header) even "
        "when the path's suffix said .json (src/open311/o311_api.c, o311_api_handle and "
        "route)")
BUG2 = ("BUG-2: requests/{id} reads extensions with kv_get (the first value) and never "
        "checks it, so 'extensions=maybe' and 'extensions=true&extensions=false' pass "
        "silently where GET requests answers 400 (src/open311/o311_api.c get_request; "
        "GET requests uses o311_params.c parse_bool)")
BUG8 = ("BUG-8: jurisdiction_id given twice with different values is accepted: "
        "check_jurisdiction reads only the first (kv_get), so POST requests.json?"
        "jurisdiction_id=ours with jurisdiction_id=other in the body files the request (201), "
        "though o311_api.c says 'a repeat is an error' and every other single-valued "
        "parameter gets 400 'given more than once' (src/open311/o311_api.c check_jurisdiction)")

CASES = [
    # ---- form encoding ----
    Bad("bad %-escape in a value", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}100%zz", 400, "%-escape"),
    Bad("truncated %-escape at the end", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}%4", 400, "%-escape"),
    Bad("bad %-escape in a name", "POST", "requests.{fmt}",
        "{base}&{loc}&desc%ZZription={canary}", 400, "%-escape"),
    Bad("parameter with an empty name", "POST", "requests.{fmt}",
        "{base}&{loc}&={canary}", 400, "empty name"),
    Bad("raw bytes that are not UTF-8", "POST", "requests.{fmt}",
        b"{base}&{loc}&description={canary}\xff\xfe", 400, "UTF-8"),
    Bad("%FF: an escaped byte that is not UTF-8", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}%FF", 400, "UTF-8"),
    Bad("overlong UTF-8 (%C0%AF)", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}%C0%AF", 400, "UTF-8"),
    Bad("UTF-16 surrogate in UTF-8 (%ED%A0%80)", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}%ED%A0%80", 400, "UTF-8"),
    Bad("%00 in a value", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}%00x", 400, "description"),
    Bad("raw NUL byte in the body", "POST", "requests.{fmt}",
        b"{base}&{loc}&description={canary}\x00x", 400, "description"),
    Bad("%00 in a parameter name", "POST", "requests.{fmt}",
        "{base}&{loc}&x%00y={canary}", 400, "parameter name"),
    Bad("unsupported Content-Type text/plain", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}", 400, "application/json", ctype="text/plain"),
    Bad("multipart/form-data is not an Open311 encoding", "POST", "requests.{fmt}",
        "--x\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\n{key}\r\n--x--\r\n",
        400, "application/x-www-form-urlencoded", ctype="multipart/form-data; boundary=x"),

    # ---- JSON bodies ----
    Bad("malformed JSON", "POST", "requests.{fmt}",
        '{"api_key": "{key}", "description": "{canary}", "service_code": ', 400,
        "not valid JSON", ctype=JSON),
    Bad("JSON that is an array, not an object", "POST", "requests.{fmt}",
        '["{key}", "{canary}"]', 400, "object", ctype=JSON),
    Bad("JSON that is a bare number", "POST", "requests.{fmt}", "42", 400, "JSON", ctype=JSON),
    Bad("empty JSON body", "POST", "requests.{fmt}", "", 400, "JSON", ctype=JSON),
    Bad("JSON parameter that is an object", "POST", "requests.{fmt}",
        '{"api_key": "{key}", "service_code": "{P}", "lat": {"x": "{canary}"}, "long": 1}',
        400, "JSON parameter", ctype=JSON),
    Bad("JSON attribute answer that is an object", "POST", "requests.{fmt}",
        '{"api_key": "{key}", "service_code": "{P}", "lat": 40.7, "long": -74, '
        '"attribute": {"{SVL}": {"k": "{canary}"}}}', 400, "attribute answer", ctype=JSON),
    Bad("JSON string with \\u0000", "POST", "requests.{fmt}",
        '{"api_key": "{key}", "service_code": "{P}", "description": "{canary}\\u0000"}',
        400, "JSON", ctype=JSON),
    Bad("JSON with a duplicate key", "POST", "requests.{fmt}",
        '{"api_key": "{key}", "service_code": "{P}", "service_code": "{canary}"}',
        400, "JSON", ctype=JSON),
    Bad("JSON with bytes that are not UTF-8", "POST", "requests.{fmt}",
        b'{"api_key": "{key}", "service_code": "{P}", "description": "{canary}\xff"}',
        400, "JSON", ctype=JSON),

    # ---- service_code ----
    Bad("unknown service_code", "POST", "requests.{fmt}",
        "api_key={key}&service_code=NOPE-{canary}&{loc}", 404, "service_code"),
    Bad("missing service_code", "POST", "requests.{fmt}",
        "api_key={key}&{loc}&description={canary}", 400, "service_code"),
    Bad("service_code given twice", "POST", "requests.{fmt}",
        "{base}&service_code={canary}&{loc}", 400, "more than once"),
    Bad("service_code in the query and in the body", "POST",
        "requests.{fmt}?service_code={P}", "{base}&{loc}&description={canary}", 400,
        "more than once"),

    # ---- attributes (service questions) ----
    Bad("unknown attribute code", "POST", "requests.{fmt}",
        "{base}&{loc}&attribute[NOPE{canary}]=1", 400, "attribute"),
    Bad("malformed attribute key", "POST", "requests.{fmt}",
        "{base}&{loc}&attribute[{canary}=1", 400, "attribute[CODE]"),
    Bad("attribute[] with no code", "POST", "requests.{fmt}",
        "{base}&{loc}&attribute[]={canary}", 400, "attribute[CODE]"),
    Bad("number attribute given a word", "POST", "requests.{fmt}",
        "{n_base}&{loc}&attribute[{NUM}]=twelve{canary}", 400, "number"),
    Bad("number attribute given an exponent", "POST", "requests.{fmt}",
        "{n_base}&{loc}&attribute[{NUM}]=1e3&description={canary}", 400, "number"),
    Bad("datetime attribute given a word", "POST", "requests.{fmt}",
        "{d_base}&{loc}&attribute[{DT}]=yesterday{canary}", 400, "date-time"),
    Bad("datetime attribute with month 13", "POST", "requests.{fmt}",
        "{d_base}&{loc}&attribute[{DT}]=2024-13-01T00:00:00Z&description={canary}", 400,
        "date-time"),
    Bad("datetime attribute with trailing junk", "POST", "requests.{fmt}",
        "{d_base}&{loc}&attribute[{DT}]=2024-05-01T00:00:00Z{canary}", 400, "date-time"),
    Bad("list value that is not one of the keys", "POST", "requests.{fmt}",
        "{s_base}&{loc}&attribute[{SVL}]=NOPE{canary}", 400, "listed keys"),
    Bad("two values for a single-value list", "POST", "requests.{fmt}",
        "{s_base}&{loc}&attribute[{SVL}]={SVL_K1}&attribute[{SVL}]={SVL_K2}"
        "&description={canary}", 400, "one value"),
    Bad("[] on a single-value list", "POST", "requests.{fmt}",
        "{s_base}&{loc}&attribute[{SVL}][]={SVL_K1}&description={canary}", 400, "one value"),
    Bad("the same value twice in a multivaluelist", "POST", "requests.{fmt}",
        "{m_base}&{loc}&attribute[{MVL}][]={MVL_K1}&attribute[{MVL}][]={MVL_K1}"
        "&description={canary}", 400, "twice"),
    Bad("multivaluelist value that is not a key", "POST", "requests.{fmt}",
        "{m_base}&{loc}&attribute[{MVL}][]={MVL_K1}&attribute[{MVL}][]=NOPE{canary}", 400,
        "listed keys"),
    Bad("required attribute not answered", "POST", "requests.{fmt}",
        "api_key={key}&service_code={r_code}&{loc}&description={canary}", 400, "required"),
    Bad("string attribute with a line break", "POST", "requests.{fmt}",
        "{t_base}&{loc}&attribute[{STR}]=a%0A{canary}", 400, "one line"),
    Bad("string attribute of 201 characters", "POST", "requests.{fmt}",
        "{t_base}&{loc}&attribute[{STR}]={canary}" + "x" * 201, 400, "200"),

    # ---- location ----
    Bad("lat without long", "POST", "requests.{fmt}", "{base}&lat=40.7&description={canary}",
        400, "lat and long"),
    Bad("long without lat", "POST", "requests.{fmt}", "{base}&long=-74&description={canary}",
        400, "lat and long"),
    Bad("lat out of range (91)", "POST", "requests.{fmt}",
        "{base}&lat=91&long=-74&description={canary}", 400, "[-90, 90]"),
    Bad("long out of range (-180.5)", "POST", "requests.{fmt}",
        "{base}&lat=40&long=-180.5&description={canary}", 400, "[-180, 180]"),
    Bad("lat that is a word", "POST", "requests.{fmt}", "{base}&lat=north{canary}&long=-74",
        400, "decimal"),
    Bad("lat with an exponent", "POST", "requests.{fmt}",
        "{base}&lat=4e1&long=-74&description={canary}", 400, "decimal"),
    Bad("lat NaN", "POST", "requests.{fmt}", "{base}&lat=NaN&long=-74&description={canary}",
        400, "decimal"),
    Bad("long inf", "POST", "requests.{fmt}", "{base}&lat=40&long=inf&description={canary}",
        400, "decimal"),
    Bad("lat in hex", "POST", "requests.{fmt}", "{base}&lat=0x28&long=-74&description={canary}",
        400, "decimal"),
    Bad("lat with two points", "POST", "requests.{fmt}",
        "{base}&lat=40.7.1&long=-74&description={canary}", 400, "decimal"),
    Bad("lat with a decimal comma", "POST", "requests.{fmt}",
        "{base}&lat=40,7&long=-74&description={canary}", 400, "decimal"),
    Bad("lat given twice", "POST", "requests.{fmt}",
        "{base}&{loc}&lat=41&description={canary}", 400, "more than once"),
    Bad("no location at all", "POST", "requests.{fmt}", "{base}&description={canary}", 400,
        "location"),
    Bad("address_string with a line break", "POST", "requests.{fmt}",
        "{base}&address_string=1+Main+St%0A{canary}", 400, "address_string"),
    Bad("address_string of 501 characters", "POST", "requests.{fmt}",
        "{base}&address_string={canary}" + LONG_ADDR, 400, "address_string"),
    Bad("zipcode of 21 characters", "POST", "requests.{fmt}",
        "{base}&{loc}&zipcode={canary}" + "1" * 21, 400, "zipcode"),

    # ---- texts ----
    Bad("description of 4001 characters", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}" + D4001, 400, "4000"),
    Bad("description with a control character", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}%01", 400, "control"),
    Bad("description over the 16 KiB parameter limit", "POST", "requests.{fmt}",
        "{base}&{loc}&description={canary}" + "%C3%A9" * 8200, 400, "description"),
    Bad("media_url javascript:", "POST", "requests.{fmt}",
        "{base}&{loc}&media_url=javascript:alert('{canary}')", 400, "media_url"),
    Bad("media_url ftp://", "POST", "requests.{fmt}",
        "{base}&{loc}&media_url=ftp://example.org/{canary}.jpg", 400, "media_url"),
    Bad("media_url without a host", "POST", "requests.{fmt}",
        "{base}&{loc}&media_url=http:///{canary}.jpg", 400, "media_url"),
    Bad("media_url with a space", "POST", "requests.{fmt}",
        "{base}&{loc}&media_url=http://example.org/a+{canary}.jpg", 400, "media_url"),

    # ---- personal fields ----
    Bad("email without @", "POST", "requests.{fmt}",
        "{base}&{loc}&email={canary}.example.org", 400, "email"),
    Bad("email with two @", "POST", "requests.{fmt}",
        "{base}&{loc}&email={canary}@a@example.org", 400, "email"),
    Bad("email without a dot in the domain", "POST", "requests.{fmt}",
        "{base}&{loc}&email={canary}@localhost", 400, "email"),
    Bad("phone with letters", "POST", "requests.{fmt}",
        "{base}&{loc}&phone=call+{canary}", 400, "phone"),
    Bad("phone with two digits", "POST", "requests.{fmt}",
        "{base}&{loc}&phone=12&first_name={canary}", 400, "phone"),
    Bad("phone of 41 bytes", "POST", "requests.{fmt}",
        "{base}&{loc}&phone=" + PHONE41 + "&first_name={canary}", 400, "phone"),
    Bad("first_name with a line break", "POST", "requests.{fmt}",
        "{base}&{loc}&first_name={canary}%0Ax", 400, "first_name"),
    Bad("last_name of 201 bytes", "POST", "requests.{fmt}",
        "{base}&{loc}&last_name={canary}" + NAME201, 400, "last_name"),
    Bad("device_id with a control character", "POST", "requests.{fmt}",
        "{base}&{loc}&device_id={canary}%07", 400, "device_id"),

    # ---- api key and jurisdiction ----
    Bad("no api_key", "POST", "requests.{fmt}",
        "service_code={P}&{loc}&description={canary}", 403, "api_key"),
    Bad("empty api_key", "POST", "requests.{fmt}",
        "api_key=&service_code={P}&{loc}&description={canary}", 403, "api_key"),
    Bad("unknown (well-formed) api_key", "POST", "requests.{fmt}",
        "api_key=" + WRONG_KEY + "&service_code={P}&{loc}&description={canary}", 403,
        "api_key"),
    Bad("api_key that is not a key", "POST", "requests.{fmt}",
        "api_key={canary}&service_code={P}&{loc}", 403, "api_key"),
    Bad("api_key given twice", "POST", "requests.{fmt}",
        "api_key={key}&{base}&{loc}&description={canary}", 403, "api_key"),
    Bad("wrong jurisdiction_id", "POST", "requests.{fmt}",
        "{base}&{loc}&jurisdiction_id={canary}.org", 404, "jurisdiction_id"),
    Bad("jurisdiction_id twice: ours in the query, another in the body", "POST",
        "requests.{fmt}?jurisdiction_id=demo.civic311.org",
        "{base}&{loc}&jurisdiction_id={canary}.org", 400, "more than once", bug=BUG8),

    # ---- sizes ----
    Bad("body over 1 MiB", "POST", "requests.{fmt}", BIG, 413, None,
        bug="BUG-1: 413 is sent as text/plain 'request body too large', not Open311's "
            "error document (src/http/server.c http_reply_now, called from http_access "
            "and http_dispatch before the Open311 handler runs)"),
    Bad("201 parameters", "POST", "requests.{fmt}", "{base}&{loc}&" + MANY, 400,
        "too many parameters"),
    Bad("parameter name of 129 bytes", "POST", "requests.{fmt}",
        "{base}&{loc}&" + "k" * 129 + "={canary}", 400, "parameter name"),

    # ---- routes and methods ----
    Bad("unknown format .html", "GET", "requests.html", None, 404, "json or .xml"),
    Bad("no format", "GET", "services", None, 404, "json or .xml"),
    Bad("no format, client accepts JSON", "GET", "services", None, 404, "json or .xml",
        headers={"Accept": "application/json"}),
    Bad("unknown resource", "GET", "reports.{fmt}", None, 404, "no such resource", bug=BUG3),
    Bad("empty service code", "GET", "services/.{fmt}", None, 404, bug=BUG3),
    Bad("request id that is a word", "GET", "requests/abc.{fmt}", None, 404,
        "service_request_id"),
    Bad("request id 0", "GET", "requests/0.{fmt}", None, 404, "service_request_id"),
    Bad("negative request id", "GET", "requests/-1.{fmt}", None, 404, "service_request_id"),
    Bad("request id that does not exist", "GET", "requests/999999999999.{fmt}", None, 404,
        "service_request_id"),
    Bad("request id of 19 digits", "GET", "requests/9999999999999999999.{fmt}", None, 404,
        "service_request_id"),
    Bad("a path one level too deep", "GET", "requests/1/2.{fmt}", None, 404, bug=BUG3),
    Bad("bad %-escape in a path", "GET", "services/%ZZ.{fmt}", None, 404, bug=BUG3),
    Bad("%2F in a service code", "GET", "services/a%2Fb.{fmt}", None, 404, bug=BUG3),
    Bad("%00 in a service code", "GET", "services/a%00b.{fmt}", None, 404, bug=BUG3),
    Bad("PUT requests", "PUT", "requests.{fmt}", "{base}&{loc}", 405, "method",
        allow="GET, HEAD, POST"),
    Bad("DELETE requests/{id}", "DELETE", "requests/1.{fmt}", None, 405, "method",
        allow="GET, HEAD"),
    Bad("PATCH requests/{id}", "PATCH", "requests/1.{fmt}", "status=closed", 405, "method",
        allow="GET, HEAD"),
    Bad("POST services", "POST", "services.{fmt}", "{base}", 405, "method",
        allow="GET, HEAD"),
    Bad("POST tokens/{token}", "POST", "tokens/abc.{fmt}", "{base}", 405, "method",
        allow="GET, HEAD"),
    Bad("OPTIONS requests", "OPTIONS", "requests.{fmt}", None, 405, "method",
        allow="GET, HEAD, POST"),

    # ---- search parameters (GET requests) ----
    Bad("start_date that is a word", "GET", "requests.{fmt}?start_date=yesterday{canary}",
        None, 400, "start_date"),
    Bad("end_date on 30 February", "GET", "requests.{fmt}?end_date=2024-02-30T00:00:00Z",
        None, 400, "end_date"),
    Bad("start_date with trailing junk", "GET",
        "requests.{fmt}?start_date=2024-01-01T00:00:00Z{canary}", None, 400, "start_date"),
    Bad("more than 90 days between start and end", "GET",
        "requests.{fmt}?start_date=2024-01-01T00:00:00Z&end_date=2024-04-01T00:00:01Z", None,
        400, "90 days"),
    Bad("end_date before start_date", "GET",
        "requests.{fmt}?start_date=2024-02-01T00:00:00Z&end_date=2024-01-01T00:00:00Z", None,
        400, "before"),
    Bad("start_date twice", "GET",
        "requests.{fmt}?start_date=2024-01-01&start_date=2024-01-02", None, 400,
        "more than once"),
    Bad("updated_before before updated_after", "GET",
        "requests.{fmt}?updated_after=2024-02-01T00:00:00Z&updated_before=2024-01-01T00:00:00Z",
        None, 400, "before"),
    Bad("page_size 0", "GET", "requests.{fmt}?page_size=0", None, 400, "page_size"),
    Bad("page_size 1001", "GET", "requests.{fmt}?page_size=1001", None, 400, "page_size"),
    Bad("page_size that is a word", "GET", "requests.{fmt}?page_size=ten{canary}", None, 400,
        "page_size"),
    Bad("page_size with a sign", "GET", "requests.{fmt}?page_size=%2B5", None, 400,
        "page_size"),
    Bad("page 0", "GET", "requests.{fmt}?page=0", None, 400, "page"),
    Bad("page -1", "GET", "requests.{fmt}?page=-1", None, 400, "page"),
    Bad("unknown status", "GET", "requests.{fmt}?status=pending{canary}", None, 400, "status"),
    Bad("service_request_id that is a word", "GET",
        "requests.{fmt}?service_request_id=abc{canary}", None, 400, "service_request_id"),
    Bad("1001 service_request_ids", "GET", "requests.{fmt}?service_request_id=" + IDS1001,
        None, 400, "service_request_id"),
    Bad("search lat without long", "GET", "requests.{fmt}?lat=40.7", None, 400, "lat and long"),
    Bad("search radius without lat/long", "GET", "requests.{fmt}?radius=100", None, 400,
        "radius"),
    Bad("search radius over 50 km", "GET", "requests.{fmt}?lat=40.7&long=-74&radius=50001",
        None, 400, "radius"),
    Bad("search radius 0", "GET", "requests.{fmt}?lat=40.7&long=-74&radius=0", None, 400,
        "radius"),
    Bad("search lat out of range", "GET", "requests.{fmt}?lat=-90.5&long=-74", None, 400,
        "lat"),
    Bad("search lat that is a word", "GET", "requests.{fmt}?lat=x{canary}&long=-74", None, 400,
        "lat"),
    Bad("bbox with three numbers", "GET", "requests.{fmt}?bbox=-74,40,-73", None, 400, "bbox"),
    Bad("bbox with five numbers", "GET", "requests.{fmt}?bbox=-74,40,-73,41,5", None, 400,
        "bbox"),
    Bad("bbox min above max", "GET", "requests.{fmt}?bbox=-73,40,-74,41", None, 400, "bbox"),
    Bad("bbox out of range", "GET", "requests.{fmt}?bbox=-190,40,-73,41", None, 400, "bbox"),
    Bad("bbox with a word", "GET", "requests.{fmt}?bbox=-74,{canary},-73,41", None, 400, "bbox"),
    Bad("extensions=maybe", "GET", "requests.{fmt}?extensions=maybe{canary}", None, 400,
        "extensions"),
    Bad("%FF in the query", "GET", "requests.{fmt}?status={canary}%FF", None, 400, "UTF-8"),
    Bad("bad %-escape in the query", "GET", "requests.{fmt}?status={canary}%G0", None, 400,
        "%-escape"),
    Bad("201 query parameters", "GET", "requests.{fmt}?" + MANY, None, 400,
        "too many parameters"),
    Bad("extensions=maybe on requests/{id}", "GET", "requests/{rid}.{fmt}?extensions=maybe",
        None, 400, "extensions", bug=BUG2),
    Bad("extensions twice on requests/{id}", "GET",
        "requests/{rid}.{fmt}?extensions=true&extensions=false", None, 400, "extensions",
        bug=BUG2),

    # ---- jurisdiction on every GET ----
    Bad("wrong jurisdiction_id on GET requests", "GET",
        "requests.{fmt}?jurisdiction_id={canary}.org", None, 404, "jurisdiction_id"),
    Bad("wrong jurisdiction_id on GET requests/{id}", "GET",
        "requests/1.{fmt}?jurisdiction_id={canary}.org", None, 404, "jurisdiction_id"),
    Bad("wrong jurisdiction_id on GET tokens", "GET",
        "tokens/abc.{fmt}?jurisdiction_id={canary}.org", None, 404, "jurisdiction_id"),
    Bad("wrong jurisdiction_id on servicerequestupdates", "GET",
        "servicerequestupdates.{fmt}?jurisdiction_id={canary}.org", None, 404,
        "jurisdiction_id"),

    Bad("jurisdiction_id twice on GET requests, ours first", "GET",
        "requests.{fmt}?jurisdiction_id=demo.civic311.org&jurisdiction_id={canary}.org", None,
        400, "more than once", bug=BUG8),

    # ---- tokens and servicerequestupdates ----
    Bad("unknown token", "GET", "tokens/{canary}.{fmt}", None, 404, "token"),
    Bad("token of 65 characters", "GET", "tokens/" + "a" * 65 + ".{fmt}", None, 404, "token"),
    Bad("updates start_date that is a word", "GET",
        "servicerequestupdates.{fmt}?start_date=now{canary}", None, 400, "start_date"),
    Bad("updates over 90 days", "GET",
        "servicerequestupdates.{fmt}?start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z",
        None, 400, "90 days"),
    Bad("updates page_size 0", "GET", "servicerequestupdates.{fmt}?page_size=0", None, 400,
        "page_size"),
]


def send_big(port, method, path, body, ctype):
    """Sends the headers, gives the server a moment to refuse the body early
    (as it may from Content-Length alone), then the body; reads the answer
    whichever way it came."""
    import select
    import socket
    import http.client
    from client import Response, target_of
    if isinstance(body, str):
        body = body.encode()
    target = target_of(path)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   "Content-Type: %s\r\nContent-Length: %d\r\n\r\n"
                   % (method, target, ctype, len(body))).encode())
        ready, _, _ = select.select([s], [], [], 1.0)
        if not ready:
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
        r = http.client.HTTPResponse(s, method=method)
        r.begin()
        return Response(r.status, r.reason, r.headers, r.read(), method, target)
    finally:
        s.close()


def slug(text):
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60]


class BadInput(ApiTest):
    """One test per row of CASES."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = Client(cls.port)
        import o311 as _o
        cat = _o.Catalog(c)
        cls.values = cls.placeholders(cat, cls.key)
        cls.values["rid"] = cls.existing_request(cat)
        c.close()
        # A batch request still pending would appear in the API count in the
        # middle of a case: let every earlier one be published first.
        wait_until(lambda: cls.inst.query(
            "SELECT count(*) FROM request WHERE pending = 1")[0][0] == 0, 20)

    @staticmethod
    def placeholders(cat, key):
        def base(code, skip=None):
            pairs = [("api_key", key), ("service_code", code)]
            for k, v in cat.valid_answers(code):
                if skip and k.startswith("attribute[%s]" % skip):
                    continue
                pairs.append((k, v))
            import urllib.parse
            return urllib.parse.urlencode(pairs)

        v = {"key": key, "loc": "lat=40.7128&long=-74.006"}
        p = cat.pick("realtime", "singlevaluelist", required=True)
        v["P"], v["base"] = p, base(p)
        svl = cat.attr_of(p, "singlevaluelist", required=True)
        v["SVL"], v["s_base"] = svl["code"], base(p, svl["code"])
        v["SVL_K1"], v["SVL_K2"] = svl["values"][0]["key"], svl["values"][-1]["key"]
        for tag, dt in (("n", "number"), ("d", "datetime"), ("t", "string")):
            code = cat.pick("realtime", dt)
            a = cat.attr_of(code, dt)
            v[{"n": "NUM", "d": "DT", "t": "STR"}[tag]] = a["code"]
            v[tag + "_base"] = base(code, a["code"])
        code = cat.pick("realtime", "multivaluelist")
        a = cat.attr_of(code, "multivaluelist")
        v["MVL"], v["m_base"] = a["code"], base(code, a["code"])
        v["MVL_K1"], v["MVL_K2"] = a["values"][0]["key"], a["values"][-1]["key"]
        v["r_code"] = p
        return v

    @classmethod
    def existing_request(cls, cat):
        c = Client(cls.port)
        p = cat.pick("realtime", "singlevaluelist", required=True)
        pairs = [("api_key", cls.key), ("service_code", p), ("lat", "40.7"),
                 ("long", "-74")] + cat.valid_answers(p)
        rid = o311.expect_json(c.post("requests.json", pairs), 201)[0]["service_request_id"]
        c.close()
        return rid

    def expand(self, template, canary_value):
        if template is None:
            return None
        values = dict(self.values, canary=canary_value)
        if isinstance(template, bytes):
            return re.sub(rb"\{(\w+)\}", lambda m: values[m.group(1).decode()].encode()
                          if m.group(1).decode() in values else m.group(0), template)
        return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)

    def api_count(self):
        """Requests the API shows (every page of the default search)."""
        n, page = 0, 1
        while True:
            got = o311.expect_json(self.c.get("requests.json", {"page": page,
                                                               "page_size": 1000}))
            n += len(got)
            if len(got) < 1000:
                return n
            page += 1

    def run_case(self, case):
        fmts = ("json", "xml") if "{fmt}" in case.path else (None,)
        for fmt in fmts:
            can = canary("bad")
            path = case.path.replace("{fmt}", fmt or "")
            path = self.expand(path, can)
            body = self.expand(case.body, can)
            before_store = self.inst.table_counts()
            before_api = self.api_count()
            ctype = case.ctype if body is not None else None
            if body is not None and len(body) > 65536:
                r = send_big(self.port, case.method, path, body, ctype)
            else:
                r = self.c.request(case.method, path, body=body, ctype=ctype,
                                   headers=case.headers)
            where = "%s (%s)" % (case.what, fmt or path)
            want_fmt = fmt or ("json" if "json" in case.headers.get("Accept", "") else "xml")
            try:
                o311.expect_error(r, case.status, want_fmt, case.says)
                if case.allow is not None:
                    self.assertEqual(r.headers.get("Allow"), case.allow, "Allow header")
                raw = r.body + str(r.headers).encode()
                self.assertNotIn(can.encode(), raw, "the error repeats the value sent")
            except AssertionError as e:
                raise AssertionError("%s: %s" % (where, e)) from None
            self.assertEqual(self.inst.table_counts(), before_store,
                             "%s: the store changed" % where)
            self.assertEqual(self.api_count(), before_api, "%s: the API count changed" % where)

    # The chunked variant of "body over 1 MiB": no Content-Length to refuse
    # early, so the server must cut the body off while reading it.
    @server_bug("BUG-1: 413 is text/plain, not Open311's error document "
                "(src/http/server.c http_reply_now via http_dispatch)")
    def test_chunked_body_over_1_mib_is_413(self):
        """a chunked POST body over 1 MiB: 413 with the error document, nothing stored"""
        before = self.inst.table_counts()
        chunk = b"a" * 65536
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17)) + b"0\r\n\r\n"
        head = ("POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode()
        r = raw_http(self.port, head + body)
        self.assertEqual(self.inst.table_counts(), before)
        o311.expect_error(r, 413, "json")

    def test_oversized_request_line_and_headers(self):
        """a 70 KB URL -> 414, a 70 KB header -> 431, and the server keeps serving

        These answers come from libmicrohttpd itself (over the connection's
        memory limit, before any handler runs), as small HTML pages: the
        status is what is checked here, not the Open311 error format."""
        for data, status in (
                (b"GET /open311/v2/requests.json?x=" + b"a" * 70000 + b" HTTP/1.1\r\n"
                 b"Host: x\r\nConnection: close\r\n\r\n", 414),
                (b"GET /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\nX-Big: " +
                 b"a" * 70000 + b"\r\nConnection: close\r\n\r\n", 431)):
            r = raw_http(self.port, data)
            self.assertEqual(r.status, status)
        o311.expect_json(self.c.get("services.json"), 200, "services.json")

    def test_raw_non_ascii_bytes_in_the_query(self):
        """GET requests.json?status=<raw 0xFF byte>: 400 UTF-8, never a crash"""
        r = raw_http(self.port, b"GET /open311/v2/requests.json?status=open\xff HTTP/1.1\r\n"
                                b"Host: x\r\nConnection: close\r\n\r\n")
        o311.expect_error(r, 400, "json", "UTF-8")

    def test_server_still_answers_after_all_of_this(self):
        """after every bad input the server is alive and well"""
        o311.expect_json(self.c.get("services.json"), 200, "services.json")


_names = set()
for _case in CASES:
    def _make(case, name):
        def test(self):
            self.run_case(case)
        test.__name__ = name
        test.__qualname__ = "BadInput." + name
        test.__doc__ = "%s: %s %s -> %d%s" % (case.what, case.method, case.path.split("?")[0],
                                              case.status,
                                              " (%s)" % case.says if case.says else "")
        return server_bug(case.bug)(test) if case.bug else test
    # Named by what the case is, so a name stays put when rows are added.
    _name = "test_" + slug(_case.what)
    while _name in _names:
        _name += "_"
    _names.add(_name)
    setattr(BadInput, _name, _make(_case, _name))
