--- The argument checkers every family shares, one implementation of each.
--
-- Two strengths (DESIGN.md): a wrong type, a missing required argument or an unknown option
-- is a programmer error and raises an `argument` error; a value outside a documented limit
-- returns `nil, err` (kind `argument`). Either way nothing is sent. A checker is called as
-- `fn(what, name, v)` (`what` names the call, `name` the option) and gives the value to send,
-- or `nil, err`; the lower-case factories (`check.int(1, 20)`) make one for a declaration.
-- @module bing.check
local errors = require "bing.errors"

local _M = {}

local fmt, floor = string.format, math.floor

local function raise(what, f, ...)
  errors.raise(what .. ": " .. fmt(f, ...), 4)
end
_M.raise = raise

local function bad(what, f, ...)
  return nil, errors.argument(what .. ": " .. fmt(f, ...))
end
_M.bad = bad

--- Raises unless every key of `args` is named in `allowed` (a set).
function _M.known(what, args, allowed)
  for k in pairs(args) do
    if not allowed[k] then raise(what, "unknown option '%s'", tostring(k)) end
  end
end

--- Raises unless `v` is nil or of type `t` (one type name or several joined by "|").
function _M.typed(what, name, v, t, required)
  if v == nil then
    if required then raise(what, "%s is required", name) end
    return nil
  end
  local tv = type(v)
  if tv ~= t and not t:find(tv, 1, true) then raise(what, "%s must be a %s, got %s", name, t, tv) end
  return v
end
local typed = _M.typed

--- Whether x is a number that is neither NaN nor infinite.
local function finite(x)
  return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge
end
_M.finite = finite

-- A coordinate with at most 7 decimals (about 1 cm), no trailing zeros: short, stable URLs.
local function coord(x)
  local s = fmt("%.7f", x):gsub("0+$", ""):gsub("%.$", "")
  return s == "-0" and "0" or s
end
_M.coord = coord

local function int(x) return math.tointeger and math.tointeger(x) or x end

