--- GeoJSON (RFC 7946) for every result that has geometry: the pieces the result types build
-- their `:geojson()` from, an encoder whose numbers stay exact, and a structural check.
--
--     local gj = routes[1]:geojson()            -- a FeatureCollection (a Lua table)
--     assert(bing.geojson.validate(gj))
--     io.open("route.geojson", "w"):write(bing.geojson.encode(gj))
--
-- What every `:geojson()` of the library follows: coordinates are [lon, lat] (Bing's are
-- [lat, lon]); Bing's own fields are the properties, under Bing's names; a `bbox` where Bing
-- gives one (Bing's [south, west, north, east] turned into [west, south, east, north]); a
-- FeatureCollection for a list; a feature without a location has `"geometry": null`; polygon
-- rings are closed, exteriors counter-clockwise and holes clockwise (RFC 7946 §3.1.6);
-- integers beyond 2^53 (ids) are strings of digits, since JavaScript's numbers and
-- lua-cjson's encoder (14 significant digits) would round them.
-- @module bing.geojson
local _M = {}

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local format, concat = string.format, table.concat
local mtype = math.type
local huge = math.huge

local cjson_ok, cjson = pcall(require, "cjson")
--- JSON null (lua-cjson's `cjson.null`): the geometry of a feature without a location.
_M.null = cjson_ok and cjson.null or setmetatable({}, {__name = "null"})
local NULL = _M.null

local function finite(v) return type(v) == "number" and v == v and v > -huge and v < huge end

--- A Point at lat, lon (and height z, metres), or nil when they are not finite numbers.
function _M.point(lat, lon, z)
  if not (finite(lat) and finite(lon)) then return nil end
  return {type = "Point", coordinates = finite(z) and {lon, lat, z} or {lon, lat}}
end

--- A LineString through a list of {lat, lon} (entries that are not numbers skipped); with
-- `zs`, each position gets zs[i] as its third value. nil with fewer than two positions.
function _M.line(latlons, zs)
  local c = {}
  for i, p in ipairs(latlons) do
    if type(p) == "table" and finite(p[1]) and finite(p[2]) then
      local z = zs and zs[i]
      c[#c + 1] = finite(z) and {p[2], p[1], z} or {p[2], p[1]}
    end
  end
  if #c < 2 then return nil end
  return {type = "LineString", coordinates = c}
end

-- Twice the signed area of a ring of [lon, lat]: positive when counter-clockwise.
local function signed_area(r)
  local a = 0
  for i = 1, #r - 1 do a = a + r[i][1] * r[i + 1][2] - r[i + 1][1] * r[i][2] end
  return a
end
_M.signed_area = signed_area

--- A GeoJSON ring from a list of {lat, lon}: [lon, lat], closed, and wound as RFC 7946 asks
-- (counter-clockwise for an exterior, clockwise for a hole). Bing's isochrones and boundaries
-- come either way; a reader that follows the older rule sees the same shape.
function _M.ring(latlons, hole)
  local r = {}
  for _, p in ipairs(type(latlons) == "table" and latlons or {}) do
    if type(p) == "table" and finite(p[1]) and finite(p[2]) then r[#r + 1] = {p[2], p[1]} end
  end
  if #r > 0 and (r[1][1] ~= r[#r][1] or r[1][2] ~= r[#r][2]) then r[#r + 1] = {r[1][1], r[1][2]} end
  local a = signed_area(r)
  if (a < 0 and not hole) or (a > 0 and hole) then
    local n = #r
    for i = 1, math.floor(n / 2) do r[i], r[n + 1 - i] = r[n + 1 - i], r[i] end
  end
  return r
end

--- A Polygon (one polygon: its rings, first the exterior, each a list of {lat, lon}) or a
-- MultiPolygon (several); nil when there is none. Rings of fewer than 4 positions are left out.
function _M.polygons(list)
  local polys = {}
  for _, rings in ipairs(list) do
    local p = {}
    for ri, ring in ipairs(rings) do
      local r = _M.ring(ring, ri > 1)
      if #r >= 4 then p[#p + 1] = r elseif ri == 1 then break end
    end
    if #p > 0 then polys[#polys + 1] = p end
  end
  if #polys == 0 then return nil end
  if #polys == 1 then return {type = "Polygon", coordinates = polys[1]} end
  return {type = "MultiPolygon", coordinates = polys}
end

--- Bing's bbox [south, west, north, east] as GeoJSON's [west, south, east, north], or nil.
function _M.bbox(b)
  if type(b) ~= "table" then return nil end
  for i = 1, 4 do if not finite(b[i]) then return nil end end
  if b[5] ~= nil then return nil end
  return {b[2], b[1], b[4], b[3]}
end

local TWO53 = 2 ^ 53

--- An id or a count as JSON keeps it exact: an integer beyond 2^53 as a string of digits (a
-- float there, from a decoder without exact integers, as its nearest digits); anything else
-- as it is.
function _M.exact(v)
  if type(v) ~= "number" or v ~= v then return v end
  if v >= TWO53 or v <= -TWO53 then
    if mtype and mtype(v) == "integer" then return tostring(v) end
    if v % 1 == 0 and v > -huge and v < huge then return format("%.0f", v) end
  end
  return v
end

-- A copy of plain data fit for JSON: exact ids, no functions or metatables, JSON null kept,
-- other userdata, NaN and infinities dropped; tables seen twice (cycles) cut.
local function plain(v, seen)
  local t = type(v)
  if t == "number" then
    if not finite(v) then return nil end
    return _M.exact(v)
  elseif t == "string" or t == "boolean" then
    return v
  elseif v == NULL then
    return NULL
  elseif t == "table" then
    if seen[v] then return nil end
    seen[v] = true
    local out = {}
    for k, x in pairs(v) do
      if type(k) == "string" or type(k) == "number" then out[k] = plain(x, seen) end
    end
    seen[v] = nil
    return out
  end
  return nil
end

--- Properties from Bing's fields: a plain copy (see `exact`); nil values are left out.
function _M.properties(t)
  if type(t) ~= "table" then return {} end
  return plain(t, {})
end

--- A Feature: `geometry` (nil: JSON null), `properties` (copied through `properties`),
-- `opts.bbox` (already GeoJSON's order), `opts.id`.
function _M.feature(geometry, properties, opts)
  opts = opts or {}
  local id = opts.id
  if type(id) == "number" then id = _M.exact(id) end
  return {type = "Feature", id = id, bbox = opts.bbox, geometry = geometry or NULL,
          properties = _M.properties(properties)}
end

--- A FeatureCollection of a list of features (`bbox` optional).
function _M.collection(features, bbox)
  return {type = "FeatureCollection", features = features or {}, bbox = bbox}
end

--- A FeatureCollection of the features of several collections or features, in order, each
-- given `extra` properties (a table per item, or nil).
function _M.concat(items, extra)
  local out = {}
  for i, gj in ipairs(items) do
    local fs = gj.type == "FeatureCollection" and gj.features or {gj}
    for _, f in ipairs(fs) do
      if extra and extra[i] then
        for k, v in pairs(extra[i]) do
          if f.properties[k] == nil then f.properties[k] = v end
        end
      end
      out[#out + 1] = f
    end
  end
  return _M.collection(out)
end

-- Encoding

-- Members that are JSON arrays even when empty (a Lua {} is ambiguous).
local ARRAYS = {features = true, coordinates = true, geometries = true, bbox = true}

-- An empty table that encode writes as [] whatever its key: `_M.empty_array()` (a tool
-- reading a list of results expects [] when nothing matched, not {}).
local ARRAY_MT = {}
function _M.empty_array() return setmetatable({}, ARRAY_MT) end

local ESC = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
             ["\r"] = "\\r", ["\t"] = "\\t"}
-- JSON text is UTF-8 (RFC 8259 §8.1): a byte that does not begin a well-formed sequence (a
-- Latin-1 "\233" from a proxy's re-encoding, an overlong form, a surrogate) is written as
-- U+FFFD, so that every reader takes the file.
local byte, sub = string.byte, string.sub
local FFFD = "\239\191\189"
local function utf8_clean(s)
  if not s:find("[\128-\255]") then return s end
  local out, i, n, start = {}, 1, #s, 1
  while i <= n do
    local c = byte(s, i)
    local len = c < 0x80 and 1 or (c >= 0xC2 and c <= 0xDF) and 2 or (c >= 0xE0 and c <= 0xEF)
      and 3 or (c >= 0xF0 and c <= 0xF4) and 4 or nil
    local ok = len ~= nil and i + len - 1 <= n
    if ok and len > 1 then
      for k = i + 1, i + len - 1 do
        local b = byte(s, k)
        if b < 0x80 or b > 0xBF then ok = false; break end
      end
      local b2 = byte(s, i + 1)
      if ok and ((c == 0xE0 and b2 < 0xA0) or (c == 0xED and b2 > 0x9F)
          or (c == 0xF0 and b2 < 0x90) or (c == 0xF4 and b2 > 0x8F)) then
        ok = false
      end
    end
    if ok then
      i = i + len
    else
      out[#out + 1] = sub(s, start, i - 1)
      out[#out + 1] = FFFD
      i = i + 1
      start = i
    end
  end
  if start == 1 then return s end
  out[#out + 1] = sub(s, start)
  return concat(out)
end

local function quote(s)
  local esc = utf8_clean(s):gsub('[%c"\\]', function(c) return ESC[c] or format("\\u%04x", c:byte()) end)
  return '"' .. esc .. '"'
end

-- The shortest decimal that reads back as the same double (lua-cjson writes 14 digits).
local function number(v)
  if not finite(v) then return "null" end
  if mtype and mtype(v) == "integer" then return format("%d", v) end
  if v % 1 == 0 and v > -1e15 and v < 1e15 then return format("%.0f", v) end
  for p = 14, 17 do
    local s = format("%." .. p .. "g", v)
    if tonumber(s) == v then return s end
  end
  return format("%.17g", v)
end

local function is_array(t, key)
  local n = #t
  if n == 0 then return next(t) == nil and (ARRAYS[key] == true or getmetatable(t) == ARRAY_MT) end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local function encode(v, out, key, depth)
  local t = type(v)
  if v == nil or v == NULL then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif t == "number" then
    out[#out + 1] = number(v)
  elseif t == "string" then
    out[#out + 1] = quote(v)
  elseif t == "table" then
    if depth > 100 then error("bing.geojson.encode: nested too deep (a cycle?)", 0) end
    if is_array(v, key) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out, key == "features" and "feature" or key, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        local x = v[k]
        if x == nil then x = v[tonumber(k)] end
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = quote(k)
        out[#out + 1] = ":"
        encode(x, out, k, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    out[#out + 1] = "null"
  end
end

--- JSON text of a GeoJSON table: every number written so it reads back the same (lua-cjson
-- rounds to 14 significant digits), empty `features`/`coordinates` as [], keys sorted.
function _M.encode(gj)
  local out = {}
  encode(gj, out, nil, 0)
  return concat(out)
end

-- Validation (RFC 7946)

local function position(p, where)
  if type(p) ~= "table" or (#p ~= 2 and #p ~= 3) then
    return nil, where .. ": a position is 2 or 3 numbers"
  end
  for i = 1, #p do
    if not finite(p[i]) then return nil, where .. ": a coordinate is not a finite number" end
  end
  if p[1] < -180 or p[1] > 180 then return nil, where .. ": longitude out of [-180, 180]" end
  if p[2] < -90 or p[2] > 90 then return nil, where .. ": latitude out of [-90, 90]" end
  return true
end

local function positions(list, where, min)
  if type(list) ~= "table" then return nil, where .. ": not an array" end
  if #list < min then return nil, format("%s: %d positions, at least %d needed", where, #list, min) end
  for i, p in ipairs(list) do
    local ok, err = position(p, format("%s[%d]", where, i))
    if not ok then return nil, err end
  end
  return true
end

local function rings(poly, where)
  if type(poly) ~= "table" or #poly == 0 then return nil, where .. ": a polygon needs rings" end
  for i, r in ipairs(poly) do
    local w = format("%s[%d]", where, i)
    local ok, err = positions(r, w, 4)
    if not ok then return nil, err end
    local a, b = r[1], r[#r]
    if a[1] ~= b[1] or a[2] ~= b[2] then return nil, w .. ": ring not closed" end
    local area = signed_area(r)
    if i == 1 and area < 0 then return nil, w .. ": exterior ring is clockwise" end
    if i > 1 and area > 0 then return nil, w .. ": hole is counter-clockwise" end
  end
  return true
end

local geometry

local CHECK = {
  Point = function(c, w) return position(c, w) end,
  MultiPoint = function(c, w) return positions(c, w, 0) end,
  LineString = function(c, w) return positions(c, w, 2) end,
  MultiLineString = function(c, w)
    if type(c) ~= "table" then return nil, w .. ": not an array" end
    for i, l in ipairs(c) do
      local ok, err = positions(l, format("%s[%d]", w, i), 2)
      if not ok then return nil, err end
    end
    return true
  end,
  Polygon = function(c, w) return rings(c, w) end,
  MultiPolygon = function(c, w)
    if type(c) ~= "table" then return nil, w .. ": not an array" end
    for i, p in ipairs(c) do
      local ok, err = rings(p, format("%s[%d]", w, i))
      if not ok then return nil, err end
    end
    return true
  end,
}

function geometry(g, where)
  if g == NULL then return true end
  if type(g) ~= "table" then return nil, where .. ": geometry must be an object or null" end
  if g.type == "GeometryCollection" then
    for i, x in ipairs(type(g.geometries) == "table" and g.geometries or {}) do
      local ok, err = geometry(x, format("%s.geometries[%d]", where, i))
      if not ok then return nil, err end
    end
    return true
  end
  local check = CHECK[g.type]
  if not check then return nil, where .. ": unknown geometry type " .. tostring(g.type) end
  return check(g.coordinates, where .. ".coordinates")
end

local function json_value(v, where, seen)
  local t = type(v)
  if t == "number" then
    if not finite(v) then return nil, where .. ": NaN or infinity" end
    if (v >= TWO53 or v <= -TWO53) and v % 1 == 0 then
      return nil, where .. ": an integer beyond 2^53 (write it as a string)"
    end
    return true
  elseif t == "string" or t == "boolean" or v == NULL then
    return true
  elseif t == "table" then
    if seen[v] then return nil, where .. ": a cycle" end
    seen[v] = true
    for k, x in pairs(v) do
      if type(k) ~= "string" and type(k) ~= "number" then return nil, where .. ": a key not a string" end
      local ok, err = json_value(x, where .. "." .. tostring(k), seen)
      if not ok then return nil, err end
    end
    seen[v] = nil
    return true
  end
  return nil, where .. ": a " .. t .. " is not JSON"
end

local function bbox_ok(b, where)
  if b == nil then return true end
  if type(b) ~= "table" or (#b ~= 4 and #b ~= 6) then return nil, where .. ": bbox is 4 numbers" end
  for i = 1, #b do if not finite(b[i]) then return nil, where .. ": bbox not finite" end end
  local d = math.floor(#b / 2)
  if b[2] > b[2 + d] then return nil, where .. ": bbox south above north" end
  return true
end

local function feature_ok(f, where)
  if type(f) ~= "table" or f.type ~= "Feature" then return nil, where .. ": not a Feature" end
  if f.geometry == nil then return nil, where .. ": no geometry member (null when unlocated)" end
  local ok, err = geometry(f.geometry, where .. ".geometry")
  if not ok then return nil, err end
  ok, err = bbox_ok(f.bbox, where)
  if not ok then return nil, err end
  if f.properties ~= NULL and type(f.properties) ~= "table" then
    return nil, where .. ": properties must be an object or null"
  end
  if f.id ~= nil and type(f.id) ~= "string" and type(f.id) ~= "number" then
    return nil, where .. ": id must be a string or a number"
  end
  return json_value(f.properties, where .. ".properties", {})
end

--- Checks a Feature or FeatureCollection against RFC 7946's structure: positions of 2-3
-- finite numbers with longitude first (within [-180, 180]) and latitude within [-90, 90],
-- LineStrings of 2+ positions, rings closed of 4+ positions with exteriors counter-clockwise
-- and holes clockwise, a geometry member on every feature, a valid bbox, properties that JSON
-- can hold exactly (no NaN, no function, no integer beyond 2^53). true, or nil and a message.
function _M.validate(gj)
  if type(gj) ~= "table" then return nil, "not a table" end
  if gj.type == "FeatureCollection" then
    if type(gj.features) ~= "table" then return nil, "features is not an array" end
    local ok, err = bbox_ok(gj.bbox, "collection")
    if not ok then return nil, err end
    for i, f in ipairs(gj.features) do
      ok, err = feature_ok(f, format("features[%d]", i))
      if not ok then return nil, err end
    end
    return true
  elseif gj.type == "Feature" then
    return feature_ok(gj, "feature")
  end
  return geometry(gj, "geometry")
end

return _M
