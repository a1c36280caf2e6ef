-- Local Search (rest-services/locations/local-search.md).
--
--   GET /REST/v1/LocalSearch/?query=|type=&userLocation=|userCircularMapView=|userMapView=
--                                                                         RESTLocalSearch
--
-- Parameters (names case-insensitive, with the reference's aliases): query/q or type
-- (exactly one; type IDs of type-identifiers/, a top-level ID selects its sub-categories),
-- maxResults/maxRes (1..25, default 5), userLocation/ul ("lat,lon[,radius m]"),
-- userCircularMapView/ucmv ("lat,lon,radius m", radius > 0), userMapView/umv ("s,w,n,e").
-- One of the three locations is required; userMapView and userCircularMapView together are
-- refused (they contradict each other). Data: poi.lua.
--
-- The region is the circle or the box when given, else a circle of SEARCH_KM (or the
-- userLocation's radius, when larger) around userLocation. A business matches a query when
-- every word of it names the business, one of its types, its city or neighbourhood. Results
-- are the nearest first (from userLocation, else the region's centre); estimatedTotal is
-- the number of matches, resources the first maxResults. "Presently, the Local Search API
-- supports business entities only in the US": businesses elsewhere are never answered.
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local poi = require "bingsim.poi"
local recog = require "bingsim.recog"

local _M = {_VERSION = "0.1.0"}

_M.SEARCH_KM = 25
_M.MAX_RESULTS, _M.DEFAULT_RESULTS = 25, 5

local RESULT_TYPE = envelope.type_of("SearchResult")
local RESULT_MT = {__order = {"__type", "name", "point", "Address", "PhoneNumber", "Website",
  "entityType", "geocodePoints"}}
local ADDRESS_MT = {__order = {"addressLine", "adminDistrict", "countryRegion",
  "formattedAddress", "locality", "postalCode"}}

function _M.classify() return {category = "RESTLocalSearch", transactions = 1} end

local parse_numbers = recog.parse_numbers

local function in_range(lat, lon)
  return lat >= -90 and lat <= 90 and lon >= -180 and lon <= 180
end

local function options(req)
  local o = {max = _M.DEFAULT_RESULTS}
  local q = req.param("query", "q")
  if q and q:match("^%s*$") then q = nil end
  local types = req.param("type")
  if types and types:match("^%s*$") then types = nil end
  if q and types then
    return nil, envelope.invalid(req, "type", "Give query or type, not both.")
  end
  if not q and not types then return nil, envelope.invalid(req, "query", envelope.MISSING) end
  o.query = q
  if types then
    local list = poi.parse_types(types)
    if not list then return nil, envelope.invalid(req, "type", envelope.NOT_VALID) end
    o.types = poi.expand(list)
  end
  local mr = req.param("maxResults", "maxRes")
  if mr then
    local n = tonumber(mr)
    if not n or n ~= math.floor(n) then
      return nil, envelope.invalid(req, "maxResults", envelope.NOT_VALID)
    end
    if n < 1 or n > _M.MAX_RESULTS then return nil, envelope.invalid(req, "maxResults") end
    o.max = n
  end
  local ul = req.param("userLocation", "ul")
  if ul then
    local p = parse_numbers(ul)
    if not p or (#p ~= 2 and #p ~= 3) then
      return nil, envelope.invalid(req, "userLocation", envelope.NOT_VALID)
    end
    if not in_range(p[1], p[2]) or (p[3] and p[3] < 0) then
      return nil, envelope.invalid(req, "userLocation")
    end
    o.user = p
  end
  local ucmv = req.param("userCircularMapView", "ucmv")
  local umv = req.param("userMapView", "umv")
  if ucmv and umv then
    return nil, envelope.invalid(req, "userCircularMapView",
      "Give userCircularMapView or userMapView, not both.")
  end
  if ucmv then
    local c = parse_numbers(ucmv)
    if not c or #c ~= 3 then
      return nil, envelope.invalid(req, "userCircularMapView", envelope.NOT_VALID)
    end
    if not in_range(c[1], c[2]) or c[3] <= 0 then
      return nil, envelope.invalid(req, "userCircularMapView")
    end
    o.circle = c
  end
  if umv then
    local b = parse_numbers(umv)
    if not b or #b ~= 4 then
      return nil, envelope.invalid(req, "userMapView", envelope.NOT_VALID)
    end
    if not in_range(b[1], b[2]) or not in_range(b[3], b[4]) or b[1] > b[3] then
      return nil, envelope.invalid(req, "userMapView")
    end
    o.box = b
  end
  if not (o.user or o.circle or o.box) then
    return nil, envelope.invalid(req, "userLocation", envelope.MISSING)
  end
  return o
end

local function in_region(b, o)
  if o.circle then
    return poi.distance_km(o.circle[1], o.circle[2], b.lat, b.lon) * 1000 <= o.circle[3]
  end
  if o.box then
    local s, w, n, e = o.box[1], o.box[2], o.box[3], o.box[4]
    local lon_ok
    if w <= e then lon_ok = b.lon >= w and b.lon <= e else lon_ok = b.lon >= w or b.lon <= e end
    return b.lat >= s and b.lat <= n and lon_ok
  end
  local km = math.max(_M.SEARCH_KM, (o.user[3] or 0) / 1000)
  return poi.distance_km(o.user[1], o.user[2], b.lat, b.lon) <= km
end

local function reference_point(o)
  if o.user then return o.user[1], o.user[2] end
  if o.circle then return o.circle[1], o.circle[2] end
  local lon = (o.box[2] + o.box[4]) / 2
  if o.box[2] > o.box[4] then lon = lon + 180 end
  return (o.box[1] + o.box[3]) / 2, lon
end

local function point(lat, lon)
  return json.object{type = "Point", coordinates = json.array{lat, lon}}
end

local function result(b)
  return setmetatable({
    __type = RESULT_TYPE,
    name = b.name,
    point = point(b.lat, b.lon),
    Address = setmetatable({
      addressLine = b.line, adminDistrict = b.admin, countryRegion = b.iso2,
      formattedAddress = b.line .. ", " .. b.locality .. ", " .. b.admin .. ", " .. b.postal,
      locality = b.locality, postalCode = b.postal,
    }, ADDRESS_MT),
    PhoneNumber = b.phone or json.null,
    Website = b.url or json.null,
    entityType = b.entity_type,
    geocodePoints = json.array{json.object{type = "Point",
      coordinates = json.array{b.dlat, b.dlon}, calculationMethod = "Rooftop",
      usageTypes = json.array{"Display"}}},
  }, RESULT_MT)
end

function _M.handle(req)
  poi.load()
  if #(req.rest or {}) > 0 then return envelope.error(req, 404) end
  local o, bad = options(req)
  if not o then return bad end
  local lat, lon = reference_point(o)
  local hits = {}
  for _, b in ipairs(poi.businesses) do
    if b.iso2 == "US" and in_region(b, o)
        and (o.types and poi.has_type(b, o.types) or (o.query and poi.matches_query(b, o.query))) then
      hits[#hits + 1] = {item = b, dist = poi.distance_km(lat, lon, b.lat, b.lon)}
    end
  end
  table.sort(hits, function(a, b)
    if a.dist ~= b.dist then return a.dist < b.dist end
    return a.item.id < b.item.id
  end)
  local out = {}
  for i = 1, math.min(o.max, #hits) do out[i] = result(hits[i].item) end
  return envelope.success(req, out, {estimated_total = #hits})
end

return _M
