"""
The privacy engine (issue 3: P1, P3, P6, P8), proved from outside: the real
server and the real command line on real files.

- Canaries: personal values sent through every intake channel are found in
  plaintext nowhere (database, -wal, -shm, backup, logs, error responses,
  public responses, audit output), though a public field sent alongside IS
  found in the same files and the privacy officer DOES read the canaries
  back: the search can fail.
- Shredding: an erased person's sealed rows, blind indexes and data key are
  gone, with an erasure receipt; a backup taken before the erasure still
  opens while the old key-encryption key exists and no longer does after
  `keys rotate`.
- Retention: `retention run --now` (the injected clock) keeps contact data
  89 days after closing and erases it at 91, device data after 30 days; a
  legal hold keeps everything (and refuses `personal erase`) until
  released. The server signs audit checkpoints on its own clock.
- Tampering: `audit verify` rejects edited, deleted, reordered and truncated
  entries, edited checkpoints, and byte flips of an export; a checkpoint
  kept by an auditor catches a truncation that took its checkpoints along.
  The checkpoint roots are recomputed here (RFC 6962) independently.
- Access: every role x purpose x data class x relationship through
  `personal show`, and every role x purpose through `personal find`, as
  the policy says, each leaving exactly one audit entry.
- No age, ever (P1): no column, schema identifier, API key or catalog
  attribute asks age or birth date, and `services import` refuses one.

Each story has an installation of its own (these stories stop servers,
rotate keys and count audit entries). Personal values come from
test_privacy.person(): canaries run.py also sweeps the server logs for.
"""
import base64
import binascii
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import stat
import struct
import time
import unittest
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import harness
import o311
from base import ApiTest, canary, now
from client import Client, raw_request, wait_until
from test_privacy import marks, person

DAY = 86400

ROLES = ("resident", "agent", "agency_staff", "supervisor", "privacy_officer",
         "records_officer", "admin")
PURPOSES = ("address_request", "city_business", "emergency", "required_by_law")
CLASSES = ("contact", "device", "account", "media", "recording")
CLASS_FIELDS = {"contact": ("first_name", "last_name", "email", "phone"),
                "device": ("device_id",), "account": ("account_id",),
                "media": (), "recording": ()}
FIELD_CLASS = {f: c for c, fs in CLASS_FIELDS.items() for f in fs}


def policy(role, purpose, dclass, routed):
    """The access policy (P3) as the brief states it, written apart from
    gate.c so that the two can disagree. routed: the request is routed to
    the actor's agency. A resident is never asking about their own request
    here (the command line has no resident identity)."""
    if role == "agent":
        return (purpose in ("address_request", "emergency") and
                dclass in ("contact", "media", "recording")) or \
            (purpose == "city_business" and dclass == "contact")
    if role == "agency_staff":
        return routed and ((purpose in ("address_request", "city_business") and
                            dclass in ("contact", "media")) or
                           (purpose == "emergency" and dclass == "contact"))
    if role == "supervisor":
        return purpose != "required_by_law" and dclass in ("contact", "media", "recording")
    if role == "privacy_officer":
        return purpose == "required_by_law"
    if role == "records_officer":
        return purpose == "required_by_law" and dclass != "device"
    return False  # resident (not theirs), admin


def pmarks(p):
    """test_privacy.marks(p) without empty marks (a phone with no digits)."""
    return [m for m in marks(p) if m]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# ---- the audit log, recomputed here (RFC 6962, SHA-256) ----

def leaf_hash(body):
    return hashlib.sha256(b"\x00" + body).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves):
    """MTH(D[n]) of RFC 6962 section 2.1 over leaf hashes."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def frontier(leaves):
    """The stored head as audit.h describes it: the 8-byte big-endian size,
    then the root of each complete subtree, from the highest set bit down."""
    n = len(leaves)
    out, pos = struct.pack(">Q", n), 0
    for bit in range(62, -1, -1):
        if n >> bit & 1:
            out += merkle_root(leaves[pos:pos + (1 << bit)])
            pos += 1 << bit
    return out


def audit_rows(inst):
    return inst.query("SELECT seq, at, request_id, subject_id, body FROM audit_entry "
                      "ORDER BY seq")


def audit_entries(inst, after=0):
    return [json.loads(b) for (b,) in inst.query(
        "SELECT body FROM audit_entry WHERE seq > ? ORDER BY seq", (after,))]


def audit_size(inst):
    return inst.query("SELECT count(*) FROM audit_entry")[0][0]


def names_actor(entry, name):
    a = entry.get("actor", "")
    return a == name or a.endswith(":" + name)


# ---- raw files ----

def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def db_files(data_dir):
    db = os.path.join(data_dir, "civic311.db")
    return [db, db + "-wal", db + "-shm"]


def all_files(root):
    for d, _, files in os.walk(root):
        for f in files:
            yield os.path.join(d, f)


def hits(paths, needles):
    """[(path, needle)] for each needle found in a file, as UTF-8 bytes."""
    found = []
    for path in paths:
        data = read_bytes(path)
        for n in needles:
            if (n if isinstance(n, bytes) else n.encode("utf-8")) in data:
                found.append((os.path.relpath(path, harness.session_dir()), n))
    return found


SECRET_RE = re.compile(r"[A-Za-z0-9+/=_-]{40,}")


def key_file_secrets(path, public_key=None):
    """Every long token of the key file (hex or base64 keys, whatever the
    format), with the bytes it decodes to, but the audit public key (hex)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    pk = bytes.fromhex(public_key) if public_key else None
    out = []
    for tok in SECRET_RE.findall(text):
        raw = None
        try:
            raw = binascii.unhexlify(tok)
        except (binascii.Error, ValueError):
            try:
                raw = base64.b64decode(tok + "=" * (-len(tok) % 4), altchars=b"-_"
                                       if ("-" in tok or "_" in tok) else None)
            except (binascii.Error, ValueError):
                pass
        if pk is not None and (public_key in tok.lower() or raw == pk):
            continue
        out.append((tok, raw))
    return out


def restore(name, db_file, key_file, like):
    """A data directory made by hand from a backup and a key file, as an
    operator (or a thief) would: like's config.json, db_file as the store."""
    inst = harness.Installation(name, init=False)
    shutil.copy2(like.config_path, inst.config_path)
    kdst = os.path.join(inst.data, os.path.relpath(like.keys_path, like.data))
    os.makedirs(os.path.dirname(kdst), mode=0o700, exist_ok=True)
    shutil.copy2(key_file, kdst)
    os.chmod(kdst, 0o600)
    shutil.copy2(db_file, inst.db_path)
    os.chmod(inst.db_path, 0o600)
    return inst


# ---- the command line of the privacy engine ----

def show(inst, rid, role="privacy_officer", purpose="required_by_law", actor="officer",
         classes=None, agencies=()):
    args = ["--request", rid, "--role", role, "--actor", actor, "--purpose", purpose]
    if agencies:
        args += ["--agency", ",".join(agencies)]
    if classes is not None:
        args += ["--classes", classes]
    return inst.cli("personal", "show", *args, check=False)


def officer_fields(test, inst, rid, classes="contact,device,account"):
    code, out, err = show(inst, rid, classes=classes)
    test.assertEqual(code, 0, "personal show as privacy officer: %s%s" % (out, err))
    doc = json.loads(out)
    test.assertEqual(str(doc["request"]), str(rid))
    return doc


def find(inst, by, value, role="privacy_officer", purpose="required_by_law", actor="officer",
         agencies=()):
    args = ["--by", by, "--role", role, "--actor", actor, "--purpose", purpose]
    if agencies:
        args += ["--agency", ",".join(agencies)]
    return inst.cli("personal", "find", *args, check=False, input=value + "\n")


def audit_public_key(test, inst):
    _, out, _ = inst.cli("keys", "show")
    m = re.search(r"(?m)^audit public key: ([0-9a-f]{64})$", out)
    test.assertIsNotNone(m, "keys show prints 'audit public key: <64 hex>':\n" + out)
    return m.group(1), out


