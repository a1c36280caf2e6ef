-- Which Bing Maps endpoints to use for a user's language and region, and whether a point is
-- in a disputed area (the Geospatial Endpoint Service).
--
--   lua5.4 examples/geospatial.lua [language region [lat lon]]
--   make example-geospatial      (against the local emulator, one command; EXAMPLE_ARGS=...)
--
-- Reads BING_MAPS_KEY and BING_BASE_URL (unset: the real service). Default: Hindi in India at
-- the reference's point on the border of India and China.
local bing = require "bing"

local language, region = arg[1] or "hi-in", arg[2] or "IN"
local point
if arg[3] then
  point = {assert(tonumber(arg[3]), "lat"), assert(tonumber(arg[4]), "lon")}
elseif not arg[1] then
  point = {32.750323, 79.376221}
end

local client = bing.new{key = os.getenv "BING_MAPS_KEY", base_url = os.getenv "BING_BASE_URL"}
local ep, err = client.geospatial.endpoint{language = language, userRegion = region, point = point}
if not ep then
  io.stderr:write("geospatial.endpoint: ", tostring(err), "\n")
  os.exit(1)
end

print(string.format("language %s, region %s%s", language, region,
  point and string.format(", point %s,%s", point[1], point[2]) or ""))
print(string.format("region used: %s  supported: %s  disputed area: %s", tostring(ep.ur),
  tostring(ep.isSupported), tostring(ep.isDisputedArea)))
for _, s in ipairs(ep.services) do
  print(string.format("  %-20s %-6s %-6s %s", s.serviceName, tostring(s.languageSupported),
    s.fallbackLanguage or "-", s.endpoint))
end
local tiles = ep:service("MapTiles")
print("map tiles: " .. (tiles and tiles.endpoint or "none in this region"))
