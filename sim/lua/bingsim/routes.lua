-- The Routes APIs of the emulator: routes (Driving, Walking, Transit, Truck), distance
-- matrices, isochrones, snap to road, multi-itinerary optimization, routes from major roads,
-- and their asynchronous variants.
--
-- Dispatch row: {prefix = "/REST/v1/Routes", module = "routes", methods = {GET, POST}}.
-- Answers are synthesized by bingsim.route_synth; every documented limit is answered with
-- the documented 400 (errorDetails), so the client's own checks are tested from both sides.
--
-- Test-only request headers (never sent by the library unless a spec asks):
--   X-Bingsim-No-Limits: 1        skip the documented size limits (an "unsplit" reference
--                                 computation of a route or matrix larger than one request)
--   X-Bingsim-Job-Delay: <s>      seconds an asynchronous job takes (default jobs.DEFAULT_DELAY)
--   X-Bingsim-Job-Fail: <text>    the job completes without a result, with this errorMessage
--   X-Bingsim-Account: basic      the account type of the key (default: enterprise: Basic keys
--                                 stopped working on 2025-06-30, every working key is Enterprise)
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local jobs = require "bingsim.jobs"
local synth = require "bingsim.route_synth"

local _M = {_VERSION = "0.1.0"}

local A, O = json.array, json.object
local floor, ceil, min, max = math.floor, math.ceil, math.min, math.max
local format = string.format

