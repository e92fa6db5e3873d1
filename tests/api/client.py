"""
client.py - HTTP/1.1 to the server over real sockets.

Client keeps one keep-alive connection (http.client) and sends exactly the
bytes a test gives it: a path may hold raw '+' or '%FF', a body may be any
bytes. raw_http() is for what http.client refuses to send (control bytes or
non-ASCII in the request line, chunked bodies, HTTP/1.0).

Paths not starting with '/' are relative to /open311/v2/.
"""
import http.client
import json
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET

PREFIX = "/open311/v2/"
FORM = "application/x-www-form-urlencoded"


class Response:
    def __init__(self, status, reason, headers, body, method="GET", target=""):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage (case-insensitive get)
        self.body = body        # bytes
        self.method = method
        self.target = target

    @property
    def ctype(self):
        return self.headers.get("Content-Type")

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def xml(self):
        return ET.fromstring(self.body)

    def describe(self, limit=600):
        b = self.body[:limit].decode("utf-8", "replace")
        return "%s %s -> %d %s [%s]\n%s" % (self.method, self.target[:200], self.status,
                                           self.reason, self.ctype, b)

    def __repr__(self):
        return "<Response %d %s>" % (self.status, self.ctype)


def target_of(path, params=None):
    if not path.startswith("/"):
        path = PREFIX + path
    if params:
        q = params if isinstance(params, str) else urllib.parse.urlencode(params, doseq=True)
        path += ("&" if "?" in path else "?") + q
    return path


def form(params):
    """dict or list of pairs -> urlencoded bytes (spaces as '+')."""
    return urllib.parse.urlencode(params, doseq=True).encode("ascii")


class Client:
    def __init__(self, port, timeout=60):
        self.port = port
        self.timeout = timeout
        self.conn = None
        self.requests_on_conn = 0
        self.connections = 0

    def _connect(self):
        self.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        self.conn.connect()
        self.requests_on_conn = 0
        self.connections += 1

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def local_port(self):
        return self.conn.sock.getsockname()[1] if self.conn and self.conn.sock else None

    def request(self, method, path, body=None, headers=None, params=None, ctype=None):
        """Sends one request and reads the whole response.

        body: bytes/str sent as is; a dict or list of pairs is form-encoded
        (Content-Type application/x-www-form-urlencoded unless ctype says
        otherwise). ctype=False sends no Content-Type at all.
        """
        target = target_of(path, params)
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list, tuple)):
            body = form(body)
            if ctype is None:
                ctype = FORM
        elif isinstance(body, str):
            body = body.encode("utf-8")
        if ctype:
            hdrs["Content-Type"] = ctype
        if body is not None and method in ("GET", "HEAD") and "Content-Length" not in hdrs:
            hdrs["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            reused = self.conn is not None and self.requests_on_conn > 0
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, target, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # An idle keep-alive connection the server closed: reconnect
                # once. A fresh connection failing is a real failure.
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            self.requests_on_conn += 1
            if r.will_close:
                self.close()
            return Response(r.status, r.reason, r.headers, data, method, target)

    def get(self, path, params=None, **kw):
        return self.request("GET", path, params=params, **kw)

    def post(self, path, body=None, params=None, **kw):
        return self.request("POST", path, body=body, params=params, **kw)

    def post_json(self, path, obj, params=None, **kw):
        return self.request("POST", path, body=json.dumps(obj).encode("utf-8"), params=params,
                            ctype="application/json", **kw)


def raw_http(port, data, timeout=60):
    """Sends raw bytes on a new connection and reads one response."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        r = http.client.HTTPResponse(s, method=data.split(b" ", 1)[0].decode("ascii", "replace"))
        r.begin()
        body = r.read()
        first = data.split(b"\r\n", 1)[0].decode("latin-1")
        return Response(r.status, r.reason, r.headers, body, first.split(" ")[0],
                        " ".join(first.split(" ")[1:-1]))
    finally:
        s.close()


def raw_request(port, method, target, body=b"", headers=None, version="HTTP/1.1"):
    """Builds a request from parts that may be any bytes."""
    if isinstance(target, str):
        target = target.encode("latin-1")
    if not target.startswith(b"/"):
        target = PREFIX.encode() + target
    lines = [method.encode() + b" " + target + b" " + version.encode(),
             b"Host: 127.0.0.1:%d" % port, b"Connection: close"]
    hdrs = dict(headers or {})
    if body and "Content-Length" not in hdrs and "Transfer-Encoding" not in hdrs:
        hdrs["Content-Length"] = str(len(body))
    for k, v in hdrs.items():
        lines.append(k.encode() + b": " + v.encode("latin-1"))
    return raw_http(port, b"\r\n".join(lines) + b"\r\n\r\n" + body)


def wait_until(fn, timeout, interval=0.25):
    """Calls fn until it returns something true; returns that, or None."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
