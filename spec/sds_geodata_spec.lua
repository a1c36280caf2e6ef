-- client.sds.boundary (geodata-api.md) against the emulator's Geodata, and its polygon
-- decoding against the reference's worked example of the point compression.
local bing = require "bing"
local sim = require "support.sim"

local GEODATA = "/geo/spatial/v1/public/Geodata"

local function client() return sim.sds_client() end

-- A Geodata answer with one primitive, through a Lua transport.
local function canned(shape, num)
  local body = ([[{"d": {"Copyright": "c", "results": [{"EntityID": "1", "Name": {"EntityName": "X"},
    "Primitives": [{"PrimitiveID": "2", "Shape": "%s", "NumPoints": "%s", "SourceID": "1"}]}]}}]])
    :format(shape, num)
  return bing.new{key = "k", transport = function()
    return {status = 200, headers = {["content-type"] = "application/json"}, body = body}
  end}
end

describe("sds.boundary", function()
  local c
  before_each(function() c = client() end)

  it("decodes the reference's worked example (point-compression-algorithm.md) as a ring", function()
    local b = assert(canned("1,vx1vilihnM6hR7mEl2Q", 4).sds.boundary{point = {35.9, -110.7},
      entityType = "PopulatedPlace"})
    local rings = assert(b[1]:rings())
    assert.same({{35.89431, -110.72522}, {35.89393, -110.72578}, {35.89374, -110.72606},
      {35.89337, -110.72662}, {35.89431, -110.72522}}, rings[1])
    -- NumPoints says 4: the answer's points, before we closed the ring.
    assert.same({{decoded = 4, stated = 4}}, b[1]:point_counts())
    local f = b[1]:geojson()
    assert.equal("Polygon", f.geometry.type)
    assert.same({-110.72522, 35.89431}, f.geometry.coordinates[1][1])
    assert.equal("X", f.properties.Name)
  end)

  it("reads the emulator's boundaries to the vertex count the answer states", function()
    for lod, n in pairs{[0] = 17, [1] = 33, [2] = 65, [3] = 129} do
      local b = assert(c.sds.boundary{point = {47.64054, -122.12934}, entityType = "Postcode1",
        levelOfDetail = lod, getEntityMetadata = true})
      assert.equal(1, #b)
      local counts = b[1]:point_counts()
      assert.equal(n, counts[1].stated)
      assert.equal(n, counts[1].decoded)
      local ring = b[1]:rings()[1]
      assert.same(ring[1], ring[#ring])
      assert.is_string(b[1].EntityID)
      assert.is_table(b[1].EntityMetadata)
      assert.equal(("GetBoundary(47.64054,-122.12934,%d,'Postcode1',0,1)"):format(lod),
        sim.last_request().query.SpatialFilter)
      assert.equal("json", sim.last_request().query["$format"])
      assert.equal(GEODATA, sim.last_request().path)
    end
  end)

  it("gives a MultiPolygon for several primitives and bills an address with its geocode", function()
    local b = assert(c.sds.boundary{address = "Paris, France", entityType = "CountryRegion",
      getAllPolygons = true, culture = "fr-FR", userRegion = "fr"})
    assert.equal("GetBoundary('Paris, France',0,'CountryRegion',1,0,'fr-FR','FR')",
      sim.last_request().query.SpatialFilter)
    assert.equal(2, #b[1].Primitives)
    assert.equal("MultiPolygon", b[1]:geojson().geometry.type)
    assert.equal(2, #b[1]:polygons())
    assert.equal("RESTSpatialDataService:Geodata", b.meta.billing.category)
    assert.equal("RESTLocations", b.meta.billing.also[1].category)
    local l = sim.ledger()[sim.labels[sim.key]]
    assert.equal(1, l.RESTLocations.requests)
  end)

  it("refuses what the reference does not take, before sending", function()
    sim.assert_refused(function() return c.sds.boundary{point = {1, 2}, entityType = "Town"} end,
      "entityType must be one of")
    sim.assert_refused(function()
      return c.sds.boundary{point = {1, 2}, entityType = "Postcode1", levelOfDetail = 4}
    end, "levelOfDetail must be an integer from 0 to 3")
    sim.assert_refused(function() return c.sds.boundary{point = {91, 2}, entityType = "Postcode1"} end,
      "latitude")
    assert.has_error(function() c.sds.boundary{entityType = "Postcode1"} end)
    assert.has_error(function() c.sds.boundary{point = {1, 2}, address = "x", entityType = "Postcode1"} end)
  end)

  it("reports a malformed shape as a decode error, not a raise", function()
    local b = assert(canned("1,vx1vilihnM6hR7mEl2", 4).sds.boundary{point = {1, 2}, entityType = "Postcode1"})
    local rings, err = b[1]:rings()
    assert.is_nil(rings)
    assert.equal("decode", err.kind)
  end)
end)
