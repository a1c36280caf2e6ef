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

-- API families (lua/bing/api/<name>.lua), each a table of endpoint declarations (bing.endpoint).
-- Adding a family is adding its name here (and its module).
local FAMILIES = {"locations", "routes", "elevations", "timezone", "traffic", "autosuggest",
                  "geospatial", "sds", "imagery"}
_M.FAMILIES = FAMILIES

local function family(name)
  return require("bing.api." .. name)
end

local endpoint = require "bing.endpoint"
local jobs = require "bing.jobs"

-- client.<family> is a table whose functions are bound to the client on first use, so that
-- bing.new stays cheap and a program that only geocodes never loads the routing code.
local CLIENT, NAME = {}, {}
local Family = {__index = function(t, fname)
  if type(fname) ~= "string" or fname:sub(1, 1) == "_" then return nil end
  local mod = family(t[NAME])
  -- A family's functions of no client (bing.sds.parse_results) are given as they are.
  local static = rawget(mod, "_static")
  if static and static[fname] then return static[fname] end
  local fn = endpoint.bind(t[CLIENT], mod[fname])
  rawset(t, fname, fn)
  return fn
end}

local Client = client_mod.Client

--- A job known by its id (saved before a restart, say), of any kind (bing.jobs: "truck",
-- "matrix", "isochrone", "snap", "optimize" or Bing's endpoint names): its family is loaded
-- here when the caller has not used it yet.
function Client:job(id, kind)
  if not jobs.kind(kind) then
    for _, name in ipairs(FAMILIES) do family(name) end
  end
  return jobs.resume(self, kind, id)
end

--- Creates a client.
-- Options: `key` or `session_key` (default: `BING_MAPS_KEY` from the environment),
-- `base_url`, `sds_url`, `geodata_url`, `cafile`, `capath`, `verify`, `http2`, `timeout`,
-- `connect_timeout`, `proxy`, `max_size`, `user_agent`, `culture`, `headers`, `transport`,
-- `retry`, `qps`, `budget`, `store` (bing.store: meter, budget and qps shared with other
-- clients), `account` (`"enterprise"`, the default, or `"basic"`: size limits of some Routes
-- APIs), `matrix_limits`, `sds_requests_this_year`, `clock`. README's "Client options" says
-- what each takes; an unknown option or a value it cannot take raises an `argument` error.
-- @tparam table opts the options
-- @treturn Client
-- @usage local client = bing.new{key = os.getenv "BING_MAPS_KEY", qps = 5, budget = {billable = 5000}}
function _M.new(opts)
  local c = client_mod.new(opts)
  for _, name in ipairs(FAMILIES) do rawset(c, name, setmetatable({[CLIENT] = c, [NAME] = name}, Family)) end
  return c
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
    local static = rawget(family(name), "_static")
    if static and type(fname) == "string" and static[fname] then return static[fname] end
    local entry = family(name)[fname]
    if endpoint.bind(false, entry) == nil then return nil end
    return function(...) return _M.default()[name][fname](...) end
  end})
end

_M.errors = require "bing.errors"

return _M
