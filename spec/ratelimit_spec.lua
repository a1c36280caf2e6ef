-- bing.ratelimit and the client's `qps`: requests really spaced 1/qps apart, checked on a fake
-- clock and against the emulator's request log timestamps (lower bounds only: no spec here
-- can fail because the machine is slow).
local bing = require "bing"
local ratelimit = require "bing.ratelimit"
local cjson = require "cjson"

local OK = cjson.encode{authenticationResultCode = "ValidCredentials", statusCode = 200,
  resourceSets = {{estimatedTotal = 0, resources = {}}}}

local fake_clock = require "support.fake_clock"

describe("ratelimit.new", function()
  it("raises for a qps that is not a positive number", function()
    for _, q in ipairs{0, -1, 0 / 0, math.huge} do
      local ok, err = pcall(bing.new, {key = "k", qps = q})
      assert.is_false(ok, tostring(q))
      assert.equal("argument", err.kind)
    end
    local ok = pcall(bing.new, {key = "k", qps = "5"})
    assert.is_false(ok)
  end)
end)

describe("bucket:take", function()
  it("lets the first request go at once, then spaces the next ones 1/qps apart", function()
    local clock = fake_clock()
    local b = ratelimit.new(4, clock)
    local at = {}
    for i = 1, 5 do
      b:take()
      at[i] = clock.t
    end
    assert.same({0, 0.25, 0.5, 0.75, 1.0}, at)
  end)

  it("does not save up tokens: after a pause the spacing starts again, with no burst", function()
    local clock = fake_clock()
    local b = ratelimit.new(2, clock)
    b:take()
    clock.t = 10 -- idle for a long time
    b:take()
    assert.equal(10, clock.t)
    b:take()
    assert.equal(10.5, clock.t)
  end)

  it("measures the next gap from the real wake-up time, so a late sleep never shortens it", function()
    local c = {t = 0}
    c.now = function() return c.t end
    c.sleep = function(s) c.t = c.t + s + 0.03 end -- oversleeps
    local b = ratelimit.new(10, c)
    b:take()
    b:take()
    assert.near(0.13, c.t, 1e-9)
    assert.near(0.1, b:wait_time(), 1e-9) -- the next one leaves at 0.23, not 0.2
  end)

  it("does the same for buckets sharing a store: a late wake-up moves the next free slot", function()
    local store = require "bing.store"
    local c = {t = 0}
    c.now = function() return c.t end
    c.sleep = function(s) c.t = c.t + s + 0.03 end -- oversleeps
    local s = store.memory()
    local a, b = ratelimit.new(10, c, s), ratelimit.new(10, c, s)
    a:take()
    b:take() -- slot 0.1, leaves at 0.13
    assert.near(0.13, c.t, 1e-9)
    assert.near(0.23, s:get(ratelimit.STORE_KEY), 1e-9)
    a:take()
    assert.near(0.26, c.t, 1e-9) -- slot 0.23, not 0.2
  end)

  it("sleeps again when a sleep ends early", function()
    local c = {t = 0, n = 0}
    c.now = function() return c.t end
    c.sleep = function(s)
      c.n = c.n + 1
      c.t = c.t + s / 2 -- wakes up half way
    end
    local b = ratelimit.new(1, c)
    b:take()
    b:take()
    assert.is_true(c.t >= 1 - 1e-6)
    assert.is_true(c.n > 1)
  end)

  it("says how long the next request would wait", function()
    local clock = fake_clock()
    local b = ratelimit.new(5, clock)
    assert.equal(0, b:wait_time())
    b:take()
    assert.near(0.2, b:wait_time(), 1e-9)
  end)
end)

describe("client qps", function()
  it("spaces every attempt, retries included", function()
    local clock = fake_clock()
    local stamps, n = {}, 0
    local c = bing.new{key = "k", clock = clock, qps = 2, retry = {base = 0, jitter = false},
      transport = function()
        n = n + 1
        stamps[n] = clock.t
        if n == 2 then return {status = 503, headers = {}, body = "{}"} end
        return {status = 200, headers = {}, body = OK}
      end}
    assert(c:call{path = "/x", billing = "RESTRoutes"})
    assert(c:call{path = "/x", billing = "RESTRoutes"}) -- a 503, then a retry
    assert(c:call{path = "/x", billing = "RESTRoutes"})
    assert.same({0, 0.5, 1.0, 1.5}, stamps)
  end)
end)

describe("qps against the emulator", function()
  local sim = require "support.sim"
  before_each(function() sim.reset() end)

  -- The server's timestamps have millisecond resolution, and on a loaded machine (or under
  -- the sanitizers) one request can reach nginx a few tens of milliseconds after it was sent,
  -- which shortens its gap to the next one. The client's own spacing is checked exactly with
  -- a fake clock above; here each gap may lose up to JITTER to transit, and the span of all
  -- requests must still be (n - 1)/qps: a limiter that let requests through together would
  -- give gaps of a millisecond or two and fail both.
  local JITTER = 0.02
  local function spaced(log, qps)
    for i = 2, #log do
      local gap = log[i].time - log[i - 1].time
      assert.is_true(gap >= 1 / qps - JITTER,
        string.format("requests %d and %d were %.4f s apart", i - 1, i, gap))
    end
    local span = log[#log].time - log[1].time
    assert.is_true(span >= (#log - 1) / qps - JITTER,
      string.format("%d requests spanned %.4f s", #log, span))
  end

  it("spaces requests at least 1/qps apart, as the server saw them", function()
    local qps = 20
    local c = bing.new{key = sim.key, base_url = sim.url, qps = qps}
    for _ = 1, 12 do assert(c.locations.find{q = "Seattle"}) end
    local log = sim.log()
    assert.equal(12, #log)
    spaced(log, qps)
  end)

  it("spaces the retries of a throttled request too", function()
    local qps = 10
    sim.fault{fault = "429", times = 3, retry_after = 0}
    local c = bing.new{key = sim.key, base_url = sim.url, qps = qps}
    local locs = assert(c.locations.find{q = "Seattle"})
    assert.equal(4, locs.meta.attempts)
    local log = sim.log()
    assert.equal(4, #log)
    spaced(log, qps)
  end)

  it("is per client: two clients are each limited on their own", function()
    local a = bing.new{key = sim.key, base_url = sim.url, qps = 10}
    local b = bing.new{key = sim.key, base_url = sim.url, qps = 10}
    for _ = 1, 3 do
      assert(a.locations.find{q = "Seattle"})
      assert(b.locations.find{q = "Seattle"})
    end
    local log = sim.log()
    assert.equal(6, #log)
    -- a's requests are entries 1, 3, 5: spaced; b's 2, 4, 6: spaced
    for _, pair in ipairs{{1, 3}, {3, 5}, {2, 4}, {4, 6}} do
      assert.is_true(log[pair[2]].time - log[pair[1]].time >= 0.1 - JITTER)
    end
  end)
end)
