-- bing.store and what lives in one: the billing meter (totals, hints, budget, reservations in
-- flight) and the rate limiter's slots, shared by every client of the store. Plain Lua: the
-- workers of an nginx are simulated by coroutines whose every store operation is a point where
-- the other workers may run, and the specs go through every interleaving (or, where a lock
-- makes them endless, hundreds of seeded random ones). spec/ngx_shared_spec.lua runs the same
-- in a real nginx with two workers.
local bing = require "bing"
local billing = require "bing.billing"
local ratelimit = require "bing.ratelimit"
local store = require "bing.store"
local cjson = require "cjson"
local fake_clock = require "support.fake_clock"

local OK = cjson.encode{authenticationResultCode = "ValidCredentials", statusCode = 200,
  resourceSets = {{estimatedTotal = 0, resources = {}}}}

local function desc(cat, units) return billing.describe{category = cat, units = units} end

-- The scheduler ---------------------------------------------------------------------------

-- Runs `tasks` (functions) as coroutines, one step at a time: a step runs one task up to its
-- next yield. `pick(step, runnable)` says which of the runnable tasks (indices) goes.
local function run(tasks, pick)
  local cos = {}
  for i, fn in ipairs(tasks) do cos[i] = coroutine.create(fn) end
  for step = 1, 100000 do
    local runnable = {}
    for i, co in ipairs(cos) do
      if coroutine.status(co) ~= "dead" then runnable[#runnable + 1] = i end
    end
    if #runnable == 0 then return step - 1 end
    local co = cos[runnable[pick(step, runnable)]]
    local ok, err = coroutine.resume(co)
    if not ok then error(debug.traceback(co, tostring(err)), 0) end
  end
  error("the tasks did not end within 100000 steps")
end

-- Every interleaving of the tasks `make()` returns (a fresh world each time:
-- `{tasks = {...}}`), `check(world)` after each. Returns how many there were.
local function every_interleaving(make, check)
  local prefix, runs = {}, 0
  while true do
    local world = make()
    local choices, counts = {}, {}
    run(world.tasks, function(step, runnable)
      local c = prefix[step] or 1
      choices[step], counts[step] = c, #runnable
      return c
    end)
    check(world)
    runs = runs + 1
    local j = #choices
    while j > 0 and choices[j] >= counts[j] do j = j - 1 end
    if j == 0 then return runs end
    prefix = {}
    for i = 1, j - 1 do prefix[i] = choices[i] end
    prefix[j] = choices[j] + 1
  end
end

-- `n` seeded random interleavings (a small LCG: the same on Lua 5.4 and LuaJIT).
local function random_interleavings(n, make, check)
  for seed = 1, n do
    local x = seed * 7919
    local world = make()
    run(world.tasks, function(_, runnable)
      x = (x * 1103515245 + 12345) % 2147483648
      return x % #runnable + 1
    end)
    check(world, seed)
  end
end

-- Whether the code runs in a task (Lua 5.4's running() names the main coroutine too).
local function in_task()
  local co, main = coroutine.running()
  return co ~= nil and not main
end

-- Lets the other tasks run (outside a task: nothing to let run).
local function pause()
  if in_task() then coroutine.yield() end
end

-- A store whose every operation first lets the other tasks run: what a worker in another
-- process may do between two operations of this one.
local function yielding(s)
  return {
    incr = function(_, k, n) pause(); return s:incr(k, n) end,
    get = function(_, k) pause(); return s:get(k) end,
    take = function(_, k, i, now) pause(); return s:take(k, i, now) end,
  }
end

-- A stand-in for one lua_shared_dict of ngx_lua (the methods bing.store uses, with their
-- return values), each method a point where other tasks may run.
local function fake_dict(opts)
  opts = opts or {}
  local d = {data = {}, ops = 0}
  local function step()
    d.ops = d.ops + 1
    if opts.yield ~= false then pause() end
  end
  function d.get(_, k) step(); return d.data[k] end
  function d.incr(_, k, n)
    step()
    if d.data[k] == nil then return nil, "not found" end
    d.data[k] = d.data[k] + n
    return d.data[k]
  end
  function d.safe_add(_, k, v)
    step()
    if opts.full then return nil, "no memory" end
    if d.data[k] ~= nil then return false, "exists" end
    d.data[k] = v
    return true
  end
  function d.safe_set(_, k, v)
    step()
    if opts.full then return nil, "no memory" end
    d.data[k] = v
    return true
  end
  function d.delete(_, k) step(); d.data[k] = nil; return true end
  return d
end

-- Runs fn with a global `ngx` holding the dicts (by name); ngx.sleep yields when in a task.
local function with_ngx(dicts, fn)
  local slept = 0
  rawset(_G, "ngx", {shared = dicts, sleep = function()
    slept = slept + 1
    pause()
  end})
  local ok, err = pcall(fn)
  rawset(_G, "ngx", nil)
  if not ok then error(err, 0) end
  return slept
end

-- bing.store --------------------------------------------------------------------------------

describe("store.memory()", function()
  it("adds to a counter that starts at 0, and reads it", function()
    local s = store.memory()
    assert.is_nil(s:get("a"))
    assert.equal(3, s:incr("a", 3))
    assert.equal(1, s:incr("a", -2))
    assert.equal(1, s:get("a"))
  end)

  it("takes slots interval apart, starting now when the last slot has passed", function()
    local s = store.memory()
    assert.equal(10, s:take("q", 0.5, 10))
    assert.equal(10.5, s:take("q", 0.5, 10))
    assert.equal(11, s:take("q", 0.5, 10.2))
    assert.equal(20, s:take("q", 0.5, 20)) -- idle: no burst saved up
    assert.equal(20.5, s:get("q"))
  end)
end)

describe("bing.new{store =}", function()
  it("takes a store and refuses a table without its methods", function()
    local c = bing.new{key = "k", store = store.memory(), qps = 5, budget = {billable = 3}}
    assert.is_table(c.meter.store)
    assert.is_table(c.limiter.store)
    for _, bad in ipairs{{}, {incr = print, get = print}, {incr = 1, get = print, take = print}} do
      local ok, err = pcall(bing.new, {key = "k", store = bad})
      assert.is_false(ok)
      assert.equal("argument", err.kind)
      assert.matches("store must have the methods incr, get and take", err.message, 1, true)
    end
    local ok, err = pcall(bing.new, {key = "k", store = "bing"})
    assert.is_false(ok)
    assert.matches("option 'store' must be a table, got string", err.message, 1, true)
    ok, err = pcall(bing.new, {key = "k", stores = store.memory()})
    assert.is_false(ok)
    assert.matches("unknown option 'stores'", err.message, 1, true)
  end)
end)

-- The meter in a store ------------------------------------------------------------------------

describe("meter in a store", function()
  -- Calls recorded the same way in two meters: the one of a client alone, and one in a store.
  local function record_all(m, mode)
    local a = billing.account(mode == "session")
    local cats = {"RESTRoutes", "RestLocations-Unstructured", "RestLocations-Structured",
                  "Route-TruckAsyncCallback", "RESTAutosuggest"}
    for i = 1, 60 do
      local d = billing.describe(cats[i % #cats + 1], a)
      a:advance(d)
      m:record(d)
    end
    for _ = 1, 3 do
      local d = billing.describe({category = "Route-DistanceMatrix", units = 9}, a)
      a:advance(d)
      m:record(d)
    end
    m:record(billing.describe({category = "Dataflow:BatchGeocode", units = 5, also = "Dataflow:Create"}, a))
  end

  it("gives the usage and hints a meter of its own gives, for a key and a session key", function()
    for _, mode in ipairs{"key", "session"} do
      local own, shared = billing.meter(nil, mode), billing.meter(nil, mode, store.memory())
      record_all(own, mode)
      record_all(shared, mode)
      local u = shared:usage()
      assert.same(own:usage(), u)
      assert.is_true(u.billable > 0 and u.non_billable > 0, mode)
      assert.is_true(next(u.hints) ~= nil, mode)
    end
  end)

  it("adds up the calls of every meter of the store", function()
    local s = store.memory()
    local a, b = billing.meter(nil, "key", s), billing.meter(nil, "key", s)
    a:record(desc("RESTRoutes"))
    b:record(desc("Route-Truck"))
    b:record(desc("Route-TruckAsyncCallback"))
    for _, m in ipairs{a, b} do
      local u = m:usage()
      assert.equal(4, u.billable)
      assert.equal(1, u.non_billable)
      assert.equal(3, u.requests)
      assert.same({billable = 3, non_billable = 0, requests = 1}, u.categories["Route-Truck"])
    end
  end)

  it("refuses past a budget spent by another meter of the store, per category too", function()
    local s = store.memory()
    local budget = billing.check_budget{billable = 10, per_category = {["Route-Truck"] = 6}}
    local a, b = billing.meter(budget, "key", s), billing.meter(budget, "key", s)
    assert.is_true(a:acquire(desc("Route-Truck")))
    a:record(desc("Route-Truck"))
    a:release(desc("Route-Truck"))
    assert.is_true(b:acquire(desc("Route-Truck")))
    b:record(desc("Route-Truck"))
    b:release(desc("Route-Truck"))
    local ok, err = a:acquire(desc("Route-Truck"))
    assert.is_nil(ok)
    assert.equal("budget", err.kind)
    assert.matches("budget of 6 billable Route%-Truck transactions would be passed %(6 spent, this call 3%)",
      err.message)
    assert.same({category = "Route-Truck", limit = 6, spent = 6, wanted = 3}, err.budget)
    -- the refused cost was taken back: 4 more fit in the total, 5 do not
    assert.is_true(b:check{desc("RESTRoutes"), desc("RESTRoutes"), desc("RESTRoutes"), desc("RESTRoutes")})
    for _ = 1, 4 do assert.is_true(b:acquire(desc("RESTRoutes"))) end
    ok, err = a:acquire(desc("RESTRoutes"))
    assert.is_nil(ok)
    assert.matches("budget of 10 billable transactions would be passed %(10 spent, this call 1%)",
      err.message)
    assert.equal(10, s:get("held"))
  end)

  it("counts the reservations in flight of every meter as spent, until released", function()
    local s = store.memory()
    local budget = billing.check_budget{billable = 2}
    local a, b = billing.meter(budget, "key", s), billing.meter(budget, "key", s)
    local d = desc("RESTRoutes")
    assert.is_true(a:acquire(d))
    assert.is_true(a:acquire(d))
    assert.is_nil((b:check(d)))
    assert.is_nil((b:acquire(d)))
    a:release(d)
    assert.is_true(b:check(d))
    assert.is_true(b:acquire(d))
    a:release(d)
    b:release(d)
    assert.equal(0, s:get("held"))
    assert.equal(0, s:get("cat:RESTRoutes:held"))
  end)

  it("never refuses non-billable transactions", function()
    local m = billing.meter(billing.check_budget{billable = 0}, "key", store.memory())
    assert.is_true(m:acquire(desc("Route-DistanceMatrixAsyncCallback")))
    assert.is_nil((m:acquire(desc("RESTRoutes"))))
  end)

  it("resets the totals of the store for every meter, not the reservations in flight", function()
    local s = store.memory()
    local budget = billing.check_budget{billable = 3}
    local a, b = billing.meter(budget, "key", s), billing.meter(nil, "key", s)
    a:record(desc("RESTRoutes"))
    b:record(desc("RESTRoutes"))
    assert.is_true(a:acquire(desc("RESTRoutes"))) -- in flight
    b:reset()
    assert.same({billable = 0, non_billable = 0, requests = 0, categories = {}, hints = {}}, a:usage())
    assert.equal(1, s:get("held"))
    assert.is_true(a:acquire(desc("RESTRoutes")))
    assert.is_true(a:acquire(desc("RESTRoutes")))
    assert.is_nil((a:acquire(desc("RESTRoutes"))))
  end)
end)

describe("meter over a memory store (its table changed directly)", function()
  -- The same store seen through its methods only: every change goes through store:incr.
  local function through_methods(inner)
    return {incr = function(_, k, n) return inner:incr(k, n) end,
            get = function(_, k) return inner:get(k) end,
            take = function(_, k, i, now) return inner:take(k, i, now) end}
  end

  it("leaves the store as a store used through its methods does, over random operations", function()
    local SEED = 1130
    math.randomseed(SEED)
    local costs = {
      function() return desc("RESTRoutes") end, function() return desc("Route-Truck") end,
      function() return desc("Route-TruckAsyncCallback") end,
      function() return desc("Route-DistanceMatrix", math.random(0, 40)) end,
      function() return desc("RestLocations-Unstructured") end,
      function()
        return billing.describe{category = "Dataflow:BatchGeocode", units = math.random(0, 9),
                                also = "Dataflow:Create"}
      end,
      function()
        return billing.describe{category = "RESTSpatialDataService:Geodata", also = {"RESTLocations"}}
      end,
      function() return {desc("RESTRoutes"), desc("Route-Truck")} end,
    }
    for _, budget in ipairs{false, {billable = 40}, {per_category = {["Route-Truck"] = 9, RESTRoutes = 5}}} do
      for _, mode in ipairs{"key", "session"} do
        local direct, inner = store.memory(), store.memory()
        local b = budget and billing.check_budget(budget) or nil
        local m1, m2 = billing.meter(b, mode, direct), billing.meter(b, mode, through_methods(inner))
        for step = 1, 400 do
          local cost = costs[math.random(#costs)]()
          local op = math.random(1, 4)
          local r1, r2
          if op == 1 then
            r1, r2 = {m1:acquire(cost)}, {m2:acquire(cost)}
            assert.equal(r1[1], r2[1], "step " .. step)
            if r1[1] then
              if cost.category or cost.also or cost.transactions then
                m1:record(cost)
                m2:record(cost)
              end
              m1:release(cost)
              m2:release(cost)
            end
          elseif op == 2 then
            m1:reserve(cost)
            m2:reserve(cost)
            assert.same(m1:in_flight(), m2:in_flight())
            m1:release(cost)
            m2:release(cost)
          elseif op == 3 then
            r1, r2 = {m1:check(cost)}, {m2:check(cost)}
            assert.equal(r1[1], r2[1])
          elseif math.random() < 0.05 then
            m1:reset()
            m2:reset()
          end
          assert.same(inner.data, direct.data, string.format("seed %d step %d", SEED, step))
        end
        assert.same(m1:usage(), m2:usage())
        assert.same({billable = 0, categories = {}}, m1:in_flight())
      end
    end
  end)
end)

describe("meter in a store, workers interleaved", function()
  -- Two workers (each its own meter on one store) want `costs[i]` RESTRoutes requests (a
  -- split call) when `spent` of the budget are gone. Returns how many interleavings there
  -- were, and how many ended with 0, 1 or 2 workers let through.
  local function race(make_store, budget, spent, costs)
    local outcomes = {}
    local n = every_interleaving(function()
      local w = {s = make_store(), got = {}, tasks = {}}
      local b = billing.check_budget(budget)
      local setup = billing.meter(nil, "key", w.s)
      for _ = 1, spent do setup:record(desc("RESTRoutes")) end
      for i = 1, 2 do
        w.tasks[i] = function()
          local m = billing.meter(b, "key", w.s)
          local cost = {}
          for j = 1, costs[i] do cost[j] = desc("RESTRoutes") end
          w.got[i] = m:acquire(cost) == true
        end
      end
      return w
    end, function(w)
      local got = (w.got[1] and 1 or 0) + (w.got[2] and 1 or 0)
      outcomes[got] = (outcomes[got] or 0) + 1
      local limit = budget.billable or budget.per_category.RESTRoutes
      local held = spent + (w.got[1] and costs[1] or 0) + (w.got[2] and costs[2] or 0)
      assert.is_true(held <= limit, "the workers passed the budget together")
      -- what is held afterwards is what was spent plus the reservations let through: the
      -- refused costs were taken back
      assert.equal(held, w.s:get("held"))
      assert.equal(held, w.s:get("cat:RESTRoutes:held"))
    end)
    return n, outcomes
  end

  it("gives the last transaction to exactly one of two workers, in every interleaving", function()
    local n, outcomes = race(function() return yielding(store.memory()) end, {billable = 4}, 3, {1, 1})
    assert.is_true(n >= 6, n .. " interleavings")
    assert.same({[1] = n}, outcomes)
  end)

  it("holds per category too", function()
    local n, outcomes = race(function() return yielding(store.memory()) end,
      {billable = 100, per_category = {RESTRoutes = 4}}, 3, {1, 1})
    assert.is_true(n >= 6, n .. " interleavings")
    assert.same({[1] = n}, outcomes)
  end)

  it("errs on the safe side when a cost that cannot fit races one that can", function()
    -- Worker 2's cost of 2 never fits; while it is being taken back, worker 1 may be refused.
    local n, outcomes = race(function() return yielding(store.memory()) end, {billable = 4}, 3, {1, 2})
    assert.equal(n, (outcomes[0] or 0) + (outcomes[1] or 0))
    assert.is_true(outcomes[1] > 0)
    assert.is_true(outcomes[0] > 0)
  end)

  it("over a lua_shared_dict whose keys do not exist yet (racing to add them)", function()
    local n, outcomes = race(function()
      rawset(_G, "ngx", {shared = {bing = fake_dict()}, sleep = pause})
      local s = store.shared_dict("bing")
      rawset(_G, "ngx", nil)
      return s
    end, {billable = 1}, 0, {1, 1})
    assert.is_true(n >= 100, n .. " interleavings")
    assert.same({[1] = n}, outcomes)
  end)

  it("the same two steps done apart (check, then reserve) would let both through", function()
    -- The harness finds the race an unsplit acquire avoids.
    local both = 0
    every_interleaving(function()
      local w = {s = yielding(store.memory()), got = {}, tasks = {}}
      local b = billing.check_budget{billable = 1}
      for i = 1, 2 do
        w.tasks[i] = function()
          local m = billing.meter(b, "key", w.s)
          if m:check(desc("RESTRoutes")) then
            m:reserve(desc("RESTRoutes"))
            w.got[i] = true
          end
        end
      end
      return w
    end, function(w)
      if w.got[1] and w.got[2] then both = both + 1 end
    end)
    assert.is_true(both > 0)
  end)

  it("lets exactly one of two clients' concurrent calls reach the service (random interleavings)",
    function()
      random_interleavings(300, function()
        local w = {s = store.memory(), sent = 0, results = {}, tasks = {}}
        local shared = yielding(w.s)
        for i = 1, 2 do
          w.tasks[i] = function()
            local c = bing.new{key = "k", store = shared, budget = {billable = 1}, retry = false,
              transport = function()
                pause() -- in flight: the other worker runs
                w.sent = w.sent + 1
                return {status = 200, headers = {}, body = OK}
              end}
            local doc, err = c:call{path = "/x", billing = "RESTRoutes"}
            w.results[i] = doc and "ok" or err.kind
          end
        end
        return w
      end, function(w, seed)
        assert.equal(1, w.sent, "seed " .. seed)
        table.sort(w.results)
        assert.same({"budget", "ok"}, w.results, "seed " .. seed)
        assert.equal(1, w.s:get("billable"))
        assert.equal(1, w.s:get("held")) -- the spent one; nothing left in flight
      end)
    end)
end)

-- The rate limiter in a store ------------------------------------------------------------------

describe("bucket in a store", function()
  it("spaces the requests of every bucket of the store 1/qps apart", function()
    local clock = fake_clock()
    local s = store.memory()
    local a, b = ratelimit.new(4, clock, s), ratelimit.new(4, clock, s)
    local at = {}
    for i = 1, 3 do
      a:take()
      at[#at + 1] = clock.t
      b:take()
      at[#at + 1] = clock.t
      assert.near(0.25, a:wait_time(), 1e-9, i)
    end
    assert.same({0, 0.25, 0.5, 0.75, 1.0, 1.25}, at)
    clock.t = 10 -- idle: no burst
    b:take()
    a:take()
    assert.equal(10.25, clock.t)
  end)

  it("spaces the calls of two clients of the store, retries included", function()
    local clock = fake_clock()
    local s = store.memory()
    local stamps = {}
    local function client(fail_first)
      local n = 0
      return bing.new{key = "k", clock = clock, qps = 2, store = s, retry = {base = 0, jitter = false},
        transport = function()
          n = n + 1
          stamps[#stamps + 1] = clock.t
          if fail_first and n == 1 then return {status = 503, headers = {}, body = "{}"} end
          return {status = 200, headers = {}, body = OK}
        end}
    end
    local a, b = client(true), client(false)
    assert(a:call{path = "/x", billing = "RESTRoutes"}) -- a 503, then a retry
    assert(b:call{path = "/x", billing = "RESTRoutes"})
    assert(a:call{path = "/x", billing = "RESTRoutes"})
    assert.same({0, 0.5, 1.0, 1.5}, stamps)
  end)

  it("gives every worker its own slot, in any interleaving", function()
    local n = every_interleaving(function()
      local w = {s = store.memory(), at = {}, tasks = {}}
      for i = 1, 3 do
        -- each worker on its own clock (they read the same time), sleeping yields
        w.tasks[i] = function()
          local c = {t = 0}
          c.now = function() return c.t end
          c.sleep = function(d) pause(); c.t = c.t + d end
          local b = ratelimit.new(4, c, yielding(w.s))
          b:take()
          w.at[i] = c.t
        end
      end
      return w
    end, function(w)
      table.sort(w.at)
      assert.same({0, 0.25, 0.5}, w.at)
    end)
    assert.is_true(n >= 6)
  end)
end)

-- nginx's lua_shared_dict ------------------------------------------------------------------------

describe("store.shared_dict(name[, prefix])", function()
  it("needs nginx's Lua module and a lua_shared_dict of that name", function()
    assert.is_nil(rawget(_G, "ngx"))
    local ok, err = pcall(store.shared_dict, "bing")
    assert.is_false(ok)
    assert.matches("needs nginx's Lua module", err.message, 1, true)
    with_ngx({}, function()
      local ok2, err2 = pcall(store.shared_dict, "bing")
      assert.is_false(ok2)
      assert.equal("argument", err2.kind)
      assert.matches("no lua_shared_dict 'bing' (nginx.conf, http block: lua_shared_dict bing 1m;)",
        err2.message, 1, true)
    end)
  end)

  it("counts in the dict under its prefix, adding keys without evicting", function()
    local dict = fake_dict{yield = false}
    with_ngx({bing = dict}, function()
      local a, b = store.shared_dict("bing", "geo:"), store.shared_dict("bing", "route:")
      assert.is_nil(a:get("held"))
      assert.equal(2, a:incr("held", 2))
      assert.equal(3, a:incr("held", 1))
      assert.equal(5, b:incr("held", 5))
      assert.same({["geo:held"] = 3, ["route:held"] = 5}, dict.data)
      assert.equal(7, a:take("qps", 0.5, 7))
      assert.equal(7.5, a:take("qps", 0.5, 7))
      assert.equal(8, dict.data["geo:qps"])
      assert.is_nil(dict.data["geo:qps:lock"]) -- the lock is gone
    end)
  end)

  it("raises when the dict is full, saying what to do", function()
    with_ngx({bing = fake_dict{yield = false, full = true}}, function()
      local s = store.shared_dict("bing")
      local ok, err = pcall(s.incr, s, "held", 1)
      assert.is_false(ok)
      assert.matches("lua_shared_dict 'bing': add of 'held' failed: no memory (make the "
        .. "lua_shared_dict bigger", err, 1, true)
      ok, err = pcall(s.take, s, "qps", 1, 0)
      assert.is_false(ok)
      assert.matches("lock of 'qps:lock' failed: no memory", err, 1, true)
    end)
  end)

  it("gives up, raising, when the lock of a slot stays taken", function()
    local dict = fake_dict{yield = false}
    dict.data["qps:lock"] = 1 -- a worker died holding it (the real lock expires after 1 s)
    local slept = with_ngx({bing = dict}, function()
      local s = store.shared_dict("bing")
      local ok, err = pcall(s.take, s, "qps", 1, 0)
      assert.is_false(ok)
      assert.matches("the lock of 'qps' stayed taken", err, 1, true)
    end)
    assert.equal(3000, slept)
  end)

  it("never gives two workers the same slot (random interleavings, lock contention)", function()
    local contended = 0
    random_interleavings(300, function()
      local w = {dict = fake_dict(), at = {}, tasks = {}}
      rawset(_G, "ngx", {shared = {bing = w.dict}, sleep = function()
        contended = contended + 1
        pause()
      end})
      local s = store.shared_dict("bing")
      for i = 1, 3 do
        w.tasks[i] = function() w.at[i] = s:take("qps", 0.25, 10) end
      end
      return w
    end, function(w, seed)
      table.sort(w.at)
      assert.same({10, 10.25, 10.5}, w.at, "seed " .. seed)
      assert.equal(10.75, w.dict.data.qps)
      assert.is_nil(w.dict.data["qps:lock"])
    end)
    rawset(_G, "ngx", nil)
    assert.is_true(contended > 0, "no interleaving had a worker wait for the lock")
  end)

  it("without the lock, a read then a write would hand out one slot twice", function()
    local twice = 0
    random_interleavings(300, function()
      local w = {dict = fake_dict(), at = {}, tasks = {}}
      for i = 1, 3 do
        w.tasks[i] = function()
          local t = w.dict:get("qps")
          local at = (t and t > 10) and t or 10
          w.dict:safe_set("qps", at + 0.25)
          w.at[i] = at
        end
      end
      return w
    end, function(w)
      table.sort(w.at)
      if w.at[1] == w.at[2] or w.at[2] == w.at[3] then twice = twice + 1 end
    end)
    assert.is_true(twice > 0)
  end)
end)

describe("ngx_transport.options{shared =}", function()
  local ngx_transport = require "bing.ngx_transport"

  local function with_fake_ngx(fn)
    rawset(_G, "ngx", {socket = {tcp = function() end}, update_time = function() end,
                       now = function() return 1 end, sleep = function() end,
                       shared = {bing = fake_dict{yield = false}},
                       config = {ngx_lua_version = 10023}})
    local ok, err = pcall(fn)
    rawset(_G, "ngx", nil)
    if not ok then error(err, 0) end
  end

  it("gives the client a store over that lua_shared_dict", function()
    with_fake_ngx(function()
      local opts = ngx_transport.options{key = "k", shared = "bing", budget = {billable = 1}, qps = 2}
      assert.is_nil(opts.shared)
      assert.is_function(opts.store.incr)
      assert.equal("bing", opts.store.name)
      local c = bing.new(opts)
      assert.equal(opts.store, c.meter.store)
      assert.equal(opts.store, c.limiter.store)
    end)
  end)

  it("raises for a shared that is no dict name, or given with store", function()
    with_fake_ngx(function()
      for _, case in ipairs{
        {{shared = 1}, "shared must be the name of a lua_shared_dict"},
        {{shared = "bing", store = store.memory()}, "give shared or store, not both"},
        {{shared = "nope"}, "no lua_shared_dict 'nope'"},
      } do
        local ok, err = pcall(ngx_transport.options, case[1])
        assert.is_false(ok)
        assert.equal("argument", err.kind)
        assert.matches(case[2], err.message, 1, true)
      end
    end)
  end)
end)

describe("client:call with a store that fails", function()
  it("gives the reservation back when the limiter's store raises", function()
    local s = store.memory()
    local broken = {incr = function(_, k, n) return s:incr(k, n) end,
                    get = function(_, k) return s:get(k) end,
                    take = function() error("bing.store: lua_shared_dict 'bing': no memory") end}
    local c = bing.new{key = "k", store = broken, qps = 1, budget = {billable = 5},
                       transport = function() return {status = 200, headers = {}, body = OK} end}
    local ok, err = pcall(c.call, c, {path = "/x", billing = "RESTRoutes"})
    assert.is_false(ok)
    assert.matches("no memory", err, 1, true)
    assert.equal(0, s:get("held"))
  end)

  it("leaves no half-made reservation when the store refuses a new key part way", function()
    local s = store.memory()
    local full = {incr = function(_, k, n)
                    if s:get(k) == nil and k:find("^cat:") then
                      error("bing.store: lua_shared_dict 'bing': add of '" .. k .. "' failed: no memory", 0)
                    end
                    return s:incr(k, n)
                  end,
                  get = function(_, k) return s:get(k) end, take = function(_, ...) return s:take(...) end}
    local c = bing.new{key = "k", store = full, budget = {billable = 5},
                       transport = function() return {status = 200, headers = {}, body = OK} end}
    local ok, err = pcall(c.call, c, {path = "/x", billing = "RESTRoutes"})
    assert.is_false(ok)
    assert.matches("no memory", err, 1, true)
    assert.equal(0, s:get("held")) -- the total was added, then taken back
  end)
end)
