"""
The Contact Center console (issue 5 item 2: I3, I5, P6 recordings) over
HTTP, as an agent's browser without JavaScript uses it, on a server of its
own whose clock the test moves.

- Find the caller's earlier requests by phone: the phone goes in a POST body
  (written any way a caller says it), the gatekeeper's blind index finds
  exactly that caller's requests filed over Open311, the audit log has one
  LOOKUP entry naming the agent; the phone is in no URL, no log, and never
  echoed back.
- File for the caller: the website's questions, refused the same way when
  a required one is missing; channel "phone" on Open311's extensions; the
  caller's consent to be contacted is a required yes/no on the audit log
  ("no" refuses contact details), and "yes" with an email makes a follower;
  a description that reads like an emergency gets the 911 notice and is
  filed only once the agent confirms it is not one.
- The call recording: a file that is not audio refused, a real WAV sealed
  (its bytes nowhere in the database file), "erased in 14 days" counting
  down on the clock, played only to Contact Center staff through the
  gatekeeper (an audited read, no-store), erased by `retention run --now`
  after 14 days and not before.
- Agency staff (and an admin) are refused every Contact Center page.
"""
import io
import json
import os
import re
import time
import wave

import harness
import o311
from base import canary
import test_staff
from test_web import Page
from test_web_photo import multipart

CODE = "DOT-POTHOLE"
DAY = 86400


