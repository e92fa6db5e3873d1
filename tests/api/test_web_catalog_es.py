"""
The service catalog in Spanish (issue 4: every page in English and Spanish).

- The demo catalog's translation is built in (data/demo/catalog-es.po):
  on a Spanish page, service names, groups, descriptions, questions, hints
  and answers are Spanish, with no lang="en" mark; the search finds
  services by their Spanish words ("bache"); the review and the request
  page name the service in Spanish. English pages are unchanged.
- Every text of the demo catalog has a translation (so no Spanish page
  shows catalog English), and the file passes msgfmt --check (the build
  checks it too).
- A city's own DIR/catalog-po/es.po replaces the built-in one; a broken one
  stops the server at start with a message naming the file and line.
"""
import json
import os
import re
import subprocess

import harness
from test_web import WebTest, tr

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PO = os.path.join(REPO, "data", "demo", "catalog-es.po")


def po_entries(path):
    """{msgid: msgstr} of a simple .po file (one line each, as ours are)."""
    out, msgid = {}, None
    for line in open(path, encoding="utf-8"):
        m = re.match(r'^(msgid|msgstr) "(.*)"$', line.rstrip("\n"))
        if not m:
            continue
        text = m.group(2).replace('\\"', '"').replace("\\\\", "\\")
        if m.group(1) == "msgid":
            msgid = text
        elif msgid:
            out[msgid] = text
    return out


def catalog_texts():
    c = json.load(open(os.path.join(REPO, "data", "demo", "catalog.json"), encoding="utf-8"))
    texts = set()
    for s in c["services"]:
        for k in ("service_name", "description", "group", "service_notice", "keywords"):
            if s.get(k):
                texts.add(s[k])
    for d in c["service_definitions"]:
        for a in d.get("attributes") or []:
            for k in ("description", "datatype_description"):
                if a.get(k):
                    texts.add(a[k])
            for v in a.get("values") or []:
                texts.add(v["name"])
    return texts


class WebCatalogSpanish(WebTest):
    def es(self):
        return self.browser(accept_language="es")

    def found(self, b, q):
        """The service codes the search results list."""
        r = b.get("/", params={"q": q})
        m = re.search(r'<section aria-labelledby="results">(.*?)</section>', r.text, re.S)
        return re.findall(r'href="/report/([A-Z-]+)"', m.group(1)) if m else []

    def test_every_demo_catalog_text_is_translated(self):
        """each name, description, group, notice, keyword list, question, hint and answer"""
        es = po_entries(PO)
        missing = sorted(catalog_texts() - set(es))
        self.assertEqual(missing, [], "untranslated catalog texts")
        self.assertEqual([k for k, v in es.items() if not v or v == k and k not in ("No",)], [])
        subprocess.run(["msgfmt", "--check", "-o", os.devnull, PO], check=True)

    def test_spanish_pages_show_the_catalog_in_spanish(self):
        """home, search 'bache', the form, the review: Spanish, no lang=en catalog text"""
        b = self.es()
        r = b.get("/")
        page = self.assertPage(r, 200, "es")
        self.assertIn(">Bache<", r.text)
        self.assertIn("Calles y aceras", r.text)
        self.assertNotIn('lang="en"', r.text.split("<main", 1)[1].split("</main>")[0]
                         .replace('<span lang="en">English</span>', ""))
        found = self.found(b, "bache")
        self.assertEqual(found, ["DOT-POTHOLE"])
        self.assertIn("DSNY-MISSED", self.found(b, "basura"))
        self.assertIn("HPD-HEAT", self.found(b, "calefacción"))
        # Accents and capitals do not matter, as a phone keyboard types.
        self.assertEqual(self.found(b, "arbol"), self.found(b, "ÁRBOL"))
        self.assertIn("DPR-TREE", self.found(b, "arbol"))
        self.assertIn("HPD-HEAT", self.found(b, "CALEFACCION"))
        self.assertEqual(self.found(b, "pothole"), ["DOT-POTHOLE"], "English words still work")
        # The form: its title, questions and answers.
        r = b.get("/report/DOT-POTHOLE")
        page = self.assertPage(r, 200, "es")
        self.assertEqual(page.h1, ["Bache"])
        for text in ("¿Dónde está el bache?", "Calzada (carril de circulación)",
                     "¿Cuántos baches hay en esta cuadra?", "Un número entero, por ejemplo 3"):
            self.assertIn(text, r.text)
        self.assertNotIn("Where is the pothole?", r.text)
        # The review names the service and the answers in Spanish.
        form = page.form("/report/DOT-POTHOLE")
        r = b.post("/report/DOT-POTHOLE", form.submit(self.fill("DOT-POTHOLE")))
        page = self.assertPage(r, 200, "es")
        self.assertEqual(page.h1, [tr("es", "Check your report")])
        self.assertIn("<dd>Bache</dd>", r.text)
        self.assertNotIn("<dd>Pothole</dd>", r.text)

    def test_english_pages_are_unchanged(self):
        """the same pages in English: the catalog's own text"""
        r = self.browser(accept_language="en").get("/report/DOT-POTHOLE")
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Pothole"])
        self.assertIn("Where is the pothole?", r.text)
        self.assertNotIn("Bache", r.text)


class WebCatalogOwnTranslation(WebTest):
    """An installation with its own DIR/catalog-po/es.po."""

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Installation("web-catalog-po")
        os.makedirs(os.path.join(cls.inst.data, "catalog-po"))
        with open(os.path.join(cls.inst.data, "catalog-po", "es.po"), "w",
                  encoding="utf-8") as f:
            f.write('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                    'msgid "Pothole"\nmsgstr "Hoyo en la calle"\n')
        cls.server = cls.inst.start_server(threads=2)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_the_citys_file_replaces_the_built_in_one(self):
        """its text shows; texts it lacks are English, marked lang=en"""
        r = self.browser(accept_language="es").get("/report/DOT-POTHOLE")
        page = self.assertPage(r, 200, "es")
        self.assertEqual(page.h1, ["Hoyo en la calle"])
        self.assertIn('<span lang="en">Where is the pothole?</span>', r.text)

    def test_a_broken_file_stops_the_server_at_start(self):
        """a syntax error: serve exits 2 naming the file and line, never its text"""
        other = harness.Installation("web-catalog-po-bad")
        os.makedirs(os.path.join(other.data, "catalog-po"))
        with open(os.path.join(other.data, "catalog-po", "es.po"), "w", encoding="utf-8") as f:
            f.write('msgid "Pothole"\nmsgstr "SECRET-TEXT\n')
        code, out, err = other._run(["serve", "--data", other.data, "--listen", "127.0.0.1:0"],
                                    check=False, timeout=60)
        self.assertEqual(code, 2, out + err)
        self.assertIn("catalog-po/es.po", err)
        self.assertRegex(err, r"line \d+")
        self.assertNotIn("SECRET-TEXT", err)