def kek_versions(test, out):
    """The KEK versions the key file holds, from `keys show`'s lines
    'key-encryption key version N: wraps C data keys'."""
    nums = re.findall(r"(?mi)^(?:kek|key-encryption key) version (\d+)\b", out)
    test.assertTrue(nums, "keys show lists the KEK versions:\n" + out)
    return nums


def verify(inst, *args):
    code, out, err = inst.cli("audit", "verify", *args, check=False)
    return code, out + err


class PrivacyStory(unittest.TestCase):
    """An installation and server of the test class's own."""
    maxDiff = 4000
    NAME = None
    CONFIG = {}

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Installation(cls.NAME)
        if cls.CONFIG:
            cls.inst.set_config(**cls.CONFIG)
        cls.key = cls.inst.create_api_key(cls.NAME)
        cls.server = cls.inst.start_server(threads=2)
        c = Client(cls.server.port)
        cls.cat = o311.Catalog(c)
        c.close()
        cls.code = cls.cat.pick("realtime", "singlevaluelist", required=True)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.c = Client(self.server.port) if self.server.running else None

    def tearDown(self):
        if self.c is not None:
            self.c.close()

    def params(self, p=None, code=None, extra=()):
        code = code or self.code
        out = [("api_key", self.key), ("service_code", code), ("lat", "40.7128"),
               ("long", "-74.006")] + self.cat.valid_answers(code)
        return out + list((p or {}).items()) + list(extra)

    def file(self, p, code=None, description=None):
        extra = [("description", description)] if description else []
        r = self.c.post("requests.json", self.params(p, code, extra))
        return o311.expect_json(r, 201)[0]["service_request_id"]


# ---------------------------------------------------------------------------
# 1. Canaries
# ---------------------------------------------------------------------------

class PrivacyCanaries(PrivacyStory):
    NAME = "privacy-canary"
    CONFIG = {"batch_interval_seconds": 1, "privacy": {"audit_checkpoint_interval_seconds": 1}}

    def test_canaries_are_nowhere_in_plaintext(self):
        """every channel's personal values: not in db/-wal/-shm, backup, logs, errors, API, audit"""
        inst, c = self.inst, self.c
        t0 = now()
        sent = []        # (channel, person, description marker)
        responses = []   # every response, each checked for every canary
        public = []      # description markers: public data, must be found in the store

        failed = []      # channels that did not take a request: reported at the end

        def channel(name, resp, p, desc):
            """One accepted request (201), or a failure noted and the story goes on."""
            responses.append(resp)
            if resp.status != 201:
                failed.append("%s: %s" % (name, resp.describe(300)))
                return False
            sent.append((name, p, desc))
            public.append(desc)
            return True

        # -- the channels that accept a request --
        code = self.code
        for fmt in ("json", "xml"):  # form bodies
            p, desc = person(), canary("public")
            channel("form ." + fmt, c.post("requests." + fmt, self.params(
                p, extra=[("description", desc)])), p, desc)
        for fmt in ("json", "xml"):  # JSON bodies
            p, desc = person(), canary("public")
            channel("json body ." + fmt, c.post_json("requests." + fmt, dict(self.params(
                p, extra=[("description", desc)]))), p, desc)
        p, desc = person(), canary("public")  # everything in the query string
        channel("query string", c.post("requests.json", b"", params=self.params(
            p, extra=[("description", desc)]), ctype="application/x-www-form-urlencoded"),
            p, desc)
        # batch: a token, then an id
        p, desc = person(), canary("public")
        r = c.post("requests.json", self.params(p, self.cat.pick("batch"),
                                                [("description", desc)]))
        if channel("batch", r, p, desc):
            token = r.json()[0]["token"]
            rid = wait_until(lambda: o311.expect_json(c.get("tokens/%s.json" % token))[0]
                             ["service_request_id"], 20)
            self.assertIsNotNone(rid, "the batch request was published")
            for fmt in ("json", "xml"):
                responses.append(c.get("tokens/%s.%s" % (token, fmt)))
        # blackbox: neither id nor token
        p, desc = person(), canary("public")
        channel("blackbox", c.post("requests.json", self.params(
            p, self.cat.pick("blackbox"), [("description", desc)])), p, desc)
        self.assertIn("form .json", [n for n, _, _ in sent], "the story needs one request")

        # Each channel's request holds its six values, sealed.
        ids = {}
        for name, p, desc in sent:
            rows = inst.query("SELECT id FROM request WHERE description = ?", (desc,))
            self.assertEqual(len(rows), 1, "%s: the request is stored" % name)
            rid = str(rows[0][0])
            ids[name] = rid
            got = {c: f for c, f in inst.query("SELECT data_class, fields FROM personal_field "
                                               "WHERE request_id = ?", (int(rid),))}
            self.assertEqual(got, {c: ",".join(fs) for c, fs in CLASS_FIELDS.items() if fs},
                             "%s: one sealed record per class" % name)

        # -- bad requests carrying canaries: refused, nothing kept --
        before = inst.table_counts()
        loc = [("lat", "40.7128"), ("long", "-74.006")]
        answers = self.cat.valid_answers(code)
        bad = [("lat out of range", code, [("lat", "91"), ("long", "0")], {}),
               ("unknown service", "NOPE-" + canary("svc"), loc, {}),
               ("bad attribute", code, loc + [("attribute[NOPE]", "1")], {}),
               ("description too long", code, loc + [("description", "x" * 4001)], {}),
               ("bad email", code, loc, {"email": canary("bademail")}),
               ("bad phone", code, loc, {"phone": "call " + canary("badphone")}),
               ("bad api key", code, loc, {"api_key": "c311_" + canary("key") * 3})]
        for what, svc, extra, override in bad:
            for fmt in ("json", "xml"):
                p = person()
                p.update({k: v for k, v in override.items() if k != "api_key"})
                sent.append(("error: " + what, p, None))
                params = [("api_key", override.get("api_key", self.key)),
                          ("service_code", svc)] + answers + list(p.items()) + extra
                r = c.post("requests." + fmt, params)
                self.assertIn(r.status, (400, 401, 403, 404), "%s: %s" % (what, r.describe()))
                responses.append(r)
        p = person()
        sent.append(("error: broken json", p, None))
        broken = json.dumps(dict(self.params(p)))[:-20]
        responses.append(c.post("requests.json", broken, ctype="application/json"))
        self.assertEqual(responses[-1].status, 400, responses[-1].describe())
        p = person()
        sent.append(("error: canary in the path", p, None))
        responses.append(c.get("requests/%s.json" % p["first_name"]))
        responses.append(raw_request(self.server.port, "GET",
                                     "requests.xml?service_request_id=%s" % p["last_name"]))
        self.assertEqual(inst.table_counts(), before, "a refused request left something")

        # -- every public response --
        rid = ids["form .json"]
        inst.update_request(rid, "closed", "fixed", note="Done")
        for r_id in ids.values():
            for q in ("", "?extensions=true"):
                for fmt in ("json", "xml"):
                    responses.append(c.get("requests/%s.%s%s" % (r_id, fmt, q)))
        for fmt in ("json", "xml"):
            responses.append(c.get("requests.%s?page_size=1000" % fmt))
            responses.append(c.get("requests.%s?page_size=1000&extensions=true" % fmt))
            responses.append(c.get("servicerequestupdates.%s?start_date=%s" %
                                   (fmt, o311.fmt_dt(t0 - 5))))
            responses.append(c.get("services.%s" % fmt))
            responses.append(c.get("discovery.%s" % fmt))

        # -- the command line's outputs (the audit log holds no personal data) --
        export = os.path.join(inst.root, "audit-export.jsonl")
        inst.cli("audit", "export", "--out", export)
        outputs = {"audit list": inst.cli("audit", "list")[1],
                   "keys show": inst.cli("keys", "show")[1],
                   "hold list": inst.cli("hold", "list")[1]}
        backup = os.path.join(inst.root, "backup.db")
        inst.cli("backup", None, "--out", backup)

        all_marks = [m for _, p, _ in sent for m in pmarks(p)]
        everything = list(all_files(inst.root))

        def sweep(when):
            for r in responses:
                text = r.body + str(r.headers).encode()
                for m in all_marks:
                    self.assertNotIn(m.encode(), text, "%s: a response holds %r:\n%s" % (
                        when, m, r.describe()))
            for what, out in outputs.items():
                for m in all_marks:
                    self.assertNotIn(m, out, "`civic311 %s` printed %r" % (what, m))
            files = sorted(set(everything) | set(all_files(inst.root)))
            self.assertEqual(hits(files, all_marks), [], "%s: personal data in plaintext" % when)
            return files

        # The search can fail: the public descriptions sent along ARE in the
        # raw store files and in the backup, the same way we look for canaries.
        store = b"".join(read_bytes(f) for f in db_files(inst.data))
        for desc in public:
            self.assertIn(desc.encode(), store, "the public marker is in the raw store")
            self.assertIn(desc.encode(), read_bytes(backup), "the public marker is in the backup")
        files = sweep("while serving")
        for must in (inst.db_path, backup, export, inst.cli_log, self.server.log_path,
                     inst.keys_path):
            self.assertIn(must, files, "searched %s" % must)

        # ... and what was sealed is the canary itself, for the privacy officer.
        for name, p, _ in sent:
            if name in ids:
                doc = officer_fields(self, inst, ids[name])
                self.assertFalse(doc["erased"])
                self.assertEqual(doc["fields"], p, "%s: the sealed values" % name)

        # After a clean stop (a last checkpoint, the WAL folded in): still nothing.
        self.server.stop()
        sweep("after shutdown")

        # The backup is private, and no secret of the key file is in the store.
        self.assertEqual(stat.S_IMODE(os.stat(backup).st_mode) & 0o077, 0, "backup mode")
        pk, _ = audit_public_key(self, inst)
        secrets_ = key_file_secrets(inst.keys_path, pk)
        self.assertTrue(secrets_, "the key file holds secrets")
        for path in db_files(inst.data) + [backup]:
            data = read_bytes(path)
            for tok, raw in secrets_:
                self.assertNotIn(tok.encode(), data, "a key file secret in %s" % path)
                if raw and len(raw) >= 16:
                    self.assertNotIn(raw, data, "a key file secret (raw) in %s" % path)
        self.assertEqual(failed, [], "intake channels that refused a valid request")


