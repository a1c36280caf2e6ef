-- Autosuggest (rest-services/autosuggest.md).
--
--   GET /REST/v1/Autosuggest?query=|q=&userLocation=|ul=&userCircularMapView=|ucmv=
--       &userMapView=|umv=&maxResults=|maxRes=&includeEntityTypes=|inclenttype=
--       &culture=|c=&userRegion=|ur=&countryFilter=|cf=                   RESTAutosuggest
--
-- Parameters and their checks (400 naming the parameter): query required (not empty);
-- userLocation "lat,lon,radius m" (the three values the page asks for; radius >= 0) is
-- required unless userCircularMapView "lat,lon,radius m" (radius > 0) or userMapView (four
-- numbers, corners NW then SE as the page says; the two corners are accepted in either
-- order, since the page's first example writes them SW/NE) is given; ucmv and umv together
-- are refused; maxResults an integer 1..10 (default 7); includeEntityTypes a comma list of
-- Address, Place, Business (any case; default all three); culture a language tag (default
-- en-US, does not translate); userRegion two letters (default US, ignored); countryFilter
-- two letters or "none" (the default).
--
-- The answer is always one Autosuggest resource whose `value` is the list of suggestions
-- (empty when nothing matched, as the page's countryFilter example says), each shaped as
-- the page's JSON examples: {__type = "Address" | "Place" | "LocalBusiness", address =
-- {...}, name} (name for businesses and named places only). The page's field table also
-- lists `entityType`; no example carries one, so neither do we.
--
-- Matching: the query's last word is a prefix, the others whole words, in order, anywhere
-- in the candidate's words (name, then street, locality, division). Ranking: a match at
-- the first word first; then importance (population, landmarks); then the order of the
-- reference's own rows (so its examples answer as documented); then the distance from the map
-- view's centre, else the user location. The map views only rank ("Suggested entities are
-- not guaranteed to lie inside geographic regions").
--
-- Candidates: the gazetteer's cities, divisions, neighbourhoods and landmarks (Place),
-- its street addresses (Address), poi.lua's businesses (LocalBusiness, only in the
-- countries the page lists) and natural features (Place), and the rows of REFERENCE.
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local gaz = require "bingsim.gazetteer"
local geocode = require "bingsim.geocode"
local poi = require "bingsim.poi"
local recog = require "bingsim.recog"
local text = require "bingsim.text"
local timezone = require "bingsim.timezone"

local _M = {_VERSION = "0.1.0"}

_M.MAX_RESULTS, _M.DEFAULT_RESULTS = 10, 7
-- "Business entities are only available in the following countries/regions"
_M.BUSINESS_COUNTRIES = {US = true, CA = true, AU = true, IN = true, DE = true, ES = true,
  IT = true, BR = true}
local ENTITY_TYPES = {address = "Address", place = "Place", business = "LocalBusiness"}

local RESOURCE_TYPE = envelope.type_of("Autosuggest")
local RESOURCE_MT = {__order = {"__type", "value"}}
local SUGGESTION_MT = {__order = {"__type", "address", "name"}}
local ADDRESS_MT = {__order = {"countryRegion", "locality", "neighborhood", "adminDistrict",
  "adminDistrict2", "countryRegionIso2", "postalCode", "houseNumber", "addressLine",
  "streetName", "formattedAddress"}}

-- The reference's example suggestions: {type, name, address, lat, lon, keywords}; rank is
-- the row's position (rows of one example keep the example's order).
local US = "United States"
local function biz(name, line, city, st, postal, lat, lon, kw)
  return {"LocalBusiness", name, {countryRegion = US, locality = city, adminDistrict = st,
    countryRegionIso2 = "US", postalCode = postal, addressLine = line,
    formattedAddress = ("%s, %s, %s %s"):format(line, city, st, postal)}, lat, lon, kw}
