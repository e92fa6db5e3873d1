#!/usr/bin/env python3
"""Renders the latest results of bench/run (build/bench/last-*.json) as the
figures section of docs/BENCHMARKS.md, between the two marker lines, and
prints it. The rest of the file is left as it is; a missing file is created
with a short head.

  figures.py RESULTS-DIR BENCHMARKS.md COMMAND
"""
import json
import math
import os
import sys

BEGIN = "<!-- bench/run figures: begin (rewritten by bench/run; edit around them) -->"
END = "<!-- bench/run figures: end -->"

HEAD = """# Civic311 benchmarks

Benchmark commands, all on loopback with wrk; the first two rewrite their
own section of this file, between its markers:

- `make bench` (= `bench/run [get|post|search|web|all]`): the three
  figures of the performance issue, and the website's weight and render
  time against a static copy in nginx (issue 4).
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
    parts = [p for p in ("get", "post", "search", "web") if load(d, p)]
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
    w = load(d, "web")
    if w:
        out += render_web(w)
    out.append(END)
    return "\n".join(out)


WEB_METRICS = (("fcp", "first contentful paint"), ("load", "loadEventEnd"),
               ("dcl", "domContentLoadedEventEnd"), ("responseEnd", "responseEnd"))


def both(values, fmt="%d"):
    """One figure when the viewports agree, else each in turn."""
    vs = [fmt % v for v in values]
    return vs[0] if len(set(vs)) == 1 else " / ".join(vs)


def web_headers(w, side):
    names = set()
    for p in w["pages"]:
        for v in p["weight"].values():
            for r in v[side]["resources"]:
                names.update(r["header_names"])
    return names


def render_web(w):
    """Section (d): bench/web/web.mjs's result."""
    vnames = list(w["viewports"])
    limit, target = w["weight_limit_bytes"], w["ratio_target"]
    vps = ", ".join("%s %dx%d" % (v, w["viewports"][v]["width"], w["viewports"][v]["height"]) for v in vnames)
    out = ["### (d) The website in headless Chromium vs a static copy served by nginx (%s)" % w["date"][:10], "",
           "Build: %s." % w.get("build", "?"), "",
           "Chromium %s (Debian), headless, locale %s; viewports %s. Each page is loaded in a fresh "
           "browser context (empty cache, no cookie, a new connection) from civic311 and from nginx "
           "serving the same bytes under the same paths with the same headers (`bench/web/web.mjs`). "
           "Load average %s at the start, %s at the end; %d s in all." % (
               w["chromium"], w["locale"], vps, " ".join("%.1f" % x for x in w["loadavg_start"]),
               " ".join("%.1f" % x for x in w["loadavg_end"]), w["seconds"]), "",
           "**Page weight**: bytes received for the page and everything it loads, status lines and "
           "headers included (the DevTools protocol's `Network.loadingFinished` `encodedDataLength`, "
           "summed over the page's requests; one cold load a side and viewport); the bodies alone "
           "from resource timing's `encodedBodySize`. Target: no page over %s bytes." % format(limit, ","), "",
           "| page | path | requests | bytes received from civic311 | from the nginx copy | bodies | at most %s |" % format(limit, ","),
           "|---|---|---|---|---|---|---|"]
    heavy = []
    for p in w["pages"]:
        c = [p["weight"][v]["civic"] for v in vnames]
        n = [p["weight"][v]["nginx"] for v in vnames]
        worst = max(x["transfer"] for x in c)
        ok = worst <= limit
        if not ok:
            heavy.append(p["name"])
        out.append("| %s | `%s`%s | %s | %s | %s | %s | %s |" % (
            p["name"], p["path"], " (%s)" % p["note"] if p.get("note") else "",
            both([x["requests"] for x in c]), both([x["transfer"] for x in c]),
            both([x["transfer"] for x in n]), both([x["body"] for x in c]), "yes" if ok else "**no**"))
    if len(vnames) > 1:
        out.append("")
        out.append("Where two figures are given they are %s; one figure: the same at every viewport." % " / ".join(vnames))
    ours, theirs = web_headers(w, "civic"), web_headers(w, "nginx")
    enc = sorted({r["content_encoding"] or "none" for p in w["pages"] for v in p["weight"].values()
                  for side in ("civic", "nginx") for r in v[side]["resources"]})
    out += ["", "Content-Encoding on both sides: %s (civic311 does not compress; nginx's gzip is off). "
            "Headers only civic311 sends: %s; only nginx sends: %s (hence its few more bytes)." % (
                ", ".join(enc), ", ".join("`%s`" % h for h in sorted(ours - theirs)) or "none",
                ", ".join("`%s`" % h for h in sorted(theirs - ours)) or "none")]
    for f in w.get("browser_own", []):
        out.append("The browser also asks for `%s` on its own (not the page; once per site and browser "
                   "session, so not in every load): civic311 answers %d with its %d-byte HTML error "
                   "page, and so does the copy; not counted above." % (f["path"], f["status"], f["bytes"]))
    if w.get("other_origin_not_copied"):
        out.append("Requests to other origins (not copied, not counted): %s." % ", ".join(
            "`%s`" % u for u in w["other_origin_not_copied"]))
    out += ["", "**Time**: navigation timing of the page (ms from the start of the navigation) and "
            "first contentful paint (`PerformanceObserver` type `paint`), read in the page after its "
            "load event; %d rounds after a warm-up one, each loading every page at every viewport "
            "from both sides, which side goes first swapping every round; median (p90) of each, in ms. "
            "Target: the medians of first contentful paint and of the load event within %d%% of the "
            "copy's (ratio <= %.2f). In brackets after a ratio: its 95%% bootstrap interval, how far "
            "the machine's noise alone moves it." % (w["rounds"], round((target - 1) * 100), target), "",
            "| page | viewport | first paint, civic311 | nginx copy | ratio | load event, civic311 | nginx copy | ratio | DOMContentLoaded ratio | responseEnd, civic311 / nginx |",
            "|---|---|---|---|---|---|---|---|---|---|"]

    def cell(x):
        return "-" if not x else "%.0f (%.0f)" % (x["median"], x["p90"])

    def rcell(t, k):
        r, ci = t["ratio"].get(k), (t.get("ratio_95") or {}).get(k)
        if r is None:
            return "-"
        txt = "%.2f" % r if r <= target else "**%.2f**" % r
        return txt + (" (%.2f-%.2f)" % tuple(ci) if ci else "")
    slow, clearly = [], []
    for p in w["pages"]:
        for v in vnames:
            t = p["timing"][v]
            c, n, r = t["civic"], t["nginx"], t["ratio"]
            for k in ("fcp", "load"):
                if r.get(k) is None or r[k] > target:
                    what = "%s %s %s" % (p["name"], v, "first paint" if k == "fcp" else "load")
                    slow.append(what)
                    ci = (t.get("ratio_95") or {}).get(k)
                    if r.get(k) is None or (ci and ci[0] > target):
                        clearly.append(what)
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |" % (
                p["name"], v, cell(c["fcp"]), cell(n["fcp"]), rcell(t, "fcp"), cell(c["load"]), cell(n["load"]),
                rcell(t, "load"), "-" if r["dcl"] is None else "%.2f" % r["dcl"],
                "%.1f" % c["responseEnd"]["median"], "%.1f" % n["responseEnd"]["median"]))
    gm = {}
    for k in ("fcp", "load"):
        rs = [p["timing"][v]["ratio"][k] for p in w["pages"] for v in vnames]
        rs = [r for r in rs if r]
        gm[k] = math.exp(sum(math.log(r) for r in rs) / len(rs)) if rs else float("nan")
    out += ["", "Over every page and viewport (geometric mean of the ratios above): first paint %.2f, "
            "load event %.2f." % (gm["fcp"], gm["load"])]
    out += ["", "Page weight: %s. Time: %s." % (
        "every page at most %s bytes — **meets the target**" % format(limit, ",") if not heavy
        else "**over %s bytes: %s**" % (format(limit, ","), ", ".join(heavy)),
        "every median within %d%% of the copy's — **meets the target**" % round((target - 1) * 100) if not slow
        else "**more than %d%% slower than the copy: %s**" % (round((target - 1) * 100), "; ".join(slow))
        + (" (of which beyond the noise, the whole 95%% interval above %.2f: %s)" % (target, "; ".join(clearly) or "none")
           if any("ratio_95" in p["timing"][v] for p in w["pages"] for v in vnames) else "")), ""]
    return out


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
