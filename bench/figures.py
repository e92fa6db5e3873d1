#!/usr/bin/env python3
"""Renders the latest results of bench/run (build/bench/last-*.json) as the
figures section of docs/BENCHMARKS.md, between the two marker lines, and
prints it. The rest of the file is left as it is; a missing file is created
with a short head.

  figures.py RESULTS-DIR BENCHMARKS.md COMMAND
"""
import json
import os
import sys

BEGIN = "<!-- bench/run figures: begin (rewritten by bench/run; edit around them) -->"
END = "<!-- bench/run figures: end -->"

HEAD = """# Civic311 benchmarks

Benchmark commands, all on loopback with wrk; the first two rewrite their
own section of this file, between its markers:

- `make bench` (= `bench/run [get|post|search|all]`, about 6 minutes): the
  three figures of the performance issue.
- `bench/privacy` (about 6 minutes): the cost of the privacy engine
  (issue 3), against the foundation built from git in the same run.
- `bench/httplibs/run` (about 7 minutes): the HTTP library comparison, in
  [bench/httplibs/RESULTS.md](../bench/httplibs/RESULTS.md).

wrk runs on the same 2 cores as the server, and the machine is shared, so
read the ratios, not the absolute figures; each side's figure is the median
of its runs, and the two sides of a ratio are measured in turn in the same
run.

"""


def ms(us):
    return "%.2f ms" % (us / 1000.0)


def ratio(a, b):
    return a / b if b else float("nan")


def verdict(r, target):
    return "meets the target (>= %.1f)" % target if r >= target else "**below the target (>= %.1f)**" % target


def load(d, part):
    p = os.path.join(d, "last-%s.json" % part)
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def render(d, command):
    out = [BEGIN, "", "## Figures", ""]
    parts = [p for p in ("get", "post", "search") if load(d, p)]
    if not parts:
        out += ["No results yet: run `make bench`.", "", END]
        return "\n".join(out)
    first = load(d, parts[0])
    out += ["Machine: %s. Data on %s." % (first["machine"], first.get("fs", "?")),
            "Command: `make bench` (= `bench/run all`); this section last written by `%s`." % command,
            ""]
    g = load(d, "get")
    if g:
        c, n = g["civic"], g["nginx"]
        r = ratio(c["rps"], n["rps"])
        out += ["### (a) GET /open311/v2/requests/{id}.json vs nginx static (%s)" % g["date"][:10], "",
                "Build: %s." % g.get("build", "?"), "",
                "Same %d bytes, Content-Type `%s`; `%s`, %d runs per side." % (
                    g["bytes"], g["content_type"], g["wrk"], len(c["runs_rps"])), "",
                "| server | req/s (median) | all runs | p50 | p99 | errors |",
                "|---|---|---|---|---|---|",
                "| civic311 | %.0f | %s | %s | %s | %d |" % (c["rps"], " / ".join("%.0f" % x for x in c["runs_rps"]),
                                                         ms(c["p50_us"]), ms(c["p99_us"]), c["errors"]),
                "| nginx (static file) | %.0f | %s | %s | %s | %d |" % (n["rps"], " / ".join("%.0f" % x for x in n["runs_rps"]),
                                                                    ms(n["p50_us"]), ms(n["p99_us"]), n["errors"]),
                "", "**Ratio civic311 / nginx: %.2f** — %s." % (r, verdict(r, 0.5)), ""]
    p = load(d, "post")
    if p:
        du, ns = p["durable"], p["nosync"]
        r = ratio(du["rps"], ns["rps"])

        def row(name, x):
            return "| %s | %.0f | %s | %s | %s | %d of %d | %s | %d |" % (
                name, x["rps"], " / ".join("%.0f" % v for v in x["runs_rps"]), ms(x["p50_us"]), ms(x["p99_us"]),
                x.get("s201", 0), x["requests"], "-" if x.get("stored") is None else x["stored"], x["errors"])
        out += ["### (b) POST /open311/v2/requests.json, durable vs --unsafe-no-sync (%s)" % p["date"][:10], "",
                "Build: %s." % p.get("build", "?"), "",
                "Service `%s`; `%s`, %d runs per side." % (p.get("form_service", "?"), p["wrk"], len(du["runs_rps"])), "",
                "| commits | req/s (median) | all runs | p50 | p99 | 201s (median run) | stored in that run | errors |",
                "|---|---|---|---|---|---|---|---|",
                row("durable (fsync)", du), row("--unsafe-no-sync", ns), "",
                "**Ratio durable / no-sync: %.2f** — %s." % (r, verdict(r, 0.5)),
                "The data disk did %s 4 KiB write+fsync per second from one thread during this run: "
                "the cheaper a sync, the closer this ratio is to 1 whatever group commit does." % p.get("fsync_per_s", "?"),
                "\"stored\" is how many requests the store gained during the run (from the ids of "
                "a marker request before and after); it may exceed the 201s by the requests still in "
                "flight when wrk stopped.", ""]
    s = load(d, "search")
    if s:
        out += ["### (c) GET /open311/v2/requests.json?service_code=X over %s requests (%s)" % (
                    format(s["count"], ","), s["date"][:10]), "",
                "Build: %s." % s.get("build", "?"), "",
                "Made by `civic311 requests generate --count %d --days %d` in %.0f s (store: %d MB). "
                "Window %s to %s; `%s` per code." % (s["count"], s["days"], s["generate_s"], s["store_mb"],
                                                     s["window"][0], s["window"][1], s["wrk"]), "",
                "| service_code (and page_size) | results | bytes | req/s | p50 | p99 | errors |",
                "|---|---|---|---|---|---|---|"]
        for c in s["codes"]:
            out.append("| %s | %d | %d | %.0f | %s | %s | %d |" % (
                c["code"].replace("&", " "), c["results"], c["bytes"], c["rps"], ms(c["p50_us"]), ms(c["p99_us"]), c["errors"]))
        out += ["", "Server peak RSS (VmHWM): **%.1f MiB** (%.1f MiB just after start)." % (
            s["vmhwm_kb"] / 1024.0, s["rss_start_kb"] / 1024.0), ""]
    out.append(END)
    return "\n".join(out)


def replace_section(doc, begin, end, section, after=None):
    """Puts section (which starts with begin and ends with end) into the
    file doc in place of what lies between those two marker lines. Where
    the markers are missing, the section goes right after the line after
    (another section's end marker) if given and present, else at the end;
    a missing file starts with HEAD. Written through a temporary file."""
    try:
        text = open(doc).read()
    except OSError:
        text = HEAD
    if begin in text and end in text:
        a = text.index(begin)
        b = text.index(end) + len(end)
        text = text[:a] + section + text[b:]
    elif after and after in text:
        b = text.index(after) + len(after)
        text = text[:b] + "\n\n" + section + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    tmp = doc + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, doc)


def main():
    d, doc, command = sys.argv[1], sys.argv[2], sys.argv[3]
    section = render(d, command)
    replace_section(doc, BEGIN, END, section)
    print(section)


if __name__ == "__main__":
    main()
