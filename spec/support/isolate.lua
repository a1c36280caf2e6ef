-- busted --helper: every spec file starts against a clean emulator (no faults, log, ledger
-- or jobs left over by the file before), so that files cannot depend on their order.
local busted = require "busted"

busted.subscribe({"file", "start"}, function()
  if os.getenv("SIM_URL") then
    local sim = require "support.sim"
    sim.settle()
    sim.reset()
  end
  return nil, true
end)
