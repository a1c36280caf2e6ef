-- Spatial Data Services: the dataflows under /REST/v1/Dataflows (spatial.virtualearth.net).
--
--   POST /REST/v1/Dataflows/Geocode?input=csv|tab|pipe|xml[&description=]   201, a job
--   GET  /REST/v1/Dataflows/Geocode/{jobId}                                   job status
--   GET  /REST/v1/Dataflows/Geocode/{jobId}/output/succeeded|failed           results file
--   GET  /REST/v1/Dataflows/ListJobs                                          get-job-list.md
--   POST /REST/v1/Dataflows/LoadDataSource?dataSourceName=&loadOperation=&input=...  (sds_data)
--   GET  /REST/v1/Dataflows/LoadDataSource/{jobId}                            (sds_data)
--   POST /REST/v1/Dataflows/DataSourceDownload/{accessId}/{name}              (sds_data)
--   GET  /REST/v1/Dataflows/DataSourceDownload/{accessId}/{name}/{jobId}[/file] (sds_data)
--   GET  /REST/v1/Dataflows/DataSourceRollback/...                            (sds_data)
--
-- A geocode job really geocodes every uploaded entity with the emulator's geocoder (forward
-- by Query or Address, reverse by Location) when it is created; it reports Pending (with
-- processed counts growing with time) until its delay has passed (X-Bingsim-Job-Delay:
-- <seconds>, default 1), then Completed. Entities that cannot be geocoded fail for their real
-- reason (no address field, an output-only field given, a bad coordinate, no match, a result
-- below MinimumConfidence). Results come in the input's format (data schema 2.0), the
-- succeeded and failed rows in separate files, rows in an order of their own (sorted by a
-- digest of the Id, deterministic), the header line as uploaded.
local envelope = require "bingsim.envelope"
local json = require "bingsim.json"
local jobs = require "bingsim.jobs"
local geocode = require "bingsim.geocode"
local C = require "bingsim.sds_common"

local _M = {_VERSION = "0.1.0"}

local concat, format, floor = table.concat, string.format, math.floor

-- geocode-and-data-source-limits.md and create-a-geocode-job-and-upload-data.md.
_M.LIMITS = {
  enterprise = {entities = 200000, bytes = 300 * 1024 * 1024, pending = 10},
  basic = {entities = 50, bytes = 300 * 1024 * 1024, pending = 2},
}

_M.HEADER_LINE = "Bing Spatial Data Services, 2.0"
local EOL = "\r\n"
_M.EOL = EOL

local function limits(req) return C.basic(req) and _M.LIMITS.basic or _M.LIMITS.enterprise end
_M.limits = limits

-- The SDS envelope: the REST one with the spatial host's logo.
function _M.answer(req, resources, status, headers)
  local r = envelope.success(req, resources, {status = status or 200, headers = headers})
  r.body.brandLogoUri = C.BRAND_LOGO_URI
  return r
end

function _M.fail(req, status, details)
  local r = envelope.error(req, status, details)
  r.body.brandLogoUri = C.BRAND_LOGO_URI
  return r
end

function _M.bad(req, name, problem)
  local r = envelope.invalid(req, name, problem)
  r.body.brandLogoUri = C.BRAND_LOGO_URI
  return r
end

---------------------------------------------------------------------------------------------
-- Geocoding one entity
---------------------------------------------------------------------------------------------

