-- examples/route_map.lua against the emulator: the route map Bing draws (one StaticMapWithRoute
-- request), and a route from the Routes API drawn as an encoded polyline on a static map.
local sim = require "support.sim"
local examples = require "support.examples"
local reference = require "support.reference"
local imagery = require "bing.api.imagery"

local function run(args) return examples.run("route_map", args) end

local read = reference.file

-- Google's polyline decoding (independent of the example's encoder).
local function decode_polyline(s)
  local out, i, lat, lon = {}, 1, 0, 0
  local function value()
    local result, factor = 0, 1
    repeat
      local b = s:byte(i) - 63
      i = i + 1
      result = result + (b % 32) * factor
      factor = factor * 32
    until b < 32
    return result % 2 == 1 and -(result + 1) / 2 or result / 2
  end
  while i <= #s do
    lat, lon = lat + value(), lon + value()
    out[#out + 1] = {lat / 1e5, lon / 1e5}
  end
  return out
end

describe("examples/route_map.lua", function()
  local file
  before_each(function()
    sim.reset()
    file = os.tmpname()
  end)
  after_each(function() os.remove(file) end)

  it("saves the route map Bing draws, one StaticMapWithRoute transaction", function()
    local out, rc = run("-o " .. file .. " --size 640x480")
    assert.equal(0, rc, out)
    assert.same({"png", 640, 480}, {imagery.Image.size_of(read(file))})
    local req = sim.last_request()
    assert.equal("/REST/v1/Imagery/Map/Road/Routes/Driving", req.path)
    assert.same({"Seattle, WA;;A", "Redmond, WA;;B"}, {req.query["waypoint.1"], req.query["waypoint.2"]})
    assert.equal(200, req.status)
    assert.same({SIM_KEY = {["RESTImagery-StaticMapWithRoute"] = {billable = 1, non_billable = 0,
      requests = 1}}}, sim.ledger())
    assert.truthy(out:find("transactions: RESTImagery-StaticMapWithRoute 1", 1, true), out)
  end)

  it("draws a Routes API path with --path: an encoded polyline and a pin per stop", function()
    local out, rc = run("--path -o " .. file .. " 'Seattle, WA' 47.6,-122.2 'Redmond, WA'")
    assert.equal(0, rc, out)
    assert.same({"png", 800, 600}, {imagery.Image.size_of(read(file))})
    local log = sim.log()
    assert.equal(2, #log)
    assert.equal("/REST/v1/Routes/Driving", log[1].path)
    local map = log[2]
    assert.equal("/REST/v1/Imagery/Map/Road", map.path)
    assert.equal(200, map.status)
    assert.equal(3, #map.query.pp)
    assert.matches("^47.6,%-122.2;7;B$", map.query.pp[2])
    local enc = map.query.drawCurve:match("^l,FF0050C8,4;enc:(.*)$")
    assert.truthy(enc, map.query.drawCurve)
    local pts = decode_polyline(enc)
    assert.truthy(#pts >= 2 and #pts <= 120)
    -- The line runs inside the map area asked for.
    local s, w, n, e = map.query.mapArea:match("^([^,]+),([^,]+),([^,]+),([^,]+)$")
    for _, p in ipairs(pts) do
      assert.truthy(p[1] >= tonumber(s) and p[1] <= tonumber(n) and p[2] >= tonumber(w)
        and p[2] <= tonumber(e))
    end
    local ledger = sim.ledger().SIM_KEY
    assert.equal(1, ledger.RESTRoutes.billable)
    assert.equal(1, ledger["RESTImagery-StaticMap"].billable)
    assert.truthy(out:find("transactions: RESTImagery-StaticMap 1, RESTRoutes 1", 1, true), out)
  end)

  it("says how to call it on bad arguments", function()
    local out, rc = run("'Only one place'")
    assert.equal(2, rc)
    assert.truthy(out:find("usage: ", 1, true))
    out, rc = run("--size big")
    assert.equal(2, rc)
    assert.truthy(out:find("--size takes WIDTHxHEIGHT", 1, true))
    out, rc = run("--size 79x600 -o " .. file)
    assert.equal(1, rc)
    assert.truthy(out:find("mapSize width must be an integer from 80 to 2000", 1, true), out)
    assert.equal(0, #sim.log())
  end)
end)
