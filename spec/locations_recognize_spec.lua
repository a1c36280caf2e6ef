-- locations.recognize (location-recognition.md) against the emulator: what is sent, what
-- comes back, and every documented limit from both sides.
local bing = require "bing"
local sim = require "support.sim"
local client, last_id = sim.client, sim.last_id
local assert_refused = sim.assert_refused

local function names(list)
  local out = {}
  for i, e in ipairs(list) do out[i] = e:name() end
  return out
end

local MICROSOFT = {47.640068, -122.12986}        -- the reference's examples
local DOWNTOWN = {47.609722, -122.333056}
local PIONEER_SQUARE = {47.602038, -122.333964}

describe("locations.recognize", function()
  local c
  before_each(function() c = client() end)

  it("sends the point in the path and decodes the businesses at 1 Microsoft Way", function()
    local rec = assert(c.locations.recognize{point = MICROSOFT})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/LocationRecog/47.640068,-122.12986", req.path)
    assert.same({key = "<redacted>"}, req.query)
    local b = rec:businesses()
    assert.same({"Microsoft Alumni Network", "Eastside Ski & Sport"}, names(b))
    -- The reference's values, field by field.
    local ski = b[2]
    assert.same({latitude = 47.640155, longitude = -122.129788,
                 addressLine = "1 Microsoft Way Bldg 98", locality = "Redmond",
                 adminDivision = "WA", countryIso2 = "US", postalCode = "98052",
                 formattedAddress = "1 Microsoft Way Bldg 98, Redmond, WA 98052, US"},
                ski.businessAddress)
    local info = ski.businessInfo
    assert.equal("873x131243969", info.id)
    assert.equal("Eastside Ski & Sport", info.entityName)
    assert.equal("http://www.eastsideskiandsport.com/", info.url)
    assert.equal("(425) 885-3000", info.phone)
    assert.equal(90628, info.typeId)
    if math.type then
      assert.equal("integer", math.type(info.typeId))
      assert.equal("integer", math.type(info.otherTypeIds[1]))
    end
    assert.same({91518, 91517, 90826}, info.otherTypeIds)
    assert.equal("Retail", info.type)
    assert.same({"Outdoor Recreational Equipment Stores", "Bicycle Shops", "Sports & Outdoors"},
      info.otherTypes)
    local lat, lon = ski:latlon()
    assert.equal(47.640155, lat)
    assert.equal(-122.129788, lon)
    -- Only businesses by default; the other lists are empty, not missing.
    assert.same({}, rec:natural())
    assert.same({}, rec:addresses())
    assert.is_nil(rec:address())
    assert.is_nil(rec:is_private_residence())
    assert.equal("RESTLocationRecog", rec.meta.billing.category)
    assert.equal(1, rec.meta.billing.transactions)
    assert.equal(1, rec.meta.estimated_total)
  end)

  it("sends radius and distanceUnit; a wider circle reaches the Microsoft campus entry", function()
    local rec = assert(c.locations.recognize{point = MICROSOFT, radius = 0.5})
    assert.equal("0.5", sim.last_request().query.radius)
    assert.same({"Microsoft Alumni Network", "Eastside Ski & Sport", "Microsoft"},
      names(rec:businesses()))
    local ms = rec:businesses()[3].businessInfo
    assert.equal("IndustrialStructure", ms.type)
    assert.equal("873x2278110160718493824", ms.id)

    -- 0.1 mi is 161 m: the campus entry (300 m away) is out again.
    rec = assert(c.locations.recognize{point = MICROSOFT, radius = 0.1, distanceUnit = "mi"})
    local q = sim.last_request().query
    assert.equal("0.1", q.radius)
    assert.equal("mi", q.distanceUnit)
    assert.equal(2, #rec:businesses())
  end)

  it("gives the reference's address example with includeEntityTypes = address", function()
    local rec = assert(c.locations.recognize{point = DOWNTOWN, includeEntityTypes = "address"})
    assert.equal("address", sim.last_request().query.includeEntityTypes)
    assert.same({}, rec.businessesAtLocation)   -- present and empty, as in the reference
    assert.is_nil(rec.naturalPOIAtLocation)
    assert.is_true(rec:is_private_residence())
    assert.equal("True", rec.isPrivateResidence)
    local a = rec:address()
    assert.same({latitude = 47.60975, longitude = -122.33287, addressLine = "1314 6th Ave",
                 locality = "Seattle", neighborhood = "Central Business District",
                 adminDivision = "WA", countryIso2 = "US", postalCode = "98101",
                 formattedAddress = "1314 6th Ave, Seattle, WA 98101, US"}, a)
    assert.equal("1314 6th Ave, Seattle, WA 98101, US", a:name())
    assert.same({47.60975, -122.33287}, {a:latlon()})
  end)

  it("spells out the division and adds the country with verboseplacenames", function()
    local rec = assert(c.locations.recognize{point = MICROSOFT, verboseplacenames = true,
                                             includeEntityTypes = {"businessAndPOI", "address"}})
    local q = sim.last_request().query
    assert.equal("true", q.verboseplacenames)
    assert.equal("businessAndPOI,address", q.includeEntityTypes)
    local a = rec:address()
    assert.equal("Washington", a.adminDivision)
    assert.equal("United States", a.countryRegion)
    assert.equal("Overlake", a.neighborhood)
    assert.is_false(rec:is_private_residence())
    assert.equal("Washington", rec:businesses()[1].businessAddress.adminDivision)

    rec = assert(c.locations.recognize{point = MICROSOFT, verboseplacenames = false,
                                       includeEntityTypes = "address"})
    assert.equal("false", sim.last_request().query.verboseplacenames)
    assert.equal("WA", rec:address().adminDivision)
    assert.is_nil(rec:address().countryRegion)
  end)

  it("finds natural points of interest (the reference's Alki Beach Park)", function()
    local rec = assert(c.locations.recognize{point = {47.5950, -122.3860},
                                             includeEntityTypes = {"naturalPOI"}})
    assert.equal("naturalPOI", sim.last_request().query.includeEntityTypes)
    local n = rec:natural()
    assert.equal(1, #n)
    assert.same({entityName = "Alki Beach Park", latitude = 47.595383, longitude = -122.38659,
                 type = "Beach"}, n[1])
    assert.equal("Alki Beach Park", n[1]:name())
    assert.is_nil(rec.businessesAtLocation)
    assert.same({}, rec:businesses())
  end)

  it("limits businesses to type IDs; a top-level ID takes its sub-categories", function()
    local rec = assert(c.locations.recognize{point = DOWNTOWN, radius = 0.5, distanceUnit = "mi",
                                             type = "HotelsAndMotels"})
    assert.equal("HotelsAndMotels", sim.last_request().query.type)
    assert.same({"Crowne Plaza Seattle-Downtown", "Fairmont Olympic Hotel"},
      names(rec:businesses()))
    assert.equal("Hotels & Motels", rec:businesses()[1].businessInfo.type)

    rec = assert(c.locations.recognize{point = {47.6205, -122.3493}, type = {"seedo"}})
    assert.equal("SeeDo", sim.last_request().query.type)   -- canonical spelling
    assert.same({"Space Needle", "Chihuly Garden and Glass", "Museum of Pop Culture"},
      names(rec:businesses()))
  end)

  it("returns at most top entities, businesses and natural POIs together", function()
    local rec = assert(c.locations.recognize{point = PIONEER_SQUARE, radius = 2, top = 3,
                                             includeEntityTypes = "businessAndPOI,naturalPOI"})
    assert.equal("3", sim.last_request().query.top)
    assert.equal(3, #rec:businesses() + #rec:natural())
    rec = assert(c.locations.recognize{point = PIONEER_SQUARE, radius = 2})
    assert.equal(10, #rec:businesses())   -- the default
    rec = assert(c.locations.recognize{point = PIONEER_SQUARE, radius = 2, top = 20})
    assert.equal(20, #rec:businesses())
  end)

  it("ranks entities closed at dateTime after the open ones", function()
    local rec = assert(c.locations.recognize{point = PIONEER_SQUARE, radius = 0.1})
    assert.same({"Cherry Street Coffee House", "Domino's Pizza"}, names(rec:businesses()))
    -- 20:00 in Seattle (UTC-8): the coffee house has closed, the pizza place is open.
    rec = assert(c.locations.recognize{point = PIONEER_SQUARE, radius = 0.1,
                                       dateTime = "2018-05-10 04:00:00Z"})
    assert.equal("2018-05-10 04:00:00Z", sim.last_request().query.dateTime)
    assert.same({"Domino's Pizza", "Cherry Street Coffee House"}, names(rec:businesses()))
    -- A number is seconds since the epoch (UTC); "T" is accepted for the space.
    assert(c.locations.recognize{point = PIONEER_SQUARE, dateTime = 1525924800})
    assert.equal("2018-05-10 04:00:00Z", sim.last_request().query.dateTime)
    assert(c.locations.recognize{point = PIONEER_SQUARE, dateTime = "2018-05-09T13:34:42Z"})
    assert.equal("2018-05-09 13:34:42Z", sim.last_request().query.dateTime)
  end)

  it("answers for the supported countries only (Canada, Germany, Italy, Spain, USA)", function()
    local rec = assert(c.locations.recognize{point = {52.5163, 13.3777}})
    assert.equal("Brandenburger Tor", rec:businesses()[1]:name())
    assert.equal("DE", rec:businesses()[1].businessAddress.countryIso2)
    assert.equal("Pariser Platz, 10117 Berlin, DE",
      rec:businesses()[1].businessAddress.formattedAddress)
    -- Paris: no location information, and that is not an error.
    rec = assert(c.locations.recognize{point = {48.8606, 2.3376},
                                       includeEntityTypes = "businessAndPOI,naturalPOI,address"})
    assert.same({}, rec:businesses())
    assert.same({}, rec:natural())
    assert.is_nil(rec:address())
    assert.equal(0, rec.meta.estimated_total)
  end)

  it("gives a GeoJSON FeatureCollection of every entity, lon/lat order", function()
    local rec = assert(c.locations.recognize{point = MICROSOFT,
                                             includeEntityTypes = {"businessAndPOI", "address"}})
    local fc = rec:geojson()
    assert.equal("FeatureCollection", fc.type)
    assert.equal(3, #fc.features)
    assert.equal("businessAndPOI", fc.features[1].properties.kind)
    assert.equal("Microsoft Alumni Network", fc.features[1].properties.name)
    assert.same({-122.129756, 47.640012}, fc.features[1].geometry.coordinates)
    assert.equal("address", fc.features[3].properties.kind)
    assert.equal("1 Microsoft Way", fc.features[3].properties.addressLine)
  end)

  it("prices a dry run without sending, and the ledger agrees with the meter", function()
    local since = last_id()
    local plan = assert(c.locations.recognize{point = MICROSOFT, dry_run = true})
    assert.equal(0, #sim.log(since))
    assert.is_true(plan.dry_run)
    assert.equal("RESTLocationRecog", plan.billing.category)
    assert.matches("/REST/v1/LocationRecog/47.640068,%-122.12986%?key=<redacted>", plan.url)

    sim.reset()
    local c2 = client()
    assert(c2.locations.recognize{point = MICROSOFT})
    assert(c2.locations.recognize{point = DOWNTOWN, includeEntityTypes = "address"})
    local led = sim.ledger().SIM_KEY.RESTLocationRecog
    assert.equal(2, led.requests)
    assert.equal(2, led.billable)
    assert.equal(2, c2:usage().categories.RESTLocationRecog.billable)
  end)

  it("is reached through the module-level client too", function()
    bing.configure{key = sim.key, base_url = sim.url}
    local rec = assert(bing.locations.recognize{point = MICROSOFT})
    assert.equal(2, #rec:businesses())
  end)
end)

describe("locations.recognize limits", function()
  local c
  before_each(function() c = client() end)

  local function refused(args, pattern)
    assert_refused(function() return c.locations.recognize(args) end, pattern)
  end

  it("refuses values outside the documented limits before sending", function()
    local p = MICROSOFT
    refused({point = {91, 0}}, "point latitude")
    refused({point = {0, -180.5}}, "point longitude")
    refused({point = p, radius = 2.001}, "radius must be more than 0 and at most 2 km")
    refused({point = p, radius = 0}, "radius")
    refused({point = p, radius = -1}, "radius")
    refused({point = p, radius = 0 / 0}, "radius")
    refused({point = p, radius = 1.25, distanceUnit = "mile"}, "1.2427 mi")
    refused({point = p, top = 0}, "top must be an integer from 1 to 20")
    refused({point = p, top = 21}, "top")
    refused({point = p, top = 2.5}, "top")
    refused({point = p, dateTime = "2018-13-01 00:00:00Z"}, "dateTime must be a UTC time")
    refused({point = p, dateTime = "2018-02-29 10:00:00Z"}, "dateTime")   -- not a leap year
    refused({point = p, dateTime = "2018-05-09 24:00:00Z"}, "dateTime")
    refused({point = p, dateTime = "2018-05-09 13:34:42"}, "dateTime")     -- not UTC
    refused({point = p, dateTime = -1}, "dateTime")
    refused({point = p, distanceUnit = "feet"}, "distanceUnit must be one of")
    refused({point = p, includeEntityTypes = "planet"}, "includeEntityTypes%[1%] 'planet'")
    refused({point = p, includeEntityTypes = {}}, "includeEntityTypes is empty")
    refused({point = p, type = "Cafes"}, "type%[1%] 'Cafes' is not a type ID")
    refused({point = p, type = {"Museums", ""}}, "type%[2%]")
    refused({point = p, type = "Museums", includeEntityTypes = "naturalPOI,address"},
      "type applies only when includeEntityTypes has businessAndPOI")
  end)

  it("accepts the limits themselves", function()
    assert(c.locations.recognize{point = {90, 180}, radius = 2, top = 20})
    assert.equal("2", sim.last_request().query.radius)
    assert(c.locations.recognize{point = {-90, -180}, top = 1, radius = 2 / 1.609344,
                                 distanceUnit = "Mile"})
    assert.equal("mile", sim.last_request().query.distanceUnit)
    assert(c.locations.recognize{point = MICROSOFT, dateTime = "2016-02-29 23:59:59Z",
                                 distanceUnit = "kilometer", type = "EatDrink,Shop",
                                 includeEntityTypes = "businessAndPOI"})
  end)

  it("raises for programmer errors: types, missing point, unknown options", function()
    local function raises(args, pattern)
      local ok, err = pcall(c.locations.recognize, args)
      assert.is_false(ok)
      assert.equal("argument", err.kind)
      assert.matches(pattern, tostring(err))
    end
    raises({}, "point is required")
    raises({point = "47.6,-122.1"}, "point must be a table")
    raises({point = {"47.6", "-122.1"}}, "two numbers")
    raises({point = MICROSOFT, radius = "1"}, "radius must be a number")
    raises({point = MICROSOFT, top = "5"}, "top must be a number")
    raises({point = MICROSOFT, verboseplacenames = "yes"}, "verboseplacenames must be a boolean")
    raises({point = MICROSOFT, distanceUnit = 1}, "distanceUnit must be a string")
    raises({point = MICROSOFT, dateTime = {}}, "dateTime must be a string|number")
    raises({point = MICROSOFT, type = 5}, "type must be a string or a list")
    raises({point = MICROSOFT, r = 1}, "unknown option 'r'")
    raises({point = MICROSOFT, culture = "en-US"}, "unknown option 'culture'")
    assert.is_false((pcall(c.locations.recognize, "47.6,-122.1")))
  end)

  it("is answered 400 by the emulator for the same raw requests", function()
    local function rejected(point, params, name, problem)
      local doc, err = c:call{api = "rest", path = "/REST/v1/LocationRecog", segments = {point},
                              params = params, billing = "RESTLocationRecog"}
      assert.is_nil(doc)
      assert.equal("http", err.kind)
      assert.equal(400, err.status)
      assert.equal("BadRequest", err.code)
      assert.matches("One or more parameters are not valid%.; " .. name .. ": " .. problem,
        err.message)
    end
    local p = "47.640068,-122.12986"
    local RANGE, INVALID = "This parameter value is out of range", "This parameter value is not valid"
    rejected("91,0", {}, "point", RANGE)
    rejected("0,-180.5", {}, "point", RANGE)
    rejected("47.6", {}, "point", INVALID)
    rejected(p, {{"radius", "2.001"}}, "radius", RANGE)
    rejected(p, {{"r", "0"}}, "radius", RANGE)
    rejected(p, {{"radius", "-1"}}, "radius", RANGE)
    rejected(p, {{"radius", "1.25"}, {"distanceUnit", "mile"}}, "radius", RANGE)
    rejected(p, {{"radius", "wide"}}, "radius", INVALID)
    rejected(p, {{"top", "0"}}, "top", RANGE)
    rejected(p, {{"top", "21"}}, "top", RANGE)
    rejected(p, {{"top", "2.5"}}, "top", INVALID)
    rejected(p, {{"dateTime", "2018-13-01 00:00:00Z"}}, "dateTime", INVALID)
    rejected(p, {{"dateTime", "2018-02-29 10:00:00Z"}}, "dateTime", INVALID)
    rejected(p, {{"dateTime", "2018-05-09 13:34:42"}}, "dateTime", INVALID)
    rejected(p, {{"distanceUnit", "feet"}}, "distanceUnit", INVALID)
    rejected(p, {{"verboseplacenames", "yes"}}, "verboseplacenames", INVALID)
    rejected(p, {{"includeEntityTypes", "planet"}}, "includeEntityTypes", INVALID)
    rejected(p, {{"type", "Cafes"}}, "type", INVALID)
    rejected(p, {{"type", "Museums"}, {"includeEntityTypes", "naturalPOI,address"}}, "type",
      "Type IDs apply only when includeEntityTypes includes businessAndPOI")
    -- and the limits themselves pass
    assert(c:call{api = "rest", path = "/REST/v1/LocationRecog", segments = {"90,180"},
                  params = {{"radius", "2"}, {"top", "20"}}, billing = "RESTLocationRecog"})
    assert(c:call{api = "rest", path = "/REST/v1/LocationRecog", segments = {p},
                  params = {{"r", tostring(2 / 1.609344)}, {"distanceUnit", "mi"}, {"top", "1"}},
                  billing = "RESTLocationRecog"})
  end)

  it("asks the emulator for every type ID of the library's table, and it knows them all", function()
    local check = require "bing.check"
    local ids = {}
    for top, subs in pairs(check.TYPE_IDS) do
      ids[#ids + 1] = top
      for _, s in ipairs(subs) do ids[#ids + 1] = s end
    end
    assert.equal(7 + 53 + 12 + 26, #ids)
    assert(c.locations.recognize{point = MICROSOFT, type = ids})
    assert.equal(#ids, select(2, sim.last_request().query.type:gsub(",", "")) + 1)
  end)
end)

-- The reference's JSON examples: the decoder reads them, and the emulator answers the same
-- requests with the same resources.
-- The pages' examples are kept in spec/fixtures/reference/locations/.
local reference = require "support.reference"

local function page(name)
  return reference.read("locations", name)
end

-- The decoded ```json blocks of a page.
local function json_blocks(name)
  local text = page(name)
  local cjson = require "cjson.safe"
  local out, raw = {}, {}
  for block in text:gmatch("```json%s*\n(.-)```") do
    out[#out + 1] = cjson.decode(block) or false
    raw[#out] = block
  end
  return out, raw
end

local function emulator_resource(point, query)
  query[#query + 1] = {"key", sim.key}
  local status, doc = sim.get("/REST/v1/LocationRecog/" .. point, query)
  assert.equal(200, status)
  return doc.resourceSets[1].resources[1]
end

describe("locations.recognize on the reference's examples", function()
  local core = require "bing.core"
  local types = require "bing.api.location_types"

  it("decodes the natural POI and the address examples", function()
    local _, raw = json_blocks("locations/location-recognition.md")
    local rec = types.recognition(assert(core.decode(200, {}, raw[1])), {})
    assert.equal("Alki Beach Park", rec:natural()[1]:name())
    assert.same({47.595383, -122.38659}, {rec:natural()[1]:latlon()})
    assert.same({}, rec:businesses())
    rec = types.recognition(assert(core.decode(200, {}, raw[2])), {})
    assert.is_true(rec:is_private_residence())
    assert.equal("1314 6th Ave, Seattle, WA 98101, US", rec:address().formattedAddress)
    assert.equal("LocationRecog:http://schemas.microsoft.com/search/local/ws/rest/v1", rec.__type)
  end)

  it("answers the address example with the reference's resource, field by field", function()
    local ex = json_blocks("locations/location-recognition.md")
    local ref = ex[2].resourceSets[1].resources[1]
    local got = emulator_resource("47.609722,-122.333056", {{"includeEntityTypes", "address"}})
    assert.same(ref, got)
  end)

  it("answers with the natural POI example's entity and resource shape", function()
    local ex = json_blocks("locations/location-recognition.md")
    local ref = ex[1].resourceSets[1].resources[1]
    local got = emulator_resource("47.5950,-122.3860", {{"includeEntityTypes", "naturalPOI"}})
    assert.same(ref, got)
  end)

  it("answers 1 Microsoft Way with the entity-types page's Microsoft entry", function()
    local text = page("common-parameters-and-types/location-and-recognition-entity-types.md")
    -- The page shows a fragment ("businessesAtLocation": [ {...}): close it to read it.
    local fragment = assert(text:match('```json%s*\n(%s*"businessesAtLocation".-)```'))
    local ref = assert(require("cjson.safe").decode("{" .. fragment .. "]}"))
    local got = emulator_resource("47.640068,-122.129860", {{"radius", "0.5"}})
    local microsoft
    for _, b in ipairs(got.businessesAtLocation) do
      if b.businessInfo.entityName == "Microsoft" then microsoft = b end
    end
    assert.same(ref.businessesAtLocation[1], microsoft)
  end)
end)
