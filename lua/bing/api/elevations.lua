--- Elevations (rest-services/elevations/get-elevations.md): heights in metres.
--
--     local e = assert(client.elevations.list{points = {{35.89431, -110.72522}, {35.89393,
--                                                        -110.72578}}, heights = "ellipsoid"})
--     print(e.zoomLevel, e.elevations[1])
--     for i, p, h in e:pairs() do print(p[1], p[2], h) end
--
-- `list` returns one `Elevations` object with Bing's fields (`elevations`, `zoomLevel`) and
-- `points` (the points asked for, as {lat, lon}), or nil, err. Points are sent as a plain
-- list; a URL past the service's limit goes as a POST (the reference's "Use HTTP POST").
-- @module bing.api.elevations
local check = require "bing.check"
local endpoint = require "bing.endpoint"

local _M = {}

-- get-elevations.md: "the maximum number of points is 1024"; "latitude coordinates outside
-- of the range of -85 and 85 are not supported".
local MAX_POINTS, MAX_LAT = 1024, 85

-- points = {{lat, lon}, ...} -> "lat1,lon1,lat2,lon2,..." (the template's plain list), or
-- nil, err. The point compression of bing.points (point-compression-algorithm.md, a shorter
-- URL for up to about 400 points) plugs in here: its string instead of the plain list.
local function points(what, name, list)
  local pts, err = check.points(what, name, list)
  if not pts then return nil, err end
  if #pts == 0 then return check.bad(what, "%s is empty", name) end
  if #pts > MAX_POINTS then
    return check.bad(what, "at most %d %s, got %d", MAX_POINTS, name, #pts)
  end
  local out = {}
  for i, p in ipairs(pts) do
    if p.lat < -MAX_LAT or p.lat > MAX_LAT then
      return check.bad(what, "%s[%d] latitude must be within [-85, 85] (no elevation data "
        .. "beyond), got %s", name, i, tostring(p.lat))
    end
    out[i] = p.text
  end
  return table.concat(out, ",")
end

local Elevations = {}
Elevations.__index = Elevations
_M.Elevations = Elevations

--- Iterates over the points asked for with their elevations: `for i, point, metres in
-- e:pairs()` (point is {lat, lon}).
function Elevations:pairs()
  local i = 0
  return function()
    i = i + 1
    if self.points[i] == nil then return nil end
    return i, self.points[i], self.elevations[i]
  end
end

local int = math.tointeger or function(x) return x end

local function elevations(doc, meta, call)
  local sets = type(doc) == "table" and doc.resourceSets
  local r = type(sets) == "table" and type(sets[1]) == "table" and sets[1].resources
  r = type(r) == "table" and type(r[1]) == "table" and r[1] or {}
  local hs = type(r.elevations) == "table" and r.elevations or {}
  for i, h in ipairs(hs) do hs[i] = int(h) or h end
  r.elevations = hs
  r.zoomLevel = type(r.zoomLevel) == "number" and int(r.zoomLevel) or r.zoomLevel
  r.points = {}
  for i, p in ipairs(call.args.points) do r.points[i] = {check.latlon(p)} end
  r.meta = meta
  return setmetatable(r, Elevations)
end

-- Polyline, Bounds and SeaLevel are the same shape: a declaration each beside this one.
_M.list = {
  path = "/REST/v1/Elevation/List", billing = "RESTElevations", result = elevations,
  params = {{"points", points, required = true},
            {"heights", check.one_of{"sealevel", "ellipsoid"}}},
  options = {"method"},
  -- get-elevations.md, "Use HTTP POST": the points in a text body, the rest in the query.
  post = {
    body = function(call) return "points=" .. call.values.points end,
    headers = {["Content-Type"] = "text/plain; charset=utf-8"},
    query = {"heights"},
  },
}

return endpoint.family("elevations", _M)
