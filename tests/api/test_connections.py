"""
Connections (Q3 sanity): keep-alive, many clients at once, and the server
staying correct under concurrent reads and writes.

A client that keeps its connection open (every Open311 library does) must
be able to send many requests, errors and POSTs included, without the server
dropping it; many clients at once must all get answers, and every POST
acknowledged while others read must be there afterwards.
"""
import socket
import threading
import time

import o311
from base import ApiTest, canary
from client import Client, raw_http


class KeepAlive(ApiTest):
    def test_many_gets_on_one_connection(self):
        """300 GETs of every kind on one connection: all answered, one TCP connection"""
        code = self.cat.services[0]["service_code"]
        rid = self.create(self.cat.pick("realtime", "singlevaluelist", required=True))
        paths = ["discovery.json", "services.xml", "services/%s.json" % code,
                 "requests/%s.xml" % rid, "requests.json?page_size=5",
                 "servicerequestupdates.json"]
        c = Client(self.port)
        c.get("services.json")
        port = c.local_port()
        for i in range(300):
            r = c.get(paths[i % len(paths)])
            self.assertEqual(r.status, 200, r.describe())
        self.assertEqual((c.connections, c.local_port()), (1, port))
        c.close()

    def test_posts_and_gets_interleaved_on_one_connection(self):
        """POST (answered after the commit) then GET, 20 times, on one connection"""
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        c = Client(self.port)
        for i in range(20):
            desc = "keepalive %d %s" % (i, canary())
            r = c.post("requests.json", self.request_params(code, [("description", desc)]))
            rid = o311.expect_json(r, 201)[0]["service_request_id"]
            got = o311.expect_json(c.get("requests/%s.json" % rid))
            self.assertEqual(got[0]["description"], desc)
        self.assertEqual(c.connections, 1)
        c.close()

    def test_errors_do_not_drop_the_connection(self):
        """404, 400, 403, 405 and a bad POST, then a 200, all on one connection"""
        c = Client(self.port)
        steps = [("GET", "nothing.json", None, 404), ("GET", "requests.json?page_size=0", None, 400),
                 ("POST", "requests.json", "service_code=x", 403),
                 ("PUT", "requests.json", None, 405),
                 ("POST", "requests.json", "api_key=%s&lat=1" % self.key, 400),
                 ("POST", "requests.json", '{"x": ', 400),
                 ("GET", "services.json", None, 200)]
        for method, path, body, status in steps:
            ctype = "application/json" if body and body.startswith("{") else \
                ("application/x-www-form-urlencoded" if body else None)
            r = c.request(method, path, body=body, ctype=ctype)
            self.assertEqual(r.status, status, r.describe())
        self.assertEqual(c.connections, 1)
        c.close()

    def test_http_1_0_without_keep_alive(self):
        """an HTTP/1.0 request gets an answer and a closed connection"""
        r = raw_http(self.port, b"GET /open311/v2/services.json HTTP/1.0\r\n\r\n")
        self.assertEqual(r.status, 200)
        o311.expect_json(r, 200, "services.json")

    def test_pipelined_requests(self):
        """two GETs sent back to back on one socket get two answers, in order"""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        data = b""
        try:
            s.sendall(b"GET /open311/v2/discovery.json HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /open311/v2/services.xml HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        answers = []
        while data:
            head, _, rest = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            hdrs = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
            n = int(hdrs.get("content-length", "0"))
            answers.append((int(lines[0].split()[1]), hdrs.get("content-type")))
            data = rest[n:]
        self.assertEqual(answers, [(200, "application/json"), (200, "text/xml")])


class BodyTransfer(ApiTest):
    """How real HTTP clients send a POST body: curl and PHP send
    'Expect: 100-continue' for bodies over 1 KiB; streaming clients send
    chunked bodies without Content-Length."""

    def body(self, desc):
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        from client import form
        return form(self.request_params(code, [("description", desc)]))

    def read_all(self, s):
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk

    def test_expect_100_continue(self):
        """Expect: 100-continue gets '100 Continue', then the body gets 201"""
        desc = "expect-continue " + "x" * 2000
        body = self.body(desc)
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        try:
            s.sendall(("POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\n"
                       "Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n"
                       "\r\n" % len(body)).encode())
            first = s.recv(4096)
            self.assertTrue(first.startswith(b"HTTP/1.1 100"), first[:100])
            s.sendall(body)
            rest = first.split(b"\r\n\r\n", 1)[1] + self.read_all(s)
        finally:
            s.close()
        self.assertTrue(rest.startswith(b"HTTP/1.1 201"), rest[:300])
        rid = json_body(rest)[0]["service_request_id"]
        self.assertEqual(self.get_request(rid)["description"], desc)

    def test_chunked_body(self):
        """a chunked POST body (no Content-Length) is read whole: 201"""
        desc = "chunked " + canary()
        body = self.body(desc)
        parts = [body[i:i + 37] for i in range(0, len(body), 37)]
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        r = raw_http(self.port, b"POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Type: application/x-www-form-urlencoded\r\n"
                                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                     chunked)
        rid = o311.expect_json(r, 201)[0]["service_request_id"]
        self.assertEqual(self.get_request(rid)["description"], desc)


def json_body(raw):
    import json
    head, _, body = raw.partition(b"\r\n\r\n")
    return json.loads(body.decode("utf-8"))


class Concurrency(ApiTest):
    def test_concurrent_reads_and_writes(self):
        """8 readers and 6 writers for 4 s: every answer right, every acknowledged POST readable"""
        code = self.cat.pick("realtime", "singlevaluelist", required=True)
        stop = time.monotonic() + 4
        errors, created, reads = [], {}, [0]
        lock = threading.Lock()

        def reader(n):
            c = Client(self.port)
            paths = ["services.json", "requests.json?page_size=20", "discovery.xml",
                     "services/%s.xml" % code]
            try:
                i = 0
                while time.monotonic() < stop:
                    r = c.get(paths[(i + n) % len(paths)])
                    i += 1
                    if r.status != 200:
                        errors.append(r.describe())
                    with lock:
                        reads[0] += 1
            except Exception as e:  # noqa: BLE001 - any failure is the test's
                errors.append("reader %d: %r" % (n, e))
            finally:
                c.close()

        def writer(n):
            c = Client(self.port)
            try:
                i = 0
                while time.monotonic() < stop:
                    desc = "concurrent %d-%d" % (n, i)
                    i += 1
                    r = c.post("requests.json", self.request_params(code, [("description", desc)]))
                    if r.status != 201:
                        errors.append(r.describe())
                        continue
                    with lock:
                        created[r.json()[0]["service_request_id"]] = desc
            except Exception as e:  # noqa: BLE001
                errors.append("writer %d: %r" % (n, e))
            finally:
                c.close()

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)] + \
                  [threading.Thread(target=writer, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors[:5], [])
        print("\n    concurrency: %d reads, %d creates in 4 s" % (reads[0], len(created)),
              end=" ")
        self.assertGreater(len(created), 10)
        ids = sorted(created, key=int)
        self.assertEqual(len(set(ids)), len(ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            got = self.search({"service_request_id": ",".join(chunk)})
            self.assertEqual({r["service_request_id"]: r["description"] for r in got},
                             {k: created[k] for k in chunk})

    def test_many_connections_at_once(self):
        """64 clients connect at the same time and each gets its answer"""
        results = []

        def one(n):
            c = Client(self.port)
            try:
                results.append(c.get("services.json" if n % 2 else "discovery.xml").status)
            except Exception as e:  # noqa: BLE001
                results.append(repr(e))
            finally:
                c.close()

        threads = [threading.Thread(target=one, args=(i,)) for i in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(results, [200] * 64)
