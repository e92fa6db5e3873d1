"""
The officers' and managers' console pages (issue 5 items 7 and 8: P4 and
the figures), over HTTP as a browser without JavaScript uses them, on a
real server of their own. Members are made with `civic311 staff add` and
sign in with a TOTP code worked out here (test_staff.py's helpers).

- The disclosure register: one officer records an order from the form,
  cannot approve it (the two-person rule, said in words), a second officer
  approves it; an export is a POST answered by the JSON file as a download
  (attachment, no-store), holding exactly the named requests' personal
  data; it is in the register with the SHA-256 of the very bytes received,
  shown on the order's page, and in the audit log (one read and one
  disclose entry per request, by the officer's "staff:N").
- An order not yet approved and a closed one export nothing: 403, no
  personal data in the answer, no export on record, one "refuse" entry.
- Bad forms are refused with the field named and nothing recorded.
- Every register address is refused (403) for an agent, agency staff, a
  supervisor and an administrator, before anything is read or written.
- The figures page and its CSV equal `civic311 stats` for the same window;
  agency staff see only their agencies' requests, and officers and agents
  are refused.
"""
import csv
import hashlib
import io
import json
import os
import re
import time

import harness
import o311
import test_staff
from base import canary
from client import Client
from test_privacy import person
from test_privacy_engine import audit_entries, audit_size, iso
from test_stats import reference
from test_web import Page, WebTest

CONTACT = ("first_name", "last_name", "email", "phone")


def has_form(page, action):
    return any(f.action == action for f in page.forms)


