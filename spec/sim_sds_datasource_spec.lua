-- The emulator's data source management (sim/lua/bingsim/sds_data.lua, sds_query.lua) over
-- HTTP: a user's data source loaded, queried with its query key, updated incrementally,
-- staged and published, made public, listed, downloaded, rolled back and deleted; the
-- ledger; the answers' shape against the reference's examples.
local sim = require "support.sim"
local shape = require "support.shape"

local ACCESS = "b1c5e6d2a7f84d3c9e0f1a2b3c4d5e6f"
local BASE = "/REST/v1/data/" .. ACCESS .. "/MyShops"
local LOAD = "/REST/v1/Dataflows/LoadDataSource"

local SCHEMA = "Bing Spatial Data Services, 1.0, Shops\n"
  .. "ShopID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),"
  .. "Seats(Edm.Int64),Open(Edm.Boolean),Opened(Edm.DateTime)\n"

local function load(body, params, headers)
  local query = {dataSourceName = "MyShops", loadOperation = "complete", input = "csv", key = sim.key}
  for k, v in pairs(params or {}) do query[k] = v end
  local h = {["content-type"] = "text/plain", ["x-bingsim-job-delay"] = "0"}
  for k, v in pairs(headers or {}) do h[k] = v end
  local status, text, rh = sim.request("POST", LOAD, {query = query, headers = h, body = body})
  assert(status, text)
  return status, sim.decode(text), rh
end

local function job_of(doc) return doc.resourceSets[1].resources[1] end

local function wait(url, key)
  return sim.poll(function()
    local status, doc = sim.get(url, {key = key or sim.key})
    assert.equal(200, status)
    local j = job_of(doc)
    return j.status == "Completed" and j
  end, 10)
end

local function query(params, key)
  params = params or {}
  params.key = key or sim.key
  params["$format"] = params["$format"] or "json"
  return sim.get(BASE .. "/Shops", params)
end

local function names(doc)
  local out = {}
  for _, r in ipairs(doc.d.results) do out[r.ShopID] = r.Name end
  return out
end

local ROWS = 'A1,"Caf\195\169, ""One""",47.6,-122.3,10,1,2010-11-10T17:19:36\n'
  .. "A2,Two,47.61,-122.31,20,0,\n"
  .. "A3,No point,,,5,1,\n"

