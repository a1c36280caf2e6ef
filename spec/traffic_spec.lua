-- traffic.incidents (get-traffic-incidents.md, traffic-incident-data.md) on the endpoint
-- layer: what is sent, the incidents that come back (exact ids, times, names, GeoJSON), the
-- 10,000 km^2 limit from both sides, billing against the ledger, the reference's examples.
local bing = require "bing"
local sim = require "support.sim"
local reference = require "support.reference"
local traffic = require "bing.api.traffic"


local LUAJIT = rawget(_G, "jit") ~= nil

-- The exact id as the decoder gives it: a Lua integer on 5.4, a string of digits on LuaJIT.
local function exact_id(digits)
  if LUAJIT then return digits end
  return math.tointeger(load("return " .. digits)())
end

local function assert_id(digits, v)
  assert.equal(exact_id(digits), v)
  if not LUAJIT then assert.equal("integer", math.type(v)) end
end

local DENVER = {39.6, -105.05, 39.8, -104.9}   -- about 285 km^2
local SEATTLE = {47.55, -122.40, 47.70, -122.10}

describe("traffic.incidents", function()
  local c
  before_each(function() c = sim.client() end)

  it("sends mapArea as the path segment and decodes the emulator's incidents", function()
    local list = assert(c.traffic.incidents{mapArea = DENVER})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Traffic/Incidents/39.6,-105.05,39.8,-104.9", req.path)
    assert.same({key = "<redacted>"}, req.query)
    -- The reference's Denver incident first (Serious), then by severity; the jamcident of
    -- the emulator's data is left out without includeJamcidents.
    assert.equal(3, #list)
    local inc = list[1]
    assert_id("18558549332008001", inc.incidentId)
    assert_id("18558549332008517", list[2].incidentId)
    assert_id("18558549332009123", list[3].incidentId)
    assert.same({39.682642, -104.939053}, {inc:latlon()})
    assert.same({39.68307, -104.940412}, {inc:to_latlon()})
    assert.equal("I-25 N / US-87 N", inc.title)
    assert.equal(4, inc.severity)
    assert.equal("Serious", inc:severity_name())
    assert.equal("Accident", inc:type_name())
    assert.equal("Accident", inc:icon_name())
    assert.equal("Construction", list[2]:type_name())
    assert.equal("PlannedEvent", list[3]:type_name())
    assert.equal("LowImpact", list[3]:severity_name())
    assert.is_true(list[3].roadClosed)
    if not LUAJIT then assert.equal("integer", math.type(inc.severity)) end
    assert.equal(1694526697, inc:start_time())
    assert.equal(1694535707.744, inc:end_time())
    assert.equal(1694528507.744, inc:last_modified())
    assert.equal("2023-09-12 13:51:37", os.date("!%Y-%m-%d %H:%M:%S", inc:start_time()))
    assert.equal(3, list.meta.estimated_total)
    assert.equal("RESTTraffic", list.meta.billing.category)
    assert.is_true(list.meta.billing.billable)
  end)

  it("brings 2^53 + 1 back exact", function()
    local list = assert(c.traffic.incidents{mapArea = SEATTLE, severity = "Serious"})
    assert.equal("4", sim.last_request().query.severity)
    assert.equal(1, #list)
    assert_id("9007199254740993", list[1].incidentId)
    assert.equal("9007199254740993", list[1]:geojson().id)
  end)

  it("sends severity and type as codes, from numbers or the reference's names", function()
    local list = assert(c.traffic.incidents{mapArea = SEATTLE, severity = {"minor", 3, 4},
                                            type = "Construction,Congestion, 1"})
    local q = sim.last_request().query
    assert.equal("2,3,4", q.severity)
    assert.equal("9,2,1", q.type)
    local titles = {}
    for i, inc in ipairs(list) do titles[i] = inc.title .. " " .. inc:type_name() end
    assert.same({"SR-99 N Accident", "NE 45th St Construction"}, titles)
  end)

  it("sends includeJamcidents and includeLocationCodes (ignored by the service)", function()
    local list = assert(c.traffic.incidents{mapArea = DENVER, includeJamcidents = true,
                                            includeLocationCodes = false})
    local q = sim.last_request().query
    assert.equal("true", q.includeJamcidents)
    assert.equal("false", q.includeLocationCodes)
    assert.equal(4, #list)
    assert.is_true(list[2].isJamcident)
    assert.equal("Congestion", list[2]:type_name())
    assert.equal(540, list[2].delay)
  end)

  it("gives a GeoJSON FeatureCollection in lon/lat order", function()
    local gj = assert(c.traffic.incidents{mapArea = DENVER}):geojson()
    assert.equal("FeatureCollection", gj.type)
    assert.equal(3, #gj.features)
    local f = gj.features[1]
    assert.equal("Feature", f.type)
    assert.equal("18558549332008001", f.id)
    assert.equal("18558549332008001", f.properties.incidentId)
    assert.same({type = "Point", coordinates = {-104.939053, 39.682642}}, f.geometry)
    assert.same({type = "Point", coordinates = {-104.940412, 39.68307}}, f.properties.toPoint)
    assert.equal("Serious", f.properties.severityName)
    assert.equal("Accident", f.properties.typeName)
    assert.equal(1694526697, f.properties.startTime)
    assert.equal("/Date(1694526697000)/", f.properties.start)
    assert.equal("I-25 N / US-87 N", f.properties.title)
  end)

  it("sends the client's culture", function()
    assert(sim.client{culture = "de-DE"}.traffic.incidents{mapArea = DENVER})
    assert.equal("de-DE", sim.last_request().query.culture)
  end)

  it("returns an empty list where nothing matched", function()
    local list = assert(c.traffic.incidents{mapArea = {10, 10, 10.5, 10.5}})
    assert.equal(0, #list)
    assert.equal(0, #list:geojson().features)
  end)

  it("refuses the 10,000 km^2 limit and bad codes before sending", function()
    sim.assert_refused(function() return c.traffic.incidents{mapArea = {37, -105, 45, -94}} end,
      "^traffic.incidents: mapArea covers 820504 km%^2, more than the 10000 km%^2")
    sim.assert_refused(function() return c.traffic.incidents{mapArea = {0, 0, 0.9, 0.9}} end,
      "mapArea covers 10015 km")
    sim.assert_refused(function() return c.traffic.incidents{mapArea = {0, 179.9, 0.1, -179.9}} end,
      "west < east %(a box across the antimeridian is two calls%)")
    sim.assert_refused(function() return c.traffic.incidents{mapArea = {1, 0, 1, 0.5}} end,
      "south < north")
    sim.assert_refused(function() return c.traffic.incidents{mapArea = {91, 0, 92, 1}} end,
      "mapArea needs %-90 <= south <= north <= 90")
    sim.assert_refused(function() return c.traffic.incidents{mapArea = DENVER, severity = 5} end,
      "severity%[1%] '5' is not one of 1..4 %(LowImpact, Minor, Moderate, Serious%)")
    sim.assert_refused(function() return c.traffic.incidents{mapArea = DENVER, type = "Flood"} end,
      "type%[1%] 'Flood' is not one of 1..11")
    sim.assert_refused(function() return c.traffic.incidents{mapArea = DENVER, type = {}} end,
      "type is empty")
  end)

  it("raises on programmer errors, naming the caller", function()
    local before = sim.last_id()
    local ok, err = pcall(c.traffic.incidents, {})
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.matches("traffic_spec.lua:%d+: traffic.incidents: mapArea is required$", err.message)
    assert.has_error(function() c.traffic.incidents{mapArea = "37,-105,38,-104"} end)
    assert.has_error(function() c.traffic.incidents{mapArea = DENVER, area = 1} end)
    assert.has_error(function() c.traffic.incidents{mapArea = DENVER, severity = {{}}} end)
    assert.has_error(function() c.traffic.incidents{mapArea = DENVER, includeJamcidents = 1} end)
    assert.equal(before, sim.last_id())
  end)

  it("agrees with the emulator on the limit: just under goes, just over is refused by both", function()
    assert(c.traffic.incidents{mapArea = {0, 0, 0.899, 0.899}})
    assert.equal(200, sim.last_request().status)
    local st = sim.get("/REST/v1/Traffic/Incidents/0,0,0.9,0.9", {key = sim.key})
    assert.equal(400, st)
  end)

  it("is billed RESTTraffic per request: the meter equals the ledger", function()
    sim.reset()
    local c2 = sim.client()
    for _ = 1, 3 do assert(c2.traffic.incidents{mapArea = DENVER}) end
    local plan = c2.traffic.incidents{mapArea = DENVER, dry_run = true}
    assert.equal("RESTTraffic", plan.billing.category)
    assert.equal(1, plan.billing.transactions)
    sim.settle(10)
    local led = sim.ledger().SIM_KEY.RESTTraffic
    local m = c2:usage().categories.RESTTraffic
    assert.same({billable = 3, non_billable = 0, requests = 3}, led)
    assert.same(led, {billable = m.billable, non_billable = m.non_billable, requests = m.requests})
  end)
end)

describe("traffic.seconds", function()
  it("reads Bing's JSON times, with or without slashes or an offset, and the XML form", function()
    assert.equal(1694526697, traffic.seconds("/Date(1694526697000)/"))
    assert.equal(1295704800, traffic.seconds("Date(1295704800000)"))
    assert.equal(1694526697.5, traffic.seconds("/Date(1694526697500+0100)/"))
    assert.equal(-1, traffic.seconds("/Date(-1000)/"))
    assert.equal(1309391096.593, traffic.seconds("2011-06-29T23:44:56.593Z"))
    assert.equal(1694526697, traffic.seconds("2023-09-12T13:51:37Z"))
    assert.equal(951782400, traffic.seconds("2000-02-29T00:00:00Z"))
    assert.is_nil(traffic.seconds("yesterday"))
    assert.is_nil(traffic.seconds(nil))
  end)
end)

describe("traffic.incidents on the reference's examples", function()
  local function fixture_client(file)
    return reference.client{key = "TrafficKey-0123456789", body = reference.read("traffic", file)}
  end

  it("decodes get-traffic-incidents.md's answer to the values in it", function()
    local c, sent = fixture_client("get-traffic-incidents.json")
    -- The page's own box (37,-105,45,-94) is past the 10,000 km^2 it documents: refused, so
    -- a box inside it asks for the same answer.
    local _, err = c.traffic.incidents{mapArea = {37, -105, 45, -94}}
    assert.equal("argument", err.kind)
    assert.equal(0, #sent)
    local list = assert(c.traffic.incidents{mapArea = DENVER})
    assert.equal("https://dev.virtualearth.net/REST/v1/Traffic/Incidents/39.6,-105.05,39.8,-104.9"
      .. "?key=TrafficKey-0123456789", (sent[1].url:gsub("%%2C", ",")))
    assert.equal(2, #list)
    assert.equal(1802, list.meta.estimated_total)
    assert.equal("0e2cfdc28b554661b9539c1891244f28|DU00003090|0.0.0.0", list.meta.trace_id)
    local a, b = list[1], list[2]
    assert_id("18558549332008001", a.incidentId)
    assert_id("21366103288104000", b.incidentId)
    assert.same({39.682642, -104.939053}, {a:latlon()})
    assert.same({39.04075549, -94.35559355}, {b:to_latlon()})
    assert.equal("At CO 2/Colorado Boulevard (Denver) at Mile Point 204. Two right lanes are "
      .. "closed due to a crash.", a.description)
    assert.same({203}, a.eventList)
    assert.same({4}, a.alertCCodes)
    assert.equal(99, a.severityScore)
    assert.equal(5, a.source)
    assert.equal(0, a.delay)
    assert.is_true(a.isEndTimeBackfilled)
    assert.is_false(b.isEndTimeBackfilled)
    assert.is_false(a.roadClosed)
    assert.is_true(a.verified)
    assert.equal("Serious", b:severity_name())
    assert.equal("Accident", b:type_name())
    -- The XML twin of the same answer gives these times (StartTimeUTC, EndTimeUTC).
    assert.equal(traffic.seconds("2023-09-12T13:51:37Z"), a:start_time())
    assert.equal(traffic.seconds("2023-09-12T13:24:48Z"), b:start_time())
    assert.equal(traffic.seconds("2023-09-12T15:09:48Z"), b:end_time())
    assert.equal(1694528507.744, b:last_modified())
  end)

  it("decodes traffic-incident-data.md's answer", function()
    local c = fixture_client("traffic-incident-data.json")
    local list = assert(c.traffic.incidents{mapArea = DENVER})
    assert.equal(1, #list)
    assert_id("18558549332008001", list[1].incidentId)
    assert.equal("I-25 N / US-87 N", list[1].title)
    assert.equal("18558549332008001", list:geojson().features[1].id)
  end)
end)

describe("traffic.incidents on odd answers", function()
  local function answer(body)
    local c = bing.new{key = "TrafficKey-0123456789", transport = function()
      return {status = 200, headers = {["content-type"] = "application/json"}, body = body}
    end}
    return c.traffic.incidents{mapArea = DENVER}
  end

  it("reads nulls as nil, numbers written as strings, and times without slashes", function()
    local list = assert(answer([[{"statusCode": 200, "resourceSets": [{"estimatedTotal": 1,
      "resources": [{"__type": "TrafficIncident", "point": {"type": "Point",
      "coordinates": [39.7, -105]}, "toPoint": null, "incidentId": "18558549332008001",
      "severity": "3", "type": " 9 ", "icon": null, "start": "Date(1295704800000)",
      "end": null, "lastModified": "2011-06-29T23:44:56.593Z", "description": null}]}]}]]))
    local inc = list[1]
    assert_id("18558549332008001", inc.incidentId)
    assert.equal(3, inc.severity)
    assert.equal("Moderate", inc:severity_name())
    assert.equal("Construction", inc:type_name())
    assert.is_nil(inc.icon)
    assert.is_nil(inc:icon_name())
    assert.is_nil(inc.description)
    assert.is_nil(inc:to_latlon())
    assert.equal(1295704800, inc:start_time())
    assert.is_nil(inc:end_time())
    assert.equal(1309391096.593, inc:last_modified())
    local f = list:geojson().features[1]
    assert.same({-105, 39.7}, f.geometry.coordinates)
    assert.is_nil(f.properties.toPoint)
    assert.equal("18558549332008001", f.id)
  end)

  it("gives names for the XML form's names and nil for unknown codes", function()
    local list = assert(answer([[{"resourceSets": [{"resources": [{"severity": "Serious",
      "type": 12, "point": null}, 7]}]}]]))
    assert.equal(1, #list)
    assert.equal("Serious", list[1]:severity_name())
    assert.is_nil(list[1]:type_name())
    assert.is_nil(list[1]:latlon())
    assert.equal(require("cjson").null, list[1]:geojson().geometry)
    assert.is_nil(list[1]:geojson().id)
  end)

  it("gives an empty list for an answer without incidents", function()
    assert.equal(0, #assert(answer([[{"resourceSets": [{"estimatedTotal": 0, "resources": []}]}]])))
    assert.equal(0, #assert(answer([[{"resourceSets": []}]])))
  end)
end)
