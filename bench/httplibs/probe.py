#!/usr/bin/env python3
"""Robustness probes for bench/httplibs/run, against a server on 127.0.0.1.

  probe.py slow PORT --conns N --mode idle|drip --hold S [--src 127.0.0.2]
      Opens N connections, from source address 127.0.0.2, that send an incomplete request head ("idle": one
      partial head, then nothing; "drip": one more header byte every second,
      the slowloris pattern that defeats idle timeouts). While they are held,
      a normal client (from 127.0.0.1) makes a fresh-connection GET /x every 0.5 s. Reports
      how the normal client fared and how many of the N the server closed,
      and when.
  probe.py bigpost PORT --mode cl|expect|chunked --size BYTES
      One POST /x of BYTES: "cl" sends Content-Length and the body at once,
      "expect" adds Expect: 100-continue and waits for the server's word,
      "chunked" sends Transfer-Encoding: chunked (no length known up front).
      Reports the status, how many body bytes the client got to send before
      the server answered or closed, and how long it took.
  probe.py table RESULTS.jsonl
      Prints the Markdown tables of a run (ratios to the fastest).

Each probe prints one JSON line. Loopback traffic only, bounded in time.
"""
import argparse
import http.client
import json
import select
import selectors
import socket
import statistics
import sys
import time


def normal_get(port, path, timeout=2.0):
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status == 200, time.monotonic() - t0
    except (OSError, http.client.HTTPException):
        return False, time.monotonic() - t0


