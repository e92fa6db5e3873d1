"""
The agency queue and a request's page in the staff console (issue 5 item 4:
W3, W4, W5), over HTTP as a browser without JavaScript uses them, on a real
server of its own whose clock the test moves (for the TOTP steps and SLAs).

- Requests are filed through Open311 POST for two agencies (DOT's potholes
  and signals, DSNY's litter); a member of DOT's staff sees DOT's only, in
  the queue and on every request URL and POST: another agency's request is
  the same 404 as a number that does not exist.
- Filters (status, service, overdue, not acknowledged, filing window),
  the four orders, the total; malformed filters get a 400 page.
- The forms: acknowledge, start, close with a resolution and a public note,
  reopen, a public or internal note (Open311 shows the public one only),
  transfer, merge; only the actions the lifecycle permits are offered; a
  refused change says the rule and changes nothing; a change made on a page
  someone else has changed since is refused with the request as it is now.
- Bulk actions are all or nothing; a refusal names the request and keeps
  the ticks and the filters.
- The reporter's contact details are on no page until the "Show contact
  details" form is sent with a purpose: then on that answer only, and the
  read is in the audit log. Every POST refuses a missing or wrong CSRF token.
"""
import json
import os
import re
import time

import harness
from base import canary
from test_privacy import person
from test_staff import SECRET_RE, StaffBrowser, totp
from test_web import Page, WebTest

POTHOLE = "DOT-POTHOLE"   # DOT, SLA 240 h
SIGNAL = "DOT-SIGNAL"     # DOT, SLA 24 h
LITTER = "DSNY-LITTER"    # DSNY
STALE = "Someone changed this request meanwhile"
LINK_RE = re.compile(r'href="/staff/requests/(\d+)"')


