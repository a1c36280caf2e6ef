-- bing.points.decode_shape on the emulator's Geodata answers: the library's C decoder reads
-- the emulator's own encoder (sim/lua/bingsim/geodata.lua), ring by ring, to its NumPoints.
local sim = require "support.sim"
local points = require "bing.points"

local GEODATA = "/geo/spatial/v1/public/Geodata"

local function boundary(filter)
  local status, doc = sim.get(GEODATA, {SpatialFilter = filter, ["$format"] = "json", key = sim.key})
  assert.equal(200, status)
  return doc.d.results
end

describe("points.decode_shape on the emulator's Geodata answers", function()
  it("gives every primitive's ring with NumPoints points, closed, around the place", function()
    local cases = {
      {"GetBoundary(47.64054,-122.12934,1,'PostCode1',1,1,'en','us')", 47.64054, -122.12934},
      {"GetBoundary(39.7392,-104.9903,3,'AdminDivision1',1,1)", 39.7392, -104.9903},
      {"GetBoundary(48.8584,2.2945,2,'CountryRegion',1,0)", 48.8584, 2.2945},
    }
    local primitives = 0
    for _, c in ipairs(cases) do
      local results = boundary(c[1])
      assert.is_true(#results >= 1, c[1])
      for _, r in ipairs(results) do
        for _, p in ipairs(r.Primitives) do
          local rings, version = points.decode_shape(p.Shape)
          assert.equal(1, version)
          assert.equal(1, #rings)
          local ring = rings[1]
          assert.equal(tonumber(p.NumPoints), #ring)
          assert.same(ring[1], ring[#ring])
          -- What decodes encodes back to the same text.
          assert.equal(p.Shape:sub(3), points.encode(ring))
          primitives = primitives + 1
        end
        -- The first ring's box holds the place (the island primitive may not).
        local ring = points.decode_shape(r.Primitives[1].Shape)[1]
        local s, w, n, e = 90, 180, -90, -180
        for _, q in ipairs(ring) do
          s, n = math.min(s, q[1]), math.max(n, q[1])
          w, e = math.min(w, q[2]), math.max(e, q[2])
        end
        assert.is_true(s <= c[2] and c[2] <= n and w <= c[3] and c[3] <= e, c[1])
      end
    end
    assert.is_true(primitives >= 4)  -- getAllPolygons=1 adds an island to the division
  end)
end)
