-- Unit specs of the C core (bing.core) that need no server: URL building, redaction, the
-- error object, response decoding, and the parts of the bing.http handle that are checked
-- before anything is sent.
local core = require "bing.core"

-- math.type is 5.3+; under LuaJIT every number is a double and the integer checks are moot.
local has_integers = math.type ~= nil

-- The documented success envelope, copied from the reference
-- (rest-services/locations/find-a-location-by-query.md, "JSON Response").
-- luacheck: push no max line length
local ENVELOPE = [[
{
   "authenticationResultCode":"ValidCredentials",
   "brandLogoUri":"http:\/\/dev.virtualearth.net\/Branding\/logo_powered_by.png",
   "copyright":"Copyright Â© 2014 Microsoft and its suppliers. All rights reserved. This API cannot be accessed and the content and any results may not be used, reproduced or transmitted in any manner without express written permission from Microsoft Corporation.",
   "resourceSets":[
      {
         "estimatedTotal":1,
         "resources":[
            {
               "__type":"Location:http:\/\/schemas.microsoft.com\/search\/local\/ws\/rest\/v1",
               "bbox":[
                  51.507022857666016,
                  -0.078029103577137,
                  51.509269714355469,
                  -0.074420802295207977
               ],
               "name":"Tower of London, United Kingdom",
               "point":{
                  "type":"Point",
                  "coordinates":[
                     51.509521484375,
                     -0.0763700008392334
                  ]
               },
               "address":{
                  "adminDistrict":"England",
                  "adminDistrict2":"London",
                  "countryRegion":"United Kingdom",
                  "formattedAddress":"Tower of London, United Kingdom",
                  "locality":"London",
                  "neighborhood":"EC3",
                  "landmark":"Tower of London"
               },
               "confidence":"High",
               "entityType":"HistoricalSite",
               "geocodePoints":[
                  {
                     "type":"Point",
                     "coordinates":[
                        51.509521484375,
                        -0.0763700008392334
                     ],
                     "calculationMethod":"Rooftop",
                     "usageTypes":[
                        "Display"
                     ]
                  }
               ],
               "matchCodes":[
                  "Good"
               ]
            }
         ]
      }
   ],
   "statusCode":200,
   "statusDescription":"OK",
   "traceId":"b0a6385e511b409aaeddd4be7c2ffaed"
}
]]
-- luacheck: pop

