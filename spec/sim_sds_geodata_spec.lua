-- The emulator's Geodata API (sim/lua/bingsim/geodata.lua) over HTTP: boundaries of the
-- gazetteer's places in the documented compressed format, decoded here with the reference's
-- algorithm (geodata-api.md, "Decompression Algorithm"); vertex counts, closed rings, the
-- point inside, metadata, errors, the ledger and the reference's shape.
local sim = require "support.sim"
local shape = require "support.shape"

local GEODATA = "/geo/spatial/v1/public/Geodata"
local SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

-- geodata-api.md's TryParseEncodedValue, in Lua. Its bit operations are written as the
-- arithmetic they stand for, exact to 2^53 under both Lua 5.4 and LuaJIT (whose `bit` library
-- is 32-bit, and a first point's number is wider): `n |= (b & 31) << k` adds (b % 32) * 32^(k/5)
-- (the 5-bit groups do not overlap), and `(v >> 1) ^ -(v & 1)` is v / 2 for even v and
-- -(v + 1) / 2 for odd v.
local function decode(value)
  local list, index, xsum, ysum = {}, 1, 0, 0
  while index <= #value do
    local n, scale = 0, 1
    while true do
      assert(index <= #value, "ran out of data mid-number")
      local b = SAFE:find(value:sub(index, index), 1, true)
      assert(b, "not a safe character")
      b = b - 1
      index = index + 1
      n = n + (b % 32) * scale
      scale = scale * 32
      if b < 32 then break end
    end
    local diagonal = math.floor((math.sqrt(8 * n + 5) - 1) / 2)
    n = n - math.floor(diagonal * (diagonal + 1) / 2)
    local ny = n
    local nx = diagonal - ny
    nx = nx % 2 == 1 and -math.floor((nx + 1) / 2) or math.floor(nx / 2)
    ny = ny % 2 == 1 and -math.floor((ny + 1) / 2) or math.floor(ny / 2)
    xsum, ysum = xsum + nx, ysum + ny
    list[#list + 1] = {ysum * 0.00001, xsum * 0.00001}
  end
  return list
end

local function rings_of(shape_text)
  local version, rest = shape_text:match("^(%d+),(.*)$")
  assert.equal("1", version)
  local out = {}
  for r in rest:gmatch("[^,]+") do out[#out + 1] = decode(r) end
  return out
end

local function inside(lat, lon, ring)
  local c, j = false, #ring
  for i = 1, #ring do
    local yi, xi, yj, xj = ring[i][1], ring[i][2], ring[j][1], ring[j][2]
    if ((yi > lat) ~= (yj > lat)) and (lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) then c = not c end
    j = i
  end
  return c
end

local function boundary(filter, extra)
  local params = {SpatialFilter = filter, ["$format"] = "json", key = sim.key}
  for k, v in pairs(extra or {}) do params[k] = v end
  local status, doc, body, h = sim.get(GEODATA, params)
  assert(status, doc)
  return status, doc, body, h
end

describe("sim SDS Geodata", function()
  before_each(function() sim.reset() end)

  it("decodes the point compression example of the Bing documentation", function()
    -- the REST Elevations page's worked example of the same algorithm
    local pts = decode("vx1vilihnM6hR7mEl2Q")
    assert.equal(4, #pts)
    assert.near(35.89431, pts[1][1], 1e-9)
    assert.near(-110.72522, pts[1][2], 1e-9)
    assert.near(35.89337, pts[4][1], 1e-9)
  end)

  it("answers the reference's PostCode1 request with a closed ring around the point", function()
    local status, doc = boundary("GetBoundary(47.64054,-122.12934,1,'PostCode1',1,1,'en','us')")
    assert.equal(200, status)
    local r = doc.d.results[1]
    assert.matches("^%-%d+$", r.EntityID)
    assert.equal(1, #r.Primitives)
    local p = r.Primitives[1]
    local rings = rings_of(p.Shape)
    assert.equal(1, #rings)
    local ring = rings[1]
    assert.equal(tonumber(p.NumPoints), #ring)
    assert.equal(33, #ring) -- level of detail 1: 32 vertices, closed
    assert.same(ring[1], ring[#ring])
    assert.is_true(inside(47.64054, -122.12934, ring))
    assert.matches("^MULTIPOINT %(%(%-?[%d.]+ %-?[%d.]+%), %(%-?[%d.]+ %-?[%d.]+%)%)$",
      r.EntityMetadata.BestMapViewBox)
    assert.equal(sim.url, r.__metadata.uri:sub(1, #sim.url))
    -- the reference's shape, less what the reference's example leaves out (Name, and the
    -- metadata beyond BestMapViewBox)
    r.Name = nil
    r.EntityMetadata = {BestMapViewBox = r.EntityMetadata.BestMapViewBox}
    assert.is_nil(shape.diff(shape.load("sds/geodata.postcode1.json"), doc))
  end)

  it("has the stated vertex count at every level of detail, deterministic", function()
    local counts = {}
    for lod = 0, 3 do
      local _, doc = boundary(("GetBoundary(48.8584,2.2945,%d,'AdminDivision1',0,0)"):format(lod))
      local p = doc.d.results[1].Primitives[1]
      local ring = rings_of(p.Shape)[1]
      assert.equal(tonumber(p.NumPoints), #ring)
      counts[#counts + 1] = #ring
      assert.is_nil(doc.d.results[1].EntityMetadata)
    end
    assert.same({17, 33, 65, 129}, counts)
    local _, a = boundary("GetBoundary(48.8584,2.2945,2,'CountryRegion',0,0)")
    local _, b = boundary("GetBoundary(48.8584,2.2945,2,'CountryRegion',0,0)")
    assert.same(a, b)
    assert.equal("France", a.d.results[1].Name.EntityName)
  end)

  it("adds the other polygons with getAllPolygons", function()
    local _, one = boundary("GetBoundary(39.7392,-104.9903,0,'AdminDivision1',0,1)")
    local _, all = boundary("GetBoundary(39.7392,-104.9903,0,'AdminDivision1',1,1)")
    assert.equal(1, #one.d.results[1].Primitives)
    assert.equal(2, #all.d.results[1].Primitives)
    for _, p in ipairs(all.d.results[1].Primitives) do
      local ring = rings_of(p.Shape)[1]
      assert.equal(tonumber(p.NumPoints), #ring)
      assert.same(ring[1], ring[#ring])
    end
  end)

  it("geocodes an address, booking RESTLocations beside Geodata", function()
    local status, doc = boundary(
      "GetBoundary('1 Microsoft Way Redmond WA 98052',0,'PopulatedPlace',0,0,'en','us')")
    assert.equal(200, status)
    assert.equal("Redmond", doc.d.results[1].Name.EntityName)
    sim.settle()
    local l = sim.ledger().SIM_KEY
    assert.same({billable = 1, non_billable = 0, requests = 1}, l["RESTSpatialDataService:Geodata"])
    assert.same({billable = 1, non_billable = 0, requests = 1}, l["RESTLocations"])
  end)

  it("answers nothing where the gazetteer has nothing, and Atom by default", function()
    local status, doc = boundary("GetBoundary(0,-150,0,'CountryRegion',0,0)")
    assert.equal(200, status)
    assert.same({}, doc.d.results)
    local st, _, body, h = sim.get(GEODATA, {
      SpatialFilter = "GetBoundary(47.6,-122.3,0,'PopulatedPlace',0,0)",
      key = sim.key})
    assert.equal(200, st)
    assert.matches("application/atom%+xml", h["content-type"])
    assert.matches("<d:Shape>1,", body)
  end)

  it("refuses bad requests with a 400 naming the parameter", function()
    local bad = {
      {"GetBoundary(47.6,-122.3,4,'PopulatedPlace',0,0)", "levelOfDetail"},
      {"GetBoundary(47.6,-122.3,1,'Planet',0,0)", "entityType"},
      {"GetBoundary(47.6,-122.3,1,'PopulatedPlace',2,0)", "getAllPolygons"},
      {"GetBoundary(47.6,-122.3,1,'PopulatedPlace',0,'x')", "getEntityMetadata"},
      {"GetBoundary(97.6,-122.3,1,'PopulatedPlace',0,0)", "latitude"},
      {"Boundary(47.6,-122.3)", "SpatialFilter"},
    }
    for _, b in ipairs(bad) do
      local status, doc = boundary(b[1])
      assert.equal(400, status, b[1])
      assert.equal(b[2] .. ":", doc.errorDetails[2]:sub(1, #b[2] + 1))
    end
    local status = sim.get(GEODATA, {key = sim.key})
    assert.equal(400, status)
  end)
end)
