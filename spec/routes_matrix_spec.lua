-- routes.matrix against the emulator: GET or POST by size, blocks stitched for matrices larger
-- than one request, checked cell by cell against an unsplit computation, and async jobs.
local cjson = require "cjson"
local rt = require "bing.api.route_types"
local sim = require "support.sim"
local client, last_id = sim.client, sim.last_id
local fast_clock, assert_refused = sim.fast_clock, sim.assert_refused

-- A grid of n points around Seattle.
local function grid(n, seed)
  local pts = {}
  for i = 1, n do
    pts[i] = {47.45 + ((i * 7 + (seed or 0)) % 23) * 0.013, -122.45 + ((i * 11 + (seed or 0)) % 29) * 0.011}
  end
  return pts
end

local ORIGINS = {{47.6044, -122.3345}, {47.6731, -122.1185}, {47.6149, -122.1936}}
local DESTS = {{45.5347, -122.6231}, {47.4747, -122.2057}}

describe("routes.matrix", function()
  -- Faults or jobs left by other spec files must not leak in.
  setup(function() sim.reset() end)

  local c
  before_each(function() c = client() end)

  it("sends a small matrix with GET and decodes every cell", function()
    local m = assert(c.routes.matrix{origins = ORIGINS, destinations = DESTS})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Routes/DistanceMatrix", req.path)
    assert.equal("47.6044,-122.3345;47.6731,-122.1185;47.6149,-122.1936", req.query.origins)
    assert.equal("45.5347,-122.6231;47.4747,-122.2057", req.query.destinations)
    assert.equal("driving", req.query.travelMode)
    assert.equal(3, select(1, m:size()))
    assert.equal(2, select(2, m:size()))
    assert.equal(6, #m:cells())
    local d, t, cell = m:get(1, 1)
    assert.is_true(d > 250 and d < 330) -- Seattle - Portland, km
    assert.is_true(t > 150 and t < 300) -- minutes (timeUnit default)
    assert.equal(0, cell.originIndex)
    assert.equal(0, cell.destinationIndex)
    local d2 = m:get(3, 2)
    assert.is_true(d2 > 10 and d2 < 30) -- Bellevue - Renton
    assert.equal("Route-DistanceMatrix", m.meta.billing.category)
    assert.equal(2, m.meta.billing.transactions) -- ceil(6 / 4)
  end)

  it("iterates rows and columns, and gives 2-D tables", function()
    local m = assert(c.routes.matrix{origins = ORIGINS, destinations = DESTS})
    local n = 0
    for j, cell in m:row(2) do
      n = n + 1
      assert.equal(1, cell.originIndex)
      assert.equal(j - 1, cell.destinationIndex)
    end
    assert.equal(2, n)
    n = 0
    for i, cell in m:col(2) do
      n = n + 1
      assert.equal(i - 1, cell.originIndex)
    end
    assert.equal(3, n)
    local rows = 0
    for _, cells in m:rows() do
      rows = rows + 1
      assert.equal(2, #cells)
    end
    assert.equal(3, rows)
    local dist = m:distances()
    assert.equal(select(1, m:get(3, 1)), dist[3][1])
    assert.equal(select(2, m:get(2, 2)), m:durations()[2][2])
  end)

  it("makes origins x origins without destinations, with zero on the diagonal", function()
    local m = assert(c.routes.matrix{origins = ORIGINS})
    assert.is_nil(sim.last_request().query.destinations)
    assert.equal(6, #m:cells()) -- the service computes no cell for the same point
    local d, t = m:get(2, 2)
    assert.equal(0, d)
    assert.equal(0, t)
    assert.near(select(1, m:get(1, 2)), select(1, m:get(2, 1)), 1e-9)
    assert.equal(2, m.meta.billing.transactions) -- 6 cells
  end)

  it("sends startTime, timeUnit and distanceUnit, and reads departure times", function()
    local m = assert(c.routes.matrix{origins = ORIGINS, destinations = DESTS,
                                     startTime = "2017-06-15T13:00:00-07:00", timeUnit = "second",
                                     distanceUnit = "mi"})
    local q = sim.last_request().query
    assert.equal("2017-06-15T13:00:00-07:00", q.startTime)
    assert.equal("second", q.timeUnit)
    assert.equal("mi", q.distanceUnit)
    local _, t, cell = m:get(1, 1)
    assert.equal("2017-06-15T20:00:00.0000000+00:00", cell.departureTime)
    assert.is_true(t > 9000) -- seconds
    assert.is_true(select(1, m:get(1, 1)) < 210) -- miles
    assert.equal(1, #m:histogram(1, 1))
  end)

  it("uses POST from 50 points on, with Bing's body", function()
    local o, d = grid(30), grid(25, 5)
    local m = assert(c.routes.matrix{origins = o, destinations = d})
    local req = sim.last_request()
    assert.equal("POST", req.method)
    assert.is_nil(req.query.origins)
    local body = cjson.decode(req.body)
    assert.equal(30, #body.origins)
    assert.equal(25, #body.destinations)
    assert.near(o[1][1], body.origins[1].latitude, 1e-9)
    assert.equal("driving", body.travelMode)
    assert.equal(750, #m:cells())
    assert.equal(188, m.meta.billing.transactions)
  end)

  it("uses POST when asked, and GET below 50 points", function()
    assert(c.routes.matrix{origins = grid(24), destinations = grid(25, 3)})
    assert.equal("GET", sim.last_request().method)
    assert(c.routes.matrix{origins = ORIGINS, destinations = DESTS, method = "POST"})
    assert.equal("POST", sim.last_request().method)
  end)

  it("computes walking matrices", function()
    local m = assert(c.routes.matrix{origins = {{47.60, -122.33}}, destinations = {{47.61, -122.32}},
                                     travelMode = "walking"})
    assert.equal("walking", sim.last_request().query.travelMode)
    local d, t = m:get(1, 1)
    assert.near(5, d / (t / 60), 0.5) -- km/h
  end)

  it("bills by cells, and the emulator's ledger agrees", function()
    sim.reset()
    local c2 = client()
    assert(c2.routes.matrix{origins = grid(7), destinations = grid(5, 1)})
    local led = sim.ledger().SIM_KEY["Route-DistanceMatrix"]
    assert.equal(9, led.billable) -- ceil(35 / 4)
    assert.equal(9, c2:usage().categories["Route-DistanceMatrix"].billable)
  end)
end)

describe("routes.matrix larger than one request", function()
  -- The same matrix in one request: the emulator's test switch lifts its pair limit.
  local function unsplit(origins, dests, mode)
    local function join(list)
      local t = {}
      for i, p in ipairs(list) do t[i] = {latitude = p[1], longitude = p[2]} end
      return t
    end
    local nl = client{headers = {["X-Bingsim-No-Limits"] = "1"}}
    local doc = assert(nl:call{api = "rest", path = "/REST/v1/Routes/DistanceMatrix", method = "POST",
      body = {origins = join(origins), destinations = dests and join(dests) or nil,
        travelMode = mode or "driving"},
      billing = {category = "Route-DistanceMatrix", units = 1}})
    return rt.matrix(doc.resourceSets[1].resources[1])
  end

  local function same_cells(ref, m)
    local no, nd = ref:size()
    assert.equal(no, select(1, m:size()))
    assert.equal(nd, select(2, m:size()))
    for i = 1, no do
      for j = 1, nd do
        local d1, t1 = ref:get(i, j)
        local d2, t2 = m:get(i, j)
        assert.equal(d1, d2)
        assert.equal(t1, t2)
      end
    end
    assert.equal(#ref:cells(), #m:cells())
  end

  it("stitches 60 x 60 driving pairs (Basic: 2,500 a request) from 2 blocks", function()
    local c = client{account = "basic"}
    local o, d = grid(60), grid(60, 9)
    local since = last_id()
    local m = assert(c.routes.matrix{origins = o, destinations = d})
    local log = sim.log(since)
    assert.equal(2, #log)
    for _, e in ipairs(log) do
      local body = cjson.decode(e.body)
      assert.is_true(#body.origins * #body.destinations <= 2500)
    end
    assert.is_true(m.meta.split)
    assert.equal(2, m.meta.requests)
    assert.equal(900, m.meta.billing.transactions) -- 3600 cells / 4: splitting costs nothing extra
    same_cells(unsplit(o, d), m)
  end)

  it("stitches a square matrix without destinations, diagonal included", function()
    local c = client{account = "basic"}
    local o = grid(55)
    local since = last_id()
    local m = assert(c.routes.matrix{origins = o})
    -- One partition on both axes: 2 x 2 blocks, each origin meets itself in a diagonal block.
    assert.equal(4, #sim.log(since))
    assert.equal(3025 - 55, #m:cells())
    same_cells(unsplit(o), m)
    assert.equal(0, select(1, m:get(40, 40)))
  end)

  it("holds walking matrices to 650 pairs a request", function()
    local c = client()
    local o, d = grid(30), grid(30, 4)
    local since = last_id()
    local m = assert(c.routes.matrix{origins = o, destinations = d, travelMode = "walking"})
    assert.equal(2, #sim.log(since))
    same_cells(unsplit(o, d, "walking"), m)
  end)

  it("takes the account's limit: Enterprise sends 60 x 60 at once", function()
    local c = client{account = "enterprise", headers = {["X-Bingsim-Account"] = "enterprise"}}
    local since = last_id()
    local m = assert(c.routes.matrix{origins = grid(60), destinations = grid(60, 2)})
    assert.equal(1, #sim.log(since))
    assert.is_nil(m.meta.split)
  end)

  it("takes the Enterprise limits by default (Basic keys ended on 2025-06-30): 10,000 pairs", function()
    -- The emulator's own default is Basic: it is told the account, as the service knows it.
    local c = client{headers = {["X-Bingsim-Account"] = "enterprise"}}
    assert.equal("enterprise", c.account)
    local since = last_id()
    local m = assert(c.routes.matrix{origins = grid(60), destinations = grid(60, 2)})
    assert.equal(1, #sim.log(since))
    assert.is_nil(m.meta.split)
    -- 100 x 100 is one request, 101 x 100 two; a Basic account splits at 2,500.
    local function requests(cl, no, nd)
      return cl.routes.matrix{origins = grid(no), destinations = grid(nd, 3), dry_run = true}.requests
    end
    assert.equal(1, requests(c, 100, 100))
    assert.equal(2, requests(c, 101, 100))
    assert.equal(2, requests(client{account = "basic"}, 60, 60))
    assert.equal(1, #sim.log(since)) -- the dry runs sent nothing
  end)

  it("takes matrix_limits set on the client", function()
    local c = client{matrix_limits = {driving = 100}}
    local since = last_id()
    local m = assert(c.routes.matrix{origins = grid(15), destinations = grid(15, 1)})
    assert.equal(3, #sim.log(since))
    assert.equal(3, m.meta.requests)
    same_cells(unsplit(grid(15), grid(15, 1)), m)
  end)

  it("refuses to split with split = false", function()
    local c = client{account = "basic"}
    assert_refused(function()
      return c.routes.matrix{origins = grid(60), destinations = grid(60, 1), split = false}
    end)
  end)

  it("is answered 400 by the emulator above 2,500 pairs (a Basic key)", function()
    local c = client{headers = {["X-Bingsim-Account"] = "basic"}}
    local o = {}
    for i, p in ipairs(grid(51)) do o[i] = {latitude = p[1], longitude = p[2]} end
    local doc, err = c:call{api = "rest", path = "/REST/v1/Routes/DistanceMatrix", method = "POST",
      body = {origins = o, travelMode = "driving"}, billing = {category = "Route-DistanceMatrix", units = 1}}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    assert.matches("2500", err.message)
  end)
end)

describe("routes.matrix async", function()
  it("starts a job with startTime, waits as told, and decodes the downloaded matrix", function()
    local sleeps = {}
    local c = client{headers = {["X-Bingsim-Job-Delay"] = "0.3"}, clock = fast_clock(sleeps)}
    local job = assert(c.routes.matrix{origins = ORIGINS, destinations = DESTS,
                                       startTime = "2017-06-15T13:00:00-07:00", async = true})
    local req = sim.last_request()
    assert.equal("/REST/v1/Routes/DistanceMatrixAsync", req.path)
    assert.equal("matrix", job.kind)
    assert.equal("Route-DistanceMatrixAsync", job.meta.billing.category)
    assert.equal(2, job.meta.billing.transactions)
    local progress = 0
    local m = assert(job:wait{timeout = 20, on_progress = function(st)
      progress = progress + 1
      assert.is_boolean(st.completed)
    end})
    assert.is_true(progress >= 1)
    for _, s in ipairs(sleeps) do assert.equal(1, s) end
    assert.equal(6, #m:cells())
    assert.equal("2017-06-15T20:00:00.0000000+00:00", select(3, m:get(1, 1)).departureTime)
    assert.equal(job.id, m.meta.job.id)
    local usage = c:usage().categories
    assert.equal(0, usage["Route-DistanceMatrixAsyncCallback"].billable)
    assert.is_true(usage["Route-DistanceMatrixAsyncCallback"].requests >= 2)
  end)

  it("downloads the result from another host as the service gives it (the blob), no key added", function()
    -- distance-matrix-asynchronous-example.md: the accepted answer has no isCompleted, and
    -- resultUrl is a blob on another host. The emulator's other host is itself under its
    -- other name (127.0.0.1 <-> localhost).
    local c = client{headers = {["X-Bingsim-Job-Delay"] = "0"}}
    local since = last_id()
    local job = assert(c.routes.matrix{origins = ORIGINS, destinations = DESTS,
                                       startTime = "2017-06-15T13:00:00-07:00", async = true})
    assert.is_nil(job.status.resource.isCompleted)
    assert.is_false(job:done())
    local m = assert(job:wait{timeout = 10})
    assert.equal(6, #m:cells())
    local log = sim.log(since)
    local dl = log[#log]
    assert.equal("/finalresults/" .. job.id, dl.path)
    assert.is_string(dl.query.sig)
    assert.is_nil(dl.query.key)
    assert.equal("missing", dl.key_kind)
    local base_host = sim.url:match("^%a+://([^/]+)")
    assert.are_not.equal(base_host, dl.headers.host)
    assert.matches("^localhost:", dl.headers.host)
    -- Fetched as given, with no key: a storage download is no Bing transaction.
    assert.is_nil(tostring(m.meta.url):find(sim.key, 1, true))
    assert.equal(0, m.meta.billing.transactions)
    assert.matches("^http://localhost:", m.meta.url)
    assert.matches("&sig=<redacted>", m.meta.url, 1, true)
    assert.equal(log[1].headers.host, base_host)
  end)

  it("resumes a job from its id in a new client", function()
    local c = client{headers = {["X-Bingsim-Job-Delay"] = "0"}}
    local job = assert(c.routes.matrix{origins = ORIGINS, destinations = DESTS,
                                       startTime = "2017-06-15T13:00:00-07:00", async = true})
    local id = job.id
    job = nil -- luacheck: ignore 311 (the caller "crashes")
    local c2 = client()
    local again = c2.routes.job(id, "matrix")
    assert.equal(id, again.id)
    assert.is_false(again:done())
    local m = assert(again:wait{timeout = 10})
    assert.equal(6, #m:cells())
    assert.equal("/finalresults/" .. id, sim.last_request().path)
    assert.equal("missing", sim.last_request().key_kind)
    -- Bing's endpoint name works as the kind too.
    assert.equal("matrix", c2.routes.job(id, "DistanceMatrixAsync").kind)
  end)

  it("reports a failed job as kind job", function()
    local c = client{headers = {["X-Bingsim-Job-Delay"] = "0", ["X-Bingsim-Job-Fail"] = "Timeout occurred"}}
    local job = assert(c.routes.matrix{origins = ORIGINS, destinations = DESTS,
                                       startTime = "2017-06-15T13:00:00-07:00", async = true})
    local m, err = job:wait{timeout = 10}
    assert.is_nil(m)
    assert.equal("job", err.kind)
    assert.equal("JobFailed", err.code)
    assert.matches("Timeout occurred", err.message)
    assert.equal(job.id, err.job_id)
  end)

  it("times out a wait with kind timeout, and the job can be waited on again", function()
    local c = client{headers = {["X-Bingsim-Job-Delay"] = "30"}, clock = fast_clock({})}
    local job = assert(c.routes.matrix{origins = ORIGINS, destinations = DESTS,
                                       startTime = "2017-06-15T13:00:00-07:00", async = true})
    local m, err = job:wait{timeout = 0.3}
    assert.is_nil(m)
    assert.equal("timeout", err.kind)
    assert.equal("JobTimeout", err.code)
    assert.equal(job, err.job)
  end)

  it("refuses async without startTime, for walking, and above the async limit", function()
    local c = client{account = "basic"}
    assert_refused(function() return c.routes.matrix{origins = ORIGINS, async = true} end)
    assert_refused(function()
      return c.routes.matrix{origins = ORIGINS, travelMode = "walking", startTime = "2017-06-15T13:00:00",
                             async = true}
    end)
    assert_refused(function()
      return c.routes.matrix{origins = grid(51), startTime = "2017-06-15T13:00:00", async = true}
    end)
  end)
end)

describe("routes.matrix limits", function()
  local c
  before_each(function() c = client() end)

  it("refuses the retired histogram and transit options before sending", function()
    assert_refused(function()
      return c.routes.matrix{origins = ORIGINS, startTime = "2017-06-15T13:00:00",
                             endTime = "2017-06-15T15:00:00", resolution = 4}
    end, "no longer supported")
    assert_refused(function() return c.routes.matrix{origins = ORIGINS, travelMode = "transit"} end)
    assert_refused(function()
      return c.routes.matrix{origins = ORIGINS, travelMode = "walking", startTime = "2017-06-15T13:00:00"}
    end)
  end)

  it("is answered 400 by the emulator for endTime", function()
    local doc, err = c:call{api = "rest", path = "/REST/v1/Routes/DistanceMatrix", billing = {
      category = "Route-DistanceMatrix", units = 1}, params = {{"origins", "47.6,-122.3;47.7,-122.2"},
      {"travelMode", "driving"}, {"startTime", "2017-06-15T13:00:00"}, {"endTime", "2017-06-15T15:00:00"}}}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    assert.matches("no longer supported", err.message)
  end)

  it("raises on addresses, unknown options and wrong types", function()
    assert.has_error(function() c.routes.matrix{origins = {"Seattle"}} end)
    assert.has_error(function() c.routes.matrix{origins = ORIGINS, travelmode = "driving"} end)
    assert.has_error(function() c.routes.matrix{destinations = DESTS} end)
    assert.has_error(function() c.routes.matrix{origins = ORIGINS, async = "yes"} end)
  end)
end)
