--- The client: options, credentials, and the one pipeline every request goes through.
--
--     spec -> auth check -> billing description -> budget -> URL -> [rate limit -> transport
--          -> decode -> retry?]* -> meter -> doc, meta
--
-- A family module (`bing.locations`, `bing.routes`, ...) validates its arguments, builds a
-- request spec and calls `client:call(spec)`; it never sees the key, the transport or the
-- retry loop.
-- @module bing.client
local core = require "bing.core"
local cjson = require "cjson.safe"
local errors = require "bing.errors"
local billing = require "bing.billing"
local retry = require "bing.retry"
local ratelimit = require "bing.ratelimit"
local store_mod = require "bing.store"
local batch = require "bing.batch"

local _M = {}

_M.DEFAULT_BASE_URL = "https://dev.virtualearth.net"
_M.DEFAULT_SDS_URL = "https://spatial.virtualearth.net"
_M.DEFAULT_GEODATA_URL = "https://platform.bing.com"

-- Credentials live here, not on the client table, so that printing or dumping a client
-- (inspect, serpent, a debugger) can never show the key. Weak keys: a client that is
-- collected takes its secret with it.
local secrets = setmetatable({}, {__mode = "k"})

-- What the service counts per credential (a bing.billing account: how many of a session
-- key's 25 requests are used, where each autosuggest run of ten stands), shared by every
-- client using the same key: it belongs to the key, not to one client object, and outlives
-- the clients (a new client with the same session key continues the count). Bounded: past
-- ACCOUNTS_MAX keys the oldest is forgotten, so a server relaying many map-control sessions
-- does not keep every session key for ever.
local ACCOUNTS_MAX = 4096
local accounts, account_keys, account_first, account_last = {}, {}, 1, 0

local function account_of(key, session)
  local a = accounts[key]
  if a then return a end
  a = billing.account(session)
  accounts[key] = a
  account_last = account_last + 1
  account_keys[account_last] = key
  if account_last - account_first >= ACCOUNTS_MAX then
    accounts[account_keys[account_first]] = nil
    account_keys[account_first] = nil
    account_first = account_first + 1
  end
  return a
end

--- Forgets what the service counted per key (the session keys' 25, the autosuggest tens):
-- for a process that knows the service's counts started again (the emulator's reset, in
-- specs). Clients made before keep their own state.
function _M.reset_accounts()
  accounts, account_keys, account_first, account_last = {}, {}, 1, 0
end

local OPTIONS = {
  key = "string", session_key = "string", base_url = "string", sds_url = "string",
  geodata_url = "string", sds_requests_this_year = "number",
  cafile = "string", capath = "string", timeout = "number", connect_timeout = "number",
  proxy = "string", max_size = "number", user_agent = "string", culture = "string",
  transport = "function", headers = "table", retry = "table|boolean", qps = "number",
  budget = "table", clock = "table", verify = "boolean", http2 = "boolean",
  account = "string", matrix_limits = "table", store = "table",
}

local Client = {}
Client.__index = Client

-- The options minus the credentials, kept on the client for the transport made later: the
-- key itself lives only in `secrets`.
local function without_credentials(opts)
  local copy = {}
  for k, v in pairs(opts) do
    if k ~= "key" and k ~= "session_key" then copy[k] = v end
  end
  return copy
end

-- The service's own texts can echo a request's parameters, the key among them: every text
-- of an error that came back is redacted before the caller sees it.
local function redact_error(err, key)
  if type(err.message) == "string" then err.message = core.redact(err.message, key) end
  if type(err.details) == "table" then
    for i, d in ipairs(err.details) do
      if type(d) == "string" then err.details[i] = core.redact(d, key) end
    end
  end
  return err
end
_M.Client = Client

-- (x == x: not NaN)
local function finite(x) return x == x and x > -math.huge and x < math.huge end

-- A value of the caller's as text in a message, its control characters as \ddd (the
-- message stays one line).
local function printable(v)
  return (tostring(v):gsub("%c", function(ch) return "\\" .. ch:byte() end))