def slow(args):
    head = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n" % args.path.encode()
    # Non-blocking connects, so a server that stops accepting does not stall
    # the probe; a socket gets its partial head once it is connected.
    pending, socks, opened_at = [], [], {}
    sel = selectors.DefaultSelector()  # epoll: no FD_SETSIZE cap
    for _ in range(args.conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((args.src, 0))  # another loopback address than the normal client's
        s.connect_ex(("127.0.0.1", args.port))
        pending.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    closed_at = {}  # socket -> seconds from its connect to the server's close
    answered = 0    # closed with a response (e.g. 408) rather than silently
    failed = 0      # connect refused or reset before the head went out
    ok = fail = 0
    lat = []
    start = time.monotonic()
    next_get = start + 0.5
    next_drip = start + 1.0
    while time.monotonic() - start < args.hold:
        events = sel.select(0.05)
        now = time.monotonic()
        for key, ev in events:
            s = key.fileobj
            if s in opened_at:  # readable: a response or EOF
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if data:
                    answered += 1
                # the server is done with it either way
                closed_at[s] = now - opened_at[s]
                sel.unregister(s)
                continue
            pending.remove(s)
            sel.unregister(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                failed += 1
                s.close()
                continue
            try:
                s.send(head)
            except OSError:
                failed += 1
                s.close()
                continue
            socks.append(s)
            opened_at[s] = now
            sel.register(s, selectors.EVENT_READ)
        if args.mode == "drip" and now >= next_drip:
            next_drip += 1.0
            for s in socks:
                if s not in closed_at:
                    try:
                        s.send(b"X")  # one byte of an endless header name
                    except OSError:
                        closed_at[s] = now - opened_at[s]
                        sel.unregister(s)
        if now >= next_get:
            next_get += 0.5
            good, t = normal_get(args.port, args.path)
            lat.append(t)
            if good:
                ok += 1
            else:
                fail += 1
    times = sorted(closed_at.values())
    for s in socks + pending:
        s.close()
    sel.close()
    out = {
        "probe": "slow", "mode": args.mode, "conns": args.conns, "held": len(socks),
        "never_connected": len(pending), "connect_failed": failed, "hold_s": args.hold,
        "normal_ok": ok, "normal_fail": fail,
        "normal_p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
        "normal_max_ms": round(max(lat) * 1000, 1) if lat else None,
        "closed_by_server": len(times), "closed_with_response": answered,
        "close_median_s": round(statistics.median(times), 1) if times else None,
    }
    print(json.dumps(out))


def read_status(s, timeout):
    """Reads what the server sends within timeout; returns (first line, eof)."""
    s.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                return buf.split(b"\r\n")[0].decode("latin-1") or None, True
            buf += d
    except socket.timeout:
        return (buf.decode("latin-1") or None), False
    except OSError:
        return None, True
    return buf.split(b"\r\n")[0].decode("latin-1"), False


def bigpost(args):
    size = args.size
    chunk = 65536
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("127.0.0.1", args.port))
    hdr = b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n" % args.path.encode()
    if args.mode == "chunked":
        hdr += b"Transfer-Encoding: chunked\r\n"
    else:
        hdr += b"Content-Length: %d\r\n" % size
    if args.mode == "expect":
        hdr += b"Expect: 100-continue\r\n"
    s.sendall(hdr + b"\r\n")
    t0 = time.monotonic()
    status = None
    sent = 0
    early = None  # what the server said before the body was sent
    if args.mode == "expect":
        early, _ = read_status(s, 1.0)
        if early and not early.startswith("HTTP/1.1 100"):
            status = early
    payload = b"\0" * chunk
    if args.mode == "chunked":
        payload = b"%x\r\n" % chunk + payload + b"\r\n"
    s.setblocking(False)
    closed = False
    deadline = t0 + args.limit
    while status is None and not closed and sent < size and time.monotonic() < deadline:
        r, w, _ = select.select([s], [s], [], 0.5)
        if r:
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if d:
                status = d.split(b"\r\n")[0].decode("latin-1")
            else:
                closed = True
            break
        if w:
            try:
                s.send(payload)
                sent += chunk
            except BlockingIOError:
                pass
            except OSError:
                closed = True
    if status is None and not closed:
        if args.mode == "chunked" and sent >= size:
            try:
                s.setblocking(True)
                s.sendall(b"0\r\n\r\n")
            except OSError:
                pass
        line, eof = read_status(s, max(0.5, deadline - time.monotonic()))
        status, closed = line, eof
    elapsed = time.monotonic() - t0
    # After the answer: does the server close, or keep reading (draining) the
    # rest of the body? Go on sending for up to 5 s and see.
    after = 0
    if not closed:
        s.setblocking(False)
        end = time.monotonic() + 5.0
        while sent + after < size and time.monotonic() < end:
            r, w, _ = select.select([s], [s], [], 0.2)
            if r:
                try:
                    d = s.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    closed = True
                    break
            if w:
                try:
                    s.send(payload)
                    after += chunk
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
                    break
    s.close()
    out = {"probe": "bigpost", "mode": args.mode, "size": size, "status": status,
           "early": early, "body_sent_mb": round(sent / 1048576, 1),
           "after_mb": round(after / 1048576, 1), "closed": closed, "seconds": round(elapsed, 2)}
    print(json.dumps(out))


def fmt_ratio(v, best):
    return "%.2f" % (v / best) if best else "-"


def table(args):
    rows = [json.loads(line) for line in open(args.results) if line.strip()]
    libs = []
    for r in rows:
        if r["lib"] not in libs:
            libs.append(r["lib"])
    wrk = {r["lib"]: r for r in rows if r["probe"] == "wrk"}
    cand = [l for l in libs if l in wrk and l != "nginx"]
    best = max((wrk[l]["rps"] for l in cand), default=0)
    best_p99 = min((wrk[l]["p99_us"] for l in cand), default=0)
    print("### Throughput: GET /x, 594-byte JSON, keep-alive (%s)\n" % rows[0].get("wrk_cmd", ""))
    print("| server | req/s, ratio to fastest | p99 latency, ratio to lowest | req/s runs (median kept) | errors |")
    print("|---|---|---|---|---|")
    for l in libs:
        if l not in wrk:
            continue
        w = wrk[l]
        print("| %s%s | %s (%.0f) | %s (%.2f ms) | %s | %d |" % (
            l, " (reference, not a candidate)" if l == "nginx" else "",
            fmt_ratio(w["rps"], best), w["rps"], fmt_ratio(w["p99_us"], best_p99),
            w["p99_us"] / 1000, " / ".join("%.0f" % x for x in w["runs"]), w["errors"]))
    print()
    slow_rows = [r for r in rows if r["probe"] == "slow"]
    if slow_rows:
        print("### Slow clients: N connections with an unfinished request head, held %ss; "
              "a normal client GETs every 0.5 s meanwhile\n" % slow_rows[0]["hold_s"])
        print("| server | mode | slow conns established | normal GETs ok/total | normal p50 / max ms | slow conns closed by server | median s to close |")
        print("|---|---|---|---|---|---|---|")
        for r in slow_rows:
            print("| %s | %s x%d | %d | %d/%d | %s / %s | %d (%d with a response) | %s |" % (
                r["lib"], r["mode"], r["conns"], r["held"], r["normal_ok"], r["normal_ok"] + r["normal_fail"],
                r["normal_p50_ms"], r["normal_max_ms"], r["closed_by_server"],
                r["closed_with_response"], r["close_median_s"] if r["close_median_s"] is not None else "-"))
        print()
    big = [r for r in rows if r["probe"] == "bigpost"]
    if big:
        print("### 100 MB POST (limit configured: 1 MiB)\n")
        print("| server | mode | answer | body MB sent before answer/close | MB more it took in the next 5 s | closed | s to answer |")
        print("|---|---|---|---|---|---|---|")
        for r in big:
            ans = r["status"] or "(none)"
            if r["mode"] == "expect" and r["early"]:
                ans = "%s (before body: %s)" % (ans, r["early"])
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["lib"], r["mode"], ans, r["body_sent_mb"], r["after_mb"],
                "yes" if r["closed"] else "no", r["seconds"]))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("slow")
    p.add_argument("port", type=int)
    p.add_argument("--conns", type=int, default=500)
    p.add_argument("--mode", choices=["idle", "drip"], default="idle")
    p.add_argument("--hold", type=float, default=12)
    p.add_argument("--src", default="127.0.0.2", help="source address of the slow connections")
    p.add_argument("--path", default="/x", help="what the normal client GETs")
    p = sub.add_parser("bigpost")
    p.add_argument("port", type=int)
    p.add_argument("--mode", choices=["cl", "expect", "chunked"], default="cl")
    p.add_argument("--size", type=int, default=100 * 1048576)
    p.add_argument("--limit", type=float, default=20)
    p.add_argument("--path", default="/x")
    p = sub.add_parser("table")
    p.add_argument("results")
    args = ap.parse_args()
    {"slow": slow, "bigpost": bigpost, "table": table}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
