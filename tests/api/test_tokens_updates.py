"""
Tokens and servicerequestupdates (I1, W3).

tokens/{token}: what a batch service's client polls until the request has an
id. servicerequestupdates: mySociety's extension that FixMyStreet polls to
learn what happened to the requests it filed; each status change made with
`civic311 requests update` must show up there with FixMyStreet's status
words (investigating, in_progress, fixed, duplicate, ...).
"""
import o311
from base import ApiTest, canary, now, server_bug
from client import wait_until

FMS_STATUS = [  # (our status, resolution) -> what FixMyStreet reads
    (("acknowledged", None), "investigating"),
    (("in_progress", None), "in_progress"),
    (("closed", "fixed"), "fixed"),
    (("reopened", None), "open"),
    (("closed", "duplicate"), "duplicate"),
    (("reopened", None), "open"),
    (("closed", "not_responsible"), "not_councils_responsibility"),
    (("reopened", None), "open"),
    (("closed", "could_not_find"), "no_further_action"),
    (("reopened", None), "open"),
    (("closed", "not_fixed"), "no_further_action"),
]


class Tokens(ApiTest):
    def batch_token(self):
        code = self.cat.pick("batch")
        return o311.expect_json(self.post(self.request_params(code)), 201)[0]["token"]

    def test_token_lookup_is_stable_and_exact(self):
        """tokens/{token}: the same id every time once published; another case is another token"""
        token = self.batch_token()

        def rid():
            return o311.expect_json(self.c.get("tokens/%s.json" % token))[0]["service_request_id"]

        first = wait_until(rid, 15)
        self.assertIsNotNone(first, "not published within 15 s")
        for _ in range(3):
            self.assertEqual(rid(), first)
        self.assertError(self.c.get("tokens/%s.json" % token.upper()), 404, "token")
        self.assertError(self.c.get("tokens/%s.xml" % token[:-1]), 404, "token")
        ok = self.c.get("tokens/%s.json" % token, {"jurisdiction_id": "demo.civic311.org"})
        self.assertEqual(o311.expect_json(ok)[0]["service_request_id"], first)

    def test_token_document_in_both_formats(self):
        """tokens/{token}.json is [{service_request_id, token}]; .xml the same in <service_requests>"""
        token = self.batch_token()
        wait_until(lambda: o311.expect_json(self.c.get("tokens/%s.json" % token))[0]
                   ["service_request_id"], 15)
        j = o311.expect_json(self.c.get("tokens/%s.json" % token))
        x = o311.expect_xml(self.c.get("tokens/%s.xml" % token), 200, "service_requests")
        self.assertEqual(list(j[0]), ["service_request_id", "token"])
        self.assertIsInstance(j[0]["service_request_id"], str)
        o311.same_document(j, x, "service_requests", "request")

    def test_realtime_requests_have_no_token(self):
        """a realtime request's id is not a token"""
        rid = self.create(self.cat.pick("realtime", "singlevaluelist", required=True))
        self.assertError(self.c.get("tokens/%s.json" % rid), 404, "token")


