"""
The request lifecycle (W3, W4, W5) through `civic311 requests update|queue`,
as Open311 clients then see it.

Each story changes requests on the shared server's store with the CLI and
reads them back over HTTP in JSON and XML (with extensions=true) and from
servicerequestupdates: the status and detailed status, the resolution, the
public notes and only those, agency_responsible after a transfer,
merged_into after a merge. Every refused change exits 2 with a message and
leaves the request and its history exactly as they were.
"""
import o311
from base import ApiTest, canary, now

POTHOLE = "DOT-POTHOLE"  # realtime, routed to DOT, with an SLA
LITTER = "DSNY-LITTER"  # realtime, routed to DSNY


class Lifecycle(ApiTest):
    # ---- helpers ----

    def update(self, rid, *args, check=True):
        code, out, err = self.inst.cli("requests", "update", "--id", rid, *args, check=False)
        if check:
            self.assertEqual(code, 0, "update %s %r: %s" % (rid, args, err))
        return code, out, err

    def refused(self, rid, args, message):
        """A change the lifecycle refuses: exit 2, the message, nothing written."""
        before = self.snapshot(rid)
        code, out, err = self.update(rid, *args, check=False)
        self.assertEqual(code, 2, "%r should be refused: %s%s" % (args, out, err))
        self.assertIn(message, err, args)
        self.assertEqual(self.snapshot(rid), before, "%r changed the request" % (args,))

    def snapshot(self, rid):
        """Everything a change could touch: the row and its history."""
        row = self.inst.query("SELECT status, resolution, status_notes, agency_code, updated_at, "
                              "expected_at, closed_at, merged_into FROM request WHERE id = ?",
                              (int(rid),))
        events = self.inst.query("SELECT count(*), MAX(id) FROM request_event "
                                 "WHERE request_id = ?", (int(rid),))
        return row, events

    def last_event(self, rid):
        return self.inst.query("SELECT MAX(id) FROM request_event WHERE request_id = ?",
                               (int(rid),))[0][0]

    def ext(self, rid):
        """The request in JSON with extensions, checked against its XML."""
        rj = self.c.get("requests/%s.json" % rid, {"extensions": "true"})
        rx = self.c.get("requests/%s.xml" % rid, {"extensions": "true"})
        doc = o311.check_requests(rj, rx, extensions=True)
        self.assertEqual(len(doc), 1)
        return doc[0]

    def updates_of(self, rid, t0):
        r = self.c.get("servicerequestupdates.json",
                       {"start_date": o311.fmt_dt(t0 - 5), "end_date": o311.fmt_dt(now() + 5)})
        doc = o311.expect_json(r)
        return [u for u in doc if u["service_request_id"] == rid]

    # ---- stories ----

    def test_work_to_closure_with_public_and_internal_notes(self):
        """acknowledge, work, close: Open311 shows each step, the public notes only, never who"""
        t0 = now()
        rid = self.create(POTHOLE)
        secret = canary("staffonly")
        self.update(rid, "--status", "acknowledged", "--actor", "jane.doe")
        self.update(rid, "--note", secret, "--internal", "--actor", "jane.doe")
        self.update(rid, "--status", "in_progress", "--note", "Crew assigned", "--public")
        self.update(rid, "--status", "closed", "--resolution", "fixed", "--note", "Filled")
        r = self.ext(rid)
        self.assertEqual(r["status"], "closed")
        self.assertEqual(r["status_notes"], "Filled")
        ext = r["extended_attributes"]
        self.assertEqual((ext["detailed_status"], ext["resolution"], ext["merged_into"]),
                         ("closed", "fixed", None))
        self.assertEqual([(n["type"], n["detailed_status"], n["description"])
                          for n in ext["notes"]],
                         [("opened", "open", None), ("activity", "acknowledged", None),
                          ("activity", "in_progress", "Crew assigned"),
                          ("closed", "closed", "Filled")])
        # The expected time is the service's SLA clock, from filing.
        self.assertIsNotNone(r["expected_datetime"])
        self.assertGreater(o311.parse_dt(r["expected_datetime"]),
                           o311.parse_dt(r["requested_datetime"]))
        ups = self.updates_of(rid, t0)
        self.assertEqual([(u["status"], u["external_status_code"], u["description"])
                          for u in ups],
                         [("investigating", "acknowledged", ""),
                          ("in_progress", "in_progress", "Crew assigned"),
                          ("fixed", "closed", "Filled")])
        for path in ("requests/%s.json?extensions=true", "requests/%s.xml?extensions=true",
                     "servicerequestupdates.json", "servicerequestupdates.xml"):
            body = self.c.get(path % rid if "%s" in path else path).body
            self.assertNotIn(secret.encode(), body, path)
            self.assertNotIn(b"jane.doe", body, path)
            self.assertNotIn(b"cli:", body, path)
        # The history keeps who did it, for staff.
        actors = [a for (a,) in self.inst.query(
            "SELECT actor FROM request_event WHERE request_id = ? ORDER BY id", (int(rid),))]
        self.assertEqual(actors, ["api:%s" % actors[0].split(":")[1], "cli:jane.doe",
                                  "cli:jane.doe", "cli", "cli"])

    def test_closed_but_not_fixed_says_why_and_reopens(self):
        """a close that is not a fix carries its public reason; a reopen needs one too"""
        t0 = now()
        rid = self.create(POTHOLE)
        self.refused(rid, ["--status", "closed", "--resolution", "not_fixed"],
                     "closing as not_fixed needs a public note")
        self.refused(rid, ["--status", "closed", "--resolution", "could_not_find", "--note",
                           "nothing there", "--internal"], "needs a public note")
        self.update(rid, "--status", "closed", "--resolution", "could_not_find", "--note",
                    "Nothing found at this address")
        r = self.ext(rid)
        self.assertEqual(r["extended_attributes"]["resolution"], "could_not_find")
        self.assertEqual(r["status_notes"], "Nothing found at this address")
        self.refused(rid, ["--status", "in_progress"], "a closed request can only be reopened")
        self.refused(rid, ["--status", "reopened"], "reopening needs a note")
        self.update(rid, "--status", "reopened", "--note", "Reported again: still there")
        r = self.ext(rid)
        self.assertEqual(r["status"], "open")
        self.assertEqual(r["extended_attributes"]["detailed_status"], "reopened")
        self.assertIsNone(r["extended_attributes"]["resolution"])
        self.assertEqual([u["status"] for u in self.updates_of(rid, t0)],
                         ["no_further_action", "open"])

    def test_transfer_moves_agency_responsible(self):
        """a misrouted request transferred with a note: agency_responsible follows, queues too"""
        t0 = now()
        rid = self.create(POTHOLE)
        self.update(rid, "--status", "acknowledged")
        self.assertEqual(self.ext(rid)["agency_responsible"], "Department of Transportation")
        self.refused(rid, ["--transfer", "DSNY"], "a transfer needs a note")
        self.refused(rid, ["--transfer", "NOPE", "--note", "x"], "no agency with that code")
        self.refused(rid, ["--transfer", "DOT", "--note", "x"], "routed to that agency already")
        self.update(rid, "--transfer", "DSNY", "--note", "Litter, not a road defect")
        r = self.ext(rid)
        self.assertEqual(r["agency_responsible"], "Department of Sanitation")
        self.assertEqual(r["extended_attributes"]["detailed_status"], "open")
        self.assertEqual(r["extended_attributes"]["notes"][-1]["description"],
                         "Litter, not a road defect")
        got = self.search_ids({"agency_responsible": "DSNY", "service_code": POTHOLE})
        self.assertIn(rid, got)
        since = o311.fmt_dt(t0 - 1)
        dsny = self.queue("--agency", "DSNY", "--service", POTHOLE, "--filed-from", since)
        dot = self.queue("--agency", "DOT", "--service", POTHOLE, "--filed-from", since)
        self.assertIn(rid, dsny)
        self.assertNotIn(rid, dot)
        self.update(rid, "--status", "closed", "--resolution", "fixed")
        self.refused(rid, ["--transfer", "DEP", "--note", "x"],
                     "a closed request cannot be transferred")

    def test_merge_closes_as_duplicate_of_the_one_to_follow(self):
        """merge: closed as duplicate, public note naming the request, merged_into in extensions"""
        t0 = now()
        first, dup = self.create(POTHOLE), self.create(POTHOLE)
        other = self.create(LITTER)
        self.refused(dup, ["--merge-into", dup], "cannot be merged into itself")
        self.refused(dup, ["--merge-into", other], "of another service")
        self.refused(dup, ["--merge-into", "999999999"], "no request 999999999 to merge into")
        self.refused(dup, ["--merge-into", first, "--note", "x", "--internal"],
                     "a merge's note is public")
        self.update(dup, "--merge-into", first, "--note", "Same hole.")
        r = self.ext(dup)
        self.assertEqual(r["status"], "closed")
        want = "Duplicate of request %s. Same hole." % first
        self.assertEqual(r["status_notes"], want)
        ext = r["extended_attributes"]
        self.assertEqual((ext["resolution"], ext["merged_into"]), ("duplicate", first))
        self.assertEqual(ext["notes"][-1]["type"], "closed")
        self.assertEqual(ext["notes"][-1]["description"], want)
        x = self.get_request(dup, "xml", extensions="true")
        self.assertEqual(x.find("request/extended_attributes/merged_into").text, first)
        self.assertEqual([(u["status"], u["description"]) for u in self.updates_of(dup, t0)],
                         [("duplicate", want)])
        self.assertEqual(self.ext(first)["status"], "open")
        self.assertIsNone(self.ext(first)["extended_attributes"]["merged_into"])
        # Nothing merges into a closed request, or one merged itself.
        third = self.create(POTHOLE)
        self.refused(third, ["--merge-into", dup], "itself merged")

    def test_refused_changes_leave_the_request_unchanged(self):
        """every malformed or forbidden change exits 2 and writes nothing"""
        rid = self.create(POTHOLE)
        self.update(rid, "--status", "in_progress")
        cases = [
            (["--status", "closed"], "closing needs a resolution"),
            (["--status", "open"], "cannot go back to open"),
            (["--status", "acknowledged"], "cannot go back to acknowledged"),
            (["--status", "in_progress"], "in_progress already"),
            (["--status", "reopened", "--note", "x"], "only a closed request can be reopened"),
            (["--status", "acknowledged", "--resolution", "fixed"], "only with closing"),
            (["--status", "done"], "--status must be"),
            (["--status", "closed", "--resolution", "sorted"], "--resolution must be"),
            (["--note", ""], "1-4000 bytes"),
            (["--note", "   "], "blank"),
            (["--note", "x" * 4001], "1-4000 bytes"),
            (["--note", "x", "--public", "--internal"], "exclude each other"),
            (["--note", "x", "--actor", "Jane Doe"], "--actor must be"),
            (["--status", "closed", "--resolution", "fixed", "--transfer", "DSNY",
              "--note", "x"], "one change at a time"),
            ([], "nothing in it"),
            (["--merge-into", "abc"], "--merge-into must be"),
            (["--note", "x", "--expect-event", "1"], "has changed since it was read"),
            (["--note", "x", "--expect-updated", "2001-01-01T00:00:00Z"],
             "has changed since it was read"),
            (["--note", "x", "--expect-updated", "yesterday"], "ISO 8601"),
        ]
        for args, message in cases:
            self.refused(rid, args, message)
        code, _, err = self.inst.cli("requests", "update", "--id", "999999999", "--note", "x",
                                     check=False)
        self.assertEqual((code, "there is no request 999999999" in err), (2, True), err)

    def test_expect_update_guards_against_a_stale_read(self):
        """--expect-event: a change made from an old read is refused, from a fresh one it goes"""
        rid = self.create(POTHOLE)
        seen = str(self.last_event(rid))
        updated = self.get_request(rid)["updated_datetime"]
        self.update(rid, "--status", "acknowledged", "--expect-event", seen,
                    "--expect-updated", updated)
        # A second member of staff, working from the same old read:
        self.refused(rid, ["--status", "closed", "--resolution", "fixed", "--expect-event", seen],
                     "has changed since it was read")
        self.update(rid, "--status", "closed", "--resolution", "fixed", "--expect-event",
                    str(self.last_event(rid)))
        self.assertEqual(self.ext(rid)["status"], "closed")

    def test_bulk_update_is_all_or_nothing(self):
        """--ids: one change to several requests; one refusal names its id and changes none"""
        ids = [self.create(POTHOLE) for _ in range(3)]
        self.update(ids[1], "--status", "in_progress")
        before = [self.snapshot(r) for r in ids]
        code, _, err = self.inst.cli("requests", "update", "--ids", ",".join(ids), "--status",
                                     "acknowledged", check=False)
        self.assertEqual(code, 2, err)
        self.assertIn("request %s: " % ids[1], err)
        self.assertIn("nothing was changed", err)
        self.assertEqual([self.snapshot(r) for r in ids], before)
        for bad, message in ((ids[0] + "," + ids[0], "listed twice"), ("1,,2", "--ids must be"),
                             (",".join(str(i) for i in range(1, 502)), "--ids must be")):
            code, _, err = self.inst.cli("requests", "update", "--ids", bad, "--note", "x",
                                         check=False)
            self.assertEqual(code, 2, bad)
            self.assertIn(message, err)
        code, _, err = self.inst.cli("requests", "update", "--ids", ids[0], "--id", ids[0],
                                     "--note", "x", check=False)
        self.assertEqual(code, 2)
        ok = [ids[0], ids[2]]
        _, out, _ = self.inst.cli("requests", "update", "--ids", ",".join(ok), "--status",
                                  "acknowledged", "--note", "Seen by the agency")
        self.assertIn("2 requests changed", out)
        for r in ok:
            self.assertEqual(self.ext(r)["extended_attributes"]["detailed_status"],
                             "acknowledged")
        self.assertEqual(self.ext(ids[1])["extended_attributes"]["detailed_status"],
                         "in_progress")

    # ---- the queue ----

    def queue(self, *args):
        """The ids `requests queue` lists (its table's first column)."""
        _, out, _ = self.inst.cli("requests", "queue", *args)
        lines = out.strip().split("\n")
        self.assertTrue(lines[0].startswith("id "), out)
        self.assertRegex(lines[-1], r"^\d+-\d+ of \d+ \(page \d+\)$")
        return [ln.split()[0] for ln in lines[1:-1]]

    def test_queue_lists_filters_and_sorts(self):
        """requests queue: the agency's open work, filtered and sorted, no personal data"""
        t0 = now()
        since = o311.fmt_dt(t0 - 1)
        secret = canary("queue")
        a = self.create(LITTER, extra=[("email", secret + "@example.org"),
                                       ("first_name", secret)])
        b = self.create(LITTER)
        c = self.create(LITTER)
        self.update(b, "--status", "acknowledged")
        self.update(c, "--status", "closed", "--resolution", "fixed")
        mine = {a, b, c}

        def q(*args):
            return [i for i in self.queue("--agency", "DSNY", "--service", LITTER,
                                          "--filed-from", since, *args) if i in mine]

        self.assertEqual(q(), [a, b])  # not closed, oldest first
        self.assertEqual(q("--sort", "newest"), [b, a])
        self.assertEqual(q("--sort", "updated")[0], b)
        self.assertEqual(q("--sort", "sla"), [a, b])
        self.assertEqual(q("--unacknowledged"), [a])
        self.assertEqual(q("--status", "closed"), [c])
        self.assertEqual(sorted(q("--status", "open,acknowledged,closed")), sorted([a, b, c]))
        self.assertEqual(q("--overdue"), [])  # the SLA is days away
        # Pages of one walk the same list (other stories may have filed
        # requests of the same service in the same second).
        every = self.queue("--agency", "DSNY", "--service", LITTER, "--filed-from", since)
        for page in (1, 2):
            self.assertEqual(self.queue("--agency", "DSNY", "--service", LITTER, "--filed-from",
                                        since, "--page-size", "1", "--page", str(page)),
                             every[page - 1:page])
        _, out, _ = self.inst.cli("requests", "queue", "--agency", "DSNY", "--service", LITTER,
                                  "--filed-from", since, "--status", "open,acknowledged,closed")
        self.assertNotIn(secret, out)
        self.assertNotIn("example.org", out)
        n = len(out.strip().split("\n")) - 2
        self.assertIn("1-%d of %d (page 1)" % (n, n), out)
        for args, message in ((["--agency", "DSNY", "--sort", "bogus"], "--sort must be"),
                              ([], "--agency"),
                              (["--agency", "DSNY", "--page", "0"], "--page must be"),
                              (["--agency", "DSNY", "--page-size", "201"], "--page-size 1-200"),
                              (["--agency", "DSNY", "--status", "closed", "--sort", "sla"],
                               "not closed"),
                              (["--agency", "DSNY", "--status", "shut"], "--status"),
                              (["--agency", "DSNY", "--filed-from", "soon"], "ISO 8601")):
            code, _, err = self.inst.cli("requests", "queue", *args, check=False)
            self.assertEqual(code, 2, args)
            self.assertIn(message, err, args)
