"""
Photos on the report form (issue 4, P11) over HTTP, as a browser sends them:
multipart/form-data with the file input `photo`.

- Real photos with every kind of hidden metadata (EXIF with camera GPS, make,
  model and serial; XMP; IPTC; ICC; comments), written by the photo unit
  test (`test_photo --write-fixtures DIR`, the same builders it checks
  photo_clean with): JPEG (EXIF orientation 6), PNG and WebP.
- The review step stores the cleaned photo sealed, tied to no request, and
  the pages after carry a token; "send" ties it to the request; the photo
  is served only to the session that sent it, with no metadata left, turned
  upright, never cached, and never in a public answer.
- Refusals (not a photo, a JPEG that is not one, a cut file, too large, a
  file under another name, two files, another session's token) keep what
  was typed, store nothing, and say what to do.
"""
import json
import os
import re
import struct
import subprocess
import tempfile

import harness
from base import canary
from test_privacy import marks
from client import raw_request
from test_web import CSRF_RE, WebTest, contact

# What the fixtures carry that must never come out (test_photo.c secrets[],
# plus the other metadata blocks it writes).
SECRETS = (b"CivicCam", b"Model-X9", b"SN-SECRET-0042", b"XMP-SECRET-CREATOR", b"40,42.77N",
           b"IPTC-SECRET-BYLINE", b"COM-SECRET-COMMENT", b"TEXT-SECRET-COMMENT",
           b"ns.adobe.com", b"Exif\x00\x00")
TOKEN_RE = re.compile(r"^[1-9][0-9]*-[1-9][0-9]*-[0-9a-f]{32}$")


def fixtures():
    """{name: bytes} of the photos with metadata, made once per run."""
    if not hasattr(fixtures, "cache"):
        tool = os.path.join(os.path.dirname(harness.BINARY), "tests", "test_photo")
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([tool, "--write-fixtures", d], check=True, timeout=120,
                           stdout=subprocess.DEVNULL)
            fixtures.cache = {n: open(os.path.join(d, n), "rb").read()
                              for n in ("exif.jpg", "exif.png", "exif.webp")}
    return fixtures.cache


def photo_token(form):
    """The hidden photo field's value (the file input has the same name)."""
    got = [f.value for f in form.named("photo") if f.type == "hidden"]
    return got[0] if got else None


def multipart(pairs, files=(), boundary="----c311photoTEST7MA4YWxkTrZu0gW"):
    """A body as a browser builds it: text fields, then files
    (name, filename, content type, bytes)."""
    out = b""
    for k, v in pairs:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" %
                (boundary, k)).encode() + v.encode() + b"\r\n"
    for name, filename, ctype, data in files:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode()
        out += data + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return out, "multipart/form-data; boundary=" + boundary


def jpeg_size(data):
    """(width, height) from a JPEG's SOF segment."""
    i, seen = 2, []
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        seen.append(hex(marker))
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        if marker == 0xDA:
            break
        i += 2 + length
    raise AssertionError("no SOF in the JPEG: %r, %r" % (seen, data[:16]))


