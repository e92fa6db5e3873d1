"""
Routing by area (W2): a server started with a districts file
(tests/data/districts/two-halves.geojson: New York City's box cut in two at
longitude -74, WEST first in the file, EAST with routes "DOT-POTHOLE" ->
DOT-BK and "DSNY" (the agency, so all its services) -> DSNY-BK).

- Open311 POSTs on each side of the boundary and exactly on it:
  agency_responsible in JSON and XML is the routed agency's name; the point
  on the boundary goes to WEST (the first in the file); outside every
  district, and without a point, a request goes to its service's agency.
- The website's report form routes the same way; `requests generate` too.
- The district is stored with the request (request.district).
- A broken districts file (unclosed ring, too few points, out of range,
  self-intersecting, unknown agency or service code, missing file) stops
  `serve` with exit 2 and the file, the feature's index and the fault on
  stderr, before it listens.
- `civic311 districts check` lists every district and route and marks the
  codes the catalog lacks; `districts locate` says where a point routes.

No boundary file of a real city is in ../shared/data, so the fixtures are
made for the tests (the unit tests, tests/unit/test_district.c, add a hole,
a MultiPolygon and a concave shape).
"""
import json
import os
import shutil
import unittest

import harness
from test_web import WebTest

FIXTURES = os.path.join(harness.DATA, "districts")
WEST = ("40.71", "-74.01")
EAST = ("40.71", "-73.99")
EDGE = ("40.71", "-74")        # exactly on the shared edge
CORNER = ("40.4", "-74")       # a vertex of both districts
OUTSIDE = ("40.71", "-73.5")   # east of EAST

NAMES = {
    "DOT": "Department of Transportation",
    "DOT-BK": "Department of Transportation, Brooklyn Borough Office",
    "DSNY-BK": "Department of Sanitation, Brooklyn North",
}


def districts_installation(name, districts="two-halves.geojson"):
    """An installation with the test agencies and a districts file."""
    inst = harness.Installation(name)
    inst.cli("services", "import", os.path.join(FIXTURES, "agencies.json"))
    if districts is not None:
        shutil.copy(os.path.join(FIXTURES, districts), os.path.join(inst.data, "districts.geojson"))
        inst.set_config(districts="districts.geojson")
    return inst


class Routing(WebTest):
    @classmethod
    def setUpClass(cls):
        cls.inst = districts_installation("routing")
        cls.key = cls.inst.create_api_key()
        cls.server = cls.inst.start_server(threads=2)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def file_at(self, code, point, fmt="json"):
        lat, lon = point
        return self.create(code, extra=[("lat", lat), ("long", lon)], location=False, fmt=fmt)

    def agency_of(self, rid):
        """agency_responsible as JSON and XML say it (they must agree)."""
        doc = self.get_request(rid)
        root = self.get_request(rid, fmt="xml")
        self.assertEqual(root.find("request/agency_responsible").text, doc["agency_responsible"])
        return doc["agency_responsible"]

    def district_of(self, rid):
        (d,), = self.inst.query("SELECT district FROM request WHERE id = ?", (int(rid),))
        return d

    def test_log_says_how_many_districts(self):
        """the start line counts the districts"""
        self.assertIn("2 districts", self.server.read_log())

    def test_each_side_of_the_boundary_and_on_it(self):
        """DOT-POTHOLE: WEST -> DOT, EAST -> DOT-BK, on the edge and the shared corner -> WEST's"""
        for point, agency, district in ((WEST, "DOT", "WEST"), (EAST, "DOT-BK", "EAST"),
                                        (EDGE, "DOT", "WEST"), (CORNER, "DOT", "WEST")):
            for fmt in ("json", "xml"):
                rid = self.file_at("DOT-POTHOLE", point, fmt)
                self.assertEqual(self.agency_of(rid), NAMES[agency], (point, fmt))
                self.assertEqual(self.district_of(rid), district, point)

    def test_a_route_by_the_services_agency(self):
        """EAST routes "DSNY": DSNY-LITTER there goes to DSNY-BK, in WEST to DSNY"""
        rid = self.file_at("DSNY-LITTER", EAST)
        self.assertEqual(self.agency_of(rid), NAMES["DSNY-BK"])
        rid = self.file_at("DSNY-LITTER", WEST)
        self.assertEqual(self.agency_of(rid), self.agency_name("DSNY"))

    def test_a_service_without_a_route_keeps_its_agency(self):
        """EAST has no route for DEP-SEWER nor DEP: DEP's own"""
        rid = self.file_at("DEP-SEWER", EAST)
        self.assertEqual(self.agency_of(rid), self.agency_name("DEP"))
        self.assertEqual(self.district_of(rid), "EAST")

    def test_outside_every_district_and_without_a_point(self):
        """outside: the service's agency and no district; an address only: the same"""
        rid = self.file_at("DOT-POTHOLE", OUTSIDE)
        self.assertEqual(self.agency_of(rid), NAMES["DOT"])
        self.assertIsNone(self.district_of(rid))
        rid = self.create("DOT-POTHOLE", extra=[("address_string", "1 Main St")], location=False)
        self.assertEqual(self.agency_of(rid), NAMES["DOT"])
        self.assertIsNone(self.district_of(rid))

    def test_the_store_keeps_the_routed_agency_code(self):
        """request.agency_code, which agency queues select by, is the routed agency"""
        rid = self.file_at("DOT-POTHOLE", EAST)
        (code,), = self.inst.query("SELECT agency_code FROM request WHERE id = ?", (int(rid),))
        self.assertEqual(code, "DOT-BK")

    def test_the_website_routes_too(self):
        """the report form with a point in EAST files a request for DOT-BK"""
        b = self.browser()
        code = "DOT-POTHOLE"
        _, form = self.open_form(b, code)
        fill = [(k, v) for k, v in self.fill(code) if k != "address_string"]
        fill += [("address_string", "Near the corner"), ("lat", EAST[0]), ("long", EAST[1])]
        r = b.post("/report/%s" % code, form.submit(fill))
        page = self.assertPage(r, 200)
        rid = self.filed_id(self.send(b, code, page))
        self.assertEqual(self.agency_of(rid), NAMES["DOT-BK"])
        self.assertEqual(self.district_of(rid), "EAST")

    def agency_name(self, code):
        return {"DSNY": "Department of Sanitation",
                "DEP": "Department of Environmental Protection"}[code]


