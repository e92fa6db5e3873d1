"""
A city brings its own catalog (W1, I1): `civic311 services import` reads
Open311 documents, `services export` writes ours, and what the server then
serves is exactly what was imported.

- Export the demo catalog, import it into an empty installation: the new
  server's services and definitions are byte for byte the demo server's.
- Import Washington DC's real services.xml and its pothole definition
  (tests/data/open311/, see SOURCES.md there): the server lists DC's 86
  services as DC wrote them, and files requests against DC's questions.
"""
import os
import unittest
import xml.etree.ElementTree as ET

import harness
import o311
from client import Client

DC_DIR = os.path.join(harness.DATA, "open311")


class CatalogImport(unittest.TestCase):
    def test_export_then_import_serves_the_same_catalog(self):
        """demo catalog -> services export -> services import (empty store) -> same API"""
        sh = harness.shared()
        bundle = os.path.join(sh.inst.root, "export.json")
        sh.inst.cli("services", "export", "--output", bundle)
        dst = harness.Installation("reimported", demo=False)
        _, out, _ = dst.cli("services", "import", bundle)
        self.assertIn("imported", out)
        key = dst.create_api_key("reimported")
        server = dst.start_server(threads=2)
        try:
            a, b = Client(sh.port), Client(server.port)
            for path in ["services.json", "services.xml"] + [
                    "services/%s.%s" % (s["service_code"], f)
                    for s in o311.expect_json(a.get("services.json")) for f in ("json", "xml")]:
                ra, rb = a.get(path), b.get(path)
                self.assertEqual((rb.status, rb.ctype), (200, ra.ctype), path)
                self.assertEqual(rb.body, ra.body, path)
            # Routing, SLA and notice came along: the same answer to a new request.
            cat = o311.Catalog(b)
            code = cat.pick("realtime", "singlevaluelist", required=True)
            self.assertEqual(o311.store_service(dst, code), o311.store_service(sh.inst, code))
            pairs = [("api_key", key), ("service_code", code), ("lat", "40.7"),
                     ("long", "-74")] + cat.valid_answers(code)
            rid = o311.expect_json(b.post("requests.json", pairs), 201)[0]["service_request_id"]
            r = o311.check_requests(b.get("requests/%s.json" % rid))[0]
            sla, notice, agency = o311.store_service(sh.inst, code)
            self.assertEqual((r["agency_responsible"], r["service_notice"]), (agency, notice))
            a.close()
            b.close()
        finally:
            server.stop()

    def test_a_real_city_catalog_is_served_as_imported(self):
        """DC's services.xml + pothole definition: 86 services as DC wrote them; S0301's questions"""
        dst = harness.Installation("dc", demo=False)
        dst.cli("services", "import", os.path.join(DC_DIR, "dc-services.xml"),
                os.path.join(DC_DIR, "dc-services-S0301.xml"))
        key = dst.create_api_key("dc")
        server = dst.start_server(threads=2)
        try:
            c = Client(server.port)
            doc = o311.expect_json(c.get("services.json"), 200, "services.json")
            src = ET.parse(os.path.join(DC_DIR, "dc-services.xml")).getroot()
            # (Leading and trailing blanks may be trimmed on import: DC's
            # texts have stray ones.)
            want = [{k: ((s.findtext(k) or "").strip() or None) for k in ("service_code", "service_name",
                                                         "description", "type", "keywords",
                                                         "group")} for s in src]
            self.assertEqual(len(doc), len(want))
            self.assertEqual(len(doc), 86)
            for got, w in zip(doc, want):
                for k, v in w.items():
                    g = got[k].strip() if isinstance(got[k], str) else got[k]
                    self.assertEqual(g, v, "%s %s" % (w["service_code"], k))
            o311.same_document(doc, o311.expect_xml(c.get("services.xml"), 200, "services"),
                               "services", "service")

            d = o311.expect_json(c.get("services/S0301.json"), 200, "service-definition.json")
            xdef = ET.parse(os.path.join(DC_DIR, "dc-services-S0301.xml")).getroot()
            xattrs = sorted(xdef.iter("attribute"), key=lambda a: int(a.findtext("order")))
            self.assertEqual([a["code"] for a in d["attributes"]],
                             [a.findtext("code") for a in xattrs])
            for got, x in zip(d["attributes"], xattrs):
                self.assertEqual(got["variable"], x.findtext("variable") == "true")
                self.assertEqual(got["required"], x.findtext("required") == "true")
                self.assertEqual(got["datatype"], x.findtext("datatype"))
                self.assertEqual(got["order"], int(x.findtext("order")))
                self.assertEqual((got["description"] or "").strip(),
                                 (x.findtext("description") or "").strip())
                self.assertEqual([(v["key"], v["name"]) for v in got["values"]],
                                 [(v.findtext("key"), v.findtext("name"))
                                  for v in x.iter("value")])
            self.assertTrue(next(s for s in doc if s["service_code"] == "S0301")["metadata"])

            # DC's required question is enforced, and answering it files the request.
            cat = o311.Catalog(c)
            base = [("api_key", key), ("service_code", "S0301"),
                    ("address_string", "1350 Pennsylvania Ave NW")]
            o311.expect_error(c.post("requests.json", base), 400, "json", "required")
            rid = o311.expect_json(c.post("requests.json", base + cat.valid_answers("S0301")),
                                   201)[0]["service_request_id"]
            r = o311.check_requests(c.get("requests/%s.json" % rid))[0]
            self.assertEqual(r["service_name"], next(
                s["service_name"] for s in doc if s["service_code"] == "S0301"))
            c.close()
        finally:
            server.stop()
