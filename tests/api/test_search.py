"""
GET requests (I1 and its common extensions): searching service requests.

Two kinds of story:

- Search: on the shared server, each test files its own requests at a
  random spot on the globe (so nothing else is there) and checks that every
  filter keeps exactly what it should: service_code lists, status, dates
  with time-zone offsets, updated_after/updated_before, paging, radius,
  bbox, service_request_id overriding the rest, extensions=true notes after
  `civic311 requests update`, and unknown parameters being ignored.

- SearchHistory: a store filled by `civic311 requests generate` with a year of
  requests, so the 90-day default window and the 1000-result cap can be
  seen; the answers are compared with the same query run on the store
  (read-only sqlite3) as the oracle.
"""
import math
import random
import time
import unittest

import harness
import o311
from base import ApiTest, canary, now, server_bug
from client import Client, raw_request

R_EARTH = 6371008.8  # src/core/geo.h GEO_EARTH_RADIUS_M
_rng = random.Random()


def spot():
    """A random place away from the demo city, shared with no other test."""
    return (round(_rng.uniform(-55, 55), 6), round(_rng.uniform(-170, 170), 6))


def offset(p, north_m=0.0, east_m=0.0):
    lat, lon = p
    dlat = north_m / (R_EARTH * math.pi / 180)
    dlon = east_m / (R_EARTH * math.pi / 180 * math.cos(math.radians(lat)))
    return (round(lat + dlat, 7), round(lon + dlon, 7))


