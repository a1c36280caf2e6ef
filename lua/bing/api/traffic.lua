--- Traffic (rest-services/traffic/get-traffic-incidents.md, traffic-incident-data.md).
--
--     local list = assert(client.traffic.incidents{mapArea = {47.55, -122.40, 47.70, -122.10},
--                                                  severity = {3, 4}, type = "Accident"})
--     for _, inc in ipairs(list) do
--       print(inc.incidentId, inc:severity_name(), inc:type_name(), inc.title,
--             os.date("!%H:%M", inc:start_time()))
--     end
--
-- `incidents` returns a list of `TrafficIncident` objects with Bing's fields (`incidentId`,
-- `point`, `toPoint`, `start`, `end`, `lastModified`, `severity`, `type`, `description`,
-- `title`, `roadClosed`, `severityScore`, `delay`, `icon`, `eventList`, ...) and `meta`, empty
-- when no incident matched; or nil, err. `incidentId` is above 2^53: it comes back exact as
-- the decoder gives it (a Lua integer on 5.4, a string of digits on LuaJIT).
-- @module bing.api.traffic
local check = require "bing.check"
local endpoint = require "bing.endpoint"
local types = require "bing.api.location_types"
local gj = require "bing.geojson"

local _M = {}

local bad, raise = check.bad, check.raise
local floor = math.floor

-- get-traffic-incidents.md, mapArea: "a bounding box that can cover an area up to 10,000
-- square kilometers". Measured on the sphere (the mean Earth radius), as the emulator does.
_M.MAX_AREA_KM2 = 10000
local R_KM = 6371.0088

-- traffic-incident-data.md: severity 1..4, type 1..11, icon 0..6.
_M.SEVERITY = {"LowImpact", "Minor", "Moderate", "Serious"}
_M.TYPE = {"Accident", "Congestion", "DisabledVehicle", "MassTransit", "Miscellaneous",
           "OtherNews", "PlannedEvent", "RoadHazard", "Construction", "Alert", "Weather"}
_M.ICON = {[0] = "Warning", "RoadClosure", "Accident", "Construction", "HeavyTraffic",
           "ModerateTraffic", "Restrictions"}

--- The area of a box {south, west, north, east} in km^2 on the sphere.
function _M.area_km2(s, w, n, e)
  local rad = math.rad
  return R_KM * R_KM * math.abs(math.sin(rad(n)) - math.sin(rad(s))) * rad(e - w)
end

-- mapArea = {south, west, north, east} -> "s,w,n,e" (a path segment), or nil, err.
local function map_area(what, name, b)
  local text, err = check.bbox(what, name, b)
  if not text then return nil, err end
  local s, w, n, e = b[1] or b.south, b[2] or b.west, b[3] or b.north, b[4] or b.east
  if s >= n or w >= e then
    -- The service takes no box across the antimeridian (west > east); two calls cover it.
    return bad(what, "%s must have south < north and west < east (a box across the "
      .. "antimeridian is two calls), got %s", name, text)
  end
  local km2 = _M.area_km2(s, w, n, e)
  if km2 > _M.MAX_AREA_KM2 then
    return bad(what, "%s covers %.0f km^2, more than the %d km^2 the service takes",
      name, km2, _M.MAX_AREA_KM2)
  end
  return text
end

-- A list (or comma string) of codes 1..#names, given as numbers or as the reference's names
-- (any case) -> "2,3,4", or nil, err.
local function codes(names)
  local by_name = {}
  for i, n in ipairs(names) do by_name[n:lower()] = i end
  return function(what, name, v)
    if v == nil then return nil end
    if type(v) == "number" then v = {v} end
    local list = check.items(what, name, v, "codes or names")
    if #list == 0 then return bad(what, "%s is empty", name) end
    local out = {}
    for i, x in ipairs(list) do
      local c = x
      if type(x) == "string" then c = by_name[x:lower()] or tonumber(x) end
      if type(x) ~= "string" and type(x) ~= "number" then
        raise(what, "%s[%d] must be a number or a name, got %s", name, i, type(x))
      end
      if type(c) ~= "number" or c ~= floor(c) or c < 1 or c > #names then
        return bad(what, "%s[%d] '%s' is not one of 1..%d (%s)", name, i, tostring(x), #names,
          table.concat(names, ", "))
      end
      out[i] = string.format("%d", c)
    end
    return table.concat(out, ",")
  end
end

local TrafficIncident = {}
TrafficIncident.__index = TrafficIncident
_M.TrafficIncident = TrafficIncident

