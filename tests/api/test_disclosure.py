"""
The disclosure register (P4), proved from outside: a real server takes
requests with personal data over Open311, then officers use the real
command line (`civic311 disclosure`) on the same installation.

- An order is recorded by one officer and approved by another; an export
  under it holds exactly the named requests' personal data (the values the
  residents sent, read back through the gatekeeper) and the order's
  reference, is on record in the register with the SHA-256 of the very
  bytes written, and leaves one "read" and one "disclose" audit entry per
  request; `audit verify` passes.
- The two-person rule: the officer who recorded an order cannot approve it.
- Refusals: a role that is not an officer, an order not approved, a closed
  order, a request outside the order, a class the order does not cover, a
  class the policy keeps from the role. Each exports nothing (no file, no
  stdout, no register row), says why, and is one "refuse" audit entry.
- Bad input is refused with exit 2 and leaves the register as it was.
- The side door is shut: a records officer's `personal show` is refused
  (and recorded); its reads go through the register.
"""
import hashlib
import json
import os
import sqlite3
import stat
import time
import unittest

import harness
from test_privacy import person
from test_privacy_engine import PrivacyStory, audit_entries, audit_size, verify

REF = "2026-CV-0412"
CONTACT = ("first_name", "last_name", "email", "phone")


def day(offset_days=0):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + offset_days * 86400))


