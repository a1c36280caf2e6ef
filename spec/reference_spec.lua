-- The reference's generated pages (doc/gen_reference.lua, run by `make docs`): one page per
-- family listing every call of its declarations, with the limits the checkers enforce, the
-- billing categories of bing.billing and an example; nothing here needs the emulator.
local bing = require "bing"
local billing = require "bing.billing"

local read = require("support.reference").file

describe("doc/gen_reference.lua", function()
  local dir, done

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
    done = assert(loadfile("doc/gen_reference.lua"))(dir, true)
  end)

  teardown(function()
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("writes a page per family with a function per call, and finds an example for each", function()
    local calls = 0
    for _, fam in ipairs(bing.FAMILIES) do
      local page = read(dir .. "/client_" .. fam .. ".lua")
      assert.truthy(page:find("@module client." .. fam, 1, true))
      for name, d in pairs(require("bing.api." .. fam)) do
        if type(d) == "table" and d.what then
          calls = calls + 1
          assert.truthy(page:find("\nfunction " .. name .. "(opts) end", 1, true), fam .. "." .. name)
        end
      end
    end
    assert.is_true(done.calls >= calls)
    assert.same({}, done.missing)
  end)

  it("states the limits of bing.check's checkers, the aliases and what is required", function()
    local page = read(dir .. "/client_elevations.lua")
    assert.truthy(page:find("-- @param opts.rows an integer from 2 to 512\n", 1, true))
    assert.truthy(page:find("-- @param opts.samples an integer from 1 to 1024; also spelled `samp`\n",
      1, true))
    assert.truthy(page:find(
      "-- @param[opt] opts.heights one of `ellipsoid`, `sealevel`; also spelled `hts`\n", 1, true))
  end)

  it("names billing categories of bing.billing only, with what the row says", function()
    local page = read(dir .. "/client_autosuggest.lua")
    assert.truthy(page:find("@billing `RESTAutosuggest` (billable, free with a session key, one "
      .. "transaction per 10 requests)", 1, true))
    for _, fam in ipairs(bing.FAMILIES) do
      for line in read(dir .. "/client_" .. fam .. ".lua"):gmatch("@billing ([^\n]*)") do
        for cat in line:gmatch("`([^`]+)` %(") do
          assert.truthy(billing.ROWS[cat], fam .. ": " .. cat)
        end
      end
    end
    -- A family function's categories come from its body: sds.delete names one.
    assert.truthy(read(dir .. "/client_sds.lua"):find(
      "@billing `RESTSpatialDataService:DeleteDataSource` (non-billable)", 1, true))
  end)

  it("leaves out a family's helpers that take no client (traffic.seconds)", function()
    assert.is_nil(read(dir .. "/client_traffic.lua"):find("function seconds", 1, true))
  end)
end)
