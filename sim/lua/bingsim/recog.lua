-- Location Recognition (rest-services/locations/location-recognition.md).
--
--   GET /REST/v1/LocationRecog/{lat},{lon}                               RESTLocationRecog
--
-- Parameters (names case-insensitive): radius/r (km, or miles with distanceUnit; more than 0,
-- at most 2 km; default 0.25 km), top (1..20, default 10), dateTime ("2018-05-09 13:34:42Z";
-- entities closed then rank after the open ones), distanceUnit (kilometer, km, mile, mi),
-- verboseplacenames (true/false), includeEntityTypes (businessAndPOI, naturalPOI, address;
-- default businessAndPOI), type (type IDs; only with businessAndPOI). Data: poi.lua.
--
-- The answer is one LocationRecog resource, shaped as the reference's JSON examples:
-- `businessesAtLocation` (when businesses or the address are asked for: the address example
-- carries an empty one), `naturalPOIAtLocation` (when natural POIs are asked for),
-- `addressOfLocation` and `isPrivateResidence` (when the address is asked for). "If no
-- entity types are found at the location point, then no location information is returned":
-- nothing found, or a point outside the supported countries, gives no resource.
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local geocode = require "bingsim.geocode"
local poi = require "bingsim.poi"

local _M = {_VERSION = "0.1.0"}

-- "Locations in Canada, Germany, Italy, Spain and USA are supported"
_M.COUNTRIES = {CA = true, DE = true, IT = true, ES = true, US = true}
_M.MAX_RADIUS_KM, _M.DEFAULT_RADIUS_KM, _M.KM_PER_MILE = 2, 0.25, 1.609344
_M.MAX_TOP, _M.DEFAULT_TOP = 20, 10
-- A business this close to the address point makes it "not a private residence".
_M.RESIDENCE_KM = 0.03
-- Without a street address within this distance, the address is the city's.
_M.ADDRESS_KM, _M.CITY_KM = 1.0, 40

local RECOG_TYPE = envelope.type_of("LocationRecog")
local UNITS = {kilometer = 1, km = 1, mile = _M.KM_PER_MILE, mi = _M.KM_PER_MILE}
local KINDS = {businessandpoi = "businessAndPOI", naturalpoi = "naturalPOI", address = "address"}

-- Key orders of the reference's examples.
local RESOURCE_MT = {__order = {"__type", "isPrivateResidence", "businessesAtLocation",
  "naturalPOIAtLocation", "addressOfLocation"}}
local ENTITY_MT = {__order = {"businessAddress", "businessInfo"}}
local ADDRESS_MT = {__order = {"latitude", "longitude", "addressLine", "locality", "neighborhood",
  "adminDivision", "countryIso2", "countryRegion", "postalCode", "formattedAddress"}}
local INFO_MT = {__order = {"id", "entityName", "url", "phone", "typeId", "otherTypeIds", "type",
  "otherTypes"}}
local NATURAL_MT = {__order = {"entityName", "latitude", "longitude", "type"}}

function _M.classify() return {category = "RESTLocationRecog", transactions = 1} end

local function parse_numbers(s)
  local out = {}
  for part in (s .. ","):gmatch("([^,]*),") do
    local v = tonumber((part:gsub("^%s+", ""):gsub("%s+$", "")))
    if not v or v ~= v or v == math.huge or v == -math.huge then return nil end
    out[#out + 1] = v
  end
  return out
end
_M.parse_numbers = parse_numbers

local DAYS = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

-- "2018-05-09 13:34:42Z" ("T" accepted for the space) -> minutes since midnight UTC, or nil.
function _M.parse_datetime(s)
  local y, mo, d, h, mi, sec = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[ T](%d%d):(%d%d):(%d%d)Z$")
  if not y then return nil end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi),
    tonumber(sec)
  if mo < 1 or mo > 12 then return nil end
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  local dim = DAYS[mo] + ((mo == 2 and leap) and 1 or 0)
  if d < 1 or d > dim or h > 23 or mi > 59 or sec > 59 then return nil end
  return h * 60 + mi
end

local function bool_param(req, name)
  local v = req.param(name)
  if v == nil then return false end
  local l = v:lower()
  if l == "true" or l == "1" then return true end
  if l == "false" or l == "0" then return false end
  return nil
