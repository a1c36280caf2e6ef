-- routes.calc against the emulator: what is sent, what comes back, and the split of long
-- routes checked leg by leg against the unsplit route the emulator computes.
local bing = require "bing"
local cjson = require "cjson"
local rt = require "bing.api.route_types"
local sim = require "support.sim"
local client, last_id = sim.client, sim.last_id
local assert_refused = sim.assert_refused

-- A line of n waypoints heading north-east from Seattle, about 2 km apart.
local function line(n)
  local wps = {}
  for i = 1, n do wps[i] = {47.45 + i * 0.012, -122.35 + i * 0.009 + (i % 3) * 0.002} end
  return wps
end

local function is_argument(err)
  assert.is_table(err)
  assert.equal("argument", err.kind)
end

describe("routes.calc", function()
  -- Faults or jobs left by other spec files must not leak in.
  setup(function() sim.reset() end)

  local c
  before_each(function() c = client() end)

  it("sends a GET with wp.N and decodes one Route with Bing's fields", function()
    local routes = assert(c.routes.calc{waypoints = {{47.6062, -122.3321}, {47.6740, -122.1215}}})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Routes/Driving", req.path)
    assert.equal("47.6062,-122.3321", req.query["wp.0"])
    assert.equal("47.674,-122.1215", req.query["wp.1"])
    assert.equal("<redacted>", req.query.key)
    assert.equal(1, #routes)
    local r = routes[1]
    assert.equal("Kilometer", r.distanceUnit)
    assert.equal("Second", r.durationUnit)
    assert.is_true(r.travelDistance > 15 and r.travelDistance < 40)
    assert.is_true(r.travelDuration > 600)
    assert.equal(1, #r:legs())
    assert.equal(4, #r.bbox)
    assert.equal("RESTRoutes", routes.meta.billing.category)
    assert.equal(1, routes.meta.billing.transactions)
    assert.equal(200, routes.meta.status)
  end)

  it("sends every documented option under its Bing name", function()
    assert(c.routes.calc{waypoints = {{47.6, -122.33}, {47.7, -122.2}}, avoid = {"tolls", "ferry"},
      heading = 90, optimize = "timeWithTraffic", routeAttributes = {"routePath", "excludeItinerary"},
      tolerances = {0.0001, 0.001}, distanceUnit = "mi", dateTime = "03/01/2024 05:42:00",
      distanceBeforeFirstTurn = 500, itineraryGroups = true, userIp = "127.0.0.1",
      userRegion = "us", culture = "fr-FR", userLocation = {47.6, -122.3},
      userMapView = {47.5, -122.4, 47.7, -122.1}})
    local q = sim.last_request().query
    assert.equal("tolls,ferry", q.avoid)
    assert.equal("90", q.heading)
    assert.equal("timeWithTraffic", q.optimize)
    assert.equal("routePath,excludeItinerary", q.routeAttributes)
    assert.equal("0.0001,0.001", q.tolerances)
    assert.equal("mi", q.distanceUnit)
    assert.equal("03/01/2024 05:42:00", q.dateTime)
    assert.equal("500", q.distanceBeforeFirstTurn)
    assert.equal("true", q.itineraryGroups)
    assert.equal("127.0.0.1", q.userIp)
    assert.equal("US", q.userRegion)
    assert.equal("fr-FR", q.culture)
    assert.equal("47.6,-122.3", q.userLocation)
    assert.equal("47.5,-122.4,47.7,-122.1", q.userMapView)
  end)

  it("gives distances in miles when asked", function()
    local km = assert(c.routes.calc{waypoints = {{47.6, -122.33}, {47.7, -122.2}}})[1]
    local mi = assert(c.routes.calc{waypoints = {{47.6, -122.33}, {47.7, -122.2}}, distanceUnit = "Mile"})[1]
    assert.equal("Mile", mi.distanceUnit)
    assert.near(km.travelDistance / 1.609344, mi.travelDistance, 0.01)
  end)

  it("sends viaWaypoints as vwp.N: one leg, one sub-leg per via segment", function()
    local routes = assert(c.routes.calc{waypoints = {{47.60, -122.33}, {47.65, -122.25, via = true},
                                                     {47.70, -122.20}}})
    local q = sim.last_request().query
    assert.equal("47.65,-122.25", q["vwp.1"])
    assert.equal("47.7,-122.2", q["wp.2"])
    local leg = routes[1]:legs()[1]
    assert.equal(1, #routes[1]:legs())
    assert.equal(2, #leg.routeSubLegs)
    assert.is_true(leg.routeSubLegs[1].endWaypoint.isVia)
  end)

  it("returns the route path and its generalizations per tolerance", function()
    local r = assert(c.routes.calc{waypoints = {{47.60, -122.33}, {47.70, -122.20}},
                                   routeAttributes = "routePath", tolerances = {0.00001, 0.001}})[1]
    local full = assert(r:path())
    assert.is_true(#full > 20)
    assert.near(47.60, full[1][1], 1e-6)
    assert.near(-122.20, full[#full][2], 1e-6)
    local coarse = assert(r:path(0.001))
    local fine = assert(r:path(0.00001))
    assert.is_true(#coarse < #fine)
    assert.is_true(#fine <= #full)
    assert.same(full[1], coarse[1])
    assert.same(full[#full], coarse[#coarse])
    local gj = r:geojson().features[1] -- the route's line, then legs and maneuvers
    assert.equal("LineString", gj.geometry.type)
    assert.equal(#full, #gj.geometry.coordinates)
    assert.near(-122.33, gj.geometry.coordinates[1][1], 1e-6) -- [lon, lat]
  end)

  it("says when there is no route path", function()
    local r = assert(c.routes.calc{waypoints = {{47.60, -122.33}, {47.70, -122.20}}})[1]
    local p, msg = r:path()
    assert.is_nil(p)
    assert.matches("routePath", msg)
    assert.is_true(r:geojson().features[1].properties.approximate)
  end)

  it("lists instructions with maneuver types across legs", function()
    local r = assert(c.routes.calc{waypoints = {{47.60, -122.33}, {47.65, -122.25}, {47.70, -122.20}},
                                   optimize = "timeWithTraffic"})[1]
    local ins = r:instructions()
    assert.is_true(#ins >= 4)
    assert.equal("DepartStart", ins[1].maneuverType)
    assert.equal(1, ins[1].leg)
    assert.equal("ArriveFinish", ins[#ins].maneuverType)
    assert.equal(2, ins[#ins].leg)
    local inter = 0
    for _, i in ipairs(ins) do
      if i.maneuverType == "ArriveIntermediate" then inter = inter + 1 end
      assert.is_string(i.text)
      assert.equal(2, #i.point)
    end
    assert.equal(1, inter)
  end)

  it("asks for Walking routes on their own path", function()
    local r = assert(c.routes.calc{waypoints = {{47.60, -122.33}, {47.61, -122.32}},
      travelMode = "walking"})[1]
    assert.equal("/REST/v1/Routes/Walking", sim.last_request().path)
    -- About 5 km/h.
    assert.near(r.travelDistance / (r.travelDuration / 3600), 5, 0.5)
  end)

  it("calculates Transit routes with dateTime and timeType", function()
    local routes = assert(c.routes.calc{waypoints = {{37.8199, -122.4783}, {37.8080, -122.4177}},
      travelMode = "Transit", dateTime = "3:00:00PM", timeType = "Departure"})
    local q = sim.last_request().query
    assert.equal("/REST/v1/Routes/Transit", sim.last_request().path)
    assert.equal("Departure", q.timeType)
    local leg = routes[1]:legs()[1]
    assert.matches("^/Date%(%d+[-+]%d%d%d%d%)/$", leg.startTime)
    local took = false
    for _, i in ipairs(routes[1]:instructions()) do
      if i.maneuverType == "TakeTransit" then took = i.item.transitLine ~= nil end
    end
    assert.is_true(took)
  end)

  it("refuses a Transit route without dateTime/timeType, sending nothing", function()
    assert_refused(function()
      return c.routes.calc{waypoints = {{37.82, -122.48}, {37.81, -122.42}}, travelMode = "Transit"}
    end)
  end)

  it("returns up to maxSolutions routes", function()
    local routes = assert(c.routes.calc{waypoints = {{40.7128, -74.0060}, {39.9526, -75.1652}},
      maxSolutions = 3})
    assert.equal("3", sim.last_request().query.maxSolutions)
    assert.equal(3, #routes)
    assert.is_true(routes[2].travelDistance > routes[1].travelDistance)
  end)

  it("optimizes the order of waypoints and reports it", function()
    local routes = assert(c.routes.calc{waypoints = {{47.60, -122.34}, {47.66, -122.35}, {47.65, -122.30},
                                                     {47.61, -122.33}, {47.67, -122.38}},
                                        optimizeWaypoints = true})
    assert.equal("true", sim.last_request().query.optimizeWaypoints)
    local order = routes[1].waypointsOrder
    assert.equal(5, #order)
    assert.equal("wp.0", order[1])
    assert.equal("wp.4", order[5])
  end)

  it("geocodes address and landmark waypoints through the gazetteer", function()
    local routes, err = c.routes.calc{waypoints = {"Space Needle",
      {address = "1 Microsoft Way, Redmond, WA 98052"}}}
    assert.is_nil(err)
    local q = sim.last_request().query
    assert.equal("Space Needle", q["wp.0"])
    local leg = routes[1]:legs()[1]
    assert.is_table(leg.startLocation)
    assert.near(47.6205, leg.actualStart.coordinates[1], 0.01)
  end)

  it("takes a Location from locations.find as a waypoint: its point", function()
    local locs = assert(c.locations.find{q = "Space Needle"})
    assert(c.routes.calc{waypoints = {locs[1], {47.6405, -122.1297}}})
    local lat, lon = locs[1]:latlon()
    assert.equal(string.format("%s,%s", lat, lon), sim.last_request().query["wp.0"])
  end)

  it("passes the service's 404 for an unknown place", function()
    local r, err = c.routes.calc{waypoints = {"Nowhere-at-all-xyzzy", {47.6, -122.3}}}
    assert.is_nil(r)
    assert.equal("http", err.kind)
    assert.equal(404, err.status)
  end)
end)

describe("routes.calc limits", function()
  local c
  before_each(function() c = client() end)

  local cases = {
    {"more than 10 vias between two waypoints", function()
      local w = {{47.5, -122.3}}
      for i = 1, 11 do w[#w + 1] = {47.5 + i * 0.005, -122.3, via = true} end
      w[#w + 1] = {47.6, -122.3}
      return {waypoints = w}
    end},
    {"a via start", function() return {waypoints = {{47.5, -122.3, via = true}, {47.6, -122.3}}} end},
    {"a via end", function() return {waypoints = {{47.5, -122.3}, {47.6, -122.3}, {47.7, -122.3,
      via = true}}} end},
    {"8 tolerances", function()
      return {waypoints = line(2), routeAttributes = "routePath", tolerances = {1, 2, 3, 4, 5, 6, 7, 8}}
    end},
    {"tolerances without a route path", function() return {waypoints = line(2), tolerances = {0.1}} end},
    {"heading 360", function() return {waypoints = line(2), heading = 360} end},
    {"maxSolutions 4", function() return {waypoints = line(2), maxSolutions = 4} end},
    {"maxSolutions with three waypoints", function() return {waypoints = line(3), maxSolutions = 2} end},
    {"maxSolutions with avoid", function() return {waypoints = line(2), maxSolutions = 2,
      avoid = "tolls"} end},
    {"optimizeWaypoints with two waypoints", function() return {waypoints = line(2),
      optimizeWaypoints = true} end},
    {"optimizeWaypoints with vias", function()
      return {waypoints = {{47.5, -122.3}, {47.55, -122.3, via = true}, {47.6, -122.3}, {47.7, -122.3}},
              optimizeWaypoints = true}
    end},
    {"optimizeWaypoints across a split", function() return {waypoints = line(30),
      optimizeWaypoints = true} end},
    {"split = false with 26 waypoints", function() return {waypoints = line(26), split = false} end},
    {"routeSummariesOnly with three waypoints", function()
      return {waypoints = line(3), routeAttributes = "routeSummariesOnly"}
    end},
    {"an unknown avoid value", function() return {waypoints = line(2), avoid = "potholes"} end},
    {"a latitude out of range", function() return {waypoints = {{91, 0}, {47, -122}}} end},
  }
  for _, case in ipairs(cases) do
    it("refuses " .. case[1] .. " before sending", function()
      assert_refused(function() return c.routes.calc(case[2]()) end)
    end)
  end

  it("raises on unknown options and wrong types", function()
    assert.has_error(function() c.routes.calc{waypoints = line(2), travelmode = "Driving"} end)
    assert.has_error(function() c.routes.calc{waypoints = "Seattle"} end)
    assert.has_error(function() c.routes.calc{} end)
    assert.has_error(function() c.routes.calc{waypoints = line(2), heading = "east"} end)
    local ok, err = pcall(c.routes.calc, {waypoints = line(2), bogus = 1})
    assert.is_false(ok)
    assert.equal("argument", err.kind)
  end)

  -- The emulator rejects what the client refuses: the same limits from the other side.
  local function raw(spec)
    spec.api, spec.billing, spec.method = "rest", spec.billing or "RESTRoutes", spec.method or "GET"
    return c:call(spec)
  end

  it("is answered 400 by the emulator for 26 waypoints", function()
    local params = {}
    for i, w in ipairs(line(26)) do params[i] = {"wp." .. (i - 1), w[1] .. "," .. w[2]} end
    local doc, err = raw{path = "/REST/v1/Routes/Driving", params = params}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    assert.matches("25 waypoints", err.message)
  end)

  it("is answered 400 by the emulator for 11 vias, 8 tolerances, maxSolutions 4", function()
    local params = {{"wp.0", "47.5,-122.3"}}
    for i = 1, 11 do params[#params + 1] = {"vwp." .. i, (47.5 + i * 0.005) .. ",-122.3"} end
    params[#params + 1] = {"wp.12", "47.6,-122.3"}
    local _, err = raw{path = "/REST/v1/Routes/Driving", params = params}
    assert.equal(400, err.status)
    _, err = raw{path = "/REST/v1/Routes/Driving", params = {{"wp.0", "47.5,-122.3"}, {"wp.1", "47.6,-122.3"},
      {"ra", "routePath"}, {"tl", "1,2,3,4,5,6,7,8"}}}
    assert.equal(400, err.status)
    assert.matches("tolerances", err.message)
    _, err = raw{path = "/REST/v1/Routes/Driving", params = {{"wp.0", "47.5,-122.3"}, {"wp.1", "47.6,-122.3"},
      {"maxSolns", "4"}}}
    assert.equal(400, err.status)
    assert.matches("maxSolutions", err.message)
  end)
end)

describe("routes.calc rules that name a travel mode", function()
  local c
  before_each(function() c = client() end)
  local A, B, C = "47.5,-122.3", "47.55,-122.3", "47.6,-122.3"

  -- Each rule: the library refuses it before sending, and the emulator answers it 400.
  local cases = {
    {"optimizeWaypoints for Walking",
     {waypoints = line(3), travelMode = "Walking", optimizeWaypoints = true},
     "/REST/v1/Routes/Walking", {{"wp.0", A}, {"wp.1", B}, {"wp.2", C}, {"optimizeWaypoints", "true"}}},
    {"timeWithTraffic for Walking",
     {waypoints = line(2), travelMode = "Walking", optimize = "timeWithTraffic"},
     "/REST/v1/Routes/Walking", {{"wp.0", A}, {"wp.1", B}, {"optimize", "timeWithTraffic"}}},
    {"distanceBeforeFirstTurn for Walking", {waypoints = line(2), travelMode = "Walking",
                                             distanceBeforeFirstTurn = 500},
     "/REST/v1/Routes/Walking", {{"wp.0", A}, {"wp.1", B}, {"dbft", "500"}}},
    {"optimize=distance for a truck", {waypoints = line(2), travelMode = "Truck", optimize = "distance"},
     "/REST/v1/Routes/Truck", {{"wp.0", A}, {"wp.1", B}, {"optimize", "distance"}}},
  }
  for _, case in ipairs(cases) do
    it("refuses " .. case[1] .. ", and so does the emulator", function()
      assert_refused(function() return c.routes.calc(case[2]) end)
      local doc, rerr = c:call{api = "rest", path = case[3], params = case[4], billing = "RESTRoutes"}
      assert.is_nil(doc)
      assert.equal(400, rerr.status)
    end)
  end

  it("lets the emulator take timeWithTraffic and optimizeWaypoints for trucks", function()
    assert(c.routes.calc{waypoints = line(3), travelMode = "Truck", optimize = "timeWithTraffic",
                         optimizeWaypoints = true})
    assert.equal("/REST/v1/Routes/Truck", sim.last_request().path)
  end)
end)

describe("routes.calc with more than 25 waypoints", function()
  local c
  before_each(function() c = client() end)

  -- The same route in one request: the emulator's test switch lifts its 25-waypoint limit.
  local function unsplit(wps, extra)
    local params = {}
    for i, w in ipairs(wps) do params[i] = {"wp." .. (i - 1), w[1] .. "," .. w[2]} end
    for _, p in ipairs(extra or {}) do params[#params + 1] = p end
    local nl = client{headers = {["X-Bingsim-No-Limits"] = "1"}}
    local doc = assert(nl:call{api = "rest", path = "/REST/v1/Routes/Driving", params = params,
                               billing = "RESTRoutes"})
    return rt.routes(doc)[1]
  end

  it("splits 30 waypoints into 2 requests sharing waypoint 25, and merges 29 legs", function()
    local wps = line(30)
    local since = last_id()
    local routes = assert(c.routes.calc{waypoints = wps, routeAttributes = "routePath",
      tolerances = {0.0005}})
    local log = sim.log(since)
    assert.equal(2, #log)
    assert.equal(wps[1][1] .. "," .. wps[1][2], log[1].query["wp.0"])
    assert.equal(wps[25][1] .. "," .. wps[25][2], log[1].query["wp.24"])
    assert.is_nil(log[1].query["wp.25"])
    -- The second request starts where the first ended: the shared waypoint, not a new one.
    assert.equal(wps[25][1] .. "," .. wps[25][2], log[2].query["wp.0"])
    assert.equal(wps[30][1] .. "," .. wps[30][2], log[2].query["wp.5"])
    assert.is_nil(log[2].query["wp.6"])

    assert.equal(1, #routes)
    local r = routes[1]
    assert.equal(29, #r:legs())
    assert.is_true(routes.meta.split)
    assert.equal(2, routes.meta.requests)
    assert.equal(2, routes.meta.billing.transactions)
    assert.equal("RESTRoutes", routes.meta.billing.category)

    local ref = unsplit(wps, {{"ra", "routePath"}, {"tl", "0.0005"}})
    assert.equal(#ref:legs(), #r:legs())
    for i, leg in ipairs(ref:legs()) do
      local got = r:legs()[i]
      assert.equal(leg.travelDistance, got.travelDistance)
      assert.equal(leg.travelDuration, got.travelDuration)
      assert.same(leg.actualStart, got.actualStart)
      assert.same(leg.actualEnd, got.actualEnd)
      assert.same(leg.routeSubLegs, got.routeSubLegs)
      assert.equal(#leg.itineraryItems, #got.itineraryItems)
      for k, item in ipairs(leg.itineraryItems) do
        assert.same(item.instruction, got.itineraryItems[k].instruction)
        assert.same(item.details, got.itineraryItems[k].details)
      end
    end
    assert.near(ref.travelDistance, r.travelDistance, 1e-6)
    assert.near(ref.travelDuration, r.travelDuration, 1e-6)
    assert.same(ref.bbox, r.bbox)
    assert.same(ref:path(), r:path())
    assert.same(ref.routePath.generalizations, r.routePath.generalizations)
  end)

  it("needs 3 requests for 50 waypoints and 2 for 49", function()
    local since = last_id()
    local r49 = assert(c.routes.calc{waypoints = line(49)})
    assert.equal(2, #sim.log(since))
    assert.equal(48, #r49[1]:legs())
    since = last_id()
    local r50 = assert(c.routes.calc{waypoints = line(50)})
    assert.equal(3, #sim.log(since))
    assert.equal(49, #r50[1]:legs())
    assert.equal(3, r50.meta.requests)
  end)

  it("keeps via waypoints with their leg when splitting", function()
    local wps = line(27)
    table.insert(wps, 25, {47.80, -122.14, via = true}) -- between stops 24 and 25
    local since = last_id()
    local routes = assert(c.routes.calc{waypoints = wps})
    local log = sim.log(since)
    assert.equal(2, #log)
    assert.equal("47.8,-122.14", log[1].query["vwp.24"])
    assert.equal(26, #routes[1]:legs())
    assert.equal(2, #routes[1]:legs()[24].routeSubLegs)
  end)

  it("prices a split in a dry run without sending", function()
    local since = last_id()
    local est = assert(c.routes.calc{waypoints = line(60), dry_run = true})
    assert.equal(0, #sim.log(since))
    assert.is_true(est.dry_run)
    assert.equal(3, est.requests)
    assert.equal(3, est.billing.transactions)
    assert.equal(3, #est.urls)
  end)

  it("bills each request, and the emulator's ledger agrees with the meter", function()
    sim.reset()
    local c2 = client()
    assert(c2.routes.calc{waypoints = line(30)})
    local led = sim.ledger().SIM_KEY.RESTRoutes
    assert.equal(2, led.requests)
    assert.equal(2, led.billable)
    assert.equal(2, c2:usage().categories.RESTRoutes.billable)
  end)

  it("says what the parts cost when one of them returns no route", function()
    -- The first part through the emulator, the second answered with no route at all.
    local n = 0
    local h = require("bing.core").http{}
    local t = function(req)
      n = n + 1
      if n == 2 then
        return {status = 200, headers = {}, body = cjson.encode{statusCode = 200,
          resourceSets = {{estimatedTotal = 0, resources = {}}}}}
      end
      return h:perform(req)
    end
    local c2 = bing.new{key = sim.key, base_url = sim.url, transport = t}
    local routes, err = c2.routes.calc{waypoints = line(30)}
    h:close()
    assert.is_nil(routes)
    assert.equal("decode", err.kind)
    assert.equal(2, err.part)
    assert.equal(2, err.billing.transactions)
    assert.equal(2, err.attempts)
    assert.equal(c2:usage().billable, err.billing.transactions)
  end)
end)

describe("routes.calc for trucks", function()
  local c
  before_each(function() c = client() end)

  local vehicle = {dimensionUnit = "ft", weightUnit = "lb", vehicleHeight = 13.5, vehicleWidth = 8.5,
                   vehicleLength = 53, vehicleWeight = 70000, vehicleAxles = 5, vehicleTrailers = 1,
                   vehicleSemi = true, vehicleHazardousMaterials = {"Flammable", "Cr"}}

  it("sends vehicle attributes with GET and bills 3 Route-Truck transactions", function()
    local routes = assert(c.routes.calc{waypoints = {{40.4259, -80.0076}, {40.4365, -79.9929}},
                                        travelMode = "Truck", vehicle = vehicle})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Routes/Truck", req.path)
    assert.equal("13.5", req.query.vehicleHeight)
    assert.equal("70000", req.query.vehicleWeight)
    assert.equal("5", req.query.vehicleAxles)
    assert.equal("true", req.query.vehicleSemi)
    assert.equal("Flammable,Cr", req.query.vehicleHazardousMaterials)
    assert.equal("ft", req.query.dimensionUnit)
    assert.equal("Route-Truck", routes.meta.billing.category)
    assert.equal(3, routes.meta.billing.transactions)
    local warned = false
    for _, i in ipairs(routes[1]:instructions()) do
      for _, w in ipairs(i.warningTypes) do if w == "Other" then warned = true end end
    end
    assert.is_true(warned)
  end)

  it("sends a POST with waypoints and vehicleSpec when asked", function()
    assert(c.routes.calc{waypoints = {{40.4259, -80.0076}, {40.43, -80.0, via = true}, {40.4365, -79.9929}},
                         travelMode = "Truck", vehicle = vehicle, method = "POST",
                           routeAttributes = "routePath",
                         tolerances = {0.001}})
    local req = sim.last_request()
    assert.equal("POST", req.method)
    assert.equal("/REST/v1/Routes/Truck", req.path)
    assert.is_nil(req.query["wp.0"])
    local body = cjson.decode(req.body)
    assert.equal(3, #body.waypoints)
    assert.equal(40.4259, body.waypoints[1].latitude)
    assert.is_true(body.waypoints[2].isViaPoint)
    assert.equal(70000, body.vehicleSpec.vehicleWeight)
    assert.equal("Flammable,Cr", body.vehicleSpec.vehicleHazardousMaterials)
    assert.is_true(body.vehicleSpec.vehicleSemi)
    assert.same({0.001}, body.tolerances)
    assert.equal("routePath", body.routeAttributes)
  end)

  it("measures the URL it would send with the real key, not the redacted one", function()
    -- "<redacted>" is shorter than a key: a URL just under 2083 characters redacted is over
    -- it as sent, and must go as POST.
    local function wps(pad)
      return {"Seattle " .. string.rep("a", pad), {47.61, -122.33}}
    end
    local plan = assert(c.routes.calc{waypoints = wps(0), travelMode = "Truck", dry_run = true})
    local pad = 2083 - #plan.url - 5
    assert.is_true(pad > 0)
    local since = last_id()
    c.routes.calc{waypoints = wps(pad), travelMode = "Truck"}
    local req = sim.log(since)[1]
    assert.is_true(#sim.key > #"<redacted>")
    assert.equal("POST", req.method)
  end)

  it("keeps culture, the user context and itineraryGroups in the query of a POST", function()
    assert(c.routes.calc{waypoints = {{40.4259, -80.0076}, {40.4365, -79.9929}}, travelMode = "Truck",
                         method = "POST", culture = "en-GB", userLocation = {40.44, -80.0},
                         userMapView = {40.4, -80.1, 40.5, -79.9}, userIp = "127.0.0.1",
                         userRegion = "us", itineraryGroups = true})
    local req = sim.last_request()
    assert.equal("POST", req.method)
    assert.equal("en-GB", req.query.culture)
    assert.equal("40.44,-80", req.query.userLocation)
    assert.equal("40.4,-80.1,40.5,-79.9", req.query.userMapView)
    assert.equal("127.0.0.1", req.query.userIp)
    assert.equal("US", req.query.userRegion)
    assert.equal("true", req.query.itineraryGroups)
    local body = cjson.decode(req.body)
    assert.is_nil(body.culture)
    assert.is_nil(body.userLocation)
  end)

  it("switches to POST by itself when the URL would pass 2083 characters", function()
    local wps = {}
    for i = 1, 25 do
      wps[i] = {address = string.format("%d Long Street Name Boulevard, Suite %d, Pittsburgh, PA 152%02d", i,
        i, i)}
    end
    local r, err = c.routes.calc{waypoints = wps, travelMode = "Truck", dry_run = true}
    assert.is_nil(err)
    assert.equal("POST", r.method)
  end)

  it("counts vias in the 25 points of a truck request when splitting", function()
    local wps = line(20)
    for i = 1, 10 do table.insert(wps, 2 * i, {wps[2 * i][1] + 0.001, wps[2 * i][2], via = true}) end
    local since = last_id()
    local routes = assert(c.routes.calc{waypoints = wps, travelMode = "Truck"})
    local log = sim.log(since)
    assert.equal(2, #log)
    for _, e in ipairs(log) do
      local n = 0
      for k in pairs(e.query) do if k:match("^v?wp%.") then n = n + 1 end end
      assert.is_true(n <= 25)
    end
    assert.equal(19, #routes[1]:legs())
    assert.equal(6, routes.meta.billing.transactions)
  end)

  it("calculates asynchronously: a job, polled non-billable, then the route", function()
    local sleeps = {}
    local socket = require "socket"
    local c2 = client{headers = {["X-Bingsim-Job-Delay"] = "0.3"},
                      clock = {now = socket.gettime, sleep = function(s)
                        sleeps[#sleeps + 1] = s
                        socket.sleep(0.1)
                      end}}
    local job = assert(c2.routes.calc{waypoints = {{40.4259, -80.0076}, {40.4365, -79.9929}},
                                      travelMode = "Truck",
                                        vehicle = {vehicleHazardousMaterials = "Flammable"},
                                      async = true})
    assert.equal("/REST/v1/Routes/TruckAsync", sim.last_request().path)
    assert.is_string(job.id)
    assert.equal("truck", job.kind)
    assert.is_false(job:done())
    assert.matches("key=<redacted>", job.status.resource.callbackUrl)
    local since = last_id()
    local routes = assert(job:wait{timeout = 20})
    assert.equal(1, #routes)
    assert.is_true(routes[1].travelDistance > 0)
    -- Every wait was what the service said (callbackInSeconds), not a guess.
    assert.is_true(#sleeps >= 1)
    for _, s in ipairs(sleeps) do assert.equal(1, s) end
    local log = sim.log(since)
    for _, e in ipairs(log) do
      assert.equal("/REST/v1/Routes/TruckAsyncCallback", e.path)
      assert.equal(job.id, e.query.requestId)
    end
    assert.equal("true", log[#log].query.DownloadResult)
    local usage = c2:usage().categories
    assert.equal(3, usage["Route-TruckAsync"].billable)
    assert.equal(0, usage["Route-TruckAsyncCallback"].billable)
    assert.equal(#log, usage["Route-TruckAsyncCallback"].requests)
  end)

  it("never repeats an asynchronous truck POST after an answer was lost: it creates a job", function()
    -- A 500 may come after the job was made; a second POST would make (and bill) another.
    local c2 = client{retry = {base = 0}}
    for _, m in ipairs{"POST", "GET"} do
      sim.fault{fault = "500", path = "/REST/v1/Routes/TruckAsync", times = 1}
      local since = last_id()
      local job, err = c2.routes.calc{waypoints = {{40.4259, -80.0076}, {40.4365, -79.9929}},
                                      travelMode = "Truck", method = m, async = true}
      assert.is_nil(job, m)
      assert.equal(500, err.status, m)
      assert.equal(1, err.attempts, m)
      assert.equal(1, #sim.log(since), m)
      assert.equal(m, sim.log(since)[1].method)
    end
    sim.clear_faults()
  end)

  it("refuses retired and unknown vehicle attributes", function()
    assert.has_error(function()
      c.routes.calc{waypoints = line(2), travelMode = "Truck", vehicle = {vehicleHazardousPermits = "E"}}
    end)
    assert.has_error(function()
      c.routes.calc{waypoints = line(2), travelMode = "Truck", vehicle = {axles = 3}}
    end)
    local r, err = c.routes.calc{waypoints = line(2), travelMode = "Truck",
                                 vehicle = {vehicleHazardousMaterials = "flammable"}}
    assert.is_nil(r)
    is_argument(err)
    r, err = c.routes.calc{waypoints = line(2), vehicle = {vehicleAxles = 3}}
    assert.is_nil(r)
    is_argument(err)
    r, err = c.routes.calc{waypoints = line(30), travelMode = "Truck", async = true}
    assert.is_nil(r)
    is_argument(err)
  end)
end)
