-- Locations against the emulator: what is sent, and what comes back.
local bing = require "bing"
local sim = require "support.sim"
local client, last_id = sim.client, sim.last_id

local function sent_nothing(since)
  return #sim.log(since) == 0
end

describe("locations.find{q=}", function()
  local c
  before_each(function() c = client() end)

  it("sends q and the key, and decodes the first location", function()
    local locs = assert(c.locations.find{q = "Space Needle"})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Locations", req.path)
    assert.equal("Space Needle", req.query.q)
    assert.equal("<redacted>", req.query.key)
    assert.equal("key", req.key_kind)
    assert.near(47.6205, locs[1].point.coordinates[1], 1e-3)
    local lat, lon = locs[1]:latlon()
    assert.near(47.6205, lat, 1e-3)
    assert.near(-122.3493, lon, 1e-3)
    assert.matches("Space Needle", locs[1].name)
  end)

  it("geocodes a street address with a high-confidence Address entity", function()
    local locs = assert(c.locations.find{q = "1 Microsoft Way, Redmond, WA 98052"})
    local loc = locs[1]
    assert.equal("Address", loc.entityType)
    assert.equal("High", loc.confidence)
    assert.equal("Redmond", loc.address.locality)
    assert.equal("98052", loc.address.postalCode)
    assert.near(47.6406, select(1, loc:latlon()), 1e-3)
    assert.same("Good", loc.matchCodes[1])
    assert.is_table(loc.geocodePoints)
  end)

  it("fills meta from the envelope", function()
    local locs = assert(c.locations.find{q = "Eiffel Tower"})
    assert.equal(200, locs.meta.status)
    assert.is_string(locs.meta.trace_id)
    assert.matches("Copyright", locs.meta.copyright)
    assert.is_string(locs.meta.brand_logo_uri)
    assert.equal(math.type and "integer" or "number",
      math.type and math.type(locs.meta.estimated_total) or type(locs.meta.estimated_total))
    assert.equal(1, locs.meta.attempts)
    assert.equal("RestLocations-Unstructured", locs.meta.billing.category)
    assert.is_nil(locs.meta.url:find(sim.key, 1, true))
  end)

  it("returns an empty list, not an error, when nothing matches", function()
    local locs, err = c.locations.find{q = "Qwxzv Nowhere Plateau 99999"}
    assert.is_nil(err)
    assert.equal(0, #locs)
    assert.equal(0, locs.meta.estimated_total)
  end)

  it("sends maxResults, include and culture, and gets several ranked matches", function()
    local locs = assert(c.locations.find{q = "Springfield", maxResults = 3,
                                         include = {"queryParse", "ciso2"}, culture = "en-GB"})
    local req = sim.last_request()
    assert.equal("3", req.query.maxResults)
    assert.equal("queryParse,ciso2", req.query.include)
    assert.equal("en-GB", req.query.culture)
    assert.is_true(#locs >= 2 and #locs <= 3)
    assert.equal("US", locs[1].address.countryRegionIso2)
    assert.is_table(locs[1].queryParseValues)
  end)

  it("encodes reserved characters so user input cannot add a parameter", function()
    c.locations.find{q = "Space Needle&maxResults=20#x"}
    local req = sim.last_request()
    assert.equal("Space Needle&maxResults=20#x", req.query.q)
    assert.is_nil(req.query.maxResults)
  end)

  it("sends the user context parameters in Bing's formats", function()
    assert(c.locations.find{q = "Portland", userLocation = {45.52, -122.68},
      userMapView = {45.2, -123.0, 45.8, -122.3}, userIp = "127.0.0.1", userRegion = "us"})
    local q = sim.last_request().query
    assert.equal("45.52,-122.68", q.userLocation)
    assert.equal("45.2,-123,45.8,-122.3", q.userMapView)
    assert.equal("127.0.0.1", q.userIp)
    assert.equal("US", q.userRegion)
  end)

  it("ranks the match nearest to userLocation first", function()
    local locs = assert(c.locations.find{q = "Portland", userLocation = {43.66, -70.26}})
    assert.equal("ME", locs[1].address.adminDistrict)
  end)
end)

describe("locations.find{address=}", function()
  it("sends the structured fields as query parameters", function()
    local c = client()
    local locs = assert(c.locations.find{address = {addressLine = "1 Microsoft Way",
      locality = "Redmond", adminDistrict = "WA", postalCode = "98052", countryRegion = "US"},
      strictMatch = true, includeNeighborhood = true})
    local req = sim.last_request()
    assert.equal("/REST/v1/Locations", req.path)
    assert.equal("1 Microsoft Way", req.query.addressLine)
    assert.equal("Redmond", req.query.locality)
    assert.equal("WA", req.query.adminDistrict)
    assert.equal("98052", req.query.postalCode)
    assert.equal("US", req.query.countryRegion)
    assert.equal("1", req.query.strictMatch)
    assert.equal("1", req.query.includeNeighborhood)
    assert.equal("RestLocations-Structured", locs.meta.billing.category)
    assert.near(-122.1294, select(2, locs[1]:latlon()), 1e-3)
  end)

  it("accepts values with periods and commas (sent as parameters, not path segments)", function()
    local c = client()
    assert(c.locations.find{address = {addressLine = "1600 Pennsylvania Ave. NW",
      locality = "Washington", adminDistrict = "DC"}})
    assert.equal("1600 Pennsylvania Ave. NW", sim.last_request().query.addressLine)
  end)
end)

describe("locations.find{point=}", function()
  it("reverse-geocodes into the path and filters entity types", function()
    local c = client()
    local locs = assert(c.locations.find{point = {47.64054, -122.12934}})
    local req = sim.last_request()
    assert.equal("/REST/v1/Locations/47.64054,-122.12934", req.path)
    assert.matches("Redmond", locs[1].address.formattedAddress)
    assert.equal("RESTLocations-Reverse", locs.meta.billing.category)

    locs = assert(c.locations.find{point = {47.64054, -122.12934},
                                   includeEntityTypes = {"countryRegion"}, verboseplacenames = true})
    req = sim.last_request()
    assert.equal("CountryRegion", req.query.includeEntityTypes)
    assert.equal("true", req.query.verboseplacenames)
    assert.equal("United States", locs[1].address.countryRegion)
  end)

  it("gives a GeoJSON Feature with lon, lat order", function()
    local locs = assert(client().locations.find{point = {48.8584, 2.2945}})
    local f = locs[1]:geojson()
    assert.equal("Feature", f.type)
    assert.equal("Point", f.geometry.type)
    local lat, lon = locs[1]:latlon()
    assert.same({lon, lat}, f.geometry.coordinates)
    assert.equal("FeatureCollection", locs:geojson().type)
  end)
end)

describe("locations.find argument checks", function()
  local c = bing.new{key = "never-used", base_url = "http://127.0.0.1:9"}

  local function refused(args, pattern)
    local locs, err = c.locations.find(args)
    assert.is_nil(locs)
    assert.equal("argument", err.kind)
    assert.matches(pattern, err.message)
  end

  it("returns argument errors for values outside the documented limits", function()
    refused({q = "x", maxResults = 21}, "maxResults must be an integer from 1 to 20")
    refused({q = "x", maxResults = 0}, "maxResults")
    refused({q = "x", maxResults = 2.5}, "maxResults")
    refused({q = "   "}, "q must not be empty")
    refused({point = {91, 0}}, "latitude")
    refused({point = {0, 180.5}}, "longitude")
    refused({point = {0 / 0, 0}}, "latitude")
    refused({q = "x", include = "everything"}, "include%[1%] 'everything'")
    refused({point = {1, 2}, include = "queryParse"}, "include")
    refused({point = {1, 2}, includeEntityTypes = {"Planet"}}, "includeEntityTypes")
    refused({q = "x", userIp = "300.1.1.1"}, "userIp")
    refused({q = "x", userRegion = "USA"}, "userRegion")
    refused({q = "x", userMapView = {50, 0, 40, 1}}, "userMapView")
    refused({q = "x", strictMatch = true}, "strictMatch applies")
    refused({point = {1, 2}, maxResults = 3}, "maxResults is not a parameter")
    refused({point = {1, 2}, userLocation = {1, 2}}, "userLocation is not a parameter")
    refused({address = {locality = ""}}, "no non%-empty field")
  end)

  it("raises for programmer errors: types, unknown options, several forms", function()
    local function raises(args, pattern)
      local ok, err = pcall(c.locations.find, args)
      assert.is_false(ok)
      assert.equal("argument", err.kind)
      assert.matches(pattern, tostring(err))
    end
    raises({q = 5}, "q must be a string")
    raises({q = "x", maxresults = 5}, "unknown option 'maxresults'")
    raises({}, "exactly one of q, address, point")
    raises({q = "x", point = {1, 2}}, "exactly one of")
    raises({point = "47,-122"}, "point must be a table")
    raises({address = {city = "Paris"}}, "unknown address field 'city'")
    local ok = pcall(c.locations.find, "Seattle")
    assert.is_false(ok)
  end)

  it("sends nothing when it refuses", function()
    local since = last_id()
    local sc = client()
    sc.locations.find{q = "x", maxResults = 99}
    pcall(sc.locations.find, {q = 1})
    assert.is_true(sent_nothing(since))
  end)
end)

describe("keys", function()
  it("gives kind auth with the service's text for a wrong key, without the key", function()
    local wrong = "WrongKey-" .. string.rep("z", 20)
    local locs, err = client{key = wrong}.locations.find{q = "Seattle"}
    assert.is_nil(locs)
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
    assert.equal("InvalidCredentials", err.code)
    assert.matches("Access was denied", err.message)
    assert.is_string(err.trace_id)
    assert.is_nil(tostring(err):find(wrong, 1, true))
    assert.is_nil(err.url:find(wrong, 1, true))
  end)

  it("sends a session key as key= and remembers the mode", function()
    local c = client{session_key = sim.session_key}
    assert.equal("session", c.auth_mode)
    assert(c.locations.find{q = "Seattle"})
    assert.equal("session", sim.last_request().key_kind)
  end)
end)

describe("module-level client", function()
  it("bing.configure sets the default client used by bing.locations", function()
    bing.configure{key = sim.key, base_url = sim.url}
    local locs = assert(bing.locations.find{q = "Seattle"})
    assert.matches("Seattle", locs[1].name)
    assert.equal("/REST/v1/Locations", sim.last_request().path)
  end)

  it("keeps the default client when bing.configure is given bad options", function()
    bing.configure{key = sim.key, base_url = sim.url}
    assert.is_false(pcall(bing.configure, {kye = sim.key}))
    local ok, locs = pcall(bing.locations.find, {q = "Seattle"})
    assert.is_true(ok, tostring(locs))
    assert.matches("Seattle", locs[1].name)
  end)
end)

describe("Location objects", function()
  -- Answers where optional arrays or their elements are JSON null (lua-cjson's cjson.null).
  local function find_with(resource)
    local body = require("cjson").encode{statusCode = 200, resourceSets = {{estimatedTotal = 1,
      resources = {resource}}}}
    body = body:gsub('"NULL"', "null")
    local c = bing.new{key = "LocKey-0123456789", transport = function()
      return {status = 200, headers = {}, body = body}
    end}
    return assert(c.locations.find{q = "x"})
  end

  it("loc:geocode_point() skips JSON null arrays and elements instead of raising", function()
    local pt = {type = "Point", coordinates = {47.6, -122.3}}
    for _, gps in ipairs{
      "NULL",
      {"NULL", {type = "Point", coordinates = {47.5, -122.2}, usageTypes = {"Display"}}},
      {{type = "Point", coordinates = {47.4, -122.1}, usageTypes = "NULL"},
       {type = "Point", coordinates = {47.5, -122.2}, usageTypes = {"Display"}}},
    } do
      local loc = find_with{name = "x", point = pt, geocodePoints = gps}[1]
      local ok, lat, lon = pcall(loc.geocode_point, loc, "Display")
      assert.is_true(ok, lat)
      if gps ~= "NULL" then assert.same({47.5, -122.2}, {lat, lon}) end
      assert.is_nil((loc:geocode_point("Route")))
    end
  end)

  it("rec:geojson() skips JSON null entities", function()
    local body = '{"statusCode":200,"resourceSets":[{"resources":[{"businessesAtLocation":[null],'
      .. '"naturalPOIAtLocation":[null,{"entityName":"Lake","latitude":47.1,"longitude":-122.1}],'
      .. '"addressOfLocation":[null]}]}]}'
    local c = bing.new{key = "LocKey-0123456789", transport = function()
      return {status = 200, headers = {}, body = body}
    end}
    local rec = assert(c.locations.recognize{point = {47.1, -122.1}})
    local ok, gj = pcall(rec.geojson, rec)
    assert.is_true(ok, gj)
    assert.equal(1, #gj.features)
    assert.equal("Lake", gj.features[1].properties.name)
  end)
end)
