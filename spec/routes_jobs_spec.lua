-- bing.jobs, the generic async job helper, on a scripted client and a virtual clock (no
-- network), and routes.job against the emulator.
local jobs = require "bing.jobs"
local bing = require "bing"
local sim = require "support.sim"

-- Answers of the status endpoint, in order.
local function status_doc(t)
  local r = {__type = "RouteProxyAsyncResult:http://schemas.microsoft.com/search/local/ws/rest/v1",
             requestId = "job-1", isAccepted = true}
  for k, v in pairs(t) do r[k] = v end
  return {resourceSets = {{estimatedTotal = 1, resources = {r}}}, statusCode = 200}
end

-- A client whose call() replays scripted answers and records the specs; its clock is virtual.
local function fake_client(answers)
  local c = {base_url = "https://dev.virtualearth.net", sds_url = "https://spatial.virtualearth.net",
             specs = {}, slept = {}, t = 0}
  c.clock = {now = function() return c.t end,
    sleep = function(s) c.slept[#c.slept + 1] = s; c.t = c.t + s end}
  function c:call(spec)
    self.specs[#self.specs + 1] = spec
    local a = table.remove(answers, 1)
    if type(a) == "function" then return a(spec) end
    return a, {billing = {category = type(spec.billing) == "table" and spec.billing.category or spec.billing}}
  end
  return c
end

jobs.register("test", {
  name = "test", aliases = {"TestAsync"},
  status_spec = function(id)
    return {api = "rest", path = "/REST/v1/Test/Callback", params = {{"requestId", id}}, billing = "CB"}
  end,
  result_billing = "CB",
  decode = function(doc, meta) return {doc = doc, meta = meta} end,
})

describe("jobs.start", function()
  -- Faults or jobs left by other spec files must not leak in.
  setup(function() sim.reset() end)

  it("reads the accepted status, with the key redacted from the service's URLs", function()
    local c = fake_client{status_doc{callbackInSeconds = 3, errorMessage = "Request accepted",
      callbackUrl = "https://dev.virtualearth.net/REST/v1/Test/Callback?key=SECRET123&requestId=job-1"}}
    local job = assert(jobs.start(c, "test", {path = "/REST/v1/TestAsync", billing = "X"}))
    assert.equal("job-1", job.id)
    assert.equal("test", job.kind)
    assert.is_false(job:done())
    assert.equal(3, job.status.callback_in)
    assert.is_nil(job.status.resource.callbackUrl:find("SECRET123", 1, true))
    assert.is_nil(tostring(job):find("SECRET", 1, true))
  end)

  it("gives kind job when the service does not accept the request", function()
    local c = fake_client{status_doc{isAccepted = false, errorMessage = "Too many points"}}
    local job, err = jobs.start(c, "test", {path = "/x", billing = "X"})
    assert.is_nil(job)
    assert.equal("job", err.kind)
    assert.equal("JobNotAccepted", err.code)
    assert.matches("Too many points", err.message)
  end)

  it("keeps what the refused or unreadable answer cost on the error (billing, attempts, url)", function()
    local billed = {category = "Route-TruckAsync", billable = true, transactions = 3}
    local function answer(doc)
      return function() return doc, {billing = billed, attempts = 2, url = "https://h/x?key=<redacted>",
                                      trace_id = "tr-1", status = 200} end
    end
    for _, doc in ipairs{status_doc{isAccepted = false, errorMessage = "Too many points"},
                         status_doc{requestId = "NONE"}, {resourceSets = {}}} do
      if doc.resourceSets[1] and doc.resourceSets[1].resources[1].requestId == "NONE" then
        doc.resourceSets[1].resources[1].requestId = nil
      end
      local c = fake_client{answer(doc)}
      local job, err = jobs.start(c, "test", {path = "/x", billing = "X"})
      assert.is_nil(job)
      assert.same(billed, err.billing)
      assert.equal(2, err.attempts)
      assert.equal("https://h/x?key=<redacted>", err.url)
      assert.equal("tr-1", err.trace_id)
    end
    -- A poll whose answer says the job failed: the poll's own billing.
    local cb = {category = "CB", billable = false, transactions = 1}
    local c = fake_client{answer(status_doc{callbackInSeconds = 1}), function()
      return status_doc{isCompleted = true, errorMessage = "Timeout occurred"},
        {billing = cb, attempts = 1, url = "https://h/cb"}
    end}
    local job = assert(jobs.start(c, "test", {path = "/x", billing = "X"}))
    local st, err = job:poll()
    assert.is_nil(st)
    assert.equal("JobFailed", err.code)
    assert.same(cb, err.billing)
    assert.equal(1, err.attempts)
  end)
end)

describe("Job:wait", function()
  it("waits what callbackInSeconds says, polls, then downloads resultUrl with its own key", function()
    local c = fake_client{
      status_doc{callbackInSeconds = 3},
      status_doc{callbackInSeconds = 2, isCompleted = false},
      status_doc{callbackInSeconds = -1, isCompleted = true,
        resultUrl = "https://dev.virtualearth.net/REST/v1/Test/Callback?key=SECRET&requestId=job-1"
          .. "&DownloadResult=true"},
      {resourceSets = {{resources = {{answer = 42}}}}},
    }
    local job = assert(jobs.start(c, "test", {path = "/x", billing = "X"}))
    local seen = {}
    local res = assert(job:wait{on_progress = function(st) seen[#seen + 1] = st.completed end})
    assert.same({3, 2}, c.slept)
    assert.same({false, true}, seen)
    assert.equal(42, res.doc.resourceSets[1].resources[1].answer)
    local dl = c.specs[4]
    assert.equal("rest", dl.api)
    assert.equal("/REST/v1/Test/Callback", dl.path)
    assert.same({{"requestId", "job-1"}, {"DownloadResult", "true"}}, dl.params)
    assert.equal("CB", dl.billing)
    assert.equal(2, job.polls)
    assert.equal("job-1", res.meta.job.id)
    -- Cached: no second download.
    assert.equal(res, (job:result()))
    assert.equal(4, #c.specs)
  end)

  it("fetches a result on another host without the key", function()
    local c = fake_client{
      status_doc{isCompleted = true, callbackInSeconds = -1,
        resultUrl = "https://routematrix.blob.core.windows.net/finalresults/job-1"},
      {origins = {}},
    }
    local job = jobs.resume(c, "test", "job-1")
    assert(job:wait())
    local dl = c.specs[2]
    assert.equal("https://routematrix.blob.core.windows.net/finalresults/job-1", dl.url)
    assert.is_true(dl.keyless)
    assert.is_nil(dl.path)
  end)

  it("fetches an http:// resultUrl on the service's host over the client's https, with its key", function()
    -- The service writes http:// in some of its URLs (optimized-itinerary.md's callbackUrl):
    -- the same host on its default port is the same service, reached through the client's
    -- base URL, never over plain http with the echoed key.
    for _, url in ipairs{
      "http://dev.virtualearth.net/REST/v1/Test/Callback?key=ECHOED&requestId=job-1&DownloadResult=true",
      "https://DEV.virtualearth.net:443/REST/v1/Test/Callback?key=ECHOED&requestId=job-1&DownloadResult=true",
    } do
      local c = fake_client{status_doc{isCompleted = true, callbackInSeconds = -1, resultUrl = url},
                            {resourceSets = {}}}
      assert(jobs.resume(c, "test", "job-1"):wait())
      local dl = c.specs[2]
      assert.equal("rest", dl.api)
      assert.is_nil(dl.url)
      assert.is_nil(dl.keyless)
      assert.equal("/REST/v1/Test/Callback", dl.path)
      assert.same({{"requestId", "job-1"}, {"DownloadResult", "true"}}, dl.params)
    end
    -- Another port, or another host, is another service.
    for _, url in ipairs{"https://dev.virtualearth.net:8443/r?requestId=job-1",
                         "https://dev.virtualearth.net.example/r?requestId=job-1"} do
      local c = fake_client{status_doc{isCompleted = true, callbackInSeconds = -1, resultUrl = url},
                            {resourceSets = {}}}
      assert(jobs.resume(c, "test", "job-1"):wait())
      assert.equal(url, c.specs[2].url)
      assert.is_true(c.specs[2].keyless)
    end
  end)

  it("takes a completed status that is the result itself (optimize)", function()
    local inline = {resourceSets = {{resources = {{__type = "OptimizeItinerary:x", isAccepted = true,
      isCompleted = true, agentItineraries = {}}}}}}
    local c = fake_client{inline}
    local res = assert(jobs.resume(c, "test", "job-1"):wait())
    assert.equal(inline, res.doc)
    assert.equal(1, #c.specs)
  end)

  it("reports a job completed without a result as kind job", function()
    local c = fake_client{status_doc{isCompleted = true, callbackInSeconds = -1,
      errorMessage = "Timeout occurred"}}
    local res, err = jobs.resume(c, "test", "job-1"):wait()
    assert.is_nil(res)
    assert.equal("job", err.kind)
    assert.equal("JobFailed", err.code)
    assert.matches("Timeout occurred", err.message)
  end)

  it("stops at the timeout with kind timeout and the job to wait on again", function()
    local answers = {status_doc{callbackInSeconds = 5}}
    for _ = 1, 10 do answers[#answers + 1] = status_doc{callbackInSeconds = 5} end
    local c = fake_client(answers)
    local job = assert(jobs.start(c, "test", {path = "/x", billing = "X"}))
    local res, err = job:wait{timeout = 12}
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.equal("JobTimeout", err.code)
    assert.equal(job, err.job)
    assert.is_true(c.t <= 12)
  end)

  it("stops when on_progress returns false", function()
    local c = fake_client{status_doc{callbackInSeconds = 1}, status_doc{callbackInSeconds = 1}}
    local job = assert(jobs.start(c, "test", {path = "/x", billing = "X"}))
    local res, err = job:wait{on_progress = function() return false end}
    assert.is_nil(res)
    assert.equal("Cancelled", err.code)
  end)

  it("passes on a poll's transport error", function()
    local c = fake_client{status_doc{callbackInSeconds = 1}, function()
      return nil, require("bing.errors").new("transport", "reset", {retryable = true})
    end}
    local job = assert(jobs.start(c, "test", {path = "/x", billing = "X"}))
    local res, err = job:wait()
    assert.is_nil(res)
    assert.equal("transport", err.kind)
  end)

  it("raises on unknown options", function()
    local job = jobs.resume(fake_client{}, "test", "job-1")
    assert.has_error(function() job:wait{timeuot = 3} end)
  end)
end)

describe("jobs.resume", function()
  it("knows kinds by name and alias, case-insensitively, and raises on others", function()
    assert.equal("test", jobs.resume(fake_client{}, "TESTASYNC", "id").kind)
    assert.has_error(function() jobs.resume(fake_client{}, "nope", "id") end)
    assert.has_error(function() jobs.resume(fake_client{}, "test", "") end)
  end)
end)

describe("jobs.url_spec", function()
  local c = {base_url = "https://dev.virtualearth.net/", sds_url = "https://spatial.virtualearth.net"}

  it("turns a URL of the client's own service into a path and params without the key", function()
    local s = jobs.url_spec(c, "https://DEV.virtualearth.net/REST/v1/Routes/X?Key=abc&requestId=a%20b&n=1",
      "CB")
    assert.equal("rest", s.api)
    assert.equal("/REST/v1/Routes/X", s.path)
    assert.same({{"requestId", "a b"}, {"n", "1"}}, s.params)
    s = jobs.url_spec(c, "https://spatial.virtualearth.net/REST/v1/Dataflows/x?key=k", "CB")
    assert.equal("sds", s.api)
  end)
end)

describe("routes.job", function()
  it("re-creates a job from its id and kind against the emulator", function()
    local c = bing.new{key = sim.key, base_url = sim.url, headers = {["X-Bingsim-Job-Delay"] = "0"}}
    local job = assert(c.routes.snap{points = {{47.60, -122.33}, {47.601, -122.331}}, async = true})
    local again = c.routes.job(job.id, "snap")
    assert.equal(job.id, again.id)
    local st = assert(again:poll())
    assert.is_true(st.completed)
    assert.equal("Route-SnapToRoadAsyncCallback", st.meta.billing.category)
    assert.is_false(st.meta.billing.billable)
    local res = assert(again:wait{timeout = 10})
    assert.equal(2, #res:path(true))
    assert.has_error(function() c.routes.job(job.id, "nonsense") end)
  end)

  it("gives the service's 404 for an id it does not know", function()
    local c = bing.new{key = sim.key, base_url = sim.url}
    local res, err = c.routes.job("00000000-0000-0000-0000-000000000000", "truck"):wait{timeout = 5}
    assert.is_nil(res)
    assert.equal(404, err.status)
  end)
end)

describe("routes billing", function()
  it("meters every routing API as the emulator's ledger books it", function()
    sim.reset()
    local socket = require "socket"
    local c = bing.new{key = sim.key, base_url = sim.url, headers = {["X-Bingsim-Job-Delay"] = "0.1"},
                       clock = {now = socket.gettime, sleep = function() socket.sleep(0.05) end}}
    local a, b = {47.60, -122.33}, {47.65, -122.30}
    assert(c.routes.calc{waypoints = {a, b}})
    assert(c.routes.calc{waypoints = {a, b}, travelMode = "Truck"})
    assert(c.routes.matrix{origins = {a, b, {47.7, -122.2}}, destinations = {a, b}})
    assert(c.routes.isochrone{waypoint = a, maxTime = 300})
    assert(c.routes.snap{points = {a, {47.601, -122.331}}})
    assert(c.routes.major_roads{destination = a})
    assert(c.routes.optimize{agents = {{name = "x", shifts = {{startTime = "2024-06-03T08:00:00",
      startLocation = a, endTime = "2024-06-03T18:00:00", endLocation = b}}}},
      items = {{openingTime = "2024-06-03T09:00:00", closingTime = "2024-06-03T17:00:00",
        dwellTime = "00:10:00",
                location = b}}})
    assert(assert(c.routes.calc{waypoints = {a, b}, travelMode = "Truck", async = true}):wait{timeout = 10})
    assert(assert(c.routes.matrix{origins = {a, b}, startTime = "2024-06-03T08:00:00",
                                  async = true}):wait{timeout = 10})
    assert(c.routes.isochrone{waypoint = a, maxTime = 40, timeUnit = "minute"})
    assert(c.routes.optimize{agents = {{name = "x", shifts = {{startTime = "2024-06-03T08:00:00",
      startLocation = a, endTime = "2024-06-03T18:00:00", endLocation = b}}}},
      items = {{openingTime = "2024-06-03T09:00:00", closingTime = "2024-06-03T17:00:00",
        dwellTime = "00:10:00",
                location = b}}, async = true}):wait{timeout = 10}
    sim.settle()
    local ledger = sim.ledger().SIM_KEY
    local usage = c:usage().categories
    local n = 0
    for cat, led in pairs(ledger) do
      n = n + 1
      local mine = usage[cat]
      assert.is_table(mine, cat)
      assert.equal(led.billable, mine.billable, cat)
      assert.equal(led.non_billable, mine.non_billable, cat)
      assert.equal(led.requests, mine.requests, cat)
    end
    for cat in pairs(usage) do assert.is_table(ledger[cat], cat) end
    assert.is_true(n >= 12)
    assert.equal(3, ledger["Route-Truck"].billable)
    assert.equal(1, ledger["Route-DistanceMatrix"].billable) -- 6 pairs less 2 of the same point
    assert.equal(0, ledger["Route-TruckAsyncCallback"].billable)
  end)
end)
