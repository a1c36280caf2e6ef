-- Traffic incidents (rest-services/traffic/get-traffic-incidents.md, traffic-incident-data.md).
--
--   GET /REST/v1/Traffic/Incidents/{south,west,north,east}/?severity=|s=&type=|t=
--       &includeLocationCodes=&includeJamcidents=                              RESTTraffic
--
-- mapArea: a bounding box "S,W,N,E" of at most MAX_AREA_KM2 (10,000 km^2, the documented
-- limit; the header X-Bingsim-No-Limits: 1 lifts it, so the reference's own example over
-- 37,-105,45,-94 can be asked). severity: a comma list of 1..4; type: of 1..11;
-- includeLocationCodes: true/false, accepted and ignored ("Deprecated. This parameter is
-- ignored."); includeJamcidents: true/false (default false: incidents with isJamcident true
-- are left out). Values are case-insensitive. The 400s name the parameter. The older
-- template's {mapArea}/{includeLocationCodes} path form is accepted too.
--
-- Data: fixed incidents around Seattle, Denver, Kansas City, New York, London and Berlin,
-- the two of the reference's example among them with its values. Fields and key order as
-- the reference's JSON example (which has `delay` and `source`, absent from the field
-- table); times "/Date(ms)/"; incidentId written exactly (they are above 2^53, one of them
-- 2^53 + 1, so a decoder that goes through a double is caught). Incidents are listed
-- severity first (Serious to LowImpact), then as in the data; estimatedTotal is the count.
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local recog = require "bingsim.recog"

local _M = {_VERSION = "0.1.0"}

_M.MAX_AREA_KM2 = 10000
local R_KM = 6371.0088

local INCIDENT_TYPE = envelope.type_of("TrafficIncident")
local INCIDENT_MT = {__order = {"__type", "point", "alertCCodes", "delay", "description", "end",
  "eventList", "icon", "incidentId", "isEndTimeBackfilled", "isJamcident", "lastModified",
  "roadClosed", "severity", "severityScore", "source", "start", "title", "toPoint", "type",
  "verified"}}
local POINT_MT = {__order = {"type", "coordinates"}}

