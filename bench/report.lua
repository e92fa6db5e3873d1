-- wrk script: prints, after the human summary, one machine-readable line
--   WRKJSON {"requests":..,"rps":..,"p50_us":..,"p99_us":..,...}
-- for bench/run and bench/httplibs/run to parse. Latencies are wrk's
-- per-request times in microseconds. Other scripts load this one with
-- dofile and may define report_extra() to add fields (a JSON fragment
-- starting with a comma). It defines no request(), so wrk keeps its fast
-- static request path.
function done(summary, latency, requests)
   local e = summary.errors
   local extra = report_extra and report_extra() or ""
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,' ..
      '"p99_us":%d,"max_us":%d,"mean_us":%.1f,"errors":%d,"err_status":%d,' ..
      '"err_timeout":%d%s}\n',
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, e.connect + e.read + e.write + e.status + e.timeout, e.status, e.timeout,
      extra))
end
