--- Time Zone (rest-services/timezone/*.md): the zone of a point or a place, a UTC time
-- converted to a zone, the zones of a standard.
--
--     local zones = assert(client.timezone.find{point = {47.6, -122.3},
--                                               datetime = "2018-05-15T13:14:15Z"})
--     local z = zones[1]
--     print(z.ianaTimeZoneId, z.utcOffset, z:utc_offset(), z:utc_offset_with_dst(), z:is_dst())
--     client.timezone.find{query = "Vancouver, BC", includeDstRules = true}  -- z.placeName
--     client.timezone.convert{datetime = os.time(), destination = "America/Los_Angeles"}
--     client.timezone.list{}                                  -- every IANA zone
--     client.timezone.list{timezonestandard = "Windows"}      -- or tzstd =, standard =
--     client.timezone.list{desttz = "Pacific Standard Time", includeDstRules = true}
--
-- `find` and `list` return a list of `TimeZone` objects with `meta` (empty when no place
-- matched, or at sea); `convert` returns one `TimeZone`; or nil, err. A TimeZone keeps Bing's
-- fields (`genericName`, `abbreviation`, `ianaTimeZoneId`, `windowsTimeZoneId`, `utcOffset`,
-- `convertedTime`, `dstRule`; `placeName` for a query) and adds `:utc_offset()`,
-- `:utc_offset_with_dst()` (seconds), `:is_dst()`, `:local_time()` (an os.time-style table),
-- `:epoch()` (the converted instant, seconds since 1970 UTC), `:id()`.
--
-- Parameter names: Bing's (`dateTime` alias `dt`, `query` alias `q`, `desttz`,
-- `timezonestandard` alias `tzstd`, `includeDstRules`, `point`) and the spellings of the call
-- shapes (`datetime`, `destination`, `standard`). `datetime` is a UTC time: a string
-- "2018-05-15T13:14:15Z", seconds since the epoch, or an os.date("!*t")-style table.
-- @module bing.api.timezone
local check = require "bing.check"
local endpoint = require "bing.endpoint"
local errors = require "bing.errors"

local _M = {}

local bad, raise, floor = check.bad, check.raise, math.floor

-- Calendar arithmetic (proleptic Gregorian): days since 1970-01-01, both ways, with no
-- dependence on the local time zone (os.time reads the machine's).
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
end

local DAYS = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
local function days_in(y, m)
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  return DAYS[m] + ((m == 2 and leap) and 1 or 0)
end

local function valid(y, mo, d, h, mi, s)
  return y >= 1 and y <= 9999 and mo >= 1 and mo <= 12 and d >= 1 and d <= days_in(y, mo)
    and h >= 0 and h <= 23 and mi >= 0 and mi <= 59 and s >= 0 and s < 60
end

local int = math.tointeger or function(x) return x end

-- The "datetime" checker: a UTC time as a string, seconds or a table -> Bing's
-- "YYYY-MM-DDTHH:MM:SSZ", or nil, err.
local function datetime(what, name, v)
  if v == nil then return nil end
  local y, mo, d, h, mi, s
  if type(v) == "number" then
    if not check.finite(v) or v < -62135596800 or v >= 253402300800 then
      return bad(what, "%s must be a time from year 1 to 9999, got %s", name, tostring(v))
    end
    return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(v))
  elseif type(v) == "table" then
    y, mo, d, h, mi, s = v.year, v.month, v.day, v.hour or 0, v.min or 0, v.sec or 0
    for _, x in ipairs{y, mo, d, h, mi, s} do
      if type(x) ~= "number" or x ~= floor(x) then
        raise(what, "%s as a table needs integer year, month, day (and hour, min, sec)", name)
      end
    end
  elseif type(v) == "string" then
    y, mo, d, h, mi, s = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d):(%d%d)Z$")
    if not y then
      return bad(what, "%s must be a UTC time such as '2018-05-15T13:14:15Z', got '%s'", name, v)
    end
    y, mo, d, h, mi, s = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
  else
    raise(what, "%s must be a string, a number or a table, got %s", name, type(v))
  end
  if not valid(y, mo, d, h, mi, s) then
    return bad(what, "%s is not a valid date and time: %04d-%02d-%02dT%02d:%02d:%02dZ", name,
      y, mo, d, h, mi, s)
  end
  return ("%04d-%02d-%02dT%02d:%02d:%02dZ"):format(y, mo, d, h, mi, s)
end

-- A zone ID (IANA "America/Los_Angeles" or Windows "Pacific Standard Time"), sent as given.
local function zone_id(what, name, v)
  return check.text(what, name, v)
end

local standard = check.one_of{"IANA", "Windows"}

--- A time zone as Bing gives it, with methods.
local TimeZone = {}
TimeZone.__index = TimeZone
_M.TimeZone = TimeZone

local TimeZoneList = {}
TimeZoneList.__index = TimeZoneList
_M.TimeZoneList = TimeZoneList

-- "-8:00", "5:30", "+05:45", "0:00", "0" -> seconds, or nil (not a string, or not an offset).
local function offset_seconds(s)
  if type(s) ~= "string" then return nil end
  s = s:match("^%s*(.-)%s*$")
  if s == "0" then return 0 end
  local sign, h, m = s:match("^([+-]?)(%d%d?):(%d%d)$")
  if not sign then return nil end
  local v = tonumber(h) * 3600 + tonumber(m) * 60
  return int(sign == "-" and -v or v)
end

local function converted(self)
  local c = rawget(self, "convertedTime")
  return type(c) == "table" and c or nil
end

--- The zone's standard offset from UTC (`utcOffset`) in seconds, or nil.
function TimeZone:utc_offset()
  return offset_seconds(rawget(self, "utcOffset"))
end

--- The offset in force at the converted time (`convertedTime.utcOffsetWithDst`) in seconds,
-- or nil when the answer has no converted time.
function TimeZone:utc_offset_with_dst()
  local c = converted(self)
  return c and offset_seconds(c.utcOffsetWithDst)
end

--- Whether daylight saving time is in force at the converted time (nil when unknown).
function TimeZone:is_dst()
  local std, now = self:utc_offset(), self:utc_offset_with_dst()
  if std == nil or now == nil then return nil end
  return std ~= now
end

--- The converted local time as {year=, month=, day=, hour=, min=, sec=} (the fields of
-- os.date("*t")), or nil.
function TimeZone:local_time()
  local c = converted(self)
  local t = c and c.localTime
  if type(t) ~= "string" then return nil end
  local y, mo, d, h, mi, s = t:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d):?(%d*)")
  if not y then return nil end
  return {year = int(tonumber(y)), month = int(tonumber(mo)), day = int(tonumber(d)),
          hour = int(tonumber(h)), min = int(tonumber(mi)), sec = int(tonumber(s) or 0)}
end

--- The converted instant in seconds since 1970-01-01 UTC (local time less its offset), or nil.
function TimeZone:epoch()
  local t, off = self:local_time(), self:utc_offset_with_dst()
  if not t or not off then return nil end
  return int(((days_from_civil(t.year, t.month, t.day) * 24 + t.hour) * 60 + t.min) * 60
    + t.sec - off)
end

--- The zone's ID: the IANA one when the answer has it, else the Windows one.
function TimeZone:id()
  local iana, win = rawget(self, "ianaTimeZoneId"), rawget(self, "windowsTimeZoneId")
  if type(iana) == "string" then return iana end
  if type(win) == "string" then return win end
  return nil
end

-- A zone object from the service: keys trimmed (the reference's "dstEndTime " example), the
-- Windows ID also under time-zone-data.md's spelling `windowsTimeZoneID` (and back).
local function trimmed(t)
  if type(t) ~= "table" then return t end
  for k, v in pairs(t) do
    if type(k) == "string" then
      local tk = k:match("^%s*(.-)%s*$")
      if tk ~= k and t[tk] == nil then t[tk] = v end
    end
  end
  return t
end

local function zone(z, place)
  if type(z) ~= "table" then return nil end
  trimmed(z)
  z.dstRule = trimmed(z.dstRule)
  if z.windowsTimeZoneId == nil then z.windowsTimeZoneId = z.windowsTimeZoneID end
  if z.placeName == nil then z.placeName = place end
  return setmetatable(z, TimeZone)
end

-- `timeZone` is an object for a point, an ID, a conversion and list items, an array inside
-- `timeZoneAtLocation` (find-time-zone.md); either is read wherever it comes.
local function each_zone(tz, place, out)
  if type(tz) ~= "table" then return end
  if tz[1] ~= nil then
    for _, z in ipairs(tz) do out[#out + 1] = zone(z, place) end
  elseif next(tz) ~= nil then
    out[#out + 1] = zone(tz, place)
  end
end

local function resources(doc)
  local sets = type(doc) == "table" and doc.resourceSets
  local set = type(sets) == "table" and sets[1]
  local res = type(set) == "table" and set.resources
  return type(res) == "table" and res or {}
end

local function zones(doc, meta)
  local out = setmetatable({}, TimeZoneList)
  for _, r in ipairs(resources(doc)) do
    if type(r) == "table" then
      each_zone(r.timeZone, nil, out)
      local at = r.timeZoneAtLocation
      for _, place in ipairs(type(at) == "table" and at or {}) do
        if type(place) == "table" then
          local name = type(place.placeName) == "string" and place.placeName or nil
          each_zone(place.timeZone, name, out)
        end
      end
    end
  end
  out.meta = meta
  return out
end

local DST = {"includeDstRules", check.boolean}
local DATETIME = {"datetime", datetime, bing = "dateTime", alias = {"dateTime", "dt"}}

_M.find = {
  path = "/REST/v1/TimeZone/", billing = "RESTTimezone",
  params = {
    {"point", check.point, segment = true}, {"query", check.text, alias = "q"},
    DATETIME, DST,
  },
  before = function(call)
    local a = call.args
    local q = a.query ~= nil or a.q ~= nil
    -- find-time-zone.md: "The point and query parameters are mutually exclusive."
    if (q and 1 or 0) + (a.point ~= nil and 1 or 0) ~= 1 then
      raise(call.what, "give exactly one of point, query")
    end
    -- The point template is TimeZone/{point}; the query one TimeZone/?query=.
    if a.point ~= nil then call.path = "/REST/v1/TimeZone" end
  end,
  result = zones,
}

_M.convert = {
  path = "/REST/v1/TimeZone/Convert/", billing = "RESTTimezone",
  params = {
    {"datetime", datetime, bing = "dateTime", alias = {"dateTime", "dt"}, required = true},
    {"destination", zone_id, bing = "desttz", alias = "desttz", required = true},
    DST,
  },
  result = function(doc, meta)
    local list = zones(doc, meta)
    if not list[1] then
      return nil, errors.new("decode", "timezone.convert: the answer holds no time zone",
        {meta = meta, billing = meta and meta.billing})
    end
    list[1].meta = meta
    return list[1]
  end,
}

_M.list = {
  path = "/REST/v1/TimeZone/List/", billing = "RESTTimezone",
  params = {
    {"timezonestandard", standard, alias = {"tzstd", "standard"}},
    {"desttz", zone_id, alias = "destination"},
    DST,
  },
  before = function(call)
    local a = call.args
    local std = a.timezonestandard ~= nil or a.tzstd ~= nil or a.standard ~= nil
    if std and (a.desttz ~= nil or a.destination ~= nil) then
      raise(call.what, "give timezonestandard (a whole standard) or desttz (one zone), not both")
    end
  end,
  rules = function(call)
    local v = call.values
    if v.desttz then
      -- list-time-zones.md, "Time Zone from Time Zone ID": TimeZone/?desttz=.
      call.path = "/REST/v1/TimeZone/"
    elseif v.timezonestandard == nil then
      -- The parameter is required by the service; list{} lists the IANA zones (the fuller
      -- standard: several IANA zones share one Windows zone).
      v.timezonestandard = "IANA"
    end
  end,
  result = zones,
}

return endpoint.family("timezone", _M)
