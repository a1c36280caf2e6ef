-- One contestant of `make bench`, run in its own process by bench/run.lua:
--   calls.lua seq URL KEY N        N geocodes over the C transport (libcurl) against URL;
--                                  prints "wall cpu n" for the N calls after one warm-up call
--   calls.lua lua FILE N           N geocodes through a Lua transport that returns FILE's
--                                  bytes (the pipeline without network); same output
--   calls.lua rss FILE N STEP      as `lua`, printing "i rss_kb" every STEP calls
--   calls.lua cjson FILE N         N lua-cjson decodes of FILE's bytes alone (what the decode
--                                  of one answer costs without lua-bing); same output
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

local function lua_client(file)
  local fh = assert(io.open(file, "rb"))
  local body = fh:read("a")
  fh:close()
  local answer = {status = 200, body = body,
                  headers = {["content-type"] = "application/json; charset=utf-8"}}
  return bing.new{key = "BenchKey", retry = false, transport = function() return answer end}
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
  c, n = bing.new{key = arg[3], base_url = arg[2], retry = false}, tonumber(arg[4])
elseif mode == "lua" or mode == "rss" then
  c, n = lua_client(arg[2]), tonumber(arg[3])
else
  io.stderr:write("usage: calls.lua seq URL KEY N | lua FILE N | rss FILE N STEP | cjson FILE N\n")
  os.exit(2)
end
assert(c.locations.find{q = Q})
if mode == "rss" then
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
