-- The emulator's Autosuggest (sim/lua/bingsim/autosuggest.lua) over HTTP: the reference's
-- four examples (values and shape), matching, the entity types, the location parameters,
-- the documented limits, and billing (one transaction per ten requests).
local sim = require "support.sim"
local shape = require "support.shape"

local AS = "/REST/v1/Autosuggest"
local BALLARD = "47.668697,-122.376373,5"

local function get(params, headers) return sim.get_keyed(AS, params, headers) end

local function value(doc) return doc.resourceSets[1].resources[1].value end

local assert_invalid = sim.assert_invalid
local MISSING, NOT_VALID, OUT_OF_RANGE = sim.MISSING, sim.NOT_VALID, sim.OUT_OF_RANGE

describe("sim Autosuggest, the reference's examples", function()
  local cases = {
    {"autosuggest.business.json", {query = "El bur", userLocation = BALLARD,
      includeEntityTypes = "Business"}},
    {"autosuggest.address-place.json", {query = "El bur", userLocation = BALLARD,
      includeEntityTypes = "Address,Place"}},
    {"autosuggest.buri-address-place-us.json", {query = "Buri", userLocation = BALLARD,
      includeEntityTypes = "Address,Place", countryFilter = "US"}},
    {"autosuggest.map-view.json", {query = "fish", userLocation = BALLARD,
      userCircularMapView = "47.668697,-122.376373,100", includeEntityTypes = "Business"}},
  }
  for _, c in ipairs(cases) do
    it("answers " .. c[1] .. " with the same suggestions, values and shape", function()
      local ref = shape.load("autosuggest/" .. c[1])
      local status, doc = get(c[2])
      assert.equal(200, status)
      assert.is_nil(shape.diff(ref, doc))
      assert.same(ref.resourceSets[1], doc.resourceSets[1])
    end)
  end

  it("returns an empty value list for El bur with countryFilter=US, as the page says",
    function()
      local _, doc = get{query = "El bur", userLocation = BALLARD,
        includeEntityTypes = "Address,Place", countryFilter = "US"}
      assert.equal(200, doc.statusCode)
      assert.equal(1, doc.resourceSets[1].estimatedTotal)
      assert.same({}, value(doc))
      assert.equal("Autosuggest:http://schemas.microsoft.com/search/local/ws/rest/v1",
        doc.resourceSets[1].resources[1].__type)
    end)
end)

