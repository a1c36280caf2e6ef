-- Elevations (rest-services/elevations/get-elevations.md).
--
--   GET  /REST/v1/Elevation/List?points=lat1,lon1,...&heights=sealevel|ellipsoid   RESTElevations
--   POST /REST/v1/Elevation/List with the body "points=lat1,lon1,..." (text/plain)
--
-- Parameters (names case-insensitive): points/pts (required; a plain list of coordinates: the
-- compressed form of point-compression-algorithm.md plugs in at `parse_points`), heights/hts
-- (sealevel, the default, or ellipsoid). Limits answered with the documented 400: no points,
-- an odd count, more than 1024, a latitude beyond [-85, 85], an unknown heights value.
--
-- The data is a model (documented in sim/README.md): `_M.sealevel(lat, lon)` is a smooth
-- function of the position, 0 at sea (where the function is below 0), and the ellipsoid height
-- adds a smooth geoid offset `_M.geoid(lat, lon)`. Answers are one ElevationData resource,
-- integers in metres, zoomLevel 14 (the reference's example), as the reference shapes them.
-- Polyline, Bounds and SeaLevel are rows of ENDPOINTS to add beside List.
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local recog = require "bingsim.recog"

local _M = {_VERSION = "0.1.0"}

_M.MAX_POINTS, _M.MAX_LAT, _M.ZOOM = 1024, 85, 14

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

local RESOURCE_MT = {__order = {"__type", "elevations", "zoomLevel"}}
local ELEVATION_TYPE = envelope.type_of("ElevationData")

function _M.classify() return {category = "RESTElevations", transactions = 1} end

-- The points parameter -> a list of {lat, lon}, or nil, a 400 answer.
local function parse_points(req, text)
  if text == nil or text:match("^%s*$") then
    return nil, envelope.invalid(req, "points", envelope.MISSING)
  end
  local n = recog.parse_numbers(text)
  if not n or #n % 2 ~= 0 then return nil, envelope.invalid(req, "points", envelope.NOT_VALID) end
  local pts = {}
  for i = 1, #n, 2 do
    local lat, lon = n[i], n[i + 1]
    if lat < -_M.MAX_LAT or lat > _M.MAX_LAT or lon < -180 or lon > 180 then
      return nil, envelope.invalid(req, "points")
    end
    pts[#pts + 1] = {lat, lon}
  end
  if #pts > _M.MAX_POINTS then return nil, envelope.invalid(req, "points") end
  return pts
end

-- The points of a GET (query) or a POST (text body "points=...").
local function points_text(req)
  if req.method == "POST" then
    local body = req.body or ""
    return body:match("^%s*[Pp][Oo]?[Ii]?[Nn]?[Tt][Ss]=(.-)%s*$")
  end
  return req.param("points", "pts")
end

local function list(req)
  local pts, bad = parse_points(req, points_text(req))
  if not pts then return bad end
  local heights = (req.param("heights", "hts") or "sealevel"):lower()
  if heights ~= "sealevel" and heights ~= "ellipsoid" then
    return envelope.invalid(req, "heights", envelope.NOT_VALID)
  end
  local hs = {}
  for i, p in ipairs(pts) do
    hs[i] = _M.sealevel(p[1], p[2]) + (heights == "ellipsoid" and _M.geoid(p[1], p[2]) or 0)
  end
  return envelope.success(req, {setmetatable({__type = ELEVATION_TYPE,
    elevations = json.array(hs), zoomLevel = _M.ZOOM}, RESOURCE_MT)})
end

local ENDPOINTS = {list = list}

function _M.handle(req)
  local rest = req.rest or {}
  local fn = #rest == 1 and ENDPOINTS[rest[1]:lower()]
  if not fn then return envelope.error(req, 404) end
  return fn(req)
end

return _M
