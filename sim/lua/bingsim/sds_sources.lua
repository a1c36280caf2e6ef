-- The data sources the Query API answers from: the public ones (built once, in memory,
-- deterministic) and the account's own (ngx.shared.bingsim_jobs, so every worker sees them
-- and /_sim/reset drops them).
--
-- A source: {access_id, name, entity_type, key_prop, props = {{name, type}...},
--   plookup = {[lower name] = prop}, entities = {...}, public, master, query, poi, updated}
-- An entity is a table of property name -> value (string, number, boolean, nil); dates are
-- ISO strings ("2010-11-10T17:19:36"); every entity has Latitude and Longitude.
local gaz = require "bingsim.gazetteer"
local json = require "bingsim.json"

local _M = {_VERSION = "0.1.0"}

_M.FOURTH_COFFEE_ID = "20181f26d9e94c81acdf9496133d4f23"
_M.TRAFFIC_ID = "8f77935e46704c718e45f52d0d5550a6"

local function props_of(list)
  local props, look = {}, {}
  for i, p in ipairs(list) do
    props[i] = {name = p[1], type = p[2]}
    look[p[1]:lower()] = props[i]
  end
  return props, look
end
_M.props_of = props_of

-- fourthcoffeesample.md's entity properties (the metadata example's spelling
-- IsWheelchairAccessible).
local FOURTH_PROPS = {
  {"EntityID", "Edm.String"}, {"Latitude", "Edm.Double"}, {"Longitude", "Edm.Double"},
  {"AddressLine", "Edm.String"}, {"PrimaryCity", "Edm.String"}, {"SecondaryCity", "Edm.String"},
  {"Subdivision", "Edm.String"}, {"CountryRegion", "Edm.String"}, {"PostalCode", "Edm.String"},
  {"Phone", "Edm.String"}, {"Manager", "Edm.String"}, {"StoreOpen", "Edm.String"},
  {"StoreType", "Edm.String"}, {"Name", "Edm.String"}, {"DisplayName", "Edm.String"},
  {"IsWiFiHotSpot", "Edm.Boolean"}, {"SeatingCapacity", "Edm.Int64"},
  {"IsWheelchairAccessible", "Edm.Boolean"}, {"AcceptsOnlineOrders", "Edm.Boolean"},
  {"AcceptsCoffeeCards", "Edm.Boolean"}, {"Open", "Edm.Int64"}, {"Close", "Edm.Int64"},
  {"CreatedDate", "Edm.DateTime"}, {"LastUpdatedDate", "Edm.DateTime"},
}

-- Rows the reference's examples show (query-by-area.md, query-by-property.md,
-- query-by-id.md), with their ids, points and names; the rest of their fields synthetic.
local REFERENCE_SHOPS = {
  {"-7884", 40.780329, -74.237863, "West Orange", "NJ"},
  {"-7891", 40.781604, -74.181775, "Bloomfield", "NJ"},
  {"-7920", 40.787240, -74.391041, "Chatham", "NJ"},
  {"-8051", 40.820685, -74.295683, "Livingston", "NJ"},
  {"-8174", 40.849513, -74.292831, "Roseland", "NJ"},
  {"-8181", 40.851404, -74.293720, "Roseland", "NJ"},
  {"-8080", 40.827191, -74.358151, "East Hanover", "NJ", wifi = true},
  {"-8077", 40.826413, -74.360059, "East Hanover", "NJ", wifi = true},
  {"-8089", 40.828150, -74.364028, "East Hanover", "NJ", wifi = true},
  {"-661", 27.894007, -82.670776, "Clearwater", "FL", wheelchair = true},
  {"-660", 27.893759, -82.667436, "Clearwater", "FL", wheelchair = true},
  {"-666", 27.899343, -82.715604, "Clearwater", "FL", wheelchair = true},
  {"-669", 27.916173, -82.733002, "Clearwater", "FL", wheelchair = false},
  {"-22067", 57.003766, 9.874434, "Aalborg", "Nordjyllands Amt", country = "Danmark",
    line = "L\195\184ven", postal = "9200", manager = "Alan Steiner", type = "Drive-Thru",
    open = 700, close = 1800, wifi = false, wheelchair = false, no_seats = true},
}

