-- Elevations (rest-services/elevations/get-elevations.md).
--
--   GET  /REST/v1/Elevation/List?points=lat1,lon1,...&heights=sealevel|ellipsoid   RESTElevations
--   GET  /REST/v1/Elevation/Polyline?points=...&heights=&samples=n                 RESTElevations
--   GET  /REST/v1/Elevation/Bounds?bounds=s,w,n,e&rows=r&cols=c&heights=           RESTElevations
--   GET  /REST/v1/Elevation/SeaLevel?points=...                                    RESTElevations
--   POST any of List, Polyline, SeaLevel with the body "points=..." (text/plain), the other
--        parameters in the query ("You can use HTTP POST protocol to make any request that
--        takes the points parameter")
--
-- Parameters (names case-insensitive): points/pts (required; the plain list of coordinates or
-- the compressed string of point-compression-algorithm.md, in the query or the POST body),
-- heights/hts (sealevel, the default, or ellipsoid; not a parameter of SeaLevel),
-- samples/samp, bounds, rows, cols. Limits answered with the documented 400: no points, an
-- odd count, a string that neither parses nor decompresses, more than 1024 points (List,
-- SeaLevel), a latitude beyond [-85, 85], an unknown heights value; samples not an integer
-- from 1 to 1024; a polyline of fewer than 2 points (a path has two ends: our choice, the
-- reference is silent); bounds not four numbers with south <= north, west <= east, within
-- [-85, 85] x [-180, 180]; rows or cols not an integer >= 2, rows * cols > 1024.
--
-- The data is a model (documented in sim/README.md): `_M.sealevel(lat, lon)` is a smooth
-- function of the position, 0 at sea (where the function is below 0), and the ellipsoid height
-- adds a smooth geoid offset `_M.geoid(lat, lon)`; SeaLevel answers that offset (geoid minus
-- ellipsoid: the reference's -23 m in Arizona is an ellipsoid height 23 m below the sea-level
-- one). Answers are one ElevationData (SeaLevelData) resource, integers in metres, zoomLevel
-- 14 (the reference's example) for every endpoint. Polyline samples are placed as the library
-- places them (`_M.samples`: great-circle lengths, linear within a segment); the Bounds grid
-- starts south-west and goes west to east, then south to north (the reference's diagram).
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local recog = require "bingsim.recog"
local compression = require "bingsim.geodata"

local _M = {_VERSION = "0.1.0"}

_M.MAX_POINTS, _M.MAX_SAMPLES, _M.MAX_LAT, _M.ZOOM = 1024, 1024, 85, 14

local rad, sin, cos, floor = math.rad, math.sin, math.cos, math.floor

local function round(x) return floor(x + 0.5) end

--- Height above sea level (metres) of the model at lat, lon: hills of up to about 2,000 m
-- where the function is positive, sea (0) where it is not.
function _M.sealevel(lat, lon)
  local h = 900 * sin(rad(lat) * 7) * cos(rad(lon) * 5) + 600 * sin(rad(lon - lat) * 11) + 300
  return h > 0 and round(h) or 0
end

--- The geoid's offset from the ellipsoid (metres) at lat, lon: a smooth -40..40 m.
function _M.geoid(lat, lon)
  return round(40 * sin(rad(lat) * 2) * cos(rad(lon)))
end

local RESOURCE_MT = {__order = {"__type", "elevations", "offsets", "zoomLevel"}}
local ELEVATION_TYPE = envelope.type_of("ElevationData")
local SEALEVEL_TYPE = envelope.type_of("SeaLevelData")

function _M.classify() return {category = "RESTElevations", transactions = 1} end

-- The points parameter -> a list of {lat, lon}, or nil, a 400 answer. `max`: the most points
-- the endpoint takes (nil: no limit).
local function parse_points(req, text, max)
  if text == nil or text:match("^%s*$") then
    return nil, envelope.invalid(req, "points", envelope.MISSING)
  end
  local pts
  if not text:find(",", 1, true) and text:match("^%s*[A-Za-z0-9_%-]+%s*$") then
    -- The compressed form (a plain list always holds a comma).
    pts = compression.decode(text:match("^%s*(.-)%s*$"))
    if not pts or #pts == 0 then return nil, envelope.invalid(req, "points", envelope.NOT_VALID) end
  else
    local n = recog.parse_numbers(text)
    if not n or #n % 2 ~= 0 then return nil, envelope.invalid(req, "points", envelope.NOT_VALID) end
    pts = {}
    for i = 1, #n, 2 do pts[#pts + 1] = {n[i], n[i + 1]} end
  end
  for _, p in ipairs(pts) do
    local lat, lon = p[1], p[2]
    if lat < -_M.MAX_LAT or lat > _M.MAX_LAT or lon < -180 or lon > 180 then
      return nil, envelope.invalid(req, "points")
    end
  end
  if max and #pts > max then return nil, envelope.invalid(req, "points") end
  return pts
end

-- The points of a GET (query) or a POST (text body "points=..." or "pts=...").
local function points_text(req)
  if req.method == "POST" then
    local body = req.body or ""
    return body:match("^%s*[Pp][Oo]?[Ii]?[Nn]?[Tt][Ss]=(.-)%s*$")
  end
  return (req.param("points", "pts"))
end

-- heights -> "sealevel" | "ellipsoid", or nil, a 400 answer.
local function heights_of(req)
  local heights = (req.param("heights", "hts") or "sealevel"):lower()
  if heights ~= "sealevel" and heights ~= "ellipsoid" then
    return nil, envelope.invalid(req, "heights", envelope.NOT_VALID)
  end
  return heights
end

-- An integer parameter in [lo, hi], or nil, a 400 answer.
local function int_param(req, name, lo, hi, alias)
  local v
  if alias then v = req.param(name, alias) else v = req.param(name) end
  if v == nil or v == "" then return nil, envelope.invalid(req, name, envelope.MISSING) end
  local n = tonumber(v)
  if not n or n ~= floor(n) then return nil, envelope.invalid(req, name, envelope.NOT_VALID) end
  if n < lo or (hi and n > hi) then return nil, envelope.invalid(req, name) end
  return n
end

local function answer(req, field, values, type_)
  return envelope.success(req, {setmetatable({__type = type_ or ELEVATION_TYPE,
    [field] = json.array(values), zoomLevel = _M.ZOOM}, RESOURCE_MT)})
end

local function heights_at(pts, heights)
  local hs = {}
  for i, p in ipairs(pts) do
    hs[i] = _M.sealevel(p[1], p[2]) + (heights == "ellipsoid" and _M.geoid(p[1], p[2]) or 0)
  end
  return hs
end

local function list(req)
  local pts, bad = parse_points(req, points_text(req), _M.MAX_POINTS)
  if not pts then return bad end
  local heights, herr = heights_of(req)
  if not heights then return herr end
  return answer(req, "elevations", heights_at(pts, heights))
end

local function sealevel(req)
  local pts, bad = parse_points(req, points_text(req), _M.MAX_POINTS)
  if not pts then return bad end
  local offsets = {}
  for i, p in ipairs(pts) do offsets[i] = _M.geoid(p[1], p[2]) end
  return answer(req, "offsets", offsets, SEALEVEL_TYPE)
end

local asin, sqrt = math.asin, math.sqrt

local function dlon_of(a, b)
  local d = b - a
  if d > 180 then d = d - 360 elseif d < -180 then d = d + 360 end
  return d
end

local function haversine(lat1, lon1, lat2, lon2)
  local dlat, dlon = rad(lat2 - lat1), rad(dlon_of(lon1, lon2))
  local h = sin(dlat / 2) ^ 2 + cos(rad(lat1)) * cos(rad(lat2)) * sin(dlon / 2) ^ 2
  return 2 * asin(math.min(1, sqrt(h)))
end

--- n points equally spaced along the path pts (great-circle lengths; linear within a
-- segment; the first on the first point, the last on the last).
function _M.samples(pts, n)
  local cum = {0}
  for i = 2, #pts do
    cum[i] = cum[i - 1] + haversine(pts[i - 1][1], pts[i - 1][2], pts[i][1], pts[i][2])
  end
  local total, out, j = cum[#pts], {}, 1
  for k = 0, n - 1 do
    if k == n - 1 and n > 1 then
      out[#out + 1] = {pts[#pts][1], pts[#pts][2]}
    else
      local d = n > 1 and total * k / (n - 1) or 0
      while j < #pts - 1 and cum[j + 1] < d do j = j + 1 end
      local a, b = pts[j], pts[j + 1]
      local seg = cum[j + 1] - cum[j]
      local t = seg > 0 and (d - cum[j]) / seg or 0
      local lon = a[2] + t * dlon_of(a[2], b[2])
      if lon > 180 then lon = lon - 360 elseif lon < -180 then lon = lon + 360 end
      out[#out + 1] = {a[1] + t * (b[1] - a[1]), lon}
    end
  end
  return out
end

local function polyline(req)
  local pts, bad = parse_points(req, points_text(req))
  if not pts then return bad end
  if #pts < 2 then return envelope.invalid(req, "points", envelope.NOT_VALID) end
  local heights, herr = heights_of(req)
  if not heights then return herr end
  local n, serr = int_param(req, "samples", 1, _M.MAX_SAMPLES, "samp")
  if not n then return serr end
  return answer(req, "elevations", heights_at(_M.samples(pts, n), heights))
end

local function bounds(req)
  local text = req.param("bounds")
  if text == nil or text == "" then return envelope.invalid(req, "bounds", envelope.MISSING) end
  local b = recog.parse_numbers(text)
  if not b or #b ~= 4 then return envelope.invalid(req, "bounds", envelope.NOT_VALID) end
  local s, w, n, e = b[1], b[2], b[3], b[4]
  if s > n or w > e or s < -_M.MAX_LAT or n > _M.MAX_LAT or w < -180 or e > 180 then
    return envelope.invalid(req, "bounds")
  end
  local rows, rerr = int_param(req, "rows", 2)
  if not rows then return rerr end
  local cols, cerr = int_param(req, "cols", 2)
  if not cols then return cerr end
  if rows * cols > _M.MAX_POINTS then return envelope.invalid(req, "rows") end
  local heights, herr = heights_of(req)
  if not heights then return herr end
  local grid = {}
  for r = 0, rows - 1 do
    local lat = r == rows - 1 and n or s + (n - s) * r / (rows - 1)
    for c = 0, cols - 1 do
      grid[#grid + 1] = {lat, c == cols - 1 and e or w + (e - w) * c / (cols - 1)}
    end
  end
  return answer(req, "elevations", heights_at(grid, heights))
end

local ENDPOINTS = {list = list, polyline = polyline, bounds = bounds, sealevel = sealevel}

function _M.handle(req)
  local rest = req.rest or {}
  local fn = #rest == 1 and ENDPOINTS[rest[1]:lower()]
  if not fn then return envelope.error(req, 404) end
  if req.method == "POST" and fn == bounds then return envelope.error(req, 404) end
  return fn(req)
end

return _M
