-- Runs inside the test nginx of spec/ngx_faults_spec.lua: the fault matrix's calls made by a
-- client with the cosocket transport (bing.ngx_transport), whose URLs' origin is swapped for
-- the one a case names, so that one client (one worker, one connection pool) meets every
-- server. The key comes from the worker's environment and never leaves it.
--
--   GET /fault?target=<origin>&header=<X-Bingsim-Fault>&client=<plain|slow>
--     one call under the fault, then the next call on the same client (to `ok`):
--     {ok, kind, code, status, retry_after, retryable, sent, message, text, elapsed, held,
--      next_ok, next_error, names, count, has_key, raised}
--   GET /batch?n=&seed=&rate=   n calls to the emulator, a fraction `rate` of them with a
--     fault (seeded): {results, errors, kinds, usage}
-- luacheck: globals ngx
local cjson = require "cjson.safe"
local bing = require "bing"
local errors = require "bing.errors"
local ngx_transport = require "bing.ngx_transport"

local _M = {}

local KEY = os.getenv("BING_MAPS_KEY")
local TIMEOUT = 2
local MAX_SIZE = 8 * 1024 * 1024

local state = {target = nil, header = nil}
local clients = {}

local function reply(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(t))
end

local function wrapped(transport)
  return function(req)
    req.url = req.url:gsub("^https?://[^/]+", state.target)
    if state.header then
      req.headers["X-Bingsim-Fault"] = state.header
      if state.once then state.header = nil end
    end
    return transport(req)
  end
end

local function clock()
  -- Retry back-offs are not waited for: the matrix is about one exchange.
  return {now = ngx_transport.clock().now, sleep = function() end}
end

local function client_of(name)
  if clients[name] then return clients[name] end
  local t = wrapped(ngx_transport.new{timeout = TIMEOUT, connect_timeout = TIMEOUT,
    max_size = MAX_SIZE, ssl_server_name = "localhost"})
  local c
  if name == "slow" then
    -- Retry-After honoured with a deadline long enough for any, on nginx's own clock.
    c = bing.new{key = KEY, base_url = "http://origin.invalid", transport = t,
      timeout = TIMEOUT, retry = {attempts = 2, deadline = 1e7}, clock = ngx_transport.clock(),
      budget = {billable = 1000000}}
  elseif name == "batch" then
    c = bing.new{key = KEY, base_url = "http://origin.invalid", transport = t,
      timeout = TIMEOUT, retry = {attempts = 3}, clock = clock()}
  else
    c = bing.new{key = KEY, base_url = "http://origin.invalid", transport = t,
      timeout = TIMEOUT, retry = false, clock = clock(), budget = {billable = 1000000}}
  end
  clients[name] = c
  return c
end

local function texts(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    if errors.is_error(v) then
      out[#out + 1] = tostring(v)
    end
    for k, x in pairs(v) do
      texts(k, out, seen)
      texts(x, out, seen)
    end
  end
  return out
end

local function has_key(...)
  for i = 1, select("#", ...) do
    for _, t in ipairs(texts((select(i, ...)))) do
      if t:find(KEY, 1, true) then return true end
    end
  end
  return false
end

local function held(c)
  return c.meter:in_flight().billable
end

function _M.fault()
  local args = ngx.req.get_uri_args()
  local c = client_of(args.client or "plain")
  state.target, state.header, state.once = args.target, args.header, false
  ngx.update_time()
  local started = ngx.now()
  local ok, res, err = pcall(c.locations.find, {q = "Seattle"})
  ngx.update_time()
  local out = {elapsed = ngx.now() - started, held = held(c)}
  state.target, state.header = args.ok, nil
  if not ok then
    out.raised = tostring(res)
  elseif res then
    out.ok = true
    out.count = #res
    out.names = {}
    for i = 1, math.min(#res, 3) do out.names[i] = res[i].name end
    out.last_name = res[#res] and res[#res].name
  else
    out.ok = false
    out.kind, out.code, out.status = err.kind, err.code, err.status
    out.retry_after, out.retryable, out.sent = err.retry_after, err.retryable, err.sent
    out.message, out.text = err.message, tostring(err)
  end
  out.has_key = has_key(res, err, out.raised)
  local nres, nerr = c.locations.find{q = "Seattle"}
  out.next_ok = nres ~= nil and nres[1] and nres[1].name == "Fault Town"
  out.next_error = nerr and tostring(nerr) or nil
  out.next_held = held(c)
  out.has_key = out.has_key or has_key(nres, nerr)
  -- cjson cannot encode invalid UTF-8 as it is: the names are checked as bytes here.
  if out.names then
    for i, name in ipairs(out.names) do out.names[i] = ngx.encode_base64(name) end
  end
  reply(out)
end

local FAULTS = {"429;retry_after=0", "503", "500", "reset", "truncated", "malformed", "html",
                "throttled_empty", "delay;seconds=0.01"}

function _M.batch()
  local args = ngx.req.get_uri_args()
  local n, seed, rate = tonumber(args.n), tonumber(args.seed), tonumber(args.rate)
  local c = client_of("batch")
  local function random()
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  end
  local results, errs, kinds = 0, 0, {}
  for i = 1, n do
    state.target, state.header, state.once = args.target, nil, true
    if random() < rate then state.header = FAULTS[math.floor(random() * #FAULTS) + 1] end
    local res, err = c.locations.find{q = i % 2 == 0 and "Seattle" or "Paris"}
    if res then
      results = results + 1
    else
      errs = errs + 1
      kinds[err.kind] = (kinds[err.kind] or 0) + 1
    end
  end
  local u = c:usage()
  u.hints = nil
  reply{results = results, errors = errs, kinds = kinds, usage = u}
end

return _M
