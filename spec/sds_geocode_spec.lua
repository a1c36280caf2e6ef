-- client.sds.geocode_job against the emulator's Geocode Dataflow: every format round trip
-- with hostile text, the wire (gzip, headers, billing), the results matched by Id, waits
-- paced by the job's answers, resume by id, limits, split jobs, files, and a 10,000-entity job.
local sim = require "support.sim"
local zlib = require "zlib"
local mime = require "mime"

local function client(opts) return sim.sds_client(opts, 0) end

-- The body the emulator received, inflated.
local function sent_body(entry)
  local b = entry.body_base64 and (mime.unb64(entry.body_base64)) or entry.body
  if b:sub(1, 2) == "\31\139" then b = zlib.inflate()(b) end
  return b
end

local function creates(since)
  local out = {}
  for _, e in ipairs(sim.log(since)) do
    if e.method == "POST" and e.path == "/REST/v1/Dataflows/Geocode" then out[#out + 1] = e end
  end
  return out
end

local HOSTILE = {'comma, inside', 'pipe | inside', 'tab\tinside', 'quote " inside',
  '"starts quoted', 'hash # inside', 'new\nline', '  blanks  ', "Zürich – 東京 ☃",
  "<x> & 'y'", ","}

describe("sds.geocode_job", function()
  local c
  before_each(function() c = client() end)

  for _, f in ipairs{"csv", "tab", "pipe", "xml"} do
    it("round-trips hostile Ids and queries through the " .. f .. " format", function()
      local ents = {{Id = "seattle", GeocodeRequest = {Query = "Seattle, WA"}}}
      for i, q in ipairs(HOSTILE) do ents[#ents + 1] = {Id = q .. " #" .. i, GeocodeRequest = {Query = q}} end
      ents[#ents + 1] = {Id = "rev", ReverseGeocodeRequest = {Location = {Latitude = 47.64054,
        Longitude = -122.12934}}}
      local since = sim.last_id()
      local job = assert(c.sds.geocode_job{entities = ents, format = f, description = "fmt " .. f})
      local res = assert(job:wait{timeout = 30})
      assert.equal(#ents, #res)
      for i, e in res:each() do
        assert.equal(ents[i].Id, e.Id, f .. " Id " .. i)
        if ents[i].GeocodeRequest then
          -- (blanks at either end: the emulator writes such a field unquoted, and it is read trimmed)
          local trim = function(x) return (x:match("^%s*(.-)%s*$")) end
          assert.equal(trim(ents[i].GeocodeRequest.Query), trim(e.GeocodeRequest.Query), f .. " Query " .. i)
        end
      end
      assert.equal("Success", res[1].StatusCode)
      assert.near(47.6, res[1].GeocodeResponse.Point.Latitude, 0.2)
      assert.equal("Success", res[#res].StatusCode)
      assert.equal(#ents, #res.succeeded + #res.failed)
      -- The wire: one create, its input format, compressed, the description; rows in
      -- another order than sent (the emulator's), still matched to the input.
      local c1 = creates(since)
      assert.equal(1, #c1)
      assert.equal(f, c1[1].query.input)
      assert.equal("fmt " .. f, c1[1].query.description)
      assert.equal("application/octet-stream", c1[1].headers["content-type"])
      local body = sent_body(c1[1])
      if f == "xml" then
        assert.truthy(body:find('<GeocodeFeed Version="2.0"', 1, true))
      else
        assert.truthy(body:find("^Bing Spatial Data Services, 2.0\r\nId"))
      end
    end)
  end

  it("bills the create per entity and the rest as non-billable, as the emulator's ledger", function()
    sim.reset()
    local job = assert(c.sds.geocode_job{entities = {{GeocodeRequest = {Query = "Denver, CO"}},
      {GeocodeRequest = {Query = "qqqq no such place"}}}})
    assert.equal("Dataflow:BatchGeocode", job.meta.billing.category)
    assert.equal(2, job.meta.billing.transactions)
    assert.equal("Dataflow:Create", job.meta.billing.also[1].category)
    local res = assert(job:wait{})
    assert.equal(1, #res.succeeded)
    assert.equal(1, #res.failed)
    assert.equal("NotFound", res[2].StatusCode)
    assert.is_string(res[2].FaultReason)
    local u = c:usage()
    local l = sim.ledger()[sim.labels[sim.key]]
    for cat, t in pairs(u.categories) do
      assert.equal(l[cat].billable, t.billable, cat)
      assert.equal(l[cat].requests, t.requests, cat)
    end
  end)

  it("paces its waits by the job's counts, reports progress, and resumes by id", function()
    local sleeps = {}
    local slow = client{headers = {["X-Bingsim-Job-Delay"] = "1.5"}, clock = sim.fast_clock(sleeps)}
    local ents = {}
    for i = 1, 40 do ents[i] = {GeocodeRequest = {Query = i % 2 == 0 and "Paris" or "London"}} end
    local job = assert(slow.sds.geocode_job{entities = ents})
    local id = job.id
    -- A new process: only the id is known.
    local again = slow:job(id, "geocode")
    local seen = {}
    local res = assert(again:wait{timeout = 60, on_progress = function(st)
      seen[#seen + 1] = {st.status, st.processed, st.total}
    end})
    assert.equal(40, #res)
    -- Without the input, rows come in Id order ("1".."40").
    for i, e in res:each() do assert.equal(tostring(i), e.Id) end
    assert.equal("Completed", seen[#seen][1])
    assert.equal(40, seen[#seen][3])
    for _, s in ipairs(seen) do assert.equal(40, s[3]) end
    -- No fixed 15 s: every wait was what the job's answers said, within the bounds.
    assert.is_true(#sleeps >= 1)
    for _, s in ipairs(sleeps) do assert.is_true(s >= 0.5 and s <= 60, tostring(s)) end
    assert.equal(#seen, #sim.entries("/REST/v1/Dataflows/Geocode/" .. id))
  end)

  it("splits a list over the per-job limit into jobs and merges them in input order", function()
    local basic = client{account = "basic", headers = {["X-Bingsim-Job-Delay"] = "0",
      ["X-Bingsim-Account"] = "basic"}}
    local ents = {}
    for i = 1, 120 do ents[i] = {GeocodeRequest = {Query = i % 3 == 0 and "zzz nowhere" or "Berlin"}} end
    local since = sim.last_id()
    local group = assert(basic.sds.geocode_job{entities = ents, check_pending = false})
    assert.equal(3, #group.jobs)
    local res = assert(group:wait{timeout = 30})
    assert.equal(120, #res)
    for i, e in res:each() do assert.equal(tostring(i), e.Id) end
    assert.equal(40, #res.failed)
    local sizes = {}
    for _, e in ipairs(creates(since)) do
      local n = -2
      for _ in sent_body(e):gmatch("\n") do n = n + 1 end
      sizes[#sizes + 1] = n
    end
    assert.same({50, 50, 20}, sizes)
  end)

  it("refuses before sending: split = false over the limit, empty lists, a bad format", function()
    local basic = client{account = "basic"}
    local ents = {}
    for i = 1, 51 do ents[i] = {GeocodeRequest = {Query = "x" .. i}} end
    sim.assert_refused(function() return basic.sds.geocode_job{entities = ents, split = false} end,
      "51 entities; a job takes at most 50")
    sim.assert_refused(function() return c.sds.geocode_job{entities = {}} end, "empty")
    sim.assert_refused(function() return c.sds.geocode_job{entities = ents, format = "json"} end,
      "format must be csv, tab, pipe or xml")
  end)

  it("checks the jobs in process first and refuses the job that would pass the account's", function()
    local slow = client{account = "basic", headers = {["X-Bingsim-Job-Delay"] = "60",
      ["X-Bingsim-Account"] = "basic"}}
    for _ = 1, 2 do assert(slow.sds.geocode_job{entities = {{GeocodeRequest = {Query = "Oslo"}}}}) end
    local since = sim.last_id()
    local res, err = slow.sds.geocode_job{entities = {{GeocodeRequest = {Query = "Oslo"}}}}
    assert.is_nil(res)
    assert.equal("argument", err.kind)
    assert.matches("2 job%(s%) of this account are in process", err.message)
    local log = sim.log(since)
    assert.equal(1, #log)
    assert.equal("/REST/v1/Dataflows/ListJobs", log[1].path)
  end)

  it("keeps the key out of errors, and a failed download leaves the job resumable", function()
    local job = assert(c.sds.geocode_job{entities = {{GeocodeRequest = {Query = "Lima"}}}})
    sim.fault{fault = "html", status = 502, times = -1, path = "/REST/v1/Dataflows/Geocode/" .. job.id
      .. "/output"}
    local res, err = job:wait{}
    sim.clear_faults()
    assert.is_nil(res)
    assert.equal("http", err.kind)
    assert.is_nil(tostring(err):find(sim.key, 1, true))
    assert.is_nil((err.url or ""):find(sim.key, 1, true))
    assert.matches("key=<redacted>", err.url)
    -- The job is done on the service: its result downloads once the host answers again.
    local again = assert(job:result())
    assert.equal("Success", again[1].StatusCode)
    local bad = client{key = "not-a-valid-key-0123456789abcdef"}
    local none, aerr = bad.sds.geocode_job{entities = {{GeocodeRequest = {Query = "Lima"}}},
      check_pending = false}
    assert.is_nil(none)
    assert.equal("auth", aerr.kind)
    assert.is_nil(tostring(aerr):find("not-a-valid-key", 1, true))
  end)

  it("lists the account's jobs", function()
    local job = assert(c.sds.geocode_job{entities = {{GeocodeRequest = {Query = "Rome"}}}})
    local list = assert(c.sds.list_jobs())
    local found
    for _, j in ipairs(list) do if j.id == job.id then found = j end end
    assert.equal("Completed", found.status)
    assert.equal(1, found.totalEntityCount)
    assert.equal("Dataflow:Get", list.meta.billing.category)
    assert.is_false(list.meta.billing.billable)
  end)

  it("streams a data file (compressed block by block) and reads the results", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write("Bing Spatial Data Services, 2.0\r\nId,GeocodeRequest/Query,GeocodeResponse/Point/Latitude,"
      .. "StatusCode,FaultReason\r\n")
    for i = 1, 300 do f:write(("%d,\"Madrid, Spain\",,,\r\n"):format(i)) end
    f:close()
    local since = sim.last_id()
    local job = assert(c.sds.geocode_job{file = path})
    os.remove(path)
    local res = assert(job:wait{})
    assert.equal(300, #res)
    assert.equal(300, #res.succeeded)
    assert.near(40.4, res[300].GeocodeResponse.Point.Latitude, 0.2)
    local e = creates(since)[1]
    assert.equal(300, job.meta.billing.transactions)
    assert.truthy(sent_body(e):find("300,\"Madrid, Spain\"", 1, true))
  end)

  it("geocodes 10,000 entities in one job, each accounted for exactly once", function()
    local places = {"Seattle", "Denver, CO", "Paris", "Tokyo", "1 Microsoft Way, Redmond, WA",
      "no such place qq", "London", "Sydney", "Cairo", "zz unknown"}
    local ents = {}
    for i = 1, 10000 do
      ents[i] = {Id = "e" .. i, GeocodeRequest = {Query = places[i % #places + 1]}}
    end
    local job = assert(c.sds.geocode_job{entities = ents})
    assert.equal(10000, job.meta.billing.transactions)
    local res = assert(job:wait{timeout = 120})
    assert.equal(10000, #res)
    for i, e in res:each() do assert.equal("e" .. i, e.Id) end
    assert.equal(2000, #res.failed)
    assert.equal(8000, #res.succeeded)
    assert.equal(0, res.duplicates)
    assert.equal(0, #res.unknown)
    local gj = res:geojson()
    assert.equal(8000, #gj.features)
    assert.equal("Point", gj.features[1].geometry.type)
  end)
end)
