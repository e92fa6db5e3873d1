"""
Notifications (issue 5, W6) against a REAL local SMTP server (aiosmtpd,
Debian's python3-aiosmtpd) and a real local HTTP receiver for webhooks, both
started here, on loopback ports of their own.

- A resident who ticks "Email me when this request changes" on the website
  gets exactly one email per public change (a status change by `civic311
  requests update`): the request's number, service, status, resolution,
  public note and link, and nothing personal but the To: address. An
  unticked box, or an internal note, sends nothing more; a ticked box
  without an email is refused and files nothing.
- Open311: an email alone does not follow; notify=true does; a bad value
  is refused.
- The relay refusing (451, 550) or down: the row stays pending, is tried
  again after the (test-short) backoff with our words as last_error, and
  is delivered once the relay takes it.
- Webhooks: `civic311 webhook add` prints the secret once; each POST's
  X-Civic311-Signature verifies in Python with it, and not with another
  secret; a 500 is retried; the body holds no personal data.
- SIGKILL while the relay holds the message in DATA: after a restart the
  lease runs out and the email goes again: delivered at least once (same
  Message-ID every time), recorded once (one outbox row, sent).
"""
import asyncio
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import re
import socket
import threading
import time

import harness
from base import canary
from test_web import WebTest

from aiosmtpd.controller import Controller  # Debian's python3-aiosmtpd (run.py checks)

WAIT = 40  # seconds: generous for the ASan build on two busy cores


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Relay:
    """A real SMTP server. mode: "accept", "451", "550", or "block" (DATA
    waits until release() or a mode change)."""

    def __init__(self):
        self.port = free_port()
        self.mode = "accept"
        self.messages = []   # (rcpt_tos, message bytes) of accepted mail
        self.attempts = 0    # DATA commands seen
        self.in_data = threading.Event()
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            mode = self.mode
        if mode == "block":
            self.in_data.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 try later"
        if mode in ("451", "550"):
            return "%s refused for the test" % mode
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, addr):
        with self.lock:
            return [email.message_from_bytes(m, policy=email.policy.default)
                    for rcpt, m in self.messages if addr in rcpt]


class Receiver:
    """A real HTTP server for webhooks: records each POST, answers `status`."""

    def __init__(self):
        outer = self
        self.posts = []
        self.status = 200
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with outer.lock:
                    outer.posts.append((self.path, dict(self.headers), body))
                    status = outer.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def verify(secret_hex, headers, body):
    ts = headers.get("X-Civic311-Timestamp")
    mac = hmac.new(bytes.fromhex(secret_hex), ts.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), headers.get("X-Civic311-Signature", ""))


