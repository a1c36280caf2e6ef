--- The Query API (query-api/) and the Geodata API (geodata-api.md) of the Spatial Data
-- Services.
--
--     local q = assert(client.sds.query{source = bing.sds.FOURTH_COFFEE, near = {47.6, -122.3},
--       distance = 10, filter = {IsWiFiHotSpot = true, SeatingCapacity = {ge = 20}}, top = 50})
--     for shop in q:each() do print(shop.Name, shop:latlon()) end
--     local b = assert(client.sds.boundary{point = {47.64, -122.13}, entityType = "Postcode1"})
--     print(b[1].Name.EntityName, #b[1]:rings()[1])
-- @module bing.api.sds_query
local check = require "bing.check"
local errors = require "bing.errors"
local jobs = require "bing.jobs"
local points = require "bing.points"
local gj = require "bing.geojson"

local _M = {}

local format, concat = string.format, table.concat

-- query-options.md: "$top ... The default value is 25 and the maximum value is 250".
local MAX_TOP = 250
-- query-by-area.md: "between 0.16 and 1000 kilometers".
local MIN_KM, MAX_KM = 0.16, 1000
-- query-by-area.md: "a maximum of 200 points" in an intersects geography.
local MAX_WKT_POINTS = 200

-- Literals and the $filter built from Lua values

-- A property name as the Query API takes it (the data schema's names: letters, digits, _).
local function property(what, name)
  if type(name) ~= "string" or not name:find("^[%a_][%w_]*$") then
    check.raise(what, "filter: '%s' is not a property name (letters, digits and _)", tostring(name))
  end
  return name
end

local DATETIME = {}
--- A DateTime value for a filter: `bing.sds.datetime("2012-10-01T00:00:00")`.
local function datetime(s)
  if type(s) ~= "string" or not s:find("^%d%d%d%d%-%d%d%-%d%dT?[%d:%.]*$") then
    errors.raise("sds.datetime: give \"YYYY-MM-DD\" or \"YYYY-MM-DDThh:mm:ss\"", 2)
  end
  return setmetatable({value = s}, DATETIME)
end
_M.datetime = datetime
local NULL = setmetatable({}, {__tostring = function() return "bing.sds.null" end})
_M.null = NULL

-- An OData literal of a Lua value: strings quoted with ' doubled (so no input can end the
-- literal), finite numbers, booleans, null, datetime'...'.
local function literal(what, v)
  local t = type(v)
  if t == "string" then return "'" .. v:gsub("'", "''") .. "'" end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if not check.finite(v) then check.raise(what, "filter: numbers must be finite, got %s", tostring(v)) end
    if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return format("%d", v) end
    return format("%.17g", v)
  end
  if v == NULL then return "null" end
  if getmetatable(v) == DATETIME then return "datetime'" .. v.value .. "'" end
  check.raise(what, "filter: a value must be a string, number, boolean, bing.sds.null or "
    .. "bing.sds.datetime(...), got %s", t)
end

local OPS = {eq = "eq", ne = "ne", gt = "gt", ge = "ge", lt = "lt", le = "le"}

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do
    if type(k) ~= "number" then ks[#ks + 1] = k end
  end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

local build

-- One property's condition: a value (eq), or {op = value, ...} (and-ed), `in = {...}`,
-- `startswith =`, `endswith =`.
local function condition(what, name, c, out)
  property(what, name)
  if type(c) ~= "table" or c == NULL or getmetatable(c) == DATETIME then
    out[#out + 1] = name .. " eq " .. literal(what, c)
    return
  end
  for _, op in ipairs(sorted_keys(c)) do
    local v = c[op]
    local lop = type(op) == "string" and op:lower() or op
    if OPS[lop] then
      out[#out + 1] = format("%s %s %s", name, OPS[lop], literal(what, v))
    elseif lop == "in" then
      if type(v) ~= "table" or #v == 0 then
        check.raise(what, "filter: %s.in must be a non-empty list", name)
      end
      local items = {}
      for i, x in ipairs(v) do items[i] = literal(what, x) end
      out[#out + 1] = format("%s in (%s)", name, concat(items, ","))
    elseif lop == "startswith" or lop == "endswith" then
      if type(v) ~= "string" then check.raise(what, "filter: %s.%s takes a string", name, op) end
      out[#out + 1] = format("%s(%s,%s) eq true", lop == "startswith" and "StartsWith" or "EndsWith",
        name, literal(what, v))
    else
      check.raise(what, "filter: unknown operator '%s' for %s (eq, ne, gt, ge, lt, le, in, "
        .. "startswith, endswith)", tostring(op), name)
    end
  end
end

-- A table of conditions -> filter text. Keys: property names; `_or = {{...}, {...}}` (any
-- of), `_not = {...}`; everything and-ed.
function build(what, t, depth)
  if depth > 8 then check.raise(what, "filter: nested too deep") end
  local out = {}
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    if k == "_or" then
      if type(v) ~= "table" or #v == 0 then
        check.raise(what, "filter: _or must be a non-empty list of tables")
      end
      local alts = {}
      for i, sub in ipairs(v) do
        if type(sub) ~= "table" then check.raise(what, "filter: _or[%d] must be a table", i) end
        alts[i] = "(" .. build(what, sub, depth + 1) .. ")"
      end
      out[#out + 1] = "(" .. concat(alts, " or ") .. ")"
    elseif k == "_not" then
      if type(v) ~= "table" then check.raise(what, "filter: _not must be a table") end
      out[#out + 1] = "not (" .. build(what, v, depth + 1) .. ")"
    else
      condition(what, k, v, out)
    end
  end
  if #out == 0 then check.raise(what, "filter: no condition") end
  return concat(out, " and ")
end

--- The `$filter` text of a table of conditions (see README): `bing.sds.filter{Name = "x"}`.
function _M.filter_text(t, what)
  what = what or "sds.filter"
  if type(t) ~= "table" then check.raise(what, "filter must be a table") end
  return build(what, t, 1)
end

-- Results

local Entity = {}
Entity.__index = Entity
_M.Entity = Entity

local function coord(v)
  if type(v) == "number" then return v end
  return tonumber(v)
end

--- lat, lon of a Query API entity (its Latitude and Longitude properties), or nil.
function Entity:latlon()
  local lat, lon = coord(rawget(self, "Latitude")), coord(rawget(self, "Longitude"))
  if lat and lon then return lat, lon end
  return nil
end

-- Every property of the entity but __metadata (JSON nulls left out); integers beyond 2^53
-- (Edm.Int64 ids) as strings of digits.
local function feature(e)
  local props = {}
  for k, v in pairs(e) do
    if k ~= "__metadata" and type(v) ~= "userdata" then props[k] = v end
  end
  return gj.feature(gj.point(Entity.latlon(e)), props)
end

--- A GeoJSON Feature (lon/lat) with the entity's properties.
function Entity:geojson() return feature(self) end

local Page = {}
Page.__index = Page
_M.Page = Page

--- A FeatureCollection of this page's entities.
function Page:geojson()
  local fs = {}
  for i, e in ipairs(self) do fs[i] = feature(e) end
  return gj.collection(fs)
end

-- query

-- "<accessId>/<dataSourceName>/<entityTypeName>" or {access_id =, name =, entity =}.
local function source_of(what, s, need_entity)
  local a, n, e
  if type(s) == "string" then
    local parts = {}
    for p in (s .. "/"):gmatch("([^/]*)/") do parts[#parts + 1] = p end
    a, n, e = parts[1], parts[2], parts[3]
    if #parts > 3 then check.raise(what, "source '%s' has more than three parts", s) end
  elseif type(s) == "table" then
    a, n, e = s.access_id, s.name, s.entity
  else
    check.raise(what, "source must be \"<accessId>/<dataSourceName>/<entityTypeName>\" or "
      .. "{access_id =, name =, entity =}")
  end
  local parts = {{"access_id", a}, {"name", n}}
  if need_entity then parts[3] = {"entity", e} end
  for _, p in ipairs(parts) do
    local v = p[2]
    if type(v) ~= "string" or v == "" or v:find("[/%c]") then
      check.raise(what, "source: %s must be a non-empty string without / (got %s)", p[1], tostring(v))
    end
  end
  return {access_id = a, name = n, entity = e}
end
_M.source_of = source_of

-- A point or an address of a spatial filter -> its text, and whether the service geocodes it.
local function place(what, name, v)
  if type(v) == "string" then
    if v == "" then check.raise(what, "%s: the address is empty", name) end
    return "'" .. v:gsub("'", "''") .. "'", true
  end
  local text, err = check.point(what, name, v)
  if not text then return nil, err end
  return text, false
end

-- A GeoJSON geometry (Point, LineString, Polygon, MultiPolygon) -> WKT; a string is WKT.
local function wkt_of(what, g)
  if type(g) == "string" then
    local kind = g:match("^%s*(%a+)")
    kind = kind and kind:upper()
    if not (kind == "POINT" or kind == "LINESTRING" or kind == "POLYGON" or kind == "MULTIPOLYGON"
            or kind == "MULTIPOINT" or kind == "MULTILINESTRING") then
      check.raise(what, "intersects: WKT must start with POINT, LINESTRING, POLYGON, ... (got '%s')",
        g:sub(1, 20))
    end
    if g:find("'") then check.raise(what, "intersects: WKT holds no quote") end
    return g
  end
  if type(g) ~= "table" or type(g.coordinates) ~= "table" then
    check.raise(what, "intersects must be a WKT string or a GeoJSON geometry table")
  end
  local function pt(c)
    if type(c) ~= "table" or not check.finite(c[1]) or not check.finite(c[2]) then
      check.raise(what, "intersects: a position is {lon, lat}")
    end
    return format("%.14g %.14g", c[1], c[2])
  end
  local function line(cs)
    local out = {}
    for i, c in ipairs(cs) do out[i] = pt(c) end
    return "(" .. concat(out, ", ") .. ")"
  end
  local function poly(rings)
    local out = {}
    for i, r in ipairs(rings) do out[i] = line(r) end
    return "(" .. concat(out, ", ") .. ")"
  end
  local t, c = g.type, g.coordinates
  if t == "Point" then return "POINT (" .. pt(c) .. ")" end
  if t == "LineString" then return "LINESTRING " .. line(c) end
  if t == "Polygon" then return "POLYGON " .. poly(c) end
  if t == "MultiPolygon" then
    local out = {}
    for i, p in ipairs(c) do out[i] = poly(p) end
    return "MULTIPOLYGON (" .. concat(out, ", ") .. ")"
  end
  check.raise(what, "intersects: GeoJSON type %s is not taken (Point, LineString, Polygon, "
    .. "MultiPolygon)", tostring(t))
end

-- A client for the user's query key: the query goes with that key (query-by-area.md: "key:
-- ... a query key"), metered on the calling client's meter. Kept per client and key.
local key_clients = setmetatable({}, {__mode = "k"})
local function query_client(client, query_key)
  if query_key == nil then return client end
  local per = key_clients[client]
  if not per then per = {}; key_clients[client] = per end
  local c = per[query_key]
  if not c then
    local opts = {}
    for k, v in pairs(client._opts or {}) do opts[k] = v end
    opts.key, opts.session_key = query_key, nil
    opts.transport = opts.transport or client.transport
    c = require("bing.client").new(opts)
    -- One meter (usage, budget) for the user's calls, whichever key they go with.
    c.meter, c.limiter = client.meter, client.limiter
    per[query_key] = c
  end
  return c
end

-- A property name or a list of them ("*": all)
local function select_text(what, _, v)
  if type(v) == "string" then v = {v} end
  if type(v) ~= "table" or #v == 0 then check.raise(what, "select must be a list of property names") end
  local out = {}
  for i, s in ipairs(v) do
    if s ~= "*" then property(what, s) end
    out[i] = s
  end
  return concat(out, ",")
end

-- Up to 3 "Property [asc|desc]" (a string or a list)
local function orderby_text(what, _, v)
  if type(v) == "string" then v = {v} end
  if type(v) ~= "table" or #v == 0 then check.raise(what, "orderby must be a list of properties") end
  if #v > 3 then return check.bad(what, "orderby: at most 3 properties, got %d", #v) end
  local out = {}
  for i, s in ipairs(v) do
    local name, dir = tostring(s):match("^([%w_]+)%s*(%a*)$")
    if not name then check.raise(what, "orderby: '%s' is not \"Property [asc|desc]\"", tostring(s)) end
    property(what, name)
    dir = dir:lower()
    if dir ~= "" and dir ~= "asc" and dir ~= "desc" then
      check.raise(what, "orderby: direction must be asc or desc, got '%s'", dir)
    end
    if name == "Latitude" or name == "Longitude" then
      return check.bad(what, "orderby: the service cannot sort by %s", name)
    end
    out[i] = dir ~= "" and name .. " " .. dir or name
  end
  return concat(out, ",")
end

-- Reads the OData answer into a Page.
local function page_of(doc, meta)
  local d = type(doc) == "table" and doc.d
  if type(d) ~= "table" then return nil, errors.new("decode", "Query API answer has no \"d\"") end
  local page = setmetatable({}, Page)
  local list = d.results
  if type(list) ~= "table" then
    list = {d} -- query by ID: {"d": {entity}}
  end
  for i, e in ipairs(list) do
    if type(e) == "table" then
      if type(e.__metadata) == "table" then e.__metadata.uri = jobs.redact_url(e.__metadata.uri) end
      page[i] = setmetatable(e, Entity)
    end
  end
  page.count = tonumber(d.__count)
  page.copyright = d.__copyright
  page.meta = meta
  return page
end

-- The OData answer's link to its next page, and its count ($inlinecount).
local function odata_next(doc)
  local d = type(doc) == "table" and doc.d
  return type(d) == "table" and type(d.__next) == "string" and d.__next or nil
end
local function odata_count(doc)
  local d = type(doc) == "table" and doc.d
  return type(d) == "table" and tonumber(d.__count) or nil
end

-- The rules of a query across its options: the spatial filter, the filter, by ID; the key
-- and the billing category.
local function query_rules(call)
  local what, args, v = call.what, call.args, call.values
  local src = v.source
  local poi = src[1]:lower() == "microsoft" and src[2]:lower() == "pointsofinterest"
  local category = poi and "RESTSpatialDataService:QueryPointsOfInterest" or "RESTSpatialDataService:Query"
  local geocoded = 0
  local spatial
  local kinds = 0
  for _, k in ipairs{"near", "bbox", "route", "intersects", "id"} do
    if args[k] ~= nil then kinds = kinds + 1 end
  end
  if kinds > 1 then check.raise(what, "give one of near, bbox, route, intersects and id") end
  if args.distance ~= nil and args.near == nil then check.raise(what, "distance goes with near") end
  if args.near ~= nil then
    local p, perr = place(what, "near", args.near)
    if not p then return nil, perr end
    local is_addr = type(args.near) == "string"
    if args.distance == nil then check.raise(what, "near needs distance (km)") end
    local km, kerr = check.number(what, "distance", args.distance, true)
    if not km then return nil, kerr end
    if km < MIN_KM or km > MAX_KM then
      return check.bad(what, "distance must be within [%g, %g] km, got %g", MIN_KM, MAX_KM, km)
    end
    if is_addr then geocoded = geocoded + 1 end
    spatial = format("nearby(%s,%s)", p, format("%.14g", km))
  elseif args.bbox ~= nil then
    local bb, berr = check.bbox(what, "bbox", args.bbox)
    if not bb then return nil, berr end
    spatial = "bbox(" .. bb .. ")"
  elseif args.route ~= nil then
    if poi then return check.bad(what, "route: PointsOfInterest does not support nearRoute") end
    local r = args.route
    if type(r) ~= "table" or #r ~= 2 then
      check.raise(what, "route must be {start, end} (points or addresses)")
    end
    -- query-near-route.md: each end quoted, a point as 'lat,lon' or an address.
    local a, aerr = place(what, "route[1]", r[1])
    if not a then return nil, aerr end
    local b, berr = place(what, "route[2]", r[2])
    if not b then return nil, berr end
    if type(r[1]) ~= "string" then a = "'" .. a .. "'" end
    if type(r[2]) ~= "string" then b = "'" .. b .. "'" end
    for i = 1, 2 do if type(r[i]) == "string" then geocoded = geocoded + 1 end end
    spatial = format("nearRoute(%s,%s)", a, b)
  elseif args.intersects ~= nil then
    if poi then return check.bad(what, "intersects: PointsOfInterest does not support it") end
    local w = wkt_of(what, args.intersects)
    local n = 0
    for _ in w:gmatch("[-%d.]+%s+[-%d.]+") do n = n + 1 end
    if n > MAX_WKT_POINTS then
      return check.bad(what, "intersects: at most %d points, got %d", MAX_WKT_POINTS, n)
    end
    spatial = "intersects('" .. w .. "')"
  end
  local filter = args.filter
  if filter ~= nil then
    if type(filter) == "string" then
      if not args.raw_filter then
        check.raise(what, "filter is a string: build it from a table ({Name = \"x\"}), or say "
          .. "raw_filter = true to send the string as it is")
      end
    elseif type(filter) == "table" then
      if args.raw_filter then check.raise(what, "raw_filter = true takes a string filter") end
      filter = build(what, filter, 1)
    else
      check.raise(what, "filter must be a table (or a string with raw_filter = true)")
    end
  end
  v.filter = filter
  if v.orderby and not spatial and not filter then
    return check.bad(what, "orderby needs a spatial filter or a filter (query-options.md)")
  end
  if args.id ~= nil and (filter or v.orderby or v.top or v.skip) then
    check.raise(what, "a query by id takes select only")
  end
  if args.id ~= nil then
    if type(args.id) ~= "string" and type(args.id) ~= "number" then
      check.raise(what, "id must be a string or a number")
    end
    local idtext = type(args.id) == "number" and format("%d", args.id) or args.id
    v.source = {src[1], src[2], src[3] .. "('" .. idtext:gsub("'", "''") .. "')"}
  end
  call.client = query_client(call.client, v.query_key)
  call.billing = category
  if geocoded > 0 then
    -- One RESTLocations per address the service geocodes (the transaction table), on the
    -- one request: nearRoute with two addresses counts two.
    call.billing = {category = category, also = {category = "RESTLocations", units = geocoded}}
  end
  call.params = {{"spatialFilter", spatial}}
end

-- A string
local function str(what, name, x) return check.typed(what, name, x, "string") end
-- A boolean
local function bool(what, name, x) return check.typed(what, name, x, "boolean") end
-- "<accessId>/<dataSourceName>/<entityTypeName>" or {access_id =, name =, entity =}
local function query_source(what, _, x)
  local src = source_of(what, x, true)
  return {src.access_id, src.name, src.entity}
end
-- true: the answer counts the whole set (__count)
local function inlinecount(what, name, x) return check.boolean(what, name, x) and "allpages" or nil end
-- true: the staged version of the data source
local function staging(what, name, x) return check.boolean(what, name, x) and 1 or nil end
-- "json" (the one answer the library reads)
local function json_only(what, _, x)
  if tostring(x):lower() ~= "json" then
    return check.bad(what, "format: the library reads the JSON answer only (\"json\")")
  end
  return x
end

--- Queries a data source. Returns the first page (a list of entities with the pager's
-- methods: `q:pages()`, `q:each()`, `q:all{max =}`), or nil, err.
_M.query = {api = "sds", path = "/REST/v1/data", answer = "odata", fixed = {{"$format", "json"}},
  params = {
    {"query_key", str, send = false}, {"raw_filter", bool, send = false},
    {"source", query_source, required = true, segment = true},
    {"near", send = false}, {"distance", send = false}, {"bbox", send = false},
    {"route", send = false}, {"intersects", send = false}, {"id", send = false},
    {"filter", bing = "$filter"}, {"select", select_text, bing = "$select"},
    {"orderby", orderby_text, bing = "$orderby"}, {"top", check.int(0, MAX_TOP), bing = "$top"},
    {"skip", check.int(0, math.huge), bing = "$skip"},
    {"inlinecount", inlinecount, bing = "$inlinecount"}, {"staging", staging, bing = "isStaging"},
    {"format", json_only, send = false}},
  rules = query_rules,
  -- (the REST front end's 2,083 characters, bing.endpoint.URL_LIMIT, key included)
  too_long = "the request URL would pass the service's %d characters: send less (a simpler "
    .. "intersects shape)",
  -- Sized by the caller ($top): a full page may have more after it; sized by the service:
  -- its __next. A query by ID is one page.
  pages = {top = "top", skip = "skip", next = odata_next, count = odata_count,
           when = function(call) return call.args.id == nil end},
  result = page_of}

-- Geodata: boundary

local ENTITY_TYPES = {"CountryRegion", "AdminDivision1", "AdminDivision2", "Postcode1",
  "Postcode2", "Postcode3", "Postcode4", "Neighborhood", "PopulatedPlace"}
local ENTITY_CANON = {}
for _, t in ipairs(ENTITY_TYPES) do ENTITY_CANON[t:lower()] = t end

local Boundary = {}
Boundary.__index = Boundary
_M.Boundary = Boundary

-- Decodes every primitive once: {polygon = {ring...}, points = n, stated = NumPoints}.
local function decoded(self)
  local cache = rawget(self, "_decoded")
  if cache then return cache end
  cache = {}
  for i, p in ipairs(type(self.Primitives) == "table" and self.Primitives or {}) do
    local rings, err = points.decode_shape(type(p.Shape) == "string" and p.Shape or "")
    if not rings then return nil, err end
    local n = 0
    for _, r in ipairs(rings) do
      n = n + #r -- as the service sent them (NumPoints counts the closing point it sends)
      -- Closed as GeoJSON wants them (the service's are; a ring that is not gets its first point).
      if #r > 0 and (r[1][1] ~= r[#r][1] or r[1][2] ~= r[#r][2]) then r[#r + 1] = {r[1][1], r[1][2]} end
    end
    cache[i] = {polygon = rings, points = n, stated = tonumber(p.NumPoints)}
  end
  rawset(self, "_decoded", cache)
  return cache
end

--- Every ring of every primitive, each a closed list of {lat, lon}; or nil, err (kind
-- `decode`) when a shape is malformed.
function Boundary:rings()
  local d, err = decoded(self)
  if not d then return nil, err end
  local out = {}
  for _, p in ipairs(d) do for _, r in ipairs(p.polygon) do out[#out + 1] = r end end
  return out
end

--- The polygons (one per primitive: its rings), for a MultiPolygon.
function Boundary:polygons()
  local d, err = decoded(self)
  if not d then return nil, err end
  local out = {}
  for i, p in ipairs(d) do out[i] = p.polygon end
  return out
end

--- Per primitive, the points decoded and the count the answer states (NumPoints).
function Boundary:point_counts()
  local d, err = decoded(self)
  if not d then return nil, err end
  local out = {}
  for i, p in ipairs(d) do out[i] = {decoded = p.points, stated = p.stated} end
  return out
end

--- A GeoJSON Feature: a Polygon (one primitive) or a MultiPolygon, lon/lat, exteriors
-- counter-clockwise (RFC 7946); properties EntityID, Name (the EntityName), EntityMetadata.
-- nil, err (kind `decode`) when a shape is malformed.
function Boundary:geojson()
  local polys, err = self:polygons()
  if not polys then return nil, err end
  local name = type(self.Name) == "table" and self.Name.EntityName or nil
  return gj.feature(gj.polygons(polys),
    {EntityID = self.EntityID, Name = name, EntityMetadata = self.EntityMetadata})
end

local BoundaryList = {}
BoundaryList.__index = BoundaryList
_M.BoundaryList = BoundaryList

--- A GeoJSON FeatureCollection of the boundaries (nil, err when a shape is malformed).
function BoundaryList:geojson()
  local fs = {}
  for i, b in ipairs(self) do
    local f, err = b:geojson()
    if not f then return nil, err end
    fs[i] = f
  end
  return gj.collection(fs)
end

-- CountryRegion, AdminDivision1, AdminDivision2, Postcode1 to 4, Neighborhood or
-- PopulatedPlace (any case)
local function entity_type(what, name, v)
  if type(v) ~= "string" then check.raise(what, "%s must be a string", name) end
  local et = ENTITY_CANON[v:lower()]
  if not et then
    return check.bad(what, "entityType must be one of %s, got '%s'", concat(ENTITY_TYPES, ", "), v)
  end
  return et
end

-- A boolean (sent as 1 or 0)
local function flag01(what, name, v) return check.boolean(what, name, v) and 1 or 0 end

--- Boundaries of the entity of `entityType` at a point or an address (geodata-api.md).
-- Returns a list of Boundary objects (`list.copyright`, `list.meta`), or nil, err.
-- @usage local b = assert(client.sds.boundary{point = {47.64, -122.13}, entityType = "Postcode1"})
-- print(b[1].Name, #b[1]:rings())
_M.boundary = {api = "geodata", path = "/geo/spatial/v1/public/Geodata", answer = "odata",
  billing = "RESTSpatialDataService:Geodata", fixed = {{"$format", "json"}},
  before = function(call)
    local args = call.args
    if (args.point == nil) == (args.address == nil) then check.raise(call.what, "give point or address") end
  end,
  params = {{"entityType", entity_type, required = true, send = false},
    {"levelOfDetail", check.int(0, 3), send = false},
    {"getAllPolygons", flag01, send = false}, {"getEntityMetadata", flag01, send = false},
    {"point", check.point, send = false},
    {"address", str, send = false},
    {"culture", send = false}, {"userRegion", send = false},
    {"preferCuratedPolygons", flag01, bing = "PreferCuratedPolygons"}},
  -- The one SpatialFilter of them all: GetBoundary(where, lod, type, all, metadata[, culture
  -- [, region]]).
  rules = function(call)
    local what, v, args = call.what, call.values, call.args
    local where = v.point or "'" .. v.address:gsub("'", "''") .. "'"
    local tail = ""
    if args.culture ~= nil or args.userRegion ~= nil then
      local c = check.culture(what, "culture", args.culture or call.client.culture or "en-US")
      tail = ",'" .. c .. "'"
      if args.userRegion ~= nil then
        local r, rerr = check.iso2(what, "userRegion", args.userRegion)
        if not r then return nil, rerr end
        tail = tail .. ",'" .. r .. "'"
      end
    end
    call.params = {{"SpatialFilter", format("GetBoundary(%s,%d,'%s',%d,%d%s)", where,
      v.levelOfDetail or 0, v.entityType, v.getAllPolygons or 0, v.getEntityMetadata or 0, tail)}}
    if v.address then
      call.billing = {category = "RESTSpatialDataService:Geodata", also = "RESTLocations"}
    end
  end,
  result = function(doc, meta)
    local d = type(doc) == "table" and doc.d
    if type(d) ~= "table" then return nil, errors.new("decode", "Geodata answer has no \"d\"") end
    local out = {copyright = d.Copyright, meta = meta}
    for i, r in ipairs(type(d.results) == "table" and d.results or {}) do
      if type(r.__metadata) == "table" then r.__metadata.uri = jobs.redact_url(r.__metadata.uri) end
      out[i] = setmetatable(r, Boundary)
    end
    return setmetatable(out, BoundaryList)
  end}

return _M
