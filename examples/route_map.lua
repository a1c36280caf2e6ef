-- Draws a route on a static map image, two ways:
--
--   lua5.4 examples/route_map.lua [-o map.png] [--size WxH] [--path] [PLACE PLACE [PLACE...]]
--   make example-route-map      (against the local emulator, one command; EXAMPLE_ARGS=...)
--
-- By default the Imagery API draws the route itself (client.imagery.static_map with `route =`,
-- one request, billed RESTImagery-StaticMapWithRoute). With --path the route comes from the
-- Routes API (client.routes.calc with its routePath, billed RESTRoutes) and is drawn on a plain
-- static map (RESTImagery-StaticMap) as a drawCurve line in Google's encoded polyline form,
-- with a pushpin per stop: the way to draw a route you already have, or one Bing's static map
-- cannot compute (a truck route, a route you edited). Places are addresses, landmarks or
-- "lat,lon"; the default is Seattle to Redmond. BING_MAPS_KEY and BING_BASE_URL as usual.
local bing = require "bing"

local out, size, use_path, places = "route_map.png", {800, 600}, false, {}
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "-o" then
      out, i = assert(arg[i + 1], "-o needs a file name"), i + 2
    elseif a == "--size" then
      local w, h = (arg[i + 1] or ""):match("^(%d+)x(%d+)$")
      if not w then
        io.stderr:write("--size takes WIDTHxHEIGHT, e.g. 800x600\n")
        os.exit(2)
      end
      size, i = {tonumber(w), tonumber(h)}, i + 2
    elseif a == "--path" then
      use_path, i = true, i + 1
    else
      places[#places + 1], i = a, i + 1
    end
  end
end
if #places == 0 then places = {"Seattle, WA", "Redmond, WA"} end
if #places < 2 then
  io.stderr:write("usage: lua5.4 examples/route_map.lua [-o map.png] [--size WxH] [--path] "
    .. "PLACE PLACE [PLACE...]\n")
  os.exit(2)
end

-- "lat,lon" is a point; anything else a place for the service to geocode.
local stops = {}
for i, p in ipairs(places) do
  local lat, lon = p:match("^%s*(%-?[%d.]+)%s*,%s*(%-?[%d.]+)%s*$")
  stops[i] = lat and {tonumber(lat), tonumber(lon)} or p
end

local client = bing.new{key = os.getenv "BING_MAPS_KEY", base_url = os.getenv "BING_BASE_URL"}

local function check(v, err)
  if v == nil then
    io.stderr:write("error: ", tostring(err), "\n")
    os.exit(1)
  end
  return v
end

-- A stop's label on the map: A, B, C, ... (labels have up to three characters).
local function label(i) return string.char(64 + (i - 1) % 26 + 1) end

-- Google's encoded polyline (get-a-static-map.md's drawCurve "enc:" form), 5 decimals.
local function encode_polyline(points)
  local parts, plat, plon = {}, 0, 0
  local function put(delta)
    local v = delta < 0 and -2 * delta - 1 or 2 * delta
    while v >= 32 do
      parts[#parts + 1] = string.char(v % 32 + 32 + 63)
      v = math.floor(v / 32)
    end
    parts[#parts + 1] = string.char(v + 63)
  end
  for _, p in ipairs(points) do
    local lat, lon = math.floor(p[1] * 1e5 + 0.5), math.floor(p[2] * 1e5 + 0.5)
    put(lat - plat)
    put(lon - plon)
    plat, plon = lat, lon
  end
  return table.concat(parts)
end

-- At most `n` points of a path, evenly picked, the ends kept: the drawCurve value rides in
-- the URL, which the service takes up to 2,083 characters.
local function thin(path, n)
  if #path <= n then return path end
  local outp = {}
  for k = 0, n - 1 do outp[#outp + 1] = path[1 + math.floor(k * (#path - 1) / (n - 1) + 0.5)] end
  return outp
end

local img
if not use_path then
  local wps = {}
  for i, s in ipairs(stops) do
    wps[i] = type(s) == "string" and {query = s, label = label(i)} or {point = s, label = label(i)}
  end
  img = check(client.imagery.static_map{imagerySet = "Road", mapSize = size, format = "png",
    route = {waypoints = wps, travelMode = "Driving"}})
else
  local routes = check(client.routes.calc{waypoints = stops, routeAttributes = "routePath"})
  local route = routes[1]
  local path = check(route:path())
  local s, w, n, e = 90, 180, -90, -180
  for _, p in ipairs(path) do
    s, n = math.min(s, p[1]), math.max(n, p[1])
    w, e = math.min(w, p[2]), math.max(e, p[2])
  end
  -- A margin of a tenth around the route (at least about 100 m) so the pins fit.
  local dy, dx = math.max((n - s) / 10, 0.001), math.max((e - w) / 10, 0.001)
  local pins = {}
  local legs = route.routeLegs or {}
  for i = 1, #stops do
    -- Where the route starts each leg (and ends the last): the stops as the service placed them.
    local leg = legs[math.min(i, #legs)] or {}
    local at = i <= #legs and leg.actualStart or leg.actualEnd
    local c = type(at) == "table" and at.coordinates or path[i == 1 and 1 or #path]
    pins[i] = {c[1], c[2], iconStyle = i == 1 and 16 or 7, label = label(i)}
  end
  print(string.format("route: %.1f km, %d min, %d path points (drawn with %d)", route.travelDistance,
    math.floor(route.travelDuration / 60 + 0.5), #path, math.min(#path, 120)))
  img = check(client.imagery.static_map{imagerySet = "Road", mapSize = size, format = "png",
    mapArea = {math.max(s - dy, -85), math.max(w - dx, -180), math.min(n + dy, 85), math.min(e + dx, 180)},
    pushpins = pins, drawCurve = "l,FF0050C8,4;enc:" .. encode_polyline(thin(path, 120))})
end

check(img:save(out))
print(string.format("%s: %dx%d %s, %d bytes", out, img.width, img.height, img.content_type, #img.bytes))
local usage = client:usage()
local cats = {}
for name, row in pairs(usage.categories) do
  cats[#cats + 1] = string.format("%s %d", name, row.billable + row.non_billable)
end
table.sort(cats)
print("transactions: " .. table.concat(cats, ", "))
