-- Spatial Data Services under /REST/v1/data (spatial.virtualearth.net): the Query API and
-- the data source management calls that live on the data URLs.
--
--   GET /REST/v1/data/{accessId}/{dataSource}/{entityType}?spatialFilter=&$filter=&$select=
--       &$orderby=&$top=&$skip=&$inlinecount=&$format=&isStaging=      query-by-area/property
--   GET /REST/v1/data/{accessId}/{dataSource}/{entityType}('{id}')       query-by-id.md
--   GET /REST/v1/data/Microsoft/PointsOfInterest?...                      pointsofinterest.md
--   GET /REST/v1/data[?$format=json]                                      list data sources
--   GET /REST/v1/data/$metadata                                           metadata of all
--   GET /REST/v1/data/{accessId}/{dataSource}[?$format=json]              data source info
--   GET /REST/v1/data/{accessId}/{dataSource}/$metadata                   its metadata (CSDL)
--   GET /REST/v1/data/{accessId}/{dataSource}/$commit                     publish staged
--   GET /REST/v1/data/jobs/{jobId}/$getstatus                             publish job status
--   GET /REST/v1/data/{accessId}/{dataSource}/$updateDataSource?setPublic=  public/private
--   DELETE /REST/v1/data/{accessId}/{dataSource}                          delete (202)
--
-- Answers are OData v2 verbose JSON ({"d": {...}}) with $format=json, Atom (the default)
-- otherwise; errors are the Bing envelope (status-codes-and-error-handling.md).
local envelope = require "bingsim.envelope"
local json = require "bingsim.json"
local jobs = require "bingsim.jobs"
local C = require "bingsim.sds_common"
local odata = require "bingsim.sds_odata"
local sources = require "bingsim.sds_sources"

local _M = {_VERSION = "0.1.0"}

local concat, format, floor = table.concat, string.format, math.floor

_M.DEFAULT_TOP = 25
_M.MAX_TOP = 250

local function sds() return require "bingsim.sds" end
local function bad(req, name, problem) return sds().bad(req, name, problem) end
local function fail(req, status, details) return sds().fail(req, status, details) end

-- What a path is: returns kind, and the pieces.
local function route(req)
  local r = req.rest or {}
  local n = #r
  if n == 0 then return "list" end
  local a = r[1]
  if n == 1 and a:lower() == "$metadata" then return "all_metadata" end
  if n == 3 and a:lower() == "jobs" and r[3]:lower() == "$getstatus" then return "publish_status" end
  if n == 2 and a:lower() == "microsoft" and r[2]:lower() == "pointsofinterest" then
    return "query"
  end
  if n == 2 then return req.method == "DELETE" and "delete" or "info" end
  if n == 3 then
    local l = r[3]:lower()
    if l == "$metadata" then return "metadata" end
    if l == "$commit" then return "commit" end
    if l == "$updatedatasource" then return "update" end
    return "query"
  end
  return "notfound"
end

local CATEGORY = {
  list = "RESTSpatialDataService:ListDataSources",
  all_metadata = "RESTSpatialDataService:GetAllMetadata",
  info = "RESTSpatialDataService:GetDataSource",
  metadata = "RESTSpatialDataService:GetDataSourceMetadata",
  delete = "RESTSpatialDataService:DeleteDataSource",
  update = "RESTSpatialDataService:SetDataSourcePublicOrPrivate",
  -- transactions page: stage, publish and rollback requests are Dataflow:Create, their status
  -- requests Dataflow:Get.
  commit = "Dataflow:Create",
  publish_status = "Dataflow:Get",
}

function _M.classify(req)
  local what = route(req)
  if what == "query" then
    local r = req.rest
    local poi = r[1]:lower() == "microsoft" and (r[2] or ""):lower() == "pointsofinterest"
    return {category = poi and "RESTSpatialDataService:QueryPointsOfInterest"
      or "RESTSpatialDataService:Query", transactions = 1}
  end
  if CATEGORY[what] then return {category = CATEGORY[what], transactions = 1} end
  return nil
end

---------------------------------------------------------------------------------------------
-- Values
---------------------------------------------------------------------------------------------

