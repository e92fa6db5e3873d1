"""
The page-view beacon (issue 4, P2, P9): a page says which kind of page it
is, and only an aggregate count per page and day is kept.

- Every page names its kind (<body data-page>): home, report, review,
  request, lookup, privacy, leaving, error.
- POST /beacon with a kind's name: 204, no cookie set, nothing echoed; a
  name that is not a kind, an empty body, a long one: 400; other methods:
  405. Nothing about the visitor reaches the store or the log.
- The counts reach page_view (day, page, views) within a housekeeping tick,
  and `civic311 pages list` prints them.
"""
import re
import time

from client import wait_until
from test_web import WebTest, set_cookies

KINDS = ("home", "report", "review", "request", "lookup", "privacy", "leaving", "error")


class WebBeacon(WebTest):
    def views(self):
        return dict(((d, p), v) for d, p, v in self.inst.query(
            "SELECT day, page, views FROM page_view"))

    def beacon(self, body, **kw):
        return self.c.request("POST", "/beacon", body=body.encode() if isinstance(body, str)
                              else body, ctype=kw.get("ctype", "text/plain;charset=UTF-8"))

    def test_every_page_names_its_kind(self):
        """data-page on <body>: home, report, review, request, lookup, privacy, leaving, error"""
        b = self.browser()
        seen = {}
        for path in ("/", "/report/DOT-POTHOLE", "/requests", "/privacy",
                     "/leaving?to=https%3A%2F%2Fwww.nyc.gov%2F", "/no-such-page"):
            r = b.get(path)
            m = re.search(r'<body data-page="([a-z]+)"', r.text)
            self.assertIsNotNone(m, path)
            seen[path] = m.group(1)
        self.assertEqual(seen["/"], "home")
        self.assertEqual(seen["/report/DOT-POTHOLE"], "report")
        self.assertEqual(seen["/privacy"], "privacy")
        self.assertEqual(seen["/leaving?to=https%3A%2F%2Fwww.nyc.gov%2F"], "leaving")
        self.assertEqual(seen["/no-such-page"], "error")
        self.assertEqual(seen["/requests"], "lookup")
        _, form = self.open_form(b, "DOT-POTHOLE")
        r = b.post("/report/DOT-POTHOLE", form.submit(self.fill("DOT-POTHOLE")))
        self.assertRegex(r.text, r'<body data-page="review"')
        for kind in seen.values():
            self.assertIn(kind, KINDS)

    def test_beacons_are_counted_in_aggregate_only(self):
        """204 without a cookie; counted per page and day; `civic311 pages list` prints them"""
        before = self.views()
        for body in ("report", "report", "home", "review", "report"):
            r = self.beacon(body)
            self.assertEqual(r.status, 204, r.describe())
            self.assertEqual(r.body, b"")
            self.assertEqual(set_cookies(r), [], "a beacon sets no cookie")
        day = time.strftime("%Y-%m-%d", time.gmtime())

        def counted():
            now = self.views()
            return all(now.get((day, p), 0) - before.get((day, p), 0) >= n
                       for p, n in (("report", 3), ("home", 1), ("review", 1)))
        self.assertTrue(wait_until(counted, 20), "the counts reach the store: %r" % self.views())
        # Only (day, page, views) exist: nothing that could name a visitor.
        cols = [r[1] for r in self.inst.query("PRAGMA table_info(page_view)")]
        self.assertEqual(cols, ["day", "page", "views"])
        _, out, _ = self.inst.cli("pages", "list")
        self.assertRegex(out, r"(?m)^%s report \d+$" % day)
        _, out, _ = self.inst.cli("pages", "list", "--since", day)
        lines = out.strip().splitlines()
        self.assertTrue(all(re.fullmatch(r"\d{4}-\d\d-\d\d [a-z]+ \d+", ln) for ln in lines), out)
        code, out, err = self.inst.cli("pages", "list", "--since", "yesterday", check=False)
        self.assertEqual(code, 2, out + err)

    def test_what_is_not_a_beacon_is_refused(self):
        """unknown names, empty, long, with a newline or a query: 400; GET: 405; not counted"""
        before = self.views()
        for body in ("", "nope", "report\n", " report", "REPORT", "report&x=1", "r" * 5000,
                     b"\xff\xfe"):
            r = self.beacon(body)
            self.assertEqual(r.status, 400, repr(body))
            self.assertNotIn(b"nope", r.body)
            self.assertEqual(set_cookies(r), [])
        r = self.c.request("GET", "/beacon")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers.get("Allow"), "POST")
        time.sleep(6)  # one housekeeping tick: nothing was counted
        self.assertEqual(self.views(), before)
