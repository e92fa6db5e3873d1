-- wrk script: GETs the paths given after `--` in turn (each thread starts
-- at a different one), and reports like report.lua.
--   wrk ... -s bench/paths.lua http://127.0.0.1:PORT -- /a?x=1 /b?y=2
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local paths, n = {}, 0

function init(args)
   for _, p in ipairs(args) do paths[#paths + 1] = p end
   n = math.random(#paths > 0 and #paths or 1)
end

function request()
   if #paths == 0 then return wrk.format() end
   n = n % #paths + 1
   return wrk.format(nil, paths[n])
end
