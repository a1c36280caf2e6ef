-- GET /geocode?q=<query> -> {"name": ..., "lat": ..., "lon": ..., "matches": n}, through the
-- cosocket transport. GET /usage -> the client's usage (client:usage(): billable,
-- non_billable, requests, categories, hints), which with `shared = "<dict>"` is that of every
-- worker. Loaded by examples/openresty/nginx.conf:
--   init_worker_by_lua_block { require("geocode").init{base_url = ..., shared = "bing"} }
--   location = /geocode { content_by_lua_block { require("geocode").handle() } }
--   location = /usage { content_by_lua_block { require("geocode").usage() } }
-- Errors answer {"error": {kind, code, status, message, retryable, attempts}} with 400 (no q),
-- 404 (no match), 504 (timeout) or 502 (anything else from Bing or the network). The key is
-- never in an answer or a log line: the library redacts every error text.
local bing = require "bing"
local cjson = require "cjson.safe"
local ngx_transport = require "bing.ngx_transport"

local _M = {}

local clients = {}

--- Makes this worker's client (from init_worker_by_lua*). `opts`: bing.new options and the
-- transport's (pool_size, ssl_server_name, ...) and `shared` (a lua_shared_dict for the
-- meter, budget and qps of all the workers), e.g. {base_url = os.getenv "BING_BASE_URL"};
-- `name` registers more than one client ("default" when nil). The key comes from
-- BING_MAPS_KEY (nginx.conf: `env BING_MAPS_KEY;`).
function _M.init(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local name = o.name or "default"
  o.name = nil
  o.key = o.key or os.getenv("BING_MAPS_KEY")
  if o.key == "" then o.key = nil end
  o.pool_size = o.pool_size or 16
  if not o.key then
    -- Said once per worker; the requests then answer kind "auth".
    ngx.log(ngx.WARN, "geocode: BING_MAPS_KEY is not set (nginx.conf needs `env BING_MAPS_KEY;`)")
  end
  clients[name] = bing.new(ngx_transport.options(o))
  return clients[name]
end

--- The client registered as `name` ("default" when nil), for other handlers of the worker
-- (mapservice.lua), or nil before init.
function _M.client(name)
  return clients[name or "default"]
end

local function answer(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Cache-Control"] = "no-store"
  ngx.say(cjson.encode(t))
  return ngx.exit(status)
end

local function failure(err)
  local status = 502
  if err.kind == "timeout" then status = 504 end
  if err.kind == "argument" then status = 400 end
  -- tostring(err) is redacted; it holds the URL with key=<redacted>.
  ngx.log(ngx.ERR, "geocode: ", tostring(err))
  return answer(status, {error = {kind = err.kind, code = err.code, status = err.status,
                                  message = err.message, retryable = err.retryable,
                                  attempts = err.attempts}})
end

--- Answers one request (from content_by_lua*), with the client registered as `name`.
function _M.handle(name)
  local client = clients[name or "default"]
  if not client then
    return answer(500, {error = {kind = "config", message = "geocode.init was not called"}})
  end
  local q = ngx.req.get_uri_args().q
  if type(q) == "table" then q = q[1] end -- ?q=a&q=b: the first
  if type(q) ~= "string" then q = nil end -- ?q without a value
  if not q or q == "" then
    return answer(400, {error = {kind = "argument", message = "give q, e.g. /geocode?q=Seattle"}})
  end
  -- A programmer error (bad argument types) raises; anything from the network returns nil, err.
  local ok, locs, err = pcall(client.locations.find, {q = q, maxResults = 5})
  if not ok then return failure(bing.errors.is_error(locs) and locs or
    bing.errors.new("argument", tostring(locs))) end
  if not locs then return failure(err) end
  if #locs == 0 then
    return answer(404, {error = {kind = "not_found", message = "no location matches q"},
                        matches = 0})
  end
  local lat, lon = locs[1]:latlon()
  return answer(200, {name = locs[1].name, lat = lat, lon = lon, matches = #locs,
                      entity_type = locs[1].entityType, confidence = locs[1].confidence,
                      trace_id = locs.meta.trace_id, attempts = locs.meta.attempts})
end

--- Answers the usage of the client registered as `name` (from content_by_lua*): the calls of
-- this worker, or of every worker when the client was made with `shared`.
function _M.usage(name)
  local client = clients[name or "default"]
  if not client then
    return answer(500, {error = {kind = "config", message = "geocode.init was not called"}})
  end
  return answer(200, client:usage())
end

return _M
