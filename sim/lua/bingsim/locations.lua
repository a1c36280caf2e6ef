-- Locations API (rest-services/locations/): find by query, by address, by point.
--
--   GET /REST/v1/Locations?query=|q=                      by query      RestLocations-Unstructured
--   GET /REST/v1/Locations/{query}                        by query      RestLocations-Unstructured
--   GET /REST/v1/Locations?addressLine=&locality=&adminDistrict=&postalCode=&countryRegion=
--                                                         by address    RestLocations-Structured
--   GET /REST/v1/Locations/{US|CA|FR|DE|GB|UK}/...        by address    RestLocations-Structured
--   GET /REST/v1/Locations/{lat},{lon}                    by point      RESTLocations-Reverse
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local gaz = require "bingsim.gazetteer"
local geocode = require "bingsim.geocode"

local _M = {_VERSION = "0.1.0"}

local LOCATION_TYPE = envelope.type_of("Location")
local ADDRESS_PARAMS = {"addressLine", "locality", "adminDistrict", "postalCode", "countryRegion"}

-- Structured URL templates of find-a-location-by-address.md: fields in path order.
-- US has two: with 3 values {adminDistrict}/{locality}/{addressLine}, else the long one.
local TEMPLATES = {
  US = {"adminDistrict", "postalCode", "locality", "addressLine"},
  CA = {"adminDistrict", "postalCode", "locality", "addressLine"},
  FR = {"postalCode", "locality", "addressLine"},
  DE = {"postalCode", "locality", "addressLine"},
  GB = {"postalCode"},
  UK = {"postalCode"},
}
local US_SHORT = {"adminDistrict", "locality", "addressLine"}

