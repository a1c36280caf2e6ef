-- Data source dataflows (data-source-management-api/): load (create, stage, incremental
-- update), download, rollback; and the publishing of a staged version.
--
--   POST /REST/v1/Dataflows/LoadDataSource?dataSourceName=&loadOperation=complete|incremental|
--        completeStaging|incrementalStaging&input=csv|tab|pipe|xml[&setPublic=1][&queryKey=]
--        [&accessId=]                                          201, a DataflowJob
--   GET  /REST/v1/Dataflows/LoadDataSource/{jobId}             status; Completed adds the
--        {"name": "service", "role": "datasource"} link to the data source
--   GET  /REST/v1/Dataflows/DataSourceDownload/{accessId}/{dataSourceName}[?jobId=]   201 job
--   GET  /REST/v1/Dataflows/DataSourceDownload/{accessId}/{dataSourceName}/{jobId}   status
--   GET  .../DataSourceDownload/{accessId}/{dataSourceName}/{jobId}/output/succeeded  the data
--   GET  /REST/v1/Dataflows/DataSourceRollback/{previousVersionJobId}/{dataSourceName} 201 job
--   GET  /REST/v1/Dataflows/DataSourceRollback/{rollbackJobId}  status
--
-- A load job's data is applied when the job completes (its delay, X-Bingsim-Job-Delay): a
-- source keeps a list of pending changes that are applied on the first access after their
-- time. The published version and up to two previous ones are kept (showAllVersions,
-- rollback); a staged version is separate until $commit publishes it.
local envelope = require "bingsim.envelope"
local json = require "bingsim.json"
local jobs = require "bingsim.jobs"
local C = require "bingsim.sds_common"
local sources = require "bingsim.sds_sources"

local _M = {_VERSION = "0.1.0"}

local format, concat = string.format, table.concat

-- geocode-and-data-source-limits.md
_M.LIMITS = {enterprise = {sources = 25, entities = 200000}, basic = {sources = 5, entities = 2500}}

local function sds() return require "bingsim.sds" end

local TYPES = {["edm.string"] = "Edm.String", ["edm.int64"] = "Edm.Int64",
  ["edm.boolean"] = "Edm.Boolean", ["edm.double"] = "Edm.Double",
  ["edm.datetime"] = "Edm.DateTime", ["edm.geography"] = "Edm.Geography"}
local XS_TYPES = {string = "Edm.String", long = "Edm.Int64", boolean = "Edm.Boolean",
  double = "Edm.Double", dateTime = "Edm.DateTime", anyType = "Edm.Geography"}

local function convert(v, ty)
  if v == nil or v == "" then return nil end
  if ty == "Edm.Double" or ty == "Edm.Int64" then return tonumber(v) end
  if ty == "Edm.Boolean" then
    local l = tostring(v):lower()
    if l == "1" or l == "true" then return true end
    if l == "0" or l == "false" then return false end
    return nil
  end
  if ty == "Edm.DateTime" then return (tostring(v):gsub("%.%d+", ""):gsub("Z$", "")) end
  return v
end

