-- Deterministic JSON for the emulator.
--
-- The real service's bytes are what the client decodes, so the encoder copies its habits:
-- "/" escaped as "\/", UTF-8 passed through, object keys in the order Bing uses (the
-- examples in the reference), integral numbers without a fraction. Key order must not
-- depend on Lua's hash order: the same request gives the same bytes in every worker.
--
-- Lua tables are ambiguous when empty, so: a table with the `array_mt` metatable (or any
-- non-empty sequence) is an array; a table with `object_mt` (or any string key) is an
-- object; an unmarked empty table is an array (`resources: []`, `resourceSets: []`).
-- Decoding goes through cjson.safe (no crash on bad bytes).
local _M = {_VERSION = "0.1.0"}

local type, pairs, ipairs, tostring, tonumber = type, pairs, ipairs, tostring, tonumber
local concat, sort = table.concat, table.sort
local byte, char, find, format, gsub, sub = string.byte, string.char, string.find,
  string.format, string.gsub, string.sub
local floor, huge = math.floor, math.huge
local getmetatable, setmetatable = getmetatable, setmetatable

local array_mt = {__name = "bingsim.json.array"}
local object_mt = {__name = "bingsim.json.object"}
_M.array_mt, _M.object_mt = array_mt, object_mt

local ok_cjson, cjson_safe = pcall(require, "cjson.safe")

-- JSON null inside arrays/objects (a Lua nil cannot be stored): the value decode gives
-- for a JSON null (cjson.null, which is also ngx.null), so decoded input round-trips.
_M.null = ok_cjson and cjson_safe.null
  or setmetatable({}, {__name = "bingsim.json.null", __tostring = function() return "null" end})

function _M.array(t) return setmetatable(t or {}, array_mt) end

-- A number written exactly as given (digits): integers beyond 2^53, such as traffic
-- incidentIds, which a double would round.
local raw_mt = {__name = "bingsim.json.raw"}
function _M.raw(digits) return setmetatable({digits = digits}, raw_mt) end
function _M.object(t) return setmetatable(t or {}, object_mt) end

-- Keys Bing prints in a fixed order (from the reference examples); anything else comes
-- after them, alphabetically. Families add theirs with json.order{...}.
local rank, nrank = {}, 0
function _M.order(keys)
  for _, k in ipairs(keys) do
    if not rank[k] then nrank = nrank + 1; rank[k] = nrank end
  end
end
_M.order{
  -- Response envelope (alphabetical in the service's output)
  "authenticationResultCode", "brandLogoUri", "copyright", "errorCode", "errorDetails",
  "resourceSets", "statusCode", "statusDescription", "traceId",
  -- ResourceSet
  "estimatedTotal", "resources",
  -- Location
  "__type", "bbox", "name", "point", "address", "confidence", "entityType",
  "queryParseValues", "geocodePoints", "matchCodes",
  -- Point / GeocodePoint
  "type", "coordinates", "calculationMethod", "usageTypes",
  -- Address
  "addressLine", "adminDistrict", "adminDistrict2", "countryRegion", "countryRegionIso2",
  "formattedAddress", "locality", "neighborhood", "postalCode", "landmark", "intersection",
  -- Intersection
  "baseStreet", "secondaryStreet1", "secondaryStreet2", "intersectionType", "displayName",
  -- QueryParseValue
  "property", "value",
}

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["/"] = "\\/", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}
for i = 0, 31 do
  local c = char(i)
  if not escapes[c] then escapes[c] = format("\\u%04x", i) end
end
escapes["\127"] = "\\u007f"