end

-- A header name is an HTTP token; no name or value may hold CR, LF or NUL (a header of
-- the caller's own could otherwise be followed by one the caller never wrote).
local function check_header(what, name, value, level)
  if type(name) ~= "string" or not name:find("^[%w!#$%%&'*+%-.^_`|~]+$") then
    errors.raise(what .. ": header name '" .. printable(name) .. "' is not an HTTP token", level + 1)
  end
  if type(value) ~= "string" then
    errors.raise(what .. ": header '" .. name .. "' must be a string, got " .. type(value), level + 1)
  end
  if value:find("[\r\n%z]") then
    errors.raise(what .. ": header '" .. name .. "' holds CR, LF or NUL", level + 1)
  end
end
_M.check_header = check_header

-- Values each option takes, checked here rather than on first use (where they raised plain
-- strings from the transport, or were taken as meaning something else).
local function check_values(opts)
  local function bad(fmt, ...) errors.raise("bing.new: " .. string.format(fmt, ...), 4) end
  for _, name in ipairs{"timeout", "connect_timeout"} do
    local v = opts[name]
    if v ~= nil and not (finite(v) and v > 0) then
      bad("%s must be a number of seconds > 0, got %s", name, tostring(v))
    end
  end
  local m = opts.max_size
  if m ~= nil and not (finite(m) and m >= 1 and m == math.floor(m)) then
    bad("max_size must be an integer number of bytes >= 1, got %s", tostring(m))
  end
  -- The core appends the path and the query (and the key) to the base: a base with a query,
  -- a fragment or a space would make a URL that says something else.
  for _, name in ipairs{"base_url", "sds_url", "geodata_url"} do
    local u = opts[name]
    if u ~= nil and not (u:lower():find("^https?://[^/]+") and not u:find("[^\33-\126]")
                         and not u:find("[?#]")) then
      bad("%s must be an http:// or https:// URL with a host and no query or fragment, got '%s'",
        name, printable(u))
    end
  end
  local y = opts.sds_requests_this_year
  if y ~= nil and not (finite(y) and y >= 0 and y == math.floor(y)) then
    bad("sds_requests_this_year must be an integer >= 0, got %s", tostring(y))
  end
  local clock = opts.clock
  if clock ~= nil and (type(clock.now) ~= "function" or type(clock.sleep) ~= "function") then
    bad("clock must have the functions now() and sleep(seconds)")
  end
  local ua = opts.user_agent
  if ua ~= nil and ua:find("[\r\n%z]") then bad("user_agent holds CR, LF or NUL") end
  for name, value in pairs(opts.headers or {}) do check_header("bing.new", name, value, 3) end
end

local function check_options(opts)
  for name, value in pairs(opts) do
    local want = OPTIONS[name]
    if not want then errors.raise("bing.new: unknown option '" .. tostring(name) .. "'", 3) end
    local got = type(value)
    if not want:find(got, 1, true) then
      errors.raise(string.format("bing.new: option '%s' must be a %s, got %s", name, want, got), 3)
    end
  end
  -- Values that pick documented limits: a typo must not silently give the Basic ones.
  if opts.account ~= nil and opts.account:lower() ~= "basic" and opts.account:lower() ~= "enterprise" then
    errors.raise("bing.new: account must be \"basic\" or \"enterprise\", got '" .. opts.account .. "'", 3)
  end
  for k, v in pairs(opts.matrix_limits or {}) do
    if k ~= "driving" and k ~= "walking" and k ~= "async" then
      errors.raise("bing.new: matrix_limits takes driving, walking and async, not '" .. tostring(k) .. "'", 3)
    end
    if type(v) ~= "number" or v < 1 or v ~= math.floor(v) then
      errors.raise("bing.new: matrix_limits." .. k .. " must be an integer >= 1", 3)
    end
  end
  if opts.store ~= nil then store_mod.check(opts.store, 3) end
  check_values(opts)
end

-- The sleep yields inside an item of client:batch (bing.batch.sleep) and blocks elsewhere.
local function default_clock()
  return {now = core.now, sleep = batch.sleep}
end

--- Creates a client (see `bing.new`).
function _M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then errors.raise("bing.new: options must be a table", 2) end
  check_options(opts)
  if opts.key and opts.session_key then
    errors.raise("bing.new: give key or session_key, not both", 2)
  end
  local self = setmetatable({
    base_url = opts.base_url or _M.DEFAULT_BASE_URL,
    sds_url = opts.sds_url or _M.DEFAULT_SDS_URL,
    -- The Geodata API has a host of its own (geodata-api.md): spec.api = "geodata".
    geodata_url = opts.geodata_url or _M.DEFAULT_GEODATA_URL,
    culture = opts.culture,
    headers = opts.headers,
    -- Basic keys stopped working on 2025-06-30: every working key is an Enterprise key.
    account = opts.account or "enterprise",
    matrix_limits = opts.matrix_limits,
    clock = opts.clock or default_clock(),
    retry_policy = retry.policy(opts.retry),
    _opts = without_credentials(opts),
  }, Client)
  -- With a `store` (bing.store), the meter's totals, the budget's reservations and the rate
  -- limiter's slots live there, shared with every client of the store.
  self.limiter = opts.qps and ratelimit.new(opts.qps, self.clock, opts.store) or nil
  local key, mode = opts.key, "key"
  if opts.session_key then
    key, mode = opts.session_key, "session"
  elseif not key then
    key = os.getenv("BING_MAPS_KEY")
    if key == "" then key = nil end
  end
  if key then
    secrets[self] = {mode = mode, key = key, account = account_of(key, mode == "session")}
    -- Footnote 2 of the transaction table: the year's SDS requests so far (bing.billing).
    local n = opts.sds_requests_this_year
    if n then secrets[self].account.sds_requests = math.max(secrets[self].account.sds_requests or 0, n) end
  end
  self.auth_mode = key and mode or nil
  self.meter = billing.meter(billing.check_budget(opts.budget, 2), self.auth_mode, opts.store)
  if opts.transport then
    self.transport = opts.transport
  end
  return self
end

-- The libcurl transport, made on first use so that a client with a Lua transport (or one
-- that never sends) does not open curl handles.
local function transport_of(self)
  local t = self.transport
  if t then return t end
  local o = self._opts
  local h = core.http{
    cafile = o.cafile, capath = o.capath, timeout = o.timeout,
    connect_timeout = o.connect_timeout, proxy = o.proxy, max_size = o.max_size,
    user_agent = o.user_agent, verify = o.verify, http2 = o.http2,
  }
  self.http = h
  -- Inside an item of client:batch the request is a transfer of the multi handle and the
  -- item yields until its answer; elsewhere it is performed at once.
  local transfer = batch.transfer
  t = function(req) return transfer(h, req) end
  self.transport = t
  return t
end

--- Closes the client's connections. Closing twice is safe; a closed client raises on use.
function Client:close()
  if self.http then self.http:close() end
  self.http, self.transport, self.closed = nil, nil, true
end
Client.__close = Client.close
Client.__gc = Client.close

--- Runs `fn(client, item, i)` for every item of the list `items`, up to `opts.concurrency`
-- (default 8) at once, and returns `results, summary`: `results[i]` is the first value fn
-- returned for item i, or its error in place (fn returned `nil, err`, or raised: see
-- bing.batch), `results.n` the number of items; `summary = {done=, failed=, total=,
-- elapsed=}`. `opts.on_progress(p)` is called after each item with `{done=, failed=,
-- total=, elapsed=, eta=}` (seconds); a raise in it stops the batch (the calls in flight
-- are cancelled) and goes on up. See bing.batch for what runs concurrently.
function Client:batch(items, fn, opts)
  if self.closed then errors.raise("bing: client is closed", 2) end
  local t = transport_of(self)
  return batch.run(self, self.http, t, items, fn, opts)
end

--- The billing description of a spec under this client's credentials (the next request's,
-- as the service would count it now).
function Client:describe(spec)
  local s = secrets[self]
  return billing.describe(spec.billing, s and s.account)
