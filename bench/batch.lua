-- Batch throughput contestant of `make bench` (section 2), run by bench/run.lua:
--   batch.lua seq   URL KEY N SECONDS   up to N geocodes one after the other (stops after
--                                       SECONDS); prints "calls seconds"
--   batch.lua batch URL KEY N CONC      client:batch over N items with {concurrency = CONC};
--                                       prints "calls seconds", or "absent" when the library
--                                       has no client:batch yet
local bing = require "bing"
local core = require "bing.core"

local mode, url, key, n, x = arg[1], arg[2], arg[3], tonumber(arg[4]), tonumber(arg[5])
local c = bing.new{key = key, base_url = url}
local Q = "Tower of London"
assert(c.locations.find{q = Q})

if mode == "seq" then
  local t0, done = core.now(), 0
  for _ = 1, n do
    assert(c.locations.find{q = Q})
    done = done + 1
    if core.now() - t0 > x then break end
  end
  print(string.format("%d %.6f", done, core.now() - t0))
elseif mode == "batch" then
  if type(c.batch) ~= "function" then
    print("absent")
    return
  end
  local items = {}
  for i = 1, n do items[i] = Q end
  local t0 = core.now()
  local out = c:batch(items, function(cl, item) return cl.locations.find{q = item} end,
    {concurrency = x})
  local dt = core.now() - t0
  local ok = 0
  for i = 1, n do
    if type(out[i]) == "table" and out[i][1] then ok = ok + 1 end
  end
  print(string.format("%d %.6f", ok, dt))
else
  io.stderr:write("usage: batch.lua seq|batch URL KEY N SECONDS|CONC\n")
  os.exit(2)
end
