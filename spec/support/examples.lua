-- examples/<name>.lua run in a child interpreter of the same kind as the one running busted
-- (lua5.4 or luajit), so that `make test LUA=luajit` runs the examples under LuaJIT too.
--
--   local examples = require "support.examples"
--   examples.run(name[, args[, env]])   output (stdout and stderr together) and exit code of
--                                        `env lua examples/<name>.lua args`
--   examples.EMULATOR                    the default env: BING_BASE_URL and BING_MAPS_KEY of
--                                        the emulator (a shell prefix, "NAME=value ...")
--   examples.LUAJIT, examples.LUA        true under LuaJIT; the interpreter's command
local sim = require "support.sim"

local _M = {}

_M.LUAJIT = rawget(_G, "jit") ~= nil
_M.LUA = _M.LUAJIT and "luajit" or "lua5.4"
_M.EMULATOR = "BING_BASE_URL=" .. sim.url .. " BING_MAPS_KEY=" .. sim.key

function _M.run(name, args, env)
  local p = assert(io.popen(("%s %s examples/%s.lua %s 2>&1; echo \"rc=$?\"")
    :format(env or _M.EMULATOR, _M.LUA, name, args or "")))
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return (out:gsub("rc=%d+\n$", "")), rc
end

return _M
