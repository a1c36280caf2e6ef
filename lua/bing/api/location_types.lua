--- Result objects: Bing's JSON kept as it is, with methods added through metatables.
--
-- Field names are the ones the service returns (`name`, `point`, `bbox`, `address`,
-- `confidence`, `entityType`, `matchCodes`, `geocodePoints`, `queryParseValues`), so the
-- reference documents them. Responses recorded years apart differ (older ones lack
-- `geocodePoints` and `matchCodes`): an absent field is nil, and no method assumes it.
-- @module bing.api.location_types
local gj = require "bing.geojson"

local _M = {}

--- The resources of the first resource set (an empty table when there are none).
function _M.resources(doc)
  local sets = type(doc) == "table" and doc.resourceSets
  local set = type(sets) == "table" and sets[1]
  local res = type(set) == "table" and set.resources
  return type(res) == "table" and res or {}
end

-- lat, lon of a GeoJSON-like point {coordinates = {lat, lon}} (Bing's order), or nil.
local function point_latlon(p)
  local c = type(p) == "table" and p.coordinates
  if type(c) ~= "table" or type(c[1]) ~= "number" or type(c[2]) ~= "number" then return nil end
  return c[1], c[2]
end
_M.point_latlon = point_latlon

-- Bing's bbox is [south, west, north, east]; GeoJSON's is [west, south, east, north].
local geojson_bbox = gj.bbox
_M.geojson_bbox = geojson_bbox

local Location = {}
Location.__index = Location
_M.Location = Location

--- Latitude and longitude of the location's point (nil when the answer has none).
function Location:latlon()
  return point_latlon(self.point)
end

--- The geocode point for a usage type ("Display" or "Route"), as lat, lon.
function Location:geocode_point(usage)
  -- An absent array, a JSON null (cjson.null, a light userdata) or a null element: skipped.
  local gps = self.geocodePoints
  for _, g in ipairs(type(gps) == "table" and gps or {}) do
    local uses = type(g) == "table" and g.usageTypes
    for _, u in ipairs(type(uses) == "table" and uses or {}) do
      if u == usage then return point_latlon(g) end
    end
  end
  return nil
end

--- A GeoJSON Feature (RFC 7946: coordinates are lon, lat) with Bing's fields as properties.
-- The geocode points go as properties too (Display and Route points, [lon, lat] as
-- GeoJSON Points), so a routing tool can pick the Route one.
function Location:geojson()
  local gps
  for _, g in ipairs(type(self.geocodePoints) == "table" and self.geocodePoints or {}) do
    local lat, lon = point_latlon(g)
    if lat then
      gps = gps or {}
      gps[#gps + 1] = {type = "Point", coordinates = {lon, lat}, calculationMethod =
        g.calculationMethod, usageTypes = g.usageTypes}
    end
  end
  return gj.feature(gj.point(self:latlon()), {
    name = self.name, address = self.address, confidence = self.confidence,
    entityType = self.entityType, matchCodes = self.matchCodes, geocodePoints = gps,
  }, {bbox = geojson_bbox(self.bbox)})
end

local LocationList = {}
LocationList.__index = LocationList
_M.LocationList = LocationList

--- A GeoJSON FeatureCollection of the list.
function LocationList:geojson()
  local features = {}
  for i, loc in ipairs(self) do features[i] = loc:geojson() end
  return gj.collection(features)
end

--- Wraps a Locations answer: a list of Location objects with `meta`.
function _M.locations(doc, meta)
  local list = {}
  for _, r in ipairs(_M.resources(doc)) do
    if type(r) == "table" then list[#list + 1] = setmetatable(r, Location) end
  end
  list.meta = meta
  return setmetatable(list, LocationList)
end

-- Location Recognition (location-recognition.md, location-and-recognition-entity-types.md).

do
  -- businessInfo.typeId is an integer in the reference; Lua 5.4 gets an integer for it.
  local ok, core = pcall(require, "bing.core")
  if ok and type(core) == "table" and core.integer_fields then core.integer_fields{"typeId"} end
end

local tointeger = math.tointeger

local function feature(lat, lon, properties)
  return gj.feature(gj.point(lat, lon), properties)
end

local function plain_latlon(t)
  local lat, lon = t.latitude, t.longitude
  if type(lat) ~= "number" or type(lon) ~= "number" then return nil end
  return lat, lon
end

--- One element of `businessesAtLocation`: `businessAddress` and `businessInfo` as sent.
local RecogBusiness = {}
RecogBusiness.__index = RecogBusiness
_M.RecogBusiness = RecogBusiness

--- Latitude and longitude of the business (from `businessAddress`).
function RecogBusiness:latlon()
  return plain_latlon(type(self.businessAddress) == "table" and self.businessAddress or {})
end

--- `businessInfo.entityName`.
function RecogBusiness:name()
  return type(self.businessInfo) == "table" and self.businessInfo.entityName or nil
end

--- A GeoJSON Feature (lon, lat) with the business's fields as properties.
function RecogBusiness:geojson()
  local lat, lon = self:latlon()
  local info = type(self.businessInfo) == "table" and self.businessInfo or {}
  return feature(lat, lon, {
    kind = "businessAndPOI", name = info.entityName, url = info.url, phone = info.phone,
    type = info.type, typeId = info.typeId, otherTypes = info.otherTypes,
    address = self.businessAddress,
  })
end

--- One element of `naturalPOIAtLocation`: `entityName`, `latitude`, `longitude`, `type`.
local RecogNatural = {}
RecogNatural.__index = RecogNatural
_M.RecogNatural = RecogNatural

--- Latitude and longitude of the natural feature.
function RecogNatural:latlon() return plain_latlon(self) end
--- `entityName`.
function RecogNatural:name() return self.entityName end

--- A GeoJSON Feature (lon, lat) with `name` and `type`.
function RecogNatural:geojson()
  local lat, lon = self:latlon()
  return feature(lat, lon, {kind = "naturalPOI", name = self.entityName, type = self.type})
end

--- One element of `addressOfLocation`: `latitude`, `longitude` and the address fields.
local RecogAddress = {}
RecogAddress.__index = RecogAddress
_M.RecogAddress = RecogAddress

--- Latitude and longitude of the address.
function RecogAddress:latlon() return plain_latlon(self) end
--- `formattedAddress`.
function RecogAddress:name() return self.formattedAddress end

--- A GeoJSON Feature (lon, lat) with the address fields as properties.
function RecogAddress:geojson()
  local lat, lon = self:latlon()
  local props = {kind = "address"}
  for k, v in pairs(self) do
    if k ~= "latitude" and k ~= "longitude" then props[k] = v end
  end
  return feature(lat, lon, props)
end

local Recognition = {}
Recognition.__index = Recognition
_M.Recognition = Recognition

local function list_of(t) return type(t) == "table" and t or {} end

--- `businessesAtLocation` (a list of RecogBusiness; empty when absent).
function Recognition:businesses() return list_of(self.businessesAtLocation) end
--- `naturalPOIAtLocation` (a list of RecogNatural; empty when absent).
function Recognition:natural() return list_of(self.naturalPOIAtLocation) end
--- `addressOfLocation` (a list of RecogAddress; empty when absent).
function Recognition:addresses() return list_of(self.addressOfLocation) end
--- The first address of `addressOfLocation`, or nil.
function Recognition:address() return self:addresses()[1] end

--- `isPrivateResidence` ("True"/"False" in the answer) as a boolean, nil when absent.
function Recognition:is_private_residence()
  local v = self.isPrivateResidence
  if type(v) == "boolean" then return v end
  if type(v) == "string" then
    if v:lower() == "true" then return true end
    if v:lower() == "false" then return false end
  end
  return nil
end

--- A GeoJSON FeatureCollection of every entity; `properties.kind` says which list.
function Recognition:geojson()
  local features = {}
  for _, list in ipairs{self:businesses(), self:natural(), self:addresses()} do
    for _, e in ipairs(list) do features[#features + 1] = e:geojson() end
  end
  return gj.collection(features)
end

-- Sets `mt` on the entities of a list, in place, dropping what is not an object (a JSON
-- null element): every entity of the lists has the methods.
local function wrap_list(t, mt)
  if type(t) ~= "table" then return nil end
  local n = 0
  for i = 1, #t do
    local e = t[i]
    t[i] = nil
    if type(e) == "table" then
      n = n + 1
      t[n] = setmetatable(e, mt)
    end
  end
  return t
end

--- Wraps a LocationRecog answer: one Recognition (the first resource; an empty one when the
-- service found nothing, "no location information is returned") with `meta`.
function _M.recognition(doc, meta)
  local r = _M.resources(doc)[1]
  if type(r) ~= "table" then r = {} end
  wrap_list(r.businessesAtLocation, RecogBusiness)
  wrap_list(r.naturalPOIAtLocation, RecogNatural)
  wrap_list(r.addressOfLocation, RecogAddress)
  for _, b in ipairs(list_of(r.businessesAtLocation)) do
    local info = type(b) == "table" and b.businessInfo
    if type(info) == "table" and type(info.otherTypeIds) == "table" and tointeger then
      for i, id in ipairs(info.otherTypeIds) do info.otherTypeIds[i] = tointeger(id) or id end
    end
  end
  r.meta = meta
  return setmetatable(r, Recognition)
end

-- Local Search (local-search.md).

--- One `SearchResult` resource: `name`, `point`, `Address`, `PhoneNumber`, `Website`,
-- `entityType`, `geocodePoints` as sent (note Bing's capitals). JSON nulls ("Website": null)
-- are nil here.
local SearchResult = {}
SearchResult.__index = SearchResult
_M.SearchResult = SearchResult

--- Latitude and longitude of the result's `point`.
function SearchResult:latlon() return point_latlon(self.point) end
SearchResult.geocode_point = Location.geocode_point

--- A GeoJSON Feature (lon, lat) with the result's fields as properties.
function SearchResult:geojson()
  local lat, lon = self:latlon()
  return feature(lat, lon, {
    name = self.name, entityType = self.entityType, Address = self.Address,
    PhoneNumber = self.PhoneNumber, Website = self.Website,
  })
end

local SearchResultList = {}
SearchResultList.__index = SearchResultList
_M.SearchResultList = SearchResultList
SearchResultList.geojson = LocationList.geojson

-- A JSON null decodes to a light userdata (cjson.null); a Lua user expects nil.
local function drop_nulls(t)
  for k, v in pairs(t) do
    if type(v) == "userdata" then t[k] = nil end
  end
end

--- Wraps a LocalSearch answer: a list of SearchResult objects with `meta`.
function _M.local_search(doc, meta)
  local list = {}
  for _, r in ipairs(_M.resources(doc)) do
    if type(r) == "table" then
      drop_nulls(r)
      if type(r.Address) == "table" then drop_nulls(r.Address) end
      list[#list + 1] = setmetatable(r, SearchResult)
    end
  end
  list.meta = meta
  return setmetatable(list, SearchResultList)
end

return _M