class ServiceRequestUpdates(ApiTest):
    def updates(self, params=None, fmt="json"):
        r = self.c.get("servicerequestupdates.%s" % fmt, params)
        if fmt == "xml":
            return o311.expect_xml(r, 200, "service_request_updates")
        doc = o311.expect_json(r)
        self.assertIsInstance(doc, list)
        for u in doc:
            self.assertEqual(list(u), o311.UPDATE_FIELDS)
            self.assertRegex(u["update_id"], o311.ID_RE)
            self.assertRegex(u["service_request_id"], o311.ID_RE)
            self.assertRegex(u["updated_datetime"], o311.DT_RE)
            self.assertIsInstance(u["description"], str)
            self.assertEqual(u["media_url"], "")
        ids = [int(u["update_id"]) for u in doc]
        self.assertEqual(ids, sorted(set(ids)), "update_id ascending, no repeats")
        return doc

    def window(self, t0):
        return {"start_date": o311.fmt_dt(t0 - 5), "end_date": o311.fmt_dt(now() + 5)}

    def mine(self, docs, rid):
        return [u for u in docs if u["service_request_id"] == rid]

    def test_each_status_change_is_an_update_with_fms_words(self):
        """every update of a request, with FixMyStreet's status and our detailed status"""
        t0 = now()
        rid = self.create(self.cat.pick("realtime", "singlevaluelist", required=True))
        for i, ((st, res), _) in enumerate(FMS_STATUS):
            self.inst.update_request(rid, st, res, note="step %d" % i)
        got = self.mine(self.updates(self.window(t0)), rid)
        self.assertEqual([(u["status"], u["external_status_code"], u["description"])
                          for u in got],
                         [(fms, st, "step %d" % i)
                          for i, ((st, res), fms) in enumerate(FMS_STATUS)])
        last = self.get_request(rid)
        self.assertEqual(got[-1]["updated_datetime"], last["updated_datetime"])

    def test_creation_is_not_an_update(self):
        """a new request with no changes has no updates"""
        t0 = now()
        rid = self.create(self.cat.pick("realtime", "singlevaluelist", required=True))
        self.assertEqual(self.mine(self.updates(self.window(t0)), rid), [])
        self.assertEqual(self.mine(self.updates(), rid), [])

    def test_default_window_and_paging(self):
        """no dates: the last 90 days; page_size=1 pages through them one by one"""
        t0 = now()
        rid = self.create(self.cat.pick("realtime", "singlevaluelist", required=True))
        for st in ("acknowledged", "in_progress"):
            self.inst.update_request(rid, st, note="note " + st)
        everything = self.updates({"page_size": 1000})
        mine = self.mine(everything, rid)
        self.assertEqual([u["external_status_code"] for u in mine],
                         ["acknowledged", "in_progress"])
        win = self.updates(self.window(t0))
        paged = []
        for page in range(1, len(win) + 2):
            got = self.updates(dict(self.window(t0), page=page, page_size=1))
            self.assertLessEqual(len(got), 1)
            paged += got
        self.assertEqual(paged, win)
        self.assertEqual(self.mine(self.updates({"end_date": o311.fmt_dt(t0 - 86400)}), rid), [])

    def test_xml_says_the_same_as_json(self):
        """servicerequestupdates.xml: <service_request_updates><request_update>..., same fields"""
        t0 = now()
        rid = self.create(self.cat.pick("realtime", "singlevaluelist", required=True))
        self.inst.update_request(rid, "closed", "fixed", note="Fixed <today> & \"done\"")
        q = self.window(t0)
        j = self.updates(q)
        x = self.updates(q, "xml")
        o311.same_document(j, x, "service_request_updates", "request_update")
        empty = self.updates({"end_date": "2001-01-01T00:00:00Z"}, "xml")
        self.assertEqual(len(empty), 0)

    @server_bug("BUG-4: status changes with no note or an internal note never reach "
                "servicerequestupdates (src/store/sqlite.c store_updates_search filters "
                "e.public = 1; cmd_requests.c sets public_note only for a public note), so "
                "FixMyStreet never learns that such a request was fixed")
    def test_a_status_change_without_a_public_note_is_still_an_update(self):
        """closing with no note, or with an internal note: an update with description ''"""
        t0 = now()
        rid = self.create(self.cat.pick("realtime", "singlevaluelist", required=True))
        secret = canary("internal")
        self.inst.update_request(rid, "in_progress", note=secret, internal=True)
        self.inst.update_request(rid, "closed", "fixed")
        r = self.c.get("servicerequestupdates.json", self.window(t0))
        self.assertNotIn(secret.encode(), r.body)
        got = self.mine(self.updates(self.window(t0)), rid)
        self.assertEqual([(u["status"], u["description"]) for u in got],
                         [("in_progress", ""), ("fixed", "")])
