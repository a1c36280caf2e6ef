-- routes.snap against the emulator: sync up to 100 points, async (POST) up to 1,000, the
-- 2.5 km spacing rule, from both sides.
local cjson = require "cjson"
local socket = require "socket"
local sim = require "support.sim"
local client, last_id = sim.client, sim.last_id
local assert_refused = sim.assert_refused

-- A GPS track of n points, about 120 m apart, wandering north from downtown Seattle.
local function track(n)
  local pts = {}
  for i = 1, n do pts[i] = {47.590868 + i * 0.001, -122.336729 + math.sin(i / 5) * 0.001} end
  return pts
end

local EXAMPLE = {{47.590868, -122.336729}, {47.601604, -122.336042}, {47.60849, -122.34241},
                 {47.610568, -122.345064}}

describe("routes.snap", function()
  -- Faults or jobs left by other spec files must not leak in.
  setup(function() sim.reset() end)

  local c
  before_each(function() c = client() end)

  it("sends the reference's example with GET and decodes the snapped points", function()
    local res = assert(c.routes.snap{points = EXAMPLE, includeSpeedLimit = true, speedUnit = "MPH",
                                     travelMode = "driving"})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Routes/SnapToRoad", req.path)
    assert.equal("47.590868,-122.336729;47.601604,-122.336042;47.60849,-122.34241;47.610568,-122.345064",
      req.query.points)
    assert.equal("true", req.query.includeSpeedLimit)
    assert.equal("MPH", req.query.speedUnit)
    assert.equal(4, #res.snappedPoints)
    for i, sp in ipairs(res.snappedPoints) do
      assert.equal(i - 1, sp.index)
      assert.is_string(sp.name)
      assert.is_number(sp.speedLimit)
      assert.equal("MPH", sp.speedUnit)
      -- Snapped within a few hundred metres of the GPS point.
      assert.near(EXAMPLE[i][1], sp.coordinate.latitude, 0.004)
      assert.near(EXAMPLE[i][2], sp.coordinate.longitude, 0.004)
    end
    assert.equal("Route-SnapToRoad", res.meta.billing.category)
  end)

  it("interpolates between snapped points (index -1) and gives the path", function()
    local res = assert(c.routes.snap{points = EXAMPLE, interpolate = true})
    assert.equal("true", sim.last_request().query.interpolate)
    assert.is_true(#res.snappedPoints > 4)
    local inputs, extra = 0, 0
    for _, sp in ipairs(res.snappedPoints) do
      if sp.index >= 0 then inputs = inputs + 1 else extra = extra + 1 end
      assert.is_nil(sp.speedLimit) -- not requested
    end
    assert.equal(4, inputs)
    assert.is_true(extra > 0)
    assert.equal(#res.snappedPoints, #res:path())
    assert.equal(4, #res:path(true))
    assert.equal(2, res:point(3).index)
    assert.equal("LineString", res:geojson().features[1].geometry.type)
  end)

  it("sends POST when asked, with Bing's body", function()
    assert(c.routes.snap{points = EXAMPLE, includeSpeedLimit = true, method = "POST"})
    local req = sim.last_request()
    assert.equal("POST", req.method)
    local body = cjson.decode(req.body)
    assert.equal(4, #body.points)
    assert.equal(47.590868, body.points[1].latitude)
    assert.is_true(body.includeSpeedLimit)
  end)

  it("snaps 100 points synchronously", function()
    local res = assert(c.routes.snap{points = track(100)})
    assert.equal("/REST/v1/Routes/SnapToRoad", sim.last_request().path)
    assert.equal(100, #res:path(true))
  end)

  it("goes asynchronous with POST above 100 points, and waits", function()
    local c2 = client{headers = {["X-Bingsim-Job-Delay"] = "0.2"},
                      clock = {now = socket.gettime, sleep = function() socket.sleep(0.1) end}}
    local since = last_id()
    local res = assert(c2.routes.snap{points = track(400), includeSpeedLimit = true})
    local log = sim.log(since)
    assert.equal("POST", log[1].method)
    assert.equal("/REST/v1/Routes/SnapToRoadAsync", log[1].path)
    assert.equal(400, #cjson.decode(log[1].body).points)
    assert.equal("/REST/v1/Routes/SnapToRoadAsyncCallback", log[#log].path)
    assert.equal(400, #res:path(true))
    assert.is_true(res.meta.async)
  end)

  it("returns a job with async = true", function()
    local c2 = client{headers = {["X-Bingsim-Job-Delay"] = "0"}}
    local job = assert(c2.routes.snap{points = EXAMPLE, async = true})
    assert.equal("snap", job.kind)
    assert.equal("GET", sim.last_request().method)
    local res = assert(job:wait{timeout = 10})
    assert.equal(4, #res.snappedPoints)
  end)
end)

describe("routes.snap limits", function()
  local c
  before_each(function() c = client() end)

  it("refuses points more than 2.5 km apart before sending", function()
    assert_refused(function()
      return c.routes.snap{points = {{47.59, -122.33}, {47.62, -122.33}}}
    end, "2.5 km")
  end)

  it("refuses 101 points synchronously and 1,001 at all", function()
    assert_refused(function() return c.routes.snap{points = track(101), async = false} end)
    assert_refused(function() return c.routes.snap{points = track(1001)} end)
  end)

  it("refuses unknown speed units and travel modes, and raises on addresses", function()
    local res, err = c.routes.snap{points = EXAMPLE, speedUnit = "knots"}
    assert.is_nil(res)
    assert.equal("argument", err.kind)
    res, err = c.routes.snap{points = EXAMPLE, travelMode = "truck"}
    assert.is_nil(res)
    assert.equal("argument", err.kind)
    assert.has_error(function() c.routes.snap{points = {"Seattle"}} end)
    assert.has_error(function() c.routes.snap{points = EXAMPLE, interpolate = "yes"} end)
  end)

  it("is answered 400 by the emulator for 101 points, for 1,001 async, and for the spacing", function()
    local function pts(n)
      local t = {}
      for i, p in ipairs(track(n)) do t[i] = {latitude = p[1], longitude = p[2]} end
      return t
    end
    local doc, err = c:call{api = "rest", path = "/REST/v1/Routes/SnapToRoad", method = "POST",
                            body = {points = pts(101)}, billing = "Route-SnapToRoad"}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    doc, err = c:call{api = "rest", path = "/REST/v1/Routes/SnapToRoadAsync", method = "POST",
                      body = {points = pts(1001)}, billing = "Route-SnapToRoadAsync"}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    doc, err = c:call{api = "rest", path = "/REST/v1/Routes/SnapToRoad", billing = "Route-SnapToRoad",
                      params = {{"points", "47.59,-122.33;47.62,-122.33"}}}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    assert.matches("2.5 kilometers", err.message)
  end)
end)
