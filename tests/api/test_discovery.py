"""
Discovery (I1): a client that knows only the server's address finds the
GeoReport v2 endpoints, their formats and where to ask for a key.

The expected values come from the installation's own config.json, which
`civic311 init --demo` wrote (a production and a test endpoint).
"""
import json
import os

import o311
from base import ApiTest, server_bug


class Discovery(ApiTest):
    def config(self):
        with open(os.path.join(self.inst.data, "config.json"), encoding="utf-8") as f:
            return json.load(f)["discovery"]

    def test_json_lists_every_configured_endpoint(self):
        """discovery.json says what config.json says, with both formats per endpoint"""
        doc = o311.expect_json(self.c.get("discovery.json"))
        cfg = self.config()
        self.assertEqual(list(doc), ["changeset", "contact", "key_service", "endpoints"])
        self.assertEqual(doc["changeset"], cfg["changeset"])
        self.assertRegex(doc["changeset"], o311.DT_RE)
        self.assertEqual(doc["contact"], cfg["contact"])
        self.assertEqual(doc["key_service"], cfg["key_service"])
        self.assertEqual(len(doc["endpoints"]), len(cfg["endpoints"]))
        self.assertEqual({e["type"] for e in doc["endpoints"]}, {"production", "test"})
        for got, want in zip(doc["endpoints"], cfg["endpoints"]):
            self.assertEqual(list(got), ["specification", "url", "changeset", "type", "formats"])
            self.assertEqual(got["specification"], "http://wiki.open311.org/GeoReport_v2")
            self.assertEqual(got["url"], want["url"])
            self.assertTrue(got["url"].endswith("/open311/v2"), got["url"])
            self.assertEqual(got["changeset"], want.get("changeset", cfg["changeset"]))
            self.assertEqual(got["type"], want["type"])
            self.assertEqual(got["formats"], ["text/xml", "application/json"])

    def test_xml_says_the_same_as_json(self):
        """discovery.xml: declaration, <discovery>, <endpoints><endpoint>, <formats><format>"""
        doc = o311.expect_json(self.c.get("discovery.json"))
        root = o311.expect_xml(self.c.get("discovery.xml"), 200, "discovery")
        o311.same_document(doc, root, "discovery", None)
        fmts = root.findall("endpoints/endpoint/formats/format")
        self.assertEqual([f.text for f in fmts][:2], ["text/xml", "application/json"])

    def test_jurisdiction_id_is_not_needed_for_discovery(self):
        """discovery answers with or without jurisdiction_id (it is how clients find it)"""
        for q in ({}, {"jurisdiction_id": "demo.civic311.org"}):
            o311.expect_json(self.c.get("discovery.json", q))

    def test_head_gives_headers_without_body(self):
        """HEAD discovery.json: 200, the same Content-Type, no body"""
        r = self.c.request("HEAD", "discovery.json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.ctype, o311.CT_JSON)
        self.assertEqual(r.body, b"")

    def test_landing_page_links_to_discovery(self):
        """GET / is a small HTML page that points at the API"""
        r = self.c.get("/")
        self.assertEqual(r.status, 200)
        self.assertIn("/open311/v2/discovery.json", r.text)
        r = self.c.get("/healthz")
        self.assertEqual((r.status, r.text), (200, "ok\n"))


class CrossOrigin(ApiTest):
    """Open311 is a public API for third-party apps, many of them web pages:
    the server sends Access-Control-Allow-Origin: * on its GET answers. A
    browser only lets the page read a response that carries it, so the
    created id (201) and the error descriptions (4xx) need it as well."""

    @server_bug("BUG-6: Access-Control-Allow-Origin is only on 200 answers (o311_send); the 201 "
                "of POST requests (create_done) and every error (o311_fail) lack it, so a web "
                "client can file a request but cannot read its id or any error description "
                "(src/open311/o311_api.c)")
    def test_every_api_answer_allows_any_origin(self):
        """200, 201, 400, 403, 404 and 405 answers all carry Access-Control-Allow-Origin: *"""
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        answers = {
            200: self.c.get("services.json"),
            201: self.post(self.request_params(code)),
            400: self.c.get("requests.json?page_size=0"),
            403: self.c.post("requests.json", [("service_code", code)]),
            404: self.c.get("requests/0.json"),
            405: self.c.request("PUT", "requests.json"),
        }
        for status, r in answers.items():
            self.assertEqual(r.status, status, r.describe())
        missing = [s for s, r in answers.items()
                   if r.headers.get("Access-Control-Allow-Origin") != "*"]
        self.assertEqual(missing, [], "answers without Access-Control-Allow-Origin: *")
