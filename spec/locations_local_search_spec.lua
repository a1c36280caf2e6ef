-- locations.local_search (local-search.md) against the emulator: what is sent, what comes
-- back, and every documented rule and limit from both sides.
local bing = require "bing"
local sim = require "support.sim"
local client, last_id = sim.client, sim.last_id
local assert_refused = sim.assert_refused

local function names(list)
  local out = {}
  for i, r in ipairs(list) do out[i] = r.name end
  return out
end

local PIONEER_SQUARE = {47.602038, -122.333964}      -- the reference's examples
local BALLARD = {47.668979, -122.387562, 300}

describe("locations.local_search{query=}", function()
  local c
  before_each(function() c = client() end)

  it("sends query and userLocation, and decodes the reference's fields", function()
    local res = assert(c.locations.local_search{query = "coffee", userLocation = PIONEER_SQUARE})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/LocalSearch/", req.raw_path)
    assert.same({query = "coffee", userLocation = "47.602038,-122.333964", key = "<redacted>"},
      req.query)
    assert.equal(5, #res)                        -- maxResults defaults to 5
    assert.equal(11, res.meta.estimated_total)   -- every coffee place within reach
    local r = res[1]
    assert.equal("Cherry Street Coffee House", r.name)
    assert.equal("Restaurant", r.entityType)
    assert.equal("(206) 621-9372", r.PhoneNumber)
    assert.equal("http://www.cherryst.com/", r.Website)
    assert.same({addressLine = "103 Cherry St", adminDistrict = "WA", countryRegion = "US",
                 formattedAddress = "103 Cherry St, Seattle, WA, 98104", locality = "Seattle",
                 postalCode = "98104"}, r.Address)
    assert.same({47.602653503417969, -122.33394622802734}, {r:latlon()})
    assert.equal("Rooftop", r.geocodePoints[1].calculationMethod)
    assert.equal("RESTLocalSearch", res.meta.billing.category)
    assert.equal(1, res.meta.billing.transactions)
  end)

  it("keeps the point and the rooftop geocode point apart, as the reference does", function()
    local res = assert(c.locations.local_search{query = "starbucks", maxResults = 25,
                                                userLocation = PIONEER_SQUARE})
    assert.equal("25", sim.last_request().query.maxResults)
    assert.equal(8, #res)
    local first_ave
    for _, r in ipairs(res) do
      if r.Address.addressLine == "823 1st Ave" then first_ave = r end
    end
    assert.same({47.603889465332031, -122.33554077148437}, {first_ave:latlon()})
    assert.same({47.603809356689453, -122.33565521240234}, {first_ave:geocode_point("Display")})
    assert.equal("http://www.starbucks.com/store/16645/", first_ave.Website)
  end)

  it("accepts q, a userLocation radius, and ranks the nearest first", function()
    local res = assert(c.locations.local_search{q = "pizza",
                                                userLocation = {47.602038, -122.333964, 5000}})
    local q = sim.last_request().query
    assert.equal("pizza", q.query)
    assert.equal("47.602038,-122.333964,5000", q.userLocation)
    assert.same({"Domino's Pizza", "Domino's Pizza", "Pizza Hut", "Pizza Hut", "Pizza Hut"},
      names(res))
    assert.equal("112 1st Ave S, Ste 100", res[1].Address.addressLine)
    assert.equal("1800 S Jackson St, Ste D", res[2].Address.addressLine)
  end)

  it("matches the words of a city or a neighbourhood too", function()
    local res = assert(c.locations.local_search{query = "museum in New York",
                                                userLocation = {40.7580, -73.9855}})
    assert.same({"The Museum of Modern Art", "The Metropolitan Museum of Art"}, names(res))
    res = assert(c.locations.local_search{query = "Ballard bowling", userLocation = BALLARD})
    assert.same({}, names(res))          -- every word must match
    res = assert(c.locations.local_search{query = "Ballard theaters", userLocation = BALLARD})
    assert.same({"Careys Cinema and More", "Majestic Bay Theatres"}, names(res))
  end)

  it("returns an empty list, not an error, when nothing matches", function()
    local res, err = c.locations.local_search{query = "unicorn stables",
                                              userLocation = PIONEER_SQUARE}
    assert.is_nil(err)
    assert.equal(0, #res)
    assert.equal(0, res.meta.estimated_total)
  end)

  it("answers only in the US", function()
    local res = assert(c.locations.local_search{query = "museum", userLocation = {43.6426, -79.3871}})
    assert.equal(0, #res)
    res = assert(c.locations.local_search{type = "SeeDo", userLocation = {48.8606, 2.3376}})
    assert.equal(0, #res)
  end)
end)

describe("locations.local_search{type=}", function()
  local c
  before_each(function() c = client() end)

  it("searches a circle by type IDs (the reference's Ballard example)", function()
    local res = assert(c.locations.local_search{type = {"MovieTheaters", "KoreanRestaurants"},
                                                userCircularMapView = BALLARD})
    local q = sim.last_request().query
    assert.equal("MovieTheaters,KoreanRestaurants", q.type)
    assert.equal("47.668979,-122.387562,300", q.userCircularMapView)
    assert.is_nil(q.userLocation)
    local got = names(res)
    table.sort(got)
    assert.same({"Ann\226\128\153s Teriyaki", "Careys Cinema and More", "Kimchi House",
                 "Majestic Bay Theatres"}, got)
    assert.equal(4, res.meta.estimated_total)
    for _, r in ipairs(res) do
      if r.name == "Majestic Bay Theatres" then
        assert.equal("LocalBusiness", r.entityType)
        assert.equal("https://majesticbay.com/", r.Website)
      elseif r.name == "Ann\226\128\153s Teriyaki" then
        assert.equal("Restaurant", r.entityType)
        assert.is_nil(r.Website)                   -- "Website": null in the answer
        assert.equal("(206) 789-5838", r.PhoneNumber)
      end
    end
    -- A smaller circle: only what is within 100 m of the centre.
    res = assert(c.locations.local_search{type = "MovieTheaters,KoreanRestaurants",
                                          userCircularMapView = {47.668979, -122.387562, 100}})
    assert.same({"Ann\226\128\153s Teriyaki"}, names(res))
  end)

  it("takes a top-level type for all its sub-categories", function()
    local res = assert(c.locations.local_search{type = "EatDrink", userLocation = PIONEER_SQUARE,
                                                maxResults = 3})
    assert.same({"Cherry Street Coffee House", "Domino's Pizza", "Slate Coffee Roasters"},
      names(res))
    res = assert(c.locations.local_search{type = "hospitals", userLocation = PIONEER_SQUARE})
    assert.equal("Hospitals", sim.last_request().query.type)
    assert.same({"Harborview Medical Center", "Virginia Mason Medical Center"}, names(res))
  end)

  it("searches a bounding box with userMapView", function()
    local res = assert(c.locations.local_search{type = "Museums",
                                                userMapView = {47.615, -122.36, 47.63, -122.34}})
    assert.equal("47.615,-122.36,47.63,-122.34", sim.last_request().query.userMapView)
    local got = names(res)
    table.sort(got)
    assert.same({"Chihuly Garden and Glass", "Museum of Pop Culture"}, got)
  end)

  it("gives GeoJSON, lon/lat order", function()
    local res = assert(c.locations.local_search{type = "Parking", userLocation = PIONEER_SQUARE})
    local fc = res:geojson()
    assert.equal("FeatureCollection", fc.type)
    assert.equal(1, #fc.features)
    assert.equal("Pike Place Market Parking Garage", fc.features[1].properties.name)
    assert.same({-122.3414, 47.6087}, fc.features[1].geometry.coordinates)
    assert.equal("1531 Western Ave", fc.features[1].properties.Address.addressLine)
  end)

  it("prices a dry run without sending, and the ledger agrees with the meter", function()
    local since = last_id()
    local plan = assert(c.locations.local_search{type = "Pizza", userLocation = PIONEER_SQUARE,
                                                 dry_run = true})
    assert.equal(0, #sim.log(since))
    assert.equal("RESTLocalSearch", plan.billing.category)
    assert.matches("/REST/v1/LocalSearch/%?type=Pizza&userLocation=", plan.url)

    sim.reset()
    local c2 = bing.new{session_key = sim.session_key, base_url = sim.url}
    assert(c2.locations.local_search{type = "Pizza", userLocation = PIONEER_SQUARE})
    local led = sim.ledger().SIM_SESSION_KEY.RESTLocalSearch
    assert.equal(1, led.requests)
    assert.equal(1, led.non_billable)            -- footnote 3: free within a session
    assert.equal(1, c2:usage().categories.RESTLocalSearch.non_billable)
  end)
end)

describe("locations.local_search limits", function()
  local c
  before_each(function() c = client() end)

  local function refused(args, pattern)
    assert_refused(function() return c.locations.local_search(args) end, pattern)
  end

  it("refuses values outside the documented limits before sending", function()
    local ul = PIONEER_SQUARE
    refused({query = "x", userLocation = ul, maxResults = 26}, "maxResults must be an integer from 1 to 25")
    refused({query = "x", userLocation = ul, maxResults = 0}, "maxResults")
    refused({query = "x", userLocation = ul, maxResults = 1.5}, "maxResults")
    refused({query = "   ", userLocation = ul}, "query must not be empty")
    refused({type = "Cafes", userLocation = ul}, "type%[1%] 'Cafes' is not a type ID")
    refused({type = {}, userLocation = ul}, "type is empty")
    refused({query = "x", userLocation = {91, 0}}, "userLocation latitude")
    refused({query = "x", userLocation = {47, -122, -5}}, "userLocation radius")
    refused({query = "x", userCircularMapView = {47, -122, 0}}, "userCircularMapView radius")
    refused({query = "x", userCircularMapView = {47, 190, 10}}, "userCircularMapView longitude")
    refused({query = "x", userMapView = {48, 0, 47, 1}}, "userMapView")
    refused({query = "x", userMapView = {47, -122.4, 47.1, -122.3},
             userCircularMapView = {47, -122, 10}}, "not both")
  end)

  it("accepts the limits themselves", function()
    assert(c.locations.local_search{query = "x", userLocation = {90, 180, 0}, maxResults = 25})
    assert.equal("90,180,0", sim.last_request().query.userLocation)
    assert(c.locations.local_search{type = "Parking", userLocation = PIONEER_SQUARE,
                                    userMapView = {-90, -180, 90, 180}, maxResults = 1})
    assert(c.locations.local_search{query = "x", userLocation = {lat = 47.6, lon = -122.3},
                                    userCircularMapView = {lat = 47.6, lon = -122.3, radius = 1}})
    assert.equal("47.6,-122.3,1", sim.last_request().query.userCircularMapView)
  end)

  it("raises for programmer errors: which of query/type, no location, types, options", function()
    local function raises(args, pattern)
      local ok, err = pcall(c.locations.local_search, args)
      assert.is_false(ok)
      assert.equal("argument", err.kind)
      assert.matches(pattern, tostring(err))
    end
    raises({userLocation = PIONEER_SQUARE}, "exactly one of query %(q%) and type")
    raises({query = "x", type = "Pizza", userLocation = PIONEER_SQUARE}, "exactly one of")
    raises({query = "x", q = "y", userLocation = PIONEER_SQUARE}, "q or query, not both")
    raises({query = "x"}, "give userLocation, userCircularMapView or userMapView")
    raises({query = "x", userCircularMapView = {47, -122}}, "three numbers")
    raises({query = "x", userLocation = "47,-122"}, "userLocation must be a table")
    raises({query = 5, userLocation = PIONEER_SQUARE}, "query must be a string")
    raises({type = 5, userLocation = PIONEER_SQUARE}, "type must be a string or a list")
    raises({query = "x", userLocation = PIONEER_SQUARE, maxResults = "5"}, "maxResults must be a number")
    raises({query = "x", userLocation = PIONEER_SQUARE, maxresults = 5}, "unknown option 'maxresults'")
    raises({query = "x", userLocation = PIONEER_SQUARE, culture = "en-US"}, "unknown option 'culture'")
    assert.is_false((pcall(c.locations.local_search, "coffee")))
  end)

  it("is answered 400 by the emulator for the same raw requests", function()
    local function rejected(params, name, problem)
      local doc, err = c:call{api = "rest", path = "/REST/v1/LocalSearch/", params = params,
                              billing = "RESTLocalSearch"}
      assert.is_nil(doc)
      assert.equal(400, err.status)
      assert.equal("BadRequest", err.code)
      assert.matches("One or more parameters are not valid%.; " .. name .. ": " .. problem,
        err.message)
    end
    local ul = {"userLocation", "47.602038,-122.333964"}
    local RANGE, INVALID = "This parameter value is out of range", "This parameter value is not valid"
    rejected({{"query", "x"}, ul, {"maxResults", "26"}}, "maxResults", RANGE)
    rejected({{"query", "x"}, ul, {"maxRes", "0"}}, "maxResults", RANGE)
    rejected({{"query", "x"}, ul, {"maxResults", "1.5"}}, "maxResults", INVALID)
    rejected({ul}, "query", "This parameter is missing or invalid")
    rejected({{"query", "   "}, ul}, "query", "This parameter is missing or invalid")
    rejected({{"query", "x"}, {"type", "Pizza"}, ul}, "type", "Give query or type, not both")
    rejected({{"type", "Cafes"}, ul}, "type", INVALID)
    rejected({{"query", "x"}}, "userLocation", "This parameter is missing or invalid")
    rejected({{"q", "x"}, {"ul", "91,0"}}, "userLocation", RANGE)
    rejected({{"q", "x"}, {"ul", "47,-122,-5"}}, "userLocation", RANGE)
    rejected({{"q", "x"}, {"ul", "47"}}, "userLocation", INVALID)
    rejected({{"q", "x"}, {"ucmv", "47,-122,0"}}, "userCircularMapView", RANGE)
    rejected({{"q", "x"}, {"ucmv", "47,-122"}}, "userCircularMapView", INVALID)
    rejected({{"q", "x"}, {"umv", "48,0,47,1"}}, "userMapView", RANGE)
    rejected({{"q", "x"}, {"umv", "47,0,48"}}, "userMapView", INVALID)
    rejected({{"q", "x"}, {"umv", "47,-122.4,47.1,-122.3"}, {"ucmv", "47,-122,10"}},
      "userCircularMapView", "Give userCircularMapView or userMapView, not both")
    -- and the limits themselves pass
    assert(c:call{api = "rest", path = "/REST/v1/LocalSearch/", billing = "RESTLocalSearch",
                  params = {{"query", "x"}, {"userLocation", "90,180,0"}, {"maxResults", "25"}}})
    assert(c:call{api = "rest", path = "/REST/v1/LocalSearch/", billing = "RESTLocalSearch",
                  params = {{"type", "Parking"}, {"userMapView", "-90,-180,90,180"},
                            {"maxResults", "1"}}})
  end)

  it("agrees with the emulator on every type ID of type-identifiers/", function()
    local check = require "bing.check"
    local ids = {}
    for top, subs in pairs(check.TYPE_IDS) do
      ids[#ids + 1] = top
      for _, s in ipairs(subs) do ids[#ids + 1] = s end
    end
    for _, id in ipairs(ids) do
      assert(c.locations.local_search{type = id, userLocation = PIONEER_SQUARE})
      assert.equal(id, sim.last_request().query.type)
    end
    local res = assert(c.locations.local_search{type = ids, userLocation = PIONEER_SQUARE,
                                                maxResults = 25})
    assert.equal(25, #res)
  end)
end)

-- The reference's JSON examples: the decoder reads them, and the emulator answers the same
-- requests with the same resources.
-- The page's examples are kept in spec/fixtures/reference/locations/.
local reference = require "support.reference"

local function json_blocks(name)
  local text = reference.read("locations", name)
  local cjson = require "cjson.safe"
  local out, raw = {}, {}
  for block in text:gmatch("```json%s*\n(.-)```") do
    out[#out + 1] = cjson.decode(block) or false
    raw[#out] = block
  end
  return out, raw
end

-- Each reference resource equals the emulator's resource at the same address.
local function same_resources(ref, got)
  local by_line = {}
  for _, r in ipairs(got) do by_line[r.Address.addressLine] = r end
  for _, r in ipairs(ref) do assert.same(r, by_line[r.Address.addressLine]) end
end

describe("locations.local_search on the reference's examples", function()
  local core = require "bing.core"
  local types = require "bing.api.location_types"

  it("decodes them, JSON nulls as nil", function()
    local _, raw = json_blocks("locations/local-search.md")
    local res = types.local_search(assert(core.decode(200, {}, raw[1])), {})
    assert.equal(10, #res)
    assert.equal("Starbucks", res[1].name)
    assert.equal("823 1st Ave, Seattle, WA, 98104", res[1].Address.formattedAddress)
    assert.same({47.603809356689453, -122.33565521240234}, {res[1]:geocode_point("Display")})
    res = types.local_search(assert(core.decode(200, {}, raw[2])), {})
    assert.equal("Ann\226\128\153s Teriyaki", res[3].name)
    assert.is_nil(res[3].Website)
    assert.equal("SearchResult:http://schemas.microsoft.com/search/local/ws/rest/v1", res[3].__type)
  end)

  it("answers the coffee example with the reference's ten resources", function()
    local ex = json_blocks("locations/local-search.md")
    -- The example asks without maxResults and gets 10; the parameter table says the default
    -- is 5, which the emulator follows, so ask for the 10.
    local status, doc = sim.get("/REST/v1/LocalSearch/", {{"query", "coffee"},
      {"userLocation", "47.602038,-122.333964"}, {"maxResults", "10"}, {"key", sim.key}})
    assert.equal(200, status)
    same_resources(ex[1].resourceSets[1].resources, doc.resourceSets[1].resources)
  end)

  it("answers the Ballard example with the reference's four resources", function()
    local ex = json_blocks("locations/local-search.md")
    local status, doc = sim.get("/REST/v1/LocalSearch/", {{"type", "MovieTheaters,KoreanRestaurants"},
      {"userCircularMapView", "47.668979,-122.387562,300"}, {"key", sim.key}})
    assert.equal(200, status)
    assert.equal(4, doc.resourceSets[1].estimatedTotal)
    assert.equal(4, #doc.resourceSets[1].resources)
    same_resources(ex[2].resourceSets[1].resources, doc.resourceSets[1].resources)
  end)
end)