describe("sim Autosuggest matching", function()
  it("completes the last word as a prefix: 1 Micro gives 1 Microsoft Way", function()
    local _, doc = get{q = "1 Micro", ul = "47.64,-122.13,100"}
    local v = value(doc)
    assert.equal(1, #v)
    assert.same({__type = "Address", address = {countryRegion = "United States",
      locality = "Redmond", adminDistrict = "Washington", adminDistrict2 = "King County",
      countryRegionIso2 = "US", postalCode = "98052", houseNumber = "1",
      addressLine = "1 Microsoft Way", streetName = "Microsoft Way",
      formattedAddress = "1 Microsoft Way, Redmond, Washington 98052"}}, v[1])
  end)

  it("gives businesses nearest the map view among equals, at most maxResults", function()
    local _, doc = get{q = "starb", ul = "47.602038,-122.333964,50", maxResults = "3"}
    local v = value(doc)
    assert.equal(3, #v)
    for _, s in ipairs(v) do
      assert.equal("LocalBusiness", s.__type)
      assert.equal("Starbucks", s.name)
      assert.equal("WA", s.address.adminDistrict)
    end
    -- the same prefix seen from New York and from San Francisco
    local q = {q = "museum of mod", umv = "40.80,-74.02,40.70,-73.93", maxRes = "1",
      includeEntityTypes = "Business"}
    assert.equal("The Museum of Modern Art", value((select(2, get(q))))[1].name)
    q.umv = nil
    q.ucmv = "37.78,-122.40,2000"
    assert.equal("San Francisco Museum of Modern Art", value((select(2, get(q))))[1].name)
  end)

  it("ranks important places first and suggests cities as unnamed Places", function()
    local _, doc = get{q = "sea", ul = "47.6,-122.3,1000", inclenttype = "Place"}
    local first = value(doc)[1]
    assert.same({__type = "Place", address = {countryRegion = "United States",
      locality = "Seattle", adminDistrict = "Washington", adminDistrict2 = "King County",
      countryRegionIso2 = "US", formattedAddress = "Seattle, Washington"}}, first)
  end)

  it("defaults to 7 results and all three entity types", function()
    local _, doc = get{q = "s", ul = "47.6,-122.3,1000"}
    local v = value(doc)
    assert.equal(7, #v)
    local _, ten = get{q = "s", ul = "47.6,-122.3,1000", maxResults = "10"}
    assert.equal(10, #value(ten))
  end)

  it("suggests businesses only in the countries the page lists", function()
    local _, doc = get{q = "eiffel", ul = "48.85,2.35,1000"}
    local v = value(doc)
    assert.equal(1, #v)
    assert.equal("Place", v[1].__type)
    assert.equal("Eiffel Tower", v[1].name)
    for _, b in ipairs(value((select(2, get{q = "a", ul = "48.85,2.35,1000", maxResults = "10",
        includeEntityTypes = "Business"})))) do
      assert.is_not.equal("FR", b.address.countryRegionIso2)
    end
  end)

  it("answers the same bytes to the same request", function()
    local params = {q = "fish", ul = BALLARD}
    local _, _, a = get(params)
    local _, _, b = get(params)
    assert.equal((a:gsub('"traceId":"%x+"', "")), (b:gsub('"traceId":"%x+"', "")))
  end)
end)

describe("sim Autosuggest parameters", function()
  it("requires query, and a location unless a map view is given", function()
    local _, doc = get{userLocation = BALLARD}
    assert_invalid(doc, "query", MISSING)
    _, doc = get{query = "  ", userLocation = BALLARD}
    assert_invalid(doc, "query", MISSING)
    _, doc = get{query = "fish"}
    assert_invalid(doc, "userLocation", MISSING)
    _, doc = get{query = "fish", ucmv = "47.66,-122.38,100"}
    assert.equal(200, doc.statusCode)
    _, doc = get{query = "fish", umv = "47.669424,-122.386053,47.664083,-122.378448"}
    assert.equal(200, doc.statusCode)
    -- the page's first userMapView example writes the corners the other way round
    _, doc = get{query = "fish", umv = "29.8171041,-122.981995,48.604311,-95.5413725"}
    assert.equal(200, doc.statusCode)
  end)

  it("refuses both map views, and malformed locations", function()
    local _, doc = get{query = "fish", ucmv = "47.66,-122.38,100",
      umv = "47.669424,-122.386053,47.664083,-122.378448"}
    assert_invalid(doc, "userMapView", NOT_VALID)
    _, doc = get{query = "fish", ul = "47.66,-122.38"}
    assert_invalid(doc, "userLocation", NOT_VALID)
    _, doc = get{query = "fish", ul = "97.66,-122.38,5"}
    assert_invalid(doc, "userLocation", OUT_OF_RANGE)
    _, doc = get{query = "fish", ucmv = "47.66,-122.38,0"}
    assert_invalid(doc, "userCircularMapView", OUT_OF_RANGE)
    _, doc = get{query = "fish", umv = "47.66,-122.38,47.6"}
    assert_invalid(doc, "userMapView", NOT_VALID)
  end)

  it("keeps maxResults in 1..10 and the documented values of the others", function()
    local base = {query = "fish", userLocation = BALLARD}
    local function with(k, v)
      local p = {}
      for a, b in pairs(base) do p[a] = b end
      p[k] = v
      return select(2, get(p))
    end
    assert_invalid(with("maxResults", "0"), "maxResults", OUT_OF_RANGE)
    assert_invalid(with("maxResults", "11"), "maxResults", OUT_OF_RANGE)
    assert_invalid(with("maxRes", "2.5"), "maxResults", NOT_VALID)
    assert_invalid(with("includeEntityTypes", "Business,Road"), "includeEntityTypes",
      NOT_VALID)
    assert_invalid(with("culture", "english"), "culture", NOT_VALID)
    assert_invalid(with("userRegion", "USA"), "userRegion", NOT_VALID)
    assert_invalid(with("countryFilter", "United States"), "countryFilter", NOT_VALID)
    assert.equal(200, with("countryFilter", "none").statusCode)
    assert.equal(200, with("culture", "en-GB").statusCode)
    assert.equal(200, with("ur", "DE").statusCode)
    assert.equal(200, with("includeEntityTypes", "business").statusCode)
  end)
end)

describe("sim Autosuggest billing", function()
  before_each(function() sim.reset() end)

  it("books one RESTAutosuggest transaction per ten requests", function()
    for _ = 1, 11 do get{q = "fish", ul = BALLARD} end
    assert.same({billable = 2, non_billable = 0, requests = 11},
      sim.ledger().SIM_KEY.RESTAutosuggest)
    local log = sim.log()
    assert.equal(1, log[1].billing.transactions)
    assert.equal(0, log[2].billing.transactions)
    assert.equal("RESTAutosuggest", log[11].billing.category)
    assert.equal(1, log[11].billing.transactions)
  end)
end)
