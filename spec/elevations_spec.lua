-- Elevations (get-elevations.md) on the endpoint layer: list, polyline, bounds and sea_level;
-- what is sent (plain, compressed, POST, split), what comes back, the documented limits from
-- both sides, billing against the emulator's ledger, and the reference's example answers.
local sim = require "support.sim"
local reference = require "support.reference"
local bpoints = require "bing.points"

local client = sim.client

-- sim/README.md's elevation model, written out again here (never the emulator's code).
local rad, sin, cos, floor = math.rad, math.sin, math.cos, math.floor
local function model(lat, lon)
  local h = 900 * sin(rad(lat) * 7) * cos(rad(lon) * 5) + 600 * sin(rad(lon - lat) * 11) + 300
  return h > 0 and floor(h + 0.5) or 0
end
local function geoid(lat, lon) return floor(40 * sin(rad(lat) * 2) * cos(rad(lon)) + 0.5) end

local function models(pts, f)
  local out = {}
  for i, p in ipairs(pts) do out[i] = (f or model)(p[1], p[2]) end
  return out
end

-- n points on a wiggly line with five-decimal coordinates (exact through the compression).
local function line(n, lat0, lon0)
  local pts = {}
  for i = 1, n do pts[i] = {(lat0 or 40) + i / 1000, (lon0 or -100) - (i % 7) / 1000 - i / 2000} end
  return pts
end

-- The page's JSON is indented with no-break spaces (U+00A0), which no JSON parser takes as
-- white space and the service does not send: they become spaces on the way to the transport.
local function read(name) return (reference.read("elevations", name):gsub("\194\160", " ")) end

local function unkeyed(url) return (url:gsub("ElevKey%-0123456789", "{BingMapsKey}")) end

