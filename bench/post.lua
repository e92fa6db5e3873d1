-- wrk script for `bench/run post` and `bench/privacy`: POSTs valid Open311
-- service requests.
--   wrk -t2 -c64 -d10s -s bench/post.lua \
--       http://127.0.0.1:PORT/open311/v2/requests.json -- FORMFILE [TAG]
-- FORMFILE holds an application/x-www-form-urlencoded body (api_key,
-- service_code, lat, long and any required attribute[...]) without a
-- description: each request gets its own description (thread and count), so
-- no two requests are the same report. With TAG (letters and digits), each
-- request also carries a reporter: first_name, last_name, email, phone and
-- device_id, all different from one request to the next (the email and
-- device id also carry TAG, so runs do not repeat them), as the privacy
-- engine's blind indexes would see real reporters. Counts the answers by
-- status and reports them (s201 ...) in the WRKJSON line of report.lua.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local threads = {}
local form, tag, n = "", nil, 0
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function setup(thread)
   threads[#threads + 1] = thread
   thread:set("tid", #threads)
end

function init(args)
   local f = assert(io.open(assert(args[1], "FORMFILE missing"), "rb"))
   form = f:read("*a"):gsub("%s+$", "")
   f:close()
   tag = args[2]
   assert(tag == nil or tag:match("^%w+$"), "TAG: letters and digits only")
   s201, s2xx, s4xx, s5xx, sother = 0, 0, 0, 0, 0
end

-- The reporter of request n of this thread, form-encoded: the phone is a
-- valid NANP number (area code from the thread, line from n).
local function reporter()
   return string.format("&first_name=Alex%d&last_name=Rivera-%s%d" ..
                        "&email=alex.rivera.%s.%d.%d%%40example.org" ..
                        "&phone=%%2B1+%03d+%03d+%04d&device_id=bench-%s-%d-%d",
                        n, tag, tid, tag, tid, n,
                        200 + tid, 200 + math.floor(n / 10000) % 800, n % 10000, tag, tid, n)
end

function request()
   n = n + 1
   return wrk.format("POST", nil, headers,
                     form .. "&description=Benchmark+report+" .. tid .. "-" .. n ..
                        "%3A+streetlight+out+at+the+corner" .. (tag and reporter() or ""))
end

function response(status, hdrs, body)
   if status == 201 then s201 = s201 + 1
   elseif status >= 200 and status < 300 then s2xx = s2xx + 1
   elseif status >= 400 and status < 500 then s4xx = s4xx + 1
   elseif status >= 500 then s5xx = s5xx + 1
   else sother = sother + 1 end
end

function report_extra()
   local t = { s201 = 0, s2xx = 0, s4xx = 0, s5xx = 0, sother = 0 }
   for _, th in ipairs(threads) do
      for k in pairs(t) do t[k] = t[k] + (th:get(k) or 0) end
   end
   return string.format(',"s201":%d,"s2xx_other":%d,"s4xx":%d,"s5xx":%d,"s_other":%d',
                        t.s201, t.s2xx, t.s4xx, t.s5xx, t.sother)
end
