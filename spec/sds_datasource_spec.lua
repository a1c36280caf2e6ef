-- Data source management against the emulator: load (complete, incremental, staged),
-- publish, roll back, information, metadata, public/private, download, delete; a user's
-- own source queried with its query key, which never shows in an error, a meta or a log.
local sim = require "support.sim"

local ACCESS = "b1c5e6d2a7f84d3c9e0f1a2b3c4d5e6f" -- the emulator's account (sim/README.md)

local function client(opts) return sim.sds_client(opts, 0) end

local SHOPS = {
  {EntityID = "1", Name = "Comma, \"quoted\" | pipe # hash", Latitude = 47.61, Longitude = -122.33,
   Rating = 4.5, Open = true, Visits = 12},
  {EntityID = "2", Name = "Zürich 東京", Latitude = 47.62, Longitude = -122.34, Rating = 3,
   Open = false, Visits = 7},
  {EntityID = "3", Name = "  spaced  ", Latitude = 47.63, Longitude = -122.35, Rating = 1.25,
   Open = true, Visits = 0},
}

local function contains(t, s, seen)
  seen = seen or {}
  if type(t) == "string" then return t:find(s, 1, true) ~= nil end
  if type(t) ~= "table" or seen[t] then return false end
  seen[t] = true
  for k, v in pairs(t) do
    if contains(k, s, seen) or contains(v, s, seen) then return true end
  end
  return false
end

