-- The emulator's Geocode Dataflow (sim/lua/bingsim/sds.lua) over HTTP: jobs created from
-- csv, tab, pipe and xml uploads (gzip too), really geocoded, completed after their delay,
-- results in the upload's format with every entity accounted for; limits, job list, ledger,
-- and the answers' shape against the reference's examples.
local sim = require "support.sim"
local shape = require "support.shape"
local reference = require "support.reference"

local GEOCODE = "/REST/v1/Dataflows/Geocode"
local HEADER_LINE = "Bing Spatial Data Services, 2.0"

local function read(rel) return reference.read("sds", rel) end

local function create(body, input, opts)
  opts = opts or {}
  local headers = {["content-type"] = opts.ctype or (input == "xml" and "application/xml" or "text/plain"),
    ["x-bingsim-job-delay"] = opts.delay or "0"}
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local query = {input = input, key = opts.key or sim.key, description = opts.description}
  local status, text, h = sim.request("POST", GEOCODE, {query = query, headers = headers, body = body})
  assert(status, text)
  return status, sim.decode(text), h
end

local function job_of(doc) return doc.resourceSets[1].resources[1] end

local function status_of(id, key)
  local status, doc = sim.get(GEOCODE .. "/" .. id, {key = key or sim.key})
  assert.equal(200, status)
  return job_of(doc)
end

local function wait(id)
  return sim.poll(function()
    local j = status_of(id)
    return j.status == "Completed" and j
  end, 10)
end

local function link(job, name)
  for _, l in ipairs(job.links) do
    if (name == "self" and l.role == "self") or l.name == name then return l.url end
  end
end

local function download(url)
  local status, body, h = sim.request("GET", url, {query = {key = sim.key}})
  return status, body, h
end

