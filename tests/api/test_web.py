"""
311 Online (issue 4: I2, I5, P9, P10, P12) over HTTP: the residents' website
as a browser without JavaScript sees it, on the real server.

- Every page: exactly one h1, <html lang>, Content-Language, no-store, the
  security headers (also on Open311 answers and on refusals), no inline
  script or style (the CSP forbids them, so they would be dead anyway).
- The cookie: one session cookie c311, HttpOnly, SameSite=Lax, Path=/, no
  Expires/Max-Age/Secure over plain HTTP; a bad one is replaced, never echoed.
- Home: the catalog by group, the search (words ANDed, any case), hostile
  queries escaped or refused.
- Languages: Accept-Language, the switch (/lang/es?next=...) and its cookie,
  and `next` that can only be a path of this site.
- Filing: the form of every demo service (each datatype's field), review,
  edit, send, as a browser does it (cookie kept, csrf read from the page,
  every field the form has sent back); the stored request (channel web,
  contact sealed, nothing in plaintext); the confirmation of batch and
  blackbox services. Refusals (CSRF, bad input, bad encodings) file nothing,
  show the form again filled in, and log nothing that was sent.
- The 911 notice (I5) for an emergency service or description.
- Request pages, the lookup, the privacy page from the configuration (with
  an installation of its own for a changed retention period), the exit
  notice (P10), methods and the stylesheet.

Forms are read with html.parser (Page, Form below) and submitted the way a
browser submits them: every named field, checked boxes only, the pressed
button. Contact details are canaries (test_privacy.person()); run.py also
sweeps every server log for them at the end of the run.
"""
import html
import html.parser
import json
import os
import re
import time
import unittest
import urllib.parse

import harness
import o311
from base import ApiTest, canary
from client import Client, raw_request
from test_privacy import ACCESS_RE, ROUTES, marks, person
from test_privacy_engine import db_files, hits

HTML_CT = "text/html; charset=utf-8"
COOKIE = "c311"
SID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
CSRF_RE = re.compile(r"^[0-9a-f]{64}$")
CONTACT = ("first_name", "last_name", "email", "phone")
SMOKE = "smoke and fire coming out of the window"
HOSTILE = '<script>alert(1)</script> and "quotes" & \'apostrophes\''
# What a browser's datetime-local input sends (the form's datetime field).
BROWSER_SAMPLE = {"datetime": "2024-05-01T14:30"}
# Tables a refused or unsent report must not touch (the store's others are
# counted too, through table_counts()).
WATCHED = ("request", "personal_field", "blind_index", "audit_entry")



# The demo services the website treats as emergencies (core/emergency.c): their form
# asks "not an emergency" at once.
EMERGENCY_SERVICES = {"DEP-GAS"}

# ---------------------------------------------------------------------------
# Reading pages
# ---------------------------------------------------------------------------

class Field:
    """One input, textarea or button of a form."""

    def __init__(self, tag, attrs):
        self.tag = tag
        self.attrs = attrs
        self.name = attrs.get("name")
        default = {"input": "text", "button": "submit"}.get(tag, tag)
        self.type = (attrs.get("type") or default).lower()
        self.value = attrs.get("value") or ""
        self.checked = "checked" in attrs
        self.required = "required" in attrs

    def __repr__(self):
        return "<%s %s name=%r value=%r>" % (self.tag, self.type, self.name, self.value[:40])


class Form:
    def __init__(self, attrs):
        self.action = attrs.get("action")
        self.method = (attrs.get("method") or "get").lower()
        self.enctype = attrs.get("enctype") or "application/x-www-form-urlencoded"
        self.fields = []

    def named(self, name):
        return [f for f in self.fields if f.name == name]

    def value(self, name):
        """What the field holds (checked values of a box group, as a list)."""
        fs = self.named(name)
        if fs and fs[0].type in ("radio", "checkbox"):
            return [f.value for f in fs if f.checked]
        return fs[0].value if fs else None

    def hidden(self):
        return [(f.name, f.value) for f in self.fields if f.type == "hidden" and f.name]

    def submit(self, fill=(), press=None):
        """The pairs a browser sends: each named field in order, boxes only
        if checked, the pressed button only (press: (name, value)). fill:
        pairs a person typed or ticked; each must name a field of the form."""
        wanted = {}
        for k, v in fill:
            wanted.setdefault(k, []).append(v)
        unknown = set(wanted) - {f.name for f in self.fields}
        if unknown:
            raise AssertionError("the form has no field named %s: %r" % (sorted(unknown),
                                                                          self.fields))
        out = []
        for f in self.fields:
            if not f.name:
                continue
            if f.type in ("radio", "checkbox"):
                on = f.value in wanted[f.name] if f.name in wanted else f.checked
                if on:
                    out.append((f.name, f.value))
            elif f.type in ("submit", "button", "reset", "image"):
                if press == (f.name, f.value):
                    out.append(press)
            elif f.type == "file":
                continue  # a file goes in a multipart body: multipart_body()
            else:
                out.append((f.name, wanted[f.name][0] if f.name in wanted else f.value))
        return out


class Page(html.parser.HTMLParser):
    """What the tests need of a page: lang, headings, forms, links, roles,
    <time> values and the text, with character references resolved."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.headings = []   # (tag, text)
        self.forms = []
        self.links = []      # (href, attrs, text)
        self.roles = []      # (tag, role, text)
        self.times = []
        self.inline = []     # script or style in the page itself, event handlers
        self.chunks = []
        self._form = self._textarea = None
        self._open = []      # [tag, attrs, [text]] of headings, links, role elements
        self.feed(text)
        self.close()

    @property
    def text(self):
        return "".join(self.chunks)

    @property
    def h1(self):
        return [t for tag, t in self.headings if tag == "h1"]

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        self.inline += ["<%s %s>" % (tag, k) for k in a if k == "style" or k.startswith("on")]
        if tag == "style" or (tag == "script" and "src" not in a):
            self.inline.append("<%s>" % tag)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "form":
            self._form = Form(a)
            self.forms.append(self._form)
        elif tag in ("input", "textarea", "button"):
            f = Field(tag, a)
            if self._form is not None:
                self._form.fields.append(f)
            if tag == "textarea":
                self._textarea = f
        elif tag == "time":
            self.times.append(a.get("datetime"))
        if tag in ("h1", "h2", "h3", "a") or "role" in a:
            self._open.append([tag, a, []])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        for i in range(len(self._open) - 1, -1, -1):
            t, a, text = self._open[i]
            if t != tag:
                continue
            del self._open[i]
            s = " ".join("".join(text).split())
            if tag in ("h1", "h2", "h3"):
                self.headings.append((tag, s))
            if tag == "a":
                self.links.append((a.get("href"), a, s))
            if "role" in a:
                self.roles.append((tag, a["role"], s))
            break

    def handle_data(self, data):
        self.chunks.append(data)
        if self._textarea is not None:
            self._textarea.value += data
        for _, _, text in self._open:
            text.append(data)

    def form(self, action=None):
        fs = [f for f in self.forms if action is None or f.action == action]
        if len(fs) != 1:
            raise AssertionError("want one form posting to %s, found %r" % (
                action, [f.action for f in self.forms]))
        return fs[0]

    def alerts(self):
        return [text for _, role, text in self.roles if role == "alert"]


def section(body, label):
    """The raw HTML of <section aria-labelledby="label">, or None."""
    m = re.search(r'<section aria-labelledby="%s">(.*?)</section>' % re.escape(label), body,
                  re.S)
    return m.group(1) if m else None


def report_links(fragment):
    return re.findall(r'<a href="/report/([^"]*)">', fragment or "")


def parse_set_cookie(value):
    """'c311=V; Path=/; HttpOnly' -> ('c311', 'V', {'path': '/', 'httponly': True})."""
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), val, attrs


def set_cookies(resp):
    return [parse_set_cookie(v) for v in resp.headers.get_all("Set-Cookie") or []]


def po_catalog(lang="es"):
    """{msgid: msgstr} of po/LANG.po: translated, not fuzzy, not obsolete."""
    path = os.path.join(harness.REPO, "po", "%s.po" % lang)
    with open(path, encoding="utf-8") as f:
        blocks = re.split(r"\n\s*\n", f.read())
    out = {}
    for block in blocks:
        lines = [l for l in block.splitlines() if l.strip()]
        if any(l.startswith("#,") and "fuzzy" in l for l in lines):
            continue
        cur, strings = None, {}
        for l in lines:
            m = re.match(r'^(msgid|msgstr|msgctxt|msgid_plural|msgstr\[\d+\])\s+(".*")$', l)
            if m:
                cur = m.group(1)
                strings[cur] = json.loads(m.group(2))
            elif l.startswith('"') and cur:
                strings[cur] += json.loads(l)
            elif not l.startswith("#"):
                cur = None
        if strings.get("msgid") and strings.get("msgstr") and "msgctxt" not in strings:
            out[strings["msgid"]] = strings["msgstr"]
    return out


def tr(lang, msgid):
    """The text the server should show for msgid in lang (English if the
    catalog has no translation)."""
    return msgid if lang == "en" else po_catalog(lang).get(msgid, msgid)


def browser_answers(cat, code, everything=False):
    """catalog.valid_answers, but datetimes as a datetime-local input sends them."""
    out = []
    for a in cat.attrs(code):
        if a["variable"] and (a["required"] or everything):
            sample = BROWSER_SAMPLE.get(a["datatype"])
            out += o311.answer_pairs(a, [sample] if sample else None)
    return out


def esc(s):
    """s as html.h's %s writes it."""
    return html.escape(s, quote=True).replace("&#x27;", "&#39;").replace("\r", "&#13;")


def contact():
    """Canary contact details (the four the form asks)."""
    p = person()
    return {k: p[k] for k in CONTACT}


# ---------------------------------------------------------------------------
# A browser: one connection, the cookie kept, an Accept-Language
# ---------------------------------------------------------------------------

class Browser:
    def __init__(self, port, accept_language=None, cookie=None):
        self.c = Client(port)
        self.accept_language = accept_language
        self.cookie = cookie  # the value of c311

    def close(self):
        self.c.close()

    def request(self, method, path, body=None, headers=None, **kw):
        h = {}
        if self.cookie is not None:
            h["Cookie"] = "%s=%s" % (COOKIE, self.cookie)
        if self.accept_language is not None:
            h["Accept-Language"] = self.accept_language
        h.update(headers or {})
        r = self.c.request(method, path, body=body, headers=h, **kw)
        for name, value, _ in set_cookies(r):
            if name == COOKIE:
                self.cookie = value
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, pairs, **kw):
        return self.request("POST", path, body=list(pairs), **kw)


# ---------------------------------------------------------------------------
# The test case
# ---------------------------------------------------------------------------

