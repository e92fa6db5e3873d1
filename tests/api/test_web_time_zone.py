"""
The city's time zone (config time_zone) on the website.

- With "America/New_York": a date-time question says "(local time)" and
  its answer, typed in New York time, is stored as the UTC instant it names
  (summer and winter time alike); the times pages show are New York's, with
  the zone's abbreviation (EST/EDT).
- Without one (the default, "UTC"): as before, said as UTC (test_web.py).
- A zone the tz database does not have, or a name that is not one, stops
  the server at start (exit 2), saying what is expected.
"""
import re

import harness
from test_web import WebTest, tr


class WebTimeZone(WebTest):
    CODE = "HPD-HEAT"  # "Since when?": a date-time question

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Installation("web-time-zone")
        cls.inst.set_config(time_zone="America/New_York")
        cls.server = cls.inst.start_server(threads=2)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def datetime_attr(self):
        return [a for a in self.cat.attrs(self.CODE) if a["datatype"] == "datetime"][0]

    def file_with(self, when):
        """Files HPD-HEAT with the date-time answer typed as `when`; the
        stored answer and the request's page."""
        a = self.datetime_attr()
        b = self.browser()
        fill = [(k, when if k == "attribute[%s]" % a["code"] else v)
                for k, v in self.fill(self.CODE, everything=True)]
        _, review = self.to_review(b, self.CODE, fill)
        r = self.send(b, self.CODE, review)
        rid = self.filed_id(r)
        (stored,), = self.inst.query("SELECT value FROM request_answer WHERE request_id = ? "
                                     "AND code = ?", (int(rid), a["code"]))
        return stored, b.get("/requests/%s" % rid)

    def test_the_question_says_local_time(self):
        """the label: '(local time)', not '(UTC)'; in Spanish '(hora local)'"""
        a = self.datetime_attr()
        r = self.browser().get("/report/%s" % self.CODE)
        self.assertPage(r, 200)
        self.assertIn("%s (local time)" % a["description"], r.text)
        self.assertNotIn("(UTC)", r.text)
        r = self.browser(accept_language="es").get("/report/%s" % self.CODE)
        self.assertIn("(%s)" % tr("es", "local time"), r.text)

    def test_answers_are_stored_as_the_instant_they_name(self):
        """18:00 in January is 23:00Z (EST), in July 22:00Z (EDT)"""
        stored, _ = self.file_with("2026-01-15T18:00")
        self.assertEqual(stored, "2026-01-15T23:00:00Z")
        stored, _ = self.file_with("2026-07-15T18:00")
        self.assertEqual(stored, "2026-07-15T22:00:00Z")

    def test_pages_show_times_in_the_citys_zone(self):
        """the request page's date: New York time, with EST or EDT; the machine value stays UTC"""
        _, page = self.file_with("2026-01-15T18:00")
        m = re.search(r'<time datetime="(\d{4}-\d\d-\d\dT(\d\d):(\d\d):\d\dZ)">'
                      r'[^<]*, (\d\d):(\d\d) (EST|EDT)</time>', page.text)
        self.assertIsNotNone(m, page.text[:3000])
        utc_h, local_h = int(m.group(2)), int(m.group(4))
        offset = 5 if m.group(6) == "EST" else 4
        self.assertEqual((utc_h - offset) % 24, local_h)
        self.assertEqual(m.group(3), m.group(5))

    def test_a_zone_that_does_not_exist_stops_the_server(self):
        """Mars/Olympus, ../../etc/passwd, an empty name, a number: exit 2, with what is wanted"""
        other = harness.Installation("web-time-zone-bad")
        for zone in ("Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", 5,
                     "America/New York"):
            other.set_config(time_zone=zone)
            code, out, err = other._run(["serve", "--data", other.data, "--listen",
                                         "127.0.0.1:0"], check=False, timeout=60)
            self.assertEqual(code, 2, (zone, err))
            self.assertIn("time_zone", err, zone)