def distance_m(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * \
        math.sin((lo2 - lo1) / 2) ** 2
    return 2 * R_EARTH * math.asin(math.sqrt(min(1.0, h)))


def bbox_around(p, metres):
    a = offset(p, -metres, -metres)
    b = offset(p, metres, metres)
    return "%s,%s,%s,%s" % (a[1], a[0], b[1], b[0])


class Search(ApiTest):
    def file_at(self, p, code=None, extra=()):
        code = code or self.cat.pick("realtime", "singlevaluelist", required=True)
        return self.create(code, location=False,
                           extra=[("lat", repr(p[0])), ("long", repr(p[1]))] + list(extra))

    def ids_near(self, p, metres=50, **params):
        q = dict(params, bbox=bbox_around(p, metres))
        return self.search_ids(q)

    def test_a_new_request_is_in_the_default_search(self):
        """GET requests.json with no parameters includes what was just filed"""
        rid = self.create(self.cat.pick("realtime", "singlevaluelist", required=True))
        self.assertIn(rid, self.search_ids({"page_size": 1000}))

    def test_service_code_lists(self):
        """service_code=A,B (or repeated, or with spaces) keeps exactly A and B"""
        codes = [s["service_code"] for s in self.cat.services if s["type"] == "realtime"][:3]
        p = spot()
        ids = {c: self.file_at(p, c) for c in codes}
        a, b, c = codes
        for q in ({"service_code": "%s,%s" % (a, b)}, {"service_code": [a, b]},
                  {"service_code": " %s , %s " % (a, b)}):
            got = self.ids_near(p, **q)
            self.assertEqual(sorted(got), sorted([ids[a], ids[b]]), q)
        self.assertEqual(self.ids_near(p, service_code=c), [ids[c]])
        self.assertEqual(self.ids_near(p, service_code="NO-SUCH-CODE"), [])
        for r in self.search({"service_code": a}):
            self.assertEqual(r["service_code"], a)

    def test_status_open_closed_and_detailed(self):
        """status=closed/open/open,closed/Open; detailed in_progress counts as Open311 open"""
        p = spot()
        x, y = self.file_at(p), self.file_at(p)
        self.inst.update_request(x, "closed", "fixed", "Filled the hole")
        self.inst.update_request(y, "in_progress", note="Crew on the way")
        self.assertEqual(self.ids_near(p, status="closed"), [x])
        self.assertEqual(self.ids_near(p, status="open"), [y])
        self.assertEqual(self.ids_near(p, status="Open"), [y])
        self.assertEqual(self.ids_near(p, status="CLOSED"), [x])
        self.assertEqual(self.ids_near(p, status="in_progress"), [y])
        self.assertEqual(sorted(self.ids_near(p, status="open,closed")), sorted([x, y]))
        self.assertEqual(sorted(self.ids_near(p)), sorted([x, y]))
        gx = self.get_request(x)
        self.assertEqual((gx["status"], gx["status_notes"]), ("closed", "Filled the hole"))
        self.assertGreaterEqual(o311.parse_dt(gx["updated_datetime"]),
                                o311.parse_dt(gx["requested_datetime"]))
        self.assertEqual(self.get_request(y)["status"], "open")

    def test_start_and_end_dates_with_offsets(self):
        """start/end dates in Z, +02:00, -05:00, -0330, date only; the window is inclusive"""
        p = spot()
        rid = self.file_at(p)
        t = o311.parse_dt(self.get_request(rid)["requested_datetime"])
        inside = [
            (o311.fmt_dt(t - 60), o311.fmt_dt(t + 60)),
            (o311.fmt_dt(t - 60, 120), o311.fmt_dt(t + 60, -300)),
            (o311.fmt_dt(t - 60, -210, colon=False), o311.fmt_dt(t + 60, 330)),
            (o311.fmt_dt(t), o311.fmt_dt(t)),  # inclusive at both ends
            (time.strftime("%Y-%m-%d", time.gmtime(t)),
             time.strftime("%Y-%m-%d", time.gmtime(t + 86400))),
        ]
        for s, e in inside:
            self.assertEqual(self.ids_near(p, start_date=s, end_date=e), [rid], (s, e))
        outside = [(o311.fmt_dt(t - 7200), o311.fmt_dt(t - 3600)),
                   (o311.fmt_dt(t + 1), o311.fmt_dt(t + 3600)),
                   (o311.fmt_dt(t + 3600, 120), o311.fmt_dt(t + 7200, 120))]
        for s, e in outside:
            self.assertEqual(self.ids_near(p, start_date=s, end_date=e), [], (s, e))
        # Only one end given: 90 days from / to it.
        self.assertEqual(self.ids_near(p, start_date=o311.fmt_dt(t - 89 * 86400)), [rid])
        self.assertEqual(self.ids_near(p, start_date=o311.fmt_dt(t - 91 * 86400)), [])
        self.assertEqual(self.ids_near(p, end_date=o311.fmt_dt(t + 60)), [rid])
        self.assertEqual(self.ids_near(p, end_date=o311.fmt_dt(t + 91 * 86400)), [])

    def test_unencoded_plus_in_an_offset(self):
        """start_date=...+02:00 with the '+' not %-encoded (it arrives as a space) still works"""
        p = spot()
        rid = self.file_at(p)
        t = o311.parse_dt(self.get_request(rid)["requested_datetime"])
        s, e = o311.fmt_dt(t - 60, 120), o311.fmt_dt(t + 60, 60)
        self.assertIn("+", s)
        q = "start_date=%s&end_date=%s&bbox=%s" % (s, e, bbox_around(p, 50))
        for path in ("requests.json?" + q, "requests.xml?" + q):
            r = self.c.get(path)
            if path.startswith("requests.json"):
                self.assertEqual([x["service_request_id"] for x in o311.check_requests(r)], [rid])
            else:
                root = o311.expect_xml(r, 200, "service_requests")
                self.assertEqual([x.find("service_request_id").text for x in root], [rid])
        # And an offset '+' that excludes it, to show the offset is read as +, not -.
        s2, e2 = o311.fmt_dt(t + 1, 120), o311.fmt_dt(t + 600, 120)
        r = self.c.get("requests.json?start_date=%s&end_date=%s&bbox=%s" %
                       (s2, e2, bbox_around(p, 50)))
        self.assertEqual(o311.check_requests(r), [])

    def test_updated_after_and_before(self):
        """updated_after/updated_before select by last change, not by filing time"""
        p = spot()
        x, y = self.file_at(p), self.file_at(p)
        time.sleep(1.2)
        self.inst.update_request(x, "acknowledged", note="Seen by the agency")
        ux = self.get_request(x)["updated_datetime"]
        uy = self.get_request(y)["updated_datetime"]
        self.assertLess(o311.parse_dt(uy), o311.parse_dt(ux))
        self.assertEqual(self.ids_near(p, updated_after=ux), [x])
        self.assertEqual(self.ids_near(p, updated_before=uy), [y])
        self.assertEqual(sorted(self.ids_near(p, updated_after=uy, updated_before=ux)),
                         sorted([x, y]))
        self.assertEqual(self.ids_near(p, updated_after=o311.fmt_dt(o311.parse_dt(ux) + 1)), [])
        # With an offset too.
        self.assertEqual(self.ids_near(p, updated_after=o311.fmt_dt(o311.parse_dt(ux), -480)),
                         [x])

    def test_paging(self):
        """page/page_size: 5 requests in pages of 2 -> 2, 2, 1, then an empty page; newest first"""
        p = spot()
        made = [self.file_at(p) for _ in range(5)]
        pages = [self.ids_near(p, page_size=2, page=n) for n in (1, 2, 3, 4)]
        self.assertEqual([len(x) for x in pages], [2, 2, 1, 0])
        flat = pages[0] + pages[1] + pages[2]
        self.assertEqual(sorted(flat, key=int), sorted(made, key=int))
        self.assertEqual(flat, sorted(made, key=int, reverse=True), "newest first")
        self.assertEqual(self.ids_near(p, page_size=1000), flat)
        # An empty page keeps its wrapper in XML.
        root = self.search({"bbox": bbox_around(p, 50), "page": 4, "page_size": 2}, "xml")
        self.assertEqual((root.tag, len(root)), ("service_requests", 0))
        one = self.search({"bbox": bbox_around(p, 50), "page": 3, "page_size": 2}, "xml")
        self.assertEqual([c.tag for c in one], ["request"])

    def test_radius_around_a_point(self):
        """lat/long with radius in metres (default 1 km) keeps what is within it"""
        p = spot()
        near = offset(p, north_m=300)
        mid = offset(p, east_m=2000)
        far = offset(p, north_m=-20000)
        ids = {k: self.file_at(v) for k, v in (("p", p), ("near", near), ("mid", mid),
                                                 ("far", far))}

        def within(**q):
            return sorted(self.search_ids(dict(q, lat=repr(p[0]), long=repr(p[1]))), key=int)

        def want(*names):
            return sorted((ids[n] for n in names), key=int)

        self.assertEqual(within(radius=100), want("p"))
        self.assertEqual(within(), want("p", "near"))
        self.assertEqual(within(radius=1000), want("p", "near"))
        self.assertEqual(within(radius=2500), want("p", "near", "mid"))
        self.assertEqual(within(radius=50000), want("p", "near", "mid", "far"))
        self.assertEqual(within(radius="2500.5", status="open"), want("p", "near", "mid"))

    def test_bounding_box(self):
        """bbox=min_long,min_lat,max_long,max_lat keeps what is inside (edges included)"""
        p = spot()
        inside = offset(p, north_m=400, east_m=400)
        outside = offset(p, north_m=3000)
        a, b, c = self.file_at(p), self.file_at(inside), self.file_at(outside)
        box = bbox_around(p, 1000)
        self.assertEqual(sorted(self.search_ids({"bbox": box}), key=int), sorted([a, b], key=int))
        exact = "%r,%r,%r,%r" % (p[1], p[0], inside[1], inside[0])
        self.assertEqual(sorted(self.search_ids({"bbox": exact}), key=int),
                         sorted([a, b], key=int))
        # bbox and radius together: both must hold.
        got = self.search_ids({"bbox": bbox_around(p, 5000), "lat": repr(p[0]),
                               "long": repr(p[1]), "radius": 100})
        self.assertEqual(got, [a])
        self.assertNotIn(c, self.search_ids({"bbox": box}))

    def test_service_request_id_overrides_every_other_filter(self):
        """service_request_id=a,b returns a and b even with filters that would exclude them"""
        p = spot()
        a, b = self.file_at(p), self.file_at(p)
        other = [s["service_code"] for s in self.cat.services
                 if s["service_code"] != self.get_request(a)["service_code"]][0]
        q = {"service_request_id": "%s,%s" % (a, b), "service_code": other,
             "status": "closed", "start_date": "2001-01-01T00:00:00Z",
             "end_date": "2001-01-02T00:00:00Z", "bbox": "0,0,1,1", "lat": "1", "long": "1",
             "updated_after": "2001-01-01T00:00:00Z"}
        self.assertEqual(sorted(self.search_ids(q), key=int), sorted([a, b], key=int))
        self.assertEqual(self.search_ids({"service_request_id": " %s " % a}), [a])
        self.assertEqual(self.search_ids({"service_request_id": "999999999"}), [])
        self.assertEqual(sorted(self.search_ids({"service_request_id": [a, b]}), key=int),
                         sorted([a, b], key=int))
        root = self.search({"service_request_id": a}, "xml")
        self.assertEqual([r.find("service_request_id").text for r in root], [a])

    def test_extensions_show_the_public_history(self):
        """extensions=true: channel, detailed status, resolution, and every public note in order"""
        rid = self.file_at(spot())
        self.inst.update_request(rid, "acknowledged", note="Seen by the agency")
        self.inst.update_request(rid, "in_progress", note="Crew assigned")
        self.inst.update_request(rid, "closed", "fixed", note="Filled the hole")
        r = self.get_request(rid, extensions="true")
        self.assertEqual((r["status"], r["status_notes"]), ("closed", "Filled the hole"))
        ext = r["extended_attributes"]
        self.assertEqual((ext["channel"], ext["detailed_status"], ext["resolution"]),
                         ("api", "closed", "fixed"))
        notes = [(n["type"], n["status"], n["detailed_status"], n["description"])
                 for n in ext["notes"]]
        self.assertEqual(notes, [("opened", "open", "open", None),
                                 ("activity", "open", "acknowledged", "Seen by the agency"),
                                 ("activity", "open", "in_progress", "Crew assigned"),
                                 ("closed", "closed", "closed", "Filled the hole")])
        times = [o311.parse_dt(n["datetime"]) for n in ext["notes"]]
        self.assertEqual(times, sorted(times))
        self.assertEqual(ext["notes"][-1]["datetime"], r["updated_datetime"])
        # The same through a search, and in XML.
        self.assertEqual(self.search({"service_request_id": rid, "extensions": "true"}), [r])
        rj = self.c.get("requests.json", {"service_request_id": rid, "extensions": "true"})
        rx = self.c.get("requests.xml", {"service_request_id": rid, "extensions": "true"})
        o311.check_requests(rj, rx, extensions=True)
        # Without extensions there is no extended_attributes at all.
        self.assertNotIn("extended_attributes", self.get_request(rid))
        self.assertNotIn("extended_attributes", self.search({"service_request_id": rid})[0])

    def test_internal_note_text_never_leaves(self):
        """a note made with --internal is never shown: not in notes, status_notes or XML"""
        rid = self.file_at(spot())
        secret = canary("internalnote")
        self.inst.update_request(rid, "acknowledged", note="Seen by the agency")
        self.inst.update_request(rid, None, note=secret, internal=True)
        r = self.get_request(rid, extensions="true")
        self.assertEqual(r["status_notes"], "Seen by the agency")
        for path in ("requests/%s.json?extensions=true", "requests/%s.xml?extensions=true",
                     "requests.json?extensions=true&service_request_id=%s",
                     "requests.xml?extensions=true&service_request_id=%s"):
            self.assertNotIn(secret.encode(), self.c.get(path % rid).body, path)

    @server_bug("BUG-4: a status change is left out of the public history when its note is "
                "internal or when it has no note: the event's `public` flag means 'the note "
                "is public' (cmd_requests.c requests_update: public_note = note != NULL && "
                "!internal) but store_events_list / store_updates_search drop the whole "
                "event when public = 0 (src/store/sqlite.c, the SQL near lines 173-176)")
    def test_status_changes_without_a_public_note_are_still_history(self):
        """closing with no note, or with an internal note, still shows in extensions notes"""
        rid = self.file_at(spot())
        self.inst.update_request(rid, "in_progress", note=canary("internal"), internal=True)
        self.inst.update_request(rid, "closed", "fixed")
        r = self.get_request(rid, extensions="true")
        self.assertEqual(r["status"], "closed")
        notes = [(n["type"], n["status"], n["detailed_status"], n["description"])
                 for n in r["extended_attributes"]["notes"]]
        self.assertEqual(notes, [("opened", "open", "open", None),
                                 ("activity", "open", "in_progress", None),
                                 ("closed", "closed", "closed", None)])

    def test_reopened_request_is_open_again(self):
        """closed then reopened: status open, resolution null, notes say so"""
        rid = self.file_at(spot())
        self.inst.update_request(rid, "closed", "not_fixed", note="Could not fix")
        self.inst.update_request(rid, "reopened", note="Reported again")
        r = self.get_request(rid, extensions="true")
        self.assertEqual(r["status"], "open")
        self.assertEqual(r["extended_attributes"]["detailed_status"], "reopened")
        self.assertIsNone(r["extended_attributes"]["resolution"])
        self.assertEqual(r["status_notes"], "Reported again")

    def test_agency_responsible_filter(self):
        """agency_responsible=CODE keeps the requests routed to that agency"""
        rows = self.inst.query("SELECT code, agency_code FROM service WHERE type = 'realtime' "
                               "AND agency_code IS NOT NULL ORDER BY position")
        by_agency = {}
        for code, ag in rows:
            by_agency.setdefault(ag, code)
        (ag1, c1), (ag2, c2) = list(by_agency.items())[:2]
        p = spot()
        a = self.file_at(p, c1)
        b = self.file_at(p, c2)
        self.assertEqual(self.ids_near(p, agency_responsible=ag1), [a])
        self.assertEqual(sorted(self.ids_near(p, agency_responsible="%s,%s" % (ag1, ag2))),
                         sorted([a, b]))

    def test_unknown_parameters_are_ignored(self):
        """extras real clients send (locale, format, foo) change nothing"""
        p = spot()
        rid = self.file_at(p)
        base = self.c.get("requests.json", {"bbox": bbox_around(p, 50)})
        extra = self.c.get("requests.json", {"bbox": bbox_around(p, 50), "locale": "en_US",
                                             "format": "xml", "foo": "bar", "api_key": "x"})
        self.assertEqual(base.body, extra.body)
        self.assertEqual([r["service_request_id"] for r in base.json()], [rid])

    def test_xml_search_says_the_same_as_json(self):
        """a search with several results, nulls included, is the same in XML and JSON"""
        p = spot()
        self.file_at(p, extra=[("description", "with\nlines & <marks>")])
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        self.create(code, location=False, extra=[("address_string", "Somewhere")])
        self.file_at(p, extra=[("media_url", "https://example.org/a.jpg"),
                               ("address_id", "X-1"), ("zipcode", "10001")])
        q = {"bbox": bbox_around(p, 50), "extensions": "true"}
        o311.check_requests(self.c.get("requests.json", q), self.c.get("requests.xml", q),
                            extensions=True)
        q = {"page_size": 50}
        o311.check_requests(self.c.get("requests.json", q), self.c.get("requests.xml", q))


class SearchEdges(ApiTest):
    def test_the_90_day_limit_is_exact(self):
        """start..end of exactly 90 days is allowed; one second more is 400"""
        s = 1700000000
        ok = self.c.get("requests.json", {"start_date": o311.fmt_dt(s),
                                          "end_date": o311.fmt_dt(s + 90 * 86400)})
        o311.check_requests(ok)
        bad = self.c.get("requests.json", {"start_date": o311.fmt_dt(s),
                                           "end_date": o311.fmt_dt(s + 90 * 86400 + 1)})
        self.assertError(bad, 400, "90 days")
        # The span counts instants, whatever offsets they are written in.
        ok = self.c.get("requests.json", {"start_date": o311.fmt_dt(s, 600),
                                          "end_date": o311.fmt_dt(s + 90 * 86400, -600)})
        o311.check_requests(ok)

    def test_extreme_values_get_answers_not_crashes(self):
        """edges of every range (years 1900/9999, the poles, huge pages, int64 ids) -> 200"""
        queries = [
            {"start_date": "9999-12-31T00:00:00Z"},
            {"end_date": "1900-01-01T00:00:00Z"},
            {"start_date": "1900-01-01T00:00:00Z", "end_date": "1900-03-31T00:00:00Z"},
            {"updated_after": "1900-01-01T00:00:00Z", "page_size": 1},
            {"updated_before": "9999-12-31T23:59:59Z", "page_size": 1},
            {"updated_after": "9999-12-31T23:59:59Z"},
            {"page": 1000000, "page_size": 1000},
            {"service_request_id": "9223372036854775807"},
            {"service_request_id": "1,1,1,1"},
            {"lat": "90", "long": "180", "radius": "50000"},
            {"lat": "-90", "long": "-180", "radius": "0.001"},
            {"lat": "0", "long": "179.999", "radius": "50000"},
            {"bbox": "-180,-90,180,90", "page_size": 5},
            {"bbox": "10,10,10,10"},
            {"status": "open,closed,acknowledged,in_progress,reopened"},
            {"service_code": ",,,"},
            {"start_date": "2024-02-29T24:00:00Z"},
            {"start_date": "2016-12-31T23:59:60Z"},
            {"start_date": "2024-01-01T00:00:00.123456789Z"},
        ]
        for q in queries:
            for fmt in ("json", "xml"):
                r = self.c.get("requests.%s" % fmt, q)
                self.assertEqual(r.status, 200, r.describe())
        for path in ("requests/999999999999999999.json", "requests/000000000000000001.xml",
                     "servicerequestupdates.json?page=1000000",
                     "servicerequestupdates.xml?start_date=9999-12-31T00:00:00Z"):
            r = self.c.get(path)
            self.assertIn(r.status, (200, 404), r.describe())

    def test_out_of_range_ids_and_dates_are_400(self):
        """service_request_id above int64 and dates outside 1900..9999 are 400, not wrapped"""
        for q, says in (({"service_request_id": "9223372036854775808"}, "service_request_id"),
                        ({"start_date": "1899-12-31T23:59:59Z"}, "start_date"),
                        ({"end_date": "10000-01-01T00:00:00Z"}, "end_date"),
                        ({"end_date": "9999-12-31T23:59:59-01:00"}, "end_date"),
                        ({"page": "1000001"}, "page")):
            self.assertError(self.c.get("requests.json", q), 400, says)


class SearchHistory(unittest.TestCase):
    """A year of generated requests; the store is the oracle."""
    COUNT = 5000
    DAYS = 365

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Installation("history")
        cls.inst.generate_requests(cls.COUNT, cls.DAYS, seed=1311)
        cls.server = cls.inst.start_server(threads=2)
        cls.c = Client(cls.server.port)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.server.stop()

    def oracle(self, where="1=1", args=(), limit=None, offset=0):
        sql = ("SELECT id FROM request WHERE pending = 0 AND (%s) "
               "ORDER BY requested_at DESC, id DESC" % where)
        if limit is not None:
            sql += " LIMIT %d OFFSET %d" % (limit, offset)
        return [str(r[0]) for r in self.inst.query(sql, args)]

    def ids(self, params):
        doc = o311.check_requests(self.c.get("requests.json", params))
        return [r["service_request_id"] for r in doc]

    def all_pages(self, params, page_size=1000):
        out, page = [], 1
        while True:
            got = self.ids(dict(params, page=page, page_size=page_size))
            out += got
            if len(got) < page_size:
                return out
            page += 1

    def test_generated_history_spans_a_year(self):
        """(the oracle's premise) the store holds requests older than 90 days, and > 1000 newer"""
        t = now()
        old = self.inst.query("SELECT count(*) FROM request WHERE requested_at < ?",
                              (t - 100 * 86400,))[0][0]
        new = self.inst.query("SELECT count(*) FROM request WHERE requested_at >= ?",
                              (t - 89 * 86400,))[0][0]
        self.assertGreater(old, 1000)
        self.assertGreater(new, 1000)

    def test_default_is_the_1000_newest_of_the_last_90_days(self):
        """no parameters: at most 1000 requests, the newest, all within the last 90 days"""
        t = now()
        got = self.ids({})
        self.assertEqual(len(got), 1000)
        self.assertEqual(got, self.oracle(limit=1000))
        doc = o311.check_requests(self.c.get("requests.json"))
        for r in doc:
            self.assertGreaterEqual(o311.parse_dt(r["requested_datetime"]), t - 90 * 86400 - 5)

    def test_paging_through_the_default_window(self):
        """page 2 of the default search is the rest of the 90 days; nothing older"""
        t = now()
        everything = self.all_pages({}, page_size=250)
        self.assertEqual(len(everything), len(set(everything)), "a request on two pages")
        window = self.oracle("requested_at >= ?", (t - 90 * 86400,))
        fuzz = set(self.oracle("requested_at BETWEEN ? AND ?", (t - 90 * 86400 - 10,
                                                                t - 90 * 86400 + 10)))
        self.assertEqual([i for i in everything if i not in fuzz],
                         [i for i in window if i not in fuzz])
        self.assertGreater(len(everything), 1000)

    def test_window_in_the_past_matches_the_store(self):
        """start_date/end_date 200..140 days ago: exactly the store's rows, newest first"""
        t = now()
        s, e = t - 200 * 86400, t - 140 * 86400
        want = self.oracle("requested_at BETWEEN ? AND ?", (s, e))
        self.assertGreater(len(want), 100)
        self.assertLessEqual(len(want), 1000)
        q = {"start_date": o311.fmt_dt(s), "end_date": o311.fmt_dt(e)}
        self.assertEqual(self.ids(q), want)
        # The same instants written with offsets.
        q2 = {"start_date": o311.fmt_dt(s, 330), "end_date": o311.fmt_dt(e, -600)}
        self.assertEqual(self.ids(q2), want)

    def test_status_filters_match_the_store(self):
        """status=closed / open / in_progress in a past window, as the store says"""
        t = now()
        s, e = t - 200 * 86400, t - 140 * 86400
        q = {"start_date": o311.fmt_dt(s), "end_date": o311.fmt_dt(e)}
        win = "requested_at BETWEEN ? AND ?"
        self.assertEqual(self.ids(dict(q, status="closed")),
                         self.oracle(win + " AND status = 'closed'", (s, e)))
        self.assertEqual(self.ids(dict(q, status="open")),
                         self.oracle(win + " AND status <> 'closed'", (s, e)))
        q = {"start_date": o311.fmt_dt(t - 30 * 86400)}
        self.assertEqual(self.ids(dict(q, status="in_progress")),
                         self.oracle("requested_at >= ? AND status = 'in_progress'",
                                     (t - 30 * 86400,)))

    def test_service_and_agency_filters_match_the_store(self):
        """service_code=A,B and agency_responsible=X in a past window, as the store says"""
        t = now()
        s, e = t - 250 * 86400, t - 170 * 86400
        codes = [r[0] for r in self.inst.query("SELECT code FROM service ORDER BY position")][:2]
        q = {"start_date": o311.fmt_dt(s), "end_date": o311.fmt_dt(e),
             "service_code": ",".join(codes)}
        self.assertEqual(self.ids(q), self.oracle(
            "requested_at BETWEEN ? AND ? AND service_code IN (?, ?)", (s, e) + tuple(codes)))
        ag = self.inst.query("SELECT agency_code FROM service WHERE agency_code IS NOT NULL "
                             "LIMIT 1")[0][0]
        q = {"start_date": o311.fmt_dt(s), "end_date": o311.fmt_dt(e), "agency_responsible": ag}
        self.assertEqual(self.ids(q), self.oracle(
            "requested_at BETWEEN ? AND ? AND agency_code = ?", (s, e, ag)))

    def test_bbox_and_radius_match_the_store(self):
        """bbox and radius over the generated city, compared with the store's coordinates"""
        t = now()
        s = t - 80 * 86400
        q = {"start_date": o311.fmt_dt(s), "bbox": "-74.0,40.6,-73.9,40.75"}
        self.assertEqual(self.ids(q), self.oracle(
            "requested_at >= ? AND lon BETWEEN -74.0 AND -73.9 AND lat BETWEEN 40.6 AND 40.75",
            (s,)))
        centre, radius = (40.7, -73.95), 5000
        rows = self.inst.query("SELECT id, lat, lon FROM request WHERE requested_at >= ? "
                               "ORDER BY requested_at DESC, id DESC", (s,))
        inside = [str(i) for i, la, lo in rows if distance_m(centre, (la, lo)) <= radius]
        edge = {str(i) for i, la, lo in rows if abs(distance_m(centre, (la, lo)) - radius) < 1}
        got = self.ids({"start_date": o311.fmt_dt(s), "lat": "40.7", "long": "-73.95",
                        "radius": str(radius)})
        self.assertGreater(len(inside), 10)
        self.assertEqual([i for i in got if i not in edge], [i for i in inside if i not in edge])

    def test_updated_after_alone_is_not_limited_to_90_days(self):
        """updated_after without dates searches the whole history (what changed since T)"""
        t = now()
        u = t - 120 * 86400
        want = self.oracle("updated_at >= ?", (u,))
        self.assertGreater(len(want), 1000)
        self.assertEqual(self.all_pages({"updated_after": o311.fmt_dt(u)}), want)
        old = self.inst.query("SELECT count(*) FROM request WHERE updated_at >= ? AND "
                              "requested_at < ?", (u, t - 90 * 86400))[0][0]
        self.assertGreater(old, 0, "(premise) some of them were filed over 90 days ago")

    def test_xml_page_says_the_same_as_json(self):
        """a page of 200 generated requests is the same in XML and JSON"""
        q = {"page_size": 200, "page": 2, "extensions": "true"}
        o311.check_requests(self.c.get("requests.json", q), self.c.get("requests.xml", q),
                            extensions=True)
