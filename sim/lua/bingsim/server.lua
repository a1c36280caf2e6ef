-- The request pipeline of the emulator (content_by_lua of every location).
--
--   /_sim/...            control endpoints (bingsim.control), no key, not logged
--   everything else      log -> fault switch -> dispatch (404) -> key (401) -> common
--                        parameters (400) -> handler -> ledger -> log -> send
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local request = require "bingsim.request"
local dispatch = require "bingsim.dispatch"
local faults = require "bingsim.faults"
local ledger = require "bingsim.ledger"
local reqlog = require "bingsim.reqlog"

local _M = {_VERSION = "0.1.0"}

_M.config = {}

-- init_by_lua: remembers paths and loads what is costly (the gazetteer) once, in the
-- master, so workers share it.
function _M.init(config)
  _M.config = config or {}
  local ok, err = pcall(function()
    require("bingsim.gazetteer").load(_M.config.data_dir)
    require "bingsim.locations"
  end)
  if not ok then error("bingsim: init failed: " .. tostring(err)) end
end

local function log_entry(req)
  local q = {}
  for name, v in pairs(req.args) do
    if name:lower() == "key" then v = "<redacted>" end
    q[name] = v
  end
  local entry = {
    id = req.id, method = req.method, path = req.path, raw_path = req.raw_path,
    raw_query = request.redact_query(req.raw_query), query = json.object(q),
    key_kind = req.key_kind, key_label = req.key_label,
    headers = json.object(req.headers), conn = req.conn, conn_requests = req.conn_requests,
    time = ngx.now(), http = req.http, trace_id = req.trace_id,
  }
  reqlog.body_fields(entry, req.body)
  return entry
end

local JSONP_NAME = "^[%a_$][%w_.$]*$"

-- Checks shared by every API: output format and the JSONP callback name.
local function common_params(req)
  local o = req.param("output", "o")
  if o and o:lower() ~= "json" then
    return envelope.invalid(req, "output",
      "Only JSON output is emulated (output=json, the default).")
  end
  local cb = req.param("jsonp")
  if cb and not cb:match(JSONP_NAME) then
    return envelope.invalid(req, "jsonp", envelope.NOT_VALID)
  end
end

-- The HTTP status put on the wire: suppressStatus=true makes every JSON answer a 200
-- (the envelope keeps the real statusCode); a gateway's HTML page is not the service's.
function _M.sent_status(req, resp, status)
  local ctype = resp.content_type or envelope.CONTENT_TYPE
  if ctype:find("json", 1, true) and request.truthy(req.param("suppressStatus", "ss")) then
    return 200
  end
  return status
end

local function send(req, resp)
  local status = resp.status or 200
  local body = resp.body
  if type(body) == "table" then body = json.encode(body) end
  body = body or ""
  local ctype = resp.content_type or envelope.CONTENT_TYPE
  local is_json = ctype:find("json", 1, true) ~= nil
  local cb = is_json and req.param("jsonp")
  if cb then
    local so = req.param("jsonso")
    body = cb .. "(" .. body .. (so and ("," .. json.encode(so)) or "") .. ")"
    ctype = "application/x-javascript; charset=utf-8"
  end
  ngx.status = _M.sent_status(req, resp, status)
  ngx.header["Content-Type"] = ctype
  ngx.header["Cache-Control"] = "no-cache"
  if is_json then
    ngx.header["X-MS-BM-WS-INFO"] = "0"
    ngx.header["X-BM-TraceID"] = req.trace_id
  end
  for k, v in pairs(resp.headers or {}) do ngx.header[k] = v end
  ngx.header["Content-Length"] = #body
  ngx.print(body)
end

local function classify(row, req)
  if not row then return nil end
  local ok, mod = pcall(dispatch.module, row)
  if not ok then return nil end
  local fn = mod[row.classify or "classify"]
  if not fn then return nil end
  local ok2, b = pcall(fn, req)
  if ok2 then return b end
  ngx.log(ngx.ERR, "bingsim: classify failed: ", b)
  return nil
end

local function run_handler(row, req)
  local mod = dispatch.module(row)
  local fn = mod[row.fn or "handle"]
  if not fn then error("module bingsim." .. row.module .. " has no " .. (row.fn or "handle")) end
  return fn(req)
end

function _M.handle()
  local raw_uri = ngx.var.request_uri or "/"
  if raw_uri:sub(1, 6) == "/_sim/" or raw_uri == "/_sim" then
    return require("bingsim.control").handle()
  end

  ngx.update_time()
  local generation = reqlog.generation()
  local id = reqlog.next_id()
  local req = request.new(id)
  local entry = log_entry(req)
  reqlog.put(entry)

  local row, rest = dispatch.match(req.segments)
  req.rest = rest
  local billing = classify(row, req)

  local fault = faults.take(req)
  local applied
  if fault and fault.fault == "delay" then
    ngx.sleep(fault.seconds or 1)
    applied, fault = "delay", nil
  end

  local resp, status
  if fault then
    applied = fault.fault
    resp, status = faults.response(req, fault)
  elseif not row then
    resp = envelope.error(req, 404)
  elseif not row.keyless and (req.key_kind == "missing" or req.key_kind == "invalid") then
    resp = envelope.unauthorized(req, req.key_kind)
  elseif not (row.methods or {GET = true})[req.method] then
    resp = envelope.error(req, 405)
  else
    resp = common_params(req)
    if not resp then
      local ok, r = pcall(run_handler, row, req)
      if ok and type(r) == "table" then
        resp = r
      else
        ngx.log(ngx.ERR, "bingsim: handler ", row.module, " failed: ", tostring(r))
        entry.error = tostring(r)
        resp = envelope.error(req, 500)
      end
    end
  end
  status = status or resp.status or 200

  -- A request that started before a /_sim/reset and ends after it belongs to no log
  -- and no ledger: booking it would leak into the next spec.
  local current = reqlog.generation() == generation
  if resp.billing ~= nil then billing = resp.billing or nil end
  if billing and req.key_label and current then
    entry.billing = ledger.record(req.key_label, req.key_kind, billing,
      ledger.outcome(status, applied))
  end

  ngx.update_time()
  entry.status = resp.raw and status or _M.sent_status(req, resp, status)
  entry.fault, entry.done = applied, ngx.now()
  if current then reqlog.put(entry) end

  if resp.raw then return faults.perform_raw(req, resp.raw) end
  send(req, resp)
end

return _M
