--- Result objects: Bing's JSON kept as it is, with methods added through metatables.
--
-- Field names are the ones the service returns (`name`, `point`, `bbox`, `address`,
-- `confidence`, `entityType`, `matchCodes`, `geocodePoints`, `queryParseValues`), so the
-- reference documents them. Responses recorded years apart differ (older ones lack
-- `geocodePoints` and `matchCodes`): an absent field is nil, and no method assumes it.
-- @module bing.types
local _M = {}

--- The resources of the first resource set (an empty table when there are none).
function _M.resources(doc)
  local sets = type(doc) == "table" and doc.resourceSets
  local set = type(sets) == "table" and sets[1]
  local res = type(set) == "table" and set.resources
  return type(res) == "table" and res or {}
end

local function point_latlon(p)
  local c = type(p) == "table" and p.coordinates
  if type(c) ~= "table" then return nil end
  return c[1], c[2]
end
_M.point_latlon = point_latlon

-- Bing's bbox is [south, west, north, east]; GeoJSON's is [west, south, east, north].
local function geojson_bbox(b)
  if type(b) ~= "table" or #b ~= 4 then return nil end
  return {b[2], b[1], b[4], b[3]}
end
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
  for _, g in ipairs(self.geocodePoints or {}) do
    for _, u in ipairs(g.usageTypes or {}) do
      if u == usage then return point_latlon(g) end
    end
  end
  return nil
end

--- A GeoJSON Feature (RFC 7946: coordinates are lon, lat) with Bing's fields as properties.
function Location:geojson()
  local lat, lon = self:latlon()
  return {
    type = "Feature",
    geometry = lat and {type = "Point", coordinates = {lon, lat}} or nil,
    bbox = geojson_bbox(self.bbox),
    properties = {
      name = self.name, address = self.address, confidence = self.confidence,
      entityType = self.entityType, matchCodes = self.matchCodes,
    },
  }
end

local LocationList = {}
LocationList.__index = LocationList
_M.LocationList = LocationList

--- A GeoJSON FeatureCollection of the list.
function LocationList:geojson()
  local features = {}
  for i, loc in ipairs(self) do features[i] = loc:geojson() end
  return {type = "FeatureCollection", features = features}
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

return _M
