-- Control endpoints (no key, not in the request log):
--   GET    /_sim/health            {"ok":true,...}
--   GET    /_sim/keys              {"keys":[{"label","key","kind"}]}
--   GET    /_sim/log[?since=N][&last=K]   request log entries, oldest first
--   POST   /_sim/reset             clears log, faults, ledger, jobs
--   POST   /_sim/fault             JSON body (or query args) -> {"ok":true,"fault":{...}}
--   GET    /_sim/faults            stored faults with the uses left
--   DELETE /_sim/faults            clears the faults only
--   GET    /_sim/ledger            {[key_label] = {[category] = {billable, non_billable, requests}}}
--   GET    /_sim/rules             the ledger's rules (categories, RECORD switches)
local json = require "bingsim.json"
local keys = require "bingsim.keys"
local faults = require "bingsim.faults"
local ledger = require "bingsim.ledger"
local reqlog = require "bingsim.reqlog"
local jobs = require "bingsim.jobs"

local _M = {_VERSION = "0.1.0"}

local function reply(status, body)
  if type(body) ~= "string" then body = json.encode(body) end
  ngx.status = status
  ngx.header["Content-Type"] = "application/json; charset=utf-8"
  ngx.header["Cache-Control"] = "no-cache"
  ngx.header["Content-Length"] = #body + 1
  ngx.print(body, "\n")
end

local function fail(status, msg) return reply(status, json.object{ok = false, error = msg}) end

local function read_json_body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if not data then
    local f = ngx.req.get_body_file()
    if f then
      local fh = io.open(f, "rb")
      if fh then data = fh:read("*a"); fh:close() end
    end
  end
  if not data or data:match("^%s*$") then return nil end
  local v, err = json.decode(data)
  if v == nil then return nil, "body is not JSON: " .. tostring(err) end
  return v
end

local handlers = {}

handlers["GET /_sim/health"] = function()
  return reply(200, json.object{ok = true, version = _M._VERSION, pid = ngx.worker.pid(),
    last_id = reqlog.last_id()})
end

handlers["GET /_sim/keys"] = function()
  local list = json.array()
  for i, k in ipairs(keys.list) do
    list[i] = json.object{label = k.label, key = k.key, kind = k.kind}
  end
  return reply(200, json.object{keys = list})
end

handlers["GET /_sim/log"] = function()
  local args = ngx.req.get_uri_args()
  local since, last = tonumber(args.since), tonumber(args.last)
  return reply(200, reqlog.dump(since, last))
end

handlers["POST /_sim/reset"] = function()
  reqlog.reset()
  faults.clear()
  ledger.reset()
  jobs.reset()
  return reply(200, json.object{ok = true, last_id = reqlog.last_id()})
end

handlers["POST /_sim/fault"] = function()
  local spec, err = read_json_body()
  if err then return fail(400, err) end
  if spec == nil then
    spec = {}
    for k, v in pairs(ngx.req.get_uri_args()) do
      if type(v) == "table" then v = v[1] end
      spec[k] = v
    end
  end
  local f, ferr = faults.add(spec)
  if not f then return fail(400, ferr) end
  return reply(200, json.object{ok = true, fault = json.object(f)})
end

handlers["GET /_sim/faults"] = function() return reply(200, faults.list()) end
handlers["DELETE /_sim/faults"] = function()
  faults.clear()
  return reply(200, json.object{ok = true})
end

handlers["GET /_sim/ledger"] = function() return reply(200, ledger.snapshot()) end
handlers["GET /_sim/rules"] = function() return reply(200, ledger.rules()) end

function _M.handle()
  local path = (ngx.var.request_uri or ""):match("^([^?]*)"):gsub("/+$", "")
  local h = handlers[ngx.req.get_method() .. " " .. path]
  if not h then
    local known = {}
    for k in pairs(handlers) do known[#known + 1] = k end
    table.sort(known)
    return fail(404, "unknown control endpoint; one of: " .. table.concat(known, ", "))
  end
  local ok, err = pcall(h)
  if not ok then
    ngx.log(ngx.ERR, "bingsim: control ", path, ": ", err)
    return fail(500, tostring(err))
  end
end

return _M