-- Bing's JSON time "/Date(1694526697000)/" (also seen without the slashes, and in the .NET
-- form with an offset "/Date(1694526697000+0100)/", whose milliseconds are UTC all the same)
-- or the XML form "2023-09-12T13:51:37Z" -> seconds since the epoch (a float when the
-- milliseconds are not whole seconds), or nil.
local function seconds(v)
  if type(v) == "number" then return v / 1000 end
  if type(v) ~= "string" then return nil end
  local ms = v:match("^/?Date%((%-?%d+)[%+%-]?%d*%)/?$")
  if ms then
    local n = tonumber(ms)
    if n % 1000 == 0 then return floor(n / 1000) end
    return n / 1000
  end
  local y, mo, d, h, mi, s, frac = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)(%.?%d*)Z$")
  if not y then return nil end
  -- Days from the civil date (H. Hinnant's algorithm): no os.time, which reads local time.
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  local t = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
  if frac ~= "" and frac ~= "." and tonumber(frac) ~= 0 then return t + tonumber(frac) end
  return t
end
_M.seconds = seconds

--- When the incident occurred, in seconds since the epoch (from Bing's "/Date(ms)/").
function TrafficIncident:start_time() return seconds(self.start) end
--- When the incident is expected to end (see `isEndTimeBackfilled`).
function TrafficIncident:end_time() return seconds(self["end"]) end
--- When the incident's information was last updated.
function TrafficIncident:last_modified() return seconds(self.lastModified) end

-- A code's name; the XML form (and a service that sends names) gives the name already.
local function name_of(names, v)
  if type(v) == "string" then return v end
  return type(v) == "number" and names[v] or nil
end

--- "LowImpact", "Minor", "Moderate" or "Serious" (nil for a code the reference does not list).
function TrafficIncident:severity_name() return name_of(_M.SEVERITY, self.severity) end
--- "Accident", "Congestion", ... "Weather".
function TrafficIncident:type_name() return name_of(_M.TYPE, self.type) end
--- The suggested icon: "Warning", "RoadClosure", ... "Restrictions".
function TrafficIncident:icon_name() return name_of(_M.ICON, self.icon) end

--- lat, lon where the incident is.
function TrafficIncident:latlon() return types.point_latlon(self.point) end
--- lat, lon of its end (of a construction zone, say), or nil.
function TrafficIncident:to_latlon() return types.point_latlon(self.toPoint) end

-- The id as a string of digits: an integer, a string, or (without an exact decoder) a float.
local function id_text(v)
  if type(v) == "string" then return v end
  if type(v) ~= "number" then return nil end
  if math.type and math.type(v) == "integer" then return tostring(v) end
  return string.format("%.0f", v)
end

local PROPERTIES = {"incidentId", "description", "title", "start", "end", "lastModified",
  "severity", "severityScore", "type", "icon", "roadClosed", "delay", "source", "verified",
  "isEndTimeBackfilled", "isJamcident", "eventList", "alertCCodes"}

--- A GeoJSON Feature (RFC 7946, lon/lat): a Point where the incident is; `id` and
-- `properties.incidentId` are the incidentId as a string of digits (JavaScript's numbers, and
-- lua-cjson's encoder, which writes 14 significant digits, would round it); properties are
-- Bing's other fields, the names (`severityName`, `typeName`), the times in seconds
-- (`startTime`, `endTime`, `lastModifiedTime`) and `toPoint` as a GeoJSON Point. The line
-- from point to toPoint is not drawn: the road between them is not a straight line.
function TrafficIncident:geojson()
  local lat, lon = self:latlon()
  local props = {}
  for _, k in ipairs(PROPERTIES) do props[k] = self[k] end
  props.incidentId = id_text(self.incidentId)
  props.severityName, props.typeName = self:severity_name(), self:type_name()
  props.startTime, props.endTime = self:start_time(), self:end_time()
  props.lastModifiedTime = self:last_modified()
  local tlat, tlon = self:to_latlon()
  if tlat then props.toPoint = {type = "Point", coordinates = {tlon, tlat}} end
  return gj.feature(gj.point(lat, lon), props, {id = id_text(self.incidentId)})
end

local TrafficIncidentList = {}
TrafficIncidentList.__index = TrafficIncidentList
_M.TrafficIncidentList = TrafficIncidentList
TrafficIncidentList.geojson = types.LocationList.geojson

local int = math.tointeger or function(x) return x end
local INTEGERS = {"severity", "type", "icon", "severityScore", "delay", "source"}

-- Liberal in what comes back: integer fields written as strings ("4") become numbers, and
-- an incidentId written as a string of digits becomes the exact integer where Lua has one
-- (5.4; on LuaJIT a string is how an id above 2^53 stays exact).
local function incidents(doc, meta)
  local list = {}
  for _, r in ipairs(types.resources(doc)) do
    if type(r) == "table" then
      for k, v in pairs(r) do
        if type(v) == "userdata" then r[k] = nil end -- JSON null: nil, as a Lua user expects
      end
      for _, k in ipairs(INTEGERS) do
        local v = r[k]
        if type(v) == "string" and v:match("^%s*%-?%d+%s*$") then v = tonumber(v) end
        if type(v) == "number" then r[k] = int(v) or v end
      end
      local id = r.incidentId
      if type(id) == "string" and math.tointeger and id:match("^%-?%d+$") then
        r.incidentId = math.tointeger(tonumber(id)) or id
      end
      list[#list + 1] = setmetatable(r, TrafficIncident)
    end
  end
  list.meta = meta
  return setmetatable(list, TrafficIncidentList)
end

_M.incidents = {
  path = "/REST/v1/Traffic/Incidents", billing = "RESTTraffic", result = incidents,
  params = {
    {"mapArea", map_area, segment = true, required = true},
    {"severity", codes(_M.SEVERITY)}, {"type", codes(_M.TYPE)},
    -- "Deprecated. This parameter is ignored.": sent when given, so the request is the
    -- caller's; the answer is the same either way.
    {"includeLocationCodes", check.boolean}, {"includeJamcidents", check.boolean},
    {"culture", check.culture, default = function(client) return client.culture end},
  },
}

return endpoint.family("traffic", _M)
