-- The client's billing meter against the emulator's server-side ledger (GET /_sim/ledger):
-- the same rules, the same decisions, and the same counts, category by category, on a mixed
-- workload over every landed family, with faults, session keys and budgets.
local bing = require "bing"
local billing = require "bing.billing"
local client_mod = require "bing.client"
local sim = require "support.sim"

-- The emulator's other session keys, with their ledger labels.
local function session(i)
  local key = sim.session_keys[i]
  return {key = key, label = sim.labels[key]}
end

local function client(opts)
  opts = opts or {}
  opts.retry = opts.retry or {base = 0.01, max = 0.05}
  opts.headers = opts.headers or {["X-Bingsim-Job-Delay"] = "0"}
  return sim.client(opts)
end

local function line(n, lat0)
  local t = {}
  for i = 1, n do t[i] = {(lat0 or 47.6) + i * 0.01, -122.3 + i * 0.005} end
  return t
end

-- Every logged request answered: a request whose client gave up (a timeout) is booked by
-- the server when it finishes.
local function settle() sim.settle(10) end

-- Asserts that the meter of `c` equals the ledger of `label`, category by category.
local function assert_meter_is_ledger(c, label)
  settle()
  local led = sim.ledger()[label] or {}
  local u = c:usage()
  local names = {}
  for name in pairs(led) do names[name] = true end
  for name in pairs(u.categories) do names[name] = true end
  local billable, non_billable = 0, 0
  for name in pairs(names) do
    local l = led[name] or {billable = 0, non_billable = 0, requests = 0}
    local m = u.categories[name] or {billable = 0, non_billable = 0, requests = 0}
    assert.same({billable = l.billable, non_billable = l.non_billable, requests = l.requests},
      {billable = m.billable, non_billable = m.non_billable, requests = m.requests},
      "category " .. name .. " (ledger first, meter second)")
    billable, non_billable = billable + l.billable, non_billable + l.non_billable
  end
  assert.equal(billable, u.billable)
  assert.equal(non_billable, u.non_billable)
  return led, u
end


before_each(function()
  sim.reset()
  client_mod.reset_accounts()
end)

describe("the emulator's ledger rules", function()
  it("are the transaction table of bing.billing, row by row", function()
    local rules = sim.rules()
    assert.equal(billing.SESSION_FREE_REQUESTS, rules.session_free_requests)
    for name, row in pairs(billing.ROWS) do
      local r = rules.categories[name]
      assert.is_table(r, "the ledger has no category " .. name)
      assert.equal(row.billable, r.billable, name)
      assert.equal(row.session_free == true, r.session_free, name)
      assert.equal(row.every, r.every, name)
    end
    for name in pairs(rules.categories) do
      assert.is_table(billing.ROWS[name], "extra ledger row " .. name)
    end
  end)

  it("record the answers bing.billing.billed counts, and only those", function()
    local rec = sim.rules().record
    local e = function(kind, message) return {kind = kind, message = message or "x"} end
    assert.equal(rec.ok, billing.billed(200, nil))
    assert.equal(rec.client_error, billing.billed(400, e("http")))
    assert.equal(rec.client_error, billing.billed(404, e("http")))
    assert.equal(rec.auth_error, billing.billed(401, e("auth")))
    assert.equal(rec.auth_error, billing.billed(403, e("auth")))
    assert.equal(rec.throttled, billing.billed(429, e("throttled")))
    assert.equal(rec.throttled, billing.billed(200, e("throttled")))
    assert.equal(rec.server_error, billing.billed(500, e("http")))
    assert.equal(rec.server_error, billing.billed(503, e("http")))
    assert.equal(rec.server_error, billing.billed(502, e("http", "HTTP 502 (non-JSON body)")))
    assert.equal(rec.transport, billing.billed(nil, e("transport")))
    assert.equal(rec.transport, billing.billed(200, e("decode")))
    assert.is_false(rec.throttled) -- the decision written next to the table
  end)
end)

