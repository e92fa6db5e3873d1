"""
Services and service definitions (I1, W1): the demo catalog as Open311
clients read it.

The expected catalog is the one `init --demo` embeds: data/demo/catalog.json
in this repository. Every service must come out in the file's order with the
file's names and texts, every definition with its attributes in order, and
the XML must say exactly what the JSON says, wrappers included.
"""
import json
import os

import harness
import o311
from base import ApiTest


def demo_catalog():
    with open(os.path.join(harness.REPO, "data", "demo", "catalog.json"), encoding="utf-8") as f:
        return json.load(f)


class ServiceList(ApiTest):
    def test_json_is_the_demo_catalog_in_order(self):
        """services.json: every demo service, in the file's order, schema-valid"""
        doc = o311.expect_json(self.c.get("services.json"), 200, "services.json")
        want = demo_catalog()["services"]
        self.assertEqual([s["service_code"] for s in doc], [s["service_code"] for s in want])
        for got, w in zip(doc, want):
            self.assertEqual(list(got), o311.SERVICE_FIELDS, got["service_code"])
            for k in ("service_name", "description", "type", "keywords", "group"):
                self.assertEqual(got[k], w.get(k), "%s %s" % (w["service_code"], k))
            self.assertIs(type(got["metadata"]), bool)

    def test_metadata_is_true_exactly_when_there_are_attributes(self):
        """metadata=true iff services/{code} has attributes (and as the catalog file says)"""
        want = {s["service_code"]: s for s in demo_catalog()["services"]}
        for s in self.cat.services:
            code = s["service_code"]
            self.assertEqual(s["metadata"], len(self.cat.attrs(code)) > 0, code)
            self.assertEqual(s["metadata"], want[code]["metadata"], code)

    def test_every_service_type_is_offered(self):
        """the demo has realtime, batch and blackbox services (the tests need all three)"""
        self.assertEqual({s["type"] for s in self.cat.services}, {"realtime", "batch", "blackbox"})

    def test_xml_says_the_same_as_json(self):
        """services.xml: declaration, <services><service>..., same fields in the same order"""
        doc = o311.expect_json(self.c.get("services.json"))
        root = o311.expect_xml(self.c.get("services.xml"), 200, "services")
        o311.same_document(doc, root, "services", "service")

    def test_jurisdiction_id_right_empty_wrong(self):
        """jurisdiction_id: ours or empty -> 200; another -> 404 naming jurisdiction_id"""
        for j in ("demo.civic311.org", ""):
            o311.expect_json(self.c.get("services.json", {"jurisdiction_id": j}))
        for fmt in ("json", "xml"):
            r = self.c.get("services.%s" % fmt, {"jurisdiction_id": "sfgov.org"})
            self.assertError(r, 404, "jurisdiction_id")

    def test_unknown_parameters_are_ignored(self):
        """services.json?foo=bar&locale=fr is the same list"""
        a = self.c.get("services.json").body
        b = self.c.get("services.json", {"foo": "bar", "locale": "fr"}).body
        self.assertEqual(a, b)


class ServiceDefinition(ApiTest):
    def test_every_definition_matches_the_catalog_file(self):
        """services/{code}.json for every service: schema-valid, attributes as in the file"""
        defs = {d["service_code"]: d for d in demo_catalog()["service_definitions"]}
        for s in self.cat.services:
            code = s["service_code"]
            d = self.cat.defs[code]
            self.assertEqual(list(d), ["service_code", "attributes"])
            self.assertEqual(d["service_code"], code)
            want = defs.get(code, {"attributes": []})["attributes"]
            self.assertEqual([a["code"] for a in d["attributes"]], [a["code"] for a in want],
                             code)
            orders = []
            for got, w in zip(d["attributes"], want):
                where = "%s/%s" % (code, w["code"])
                self.assertEqual(list(got), o311.ATTRIBUTE_FIELDS, where)
                for k in ("variable", "datatype", "required", "datatype_description",
                          "description"):
                    self.assertEqual(got[k], w.get(k), "%s %s" % (where, k))
                self.assertIs(type(got["order"]), int, where)
                if w.get("order"):
                    self.assertEqual(got["order"], w["order"], where)
                orders.append(got["order"])
                self.assertEqual(got["values"], [{"key": v["key"], "name": v["name"]}
                                                 for v in (w.get("values") or [])], where)
                if got["datatype"] not in ("singlevaluelist", "multivaluelist"):
                    self.assertEqual(got["values"], [], where)
            self.assertTrue(all(o > 0 for o in orders), "%s orders %r" % (code, orders))
            self.assertEqual(orders, sorted(set(orders)),
                             "%s: orders must be unique and ascending: %r" % (code, orders))

    def test_xml_says_the_same_as_json_for_every_service(self):
        """services/{code}.xml == .json, <attributes> and <values> kept with 0 or 1 element"""
        seen = {"no attributes": False, "one attribute": False, "no values": False}
        for s in self.cat.services:
            code = s["service_code"]
            r = self.c.get("services/%s.xml" % code)
            root = o311.expect_xml(r, 200, "service_definition")
            o311.same_document(self.cat.defs[code], root, "service_definition", None)
            attrs = root.find("attributes")
            self.assertIsNotNone(attrs, "%s: <attributes> wrapper missing" % code)
            n = len(self.cat.attrs(code))
            seen["no attributes"] |= n == 0
            seen["one attribute"] |= n == 1
            for a in attrs:
                self.assertIsNotNone(a.find("values"), "%s: <values> wrapper missing" % code)
                seen["no values"] |= len(a.find("values")) == 0
        self.assertTrue(all(seen.values()), "the demo should exercise every wrapper case: %r"
                        % seen)

    def test_unknown_service_code_is_404(self):
        """services/NOPE.json and .xml -> 404 naming service_code"""
        for fmt in ("json", "xml"):
            self.assertError(self.c.get("services/NO-SUCH-SERVICE.%s" % fmt), 404,
                             "service_code")

    def test_percent_encoded_code_is_decoded(self):
        """services/DOT%2DPOTHOLE.json is services/DOT-POTHOLE.json"""
        code = self.cat.services[0]["service_code"]
        enc = "".join("%%%02X" % ord(ch) if ch == "-" else ch for ch in code)
        if enc == code:
            enc = "%%%02X" % ord(code[0]) + code[1:]
        a = self.c.get("services/%s.json" % code)
        b = self.c.get("services/%s.json" % enc)
        self.assertEqual((b.status, b.body), (200, a.body))

    def test_wrong_jurisdiction_is_404(self):
        """services/{code}.json?jurisdiction_id=other -> 404"""
        code = self.cat.services[0]["service_code"]
        self.assertError(self.c.get("services/%s.json" % code, {"jurisdiction_id": "x.org"}),
                         404, "jurisdiction_id")
