-- routes.major_roads against the emulator.
local sim = require "support.sim"
local client = sim.client
local assert_refused = sim.assert_refused

describe("routes.major_roads", function()
  -- Faults or jobs left by other spec files must not leak in.
  setup(function() sim.reset() end)

  local c
  before_each(function() c = client() end)

  it("asks for routes to a destination and returns four starting points and routes", function()
    local routes = assert(c.routes.major_roads{destination = {47.6062, -122.3321},
      routeAttributes = "routePath"})
    local req = sim.last_request()
    assert.equal("/REST/v1/Routes/FromMajorRoads", req.path)
    assert.equal("47.6062,-122.3321", req.query.destination)
    assert.equal("routePath", req.query.routeAttributes)
    assert.equal(4, #routes.startingPoints)
    assert.equal(4, #routes)
    for i, r in ipairs(routes) do
      local lat, lon = routes.startingPoints[i]:latlon()
      local path = assert(r:path())
      assert.near(lat, path[1][1], 1e-6)
      assert.near(lon, path[1][2], 1e-6)
      assert.near(47.6062, path[#path][1], 1e-6)
      assert.equal(1, #r:legs())
    end
    assert.equal("RESTRoutes", routes.meta.billing.category)
    assert.equal(1, routes.meta.billing.transactions)
  end)

  it("returns the starting points only with exclude = \"routes\"", function()
    local routes = assert(c.routes.major_roads{destination = {47.6062, -122.3321}, exclude = true,
                                               distanceUnit = "mi"})
    local q = sim.last_request().query
    assert.equal("routes", q.exclude)
    assert.equal("mi", q.distanceUnit)
    assert.equal(0, #routes)
    assert.equal(4, #routes.startingPoints)
  end)

  it("refuses bad values before sending and raises on unknown options", function()
    assert_refused(function()
      return c.routes.major_roads{destination = {47.6, -122.3}, exclude = "everything"}
    end)
    assert_refused(function() return c.routes.major_roads{destination = {95, -122.3}} end)
    assert.has_error(function() c.routes.major_roads{} end)
    assert.has_error(function() c.routes.major_roads{destination = {47.6, -122.3},
      travelMode = "Walking"} end)
  end)
end)