describe("the meter equals the ledger", function()
  it("on a mixed workload of Locations (and Routes when landed), with faults", function()
    local c = client()
    -- Locations, every form
    for _, q in ipairs{"Seattle", "Space Needle", "1 Microsoft Way, Redmond, WA"} do
      assert(c.locations.find{q = q})
    end
    assert(c.locations.find{address = {locality = "Redmond", adminDistrict = "WA"}})
    assert(c.locations.find{address = {addressLine = "1 Microsoft Way", locality = "Redmond"}})
    assert(c.locations.find{point = {47.64054, -122.12934}})
    assert(c.locations.find{point = {47.6205, -122.3493}})
    assert(c.locations.recognize{point = {47.64054, -122.12934}})
    assert(c.locations.local_search{query = "coffee", userLocation = {47.6062, -122.3321}})
    -- Faults: a 429 and a reset are retried and not billed; a throttled-empty answer is
    -- retried and not billed; a body that does not decode is not billed; a 400 is billed;
    -- a timeout is billed (the server finished the work) and retried.
    sim.fault{fault = "429", times = 1, retry_after = 0}
    assert(c.locations.find{q = "Seattle"})
    sim.fault{fault = "reset", times = 1}
    assert(c.locations.find{q = "Seattle"})
    sim.fault{fault = "throttled_empty", times = 1}
    assert(c.locations.find{q = "Seattle"})
    sim.fault{fault = "malformed", times = 1}
    assert.equal("decode", select(2, c.locations.find{q = "Seattle"}).kind)
    local _, e400 = c:call{path = "/REST/v1/Locations", params = {{"q", "x"}, {"o", "xml"}},
                           billing = "RestLocations-Unstructured"}
    assert.equal(400, e400.status)
    sim.fault{fault = "delay", seconds = 0.6, times = 1}
    local slow = assert(c.locations.find{q = "Seattle", timeout = 0.2})
    assert.equal(2, slow.meta.attempts)
    -- a key the service does not know: nothing booked anywhere
    local bad = client{key = "NotAValidKey-0123456789"}
    assert.equal("auth", select(2, bad.locations.find{q = "Seattle"}).kind)
    assert.equal(0, bad:usage().requests)

    assert(c.routes.calc{waypoints = line(2)})
    assert(c.routes.calc{waypoints = line(2), travelMode = "walking"})
    assert(c.routes.calc{waypoints = line(30)})                  -- split: 2 requests
    assert(c.routes.calc{waypoints = line(2), travelMode = "truck"}) -- 3 transactions
    assert(c.routes.matrix{origins = line(3)})                   -- 6 cells: 2
    assert(c.routes.matrix{origins = line(3), destinations = line(5, 47.0)}) -- 15 cells: 4
    assert(c.routes.isochrone{waypoint = {47.6, -122.3}, maxTime = 10, timeUnit = "minute"})
    assert(c.routes.snap{points = line(5)})
    assert(c.routes.major_roads{destination = {47.6, -122.3}})
    sim.fault{fault = "throttled_empty", times = 1, path = "/REST/v1/Routes"}
    assert(c.routes.calc{waypoints = line(3)})
    sim.fault{fault = "500", times = 1, path = "/REST/v1/Routes"}
    assert(c.routes.matrix{origins = line(2)})
    -- an async job: created (billable), polled and downloaded (non-billable callbacks);
    -- a 503 on the creating POST is retried (the service refused it)
    sim.fault{fault = "503", times = 1, path = "/REST/v1/Routes/DistanceMatrixAsync"}
    local job = assert(c.routes.matrix{origins = line(2), destinations = line(3, 47.0),
                                       startTime = "2024-01-01T08:00:00", async = true})
    assert(job:wait{timeout = 10})
    local _, u = assert_meter_is_ledger(c, "SIM_KEY")
    assert.is_true(u.billable > 0)
    assert.equal(3, u.categories["Route-Truck"].billable)
    assert.equal(1, u.categories["Route-DistanceMatrixAsync"].requests)
    assert.is_true(u.categories["Route-DistanceMatrixAsyncCallback"].non_billable >= 1)
  end)

  it("across the 25 requests of a session key, in every category", function()
    local s = session(1)
    local c = client{session_key = s.key}
    for _ = 1, 15 do assert(c.locations.find{q = "Seattle"}) end
    -- billable with a session key too (no footnote 3), and they use up the session's 25
    for _ = 1, 5 do assert(c.routes.matrix{origins = line(2)}) end
    for _ = 1, 10 do assert(c.routes.calc{waypoints = line(2)}) end
    local _, u = assert_meter_is_ledger(c, s.label)
    -- 30 requests: the first 25 of the footnote-3 ones are free, the 26th on billable
    assert.same({billable = 0, non_billable = 15, requests = 15},
      u.categories["RestLocations-Unstructured"])
    assert.same({billable = 5, non_billable = 5, requests = 10}, u.categories.RESTRoutes)
    assert.equal(5, u.categories["Route-DistanceMatrix"].billable)
    assert.equal(5, u.hints.session_allowance.transactions)
  end)

  it("with two clients sharing one session key", function()
    local s = session(2)
    local a = client{session_key = s.key}
    local b = client{session_key = s.key}
    for _ = 1, 20 do assert(a.locations.find{q = "Seattle"}) end
    for _ = 1, 10 do assert(b.locations.find{q = "Seattle"}) end
    local led = sim.ledger()[s.label]["RestLocations-Unstructured"]
    assert.same({billable = 5, non_billable = 25, requests = 30}, led)
    local cat = "RestLocations-Unstructured"
    assert.same({billable = 0, non_billable = 20, requests = 20}, a:usage().categories[cat])
    assert.same({billable = 5, non_billable = 5, requests = 10}, b:usage().categories[cat])
  end)

  it("with a session key, where throttled answers use none of the 25", function()
    local s = session(3)
    local c = client{session_key = s.key}
    sim.fault{fault = "429", times = 3, retry_after = 0}
    for _ = 1, 25 do assert(c.locations.find{q = "Seattle"}) end
    assert(c.locations.find{q = "Seattle"})
    local led = assert_meter_is_ledger(c, s.label)
    assert.same({billable = 1, non_billable = 25, requests = 26}, led["RestLocations-Unstructured"])
  end)
end)

