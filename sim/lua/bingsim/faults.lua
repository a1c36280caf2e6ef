-- Fault switches: make the next request(s) fail the way the real service or the network
-- in front of it can fail.
--
-- Switched on by POST /_sim/fault {fault=, times=, path=, key=, retry_after=, seconds=,
-- status=} (kept in ngx.shared.bingsim_state, consumed atomically across workers) or for
-- one request by the header  X-Bingsim-Fault: <fault>[;retry_after=N][;seconds=S][;status=C]
-- A fault applies before the handler runs; the first matching one wins, the header first.
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"

local _M = {_VERSION = "0.1.0"}

_M.KINDS = {
  ["429"] = "429 Too Many Requests, Retry-After (default 1 s), Bing envelope",
  ["500"] = "500 Internal Server Error, Bing envelope",
  ["503"] = "503 Service Unavailable, Bing envelope",
  throttled_empty = "200, X-MS-BM-WS-INFO: 1, one resource set with no resources",
  delay = "sleep `seconds` (default 1), then answer normally",
  reset = "close the connection without a response",
  truncated = "200 with a Content-Length larger than the body sent, then close",
  malformed = "200 application/json whose body is not valid JSON",
  html = "502 (or `status`) text/html error page, as a proxy sends",
}

local function state() return ngx.shared.bingsim_state end

local function lock()
  local d = state()
  for _ = 1, 1000 do
    if d:add("faults_lock", true, 1) then return true end
    ngx.sleep(0.001)
  end
  return false
end
local function unlock() state():delete("faults_lock") end

local function load_list()
  local s = state():get("faults")
  return s and json.decode(s) or {}
end

-- Validates and normalises a fault spec (from JSON, query args or the header).
local function normalise(t)
  if type(t) ~= "table" then return nil, "fault spec must be an object" end
  local kind = t.fault
  if type(kind) == "number" then kind = string.format("%d", kind) end
  if type(kind) ~= "string" or not _M.KINDS[kind] then
    return nil, "unknown fault " .. tostring(kind) .. "; one of: 429, 500, 503, throttled_empty, "
      .. "delay, reset, truncated, malformed, html"
  end
  local out = {fault = kind}
  local function num(name, min)
    local v = t[name]
    if v == nil or v == json.null then return true end
    v = tonumber(v)
    if not v or v < min then return nil, name .. " must be a number >= " .. min end
    out[name] = v
    return true
  end
  local ok, err = num("times", -1)
  if not ok then return nil, err end
  for _, name in ipairs{"retry_after", "seconds", "status"} do
    ok, err = num(name, 0)
    if not ok then return nil, err end
  end
  if out.times == 0 then return nil, "times must be >= 1, or -1 for no limit" end
  out.times = out.times and math.floor(out.times) or 1
  for _, name in ipairs{"path", "key"} do
    local v = t[name]
    if v ~= nil and v ~= json.null then
      if type(v) ~= "string" then return nil, name .. " must be a string" end
      out[name] = v
    end
  end
  return out
end
_M.normalise = normalise

