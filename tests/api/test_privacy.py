"""
Privacy (P1, P2, P8): what a resident gives for contact (first_name,
last_name, email, phone, device_id, account_id) is kept sealed (one
encrypted row per data class, naming the fields it holds: see
test_privacy_engine.py for the rest of the privacy engine), and never shown
again by the public API: not in the request, not in a search, not in
updates, not in a token, not in an error. The server's log never holds it
either, and the access log names routes, never paths or query strings.

The personal values are canaries: unique strings that must not appear where
they should not. run.py also sweeps every server log for every canary the
whole suite made, at the end of the run.
"""
import json
import re
import secrets

import o311
from base import ApiTest, all_canaries, canary, now
from client import wait_until

ROUTES = {"open311 unknown", "open311 discovery", "open311 services",
          "open311 services/{code}", "open311 requests", "open311 requests/{id}",
          "open311 tokens/{token}", "open311 servicerequestupdates", "GET /", "GET /healthz",
          "not found", "refused", "-",
          # 311 Online (src/web/web.c)
          "GET /static", "GET /lang", "GET /report/{code}", "POST /report/{code}",
          "GET /requests", "GET /requests/{id}", "GET /privacy", "GET /leaving",
          "web bad query", "web method not allowed",
          # photos and the page beacon (web_photo.c, web_beacon.c)
          "GET /photos/{token}", "POST /beacon",
          # accounts (src/web/web_account.c)
          "GET /account", "GET /account/register", "POST /account/register",
          "GET /account/signin", "POST /account/signin", "POST /account/signout",
          "GET /account/data", "GET /account/data.json", "GET /account/delete",
          "POST /account/delete", "POST /account/requests/{id}/remove",
          # the staff console (src/web/console.c, console_admin.c)
          "GET /staff", "GET /staff/", "GET /staff/sign-in", "POST /staff/sign-in",
          "GET /staff/sign-in/code", "POST /staff/sign-in/code", "POST /staff/sign-out",
          "GET /staff/admin", "POST /staff/admin/add", "POST /staff/admin/{id}/{state}",
          "staff signed out", "staff not found", "staff method not allowed",
          # the Contact Center console (src/web/console_cc.c)
          "GET /staff/cc", "POST /staff/cc", "GET /staff/cc/file/{code}",
          "POST /staff/cc/file/{code}", "GET /staff/cc/requests/{id}",
          "POST /staff/cc/requests/{id}/recording", "GET /staff/cc/recordings/{id}",
          # the disclosure register and the figures (console_register.c, console_figures.c)
          "GET /staff/register", "POST /staff/register", "GET /staff/register/{id}",
          "POST /staff/register/{id}/{step}", "GET /staff/figures", "GET /staff/figures.csv",
          # the agency queue and a request's page (src/web/console_queue.c)
          "GET /staff/queue", "POST /staff/queue", "GET /staff/requests/{id}",
          "POST /staff/requests/{id}/{action}"}
ACCESS_RE = re.compile(r" access: (.+) (\d{1,3}) (\d+) (\d+)us( aborted)?$")  # 0: aborted before an answer
LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ civic311 (info|warn|error): ")


def person():
    """Canary contact details that pass intake's checks."""
    digits = "".join(secrets.choice("23456789") for _ in range(9))
    return {"first_name": canary("first"), "last_name": canary("last"),
            "email": canary("mail") + "@example.org", "phone": "+1 (555) " + digits,
            "device_id": canary("device"), "account_id": canary("account")}


def marks(p):
    """What to look for: each value, and the phone's digits on their own."""
    out = [v for k, v in p.items() if k != "phone"]
    out.append(re.sub(r"\D", "", p["phone"])[-9:])
    return out


