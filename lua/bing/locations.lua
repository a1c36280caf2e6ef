--- Locations: geocoding by query, by structured address, and reverse geocoding by point.
--
--     client.locations.find{q = "1 Microsoft Way, Redmond, WA 98052"}
--     client.locations.find{address = {addressLine = "1 Microsoft Way", locality = "Redmond",
--                                      adminDistrict = "WA", postalCode = "98052"}}
--     client.locations.find{point = {47.64054, -122.12934}}
--
-- Each returns a list of `Location` objects (`bing.types`), empty when nothing matched, or
-- `nil, err`. Options use Bing's parameter names (reference: rest-services/locations/):
--
-- * every form: `maxResults` (1-20, default 5; not for `point`), `includeNeighborhood`
--   (boolean), `include` (`"ciso2"`, and `"queryParse"` for `q`; a list or a comma string),
--   `culture`, plus our own `dry_run` and `timeout`;
-- * `q` and `address`: the user context parameters `userLocation` ({lat, lon}),
--   `userMapView` ({south, west, north, east}), `userIp` (IPv4), `userRegion` (ISO 3166 alpha-2);
-- * `address` only: `strictMatch` (boolean);
-- * `point` only: `includeEntityTypes` (Address, Neighborhood, PopulatedPlace, Postcode1,
--   AdminDivision1, AdminDivision2, CountryRegion), `verboseplacenames` (boolean).
--
-- Structured addresses go as query parameters (the "any country/region" template), never as
-- path segments: the structured path templates reject values with `.`, `,`, `:` or `+`, which
-- real addresses ("100 Main St.") contain.
-- @module bing.locations
local limits = require "bing.limits"
local types = require "bing.types"
local errors = require "bing.errors"

local _M = {}

local L = limits.locations
local WHAT = "locations.find"

local COMMON = {q = true, query = true, address = true, point = true, maxResults = true,
                includeNeighborhood = true, include = true, culture = true, dry_run = true,
                timeout = true}
local CONTEXT = {userLocation = true, userMapView = true, userIp = true, userRegion = true}
local ALLOWED = {}
for k in pairs(COMMON) do ALLOWED[k] = true end
for k in pairs(CONTEXT) do ALLOWED[k] = true end
ALLOWED.strictMatch, ALLOWED.includeEntityTypes, ALLOWED.verboseplacenames = true, true, true

local add = limits.add

-- Collects the option values shared by the three forms; returns nil, err on a bad value.
local function common(client, args, form, params)
  local err, v
  if form ~= "point" then
    v, err = limits.int_range(WHAT, "maxResults", args.maxResults, L.max_results[1], L.max_results[2])
    if err then return nil, err end
    add(params, "maxResults", v)
  elseif args.maxResults ~= nil then
    return limits.bad(WHAT, "maxResults is not a parameter of find{point=}")
  end
  add(params, "includeNeighborhood", limits.flag(WHAT, "includeNeighborhood", args.includeNeighborhood))
  v, err = limits.names(WHAT, "include", args.include, L.include[form])
  if err then return nil, err end
  add(params, "include", v)
  limits.typed(WHAT, "culture", args.culture, "string")
  add(params, "culture", args.culture or client.culture)
  if form == "point" then
    for name in pairs(CONTEXT) do
      if args[name] ~= nil then
        return limits.bad(WHAT, "%s is not a parameter of find{point=}", name)
      end
    end
    return true
  end
  v, err = limits.point(WHAT, "userLocation", args.userLocation)
  if err then return nil, err end
  add(params, "userLocation", v)
  v, err = limits.bbox(WHAT, "userMapView", args.userMapView)
  if err then return nil, err end
  add(params, "userMapView", v)
  v, err = limits.ipv4(WHAT, "userIp", args.userIp)
  if err then return nil, err end
  add(params, "userIp", v)
  v, err = limits.iso2(WHAT, "userRegion", args.userRegion)
  if err then return nil, err end
  add(params, "userRegion", v)
  return true
end

local function address_params(addr, params)
  if type(addr) ~= "table" then
    errors.raise(WHAT .. ": address must be a table {addressLine=, locality=, adminDistrict=, "
      .. "postalCode=, countryRegion=}", 4)
  end
  local any = false
  -- A fixed order keeps URLs (and so caches and logs) stable.
  for _, name in ipairs{"countryRegion", "adminDistrict", "locality", "postalCode", "addressLine"} do
    local v = addr[name]
    limits.typed(WHAT, "address." .. name, v, "string")
    if v ~= nil and v:find("%S") then
      any = true
      add(params, name, v)
    end
  end
  for k in pairs(addr) do
    if not L.address_fields[k] then
      errors.raise(string.format("%s: unknown address field '%s'", WHAT, tostring(k)), 4)
    end
  end
  if not any then return limits.bad(WHAT, "address has no non-empty field") end
  return true