-- A reader of delimited text that knows the rule the emulator writes by: a field that
-- begins with a quote is quoted ("" inside); others run to the delimiter.
local function parse(text, delim)
  local rows, row, i, n = {}, {}, 1, #text
  while i <= n do
    local c = text:sub(i, i)
    if c == '"' then
      local buf, k = {}, i + 1
      while true do
        local q = assert(text:find('"', k, true))
        buf[#buf + 1] = text:sub(k, q - 1)
        if text:sub(q + 1, q + 1) == '"' then buf[#buf + 1] = '"'; k = q + 2 else k = q + 1; break end
      end
      row[#row + 1] = table.concat(buf)
      i = k
    else
      local stop = i
      while stop <= n and not text:sub(stop, stop):match("[\r\n" .. (delim == "|" and "|" or delim) .. "]") do
        stop = stop + 1
      end
      row[#row + 1] = text:sub(i, stop - 1)
      i = stop
    end
    c = text:sub(i, i)
    if c == delim then
      i = i + 1
    else
      if c == "\r" then i = i + 1 end
      if text:sub(i, i) == "\n" then i = i + 1 end
      rows[#rows + 1] = row
      row = {}
    end
  end
  return rows
end

local function csv_field(v)
  v = tostring(v)
  if v:find('[,"\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

local COLS = "Id,GeocodeRequest/Query,GeocodeRequest/Address/Locality,"
  .. "GeocodeRequest/Address/AdminDistrict,ReverseGeocodeRequest/Location/Latitude,"
  .. "ReverseGeocodeRequest/Location/Longitude,GeocodeResponse/Name,GeocodeResponse/Point/Latitude,"
  .. "GeocodeResponse/Point/Longitude,GeocodeResponse/GeocodePoints,StatusCode,FaultReason,TraceId"

-- n entities of every kind: free text, address, reverse, no field, no match.
local function entities(n)
  local queries = {"Space Needle", "Paris", "1 Microsoft Way, Redmond, WA 98052", "Eiffel Tower",
    "München", "Seattle, WA", "Xyzzy Qwertyuiop"}
  local out = {}
  for i = 1, n do
    local kind = i % 5
    local e = {id = (i % 7 == 0) and string.format("%05d", i) or ("e" .. i)}
    if kind == 0 then e.q = queries[math.floor(i / 5) % #queries + 1]
    elseif kind == 1 then e.loc, e.adm = "Redmond", "WA"
    elseif kind == 2 then e.lat, e.lon = 47.64, -122.13
    elseif kind == 3 then e.q = queries[(i % #queries) + 1]
    end -- kind 4: nothing to geocode
    out[i] = e
  end
  return out
end

local function csv_body(ents)
  local lines = {HEADER_LINE, COLS}
  for _, e in ipairs(ents) do
    lines[#lines + 1] = table.concat({csv_field(e.id), csv_field(e.q or ""), e.loc or "", e.adm or "",
      e.lat or "", e.lon or ""}, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

describe("sim SDS geocode dataflow", function()
  before_each(function() sim.reset() end)

  it("accounts for every one of 1,000 entities, succeeded or failed for a real reason", function()
    local ents = entities(1000)
    local status, doc, h = create(csv_body(ents), "csv", {description = "thousand"})
    assert.equal(201, status)
    local job = job_of(doc)
    assert.equal("Pending", job.status)
    assert.equal(1000, job.totalEntityCount)
    assert.equal("thousand", job.description)
    assert.matches("^[0-9a-f]+$", job.id)
    assert.equal(32, #job.id)
    -- the Location header and the self link name the job on the emulator itself
    assert.equal(sim.url .. GEOCODE .. "/" .. job.id, h.location)
    assert.equal(h.location, link(job, "self"))
    job = wait(job.id)
    assert.equal(1000, job.processedEntityCount)
    local st, ok_text = download(link(job, "succeeded"))
    assert.equal(200, st)
    local st2, bad_text = download(link(job, "failed"))
    assert.equal(200, st2)
    local seen, order = {}, {}
    local failed, reasons = 0, {}
    for _, text in ipairs({ok_text, bad_text}) do
      local rows = parse(text, ",")
      assert.equal(HEADER_LINE, rows[1][1] .. "," .. rows[1][2])
      assert.equal(COLS, table.concat(rows[2], ","))
      for r = 3, #rows do
        local row = rows[r]
        local id = row[1]
        assert.is_nil(seen[id], "duplicate " .. id)
        seen[id] = row
        order[#order + 1] = id
        if row[11] ~= "Success" then
          failed = failed + 1
          reasons[row[11] .. ": " .. row[12]] = true
        else
          assert.truthy(tonumber(row[8]))
          assert.truthy(row[10]:match('^%[{"Latitude":"'))
        end
        assert.matches("^%x+$", row[13])
      end
    end
    for _, e in ipairs(ents) do assert.truthy(seen[e.id], "missing " .. e.id) end
    assert.equal(1000, #order)
    assert.equal(job.failedEntityCount, failed)
    -- kind 4 (200 rows) has no field; "Xyzzy Qwertyuiop" matches nothing
    assert.truthy(reasons["BadRequest: To geocode a location, you must specify at least one address field."])
    assert.truthy(reasons["NotFound: No results were found for the location."])
    -- Ids stay strings ("00007"), rows come in another order than sent
    assert.equal("00007", seen["00007"][1])
    local same = 0
    for i = 1, 50 do if order[i] == ents[i].id then same = same + 1 end end
    assert.is_true(same < 10)
    -- the answer for a known place
    assert.equal("Redmond, WA", seen["e1"][7])
  end)

  it("round-trips hostile characters in csv, pipe and tab", function()
    local values = {'Caf\195\169 "Le Bon", Paris', "a|b", "tab\there", "line\nbreak", "#1 München"}
    for _, fmt in ipairs({"csv", "pipe", "tab"}) do
      local d = ({csv = ",", pipe = "|", tab = "\t"})[fmt]
      local lines = {HEADER_LINE, table.concat({"Id", "GeocodeRequest/Query", "StatusCode"}, d)}
      for i, v in ipairs(values) do
        local f = v
        if f:find(d, 1, true) or f:find('["\n]') then f = '"' .. f:gsub('"', '""') .. '"' end
        lines[#lines + 1] = table.concat({"h" .. i, f, ""}, d)
      end
      local status, doc = create(table.concat(lines, "\r\n"), fmt)
      assert.equal(201, status, fmt)
      local job = wait(job_of(doc).id)
      assert.equal(#values, job.totalEntityCount, fmt)
      local got = {}
      for _, name in ipairs({"succeeded", "failed"}) do
        local url = link(job, name)
        if url then
          local _, text = download(url)
          local rows = parse(text, d)
          for r = 3, #rows do got[rows[r][1]] = rows[r][2] end
        end
      end
      for i, v in ipairs(values) do assert.equal(v, got["h" .. i], fmt .. " " .. i) end
    end
  end)

  it("geocodes xml and answers in xml", function()
    local body = [[<?xml version="1.0" encoding="utf-8"?>
<GeocodeFeed xmlns="http://schemas.microsoft.com/search/local/2010/5/geocode" Version="2.0">
  <GeocodeEntity Id="001"><GeocodeRequest Culture="en-US" Query="Space Needle &amp; more" /></GeocodeEntity>
  <GeocodeEntity Id="002"><GeocodeRequest Culture="en-US">
    <Address AddressLine="1 Microsoft Way" AdminDistrict="WA" Locality="Redmond" PostalCode="98052" />
  </GeocodeRequest></GeocodeEntity>
  <GeocodeEntity Id="003"><ReverseGeocodeRequest><Location Latitude="47.673099" Longitude="-122.11871" />
  </ReverseGeocodeRequest></GeocodeEntity>
  <GeocodeEntity Id="004"><ReverseGeocodeRequest><Location Latitude="147" Longitude="0" />
  </ReverseGeocodeRequest></GeocodeEntity>
</GeocodeFeed>]]
    local status, doc = create(body, "xml")
    assert.equal(201, status)
    local job = wait(job_of(doc).id)
    assert.equal(4, job.totalEntityCount)
    assert.equal(2, job.failedEntityCount) -- "&" is no place; 147 is no latitude
    local _, ok = download(link(job, "succeeded"))
    assert.matches('^<%?xml version="1.0" encoding="utf%-8"%?>', ok)
    assert.matches('<GeocodeFeed Version="2.0"', ok)
    assert.matches('<GeocodeEntity Id="002">.-<GeocodeResponse Name="1 Microsoft Way, Redmond, WA 98052"', ok)
    assert.matches('<GeocodeEntity Id="003">.-<StatusCode>Success</StatusCode>', ok)
    local _, bad = download(link(job, "failed"))
    assert.matches('<GeocodeEntity Id="004">.-<StatusCode>BadRequest</StatusCode>', bad)
    assert.matches("Location.Latitude", bad)
    assert.matches('Query="Space Needle &amp; more"', bad)
  end)

  it("takes a gzip-compressed body", function()
    local path = os.tmpname()
    local fh = assert(io.open(path, "wb"))
    fh:write(csv_body(entities(20)))
    fh:close()
    local p = assert(io.popen("gzip -c " .. path, "r"))
    local gz = p:read("a")
    p:close()
    os.remove(path)
    assert.equal("\31\139", gz:sub(1, 2))
    local status, doc = create(gz, "csv", {ctype = "application/octet-stream"})
    assert.equal(201, status)
    assert.equal(20, job_of(doc).totalEntityCount)
  end)

  it("gives no failed link when nothing failed, and 404 for it", function()
    local body = HEADER_LINE .. "\nId,GeocodeRequest/Query\n1,Space Needle\n2,Paris\n"
    local _, doc = create(body, "csv")
    local job = wait(job_of(doc).id)
    assert.equal(0, job.failedEntityCount)
    assert.is_nil(link(job, "failed"))
    assert.truthy(link(job, "succeeded"))
    local st = download(sim.url .. GEOCODE .. "/" .. job.id .. "/output/failed")
    assert.equal(404, st)
  end)

  it("reports a pending job with its progress and no output links", function()
    local _, doc = create(csv_body(entities(10)), "csv", {delay = "30"})
    local job = status_of(job_of(doc).id)
    assert.equal("Pending", job.status)
    assert.is_nil(job.completedDate)
    assert.equal(1, #job.links)
    assert.is_true(job.processedEntityCount <= 10)
    local st = download(sim.url .. GEOCODE .. "/" .. job.id .. "/output/succeeded")
    assert.equal(404, st)
  end)

  it("answers the documented limits", function()
    -- Basic keys: at most 50 entities a job
    local status, doc = create(csv_body(entities(51)), "csv",
      {headers = {["x-bingsim-account"] = "basic"}})
    assert.equal(400, status)
    assert.matches("51 entities", doc.errorDetails[2])
    -- at most 10 jobs in process per key (2 with a Basic account): the next is a 503
    for _ = 1, 10 do assert.equal(201, (create(csv_body(entities(2)), "csv", {delay = "30"}))) end
    status, doc = create(csv_body(entities(2)), "csv", {delay = "30"})
    assert.equal(503, status)
    assert.equal(503, doc.statusCode)
    -- another key has its own count
    assert.equal(201, (create(csv_body(entities(2)), "csv", {delay = "30", key = sim.keys[1]})))
  end)

  it("refuses bad requests with the documented 400", function()
    local body = csv_body(entities(2))
    local status, doc = sim.request("POST", GEOCODE, {query = {key = sim.key},
      headers = {["content-type"] = "text/plain"}, body = body})
    assert.equal(400, status)
    assert.same({"One or more parameters are not valid.", "input: This parameter is missing or invalid."},
      sim.decode(doc).errorDetails)
    assert.equal(400, (create(body, "json")))
    assert.equal(400, (create(body, "csv", {ctype = "application/json"})))
    assert.equal(400, (create("Bing Spatial Data Services, 1.0\nId\n1\n", "csv")))
    assert.equal(400, (create(HEADER_LINE .. "\nId,Nonsense/Column\n1,x\n", "csv")))
    status = sim.request("POST", GEOCODE, {query = {key = sim.key, input = "csv",
      dataLocation = "https://x.blob.core.windows.net/a"}, headers = {["content-type"] = "text/plain"}})
    assert.equal(400, status)
    assert.equal(404, (sim.get(GEOCODE .. "/" .. string.rep("a", 32), {key = sim.key})))
    assert.equal(400, (sim.get(GEOCODE .. "/nothex", {key = sim.key})))
    -- a job is seen only with the key that made it
    local _, d2 = create(body, "csv")
    assert.equal(404, (sim.get(GEOCODE .. "/" .. job_of(d2).id, {key = sim.keys[1]})))
    assert.equal(401, (sim.get(GEOCODE .. "/" .. job_of(d2).id, {key = "nope"})))
  end)

  it("books Dataflow:Create and one Dataflow:BatchGeocode per entity, status and downloads", function()
    local _, doc = create(csv_body(entities(12)), "csv")
    local job = wait(job_of(doc).id)
    download(link(job, "succeeded"))
    download(link(job, "failed"))
    sim.settle()
    local l = sim.ledger().SIM_KEY
    assert.same({billable = 0, non_billable = 1, requests = 1}, l["Dataflow:Create"])
    assert.same({billable = 12, non_billable = 0, requests = 1}, l["Dataflow:BatchGeocode"])
    assert.equal(0, l["Dataflow:Get"].billable)
    assert.same({billable = 0, non_billable = 2, requests = 2}, l["Dataflow:Download"])
  end)

  it("lists the key's jobs, pending first", function()
    local _, a = create(csv_body(entities(2)), "csv")
    wait(job_of(a).id)
    local _, b = create(csv_body(entities(2)), "csv", {delay = "30"})
    local status, doc = sim.get("/REST/v1/Dataflows/ListJobs", {key = sim.key})
    assert.equal(200, status)
    local list = doc.resourceSets[1].resources
    assert.equal(2, #list)
    assert.equal(job_of(b).id, list[1].id)
    assert.equal("Pending", list[1].status)
    assert.equal("Completed", list[2].status)
    assert.equal("Geocode", list[2].description)
    local ref = shape.load("sds/get-job-list.json")
    assert.equal("DataflowJob:http://schemas.microsoft.com/search/local/ws/rest/v1", list[2].__type)
    assert.is_nil(shape.diff(ref.resourceSets[1].resources[3], list[2]))
  end)

  it("answers the reference's sample input in each text format, header as uploaded", function()
    for _, fmt in ipairs({"csv", "tab", "pipe"}) do
      local input = read("geocode-v2.0-sample." .. fmt .. ".input.txt")
      local status, doc = create(input, fmt)
      assert.equal(201, status, fmt)
      local job = wait(job_of(doc).id)
      assert.equal(4, job.totalEntityCount, fmt)
      local _, text = download(link(job, "succeeded"))
      local up_header = input:match("^[^\n]*\n([^\n]*)")
      assert.equal(HEADER_LINE .. "\r\n" .. up_header .. "\r\n", text:sub(1, #HEADER_LINE + #up_header + 4))
      local sample = read("geocode-v2.0-sample." .. fmt .. ".succeeded.txt")
      local d = ({csv = ",", tab = "\t", pipe = "|"})[fmt]
      assert.equal(#parse(sample, d)[2], #parse(text, d)[2])
    end
  end)

  it("has the reference's DataflowJob shape", function()
    local ref = shape.load("sds/dataflow-job.completed.json")
    local _, doc = create(csv_body(entities(12)), "csv", {description = "Xml"})
    wait(job_of(doc).id)
    local status, done = sim.get(GEOCODE .. "/" .. job_of(doc).id, {key = sim.key})
    assert.equal(200, status)
    assert.is_nil(shape.diff(ref, done))
    assert.equal("http://spatial.virtualearth.net/Branding/logo_powered_by.png", done.brandLogoUri)
  end)
end)
