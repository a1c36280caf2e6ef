--- The Geocode Dataflow's data files (geocode-dataflow-data-schema-version-2-0.md): entities
-- as Lua tables nested by the schema's column paths, written to csv, tab, pipe or xml, and
-- results files read back into the same shape.
--
--     {Id = "1", GeocodeRequest = {Query = "Denver, CO"}}
--     {Id = "2", GeocodeRequest = {Address = {AddressLine = "1 Microsoft Way", Locality = "Redmond"}}}
--     {Id = "3", ReverseGeocodeRequest = {Location = {Latitude = 47.6, Longitude = -122.3}}}
-- @module bing.api.sds_format
local cjson = require "cjson.safe"
local errors = require "bing.errors"

local _M = {}

local concat, format = table.concat, string.format

_M.VERSION_LINE = "Bing Spatial Data Services, 2.0"
_M.XMLNS = "http://schemas.microsoft.com/search/local/2010/5/geocode"

-- The text schema's columns, in the schema's order.
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

-- Request fields of the XML form only (the schema: "available with XML requests only").
local XML_ONLY = {
  ["GeocodeRequest/IncludeQueryParse"] = true, ["GeocodeRequest/IncludeNeighborhood"] = true,
  ["GeocodeRequest/MaxResults"] = true, ["ReverseGeocodeRequest/IncludeNeighborhood"] = true,
  ["ReverseGeocodeRequest/MaxResults"] = true, ["ReverseGeocodeRequest/Culture"] = true,
  ["ReverseGeocodeRequest/ConfidenceFilter/MinimumConfidence"] = true,
}

-- Columns read as numbers and as booleans from a results file.
local function numeric(path)
  return path:find("Latitude$") or path:find("Longitude$") or path:find("MaxResults$") ~= nil
end
local BOOLEAN = {StrictMatch = true, IncludeQueryParse = true, IncludeNeighborhood = true}

_M.DELIMITERS = {csv = ",", tab = "\t", pipe = "|"}
_M.FORMATS = {csv = true, tab = true, pipe = true, xml = true}

local function bad(what, fmt, ...)
  return nil, errors.argument(what .. ": " .. format(fmt, ...))
end

