#!/usr/bin/env python3
"""bench/privacy's helpers: reads callgrind and perf output into JSON,
assembles one run's results, and renders them as the bench/privacy section
of docs/BENCHMARKS.md (between its own two marker lines, after bench/run's
section; the rest of the file is left as it is).

  privacy_report.py callgrind OUTFILE OPS     instructions per op, by function
  privacy_report.py perf PERF.DATA SECONDS    top symbols by self time
  privacy_report.py assemble RESULTS-DIR FOUNDATION-REV FOUNDATION-INFO
                    PRIVACY-INFO GATE-COUNT CG-OPS SECONDS
  privacy_report.py render LAST-PRIVACY.JSON BENCHMARKS.md COMMAND
"""
import json
import os
import re
import subprocess
import sys

from figures import END as RUN_END, ms, replace_section

BEGIN = "<!-- bench/privacy figures: begin (rewritten by bench/privacy; edit around them) -->"
END = "<!-- bench/privacy figures: end -->"

# The target of issue 3: at most 15% slower than the foundation.
TARGET = 0.15

# ---- callgrind ----

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+?)(?:\s+\[(.+)\])?\s*$")


def annotate(path, inclusive):
    """{function: (Ir, object)} from callgrind_annotate; a function listed
    under several files (inlined parts) keeps its largest figure."""
    out = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100",
                          "--inclusive=" + ("yes" if inclusive else "no"), path],
                         check=True, capture_output=True, text=True).stdout
    funcs = {}
    body = out.split("file:function", 1)[-1]
    for line in body.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        name = m.group(2).rsplit(":", 1)[-1]
        obj = os.path.basename(m.group(3) or "?")
        if name not in funcs or funcs[name][0] < ir:
            funcs[name] = (ir, obj)
    return funcs


def callgrind(path, ops):
    ops = int(ops)
    total = None
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
    if total is None or ops <= 0:
        sys.exit("privacy_report: no totals in %s (or no operations)" % path)
    incl = annotate(path, True)
    self_ = annotate(path, False)
    # thread entry points carry the whole run's cost once counters were
    # zeroed mid-run (callgrind_control -z): not anyone's own work
    top_self = sorted(((k, v) for k, v in self_.items() if k not in ("clone", "start_thread")),
                      key=lambda kv: -kv[1][0])[:15]
    print(json.dumps({
        "total": total, "ops": ops, "per_op": round(total / ops),
        "inclusive": {k: round(v[0] / ops) for k, v in incl.items() if v[0] >= total * 0.002},
        "self_top": [{"fn": k, "obj": v[1], "per_op": round(v[0] / ops),
                      "share": round(v[0] / total, 4)} for k, v in top_self],
    }))


# ---- perf ----

PERF_LINE = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.+?)\s*$")


def perf(path, seconds):
    def report(sort):
        return subprocess.run(["perf", "report", "-i", path, "--stdio", "--no-children",
                               "--sort", sort, "--percent-limit", "0.3"],
                              check=True, capture_output=True, text=True).stdout

    text = report("dso,sym")
    samples = re.search(r"# Samples: (\S+)", text)
    top = []
    for line in text.splitlines():
        m = PERF_LINE.match(line)
        if m:
            top.append({"pct": float(m.group(1)), "dso": m.group(2),
                        "kernel": m.group(3) == "k", "sym": m.group(4)})
    dsos = []
    for line in report("dso").splitlines():
        m = re.match(r"^\s*([\d.]+)%\s+(\S+)\s*$", line)
        if m:
            dsos.append({"pct": float(m.group(1)), "dso": m.group(2)})
    print(json.dumps({"samples": samples.group(1) if samples else "?", "seconds": int(seconds),
                      "top": top[:40], "dso": dsos}))


# ---- assemble ----

def assemble(d, frev, finfo, pinfo, gate_count, cg_ops, seconds):
    def load(name):
        p = os.path.join(d, name + ".json")
        if not os.path.exists(p):
            return None
        with open(p) as f:
            return json.load(f)

    sides = ("foundation", "privacy")
    r = {
        "foundation_rev": frev, "foundation_build": finfo, "privacy_build": pinfo,
        "seconds": int(seconds), "gate_count": int(gate_count), "cg_ops": int(cg_ops),
        "post": dict(load("post") or {}, **(load("fsync") or {})),
        "get": {s: load("get-" + s) for s in sides},
        "gate": {m: load("gate-" + m) for m in ("sync", "nosync")},
        "cg_read": {op: load("cg-read-" + op) for op in ("store", "gate")},
        "cg_post": {s: load("cg-post-" + s) for s in sides},
        "perf": {s: load("perf-" + s) for s in sides},
        "verify": load("verify") or {"ok": False, "text": "not run"},
    }
    for mode in ("durable", "nosync"):
        r["post"][mode] = {s: load("post-%s-%s" % (mode, s)) for s in sides}
    print(json.dumps(r))


