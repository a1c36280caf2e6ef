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

-- Adds {name, value} to params unless value is nil.
local function add(params, name, value)
  if value ~= nil then params[#params + 1] = {name, value} end
end

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

return _M