describe("sim SDS data sources", function()
  before_each(function() sim.reset() end)

  it("round-trips a data source: load, query with the query key, update, publish, delete", function()
    local qkey = sim.keys[1]
    local status, doc, h = load(SCHEMA .. ROWS, {queryKey = qkey})
    assert.equal(201, status)
    local job = job_of(doc)
    assert.equal("Pending", job.status)
    assert.equal(3, job.totalEntityCount)
    assert.equal(sim.url .. LOAD .. "/" .. job.id, h.location)
    assert.is_nil(shape.diff(shape.load("sds/create-load-data-source-job.json"), doc))
    job = wait(h.location)
    assert.equal(1, job.failedEntityCount) -- A3 has no point
    local ds
    for _, l in ipairs(job.links) do if l.role == "datasource" then ds = l end end
    assert.same({name = "service", role = "datasource", url = sim.url .. BASE}, ds)
    local _, done = sim.get(h.location, {key = sim.key})
    assert.is_nil(shape.diff(shape.load("sds/load-data-source.completed.json"), done))

    -- the query key and the master key read it; another key of the account does not
    status, doc = query({["$filter"] = "Seats gt 5", ["$orderby"] = "ShopID"}, qkey)
    assert.equal(200, status)
    assert.same({A1 = 'Caf\195\169, "One"', A2 = "Two"}, names(doc))
    assert.equal(10, doc.d.results[1].Seats)
    assert.equal(true, doc.d.results[1].Open)
    assert.equal("/Date(1289409576000)/", doc.d.results[1].Opened)
    assert.equal(200, (query({}, sim.key)))
    assert.equal(401, (query({}, sim.keys[2])))

    -- incremental: A2 replaced, A4 added
    status, doc = load(SCHEMA .. "A2,Two bis,47.61,-122.31,20,0,\nA4,Four,47.62,-122.32,40,1,\n",
      {loadOperation = "incremental"})
    assert.equal(201, status)
    wait(job_of(doc).links[1].url)
    _, doc = query({spatialFilter = "nearby(47.6,-122.3,10)"}, qkey)
    assert.same({A1 = 'Caf\195\169, "One"', A2 = "Two bis", A4 = "Four"}, names(doc))

    -- staged: invisible until $commit; isStaging shows it
    status, doc = load(SCHEMA .. "S1,Staged,47.6,-122.3,1,1,\n", {loadOperation = "completeStaging"})
    assert.equal(201, status)
    wait(job_of(doc).links[1].url)
    assert.same({A1 = 'Caf\195\169, "One"', A2 = "Two bis", A4 = "Four"},
      names(select(2, query({spatialFilter = "nearby(47.6,-122.3,10)"}))))
    assert.same({S1 = "Staged"}, names(select(2, query({spatialFilter = "nearby(47.6,-122.3,10)",
      isStaging = "1"}))))
    local st, pub = sim.get(BASE .. "/$commit", {key = sim.key})
    assert.equal(202, st)
    assert.is_nil(shape.diff(shape.load("sds/publish-staged.accepted.json"), pub))
    local status_url = job_of(pub).links[1].url
    assert.matches("/REST/v1/data/jobs/%x+/%$getstatus$", status_url)
    wait(status_url)
    assert.same({S1 = "Staged"}, names(select(2, query({spatialFilter = "nearby(47.6,-122.3,10)"}))))

    -- public: any key reads it
    st, doc = sim.get(BASE .. "/$updateDataSource", {setPublic = "1", key = sim.key})
    assert.equal(201, st)
    assert.is_nil(shape.diff(shape.load("sds/make-public-data-source.json"), doc))
    assert.equal(200, (query({}, sim.keys[2])))

    -- delete: 202, empty; then gone
    local dst, body = sim.request("DELETE", BASE, {query = {key = sim.key}})
    assert.equal(202, dst)
    assert.equal("", body)
    assert.equal(404, (query({})))
  end)

  it("lists and describes the account's data sources, with their metadata", function()
    local _, doc = load(SCHEMA .. ROWS)
    wait(job_of(doc).links[1].url)
    local status, list = sim.get("/REST/v1/data", {["$format"] = "json", key = sim.key})
    assert.equal(200, status)
    assert.equal(1, #list.d.DataSources)
    assert.same({"Shops"}, list.d.DataSources[1].EntitySets)
    assert.is_nil(shape.diff(shape.load("sds/get-data-source-information.all.json"), list))
    local _, one = sim.get(BASE, {["$format"] = "json", key = sim.key})
    assert.equal("MyShops", one.d.Name)
    assert.equal("false", one.d.IsPublic)
    assert.is_nil(shape.diff(shape.load("sds/get-data-source-information.one.json"), one))
    local st, _, xml, h = sim.get(BASE .. "/$metadata", {key = sim.key})
    assert.equal(200, st)
    assert.matches("application/xml", h["content-type"])
    assert.matches('<EntityType Name="Shops">', xml)
    assert.matches('<PropertyRef Name="ShopID" />', xml)
    assert.matches('<Property Name="Seats" Type="Edm.Int64"', xml)
  end)

  it("downloads a data source as the text schema it was loaded in", function()
    local _, doc = load(SCHEMA .. ROWS)
    wait(job_of(doc).links[1].url)
    local status, created = sim.get("/REST/v1/Dataflows/DataSourceDownload/" .. ACCESS .. "/MyShops",
      {key = sim.key}, {["x-bingsim-job-delay"] = "0"})
    assert.equal(201, status)
    local job = wait(job_of(created).links[1].url)
    local out
    for _, l in ipairs(job.links) do if l.name == "succeeded" then out = l.url end end
    local st, text = sim.request("GET", out, {query = {key = sim.key}})
    assert.equal(200, st)
    local lines = {}
    for line in text:gmatch("([^\r\n]+)") do lines[#lines + 1] = line end
    assert.equal("Bing Spatial Data Services, 1.0, Shops", lines[1])
    assert.equal("ShopID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),"
      .. "Longitude(Edm.Double),Seats(Edm.Int64),Open(Edm.Boolean),Opened(Edm.DateTime)", lines[2])
    assert.equal('A1,"Caf\195\169, ""One""",47.6,-122.3,10,1,2010-11-10T17:19:36', lines[3])
    assert.equal(4, #lines)
    -- and it loads back as it was
    sim.request("DELETE", BASE, {query = {key = sim.key}})
    local _, again = load(text)
    assert.equal(2, wait(job_of(again).links[1].url).totalEntityCount)
  end)

  it("rolls back to a previous version listed by showAllVersions", function()
    local _, a = load(SCHEMA .. "A1,First,47.6,-122.3,1,1,\n")
    local first = wait(job_of(a).links[1].url)
    local _, b = load(SCHEMA .. "B1,Second,47.6,-122.3,1,1,\n")
    wait(job_of(b).links[1].url)
    local _, info = sim.get(BASE, {["$format"] = "json", showAllVersions = "true", key = sim.key})
    assert.equal(first.id, info.d.Versions[1].JobId)
    local status, rb = sim.get("/REST/v1/Dataflows/DataSourceRollback/" .. first.id .. "/MyShops",
      {key = sim.key}, {["x-bingsim-job-delay"] = "0"})
    assert.equal(201, status)
    wait(job_of(rb).links[1].url)
    assert.same({A1 = "First"}, names(select(2, query({spatialFilter = "nearby(47.6,-122.3,10)"}))))
  end)

  it("refuses what the reference does not allow", function()
    assert.equal(400, (load(SCHEMA .. ROWS, {queryKey = sim.key}))) -- master = query key
    assert.equal(400, (load(SCHEMA .. ROWS, {loadOperation = "sometimes"})))
    assert.equal(400, (load(SCHEMA .. ROWS, {dataSourceName = "bad name"})))
    assert.equal(400, (load(SCHEMA .. ROWS, {loadOperation = "completeStaging", setPublic = "1"})))
    assert.equal(400, (load("Bing Spatial Data Services, 1.0, Shops\nName(Edm.String)\nx\n")))
    assert.equal(404, (load(SCHEMA .. ROWS, {loadOperation = "incremental"})))
    -- Basic accounts: 2,500 entities
    local rows = {}
    for i = 1, 2501 do rows[i] = ("X%d,n,47,-122,1,1,"):format(i) end
    assert.equal(400, (load(SCHEMA .. table.concat(rows, "\n"), nil, {["x-bingsim-account"] = "basic"})))
    -- only the master key manages it
    local _, doc = load(SCHEMA .. ROWS)
    wait(job_of(doc).links[1].url)
    assert.equal(401, (load(SCHEMA .. ROWS, {key = sim.keys[1]})))
    assert.equal(401, (sim.request("DELETE", BASE, {query = {key = sim.keys[1]}})))
  end)

  it("books the management calls as the transaction table says", function()
    local _, doc = load(SCHEMA .. ROWS)
    wait(job_of(doc).links[1].url)
    query({})
    sim.get(BASE, {["$format"] = "json", key = sim.key})
    sim.get("/REST/v1/data", {["$format"] = "json", key = sim.key})
    sim.get(BASE .. "/$metadata", {key = sim.key})
    sim.get(BASE .. "/$updateDataSource", {setPublic = "0", key = sim.key})
    sim.request("DELETE", BASE, {query = {key = sim.key}})
    sim.settle()
    local l = sim.ledger().SIM_KEY
    assert.equal(1, l["Dataflow:Create"].non_billable)
    assert.is_true(l["Dataflow:Get"].non_billable >= 1)
    assert.equal(1, l["RESTSpatialDataService:Query"].billable)
    for _, c in ipairs({"RESTSpatialDataService:GetDataSource", "RESTSpatialDataService:ListDataSources",
        "RESTSpatialDataService:GetDataSourceMetadata", "RESTSpatialDataService:SetDataSourcePublicOrPrivate",
        "RESTSpatialDataService:DeleteDataSource"}) do
      assert.same({billable = 0, non_billable = 1, requests = 1}, l[c], c)
    end
  end)
end)