end

--- Finds locations by query (`q`), structured address (`address`) or point (`point`).
function _M.find(client, args)
  if type(args) ~= "table" then errors.raise(WHAT .. ": argument must be a table", 3) end
  limits.known(WHAT, args, ALLOWED)
  local q = args.q
  if args.query ~= nil then
    if q ~= nil then errors.raise(WHAT .. ": give q or query, not both", 3) end
    q = args.query
  end
  local forms = (q ~= nil and 1 or 0) + (args.address ~= nil and 1 or 0) + (args.point ~= nil and 1 or 0)
  if forms ~= 1 then
    errors.raise(WHAT .. ": give exactly one of q, address, point", 3)
  end
  local form = q ~= nil and "query" or args.address ~= nil and "address" or "point"
  if args.strictMatch ~= nil and form ~= "address" then
    return limits.bad(WHAT, "strictMatch applies to find{address=} only")
  end
  if form ~= "point" and (args.includeEntityTypes ~= nil or args.verboseplacenames ~= nil) then
    return limits.bad(WHAT, "includeEntityTypes and verboseplacenames apply to find{point=} only")
  end
  limits.typed(WHAT, "timeout", args.timeout, "number")

  local params = {}
  local segments, category
  local ok, err
  if form == "query" then
    ok, err = limits.text(WHAT, "q", q, true)
    if not ok then return nil, err end
    add(params, "q", q)
    category = "RestLocations-Unstructured"
  elseif form == "address" then
    ok, err = address_params(args.address, params)
    if not ok then return nil, err end
    add(params, "strictMatch", limits.flag(WHAT, "strictMatch", args.strictMatch))
    category = "RestLocations-Structured"
  else
    local p
    p, err = limits.point(WHAT, "point", args.point)
    if not p then return nil, err end
    segments = {p}
    local types_v
    types_v, err = limits.names(WHAT, "includeEntityTypes", args.includeEntityTypes, L.entity_types)
    if err then return nil, err end
    add(params, "includeEntityTypes", types_v)
    if args.verboseplacenames ~= nil then
      limits.typed(WHAT, "verboseplacenames", args.verboseplacenames, "boolean")
      add(params, "verboseplacenames", args.verboseplacenames)
    end
    category = "RESTLocations-Reverse"
  end
  ok, err = common(client, args, form, params)
  if not ok then return nil, err end

  local doc, meta = client:call{
    api = "rest", path = "/REST/v1/Locations", segments = segments, params = params,
    method = "GET", billing = category, dry_run = args.dry_run, timeout = args.timeout,
  }
  if not doc then return nil, meta end
  if args.dry_run then return doc end
  return types.locations(doc, meta)
end

-- Location Recognition and Local Search -------------------------------------------------
--
--     client.locations.recognize{point = {47.640068, -122.12986}, radius = 0.5, top = 5,
--                                includeEntityTypes = {"businessAndPOI", "address"}}
--     client.locations.local_search{query = "coffee", userLocation = {47.602038, -122.333964}}
--     client.locations.local_search{type = {"MovieTheaters", "KoreanRestaurants"},
--                                   userCircularMapView = {47.668979, -122.387562, 300}}
--
-- recognize returns one `Recognition` object (its three lists may be empty), local_search a
-- list of `SearchResult` objects (empty when nothing matched); both `nil, err` on failure.
-- Neither page lists `culture`, `userIp` or `userRegion`, so they are not parameters here.

local RECOG = "locations.recognize"
local LSEARCH = "locations.local_search"
local R = L.recog

-- type IDs, lower-case -> canonical spelling, from limits.locations.type_ids (both levels).
local TYPE_IDS = {}
for top, subs in pairs(L.type_ids) do
  TYPE_IDS[top:lower()] = top
  for _, id in ipairs(subs) do TYPE_IDS[id:lower()] = id end
end

