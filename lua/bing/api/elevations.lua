--- Elevations (rest-services/elevations/get-elevations.md): heights in metres.
--
--     local e = assert(client.elevations.list{points = {{35.89431, -110.72522}, {35.89393,
--                                                        -110.72578}}, heights = "ellipsoid"})
--     print(e.zoomLevel, e.elevations[1])
--     for i, p, h in e:pairs() do print(p[1], p[2], h) end
--     client.elevations.polyline{points = {{35.89431, -110.72522}, {35.89337, -110.72662}},
--                                samples = 10}
--     client.elevations.bounds{bounds = {50.995391, -1.320763, 51.000577, -1.311836},
--                              rows = 4, cols = 4}
--     client.elevations.sea_level{points = {{35.89431, -110.72522}}}   -- .offsets
--
-- Each returns one object with Bing's fields (`elevations`, or `offsets` for sea_level, and
-- `zoomLevel`), `points` (the point of each value, as {lat, lon}), `heights` (the model of the
-- elevations), `path` (polyline: the path asked for), `:pairs()` and `:geojson()`, or nil, err.
--
-- How points travel (get-elevations.md, point-compression-algorithm.md): the plain list
-- "lat1,lon1,..." when the URL fits the service's 2,083 characters; else the compressed
-- string of bing.points (about a quarter of the length); else a text POST of the plain list
-- ("You can use HTTP POST protocol to make any request that takes the points parameter").
-- `compress = true|false` forces or forbids the compression, `method = "GET"|"POST"` the
-- method. More than 1,024 points in `list` or `sea_level` are split into requests of at
-- most 1,024 (each one transaction), sent in order and merged; a budget refuses the whole
-- before anything is sent and a dry run shows every part.
-- @module bing.api.elevations
local check = require "bing.check"
local endpoint = require "bing.endpoint"
local bpoints = require "bing.points"
local gj = require "bing.geojson"
local errors = require "bing.errors"

local _M = {}

local bad = check.bad

-- get-elevations.md: "the maximum number of points is 1024" (List, SeaLevel); samples: "The
-- maximum number of samples is 1024"; bounds: "rows * cols <= 1024", each "two (2) or
-- greater"; "latitude coordinates outside of the range of -85 and 85 are not supported".
local MAX_POINTS, MAX_SAMPLES, MAX_GRID, MAX_LAT = 1024, 1024, 1024, 85
_M.MAX_POINTS = MAX_POINTS

local function lat_ok(what, name, lat)
  if lat < -MAX_LAT or lat > MAX_LAT then
    return bad(what, "%s latitude must be within [-85, 85] (no elevation data beyond), got %s",
      name, tostring(lat))
  end
  return true
end

-- points = {{lat, lon}, ...} (any form of check.latlon) -> the list of {lat=, lon=, text=},
-- or nil, err. The count is the plan's business (split, or a polyline of any length).
local function points(what, name, list)
  local pts, err = check.points(what, name, list)
  if not pts then return nil, err end
  if #pts == 0 then return bad(what, "%s is empty", name) end
  for i, p in ipairs(pts) do
    local ok, lerr = lat_ok(what, ("%s[%d]"):format(name, i), p.lat)
    if not ok then return nil, lerr end
  end
  return pts
end

local heights = check.one_of{"sealevel", "ellipsoid"}

-- bounds = {south, west, north, east} -> "s,w,n,e", or nil, err; call.box keeps the numbers.
local function bounds(what, name, b)
  local text, err = check.bbox(what, name, b)
  if not text then return nil, err end
  local s, w, n, e = b[1] or b.south, b[2] or b.west, b[3] or b.north, b[4] or b.east
  local ok, lerr = lat_ok(what, name .. " south", s)
  if ok then ok, lerr = lat_ok(what, name .. " north", n) end
  if not ok then return nil, lerr end
  -- The reference defines the grid from west to east and says nothing of a box across the
  -- antimeridian: such a box is two requests, one each side.
  if w > e then
    return bad(what, "%s west (%s) must not be east of east (%s): split a box across the "
      .. "antimeridian in two", name, tostring(w), tostring(e))
  end
  return text