# ---- render ----

def rps_verdict(ratio):
    slower = 1 - ratio
    if slower <= TARGET:
        return "%s — **meets the target** (at most %d%% slower)" % (pct_diff(ratio), TARGET * 100)
    return "%s — **misses the target** (at most %d%% slower)" % (pct_diff(ratio), TARGET * 100)


def pct_diff(ratio):
    """0.80 -> '20% slower'; 1.05 -> '5% faster' (for a throughput ratio)."""
    if abs(ratio - 1) < 0.005:
        return "the same (within 0.5%)"
    if ratio <= 1:
        return "%.0f%% slower" % ((1 - ratio) * 100)
    return "%.0f%% faster" % ((ratio - 1) * 100)


def lat_verdict(ratio):
    word = "**meets the target**" if ratio <= 1 + TARGET else "**misses the target**"
    return "%.2fx the time — %s (at most %.2fx)" % (ratio, word, 1 + TARGET)


def us(v):
    return "%.0f µs" % v if v >= 100 else "%.1f µs" % v


def runs(x):
    return " / ".join("%.0f" % v for v in x["runs_rps"])


def writer_us(x):
    """CPU microseconds the writer thread spent per request in a run."""
    return x["cpu"]["writer"] * 1e6 / x["rps"] if x["rps"] else float("nan")


def kinstr(n):
    return "%.0fk" % (n / 1000.0) if n is not None else "-"


# The functions shown for one POST (callgrind, inclusive), in call order.
POST_FUNCS = [
    ("http_access", "HTTP thread: libmicrohttpd's callback: decode, api_key, intake, queue the job"),
    ("cq_writer", "writer thread, all of it"),
    ("create_apply", "the job's writes, in the batch's transaction"),
    ("store_request_insert", "the request row, its event (foundation: and its plain personal rows)"),
    ("vault_collect_reporter", "privacy engine: everything below"),
    ("store_subject_reserve", "the reporter's subject id, taken first"),
    ("seal_wrap_key", "a new data key, wrapped under the KEK for that id"),
    ("store_subject_insert", "the subject row with its wrapped key"),
    ("seal_encrypt", "XChaCha20-Poly1305 of each class's record (and the key)"),
    ("store_personal_insert", "one sealed row per data class"),
    ("seal_blind_digest", "keyed BLAKE2b of email and phone"),
    ("store_blind_insert", "one blind-index row each"),
    ("audit_append", "the COLLECT audit entry (Merkle frontier update; the head is written at commit)"),
    ("store_commit", "the commit (one per POST here: -c1)"),
    ("create_done", "the 201 answer"),
]

# The functions of one gatekeeper read (callgrind, inclusive).
GATE_FUNCS = [
    ("store_request_get", "the request row (what the public GET reads)"),
    ("store_personal_list", "the sealed rows (one per class)"),
    ("vault_subject_key", "the subject's wrapped key, unwrapped"),
    ("seal_decrypt", "XChaCha20-Poly1305 of the class's record"),
    ("audit_append", "the READ audit entry"),
    ("store_begin", "BEGIN IMMEDIATE"),
    ("store_commit", "the commit"),
]