local ENTITY_TYPES = {}
for _, t in ipairs(geocode.REVERSE_TYPES) do ENTITY_TYPES[t:lower()] = t end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function parse_numbers(s, n)
  local out = {}
  for part in (s .. ","):gmatch("([^,]*),") do
    local v = tonumber(trim(part))
    if not v then return nil end
    out[#out + 1] = v
  end
  if n and #out ~= n then return nil end
  return out
end

local function parse_point(s)
  local p = parse_numbers(s)
  if not p or #p ~= 2 then return nil end
  return p
end

local function point_in_range(p)
  return p[1] >= -90 and p[1] <= 90 and p[2] >= -180 and p[2] <= 180
end

-- What kind of Locations request this is: "query" | "address" | "point" | "template".
local function mode_of(req)
  local rest = req.rest or {}
  if #rest == 0 then
    if req.param("query", "q") ~= nil then return "query" end
    for _, p in ipairs(ADDRESS_PARAMS) do
      if req.param(p) ~= nil then return "address" end
    end
    return "query"
  end
  if #rest == 1 then
    if parse_point(rest[1]) then return "point" end
    return "query"
  end
  if TEMPLATES[rest[1]:upper()] then return "template" end
  return "unknown"
end

local CATEGORY = {
  query = "RestLocations-Unstructured", address = "RestLocations-Structured",
  template = "RestLocations-Structured", point = "RESTLocations-Reverse",
  unknown = "RestLocations-Unstructured",
}

function _M.classify(req)
  return {category = CATEGORY[mode_of(req)], transactions = 1}
end

local function bool_param(req, name, alias)
  local v = req.param(name, alias)
  if v == nil then return false end
  local l = v:lower()
  if l == "1" or l == "true" then return true end
  if l == "0" or l == "false" or l == "" then return false end
  return nil, name
end

-- Common options; returns opts or nil, error response.
local function options(req)
  local o = {}
  local mr = req.param("maxResults", "maxRes")
  if mr ~= nil then
    local n = tonumber(mr)
    if not n or n ~= math.floor(n) then
      return nil, envelope.invalid(req, "maxResults", envelope.NOT_VALID)
    end
    if n < 1 or n > 20 then return nil, envelope.invalid(req, "maxResults") end
    o.max = n
  end
  o.max = o.max or 5
  local incl = req.param("include", "incl")
  if incl then
    for v in incl:gmatch("[^,%s]+") do
      local l = v:lower()
      if l == "queryparse" then o.query_parse = true
      elseif l == "ciso2" then o.ciso2 = true
      elseif l == "neighborhood" then o.inclnb = true end
    end
  end
  local nb, bad = bool_param(req, "includeNeighborhood", "inclnb")
  if nb == nil then return nil, envelope.invalid(req, bad, envelope.NOT_VALID) end
  o.inclnb = o.inclnb or nb
  local vb, vbad = bool_param(req, "verboseplacenames", "vbpn")
  if vb == nil then return nil, envelope.invalid(req, vbad, envelope.NOT_VALID) end
  o.verbose = vb
  local sm, sbad = bool_param(req, "strictMatch", "sm")
  if sm == nil then return nil, envelope.invalid(req, sbad, envelope.NOT_VALID) end
  o.strict = sm
  local user = {}
  local ul = req.param("userLocation", "ul")
  if ul then
    local p = parse_numbers(ul)
    if not p or (#p ~= 2 and #p ~= 3) or not point_in_range(p) then
      return nil, envelope.invalid(req, "userLocation", envelope.NOT_VALID)
    end
    user.location = {p[1], p[2]}
  end
  local umv = req.param("userMapView", "umv")
  if umv then
    local b = parse_numbers(umv, 4)
    if not b or b[1] > b[3] or not point_in_range{b[1], b[2]} or not point_in_range{b[3], b[4]} then
      return nil, envelope.invalid(req, "userMapView", envelope.NOT_VALID)
    end
    user.view = b
  end
  if user.location or user.view then o.user = user end
  local uip = req.param("userIp", "uip")
  if uip then
    local a, b, c, d = uip:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    if not a or tonumber(a) > 255 or tonumber(b) > 255 or tonumber(c) > 255
        or tonumber(d) > 255 then
      return nil, envelope.invalid(req, "userIp", envelope.NOT_VALID)
    end
  end
  local types = req.param("includeEntityTypes")
  if types then
    o.types = {}
    for v in types:gmatch("[^,]+") do
      local t = ENTITY_TYPES[trim(v):lower()]
      if not t then return nil, envelope.invalid(req, "includeEntityTypes", envelope.NOT_VALID) end
      o.types[t] = true
    end
  end
  return o
end

local ADDRESS_FIELDS = {"addressLine", "adminDistrict", "adminDistrict2", "countryRegion",
  "formattedAddress", "locality", "postalCode", "landmark"}

local function geocode_point(lat, lon, calc, usage)
  return json.object{type = "Point", coordinates = json.array{lat, lon},
    calculationMethod = calc, usageTypes = json.array(usage)}
end

-- One Location resource for result r.
local function resource(r, o, parse)
  local e = r.entry
  local a = e.address
  local addr = json.object()
  for _, f in ipairs(ADDRESS_FIELDS) do addr[f] = a[f] end
  if a.neighborhood and (o.inclnb or e.kind == "Neighborhood") then
    addr.neighborhood = a.neighborhood
  end
  if o.verbose and e.admin1_name and a.adminDistrict then addr.adminDistrict = e.admin1_name end
  if o.ciso2 then addr.countryRegionIso2 = e.iso2 end
  local gps = json.array()
  if r.reverse then
    local usage = e.kind == "Address" and {"Display", "Route"} or {"Display"}
    gps[1] = geocode_point(e.lat, e.lon, e.kind == "Address" and "Interpolation" or "Rooftop",
      usage)
    if e.kind == "Address" and e.street then
      -- find-a-location-by-point.md: the intersection nearest to the address.
      addr.intersection = json.object{baseStreet = e.street, intersectionType = "Near",
        secondaryStreet1 = e.cross,
        displayName = e.cross and (e.street .. " and " .. e.cross) or e.street}
    end
  elseif e.geocode_points then
    for i, p in ipairs(e.geocode_points) do gps[i] = geocode_point(p.lat, p.lon, p.calc, p.usage) end
  else
    local usage = (e.kind == "Address") and {"Display", "Route"} or {"Display"}
    gps[1] = geocode_point(e.lat, e.lon, e.calc or "Rooftop", usage)
  end
  local entity_type = e.entityType
  if r.reverse and e.kind == "CountryRegion" then entity_type = "Sovereign" end
  local res = json.object{
    __type = LOCATION_TYPE,
    bbox = json.array{e.bbox[1], e.bbox[2], e.bbox[3], e.bbox[4]},
    name = e.name,
    point = json.object{type = "Point", coordinates = json.array{e.lat, e.lon}},
    address = addr,
    confidence = r.confidence,
    entityType = entity_type,
    geocodePoints = gps,
    matchCodes = json.array(r.match_codes),
  }
  if parse then res.queryParseValues = json.array(parse) end
  return res
end

local function answer(req, results, o, parse_of)
  local out = {}
  for i, r in ipairs(results) do
    if i > o.max then break end
    out[i] = resource(r, o, parse_of and parse_of(r))
  end
  return envelope.success(req, out)
end

local KIND_FILTER = {Address = "Address", Neighborhood = "Neighborhood",
  PopulatedPlace = "PopulatedPlace", Postcode1 = "Postcode1", AdminDivision1 = "AdminDivision1",
  AdminDivision2 = "AdminDivision2", CountryRegion = "CountryRegion"}

local function by_query(req, q, o)
  if q == nil or q:match("^%s*$") then
    return envelope.invalid(req, "query", envelope.MISSING)
  end
  local kinds
  if o.types then
    kinds = {}
    for t in pairs(o.types) do kinds[KIND_FILTER[t]] = true end
  end
  local results, toks, _, text = geocode.search(q, {kinds = kinds, user = o.user})
  local parse_of
  if o.query_parse then
    parse_of = function(r) return geocode.parse_values(r, toks, text) end
  end
  return answer(req, results, o, parse_of)
end

local function by_address(req, f, o)
  local any = false
  for _, p in ipairs(ADDRESS_PARAMS) do
    if f[p] ~= nil and f[p]:match("^%s*$") then f[p] = nil end
    if f[p] then any = true end
  end
  if not any then return envelope.invalid(req, "query", envelope.MISSING) end
  local results = geocode.find_address(f, {strict = o.strict, strict_country = o.strict_country,
    user = o.user})
  return answer(req, results, o)
end

local function by_point(req, p, o)
  if not point_in_range(p) then return envelope.invalid(req, "point") end
  local results = geocode.reverse(p[1], p[2], o.types)
  return answer(req, results, {max = 20, inclnb = o.inclnb, verbose = o.verbose, ciso2 = o.ciso2})
end

function _M.handle(req)
  gaz.load()
  local o, err = options(req)
  if not o then return err end
  local mode = mode_of(req)
  local rest = req.rest or {}
  if mode == "point" then
    return by_point(req, parse_point(rest[1]), o)
  elseif mode == "query" then
    local q = rest[1]
    if q == nil then q = req.param("query", "q") end
    return by_query(req, q, o)
  elseif mode == "address" then
    local f = {}
    for _, p in ipairs(ADDRESS_PARAMS) do f[p] = req.param(p) end
    return by_address(req, f, o)
  elseif mode == "template" then
    local cc = rest[1]:upper()
    local fields = TEMPLATES[cc]
    local n = #rest - 1
    if cc == "US" and n == 3 then fields = US_SHORT end
    if n > #fields then return envelope.error(req, 404) end
    local f = {countryRegion = cc == "UK" and "GB" or cc}
    o.strict_country = true
    for i = 1, n do
      local v = rest[i + 1]
      if v ~= "-" and v ~= "" then f[fields[i]] = v end
    end
    return by_address(req, f, o)
  end
  return envelope.error(req, 404)
end

return _M
