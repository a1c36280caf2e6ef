--- Data source management (data-source-management-api/): load (complete or incremental,
-- published or staged), publish a staged version, roll back, information, metadata, public or
-- private, download, delete. Load, download and rollback are dataflow jobs (bing.jobs kinds
-- "load", "download", "rollback"; publishing is kind "publish"), waited for like any job.
--
--     local job = assert(client.sds.load{name = "Shops", entity_type = "Shop", entities = {
--       {EntityID = "1", Name = "A", Latitude = 47.6, Longitude = -122.3}}})
--     local done = assert(job:wait())          -- done.status == "Completed"
--     local src = assert(client.sds.info{source = done.access_id .. "/Shops"})
-- @module bing.api.sds_datasource
local check = require "bing.check"
local errors = require "bing.errors"
local jobs = require "bing.jobs"
local fmt = require "bing.api.sds_format"
local sjobs = require "bing.api.sds_jobs"

local _M = {}
_M.EXPORTS = {"load", "publish", "rollback", "info", "datasources", "metadata", "set_public",
  "download", "delete"}

local format, concat = string.format, table.concat

-- geocode-and-data-source-limits.md: entities of a data source.
_M.MAX_ENTITIES = {enterprise = 200000, basic = 2500}

-- "<accessId>/<dataSourceName>" or {access_id =, name =}.
local function source_of(what, s)
  local a, n
  if type(s) == "string" then
    a, n = s:match("^([^/]+)/([^/]+)$")
    if not a then check.raise(what, "source must be \"<accessId>/<dataSourceName>\"") end
  elseif type(s) == "table" then
    a, n = s.access_id, s.name
  else
    check.raise(what, "source must be \"<accessId>/<dataSourceName>\" or {access_id =, name =}")
  end
  for label, v in pairs{access_id = a, name = n} do
    if type(v) ~= "string" or v == "" or v:find("[/%c]") then
      check.raise(what, "source: %s must be a non-empty string without /", label)
    end
  end
  return a, n
end

-- A job's answer when it is done: the job resource as a table with its counts and links.
local function job_result(_, meta, job)
  local st = job.status
  local out = {id = job.id, status = st.status, processed = st.processed, failed = st.failed_count,
    total = st.total, resource = st.resource, meta = meta, links = {}}
  for k, url in pairs(st.links) do out.links[k] = jobs.redact_url(url) end
  local ds = st.links.service
  if ds then out.access_id, out.name = ds:match("/REST/v1/data/([^/?]+)/([^/?]+)") end
  return out
end

sjobs.kind("load", {name = "data source load", aliases = {"LoadDataSource"},
  status = function(id) return "/REST/v1/Dataflows/LoadDataSource", {id} end, decode = job_result})
sjobs.kind("rollback", {name = "data source rollback", aliases = {"DataSourceRollback"},
  status = function(id) return "/REST/v1/Dataflows/DataSourceRollback", {id} end, decode = job_result})
jobs.register("publish", {name = "data source publish", aliases = {"DataSourcePublishFromStaged"},
  parse = sjobs.parse, decode = job_result, status_spec = function(id)
    return {api = "sds", path = "/REST/v1/data/jobs", segments = {id, "$getstatus"},
            billing = "Dataflow:Get", method = "GET", answer = "dataflow"}
  end})

-- A download job's id for resuming is "<accessId>/<dataSourceName>/<jobId>": its status URL
-- names all three (get-download-data-source-job-status.md).
local function download_result(_, meta, job)
  local st = job.status
  local url = st.links.succeeded
  if not url then
    return nil, errors.new("job", "download job " .. tostring(job.id) .. " has no output link",
      {code = "JobNoResult"})
  end
  local text, err = sjobs.download(job, url, "RESTSpatialDataService:DownloadDatasource")
  if not text then return nil, err end
  return {data = text, id = job.id, meta = meta}
end
sjobs.kind("download", {name = "data source download", aliases = {"DataSourceDownload"},
  status = function(id)
    local a, n, j = tostring(id):match("^([^/]+)/([^/]+)/([^/]+)$")
    if not a then errors.raise("download job id must be \"<accessId>/<dataSourceName>/<jobId>\"", 4) end
    return "/REST/v1/Dataflows/DataSourceDownload", {a, n, j}
  end, decode = download_result})

-- load