end

-- Parses and checks every parameter; returns opts or nil, a 400 answer.
local function options(req)
  local o = {radius = _M.DEFAULT_RADIUS_KM, top = _M.DEFAULT_TOP}
  local rest = req.rest or {}
  if #rest == 0 then return nil, envelope.invalid(req, "point", envelope.MISSING) end
  local p = parse_numbers(rest[1])
  if not p or #p ~= 2 then return nil, envelope.invalid(req, "point", envelope.NOT_VALID) end
  if p[1] < -90 or p[1] > 90 or p[2] < -180 or p[2] > 180 then
    return nil, envelope.invalid(req, "point")
  end
  o.lat, o.lon = p[1], p[2]

  local per = 1
  local unit = req.param("distanceUnit")
  if unit then
    per = UNITS[unit:lower()]
    if not per then return nil, envelope.invalid(req, "distanceUnit", envelope.NOT_VALID) end
  end
  local r = req.param("radius", "r")
  if r then
    local n = parse_numbers(r)
    if not n or #n ~= 1 then return nil, envelope.invalid(req, "radius", envelope.NOT_VALID) end
    -- A little slack: 2 km written in miles (1.2427423845) is 2 km.
    local km = n[1] * per
    if not (km > 0 and km <= _M.MAX_RADIUS_KM * (1 + 1e-7)) then
      return nil, envelope.invalid(req, "radius")
    end
    o.radius = km
  end
  local top = req.param("top")
  if top then
    local n = tonumber(top)
    if not n or n ~= math.floor(n) then
      return nil, envelope.invalid(req, "top", envelope.NOT_VALID)
    end
    if n < 1 or n > _M.MAX_TOP then return nil, envelope.invalid(req, "top") end
    o.top = n
  end
  local dt = req.param("dateTime")
  if dt then
    o.minute = _M.parse_datetime(dt)
    if not o.minute then return nil, envelope.invalid(req, "dateTime", envelope.NOT_VALID) end
  end
  o.verbose = bool_param(req, "verboseplacenames")
  if o.verbose == nil then
    return nil, envelope.invalid(req, "verboseplacenames", envelope.NOT_VALID)
  end
  local kinds = req.param("includeEntityTypes")
  o.kinds = {businessAndPOI = true}
  if kinds then
    o.kinds = {}
    for item in (kinds .. ","):gmatch("([^,]*),") do
      local k = KINDS[item:match("^%s*(.-)%s*$"):lower()]
      if not k then return nil, envelope.invalid(req, "includeEntityTypes", envelope.NOT_VALID) end
      o.kinds[k] = true
    end
  end
  local types = req.param("type")
  if types then
    local list = poi.parse_types(types)
    if not list then return nil, envelope.invalid(req, "type", envelope.NOT_VALID) end
    if not o.kinds.businessAndPOI then
      return nil, envelope.invalid(req, "type",
        "Type IDs apply only when includeEntityTypes includes businessAndPOI.")
    end
    o.types = poi.expand(list)
  end
  return o
end

local function address_fields(a, o, lat, lon)
  local admin = o.verbose and a.admin_name or a.admin
  local formatted
  if a.iso2 == "US" or a.iso2 == "CA" then
    formatted = (a.line and (a.line .. ", ") or "") .. a.locality .. ", " .. a.admin
      .. (a.postal and (" " .. a.postal) or "") .. ", " .. a.iso2
  else
    formatted = (a.line and (a.line .. ", ") or "") .. (a.postal and (a.postal .. " ") or "")
      .. a.locality .. ", " .. a.iso2
  end
  return setmetatable({
    latitude = lat, longitude = lon, addressLine = a.line, locality = a.locality,
    adminDivision = admin, countryIso2 = a.iso2, postalCode = a.postal,
    formattedAddress = formatted,
    countryRegion = o.verbose and a.country or nil,
  }, ADDRESS_MT)
end

