-- The emulator's Geospatial Endpoint Service (sim/lua/bingsim/geospatial.lua) over HTTP: the
-- reference's four examples (values and shape), region from a point, disputed areas,
-- language support, the 400s, and the ledger (a non-billable category).
local sim = require "support.sim"
local shape = require "support.shape"

local GE = "/REST/V1/GeospatialEndpoint/"

local function get(rest, params)
  local status, doc, body = sim.get_keyed(GE .. rest, params)
  return status, doc, body
end

local function resource(doc) return doc.resourceSets[1].resources[1] end

local function service(r, name)
  for _, s in ipairs(r.services) do
    if s.serviceName == name then return s end
  end
end

local assert_invalid = sim.assert_invalid

describe("sim GeospatialEndpoint, the reference's examples", function()
  local cases = {
    {"fr-fr-FR", "fr-fr/FR"},
    {"en-us-CU", "en-us/cu"},
    {"zh-hans-CN-disputed", "zh-hans/cn/32.750323,79.376221"},
    {"hi-in-IN-disputed", "hi-in/in/32.750323,79.376221"},
  }
  for _, c in ipairs(cases) do
    it("answers " .. c[2] .. " with the example's values and shape", function()
      local ref = shape.load("geospatial/geospatial-endpoint-service." .. c[1] .. ".json")
      local status, doc = get(c[2])
      assert.equal(200, status)
      assert.is_nil(shape.diff(ref, doc))
      assert.same(ref.resourceSets[1], doc.resourceSets[1])
    end)
  end

  it("has the shape of the general-structure sample's resource", function()
    local ref = shape.load("geospatial/geospatial-endpoint-service.structure.json")
    local _, doc = get("en-us/US")
    local r = resource(doc)
    -- the sample says "GeospatialEndpoint", its examples "GeospatialEndpointResponse"
    assert.is_nil(shape.diff(ref.resourceSets[1].resources[1], r))
    assert.equal("GeospatialEndpointResponse:http://schemas.microsoft.com/search/local/ws/rest/v1",
      r.__type)
    assert.same({endpoint = "dev.virtualearth.net/REST/v1/Locations", languageSupported = true,
      fallbackLanguage = sim.decode("null"), serviceName = "Geocode"}, service(r, "Geocode"))
  end)
end)

describe("sim GeospatialEndpoint regions", function()
  it("takes the region from a point outside disputed areas", function()
    local _, doc = get("en-us/US/48.8566,2.3522")
    local r = resource(doc)
    assert.same({false, true, "FR"}, {r.isDisputedArea, r.isSupported, r.ur})
    _, doc = get("en-us/US/47.6,-122.3")
    assert.equal("US", resource(doc).ur)
    _, doc = get("de-de/de/0,-150") -- the sea: userRegion
    assert.equal("DE", resource(doc).ur)
    assert.is_true(service(resource(doc), "Route").languageSupported)
  end)

  it("keeps userRegion in a disputed area and marks it", function()
    local _, doc = get("en-us/PK/34.0,75.0")
    local r = resource(doc)
    assert.same({true, "PK"}, {r.isDisputedArea, r.ur})
    assert.truthy(service(r, "AerialWithLabels"))
  end)

  it("says languageSupported and the fallback per region", function()
    local _, doc = get("ja-jp/JP")
    local s = service(resource(doc), "MapTiles")
    assert.is_true(s.languageSupported)
    _, doc = get("de-de/JP")
    s = service(resource(doc), "MapTiles")
    assert.same({false, "ja"}, {s.languageSupported, s.fallbackLanguage})
    _, doc = get("xx-yy/BR")
    s = service(resource(doc), "MapTiles")
    assert.same({false, "en-US"}, {s.languageSupported, s.fallbackLanguage})
    _, doc = get("en-us/IR")
    local r = resource(doc)
    assert.same({false, "IR"}, {r.isSupported, r.ur})
    assert.equal(sim.decode("null"), r.services)
  end)

  it("refuses missing or malformed language, userRegion and point", function()
    local _, doc = get("")
    assert_invalid(doc, "language", "This parameter is missing or invalid.")
    _, doc = get("en-us")
    assert_invalid(doc, "userRegion", "This parameter is missing or invalid.")
    _, doc = get("e/US")
    assert_invalid(doc, "language", "This parameter value is not valid.")
    _, doc = get("en-us/USA")
    assert_invalid(doc, "userRegion", "This parameter value is not valid.")
    _, doc = get("en-us/US/47.6")
    assert_invalid(doc, "point", "This parameter value is not valid.")
    _, doc = get("en-us/US/100,0")
    assert_invalid(doc, "point", "This parameter value is out of range.")
    local status = get("en-us/US/47.6,-122.3/extra")
    assert.equal(404, status)
  end)

  it("books GeospatialEndpoint as non-billable", function()
    sim.reset()
    get("fr-fr/FR")
    get("en-us/US/47.6,-122.3")
    assert.same({billable = 0, non_billable = 2, requests = 2},
      sim.ledger().SIM_KEY.GeospatialEndpoint)
    assert.equal("GeospatialEndpoint", sim.last_request().billing.category)
  end)
end)
