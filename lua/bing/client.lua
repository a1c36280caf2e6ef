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

local _M = {}

_M.DEFAULT_BASE_URL = "https://dev.virtualearth.net"
_M.DEFAULT_SDS_URL = "https://spatial.virtualearth.net"

-- Credentials live here, not on the client table, so that printing or dumping a client
-- (inspect, serpent, a debugger) can never show the key. Weak keys: a client that is
-- collected takes its secret with it.
local secrets = setmetatable({}, {__mode = "k"})

-- Session-key request counts, shared by every client using the same session key: the
-- 25-request allowance belongs to the session, not to one client object.
local sessions = setmetatable({}, {__mode = "v"})

local OPTIONS = {
  key = "string", session_key = "string", base_url = "string", sds_url = "string",
  cafile = "string", capath = "string", timeout = "number", connect_timeout = "number",
  proxy = "string", max_size = "number", user_agent = "string", culture = "string",
  transport = "function", headers = "table", retry = "table|boolean", qps = "number",
  budget = "table", clock = "table", verify = "boolean", http2 = "boolean",
  account = "string", matrix_limits = "table",
}

local Client = {}
Client.__index = Client
_M.Client = Client

local function check_options(opts)
  for name, value in pairs(opts) do
    local want = OPTIONS[name]
    if not want then errors.raise("bing.new: unknown option '" .. tostring(name) .. "'", 3) end
    local got = type(value)
    if not want:find(got, 1, true) then
      errors.raise(string.format("bing.new: option '%s' must be a %s, got %s", name, want, got), 3)
    end
  end
end

local function default_clock()
  return {now = core.now, sleep = core.sleep}
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
    culture = opts.culture,
    headers = opts.headers,
    account = opts.account or "basic",
    matrix_limits = opts.matrix_limits,
    clock = opts.clock or default_clock(),
    retry_policy = retry.policy(opts.retry),
    meter = billing.meter(opts.budget),
    _opts = opts,
  }, Client)
  self.limiter = opts.qps and ratelimit.new(opts.qps, self.clock) or nil
  local key, mode = opts.key, "key"
  if opts.session_key then
    key, mode = opts.session_key, "session"
  elseif not key then
    key = os.getenv("BING_MAPS_KEY")
    if key == "" then key = nil end
  end
  if key then
    local s = {mode = mode, key = key}
    if mode == "session" then
      local state = sessions[key]
      if not state then
        state = {count = 0}
        sessions[key] = state
      end
      s.session = state
    end
    secrets[self] = s
  end
  self.auth_mode = key and mode or nil
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
  t = function(req) return h:perform(req) end
  self.transport = t
  return t
end

--- Closes the client's connections; the client can be used again (a new handle is made).
function Client:close()
  if self.http then
    self.http:close()
    self.http, self.transport = nil, self._opts.transport
  end
end
Client.__close = Client.close
Client.__gc = Client.close

--- The billing description of a spec under this client's credentials.
function Client:describe(spec)
  local s = secrets[self]
  return billing.describe(spec.billing, s and s.session)
end

--- The URL (key redacted) a spec would be sent to.
function Client:url(spec)
  local s = secrets[self]
  local _, redacted = core.build_url(spec.api == "sds" and self.sds_url or self.base_url,
    spec.path, spec.segments, spec.params, s and s.key)
  return redacted
end

local function meta_of(doc, resp, url, attempts, desc)
  local meta = {status = resp and resp.status, url = url, attempts = attempts, billing = desc}
  if type(doc) == "table" then
    meta.trace_id = doc.traceId
    meta.copyright = doc.copyright
    meta.brand_logo_uri = doc.brandLogoUri
    meta.status_description = doc.statusDescription
    meta.authentication = doc.authenticationResultCode
    local set = doc.resourceSets and doc.resourceSets[1]
    meta.estimated_total = set and set.estimatedTotal
  end
  if resp and resp.headers then
    meta.content_type = resp.headers["content-type"]
  end
  return meta
end

-- Whether the server bills an answer. The transaction table counts requests the service
-- answered; an authentication failure cannot be charged to the key, and the reference says
-- nothing of charging refused (429) or throttled-empty answers: we count only answers with a
-- 2xx status that are not the throttled-empty answer, and the emulator's ledger does the same
-- (sim/README.md, "Billing").
local function billed(resp, err)
  if not resp then return false end
  if resp.status < 200 or resp.status >= 300 then return false end
  return not (err and err.kind == "throttled")
end

--- Sends one request spec through the pipeline. Returns `doc, meta` or `nil, err`.
-- With `spec.dry_run`, returns the estimate `{dry_run=true, url=, billing=, requests=1}`
-- without sending.
function Client:call(spec)
  local s = secrets[self]
  local desc = billing.describe(spec.billing, s and s.session)
  if not s then
    return nil, errors.new("auth", "no credentials: give key or session_key to bing.new, "
      .. "or set BING_MAPS_KEY", {billing = desc, attempts = 0, code = "NoCredentials"})
  end
  local base = spec.api == "sds" and self.sds_url or self.base_url
  local url, redacted = core.build_url(base, spec.path, spec.segments, spec.params, s.key)
  if spec.dry_run then
    return {dry_run = true, url = redacted, billing = desc, requests = 1, method = spec.method or "GET"}
  end
  local ok, berr = self.meter:check(desc)
  if not ok then
    berr.attempts = 0
    return nil, berr
  end

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
    if not enc then return nil, errors.argument("request body cannot be encoded as JSON: " .. jerr) end
    body = enc
    headers["Content-Type"] = headers["Content-Type"] or "application/json"
  end
  local req = {method = spec.method or "GET", url = url, headers = headers, body = body,
               timeout = spec.timeout}
  local idempotent = spec.idempotent
  if idempotent == nil then idempotent = req.method == "GET" end

  local transport = transport_of(self)
  local policy = self.retry_policy
  local clock = self.clock
  local started = clock.now()
  local attempt = 0
  while true do
    attempt = attempt + 1
    if self.limiter then self.limiter:take() end
    local resp, terr = transport(req)
    local doc, err
    if resp then
      doc, err = core.decode(resp.status, resp.headers or {}, resp.body or "", spec.raw)
    else
      err = terr
      if not core.is_error(err) then
        err = errors.new("transport", core.redact(tostring(err), s.key), {retryable = true})
      end
    end
    if doc ~= nil then
      if s.session then s.session.count = s.session.count + 1 end
      self.meter:record(desc)
      local meta = meta_of(doc, resp, redacted, attempt, desc)
      return doc, meta
    end
    if billed(resp, err) then
      if s.session then s.session.count = s.session.count + 1 end
      self.meter:record(desc)
    end
    local delay = retry.next_delay(policy, err, attempt, idempotent, clock.now() - started)
    if not delay then
      err.attempts = attempt
      err.billing = desc
      err.url = redacted
      if resp and type(resp.headers) == "table" then
        err.status = err.status or resp.status
      end
      return nil, err
    end
    retry.notify(policy, {attempt = attempt, delay = delay, err = err, url = redacted})
    clock.sleep(delay)
  end
end

return _M
