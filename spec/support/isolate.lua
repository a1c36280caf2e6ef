-- busted --helper: every spec file starts against a clean emulator (no faults, log, ledger
-- or jobs left over by the file before), so that files cannot depend on their order.
local busted = require "busted"

-- Under `make sanitize` this process runs with the ASan runtime preloaded, and so does every
-- program a spec starts through the shell. Those get the Makefile's BING_CHILD_ASAN_OPTIONS
-- (no leak checks, no strict string checks: they are mostly Debian's own programs, and
-- ASan's reports about them are not this project's), set for the command alone.
local child_asan = os.getenv("BING_CHILD_ASAN_OPTIONS")
if child_asan and child_asan:match("^[%w_=:]+$") then
  local prefix = "export ASAN_OPTIONS=" .. child_asan .. "; "
  local popen, execute = io.popen, os.execute
  io.popen = function(cmd, ...) return popen(prefix .. cmd, ...) end -- luacheck: ignore 122
  os.execute = function(cmd, ...) -- luacheck: ignore 122
    if cmd == nil then return execute() end
    return execute(prefix .. cmd, ...)
  end
end

busted.subscribe({"file", "start"}, function()
  if os.getenv("SIM_URL") then
    local sim = require "support.sim"
    sim.settle()
    sim.reset()
  end
  return nil, true
end)
