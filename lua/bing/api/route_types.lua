--- Routing results: Bing's JSON kept as it is, with methods added through metatables, and the
-- pure planning that lets one call exceed one request (waypoint splits, matrix blocks).
--
-- Field names are the ones the service returns (route-data.md, distance-matrix-data.md,
-- isochrone-data.md, snap-to-road-data.md, optimized-itinerary-data.md), so the reference
-- documents them. Points are `{lat, lon}` in methods (Bing's order) and `[lon, lat]` in
-- GeoJSON (RFC 7946).
-- @module bing.api.route_types
local types = require "bing.api.location_types"
local geo = require "bing.geojson"

local _M = {}

local floor, huge = math.floor, math.huge
local tointeger = math.tointeger or function(x) return x end
local type, ipairs, pairs = type, ipairs, pairs

-- Fields the reference types as integers (indices, counts, limits): Lua 5.4 gets integers
-- for them, as for statusCode.
do
  local ok, core = pcall(require, "bing.core")
  if ok and type(core) == "table" and core.integer_fields then
    core.integer_fields{"originIndex", "destinationIndex", "index", "callbackInSeconds",
                        "routePathIndex", "speedLimit", "truckSpeedLimit", "priority",
                        "totalTravelDistance", "compassDegrees", "cost", "agencyId",
                        "transitStopId", "tripId", "lineColor", "lineTextColor"}
  end
end

-- The resources of every resource set of an envelope, in order.
local function all_resources(doc)
  local out = {}
  local sets = type(doc) == "table" and doc.resourceSets
  if type(sets) ~= "table" then return out end
  for _, set in ipairs(sets) do
    if type(set) == "table" and type(set.resources) == "table" then
      for _, r in ipairs(set.resources) do
        if type(r) == "table" then out[#out + 1] = r end
      end
    end
  end
  return out
end
_M.all_resources = all_resources

--- The short name of a resource's `__type` ("Route", "DistanceMatrix", ...), or nil.
local function rtype(r)
  local t = type(r) == "table" and r.__type
  return type(t) == "string" and t:match("^([^:]+)") or nil
end
_M.rtype = rtype

-- A JSON array or object, or an empty table for anything else: an absent field, or a JSON
-- null (lua-cjson's null is a light userdata, which cannot be indexed or iterated).
local function tab(v)
  return type(v) == "table" and v or {}
end
_M.tab = tab

-- The objects of a JSON array, in order, without its nulls and scalars.
local function tables(v)
  local out = {}
  for _, x in ipairs(tab(v)) do
    if type(x) == "table" then out[#out + 1] = x end
  end
  return out
end

-- A 0-based index from the service as a Lua integer, or nil. (`v % 1 == 0` is v == floor(v)
-- without a call: NaN and infinities give NaN, which equals nothing.)
local function index_of(v)
  if type(v) ~= "number" or v % 1 ~= 0 then return nil end
  return tointeger(v)
end

local point_latlon = types.point_latlon

local function copy_list(t)
  local out = {}
  for i, v in ipairs(t) do out[i] = v end
  return out
end

-- A deep copy of plain JSON data (tables without cycles).
local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep_copy(x) end
  return setmetatable(out, getmetatable(v))
end
_M.deep_copy = deep_copy

-- LuaJIT has one number type: the integer fixes below change nothing there and are skipped.
local HAS_INTEGERS = math.tointeger ~= nil

-- Integral numbers of a JSON array as integers, in place (the core's integer fields are
-- object keys; the elements of a documented integer[] need this).
local function int_list(list)
  if type(list) ~= "table" then return end
  for i = 1, #list do
    local v = list[i]
    if v == nil then return end -- (ipairs' end: the first nil)
    if type(v) == "number" and v % 1 == 0 then list[i] = tointeger(v) or v end
  end
end

-- Route

-- The itinerary items of a leg (and their child items, recursively): their details' path
-- indices as integers.
local function fix_items(list)
  if type(list) ~= "table" then return end
  for _, item in ipairs(list) do
    if type(item) == "table" then
      local details = item.details
      if type(details) == "table" then
        for _, d in ipairs(details) do
          if type(d) == "table" then
            int_list(d.startPathIndices)
            int_list(d.endPathIndices)
          end
        end
      end
      fix_items(item.childItineraryItems)
    end
  end
end

-- Route path indices are integers (route-data.md): startPathIndices / endPathIndices of the
-- itinerary details and the pathIndices of the generalizations.
local function fix_route_indices(r)
  if not HAS_INTEGERS then return r end
  for _, leg in ipairs(tab(r.routeLegs)) do
    if type(leg) == "table" then fix_items(leg.itineraryItems) end
  end
  local rp = type(r.routePath) == "table" and r.routePath
  for _, g in ipairs(tab(rp and rp.generalizations)) do
    if type(g) == "table" then int_list(g.pathIndices) end
  end
  return r
end

local Route = {}
Route.__index = Route
_M.Route = Route

--- The route legs (Bing's `routeLegs`; one per pair of consecutive waypoints).
function Route:legs()
  return tab(self.routeLegs)
end

--- The route path as a list of `{lat, lon}`, or nil, message when the answer has none
-- (ask for it with `routeAttributes = "routePath"`). With `tolerance`, the subset of points
-- of the generalization made for that tolerance (`tolerances` option).
function Route:path(tolerance)
  local rp = self.routePath
  local coords = type(rp) == "table" and type(rp.line) == "table" and rp.line.coordinates
  if type(coords) ~= "table" then
    return nil, "route has no routePath: request it with routeAttributes = \"routePath\""
  end
  if tolerance == nil then
    local out = {}
    for _, c in ipairs(coords) do
      if type(c) == "table" then out[#out + 1] = {c[1], c[2]} end
    end
    return out
  end
  for _, g in ipairs(tab(rp.generalizations)) do
    local t = type(g) == "table" and g.latLongTolerance
    if type(t) == "number" and math.abs(t - tolerance) <= 1e-9 * math.max(1, math.abs(t)) then
      local out = {}
      for _, idx in ipairs(tab(g.pathIndices)) do
        local c = type(idx) == "number" and coords[idx + 1]
        if type(c) == "table" then out[#out + 1] = {c[1], c[2]} end
      end
      return out
    end
  end
  return nil, "route has no generalization for tolerance " .. tostring(tolerance)
end

--- The itinerary as one flat list across legs. Each entry: `{leg=, text=, maneuverType=,
-- travelDistance=, travelDuration=, point={lat, lon}, warnings={...}, warningTypes={...},
-- item=<Bing's itinerary item>}`.
function Route:instructions()
  local out = {}
  for li, leg in ipairs(tab(self.routeLegs)) do
    for _, item in ipairs(tab(type(leg) == "table" and leg.itineraryItems)) do
      if type(item) == "table" then
        local ins = tab(item.instruction)
        local lat, lon = point_latlon(item.maneuverPoint)
        local warnings, wtypes = tab(item.warnings), {}
        for _, w in ipairs(warnings) do
          if type(w) == "table" and type(w.warningType) == "string" then
            wtypes[#wtypes + 1] = w.warningType
          end
        end
        out[#out + 1] = {
          leg = li, text = ins.text, maneuverType = ins.maneuverType,
          travelDistance = item.travelDistance, travelDuration = item.travelDuration,
          travelMode = item.travelMode, point = lat and {lat, lon} or nil,
          warnings = warnings, warningTypes = wtypes, item = item,
        }
      end
    end
  end
  return out
end

local geojson_bbox = types.geojson_bbox

-- The route path's points from index a to b (0-based, inclusive), or nil.
local function path_slice(path, a, b)
  if not path or type(a) ~= "number" or type(b) ~= "number" or a > b then return nil end
  local out = {}
  for k = a + 1, b + 1 do
    if path[k] then out[#out + 1] = path[k] end
  end
  return #out >= 2 and out or nil
end

local function location_name(l)
  return type(l) == "table" and l.name or nil
end

--- A GeoJSON FeatureCollection of the route: first the route as a LineString (`kind =
-- "route"`, the route's summary: travelDistance, travelDuration, travelDurationTraffic, units,
-- trafficCongestion, id; bbox), then each leg as a LineString (`kind = "leg"`, `leg` 1-based,
-- its distance, duration, description and start and end names), then each maneuver point
-- as a Point (`kind = "maneuver"`, `leg`, `step` 1-based, the instruction's `text` and
-- `maneuverType`, the item's distance, duration, compass direction, warnings ...).
-- Lines are the route path; without one in the answer (routeAttributes = "routePath" asks
-- for it) they join the maneuver points and say `approximate = true`.
function Route:geojson()
  local path = self:path()
  local steps = self:instructions()
  local features = {}
  local function fallback(leg)
    local pts = {}
    for _, ins in ipairs(steps) do
      if ins.point and (leg == nil or ins.leg == leg) then pts[#pts + 1] = ins.point end
    end
    return pts
  end
  features[1] = geo.feature(geo.line(path or fallback()), {
    kind = "route", id = self.id, travelDistance = self.travelDistance,
    travelDuration = self.travelDuration, travelDurationTraffic = self.travelDurationTraffic,
    distanceUnit = self.distanceUnit, durationUnit = self.durationUnit,
    trafficCongestion = self.trafficCongestion, trafficDataUsed = self.trafficDataUsed,
    approximate = not path or nil,
  }, {bbox = geojson_bbox(self.bbox)})
  for li, leg in ipairs(self:legs()) do
    if type(leg) == "table" then
      local subs = tab(leg.routeSubLegs)
      local first, last = tab(subs[1]).startWaypoint, tab(subs[#subs]).endWaypoint
      local pts = path_slice(path, type(first) == "table" and first.routePathIndex or nil,
        type(last) == "table" and last.routePathIndex or nil)
      features[#features + 1] = geo.feature(geo.line(pts or fallback(li)), {
        kind = "leg", leg = li, travelDistance = leg.travelDistance,
        travelDuration = leg.travelDuration, travelMode = leg.travelMode,
        description = leg.description, cost = leg.cost, startTime = leg.startTime,
        endTime = leg.endTime, startLocation = location_name(leg.startLocation),
        endLocation = location_name(leg.endLocation), approximate = not pts or nil,
      })
    end
  end
  local step, prev_leg = 0, nil
  for _, ins in ipairs(steps) do
    if ins.leg ~= prev_leg then step, prev_leg = 0, ins.leg end
    step = step + 1
    local item = ins.item
    local warnings
    for _, w in ipairs(ins.warnings) do
      if type(w) == "table" then
        warnings = warnings or {}
        warnings[#warnings + 1] = {warningType = w.warningType, severity = w.severity, text = w.text}
      end
    end
    local p = ins.point
    features[#features + 1] = geo.feature(p and geo.point(p[1], p[2]), {
      kind = "maneuver", leg = ins.leg, step = step, text = ins.text,
      maneuverType = ins.maneuverType, travelDistance = ins.travelDistance,
      travelDuration = ins.travelDuration, travelMode = ins.travelMode,
      compassDirection = item.compassDirection, sideOfStreet = item.sideOfStreet,
      towardsRoadName = item.towardsRoadName, exit = item.exit, signs = item.signs,
      iconType = item.iconType, time = item.time, warnings = warnings,
    })
  end
  return geo.collection(features, geojson_bbox(self.bbox))
end

local RouteList = {}
RouteList.__index = RouteList
_M.RouteList = RouteList

--- A GeoJSON FeatureCollection of every route of the list: each route's features (see
-- Route:geojson) with `route` (1-based) among their properties.
function RouteList:geojson()
  local parts, extra = {}, {}
  for i, r in ipairs(self) do parts[i], extra[i] = r:geojson(), {route = i} end
  return geo.concat(parts, extra)
end

--- Wraps a Routes answer: a list of Route objects (one per solution) with `meta`.
function _M.routes(doc, meta)
  local list = {}
  for _, r in ipairs(all_resources(doc)) do
    local t = rtype(r)
    if t == nil or t == "Route" then list[#list + 1] = setmetatable(fix_route_indices(r), Route) end
  end
  list.meta = meta
  return setmetatable(list, RouteList)
end

--- Wraps a routes-from-major-roads answer: a list of Route objects, plus `startingPoints`
-- (the Location resources of the answer, as `bing.api.location_types` Locations).
function _M.major_routes(doc, meta)
  local list, starts = {}, {}
  for _, r in ipairs(all_resources(doc)) do
    local t = rtype(r)
    if t == "Route" or (t == nil and r.routeLegs) then
      list[#list + 1] = setmetatable(fix_route_indices(r), Route)
    elseif t == "Location" or (t == nil and r.point) then
      starts[#starts + 1] = setmetatable(r, types.Location)
    end
  end
  list.startingPoints = starts
  list.meta = meta
  return setmetatable(list, RouteList)
end

-- Splitting a route of more than 25 waypoints

--- Plans the requests of a route through `wps` (a list whose entries have `via = true` for
-- via-waypoints). `max_wp` caps the stop waypoints of one request, `max_total` (optional)
-- caps stops plus vias (truck routes). Consecutive parts share their boundary stop, so a
-- route through N stops has N-1 legs in all, none computed twice.
-- Returns a list of `{first=, last=}` index ranges into `wps` (inclusive), or nil, message.
function _M.plan_split(wps, max_wp, max_total)
  max_total = max_total or huge
  local n = #wps
  local parts = {}
  local start = 1
  while start < n do
    local stops, total = 1, 1
    local last_stop = start
    local i = start + 1
    while i <= n do
      local w = wps[i]
      if w.via then
        total = total + 1
      else
        if stops + 1 > max_wp or total + 1 > max_total then break end
        stops, total = stops + 1, total + 1
        last_stop = i
      end
      if total > max_total then break end
      i = i + 1
    end
    if last_stop == start then
      return nil, "the via-waypoints between two waypoints do not fit in one request"
    end
    parts[#parts + 1] = {first = start, last = last_stop}
    start = last_stop
  end
  return parts
end

-- Shifts every route path index of a leg (details, sub-leg waypoints) by `off`.
local function shift_leg(leg, off)
  if off == 0 then return end
  local function shift(list)
    if type(list) ~= "table" then return end
    for i, v in ipairs(list) do
      if type(v) == "number" then list[i] = v + off end
    end
  end
  local function items(list)
    for _, item in ipairs(tab(list)) do
      for _, d in ipairs(tab(type(item) == "table" and item.details)) do
        if type(d) == "table" then
          shift(d.startPathIndices)
          shift(d.endPathIndices)
        end
      end
      if type(item) == "table" then items(item.childItineraryItems) end
    end
  end
  items(leg.itineraryItems)
  for _, sub in ipairs(tab(leg.routeSubLegs)) do
    -- (not ipairs{start, end}: an absent start would hide the end)
    local ends = type(sub) == "table" and {"startWaypoint", "endWaypoint"} or {}
    for _, k in ipairs(ends) do
      local w = sub[k]
      if type(w) == "table" and type(w.routePathIndex) == "number" then
        w.routePathIndex = w.routePathIndex + off
      end
    end
  end
end

-- In one unsplit route, the end of an inner leg is an intermediate arrival and the start of
-- the next leg an intermediate departure; each part of a split route calls them its finish
-- and its start. Renames the maneuvers so the merged route reads as one.
local function rename_maneuver(item, from, to)
  if type(item) ~= "table" then return end
  if type(item.instruction) == "table" and item.instruction.maneuverType == from then
    item.instruction.maneuverType = to
  end
  for _, d in ipairs(tab(item.details)) do
    if type(d) == "table" and d.maneuverType == from then d.maneuverType = to end
  end
end

local function same_point(a, b)
  return type(a) == "table" and type(b) == "table" and a[1] == b[1] and a[2] == b[2]
end

-- Number of route path points of a route, read from its path or from its path indices.
local function path_length(route)
  local n = -1
  for _, leg in ipairs(tab(route.routeLegs)) do
    leg = tab(leg)
    for _, sub in ipairs(tab(leg.routeSubLegs)) do
      local w = type(sub) == "table" and sub.endWaypoint
      if type(w) == "table" and type(w.routePathIndex) == "number" then
        n = math.max(n, w.routePathIndex)
      end
    end
    for _, item in ipairs(tab(leg.itineraryItems)) do
      for _, d in ipairs(tab(type(item) == "table" and item.details)) do
        for _, v in ipairs(tab(type(d) == "table" and d.endPathIndices)) do
          if type(v) == "number" then n = math.max(n, v) end
        end
      end
    end
  end
  return n >= 0 and n + 1 or nil
end

local function number_or_0(v) return type(v) == "number" and v or 0 end

-- A bbox of four numbers, or nil (absent, JSON null, or a null inside).
local function bbox_of(b)
  if type(b) ~= "table" or #b ~= 4 then return nil end
  for i = 1, 4 do
    if type(b[i]) ~= "number" then return nil end
  end
  return b
end

local function union_bbox(a, b)
  a, b = bbox_of(a), bbox_of(b)
  if not a then return b and copy_list(b) end
  if not b then return copy_list(a) end
  return {math.min(a[1], b[1]), math.min(a[2], b[2]), math.max(a[3], b[3]), math.max(a[4], b[4])}
end

--- Merges the routes of consecutive split requests (each sharing its first waypoint with the
-- previous one's last) into one Route: legs concatenated, distances and durations summed,
-- bbox joined, route paths joined without repeating the shared point, route path indices and
-- generalizations shifted, boundary maneuvers renamed. The inputs are not modified.
function _M.merge_routes(parts)
  if #parts == 1 then return setmetatable(deep_copy(parts[1]), Route) end
  local first = parts[1]
  local out = {
    __type = first.__type, id = first.id, distanceUnit = first.distanceUnit,
    durationUnit = first.durationUnit, trafficDataUsed = first.trafficDataUsed,
    trafficCongestion = first.trafficCongestion,
    travelDistance = 0, travelDuration = 0, routeLegs = {},
  }
  local has_traffic = false
  local line, gens, has_path = {}, {}, false
  local gen_order, total_pts = {}, 0
  for pi, part in ipairs(parts) do
    part = deep_copy(part)
    out.travelDistance = out.travelDistance + number_or_0(part.travelDistance)
    out.travelDuration = out.travelDuration + number_or_0(part.travelDuration)
    if type(part.travelDurationTraffic) == "number" then
      has_traffic = true
      out.travelDurationTraffic = (out.travelDurationTraffic or 0) + part.travelDurationTraffic
    end
    out.bbox = union_bbox(out.bbox, part.bbox)
    -- Where this part's path starts in the merged path.
    local coords = type(part.routePath) == "table" and type(part.routePath.line) == "table"
      and part.routePath.line.coordinates
    if type(coords) ~= "table" then coords = nil end
    -- Without a path in the answer, indices still count points of the service's path: its
    -- length is read off the last sub-leg, and parts are taken to share their boundary point
    -- as the legs of one route do.
    local off, skip = total_pts, 0
    if total_pts > 0 and (not coords or same_point(line[#line], coords[1])) then
      off, skip = total_pts - 1, 1
    end
    local part_len = coords and #coords or path_length(part)
    total_pts = off + (part_len or 0)
    if coords then
      has_path = true
      for i = 1 + skip, #coords do line[#line + 1] = coords[i] end
      for _, g in ipairs(tab(part.routePath.generalizations)) do
        local key = g.latLongTolerance
        local acc = gens[key]
        if not acc then
          acc = {latLongTolerance = key, pathIndices = {}}
          gens[key] = acc
          gen_order[#gen_order + 1] = key
        end
        for _, idx in ipairs(tab(g.pathIndices)) do
          local shifted = idx + off
          if acc.pathIndices[#acc.pathIndices] ~= shifted then
            acc.pathIndices[#acc.pathIndices + 1] = shifted
          end
        end
      end
    end
    local legs = tables(part.routeLegs)
    for li, leg in ipairs(legs) do
      shift_leg(leg, off)
      local items = leg.itineraryItems
      if type(items) == "table" then
        if pi < #parts and li == #legs then
          rename_maneuver(items[#items], "ArriveFinish", "ArriveIntermediate")
        end
        if pi > 1 and li == 1 then
          rename_maneuver(items[1], "DepartStart", "DepartIntermediateStop")
        end
      end
      out.routeLegs[#out.routeLegs + 1] = leg
    end
  end
  if not has_traffic then out.travelDurationTraffic = nil end
  if has_path then
    local glist = {}
    for _, key in ipairs(gen_order) do glist[#glist + 1] = gens[key] end
    out.routePath = {line = {type = "LineString", coordinates = line}, generalizations = glist}
  end
  return setmetatable(out, Route)
end

-- Matrix

local Matrix = {}
Matrix.__index = Matrix
_M.Matrix = Matrix

local function coord_of(c)
  if type(c) ~= "table" then return nil end
  return c.latitude or c[1], c.longitude or c[2]
end

-- The cells of a DistanceMatrix resource: `results` (some answers say `result`,
-- distance-matrix-data.md), cells that are not objects left out.
local function cells_of(res)
  local list = type(res.results) == "table" and res.results or tab(res.result)
  local k = 1
  local cell = list[1]
  while cell ~= nil and type(cell) == "table" do
    k = k + 1
    cell = list[k]
  end
  -- Every cell an object (the usual answer): the list itself, not a copy of it.
  if cell == nil and list == res.results and getmetatable(list) == nil then return list end
  local out = {}
  for i = 1, k - 1 do out[i] = list[i] end
  local n = k - 1
  while cell ~= nil do
    if type(cell) == "table" then
      n = n + 1
      out[n] = cell
    end
    k = k + 1
    cell = list[k]
  end
  return out
end

local function by_time(a, b)
  return tostring(a.departureTime or "") < tostring(b.departureTime or "")
end

--- Wraps a DistanceMatrix resource (`origins`, `destinations`, `results`): a Matrix.
-- Some answers name the cell list `result` (distance-matrix-data.md); both are read.
-- The grid holds the cell of each pair; only a pair with several cells (a time-dependent
-- matrix: one per time slot) gets a list, sorted by departureTime, whose first is the grid's.
function _M.matrix(res, meta)
  res = tab(res)
  local results = cells_of(res)
  res.results, res.result = results, nil
  res.origins = tab(res.origins)
  res.destinations = tab(res.destinations)
  local grid, hist = {}, {}
  for k = 1, #results do
    local cell = results[k]
    -- index_of of both, inline: this loop runs once per cell.
    local i, j = cell.originIndex, cell.destinationIndex
    if type(i) == "number" and type(j) == "number" and i % 1 == 0 and j % 1 == 0 then
      i, j = tointeger(i), tointeger(j)
    else
      i = nil
    end
    if i and j then
      i, j = i + 1, j + 1
      local row = grid[i]
      if not row then
        row = {}
        grid[i] = row
      end
      local first = row[j]
      if first == nil then
        row[j] = cell
      else
        local hrow = hist[i]
        if not hrow then
          hrow = {}
          hist[i] = hrow
        end
        local list = hrow[j]
        if not list then
          list = {first}
          hrow[j] = list
        end
        list[#list + 1] = cell
      end
    end
  end
  for i, hrow in pairs(hist) do
    local row = grid[i]
    for j, list in pairs(hrow) do
      table.sort(list, by_time)
      row[j] = list[1]
    end
  end
  local m = setmetatable(res, Matrix)
  rawset(m, "_grid", grid)
  rawset(m, "_hist", hist)
  m.meta = meta
  return m
end

--- Number of origins and of destinations.
function Matrix:size()
  return #self.origins, #self.destinations
end

-- The service computes no cell for an origin and destination with the same index and the
-- same coordinate (calculate-a-distance-matrix.md): such a pair is zero, not missing.
local function same_pair(self, i, j)
  if i ~= j then return false end
  local a1, o1 = coord_of(self.origins[i])
  local a2, o2 = coord_of(self.destinations[j])
  return a1 ~= nil and a1 == a2 and o1 == o2
end

local function zero_cell(i, j)
  return {originIndex = i - 1, destinationIndex = j - 1, travelDistance = 0, travelDuration = 0,
          hasError = false}
end

--- The cell of origin `i` and destination `j` (1-based): travelDistance, travelDuration,
-- cell. With a histogram (several departure times), the earliest. nil when the matrix has no
-- such cell; a pair the service leaves out because origin and destination are the same
-- point gives 0, 0.
function Matrix:get(i, j)
  local row = self._grid[i]
  local cell = row and row[j]
  if not cell then
    if same_pair(self, i, j) then return 0, 0, zero_cell(i, j) end
    return nil
  end
  return cell.travelDistance, cell.travelDuration, cell
end

--- Every cell of a pair, sorted by `departureTime` (histogram answers have one per time slot).
function Matrix:histogram(i, j)
  local row = self._hist[i]
  if row and row[j] then return copy_list(row[j]) end
  local g = self._grid[i]
  return g and g[j] and {g[j]} or {}
end

--- `for j, cell in m:row(i)`: the cells of origin i, by destination.
function Matrix:row(i)
  local nd = #self.destinations
  local j = 0
  return function()
    j = j + 1
    if j > nd then return nil end
    local _, _, cell = self:get(i, j)
    return j, cell
  end
end

--- `for i, cell in m:col(j)`: the cells of destination j, by origin.
function Matrix:col(j)
  local no = #self.origins
  local i = 0
  return function()
    i = i + 1
    if i > no then return nil end
    local _, _, cell = self:get(i, j)
    return i, cell
  end
end

--- `for i, cells in m:rows()`: each origin with the list of its cells by destination.
function Matrix:rows()
  local no, nd = #self.origins, #self.destinations
  local i = 0
  return function()
    i = i + 1
    if i > no then return nil end
    local cells = {}
    for j = 1, nd do
      local _, _, cell = self:get(i, j)
      cells[j] = cell or false
    end
    return i, cells
  end
end

--- The raw cells, as the service sent them (Bing's `results`).
function Matrix:cells()
  return self.results
end

local function table_of(self, field)
  local out = {}
  for i = 1, #self.origins do
    local row = {}
    for j = 1, #self.destinations do
      local d, t = self:get(i, j)
      if field == "travelDistance" then row[j] = d else row[j] = t end
    end
    out[i] = row
  end
  return out
end

--- Distances as a 2-D array `[i][j]` (nil where the matrix has no cell).
function Matrix:distances() return table_of(self, "travelDistance") end

--- Durations as a 2-D array `[i][j]`.
function Matrix:durations() return table_of(self, "travelDuration") end

local CELL_FIELDS = {"originIndex", "destinationIndex", "travelDistance", "travelDuration",
  "totalWalkDuration", "departureTime", "hasError"}

--- A GeoJSON FeatureCollection: each origin (`kind = "origin"`) and destination (`kind =
-- "destination"`) as a Point with its 0-based `index` (Bing's originIndex/destinationIndex),
-- then each cell the service sent as a straight LineString from its origin to its destination
-- (`kind = "cell"`, Bing's cell fields: travelDistance, travelDuration, departureTime ...;
-- a time-dependent matrix has one per time slot). The line is not the road: Bing's matrix
-- has no paths.
function Matrix:geojson()
  local features = {}
  for _, side in ipairs{{"origin", self.origins}, {"destination", self.destinations}} do
    for i, c in ipairs(side[2]) do
      local lat, lon = coord_of(c)
      features[#features + 1] = geo.feature(geo.point(lat, lon), {kind = side[1], index = tointeger(i - 1)})
    end
  end
  for _, cell in ipairs(self.results) do
    local i, j = index_of(cell.originIndex), index_of(cell.destinationIndex)
    local alat, alon = coord_of(i and self.origins[i + 1])
    local blat, blon = coord_of(j and self.destinations[j + 1])
    local props = {kind = "cell"}
    for _, k in ipairs(CELL_FIELDS) do props[k] = cell[k] end
    features[#features + 1] = geo.feature(alat and blat and geo.line{{alat, alon}, {blat, blon}}, props)
  end
  return geo.collection(features)
end

--- Plans the blocks of a matrix of `no` origins and `nd` destinations when one request may
-- hold at most `limit` pairs: a list of `{o1=, o2=, d1=, d2=}` (inclusive, 1-based), as few as
-- possible, most even first. One block when the matrix fits.
-- With `square` (destinations are the origins), both axes get the same partition, so every
-- origin meets itself in a block where the service skips it (no cell, no charge), as in the
-- unsplit matrix.
function _M.plan_blocks(no, nd, limit, square)
  if no * nd <= limit then return {{o1 = 1, o2 = no, d1 = 1, d2 = nd}} end
  if square and no == nd then
    local s = floor(math.sqrt(limit))
    local k = math.ceil(no / s)
    local size = math.ceil(no / k)
    local blocks = {}
    for o1 = 1, no, size do
      for d1 = 1, nd, size do
        blocks[#blocks + 1] = {o1 = o1, o2 = math.min(no, o1 + size - 1),
                               d1 = d1, d2 = math.min(nd, d1 + size - 1)}
      end
    end
    return blocks
  end
  local best, best_n, best_waste
  for bo = 1, math.min(no, limit) do
    local bd = math.min(nd, floor(limit / bo))
    if bd >= 1 then
      local nb = math.ceil(no / bo) * math.ceil(nd / bd)
      local waste = nb * bo * bd - no * nd
      if not best_n or nb < best_n or (nb == best_n and waste < best_waste) then
        best, best_n, best_waste = {bo, bd}, nb, waste
      end
    end
  end
  local bo, bd = best[1], best[2]
  -- Even out the blocks: the same count of blocks with the smallest sizes that still cover.
  local ro, rd = math.ceil(no / bo), math.ceil(nd / bd)
  bo, bd = math.ceil(no / ro), math.ceil(nd / rd)
  local blocks = {}
  for o1 = 1, no, bo do
    for d1 = 1, nd, bd do
      blocks[#blocks + 1] = {o1 = o1, o2 = math.min(no, o1 + bo - 1),
                             d1 = d1, d2 = math.min(nd, d1 + bd - 1)}
    end
  end
  return blocks
end

--- Stitches the DistanceMatrix resources of blocks into one resource over `origins` and
-- `destinations` (the full lists, as Bing coordinates). `parts` is a list of
-- `{block = {o1=, d1=, ...}, res = <DistanceMatrix resource>}`. A pair a block left out
-- because it had the same local index and coordinate, while its global indices differ, gets
-- a zero cell (the same point), so the stitched matrix has every cell an unsplit one has.
function _M.stitch_matrix(parts, origins, destinations)
  local results = {}
  local seen = {}
  for _, p in ipairs(parts) do
    local b = p.block
    for _, cell in ipairs(cells_of(tab(p.res))) do
      -- A cell without its indices cannot be placed in the stitched matrix.
      local oi, di = index_of(cell.originIndex), index_of(cell.destinationIndex)
      if oi and di then
        local c = deep_copy(cell)
        c.originIndex = tointeger(oi + b.o1 - 1)
        c.destinationIndex = tointeger(di + b.d1 - 1)
        -- A pair an unsplit request would skip (same index, same coordinate) is dropped.
        local skip = false
        if c.originIndex == c.destinationIndex then
          local a1, o1 = coord_of(origins[c.originIndex + 1])
          local a2, o2 = coord_of(destinations[c.destinationIndex + 1])
          skip = a1 ~= nil and a1 == a2 and o1 == o2
        end
        if not skip then results[#results + 1] = c end
        seen[c.originIndex * #destinations + c.destinationIndex] = true
      end
    end
    -- Pairs the block skipped as "same index, same coordinate".
    for k = 0, math.min(b.o2 - b.o1, b.d2 - b.d1) do
      local gi, gj = b.o1 + k, b.d1 + k
      if gi ~= gj and not seen[(gi - 1) * #destinations + (gj - 1)] then
        local a1, o1 = coord_of(origins[gi])
        local a2, o2 = coord_of(destinations[gj])
        if a1 == a2 and o1 == o2 then
          results[#results + 1] = zero_cell(gi, gj)
          local z = results[#results]
          z.originIndex, z.destinationIndex = tointeger(gi - 1), tointeger(gj - 1)
        end
      end
    end
  end
  table.sort(results, function(a, b)
    if a.originIndex ~= b.originIndex then return a.originIndex < b.originIndex end
    if a.destinationIndex ~= b.destinationIndex then return a.destinationIndex < b.destinationIndex end
    return by_time(a, b)
  end)
  return {
    __type = parts[1] and parts[1].res.__type or nil,
    origins = origins, destinations = destinations, results = results,
  }
end

-- Isochrone

local Isochrone = {}
Isochrone.__index = Isochrone
_M.Isochrone = Isochrone

--- Wraps an IsochroneResponse resource.
function _M.isochrone(res, meta)
  res = tab(res)
  res.polygons = tables(res.polygons)
  res.meta = meta
  return setmetatable(res, Isochrone)
end

--- The polygons as lists of rings, each ring a list of `{lat, lon}` (first ring outer).
function Isochrone:rings()
  local out = {}
  for pi, poly in ipairs(self.polygons) do
    local rings = {}
    for _, ring in ipairs(tab(poly.coordinates)) do
      local r = {}
      for _, c in ipairs(tab(ring)) do
        if type(c) == "table" then r[#r + 1] = {c[1], c[2]} end
      end
      rings[#rings + 1] = r
    end
    out[pi] = rings
  end
  return out
end

--- A GeoJSON Feature: a Polygon (one polygon) or a MultiPolygon (several), rings closed,
-- exteriors counter-clockwise (RFC 7946; the service's come either way), with Bing's `origin`
-- ({latitude =, longitude =}) as a property; a null geometry when there is no polygon.
function Isochrone:geojson()
  local o = type(self.origin) == "table" and self.origin or nil
  return geo.feature(geo.polygons(self:rings()),
    {origin = o and {latitude = o.latitude, longitude = o.longitude} or nil})
end

-- Ray casting on one ring of {lat, lon}.
local function in_ring(ring, lat, lon)
  local inside = false
  local n = #ring
  local j = n
  for i = 1, n do
    local yi, xi = ring[i][1], ring[i][2]
    local yj, xj = ring[j][1], ring[j][2]
    if (yi > lat) ~= (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi then
      inside = not inside
    end
    j = i
  end
  return inside
end

--- Whether the point is inside the isochrone (inside an outer ring and in none of its holes).
function Isochrone:contains(lat, lon)
  for _, poly in ipairs(self.polygons) do
    local rings = {}
    for _, ring in ipairs(tab(poly.coordinates)) do
      local r = {}
      for _, c in ipairs(tab(ring)) do
        if type(c) == "table" and type(c[1]) == "number" and type(c[2]) == "number" then r[#r + 1] = c end
      end
      rings[#rings + 1] = r
    end
    if rings[1] and in_ring(rings[1], lat, lon) then
      local hole = false
      for k = 2, #rings do
        if in_ring(rings[k], lat, lon) then hole = true end
      end
      if not hole then return true end
    end
  end
  return false
end

-- Snap to road

local SnapResult = {}
SnapResult.__index = SnapResult
_M.SnapResult = SnapResult

--- Wraps a SnapToRoadResponse resource.
function _M.snap(res, meta)
  res = tab(res)
  res.snappedPoints = tables(res.snappedPoints)
  res.meta = meta
  return setmetatable(res, SnapResult)
end

--- The snapped points (input points and, with `interpolate`, the points between) as a list of
-- `{lat, lon}`. With `inputs_only`, only the points that answer an input point (index >= 0).
function SnapResult:path(inputs_only)
  local out = {}
  for _, sp in ipairs(self.snappedPoints) do
    -- index -1 (or none): a point added by interpolation, not one of the inputs.
    if not inputs_only or (type(sp.index) == "number" and sp.index >= 0) then
      local c = tab(sp.coordinate)
      out[#out + 1] = {c.latitude, c.longitude}
    end
  end
  return out
end

--- The snapped point of input point `i` (1-based), or nil.
function SnapResult:point(i)
  for _, sp in ipairs(self.snappedPoints) do
    if sp.index == i - 1 then return sp end
  end
  return nil
end

--- A GeoJSON FeatureCollection: the snapped path as a LineString (`kind = "path"`; absent
-- when fewer than two points came back), then each snapped point as a Point (`kind =
-- "point"`) with Bing's fields: `index` (the input point's, 0-based; -1 for an interpolated
-- point), `name` (the road), `speedLimit`, `speedUnit`.
function SnapResult:geojson()
  local features = {}
  local line = geo.line(self:path())
  if line then features[1] = geo.feature(line, {kind = "path"}) end
  for _, sp in ipairs(self.snappedPoints) do
    local c = tab(sp.coordinate)
    features[#features + 1] = geo.feature(geo.point(c.latitude, c.longitude), {
      kind = "point", index = sp.index, name = sp.name, speedLimit = sp.speedLimit,
      speedUnit = sp.speedUnit,
    })
  end
  return geo.collection(features)
end

-- Optimized itinerary

local Itinerary = {}
Itinerary.__index = Itinerary
_M.Itinerary = Itinerary

--- Wraps an OptimizeItinerary resource.
function _M.itinerary(res, meta)
  res = tab(res)
  res.agentItineraries = tab(res.agentItineraries)
  res.unscheduledItems = tab(res.unscheduledItems)
  res.unusedAgents = tab(res.unusedAgents)
  -- optimized-itinerary-data.md types capacity, quantity and distance as integers.
  local function agent(a)
    if type(a) == "table" then int_list(a.capacity) end
  end
  local function item(x)
    if type(x) == "table" then int_list(x.quantity) end
  end
  for _, ai in ipairs(res.agentItineraries) do
    if type(ai) == "table" then
      agent(ai.agent)
      for _, ins in ipairs(tab(ai.instructions)) do
        if type(ins) == "table" then
          if type(ins.distance) == "number" then ins.distance = index_of(ins.distance) or ins.distance end
          item(ins.itineraryItem)
        end
      end
    end
  end
  for _, x in ipairs(res.unscheduledItems) do item(x) end
  for _, a in ipairs(res.unusedAgents) do agent(a) end
  res.meta = meta
  return setmetatable(res, Itinerary)
end

local function trim(s) return type(s) == "string" and s:match("^%s*(.-)%s*$") or s end

--- The AgentItinerary of the agent named `name` (surrounding spaces ignored), or nil.
function Itinerary:agent(name)
  for _, ai in ipairs(self.agentItineraries) do
    if type(ai) == "table" and type(ai.agent) == "table" and trim(ai.agent.name) == trim(name) then
      return ai
    end
  end
  return nil
end

--- The names of the items the agent visits, in order (VisitLocation instructions).
function Itinerary:visits(name)
  local ai = self:agent(name)
  local out = {}
  for _, ins in ipairs(tab(ai and ai.instructions)) do
    if type(ins) == "table" and ins.instructionType == "VisitLocation"
        and type(ins.itineraryItem) == "table" then
      out[#out + 1] = ins.itineraryItem.name or ins.itineraryItem.location
    end
  end
  return out
end

local function item_feature(kind, x, props)
  local loc = tab(x.location)
  props.kind = kind
  for _, k in ipairs{"name", "openingTime", "closingTime", "dwellTime", "priority", "quantity"} do
    props[k] = x[k]
  end
  return geo.feature(geo.point(loc.latitude, loc.longitude), props)
end

--- A GeoJSON FeatureCollection: each instruction at a place (the itinerary item's
-- `location`) as a Point (`kind = "stop"`) with the agent's name (`agent`), its 1-based
-- `order` in the agent's instructions, Bing's instruction fields (`instructionType`,
-- `distance`, `duration`, `startTime`, `endTime`) and the item's (`name`, `dwellTime`,
-- `priority`, `quantity`, ...); then each unscheduled item (`kind = "unscheduled"`). No line
-- joins the stops: the answer has no road geometry.
function Itinerary:geojson()
  local features = {}
  for _, ai in ipairs(self.agentItineraries) do
    local name = type(ai) == "table" and type(ai.agent) == "table" and trim(ai.agent.name) or nil
    for order, ins in ipairs(tab(type(ai) == "table" and ai.instructions)) do
      if type(ins) == "table" and type(ins.itineraryItem) == "table"
          and type(ins.itineraryItem.location) == "table" then
        features[#features + 1] = item_feature("stop", ins.itineraryItem, {
          agent = name, order = order, instructionType = ins.instructionType,
          distance = ins.distance, duration = ins.duration, startTime = ins.startTime,
          endTime = ins.endTime,
        })
      end
    end
  end
  for _, x in ipairs(self.unscheduledItems) do
    if type(x) == "table" then features[#features + 1] = item_feature("unscheduled", x, {}) end
  end
  return geo.collection(features)
end

--- Number of items scheduled over all agents.
function Itinerary:scheduled_count()
  local n = 0
  for _, ai in ipairs(self.agentItineraries) do
    for _, ins in ipairs(tab(type(ai) == "table" and ai.instructions)) do
      if type(ins) == "table" and ins.instructionType == "VisitLocation" then n = n + 1 end
    end
  end
  return n
end

return _M
