--- Concurrent batches: `client:batch(items, fn, {concurrency =, on_progress =})`.
--
-- Each item runs `fn(client, item, i)` in a coroutine of its own. In plain Lua, every call of
-- the client's libcurl transport inside it becomes a transfer on the session's curl multi
-- handle (csrc/http.c: h:start) and the coroutine yields until the answer has come (h:poll,
-- h:result); the default clock's sleeps (retry back-offs, `qps` waits, job polls) yield too.
-- So up to `concurrency` calls are in flight at once, over kept-alive connections, or as
-- HTTP/2 streams of one connection when the server offers h2. Everything else of a call
-- (budget reservations held while in flight, billing, retries) is client:call's, per item.
--
-- Coroutines are resumed from this scheduler only, never from inside curl: curl is out of the
-- stack whenever Lua runs, so a Lua error in `fn` unwinds only its own coroutine. It stays in
-- its item (see `raised`) and the other items go on.
--
-- What does not yield, and so runs one call at a time: a user's Lua `transport` function
-- (unless it says it can yield: `batch.yields(fn)`, which bing.ngx_transport does), a client
-- other than the batch's own, a clock of the user's own (its sleep is called as it is), and
-- calls made from a coroutine of fn's own inside the item.
--
-- Under OpenResty, with a transport that yields (bing.ngx_transport), the items run as
-- `ngx.thread`s instead, at most `concurrency` at once (see run_ngx).
-- @module bing.batch
local core = require "bing.core"
local errors = require "bing.errors"

local _M = {}

local resume, yield, running, status = coroutine.resume, coroutine.yield, coroutine.running,
  coroutine.status

-- The scheduler of each item's coroutine (weak keys: a batch's coroutines go with it).
local owner = setmetatable({}, {__mode = "k"})
-- The first value yielded by the library's own waits; anything else is a yield of fn's own.
local WAIT = setmetatable({}, {__tostring = function() return "bing.batch wait" end})