local function business(b, o)
  local info = b.info or {}
  local other_ids, other_types = json.array(), json.array()
  if info.otherTypeIds then
    for i, v in ipairs(info.otherTypeIds) do other_ids[i] = v end
    for i, v in ipairs(info.otherTypes) do other_types[i] = v end
  else
    for i = 2, #b.types do
      other_ids[#other_ids + 1] = poi.TYPE_NUMBER[b.types[i]]
      other_types[#other_types + 1] = poi.display(b.types[i])
    end
  end
  return setmetatable({
    businessAddress = address_fields(b, o, b.lat, b.lon),
    businessInfo = setmetatable({
      id = info.id or string.format("873x%d", 5000000 + b.id),
      entityName = b.name, url = b.url, phone = b.phone,
      typeId = info.typeId or (b.types[1] and poi.TYPE_NUMBER[b.types[1]]),
      otherTypeIds = other_ids,
      type = info.type or (b.types[1] and poi.display(b.types[1])),
      otherTypes = other_types,
    }, INFO_MT),
  }, ENTITY_MT)
end

-- The reverse-geocoded address: the nearest street address, else the city.
local function address_of(o)
  local a = poi.nearest_address(o.lat, o.lon, _M.ADDRESS_KM)
  if a then
    local private = #poi.within(poi.businesses, a.lat, a.lon, _M.RESIDENCE_KM) == 0
    local out = address_fields(a, o, a.lat, a.lon)
    out.neighborhood = a.neighborhood
    return out, private and "True" or "False"
  end
  local found = geocode.reverse(o.lat, o.lon, {PopulatedPlace = true})
  local city = found[1] and found[1].entry
  if not city then return nil end
  local c = {locality = city.address.locality, iso2 = city.iso2, admin = city.address.adminDistrict,
    admin_name = city.admin1_name or city.address.adminDistrict,
    country = city.address.countryRegion}
  return address_fields(c, o, city.lat, city.lon)
end

function _M.handle(req)
  poi.load()
  local o, bad = options(req)
  if not o then return bad end
  if #(req.rest or {}) > 1 then return envelope.error(req, 404) end

  local country = geocode.reverse(o.lat, o.lon, {CountryRegion = true})[1]
  if not (country and _M.COUNTRIES[country.entry.iso2]) then return envelope.success(req, {}) end

  -- One ranking for businesses and natural POIs (top counts both): with dateTime, the
  -- entities open then first; then the nearest.
  local ranked = {}
  if o.kinds.businessAndPOI then
    for _, hit in ipairs(poi.within(poi.businesses, o.lat, o.lon, o.radius)) do
      local b = hit.item
      if _M.COUNTRIES[b.iso2] and (not o.types or poi.has_type(b, o.types)) then
        local closed = o.minute and poi.is_open(b, o.minute) == false
        ranked[#ranked + 1] = {kind = 1, item = b, dist = hit.dist, closed = closed and 1 or 0}
      end
    end
  end
  if o.kinds.naturalPOI then
    for _, hit in ipairs(poi.within(poi.natural, o.lat, o.lon, o.radius)) do
      ranked[#ranked + 1] = {kind = 2, item = hit.item, dist = hit.dist, closed = 0}
    end
  end
  table.sort(ranked, function(a, b)
    if a.closed ~= b.closed then return a.closed < b.closed end
    if a.dist ~= b.dist then return a.dist < b.dist end
    if a.kind ~= b.kind then return a.kind < b.kind end
    return a.item.id < b.item.id
  end)
  local businesses, natural = json.array(), json.array()
  for i, r in ipairs(ranked) do
    if i > o.top then break end
    if r.kind == 1 then
      businesses[#businesses + 1] = business(r.item, o)
    else
      local n = r.item
      natural[#natural + 1] = setmetatable({entityName = n.name, latitude = n.lat,
        longitude = n.lon, type = n.type}, NATURAL_MT)
    end
  end
  local address, private
  if o.kinds.address then address, private = address_of(o) end

  if #businesses == 0 and #natural == 0 and not address then
    return envelope.success(req, {})
  end
  local res = setmetatable({__type = RECOG_TYPE, isPrivateResidence = private},
    RESOURCE_MT)
  if o.kinds.businessAndPOI or o.kinds.address then res.businessesAtLocation = businesses end
  if o.kinds.naturalPOI then res.naturalPOIAtLocation = natural end
  if o.kinds.address then res.addressOfLocation = json.array{address} end
  return envelope.success(req, {res})
end

return _M
