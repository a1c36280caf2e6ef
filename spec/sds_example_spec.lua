-- examples/csv_to_geojson.lua against the emulator: the CSV's rows become one geocode job,
-- and the GeoJSON holds the geocoded rows with their columns; failures are reported.
local sim = require "support.sim"
local examples = require "support.examples"
local reference = require "support.reference"
local cjson = require "cjson"

local function run(args)
  return examples.run("csv_to_geojson", args, "BING_MAPS_KEY=" .. sim.key .. " BING_SDS_URL=" .. sim.url)
end

describe("examples/csv_to_geojson.lua", function()
  it("geocodes the sample CSV into a FeatureCollection through one job", function()
    local path = os.tmpname()
    local since = sim.last_id()
    local out, rc = run("examples/data/addresses.csv " .. path)
    assert.equal(0, rc, out)
    local doc = cjson.decode(reference.file(path))
    os.remove(path)
    assert.equal("FeatureCollection", doc.type)
    assert.equal(5, #doc.features)
    local ms = doc.features[1]
    assert.equal("Microsoft", ms.properties.name)
    assert.near(-122.129, ms.geometry.coordinates[1], 0.01)
    assert.near(47.64, ms.geometry.coordinates[2], 0.01)
    assert.equal("Space Needle, the", doc.features[3].properties.name)
    assert.matches('not geocoded: Nowhere "at all" %(NotFound', out)
    assert.matches("5 of 6 geocoded", out)
    local creates = 0
    for _, e in ipairs(sim.log(since)) do
      if e.method == "POST" and e.path == "/REST/v1/Dataflows/Geocode" then creates = creates + 1 end
    end
    assert.equal(1, creates)
  end)
end)