def wait_for(what, fn, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s" % what)


class Notify(WebTest):
    CODE = "DOT-POTHOLE"

    @classmethod
    def setUpClass(cls):
        cls.relay = Relay()
        cls.relay.start()
        cls.receiver = Receiver()
        cls.inst = harness.Installation("notify")
        cls.inst.set_config(
            public_url="https://311.city.example",
            smtp={"url": "smtp://127.0.0.1:%d" % cls.relay.port, "from": "311@city.example"},
            # test-short: 1 s doubling to 2 s, a 4 s lease, a look every 0.5 s... in whole seconds
            outbox={"retry_first_seconds": 1, "retry_max_seconds": 2, "max_attempts": 10,
                    "lease_seconds": 4, "poll_seconds": 1, "timeout_seconds": 3})
        cls.server = cls.inst.start_server(threads=2)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.relay.released.set()
        try:
            cls.server.stop()
        finally:
            cls.relay.stop()
            cls.receiver.stop()

    def setUp(self):
        super().setUp()
        with self.relay.lock:
            self.relay.mode = "accept"

    # ---- helpers ----

    def person(self):
        return {"first_name": canary("fn"), "last_name": canary("ln"),
                "email": "%s@example.org" % canary("em").lower(), "phone": "212-555-0%03d" %
                (int(time.time() * 1000) % 1000)}

    def file(self, p, ticked, code=None):
        code = code or self.CODE
        b = self.browser()
        fill = self.fill(code, p)
        if ticked:
            fill.append(("notify", "1"))
        _, review = self.to_review(b, code, fill)
        if ticked:
            self.assertIn("Email me when this request changes", review.text)
        return int(self.filed_id(self.send(b, code, review)))

    def outbox(self):
        _, out, _ = self.inst.cli("outbox", "list")
        rows = []
        for line in out.splitlines():
            m = re.match(r"(\d+) (email|webhook) event (\d+) ([sw]):(\d+) (\w+) attempts (\d+)"
                         r" (sent|due) (\S+)(?: error: (.*))?$", line)
            self.assertIsNotNone(m, line)
            rows.append({"id": int(m.group(1)), "kind": m.group(2), "event": int(m.group(3)),
                         "target": int(m.group(5)), "status": m.group(6),
                         "attempts": int(m.group(7)), "error": m.group(10)})
        return rows

    def event_ids(self, rid):
        return [r[0] for r in self.inst.query(
            "SELECT id FROM request_event WHERE request_id = ? ORDER BY id", (rid,))]

    def rows_of(self, rid, kind="email"):
        evs = set(self.event_ids(rid))
        return [r for r in self.outbox() if r["event"] in evs and r["kind"] == kind]

    # ---- the stories ----

    def test_a_ticked_box_gets_one_email_per_public_change(self):
        """ticked: one email with number, service, status, resolution, note, link; nothing personal"""
        p = self.person()
        rid = self.file(p, ticked=True)
        note = "Crew sent " + canary("note")
        self.inst.update_request(rid, "closed", resolution="fixed", note=note)
        msgs = wait_for("the email", lambda: self.relay.to(p["email"]))
        time.sleep(2.5)  # a few more rounds: nothing is sent twice
        msgs = self.relay.to(p["email"])
        self.assertEqual(len(msgs), 1, [m["Subject"] for m in msgs])
        m = msgs[0]
        body = m.get_content()
        self.assertEqual(m["To"].addresses[0].addr_spec, p["email"])
        self.assertEqual(m["From"], "311@city.example")
        self.assertIn("Service request %d" % rid, m["Subject"])
        self.assertIn("closed (fixed)", m["Subject"])
        self.assertRegex(m["Message-ID"], r"^<civic311-outbox-\d+@city\.example>$")
        self.assertIn("Pothole", body)
        self.assertIn("Status: closed", body)
        self.assertIn("Resolution: fixed", body)
        self.assertIn(note, body)
        self.assertIn("https://311.city.example/requests/%d" % rid, body)
        raw = self.relay.messages[-1][1].decode("utf-8", "replace")
        for k in ("first_name", "last_name", "phone"):
            self.assertNotIn(p[k], raw, "the email holds the %s" % k)
        self.assertEqual(raw.count(p["email"]), 1, "the address only in To:")
        rows = self.rows_of(rid)
        self.assertEqual([(r["status"], r["attempts"]) for r in rows], [("sent", 1)])
        # the read of the address is on the audit log, as the notifier's
        reads = self.inst.query("SELECT body FROM audit_entry WHERE request_id = ? AND body "
                                "LIKE '%system:notify%'", (rid,))
        self.assertEqual(len(reads), 1, reads)
        self.assertIn('"purpose":"address_request"', reads[0][0])
        self.assertIn('"role":"notifier"', reads[0][0])
        # a reopening with an internal note: the status change is public,
        # its note is not
        self.inst.cli("requests", "update", "--id", rid, "--status", "reopened",
                      "--note", "internal " + canary("int"), "--internal")
        wait_for("the second email", lambda: len(self.relay.to(p["email"])) == 2)
        time.sleep(2.5)
        msgs = self.relay.to(p["email"])
        self.assertEqual(len(msgs), 2, "a status change is public, its internal note is not")
        self.assertIn("Status: reopened", msgs[1].get_content())
        self.assertNotIn("internal", msgs[1].get_content())
        # an internal note alone is no public change: nothing more
        self.inst.update_request(rid, None, note="internal " + canary("int2"), internal=True)
        time.sleep(2.5)
        self.assertEqual(len(self.relay.to(p["email"])), 2)

    def test_a_merge_tells_the_followers_and_they_follow_the_request_it_joins(self):
        """W5: merged: followers told of the merge, then hear of the request it was merged into"""
        p = self.person()
        dup = self.file(p, ticked=True)
        first = self.file(self.person(), ticked=False)
        self.inst.cli("requests", "update", "--id", dup, "--merge-into", first,
                      "--note", "Same pothole.")
        msgs = wait_for("the merge email", lambda: self.relay.to(p["email"]))
        self.assertEqual(len(msgs), 1)
        self.assertIn("Service request %d" % dup, msgs[0]["Subject"])
        self.assertIn("Duplicate of request %d." % first, msgs[0].get_content())
        rows = self.inst.query("SELECT request_id FROM follow WHERE subject_id IN (SELECT "
                               "subject_id FROM follow WHERE request_id IN (?, ?))", (dup, first))
        self.assertEqual([r[0] for r in rows], [first], "the follow moved to the request joined")
        self.inst.update_request(first, "closed", resolution="fixed", note="Filled.")
        msgs = wait_for("the fix email", lambda: len(self.relay.to(p["email"])) == 2 and
                        self.relay.to(p["email"]))
        self.assertIn("Service request %d" % first, msgs[1]["Subject"])
        self.assertIn("Filled.", msgs[1].get_content())
        # refused merges move nobody and tell nobody
        other = self.file(self.person(), ticked=True)
        with self.assertRaises(harness.CliError):
            self.inst.cli("requests", "update", "--id", other, "--merge-into", other,
                          "--note", "itself")
        time.sleep(2.5)
        self.assertEqual(self.rows_of(other), [])
        self.assertEqual(self.inst.query("SELECT COUNT(*) FROM follow WHERE request_id = ?",
                                         (other,))[0][0], 1)

    def test_an_unticked_box_gets_nothing(self):
        """unticked (the default): no follow, no outbox row, no email"""
        p = self.person()
        b = self.browser()
        _, form = self.open_form(b, self.CODE)
        self.assertEqual(form.value("notify"), [], "the box starts unticked")
        rid = self.file(p, ticked=False)
        q = self.person()
        rid2 = self.file(q, ticked=True)
        self.inst.update_request(rid, "acknowledged", note="seen")
        self.inst.update_request(rid2, "acknowledged", note="seen")
        wait_for("the ticked one's email", lambda: self.relay.to(q["email"]))
        time.sleep(1.5)
        self.assertEqual(self.relay.to(p["email"]), [])
        self.assertEqual(self.rows_of(rid), [])
        self.assertEqual(self.inst.query("SELECT count(*) FROM follow WHERE request_id = ?",
                                         (rid,)), [(0,)])

    def test_a_ticked_box_without_an_email_is_refused(self):
        """ticked without email: the form again (400), the email field marked, nothing filed"""
        b = self.browser()
        _, form = self.open_form(b, self.CODE)
        before = self.counts()
        r = self.submit(b, self.CODE, form, self.fill(self.CODE) + [("notify", "1")])
        page = self.assertPage(r, 400)
        self.assertIn("give your email address", page.text)
        self.assertIn('aria-invalid="true"', r.text)
        r = self.submit(b, self.CODE, form, self.fill(self.CODE, self.person()),
                        extra=[("notify", "yes")])
        self.assertPage(r, 400)
        self.assertNothingStored(before, "a refused follow")

    def test_open311_follows_only_with_notify_true(self):
        """API: email alone does not follow; notify=true does; notify=maybe is a 400"""
        key = self.inst.create_api_key()
        c = self.server.client()
        base = [("api_key", key), ("service_code", self.CODE), ("lat", "40.71"),
                ("long", "-74.0"), ("attribute[LOCATION]", "ROADWAY"),
                ("description", "deep hole")]
        ids = []
        for extra in ([], [("notify", "true")], [("notify", "false")]):
            addr = "%s@example.org" % canary("api").lower()
            r = c.request("POST", "/open311/v2/requests.json",
                          body=base + [("email", addr)] + extra)
            self.assertEqual(r.status, 201, r.describe())
            ids.append(int(json.loads(r.text)[0]["service_request_id"]))
        follows = [self.inst.query("SELECT count(*) FROM follow WHERE request_id = ?",
                                   (i,))[0][0] for i in ids]
        self.assertEqual(follows, [0, 1, 0])
        for extra, msg in (([("email", "a@example.org"), ("notify", "maybe")], "true or false"),
                           ([("notify", "true")], "needs an email"),
                           ([("email", "a@example.org"), ("notify", "true"),
                             ("notify", "true")], "true or false")):
            r = c.request("POST", "/open311/v2/requests.json", body=base + extra)
            self.assertEqual(r.status, 400, r.describe())
            self.assertIn(msg, r.text)
        c.close()

    def test_a_refusing_relay_is_tried_again_until_it_accepts(self):
        """451 then 550: pending with our words as last_error, attempts grow; then delivered"""
        p = self.person()
        rid = self.file(p, ticked=True)
        with self.relay.lock:
            self.relay.mode = "451"
        self.inst.update_request(rid, "in_progress")
        wait_for("two refused attempts",
                 lambda: [r for r in self.rows_of(rid) if r["attempts"] >= 2])
        (row,) = self.rows_of(rid)
        self.assertEqual(row["status"], "pending")
        self.assertIn("smtp:", row["error"])
        self.assertNotIn(p["email"], row["error"])
        with self.relay.lock:
            self.relay.mode = "550"
        n = row["attempts"]
        wait_for("a 550 attempt", lambda: self.rows_of(rid)[0]["attempts"] > n + 1)
        with self.relay.lock:
            self.relay.mode = "accept"
        wait_for("the email", lambda: self.relay.to(p["email"]))
        (row,) = wait_for("sent", lambda: [r for r in self.rows_of(rid) if r["status"] == "sent"])
        self.assertGreaterEqual(row["attempts"], 3)
        self.assertEqual(len(self.relay.to(p["email"])), 1)

    def test_a_relay_that_is_down_is_tried_again_when_it_is_back(self):
        """relay down: connection refused, retried; back on the same port: delivered once"""
        p = self.person()
        rid = self.file(p, ticked=True)
        self.relay.stop()
        try:
            self.inst.update_request(rid, "acknowledged")
            wait_for("two failed attempts",
                     lambda: [r for r in self.rows_of(rid) if r["attempts"] >= 2])
            self.assertEqual(self.rows_of(rid)[0]["status"], "pending")
        finally:
            self.relay.start()
        wait_for("the email", lambda: self.relay.to(p["email"]))
        wait_for("sent", lambda: self.rows_of(rid)[0]["status"] == "sent")
        self.assertEqual(len(self.relay.to(p["email"])), 1)

    def test_webhooks_are_signed_and_retried(self):
        """webhook add prints a secret once; the POST verifies with it, not another; 500 retried"""
        _, out, _ = self.inst.cli("webhook", "add", "--agency", "DOT", "--url",
                                  "http://127.0.0.1:%d/hook" % self.receiver.port)
        m = re.fullmatch(r"webhook (\d+)\nsecret ([0-9a-f]{64})\n", out)
        self.assertIsNotNone(m, out)
        secret = m.group(2)
        _, listed, _ = self.inst.cli("webhook", "list")
        self.assertNotIn(secret, listed)
        self.assertNotIn(secret.encode(), open(self.inst.db_path, "rb").read())
        for bad in (["--agency", "NOPE", "--url", "http://127.0.0.1:1/"],
                    ["--agency", "DOT", "--url", "ftp://127.0.0.1/"],
                    ["--agency", "DOT", "--url", "http://a b/"]):
            code, _, err = self.inst.cli("webhook", "add", *bad, check=False)
            self.assertEqual(code, 2, err)
        p = self.person()
        rid = self.file(p, ticked=False)
        with self.receiver.lock:
            self.receiver.status = 500
            self.receiver.posts.clear()
        self.inst.update_request(rid, "closed", resolution="fixed", note="done")
        wait_for("two POSTs", lambda: len(self.receiver.posts) >= 2)
        with self.receiver.lock:
            self.receiver.status = 204
        wait_for("delivered", lambda: [r for r in self.rows_of(rid, "webhook")
                                       if r["status"] == "sent"])
        posts = list(self.receiver.posts)
        ids = {h["X-Civic311-Delivery"] for _, h, _ in posts}
        self.assertEqual(len(ids), 1, "one delivery id for every attempt")
        path, headers, body = posts[-1]
        self.assertEqual(path, "/hook")
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertTrue(verify(secret, headers, body))
        self.assertFalse(verify("00" * 32, headers, body))
        self.assertFalse(verify(secret, headers, body + b" "))
        doc = json.loads(body)
        self.assertEqual(doc["service_request_id"], str(rid))
        self.assertEqual((doc["status"], doc["resolution"], doc["note"]),
                         ("closed", "fixed", "done"))
        self.assertEqual(doc["agency_code"], "DOT")
        self.assertEqual(doc["url"], "https://311.city.example/requests/%d" % rid)
        for v in p.values():
            self.assertNotIn(v.encode(), body)
        self.assertEqual(len(self.rows_of(rid, "webhook")), 1)

    def test_sigkill_mid_send_sends_again_and_records_once(self):
        """SIGKILL while DATA is held: after restart delivered (same Message-ID), one row, sent"""
        p = self.person()
        rid = self.file(p, ticked=True)
        self.relay.in_data.clear()
        self.relay.released.clear()
        with self.relay.lock:
            self.relay.mode = "block"
        self.inst.update_request(rid, "in_progress", note="on our way")
        self.assertTrue(self.relay.in_data.wait(WAIT), "the email never reached DATA")
        cls = type(self)
        cls.server.kill()
        with self.relay.lock:
            self.relay.mode = "accept"
        self.relay.released.set()
        cls.server = self.inst.start_server(threads=2)
        cls.port = self.port = cls.server.port
        msgs = wait_for("the email after the restart", lambda: self.relay.to(p["email"]))
        time.sleep(2.5)
        msgs = self.relay.to(p["email"])
        self.assertGreaterEqual(len(msgs), 1)
        self.assertEqual(len({m["Message-ID"] for m in msgs}), 1, "one Message-ID")
        rows = self.rows_of(rid)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0]["status"], "sent")
        self.assertGreaterEqual(rows[0]["attempts"], 2)

    def test_outbox_retry_for_operators(self):
        """outbox retry: bad usage is 2; an id that is not failed is 2; --all-failed works"""
        for args in ([], ["--id", "0"], ["--id", "1", "--all-failed"], ["--id", "x"]):
            code, _, _ = self.inst.cli("outbox", "retry", *args, check=False)
            self.assertEqual(code, 2, args)
        code, _, err = self.inst.cli("outbox", "retry", "--id", "999999", check=False)
        self.assertEqual(code, 2, err)
        code, out, _ = self.inst.cli("outbox", "retry", "--all-failed")
        self.assertRegex(out, r"^\d+ notifications to send again\n$")
        code, _, _ = self.inst.cli("outbox", "list", "--status", "lost", check=False)
        self.assertEqual(code, 2)