# ---------------------------------------------------------------------------
# 2. Shredding, retention, holds and rotation
# ---------------------------------------------------------------------------

class ShredChecks(PrivacyStory):
    def personal_rows(self, inst, rid):
        """(field, class, subject, sealed) per field: a class's fields share
        one sealed record, named by its fields column."""
        return [(f, c, sid, sealed) for fields, c, sid, sealed in inst.query(
            "SELECT fields, data_class, subject_id, sealed FROM personal_field "
            "WHERE request_id = ?", (int(rid),)) for f in fields.split(",")]

    def fields_of(self, inst, rid):
        return sorted(f for f, _, _, _ in self.personal_rows(inst, rid))

    def subject_of(self, inst, rid):
        rows = {s for _, _, s, _ in self.personal_rows(inst, rid)}
        self.assertEqual(len(rows), 1, "request %s: one subject" % rid)
        return rows.pop()

    def assertErased(self, inst, rid, sid, actor=None):
        self.assertEqual(self.personal_rows(inst, rid), [], "request %s: sealed rows" % rid)
        (wrapped, erased_at), = inst.query(
            "SELECT wrapped_key, erased_at FROM subject WHERE id = ?", (sid,))
        self.assertIsNone(wrapped, "subject %s: the data key is shredded" % sid)
        self.assertIsNotNone(erased_at, "subject %s: erased_at" % sid)
        self.assertEqual(inst.query("SELECT count(*) FROM blind_index WHERE request_id = ? "
                                    "OR subject_id = ?", (int(rid), sid))[0][0], 0,
                         "request %s: blind indexes" % rid)
        # Erasure receipts (one per erasure; retention erases class by class)
        # name every field erased, never a value.
        receipts = [e for e in audit_entries(inst)
                    if e["action"] == "erase" and str(e.get("request")) == str(rid)]
        self.assertTrue(receipts, "request %s: an erasure receipt" % rid)
        named = {f for e in receipts for f in e.get("fields", "").split(",")}
        self.assertEqual(named, set(FIELD_CLASS), "request %s: receipts %s" % (rid, receipts))
        if actor:
            self.assertTrue(all(names_actor(e, actor) for e in receipts), receipts)
        code, out, err = show(inst, rid, classes="contact,device,account")
        self.assertEqual(code, 0, "personal show of an erased request: %s%s" % (out, err))
        doc = json.loads(out)
        self.assertEqual(doc["fields"], {}, doc)
        with self.subTest("personal show says erased", request=rid):
            self.assertTrue(doc["erased"], "an officer must see the data was erased: %s" % doc)

    def assertIntact(self, inst, rid, p):
        self.assertEqual(officer_fields(self, inst, rid)["fields"], p)
        kinds = sorted(k for (k,) in inst.query(
            "SELECT kind FROM blind_index WHERE request_id = ?", (int(rid),)))
        self.assertEqual(kinds, ["email", "phone"])


class PrivacyShred(ShredChecks):
    NAME = "privacy-shred"

    def test_erasure_shreds_and_rotation_kills_old_backups(self):
        """personal erase: rows, key, indexes gone + receipt; a pre-erasure backup dies with the old KEK"""
        inst = self.inst
        pa, pb = person(), person()
        ra, rb = self.file(pa), self.file(pb)
        self.server.stop()
        # The server signed a checkpoint at shutdown (its 10 s tick had not come).
        self.assertEqual(inst.query("SELECT max(size) FROM audit_checkpoint")[0][0],
                         audit_size(inst), "a checkpoint at shutdown covers every entry")
        sa, sb = self.subject_of(inst, ra), self.subject_of(inst, rb)
        self.assertNotEqual(sa, sb, "one data key per person")
        # What a thief with the pre-erasure backup holds of A: sealed values, wrapped key.
        old = [s for _, _, _, s in self.personal_rows(inst, ra)] + [
            inst.query("SELECT wrapped_key FROM subject WHERE id = ?", (sa,))[0][0]]

        pre = os.path.join(inst.root, "pre-erasure.db")
        inst.cli("backup", None, "--out", pre)
        self.assertEqual(stat.S_IMODE(os.stat(pre).st_mode) & 0o077, 0, "backup mode")
        self.assertEqual(hits([pre], pmarks(pa) + pmarks(pb)), [], "the backup is sealed too")
        keys_before = os.path.join(inst.root, "keys-before-rotation")
        shutil.copy2(inst.keys_path, keys_before)

        _, out, _ = inst.cli("personal", "erase", "--request", ra, "--actor", "officer-shred",
                             "--reason", "the resident asked")
        self.assertErased(inst, ra, sa, "officer-shred")
        self.assertIntact(inst, rb, pb)

        # Nothing of A is left in the raw files: no value, and not even its
        # sealed bytes or wrapped key (secure delete, WAL compacted).
        files = db_files(inst.data)
        self.assertEqual(hits(files, pmarks(pa)), [])
        self.assertEqual(hits(files, old), [], "A's sealed bytes or wrapped key linger")

        # The pre-erasure backup, with today's key file, still opens...
        r1 = restore("privacy-shred-restore-1", pre, inst.keys_path, inst)
        self.assertEqual(officer_fields(self, r1, ra)["fields"], pa,
                         "the backup opens while the old KEK exists")

        # ... until the rotation.
        _, out, _ = inst.cli("keys", "show")
        self.assertEqual(kek_versions(self, out), ["1"], out)
        inst.cli("keys", "rotate")
        _, out, _ = inst.cli("keys", "show")
        versions = kek_versions(self, out)
        self.assertEqual(len(versions), 1, "the rotated key file holds one KEK:\n" + out)
        self.assertNotEqual(versions, ["1"], out)
        self.assertEqual(stat.S_IMODE(os.stat(inst.keys_path).st_mode), 0o600)
        gone = {t for t, _ in key_file_secrets(keys_before)} - \
            {t for t, _ in key_file_secrets(inst.keys_path)}
        self.assertTrue(gone, "the old KEK is no longer in the key file")

        r2 = restore("privacy-shred-restore-2", pre, inst.keys_path, inst)
        for rid, p in ((ra, pa), (rb, pb)):
            code, out, err = show(r2, rid, classes="contact,device,account")
            self.assertEqual(code, 1, "the old backup must not open after rotation:\n%s%s" %
                             (out, err))
            # It says why: the data key cannot be opened (its KEK is gone).
            self.assertRegex(err.lower(), r"(cannot|can't|could not|will not|won't|unable to)"
                                          r"( be)? open|kek|key-encryption key", err)
            for m in pmarks(p):
                self.assertNotIn(m, out + err)

        # The live store was re-wrapped: B still opens, A is still erased.
        self.assertIntact(inst, rb, pb)
        self.assertEqual(inst.query("SELECT count(*) FROM subject WHERE wrapped_key IS NOT NULL "
                                    "AND kek_version <> ?", (int(versions[0]),))[0][0], 0,
                         "every data key wrapped under the new KEK")
        rot = [e for e in audit_entries(inst) if e["action"] == "rotate"]
        self.assertEqual(len(rot), 1, "one rotate audit entry")
        # Raw files after rotation: no canary, no old wrapped key.
        files = db_files(inst.data) + list(all_files(r2.data)) + list(all_files(r1.data))
        self.assertEqual(hits(files, pmarks(pa) + pmarks(pb)), [])
        self.assertEqual(hits(db_files(inst.data), old), [])
        code, text = verify(inst)
        self.assertEqual(code, 0, text)