-- "2010-11-10T17:19:36" -> milliseconds since 1970 (query-response-description.md:
-- "\/Date(<ticks>)\/", ticks = milliseconds since midnight Jan 1, 1970).
local function epoch_ms(iso)
  local y, mo, d, h, mi, s = tostring(iso):match("^(%d+)%-(%d+)%-(%d+)T?(%d*):?(%d*):?(%d*)")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  h, mi, s = tonumber(h) or 0, tonumber(mi) or 0, tonumber(s) or 0
  -- days from civil (Howard Hinnant)
  local yy = mo <= 2 and y - 1 or y
  local era = floor(yy / 400)
  local yoe = yy - era * 400
  local mp = (mo + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return ((days * 24 + h) * 60 + mi) * 60000 + s * 1000
end
_M.epoch_ms = epoch_ms

local function json_value(v, ty)
  if v == nil then return json.null end
  if ty == "Edm.DateTime" then
    local ms = epoch_ms(v)
    return ms and format("/Date(%d)/", ms) or tostring(v)
  end
  if ty == "Edm.Boolean" then
    if type(v) == "boolean" then return v end
    return v == 1 or v == "1" or tostring(v):lower() == "true"
  end
  if ty == "Edm.Double" or ty == "Edm.Int64" then return tonumber(v) or json.null end
  return tostring(v)
end

local function atom_value(v, ty)
  if v == nil then return nil end
  if ty == "Edm.Boolean" then return json_value(v, ty) and "1" or "0" end
  if ty == "Edm.Double" or ty == "Edm.Int64" then return json.encode_number(tonumber(v) or 0) end
  return tostring(v)
end

---------------------------------------------------------------------------------------------
-- Query
---------------------------------------------------------------------------------------------

local function entity_uri(req, src, id)
  local path = "/REST/v1/data/" .. src.access_id .. "/" .. src.name
  if src.entity_type then path = path .. "/" .. src.entity_type end
  return C.base_url(req) .. path .. "('" .. tostring(id):gsub("'", "''") .. "')"
end

-- The page's link to the next one: this request's own query with $skip moved on, without
-- the key (as every link the service returns; the client adds its key).
local function next_link(req, skip)
  local parts = {}
  for part in ((req.raw_query or "") .. "&"):gmatch("([^&]*)&") do
    local name = part:match("^([^=]*)")
    name = require("bingsim.request").unescape(name):lower()
    if part ~= "" and name ~= "key" and name ~= "$skip" then parts[#parts + 1] = part end
  end
  parts[#parts + 1] = "$skip=" .. skip
  return C.base_url(req) .. req.raw_path .. "?" .. concat(parts, "&")
end

local function parse_select(s, src)
  if not s or s:match("^%s*$") or s:match("^%s*%*%s*$") then return nil end
  local out, distance, all = {}, false, false
  for item in s:gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item == "*" then all = true
    elseif item:lower() == "__distance" then distance = true
    else
      local p = src.plookup[item:lower()]
      if not p then return nil, nil, "unknown property '" .. item .. "'" end
      out[#out + 1] = p
    end
  end
  if all then out = nil end
  return out, distance
end

local function parse_orderby(s, src)
  local keys = {}
  for item in s:gmatch("[^,]+") do
    local name, dir = item:match("^%s*([%w_]+)%s*(%a*)%s*$")
    if not name then return nil, "the $orderby value is not valid" end
    local p = src.plookup[name:lower()]
    if not p then return nil, "unknown property '" .. name .. "'" end
    if p.name == "Latitude" or p.name == "Longitude" then
      return nil, "you cannot sort by the latitude and longitude properties"
    end
    dir = dir:lower()
    if dir ~= "" and dir ~= "asc" and dir ~= "desc" then return nil, "the $orderby value is not valid" end
    keys[#keys + 1] = {p = p, desc = dir == "desc"}
  end
  if #keys == 0 or #keys > 3 then return nil, "$orderby takes one to three properties" end
  return keys
end

local function sort_value(v, ty)
  if v == nil then return nil end
  if ty == "Edm.Boolean" then return json_value(v, ty) and 1 or 0 end
  if ty == "Edm.Double" or ty == "Edm.Int64" then return tonumber(v) end
  return tostring(v):lower()
end

local function less(a, b)
  if a == nil then return b ~= nil end
  if b == nil then return false end
  return a < b
end

-- The key check: public sources take any valid key; an account's source its master key, its
-- query key, or (made public) any key.
local function allowed(req, src)
  if src.public then return true end
  return req.key_label == src.master or (src.query and req.key_label == src.query)
end

local function atom_feed(req, src, rows, select, distance, single)
  local X = C.xml_escape
  local out = {'<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    .. 'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
    .. 'xmlns="http://www.w3.org/2005/Atom">',
    '  <title type="text" />', "  <id>uuid:" .. req.trace_id .. "</id>",
    '  <rights type="text">' .. X(C.ODATA_COPYRIGHT) .. "</rights>",
    "  <updated>2025-01-01T00:00:00Z</updated>"}
  for _, row in ipairs(rows) do
    local e = row.e
    out[#out + 1] = "  <entry>"
    out[#out + 1] = "    <id>" .. X(entity_uri(req, src, e[src.key_prop])) .. "</id>"
    out[#out + 1] = '    <title type="text" />'
    out[#out + 1] = "    <updated>2025-01-01T00:00:00Z</updated>"
    out[#out + 1] = '    <content type="application/xml">'
    out[#out + 1] = "      <m:properties>"
    for _, p in ipairs(select or src.props) do
      local v = atom_value(e[p.name], p.type)
      local t = p.type ~= "Edm.String" and format(' m:type="%s"', p.type) or ""
      if v == nil then
        out[#out + 1] = format('        <d:%s%s m:null="true" />', p.name, t)
      else
        out[#out + 1] = format("        <d:%s%s>%s</d:%s>", p.name, t, X(v), p.name)
      end
    end
    if distance and row.d then
      out[#out + 1] = format('        <d:__Distance m:type="Edm.Double">%s</d:__Distance>',
        json.encode_number(row.d))
    end
    out[#out + 1] = "      </m:properties>"
    out[#out + 1] = "    </content>"
    out[#out + 1] = "  </entry>"
  end
  out[#out + 1] = "</feed>"
  local _ = single
  return {status = 200, body = concat(out, "\n"), content_type = "application/atom+xml; charset=utf-8"}
end

local function json_entity(req, src, row, select, distance)
  local e = row.e
  local order = {"__metadata"}
  local o = {__metadata = C.ordered({uri = entity_uri(req, src, e[src.key_prop])}, {"uri"})}
  for _, p in ipairs(select or src.props) do
    order[#order + 1] = p.name
    o[p.name] = json_value(e[p.name], p.type)
  end
  if distance and row.d then order[#order + 1] = "__Distance"; o.__Distance = row.d end
  return C.ordered(o, order)
end

local function format_of(req)
  local f = req.param("$format")
  if not f or f == "" then return "atom" end
  f = f:lower()
  if f == "json" or f == "atom" then return f end
  return nil
end

local function query(req)
  local r = req.rest
  local fmt = format_of(req)
  if not fmt then return bad(req, "$format", envelope.NOT_VALID) end
  local access, name, etype = r[1], r[2], r[3]
  local by_id
  if etype then
    local base, id = etype:match("^(.-)%((.*)%)$")
    if base then
      etype = base
      by_id = id:match("^'(.*)'$") or id
      by_id = by_id:gsub("''", "'")
    end
  end
  local staging = require("bingsim.request").truthy(req.param("isStaging"))
  local src, user_src = sources.find(access, name, staging)
  if not src then
    if user_src and not allowed(req, user_src) then return envelope.unauthorized(req, "invalid") end
    return fail(req, 404)
  end
  if src.entity_type and (not etype or etype:lower() ~= src.entity_type:lower()) then
    return fail(req, 404)
  end
  if not allowed(req, src) then
    local u = envelope.unauthorized(req, "invalid")
    u.body.brandLogoUri = C.BRAND_LOGO_URI
    return u
  end

  if by_id then
    for _, e in ipairs(src.entities) do
      if tostring(e[src.key_prop]) == by_id then
        local row = {e = e}
        if fmt == "atom" then return atom_feed(req, src, {row}, nil, false, true) end
        local ent = json_entity(req, src, row)
        local mt = getmetatable(ent)
        table.insert(mt.__order, 1, "__copyright")
        ent.__copyright = C.ODATA_COPYRIGHT
        return {status = 200, body = json.object{d = ent}}
      end
    end
    return fail(req, 404)
  end

  -- $top, $skip
  local top, skip = _M.DEFAULT_TOP, 0
  local t = req.param("$top")
  if t then
    top = tonumber(t)
    if not top or top ~= floor(top) or top < 0 or top > _M.MAX_TOP then
      return bad(req, "$top", envelope.OUT_OF_RANGE)
    end
  end
  local sk = req.param("$skip")
  if sk then
    skip = tonumber(sk)
    if not skip or skip ~= floor(skip) or skip < 0 then return bad(req, "$skip", envelope.OUT_OF_RANGE) end
    -- pointsofinterest.md: $skip "is not available ... when using a Basic key".
    if src.poi and C.basic(req) then
      return bad(req, "$skip", "$skip is not available for PointsOfInterest with a Basic key.")
    end
  end
  local inline = req.param("$inlinecount")
  if inline and inline:lower() ~= "allpages" and inline:lower() ~= "none" then
    return bad(req, "$inlinecount", envelope.NOT_VALID)
  end
  local select, distance, serr = parse_select(req.param("$select"), src)
  if serr then return bad(req, "$select", serr) end

  local spatial
  local sf = req.param("spatialFilter")
  if sf then
    local err
    spatial, err = odata.parse_spatial(sf)
    if not spatial then return bad(req, "spatialFilter", err) end
    if (spatial.geocoded or 0) > 0 then C.book(req, "RESTLocations", spatial.geocoded) end
  end
  local filter
  local fs = req.param("$filter")
  if fs and not fs:match("^%s*$") then
    local err
    filter, err = odata.parse_filter(fs, src.plookup)
    if not filter then return bad(req, "$filter", err) end
    if filter.wildcard and src.poi then
      return bad(req, "$filter", "wildcard searches are not supported for PointsOfInterest")
    end
  end
  local orderby
  local ob = req.param("$orderby")
  if ob and ob ~= "" then
    if not spatial and not filter then
      return bad(req, "$orderby", "$orderby needs a spatial filter or a $filter")
    end
    local err
    orderby, err = parse_orderby(ob, src)
    if not orderby then return bad(req, "$orderby", err) end
  end

  local rows = {}
  if not (spatial and spatial.none) then
    for _, e in ipairs(src.entities) do
      local ok, d = true, nil
      if spatial then ok, d = spatial.test(e.Latitude or 0, e.Longitude or 0) end
      if ok and filter then ok = odata.eval(filter, e) end
      if ok then rows[#rows + 1] = {e = e, d = d, id = tostring(e[src.key_prop])} end
    end
  end
  -- Default order (query-by-area.md): by distance for nearby (and from the start for
  -- nearRoute), then by the entity id; otherwise by the entity id.
  table.sort(rows, function(a, b)
    if orderby then
      for _, k in ipairs(orderby) do
        local va, vb = sort_value(a.e[k.p.name], k.p.type), sort_value(b.e[k.p.name], k.p.type)
        if va ~= vb then
          if k.desc then return less(vb, va) end
          return less(va, vb)
        end
      end
    elseif a.d and b.d and a.d ~= b.d then
      return a.d < b.d
    end
    return a.id < b.id
  end)
  local total = #rows
  local page = {}
  for i = skip + 1, math.min(skip + top, total) do page[#page + 1] = rows[i] end
  if fmt == "atom" then return atom_feed(req, src, page, select, distance) end
  local results = json.array()
  for i, row in ipairs(page) do results[i] = json_entity(req, src, row, select, distance) end
  local d = C.ordered({__copyright = C.ODATA_COPYRIGHT, results = results},
    {"__copyright", "__count", "results", "__next"})
  -- OData v2 JSON writes the inline count as a string.
  if inline and inline:lower() == "allpages" then d.__count = tostring(total) end
  -- __next: OData's server-driven paging. The reference's examples with an explicit $top
  -- show none, so a page the client sized itself has none; a page the service sized (the
  -- default 25) links to the next one while matches remain.
  if not t and skip + top < total then d.__next = next_link(req, skip + top) end
  return {status = 200, body = json.object{d = d}}
end

---------------------------------------------------------------------------------------------
-- Data source information and management
---------------------------------------------------------------------------------------------

local function all_sources(req)
  local out = {}
  for _, n in ipairs(sources.user_names()) do
    local s = sources.get(n)
    if s and s.published then out[#out + 1] = s end
  end
  local _ = req
  return out
end

local function source_base(req, s)
  return C.base_url(req) .. "/REST/v1/data/" .. s.access_id .. "/" .. s.name
end

local function info_json(s)
  return C.ordered({Name = s.name, IsPublic = s.public and "true" or "false",
    Updated = C.http_date(s.updated or 0), EntitySets = json.array{s.entity_type}},
    {"Name", "IsPublic", "Updated", "EntitySets"})
end

local function service_doc(req, list)
  local X = C.xml_escape
  local out = {'<?xml version="1.0" encoding="utf-8"?>',
    '<service xmlns:atom="http://www.w3.org/2005/Atom" xmlns:app="http://www.w3.org/2007/app" '
    .. 'xmlns="http://www.w3.org/2007/app">'}
  for _, s in ipairs(list) do
    out[#out + 1] = '  <workspace>'
    out[#out + 1] = "    <atom:title>" .. X(s.name) .. "</atom:title>"
    out[#out + 1] = '    <app:collection app:href="' .. X(source_base(req, s) .. "/" .. s.entity_type) .. '">'
    out[#out + 1] = "      <atom:title>" .. X(s.entity_type) .. "</atom:title>"
    out[#out + 1] = "    </app:collection>"
    out[#out + 1] = "  </workspace>"
  end
  out[#out + 1] = "</service>"
  return {status = 200, body = concat(out, "\n"), content_type = "application/atomsvc+xml; charset=utf-8"}
end

local function metadata_doc(list)
  local X = C.xml_escape
  local out = {'<?xml version="1.0" encoding="utf-8"?>',
    '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" '
    .. 'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" Version="1.0">',
    '  <edmx:DataServices DataServiceVersion="1.0">'}
  for _, s in ipairs(list) do
    out[#out + 1] = '    <Schema Namespace="' .. X(s.name) .. 'DataSource" '
      .. 'xmlns="http://schemas.microsoft.com/ado/2008/09/edm">'
    out[#out + 1] = '      <EntityType Name="' .. X(s.entity_type) .. '">'
    out[#out + 1] = '        <Key><PropertyRef Name="' .. X(s.key_prop) .. '" /></Key>'
    for _, p in ipairs(s.props) do
      out[#out + 1] = format('        <Property Name="%s" Type="%s" Nullable="%s" />', X(p.name),
        p.type, p.name == s.key_prop and "false" or "true")
    end
    out[#out + 1] = "      </EntityType>"
    out[#out + 1] = "    </Schema>"
  end
  out[#out + 1] = "  </edmx:DataServices>"
  out[#out + 1] = "</edmx:Edmx>"
  return {status = 200, body = concat(out, "\n"), content_type = "application/xml; charset=utf-8"}
end

-- A management call names an account's source (404 when it is not there). Public sources
-- are not the account's to manage; their info and metadata are answered.
local function named(req)
  local r = req.rest
  if r[1]:lower() ~= sources.ACCOUNT_ACCESS_ID then
    for _, s in ipairs(sources.public()) do
      if s.access_id:lower() == r[1]:lower() and s.name:lower() == r[2]:lower() then return s, true end
    end
    return nil
  end
  return sources.get(r[2])
end

local function master_only(req, s)
  if req.key_label ~= s.master then
    local u = envelope.unauthorized(req, "invalid")
    u.body.brandLogoUri = C.BRAND_LOGO_URI
    return u
  end
end

local function service_job(req, s, kind, name, description, delay)
  local sdsm = sds()
  local job, busy = sdsm.new_job(req, kind, {service = true, name = name,
    description = description, list_description = description, source = s.name,
    path_kind = kind})
  if not job then return nil, busy end
  if delay == 0 then jobs.update(job.id, {ready_at = job.created}) end
  return jobs.get(job.id)
end

function _M.handle(req)
  local what = route(req)
  local r = req.rest or {}
  if what == "notfound" then return fail(req, 404) end
  if req.method == "HEAD" and what ~= "query" then return fail(req, 405) end
  if req.method == "POST" then return fail(req, 405) end
  if req.method == "DELETE" and what ~= "delete" then return fail(req, 405) end
  if what == "query" then return query(req) end
  local fmt = format_of(req)
  if what == "list" then
    local list = all_sources(req)
    if fmt == "json" then
      local ds = json.array()
      for i, s in ipairs(list) do ds[i] = info_json(s) end
      return {status = 200, body = json.object{d = C.ordered({Copyright = C.ODATA_COPYRIGHT,
        DataSources = ds}, {"Copyright", "DataSources"})}}
    end
    return service_doc(req, list)
  elseif what == "all_metadata" then
    return metadata_doc(all_sources(req))
  elseif what == "publish_status" then
    local job, err = sds().find_job(req, r[2], "DataSourcePublishFromStaged")
    if not job then return err end
    local res = sds().job_resource(req, job)
    res.links = nil
    return sds().answer(req, {res})
  end
  local s, is_public = named(req)
  if not s then return fail(req, 404) end
  if what == "info" then
    if fmt == "json" then
      local o = info_json(s)
      getmetatable(o).__order = {"Copyright", "Name", "IsPublic", "Updated", "EntitySets"}
      o.Copyright = C.ODATA_COPYRIGHT
      if require("bingsim.request").truthy(req.param("showAllVersions")) and not is_public then
        local versions = json.array()
        for _, v in ipairs(s.versions or {}) do
          versions[#versions + 1] = C.ordered({JobId = v.job_id, Updated = C.http_date(v.updated),
            Status = v.status}, {"JobId", "Updated", "Status"})
        end
        o.Versions = versions
      end
      return {status = 200, body = json.object{d = o}}
    end
    return service_doc(req, {s})
  elseif what == "metadata" then
    return metadata_doc({s})
  end
  if is_public then return fail(req, 403) end
  local deny = master_only(req, s)
  if deny then return deny end
  if what == "delete" then
    sources.delete_user(s.name)
    local job = service_job(req, s, "DataSourceDelete", "DeleteADataSource", "DataSourceDelete", 0)
    local _ = job
    -- delete-data-source.md: "the HTTP 202 status code is returned. The response does not
    -- contain any content."
    return {status = 202, body = "", content_type = "text/plain; charset=utf-8"}
  elseif what == "update" then
    local sp = req.param("setPublic")
    if sp ~= "0" and sp ~= "1" then return bad(req, "setPublic", envelope.MISSING) end
    s.public = sp == "1"
    sources.put_user(s)
    local job, busy = service_job(req, s, "DataSourceAccess", "SetDataSourcePublicOrPrivate",
      "DataSourceAccess", 0)
    if not job then return busy end
    -- make-public-data-source.md's example answer: 201 Created, a DataServiceJob whose status
    -- is "Created" and whose description names the change.
    local res = sds().job_resource(req, job)
    res.links, res.completedDate, res.name = nil, nil, nil
    res.status = "Created"
    res.description = format('Data source "%s" set %s', s.name, s.public and "public" or "private")
    return sds().answer(req, {res}, 201)
  elseif what == "commit" then
    if not s.staged then
      return fail(req, 400, {envelope.INVALID_PARAMETERS,
        "The data source has no staged version to publish."})
    end
    local job, busy = service_job(req, s, "DataSourcePublishFromStaged", "PublishStagedDataSource",
      "DataSourcePublishFromStaged")
    if not job then return busy end
    require("bingsim.sds_data").publish_staged(s, job)
    local res = sds().job_resource(req, job)
    res.links = json.array{C.ordered({role = "self", url = C.base_url(req) .. "/REST/v1/data/jobs/"
      .. C.hex_id(job.id) .. "/$getstatus"}, {"role", "url"})}
    res.status, res.name = "Accepted", nil
    return sds().answer(req, {res}, 202)
  end
  return fail(req, 404)
end

return _M