def render(res, command):
    r = res
    out = [BEGIN, "", "## The cost of the privacy engine (issue 3)", ""]
    out += [
        "Machine: %s. Data on %s." % (r["machine"], r.get("fs", "?")),
        "Command: `%s` (%d s for the whole run, on %s); it builds the foundation from git "
        "and rewrites this section." % (command, r["seconds"], r["date"][:10]),
        "Privacy engine: %s. Foundation: %s (the last commit without `src/privacy/`, "
        "built from git in the same run)." % (r["privacy_build"], r["foundation_build"]),
        "",
        "Target (issue 3): with the privacy engine on, at most %d%% slower than the "
        "foundation in the same run: a throughput ratio privacy / foundation of at least "
        "%.2f, a latency at most %.2fx." % (TARGET * 100, 1 - TARGET, 1 + TARGET),
        "",
    ]
    verdicts = []

    # (a) POST
    p = r["post"]
    du, ns = p["durable"], p["nosync"]
    if du["foundation"] and du["privacy"]:
        def row(side, mode, x):
            n = max(x["s201"], 1)
            return "| %s | %s | %.0f | %s | %s | %s | %d of %d | %s | %d | %.2f / %.2f | %.0f µs | %.0f / %.0f KiB |" % (
                side, mode, x["rps"], runs(x), ms(x["p50_us"]), ms(x["p99_us"]), x["s201"],
                x["requests"], "-" if x.get("stored") is None else x["stored"], x["errors"],
                x["cpu"]["writer"], x["cpu"]["process"], writer_us(x),
                x["io"]["syscw"] / n, x["io"]["wchar"] / 1024.0 / n)
        rd = du["privacy"]["rps"] / du["foundation"]["rps"]
        rn = ns["privacy"]["rps"] / ns["foundation"]["rps"]
        out += [
            "### (a) POST /open311/v2/requests.json with a reporter", "",
            "Service `%s`; every request carries first_name, last_name, email, phone and "
            "device_id, all different from one request to the next (`bench/post.lua FORM TAG`); "
            "`%s`, %d runs per side and mode, the two binaries taken in turn, each on its own "
            "fresh `init --demo` store." % (p.get("form_service", "?"), p["wrk"],
                                             len(du["privacy"]["runs_rps"])), "",
            "| binary | commits | req/s (median) | all runs | p50 | p99 | 201s (median run) "
            "| stored in that run | errors | CPU: writer thread / whole server (cores) "
            "| writer CPU per request | write calls / bytes written per request |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            row("foundation", "durable", du["foundation"]),
            row("privacy engine", "durable", du["privacy"]),
            row("foundation", "--unsafe-no-sync", ns["foundation"]),
            row("privacy engine", "--unsafe-no-sync", ns["privacy"]), "",
            "**Durable POST, privacy / foundation: %.2f** — %s." % (rd, rps_verdict(rd)),
            "With --unsafe-no-sync (CPU cost without the fsync): %.2f (%s)." % (rn, pct_diff(rn)),
            "",
            "Checks: every 201 was stored in every run: **%s**. `civic311 audit verify` on the "
            "privacy engine's store after the whole run: **%s** (%s)." % (
                "yes" if p.get("all_stored") else "NO",
                "passes" if r["verify"]["ok"] else "FAILS", r["verify"]["text"].strip()),
            "The disk did %s 4 KiB write+fsync per second from one thread during this run. "
            "\"stored\" counts what the store gained between two marker requests; it may exceed "
            "the 201s by the requests still in flight when wrk stopped. CPU is in cores "
            "(core-seconds per second of the run; 2 cores in all, wrk included) from "
            "/proc/PID/task/*/stat; the writer thread is the one thread that runs every insert "
            "and commit (group commit), so once it is near 1.00 it is the ceiling: its CPU per "
            "request bounds throughput at 1 s / that. Write calls and bytes are the server's "
            "syscw and wchar (/proc/PID/io) per 201: every write() and pwrite() SQLite makes (WAL, "
            "checkpoints, its temporary files) and the answers on the sockets; bytes per request "
            "round by round, as the stores grow: durable %s KiB on the foundation, %s KiB with "
            "the privacy engine."
            % (p.get("fsync_per_s", "?"), " / ".join("%.0f" % v for v in du["foundation"]["runs_wchar_kib"]),
               " / ".join("%.0f" % v for v in du["privacy"]["runs_wchar_kib"])), "",
        ]
        wf, wp = writer_us(du["foundation"]), writer_us(du["privacy"])
        out += ["The writer thread spent %.0f µs of CPU per durable request on the foundation and "
                "%.0f µs (%.1fx) with the privacy engine; with --unsafe-no-sync %.0f µs and %.0f µs "
                "(%.1fx), which caps that side at about %.0f req/s." % (
                    wf, wp, wp / wf, writer_us(ns["foundation"]), writer_us(ns["privacy"]),
                    writer_us(ns["privacy"]) / writer_us(ns["foundation"]),
                    1e6 / writer_us(ns["privacy"])), ""]
        verdicts.append(("POST throughput, durable (as served)", rd, rd >= 1 - TARGET))
        verdicts.append(("POST throughput, --unsafe-no-sync (CPU only; not the target's figure)",
                         rn, None))

    # (b) GET
    g = r["get"]
    if g["foundation"] and g["privacy"]:
        f, q = g["foundation"], g["privacy"]
        rg = q["rps"] / f["rps"]
        out += [
            "### (b) public GET /open311/v2/requests/{id}.json", "",
            "The first request wrk filed in (a) (it has a reporter, sealed on the privacy side), "
            "from the same stores; `%s`, %d runs per side, in turn. The public path never reads "
            "personal data, so this should not change." % (p.get("wrk", "wrk").replace(
                " -s bench/post.lua", ""), len(q["runs_rps"])), "",
            "| binary | req/s (median) | all runs | p50 | p99 | bytes | errors |",
            "|---|---|---|---|---|---|---|",
            "| foundation | %.0f | %s | %s | %s | %d | %d |" % (
                f["rps"], runs(f), ms(f["p50_us"]), ms(f["p99_us"]), f["bytes"], f["errors"]),
            "| privacy engine | %.0f | %s | %s | %s | %d | %d |" % (
                q["rps"], runs(q), ms(q["p50_us"]), ms(q["p99_us"]), q["bytes"], q["errors"]),
            "",
            "**Public GET, privacy / foundation: %.2f** — %s; p50 %.2fx, p99 %.2fx." % (
                rg, rps_verdict(rg), q["p50_us"] / f["p50_us"], q["p99_us"] / f["p99_us"]), "",
        ]
        verdicts.append(("public GET throughput", rg, rg >= 1 - TARGET))

    # (c) gate
    gs, gn = r["gate"]["sync"], r["gate"]["nosync"]
    if gs and gn:
        cs, cgate = r["cg_read"]["store"], r["cg_read"]["gate"]
        store = gs["store_get"]
        out += [
            "### (c) reading personal data (in process: `bench/gate_bench.c`)", "",
            "There is no HTTP endpoint for personal data yet (issues 4 and 5), so the gatekeeper "
            "is timed in process over %s requests filed as POST files them (intake, "
            "`store_request_insert` and `vault_collect_reporter` in one transaction). The "
            "foundation had no way to read personal data at all; its nearest operation is what "
            "its GET does at the store level, `store_request_get`, in a read transaction on a "
            "read-only connection. Against it: `gate_read_request` of a random request's contact "
            "fields as an agent for address_request, with its audit entry and the commit, on a "
            "write connection. %d of each, interleaved, random requests; "
            "CLOCK_MONOTONIC around each; instructions from callgrind over %d of each "
            "(sync off)." % (format(r["gate_count"], ","), gs["ops"], r["cg_ops"]), "",
            "| operation | synchronous | p50 | p99 | mean | instructions |",
            "|---|---|---|---|---|---|",
            "| `store_request_get` (foundation's GET, store level) | - | %s | %s | %s | %s |" % (
                us(store["p50_us"]), us(store["p99_us"]), us(store["mean_us"]),
                kinstr(cs["per_op"]) if cs else "-"),
            "| `gate_read_request` + audit entry + commit | FULL | %s | %s | %s | %s |" % (
                us(gs["gate_read"]["p50_us"]), us(gs["gate_read"]["p99_us"]),
                us(gs["gate_read"]["mean_us"]), kinstr(cgate["per_op"]) if cgate else "-"),
            "| `gate_read_request` + audit entry + commit | OFF | %s | %s | %s | %s |" % (
                us(gn["gate_read"]["p50_us"]), us(gn["gate_read"]["p99_us"]),
                us(gn["gate_read"]["mean_us"]), kinstr(cgate["per_op"]) if cgate else "-"),
            "",
        ]
        rs = gs["gate_read"]["p50_us"] / store["p50_us"]
        rn = gn["gate_read"]["p50_us"] / gn["store_get"]["p50_us"]
        out.append("Reading personal data vs the foundation's store read, p50, synchronous=FULL: "
                   "%s; with sync off (CPU and SQLite work only) %.1fx the time." % (
                       lat_verdict(rs), rn))
        verdicts.append(("reading personal data, p50 latency (durable)", rs, rs <= 1 + TARGET))
        verdicts.append(("reading personal data, p50 latency, sync off (not the target's figure)",
                         rn, None))
        if cs and cgate:
            ri = cgate["per_op"] / cs["per_op"]
            out.append("Instructions: %.1fx (%s vs %s per read)." % (
                ri, kinstr(cgate["per_op"]), kinstr(cs["per_op"])))
            out += ["", "Where a gatekeeper read's instructions go (callgrind, inclusive, per read):",
                    "", "| function | instructions | share | what |", "|---|---|---|---|"]
            for fn, what in GATE_FUNCS:
                v = cgate["inclusive"].get(fn)
                if v:
                    out.append("| `%s` | %s | %.0f%% | %s |" % (fn, kinstr(v), 100.0 * v / cgate["per_op"], what))
        out.append("")

    # where the time goes
    cf, cp = r["cg_post"]["foundation"], r["cg_post"]["privacy"]
    if cf and cp:
        out += [
            "### Where the time goes: one POST, instruction by instruction", "",
            "callgrind over the whole server (all threads) while wrk POSTs one request at a "
            "time (`-c1`, so one request per commit on both sides) for a few seconds after a "
            "warm-up; instructions per POST (%d and %d POSTs). Instruction counts do not depend "
            "on the machine's load; they leave out the time spent waiting for the disk." % (
                cf["ops"], cp["ops"]), "",
            "**Instructions per POST: foundation %s, privacy engine %s (%.2fx).**" % (
                kinstr(cf["per_op"]), kinstr(cp["per_op"]), cp["per_op"] / cf["per_op"]), "",
            "| function (inclusive) | foundation | privacy engine | what |", "|---|---|---|---|",
        ]
        for fn, what in POST_FUNCS:
            a, b = cf["inclusive"].get(fn), cp["inclusive"].get(fn)
            if a or b:
                out.append("| `%s` | %s | %s | %s |" % (fn, kinstr(a), kinstr(b), what))
        out += ["", "Top functions by own instructions, privacy engine, per POST:", "",
                "| function | object | instructions | share |", "|---|---|---|---|"]
        for x in cp["self_top"][:12]:
            out.append("| `%s` | %s | %s | %.1f%% |" % (x["fn"], x["obj"], kinstr(x["per_op"]), 100 * x["share"]))
        out.append("")
    pf, pp = r["perf"]["foundation"], r["perf"]["privacy"]
    if pf and pp:
        def obj(dso):  # the two binaries have different file names
            return "civic311" if dso.startswith("civic311") else dso
        fdso = {obj(x["dso"]): x["pct"] for x in pf["dso"]}
        fsym = {(obj(x["dso"]), x["sym"]): x["pct"] for x in pf["top"]}
        out += ["perf (cpu-clock, 999 Hz, all threads) of each server during a %d s durable POST "
                "run like (a)'s (about %s and %s samples), by object:" % (
                    pp["seconds"], pp["samples"], pf["samples"]), "",
                "| object | privacy engine | foundation |", "|---|---|---|"]
        for x in pp["dso"][:8]:
            f = fdso.get(obj(x["dso"]))
            out.append("| %s | %.1f%% | %s |" % (obj(x["dso"]), x["pct"], "-" if f is None else "%.1f%%" % f))
        out += ["", "and the privacy engine's top functions by own time, with the foundation's "
                "share of the same function:", "",
                "| function | object | privacy engine | foundation |", "|---|---|---|---|"]
        for x in pp["top"][:12]:
            f = fsym.get((obj(x["dso"]), x["sym"]))
            out.append("| `%s` | %s | %.1f%% | %s |" % (
                x["sym"], obj(x["dso"]), x["pct"], "-" if f is None else "%.1f%%" % f))
        out.append("")

    # summary
    out += ["### Verdict", "",
            "| figure | privacy / foundation | target (at most %d%% slower) met |" % (TARGET * 100),
            "|---|---|---|"]
    for name, ratio, ok in verdicts:
        out.append("| %s | %.2f | %s |" % (name, ratio, "-" if ok is None else "yes" if ok else "**no**"))
    missed = [n for n, _, ok in verdicts if ok is False]
    out += ["", "**The 15%% target is %s.**" % (
        "met on every figure" if not missed else "not met: " + "; ".join(missed)), "", END]
    return "\n".join(out)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "callgrind" and len(sys.argv) == 4:
        callgrind(sys.argv[2], sys.argv[3])
    elif cmd == "perf" and len(sys.argv) == 4:
        perf(sys.argv[2], sys.argv[3])
    elif cmd == "assemble" and len(sys.argv) == 9:
        assemble(*sys.argv[2:9])
    elif cmd == "render" and len(sys.argv) == 5:
        with open(sys.argv[2]) as f:
            res = json.load(f)
        section = render(res, sys.argv[4])
        replace_section(sys.argv[3], BEGIN, END, section, after=RUN_END)
        print(section)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