end

--- The result of every elevation call: Bing's resource (`elevations` or `offsets`,
-- `zoomLevel`, `__type`) with `points` and `meta`.
local Elevations = {}
Elevations.__index = Elevations
_M.Elevations = Elevations

local function values_of(self)
  return self.elevations or self.offsets or {}
end

--- Iterates over the points with their values: `for i, point, metres in e:pairs()` (point is
-- {lat, lon}): the points asked for (list, sea_level), the grid's points in the documented
-- order (bounds: south-west first, west to east, then south to north), the sample points
-- along the path (polyline: the library's reckoning of "equally-spaced", see `samples_of`).
function Elevations:pairs()
  local i, vs, pts = 0, values_of(self), self.points or {}
  return function()
    i = i + 1
    if pts[i] == nil or vs[i] == nil then return nil end
    return i, pts[i], vs[i]
  end
end

--- A GeoJSON FeatureCollection: a Point (lon, lat) per value, with `elevation` (or `offset`
-- for sea_level) in metres, its 1-based `index`, `zoomLevel` and `heights` (the Earth model)
-- as properties. With `{line = true}`: one LineString with the metres as each position's
-- third value (a profile, for a polyline), and the same properties but the value.
function Elevations:geojson(opts)
  local prop = self.offsets and not self.elevations and "offset" or "elevation"
  local common = {zoomLevel = self.zoomLevel, heights = self.heights}
  if type(opts) == "table" and opts.line then
    local pts, zs = {}, {}
    for i, p, v in self:pairs() do pts[i], zs[i] = p, v end
    local line = gj.line(pts, zs)
    return gj.collection(line and {gj.feature(line, common)} or {})
  end
  local features = {}
  for i, p, v in self:pairs() do
    features[i] = gj.feature(gj.point(p[1], p[2]), {[prop] = v, index = i,
      zoomLevel = common.zoomLevel, heights = common.heights})
  end
  return gj.collection(features)
end

local int = math.tointeger or function(x) return x end

local function ints(list)
  local out = {}
  for i, v in ipairs(type(list) == "table" and list or {}) do
    out[i] = type(v) == "number" and int(v) or tonumber(v) or v
  end
  return out
end

local function resource(doc)
  local sets = type(doc) == "table" and doc.resourceSets
  local r = type(sets) == "table" and type(sets[1]) == "table" and sets[1].resources
  return type(r) == "table" and type(r[1]) == "table" and r[1] or {}
end

-- A 200 without the values asked for is not "no data": an object without values would pair
-- nothing (or the wrong points) silently. `decode` error, billed as the meter saw it.
local function undecodable(call, meta, f, ...)
  return nil, errors.new("decode", call.what .. ": " .. f:format(...),
    {meta = meta, billing = meta and meta.billing, retryable = false})
end

local function has_resource(doc)
  local sets = type(doc) == "table" and doc.resourceSets
  local r = type(sets) == "table" and type(sets[1]) == "table" and sets[1].resources
  return type(r) == "table" and type(r[1]) == "table"
end

-- The values of a list or sea_level answer: one per point asked.
local function one_per_point(call, e, field, n, meta)
  local got = type(e[field]) == "table" and #e[field] or 0
  if got ~= n then
    return undecodable(call, meta, "the answer holds %d value(s) of %s for %d point(s)", got,
      field, n)
  end
  return e
end

local function zoom(z)
  if type(z) == "string" then z = tonumber(z) end
  return type(z) == "number" and int(z) or z
end

-- `heights`: the Earth model of the values ("sealevel", the service's default, or
-- "ellipsoid"), kept beside them; sea_level's offsets have none.
local function wrap(r, field, pts, meta, call)
  -- A JSON null (cjson.null, a userdata) is nil for a Lua user: "elevations": null beside
  -- the offsets would otherwise be taken for the list of values.
  for k, v in pairs(r) do
    if type(v) == "userdata" then r[k] = nil end
  end
  r[field] = ints(r[field])
  if field == "elevations" and call then r.heights = call.values.heights or "sealevel" end
  r.zoomLevel = zoom(r.zoomLevel)
  r.points, r.meta = pts, meta
  return setmetatable(r, Elevations)
end

local function latlons(list)
  local out = {}
  for i, p in ipairs(list) do out[i] = {p.lat, p.lon} end
  return out
end

-- The spec of one request with the points `chunk` ({lat=, lon=, text=} each): plain GET,
-- compressed GET, or a POST, as the module's header says.
local function chunk_spec(call, chunk)
  local v, want, compress = call.values, call.method, call.args.compress
  local plain, packed
  do
    local t = {}
    for i, p in ipairs(chunk) do t[i] = p.text end
    plain = table.concat(t, ",")
  end
  local function build(text, method)
    v.points, call.method = text, method
    return endpoint.spec(call)
  end
  if compress == true then packed = bpoints.encode(latlons(chunk)) end
  local spec
  if want == "POST" then
    spec = build(packed or plain, "POST")
  else
    spec = build(packed or plain, "GET")
    if compress == nil and endpoint.too_long(call.client, spec) then
      packed = bpoints.encode(latlons(chunk))
      spec = build(packed, "GET")
    end
    -- The POST body carries the plain list, exact to the 7 decimals asked (the reference's
    -- POST example), unless the caller asked for compression.
    if want == nil and endpoint.too_long(call.client, spec) then
      spec = build(compress == true and packed or plain, "POST")
    end
  end
  call.method = want
  return spec
end

local function all_points(call)
  return latlons(call.values.points)
end

-- list and sea_level: one request per 1,024 points, merged in order.
local function split_plan(field)
  return function(call)
    local pts, specs = call.values.points, {}
    for first = 1, #pts, MAX_POINTS do
      local chunk = {}
      for i = first, math.min(first + MAX_POINTS - 1, #pts) do chunk[#chunk + 1] = pts[i] end
      specs[#specs + 1] = chunk_spec(call, chunk)
    end
    call.values.points = pts
    local asked = all_points(call)
    return {
      specs = specs,
      result = function(doc, meta)
        if not has_resource(doc) then
          return undecodable(call, meta, "the answer holds no %s resource", field)
        end
        return one_per_point(call, wrap(resource(doc), field, asked, meta, call), field, #asked, meta)
      end,
      extra = {points = #pts},
      merge = function(results, meta)
        -- One object as if one request had answered: the values in order; zoomLevel the
        -- lowest of the parts (the coarsest data used), each part's in `zoomLevels`.
        local first = resource(results[1].doc)
        local merged = {__type = first.__type, zoomLevels = {}}
        local values = {}
        for i, r in ipairs(results) do
          if not has_resource(r.doc) then
            return undecodable(call, meta, "part %d of %d: the answer holds no %s resource", i,
              #results, field)
          end
          local res = resource(r.doc)
          for _, x in ipairs(ints(res[field])) do values[#values + 1] = x end
          local z = zoom(res.zoomLevel)
          merged.zoomLevels[i] = z
          if type(z) == "number" and (merged.zoomLevel == nil or z < merged.zoomLevel) then
            merged.zoomLevel = z
          end
        end
        merged[field] = values
        return one_per_point(call, wrap(merged, field, asked, meta, call), field, #asked, meta)
      end,
    }
  end
end

-- Samples equally spaced along the path: the great-circle length of each segment (haversine),
-- positions interpolated linearly within a segment, the last sample on the last point. Bing
-- does not say how it measures; this is where the values of `:pairs()` are placed.
local rad, sin, cos, asin, sqrt = math.rad, math.sin, math.cos, math.asin, math.sqrt

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

local function samples_of(pts, n)
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
      local a, b = pts[j], pts[j + 1] or pts[j]
      local seg = (cum[j + 1] or cum[j]) - cum[j]
      local t = seg > 0 and (d - cum[j]) / seg or 0
      local lon = a[2] + t * dlon_of(a[2], b[2])
      if lon > 180 then lon = lon - 360 elseif lon < -180 then lon = lon + 360 end
      out[#out + 1] = {a[1] + t * (b[1] - a[1]), lon}
    end
  end
  return out
end

-- The grid of bounds: rows x cols points, south-west first, west to east, south to north.
local function grid_of(s, w, n, e, rows, cols)
  local out = {}
  for r = 0, rows - 1 do
    -- The last row and column exactly on the box's edges.
    local lat = r == rows - 1 and n or s + (n - s) * r / (rows - 1)
    for c = 0, cols - 1 do
      out[#out + 1] = {lat, c == cols - 1 and e or w + (e - w) * c / (cols - 1)}
    end
  end
  return out
end

local POST = {
  body = function(call) return "points=" .. call.values.points end,
  headers = {["Content-Type"] = "text/plain; charset=utf-8"},
}
local function post_form(query)
  return {body = POST.body, headers = POST.headers, query = query}
end

local OWN = {"method", "compress"}

local function own(call)
  check.typed(call.what, "compress", call.args.compress, "boolean")
end

_M.list = {
  path = "/REST/v1/Elevation/List", billing = "RESTElevations",
  params = {{"points", points, required = true, alias = "pts"},
            {"heights", heights, alias = "hts"}},
  options = OWN, before = own,
  -- get-elevations.md, "Use HTTP POST": the points in a text body, the rest in the query.
  post = post_form{"heights"},
  plan = split_plan("elevations"),
}

_M.sea_level = {
  path = "/REST/v1/Elevation/SeaLevel", billing = "RESTElevations",
  params = {{"points", points, required = true, alias = "pts"}},
  options = OWN, before = own,
  post = post_form{},
  plan = split_plan("offsets"),
}

_M.polyline = {
  path = "/REST/v1/Elevation/Polyline", billing = "RESTElevations",
  params = {{"points", points, required = true, alias = "pts"},
            {"heights", heights, alias = "hts"},
            {"samples", check.int(1, MAX_SAMPLES), required = true, alias = "samp"}},
  options = OWN, before = own,
  post = post_form{"heights", "samples"},
  plan = function(call)
    local pts = call.values.points
    -- "A polyline path is computed from the coordinates": a path has two ends. The count of
    -- path points has no documented limit (the 1,024 is of the points of List and SeaLevel).
    if #pts < 2 then return bad(call.what, "points needs at least 2 points for a path, got %d", #pts) end
    local path = latlons(pts)
    local spec = chunk_spec(call, pts)
    call.values.points = pts
    return {specs = {spec}, result = function(doc, meta)
      if not has_resource(doc) then
        return undecodable(call, meta, "the answer holds no elevations resource")
      end
      local r = resource(doc)
      local n = type(r.elevations) == "table" and #r.elevations or call.values.samples
      local e = wrap(r, "elevations", samples_of(path, n), meta, call)
      e.path = path -- the path asked for; `points` are the samples along it
      return e
    end}
  end,
}

_M.bounds = {
  path = "/REST/v1/Elevation/Bounds", billing = "RESTElevations",
  params = {{"bounds", bounds, required = true},
            {"rows", check.int(2, 512), required = true},
            {"cols", check.int(2, 512), required = true},
            {"heights", heights, alias = "hts"}},
  rules = function(call)
    local v = call.values
    if v.rows * v.cols > MAX_GRID then
      return bad(call.what, "rows * cols must be at most %d, got %d x %d = %d", MAX_GRID, v.rows,
        v.cols, v.rows * v.cols)
    end
  end,
  result = function(doc, meta, call)
    if not has_resource(doc) then
      return undecodable(call, meta, "the answer holds no elevations resource")
    end
    local b, v = call.args.bounds, call.values
    local s, w, n, e = b[1] or b.south, b[2] or b.west, b[3] or b.north, b[4] or b.east
    return wrap(resource(doc), "elevations", grid_of(s, w, n, e, v.rows, v.cols), meta, call)
  end,
}

return endpoint.family("elevations", _M)