class ConsoleQueue(WebTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inst = harness.Installation("queue")
        cls.clock = os.path.join(cls.inst.root, "clock")
        cls.offset = 0
        with open(cls.clock, "w") as f:
            f.write("0\n")
        cls.server = cls.inst.start_server(threads=2,
                                           env={"CIVIC311_TEST_CLOCK_FILE": cls.clock})
        cls.port = cls.server.port
        cls.key = cls.inst.create_api_key()
        cls.passwords = []
        cls.dot = cls.add_member("agency_staff", "DOT")
        cls.dsny = cls.add_member("agency_staff", "DSNY")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        log = cls.server.read_log() + open(cls.inst.cli_log).read()
        for pw in cls.passwords:
            assert pw not in log, "a log holds a password"

    # ---- helpers ----

    @classmethod
    def add_member(cls, role, agencies=None):
        login = "q" + canary("s")[-10:].lower().replace("_", "")
        pw = "pw " + canary("staffpw") + " horse"
        args = ["--login", login, "--role", role, "--actor", "tests"]
        if agencies:
            args += ["--agency", agencies]
        _, out, _ = cls.inst.cli("staff", "add", *args, input=pw + "\n")
        cls.passwords.append(pw)
        return login, pw, SECRET_RE.search(out).group(1)

    def advance(self, seconds):
        type(self).offset += seconds
        with open(self.clock, "w") as f:
            f.write("%d\n" % self.offset)

    def sign_in(self, member):
        login, pw, secret = member
        b = StaffBrowser(self.port)
        self.browsers.append(b)
        page = Page(b.get("/staff/sign-in").text)
        r = b.post("/staff/sign-in", page.form("/staff/sign-in").submit(
            [("login", login), ("password", pw)]))
        self.assertEqual(r.status, 303, r.describe())
        self.advance(30)  # a code step this member has not used yet
        page = Page(b.get("/staff/sign-in/code").text)
        r = b.post("/staff/sign-in/code", page.form("/staff/sign-in/code").submit(
            [("code", totp(secret, time.time() + self.offset))]))
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/staff/"),
                         r.describe())
        return b

    def file(self, code, extra=()):
        return self.create(code, extra=list(extra))

    def page(self, b, path, status=200):
        r = b.get(path)
        self.assertConsole(r, status)
        return Page(r.text)

    def assertConsole(self, r, status):
        self.assertPage(r, status)
        self.assertEqual(r.headers.get("X-Robots-Tag"), "noindex, nofollow")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")

    def queue_ids(self, b, query=""):
        r = b.get("/staff/queue" + query)
        self.assertConsole(r, 200)
        return [int(x) for x in LINK_RE.findall(r.text)], r

    def change_form(self, page, rid, action, into=None):
        forms = [f for f in page.forms if f.action == "/staff/requests/%s/change" % rid and
                 f.value("do") == action and (into is None or f.value("into") == str(into))]
        self.assertEqual(len(forms), 1, "want one %s form, found %r" % (
            action, [(f.action, f.value("do")) for f in page.forms]))
        return forms[0]

    def offered(self, b, rid):
        """The actions the page has forms for (merges aside: they depend on
        what else is open nearby)."""
        page = self.page(b, "/staff/requests/%s" % rid)
        return {f.value("do") for f in page.forms
                if f.action == "/staff/requests/%s/change" % rid} - {"merge"}

    def change(self, b, rid, action, fill=(), selects=(), status=303, page=None):
        """Sends the page's form for action: fill for its inputs, selects
        (which the test's parser does not read) added as a browser would."""
        page = page or self.page(b, "/staff/requests/%s" % rid)
        pairs = self.change_form(page, rid, action).submit(list(fill)) + list(selects)
        r = b.post("/staff/requests/%s/change" % rid, pairs)
        self.assertEqual(r.status, status, r.describe())
        return r

    def snapshot(self, rid):
        row = self.inst.query("SELECT status, resolution, status_notes, agency_code, updated_at, "
                              "closed_at, merged_into FROM request WHERE id = ?", (int(rid),))
        ev = self.inst.query("SELECT count(*), MAX(id) FROM request_event WHERE request_id = ?",
                             (int(rid),))
        return row, ev

    def status_of(self, rid):
        return self.inst.query("SELECT status FROM request WHERE id = ?", (int(rid),))[0][0]

    def ext(self, rid):
        return self.get_request(rid, extensions="true")

    def audit_since(self, seq):
        return [json.loads(b) for (b,) in self.inst.query(
            "SELECT body FROM audit_entry WHERE seq > ? ORDER BY seq", (seq,))]

    def audit_seq(self):
        return self.inst.query("SELECT COALESCE(MAX(seq), 0) FROM audit_entry")[0][0]

    def staff_id(self, login):
        return self.inst.query("SELECT id FROM staff WHERE login = ?", (login,))[0][0]

    # ---- the queue ----

    def test_queue_shows_only_the_members_agencies(self):
        """DOT's staff see DOT's requests, DSNY's see DSNY's; no personal data in the list"""
        p = person()
        desc = canary("desc")
        pot = self.file(POTHOLE, list(p.items()) + [("description", desc)])
        sig = self.file(SIGNAL)
        lit = self.file(LITTER)
        dot = self.sign_in(self.dot)
        ids, r = self.queue_ids(dot, "?sort=newest")
        self.assertIn(int(pot), ids)
        self.assertIn(int(sig), ids)
        self.assertNotIn(int(lit), ids)
        page = Page(r.text)
        self.assertIn("Requests found: %d" % self.inst.query(
            "SELECT count(*) FROM request WHERE agency_code = 'DOT' AND status <> 'closed'")[0][0],
            [t for _, t in page.headings])
        for v in list(p.values()) + [desc]:
            self.assertNotIn(v, r.text, "the queue shows personal data or a description")
        dsny = self.sign_in(self.dsny)
        ids, _ = self.queue_ids(dsny, "?sort=newest")
        self.assertIn(int(lit), ids)
        self.assertNotIn(int(pot), ids)
        # Other roles: not their page.
        agent = self.sign_in(self.add_member("agent"))
        self.assertConsole(agent.get("/staff/queue"), 403)
        self.assertConsole(agent.get("/staff/requests/%s" % pot), 403)

    def test_filters_sorts_and_paging(self):
        """status, service, unacknowledged, overdue, filing window, four orders; bad filters 400"""
        a = self.file(POTHOLE)
        self.advance(60)
        b_ = self.file(POTHOLE)
        self.advance(60)
        c = self.file(SIGNAL)
        dot = self.sign_in(self.dot)
        ids, _ = self.queue_ids(dot, "?sort=oldest")
        mine = [i for i in ids if i in (int(a), int(b_), int(c))]
        self.assertEqual(mine, [int(a), int(b_), int(c)])
        ids, _ = self.queue_ids(dot, "?sort=newest")
        self.assertEqual([i for i in ids if i in (int(a), int(b_), int(c))],
                         [int(c), int(b_), int(a)])
        # SLA due soonest: the signal (24 h) before the potholes (240 h).
        ids, _ = self.queue_ids(dot, "?sort=sla")
        self.assertLess(ids.index(int(c)), ids.index(int(a)))
        self.change(dot, b_, "acknowledge")
        ids, _ = self.queue_ids(dot, "?sort=updated")
        self.assertEqual(ids[0], int(b_))
        ids, _ = self.queue_ids(dot, "?status=acknowledged")
        self.assertIn(int(b_), ids)
        self.assertNotIn(int(a), ids)
        ids, _ = self.queue_ids(dot, "?unack=1")
        self.assertIn(int(a), ids)
        self.assertNotIn(int(b_), ids)
        ids, _ = self.queue_ids(dot, "?service=" + SIGNAL)
        self.assertIn(int(c), ids)
        self.assertNotIn(int(a), ids)
        ids, r = self.queue_ids(dot, "?service=" + LITTER)
        self.assertEqual(ids, [])
        self.assertIn("Requests found: 0", r.text)
        today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + self.offset))
        ids, _ = self.queue_ids(dot, "?from=%s&to=%s" % (today, today))
        self.assertIn(int(a), ids)
        ids, _ = self.queue_ids(dot, "?to=2001-01-01")
        self.assertEqual(ids, [])
        # The filters are kept in the form.
        page = self.page(dot, "/staff/queue?status=open&status=reopened&unack=1&sort=sla")
        form = [f for f in page.forms if f.method == "get"][0]
        self.assertEqual(form.value("status"), ["open", "reopened"])
        self.assertEqual(form.value("unack"), ["1"])
        for bad in ("?status=bogus", "?sort=sideways", "?service=NOPE", "?from=2026-13-45",
                    "?from=yesterday", "?page=0", "?page=x", "?page=100000",
                    "?sort=sla&status=closed", "?overdue=1&status=closed",
                    "?from=2026-02-02&to=2026-01-01"):
            r = dot.get("/staff/queue" + bad)
            self.assertConsole(r, 400)
            self.assertTrue(Page(r.text).alerts(), bad)
        # Overdue: a day later the signal is past its 24 h SLA; a new
        # sign-in, the old session having ended idle.
        self.advance(25 * 3600)
        dot = self.sign_in(self.dot)
        ids, r = self.queue_ids(dot, "?overdue=1")
        self.assertIn(int(c), ids)
        self.assertNotIn(int(a), ids)
        self.assertIn("Overdue", r.text)  # said in words, not by colour alone

    def test_paging_and_total(self):
        """the total counts every match; pages of 50 link to each other with the filters"""
        dot = self.sign_in(self.dot)
        _, r = self.queue_ids(dot, "?service=%s&status=open" % SIGNAL)
        total = int(re.search(r"Requests found: (\d+)", r.text).group(1))
        for _ in range(max(0, 53 - total)):
            self.file(SIGNAL)
        ids1, r = self.queue_ids(dot, "?service=%s&status=open" % SIGNAL)
        total = int(re.search(r"Requests found: (\d+)", r.text).group(1))
        self.assertGreater(total, 50)
        self.assertEqual(len(ids1), 50)
        nxt = [h for h, a, _ in Page(r.text).links if a.get("rel") == "next"]
        self.assertEqual(len(nxt), 1)
        self.assertIn("service=" + SIGNAL, nxt[0])
        ids2, r = self.queue_ids(dot, nxt[0].replace("&amp;", "&")[len("/staff/queue"):])
        self.assertFalse(set(ids1) & set(ids2))
        self.assertEqual(len(ids2), min(50, total - 50))

    def test_pages_in_spanish(self):
        """the queue and a request's page in the browser's language, every new message translated"""
        rid = self.file(POTHOLE)
        dot = self.sign_in(self.dot)
        dot.accept_language = "es"
        r = dot.get("/staff/queue?sort=newest")
        page = self.assertPage(r, 200, lang="es")
        self.assertEqual(page.h1, ["Cola de la agencia"])
        self.assertIn("Aplicar a las solicitudes marcadas", page.text)
        r = dot.get("/staff/requests/%s" % rid)
        page = self.assertPage(r, 200, lang="es")
        self.assertIn("Trabajar en esta solicitud", [t for _, t in page.headings])
        self.assertIn("Mostrar los datos de contacto", page.text)
        for english in ("Work on this request", "Show contact details", "Add a note"):
            self.assertNotIn(english, page.text)

    # ---- one request ----

    def test_acknowledge_start_close_reopen_and_notes(self):
        """each form, only the permitted ones offered, internal notes never on Open311"""
        rid = self.file(POTHOLE)
        dot = self.sign_in(self.dot)
        login = self.dot[0]
        self.assertEqual(self.offered(dot, rid),
                         {"acknowledge", "start", "close", "note", "transfer"})
        self.change(dot, rid, "acknowledge")
        self.assertEqual(self.status_of(rid), "acknowledged")
        self.assertEqual(self.offered(dot, rid), {"start", "close", "note", "transfer"})
        secret = canary("internal")
        public = "Crew booked " + canary("pub")
        self.change(dot, rid, "note", [("note", secret), ("visibility", "internal")])
        self.change(dot, rid, "start")
        self.change(dot, rid, "note", [("note", public), ("visibility", "public")])
        # A refused close: not_fixed without a note; the rule is said, nothing changes.
        before = self.snapshot(rid)
        r = self.change(dot, rid, "close", selects=[("resolution", "not_fixed")], status=400)
        self.assertIn("needs a public note", r.text)
        self.assertEqual(self.snapshot(rid), before)
        r = self.change(dot, rid, "close", selects=[("resolution", "bogus")], status=400)
        self.assertEqual(self.snapshot(rid), before)
        self.change(dot, rid, "close", [("note", "Filled today")],
                    selects=[("resolution", "fixed")])
        self.assertEqual(self.offered(dot, rid), {"reopen", "note"})
        r = self.change(dot, rid, "reopen", status=400)  # a reopen needs a note
        self.assertEqual(self.status_of(rid), "closed")
        self.change(dot, rid, "reopen", [("note", "Resident says it is back"),
                                         ("visibility", "public")])
        self.assertEqual(self.status_of(rid), "reopened")
        ext = self.ext(rid)
        notes = [n["description"] for n in ext["extended_attributes"]["notes"]]
        self.assertIn(public, notes)
        self.assertIn("Filled today", notes)
        self.assertIn("Resident says it is back", notes)
        for path in ("requests/%s.json?extensions=true" % rid, "servicerequestupdates.json"):
            body = self.c.get(path).body
            self.assertNotIn(secret.encode(), body)
            self.assertNotIn(login.encode(), body)
        # The console's history: the internal note, said to be internal, and who.
        page = self.page(dot, "/staff/requests/%s" % rid)
        self.assertIn(secret, page.text)
        self.assertIn("Internal note (staff only): " + secret, page.text)
        self.assertIn("by %s" % login, page.text)
        self.assertNotIn("staff:%d" % self.staff_id(login), page.text)
        actors = {a for (a,) in self.inst.query(
            "SELECT actor FROM request_event WHERE request_id = ? AND kind <> 'created'",
            (int(rid),))}
        self.assertEqual(actors, {"staff:%d" % self.staff_id(login)})

    def test_a_stale_change_is_refused_with_the_request_as_it_is_now(self):
        """two pages open; the second change is refused, not applied"""
        rid = self.file(POTHOLE)
        dot = self.sign_in(self.dot)
        old = self.page(dot, "/staff/requests/%s" % rid)
        other = self.sign_in(self.add_member("supervisor", "DOT"))
        self.change(other, rid, "acknowledge")
        before = self.snapshot(rid)
        r = self.change(dot, rid, "start", page=old, status=409)
        self.assertIn(STALE, r.text)
        self.assertIn("Seen by the agency", r.text)  # the request as it is now
        self.assertEqual(self.snapshot(rid), before)
        # A note typed on the stale page is kept for sending again.
        r = self.change(dot, rid, "note", [("note", "kept text")], page=old, status=409)
        self.assertIn("kept text", r.text)
        self.assertEqual(self.snapshot(rid), before)
        # The refusal's page carries the new state: sending from it works.
        self.change(dot, rid, "start", page=Page(r.text))
        self.assertEqual(self.status_of(rid), "in_progress")

    def test_transfer_to_another_agency(self):
        """a misrouted request goes to DSNY with a note: DOT loses it, DSNY sees it"""
        rid = self.file(POTHOLE)
        dot = self.sign_in(self.dot)
        r = self.change(dot, rid, "transfer", status=400, selects=[("agency", "DSNY")])
        self.assertIn("note", r.text)  # a transfer needs a note
        self.assertEqual(self.inst.query("SELECT agency_code FROM request WHERE id = ?",
                                         (int(rid),))[0][0], "DOT")
        r = self.change(dot, rid, "transfer", [("note", "Litter, not a pothole")],
                        selects=[("agency", "DSNY")])
        self.assertEqual(r.headers.get("Location"), "/staff/queue?moved=%s" % rid)
        self.assertEqual(self.ext(rid)["agency_responsible"], "Department of Sanitation")
        self.assertConsole(dot.get("/staff/requests/%s" % rid), 404)
        dsny = self.sign_in(self.dsny)
        ids, _ = self.queue_ids(dsny, "?sort=updated")
        self.assertIn(int(rid), ids)
        page = self.page(dsny, "/staff/requests/%s" % rid)
        self.assertIn("Litter, not a pothole", page.text)

    def test_merge_a_duplicate_nearby(self):
        """the nearby open request is offered; the merge closes this one as its duplicate"""
        first = self.file(POTHOLE)
        dup = self.file(POTHOLE)
        dot = self.sign_in(self.dot)
        page = self.page(dot, "/staff/requests/%s" % dup)
        self.assertIn("Open requests nearby", [t for _, t in page.headings])
        form = self.change_form(page, dup, "merge", into=first)
        r = dot.post("/staff/requests/%s/change" % dup,
                     form.submit([("note", "Same hole")]))
        self.assertEqual(r.status, 303, r.describe())
        ext = self.ext(dup)
        self.assertEqual(ext["status"], "closed")
        self.assertEqual(ext["extended_attributes"]["resolution"], "duplicate")
        self.assertEqual(str(ext["extended_attributes"]["merged_into"]), first)
        page = self.page(dot, "/staff/requests/%s" % dup)
        self.assertIn("duplicate of request", page.text)
        # A merge into a number that does not exist: refused, nothing changed.
        other = self.file(POTHOLE)
        page = self.page(dot, "/staff/requests/%s" % other)
        form = self.change_form(page, other, "merge", into=first)
        before = self.snapshot(other)
        pairs = [(k, "999999999" if k == "into" else v) for k, v in form.submit()]
        r = dot.post("/staff/requests/%s/change" % other, pairs)
        self.assertEqual(r.status, 400, r.describe())
        self.assertEqual(self.snapshot(other), before)

    # ---- bulk ----

    def bulk_form(self, page):
        forms = [f for f in page.forms if f.method == "post" and f.action == "/staff/queue"]
        self.assertEqual(len(forms), 1)
        return forms[0]

    def bulk(self, b, ids, action, query="", selects=(), fill=(), status=303):
        page = self.page(b, "/staff/queue" + query)
        form = self.bulk_form(page)
        pairs = form.submit([("id", str(i)) for i in ids] + [("do", action)] + list(fill))
        r = b.post("/staff/queue", pairs + list(selects))
        self.assertEqual(r.status, status, r.describe())
        return r

    def test_bulk_actions_are_all_or_nothing(self):
        """one refusal names its request and rule, changes none, keeps ticks and filters"""
        ids = [self.file(SIGNAL) for _ in range(3)]
        dot = self.sign_in(self.dot)
        self.change(dot, ids[1], "start")
        before = [self.snapshot(i) for i in ids]
        q = "?service=%s&sort=newest" % SIGNAL
        r = self.bulk(dot, ids, "acknowledge", q, status=409)
        self.assertIn("request %s:" % ids[1], r.text)
        self.assertIn("in_progress", r.text)  # the rule: no way back to acknowledged
        self.assertEqual([self.snapshot(i) for i in ids], before)
        page = Page(r.text)
        form = self.bulk_form(page)
        self.assertEqual(sorted(form.value("id")), sorted(ids))  # the ticks are kept
        self.assertEqual(form.value("do"), ["acknowledge"])
        self.assertIn(("service", SIGNAL), form.hidden())
        # Closing needs a resolution: said, nothing changed.
        r = self.bulk(dot, [ids[0], ids[2]], "close", q, status=400)
        self.assertEqual([self.snapshot(i) for i in ids], before)
        r = self.bulk(dot, [ids[0], ids[2]], "acknowledge", q)
        self.assertTrue(r.headers.get("Location").startswith("/staff/queue?sort=newest"))
        self.assertIn("service=" + SIGNAL, r.headers.get("Location"))
        self.assertIn("done=2", r.headers.get("Location"))
        self.assertEqual([self.status_of(i) for i in ids],
                         ["acknowledged", "in_progress", "acknowledged"])
        r = self.bulk(dot, ids, "close", q, selects=[("resolution", "fixed")],
                      fill=[("note", "Signals retimed")])
        self.assertEqual([self.status_of(i) for i in ids], ["closed"] * 3)
        self.assertEqual(self.ext(ids[0])["status_notes"], "Signals retimed")
        # Another agency's request among the ticked: refused whole, named.
        mine = self.file(SIGNAL)
        theirs = self.file(LITTER)
        page = self.page(dot, "/staff/queue")
        form = self.bulk_form(page)
        pairs = form.submit([("id", mine), ("do", "acknowledge")]) + [("id", theirs)]
        snap = (self.snapshot(mine), self.snapshot(theirs))
        r = dot.post("/staff/queue", pairs)
        self.assertEqual(r.status, 409, r.describe())
        self.assertIn("request %s: not in your agencies' queue" % theirs, Page(r.text).text)
        self.assertEqual((self.snapshot(mine), self.snapshot(theirs)), snap)
        # Malformed: a bad id, an unknown field, a field twice.
        for extra in ([("id", "abc")], [("id", mine)], [("nope", "1")], [("do", "close")]):
            r = dot.post("/staff/queue", pairs[:-1] + extra)
            self.assertConsole(r, 400)
        self.assertEqual((self.snapshot(mine), self.snapshot(theirs)), snap)

    # ---- access ----

    def test_another_agencys_request_is_404_on_every_url(self):
        """the same answer as a number that does not exist, for GET and every POST"""
        theirs = self.file(LITTER)
        mine = self.file(POTHOLE)
        dot = self.sign_in(self.dot)
        valid = Page(dot.get("/staff/requests/%s" % mine).text)
        csrf = valid.forms[-1].value("csrf")
        seen = self.change_form(valid, mine, "note").value("seen")
        nobody = "999999999"
        before = self.snapshot(theirs)
        audit = self.audit_seq()
        answers = []
        for rid in (theirs, nobody):
            r = dot.get("/staff/requests/%s" % rid)
            self.assertConsole(r, 404)
            answers.append(Page(r.text).h1)
            for action, extra in (("acknowledge", []), ("start", []),
                                  ("close", [("resolution", "fixed"), ("note", "x")]),
                                  ("reopen", [("note", "x")]), ("note", [("note", "x")]),
                                  ("transfer", [("agency", "DOT"), ("note", "x")]),
                                  ("merge", [("into", mine)])):
                r = dot.post("/staff/requests/%s/change" % rid,
                             [("csrf", csrf), ("do", action), ("seen", seen)] + extra)
                self.assertConsole(r, 404)
                answers.append(Page(r.text).h1)
            r = dot.post("/staff/requests/%s/contact" % rid,
                         [("csrf", csrf), ("purpose", "address_request")])
            self.assertConsole(r, 404)
            answers.append(Page(r.text).h1)
        self.assertEqual(set(map(tuple, answers)), {("Page not found",)})
        self.assertEqual(self.snapshot(theirs), before)
        self.assertEqual(self.audit_since(audit), [], "a refused read of nothing is no read")
        for path in ("/staff/requests/abc", "/staff/requests/0", "/staff/requests/%s/x" % mine,
                     "/staff/requests/%s/" % mine):
            self.assertConsole(dot.get(path), 404)
        r = dot.post("/staff/requests/%s/nothing" % mine, [("csrf", csrf)])
        self.assertConsole(r, 404)

    def test_contact_details_only_through_the_audited_purpose(self):
        """not on the page; shown on the answer to the purpose form; the read is on record"""
        p = person()
        rid = self.file(POTHOLE, p.items())
        dot = self.sign_in(self.dot)
        page = self.page(dot, "/staff/requests/%s" % rid)
        for v in (p["email"], p["first_name"], p["last_name"]):
            self.assertNotIn(v, page.text)
        form = page.form("/staff/requests/%s/contact" % rid)
        audit = self.audit_seq()
        r = dot.post("/staff/requests/%s/contact" % rid,
                     form.submit() + [("purpose", "address_request")])
        self.assertConsole(r, 200)
        self.assertIn(p["email"], r.text)
        self.assertIn(p["first_name"], r.text)
        self.assertIn("recorded in the audit log", r.text)
        entries = self.audit_since(audit)
        self.assertEqual([(e["action"], e["actor"], e["purpose"], e["request"]) for e in entries],
                         [("read", "staff:%d" % self.staff_id(self.dot[0]), "address_request",
                           int(rid))])
        # Not kept: the next page shows none of it.
        page = self.page(dot, "/staff/requests/%s" % rid)
        self.assertNotIn(p["email"], page.text)
        # A purpose the policy does not give agency staff: refused, and on record.
        audit = self.audit_seq()
        r = dot.post("/staff/requests/%s/contact" % rid,
                     form.submit() + [("purpose", "required_by_law")])
        self.assertConsole(r, 403)
        self.assertNotIn(p["email"], r.text)
        self.assertEqual([e["action"] for e in self.audit_since(audit)], ["refuse"])
        # Malformed: no purpose, an unknown one.
        for pairs in (form.submit(), form.submit() + [("purpose", "curiosity")]):
            self.assertConsole(dot.post("/staff/requests/%s/contact" % rid, pairs), 400)
        self.assertLogClean(list(p.values()))

    def test_csrf_is_refused_on_every_post(self):
        """no token or a wrong one: 403, nothing changed, nothing read"""
        rid = self.file(POTHOLE, person().items())
        dot = self.sign_in(self.dot)
        page = self.page(dot, "/staff/requests/%s" % rid)
        seen = self.change_form(page, rid, "acknowledge").value("seen")
        before = self.snapshot(rid)
        audit = self.audit_seq()
        for token in (None, "0" * 64):
            csrf = [] if token is None else [("csrf", token)]
            r = dot.post("/staff/requests/%s/change" % rid,
                         csrf + [("do", "acknowledge"), ("seen", seen)])
            self.assertConsole(r, 403)
            r = dot.post("/staff/requests/%s/contact" % rid,
                         csrf + [("purpose", "address_request")])
            self.assertConsole(r, 403)
            r = dot.post("/staff/queue", csrf + [("id", rid), ("do", "acknowledge")])
            self.assertConsole(r, 403)
        self.assertEqual(self.snapshot(rid), before)
        self.assertEqual(self.audit_since(audit), [])
        # A token of another session is wrong too.
        other = self.sign_in(self.dot)
        tok = self.page(other, "/staff/requests/%s" % rid).forms[-1].value("csrf")
        r = dot.post("/staff/requests/%s/change" % rid,
                     [("csrf", tok), ("do", "acknowledge"), ("seen", seen)])
        self.assertConsole(r, 403)
        self.assertEqual(self.snapshot(rid), before)
        # Malformed change forms: 400, nothing changed.
        good = dict(self.change_form(page, rid, "acknowledge").submit())
        for pairs in ([("csrf", good["csrf"]), ("do", "acknowledge")],
                      [("csrf", good["csrf"]), ("do", "fly"), ("seen", seen)],
                      [("csrf", good["csrf"]), ("do", "note"), ("seen", seen),
                       ("visibility", "everyone"), ("note", "x")],
                      [("csrf", good["csrf"]), ("do", "acknowledge"), ("seen", "x")],
                      [("csrf", good["csrf"]), ("do", "acknowledge"), ("seen", seen),
                       ("extra", "1")]):
            self.assertConsole(dot.post("/staff/requests/%s/change" % rid, pairs), 400)
        self.assertEqual(self.snapshot(rid), before)
        # Signed out: every address goes to the sign-in page.
        anon = StaffBrowser(self.port)
        self.browsers.append(anon)
        for path in ("/staff/queue", "/staff/requests/%s" % rid):
            r = anon.get(path)
            self.assertEqual((r.status, r.headers.get("Location")), (303, "/staff/sign-in"))
        r = anon.post("/staff/requests/%s/change" % rid, [("do", "acknowledge")])
        self.assertEqual((r.status, r.headers.get("Location")), (303, "/staff/sign-in"))

