--- Output of the `bing` command: an aligned table for people, JSON, GeoJSON and CSV for tools,
-- and the progress bar of batches and jobs.
-- @module bing.cli.output
local cjson = require "cjson"
local geojson = require "bing.geojson"

local _M = {}

-- A cell as text: nil is empty, floats keep at most 6 decimals (coordinates), tables as JSON.
local function cell(v)
  if v == nil or v == cjson.null then return "" end
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return tostring(v) end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return ("%d"):format(v) end
    return (("%.6f"):format(v):gsub("0+$", ""):gsub("%.$", ""))
  end
  if type(v) == "table" then return cjson.encode(v) end
  return tostring(v)
end
_M.cell = cell

-- Display width: UTF-8 continuation bytes take no column.
local function width(s)
  local _, cont = s:gsub("[\128-\191]", "")
  return #s - cont
end

--- The aligned table: a header line, then one line per row; columns separated by two spaces,
-- numbers right-aligned. Control characters in cells (the service may echo them) are shown
-- as spaces so that one row stays one line.
function _M.table(columns, rows)
  local texts, widths, numeric = {}, {}, {}
  for j, c in ipairs(columns) do widths[j], numeric[j] = width(c), true end
  for i, row in ipairs(rows) do
    texts[i] = {}
    for j, c in ipairs(columns) do
      local v = row[c]
      local t = cell(v):gsub("[%c]", " ")
      texts[i][j] = t
      if width(t) > widths[j] then widths[j] = width(t) end
      if v ~= nil and type(v) ~= "number" then numeric[j] = false end
    end
  end
  local out = {}
  local function line(cells)
    local parts = {}
    for j, t in ipairs(cells) do
      local pad = (" "):rep(widths[j] - width(t))
      if j == #cells and not numeric[j] then parts[j] = t
      elseif numeric[j] then parts[j] = pad .. t
      else parts[j] = t .. pad end
    end
    out[#out + 1] = table.concat(parts, "  ")
  end
  local head = {}
  for j, c in ipairs(columns) do head[j] = c end
  line(head)
  for _, t in ipairs(texts) do line(t) end
  return table.concat(out, "\n") .. "\n"
end

-- RFC 4180: a field holding the delimiter, a quote, CR or LF is quoted ("" for a quote).
local function csv_field(s)
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- CSV with a header line, CRLF-free (LF line ends, as Unix tools expect).
function _M.csv(columns, rows)
  local out = {}
  local head = {}
  for j, c in ipairs(columns) do head[j] = csv_field(c) end
  out[1] = table.concat(head, ",")
  for _, row in ipairs(rows) do
    local t = {}
    for j, c in ipairs(columns) do t[j] = csv_field(cell(row[c])) end
    out[#out + 1] = table.concat(t, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

-- Copies a value for cjson: drops functions, userdata and cycles, and turns tables with
-- other keys into objects with string keys.
local function plain(v, seen)
  if type(v) ~= "table" then
    if type(v) == "function" or type(v) == "userdata" and v ~= cjson.null then return nil end
    return v
  end
  if v == cjson.null then return v end
  seen = seen or {}
  if seen[v] then return nil end
  seen[v] = true
  -- A list keeps its items only: the library's lists carry `meta` (trace ids, billing) beside
  -- them, which a tool reading the JSON does not want mixed into an object.
  local n = #v
  local out = {}
  if n > 0 then
    for i = 1, n do out[i] = plain(v[i], seen) end
    if next(out) == nil then out = cjson.empty_array or out end
  else
    for k, x in pairs(v) do
      if type(k) == "string" or type(k) == "number" then out[tostring(k)] = plain(x, seen) end
    end
    -- Nothing but a metatable: one of the library's result lists, empty (its objects always
    -- have fields). JSON [] for it, not {}.
    if next(out) == nil and getmetatable(v) ~= nil then out = geojson.empty_array() end
  end
  seen[v] = nil
  return out
end
_M.plain = plain

--- JSON text: through bing.geojson's encoder, whose numbers read back exactly (lua-cjson
-- writes 14 digits: an incidentId past 2^53 would come out rounded) and which leaves "/"
-- unescaped; keys sorted, so the output is stable.
function _M.json(value)
  return geojson.encode(plain(value)) .. "\n"
end

local function hms(s)
  if s == nil or s ~= s or s == math.huge then return "--:--" end
  s = math.floor(s + 0.5)
  local h, m = math.floor(s / 3600), math.floor(s / 60) % 60
  if h > 0 then return ("%d:%02d:%02d"):format(h, m, s % 60) end
  return ("%d:%02d"):format(m, s % 60)
end
_M.hms = hms

--- A progress bar on `stream` (stderr): `done/total`, the rate per second and the time left,
-- redrawn in place with CR. `enabled = false` makes every method a no-op, so callers need
-- not test whether stderr is a terminal. `now` is a clock in seconds (monotonic).
function _M.progress(stream, enabled, label, now)
  local p = {drawn = false}
  local start = now()
  -- `left` (seconds), when the caller knows better than the rate (a job's callbackInSeconds)
  function p.update(done, total, failed, left)
    if not enabled then return end
    local elapsed = now() - start
    local rate = elapsed > 0 and done / elapsed or 0
    if left == nil and total and rate > 0 then left = (total - done) / rate end
    local bar = ""
    if total and total > 0 then
      local filled = math.floor(20 * math.min(done, total) / total)
      bar = "[" .. ("#"):rep(filled) .. ("-"):rep(20 - filled) .. "] "
    end
    stream:write(("\r%s %s%s/%s  %.1f/s  %s left%s\27[K"):format(label, bar, tostring(done),
      total and tostring(total) or "?", rate, hms(left),
      (failed and failed > 0) and ("  " .. failed .. " failed") or ""))
    stream:flush()
    p.drawn = true
  end
  function p.finish()
    if enabled and p.drawn then stream:write("\n"); stream:flush() end
  end
  return p
end

return _M