local EDM = {["edm.string"] = "Edm.String", ["edm.int64"] = "Edm.Int64",
  ["edm.double"] = "Edm.Double", ["edm.boolean"] = "Edm.Boolean",
  ["edm.datetime"] = "Edm.DateTime", ["edm.geography"] = "Edm.Geography"}

local function infer(entities, key)
  local seen, props = {}, {}
  for _, e in ipairs(entities) do
    for k, v in pairs(e) do
      if type(k) == "string" and not seen[k] then
        seen[k] = true
        local t = type(v) == "boolean" and "Edm.Boolean"
          or type(v) == "number" and ((k == "Latitude" or k == "Longitude" or v ~= math.floor(v))
            and "Edm.Double" or "Edm.Int64")
          or "Edm.String"
        props[#props + 1] = {k, t}
      end
    end
  end
  table.sort(props, function(a, b)
    if a[1] == key then return true end
    if b[1] == key then return false end
    return a[1] < b[1]
  end)
  return props
end

local function value_text(v, ty)
  if v == nil then return "" end
  if type(v) == "boolean" then return v and "1" or "0" end
  if type(v) == "number" then
    if ty == "Edm.Int64" or (v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53) then
      return format("%d", v)
    end
    return format("%.14g", v)
  end
  return tostring(v)
end

-- Data schema 1.0 as text: "Bing Spatial Data Services, 1.0, <EntityType>", the property
-- definitions "Name(Edm.Type[,primaryKey])", then the entities.
local function serialize(what, args, ftype)
  local d = fmt.DELIMITERS[ftype]
  local et = args.entity_type
  if type(et) ~= "string" or not et:find("^[%a_][%w_]*$") then
    check.raise(what, "entity_type must be a name (letters, digits, _)")
  end
  local key = args.key or "EntityID"
  local props = args.properties or infer(args.entities, key)
  local defs, has_key = {}, false
  for i, p in ipairs(props) do
    if type(p) ~= "table" or type(p[1]) ~= "string" or not p[1]:find("^[%a_][%w_]*$") then
      check.raise(what, "properties[%d] must be {name, \"Edm.Type\"}", i)
    end
    local ty = EDM[tostring(p[2]):lower()]
    if not ty then check.raise(what, "properties[%d]: type '%s' is not an Edm type", i, tostring(p[2])) end
    p[2] = ty
    if p[1] == key then has_key = true end
    defs[i] = format("%s(%s%s)", p[1], ty, p[1] == key and ",primaryKey" or "")
  end
  if not has_key then check.raise(what, "no property is the primary key '%s' (give key =)", key) end
  local out = {"Bing Spatial Data Services, 1.0, " .. et .. "\r\n", concat(defs, d) .. "\r\n"}
  for i, e in ipairs(args.entities) do
    if type(e) ~= "table" then check.raise(what, "entities[%d] must be a table", i) end
    local row = {}
    for j, p in ipairs(props) do
      local s = value_text(e[p[1]], p[2])
      if s:find("[%z\1-\8\11\12\14-\31]") then
        check.raise(what, "entities[%d].%s holds a control character", i, p[1])
      end
      row[j] = fmt.field(s, d)
    end
    out[#out + 1] = concat(row, d) .. "\r\n"
  end
  return out
end

-- A data source's name: at most 50 letters, digits and ~`!$^_={}
local function ds_name(what, name, v)
  check.typed(what, name, v, "string")
  if #v > 50 or not v:find("^[%w~`!%$%^_={}]+$") then
    return check.bad(what, "name: at most 50 letters, digits and ~`!$^_={} (got '%s')", v)
  end
  return v
end

-- "complete" (default) or "incremental"
local function operation(what, _, v)
  if v ~= "complete" and v ~= "incremental" then
    return check.bad(what, "operation must be \"complete\" or \"incremental\", got '%s'", tostring(v))
  end
  return v
end

local function typed(t)
  return function(what, name, v) return check.typed(what, name, v, t) end
end
local function complete() return "complete" end

--- Creates a load job (load-data-source-dataflow): `operation` "complete" (default) or
-- "incremental", `staging = true` for a staged version (publish it with `publish`). Returns
-- the Job (kind "load"), or nil, err.
-- @usage local job = assert(client.sds.load{name = "LuaShops", entity_type = "Shop",
--   entities = {{EntityID = "1", Name = "A", Latitude = 47.6, Longitude = -122.3}}})
-- local res = assert(job:wait())   -- res.access_id, res.name
_M.load = {api = "sds", path = "/REST/v1/Dataflows/LoadDataSource", billing = "Dataflow:Create",
  answer = "dataflow", async = {kind = "load", always = true},
  params = {{"name", ds_name, required = true, bing = "dataSourceName"},
    {"operation", operation, default = complete, bing = "loadOperation"},
    {"format", nil, bing = "input"},
    {"public", function(what, name, v) return check.typed(what, name, v, "boolean") and 1 or 0 end,
     bing = "setPublic"},
    {"query_key", typed("string"), bing = "queryKey"}, {"access_id", nil, bing = "accessId"},
    {"description", nil}, {"staging", typed("boolean"), send = false},
    {"entities", nil, send = false}, {"file", nil, send = false}, {"entity_type", nil, send = false},
    {"properties", nil, send = false}, {"key", nil, send = false}},
  before = function(call)
    local a = call.args
    if (a.entities == nil) == (a.file == nil) then check.raise(call.what, "give entities or file") end
  end,
  rules = function(call)
    local what, args, v = call.what, call.args, call.values
    local ftype = (args.format or "csv"):lower()
    if not (fmt.DELIMITERS[ftype] or (ftype == "xml" and args.file)) then
      return check.bad(what, "format must be csv, tab or pipe (xml: from a file)")
    end
    if args.staging and args.public ~= nil then
      return check.bad(what, "public cannot be set on a staged load (publish it first)")
    end
    v.format = ftype
    if args.staging then v.operation = v.operation .. "Staging" end
  end,
  -- The data: the entities serialized as data schema 1.0, or the file as it is.
  body = function(call)
    local what, args, ftype = call.what, call.args, call.values.format
    local ctype = ftype == "xml" and "application/xml" or "text/plain; charset=utf-8"
    if args.entities then
      check.list(what, "entities", args.entities)
      local client = call.client
      local max = _M.MAX_ENTITIES[(client.account or "enterprise"):lower()] or _M.MAX_ENTITIES.enterprise
      if #args.entities == 0 then return check.bad(what, "entities is empty") end
      if #args.entities > max then
        return check.bad(what, "%d entities; a data source holds at most %d", #args.entities, max)
      end
      return concat(serialize(what, args, ftype)), ctype
    end
    check.typed(what, "file", args.file, "string")
    local f, err = io.open(args.file, "rb")
    if not f then return nil, errors.argument(what .. ": cannot open file: " .. tostring(err)) end
    local body = f:read("a")
    f:close()
    return body, ctype
  end}

-- The other calls: declarations (bing.endpoint), on the client's sds_url.

-- "<accessId>/<dataSourceName>" or {access_id =, name =} (the path's two segments)
local function source(what, _, s) return {source_of(what, s)} end
-- A string
local function str(what, name, v) return check.typed(what, name, v, "string") end
-- true: every version of the data source
local function versions(what, name, v) return check.boolean(what, name, v) and "true" or nil end
-- true (public) or false (private), sent as 1 or 0
local function public(what, name, v) return check.typed(what, name, v, "boolean") and 1 or 0 end
local FORMAT_JSON = {{"$format", "json"}}

-- The decoded `d` of an OData answer, or nil, err.
local function odata_d(doc)
  local d = type(doc) == "table" and doc.d
  if d == nil then return nil, errors.new("decode", "the answer has no \"d\"") end
  return d
end

--- Publishes the staged version of a data source ($commit). Returns the Job (kind "publish").
-- @usage assert(client.sds.publish{source = "<accessId>/LuaShops"}):wait()
_M.publish = {api = "sds", path = "/REST/v1/data", tail = {"$commit"}, billing = "Dataflow:Create",
  answer = "dataflow", params = {{"source", source, required = true, segment = true}},
  async = {kind = "publish", always = true}}

--- Rolls a data source back to the version that the load job `job_id` made. Returns the Job
-- (kind "rollback").
-- @usage assert(client.sds.rollback{job_id = load_job.id, name = "LuaShops"}):wait()
_M.rollback = {api = "sds", path = "/REST/v1/Dataflows/DataSourceRollback",
  billing = "Dataflow:Create", answer = "dataflow",
  params = {{"job_id", str, required = true, segment = true},
            {"name", str, required = true, segment = true}},
  async = {kind = "rollback", always = true}}

--- Information about one data source (get-data-source-information.md): its fields as the
-- service sends them; `all_versions = true` lists its versions.
-- @usage local info = assert(client.sds.info{source = "<accessId>/LuaShops", all_versions = true})
_M.info = {api = "sds", path = "/REST/v1/data", billing = "RESTSpatialDataService:GetDataSource",
  answer = "odata", fixed = FORMAT_JSON,
  params = {{"source", source, required = true, segment = true},
            {"all_versions", versions, bing = "showAllVersions"}},
  result = function(doc, meta)
    local d, err = odata_d(doc)
    if not d then return nil, err end
    local r = type(d.results) == "table" and d.results[1] or d
    if type(r) == "table" then r.meta = meta end
    return r
  end}

--- The account's data sources (a list of their information tables).
-- @usage for _, ds in ipairs(assert(client.sds.datasources())) do print(ds.name) end
_M.datasources = {api = "sds", path = "/REST/v1/data", no_args = true, fixed = FORMAT_JSON,
  billing = "RESTSpatialDataService:ListDataSources", answer = "odata",
  result = function(doc, meta)
    local d, err = odata_d(doc)
    if not d then return nil, err end
    -- get-data-source-information.md: {"d": {"Copyright", "DataSources": [...]}}.
    local src = type(d.DataSources) == "table" and d.DataSources
      or type(d.results) == "table" and d.results or {}
    local list = {copyright = d.Copyright}
    for i, r in ipairs(src) do list[i] = r end
    list.meta = meta
    return list
  end}

--- The CSDL metadata (XML text) of one data source, or of all the account's (no source).
-- @usage local csdl = assert(client.sds.metadata{source = "<accessId>/LuaShops"})
_M.metadata = {api = "sds", path = "/REST/v1/data", tail = {"$metadata"}, no_args = true,
  billing = "RESTSpatialDataService:GetAllMetadata", raw = true, answer = "text",
  params = {{"source", source, segment = true}},
  rules = function(call)
    if call.values.source then call.billing = "RESTSpatialDataService:GetDataSourceMetadata" end
  end,
  result = function(text, meta)
    return type(text) == "table" and (text.text or text.body) or text, meta
  end}

--- Makes a data source public (`public = true`) or private (make-public-data-source.md).
-- Returns the DataServiceJob resource (status "Created").
-- @usage assert(client.sds.set_public{source = "<accessId>/LuaShops", public = true})
_M.set_public = {api = "sds", path = "/REST/v1/data", tail = {"$updateDataSource"},
  billing = "RESTSpatialDataService:SetDataSourcePublicOrPrivate", answer = "dataflow",
  params = {{"source", source, required = true, segment = true},
            {"public", public, required = true, bing = "setPublic"}},
  result = function(doc, meta)
    local r = jobs.first_resource(doc) or {}
    r.meta = meta
    return r
  end}

--- Creates a download job of a data source (optionally of the version of load job
-- `job_id`). Returns the Job (kind "download"; its result is `{data = <text>}`, which
-- `load{file =}` takes back).
-- @usage local data = assert(assert(client.sds.download{source = "<accessId>/LuaShops"}):wait()).data
function _M.download(client, args)
  local what = "sds.download"
  if type(args) ~= "table" then check.raise(what, "argument must be a table") end
  check.known(what, args, {source = true, job_id = true, dry_run = true, timeout = true})
  local a, n = source_of(what, args.source)
  check.typed(what, "job_id", args.job_id, "string")
  local spec = {api = "sds", path = "/REST/v1/Dataflows/DataSourceDownload", segments = {a, n},
    params = {{"jobId", args.job_id}}, method = "GET",
    billing = "RESTSpatialDataService:DownloadDatasource", answer = "dataflow",
    timeout = args.timeout, dry_run = args.dry_run, idempotent = false}
  if args.dry_run then return client:call(spec) end
  local job, err = jobs.start(client, "download", spec)
  if not job then return nil, err end
  job.id = a .. "/" .. n .. "/" .. job.id
  return job
end

--- Deletes a data source. Returns true, meta or nil, err.
-- @usage assert(client.sds.delete{source = "<accessId>/LuaShops"})
_M.delete = {api = "sds", path = "/REST/v1/data", method = "DELETE",
  billing = "RESTSpatialDataService:DeleteDataSource", raw = true, answer = "text",
  params = {{"source", source, required = true, segment = true}},
  result = function(_, meta) return true, meta end}

return _M