end
_M.REFERENCE = {
  -- "Searching for a business": El bur, Business
  biz("El Burrito Mojado", "12412 116th Ave NE", "Kirkland", "WA", "98034", 47.7144, -122.1861),
  biz("El Burrito Mojado", "111 116th Ave NE", "Kirkland", "WA", "98032", 47.6110, -122.1860),
  biz("El Burrito Azteca", "6728 NE Sandy Blvd", "Portland", "OR", "97213", 45.5443, -122.5940),
  biz("El Burrito Azteca", "1942 N Rosa Parks Way", "Portland", "OR", "97217", 45.5690,
    -122.6440),
  biz("El Burrito Loco", "3126 NE 82nd Ave", "Portland", "OR", "97220", 45.5470, -122.5780),
  biz("El Burro Loco", "67211 E Highway 26", "Welches", "OR", "97067", 45.3430, -121.9540),
  biz("El Burrito Mojado", "7316 N Lombard St", "Portland", "OR", "97203", 45.5900, -122.7500),
  -- "Searching for Addresses and Places of Interest": El bur, Address,Place
  {"Place", nil, {countryRegion = "Mexico", locality = "El Burrión", adminDistrict = "Sinaloa",
    adminDistrict2 = "Guasave Municipality", countryRegionIso2 = "MX",
    formattedAddress = "El Burrión, Sinaloa"}, 25.5390, -108.3850},
  {"Place", nil, {countryRegion = "Mexico", locality = "El Burro", adminDistrict = "Chihuahua",
    countryRegionIso2 = "MX", formattedAddress = "El Burro, Chihuahua"}, 28.6300, -106.0700},
  {"Place", nil, {countryRegion = "Mexico", locality = "El Burócrata", adminDistrict = "Durango",
    adminDistrict2 = "Durango", countryRegionIso2 = "MX",
    formattedAddress = "El Burócrata, Durango"}, 24.0270, -104.6530},
  -- "Buri", Address,Place, countryFilter=US
  {"Place", nil, {countryRegion = US, locality = "Burien", adminDistrict = "Washington",
    adminDistrict2 = "King County", countryRegionIso2 = "US",
    formattedAddress = "Burien, Washington"}, 47.4668, -122.3405},
  {"Place", "Burien Community Center Park", {countryRegion = US, locality = "Burien",
    adminDistrict = "Washington", adminDistrict2 = "King County", countryRegionIso2 = "US",
    formattedAddress = "Burien, Washington"}, 47.4695, -122.3436},
  {"Address", nil, {countryRegion = US, locality = "Seattle", adminDistrict = "Washington",
    adminDistrict2 = "King County", countryRegionIso2 = "US", houseNumber = "",
    addressLine = "Burien Fwy", streetName = "Burien Fwy",
    formattedAddress = "Burien Fwy, Seattle, Washington"}, 47.5110, -122.3250},
  {"Address", nil, {countryRegion = US, locality = "Burien", adminDistrict = "Washington",
    adminDistrict2 = "King County", countryRegionIso2 = "US", houseNumber = "",
    addressLine = "Burien Fwy", streetName = "Burien Fwy",
    formattedAddress = "Burien Fwy, Burien, Washington"}, 47.4750, -122.3300},
  {"Place", "Buri Buri Park", {countryRegion = US, adminDistrict = "California",
    adminDistrict2 = "San Mateo County", countryRegionIso2 = "US",
    formattedAddress = "California"}, 37.6640, -122.4290},
  {"Place", "Buried Hills", {countryRegion = US, adminDistrict = "Nevada",
    countryRegionIso2 = "US", formattedAddress = "Nevada"}, 36.8700, -115.5600},
  {"Place", "Buried Mountain", {countryRegion = US, adminDistrict = "California",
    adminDistrict2 = "Riverside County", countryRegionIso2 = "US",
    formattedAddress = "California"}, 33.7200, -116.7300},
  -- "Searching by Geographical Region": fish, Business
  biz("Fishermen's Terminal", "3919 18th Ave W", "Seattle", "WA", "98119", 47.6553, -122.3810),
  biz("Fishing Vessel Owners Marine Ways", "1511 W Thurman St", "Seattle", "WA", "98119",
    47.6570, -122.3790),
  biz("Fisheries Supply", "1900 N Northlake Way", "Seattle", "WA", "98103", 47.6480, -122.3350),
  biz("Fisherman's Restaurant", "1301 Alaskan Way", "Seattle", "WA", "98101", 47.6060,
    -122.3400),
  biz("Fisher Pavilion", "298 2nd Ave N", "Seattle", "WA", "98109", 47.6200, -122.3520),
  biz("Macleod's Scottish Pub", "5200 Ballard Ave NW", "Seattle", "WA", "98107", 47.6665,
    -122.3830, "fish and chips"),
  biz("Seattle Center", "305 Harrison St", "Seattle", "WA", "98109", 47.6215, -122.3510,
    "fisher pavilion"),
}