-- Replaces every byte that is not part of a well-formed UTF-8 sequence with U+FFFD, so
-- user input echoed back (a query with stray bytes) never makes the output invalid JSON.
local function utf8_clean(s)
  if not find(s, "[\128-\255]") then return s end
  local out, n, i, len = {}, 0, 1, #s
  while i <= len do
    local c = byte(s, i)
    local need, min
    if c < 0x80 then need, min = 0, 0
    elseif c >= 0xC2 and c <= 0xDF then need, min = 1, 0x80
    elseif c >= 0xE0 and c <= 0xEF then need, min = 2, 0x800
    elseif c >= 0xF0 and c <= 0xF4 then need, min = 3, 0x10000
    else need = -1 end
    local ok = need >= 0 and i + need <= len
    if ok and need > 0 then
      local cp = c % (2 ^ (6 - need))
      for j = 1, need do
        local cc = byte(s, i + j)
        if cc < 0x80 or cc > 0xBF then ok = false; break end
        cp = cp * 64 + (cc - 0x80)
      end
      if ok and (cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF)) then ok = false end
    end
    n = n + 1
    if ok then
      out[n] = sub(s, i, i + need); i = i + need + 1
    else
      out[n] = "\239\191\189"; i = i + 1
    end
  end
  return concat(out)
end
_M.utf8_clean = utf8_clean

function _M.is_utf8(s) return utf8_clean(s) == s end

local function encode_string(s)
  return '"' .. gsub(utf8_clean(s), '[%c"\\/\127]', escapes) .. '"'
end

-- Shortest decimal that reads back as the same double; integers without ".0".
local function encode_number(x)
  if x ~= x or x == huge or x == -huge then return "null" end
  if floor(x) == x and x > -1e15 and x < 1e15 then return format("%d", x) end
  for p = 14, 17 do
    local s = format("%." .. p .. "g", x)
    if tonumber(s) == x then return s end
  end
  return format("%.17g", x)
end
_M.encode_number = encode_number

local function key_less(a, b)
  local ra, rb = rank[a], rank[b]
  if ra and rb then return ra < rb end
  if ra then return true end
  if rb then return false end
  return a < b
end

local encode_value

local function is_array(t)
  local mt = getmetatable(t)
  if mt == array_mt then return true end
  if mt == object_mt then return false end
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #t
end

local function encode_table(t, out, depth)
  if depth > 64 then error("bingsim.json: nesting too deep", 0) end
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], out, depth + 1)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k, v in pairs(t) do
    if v ~= nil then keys[#keys + 1] = tostring(k) end
  end
  local mt = getmetatable(t)
  if mt and mt.__order then
    local pos = {}
    for i, k in ipairs(mt.__order) do pos[k] = i end
    sort(keys, function(a, b)
      local pa, pb = pos[a], pos[b]
      if pa and pb then return pa < pb end
      if pa then return true end
      if pb then return false end
      return key_less(a, b)
    end)
  else
    sort(keys, key_less)
  end
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = encode_string(k)
    out[#out + 1] = ":"
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    encode_value(v, out, depth + 1)
  end
  out[#out + 1] = "}"
end

encode_value = function(v, out, depth)
  local tv = type(v)
  if v == nil or v == _M.null then out[#out + 1] = "null"
  elseif tv == "string" then out[#out + 1] = encode_string(v)
  elseif tv == "number" then out[#out + 1] = encode_number(v)
  elseif tv == "boolean" then out[#out + 1] = v and "true" or "false"
  elseif tv == "table" and getmetatable(v) == raw_mt then out[#out + 1] = v.digits
  elseif tv == "table" then encode_table(v, out, depth)
  else error("bingsim.json: cannot encode a " .. tv, 0) end
end

function _M.encode(v)
  local out = {}
  encode_value(v, out, 0)
  return concat(out)
end

-- Decoding: cjson.safe when present (it is, wherever the emulator runs); returns
-- value or nil, err. JSON null decodes to json.null.
function _M.decode(s)
  if type(s) ~= "string" then return nil, "not a string" end
  if not ok_cjson then return nil, "cjson.safe is not installed" end
  local v, err = cjson_safe.decode(s)
  if v == nil then return nil, err or "invalid JSON" end
  return v
end

return _M