class WebTest(ApiTest):
    """Helpers shared by the website's tests."""

    def setUp(self):
        super().setUp()
        self.browsers = []

    def tearDown(self):
        for b in self.browsers:
            b.close()
        super().tearDown()

    def browser(self, **kw):
        b = Browser(self.port, **kw)
        self.browsers.append(b)
        return b

    # ---- assertions on every page ----

    def assertSecurityHeaders(self, r):
        h = r.headers
        csp = h.get_all("Content-Security-Policy") or []
        self.assertEqual(len(csp), 1, "one Content-Security-Policy: %s" % r.describe(200))
        directives = {}
        for d in csp[0].split(";"):
            words = d.split()
            if words:
                directives[words[0].lower()] = words[1:]
        for bad in ("'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"):
            self.assertNotIn(bad, csp[0].split(), "CSP allows %s: %s" % (bad, csp[0]))
        self.assertEqual(directives.get("frame-ancestors"), ["'none'"], csp[0])
        self.assertEqual(directives.get("script-src"), ["'self'"], csp[0])
        self.assertIn("default-src", directives, csp[0])
        for name, want in (("X-Content-Type-Options", "nosniff"),
                           ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY")):
            got = h.get_all(name) or []
            self.assertEqual(got, [want], "%s once: %s" % (name, r.describe(200)))
        self.assertIsNone(h.get("Strict-Transport-Security"), "HSTS over plain HTTP")

    def assertPage(self, r, status, lang="en"):
        """A whole HTML page of the website; returns it parsed."""
        self.assertEqual(r.status, status, r.describe())
        self.assertEqual(r.ctype, HTML_CT, r.describe(200))
        self.assertSecurityHeaders(r)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertEqual(r.headers.get("Content-Language"), lang)
        body = r.text
        self.assertTrue(body.startswith("<!doctype html>"), body[:80])
        page = Page(body)
        self.assertEqual(page.inline, [], "inline script, style or event handler")
        self.assertEqual(page.lang, lang)
        self.assertEqual(len(page.h1), 1, "exactly one h1: %r" % page.headings)
        return page

    def assertErrorPage(self, r, status, lang="en"):
        page = self.assertPage(r, status, lang)
        self.assertIn(("/", {"href": "/"}, tr(lang, "Go to the home page")),
                      page.links, "the error page leads home")
        return page

    def assertNoEcho(self, r, values, where, switch=False):
        """None of values in r. switch: but in the language switch's link,
        which comes back to the same address (query included), encoded."""
        text = r.body + str(r.headers).encode()
        if switch:
            text = re.sub(rb'<a href="/lang/[a-z]+\?next=[A-Za-z0-9%._~-]*"', b"", text)
        for v in values:
            self.assertNotIn(v.encode(), text, "%s echoes %r:\n%s" % (where, v, r.describe()))

    def assertLogClean(self, values):
        log = self.sh.server.read_log()
        for v in values:
            self.assertNotIn(v, log, "the server log holds %r" % v)

    def counts(self):
        return self.inst.table_counts()

    def assertNothingStored(self, before, what):
        after = self.counts()
        for t in WATCHED:
            self.assertEqual(after[t], before[t], "%s: %s changed" % (what, t))
        self.assertEqual(after, before, "%s: the store changed" % what)

    # ---- the report flow ----

    def open_form(self, b, code, lang="en"):
        r = b.get("/report/%s" % code)
        page = self.assertPage(r, 200, lang)
        return page, page.form("/report/%s" % code)

    def fill(self, code, p=None, description=None, everything=False, address=None):
        """What a person types into the form of code."""
        out = [("address_string", address or "%d Broadway, New York" % (len(code) * 7))]
        out += browser_answers(self.cat, code, everything)
        out.append(("description", description if description is not None else
                    "A report about %s: %s" % (code, canary("desc"))))
        out += list((p or {}).items())
        return out

    def submit(self, b, code, form, fill=(), press=None, extra=()):
        return b.post("/report/%s" % code, form.submit(fill, press) + list(extra))

    def to_review(self, b, code, fill, lang="en"):
        """GET the form, fill it, press "Review"; if the server asks to
        confirm it is not an emergency, tick the box and press again.
        Returns (sent pairs, the review page)."""
        _, form = self.open_form(b, code, lang)
        sent = form.submit(fill)
        r = b.post("/report/%s" % code, sent)
        page = self.assertPage(r, 200, lang)
        again = [f for f in page.forms if f.action == "/report/%s" % code and
                 f.named("not_emergency")]
        if again:
            sent = again[0].submit(fill + [("not_emergency", "1")])
            r = b.post("/report/%s" % code, sent)
            page = self.assertPage(r, 200, lang)
        self.assertEqual(page.h1, [tr(lang, "Check your report")], r.describe())
        return sent, page

    def send(self, b, code, review):
        """Presses "Send the report" on a review page."""
        form = review.form("/report/%s" % code)
        return b.post("/report/%s" % code, form.submit(press=("step", "send")))

    def filed_id(self, r):
        self.assertEqual(r.status, 303, r.describe())
        loc = r.headers.get("Location")
        m = re.fullmatch(r"/requests/([1-9][0-9]*)\?filed=1", loc or "")
        self.assertIsNotNone(m, "Location %r" % loc)
        return m.group(1)


# ---------------------------------------------------------------------------
# 1, 2. Home, headers, the cookie
# ---------------------------------------------------------------------------

class WebHome(WebTest):
    def test_home_lists_every_service_by_group(self):
        """home: one h1, each service as /report/CODE under its group, search and lookup"""
        r = self.browser().get("/")
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Report a problem to the city"])
        hrefs = [h for h, _, _ in page.links]
        for s in self.cat.services:
            self.assertIn("/report/%s" % s["service_code"], hrefs, s["service_code"])
            self.assertIn(s["service_name"], [t for _, _, t in page.links])
        groups = {s["group"] for s in self.cat.services if s["group"]}
        h3 = [t for tag, t in page.headings if tag == "h3"]
        self.assertEqual(set(h3), groups, "one heading per group")
        self.assertEqual(len(h3), len(groups), "each group once")
        # Services sit under their own group's heading.
        everything = section(r.text, "all")
        for s in self.cat.services:
            before = everything.split('href="/report/%s"' % s["service_code"])[0]
            self.assertEqual(re.findall(r"<h3>([^<]*)</h3>", before)[-1],
                             esc(s["group"]), s["service_code"])
        search = page.form("/")
        self.assertEqual(search.method, "get")
        self.assertEqual([f.name for f in search.fields if f.name], ["q"])
        self.assertIn('role="search"', r.text)
        self.assertEqual(page.form("/requests").method, "get")
        self.assertIn(("/privacy", {"href": "/privacy"}, "Privacy policy"), page.links)

    def test_security_headers_on_pages_api_and_404(self):
        """CSP without unsafe-inline, nosniff, no-referrer, DENY, no HSTS: pages, API, 404"""
        b = self.browser()
        for r in (b.get("/"), b.get("/report/DOT-POTHOLE"), b.get("/privacy"),
                  b.get("/report/NOPE"), b.get("/nope"), b.get("/static/site.css"),
                  b.get("/lang/es"), b.request("DELETE", "/"),
                  self.c.get("services.json"), self.c.get("requests/0.json"),
                  self.c.get("discovery.xml")):
            self.assertSecurityHeaders(r)
        self.assertEqual(b.get("/nope").status, 404)
    def test_security_headers_on_refusals_of_the_http_layer(self):
        """a 413 for a form body over the limit still carries the CSP and X-Frame-Options"""
        r = raw_request(self.port, "POST", "/report/DOT-POTHOLE", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(64 * 1024 * 1024)})
        self.assertEqual(r.status, 413, r.describe())
        self.assertSecurityHeaders(r)

    def test_first_visit_gets_one_session_cookie(self):
        """one c311 cookie: HttpOnly, SameSite=Lax, Path=/; no Expires, Max-Age, Secure"""
        r = self.browser().get("/")
        cookies = set_cookies(r)
        self.assertEqual(len(cookies), 1, r.headers.get_all("Set-Cookie"))
        name, value, attrs = cookies[0]
        self.assertEqual(name, COOKIE)
        self.assertRegex(value, SID_RE)
        self.assertEqual(attrs, {"path": "/", "httponly": True, "samesite": "Lax"})
        self.assertNotEqual(self.browser().get("/").headers.get("Set-Cookie"),
                            r.headers.get("Set-Cookie"), "each visitor has an id of their own")

    def test_a_valid_cookie_is_kept(self):
        """a request carrying a valid cookie gets no new Set-Cookie, on pages and redirects"""
        b = self.browser()
        b.get("/")
        sid = b.cookie
        for path in ("/", "/report/DOT-POTHOLE", "/privacy", "/requests?id=1", "/report/NOPE",
                     "/lang/xx"):
            r = b.get(path)
            self.assertEqual(set_cookies(r), [], path)
        self.assertEqual(b.cookie, sid)

    def test_a_malformed_cookie_is_replaced_never_echoed(self):
        """wrong length, bad characters, a huge value: a new id, the old value nowhere"""
        good = self.browser()
        good.get("/")
        marker = canary("ck")
        for bad in ("short" + marker, marker + "!" * (43 - len(marker)),
                    (marker + "A" * 43)[:43][:-1] + "=", good.cookie + "A",
                    marker + "A" * 8000, marker + "A" * (43 - len(marker)) + "\\"):
            b = self.browser(cookie=bad)
            r = b.get("/")
            self.assertPage(r, 200)
            cookies = set_cookies(r)
            self.assertEqual(len(cookies), 1, "replaced: %r" % bad[:60])
            self.assertRegex(cookies[0][1], SID_RE)
            self.assertNoEcho(r, [marker, bad[:43]], "a page for cookie %r" % bad[:60])
        self.assertLogClean([marker])

    def test_the_site_is_named_once(self):
        """the title and the brand link name the site once, never '311 311'"""
        b = self.browser()
        for path in ("/", "/privacy", "/report/DOT-POTHOLE", "/report/NOPE"):
            r = b.get(path)
            title = re.search(r"<title>([^<]*)</title>", r.text).group(1)
            brand = re.search(r'<a class="brand" href="/">([^<]*)</a>', r.text).group(1)
            for what, text in (("title", title), ("brand", brand)):
                self.assertNotRegex(text, r"\b311 311\b", "%s of %s: %r" % (what, path, text))

    def test_head_answers_like_get_without_a_body(self):
        """HEAD / is 200 text/html with no body"""
        r = self.c.request("HEAD", "/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.ctype, HTML_CT)
        self.assertEqual(r.body, b"")
        self.assertSecurityHeaders(r)


# ---------------------------------------------------------------------------
# 3. Search
# ---------------------------------------------------------------------------

def oracle(services, q):
    """The services whose name, keywords, group or description hold every
    word of q, ignoring case (written apart from web_pages.c)."""
    words = q.lower().split()
    out = []
    for s in services:
        hay = " | ".join((s.get(k) or "") for k in ("service_name", "keywords", "group",
                                                       "description")).lower()
        if words and all(w in hay for w in words):
            out.append(s["service_code"])
    return out


class WebSearch(WebTest):
    def results(self, q, lang="en"):
        r = self.browser(accept_language=lang).get("/", params={"q": q})
        page = self.assertPage(r, 200, lang)
        found = section(r.text, "results")
        self.assertIsNotNone(found, "a results section for %r" % q)
        return r, page, found

    def test_words_are_anded_and_case_does_not_matter(self):
        """?q=pothole lists DOT-POTHOLE not DSNY-MISSED; POTHOLE the same; 'street light' ANDed"""
        _, _, found = self.results("pothole")
        self.assertEqual(report_links(found), oracle(self.cat.services, "pothole"))
        self.assertIn("DOT-POTHOLE", report_links(found))
        self.assertNotIn("DSNY-MISSED", report_links(found))
        for q in ("POTHOLE", "PotHole", "  pothole  "):
            self.assertEqual(report_links(self.results(q)[2]), report_links(found), q)
        for q in ("street light", "noise vehicle", "trash sidewalk", "water leak"):
            want = oracle(self.cat.services, q)
            self.assertTrue(want, "the oracle finds something for %r" % q)
            self.assertEqual(report_links(self.results(q)[2]), want, q)
        # Both words match on their own, never together: nothing.
        self.assertTrue(oracle(self.cat.services, "pothole") and
                        oracle(self.cat.services, "rodent"))
        _, _, found = self.results("pothole rodent")
        self.assertEqual(report_links(found), [])

    def test_no_match_says_so(self):
        """a query matching nothing says so and still lists every service below"""
        r, page, found = self.results("zzqx" + canary("q"))
        self.assertEqual(report_links(found), [])
        self.assertIn("No service matches these words", found)
        self.assertEqual(len(report_links(section(r.text, "all"))), len(self.cat.services))

    def test_hostile_queries_are_escaped_or_refused(self):
        """HTML in q is escaped in the search box, 10 KB too; bad escapes get the 400 page"""
        marker = canary("q")
        q = '"><script>alert(1)</script><img src=x onerror=alert(2)>' + marker
        r, page, _ = self.results(q)
        self.assertNotIn("<script>alert(1)", r.text)
        self.assertNotIn("<img src=x", r.text)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", r.text)
        self.assertEqual(page.form("/").value("q"), q, "the box holds the query as typed")
        big = ("<b>" + marker) * (10240 // (3 + len(marker)))
        r, page, found = self.results(big)
        self.assertNotIn("<b>" + marker, r.text)
        self.assertEqual(page.form("/").value("q"), big)
        self.assertEqual(report_links(found), [])
        for raw in ("q=%ZZ" + marker, "q=%FF%FE" + marker, "q=%", "q=%C3%28",
                    "q=a%00b" + marker):
            r = self.browser().get("/?" + raw)
            page = self.assertErrorPage(r, 400)
            self.assertIn("address is not valid", page.h1[0], raw)
            self.assertNoEcho(r, [marker], raw, switch=True)
        self.assertLogClean([marker])


# ---------------------------------------------------------------------------
# 4. Languages
# ---------------------------------------------------------------------------

class WebLanguages(WebTest):
    def test_accept_language_picks_the_page_language(self):
        """es and es-MX -> Spanish (lang, Content-Language, h1 from po/es.po); fr -> English"""
        for header, lang in (("es", "es"), ("es-MX", "es"), ("es-MX,es;q=0.9,en;q=0.5", "es"),
                             ("fr", "en"), ("fr-CA, en;q=0.1", "en"), ("en-US", "en"),
                             ("es;q=0, en", "en"), ("fr, es;q=0.3", "es"), ("*", "en"),
                             ("ES", "es"), ("es-419", "es"), ("en;q=0.5, es;q=0.6", "es"),
                             ("es;q=abc", "en"), ("es;q=0.000", "en"), (";;;,,", "en"),
                             ("x" * 4000, "en"), ("", "en")):
            r = self.browser(accept_language=header).get("/")
            page = self.assertPage(r, 200, lang)
            self.assertEqual(page.h1, [tr(lang, "Report a problem to the city")], header)
        page = self.assertPage(self.browser().get("/"), 200)
        name = tr("es", "LANGUAGE_NAME")
        switch = [(h, a) for h, a, t in page.links if t == (name if name != "LANGUAGE_NAME"
                                                             else "es")]
        self.assertEqual(len(switch), 1, "one link to Spanish: %r" % page.links)
        self.assertEqual(switch[0][0], "/lang/es?next=%2F")
        self.assertEqual((switch[0][1].get("lang"), switch[0][1].get("hreflang")), ("es", "es"))

    def test_the_switch_sets_the_cookie_and_goes_back(self):
        """/lang/es?next=/privacy: 303 /privacy, cookie SID~es; then Spanish pages"""
        b = self.browser()
        b.get("/")
        sid = b.cookie
        r = b.get("/lang/es", params={"next": "/privacy"})
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(r.headers.get("Location"), "/privacy")
        cookies = set_cookies(r)
        self.assertEqual(len(cookies), 1)
        name, value, attrs = cookies[0]
        self.assertEqual((name, value), (COOKIE, sid + "~es"), "same id, the language added")
        self.assertEqual(attrs, {"path": "/", "httponly": True, "samesite": "Lax"})
        page = self.assertPage(b.get("/privacy"), 200, "es")
        self.assertEqual(page.h1, [tr("es", "Privacy policy")])
        b.accept_language = "en"  # the choice wins over the browser's language
        self.assertPage(b.get("/"), 200, "es")
        self.assertEqual(set_cookies(b.get("/")), [], "the cookie is kept as it is")
        r = b.get("/lang/en", params={"next": "/"})
        self.assertEqual(r.headers.get("Location"), "/")
        self.assertEqual(b.cookie, sid + "~en")
        self.assertPage(b.get("/"), 200, "en")
        # Without a cookie yet: the switch makes one, with the language.
        r = self.browser().get("/lang/es?next=%2Freport%2FDOT-POTHOLE")
        self.assertEqual(r.headers.get("Location"), "/report/DOT-POTHOLE")
        (name, value, _), = set_cookies(r)
        self.assertRegex(value, r"^[A-Za-z0-9_-]{43}~es$")

    def test_next_is_only_ever_a_path_of_this_site(self):
        """next=//evil, https://evil, /\\evil, missing, CR LF -> Location /"""
        for nxt in ("//evil.example", "https://evil.example", "/\\evil.example",
                    "\\\\evil.example", "evil.example", "javascript:alert(1)", "",
                    "/\r\nSet-Cookie: x=1", "///evil.example"):
            r = self.browser().get("/lang/es", params={"next": nxt})
            self.assertEqual(r.status, 303, repr(nxt))
            self.assertEqual(r.headers.get("Location"), "/", repr(nxt))
            self.assertIsNone(r.headers.get("x"))
        r = self.browser().get("/lang/es")
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/"))
    def test_next_with_a_tab_cannot_leave_the_site(self):
        """next=/<TAB>/evil.example: a browser strips the tab, so it must not come back as is"""
        for nxt in ("/\t/evil.example", "/\t\\evil.example", "/\n/evil.example"):
            r = self.browser().get("/lang/es", params={"next": nxt})
            self.assertEqual(r.status, 303, repr(nxt))
            loc = r.headers.get("Location")
            # What a browser makes of it (WHATWG URL: tabs and newlines removed).
            seen = re.sub(r"[\t\n\r]", "", loc or "")
            self.assertFalse(seen.startswith("//") or seen.startswith("/\\"),
                             "next=%r gives Location %r: another site" % (nxt, loc))

    def test_an_unknown_language_leaves_english(self):
        """/lang/xx: 303 to next, no language in the cookie, pages stay English"""
        b = self.browser()
        r = b.get("/lang/xx?next=/privacy")
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/privacy"))
        self.assertRegex(b.cookie, SID_RE, "a plain session id, no ~xx")
        self.assertPage(b.get("/privacy"), 200, "en")
        for tag in ("ES", "es-MX", "e", "es~", "<b>"):
            r = self.browser().get("/lang/" + urllib.parse.quote(tag))
            self.assertEqual(r.status, 303, tag)
            for _, value, _ in set_cookies(r):
                self.assertNotIn("~", value, tag)

    def test_spanish_pages_and_a_spanish_emergency(self):
        """Spanish form and refusals speak Spanish; 'hay humo' gets the 911 notice"""
        b = self.browser(accept_language="es")
        page, form = self.open_form(b, "DOT-POTHOLE", "es")
        before = self.counts()
        r = self.submit(b, "DOT-POTHOLE", form, self.fill(
            "DOT-POTHOLE", description="hay humo en el edificio de al lado"))
        page = self.assertPage(r, 200, "es")
        self.assertTrue(page.alerts(), "the 911 notice")
        self.assertTrue(page.form("/report/DOT-POTHOLE").named("not_emergency"))
        self.assertNothingStored(before, "a Spanish emergency")
        page = self.assertErrorPage(b.get("/report/NOPE"), 404, "es")
        self.assertEqual(page.h1, [tr("es", "Service not found")])


# ---------------------------------------------------------------------------
# 5. The report form of every service
# ---------------------------------------------------------------------------

class WebForms(WebTest):
    def assertQuestion(self, body, form, code, a):
        name = "attribute[%s]" % a["code"]
        if not a["variable"]:
            self.assertEqual(form.named(name) + form.named(name + "[]"), [],
                             "%s %s is information only" % (code, a["code"]))
            self.assertIn(esc(a["description"]), body)
            return
        kind = a["datatype"]
        if kind == "multivaluelist":
            name += "[]"
        fields = form.named(name)
        self.assertTrue(fields, "%s: no field %s" % (code, name))
        types = {f.type for f in fields}
        if kind in ("singlevaluelist", "multivaluelist"):
            self.assertEqual(types, {"radio" if kind == "singlevaluelist" else "checkbox"},
                             "%s %s" % (code, name))
            self.assertEqual([f.value for f in fields], [v["key"] for v in a["values"]])
            other = name[:-2] if kind == "multivaluelist" else name + "[]"
            self.assertEqual(form.named(other), [], "%s: one name per question" % code)
        else:
            self.assertEqual(len(fields), 1, "%s %s" % (code, name))
            want = {"text": "textarea", "string": "text", "number": "text",
                    "datetime": "datetime-local"}[kind]
            self.assertEqual(fields[0].type, want, "%s %s" % (code, name))
        if a["required"]:
            if kind == "multivaluelist":  # HTML cannot require one of several boxes
                fs = re.search(r"<fieldset class=\"field\"><legend>[^<]*<span class=\"req\">"
                               r"[^<]*</span></legend>(?:<p[^>]*>[^<]*</p>)?<div class=\"choice\">"
                               r"<input type=\"checkbox\"[^>]*name=\"%s\"" %
                               re.escape(esc(name)), body)
                self.assertIsNotNone(fs, "%s: %s marked required" % (code, name))
            else:
                self.assertTrue(any(f.required for f in fields), "%s: %s required" % (code, name))
        else:
            self.assertFalse(any(f.required for f in fields), "%s: %s optional" % (code, name))

    def test_every_service_has_its_form(self):
        """every demo service: csrf, location, description, contact, one field per question"""
        b = self.browser()
        csrf = set()
        for s in self.cat.services:
            code = s["service_code"]
            r = b.get("/report/%s" % code)
            page = self.assertPage(r, 200)
            self.assertEqual(page.h1, [s["service_name"]])
            form = page.form("/report/%s" % code)
            self.assertEqual(form.method, "post")
            tokens = form.named("csrf")
            self.assertEqual(len(tokens), 1)
            self.assertEqual(tokens[0].type, "hidden")
            self.assertRegex(tokens[0].value, CSRF_RE)
            csrf.add(tokens[0].value)
            want = {"address_string": ("text", True), "first_name": ("text", False),
                    "last_name": ("text", False), "email": ("email", False),
                    "phone": ("tel", False), "description": ("textarea", False),
                    "lat": ("text", False), "long": ("text", False)}
            for name, (kind, required) in want.items():
                fs = form.named(name)
                self.assertEqual(len(fs), 1, "%s: %s" % (code, name))
                self.assertEqual((fs[0].type, fs[0].required, fs[0].value),
                                 (kind, required, ""), "%s: %s" % (code, name))
            # Every field is labelled.
            for f in form.fields:
                if f.type not in ("hidden", "submit") and f.attrs.get("id"):
                    self.assertIn('<label for="%s">' % f.attrs["id"], r.text, f)
            for a in self.cat.attrs(code):
                self.assertQuestion(r.text, form, code, a)
            names = {f.name for f in form.fields if f.name}
            photo = form.named("photo")
            self.assertEqual([(f.type, f.attrs.get("accept")) for f in photo],
                             [("file", "image/jpeg,image/png,image/webp")], code)
            self.assertEqual(page.forms[[f.action for f in page.forms].index(
                "/report/%s" % code)].enctype, "multipart/form-data", code)
            # W6: "email me when this request changes", unticked (test_notify.py)
            self.assertEqual([(f.type, f.value, f.checked) for f in form.named("notify")],
                             [("checkbox", "1", False)], code)
            expected = set(want) | {"csrf", "step", "photo", "notify"} | (
                {"not_emergency"} if code in EMERGENCY_SERVICES else set()) | {
                "attribute[%s]%s" % (a["code"], "[]" if a["datatype"] == "multivaluelist"
                                     else "") for a in self.cat.attrs(code) if a["variable"]}
            self.assertEqual(names, expected, code)
            self.assertEqual(form.value("step"), "review")
        self.assertEqual(len(csrf), 1, "one token per session")
        other = self.browser()
        _, form = self.open_form(other, "DOT-POTHOLE")
        self.assertNotIn(form.value("csrf"), csrf, "another session, another token")

    def test_an_emergency_service_shows_the_911_notice(self):
        """DEP-GAS (an emergency service) shows role=alert with tel:911; DOT-POTHOLE does not"""
        b = self.browser()
        page, _ = self.open_form(b, "DEP-GAS")
        self.assertEqual(len(page.alerts()), 1, page.roles)
        self.assertIn("911", page.alerts()[0])
        self.assertIn('href="tel:911"', section_of_alert(b.get("/report/DEP-GAS").text))
        page, _ = self.open_form(b, "DOT-POTHOLE")
        self.assertEqual(page.alerts(), [], "no 911 notice on a pothole")

    def test_unknown_services_get_the_404_page(self):
        """unknown code, encoded slash, 300 characters, bad escapes, empty: the 404 page"""
        b = self.browser()
        for code in ("NOPE", "A%2FB", "DOT-POTHOLE%2F", "A" * 300, "%", "%zz", "DOT%00X",
                     "dot-pothole", "", "DOT-POTHOLE/x", "%3Cscript%3E"):
            for r in (b.get("/report/%s" % code), b.post("/report/%s" % code, [])):
                page = self.assertErrorPage(r, 404)
                self.assertEqual(page.h1, ["Service not found"], code)
                self.assertNotIn("<script>", r.text)
        # An escaped code of the catalog is the service itself.
        self.assertPage(b.get("/report/DOT%2DPOTHOLE"), 200)


def section_of_alert(body):
    m = re.search(r'<div class="[^"]*" role="alert">(.*?)</div>', body, re.S)
    return m.group(1) if m else ""


# ---------------------------------------------------------------------------
# 6. Filing, as a browser does it
# ---------------------------------------------------------------------------

class WebFiling(WebTest):
    def test_review_send_and_the_stored_request(self):
        """review (nothing stored), send: 303 /requests/N?filed=1; channel web, contact sealed"""
        code = "DOT-POTHOLE"
        b = self.browser()
        p = contact()
        desc = "Deep hole, <b>\"dangerous\"</b> & wide\r\nsecond line " + canary("public")
        fill = self.fill(code, p, desc, everything=True, address="5th Ave & W 14th St")
        before = self.counts()
        sent, review = self.to_review(b, code, fill)
        self.assertNothingStored(before, "the review page")
        dd = review.text
        for k, v in fill:
            if not k.startswith("attribute["):
                self.assertIn(v.replace("\r\n", "\n").split("\n")[0], dd, k)
        for a in self.cat.attrs(code):
            if a["variable"] and a["values"]:
                self.assertIn(a["values"][0]["name"], dd)
        # The review carries every value in hidden fields, nothing else (the
        # service is the page's, so it is not one of them).
        form = review.form("/report/%s" % code)
        # ... and the key of its "Send" (pressed twice, it files once).
        self.assertEqual(sorted(kv for kv in form.hidden() if kv[0] != "send_key"), sorted(
            [kv for kv in sent if kv[0] not in ("step",)]))
        self.assertRegex(form.value("send_key"), r"^[0-9a-f]{32}$")
        self.assertEqual([(f.name, f.value) for f in form.fields if f.type == "submit"],
                         [("step", "send"), ("step", "edit")])

        r = self.send(b, code, review)
        rid = self.filed_id(r)
        self.assertNoEcho(r, marks(p), "the 303")
        page = self.assertPage(b.get(r.headers["Location"]), 200)
        self.assertEqual(page.h1, ["Request %s" % rid])
        self.assertIn("Pothole", page.text)
        self.assertIn(rid, [t for tag, role, t in page.roles if role == "status"][0])
        self.assertIn(desc.replace("\r\n", "\n"), page.text.replace("\r\n", "\n"))
        page_resp = b.get("/requests/%s" % rid)
        self.assertPage(page_resp, 200)
        self.assertNotIn("Thank you", page_resp.text, "the notice only after filing")

        (channel, svc, address, description, key, pending), = self.inst.query(
            "SELECT channel, service_code, address, description, api_key_id, pending "
            "FROM request WHERE id = ?", (int(rid),))
        self.assertEqual((channel, svc, address, description, key, pending),
                         ("web", code, "5th Ave & W 14th St", desc, None, 0))
        answers = self.inst.query("SELECT code, value FROM request_answer WHERE request_id = ? "
                                  "ORDER BY position", (int(rid),))
        self.assertEqual(answers, [(k[len("attribute["):-1], v) for k, v in fill
                                   if k.startswith("attribute[")])
        api = self.get_request(rid, extensions="true")
        self.assertEqual(api["extended_attributes"]["channel"], "web")
        self.assertEqual(api["description"], desc)
        rows = self.inst.query("SELECT data_class, fields FROM personal_field WHERE "
                               "request_id = ?", (int(rid),))
        self.assertEqual(rows, [("contact", ",".join(CONTACT))])
        self.assertEqual(sorted(k for (k,) in self.inst.query(
            "SELECT kind FROM blind_index WHERE request_id = ?", (int(rid),))),
            ["email", "phone"])
        collect = [json.loads(x) for (x,) in self.inst.query(
            "SELECT body FROM audit_entry WHERE request_id = ?", (int(rid),))]
        self.assertEqual([(e["action"], e["fields"]) for e in collect],
                         [("collect", ",".join(CONTACT))])
        after = self.counts()
        self.assertEqual(after["request"], before["request"] + 1)
        for resp in (r, page_resp, b.get("/requests/%s?filed=1" % rid)):
            self.assertNoEcho(resp, marks(p), "a page after filing")
        self.assertEqual(hits(db_files(self.inst.data), marks(p)), [],
                         "contact details in plaintext in the store")
        self.assertLogClean(marks(p) + [desc.split()[-1]])

    def test_edit_shows_every_value_again_for_every_service(self):
        """every service, every question: review, then 'Change something' refills the form"""
        before = self.counts()
        b = self.browser()
        for s in self.cat.services:
            code = s["service_code"]
            p = contact()
            fill = self.fill(code, p, "Line one\r\nline <two> & \"three\"", everything=True)
            sent, review = self.to_review(b, code, fill)
            r = b.post("/report/%s" % code,
                       review.form("/report/%s" % code).submit(press=("step", "edit")))
            page = self.assertPage(r, 200)
            form = page.form("/report/%s" % code)
            for k, v in sent:
                if k in ("csrf", "step", "not_emergency"):  # the box is asked again
                    continue
                got = form.value(k)
                if isinstance(got, list):
                    self.assertIn(v, got, "%s: %s not ticked again" % (code, k))
                else:
                    self.assertEqual(got, v, "%s: %s" % (code, k))
            ticked = {k for k, _ in form.submit() if k.startswith("attribute[")}
            self.assertEqual(ticked, {k for k, _ in sent if k.startswith("attribute[")}, code)
        self.assertNothingStored(before, "review and edit")
    def test_only_the_forms_fields_are_filed(self):
        """a body with account_id, device_id, media_url: refused, or filed without them"""
        code = "DOT-POTHOLE"
        b = self.browser()
        p = contact()
        account, device = canary("account"), canary("device")
        _, form = self.open_form(b, code)
        sent = form.submit(self.fill(code, p)) + [
            ("account_id", account), ("device_id", device),
            ("media_url", "https://evil.example/%s.jpg" % canary("media"))]
        before = self.counts()
        r = b.post("/report/%s" % code, [(k, "send" if k == "step" else v) for k, v in sent])
        if r.status in (400, 403):
            self.assertNothingStored(before, "a body with fields the form has not")
            return
        rid = int(self.filed_id(r))
        (media,), = self.inst.query("SELECT media_url FROM request WHERE id = ?", (rid,))
        classes = [c for (c,) in self.inst.query(
            "SELECT data_class FROM personal_field WHERE request_id = ?", (rid,))]
        self.assertEqual((classes, media), (["contact"], None),
                         "filed from fields the form does not have")

    def file_without_number(self, code, note):
        b = self.browser()
        p = contact()
        before = self.counts()
        _, review = self.to_review(b, code, self.fill(code, p))
        r = self.send(b, code, review)
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Your report was received"])
        self.assertIsNone(r.headers.get("Location"))
        self.assertEqual([t for _, role, t in page.roles if role == "status"][0].count(note), 1)
        self.assertNotIn("/requests/", r.text.replace('href="/requests"', ""))
        self.assertNoEcho(r, marks(p), code)
        after = self.counts()
        self.assertEqual(after["request"], before["request"] + 1, code)
        (rid, channel, token), = self.inst.query(
            "SELECT id, channel, token FROM request ORDER BY id DESC LIMIT 1")
        self.assertEqual(channel, "web")
        self.assertEqual(self.inst.query("SELECT data_class FROM personal_field WHERE "
                                         "request_id = ?", (rid,)), [("contact",)])
        self.assertNotRegex(r.text, r"/requests/\d|srnum", "no request number")
        self.assertLogClean(marks(p))
        return rid, token

    def test_batch_services_confirm_without_a_number(self):
        """DOT-SIDEWALK and DSNY-BULK: 200 'received', a token stored, no request number shown"""
        for code in ("DOT-SIDEWALK", "DSNY-BULK"):
            self.assertEqual(self.cat.by_code[code]["type"], "batch")
            _, token = self.file_without_number(code, "request number shortly")
            self.assertRegex(token or "", o311.TOKEN_RE, code)

    def test_a_blackbox_service_confirms_without_a_number(self):
        """DEP-GAS (blackbox, emergency): the notice, not_emergency=1, then 200 'forwarded'"""
        self.assertEqual(self.cat.by_code["DEP-GAS"]["type"], "blackbox")
        b = self.browser()
        page, form = self.open_form(b, "DEP-GAS")
        before = self.counts()
        fill = self.fill("DEP-GAS")
        r = self.submit(b, "DEP-GAS", form, fill)
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Gas Smell (Outdoors)"], "the form again, not the review")
        box = page.form("/report/DEP-GAS").named("not_emergency")
        self.assertEqual([(f.type, f.value, f.required) for f in box], [("checkbox", "1", True)])
        self.assertNothingStored(before, "an emergency service without the box ticked")
        self.file_without_number("DEP-GAS", "forwarded")


# ---------------------------------------------------------------------------
# 7, 8. Refusals and the 911 notice
# ---------------------------------------------------------------------------

class WebRefusals(WebTest):
    CODE = "DOT-POTHOLE"

    def refused(self, status, pairs=None, b=None, raw=None, ctype=None, h1=None, kept=True,
                what=""):
        """Posts a report (pairs, or raw bytes with ctype) and checks the
        refusal: status, the form again (filled in if kept), an alert,
        nothing stored, nothing logged. Returns the page."""
        b = b or self.ready
        before = self.counts()
        path = "/report/%s" % self.CODE
        if raw is not None:
            r = b.request("POST", path, body=raw, ctype=ctype)
        else:
            r = b.post(path, pairs)
        page = self.assertPage(r, status)
        self.assertEqual(page.h1, [h1 or self.cat.by_code[self.CODE]["service_name"]], what)
        self.assertTrue(page.alerts(), "%s: an alert says what is wrong" % what)
        form = page.form(path)
        self.assertRegex(form.value("csrf"), CSRF_RE)
        if kept and pairs:
            self.assertEqual(form.value("description"), dict(pairs).get("description"), what)
            self.assertEqual(form.value("email"), dict(pairs).get("email", ""), what)
        self.assertNothingStored(before, what)
        self.assertLogClean(self.secrets)
        return page, r

    def setUp(self):
        super().setUp()
        self.ready = self.browser()
        _, self.form = self.open_form(self.ready, self.CODE)
        self.p = contact()
        self.desc = '<b>"typed"</b> & kept ' + canary("desc")
        self.secrets = marks(self.p) + [self.desc.split()[-1]]

    def valid(self, drop=(), extra=(), **changes):
        fill = [(k, changes.get(k, v)) for k, v in
                self.fill(self.CODE, self.p, self.desc) if k not in drop]
        return self.form.submit(fill) + list(extra)

    def test_csrf_refusals_keep_the_form_and_store_nothing(self):
        """no cookie, no token, a wrong token, the token twice, another session's: 403, filled in"""
        good = self.valid()
        token = dict(good)["csrf"]
        no_cookie = self.browser()
        page, r = self.refused(403, good, b=no_cookie, what="no cookie")
        self.assertIsNotNone(no_cookie.cookie, "a new session for the next try")
        self.assertIn(">%s</textarea>" % esc(self.desc), r.text)
        other = self.browser()
        self.open_form(other, self.CODE)
        for what, pairs, b in (
                ("no token", [kv for kv in good if kv[0] != "csrf"], None),
                ("wrong token", [(k, "0" * 64 if k == "csrf" else v) for k, v in good], None),
                ("upper-case token", [(k, v.upper() if k == "csrf" else v) for k, v in good],
                 None),
                ("short token", [(k, v[:63] if k == "csrf" else v) for k, v in good], None),
                ("token twice", good + [("csrf", token)], None),
                ("another session's token", good, other)):
            self.refused(403, pairs, b=b, what=what)
        # ... and the same token with its own cookie is accepted (the review page).
        self.assertPage(self.ready.post("/report/%s" % self.CODE, good), 200)

    def test_bad_input_shows_the_form_again_with_the_problem(self):
        """no address, a bad number or list key, 4001 characters, a bad email: 400, kept"""
        num = self.cat.attr_of(self.CODE, "number")["code"]
        lst = self.cat.attr_of(self.CODE, "singlevaluelist", required=True)["code"]
        cases = [
            ("no address", self.valid(drop=("address_string",)), "address_string"),
            ("a 501-character address", self.valid(address_string="a" * 501), "address_string"),
            ("a bad number", self.valid(extra=[("attribute[%s]" % num, "12abc")]), num),
            ("an exponent", self.valid(extra=[("attribute[%s]" % num, "1e3")]), num),
            ("a key not in the list", [(k, "NOPE" if k == "attribute[%s]" % lst else v)
                                       for k, v in self.valid()], lst),
            ("no answer to a required question",
             [kv for kv in self.valid() if kv[0] != "attribute[%s]" % lst], lst),
            ("4001 characters", self.valid(description=self.desc + "x" * (4001 - len(
                self.desc))), "description"),
            ("a bad email", self.valid(email="not-an-email " + self.p["email"]), "email"),
            ("a bad phone", self.valid(phone="call " + self.p["first_name"]), "phone"),
            ("a line break in a name", self.valid(first_name=self.p["first_name"] + "\nx"),
             "first_name"),
            ("send with a bad number", [(k, "send" if k == "step" else v) for k, v in
                                        self.valid(extra=[("attribute[%s]" % num, "x")])], num),
        ]
        for what, pairs, field in cases:
            page, r = self.refused(400, pairs, what=what)
            problem = [t for t in page.alerts() if "Please check the form" in t]
            self.assertEqual(len(problem), 1, what)
            # Said as the form asks it, not in the API's words ...
            for api_word in ("attribute[", "address_string", "lat and long", "first_name"):
                self.assertNotIn(api_word, problem[0], what)
            # ... and the field at fault is marked for assistive technology.
            name = field if field in ("address_string", "description", "email", "phone",
                                      "first_name") else "attribute[%s]" % field
            marked = page.form("/report/%s" % self.CODE).named(name)
            self.assertTrue(marked, what)
            for f in marked:
                self.assertEqual(f.attrs.get("aria-invalid"), "true", (what, name))
                self.assertIn("problem", (f.attrs.get("aria-describedby") or "").split(),
                              (what, name))
            self.assertNoEcho(r, [], what)

    def test_unreadable_bodies_are_refused(self):
        """invalid UTF-8, text/plain, a cut multipart, JSON, no Content-Type: 400, nothing stored"""
        body = "&".join("%s=%s" % (urllib.parse.quote_plus(k), urllib.parse.quote_plus(v))
                        for k, v in self.valid())
        form_ct = "application/x-www-form-urlencoded"
        boundary = "b0undary"
        # No closing delimiter: the body was cut (a dropped connection).
        multipart = "".join('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' %
                            (boundary, k, v) for k, v in self.valid())
        for what, raw, ctype in (
                ("invalid UTF-8", (body + "&x=%FF%FE").encode(), form_ct),
                ("invalid UTF-8 in the description",
                 body.replace("desc", "d%C3%28esc", 1).encode(), form_ct),
                ("a bad escape", (body + "&x=%G1").encode(), form_ct),
                ("a NUL byte", (body + "&x=a%00b").encode(), form_ct),
                ("text/plain", body.encode(), "text/plain"),
                ("a cut multipart", multipart.encode(),
                 "multipart/form-data; boundary=" + boundary),
                ("JSON", json.dumps(dict(self.valid())).encode(), "application/json"),
                ("no Content-Type", body.encode(), False),
                ("too many pairs", (body + "".join("&x%d=1" % i for i in range(250))).encode(),
                 form_ct)):
            page, r = self.refused(400, raw=raw, ctype=ctype, kept=False, what=what)
            form = page.form("/report/%s" % self.CODE)
            self.assertEqual(form.value("description"), "", "%s: nothing was read" % what)
            self.assertIn("The form could not be read", " ".join(page.alerts()), what)
            self.assertNoEcho(r, self.secrets, what)

    def test_an_unknown_step_reviews_and_fields_the_form_lacks_are_refused(self):
        """step=bogus reviews; service_code, account_id, media_url, address_id or an unknown
        question in the body: 400, the form again without them; nothing stored"""
        before = self.counts()
        for step in ("bogus", "", "SEND", "send "):
            pairs = [(k, step if k == "step" else v) for k, v in self.valid()]
            page = self.assertPage(self.ready.post("/report/%s" % self.CODE, pairs), 200)
            self.assertEqual(page.h1, ["Check your report"], repr(step))
        for extra in (("service_code", "DSNY-MISSED"), ("account_id", "acct-zq1"),
                      ("device_id", "dev-zq1"), ("media_url", "https://example.org/zq.jpg"),
                      ("address_id", "addr-zq1"), ("attribute[NOPE]", "nope-zq1")):
            pairs = self.valid(extra=[extra])
            page = self.assertPage(self.ready.post("/report/%s" % self.CODE, pairs), 400)
            self.assertTrue([t for t in page.alerts() if "Please check the form" in t], extra)
            self.assertFalse(page.form("/report/%s" % self.CODE).named(extra[0]), extra)
            self.assertNotIn(extra[1], page.text, extra)
        self.assertNothingStored(before, "review pages and refusals")
        self.assertLogClean(self.secrets)

    def test_limits_count_characters_and_a_charset_is_read(self):
        """4000 'é' (8000 bytes) pass, 4001 do not; a form type with ;charset=UTF-8 is read"""
        path = "/report/%s" % self.CODE
        before = self.counts()
        page = self.assertPage(self.ready.post(path, self.valid(description="é" * 4000)), 200)
        self.assertEqual(page.h1, ["Check your report"])
        self.refused(400, self.valid(description="é" * 4001), what="4001 characters")
        body = urllib.parse.urlencode(self.valid()).encode()
        for ctype in ("application/x-www-form-urlencoded; charset=UTF-8",
                      "Application/X-WWW-Form-Urlencoded"):
            r = self.ready.request("POST", path, body=body, ctype=ctype)
            self.assertEqual(self.assertPage(r, 200).h1, ["Check your report"], ctype)
        self.assertNothingStored(before, "review pages")

    def test_an_emergency_description_asks_first(self):
        """'smoke and fire...': the form again, 911 alert, a required box; ticked: review"""
        before = self.counts()
        pairs = self.valid(description=SMOKE + " " + canary("desc"))
        for step in ("review", "send"):
            r = self.ready.post("/report/%s" % self.CODE,
                                [(k, step if k == "step" else v) for k, v in pairs])
            page = self.assertPage(r, 200)
            self.assertEqual(page.h1, ["Pothole"], step)
            self.assertEqual(len(page.alerts()), 1, page.roles)
            self.assertIn("911", page.alerts()[0])
            form = page.form("/report/%s" % self.CODE)
            box = form.named("not_emergency")
            self.assertEqual([(f.type, f.value, f.required, f.checked) for f in box],
                             [("checkbox", "1", True, False)])
            self.assertEqual(form.value("description"), dict(pairs)["description"])
            self.assertNothingStored(before, "an emergency (step=%s)" % step)
        r = self.ready.post("/report/%s" % self.CODE, form.submit([("not_emergency", "1")]))
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Check your report"])
        self.assertIn(("not_emergency", "1"), page.form("/report/%s" % self.CODE).hidden())
        self.assertNothingStored(before, "the review of a confirmed report")
        for words in ("Smoke is pouring out", "FIRE!", "someone is injured", "I smell gas"):
            r = self.ready.post("/report/%s" % self.CODE, self.valid(description=words))
            self.assertEqual(len(self.assertPage(r, 200).alerts()), 1, words)


# ---------------------------------------------------------------------------
# 9. Request pages and the lookup
# ---------------------------------------------------------------------------

class WebRequests(WebTest):
    def test_lookup(self):
        """/requests: the form; ?id=12 -> 303 /requests/12; ?id=abc -> 400 with role=alert"""
        b = self.browser()
        page = self.assertPage(b.get("/requests"), 200)
        self.assertEqual(page.alerts(), [])
        self.assertEqual(page.form("/requests").method, "get")
        r = b.get("/requests?id=12")
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/requests/12"))
        marker = canary("id")
        for bad in ("abc", "", "0", "-1", "1.5", "12abc", "9" * 19, marker, "<b>1</b>"):
            r = b.get("/requests", params={"id": bad})
            page = self.assertPage(r, 400)
            self.assertEqual(len(page.alerts()), 1, bad)
            self.assertNoEcho(r, [marker, "<b>1</b>"], "the lookup of %r" % bad, switch=True)

    def test_unknown_requests_are_404(self):
        """/requests/0, -1, 99999999999, abc, 19 digits, empty: the 404 page"""
        b = self.browser()
        for rid in ("0", "-1", "99999999999", "abc", "1" * 19, "", "1%2F2", "%31"):
            page = self.assertErrorPage(b.get("/requests/%s" % rid), 404)
            self.assertEqual(page.h1, ["Request not found"], rid)
    def test_paths_that_only_start_like_a_page_are_404(self):
        """GET /requestsfoo and /requests.json are not pages: 404, not 405"""
        for path in ("/requestsfoo", "/requests.json", "/requests-x"):
            r = self.browser().get(path)
            self.assertEqual(r.status, 404, r.describe())

    def test_a_request_page_escapes_and_shows_no_contact(self):
        """an Open311 request with <script> and quotes: escaped; history, notes; no contact"""
        p = person()
        marker = canary("public")
        desc = HOSTILE + " " + marker
        rid = self.create("DOT-POTHOLE", extra=list(p.items()) + [("description", desc),
                                                                   ("address_string",
                                                                    "<i>Main</i> St")])
        b = self.browser()
        r = b.get("/requests/%s" % rid)
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Request %s" % rid])
        self.assertNotIn("<script>alert(1)", r.text)
        self.assertNotIn("<i>Main</i>", r.text)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", r.text)
        self.assertIn(desc, page.text)
        self.assertIn("<i>Main</i> St", page.text)
        self.assertIn("Pothole", page.text)
        api = self.get_request(rid)
        self.assertIn(api["requested_datetime"], page.times)
        tm = time.gmtime(o311.parse_dt(api["requested_datetime"]))  # in UTC, for people
        self.assertIn("%d %s, %02d:%02d UTC" % (tm.tm_mday, time.strftime("%b %Y", tm),
                                                tm.tm_hour, tm.tm_min), page.text)
        history = re.search(r'<ol class="history">(.*?)</ol>', r.text, re.S).group(1)
        self.assertEqual(history.count("<li>"), 1, history)
        self.assertIn("Received", history)
        self.assertNoEcho(r, marks(p), "the request page")

        internal, public = canary("internal"), "<u>Crew</u> sent " + canary("note")
        self.inst.update_request(rid, "in_progress", note=internal, internal=True)
        self.inst.update_request(rid, "closed", "fixed", note=public)
        r = b.get("/requests/%s" % rid)
        page = self.assertPage(r, 200)
        history = re.search(r'<ol class="history">(.*?)</ol>', r.text, re.S).group(1)
        self.assertEqual(history.count("<li>"), 3, history)
        self.assertIn("The problem was fixed.", page.text)
        self.assertIn(public, page.text)
        self.assertNotIn("<u>Crew</u>", r.text)
        self.assertNoEcho(r, [internal] + marks(p), "the request page after updates")
        for path in ("/requests/%s?filed=1" % rid, "/requests?id=%s" % rid):
            self.assertNoEcho(b.get(path), marks(p), path)


# ---------------------------------------------------------------------------
# 10-12. Privacy policy, exit notice, methods, the stylesheet
# ---------------------------------------------------------------------------

def privacy_items(body):
    """{what: period} from the privacy page's list of retention periods."""
    ul = re.search(r"<ul>(.*?)</ul>", body.split("<h1>")[1], re.S).group(1)
    items = re.findall(r"<li>([^<]*)</li>", ul)
    return {k: v for k, _, v in (html.unescape(i).partition(": ") for i in items)}


class WebPages(WebTest):
    def test_privacy_page_states_the_configured_periods(self):
        """the privacy page: last-updated <time>, 90 days (contact), 14 days (recordings)"""
        r = self.browser().get("/privacy")
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Privacy policy"])
        m = re.search(r'<time datetime="(\d{4}-\d\d-\d\d)">', r.text)
        self.assertIsNotNone(m, "a <time datetime=YYYY-MM-DD>")
        self.assertIn(m.group(1), page.times)
        items = privacy_items(r.text)
        self.assertEqual(items["Your contact details on a request"],
                         "90 days after the request is closed, then erased")
        self.assertEqual(items["Call recordings"], "14 days after it is collected, then erased")
        self.assertEqual(items["Device data (app or browser)"],
                         "30 days after it is collected, then erased")
        self.assertIn("one cookie", page.text)

    def test_exit_notice(self):
        """/leaving?to=https://...: the address escaped, OK (noopener noreferrer) and Cancel"""
        b = self.browser()
        for to in ("https://example.org/a?b=1", "https://example.org/a?b=1&c=2#x",
                   "http://example.org/it's", "https://example.org/caf%C3%A9"):
            r = b.get("/leaving", params={"to": to})
            page = self.assertPage(r, 200)
            self.assertEqual(page.h1, ["You are leaving the official site"])
            ok = [a for h, a, t in page.links if h == to]
            self.assertEqual(len(ok), 1, page.links)
            self.assertEqual(ok[0].get("rel"), "noopener noreferrer")
            self.assertIn('href="%s"' % esc(to), r.text, "the address escaped in the link")
            self.assertIn(">%s<" % esc(to), r.text, "the address shown, escaped")
            self.assertIn(to, page.text)
            self.assertIn(("/", {"class": "button secondary", "href": "/"}, "Cancel"),
                          page.links)

    def test_exit_notice_refuses_what_is_not_a_web_address(self):
        """javascript:, data:, //evil, missing, a quote, <, a space, too long: the 400 page"""
        marker = canary("to")
        b = self.browser()
        for to in ("javascript:alert(1)//" + marker, "data:text/html,<b>" + marker,
                   "//evil.example/" + marker, None, "", "https://example.org/\"" + marker,
                   "https://example.org/<" + marker, "https://exa mple.org/" + marker,
                   "ftp://example.org/" + marker, " https://example.org/" + marker,
                   "https://example.org/" + "a" * 2100 + marker, "JAVASCRIPT:alert(1)"):
            r = b.get("/leaving", params=None if to is None else {"to": to})
            page = self.assertErrorPage(r, 400)
            self.assertEqual(page.h1, ["This link is not valid"], to)
            self.assertNotIn("noopener", r.text)
            self.assertNoEcho(r, [marker], "the exit notice for %r" % to, switch=True)
        self.assertLogClean([marker])

    def test_methods(self):
        """DELETE / 405 Allow GET, HEAD; PUT /report/X 405 with POST allowed; nothing stored"""
        before = self.counts()
        b = self.browser()
        for method, path, allow in (("DELETE", "/", "GET, HEAD"), ("POST", "/", "GET, HEAD"),
                                    ("PUT", "/report/DOT-POTHOLE", "GET, HEAD, POST"),
                                    ("DELETE", "/report/DOT-POTHOLE", "GET, HEAD, POST"),
                                    ("POST", "/privacy", "GET, HEAD"),
                                    ("POST", "/requests/1", "GET, HEAD"),
                                    ("POST", "/lang/es", "GET, HEAD"),
                                    ("POST", "/static/site.css", "GET, HEAD"),
                                    ("PATCH", "/leaving", "GET, HEAD")):
            r = b.request(method, path, body=b"a=1", ctype="application/x-www-form-urlencoded")
            self.assertErrorPage(r, 405)
            self.assertEqual(r.headers.get("Allow"), allow, "%s %s" % (method, path))
            self.assertIsNone(r.headers.get("Location"))
        self.assertNothingStored(before, "405 answers")

    def test_access_log_names_the_web_routes(self):
        """every web route is logged by its name (test_privacy.ROUTES), never a path or query"""
        marker = canary("route")
        b = self.browser()
        for method, path in (("GET", "/static/site.css"), ("GET", "/lang/es?next=/" + marker),
                             ("GET", "/report/" + marker), ("POST", "/report/DOT-POTHOLE"),
                             ("GET", "/requests?id=" + marker), ("GET", "/requests/" + marker),
                             ("GET", "/privacy"), ("GET", "/leaving?to=" + marker),
                             ("GET", "/?q=%ZZ" + marker), ("DELETE", "/" + "?" + marker),
                             ("GET", "/?q=" + marker)):
            b.request(method, path, body=b"" if method == "POST" else None,
                      ctype="application/x-www-form-urlencoded" if method == "POST" else None)
        lines = [l for l in self.sh.server.read_log().splitlines() if " access: " in l]
        routes = set()
        for l in lines:
            m = ACCESS_RE.search(l)
            self.assertIsNotNone(m, "access line not in the expected shape: %r" % l)
            self.assertIn(m.group(1), ROUTES, "access line names no known route: %r" % l)
            routes.add(m.group(1))
            self.assertNotIn(marker, l)
        web = {"GET /static", "GET /lang", "GET /report/{code}", "POST /report/{code}",
               "GET /requests", "GET /requests/{id}", "GET /privacy", "GET /leaving",
               "web bad query", "web method not allowed", "GET /"}
        self.assertEqual(web - routes, set(), "routes never logged")
        self.assertLogClean([marker])

    def test_the_stylesheet(self):
        """/static/site.css: 200 text/css, cached; /static/../x and /static/nope: 404"""
        r = self.browser().get("/static/site.css")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.ctype, "text/css; charset=utf-8")
        m = re.search(r"(?:^|,)\s*max-age=(\d+)", r.headers.get("Cache-Control") or "")
        self.assertIsNotNone(m, r.headers.get("Cache-Control"))
        self.assertGreater(int(m.group(1)), 0)
        self.assertGreater(len(r.body), 100)
        with open(os.path.join(harness.REPO, "assets", "site.css"), "rb") as f:
            self.assertEqual(r.body, f.read())
        self.assertIsNone(r.headers.get("Set-Cookie"), "no cookie for the stylesheet")
        for path in ("/static/../x", "/static/nope", "/static/", "/static/site.css/",
                     "/static/%2e%2e/civic311.db", "/static/SITE.CSS", "/static/site.css%00"):
            self.assertErrorPage(self.browser().get(path), 404)


class WebPrivacyConfig(WebTest):
    """The privacy page of an installation whose config.json changes the periods."""

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Installation("web-privacy-config")
        cls.inst.set_config(privacy={"retention_days": {"contact": 45, "recording": 7,
                                                        "device": -1, "media": 1}})
        cls.server = cls.inst.start_server(threads=2)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_privacy_page_follows_the_configuration(self):
        """retention_days contact 45, recording 7, device -1, media 1: the page says so"""
        r = self.browser().get("/privacy")
        self.assertPage(r, 200)
        items = privacy_items(r.text)
        self.assertEqual(items["Your contact details on a request"],
                         "45 days after the request is closed, then erased")
        self.assertEqual(items["Call recordings"], "7 days after it is collected, then erased")
        keep = items["Device data (app or browser)"]  # -1: kept, no period
        self.assertIn("kept", keep)
        self.assertNotRegex(keep, r"\d|days?\b", "a period for what is kept")
        self.assertEqual(items["Photos you attach"],
                         "1 day after the request is closed, then erased")
        self.assertNotIn("90 days", r.text)
        self.assertNotIn("14 days", r.text)


# ---------------------------------------------------------------------------
# The location step: the exact point, the nearby open requests (W5), the map
# ---------------------------------------------------------------------------

NEARBY_HINT = "Is this yours? Follow it instead of sending a new report."


def somewhere():
    """A place of a test's own, far from the demo city and from any other
    test's: nothing but what the test files there is near it."""
    import random
    return round(random.uniform(-60, 60), 5), round(random.uniform(-170, 170), 5)


def north(lat, lon, metres):
    return lat + metres / 111195.0, lon


def nearby_items(body):
    """The review page's nearby list: [(id, text of the item)], or None
    when the page has none."""
    m = re.search(r'<dt>([^<]*)</dt><dd class="nearby">(.*?)</dd>', body, re.S)
    if m is None:
        return None
    items = re.findall(r'<li><a href="/requests/(\d+)">[^<]*</a>(.*?)</li>', m.group(2), re.S)
    return [(i, html.unescape(re.sub(r"<[^>]+>", " ", t))) for i, t in items]


def csp_of(r):
    out = {}
    for d in r.headers.get("Content-Security-Policy").split(";"):
        words = d.split()
        if words:
            out[words[0]] = words[1:]
    return out


class WebLocation(WebTest):
    CODE = "DOT-POTHOLE"

    def setUp(self):
        super().setUp()
        self.b = self.browser()
        _, self.form = self.open_form(self.b, self.CODE)
        self.p = contact()
        self.secrets = marks(self.p)

    def pairs(self, lat=None, lon=None, address="350 West 14th Street", **changes):
        """The form filled in, with the point (lat, lon) as typed."""
        fill = [(k, v) for k, v in self.fill(self.CODE, self.p) if k != "address_string"]
        fill += [("address_string", address), ("lat", "" if lat is None else str(lat)),
                 ("long", "" if lon is None else str(lon))]
        fill = [(k, changes.get(k, v)) for k, v in fill]
        return self.form.submit(fill)

    def review(self, lat, lon, code=None):
        """The review page of a report at (lat, lon), as a browser gets it."""
        code = code or self.CODE
        _, form = self.open_form(self.b, code)
        fill = [(k, v) for k, v in self.fill(code, self.p) if k != "address_string"]
        fill += [("address_string", "Near the corner"), ("lat", str(lat)), ("long", str(lon))]
        r = self.b.post("/report/%s" % code, form.submit(fill))
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Check your report"], r.describe())
        return page, r

    def test_the_form_has_the_point_fields_and_no_map_without_one(self):
        """lat and long: labelled text fields, empty, optional, described; no map markup and
        the CSP's img-src is 'self' data: when config.json has no map"""
        r = self.b.get("/report/%s" % self.CODE)
        page = self.assertPage(r, 200)
        for name in ("lat", "long"):
            f = self.form.named(name)
            self.assertEqual(len(f), 1, name)
            self.assertEqual((f[0].type, f[0].value, f[0].required), ("text", "", False), name)
            self.assertEqual(f[0].attrs.get("inputmode"), "decimal")
            self.assertEqual(f[0].attrs.get("aria-describedby"), "point-hint")
            self.assertIn('<label for="%s">' % name, r.text)
        self.assertIn("Exact point (optional)", page.text)
        self.assertIn("shown publicly with the request", page.text)
        for word in ("data-tiles", "map-box", "data-zoom"):
            self.assertNotIn(word, r.text)
        self.assertEqual(csp_of(r)["img-src"], ["'self'", "data:"])
        self.assertEqual(csp_of(r)["connect-src"], ["'self'"])
        # site.js's texts, translated, on the fieldset and on <body>.
        self.assertIn('data-service="DOT-POTHOLE"', r.text)
        self.assertIn('data-msg-locate="Use my current location"', r.text)
        es = self.browser(accept_language="es")
        body = es.get("/report/%s" % self.CODE).text
        for msgid in ("Use my current location", "Open requests nearby",
                      "Your report could not be sent. Check your connection and try again: "
                      "nothing you typed has been lost."):
            self.assertNotEqual(tr("es", msgid), msgid, "po/es.po lacks %r" % msgid)
            self.assertIn('="%s"' % esc(tr("es", msgid)), body, msgid)

    def test_a_point_is_accepted_shown_and_filed(self):
        """lat/long with the address, or alone: the review shows the point; send files it"""
        before = self.counts()
        lat, lon = somewhere()
        r = self.b.post("/report/%s" % self.CODE, self.pairs(lat, lon))
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Check your report"], r.describe())
        self.assertIn("<dt>Exact point</dt><dd>%s, %s</dd>" % (lat, lon), r.text)
        self.assertIn("<dt>Location</dt><dd>350 West 14th Street</dd>", r.text)
        self.assertIsNone(nearby_items(r.text), "nothing is near a place of its own")
        review = page.form("/report/%s" % self.CODE)
        self.assertEqual((review.value("lat"), review.value("long")), (str(lat), str(lon)))
        self.assertNothingStored(before, "a review")
        rid = self.filed_id(self.send(self.b, self.CODE, page))
        doc = self.get_request(rid)
        self.assertAlmostEqual(float(doc["lat"]), lat, places=6)
        self.assertAlmostEqual(float(doc["long"]), lon, places=6)
        self.assertEqual(doc["address"], "350 West 14th Street")
        # The point alone is a location too (no address).
        r = self.b.post("/report/%s" % self.CODE, self.pairs(lat, lon, address=""))
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Check your report"], r.describe())
        self.assertNotIn("<dt>Location</dt>", r.text)
        rid = self.filed_id(self.send(self.b, self.CODE, page))
        doc = self.get_request(rid)
        self.assertAlmostEqual(float(doc["lat"]), lat, places=6)
        self.assertIsNone(doc.get("address"))
        self.assertLogClean(self.secrets)

    def test_a_bad_point_is_refused_on_its_field(self):
        """lat 91, long -180.5, a word, one without the other: 400, said in the form's words,
        the right field marked, what was typed kept, nothing stored"""
        rng = "The latitude must be between -90 and 90, and the longitude between -180 and 180."
        num = "The latitude and the longitude are decimal numbers, like 40.7128 and -74.0060."
        both = "Give both the latitude and the longitude of the point, or neither."
        cases = [("lat 91", "91", "-74.0", "lat", rng),
                 ("lat -90.01", "-90.01", "10", "lat", rng),
                 ("long -180.5", "40.7", "-180.5", "long", rng),
                 ("long 1000", "40.7", "1000", "long", rng),
                 ("a word", "north", "-74.0", "lat", num),
                 ("a word for long", "40.7", "west", "long", num),
                 ("lat alone", "40.7", "", "long", both),
                 ("long alone", "", "-74.0", "lat", both)]
        for what, lat, lon, field, said in cases:
            before = self.counts()
            r = self.b.post("/report/%s" % self.CODE, self.pairs(lat, lon))
            page = self.assertPage(r, 400)
            problem = [t for t in page.alerts() if "Please check the form" in t]
            self.assertEqual(len(problem), 1, what)
            self.assertIn(said, problem[0], what)
            form = page.form("/report/%s" % self.CODE)
            self.assertEqual((form.value("lat"), form.value("long")), (lat, lon), what)
            for name in ("lat", "long"):
                f = form.named(name)[0]
                if name == field:
                    self.assertEqual(f.attrs.get("aria-invalid"), "true", (what, name))
                    self.assertEqual(f.attrs.get("aria-describedby"), "problem point-hint",
                                     (what, name))
                else:
                    self.assertIsNone(f.attrs.get("aria-invalid"), (what, name))
            self.assertNothingStored(before, what)
        self.assertLogClean(self.secrets)

    def test_the_review_lists_open_requests_nearby_of_the_same_service(self):
        """the review at a point lists the open potholes within 200 m (newest first, at most
        5, public fields only); not another service's, a far one, a closed one"""
        lat, lon = somewhere()
        pp = person()

        def at(code, la, lo, description, extra=()):
            return self.create(code, location=False, extra=[
                ("lat", "%.6f" % la), ("long", "%.6f" % lo), ("description", description),
                ("address_string", "Corner of %s" % code)] + list(extra))

        long_text = "A deep pothole " + "\u00e9" * 300
        near = at("DOT-POTHOLE", *north(lat, lon, 60), long_text,
                  extra=[("first_name", pp["first_name"]), ("email", pp["email"])])
        working = at("DOT-POTHOLE", *north(lat, lon, -120), "Being fixed")
        other = at("DOT-STREETLIGHT", lat, lon, "A light out, another service")
        far = at("DOT-POTHOLE", *north(lat, lon, 400), "Too far")
        closed = at("DOT-POTHOLE", lat, lon, "Already fixed")
        self.inst.update_request(working, "in_progress")
        self.inst.update_request(closed, "closed", resolution="fixed")

        page, r = self.review(lat, lon)
        items = nearby_items(r.text)
        self.assertIsNotNone(items, "no nearby list on the review")
        self.assertEqual([i for i, _ in items], [working, near], "newest first, open only")
        self.assertIn("<dt>Open requests nearby</dt>", r.text)
        self.assertIn(NEARBY_HINT, page.text)
        text = dict(items)[near]
        self.assertIn("Corner of DOT-POTHOLE", text)
        self.assertIn("A deep pothole " + "\u00e9" * 10, text)
        self.assertIn("\u2026", text, "a long description is cut")
        self.assertNotIn("\u00e9" * 200, text)
        self.assertRegex(text, r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC")
        for v in (pp["first_name"], pp["email"]):
            self.assertNotIn(v, r.text, "personal data in the nearby list")
        for rid in (other, far, closed):
            self.assertNotIn('href="/requests/%s"' % rid, r.text)
        # The same place, another service: only the street light.
        _, r2 = self.review(lat, lon, code="DOT-STREETLIGHT")
        self.assertEqual([i for i, _ in nearby_items(r2.text)], [other])
        # Without a point: no list.
        r3 = self.b.post("/report/%s" % self.CODE, self.pairs())
        self.assertEqual(self.assertPage(r3, 200).h1, ["Check your report"])
        self.assertIsNone(nearby_items(r3.text))
        self.assertNotIn("Exact point", r3.text)

    def test_the_nearby_list_stops_at_five(self):
        """seven open potholes at a point: the review lists the newest five"""
        lat, lon = somewhere()
        ids = [self.create(self.CODE, location=False, extra=[
            ("lat", "%.6f" % lat), ("long", "%.6f" % lon), ("description", "Hole %d" % i)])
            for i in range(7)]
        _, r = self.review(lat, lon)
        self.assertEqual([i for i, _ in nearby_items(r.text)], ids[::-1][:5])

    def test_the_script_is_served_and_on_every_page(self):
        """/static/site.js: assets/site.js, text/javascript, cached, no cookie; every page
        loads it (deferred, from this site) once"""
        r = self.browser().get("/static/site.js")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.ctype, "text/javascript; charset=utf-8")
        self.assertSecurityHeaders(r)
        self.assertRegex(r.headers.get("Cache-Control") or "", r"^public, max-age=\d+$")
        self.assertIsNone(r.headers.get("Set-Cookie"), "no cookie for the script")
        with open(os.path.join(harness.REPO, "assets", "site.js"), "rb") as f:
            self.assertEqual(r.body, f.read())
        self.assertLess(len(r.body), 20 * 1024, "site.js counts toward the page weight")
        for path in ("/static/SITE.JS", "/static/site.js/", "/static/site.jsx",
                     "/static/site.js%00"):
            self.assertErrorPage(self.browser().get(path), 404)
        tag = '<script src="/static/site.js" defer></script>'
        b = self.browser()
        for path in ("/", "/report/DOT-POTHOLE", "/privacy", "/requests", "/nope"):
            body = b.get(path).text
            self.assertEqual(body.count(tag), 1, path)
            self.assertEqual(body.count("<script"), 1, path)


class WebMap(WebTest):
    """An installation whose config.json names a tile source."""
    TILES = "https://tiles.example.org/osm/{z}/{x}/{y}.png?key=k1"
    MAP = {"tiles": TILES, "attribution": "\u00a9 OpenStreetMap contributors",
           "attribution_url": "https://www.openstreetmap.org/copyright",
           "lat": 40.7128, "long": -74.006, "zoom": 14}

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Installation("web-map")
        cls.inst.set_config(map=dict(cls.MAP))
        cls.server = cls.inst.start_server(threads=2)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_the_form_has_the_map_and_the_csp_its_tiles(self):
        """data-tiles and the centre on the location fieldset, the attribution through the
        exit notice; img-src names the tiles' origin and no other, on every response"""
        b = self.browser()
        r = b.get("/report/DOT-POTHOLE")
        self.assertPage(r, 200)
        self.assertIn(' data-tiles="%s"' % esc(self.TILES), r.text)
        self.assertIn(' data-lat="40.712800" data-long="-74.006000" data-zoom="14"', r.text)
        box = re.search(r'<div class="map-box" hidden>(.*?)</div>', r.text, re.S)
        self.assertIsNotNone(box, "the map's place")
        link = '<a href="/leaving?to=%s">%s</a>' % (
            urllib.parse.quote(self.MAP["attribution_url"], safe=""), esc(self.MAP["attribution"]))
        self.assertIn(link, box.group(1))
        leaving = b.get("/leaving?to=%s" % urllib.parse.quote(self.MAP["attribution_url"], safe=""))
        self.assertPage(leaving, 200)
        for resp in (r, b.get("/"), b.get("/static/site.css"), b.get("/nope"),
                     self.c.get("services.json")):
            csp = csp_of(resp)
            self.assertEqual(csp["img-src"], ["'self'", "data:", "https://tiles.example.org"],
                             resp.describe(200))
            for name, sources in csp.items():
                if name != "img-src":
                    self.assertNotIn("https://tiles.example.org", sources, name)
        # The form still works the same: the map only adds to it.
        _, page = self.to_review(b, "DOT-POTHOLE", self.fill("DOT-POTHOLE", contact()))

    def test_bad_map_settings_stop_the_server(self):
        """http:// (but to this machine), no {z}, a second {x}, {s}, a quote, a user name,
        a bad port, an unknown key, zoom 0 or 20, lat 91, no lat, a bad attribution_url: the
        server refuses to start and says why (exit 2)"""
        inst = harness.Installation("web-map-bad")
        good = dict(self.MAP)
        cases = [
            ({"tiles": "http://tiles.example.org/{z}/{x}/{y}.png"}, "https://"),
            ({"tiles": "https://tiles.example.org/{x}/{y}.png"}, "{z}"),
            ({"tiles": "https://tiles.example.org/{z}/{x}/{x}/{y}.png"}, "once each"),
            ({"tiles": "https://{s}.tiles.example.org/{z}/{x}/{y}.png"}, "scheme://host"),
            ({"tiles": "https://tiles.example.org/{z}/{x}/{y}.png?{s}"}, "placeholders"),
            ({"tiles": 'https://tiles.example.org/{z}/{x}/{y}.png"'}, "character"),
            ({"tiles": "https://tiles.example.org/{z}/{x}/{y} .png"}, "character"),
            ({"tiles": "https://me@tiles.example.org/{z}/{x}/{y}.png"}, "scheme://host"),
            ({"tiles": "https://tiles.example.org:99999/{z}/{x}/{y}.png"}, "port"),
            ({"tiles": "https://tiles.example.org"}, "scheme://host"),
            ({"tiles": "javascript:alert(1)//{z}/{x}/{y}"}, "https://"),
            ({"tiles": 7}, "tiles (text)"),
            ({"zoom": 0}, "zoom"), ({"zoom": 20}, "zoom"), ({"zoom": 1.5}, "zoom"),
            ({"lat": 91}, "lat must be"), ({"long": -181}, "lat must be"),
            ({"lat": None}, "lat and long"), ({"lat": "40"}, "lat and long"),
            ({"attribution_url": "javascript:alert(1)"}, "attribution_url"),
            ({"attribution_url": "https://x.example/a b"}, "attribution_url"),
            ({"attribution": "two\nlines"}, "attribution"),
            ({"colour": "red"}, "colour"),
        ]
        for change, said in cases:
            m = dict(good)
            m.update(change)
            m = {k: v for k, v in m.items() if v is not None}
            inst.set_config(map=m)
            cfg = inst.config()
            cfg["map"] = m  # replaced whole, not merged
            with open(inst.config_path, "w", encoding="utf-8") as f:
                json.dump(cfg, f)
            code, out, err = inst._run(["serve", "--data", inst.data, "--listen",
                                        "127.0.0.1:0"], check=False, timeout=60)
            self.assertEqual(code, 2, (change, err))
            self.assertIn("map", err, change)
            self.assertIn(said, err, (change, err))
        # And the same settings, well formed, with plain http to this machine: accepted.
        for tiles in ("http://127.0.0.1:8099/t/{z}/{x}/{y}.png", "http://localhost/{z}/{x}/{y}",
                      "https://a-b.example.org:8443/{z}/{y}/{x}@2x.png"):
            cfg = inst.config()
            cfg["map"] = dict(good, tiles=tiles)
            with open(inst.config_path, "w", encoding="utf-8") as f:
                json.dump(cfg, f)
            code, out, err = inst.cli("services", "export", check=False)
            self.assertEqual(code, 0, (tiles, err))


if __name__ == "__main__":
    unittest.main()


class WebSendOnce(WebTest):
    """The review page's "Send" key: one request however often it is pressed."""

    CODE = "DOT-POTHOLE"

    def test_pressing_send_twice_files_once(self):
        """the same send twice (a double click, a retry): one request, both answers name it;
        another review: another request; a send without a key or with a bad one still files"""
        b = self.browser()
        _, review = self.to_review(b, self.CODE, self.fill(self.CODE, contact()))
        send = review.form("/report/%s" % self.CODE).submit(press=("step", "send"))
        before = self.inst.query("SELECT COUNT(*) FROM request")[0][0]
        first = b.post("/report/%s" % self.CODE, send)
        second = b.post("/report/%s" % self.CODE, send)
        rid = self.filed_id(first)
        self.assertEqual(self.filed_id(second), rid)
        self.assertEqual(self.inst.query("SELECT COUNT(*) FROM request")[0][0], before + 1)
        self.assertEqual(self.inst.query("SELECT COUNT(*) FROM web_send WHERE request_id = ?",
                                         (int(rid),)), [(1,)])
        # The key itself is not stored, only its hash.
        key = dict(send)["send_key"]
        for (h,) in self.inst.query("SELECT key_hash FROM web_send"):
            self.assertNotIn(key.encode(), bytes(h))
            self.assertNotIn(bytes.fromhex(key), bytes(h))
        # Another review page: a new key, a new request.
        _, review2 = self.to_review(b, self.CODE, self.fill(self.CODE, contact()))
        third = b.post("/report/%s" % self.CODE,
                       review2.form("/report/%s" % self.CODE).submit(press=("step", "send")))
        self.assertNotEqual(self.filed_id(third), rid)
        # A page from before keys (none), or a mangled one: filed, without the guard.
        for key in (None, "xyz", "0" * 31, "G" * 32):
            pairs = [(k, v) for k, v in send if k != "send_key"]
            if key is not None:
                pairs.append(("send_key", key))
            r = b.post("/report/%s" % self.CODE, pairs)
            self.assertNotEqual(self.filed_id(r), rid, key)
