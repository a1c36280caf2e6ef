-- The emulator's Traffic incidents (sim/lua/bingsim/traffic.lua) over HTTP: incidents in a
-- mapArea, filters, the 10,000 km^2 limit, exact incidentIds above 2^53, the reference's
-- example (values and shape), the ledger.
local sim = require "support.sim"
local shape = require "support.shape"

local INC = "/REST/v1/Traffic/Incidents/"
local SEATTLE = "47.55,-122.40,47.70,-122.10"
local NO_LIMITS = {["X-Bingsim-No-Limits"] = "1"}

local function get(area, params, headers) return sim.get_keyed(INC .. area, params, headers) end

local function resources(doc) return doc.resourceSets[1].resources end

local function ids(body)
  local out = {}
  for id in body:gmatch('"incidentId":%s*(%d+)') do out[#out + 1] = id end
  return out
end

local assert_invalid = sim.assert_invalid

describe("sim Traffic incidents", function()
  before_each(function() sim.reset() end)

  it("answers the reference's example area with its two incidents first, same values",
    function()
      local ref, ref_text = shape.load("traffic/get-traffic-incidents.json")
      local status, doc, body = get("37,-105,45,-94", nil, NO_LIMITS)
      assert.equal(200, status)
      assert.is_nil(shape.diff(ref, doc))
      local got = resources(doc)
      assert.same(ref.resourceSets[1].resources[1], got[1])
      assert.same(ref.resourceSets[1].resources[2], got[2])
      -- the ids as written in the JSON text, digit for digit
      assert.same(ids(ref_text), {ids(body)[1], ids(body)[2]})
      assert.equal(#got, doc.resourceSets[1].estimatedTotal)
    end)

  it("has the shape of the data page's example", function()
    local ref = shape.load("traffic/traffic-incident-data.json")
    local _, doc = get(SEATTLE)
    assert.is_nil(shape.diff(ref, doc))
  end)

  it("writes incidentIds above 2^53 exactly, 2^53 + 1 among them", function()
    local _, doc, body = get(SEATTLE)
    local list = ids(body)
    assert.equal("9007199254740993", list[1])
    assert.equal(#resources(doc), #list)
    for _, id in ipairs(list) do
      assert.is_true(#id >= 16)
      assert.is_true(id > "9007199254740992" or #id > 16)
    end
  end)

  it("gives /Date(ms)/ times, Serious first, and leaves jamcidents out by default", function()
    local _, doc = get(SEATTLE)
    local list = resources(doc)
    assert.equal(4, #list)
    local last = 5
    for _, r in ipairs(list) do
      assert.is_true(r.severity <= last)
      last = r.severity
      for _, f in ipairs{"start", "end", "lastModified"} do
        assert.truthy(r[f]:match("^/Date%(%d+%)/$"))
      end
      assert.is_false(r.isJamcident)
      assert.is_true(r.verified)
      assert.equal("TrafficIncident:http://schemas.microsoft.com/search/local/ws/rest/v1",
        r.__type)
    end
    assert.same({type = "Point", coordinates = {47.6101, -122.3421}}, list[1].point)
    assert.equal("/Date(1694524800000)/", list[1].start)
    local _, jam = get(SEATTLE, {includeJamcidents = "true"})
    assert.equal(5, #resources(jam))
    local found = false
    for _, r in ipairs(resources(jam)) do found = found or r.isJamcident end
    assert.is_true(found)
  end)

  it("filters by severity (s) and type (t)", function()
    local _, doc = get(SEATTLE, {severity = "1,2"})
    for _, r in ipairs(resources(doc)) do assert.is_true(r.severity <= 2) end
    assert.equal(3, #resources(doc))
    _, doc = get(SEATTLE, {s = "4"})
    assert.equal(1, #resources(doc))
    _, doc = get(SEATTLE, {t = "9,11"})
    local types = {}
    for _, r in ipairs(resources(doc)) do types[#types + 1] = r.type end
    assert.same({9, 11}, types)
    _, doc = get(SEATTLE, {type = "1", severity = "1"})
    assert.same({}, resources(doc))
    assert.equal(0, doc.resourceSets[1].estimatedTotal)
  end)

  it("accepts and ignores includeLocationCodes (deprecated)", function()
    local _, a, body_a = get(SEATTLE, {includeLocationCodes = "true"})
    local _, _, body_b = get(SEATTLE)
    assert.equal(200, a.statusCode)
    assert.is_nil(body_a:find("locationCodes", 1, true))
    assert.equal((body_a:gsub('"traceId":"%x+"', "")), (body_b:gsub('"traceId":"%x+"', "")))
    -- the older template's path form, {mapArea}/{includeLocationCodes}
    local _, c, body_c = get(SEATTLE .. "/TRUE")
    assert.equal(200, c.statusCode)
    assert.equal((body_b:gsub('"traceId":"%x+"', "")), (body_c:gsub('"traceId":"%x+"', "")))
    local status = get(SEATTLE .. "/maybe")
    assert.equal(404, status)
  end)

  it("refuses an area above 10,000 km^2 and malformed parameters", function()
    local _, doc = get("37,-105,45,-94")
    assert_invalid(doc, "mapArea", "This parameter value is out of range.")
    _, doc = get("47,-123,48,-121.5") -- about 12,500 km^2
    assert_invalid(doc, "mapArea", "This parameter value is out of range.")
    _, doc = get("47,-123,47.9,-121.8") -- about 9,100 km^2
    assert.equal(200, doc.statusCode)
    _, doc = get("47.7,-122.4,47.5,-122.1")
    assert_invalid(doc, "mapArea", "This parameter value is out of range.")
    _, doc = get("47.5,-122.4,47.7")
    assert_invalid(doc, "mapArea", "This parameter value is not valid.")
    _, doc = get("")
    assert_invalid(doc, "mapArea", "This parameter is missing or invalid.")
    _, doc = get(SEATTLE, {severity = "5"})
    assert_invalid(doc, "severity", "This parameter value is out of range.")
    _, doc = get(SEATTLE, {severity = "high"})
    assert_invalid(doc, "severity", "This parameter value is not valid.")
    _, doc = get(SEATTLE, {type = "0"})
    assert_invalid(doc, "type", "This parameter value is out of range.")
    _, doc = get(SEATTLE, {includeJamcidents = "sometimes"})
    assert_invalid(doc, "includeJamcidents", "This parameter value is not valid.")
  end)

  it("books RESTTraffic per request, a refused one included", function()
    get(SEATTLE)
    get("37,-105,45,-94")
    local ledger = sim.ledger()
    assert.same({billable = 2, non_billable = 0, requests = 2}, ledger.SIM_KEY.RESTTraffic)
    local entry = sim.last_request()
    assert.equal("RESTTraffic", entry.billing.category)
    assert.equal(400, entry.status)
  end)
end)