def wav_bytes(seconds=0.25, rate=8000):
    """A small real WAV: a 440 Hz-ish square wave, 16-bit mono."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            v = 8000 if (i // 9) % 2 else -8000
            frames += v.to_bytes(2, "little", signed=True)
        # A marker no other file holds, to look for in the database file.
        frames += canary("wav").encode()
        w.writeframes(bytes(frames))
    return out.getvalue()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# Not "from test_staff import Staff": a name imported into this module is
# a test case discovery would run a second time.
class ContactCenter(test_staff.Staff):
    INSTALLATION = "contact-center"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_key = cls.inst.create_api_key("cc tests")
        cls.agent = None

    # ---- helpers ----

    def agent_browser(self):
        if type(self).agent is None:
            type(self).agent = self.add("agent")
        return self.sign_in(self.agent)

    def phone(self):
        n = int(time.time() * 1000) % 10000
        return "212555%04d" % n

    def open311_file(self, phone, email=None):
        c = self.inst_client()
        p = [("api_key", self.api_key), ("service_code", CODE), ("lat", "40.7128"),
             ("long", "-74.006"), ("phone", phone)] + self.cat.valid_answers(CODE)
        if email:
            p.append(("email", email))
        r = c.post("requests.json", p)
        doc = o311.expect_json(r, 201)
        c.close()
        return doc[0]["service_request_id"]

    def inst_client(self):
        return self.server.client()

    def find(self, b, phone, expect=200):
        page = self.assertConsolePage(b.get("/staff/cc"), 200)
        r = b.post("/staff/cc", page.form("/staff/cc").submit([("phone", phone)]))
        self.assertConsolePage(r, expect)
        return r

    def found_ids(self, r):
        return re.findall(r'<a href="/staff/cc/requests/([0-9]+)">', r.text)

    def audit_json(self):
        return [json.loads(x) for x in self.audit()]

    def file_form(self, b):
        page = self.assertConsolePage(b.get("/staff/cc/file/%s" % CODE), 200)
        return page.form("/staff/cc/file/%s" % CODE)

    def fill(self, description=None, answers=True, **contact):
        out = [("address_string", "12 Broadway, New York")]
        if answers:
            out += [(k, v) for k, v in self.cat.valid_answers(CODE)]
        out.append(("description", description or "A hole: %s" % canary("desc")))
        out += list(contact.items())
        return out

    def file_for(self, b, fill, expect=303):
        form = self.file_form(b)
        r = b.post("/staff/cc/file/%s" % CODE, form.submit(fill))
        self.assertEqual(r.status, expect, r.describe())
        return r

    def filed(self, r):
        m = re.fullmatch(r"/staff/cc/requests/([1-9][0-9]*)\?filed=1",
                         r.headers.get("Location") or "")
        self.assertIsNotNone(m, r.describe())
        return m.group(1)

    def upload(self, b, rid, files):
        page = self.assertConsolePage(b.get("/staff/cc/requests/%s" % rid), 200)
        form = page.form("/staff/cc/requests/%s/recording" % rid)
        body, ctype = multipart(form.submit(), files)
        return b.request("POST", "/staff/cc/requests/%s/recording" % rid, body=body, ctype=ctype)

    # ---- finding the caller ----

    def test_find_by_phone_finds_exactly_the_callers_requests_audited(self):
        """the blind index finds that caller's Open311 requests; one LOOKUP entry"""
        phone = self.phone()
        mine = {self.open311_file("+1 (%s) %s-%s" % (phone[:3], phone[3:6], phone[6:]))
                for _ in range(2)}
        other = self.open311_file("718555%s" % phone[6:])
        b = self.agent_browser()
        before = len(self.audit())
        r = self.find(b, "%s.%s.%s" % (phone[:3], phone[3:6], phone[6:]))
        self.assertEqual(set(self.found_ids(r)), mine)
        self.assertNotIn(other, self.found_ids(r))
        self.assertNotIn(phone[6:], Page(r.text).text.replace(" ".join(self.found_ids(r)), ""),
                         "the phone is not echoed")
        self.assertIn("Pothole", r.text)
        lookups = [e for e in self.audit_json()[before:] if e["action"] == "lookup"]
        self.assertEqual(len(lookups), 1, lookups)
        self.assertRegex(lookups[0]["actor"], r"^staff:[0-9]+$")
        self.assertEqual(lookups[0]["purpose"], "address_request")
        self.assertEqual(lookups[0]["role"], "agent")
        self.assertEqual(lookups[0]["count"], 2)
        self.assertNotIn(phone, json.dumps(self.audit_json()))
        # Nobody's number: nothing found, still a lookup on record.
        r = self.find(b, "999 000 1111")
        self.assertEqual(self.found_ids(r), [])
        self.assertIn("No request was filed with this phone number.", r.text)
        # Not a number at all, or nothing: refused, nothing looked up.
        n = len(self.audit())
        for bad in ("", "no digits here"):
            r = self.find(b, bad, expect=400)
            self.assertIn("Enter the caller's phone number", Page(r.text).text)
        self.assertEqual(len(self.audit()), n)
        # A phone in the query string is no way in: the form is a POST body.
        r = b.get("/staff/cc?phone=%s" % phone)
        self.assertNotIn(phone, r.text)
        self.assertNotIn(phone, self.server.read_log())

    def test_a_forged_or_stale_find_is_refused(self):
        """no CSRF token, a stray field: refused, nothing looked up"""
        b = self.agent_browser()
        n = len(self.audit())
        r = b.post("/staff/cc", [("phone", "2125550100")])
        self.assertConsolePage(r, 403)
        page = self.assertConsolePage(b.get("/staff/cc"), 200)
        r = b.post("/staff/cc", page.form("/staff/cc").submit([("phone", "2125550100")]) +
                   [("email", "x@example.org")])
        self.assertConsolePage(r, 400)
        self.assertEqual(len(self.audit()), n)

    # ---- filing for the caller ----

    def test_file_for_the_caller_channel_phone_consent_and_follow(self):
        """the same questions; channel phone; consent audited; yes+email follows"""
        b = self.agent_browser()
        phone = self.phone()
        email = "%s@example.org" % canary("cc").lower()
        before = self.inst.table_counts()
        # A required question left out: refused as the website refuses it.
        r = self.file_for(b, self.fill(answers=False, consent="yes", phone=phone), 400)
        self.assertIn("Answer this question:", Page(r.text).text)
        # No consent answer; "no" with contact details; "yes" with no way to contact.
        r = self.file_for(b, self.fill(phone=phone), 400)
        self.assertIn("Ask the caller whether the city may contact them", r.text)
        r = self.file_for(b, self.fill(consent="no", phone=phone), 400)
        self.assertIn("The caller does not agree to be contacted", r.text)
        r = self.file_for(b, self.fill(consent="yes", first_name="Ana"), 400)
        self.assertIn("give their phone number or email", r.text)
        self.assertEqual(self.inst.table_counts(), before, "a refusal stores nothing")
        # Filed.
        r = self.file_for(b, self.fill(consent="yes", first_name=canary("fn"), phone=phone,
                                       email=email))
        rid = self.filed(r)
        page = self.assertConsolePage(b.get(r.headers["Location"]), 200)
        self.assertIn("The request was filed. Tell the caller its number: %s." % rid, page.text)
        doc = self.get_request(rid, extensions="true")
        self.assertEqual(doc["extended_attributes"]["channel"], "phone")
        self.assertNotIn(phone, json.dumps(doc))
        rows = self.inst.query("SELECT count(*) FROM follow WHERE request_id = ?", (int(rid),))
        self.assertEqual(rows[0][0], 1, "yes with an email: the caller follows the request")
        consent = [e for e in self.audit_json() if e.get("fields") == "contact_consent" and
                   e.get("request") == int(rid)]
        self.assertEqual(len(consent), 1)
        self.assertTrue(consent[0]["reason"].startswith("consent:"))
        # The caller is found by their phone next time.
        self.assertIn(rid, self.found_ids(self.find(b, phone)))
        # "no": filed with no contact details, no follow, the refusal on record.
        r = self.file_for(b, self.fill(consent="no"))
        rid2 = self.filed(r)
        self.assertEqual(self.inst.query("SELECT count(*) FROM personal_field WHERE "
                                         "request_id = ?", (int(rid2),))[0][0], 0)
        consent = [e for e in self.audit_json() if e.get("fields") == "contact_consent" and
                   e.get("request") == int(rid2)]
        self.assertEqual(len(consent), 1)
        self.assertTrue(consent[0]["reason"].startswith("no consent:"))
        log = self.server.read_log()
        for s in (phone, email):
            self.assertNotIn(s, log)

    def test_an_emergency_interrupts_the_agent(self):
        """the 911 notice first; nothing filed until the agent confirms"""
        b = self.agent_browser()
        before = self.inst.table_counts()
        fill = self.fill(description="smoke and fire coming out of the window", consent="no")
        r = self.file_for(b, fill, 200)
        page = self.assertConsolePage(r, 200)
        self.assertIn("If this is an emergency, call 911 now", page.text)
        self.assertIn("transfer the caller to 911", page.text)
        self.assertEqual(self.inst.table_counts(), before)
        again = page.form("/staff/cc/file/%s" % CODE)
        r = b.post("/staff/cc/file/%s" % CODE, again.submit(fill + [("not_emergency", "1")]))
        self.filed(r)

    # ---- the recording ----

    def test_recording_sealed_counted_down_played_through_the_gate_and_erased(self):
        """wrong type refused; a WAV sealed, 'erased in 14 days', audited plays, erased"""
        b = self.agent_browser()
        rid = self.filed(self.file_for(b, self.fill(consent="no")))
        blobs = lambda: self.inst.query(  # noqa: E731
            "SELECT id, data_class, content_type FROM personal_blob WHERE request_id = ?",
            (int(rid),))
        # Not audio, even when it says so; empty; another field name.
        for files in ([("recording", "call.wav", "audio/wav", b"this is not audio, " * 10)],
                      [("recording", "call.mp3", "audio/mpeg", b"\x89PNG\r\n\x1a\n" + b"0" * 64)]):
            r = self.upload(b, rid, files)
            self.assertConsolePage(r, 400)
            self.assertIn("This file is not MP3, WAV, Ogg or WebM audio.", r.text)
        r = self.upload(b, rid, [])
        self.assertIn("Choose the recording's file.", self.assertConsolePage(r, 400).text)
        self.assertEqual(blobs(), [])
        # A real WAV, sent as octet-stream: the bytes decide.
        data = wav_bytes()
        r = self.upload(b, rid, [("recording", "call.bin", "application/octet-stream", data)])
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(r.headers["Location"], "/staff/cc/requests/%s?recorded=1" % rid)
        rows = blobs()
        self.assertEqual([(x[1], x[2]) for x in rows], [("recording", "audio/wav")])
        blob = rows[0][0]
        db = open(self.inst.db_path, "rb").read()
        wal = self.inst.db_path + "-wal"
        if os.path.exists(wal):
            db += open(wal, "rb").read()
        self.assertNotIn(data[-40:], db, "the recording is sealed")
        page = self.assertConsolePage(b.get("/staff/cc/requests/%s" % rid), 200)
        self.assertIn("Recording: erased in 14 days", page.text)
        self.assertIn('src="/staff/cc/recordings/%d"' % blob,
                      b.get("/staff/cc/requests/%s" % rid).text)
        # Played through the gate: an audited read, no-store.
        n = len(self.audit())
        r = b.get("/staff/cc/recordings/%d" % blob)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.body, data)
        self.assertEqual(r.ctype, "audio/wav")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        reads = [e for e in self.audit_json()[n:] if e["action"] == "read"]
        self.assertEqual(len(reads), 1)
        self.assertEqual(reads[0]["fields"], "recording")
        # Agency staff: refused.
        other = self.sign_in(self.add("agency_staff", "DOT"))
        self.assertConsolePage(other.get("/staff/cc/recordings/%d" % blob), 403)
        # Signed out: the sign-in page.
        from test_staff import StaffBrowser
        anon = StaffBrowser(self.port)
        self.browsers.append(anon)
        r = anon.get("/staff/cc/recordings/%d" % blob)
        self.assertEqual(r.status, 303)
        self.assertEqual(r.headers["Location"], "/staff/sign-in")
        # The countdown follows the clock.
        self.advance(3 * DAY)
        b = self.agent_browser()
        page = self.assertConsolePage(b.get("/staff/cc/requests/%s" % rid), 200)
        self.assertIn("Recording: erased in 11 days", page.text)
        # Retention: kept at 13 days, erased after 14.
        created = self.inst.query("SELECT created_at FROM personal_blob WHERE id = ?",
                                  (blob,))[0][0]
        self.inst.cli("retention", "run", "--now", iso(created + 13 * DAY))
        self.assertEqual(len(blobs()), 1)
        self.inst.cli("retention", "run", "--now", iso(created + 14 * DAY + 60))
        self.assertEqual(blobs(), [])
        page = self.assertConsolePage(b.get("/staff/cc/requests/%s" % rid), 200)
        self.assertIn("No recording is attached.", page.text)
        self.assertConsolePage(b.get("/staff/cc/recordings/%d" % blob), 404)

    def test_recording_edges(self):
        """unknown request, a forged form, a photo's blob: refused"""
        b = self.agent_browser()
        self.assertConsolePage(b.get("/staff/cc/requests/999999"), 404)
        self.assertConsolePage(b.get("/staff/cc/requests/01"), 404)
        self.assertConsolePage(b.get("/staff/cc/recordings/abc"), 404)
        body, ctype = multipart([("csrf", "x" * 64)],
                                [("recording", "a.wav", "audio/wav", wav_bytes())])
        rid = self.filed(self.file_for(b, self.fill(consent="no")))
        r = b.request("POST", "/staff/cc/requests/%s/recording" % rid, body=body, ctype=ctype)
        self.assertConsolePage(r, 403)
        self.assertEqual(self.inst.query("SELECT count(*) FROM personal_blob WHERE "
                                         "request_id = ?", (int(rid),))[0][0], 0)

    # ---- who may ----

    def test_other_roles_are_refused(self):
        """agency staff and admins: 403 on every Contact Center page"""
        for role, agencies in (("agency_staff", "DOT"), ("admin", None)):
            b = self.sign_in(self.add(role, agencies))
            self.assertNotIn('href="/staff/cc"', b.get("/staff/").text)
            for path in ("/staff/cc", "/staff/cc/file/%s" % CODE, "/staff/cc/requests/1",
                         "/staff/cc/recordings/1"):
                self.assertConsolePage(b.get(path), 403)
            r = b.post("/staff/cc", [("phone", "2125550100")])
            self.assertConsolePage(r, 403)
        # A supervisor may.
        b = self.sign_in(self.add("supervisor", "DOT"))
        self.assertConsolePage(b.get("/staff/cc"), 200)


# Staff's own tests run in test_staff.py, not again here.
for _name in dir(test_staff.Staff):
    if _name.startswith("test_"):
        setattr(ContactCenter, _name, None)


if __name__ == "__main__":
    import unittest
    unittest.main()
