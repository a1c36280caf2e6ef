-- elevations.list (get-elevations.md) on the endpoint layer: what is sent, what comes back,
-- the POST form, the documented limits from both sides, and the reference's example answer.
local bing = require "bing"
local sim = require "support.sim"

local function client(opts)
  opts = opts or {}
  opts.key = opts.key or sim.key
  opts.base_url = opts.base_url or sim.url
  return bing.new(opts)
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- The reference's example points (get-elevations.md, "Examples").
local EXAMPLE = {{35.89431, -110.72522}, {35.89393, -110.72578}, {35.89374, -110.72606},
                 {35.89337, -110.72662}}
local EXAMPLE_TEXT = "35.89431,-110.72522,35.89393,-110.72578,35.89374,-110.72606,35.89337,-110.72662"

describe("elevations.list", function()
  local c
  before_each(function() c = client() end)

  it("sends the points as the template's plain list and decodes the emulator's model", function()
    local e = assert(c.elevations.list{points = {{35.89431, -110.72522}, {10, 10}, {-75, -150}}})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Elevation/List", req.path)
    assert.same({points = "35.89431,-110.72522,10,10,-75,-150", key = "<redacted>"}, req.query)
    -- sim/README.md's model: 1053 m and 844 m on land, 0 at sea.
    assert.same({1053, 844, 0}, e.elevations)
    assert.equal(14, e.zoomLevel)
    if math.type then assert.equal("integer", math.type(e.elevations[1])) end
    assert.equal("RESTElevations", e.meta.billing.category)
    assert.is_true(e.meta.billing.billable)
  end)

  it(":pairs() gives each point asked for with its elevation, Locations included", function()
    local loc = setmetatable({}, {__index = {latlon = function() return 10, 10 end}})
    local e = assert(c.elevations.list{points = {{lat = 35.89431, lon = -110.72522}, loc}})
    local seen = {}
    for i, p, h in e:pairs() do seen[i] = {p[1], p[2], h} end
    assert.same({{35.89431, -110.72522, 1053}, {10, 10, 844}}, seen)
  end)

  it("sends heights and adds the geoid offset for the ellipsoid", function()
    local sea = assert(c.elevations.list{points = {{10, 10}}, heights = "sealevel"})
    assert.equal("sealevel", sim.last_request().query.heights)
    local ell = assert(c.elevations.list{points = {{10, 10}}, heights = "Ellipsoid"})
    assert.equal("ellipsoid", sim.last_request().query.heights)
    assert.equal(844, sea.elevations[1])
    assert.equal(844 + 13, ell.elevations[1])
  end)

  it("goes as a text POST when the GET URL would pass 2083 characters", function()
    local pts = {}
    for i = 1, 200 do pts[i] = {40 + i / 1000, -100 - i / 1000} end
    local e = assert(c.elevations.list{points = pts, heights = "ellipsoid"})
    local req = sim.last_request()
    assert.equal("POST", req.method)
    assert.same({heights = "ellipsoid", key = "<redacted>"}, req.query)
    assert.equal("points=40.001,-100.001,40.002,-100.002,", req.body:sub(1, 39))
    assert.equal(200, #e.elevations)
    assert(c.elevations.list{points = {{10, 10}}, method = "POST"})
    assert.equal("points=10,10", sim.last_request().body)
  end)

  it("refuses the documented limits before sending, and raises on programmer errors", function()
    local before = #sim.log()
    local function refused(args, pattern)
      local e, err = c.elevations.list(args)
      assert.is_nil(e)
      assert.equal("argument", err.kind)
      assert.matches(pattern, err.message)
    end
    local many = {}
    for i = 1, 1025 do many[i] = {0, i / 100} end
    refused({points = many}, "at most 1024 points, got 1025")
    refused({points = {{86, 0}}}, "points%[1%] latitude must be within %[%-85, 85%]")
    refused({points = {}}, "points is empty")
    refused({points = {{0, 0}}, heights = "geoid"}, "heights 'geoid' is not one of ellipsoid, sealevel")
    local ok, err = pcall(c.elevations.list, {})
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.matches("elevations_spec.lua:%d+: elevations.list: points is required$", err.message)
    assert.has_error(function() c.elevations.list{points = {"Seattle"}} end)
    assert.has_error(function() c.elevations.list{points = {{0, 0}}, samples = 3} end)
    assert.equal(before, #sim.log())
  end)

  it("prices a dry run without sending", function()
    local before = #sim.log()
    local plan = c.elevations.list{points = EXAMPLE, dry_run = true}
    assert.equal("RESTElevations", plan.billing.category)
    assert.equal("GET", plan.method)
    assert.equal(before, #sim.log())
  end)
end)

describe("the emulator's Elevation/List", function()
  it("answers the documented limits with the documented 400", function()
    local function status(query)
      query.key = sim.key
      local st, doc = sim.get("/REST/v1/Elevation/List", query)
      return st, doc and doc.errorDetails and doc.errorDetails[2]
    end
    assert.same({400, "points: This parameter value is out of range."}, {status{points = "86,0"}})
    assert.same({400, "points: This parameter is missing or invalid."}, {status{}})
    assert.same({400, "points: This parameter value is not valid."}, {status{points = "1,2,3"}})
    assert.same({400, "heights: This parameter value is not valid."}, {status{points = "1,2", heights = "x"}})
    -- 1025 points: in a POST body (a GET that long is past nginx's header buffers: 414).
    local many = {}
    for i = 1, 1025 do many[i] = "0,0" end
    local st, body = sim.request("POST", "/REST/v1/Elevation/List", {query = {key = sim.key},
      body = "points=" .. table.concat(many, ","), headers = {["Content-Type"] = "text/plain"}})
    assert.equal(400, st)
    assert.equal("points: This parameter value is out of range.", sim.decode(body).errorDetails[2])
    assert.equal(200, (status{pts = "1,2", hts = "ellipsoid"}))
  end)
end)

describe("elevations.list on the reference's example", function()
  it("decodes the example answer through a Lua transport to the values in it", function()
    local sent
    local c = bing.new{key = "ElevKey-0123456789", transport = function(req)
      sent = req
      return {status = 200, headers = {["content-type"] = "application/json; charset=utf-8"},
              body = read("spec/fixtures/reference/elevations/list-response.json")}
    end}
    local e = assert(c.elevations.list{points = EXAMPLE})
    local want = read("spec/fixtures/reference/elevations/list-request.txt"):match("points=([^&]*)")
    assert.equal(EXAMPLE_TEXT, want)
    assert.equal("https://dev.virtualearth.net/REST/v1/Elevation/List?points=" .. want
      .. "&key=ElevKey-0123456789", (sent.url:gsub("%%2C", ",")))
    assert.same({1776, 1775, 1777, 1776}, e.elevations)
    assert.equal(14, e.zoomLevel)
    assert.equal("8d57dbeb0bb94e7ca67fd25b4114f5c3", e.meta.trace_id)
    local h = {}
    for i, p, m in e:pairs() do h[i] = {p[1], p[2], m} end
    assert.same({35.89337, -110.72662, 1776}, h[4])
  end)
end)
