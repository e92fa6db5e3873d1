"""
The figures for managers (issue 5, item 8), proved from outside: a real
server takes requests (with personal data) over Open311 for several
services, `civic311 requests update` closes some with different
resolutions (one is reopened), and `civic311 stats` must give, as CSV
(read with Python's csv module) and as JSON, the figures worked out here
from the same requests with a reference written apart from core/stats.c:
counts, open past SLA, nearest-rank median and 90th percentile, the share
closed within SLA, closures by resolution. The output holds no personal
data, and bad command lines are refused with exit 2.
"""
import csv
import io
import json
import math
import time
import unittest
from decimal import ROUND_HALF_UP, Decimal

from test_privacy import person
from test_privacy_engine import PrivacyStory, iso

RESOLUTIONS = ("fixed", "duplicate", "not_responsible", "could_not_find", "not_fixed")
COLUMNS = ["group_by", "group", "filed", "closed", "open", "open_past_sla",
           "median_seconds_to_close", "p90_seconds_to_close", "closed_with_sla",
           "closed_within_sla", "share_closed_within_sla"] + \
    ["closed_" + r for r in RESOLUTIONS]


def nearest_rank(values, p):
    """The value at rank ceil(p/100 * n) of the sorted values."""
    v = sorted(values)
    return v[max(1, math.ceil(p * len(v) / 100)) - 1]


def reference(rows, now, dims=("service", "agency")):
    """{(group_by, group): {column: text}} as the CSV should read."""
    groups = {}
    for r in rows:
        keys = [("all", "")]
        if "service" in dims:
            keys.append(("service", r["service_code"]))
        if "agency" in dims:
            keys.append(("agency", r["agency_code"] or ""))
        for k in keys:
            groups.setdefault(k, []).append(r)
    out = {}
    for k, rs in groups.items():
        closed = [r for r in rs if r["status"] == "closed"]
        opened = [r for r in rs if r["status"] != "closed"]
        times = [r["closed_at"] - r["requested_at"] for r in closed]
        with_sla = [r for r in closed if r["expected_at"]]
        within = [r for r in with_sla if r["closed_at"] <= r["expected_at"]]
        fig = {"group_by": k[0], "group": k[1], "filed": len(rs), "closed": len(closed),
               "open": len(opened),
               "open_past_sla": sum(1 for r in opened
                                    if r["expected_at"] and now > r["expected_at"]),
               "median_seconds_to_close": nearest_rank(times, 50) if times else "",
               "p90_seconds_to_close": nearest_rank(times, 90) if times else "",
               "closed_with_sla": len(with_sla), "closed_within_sla": len(within),
               "share_closed_within_sla":
                   (Decimal(len(within)) / Decimal(len(with_sla))).quantize(
                       Decimal("0.0001"), rounding=ROUND_HALF_UP) if with_sla else ""}
        for res in RESOLUTIONS:
            fig["closed_" + res] = sum(1 for r in closed if r["resolution"] == res)
        out[k] = {c: str(v) for c, v in fig.items()}
    return out


