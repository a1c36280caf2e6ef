-- Traffic incidents in an area: what a dispatch board or a commute planner shows.
--
--   lua5.4 examples/traffic.lua [south west north east] [--severity 3,4] [--geojson FILE]
--   make example-traffic         (against the local emulator, one command; EXAMPLE_ARGS=...)
--
-- Reads BING_MAPS_KEY and BING_BASE_URL (unset: the real service). The area is a box of at
-- most 10,000 km^2 (the service's limit: the library refuses a bigger one before sending);
-- by default central Seattle. --geojson writes the incidents as a GeoJSON FeatureCollection
-- (lon/lat order; `id` is the incidentId as a string: it is above 2^53).
local bing = require "bing"
local geojson = require "bing.geojson"

local box, opts = {}, {}
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--severity" or a == "--geojson" then
      opts[a:sub(3)] = assert(arg[i + 1], a .. " needs a value")
      i = i + 2
    else
      box[#box + 1] = assert(tonumber(a), "the area is four numbers: south west north east")
      i = i + 1
    end
  end
end
if #box == 0 then box = {47.55, -122.40, 47.70, -122.10} end
assert(#box == 4, "the area is four numbers: south west north east")

local client = bing.new{key = os.getenv "BING_MAPS_KEY", base_url = os.getenv "BING_BASE_URL"}
local list, err = client.traffic.incidents{mapArea = box, severity = opts.severity}
if not list then
  io.stderr:write("traffic.incidents: ", tostring(err), "\n")
  os.exit(1)
end

local function hhmm(t) return t and os.date("!%Y-%m-%d %H:%M", math.floor(t)) or "?" end

print(string.format("%d incident(s) in %s (UTC times)", #list, table.concat(box, ",")))
for _, inc in ipairs(list) do
  print(string.format("%-9s %-15s %s -> %s  %s%s", inc:severity_name() or "?",
    inc:type_name() or "?", hhmm(inc:start_time()), hhmm(inc:end_time()), inc.title or "",
    inc.roadClosed and "  [road closed]" or ""))
  print("          " .. (inc.description or ""))
end
print(string.format("billed: %s, %d transaction(s)", list.meta.billing.category,
  list.meta.billing.transactions))

if opts.geojson then
  local f = assert(io.open(opts.geojson, "w"))
  f:write(geojson.encode(list:geojson()), "\n")
  f:close()
  print("GeoJSON written to " .. opts.geojson)
end
