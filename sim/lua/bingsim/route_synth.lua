-- Deterministic synthesis of routing answers: routes, matrix cells, isochrones, snapped
-- points and optimized itineraries, from coordinates alone.
--
-- Pure Lua (no ngx): the same request gives the same answer in every worker and in unit
-- specs. Geometry is great-circle legs with a small lateral wiggle (so that tolerances have
-- something to simplify), at speeds per travel mode; distances on the "road" are the great
-- circle times a detour factor. A leg depends only on its end points, its via points and the
-- options, so a route split in parts is the same legs as the whole route.
local calendar = require "bingsim.calendar"
local json = require "bingsim.json"

local _M = {_VERSION = "0.1.0"}

local floor, sqrt, sin, cos, asin, atan2, exp, abs, pi =
  math.floor, math.sqrt, math.sin, math.cos, math.asin, math.atan2 or math.atan, math.exp,
  math.abs, math.pi
local min, max = math.min, math.max
local format = string.format
local A, O = json.array, json.object

local R_EARTH = 6371.0088
local RAD = pi / 180
local KM_PER_MILE = 1.609344

-- Keys print in alphabetical order after the framework's ranked ones (__type, bbox, ...),
-- which is the order of the reference's examples.

---------------------------------------------------------------------------------------------
-- Small numeric helpers
---------------------------------------------------------------------------------------------

-- A 31-bit hash of a string (djb2), stable across Lua versions.
local function hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) % 2147483648 end
  return h
end
_M.hash = hash

local function round(x, d)
  local m = 10 ^ (d or 0)
  local v = floor(x * m + 0.5) / m
  if v == 0 then v = 0 end -- no "-0"
  return v
end
_M.round = round

local function key_of(lat, lon) return format("%.6f,%.6f", lat, lon) end

--- Great-circle distance in km.
local function gc(lat1, lon1, lat2, lon2)
  local dlat, dlon = (lat2 - lat1) * RAD, (lon2 - lon1) * RAD
  local a = sin(dlat / 2) ^ 2 + cos(lat1 * RAD) * cos(lat2 * RAD) * sin(dlon / 2) ^ 2
  return 2 * R_EARTH * asin(min(1, sqrt(a)))
end
_M.gc = gc

--- Initial bearing from a to b, degrees clockwise from north [0, 360).
local function bearing(lat1, lon1, lat2, lon2)
  local y = sin((lon2 - lon1) * RAD) * cos(lat2 * RAD)
  local x = cos(lat1 * RAD) * sin(lat2 * RAD) - sin(lat1 * RAD) * cos(lat2 * RAD) * cos((lon2 - lon1) * RAD)
  local b = atan2(y, x) / RAD
  return (b + 360) % 360
end
_M.bearing = bearing

-- The point at fraction f of the great circle from a to b.
local function slerp(lat1, lon1, lat2, lon2, f)
  local d = gc(lat1, lon1, lat2, lon2) / R_EARTH
  if d < 1e-12 then return lat1, lon1 end
  local sa, sb = sin((1 - f) * d) / sin(d), sin(f * d) / sin(d)
  local p1, l1, p2, l2 = lat1 * RAD, lon1 * RAD, lat2 * RAD, lon2 * RAD
  local x = sa * cos(p1) * cos(l1) + sb * cos(p2) * cos(l2)
  local y = sa * cos(p1) * sin(l1) + sb * cos(p2) * sin(l2)
  local z = sa * sin(p1) + sb * sin(p2)
  return atan2(z, sqrt(x * x + y * y)) / RAD, atan2(y, x) / RAD
end

local COMPASS = {"north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest"}
local function compass(deg) return COMPASS[floor(((deg + 22.5) % 360) / 45) + 1] end

---------------------------------------------------------------------------------------------
-- Travel modes
---------------------------------------------------------------------------------------------

-- detour: road km per great-circle km; speed(km) -> average km/h over a trip of that length.
local MODES = {
  driving = {detour = 1.25, speed = function(km) return 32 + 53 * (1 - exp(-km / 35)) end,
             icon = "Auto", mode = "Driving"},
  truck = {detour = 1.28, speed = function(km) return (32 + 53 * (1 - exp(-km / 35))) * 0.85 end,
           icon = "Auto", mode = "Driving"},
  walking = {detour = 1.2, speed = function() return 5 end, icon = "Walk", mode = "Walking"},
  transit = {detour = 1.3, speed = function(km) return 14 + 16 * (1 - exp(-km / 20)) end,
             icon = "Bus", mode = "Transit", wait = 300},
}
_M.MODES = MODES

local function mode_of(name)
  return MODES[(name or "driving"):lower()] or MODES.driving
end

--- Road distance (km) and duration (s) between two points for a mode; `f` multiplies the
-- distance (avoid, optimize, alternatives), `slow` divides the speed.
local function metrics(mode, lat1, lon1, lat2, lon2, f, slow)
  local m = mode_of(mode)
  local km = gc(lat1, lon1, lat2, lon2) * m.detour * (f or 1)
  local secs = km / (m.speed(km) / (slow or 1)) * 3600 + (m.wait and km > 0 and m.wait or 0)
  return km, secs
end
_M.metrics = metrics

--- The matrix cell of a pair (distance in km, duration in s), the same formula as legs.
function _M.cell_metrics(mode, a, b)
  return metrics(mode, a.lat, a.lon, b.lat, b.lon)
end

--- The inverse of the driving duration: the great-circle radius (km) reachable in `secs`.
function _M.reach_km(mode, secs)
  local lo, hi = 0, 2000
  for _ = 1, 60 do
    local mid = (lo + hi) / 2
    local _, t = metrics(mode, 0, 0, mid / 111.195, 0)
    if t < secs then lo = mid else hi = mid end
  end
  return lo
end

---------------------------------------------------------------------------------------------
-- Paths
---------------------------------------------------------------------------------------------