local function query_of(url)
  local q = {}
  for k, v in (url:match("%?([^\n]*)") or ""):gmatch("([^&=]+)=([^&]*)") do
    q[k] = v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  end
  return q
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
    local gj = e:geojson()
    assert.equal("FeatureCollection", gj.type)
    assert.same({type = "Feature", geometry = {type = "Point", coordinates = {10, 10}},
                 properties = {elevation = 844, index = 2, zoomLevel = e.zoomLevel,
                               heights = "sealevel"}}, gj.features[2])
  end)

  it("sends heights (or Bing's alias hts) and adds the geoid offset for the ellipsoid", function()
    local sea = assert(c.elevations.list{points = {{10, 10}}, heights = "sealevel"})
    assert.equal("sealevel", sim.last_request().query.heights)
    local ell = assert(c.elevations.list{points = {{10, 10}}, heights = "Ellipsoid"})
    assert.equal("ellipsoid", sim.last_request().query.heights)
    assert.equal(844, sea.elevations[1])
    assert.equal(844 + 13, ell.elevations[1])
    assert.equal("sealevel", sea.heights)
    assert.equal("ellipsoid", ell.heights)
    assert.equal("sealevel", assert(c.elevations.list{points = {{10, 10}}}).heights)
    assert(c.elevations.list{pts = {{10, 10}}, hts = "ellipsoid"})
    assert.same({points = "10,10", heights = "ellipsoid", key = "<redacted>"}, sim.last_request().query)
  end)

  it("compresses the points when the plain URL would pass 2083 characters", function()
    local pts = line(200)
    local e = assert(c.elevations.list{points = pts, heights = "ellipsoid"})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal(bpoints.encode(pts), req.query.points)
    assert.equal("ellipsoid", req.query.heights)
    local want = {}
    for i, p in ipairs(pts) do want[i] = model(p[1], p[2]) + geoid(p[1], p[2]) end
    assert.same(want, e.elevations)
    -- :pairs() gives the points as asked.
    local _, p1 = e:pairs()()
    assert.same(pts[1], p1)
  end)

  it("goes as a text POST of the plain list when even the compressed URL is too long", function()
    local pts = line(900)
    local e = assert(c.elevations.list{points = pts, heights = "ellipsoid"})
    local req = sim.last_request()
    assert.equal("POST", req.method)
    assert.same({heights = "ellipsoid", key = "<redacted>"}, req.query)
    assert.equal("text/plain; charset=utf-8", req.headers["content-type"])
    assert.equal("points=40.001,-100.0015,40.002,-100.003,", req.body:sub(1, 40))
    assert.equal(900, #e.elevations)
    assert(c.elevations.list{points = {{10, 10}}, method = "POST"})
    assert.equal("points=10,10", sim.last_request().body)
  end)

  it("follows compress = true | false and method = \"GET\"", function()
    assert(c.elevations.list{points = EXAMPLE, compress = true})
    assert.equal("GET", sim.last_request().method)
    assert.equal(bpoints.encode(EXAMPLE), sim.last_request().query.points)
    assert(c.elevations.list{points = line(200), compress = false})
    assert.equal("POST", sim.last_request().method)
    assert(c.elevations.list{points = EXAMPLE, compress = true, method = "POST"})
    assert.equal("points=" .. bpoints.encode(EXAMPLE), sim.last_request().body)
    sim.assert_refused(function() return c.elevations.list{points = line(900), method = "GET"} end,
      "the request URL would be %d+ characters")
    assert.has_error(function() c.elevations.list{points = EXAMPLE, compress = "yes"} end)
  end)

  it("splits more than 1024 points into requests, merged in order and billed per request", function()
    local pts = line(2500)
    local since = sim.last_id()
    local ledger0 = ((sim.ledger().SIM_KEY or {}).RESTElevations or {}).billable or 0
    local e = assert(c.elevations.list{points = pts})
    local reqs = sim.log(since)
    assert.equal(3, #reqs)
    local counts, methods = {}, {}
    for i, r in ipairs(reqs) do
      assert.equal("/REST/v1/Elevation/List", r.path)
      local text = r.method == "POST" and r.body:match("^points=(.*)$") or r.query.points
      counts[i] = text:find(",") and (select(2, text:gsub(",", ",")) + 1) / 2 or #bpoints.decode(text)
      methods[i] = r.method
    end
    -- The last part is short enough for a compressed GET.
    assert.same({1024, 1024, 452}, counts)
    assert.same({"POST", "POST", "GET"}, methods)
    assert.equal("points=40.001,", reqs[1].body:sub(1, 14))
    assert.equal(("points=%s,"):format(pts[1025][1]), reqs[2].body:sub(1, 14))
    assert.same(models(pts), e.elevations)
    assert.equal(2500, #e.points)
    assert.same(pts[2500], e.points[2500])
    assert.equal(14, e.zoomLevel)
    assert.same({14, 14, 14}, e.zoomLevels)
    assert.equal(3, e.meta.requests)
    assert.is_true(e.meta.split)
    assert.equal(3, e.meta.billing.transactions)
    assert.equal(3, e.meta.billing.billable_transactions)
    assert.equal(ledger0 + 3, sim.ledger().SIM_KEY.RESTElevations.billable)
  end)

  it("shows every part in a dry run and refuses the whole split over budget, sending nothing", function()
    local pts = line(2100)
    local since = sim.last_id()
    local plan = c.elevations.list{points = pts, dry_run = true}
    assert.equal(0, #sim.log(since))
    assert.equal(3, plan.requests)
    assert.equal(3, #plan.parts)
    assert.equal(3, plan.billing.transactions)
    assert.equal("POST", plan.calls[1].method)
    local tight = client{budget = {billable = 2}}
    since = sim.last_id()
    local r, err = tight.elevations.list{points = pts}
    assert.is_nil(r)
    assert.equal("budget", err.kind)
    assert.equal(0, #sim.log(since))
    assert(tight.elevations.list{points = line(1024)})
    assert.equal(since + 1, sim.last_id())
  end)

  it("refuses the documented limits before sending, and raises on programmer errors", function()
    sim.assert_refused(function() return c.elevations.list{points = {{86, 0}}} end,
      "points%[1%] latitude must be within %[%-85, 85%]")
    sim.assert_refused(function() return c.elevations.list{points = {}} end, "points is empty")
    sim.assert_refused(function() return c.elevations.list{points = {{0, 0}}, heights = "geoid"} end,
      "heights 'geoid' is not one of ellipsoid, sealevel")
    local ok, err = pcall(c.elevations.list, {})
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.matches("elevations_spec.lua:%d+: elevations.list: points is required$", err.message)
    assert.has_error(function() c.elevations.list{points = {"Seattle"}} end)
    assert.has_error(function() c.elevations.list{points = {{0, 0}}, samples = 3} end)
    assert.has_error(function() c.elevations.list{points = {{0, 0}}, pts = {{0, 0}}} end)
  end)

  it("prices a dry run without sending", function()
    local before = #sim.log()
    local plan = c.elevations.list{points = EXAMPLE, dry_run = true}
    assert.equal("RESTElevations", plan.billing.category)
    assert.equal("GET", plan.method)
    assert.equal(before, #sim.log())
  end)
end)

describe("elevations.polyline", function()
  local c
  before_each(function() c = client() end)

  it("sends points, heights and samples and gives the samples' places with their values", function()
    -- Along the equator 10 degrees, then up a meridian 10: five samples every 5 degrees.
    local e = assert(c.elevations.polyline{points = {{0, 0}, {0, 10}, {10, 10}}, samples = 5,
                                           heights = "ellipsoid"})
    local req = sim.last_request()
    assert.equal("/REST/v1/Elevation/Polyline", req.path)
    assert.same({points = "0,0,0,10,10,10", heights = "ellipsoid", samples = "5", key = "<redacted>"},
      req.query)
    assert.equal("points=0,0,0,10,10,10&heights=ellipsoid&samples=5", req.raw_query:gsub("&key=.*$", ""))
    local places = {{0, 0}, {0, 5}, {0, 10}, {5, 10}, {10, 10}}
    local want = {}
    for i, p in ipairs(places) do want[i] = model(p[1], p[2]) + geoid(p[1], p[2]) end
    assert.same(want, e.elevations)
    assert.equal(14, e.zoomLevel)
    local got = {}
    for i, p, h in e:pairs() do
      got[i] = {floor(p[1] * 1e6 + 0.5) / 1e6, floor(p[2] * 1e6 + 0.5) / 1e6, h}
    end
    for i, p in ipairs(places) do assert.same({p[1], p[2], want[i]}, got[i]) end
    assert.same({{0, 0}, {0, 10}, {10, 10}}, e.path)
    assert.equal("ellipsoid", e.heights)
    assert.equal("RESTElevations", e.meta.billing.category)
  end)

  it("compresses a long path and POSTs a longer one with heights and samples in the query", function()
    local pts = line(300)
    assert(c.elevations.polyline{points = pts, samples = 30})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal(bpoints.encode(pts), req.query.points)
    local long = line(3000)   -- a path has no documented point limit: one request
    local e = assert(c.elevations.polyline{points = long, samples = 1024, heights = "sealevel"})
    req = sim.last_request()
    assert.equal("POST", req.method)
    assert.same({heights = "sealevel", samples = "1024", key = "<redacted>"}, req.query)
    assert.equal(1024, #e.elevations)
    assert.equal(1, e.meta.billing.transactions)
  end)

  it("refuses the documented limits before sending", function()
    local path = {{0, 0}, {1, 1}}
    sim.assert_refused(function() return c.elevations.polyline{points = path, samples = 0} end,
      "samples must be an integer from 1 to 1024, got 0")
    sim.assert_refused(function() return c.elevations.polyline{points = path, samples = 1025} end,
      "samples must be an integer from 1 to 1024")
    sim.assert_refused(function() return c.elevations.polyline{points = path, samples = 2.5} end)
    sim.assert_refused(function() return c.elevations.polyline{points = {{0, 0}}, samples = 2} end,
      "points needs at least 2 points for a path, got 1")
    sim.assert_refused(function()
      return c.elevations.polyline{points = {{0, 0}, {-85.5, 0}}, samples = 2}
    end,
      "points%[2%] latitude")
    assert.has_error(function() c.elevations.polyline{points = path} end)
    assert.has_error(function() c.elevations.polyline{points = path, samples = "3"} end)
  end)
end)

describe("elevations.bounds", function()
  local c
  before_each(function() c = client() end)

  it("sends bounds, rows and cols and gives the grid in the documented order", function()
    local e = assert(c.elevations.bounds{bounds = {10, 20, 13, 26}, rows = 4, cols = 3})
    local req = sim.last_request()
    assert.equal("/REST/v1/Elevation/Bounds", req.path)
    assert.equal("bounds=10,20,13,26&rows=4&cols=3", req.raw_query:gsub("&key=.*$", ""))
    -- South-west first, west to east, then south to north.
    local grid = {}
    for r = 0, 3 do for col = 0, 2 do grid[#grid + 1] = {10 + r, 20 + 3 * col} end end
    assert.same(models(grid), e.elevations)
    local seen = {}
    for i, p, h in e:pairs() do seen[i] = {p[1], p[2], h} end
    assert.same({10, 20, model(10, 20)}, seen[1])
    assert.same({10, 23, model(10, 23)}, seen[2])
    assert.same({11, 20, model(11, 20)}, seen[4])
    assert.same({13, 26, model(13, 26)}, seen[12])
    assert.equal(12, #seen)
    assert(c.elevations.bounds{bounds = {south = 10, west = 20, north = 13, east = 26}, rows = 2,
                                cols = 2, heights = "ellipsoid"})
    assert.equal("ellipsoid", sim.last_request().query.heights)
  end)

  it("refuses the documented limits before sending", function()
    local b = {10, 20, 13, 26}
    sim.assert_refused(function() return c.elevations.bounds{bounds = b, rows = 1, cols = 4} end,
      "rows must be an integer from 2 to 512, got 1")
    sim.assert_refused(function() return c.elevations.bounds{bounds = b, rows = 32, cols = 33} end,
      "rows %* cols must be at most 1024, got 32 x 33 = 1056")
    sim.assert_refused(function() return c.elevations.bounds{bounds = {80, 0, 86, 1}, rows = 2, cols = 2} end,
      "bounds north latitude must be within %[%-85, 85%]")
    sim.assert_refused(function()
      return c.elevations.bounds{bounds = {0, 170, 1, -170}, rows = 2, cols = 2}
    end, "antimeridian")
    sim.assert_refused(function()
      return c.elevations.bounds{bounds = {13, 20, 10, 26}, rows = 2, cols = 2}
    end, "south <= north")
    assert.equal(1024, #assert(c.elevations.bounds{bounds = b, rows = 32, cols = 32}).elevations)
    assert.has_error(function() c.elevations.bounds{bounds = b, rows = 2} end)
    assert.has_error(function() c.elevations.bounds{bounds = b, rows = 2, cols = 2, method = "POST"} end)
  end)
end)

describe("elevations.sea_level", function()
  local c
  before_each(function() c = client() end)

  it("gives the geoid's offset at each point, and splits past 1024 points", function()
    local e = assert(c.elevations.sea_level{points = {{10, 10}, {35.89431, -110.72522}}})
    local req = sim.last_request()
    assert.equal("/REST/v1/Elevation/SeaLevel", req.path)
    assert.same({points = "10,10,35.89431,-110.72522", key = "<redacted>"}, req.query)
    assert.same({13, geoid(35.89431, -110.72522)}, e.offsets)
    assert.is_nil(e.elevations)
    assert.is_nil(e.heights)
    assert.matches("^SeaLevelData", e.__type)
    local seen = {}
    for i, p, o in e:pairs() do seen[i] = {p[1], p[2], o} end
    assert.same({10, 10, 13}, seen[1])
    assert.equal(13, e:geojson().features[1].properties.offset)
    local pts = line(1500, -30, 120)
    local big = assert(c.elevations.sea_level{points = pts})
    assert.same(models(pts, geoid), big.offsets)
    assert.equal(2, big.meta.requests)
    assert.equal(2, big.meta.billing.transactions)
    assert.has_error(function() c.elevations.sea_level{points = {{0, 0}}, heights = "sealevel"} end)
  end)
end)

describe("the emulator's Elevation API", function()
  local function status(path, query)
    query.key = sim.key
    local st, doc = sim.get("/REST/v1/Elevation/" .. path, query)
    return st, doc and doc.errorDetails and doc.errorDetails[2]
  end
  local function refused(path, query, detail)
    assert.same({400, detail}, {status(path, query)})
  end

  it("answers List's documented limits with the documented 400", function()
    refused("List", {points = "86,0"},
      "points: This parameter value is out of range.")
    refused("List", {},
      "points: This parameter is missing or invalid.")
    refused("List", {points = "1,2,3"},
      "points: This parameter value is not valid.")
    refused("List", {points = "1,2", heights = "x"},
      "heights: This parameter value is not valid.")
    -- 1025 points: in a POST body (a GET that long is past nginx's header buffers: 414).
    local many = {}
    for i = 1, 1025 do many[i] = "0,0" end
    for _, path in ipairs{"List", "SeaLevel"} do
      local st, body = sim.request("POST", "/REST/v1/Elevation/" .. path, {query = {key = sim.key},
        body = "points=" .. table.concat(many, ","), headers = {["Content-Type"] = "text/plain"}})
      assert.equal(400, st)
      assert.equal("points: This parameter value is out of range.", sim.decode(body).errorDetails[2])
    end
    assert.equal(200, (status("List", {pts = "1,2", hts = "ellipsoid"})))
  end)

  it("answers Polyline's, Bounds' and SeaLevel's limits with the documented 400", function()
    local P = "0,0,1,1"
    refused("Polyline", {points = P},
      "samples: This parameter is missing or invalid.")
    refused("Polyline", {points = P, samples = "0"},
      "samples: This parameter value is out of range.")
    refused("Polyline", {points = P, samples = "1025"},
      "samples: This parameter value is out of range.")
    refused("Polyline", {points = P, samples = "2.5"},
      "samples: This parameter value is not valid.")
    refused("Polyline", {points = "0,0", samples = "2"},
      "points: This parameter value is not valid.")
    assert.equal(200, (status("Polyline", {pts = P, samp = "1024"})))
    local B = "10,20,13,26"
    refused("Bounds", {rows = "2", cols = "2"},
      "bounds: This parameter is missing or invalid.")
    refused("Bounds", {bounds = "1,2,3", rows = "2", cols = "2"},
      "bounds: This parameter value is not valid.")
    refused("Bounds", {bounds = "13,20,10,26", rows = "2", cols = "2"},
      "bounds: This parameter value is out of range.")
    refused("Bounds", {bounds = "80,0,86,1", rows = "2", cols = "2"},
      "bounds: This parameter value is out of range.")
    refused("Bounds", {bounds = B, rows = "1", cols = "2"},
      "rows: This parameter value is out of range.")
    refused("Bounds", {bounds = B, rows = "2"},
      "cols: This parameter is missing or invalid.")
    refused("Bounds", {bounds = B, rows = "32", cols = "33"},
      "rows: This parameter value is out of range.")
    assert.equal(200, (status("Bounds", {bounds = B, rows = "32", cols = "32"})))
    refused("SeaLevel", {points = "-86,0"},
      "points: This parameter value is out of range.")
    refused("SeaLevel", {points = "vx1!"},
      "points: This parameter value is not valid.")
  end)

  it("reads the compressed points of the reference's example in a GET and in a POST body", function()
    local st, doc = sim.get("/REST/v1/Elevation/List", {points = "vx1vilihnM6hR7mEl2Q", key = sim.key})
    assert.equal(200, st)
    assert.same(models(EXAMPLE), doc.resourceSets[1].resources[1].elevations)
    local st2, body = sim.request("POST", "/REST/v1/Elevation/SeaLevel", {query = {key = sim.key},
      body = "points=vx1vilihnM6hR7mEl2Q", headers = {["Content-Type"] = "text/plain"}})
    assert.equal(200, st2)
    assert.same(models(EXAMPLE, geoid), sim.decode(body).resourceSets[1].resources[1].offsets)
  end)
end)

describe("the elevations of the reference's examples", function()
  local function decoded(fname, args, response)
    local c, sent = reference.client{key = "ElevKey-0123456789", body = read(response)}
    return assert(c.elevations[fname](args)), sent[1]
  end

  it("decodes List's example answer through a Lua transport to the values in it", function()
    local e, sent = decoded("list", {points = EXAMPLE}, "list-response.json")
    local want = read("list-request.txt"):match("points=([^&]*)")
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

  it("decodes Polyline's, Bounds' and SeaLevel's example answers, sending the example's query", function()
    local e, sent = decoded("polyline", {points = EXAMPLE, heights = "ellipsoid", samples = 10},
      "polyline-response.json")
    assert.same(query_of(read("polyline-request.txt")), query_of(unkeyed(sent.url)))
    assert.same({1753, 1752, 1752, 1752, 1752, 1754, 1754, 1754, 1754, 1753}, e.elevations)
    assert.equal(10, #e.points)
    assert.same(EXAMPLE[1], e.points[1])
    assert.same(EXAMPLE[4], e.points[10])
    assert.equal("3080e93328564e91abb68493ae826e2d", e.meta.trace_id)

    local b
    b, sent = decoded("bounds", {bounds = {50.995391, -1.320763, 51.000577, -1.311836}, rows = 4, cols = 4},
      "bounds-response.json")
    assert.same(query_of(read("bounds-request.txt")), query_of(unkeyed(sent.url)))
    assert.same({35, 39, 42, 41, 35, 37, 39, 43, 38, 37, 41, 40, 37, 41, 48, 49}, b.elevations)
    assert.equal(11, b.zoomLevel)
    local seen = {}
    for i, p, h in b:pairs() do seen[i] = {p[1], p[2], h} end
    assert.same({50.995391, -1.320763, 35}, seen[1])
    assert.same({51.000577, -1.311836, 49}, seen[16])

    local s
    s, sent = decoded("sea_level", {points = EXAMPLE}, "sealevel-response.json")
    assert.same(query_of(read("sealevel-request.txt")), query_of(unkeyed(sent.url)))
    assert.same({-23, -23, -23, -23}, s.offsets)
    assert.equal(14, s.zoomLevel)
    assert.equal("ec8ceb0a09754aa3b9e981cb13a4282a", s.meta.trace_id)
  end)

  it("sends the compression page's example string for its points", function()
    local cjson = require "cjson"
    local pts = cjson.decode(reference.read("points", "point-compression.json")).step1_points
    local _, sent = decoded("polyline", {points = pts, samples = 20, heights = "sealevel", compress = true},
      "polyline-response.json")
    assert.same(query_of(read("compressed-request.txt")), query_of(unkeyed(sent.url)))
    assert.equal("vx1vilihnM6hR7mEl2Q", query_of(sent.url).points)
  end)
end)