--- Appends the request parameter {name, value} to params unless value is nil.
function _M.add(params, name, value)
  if value ~= nil then params[#params + 1] = {name, value} end
end

--- A list or a comma string -> a list of trimmed items (raises on another type).
local function items(what, name, v, kind)
  if type(v) == "table" then return v end
  if type(v) ~= "string" then raise(what, "%s must be a string or a list of %s", name, kind or "strings") end
  local list = {}
  for item in v:gmatch("[^,]+") do list[#list + 1] = item:match("^%s*(.-)%s*$") end
  return list
end
_M.items = items

--- lat, lon of a point in any accepted form: {lat, lon}, {lat=, lon=}, {latitude=,
-- longitude=}, a Bing Point {coordinates = {lat, lon}}, a resource with `point`, or any
-- object with a `:latlon()` method (a Location, a SearchResult, ...). nil when none fits.
local function latlon(p)
  if type(p) ~= "table" then return nil end
  if getmetatable(p) and type(p.latlon) == "function" then return p:latlon() end
  if type(p[1]) == "number" and type(p[2]) == "number" then return p[1], p[2] end
  if type(p.lat) == "number" then return p.lat, p.lon end
  if type(p.latitude) == "number" then return p.latitude, p.longitude end
  local c = p.coordinates or (type(p.point) == "table" and p.point.coordinates)
  if type(c) == "table" and type(c[1]) == "number" then return c[1], c[2] end
  return nil
end
_M.latlon = latlon

--- A point in any form of `latlon` -> "lat,lon", lat, lon; or nil, err.
function _M.point(what, name, p)
  if p == nil then return nil end
  if type(p) ~= "table" then raise(what, "%s must be a table {lat, lon}, got %s", name, type(p)) end
  local lat, lon = latlon(p)
  if type(lat) ~= "number" or type(lon) ~= "number" then
    raise(what, "%s must hold two numbers {lat, lon}", name)
  end
  if not finite(lat) or lat < -90 or lat > 90 then
    return bad(what, "%s latitude must be within [-90, 90], got %s", name, tostring(lat))
  end
  if not finite(lon) or lon < -180 or lon > 180 then
    return bad(what, "%s longitude must be within [-180, 180], got %s", name, tostring(lon))
  end
  return coord(lat) .. "," .. coord(lon), lat, lon
end

--- A point -> {lat=, lon=, text=}, or nil, err.
function _M.where(what, name, p)
  local text, lat, lon = _M.point(what, name, p)
  if not text then return nil, lat end
  return {lat = lat, lon = lon, text = text}
end

--- A list of points (coordinates only) -> a list of {lat=, lon=, text=}, or nil, err.
function _M.points(what, name, list)
  if type(list) ~= "table" then raise(what, "%s must be a list", name) end
  local out = {}
  for i, p in ipairs(list) do
    if type(p) == "string" then
      raise(what, "%s[%d] must be a point {lat, lon}: this API takes coordinates only "
        .. "(geocode addresses first with client.locations.find)", name, i)
    end
    local pt, err = _M.where(what, name .. "[" .. i .. "]", p)
    if not pt then return nil, err end
    out[i] = pt
  end
  return out
end

--- A bounding box {south, west, north, east} (or named fields) -> "s,w,n,e", or nil, err.
function _M.bbox(what, name, b)
  if b == nil then return nil end
  if type(b) ~= "table" then raise(what, "%s must be a table {south, west, north, east}", name) end
  local s, w, n, e = b[1] or b.south, b[2] or b.west, b[3] or b.north, b[4] or b.east
  for _, v in ipairs{s, w, n, e} do
    if type(v) ~= "number" then raise(what, "%s must hold four numbers {south, west, north, east}", name) end
  end
  if not (finite(s) and finite(n)) or s < -90 or n > 90 or s > n then
    return bad(what, "%s needs -90 <= south <= north <= 90", name)
  end
  if not (finite(w) and finite(e)) or w < -180 or w > 180 or e < -180 or e > 180 then
    return bad(what, "%s longitudes must be within [-180, 180]", name)
  end
  return table.concat({coord(s), coord(w), coord(n), coord(e)}, ",")
end

--- {lat, lon[, radius]} or {lat=, lon=, radius=} -> "lat,lon[,radius]" (radius in metres),
-- or nil, err. `need_radius`: the radius is part of the shape (userCircularMapView).
function _M.circle(what, name, c, need_radius)
  if c == nil then return nil end
  local p, err = _M.point(what, name, c)
  if not p then return nil, err end
  local r = c[3] or c.radius
  if r == nil and not need_radius then return p end
  if type(r) ~= "number" then raise(what, "%s must hold three numbers {lat, lon, radius}", name) end
  if r ~= r or r == math.huge or r < 0 or (need_radius and r == 0) then
    return bad(what, "%s radius (metres) must be %s, got %s", name,
      need_radius and "more than 0" or "0 or more", tostring(r))
  end
  return p .. "," .. coord(r)
end

--- A set of documented values: lower-case -> canonical spelling.
function _M.set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v:lower()] = v end
  return s
end

local function spelled(allowed)
  local names = {}
  for k, x in pairs(allowed) do if k == x:lower() then names[#names + 1] = x end end
  table.sort(names)
  return table.concat(names, ", ")
end

--- A case-insensitive choice among documented values -> the canonical spelling, or nil, err.
function _M.choice(what, name, v, allowed)
  if v == nil then return nil end
  if type(v) ~= "string" then raise(what, "%s must be a string", name) end
  local c = allowed[v:lower()]
  if not c then return bad(what, "%s '%s' is not one of %s", name, v, spelled(allowed)) end
  return c
end

--- A list (or comma string) of names checked against `allowed` (see set_of) -> "A,B", or
-- nil, err.
function _M.names(what, name, v, allowed)
  if v == nil then return nil end
  local list = items(what, name, v)
  if #list == 0 then return bad(what, "%s is empty", name) end
  local out = {}
  for i, item in ipairs(list) do
    local canon = type(item) == "string" and allowed[item:lower()]
    if not canon then
      return bad(what, "%s[%d] '%s' is not one of %s", name, i, tostring(item), spelled(allowed))
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
  raise(what, "%s must be a boolean", name)
end

--- A boolean, kept as it is (a query parameter writes it "true"/"false").
function _M.boolean(what, name, v)
  return typed(what, name, v, "boolean")
end

--- A finite number (`positive`: more than 0), or nil, err.
function _M.number(what, name, v, positive)
  if v == nil then return nil end
  if type(v) ~= "number" then raise(what, "%s must be a number", name) end
  if not finite(v) or (positive and v <= 0) then
    return bad(what, "%s must be a %snumber, got %s", name, positive and "positive " or "", tostring(v))
  end
  return int(v)
end

--- An integer in [lo, hi], or nil, err.
function _M.int_range(what, name, v, lo, hi)
  if v == nil then return nil end
  if type(v) ~= "number" then raise(what, "%s must be a number, got %s", name, type(v)) end
  if v ~= floor(v) or v < lo or v > hi then
    return bad(what, "%s must be an integer from %d to %d, got %s", name, lo, hi, tostring(v))
  end
  return int(v)
end

--- A list of numbers (nil when empty).
function _M.number_list(what, name, v)
  if v == nil then return nil end
  if type(v) ~= "table" then raise(what, "%s must be a list of numbers", name) end
  for i, x in ipairs(v) do
    if type(x) ~= "number" then raise(what, "%s[%d] must be a number", name, i) end
  end
  return #v > 0 and v or nil
end

--- A list (raises on another type, or when `required` and absent).
function _M.list(what, name, v, required)
  if typed(what, name, v, "table", required) == nil then return nil end
  return v
end

--- A non-empty string, or nil, err; raises on a wrong type.
function _M.text(what, name, v, required)
  typed(what, name, v, "string", required)
  if v == nil then return nil end
  if not v:find("%S") then return bad(what, "%s must not be empty", name) end
  return v
end

--- An IPv4 address in dotted form (userIp), or nil, err.
function _M.ipv4(what, name, v)
  if typed(what, name, v, "string") == nil then return nil end
  local parts = {v:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")}
  local ok = #parts == 4
  for _, o in ipairs(parts) do if tonumber(o) > 255 then ok = false end end
  if not ok then return bad(what, "%s must be an IPv4 address such as 127.0.0.1", name) end
  return v
end

--- A two-letter ISO 3166-1 code (userRegion, countryRegion), or nil, err.
function _M.iso2(what, name, v)
  if typed(what, name, v, "string") == nil then return nil end
  if not v:match("^%a%a$") then return bad(what, "%s must be a two-letter ISO code", name) end
  return v:upper()
end

--- A culture code (supported-culture-codes.md), sent as given.
function _M.culture(what, name, v)
  return typed(what, name, v, "string")
end

local DAYS = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

--- Bing's date-time "2018-05-09 13:34:42Z" ("T" accepted for the space) or seconds since the
-- epoch -> Bing's form, or nil, err (location-recognition.md's dateTime).
function _M.bing_time(what, name, v)
  if v == nil then return nil end
  if type(v) == "number" then
    if v ~= v or v < 0 or v >= 253402300800 then
      return bad(what, "%s must be a time from 1970 to 9999, got %s", name, tostring(v))
    end
    return os.date("!%Y-%m-%d %H:%M:%SZ", floor(v))
  end
  typed(what, name, v, "string|number")
  local y, mo, d, h, mi, s = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[ T](%d%d):(%d%d):(%d%d)Z$")
  local ok = y ~= nil
  if ok then
    y, mo, d, h, mi, s = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
    local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
    local dim = mo >= 1 and mo <= 12 and (DAYS[mo] + ((mo == 2 and leap) and 1 or 0)) or 0
    ok = d >= 1 and d <= dim and h <= 23 and mi <= 59 and s <= 59
  end
  if not ok then
    return bad(what, "%s must be a UTC time such as '2018-05-09 13:34:42Z', got '%s'", name, v)
  end
  return fmt("%04d-%02d-%02d %02d:%02d:%02dZ", y, mo, d, h, mi, s)
end

--- An ISO 8601 date-time "YYYY-MM-DDTHH:MM:SS[...]", sent as given, or nil, err.
function _M.iso_time(what, name, v, required)
  if typed(what, name, v, "string", required) == nil then return nil end
  if not v:match("^%d%d%d%d%-%d%d%-%d%dT%d%d?:%d%d:%d%d") then
    return bad(what, "%s must be an ISO date time YYYY-MM-DDTHH:MM:SS, got '%s'", name, v)
  end
  return v
end

--- A duration "HH:MM:SS[.fffffff]", or nil, err.
function _M.span(what, name, v, required)
  if v == nil then
    if required then raise(what, "%s is required", name) end
    return nil
  end
  if type(v) ~= "string" then raise(what, "%s must be a string HH:MM:SS", name) end
  if not v:match("^%d+:%d%d:%d%d[%.%d]*$") then
    return bad(what, "%s must be a duration HH:MM:SS[.fffffff], got '%s'", name, v)
  end
  return v
end

-- common-parameters-and-types/type-identifiers/*.md: each top-level type ID (index.md) with
-- its sub-category IDs (an empty list: "No sub-categories"). Either level may be given.
_M.TYPE_IDS = {
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
}
local TYPE_SET = {}
for top, subs in pairs(_M.TYPE_IDS) do
  TYPE_SET[top:lower()] = top
  for _, id in ipairs(subs) do TYPE_SET[id:lower()] = id end
end

--- Type IDs (a list or a comma string) -> "A,B", or nil, err. The message names the lists
-- rather than the 90-odd IDs.
function _M.type_ids(what, name, v)
  if v == nil then return nil end
  local list = items(what, name, v, "type IDs")
  if #list == 0 then return bad(what, "%s is empty", name) end
  local out = {}
  for i, item in ipairs(list) do
    if type(item) ~= "string" then raise(what, "%s[%d] must be a string, got %s", name, i, type(item)) end
    local canon = TYPE_SET[item:lower()]
    if not canon then
      return bad(what, "%s[%d] '%s' is not a type ID (type-identifiers: EatDrink, SeeDo, Shop, "
        .. "BanksAndCreditUnions, Hospitals, HotelsAndMotels, Parking and their sub-categories)",
        name, i, item)
    end
    out[i] = canon
  end
  return table.concat(out, ",")
end

--- A waypoint: a point (any form of `latlon`), or an address / landmark string; a table may
-- say `via = true`. -> {lat=, lon=, text=, address=?, via=}, or nil, err.
function _M.waypoint(what, name, w)
  if type(w) == "string" then
    if not w:find("%S") then return bad(what, "%s must not be empty", name) end
    return {text = w, address = w}
  end
  if type(w) ~= "table" then
    raise(what, "%s must be a point {lat, lon}, an address string or a table", name)
  end
  typed(what, name .. ".via", w.via, "boolean")
  -- A Location has an address table and a point: its point.
  local addr = w.landmark or w.q or (type(w[1]) == "string" and w[1]) or nil
  if type(w.address) == "string" or (w.address ~= nil and latlon(w) == nil) then addr = w.address end
  if addr ~= nil then
    if type(addr) ~= "string" then raise(what, "%s.address must be a string", name) end
    if not addr:find("%S") then return bad(what, "%s address must not be empty", name) end
    return {text = addr, address = addr, via = w.via == true}
  end
  if latlon(w) == nil then raise(what, "%s must be a point {lat, lon}", name) end
  local p, err = _M.where(what, name, w)
  if not p then return nil, err end
  p.via = w.via == true
  return p
end

-- Factories: a checker with its limits bound, for the parameter lists of declarations.
function _M.int(lo, hi) return function(w, n, v) return _M.int_range(w, n, v, lo, hi) end end
function _M.one_of(list)
  local set = _M.set_of(list)
  return function(w, n, v) return _M.choice(w, n, v, set) end
end
function _M.some_of(list)
  local set = _M.set_of(list)
  return function(w, n, v) return _M.names(w, n, v, set) end
end
function _M.required_text(w, n, v) return _M.text(w, n, v, true) end
function _M.positive(w, n, v) return _M.number(w, n, v, true) end

return _M