local UNAUTHORIZED = [[{"authenticationResultCode":"InvalidCredentials",]]
  .. [["brandLogoUri":"http:\/\/dev.virtualearth.net\/Branding\/logo_powered_by.png",]]
  .. [["copyright":"Copyright \u00a9 2024 Microsoft and its suppliers.",]]
  .. [["errorDetails":["Access was denied. You may have entered your credentials incorrectly, ]]
  .. [[or you might not have access to the requested resource or operation."],]]
  .. [["resourceSets":[],"statusCode":401,"statusDescription":"Unauthorized",]]
  .. [["traceId":"7e3c1b1ad1e84a4b9c3a6e2f0d5b8c11"}]]

local BAD_REQUEST = [[{"authenticationResultCode":"ValidCredentials","brandLogoUri":"x",]]
  .. [["copyright":"c","errorDetails":["One or more parameters are not valid.",]]
  .. [["maxResults: This parameter value is out of range."],"resourceSets":[],]]
  .. [["statusCode":400,"statusDescription":"Bad Request","traceId":"trace-400"}]]

local EMPTY_OK = [[{"authenticationResultCode":"ValidCredentials","brandLogoUri":"x",]]
  .. [["copyright":"c","resourceSets":[{"estimatedTotal":0,"resources":[]}],]]
  .. [["statusCode":200,"statusDescription":"OK","traceId":"trace-empty"}]]

local HTML = "<html><head><title>503 Service Unavailable</title></head>"
  .. "<body><h1>Service Unavailable</h1></body></html>"

-- Asserts that fn raises an error whose text contains `text` (plain). The function name in
-- "bad argument" messages depends on how the caller reached it, so specs match the rest.
local function raises(text, fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error containing: " .. text)
  assert.is_truthy(tostring(err):find(text, 1, true), "got: " .. tostring(err))
end

-- The query of a URL as an ordered list of raw "name=value" strings.
local function query_of(url)
  local q = url:match("%?(.*)$")
  local out = {}
  for pair in (q or ""):gmatch("[^&]+") do out[#out + 1] = pair end
  return out
end

describe("core", function()
  it("has VERSION 0.1.0 and libcurl's version", function()
    assert.equal("0.1.0", core.VERSION)
    assert.matches("^%d+%.%d+%.%d+", core.curl_version)
  end)
end)

describe("core.encode", function()
  it("encodes a space as %20, never +", function()
    assert.equal("1%20Microsoft%20Way", core.encode("1 Microsoft Way"))
  end)

  it("keeps commas and the unreserved characters", function()
    assert.equal("47.64,-122.13", core.encode("47.64,-122.13"))
    assert.equal("AZaz09-._~", core.encode("AZaz09-._~"))
  end)

  it("encodes every reserved character", function()
    assert.equal("%26%3D%3F%23%2F%2B", core.encode("&=?#/+"))
    assert.equal("%25%3A%40%21%24%27%28%29%2A%3B%5B%5D", core.encode("%:@!$'()*;[]"))
  end)

  it("encodes UTF-8 byte by byte with upper-case hex", function()
    assert.equal("M%C3%BCnchen", core.encode("München"))
    assert.equal("%E6%9D%B1%E4%BA%AC", core.encode("東京"))
  end)

  it("encodes control bytes, NUL and high bytes", function()
    assert.equal("a%00b%0D%0A%FF", core.encode("a\0b\r\n\255"))
  end)

  it("returns an empty string for an empty string", function()
    assert.equal("", core.encode(""))
  end)
end)

describe("core.build_url", function()
  local BASE = "https://dev.virtualearth.net"

  it("joins base and path and appends the key last", function()
    local url, redacted = core.build_url(BASE, "/REST/v1/Locations", nil,
      {{"q", "Space Needle"}, {"maxResults", 5}}, "KEY123")
    assert.equal(BASE .. "/REST/v1/Locations?q=Space%20Needle&maxResults=5&key=KEY123", url)
    assert.equal(BASE .. "/REST/v1/Locations?q=Space%20Needle&maxResults=5&key=<redacted>",
      redacted)
  end)

  it("tolerates a trailing slash on the base", function()
    assert.equal(BASE .. "/REST/v1/Locations",
      (core.build_url(BASE .. "/", "/REST/v1/Locations")))
  end)

  it("returns the same URL twice without a key", function()
    local url, redacted = core.build_url(BASE, "/REST/v1/Locations", nil, {{"q", "x"}})
    assert.equal(BASE .. "/REST/v1/Locations?q=x", url)
    assert.equal(url, redacted)
    assert.is_nil(url:find("key=", 1, true))
  end)

  it("appends each segment encoded, so '/', '?' and '#' cannot change the path", function()
    local url = core.build_url(BASE, "/REST/v1/Locations", {"a/../b?c=d#e", "47.6,-122.3"}, nil,
      "K")
    assert.equal(BASE .. "/REST/v1/Locations/a%2F..%2Fb%3Fc%3Dd%23e/47.6,-122.3?key=K", url)
    local path = url:match("^https://[^/]+(/[^?#]*)")
    assert.equal("/REST/v1/Locations/a%2F..%2Fb%3Fc%3Dd%23e/47.6,-122.3", path)
  end)

  it("refuses segments that are empty, '.' or '..'", function()
    for _, seg in ipairs({"", ".", ".."}) do
      raises("bad argument #3 to '", function() core.build_url(BASE, "/REST/v1/Locations", {seg}) end)
      raises("(segment 1 must not be empty, '.' or '..')",
        function() core.build_url(BASE, "/REST/v1/Locations", {seg}) end)
    end
  end)

  it("accepts number segments", function()
    assert.equal(BASE .. "/REST/v1/Elevation/5/2.5", (core.build_url(BASE, "/REST/v1/Elevation", {5, 2.5})))
  end)

  it("does not let a value add a parameter", function()
    local url = core.build_url(BASE, "/REST/v1/Locations", nil,
      {{"q", "x&key=evil"}, {"o", "json#frag"}}, "GOOD")
    assert.same({"q=x%26key%3Devil", "o=json%23frag", "key=GOOD"}, query_of(url))
    assert.is_nil(url:find("#", 1, true))
  end)

  it("keeps the parameter order and skips nil values", function()
    local url = core.build_url(BASE, "/p", nil,
      {{"c", "3"}, {"a", nil}, {"b", "2"}, {"skipped"}, {"a", "1"}})
    assert.same({"c=3", "b=2", "a=1"}, query_of(url))
  end)

  it("formats integers, floats and booleans", function()
    local url = core.build_url(BASE, "/p", nil, {
      {"i", 20}, {"neg", -122.5}, {"f", 47.6205}, {"third", 1 / 3}, {"t", true}, {"no", false},
    })
    assert.same({"i=20", "neg=-122.5", "f=47.6205", "third=0.33333333333333", "t=true", "no=false"},
      query_of(url))
  end)

  it("encodes parameter values", function()
    local url = core.build_url(BASE, "/p", nil, {{"q", "1 Microsoft Way, Redmond, WA 98052"},
      {"city", "São Paulo"}, {"plus", "a+b"}})
    assert.same({"q=1%20Microsoft%20Way,%20Redmond,%20WA%2098052", "city=S%C3%A3o%20Paulo",
      "plus=a%2Bb"}, query_of(url))
  end)

  it("encodes the key and redacts it", function()
    local url, redacted = core.build_url(BASE, "/p", nil, nil, "a+b/c=")
    assert.equal(BASE .. "/p?key=a%2Bb%2Fc%3D", url)
    assert.equal(BASE .. "/p?key=<redacted>", redacted)
  end)

  it("raises for parameter names outside [A-Za-z0-9_.-]", function()
    for _, name in ipairs({"bad name", "a=b", "a&b", "", "q#", "é"}) do
      raises("(parameter 1: name must match [A-Za-z0-9_.-]+)",
        function() core.build_url(BASE, "/p", nil, {{name, "v"}}) end)
    end
    assert.has_error(function() core.build_url(BASE, "/p", nil, {{42, "v"}}) end)
    assert.has_no_error(function() core.build_url(BASE, "/p", nil, {{"user.Map-View_2", "v"}}) end)
    -- OData's system query options (the Spatial Data Services): one leading $ only.
    assert.equal(BASE .. "/p?$filter=a%20eq%201&$top=2",
      (core.build_url(BASE, "/p", nil, {{"$filter", "a eq 1"}, {"$top", 2}})))
    for _, name in ipairs({"$", "a$b", "$$x", "$ x"}) do
      raises("(parameter 1: name must match [A-Za-z0-9_.-]+",
        function() core.build_url(BASE, "/p", nil, {{name, "v"}}) end)
    end
  end)

  it("reserves the name 'key' in any case", function()
    for _, name in ipairs({"key", "KEY", "Key"}) do
      assert.has_error(function() core.build_url(BASE, "/p", nil, {{name, "evil"}}) end)
    end
  end)

  it("raises for values that are not strings, finite numbers or booleans", function()
    for _, v in ipairs({{}, print, 0 / 0, math.huge, -math.huge}) do
      assert.has_error(function() core.build_url(BASE, "/p", nil, {{"v", v}}) end)
    end
  end)

  it("raises for a parameter that is not a pair", function()
    raises("bad argument #4 to '", function() core.build_url(BASE, "/p", nil, {"q=x"}) end)
    raises("(parameter 2 must be a {name, value} pair)",
      function() core.build_url(BASE, "/p", {"ok"}, {{"a", 1}, "q=x"}) end)
  end)

  it("raises for a base or path holding '?', '#' or spaces", function()
    for _, path in ipairs({"/p?x=1", "/p#f", "/a b", "/a\r\nb"}) do
      raises("bad argument #2 to '", function() core.build_url(BASE, path) end)
      raises("bad argument #1 to '", function() core.build_url(BASE .. path, "/p") end)
    end
  end)

  it("raises for segments that are not strings or finite numbers", function()
    for _, seg in ipairs({true, {}, 0 / 0}) do
      raises("(segment 2 must be a string or a finite number)",
        function() core.build_url(BASE, "/p", {"ok", seg}) end)
    end
  end)
end)

describe("core.redact", function()
  it("redacts key= in a URL", function()
    assert.equal("https://h/p?q=1&key=<redacted>&o=json",
      core.redact("https://h/p?q=1&key=SECRET&o=json"))
  end)

  it("redacts every occurrence, in any case", function()
    assert.equal("a?key=<redacted> b&KEY=<redacted>#f 'key=<redacted>'",
      core.redact("a?key=one b&KEY=two#f 'key=three'"))
  end)

  it("ends a value at &, space, quotes, # and <", function()
    assert.equal([[key=<redacted>&x key=<redacted> "key=<redacted>" key=<redacted>#a key=<redacted><b]],
      core.redact([[key=a&x key=b "key=c" key=d#a key=e<b]]))
  end)

  it("redacts the literal key anywhere", function()
    local key = "AbCdEf0123456789"
    assert.equal("the key <redacted> leaked twice: <redacted>.",
      core.redact("the key " .. key .. " leaked twice: " .. key .. ".", key))
    assert.equal('{"k":"<redacted>"}', core.redact('{"k":"' .. key .. '"}', key))
  end)

  it("redacts the percent-encoded form of the key", function()
    assert.equal("x <redacted> y <redacted>",
      core.redact("x a+b/c=d9xY y a%2Bb%2Fc%3Dd9xY", "a+b/c=d9xY"))
  end)

  it("leaves text alone for a key too short to be a Bing key, but not key= values", function()
    assert.equal("maxResults=3&key=<redacted>", core.redact("maxResults=3&key=x", "x"))
    assert.equal("abcdefg in text", core.redact("abcdefg in text", "abcdefg"))
    assert.equal("<redacted> in text", core.redact("abcdefgh in text", "abcdefgh"))
  end)

  it("is idempotent and leaves empty values alone", function()
    local once = core.redact("u?key=abc&x=1", "abc")
    assert.equal("u?key=<redacted>&x=1", once)
    assert.equal(once, core.redact(once, "abc"))
    assert.equal("u?key=&x=1", core.redact("u?key=&x=1"))
  end)

  it("accepts a nil or empty key", function()
    assert.equal("no secret here", core.redact("no secret here", nil))
    assert.equal("no secret here", core.redact("no secret here", ""))
  end)
end)

describe("core.error", function()
  it("returns the table with the shared metatable", function()
    local t = {kind = "http", message = "m"}
    local err = core.error(t)
    assert.equal(t, err)
    assert.equal("bing.error", getmetatable(err).__name)
    assert.equal(getmetatable(err), getmetatable(core.error{kind = "auth"}))
    assert.is_false(err.retryable)
  end)

  it("prints kind, status, code, message and trace id", function()
    local err = core.error{kind = "auth", status = 401, code = "InvalidCredentials",
      message = "Access was denied.", trace_id = "abc123"}
    assert.equal("bing: auth 401 InvalidCredentials: Access was denied. (trace abc123)",
      tostring(err))
  end)

  it("leaves out absent parts", function()
    assert.equal("bing: argument: maxResults must be 1..20",
      tostring(core.error{kind = "argument", message = "maxResults must be 1..20"}))
    assert.equal("bing: transport CURLE_COULDNT_CONNECT: refused",
      tostring(core.error{kind = "transport", code = "CURLE_COULDNT_CONNECT", message = "refused"}))
    assert.equal("bing: http 500: HTTP 500", tostring(core.error{kind = "http", status = 500,
      message = "HTTP 500"}))
  end)

  it("prints a float status as an integer", function()
    assert.equal("bing: throttled 429: slow down",
      tostring(core.error{kind = "throttled", status = 429.0, message = "slow down"}))
  end)

  it("requires a string kind", function()
    assert.has_error(function() core.error{message = "m"} end)
    assert.has_error(function() core.error("text") end)
  end)

  it("is_error recognises only error objects", function()
    assert.is_true(core.is_error(core.error{kind = "job"}))
    assert.is_false(core.is_error({kind = "job"}))
    assert.is_false(core.is_error(setmetatable({}, {__name = "bing.error"})))
    assert.is_false(core.is_error("bing: http"))
    assert.is_false(core.is_error(nil))
  end)
end)

describe("core.decode", function()
  it("returns the documented success envelope", function()
    local doc = assert(core.decode(200, {["content-type"] = "application/json"}, ENVELOPE))
    assert.equal("ValidCredentials", doc.authenticationResultCode)
    assert.equal("b0a6385e511b409aaeddd4be7c2ffaed", doc.traceId)
    local loc = doc.resourceSets[1].resources[1]
    assert.equal("Tower of London, United Kingdom", loc.name)
    assert.equal(51.509521484375, loc.point.coordinates[1])
    assert.equal("Rooftop", loc.geocodePoints[1].calculationMethod)
    assert.equal(200, doc.statusCode)
    assert.equal(1, doc.resourceSets[1].estimatedTotal)
  end)

  it("turns statusCode and estimatedTotal into integers, not coordinates", function()
    if not has_integers then return end
    local doc = assert(core.decode(200, {}, ENVELOPE))
    assert.equal("integer", math.type(doc.statusCode))
    assert.equal("integer", math.type(doc.resourceSets[1].estimatedTotal))
    assert.equal("float", math.type(doc.resourceSets[1].resources[1].point.coordinates[1]))
  end)

  it("leaves a non-integral value of an integer field a float", function()
    if not has_integers then return end
    local doc = assert(core.decode(200, {},
      '{"statusCode":200.5,"estimatedTotal":1e300,"resourceSets":[]}'))
    assert.equal("float", math.type(doc.statusCode))
    assert.equal("float", math.type(doc.estimatedTotal))
  end)

  it("takes more integer fields from core.integer_fields", function()
    core.integer_fields{"originIndex", "destinationIndex"}
    local doc = assert(core.decode(200, {}, [[{"resourceSets":[{"resources":[{"results":[
      {"originIndex":0,"destinationIndex":2,"travelDistance":3.0}]}]}]}]]))
    local r = doc.resourceSets[1].resources[1].results[1]
    assert.equal(0, r.originIndex)
    assert.equal(2, r.destinationIndex)
    if has_integers then
      assert.equal("integer", math.type(r.originIndex))
      assert.equal("integer", math.type(r.destinationIndex))
      assert.equal("float", math.type(r.travelDistance))
    end
    assert.has_error(function() core.integer_fields{1} end)
  end)

  it("returns the body unchanged with want_raw", function()
    local png = "\137PNG\r\n\26\n\0\0\0\rIHDR"
    assert.equal(png, core.decode(200, {["content-type"] = "image/png"}, png, true))
  end)

  it("returns an empty table for 204", function()
    assert.same({}, core.decode(204, {}, ""))
  end)

  it("gives kind http with errorDetails for 400", function()
    local doc, err = core.decode(400, {}, BAD_REQUEST)
    assert.is_nil(doc)
    assert.is_true(core.is_error(err))
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.equal("BadRequest", err.code)
    assert.equal("One or more parameters are not valid.; maxResults: This parameter value is out "
      .. "of range.", err.message)
    assert.same({"One or more parameters are not valid.",
      "maxResults: This parameter value is out of range."}, err.details)
    assert.equal("trace-400", err.trace_id)
    assert.is_false(err.retryable)
    assert.is_nil(err.retry_after)
  end)

  it("gives kind auth with InvalidCredentials for 401", function()
    local _, err = core.decode(401, {}, UNAUTHORIZED)
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
    assert.equal("InvalidCredentials", err.code)
    assert.matches("^Access was denied%.", err.message)
    assert.equal("7e3c1b1ad1e84a4b9c3a6e2f0d5b8c11", err.trace_id)
    assert.is_false(err.retryable)
    assert.equal("bing: auth 401 InvalidCredentials: " .. err.message
      .. " (trace 7e3c1b1ad1e84a4b9c3a6e2f0d5b8c11)", tostring(err))
    if has_integers then assert.equal("integer", math.type(err.status)) end
  end)

  it("redacts key= values, and the key when given, from texts taken from the body", function()
    local body = '{"authenticationResultCode":"InvalidCredentials","statusCode":401,'
      .. '"errorDetails":["Access was denied for key=SECRET-01","the key SECRET-01 is unknown"],'
      .. '"statusDescription":"Unauthorized"}'
    local _, err = core.decode(401, {}, body, false, "SECRET-01")
    assert.equal("Access was denied for key=<redacted>; the key <redacted> is unknown", err.message)
    assert.same({"Access was denied for key=<redacted>", "the key <redacted> is unknown"},
      err.details)
    local _, err2 = core.decode(400, {}, '{"statusDescription":"Bad key=SECRET2"}')
    assert.equal("Bad key=<redacted>", err2.message)
    assert.is_nil(tostring(err2):find("SECRET2", 1, true))
  end)

  it("gives kind auth for 403 and uses statusDescription without errorDetails", function()
    local _, err = core.decode(403, {}, '{"statusCode":403,"statusDescription":"Forbidden",'
      .. '"authenticationResultCode":"ValidCredentials"}')
    assert.equal("auth", err.kind)
    assert.equal("Forbidden", err.code)
    assert.equal("Forbidden", err.message)
  end)

  it("gives kind throttled with retry_after in seconds for 429", function()
    local _, err = core.decode(429, {["retry-after"] = "7"}, '{"statusCode":429,'
      .. '"statusDescription":"Too Many Requests","errorDetails":["Rate limit exceeded."]}')
    assert.equal("throttled", err.kind)
    assert.equal(429, err.status)
    assert.equal("TooManyRequests", err.code)
    assert.equal("Rate limit exceeded.", err.message)
    assert.is_true(err.retryable)
    assert.equal(7, err.retry_after)
  end)

  it("reads Retry-After as an HTTP-date", function()
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 120)
    local _, err = core.decode(429, {["retry-after"] = date}, "")
    assert.is_true(err.retry_after >= 118 and err.retry_after <= 120, tostring(err.retry_after))
    local past = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() - 3600)
    local _, err2 = core.decode(503, {["retry-after"] = past}, "")
    assert.equal(0, err2.retry_after)
    local _, err3 = core.decode(503, {["retry-after"] = "soon"}, "")
    assert.is_nil(err3.retry_after)
  end)

  it("gives a retryable http error for 500, 502, 503 and 504", function()
    for _, status in ipairs({500, 502, 503, 504}) do
      local _, err = core.decode(status, {}, "")
      assert.equal("http", err.kind)
      assert.equal(status, err.status)
      assert.is_true(err.retryable)
      assert.equal("HTTP " .. status .. " (non-JSON body)", err.message)
    end
  end)

  it("gives a JSON 503 its statusDescription as code and message", function()
    local _, err = core.decode(503, {["retry-after"] = "2"},
      '{"statusCode":503,"statusDescription":"Service Unavailable","resourceSets":[]}')
    assert.equal("ServiceUnavailable", err.code)
    assert.equal("Service Unavailable", err.message)
    assert.equal(2, err.retry_after)
  end)

  it("gives kind timeout for 408 and a plain http error for 404", function()
    local _, e408 = core.decode(408, {}, "")
    assert.equal("timeout", e408.kind)
    assert.is_true(e408.retryable)
    local _, e404 = core.decode(404, {}, "")
    assert.equal("http", e404.kind)
    assert.equal("NotFound", e404.code)
    assert.is_false(e404.retryable)
  end)

  it("reports an HTML error page as non-JSON", function()
    local _, err = core.decode(503, {["content-type"] = "text/html"}, HTML)
    assert.equal("http", err.kind)
    assert.equal("ServiceUnavailable", err.code)
    assert.equal("HTTP 503 (non-JSON body)", err.message)
    assert.is_nil(err.details)
  end)

  it("gives kind decode for an HTML page with status 200", function()
    local doc, err = core.decode(200, {}, HTML)
    assert.is_nil(doc)
    assert.equal("decode", err.kind)
    assert.is_false(err.retryable)
  end)

  it("gives kind decode for truncated JSON at every cut", function()
    for cut = 1, #ENVELOPE - 2, 7 do
      local doc, err = core.decode(200, {}, ENVELOPE:sub(1, cut))
      assert.is_nil(doc)
      assert.equal("decode", err.kind)
      assert.equal(200, err.status)
    end
  end)

  it("gives kind decode for malformed bytes and for JSON that is not an object", function()
    for _, body in ipairs({"\255\254\0\1garbage", '{"a":1,,}', "{'a':1}", "", "42", '"s"', "null"}) do
      local doc, err = core.decode(200, {}, body)
      assert.is_nil(doc)
      assert.equal("decode", err.kind)
    end
  end)

  it("skips a UTF-8 byte order mark", function()
    local doc = assert(core.decode(200, {}, "\239\187\191" .. EMPTY_OK))
    assert.equal("trace-empty", doc.traceId)
  end)

  it("flags the throttled-empty answer", function()
    local doc, err = core.decode(200, {["x-ms-bm-ws-info"] = "1"}, EMPTY_OK)
    assert.is_nil(doc)
    assert.equal("throttled", err.kind)
    assert.equal("ThrottledEmpty", err.code)
    assert.equal(200, err.status)
    assert.equal("trace-empty", err.trace_id)
    assert.is_true(err.retryable)
  end)

  it("does not flag an empty answer without the header, nor a full one with it", function()
    assert.equal("trace-empty", assert(core.decode(200, {}, EMPTY_OK)).traceId)
    assert.equal("trace-empty", assert(core.decode(200, {["x-ms-bm-ws-info"] = "0"}, EMPTY_OK)).traceId)
    local doc = assert(core.decode(200, {["x-ms-bm-ws-info"] = "1"}, ENVELOPE))
    assert.equal(1, #doc.resourceSets[1].resources)
  end)

  it("reports a 3xx as an http error (redirects are not followed)", function()
    local _, err = core.decode(302, {location = "https://elsewhere/"}, "")
    assert.equal("http", err.kind)
    assert.equal("Found", err.code)
    assert.is_false(err.retryable)
  end)

  it("survives deep nesting", function()
    local deep = string.rep("[", 5000) .. string.rep("]", 5000)
    local doc, err = core.decode(200, {}, deep)
    assert.is_nil(doc)
    assert.equal("decode", err.kind)
    local nested = '{"resourceSets":[],"a":' .. string.rep('{"a":', 200) .. '{"statusCode":1}'
      .. string.rep("}", 201)
    assert.is_table((core.decode(200, {}, nested)))
  end)

  it("never crashes on random bytes", function()
    math.randomseed(1234)
    local statuses = {200, 201, 400, 401, 429, 500, 503}
    for i = 1, 3000 do
      local n = math.random(0, 64)
      local bytes = {}
      for j = 1, n do bytes[j] = string.char(math.random(0, 255)) end
      local body = table.concat(bytes)
      if i % 3 == 0 then body = "{" .. body end
      if i % 5 == 0 then body = ENVELOPE:sub(1, math.random(1, #ENVELOPE)) .. body end
      local status = statuses[i % #statuses + 1]
      local ok, doc, err = pcall(core.decode, status, {["x-ms-bm-ws-info"] = "1"}, body)
      assert.is_true(ok, doc)
      assert.is_true(doc ~= nil or core.is_error(err))
    end
  end)

  it("raises for a status out of range", function()
    assert.has_error(function() core.decode(0, {}, "") end)
    assert.has_error(function() core.decode(1000, {}, "") end)
    assert.has_error(function() core.decode(200, "headers", "") end)
  end)
end)

describe("core.http", function()
  it("closes twice without error", function()
    local h = core.http()
    h:close()
    assert.has_no_error(function() h:close() end)
    assert.equal("bing.http (closed)", tostring(h))
  end)

  it("raises on use after close", function()
    local h = core.http()
    h:close()
    assert.has_error(function() h:perform{url = "http://127.0.0.1:1/"} end,
      "bing.http: handle is closed")
  end)

  it("closes at the end of a <close> scope", function()
    if _VERSION < "Lua 5.4" then return end
    local chunk = assert(load([[
      local core = ...
      local kept
      do
        local h <close> = core.http()
        kept = h
      end
      return kept
    ]]))
    local h = chunk(core)
    assert.equal("bing.http (closed)", tostring(h))
    assert.has_error(function() h:perform{url = "http://127.0.0.1:1/"} end,
      "bing.http: handle is closed")
  end)

  it("raises for unknown options and wrong types", function()
    assert.has_error(function() core.http{timout = 1} end, "bing.http: unknown option 'timout'")
    assert.has_error(function() core.http{timeout = "1"} end)
    assert.has_error(function() core.http{timeout = 0} end)
    assert.has_error(function() core.http{verify = "no"} end)
    assert.has_error(function() core.http{max_size = 1.5} end)
    assert.has_no_error(function()
      core.http{cafile = "/nonexistent", capath = "/nonexistent", verify = true,
        connect_timeout = 0.25, timeout = 1.5, proxy = "", max_size = 1024,
        user_agent = "test", http2 = false}:close()
    end)
  end)

  it("checks the request before sending", function()
    local h = core.http()
    assert.has_error(function() h:perform{url = 1} end, "bing.http: req.url must be a string")
    assert.has_error(function() h:perform{url = "http://127.0.0.1:1/", method = "PATCH"} end)
    assert.has_error(function() h:perform{url = "http://127.0.0.1:1/", body = "x"} end,
      "bing.http: a GET request has no body")
    assert.has_error(function()
      h:perform{url = "http://127.0.0.1:1/", headers = {["X-A"] = "v\r\nX-Injected: 1"}}
    end)
    for _, name in ipairs({"Bad Name", "X-A\0B", "X:Y", ""}) do
      assert.has_error(function()
        h:perform{url = "http://127.0.0.1:1/", headers = {[name] = "v"}}
      end)
    end
    assert.has_error(function()
      h:perform{url = "http://127.0.0.1:1/", method = "POST", body = "x",
        headers = {["Content-Length"] = "99"}}
    end)
    assert.has_error(function() h:perform{url = "http://127.0.0.1:1/", timeout = -1} end)
    h:close()
  end)

  it("returns a retryable transport error whose text holds no key", function()
    local h = core.http{connect_timeout = 5}
    local resp, err = h:perform{url = "http://127.0.0.1:1/REST/v1/Locations?q=x&key=SECRETKEY"}
    h:close()
    assert.is_nil(resp)
    assert.is_true(core.is_error(err))
    assert.equal("transport", err.kind)
    assert.equal("CURLE_COULDNT_CONNECT", err.code)
    assert.is_true(err.retryable)
    assert.is_false(err.sent)
    assert.matches("key=<redacted>", err.message, 1, true)
    assert.is_nil(tostring(err):find("SECRETKEY", 1, true))
    assert.equal("http://127.0.0.1:1/REST/v1/Locations?q=x&key=<redacted>", err.url)
  end)

  it("refuses protocols other than http and https", function()
    local h = core.http()
    local resp, err = h:perform{url = "file:///etc/passwd"}
    h:close()
    assert.is_nil(resp)
    assert.equal("CURLE_UNSUPPORTED_PROTOCOL", err.code)
    assert.is_false(err.retryable)
  end)
end)

-- The reference's example answers, kept in spec/fixtures/reference/answers/ (see SOURCES there).
local function answer(name) return require("support.reference").read("answers", name) end

local THROTTLED = {["x-ms-bm-ws-info"] = "1"}

describe("core.decode kinds of answer", function()
  it("refuses a 200 that is JSON but no REST envelope, saying what is missing", function()
    local cases = {
      ["{}"] = "no resourceSets",
      ["[]"] = "it is a JSON array",
      ['{"foo":1}'] = "no resourceSets",
      ['{"resourceSets":null}'] = "resourceSets is null",
      ['{"resourceSets":{"a":1}}'] = "resourceSets is not a list",
      ['{"resourceSets":[{"estimatedTotal":0}]}'] = "resourceSets[1] has no resources list",
    }
    for body, why in pairs(cases) do
      for _, kind in ipairs({nil, "rest"}) do
        local doc, err = core.decode(200, {}, body, kind)
        assert.is_nil(doc, body)
        assert.equal("decode", err.kind)
        assert.equal(200, err.status)
        assert.equal("IncompleteAnswer", err.code)
        assert.equal("HTTP 200 answer is not a REST envelope: " .. why, err.message)
        assert.is_false(err.retryable)
      end
    end
  end)

  it("decodes the OData answers of the Spatial Data Services, a list and a single entity", function()
    local list = assert(core.decode(200, {}, answer("query-by-property.json"), "odata"))
    assert.equal(5, #list.d.results)
    assert.equal("Fourth Coffee Store #660, Clearwater, FL, United States",
      list.d.results[2].DisplayName)
    assert.is_true(list.d.results[2].IsWheelchairAccessible)
    local one = assert(core.decode(200, {}, answer("query-by-id.json"), "odata"))
    assert.equal("-22067", one.d.EntityID)
    assert.equal(57.003766, one.d.Latitude)
    local paged = assert(core.decode(200, {}, '{"d":{"results":[{"a":1}],"__count":"40",'
      .. '"__next":"https://spatial.virtualearth.net/REST/v1/data/x?$skip=1"}}', "odata"))
    assert.equal("40", paged.d.__count)
    assert.matches("skip=1$", paged.d.__next)
  end)

  it("refuses a 200 that is no OData answer, saying what is missing", function()
    local cases = {
      ["{}"] = 'no "d" object',
      ["[]"] = "it is a JSON array",
      ['{"foo":1}'] = 'no "d" object',
      ['{"d":null}'] = '"d" is not an object',
      ['{"d":{"results":{"a":1}}}'] = "d.results is not a list",
      [answer("get-traffic-incidents.json")] = 'no "d" object',
    }
    for body, why in pairs(cases) do
      local doc, err = core.decode(200, {}, body, "odata")
      assert.is_nil(doc)
      assert.equal("decode", err.kind)
      assert.equal('HTTP 200 answer is not an OData answer ({"d": ...}): ' .. why, err.message)
    end
  end)

  it("keeps the integers of an OData answer as sent, whatever the property's name", function()
    core.integer_fields{"index", "cost"} -- names meant for the REST envelope of Routes
    local doc = assert(core.decode(200, {}, '{"d":{"results":[{"index":2.0,"cost":3,'
      .. '"Open":700,"Latitude":57.5,"statusCode":200.0}]}}', "odata"))
    local r = doc.d.results[1]
    assert.equal(2, r.index)
    assert.equal(3, r.cost)
    assert.equal(700, r.Open)
    if has_integers then
      assert.equal("float", math.type(r.index))
      assert.equal("integer", math.type(r.cost))
      assert.equal("integer", math.type(r.Open))
      assert.equal("float", math.type(r.Latitude))
      assert.equal("float", math.type(r.statusCode))
    end
  end)

  it("decodes a Dataflow job answer and checks that each resource is a job", function()
    local doc = assert(core.decode(200, {}, answer("geocode-dataflow-response-description.json"),
      "dataflow"))
    local job = doc.resourceSets[1].resources[1]
    assert.equal("5bf10c37df944083b1879fbb0556e67e", job.id)
    assert.equal("Completed", job.status)
    assert.equal(2, job.failedEntityCount)
    if has_integers then
      assert.equal("integer", math.type(job.failedEntityCount))
      assert.equal("integer", math.type(job.totalEntityCount))
    end
    local _, err = core.decode(200, {}, '{"resourceSets":[{"resources":[{"status":"Pending"}]}]}',
      "dataflow")
    assert.equal("HTTP 200 answer is not a Dataflow job answer: resource 1 of set 1 is no job "
      .. "(no id)", err.message)
    local _, err2 = core.decode(200, {}, "{}", "dataflow")
    assert.equal("HTTP 200 answer is not a Dataflow job answer: no resourceSets", err2.message)
  end)

  it("returns bytes with their content type, never decoded as JSON", function()
    local png = "\137PNG\r\n\26\n\0\0\0\rIHDR{}"
    local img = assert(core.decode(200, {["content-type"] = "image/png"}, png, "bytes"))
    assert.same({bytes = png, content_type = "image/png"}, img)
    local _, err = core.decode(200, {["content-type"] = "application/json"}, "{}", "bytes")
    assert.equal("decode", err.kind)
    assert.equal("HTTP 200 answer is not image bytes: its content type is application/json",
      err.message)
    local _, err2 = core.decode(200, {["content-type"] = "image/jpeg"}, "", "bytes")
    assert.equal("HTTP 200 answer is not image bytes: the body is empty", err2.message)
  end)

  it("turns a JSON or an XML error body of a bytes call into an error", function()
    local _, err = core.decode(400, {["content-type"] = "application/json"}, BAD_REQUEST, "bytes")
    assert.equal("http", err.kind)
    assert.equal("BadRequest", err.code)
    assert.equal("trace-400", err.trace_id)
    local xml = "<?xml version=\"1.0\"?><Response xmlns=\"http://schemas.microsoft.com/search/"
      .. "local/ws/rest/v1\"><StatusCode>400</StatusCode><StatusDescription>Bad Request"
      .. "</StatusDescription><AuthenticationResultCode>ValidCredentials"
      .. "</AuthenticationResultCode><ErrorDetails><string>One or more parameters are not "
      .. "valid.</string><string>mapSize: key=SECRET-9 out of range</string></ErrorDetails>"
      .. "<TraceId>trace-xml</TraceId></Response>"
    local _, xerr = core.decode(400, {["content-type"] = "application/xml"}, xml, "bytes")
    assert.equal("http", xerr.kind)
    assert.equal(400, xerr.status)
    assert.equal("BadRequest", xerr.code)
    assert.equal("One or more parameters are not valid.; mapSize: key=<redacted> out of range",
      xerr.message)
    assert.same({"One or more parameters are not valid.", "mapSize: key=<redacted> out of range"},
      xerr.details)
    assert.equal("trace-xml", xerr.trace_id)
    local _, aerr = core.decode(401, {}, "<Response><AuthenticationResultCode>InvalidCredentials"
      .. "</AuthenticationResultCode></Response>", "bytes")
    assert.equal("auth", aerr.kind)
    assert.equal("InvalidCredentials", aerr.code)
  end)

  it("reads the OData error object of the Spatial Data Services, JSON and XML", function()
    local _, err = core.decode(400, {}, '{"error":{"code":"InvalidQueryOption","message":'
      .. '{"lang":"en-US","value":"The $filter is not valid."}}}', "odata")
    assert.equal("http", err.kind)
    assert.equal("InvalidQueryOption", err.code)
    assert.equal("The $filter is not valid.", err.message)
    local _, xerr = core.decode(404, {}, '<?xml version="1.0"?><error xmlns="http://schemas.'
      .. 'microsoft.com/ado/2007/08/dataservices/metadata"><code>NotFound</code><message '
      .. 'xml:lang="en-US">No data source named x.</message></error>', "odata")
    assert.equal("NotFound", xerr.code)
    assert.equal("No data source named x.", xerr.message)
  end)

  it("returns delimited text as the string, and refuses an HTML page", function()
    local csv = "Id,GeocodeRequest/Query\n1,Seattle\n"
    assert.equal(csv, core.decode(200, {["content-type"] = "text/plain"}, csv, "text"))
    assert.equal("", core.decode(200, {}, "", "text"))
    local _, err = core.decode(200, {["content-type"] = "text/html"}, HTML, "text")
    assert.equal("decode", err.kind)
  end)

  it("returns any JSON for kind json, and the body for the old want_raw true", function()
    assert.same({1, 2}, core.decode(200, {}, "[1,2]", "json"))
    assert.same({foo = 1}, core.decode(200, {}, '{"foo":1}', "json"))
    assert.equal("[1,2]", core.decode(200, {}, "[1,2]", true))
    assert.is_table((core.decode(200, {}, ENVELOPE, false)))
    local _, err = core.decode(200, {}, "{", "json")
    assert.equal("decode", err.kind)
    assert.has_error(function() core.decode(200, {}, "{}", "xml") end)
  end)

  it("flags the throttled-empty answer of every kind, and only an empty one", function()
    local empty = {rest = EMPTY_OK, dataflow = EMPTY_OK, odata = '{"d":{"results":[]}}',
      json = "{}", bytes = "", text = ""}
    local full = {rest = ENVELOPE, odata = answer("query-by-id.json"), json = "[1]",
      dataflow = answer("geocode-dataflow-response-description.json"), bytes = "GIF89a",
      text = "1,2\n"}
    for kind, body in pairs(empty) do
      local doc, err = core.decode(200, THROTTLED, body, kind)
      assert.is_nil(doc, kind)
      assert.equal("throttled", err.kind, kind)
      assert.equal("ThrottledEmpty", err.code)
      assert.is_true(err.retryable)
      assert.is_truthy((core.decode(200, THROTTLED, full[kind], kind)), kind)
    end
  end)

  it("keeps integer fields per kind: dataflow names do not apply to REST answers", function()
    if not has_integers then return end
    local body = '{"resourceSets":[{"resources":[{"id":"j","failedEntityCount":2}]}]}'
    local rest = assert(core.decode(200, {}, body, "rest"))
    assert.equal("float", math.type(rest.resourceSets[1].resources[1].failedEntityCount))
    core.integer_fields("dataflow", {"extraCount"})
    assert.has_error(function() core.integer_fields("odata", {"x"}) end)
  end)
end)

describe("core.decode integers beyond 2^53", function()
  it("keeps the traffic reference's incidentId exact", function()
    local doc = assert(core.decode(200, {}, answer("get-traffic-incidents.json")))
    local inc = doc.resourceSets[1].resources[1]
    if has_integers then
      assert.equal(18558549332008001, inc.incidentId)
      assert.equal("integer", math.type(inc.incidentId))
    else
      assert.equal("18558549332008001", inc.incidentId)
    end
    assert.equal("18558549332008001", tostring(inc.incidentId))
  end)

  it("keeps the 64-bit range exact, and leaves floats, big floats and strings alone", function()
    local doc = assert(core.decode(200, {}, '{"resourceSets":[],"a":[9223372036854775807,'
      .. '-9223372036854775808,9007199254740993,9007199254740992],"f":18558549332008001.0,'
      .. '"e":1.8558549332008001e16,"huge":92233720368547758070,"s":"18558549332008001",'
      .. '"z":"\\u0000n123","k":{"18558549332008001":1}}'))
    if has_integers then
      assert.same({math.maxinteger, math.mininteger, 9007199254740993, 9007199254740992}, doc.a)
      assert.equal("integer", math.type(doc.a[3]))
      assert.equal("float", math.type(doc.a[4])) -- within 2^53: a float, as before
    else
      assert.same({"9223372036854775807", "-9223372036854775808", "9007199254740993",
        2 ^ 53}, doc.a)
    end
    assert.equal(18558549332008000, doc.f)
    assert.equal(18558549332008000, doc.e)
    assert.equal(9.2233720368547758e19, doc.huge)
    assert.equal("18558549332008001", doc.s)
    assert.equal("\0n123", doc.z)
    assert.equal(1, doc.k["18558549332008001"])
  end)

  it("gives an OData answer's integers exact too, and its strings that start with U+0000", function()
    local doc = assert(core.decode(200, {}, '{"d":{"results":[{"Id":18558549332008001,'
      .. '"N":"\\u0000s","M":["\\u0000n5"]}]}}', "odata"))
    local r = doc.d.results[1]
    assert.equal(has_integers and 18558549332008001 or "18558549332008001", r.Id)
    assert.equal("\0s", r.N)
    assert.equal("\0n5", r.M[1])
  end)

  it("refuses what cjson refuses, marked or not", function()
    for _, body in ipairs({'{18558549332008001:1}', '[18558549332008001 1]',
      '{"resourceSets":[],"a" 18558549332008001}', '18558549332008001'}) do
      local doc, err = core.decode(200, {}, body)
      assert.is_nil(doc, body)
      assert.equal("decode", err.kind)
    end
  end)
end)

describe("tostring of an error", function()
  it("is one line: CR, LF, tab and other control characters escaped", function()
    local _, err = core.decode(400, {}, '{"statusCode":400,"statusDescription":"Bad Request",'
      .. '"errorDetails":["waypoint.1 \\"Main St\\r\\nX-Injected: 1\\" is not valid\\u0007"],'
      .. '"traceId":"t\\n2"}')
    assert.equal("waypoint.1 \"Main St\r\nX-Injected: 1\" is not valid\7", err.message)
    local line = tostring(err)
    assert.equal('bing: http 400 BadRequest: waypoint.1 "Main St\\r\\nX-Injected: 1" is not '
      .. 'valid\\x07 (trace t\\n2)', line)
    assert.is_nil(line:find("[%c]"))
    local e = core.error{kind = "argument", message = "tab\there\0nul\127del"}
    assert.equal("bing: argument: tab\\there", tostring(e)) -- a message ends at a NUL
    local e2 = core.error{kind = "argument", message = "a\tb\127c"}
    assert.equal("bing: argument: a\\tb\\x7Fc", tostring(e2))
  end)

  it("keeps key values redacted, even in an error made by hand", function()
    local e = core.error{kind = "http", message = "GET /x?key=SECRET-KEY-1\r\nkey=SECRET-KEY-2&q=1"}
    local line = tostring(e)
    assert.equal("bing: http: GET /x?key=<redacted>\\r\\nkey=<redacted>&q=1", line)
    assert.is_nil(line:find("SECRET", 1, true))
  end)
end)
