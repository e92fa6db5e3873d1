"""
test_limits.py - a client that never stops sending cannot hold a connection
forever: a chunked body over the limit is read to 4x the limit (to answer
413), then the server cuts the connection.
"""
import socket
import time
import unittest

import harness


class Limits(unittest.TestCase):
    def test_endless_chunked_body_is_cut_off(self):
        """an endless chunked POST is cut well before 16 MiB (limit 1 MiB)"""
        port = harness.shared().port
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
        sent = 0
        deadline = time.time() + 60
        try:
            while sent < 16 * 1024 * 1024 and time.time() < deadline:
                s.sendall(chunk)
                sent += 0x10000
        except OSError:
            pass  # the cut: a reset or a broken pipe
        s.close()
        self.assertLess(sent, 16 * 1024 * 1024, "the server read 16 MiB without cutting")
        # And it still serves everyone else.
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertIn(b"200", c.recv(100))
        c.close()


if __name__ == "__main__":
    unittest.main()
