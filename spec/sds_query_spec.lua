-- client.sds.query against the emulator's Query API: paging across page boundaries (our
-- $top/$skip and the service's __next) with no duplicate and no gap, the $filter built from
-- Lua values and escaped, every spatial filter, limits refused before sending, results.
local bing = require "bing"
local sim = require "support.sim"

local FC = "20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample/FourthCoffeeShops"
local PATH = "/REST/v1/data/20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample/FourthCoffeeShops"
local SEATTLE = {47, -123, 48, -122}

local function client() return sim.sds_client() end

local function ids(list)
  local out = {}
  for i, e in ipairs(list) do out[i] = e.EntityID end
  return out
end

describe("sds.query", function()
  local c
  before_each(function() c = client() end)

  it("pages with $top/$skip across page boundaries: no duplicate, no gap", function()
    local whole = assert(c.sds.query{source = FC, bbox = SEATTLE, top = 250, inlinecount = true})
    assert.is_true(whole.count > 20 and whole.count < 250)
    assert.equal(whole.count, #whole)
    local since = sim.last_id()
    local q = assert(c.sds.query{source = FC, bbox = SEATTLE, top = 7})
    local got, pages = {}, 0
    for page in q:pages() do
      pages = pages + 1
      for _, e in ipairs(page) do got[#got + 1] = e end
    end
    assert.same(ids(whole), ids(got))
    assert.equal(math.ceil(#whole / 7) + (#whole % 7 == 0 and 1 or 0), pages)
    local log = sim.entries(PATH, since)
    assert.equal(pages, #log)
    for i, e in ipairs(log) do
      assert.equal("7", e.query["$top"])
      if i == 1 then
        assert.is_nil(e.query["$skip"])
      else
        assert.equal(tostring((i - 1) * 7), e.query["$skip"])
      end
      assert.equal("json", e.query["$format"])
      assert.equal("bbox(47,-123,48,-122)", e.query.spatialFilter)
    end
    -- each() and all() walk the same rows; all{max} stops fetching at max.
    local n = 0
    for e, i in q:each() do n = n + 1; assert.equal(whole[i].EntityID, e.EntityID) end
    assert.equal(#whole, n)
    since = sim.last_id()
    local some = assert(c.sds.query{source = FC, bbox = SEATTLE, top = 7}:all{max = 10})
    local first10 = {}
    for i = 1, 10 do first10[i] = whole[i].EntityID end
    assert.same(first10, ids(some))
    assert.equal(2, #sim.entries(PATH, since))
  end)

  it("follows the service's __next when it sized the pages (no $top)", function()
    local whole = assert(c.sds.query{source = FC, bbox = SEATTLE, top = 250})
    local since = sim.last_id()
    local q = assert(c.sds.query{source = FC, bbox = SEATTLE})
    assert.equal(25, #q)
    local all = assert(q:all())
    assert.same(ids(whole), ids(all))
    local log = sim.entries(PATH, since)
    assert.equal(math.ceil(#whole / 25), #log)
    assert.equal("25", log[2].query["$skip"])
    for _, e in ipairs(log) do assert.equal("<redacted>", e.query.key) end
  end)

  it("keeps the source's property names and types, with :latlon() and :geojson()", function()
    local q = assert(c.sds.query{source = {access_id = "20181f26d9e94c81acdf9496133d4f23",
      name = "FourthCoffeeSample", entity = "FourthCoffeeShops"}, near = {47.6, -122.3},
      distance = 5, top = 3, select = {"*", "__Distance"}})
    local e = q[1]
    assert.is_string(e.EntityID)
    assert.is_string(e.PostalCode)
    assert.is_boolean(e.IsWiFiHotSpot)
    assert.is_number(e.__Distance)
    local lat, lon = e:latlon()
    assert.equal(e.Latitude, lat)
    assert.equal(e.Longitude, lon)
    local f = e:geojson()
    assert.same({lon, lat}, f.geometry.coordinates)
    assert.equal(e.Name, f.properties.Name)
    assert.equal(3, #q:geojson().features)
    assert.equal("RESTSpatialDataService:Query", q.meta.billing.category)
    assert.equal("nearby(47.6,-122.3,5)", sim.last_request().query.spatialFilter)
  end)

  it("builds $filter from Lua values, quoted so that input cannot change it", function()
    local evil = "x' or Name ne 'y"
    local q = assert(c.sds.query{source = FC, bbox = SEATTLE, filter = {Name = evil}})
    assert.equal(0, #q)
    assert.equal("Name eq 'x'' or Name ne ''y'", sim.last_request().query["$filter"])
    -- The same text as a raw filter does change it: only when asked for.
    assert.has_error(function() c.sds.query{source = FC, bbox = SEATTLE, filter = "Name eq 'x'"} end)
    local raw = assert(c.sds.query{source = FC, bbox = SEATTLE, top = 250, raw_filter = true,
      filter = "Name eq '" .. evil .. "'"})
    assert.is_true(#raw > 0)
    assert.equal("Name eq 'StoreType eq 1'", bing.sds.filter{Name = "StoreType eq 1"})
    assert.equal("IsWiFiHotSpot eq true and SeatingCapacity ge 20 and SeatingCapacity lt 60",
      bing.sds.filter{IsWiFiHotSpot = true, SeatingCapacity = {ge = 20, lt = 60}})
    assert.equal("not (StoreType eq 'Kiosk') and ((PrimaryCity eq 'Seattle') or (PrimaryCity eq 'Tacoma'))",
      bing.sds.filter{_or = {{PrimaryCity = "Seattle"}, {PrimaryCity = "Tacoma"}},
                      _not = {StoreType = "Kiosk"}})
    assert.equal("EntityID in ('-1000','-1001')", bing.sds.filter{EntityID = {["in"] = {"-1000", "-1001"}}})
    assert.equal("StartsWith(Name,'Fourth ''C') eq true", bing.sds.filter{Name = {startswith = "Fourth 'C"}})
    assert.equal("Manager eq null and Open eq datetime'2012-01-01T00:00:00'",
      bing.sds.filter{Manager = bing.sds.null, Open = bing.sds.datetime("2012-01-01T00:00:00")})
    assert.has_error(function() bing.sds.filter{["Name eq 'x' or 1"] = 1} end)
    assert.has_error(function() bing.sds.filter{Name = {like = "x"}} end)
    -- Filtered results are the ones that match.
    local kiosks = assert(c.sds.query{source = FC, bbox = SEATTLE, top = 250,
      filter = {StoreType = "Kiosk", SeatingCapacity = {ge = 20}}})
    assert.is_true(#kiosks > 0)
    for _, k in ipairs(kiosks) do
      assert.equal("Kiosk", k.StoreType)
      assert.is_true(k.SeatingCapacity >= 20)
    end
  end)

  it("queries by id (the answer's one entity), by property, near a route and by a shape", function()
    local one = assert(c.sds.query{source = FC, id = "-22067"})
    assert.equal(1, #one)
    assert.equal("-22067", one[1].EntityID)
    assert.matches("FourthCoffeeShops%('%-22067'%)$", sim.last_request().path)
    local none, err = c.sds.query{source = FC, id = "it's"}
    assert.is_nil(none)
    assert.equal(404, err.status)
    assert.matches("FourthCoffeeShops%('it''s'%)$", sim.last_request().path)
    local seattle = assert(c.sds.query{source = FC, filter = {PrimaryCity = "Seattle"}, top = 5,
      orderby = {"Name desc"}})
    for _, e in ipairs(seattle) do assert.equal("Seattle", e.PrimaryCity) end
    assert.equal("Name desc", sim.last_request().query["$orderby"])
    local route = assert(c.sds.query{source = FC, route = {"Seattle, WA", "Tacoma, WA"}, top = 5})
    assert.is_true(#route > 0)
    assert.equal("nearRoute('Seattle, WA','Tacoma, WA')", sim.last_request().query.spatialFilter)
    assert.equal(1, #route.meta.billing.also)
    assert.equal(2, route.meta.billing.also[1].transactions)
    local by_points = assert(c.sds.query{source = FC, route = {{47.6, -122.33}, {47.25, -122.44}}})
    assert.is_true(#by_points > 0)
    assert.is_nil(by_points.meta.billing.also)
    assert.equal("nearRoute('47.6,-122.33','47.25,-122.44')", sim.last_request().query.spatialFilter)
    local shape = assert(c.sds.query{source = FC, top = 250, intersects = {type = "Polygon",
      coordinates = {{{-123, 47}, {-122, 47}, {-122, 48}, {-123, 48}, {-123, 47}}}}})
    assert.equal("intersects('POLYGON ((-123 47, -122 47, -122 48, -123 48, -123 47))')",
      sim.last_request().query.spatialFilter)
    local box = assert(c.sds.query{source = FC, bbox = SEATTLE, top = 250})
    assert.equal(#box, #shape)
  end)

  it("queries near an address (billed with its geocode) and PointsOfInterest", function()
    local q = assert(c.sds.query{source = FC, near = "1 Microsoft Way, Redmond, WA", distance = 20,
      top = 3})
    assert.equal("nearby('1 Microsoft Way, Redmond, WA',20)", sim.last_request().query.spatialFilter)
    assert.equal("RESTLocations", q.meta.billing.also[1].category)
    local poi = assert(c.sds.query{source = "Microsoft/PointsOfInterest/Entity",
      near = {47.6, -122.33}, distance = 2, top = 2})
    assert.equal("RESTSpatialDataService:QueryPointsOfInterest", poi.meta.billing.category)
  end)

  it("refuses documented limits before sending", function()
    sim.assert_refused(function() return c.sds.query{source = FC, bbox = SEATTLE, top = 251} end,
      "top must be an integer from 0 to 250")
    sim.assert_refused(function() return c.sds.query{source = FC, near = {47, -122}, distance = 1001} end,
      "distance must be within")
    sim.assert_refused(function() return c.sds.query{source = FC, near = {47, -122}, distance = 0.1} end,
      "distance must be within")
    sim.assert_refused(function()
      return c.sds.query{source = FC, bbox = SEATTLE, orderby = {"A", "B", "C", "D"}}
    end, "at most 3")
    sim.assert_refused(function() return c.sds.query{source = FC, orderby = "Name"} end,
      "orderby needs a spatial filter")
    sim.assert_refused(function()
      return c.sds.query{source = "Microsoft/PointsOfInterest/Entity", route = {{1, 2}, {3, 4}}}
    end, "PointsOfInterest")
    sim.assert_refused(function() return c.sds.query{source = FC, bbox = SEATTLE, format = "atom"} end,
      "JSON")
    local ring = {}
    for i = 0, 150 do ring[#ring + 1] = {-122 - i / 1000, 47 + (i % 2) / 1000} end
    ring[#ring + 1] = ring[1]
    sim.assert_refused(function()
      return c.sds.query{source = FC, intersects = {type = "Polygon", coordinates = {ring}}}
    end, "2083 characters")
    assert.has_error(function() c.sds.query{source = "a/b", bbox = SEATTLE} end)
    assert.has_error(function() c.sds.query{source = FC, bbox = SEATTLE, near = {1, 2}, distance = 1} end)
    assert.has_error(function() c.sds.query{source = FC, bbox = SEATTLE, tpo = 1} end)
  end)
end)