local MANAGERS = {"Aaron Con", "Alan Steiner", "Phil Spencer", "Pannarat Pattanapitakkul",
  "Maria Hammond", "Kim Ralls", "Jon Grande", "Dana Birkby"}
local STREETS = {"Main St", "Market St", "Bury Road", "Park Ave", "High St", "Station Rd",
  "Lake Dr", "Church St", "Elm St", "Harbor Way"}
local TYPES = {"Coffee Shop", "Kiosk", "Drive-Thru", "Caf\195\169"}

-- A small deterministic generator (no math.random: the same rows in every worker).
local function lcg(seed)
  local s = seed % 2147483647
  if s <= 0 then s = s + 2147483646 end
  return function(n)
    s = (s * 16807) % 2147483647
    return s % n
  end
end

-- over's value when given (false included), else the generated one.
local function pick(v, default)
  if v == nil then return default end
  return v
end

local function shop(id, lat, lon, city, sub, country, r, over)
  over = over or {}
  local n = tonumber(id:sub(2)) or 0
  local open = over.open or (600 + 100 * r(4))
  local name = "Fourth Coffee Store #" .. n
  local seats = 10 + 5 * r(12)
  if r(5) == 0 or over.no_seats then seats = nil end
  return {
    EntityID = id, Latitude = lat, Longitude = lon,
    AddressLine = over.line or ((100 + r(9000)) .. " " .. STREETS[1 + r(#STREETS)]),
    PrimaryCity = city, SecondaryCity = "", Subdivision = sub, CountryRegion = country,
    PostalCode = over.postal or tostring(10000 + r(89999)),
    Phone = string.format("800-555-%04d", r(10000)), Manager = over.manager or MANAGERS[1 + r(#MANAGERS)],
    StoreOpen = r(10) == 0 and "N" or "Y", StoreType = over.type or TYPES[1 + r(#TYPES)],
    Name = name, DisplayName = name .. ", " .. city .. ", " .. sub .. ", " .. country,
    IsWiFiHotSpot = pick(over.wifi, r(2) == 1),
    SeatingCapacity = seats,
    IsWheelchairAccessible = pick(over.wheelchair, r(3) > 0),
    AcceptsOnlineOrders = r(2) == 1, AcceptsCoffeeCards = r(4) > 0,
    Open = open, Close = over.close or (open + 1000 + 100 * r(6)),
    CreatedDate = string.format("2010-11-%02dT17:19:36", 1 + r(28)),
    LastUpdatedDate = string.format("2010-12-%02dT17:19:36", 1 + r(28)),
  }
end

local function fourth_coffee()
  gaz.load()
  local ents = {}
  local r = lcg(20181)
  for _, row in ipairs(REFERENCE_SHOPS) do
    ents[#ents + 1] = shop(row[1], row[2], row[3], row[4], row[5],
      row.country or "United States", r, row)
  end
  -- Four to six shops around every gazetteer city, ids -1000, -1001, ...
  local n = 1000
  for _, e in ipairs(gaz.entries) do
    if e.kind == "PopulatedPlace" then
      local a = e.address
      local cr = lcg(e.id * 7919 + 13)
      for _ = 1, 4 + cr(3) do
        -- within about 5 km of the centre
        local lat = e.lat + (cr(1000) - 500) / 500 * 0.045
        local lon = e.lon + (cr(1000) - 500) / 500 * 0.045 / math.max(math.cos(math.rad(e.lat)), 0.2)
        lat = math.floor(lat * 1e6 + 0.5) / 1e6
        lon = math.floor(lon * 1e6 + 0.5) / 1e6
        ents[#ents + 1] = shop("-" .. n, lat, lon, a.locality, a.adminDistrict or e.admin1_name
          or "", a.countryRegion, cr, {postal = e.postal})
        n = n + 1
      end
    end
  end
  local props, look = props_of(FOURTH_PROPS)
  return {access_id = _M.FOURTH_COFFEE_ID, name = "FourthCoffeeSample",
    entity_type = "FourthCoffeeShops", key_prop = "EntityID", props = props, plookup = look,
    entities = ents, public = true, updated = 1207834200}
end

-- pointsofinterest.md: /REST/v1/data/Microsoft/PointsOfInterest (no entity type segment).
local POI_TYPE_IDS = {CoffeeAndTea = "9996", Pizza = "5800", Restaurants = "5800",
  MovieTheaters = "7832", Museums = "8410", Hotels = "7011", Supermarkets = "5400",
  Grocery = "5400", LandmarksAndHistoricalSites = "5999", AmusementParks = "7996",
  ShoppingCenters = "6512", TouristInformation = "7389"}

local function points_of_interest()
  local poi = require("bingsim.poi").load()
  local ents = {}
  for _, b in ipairs(poi.businesses) do
    local tid = "5800"
    for _, t in ipairs(b.types) do
      if POI_TYPE_IDS[t] then tid = POI_TYPE_IDS[t]; break end
    end
    local a2 = b.city and b.city.address and b.city.address.adminDistrict2
    ents[#ents + 1] = {EntityID = tostring(987654321000 + b.id), Name = b.name,
      DisplayName = b.name, Latitude = b.lat, Longitude = b.lon, AddressLine = b.line,
      Locality = b.locality, AdminDistrict = b.admin_name, AdminDistrict2 = a2,
      PostalCode = b.postal, CountryRegion = b.iso2 == "US" and "USA" or b.country,
      Phone = b.phone, EntityTypeID = tid}
  end
  local props, look = props_of({{"EntityID", "Edm.String"}, {"Name", "Edm.String"},
    {"DisplayName", "Edm.String"}, {"Latitude", "Edm.Double"}, {"Longitude", "Edm.Double"},
    {"AddressLine", "Edm.String"}, {"Locality", "Edm.String"}, {"AdminDistrict", "Edm.String"},
    {"AdminDistrict2", "Edm.String"}, {"PostalCode", "Edm.String"},
    {"CountryRegion", "Edm.String"}, {"Phone", "Edm.String"}, {"EntityTypeID", "Edm.String"}})
  return {access_id = "Microsoft", name = "PointsOfInterest", entity_type = nil,
    key_prop = "EntityID", props = props, plookup = look, entities = ents, public = true,
    poi = true, updated = 1207834200}
end

-- traffic-incident-data-source.md: three incidents around every US city of 300,000 people
-- or more (the gazetteer counts thousands), synthetic.
local function traffic()
  gaz.load()
  local ents = {}
  local kinds = {"Accident", "Congestion", "DisabledVehicle", "MassTransit", "Miscellaneous",
    "OtherNews", "PlannedEvent", "RoadHazard", "Construction", "Alert", "Weather"}
  local sev = {"LowImpact", "Minor", "Moderate", "Serious"}
  local n = 0
  for _, e in ipairs(gaz.entries) do
    if e.kind == "PopulatedPlace" and e.iso2 == "US" and (e.importance or 0) >= 300 then
      local r = lcg(e.id * 31 + 7)
      for _ = 1, 3 do
        n = n + 1
        local lat = math.floor((e.lat + (r(200) - 100) / 2000) * 1e5 + 0.5) / 1e5
        local lon = math.floor((e.lon + (r(200) - 100) / 2000) * 1e5 + 0.5) / 1e5
        ents[#ents + 1] = {IncidentId = tostring(210546000 + n), Latitude = lat, Longitude = lon,
          LastModifiedUTC = "2011-12-05T17:16:00", StartTimeUTC = "2011-12-05T17:16:00",
          EndTimeUTC = "2011-12-05T17:46:00", Type = kinds[1 + r(#kinds)],
          Severity = sev[1 + r(#sev)], Verified = r(2) == 1, RoadClosed = r(5) == 0,
          Description = "Incident near " .. e.address.locality, DetourInfo = "", LaneInfo = "",
          CongestionInfo = "", ToPointLatitude = lat + 0.01, ToPointLongitude = lon + 0.01}
      end
    end
  end
  local props, look = props_of({{"IncidentId", "Edm.String"}, {"Latitude", "Edm.Double"},
    {"Longitude", "Edm.Double"}, {"LastModifiedUTC", "Edm.DateTime"},
    {"StartTimeUTC", "Edm.DateTime"}, {"EndTimeUTC", "Edm.DateTime"}, {"Type", "Edm.String"},
    {"Severity", "Edm.String"}, {"Verified", "Edm.Boolean"}, {"RoadClosed", "Edm.Boolean"},
    {"Description", "Edm.String"}, {"DetourInfo", "Edm.String"}, {"LaneInfo", "Edm.String"},
    {"CongestionInfo", "Edm.String"}, {"ToPointLatitude", "Edm.Double"},
    {"ToPointLongitude", "Edm.Double"}})
  return {access_id = _M.TRAFFIC_ID, name = "TrafficIncidents", entity_type = "TrafficIncident",
    key_prop = "IncidentId", props = props, plookup = look, entities = ents, public = true,
    updated = 1207834200}
end

local public
function _M.public()
  if not public then public = {fourth_coffee(), points_of_interest(), traffic()} end
  return public
end

---------------------------------------------------------------------------------------------
-- The account's data sources
---------------------------------------------------------------------------------------------

-- Every emulator key belongs to one Bing Maps account; its data sources share one access id.
_M.ACCOUNT_ACCESS_ID = "b1c5e6d2a7f84d3c9e0f1a2b3c4d5e6f"

local function dict() return ngx.shared.bingsim_jobs end
local function dkey(name) return "sdsds:" .. name:lower() end

function _M.get_user(name)
  local s = dict():get(dkey(name))
  if not s then return nil end
  local src = json.decode(s)
  src.props, src.plookup = props_of(src.prop_list)
  return src
end

-- The source with its completed load jobs applied.
function _M.get(name)
  return (require("bingsim.sds_data").settle(_M.get_user(name)))
end

function _M.put_user(src)
  local copy = {}
  for k, v in pairs(src) do
    if k ~= "props" and k ~= "plookup" then copy[k] = v end
  end
  dict():set(dkey(src.name), json.encode(copy))
  local names = _M.user_names()
  local found = false
  for _, n in ipairs(names) do if n:lower() == src.name:lower() then found = true end end
  if not found then
    names[#names + 1] = src.name
    dict():set("sdsds-names", json.encode(names))
  end
end

function _M.delete_user(name)
  dict():delete(dkey(name))
  local out = {}
  for _, n in ipairs(_M.user_names()) do if n:lower() ~= name:lower() then out[#out + 1] = n end end
  dict():set("sdsds-names", json.encode(out))
end

function _M.user_names()
  local s = dict():get("sdsds-names")
  return s and json.decode(s) or {}
end

-- The source an URL names (access id compared case-insensitively, names too). For a user
-- source `version` is the published one, or the staged one with isStaging.
function _M.find(access_id, name, staging)
  for _, s in ipairs(_M.public()) do
    if s.access_id:lower() == access_id:lower() and s.name:lower() == name:lower() then return s end
  end
  if access_id:lower() ~= _M.ACCOUNT_ACCESS_ID then return nil end
  local src = _M.get(name)
  if not src then return nil end
  local v = staging and src.staged or src.published
  if not v then return nil, src end
  src.entities = v.entities
  return src
end

return _M
