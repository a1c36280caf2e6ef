-- client:batch in plain Lua (lua/bing/batch.lua over the curl multi handle of csrc/http.c),
-- against the emulator: order, failures in place, real concurrency seen by the server,
-- budget and qps held under concurrency, retries and job waits that yield, and a long batch
-- with seeded faults whose meter equals the emulator's ledger.
local bing = require "bing"
local client_mod = require "bing.client"
local core = require "bing.core"
local sim = require "support.sim"

local LOC = "/REST/v1/Locations"

-- A request spec of an unstructured geocode (what locations.find sends), with headers.
local function geocode_spec(q, headers)
  return {path = LOC, params = {{"q", q}}, billing = "RestLocations-Unstructured", headers = headers}
end

-- The emulator's entries for `path` since `since`, answered.
local function entries(path, since)
  sim.settle(10)
  return sim.entries(path, since)
end

local peak = sim.peak

before_each(function()
  sim.settle(10)
  sim.reset()
  client_mod.reset_accounts()
end)

describe("client:batch", function()
  it("returns what fn returned, in input order, with results.n and a summary", function()
    local c = sim.client()
    local items = {"London", "Paris", "Berlin", "Madrid", "Rome", "Vienna", "Oslo", "Lisbon", "Prague"}
    local since = sim.last_id()
    local out, sum = c:batch(items, function(cl, q, i)
      local locs = assert(cl.locations.find{q = q})
      return {q = q, i = i, name = locs[1] and locs[1].name}
    end, {concurrency = 4})
    assert.equal(#items, out.n)
    for i, q in ipairs(items) do
      assert.equal(q, out[i].q)
      assert.equal(i, out[i].i)
    end
    assert.same({done = #items, failed = 0, total = #items}, {done = sum.done, failed = sum.failed,
      total = sum.total})
    -- Every item reached the server, once.
    local seen = {}
    for _, e in ipairs(entries(LOC, since)) do seen[#seen + 1] = e.query.q end
    table.sort(seen)
    local want = {(table.unpack or unpack)(items)}
    table.sort(want)
    assert.same(want, seen)
  end)

  it("keeps each failure in its place and goes on with the others", function()
    local c = sim.client{retry = false}
    local out, sum = c:batch({"London", "", "Paris", "boom", "Rome"}, function(cl, q)
      if q == "boom" then error("a bug in fn") end
      if q == "Rome" then
        return cl:call(geocode_spec(q, {["X-Bingsim-Fault"] = "500"}))
      end
      return cl.locations.find{q = q}
    end, {concurrency = 5})
    assert.equal(5, out.n)
    assert.is_table(out[1]); assert.is_false(core.is_error(out[1]))
    assert.is_table(out[3]); assert.is_false(core.is_error(out[3]))
    -- An argument error raised by a family stays the family's error.
    assert.is_true(core.is_error(out[2]))
    assert.equal("argument", out[2].kind)
    assert.matches("q", out[2].message)
    -- A plain Lua error in fn stays in its item as an argument error, code Raised.
    assert.is_true(core.is_error(out[4]))
    assert.equal("argument", out[4].kind)
    assert.equal("Raised", out[4].code)
    assert.matches("a bug in fn", out[4].raised)
    assert.matches("batch_spec.lua", out[4].traceback)
    -- nil, err from fn: the err in place.
    assert.is_true(core.is_error(out[5]))
    assert.equal("http", out[5].kind)
    assert.equal(500, out[5].status)
    assert.equal(3, sum.failed)
    assert.equal(5, sum.done)
  end)

  it("has up to `concurrency` requests in flight at the emulator, never more", function()
    local c = sim.client()
    local items = {}
    for i = 1, 24 do items[i] = "Seattle " .. i end
    local since = sim.last_id()
    local out = c:batch(items, function(cl, q)
      return cl:call(geocode_spec(q, {["X-Bingsim-Fault"] = "delay;seconds=0.3"}))
    end, {concurrency = 8})
    for i = 1, #items do assert.is_false(core.is_error(out[i]), tostring(out[i])) end
    local list = entries(LOC, since)
    assert.equal(24, #list)
    local p = peak(list)
    assert.is_true(p >= 4, "peak in flight " .. p)
    assert.is_true(p <= 8, "peak in flight " .. p)
    -- Over kept-alive connections: at most 8 connections for 24 requests.
    local conns = {}
    for _, e in ipairs(list) do conns[e.conn] = true end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.is_true(n <= 8, n .. " connections")
  end)

  it("multiplexes the items over one HTTP/2 connection when the server offers h2", function()
    local c = sim.client{base_url = sim.https_url or os.getenv("SIM_HTTPS_URL"),
                         cafile = os.getenv("SIM_CA")}
    local items = {}
    for i = 1, 12 do items[i] = "Tacoma " .. i end
    local since = sim.last_id()
    local out = c:batch(items, function(cl, q)
      return cl:call(geocode_spec(q, {["X-Bingsim-Fault"] = "delay;seconds=0.3"}))
    end, {concurrency = 6})
    for i = 1, #items do assert.is_false(core.is_error(out[i]), tostring(out[i])) end
    local list = entries(LOC, since)
    assert.equal(12, #list)
    local conns = {}
    for _, e in ipairs(list) do
      assert.equal("HTTP/2.0", e.http)
      conns[e.conn] = true
    end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.equal(1, n)
    assert.is_true(peak(list) >= 3, "peak in flight " .. peak(list))
  end)

  it("lets exactly `budget` billable requests reach the emulator, the rest refused in place", function()
    local c = sim.client{budget = {billable = 5}}
    local items = {}
    for i = 1, 20 do items[i] = "Boston " .. i end
    local since = sim.last_id()
    local out, sum = c:batch(items, function(cl, q)
      return cl:call(geocode_spec(q, {["X-Bingsim-Fault"] = "delay;seconds=0.1"}))
    end, {concurrency = 8})
    assert.equal(5, #entries(LOC, since))
    local refused = 0
    for i = 1, 20 do
      if core.is_error(out[i]) then
        assert.equal("budget", out[i].kind)
        refused = refused + 1
      end
    end
    assert.equal(15, refused)
    assert.equal(15, sum.failed)
    assert.equal(5, c:usage().billable)
    assert.equal(5, sim.ledger().SIM_KEY["RestLocations-Unstructured"].billable)
  end)

  it("keeps qps across items: the emulator sees requests 1/qps apart", function()
    local c = sim.client{qps = 10}
    local items = {}
    for i = 1, 8 do items[i] = "Denver " .. i end
    local since = sim.last_id()
    c:batch(items, function(cl, q) return cl.locations.find{q = q} end, {concurrency = 8})
    local list = entries(LOC, since)
    assert.equal(8, #list)
    table.sort(list, function(a, b) return a.time < b.time end)
    for i = 2, #list do
      -- 0.1 s apart, less the emulator's millisecond clock and arrival jitter.
      assert.is_true(list[i].time - list[i - 1].time >= 0.08,
        ("requests %d and %d %.3f s apart"):format(i - 1, i, list[i].time - list[i - 1].time))
    end
  end)

  it("yields during a retry's back-off: the other items go on meanwhile", function()
    local c = sim.client()
    local since = sim.last_id()
    -- Retry-After is whole seconds (the emulator writes %d): 1 s.
    sim.fault{fault = "429", times = 1, retry_after = 1, path = LOC .. "/47.6,-122.3"}
    local out = c:batch({"first", "a", "b", "c"}, function(cl, q, i)
      if i == 1 then
        local locs, err = cl.locations.find{point = {47.6, -122.3}}
        return locs and locs.meta.attempts, err
      end
      return cl.locations.find{q = q}
    end, {concurrency = 4})
    assert.equal(2, out[1])
    sim.settle(10)
    local list = sim.log(since)
    local rev, geo = {}, {}
    for _, e in ipairs(list) do
      if e.path:find("47.6", 1, true) then rev[#rev + 1] = e end
      if e.path == LOC then geo[#geo + 1] = e end
    end
    assert.equal(2, #rev)
    assert.equal(3, #geo)
    -- The three geocodes were all answered before the retry arrived: they went on while
    -- item 1 slept its Retry-After (a blocking sleep would have held them back).
    for _, e in ipairs(geo) do
      assert.is_true(e.id < rev[2].id)
      assert.is_true(e.done <= rev[2].time, "a geocode answered after the retry arrived")
    end
  end)

  it("polls many async jobs at once: job:wait yields between polls", function()
    local c = sim.client{headers = {["X-Bingsim-Job-Delay"] = "0.5"}}
    local since = sim.last_id()
    local pts = {{47.60, -122.33}, {47.601, -122.331}}
    local out = c:batch({1, 2, 3, 4}, function(cl)
      local job = assert(cl.routes.snap{points = pts, async = true})
      local res, err = job:wait{timeout = 20, interval = 0.1, max_interval = 0.1}
      return res and job.id, err
    end, {concurrency = 4})
    local ids = {}
    for i = 1, 4 do
      assert.is_string(out[i], tostring(out[i]))
      ids[out[i]] = i
    end
    -- The polls of each job span an interval of time; the four intervals overlap.
    local spans = {}
    for _, e in ipairs(entries("/REST/v1/Routes/SnapToRoadAsyncCallback", since)) do
      local id = e.query.requestId or e.query.requestid
      local s = spans[id] or {time = e.time, done = e.done}
      s.time, s.done = math.min(s.time, e.time), math.max(s.done, e.done)
      spans[id] = s
    end
    local list = {}
    for id, s in pairs(spans) do
      assert.is_number(ids[id], "a poll of an unknown job " .. tostring(id))
      list[#list + 1] = s
    end
    assert.equal(4, #list)
    assert.equal(4, peak(list))
  end)

  it("calls on_progress after each item with done, failed, total and eta", function()
    local c = sim.client()
    local seen = {}
    c:batch({"a", "", "b", "c"}, function(cl, q) return cl.locations.find{q = q} end,
      {concurrency = 2, on_progress = function(p) seen[#seen + 1] = p end})
    assert.equal(4, #seen)
    for k, p in ipairs(seen) do
      assert.equal(k, p.done)
      assert.equal(4, p.total)
      assert.is_number(p.eta)
      assert.is_true(p.eta >= 0)
    end
    assert.equal(1, seen[4].failed)
    assert.equal(0, seen[4].eta)
  end)

  it("stops when on_progress raises: the calls in flight are cancelled, their budget given back", function()
    local c = sim.client{budget = {billable = 100}}
    local items = {}
    for i = 1, 10 do items[i] = "Austin " .. i end
    local ok, err = pcall(c.batch, c, items, function(cl, q)
      return cl:call(geocode_spec(q, {["X-Bingsim-Fault"] = "delay;seconds=0.2"}))
    end, {concurrency = 4, on_progress = function(p)
      if p.done == 1 then error("stop here") end
    end})
    assert.is_false(ok)
    assert.matches("stop here", tostring(err))
    -- Nothing held: the whole budget less what the server counted can still be spent.
    sim.settle(10)
    local spent = c:usage().billable
    assert.is_true(spent >= 1 and spent <= 4, "spent " .. spent)
    assert.is_true(c.meter:acquire(c:describe(geocode_spec("x")) ) )
    -- The client still works after the stopped batch.
    assert(c.locations.find{q = "Dallas"})
  end)

  it("runs a batch inside an item of another: no transfer of either is lost", function()
    local c = sim.client{headers = {["X-Bingsim-Fault"] = "delay;seconds=0.05"}}
    local since = sim.last_id()
    local out = c:batch({1, 2, 3, 4}, function(cl, k)
      if k == 2 then
        local inner = cl:batch({"in a", "in b", "in c"}, function(cl2, q)
          local locs, err = cl2.locations.find{q = q}
          return locs and q, err
        end, {concurrency = 3})
        return table.concat({inner[1], inner[2], inner[3]}, ",")
      end
      local locs, err = cl.locations.find{q = "outer " .. k}
      return locs and k, err
    end, {concurrency = 4})
    assert.same({1, "in a,in b,in c", 3, 4, n = 4}, out)
    assert.equal(6, #entries(LOC, since))
  end)

  it("refuses bad arguments before anything is sent", function()
    local c = sim.client()
    local since = sim.last_id()
    local function f() end
    for _, case in ipairs{
      {"items must be a list", function() c:batch("x", f) end},
      {"fn must be a function", function() c:batch({1}, 3) end},
      {"concurrency must be an integer", function() c:batch({1}, f, {concurrency = 0}) end},
      {"concurrency must be an integer", function() c:batch({1}, f, {concurrency = 1.5}) end},
      {"unknown option 'conc'", function() c:batch({1}, f, {conc = 2}) end},
      {"on_progress must be a function", function() c:batch({1}, f, {on_progress = 1}) end},
    } do
      local ok, err = pcall(case[2])
      assert.is_false(ok)
      assert.equal("argument", err.kind)
      assert.matches(case[1], err.message, 1, true)
    end
    assert.equal(0, #sim.log(since))
    local out, sum = c:batch({}, f)
    assert.equal(0, out.n)
    assert.equal(0, sum.total)
  end)

  it("runs the calls one at a time through a Lua transport (which cannot yield)", function()
    local depth, top = 0, 0
    local c = bing.new{key = "k", retry = false, transport = function()
      depth = depth + 1
      top = math.max(top, depth)
      depth = depth - 1
      return {status = 200, headers = {["content-type"] = "application/json"},
              body = '{"statusCode":200,"resourceSets":[{"estimatedTotal":0,"resources":[]}]}'}
    end}
    local out = c:batch({"a", "b", "c"}, function(cl, q) return cl.locations.find{q = q} end,
      {concurrency = 3})
    assert.equal(3, out.n)
    for i = 1, 3 do assert.is_table(out[i]); assert.is_false(core.is_error(out[i])) end
    assert.equal(1, top)
  end)

  it("loses nothing over 1,000 items with 5% seeded faults: the meter equals the ledger", function()
    local c = sim.client{retry = {base = 0.01, max = 0.05}}
    local rng_state = 12345
    local function rand() -- seeded (Park-Miller, exact in doubles): the same faults every run
      rng_state = (rng_state * 16807) % 2147483647
      return rng_state / 2147483647
    end
    local kinds = {"500", "503", "429;retry_after=0", "reset", "truncated", "malformed",
                   "throttled_empty", "delay;seconds=0.05"}
    local items, faulted = {}, 0
    for i = 1, 1000 do
      local f
      if rand() < 0.05 then
        f = kinds[math.floor(rand() * #kinds) + 1]
        faulted = faulted + 1
      end
      items[i] = {q = "Item " .. i, fault = f}
    end
    assert.is_true(faulted > 20)
    local since = sim.last_id()
    local out, sum = c:batch(items, function(cl, it)
      local doc, meta = cl:call(geocode_spec(it.q, it.fault and {["X-Bingsim-Fault"] = it.fault}))
      if not doc then return nil, meta end
      return {q = it.q, attempts = meta.attempts}
    end, {concurrency = 32})
    assert.equal(1000, sum.done)
    local ok, failed = 0, 0
    for i = 1, 1000 do
      local r = out[i]
      if core.is_error(r) then
        failed = failed + 1
        assert.is_string(items[i].fault, "item " .. i .. " failed without a fault: " .. tostring(r))
      else
        ok = ok + 1
        assert.equal(items[i].q, r.q)
      end
    end
    assert.equal(1000, ok + failed)
    assert.equal(failed, sum.failed)
    -- Every item without a fault reached the emulator, once.
    local per_q = {}
    for _, e in ipairs(entries(LOC, since)) do per_q[e.query.q] = (per_q[e.query.q] or 0) + 1 end
    for i = 1, 1000 do
      if not items[i].fault then assert.equal(1, per_q[items[i].q], items[i].q) end
    end
    local led = sim.ledger().SIM_KEY["RestLocations-Unstructured"]
    local u = c:usage().categories["RestLocations-Unstructured"]
    assert.same({billable = led.billable, non_billable = led.non_billable, requests = led.requests},
      {billable = u.billable, non_billable = u.non_billable, requests = u.requests})
  end)
end)

describe("bing.http transfers (the multi handle under client:batch)", function()
  local function url(q)
    return sim.url .. LOC .. "?q=" .. q .. "&key=" .. sim.key
  end

  it("starts, polls and takes the answers of several transfers, each id reported once", function()
    local h = core.http()
    local ids, want = {}, {}
    for i = 1, 5 do
      local id = h:start{url = url("Poll" .. i), headers = {["X-Bingsim-Fault"] = "delay;seconds=0.1"}}
      ids[#ids + 1] = id
      want[id] = "Poll" .. i
    end
    local got, rounds = {}, 0
    while next(want) and rounds < 500 do
      rounds = rounds + 1
      local done, running = h:poll(0.2)
      assert.is_number(running)
      for _, id in ipairs(done) do
        assert.is_string(want[id], "id " .. id .. " reported twice or unknown")
        local resp = assert(h:result(id))
        assert.equal(200, resp.status)
        got[id] = want[id]
        want[id] = nil
      end
    end
    assert.is_nil(next(want))
    for _, id in ipairs(ids) do assert.is_string(got[id]) end
    local done, running = h:poll(0)
    assert.same({}, done)
    assert.equal(0, running)
    h:close()
  end)

  it("cancels a running transfer; an unknown or cancelled id raises on result", function()
    local h = core.http()
    local id = h:start{url = url("Cancel"), headers = {["X-Bingsim-Fault"] = "delay;seconds=1"}}
    h:poll(0)
    h:cancel(id)
    h:cancel(id) -- twice is safe
    local _, running = h:poll(0)
    assert.equal(0, running)
    assert.has_error(function() h:result(id) end)
    assert.has_error(function() h:result(999) end)
    -- The session still works, and a perform meanwhile leaves other transfers' ids to poll.
    local other = h:start{url = url("Other")}
    local resp = assert(h:perform{url = url("Mine")})
    assert.equal(200, resp.status)
    local seen
    for _ = 1, 100 do
      local done = h:poll(0.1)
      if done[1] then seen = done[1]; break end
    end
    assert.equal(other, seen)
    assert.equal(200, assert(h:result(other)).status)
    h:close()
  end)

  it("closes with transfers still running, and refuses bad requests before they join", function()
    local h = core.http()
    h:start{url = url("Left1"), headers = {["X-Bingsim-Fault"] = "delay;seconds=1"}}
    h:start{url = url("Left2"), body = "x", method = "POST"}
    h:poll(0)
    assert.has_error(function() h:start{url = url("Bad"), headers = {["X-A"] = "a\r\nb"}} end)
    assert.has_error(function() h:start{url = 3} end)
    local _, running = h:poll(0)
    assert.equal(2, running)
    h:close()
    assert.has_error(function() h:poll(0) end)
    h:close()
  end)
end)