-- A value of an entity as text: strings as they are, numbers (integers without a fraction,
-- others with enough digits to read back the same), booleans as true/false.
local function text_of(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return nil end
    if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return format("%d", v) end
    return format("%.14g", v)
  end
  return nil
end

-- Whether s is UTF-8 (utf8.len on 5.3+; a byte walk where there is no utf8 library: LuaJIT).
local function valid_utf8(s)
  if utf8 and utf8.len then return utf8.len(s) ~= nil end
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local len = c < 0x80 and 1 or c >= 0xC2 and c < 0xE0 and 2 or c >= 0xE0 and c < 0xF0 and 3
      or c >= 0xF0 and c < 0xF5 and 4 or nil
    if not len or i + len - 1 > n then return false end
    for k = i + 1, i + len - 1 do
      local b = s:byte(k)
      if b < 0x80 or b > 0xBF then return false end
    end
    i = i + len
  end
  return true
end

-- Flattens one entity into {path = text}; or nil, err naming the field.
local function flatten(what, i, ent, xml)
  local out = {}
  local function walk(t, prefix, depth)
    for k, v in pairs(t) do
      if type(k) ~= "string" then
        return false, format("entities[%d]: field names are strings, got a %s", i, type(k))
      end
      local path = prefix == "" and k or prefix .. "/" .. k
      if type(v) == "table" and next(v) == nil then
        return false, format("entities[%d]: %s must be a string, number or boolean, got an "
          .. "empty table", i, path)
      elseif type(v) == "table" and depth < 4 then
        local ok, err = walk(v, path, depth + 1)
        if not ok then return false, err end
      else
        local canon = CANON[path:lower()]
        if not canon and XML_ONLY[path] then
          if not xml then
            return false, format("entities[%d]: %s is available with format = \"xml\" only", i, path)
          end
          canon = path
        end
        if not canon or canon:find("^GeocodeResponse") or canon == "StatusCode"
            or canon == "FaultReason" or canon == "TraceId" then
          return false, format("entities[%d]: %s is not a request field of data schema 2.0", i, path)
        end
        local s = text_of(v)
        if s == nil then
          return false, format("entities[%d]: %s must be a string, number or boolean, got %s",
            i, path, type(v) == "number" and tostring(v) or type(v))
        end
        if s:find("[%z\1-\8\11\12\14-\31]") then
          return false, format("entities[%d]: %s holds a control character the data files "
            .. "cannot carry", i, path)
        end
        if not valid_utf8(s) then
          return false, format("entities[%d]: %s is not UTF-8 (the service takes UTF-8 only)", i, path)
        end
        out[canon] = s
      end
    end
    return true
  end
  if type(ent) ~= "table" then return bad(what, "entities[%d] must be a table, got %s", i, type(ent)) end
  local ok, err = walk(ent, "", 1)
  if not ok then return bad(what, "%s", err) end
  return out
end

--- Flattens and checks every entity, giving each its Id (a string; "1", "2", ... in input
-- order where the caller gave none, skipping Ids the caller used). Returns the list of flat
-- entities and the list of Ids, or nil, err.
function _M.prepare(what, entities, xml)
  local flat, ids, seen = {}, {}, {}
  for i, e in ipairs(entities) do
    local f, err = flatten(what, i, e, xml)
    if not f then return nil, err end
    if f.Id ~= nil then
      if f.Id == "" then return bad(what, "entities[%d]: Id is empty", i) end
      if seen[f.Id] then return bad(what, "entities[%d]: Id %q is used twice", i, f.Id) end
      seen[f.Id] = true
    end
    local has_request = false
    for k in pairs(f) do if k:find("Request/", 1, true) then has_request = true end end
    if not has_request then
      return bad(what, "entities[%d] has no GeocodeRequest or ReverseGeocodeRequest field", i)
    end
    flat[i] = f
  end
  local n = 0
  for i, f in ipairs(flat) do
    if f.Id == nil then
      repeat n = n + 1 until not seen[tostring(n)]
      f.Id = tostring(n)
      seen[f.Id] = true
    end
    ids[i] = f.Id
  end
  return flat, ids
end

-- One field of a delimited file. Quoted when it holds the delimiter, a quote, a line break,
-- `#` (a comment mark to some readers of these files), or blanks at either end (the service
-- trims unquoted fields); inner quotes doubled.
local function field(s, delim)
  if s == "" then return s end
  if s:find(delim, 1, true) or s:find('["\r\n#]') or s:find("^%s") or s:find("%s$") then
    return '"' .. s:gsub('"', '""') .. '"'
  end
  return s
end
_M.field = field

local function xml_escape(s)
  return (s:gsub('[&<>"\'\t\r\n]', {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&apos;", ["\t"] = "&#9;", ["\r"] = "&#13;", ["\n"] = "&#10;"}))
end
_M.xml_escape = xml_escape

-- The header of a text upload: Id, the request columns any entity uses, and every output
-- column (the results fill only the columns the header names).
local function header_columns(flat)
  local used = {}
  for _, f in ipairs(flat) do for k in pairs(f) do used[k] = true end end
  local cols = {}
  for _, c in ipairs(_M.COLUMNS) do
    if c == "Id" or used[c] or not c:find("Request/") then cols[#cols + 1] = c end
  end
  return cols
end

local XML_REQ = {
  {"GeocodeRequest", {"Culture", "Query", "StrictMatch", "IncludeQueryParse",
    "IncludeNeighborhood", "MaxResults"},
    {{"Address", {"AddressLine", "AdminDistrict", "AdminDistrict2", "CountryRegion",
      "FormattedAddress", "Locality", "PostalCode", "PostalTown"}},
     {"ConfidenceFilter", {"MinimumConfidence"}}}},
  {"ReverseGeocodeRequest", {"Culture", "IncludeEntityTypes", "IncludeNeighborhood", "MaxResults"},
    {{"Location", {"Latitude", "Longitude"}}, {"ConfidenceFilter", {"MinimumConfidence"}}}},
}

local function xml_attrs(f, prefix, names)
  local out = {}
  for _, a in ipairs(names) do
    local v = f[prefix .. a]
    if v ~= nil then out[#out + 1] = format(' %s="%s"', a, xml_escape(v)) end
  end
  return concat(out)
end

local function xml_entity(f)
  local lines = {format('  <GeocodeEntity Id="%s">', xml_escape(f.Id))}
  for _, r in ipairs(XML_REQ) do
    local name, attrs, children = r[1], r[2], r[3]
    local any = false
    for k in pairs(f) do if k:sub(1, #name + 1) == name .. "/" then any = true end end
    if any then
      local kids = {}
      for _, c in ipairs(children) do
        local a = xml_attrs(f, name .. "/" .. c[1] .. "/", c[2])
        if a ~= "" then kids[#kids + 1] = format("      <%s%s />", c[1], a) end
      end
      local open = format("    <%s%s", name, xml_attrs(f, name .. "/", attrs))
      if #kids == 0 then
        lines[#lines + 1] = open .. " />"
      else
        lines[#lines + 1] = open .. ">"
        for _, k in ipairs(kids) do lines[#lines + 1] = k end
        lines[#lines + 1] = format("    </%s>", name)
      end
    end
  end
  lines[#lines + 1] = "  </GeocodeEntity>"
  return concat(lines, "\r\n")
end

--- Writes prepared entities (see `prepare`) in `fmt`: a list of chunks (strings) that make
-- the data file when joined.
function _M.serialize(flat, fmt)
  local out = {}
  if fmt == "xml" then
    out[1] = '<?xml version="1.0" encoding="utf-8"?>\r\n<GeocodeFeed Version="2.0" xmlns="'
      .. _M.XMLNS .. '">\r\n'
    for i, f in ipairs(flat) do out[i + 1] = xml_entity(f) .. "\r\n" end
    out[#out + 1] = "</GeocodeFeed>\r\n"
    return out
  end
  local d = _M.DELIMITERS[fmt]
  local cols = header_columns(flat)
  out[1] = _M.VERSION_LINE .. "\r\n" .. concat(cols, d) .. "\r\n"
  for i, f in ipairs(flat) do
    local row = {}
    for j, c in ipairs(cols) do row[j] = field(f[c] or "", d) end
    out[i + 1] = concat(row, d) .. "\r\n"
  end
  return out
end

-- Reading results files

-- Records of delimited text: a field that begins with a quote (after blanks) is quoted (""
-- inside is a quote; delimiters and line breaks are data); other fields are trimmed.
local function records(s, d)
  local rows, row = {}, {}
  local i, n = 1, #s
  while i <= n do
    local j = i
    while j <= n do
      local c = s:sub(j, j)
      if (c == " " or c == "\t") and c ~= d then j = j + 1 else break end
    end
    local v
    local ends = "[" .. (d == "|" and "|" or d) .. "\r\n]"
    if s:sub(j, j) == '"' then
      local buf, k = {}, j + 1
      while true do
        local q = s:find('"', k, true)
        if not q then buf[#buf + 1] = s:sub(k); k = n + 1; break end
        buf[#buf + 1] = s:sub(k, q - 1)
        if s:sub(q + 1, q + 1) == '"' then buf[#buf + 1] = '"'; k = q + 2 else k = q + 1; break end
      end
      local after = s:match(d == "\t" and "^ *()" or "^[ \t]*()", k)
      if after <= n and not s:sub(after, after):find(ends) then
        -- Not a quoted field after all (raw JSON in a pipe file: "a":"b"): to the delimiter.
        local stop = s:find(ends, j) or n + 1
        v, i = s:sub(j, stop - 1):gsub("[ \t]+$", ""), stop
      else
        v = concat(buf)
        i = s:find(ends, k) or n + 1
      end
    else
      local stop = s:find(ends, j) or n + 1
      v = s:sub(j, stop - 1):gsub("[ \t]+$", "")
      i = stop
    end
    row[#row + 1] = v
    local c = s:sub(i, i)
    if c == d then
      i = i + 1
      if i > n then row[#row + 1] = ""; rows[#rows + 1] = row; row = {} end
    else
      if c == "\r" and s:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      i = i + 1
      rows[#rows + 1] = row
      row = {}
    end
  end
  if #row > 0 then rows[#rows + 1] = row end
  return rows
end
_M.records = records

local function set_path(t, path, v)
  local parts = {}
  for p in path:gmatch("[^/]+") do parts[#parts + 1] = p end
  for i = 1, #parts - 1 do
    local k = parts[i]
    if type(t[k]) ~= "table" then t[k] = {} end
    t = t[k]
  end
  t[parts[#parts]] = v
end

-- Numbers inside the JSON-valued columns come as strings ("47.62"): coordinates to numbers.
local function fix_json_values(list)
  if type(list) ~= "table" then return list end
  for _, p in ipairs(list) do
    if type(p) == "table" then
      for k, x in pairs(p) do
        if type(x) == "string" and numeric(k) then p[k] = tonumber(x) or x end
      end
    end
  end
  return list
end

local function typed(path, v)
  local last = path:match("([^/]+)$")
  if path == "GeocodeResponse/GeocodePoints" or path == "GeocodeResponse/QueryParseValues" then
    local t = cjson.decode(v)
    if type(t) == "table" then return fix_json_values(t) end
    return v
  end
  if numeric(path) or path:find("^GeocodeResponse/BoundingBox/") or path:find("MinimumConfidence$")
      and tonumber(v) then
    return tonumber(v) or v
  end
  if BOOLEAN[last] then
    local l = v:lower()
    if l == "true" or l == "1" then return true end
    if l == "false" or l == "0" then return false end
  end
  return v
end

local function parse_text(text, fmt)
  local d = _M.DELIMITERS[fmt]
  text = text:gsub("^\239\187\191", "")
  local first_end = text:find("\n", 1, true)
  local first = (first_end and text:sub(1, first_end - 1) or text):gsub("\r$", "")
  if not first:find("^%s*Bing Spatial Data Services") then
    return nil, errors.new("decode", "results file: the first line is not \"" .. _M.VERSION_LINE
      .. "\" (" .. format("%q", first:sub(1, 60)) .. ")")
  end
  local rows = records(first_end and text:sub(first_end + 1) or "", d)
  local header = rows[1]
  if not header then return nil, errors.new("decode", "results file: no header line") end
  local cols = {}
  for i, h in ipairs(header) do
    local c = CANON[h:lower()]
    if not c then
      return nil, errors.new("decode", format("results file: unknown column %q in the header", h))
    end
    cols[i] = c
  end
  local out = {}
  local r = 1
  while r < #rows do
    r = r + 1
    local row = rows[r]
    -- A record cut by a line break that is not data (the reference's pipe sample is wrapped
    -- inside a JSON column): joined with the next while both together fit the header.
    while #row < #cols and rows[r + 1] and #row + #rows[r + 1] - 1 <= #cols do
      local nxt = rows[r + 1]
      row[#row] = row[#row] .. nxt[1]
      for k = 2, #nxt do row[#row + 1] = nxt[k] end
      r = r + 1
    end
    local empty = true
    for _, v in ipairs(row) do if v ~= "" then empty = false; break end end
    if not empty then
      local e = {}
      for i, c in ipairs(cols) do
        local v = row[i]
        if v ~= nil and v ~= "" then set_path(e, c, typed(c, v)) end
      end
      out[#out + 1] = e
    end
  end
  return out
end

-- A small XML reader: elements with attributes and text, no DTD; names without prefixes.
local ENT = {amp = "&", lt = "<", gt = ">", quot = '"', apos = "'"}
local function unescape(s)
  return (s:gsub("&(#?[xX]?)(%w+);", function(p, v)
    local cp
    if p == "#" then cp = tonumber(v) elseif p ~= "" then cp = tonumber(v, 16) end
    if cp then
      if utf8 then return utf8.char(cp) end
      if cp < 0x80 then return string.char(cp) end
      if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
      if cp < 0x10000 then
        return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
      end
      return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
        0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
    end
    return ENT[v] or ("&" .. v .. ";")
  end))
end

local function parse_xml_tree(s)
  local root = {name = "#", attrs = {}, children = {}, text = ""}
  local stack = {root}
  local i, n = 1, #s
  while i <= n do
    local lt = s:find("<", i, true)
    local top = stack[#stack]
    if not lt then top.text = top.text .. unescape(s:sub(i)); break end
    if lt > i then top.text = top.text .. unescape(s:sub(i, lt - 1)) end
    if s:sub(lt, lt + 3) == "<!--" then
      local e = s:find("-->", lt + 4, true)
      if not e then return nil, "unterminated comment" end
      i = e + 3
    elseif s:sub(lt, lt + 8) == "<![CDATA[" then
      local e = s:find("]]>", lt + 9, true)
      if not e then return nil, "unterminated CDATA" end
      top.text = top.text .. s:sub(lt + 9, e - 1)
      i = e + 3
    elseif s:find("^<[?!]", lt) then
      local e = s:find(">", lt, true)
      if not e then return nil, "unterminated declaration" end
      i = e + 1
    elseif s:sub(lt + 1, lt + 1) == "/" then
      local name, e = s:match("^</%s*([%w_:%.%-]+)%s*>()", lt)
      if not name then return nil, "bad end tag" end
      name = name:gsub("^.*:", "")
      if #stack < 2 or top.name ~= name then return nil, "mismatched </" .. name .. ">" end
      stack[#stack] = nil
      i = e
    else
      local name, p = s:match("^<([%w_:%.%-]+)()", lt)
      if not name then return nil, "bad start tag" end
      local el = {name = name:gsub("^.*:", ""), attrs = {}, children = {}, text = ""}
      while true do
        local an, q, p2 = s:match("^%s+([%w_:%.%-]+)%s*=%s*([\"'])()", p)
        if not an then break end
        local close = s:find(q, p2, true)
        if not close then return nil, "unterminated attribute" end
        if not an:find("^xmlns") then el.attrs[an:gsub("^.*:", "")] = unescape(s:sub(p2, close - 1)) end
        p = close + 1
      end
      local tail, e = s:match("^%s*(/?)>()", p)
      if not e then return nil, "bad tag <" .. el.name .. ">" end
      top.children[#top.children + 1] = el
      if tail == "" then stack[#stack + 1] = el end
      i = e
    end
  end
  if #stack ~= 1 then return nil, "unclosed <" .. stack[#stack].name .. ">" end
  return root.children[1] or nil, "no root element"
end
_M.parse_xml_tree = parse_xml_tree

local function attrs_into(t, el, prefix)
  for k, v in pairs(el.attrs) do t[k] = typed(prefix .. "/" .. k, v) end
end

local function parse_xml(text)
  local root, err = parse_xml_tree(text)
  if not root then return nil, errors.new("decode", "results file: XML: " .. tostring(err)) end
  if root.name ~= "GeocodeFeed" then
    return nil, errors.new("decode", "results file: the root element is not GeocodeFeed")
  end
  local out = {}
  for _, el in ipairs(root.children) do
    if el.name == "GeocodeEntity" then
      local e = {Id = el.attrs.Id}
      for _, c in ipairs(el.children) do
        if c.name == "GeocodeRequest" or c.name == "ReverseGeocodeRequest"
            or c.name == "GeocodeResponse" then
          local t = {}
          attrs_into(t, c, c.name)
          for _, k in ipairs(c.children) do
            if k.name == "GeocodePoint" or k.name == "QueryParseValue" then
              local list_name = k.name .. "s"
              t[list_name] = t[list_name] or {}
              local p = {}
              attrs_into(p, k, c.name .. "/" .. k.name)
              t[list_name][#t[list_name] + 1] = p
            else
              local sub = {}
              attrs_into(sub, k, c.name .. "/" .. k.name)
              t[k.name] = sub
            end
          end
          e[c.name] = t
        elseif c.name == "StatusCode" or c.name == "FaultReason" or c.name == "TraceId" then
          if c.text ~= "" then e[c.name] = c.text end
        end
      end
      out[#out + 1] = e
    end
  end
  return out
end

--- Reads a results file of the Geocode Dataflow (`format` csv, tab, pipe or xml; default
-- csv). Returns a list of entities nested by the schema's column paths, or nil, err.
function _M.parse_results(text, fmt)
  if type(text) ~= "string" then errors.raise("sds.parse_results: text must be a string", 2) end
  fmt = fmt or "csv"
  if type(fmt) ~= "string" or not _M.FORMATS[fmt:lower()] then
    errors.raise("sds.parse_results: format must be csv, tab, pipe or xml, got " .. tostring(fmt), 2)
  end
  fmt = fmt:lower()
  if fmt == "xml" then return parse_xml(text) end
  return parse_text(text, fmt)
end

return _M
