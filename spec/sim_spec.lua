-- The emulator itself (sim/): answers compared with the reference examples, keys,
-- parameters, faults, the request log, the ledger, and the transport (keep-alive, gzip,
-- TLS, HTTP/2). Talks to it through spec/support/sim.lua (luasocket), never the library.
local sim = require "support.sim"
local socket = require "socket"

local LOC = "/REST/v1/Locations"

local get = sim.get_keyed

local function resources(doc) return doc.resourceSets[1].resources end

-- Asserts that `actual` holds every field of `expected` with the same value (numbers
-- within 1e-9), recursively; reports the path of the first difference.
local function assert_fields(expected, actual, path)
  path = path or "$"
  if type(expected) == "table" then
    assert(type(actual) == "table", path .. ": expected a table, got " .. tostring(actual))
    for k, v in pairs(expected) do assert_fields(v, actual[k], path .. "." .. tostring(k)) end
  elseif type(expected) == "number" then
    assert(type(actual) == "number" and math.abs(expected - actual) < 1e-9,
      path .. ": expected " .. tostring(expected) .. ", got " .. tostring(actual))
  else
    assert(expected == actual, path .. ": expected " .. tostring(expected) .. ", got "
      .. tostring(actual))
  end
end

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local COPYRIGHT_PREFIX = "Copyright \194\169 "
local LOCATION_TYPE = "Location:http://schemas.microsoft.com/search/local/ws/rest/v1"

before_each(function() sim.reset() end)

describe("sim/bingsim", function()
  it("status prints the assignments start printed", function()
    if not sim.dir then error("SIM_DIR is not set: run the specs through make test", 0) end
    local p = io.popen("SIM_DIR='" .. sim.dir .. "' sim/bingsim status")
    local out = p:read("a")
    p:close()
    assert.truthy(out:find("SIM_URL=" .. sim.url .. "\n", 1, true))
    assert.truthy(out:find("SIM_KEY=" .. sim.key .. "\n", 1, true))
    assert.truthy(out:find("SIM_SESSION_KEY=" .. sim.session_key .. "\n", 1, true))
  end)

  it("stop is quiet and succeeds when nothing runs", function()
    local dir = os.tmpname()
    os.remove(dir)
    local p = io.popen("SIM_DIR='" .. dir .. "' sim/bingsim stop 2>&1; echo rc=$?")
    local out = p:read("a")
    p:close()
    assert.equal("rc=0\n", out)
  end)
end)

