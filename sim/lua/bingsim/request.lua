-- Turns the nginx request into the table every handler receives.
--
--   req.id, req.trace_id        request id (log id) and the traceId derived from it
--   req.method, req.http        "GET", "HTTP/1.1" | "HTTP/2.0"
--   req.raw_path, req.path      path as received (percent-encoded) and percent-decoded
--   req.segments                raw path split on "/", each segment decoded ("/" inside an
--                               encoded segment stays inside it)
--   req.rest                    the segments after the dispatch prefix (set by dispatch)
--   req.raw_query               query string as received
--   req.args                    decoded query arguments, names as sent
--   req.params                  same, names lower-cased (first value of a repeated name)
--   req.key, req.key_kind, req.key_label
--   req.headers                 lower-case names
--   req.body                    request body (string) or nil
--   req.param(name, alias...)   case-insensitive lookup of the first name present
local keys = require "bingsim.keys"
local envelope = require "bingsim.envelope"

local _M = {_VERSION = "0.1.0"}

local char, tonumber = string.char, tonumber

-- Percent-decoding only ("+" stays "+": this is for paths).
function _M.unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end
local unescape = _M.unescape

function _M.split_path(raw_path)
  local segs = {}
  for seg in (raw_path .. "/"):gmatch("([^/]*)/") do segs[#segs + 1] = unescape(seg) end
  -- "/a/b" -> "", "a", "b": drop the leading empty segment; a trailing "/" gives a
  -- trailing "" which is dropped too.
  if segs[1] == "" then table.remove(segs, 1) end
  if #segs > 0 and segs[#segs] == "" then segs[#segs] = nil end
  return segs
end

local function first(v)
  if type(v) == "table" then v = v[1] end
  if v == true then return "" end
  return v
end

local function read_body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then return data end
  local file = ngx.req.get_body_file()
  if not file then return nil end
  local fh = io.open(file, "rb")
  if not fh then return nil end
  data = fh:read("*a")
  fh:close()
  return data
end

local TRUE = {["1"] = true, ["true"] = true, ["yes"] = true}
function _M.truthy(v) return v ~= nil and TRUE[tostring(v):lower()] == true end

-- Replaces the value of every `key=` parameter in a raw query string.
function _M.redact_query(raw)
  if not raw or raw == "" then return raw end
  local parts = {}
  for part in (raw .. "&"):gmatch("([^&]*)&") do
    local name = part:match("^([^=]*)")
    if unescape(name):lower() == "key" then part = name .. "=<redacted>" end
    parts[#parts + 1] = part
  end
  return table.concat(parts, "&")
end

function _M.new(id)
  local raw_uri = ngx.var.request_uri or "/"
  local raw_path, raw_query = raw_uri:match("^([^?]*)%??(.*)$")
  local args = ngx.req.get_uri_args(1000)
  local params = {}
  for name, v in pairs(args) do
    local lname = name:lower()
    if params[lname] == nil then params[lname] = first(v) end
  end
  local method = ngx.req.get_method()
  local body
  if method ~= "GET" and method ~= "HEAD" then body = read_body() end
  local key = params.key
  local kind, label = keys.classify(key)
  local req = {
    id = id, trace_id = envelope.trace_id(id), method = method,
    http = ngx.var.server_protocol, conn = tonumber(ngx.var.connection),
    conn_requests = tonumber(ngx.var.connection_requests),
    raw_path = raw_path, path = unescape(raw_path), segments = _M.split_path(raw_path),
    raw_query = raw_query, args = args, params = params,
    key = key, key_kind = kind, key_label = label,
    headers = ngx.req.get_headers(200), body = body,
  }
  function req.param(...)
    for i = 1, select("#", ...) do
      local v = params[(select(i, ...)):lower()]
      if v ~= nil then return v, (select(i, ...)) end
    end
    return nil
  end
  req.error_detail = _M.truthy(req.param("errorDetail", "ed"))
  return req
end

return _M
