--- Locations: geocoding (find by query, structured address or point), Location Recognition
-- and Local Search, as declarations (bing.endpoint).
--
--     client.locations.find{q = "1 Microsoft Way, Redmond, WA 98052"}
--     client.locations.find{address = {addressLine = "1 Microsoft Way", locality = "Redmond"}}
--     client.locations.find{point = {47.64054, -122.12934}}
--     client.locations.recognize{point = {47.640068, -122.12986}, radius = 0.5, top = 5}
--     client.locations.local_search{query = "coffee", userLocation = {47.602038, -122.333964}}
--
-- find returns a list of `Location` objects, recognize one `Recognition`, local_search a list
-- of `SearchResult` objects (bing.api.location_types); empty when nothing matched; or nil, err.
-- A point may be given in any form bing.check.latlon reads, a Location among them.
-- Structured addresses go as query parameters (the "any country/region" template), never as
-- path segments: the structured path templates reject values with `.`, `,`, `:` or `+`.
-- Neither recognize nor local_search lists `culture`, `userIp` or `userRegion`.
-- @module bing.api.locations
local check = require "bing.check"
local endpoint = require "bing.endpoint"
local types = require "bing.api.location_types"

local _M = {}

local raise, bad = check.raise, check.bad

-- locations/find-a-location-by-*.md
local INCLUDE = {query = check.set_of{"queryParse", "ciso2"}, address = check.set_of{"ciso2"},
                 point = check.set_of{"ciso2"}}
local ENTITY_TYPES = {"Address", "Neighborhood", "PopulatedPlace", "Postcode1", "AdminDivision1",
                      "AdminDivision2", "CountryRegion"}
-- A fixed order keeps URLs (and so caches and logs) stable.
local ADDRESS_FIELDS = {"countryRegion", "adminDistrict", "locality", "postalCode", "addressLine"}
local CONTEXT = {"userLocation", "userMapView", "userIp", "userRegion"}
local CATEGORY = {query = "RestLocations-Unstructured", address = "RestLocations-Structured",
                  point = "RESTLocations-Reverse"}

