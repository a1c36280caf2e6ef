--- Documented limits and the small argument checkers every family shares.
--
-- Checks come in two strengths (DESIGN.md): a wrong type, a missing required argument or an
-- unknown option is a programmer error and raises an `argument` error; a value outside a
-- documented limit returns `nil, err` (kind `argument`) from the call. Either way nothing is
-- sent. Checkers that can return an error give `value` or `nil, err`.
-- @module bing.limits
local errors = require "bing.errors"

local _M = {}

-- locations/find-a-location-by-*.md
_M.locations = {
  max_results = {1, 20},
  include = {
    query = {queryparse = "queryParse", ciso2 = "ciso2"},
    address = {ciso2 = "ciso2"},
    point = {ciso2 = "ciso2"},
  },
  entity_types = {
    address = "Address", neighborhood = "Neighborhood", populatedplace = "PopulatedPlace",
    postcode1 = "Postcode1", admindivision1 = "AdminDivision1", admindivision2 = "AdminDivision2",
    countryregion = "CountryRegion",
  },
  address_fields = {addressLine = true, locality = true, adminDistrict = true, postalCode = true,
                    countryRegion = true},
  -- locations/location-recognition.md
  recog = {
    radius_km = 2,                 -- "The maximum supported radius is 2 KM" (default 0.25)
    km_per_mile = 1.609344,
    top = {1, 20},                 -- default 10
    distance_units = {kilometer = "kilometer", km = "km", mile = "mile", mi = "mi"},
    entity_types = {businessandpoi = "businessAndPOI", naturalpoi = "naturalPOI",
                    address = "address"},
  },
  -- locations/local-search.md
  local_search = {max_results = {1, 25}},  -- default 5
  -- common-parameters-and-types/type-identifiers/*.md: each top-level type ID (index.md) with
  -- its sub-category IDs (an empty list: "No sub-categories"). `type=` of recognize and
  -- local_search takes IDs of either level.
  type_ids = {
    EatDrink = {"Bars", "BarsGrillsAndPubs", "BelgianRestaurants", "BreweriesAndBrewPubs",
      "BritishRestaurants", "BuffetRestaurants", "CafeRestaurants", "CaribbeanRestaurants",
      "ChineseRestaurants", "CocktailLounges", "CoffeeAndTea", "Delicatessens", "DeliveryService",
      "Diners", "DiscountStores", "Donuts", "FastFood", "FrenchRestaurants", "FrozenYogurt",
      "GermanRestaurants", "GreekRestaurants", "Grocers", "Grocery", "HawaiianRestaurants",
      "HungarianRestaurants", "IceCreamAndFrozenDesserts", "IndianRestaurants",
      "ItalianRestaurants", "JapaneseRestaurants", "Juices", "KoreanRestaurants", "LiquorStores",
      "MexicanRestaurants", "MiddleEasternRestaurants", "Pizza", "PolishRestaurants",
      "PortugueseRestaurants", "Pretzels", "Restaurants", "RussianAndUkrainianRestaurants",
      "Sandwiches", "SeafoodRestaurants", "SpanishRestaurants", "SportsBars",
      "SteakHouseRestaurants", "Supermarkets", "SushiRestaurants", "TakeAway", "Taverns",
      "ThaiRestaurants", "TurkishRestaurants", "VegetarianAndVeganRestaurants",
      "VietnameseRestaurants"},
    SeeDo = {"AmusementParks", "Attractions", "Carnivals", "Casinos",
      "LandmarksAndHistoricalSites", "MiniatureGolfCourses", "MovieTheaters", "Museums", "Parks",
      "SightseeingTours", "TouristInformation", "Zoos"},
    Shop = {"AntiqueStores", "Bookstores", "CDAndRecordStores", "ChildrensClothingStores",
      "CigarAndTobaccoShops", "ComicBookStores", "DepartmentStores", "DiscountStores",
      "FleaMarketsAndBazaars", "FurnitureStores", "HomeImprovementStores",
      "JewelryAndWatchesStores", "KitchenwareStores", "LiquorStores", "MallsAndShoppingCenters",
      "MensClothingStores", "MusicStores", "OutletStores", "PetShops", "PetSupplyStores",
      "SchoolAndOfficeSupplyStores", "ShoeStores", "SportingGoodsStores", "ToyAndGameStores",
      "VitaminAndSupplementStores", "WomensClothingStores"},
    BanksAndCreditUnions = {}, Hospitals = {}, HotelsAndMotels = {}, Parking = {},
  },
}

--- Raises unless every key of `args` is named in `allowed` (a set). `what` names the call.
function _M.known(what, args, allowed)
  for k in pairs(args) do
    if not allowed[k] then
      errors.raise(string.format("%s: unknown option '%s'", what, tostring(k)), 3)
    end
  end
end

--- Raises unless `v` is nil or of type `t` (one type name or several joined by "|").
function _M.typed(what, name, v, t, required)
  if v == nil then
    if required then errors.raise(string.format("%s: %s is required", what, name), 3) end
    return
  end
  local got = type(v)
  if not t:find(got, 1, true) then
    errors.raise(string.format("%s: %s must be a %s, got %s", what, name, t, got), 3)
  end
end

local function bad(what, fmt, ...)
  return nil, errors.argument(what .. ": " .. string.format(fmt, ...))
end
_M.bad = bad

--- An integer in [lo, hi], or nil, err.
function _M.int_range(what, name, v, lo, hi)
  if v == nil then return nil end
  if type(v) ~= "number" then
    errors.raise(string.format("%s: %s must be a number, got %s", what, name, type(v)), 3)
  end
  if v ~= math.floor(v) or v < lo or v > hi then
    return bad(what, "%s must be an integer from %d to %d, got %s", name, lo, hi, tostring(v))
  end
  return math.tointeger and math.tointeger(v) or v
end

-- Formats a coordinate with at most 7 decimals (about 1 cm), without trailing zeros, so that
-- URLs stay short and stable whatever float arithmetic produced the value.
local function coord(x)
  local s = string.format("%.7f", x):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end
_M.coord = coord

--- Whether x is a number that is neither NaN nor infinite.
local function finite(x)
  return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge
end
_M.finite = finite

--- Appends the request parameter {name, value} to params unless value is nil.
function _M.add(params, name, value)
  if value ~= nil then params[#params + 1] = {name, value} end
end

--- A point `{lat, lon}`, `{lat=, lon=}` or `{latitude=, longitude=}` -> "lat,lon", or nil, err.
function _M.point(what, name, p)
  if p == nil then return nil end
  if type(p) ~= "table" then
    errors.raise(string.format("%s: %s must be a table {lat, lon}, got %s", what, name, type(p)), 3)
  end
  local lat = p[1] or p.lat or p.latitude
  local lon = p[2] or p.lon or p.longitude
  if type(lat) ~= "number" or type(lon) ~= "number" then
    errors.raise(string.format("%s: %s must hold two numbers {lat, lon}", what, name), 3)
  end
  if not finite(lat) or lat < -90 or lat > 90 then
    return bad(what, "%s latitude must be within [-90, 90], got %s", name, tostring(lat))
  end
  if not finite(lon) or lon < -180 or lon > 180 then
    return bad(what, "%s longitude must be within [-180, 180], got %s", name, tostring(lon))
  end
  return coord(lat) .. "," .. coord(lon)
end

--- A bounding box `{south, west, north, east}` (or named fields) -> "s,w,n,e", or nil, err.
function _M.bbox(what, name, b)
  if b == nil then return nil end
  if type(b) ~= "table" then
    errors.raise(string.format("%s: %s must be a table {south, west, north, east}", what, name), 3)
  end
  local s, w = b[1] or b.south, b[2] or b.west
  local n, e = b[3] or b.north, b[4] or b.east
  for _, v in ipairs{s, w, n, e} do
    if type(v) ~= "number" then
      errors.raise(string.format("%s: %s must hold four numbers {south, west, north, east}",
        what, name), 3)
    end
  end
  if not (finite(s) and finite(n)) or s < -90 or n > 90 or s > n then
    return bad(what, "%s needs -90 <= south <= north <= 90", name)
  end
  if not (finite(w) and finite(e)) or w < -180 or w > 180 or e < -180 or e > 180 then
    return bad(what, "%s longitudes must be within [-180, 180]", name)
  end
  return table.concat({coord(s), coord(w), coord(n), coord(e)}, ",")
end

--- A list (or comma-separated string) of names checked against `allowed` (lower-case name ->
-- canonical spelling) -> "A,B", or nil, err.
function _M.names(what, name, v, allowed)
  if v == nil then return nil end
  local list = v
  if type(v) == "string" then
    list = {}
    for item in v:gmatch("[^,]+") do list[#list + 1] = item:match("^%s*(.-)%s*$") end
  elseif type(v) ~= "table" then
    errors.raise(string.format("%s: %s must be a string or a list of strings", what, name), 3)
  end
  if #list == 0 then return bad(what, "%s is empty", name) end
  local out = {}
  for i, item in ipairs(list) do
    local canon = type(item) == "string" and allowed[item:lower()]
    if not canon then
      local names = {}
      for _, c in pairs(allowed) do names[#names + 1] = c end
      table.sort(names)
      return bad(what, "%s[%d] '%s' is not one of %s", name, i, tostring(item),
        table.concat(names, ", "))
    end
    out[#out + 1] = canon
  end
  return table.concat(out, ",")
end

--- Bing's 0/1 flags from a boolean (or 0/1).
function _M.flag(what, name, v)
  if v == nil then return nil end
  if v == true or v == 1 then return "1" end
  if v == false or v == 0 then return "0" end
  errors.raise(string.format("%s: %s must be a boolean", what, name), 3)
end

--- A non-empty string, or nil, err; raises on a wrong type.
function _M.text(what, name, v, required)
  _M.typed(what, name, v, "string", required)
  if v == nil then return nil end
  if not v:find("%S") then return bad(what, "%s must not be empty", name) end
  return v
end

--- An IPv4 address in dotted form (userIp), or nil, err.
function _M.ipv4(what, name, v)
  if v == nil then return nil end
  _M.typed(what, name, v, "string")
  local parts = {v:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")}
  local ok = #parts == 4
  for _, o in ipairs(parts) do
    if tonumber(o) > 255 then ok = false end
  end
  if not ok then return bad(what, "%s must be an IPv4 address such as 127.0.0.1", name) end
  return v
end

--- A two-letter ISO 3166-1 code (userRegion, countryRegion), or nil, err.
function _M.iso2(what, name, v)
  if v == nil then return nil end
  _M.typed(what, name, v, "string")
  if not v:match("^%a%a$") then return bad(what, "%s must be a two-letter ISO code", name) end
  return v:upper()
end

return _M