end


-- A JSON value of the envelope, or nil when absent or JSON null (cjson.null, a light
-- userdata that cannot be indexed).
local function value(v)
  if type(v) == "userdata" then return nil end
  return v
end

local function meta_of(doc, resp, url, attempts, desc)
  local meta = {status = resp and resp.status, url = url, attempts = attempts, billing = desc}
  if type(doc) == "table" then
    meta.trace_id = value(doc.traceId)
    meta.copyright = value(doc.copyright)
    meta.brand_logo_uri = value(doc.brandLogoUri)
    meta.status_description = value(doc.statusDescription)
    meta.authentication = value(doc.authenticationResultCode)
    local sets = doc.resourceSets
    local set = type(sets) == "table" and sets[1]
    meta.estimated_total = type(set) == "table" and value(set.estimatedTotal) or nil
  end
  if resp and resp.headers then
    meta.content_type = resp.headers["content-type"]
  end
  return meta
end

-- The C transport's timeout when neither the client nor the request gives one.
local DEFAULT_TIMEOUT = 30

-- The billing of a call that the service did not count (nothing billed).
local function unbilled(est)
  return {category = est.category, billable = false, transactions = 0}
end

-- The billing of the attempts of one call that the service counted (usually one).
local function billed_total(list, est)
  if #list == 0 then return unbilled(est) end
  if #list == 1 then return list[1] end
  return billing.sum(list)