class Stats(PrivacyStory):
    NAME = "stats"

    def stats(self, *args, check=False):
        return self.inst.cli("stats", None, *args, check=check)

    def window(self):
        return ("--from", time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400)),
                "--to", time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400)))

    def rows(self):
        cols = ("service_code", "agency_code", "requested_at", "closed_at", "expected_at",
                "status", "resolution")
        return [dict(zip(cols, r)) for r in self.inst.query(
            "SELECT %s FROM request WHERE pending = 0" % ", ".join(cols))]

    def csv_figures(self, *args):
        code, out, err = self.stats(*(self.window() + args))
        self.assertEqual(code, 0, out + err)
        self.assertTrue(out.endswith("\r\n"), "RFC 4180 lines end in CRLF")
        reader = csv.DictReader(io.StringIO(out, newline=""))
        self.assertEqual(reader.fieldnames, COLUMNS)
        got = {}
        for row in reader:
            key = (row["group_by"], row["group"])
            self.assertNotIn(key, got, "one row per group")
            got[key] = row
        return got, out

    def test_figures_match_the_requests(self):
        """CSV and JSON figures equal those worked out here from the same requests"""
        services = [s["service_code"] for s in self.cat.services if s["type"] == "realtime"]
        picked = services[:4]
        canaries, ids = [], []
        for i in range(12):
            p = person()
            canaries += [p["email"], p["first_name"]]
            code = picked[i % len(picked)]
            ids.append(self.file({"email": p["email"], "first_name": p["first_name"]},
                                 code=code))
        # Close eight of them a second or so apart (times to close differ),
        # with every resolution; reopen one, leave others open or moving.
        plan = [("closed", "fixed"), ("closed", "not_fixed"), ("closed", "fixed"),
                ("closed", "duplicate"), ("closed", "could_not_find"),
                ("closed", "not_responsible"), ("closed", "fixed"), ("closed", "fixed"),
                ("in_progress", None), ("acknowledged", None)]
        for rid, (status, res) in zip(ids, plan):
            time.sleep(0.6)
            # The lifecycle wants a public note for every resolution but
            # "fixed" (W4: never a silent close).
            note = "Closed: %s." % res if res not in (None, "fixed") else None
            self.inst.update_request(rid, status, res, note=note)
        self.inst.update_request(ids[6], "reopened", note="Reported again: not fixed.")

        rows = self.rows()
        self.assertEqual(len(rows), 12)
        self.assertTrue(any(r["status"] == "reopened" and r["closed_at"] is None for r in rows))
        for now in (time.time(), time.time() + 400 * 86400):
            now = int(now)
            want = reference(rows, now)
            got, text = self.csv_figures("--now", iso(now))
            self.assertEqual(got, want)
            for c in canaries:
                self.assertNotIn(c, text, "no personal data in the figures")
        self.assertTrue(any(int(v["open_past_sla"]) > 0 for v in want.values()),
                        "a year on, open requests with an SLA are past it")

        # --by keeps one dimension (and overall), in the same figures.
        now = int(time.time())
        got, _ = self.csv_figures("--by", "agency", "--now", iso(now))
        self.assertEqual(got, reference(rows, now, dims=("agency",)))

        # JSON: the same numbers, null where CSV has an empty field.
        code, out, err = self.stats(*(self.window() + ("--format", "json", "--now", iso(now))))
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["time_unit"], "seconds")
        self.assertEqual(doc["percentiles"], "nearest-rank")
        want = reference(rows, now)
        groups = doc["by_service"] + doc["by_agency"] + [doc["overall"]]
        self.assertEqual(len(groups), len(want))
        for g in groups:
            w = want[(g["group_by"], g["group"] or "")]
            for col in COLUMNS[2:11]:
                v = g[col]
                self.assertEqual("" if v is None else
                                 ("%.4f" % v if col.startswith("share") else str(v)), w[col],
                                 (g["group"], col))
            for res in RESOLUTIONS:
                self.assertEqual(str(g["closed_by_resolution"][res]), w["closed_" + res])

    def test_an_empty_window(self):
        """a window with no requests: the header and an all-zero overall row"""
        code, out, err = self.stats("--from", "2001-01-01", "--to", "2001-01-31")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, ",".join(COLUMNS) + "\r\nall,,0,0,0,0,,,0,0,,0,0,0,0,0\r\n")

    def test_bad_command_lines(self):
        """every malformed option: exit 2 and a message saying what is wrong"""
        good = ["--from", "2026-01-01", "--to", "2026-01-31"]
        for args, why in (
                (["--from", "2026-01-01"], "--to"),
                (["--from", "2026-1-1", "--to", "2026-01-31"], "YYYY-MM-DD"),
                (["--from", "2026-02-30", "--to", "2026-03-01"], "YYYY-MM-DD"),
                (["--from", "2026-01-01T00:00:00Z", "--to", "2026-01-31"], "YYYY-MM-DD"),
                (["--from", "2026-02-01", "--to", "2026-01-31"], "before"),
                (good + ["--by", "district"], "--by"),
                (good + ["--format", "xlsx"], "--format"),
                (good + ["--now", "soon"], "--now"),
                (good + ["extra"], "usage")):
            code, out, err = self.stats(*args)
            self.assertEqual(code, 2, "%r: %s%s" % (args, out, err))
            self.assertIn(why, err, args)
            self.assertEqual(out, "")


if __name__ == "__main__":
    unittest.main()