-- address = {...} -> the list of {field, value} to send, or nil, err.
local function address(what, _, addr)
  if type(addr) ~= "table" then
    raise(what, "address must be a table {addressLine=, locality=, adminDistrict=, postalCode=, "
      .. "countryRegion=}")
  end
  local known = check.set_of(ADDRESS_FIELDS)
  for k in pairs(addr) do
    if known[tostring(k):lower()] ~= k then raise(what, "unknown address field '%s'", tostring(k)) end
  end
  local out = {}
  for _, f in ipairs(ADDRESS_FIELDS) do
    local v = check.typed(what, "address." .. f, addr[f], "string")
    if v and v:find("%S") then out[#out + 1] = {f, v} end
  end
  if #out == 0 then return bad(what, "address has no non-empty field") end
  return out
end

local function culture(client) return client.culture end

_M.find = {
  path = "/REST/v1/Locations",
  params = {
    {"q", check.text, alias = "query"}, {"address", address, expand = true},
    {"strictMatch", check.flag}, {"point", check.point, segment = true},
    {"includeEntityTypes", check.some_of(ENTITY_TYPES)}, {"verboseplacenames", check.boolean},
    {"maxResults", check.int(1, 20)}, {"includeNeighborhood", check.flag}, {"include"},
    {"culture", check.culture, default = culture},
    {"userLocation", check.point}, {"userMapView", check.bbox}, {"userIp", check.ipv4},
    {"userRegion", check.iso2},
  },
  before = function(call)
    local a = call.args
    local q = a.q ~= nil or a.query ~= nil
    if (q and 1 or 0) + (a.address ~= nil and 1 or 0) + (a.point ~= nil and 1 or 0) ~= 1 then
      raise(call.what, "give exactly one of q, address, point")
    end
    call.form = q and "query" or a.address ~= nil and "address" or "point"
  end,
  rules = function(call)
    local what, a, form, v = call.what, call.args, call.form, call.values
    if a.strictMatch ~= nil and form ~= "address" then
      return bad(what, "strictMatch applies to find{address=} only")
    end
    if form ~= "point" and (a.includeEntityTypes ~= nil or a.verboseplacenames ~= nil) then
      return bad(what, "includeEntityTypes and verboseplacenames apply to find{point=} only")
    end
    if form == "point" then
      if a.maxResults ~= nil then return bad(what, "maxResults is not a parameter of find{point=}") end
      for _, name in ipairs(CONTEXT) do
        if a[name] ~= nil then return bad(what, "%s is not a parameter of find{point=}", name) end
      end
    end
    local err
    v.include, err = check.names(what, "include", a.include, INCLUDE[form])
    if err then return nil, err end
    call.billing = CATEGORY[form]
  end,
  result = types.locations,
}

-- location-recognition.md
local RADIUS_KM, KM_PER_MILE = 2, 1.609344   -- "The maximum supported radius is 2 KM"
local DISTANCE_UNITS = check.set_of{"kilometer", "km", "mile", "mi"}

_M.recognize = {
  path = "/REST/v1/LocationRecog", billing = "RESTLocationRecog",
  params = {
    {"point", check.point, segment = true, required = true},
    {"radius", function(what, name, r) return check.typed(what, name, r, "number") end},
    {"distanceUnit", function(what, name, u)
      local c = check.choice(what, name, u, DISTANCE_UNITS)
      if c then return c end
      return bad(what, "distanceUnit must be one of kilometer, km, mile, mi, got '%s'", u)
    end},
    {"top", check.int(1, 20)}, {"dateTime", check.bing_time},
    {"verboseplacenames", check.boolean},
    {"includeEntityTypes", check.some_of{"businessAndPOI", "naturalPOI", "address"}},
    {"type", check.type_ids},
  },
  rules = function(call)
    local what, v = call.what, call.values
    local r = v.radius
    if r ~= nil then
      local miles = v.distanceUnit == "mile" or v.distanceUnit == "mi"
      local max = miles and RADIUS_KM / KM_PER_MILE or RADIUS_KM
      -- A hair of slack so that 2 km written in miles (1.2427...) is not refused by rounding.
      if r ~= r or r <= 0 or r > max * (1 + 1e-9) then
        return bad(what, "radius must be more than 0 and at most 2 km (%.4f mi), got %s%s",
          RADIUS_KM / KM_PER_MILE, tostring(r), miles and " mi" or " km")
      end
      -- 10 decimals, not coord's 7: 2 km in miles rounded up to 7 decimals is over 2 km.
      v.radius = string.format("%.10f", r):gsub("0+$", ""):gsub("%.$", "")
    end
    -- "type ... if using the includeEntityTypes parameter value of businessAndPOI (which is the
    -- default value)": a type filter on a request without businesses would silently do nothing.
    local kinds = v.includeEntityTypes
    if v.type and kinds and not ("," .. kinds .. ","):find(",businessAndPOI,", 1, true) then
      return bad(what, "type applies only when includeEntityTypes has businessAndPOI")
    end
  end,
  result = types.recognition,
}

_M.local_search = {
  path = "/REST/v1/LocalSearch/", billing = "RESTLocalSearch",
  params = {
    {"query", check.text, alias = "q"}, {"type", check.type_ids},
    {"userLocation", function(w, n, c) return check.circle(w, n, c, false) end},
    {"userCircularMapView", function(w, n, c) return check.circle(w, n, c, true) end},
    {"userMapView", check.bbox}, {"maxResults", check.int(1, 25)},
  },
  before = function(call)
    local a = call.args
    if a.q ~= nil and a.query ~= nil then raise(call.what, "give q or query, not both") end
    if ((a.query or a.q) ~= nil) == (a.type ~= nil) then
      raise(call.what, "give exactly one of query (q) and type")
    end
    if a.userLocation == nil and a.userCircularMapView == nil and a.userMapView == nil then
      raise(call.what, "give userLocation, userCircularMapView or userMapView")
    end
  end,
  rules = function(call)
    -- Both regions at once contradict each other; the reference is silent, we refuse.
    if call.args.userCircularMapView ~= nil and call.args.userMapView ~= nil then
      return bad(call.what, "give userCircularMapView or userMapView, not both")
    end
  end,
  result = types.local_search,
}

return endpoint.family("locations", _M)