class PrivacyRetention(ShredChecks):
    NAME = "privacy-retention"

    def test_retention_erases_when_due_and_holds_pause_it(self):
        """retention run --now: day 89 kept, day 91 erased; device after 30 days; a hold keeps"""
        inst = self.inst
        pb, pc, pd = person(), person(), person()
        rb, rc, rd = (self.file(p) for p in (pb, pc, pd))
        t0 = now()
        self.server.stop()
        sb, sd = self.subject_of(inst, rb), self.subject_of(inst, rd)
        # B: closed, erased 90 days after. C: open. D: closed, under a legal hold.
        inst.update_request(rb, "closed", "fixed")
        inst.update_request(rd, "closed", "fixed")
        _, out, _ = inst.cli("hold", "place", "--request", rd, "--reason",
                             "court order 2026-CV-0412", "--actor", "clerk")
        hold_id = re.search(r"\d+", out).group(0)
        self.assertRegex(inst.cli("hold", "list")[1],
                         r"(?m)^hold %s: request %s " % (hold_id, rd))
        code, out, err = inst.cli("personal", "erase", "--request", rd, "--actor",
                                  "officer-ret", "--reason", "asked", check=False)
        self.assertEqual(code, 1, "erasing under a legal hold is refused:\n%s%s" % (out, err))
        self.assertEqual(len(self.personal_rows(inst, rd)), 6, "held data kept")

        inst.cli("retention", "run", "--now", iso(t0 + 29 * DAY))
        self.assertEqual(len(self.personal_rows(inst, rc)), 6, "day 29: C whole")
        inst.cli("retention", "run", "--now", iso(t0 + 89 * DAY))
        self.assertEqual(len(self.personal_rows(inst, rb)), 5, "day 89: B kept but its device id")
        no_device = sorted(set(FIELD_CLASS) - {"device_id"})
        self.assertEqual(self.fields_of(inst, rc), no_device, "day 89: C kept but its device id")
        inst.cli("retention", "run", "--now", iso(t0 + 91 * DAY))
        self.assertErased(inst, rb, sb)
        self.assertEqual(self.fields_of(inst, rc), no_device, "an open request keeps contact data")
        self.assertEqual(self.fields_of(inst, rd), sorted(FIELD_CLASS), "held data kept whole")
        self.assertIntact(inst, rd, pd)
        # The hold released, D goes at the next run.
        inst.cli("hold", "release", "--id", hold_id, "--actor", "clerk")
        inst.cli("retention", "run", "--now", iso(t0 + 92 * DAY))
        self.assertErased(inst, rd, sd)
        self.assertEqual(hits(db_files(inst.data), pmarks(pb) + pmarks(pd)), [])
        actions = [e["action"] for e in audit_entries(inst)]
        for a in ("hold", "release"):
            self.assertEqual(actions.count(a), 1, actions)
        code, text = verify(inst)
        self.assertEqual(code, 0, text)


class PrivacyScheduled(PrivacyStory):
    """What the server does on its own clock. (Its retention runs first 60 s
    after start, too late for this suite: `retention run` is tested instead.)"""
    NAME = "privacy-scheduled"
    CONFIG = {"privacy": {"audit_checkpoint_interval_seconds": 1}}

    def test_the_server_signs_checkpoints_on_schedule(self):
        """serve: a signed checkpoint covering new entries within seconds (interval 1 s)"""
        inst = self.inst
        for _ in range(2):
            self.file(person())
            size = audit_size(inst)
            got = wait_until(lambda: (inst.query("SELECT max(size) FROM audit_checkpoint")[0][0]
                                      or 0) >= size, 10)
            self.assertTrue(got, "no checkpoint of %d entries within 10 s" % size)
        self.server.stop()
        code, text = verify(inst)
        self.assertEqual(code, 0, text)
        self.assertEqual([l for l in self.server.read_log().splitlines() if " error: " in l], [])


# ---------------------------------------------------------------------------
# 3. Tampering with the audit log
# ---------------------------------------------------------------------------

