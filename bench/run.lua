-- make bench: figures as ratios against a baseline measured in the same run.
--
-- 1. URL building: core.build_url against a plain-Lua percent-encoder doing the same work.
-- 2. Transport: N geocodes over one kept-alive connection against N with a fresh client
--    (a new TCP connection) each time, both against the local emulator.
local bing = require "bing"
local core = require "bing.core"

local function clock() return core.now() end

local function time(n, fn)
  local t0 = clock()
  for i = 1, n do fn(i) end
  return clock() - t0
end

local function lua_encode(s)
  return (s:gsub("[^%w%-%._~,]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local function lua_build(base, path, params, key)
  local parts = {}
  for i, p in ipairs(params) do parts[i] = p[1] .. "=" .. lua_encode(tostring(p[2])) end
  parts[#parts + 1] = "key=" .. lua_encode(key)
  return base .. path .. "?" .. table.concat(parts, "&")
end

local params = {{"q", "1 Microsoft Way, Redmond, WA 98052"}, {"maxResults", 5},
                {"userLocation", "47.64054,-122.12934"}, {"culture", "en-US"}}
local N = 200000
local BASE, PATH = "https://dev.virtualearth.net", "/REST/v1/Locations"
local t_lua = time(N, function() lua_build(BASE, PATH, params, "k") end)
local t_c = time(N, function() core.build_url(BASE, PATH, nil, params, "k") end)
print(string.format("url building   %d URLs: core.build_url %.3fs, plain Lua %.3fs -> %.2fx the Lua speed",
  N, t_c, t_lua, t_lua / t_c))

local url, key = os.getenv("SIM_URL"), os.getenv("SIM_KEY")
if not url then
  print("transport      skipped: no emulator (run through make bench)")
  return
end
local M = 300
local kept = bing.new{key = key, base_url = url, retry = false}
assert(kept.locations.find{q = "Seattle"})
local t_keep = time(M, function() assert(kept.locations.find{q = "Seattle"}) end)
local t_new = time(M, function()
  local c = bing.new{key = key, base_url = url, retry = false}
  assert(c.locations.find{q = "Seattle"})
  c:close()
end)
print(string.format(
  "transport      %d geocodes: keep-alive %.3fs (%.0f/s), new connection each %.3fs -> %.2fx faster",
  M, t_keep, M / t_keep, t_new, t_new / t_keep))

-- The same over TLS, where a new connection costs a handshake: the case keep-alive is for.
local https, ca = os.getenv("SIM_HTTPS_URL"), os.getenv("SIM_CA")
local tls = bing.new{key = key, base_url = https, cafile = ca, retry = false}
assert(tls.locations.find{q = "Seattle"})
local t_tls_keep = time(M, function() assert(tls.locations.find{q = "Seattle"}) end)
local t_tls_new = time(M, function()
  local c = bing.new{key = key, base_url = https, cafile = ca, retry = false}
  assert(c.locations.find{q = "Seattle"})
  c:close()
end)
print(string.format(
  "transport/TLS  %d geocodes: keep-alive %.3fs (%.0f/s), new connection each %.3fs -> %.2fx faster",
  M, t_tls_keep, M / t_tls_keep, t_tls_new, t_tls_new / t_tls_keep))
