-- Geocode an address, reverse-geocode a point, print the results.
--   BING_MAPS_KEY=... lua5.4 examples/quickstart.lua
-- `make demo` runs it against the local emulator (BING_BASE_URL points there).
local bing = require "bing"

local client = bing.new{
  key = os.getenv "BING_MAPS_KEY",
  base_url = os.getenv "BING_BASE_URL", -- nil: the real service
}

local locs, err = client.locations.find{q = "1 Microsoft Way, Redmond, WA 98052", maxResults = 3}
if not locs then
  io.stderr:write("geocoding failed: ", tostring(err), "\n")
  os.exit(1)
end
print(string.format("%d result(s) for the address (trace %s):", #locs, locs.meta.trace_id))
for i, loc in ipairs(locs) do
  local lat, lon = loc:latlon()
  print(string.format("  %d. %s  (%.6f, %.6f)  %s/%s", i, loc.name, lat, lon,
    loc.confidence or "?", loc.entityType or "?"))
end

local here, rerr = client.locations.find{point = {47.64054, -122.12934}}
if not here then
  io.stderr:write("reverse geocoding failed: ", tostring(rerr), "\n")
  os.exit(1)
end
print("47.64054, -122.12934 is:")
for _, loc in ipairs(here) do
  print("  " .. (loc.address and loc.address.formattedAddress or loc.name))
end

local u = client:usage()
print(string.format("billable transactions so far: %d", u.billable))
