-- Pieces shared by the Spatial Data Services emulation (sds.lua, sds_query.lua,
-- geodata.lua): the base URL links point back at, gzip bodies, delimited text and XML
-- readers/writers, dates, and the account's job index.
local json = require "bingsim.json"

local _M = {_VERSION = "0.1.0"}

local format, concat = string.format, table.concat

_M.SCHEMA = "http://schemas.microsoft.com/search/local/ws/rest/v1"
-- The SDS answers carry the spatial host's logo (geocode-dataflow-response-description.md).
_M.BRAND_LOGO_URI = "http://spatial.virtualearth.net/Branding/logo_powered_by.png"
-- OData answers (Query API, Geodata): a fixed year keeps the bytes reproducible.
_M.ODATA_COPYRIGHT = "\194\169 2025 Microsoft and its suppliers.  This API and any results "
  .. "cannot be used or accessed without Microsoft's express written permission."

function _M.header(req, name)
  local v = req.headers and req.headers[name]
  if type(v) == "table" then v = v[1] end
  return v
end

-- The emulator's own base URL (scheme://host:port as the client reached it): every link
-- the service returns (job self/output links, __next, __metadata.uri) points back here, so
-- a client that follows them keeps talking to the emulator.
function _M.base_url(req)
  local host = _M.header(req, "host") or "127.0.0.1"
  local scheme = (ngx and ngx.var and ngx.var.scheme) or "http"
  return scheme .. "://" .. host
end

-- "Basic" account limits when the request says X-Bingsim-Account: basic (as routes.lua).
function _M.basic(req)
  return (_M.header(req, "x-bingsim-account") or ""):lower() == "basic"
end

function _M.delay(req, default)
  local d = tonumber(_M.header(req, "x-bingsim-job-delay") or "")
  if d and d >= 0 then return d end
  return default
end

-- RFC 1123 date as the job resources print them ("Mon, 10 May 2010 20:23:49 GMT").
function _M.http_date(t) return ngx.http_time(math.floor(t)) end

-- A job's 32-hex id (the reference's shape) <-> bingsim.jobs' GUID.
function _M.hex_id(guid) return (guid:gsub("%-", "")) end
function _M.guid(hex)
  if type(hex) ~= "string" or not hex:match("^%x+$") or #hex ~= 32 then return nil end
  hex = hex:lower()
  return format("%s-%s-%s-%s-%s", hex:sub(1, 8), hex:sub(9, 12), hex:sub(13, 16),
    hex:sub(17, 20), hex:sub(21, 32))
end

-- An object whose keys print in the given order (then alphabetically).
function _M.ordered(t, order)
  return setmetatable(t, {__name = "bingsim.json.object", __order = order})
end

---------------------------------------------------------------------------------------------
-- gzip / deflate request bodies (the reference: "Compressed data files are accepted")
---------------------------------------------------------------------------------------------

local zlib
local function load_zlib()
  if zlib ~= nil then return zlib end
  local ok, ffi = pcall(require, "ffi")
  if not ok then zlib = false; return zlib end
  pcall(ffi.cdef, [[
    typedef struct bingsim_z_stream_s {
      const unsigned char *next_in; unsigned avail_in; unsigned long total_in;
      unsigned char *next_out; unsigned avail_out; unsigned long total_out;
      const char *msg; void *state; void *zalloc; void *zfree; void *opaque;
      int data_type; unsigned long adler; unsigned long reserved;
    } bingsim_z_stream;
    int inflateInit2_(bingsim_z_stream *strm, int windowBits, const char *version, int size);
    int inflate(bingsim_z_stream *strm, int flush);
    int inflateEnd(bingsim_z_stream *strm);
    const char *zlibVersion(void);
  ]])
  local ok2, lib = pcall(ffi.load, "z")
  if not ok2 then ok2, lib = pcall(ffi.load, "libz.so.1") end
  zlib = ok2 and {ffi = ffi, lib = lib} or false
  return zlib
end