class OfficerConsole(WebTest):
    # test_staff's helpers (not its tests): members, signing in, the clock.
    add = test_staff.Staff.add
    staff_browser = test_staff.Staff.staff_browser
    assertConsolePage = test_staff.Staff.assertConsolePage
    password_step = test_staff.Staff.password_step
    code_step = test_staff.Staff.code_step
    fresh_code = test_staff.Staff.fresh_code
    sign_in = test_staff.Staff.sign_in
    advance = test_staff.Staff.advance
    now = test_staff.Staff.now

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inst = harness.Installation("officer")
        cls.clock = os.path.join(cls.inst.root, "clock")
        cls.offset = 0
        with open(cls.clock, "w") as f:
            f.write("0\n")
        cls.api_key = cls.inst.create_api_key("officer")
        cls.server = cls.inst.start_server(threads=2,
                                           env={"CIVIC311_TEST_CLOCK_FILE": cls.clock})
        cls.port = cls.server.port
        c = Client(cls.port)
        cls.catalog = o311.Catalog(c)
        c.close()
        cls.passwords = []
        cls.secrets = []
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        log = cls.server.read_log() + open(cls.inst.cli_log).read()
        for s in cls.passwords + cls.secrets:
            assert s not in log, "a log holds a password or a secret"

    # ---- helpers ----

    def file(self, p, code=None):
        code = code or self.catalog.pick("realtime", "singlevaluelist", required=True)
        params = [("api_key", self.api_key), ("service_code", code), ("lat", "40.7128"),
                  ("long", "-74.006")] + self.catalog.valid_answers(code) + list(p.items())
        r = self.c.post("requests.json", params)
        return o311.expect_json(r, 201)[0]["service_request_id"]

    def file_person(self):
        p = person()
        return self.file({k: p[k] for k in CONTACT}), p

    def officer(self, role="records_officer"):
        member = self.add(role)
        b = self.sign_in(member)
        r = b.get("/staff/")
        self.assertIn("/staff/register", r.text, "the home page links the register")
        return b, self.staff_id(member[0])

    def staff_id(self, login):
        return self.inst.query("SELECT id FROM staff WHERE login = ?", (login,))[0][0]

    def day(self, offset_days=0):
        return time.strftime("%Y-%m-%d", time.gmtime(self.now() + offset_days * 86400))

    def record(self, b, rids, expect=303, **fill):
        type(self).n += 1
        page = self.assertConsolePage(b.get("/staff/register"), 200)
        form = page.form("/staff/register")
        values = {"requester": "Supreme Court of the State of New York, Kings County",
                  "reference": "2026-CV-%04d-%s" % (self.n, canary("r")[-6:]),
                  "legal_basis": "CPLR 2301 subpoena duces tecum",
                  "received": self.day(-1),
                  "requests": ", ".join(str(r) for r in rids)}
        values.update(fill)
        r = b.post("/staff/register", form.submit(list(values.items())))
        self.assertEqual(r.status, expect, r.describe())
        if expect != 303:
            return r
        m = re.match(r"^/staff/register/(\d+)\?done=recorded$", r.headers.get("Location"))
        self.assertIsNotNone(m, r.headers.get("Location"))
        return int(m.group(1))

    def order_page(self, b, oid, status=200):
        return self.assertConsolePage(b.get("/staff/register/%d" % oid), status)

    def press(self, b, oid, step, fill=()):
        page = self.order_page(b, oid)
        self.assertTrue(has_form(page, "/staff/register/%d/%s" % (oid, step)), step)
        form = page.form("/staff/register/%d/%s" % (oid, step))
        return b.post("/staff/register/%d/%s" % (oid, step), form.submit(fill))

    def exports(self):
        return self.inst.query("SELECT count(*) FROM disclosure_export")[0][0]

    def csrf_of(self, b, path="/staff/"):
        return Page(b.get(path).text).form("/staff/sign-out").value("csrf")

    # ---- the disclosure register ----

    def test_record_approve_export_download(self):
        """recorded by one officer, approved by another, exported as a download on record"""
        (r1, p1), (r2, p2), (r3, p3) = (self.file_person() for _ in range(3))
        alice, alice_id = self.officer("records_officer")
        bob, bob_id = self.officer("privacy_officer")
        oid = self.record(alice, [r2, r1])
        page = self.assertConsolePage(
            alice.get("/staff/register/%d?done=recorded" % oid), 200)
        self.assertIn("The order is recorded", page.text)
        self.assertIn("Recorded: waiting for a second officer", page.text)
        self.assertFalse(has_form(page, "/staff/register/%d/export" % oid), "no export yet")

        # The two-person rule: the officer who recorded it cannot approve it.
        before = audit_size(self.inst)
        r = self.press(alice, oid, "approve")
        self.assertEqual(r.status, 403, r.describe())
        self.assertIn("You recorded this order, so you may not also approve it",
                      Page(r.text).text)
        self.assertEqual(self.inst.query("SELECT approved_at FROM disclosure_order WHERE id = ?",
                                         (oid,))[0][0], None)
        self.assertEqual(audit_size(self.inst), before)

        r = self.press(bob, oid, "approve")
        self.assertEqual((r.status, r.headers.get("Location")),
                         (303, "/staff/register/%d?done=approved" % oid))
        page = self.order_page(alice, oid)
        self.assertIn("Approved: open for exports", page.text)
        self.assertIn("staff:%d" % bob_id, page.text)

        # The export: the answer to the POST is the file, and only it.
        before = audit_size(self.inst)
        r = self.press(alice, oid, "export")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.headers.get("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertRegex(r.headers.get("Content-Disposition"),
                         r'^attachment; filename="civic311-order-%d-export-\d+\.json"$' % oid)
        self.assertIsNone(r.headers.get("Location"))
        doc = json.loads(r.body)
        self.assertEqual(doc["order"]["id"], oid)
        self.assertEqual(doc["export"]["by"], "staff:%d" % alice_id)
        self.assertEqual(doc["export"]["purpose"], "required_by_law")
        got = {str(q["request"]): q["fields"] for q in doc["requests"]}
        self.assertEqual(sorted(got), sorted([str(r1), str(r2)]), "exactly the named requests")
        for rid, p in ((r1, p1), (r2, p2)):
            self.assertEqual(got[str(rid)], {k: p[k] for k in CONTACT})
        for v in p3.values():
            self.assertNotIn(v.encode(), r.body, "a request outside the order stays out")

        # In the register with the digest of the bytes received, shown on
        # the order's page; in the audit log, one read and one disclose each.
        digest = hashlib.sha256(r.body).hexdigest()
        rows = self.inst.query("SELECT hex(digest), bytes, exported_by FROM disclosure_export "
                               "WHERE order_id = ?", (oid,))
        self.assertEqual(rows, [(digest.upper(), len(r.body), "staff:%d" % alice_id)])
        page = self.order_page(bob, oid)
        self.assertIn(digest, page.text)
        new = audit_entries(self.inst, before)
        self.assertEqual(sorted(e["request"] for e in new if e["action"] == "read"),
                         sorted([int(r1), int(r2)]))
        discl = [e for e in new if e["action"] == "disclose"]
        self.assertEqual(sorted(e["request"] for e in discl), sorted([int(r1), int(r2)]))
        for e in discl:
            self.assertEqual((e["actor"], e["role"]), ("staff:%d" % alice_id, "records_officer"))
            self.assertIn(digest[:16], e["reason"])
        # The document never went into a URL or a log.
        log = self.server.read_log()
        for v in p1.values():
            self.assertNotIn(v, log)

        # A part of the scope: only the request asked for.
        r = self.press(bob, oid, "export", fill=[("requests", str(r1))])
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual([str(q["request"]) for q in json.loads(r.body)["requests"]], [str(r1)])
        self.assertNotIn(p2["email"].encode(), r.body)

        # A request outside the order: refused, on record, nothing sent.
        before, n = audit_size(self.inst), self.exports()
        r = self.press(alice, oid, "export", fill=[("requests", "%s, %s" % (r1, r3))])
        self.assertEqual(r.status, 403, r.describe())
        self.assertIn("not named by this order", Page(r.text).text)
        self.assertNotIn(p1["email"], r.text)
        self.assertNotIn(p3["email"], r.text)
        self.assertEqual(self.exports(), n)
        self.assertEqual([e["action"] for e in audit_entries(self.inst, before)], ["refuse"])

        # Closed: nothing more, ever.
        r = self.press(bob, oid, "close")
        self.assertEqual(r.status, 303, r.describe())
        page = self.order_page(alice, oid)
        self.assertFalse(has_form(page, "/staff/register/%d/export" % oid))
        self.assertFalse(has_form(page, "/staff/register/%d/close" % oid))
        r = alice.get("/staff/register")
        self.assertConsolePage(r, 200)
        self.assertIn('href="/staff/register/%d"' % oid, r.text, "on the list, closed")

    def test_unapproved_or_closed_orders_export_nothing(self):
        """an export under an order not approved or closed: 403, no data, one refusal"""
        r1, p1 = self.file_person()
        alice, _ = self.officer("records_officer")
        bob, _ = self.officer("privacy_officer")
        oid = self.record(alice, [r1])
        csrf = self.csrf_of(alice)
        for why in ("not approved", "closed"):
            if why == "closed":
                self.assertEqual(self.press(bob, oid, "close").status, 303)
            before, n = audit_size(self.inst), self.exports()
            # The form is not on the page: a hand-made POST, as an attacker would.
            r = alice.post("/staff/register/%d/export" % oid,
                           [("csrf", csrf), ("class-contact", "1")])
            self.assertEqual(r.status, 403, r.describe())
            self.assertTrue(r.headers.get("Content-Type").startswith("text/html"))
            self.assertIsNone(r.headers.get("Content-Disposition"))
            self.assertIn("Nothing was exported", Page(r.text).text)
            for v in p1.values():
                self.assertNotIn(v, r.text)
            self.assertEqual(self.exports(), n, "no export on record")
            new = audit_entries(self.inst, before)
            self.assertEqual([e["action"] for e in new], ["refuse"], new)
            self.assertIn(why, new[0]["reason"])
        # Approving a closed order is refused too.
        r = alice.post("/staff/register/%d/approve" % oid, [("csrf", csrf)])
        self.assertEqual(r.status, 409, r.describe())

    def test_bad_forms_record_nothing(self):
        """each malformed field: 400 naming it, nothing recorded"""
        r1, _ = self.file_person()
        alice, _ = self.officer()
        orders = lambda: self.inst.query("SELECT count(*) FROM disclosure_order")[0][0]
        before = orders()
        cases = [({"requester": ""}, "requester", "Enter who asks"),
                 ({"reference": "caf\u00e9-12"}, "reference", "without accents"),
                 ({"legal_basis": ""}, "legal_basis", "legal basis"),
                 ({"received": "23/11/2026"}, "received", "YYYY-MM-DD"),
                 ({"received": self.day(3)}, "received", "cannot be in the future"),
                 ({"requests": ""}, "requests", "Enter the request numbers"),
                 ({"requests": "%s, x" % r1}, "requests", "Enter the request numbers"),
                 ({"requests": "%s, %s" % (r1, r1)}, "requests", "twice"),
                 ({"requests": "999999999"}, "requests", "does not exist"),
                 ({"class-contact": ""}, "class-contact", "at least one class")]
        for fill, field, words in cases:
            r = self.record(alice, [r1], expect=400, **fill)
            page = Page(r.text)
            self.assertIn(words, page.text, fill)
            self.assertIn('id="%s"' % field, r.text)
            self.assertEqual(orders(), before, fill)
        # The same reference twice: a conflict.
        self.record(alice, [r1], reference="DUP-%s" % canary("d")[-6:])
        ref = self.inst.query("SELECT reference FROM disclosure_order ORDER BY id DESC "
                              "LIMIT 1")[0][0]
        r = self.record(alice, [r1], expect=409, reference=ref)
        self.assertIn("in the register already", Page(r.text).text)
        # Unknown fields, a missing or wrong CSRF token.
        csrf = self.csrf_of(alice)
        n = orders()
        self.assertEqual(alice.post("/staff/register", [("csrf", csrf), ("x", "1")]).status, 400)
        self.assertEqual(alice.post("/staff/register", [("csrf", "0" * 64),
                                                        ("requester", "x")]).status, 403)
        self.assertEqual(alice.post("/staff/register/1/nothing", [("csrf", csrf)]).status, 404)
        self.assertEqual(alice.get("/staff/register/0").status, 404)
        self.assertEqual(alice.get("/staff/register/99999").status, 404)
        self.assertEqual(alice.get("/staff/register/1x").status, 404)
        self.assertEqual(orders(), n)

    def test_register_refused_for_other_roles(self):
        """every register address is 403 for agent, agency staff, supervisor, admin"""
        r1, _ = self.file_person()
        alice, _ = self.officer()
        oid = self.record(alice, [r1])
        for role, agencies in (("agent", None), ("agency_staff", "DOT"), ("supervisor", "DOT"),
                               ("admin", None)):
            b = self.sign_in(self.add(role, agencies))
            home = b.get("/staff/").text
            self.assertNotIn("/staff/register", home, role)
            csrf = self.csrf_of(b)
            before, counts = audit_size(self.inst), self.inst.table_counts()
            for method, path in (("GET", "/staff/register"), ("POST", "/staff/register"),
                                 ("GET", "/staff/register/%d" % oid),
                                 ("POST", "/staff/register/%d/approve" % oid),
                                 ("POST", "/staff/register/%d/close" % oid),
                                 ("POST", "/staff/register/%d/export" % oid)):
                r = (b.get(path) if method == "GET" else
                     b.post(path, [("csrf", csrf), ("class-contact", "1")]))
                self.assertEqual(r.status, 403, (role, method, path, r.describe()))
                self.assertIn("Not for your role", Page(r.text).text)
                self.assertNotIn("Supreme Court", r.text, "nothing of the register shown")
            self.assertEqual(audit_size(self.inst), before)
            self.assertEqual(self.inst.table_counts(), counts)

    # ---- the figures ----

    def rows(self):
        cols = ("service_code", "agency_code", "requested_at", "closed_at", "expected_at",
                "status", "resolution")
        rows = [dict(zip(cols, r)) for r in self.inst.query(
            "SELECT %s FROM request WHERE pending = 0" % ", ".join(cols))]
        # `requests update` closes on the real clock while this server's runs
        # ahead (each sign-in moves it 30 s): a request can close "before" it
        # was filed here, which core/stats.c counts as no time, never less.
        for r in rows:
            if r["closed_at"] is not None and r["closed_at"] < r["requested_at"]:
                r["closed_at"] = r["requested_at"]
        return rows

    def parse_csv(self, text):
        reader = csv.DictReader(io.StringIO(text, newline=""))
        return {(row["group_by"], row["group"]): row for row in reader}

    def test_figures_page_and_csv_match_the_command(self):
        """the page and CSV equal `civic311 stats`; agency staff see only their agencies"""
        services = [s["service_code"] for s in self.catalog.services
                    if s["type"] == "realtime"][:6]
        ids = [self.file({"email": person()["email"]}, code=services[i % len(services)])
               for i in range(8)]
        for rid, (status, res) in zip(ids, [("closed", "fixed"), ("closed", "not_fixed"),
                                            ("in_progress", None)]):
            note = "Closed: %s." % res if res not in (None, "fixed") else None
            self.inst.update_request(rid, status, res, note=note)
        sup = self.sign_in(self.add("supervisor", "DOT"))
        q = "from=%s&to=%s" % (self.day(-1), self.day(1))
        page = self.assertConsolePage(sup.get("/staff/figures?" + q), 200)
        self.assertIn("Closed but not fixed", page.text)
        self.assertIn("/staff/figures.csv?from=%s&to=%s&by=all" % (self.day(-1), self.day(1)),
                       sup.get("/staff/figures?" + q).text.replace("&amp;", "&"))
        r = sup.get("/staff/figures.csv?" + q)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.headers.get("Content-Type"), "text/csv; charset=utf-8")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertTrue(r.headers.get("Content-Disposition").startswith("attachment;"))
        now = int(self.now())
        code, out, err = self.inst.cli("stats", None, "--from", self.day(-1), "--to",
                                       self.day(1), "--now", iso(now))
        self.assertEqual(code, 0, err)
        self.assertEqual(r.text, out, "the page's CSV is the command's")
        want = reference(self.rows(), now)
        got = self.parse_csv(r.text)
        for k in sorted(set(want) | set(got)):
            self.assertEqual(got.get(k), want.get(k), k)
        # The page shows the same counts: the overall filed count.
        self.assertIn(str(len(self.rows())), page.text)
        # --by agency, the same.
        r = sup.get("/staff/figures.csv?%s&by=agency" % q)
        code, out, _ = self.inst.cli("stats", None, "--from", self.day(-1), "--to", self.day(1),
                                     "--now", iso(now), "--by", "agency")
        self.assertEqual(r.text, out)

        # Agency staff: only the rows of their agency.
        agencies = sorted({r["agency_code"] for r in self.rows() if r["agency_code"]})
        self.assertTrue(len(agencies) >= 2, "the demo services route to several agencies")
        mine = agencies[0]
        staff = self.sign_in(self.add("agency_staff", mine))
        r = staff.get("/staff/figures.csv?" + q)
        self.assertEqual(r.status, 200, r.describe())
        got = self.parse_csv(r.text)
        self.assertEqual(got, reference([x for x in self.rows() if x["agency_code"] == mine],
                                        now))
        for other in agencies[1:]:
            self.assertNotIn(("agency", other), got)
            self.assertNotIn(other, staff.get("/staff/figures?" + q).text.replace(
                "Requests routed to your agencies only", ""))

        # Bad queries: 400 and a clear message.
        for bad in ("from=2026-13-01", "to=yesterday", "from=2026-05-02&to=2026-05-01",
                    "by=street", "from=1900-01-01&to=2026-01-01"):
            r = sup.get("/staff/figures?" + bad)
            self.assertEqual(r.status, 400, (bad, r.describe()))
            self.assertTrue(Page(r.text).alerts(), bad)
            self.assertEqual(sup.get("/staff/figures.csv?" + bad).status, 400, bad)

        # Officers and agents do not see the figures.
        for role in ("agent", "records_officer", "privacy_officer"):
            b = self.sign_in(self.add(role))
            for path in ("/staff/figures", "/staff/figures.csv"):
                self.assertEqual(b.get(path).status, 403, (role, path))