describe("sds data sources", function()
  local c, qk
  before_each(function()
    c = client()
    qk = sim.keys[1]
  end)

  it("load, query with the query key, stage, publish, roll back, download, delete", function()
    local job = assert(c.sds.load{name = "LuaShops", entity_type = "Shop", entities = SHOPS,
      query_key = qk})
    assert.equal("Dataflow:Create", job.meta.billing.category)
    assert.is_false(contains(job.meta, qk))
    local load = assert(job:wait{timeout = 30})
    assert.equal("Completed", load.status)
    assert.equal(ACCESS, load.access_id)
    assert.equal("LuaShops", load.name)
    local body = sim.entries("/REST/v1/Dataflows/LoadDataSource")[1].body
    assert.truthy(body:find("^Bing Spatial Data Services, 1.0, Shop\r\nEntityID%(Edm.String,primaryKey%)"))
    local src = ACCESS .. "/LuaShops/Shop"

    -- The query key queries it; the source's names and types come back as loaded.
    local q = assert(c.sds.query{source = src, query_key = qk, bbox = {47, -123, 48, -122},
      top = 10})
    assert.equal(3, #q)
    local by = {}
    for _, e in ipairs(q) do by[e.EntityID] = e end
    for _, s in ipairs(SHOPS) do
      assert.equal(s.Name, by[s.EntityID].Name)
      assert.equal(s.Rating, by[s.EntityID].Rating)
      assert.equal(s.Open, by[s.EntityID].Open)
      assert.equal(s.Visits, by[s.EntityID].Visits)
    end
    assert.equal(sim.labels[qk], sim.last_request().key_label)
    assert.is_false(contains(q.meta, qk))
    local none, err = c.sds.query{source = src, query_key = qk, id = "nope"}
    assert.is_nil(none)
    assert.equal(404, err.status)
    assert.is_false(contains(err, qk))
    assert.is_false(tostring(err):find(qk, 1, true) ~= nil)
    -- Billed to the client's one meter.
    assert.is_true(c:usage().categories["RESTSpatialDataService:Query"].requests >= 2)

    -- Incremental load; a staged complete load, seen with staging = true until published.
    assert(assert(c.sds.load{name = "LuaShops", entity_type = "Shop", operation = "incremental",
      entities = {{EntityID = "4", Name = "Four", Latitude = 47.64, Longitude = -122.36, Rating = 2,
        Open = true, Visits = 1}}}):wait{})
    assert.equal(4, #assert(c.sds.query{source = src, bbox = {47, -123, 48, -122}}))
    local staged = assert(assert(c.sds.load{name = "LuaShops", entity_type = "Shop", staging = true,
      entities = {SHOPS[1]}}):wait{})
    assert.equal("Completed", staged.status)
    assert.equal(4, #assert(c.sds.query{source = src, bbox = {47, -123, 48, -122}}))
    assert.equal(1, #assert(c.sds.query{source = src, bbox = {47, -123, 48, -122}, staging = true}))
    assert.equal("1", sim.last_request().query.isStaging)
    local pub = assert(c.sds.publish{source = ACCESS .. "/LuaShops"})
    assert(pub:wait{timeout = 30})
    assert.equal(1, #assert(c.sds.query{source = src, bbox = {47, -123, 48, -122}}))

    -- Versions, and a rollback to the first load.
    local info = assert(c.sds.info{source = ACCESS .. "/LuaShops", all_versions = true})
    assert.equal("LuaShops", info.Name)
    assert.is_true(#info.Versions >= 2)
    assert.equal("RESTSpatialDataService:GetDataSource", info.meta.billing.category)
    local rb = assert(c.sds.rollback{job_id = job.id, name = "LuaShops"})
    assert(rb:wait{timeout = 30})
    assert.equal(3, #assert(c.sds.query{source = src, bbox = {47, -123, 48, -122}}))

    -- Metadata, public, list.
    local md = assert(c.sds.metadata{source = ACCESS .. "/LuaShops"})
    assert.truthy(md:find("Shop", 1, true))
    assert.truthy(assert(c.sds.metadata()):find("LuaShops", 1, true))
    local made = assert(c.sds.set_public{source = ACCESS .. "/LuaShops", public = true})
    assert.equal("Created", made.status)
    assert.equal("1", sim.last_request().query.setPublic)
    local other = client{key = sim.keys[2]}
    assert.equal(3, #assert(other.sds.query{source = src, bbox = {47, -123, 48, -122}}))
    local names = {}
    for _, d in ipairs(assert(c.sds.datasources())) do names[d.Name] = true end
    assert.is_true(names.LuaShops)

    -- Download, and the download loads back as it was.
    local dl = assert(c.sds.download{source = ACCESS .. "/LuaShops"})
    assert.equal(ACCESS .. "/LuaShops/", dl.id:sub(1, #ACCESS + 10))
    local data = assert(dl:wait{timeout = 30}).data
    assert.truthy(data:find("^Bing Spatial Data Services, 1.0, Shop"))
    local resumed = c:job(dl.id, "download")
    assert.equal(data, assert(resumed:wait{}).data)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(data)
    f:close()
    assert(assert(c.sds.load{name = "LuaShopsCopy", file = path}):wait{})
    os.remove(path)
    local copy = assert(c.sds.query{source = ACCESS .. "/LuaShopsCopy/Shop", bbox = {47, -123, 48, -122}})
    assert.equal(3, #copy)

    -- Delete.
    assert.is_true(assert(c.sds.delete{source = ACCESS .. "/LuaShopsCopy"}))
    local gone, gerr = c.sds.info{source = ACCESS .. "/LuaShopsCopy"}
    assert.is_nil(gone)
    assert.equal(404, gerr.status)
    local u = c:usage().categories
    for _, cat in ipairs{"RESTSpatialDataService:DeleteDataSource",
        "RESTSpatialDataService:SetDataSourcePublicOrPrivate", "RESTSpatialDataService:DownloadDatasource",
        "RESTSpatialDataService:GetDataSourceMetadata", "RESTSpatialDataService:GetAllMetadata",
        "RESTSpatialDataService:ListDataSources", "Dataflow:Create", "Dataflow:Get"} do
      assert.is_true(u[cat].requests >= 1, cat)
      assert.equal(0, u[cat].billable, cat)
    end
  end)

  it("refuses bad loads before sending", function()
    sim.assert_refused(function() return c.sds.load{name = "bad name", entity_type = "S",
      entities = SHOPS} end, "name:")
    sim.assert_refused(function() return c.sds.load{name = "x", entity_type = "S", entities = {},
      operation = "incremental"} end, "empty")
    sim.assert_refused(function() return c.sds.load{name = "x", entity_type = "S", entities = SHOPS,
      operation = "replace"} end, "operation")
    sim.assert_refused(function() return c.sds.load{name = "x", entity_type = "S", entities = SHOPS,
      staging = true, public = true} end, "staged")
    local many = {}
    for i = 1, 2501 do many[i] = {EntityID = tostring(i), Latitude = 1, Longitude = 1} end
    sim.assert_refused(function() return client{account = "basic"}.sds.load{name = "x",
      entity_type = "S", entities = many} end, "at most 2500")
    assert.has_error(function() c.sds.load{name = "x", entity_type = "S",
      entities = {{Name = "no key", Latitude = 1, Longitude = 2}}} end)
  end)
end)