-- {incidentId (digits), lat, lon, toLat, toLon, severity, type, icon, title, description,
--  start ms, end ms, lastModified ms, roadClosed, severityScore, delay s, eventList,
--  alertCCodes, isEndTimeBackfilled, isJamcident (default false), source (default 5)}
local LM = 1694528507744 -- 2023-09-12T14:21:47.744Z, the reference's lastModified
_M.INCIDENTS = {
  -- get-traffic-incidents.md, the JSON example (both incidents, its values)
  {"18558549332008001", 39.682642, -104.939053, 39.68307, -104.940412, 4, 1, 2,
    "I-25 N / US-87 N", "At CO 2/Colorado Boulevard (Denver) at Mile Point 204. Two right "
    .. "lanes are closed due to a crash.", 1694526697000, 1694535707744, LM, false, 99, 0,
    {203}, {4}, true},
  {"21366103288104000", 39.04460549, -94.38411355, 39.04075549, -94.35559355, 4, 1, 2,
    "I-70 E", "Accident on I-70 E from S Lees Summit Rd/Exit 14 (I-70) to "
    .. "I-470/MO-291/Exit 15 (I-70).", 1694525088000, 1694531388000, LM, false, 99, 0,
    {201}, {4}, false},
  -- Denver
  {"18558549332008517", 39.7502, -105.0002, 39.7712, -104.9988, 2, 9, 3, "I-25 S",
    "Between 20th St and Speer Blvd - road construction. Right lane closed.",
    1694419200000, 1695628800000, LM, false, 42, 60, {701}, {9}, false},
  {"18558549332009123", 39.7392, -104.9903, 39.7392, -104.9790, 1, 7, 0, "Colfax Ave",
    "Colfax Ave closed between Broadway and Grant St due to a street festival.",
    1694505600000, 1694563200000, LM, true, 12, 0, {1501}, {17}, false},
  {"18558549332009777", 39.7812, -104.9703, 39.7900, -104.9102, 3, 2, 4, "I-70 E",
    "Slow traffic on I-70 E from I-25 to Quebec St.", 1694527200000, 1694534400000, LM,
    false, 63, 540, {101}, {2}, true, true},
  -- Kansas City
  {"21366103288104213", 39.0997, -94.5786, 39.1012, -94.5601, 2, 3, 0, "I-670 W",
    "Disabled vehicle on I-670 W at Broadway. Left shoulder blocked.", 1694526000000,
    1694533200000, LM, false, 30, 120, {211}, {4}, true},
  {"21366103288104990", 39.0380, -94.5900, 39.0100, -94.5950, 3, 9, 3, "US-71 S",
    "Between 39th St and Gregory Blvd - bridge repair. Two lanes closed.", 1693526400000,
    1696118400000, LM, false, 70, 300, {735}, {9}, false},
  -- Seattle
  {"9007199254740993", 47.6101, -122.3421, 47.6205, -122.3493, 4, 1, 2, "SR-99 N",
    "Crash on SR-99 N at Seneca St. All lanes blocked.", 1694524800000, 1694532000000, LM,
    true, 97, 900, {201, 401}, {4}, true},
  {"18647291034571202", 47.5952, -122.3316, 47.6253, -122.3247, 3, 2, 5, "I-5 N",
    "Slow traffic on I-5 N from Royal Brougham Way to Mercer St.", 1694523600000,
    1694530800000, LM, false, 58, 420, {108}, {2}, true, true},
  {"18647291034571388", 47.6588, -122.3135, 47.6601, -122.3080, 2, 9, 3, "NE 45th St",
    "NE 45th St between Roosevelt Way NE and 8th Ave NE - utility work. Right lane closed.",
    1694415600000, 1694800800000, LM, false, 21, 30, {701}, {9}, false},
  {"18647291034571499", 47.6120, -122.2030, 47.6180, -122.1880, 1, 8, 0, "I-405 N",
    "Debris on the road on I-405 N at NE 8th St.", 1694527500000, 1694534700000, LM, false,
    8, 0, {901}, {25}, true},
  {"18647291034571601", 47.6400, -122.1290, 47.6400, -122.1290, 1, 11, 0, "SR-520",
    "Fog on SR-520 near Redmond. Drive with care.", 1694520000000, 1694541600000, LM, false,
    5, 0, {1001}, {31}, false},
  -- New York
  {"19702140028331007", 40.7527, -73.9772, 40.7571, -73.9719, 3, 4, 6, "Grand Central",
    "Mass transit: reduced service on the 7 line at Grand Central - 42 St.", 1694509200000,
    1694552400000, LM, false, 40, 0, {1201}, {19}, false},
  {"19702140028331112", 40.7069, -74.0113, 40.7126, -74.0048, 4, 9, 1, "Broadway",
    "Broadway closed between Wall St and Liberty St - emergency construction.",
    1694430000000, 1694790000000, LM, true, 88, 600, {741}, {9}, false},
  {"19702140028331250", 40.8296, -73.9262, 40.8448, -73.9282, 2, 1, 2, "I-87 N",
    "Accident on I-87 N at Exit 5 (Macombs Dam Bridge). Right lane blocked.",
    1694526300000, 1694533500000, LM, false, 35, 180, {201}, {4}, true},
  -- London
  {"20481926611450071", 51.5033, -0.1195, 51.5010, -0.1248, 3, 7, 1, "Westminster Bridge",
    "Westminster Bridge closed in both directions for a public event.", 1694502000000,
    1694566800000, LM, true, 66, 0, {1502}, {17}, false},
  {"20481926611450188", 51.5155, -0.0922, 51.5135, -0.0889, 2, 9, 3, "A1211 London Wall",
    "London Wall between Moorgate and Old Broad St - roadworks. Lane restrictions.",
    1694073600000, 1696204800000, LM, false, 27, 120, {701}, {9}, false},
  {"20481926611450301", 51.4700, -0.4543, 51.4816, -0.4450, 1, 10, 0, "M4",
    "Alert: expect delays on the approach to Heathrow Airport.", 1694520000000,
    1694548800000, LM, false, 10, 60, {1301}, {33}, false},
  -- Berlin
  {"20993817451120002", 52.5163, 13.3777, 52.5200, 13.3697, 2, 7, 1, "Straße des 17. Juni",
    "Straße des 17. Juni closed between Brandenburger Tor and Großer Stern - event.",
    1694498400000, 1694570400000, LM, true, 33, 0, {1502}, {17}, false},
  {"20993817451120119", 52.4870, 13.4250, 52.4950, 13.4390, 3, 5, 0, "A100",
    "A100 between Grenzallee and Sonnenallee - lane closed, police activity.",
    1694526900000, 1694534100000, LM, false, 61, 240, {1601}, {35}, true},
}

