-- The Geodata API (platform.bing.com, geodata-api.md): boundary polygons of the gazetteer's
-- places in Bing's compressed point format.
--
--   GET /geo/spatial/v1/public/Geodata?SpatialFilter=GetBoundary(lat,lon,levelOfDetail,
--       'entityType',getAllPolygons,getEntityMetadata[,'culture'[,'userRegion']])
--       [&PreferCuratedPolygons=][&$format=json|atom]
--   GET ...?SpatialFilter=GetBoundary('address',levelOfDetail,'entityType',...)
--
-- The entity is the gazetteer entry of the requested type at the point (the reverse
-- geocoder's choice) or at the geocoded address. Its outline is synthetic and deterministic:
-- a wavy ring around the place's point, sized by its bounding box, with POINTS[levelOfDetail]
-- distinct vertices, closed (the first point repeated at the end), so NumPoints =
-- POINTS[levelOfDetail] + 1. getAllPolygons=1 adds a second, smaller primitive (an island)
-- for countries and first-order divisions. Shape = "1," .. the compressed ring.
local envelope = require "bingsim.envelope"
local json = require "bingsim.json"
local geocode = require "bingsim.geocode"
local gaz = require "bingsim.gazetteer"
local C = require "bingsim.sds_common"

local _M = {_VERSION = "0.1.0"}

local floor, sin, cos, pi, format = math.floor, math.sin, math.cos, math.pi, string.format

_M.POINTS = {[0] = 16, [1] = 32, [2] = 64, [3] = 128}

-- entityType values of the reference (case-insensitive); the Postcode2..4 levels have no
-- entries in the gazetteer (an empty answer).
local TYPES = {countryregion = "CountryRegion", admindivision1 = "AdminDivision1",
  admindivision2 = "AdminDivision2", postcode1 = "Postcode1", postcode2 = "Postcode2",
  postcode3 = "Postcode3", postcode4 = "Postcode4", neighborhood = "Neighborhood",
  populatedplace = "PopulatedPlace"}
local TYPE_CODE = {CountryRegion = 1, AdminDivision1 = 2, AdminDivision2 = 3, Postcode1 = 4,
  Neighborhood = 5, PopulatedPlace = 6}

local SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

-- Bing's point compression (the algorithm geodata-api.md decodes): coordinates rounded to
-- 1e-5 degrees, delta-encoded, zig-zag signed, paired on the diagonals (y = latitude), and
-- written 5 bits a character, low bits first, 32 marking "more follows".
function _M.encode(points)
  local out, plat, plon = {}, 0, 0
  for _, p in ipairs(points) do
    local lat, lon = floor(p[1] * 100000 + 0.5), floor(p[2] * 100000 + 0.5)
    local dy, dx = lat - plat, lon - plon
    plat, plon = lat, lon
    dy = dy >= 0 and dy * 2 or -dy * 2 - 1
    dx = dx >= 0 and dx * 2 or -dx * 2 - 1
    local index = (dy + dx) * (dy + dx + 1) / 2 + dy
    repeat
      local rem = index % 32
      index = (index - rem) / 32
      if index > 0 then rem = rem + 32 end
      out[#out + 1] = SAFE:sub(rem + 1, rem + 1)
    until index == 0
  end
  return table.concat(out)
end

-- The inverse, for the emulator's own checks (the library decodes in C).
function _M.decode(s)
  local pts, xsum, ysum, i = {}, 0, 0, 1
  while i <= #s do
    local n, k = 0, 0
    while true do
      if i > #s then return nil end
      local b = SAFE:find(s:sub(i, i), 1, true)
      if not b then return nil end
      b = b - 1
      i = i + 1
      n = n + (b % 32) * 2 ^ k
      k = k + 5
      if b < 32 then break end
    end
    local diagonal = floor((math.sqrt(8 * n + 5) - 1) / 2)
    n = n - diagonal * (diagonal + 1) / 2
    local ny, nx = n, diagonal - n
    nx = nx % 2 == 1 and -(nx + 1) / 2 or nx / 2
    ny = ny % 2 == 1 and -(ny + 1) / 2 or ny / 2
    xsum, ysum = xsum + nx, ysum + ny
    pts[#pts + 1] = {ysum / 100000, xsum / 100000}
  end
  return pts
end

local function round5(x) return floor(x * 100000 + 0.5) / 100000 end

-- A closed wavy ring: n distinct vertices, then the first again.
local function ring(lat, lon, half_lat, half_lon, n, seed)
  local pts = {}
  for i = 0, n - 1 do
    local t = 2 * pi * i / n
    local r = 1 + 0.12 * sin(3 * t + seed) + 0.05 * cos(7 * t + seed * 2)
    pts[#pts + 1] = {round5(lat + half_lat * r * sin(t)), round5(lon + half_lon * r * cos(t))}
  end
  pts[#pts + 1] = {pts[1][1], pts[1][2]}
  return pts
end
_M.ring = ring

local function entry_for(kind, lat, lon)
  local results = geocode.reverse(lat, lon, {[kind] = true})
  for _, r in ipairs(results) do
    if r.entry.kind == kind then return r.entry end
  end
  -- A country's own entry is the one the nearest city names (geocode.reverse does that).
  return nil
end

local function bool_arg(s)
  s = (s or ""):lower()
  if s == "1" or s == "true" then return true end
  if s == "0" or s == "false" then return false end
  return nil
end

local function unquote(s)
  s = s:match("^%s*(.-)%s*$")
  return s:match("^'(.*)'$") or s
end

local function split(args)
  local out, buf, q = {}, {}, false
  for i = 1, #args do
    local c = args:sub(i, i)
    if c == "'" then q = not q; buf[#buf + 1] = c
    elseif c == "," and not q then out[#out + 1] = table.concat(buf); buf = {}
    else buf[#buf + 1] = c end
  end
  out[#out + 1] = table.concat(buf)
  return out
end

local function parse(req)
  local sf = req.param("SpatialFilter")
  if not sf then return nil, "SpatialFilter", envelope.MISSING end
  local inner = sf:match("^%s*[Gg][Ee][Tt][Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]%s*%((.*)%)%s*$")
  if not inner then return nil, "SpatialFilter", envelope.NOT_VALID end
  local a = split(inner)
  local o = {}
  local rest
  local lat, lon = tonumber(a[1]), tonumber(a[2] or "")
  if lat and lon and #a >= 6 then
    if lat < -90 or lat > 90 or lon < -180 or lon > 180 then return nil, "latitude", envelope.OUT_OF_RANGE end
    o.lat, o.lon, rest = lat, lon, 3
  elseif a[1]:match("^%s*'") and #a >= 5 then
    o.address, rest = unquote(a[1]), 2
  else
    return nil, "SpatialFilter", envelope.NOT_VALID
  end
  local lod = tonumber(a[rest])
  if not lod or not _M.POINTS[lod] then return nil, "levelOfDetail", envelope.OUT_OF_RANGE end
  o.lod = lod
  o.type = TYPES[unquote(a[rest + 1] or ""):lower()]
  if not o.type then return nil, "entityType", envelope.NOT_VALID end
  o.all = bool_arg(unquote(a[rest + 2] or ""))
  if o.all == nil then return nil, "getAllPolygons", envelope.NOT_VALID end
  o.meta = bool_arg(unquote(a[rest + 3] or ""))
  if o.meta == nil then return nil, "getEntityMetadata", envelope.NOT_VALID end
  o.culture = a[rest + 4] and unquote(a[rest + 4]) or "en"
  o.region = a[rest + 5] and unquote(a[rest + 5]) or "us"
  if #a > rest + 5 then return nil, "SpatialFilter", envelope.NOT_VALID end
  local pc = req.param("PreferCuratedPolygons")
  if pc and bool_arg(pc) == nil then return nil, "PreferCuratedPolygons", envelope.NOT_VALID end
  local f = req.param("$format")
  o.format = f and f:lower() or "atom"
  if o.format ~= "json" and o.format ~= "atom" then return nil, "$format", envelope.NOT_VALID end
  return o
end

local HALF = {CountryRegion = 6, AdminDivision1 = 1.5, AdminDivision2 = 0.4, Postcode1 = 0.05,
  Neighborhood = 0.02, PopulatedPlace = 0.1}

-- The primitives of an entry: {id, points}. Public for specs through the answer only.
local function primitives(e, o, at)
  local bb = e.bbox
  local half_lat = bb and math.abs(bb[3] - bb[1]) / 2 or HALF[e.kind]
  if not half_lat or half_lat <= 0 or half_lat > 20 then half_lat = HALF[e.kind] or 0.1 end
  local half_lon = half_lat / math.max(cos(math.rad(e.lat)), 0.1)
  if at then
    -- The outline contains the point asked about: the ring's radius is at least 0.75 of
    -- the half-axes, so 2.2 times the offset on each axis keeps the point inside.
    half_lat = math.max(half_lat, math.abs(at[1] - e.lat) * 2.2 / 0.9)
    half_lon = math.max(half_lon, math.abs(at[2] - e.lon) * 2.2 / 0.9)
  end
  local n = _M.POINTS[o.lod]
  local out = {{id = -(37999000000 + e.id * 100 + 50), points = ring(e.lat, e.lon, half_lat * 0.9,
    half_lon * 0.9, n, e.id % 7)}}
  if o.all and (e.kind == "CountryRegion" or e.kind == "AdminDivision1") then
    local clat = math.max(math.min(e.lat - half_lat * 1.4, 89), -89)
    out[2] = {id = -(37999000000 + e.id * 100 + 51),
      points = ring(clat, e.lon + half_lon * 0.3, half_lat * 0.1, half_lon * 0.1, n, e.id % 5 + 1)}
  end
  return out
end
_M.primitives = primitives

local COPYRIGHT_URL = "http://windows.microsoft.com/windows-live/about-bing-data-suppliers"

local function population_class(pop)
  if not pop or pop <= 0 then return nil end
  local bands = {{1000, "PopClassLessThan1000"}, {10000, "PopClass1000to9999"},
    {20000, "PopClass10000to19999"}, {100000, "PopClass20000to99999"},
    {500000, "PopClass100000to499999"}, {1000000, "PopClass500000to999999"}}
  for _, b in ipairs(bands) do if pop < b[1] then return b[2] end end
  return "PopClass1000000orMore"
end

local function area_km2(points)
  local sum = 0
  local lat0 = points[1][1]
  local k = cos(math.rad(lat0)) * 111.195
  for i = 1, #points - 1 do
    local a, b = points[i], points[i + 1]
    sum = sum + (a[2] * k) * (b[1] * 111.195) - (b[2] * k) * (a[1] * 111.195)
  end
  return math.abs(sum) / 2
end

local function result(req, e, o, at)
  local id = tostring(-(37999000000 + e.id * 100 + (TYPE_CODE[o.type] or 0)))
  local prims = primitives(e, o, at)
  local plist, area = json.array(), 0
  local west, south, east, north = 180, 90, -180, -90
  for i, p in ipairs(prims) do
    area = area + area_km2(p.points)
    for _, q in ipairs(p.points) do
      if q[1] < south then south = q[1] end
      if q[1] > north then north = q[1] end
      if q[2] < west then west = q[2] end
      if q[2] > east then east = q[2] end
    end
    plist[i] = C.ordered({PrimitiveID = tostring(p.id), Shape = "1," .. _M.encode(p.points),
      NumPoints = tostring(#p.points), SourceID = "1"},
      {"PrimitiveID", "Shape", "NumPoints", "SourceID"})
  end
  local uri = format("%s/geo/spatial/v1/public/geodata?$filter=GetEntity(%sL,%d,%d,'%s','%s')",
    C.base_url(req), id, o.lod, o.meta and 1 or 0, o.culture, o.region)
  local r = C.ordered({__metadata = C.ordered({uri = uri}, {"uri"}), EntityID = id,
    Name = C.ordered({EntityName = e.address and (e.address.locality or e.address.postalCode
      or e.address.adminDistrict2 or e.address.adminDistrict or e.address.countryRegion)
      or e.name, Culture = o.culture, SourceID = "1"}, {"EntityName", "Culture", "SourceID"}),
    Primitives = plist,
    Copyright = C.ordered({CopyrightURL = COPYRIGHT_URL, Sources = json.array{C.ordered({
      SourceID = "1", SourceName = "bingsim", Copyright = "\194\169 2025 bingsim (synthetic outlines)"},
      {"SourceID", "SourceName", "Copyright"})}}, {"CopyrightURL", "Sources"})},
    {"__metadata", "EntityID", "EntityMetadata", "Name", "Primitives", "Copyright"})
  if e.kind == "Neighborhood" and e.address.neighborhood then r.Name.EntityName = e.address.neighborhood end
  if o.meta then
    local m = C.ordered({AreaSqKm = tostring(floor(area + 0.5)),
      BestMapViewBox = format("MULTIPOINT ((%s %s), (%s %s))", json.encode_number(west),
        json.encode_number(south), json.encode_number(east), json.encode_number(north)),
      OfficialCulture = o.culture, RegionalCulture = o.culture,
      PopulationClass = e.kind == "PopulatedPlace" and population_class(e.importance) or nil},
      {"AreaSqKm", "BestMapViewBox", "OfficialCulture", "RegionalCulture", "PopulationClass"})
    r.EntityMetadata = m
  end
  return r
end

local function atom(req, results)
  local X = C.xml_escape
  local out = {'<?xml version="1.0" encoding="utf-8"?>',
    '<d:feed xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    .. 'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
    .. 'xmlns:bsi="http://schemas.microsoft.com/bing/spatial/2010/11/odata">',
    "  <bsi:copyright>" .. X(C.ODATA_COPYRIGHT) .. "</bsi:copyright>",
    "  <id>" .. X(C.base_url(req) .. req.raw_path) .. "</id>"}
  for _, r in ipairs(results) do
    out[#out + 1] = "  <entry>"
    out[#out + 1] = "    <id>" .. X(r.__metadata.uri) .. "</id>"
    out[#out + 1] = '    <content type="application/xml">'
    out[#out + 1] = "      <m:property>"
    out[#out + 1] = '        <d:EntityID m:type="Edm.Int64">' .. r.EntityID .. "</d:EntityID>"
    if r.EntityMetadata then
      out[#out + 1] = '        <d:EntityMetadata m:type="Entity.Metadata">'
      for _, k in ipairs({"AreaSqKm", "BestMapViewBox", "OfficialCulture", "RegionalCulture",
          "PopulationClass"}) do
        if r.EntityMetadata[k] then
          out[#out + 1] = format("          <d:%s>%s</d:%s>", k, X(r.EntityMetadata[k]), k)
        end
      end
      out[#out + 1] = "        </d:EntityMetadata>"
    end
    out[#out + 1] = '        <d:Primitives m:type="Collection(Entity.Primitive)">'
    for _, p in ipairs(r.Primitives) do
      out[#out + 1] = '          <d:Primitive m:type="Entity.Primitive">'
      out[#out + 1] = '            <d:PrimitiveID m:type="Edm.Int64">' .. p.PrimitiveID .. "</d:PrimitiveID>"
      out[#out + 1] = "            <d:Shape>" .. p.Shape .. "</d:Shape>"
      out[#out + 1] = '            <d:NumPoints m:type="Edm.Int64">' .. p.NumPoints .. "</d:NumPoints>"
      out[#out + 1] = '            <d:SourceID m:type="Edm.Byte">' .. p.SourceID .. "</d:SourceID>"
      out[#out + 1] = "          </d:Primitive>"
    end
    out[#out + 1] = "        </d:Primitives>"
    out[#out + 1] = "      </m:property>"
    out[#out + 1] = "    </content>"
    out[#out + 1] = "  </entry>"
  end
  out[#out + 1] = "</d:feed>"
  return {status = 200, body = table.concat(out, "\n"), content_type = "application/atom+xml; charset=utf-8"}
end

function _M.classify() return {category = "RESTSpatialDataService:Geodata", transactions = 1} end

function _M.handle(req)
  if #(req.rest or {}) > 0 then return envelope.error(req, 404) end
  local o, name, problem = parse(req)
  if not o then return require("bingsim.sds").bad(req, name, problem) end
  local lat, lon = o.lat, o.lon
  if o.address then
    -- geodata-api.md: an address "will result in two individual usage transactions:
    -- RESTLocations (for geocoding) and RESTSpatialDataService:Geodata".
    C.book(req, "RESTLocations", 1)
    local e = gaz.lookup(o.address)
    if e then lat, lon = e.lat, e.lon end
  end
  local results = json.array()
  if lat then
    local e = TYPE_CODE[o.type] and entry_for(o.type, lat, lon)
    if e then results[1] = result(req, e, o, {lat, lon}) end
  end
  if o.format == "atom" then return atom(req, results) end
  return {status = 200, body = json.object{d = C.ordered({Copyright = C.ODATA_COPYRIGHT,
    results = results}, {"Copyright", "results"})}}
end

return _M
