-- routes.isochrone against the emulator: sync and async, rings, GeoJSON, limits.
local cjson = require "cjson"
local sim = require "support.sim"
local client, last_id = sim.client, sim.last_id
local fast_clock, assert_refused = sim.fast_clock, sim.assert_refused

local WACO = {31.520759, -97.133597}

describe("routes.isochrone", function()
  -- Faults or jobs left by other spec files must not leak in.
  setup(function() sim.reset() end)

  local c
  before_each(function() c = client() end)

  it("sends a distance isochrone with GET and decodes closed rings", function()
    -- The reference's synchronous example (50 miles is past the 15 miles it recommends for
    -- synchronous requests, so async = false keeps the library from going asynchronous).
    local iso = assert(c.routes.isochrone{waypoint = WACO, maxDistance = 50, distanceUnit = "mile",
                                          optimize = "distance", async = false})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Routes/Isochrones", req.path)
    assert.equal("31.520759,-97.133597", req.query.waypoint)
    assert.equal("50", req.query.maxDistance)
    assert.equal("mile", req.query.distanceUnit)
    assert.equal("distance", req.query.optimize)
    assert.equal("Route-Isochrone", iso.meta.billing.category)
    local rings = iso:rings()
    assert.equal(1, #rings)
    local ring = rings[1][1]
    assert.is_true(#ring > 10)
    assert.same(ring[1], ring[#ring])
    assert.near(WACO[1], iso.origin.latitude, 1e-9)
  end)

  it("contains its origin and not a point far away", function()
    local iso = assert(c.routes.isochrone{waypoint = WACO, maxDistance = 30, distanceUnit = "km"})
    assert.is_true(iso:contains(WACO[1], WACO[2]))
    assert.is_false(iso:contains(WACO[1] + 1, WACO[2]))
    -- 30 km of road reach farther than 5 km and not as far as 30 km in a straight line.
    assert.is_true(iso:contains(WACO[1] + 5 / 111, WACO[2]))
    assert.is_false(iso:contains(WACO[1] + 30 / 111, WACO[2]))
  end)

  it("gives a GeoJSON Polygon (MultiPolygon for several) in lon, lat order", function()
    local iso = assert(c.routes.isochrone{waypoint = WACO, maxTime = 10, timeUnit = "minute"})
    local q = sim.last_request().query
    assert.equal("10", q.maxTime)
    assert.equal("minute", q.timeUnit)
    local gj = iso:geojson()
    assert.equal("Feature", gj.type)
    local polys = gj.geometry.coordinates
    if #iso.polygons == 1 then
      assert.equal("Polygon", gj.geometry.type)
      polys = {polys}
    else
      assert.equal("MultiPolygon", gj.geometry.type)
    end
    local first = polys[1][1][1]
    assert.near(WACO[2], first[1], 1) -- longitude first
    assert.near(WACO[1], first[2], 1)
    assert.same({latitude = WACO[1], longitude = WACO[2]}, gj.properties.origin)
    assert(require("bing.geojson").validate(gj))
  end)

  it("grows with the time allowed", function()
    local small = assert(c.routes.isochrone{waypoint = WACO, maxTime = 300})
    local big = assert(c.routes.isochrone{waypoint = WACO, maxTime = 1200})
    assert.is_nil(sim.last_request().query.timeUnit) -- default: second
    local function extent(iso)
      local m = 0
      for _, p in ipairs(iso:rings()[1][1]) do m = math.max(m, math.abs(p[1] - WACO[1])) end
      return m
    end
    assert.is_true(extent(big) > 2 * extent(small))
  end)

  it("sends a POST when asked", function()
    assert(c.routes.isochrone{waypoint = WACO, maxDistance = 10, distanceUnit = "mile", method = "POST"})
    local req = sim.last_request()
    assert.equal("POST", req.method)
    local body = cjson.decode(req.body)
    assert.equal("31.520759,-97.133597", body.waypoint)
    assert.equal(10, body.maxDistance)
    assert.equal("mile", body.distanceUnit)
  end)

  it("goes asynchronous by itself beyond 30 minutes, and waits", function()
    local sleeps = {}
    local c2 = client{headers = {["X-Bingsim-Job-Delay"] = "0.2"}, clock = fast_clock(sleeps)}
    local since = last_id()
    local iso = assert(c2.routes.isochrone{waypoint = {47.640068, -122.129858}, maxTime = 45,
      timeUnit = "minute",
                                           dateTime = "2017-11-27T18:00:00-08:00"})
    local log = sim.log(since)
    assert.equal("/REST/v1/Routes/IsochronesAsync", log[1].path)
    assert.equal("/REST/v1/Routes/IsochroneAsyncCallback", log[#log].path)
    assert.is_true(iso.meta.async)
    assert.equal("Route-IsochroneAsync", iso.meta.created.billing.category)
    assert.equal(1, #iso:rings())
    assert.is_true(#sleeps >= 1)
    -- meta.billing is the whole call: the billable job, its status checks and the download.
    local b = iso.meta.billing
    assert.equal(#log, b.requests)
    assert.equal(1, b.billable_transactions)
    assert.equal(1, b.categories["Route-IsochroneAsync"].billable)
    assert.equal(#log - 1, b.categories["Route-IsochroneAsyncCallback"].requests)
    local u = c2:usage()
    assert.equal(u.billable, b.billable_transactions)
    assert.equal(u.requests, b.requests)
  end)

  it("says what a call that went asynchronous by itself cost when its job fails", function()
    local c2 = client{headers = {["X-Bingsim-Job-Delay"] = "0", ["X-Bingsim-Job-Fail"] = "Timeout occurred"},
                      clock = fast_clock({})}
    local iso, err = c2.routes.isochrone{waypoint = WACO, maxTime = 45, timeUnit = "minute"}
    assert.is_nil(iso)
    assert.equal("job", err.kind)
    assert.equal(1, err.billing.billable_transactions)
    assert.equal(c2:usage().requests, err.billing.requests)
  end)

  it("takes timeUnit = \"Minutes\" (the reference's own example) and sends it as given", function()
    -- isochrone-asynchronous-example.md: ...&maxTime=30&timeUnit=Minutes&dateTime=...
    local c2 = client{headers = {["X-Bingsim-Job-Delay"] = "0"}}
    local job = assert(c2.routes.isochrone{waypoint = WACO, maxTime = 30, timeUnit = "Minutes",
                                           async = true})
    assert.equal("Minutes", sim.last_request().query.timeUnit)
    assert(job:wait{timeout = 10})
    -- Read as minutes by the 60-minute limit of asynchronous requests, and by the choice of
    -- the asynchronous API (past 30 minutes).
    local iso, err = c.routes.isochrone{waypoint = WACO, maxTime = 61, timeUnit = "minutes", async = true}
    assert.is_nil(iso)
    assert.equal("argument", err.kind)
    local sleeps = {}
    local c3 = client{headers = {["X-Bingsim-Job-Delay"] = "0"}, clock = fast_clock(sleeps)}
    iso = assert(c3.routes.isochrone{waypoint = WACO, maxTime = 31, timeUnit = "Minutes"})
    assert.is_true(iso.meta.async)
    assert.equal("/REST/v1/Routes/IsochroneAsyncCallback", sim.last_request().path)
  end)

  it("returns a job with async = true, which resumes from its id", function()
    local c2 = client{headers = {["X-Bingsim-Job-Delay"] = "0"}}
    local job = assert(c2.routes.isochrone{waypoint = WACO, maxTime = 5, timeUnit = "minute", async = true})
    assert.equal("isochrone", job.kind)
    local iso = assert(client().routes.job(job.id, "isochrone"):wait{timeout = 10})
    assert.is_true(iso:contains(WACO[1], WACO[2]))
  end)

  it("geocodes an address waypoint through the gazetteer", function()
    local iso = assert(c.routes.isochrone{waypoint = "1 Microsoft Way, Redmond, WA 98052", maxTime = 600})
    assert.near(47.64, iso.origin.latitude, 0.01)
  end)
end)

describe("routes.isochrone limits", function()
  local c
  before_each(function() c = client() end)

  local cases = {
    {"maxTime and maxDistance together", {waypoint = WACO, maxTime = 10, maxDistance = 10}},
    {"more than 60 minutes", {waypoint = WACO, maxTime = 61, timeUnit = "minute"}},
    {"more than 60 minutes in seconds, async", {waypoint = WACO, maxTime = 3700, async = true}},
    {"dateTime with maxDistance", {waypoint = WACO, maxDistance = 10, dateTime = "2017-11-27T18:00:00"}},
    {"optimize=distance with maxTime", {waypoint = WACO, maxTime = 10, optimize = "distance"}},
    {"optimize=time with maxDistance", {waypoint = WACO, maxDistance = 10, optimize = "time"}},
    {"a travel mode other than driving", {waypoint = WACO, maxTime = 10, travelMode = "Walking"}},
    {"a negative time", {waypoint = WACO, maxTime = -5}},
    {"timeUnit without maxTime", {waypoint = WACO, maxDistance = 5, timeUnit = "second"}},
  }
  for _, case in ipairs(cases) do
    it("refuses " .. case[1] .. " before sending", function()
      assert_refused(function() return c.routes.isochrone(case[2]) end)
    end)
  end

  it("accepts travelMode Driving and does not send the retired parameter", function()
    assert(c.routes.isochrone{waypoint = WACO, maxTime = 300, travelMode = "Driving"})
    assert.is_nil(sim.last_request().query.travelMode)
  end)

  it("raises without a waypoint or a limit, and on unknown options", function()
    assert.has_error(function() c.routes.isochrone{maxTime = 10} end)
    assert.has_error(function() c.routes.isochrone{waypoint = WACO} end)
    assert.has_error(function() c.routes.isochrone{waypoint = WACO, maxTime = 10, maxtime = 3} end)
  end)

  it("is answered 400 by the emulator for 61 minutes asynchronously, and for both limits", function()
    local doc, err = c:call{api = "rest", path = "/REST/v1/Routes/IsochronesAsync",
      billing = "Route-IsochroneAsync",
      params = {{"waypoint", "31.52,-97.13"}, {"maxTime", "61"}, {"timeUnit", "minute"}}}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    assert.matches("60 minutes", err.message)
    doc, err = c:call{api = "rest", path = "/REST/v1/Routes/Isochrones", billing = "Route-Isochrone",
      params = {{"waypoint", "31.52,-97.13"}, {"maxTime", "10"}, {"maxDistance", "10"}}}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    -- dateTime: "This is not supported for distance based queries."
    doc, err = c:call{api = "rest", path = "/REST/v1/Routes/Isochrones", billing = "Route-Isochrone",
      params = {{"waypoint", "31.52,-97.13"}, {"maxDistance", "10"}, {"dateTime", "2017-11-27T18:00:00"}}}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    assert.matches("dateTime", err.message)
  end)
end)
