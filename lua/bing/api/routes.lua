--- Routes: routes (driving, walking, transit, truck), distance matrices, isochrones, snap to
-- road, multi-itinerary optimization, routes from major roads, and their asynchronous jobs.
--
--     local routes = assert(client.routes.calc{waypoints = {"Seattle, WA", {47.61, -122.2}}})
--     print(routes[1].travelDistance, #routes[1]:legs())
--     local m = assert(client.routes.matrix{origins = {{47.6, -122.3}}, destinations = {...}})
--     print(m:get(1, 1))
--     local from = assert(client.routes.major_roads{destination = {47.64, -122.13}})
--
-- Options use Bing's parameter names (reference: rest-services/routes/); our own options are
-- snake_case: `async` (nil: the library decides, true: return a Job, false: never async),
-- `method` ("GET" or "POST" where the API has both; default: chosen by size), `split` (false
-- refuses a call that needs several requests), `job_timeout` (seconds the library waits for
-- a job it started by itself), `timeout` (per request) and `dry_run`.
--
-- One call may need several requests, and the library makes them: a route through more than
-- 25 waypoints is split into consecutive routes sharing their boundary waypoint and merged
-- into one Route (N waypoints, N-1 legs, none twice); a distance matrix larger than one
-- request allows (the account's pair limit: `bing.new{account = "enterprise"}` or
-- `matrix_limits = {driving =, walking =, async =}`) is split into blocks and stitched into
-- one Matrix. `meta.split`, `meta.requests` and `meta.billing` (the sum of the parts) say so.
-- @module bing.api.routes
local check = require "bing.check"
local endpoint = require "bing.endpoint"
local errors = require "bing.errors"
local jobs = require "bing.jobs"
local rt = require "bing.api.route_types"

local _M = {}

-- The family's own rules below raise with whole messages (errors.raise); values out of
-- range are refused with check.bad.
local raise, bad, add = errors.raise, check.bad, check.add
local set_of, choice, boolean, number, point = check.set_of, check.choice, check.boolean,
  check.number, check.where
local list_of, waypoint, points_of = check.list, check.waypoint, check.points
local iso_time, span, number_list = check.iso_time, check.span, check.number_list

--- Documented limits (rest-services/routes/*.md), as data.
local LIMITS = {
  waypoints = 25,          -- calculate-a-route.md: "a maximum of 25 waypoints"
  vias_between = 10,       -- "a maximum of 10 viaWaypoints between each set of waypoints"
  truck_points = 25,       -- calculate-a-truck-route.md: "25 waypoints or viaWaypoints"
  max_solutions = 3,
  tolerances = 7,
  matrix = {               -- calculate-a-distance-matrix.md, "API Limits"
    basic = {driving = 2500, walking = 650, async = 2500},
    enterprise = {driving = 10000, walking = 650, async = 40000},
    get_points = 50,       -- GET "when your request has less than a total of 50 origins and destinations"
  },
  snap = {sync = 100, async = 1000, spacing_km = 2.5},
  isochrone = {async_max_minutes = 60, sync_minutes = 30, sync_km = 24},
  optimize = {             -- optimized-itinerary.md
    sync_shifts = 5, sync_items = 20,
    basic = {agents = 3, items = 20, shifts_per_agent = 7},
    enterprise = {agents = 200, items = 2000, shifts_per_agent = 14},
  },
}
_M._LIMITS = LIMITS

local OPTIMIZE = set_of{"distance", "time", "timeWithTraffic", "timeAvoidClosure"}
local TRUCK_OPTIMIZE = set_of{"time", "timeWithTraffic"}
local ROUTE_ATTRIBUTES_LIST = {"excludeItinerary", "routePath", "transitStops", "routeSummariesOnly",
                               "regionTravelSummary", "all"}
local ROUTE_ATTRIBUTES = set_of(ROUTE_ATTRIBUTES_LIST)
local TRUCK_ROUTE_ATTRIBUTES = set_of{"routePath"}
local DISTANCE_UNITS_LIST = {"Mile", "mi", "Kilometer", "km"}
local DIMENSION_UNITS = set_of{"meter", "m", "foot", "ft"}
local WEIGHT_UNITS = set_of{"kilogram", "kg", "pound", "lb"}
-- calculate-a-truck-route.md: "a comma separated and case-sensitive list".
local HAZMAT = {}
for _, v in ipairs{"Combustable", "C", "Corrosive", "Cr", "Explosive", "E", "Flammable", "F",
                   "FlammableSolid", "FS", "Gas", "G", "GoodsHarmfulToWater", "WH", "Organic", "O",
                   "Other", "Poison", "P", "PoisonousInhalation", "PI", "Radioactive", "R", "None"} do
  HAZMAT[v] = true
end
-- Parameters the truck service dropped on 2024-09-30 (calculate-a-truck-route.md).
local RETIRED_VEHICLE = {vehicleMaxGradient = true, vehicleMinTurnRadius = true,
                         vehicleHazardousPermits = true, borderRestriction = true}
local VEHICLE_FIELDS = {dimensionUnit = true, weightUnit = true, vehicleHeight = true,
                        vehicleWidth = true, vehicleLength = true, vehicleWeight = true,
                        vehicleAxles = true, vehicleTrailers = true, vehicleSemi = true,
                        vehicleHazardousMaterials = true}
-- Order of the vehicle parameters in a GET URL (stable URLs).
local VEHICLE_ORDER = {"dimensionUnit", "weightUnit", "vehicleHeight", "vehicleWidth", "vehicleLength",
                       "vehicleWeight", "vehicleAxles", "vehicleTrailers", "vehicleSemi",
                       "vehicleHazardousMaterials"}

-- A number written as the reference writes tolerances (tl=0.00000344978): plain decimals with
-- ten significant digits, never an exponent (%g would give 3.44978e-06).
local function decimal(x)
  local mag = x ~= 0 and math.floor(math.log(math.abs(x), 10)) or 0
  local places = math.max(0, math.min(30, 9 - mag))
  local s = string.format("%." .. places .. "f", x)
  if s:find(".", 1, true) then s = s:gsub("0+$", ""):gsub("%.$", "") end
  return s
end

-- Great-circle distance in km (the snap spacing rule).
local function haversine(lat1, lon1, lat2, lon2)
  local r = math.pi / 180
  local dlat, dlon = (lat2 - lat1) * r, (lon2 - lon1) * r
  local a = math.sin(dlat / 2) ^ 2 + math.cos(lat1 * r) * math.cos(lat2 * r) * math.sin(dlon / 2) ^ 2
  return 2 * 6371.0088 * math.asin(math.min(1, math.sqrt(a)))
end

-- Result downloads: envelopes (truck routes, isochrones, snapping) or, for distance matrices,
-- the bare DistanceMatrix JSON (distance-matrix-asynchronous-example.md, "Downloaded Results").
local function resource_of(doc)
  if type(doc) == "table" and doc.resourceSets then return jobs.first_resource(doc) end
  return doc
end

local function route_result(doc, meta) return rt.routes(doc, meta) end
local function matrix_result(doc, meta) return rt.matrix(resource_of(doc), meta) end
local function iso_result(doc, meta) return rt.isochrone(resource_of(doc), meta) end
local function snap_result(doc, meta) return rt.snap(resource_of(doc), meta) end
local function itinerary_result(doc, meta) return rt.itinerary(resource_of(doc), meta) end

--- A job of a Routes API known by its id (say, saved before a restart): `kind` is one of
-- "truck", "matrix", "isochrone", "snap", "optimize" (or Bing's endpoint names, such as
-- "DistanceMatrixAsync"). `job:wait()` then polls and fetches the result (client:job too).
function _M.job(client, id, kind)
  return jobs.resume(client, kind, id)
end



-- Reads and checks the vehicle of a truck route -> {name = value} (Bing's names) or nil, err.
local function vehicle_of(what, _, v)
  if type(v) ~= "table" then raise(what .. ": vehicle must be a table") end
  local out = {}
  for k in pairs(v) do
    if RETIRED_VEHICLE[k] then
      raise(string.format("%s: vehicle.%s is no longer supported by the truck routing service "
        .. "(retired 2024-09-30, calculate-a-truck-route.md)", what, tostring(k)))
    end
    if not VEHICLE_FIELDS[k] then
      raise(string.format("%s: unknown vehicle field '%s'", what, tostring(k)))
    end
  end
  local err
  out.dimensionUnit, err = choice(what, "vehicle.dimensionUnit", v.dimensionUnit, DIMENSION_UNITS)
  if err then return nil, err end
  out.weightUnit, err = choice(what, "vehicle.weightUnit", v.weightUnit, WEIGHT_UNITS)
  if err then return nil, err end
  for _, k in ipairs{"vehicleHeight", "vehicleWidth", "vehicleLength", "vehicleWeight"} do
    out[k], err = number(what, "vehicle." .. k, v[k], true)
    if err then return nil, err end
  end
  out.vehicleAxles, err = check.int_range(what, "vehicle.vehicleAxles", v.vehicleAxles, 1, 20)
  if err then return nil, err end
  out.vehicleTrailers, err = check.int_range(what, "vehicle.vehicleTrailers", v.vehicleTrailers, 0, 10)
  if err then return nil, err end
  out.vehicleSemi = boolean(what, "vehicle.vehicleSemi", v.vehicleSemi)
  local hm = v.vehicleHazardousMaterials
  if hm ~= nil then
    local list = check.items(what, "vehicle.vehicleHazardousMaterials", hm)
    if #list == 0 then return bad(what, "vehicle.vehicleHazardousMaterials is empty") end
    for i, m in ipairs(list) do
      if not HAZMAT[m] then
        return bad(what, "vehicle.vehicleHazardousMaterials[%d] '%s' is not a documented material "
          .. "(case-sensitive: Explosive, Flammable, Corrosive, ... or E, F, Cr, ...)", i, tostring(m))
      end
    end
    out.vehicleHazardousMaterials = table.concat(list, ",")
  end
  return out
end

-- waypoints -> {wps = {waypoint...}, stops = <count of non-via waypoints>}, or nil, err.
local function waypoints_of(what, name, raw)
  list_of(what, name, raw, true)
  local wps, stops = {}, 0
  for i, w in ipairs(raw) do
    local wp, err = waypoint(what, name .. "[" .. i .. "]", w)
    if not wp then return nil, err end
    wps[i] = wp
    if not wp.via then stops = stops + 1 end
  end
  if #wps < 2 or stops < 2 then return bad(what, "a route needs at least two waypoints") end
  if wps[1].via or wps[#wps].via then
    return bad(what, "the start and end points of a route cannot be viaWaypoints")
  end
  return {wps = wps, stops = stops}
end

local function tolerances_of(what, name, tl)
  list_of(what, name, tl)
  if #tl == 0 then return bad(what, "tolerances is empty") end
  if #tl > LIMITS.tolerances then
    return bad(what, "at most %d tolerances, got %d", LIMITS.tolerances, #tl)
  end
  for i, t in ipairs(tl) do
    local _, terr = number(what, "tolerances[" .. i .. "]", t, true)
    if terr then return nil, terr end
  end
  return tl
end

-- The cross-field rules of calculate-a-route.md and calculate-a-truck-route.md (v: the checked
-- values) -> v with mode, wps, stops, truck, parts; or nil, err.
local function calc_plan(what, v, args, m)
  local mode, wps, stops = v.travelMode or "Driving", v.waypoints.wps, v.waypoints.stops
  local truck = mode == "Truck"
  local run = 0
  for _, w in ipairs(wps) do
    run = w.via and run + 1 or 0
    if not truck and run > LIMITS.vias_between then
      return bad(what, "at most %d viaWaypoints between two waypoints", LIMITS.vias_between)
    end
  end
  local has_via = stops < #wps
  local o = v
  o.mode, o.wps, o.stops, o.truck, o.method = mode, wps, stops, truck, m
  local err
  o.optimize, err = choice(what, "optimize", args.optimize, truck and TRUCK_OPTIMIZE or OPTIMIZE)
  if err then return nil, err end
  if o.optimize == "timeWithTraffic" and mode ~= "Driving" and not truck then
    return bad(what, "optimize=timeWithTraffic is only available for Driving (and Truck) routes")
  end
  if o.optimizeWaypoints then
    if mode ~= "Driving" and not truck then
      return bad(what, "optimizeWaypoints is only available for Driving (and Truck) routes")
    end
    if stops <= 2 then return bad(what, "optimizeWaypoints needs more than two waypoints") end
    if has_via then return bad(what, "optimizeWaypoints does not work with viaWaypoints") end
  end
  o.routeAttributes, err = check.names(what, "routeAttributes", args.routeAttributes,
    truck and TRUCK_ROUTE_ATTRIBUTES or ROUTE_ATTRIBUTES)
  if err then return nil, err end
  if truck and o.routePathOutput then
    return bad(what, "routePathOutput is not a truck route parameter: use routeAttributes = \"routePath\"")
  end
  local ra = o.routeAttributes and ("," .. o.routeAttributes:lower() .. ",") or nil
  local wants_path
  if ra then
    wants_path = ra:find(",routepath,", 1, true) or ra:find(",all,", 1, true)
  else
    wants_path = o.routePathOutput == "Points"
  end
  if ra and ra:find(",routesummariesonly,", 1, true) and stops ~= 2 then
    return bad(what, "routeAttributes=routeSummariesOnly is only supported for routes of two waypoints")
  end
  if o.tolerances and not wants_path then
    return bad(what, "tolerances need a route path: routeAttributes = \"routePath\" "
      .. "(or routePathOutput = \"Points\")")
  end
  if o.distanceBeforeFirstTurn and mode ~= "Driving" then
    return bad(what, "distanceBeforeFirstTurn only applies to Driving routes%s",
      truck and " (the truck service dropped it on 2024-09-30)" or "")
  end
  if mode == "Transit" then
    if stops ~= 2 or has_via then
      return bad(what, "transit routes take exactly two waypoints and no viaWaypoints")
    end
    if not o.dateTime or not o.timeType then
      return bad(what, "transit routes require dateTime and timeType")
    end
  end
  if o.timeType and mode ~= "Transit" then
    return bad(what, "timeType only applies to Transit routes")
  end
  if o.maxSolutions and o.maxSolutions > 1 then
    if mode ~= "Driving" and mode ~= "Transit" then
      return bad(what, "maxSolutions > 1 is only available for Driving and Transit routes")
    end
    if stops ~= 2 or has_via then
      return bad(what, "maxSolutions > 1 needs exactly two waypoints and no viaWaypoints")
    end
    if mode == "Driving" and (o.avoid or o.distanceBeforeFirstTurn) then
      return bad(what, "maxSolutions > 1 cannot be combined with avoid or distanceBeforeFirstTurn")
    end
  end
  if o.vehicle and not truck then return bad(what, "vehicle only applies to travelMode = \"Truck\"") end
  if args.async and not truck then
    return bad(what, "only truck routes can be calculated asynchronously")
  end
  if m == "POST" and not truck then
    return bad(what, "only truck routes can be requested with POST")
  end

  -- Parts of a split route.
  local parts
  if truck then
    parts, err = rt.plan_split(wps, LIMITS.truck_points, LIMITS.truck_points)
  else
    parts, err = rt.plan_split(wps, LIMITS.waypoints)
  end
  if not parts then return bad(what, "%s", err) end
  if #parts > 1 then
    local limit_text = truck and string.format("%d waypoints and viaWaypoints", LIMITS.truck_points)
      or string.format("%d waypoints", LIMITS.waypoints)
    if args.split == false then
      return bad(what, "more than %s in one request, and split = false", limit_text)
    end
    if o.optimizeWaypoints then
      return bad(what, "optimizeWaypoints cannot be used with more than %s: the order would be "
        .. "optimized within each request of the split, not across the route", limit_text)
    end
    if o.maxSolutions and o.maxSolutions > 1 then
      return bad(what, "maxSolutions > 1 cannot be used with more than %s", limit_text)
    end
    if args.async then
      return bad(what, "an asynchronous truck route takes at most %s", limit_text)
    end
  end
  o.parts = parts
  return o
end

-- The declared parameters sent after the waypoints (calc's params, in their order).
local NOT_SENT = {waypoints = true, travelMode = true, vehicle = true}

local function calc_params(decl, o, first, last)
  local params = {}
  for i = first, last do
    local w = o.wps[i]
    add(params, (w.via and "vwp." or "wp.") .. (i - first), w.text)
  end
  for _, p in ipairs(decl.params) do
    local x = o[p[1]]
    if p[1] == "tolerances" and x then
      local t = {}
      for i, tol in ipairs(x) do t[i] = decimal(tol) end
      x = table.concat(t, ",")
    end
    if not NOT_SENT[p[1]] then add(params, p[1], x) end
  end
  for _, k in ipairs(VEHICLE_ORDER) do add(params, k, o.vehicle and o.vehicle[k]) end
  return params
end

-- calculate-a-truck-route.md, POST body.
local function truck_body(o, first, last)
  local wps = {}
  for i = first, last do
    local w = o.wps[i]
    local e = {}
    if w.address then e.address = w.address else e.latitude, e.longitude = w.lat, w.lon end
    if w.via then e.isViaPoint = true end
    wps[#wps + 1] = e
  end
  local body = {waypoints = wps, avoid = o.avoid, dateTime = o.dateTime, distanceUnit = o.distanceUnit,
                heading = o.heading, optimize = o.optimize, optimizeWaypoints = o.optimizeWaypoints,
                routeAttributes = o.routeAttributes, tolerances = o.tolerances}
  if o.vehicle and next(o.vehicle) then
    local spec = {}
    for k, v in pairs(o.vehicle) do spec[k] = v end
    body.vehicleSpec = spec
  end
  return body
end

local function calc_spec(client, decl, o, part, async, args)
  local path
  if o.truck then
    path = async and "/REST/v1/Routes/TruckAsync" or "/REST/v1/Routes/Truck"
  else
    path = "/REST/v1/Routes/" .. o.mode
  end
  local category = o.truck and (async and "Route-TruckAsync" or "Route-Truck") or "RESTRoutes"
  local spec = {api = "rest", path = path, method = "GET", billing = category,
                params = calc_params(decl, o, part.first, part.last), timeout = args.timeout,
                dry_run = args.dry_run}
  if o.truck then
    local use_post = o.method == "POST"
    if not o.method then use_post = endpoint.too_long(client, spec) end
    if use_post then
      spec.method = "POST"
      -- The body carries what the truck POST template has; the common parameters (culture,
      -- user context) and itineraryGroups stay in the query, as in the GET, not dropped.
      local params = {}
      for _, k in ipairs{"itineraryGroups", "userLocation", "userMapView", "userIp", "userRegion",
                         "culture"} do
        add(params, k, o[k])
      end
      spec.params = params
      spec.body = truck_body(o, part.first, part.last)
      -- Computing a route twice changes nothing; a TruckAsync POST creates a job (and bills
      -- it) each time, so it is left to its billing row (retried only when refused).
      spec.idempotent = not async
    end
  end
  return spec
end

-- The parts of a split route, merged into one Route (N waypoints, N-1 legs, none twice).
local function merge_parts(results, meta)
  local routes = {}
  for i, r in ipairs(results) do
    local list = rt.routes(r.doc, r.meta)
    if not list[1] then
      -- Every part was answered (and billed): the error says what they cost, as every error does.
      return nil, errors.new("decode", string.format("%s: request %d of %d of a split route "
        .. "returned no route", "routes.calc", i, #results), {part = i, parts = #results,
        billing = meta.billing, attempts = meta.attempts, url = r.meta.url,
        trace_id = r.meta.trace_id, status = r.meta.status})
    end
    routes[i] = list[1]
  end
  local merged = rt.merge_routes(routes)
  local list = setmetatable({merged}, rt.RouteList)
  list.meta = meta
  return list
end

--- Calculates a route (Driving, Walking, Transit or Truck) through `waypoints`.
-- Waypoints are points (`{lat, lon}`, `{lat=, lon=}`, Location objects), addresses or
-- landmarks (strings, or `{address = "..."}`); a table with `via = true` is a viaWaypoint.
-- Returns a list of Route objects (one per solution), a Job (truck routes with
-- `async = true`), or nil, err.
local function calc_run(call)
  local client, args, d = call.client, call.args, call.decl
  local o, err = calc_plan(call.what, call.values, args, call.method)
  if not o then return nil, err end
  if args.async then return {async = true, specs = {calc_spec(client, d, o, o.parts[1], true, args)}} end
  local specs = {}
  for i, part in ipairs(o.parts) do specs[i] = calc_spec(client, d, o, part, false, args) end
  return {specs = specs, extra = {waypoints = o.stops}, merge = merge_parts}
end

_M.calc = {
  plan = calc_run, result = route_result,
  params = {
    {"waypoints", waypoints_of, required = true},
    {"travelMode", check.one_of{"Driving", "Walking", "Transit", "Truck"}},
    {"avoid", check.some_of{"highways", "tolls", "ferry", "minimizeHighways", "minimizeTolls",
                            "borderCrossing"}},
    {"heading", check.int(0, 359)}, {"optimize"}, {"optimizeWaypoints", check.boolean},
    {"routeAttributes"}, {"routePathOutput", check.one_of{"Points", "None"}},
    {"tolerances", tolerances_of}, {"distanceUnit", check.one_of(DISTANCE_UNITS_LIST)},
    {"maxSolutions", check.int(1, LIMITS.max_solutions)}, {"dateTime", check.text},
    {"timeType", check.one_of{"Arrival", "Departure", "LastAvailable"}},
    {"distanceBeforeFirstTurn", check.int(0, 1000000)}, {"itineraryGroups", check.boolean},
    {"userLocation", check.point}, {"userMapView", check.bbox}, {"userIp", check.ipv4},
    {"userRegion", check.iso2},
    {"culture", check.culture, default = function(client) return client.culture end},
    {"vehicle", vehicle_of},
  },
  options = {"async", "method", "split", "job_timeout"},
  async = {kind = "truck", name = "truck route", aliases = {"TruckAsync", "Route-TruckAsync"},
           status = "/REST/v1/Routes/TruckAsyncCallback", status_billing = "Route-TruckAsyncCallback",
           result = route_result},
}

local function bing_list(list)
  local out = {}
  for i, p in ipairs(list) do out[i] = {latitude = p.lat, longitude = p.lon} end
  return out
end

--- The pair limit of one distance matrix request for this client and travel mode.
local function matrix_limit(client, mode, async)
  local acct = type(client.account) == "string" and client.account:lower() or "basic"
  local base = LIMITS.matrix[acct] or LIMITS.matrix.basic
  local key = async and "async" or mode
  local over = type(client.matrix_limits) == "table" and client.matrix_limits[key]
  local limit = type(over) == "number" and over or base[key]
  if not async and mode == "walking" then
    -- Walking is 650 pairs for every account type; an override may only lower it.
    limit = math.min(limit, LIMITS.matrix.basic.walking)
  end
  return limit
end
_M._matrix_limit = matrix_limit

-- Cells the service computes for a block: every pair but "same index, same coordinate".
local function block_cells(origins, dests, o1, o2, d1, d2)
  local n = (o2 - o1 + 1) * (d2 - d1 + 1)
  for k = 0, math.min(o2 - o1, d2 - d1) do
    local a, b = origins[o1 + k], dests[d1 + k]
    if a.lat == b.lat and a.lon == b.lon then n = n - 1 end
  end
  return n
end

local function matrix_spec(o, block, async, args)
  local origins, dests = {}, {}
  for i = block.o1, block.o2 do origins[#origins + 1] = o.origins[i] end
  for j = block.d1, block.d2 do dests[#dests + 1] = o.dests[j] end
  local cells = block_cells(o.origins, o.dests, block.o1, block.o2, block.d1, block.d2)
  local spec = {api = "rest", path = async and "/REST/v1/Routes/DistanceMatrixAsync"
                  or "/REST/v1/Routes/DistanceMatrix",
                billing = {category = async and "Route-DistanceMatrixAsync" or "Route-DistanceMatrix",
                           units = cells},
                timeout = args.timeout, dry_run = args.dry_run}
  -- Omitted destinations make the service compute origins x origins; an explicit list is
  -- sent when the caller gave one, and for every block of a split.
  local send_dests = o.explicit_dests or block.o1 ~= block.d1 or block.o2 ~= block.d2
  local use_post = o.method == "POST"
  if not o.method then
    use_post = #origins + (send_dests and #dests or 0) >= LIMITS.matrix.get_points
  end
  if use_post then
    spec.method = "POST"
    spec.params = {}
    spec.idempotent = not async
    spec.body = {origins = bing_list(origins), destinations = send_dests and bing_list(dests) or nil,
                 travelMode = o.mode, startTime = o.startTime, timeUnit = o.timeUnit,
                 distanceUnit = o.distanceUnit}
  else
    local function join(list)
      local out = {}
      for i, p in ipairs(list) do out[i] = p.text end
      return table.concat(out, ";")
    end
    spec.method = "GET"
    local params = {}
    add(params, "origins", join(origins))
    if send_dests then add(params, "destinations", join(dests)) end
    add(params, "travelMode", o.mode)
    add(params, "startTime", o.startTime)
    add(params, "timeUnit", o.timeUnit)
    add(params, "distanceUnit", o.distanceUnit)
    spec.params = params
  end
  return spec
end

--- Calculates a distance matrix between `origins` and `destinations` (default: the origins).
-- Returns a Matrix (`m:get(i, j)` -> travelDistance, travelDuration, cell), a Job
-- (`async = true`: driving with a `startTime`), or nil, err. A matrix with more pairs than one
-- request of the account allows is computed in blocks and stitched (meta.split, meta.requests).
local function matrix_run(call)
  local client, args, what, o = call.client, call.args, call.what, call.values
  if args.endTime ~= nil or args.resolution ~= nil then
    return bad(what, "endTime and resolution (distance matrix histograms) are no longer supported "
      .. "by the service (retired 2024-09-30, calculate-a-distance-matrix.md)")
  end
  o.explicit_dests = o.destinations ~= nil
  o.dests = o.destinations or o.origins
  local mode = o.travelMode or "driving"
  o.mode = mode
  if o.startTime and mode ~= "driving" then
    return bad(what, "startTime is only supported for travelMode driving")
  end
  o.method = call.method
  local async = args.async == true
  if async and (mode ~= "driving" or not o.startTime) then
    return bad(what, "asynchronous distance matrices need travelMode driving and a startTime")
  end
  local no, nd = #o.origins, #o.dests
  local limit = matrix_limit(client, mode, async)
  if async and no * nd > limit then
    return bad(what, "%d origin-destination pairs is more than the %d an asynchronous request "
      .. "may hold (leave async unset to have the matrix computed in blocks)", no * nd, limit)
  end
  if async then
    return {async = true, specs = {matrix_spec(o, {o1 = 1, o2 = no, d1 = 1, d2 = nd}, true, args)}}
  end
  local square = not o.explicit_dests
  if not square and no == nd then
    square = true
    for i = 1, no do
      if o.origins[i].lat ~= o.dests[i].lat or o.origins[i].lon ~= o.dests[i].lon then square = false end
    end
  end
  local blocks = rt.plan_blocks(no, nd, limit, square)
  if #blocks > 1 and args.split == false then
    return bad(what, "%d origin-destination pairs is more than the %d of one %s request, and "
      .. "split = false", no * nd, limit, mode)
  end
  local specs = {}
  for i, b in ipairs(blocks) do specs[i] = matrix_spec(o, b, false, args) end
  local function merge(results, meta)
    local parts = {}
    for i, r in ipairs(results) do parts[i] = {block = blocks[i], res = resource_of(r.doc) or {}} end
    return rt.matrix(rt.stitch_matrix(parts, bing_list(o.origins), bing_list(o.dests)), meta)
  end
  return {specs = specs, extra = {blocks = #blocks, pair_limit = limit}, merge = merge}
end

-- A non-empty list of points (coordinates only) -> {lat=, lon=, text=} each, or nil, err.
local function matrix_points(what, name, list)
  list_of(what, name, list)
  if #list == 0 then return bad(what, "%s is empty", name) end
  return points_of(what, name, list)
end

_M.matrix = {
  plan = matrix_run, result = matrix_result,
  params = {
    {"origins", matrix_points, required = true}, {"destinations", matrix_points},
    {"travelMode", function(what, name, m)
      if type(m) == "string" and m:lower() == "transit" then
        return bad(what, "travelMode transit is no longer supported by the distance matrix "
          .. "service (retired 2024-09-30)")
      end
      return check.choice(what, name, m, set_of{"driving", "walking"})
    end},
    {"startTime", check.text}, {"timeUnit", check.one_of{"minute", "second"}},
    {"distanceUnit", check.one_of{"mile", "mi", "kilometer", "km"}},
  },
  options = {"endTime", "resolution", "async", "method", "split", "job_timeout"},
  async = {kind = "matrix", name = "distance matrix",
           aliases = {"DistanceMatrixAsync", "Route-DistanceMatrixAsync", "DistanceMatrix"},
           status = "/REST/v1/Routes/DistanceMatrixAsyncCallback",
           status_billing = "Route-DistanceMatrixAsyncCallback", result = matrix_result},
}

-- calculate-an-isochrone.md documents timeUnit "minute" and "second"; the service's own
-- example (isochrone-asynchronous-example.md) sends timeUnit=Minutes. Both spellings are taken
-- and sent as given.

local function km_of(d, unit)
  if unit and unit:lower():sub(1, 2) == "mi" then return d * 1.609344 end
  return d
end

-- Time in minutes (timeUnit default: second) and distance in km, for the async rules.
local function iso_size(v)
  local in_minutes = v.timeUnit and v.timeUnit:lower():sub(1, 6) == "minute"
  return v.maxTime and (in_minutes and v.maxTime or v.maxTime / 60),
    v.maxDistance and km_of(v.maxDistance, v.distanceUnit)
end

--- Calculates an isochrone around `waypoint` for `maxTime` or `maxDistance`.
-- Returns an Isochrone (`iso:rings()`, `iso:geojson()`, `iso:contains(lat, lon)`), a Job
-- (`async = true`), or nil, err. Left to itself (`async` unset) the library uses the
-- asynchronous API where the reference recommends it (more than 30 minutes or 24 km) and
-- waits for the job.
_M.isochrone = {
  path = "/REST/v1/Routes/Isochrones", billing = "Route-Isochrone", result = iso_result,
  params = {
    {"waypoint", function(what, name, w)
      local wp, err = waypoint(what, name, w)
      if wp and wp.via then raise(what .. ": waypoint cannot be a via point") end
      return wp and wp.text, err
    end, required = true},
    {"maxTime", check.positive}, {"timeUnit", check.one_of{"minute", "second", "Minutes", "Seconds"}},
    {"maxDistance", check.positive}, {"distanceUnit", check.one_of{"mile", "mi", "kilometer", "km"}},
    {"dateTime", check.text}, {"optimize", check.one_of{"distance", "time", "timeWithTraffic"}},
  },
  options = {"travelMode", "async", "method", "job_timeout"},
  post = {},
  before = function(call)
    local a = call.args
    if a.maxTime == nil and a.maxDistance == nil then
      raise(call.what .. ": one of maxTime or maxDistance is required")
    end
  end,
  rules = function(call)
    local what, v, tm = call.what, call.values, call.args.travelMode
    if v.maxTime and v.maxDistance then return bad(what, "maxTime and maxDistance cannot both be set") end
    if v.timeUnit and not v.maxTime then return bad(what, "timeUnit goes with maxTime") end
    if v.distanceUnit and not v.maxDistance then return bad(what, "distanceUnit goes with maxDistance") end
    if v.dateTime and not v.maxTime then
      return bad(what, "dateTime is not supported for distance based isochrones")
    end
    if v.optimize == "distance" and v.maxTime then
      return bad(what, "optimize=distance goes with maxDistance")
    end
    if v.optimize and v.optimize ~= "distance" and v.maxDistance then
      return bad(what, "optimize=%s goes with maxTime", v.optimize)
    end
    if check.typed(what, "travelMode", tm, "string") and tm:lower() ~= "driving" then
      return bad(what, "the isochrone service no longer takes a travel mode (since 2024-09-30 "
        .. "results are for driving): travelMode '%s' cannot be honoured", tm)
    end
    local minutes = iso_size(v)
    local L = LIMITS.isochrone
    if call.async and minutes and minutes > L.async_max_minutes then
      return bad(what, "maxTime is at most %d minutes (asynchronous requests), got %g minutes",
        L.async_max_minutes, minutes)
    end
  end,
  -- The service's own callbackUrl and resultUrl name this endpoint IsochroneAsyncCallback
  -- (isochrone-asynchronous-example.md); the template spells it IsochronesAsyncCallback.
  async = {kind = "isochrone", name = "isochrone",
           aliases = {"IsochronesAsync", "IsochroneAsync", "Route-IsochroneAsync", "Isochrones"},
           status = "/REST/v1/Routes/IsochroneAsyncCallback",
           status_billing = "Route-IsochroneAsyncCallback", result = iso_result,
           path = "/REST/v1/Routes/IsochronesAsync", billing = "Route-IsochroneAsync",
           when = function(call)
             local minutes, km = iso_size(call.values)
             local L = LIMITS.isochrone
             return (minutes and minutes > L.sync_minutes) or (km and km > L.sync_km) or false
           end},
}

-- GPS points: at most 1,000, consecutive ones within 2.5 km -> "lat,lon;lat,lon", or nil, err.
local function snap_points(what, name, list)
  local pts, err = points_of(what, name, list)
  if not pts then return nil, err end
  local L = LIMITS.snap
  if #pts == 0 then return bad(what, "points is empty") end
  if #pts > L.async then
    return bad(what, "at most %d points (asynchronous requests), got %d", L.async, #pts)
  end
  local t = {pts[1].text}
  for i = 2, #pts do
    local d = haversine(pts[i - 1].lat, pts[i - 1].lon, pts[i].lat, pts[i].lon)
    if d > L.spacing_km then
      return bad(what, "points[%d] and points[%d] are %.2f km apart: GPS points must be within "
        .. "%.1f km of each other", i - 1, i, d, L.spacing_km)
    end
    t[i] = pts[i].text
  end
  return table.concat(t, ";")
end

local function many_points(call) return #call.args.points > LIMITS.snap.sync end

--- Snaps GPS `points` to roads. Up to 100 points synchronously, up to 1,000 asynchronously
-- (sent with POST); consecutive points must be within 2.5 km of each other. Left to itself
-- (`async` unset) the library uses the asynchronous API above 100 points and waits for the job.
-- Returns a SnapResult (`snappedPoints`, `:path()`, `:geojson()`), a Job, or nil, err.
_M.snap = {
  path = "/REST/v1/Routes/SnapToRoad", billing = "Route-SnapToRoad", result = snap_result,
  params = {
    {"points", snap_points, required = true}, {"interpolate", check.boolean},
    {"includeSpeedLimit", check.boolean}, {"includeTruckSpeedLimit", check.boolean},
    {"speedUnit", check.one_of{"MPH", "KPH"}}, {"travelMode", check.one_of{"driving", "walking"}},
  },
  options = {"async", "method", "job_timeout"},
  rules = function(call)
    local n = #call.args.points
    if not call.async and n > LIMITS.snap.sync then
      return bad(call.what, "at most %d points in a synchronous request, got %d (use async)",
        LIMITS.snap.sync, n)
    end
  end,
  -- snap-points-to-roads.md: POST above 100 points, and for URLs past 2083 characters.
  post = {when = many_points, body = function(call, body)
    body.points = bing_list(points_of(call.what, "points", call.args.points))
    return body
  end},
  async = {kind = "snap", name = "snap to road",
           aliases = {"SnapToRoadAsync", "Route-SnapToRoadAsync", "SnapToRoad"},
           status = "/REST/v1/Routes/SnapToRoadAsyncCallback",
           status_billing = "Route-SnapToRoadAsyncCallback", result = snap_result,
           path = "/REST/v1/Routes/SnapToRoadAsync", billing = "Route-SnapToRoadAsync",
           when = many_points},
}

local AGENT_FIELDS = {name = true, shifts = true, price = true, capacity = true}
local SHIFT_FIELDS = {startTime = true, startLocation = true, startAddress = true, endTime = true,
                      endLocation = true, endAddress = true, breaks = true}
local ITEM_FIELDS = {name = true, openingTime = true, closingTime = true, dwellTime = true,
                     priority = true, quantity = true, depot = true, location = true, address = true,
                     dropOffFrom = true}

-- An ISO 8601 date time as seconds, for ordering two of them: "2024-06-03T08:00:00-07:00"
-- and "2024-06-03T15:00:00Z" are the same instant, which comparing the strings would not
-- see. Returns seconds and whether the text named its offset (Z or +hh:mm); a time without
-- one is a wall-clock time, comparable only with another wall-clock time.
local function iso_seconds(v)
  local y, mo, d, h, mi, sec, rest =
    v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d?):(%d%d):(%d%d%.?%d*)(.*)$")
  if not y then return nil end
  y, mo = tonumber(y), tonumber(mo)
  -- Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
  if mo <= 2 then y = y - 1 end
  -- math.floor, not //: LuaJIT loads this file too.
  local floor = math.floor
  local era = floor((y >= 0 and y or y - 399) / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + tonumber(d) - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  local t = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
  if rest == "Z" then return t, true end
  local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
  if sign then
    local off = tonumber(oh) * 3600 + tonumber(om) * 60
    return sign == "+" and t - off or t + off, true
  end
  return t, false
end

-- Whether time a is before time b (nil when they cannot be ordered: one names its offset and
-- the other does not).
local function before(a, b)
  local ta, za = iso_seconds(a)
  local tb, zb = iso_seconds(b)
  if not ta or not tb or za ~= zb then return nil end
  return ta < tb
end
_M._before = before

-- A shift location: {lat, lon} -> Location, or a string -> Address.
local function place(what, name, loc, addr, required)
  if loc ~= nil and addr ~= nil then
    raise(string.format("%s: give %sLocation or %sAddress, not both", what, name, name))
  end
  if loc == nil and addr == nil then
    if required then raise(string.format("%s: %sLocation (or %sAddress) is required", what, name, name)) end
    return nil
  end
  if type(loc) == "string" then addr, loc = loc, nil end
  if addr ~= nil then
    if type(addr) ~= "string" or not addr:find("%S") then
      raise(string.format("%s: %sAddress must be a non-empty string", what, name))
    end
    return {address = addr}
  end
  local p, err = point(what, name .. "Location", loc)
  if not p then return nil, err end
  return {point = p}
end

local function opt_agents(what, list)
  local out, names, shifts_total, max_shifts = {}, {}, 0, 0
  for i, a in ipairs(list) do
    local n = "agents[" .. i .. "]"
    if type(a) ~= "table" then raise(what .. ": " .. n .. " must be a table") end
    for k in pairs(a) do
      if not AGENT_FIELDS[k] then raise(string.format("%s: unknown field %s.%s", what, n, tostring(k))) end
    end
    if type(a.name) ~= "string" or not a.name:find("%S") then
      raise(what .. ": " .. n .. ".name must be a non-empty string")
    end
    if names[a.name] then return bad(what, "two agents are named '%s'", a.name) end
    names[a.name] = true
    local shifts = list_of(what, n .. ".shifts", a.shifts, true)
    if #shifts == 0 then return bad(what, "%s has no shifts", n) end
    local agent = {name = a.name, shifts = {}, capacity = number_list(what, n .. ".capacity", a.capacity)}
    if a.price ~= nil then
      if type(a.price) ~= "table" then raise(what .. ": " .. n .. ".price must be a table") end
      agent.price = {}
      for _, k in ipairs{"fixedPrice", "pricePerKM", "pricePerHour"} do
        local v, err = number(what, n .. ".price." .. k, a.price[k])
        if err then return nil, err end
        agent.price[k] = v
      end
    end
    for si, s in ipairs(shifts) do
      local sn = n .. ".shifts[" .. si .. "]"
      if type(s) ~= "table" then raise(what .. ": " .. sn .. " must be a table") end
      for k in pairs(s) do
        if not SHIFT_FIELDS[k] then raise(string.format("%s: unknown field %s.%s", what, sn, tostring(k))) end
      end
      local shift, err = {}
      shift.startTime, err = iso_time(what, sn .. ".startTime", s.startTime, true)
      if err then return nil, err end
      shift.endTime, err = iso_time(what, sn .. ".endTime", s.endTime, true)
      if err then return nil, err end
      if before(shift.startTime, shift.endTime) == false then
        return bad(what, "%s ends before it starts", sn)
      end
      shift.start, err = place(what, "start", s.startLocation, s.startAddress, true)
      if not shift.start then return nil, err end
      shift["end"], err = place(what, "end", s.endLocation, s.endAddress, true)
      if not shift["end"] then return nil, err end
      if s.breaks ~= nil then
        shift.breaks = {}
        for bi, b in ipairs(list_of(what, sn .. ".breaks", s.breaks)) do
          local bn = sn .. ".breaks[" .. bi .. "]"
          if type(b) ~= "table" then raise(what .. ": " .. bn .. " must be a table") end
          local br = {}
          br.startTime, err = iso_time(what, bn .. ".startTime", b.startTime, true)
          if err then return nil, err end
          br.endTime, err = iso_time(what, bn .. ".endTime", b.endTime, true)
          if err then return nil, err end
          br.duration, err = span(what, bn .. ".duration", b.duration)
          if err then return nil, err end
          shift.breaks[bi] = br
        end
        -- lua-cjson writes an empty table as an object ("breaks":{}), not the array the
        -- service reads: no breaks is no field.
        if #shift.breaks == 0 then shift.breaks = nil end
      end
      agent.shifts[si] = shift
    end
    shifts_total = shifts_total + #shifts
    max_shifts = math.max(max_shifts, #shifts)
    out[i] = agent
  end
  return out, shifts_total, max_shifts
end

local function opt_items(what, list)
  local out, names = {}, {}
  for i, it in ipairs(list) do
    local n = "items[" .. i .. "]"
    if type(it) ~= "table" then raise(what .. ": " .. n .. " must be a table") end
    for k in pairs(it) do
      if not ITEM_FIELDS[k] then raise(string.format("%s: unknown field %s.%s", what, n, tostring(k))) end
    end
    local item, err = {}
    if it.name ~= nil then
      if type(it.name) ~= "string" then raise(what .. ": " .. n .. ".name must be a string") end
      if names[it.name] then return bad(what, "two items are named '%s'", it.name) end
      names[it.name] = true
      item.name = it.name
    end
    item.openingTime, err = iso_time(what, n .. ".openingTime", it.openingTime, true)
    if err then return nil, err end
    item.closingTime, err = iso_time(what, n .. ".closingTime", it.closingTime, true)
    if err then return nil, err end
    if before(item.closingTime, item.openingTime) then
      return bad(what, "%s closes before it opens", n)
    end
    item.dwellTime, err = span(what, n .. ".dwellTime", it.dwellTime, true)
    if err then return nil, err end
    item.priority, err = check.int_range(what, n .. ".priority", it.priority, 1, 100)
    if err then return nil, err end
    item.quantity = number_list(what, n .. ".quantity", it.quantity)
    item.depot = boolean(what, n .. ".depot", it.depot)
    item.place, err = place(what, "", it.location, it.address, true)
    if not item.place then return nil, err end
    if it.dropOffFrom ~= nil then
      local d = list_of(what, n .. ".dropOffFrom", it.dropOffFrom)
      for k, x in ipairs(d) do
        if type(x) ~= "string" then
          raise(string.format("%s: %s.dropOffFrom[%d] must be a string", what, n, k))
        end
      end
      item.dropOffFrom = #d > 0 and d or nil
    end
    out[i] = item
  end
  for i, item in ipairs(out) do
    for _, x in ipairs(item.dropOffFrom or {}) do
      if not names[x] then return bad(what, "items[%d].dropOffFrom names no item: '%s'", i, x) end
    end
  end
  return out
end

local function bing_coord(p) return {latitude = p.lat, longitude = p.lon} end

local function opt_body(agents, items)
  local ba, bi = {}, {}
  for i, a in ipairs(agents) do
    local shifts = {}
    for si, s in ipairs(a.shifts) do
      local bs = {startTime = s.startTime, endTime = s.endTime}
      local st, en = s.start, s["end"]
      if st.point then bs.startLocation = bing_coord(st.point) else bs.startAddress = st.address end
      if en.point then bs.endLocation = bing_coord(en.point) else bs.endAddress = en.address end
      bs.breaks = s.breaks
      shifts[si] = bs
    end
    ba[i] = {name = a.name, shifts = shifts, price = a.price, capacity = a.capacity}
  end
  for i, it in ipairs(items) do
    local b = {name = it.name, openingTime = it.openingTime, closingTime = it.closingTime,
               dwellTime = it.dwellTime, priority = it.priority, quantity = it.quantity,
               depot = it.depot, dropOffFrom = it.dropOffFrom}
    if it.place.point then b.location = bing_coord(it.place.point) else b.address = it.place.address end
    bi[i] = b
  end
  return {agents = ba, itineraryItems = bi}
end

-- optimized-itinerary.md, GET syntax: agents "name_shift;...", a shift "start|loc|end|loc",
-- several shifts of one agent joined by "_" (the synchronous GET example); items
-- "open_close_dwell_loc_priority" joined by ";".
local function opt_get_params(agents, items)
  local function loc(p) return p.point and p.point.text or p.address end
  local at = {}
  for i, a in ipairs(agents) do
    local shifts = {}
    for si, s in ipairs(a.shifts) do
      shifts[si] = table.concat({s.startTime, loc(s.start), s.endTime, loc(s["end"])}, "|")
    end
    at[i] = a.name .. "_" .. table.concat(shifts, "_")
  end
  local it = {}
  for i, x in ipairs(items) do
    it[i] = table.concat({x.openingTime, x.closingTime, x.dwellTime, loc(x.place), x.priority or 1}, "_")
  end
  return {{"itineraryAgents", table.concat(at, ";")}, {"itineraryItems", table.concat(it, ";")}}
end

--- Optimizes the itineraries of `agents` (each `{name=, shifts={{startTime=, startLocation=|
-- startAddress=, endTime=, endLocation=|endAddress=, breaks=}}, price=, capacity=}`) over
-- `items` (each `{name=, openingTime=, closingTime=, dwellTime=, priority=, location=|address=,
-- quantity=, depot=, dropOffFrom=}`). Options `type`, `roadnetwork`, `costvalue`.
-- Returns an Itinerary, a Job (`async = true`), or nil, err. Left to itself, the library uses
-- the asynchronous API beyond the synchronous limits (5 shifts, 20 items) and waits.
local function optimize_run(call)
  local client, args, what, v = call.client, call.args, call.what, call.values
  local agents, items = v.agents, v.items
  local shifts_total, max_shifts = 0, 0
  for _, a in ipairs(agents) do
    shifts_total, max_shifts = shifts_total + #a.shifts, math.max(max_shifts, #a.shifts)
  end
  local otype, rn, cv = v.type, v.roadnetwork, v.costvalue

  local L = LIMITS.optimize
  local acct = type(client.account) == "string" and client.account:lower() == "enterprise"
    and L.enterprise or L.basic
  local acct_name = acct == L.enterprise and "Enterprise" or "Basic"
  if #agents > acct.agents then
    return bad(what, "at most %d agents for a %s account, got %d", acct.agents, acct_name, #agents)
  end
  if #items > acct.items then
    return bad(what, "at most %d itinerary items for a %s account, got %d", acct.items, acct_name, #items)
  end
  local fits_sync = shifts_total <= L.sync_shifts and #items <= L.sync_items
  local async = args.async
  local auto = async == nil
  if auto then async = not fits_sync end
  if not async and not fits_sync then
    return bad(what, "a synchronous request takes at most %d agent shifts and %d items "
      .. "(got %d shifts, %d items): use async", L.sync_shifts, L.sync_items, shifts_total, #items)
  end
  if async and max_shifts > acct.shifts_per_agent then
    return bad(what, "at most %d shifts per agent for a %s account, got %d", acct.shifts_per_agent,
      acct_name, max_shifts)
  end
  local spec = {api = "rest", path = async and "/REST/V1/Routes/OptimizeItineraryAsync"
                  or "/REST/V1/Routes/OptimizeItinerary",
                billing = {category = async and "Routes-OptimizeItineraryAsync" or "Routes-OptimizeItinerary",
                           units = #agents * #items},
                timeout = args.timeout, dry_run = args.dry_run}
  local extra = {}
  add(extra, "type", otype)
  if rn ~= nil then add(extra, "roadnetwork", tostring(rn)) end
  add(extra, "costvalue", cv)
  local m = call.method
  if m == "GET" then
    for _, a in ipairs(agents) do
      if a.price or a.capacity or a.name:find("[_;|]") then
        return bad(what, "agent '%s' cannot be sent with GET (price, capacity, or '_', ';', '|' "
          .. "in its name): use POST", a.name)
      end
      for _, s in ipairs(a.shifts) do
        if s.breaks then return bad(what, "shift breaks are only available with POST") end
        -- The GET syntax separates fields with '_', '|' and ';': an address holding one
        -- would be read as another field (optimized-itinerary.md, "Syntax Signature").
        for _, p in ipairs{s.start, s["end"]} do
          if p.address and p.address:find("[_;|]") then
            return bad(what, "address '%s' of agent '%s' cannot be sent with GET ('_', ';' or '|' "
              .. "in it): use POST", p.address, a.name)
          end
        end
      end
    end
    for i, it in ipairs(items) do
      if it.quantity or it.depot ~= nil or it.dropOffFrom or it.name then
        return bad(what, "items[%d] has fields only POST carries (name, quantity, depot, dropOffFrom)", i)
      end
      if it.place.address and it.place.address:find("[_;|]") then
        return bad(what, "items[%d].address cannot be sent with GET ('_', ';' or '|' in it): use POST", i)
      end
    end
    spec.method = "GET"
    spec.params = opt_get_params(agents, items)
    for _, p in ipairs(extra) do spec.params[#spec.params + 1] = p end
  else
    spec.method = "POST"
    spec.params = extra
    spec.body = opt_body(agents, items)
    spec.idempotent = not async
  end
  return {specs = {spec}, async = async, auto = auto}
end

-- A non-empty list read by `read` (opt_agents, opt_items).
local function non_empty(read)
  return function(what, name, list)
    list_of(what, name, list)
    if #list == 0 then return bad(what, "%s is empty", name) end
    return read(what, list)
  end
end

_M.optimize = {
  plan = optimize_run, result = itinerary_result,
  params = {
    {"agents", non_empty(opt_agents), alias = "itineraryAgents", required = true},
    {"items", non_empty(opt_items), alias = "itineraryItems", required = true},
    {"type", check.one_of{"SimpleRequest", "TrafficRequest"}}, {"roadnetwork", check.boolean},
    {"costvalue", check.one_of{"TravelTime", "Distance", "Price"}},
  },
  options = {"async", "method", "job_timeout"},
  -- optimized-itinerary.md: "When the asynchronous request is completed, a JSON response will
  -- be returned with the optimized itinerary information in the same format as the
  -- synchronous request": the completed status is the result.
  async = {kind = "optimize", name = "itinerary optimization",
           aliases = {"OptimizeItineraryAsync", "Routes-OptimizeItineraryAsync", "OptimizeItinerary"},
           status = "/REST/v1/Routes/OptimizeItineraryAsyncCallback",
           status_billing = "Routes-OptimizeItineraryAsyncCallback", result = itinerary_result},
}

-- exclude = "routes" or true: starting points only; false: not sent.
local function exclude(what, _, x)
  if x == true then return "routes" end
  if x == false then return nil end
  if type(x) ~= "string" then raise(what .. ": exclude must be \"routes\" or a boolean") end
  if x:lower() ~= "routes" then return bad(what, "exclude takes the value \"routes\"") end
  return "routes"
end

--- Routes to `destination` from major roads in four directions (Calculate Routes from Major
-- Roads). Returns a list of Route objects with `startingPoints` (Location objects).
_M.major_roads = {
  path = "/REST/v1/Routes/FromMajorRoads", billing = "RESTRoutes", result = rt.major_routes,
  params = {
    {"destination", function(w, n, x)
      local wp, err = waypoint(w, n, x)
      return wp and wp.text, err
    end, required = true},
    {"exclude", exclude}, {"routeAttributes", check.some_of(ROUTE_ATTRIBUTES_LIST)},
    {"routePathOutput", check.one_of{"Points", "None"}},
    {"distanceUnit", check.one_of(DISTANCE_UNITS_LIST)},
    {"culture", check.culture, default = function(client) return client.culture end},
  },
}

return endpoint.family("routes", _M)