-- Text columns of data schema 2.0 (geocode-dataflow-data-schema-version-2-0.md), lower-cased
-- path -> canonical path; an uploaded header must use these (any case).
_M.COLUMNS = {
  "Id", "GeocodeRequest/Culture", "GeocodeRequest/Query", "GeocodeRequest/Address/AddressLine",
  "GeocodeRequest/Address/AdminDistrict", "GeocodeRequest/Address/CountryRegion",
  "GeocodeRequest/Address/AdminDistrict2", "GeocodeRequest/Address/FormattedAddress",
  "GeocodeRequest/Address/Locality", "GeocodeRequest/Address/PostalCode",
  "GeocodeRequest/Address/PostalTown", "GeocodeRequest/ConfidenceFilter/MinimumConfidence",
  "GeocodeRequest/StrictMatch", "ReverseGeocodeRequest/IncludeEntityTypes",
  "ReverseGeocodeRequest/Location/Latitude", "ReverseGeocodeRequest/Location/Longitude",
  "GeocodeResponse/Address/AddressLine", "GeocodeResponse/Address/AdminDistrict",
  "GeocodeResponse/Address/CountryRegion", "GeocodeResponse/Address/AdminDistrict2",
  "GeocodeResponse/Address/FormattedAddress", "GeocodeResponse/Address/Locality",
  "GeocodeResponse/Address/PostalCode", "GeocodeResponse/Address/PostalTown",
  "GeocodeResponse/Address/Neighborhood", "GeocodeResponse/Address/Landmark",
  "GeocodeResponse/Confidence", "GeocodeResponse/Name", "GeocodeResponse/EntityType",
  "GeocodeResponse/MatchCodes", "GeocodeResponse/Point/Latitude",
  "GeocodeResponse/Point/Longitude", "GeocodeResponse/BoundingBox/SouthLatitude",
  "GeocodeResponse/BoundingBox/WestLongitude", "GeocodeResponse/BoundingBox/NorthLatitude",
  "GeocodeResponse/BoundingBox/EastLongitude", "GeocodeResponse/QueryParseValues",
  "GeocodeResponse/GeocodePoints", "StatusCode", "FaultReason", "TraceId",
}
local CANON = {}
for _, c in ipairs(_M.COLUMNS) do CANON[c:lower()] = c end
_M.CANON = CANON

local CONFIDENCE = {low = 1, medium = 2, high = 3}
local REVERSE_TYPES = {}
for _, t in ipairs(geocode.REVERSE_TYPES) do REVERSE_TYPES[t:lower()] = t end

local TRUE = {["1"] = true, ["true"] = true}

local function fault(code, reason) return {ok = false, status = code, reason = reason} end

-- The fault texts: the first is the reference's own (sample input/output v2.0), the second is
-- quoted in the schema page; the others are ours, in the same style.
_M.FAULTS = {
  no_field = "To geocode a location, you must specify at least one address field.",
  formatted = "The Address.FormattedAddress property must not be specified because it is an "
    .. "output-only property.",
  latitude = "The Location.Latitude property must be a number between -90 and 90.",
  longitude = "The Location.Longitude property must be a number between -180 and 180.",
  entity_types = "The IncludeEntityTypes property contains an entity type that is not valid.",
  confidence = "The ConfidenceFilter.MinimumConfidence property must be Low, Medium or High.",
  no_match = "No results were found for the location.",
  below = "No results were found with the minimum confidence requested.",
}
local F = _M.FAULTS

