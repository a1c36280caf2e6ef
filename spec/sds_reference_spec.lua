-- The Spatial Data Services reference's example answers (spec/fixtures/reference/sds/),
-- decoded through a Lua transport to the values in them.
local bing = require "bing"
local reference = require "support.reference"

local function read(name) return reference.read("sds", name) end

-- A client whose transport answers each request with the next of `answers` ({status, file})
-- and records the requests.
local function replay(answers)
  local sent, i = {}, 0
  local c = bing.new{key = "reference-key-0123456789", transport = function(req)
    sent[#sent + 1] = req
    i = i + 1
    local a = answers[i]
    return {status = a[1], headers = {["content-type"] = a[3] or "application/json"},
            body = a[2]:find("^[%w%-%.]+%.%a+$") and read(a[2]) or a[2]}
  end}
  return c, sent
end

describe("the reference's SDS answers", function()
  it("query by area (point and distance, __Distance) and bounding box", function()
    local c, sent = replay{{200, "query-by-area.nearby.json"}}
    local q = assert(c.sds.query{source = bing.sds.FOURTH_COFFEE, near = {40.83274904439099,
      -74.3163499236107}, distance = 5, select = {"EntityID", "Latitude", "Longitude", "__Distance"},
      top = 3})
    assert.equal("-8051", q[1].EntityID)
    assert.equal(40.820685, q[1].Latitude)
    assert.equal(-74.295683, q[1].Longitude)
    assert.equal(2.19740735412509, q[1].__Distance)
    assert.same({40.820685, -74.295683}, {q[1]:latlon()})
    assert.matches("^https://spatial%.virtualearth%.net/REST/v1/data/20181f26d9e94c81acdf9496133d4f23/"
      .. "FourthCoffeeSample/FourthCoffeeShops%?spatialFilter=nearby", sent[1].url)
    local c2 = replay{{200, "query-by-area.bbox.json"}}
    local b = assert(c2.sds.query{source = bing.sds.FOURTH_COFFEE, bbox = {40.8, -74.3, 40.9, -74.2},
      top = 5})
    assert.equal(3, #b)
    assert.equal("-7884", b[1].EntityID)
    -- A page the caller sized with $top that came back short is the last.
    assert.is_nil(b:next_page())
  end)

  it("query by id", function()
    local c = replay{{200, "query-by-id.json"}}
    local q = assert(c.sds.query{source = bing.sds.FOURTH_COFFEE, id = "-22067"})
    assert.equal(1, #q)
    assert.equal("-22067", q[1].EntityID)
    assert.equal("Løven", q[1].AddressLine)
    assert.equal(700, q[1].Open)
    assert.is_false(q[1].IsWiFiHotSpot)
  end)

  it("a completed geocode job: status, counts, output links (their host, the key added)", function()
    local c, sent = replay{{200, "dataflow-job.completed.json"},
      {200, "geocode-v2.0-sample.csv.succeeded.txt", "text/plain"},
      {200, "geocode-v2.0-sample.csv.failed.txt", "text/plain"}}
    local job = c:job("5bf10c37df944083b1879fbb0556e67e", "geocode")
    local st = assert(job:poll())
    assert.equal("Completed", st.status)
    assert.same({12, 2, 12}, {st.processed, st.failed_count, st.total})
    local res = assert(job:result())
    assert.equal(#res.succeeded + #res.failed, #res)
    assert.is_true(#res.failed > 0)
    assert.matches("^https://spatial%.virtualearth%.net/REST/v1/dataflows/Geocode/"
      .. "5bf10c37df944083b1879fbb0556e67e/output/succeeded%?key=reference%-key", sent[2].url)
    assert.matches("/output/failed%?key=", sent[3].url)
    assert.equal(2, c:usage().categories["Dataflow:Download"].requests)
    assert.equal(1, c:usage().categories["Dataflow:Get"].requests)
    assert.equal(3, res.meta.billing.transactions)
  end)

  it("a completed load job, the job list, data source information, make public, publish", function()
    local c = replay{{200, "load-data-source.completed.json"}, {200, "get-job-list.json"},
      {200, "get-data-source-information.one.json"}, {200, "get-data-source-information.all.json"},
      {201, "make-public-data-source.json"}, {202, "publish-staged.accepted.json"}}
    local load = assert(c:job("5bf10c37df011183b1879fbb0556e67e", "load"):wait{})
    assert.equal("Completed", load.status)
    assert.equal("20181f26d9e94c81acdf9496133d4f23", load.access_id)
    assert.equal("FourthCoffeeSample", load.name)
    local list = assert(c.sds.list_jobs())
    assert.equal(5, #list)
    assert.equal("DataSourceDelete", list[1].description)
    local info = assert(c.sds.info{source = "20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample"})
    assert.equal("FourthCoffeeSample", info.Name)
    assert.same({"FourthCoffeeShops"}, info.EntitySets)
    local all = assert(c.sds.datasources())
    assert.equal("FourthCoffeeSample", all[1].Name)
    assert.equal("Transit", all[2].Name)
    local pub = assert(c.sds.set_public{source = "20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample",
      public = true})
    assert.equal("Created", pub.status)
    local job = assert(c.sds.publish{source = "20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample"})
    assert.equal("3627f4ab4882498074e79cda29f3a", job.id)
    assert.equal("Accepted", job.status.status)
    assert.is_false(job:done())
  end)

  it("a Geodata answer: fields, the shape cut short by the page is a decode error", function()
    local c = replay{{200, "geodata.postcode1.json"}}
    local b = assert(c.sds.boundary{point = {47.64054, -122.12934}, entityType = "PostCode1",
      levelOfDetail = 1, getAllPolygons = true, getEntityMetadata = true, culture = "en",
      userRegion = "us"})
    assert.equal("-37999897300", b[1].EntityID)
    assert.equal("MULTIPOINT ((-122.16467 47.6269799), (-122.07723 47.7340119))",
      b[1].EntityMetadata.BestMapViewBox)
    assert.equal("6210", b[1].Primitives[1].NumPoints)
    local rings, err = b[1]:rings()
    assert.is_nil(rings)
    assert.equal("decode", err.kind)
  end)
end)