-- Documented limits (rest-services/routes/*.md).
_M.LIMITS = {
  waypoints = 25, vias_between = 10, truck_points = 25, tolerances = 7, max_solutions = 3,
  matrix = {basic = {driving = 2500, walking = 650, async = 2500},
            enterprise = {driving = 10000, walking = 650, async = 40000}},
  snap = {sync = 100, async = 1000, spacing_km = 2.5},
  isochrone_async_minutes = 60,
  optimize = {sync_shifts = 5, sync_items = 20,
              basic = {agents = 3, items = 20, shifts_per_agent = 7},
              enterprise = {agents = 200, items = 2000, shifts_per_agent = 14}},
}
local L = _M.LIMITS

-- Endpoints: lower-case last path segment -> {op, async, category, methods}.
local POST_OK = {GET = true, POST = true}
local GET_ONLY = {GET = true}
local ENDPOINTS = {
  [""] = {op = "route", mode = "driving", category = "RESTRoutes", methods = GET_ONLY},
  driving = {op = "route", mode = "driving", category = "RESTRoutes", methods = GET_ONLY},
  walking = {op = "route", mode = "walking", category = "RESTRoutes", methods = GET_ONLY},
  transit = {op = "route", mode = "transit", category = "RESTRoutes", methods = GET_ONLY},
  truck = {op = "route", mode = "truck", category = "Route-Truck", transactions = 3, methods = POST_OK},
  truckasync = {op = "route", mode = "truck", async = "truck", category = "Route-TruckAsync",
                transactions = 3, methods = POST_OK},
  truckasynccallback = {op = "callback", kind = "truck", category = "Route-TruckAsyncCallback"},
  distancematrix = {op = "matrix", category = "Route-DistanceMatrix", methods = POST_OK},
  distancematrixasync = {op = "matrix", async = "matrix", category = "Route-DistanceMatrixAsync",
                         methods = POST_OK},
  distancematrixasynccallback = {op = "callback", kind = "matrix",
                                 category = "Route-DistanceMatrixAsyncCallback"},
  isochrones = {op = "isochrone", category = "Route-Isochrone", methods = POST_OK},
  isochronesasync = {op = "isochrone", async = "isochrone", category = "Route-IsochroneAsync",
                     methods = POST_OK},
  isochronesasynccallback = {op = "callback", kind = "isochrone", category = "Route-IsochroneAsyncCallback"},
  isochroneasynccallback = {op = "callback", kind = "isochrone", category = "Route-IsochroneAsyncCallback"},
  snaptoroad = {op = "snap", category = "Route-SnapToRoad", methods = POST_OK},
  snaptoroadasync = {op = "snap", async = "snap", category = "Route-SnapToRoadAsync", methods = POST_OK},
  snaptoroadasynccallback = {op = "callback", kind = "snap", category = "Route-SnapToRoadAsyncCallback"},
  optimizeitinerary = {op = "optimize", category = "Routes-OptimizeItinerary", methods = POST_OK},
  optimizeitineraryasync = {op = "optimize", async = "optimize", category = "Routes-OptimizeItineraryAsync",
                            methods = POST_OK},
  optimizeitineraryasynccallback = {op = "callback", kind = "optimize",
                                    category = "Routes-OptimizeItineraryAsyncCallback"},
  frommajorroads = {op = "major", category = "RESTRoutes", methods = GET_ONLY},
}

-- Callback endpoint names per job kind (the service's own spelling in callbackUrl).
local CALLBACK = {truck = "TruckAsyncCallback", matrix = "DistanceMatrixAsyncCallback",
                  isochrone = "IsochroneAsyncCallback", snap = "SnapToRoadAsyncCallback",
                  optimize = "OptimizeItineraryAsyncCallback"}

local function endpoint(req)
  local rest = req.rest or {}
  if #rest > 1 then return nil end
  return ENDPOINTS[(rest[1] or ""):lower()]
end

---------------------------------------------------------------------------------------------
-- Input: GET parameters or a POST JSON body, looked up by name or alias, case-insensitively
---------------------------------------------------------------------------------------------

local function body_of(req)
  if req._body ~= nil then return req._body or nil end
  local b = false
  if req.method == "POST" and req.body and req.body ~= "" then
    local v = json.decode(req.body)
    if type(v) == "table" then b = v end
  end
  req._body = b
  return b or nil
end

-- A lower-cased view of the body's top-level keys.
local function body_get(req, ...)
  local b = body_of(req)
  if not b then return nil end
  if not req._lbody then
    req._lbody = {}
    for k, v in pairs(b) do if type(k) == "string" then req._lbody[k:lower()] = v end end
  end
  for i = 1, select("#", ...) do
    local v = req._lbody[(select(i, ...)):lower()]
    if v ~= nil and v ~= json.null then return v end
  end
  return nil
end

-- A parameter from the query string or, for POST, the body (first name present wins).
local function param(req, ...)
  local v = req.param(...)
  if v ~= nil then return v end
  return body_get(req, ...)
end

local function header(req, name)
  local v = req.headers and req.headers[name]
  if type(v) == "table" then v = v[1] end
  return v
end

local function no_limits(req) return header(req, "x-bingsim-no-limits") == "1" end

local function account(req)
  local v = header(req, "x-bingsim-account")
  return (v and v:lower() == "basic") and "basic" or "enterprise"
end

local function truthy(v)
  if v == true then return true end
  if v == nil or v == false then return false end
  v = tostring(v):lower()
  return v == "true" or v == "1" or v == "yes"
end

local function bad(req, name, problem)
  return nil, envelope.invalid(req, name, problem)
end

local function number_of(v)
  if type(v) == "number" then return v end
  if type(v) == "string" then return tonumber(v) end
  return nil
end

-- "lat,lon" -> lat, lon (numbers) or nil.
local function parse_point(s)
  if type(s) ~= "string" then return nil end
  local a, b = s:match("^%s*([-+]?%d+%.?%d*)%s*,%s*([-+]?%d+%.?%d*)%s*$")
  if not a then return nil end
  return tonumber(a), tonumber(b)
end

local function valid_latlon(lat, lon)
  return lat and lon and lat >= -90 and lat <= 90 and lon >= -180 and lon <= 180
end

---------------------------------------------------------------------------------------------
-- Geocoding of waypoints given as addresses or landmarks: the emulator's gazetteer
---------------------------------------------------------------------------------------------

local ADDRESS_FIELDS = {"addressLine", "adminDistrict", "adminDistrict2", "countryRegion",
  "formattedAddress", "locality", "postalCode", "landmark"}

-- The Location of a waypoint given as text (route-data.md, startLocation / endLocation),
-- from a gazetteer match.
local function location_json(r)
  local e = r.entry
  local addr = O()
  for _, f in ipairs(ADDRESS_FIELDS) do addr[f] = e.address and e.address[f] end
  local gps = A()
  for i, p in ipairs(e.geocode_points or {}) do
    gps[i] = O{type = "Point", coordinates = A{p.lat, p.lon}, calculationMethod = p.calc,
               usageTypes = A(p.usage)}
  end
  if #gps == 0 then
    gps[1] = O{type = "Point", coordinates = A{e.lat, e.lon}, calculationMethod = e.calc or "Rooftop",
               usageTypes = A{"Display"}}
  end
  return O{
    bbox = A{e.bbox[1], e.bbox[2], e.bbox[3], e.bbox[4]}, name = e.name,
    point = synth.point_json(e.lat, e.lon), address = addr, confidence = r.confidence or "High",
    entityType = e.entityType, geocodePoints = gps, matchCodes = A(r.match_codes or {"Good"}),
  }
end

--- Resolves an address or landmark through the emulator's gazetteer (gazetteer.lookup: the
-- Locations API's own search, so a waypoint lands where client.locations.find puts it):
-- {lat=, lon=, name=, location=} or nil. The route starts at the entry's "Route" geocode
-- point when it has one.
function _M.geocode(text)
  local ok, gz = pcall(require, "bingsim.gazetteer")
  if not ok or type(gz.lookup) ~= "function" then return nil end
  local ok2, e = pcall(gz.lookup, text)
  if not ok2 or type(e) ~= "table" then return nil end
  local lat, lon = e.lat, e.lon
  for _, p in ipairs(e.geocode_points or {}) do
    for _, u in ipairs(p.usage or {}) do
      if u == "Route" then lat, lon = p.lat, p.lon end
    end
  end
  return {lat = lat, lon = lon, name = e.name, location = location_json({entry = e})}
end

-- A waypoint value -> {lat=, lon=, name=?, location=?} or nil, problem.
local function resolve(value)
  if type(value) ~= "string" or not value:find("%S") then return nil, "missing" end
  local lat, lon = parse_point(value)
  if lat then
    if not valid_latlon(lat, lon) then return nil, "out of range" end
    return {lat = lat, lon = lon}
  end
  local g = _M.geocode(value)
  if not g then return nil, "not found" end
  return g
end

---------------------------------------------------------------------------------------------
-- Routes
---------------------------------------------------------------------------------------------

local function list_param(v)
  if v == nil then return nil end
  if type(v) == "table" then
    local out = {}
    for i, x in ipairs(v) do out[i] = tostring(x) end
    return out
  end
  local out = {}
  for item in tostring(v):gmatch("[^,]+") do out[#out + 1] = item:match("^%s*(.-)%s*$") end
  return out
end

-- The waypoints of a GET request: wp.N / waypoint.N / vwp.N / viaWaypoint.N.
local function get_waypoints(req)
  local by_index = {}
  for name, v in pairs(req.params) do
    local kind, n = name:match("^(waypoint)%.(%d+)$")
    if not kind then kind, n = name:match("^(wp)%.(%d+)$") end
    if not kind then kind, n = name:match("^(viawaypoint)%.(%d+)$") end
    if not kind then kind, n = name:match("^(vwp)%.(%d+)$") end
    if kind then
      n = tonumber(n)
      if by_index[n] then return nil, "waypoint." .. n end
      by_index[n] = {value = v, via = kind == "viawaypoint" or kind == "vwp", index = n}
    end
  end
  local idx = {}
  for n in pairs(by_index) do idx[#idx + 1] = n end
  table.sort(idx)
  if #idx == 0 then return {} end
  if idx[1] > 1 then return nil, "waypoint." .. idx[1] end
  for k = 2, #idx do
    if idx[k] ~= idx[k - 1] + 1 then return nil, "waypoint." .. idx[k] end
  end
  local out = {}
  for k, n in ipairs(idx) do out[k] = by_index[n] end
  return out
end

-- The waypoints of a truck POST body.
local function post_waypoints(req)
  local list = body_get(req, "waypoints")
  if type(list) ~= "table" then return {} end
  local out = {}
  for i, w in ipairs(list) do
    if type(w) ~= "table" then return nil, "waypoints" end
    local value = w.address
    if value == nil and w.latitude ~= nil then
      value = format("%s,%s", tostring(w.latitude), tostring(w.longitude))
    end
    out[i] = {value = value, via = w.isViaPoint == true, index = i - 1}
  end
  return out
end

local AVOID = {highways = true, tolls = true, ferry = true, minimizehighways = true,
               minimizetolls = true, bordercrossing = true}
local ROUTE_ATTR = {excludeitinerary = true, routepath = true, transitstops = true,
                    routesummariesonly = true, regiontravelsummary = true, all = true}

local function route_options(req, ep)
  local o = {mode = ep.mode}
  local du = param(req, "distanceUnit", "du")
  if du then
    local d = tostring(du):lower()
    if d == "mile" or d == "mi" then o.units = "mi"
    elseif d == "kilometer" or d == "km" then o.units = "km"
    else return bad(req, "distanceUnit", envelope.NOT_VALID) end
  end
  local avoid = list_param(param(req, "avoid"))
  if avoid then
    o.avoid = {}
    for _, a in ipairs(avoid) do
      if not AVOID[a:lower()] then return bad(req, "avoid", envelope.NOT_VALID) end
      o.avoid[a:lower()] = true
    end
  end
  local hd = param(req, "heading", "hd")
  if hd ~= nil then
    local h = number_of(hd)
    if not h or h ~= floor(h) or h < 0 or h > 359 then return bad(req, "heading") end
  end
  local opt = param(req, "optimize", "optmz")
  if opt then
    local ov = tostring(opt):lower()
    local ok = {distance = "distance", time = "time", timewithtraffic = "timeWithTraffic",
                timeavoidclosure = "timeAvoidClosure"}
    if not ok[ov] then return bad(req, "optimize", envelope.NOT_VALID) end
    o.optimize = ok[ov]
  end
  o.optimize_waypoints = truthy(param(req, "optimizeWaypoints", "optWp"))
  local ra = list_param(param(req, "routeAttributes", "ra"))
  if ra then
    local set = {}
    for _, a in ipairs(ra) do
      if not ROUTE_ATTR[a:lower()] then return bad(req, "routeAttributes", envelope.NOT_VALID) end
      set[a:lower()] = true
    end
    o.path = set.routepath or set.all
    o.exclude_itinerary = set.excludeitinerary or set.all
    o.summaries_only = set.routesummariesonly
  else
    local rpo = param(req, "routePathOutput", "rpo")
    o.path = rpo ~= nil and tostring(rpo):lower() == "points"
  end
  local tl = param(req, "tolerances", "tl")
  if tl ~= nil then
    local list = list_param(tl)
    if #list > L.tolerances then
      return bad(req, "tolerances", format("At most %d tolerance values may be given.", L.tolerances))
    end
    o.tolerances = {}
    for i, t in ipairs(list) do
      local v = tonumber(t)
      if not v or v <= 0 then return bad(req, "tolerances", envelope.NOT_VALID) end
      o.tolerances[i] = v
    end
  end
  local ms = param(req, "maxSolutions", "maxSolns")
  if ms ~= nil then
    local v = number_of(ms)
    if not v or v ~= floor(v) or v < 1 or v > L.max_solutions then return bad(req, "maxSolutions") end
    o.solutions = v
  end
  o.date_time = param(req, "dateTime", "dt")
  if o.date_time and not synth.parse_time(o.date_time) then
    return bad(req, "dateTime", envelope.NOT_VALID)
  end
  local tt = param(req, "timeType", "tt")
  if tt then
    local v = tostring(tt):lower()
    if v ~= "arrival" and v ~= "departure" and v ~= "lastavailable" then
      return bad(req, "timeType", envelope.NOT_VALID)
    end
    o.time_type = v
  end
  local dbft = param(req, "distanceBeforeFirstTurn", "dbft")
  if dbft ~= nil and ep.mode ~= "truck" then
    local v = number_of(dbft)
    if not v or v < 0 then return bad(req, "distanceBeforeFirstTurn") end
    o.dbft = v
  end
  if ep.mode == "truck" then
    local spec = body_get(req, "vehicleSpec")
    local function vget(name, alias)
      if type(spec) == "table" and spec[name] ~= nil then return spec[name] end
      return req.param(name, alias)
    end
    local weight = number_of(vget("vehicleWeight", "weight"))
    local wu = vget("weightUnit", "wu")
    if weight and wu and tostring(wu):lower():sub(1, 1) == "p" then weight = weight * 0.4536 end
    local height = number_of(vget("vehicleHeight", "height"))
    local dims = vget("dimensionUnit", "dims")
    if height and dims and tostring(dims):lower():sub(1, 1) == "f" then height = height * 0.3048 end
    for _, n in ipairs{{"vehicleHeight", "height"}, {"vehicleWidth", "width"}, {"vehicleLength", "vl"},
                       {"vehicleWeight", "weight"}, {"vehicleAxles", "axles"}, {"vehicleTrailers", "vt"}} do
      local v = vget(n[1], n[2])
      if v ~= nil and (not number_of(v) or number_of(v) < 0) then return bad(req, n[1]) end
    end
    o.heavy = (weight and weight > 36000) or (height and height > 4.1)
    local hm = vget("vehicleHazardousMaterials", "vhm")
    if hm ~= nil then
      local ok = {Combustable = 1, C = 1, Corrosive = 1, Cr = 1, Explosive = 1, E = 1, Flammable = 1,
                  F = 1, FlammableSolid = 1, FS = 1, Gas = 1, G = 1, GoodsHarmfulToWater = 1, WH = 1,
                  Organic = 1, O = 1, Other = 1, Poison = 1, P = 1, PoisonousInhalation = 1, PI = 1,
                  Radioactive = 1, R = 1, None = 1}
      for _, m in ipairs(list_param(hm)) do
        if not ok[m] then return bad(req, "vehicleHazardousMaterials", envelope.NOT_VALID) end
        if m ~= "None" then o.hazmat = true end
      end
    end
  end
  return o
end

local function route_handle(req, ep)
  local raw, werr
  if req.method == "POST" then raw, werr = post_waypoints(req) else raw, werr = get_waypoints(req) end
  if not raw then return envelope.invalid(req, werr, envelope.NOT_VALID) end
  local o, oerr = route_options(req, ep)
  if not o then return oerr end
  local limits = not no_limits(req)
  local stops = 0
  for _, w in ipairs(raw) do if not w.via then stops = stops + 1 end end
  if stops < 2 then
    return envelope.invalid(req, "waypoints", "At least two waypoints are required.")
  end
  if raw[1].via or raw[#raw].via then
    return envelope.invalid(req, "viaWaypoint", "The start and end points of a route cannot be viaWaypoints.")
  end
  if limits then
    if ep.mode == "truck" and #raw > L.truck_points then
      return envelope.invalid(req, "waypoints", format("A request may have at most %d waypoints or "
        .. "viaWaypoints.", L.truck_points))
    end
    if ep.mode ~= "truck" and stops > L.waypoints then
      return envelope.invalid(req, "waypoints",
        format("A request may have at most %d waypoints.", L.waypoints))
    end
  end
  local run = 0
  for _, w in ipairs(raw) do
    run = w.via and run + 1 or 0
    if ep.mode ~= "truck" and run > L.vias_between then
      return envelope.invalid(req, "viaWaypoint", format("At most %d viaWaypoints between two waypoints.",
        L.vias_between))
    end
  end
  local has_via = stops < #raw
  if ep.mode == "transit" then
    if stops ~= 2 or has_via then
      return envelope.invalid(req, "waypoints", "Transit routes take exactly two waypoints.")
    end
    if not o.date_time then return envelope.invalid(req, "dateTime", envelope.MISSING) end
    if not o.time_type then return envelope.invalid(req, "timeType", envelope.MISSING) end
  end
  if (o.solutions or 1) > 1 then
    if ep.mode ~= "driving" and ep.mode ~= "transit" then return envelope.invalid(req, "maxSolutions") end
    if stops ~= 2 or has_via then
      return envelope.invalid(req, "maxSolutions", "maxSolutions > 1 is only supported for routes "
        .. "between two waypoints.")
    end
    if ep.mode == "driving" and (o.avoid or o.dbft) then
      return envelope.invalid(req, "maxSolutions", "maxSolutions > 1 cannot be combined with avoid or "
        .. "distanceBeforeFirstTurn.")
    end
  end
  -- Rules of calculate-a-route.md and calculate-a-truck-route.md that name travel modes.
  local drives = ep.mode == "driving" or ep.mode == "truck"
  if o.optimize_waypoints and not drives then
    return envelope.invalid(req, "optimizeWaypoints", "optimizeWaypoints is only available for the "
      .. "Driving travel mode.")
  end
  if o.optimize == "timeWithTraffic" and not drives then
    return envelope.invalid(req, "optimize", "timeWithTraffic is only available for the Driving travel mode.")
  end
  if o.dbft and ep.mode ~= "driving" then
    return envelope.invalid(req, "distanceBeforeFirstTurn", "distanceBeforeFirstTurn only applies to the "
      .. "Driving travel mode.")
  end
  if ep.mode == "truck" and o.optimize and o.optimize ~= "time" and o.optimize ~= "timeWithTraffic" then
    return envelope.invalid(req, "optimize", envelope.NOT_VALID)
  end
  if o.optimize_waypoints and (has_via or stops <= 2) then
    return envelope.invalid(req, "optimizeWaypoints", "optimizeWaypoints needs more than two waypoints "
      .. "and no viaWaypoints.")
  end
  if o.summaries_only and stops ~= 2 then
    return envelope.invalid(req, "routeAttributes", "routeSummariesOnly is only supported for routes "
      .. "of two waypoints.")
  end
  local wps = {}
  for i, w in ipairs(raw) do
    local p, problem = resolve(w.value)
    if not p then
      if problem == "not found" then
        return envelope.error(req, 404, format("The waypoint '%s' could not be geocoded.", tostring(w.value)))
      end
      return envelope.invalid(req, (w.via and "viaWaypoint." or "waypoint.") .. w.index,
        problem == "missing" and envelope.MISSING or envelope.OUT_OF_RANGE)
    end
    p.via = w.via
    wps[i] = p
  end
  return synth.routes(wps, o)
end

---------------------------------------------------------------------------------------------
-- Distance matrix
---------------------------------------------------------------------------------------------

local function coord_list(v)
  if v == nil then return nil end
  local out = {}
  if type(v) == "table" then
    for i, c in ipairs(v) do
      local lat, lon = number_of(c.latitude), number_of(c.longitude)
      if not valid_latlon(lat, lon) then return nil, i end
      out[i] = {lat = lat, lon = lon}
    end
    return out
  end
  for item in tostring(v):gmatch("[^;]+") do
    local lat, lon = parse_point(item)
    if not valid_latlon(lat, lon) then return nil, #out + 1 end
    out[#out + 1] = {lat = lat, lon = lon}
  end
  return out
end

local function cells_of(origins, dests)
  local n = #origins * #dests
  for k = 1, min(#origins, #dests) do
    if origins[k].lat == dests[k].lat and origins[k].lon == dests[k].lon then n = n - 1 end
  end
  return n
end

local function matrix_input(req)
  local origins, oerr = coord_list(param(req, "origins"))
  if not origins then
    return nil, envelope.invalid(req, "origins", oerr and envelope.NOT_VALID or envelope.MISSING)
  end
  if #origins == 0 then return nil, envelope.invalid(req, "origins", envelope.MISSING) end
  local dests, derr = coord_list(param(req, "destinations"))
  if derr then return nil, envelope.invalid(req, "destinations", envelope.NOT_VALID) end
  return {origins = origins, dests = dests or origins}
end

local function matrix_handle(req, ep)
  local m, err = matrix_input(req)
  if not m then return err end
  if param(req, "endTime") ~= nil or param(req, "resolution") ~= nil then
    return envelope.invalid(req, param(req, "endTime") ~= nil and "endTime" or "resolution",
      "Distance matrix histograms (endTime, resolution) are no longer supported.")
  end
  local mode = param(req, "travelMode")
  if mode == nil then return envelope.invalid(req, "travelMode", envelope.MISSING) end
  mode = tostring(mode):lower()
  if mode == "transit" then
    return envelope.invalid(req, "travelMode", "Transit is no longer supported by the distance matrix.")
  end
  if mode ~= "driving" and mode ~= "walking" then
    return envelope.invalid(req, "travelMode", envelope.NOT_VALID)
  end
  local start = param(req, "startTime")
  local start_epoch, offset
  if start ~= nil then
    if mode ~= "driving" then
      return envelope.invalid(req, "startTime", "startTime is only supported for travelMode driving.")
    end
    start_epoch, offset = synth.parse_time(start)
    if not start_epoch then return envelope.invalid(req, "startTime", envelope.NOT_VALID) end
  end
  if ep.async and not start then
    return envelope.invalid(req, "startTime",
      "Asynchronous requests need travelMode driving and a startTime.")
  end
  local tu = param(req, "timeUnit")
  tu = tu and tostring(tu):lower() or "minute"
  if tu ~= "minute" and tu ~= "second" then return envelope.invalid(req, "timeUnit", envelope.NOT_VALID) end
  local du = param(req, "distanceUnit")
  local units = "km"
  if du then
    local d = tostring(du):lower()
    if d == "mile" or d == "mi" then units = "mi"
    elseif d ~= "kilometer" and d ~= "km" then
      return envelope.invalid(req, "distanceUnit", envelope.NOT_VALID)
    end
  end
  local pairs_n = #m.origins * #m.dests
  local lim = L.matrix[account(req)]
  local cap = ep.async and lim.async or lim[mode]
  if not no_limits(req) and pairs_n > cap then
    return envelope.invalid(req, "origins", format("The number of origin-destination pairs (%d) exceeds "
      .. "the limit of %d for this request.", pairs_n, cap))
  end
  local results = synth.matrix(m.origins, m.dests, {mode = mode, time_unit = tu, units = units,
                                                    start = start_epoch, offset = offset})
  local function coords(list)
    local out = A()
    for i, p in ipairs(list) do out[i] = O{latitude = p.lat, longitude = p.lon} end
    return out
  end
  return O{__type = envelope.type_of("DistanceMatrix"), destinations = coords(m.dests),
           origins = coords(m.origins), results = results}
end

---------------------------------------------------------------------------------------------
-- Isochrone
---------------------------------------------------------------------------------------------

local function isochrone_handle(req, ep)
  local wp = param(req, "waypoint", "wp")
  if wp == nil then return envelope.invalid(req, "waypoint", envelope.MISSING) end
  local origin, problem = resolve(tostring(wp))
  if not origin then
    if problem == "not found" then
      return envelope.error(req, 404, format("The waypoint '%s' could not be geocoded.", tostring(wp)))
    end
    return envelope.invalid(req, "waypoint", envelope.OUT_OF_RANGE)
  end
  local mt, md = number_of(param(req, "maxTime")), number_of(param(req, "maxDistance", "maxDis"))
  if (mt and md) or not (mt or md) then
    return envelope.invalid(req, "maxTime", "Exactly one of maxTime or maxDistance must be set.")
  end
  if (mt and mt <= 0) or (md and md <= 0) then
    return envelope.invalid(req, mt and "maxTime" or "maxDistance")
  end
  local radius
  if mt then
    local tu = param(req, "timeUnit", "tu")
    tu = tu and tostring(tu):lower() or "second"
    local secs
    if tu == "minute" or tu == "minutes" then secs = mt * 60
    elseif tu == "second" or tu == "seconds" then secs = mt
    else return envelope.invalid(req, "timeUnit", envelope.NOT_VALID) end
    if ep.async and not no_limits(req) and secs > L.isochrone_async_minutes * 60 then
      return envelope.invalid(req, "maxTime",
        format("The maximum value is %d minutes.", L.isochrone_async_minutes))
    end
    radius = synth.reach_km("driving", secs)
  else
    local du = param(req, "distanceUnit", "du")
    local f = 1
    if du then
      local d = tostring(du):lower()
      if d == "mile" or d == "mi" then f = 1.609344
      elseif d ~= "kilometer" and d ~= "km" then
        return envelope.invalid(req, "distanceUnit", envelope.NOT_VALID)
      end
    end
    radius = md * f / synth.MODES.driving.detour
    -- calculate-an-isochrone.md, dateTime: "This is not supported for distance based queries."
    if param(req, "dateTime", "dt") ~= nil then
      return envelope.invalid(req, "dateTime", "dateTime is not supported for distance based isochrones.")
    end
  end
  return O{__type = envelope.type_of("IsochroneResponse"),
           origin = O{latitude = origin.lat, longitude = origin.lon},
           polygons = synth.isochrone(origin, radius)}
end

---------------------------------------------------------------------------------------------
-- Snap to road
---------------------------------------------------------------------------------------------

local function snap_handle(req, ep)
  local pts, perr = coord_list(param(req, "points", "pts"))
  if not pts or #pts == 0 then
    return envelope.invalid(req, "points", perr and envelope.NOT_VALID or envelope.MISSING)
  end
  local cap = ep.async and L.snap.async or L.snap.sync
  if not no_limits(req) and #pts > cap then
    return envelope.invalid(req, "points", format("At most %d points may be given in a%s request.", cap,
      ep.async and "n asynchronous" or " synchronous"))
  end
  for i = 2, #pts do
    local d = synth.gc(pts[i - 1].lat, pts[i - 1].lon, pts[i].lat, pts[i].lon)
    if d > L.snap.spacing_km then
      return envelope.invalid(req, "points", format("The GPS points must be within %.1f kilometers of each "
        .. "other (points %d and %d are %.2f km apart).", L.snap.spacing_km, i - 2, i - 1, d))
    end
  end
  local su = param(req, "speedUnit", "spu")
  su = su and tostring(su):upper() or "KPH"
  if su ~= "MPH" and su ~= "KPH" then return envelope.invalid(req, "speedUnit", envelope.NOT_VALID) end
  local mode = param(req, "travelMode", "mode")
  mode = mode and tostring(mode):lower() or "driving"
  if mode ~= "driving" and mode ~= "walking" then
    return envelope.invalid(req, "travelMode", envelope.NOT_VALID)
  end
  local snapped = synth.snap(pts, {interpolate = truthy(param(req, "interpolate", "intpl")),
    speed = truthy(param(req, "includeSpeedLimit", "spdl")), speed_unit = su, mode = mode})
  return O{__type = envelope.type_of("SnapToRoadResponse"), snappedPoints = snapped}
end

---------------------------------------------------------------------------------------------
-- Multi-itinerary optimization
---------------------------------------------------------------------------------------------

local function epoch_of(s)
  local t = synth.parse_time(s)
  return t
end

local function place_of(loc, addr)
  if type(loc) == "table" then
    local lat, lon = number_of(loc.latitude), number_of(loc.longitude)
    if valid_latlon(lat, lon) then return {lat = lat, lon = lon} end
    return nil
  end
  if type(loc) == "string" then addr = loc end
  if addr then return (resolve(addr)) end
  return nil
end

-- GET syntax: agents "name_shift[_shift...]" joined by ";", a shift "start|loc|end|loc";
-- items "open_close_dwell_loc_priority" joined by ";" (optimized-itinerary.md).
local function get_optimize_input(req)
  local agents, items = {}, {}
  local at = req.param("itineraryAgents", "itinAgt")
  local it = req.param("itineraryItems", "itinItm")
  if not at then return nil, "itineraryAgents" end
  if not it then return nil, "itineraryItems" end
  for a in tostring(at):gmatch("[^;]+") do
    local name, rest = a:match("^([^_]*)_(.*)$")
    if not name then return nil, "itineraryAgents" end
    local shifts = {}
    for sh in (rest .. "_"):gmatch("([^_]+)_") do
      local s1, l1, e1, l2 = sh:match("^([^|]+)|([^|]+)|([^|]+)|([^|]+)$")
      if not s1 then return nil, "itineraryAgents" end
      shifts[#shifts + 1] = {startTime = s1, startLocation = l1, endTime = e1, endLocation = l2}
    end
    agents[#agents + 1] = {name = name, shifts = shifts}
  end
  for x in tostring(it):gmatch("[^;]+") do
    local parts = {}
    for p in (x .. "_"):gmatch("([^_]*)_") do parts[#parts + 1] = p end
    if #parts ~= 5 then return nil, "itineraryItems" end
    items[#items + 1] = {openingTime = parts[1], closingTime = parts[2], dwellTime = parts[3],
                         location = parts[4], priority = tonumber(parts[5])}
  end
  return agents, items
end

local function optimize_handle(req, ep)
  local ra, ri
  if req.method == "POST" then
    ra, ri = body_get(req, "agents", "itineraryAgents"), body_get(req, "itineraryItems", "items")
    if type(ra) ~= "table" then return envelope.invalid(req, "itineraryAgents", envelope.MISSING) end
    if type(ri) ~= "table" then return envelope.invalid(req, "itineraryItems", envelope.MISSING) end
  else
    ra, ri = get_optimize_input(req)
    if not ra then return envelope.invalid(req, ri, envelope.NOT_VALID) end
  end
  local acct = L.optimize[account(req)]
  local shifts_total, max_shifts = 0, 0
  for _, a in ipairs(ra) do
    local n = type(a.shifts) == "table" and #a.shifts or 0
    shifts_total, max_shifts = shifts_total + n, max(max_shifts, n)
  end
  if not no_limits(req) then
    if #ra > acct.agents then
      return envelope.invalid(req, "itineraryAgents", format("At most %d agents are supported.", acct.agents))
    end
    if #ri > acct.items then
      return envelope.invalid(req, "itineraryItems",
        format("At most %d itinerary items are supported.", acct.items))
    end
    if not ep.async and (shifts_total > L.optimize.sync_shifts or #ri > L.optimize.sync_items) then
      return envelope.invalid(req, "itineraryAgents", format("Synchronous requests support at most %d agent "
        .. "shifts and %d itinerary items; use an asynchronous request.", L.optimize.sync_shifts,
        L.optimize.sync_items))
    end
    if ep.async and max_shifts > acct.shifts_per_agent then
      return envelope.invalid(req, "itineraryAgents", format("At most %d shifts per agent are supported.",
        acct.shifts_per_agent))
    end
  end
  local agents, items = {}, {}
  for i, a in ipairs(ra) do
    if type(a) ~= "table" or type(a.shifts) ~= "table" or #a.shifts == 0 then
      return envelope.invalid(req, "itineraryAgents", envelope.NOT_VALID)
    end
    local ag = {name = a.name or ("agent" .. i), shifts = {}, capacity = a.capacity, price = a.price,
                shifts_json = A()}
    for si, s in ipairs(a.shifts) do
      local st, en = epoch_of(s.startTime), epoch_of(s.endTime)
      local sp, ep2 = place_of(s.startLocation, s.startAddress), place_of(s.endLocation, s.endAddress)
      if not (st and en and sp and ep2) or en <= st then
        return envelope.invalid(req, "itineraryAgents", envelope.NOT_VALID)
      end
      local breaks = {}
      local bjson = A()
      for _, b in ipairs(type(s.breaks) == "table" and s.breaks or {}) do
        local bs, be = epoch_of(b.startTime), epoch_of(b.endTime)
        if not (bs and be) then return envelope.invalid(req, "itineraryAgents", envelope.NOT_VALID) end
        local dur = b.duration and synth.parse_span(b.duration) or (be - bs)
        breaks[#breaks + 1] = {start_at = bs, end_at = be, duration = dur}
        bjson[#bjson + 1] = O{duration = synth.fmt_time(dur):sub(12), endTime = synth.fmt_time(be),
                              startTime = synth.fmt_time(bs)}
      end
      ag.shifts[si] = {start = sp, end_ = ep2, start_at = st, end_at = en, breaks = breaks}
      local sj = O{endLocation = O{latitude = ep2.lat, longitude = ep2.lon}, endTime = synth.fmt_time(en),
                   startLocation = O{latitude = sp.lat, longitude = sp.lon}, startTime = synth.fmt_time(st)}
      if #bjson > 0 then sj.breaks = bjson end
      ag.shifts_json[si] = sj
    end
    agents[i] = ag
  end
  for i, x in ipairs(ri) do
    if type(x) ~= "table" then return envelope.invalid(req, "itineraryItems", envelope.NOT_VALID) end
    local open, close = epoch_of(x.openingTime), epoch_of(x.closingTime)
    local loc = place_of(x.location, x.address)
    local pr = number_of(x.priority) or 1
    if not (open and close and loc) or pr < 1 or pr > 100 or pr ~= floor(pr) then
      return envelope.invalid(req, "itineraryItems", envelope.NOT_VALID)
    end
    local raw = O{closingTime = x.closingTime, dwellTime = x.dwellTime,
                  location = O{latitude = loc.lat, longitude = loc.lon}, name = x.name or "",
                  openingTime = x.openingTime, priority = pr}
    items[i] = {name = x.name, open = open, close = close, dwell = synth.parse_span(x.dwellTime),
                dwell_text = x.dwellTime or "00:00:00", priority = pr, location = loc,
                quantity = type(x.quantity) == "table" and x.quantity or nil, depot = x.depot,
                dropOffFrom = type(x.dropOffFrom) == "table" and x.dropOffFrom or nil, raw = raw}
  end
  local rn = param(req, "roadnetwork", "rn")
  local otype = param(req, "type")
  local roadnetwork = rn == nil or truthy(rn) or (otype and tostring(otype):lower() == "trafficrequest")
  local cv = param(req, "costvalue", "cv")
  return synth.optimize(agents, items,
    {roadnetwork = roadnetwork, cost = cv and tostring(cv) or "TravelTime"})
end

---------------------------------------------------------------------------------------------
-- Routes from major roads
---------------------------------------------------------------------------------------------

local function major_handle(req)
  local dest = param(req, "destination", "dest")
  if dest == nil then return envelope.invalid(req, "destination", envelope.MISSING) end
  local d, problem = resolve(tostring(dest))
  if not d then
    if problem == "not found" then
      return envelope.error(req, 404, format("The destination '%s' could not be geocoded.", tostring(dest)))
    end
    return envelope.invalid(req, "destination", envelope.OUT_OF_RANGE)
  end
  local exclude = param(req, "exclude", "excl")
  local routes_too = not (exclude and tostring(exclude):lower() == "routes")
  local o, oerr = route_options(req, {mode = "driving"})
  if not o then return oerr end
  local resources = {}
  local dirs = {{"West", 0, -1}, {"North", 1, 0}, {"East", 0, 1}, {"South", -1, 0}}
  local starts = {}
  for k, dir in ipairs(dirs) do
    local km = 8 + synth.hash(format("%.5f,%.5f,%d", d.lat, d.lon, k)) % 8
    local lat = d.lat + dir[2] * km / 111.195
    local lon = d.lon + dir[3] * km / (111.195 * math.cos(d.lat * math.pi / 180))
    local name = format("%s (%s)", ({"I-5", "I-90", "I-405", "US-2"})[k], dir[1])
    local loc = O{__type = envelope.type_of("Location"),
      bbox = A{lat - 0.01, lon - 0.01, lat + 0.01, lon + 0.01}, name = name,
      point = synth.point_json(lat, lon),
      address = O{formattedAddress = name}, confidence = "High", entityType = "RoadBlock",
      geocodePoints = A{O{type = "Point", coordinates = A{synth.round(lat, 6), synth.round(lon, 6)},
        calculationMethod = "Interpolation", usageTypes = A{"Route"}}}, matchCodes = A{"Good"}}
    resources[#resources + 1] = loc
    starts[k] = {lat = synth.round(lat, 6), lon = synth.round(lon, 6), name = name}
  end
  if routes_too then
    for _, s in ipairs(starts) do
      local r = synth.routes({s, d}, o)
      resources[#resources + 1] = r[1]
    end
  end
  return resources
end

---------------------------------------------------------------------------------------------
-- Async jobs
---------------------------------------------------------------------------------------------

local function base_url(req)
  local host = header(req, "host") or "127.0.0.1"
  local scheme = (ngx and ngx.var and ngx.var.scheme) or "http"
  return scheme .. "://" .. host
end

local function callback_url(req, kind, id, download, base)
  return format("%s/REST/v1/Routes/%s?key=%s&requestId=%s%s", base or base_url(req), CALLBACK[kind],
    tostring(req.key or ""), id, download and "&DownloadResult=true" or "")
end

-- The distance matrix result is a blob on another host, downloaded with no Bing key
-- (distance-matrix-asynchronous-example.md: resultUrl https://routematrix.blob.core.windows.net/
-- finalresults/<id>?<shared access signature>). The emulator's other host is this server under
-- its other name (127.0.0.1 <-> localhost, both in the TLS certificate), so a client sees
-- another origin; the blob path is answered without a key (dispatch row `keyless`), and the
-- signature is what authorizes the download, as on Azure storage.
local function other_host(req)
  local host = header(req, "host") or "127.0.0.1"
  local name, port = host:match("^(.-)(:%d+)$")
  if not name then name, port = host, "" end
  local scheme = (ngx and ngx.var and ngx.var.scheme) or "http"
  return scheme .. "://" .. (name:lower() == "localhost" and "127.0.0.1" or "localhost") .. port
end

local function blob_signature(id)
  return ngx.md5("bingsim-blob:" .. id)
end

local function blob_url(req, id)
  return format("%s/finalresults/%s?sv=2019-02-02&sr=b&sig=%s", other_host(req), id,
    blob_signature(id))
end

-- A RouteProxyAsyncResult / DistanceMatrixAsyncStatus. `accepting`: the answer of the request
-- that creates the job, which has no isCompleted (truck-route-asynchronous-example.md,
-- isochrone-asynchronous-example.md, distance-matrix-asynchronous-example.md), except
-- itinerary optimization's (optimized-itinerary.md: "isCompleted": false).
local function status_resource(req, kind, job, done, accepting)
  local rtype = kind == "matrix" and "DistanceMatrixAsyncStatus" or "RouteProxyAsyncResult"
  local r = O{__type = envelope.type_of(rtype),
              callbackUrl = callback_url(req, kind, job.id, false), isAccepted = true,
              requestId = job.id}
  if done then
    r.callbackInSeconds = -1
    r.isCompleted = true
    local fail = job.data and job.data.fail
    if fail then
      r.errorMessage = fail
    else
      r.resultUrl = kind == "matrix" and blob_url(req, job.id)
        or callback_url(req, kind, job.id, true)
    end
  else
    ngx.update_time()
    r.callbackInSeconds = max(1, ceil((job.ready_at or 0) - ngx.now()))
    if not accepting or kind == "optimize" then r.isCompleted = false end
    if kind ~= "matrix" then r.errorMessage = "Request accepted" end
  end
  return r
end

local function create_job(req, kind, result)
  local delay = tonumber(header(req, "x-bingsim-job-delay") or "")
  local job, err = jobs.create{kind = kind, delay = delay, key_label = req.key_label,
    data = {result = json.encode(result), count = kind == "truck" and #result or 1,
            fail = header(req, "x-bingsim-job-fail")}}
  if not job then error("bingsim.routes: cannot store job: " .. tostring(err)) end
  return envelope.success(req, {status_resource(req, kind, job, false, true)})
end

-- An envelope around stored resources (JSON text): stored results are never decoded and
-- re-encoded, so they come back byte for byte.
local function spliced(req, resources_json, n)
  local resp = envelope.success(req, {}, {estimated_total = n})
  local body = json.encode(resp.body)
  local i, j = body:find('"resources":[]', 1, true)
  resp.body = body:sub(1, i - 1) .. '"resources":' .. resources_json .. body:sub(j + 1)
  return resp
end

local function callback_handle(req, ep)
  local id = req.param("requestId")
  if not id or id == "" then return envelope.invalid(req, "requestId", envelope.MISSING) end
  local job = jobs.get(id)
  if not job or job.kind ~= ep.kind or job.key_label ~= req.key_label then
    return envelope.error(req, 404, "The requested job was not found.")
  end
  if job.done and truthy(req.param("DownloadResult")) and not (job.data and job.data.fail) then
    local body = job.data.result
    if ep.kind == "matrix" then
      -- The distance matrix result is the bare DistanceMatrix (distance-matrix-asynchronous-
      -- example.md, "Downloaded Results"); the others are envelopes.
      return {status = 200, body = body}
    end
    return spliced(req, ep.kind == "truck" and body or "[" .. body .. "]", job.data.count or 1)
  end
  if job.done and ep.kind == "optimize" and not (job.data and job.data.fail) then
    -- optimized-itinerary.md: the completed status is the result itself.
    return spliced(req, "[" .. job.data.result .. "]", 1)
  end
  return envelope.success(req, {status_resource(req, ep.kind, job, job.done)})
end

---------------------------------------------------------------------------------------------
-- Entry points
---------------------------------------------------------------------------------------------

local HANDLERS = {route = route_handle, matrix = matrix_handle, isochrone = isochrone_handle,
                  snap = snap_handle, optimize = optimize_handle, major = major_handle}

-- The transaction category and count of a request (before the handler runs).
-- GET /finalresults/<id>?...&sig=: the bare DistanceMatrix of a completed async matrix job,
-- for whoever holds the signed URL (no key); 403 for a wrong signature, as storage answers.
function _M.blob(req)
  local id = req.rest and req.rest[1]
  local job = id and jobs.get(id)
  if not job or job.kind ~= "matrix" or not job.done or (job.data and job.data.fail)
    or req.param("sig") ~= blob_signature(id) then
    return {status = job and 403 or 404, headers = {["Content-Type"] = "application/xml"},
            body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>"
              .. (job and "AuthenticationFailed" or "BlobNotFound") .. "</Code></Error>"}
  end
  return {status = 200, body = job.data.result}
end

-- Blob downloads are no Bing transaction.
function _M.blob_classify() return nil end

function _M.classify(req)
  local ep = endpoint(req)
  if not ep then return nil end
  local b = {category = ep.category, transactions = ep.transactions or 1}
  if ep.op == "matrix" then
    local m = matrix_input(req)
    if m then b.transactions = max(1, ceil(cells_of(m.origins, m.dests) / 4)) end
  elseif ep.op == "optimize" then
    local na, ni
    if req.method == "POST" then
      local a, i = body_get(req, "agents", "itineraryAgents"), body_get(req, "itineraryItems", "items")
      na, ni = type(a) == "table" and #a or 1, type(i) == "table" and #i or 1
    else
      local a, i = get_optimize_input(req)
      na, ni = type(a) == "table" and #a or 1, type(i) == "table" and #i or 1
    end
    b.transactions = max(1, na * ni)
  end
  return b
end

function _M.handle(req)
  local ep = endpoint(req)
  if not ep then return envelope.error(req, 404) end
  if not (ep.methods or GET_ONLY)[req.method] then return envelope.error(req, 405) end
  if req.method == "POST" and not body_of(req) then
    return envelope.error(req, 400, {envelope.INVALID_PARAMETERS, "The request body is not valid JSON."})
  end
  if ep.op == "callback" then return callback_handle(req, ep) end
  local result, err = HANDLERS[ep.op](req, ep)
  if result == nil then return err end
  if type(result) == "table" and result.status and result.body then return result end -- an error answer
  if ep.async then return create_job(req, ep.async, result) end
  if ep.op == "route" or ep.op == "major" then return envelope.success(req, result) end
  return envelope.success(req, {result})
end

return _M
