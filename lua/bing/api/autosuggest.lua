--- Autosuggest (rest-services/autosuggest.md): suggestions for what a user is typing.
--
--     local list = assert(client.autosuggest.find{query = "El bur",
--       userLocation = {47.668697, -122.376373, 5}, includeEntityTypes = "Business"})
--     for _, s in ipairs(list) do print(s:type(), s:text()) end
--
-- `find` returns a list of `Suggestion` objects with Bing's fields (`__type` "Address",
-- "Place" or "LocalBusiness", `address` {addressLine, locality, adminDistrict, ...,
-- formattedAddress}, `name` for places and businesses) and `meta`; empty when nothing
-- matched; or nil, err. The area: `userLocation = {lat, lon, radius m}` (the user's position
-- and how sure of it you are), `userCircularMapView = {lat, lon, radius m}` or `userMapView =
-- {south, west, north, east}` (sent as the page's north-west then south-east corners); one of
-- the three is required, the two map views exclude each other. Suggestions carry no
-- coordinates: geocode the chosen one (`client.locations.find{q = s:text()}`).
--
-- Billing: "Any time ten (10) Autosuggest URL requests are made, one (1) transaction is
-- counted" (bing.billing's "every" rule: the 1st, 11th, 21st... request counts).
-- @module bing.api.autosuggest
local check = require "bing.check"
local endpoint = require "bing.endpoint"
local types = require "bing.api.location_types"

local _M = {}

local bad, raise = check.bad, check.raise

-- autosuggest.md: maxResults "any integer in [1, 10]"; entity types Address, Place,
-- Business. "LocalBusiness" (the answer's __type) is read as Business.
local ENTITY_TYPES = check.set_of{"Address", "Place", "Business"}
ENTITY_TYPES.localbusiness = "Business"

-- {lat, lon, radius} -> "lat,lon,radius", or nil, err; the radius (metres) is part of the
-- shape: "the user's location (latitude, longitude) and radius". `positive`: more than 0
-- (a map view); a location's confidence radius may be 0.
local function circle(positive)
  return function(what, name, c)
    if c == nil then return nil end
    if type(c) ~= "table" then raise(what, "%s must be a table {lat, lon, radius}", name) end
    if c[3] == nil and c.radius == nil then
      raise(what, "%s must hold three numbers {lat, lon, radius (metres)}", name)
    end
    local text, err = check.circle(what, name, c, positive)
    if not text then return nil, err end
    return text
  end
end

-- userMapView = {south, west, north, east} -> "north,west,south,east": the page's order
-- ("Latitude of the Northwest corner, Longitude of the Northwest corner, Latitude of the
-- Southeast corner, Longitude of the Southeast corner").
local function map_view(what, name, b)
  local text, err = check.bbox(what, name, b)
  if not text then return nil, err end
  local s, w, n, e = text:match("^([^,]+),([^,]+),([^,]+),([^,]+)$")
  return table.concat({n, w, s, e}, ",")
end

-- countryFilter: a two-letter code, or "none" (the default: no filter).
local function country_filter(what, name, v)
  if type(v) == "string" and v:lower() == "none" then return "none" end
  return check.iso2(what, name, v)
end

-- includeEntityTypes -> "Address,Business" (each once, in the order given), or nil, err.
local function entity_types(what, name, v)
  local text, err = check.names(what, name, v, ENTITY_TYPES)
  if not text then return nil, err end
  local seen, out = {}, {}
  for t in text:gmatch("[^,]+") do
    if not seen[t] then seen[t], out[#out + 1] = true, t end
  end
  return table.concat(out, ",")
end

local Suggestion = {}
Suggestion.__index = Suggestion
_M.Suggestion = Suggestion

--- "Address", "Place" or "LocalBusiness" (Bing's `__type`, without a schema suffix).
function Suggestion:type()
  local t = self.__type
  return type(t) == "string" and (t:match("^([^:]*)")) or nil
end

local ADDRESS_ORDER = {"addressLine", "neighborhood", "locality", "adminDistrict2",
  "adminDistrict", "postalCode", "countryRegion"}

--- The one line a suggestion box shows: the name (places and businesses) and the formatted
-- address, "El Burrito Mojado, 12412 116th Ave NE, Kirkland, WA 98034"; the address alone
-- for an address ("Burien Fwy, Seattle, Washington").
function Suggestion:text()
  local a = type(self.address) == "table" and self.address or {}
  local addr = a.formattedAddress
  if type(addr) ~= "string" or addr == "" then
    local parts = {}
    for _, k in ipairs(ADDRESS_ORDER) do
      if type(a[k]) == "string" and a[k] ~= "" then parts[#parts + 1] = a[k] end
    end
    addr = #parts > 0 and table.concat(parts, ", ") or nil
  end
  local name = type(self.name) == "string" and self.name ~= "" and self.name or nil
  if name and addr then
    -- A formatted address that starts with the name already says it.
    if addr:sub(1, #name) == name then return addr end
    return name .. ", " .. addr
  end
  return name or addr or ""
end

local SuggestionList = {}
SuggestionList.__index = SuggestionList
_M.SuggestionList = SuggestionList

-- A JSON null (cjson.null, a light userdata) is nil for a Lua user.
local function drop_nulls(t)
  for k, v in pairs(t) do
    if type(v) == "userdata" then t[k] = nil end
  end
end

-- The answer is one Autosuggest resource whose `value` is the list of suggestions.
local function suggestions(doc, meta)
  local list = {}
  for _, r in ipairs(types.resources(doc)) do
    local value = type(r) == "table" and r.value
    for _, s in ipairs(type(value) == "table" and value or {}) do
      if type(s) == "table" then
        drop_nulls(s)
        if type(s.address) == "table" then drop_nulls(s.address) end
        list[#list + 1] = setmetatable(s, Suggestion)
      end
    end
  end
  list.meta = meta
  return setmetatable(list, SuggestionList)
end

_M.find = {
  path = "/REST/v1/Autosuggest", billing = "RESTAutosuggest", result = suggestions,
  params = {
    {"query", check.text, alias = "q", required = true},
    {"userLocation", circle(false)}, {"userCircularMapView", circle(true)},
    {"userMapView", map_view}, {"maxResults", check.int(1, 10)},
    {"includeEntityTypes", entity_types},
    {"culture", check.culture, default = function(client) return client.culture end},
    {"userRegion", check.iso2}, {"countryFilter", country_filter},
  },
  before = function(call)
    local a = call.args
    if a.userLocation == nil and a.userCircularMapView == nil and a.userMapView == nil then
      raise(call.what, "give userLocation, userCircularMapView or userMapView")
    end
  end,
  rules = function(call)
    -- "The parameters userCircularMapView and userMapView are mutually exclusive."
    if call.args.userCircularMapView ~= nil and call.args.userMapView ~= nil then
      return bad(call.what, "give userCircularMapView or userMapView, not both")
    end
  end,
}

return endpoint.family("autosuggest", _M)
