-- geospatial.endpoint (articles/geospatial-endpoint-service.md) on the endpoint layer: the
-- path it builds, the services that come back with :service(name), embargoed and disputed
-- areas, the checks before sending, billing against the ledger, the reference's examples.
local bing = require "bing"
local sim = require "support.sim"
local reference = require "support.reference"


-- The page's point on the border of India and China.
local DISPUTED = {32.750323, 79.376221}

describe("geospatial.endpoint", function()
  local c
  before_each(function() c = sim.client() end)

  it("sends language and userRegion as path segments and decodes the services", function()
    local ep = assert(c.geospatial.endpoint{language = "fr-fr", userRegion = "FR"})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/GeospatialEndpoint/fr-fr/FR", req.path)
    assert.same({key = "<redacted>"}, req.query)
    assert.is_false(ep.isDisputedArea)
    assert.is_true(ep.isSupported)
    assert.equal("FR", ep.ur)
    assert.same({"MapTiles", "TrafficTiles", "StaticMapsB2B", "MetadataB2B", "Geocode", "Route",
                 "BingLogo", "CombinedLogo"}, ep:service_names())
    local tiles = ep:service("MapTiles")
    assert.equal("ecn.dynamic.t{0-3}.tiles.virtualearth.net/comp/ch/{quadkey}?mkt={market}"
      .. "&it=G,VE,BX,L,LA&shading=hill&n=z&ur={userregion}", tiles.endpoint)
    assert.is_false(tiles.languageSupported)
    assert.equal("fr", tiles.fallbackLanguage)
    assert.equal(ep:service("MapTiles"), ep:service("maptiles"))
    assert.equal("dev.virtualearth.net/REST/v1/Locations", ep:service("Geocode").endpoint)
    assert.is_nil(ep:service("Elevations"))
    assert.equal("GeospatialEndpoint", ep.meta.billing.category)
    assert.is_false(ep.meta.billing.billable)
  end)

  it("gives a supported language no fallback (nil, not a JSON null)", function()
    local ep = assert(c.geospatial.endpoint{language = "en-us", userRegion = "us"})
    assert.equal("/REST/v1/GeospatialEndpoint/en-us/US", sim.last_request().path)
    assert.is_true(ep:service("Route").languageSupported)
    assert.is_nil(ep:service("Route").fallbackLanguage)
  end)

  it("gives an embargoed region isSupported false and no services", function()
    local ep = assert(c.geospatial.endpoint{language = "en-us", userRegion = "CU"})
    assert.is_false(ep.isSupported)
    assert.equal("CU", ep.ur)
    assert.same({}, ep.services)
    assert.is_nil(ep:service("MapTiles"))
  end)

  it("sends the point; a disputed one keeps userRegion, another names its country", function()
    local ep = assert(c.geospatial.endpoint{language = "hi-in", userRegion = "IN", point = DISPUTED})
    assert.equal("/REST/v1/GeospatialEndpoint/hi-in/IN/32.750323,79.376221", sim.last_request().path)
    assert.is_true(ep.isDisputedArea)
    assert.equal("IN", ep.ur)
    -- Service names beyond the page's table (the on-demand tiles of its India example).
    assert.truthy(ep:service("RoadWithLabels"))
    ep = assert(c.geospatial.endpoint{language = "zh-hans", userRegion = "cn", point = DISPUTED})
    assert.equal("CN", ep.ur)
    assert.is_true(ep:service("MapTiles").languageSupported)
    ep = assert(c.geospatial.endpoint{language = "en-us", userRegion = "US", point = {48.8566, 2.3522}})
    assert.is_false(ep.isDisputedArea)
    assert.equal("FR", ep.ur)
  end)

  it("takes the language from the client's culture, else en-us", function()
    assert(sim.client{culture = "de-DE"}.geospatial.endpoint{userRegion = "DE"})
    assert.equal("/REST/v1/GeospatialEndpoint/de-DE/DE", sim.last_request().path)
    assert(c.geospatial.endpoint{userRegion = "DE"})
    assert.equal("/REST/v1/GeospatialEndpoint/en-us/DE", sim.last_request().path)
  end)

  it("refuses bad values before sending", function()
    local function refused(args, pattern)
      sim.assert_refused(function() return c.geospatial.endpoint(args) end, pattern)
    end
    refused({language = "english", userRegion = "US"},
      "^geospatial.endpoint: language must be an IETF language tag such as 'en%-us'")
    refused({language = "en/us", userRegion = "US"}, "language must be an IETF")
    refused({language = "en-", userRegion = "US"}, "language must be an IETF")
    refused({language = "en-us", userRegion = "USA"}, "userRegion must be a two%-letter ISO code")
    refused({language = "en-us", userRegion = "US", point = {91, 0}}, "point latitude")
  end)

  it("raises on programmer errors, naming the caller", function()
    local before = sim.last_id()
    local ok, err = pcall(c.geospatial.endpoint, {language = "en-us"})
    assert.is_false(ok)
    assert.matches("geospatial_spec.lua:%d+: geospatial.endpoint: userRegion is required$", err.message)
    assert.has_error(function() c.geospatial.endpoint{userRegion = "US", region = "US"} end)
    assert.has_error(function() c.geospatial.endpoint{userRegion = "US", point = "1,2"} end)
    assert.has_error(function() c.geospatial.endpoint{userRegion = "US", language = 7} end)
    assert.equal(before, sim.last_id())
  end)

  it("is not billable: the meter equals the ledger", function()
    sim.reset()
    local c2 = sim.client()
    for _ = 1, 3 do assert(c2.geospatial.endpoint{userRegion = "FR"}) end
    sim.settle(10)
    local led = sim.ledger().SIM_KEY.GeospatialEndpoint
    assert.same({billable = 0, non_billable = 3, requests = 3}, led)
    local m = c2:usage().categories.GeospatialEndpoint
    assert.same(led, {billable = m.billable, non_billable = m.non_billable, requests = m.requests})
    assert.equal(0, c2:usage().billable)
  end)
end)

