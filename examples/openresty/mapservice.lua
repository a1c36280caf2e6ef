-- The map service of the OpenResty example, beside geocode.lua (whose clients it uses):
--   GET /route?wp=A&wp=B[&wp=C...]         GeoJSON FeatureCollection: Route:geojson()'s route
--       [&travelMode=Driving|Walking]      line, one LineString per leg and the maneuver
--       [&avoid=...][&distanceUnit=km|mi]  points, then the waypoints as Points (A, B, ...)
--   GET /isochrone?wp=A&maxTime=10[&timeUnit=minute]   GeoJSON FeatureCollection: the area
--       or &maxDistance=5[&distanceUnit=km]            (Isochrone:geojson(), a Polygon or a
--                                                      MultiPolygon) and its origin (Point)
--   GET /tiles-template[?set=Road][&culture=en-US]     {template, subdomains, zoomMin, ...}:
--       the imagery metadata's tile URL template (client.imagery.metadata), for a web map
--       (www/app.js), which fills {subdomain} and {quadkey} as :tile_url does
-- A waypoint is "lat,lon" or an address / landmark. Errors answer as geocode.lua's do:
-- {"error": {kind, message, ...}} with 400 (bad or missing arguments: the library's own
-- checks, nothing sent), 404 (no route), 504 (timeout) or 502 (anything else).
-- The Bing key never reaches the browser: tile URLs are keyless (as Bing's own are), and
-- every answer is built from the library's results, not passed through.
local bing = require "bing"
local cjson = require "cjson.safe"
local geo = require "bing.geojson"
local geocode = require "geocode"

local _M = {}

-- Bing's metadata terms ask clients to fetch the template at the start of a session, not
-- per tile; the template of a set does not change while a service runs. One metadata
-- request per worker, set and scheme every TEMPLATE_TTL seconds (the culture is filled in per
-- request: a caller cannot make the service spend a billable request per culture code).
local TEMPLATE_TTL = 3600
local templates = {}

-- The sets whose tiles are plain 256x256 quadkey tiles (Birdseye and Streetside need a
-- centre point and have no quadkey template).
local TILE_SETS = {
  Road = true, Aerial = true, AerialWithLabels = true, AerialWithLabelsOnDemand = true,
  RoadOnDemand = true, CanvasDark = true, CanvasLight = true, CanvasGray = true,
}

local function answer(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Cache-Control"] = "no-store"
  ngx.say(cjson.encode(t))
  return ngx.exit(status)
end

-- GeoJSON through bing.geojson's encoder: numbers exact (cjson keeps 14 digits), empty
-- arrays as []. Bing's trace id of the call in a header (for support requests).
local function answer_geojson(gj, meta)
  ngx.status = 200
  ngx.header["Content-Type"] = "application/geo+json"
  ngx.header["Cache-Control"] = "no-store"
  ngx.header["X-Bing-Trace-Id"] = meta and meta.trace_id
  ngx.say(geo.encode(gj))
  return ngx.exit(200)
end

local function refuse(message)
  return answer(400, {error = {kind = "argument", message = message}})
end

local function failure(err, what)
  local status = 502
  if err.kind == "timeout" then status = 504 end
  if err.kind == "argument" then status = 400 end
  if err.kind == "not_found" then status = 404 end
  -- tostring(err) is redacted: the URL in it says key=<redacted>.
  ngx.log(err.kind == "argument" and ngx.INFO or ngx.ERR, what, ": ", tostring(err))
  return answer(status, {error = {kind = err.kind, code = err.code, status = err.status,
                                  message = err.message, retryable = err.retryable,
                                  attempts = err.attempts}})
end

-- Runs fn(args) for a family call: a programmer error raised by the library (a wrong type,
-- a value it refuses by raising) becomes an argument error instead of a 500.
local function call(fn, args)
  local ok, res, err = pcall(fn, args)
  if not ok then
    if bing.errors.is_error(res) then return nil, res end
    return nil, bing.errors.new("argument", tostring(res))
  end
  return res, err
end

local function client_of(name)
  return geocode.client(name)
end

local function no_client()
  return answer(500, {error = {kind = "config", message = "geocode.init was not called"}})
end

-- Every value of a query argument as a list (?wp=a&wp=b, ?wp=a, ?wp without a value: none).
local function list_arg(args, name)
  local v = args[name]
  if type(v) == "string" then return {v} end
  local out = {}
  if type(v) == "table" then
    for _, x in ipairs(v) do
      if type(x) == "string" then out[#out + 1] = x end
    end
  end
  return out
end

local function one_arg(args, name)
  local v = args[name]
  if type(v) == "table" then v = v[1] end
  if type(v) ~= "string" or v == "" then return nil end
  return v
end

-- "47.6,-122.3" -> {47.6, -122.3}; anything else is an address for Bing to resolve. The
-- library checks the ranges.
local function waypoint(s)
  local lat, lon = s:match("^%s*([-+]?%d+%.?%d*)%s*,%s*([-+]?%d+%.?%d*)%s*$")
  if lat then return {tonumber(lat), tonumber(lon)} end
  return s
end

local function number_arg(args, name)
  local s = one_arg(args, name)
  if s == nil then return nil end
  local n = tonumber(s)
  if not n or n ~= n or n == math.huge or n == -math.huge then
    return nil, name .. " must be a number, got '" .. s .. "'"
  end
  return n
end

local LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

local function label(i)
  if i <= #LABELS then return LABELS:sub(i, i) end
  return tostring(i)
end

local function point_of(p)
  local c = type(p) == "table" and p.coordinates
  return type(c) == "table" and geo.point(c[1], c[2]) or nil
end

local function name_of(loc)
  return type(loc) == "table" and type(loc.name) == "string" and loc.name or nil
end

-- Route:geojson() (the route line, its legs, its maneuvers) and the waypoints where the
-- route starts and each leg ends (kind "waypoint", labelled A, B, ... as Bing's own maps
-- label them), for a map to draw as markers.
local function route_collection(route)
  local gj = route:geojson()
  local n = 0
  for i, leg in ipairs(route:legs()) do
    if i == 1 then
      n = n + 1
      gj.features[#gj.features + 1] = geo.feature(point_of(leg.actualStart),
        {kind = "waypoint", label = label(n), name = name_of(leg.startLocation)})
    end
    n = n + 1
    gj.features[#gj.features + 1] = geo.feature(point_of(leg.actualEnd),
      {kind = "waypoint", label = label(n), name = name_of(leg.endLocation)})
  end
  return gj
end

--- GET /route?wp=A&wp=B...: the first route, as a GeoJSON FeatureCollection.
function _M.route(name)
  local client = client_of(name)
  if not client then return no_client() end
  local args = ngx.req.get_uri_args()
  local wps = list_arg(args, "wp")
  if #wps < 2 then
    return refuse("give at least two waypoints, e.g. /route?wp=Space%20Needle&wp=47.64,-122.13")
  end
  for i, w in ipairs(wps) do wps[i] = waypoint(w) end
  local routes, err = call(client.routes.calc, {
    waypoints = wps, routeAttributes = "routePath",
    travelMode = one_arg(args, "travelMode"), avoid = one_arg(args, "avoid"),
    distanceUnit = one_arg(args, "distanceUnit"),
  })
  if not routes then return failure(err, "route") end
  if not routes[1] then
    return answer(404, {error = {kind = "not_found", message = "no route between the waypoints"}})
  end
  return answer_geojson(route_collection(routes[1]), routes.meta)
end

--- GET /isochrone?wp=A&maxTime=...: the area reachable from A, as a FeatureCollection.
function _M.isochrone(name)
  local client = client_of(name)
  if not client then return no_client() end
  local args = ngx.req.get_uri_args()
  local wp = one_arg(args, "wp")
  if not wp then return refuse("give wp, e.g. /isochrone?wp=47.62,-122.35&maxTime=10&timeUnit=minute") end
  local max_time, terr = number_arg(args, "maxTime")
  if terr then return refuse(terr) end
  local max_distance, derr = number_arg(args, "maxDistance")
  if derr then return refuse(derr) end
  if not max_time and not max_distance then return refuse("give maxTime or maxDistance") end
  local iso, err = call(client.routes.isochrone, {
    waypoint = waypoint(wp), maxTime = max_time, timeUnit = one_arg(args, "timeUnit"),
    maxDistance = max_distance, distanceUnit = one_arg(args, "distanceUnit"),
    optimize = one_arg(args, "optimize"),
    -- Past 30 minutes or 24 km the library runs Bing's asynchronous job and waits for it
    -- (with ngx.sleep: the worker serves others meanwhile); a web request waits a minute.
    job_timeout = 60,
  })
  if not iso then return failure(err, "isochrone") end
  local area = iso:geojson()
  area.properties.kind = "isochrone"
  area.properties.maxTime, area.properties.maxDistance = max_time, max_distance
  local features = {area}
  local o = area.properties.origin
  if type(o) == "table" then
    features[2] = geo.feature(geo.point(o.latitude, o.longitude), {kind = "origin"})
  end
  return answer_geojson(geo.collection(features), iso.meta)
end

--- GET /tiles-template?set=Road&culture=en-US: the set's tile URL template, with
-- {subdomain} and {quadkey} left for the map, {culture} filled in.
function _M.tiles_template(name)
  local client = client_of(name)
  if not client then return no_client() end
  local args = ngx.req.get_uri_args()
  local set = one_arg(args, "set") or "Road"
  if not TILE_SETS[set] then return refuse("set: not a quadkey tile set: " .. set) end
  local culture = one_arg(args, "culture") or "en-US"
  if not culture:match("^%a%a%a?[%-%w]*$") or #culture > 16 then
    return refuse("culture: not a culture code: " .. culture)
  end
  -- A page served over HTTPS needs HTTPS tiles (no mixed content).
  local scheme = ngx.var.scheme == "https" and "https" or "http"
  local id = set .. "|" .. scheme
  local now = ngx.now()
  local t = templates[id]
  if not t or t.expires < now then
    -- No centre point: the template of every tile of the set.
    local list, err = call(client.imagery.metadata, {imagerySet = set, uriScheme = scheme})
    if not list then return failure(err, "tiles-template") end
    local m = list[1]
    local url = m and m.imageUrl
    if type(url) ~= "string" or not url:find("{quadkey}", 1, true) then
      return answer(502, {error = {kind = "decode", message = "the imagery metadata has no tile template"}})
    end
    local subs = {}
    for _, s in ipairs(type(m.imageUrlSubdomains) == "table" and m.imageUrlSubdomains or {}) do
      if type(s) == "string" then subs[#subs + 1] = s end
    end
    t = {
      set = set,
      template = url,
      subdomains = #subs > 0 and subs or cjson.null, -- (an empty table would encode as {})
      zoomMin = m.zoomMin, zoomMax = m.zoomMax, tileSize = m.imageWidth,
      -- Bing's attribution is its copyright line and logo.
      copyright = list.meta and list.meta.copyright,
      brandLogoUri = list.meta and list.meta.brand_logo_uri,
      expires = now + TEMPLATE_TTL,
    }
    templates[id] = t
  end
  -- A function as the replacement: a culture is letters and dashes, but no % is read.
  local template = t.template:gsub("{culture}", function() return culture end)
  return answer(200, {set = t.set, template = template, subdomains = t.subdomains,
                      zoomMin = t.zoomMin, zoomMax = t.zoomMax, tileSize = t.tileSize,
                      copyright = t.copyright, brandLogoUri = t.brandLogoUri})
end

return _M
