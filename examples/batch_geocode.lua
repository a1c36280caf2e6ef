-- Geocodes a list of queries concurrently with client:batch: up to 16 requests in flight over
-- one curl multi handle (kept-alive connections, or HTTP/2 streams of one connection), the
-- results in input order, each failure in its place, a progress line on stderr.
--   BING_MAPS_KEY=... lua5.4 examples/batch_geocode.lua [queries.txt]
-- Against the local emulator:
--   eval "$(sim/bingsim start)"; eval "$(make -s env)"
--   BING_MAPS_KEY=$SIM_KEY BING_BASE_URL=$SIM_URL lua5.4 examples/batch_geocode.lua
-- Without a file (one query a line), a few landmarks are geocoded.
local bing = require "bing"

local client = bing.new{
  key = os.getenv "BING_MAPS_KEY",
  base_url = os.getenv "BING_BASE_URL", -- nil: the real service
  budget = {billable = 1000},           -- a batch never spends more than this
}

local queries = {}
if arg[1] then
  for line in io.lines(arg[1]) do
    if line:find("%S") then queries[#queries + 1] = line end
  end
end
if #queries == 0 then
  queries = {"Space Needle, Seattle", "Tower of London", "Eiffel Tower", "Brandenburger Tor",
             "Sydney Opera House", "Golden Gate Bridge", "Colosseum, Rome", "Table Mountain"}
end

local results, summary = client:batch(queries, function(c, q)
  local locs, err = c.locations.find{q = q, maxResults = 1}
  if not locs then return nil, err end
  if not locs[1] then return {q = q} end
  local lat, lon = locs[1]:latlon()
  return {q = q, name = locs[1].name, lat = lat, lon = lon}
end, {concurrency = 16, on_progress = function(p)
  io.stderr:write(("\r%d/%d done, %d failed, about %.0f s left "):format(p.done, p.total,
    p.failed, p.eta))
end})
io.stderr:write("\n")

for i = 1, results.n do
  local r = results[i]
  if bing.errors.is_error(r) then
    print(("%s\tERROR\t%s"):format(queries[i], tostring(r)))
  elseif r.name then
    print(("%s\t%.5f\t%.5f\t%s"):format(r.q, r.lat, r.lon, r.name))
  else
    print(("%s\tno match"):format(r.q))
  end
end
print(("%d queries, %d failed, %.2f s, %d billable transactions"):format(summary.total,
  summary.failed, summary.elapsed, client:usage().billable))