class WebPhotos(WebTest):
    CODE = "DOT-POTHOLE"

    def setUp(self):
        super().setUp()
        self.b = self.browser()
        _, self.form = self.open_form(self.b, self.CODE)
        self.p = contact()
        self.desc = "A hole by the curb " + canary("desc")
        self.typed = self.fill_for(self.CODE)

    def fill_for(self, code):
        return WebTest.fill(self, code, self.p, self.desc)

    def post_photo(self, b=None, form=None, files=(), fill=None, press=None, extra=()):
        b = b or self.b
        form = form or self.form
        pairs = form.submit(self.typed if fill is None else fill, press) + list(extra)
        body, ctype = multipart(pairs, files)
        return b.request("POST", "/report/%s" % self.CODE, body=body, ctype=ctype)

    def photo_rows(self):
        return self.inst.query("SELECT id, request_id, subject_id, data_class, content_type "
                               "FROM personal_blob ORDER BY id")

    def review_with(self, name="exif.jpg", ctype="image/jpeg", b=None, form=None):
        """The review page of a report with this photo; (page, token)."""
        r = self.post_photo(b=b, form=form, files=[("photo", name, ctype, fixtures()[name])])
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Check your report"], r.describe())
        review = page.form("/report/%s" % self.CODE)
        token = photo_token(review)
        self.assertRegex(token or "", TOKEN_RE)
        self.assertIn('<img src="/photos/%s"' % token, r.text)
        return page, token

    def assertClean(self, data, what):
        for s in SECRETS:
            self.assertNotIn(s, data, "%s still holds %r" % (what, s))

    def assertNotServed(self, b, token, what):
        r = b.get("/photos/%s" % token)
        self.assertEqual(r.status, 404, "%s: %s" % (what, r.describe()))
        self.assertNotIn(b"\xff\xd8\xff", r.body)

    # ---- the whole flow ----

    def test_a_photo_goes_through_review_and_send_cleaned_sealed_and_private(self):
        """JPEG with EXIF GPS: review stores it sealed and pending; send ties it; only the
        sending session sees it, upright, without metadata, never cached, never public"""
        before = self.photo_rows()
        page, token = self.review_with()
        rows = self.photo_rows()
        self.assertEqual(len(rows), len(before) + 1, "stored at the review step")
        blob, request_id, subject, dclass, ctype = rows[-1]
        self.assertEqual((request_id, dclass, ctype), (None, "media", "image/jpeg"))
        self.assertEqual(token.split("-")[:2], [str(blob), str(subject)])
        (sealed,), = self.inst.query("SELECT sealed FROM personal_blob WHERE id = ?", (blob,))
        self.assertNotIn(b"\xff\xd8\xff", sealed, "sealed, not the plain JPEG")
        self.assertNotIn(b"CivicCam", sealed)
        # Nothing else stored yet: no request.
        self.assertEqual(self.inst.query("SELECT COUNT(*) FROM request WHERE description = ?",
                                         (self.desc,)), [(0,)])

        r = self.b.get("/photos/%s" % token)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.ctype, "image/jpeg")
        self.assertEqual(r.headers.get("Cache-Control"), "private, no-store")
        self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff")
        self.assertTrue(r.body.startswith(b"\xff\xd8\xff"))
        self.assertClean(r.body, "the served photo")
        # EXIF orientation 6: stored 96 x 64 on its side, served upright.
        self.assertEqual(jpeg_size(r.body), (64, 96))

        sent = self.b.request("POST", "/report/%s" % self.CODE,
                              body=page.form("/report/%s" % self.CODE).submit(
                                  press=("step", "send")))
        self.assertEqual(sent.status, 303, sent.describe())
        m = re.fullmatch(r"/requests/([1-9][0-9]*)\?filed=1&photo=(\S+)",
                         sent.headers.get("Location", ""))
        self.assertIsNotNone(m, sent.headers.get("Location"))
        rid, t2 = int(m.group(1)), m.group(2)
        self.assertEqual(t2, token)
        self.assertEqual(self.inst.query("SELECT request_id FROM personal_blob WHERE id = ?",
                                         (blob,)), [(rid,)])
        # The reporter's contact details are sealed under the photo's subject.
        self.assertEqual(self.inst.query("SELECT DISTINCT subject_id FROM personal_field "
                                         "WHERE request_id = ?", (rid,)), [(subject,)])
        r = self.b.get(sent.headers["Location"])
        self.assertPage(r, 200)
        self.assertIn('<img src="/photos/%s"' % token, r.text)
        # The public page, the Open311 answers: no photo, no token, no media_url.
        plain = self.b.get("/requests/%d" % rid)
        self.assertNotIn("/photos/", plain.text)
        for fmt in ("json", "xml"):
            api = self.c.get("requests/%d.%s" % (rid, fmt), {"extensions": "true"})
            self.assertEqual(api.status, 200)
            self.assertNotIn(b"/photos/", api.body)
            self.assertNotIn(token.encode(), api.body)
            self.assertNotIn(b"media_url>http", api.body)
            self.assertNotIn(b'"media_url": "http', api.body)
        # Another session: not the photo, with this token or any made-up one.
        other = self.browser()
        self.open_form(other, self.CODE)
        self.assertNotServed(other, token, "another session")
        self.assertNotServed(self.browser(), token, "no session")
        forged = token[:-1] + ("0" if token[-1] != "0" else "1")
        self.assertNotServed(self.b, forged, "a forged mac")
        self.assertNotServed(self.b, "%d-%d-%s" % (blob + 1, subject, token.split("-")[2]),
                             "another blob with this mac")
        self.assertNotServed(self.b, "../../etc/passwd", "a path")
        # The other session's page with the token in its URL shows no photo.
        other_page = other.get("/requests/%d?filed=1&photo=%s" % (rid, token))
        self.assertNotIn("/photos/", other_page.text)
        # The one read of the photo (the GET above) is in the audit log,
        # by the website for the resident; the refused tries never reached it.
        reads = [json.loads(body) for (body,) in self.inst.query(
            "SELECT body FROM audit_entry WHERE subject_id = ?", (subject,))]
        self.assertEqual([(e["action"], e["actor"], e["fields"]) for e in reads
                          if e["action"] != "collect"], [("read", "web", "media")])
        self.assertLogClean(marks(self.p) + [self.desc.split()[-1]])

    def test_png_and_webp_are_cleaned_too(self):
        """PNG (eXIf, tEXt, zTXt, iTXt, iCCP) and WebP (EXIF, XMP, ICCP): served clean"""
        for name, ctype, magic in (("exif.png", "image/png", b"\x89PNG\r\n\x1a\n"),
                                   ("exif.webp", "image/webp", b"RIFF")):
            self.assertTrue(any(s in fixtures()[name] for s in SECRETS), name)
            _, token = self.review_with(name, ctype)
            r = self.b.get("/photos/%s" % token)
            self.assertEqual((r.status, r.ctype), (200, ctype), r.describe())
            self.assertTrue(r.body.startswith(magic), name)
            self.assertClean(r.body, name)
            for chunk in (b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"EXIF", b"XMP "):
                self.assertNotIn(chunk, r.body, "%s: %r chunk left" % (name, chunk))

    def test_the_content_decides_not_the_name_or_type(self):
        """a PNG named .jpg and sent as image/jpeg is taken (as a PNG)"""
        _, token = self.review_with("exif.png", "image/jpeg")
        r = self.b.get("/photos/%s" % token)
        self.assertEqual(r.ctype, "image/png")

    # ---- refusals keep what was typed and store nothing ----

    def refused(self, files, want, status=400, extra=(), kept=True):
        before = self.counts()
        r = self.post_photo(files=files, extra=extra)
        page = self.assertPage(r, status)
        self.assertEqual(page.h1, [self.cat.by_code[self.CODE]["service_name"]], r.describe())
        alerts = " ".join(page.alerts())
        self.assertIn(want, alerts)
        form = page.form("/report/%s" % self.CODE)
        self.assertRegex(form.value("csrf"), CSRF_RE)
        if kept:
            self.assertEqual(form.value("description"), self.desc, "what was typed is kept")
            self.assertEqual(form.value("email"), self.p["email"])
        self.assertNothingStored(before, want)
        self.assertLogClean(marks(self.p) + [self.desc.split()[-1]])
        return page, r

    def test_a_file_claiming_to_be_a_jpeg_that_is_not_is_refused(self):
        """text named photo.jpg sent as image/jpeg: 400 'not a JPEG, PNG or WebP', field marked"""
        page, r = self.refused([("photo", "photo.jpg", "image/jpeg",
                                 b"GIF89a not really a photo at all, just text")],
                               "This file is not a JPEG, PNG or WebP photo")
        self.assertRegex(r.text, r'<input id="photo-file" name="photo" type="file"[^>]*'
                                 r'aria-invalid="true"')
        for name, data in (("an SVG", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
                           ("a GIF", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
                           ("a PDF", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")):
            self.refused([("photo", "x.jpg", "image/jpeg", data)],
                         "This file is not a JPEG, PNG or WebP photo")

    def test_a_cut_or_damaged_photo_is_refused(self):
        """the first half of a JPEG, a PNG with a broken body: 400 'could not be read'"""
        jpg = fixtures()["exif.jpg"]
        self.refused([("photo", "cut.jpg", "image/jpeg", jpg[:len(jpg) // 2])],
                     "This photo could not be read")
        png = bytearray(fixtures()["exif.png"])
        idat = png.find(b"IDAT")
        png[idat + 8:idat + 40] = b"\x00" * 32
        self.refused([("photo", "bad.png", "image/png", bytes(png))],
                     "This photo could not be read")

    def test_a_photo_over_10_mb_is_refused_and_over_the_upload_limit_413(self):
        """10 MiB + 1 (a JPEG header then padding): 400 'at most 10 MB', kept; 12 MiB: 413"""
        big = fixtures()["exif.jpg"][:4] + b"\x00" * (10 * 1024 * 1024 - 3)
        self.refused([("photo", "big.jpg", "image/jpeg", big)], "at most 10 MB")
        # Over max_upload_bytes (11 MiB): the HTTP layer answers 413 on the
        # headers alone, before any of the body is read.
        before = self.counts()
        r = raw_request(self.port, "POST", "/report/%s" % self.CODE, b"",
                        {"Content-Type": "multipart/form-data; boundary=x",
                         "Content-Length": str(12 << 20), "Cookie": "c311=" + self.b.cookie})
        self.assertEqual(r.status, 413, r.describe())
        self.assertNothingStored(before, "413")

    def test_files_the_form_does_not_have_are_refused(self):
        """a file under another name: 400, kept; two files: 400; nothing stored"""
        jpg = fixtures()["exif.jpg"]
        self.refused([("media", "a.jpg", "image/jpeg", jpg)], "a field this page does not have")
        # Two files: a browser never sends that for one file input, so the
        # body is not read at all (multipart.c stops at the second file).
        self.refused([("photo", "a.jpg", "image/jpeg", jpg), ("photo", "b.jpg", "image/jpeg", jpg)],
                     "The form could not be read", kept=False)

    def test_an_empty_file_input_is_no_photo(self):
        """no file chosen (an empty part with filename=""): the review has no photo"""
        before = len(self.photo_rows())
        r = self.post_photo(files=[("photo", "", "application/octet-stream", b"")])
        page = self.assertPage(r, 200)
        self.assertEqual(page.h1, ["Check your report"])
        self.assertIsNone(photo_token(page.form("/report/%s" % self.CODE)))
        self.assertEqual(len(self.photo_rows()), before)

    # ---- the token ----

    def test_change_keep_replace_and_take_out_the_photo(self):
        """edit shows it with 'take this photo out'; a refused new file keeps the old one; a new
        one replaces it; taking it out sends the report without it"""
        page, token = self.review_with()
        review = page.form("/report/%s" % self.CODE)
        r = self.b.post("/report/%s" % self.CODE, review.submit(press=("step", "edit")))
        edit = self.assertPage(r, 200)
        form = edit.form("/report/%s" % self.CODE)
        self.assertEqual(photo_token(form), token)
        self.assertEqual([f.type for f in form.named("remove_photo")], ["checkbox"])
        self.assertIn('<img src="/photos/%s"' % token, r.text)
        # A bad new file: refused, the old photo still there.
        r = self.post_photo(form=form, fill=[], files=[("photo", "x.jpg", "image/jpeg", b"nope")])
        again = self.assertPage(r, 400)
        self.assertEqual(photo_token(again.form("/report/%s" % self.CODE)), token)
        # A new one replaces it.
        page2, token2 = self.review_with("exif.webp", "image/webp", form=form)
        self.assertNotEqual(token2, token)
        # Take it out: the review has none, and "send" files no photo.
        r = self.b.post("/report/%s" % self.CODE,
                        page2.form("/report/%s" % self.CODE).submit(press=("step", "edit")))
        form = self.assertPage(r, 200).form("/report/%s" % self.CODE)
        r = self.b.post("/report/%s" % self.CODE, form.submit([("remove_photo", "1")]))
        review = self.assertPage(r, 200)
        self.assertEqual(review.h1, ["Check your report"])
        self.assertIsNone(photo_token(review.form("/report/%s" % self.CODE)))
        self.assertNotIn("/photos/", r.text)
        sent = self.b.post("/report/%s" % self.CODE,
                           review.form("/report/%s" % self.CODE).submit(press=("step", "send")))
        rid = int(re.fullmatch(r"/requests/([0-9]+)\?filed=1", sent.headers["Location"]).group(1))
        self.assertEqual(self.inst.query("SELECT COUNT(*) FROM personal_blob WHERE "
                                         "request_id = ?", (rid,)), [(0,)])

    def test_another_sessions_token_is_dropped_and_a_photo_is_sent_once(self):
        """session B posting A's token: no photo; A pressing send twice: one request, the second
        press answered with it; another review's send: the form again (409), nothing filed"""
        page, token = self.review_with()
        review = page.form("/report/%s" % self.CODE)
        other = self.browser()
        _, oform = self.open_form(other, self.CODE)
        r = other.post("/report/%s" % self.CODE,
                       oform.submit(self.typed) + [("photo", token)])
        self.assertIsNone(photo_token(self.assertPage(r, 200).form("/report/%s" % self.CODE)))
        send = review.submit(press=("step", "send"))
        first = self.b.post("/report/%s" % self.CODE, send)
        self.assertEqual(first.status, 303, first.describe())
        before = self.counts()
        # The same "Send" again (its key): the request it filed, nothing new.
        second = self.b.post("/report/%s" % self.CODE, send)
        self.assertEqual((second.status, second.headers.get("Location")),
                         (303, first.headers.get("Location")))
        self.assertNothingStored(before, "a second press of the same send")
        # A send of another review page (another key) with the photo already
        # filed: the form again (409), what was typed kept, nothing filed.
        again = [(k, "0123456789abcdef0123456789abcdef" if k == "send_key" else v)
                 for k, v in send]
        third = self.b.post("/report/%s" % self.CODE, again)
        page = self.assertPage(third, 409)
        self.assertIn("The photo is no longer here", " ".join(page.alerts()))
        form = page.form("/report/%s" % self.CODE)
        self.assertEqual(form.value("description"), self.desc)
        self.assertIsNone(photo_token(form))
        self.assertNothingStored(before, "a send of another review")