end

local function required_billing(spec, level)
  if spec.billing == nil then
    errors.raise("client:call: spec.billing is required (a category of bing.billing, "
      .. "{category=, units=, also=}, or false for a request that is no Bing transaction)",
      level + 1)
  end
end

-- URL of a spec: built from base + path + params + key, or a keyless absolute `url` (a job's
-- result on another host: the key never goes there).
local function url_of(self, spec, key)
  if spec.url then
    -- Such a URL is signed (the distance matrix blob's shared access signature, `sig=`): the
    -- signature grants read access to the result, so it is kept out of meta and errors too.
    local shown = core.redact(spec.url, key):gsub("([?&][Ss][Ii][Gg]=)[^&#]*", "%1<redacted>")
    return spec.url, shown
  end
  local base = spec.api == "sds" and self.sds_url or spec.api == "geodata" and self.geodata_url
    or self.base_url
  local url, shown = core.build_url(base,
    spec.path, spec.segments, spec.params, not spec.keyless and key or nil)
  -- Other keys in the query (the Spatial Data Services' queryKey=) are redacted as well.
  return url, (core.redact(shown, nil))
end

--- The URL (key redacted) a spec would be sent to.
function Client:url(spec)
  local s = secrets[self]
  local _, redacted = url_of(self, spec, s and s.key)
  return redacted
end

--- The length of the URL a spec would be sent to, with the key as sent (a key is longer than
-- "<redacted>"): families choose between GET and POST by it. The URL itself is not handed out.
function Client:url_length(spec)
  local s = secrets[self]
  return #(url_of(self, spec, s and s.key))
end

-- Why a transport's answer cannot be read (core.decode would raise on it), or nil. A Lua
-- transport with a bug, or a proxy library's surprise, makes a `transport` error of the
-- attempt rather than a raise from inside the decoder.
local function malformed(resp)
  if type(resp) ~= "table" then
    return "the transport returned a " .. type(resp) .. " instead of an answer table"
  end
  local st = resp.status
  if type(st) ~= "number" or st ~= math.floor(st) or st < 100 or st > 999 then
    return "the transport returned an answer without an HTTP status (status: "
      .. (type(st) == "number" and tostring(st) or type(st)) .. ")"
  end
  if resp.headers ~= nil and type(resp.headers) ~= "table" then
    return "the transport returned headers that are a " .. type(resp.headers) .. ", not a table"
  end
  if resp.body ~= nil and type(resp.body) ~= "string" then
    return "the transport returned a body that is a " .. type(resp.body) .. ", not a string"
  end
  return nil
end

-- The error of a transport that returned no answer, as an error object.
local function transport_error(terr)
  if core.is_error(terr) then return terr end
  local t = type(terr)
  local msg = (t == "string" or t == "number") and tostring(terr)
    or t == "nil" and "the transport returned neither an answer nor an error"
    or "the transport failed with a " .. t .. " as its error"
  return errors.new("transport", msg, {retryable = true})
end

-- The attempts of one call (client:call after the budget check). `c` carries what the way
-- out needs whatever happens inside, a raise included: `held` (the reservation is held),
-- `counted`, `attempt`, `decoding` (inside core.decode), `hook_error`.
local function run_attempts(self, spec, c, req, idempotent)
  local s, est, redacted, meter = secrets[self], c.est, c.redacted, self.meter
  local account = s.account
  local transport = transport_of(self)
  local policy = self.retry_policy
  local clock = self.clock
  local timeout = spec.timeout or self._opts.timeout or DEFAULT_TIMEOUT
  local counted = c.counted
  local started = clock.now()
  local attempt = 0
  while true do
    attempt = attempt + 1
    c.attempt = attempt
    if self.limiter then self.limiter:take() end
    -- No attempt may run past the deadline: its transfer timeout is cut to the time left.
    local left = policy.deadline - (clock.now() - started)
    req.timeout = spec.timeout
    if left < timeout then req.timeout = math.max(left, 0.001) end
    local resp, terr = transport(req)
    local bad = resp and malformed(resp)
    if bad then
      resp, terr = nil, errors.new("transport", bad, {code = "BadAnswer", retryable = false})
    end
    c.decoding = true
    local doc, err
    if resp then
      doc, err = core.decode(resp.status, resp.headers or {}, resp.body or "", spec.answer or "rest",
        s.key)
    else
      err = transport_error(terr)
    end
    c.decoding = false
    if doc == nil and err == nil then
      err = errors.new("decode", "the answer decoded to nothing (no document and no error)")
    end
    if err then redact_error(err, s.key) end
    if billing.billed(resp and resp.status, doc == nil and err or nil) then
      -- Described again now: the session's 25 or an autosuggest ten may have moved on
      -- since the estimate (other clients of the key, earlier attempts).
      local desc = billing.describe(spec.billing, account)
      account:advance(desc)
      meter:record(desc)
      counted[#counted + 1] = desc
    end
    if doc ~= nil then
      local meta = meta_of(doc, resp, redacted, attempt, billed_total(counted, est))
      meta.hook_error = c.hook_error
      return doc, meta
    end
    local delay, why = retry.next_delay(policy, err, attempt, idempotent, clock.now() - started)
    local budget_err
    if delay and #counted > 0 then
      -- The service counted a failed attempt (a timeout, a 408): the next one is paid again,
      -- and must fit in the budget as the first did.
      meter:release(est)
      c.held = false
      local fits
      fits, budget_err = meter:acquire(est)
      c.held = fits == true
      if not fits then delay, why = nil, "budget" end
    end
    if not delay then
      err.attempts = attempt
      err.billing = billed_total(counted, est)
      err.url = redacted
      err.budget_error = budget_err
      err.hook_error = c.hook_error
      if why ~= "final" then err.gave_up = why end
      if resp and type(resp.headers) == "table" then
        err.status = err.status or resp.status
      end
      return nil, err
    end
    local herr = retry.notify(policy, {attempt = attempt, delay = delay, err = err,
                                       url = redacted, category = est.category,
                                       method = req.method})
    if herr and not c.hook_error then c.hook_error = core.redact(herr, s.key) end
    clock.sleep(delay)
  end
end

--- Sends one request spec through the pipeline. Returns `doc, meta` or `nil, err`.
-- With `spec.dry_run`, returns the estimate without sending (see Client:preflight):
-- `{dry_run=true, requests=1, billing=, url=, method=, urls=, calls=, fits=}`.
-- The first error of the retry hook, if any, is `meta.hook_error` or `err.hook_error`.
function Client:call(spec)
  if self.closed then errors.raise("bing: client is closed", 2) end
  required_billing(spec, 2)
  local t = spec.timeout
  if t ~= nil and not (type(t) == "number" and finite(t) and t > 0) then
    errors.raise("timeout must be a number of seconds > 0, got " .. tostring(t), 2)
  end
  if spec.headers then
    for name, v in pairs(spec.headers) do check_header("client:call", name, v, 2) end
  end
  local s = secrets[self]
  local account = s and s.account
  local est = billing.describe(spec.billing, account)
  if spec.dry_run then return self:preflight({spec}, true) end
  if not s then
    return nil, errors.new("auth", "no credentials: give key or session_key to bing.new, "
      .. "or set BING_MAPS_KEY", {billing = unbilled(est), attempts = 0, code = "NoCredentials"})
  end
  local url, redacted = url_of(self, spec, s.key)

  local body = spec.body
  local headers = {}
  if self.headers then
    for k, v in pairs(self.headers) do headers[k] = v end
  end
  if spec.headers then
    for k, v in pairs(spec.headers) do headers[k] = v end
  end
  if type(body) == "table" then
    local enc, jerr = cjson.encode(body)
    if not enc then
      local e = errors.argument("request body cannot be encoded as JSON: " .. jerr)
      e.billing, e.attempts = unbilled(est), 0
      return nil, e
    end
    body = enc
    headers["Content-Type"] = headers["Content-Type"] or "application/json"
  end
  local req = {method = spec.method or "GET", url = url, headers = headers, body = body,
               timeout = spec.timeout}
  -- Idempotent unless the request creates a job (bing.retry says why); a family may say.
  local idempotent = spec.idempotent
  if idempotent == nil then idempotent = not billing.creates_job(spec.billing) end

  local meter = self.meter
  -- The cost is held as spent from here while the call is in flight: concurrent calls (of
  -- this client, or of every client of a shared store) cannot both pass the budget.
  local ok, berr = meter:acquire(est)
  if not ok then
    berr.url = redacted
    return nil, berr
  end
  -- Every way out of the attempts gives the reservation back, a raise included (a user's
  -- transport, clock or store that raises, a full lua_shared_dict): pcall, then release.
  local c = {held = true, counted = {}, attempt = 0, est = est, redacted = redacted}
  local done, doc, meta = pcall(run_attempts, self, spec, c, req, idempotent)
  if c.held then meter:release(est) end
  if done then return doc, meta end
  if c.decoding then
    -- The answer is the server's: whatever it holds, it gives an error, never a raise.
    local text = type(doc) == "string" and doc
      or core.is_error(doc) and tostring(doc.message) or "a " .. type(doc) .. " was raised"
    return nil, errors.new("decode", "the answer could not be decoded: " .. core.redact(text, s.key),
      {attempts = c.attempt, billing = billed_total(c.counted, est), url = redacted,
       hook_error = c.hook_error})
  end
  -- A raise of the caller's own code (a transport, a clock, a store) goes on up, its text
  -- redacted like every other: it may hold the URL it was given.
  if type(doc) == "string" then doc = core.redact(doc, s.key) end
  error(doc, 0)
end

--- Checks the whole cost of the requests of one call against the budget, before any is sent
-- (families that split a call: a route over 25 waypoints, a big matrix). `specs` is the list
-- of request specs the call will send, in order. Returns the plan (the estimate):
--   {dry_run = true, requests = n, billing = <the one description, or billing.sum of all>,
--    parts = {desc...}, calls = {{method=, url=, billing=}...}, url = <first>, urls = {...},
--    method = <first>, split = n > 1, fits = bool}
-- or nil, err (kind `budget`, `err.cost` the refused sum; or kind `auth` without credentials).
-- With `dry_run`, the plan is returned even when it does not fit (`fits = false`, `budget_error`).
-- The parts are described in order as the service would count them (a session key's 25
-- running out part way, an autosuggest ten), without changing the client's state.
function Client:preflight(specs, dry_run)
  if type(specs) ~= "table" or not specs[1] then
    errors.raise("client:preflight: specs must be a non-empty list of request specs", 2)
  end
  local s = secrets[self]
  if not s and not dry_run then
    return nil, errors.new("auth", "no credentials: give key or session_key to bing.new, "
      .. "or set BING_MAPS_KEY", {attempts = 0, code = "NoCredentials",
                                  billing = {billable = false, transactions = 0}})
  end
  local acct = s and s.account:fork() or billing.account(false)
  local parts, calls, urls = {}, {}, {}
  for i, spec in ipairs(specs) do
    required_billing(spec, 2)
    local d = billing.describe(spec.billing, acct)
    acct:advance(d)
    local _, redacted = url_of(self, spec, s and s.key)
    parts[i], urls[i] = d, redacted
    calls[i] = {method = spec.method or "GET", url = redacted, billing = d}
  end
  local ok, err = self.meter:check(parts)
  local plan = {dry_run = true, requests = #specs, parts = parts, calls = calls,
                billing = #parts == 1 and parts[1] or billing.sum(parts), url = urls[1],
                urls = urls, method = calls[1].method, split = #specs > 1, fits = ok == true,
                budget_error = err}
  if dry_run then return plan end
  if not ok then return nil, err end
  return plan
end

--- Sends the specs of one call one after the other, after checking their whole cost
-- (preflight): nothing is sent when it does not fit. Returns `docs, meta` with
-- `meta = {billing = <sum of the parts>, attempts = <total>, requests = n, split = n > 1,
-- parts = {meta...}}`, or `nil, err` (the failing part's error, with `err.part`, `err.parts`,
-- and `err.billing` the sum of what the parts sent so far were billed). With `dry_run`,
-- returns the plan and sends nothing.
function Client:call_all(specs, dry_run)
  local plan, perr = self:preflight(specs, dry_run)
  if not plan or dry_run then return plan, perr end
  local docs, metas, descs = {}, {}, {}
  local attempts = 0
  for i, spec in ipairs(specs) do
    local doc, meta = self:call(spec)
    attempts = attempts + (meta and meta.attempts or 0)
    if doc == nil then
      descs[#descs + 1] = meta.billing
      meta.billing = #descs == 1 and descs[1] or billing.sum(descs)
      meta.part, meta.parts, meta.attempts = i, #specs, attempts
      return nil, meta
    end
    docs[i], metas[i], descs[i] = doc, meta, meta.billing
  end
  return docs, {billing = #descs == 1 and descs[1] or billing.sum(descs), attempts = attempts,
                requests = #specs, split = #specs > 1, parts = metas}
end

--- The estimate of a family call without sending it: `client:estimate("routes", "calc",
-- {waypoints = ...})` is `client.routes.calc{..., dry_run = true}` (the plan of preflight,
-- splits included).
function Client:estimate(family, fname, args)
  local fam = self[family]
  local fn = type(fam) == "table" and fam[fname]
  if type(fn) ~= "function" then
    errors.raise("client:estimate: no function " .. tostring(family) .. "." .. tostring(fname), 2)
  end
  if args ~= nil and type(args) ~= "table" then
    errors.raise("client:estimate: args must be a table", 2)
  end
  local a = {}
  for k, v in pairs(args or {}) do a[k] = v end
  a.dry_run = true
  return fn(a)
end

--- Totals of the client's billing meter and the hints:
-- `{billable=, non_billable=, requests=, categories = {[name] = {billable=, non_billable=,
-- requests=}}, hints = {[id] = {message=, ...}}}`. `client:usage{reset = true}` returns them
-- and then zeroes the meter.
function Client:usage(opts)
  local u = self.meter:usage()
  if opts and opts.reset then self.meter:reset() end
  return u
end

return _M
