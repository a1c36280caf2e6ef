--- lua-bing: Bing Maps REST Services and Spatial Data Services for Lua.
--
--     local bing = require "bing"
--     local client = bing.new{key = os.getenv "BING_MAPS_KEY"}
--     local locs, err = client.locations.find{q = "1 Microsoft Way, Redmond, WA"}
--     if not locs then print(err) else print(locs[1].name, locs[1]:latlon()) end
--
-- Or with the module-level default client: `bing.configure{key = ...}` then
-- `bing.locations.find{q = "Seattle"}`.
-- @module bing
local core = require "bing.core"
local client_mod = require "bing.client"

local _M = {VERSION = core.VERSION}

-- API families, each a module of functions fn(client, args). Adding a family is adding its
-- name here (and its module).
local FAMILIES = {"locations", "routes"}
_M.FAMILIES = FAMILIES

local function family(name)
  return require("bing." .. name)
end

-- Binds a family's functions to one client: client.locations.find{...} calls
-- locations.find(client, {...}). Closures are made once per client, not per call.
local function bind(client, name)
  local mod = family(name)
  local bound = {}
  for fname, fn in pairs(mod) do
    if type(fn) == "function" and fname:sub(1, 1) ~= "_" then
      bound[fname] = function(args, ...) return fn(client, args, ...) end
    end
  end
  return bound
end

local Client = client_mod.Client
local is_family = {}
for _, name in ipairs(FAMILIES) do is_family[name] = true end

-- client.<family> is bound on first use and kept on the client, so that bing.new stays cheap
-- and a program that only geocodes never loads the routing code.
Client.__index = function(c, k)
  local m = Client[k]
  if m ~= nil then return m end
  if is_family[k] then
    local bound = bind(c, k)
    rawset(c, k, bound)
    return bound
  end
  return nil
end

--- Creates a client.
-- Options: `key` or `session_key` (default: `BING_MAPS_KEY` from the environment),
-- `base_url`, `sds_url`, `cafile`, `capath`, `timeout`, `connect_timeout`, `proxy`,
-- `max_size`, `user_agent`, `culture`, `headers`, `transport`, `retry`, `qps`, `budget`,
-- `store` (bing.store: meter, budget and qps shared with other clients), `account`
-- (`"enterprise"`, the default, or `"basic"`: size limits of some Routes APIs), `clock`.
-- @treturn Client
function _M.new(opts)
  return client_mod.new(opts)
end

-- client:usage(), client:preflight(), client:estimate(): bing.client (billing, doc/billing.md).

--- The estimate of a call without sending it (splits included): `bing.estimate(client,
-- "routes", "calc", {waypoints = ...})`; `client:estimate(...)` is the same.
function _M.estimate(client, fam, fname, args)
  return client:estimate(fam, fname, args)
end

local default_client

--- Sets up the module-level default client used by `bing.locations.find{...}` etc., and
-- returns it. The client it replaces is not closed: a caller may still hold it (an earlier
-- `bing.configure` returned it), so it stays usable until it is collected, when its __gc
-- (or, under LuaJIT, that of its curl handle) closes its connections. Close it yourself
-- (`old:close()`) to free them sooner.
function _M.configure(opts)
  -- The new client first: options that raise leave the current default client working.
  default_client = _M.new(opts)
  return default_client
end

--- The module-level default client (made from the environment on first use).
function _M.default()
  if not default_client then default_client = _M.new{} end
  return default_client
end

for _, name in ipairs(FAMILIES) do
  -- bing.locations.find{...} goes to the default client of the moment.
  _M[name] = setmetatable({}, {__index = function(_, fname)
    local fn = family(name)[fname]
    if type(fn) ~= "function" then return nil end
    return function(args, ...) return fn(_M.default(), args, ...) end
  end})
end

_M.errors = require "bing.errors"

return _M