describe("the response envelope", function()
  it("matches the reference's find-by-query example (Eiffel Tower) field by field", function()
    local status, doc, body, h = get(LOC, {q = "Eiffel Tower"})
    assert.equal(200, status)
    -- rest-services/locations/find-a-location-by-query.md, "Find location information
    -- for a landmark", JSON response
    assert_fields({
      authenticationResultCode = "ValidCredentials",
      brandLogoUri = "http://dev.virtualearth.net/Branding/logo_powered_by.png",
      resourceSets = {{
        estimatedTotal = 1,
        resources = {{
          __type = LOCATION_TYPE,
          bbox = {48.857460021972656, 2.2933001518249512, 48.859039306640625, 2.2956900596618652},
          name = "Eiffel Tower, Paris, France",
          point = {type = "Point", coordinates = {48.857929229736328, 2.295259952545166}},
          address = {adminDistrict = "IdF", adminDistrict2 = "Paris", countryRegion = "France",
            formattedAddress = "Eiffel Tower, Paris, France", locality = "Paris",
            landmark = "Eiffel Tower"},
          confidence = "High",
          entityType = "Monument",
          geocodePoints = {{type = "Point", coordinates = {48.857929229736328, 2.295259952545166},
            calculationMethod = "Rooftop", usageTypes = {"Display"}}},
          matchCodes = {"Good"},
        }},
      }},
      statusCode = 200,
      statusDescription = "OK",
    }, doc)
    local loc = resources(doc)[1]
    assert.equal(6, count_keys(loc.address)) -- nothing the example does not have
    assert.equal(9, count_keys(loc))
    assert.equal(7, count_keys(doc))
    assert.equal(1, #doc.resourceSets)
    assert.matches("^" .. COPYRIGHT_PREFIX .. "%d%d%d%d Microsoft", doc.copyright)
    assert.matches("^%x+$", doc.traceId)
    assert.equal(32, #doc.traceId)
    assert.equal(doc.traceId, h["x-bm-traceid"])
    assert.equal("0", h["x-ms-bm-ws-info"])
    assert.matches("^application/json", h["content-type"])
    -- the service escapes "/" in strings, and so do we
    assert.truthy(body:find('"http:\\/\\/dev.virtualearth.net\\/Branding\\/logo_powered_by.png"',
      1, true))
  end)

  it("matches the find-by-point example (1 Microsoft Way), plus the intersection note", function()
    local _, doc = get(LOC .. "/47.64054,-122.12934")
    assert_fields({
      estimatedTotal = 1,
      resources = {{
        __type = LOCATION_TYPE,
        bbox = {47.636705672917948, -122.137016420622, 47.6444311080593, -122.1217297861384},
        name = "1 Microsoft Way, Redmond, WA 98052",
        point = {type = "Point", coordinates = {47.640568390488625, -122.1293731033802}},
        address = {addressLine = "1 Microsoft Way", adminDistrict = "WA",
          adminDistrict2 = "King Co.", countryRegion = "United States",
          formattedAddress = "1 Microsoft Way, Redmond, WA 98052", locality = "Redmond",
          postalCode = "98052", intersection = {baseStreet = "Microsoft Way"}},
        confidence = "Medium",
        entityType = "Address",
        geocodePoints = {{type = "Point",
          coordinates = {47.640568390488625, -122.1293731033802},
          calculationMethod = "Interpolation", usageTypes = {"Display", "Route"}}},
        matchCodes = {"Good"},
      }},
    }, doc.resourceSets[1])
  end)

  it("answers includeEntityTypes=countryRegion with the Sovereign of the example", function()
    local _, doc = get(LOC .. "/47.64054,-122.12934", {includeEntityTypes = "countryRegion"})
    assert_fields({{
      bbox = {26.677207946777344, 177.3487548828125, 75.7627944946289, -55.848747253417969},
      name = "United States",
      point = {type = "Point", coordinates = {39.450000762939453, -98.907997131347656}},
      address = {countryRegion = "United States", formattedAddress = "United States"},
      confidence = "High", entityType = "Sovereign", matchCodes = {"Good"},
    }}, resources(doc))
    assert.equal(2, count_keys(resources(doc)[1].address))
  end)

  it("matches the structured-URL examples (US address, Ballard neighborhood)", function()
    local _, doc = get(LOC .. "/US/WA/98052/Redmond/1%20Microsoft%20Way")
    local loc = resources(doc)[1]
    assert_fields({name = "1 Microsoft Way, Redmond, WA 98052", entityType = "Address",
      confidence = "High", matchCodes = {"Good"},
      address = {addressLine = "1 Microsoft Way", adminDistrict = "WA", adminDistrict2 = "King Co.",
        countryRegion = "United States", locality = "Redmond", postalCode = "98052"},
      geocodePoints = {{calculationMethod = "InterpolationOffset", usageTypes = {"Display"}},
        {calculationMethod = "Interpolation", usageTypes = {"Route"},
         coordinates = {47.640144601464272, -122.12976671755314}}}}, loc)

    _, doc = get(LOC .. "/US/WA/-/Ballard/-", {inclnb = "1"})
    assert_fields({{
      bbox = {47.6561164855957, -122.41252899169922, 47.697746276855469, -122.36044311523438},
      name = "Ballard, WA",
      point = {type = "Point", coordinates = {47.675968170166016, -122.38591003417969}},
      address = {adminDistrict = "WA", adminDistrict2 = "King Co.",
        countryRegion = "United States", formattedAddress = "Ballard, WA", locality = "Seattle",
        neighborhood = "Ballard"},
      confidence = "High", entityType = "Neighborhood", matchCodes = {"Good"},
    }}, resources(doc))
  end)

  it("gives queryParseValues in the reference's order", function()
    local _, doc = get(LOC .. "/1%20Microsoft%20Way%20Redmond%20WA%2098052",
      {include = "queryParse"})
    assert.same({
      {property = "AddressLine", value = "1 Microsoft Way"},
      {property = "Locality", value = "Redmond"},
      {property = "PostalCode", value = "98052"},
      {property = "AdminDistrict", value = "WA"},
    }, resources(doc)[1].queryParseValues)
  end)

  it("is reproducible: the same request gives the same bytes but for the traceId", function()
    local _, d1, b1 = get(LOC, {q = "Greenville", maxResults = "10", include = "ciso2"})
    local _, d2, b2 = get(LOC, {q = "Greenville", maxResults = "10", include = "ciso2"})
    assert.not_equal(d1.traceId, d2.traceId)
    assert.equal(b1:gsub(d1.traceId, "T"), (b2:gsub(d2.traceId, "T")))
  end)

  it("derives the traceId from the request id only", function()
    local _, d1 = get(LOC, {q = "Seattle"})
    local id = sim.last_request().id
    assert.equal(d1.traceId, sim.last_request().trace_id)
    sim.reset()
    local _, d2 = get(LOC, {q = "Seattle"})
    assert.equal(id + 1, sim.last_request().id) -- ids go on across resets
    assert.not_equal(d1.traceId, d2.traceId)
  end)
end)

describe("keys", function()
  it("answers a missing key with 401 NoCredentials in Bing's envelope", function()
    local status, doc = get(LOC, {q = "Seattle", key = false})
    assert.equal(401, status)
    assert_fields({authenticationResultCode = "NoCredentials", statusCode = 401,
      statusDescription = "Unauthorized",
      errorDetails = {"Access was denied. You may have entered your credentials incorrectly, "
        .. "or you might not have access to the requested resource or operation."}}, doc)
    assert.same({}, doc.resourceSets)
    assert.equal(32, #doc.traceId)
    assert.equal("missing", sim.last_request().key_kind)
  end)

  it("answers a wrong key with 401 InvalidCredentials", function()
    local status, doc, body = get(LOC, {q = "Seattle", key = "Ak-not-a-key"})
    assert.equal(401, status)
    assert.equal("InvalidCredentials", doc.authenticationResultCode)
    assert.equal(1, #doc.errorDetails)
    assert.truthy(body:find('"resourceSets":[]', 1, true))
    local req = sim.last_request()
    assert.equal("invalid", req.key_kind)
    assert.is_nil(req.key_label)
  end)

  it("accepts every valid key and session key, and labels them", function()
    assert.equal(2, #sim.keys)
    assert.equal(3, #sim.session_keys)
    for _, k in ipairs(sim.keys) do
      assert.equal(200, (get(LOC, {q = "Seattle", key = k})))
      assert.equal("key", sim.last_request().key_kind)
      assert.equal(sim.labels[k], sim.last_request().key_label)
    end
    for _, k in ipairs(sim.session_keys) do
      assert.equal(200, (get(LOC, {q = "Seattle", key = k})))
      assert.equal("session", sim.last_request().key_kind)
    end
    get(LOC, {q = "Seattle", key = sim.session_key})
    assert.equal("SIM_SESSION_KEY", sim.last_request().key_label)
    assert.equal("SIM_KEY", sim.labels[sim.key])
  end)

  it("takes the key parameter in any case", function()
    assert.equal(200, (sim.get(LOC, {{"q", "Seattle"}, {"Key", sim.key}})))
    assert.equal("key", sim.last_request().key_kind)
  end)
end)

describe("parameters", function()
  it("rejects maxResults=21 with 400 naming the parameter", function()
    local status, doc = get(LOC, {q = "Greenville", maxResults = "21"})
    assert.equal(400, status)
    assert_fields({authenticationResultCode = "ValidCredentials", statusCode = 400,
      statusDescription = "Bad Request"}, doc)
    assert.same({"One or more parameters are not valid.",
      "maxResults: This parameter value is out of range."}, doc.errorDetails)
    assert.same({}, doc.resourceSets)
    assert.equal(400, (get(LOC, {q = "Greenville", maxResults = "0"})))
    local _, d = get(LOC, {q = "Greenville", maxRes = "many"})
    assert.equal("maxResults: This parameter value is not valid.", d.errorDetails[2])
  end)

  it("rejects a request without a query", function()
    local status, doc = get(LOC, {})
    assert.equal(400, status)
    assert.equal("query: This parameter is missing or invalid.", doc.errorDetails[2])
    assert.equal(400, (get(LOC, {q = "  "})))
  end)

  it("returns 5 results by default and up to maxResults", function()
    local _, doc = get(LOC, {q = "Greenville"})
    assert.equal(5, #resources(doc))
    _, doc = get(LOC, {q = "Greenville", maxResults = "10"})
    assert.equal(8, #resources(doc))
    assert.equal(8, doc.resourceSets[1].estimatedTotal)
    for _, r in ipairs(resources(doc)) do
      assert.equal("Greenville", r.address.locality)
      assert.equal("Medium", r.confidence)
      assert.same({"Ambiguous"}, r.matchCodes)
    end
  end)

  it("takes parameter names in any case and by alias", function()
    local _, doc = get(LOC, {QUERY = "Greenville", MaxRes = "2", INCL = "ciso2", Inclnb = "1",
      c = "de", O = "json", UIP = "127.0.0.1", Ur = "US"})
    assert.equal(2, #resources(doc))
    assert.equal("US", resources(doc)[1].address.countryRegionIso2)
    assert.equal("Greenville", sim.last_request().query.QUERY)
  end)

  it("answers zero matches with 200, estimatedTotal 0 and no resources", function()
    local status, doc, body = get(LOC, {q = "Xyzzy Plugh"})
    assert.equal(200, status)
    assert.equal(0, doc.resourceSets[1].estimatedTotal)
    assert.truthy(body:find('"resources":[]', 1, true))
  end)

  it("ranks the nearest of equal matches first with userLocation or userMapView", function()
    local _, doc = get(LOC, {q = "Portland"})
    assert.equal("Portland, OR", resources(doc)[1].name)
    _, doc = get(LOC, {q = "Portland", userLocation = "44.0,-70.0"})
    assert.equal("Portland, ME", resources(doc)[1].name)
    assert.equal("High", resources(doc)[1].confidence)
    _, doc = get(LOC, {q = "Portland", umv = "43,-71,44,-70"})
    assert.equal("Portland, ME", resources(doc)[1].name)
    assert.equal(400, (get(LOC, {q = "Portland", ul = "north"})))
  end)

  it("puts a major place first and marks the minor namesakes Ambiguous", function()
    local _, doc = get(LOC, {q = "Paris"})
    local r = resources(doc)
    assert.equal("Paris, France", r[1].name)
    assert.equal("High", r[1].confidence)
    assert.equal("Paris, TX", r[2].name)
    assert.same({"Ambiguous"}, r[2].matchCodes)
    _, doc = get(LOC, {q = "paris,  TX"})
    assert.equal(1, #resources(doc))
    assert.equal("Lamar Co.", resources(doc)[1].address.adminDistrict2)
  end)

  it("goes up the hierarchy when the street is unknown", function()
    local _, doc = get(LOC, {q = "999 Nowhere St, Redmond, WA 98052", include = "queryParse"})
    local r = resources(doc)[1]
    assert.equal("Postcode1", r.entityType)
    assert.equal("Medium", r.confidence)
    assert.equal("UpHierarchy", r.matchCodes[#r.matchCodes])
    assert.same({property = "AddressLine", value = "999 Nowhere St"}, r.queryParseValues[1])
  end)

  it("finds by address, with strictMatch restricting country and division", function()
    local _, doc = get(LOC, {countryRegion = "AU", adminDistrict = "WA"})
    assert.equal("Western Australia, Australia", resources(doc)[1].name)
    assert.equal("Washington", resources(doc)[2].name)
    _, doc = get(LOC, {countryRegion = "AU", adminDistrict = "WA", strictMatch = "1"})
    assert.equal(1, #resources(doc))
    _, doc = get(LOC, {locality = "London", postalCode = "SW1A"})
    assert.equal("Postcode1", resources(doc)[1].entityType)
    assert.equal("SW1A", resources(doc)[1].address.postalCode)
  end)

  it("expands adminDistrict with verboseplacenames and adds the ISO code with ciso2", function()
    local _, doc = get(LOC .. "/47.6062,-122.3321", {verboseplacenames = "true", incl = "ciso2",
      includeEntityTypes = "PopulatedPlace"})
    local a = resources(doc)[1].address
    assert.equal("Washington", a.adminDistrict)
    assert.equal("US", a.countryRegionIso2)
    assert.equal("Seattle", a.locality)
  end)

  it("returns a neighborhood and its city together when both types are asked for", function()
    local _, doc = get(LOC .. "/47.668,-122.385", {includeEntityTypes = "Neighborhood,PopulatedPlace"})
    assert.equal(2, #resources(doc))
    assert.equal("Neighborhood", resources(doc)[1].entityType)
    assert.equal("PopulatedPlace", resources(doc)[2].entityType)
  end)

  it("rejects bad points and entity types", function()
    assert.equal(400, (get(LOC .. "/91,0")))
    assert.equal(400, (get(LOC .. "/47.6,-122.3", {includeEntityTypes = "Planet"})))
  end)

  it("honours output, jsonp and suppressStatus", function()
    local status, _, body, h = get(LOC, {q = "Seattle", jsonp = "cb", jsonso = "s1"})
    assert.equal(200, status)
    assert.matches("^cb%({.*},\"s1\"%)$", body)
    assert.matches("javascript", h["content-type"])
    local st, doc = get(LOC, {q = "Seattle", key = "bad", suppressStatus = "true"})
    assert.equal(200, st)
    assert.equal(401, doc.statusCode)
    assert.equal(200, sim.last_request().status)
    -- only the jsonp call is booked: the suppressed 401 is still a 401
    assert.equal(1, sim.ledger().SIM_KEY["RestLocations-Unstructured"].requests)
    assert.equal(400, (get(LOC, {q = "Seattle", o = "xml"})))
  end)
end)

describe("faults", function()
  it("429: Retry-After and the Bing envelope, for `times` requests", function()
    sim.fault{fault = "429", times = 2, retry_after = 3}
    for _ = 1, 2 do
      local status, doc, _, h = get(LOC, {q = "Seattle"})
      assert.equal(429, status)
      assert.equal("3", h["retry-after"])
      assert_fields({statusCode = 429, statusDescription = "Too Many Requests",
        authenticationResultCode = "ValidCredentials"}, doc)
      assert.equal(1, #doc.errorDetails)
    end
    assert.equal(200, (get(LOC, {q = "Seattle"})))
    assert.equal("429", sim.log()[1].fault)
  end)

  for _, code in ipairs{500, 503} do
    it(code .. ": status and envelope", function()
      sim.fault(tostring(code))
      local status, doc = get(LOC, {q = "Seattle"})
      assert.equal(code, status)
      assert.equal(code, doc.statusCode)
      assert.equal(code == 500 and "Internal Server Error" or "Service Unavailable",
        doc.statusDescription)
    end)
  end

  it("throttled_empty: 200, X-MS-BM-WS-INFO: 1, no resources", function()
    sim.fault{fault = "throttled_empty"}
    local status, doc, _, h = get(LOC, {q = "Seattle"})
    assert.equal(200, status)
    assert.equal("1", h["x-ms-bm-ws-info"])
    assert.equal(0, doc.resourceSets[1].estimatedTotal)
    assert.same({}, resources(doc))
  end)

  it("delay: answers normally after `seconds`", function()
    sim.fault{fault = "delay", seconds = 0.3}
    local t0 = socket.gettime()
    local status, doc = get(LOC, {q = "Seattle"})
    assert.is_true(socket.gettime() - t0 >= 0.3)
    assert.equal(200, status)
    assert.equal("Seattle, WA", resources(doc)[1].name)
    assert.equal("delay", sim.last_request().fault)
  end)

  it("reset: closes the connection without an answer", function()
    sim.fault{fault = "reset"}
    local conn = sim.connect()
    local resp, err = conn:request("GET", LOC .. "?q=Seattle&key=" .. sim.key)
    conn:close()
    assert.is_nil(resp)
    assert.equal("closed", err)
    assert.equal(444, sim.last_request().status)
  end)

  it("truncated: a Content-Length larger than the body, then close", function()
    sim.fault{fault = "truncated"}
    local conn = sim.connect()
    local resp = assert(conn:request("GET", LOC .. "?q=Seattle&key=" .. sim.key,
      {["Accept-Encoding"] = "gzip"}))
    conn:close()
    assert.equal(200, resp.status)
    assert.is_true(resp.truncated)
    assert.is_true(#resp.body > 0 and #resp.body < resp.expected)
    assert.matches("^{\"authenticationResultCode\"", resp.body)
  end)

  it("malformed: 200 application/json that does not parse", function()
    sim.fault{fault = "malformed"}
    local status, doc, body, h = get(LOC, {q = "Seattle"})
    assert.equal(200, status)
    assert.matches("^application/json", h["content-type"])
    assert.is_nil(doc)
    assert.is_true(#body > 0)
  end)

  it("html: a proxy's 502 page, or the status asked for", function()
    sim.fault{fault = "html"}
    local status, doc, body, h = get(LOC, {q = "Seattle"})
    assert.equal(502, status)
    assert.is_nil(doc)
    assert.matches("^text/html", h["content-type"])
    assert.matches("^<!DOCTYPE html>", body)
    sim.fault{fault = "html", status = 504}
    assert.equal(504, (get(LOC, {q = "Seattle"})))
  end)

  it("X-Bingsim-Fault applies to that request only", function()
    local status, _, _, h = get(LOC, {q = "Seattle"}, {["X-Bingsim-Fault"] = "429;retry_after=7"})
    assert.equal(429, status)
    assert.equal("7", h["retry-after"])
    assert.equal(200, (get(LOC, {q = "Seattle"})))
  end)

  it("filters by path prefix and by key", function()
    sim.fault{fault = "503", path = "/REST/v1/Routes", times = -1}
    sim.fault{fault = "500", key = sim.keys[1]}
    assert.equal(200, (get(LOC, {q = "Seattle"})))
    assert.equal(503, (get("/REST/v1/Routes/Driving", {["wp.0"] = "Seattle", ["wp.1"] = "Redmond"})))
    assert.equal(500, (get(LOC, {q = "Seattle", key = sim.keys[1]})))
    assert.equal(200, (get(LOC, {q = "Seattle", key = sim.keys[1]})))
    local list = sim.faults()
    assert.equal(2, #list)
    assert.equal(-1, list[1].left)
    assert.equal(0, list[2].left)
    sim.clear_faults()
    assert.equal(0, #sim.faults())
  end)

  it("refuses an unknown fault", function()
    assert.has_error(function() sim.fault{fault = "gremlins"} end)
  end)
end)

describe("the request log", function()
  it("records method, paths, query (key redacted), key, headers, conn, status", function()
    local _, doc = get(LOC .. "/a%2Fb%20c", {MaxRes = "2"}, {["X-Test-Header"] = "yes"})
    local e = sim.last_request()
    assert.equal("GET", e.method)
    assert.equal(LOC .. "/a%2Fb%20c", e.raw_path)
    assert.equal(LOC .. "/a/b c", e.path)
    assert.equal("2", e.query.MaxRes)
    assert.equal("<redacted>", e.query.key)
    assert.matches("key=<redacted>", e.raw_query)
    assert.equal("key", e.key_kind)
    assert.equal("SIM_KEY", e.key_label)
    assert.equal("yes", e.headers["x-test-header"])
    assert.is_number(e.conn)
    assert.is_number(e.time)
    assert.is_true(e.done >= e.time)
    assert.equal(200, e.status)
    assert.equal("HTTP/1.1", e.http)
    assert.equal(doc.traceId, e.trace_id)
    -- "a/b c" stayed one segment: a query, not a structured URL
    assert.equal("RestLocations-Unstructured", e.billing.category)
  end)

  it("never holds a key", function()
    get(LOC, {q = "Seattle"})
    get(LOC, {q = "Seattle", key = sim.session_key})
    local status, body = sim.request("GET", "/_sim/log")
    assert.equal(200, status)
    assert.is_nil(body:find(sim.key, 1, true))
    assert.is_nil(body:find(sim.session_key, 1, true))
  end)

  it("keeps POST bodies", function()
    local status = sim.request("POST", LOC .. "?key=" .. sim.key, {body = '{"a":1}'})
    assert.equal(405, status)
    local e = sim.last_request()
    assert.equal("POST", e.method)
    assert.equal('{"a":1}', e.body)
  end)

  it("returns the entries after `since`, and not the control requests", function()
    get(LOC, {q = "Seattle"})
    local first = sim.last_request().id
    get(LOC, {q = "Redmond"})
    get(LOC, {q = "Paris"})
    local later = sim.log(first)
    assert.equal(2, #later)
    assert.equal("Redmond", later[1].query.q)
    assert.equal("Paris", later[2].query.q)
    assert.equal(3, #sim.log())
    sim.reset()
    assert.same({}, sim.log())
  end)
end)

describe("the ledger", function()
  it("books each Locations call under its category for the key's label", function()
    get(LOC, {q = "Seattle"})
    get(LOC .. "/Space%20Needle")
    get(LOC, {locality = "Redmond", adminDistrict = "WA"})
    get(LOC .. "/US/WA/Redmond/1%20Microsoft%20Way")
    get(LOC .. "/47.64,-122.13")
    get(LOC, {q = "Seattle", key = sim.keys[1]})
    assert.same({
      SIM_KEY = {
        ["RestLocations-Unstructured"] = {billable = 2, non_billable = 0, requests = 2},
        ["RestLocations-Structured"] = {billable = 2, non_billable = 0, requests = 2},
        ["RESTLocations-Reverse"] = {billable = 1, non_billable = 0, requests = 1},
      },
      [sim.labels[sim.keys[1]]] = {
        ["RestLocations-Unstructured"] = {billable = 1, non_billable = 0, requests = 1},
      },
    }, sim.ledger())
    assert.same({category = "RestLocations-Unstructured", transactions = 1, billable = true,
      recorded = true, outcome = "ok"}, sim.last_request().billing)
  end)

  it("makes the first 25 requests of a session key non-billable, then bills", function()
    for _ = 1, 27 do get(LOC, {q = "Seattle", key = sim.session_key}) end
    assert.same({billable = 2, non_billable = 25, requests = 27},
      sim.ledger().SIM_SESSION_KEY["RestLocations-Unstructured"])
    assert.equal(26, sim.log()[26].billing.session_request)
    assert.is_true(sim.log()[26].billing.billable)
  end)

  it("never books a 401, and books other answers as its rules say", function()
    local rules = sim.rules()
    assert.is_false(rules.record.auth_error)
    assert.equal(25, rules.session_free_requests)
    assert.is_true(rules.categories["RestLocations-Unstructured"].session_free)
    get(LOC, {q = "Seattle", key = "bad"})
    get(LOC, {q = "Seattle", key = false})
    assert.same({}, sim.ledger())
    local cases = {
      {outcome = "client_error", run = function() get(LOC, {q = "x", maxResults = "99"}) end},
      {outcome = "throttled", run = function() sim.fault"429"; get(LOC, {q = "x"}) end},
      {outcome = "throttled", run = function() sim.fault"throttled_empty"; get(LOC, {q = "x"}) end},
      {outcome = "server_error", run = function() sim.fault"503"; get(LOC, {q = "x"}) end},
      {outcome = "transport", run = function() sim.fault"malformed"; get(LOC, {q = "x"}) end},
    }
    for _, c in ipairs(cases) do
      sim.reset()
      c.run()
      local booked = sim.ledger().SIM_KEY ~= nil
      assert.equal(rules.record[c.outcome], booked, c.outcome)
      assert.equal(c.outcome, sim.last_request().billing.outcome)
    end
  end)
end)

describe("the transport", function()
  it("keeps one connection alive across requests", function()
    local conn = sim.connect()
    for i = 1, 3 do
      local resp = assert(conn:request("GET", LOC .. "?q=Seattle&key=" .. sim.key))
      assert.equal(200, resp.status)
      assert.equal(i, sim.last_request().conn_requests)
    end
    local resp = assert(conn:request("GET", LOC .. "?q=Seattle&key=bad"))
    assert.equal(401, resp.status)
    resp = assert(conn:request("GET", LOC .. "?q=Seattle&key=" .. sim.key))
    assert.equal(200, resp.status)
    conn:close()
    local log = sim.log()
    assert.equal(5, #log)
    for _, e in ipairs(log) do assert.equal(log[1].conn, e.conn) end
  end)

  it("gzips JSON for clients that accept it", function()
    local conn = sim.connect()
    local resp = assert(conn:request("GET", LOC .. "?q=Greenville&key=" .. sim.key,
      {["Accept-Encoding"] = "gzip"}))
    conn:close()
    assert.equal("gzip", resp.headers["content-encoding"])
    assert.equal("\31\139", resp.body:sub(1, 2))
  end)

  describe("over TLS", function()
    local ok_ssl, ssl = pcall(require, "ssl")
    local host, port = sim.https_url:match("^https://([^:/]+):(%d+)")
    local function handshake(params)
      local tcp = assert(socket.tcp())
      tcp:settimeout(5)
      assert(tcp:connect(host, tonumber(port)))
      local conn = assert(ssl.wrap(tcp, params))
      conn:settimeout(5)
      local ok, err = conn:dohandshake()
      return ok and conn or nil, err
    end

    it("presents a certificate for 127.0.0.1 signed by SIM_CA, and offers HTTP/2", function()
      if not ok_ssl then error("luasec (lua-sec) is not installed: make deps installs it", 0) end
      local conn = assert(handshake{mode = "client", protocol = "any", verify = "peer",
        options = "all", cafile = sim.ca, alpn = {"h2", "http/1.1"}})
      assert.equal("h2", conn:getalpn())
      local cert = conn:getpeercertificate()
      local san = cert:extensions()["2.5.29.17"]
      assert.same({"127.0.0.1"}, san.iPAddress)
      assert.same({"localhost"}, san.dNSName)
      conn:close()
    end)

    it("serves HTTP/1.1 over TLS with the CA", function()
      if not ok_ssl then error("luasec (lua-sec) is not installed: make deps installs it", 0) end
      local conn = assert(handshake{mode = "client", protocol = "any", verify = "peer",
        options = "all", cafile = sim.ca, alpn = {"http/1.1"}})
      conn:send("GET " .. LOC .. "?q=Seattle&key=" .. sim.key
        .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
      local line = conn:receive("*l")
      conn:close()
      assert.equal("HTTP/1.1 200 OK", line)
    end)

    it("fails the handshake without the CA", function()
      if not ok_ssl then error("luasec (lua-sec) is not installed: make deps installs it", 0) end
      local system = "/etc/ssl/certs/ca-certificates.crt"
      local f = io.open(system)
      if not f then error("no system CA bundle (ca-certificates): make deps installs it", 0) end
      f:close()
      local conn, err = handshake{mode = "client", protocol = "any", verify = "peer",
        options = "all", cafile = system}
      assert.is_nil(conn)
      assert.is_string(err)
    end)

    it("logs HTTP/2 requests as HTTP/2.0", function()
      -- The C core's libcurl plays the HTTP/2 client (no curl program needed).
      local h = require("bing.core").http{cafile = sim.ca}
      local resp = assert(h:perform{method = "GET",
        url = sim.https_url .. LOC .. "?q=Seattle&key=" .. sim.key})
      h:close()
      assert.equal("2", resp.http_version)
      assert.equal("HTTP/2.0", sim.last_request().http)
    end)
  end)
end)
