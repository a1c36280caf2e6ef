-- examples/elevations.lua and examples/timezone.lua against the emulator (make
-- example-elevations, make example-timezone): what they print and what they sent.
local sim = require "support.sim"
local examples = require "support.examples"

local run = examples.run

describe("examples/elevations.lua", function()
  it("prints a profile, a grid, sea level offsets and a split list, as the emulator answers", function()
    local since = sim.last_id()
    local out, rc = run("elevations")
    assert.equal(0, rc, out)
    local profile = {}
    for i, h in out:gmatch("\n +(%d+) +[%d.]+ +%-[%d.]+ +(%d+) m +#+") do
      profile[tonumber(i)] = tonumber(h)
    end
    assert.equal(12, #profile)
    assert.matches("Sea level offset at 10, 10: 13 m", out, 1, true)
    assert.matches("2500 points: 3 requests planned, 3 transactions", out, 1, true)
    assert.matches("2500 points: 2500 heights from 3 requests", out, 1, true)
    assert.matches("Billed: 6 transactions (RESTElevations)", out, 1, true)
    local paths = {}
    for _, e in ipairs(sim.log(since)) do paths[#paths + 1] = e.path end
    assert.same({"/REST/v1/Elevation/Polyline", "/REST/v1/Elevation/Bounds", "/REST/v1/Elevation/SeaLevel",
                 "/REST/v1/Elevation/List", "/REST/v1/Elevation/List", "/REST/v1/Elevation/List"}, paths)
    local poly = sim.log(since)[1]
    assert.equal("12", poly.query.samples)
    -- The profile's heights are the emulator's answer, in order.
    local st, doc = sim.get("/REST/v1/Elevation/Polyline", {points = poly.query.points, samples = "12",
                                                             key = sim.key})
    assert.equal(200, st)
    assert.same(doc.resourceSets[1].resources[1].elevations, profile)
  end)
end)

describe("examples/timezone.lua", function()
  it("prints the zones of a point and a place, conversions and the list sizes", function()
    local since = sim.last_id()
    local out, rc = run("timezone")
    assert.equal(0, rc, out)
    assert.matches("47.6, -122.3: America/Los_Angeles (Pacific Standard Time), standard -8.00 h, "
      .. "now -7.00 h (DST), local 2018-05-15 06:14", out, 1, true)
    assert.matches("DST from Mar Sun>=8 2:00 to Nov Sun>=1 2:00", out, 1, true)
    assert.matches("Vancouver, BC: America/Vancouver, 2018-05-15T06:14:15", out, 1, true)
    assert.matches("in Asia/Kolkata: 2018-05-15T18:44:15 (IST), epoch 1526390055", out, 1, true)
    assert.matches("in Europe/London: 2018-05-15T14:14:15 (BST), epoch 1526390055", out, 1, true)
    assert.matches("in Tokyo Standard Time: 2018-05-15T22:14:15 (JST), epoch 1526390055", out, 1, true)
    local iana, windows = out:match("(%d+) IANA zones, (%d+) Windows zones")
    assert.is_true(tonumber(iana) > tonumber(windows))
    assert.equal(7, #sim.log(since))
  end)
end)
