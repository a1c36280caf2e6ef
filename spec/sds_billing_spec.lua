-- Billing of the Spatial Data Services: the client's meter equals the emulator's ledger on a
-- mixed workload (geocode jobs, queries with and without an address, PointsOfInterest,
-- Geodata, data source calls), with a key and with a session key; footnote 2 modelled.
local bing = require "bing"
local billing = require "bing.billing"
local sim = require "support.sim"

local FC = "20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample/FourthCoffeeShops"

local function client(opts) return sim.sds_client(opts, 0) end

local function workload(c)
  local job = assert(c.sds.geocode_job{entities = {{GeocodeRequest = {Query = "Denver"}},
    {GeocodeRequest = {Query = "qq nowhere"}}, {ReverseGeocodeRequest = {Location = {
      Latitude = 47.64054, Longitude = -122.12934}}}}, format = "pipe"})
  assert(job:wait{})
  assert(c.sds.query{source = FC, bbox = {47, -123, 48, -122}, top = 10}:all{max = 25})
  assert(c.sds.query{source = FC, near = "Seattle, WA", distance = 5, top = 2})
  assert(c.sds.query{source = FC, route = {"Seattle, WA", "Tacoma, WA"}, top = 2})
  assert(c.sds.query{source = "Microsoft/PointsOfInterest/Entity", near = {47.6, -122.33},
    distance = 2, top = 2})
  assert(c.sds.boundary{point = {39.7392, -104.9903}, entityType = "AdminDivision1"})
  assert(c.sds.boundary{address = "Denver, CO", entityType = "PopulatedPlace"})
  assert(c.sds.list_jobs())
  assert(c.sds.datasources())
  local none = c.sds.query{source = FC, id = "no such id"} -- a 404: sent and handled, billed
  assert.is_nil(none)
end

local function same(c, label)
  local ledger = sim.ledger()[label]
  local u = c:usage().categories
  for cat, t in pairs(ledger) do
    assert.is_table(u[cat], cat)
    assert.equal(t.requests, u[cat].requests, cat)
    assert.equal(t.billable, u[cat].billable, cat .. " billable")
    assert.equal(t.non_billable, u[cat].non_billable, cat .. " non-billable")
  end
  for cat in pairs(u) do assert.is_table(ledger[cat], cat .. " (ledger)") end
end

describe("sds billing", function()
  it("meter == ledger on a mixed SDS workload with a key", function()
    sim.reset()
    local c = client()
    workload(c)
    same(c, sim.labels[sim.key])
    local u = c:usage().categories
    assert.equal(3, u["Dataflow:BatchGeocode"].billable)
    assert.equal(4, u.RESTLocations.billable) -- near an address 1, a route 2, a boundary 1
  end)

  it("meter == ledger with a session key (footnote 4: queries free within the 25)", function()
    sim.reset()
    bing.new{session_key = sim.session_key} -- (the session count is per key, process-wide)
    local c = client{session_key = sim.session_key}
    workload(c)
    same(c, sim.labels[sim.session_key])
  end)

  it("models footnote 2: SDS requests past a million a year billable with a session key", function()
    local acc = billing.account(true)
    acc.sds_requests = billing.SDS_FREE_PER_YEAR - 1
    local d = billing.describe("RESTSpatialDataService:Query", acc)
    assert.is_false(d.billable)
    acc:advance(d)
    assert.is_true(billing.describe("RESTSpatialDataService:Query", acc).billable)
    -- Only SDS requests count toward the million; REST ones stay free within the session.
    assert.is_false(billing.describe("RESTElevations", acc).billable)
    assert.is_true(billing.is_sds("Dataflow:Get"))
    assert.is_false(billing.is_sds("RESTLocations"))
    -- The client option seeds the year's count (the Dev Center's usage report).
    bing.new{session_key = "another-session-key-0123456789"}
    local c = client{session_key = "another-session-key-0123456789", sds_requests_this_year = 1000000}
    local plan = assert(c.sds.query{source = FC, bbox = {47, -123, 48, -122}, dry_run = true})
    assert.is_true(plan.billing.billable)
    local fresh = client{session_key = "yet-another-session-key-0123456789"}
    assert.is_false(assert(fresh.sds.query{source = FC, bbox = {47, -123, 48, -122},
      dry_run = true}).billing.billable)
    assert.has_error(function() client{sds_requests_this_year = -1} end)
  end)
end)
