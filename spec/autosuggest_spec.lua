-- autosuggest.find (rest-services/autosuggest.md) on the endpoint layer: what is sent (the
-- three ways to say where the user is), the suggestions that come back, the documented
-- limits, one transaction per ten requests against the ledger, the reference's examples.
local bing = require "bing"
local client_mod = require "bing.client"
local sim = require "support.sim"
local reference = require "support.reference"


-- The page's user, in Ballard (Seattle), sure of the position to 5 m.
local BALLARD = {47.668697, -122.376373, 5}

local function texts(list)
  local out = {}
  for i, s in ipairs(list) do out[i] = s:type() .. ": " .. s:text() end
  return out
end

describe("autosuggest.find", function()
  local c
  before_each(function() c = sim.client() end)

  it("sends the page's business example and decodes its suggestions", function()
    local list = assert(c.autosuggest.find{query = "El bur", userLocation = BALLARD,
                                           includeEntityTypes = "Business"})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Autosuggest", req.path)
    assert.same({query = "El bur", userLocation = "47.668697,-122.376373,5",
                 includeEntityTypes = "Business", key = "<redacted>"}, req.query)
    assert.equal(7, #list)
    local s = list[1]
    assert.equal("LocalBusiness", s:type())
    assert.equal("LocalBusiness", s.__type)
    assert.equal("El Burrito Mojado", s.name)
    assert.equal("12412 116th Ave NE", s.address.addressLine)
    assert.equal("Kirkland", s.address.locality)
    assert.equal("El Burrito Mojado, 12412 116th Ave NE, Kirkland, WA 98034", s:text())
    assert.equal("LocalBusiness: El Burrito Azteca, 6728 NE Sandy Blvd, Portland, OR 97213",
      texts(list)[3])
    assert.equal("RESTAutosuggest", list.meta.billing.category)
  end)

  it("gives places and addresses their text, and filters by country", function()
    local list = assert(c.autosuggest.find{q = "Buri", userLocation = BALLARD, maxResults = 4,
                                           includeEntityTypes = {"Address", "Place"},
                                           countryFilter = "us"})
    local q = sim.last_request().query
    assert.equal("Buri", q.query)
    assert.equal("4", q.maxResults)
    assert.equal("Address,Place", q.includeEntityTypes)
    assert.equal("US", q.countryFilter)
    assert.same({"Place: Burien, Washington",
                 "Place: Burien Community Center Park, Burien, Washington",
                 "Address: Burien Fwy, Seattle, Washington",
                 "Address: Burien Fwy, Burien, Washington"}, texts(list))
    assert.is_nil(list[1].name)
    assert.equal("", list[3].address.houseNumber)
  end)

  it("sends userMapView {south, west, north, east} as the page's NW and SE corners", function()
    assert(c.autosuggest.find{query = "fish", userMapView = {47.6, -122.45, 47.7, -122.3},
                              includeEntityTypes = "LocalBusiness,Business"})
    local q = sim.last_request().query
    assert.equal("47.7,-122.45,47.6,-122.3", q.userMapView)
    assert.equal("Business", q.includeEntityTypes)
    assert(c.autosuggest.find{query = "fish", userMapView = {south = 47.6, west = -122.45,
                                                             north = 47.7, east = -122.3}})
    assert.equal("47.7,-122.45,47.6,-122.3", sim.last_request().query.userMapView)
  end)

  it("sends userCircularMapView, culture, userRegion and countryFilter none", function()
    local list = assert(sim.client{culture = "en-GB"}.autosuggest.find{query = "fish",
      userLocation = BALLARD, userCircularMapView = {47.668697, -122.376373, 100},
      includeEntityTypes = "Business", userRegion = "us", countryFilter = "None"})
    local q = sim.last_request().query
    assert.equal("47.668697,-122.376373,100", q.userCircularMapView)
    assert.equal("en-GB", q.culture)
    assert.equal("US", q.userRegion)
    assert.equal("none", q.countryFilter)
    assert.equal("Fishermen's Terminal", list[1].name)
  end)

  it("returns an empty list where nothing matched", function()
    local list = assert(c.autosuggest.find{query = "El bur", userLocation = BALLARD,
                                           countryFilter = "DE", includeEntityTypes = "Address"})
    assert.equal(0, #list)
    assert.equal(200, list.meta.status)
  end)

  it("refuses the documented limits before sending", function()
    local function refused(args, pattern)
      sim.assert_refused(function() return c.autosuggest.find(args) end, pattern)
    end
    refused({query = "a", userLocation = BALLARD, maxResults = 11},
      "^autosuggest.find: maxResults must be an integer from 1 to 10, got 11")
    refused({query = "a", userLocation = BALLARD, maxResults = 0}, "from 1 to 10")
    refused({query = "a", userCircularMapView = {47, -122, 100},
             userMapView = {47, -123, 48, -122}},
      "give userCircularMapView or userMapView, not both")
    refused({query = "a", userLocation = BALLARD, includeEntityTypes = "Restaurant"},
      "includeEntityTypes%[1%] 'Restaurant' is not one of Address, Business, Place")
    refused({query = "a", userLocation = BALLARD, userRegion = "USA"}, "userRegion must be a two%-letter")
    refused({query = "a", userLocation = BALLARD, countryFilter = "all"},
      "countryFilter must be a two%-letter")
    refused({query = "  ", userLocation = BALLARD}, "query must not be empty")
    refused({query = "a", userLocation = {91, 0, 5}}, "userLocation latitude")
    refused({query = "a", userLocation = {47, -122, -1}}, "userLocation radius %(metres%) must be 0 or more")
    refused({query = "a", userCircularMapView = {47, -122, 0}}, "must be more than 0")
    refused({query = "a", userMapView = {48, -122, 47, -123}}, "south <= north")
  end)

  it("raises on programmer errors, naming the caller", function()
    local before = sim.last_id()
    local ok, err = pcall(c.autosuggest.find, {userLocation = BALLARD})
    assert.is_false(ok)
    assert.matches("autosuggest_spec.lua:%d+: autosuggest.find: query is required$", err.message)
    ok, err = pcall(c.autosuggest.find, {query = "a"})
    assert.is_false(ok)
    assert.matches("give userLocation, userCircularMapView or userMapView$", err.message)
    ok, err = pcall(c.autosuggest.find, {query = "a", userLocation = {47, -122}})
    assert.is_false(ok)
    assert.matches("userLocation must hold three numbers {lat, lon, radius %(metres%)}$", err.message)
    assert.has_error(function() c.autosuggest.find{query = "a", q = "b", userLocation = BALLARD} end)
    assert.has_error(function() c.autosuggest.find{query = "a", userLocation = BALLARD, top = 3} end)
    assert.has_error(function() c.autosuggest.find{query = 5, userLocation = BALLARD} end)
    assert.equal(before, sim.last_id())
  end)
end)

describe("autosuggest billing", function()
  before_each(function()
    sim.reset()
    client_mod.reset_accounts()
  end)

  it("counts one transaction per ten requests: the meter equals the ledger over 25 calls", function()
    local c = sim.client()
    local first = c.autosuggest.find{query = "Sea", userLocation = BALLARD, dry_run = true}
    assert.equal(1, first.billing.transactions)
    for i = 1, 25 do
      local list = assert(c.autosuggest.find{query = "Sea", userLocation = BALLARD})
      -- The 1st, 11th and 21st request open a ten and count its transaction.
      assert.equal((i % 10 == 1) and 1 or 0, list.meta.billing.transactions, "request " .. i)
    end
    local plan = c.autosuggest.find{query = "Sea", userLocation = BALLARD, dry_run = true}
    assert.equal(0, plan.billing.transactions)
    sim.settle(10)
    local led = sim.ledger().SIM_KEY.RESTAutosuggest
    assert.same({billable = 3, non_billable = 0, requests = 25}, led)
    local m = c:usage().categories.RESTAutosuggest
    assert.same(led, {billable = m.billable, non_billable = m.non_billable, requests = m.requests})
    assert.equal(3, c:usage().billable)
  end)

  it("with a session key: the meter equals the ledger past the session's 25", function()
    local c = sim.client{session_key = sim.session_key}
    for _ = 1, 30 do assert(c.autosuggest.find{query = "Sea", userLocation = BALLARD}) end
    sim.settle(10)
    local label = sim.labels[sim.session_key]
    local led = sim.ledger()[label].RESTAutosuggest
    assert.equal(30, led.requests)
    local m = c:usage().categories.RESTAutosuggest
    assert.same(led, {billable = m.billable, non_billable = m.non_billable, requests = m.requests})
  end)

  it("a budget refuses the request that opens a new ten, before sending", function()
    local c = sim.client{budget = {billable = 1}}
    for _ = 1, 10 do assert(c.autosuggest.find{query = "Sea", userLocation = BALLARD}) end
    local before = sim.last_id()
    local list, err = c.autosuggest.find{query = "Sea", userLocation = BALLARD}
    assert.is_nil(list)
    assert.equal("budget", err.kind)
    assert.equal(before, sim.last_id())
  end)
end)

describe("autosuggest.find on the reference's examples", function()
  local function decode(file, args)
    local c, sent = reference.client{key = "SuggestKey-0123456789",
                                     body = reference.read("autosuggest", file)}
    return assert(c.autosuggest.find(args)), sent[#sent]
  end

  it("decodes the business example to the values in it", function()
    local list, sent = decode("autosuggest.business.json", {query = "El bur",
      userLocation = BALLARD, includeEntityTypes = "Business"})
    assert.equal("https://dev.virtualearth.net/REST/v1/Autosuggest?query=El%20bur"
      .. "&userLocation=47.668697,-122.376373,5&includeEntityTypes=Business"
      .. "&key=SuggestKey-0123456789", (sent.url:gsub("%%2C", ",")))
    assert.equal(7, #list)
    assert.equal(1, list.meta.estimated_total)
    local last = list[7]
    assert.equal("LocalBusiness", last:type())
    assert.equal("El Burrito Mojado", last.name)
    assert.same({countryRegion = "United States", locality = "Portland", adminDistrict = "OR",
                 countryRegionIso2 = "US", postalCode = "97203", addressLine = "7316 N Lombard St",
                 formattedAddress = "7316 N Lombard St, Portland, OR 97203"}, last.address)
    assert.equal("El Burrito Mojado, 7316 N Lombard St, Portland, OR 97203", last:text())
  end)

  it("decodes the address and place examples", function()
    local list = decode("autosuggest.address-place.json", {query = "El bur",
      userLocation = BALLARD, includeEntityTypes = "Address,Place"})
    assert.same({"Place: El Burrión, Sinaloa", "Place: El Burro, Chihuahua",
                 "Place: El Burócrata, Durango"}, texts(list))
    assert.equal("Guasave Municipality", list[1].address.adminDistrict2)
    list = decode("autosuggest.buri-address-place-us.json", {query = "Buri",
      userLocation = BALLARD, includeEntityTypes = "Address,Place", countryFilter = "US"})
    assert.equal(7, #list)
    assert.equal("Place: Buried Mountain, California", texts(list)[7])
    assert.equal("Burien Fwy", list[3].address.streetName)
  end)

  it("decodes the map view example", function()
    local list = decode("autosuggest.map-view.json", {query = "fish", userLocation = BALLARD,
      userCircularMapView = {47.668697, -122.376373, 100}, includeEntityTypes = "Business"})
    assert.equal(7, #list)
    assert.equal("Fishermen's Terminal, 3919 18th Ave W, Seattle, WA 98119", list[1]:text())
    assert.equal("Seattle Center", list[7].name)
  end)
end)

describe("autosuggest.find on odd answers", function()
  local function answer(body)
    local c = bing.new{key = "SuggestKey-0123456789", transport = function()
      return {status = 200, headers = {["content-type"] = "application/json"}, body = body}
    end}
    return c.autosuggest.find{query = "a", userLocation = BALLARD}
  end

  it("reads nulls as nil and builds the text from the address fields without formattedAddress", function()
    local list = assert(answer([[{"resourceSets": [{"resources": [{"__type":
      "Autosuggest:http://schemas.microsoft.com/search/local/ws/rest/v1", "value": [
      {"__type": "Place:http://schemas.microsoft.com/search/local/ws/rest/v1", "name": null,
       "address": {"locality": "Burien", "adminDistrict": "WA", "formattedAddress": null}},
      {"__type": "Address", "address": null},
      {"__type": "LocalBusiness", "name": "Fisher Pavilion", "address": {"formattedAddress":
       "Fisher Pavilion, Seattle"}}, null]}]}]}]]))
    assert.equal(3, #list)
    assert.equal("Place", list[1]:type())
    assert.is_nil(list[1].name)
    assert.equal("Burien, WA", list[1]:text())
    assert.equal("", list[2]:text())
    assert.is_nil(list[2].address)
    -- A formatted address that already starts with the name is not repeated.
    assert.equal("Fisher Pavilion, Seattle", list[3]:text())
  end)

  it("gives an empty list where value is empty, null or missing", function()
    for _, body in ipairs{[[{"resourceSets": [{"resources": [{"value": []}]}]}]],
                          [[{"resourceSets": [{"resources": [{"value": null}]}]}]],
                          [[{"resourceSets": [{"resources": []}]}]]} do
      assert.equal(0, #assert(answer(body)))
    end
  end)
end)