class PrivacyTamper(PrivacyStory):
    NAME = "privacy-tamper"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.made = False

    def make_log(self):
        """A real log: creates, reads, a refusal, lookups, holds, an erasure,
        with an auditor's checkpoints taken along the way."""
        if type(self).made:
            return
        inst = self.inst
        people = [person() for _ in range(5)]
        rids = [self.file(p) for p in people]
        self.file(None)  # no personal data: no entry
        cp_early = os.path.join(inst.root, "checkpoint-early.json")
        inst.cli("audit", "checkpoint", "--out", cp_early)
        officer_fields(self, inst, rids[0])
        self.assertEqual(show(inst, rids[1], role="agent", purpose="address_request")[0], 0)
        self.assertEqual(show(inst, rids[1], role="admin", purpose="city_business")[0], 1)
        self.assertEqual(find(inst, "email", people[2]["email"])[0], 0)
        _, out, _ = inst.cli("hold", "place", "--request", rids[3], "--reason", "litigation",
                             "--actor", "clerk")
        hold = re.search(r"\d+", out).group(0)
        sid = inst.query("SELECT subject_id FROM personal_field WHERE request_id = ?",
                         (int(rids[2]),))[0][0]
        inst.cli("hold", "place", "--subject", sid, "--reason", "investigation", "--actor",
                 "clerk")
        inst.cli("personal", "erase", "--request", rids[4], "--actor", "officer",
                 "--reason", "asked")
        inst.cli("hold", "release", "--id", hold, "--actor", "clerk")
        cp_mid = os.path.join(inst.root, "checkpoint-mid.json")
        inst.cli("audit", "checkpoint", "--out", cp_mid)
        officer_fields(self, inst, rids[3])
        cp_late = os.path.join(inst.root, "checkpoint-late.json")
        inst.cli("audit", "checkpoint", "--out", cp_late)
        self.server.stop()
        cls = type(self)
        cls.people, cls.rids = people, rids
        cls.cp = {"early": cp_early, "mid": cp_mid, "late": cp_late}
        cls.made = True

    def checkpoint_file(self, which):
        with open(self.cp[which], encoding="utf-8") as f:
            text = f.read()
        return json.loads(text)["checkpoint"]

    def test_the_log_is_what_rfc_6962_says_and_verifies(self):
        """a real log verifies; roots and head recomputed here; entries hold no personal data"""
        self.make_log()
        inst = self.inst
        code, text = verify(inst)
        self.assertEqual(code, 0, text)
        self.assertRegex(text, r"(?m)^audit log OK")
        for which in ("early", "mid", "late"):
            code, text = verify(inst, "--checkpoint", self.cp[which])
            self.assertEqual(code, 0, "%s checkpoint: %s" % (which, text))
        pk, _ = audit_public_key(self, inst)
        self.assertEqual(verify(inst, "--public-key", pk)[0], 0)
        code, text = verify(inst, "--public-key", "%064x" % (int(pk, 16) ^ 1))
        self.assertEqual(code, 1, "another public key must fail:\n" + text)
        self.assertIn("FAILED", text)

        rows = audit_rows(inst)
        leaves = [leaf_hash(b.encode("utf-8")) for _, _, _, _, b in rows]
        actions = []
        for i, (seq, at, req, subj, body) in enumerate(rows):
            e = json.loads(body)
            self.assertEqual((seq, e["seq"]), (i + 1, i + 1))
            self.assertEqual(e["at"], at)
            self.assertEqual(body, json.dumps(e, separators=(",", ":"), ensure_ascii=False),
                             "canonical: no spaces, one encoding")
            actions.append(e["action"])
            for p in self.people:
                for m in pmarks(p):
                    self.assertNotIn(m, body, "personal data in the audit log")
        self.assertEqual(actions.count("collect"), 5, actions)
        for a in ("read", "refuse", "lookup", "hold", "release", "erase"):
            self.assertIn(a, actions)
        cps = inst.query("SELECT size, at, root, public_key, signature FROM audit_checkpoint "
                         "ORDER BY size")
        self.assertGreaterEqual(len(cps), 3)
        for size, at, root, pub, sig in cps:
            self.assertEqual(root, merkle_root(leaves[:size]), "checkpoint %d: RFC 6962 root" %
                             size)
            self.assertEqual(pub.hex(), pk)
            self.assertEqual(len(sig), 64)
        self.assertEqual(cps[-1][0], len(rows), "the last checkpoint covers the whole log")
        for which in ("early", "mid", "late"):
            cp = self.checkpoint_file(which)
            self.assertEqual(bytes.fromhex(cp["root"]), merkle_root(leaves[:cp["size"]]))
            self.assertEqual(cp["public_key"], pk)
        (size, head), = inst.query("SELECT size, frontier FROM audit_head")
        self.assertEqual(size, len(rows))
        self.assertEqual(head, frontier(leaves), "the stored head is the tree's right edge")

    def tampered(self, name, sql_fn):
        t = self.inst.clone("privacy-tamper-" + name)
        import sqlite3
        con = sqlite3.connect(t.db_path)
        try:
            for (trg,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")\
                    .fetchall():
                con.execute('DROP TRIGGER "%s"' % trg)  # whoever holds the file can
            sql_fn(con)
            con.commit()
        finally:
            con.close()
        return t

    def test_every_tampering_of_the_store_fails_verify(self):
        """edit/flip, at column, delete, swap, truncate, checkpoint edits: audit verify FAILED"""
        self.make_log()
        rows = audit_rows(self.inst)
        n = len(rows)
        mid = n // 2
        body = {seq: b for seq, _, _, _, b in rows}

        def flip(seq, pos):
            def f(con):
                b = bytearray(body[seq].encode("utf-8"))
                b[pos] ^= 0x01
                con.execute("UPDATE audit_entry SET body = ? WHERE seq = ?", (b.decode(), seq))
            return f

        def reword(con):  # a canonical, well-formed, different entry
            e = json.loads(body[mid])
            e["actor"] = e["actor"] + "x"
            con.execute("UPDATE audit_entry SET body = ? WHERE seq = ?",
                        (json.dumps(e, separators=(",", ":")), mid))

        def swap(i, j):
            def f(con):
                a = con.execute("SELECT at, request_id, subject_id, body FROM audit_entry "
                                "WHERE seq = ?", (i,)).fetchone()
                b = con.execute("SELECT at, request_id, subject_id, body FROM audit_entry "
                                "WHERE seq = ?", (j,)).fetchone()
                for seq, v in ((i, b), (j, a)):
                    con.execute("UPDATE audit_entry SET at = ?, request_id = ?, subject_id = ?, "
                                "body = ? WHERE seq = ?", v + (seq,))
            return f

        def sql(*stmts):
            def f(con):
                for s in stmts:
                    con.execute(s)
            return f

        def flip_blob(table, col, where):
            def f(con):
                (v,) = con.execute("SELECT %s FROM %s WHERE %s" % (col, table, where)).fetchone()
                v = bytearray(v)
                v[len(v) // 2] ^= 0x01
                con.execute("UPDATE %s SET %s = ? WHERE %s" % (table, col, where), (bytes(v),))
            return f

        last_cp = "size = (SELECT max(size) FROM audit_checkpoint)"
        cases = [
            ("flip-first-byte", flip(mid, 0)),
            ("flip-middle-byte", flip(mid, len(body[mid]) // 2)),
            ("flip-last-byte", flip(mid, len(body[mid]) - 1)),
            ("flip-first-entry", flip(1, len(body[1]) // 3)),
            ("flip-last-entry", flip(n, len(body[n]) // 3)),
            ("reworded-entry", reword),
            ("at-column", sql("UPDATE audit_entry SET at = at + 1 WHERE seq = %d" % mid)),
            ("request-column", sql("UPDATE audit_entry SET request_id = coalesce(request_id, 0) "
                                   "+ 1 WHERE seq = %d" % mid)),
            ("delete-middle", sql("DELETE FROM audit_entry WHERE seq = %d" % mid)),
            ("delete-first", sql("DELETE FROM audit_entry WHERE seq = 1")),
            ("swap-two", swap(2, mid)),
            ("swap-neighbours", swap(mid, mid + 1)),
            ("delete-last-entries", sql("DELETE FROM audit_entry WHERE seq > %d" % (n - 2))),
            ("delete-every-checkpoint", sql("DELETE FROM audit_checkpoint")),
            ("checkpoint-signature", flip_blob("audit_checkpoint", "signature", last_cp)),
            ("checkpoint-root", flip_blob("audit_checkpoint", "root", last_cp)),
            ("checkpoint-size", sql("UPDATE audit_checkpoint SET size = size + 1 WHERE " +
                                    last_cp)),
            ("checkpoint-public-key", flip_blob("audit_checkpoint", "public_key", last_cp)),
            ("head-frontier", flip_blob("audit_head", "frontier", "id = 1")),
        ]
        problems = []
        for name, fn in cases:
            t = self.tampered(name, fn)
            code, text = verify(t)
            if code != 1 or "audit log FAILED" not in text:
                problems.append("%s: exit %d\n%s" % (name, code, text))
        self.assertEqual(problems, [], "tampering that audit verify let through")

    def test_truncation_with_its_checkpoints_is_caught_by_a_kept_checkpoint(self):
        """drop the last entries, their checkpoints, and fix the head: passes alone, fails pinned"""
        self.make_log()
        rows = audit_rows(self.inst)
        leaves = [leaf_hash(b.encode("utf-8")) for _, _, _, _, b in rows]
        k = self.checkpoint_file("mid")["size"]
        self.assertLess(k, len(rows))

        def truncate(con):
            con.execute("DELETE FROM audit_entry WHERE seq > ?", (k,))
            con.execute("DELETE FROM audit_checkpoint WHERE size > ?", (k,))
            con.execute("UPDATE audit_head SET size = ?, frontier = ? WHERE id = 1",
                        (k, frontier(leaves[:k])))
        t = self.tampered("truncated-consistently", truncate)
        code, text = verify(t)
        self.assertEqual(code, 0, "a consistent truncation passes on its own (the store "
                                  "cannot know): %s" % text)
        self.assertEqual(verify(t, "--checkpoint", self.cp["early"])[0], 0)
        code, text = verify(t, "--checkpoint", self.cp["late"])
        self.assertEqual(code, 1, "the auditor's later checkpoint catches it:\n" + text)
        self.assertIn("audit log FAILED", text)

    def test_every_byte_flip_of_an_export_fails_verify(self):
        """audit export; verify --export OK; ~50 sampled byte flips, line deletes, swaps: FAILED"""
        self.make_log()
        inst = self.inst
        path = os.path.join(inst.root, "export.jsonl")
        inst.cli("audit", "export", "--out", path)
        code, text = verify(inst, "--export", path)
        self.assertEqual(code, 0, text)
        self.assertRegex(text, r"(?m)^audit log OK")
        self.assertEqual(verify(inst, "--export", path, "--checkpoint", self.cp["late"])[0], 0)
        data = read_bytes(path)
        lines = data.split(b"\n")
        head = json.loads(lines[0])
        self.assertEqual((head["civic311_audit"], head["size"]), (1, len(audit_rows(inst))))
        rng = random.Random(6962)
        positions = sorted({0, len(data) - 1} | set(rng.sample(range(len(data)), 48)))
        variants = [("flip at %d (%r)" % (i, data[i:i + 1]),
                     data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]) for i in positions]
        entry_lines = [i for i, l in enumerate(lines) if l.startswith(b'{"seq":')]
        m = entry_lines[len(entry_lines) // 2]
        variants.append(("delete a middle entry", b"\n".join(lines[:m] + lines[m + 1:])))
        sw = lines[:]
        sw[m], sw[m + 1] = sw[m + 1], sw[m]
        if sw != lines:
            variants.append(("swap two lines", b"\n".join(sw)))
        sw = lines[:]
        e1, e2 = entry_lines[1], entry_lines[2]
        sw[e1], sw[e2] = sw[e2], sw[e1]
        variants.append(("two entries swapped", b"\n".join(sw)))
        def one(n_variant):
            n, (what, v) = n_variant
            bad = os.path.join(inst.root, "export-tampered-%d.jsonl" % n)
            with open(bad, "wb") as f:
                f.write(v)
            code, text = verify(inst, "--export", bad)
            if code != 1 or "audit log FAILED" not in text:
                return "%s: exit %d %s" % (what, code, text.strip()[:200])
            os.unlink(bad)
            return None
        with ThreadPoolExecutor(max_workers=3) as ex:
            problems = [p for p in ex.map(one, enumerate(variants)) if p]
        self.assertGreaterEqual(len(variants), 52)
        self.assertEqual(problems, [], "export tampering that audit verify let through")


class PrivacyMerkleOracle(unittest.TestCase):
    def test_the_oracle_matches_certificate_transparency(self):
        """(the premise) this file's RFC 6962 hashing gives CT's published test roots"""
        leaves = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
                  bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
        roots = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                 "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                 "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                 "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                 "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                 "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                 "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
        hashed = [leaf_hash(x) for x in leaves]
        for n, want in enumerate(roots, 1):
            self.assertEqual(merkle_root(hashed[:n]).hex(), want, n)
        self.assertEqual(merkle_root([]).hex(), hashlib.sha256(b"").hexdigest())
        f = frontier(hashed[:7])  # 4 + 2 + 1
        self.assertEqual(f[:8], struct.pack(">Q", 7))
        self.assertEqual(f[8:], merkle_root(hashed[:4]) + merkle_root(hashed[4:6]) + hashed[6])


# ---------------------------------------------------------------------------
# 4. Access: the gatekeeper
# ---------------------------------------------------------------------------

class PrivacyAccess(PrivacyStory):
    NAME = "privacy-access"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = Client(cls.server.port)
        # One person, two requests (the second with the email and phone
        # written differently): what `personal find` must match.
        cls.p = person()
        digits = "2" + "".join(random.choice("0123456789") for _ in range(9))
        cls.p["phone"] = "+1 (%s) %s-%s" % (digits[:3], digits[3:6], digits[6:])
        p2 = dict(cls.p)
        p2["email"] = cls.p["email"].upper()
        p2["phone"] = "%s.%s.%s" % (digits[:3], digits[3:6], digits[6:])
        cls.p2 = p2
        code = cls.code

        def post(p):
            r = c.post("requests.json", [("api_key", cls.key), ("service_code", code),
                                         ("lat", "40.7"), ("long", "-74")] +
                       cls.cat.valid_answers(code) + list(p.items()))
            return o311.expect_json(r, 201)[0]["service_request_id"]
        cls.rid = post(cls.p)
        cls.rid2 = post(p2)
        c.close()
        cls.server.stop()
        cls.agency = cls.inst.query("SELECT agency_code FROM request WHERE id = ?",
                                    (int(cls.rid),))[0][0]
        assert cls.agency, "the demo service is routed to an agency"
        cls.other = [a for (a,) in cls.inst.query("SELECT code FROM agency ORDER BY code")
                     if a != cls.agency][0]

    def run_calls(self, calls, fn):
        """Runs fn(call) for each call, three at a time (each names its own
        actor, so its audit entry is found whatever the order)."""
        with ThreadPoolExecutor(max_workers=3) as ex:
            return list(ex.map(fn, calls))

    def check_audit(self, before, calls, results, allowed_action):
        new = audit_entries(self.inst, before)
        self.assertEqual(len(new), len(calls), "one audit entry per call, no more, no less")
        problems = []
        for call, (code, _, _) in zip(calls, results):
            actor, want = call["actor"], call["allowed"]
            mine = [e for e in new if names_actor(e, actor)]
            action = allowed_action if want else "refuse"
            if len(mine) != 1 or mine[0]["action"] != action:
                problems.append("%s: want one %r entry, got %s" % (actor, action, mine))
            elif "request" in call and str(mine[0].get("request")) != str(call["request"]):
                problems.append("%s: the entry names request %s" % (actor, mine[0]))
            for e in mine:
                for m in pmarks(self.p):
                    if m in json.dumps(e):
                        problems.append("%s: personal data in its audit entry" % actor)
        self.assertEqual(problems, [])

    def test_role_purpose_class_relationship_table(self):
        """7 roles x 4 purposes x 5 classes x routed/not: allowed or refused as the policy says"""
        calls = []
        for n, (role, purpose, dclass, routed) in enumerate(itertools.product(
                ROLES, PURPOSES, CLASSES, (True, False))):
            calls.append({"role": role, "purpose": purpose, "classes": dclass, "routed": routed,
                          "actor": "acc%03dz" % n, "request": self.rid,
                          "agencies": [self.agency if routed else self.other],
                          # A records officer reads only through the
                          # disclosure register (P4): `personal show`
                          # refuses it whatever the policy table says.
                          "allowed": policy(role, purpose, dclass, routed) and
                          role != "records_officer"})
        # Several classes at once: all or nothing; the default is contact.
        calls.append({"role": "agent", "purpose": "address_request", "classes": "contact,device",
                      "routed": True, "actor": "accmix1z", "request": self.rid,
                      "agencies": [self.agency], "allowed": False})
        calls.append({"role": "privacy_officer", "purpose": "required_by_law",
                      "classes": ",".join(CLASSES), "routed": False, "actor": "accmix2z",
                      "request": self.rid, "agencies": [], "allowed": True})
        calls.append({"role": "agency_staff", "purpose": "address_request", "classes": None,
                      "routed": True, "actor": "accdef1z", "request": self.rid,
                      "agencies": [self.other, self.agency], "allowed": True})
        calls.append({"role": "agency_staff", "purpose": "emergency", "classes": None,
                      "routed": False, "actor": "accdef2z", "request": self.rid,
                      "agencies": [], "allowed": False})
        before = audit_size(self.inst)

        def one(call):
            return show(self.inst, call["request"], call["role"], call["purpose"], call["actor"],
                        call["classes"], call["agencies"])
        results = self.run_calls(calls, one)
        problems = []
        for call, (code, out, err) in zip(calls, results):
            what = "%(role)s %(purpose)s %(classes)s routed=%(routed)s" % call
            for m in pmarks(self.p):
                if m in err:
                    problems.append("%s: personal data on stderr" % what)
            if not call["allowed"]:
                if code != 1 or "refused:" not in err or out.strip():
                    problems.append("%s: want refused (exit 1, 'refused:'), got exit %d %r %r" %
                                    (what, code, out[:100], err.strip()[:200]))
                continue
            if code != 0:
                problems.append("%s: want allowed, got exit %d %s" % (what, code, err.strip()))
                continue
            doc = json.loads(out)
            classes = (call["classes"] or "contact").split(",")
            want = {f: self.p[f] for c in classes for f in CLASS_FIELDS[c]}
            if doc.get("fields") != want or str(doc.get("request")) != str(self.rid) or \
                    doc.get("erased") is not False:
                problems.append("%s: want fields %s, got %s" % (what, sorted(want), doc))
        self.assertEqual(problems, [], "%d of %d calls disagree with the policy" %
                         (len(problems), len(calls)))
        self.check_audit(before, calls, results, "read")

    def test_find_by_email_and_phone_by_role_and_purpose(self):
        """personal find (value on stdin): allowed iff the role may read contact data of any request"""
        calls = []
        for n, (role, purpose) in enumerate(itertools.product(ROLES, PURPOSES)):
            calls.append({"role": role, "purpose": purpose, "by": "email",
                          "value": self.p["email"], "actor": "find%03dz" % n,
                          "allowed": policy(role, purpose, "contact", False)})
        calls.append({"role": "agent", "purpose": "emergency", "by": "phone",
                      "value": self.p["phone"], "actor": "findphone1z", "allowed": True})
        calls.append({"role": "supervisor", "purpose": "city_business", "by": "phone",
                      "value": self.p2["phone"], "actor": "findphone2z", "allowed": True})
        calls.append({"role": "agent", "purpose": "address_request", "by": "email",
                      "value": "  %s " % self.p2["email"], "actor": "findemail2z",
                      "allowed": True})
        before = audit_size(self.inst)

        def one(call):
            return find(self.inst, call["by"], call["value"], call["role"], call["purpose"],
                        call["actor"], [self.agency])
        results = self.run_calls(calls, one)
        problems = []
        for call, (code, out, err) in zip(calls, results):
            what = "%(role)s %(purpose)s by %(by)s" % call
            if call["allowed"]:
                if code != 0 or out.split() != [self.rid2, self.rid]:
                    problems.append("%s: want [%s, %s] (newest first), got exit %d %r %s" % (
                        what, self.rid2, self.rid, code, out, err.strip()))
            elif code != 1 or "refused:" not in err or out.strip():
                problems.append("%s: want refused, got exit %d %r %s" % (what, code, out,
                                                                         err.strip()))
            for m in pmarks(self.p):
                if m in err:
                    problems.append("%s: the value on stderr" % what)
        self.assertEqual(problems, [])
        self.check_audit(before, calls, results, "lookup")
        # A value nobody gave finds nothing (and says so with an empty list).
        code, out, err = find(self.inst, "email", canary("nobody") + "@example.org")
        self.assertEqual((code, out.strip()), (0, ""), err)

    def test_no_request_and_bad_usage_leave_no_entry(self):
        """an unknown request: failure, no entry; an unknown role or purpose: usage error (2)"""
        before = audit_size(self.inst)
        code, out, err = show(self.inst, "999999")
        self.assertNotEqual(code, 0, out)
        for args in (("--role", "mayor"), ("--purpose", "curiosity"), ("--classes", "age")):
            base = {"--role": "agent", "--purpose": "address_request", "--classes": "contact"}
            base[args[0]] = args[1]
            code, out, err = self.inst.cli("personal", "show", "--request", self.rid, "--actor",
                                           "x", *itertools.chain(*base.items()), check=False)
            self.assertEqual(code, 2, "%s: %s" % (args, err))
        code, out, err = self.inst.cli("personal", "show", "--request", self.rid, "--role",
                                       "agent", "--purpose", "address_request", check=False)
        self.assertEqual(code, 2, "a read names its actor: " + err)
        self.assertEqual(audit_size(self.inst), before)


# ---------------------------------------------------------------------------
# 5. No age, ever (P1)
# ---------------------------------------------------------------------------

AGE_IDENT_RE = re.compile(r"(^|_)(age|ages|dob|birth|born|birthday|birthdate|yob)(_|$)|"
                          r"birth_?date|date_?of_?birth|birth_?day|year_?of_?birth")
AGE_TEXT_RE = re.compile(r"\b(age|ages|aged|how old|years old|date of birth|birth ?date|"
                         r"birthday|born|d\.?o\.?b|fecha de nacimiento|edad|nacimiento)\b", re.I)


def age_ident(name):
    return AGE_IDENT_RE.search(name.lower()) is not None


def walk_keys(doc):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield k
            yield from walk_keys(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from walk_keys(v)


class PrivacyNoAge(ApiTest):
    def test_the_matchers_can_fail(self):
        """(the premise) the age matchers find what they must and pass what they must"""
        for n in ("age", "AGE", "reporter_age", "dob", "date_of_birth", "birthdate", "birth_date",
                  "age_group", "born_on", "yob"):
            self.assertTrue(age_ident(n), n)
        for n in ("page", "usage", "stage", "garbage", "message", "image_url", "agency_code",
                  "language", "storage", "damage", "manager", "percentage", "average"):
            self.assertFalse(age_ident(n), n)
        for t in ("What is your date of birth?", "Fecha de nacimiento", "How old are you?",
                  "Your age", "Birthday", "DOB"):
            self.assertTrue(AGE_TEXT_RE.search(t), t)
        for t in ("Which stage is the work at?", "Garbage was not picked up", "Page 2",
                  "A damaged sign", "Average speed"):
            self.assertFalse(AGE_TEXT_RE.search(t), t)

    def test_no_table_column_or_index_names_age(self):
        """every table, column and index of the store (sqlite_master, table_info)"""
        con = self.inst.db()
        try:
            things = con.execute("SELECT type, name FROM sqlite_master").fetchall()
            self.assertIn(("table", "personal_field"), things)
            cols = 0
            for kind, name in things:
                self.assertFalse(age_ident(name), "%s %s" % (kind, name))
                if kind == "table":
                    for col in con.execute('PRAGMA table_info("%s")' % name):
                        cols += 1
                        self.assertFalse(age_ident(col[1]), "%s.%s" % (name, col[1]))
            self.assertGreater(cols, 50)
        finally:
            con.close()

    def test_no_identifier_of_the_schema_source_names_age(self):
        """src/store/schema.c, both dialects: every identifier in its SQL text"""
        with open(os.path.join(harness.REPO, "src", "store", "schema.c"), encoding="utf-8") as f:
            src = f.read()
        src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
        sql = " ".join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', src))
        idents = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql))
        for must in ("personal_field", "wrapped_key", "audit_checkpoint", "GENERATED", "BYTEA"):
            self.assertIn(must, idents, "the SQL text was read")
        self.assertEqual(sorted(i for i in idents if age_ident(i)), [])

    def test_no_api_response_has_an_age_key(self):
        """every public document's JSON keys and XML tags, a request with extensions included"""
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        rid = self.create(code, extra=list(person().items()))
        t0 = now()
        paths = ["discovery", "services", "requests/%s" % rid, "requests",
                 "servicerequestupdates"] + ["services/%s" % c for c in self.cat.by_code]
        queries = {"requests/%s" % rid: "extensions=true", "requests": "extensions=true",
                   "servicerequestupdates": "start_date=" + o311.fmt_dt(t0 - 3600)}
        seen = set()
        for path in paths:
            q = queries.get(path)
            for fmt in ("json", "xml"):
                r = self.c.get("%s.%s%s" % (path, fmt, "?" + q if q else ""))
                self.assertEqual(r.status, 200, r.describe())
                if fmt == "json":
                    keys = set(walk_keys(r.json()))
                else:
                    keys = {el.tag for el in ET.fromstring(r.body).iter()}
                seen |= keys
                bad = sorted(k for k in keys if age_ident(k))
                self.assertEqual(bad, [], path)
        self.assertIn("service_request_id", seen)
        self.assertIn("datatype_description", seen)

    def test_no_demo_attribute_asks_age(self):
        """data/demo/catalog.json and the served definitions: no attribute about age or birth"""
        with open(os.path.join(harness.REPO, "data", "demo", "catalog.json"),
                  encoding="utf-8") as f:
            demo = json.load(f)
        defs = [(d["service_code"], d["attributes"]) for d in demo["service_definitions"]]
        defs += [(c, d["attributes"]) for c, d in self.cat.defs.items()]
        n = 0
        for svc, attrs in defs:
            for a in attrs:
                n += 1
                self.assertFalse(age_ident(a["code"]), "%s %s" % (svc, a["code"]))
                texts = [a.get("description"), a.get("datatype_description")] + \
                    [v.get("name") for v in a.get("values") or []] + \
                    [v.get("key") for v in a.get("values") or []]
                for t in texts:
                    self.assertFalse(t and AGE_TEXT_RE.search(t), "%s %s: %r" % (svc, a["code"], t))
        self.assertGreater(n, 30)


class PrivacyNoAgeImport(unittest.TestCase):
    """services import refuses a question about age or birth, all or nothing."""

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Installation("privacy-noage")
        with open(os.path.join(harness.REPO, "data", "demo", "catalog.json"),
                  encoding="utf-8") as f:
            demo = json.load(f)
        cls.svc = demo["services"][0]
        cls.definition = next(d for d in demo["service_definitions"]
                              if d["service_code"] == cls.svc["service_code"])

    def attr(self, code, description, datatype="string", values=()):
        return {"variable": True, "code": code, "datatype": datatype, "required": False,
                "datatype_description": None, "order": 9, "description": description,
                "values": [{"key": k, "name": n} for k, n in values]}

    def write(self, name, doc, fmt="json"):
        path = os.path.join(self.inst.root, "%s.%s" % (name, fmt))
        with open(path, "w", encoding="utf-8") as f:
            if fmt == "json":
                json.dump(doc, f)
            else:
                f.write(definition_xml(doc))
        return path

    def state(self):
        return self.inst.table_counts(), self.inst.cli("services", "export")[1]

    def test_age_questions_are_refused_and_change_nothing(self):
        """AGE, DOB, date_of_birth, 'What is your date of birth?', 'Fecha de nacimiento'... refused"""
        code = self.svc["service_code"]
        cases = [
            ("code AGE", self.attr("AGE", "How old are you?", "number")),
            ("code DOB", self.attr("DOB", "Your date", "datetime")),
            ("code date_of_birth", self.attr("date_of_birth", "Date", "datetime")),
            ("code REPORTER_AGE", self.attr("REPORTER_AGE", "Reporter details")),
            ("code BIRTHDATE", self.attr("BIRTHDATE", "When?", "datetime")),
            ("description", self.attr("Q1", "What is your date of birth?", "datetime")),
            ("description es", self.attr("Q2", "Fecha de nacimiento", "datetime")),
            ("description age", self.attr("Q3", "What is your age?", "number")),
            ("age group list", self.attr("GROUP", "Your age group", "singlevaluelist",
                                         [("A", "Under 18"), ("B", "18 to 64")])),
        ]
        before = self.state()
        problems = []
        for n, (what, a) in enumerate(cases):
            doc = dict(self.definition)
            doc["attributes"] = list(self.definition["attributes"]) + [a]
            for fmt in ("json", "xml"):
                path = self.write("age-%d" % n, doc, fmt)
                rc, out, err = self.inst.cli("services", "import", path, check=False)
                if rc == 0 or not re.search(r"age|birth|nacimiento", err, re.I):
                    problems.append("%s (%s): exit %d %s%s" % (what, fmt, rc, out, err.strip()))
        # A whole bundle with a new service whose question asks birth: nothing of it stored.
        bundle = json.loads(self.inst.cli("services", "export")[1])
        new = dict(self.svc, service_code="NEW-AGE-SVC", service_name="New")
        bundle["services"].append(new)
        bundle["service_definitions"].append({"service_code": "NEW-AGE-SVC", "attributes": [
            self.attr("DOB", "What is your date of birth?", "datetime")]})
        rc, out, err = self.inst.cli("services", "import", self.write("bundle", bundle),
                                     check=False)
        if rc == 0:
            problems.append("bundle: exit 0 %s" % out)
        self.assertEqual(problems, [], "age questions that import let through")
        self.assertEqual(self.state(), before, "a refused import changed the store")

    def test_words_that_merely_contain_age_import(self):
        """(the control) STAGE, 'Garbage type', 'Which stage is the work at?' import fine"""
        doc = dict(self.definition)
        doc["attributes"] = list(self.definition["attributes"]) + [
            self.attr("STAGE", "Which stage is the work at?"),
            self.attr("GARBAGE_TYPE", "Garbage type", "singlevaluelist",
                      [("BAGS", "Bags"), ("PAGES", "Loose pages")])]
        rc, out, err = self.inst.cli("services", "import", self.write("stage", doc), check=False)
        self.assertEqual(rc, 0, out + err)


def definition_xml(doc):
    """An Open311 service definition in XML."""
    root = ET.Element("service_definition")
    ET.SubElement(root, "service_code").text = doc["service_code"]
    attrs = ET.SubElement(root, "attributes")
    for a in doc["attributes"]:
        el = ET.SubElement(attrs, "attribute")
        for k in ("variable", "code", "datatype", "required", "datatype_description", "order",
                  "description"):
            v = a.get(k)
            ET.SubElement(el, k).text = ("true" if v else "false") if isinstance(v, bool) else \
                (None if v is None else str(v))
        vals = ET.SubElement(el, "values")
        for v in a.get("values") or []:
            ve = ET.SubElement(vals, "value")
            ET.SubElement(ve, "key").text = v["key"]
            ET.SubElement(ve, "name").text = v["name"]
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


# ---------------------------------------------------------------------------
# The key file and the new command line
# ---------------------------------------------------------------------------

class PrivacyKeyFile(unittest.TestCase):
    def test_init_makes_a_private_key_file_and_keys_show_tells_no_secret(self):
        """init: keys/civic311.keys 0600 in a 0700 dir; keys show: path, KEK, public key only"""
        inst = harness.Installation("privacy-keys", demo=False)
        path = os.path.join(inst.data, "keys", "civic311.keys")
        self.assertEqual(inst.keys_path, path)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        pk, out = audit_public_key(self, inst)
        self.assertIn(path, out)
        self.assertEqual(kek_versions(self, out), ["1"], out)
        secrets_ = [t for t, _ in key_file_secrets(path, pk)]
        self.assertGreaterEqual(len(secrets_), 2, "a KEK, a blind-index key, a signing key")
        for t in secrets_:
            self.assertNotIn(t, out, "keys show printed a secret")
        # A key file others may read is refused, naming no secret.
        os.chmod(path, 0o644)
        code, out2, err = inst.cli("keys", "show", check=False)
        os.chmod(path, 0o600)
        self.assertNotEqual(code, 0, "a key file others may read is refused: " + out2 + err)
        for t in secrets_:
            self.assertNotIn(t, out2 + err)

    def test_new_commands_have_help_and_exit_2_on_bad_usage(self):
        """keys, audit, personal, hold, retention, backup: --help; bad usage exits 2"""
        inst = harness.Installation("privacy-usage", demo=False)
        for cmd in ("keys", "audit", "personal", "hold", "retention", "backup"):
            code, out, _ = inst._run([cmd, "--help"], check=False)
            self.assertEqual(code, 0, cmd)
            self.assertIn("usage: civic311 " + cmd, out)
        d = inst.data
        for argv in (["keys", "frob", "--data", d], ["audit", "verify"],
                     ["personal", "find", "--data", d, "--by", "name", "--role", "agent",
                      "--actor", "x", "--purpose", "emergency"],
                     ["hold", "place", "--data", d, "--reason", "r", "--actor", "a"],
                     ["retention", "run", "--data", d, "--now", "yesterday"],
                     ["backup", "--data", d]):
            code, _, err = inst._run(argv, check=False)
            self.assertEqual(code, 2, "%s -> %d %s" % (argv, code, err))


if __name__ == "__main__":
    unittest.main()
