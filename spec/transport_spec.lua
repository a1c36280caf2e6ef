-- bing.http, the libcurl transport, against the emulator: what goes over the wire, gzip,
-- keep-alive, TLS, HTTP/2, timeouts, resets, the size cap, and keys kept out of error text.
-- Run through `make test`, or after `eval "$(sim/bingsim start)"`.
local core = require "bing.core"
local sim = require "support.sim"

local LOCATIONS = "/REST/v1/Locations"

-- Each request carries a header naming its test (unique across runs against one emulator),
-- so the log entries of a test can be told apart from anything else the emulator saw; `mark`
-- is the last log id before the test, so only the new part of the log is read.
local run = string.format("%d-%d", os.time(), math.floor(core.now() * 1000) % 1000000)
local seq, mark = 0, 0
local function tag()
  seq = seq + 1
  return "transport-" .. run .. "-" .. seq
end

local function entries(id)
  local out = {}
  for _, e in ipairs(sim.log(mark)) do
    if e.headers and e.headers["x-spec-id"] == id then out[#out + 1] = e end
  end
  return out
end

local function locations_url(base, params, key)
  return (core.build_url(base, LOCATIONS, nil, params or {{"q", "Seattle"}}, key or sim.key))
end

local function contains(s, needle)
  return s:find(needle, 1, true) ~= nil
end

describe("bing.http:perform", function()
  local h
  before_each(function()
    local last = sim.last_request()
    mark = last and last.id or 0
    h = core.http{cafile = sim.ca}
  end)
  after_each(function() h:close() end)

  it("sends a GET with its headers and returns status, headers and body", function()
    local id = tag()
    local url = locations_url(sim.url, {{"q", "Space Needle"}, {"maxResults", 3}})
    local resp = assert(h:perform{method = "GET", url = url,
      headers = {["X-Spec-Id"] = id, ["X-Extra"] = "a b, c", ["X-Empty"] = ""}})
    assert.equal(200, resp.status)
    assert.matches("^application/json", resp.headers["content-type"])
    assert.equal("1.1", resp.http_version)
    assert.is_number(resp.time)
    local doc = assert(core.decode(resp.status, resp.headers, resp.body))
    assert.equal(200, doc.statusCode)

    local sent = entries(id)
    assert.equal(1, #sent)
    local e = sent[1]
    assert.equal("GET", e.method)
    assert.equal(LOCATIONS, e.path)
    assert.equal("Space Needle", e.query.q)
    assert.equal("3", e.query.maxResults)
    assert.equal("key", e.key_kind)
    assert.equal("a b, c", e.headers["x-extra"])
    assert.equal("", e.headers["x-empty"])
    assert.matches("^lua%-bing/0%.1%.0 libcurl/" .. core.curl_version:gsub("%.", "%%.") .. " Lua 5%.%d$",
      e.headers["user-agent"])
  end)

  it("sends a POST body and its content type as given", function()
    local id = tag()
    local body = '{"origins":[{"latitude":47.6,"longitude":-122.3}],"travelMode":"driving"}'
    local resp = assert(h:perform{method = "POST",
      url = core.build_url(sim.url, "/REST/v1/Routes/DistanceMatrix", nil, nil, sim.key),
      headers = {["X-Spec-Id"] = id, ["Content-Type"] = "application/json"}, body = body})
    assert.is_number(resp.status)
    local e = assert(entries(id)[1])
    assert.equal("POST", e.method)
    assert.equal("/REST/v1/Routes/DistanceMatrix", e.path)
    assert.equal(body, e.body)
    assert.equal("application/json", e.headers["content-type"])
    assert.equal(tostring(#body), e.headers["content-length"])
    assert.is_nil(e.headers["expect"])
  end)

  it("sends PUT and DELETE with the method named", function()
    local id = tag()
    local url = core.build_url(sim.url, "/REST/v1/Dataflows/Geocode", {"job1"}, nil, sim.key)
    assert(h:perform{method = "DELETE", url = url, headers = {["X-Spec-Id"] = id}})
    assert(h:perform{method = "PUT", url = url, headers = {["X-Spec-Id"] = id}, body = "x=1"})
    assert(h:perform{method = "GET", url = url, headers = {["X-Spec-Id"] = id}})
    local sent = entries(id)
    assert.equal(3, #sent)
    assert.same({"DELETE", "PUT", "GET"}, {sent[1].method, sent[2].method, sent[3].method})
    assert.equal("x=1", sent[2].body)
    assert.is_nil(sent[3].body)
  end)

  it("asks for gzip and hands back the decoded body", function()
    local id = tag()
    local resp = assert(h:perform{url = locations_url(sim.url, {{"q", "Washington"},
      {"maxResults", 20}}), headers = {["X-Spec-Id"] = id}})
    assert.equal(200, resp.status)
    assert.equal("gzip", resp.headers["content-encoding"])
    assert.matches("gzip", entries(id)[1].headers["accept-encoding"])
    assert.equal("{", resp.body:sub(1, 1))
    local doc = assert(core.decode(resp.status, resp.headers, resp.body))
    assert.is_table(doc.resourceSets)
  end)

  it("reuses one connection for many sequential calls", function()
    local id = tag()
    local url = locations_url(sim.url)
    for i = 1, 10 do
      local resp = assert(h:perform{url = url, headers = {["X-Spec-Id"] = id}})
      assert.equal(200, resp.status)
      assert.equal(i > 1, resp.reused)
    end
    local sent = entries(id)
    assert.equal(10, #sent)
    for i = 2, 10 do assert.equal(sent[1].conn, sent[i].conn) end
  end)

  it("keeps the connection after an HTTP error status", function()
    local id = tag()
    local good, bad = locations_url(sim.url), locations_url(sim.url, nil, "not-a-valid-key")
    assert.equal(200, assert(h:perform{url = good, headers = {["X-Spec-Id"] = id}}).status)
    local resp = assert(h:perform{url = bad, headers = {["X-Spec-Id"] = id}})
    assert.equal(401, resp.status)
    local _, err = core.decode(resp.status, resp.headers, resp.body)
    assert.equal("auth", err.kind)
    assert.equal("InvalidCredentials", err.code)
    assert.is_true(assert(h:perform{url = good, headers = {["X-Spec-Id"] = id}}).reused)
    local sent = entries(id)
    assert.equal(sent[1].conn, sent[3].conn)
  end)

  it("verifies TLS with the emulator's CA and speaks HTTP/2", function()
    local id = tag()
    local resp = assert(h:perform{url = locations_url(sim.https_url), headers = {["X-Spec-Id"] = id}})
    assert.equal(200, resp.status)
    assert.equal("2", resp.http_version)
    assert.is_false(resp.reused)
    local again = assert(h:perform{url = locations_url(sim.https_url), headers = {["X-Spec-Id"] = id}})
    assert.equal("2", again.http_version)
    assert.is_true(again.reused)
    local sent = entries(id)
    assert.equal(2, #sent)
    assert.equal(sent[1].conn, sent[2].conn)
  end)

  it("speaks HTTP/1.1 over TLS when http2 is off", function()
    local h1 = core.http{cafile = sim.ca, http2 = false}
    local resp = assert(h1:perform{url = locations_url(sim.https_url)})
    h1:close()
    assert.equal("1.1", resp.http_version)
  end)

  it("fails closed without the CA", function()
    local id = tag()
    local strict = core.http()
    local resp, err = strict:perform{url = locations_url(sim.https_url), headers = {["X-Spec-Id"] = id}}
    strict:close()
    assert.is_nil(resp)
    assert.is_true(core.is_error(err))
    assert.equal("transport", err.kind)
    assert.is_truthy(err.code == "CURLE_PEER_FAILED_VERIFICATION" or err.code == "CURLE_SSL_CACERT"
      or err.code == "CURLE_SSL_CACERT_BADFILE", err.code)
    assert.is_false(err.retryable)
    assert.is_false(contains(tostring(err), sim.key))
    assert.equal(0, #entries(id))
  end)

  it("connects to an unverified server only when verify is false", function()
    local lax = core.http{verify = false}
    local resp = assert(lax:perform{url = locations_url(sim.https_url)})
    lax:close()
    assert.equal(200, resp.status)
  end)

  it("gives kind timeout when the server is slower than the request's timeout", function()
    local started = core.now()
    local resp, err = h:perform{url = locations_url(sim.url), timeout = 0.3,
      headers = {["X-Bingsim-Fault"] = "delay;seconds=3"}}
    local elapsed = core.now() - started
    assert.is_nil(resp)
    assert.equal("timeout", err.kind)
    assert.equal("CURLE_OPERATION_TIMEDOUT", err.code)
    assert.is_true(err.retryable)
    assert.is_true(err.sent) -- the request left: the service has it (bing.billing counts it)
    assert.is_true(elapsed < 2.5, "took " .. elapsed .. " s")
    assert.is_true(contains(err.message, "key=<redacted>"), err.message)
    assert.is_false(contains(err.message, sim.key))
    assert.is_false(contains(tostring(err), sim.key))
  end)

  it("uses the handle's timeout when the request has none", function()
    local quick = core.http{timeout = 0.3}
    local _, err = quick:perform{url = locations_url(sim.url),
      headers = {["X-Bingsim-Fault"] = "delay;seconds=3"}}
    quick:close()
    assert.equal("timeout", err.kind)
  end)

  it("gives a retryable transport error when the connection is reset", function()
    local id = tag()
    local resp, err = h:perform{url = locations_url(sim.url),
      headers = {["X-Spec-Id"] = id, ["X-Bingsim-Fault"] = "reset"}}
    assert.is_nil(resp)
    assert.equal("transport", err.kind)
    assert.is_true(err.retryable)
    assert.is_truthy(({CURLE_RECV_ERROR = true, CURLE_GOT_NOTHING = true, CURLE_SEND_ERROR = true,
      CURLE_PARTIAL_FILE = true})[err.code], err.code)
    assert.is_false(contains(tostring(err), sim.key))
    -- The handle recovers with a fresh connection.
    local again = assert(h:perform{url = locations_url(sim.url)})
    assert.equal(200, again.status)
  end)

  it("stops at max_size and says BING_TOO_LARGE", function()
    local small = core.http{max_size = 200}
    local resp, err = small:perform{url = locations_url(sim.url, {{"q", "Washington"},
      {"maxResults", 20}})}
    assert.is_nil(resp)
    assert.equal("transport", err.kind)
    assert.equal("BING_TOO_LARGE", err.code)
    assert.is_false(err.retryable)
    assert.is_true(contains(err.message, "max_size"), err.message)
    assert.is_false(contains(tostring(err), sim.key))
    -- Without gzip the Content-Length alone is over the cap.
    local _, err2 = small:perform{url = locations_url(sim.url, {{"q", "Washington"},
      {"maxResults", 20}}), headers = {["Accept-Encoding"] = "identity"}}
    small:close()
    assert.equal("BING_TOO_LARGE", err2.code)
  end)

  it("keeps the key out of the message and the url of an error", function()
    local closed_port = sim.url:gsub(":%d+$", ":1")
    local resp, err = h:perform{url = locations_url(closed_port)}
    assert.is_nil(resp)
    assert.equal("transport", err.kind)
    assert.is_true(err.retryable)
    assert.is_true(contains(err.message, "key=<redacted>"), err.message)
    for _, text in ipairs({err.message, err.url, tostring(err)}) do
      assert.is_false(contains(text, sim.key))
    end
  end)
end)

describe("bing.http and CR, LF, NUL in headers", function()
  local BAD = {"a\rb", "a\nb", "a\0b", "x\r\nX-Injected: 1"}

  local function refused(fn)
    local ok, e = pcall(fn)
    assert.is_false(ok)
    assert.is_true(core.is_error(e), tostring(e))
    assert.equal("argument", e.kind)
    return e
  end

  it("refuses them in user_agent when the handle is made (kind argument)", function()
    for _, ua in ipairs(BAD) do
      local e = refused(function() core.http{user_agent = "lua-bing " .. ua} end)
      assert.matches("user_agent has CR, LF or NUL", e.message, 1, true)
    end
  end)

  it("refuses them in header names and values and sends nothing", function()
    local last = sim.last_request()
    local before = last and last.id or 0
    local h = core.http{}
    for _, bad in ipairs(BAD) do
      refused(function()
        h:perform{url = locations_url(sim.url), headers = {["X-Spec"] = bad}}
      end)
      refused(function()
        h:perform{url = locations_url(sim.url), headers = {["X-" .. bad] = "v"}}
      end)
      refused(function()
        h:perform{url = locations_url(sim.url), headers = {["User-Agent"] = bad}}
      end)
    end
    -- The handle is still good, and none of the refused requests reached the emulator.
    assert.equal(200, assert(h:perform{url = locations_url(sim.url)}).status)
    h:close()
    local log = sim.log(before)
    assert.equal(1, #log)
    assert.is_nil(log[1].headers["x-injected"])
  end)

  it("refuses them through bing.new's user_agent before any byte is sent", function()
    local last = sim.last_request()
    local before = last and last.id or 0
    -- bing.new checks it itself (pipeline); the transport refuses it too, at the first call.
    local e = refused(function()
      local client = require("bing").new{key = sim.key, base_url = sim.url,
        user_agent = "ua\r\nX-Injected: 1"}
      client.locations.find{q = "Seattle"}
    end)
    assert.is_false(tostring(e):find(sim.key, 1, true) ~= nil)
    assert.equal(0, #sim.log(before))
  end)
end)
