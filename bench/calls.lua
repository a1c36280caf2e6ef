-- One contestant of `make bench`, run in its own process by bench/run.lua:
--   calls.lua seq URL KEY N        N geocodes over the C transport (libcurl) against URL;
--                                  prints "wall cpu n" for the N calls after one warm-up call
--   calls.lua lua FILE N           N geocodes through a Lua transport that returns FILE's
--                                  bytes (the pipeline without network); same output
--   calls.lua rss FILE N STEP      as `lua`, printing "i rss_kb" every STEP calls
--   calls.lua cjson FILE N         N lua-cjson decodes of FILE's bytes alone (what the decode
--                                  of one answer costs without lua-bing); same output
--   calls.lua prof FILE N          as `lua` under a count hook: where the Lua VM instructions
--                                  of a call go, "share file:line function" per function and
--                                  "share file" per module (callgrind cannot see into Lua code)
-- CPU time is os.clock (the process's user + system time in both Lua 5.4 and LuaJIT).
local bing = require "bing"
local core = require "bing.core"

local mode = arg[1]
local Q = "Tower of London"

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")) or 0
end

-- Clients are made as a user makes them: default options (retries on, no budget, no qps).
local function lua_client(file)
  local fh = assert(io.open(file, "rb"))
  local body = fh:read("a")
  fh:close()
  local answer = {status = 200, body = body,
                  headers = {["content-type"] = "application/json; charset=utf-8"}}
  return bing.new{key = "BenchKey", transport = function() return answer end}
end

local function loop(c, n)
  local find = c.locations.find
  local w0, c0 = core.now(), os.clock()
  for _ = 1, n do
    local r, err = find{q = Q}
    if not r then error(tostring(err)) end
  end
  return core.now() - w0, os.clock() - c0
end

if mode == "cjson" then
  local cjson = require "cjson"
  local fh = assert(io.open(arg[2], "rb"))
  local body = fh:read("a")
  fh:close()
  local n = tonumber(arg[3])
  local w0, c0 = core.now(), os.clock()
  for _ = 1, n do cjson.decode(body) end
  print(string.format("%.6f %.6f %d", core.now() - w0, os.clock() - c0, n))
  return
end

local c, n
if mode == "seq" then
  c, n = bing.new{key = arg[3], base_url = arg[2]}, tonumber(arg[4])
elseif mode == "lua" or mode == "rss" or mode == "prof" then
  c, n = lua_client(arg[2]), tonumber(arg[3])
else
  io.stderr:write("usage: calls.lua seq URL KEY N | lua FILE N | rss FILE N STEP | cjson FILE N\n")
  os.exit(2)
end
assert(c.locations.find{q = Q})
if mode == "prof" then
  -- One sample every 7 VM instructions (a prime, so the fixed sequence of a call is not
  -- sampled in step with its own loops).
  local fns, files, total = {}, {}, 0
  debug.sethook(function()
    local info = debug.getinfo(2, "Sn")
    if info then
      local src = info.short_src:match("([^/]+/[^/]+)$") or info.short_src
      local k = src .. ":" .. (info.linedefined or 0) .. " " .. (info.name or "?")
      fns[k] = (fns[k] or 0) + 1
      files[src] = (files[src] or 0) + 1
      total = total + 1
    end
  end, "", 7)
  loop(c, n)
  debug.sethook()
  local function top(t, count, fmt)
    local l = {}
    for k, v in pairs(t) do l[#l + 1] = {k, v} end
    table.sort(l, function(a, b) return a[2] > b[2] or a[2] == b[2] and a[1] < b[1] end)
    for i = 1, math.min(count, #l) do print(string.format(fmt, l[i][2] / total * 100, l[i][1])) end
  end
  top(files, 12, "file %.1f %s")
  top(fns, 15, "fn %.1f %s")
elseif mode == "rss" then
  local step = tonumber(arg[4])
  print(0, rss_kb())
  for i = step, n, step do
    loop(c, step)
    print(i, rss_kb())
  end
else
  local wall, cpu = loop(c, n)
  print(string.format("%.6f %.6f %d", wall, cpu, n))
end