describe("budgets against the emulator", function()
  local function requests_seen()
    local n = 0
    for _, e in ipairs(sim.log()) do
      if e.path:find("^/REST/") then n = n + 1 end
    end
    return n
  end

  it("refuse the call that would pass the budget before sending it", function()
    local c = client{budget = {billable = 3}}
    for _ = 1, 3 do assert(c.locations.find{q = "Seattle"}) end
    local locs, err = c.locations.find{q = "Seattle"}
    assert.is_nil(locs)
    assert.equal("budget", err.kind)
    assert.equal(0, err.attempts)
    assert.equal(3, requests_seen())
    assert.equal(3, sim.ledger().SIM_KEY["RestLocations-Unstructured"].billable)
    -- non-billable calls still go: the budget counts billable transactions
    local est = assert(c.locations.find{q = "Seattle", dry_run = true})
    assert.is_false(est.fits)
    assert.equal(3, requests_seen())
  end)

  it("refuse a split call whose whole cost does not fit: nothing of it is sent", function()
    local c = client{budget = {billable = 4}}
    assert(c.routes.calc{waypoints = line(60)}) -- 3 requests, 3 transactions
    assert.equal(3, requests_seen())
    local r, err = c.routes.calc{waypoints = line(30)} -- 2 more: 5 > 4
    assert.is_nil(r)
    assert.equal("budget", err.kind)
    assert.equal(3, requests_seen())
    -- a 60 x 60 matrix is split in blocks; its whole cost is refused up front
    local m, merr = c.routes.matrix{origins = line(60)}
    assert.is_nil(m)
    assert.equal("budget", merr.kind)
    assert.equal(3, requests_seen())
    assert.equal(3, c:usage().billable)
  end)

  it("refuse per category", function()
    local c = client{budget = {per_category = {["Route-Truck"] = 5}}}
    assert(c.routes.calc{waypoints = line(2), travelMode = "truck"})
    local r, err = c.routes.calc{waypoints = line(2), travelMode = "truck"}
    assert.is_nil(r)
    assert.equal("budget", err.kind)
    assert.matches("Route%-Truck", err.message)
    assert.equal(1, requests_seen())
    assert(c.routes.calc{waypoints = line(2)})
  end)
end)

describe("estimates of split calls", function()
  it("price a 60-waypoint route and a 120 x 120 matrix without sending", function()
    local c = client()
    local est = assert(bing.estimate(c, "routes", "calc", {waypoints = line(60)}))
    assert.equal(3, est.requests)
    assert.equal(3, est.billing.transactions)
    assert.equal("RESTRoutes", est.billing.category)
    local pts = {}
    for i = 1, 120 do pts[i] = {47 + (i % 12) * 0.05, -122 - math.floor(i / 12) * 0.05} end
    local m = assert(c:estimate("routes", "matrix", {origins = pts}))
    assert.is_true(m.requests > 1)
    -- 120 x 120 cells less the 120 pairs of a point with itself, each request rounded up
    assert.is_true(m.billing.transactions >= (120 * 120 - 120) / 4)
    assert.is_true(m.billing.transactions < (120 * 120 - 120) / 4 + m.requests)
    assert.equal(0, #sim.log())
  end)
end)
