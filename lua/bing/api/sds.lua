--- Spatial Data Services (spatial-data-services/): batch geocoding jobs, the Query API, Geodata
-- boundaries and data source management.
--
--     local job = assert(client.sds.geocode_job{entities = {
--       {GeocodeRequest = {Query = "Denver, CO"}},
--       {Id = "b", ReverseGeocodeRequest = {Location = {Latitude = 47.6, Longitude = -122.3}}}}})
--     local res = assert(job:wait{on_progress = function(st) print(st.processed, st.total) end})
--     for i, e in res:each() do print(i, e.StatusCode, e.GeocodeResponse and e.GeocodeResponse.Name) end
--     -- after a restart: client:job(job.id, "geocode"):wait()
--
-- Requests go to the client's `sds_url` (default https://spatial.virtualearth.net) and, for
-- Geodata, `geodata_url` (default https://platform.bing.com). See the README's section.
-- @module bing.api.sds
local check = require "bing.check"
local errors = require "bing.errors"
local jobs = require "bing.jobs"
local fmt = require "bing.api.sds_format"
local sjobs = require "bing.api.sds_jobs"
local gj = require "bing.geojson"
local endpoint = require "bing.endpoint"

local _M = {}

-- geocode-and-data-source-limits.md: entities per job and uncompressed bytes per upload;
-- jobs in process per account (create-a-geocode-job: "the maximum number of pending geocode
-- dataflow jobs ... is 10"; Basic keys: 2; both "in process until Completed or Aborted").
_M.LIMITS = {
  enterprise = {entities = 200000, bytes = 300 * 1048576, pending = 10},
  basic = {entities = 50, bytes = 300 * 1048576, pending = 2},
}

local function limits(client)
  return _M.LIMITS[(client.account or "enterprise"):lower()] or _M.LIMITS.enterprise
end

-- lua-zlib (Debian's lua-zlib) compresses uploads when it is installed: "Compressed data
-- files are accepted" (the limits page), and the service takes them as
-- application/octet-stream. Without it the data goes uncompressed (libcurl compresses
-- answers, never request bodies).
local zlib_ok, zlib = pcall(require, "zlib")
_M.gzip_available = zlib_ok and type(zlib) == "table" and type(zlib.deflate) == "function"

-- Compresses a list of chunks (gzip); returns the body.
local function gzip_chunks(chunks)
  local stream = zlib.deflate(6, 31)
  local out = {}
  for i, c in ipairs(chunks) do out[#out + 1] = stream(c, i == #chunks and "finish" or nil) end
  if #chunks == 0 then out[1] = stream("", "finish") end
  return table.concat(out)
end

local CONTENT_TYPE = {csv = "text/plain; charset=utf-8", tab = "text/plain; charset=utf-8",
  pipe = "text/plain; charset=utf-8", xml = "application/xml; charset=utf-8"}

-- Results of a geocode job

local Results = {}
Results.__index = Results
_M.Results = Results

--- `for i, entity in res:each() do` in input order.
function Results:each()
  local i = 0
  return function()
    i = i + 1
    local e = self[i]
    if e == nil then return nil end
    return i, e
  end
end

local function point_of(e)
  local r = type(e) == "table" and e.GeocodeResponse
  local p = type(r) == "table" and r.Point
  if type(p) == "table" and type(p.Latitude) == "number" and type(p.Longitude) == "number" then
    return p.Latitude, p.Longitude
  end
  local gp = type(r) == "table" and type(r.GeocodePoints) == "table" and r.GeocodePoints[1]
  if type(gp) == "table" and type(gp.Latitude) == "number" and type(gp.Longitude) == "number" then
    return gp.Latitude, gp.Longitude
  end
  return nil
end

--- A GeoJSON FeatureCollection (a Lua table; bing.geojson.encode it) of the entities geocoded to a
-- point, in input order, lon/lat; `{failed = true}` adds the failures with a null geometry.
function Results:geojson(opts)
  opts = opts or {}
  local features = {}
  for _, e in self:each() do
    local lat, lon = point_of(e)
    if lat or opts.failed then
      local r = type(e.GeocodeResponse) == "table" and e.GeocodeResponse or {}
      local props = {Id = e.Id, StatusCode = e.StatusCode, FaultReason = e.FaultReason,
        Name = r.Name, EntityType = r.EntityType, Confidence = r.Confidence,
        MatchCodes = r.MatchCodes, Address = r.Address}
      features[#features + 1] = gj.feature(gj.point(lat, lon), props)
    end
  end
  return gj.collection(features)
end

local function is_success(e)
  return type(e.StatusCode) == "string" and e.StatusCode:lower() == "success"
end

local function numeric_ids(ids)
  for _, id in ipairs(ids) do if not tostring(id):match("^%-?%d+$") then return false end end
  return true
end

--- Matches the rows of the results files to the input Ids: each input entity exactly once
-- (a row the service did not return is a failure with StatusCode "Missing"; a second row
-- with the same Id is dropped and counted in `res.duplicates`; rows with an Id not in the
-- input are in `res.unknown`). Without the input's Ids (a resumed job), the rows in Id order.
local function match(rows, ids)
  local by_id, dup, order = {}, 0, {}
  for _, e in ipairs(rows) do
    local id = e.Id ~= nil and tostring(e.Id) or ""
    e.Id = id
    if by_id[id] then dup = dup + 1 else by_id[id] = e; order[#order + 1] = id end
  end
  if not ids then
    ids = order
    if numeric_ids(ids) then
      table.sort(ids, function(a, b) return tonumber(a) < tonumber(b) end)
    else
      table.sort(ids)
    end
  end
  local res = setmetatable({succeeded = {}, failed = {}, duplicates = dup, unknown = {}}, Results)
  -- A service that writes an Id unquoted loses its blanks at either end: an input Id not
  -- found as it was sent is looked up trimmed (and the entity keeps the input's Id).
  local trimmed = {}
  for _, id in ipairs(order) do
    local t = id:match("^%s*(.-)%s*$")
    if trimmed[t] == nil then trimmed[t] = id else trimmed[t] = false end
  end
  local wanted = {}
  for i, id in ipairs(ids) do
    local e = by_id[id]
    if not e then
      local alt = trimmed[id:match("^%s*(.-)%s*$")]
      if alt and not by_id[alt].matched then e = by_id[alt]; wanted[alt] = true; e.Id = id end
    end
    wanted[id] = true
    if e then e.matched = true end
    e = e or {Id = id, StatusCode = "Missing",
      FaultReason = "the job's results have no row with this Id"}
    res[i] = e
    local list = is_success(e) and res.succeeded or res.failed
    list[#list + 1] = e
  end
  for _, id in ipairs(order) do
    if not wanted[id] then res.unknown[#res.unknown + 1] = by_id[id] end
    by_id[id].matched = nil
  end
  return res
end

-- What a job of ours remembers of its input (weak: a job object that is dropped forgets).
local input_of = setmetatable({}, {__mode = "k"})

-- The format of a results file (a resumed job's): xml, or the delimiter of its header line
-- (the first line says "Bing Spatial Data Services, 2.0" with a comma in every format).
local function detect_format(text)
  local head = text:sub(1, 4096):gsub("^\239\187\191", "")
  if head:find("^%s*<") then return "xml" end
  local header = head:match("^[^\n]*\n([^\r\n]*)") or ""
  local best, most = "csv", 0
  for name, d in pairs{csv = ",", tab = "\t", pipe = "|"} do
    local _, n = header:gsub(d == "|" and "%|" or d, "")
    if n > most then best, most = name, n end
  end
  return best
end
_M._detect_format = detect_format

-- Job:result() of a geocode job: both output files, parsed and matched to the input.
local function geocode_result(_, meta, job)
  local st = job.status
  local mine = input_of[job]
  local rows = {}
  local used_format
  for _, name in ipairs{"succeeded", "failed"} do
    local url = st.links[name]
    if url then
      local text, err = sjobs.download(job, url, "Dataflow:Download")
      if not text then return nil, err end
      used_format = mine and mine.format or detect_format(text)
      local list, perr = fmt.parse_results(text, used_format)
      if not list then return nil, perr end
      for _, e in ipairs(list) do rows[#rows + 1] = e end
    end
  end
  local res = match(rows, mine and mine.ids)
  -- meta: the last status check's, with `billing` = every request this job object made
  -- (its creation when it made it, the status checks, the downloads).
  local m = {}
  for k, v in pairs(meta or {}) do m[k] = v end
  m.billing = jobs.billing_of(job)
  res.job_id, res.format, res.meta = job.id, used_format, m
  res.counts = {processed = st.processed, failed = st.failed_count, total = st.total}
  return res
end

sjobs.kind("geocode", {name = "geocode", aliases = {"Geocode", "dataflow-geocode"},
  status = function(id) return "/REST/v1/Dataflows/Geocode", {id} end, decode = geocode_result})

-- geocode_job

local GEOCODE_OPTIONS = {entities = "table", file = "string", format = "string",
  description = "string", split = "boolean", gzip = "boolean", check_pending = "boolean",
  dry_run = "boolean", timeout = "number"}

-- Jobs of this key in process now (ListJobs; Dataflow:Get, not billable).
local function pending_jobs(client)
  local list, err = endpoint.run(client, _M.list_jobs, {})
  if not list then return nil, err end
  local n = 0
  for _, j in ipairs(list) do
    local s = type(j.status) == "string" and j.status or ""
    if s ~= "Completed" and s ~= "Aborted" then n = n + 1 end
  end
  return n
end

-- Counts the entities of a data file while reading it in blocks (records outside quotes for
-- the text formats, GeocodeEntity elements for xml), and checks its first line. Calls
-- `each(block)` for every block read. Returns entities, bytes or nil, err.
local function scan_file(what, path, ftype, each)
  local f, oerr = io.open(path, "rb")
  if not f then return nil, errors.argument(what .. ": cannot open file: " .. tostring(oerr)) end
  local bytes, lines, in_quote, first, n_xml, tail, last_nl = 0, 0, false, nil, 0, "", false
  while true do
    local block = f:read(65536)
    if not block then break end
    bytes = bytes + #block
    if not first then first = block:match("^[^\r\n]*") end
    if ftype == "xml" then
      local s = tail .. block
      for _ in s:gmatch("<GeocodeEntity[%s>/]") do n_xml = n_xml + 1 end
      -- keep a tail so a tag split across blocks is counted once, in the next block
      local cut = math.max(0, #s - 15)
      local t2 = s:sub(cut + 1)
      if t2:find("<GeocodeEntity[%s>/]") then t2 = t2:sub(t2:find("<GeocodeEntity[%s>/]") + 1) end
      tail = t2
    else
      for i = 1, #block do
        local c = block:byte(i)
        if c == 34 then in_quote = not in_quote
        elseif c == 10 and not in_quote then lines = lines + 1 end
      end
    end
    if each then each(block) end
    last_nl = block:sub(-1) == "\n"
  end
  f:close()
  if bytes == 0 then return nil, errors.argument(what .. ": the file is empty") end
  if ftype ~= "xml" then
    if not (first or ""):gsub("^\239\187\191", ""):find("^%s*Bing Spatial Data Services[%s,\t|]+2%.0") then
      return nil, errors.argument(what .. ": the file's first line must be \"" .. fmt.VERSION_LINE .. "\"")
    end
    -- a last line without a line break counts too
    return math.max(0, lines - 2 + (last_nl and 0 or 1)), bytes
  end
  return n_xml, bytes
end

-- The request spec that creates one geocode job from a body.
local function create_spec(args, ftype, body, n, gz)
  return {api = "sds", path = "/REST/v1/Dataflows/Geocode", method = "POST",
    params = {{"input", ftype}, {"description", args.description}},
    headers = {["Content-Type"] = gz and "application/octet-stream" or CONTENT_TYPE[ftype]},
    body = body, answer = "dataflow", timeout = args.timeout, dry_run = args.dry_run,
    billing = {category = "Dataflow:BatchGeocode", units = n, also = "Dataflow:Create"}}
end

local function start_job(client, spec, input)
  if spec.dry_run then return client:call(spec) end
  local job, err = jobs.start(client, "geocode", spec)
  if not job then return nil, err end
  input_of[job] = input
  return job
end

-- Merges the results of the jobs of a split list: in input order, as one Results.
local function merge_results(results, group)
  local out = setmetatable({succeeded = {}, failed = {}, duplicates = 0, unknown = {},
                            job_ids = group.ids}, Results)
  for _, r in ipairs(results) do
    for _, e in r:each() do
      out[#out + 1] = e
      local list = is_success(e) and out.succeeded or out.failed
      list[#list + 1] = e
    end
    out.duplicates = out.duplicates + r.duplicates
    for _, u in ipairs(r.unknown) do out.unknown[#out.unknown + 1] = u end
    out.format = r.format
  end
  return out
end

--- Creates a geocode job (several when `entities` passes the per-job limit, unless
-- `split = false`). Returns the Job (or a group of jobs with the same methods), or nil, err.
function _M.geocode_job(client, args)
  local what = "sds.geocode_job"
  if type(args) ~= "table" then check.raise(what, "argument must be a table") end
  for k, v in pairs(args) do
    local want = GEOCODE_OPTIONS[k]
    if not want then check.raise(what, "unknown option '%s'", tostring(k)) end
    if type(v) ~= want then check.raise(what, "%s must be a %s, got %s", k, want, type(v)) end
  end
  if (args.entities == nil) == (args.file == nil) then
    check.raise(what, "give entities or file (one of them)")
  end
  local ftype = (args.format or "csv"):lower()
  if not fmt.FORMATS[ftype] then
    return check.bad(what, "format must be csv, tab, pipe or xml, got '%s'", args.format)
  end
  local gz = args.gzip ~= false and _M.gzip_available
  if args.gzip == true and not _M.gzip_available then
    return check.bad(what, "gzip = true needs lua-zlib (the Debian package lua-zlib)")
  end
  local lim = limits(client)

  local function pending_ok(n_jobs)
    if args.check_pending == false or args.dry_run then return true end
    local busy, err = pending_jobs(client)
    if not busy then return nil, err end
    if busy + n_jobs > lim.pending then
      return check.bad(what, "%d job(s) of this account are in process and the service takes "
        .. "%d at a time: %d more would pass it (wait for one to complete, or give "
        .. "check_pending = false)", busy, lim.pending, n_jobs)
    end
    return true
  end

  if args.file then
    local n, bytes = scan_file(what, args.file, ftype)
    if not n then return nil, bytes end
    if n == 0 then return check.bad(what, "the file holds no entity") end
    if n > lim.entities then
      return check.bad(what, "the file holds %d entities; a job takes at most %d (split the file)",
        n, lim.entities)
    end
    if bytes > lim.bytes then
      return check.bad(what, "the file has %d bytes; a job takes at most %d uncompressed", bytes, lim.bytes)
    end
    local ok, perr = pending_ok(1)
    if not ok then return nil, perr end
    -- Read in blocks and compressed block by block: the file is never held whole, only its
    -- compressed form (the transports send a body string).
    local body
    if gz then
      local stream, parts = zlib.deflate(6, 31), {}
      scan_file(what, args.file, ftype, function(block) parts[#parts + 1] = stream(block) end)
      parts[#parts + 1] = stream("", "finish")
      body = table.concat(parts)
    else
      local f = assert(io.open(args.file, "rb"))
      body = f:read("a")
      f:close()
    end
    return start_job(client, create_spec(args, ftype, body, n, gz), {format = ftype})
  end

  local list = args.entities
  if #list == 0 then return check.bad(what, "entities is empty") end
  local flat, ids = fmt.prepare(what, list, ftype == "xml")
  if not flat then return nil, ids end
  local per = lim.entities
  if #flat > per and args.split == false then
    return check.bad(what, "%d entities; a job takes at most %d (split = false)", #flat, per)
  end
  -- The parts: at most `per` entities and `bytes` each.
  local parts = {}
  local i = 1
  while i <= #flat do
    local j = math.min(#flat, i + per - 1)
    local sub, sub_ids = {}, {}
    for k = i, j do sub[#sub + 1] = flat[k]; sub_ids[#sub_ids + 1] = ids[k] end
    local chunks = fmt.serialize(sub, ftype)
    local size = 0
    for _, c in ipairs(chunks) do size = size + #c end
    if size > lim.bytes then
      if args.split == false or #sub == 1 then
        return check.bad(what, "the data is %d bytes; a job takes at most %d uncompressed", size, lim.bytes)
      end
      per = math.max(1, math.floor(#sub / 2))
    else
      parts[#parts + 1] = {chunks = chunks, ids = sub_ids, n = #sub}
      i = j + 1
    end
  end
  local ok, perr = pending_ok(#parts)
  if not ok then return nil, perr end
  local specs = {}
  for k, p in ipairs(parts) do
    local body = gz and gzip_chunks(p.chunks) or table.concat(p.chunks)
    specs[k] = create_spec(args, ftype, body, p.n, gz)
  end
  if args.dry_run then
    if #specs == 1 then return client:call(specs[1]) end
    return client:call_all(specs, true)
  end
  if #specs == 1 then return start_job(client, specs[1], {format = ftype, ids = parts[1].ids}) end
  -- Several jobs: the whole cost is checked against the budget before the first is sent.
  local plan, berr = client:preflight(specs)
  if not plan then return nil, berr end
  local started = {}
  for k, s in ipairs(specs) do
    local job, err = start_job(client, s, {format = ftype, ids = parts[k].ids})
    if not job then
      err.part, err.jobs = k, started
      return nil, err
    end
    started[k] = job
  end
  return sjobs.group(started, merge_results)
end

--- The account's jobs of the last 15 days (get-job-list.md), pending first: a list of the
-- DataflowJob resources as the service sent them (`id`, `status`, `description`, counts).
-- @usage for _, j in ipairs(assert(client.sds.list_jobs())) do print(j.id, j.status) end
_M.list_jobs = {api = "sds", path = "/REST/v1/Dataflows/ListJobs", no_args = true,
  billing = "Dataflow:Get", answer = "rest",
  result = function(doc, meta)
    local sets = type(doc.resourceSets) == "table" and doc.resourceSets
    local res = sets and type(sets[1]) == "table" and sets[1].resources
    local list = {}
    for _, r in ipairs(type(res) == "table" and res or {}) do
      if type(r) == "table" then
        for _, l in ipairs(type(r.links) == "table" and r.links or {}) do
          if type(l) == "table" then l.url = jobs.redact_url(l.url) end
        end
        list[#list + 1] = r
      end
    end
    list.meta = meta
    return list
  end}

-- Functions of the module itself, not bound to a client (`bing.sds.parse_results(text,
-- "csv")`, `client.sds.parse_results` too).
_M._static = {parse_results = fmt.parse_results, serialize = function(entities, f)
  local flat, err = fmt.prepare("sds.serialize", entities, f == "xml")
  if not flat then return nil, err end
  return table.concat(fmt.serialize(flat, f or "csv"))
end}

local query = require "bing.api.sds_query"
_M.query, _M.boundary = query.query, query.boundary
_M._static.filter = query.filter_text
_M._static.datetime = query.datetime
_M._static.null = query.null
-- The public sample data source of the reference (fourthcoffeesample.md).
_M._static.FOURTH_COFFEE = "20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample/FourthCoffeeShops"
local ds = require "bing.api.sds_datasource"
for _, name in ipairs(ds.EXPORTS) do _M[name] = ds[name] end

-- The single requests and the Query API (its paging declared) are declarations; the
-- uploads (geocode_job, load: a generated or streamed body, gzip, a list split into a group
-- of jobs) and download (a job id that names the data source) stay functions of the family,
-- bound as they are (endpoint.bind), each request through client:call.
return endpoint.family("sds", _M)