class RoutingGenerate(unittest.TestCase):
    """`requests generate` routes as intake does: every generated point lies
    in the NYC box, so each has a district, and its agency follows it."""

    @classmethod
    def setUpClass(cls):
        cls.inst = districts_installation("routing-generate")

    def test_generated_requests_are_routed(self):
        self.inst.generate_requests(300, 30)
        rows = self.inst.query("SELECT r.lon, r.service_code, r.district, r.agency_code, "
                               "s.agency_code FROM request r "
                               "JOIN service s ON s.code = r.service_code")
        self.assertEqual(len(rows), 300)
        moved = 0
        for lon, code, district, agency, own in rows:
            self.assertEqual(district, "WEST" if lon <= -74 else "EAST", lon)
            want = own
            if district == "EAST" and code == "DOT-POTHOLE":
                want = "DOT-BK"
            elif district == "EAST" and own == "DSNY":
                want = "DSNY-BK"
            self.assertEqual(agency, want, (lon, code, district))
            moved += agency != own
        self.assertGreater(moved, 0)


def bad(features):
    return json.dumps({"type": "FeatureCollection", "features": features})


def feature(did, ring, routes=None, kind="Polygon"):
    coords = [ring] if kind == "Polygon" else [[ring]]
    return {"type": "Feature",
            "properties": {"district": did, "name": "District %s" % did,
                           "routes": routes or {}},
            "geometry": {"type": kind, "coordinates": coords}}


SQUARE = [[-74.0, 40.7], [-73.9, 40.7], [-73.9, 40.8], [-74.0, 40.8], [-74.0, 40.7]]


