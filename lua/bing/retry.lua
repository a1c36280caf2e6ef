--- Retry policy: exponential backoff with full jitter, honouring Retry-After, under a deadline.
--
-- What is retried (status-codes-and-error-handling.md, bing-maps-api-best-practices.md):
--   * 429 and the throttled-empty answer (200 with X-MS-BM-WS-INFO: 1, "wait a few seconds
--     and try again"): for every request. The service refused the work, so even a request
--     that creates a job cannot have created one.
--   * 503 ("try again later"): for every request, for the same reason: the front end refused it.
--   * Connection failures before anything was sent (connection refused, host or proxy not
--     resolved, a connect or TLS handshake that failed or timed out: the transports say
--     `sent = false`): for every request; the service never saw it.
--   * 500, 502, 504, 408, timeouts, connection resets and cut-off bodies: only for idempotent
--     requests. The service may have done the work before the answer was lost.
--   * never 400, 401, 403, 404 (or any other 4xx), nor a 2xx whose body does not decode:
--     the same request gets the same answer.
--
-- Idempotent (bing.client decides it per request): a GET or a POST that only computes (a
-- synchronous distance matrix, snap to road, truck route or itinerary sent as POST), unless
-- its billing row is marked `job`. Requests that create a job on the server are not idempotent,
-- whatever their method: the asynchronous Routes requests (DistanceMatrixAsync,
-- IsochronesAsync, SnapToRoadAsync, OptimizeItineraryAsync, TruckAsync) and the Spatial Data
-- Services dataflow jobs (geocode, load, download). After a lost answer a second attempt could
-- create, and bill, a second job; so they are retried only when refused (429, throttled-empty,
-- 503, connection refused, nothing sent). A family can override with `spec.idempotent`.
--
-- The delay before attempt n+1 is Retry-After when the answer had one (honoured as given,
-- even above `max`), else a random value in [0, min(max, base * 2^(n-1))] ("full jitter";
-- `jitter = false` takes the upper bound). `deadline` bounds the whole call: no attempt
-- starts, and no sleep is begun, that would end past it, and each attempt's transfer timeout
-- is cut to the time left.
-- @module bing.retry
local errors = require "bing.errors"

local _M = {}

-- The longest wait between attempts: what core.sleep accepts (a day).
_M.MAX_WAIT = 86400

local DEFAULTS = {attempts = 4, base = 0.5, max = 30, jitter = true, deadline = 120}
_M.DEFAULTS = DEFAULTS

local FIELDS = {attempts = "number", base = "number", max = "number", jitter = "boolean",
                deadline = "number", on_retry = "function", random = "function"}

local function bad(msg) errors.raise("bing.new: " .. msg, 5) end

--- Normalises the `retry` client option (`nil`/`true` = defaults, `false` = one attempt).
function _M.policy(opt)
  local p = {}
  for k, v in pairs(DEFAULTS) do p[k] = v end
  if opt == false then
    p.attempts = 1
    return p
  end
  if opt == true or opt == nil then return p end
  for k, v in pairs(opt) do
    if not FIELDS[k] then bad("unknown retry option '" .. tostring(k) .. "'") end
    if type(v) ~= FIELDS[k] then bad(string.format("retry.%s must be a %s", k, FIELDS[k])) end
    p[k] = v
  end
  if p.attempts < 1 or p.attempts ~= math.floor(p.attempts) then
    bad("retry.attempts must be an integer >= 1")
  end
  -- (x ~= x: NaN)
  if p.base ~= p.base or p.base < 0 then bad("retry.base must be a number >= 0") end
  if p.max ~= p.max or p.max < 0 or p.max > _M.MAX_WAIT then
    bad("retry.max must be a number of seconds from 0 to " .. _M.MAX_WAIT)
  end
  if p.deadline ~= p.deadline or p.deadline <= 0 then bad("retry.deadline must be a number > 0") end
  return p
end

-- curl errors that mean nothing reached the server.
local NOT_SENT = {CURLE_COULDNT_CONNECT = true, CURLE_COULDNT_RESOLVE_HOST = true,
                  CURLE_COULDNT_RESOLVE_PROXY = true}

--- Whether the service refused (or never saw) the request: safe to repeat for any request.
function _M.refused(err)
  return err.kind == "throttled" or err.status == 503 or NOT_SENT[err.code] == true
    or err.sent == false
end

--- Whether `err` may be retried for a request that is (or is not) idempotent.
function _M.retryable(err, idempotent)
  if not err or not err.retryable then return false end
  if _M.refused(err) then return true end
  return idempotent and true or false
end

--- The delay before the next attempt, or nil and the reason ("final", "attempts",
-- "deadline", "retry_after") when there is none. `attempt` is the number of attempts made so far; `elapsed`
-- the seconds since the first began.
function _M.next_delay(p, err, attempt, idempotent, elapsed)
  if not _M.retryable(err, idempotent) then return nil, "final" end
  if attempt >= p.attempts then return nil, "attempts" end
  local delay
  local ra = err.retry_after
  if type(ra) == "number" and ra >= 0 and ra < math.huge then
    -- A Retry-After is the server's to choose: one longer than the longest wait (with a
    -- deadline longer still) gives up, with err.retry_after telling the caller when to come
    -- back. Not capped: an attempt made before the time the server named would only be
    -- refused again, and pay one more attempt for it.
    if ra > _M.MAX_WAIT then return nil, "retry_after" end
    delay = ra
  else
    local cap = math.min(p.max, p.base * 2 ^ (attempt - 1))
    delay = p.jitter and (p.random or math.random)() * cap or cap
  end
  if elapsed + delay >= p.deadline then return nil, "deadline" end
  return delay
end

-- The text of a value raised by a hook; never raises (a __tostring that raises, or returns
-- no string, gives a description instead).
local function text_of(e)
  local ok, t = pcall(tostring, e)
  if ok and type(t) == "string" then return t end
  return "on_retry raised a " .. type(e) .. " that cannot be turned into text"
end

--- Calls the policy's on_retry hook under pcall: a failing hook never breaks a request and
-- nothing it raises escapes. Returns the hook's error as a string, or nil (the client keeps
-- the first on the call's result or error as `hook_error`). The hook runs between
-- attempts, never inside the transport.
function _M.notify(p, info)
  if p.on_retry then
    local ok, e = pcall(p.on_retry, info)
    if not ok then return text_of(e) end
  end
  return nil
end

return _M