-- f: lower-cased column path -> value. Returns {ok = true, result =, parse =} or a fault.
local function geocode_fields(f)
  local function g(p)
    local v = f[p:lower()]
    if v ~= nil and v ~= "" then return v end
  end
  if g("GeocodeRequest/Address/FormattedAddress") then return fault("BadRequest", F.formatted) end
  local minc = g("GeocodeRequest/ConfidenceFilter/MinimumConfidence")
  if minc and not CONFIDENCE[minc:lower()] then return fault("BadRequest", F.confidence) end
  local lat_s, lon_s = g("ReverseGeocodeRequest/Location/Latitude"),
    g("ReverseGeocodeRequest/Location/Longitude")
  local results, parse
  if lat_s or lon_s then
    local lat, lon = tonumber(lat_s or ""), tonumber(lon_s or "")
    if not lat or lat < -90 or lat > 90 then return fault("BadRequest", F.latitude) end
    if not lon or lon < -180 or lon > 180 then return fault("BadRequest", F.longitude) end
    local types
    local te = g("ReverseGeocodeRequest/IncludeEntityTypes")
    if te then
      types = {}
      for t in te:gmatch("[^,]+") do
        local k = REVERSE_TYPES[t:gsub("%s", ""):lower()]
        if not k then return fault("BadRequest", F.entity_types) end
        types[k] = true
      end
    end
    results = geocode.reverse(lat, lon, types)
  else
    local q = g("GeocodeRequest/Query")
    local a = {
      addressLine = g("GeocodeRequest/Address/AddressLine"),
      locality = g("GeocodeRequest/Address/Locality") or g("GeocodeRequest/Address/PostalTown"),
      adminDistrict = g("GeocodeRequest/Address/AdminDistrict"),
      postalCode = g("GeocodeRequest/Address/PostalCode"),
      countryRegion = g("GeocodeRequest/Address/CountryRegion"),
    }
    if q then
      local toks, text, _
      results, toks, _, text = geocode.search(q)
      if results[1] then parse = geocode.parse_values(results[1], toks, text) end
    elseif a.addressLine or a.locality or a.adminDistrict or a.postalCode or a.countryRegion
        or g("GeocodeRequest/Address/AdminDistrict2") then
      local strict = TRUE[(g("GeocodeRequest/StrictMatch") or ""):lower()] or false
      results = geocode.find_address(a, {strict = strict})
    else
      return fault("BadRequest", F.no_field)
    end
  end
  if #results == 0 then return fault("NotFound", F.no_match) end
  if minc then
    local need = CONFIDENCE[minc:lower()]
    local kept = {}
    for _, r in ipairs(results) do
      if (CONFIDENCE[(r.confidence or "High"):lower()] or 3) >= need then kept[#kept + 1] = r end
    end
    if #kept == 0 then return fault("NotFound", F.below) end
    results = kept
  end
  return {ok = true, result = results[1], parse = parse}
end

local function num(x)
  if x == nil then return "" end
  return json.encode_number(x)
end

local function geocode_points(e, reverse)
  local out = {}
  if not reverse and e.geocode_points then
    for i, p in ipairs(e.geocode_points) do
      out[i] = {lat = p.lat, lon = p.lon, calc = p.calc, usage = concat(p.usage or {"Display"}, ", ")}
    end
  else
    local calc = e.kind == "Address" and (reverse and "Interpolation" or (e.calc or "Rooftop"))
      or (e.calc or "Rooftop")
    out[1] = {lat = e.lat, lon = e.lon, calc = calc,
      usage = e.kind == "Address" and "Display, Route" or "Display"}
  end
  return out
end

-- The output columns of a successful entity (lower-cased path -> text).
local function response_fields(g)
  local r = g.result
  local e = r.entry
  local a = e.address or {}
  local o = {}
  o["geocoderesponse/address/addressline"] = a.addressLine
  o["geocoderesponse/address/admindistrict"] = a.adminDistrict
  o["geocoderesponse/address/countryregion"] = a.countryRegion
  o["geocoderesponse/address/admindistrict2"] = a.adminDistrict2
  o["geocoderesponse/address/formattedaddress"] = a.formattedAddress
  o["geocoderesponse/address/locality"] = a.locality
  o["geocoderesponse/address/postalcode"] = a.postalCode
  o["geocoderesponse/address/neighborhood"] = a.neighborhood
  o["geocoderesponse/address/landmark"] = a.landmark
  o["geocoderesponse/confidence"] = r.confidence or "High"
  o["geocoderesponse/name"] = e.name
  local et = e.entityType
  if r.reverse and e.kind == "CountryRegion" then et = "Sovereign" end
  o["geocoderesponse/entitytype"] = et
  o["geocoderesponse/matchcodes"] = concat(r.match_codes or {"Good"}, ",")
  o["geocoderesponse/point/latitude"] = num(e.lat)
  o["geocoderesponse/point/longitude"] = num(e.lon)
  o["geocoderesponse/boundingbox/southlatitude"] = num(e.bbox[1])
  o["geocoderesponse/boundingbox/westlongitude"] = num(e.bbox[2])
  o["geocoderesponse/boundingbox/northlatitude"] = num(e.bbox[3])
  o["geocoderesponse/boundingbox/eastlongitude"] = num(e.bbox[4])
  if g.parse and #g.parse > 0 then
    local qp = json.array()
    for i, p in ipairs(g.parse) do
      qp[i] = C.ordered({Property = p.property, Value = p.value}, {"Property", "Value"})
    end
    o["geocoderesponse/queryparsevalues"] = json.encode(qp)
  end
  local gp = json.array()
  for i, p in ipairs(geocode_points(e, r.reverse)) do
    -- The reference prints the values as strings; its samples swap Latitude and Longitude
    -- in places, we write each under its own name.
    gp[i] = C.ordered({Latitude = num(p.lat), Longitude = num(p.lon), UsageTypes = p.usage,
      Type = "Point", CalculationMethod = p.calc},
      {"Latitude", "Longitude", "UsageTypes", "Type", "CalculationMethod"})
  end
  o["geocoderesponse/geocodepoints"] = json.encode(gp):gsub("\\/", "/")
  return o
end
_M.response_fields = response_fields

local function trace(job_n, id, i)
  return ngx.md5("bingsim-sds-entity:" .. job_n .. ":" .. tostring(id) .. ":" .. i)
end

-- A memo of geocoding answers within a job: the same request fields, the same answer.
local function memo_key(f)
  local parts = {}
  for _, c in ipairs(_M.COLUMNS) do
    local k = c:lower()
    if k:find("request/") and f[k] and f[k] ~= "" then parts[#parts + 1] = k .. "=" .. f[k] end
  end
  return concat(parts, "\1")
end

-- Geocodes every entity: ents = list of {fields = {lower path -> value}, id =, xml =}.
-- Sets ent.outcome (geocode_fields' answer) and ent.trace.
local function run(ents, job_n)
  local memo = {}
  local failed = 0
  for i, ent in ipairs(ents) do
    local k = memo_key(ent.fields)
    local g = memo[k]
    if not g then g = geocode_fields(ent.fields); memo[k] = g end
    ent.outcome, ent.trace = g, trace(job_n, ent.id, i)
    if not g.ok then failed = failed + 1 end
  end
  return failed
end

-- Another order than sent, the same every time: by a digest of Id and position.
local function shuffled(ents)
  local out = {}
  for i, e in ipairs(ents) do out[i] = e; e.sort_key = ngx.md5(tostring(e.id) .. "\0" .. i) end
  table.sort(out, function(a, b) return a.sort_key < b.sort_key end)
  return out
end

---------------------------------------------------------------------------------------------
-- Input formats
---------------------------------------------------------------------------------------------

-- Text: line 1 "Bing Spatial Data Services, 2.0", line 2 the header, then one entity a line.
local function parse_text(body, fmt)
  local delim = C.DELIMITERS[fmt]
  -- A UTF-8 byte order mark is allowed ("must use UTF-8 encoding").
  body = body:gsub("^\239\187\191", "")
  local first_end = body:find("\n", 1, true)
  local first = (first_end and body:sub(1, first_end - 1) or body):gsub("\r$", "")
  local version = first:match("^%s*Bing Spatial Data Services%s*[" .. (delim == "\t" and "\t" or
    "%" .. delim) .. ",]%s*([%d%.]+)")
  if not version then
    return nil, "The first line of the data must be \"Bing Spatial Data Services, 2.0\"."
  end
  if version ~= "2.0" then return nil, "Only version 2.0 of the data schema is supported." end
  local rest = first_end and body:sub(first_end + 1) or ""
  local header_end = rest:find("\n", 1, true)
  local header_line = (header_end and rest:sub(1, header_end - 1) or rest):gsub("\r$", "")
  local rows = C.parse_delimited(rest, delim)
  local header = rows[1]
  if not header or #header == 0 then return nil, "The data has no header line." end
  local cols = {}
  for i, h in ipairs(header) do
    local k = h:lower()
    if not CANON[k] then return nil, format("The header field \"%s\" is not valid.", h) end
    cols[i] = k
  end
  local ents = {}
  for r = 2, #rows do
    local row = rows[r]
    local empty = true
    for _, v in ipairs(row) do if v ~= "" then empty = false; break end end
    if not empty then
      local f = {}
      for i, k in ipairs(cols) do f[k] = row[i] end
      ents[#ents + 1] = {fields = f, id = f.id or "", row = row}
    end
  end
  return {format = fmt, delim = delim, header_line = header_line, cols = cols, entities = ents}
end

-- XML attributes -> the text schema's paths.
local XML_REQ = {
  GeocodeRequest = {attrs = {"Culture", "Query", "StrictMatch", "IncludeQueryParse",
    "IncludeNeighborhood", "MaxResults"},
    children = {Address = {"AddressLine", "AdminDistrict", "Locality", "PostalCode",
      "CountryRegion", "AdminDistrict2", "FormattedAddress", "PostalTown"},
      ConfidenceFilter = {"MinimumConfidence"}}},
  ReverseGeocodeRequest = {attrs = {"Culture", "IncludeEntityTypes", "IncludeNeighborhood",
    "MaxResults"},
    children = {Location = {"Latitude", "Longitude"}, ConfidenceFilter = {"MinimumConfidence"}}},
}

local function parse_xml(body)
  local root, err = C.parse_xml(body)
  if not root then return nil, "The XML data is not valid: " .. tostring(err) .. "." end
  if root.name ~= "GeocodeFeed" then return nil, "The root element must be GeocodeFeed." end
  if C.attr(root, "Version") ~= "2.0" then
    return nil, "Only version 2.0 of the data schema is supported (GeocodeFeed Version=\"2.0\")."
  end
  local ents = {}
  for _, el in ipairs(root.children) do
    if el.name == "GeocodeEntity" then
      local f = {id = C.attr(el, "Id") or ""}
      for req_name, spec in pairs(XML_REQ) do
        local r = C.child(el, req_name)
        if r then
          local base = req_name:lower() .. "/"
          for _, a in ipairs(spec.attrs) do f[base .. a:lower()] = C.attr(r, a) end
          for cname, attrs in pairs(spec.children) do
            local c = C.child(r, cname)
            for _, a in ipairs(attrs) do f[base .. cname:lower() .. "/" .. a:lower()] = C.attr(c, a) end
          end
        end
      end
      ents[#ents + 1] = {fields = f, id = f.id, xml = el}
    end
  end
  return {format = "xml", entities = ents}
end

---------------------------------------------------------------------------------------------
-- Output formats
---------------------------------------------------------------------------------------------

local function text_row(data, ent)
  local vals = {}
  local out = ent.outcome.ok and response_fields(ent.outcome) or {}
  for i, k in ipairs(data.cols) do
    local v
    if k:find("^geocoderesponse/") then
      v = out[k]
    elseif k == "statuscode" then
      v = ent.outcome.ok and "Success" or ent.outcome.status
    elseif k == "faultreason" then
      v = ent.outcome.ok and "" or ent.outcome.reason
    elseif k == "traceid" then
      v = ent.trace
    else
      v = ent.row[i] -- request columns are echoed as uploaded
    end
    vals[i] = v or ""
  end
  return C.record(vals, data.delim)
end

local X = C.xml_escape

local function xml_attrs(list)
  local out = {}
  for _, p in ipairs(list) do
    if p[2] ~= nil and p[2] ~= "" then out[#out + 1] = format(' %s="%s"', p[1], X(p[2])) end
  end
  return concat(out)
end

local function xml_request(el)
  -- the request element, re-serialized (attributes in a fixed order)
  local parts = {}
  local function emit(node, depth)
    local names = {}
    for k in pairs(node.attrs) do names[#names + 1] = k end
    table.sort(names)
    local a = {}
    for _, k in ipairs(names) do a[#a + 1] = {k, node.attrs[k]} end
    local pad = string.rep("  ", depth)
    if #node.children == 0 then
      parts[#parts + 1] = format("%s<%s%s />", pad, node.name, xml_attrs(a))
    else
      parts[#parts + 1] = format("%s<%s%s>", pad, node.name, xml_attrs(a))
      for _, c in ipairs(node.children) do emit(c, depth + 1) end
      parts[#parts + 1] = format("%s</%s>", pad, node.name)
    end
  end
  emit(el, 2)
  return concat(parts, EOL)
end

local function xml_entity(ent)
  local lines = {format('  <GeocodeEntity Id="%s">', X(ent.id))}
  for _, name in ipairs({"GeocodeRequest", "ReverseGeocodeRequest"}) do
    local r = C.child(ent.xml, name)
    if r then lines[#lines + 1] = xml_request(r) end
  end
  local g = ent.outcome
  if g.ok then
    local o = response_fields(g)
    lines[#lines + 1] = "    <GeocodeResponse" .. xml_attrs({{"Name", o["geocoderesponse/name"]},
      {"EntityType", o["geocoderesponse/entitytype"]},
      {"Confidence", o["geocoderesponse/confidence"]},
      {"MatchCodes", o["geocoderesponse/matchcodes"]}}) .. ">"
    lines[#lines + 1] = "      <Address" .. xml_attrs({
      {"AddressLine", o["geocoderesponse/address/addressline"]},
      {"AdminDistrict", o["geocoderesponse/address/admindistrict"]},
      {"CountryRegion", o["geocoderesponse/address/countryregion"]},
      {"AdminDistrict2", o["geocoderesponse/address/admindistrict2"]},
      {"FormattedAddress", o["geocoderesponse/address/formattedaddress"]},
      {"Locality", o["geocoderesponse/address/locality"]},
      {"PostalCode", o["geocoderesponse/address/postalcode"]},
      {"Neighborhood", o["geocoderesponse/address/neighborhood"]},
      {"Landmark", o["geocoderesponse/address/landmark"]}}) .. " />"
    for _, p in ipairs(geocode_points(g.result.entry, g.result.reverse)) do
      lines[#lines + 1] = "      <GeocodePoint" .. xml_attrs({{"CalculationMethod", p.calc},
        {"Latitude", num(p.lat)}, {"Longitude", num(p.lon)}, {"Type", "Point"},
        {"UsageTypes", p.usage}}) .. " />"
    end
    for _, p in ipairs(g.parse or {}) do
      lines[#lines + 1] = "      <QueryParseValue" .. xml_attrs({{"Property", p.property},
        {"Value", p.value}}) .. " />"
    end
    lines[#lines + 1] = "      <BoundingBox" .. xml_attrs({
      {"SouthLatitude", o["geocoderesponse/boundingbox/southlatitude"]},
      {"WestLongitude", o["geocoderesponse/boundingbox/westlongitude"]},
      {"NorthLatitude", o["geocoderesponse/boundingbox/northlatitude"]},
      {"EastLongitude", o["geocoderesponse/boundingbox/eastlongitude"]}}) .. " />"
    lines[#lines + 1] = "      <Point" .. xml_attrs({{"Latitude", o["geocoderesponse/point/latitude"]},
      {"Longitude", o["geocoderesponse/point/longitude"]}}) .. " />"
    lines[#lines + 1] = "    </GeocodeResponse>"
    lines[#lines + 1] = "    <StatusCode>Success</StatusCode>"
  else
    lines[#lines + 1] = "    <StatusCode>" .. X(g.status) .. "</StatusCode>"
    lines[#lines + 1] = "    <FaultReason>" .. X(g.reason) .. "</FaultReason>"
  end
  lines[#lines + 1] = "    <TraceId>" .. ent.trace .. "</TraceId>"
  lines[#lines + 1] = "  </GeocodeEntity>"
  return concat(lines, EOL)
end

local function render(data, ents)
  if data.format == "xml" then
    local parts = {'<?xml version="1.0" encoding="utf-8"?>',
      '<GeocodeFeed Version="2.0" xmlns="http://schemas.microsoft.com/search/local/2010/5/geocode">'}
    for _, e in ipairs(ents) do parts[#parts + 1] = xml_entity(e) end
    parts[#parts + 1] = "</GeocodeFeed>"
    return concat(parts, EOL) .. EOL
  end
  local lines = {_M.HEADER_LINE, data.header_line}
  for _, e in ipairs(ents) do lines[#lines + 1] = text_row(data, e) end
  return concat(lines, EOL) .. EOL
end

---------------------------------------------------------------------------------------------
-- Jobs
---------------------------------------------------------------------------------------------

_M.JOB_TYPE = "DataflowJob:" .. C.SCHEMA
_M.SERVICE_JOB_TYPE = "DataServiceJob:" .. C.SCHEMA
local JOB_ORDER = {"__type", "id", "links", "name", "completedDate", "createdDate",
  "description", "errorMessage", "failedEntityCount", "processedEntityCount", "status",
  "totalEntityCount"}

-- Job state now: status, processed and failed counts (growing with time while Pending).
function _M.progress(job)
  local d = job.data
  if d.status == "Aborted" then return "Aborted", 0, 0 end
  if job.done then return "Completed", d.total or 0, d.failed or 0 end
  local span = math.max(job.ready_at - job.created, 1e-3)
  local frac = math.min(math.max((ngx.now() - job.created) / span, 0), 0.99)
  return "Pending", floor((d.total or 0) * frac), floor((d.failed or 0) * frac)
end

-- The DataflowJob / DataServiceJob resource of a stored job.
function _M.job_resource(req, job, path_kind)
  local d = job.data
  local id = C.hex_id(job.id)
  local base = C.base_url(req) .. "/REST/v1/Dataflows/" .. (path_kind or d.path_kind or "Geocode")
    .. "/" .. id
  local status, processed, failed = _M.progress(job)
  local links = json.array{C.ordered({role = "self", url = base}, {"role", "url"})}
  if status == "Completed" and d.outputs then
    for _, name in ipairs(d.outputs) do
      if name ~= "failed" or (d.failed or 0) > 0 then
        links[#links + 1] = C.ordered({name = name, role = "output",
          url = base .. "/output/" .. name}, {"name", "role", "url"})
      end
    end
  end
  for _, l in ipairs(d.extra_links or {}) do
    links[#links + 1] = C.ordered({name = l.name, role = l.role, url = C.base_url(req) .. l.path},
      {"name", "role", "url"})
  end
  local r = C.ordered({
    __type = d.service and _M.SERVICE_JOB_TYPE or _M.JOB_TYPE,
    id = id, links = links, name = d.name,
    createdDate = C.http_date(job.created),
    completedDate = status ~= "Pending" and C.http_date(job.ready_at) or nil,
    description = d.description, status = status,
  }, JOB_ORDER)
  if not d.service then
    r.totalEntityCount, r.processedEntityCount, r.failedEntityCount = d.total or 0, processed, failed
  end
  if status == "Aborted" then r.errorMessage = d.error_message end
  for k, v in pairs(d.fields or {}) do r[k] = v end
  return r
end

-- Jobs of this key still in process ("in process until the status is Completed or Aborted").
function _M.pending_count(label)
  local n = 0
  for _, id in ipairs(C.job_ids(label)) do
    local j = jobs.get(id)
    if j and not j.done and (j.data or {}).status ~= "Aborted" then n = n + 1 end
  end
  return n
end

-- A job for this key, checked against the key that made it.
function _M.find_job(req, hex, kind)
  local guid = C.guid(hex)
  if not guid then return nil, _M.bad(req, "jobId", envelope.NOT_VALID) end
  local job = jobs.get(guid)
  if not job or job.key_label ~= req.key_label or (kind and job.kind ~= kind) then
    return nil, _M.fail(req, 404)
  end
  return job
end

-- Creates an indexed job. Returns the job or nil, the 503 answer.
function _M.new_job(req, kind, data)
  local lim = limits(req)
  if _M.pending_count(req.key_label) >= lim.pending then
    return nil, _M.fail(req, 503, format("The maximum number of pending jobs (%d) for this Bing "
      .. "Maps Key has been reached. Try again when one of them has completed.", lim.pending))
  end
  local job = assert(jobs.create{kind = kind, delay = C.delay(req, jobs.DEFAULT_DELAY),
    data = data, key_label = req.key_label})
  C.index_job(req.key_label, job.id)
  return job
end

local INPUTS = {csv = true, tab = true, pipe = true, xml = true}
local TEXT_TYPES = {["text/plain"] = true, ["application/octet-stream"] = true,
  ["application/xml"] = true, ["text/xml"] = true, ["text/csv"] = true}

-- Reads an uploaded data file (input= param, Content-Type, gzip, size limit). Returns body
-- or nil, error answer.
function _M.upload(req)
  local input = req.param("input")
  if not input or input == "" then return nil, _M.bad(req, "input", envelope.MISSING) end
  input = input:lower()
  if not INPUTS[input] then return nil, _M.bad(req, "input", envelope.NOT_VALID) end
  local has_body = req.body and #req.body > 0
  if req.param("dataLocation") then
    if has_body then
      return nil, _M.bad(req, "dataLocation",
        "Set dataLocation or include the data in the request, not both.")
    end
    return nil, _M.bad(req, "dataLocation",
      "Data in Azure Blob storage is not emulated: include the data in the request.")
  end
  if not has_body then
    return nil, _M.fail(req, 400, {envelope.INVALID_PARAMETERS,
      "No data was uploaded: include the data in the body of the request."})
  end
  local ctype = ((C.header(req, "content-type") or ""):match("^%s*([^;%s]+)") or ""):lower()
  if not TEXT_TYPES[ctype] then
    return nil, _M.fail(req, 400, {envelope.INVALID_PARAMETERS,
      "Content-Type: use application/xml for xml data, text/plain for csv, tab and pipe "
      .. "data, application/octet-stream for compressed data."})
  end
  local lim = limits(req)
  local body, why = C.body(req, lim.bytes)
  if not body then
    if why == "too large" then
      return nil, _M.fail(req, 400, {envelope.INVALID_PARAMETERS, format("The uncompressed data "
        .. "is larger than the maximum of %d MB.", lim.bytes / 1048576)})
    end
    return nil, _M.fail(req, 400, {envelope.INVALID_PARAMETERS,
      "The compressed data could not be read: " .. tostring(why) .. "."})
  end
  return body, input
end

local function create_geocode(req)
  local body, input = _M.upload(req)
  if not body then return input end
  local data, err
  if input == "xml" then data, err = parse_xml(body) else data, err = parse_text(body, input) end
  if not data then return _M.fail(req, 400, {envelope.INVALID_PARAMETERS, err}) end
  local n = #data.entities
  local lim = limits(req)
  if n > lim.entities then
    return _M.fail(req, 400, {envelope.INVALID_PARAMETERS, format("The data contains %d entities; "
      .. "the maximum is %d entities per job.", n, lim.entities)})
  end
  if n == 0 then
    return _M.fail(req, 400, {envelope.INVALID_PARAMETERS, "The data contains no entities."})
  end
  local job, busy = _M.new_job(req, "sds-geocode", {total = n, failed = 0, path_kind = "Geocode",
    description = req.param("description"), outputs = {"succeeded", "failed"},
    list_description = "Geocode"})
  if not job then return busy end
  local failed = run(data.entities, job.n)
  local ok_list, bad_list = {}, {}
  for _, e in ipairs(shuffled(data.entities)) do
    if e.outcome.ok then ok_list[#ok_list + 1] = e else bad_list[#bad_list + 1] = e end
  end
  C.put_blob(job.id .. ":succeeded", render(data, ok_list))
  if failed > 0 then C.put_blob(job.id .. ":failed", render(data, bad_list)) end
  local d = job.data
  d.failed, d.format = failed, data.format
  jobs.update(job.id, {data = d})
  job = jobs.get(job.id)
  -- create-a-geocode-job: "a set of transactions equal to the number of total entities".
  C.book(req, "Dataflow:BatchGeocode", n)
  local res = _M.accepted(req, job)
  return _M.answer(req, {res}, 201, {Location = res.links[1].url})
end

-- The job as the create request answers it: just accepted, Pending, nothing processed yet
-- (even when its delay is 0 and a status request would already say Completed).
function _M.accepted(req, job)
  local res = _M.job_resource(req, job)
  res.status, res.completedDate = "Pending", nil
  if res.processedEntityCount then res.processedEntityCount, res.failedEntityCount = 0, 0 end
  res.links = json.array{res.links[1]}
  return res
end

local CONTENT_TYPES = {xml = "application/xml; charset=utf-8", csv = "text/plain; charset=utf-8",
  tab = "text/plain; charset=utf-8", pipe = "text/plain; charset=utf-8"}

local function download(req, job, name)
  local status = _M.progress(job)
  if status ~= "Completed" then return _M.fail(req, 404) end
  local blob = C.get_blob(job.id .. ":" .. name)
  if not blob then return _M.fail(req, 404) end
  return {status = 200, body = blob, content_type = CONTENT_TYPES[job.data.format] or
    CONTENT_TYPES.csv}
end

local function list_jobs(req)
  local pending, done = {}, {}
  for _, id in ipairs(C.job_ids(req.key_label)) do
    local j = jobs.get(id)
    if j and not (j.data or {}).download then
      local r = _M.job_resource(req, j)
      r.description = j.data.list_description or r.description
      if r.status == "Pending" then pending[#pending + 1] = r else done[#done + 1] = r end
    end
  end
  -- "pending jobs listed first", then the newest first
  local out = {}
  for i = #pending, 1, -1 do out[#out + 1] = pending[i] end
  for i = #done, 1, -1 do out[#out + 1] = done[i] end
  return _M.answer(req, out)
end

local CATEGORY = {geocode_create = "Dataflow:Create", geocode_get = "Dataflow:Get",
  geocode_download = "Dataflow:Download"}

local function route(req)
  local r = req.rest or {}
  local op = (r[1] or ""):lower()
  if op == "geocode" then
    if #r == 1 then return req.method == "POST" and "geocode_create" or "method" end
    if req.method ~= "GET" then return "method" end
    if #r == 2 then return "geocode_get" end
    if #r == 4 and r[3]:lower() == "output" then return "geocode_download" end
    return "notfound"
  elseif op == "listjobs" then
    return req.method == "GET" and #r == 1 and "listjobs" or "notfound"
  elseif op == "loaddatasource" or op == "datasourcedownload" or op == "datasourcerollback" then
    return "data"
  end
  return "notfound"
end

function _M.classify(req)
  local what = route(req)
  if CATEGORY[what] then return {category = CATEGORY[what], transactions = 1} end
  if what == "listjobs" then return {category = "Dataflow:Get", transactions = 1} end
  if what == "data" then return require("bingsim.sds_data").classify(req) end
  return nil
end

function _M.handle(req)
  local what = route(req)
  local r = req.rest or {}
  if what == "method" then return _M.fail(req, 405) end
  if what == "notfound" then return _M.fail(req, 404) end
  if what == "data" then return require("bingsim.sds_data").handle_dataflow(req) end
  if what == "listjobs" then return list_jobs(req) end
  if what == "geocode_create" then return create_geocode(req) end
  local job, err = _M.find_job(req, r[2], "sds-geocode")
  if not job then return err end
  if what == "geocode_get" then return _M.answer(req, {_M.job_resource(req, job)}) end
  local name = r[4]:lower()
  if name ~= "succeeded" and name ~= "failed" then return _M.fail(req, 404) end
  return download(req, job, name)
end

return _M