function _M.classify() return {category = "RESTTraffic", transactions = 1} end

local function point(lat, lon)
  return setmetatable({type = "Point", coordinates = json.array{lat, lon}}, POINT_MT)
end

local function date(ms) return ("/Date(%d)/"):format(ms) end

local function incident(row)
  return setmetatable({
    __type = INCIDENT_TYPE, point = point(row[2], row[3]), alertCCodes = json.array(row[18]),
    delay = row[16], description = row[10], ["end"] = date(row[12]),
    eventList = json.array(row[17]), icon = row[8], incidentId = json.raw(row[1]),
    isEndTimeBackfilled = row[19] and true or false, isJamcident = row[20] and true or false,
    lastModified = date(row[13]), roadClosed = row[14], severity = row[6],
    severityScore = row[15], source = row[21] or 5, start = date(row[11]), title = row[9],
    toPoint = point(row[4], row[5]), type = row[7], verified = true,
  }, INCIDENT_MT)
end

-- Area of a lat/lon box on the sphere, km^2.
function _M.area_km2(s, w, n, e)
  local rad = math.rad
  return R_KM * R_KM * math.abs(math.sin(rad(n)) - math.sin(rad(s))) * rad(e - w)
end

-- "2,3,4" -> set of integers in lo..hi, or nil, problem.
local function int_list(v, lo, hi)
  local set = {}
  for part in (v .. ","):gmatch("([^,]*),") do
    part = part:gsub("^%s+", ""):gsub("%s+$", "")
    if not part:match("^%d+$") then return nil, envelope.NOT_VALID end
    local n = tonumber(part)
    if n < lo or n > hi then return nil, envelope.OUT_OF_RANGE end
    set[n] = true
  end
  return set
end

local function bool_param(req, name)
  local v = req.param(name)
  if v == nil then return false end
  local l = v:lower()
  if l == "true" or l == "1" then return true end
  if l == "false" or l == "0" then return false end
  return nil
end

function _M.handle(req)
  local rest = req.rest or {}
  if #rest == 0 or rest[1] == "" then
    return envelope.invalid(req, "mapArea", envelope.MISSING)
  end
  -- The older template put includeLocationCodes in the path ({mapArea}/true): accepted
  -- and ignored like the parameter.
  if #rest > 2 or (rest[2] and not ({["true"] = true, ["false"] = true})[rest[2]:lower()]) then
    return envelope.error(req, 404)
  end
  local b = recog.parse_numbers(rest[1])
  if not b or #b ~= 4 then return envelope.invalid(req, "mapArea", envelope.NOT_VALID) end
  local s, w, n, e = b[1], b[2], b[3], b[4]
  if s < -90 or n > 90 or w < -180 or e > 180 or s >= n or w >= e then
    return envelope.invalid(req, "mapArea")
  end
  local no_limits = req.headers and req.headers["x-bingsim-no-limits"] == "1"
  if not no_limits and _M.area_km2(s, w, n, e) > _M.MAX_AREA_KM2 then
    return envelope.invalid(req, "mapArea")
  end
  local sev, typ
  local v = req.param("severity", "s")
  if v then
    local problem
    sev, problem = int_list(v, 1, 4)
    if not sev then return envelope.invalid(req, "severity", problem) end
  end
  v = req.param("type", "t")
  if v then
    local problem
    typ, problem = int_list(v, 1, 11)
    if not typ then return envelope.invalid(req, "type", problem) end
  end
  if bool_param(req, "includeLocationCodes") == nil then
    return envelope.invalid(req, "includeLocationCodes", envelope.NOT_VALID)
  end
  local jam = bool_param(req, "includeJamcidents")
  if jam == nil then return envelope.invalid(req, "includeJamcidents", envelope.NOT_VALID) end

  local found = {}
  for i, row in ipairs(_M.INCIDENTS) do
    if row[2] >= s and row[2] <= n and row[3] >= w and row[3] <= e
        and (not sev or sev[row[6]]) and (not typ or typ[row[7]]) and (jam or not row[20]) then
      found[#found + 1] = {i = i, row = row}
    end
  end
  table.sort(found, function(a, c)
    if a.row[6] ~= c.row[6] then return a.row[6] > c.row[6] end
    return a.i < c.i
  end)
  local out = {}
  for k, f in ipairs(found) do out[k] = incident(f.row) end
  return envelope.success(req, out)
end

return _M