class RoutingBrokenFile(unittest.TestCase):
    """A broken districts file stops serve at start: exit 2, the file, the
    feature's index and the fault on stderr, and no port opened."""

    @classmethod
    def setUpClass(cls):
        cls.inst = districts_installation("routing-broken", districts=None)

    CASES = [
        ("unclosed ring",
         bad([feature("A", SQUARE), feature("B", SQUARE[:-1] + [[-74.0, 40.75]])]),
         "features[1] (B): polygon 0 ring 0 is not closed"),
        ("too few points",
         bad([feature("A", [[-74.0, 40.7], [-73.9, 40.7], [-74.0, 40.7]])]),
         "features[0] (A): polygon 0 ring 0 has 3 positions"),
        ("latitude first",
         bad([feature("A", [[40.7, -74.0], [40.7, -173.9], [40.8, -173.9], [40.7, -74.0]])]),
         "position 1 is out of range"),
        ("self-intersecting",
         bad([feature("A", [[-74.0, 40.7], [-73.9, 40.8], [-73.9, 40.7], [-74.0, 40.8],
                            [-74.0, 40.7]])]),
         "features[0] (A): invalid polygon (GEOS): Self-intersection"),
        ("unknown agency",
         bad([feature("A", SQUARE, {"DOT-POTHOLE": "DOT-QUEENS"})]),
         "features[0] (A): unknown agency code DOT-QUEENS"),
        ("unknown service",
         bad([feature("A", SQUARE, {"DOT-HOLE": "DOT"})]),
         "features[0] (A): unknown service or agency code DOT-HOLE"),
        ("not JSON", "{\"type\": \"FeatureCollection\",", "not JSON"),
    ]

    def serve_with(self, text):
        path = os.path.join(self.inst.data, "districts.geojson")
        if text is None:
            if os.path.exists(path):
                os.remove(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        self.inst.set_config(districts="districts.geojson")
        return self.inst._run(["serve", "--data", self.inst.data, "--listen", "127.0.0.1:0"],
                              check=False, timeout=60)

    def test_each_fault_stops_serve_before_it_listens(self):
        for name, text, want in self.CASES:
            code, out, err = self.serve_with(text)
            self.assertEqual(code, 2, (name, err))
            self.assertIn("districts.geojson", err, name)
            self.assertIn(want, err, name)
            self.assertNotIn("listening on", err + out, name)

    def test_a_missing_file_stops_serve(self):
        code, _, err = self.serve_with(None)
        self.assertEqual(code, 2, err)
        self.assertIn("cannot open districts file", err)
        self.assertNotIn("listening on", err)

    def test_a_districts_key_that_is_not_a_path(self):
        self.inst.set_config(districts=7)
        code, _, err = self.inst._run(["serve", "--data", self.inst.data, "--listen",
                                       "127.0.0.1:0"], check=False, timeout=60)
        self.assertEqual(code, 2, err)
        self.assertIn("config: districts", err)


class DistrictsCommand(unittest.TestCase):
    """`civic311 districts check` and `locate`, for a city's staff."""

    @classmethod
    def setUpClass(cls):
        cls.inst = districts_installation("routing-cli")

    def test_check_lists_districts_and_routes(self):
        code, out, _ = self.inst.cli("districts", "check")
        self.assertEqual(code, 0)
        self.assertIn("WEST\tWest of -74\t(features[0], 0 routes)", out)
        self.assertIn("EAST\tEast of -74\t(features[1], 2 routes)", out)
        self.assertIn("  DOT-POTHOLE (service) -> DOT-BK", out)
        self.assertIn("  DSNY (agency's services) -> DSNY-BK", out)
        self.assertIn("2 districts, 0 codes the catalog lacks: ok", out)

    def test_check_marks_every_unknown_code(self):
        path = os.path.join(self.inst.root, "other.geojson")
        with open(path, "w", encoding="utf-8") as f:
            f.write(bad([feature("A", SQUARE, {"DOT-HOLE": "DOT", "DSNY": "DSNY-QN"})]))
        code, out, _ = self.inst.cli("districts", "check", path, check=False)
        self.assertEqual(code, 2)
        self.assertIn("! A (District A): route key DOT-HOLE is not in the catalog", out)
        self.assertIn("! A (District A): agency DSNY-QN is not in the catalog", out)
        self.assertIn("2 codes the catalog lacks: serve would refuse this file", out)

    def test_check_of_a_broken_file(self):
        path = os.path.join(self.inst.root, "broken.geojson")
        with open(path, "w", encoding="utf-8") as f:
            f.write(bad([feature("A", SQUARE[:3])]))
        code, _, err = self.inst.cli("districts", "check", path, check=False)
        self.assertEqual(code, 2)
        self.assertIn("features[0] (A): polygon 0 ring 0 has 3 positions", err)

    def test_locate(self):
        code, out, _ = self.inst.cli("districts", "locate", "--lat", EAST[0], "--long", EAST[1],
                                     "--service", "DOT-POTHOLE")
        self.assertIn("district: EAST\tEast of -74\t(features[1])", out)
        self.assertIn("service DOT-POTHOLE -> agency DOT-BK (the district's route)", out)
        _, out, _ = self.inst.cli("districts", "locate", "--lat", EDGE[0], "--long", EDGE[1],
                                  "--service", "DOT-POTHOLE")
        self.assertIn("district: WEST", out)
        self.assertIn("-> agency DOT (the service's own agency)", out)
        _, out, _ = self.inst.cli("districts", "locate", "--lat", OUTSIDE[0], "--long",
                                  OUTSIDE[1])
        self.assertIn("district: none", out)
        _, out, _ = self.inst.cli("districts", "locate", "--lat", EAST[0], "--long", EAST[1])
        self.assertIn("  DSNY -> DSNY-BK", out)
        for args in (["--lat", "91", "--long", "0"], ["--lat", "x", "--long", "0"], ["--lat", "1"],
                     ["--lat", "1", "--long", "1", "--service", "NOPE"]):
            code, _, _ = self.inst.cli("districts", "locate", *args, check=False)
            self.assertEqual(code, 2, args)