--- The path points of one segment a -> b: great circle with a lateral wiggle whose shape is a
-- function of the two points only; about one point per 250 m of road, 2 to 300 points.
-- `alt` (0, 1, 2) makes alternative routes differ.
local function segment_path(a, b, road_km, alt)
  local n = max(2, min(300, floor(road_km / 0.25) + 2))
  local h = hash(key_of(a.lat, a.lon) .. ">" .. key_of(b.lat, b.lon))
  local waves = 1 + h % 3 + (alt or 0)
  local span = gc(a.lat, a.lon, b.lat, b.lon) / 111.195
  local amp = min(0.01, span * 0.03) * (((h % 2 == 0) and 1 or -1) * (1 + 0.5 * (alt or 0)))
  local brg = bearing(a.lat, a.lon, b.lat, b.lon) * RAD
  -- Perpendicular offset direction (east-north components, in degrees).
  local px, py = cos(brg), -sin(brg)
  local out = {}
  for i = 0, n - 1 do
    local f = i / (n - 1)
    local lat, lon = slerp(a.lat, a.lon, b.lat, b.lon, f)
    if i > 0 and i < n - 1 then
      local off = amp * sin(waves * pi * f) * sin(pi * f)
      lat = lat + py * off
      lon = lon + px * off / max(0.2, cos(lat * RAD))
    end
    out[#out + 1] = {round(lat, 6), round(lon, 6)}
  end
  out[1] = {round(a.lat, 6), round(a.lon, 6)}
  out[#out] = {round(b.lat, 6), round(b.lon, 6)}
  return out
end
_M.segment_path = segment_path

-- Perpendicular distance (degrees, planar) of p from the segment a-b.
local function perp(p, a, b)
  local x, y = p[2], p[1]
  local x1, y1, x2, y2 = a[2], a[1], b[2], b[1]
  local dx, dy = x2 - x1, y2 - y1
  local len2 = dx * dx + dy * dy
  if len2 == 0 then return sqrt((x - x1) ^ 2 + (y - y1) ^ 2) end
  local t = max(0, min(1, ((x - x1) * dx + (y - y1) * dy) / len2))
  return sqrt((x - x1 - t * dx) ^ 2 + (y - y1 - t * dy) ^ 2)
end

--- Douglas-Peucker over points[first..last] (1-based): the kept indices (1-based), sorted.
local function simplify(points, first, last, tol, keep)
  keep = keep or {}
  keep[first], keep[last] = true, true
  local stack = {{first, last}}
  while #stack > 0 do
    local seg = table.remove(stack)
    local i1, i2 = seg[1], seg[2]
    local dmax, imax = -1, nil
    for i = i1 + 1, i2 - 1 do
      local d = perp(points[i], points[i1], points[i2])
      if d > dmax then dmax, imax = d, i end
    end
    if imax and dmax > tol then
      keep[imax] = true
      stack[#stack + 1] = {i1, imax}
      stack[#stack + 1] = {imax, i2}
    end
  end
  return keep
end
_M.simplify = simplify

---------------------------------------------------------------------------------------------
-- Routes
---------------------------------------------------------------------------------------------

local STREETS = {"Main St", "Oak Ave", "Pine St", "Maple Ave", "Cedar Rd", "Lake Dr", "Hill Rd",
                 "Park Ave", "River Rd", "Market St", "Union St", "Elm St"}
local HIGHWAYS = {"I-5", "I-90", "I-405", "US-2", "WA-520", "SR-99", "I-94", "US-101"}

local function point_json(lat, lon)
  return O{type = "Point", coordinates = A{round(lat, 6), round(lon, 6)}}
end
_M.point_json = point_json

-- The maneuver of a turn from bearing b1 to b2.
local function turn_of(b1, b2)
  local d = ((b2 - b1 + 540) % 360) - 180
  local ad = abs(d)
  if ad < 12 then return "KeepStraight" end
  if ad < 45 then return d < 0 and "BearLeft" or "BearRight" end
  if ad < 150 then return d < 0 and "TurnLeft" or "TurnRight" end
  return "UTurn"
end

local TEXT = {
  DepartStart = "Depart %s toward %s", DepartIntermediateStop = "Depart %s toward %s",
  ArriveFinish = "Arrive at %s", ArriveIntermediate = "Arrive at %s",
  KeepStraight = "Keep straight onto %s", BearLeft = "Bear left onto %s",
  BearRight = "Bear right onto %s", TurnLeft = "Turn left onto %s", TurnRight = "Turn right onto %s",
  UTurn = "Make a U-turn onto %s", RampThenHighwayRight = "Take ramp right for %s",
  Walk = "Walk to %s", TakeTransit = "Bus: Take %s",
}

-- Days and dates of the UTC calendar (bingsim.calendar; os.time depends on the machine's zone).
local days_from_civil, civil_from_days = calendar.days_from_civil, calendar.civil_from_days

-- The emulator's "today": fixed, so answers are reproducible.
_M.TODAY = {2024, 6, 3}

--- Parses the date time formats of the reference (DateTime.Parse / ISO 8601):
-- "03/01/2011 05:42:00", "05:42:00", "3:00:00PM", "03/01/2011", "2017-06-15T13:00:00-07:00".
-- Returns seconds since the epoch of the local wall time, and the UTC offset in minutes
-- when the string has one (nil otherwise); nil when it cannot be read.
function _M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, se, rest
  y, mo, d, h, mi, se, rest = s:match("^(%d%d%d%d)%-(%d%d?)%-(%d%d?)[T ](%d%d?):(%d%d):?(%d*)(.*)$")
  local offset
  if not y then
    y, mo, d = s:match("^(%d%d%d%d)%-(%d%d?)%-(%d%d?)$")
    if y then h, mi, se, rest = 12, 0, 0, "" end
  end
  if not y then
    local date, time = s:match("^(%d+/%d+/%d+)%s*(.*)$")
    if date then
      mo, d, y = date:match("^(%d+)/(%d+)/(%d+)$")
    else
      time = s
      y, mo, d = _M.TODAY[1], _M.TODAY[2], _M.TODAY[3]
    end
    if time == nil or time == "" then
      h, mi, se = 12, 0, 0
    else
      local ampm
      h, mi, se, ampm = time:match("^(%d%d?):(%d%d):?(%d*)%s*([AaPp]?[Mm]?)$")
      if not h then return nil end
      h = tonumber(h)
      if ampm:lower() == "pm" and h < 12 then h = h + 12 end
      if ampm:lower() == "am" and h == 12 then h = 0 end
    end
  else
    if rest and rest ~= "" then
      rest = rest:gsub("^%.%d+", "")
      if rest == "Z" then
        offset = 0
      else
        local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
        if sign then offset = (tonumber(oh) * 60 + tonumber(om)) * (sign == "-" and -1 or 1) end
      end
    end
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  h, mi, se = tonumber(h), tonumber(mi), tonumber(se) or 0
  if not (y and mo and d and h and mi) then return nil end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se, offset
end

--- ISO 8601 with seven fraction digits, as the distance matrix prints departure times.
function _M.iso_utc(epoch)
  local days = floor(epoch / 86400)
  local secs = epoch - days * 86400
  local y, m, d = civil_from_days(days)
  return format("%04d-%02d-%02dT%02d:%02d:%02d.0000000+00:00", y, m, d, floor(secs / 3600),
    floor(secs % 3600 / 60), floor(secs % 60))
end

-- The UTC offset (minutes) the emulator gives a longitude: whole hours of solar time.
local function zone_minutes(lon) return floor(lon / 15 + 0.5) * 60 end
_M.zone_minutes = zone_minutes

-- "/Date(1397602707000-0700)/" for a local wall time at a longitude.
local function json_date(local_epoch, lon)
  local z = zone_minutes(lon)
  local sign = z < 0 and "-" or "+"
  local az = abs(z)
  return format("/Date(%d%s%02d%02d)/", (local_epoch - z * 60) * 1000, sign, floor(az / 60), az % 60)
end

-- One leg: `stops` is the list of points of the leg (start, vias..., end), each
-- {lat=, lon=, name=?, location=?, via=}. `o`: mode, f (distance factor), slow (speed
-- divisor), alt, units ("km"|"mi"), first (is the first leg), last (is the last leg),
-- traffic (add traffic warnings), start_time (transit, local epoch).
-- Returns leg (JSON table), path (list of {lat, lon}), leg_km, leg_secs.
local function build_leg(stops, o)
  local m = mode_of(o.mode)
  local path, seg_ends = {}, {}
  local seg_km, seg_secs = {}, {}
  for s = 1, #stops - 1 do
    local a, b = stops[s], stops[s + 1]
    local km, secs = metrics(o.mode, a.lat, a.lon, b.lat, b.lon, o.f, o.slow)
    seg_km[s], seg_secs[s] = km, secs
    local pts = segment_path(a, b, km, o.alt)
    local from = #path == 0 and 1 or 2
    for i = from, #pts do path[#path + 1] = pts[i] end
    seg_ends[s] = #path - 1 -- 0-based index of the segment's last point
  end
  -- Cumulative path distance (planar km) to split items proportionally.
  local cum = {0}
  for i = 2, #path do
    cum[i] = cum[i - 1] + gc(path[i - 1][1], path[i - 1][2], path[i][1], path[i][2])
  end
  local total_plain = cum[#path]
  local leg_km_raw, leg_secs_raw = 0, 0
  for s = 1, #seg_km do
    leg_km_raw, leg_secs_raw = leg_km_raw + seg_km[s], leg_secs_raw + seg_secs[s]
  end
  local unit_f = o.units == "mi" and 1 / KM_PER_MILE or 1
  -- Maneuver points: 0-based path indices.
  local steps = min(6, floor(leg_km_raw / 3))
  local idx = {0}
  for k = 1, steps do
    local i = floor(k * (#path - 1) / (steps + 1))
    if i > idx[#idx] and i < #path - 1 then idx[#idx + 1] = i end
  end
  -- Every via point is a maneuver point too.
  for s = 1, #seg_ends - 1 do
    local vi = seg_ends[s]
    local pos = #idx + 1
    for k = 1, #idx do
      if idx[k] == vi then pos = nil; break end
      if idx[k] > vi then pos = k; break end
    end
    if pos then table.insert(idx, pos, vi) end
  end
  idx[#idx + 1] = #path - 1
  local h = hash(key_of(stops[1].lat, stops[1].lon) .. key_of(stops[#stops].lat, stops[#stops].lon))
  local items = A()
  local sum_km, sum_secs = 0, 0
  local name_of = function(k)
    if leg_km_raw > 20 and k == 2 then return HIGHWAYS[h % #HIGHWAYS + 1] end
    return STREETS[(h + k * 7) % #STREETS + 1]
  end
  local start_name = stops[1].name or name_of(1)
  local end_name = stops[#stops].name or name_of(#idx)
  for k = 1, #idx do
    local i0 = idx[k]
    local i1 = idx[k + 1] or i0
    local frac = total_plain > 0 and (cum[i1 + 1] - cum[i0 + 1]) / total_plain or 0
    local km = round(leg_km_raw * frac * unit_f, 3)
    local secs = round(leg_secs_raw * frac, 0)
    if k == #idx then km, secs = 0, 0 end
    sum_km, sum_secs = sum_km + km, sum_secs + secs
    local p = path[i0 + 1]
    local nb = path[min(#path, i0 + 2)]
    local brg = round(bearing(p[1], p[2], nb[1], nb[2]), 0) % 360
    local maneuver
    local road, icon = "Street", m.icon
    local street = name_of(k)
    if k == 1 then
      maneuver = o.first and "DepartStart" or "DepartIntermediateStop"
    elseif k == #idx then
      maneuver = o.last and "ArriveFinish" or "ArriveIntermediate"
    elseif o.mode == "transit" then
      maneuver = "TakeTransit"
    elseif leg_km_raw > 20 and k == 2 then
      maneuver, road = "RampThenHighwayRight", "LimitedAccessHighway"
    else
      local pp = path[max(1, i0)]
      maneuver = turn_of(bearing(pp[1], pp[2], p[1], p[2]), brg)
      -- Gentle synthetic curves would make every step "keep straight": most become turns.
      if maneuver == "KeepStraight" and (h + k) % 4 ~= 0 then
        maneuver = ((h + k) % 2 == 0) and "TurnLeft" or "TurnRight"
      end
      road = (k % 3 == 0) and "Arterial" or "Street"
    end
    if o.mode == "walking" then road = "Street" end
    local text
    if maneuver == "DepartStart" or maneuver == "DepartIntermediateStop" then
      text = format(TEXT[maneuver], start_name, name_of(k + 1))
    elseif maneuver == "ArriveFinish" or maneuver == "ArriveIntermediate" then
      text = format(TEXT[maneuver], end_name)
    elseif o.mode == "transit" and maneuver == "TakeTransit" then
      text = format(TEXT.TakeTransit, tostring(10 + h % 80) .. " - " .. compass(brg))
    else
      text = format(TEXT[maneuver], street)
    end
    local names = A{street}
    local detail_type = maneuver
    if maneuver == "RampThenHighwayRight" then detail_type = "TakeRampRight" end
    if o.mode == "transit" and (k == 1 or k == #idx) then detail_type = "Walk"; icon = "Walk" end
    local item = O{
      compassDirection = compass(brg),
      details = A{O{compassDegrees = brg, endPathIndices = A{i1}, maneuverType = detail_type,
                    mode = m.mode, names = names, roadType = o.mode == "transit" and "NotApplicable" or road,
                    startPathIndices = A{i0}}},
      exit = "", iconType = icon,
      instruction = O{formattedText = json.null, maneuverType = maneuver, text = text},
      -- Sent on every item by the current service (optimized-waypoints-example.md).
      isRealTimeTransit = false, realTimeTransitDelay = 0,
      maneuverPoint = point_json(p[1], p[2]),
      sideOfStreet = "Unknown", tollZone = "", transitTerminus = "",
      travelDistance = km, travelDuration = secs, travelMode = m.mode,
    }
    if k == 1 then item.towardsRoadName = name_of(k + 1) end
    local warnings = A()
    if o.traffic and road == "LimitedAccessHighway" then
      local q = path[i1 + 1]
      warnings[#warnings + 1] = O{origin = format("%.6f,%.6f", p[1], p[2]), severity = "Minor",
        text = "Minor Congestion", to = format("%.6f,%.6f", q[1], q[2]), warningType = "TrafficFlow"}
    end
    if o.tolls and road == "LimitedAccessHighway" then
      warnings[#warnings + 1] = O{severity = "Low Impact", text = "Toll road", warningType = "TollRoad"}
    end
    if o.hazmat and k == 2 then
      warnings[#warnings + 1] = O{severity = "Minor", warningType = "Other",
        text = "Route avoids roads closed to the hazardous materials carried"}
    end
    if #warnings > 0 then item.warnings = warnings end
    if o.mode == "transit" and maneuver == "TakeTransit" and o.start_time then
      local t0 = o.start_time + floor(leg_secs_raw * (cum[i0 + 1] / max(1e-9, total_plain)))
      -- Fields as in transit-route-example.md (transitLine, and the child items' stop and
      -- trip ids and empty text fields).
      item.transitLine = O{abbreviatedName = tostring(10 + h % 80), agencyId = 1000 + h % 500,
        agencyName = "Bingsim Transit", lineColor = 3368703, lineTextColor = 16777215,
        phoneNumber = "(555) 010-0100", providerInfo = "Service Provider: Bingsim Transit, Phone: "
          .. "(555) 010-0100", uri = "http://transit.bingsim.invalid",
        verboseName = "Line " .. tostring(10 + h % 80), version = "Jun 1 2024 12:00AM"}
      local trip = 500000 + h % 100000
      item.childItineraryItems = A{
        O{compassDirection = "", details = A{O{maneuverType = "TransitDepart", mode = "Transit",
                                               names = A{street}, roadType = "None"}},
          exit = "", iconType = "None",
          instruction = O{formattedText = json.null, maneuverType = "TransitDepart",
                          text = "Depart: " .. street},
          maneuverPoint = point_json(p[1], p[2]), sideOfStreet = "Unknown", time = json_date(t0, p[2]),
          tollZone = "", transitStopId = 1000000 + h % 900000, transitTerminus = "",
          travelDistance = 0, travelDuration = 0, travelMode = "Transit", tripId = trip},
        O{compassDirection = "", details = A{O{maneuverType = "TransitArrive", mode = "Transit",
                                               names = A{name_of(k + 1)}, roadType = "None"}},
          exit = "", iconType = "None",
          instruction = O{formattedText = json.null, maneuverType = "TransitArrive",
                          text = "Arrive: " .. name_of(k + 1)},
          maneuverPoint = point_json(path[i1 + 1][1], path[i1 + 1][2]), sideOfStreet = "Unknown",
          time = json_date(t0 + secs, path[i1 + 1][2]), tollZone = "",
          transitStopId = 1000000 + (h + 7919) % 900000, transitTerminus = "",
          travelDistance = 0, travelDuration = 0, travelMode = "Transit", tripId = trip},
      }
    end
    items[#items + 1] = item
  end
  sum_km = round(sum_km, 3)
  -- Sub-legs: one per pair of consecutive stops (via points included).
  local subs = A()
  local start_idx = 0
  for s = 1, #stops - 1 do
    local a, b = stops[s], stops[s + 1]
    local frac_km = leg_km_raw > 0 and seg_km[s] / leg_km_raw or 0
    local frac_t = leg_secs_raw > 0 and seg_secs[s] / leg_secs_raw or 0
    subs[#subs + 1] = O{
      endWaypoint = O{type = "Point", coordinates = A{round(b.lat, 6), round(b.lon, 6)},
        description = b.name or format("%.6f,%.6f", b.lat, b.lon), isVia = b.via == true,
        locationIdentifier = format("0|%d|%.6f,%.6f", hash(key_of(b.lat, b.lon)), b.lat, b.lon),
        routePathIndex = seg_ends[s]},
      startWaypoint = O{type = "Point", coordinates = A{round(a.lat, 6), round(a.lon, 6)},
        description = a.name or format("%.6f,%.6f", a.lat, a.lon), isVia = a.via == true,
        locationIdentifier = format("0|%d|%.6f,%.6f", hash(key_of(a.lat, a.lon)), a.lat, a.lon),
        routePathIndex = start_idx},
      travelDistance = round(sum_km * frac_km, 3), travelDuration = round(sum_secs * frac_t, 0),
    }
    start_idx = seg_ends[s]
  end
  local first, last = stops[1], stops[#stops]
  local leg = O{
    actualEnd = point_json(last.lat, last.lon), actualStart = point_json(first.lat, first.lon),
    alternateVias = A(), cost = 0, description = "",
    endLocation = last.location, itineraryItems = items,
    routeRegion = o.mode == "transit" and "Transit-WD" or "NAv2",
    routeSubLegs = subs, startLocation = first.location,
    travelDistance = sum_km, travelDuration = sum_secs,
  }
  if o.mode == "transit" and o.start_time then
    leg.startTime = json_date(o.start_time, first.lon)
    leg.endTime = json_date(o.start_time + sum_secs, last.lon)
  end
  return leg, path, sum_km, sum_secs
end

-- Orders the middle stops for the least total cost (exact up to 8, else nearest neighbour
-- then 2-opt). Returns the permutation (list of indices into `stops`).
local function optimize_order(stops, cost)
  local n = #stops
  local order = {}
  for i = 1, n do order[i] = i end
  if n <= 3 then return order end
  local function total(ord)
    local t = 0
    for i = 1, #ord - 1 do t = t + cost(stops[ord[i]], stops[ord[i + 1]]) end
    return t
  end
  local mid = {}
  for i = 2, n - 1 do mid[#mid + 1] = i end
  if #mid <= 8 then
    local best, best_t = nil, math.huge
    local function permute(k)
      if k > #mid then
        local ord = {1}
        for _, v in ipairs(mid) do ord[#ord + 1] = v end
        ord[#ord + 1] = n
        local t = total(ord)
        if t < best_t - 1e-9 then best, best_t = ord, t end
        return
      end
      for i = k, #mid do
        mid[k], mid[i] = mid[i], mid[k]
        permute(k + 1)
        mid[k], mid[i] = mid[i], mid[k]
      end
    end
    permute(1)
    return best
  end
  local ord, used = {1}, {}
  for _ = 1, #mid do
    local cur, bi, bc = ord[#ord], nil, math.huge
    for _, v in ipairs(mid) do
      if not used[v] then
        local c = cost(stops[cur], stops[v])
        if c < bc then bi, bc = v, c end
      end
    end
    used[bi] = true
    ord[#ord + 1] = bi
  end
  ord[#ord + 1] = n
  local improved = true
  while improved do
    improved = false
    for i = 2, #ord - 2 do
      for j = i + 1, #ord - 1 do
        local a, b, c, d = ord[i - 1], ord[i], ord[j], ord[j + 1]
        local delta = cost(stops[a], stops[c]) + cost(stops[b], stops[d])
          - cost(stops[a], stops[b]) - cost(stops[c], stops[d])
        if delta < -1e-9 then
          local k, l = i, j
          while k < l do ord[k], ord[l] = ord[l], ord[k]; k, l = k + 1, l - 1 end
          improved = true
        end
      end
    end
  end
  return ord
end
_M.optimize_order = optimize_order

--- Builds the Route resources of a request. `wps` is the list of points in request order
-- ({lat=, lon=, via=, name=, location=, label = "wp.N"}); `o` holds: mode ("driving",
-- "walking", "transit", "truck"), units ("km"|"mi"), solutions (1-3), path (include
-- routePath), exclude_itinerary, summaries_only, tolerances (list), optimize (Bing value),
-- avoid (set of lower-case names), optimize_waypoints, date_time (string), hazmat, heavy.
function _M.routes(wps, o)
  local mode = o.mode or "driving"
  local f, slow = 1, 1
  local avoid = o.avoid or {}
  if avoid.highways then f, slow = f * 1.06, slow * 1.25
  elseif avoid.minimizehighways then f, slow = f * 1.03, slow * 1.12 end
  if avoid.tolls then f = f * 1.02 elseif avoid.minimizetolls then f = f * 1.01 end
  if avoid.ferry then f = f * 1.01 end
  if avoid.bordercrossing then f = f * 1.01 end
  if o.optimize == "distance" then f, slow = f * 0.97, slow * 1.08 end
  if o.heavy then f = f * 1.03 end
  if o.hazmat then f = f * 1.05 end
  local order
  local stops_only = {}
  for _, w in ipairs(wps) do if not w.via then stops_only[#stops_only + 1] = w end end
  if o.optimize_waypoints then
    local use_time = o.optimize ~= "distance"
    order = optimize_order(stops_only, function(a, b)
      local km, secs = metrics(mode, a.lat, a.lon, b.lat, b.lon, f, slow)
      return use_time and secs or km
    end)
    local re = {}
    for _, k in ipairs(order) do re[#re + 1] = stops_only[k] end
    wps = re
  end
  local start_time
  if o.date_time then start_time = _M.parse_time(o.date_time) end
  local out = A()
  for s = 0, (o.solutions or 1) - 1 do
    local alt_f = f * (1 + 0.06 * s)
    local legs, path = A(), {}
    local total_km, total_secs = 0, 0
    local leg_bounds = {} -- {first path index (1-based), last} per leg
    local i = 1
    local nstops = 0
    for _, w in ipairs(wps) do if not w.via then nstops = nstops + 1 end end
    local leg_no = 0
    local t = start_time
    while i < #wps do
      local stops = {wps[i]}
      local j = i + 1
      while wps[j].via do stops[#stops + 1] = wps[j]; j = j + 1 end
      stops[#stops + 1] = wps[j]
      leg_no = leg_no + 1
      local leg, lpath, km, secs = build_leg(stops, {
        mode = mode, f = alt_f, slow = slow, alt = s, units = o.units, first = leg_no == 1,
        last = leg_no == nstops - 1, traffic = o.optimize == "timeWithTraffic",
        tolls = not (avoid.tolls or avoid.minimizetolls), hazmat = o.hazmat, start_time = t,
      })
      if t then t = t + secs end
      -- Shift this leg's path indices to the route path.
      local off = #path == 0 and 0 or #path - 1
      local from = #path == 0 and 1 or 2
      for k = from, #lpath do path[#path + 1] = lpath[k] end
      if off > 0 then
        for _, item in ipairs(leg.itineraryItems) do
          for _, d in ipairs(item.details) do
            for k, v in ipairs(d.startPathIndices) do d.startPathIndices[k] = v + off end
            for k, v in ipairs(d.endPathIndices) do d.endPathIndices[k] = v + off end
          end
        end
        for _, sub in ipairs(leg.routeSubLegs) do
          sub.startWaypoint.routePathIndex = sub.startWaypoint.routePathIndex + off
          sub.endWaypoint.routePathIndex = sub.endWaypoint.routePathIndex + off
        end
      end
      leg_bounds[#leg_bounds + 1] = {off + 1, #path}
      if o.exclude_itinerary then leg.itineraryItems = nil end
      legs[#legs + 1] = leg
      total_km, total_secs = total_km + km, total_secs + secs
      i = j
    end
    local s_lat, w_lon, n_lat, e_lon = 90, 180, -90, -180
    for _, p in ipairs(path) do
      s_lat, n_lat = min(s_lat, p[1]), max(n_lat, p[1])
      w_lon, e_lon = min(w_lon, p[2]), max(e_lon, p[2])
    end
    local traffic_f = 1.1
    if start_time then
      local hour = floor((start_time % 86400) / 3600)
      traffic_f = (hour >= 7 and hour <= 9 or hour >= 16 and hour <= 18) and 1.35 or 1.08
    end
    local driving = mode == "driving" or mode == "truck"
    local route = O{
      __type = "Route:http://schemas.microsoft.com/search/local/ws/rest/v1",
      bbox = A{s_lat, w_lon, n_lat, e_lon},
      id = format("v70,h%d,i%d,a0,cen-US,bingsim", hash(key_of(wps[1].lat, wps[1].lon)
        .. key_of(wps[#wps].lat, wps[#wps].lon) .. mode), s),
      distanceUnit = o.units == "mi" and "Mile" or "Kilometer", durationUnit = "Second",
      routeLegs = legs,
      trafficCongestion = driving and (traffic_f > 1.2 and "Medium" or "Mild") or "None",
      trafficDataUsed = (driving and o.optimize == "timeWithTraffic") and "Flow" or "None",
      travelDistance = round(total_km, 3), travelDuration = total_secs,
      travelDurationTraffic = driving and round(total_secs * traffic_f, 0) or total_secs,
    }
    if o.summaries_only then
      route.routeLegs, route.bbox = nil, nil
    end
    if o.path then
      local line = A()
      for k, p in ipairs(path) do line[k] = A{p[1], p[2]} end
      local gens = A()
      for _, tol in ipairs(o.tolerances or {}) do
        -- Generalized leg by leg: waypoints are always kept.
        local keep = {}
        for _, b in ipairs(leg_bounds) do simplify(path, b[1], b[2], tol, keep) end
        local idx = A()
        for k = 1, #path do if keep[k] then idx[#idx + 1] = k - 1 end end
        gens[#gens + 1] = O{latLongTolerance = tol, pathIndices = idx}
      end
      route.routePath = O{generalizations = gens, line = O{type = "LineString", coordinates = line}}
    end
    if order then
      local names = A()
      for k, idx in ipairs(order) do names[k] = "wp." .. (idx - 1) end
      route.waypointsOrder = names
    end
    out[#out + 1] = route
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Distance matrix
---------------------------------------------------------------------------------------------

--- The cells of a matrix. origins/dests: lists of {lat=, lon=}; o: mode, time_unit
-- ("minute"|"second"), units ("km"|"mi"), start (epoch of the local start time), offset
-- (minutes, when the start time had one).
function _M.matrix(origins, dests, o)
  local results = A()
  local unit_f = o.units == "mi" and 1 / KM_PER_MILE or 1
  for i, a in ipairs(origins) do
    for j, b in ipairs(dests) do
      if not (i == j and a.lat == b.lat and a.lon == b.lon) then
        local km, secs = metrics(o.mode, a.lat, a.lon, b.lat, b.lon)
        local cell = O{destinationIndex = j - 1, originIndex = i - 1,
                       travelDistance = round(km * unit_f, 3)}
        local dep
        if o.start then
          local hour = floor((o.start % 86400) / 3600)
          local tf = (hour >= 7 and hour <= 9 or hour >= 16 and hour <= 18) and 1.3 or 1.05
          secs = secs * tf
          local utc = o.start - (o.offset or zone_minutes(a.lon)) * 60
          dep = _M.iso_utc(utc)
        end
        local dur = o.time_unit == "second" and round(secs, 0) or round(secs / 60, 2)
        cell.travelDuration = dur
        if dep then
          cell.departureTime = dep
          cell.hasError = false
          cell.totalWalkDuration = o.mode == "walking" and dur or 0
        elseif o.mode == "walking" then
          cell.totalWalkDuration = dur
        end
        results[#results + 1] = cell
      end
    end
  end
  return results
end

---------------------------------------------------------------------------------------------
-- Isochrone
---------------------------------------------------------------------------------------------

--- One polygon (one closed ring of {lat, lon}) around an origin at a great-circle radius
-- (km), its shape a function of the origin only.
function _M.isochrone(origin, radius_km)
  local h = hash(key_of(origin.lat, origin.lon))
  local p1, p2 = (h % 628) / 100, (floor(h / 628) % 628) / 100
  local ring = A()
  local n = 48
  for k = 0, n - 1 do
    local th = 2 * pi * k / n
    local r = radius_km * (0.82 + 0.1 * sin(3 * th + p1) + 0.06 * sin(5 * th + p2))
    local dlat = r * cos(th) / 111.195
    local dlon = r * sin(th) / (111.195 * max(0.05, cos(origin.lat * RAD)))
    ring[#ring + 1] = A{round(origin.lat + dlat, 5), round(origin.lon + dlon, 5)}
  end
  ring[#ring + 1] = A{ring[1][1], ring[1][2]}
  return A{O{coordinates = A{ring}}}
end

---------------------------------------------------------------------------------------------
-- Snap to road: a synthetic grid of streets
---------------------------------------------------------------------------------------------

_M.GRID = 0.005 -- degrees between grid streets (about 550 m north-south)

local function ordinal(n)
  n = abs(n)
  local s = "th"
  if n % 100 < 11 or n % 100 > 13 then
    s = ({"st", "nd", "rd"})[n % 10] or "th"
  end
  return n .. s
end

-- The grid line nearest a point: kind ("h": a street along a latitude, "v": an avenue along
-- a longitude), line number, snapped lat, lon.
local function nearest_line(lat, lon)
  local g = _M.GRID
  local nh = floor(lat / g + 0.5)
  local nv = floor(lon / g + 0.5)
  local dh = abs(lat - nh * g) * 111.195
  local dv = abs(lon - nv * g) * 111.195 * cos(lat * RAD)
  if dh <= dv then return "h", nh, nh * g, lon end
  return "v", nv, lat, nv * g
end
_M.nearest_line = nearest_line

local function line_name(kind, n)
  return kind == "h" and (ordinal(n % 200) .. " St") or (ordinal(n % 200) .. " Ave")
end

local MPH = {25, 30, 35, 40, 45, 50}
local KPH = {40, 50, 60, 70, 80, 90}

--- Snapped points of a list of {lat=, lon=}. o: interpolate, speed (include speed limits),
-- speed_unit ("MPH"|"KPH"), mode ("driving"|"walking").
function _M.snap(points, o)
  local out = A()
  local prev
  local function emit(kind, n, lat, lon, index)
    local sp = O{coordinate = O{latitude = round(lat, 6), longitude = round(lon, 6)},
                 index = index, name = line_name(kind, n)}
    if o.speed then
      local list = (o.speed_unit == "MPH") and MPH or KPH
      sp.speedLimit = o.mode == "walking" and 0 or list[hash(kind .. n) % #list + 1]
      sp.speedUnit = o.speed_unit == "MPH" and "MPH" or "KPH"
    end
    out[#out + 1] = sp
  end
  for i, p in ipairs(points) do
    local kind, n, lat, lon = nearest_line(p.lat, p.lon)
    if o.interpolate and prev then
      -- Along the previous point's line to the corner, then along this one's (an L on the grid).
      local g = _M.GRID
      local clat, clon
      if prev.kind == "h" then clat, clon = prev.lat, (kind == "v") and lon or lon
      else clat, clon = lat, prev.lon end
      local legs = {{prev.lat, prev.lon, clat, clon, prev.kind, prev.n}, {clat, clon, lat, lon, kind, n}}
      for _, l in ipairs(legs) do
        local d = gc(l[1], l[2], l[3], l[4])
        local steps = floor(d / (g * 111.195 / 5))
        for k = 1, steps do
          local f = k / (steps + 1)
          emit(l[5], l[6], l[1] + (l[3] - l[1]) * f, l[2] + (l[4] - l[2]) * f, -1)
        end
      end
    end
    emit(kind, n, lat, lon, i - 1)
    prev = {kind = kind, n = n, lat = lat, lon = lon}
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Multi-itinerary optimization: a greedy scheduler
---------------------------------------------------------------------------------------------

local function parse_span(s)
  if type(s) ~= "string" then return 0 end
  local h, m, sec = s:match("^(%d+):(%d%d):(%d%d)")
  if not h then return 0 end
  return tonumber(h) * 3600 + tonumber(m) * 60 + tonumber(sec)
end
_M.parse_span = parse_span

local function fmt_span(secs)
  secs = floor(secs + 0.5)
  return format("%02d:%02d:%02d", floor(secs / 3600), floor(secs % 3600 / 60), secs % 60)
end

local function fmt_time(epoch)
  local days = floor(epoch / 86400)
  local secs = epoch - days * 86400
  local y, m, d = civil_from_days(days)
  return format("%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, floor(secs / 3600), floor(secs % 3600 / 60),
    floor(secs % 60))
end
_M.fmt_time = fmt_time

local function coord_json(p) return O{latitude = p.lat, longitude = p.lon} end

--- Schedules `items` over the shifts of `agents` (already resolved: every location is
-- {lat=, lon=}). agents: {name=, shifts = {{start=, end_=, start_at=epoch, end_at=epoch,
-- breaks = {{start_at=, end_at=, duration=secs}}}}, capacity = {...}, price = {...}};
-- items: {name=, open=epoch, close=epoch, dwell=secs, dwell_text=, priority=, location=,
-- quantity=, depot=, dropOffFrom=, raw=}. o: roadnetwork (bool), cost ("TravelTime"|
-- "Distance"|"Price"). Returns the OptimizeItinerary resource.
function _M.optimize(agents, items, o)
  local done = {}
  local visited_names = {}
  local itins = A()
  local unused = A()
  local function travel(a, b)
    if o.roadnetwork == false then
      local km = gc(a.lat, a.lon, b.lat, b.lon)
      return km, km / 40 * 3600
    end
    return metrics("driving", a.lat, a.lon, b.lat, b.lon)
  end
  for _, agent in ipairs(agents) do
    local instr = A()
    local waypoints = A()
    local total_m, total_s = 0, 0
    local used = false
    local load = 0
    local cap = agent.capacity and agent.capacity[1]
    local first_start, last_end
    for _, sh in ipairs(agent.shifts) do
      local pos, now = sh.start, sh.start_at
      first_start = first_start or now
      instr[#instr + 1] = O{distance = 0, instructionType = "LeaveFromStartPoint",
        itineraryItem = O{closingTime = fmt_time(sh.end_at), dwellTime = "00:00:00",
          location = coord_json(sh.start), name = "", openingTime = fmt_time(sh.start_at), priority = 1},
        startTime = fmt_time(now)}
      waypoints[#waypoints + 1] = coord_json(sh.start)
      local breaks = {}
      for _, b in ipairs(sh.breaks or {}) do breaks[#breaks + 1] = {b = b, taken = false} end
      while true do
        -- A break whose window has opened is taken first.
        for _, br in ipairs(breaks) do
          if not br.taken and now >= br.b.start_at then
            local dur = br.b.duration or (br.b.end_at - br.b.start_at)
            instr[#instr + 1] = O{duration = fmt_span(dur), endTime = fmt_time(now + dur),
              instructionType = "TakeABreak", itineraryItem = O{closingTime = fmt_time(br.b.end_at),
                dwellTime = fmt_span(dur), location = O(), name = "Break",
                openingTime = fmt_time(br.b.start_at), priority = 1},
              startTime = fmt_time(now)}
            now = now + dur
            br.taken = true
          end
        end
        local best, best_score, best_km, best_s
        for k, it in ipairs(items) do
          local deps_ok = true
          for _, dn in ipairs(it.dropOffFrom or {}) do
            if not visited_names[dn] or visited_names[dn] ~= agent.name then deps_ok = false end
          end
          local q = it.quantity and it.quantity[1] or 0
          local cap_ok = not cap or (load + q >= 0 and load + q <= cap)
          if (not done[k] or it.depot) and deps_ok and cap_ok then
            local km, secs = travel(pos, it.location)
            local arrive = max(now + secs, it.open)
            local finish = arrive + it.dwell
            local back_km, back_s = travel(it.location, sh.end_)
            local _ = back_km
            local fits = finish <= it.close and finish + back_s <= sh.end_at
            if fits and not (it.depot and done[k] and km < 0.01) then
              local c = o.cost == "Distance" and km or secs
              local score = (it.priority or 1) * 1e6 - c
              if it.depot and done[k] then score = score - 5e5 end
              if not best_score or score > best_score then
                best, best_score, best_km, best_s = k, score, km, secs
              end
            end
          end
        end
        if not best then break end
        local it = items[best]
        local arrive = max(now + best_s, it.open)
        instr[#instr + 1] = O{distance = floor(best_km * 1000 + 0.5), duration = fmt_span(best_s),
          endTime = fmt_time(now + best_s), instructionType = "TravelBetweenLocations",
          startTime = fmt_time(now)}
        total_m, total_s = total_m + floor(best_km * 1000 + 0.5), total_s + best_s
        local itj = O{closingTime = fmt_time(it.close), dropOffFrom = A(it.dropOffFrom or {}),
          dwellTime = it.dwell_text, location = coord_json(it.location), name = it.name or "",
          openingTime = fmt_time(it.open), priority = it.priority or 1, quantity = A(it.quantity or {})}
        if it.depot ~= nil then itj.depot = it.depot end
        instr[#instr + 1] = O{duration = fmt_span(it.dwell), endTime = fmt_time(arrive + it.dwell),
          instructionType = "VisitLocation", itineraryItem = itj, startTime = fmt_time(arrive)}
        waypoints[#waypoints + 1] = coord_json(it.location)
        now, pos = arrive + it.dwell, it.location
        load = load + (it.quantity and it.quantity[1] or 0)
        done[best] = true
        if it.name then visited_names[it.name] = agent.name end
        used = true
      end
      local km, secs = travel(pos, sh.end_)
      instr[#instr + 1] = O{distance = floor(km * 1000 + 0.5), duration = fmt_span(secs),
        endTime = fmt_time(now + secs), instructionType = "TravelBetweenLocations", startTime = fmt_time(now)}
      total_m, total_s = total_m + floor(km * 1000 + 0.5), total_s + secs
      now = now + secs
      instr[#instr + 1] = O{distance = 0, instructionType = "ArriveToEndPoint",
        itineraryItem = O{closingTime = fmt_time(sh.end_at), dwellTime = "00:00:00",
          location = coord_json(sh.end_), name = "", openingTime = fmt_time(sh.start_at), priority = 1},
        startTime = fmt_time(now)}
      waypoints[#waypoints + 1] = coord_json(sh.end_)
      last_end = now
    end
    local agent_json = O{name = agent.name, shifts = agent.shifts_json}
    if agent.capacity then agent_json.capacity = A(agent.capacity) end
    if agent.price then agent_json.price = O(agent.price) end
    if used then
      local sh1, shn = agent.shifts[1], agent.shifts[#agent.shifts]
      itins[#itins + 1] = O{agent = agent_json, instructions = instr,
        route = O{endLocation = coord_json(shn.end_), endTime = fmt_time(last_end),
          startLocation = coord_json(sh1.start), startTime = fmt_time(first_start),
          totalTravelDistance = total_m, totalTravelTime = fmt_span(total_s), wayPoints = waypoints}}
    else
      unused[#unused + 1] = agent_json
    end
  end
  local unscheduled = A()
  for k, it in ipairs(items) do
    if not done[k] then unscheduled[#unscheduled + 1] = it.raw end
  end
  return O{__type = "OptimizeItinerary:http://schemas.microsoft.com/search/local/ws/rest/v1",
    agentItineraries = itins, isAccepted = true, isCompleted = true,
    unscheduledItems = unscheduled, unusedAgents = unused}
end

return _M
