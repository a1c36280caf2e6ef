-- Time Zone API (rest-services/timezone/*.md).
--
--   GET /REST/v1/TimeZone/{lat},{lon}?dateTime=&includeDstRules=                RESTTimezone
--   GET /REST/v1/TimeZone/?query=|q=&dateTime=&includeDstRules=                 RESTTimezone
--   GET /REST/v1/TimeZone/?desttz=&includeDstRules=          (one zone by ID)   RESTTimezone
--   GET /REST/v1/TimeZone/Convert/?dateTime=|dt=&desttz=&includeDstRules=       RESTTimezone
--   GET /REST/v1/TimeZone/List/?timezonestandard=|tzstd=IANA|Windows&includeDstRules=
--                                                                               RESTTimezone
--
-- Answers are RESTTimeZone resources shaped as the reference's JSON: `timeZone` (one object)
-- for a point, a zone ID, a conversion and each list item; `timeZoneAtLocation` (a list of
-- {placeName, timeZone = [zones]}) for a query. A zone carries genericName, abbreviation,
-- ianaTimeZoneId, windowsTimeZoneId, utcOffset ("-8:00", "5:30", "0:00"), convertedTime
-- (localTime, utcOffsetWithDst, timeZoneDisplayName, timeZoneDisplayAbbr) and, with
-- includeDstRules=true and a zone that observes DST, dstRule. List items have no
-- convertedTime (the reference's list example has none).
--
-- Choices where the reference is silent or contradicts itself (sim/README.md, Time Zone):
--   * no dateTime: "now" is a fixed instant, NOW below (the moment of the reference's Alaska
--     example), or the header X-Bingsim-Now: 2024-01-15T12:00:00Z; never the clock.
--   * time-zone-data.md footnote 1: a Windows ID as desttz gives no ianaTimeZoneId. The list
--     example shows ianaTimeZoneId on Windows list items, so the list keeps it.
--   * a query gives one timeZoneAtLocation entry per place graded High by the geocoder (or
--     the best match when none is), none matched: no resource (estimatedTotal 0).
--   * a point farther than POINT_KM from every known place (sea) gives no resource.
local calendar = require "bingsim.calendar"
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local gaz = require "bingsim.gazetteer"
local geocode = require "bingsim.geocode"
local recog = require "bingsim.recog"

local _M = {_VERSION = "0.1.0"}

local floor, abs = math.floor, math.abs

_M.POINT_KM = 800
-- 2018-08-06T20:12:41Z: find-time-zone.md's Alaska example was answered at this moment.
_M.NOW = "2018-08-06T20:12:41Z"

local TZ_TYPE = envelope.type_of("RESTTimeZone")
local RESOURCE_MT = {__order = {"__type", "timeZone", "timeZoneAtLocation"}}
local ZONE_MT = {__order = {"genericName", "abbreviation", "ianaTimeZoneId", "windowsTimeZoneId",
  "utcOffset", "convertedTime", "dstRule"}}
local CONVERTED_MT = {__order = {"localTime", "utcOffsetWithDst", "timeZoneDisplayName",
  "timeZoneDisplayAbbr"}}
local RULE_MT = {__order = {"dstStartMonth", "dstStartDateRule", "dstStartTime", "dstAdjust1",
  "dstEndMonth", "dstEndDateRule", "dstEndTime", "dstAdjust2"}}
local AT_MT = {__order = {"placeName", "timeZone"}}

-- DST rules, as time-zone-data.md writes them. Start time: local standard time at which
-- the clocks go forward; end time: local daylight time at which they go back.
local US = {"Mar", "Sun>=8", "2:00", "Nov", "Sun>=1", "2:00"}
local EU0 = {"Mar", "lastSun", "1:00", "Oct", "lastSun", "2:00"}   -- UTC+0 zones (01:00 UTC)
local EU1 = {"Mar", "lastSun", "2:00", "Oct", "lastSun", "3:00"}   -- UTC+1
local EU2 = {"Mar", "lastSun", "3:00", "Oct", "lastSun", "4:00"}   -- UTC+2
local AUS = {"Oct", "Sun>=1", "2:00", "Apr", "Sun>=1", "3:00"}
local NZ = {"Sep", "lastSun", "2:00", "Apr", "Sun>=1", "3:00"}
local CHILE = {"Sep", "Sun>=2", "0:00", "Apr", "Sun>=2", "0:00"}
local ISRAEL = {"Mar", "Fri>=23", "2:00", "Oct", "lastSun", "2:00"}

-- The zones: IANA ID, Windows ID, standard offset (minutes), standard and daylight
-- abbreviations, DST rule, daylight display name; canonical = the IANA ID the Windows list
-- shows for that Windows ID (CLDR's territory "001" mapping).
local Z = {}
local function zone(iana, windows, offset, abbr, dst_abbr, rule, canonical, daylight)
  Z[#Z + 1] = {iana = iana, windows = windows, offset = offset, abbr = abbr,
    dst_abbr = dst_abbr, rule = rule, canonical = canonical,
    generic = windows, daylight = daylight or (rule and windows:gsub("Standard", "Daylight"))}
end
zone("Pacific/Niue", "UTC-11", -660, nil, nil, nil, true)
zone("Pacific/Honolulu", "Hawaiian Standard Time", -600, "HST", nil, nil, true)
zone("America/Anchorage", "Alaskan Standard Time", -540, "AKST", "AKDT", US, true)
zone("America/Los_Angeles", "Pacific Standard Time", -480, "PST", "PDT", US, true)
zone("America/Vancouver", "Pacific Standard Time", -480, "PST", "PDT", US)
zone("America/Phoenix", "US Mountain Standard Time", -420, "MST", nil, nil, true)
zone("America/Denver", "Mountain Standard Time", -420, "MST", "MDT", US, true)
zone("America/Edmonton", "Mountain Standard Time", -420, "MST", "MDT", US)
zone("America/Chicago", "Central Standard Time", -360, "CST", "CDT", US, true)
zone("America/Winnipeg", "Central Standard Time", -360, "CST", "CDT", US)
zone("America/Mexico_City", "Central Standard Time (Mexico)", -360, "CST", nil, nil, true)
zone("America/New_York", "Eastern Standard Time", -300, "EST", "EDT", US, true)
zone("America/Toronto", "Eastern Standard Time", -300, "EST", "EDT", US)
zone("America/Cancun", "Eastern Standard Time (Mexico)", -300, "EST", nil, nil, true)
zone("America/Bogota", "SA Pacific Standard Time", -300, "COT", nil, nil, true)
zone("America/Lima", "SA Pacific Standard Time", -300, "PET", nil, nil)
zone("America/Halifax", "Atlantic Standard Time", -240, "AST", "ADT", US, true)
zone("America/Santiago", "Pacific SA Standard Time", -240, "CLT", "CLST", CHILE, true)
zone("America/Sao_Paulo", "E. South America Standard Time", -180, "BRT", nil, nil, true)
zone("America/Argentina/Buenos_Aires", "Argentina Standard Time", -180, "ART", nil, nil, true)
zone("Atlantic/Cape_Verde", "Cape Verde Standard Time", -60, "CVT", nil, nil, true)
zone("Etc/UTC", "UTC", 0, "UTC", nil, nil, true, nil)
zone("Europe/London", "GMT Standard Time", 0, "GMT", "BST", EU0, true)
zone("Europe/Dublin", "GMT Standard Time", 0, "GMT", "IST", EU0)
zone("Europe/Lisbon", "GMT Standard Time", 0, "WET", "WEST", EU0)
zone("Africa/Casablanca", "Morocco Standard Time", 60, "WEST", nil, nil, true)
zone("Africa/Lagos", "W. Central Africa Standard Time", 60, "WAT", nil, nil, true)
zone("Europe/Berlin", "W. Europe Standard Time", 60, "CET", "CEST", EU1, true)
zone("Europe/Rome", "W. Europe Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Amsterdam", "W. Europe Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Zurich", "W. Europe Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Vienna", "W. Europe Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Stockholm", "W. Europe Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Oslo", "W. Europe Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Paris", "Romance Standard Time", 60, "CET", "CEST", EU1, true)
zone("Europe/Madrid", "Romance Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Brussels", "Romance Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Copenhagen", "Romance Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Warsaw", "Central European Standard Time", 60, "CET", "CEST", EU1, true)
zone("Europe/Budapest", "Central Europe Standard Time", 60, "CET", "CEST", EU1, true)
zone("Europe/Prague", "Central Europe Standard Time", 60, "CET", "CEST", EU1)
zone("Europe/Athens", "GTB Standard Time", 120, "EET", "EEST", EU2, true)
zone("Europe/Helsinki", "FLE Standard Time", 120, "EET", "EEST", EU2, true)
zone("Africa/Cairo", "Egypt Standard Time", 120, "EET", nil, nil, true)
zone("Africa/Johannesburg", "South Africa Standard Time", 120, "SAST", nil, nil, true)
zone("Asia/Jerusalem", "Israel Standard Time", 120, "IST", "IDT", ISRAEL, true)
zone("Europe/Istanbul", "Turkey Standard Time", 180, "TRT", nil, nil, true)
zone("Europe/Moscow", "Russian Standard Time", 180, "MSK", nil, nil, true)
zone("Africa/Nairobi", "E. Africa Standard Time", 180, "EAT", nil, nil, true)
zone("Asia/Riyadh", "Arab Standard Time", 180, "AST", nil, nil, true)
zone("Asia/Dubai", "Arabian Standard Time", 240, "GST", nil, nil, true)
zone("Asia/Kolkata", "India Standard Time", 330, "IST", nil, nil, true)
zone("Asia/Bangkok", "SE Asia Standard Time", 420, "ICT", nil, nil, true)
zone("Asia/Ho_Chi_Minh", "SE Asia Standard Time", 420, "ICT", nil, nil)
zone("Asia/Jakarta", "SE Asia Standard Time", 420, "WIB", nil, nil)
zone("Asia/Shanghai", "China Standard Time", 480, "CST", nil, nil, true)
zone("Asia/Hong_Kong", "China Standard Time", 480, "HKT", nil, nil)
zone("Asia/Taipei", "Taipei Standard Time", 480, "CST", nil, nil, true)
zone("Asia/Singapore", "Singapore Standard Time", 480, "SGT", nil, nil, true)
zone("Asia/Manila", "Singapore Standard Time", 480, "PHT", nil, nil)
zone("Asia/Kuala_Lumpur", "Singapore Standard Time", 480, "MYT", nil, nil)
zone("Australia/Perth", "W. Australia Standard Time", 480, "AWST", nil, nil, true)
zone("Asia/Tokyo", "Tokyo Standard Time", 540, "JST", nil, nil, true)
zone("Asia/Seoul", "Korea Standard Time", 540, "KST", nil, nil, true)
zone("Australia/Darwin", "AUS Central Standard Time", 570, "ACST", nil, nil, true)
zone("Australia/Adelaide", "Cen. Australia Standard Time", 570, "ACST", "ACDT", AUS, true)
zone("Australia/Brisbane", "E. Australia Standard Time", 600, "AEST", nil, nil, true)
zone("Australia/Sydney", "AUS Eastern Standard Time", 600, "AEST", "AEDT", AUS, true)
zone("Australia/Melbourne", "AUS Eastern Standard Time", 600, "AEST", "AEDT", AUS)
zone("Pacific/Auckland", "New Zealand Standard Time", 720, "NZST", "NZDT", NZ, true)
_M.ZONES = Z

local by_iana, by_windows = {}, {}
for _, z in ipairs(Z) do
  by_iana[z.iana:lower()] = z
  if z.canonical then by_windows[z.windows:lower()] = z end
end

-- Where the gazetteer's places are: country, or country/division for countries with several
-- zones (US states by their main zone).
local BY_COUNTRY = {
  MX = "America/Mexico_City", BR = "America/Sao_Paulo", AR = "America/Argentina/Buenos_Aires",
  CL = "America/Santiago", PE = "America/Lima", CO = "America/Bogota", GB = "Europe/London",
  IE = "Europe/Dublin", FR = "Europe/Paris", DE = "Europe/Berlin", ES = "Europe/Madrid",
  PT = "Europe/Lisbon", IT = "Europe/Rome", NL = "Europe/Amsterdam", BE = "Europe/Brussels",
  CH = "Europe/Zurich", AT = "Europe/Vienna", SE = "Europe/Stockholm", NO = "Europe/Oslo",
  DK = "Europe/Copenhagen", FI = "Europe/Helsinki", PL = "Europe/Warsaw", CZ = "Europe/Prague",
  HU = "Europe/Budapest", GR = "Europe/Athens", TR = "Europe/Istanbul", RU = "Europe/Moscow",
  EG = "Africa/Cairo", ZA = "Africa/Johannesburg", NG = "Africa/Lagos", KE = "Africa/Nairobi",
  MA = "Africa/Casablanca", AE = "Asia/Dubai", SA = "Asia/Riyadh", IL = "Asia/Jerusalem",
  IN = "Asia/Kolkata", CN = "Asia/Shanghai", HK = "Asia/Hong_Kong", TW = "Asia/Taipei",
  JP = "Asia/Tokyo", KR = "Asia/Seoul", SG = "Asia/Singapore", TH = "Asia/Bangkok",
  VN = "Asia/Ho_Chi_Minh", ID = "Asia/Jakarta", PH = "Asia/Manila", MY = "Asia/Kuala_Lumpur",
  NZ = "Pacific/Auckland", US = "America/Chicago", CA = "America/Toronto",
  AU = "Australia/Sydney",
}
local BY_DIVISION = {
  ["MX/ROO"] = "America/Cancun", ["CA/BC"] = "America/Vancouver", ["CA/AB"] = "America/Edmonton",
  ["CA/MB"] = "America/Winnipeg", ["CA/NS"] = "America/Halifax",
  ["AU/VIC"] = "Australia/Melbourne", ["AU/QLD"] = "Australia/Brisbane",
  ["AU/WA"] = "Australia/Perth", ["AU/SA"] = "Australia/Adelaide", ["AU/NT"] = "Australia/Darwin",
  -- northern Idaho keeps Pacific time
  ["US/ID/Moscow"] = "America/Los_Angeles",
}
for zone_id, states in pairs{
  ["America/New_York"] = "CT DE DC FL GA IN KY ME MD MA MI NH NJ NY NC OH PA RI SC VT VA WV",
  ["America/Chicago"] = "AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI",
  ["America/Denver"] = "CO ID MT NM UT WY", ["America/Phoenix"] = "AZ",
  ["America/Los_Angeles"] = "CA NV OR WA", ["America/Anchorage"] = "AK",
  ["Pacific/Honolulu"] = "HI",
} do
  for s in states:gmatch("%a+") do BY_DIVISION["US/" .. s] = zone_id end
end

-- The zone of a gazetteer entry.
local function zone_of_entry(e)
  local a = e.address or {}
  local id = (a.locality and BY_DIVISION[("%s/%s/%s"):format(e.iso2, tostring(a.adminDistrict),
    a.locality)]) or BY_DIVISION[e.iso2 .. "/" .. tostring(a.adminDistrict)]
    or BY_COUNTRY[e.iso2]
  return id and by_iana[id:lower()]
end
_M.zone_of_entry = zone_of_entry

-- The zone at a point: that of the nearest city or division centre within POINT_KM.
function _M.zone_at(lat, lon)
  gaz.load()
  local best, best_d
  for _, e in ipairs(gaz.entries) do
    if e.kind == "PopulatedPlace" or e.kind == "AdminDivision1" then
      local d = geocode.distance_km(lat, lon, e.lat, e.lon)
      if not best_d or d < best_d then best, best_d = e, d end
    end
  end
  if not best or best_d > _M.POINT_KM then return nil end
  return zone_of_entry(best), best
end

function _M.find_zone(id)
  if not id then return nil end
  local k = id:lower()
  if by_iana[k] then return by_iana[k], "iana" end
  if by_windows[k] then return by_windows[k], "windows" end
  return nil
end

local days_from_civil, civil_from_days = calendar.days_from_civil, calendar.civil_from_days
_M.days_from_civil, _M.civil_from_days = days_from_civil, civil_from_days

local MONTHS = {Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8,
  Sep = 9, Oct = 10, Nov = 11, Dec = 12}
local WDAYS = {Sun = 0, Mon = 1, Tue = 2, Wed = 3, Thu = 4, Fri = 5, Sat = 6}
local DIM = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
local function dim(y, m)
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  return DIM[m] + ((m == 2 and leap) and 1 or 0)
end
local function weekday(days) return (days + 4) % 7 end -- 1970-01-01 was a Thursday

-- Day number of a DST date rule ("lastSun", "Sun>=8", "Sun<=5", "10") in year y, month m.
function _M.rule_day(y, m, rule)
  local n = tonumber(rule)
  if n then return days_from_civil(y, m, n) end
  local last = rule:match("^last(%a%a%a)$")
  if last then
    local d = days_from_civil(y, m, dim(y, m))
    return d - (weekday(d) - WDAYS[last]) % 7
  end
  local wd, op, day = rule:match("^(%a%a%a)([<>]=)(%d+)$")
  local d = days_from_civil(y, m, tonumber(day))
  if op == ">=" then return d + (WDAYS[wd] - weekday(d)) % 7 end
  return d - (weekday(d) - WDAYS[wd]) % 7
end

local function minutes_of(hmm)
  local h, m = hmm:match("^(%d+):(%d%d)$")
  return tonumber(h) * 60 + tonumber(m)
end

-- Is the UTC instant t (seconds) in DST for zone z?
function _M.in_dst(z, t)
  local r = z.rule
  if not r then return false end
  local y = civil_from_days(floor((t + z.offset * 60) / 86400))
  local start = (_M.rule_day(y, MONTHS[r[1]], r[2]) * 1440 + minutes_of(r[3]) - z.offset) * 60
  local stop = (_M.rule_day(y, MONTHS[r[4]], r[5]) * 1440 + minutes_of(r[6]) - z.offset - 60) * 60
  if start < stop then return t >= start and t < stop end
  return t >= start or t < stop -- southern hemisphere: DST spans the new year
end

local function offset_text(minutes)
  local sign = minutes < 0 and "-" or ""
  minutes = abs(minutes)
  return ("%s%d:%02d"):format(sign, floor(minutes / 60), minutes % 60)
end
_M.offset_text = offset_text

local function iso_local(t)
  local days = floor(t / 86400)
  local y, m, d = civil_from_days(days)
  local s = t - days * 86400
  return ("%04d-%02d-%02dT%02d:%02d:%02d"):format(y, m, d, floor(s / 3600), floor(s / 60) % 60,
    s % 60)
end

-- "2018-05-15T13:14:15Z" (also with a space, fractional seconds, without Z or seconds) ->
-- seconds since the epoch, or nil.
function _M.parse_datetime(s)
  if not s then return nil end
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local h, mi, sec = 0, 0, 0
  if rest ~= "" and rest ~= "Z" then
    local hh, mm, tail = rest:match("^[T ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, tail2 = tail:match("^:(%d%d)(.*)$")
    if ss then sec, tail = tonumber(ss), tail2 end
    tail = tail:gsub("^%.%d+", "")
    if tail ~= "" and tail ~= "Z" then return nil end
  end
  if mo < 1 or mo > 12 or d < 1 or d > dim(y, mo) or h > 23 or mi > 59 or sec > 59 then
    return nil
  end
  return (days_from_civil(y, mo, d) * 1440 + h * 60 + mi) * 60 + sec
end

-- One TimeZone object. opts: t (UTC seconds) for convertedTime, rules, no_iana.
function _M.zone_object(z, opts)
  local o = setmetatable({
    genericName = z.generic, abbreviation = z.abbr,
    ianaTimeZoneId = not opts.no_iana and z.iana or nil,
    windowsTimeZoneId = z.windows, utcOffset = offset_text(z.offset),
  }, ZONE_MT)
  if opts.t then
    local dst = _M.in_dst(z, opts.t)
    local off = z.offset + (dst and 60 or 0)
    o.convertedTime = setmetatable({
      localTime = iso_local(opts.t + off * 60), utcOffsetWithDst = offset_text(off),
      timeZoneDisplayName = dst and z.daylight or z.generic,
      timeZoneDisplayAbbr = dst and z.dst_abbr or z.abbr,
    }, CONVERTED_MT)
  end
  if opts.rules and z.rule then
    local r = z.rule
    o.dstRule = setmetatable({
      dstStartMonth = r[1], dstStartDateRule = r[2], dstStartTime = r[3], dstAdjust1 = "1:00",
      dstEndMonth = r[4], dstEndDateRule = r[5], dstEndTime = r[6], dstAdjust2 = "0",
    }, RULE_MT)
  end
  return o
end

function _M.classify() return {category = "RESTTimezone", transactions = 1} end

local function resource(fields)
  fields.__type = TZ_TYPE
  return setmetatable(fields, RESOURCE_MT)
end

local function bool_param(req, name)
  local v = req.param(name)
  if v == nil then return false end
  local l = v:lower()
  if l == "true" or l == "1" then return true end
  if l == "false" or l == "0" then return false end
  return nil
end

-- The instant of the request: dateTime, else the emulator's fixed "now".
local function instant(req, required)
  local v = req.param("dateTime", "dt")
  if v == nil or v == "" then
    if required then return nil, envelope.invalid(req, "dateTime", envelope.MISSING) end
    local hdr = req.headers and req.headers["x-bingsim-now"]
    return _M.parse_datetime(type(hdr) == "string" and hdr or _M.NOW)
      or _M.parse_datetime(_M.NOW)
  end
  local t = _M.parse_datetime(v)
  if not t then return nil, envelope.invalid(req, "dateTime", envelope.NOT_VALID) end
  return t
end

-- "Vancouver, BC": locality (or name) with the division code, as the reference writes it.
local function place_name(e)
  local a = e.address or {}
  if a.locality and a.adminDistrict and e.kind ~= "Address" then
    return a.locality .. ", " .. a.adminDistrict
  end
  return e.name
end

local function common(req)
  local rules = bool_param(req, "includeDstRules")
  if rules == nil then return nil, envelope.invalid(req, "includeDstRules", envelope.NOT_VALID) end
  return rules
end

local function by_point(req, seg)
  local p = recog.parse_numbers(seg)
  if not p or #p ~= 2 then return envelope.invalid(req, "point", envelope.NOT_VALID) end
  if p[1] < -90 or p[1] > 90 or p[2] < -180 or p[2] > 180 then
    return envelope.invalid(req, "point")
  end
  if req.param("query", "q") then return envelope.invalid(req, "query", envelope.NOT_VALID) end
  local rules, err = common(req)
  if rules == nil then return err end
  local t, terr = instant(req)
  if not t then return terr end
  local z = _M.zone_at(p[1], p[2])
  if not z then return envelope.success(req, {}) end
  return envelope.success(req, {resource{timeZone = _M.zone_object(z, {t = t, rules = rules})}})
end

local function by_query(req, q)
  if q == "" then return envelope.invalid(req, "query", envelope.MISSING) end
  local rules, err = common(req)
  if rules == nil then return err end
  local t, terr = instant(req)
  if not t then return terr end
  local results = geocode.search(q)
  local places = {}
  for _, r in ipairs(results) do
    if r.confidence == "High" then places[#places + 1] = r.entry end
  end
  if #places == 0 and results[1] then places[1] = results[1].entry end
  local at = json.array()
  for _, e in ipairs(places) do
    local z = zone_of_entry(e) or _M.zone_at(e.lat, e.lon)
    if z then
      at[#at + 1] = setmetatable({placeName = place_name(e),
        timeZone = json.array{_M.zone_object(z, {t = t, rules = rules})}}, AT_MT)
    end
  end
  if #at == 0 then return envelope.success(req, {}) end
  return envelope.success(req, {resource{timeZoneAtLocation = at}})
end

local function by_id(req, id, convert)
  if id == nil or id == "" then return envelope.invalid(req, "desttz", envelope.MISSING) end
  local rules, err = common(req)
  if rules == nil then return err end
  local t, terr = instant(req, convert)
  if not t then return terr end
  local z, kind = _M.find_zone(id)
  if not z then return envelope.invalid(req, "desttz", envelope.NOT_VALID) end
  return envelope.success(req, {resource{timeZone = _M.zone_object(z,
    {t = t, rules = rules, no_iana = kind == "windows"})}})
end

local function list(req)
  local std = req.param("timezonestandard", "tzstd")
  if std == nil or std == "" then
    return envelope.invalid(req, "timezonestandard", envelope.MISSING)
  end
  std = std:lower()
  if std ~= "iana" and std ~= "windows" then
    return envelope.invalid(req, "timezonestandard", envelope.NOT_VALID)
  end
  local rules, err = common(req)
  if rules == nil then return err end
  local out = {}
  for _, z in ipairs(Z) do
    if std == "iana" or z.canonical then
      out[#out + 1] = resource{timeZone = _M.zone_object(z, {rules = rules})}
    end
  end
  return envelope.success(req, out)
end

function _M.handle(req)
  local rest = req.rest or {}
  local first = rest[1] and rest[1]:lower()
  if #rest > 1 then return envelope.error(req, 404) end
  if first == "list" then return list(req) end
  if first == "convert" then
    if not req.param("dateTime", "dt") then
      return envelope.invalid(req, "dateTime", envelope.MISSING)
    end
    return by_id(req, req.param("desttz"), true)
  end
  if first and first ~= "" then return by_point(req, rest[1]) end
  local q, id = req.param("query", "q"), req.param("desttz")
  if q and id then return envelope.invalid(req, "desttz", envelope.NOT_VALID) end
  if id then return by_id(req, id, false) end
  if q == nil then return envelope.invalid(req, "query", envelope.MISSING) end
  return by_query(req, q)
end

return _M
