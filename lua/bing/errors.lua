--- One error shape for the whole library.
--
-- Every failure is a table `{kind=, status=, code=, message=, details=, trace_id=,
-- retryable=, attempts=, billing=}` whose metatable (owned by the C core, so that C and Lua
-- errors are the same objects) gives `tostring(err)` one readable line. `kind` is one of
-- `transport`, `timeout`, `http`, `auth`, `throttled`, `decode`, `budget`, `job`, `argument`.
-- @module bing.errors
local core = require "bing.core"

local _M = {}

local KINDS = {
  transport = true, timeout = true, http = true, auth = true, throttled = true,
  decode = true, budget = true, job = true, argument = true,
}
_M.KINDS = KINDS

--- Makes an error object of `kind` with `message`; `fields` (optional) adds or overrides fields.
function _M.new(kind, message, fields)
  assert(KINDS[kind], "unknown error kind")
  local err = {kind = kind, message = message, retryable = false}
  if fields then
    for k, v in pairs(fields) do err[k] = v end
  end
  return core.error(err)
end

--- An `argument` error: bad input caught before anything is sent.
function _M.argument(message)
  return _M.new("argument", message)
end

_M.is_error = core.is_error

--- Raises an `argument` error at the caller of the caller (a programmer error).
function _M.raise(message, level)
  error(_M.argument(message), (level or 2) + 1)
end

return _M
