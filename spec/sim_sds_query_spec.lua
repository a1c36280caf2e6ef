-- The emulator's Query API (sim/lua/bingsim/sds_query.lua, sds_odata.lua, sds_sources.lua)
-- over HTTP: the public data sources, spatial filters, $filter evaluated against the whole
-- set, $select/$orderby/$top/$skip/$inlinecount, paging with no duplicate and no gap,
-- query by ID, the documented 400s, the ledger, and the reference's answers' shape.
local sim = require "support.sim"
local shape = require "support.shape"

local FC = "/REST/v1/data/20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample/FourthCoffeeShops"
local POI = "/REST/v1/data/Microsoft/PointsOfInterest"
local TRAFFIC = "/REST/v1/data/8f77935e46704c718e45f52d0d5550a6/TrafficIncidents/TrafficIncident"
local WORLD = "bbox(-90,-180,90,180)"

local function q(path, params, headers)
  params = params or {}
  if params["$format"] == nil then params["$format"] = "json" end
  return sim.get_keyed(path, params, headers)
end

local function ids(doc)
  local out = {}
  for i, r in ipairs(doc.d.results) do out[i] = r.EntityID end
  return out
end

-- Every entity of FourthCoffeeSample, by pages of 250 (the maximum $top).
local function everything(params)
  local all, skip = {}, 0
  local count
  repeat
    local p = {spatialFilter = WORLD, ["$top"] = 250, ["$skip"] = skip, ["$inlinecount"] = "allpages"}
    for k, v in pairs(params or {}) do p[k] = v end
    local status, doc = q(FC, p)
    assert.equal(200, status)
    count = tonumber(doc.d.__count)
    for _, r in ipairs(doc.d.results) do all[#all + 1] = r end
    skip = skip + 250
  until #doc.d.results < 250
  return all, count
end

describe("sim SDS Query API", function()
  before_each(function() sim.reset() end)

  it("answers the reference's nearby example: its shops, nearest first, with __Distance", function()
    local status, doc = q(FC, {spatialFilter = "nearby(40.83274904439099,-74.3163299560546935,5)",
      ["$select"] = "EntityID,Latitude,Longitude,__Distance", ["$top"] = 3})
    assert.equal(200, status)
    assert.same({"-8051", "-8174", "-8181"}, ids(doc))
    assert.near(2.197, doc.d.results[1].__Distance, 0.01)
    assert.equal(40.820685, doc.d.results[1].Latitude)
    assert.equal(sim.url .. FC .. "('-8051')", doc.d.results[1].__metadata.uri)
    assert.is_nil(shape.diff(shape.load("sds/query-by-area.nearby.json"), doc))
  end)

  it("answers the reference's bounding box example, sorted by entity id", function()
    local status, doc = q(FC, {spatialFilter =
      "bbox(40.7801465817126,-74.46958923339845,40.88535150706938,-74.163070678710937)",
      ["$select"] = "EntityID,Latitude,Longitude", ["$top"] = 3})
    assert.equal(200, status)
    local got = ids(doc)
    assert.equal(3, #got)
    assert.is_true(got[1] < got[2] and got[2] < got[3])
    assert.is_nil(shape.diff(shape.load("sds/query-by-area.bbox.json"), doc))
  end)

  it("pages the whole source with no duplicate and no gap, counts with $inlinecount", function()
    local all, count = everything()
    assert.is_true(count > 800)
    assert.equal(count, #all)
    local seen = {}
    for _, r in ipairs(all) do
      assert.is_nil(seen[r.EntityID], r.EntityID)
      seen[r.EntityID] = true
    end
    -- __count is OData v2's string
    local _, doc = q(FC, {spatialFilter = WORLD, ["$top"] = 1, ["$inlinecount"] = "allpages"})
    assert.equal("string", type(doc.d.__count))
  end)

  it("follows __next across default-sized pages, no duplicate and no gap", function()
    local _, total = everything({["$filter"] = "StoreOpen eq 'Y'"})
    local url, got, seen, pages = FC, 0, {}, 0
    local params = {spatialFilter = WORLD, ["$filter"] = "StoreOpen eq 'Y'"}
    while url do
      local status, doc
      if url == FC then status, doc = q(url, params)
      else status, doc = q(url, {}) end
      assert.equal(200, status)
      pages = pages + 1
      assert.is_true(#doc.d.results <= 25)
      for _, r in ipairs(doc.d.results) do
        assert.is_nil(seen[r.EntityID])
        seen[r.EntityID] = true
        got = got + 1
      end
      url = doc.d.__next
      if url then
        assert.equal(sim.url, url:sub(1, #sim.url))
        assert.is_nil(url:find("key=", 1, true))
      end
    end
    assert.equal(total, got)
    assert.equal(math.ceil(total / 25), pages)
  end)

  it("gives no __next to a page the client sized with $top", function()
    local _, doc = q(FC, {spatialFilter = WORLD, ["$top"] = 10})
    assert.equal(10, #doc.d.results)
    assert.is_nil(doc.d.__next)
  end)

  it("evaluates $filter as the operators say, against the whole set", function()
    local all = everything()
    local function lc(s) return s and s:lower() or s end
    local cases = {
      {"IsWiFiHotSpot eq 1", function(e) return e.IsWiFiHotSpot == true end},
      {"IsWifiHotSpot Eq true And Open Lt 800", function(e) return e.IsWiFiHotSpot and e.Open < 800 end},
      {"not (Open ge 800) or StoreType eq 'kiosk'",
        function(e) return e.Open < 800 or lc(e.StoreType) == "kiosk" end},
      {"SeatingCapacity gt 50",
        function(e) return type(e.SeatingCapacity) == "number" and e.SeatingCapacity > 50 end},
      {"SeatingCapacity eq null",
        function(e) return e.SeatingCapacity == nil or e.SeatingCapacity == require("cjson").null end},
      {"(Close le 1800) and (StoreOpen ne 'Y')",
        function(e) return e.Close <= 1800 and e.StoreOpen ~= "Y" end},
      {"CountryRegion eq 'United Kingdom'", function(e) return e.CountryRegion == "United Kingdom" end},
      {"StartsWith(PrimaryCity,'San') eq true", function(e) return lc(e.PrimaryCity):sub(1, 3) == "san" end},
      {"EndsWith(PrimaryCity,'ton')", function(e) return lc(e.PrimaryCity):sub(-3) == "ton" end},
      {"EntityID in ('-1000','-22067','-7891','nope')",
        function(e) return e.EntityID == "-1000" or e.EntityID == "-22067" or e.EntityID == "-7891" end},
      {"Name eq 'Fourth Coffee Store #1000'", function(e) return e.Name == "Fourth Coffee Store #1000" end},
    }
    for _, c in ipairs(cases) do
      local want = {}
      for _, e in ipairs(all) do if c[2](e) then want[#want + 1] = e.EntityID end end
      table.sort(want)
      local got = {}
      for _, e in ipairs(everything({["$filter"] = c[1]})) do got[#got + 1] = e.EntityID end
      table.sort(got)
      assert.same(want, got, c[1])
      assert.is_true(#want > 0, c[1])
    end
  end)

  it("keeps quotes in string literals ('' is one quote) and cannot be escaped from", function()
    local status, doc = q(FC, {spatialFilter = WORLD, ["$filter"] = "Name eq 'x'' or 1 eq 1 or Name eq '''"})
    assert.equal(200, status)
    assert.equal(0, #doc.d.results)
  end)

  it("refuses bad filters and options with the documented 400", function()
    local bad = {
      {"$filter", "Name eq"}, {"$filter", "Nope eq 1"}, {"$filter", "Latitude gt 40"},
      {"$filter", "StartsWith(Name,'F') and Open eq 700"},
      {"$filter", "StartsWith(Name,'F') or EndsWith(Name,'x')"}, {"$filter", "Name eq 'open"},
      {"$top", "251"}, {"$top", "-1"}, {"$skip", "x"}, {"$format", "xml"}, {"$select", "Nope"},
      {"$inlinecount", "some"}, {"$orderby", "Latitude"}, {"spatialFilter", "nearby(40,-74,0.1)"},
      {"spatialFilter", "nearby(40,-74,1001)"}, {"spatialFilter", "circle(1,2)"},
      {"spatialFilter", "intersects('POLYGON((1 2, 3 4')"},
    }
    for _, b in ipairs(bad) do
      local p = {spatialFilter = WORLD}
      p[b[1]] = b[2]
      local status, doc = q(FC, p)
      assert.equal(400, status, b[1] .. "=" .. b[2])
      assert.equal("One or more parameters are not valid.", doc.errorDetails[1])
      assert.equal(b[1] .. ":", doc.errorDetails[2]:sub(1, #b[1] + 1), b[2])
    end
    -- $orderby needs a spatial filter or a $filter
    local status = q(FC, {["$orderby"] = "Name"})
    assert.equal(400, status)
  end)

  it("sorts with $orderby, descending too, and selects properties", function()
    local status, doc = q(FC, {spatialFilter = "nearby(47.6062,-122.3321,30)",
      ["$orderby"] = "IsWheelchairAccessible desc,Open", ["$select"] = "EntityID,IsWheelchairAccessible,Open",
      ["$top"] = 250})
    assert.equal(200, status)
    local rs = doc.d.results
    assert.is_true(#rs > 3)
    for i = 2, #rs do
      local a, b = rs[i - 1], rs[i]
      local ka, kb = a.IsWheelchairAccessible and 1 or 0, b.IsWheelchairAccessible and 1 or 0
      assert.is_true(ka > kb or (ka == kb and a.Open <= b.Open))
    end
    local keys = {}
    for k in pairs(rs[1]) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.same({"EntityID", "IsWheelchairAccessible", "Open", "__metadata"}, keys)
  end)

  it("finds by ID, the reference's shape, and 404 for an unknown one", function()
    local status, doc = q(FC .. "('-22067')", {})
    assert.equal(200, status)
    assert.equal("-22067", doc.d.EntityID)
    assert.equal("L\195\184ven", doc.d.AddressLine)
    assert.matches("^/Date%(%d+%)/$", doc.d.CreatedDate)
    assert.is_nil(shape.diff(shape.load("sds/query-by-id.json"), doc))
    assert.equal(404, (q(FC .. "('nope')", {})))
  end)

  it("searches near an address (booking a RESTLocations too), near a route, in a polygon", function()
    local status, doc = q(FC, {spatialFilter = "nearby('Space Needle',3)", ["$top"] = 250})
    assert.equal(200, status)
    assert.is_true(#doc.d.results > 0)
    for _, r in ipairs(doc.d.results) do assert.equal("Seattle", r.PrimaryCity) end
    sim.settle()
    local l = sim.ledger().SIM_KEY
    assert.equal(1, l["RESTLocations"].billable)
    assert.equal(1, l["RESTSpatialDataService:Query"].billable)

    status, doc = q(FC, {spatialFilter = "nearRoute('Seattle, WA','Redmond, WA')", ["$top"] = 250,
      ["$select"] = "EntityID,PrimaryCity"})
    assert.equal(200, status)
    assert.is_true(#doc.d.results > 0)

    status, doc = q(FC, {spatialFilter =
      "intersects('POLYGON((-122.5 47.4,-122.0 47.4,-122.0 47.8,-122.5 47.8,-122.5 47.4))')",
      ["$top"] = 250, ["$select"] = "EntityID,Latitude,Longitude"})
    assert.equal(200, status)
    assert.is_true(#doc.d.results > 0)
    for _, r in ipairs(doc.d.results) do
      assert.is_true(r.Latitude >= 47.4 and r.Latitude <= 47.8)
      assert.is_true(r.Longitude >= -122.5 and r.Longitude <= -122)
    end
  end)

  it("answers Atom by default", function()
    local status, _, body, h = sim.get(FC, {
      spatialFilter = "nearby(40.83274904439099,-74.3163299560546935,5)",
      ["$top"] = 2, key = sim.key})
    assert.equal(200, status)
    assert.matches("application/atom%+xml", h["content-type"])
    assert.matches("<feed ", body)
    assert.matches("<d:EntityID>%-8051</d:EntityID>", body)
  end)

  it("has the PointsOfInterest and TrafficIncidents sources, each billed by its category", function()
    local status, doc = q(POI, {spatialFilter = "nearby(47.6062,-122.3321,10)",
      ["$filter"] = "EntityTypeID eq '9996'", ["$top"] = 5})
    assert.equal(200, status)
    assert.is_true(#doc.d.results > 0)
    for _, r in ipairs(doc.d.results) do assert.equal("9996", r.EntityTypeID) end
    assert.equal(400, (q(POI, {spatialFilter = WORLD, ["$filter"] = "StartsWith(Name,'S')"})))
    assert.equal(400, (q(POI, {spatialFilter = WORLD, ["$skip"] = 5}, {["x-bingsim-account"] = "basic"})))
    status, doc = q(TRAFFIC, {spatialFilter = "nearby(47.6062,-122.3321,20)"})
    assert.equal(200, status)
    assert.is_true(#doc.d.results > 0)
    assert.is_string(doc.d.results[1].IncidentId)
    sim.settle()
    local l = sim.ledger().SIM_KEY
    -- the two refusals are booked too (a 400 is handled by the service)
    assert.equal(3, l["RESTSpatialDataService:QueryPointsOfInterest"].requests)
    assert.equal(1, l["RESTSpatialDataService:Query"].requests)
  end)

  it("is free with a session key, within its 25", function()
    q(FC, {spatialFilter = WORLD, ["$top"] = 1, key = sim.session_key})
    sim.settle()
    assert.same({billable = 0, non_billable = 1, requests = 1},
      sim.ledger().SIM_SESSION_KEY["RESTSpatialDataService:Query"])
  end)

  it("answers 404 for an unknown data source or entity type", function()
    assert.equal(404, (q("/REST/v1/data/20181f26d9e94c81acdf9496133d4f23/Nope/FourthCoffeeShops",
      {spatialFilter = WORLD})))
    assert.equal(404, (q("/REST/v1/data/20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample/Nope",
      {spatialFilter = WORLD})))
  end)
end)