-- Inflates a gzip (or zlib) stream. Returns text or nil, reason ("too large" when the
-- output passes `limit` bytes).
function _M.gunzip(data, limit)
  local z = load_zlib()
  if not z then return nil, "gzip is not available" end
  local ffi, lib = z.ffi, z.lib
  local strm = ffi.new("bingsim_z_stream")
  if lib.inflateInit2_(strm, 47, lib.zlibVersion(), ffi.sizeof(strm)) ~= 0 then
    return nil, "inflateInit failed"
  end
  local inbuf = ffi.new("unsigned char[?]", #data)
  ffi.copy(inbuf, data, #data)
  strm.next_in, strm.avail_in = inbuf, #data
  local CHUNK = 262144
  local out = ffi.new("unsigned char[?]", CHUNK)
  local parts, total = {}, 0
  while true do
    strm.next_out, strm.avail_out = out, CHUNK
    local rc = lib.inflate(strm, 0)
    local n = CHUNK - strm.avail_out
    if n > 0 then
      total = total + n
      if limit and total > limit then lib.inflateEnd(strm); return nil, "too large" end
      parts[#parts + 1] = ffi.string(out, n)
    end
    if rc == 1 then break end -- Z_STREAM_END
    if rc ~= 0 or (n == 0 and strm.avail_in == 0) then
      lib.inflateEnd(strm)
      return nil, "not a valid gzip stream"
    end
  end
  lib.inflateEnd(strm)
  return concat(parts)
end

-- The request body, inflated when it is gzip (Content-Encoding or the magic bytes).
-- Returns body or nil, status-reason.
function _M.body(req, limit)
  local b = req.body or ""
  local enc = (_M.header(req, "content-encoding") or ""):lower()
  if enc == "gzip" or enc == "deflate" or b:sub(1, 2) == "\31\139" then
    return _M.gunzip(b, limit)
  end
  if limit and #b > limit then return nil, "too large" end
  return b
end

---------------------------------------------------------------------------------------------
-- Delimited text (csv, tab, pipe)
---------------------------------------------------------------------------------------------

_M.DELIMITERS = {csv = ",", tab = "\t", pipe = "|"}

-- Splits text into records of fields. A field that begins with a double quote is quoted
-- ("" inside is one quote; delimiters and line breaks inside are data); other fields run to
-- the next delimiter or line end and are trimmed of blanks (the reference's samples have
-- "Id, GeocodeRequest/Culture" and "3,en-US,One Microsoft Way, Redmond, Wa").
-- Returns a list of {fields..., line = n}.
function _M.parse_delimited(s, delim)
  local rows, row = {}, {}
  local i, n, line = 1, #s, 1
  row.line = line
  local function finish_row()
    rows[#rows + 1] = row
    row = {line = line}
  end
  while i <= n do
    -- skip leading blanks of a field (not the delimiter itself when it is a tab)
    local j = i
    while j <= n do
      local c = s:sub(j, j)
      if (c == " " or c == "\t") and c ~= delim then j = j + 1 else break end
    end
    if s:sub(j, j) == '"' then
      local buf, k = {}, j + 1
      while true do
        local q = s:find('"', k, true)
        if not q then buf[#buf + 1] = s:sub(k); k = n + 1; break end
        buf[#buf + 1] = s:sub(k, q - 1)
        if s:sub(q + 1, q + 1) == '"' then
          buf[#buf + 1] = '"'; k = q + 2
        else
          k = q + 1; break
        end
      end
      local v = concat(buf)
      for _ in v:gmatch("\n") do line = line + 1 end
      row[#row + 1] = v
      -- anything up to the delimiter / line end after the closing quote is dropped
      local stop = k
      while stop <= n do
        local c = s:sub(stop, stop)
        if c == delim or c == "\n" or c == "\r" then break end
        stop = stop + 1
      end
      i = stop
    else
      local stop = j
      while stop <= n do
        local c = s:sub(stop, stop)
        if c == delim or c == "\n" or c == "\r" then break end
        stop = stop + 1
      end
      row[#row + 1] = (s:sub(j, stop - 1):gsub("[ \t]+$", ""))
      i = stop
    end
    local c = s:sub(i, i)
    if c == delim then
      i = i + 1
      if i > n then row[#row + 1] = ""; finish_row() end
    elseif c == "\r" or c == "\n" then
      if c == "\r" and s:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      i = i + 1
      finish_row()
      line = line + 1
      row.line = line
    else
      if #row > 0 then finish_row() end
    end
  end
  if #row > 0 then rows[#rows + 1] = row end
  return rows
end

-- One field for output: quoted when it holds the delimiter, a line break or begins with a
-- quote (then inner quotes doubled); otherwise as is. This reproduces the reference's
-- samples: the GeocodePoints JSON is quoted (quotes doubled) in CSV, where it holds commas,
-- and written raw in pipe and tab files.
function _M.field(v, delim)
  v = v == nil and "" or tostring(v)
  if v:find(delim, 1, true) or v:find("[\r\n]") or v:sub(1, 1) == '"' then
    return '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end

function _M.record(values, delim)
  local out = {}
  for i, v in ipairs(values) do out[i] = _M.field(v, delim) end
  return concat(out, delim)
end

---------------------------------------------------------------------------------------------
-- A small XML reader (elements, attributes, text; no DTD) and escaping
---------------------------------------------------------------------------------------------

local ENT = {amp = "&", lt = "<", gt = ">", quot = '"', apos = "'"}
local function utf8_char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64,
      0x80 + cp % 64)
  end
  return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
    0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end
function _M.xml_unescape(s)
  return (s:gsub("&(#?[xX]?)(%w+);", function(p, v)
    if p == "#" then return utf8_char(tonumber(v) or 63) end
    if p == "#x" or p == "#X" then return utf8_char(tonumber(v, 16) or 63) end
    return ENT[v] or ("&" .. v .. ";")
  end))
end

function _M.xml_escape(s)
  return (tostring(s):gsub('[&<>"]', {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;"}):gsub("[\r\n\t]", function(c) return format("&#%d;", c:byte()) end))
end

-- Parses XML into {name =, attrs = {}, children = {}, text =}; names without namespace
-- prefix. Returns the root element or nil, err.
function _M.parse_xml(s)
  local root = {name = "#document", attrs = {}, children = {}, text = ""}
  local stack = {root}
  local i, n = 1, #s
  while i <= n do
    local lt = s:find("<", i, true)
    local top = stack[#stack]
    if not lt then
      top.text = top.text .. _M.xml_unescape(s:sub(i))
      break
    end
    if lt > i then top.text = top.text .. _M.xml_unescape(s:sub(i, lt - 1)) end
    if s:sub(lt, lt + 3) == "<!--" then
      local e = s:find("-->", lt + 4, true)
      if not e then return nil, "unterminated comment" end
      i = e + 3
    elseif s:sub(lt, lt + 8) == "<![CDATA[" then
      local e = s:find("]]>", lt + 9, true)
      if not e then return nil, "unterminated CDATA" end
      top.text = top.text .. s:sub(lt + 9, e - 1)
      i = e + 3
    elseif s:sub(lt + 1, lt + 1) == "?" or s:sub(lt + 1, lt + 1) == "!" then
      local e = s:find(">", lt, true)
      if not e then return nil, "unterminated declaration" end
      i = e + 1
    elseif s:sub(lt + 1, lt + 1) == "/" then
      local name, e = s:match("^</%s*([%w_:%.%-]+)%s*>()", lt)
      if not name then return nil, "bad end tag" end
      name = name:gsub("^.*:", "")
      if #stack < 2 or stack[#stack].name ~= name then return nil, "mismatched </" .. name .. ">" end
      stack[#stack] = nil
      i = e
    else
      local name, p = s:match("^<([%w_:%.%-]+)()", lt)
      if not name then return nil, "bad start tag" end
      local el = {name = name:gsub("^.*:", ""), attrs = {}, children = {}, text = ""}
      while true do
        local ws, an, q, p2 = s:match("^(%s*)([%w_:%.%-]+)%s*=%s*([\"'])()", p)
        if not an then break end
        if ws == "" then return nil, "bad attribute" end
        local close = s:find(q, p2, true)
        if not close then return nil, "unterminated attribute" end
        local local_name = an:gsub("^.*:", "")
        if not an:match("^xmlns") then el.attrs[local_name] = _M.xml_unescape(s:sub(p2, close - 1)) end
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
  if not root.children[1] then return nil, "no root element" end
  return root.children[1]
end

function _M.child(el, name)
  for _, c in ipairs(el.children) do
    if c.name:lower() == name:lower() then return c end
  end
end

-- Attribute lookup, case-insensitive ("Field values are not case-sensitive").
function _M.attr(el, name)
  if not el then return nil end
  local v = el.attrs[name]
  if v ~= nil then return v end
  local l = name:lower()
  for k, x in pairs(el.attrs) do
    if k:lower() == l then return x end
  end
end

---------------------------------------------------------------------------------------------
-- The account's jobs (get-job-list.md), across workers: a counter per key label and one
-- slot per job, in bingsim_jobs (so /_sim/reset clears them with the jobs).
---------------------------------------------------------------------------------------------

local function dict() return ngx.shared.bingsim_jobs end

function _M.index_job(label, id)
  local n = dict():incr("sdsidx:" .. label, 1, 0)
  dict():set("sdsidx:" .. label .. ":" .. n, id)
end

function _M.job_ids(label)
  local n = dict():get("sdsidx:" .. label) or 0
  local out = {}
  for i = 1, n do out[#out + 1] = dict():get("sdsidx:" .. label .. ":" .. i) end
  return out
end

function _M.put_blob(key, value) return dict():set("sdsblob:" .. key, value) end
function _M.get_blob(key) return dict():get("sdsblob:" .. key) end

-- Books a second transaction category for one request (a geocode job is one Dataflow:Create
-- and N Dataflow:BatchGeocode; an address search also one RESTLocations).
function _M.book(req, category, n)
  if not req.key_label then return end
  local ledger = require "bingsim.ledger"
  ledger.record(req.key_label, req.key_kind, {category = category, transactions = n or 1}, "ok")
end

_M.json = json
return _M