-- The transfers waited on, per bing.http session: waits[h][id] = the scheduler whose item
-- waits for it. A batch inside an item of another batch (or a plain call made from a
-- coroutine of fn's own, which performs at once) polls the same multi handle and may see
-- the other scheduler's transfers finish: it hands their ids over instead of dropping them.
local waits = setmetatable({}, {__mode = "k"})

-- Transports that may yield inside an ngx.thread (bing.ngx_transport's).
local yielding = setmetatable({}, {__mode = "k"})

_M.DEFAULT_CONCURRENCY = 8
-- The most a batch runs at once: transfers beyond a few hundred only queue up on one host.
_M.MAX_CONCURRENCY = 1024

--- Marks a transport function as one that yields by itself (cosockets): a batch under
-- OpenResty runs its items as ngx.threads. Returns fn.
function _M.yields(fn)
  yielding[fn] = true
  return fn
end

function _M.is_yielding(fn) return yielding[fn] == true end

local function current()
  local co = running()
  return co and owner[co]
end

local function cancelled_error()
  return errors.new("transport", "the batch was stopped before this call's answer came",
    {code = "Cancelled", retryable = false, sent = false})
end

--- The libcurl transport of a client: inside an item of a batch of this session, the request
-- is started on the multi handle and the item yields until its answer; elsewhere it is
-- performed at once (a batch of one, on the same code path in C).
function _M.transfer(h, req)
  local s = current()
  if s and s.http == h then
    if s.stopped then return nil, cancelled_error() end
    return yield(WAIT, "xfer", h:start(req))
  end
  return h:perform(req)
end

--- The default clock's sleep: yields inside an item of a batch, blocks elsewhere.
function _M.sleep(seconds)
  local s = current()
  if s and type(seconds) == "number" and seconds >= 0 and seconds < math.huge then
    if s.stopped or seconds == 0 then return end
    yield(WAIT, "sleep", core.now() + seconds)
    return
  end
  return core.sleep(seconds)
end

local function check(items, fn, opts, level)
  if type(items) ~= "table" then errors.raise("client:batch: items must be a list", level + 1) end
  if type(fn) ~= "function" then errors.raise("client:batch: fn must be a function", level + 1) end
  if opts ~= nil and type(opts) ~= "table" then
    errors.raise("client:batch: options must be a table", level + 1)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "concurrency" and k ~= "on_progress" then
      errors.raise("client:batch: unknown option '" .. tostring(k) .. "'", level + 1)
    end
  end
  local c = opts.concurrency or _M.DEFAULT_CONCURRENCY
  if type(c) ~= "number" or c ~= math.floor(c) or c < 1 or c > _M.MAX_CONCURRENCY then
    errors.raise("client:batch: concurrency must be an integer from 1 to "
      .. _M.MAX_CONCURRENCY .. ", got " .. tostring(c), level + 1)
  end
  if opts.on_progress ~= nil and type(opts.on_progress) ~= "function" then
    errors.raise("client:batch: on_progress must be a function", level + 1)
  end
  return c, opts.on_progress
end

--- What a raise in fn becomes in its item: a bing error stays as it is (an `argument` error
-- of a family, say); any other value becomes an `argument` error (a bug in the caller's
-- code), code "Raised", with the value as `err.raised` and the item's stack as
-- `err.traceback` (where it raised).
local function raised(e, co, tb)
  if core.is_error(e) then return e end
  return errors.new("argument", "client:batch: fn raised: " .. tostring(e),
    {code = "Raised", raised = e,
     traceback = tb or co and debug.traceback(co, tostring(e)) or debug.traceback(tostring(e), 2)})
end
_M.raised = raised

-- The record of a finished item: the first value fn returned, or its error in place.
local function settle(st, i, ok, a, b, co, tb)
  if not ok then
    st.results[i] = raised(a, co, tb)
    st.failed = st.failed + 1
  elseif a == nil and b ~= nil then
    st.results[i] = b
    st.failed = st.failed + 1
  else
    st.results[i] = a
  end
  st.done = st.done + 1
end

local function progress(st)
  if not st.on_progress then return end
  local elapsed = core.now() - st.started
  local left = st.total - st.done
  st.on_progress{done = st.done, failed = st.failed, total = st.total, elapsed = elapsed,
                 eta = left == 0 and 0 or elapsed / st.done * left}
end

local function summary(st)
  return {done = st.done, failed = st.failed, total = st.total,
          elapsed = core.now() - st.started}
end

local function ngx_yieldable()
  local n = rawget(_G, "ngx")
  if type(n) ~= "table" or type(n.thread) ~= "table" or type(n.get_phase) ~= "function" then
    return nil
  end
  local phase = n.get_phase()
  if phase == "rewrite" or phase == "access" or phase == "content" or phase == "timer"
     or phase == "ssl_cert" or phase == "ssl_session_fetch" then
    return n
  end
  return nil
end

-- Under OpenResty: `concurrency` ngx.threads take the next item until none is left. Each
-- item's calls yield in the cosocket transport and in ngx.sleep (the clock of
-- bing.ngx_transport.options). A raise in fn stays in its item (xpcall in the thread); a
-- raise in on_progress stops the threads taking more items and is raised again here, once
-- every thread has finished the item it was on.
local function run_ngx(n, client, items, fn, conc, st)
  local next_i, stop_err, stopped = 1, nil, false
  local function worker()
    while not stopped do
      local i = next_i
      if i > st.total then return end
      next_i = i + 1
      local tb
      local ok, a, b = xpcall(fn, function(e)
        if not core.is_error(e) then tb = debug.traceback(tostring(e), 2) end
        return e
      end, client, items[i], i)
      settle(st, i, ok, a, b, nil, tb)
      local pok, perr = pcall(progress, st)
      if not pok and not stopped then stopped, stop_err = true, perr end
    end
  end
  local threads = {}
  for k = 1, math.min(conc, st.total) do threads[k] = n.thread.spawn(worker) end
  for k = 1, #threads do n.thread.wait(threads[k]) end
  if stopped then error(stop_err, 0) end
  return st.results, summary(st)
end

-- Plain Lua: the scheduler of the coroutines. `h` is the client's bing.http session, or nil
-- (a Lua transport: nothing to poll, calls run as they come, sleeps still yield).
local function run_plain(h, client, items, fn, conc, st)
  local s = {http = h, ready = {}}
  local by_xfer, in_flight = {}, 0
  local hw = h and waits[h]
  if h and not hw then
    hw = {}
    waits[h] = hw
  end
  local sleepers = {}
  local next_i, active = 1, 0

  local step
  local function park(rec, ok, tag, what, arg)
    if status(rec.co) == "dead" then
      owner[rec.co] = nil
      active = active - 1
      settle(st, rec.i, ok, tag, what, rec.co)
      progress(st)
    elseif tag == WAIT and what == "xfer" then
      by_xfer[arg], in_flight = rec, in_flight + 1
      hw[arg] = s
    elseif tag == WAIT and what == "sleep" then
      sleepers[#sleepers + 1] = {at = arg, rec = rec}
    else
      -- fn yielded a value of its own to the batch: nothing here can answer it. The item
      -- fails; its coroutine is left (a reservation it holds is held until collected).
      owner[rec.co] = nil
      active = active - 1
      settle(st, rec.i, true, nil, errors.new("argument",
        "client:batch: fn yielded to the batch (" .. tostring(tag) .. "): only the library's "
        .. "own waits may yield inside an item", {code = "Yielded"}))
      progress(st)
    end
  end
  step = function(rec, ...)
    return park(rec, resume(rec.co, ...))
  end

  local function spawn(i)
    local item = items[i]
    local co = coroutine.create(function() return fn(client, item, i) end)
    owner[co] = s
    active = active + 1
    step({co = co, i = i})
  end

  local function wake_due()
    if #sleepers == 0 then return end
    local now, due, keep = core.now(), {}, {}
    for _, sl in ipairs(sleepers) do
      if sl.at <= now then due[#due + 1] = sl else keep[#keep + 1] = sl end
    end
    sleepers = keep
    table.sort(due, function(a, b) return a.at < b.at end)
    for _, sl in ipairs(due) do step(sl.rec) end
  end

  local function loop()
    while st.done < st.total do
      while active < conc and next_i <= st.total do
        next_i = next_i + 1
        spawn(next_i - 1)
      end
      if st.done >= st.total then break end
      local soonest
      for _, sl in ipairs(sleepers) do
        if not soonest or sl.at < soonest then soonest = sl.at end
      end
      if in_flight > 0 then
        -- Answers another scheduler's poll saw finish first (a batch inside one of ours).
        local ids = s.ready
        if #ids == 0 then
          -- Wait for an answer, but no longer than the first sleeper's time.
          local wait = soonest and math.max(0, soonest - core.now()) or 1
          ids = h:poll(wait)
        else
          s.ready = {}
        end
        for _, id in ipairs(ids) do
          local rec = by_xfer[id]
          local other = hw[id]
          if rec then
            by_xfer[id], in_flight, hw[id] = nil, in_flight - 1, nil
            step(rec, h:result(id))
          elseif other and other ~= s then
            other.ready[#other.ready + 1] = id
          else
            h:cancel(id)
          end
        end
      elseif soonest then
        local wait = soonest - core.now()
        if wait > 0 then core.sleep(wait) end
      elseif active > 0 then
        error("bing.batch: items wait on nothing (a bug)")
      end
      wake_due()
    end
  end

  local ok, err = pcall(loop)
  if not ok then
    -- on_progress raised (or the multi handle failed): the items in flight are stopped
    -- before the error goes on up, so their reservations are given back. Each is resumed
    -- once with a `Cancelled` transport error (or its sleep ended); with s.stopped its
    -- further calls fail at once without yielding, so it runs to its end.
    s.stopped = true
    for id, rec in pairs(by_xfer) do
      h:cancel(id)
      hw[id] = nil
      if status(rec.co) == "suspended" then resume(rec.co, nil, cancelled_error()) end
      owner[rec.co] = nil
    end
    for _, sl in ipairs(sleepers) do
      if status(sl.rec.co) == "suspended" then resume(sl.rec.co) end
      owner[sl.rec.co] = nil
    end
    error(err, 0)
  end
  return st.results, summary(st)
end

--- Runs the batch (Client:batch). `h` is the client's bing.http (nil with a Lua transport),
-- `transport` the client's transport function.
function _M.run(client, h, transport, items, fn, opts)
  local conc, on_progress = check(items, fn, opts, 3)
  local st = {results = {n = #items}, done = 0, failed = 0, total = #items,
              started = core.now(), on_progress = on_progress}
  if st.total == 0 then return st.results, summary(st) end
  local n = not h and yielding[transport] and ngx_yieldable()
  if n then return run_ngx(n, client, items, fn, conc, st) end
  return run_plain(h, client, items, fn, conc, st)
end

return _M
