--- One error shape for the whole library.
--
-- Every failure is a table `{kind=, status=, code=, message=, details=, trace_id=,
-- retryable=, attempts=, billing=}` (an `argument` error raised for a bad call adds `where`)
-- whose metatable (owned by the C core, so that C and Lua errors are the same objects) gives
-- `tostring(err)` one readable line. `kind` is one of
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

-- The source name of the library's own modules (this file's folder, subfolders included),
-- or nil when they were not loaded from files.
local LIB = debug.getinfo(1, "S").source:match("^(@.*[/\\])[^/\\]*$")

local function in_library(info)
  return LIB ~= nil and info.source:sub(1, #LIB) == LIB
end

-- "file:line" of the user's code that made the bad call. Lua adds no position to a table
-- raised as an error, so it is found here: from inside the library, the first frame outside
-- it (C frames such as pcall skipped), whatever the depth of the library's own calls (a
-- family, its checkers, the pipeline), so a level that is off by one in some module still
-- points at the user; called from outside the library, the frame at `level` as error() has it.
local function position(level)
  local getinfo = debug.getinfo
  local first = getinfo(3, "S") -- the function that called raise
  local i = (first and in_library(first)) and 3 or level + 2
  while true do
    local info = getinfo(i, "Sl")
    if not info then return nil end
    if info.what ~= "C" and info.currentline > 0 and not in_library(info) then
      return info.short_src .. ":" .. info.currentline
    end
    i = i + 1
  end
end

--- Raises an `argument` error (a programmer error) whose message starts with the file:line
-- of the bad call in the user's code, as Lua's own errors do (`err.where` holds it alone).
-- `level` counts as error()'s does (2, the default: the caller of the function that raises);
-- from inside the library the position is the first frame outside it (see position).
function _M.raise(message, level)
  local err = _M.argument(message)
  local where = position(level or 2)
  if where then err.message, err.where = where .. ": " .. message, where end
  error(err, 0)
end

return _M