-- Adds a fault; returns the stored spec (with its id) or nil, err.
function _M.add(t)
  local f, err = normalise(t)
  if not f then return nil, err end
  if not lock() then return nil, "fault list busy" end
  local list = load_list()
  f.id = (state():incr("fault_id", 1, 0))
  list[#list + 1] = f
  state():set("faults", json.encode(json.array(list)))
  if f.times > 0 then state():set("fault_left:" .. f.id, f.times) end
  unlock()
  return f
end

-- The stored faults with how many uses are left (-1: unlimited).
function _M.list()
  local out = json.array()
  for _, f in ipairs(load_list()) do
    f.left = f.times < 0 and -1 or (state():get("fault_left:" .. f.id) or 0)
    if f.left < 0 and f.times > 0 then f.left = 0 end
    out[#out + 1] = f
  end
  return out
end

function _M.clear()
  if not lock() then return end
  for _, f in ipairs(load_list()) do state():delete("fault_left:" .. f.id) end
  state():delete("faults")
  unlock()
end

-- "429;retry_after=3" -> {fault = "429", retry_after = 3}
function _M.parse_header(v)
  if type(v) == "table" then v = v[1] end
  if type(v) ~= "string" then return nil end
  local t = {}
  local first = true
  for part in v:gmatch("[^;]+") do
    part = part:match("^%s*(.-)%s*$")
    if first then
      t.fault = part
      first = false
    else
      local k, val = part:match("^([%w_]+)%s*=%s*(.*)$")
      if k then t[k:lower()] = val end
    end
  end
  return normalise(t)
end

local function starts_with_ci(s, prefix)
  return s:sub(1, #prefix):lower() == prefix:lower()
end

-- The fault for this request, or nil. Consumes one use of a stored fault.
function _M.take(req)
  local h = req.headers["x-bingsim-fault"]
  if h then
    local f, err = _M.parse_header(h)
    if f then return f end
    ngx.log(ngx.WARN, "bingsim: ignoring X-Bingsim-Fault: ", err)
  end
  local s = state():get("faults")
  if not s then return nil end
  for _, f in ipairs(json.decode(s) or {}) do
    if (not f.path or starts_with_ci(req.raw_path, f.path) or starts_with_ci(req.path, f.path))
        and (not f.key or f.key == req.key) then
      if f.times < 0 then return f end
      local left = state():incr("fault_left:" .. f.id, -1)
      if left and left >= 0 then return f end
    end
  end
  return nil
end

local HTML = [[<!DOCTYPE html>
<html><head><title>%d %s</title></head>
<body><h1>%d %s</h1><p>The gateway did not receive a valid response from the upstream server.</p>
<hr><address>bingsim gateway</address></body></html>
]]

-- A complete envelope cut in the middle of a resource: what a client sees when the
-- connection dies mid-body.
local function cut_body(req)
  local whole = json.encode(envelope.success(req, {{
    __type = envelope.type_of("Location"), name = "Truncated response",
  }}).body)
  return whole:sub(1, math.floor(#whole / 2)), #whole
end

-- The response of fault f: a response table for the ones that answer with HTTP, or
-- performs the raw ones itself (after the caller has logged them) via `raw`.
-- Returns resp, status_for_the_log.
function _M.response(req, f)
  local kind = f.fault
  local headers = {}
  if f.retry_after then headers["Retry-After"] = string.format("%d", f.retry_after) end
  if kind == "429" then
    headers["Retry-After"] = headers["Retry-After"] or "1"
    return envelope.error(req, 429, nil, {headers = headers}), 429
  elseif kind == "500" or kind == "503" then
    local status = tonumber(kind)
    return envelope.error(req, status, nil, {headers = headers}), status
  elseif kind == "throttled_empty" then
    return envelope.throttled_empty(req), 200
  elseif kind == "malformed" then
    local body = '{"authenticationResultCode":"ValidCredentials","resourceSets":[{"estimatedTotal":1,'
      .. '"resources":[{"__type":"Location:http:\\/\\/schemas.microsoft.com\\/search' -- cut here
      .. ',,"name":}]],"statusCode":200,' .. "\n"
    return {status = 200, body = body, content_type = envelope.CONTENT_TYPE}, 200
  elseif kind == "html" then
    local status = f.status or 502
    local text = envelope.STATUS_TEXT[status] or "Error"
    headers["Content-Type"] = "text/html"
    return {status = status, body = string.format(HTML, status, text, status, text),
      content_type = "text/html", headers = headers}, status
  elseif kind == "truncated" then
    return {raw = "truncated"}, 200
  elseif kind == "reset" then
    return {raw = "reset"}, 444
  end
  return nil
end

-- Performs a raw fault; does not return.
function _M.perform_raw(req, kind)
  if kind == "truncated" then
    -- No gzip for this one: the client must see exactly a short body.
    ngx.req.clear_header("Accept-Encoding")
    local part, full = cut_body(req)
    ngx.status = 200
    ngx.header["Content-Type"] = envelope.CONTENT_TYPE
    ngx.header["Content-Length"] = full
    ngx.header["X-BM-TraceID"] = req.trace_id
    ngx.print(part)
    ngx.flush(true)
  end
  return ngx.exit(444)
end

return _M