-- `type=`: a list or comma string of type IDs -> "A,B", or nil, err. (limits.names would
-- print all 90-odd IDs in its message; this one names the lists instead.)
local function type_ids(what, v)
  if v == nil then return nil end
  local list = v
  if type(v) == "string" then
    list = {}
    for item in v:gmatch("[^,]+") do list[#list + 1] = item:match("^%s*(.-)%s*$") end
  elseif type(v) ~= "table" then
    errors.raise(what .. ": type must be a string or a list of type IDs", 3)
  end
  if #list == 0 then return limits.bad(what, "type is empty") end
  local out = {}
  for i, item in ipairs(list) do
    if type(item) ~= "string" then
      errors.raise(string.format("%s: type[%d] must be a string, got %s", what, i, type(item)), 3)
    end
    local canon = TYPE_IDS[item:lower()]
    if not canon then
      return limits.bad(what, "type[%d] '%s' is not a type ID (type-identifiers: EatDrink, SeeDo, "
        .. "Shop, BanksAndCreditUnions, Hospitals, HotelsAndMotels, Parking and their "
        .. "sub-categories)", i, item)
    end
    out[#out + 1] = canon
  end
  return table.concat(out, ",")
end

local DAYS = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

-- `dateTime`: "2018-05-09 13:34:42Z" (the reference's form; "T" is accepted for the space) or
-- a number of seconds since the epoch -> the reference's form, or nil, err.
local function date_time(what, v)
  if v == nil then return nil end
  if type(v) == "number" then
    if v ~= v or v < 0 or v >= 253402300800 then
      return limits.bad(what, "dateTime must be a time from 1970 to 9999, got %s", tostring(v))
    end
    return os.date("!%Y-%m-%d %H:%M:%SZ", math.floor(v))
  end
  limits.typed(what, "dateTime", v, "string|number")
  local y, mo, d, h, mi, s = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[ T](%d%d):(%d%d):(%d%d)Z$")
  local ok = y ~= nil
  if ok then
    y, mo, d, h, mi, s = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi),
      tonumber(s)
    local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
    local dim = mo >= 1 and mo <= 12 and (DAYS[mo] + ((mo == 2 and leap) and 1 or 0)) or 0
    ok = d >= 1 and d <= dim and h <= 23 and mi <= 59 and s <= 59
  end
  if not ok then
    return limits.bad(what, "dateTime must be a UTC time such as '2018-05-09 13:34:42Z', got '%s'", v)
  end
  return string.format("%04d-%02d-%02d %02d:%02d:%02dZ", y, mo, d, h, mi, s)
end

local RECOG_ALLOWED = {point = true, radius = true, top = true, dateTime = true,
                       distanceUnit = true, verboseplacenames = true, includeEntityTypes = true,
                       type = true, dry_run = true, timeout = true}

--- Entities at a point (location-recognition.md): businesses and POIs, natural POIs, and the
-- point's address, within `radius` (km, or miles with `distanceUnit`; at most 2 km).
function _M.recognize(client, args)
  if type(args) ~= "table" then errors.raise(RECOG .. ": argument must be a table", 3) end
  limits.known(RECOG, args, RECOG_ALLOWED)
  limits.typed(RECOG, "point", args.point, "table", true)
  limits.typed(RECOG, "timeout", args.timeout, "number")
  limits.typed(RECOG, "radius", args.radius, "number")
  limits.typed(RECOG, "distanceUnit", args.distanceUnit, "string")
  limits.typed(RECOG, "verboseplacenames", args.verboseplacenames, "boolean")
  local p, err = limits.point(RECOG, "point", args.point)
  if not p then return nil, err end
  local params = {}
  local unit
  if args.distanceUnit ~= nil then
    unit = R.distance_units[args.distanceUnit:lower()]
    if not unit then
      return limits.bad(RECOG, "distanceUnit must be one of kilometer, km, mile, mi, got '%s'",
        args.distanceUnit)
    end
  end
  if args.radius ~= nil then
    local r = args.radius
    local miles = unit == "mile" or unit == "mi"
    local max = miles and R.radius_km / R.km_per_mile or R.radius_km
    -- A hair of slack so that 2 km written in miles (1.2427...) is not refused by rounding.
    if r ~= r or r <= 0 or r > max * (1 + 1e-9) then
      return limits.bad(RECOG, "radius must be more than 0 and at most 2 km (%.4f mi), got %s%s",
        R.radius_km / R.km_per_mile, tostring(r), miles and " mi" or " km")
    end
    -- 10 decimals, not coord's 7: 2 km in miles rounded up to 7 decimals is over 2 km.
    add(params, "radius", (string.format("%.10f", r):gsub("0+$", ""):gsub("%.$", "")))
  end
  add(params, "distanceUnit", unit)
  local v
  v, err = limits.int_range(RECOG, "top", args.top, R.top[1], R.top[2])
  if err then return nil, err end
  add(params, "top", v)
  v, err = date_time(RECOG, args.dateTime)
  if err then return nil, err end
  add(params, "dateTime", v)
  add(params, "verboseplacenames", args.verboseplacenames)
  local kinds
  kinds, err = limits.names(RECOG, "includeEntityTypes", args.includeEntityTypes, R.entity_types)
  if err then return nil, err end
  add(params, "includeEntityTypes", kinds)
  v, err = type_ids(RECOG, args.type)
  if err then return nil, err end
  -- "type ... if using the includeEntityTypes parameter value of businessAndPOI (which is the
  -- default value)": a type filter on a request without businesses would silently do nothing.
  if v and kinds and not ("," .. kinds .. ","):find(",businessAndPOI,", 1, true) then
    return limits.bad(RECOG, "type applies only when includeEntityTypes has businessAndPOI")
  end
  add(params, "type", v)

  local doc, meta = client:call{
    api = "rest", path = "/REST/v1/LocationRecog", segments = {p}, params = params,
    method = "GET", billing = "RESTLocationRecog", dry_run = args.dry_run, timeout = args.timeout,
  }
  if not doc then return nil, meta end
  if args.dry_run then return doc end
  return types.recognition(doc, meta)
end

-- {lat, lon[, radius]} or {lat=, lon=, radius=} -> "lat,lon[,radius]" (radius in metres),
-- or nil, err. `need_radius`: the radius is part of the shape (userCircularMapView).
local function circle(what, name, c, need_radius)
  if c == nil then return nil end
  local p, err = limits.point(what, name, c)
  if not p then return nil, err end
  local r = c[3] or c.radius
  if r == nil and not need_radius then return p end
  if type(r) ~= "number" then
    errors.raise(string.format("%s: %s must hold three numbers {lat, lon, radius}", what, name), 4)
  end
  if r ~= r or r == math.huge or r < 0 or (need_radius and r == 0) then
    return limits.bad(what, "%s radius (metres) must be %s, got %s", name,
      need_radius and "more than 0" or "0 or more", tostring(r))
  end
  return p .. "," .. limits.coord(r)
end

local LSEARCH_ALLOWED = {query = true, q = true, type = true, userLocation = true,
                         userCircularMapView = true, userMapView = true, maxResults = true,
                         dry_run = true, timeout = true}

--- Businesses near a user or in a region (local-search.md), by `query` or by `type` IDs.
function _M.local_search(client, args)
  if type(args) ~= "table" then errors.raise(LSEARCH .. ": argument must be a table", 3) end
  limits.known(LSEARCH, args, LSEARCH_ALLOWED)
  local q = args.query
  if args.q ~= nil then
    if q ~= nil then errors.raise(LSEARCH .. ": give q or query, not both", 3) end
    q = args.q
  end
  if (q ~= nil) == (args.type ~= nil) then
    errors.raise(LSEARCH .. ": give exactly one of query (q) and type", 3)
  end
  if args.userLocation == nil and args.userCircularMapView == nil and args.userMapView == nil then
    errors.raise(LSEARCH .. ": give userLocation, userCircularMapView or userMapView", 3)
  end
  limits.typed(LSEARCH, "timeout", args.timeout, "number")
  local params = {}
  local v, err
  if q ~= nil then
    v, err = limits.text(LSEARCH, "query", q, true)
    if not v then return nil, err end
    add(params, "query", v)
  else
    v, err = type_ids(LSEARCH, args.type)
    if not v then return nil, err end
    add(params, "type", v)
  end
  -- Both regions at once contradict each other; the reference is silent, we refuse.
  if args.userCircularMapView ~= nil and args.userMapView ~= nil then
    return limits.bad(LSEARCH, "give userCircularMapView or userMapView, not both")
  end
  v, err = circle(LSEARCH, "userLocation", args.userLocation, false)
  if err then return nil, err end
  add(params, "userLocation", v)
  v, err = circle(LSEARCH, "userCircularMapView", args.userCircularMapView, true)
  if err then return nil, err end
  add(params, "userCircularMapView", v)
  v, err = limits.bbox(LSEARCH, "userMapView", args.userMapView)
  if err then return nil, err end
  add(params, "userMapView", v)
  local mr = L.local_search.max_results
  v, err = limits.int_range(LSEARCH, "maxResults", args.maxResults, mr[1], mr[2])
  if err then return nil, err end
  add(params, "maxResults", v)

  local doc, meta = client:call{
    api = "rest", path = "/REST/v1/LocalSearch/", params = params, method = "GET",
    billing = "RESTLocalSearch", dry_run = args.dry_run, timeout = args.timeout,
  }
  if not doc then return nil, meta end
  if args.dry_run then return doc end
  return types.local_search(doc, meta)
end

return _M
