-- bing.retry and the retry loop of client:call: what is retried, how long it waits, when it
-- stops. The policy is checked as a unit, the loop through a Lua transport with a fake clock,
-- and each fault against the emulator, judged from its log of attempts (never from timing).
local bing = require "bing"
local retry = require "bing.retry"
local errors = require "bing.errors"
local cjson = require "cjson"

local OK = cjson.encode{authenticationResultCode = "ValidCredentials", statusCode = 200,
  statusDescription = "OK", traceId = "t", resourceSets = {{estimatedTotal = 0, resources = {}}}}

local fake_clock = require "support.fake_clock"

-- A transport answering from a list; each entry a response table, or {fail = kind, code =}.
local function scripted(list)
  local t = {requests = {}}
  t.fn = function(req)
    t.requests[#t.requests + 1] = {method = req.method, timeout = req.timeout}
    local r = list[math.min(#t.requests, #list)]
    if r.fail then
      return nil, errors.new(r.fail, r.message or "failed", {code = r.code, retryable = true})
    end
    return r
  end
  return t
end

local function status(code, headers)
  return {status = code, headers = headers or {}, body = cjson.encode{statusCode = code,
    statusDescription = "x", errorDetails = {"x"}, resourceSets = {}}}
end
local function ok() return {status = 200, headers = {}, body = OK} end

describe("retry.policy", function()
  it("has defaults, and false means one attempt", function()
    assert.same({attempts = 4, base = 0.5, max = 30, jitter = true, deadline = 120}, retry.policy())
    assert.equal(1, retry.policy(false).attempts)
    assert.equal(7, retry.policy{attempts = 7}.attempts)
  end)

  it("raises an argument error for unknown options and bad values", function()
    for _, opt in ipairs{{tries = 3}, {attempts = 0}, {attempts = 1.5}, {base = -1},
                         {deadline = 0}, {jitter = "yes"}, {on_retry = 1}} do
      local ok_, err = pcall(bing.new, {key = "k", retry = opt})
      assert.is_false(ok_, cjson.encode(opt))
      assert.equal("argument", err.kind)
    end
  end)
end)

describe("retry.retryable", function()
  local function e(kind, st, code) return {kind = kind, status = st, code = code, retryable = true} end
  local cases = {
    -- name, err, for an idempotent request, for one that creates a job
    {"429", e("throttled", 429), true, true},
    {"throttled-empty 200", e("throttled", 200, "ThrottledEmpty"), true, true},
    {"503", e("http", 503), true, true},
    {"500", e("http", 500), true, false},
    {"502", e("http", 502), true, false},
    {"504", e("http", 504), true, false},
    {"408", e("timeout", 408), true, false},
    {"timeout", e("timeout", nil, "CURLE_OPERATION_TIMEDOUT"), true, false},
    {"reset", e("transport", nil, "CURLE_RECV_ERROR"), true, false},
    {"cut-off body", e("transport", nil, "CURLE_PARTIAL_FILE"), true, false},
    {"connection refused", e("transport", nil, "CURLE_COULDNT_CONNECT"), true, true},
    {"connect timeout (nothing sent)", {kind = "timeout", code = "CURLE_OPERATION_TIMEDOUT",
      retryable = true, sent = false}, true, true},
    {"TLS handshake failed (nothing sent)", {kind = "transport", code = "CURLE_SSL_CONNECT_ERROR",
      retryable = true, sent = false}, true, true},
    {"timeout after sending", {kind = "timeout", code = "CURLE_OPERATION_TIMEDOUT",
      retryable = true, sent = true}, true, false},
    {"400", {kind = "http", status = 400, retryable = false}, false, false},
    {"401", {kind = "auth", status = 401, retryable = false}, false, false},
    {"403", {kind = "auth", status = 403, retryable = false}, false, false},
    {"404", {kind = "http", status = 404, retryable = false}, false, false},
    {"decode", {kind = "decode", status = 200, retryable = false}, false, false},
  }
  for _, c in ipairs(cases) do
    it(string.format("%s: idempotent %s, job-creating %s", c[1], c[3], c[4]), function()
      assert.equal(c[3], retry.retryable(c[2], true))
      assert.equal(c[4], retry.retryable(c[2], false))
    end)
  end
end)

describe("retry.next_delay", function()
  local err = {kind = "http", status = 503, retryable = true}

  it("draws full jitter in [0, min(max, base * 2^(n-1))]", function()
    local r = 0
    local p = retry.policy{base = 1, max = 5, random = function() return r end}
    for n, cap in ipairs{1, 2, 4, 5, 5} do
      p.attempts = 10
      r = 0
      assert.equal(0, retry.next_delay(p, err, n, true, 0))
      r = 1
      assert.equal(cap, retry.next_delay(p, err, n, true, 0))
      r = 0.5
      assert.equal(cap / 2, retry.next_delay(p, err, n, true, 0))
    end
  end)

  it("takes the cap itself without jitter", function()
    local p = retry.policy{base = 0.25, jitter = false, attempts = 5}
    assert.same({0.25, 0.5, 1}, {retry.next_delay(p, err, 1, true, 0), retry.next_delay(p, err, 2, true, 0),
                                 retry.next_delay(p, err, 3, true, 0)})
  end)

  it("honours Retry-After as given, even above max", function()
    local p = retry.policy{max = 1}
    local function throttled(after)
      return {kind = "throttled", status = 429, retryable = true, retry_after = after}
    end
    assert.equal(7, retry.next_delay(p, throttled(7), 1, false, 0))
    assert.equal(0, retry.next_delay(p, throttled(0), 1, false, 0))
  end)

  it("gives up on a Retry-After longer than the longest wait (a day), whatever the deadline", function()
    local p = retry.policy{deadline = 3 * 86400}
    local function throttled(after)
      return {kind = "throttled", status = 429, retryable = true, retry_after = after}
    end
    assert.equal(86400, retry.next_delay(p, throttled(86400), 1, true, 0))
    assert.same({nil, "retry_after"}, {retry.next_delay(p, throttled(86401), 1, true, 0)})
    assert.same({nil, "retry_after"}, {retry.next_delay(p, throttled(100000000), 1, true, 0)})
  end)

  it("refuses a retry.max above the longest wait, at bing.new", function()
    local ok_, e = pcall(bing.new, {key = "k", retry = {max = 86401, deadline = 3 * 86400}})
    assert.is_false(ok_)
    assert.equal("argument", e.kind)
    assert.matches("retry.max", e.message, 1, true)
  end)

  it("stops at the attempt limit, at the deadline, and at a final error, and says which", function()
    local p = retry.policy{attempts = 3, deadline = 10, jitter = false, base = 1}
    assert.same({nil, "attempts"}, {retry.next_delay(p, err, 3, true, 0)})
    assert.same({nil, "deadline"}, {retry.next_delay(p, err, 1, true, 9.5)})
    assert.same({nil, "final"}, {retry.next_delay(p, {kind = "http", status = 400}, 1, true, 0)})
    assert.same({nil, "deadline"},
      {retry.next_delay(p, {kind = "throttled", retryable = true, retry_after = 11}, 1, true, 0)})
  end)
end)

describe("the retry loop of client:call", function()
  local function client(t, clock, extra)
    local o = {key = "k", transport = t.fn, clock = clock or fake_clock(),
               retry = {jitter = false, base = 0.1}}
    for k, v in pairs(extra or {}) do o[k] = v end
    return bing.new(o)
  end
  local JOB = {path = "/REST/v1/Routes/DistanceMatrixAsync", method = "POST", body = {origins = {}},
               billing = {category = "Route-DistanceMatrixAsync", units = 4}}
  local function job_spec()
    local s = {}
    for k, v in pairs(JOB) do s[k] = v end
    return s
  end

  it("does not repeat a job-creating POST after a 500, a reset or a timeout", function()
    for _, first in ipairs{status(500), {fail = "transport", code = "CURLE_RECV_ERROR"},
                           {fail = "timeout", code = "CURLE_OPERATION_TIMEDOUT"}} do
      local t = scripted{first, ok()}
      local doc, err = client(t):call(job_spec())
      assert.is_nil(doc)
      assert.equal(1, #t.requests)
      assert.equal(1, err.attempts)
    end
  end)

  it("repeats a job-creating POST the service refused (429, throttled-empty, 503, refused)", function()
    for _, first in ipairs{status(429, {["retry-after"] = "0"}), status(503),
                           {status = 200, headers = {["x-ms-bm-ws-info"] = "1"}, body = OK},
                           {fail = "transport", code = "CURLE_COULDNT_CONNECT"}} do
      local t = scripted{first, ok()}
      local doc, meta = client(t):call(job_spec())
      assert.is_table(doc)
      assert.equal(2, #t.requests)
      assert.equal(2, meta.attempts)
    end
  end)

  it("repeats a status check (GET) and a compute POST marked idempotent after a 500", function()
    local t = scripted{status(500), ok()}
    assert(client(t):call{path = "/REST/v1/Routes/DistanceMatrixAsyncCallback", params = {{"requestId", "x"}},
                          billing = "Route-DistanceMatrixAsyncCallback"})
    assert.equal(2, #t.requests)
    t = scripted{status(502), ok()}
    assert(client(t):call{path = "/REST/v1/Routes/DistanceMatrix", method = "POST", body = {},
                          idempotent = true, billing = {category = "Route-DistanceMatrix", units = 4}})
    assert.equal(2, #t.requests)
  end)

  it("lets a family mark a GET as not idempotent", function()
    local t = scripted{status(500), ok()}
    local _, err = client(t):call{path = "/x", billing = "RESTRoutes", idempotent = false}
    assert.equal(1, #t.requests)
    assert.equal(500, err.status)
  end)

  it("sleeps the backoff between attempts and reports each to on_retry", function()
    local t = scripted{status(503), status(503), ok()}
    local clock, seen = fake_clock(), {}
    local c = client(t, clock, {retry = {jitter = false, base = 0.1, on_retry = function(info)
      seen[#seen + 1] = {info.attempt, info.delay, info.err.status, info.category, info.method}
    end}})
    local _, meta = assert(c:call{path = "/x", billing = "RESTRoutes"})
    assert.same({0.1, 0.2}, clock.sleeps)
    assert.same({{1, 0.1, 503, "RESTRoutes", "GET"}, {2, 0.2, 503, "RESTRoutes", "GET"}}, seen)
    assert.equal(3, meta.attempts)
    assert.is_nil(meta.url:find("key=k", 1, true))
  end)

  it("runs on_retry under pcall: a failing hook neither breaks nor stops the request", function()
    local t = scripted{status(503), status(503), ok()}
    local calls = 0
    local c = client(t, nil, {retry = {base = 0, on_retry = function()
      calls = calls + 1
      error("hook broke")
    end}})
    local doc, meta = c:call{path = "/x", billing = "RESTRoutes"}
    assert.is_table(doc)
    assert.equal(3, meta.attempts)
    assert.equal(2, calls)
  end)

  it("keeps the first error of on_retry on the result (meta.hook_error)", function()
    local t = scripted{status(503), status(503), ok()}
    local n = 0
    local c = client(t, nil, {key = "SecretKey-42", retry = {base = 0, on_retry = function()
      n = n + 1
      error("hook broke #" .. n .. " with SecretKey-42", 0)
    end}})
    local doc, meta = c:call{path = "/x", billing = "RESTRoutes"}
    assert.is_table(doc)
    assert.equal(3, #t.requests)
    assert.equal("hook broke #1 with <redacted>", meta.hook_error)
  end)

  it("keeps it on the error when the call fails, and no hook error when the hook works", function()
    local t = scripted{status(503)}
    local c = client(t, nil, {retry = {attempts = 2, base = 0, on_retry = function() error("nope", 0) end}})
    local _, err = c:call{path = "/x", billing = "RESTRoutes"}
    assert.equal(503, err.status)
    assert.equal("nope", err.hook_error)
    local _, meta = assert(client(scripted{status(503), ok()}, nil,
      {retry = {base = 0, on_retry = function() end}}):call{path = "/x", billing = "RESTRoutes"})
    assert.is_nil(meta.hook_error)
  end)

  it("never lets a hook escape, even one raising a value whose __tostring raises", function()
    local evil = setmetatable({}, {__tostring = function() error("tostring broke") end})
    local notext = setmetatable({}, {__tostring = function() return {} end})
    for _, raised in ipairs{evil, notext} do
      local t = scripted{status(503), status(503)}
      local c = client(t, nil, {retry = {attempts = 2, base = 0, on_retry = function() error(raised) end}})
      local okc, doc, err = pcall(c.call, c, {path = "/x", billing = "RESTRoutes"})
      assert.is_true(okc, tostring(doc))
      assert.is_nil(doc)
      assert.equal(2, #t.requests)
      assert.equal("on_retry raised a table that cannot be turned into text", err.hook_error)
    end
  end)

  it("gives up at the attempt limit with meta.attempts and gave_up on the error", function()
    local t = scripted{status(503)}
    local c = client(t, nil, {retry = {attempts = 3, base = 0}})
    local _, err = c:call{path = "/x", billing = "RESTRoutes"}
    assert.equal(3, #t.requests)
    assert.equal(3, err.attempts)
    assert.equal("attempts", err.gave_up)
    assert.same({category = "RESTRoutes", billable = false, transactions = 0}, err.billing)
  end)

  it("does not sleep past the deadline, and cuts each attempt's timeout to the time left", function()
    local t = scripted{status(503)}
    local clock = fake_clock()
    local c = client(t, clock, {timeout = 30,
                                retry = {deadline = 5, jitter = false, base = 2, attempts = 10}})
    local _, err = c:call{path = "/x", billing = "RESTRoutes"}
    -- t=0 attempt 1 (timeout 5), sleep 2; t=2 attempt 2 (timeout 3), then 4 more would pass 5
    assert.same({2}, clock.sleeps)
    assert.equal(2, #t.requests)
    assert.equal(5, t.requests[1].timeout)
    assert.equal(3, t.requests[2].timeout)
    assert.equal("deadline", err.gave_up)
    assert.equal(2, err.attempts)
  end)

  it("leaves the request's own timeout alone when the deadline is far", function()
    local t = scripted{ok()}
    assert(client(t, nil, {timeout = 3}):call{path = "/x", billing = "RESTRoutes", timeout = 2})
    assert.equal(2, t.requests[1].timeout)
  end)

  it("gives up, without raising, on a Retry-After over a day, and holds no budget", function()
    -- The default clock: core.sleep refuses a sleep longer than a day.
    local t = scripted{status(429, {["retry-after"] = "90000"}), ok()}
    local c = bing.new{key = "k", transport = t.fn, retry = {deadline = 3 * 86400},
                       budget = {billable = 1}}
    local okc, doc, err = pcall(c.call, c, {path = "/x", billing = "RESTRoutes"})
    assert.is_true(okc, tostring(doc))
    assert.is_nil(doc)
    assert.equal("throttled", err.kind)
    assert.equal("retry_after", err.gave_up)
    assert.equal(90000, err.retry_after)
    assert.equal(1, #t.requests)
    assert.equal(0, c.meter:in_flight().billable)
    -- The budget of one is still there for the next call.
    assert(c:call{path = "/x", billing = "RESTRoutes"})
    assert.equal(2, #t.requests)
  end)

  it("gives the reservation back when the client's clock raises, and lets the raise go on", function()
    local t = scripted{status(503), ok()}
    local clock = fake_clock()
    clock.sleep = function() error("clock broke", 0) end
    local c = client(t, clock, {budget = {billable = 1}})
    local okc, e = pcall(c.call, c, {path = "/x", billing = "RESTRoutes"})
    assert.is_false(okc)
    assert.equal("clock broke", e)
    assert(c:call{path = "/x", billing = "RESTRoutes"})
  end)

  it("never retries with retry = false", function()
    local t = scripted{status(429, {["retry-after"] = "0"}), ok()}
    local _, err = client(t, nil, {retry = false}):call{path = "/x", billing = "RESTRoutes"}
    assert.equal(1, #t.requests)
    assert.equal("throttled", err.kind)
    assert.equal("attempts", err.gave_up)
  end)
end)

describe("retries against the emulator", function()
  local sim = require "support.sim"
  local function client(extra)
    local o = {key = sim.key, base_url = sim.url, retry = {base = 0.01, max = 0.05}}
    for k, v in pairs(extra or {}) do o[k] = v end
    return bing.new(o)
  end
  local function attempts_logged()
    local n = 0
    for _, e in ipairs(sim.log()) do
      if e.path:find("^/REST/") then n = n + 1 end
    end
    return n
  end
  before_each(function() sim.reset() end)

  local RECOVERS = {
    {fault = "429", retry_after = 0}, {fault = "503"}, {fault = "500"}, {fault = "throttled_empty"},
    {fault = "reset"}, {fault = "truncated"}, {fault = "html"}, {fault = "html", status = 504},
  }
  for _, f in ipairs(RECOVERS) do
    it("recovers from two " .. f.fault .. (f.status and (" " .. f.status) or "") .. " on a GET", function()
      local spec = {times = 2}
      for k, v in pairs(f) do spec[k] = v end
      sim.fault(spec)
      local locs, err = client().locations.find{q = "Seattle"}
      assert.is_nil(err)
      assert.is_table(locs)
      assert.equal(3, locs.meta.attempts)
      assert.equal(3, attempts_logged())
    end)
  end

  it("gives up on an absurd Retry-After (over a day) and keeps no budget", function()
    sim.fault{fault = "429", times = 1, retry_after = 100000}
    local c = client{retry = {deadline = 3 * 86400}, budget = {billable = 1}}
    local okc, locs, err = pcall(c.locations.find, {q = "Seattle"})
    assert.is_true(okc, tostring(locs))
    assert.is_nil(locs)
    assert.equal("throttled", err.kind)
    assert.equal("retry_after", err.gave_up)
    assert.equal(100000, err.retry_after)
    assert.equal(1, attempts_logged())
    assert(c.locations.find{q = "Seattle"})
    assert.equal(2, attempts_logged())
    assert.equal(1, c:usage().billable)
  end)

  it("recovers from a timeout on a GET", function()
    sim.fault{fault = "delay", seconds = 1, times = 1}
    local locs = assert(client{timeout = 0.25}.locations.find{q = "Seattle"})
    assert.equal(2, locs.meta.attempts)
    assert.equal(2, attempts_logged())
    -- Let the delayed request finish before the next spec resets the emulator: an entry
    -- completed after a reset would show up in the next spec's log.
    sim.settle(10)
  end)

  local FAILS = {
    {name = "400", kind = "http", status = 400, call = {params = {{"q", "x"}, {"o", "xml"}}}},
    {name = "401", kind = "auth", status = 401, key = "NotAValidKey-0123456789"},
    {name = "403", kind = "auth", status = 403, fault = {fault = "html", status = 403, times = 5}},
    {name = "404", kind = "http", status = 404, call = {path = "/REST/v1/NoSuchApi"}},
    {name = "a body that does not decode", kind = "decode", fault = {fault = "malformed", times = 5}},
  }
  for _, f in ipairs(FAILS) do
    it("fails at once on " .. f.name, function()
      if f.fault then sim.fault(f.fault) end
      local c = client{key = f.key or sim.key}
      local spec = {path = "/REST/v1/Locations", params = {{"q", "Seattle"}},
                    billing = "RestLocations-Unstructured"}
      for k, v in pairs(f.call or {}) do spec[k] = v end
      local doc, err = c:call(spec)
      assert.is_nil(doc)
      assert.equal(f.kind, err.kind)
      if f.status then assert.equal(f.status, err.status) end
      assert.equal(1, err.attempts)
      assert.is_nil(err.gave_up)
      assert.equal(1, attempts_logged())
    end)
  end

  it("does not repeat a job-creating POST after a 500, and repeats it after a 429", function()
    local spec = {path = "/REST/v1/Routes/DistanceMatrixAsync", method = "POST",
                  body = {origins = {{latitude = 47.6, longitude = -122.3}}, travelMode = "driving"},
                  billing = {category = "Route-DistanceMatrixAsync", units = 1}}
    sim.fault{fault = "500", times = 3}
    local _, err = client():call(spec)
    assert.equal(500, err.status)
    assert.equal(1, attempts_logged())
    sim.reset()
    sim.fault{fault = "429", times = 2, retry_after = 0}
    local _, err2 = client():call(spec)
    assert.equal(3, attempts_logged())
    -- whatever the emulator answers the third time, the two 429s were repeated
    assert.is_true(err2 == nil or err2.attempts == 3)
  end)

  it("obeys Retry-After, by the server's own clock", function()
    sim.fault{fault = "429", times = 1, retry_after = 1}
    local locs = assert(client().locations.find{q = "Seattle"})
    assert.equal(2, locs.meta.attempts)
    local log = sim.log()
    assert.equal(2, #log)
    assert.is_true(log[2].time - log[1].time >= 1 - 0.01,
      "second attempt " .. (log[2].time - log[1].time) .. " s after the first")
  end)

  it("respects the deadline: no attempt is started after it", function()
    sim.fault{fault = "429", times = 10, retry_after = 1}
    local _, err = client{retry = {deadline = 1.5}}.locations.find{q = "Seattle"}
    assert.equal("throttled", err.kind)
    assert.equal("deadline", err.gave_up)
    assert.equal(2, err.attempts)
    assert.equal(2, attempts_logged())
  end)

  it("stops after `attempts` attempts", function()
    sim.fault{fault = "503", times = 10}
    local _, err = client{retry = {attempts = 3, base = 0}}.locations.find{q = "Seattle"}
    assert.equal(503, err.status)
    assert.equal("attempts", err.gave_up)
    assert.equal(3, err.attempts)
    assert.equal(3, attempts_logged())
  end)
end)