-- Words for matching: folded, apostrophes dropped, split on anything else.
local function words(s)
  local out = {}
  if not s then return out end
  for w in text.fold(s):gsub("'", ""):gmatch("[%w\128-\255]+") do out[#out + 1] = w end
  return out
end

local function county(name)
  if not name then return nil end
  return (name:gsub(" Co%.$", " County"))
end

local candidates
local function add(list, c)
  c.id = #list + 1
  c.rank = c.rank or 1000
  c.importance = c.importance or 0
  local ws = {}
  for _, group in ipairs(c.word_groups) do
    local g = words(group)
    if #g > 0 then ws[#ws + 1] = g end
  end
  c.words = ws
  list[#list + 1] = c
end

local function build()
  gaz.load()
  poi.load()
  local list = {}
  for i, r in ipairs(_M.REFERENCE) do
    local a = r[3]
    add(list, {kind = r[1], name = r[2], address = a, lat = r[4], lon = r[5],
      iso2 = a.countryRegionIso2, rank = i,
      word_groups = {r[2] or a.addressLine or a.locality, a.locality, a.adminDistrict, r[6]}})
  end
  for _, e in ipairs(gaz.entries) do
    local a, iso2 = e.address, e.iso2
    local country = gaz.countries[iso2]
    local admin = e.admin1_name
    if e.kind == "PopulatedPlace" or e.kind == "Neighborhood" then
      local where = admin or country.name
      local loc = a.neighborhood and (a.neighborhood .. ", " .. a.locality) or a.locality
      add(list, {kind = "Place", lat = e.lat, lon = e.lon, iso2 = iso2,
        importance = e.importance, address = {countryRegion = country.name,
          locality = a.locality, neighborhood = a.neighborhood, adminDistrict = admin,
          adminDistrict2 = county(a.adminDistrict2), countryRegionIso2 = iso2,
          formattedAddress = loc .. ", " .. where},
        word_groups = {a.neighborhood or a.locality, a.locality, admin}})
    elseif e.kind == "AdminDivision1" or e.kind == "CountryRegion" then
      add(list, {kind = "Place", name = admin or country.name, lat = e.lat, lon = e.lon,
        iso2 = iso2, importance = e.importance, address = {countryRegion = country.name,
          adminDistrict = admin, countryRegionIso2 = iso2,
          formattedAddress = admin and (iso2 == "US" and admin or (admin .. ", " .. country.name))
            or country.name},
        word_groups = {admin or country.name}})
    elseif e.kind == "Landmark" then
      local where = a.locality and (a.locality .. ", " .. (admin or country.name))
        or admin or country.name
      add(list, {kind = "Place", name = a.landmark, lat = e.lat, lon = e.lon, iso2 = iso2,
        importance = e.importance, address = {countryRegion = country.name,
          locality = a.locality, neighborhood = a.neighborhood, adminDistrict = admin,
          adminDistrict2 = county(a.adminDistrict2), countryRegionIso2 = iso2,
          postalCode = a.postalCode, formattedAddress = where},
        word_groups = {a.landmark, a.locality, admin}})
    elseif e.kind == "Address" then
      local line = a.addressLine
      local house, street = line:match("^(%d+%a?)%s+(.+)$")
      if not house then
        street, house = line:match("^(.-)%s+(%d+%a?)$")
      end
      local tail = admin or country.name
      if a.postalCode then tail = tail .. " " .. a.postalCode end
      add(list, {kind = "Address", lat = e.lat, lon = e.lon, iso2 = iso2,
        importance = e.importance, address = {countryRegion = country.name,
          locality = a.locality, neighborhood = a.neighborhood, adminDistrict = admin,
          adminDistrict2 = county(a.adminDistrict2), countryRegionIso2 = iso2,
          postalCode = a.postalCode, houseNumber = house or "", addressLine = line,
          streetName = street or line,
          formattedAddress = ("%s, %s, %s"):format(line, a.locality, tail)},
        word_groups = {line, a.locality, admin}})
    end
  end
  for _, b in ipairs(poi.businesses) do
    if _M.BUSINESS_COUNTRIES[b.iso2] then
      local formatted = b.iso2 == "US" and ("%s, %s, %s %s"):format(b.line, b.locality,
        b.admin, b.postal) or ("%s, %s %s"):format(b.line, b.postal, b.locality)
      add(list, {kind = "LocalBusiness", name = b.name, lat = b.lat, lon = b.lon, iso2 = b.iso2,
        address = {countryRegion = b.country, locality = b.locality, adminDistrict = b.admin,
          countryRegionIso2 = b.iso2, postalCode = b.postal, addressLine = b.line,
          formattedAddress = formatted},
        word_groups = {b.name, b.locality}})
    end
  end
  for _, n in ipairs(poi.natural) do
    -- A natural feature has no street address: its division, as the page's parks show.
    local _, near = timezone.zone_at(n.lat, n.lon)
    local iso2 = near and near.iso2 or "US"
    local admin = near and near.admin1_name
    local country = gaz.countries[iso2].name
    add(list, {kind = "Place", name = n.name, lat = n.lat, lon = n.lon, iso2 = iso2,
      address = {countryRegion = country, adminDistrict = admin, countryRegionIso2 = iso2,
        formattedAddress = admin or country},
      word_groups = {n.name}})
  end
  candidates = list
  return list
end

-- Does the query (words q) match candidate c? Returns 0 (at its first word), 1 (elsewhere)
-- or nil.
local function match(c, q)
  local k = #q
  local best
  for gi, g in ipairs(c.words) do
    for j = 1, #g - k + 1 do
      local ok = true
      for i = 1, k - 1 do
        if g[j + i - 1] ~= q[i] then ok = false; break end
      end
      if ok and g[j + k - 1]:sub(1, #q[k]) == q[k] then
        local class = (gi == 1 and j == 1) and 0 or 1
        if not best or class < best then best = class end
      end
    end
  end
  return best
end

function _M.classify() return {category = "RESTAutosuggest", transactions = 1} end

local function numbers(req, name, count, alias)
  local v = req.param(name, alias)
  if v == nil then return nil end
  local p = recog.parse_numbers(v)
  if not p or #p ~= count then return false, envelope.invalid(req, name, envelope.NOT_VALID) end
  for i = 1, count - (count == 4 and 0 or 1), 2 do
    if p[i] < -90 or p[i] > 90 or p[i + 1] < -180 or p[i + 1] > 180 then
      return false, envelope.invalid(req, name)
    end
  end
  return p
end

local function options(req)
  local o = {}
  local q = req.param("query", "q")
  if q == nil or q:match("^%s*$") then return nil, envelope.invalid(req, "query", envelope.MISSING) end
  o.words = words(q)
  if #o.words == 0 then return nil, envelope.invalid(req, "query", envelope.NOT_VALID) end
  local ul, err = numbers(req, "userLocation", 3, "ul")
  if ul == false then return nil, err end
  if ul and ul[3] < 0 then return nil, envelope.invalid(req, "userLocation") end
  local ucmv
  ucmv, err = numbers(req, "userCircularMapView", 3, "ucmv")
  if ucmv == false then return nil, err end
  if ucmv and ucmv[3] <= 0 then return nil, envelope.invalid(req, "userCircularMapView") end
  local umv
  umv, err = numbers(req, "userMapView", 4, "umv")
  if umv == false then return nil, err end
  if ucmv and umv then return nil, envelope.invalid(req, "userMapView", envelope.NOT_VALID) end
  if not (ul or ucmv or umv) then
    return nil, envelope.invalid(req, "userLocation", envelope.MISSING)
  end
  if ucmv then o.lat, o.lon = ucmv[1], ucmv[2]
  elseif umv then o.lat, o.lon = (umv[1] + umv[3]) / 2, (umv[2] + umv[4]) / 2
  else o.lat, o.lon = ul[1], ul[2] end

  o.max = _M.DEFAULT_RESULTS
  local m = req.param("maxResults", "maxRes")
  if m then
    local n = tonumber(m)
    if not m:match("^%s*%d+%s*$") or not n then
      return nil, envelope.invalid(req, "maxResults", envelope.NOT_VALID)
    end
    if n < 1 or n > _M.MAX_RESULTS then return nil, envelope.invalid(req, "maxResults") end
    o.max = n
  end
  local t = req.param("includeEntityTypes", "inclenttype")
  if t then
    o.types = {}
    for part in (t .. ","):gmatch("([^,]*),") do
      local k = ENTITY_TYPES[(part:gsub("^%s+", ""):gsub("%s+$", "")):lower()]
      if not k then return nil, envelope.invalid(req, "includeEntityTypes", envelope.NOT_VALID) end
      o.types[k] = true
    end
  else
    o.types = {Address = true, Place = true, LocalBusiness = true}
  end
  local c = req.param("culture", "c")
  if c and not c:match("^%a%a%a?$") and not c:match("^%a%a%a?%-%w%w%w?%w?$") then
    return nil, envelope.invalid(req, "culture", envelope.NOT_VALID)
  end
  local ur = req.param("userRegion", "ur")
  if ur and not ur:match("^%a%a$") then
    return nil, envelope.invalid(req, "userRegion", envelope.NOT_VALID)
  end
  local cf = req.param("countryFilter", "cf")
  if cf and cf:lower() ~= "none" then
    if not cf:match("^%a%a$") then
      return nil, envelope.invalid(req, "countryFilter", envelope.NOT_VALID)
    end
    o.country = cf:upper()
  end
  return o
end

local function suggestion(c)
  local a = setmetatable({}, ADDRESS_MT)
  for k, v in pairs(c.address) do a[k] = v end
  return setmetatable({__type = c.kind, address = a, name = c.name}, SUGGESTION_MT)
end

function _M.handle(req)
  local o, err = options(req)
  if not o then return err end
  local list = candidates or build()
  local found = {}
  for _, c in ipairs(list) do
    if o.types[c.kind] and (not o.country or c.iso2 == o.country) then
      local class = match(c, o.words)
      if class then
        found[#found + 1] = {c = c, class = class,
          d = geocode.distance_km(o.lat, o.lon, c.lat, c.lon)}
      end
    end
  end
  table.sort(found, function(a, b)
    if a.class ~= b.class then return a.class < b.class end
    if a.c.importance ~= b.c.importance then return a.c.importance > b.c.importance end
    if a.c.rank ~= b.c.rank then return a.c.rank < b.c.rank end
    if a.d ~= b.d then return a.d < b.d end
    return a.c.id < b.c.id
  end)
  local value = json.array()
  for i = 1, math.min(o.max, #found) do value[i] = suggestion(found[i].c) end
  return envelope.success(req, {setmetatable({__type = RESOURCE_TYPE, value = value},
    RESOURCE_MT)})
end

return _M