class Disclosure(PrivacyStory):
    NAME = "disclosure"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.n = 0

    # ---- helpers ----

    def cli(self, sub, *args, check=False):
        return self.inst.cli("disclosure", sub, *args, check=check)

    def register(self, rids, actor="alice", role="records_officer", reference=None,
                 classes=None, requester="Supreme Court of the State of New York, Kings County",
                 basis="CPLR 2301 subpoena duces tecum", received=None):
        type(self).n += 1
        args = ["--actor", actor, "--role", role, "--requester", requester,
                "--reference", reference or "%s-%d" % (REF, self.n),
                "--legal-basis", basis, "--received", received or day(-1),
                "--requests", ",".join(str(r) for r in rids)]
        if classes:
            args += ["--classes", classes]
        return self.cli("register", *args)

    def registered(self, rids, **kw):
        code, out, err = self.register(rids, **kw)
        self.assertEqual(code, 0, out + err)
        return int(out.strip())

    def approve(self, oid, actor="bob", role="privacy_officer"):
        return self.cli("approve", "--id", oid, "--actor", actor, "--role", role)

    def approved(self, rids, **kw):
        oid = self.registered(rids, **kw)
        code, out, err = self.approve(oid)
        self.assertEqual(code, 0, out + err)
        return oid

    def export(self, oid, *extra, actor="alice", role="records_officer", out=None):
        args = ["--id", oid, "--actor", actor, "--role", role] + list(extra)
        if out is not None:
            args += ["--out", out]
        return self.cli("export", *args)

    def show(self, oid):
        code, out, err = self.cli("show", "--id", oid)
        self.assertEqual(code, 0, out + err)
        return json.loads(out)

    def out_path(self, name):
        return os.path.join(self.inst.root, name)

    def file_person(self):
        p = person()
        return self.file({k: p[k] for k in CONTACT}), p

    def register_rows(self):
        return self.inst.query("SELECT count(*) FROM disclosure_export")[0][0]

    def assertRefused(self, run, reason_part, request=None):
        """run() is refused: exit 1, a message, nothing written, no export
        on record, exactly one new audit entry: a refusal naming why."""
        before, exports = audit_size(self.inst), self.register_rows()
        code, out, err = run()
        self.assertEqual(code, 1, "refused with exit 1: " + out + err)
        self.assertIn("refused", err)
        self.assertIn(reason_part, err)
        self.assertEqual(out, "", "nothing on stdout")
        self.assertEqual(self.register_rows(), exports, "no export on record")
        new = audit_entries(self.inst, before)
        self.assertEqual([e["action"] for e in new], ["refuse"], new)
        self.assertIn(reason_part, new[0]["reason"])
        self.assertEqual(new[0]["purpose"], "required_by_law")
        if request is not None:
            self.assertEqual(new[0].get("request"), int(request))
        return new[0]

    # ---- the story ----

    def test_export_holds_exactly_the_named_requests(self):
        """an approved order's export: the named requests' data, the reference, on record"""
        (r1, p1), (r2, p2), (r3, p3) = (self.file_person() for _ in range(3))
        oid = self.registered([r2, r1], reference=REF)
        self.assertEqual(self.show(oid)["state"], "recorded")
        code, out, err = self.approve(oid)
        self.assertEqual(code, 0, out + err)
        order = self.show(oid)
        self.assertEqual(order["state"], "approved")
        self.assertEqual(order["recorded_by"], "cli:alice")
        self.assertEqual(order["approved_by"], "cli:bob")
        self.assertEqual(order["requests"], sorted([int(r1), int(r2)]))

        before = audit_size(self.inst)
        path = self.out_path("export-1.json")
        code, out, err = self.export(oid, out=path)
        self.assertEqual(code, 0, out + err)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path, "rb") as f:
            raw = f.read()
        doc = json.loads(raw)
        self.assertEqual(doc["order"]["reference"], REF)
        self.assertEqual(doc["order"]["id"], oid)
        self.assertEqual(doc["export"]["purpose"], "required_by_law")
        self.assertEqual(doc["export"]["by"], "cli:alice")
        self.assertEqual(doc["export"]["classes"], ["contact"])
        got = {str(r["request"]): r["fields"] for r in doc["requests"]}
        self.assertEqual(sorted(got), sorted([str(r1), str(r2)]), "exactly the named requests")
        for rid, p in ((r1, p1), (r2, p2)):
            self.assertEqual(got[str(rid)], {k: p[k] for k in CONTACT})
        for v in p3.values():
            self.assertNotIn(v.encode(), raw, "a request outside the order stays out")

        # On record: the register's digest is the file's, and the audit
        # log has one read and one disclose entry per request.
        ex = self.show(oid)["exports"]
        self.assertEqual(len(ex), 1)
        self.assertEqual(ex[0]["sha256"], hashlib.sha256(raw).hexdigest())
        self.assertEqual(ex[0]["bytes"], len(raw))
        self.assertEqual(ex[0]["requests"], sorted([int(r1), int(r2)]))
        self.assertIn(ex[0]["sha256"], out)
        new = audit_entries(self.inst, before)
        reads = sorted(e["request"] for e in new if e["action"] == "read")
        discl = [e for e in new if e["action"] == "disclose"]
        self.assertEqual(reads, sorted([int(r1), int(r2)]))
        self.assertEqual(sorted(e["request"] for e in discl), sorted([int(r1), int(r2)]))
        for e in discl:
            self.assertIn(REF, e["reason"])
            self.assertIn(ex[0]["sha256"][:16], e["reason"])
            self.assertEqual((e["actor"], e["role"]), ("cli:alice", "records_officer"))
        self.assertFalse([e for e in new if e["action"] not in ("read", "disclose")], new)
        code, text = verify(self.inst)
        self.assertEqual(code, 0, text)

    def test_export_to_stdout_and_a_subset(self):
        """without --out the document goes to stdout; --requests exports part of the scope"""
        (r1, p1), (r2, _) = self.file_person(), self.file_person()
        oid = self.approved([r1, r2])
        code, out, err = self.export(oid, "--requests", r1)
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        self.assertEqual([str(r["request"]) for r in doc["requests"]], [str(r1)])
        self.assertEqual(doc["requests"][0]["fields"]["email"], p1["email"])
        self.assertEqual(self.show(oid)["exports"][-1]["sha256"],
                         hashlib.sha256(out.encode()).hexdigest())
        self.assertIn("sha256", err, "the receipt goes to stderr when stdout is the document")

    def test_two_person_rule(self):
        """the officer who recorded an order may not approve it; an officer must"""
        r1, _ = self.file_person()
        oid = self.registered([r1], actor="carol")
        before = audit_size(self.inst)
        code, out, err = self.approve(oid, actor="carol", role="records_officer")
        self.assertEqual(code, 1, out + err)
        self.assertIn("second officer", err)
        code, out, err = self.approve(oid, actor="dave", role="agency_staff")
        self.assertEqual(code, 1, out + err)
        self.assertIn("records officer or a privacy officer", err)
        self.assertEqual(self.show(oid)["state"], "recorded")
        self.assertEqual(audit_size(self.inst), before, "no personal data was touched")
        # Behind the code's back, the schema holds the rule too.
        db = sqlite3.connect(self.inst.db_path, timeout=30)
        try:
            with self.assertRaisesRegex(sqlite3.IntegrityError, "CHECK"):
                db.execute("UPDATE disclosure_order SET approved_by = recorded_by, "
                           "approved_role = 'records_officer', approved_at = 1 WHERE id = ?",
                           (oid,))
            db.rollback()
        finally:
            db.close()
        code, out, err = self.approve(oid, actor="erin", role="records_officer")
        self.assertEqual(code, 0, out + err)
        code, out, err = self.approve(oid, actor="frank")
        self.assertEqual(code, 2, "approved already: " + out + err)

    def test_refusals_export_nothing_and_are_audited(self):
        """every refused export: exit 1, nothing out, no register row, one refuse entry"""
        (r1, p1), (r2, _) = self.file_person(), self.file_person()
        path = self.out_path("refused.json")
        pending = self.registered([r1])
        self.assertRefused(lambda: self.export(pending, out=path), "not approved")
        oid = self.approved([r1])
        self.assertRefused(lambda: self.export(oid, role="agency_staff", out=path),
                           "agency_staff may not export")
        self.assertRefused(lambda: self.export(oid, role="admin", out=path), "admin may not")
        self.assertRefused(lambda: self.export(oid, "--requests", "%s,%s" % (r1, r2), out=path),
                           "request %s is outside the scope" % r2, request=r2)
        self.assertRefused(lambda: self.export(oid, "--classes", "contact,device", out=path),
                           "does not cover device")
        # A class the order covers but the policy keeps from records officers.
        wide = self.approved([r1], classes="contact,device")
        self.assertRefused(lambda: self.export(wide, out=path),
                           "records_officer may not read device data")
        code, out, err = self.cli("close", "--id", oid, "--actor", "bob", "--role",
                                  "privacy_officer")
        self.assertEqual(code, 0, out + err)
        self.assertEqual(self.show(oid)["state"], "closed")
        self.assertRefused(lambda: self.export(oid, out=path), "is closed")
        self.assertFalse(os.path.exists(path), "no refused export wrote a file")
        code, out, err = self.cli("close", "--id", oid, "--actor", "bob", "--role",
                                  "privacy_officer")
        self.assertEqual(code, 2, "closed already: " + out + err)
        code, text = verify(self.inst)
        self.assertEqual(code, 0, text)

    def test_bad_input_leaves_the_register_as_it_was(self):
        """malformed orders and exports: exit 2, a clear message, nothing recorded"""
        r1, _ = self.file_person()
        orders = self.inst.query("SELECT count(*) FROM disclosure_order")[0][0]
        cases = [
            (dict(reference="caf\u00e9-1"), "printable ASCII"),
            (dict(reference=" padded"), "printable ASCII"),
            (dict(reference="x" * 65), "printable ASCII"),
            (dict(requester="line\nbreak"), "requester"),
            (dict(basis=""), "legal"),
            (dict(received=day(3)), "future"),
            (dict(received="yesterday"), "--received"),
            (dict(classes="contact,dna"), "--classes"),
        ]
        for kw, why in cases:
            code, out, err = self.register([r1], **kw)
            self.assertEqual(code, 2, "%r: %s%s" % (kw, out, err))
            self.assertIn(why, err, kw)
        for rids, why in (([r1, r1], "named twice"), ([99999999], "does not exist"),
                          (["0"], "--requests"), (["12x"], "--requests")):
            code, out, err = self.register(rids)
            self.assertEqual(code, 2, "%r: %s%s" % (rids, out, err))
            self.assertIn(why, err, rids)
        code, out, err = self.register([r1], role="agent")
        self.assertEqual(code, 1, out + err)
        self.assertEqual(self.inst.query("SELECT count(*) FROM disclosure_order")[0][0], orders)
        self.assertEqual(self.inst.query("SELECT count(*) FROM disclosure_scope WHERE order_id "
                                         "NOT IN (SELECT id FROM disclosure_order)")[0][0], 0)
        # One reference per requester.
        self.registered([r1], reference="DUP-1")
        code, out, err = self.register([r1], reference="DUP-1")
        self.assertEqual(code, 2, out + err)
        self.assertIn("reference", err)
        # An export never overwrites a file, and is refused before reading.
        oid = self.approved([r1])
        path = self.out_path("exists.json")
        with open(path, "w") as f:
            f.write("keep me")
        before, exports = audit_size(self.inst), self.register_rows()
        code, out, err = self.export(oid, out=path)
        self.assertEqual(code, 2, out + err)
        with open(path) as f:
            self.assertEqual(f.read(), "keep me")
        self.assertEqual((audit_size(self.inst), self.register_rows()), (before, exports))
        code, out, err = self.export(999999)
        self.assertEqual(code, 2, out + err)
        self.assertIn("no such order", err)
        for argv in (["--id", oid], ["--id", oid, "--actor", "a b", "--role", "records_officer"],
                     ["--id", "x", "--actor", "a", "--role", "records_officer"]):
            code, out, err = self.cli("export", *argv)
            self.assertEqual(code, 2, "%r: %s%s" % (argv, out, err))

    def test_records_officer_reads_only_through_the_register(self):
        """personal show as a records officer: refused and recorded; the export still works"""
        r1, p1 = self.file_person()
        before = audit_size(self.inst)
        code, out, err = self.inst.cli("personal", "show", "--request", r1, "--role",
                                       "records_officer", "--actor", "rita", "--purpose",
                                       "required_by_law", check=False)
        self.assertEqual(code, 1, out + err)
        self.assertIn("disclosure register", err)
        self.assertEqual(out, "")
        new = audit_entries(self.inst, before)
        self.assertEqual([(e["action"], e["request"]) for e in new], [("refuse", int(r1))])
        code, out, err = self.export(self.approved([r1]), actor="rita")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["requests"][0]["fields"]["email"], p1["email"])

    def test_list(self):
        """list shows open orders by default, every order with --all; no personal data"""
        (r1, p1) = self.file_person()
        oid = self.approved([r1], reference="LIST-1")
        code, out, err = self.cli("list")
        self.assertEqual(code, 0, err)
        self.assertIn("order %d: approved" % oid, out)
        self.assertIn("LIST-1", out)
        for v in p1.values():
            self.assertNotIn(v, out)
        self.cli("close", "--id", oid, "--actor", "bob", "--role", "privacy_officer", check=True)
        self.assertNotIn("order %d:" % oid, self.cli("list")[1])
        self.assertIn("order %d: closed" % oid, self.cli("list", "--all")[1])


if __name__ == "__main__":
    unittest.main()