-- Text schema (load-data-source-data-schema-and-sample-input.md):
--   Bing Spatial Data Services, 1.0, EntityTypeName
--   Name(Edm.String,primaryKey),Latitude(Edm.Double),...
local function parse_text(body, delim)
  body = body:gsub("^\239\187\191", "")
  -- The version line is comma-separated in every format (the reference's tab and pipe
  -- samples too).
  local nl = body:find("\n", 1, true)
  local first = C.parse_delimited(nl and body:sub(1, nl - 1) or body, ",")[1] or {}
  if not (first[1] or ""):match("^Bing Spatial Data Services") then
    return nil, "The first line must be \"Bing Spatial Data Services, 1.0, <entity type name>\"."
  end
  local version, etype = first[2], first[3]
  if version ~= "1.0" or not etype or etype == "" then
    return nil, "The first line must be \"Bing Spatial Data Services, 1.0, <entity type name>\"."
  end
  -- The schema line: a comma inside "EntityID(Edm.String,primaryKey)" is not a separator.
  local rest = nl and body:sub(nl + 1) or ""
  local hl = rest:find("\n", 1, true)
  local hline = (hl and rest:sub(1, hl - 1) or rest):gsub("\r$", "")
  local hdr, buf, depth = {}, {}, 0
  for i = 1, #hline do
    local c = hline:sub(i, i)
    if c == "(" then depth = depth + 1 elseif c == ")" then depth = depth - 1 end
    if c == delim and depth == 0 then
      hdr[#hdr + 1] = table.concat(buf); buf = {}
    else
      buf[#buf + 1] = c
    end
  end
  hdr[#hdr + 1] = table.concat(buf)
  local rows = C.parse_delimited(hl and rest:sub(hl + 1) or "", delim)
  table.insert(rows, 1, hdr)
  table.insert(rows, 1, first)
  local header = rows[2]
  if not header then return nil, "The data schema line is missing." end
  local list, key = {}, nil
  for i, h in ipairs(header) do
    local name, args = h:match("^%s*([%a_][%w_]*)%s*%((.-)%)%s*$")
    if not name then return nil, format("The property definition \"%s\" is not valid.", h) end
    local ty, pk = args:match("^%s*([%w%.]+)%s*,?%s*(%a*)%s*$")
    ty = ty and TYPES[ty:lower()]
    if not ty then return nil, format("The type of property \"%s\" is not valid.", name) end
    if pk:lower() == "primarykey" then key = name end
    list[i] = {name, ty}
  end
  local ents = {}
  for r = 3, #rows do
    local e, row = {}, rows[r]
    for i, p in ipairs(list) do e[p[1]] = convert(row[i], p[2]) end
    ents[#ents + 1] = e
  end
  return {entity_type = etype, prop_list = list, key_prop = key, entities = ents}
end

-- XML: <Root><xs:schema ...><xs:element name="Type"><xs:sequence><xs:element name= type=>
-- ... <xs:unique msdata:PrimaryKey="true"><xs:field xpath="Key"/>; then <Type>...</Type> rows.
local function parse_xml(body)
  local root, err = C.parse_xml(body)
  if not root then return nil, "The XML data is not valid: " .. tostring(err) .. "." end
  local schema = C.child(root, "schema")
  if not schema then return nil, "The XML data must contain an xs:schema." end
  local list, key, etype = {}, nil, nil
  local function walk(el)
    if el.name == "element" and C.child(el, "complexType") then
      local seq = C.child(C.child(el, "complexType"), "sequence")
      if seq and not etype then
        etype = el.attrs.name
        for _, p in ipairs(seq.children) do
          if p.name == "element" then
            local ty = XS_TYPES[(p.attrs.type or "xs:string"):gsub("^.*:", "")] or "Edm.String"
            list[#list + 1] = {p.attrs.name, ty}
          end
        end
      end
    end
    if el.name == "unique" then
      local f = C.child(el, "field")
      if f then key = f.attrs.xpath end
    end
    for _, c in ipairs(el.children) do walk(c) end
  end
  walk(schema)
  if not etype then return nil, "The schema defines no entity type." end
  local ents = {}
  for _, el in ipairs(root.children) do
    if el.name == etype then
      local e = {}
      for _, p in ipairs(list) do
        local c = C.child(el, p[1])
        e[p[1]] = convert(c and c.text, p[2])
      end
      ents[#ents + 1] = e
    end
  end
  return {entity_type = etype, prop_list = list, key_prop = key, entities = ents}
end

-- Checks the schema and every entity; bad entities are counted as failed and left out.
local function validate(data)
  if not data.key_prop then return nil, "The data schema must name a primary key property." end
  local has_lat, has_lon, geo = false, false, nil
  for _, p in ipairs(data.prop_list) do
    if not p[1]:match("^[%a_][%w_]*$") or #p[1] > 50 or p[1]:sub(1, 2) == "__" then
      return nil, format("The property name \"%s\" is not valid.", p[1])
    end
    if p[1]:lower() == "latitude" then has_lat = true; p[1] = "Latitude" end
    if p[1]:lower() == "longitude" then has_lon = true; p[1] = "Longitude" end
    if p[2] == "Edm.Geography" then geo = p[1] end
  end
  if not ((has_lat and has_lon) or geo) then
    return nil, "The data schema must have Latitude and Longitude properties or a geography property."
  end
  if not has_lat then table.insert(data.prop_list, 2, {"Latitude", "Edm.Double"}) end
  if not has_lon then table.insert(data.prop_list, 3, {"Longitude", "Edm.Double"}) end
  local ok, failed, seen = {}, 0, {}
  for _, e in ipairs(data.entities) do
    local id = e[data.key_prop]
    local lat, lon = e.Latitude or e.latitude, e.Longitude or e.longitude
    e.latitude, e.longitude = nil, nil
    if geo and e[geo] and (lat == nil or lon == nil) then
      -- the centroid of the geography's first ring or point (STCentroid, roughly)
      local shape = require("bingsim.sds_odata").parse_wkt(e[geo])
      local pts = shape and (shape.points or shape.polygons[1][1])
      if pts then
        local sy, sx = 0, 0
        for _, p in ipairs(pts) do sy, sx = sy + p[1], sx + p[2] end
        lat, lon = sy / #pts, sx / #pts
      end
    end
    if type(id) ~= "string" or id == "" or #id > 50 or seen[id] or type(lat) ~= "number"
        or type(lon) ~= "number" or lat < -90 or lat > 90 or lon < -180 or lon > 180 then
      failed = failed + 1
    else
      e.Latitude, e.Longitude = lat, lon
      seen[id] = true
      ok[#ok + 1] = e
    end
  end
  data.entities = ok
  return data, failed
end

---------------------------------------------------------------------------------------------
-- Versions and pending changes
---------------------------------------------------------------------------------------------

local function merged(base, incoming, key)
  local out, index = {}, {}
  for i, e in ipairs(base or {}) do out[i] = e; index[e[key]] = i end
  for _, e in ipairs(incoming) do
    local i = index[e[key]]
    if i then out[i] = e else out[#out + 1] = e; index[e[key]] = #out end
  end
  return out
end

local function publish(src, version)
  if src.published then
    src.versions = src.versions or {}
    table.insert(src.versions, 1, {job_id = src.published.job_id, updated = src.published.updated,
      entities = src.published.entities, status = "Previous"})
    while #src.versions > 2 do src.versions[#src.versions] = nil end
  end
  src.published = version
  src.updated = version.updated
end

-- Applies the changes whose job has completed (called on every access through sources).
function _M.settle(src)
  if not src or not src.pending or #src.pending == 0 then return src, false end
  ngx.update_time()
  local now, left, changed = ngx.now(), {}, false
  for _, p in ipairs(src.pending) do
    if now >= p.ready_at then
      changed = true
      if p.op == "rollback" then
        for i, v in ipairs(src.versions or {}) do
          if v.job_id == p.version then
            table.remove(src.versions, i)
            publish(src, {job_id = p.job_id, updated = p.ready_at, entities = v.entities})
            break
          end
        end
      elseif p.op == "publish" then
        if src.staged then
          publish(src, {job_id = p.job_id, updated = p.ready_at, entities = src.staged.entities})
          src.staged = nil
        end
      else
        local staging = p.op:find("staging") ~= nil
        local incremental = p.op:find("incremental") ~= nil
        local base = staging and (src.staged or src.published) or src.published
        local ents = incremental and merged(base and base.entities, p.entities, src.key_prop)
          or p.entities
        local v = {job_id = p.job_id, updated = p.ready_at, entities = ents}
        if staging then src.staged = v else publish(src, v) end
      end
    else
      left[#left + 1] = p
    end
  end
  src.pending = left
  if changed then sources.put_user(src) end
  return src, changed
end

function _M.publish_staged(src, job)
  src.pending = src.pending or {}
  src.pending[#src.pending + 1] = {op = "publish", job_id = C.hex_id(job.id), ready_at = job.ready_at}
  sources.put_user(src)
end

---------------------------------------------------------------------------------------------
-- Requests
---------------------------------------------------------------------------------------------

local LOAD_OPS = {complete = "complete", incremental = "incremental",
  completestaging = "completeStaging", incrementalstaging = "incrementalStaging"}
local JOB_DESCRIPTION = {complete = "DataSourceComplete", incremental = "DataSourceIncremental",
  completeStaging = "DataSourceCompleteStaging", incrementalStaging = "DataSourceIncrementalStaging"}

local function key_label_of(key)
  local kind, label = require("bingsim.keys").classify(key)
  if kind ~= "key" then return nil end
  return label
end

local function create_load(req)
  local bad = sds().bad
  local name = req.param("dataSourceName")
  if not name or name == "" then return bad(req, "dataSourceName", envelope.MISSING) end
  if #name > 50 or not name:match("^[%w~`!%$%^_={}]+$") then
    return bad(req, "dataSourceName", envelope.NOT_VALID)
  end
  local op = LOAD_OPS[(req.param("loadOperation") or ""):lower()]
  if not op then return bad(req, "loadOperation", envelope.MISSING) end
  local set_public = req.param("setPublic")
  if set_public and set_public ~= "0" and set_public ~= "1" then
    return bad(req, "setPublic", envelope.NOT_VALID)
  end
  if set_public == "1" and op:find("Staging") then
    return bad(req, "setPublic", "setPublic is not valid for a staged data source.")
  end
  local qk = req.param("queryKey")
  local query_label
  if qk and qk ~= "" then
    query_label = key_label_of(qk)
    if not query_label then return bad(req, "queryKey", envelope.NOT_VALID) end
    if query_label == req.key_label then
      return bad(req, "queryKey", "The master key and the query key must be different Bing Maps Keys.")
    end
  end
  local access = req.param("accessId")
  if access and access:lower() ~= sources.ACCOUNT_ACCESS_ID then
    return bad(req, "accessId", envelope.NOT_VALID)
  end
  local body, input = sds().upload(req)
  if not body then return input end
  -- (kml and shp inputs are refused by sds.upload as not valid: not emulated)
  local data, err
  if input == "xml" then
    data, err = parse_xml(body)
  else
    data, err = parse_text(body, C.DELIMITERS[input])
  end
  local failed
  if data then data, failed = validate(data) end
  if not data then
    return sds().fail(req, 400, {envelope.INVALID_PARAMETERS, failed or err})
  end
  local basic = C.basic(req)
  local lim = basic and _M.LIMITS.basic or _M.LIMITS.enterprise
  local total = #data.entities + failed
  if total > lim.entities then
    return sds().fail(req, 400, {envelope.INVALID_PARAMETERS, format("The data contains %d "
      .. "entities; the maximum is %d.", total, lim.entities)})
  end
  local src = sources.get(name)
  if src then
    if src.master ~= req.key_label then
      local u = envelope.unauthorized(req, "invalid")
      u.body.brandLogoUri = C.BRAND_LOGO_URI
      return u
    end
    if op:find("incremental") and (src.entity_type:lower() ~= data.entity_type:lower()
        or src.key_prop:lower() ~= data.key_prop:lower()) then
      return sds().fail(req, 400, {envelope.INVALID_PARAMETERS, "An incremental update must use "
        .. "the data schema of the data source."})
    end
  else
    if op:find("incremental") then return sds().fail(req, 404) end
    if #sources.user_names() >= lim.sources then
      return sds().fail(req, 400, {envelope.INVALID_PARAMETERS, format("The account has the "
        .. "maximum of %d data sources.", lim.sources)})
    end
    src = {name = name, access_id = sources.ACCOUNT_ACCESS_ID, master = req.key_label,
      pending = {}, versions = {}, public = false}
  end
  if op == "complete" or op == "completeStaging" or not src.prop_list then
    src.entity_type, src.key_prop, src.prop_list = data.entity_type, data.key_prop, data.prop_list
  end
  if query_label then src.query = query_label end
  if set_public then src.public = set_public == "1" end
  src.format = input ~= "xml" and input or "csv"
  local job, busy = sds().new_job(req, "LoadDataSource", {path_kind = "LoadDataSource",
    total = total, failed = failed, description = req.param("description") or name .. " Data Source",
    list_description = JOB_DESCRIPTION[op], source = name, datasource_link = true})
  if not job then return busy end
  src.pending = src.pending or {}
  src.pending[#src.pending + 1] = {op = op:lower(), job_id = C.hex_id(job.id),
    ready_at = job.ready_at, entities = data.entities}
  sources.put_user(src)
  _M.job_resource(req, job)
  local res = sds().accepted(req, job)
  return sds().answer(req, {res}, 201, {Location = res.links[1].url})
end

-- A job resource, with the datasource link once a load or rollback job has completed.
function _M.job_resource(req, job)
  local d = job.data
  if d.datasource_link and job.done then
    d.extra_links = {{name = "service", role = "datasource",
      path = "/REST/v1/data/" .. sources.ACCOUNT_ACCESS_ID .. "/" .. d.source}}
  end
  -- a load job's status names no output files
  d.outputs = d.outputs or {}
  return sds().job_resource(req, job)
end

local function text_dump(src, entities, delim)
  local head, defs = {}, {}
  for _, p in ipairs(src.prop_list) do
    defs[#defs + 1] = format("%s(%s%s)", p[1], p[2], p[1] == src.key_prop and ",primaryKey" or "")
    head[#head + 1] = p
  end
  local lines = {"Bing Spatial Data Services, 1.0, " .. src.entity_type, concat(defs, delim)}
  for _, e in ipairs(entities) do
    local vals = {}
    for i, p in ipairs(head) do
      local v = e[p[1]]
      if v == nil then v = ""
      elseif type(v) == "boolean" then v = v and "1" or "0"
      elseif type(v) == "number" then v = json.encode_number(v) end
      vals[i] = v
    end
    lines[#lines + 1] = C.record(vals, delim)
  end
  return concat(lines, "\r\n") .. "\r\n"
end

local function create_download(req, access, name)
  if access:lower() ~= sources.ACCOUNT_ACCESS_ID then return sds().fail(req, 404) end
  local src = sources.get(name)
  if not src then return sds().fail(req, 404) end
  if src.master ~= req.key_label then
    local u = envelope.unauthorized(req, "invalid")
    u.body.brandLogoUri = C.BRAND_LOGO_URI
    return u
  end
  local version = src.published
  local jid = req.param("jobId")
  if jid then
    version = nil
    if src.staged and src.staged.job_id == jid:lower() then version = src.staged end
    if src.published and src.published.job_id == jid:lower() then version = src.published end
    for _, v in ipairs(src.versions or {}) do if v.job_id == jid:lower() then version = v end end
    if not version then return sds().bad(req, "jobId", envelope.NOT_VALID) end
  end
  if not version then return sds().fail(req, 404) end
  local path = "DataSourceDownload/" .. sources.ACCOUNT_ACCESS_ID .. "/" .. src.name
  local job = jobs.create{kind = "DataSourceDownload", delay = C.delay(req, jobs.DEFAULT_DELAY),
    key_label = req.key_label, data = {path_kind = path, total = #version.entities, failed = 0,
      outputs = {"succeeded"}, download = true}}
  C.index_job(req.key_label, job.id)
  C.put_blob(job.id .. ":succeeded", text_dump(src, version.entities, C.DELIMITERS[src.format or "csv"]))
  return sds().answer(req, {sds().accepted(req, jobs.get(job.id))}, 201)
end

local function create_rollback(req, version_id, name)
  local src = sources.get(name)
  if not src then return sds().fail(req, 404) end
  if src.master ~= req.key_label then
    local u = envelope.unauthorized(req, "invalid")
    u.body.brandLogoUri = C.BRAND_LOGO_URI
    return u
  end
  local found = false
  for _, v in ipairs(src.versions or {}) do if v.job_id == version_id:lower() then found = true end end
  if not found then return sds().bad(req, "previousVersionJobId", envelope.NOT_VALID) end
  local job, busy = sds().new_job(req, "DataSourceRollback", {path_kind = "DataSourceRollback",
    name = "PreviousDataSource", description = "DataSourceRollback",
    list_description = "DataSourceRollback", total = 0, failed = 0, source = src.name,
    datasource_link = true})
  if not job then return busy end
  src.pending = src.pending or {}
  src.pending[#src.pending + 1] = {op = "rollback", version = version_id:lower(),
    job_id = C.hex_id(job.id), ready_at = job.ready_at}
  sources.put_user(src)
  _M.job_resource(req, job)
  return sds().answer(req, {sds().accepted(req, job)}, 201)
end

local function route(req)
  local r = req.rest
  local op, n = r[1]:lower(), #r
  if op == "loaddatasource" then
    if n == 1 then return req.method == "POST" and "load" or "method" end
    if n == 2 and req.method == "GET" then return "load_status" end
  elseif op == "datasourcedownload" and req.method == "GET" then
    if n == 3 then return "download" end
    if n == 4 then return "download_status" end
    if n == 6 and r[5]:lower() == "output" then return "download_data" end
  elseif op == "datasourcerollback" and req.method == "GET" then
    if n == 3 then return "rollback" end
    if n == 2 then return "rollback_status" end
  end
  return "notfound"
end

local CATEGORY = {load = "Dataflow:Create", load_status = "Dataflow:Get",
  download = "RESTSpatialDataService:DownloadDatasource", download_status = "Dataflow:Get",
  download_data = "RESTSpatialDataService:DownloadDatasource", rollback = "Dataflow:Create",
  rollback_status = "Dataflow:Get"}

function _M.classify(req)
  local c = CATEGORY[route(req)]
  return c and {category = c, transactions = 1} or nil
end

function _M.handle_dataflow(req)
  local what = route(req)
  local r = req.rest
  if what == "method" then return sds().fail(req, 405) end
  if what == "notfound" then return sds().fail(req, 404) end
  if what == "load" then return create_load(req) end
  if what == "download" then return create_download(req, r[2], r[3]) end
  if what == "rollback" then return create_rollback(req, r[2], r[3]) end
  local id = (what == "load_status" or what == "rollback_status") and r[2] or r[4]
  local kinds = {load_status = "LoadDataSource", rollback_status = "DataSourceRollback",
    download_status = "DataSourceDownload", download_data = "DataSourceDownload"}
  local job, err = sds().find_job(req, id, kinds[what])
  if not job then return err end
  if job.data.source then sources.get(job.data.source) end
  if what == "download_data" then
    if r[6]:lower() ~= "succeeded" or not job.done then return sds().fail(req, 404) end
    return {status = 200, body = C.get_blob(job.id .. ":succeeded") or "",
      content_type = "text/plain; charset=utf-8"}
  end
  return sds().answer(req, {_M.job_resource(req, job)})
end

return _M
