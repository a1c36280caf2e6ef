-- Every error kind against the emulator's faults: the right kind, one readable line, and
-- never the key, in any field, however deep.
local sim = require "support.sim"

local function holds(v, needle, seen)
  seen = seen or {}
  if type(v) == "string" then return v:find(needle, 1, true) ~= nil end
  if type(v) ~= "table" or seen[v] then return false end
  seen[v] = true
  for k, x in pairs(v) do
    if holds(k, needle, seen) or holds(x, needle, seen) then return true end
  end
  return false
end

local function client(extra)
  local o = {retry = false}
  for k, v in pairs(extra or {}) do o[k] = v end
  return sim.client(o)
end

describe("error kinds from the emulator", function()
  before_each(function() sim.reset() end)

  local CASES = {
    {fault = "429", kind = "throttled", status = 429, retryable = true},
    {fault = "503", kind = "http", status = 503, retryable = true},
    {fault = "500", kind = "http", status = 500, retryable = true},
    {fault = "throttled_empty", kind = "throttled", status = 200, retryable = true},
    {fault = "html", kind = "http", status = 502, retryable = true},
    {fault = "malformed", kind = "decode", status = 200, retryable = false},
    {fault = "truncated", kind = "transport", retryable = true},
    {fault = "reset", kind = "transport", retryable = true},
  }
  for _, case in ipairs(CASES) do
    it("gives kind " .. case.kind .. " for the " .. case.fault .. " fault, without the key", function()
      sim.fault{fault = case.fault, retry_after = 7}
      local locs, err = client().locations.find{q = "Seattle"}
      assert.is_nil(locs)
      assert.equal(case.kind, err.kind)
      if case.status then assert.equal(case.status, err.status) end
      assert.equal(case.retryable, err.retryable)
      if case.fault == "429" then assert.equal(7, err.retry_after) end
      assert.equal(1, err.attempts)
      assert.equal("RestLocations-Unstructured", err.billing.category)
      assert.is_false(err.billing.billable)
      local line = tostring(err)
      assert.matches("^bing: " .. case.kind, line)
      assert.is_nil(line:find("\n"))
      assert.is_false(holds(err, sim.key))
    end)
  end

  it("gives kind timeout when the service is slower than the timeout", function()
    sim.fault{fault = "delay", seconds = 1}
    local _, err = client{timeout = 0.2}.locations.find{q = "Seattle"}
    assert.equal("timeout", err.kind)
    assert.is_true(err.retryable)
    assert.is_false(holds(err, sim.key))
    sim.settle(10)
  end)

  it("gives kind transport when nothing listens, without the key", function()
    local _, err = client{base_url = "http://127.0.0.1:9"}.locations.find{q = "Seattle"}
    assert.equal("transport", err.kind)
    assert.is_false(holds(err, sim.key))
  end)

  it("gives kind auth for a session key the service does not know, without it", function()
    local bad = "SessionNobodyIssued-0000000000"
    local _, err = client{key = bad}.locations.find{q = "Seattle"}
    assert.equal("auth", err.kind)
    assert.is_false(holds(err, bad))
  end)

  it("fails closed over TLS without the emulator's CA, without the key", function()
    local _, err = client{base_url = sim.https_url}.locations.find{q = "Seattle"}
    assert.equal("transport", err.kind)
    assert.is_false(err.retryable)
    assert.is_false(holds(err, sim.key))
    local locs = assert(client{base_url = sim.https_url, cafile = sim.ca}.locations.find{q = "Seattle"})
    assert.matches("Seattle", locs[1].name)
  end)
end)

describe("client:close", function()
  it("is safe twice, and a closed client refuses with a clear error", function()
    local c = client()
    assert(c.locations.find{q = "Seattle"})
    c:close()
    c:close()
    local ok, err = pcall(c.locations.find, {q = "Seattle"})
    assert.is_false(ok)
    assert.matches("client is closed", tostring(err))
  end)

  it("closes at the end of a <close> block (Lua 5.4)", function()
    -- Compiled at run time: LuaJIT has no to-be-closed variables, and this file runs there too.
    local chunk = load([[
      local client = ...
      local closed
      do
        local c <close> = client()
        assert(c.locations.find{q = "Seattle"})
        closed = c
      end
      return closed
    ]])
    if not chunk then
      assert.is_nil(_VERSION:match("5%.4"), "Lua 5.4 must compile it")
      return
    end
    assert.is_true(chunk(client).closed)
  end)
end)

describe("answers recorded years apart", function()
  it("decodes a location without geocodePoints or matchCodes", function()
    local doc = {statusCode = 200, resourceSets = {{estimatedTotal = 1, resources = {{
      name = "Seattle, WA", point = {type = "Point", coordinates = {47.6, -122.3}},
      bbox = {47.5, -122.4, 47.7, -122.2}, entityType = "PopulatedPlace"}}}}}
    local locs = require("bing.api.location_types").locations(doc, {})
    assert.equal(1, #locs)
    assert.is_nil(locs[1].matchCodes)
    assert.is_nil(locs[1]:geocode_point("Route"))
    assert.same({-122.3, 47.6}, locs[1]:geojson().geometry.coordinates)
    assert.same({-122.4, 47.5, -122.2, 47.7}, locs[1]:geojson().bbox)
    local bare = require("bing.api.location_types").locations(
      {resourceSets = {{resources = {{name = "x"}}}}}, {})
    assert.is_nil(bare[1]:latlon())
    assert.equal(require("cjson").null, bare[1]:geojson().geometry) -- RFC 7946: null, present
  end)
end)