class Privacy(ApiTest):
    def assertClean(self, resp, p, where=""):
        text = resp.body + str(resp.headers).encode()
        for m in marks(p):
            self.assertNotIn(m.encode(), text, "%s leaked %r: %s" % (where, m, resp.describe()))

    def test_contact_details_are_sealed_with_their_data_class(self):
        """(the premise) each data class is one sealed row naming its fields, never plaintext"""
        p = person()
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        rid = self.create(code, extra=list(p.items()))
        rows = self.inst.query(
            "SELECT data_class, fields, subject_id, key_version, sealed FROM personal_field "
            "WHERE request_id = ?", (int(rid),))
        want = {"contact": "first_name,last_name,email,phone", "device": "device_id",
                "account": "account_id"}
        self.assertEqual({c: f for c, f, _, _, _ in rows}, want)
        self.assertEqual(len(rows), 3, "one row per class")
        subjects = {s for _, _, s, _, _ in rows}
        self.assertEqual(len(subjects), 1, "one person, one subject: %s" % subjects)
        for c, fields, _, kv, sealed in rows:
            self.assertIsInstance(sealed, bytes, "%s is stored as bytes" % c)
            # nonce (24) + ciphertext + tag (16): XChaCha20-Poly1305, over
            # the record: version, count, then per field its name and value,
            # each with its length before and a 0 byte after
            names = fields.split(",")
            record = 2 + sum(1 + len(f) + 1 + 4 + len(p[f].encode()) + 1 for f in names)
            self.assertEqual(len(sealed), record + 40, "%s: sealed length" % c)
            for f in names:
                self.assertNotIn(p[f].encode(), sealed, "%s in plaintext" % f)
            self.assertGreaterEqual(kv, 1)
        (sid,) = subjects
        (wrapped, kek, erased), = self.inst.query(
            "SELECT wrapped_key, kek_version, erased_at FROM subject WHERE id = ?", (sid,))
        self.assertIsInstance(wrapped, bytes)
        self.assertEqual(len(wrapped), 32 + 40, "a wrapped 256-bit data key")
        self.assertIsNotNone(kek)
        self.assertIsNone(erased)
        self.assertEqual(sorted(k for (k,) in self.inst.query(
            "SELECT kind FROM blind_index WHERE request_id = ?", (int(rid),))),
            ["email", "phone"], "blind indexes for the two lookups")
        # ... and no value in plaintext anywhere in the store, sealed rows included.
        con = self.inst.db()
        try:
            for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                for row in con.execute('SELECT * FROM "%s"' % table):
                    blob = b"".join(v if isinstance(v, bytes) else str(v).encode()
                                    for v in row)
                    for m in marks(p):
                        self.assertNotIn(m.encode(), blob, "%r in plaintext in table %s" %
                                         (m, table))
        finally:
            con.close()
        # One "collect" entry for it in the audit log, naming fields, never values.
        bodies = [b for (b,) in self.inst.query(
            "SELECT body FROM audit_entry WHERE request_id = ?", (int(rid),))]
        collect = [json.loads(b) for b in bodies if json.loads(b)["action"] == "collect"]
        self.assertEqual(len(collect), 1, bodies)
        self.assertEqual(collect[0]["fields"].split(","), list(p), "every field, in order")

    def test_no_public_response_shows_contact_details(self):
        """request, searches, extensions, updates: none shows a personal value"""
        p = person()
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        t0 = now()
        for fmt in ("json", "xml"):
            r = self.post(self.request_params(code, list(p.items())), fmt)
            self.assertClean(r, p, "POST requests.%s" % fmt)
            self.assertEqual(r.status, 201)
        rid = self.create(code, extra=list(p.items()))
        self.inst.update_request(rid, "closed", "fixed", note="Done")
        for path in ("requests/%s.json" % rid, "requests/%s.xml" % rid,
                     "requests/%s.json?extensions=true" % rid,
                     "requests/%s.xml?extensions=true" % rid,
                     "requests.json?service_request_id=%s&extensions=true" % rid,
                     "requests.xml?service_request_id=%s" % rid,
                     "requests.json?page_size=1000", "requests.xml?page_size=1000",
                     "servicerequestupdates.json?start_date=%s" % o311.fmt_dt(t0 - 5),
                     "servicerequestupdates.xml?start_date=%s" % o311.fmt_dt(t0 - 5)):
            r = self.c.get(path)
            self.assertEqual(r.status, 200, path)
            self.assertClean(r, p, path)

    def test_account_id_is_never_echoed_on_create(self):
        """POST with account_id: the response's account_id is null (it is the reporter's)"""
        p = person()
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        doc = o311.expect_json(self.post(self.request_params(code, list(p.items()))), 201)
        self.assertIsNone(doc[0]["account_id"])

    def test_batch_token_shows_no_contact_details(self):
        """a batch request with contact details: token replies and the published request are clean"""
        p = person()
        code = self.cat.pick("batch")
        r = self.post(self.request_params(code, list(p.items())))
        self.assertClean(r, p, "POST batch")
        token = o311.expect_json(r, 201)[0]["token"]
        rid = wait_until(lambda: o311.expect_json(self.c.get("tokens/%s.json" % token))[0]
                         ["service_request_id"], 15)
        self.assertIsNotNone(rid)
        for path in ("tokens/%s.json" % token, "tokens/%s.xml" % token,
                     "requests/%s.json?extensions=true" % rid):
            self.assertClean(self.c.get(path), p, path)

    def test_errors_show_no_contact_details(self):
        """a rejected request with contact details: the error says what is wrong, not who sent it"""
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        loc = self.location()
        cases = [("lat out of range", code, [("lat", "91"), ("long", "0")]),
                 ("lat alone", code, [("lat", "1")]),
                 ("bad media_url", code, loc + [("media_url", "ftp://x")]),
                 ("unknown service", "NOPE", loc),
                 ("description too long", code, loc + [("description", "x" * 4001)]),
                 ("bad attribute", code, loc + [("attribute[NOPE]", "1")])]
        for what, svc, extra in cases:
            p = person()
            params = [("api_key", self.key), ("service_code", svc)] + \
                self.cat.valid_answers(code) + list(p.items()) + extra
            for fmt in ("json", "xml"):
                r = self.post(params, fmt)
                self.assertIn(r.status, (400, 404), r.describe())
                self.assertClean(r, p, "error for %s" % what)

    def test_server_log_holds_no_personal_data_or_key(self):
        """the server's stderr holds no canary of this run so far, no phone digits, no api key"""
        p = person()
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        self.create(code, extra=list(p.items()))
        self.post(self.request_params(code, list(p.items()) + [("lat", "x")]))
        log = self.sh.server.read_log()
        for m in marks(p) + all_canaries():
            self.assertNotIn(m, log, "the server log holds %r" % m)
        self.assertNotIn(self.key, log, "the server log holds the api key")
        self.assertNotIn(self.key[5:], log, "the server log holds the api key")

    def test_access_log_names_routes_never_paths_or_queries(self):
        """access lines are 'access: ROUTE STATUS BYTES TIMEus': no path, no query, no token"""
        marker = canary("query")
        token = "0123456789abcdef" + secrets.token_hex(8)
        self.c.get("requests.json", {"service_code": marker, "q": marker})
        self.c.get("tokens/%s.json" % token, {"x": marker})
        self.c.get("services/%s.xml" % marker)
        self.c.get("/%s?%s=1" % (marker, marker))
        self.c.post("requests.json", [("api_key", marker), ("service_code", marker)])
        lines = self.sh.server.read_log().splitlines()
        access = [l for l in lines if " access: " in l]
        self.assertTrue(access, "the access log is on by default and has lines")
        for l in access:
            m = ACCESS_RE.search(l)
            self.assertIsNotNone(m, "access line not in the expected shape: %r" % l)
            self.assertIn(m.group(1), ROUTES, "access line names no known route: %r" % l)
        log = "\n".join(lines)
        for s in (marker, token, "?", "/open311/v2/"):
            self.assertNotIn(s, "\n".join(access), "the access log holds %r" % s)
        self.assertNotIn(marker, log)

    def test_every_log_line_comes_from_our_logger(self):
        """every stderr line is 'TIME civic311 LEVEL: ...' and MHD's own logger is never used"""
        # MHD's default logger prints its messages with their arguments,
        # which can quote request text; ours (http_mhd_log) drops them. MHD
        # falls back to its own when MHD_OPTION_EXTERNAL_LOGGER is not the
        # first option, and says so with the warning checked below.
        log = self.sh.server.read_log()
        for l in log.splitlines():
            self.assertRegex(l, LOG_LINE_RE, "a stderr line not written by our logger")
        self.assertNotIn("Some messages may be printed by the standard MHD logger", log)

    def test_no_field_records_age_or_birth_date(self):
        """P1: no table of the store has a column for age or date of birth"""
        con = self.inst.db()
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")]
            for t in tables:
                for col in con.execute('PRAGMA table_info("%s")' % t):
                    name = col[1].lower()
                    self.assertFalse(re.search(r"(^|_)(age|birth|dob|born)(_|$)", name),
                                     "%s.%s" % (t, col[1]))
        finally:
            con.close()

    def test_api_responses_set_no_cookies_and_no_referrer(self):
        """P9/P10: no cookies from the API; Referrer-Policy no-referrer; nosniff"""
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        for r in (self.c.get("services.json"), self.c.get("requests.xml"),
                  self.post(self.request_params(code)), self.c.get("requests/0.json")):
            self.assertIsNone(r.headers.get("Set-Cookie"), r.describe())
            self.assertEqual(r.headers.get("Referrer-Policy"), "no-referrer")
            self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff")
