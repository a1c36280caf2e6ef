--- Retry policy: exponential backoff with full jitter, honouring Retry-After, under a deadline.
--
-- What is retried (status-codes-and-error-handling.md, bing-maps-api-best-practices.md):
--   * 429 and the throttled-empty answer (X-MS-BM-WS-INFO: 1): always. The service refused
--     the request before doing it, so even a POST that creates a job is safe to repeat.
--   * 503: always, for the same reason (the front end refused the request).
--   * 500, 502, 504, 408, timeouts, connection resets and cut-off bodies: only for idempotent
--     requests (GETs, and POSTs a family marks `idempotent` because they only compute, such as
--     a synchronous distance matrix). A POST that creates an async job is not retried then:
--     the first attempt may have created the job, and a second one would be billed again.
--   * never 400, 401, 403, 404, or a decode error of a 2xx answer.
-- @module bing.retry
local _M = {}

local DEFAULTS = {attempts = 4, base = 0.5, max = 30, jitter = true, deadline = 120}
_M.DEFAULTS = DEFAULTS

local FIELDS = {attempts = "number", base = "number", max = "number", jitter = "boolean",
                deadline = "number", on_retry = "function", random = "function"}

--- Normalises the `retry` client option (`nil` = defaults, `false` = one attempt).
function _M.policy(opt)
  local p = {}
  for k, v in pairs(DEFAULTS) do p[k] = v end
  if opt == false then
    p.attempts = 1
    return p
  end
  if opt == true or opt == nil then return p end
  for k, v in pairs(opt) do
    if not FIELDS[k] then error("bing.new: unknown retry option '" .. tostring(k) .. "'", 4) end
    if type(v) ~= FIELDS[k] then
      error(string.format("bing.new: retry.%s must be a %s", k, FIELDS[k]), 4)
    end
    p[k] = v
  end
  if p.attempts < 1 or p.attempts ~= math.floor(p.attempts) then
    error("bing.new: retry.attempts must be an integer >= 1", 4)
  end
  return p
end

-- Kinds of failure that mean "the service did not do it": safe to repeat for any method.
local REFUSED = {throttled = true}

local function retryable(err, idempotent)
  if not err or not err.retryable then return false end
  if REFUSED[err.kind] or err.status == 503 then return true end
  return idempotent
end

--- The delay before the next attempt, or nil when the error is final.
-- `attempt` is the number of attempts made so far; `elapsed` the seconds since the first.
function _M.next_delay(p, err, attempt, idempotent, elapsed)
  if attempt >= p.attempts or not retryable(err, idempotent) then return nil end
  local delay
  if err.retry_after and err.retry_after >= 0 then
    delay = err.retry_after
  else
    local cap = math.min(p.max, p.base * 2 ^ (attempt - 1))
    delay = p.jitter and (p.random or math.random)() * cap or cap
  end
  if p.deadline and elapsed + delay > p.deadline then return nil end
  return delay
end

--- Calls the policy's on_retry hook under pcall: a failing hook never breaks a request.
function _M.notify(p, info)
  if p.on_retry then
    local ok, e = pcall(p.on_retry, info)
    if not ok then info.err.hook_error = tostring(e) end
  end
end

return _M