describe("geospatial.endpoint on the reference's examples", function()
  local function decode(file, args)
    local c, sent = reference.client{key = "GeoKey-0123456789",
      body = reference.read("geospatial", "geospatial-endpoint-service." .. file)}
    return assert(c.geospatial.endpoint(args)), sent[#sent]
  end

  it("decodes the typical example (fr-fr, FR)", function()
    local ep, sent = decode("fr-fr-FR.json", {language = "fr-fr", userRegion = "FR"})
    assert.equal("https://dev.virtualearth.net/REST/v1/GeospatialEndpoint/fr-fr/FR?key=GeoKey-0123456789",
      sent.url)
    assert.equal("GeospatialEndpointResponse:http://schemas.microsoft.com/search/local/ws/rest/v1",
      ep.__type)
    assert.equal(8, #ep.services)
    assert.equal("ecn.t{0-7}.tiles.virtualearth.net/tiles/dp/content?mkt={market}&p=tf&a={quadkey}&n=z",
      ep:service("TrafficTiles").endpoint)
    assert.equal("fr", ep:service("CombinedLogo").fallbackLanguage)
    assert.equal("4bcd1b7077e84c049cfbbcda3632c22a", ep.meta.trace_id)
  end)

  it("decodes the no-service example (Cuba: services null)", function()
    local ep = decode("en-us-CU.json", {language = "en-us", userRegion = "cu"})
    assert.is_false(ep.isSupported)
    assert.is_false(ep.isDisputedArea)
    assert.equal("CU", ep.ur)
    assert.same({}, ep.services)
    assert.is_nil(ep:service("MapTiles"))
  end)

  it("decodes the disputed area examples", function()
    local ep, sent = decode("zh-hans-CN-disputed.json", {language = "zh-hans", userRegion = "cn",
                                                          point = DISPUTED})
    assert.equal("https://dev.virtualearth.net/REST/v1/GeospatialEndpoint/zh-hans/CN/32.750323,79.376221"
      .. "?key=GeoKey-0123456789", (sent.url:gsub("%%2C", ",")))
    assert.is_true(ep.isDisputedArea)
    assert.equal("CN", ep.ur)
    assert.equal(6, #ep.services)
    assert.equal("r{0-3}.tiles.ditu.live.com/tiles/r{quadkey}.png?g={generation}",
      ep:service("RoadWithLabels").endpoint)
    ep = decode("hi-in-IN-disputed.json", {language = "hi-in", userRegion = "in", point = DISPUTED})
    assert.equal("IN", ep.ur)
    assert.equal(10, #ep.services)
    assert.equal("en-US", ep:service("AerialWithLabels").fallbackLanguage)
    assert.is_false(ep:service("AerialWithLabels").languageSupported)
  end)

  it("decodes the general structure sample", function()
    local ep = decode("structure.json", {language = "fr-fr", userRegion = "FR"})
    assert.same({"MapTiles", "Geocode", "Route"}, ep:service_names())
    assert.is_nil(ep:service("Geocode").fallbackLanguage)
    assert.is_true(ep:service("Geocode").languageSupported)
  end)
end)

describe("geospatial.endpoint on odd answers", function()
  local function answer(body)
    local c = bing.new{key = "GeoKey-0123456789", transport = function()
      return {status = 200, headers = {["content-type"] = "application/json"}, body = body}
    end}
    return c.geospatial.endpoint{userRegion = "FR"}
  end

  it("skips null services, reads null fields as nil, and survives a missing resource", function()
    local ep = assert(answer([[{"resourceSets": [{"resources": [{"isDisputedArea": false,
      "isSupported": true, "ur": null, "services": [null, {"serviceName": "Foo", "endpoint":
      "example.com/foo", "fallbackLanguage": null, "languageSupported": true}, 3]}]}]}]]))
    assert.is_nil(ep.ur)
    assert.equal(1, #ep.services)
    assert.equal("example.com/foo", ep:service("foo").endpoint)
    assert.is_nil(ep:service("foo").fallbackLanguage)
    ep = assert(answer([[{"resourceSets": [{"resources": []}]}]]))
    assert.same({}, ep.services)
    assert.is_nil(ep.isSupported)
    assert.is_nil(ep:service("MapTiles"))
    assert.has_error(function() ep:service() end, "geospatial: service(name) needs a string")
  end)
end)
