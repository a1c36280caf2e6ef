-- examples/traffic.lua, autosuggest.lua and geospatial.lua against the emulator (what `make
-- example-traffic` etc. run): their output, and the requests they made.
local sim = require "support.sim"
local examples = require "support.examples"
local run = examples.run
local cjson = require "cjson"

describe("examples/traffic.lua", function()
  it("lists the area's incidents with names and UTC times, and writes GeoJSON", function()
    local file = os.tmpname()
    local since = sim.last_id()
    local out, rc = run("traffic", "39.6 -105.05 39.8 -104.9 --severity 3,4 --geojson " .. file)
    assert.equal(0, rc, out)
    local reqs = sim.log(since)
    assert.equal(1, #reqs)
    assert.equal("/REST/v1/Traffic/Incidents/39.6,-105.05,39.8,-104.9", reqs[1].path)
    assert.equal("3,4", reqs[1].query.severity)
    assert.truthy(out:find("1 incident(s) in 39.6,-105.05,39.8,-104.9 (UTC times)", 1, true), out)
    assert.truthy(out:find("Serious   Accident        2023-09-12 13:51 -> 2023-09-12 16:21  "
      .. "I-25 N / US-87 N", 1, true), out)
    assert.truthy(out:find("billed: RESTTraffic, 1 transaction(s)", 1, true), out)
    local f = assert(io.open(file))
    local gj = cjson.decode(f:read("a"))
    f:close()
    os.remove(file)
    assert.equal("FeatureCollection", gj.type)
    assert.equal("18558549332008001", gj.features[1].id)
    assert.equal("18558549332008001", gj.features[1].properties.incidentId)
    assert.same({-104.939053, 39.682642}, gj.features[1].geometry.coordinates)
  end)

  it("says why an area is refused, and sends nothing", function()
    local since = sim.last_id()
    local out, rc = run("traffic", "37 -105 45 -94")
    assert.equal(1, rc)
    assert.truthy(out:find("traffic.incidents: bing: argument: traffic.incidents: mapArea covers "
      .. "820504 km^2, more than the 10000 km^2 the service takes", 1, true), out)
    assert.equal(0, #sim.log(since))
  end)
end)

describe("examples/autosuggest.lua", function()
  it("asks once per typed character and counts one transaction for the ten", function()
    local since = sim.last_id()
    local out, rc = run("autosuggest", "'El bur'")
    assert.equal(0, rc, out)
    local asked = {}
    for _, e in ipairs(sim.entries("/REST/v1/Autosuggest", since)) do
      asked[#asked + 1] = e.query.query
      assert.equal("47.668697,-122.376373,5", e.query.userLocation)
    end
    assert.same({"El ", "El b", "El bu", "El bur"}, asked)
    assert.truthy(out:find('"El bur": 5 suggestion(s)\n  1. [LocalBusiness] El Burrito Mojado, '
      .. "12412 116th Ave NE, Kirkland, WA 98034", 1, true), out)
    assert.equal(1, #sim.entries("/REST/v1/Locations", since))
    assert.truthy(out:find("autosuggest: 4 request(s), 1 transaction(s)", 1, true), out)
  end)
end)

describe("examples/geospatial.lua", function()
  it("prints the services of a disputed point and of an embargoed region", function()
    local since = sim.last_id()
    local out, rc = run("geospatial")
    assert.equal(0, rc, out)
    assert.equal("/REST/v1/GeospatialEndpoint/hi-in/IN/32.750323,79.376221", sim.log(since)[1].path)
    assert.truthy(out:find("region used: IN  supported: true  disputed area: true", 1, true), out)
    assert.truthy(out:find("\n  RoadWithLabels       false  en-US  ecn.dynamic", 1, true), out)
    out, rc = run("geospatial", "en-us cu")
    assert.equal(0, rc, out)
    assert.truthy(out:find("region used: CU  supported: false  disputed area: false\n"
      .. "map tiles: none in this region", 1, true), out)
  end)
end)
