-- make bench: lua-bing against the peers a user would pick instead, in one run, printed as one
-- table of medians and ratios (issue 12). Every ratio is against a baseline measured in the
-- same run; repetitions are paired and interleaved (each repetition runs every contestant
-- once, in a rotated order) and the ratio of a repetition is taken before the median.
--
--   0. URL building and keep-alive (the first benchmarks of the project, kept)
--   1. sequential geocodes: raw C libcurl loop (the floor), lua-bing on Lua 5.4 and LuaJIT,
--      geopy's Bing geocoder, the curl CLI; against a static-file nginx answering a recorded
--      Bing answer and against the emulator
--   2. batch throughput at concurrency 1, 8, 32 with a 50 ms emulator delay, against the
--      Little's-law limit (concurrency / latency) and wrk at the same concurrency
--   3. decode cost and peak memory of a 10,000-point route and a 2,500-cell matrix
--   4. instructions per call under callgrind, RSS over 100,000 calls
--
-- Run through `make bench` (it starts the emulator, builds the core for both interpreters
-- and the C helpers of bench/). BENCH_QUICK=1 cuts every count (a smoke run, not figures).
-- Every server started here listens on 127.0.0.1 and is bounded in time (`timeout`).
local core = require "bing.core"
local socket = require "socket"

local ROOT = os.getenv("BENCH_ROOT") or "."
local BIN = ROOT .. "/build/bench"
local QUICK = os.getenv("BENCH_QUICK") == "1"
local SIM_URL, SIM_KEY = os.getenv("SIM_URL"), os.getenv("SIM_KEY")
local SIM_HTTPS_URL, SIM_CA = os.getenv("SIM_HTTPS_URL"), os.getenv("SIM_CA")
local FIXTURE = ROOT .. "/bench/fixtures/locations-by-query.json"
local PY = "/usr/bin/python3" -- Debian's, where python3-geopy is installed
local SERVER_LIFETIME = 900   -- seconds: the static nginx stops by itself after this

-- The machine these figures come from is shared and noisy: many short paired repetitions,
-- with the spread of the ratios (25th-75th percentile) printed beside each median.
local REPS = QUICK and 2 or 9
local N_STATIC = QUICK and 200 or 2000
local N_SIM = QUICK and 40 or 300
local WRK_SECONDS = QUICK and 1 or 3
local DELAY = 0.05

local started = core.now()
local T0_STARTED = os.date("!%Y-%m-%d %H:%M:%S UTC")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local TMP do
  local p = io.popen("mktemp -d " .. q((os.getenv("TMPDIR") or "/tmp") .. "/lua-bing-bench.XXXXXX"))
  TMP = p:read("l")
  p:close()
end

-- Runs a shell command; returns its stdout (trimmed). Fails loudly with its stderr.
local function run(cmd)
  local p = io.popen(cmd .. " 2>" .. q(TMP .. "/stderr"))
  local out = p:read("a")
  local ok = p:close()
  if not ok then
    local f = io.open(TMP .. "/stderr")
    local err = f and f:read("a") or ""
    if f then f:close() end
    error("bench: command failed: " .. cmd .. "\n" .. err, 0)
  end
  return (out:gsub("%s+$", ""))
end

local function first_line(cmd)
  local ok, out = pcall(run, cmd)
  return ok and (out:match("[^\n]+") or "") or "?"
end

local function nums(s)
  local t = {}
  for x in s:gmatch("%S+") do t[#t + 1] = tonumber(x) or x end
  return t
end

-- The p-quantile (0..1) of a list, linearly interpolated; median(list) = quantile(list, 0.5).
local function quantile(list, p)
  local t = {}
  for i, v in ipairs(list) do t[i] = v end
  table.sort(t)
  local n = #t
  if n == 0 then return nil end
  local x = 1 + (n - 1) * p
  local lo = math.floor(x)
  local hi = math.min(lo + 1, n)
  return t[lo] + (t[hi] - t[lo]) * (x - lo)
end
local function median(list) return quantile(list, 0.5) end
local function spread(list) return string.format("%.2f-%.2f", quantile(list, 0.25), quantile(list, 0.75)) end

-- The environment assignments that make `interp` find lua-bing and its core.
local function lua_env(interp)
  local build = interp == "luajit" and "luajit" or "lua5.4"
  return string.format("LUA_PATH=%s LUA_CPATH=%s",
    q(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"), q(ROOT .. "/build/" .. build .. "/?.so;;"))
end
local function lua_cmd(interp) return "env " .. lua_env(interp) .. " " .. interp end
local LUA54, LUAJIT = lua_cmd("lua5.4"), lua_cmd("luajit")

------------------------------------------------------------------------------------------
-- The table
------------------------------------------------------------------------------------------
local rows = {}
local notes = {}
local function row(section, what, value, ratio, target)
  rows[#rows + 1] = {section, what, value, ratio or "", target or ""}
end
local function verdict(ok, text) return (ok and "met: " or "MISSED: ") .. text end

------------------------------------------------------------------------------------------
-- The static-file nginx: every /REST/ path answers the recorded Bing answer.
------------------------------------------------------------------------------------------
local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

local static = {}
function static.start()
  local dir = TMP .. "/static"
  run("mkdir -p " .. q(dir .. "/www") .. " && cp " .. q(FIXTURE) .. " " .. q(dir .. "/www/answer.json")
    .. " && chmod -R a+rX " .. q(TMP))
  local port = free_port()
  local user = ""
  if run("id -u") == "0" then user = "user " .. run("id -un") .. " " .. run("id -gn") .. ";" end
  local conf = table.concat({
    user, "worker_processes 1; daemon off; pid " .. dir .. "/nginx.pid;",
    "error_log " .. dir .. "/error.log warn;",
    "events { worker_connections 256; }",
    "http {",
    "  access_log off; keepalive_requests 1000000; keepalive_timeout 60s;",
    "  client_body_temp_path " .. dir .. "/tmp; proxy_temp_path " .. dir .. "/tmp;",
    "  fastcgi_temp_path " .. dir .. "/tmp; uwsgi_temp_path " .. dir .. "/tmp;",
    "  scgi_temp_path " .. dir .. "/tmp;",
    "  server {",
    "    listen 127.0.0.1:" .. port .. "; root " .. dir .. "/www;",
    "    location /REST/ { default_type \"application/json; charset=utf-8\";",
    "                      rewrite ^ /answer.json break; }",
    "  }",
    "}"}, "\n")
  local f = assert(io.open(dir .. "/nginx.conf", "w"))
  f:write(conf, "\n")
  f:close()
  local nginx = run("command -v nginx || echo /usr/sbin/nginx")
  os.execute(string.format("timeout %d %s -p %s -c %s -e %s >%s 2>&1 &", SERVER_LIFETIME, q(nginx),
    q(dir .. "/"), q(dir .. "/nginx.conf"), q(dir .. "/error.log"), q(dir .. "/start.log")))
  static.dir, static.url = dir, "http://127.0.0.1:" .. port
  for _ = 1, 100 do
    if os.execute("curl -sf -o /dev/null " .. q(static.url .. "/REST/v1/Locations?q=x")) then
      return static.url
    end
    core.sleep(0.05)
  end
  error("bench: the static nginx did not answer on " .. static.url .. "\n"
    .. run("cat " .. q(dir .. "/error.log")))
end

function static.stop()
  if not static.dir then return end
  local f = io.open(static.dir .. "/nginx.pid")
  local pid = f and f:read("n")
  if f then f:close() end
  if pid then os.execute("kill " .. math.tointeger(pid) .. " 2>/dev/null") end
end

------------------------------------------------------------------------------------------
-- 0. URL building and keep-alive (kept from the first bench)
------------------------------------------------------------------------------------------
local function section0()
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
  local BASE, PATH = "https://dev.virtualearth.net", "/REST/v1/Locations"
  local N = QUICK and 20000 or 100000
  local tc, tl = {}, {}
  for r = 1, REPS do
    local t = core.now()
    for _ = 1, N do core.build_url(BASE, PATH, nil, params, "k") end
    tc[r] = core.now() - t
    t = core.now()
    for _ = 1, N do lua_build(BASE, PATH, params, "k") end
    tl[r] = core.now() - t
  end
  local ratios = {}
  for r = 1, REPS do ratios[r] = tl[r] / tc[r] end
  row("0 url", "core.build_url (Lua 5.4), per URL", string.format("%.2f us", median(tc) / N * 1e6),
    string.format("%.2fx faster than plain Lua (%.2f us)", median(ratios), median(tl) / N * 1e6))

  local bing = require "bing"
  local M = QUICK and 50 or 200
  local function keepalive(label, url, ca)
    local kept = bing.new{key = SIM_KEY, base_url = url, cafile = ca, retry = false}
    assert(kept.locations.find{q = "Seattle"})
    local tk, tn, rr = {}, {}, {}
    for r = 1, math.min(REPS, 3) do
      local t = core.now()
      for _ = 1, M do assert(kept.locations.find{q = "Seattle"}) end
      tk[r] = core.now() - t
      t = core.now()
      for _ = 1, M do
        local c = bing.new{key = SIM_KEY, base_url = url, cafile = ca, retry = false}
        assert(c.locations.find{q = "Seattle"})
        c:close()
      end
      tn[r] = core.now() - t
      rr[r] = tn[r] / tk[r]
    end
    kept:close()
    row("0 keep-alive", label .. ": kept-alive geocode (emulator)",
      string.format("%.0f us", median(tk) / M * 1e6),
      string.format("%.2fx faster than a new connection each (%.0f us)", median(rr), median(tn) / M * 1e6))
  end
  keepalive("HTTP/1.1", SIM_URL)
  keepalive("TLS", SIM_HTTPS_URL, SIM_CA)
end

------------------------------------------------------------------------------------------
-- 1. Sequential geocodes
------------------------------------------------------------------------------------------
local Q_ENC = "Tower%20of%20London"

local function curl_config(base, key, n)
  local file = TMP .. "/curl-" .. n .. ".cfg"
  local f = assert(io.open(file, "w"))
  local url = base .. "/REST/v1/Locations?q=" .. Q_ENC .. "&key=" .. key
  for _ = 1, n do f:write('url = "', url, '"\noutput = "/dev/null"\n') end
  f:close()
  return file
end

local SEQ = {
  {id = "c", name = "raw C libcurl loop, one reused handle (floor)", cmd = function(base, key, n)
    return BIN .. "/curl_loop " .. q(base .. "/REST/v1/Locations?q=" .. Q_ENC .. "&key=" .. key) .. " " .. n
  end},
  {id = "lua54", name = "lua-bing, Lua 5.4", cmd = function(base, key, n)
    return LUA54 .. " " .. q(ROOT .. "/bench/calls.lua") .. " seq " .. q(base) .. " " .. q(key) .. " " .. n
  end},
  {id = "luajit", name = "lua-bing, LuaJIT", cmd = function(base, key, n)
    return LUAJIT .. " " .. q(ROOT .. "/bench/calls.lua") .. " seq " .. q(base) .. " " .. q(key) .. " " .. n
  end},
  {id = "geopy", name = "geopy Bing geocoder (urllib adapter)", cmd = function(base, key, n)
    return PY .. " " .. q(ROOT .. "/bench/geopy_seq.py") .. " " .. q(base) .. " " .. q(key) .. " " .. n
  end},
  -- The CLI cannot time itself: wait4 gives its wall and CPU, process start included (one
  -- start for the N URLs of its config, which it fetches over one connection).
  {id = "curl", name = "curl CLI, N URLs in one process (start included)", cmd = function(base, key, n)
    return BIN .. "/rusage_exec curl -s -K " .. q(curl_config(base, key, n))
  end, self_timed = false},
}

local function section1(server, base, key, n)
  local res = {}
  for _, c in ipairs(SEQ) do res[c.id] = {wall = {}, cpu = {}, rw = {}, rc = {}} end
  for r = 1, REPS do
    local this = {}
    for k = 0, #SEQ - 1 do
      local c = SEQ[(r + k - 1) % #SEQ + 1]
      local t = nums(run(c.cmd(base, key, n)))
      this[c.id] = {wall = t[1] / n, cpu = t[2] / n}
    end
    for id, m in pairs(this) do
      local a = res[id]
      a.wall[r], a.cpu[r] = m.wall, m.cpu
      a.rw[r], a.rc[r] = m.wall / this.c.wall, m.cpu / this.c.cpu
    end
  end
  local med = {}
  for _, c in ipairs(SEQ) do
    local a = res[c.id]
    med[c.id] = {wall = median(a.wall), cpu = median(a.cpu), rw = median(a.rw), rc = median(a.rc),
                 srw = spread(a.rw), src = spread(a.rc)}
  end
  for _, c in ipairs(SEQ) do
    local m = med[c.id]
    local target
    if server == "static" and (c.id == "lua54" or c.id == "luajit") then
      local geo = {}
      for r = 1, REPS do geo[r] = res.geopy.wall[r] / res[c.id].wall[r] end
      local g = median(geo)
      target = string.format("%s; %s; %s",
        verdict(m.rw <= 1.2, string.format("wall %.2fx <= 1.2x", m.rw)),
        verdict(m.rc <= 1.5, string.format("CPU %.2fx <= 1.5x", m.rc)),
        verdict(g >= 3, string.format("%.1fx geopy's rate >= 3x", g)))
    end
    row("1 seq/" .. server, c.name .. (c.id == "c" and "" or ""),
      string.format("%.0f us wall, %.0f us CPU per call (%.0f/s)", m.wall * 1e6, m.cpu * 1e6, 1 / m.wall),
      c.id == "c" and "1.00x wall, 1.00x CPU (the floor)"
        or string.format("%.2fx wall (%s), %.2fx CPU (%s)", m.rw, m.srw, m.rc, m.src), target)
  end
end

------------------------------------------------------------------------------------------
-- 2. Batch throughput with a 50 ms emulator delay
------------------------------------------------------------------------------------------
local function section2()
  run("curl -sf -o /dev/null -X DELETE " .. q(SIM_URL .. "/_sim/faults"))
  run("curl -sf -o /dev/null -X POST " .. q(SIM_URL .. "/_sim/fault?fault=delay&seconds=" .. DELAY
    .. "&times=-1&path=/REST/v1/Locations"))
  local ok, err = pcall(function()
    local url = SIM_URL .. "/REST/v1/Locations?q=" .. Q_ENC .. "&key=" .. SIM_KEY
    for _, conc in ipairs{1, 8, 32} do
      local limit = conc / DELAY
      row("2 batch c=" .. conc, "Little's-law limit (concurrency / 50 ms)", string.format("%.0f/s", limit))
      local out = run(string.format("wrk -t1 -c%d -d%ds --timeout 5s %s", conc, WRK_SECONDS, q(url)))
      local wrk = tonumber(out:match("Requests/sec:%s*([%d%.]+)"))
      row("2 batch c=" .. conc, "wrk (HTTP/1.1, " .. conc .. " connections)", string.format("%.0f/s", wrk),
        string.format("%.0f%% of the limit", wrk / limit * 100))
      if conc == 1 then
        local t = nums(run(LUA54 .. " " .. q(ROOT .. "/bench/batch.lua") .. " seq " .. q(SIM_URL) .. " "
          .. q(SIM_KEY) .. " " .. math.floor(WRK_SECONDS / DELAY * 2) .. " " .. WRK_SECONDS))
        local rate = t[1] / t[2]
        row("2 batch c=1", "lua-bing sequential (Lua 5.4)", string.format("%.1f/s (%.1f ms per call)", rate,
          1000 / rate),
          string.format("%.0f%% of the limit, %.0f%% of wrk", rate / limit * 100, rate / wrk * 100))
      end
      local n_items = math.floor(conc * WRK_SECONDS / DELAY / 2)
      local b = run(LUA54 .. " " .. q(ROOT .. "/bench/batch.lua") .. " batch " .. q(SIM_URL) .. " "
        .. q(SIM_KEY) .. " " .. n_items .. " " .. conc)
      if b == "absent" then
        row("2 batch c=" .. conc, "lua-bing batch (not built yet)", "-", "-",
          conc == 32 and "target: >= 90% of the limit and of wrk" or "")
      else
        local t = nums(b)
        local rate = t[1] / t[2]
        local target
        if conc == 32 then
          target = verdict(rate >= 0.9 * limit and rate >= 0.9 * wrk,
            string.format("%.0f%% of the limit, %.0f%% of wrk >= 90%%", rate / limit * 100, rate / wrk * 100))
        end
        row("2 batch c=" .. conc, string.format("lua-bing client:batch (%d items, Lua 5.4)", n_items),
          string.format("%.0f/s (%d ok)", rate, t[1]),
          string.format("%.0f%% of the limit, %.0f%% of wrk", rate / limit * 100, rate / wrk * 100), target)
      end
    end
  end)
  run("curl -sf -o /dev/null -X DELETE " .. q(SIM_URL .. "/_sim/faults"))
  if not ok then error(err, 0) end
end

------------------------------------------------------------------------------------------
-- 3. Decode cost and peak memory
------------------------------------------------------------------------------------------
local function section3()
  local files = {}
  for _, kind in ipairs{"route", "matrix"} do
    files[kind] = TMP .. "/" .. kind .. ".json"
    run(LUA54 .. " " .. q(ROOT .. "/bench/decode.lua") .. " gen " .. kind .. " " .. q(files[kind]))
  end
  local K = QUICK and 5 or 25
  local variants = {"cjson", "core", "client"}
  local labels = {cjson = "lua-cjson alone", core = "lua-bing core.decode",
                  client = "lua-bing call + result type (Lua transport)"}
  local what = {route = "10,000-point route", matrix = "2,500-cell matrix"}
  for _, interp in ipairs{"lua5.4", "luajit"} do
    local cmd = lua_cmd(interp)
    for _, kind in ipairs{"route", "matrix"} do
      local res = {}
      for _, v in ipairs(variants) do res[v] = {t = {}, peak = {}, heap = {}, r = {}} end
      for r = 1, math.min(REPS, 5) do
        local this = {}
        for k = 0, #variants - 1 do
          local v = variants[(r + k - 1) % #variants + 1]
          this[v] = nums(run(cmd .. " " .. q(ROOT .. "/bench/decode.lua") .. " run " .. v .. " " .. kind
            .. " " .. q(files[kind]) .. " " .. K))
        end
        for _, v in ipairs(variants) do
          local a = res[v]
          a.t[r], a.peak[r], a.heap[r] = this[v][1], this[v][2], this[v][3]
          a.r[r] = this[v][1] / this.cjson[1]
        end
      end
      local size = #run("cat " .. q(files[kind]))
      for _, v in ipairs(variants) do
        local a = res[v]
        local ratio = median(a.r)
        local target
        if v ~= "cjson" then
          target = verdict(ratio <= 1.2, string.format("%s %.2fx <= 1.2x", v == "core" and "decode" or
            "decode + wrapping", ratio))
        end
        row(string.format("3 decode/%s", interp == "lua5.4" and "5.4" or "JIT"),
          string.format("%s (%d KB): %s", what[kind], size // 1024, labels[v]),
          string.format("%.2f ms, peak RSS +%.0f KB, heap %.0f KB", median(a.t) * 1e3, median(a.peak),
            median(a.heap)),
          v == "cjson" and "1.00x" or string.format("%.2fx lua-cjson (%s)", ratio, spread(a.r)), target)
      end
    end
  end
end

------------------------------------------------------------------------------------------
-- 4. Instructions per call (callgrind) and RSS over 100,000 calls
------------------------------------------------------------------------------------------
-- Instructions per call: the difference of two runs of N1 and N2 calls, divided by N2 - N1, so
-- the start of the process (loading the modules, the first connection) cancels out. `cmd(n)`
-- gives the command to run under valgrind and the environment assignments to run it with.
local function callgrind(cmd, n1, n2, tag)
  local function total(n)
    local out = TMP .. "/callgrind." .. tag .. "." .. n
    local command, env = cmd(n)
    run((env or "") .. " valgrind --tool=callgrind --callgrind-out-file=" .. q(out) .. " " .. command
      .. " >/dev/null")
    local f = assert(io.open(out))
    local s = f:read("a")
    f:close()
    return tonumber(s:match("\ntotals:%s*(%d+)") or s:match("\nsummary:%s*(%d+)")), out
  end
  local i1, file1 = total(n1)
  local i2, file2 = total(n2)
  return (i2 - i1) / (n2 - n1), file1, file2
end

-- Self cost per function and per shared object of a callgrind profile.
local function profile(file)
  local out = run("callgrind_annotate --threshold=100 " .. q(file))
  local fns, objs = {}, {}
  for line in out:gmatch("[^\n]+") do
    local ir, fn, obj = line:match("^%s*([%d,]+)%s+%(%s*[%d%.]+%%%)%s+(.-)%s+%[(.-)%]%s*$")
    if ir then
      ir = tonumber((ir:gsub(",", "")))
      fn = fn:gsub("^.*:", ""):gsub("'%d+$", "")
      obj = obj:match("([^/]+)$"):gsub("%.so[%.%d]*$", ".so")
      local k = fn .. " (" .. obj .. ")"
      fns[k] = (fns[k] or 0) + ir
      objs[obj] = (objs[obj] or 0) + ir
    end
  end
  return fns, objs
end

-- Where the instructions of one call go: the profile of the N2 run minus that of the N1 run
-- (start-up cancels out), per call, the `count` largest entries with their share.
local function per_call(file1, file2, calls, count)
  local f1, o1 = profile(file1)
  local f2, o2 = profile(file2)
  local function top(a, b)
    local l, sum = {}, 0
    for k, v in pairs(b) do
      local d = (v - (a[k] or 0)) / calls
      if d > 0 then
        sum = sum + d
        l[#l + 1] = {k, d}
      end
    end
    table.sort(l, function(x, y) return x[2] > y[2] end)
    local parts = {}
    for i = 1, math.min(count, #l) do
      if l[i][2] / sum >= 0.005 then parts[i] = string.format("%s %.0f%%", l[i][1], l[i][2] / sum * 100) end
    end
    return table.concat(parts, ", ")
  end
  return top(o1, o2), top(f1, f2)
end

local function section4(static_url)
  local n1, n2 = QUICK and 5 or 20, QUICK and 55 or 520
  local calls = q(ROOT .. "/bench/calls.lua")
  local floor_ir = callgrind(function(n)
    return BIN .. "/curl_loop " .. q(static_url .. "/REST/v1/Locations?q=" .. Q_ENC .. "&key=BenchKey")
      .. " " .. n
  end, n1, n2, "c")
  local env = lua_env("lua5.4")
  local c_ir, c_file1, c_file2 = callgrind(function(n)
    return "lua5.4 " .. calls .. " seq " .. q(static_url) .. " BenchKey " .. n, env
  end, n1, n2, "seq")
  local lua_ir, lua_file1, lua_file2 = callgrind(function(n)
    return "lua5.4 " .. calls .. " lua " .. q(FIXTURE) .. " " .. n, env
  end, n1, n2, "lua")
  local cjson_ir = callgrind(function(n)
    return "lua5.4 " .. calls .. " cjson " .. q(FIXTURE) .. " " .. n, env
  end, n1, n2, "cjson")
  row("4 callgrind", "raw C libcurl loop, per request (static nginx)", string.format("%.0f Ir", floor_ir),
    "1.00x")
  row("4 callgrind", "lua-bing geocode, C transport (Lua 5.4, static nginx)", string.format("%.0f Ir", c_ir),
    string.format("%.2fx the C loop", c_ir / floor_ir))
  row("4 callgrind", "lua-bing geocode, Lua transport (no network)", string.format("%.0f Ir", lua_ir),
    string.format("%.2fx lua-cjson's decode", lua_ir / cjson_ir))
  row("4 callgrind", "lua-cjson decode of the same answer alone", string.format("%.0f Ir", cjson_ir),
    string.format("%.0f%% of the Lua-transport call", cjson_ir / lua_ir * 100))
  local objs, fns = per_call(c_file1, c_file2, n2 - n1, 12)
  notes[#notes + 1] = "callgrind, one geocode over the C transport, per object: " .. objs
  notes[#notes + 1] = "callgrind, one geocode over the C transport, top functions (self): " .. fns
  objs = per_call(lua_file1, lua_file2, n2 - n1, 12)
  notes[#notes + 1] = "callgrind, one geocode over a Lua transport, per object: " .. objs
  -- Debian's lua5.4 is stripped: the interpreter's own functions show as addresses, and
  -- callgrind cannot tell which Lua function runs. A count hook can.
  local prof = run(LUA54 .. " " .. calls .. " prof " .. q(FIXTURE) .. " 2000")
  local files, lfns = {}, {}
  for share, name in prof:gmatch("file (%S+) (%S+)") do files[#files + 1] = name .. " " .. share .. "%" end
  for share, name in prof:gmatch("fn (%S+) ([^\n]+)") do lfns[#lfns + 1] = name .. " " .. share .. "%" end
  notes[#notes + 1] = "Lua VM instructions of one geocode (count hook), per module: "
    .. table.concat(files, ", ")
  notes[#notes + 1] = "Lua VM instructions of one geocode, top functions: " .. table.concat(lfns, ", ", 1,
    math.min(#lfns, 12))

  -- The same pipeline in time: CPU per call through the Lua transport against lua-cjson's
  -- decode of the same answer alone, paired.
  local M = QUICK and 2000 or 20000
  for _, interp in ipairs{"lua5.4", "luajit"} do
    local tp, tj, r = {}, {}, {}
    for k = 1, math.min(REPS, 5) do
      local a = nums(run(lua_cmd(interp) .. " " .. calls .. " lua " .. q(FIXTURE) .. " " .. M))
      local b = nums(run(lua_cmd(interp) .. " " .. calls .. " cjson " .. q(FIXTURE) .. " " .. M))
      tp[k], tj[k], r[k] = a[2] / M, b[2] / M, b[2] / a[2]
    end
    row("4 no-network/" .. (interp == "lua5.4" and "5.4" or "JIT"),
      "lua-bing geocode through a Lua transport, CPU per call",
      string.format("%.1f us (lua-cjson's decode alone: %.1f us)", median(tp) * 1e6, median(tj) * 1e6),
      string.format("decode is %.0f%% of the call", median(r) * 100))
  end

  local N, STEP = QUICK and 20000 or 100000, QUICK and 2000 or 10000
  for _, interp in ipairs{"lua5.4", "luajit"} do
    local out = run(lua_cmd(interp) .. " " .. calls .. " rss " .. q(FIXTURE) .. " " .. N .. " " .. STEP)
    local samples = {}
    for _, kb in out:gmatch("(%d+)%s+(%d+)") do samples[#samples + 1] = tonumber(kb) end
    local first, last, max = samples[2], samples[#samples], 0
    for i = 2, #samples do max = math.max(max, samples[i]) end
    -- Flat: after the first STEP calls (the heap's working size), no growth beyond 1 MiB.
    local flat = max - first <= 1024
    row("4 rss/" .. (interp == "lua5.4" and "5.4" or "JIT"),
      string.format("RSS over %d geocodes, Lua transport (sampled every %d)", N, STEP),
      string.format("%d KB after %d, %d KB after %d, max %d KB", first, STEP, last, N, max),
      string.format("%+d KB", last - first), verdict(flat, flat and "flat" or "growing"))
  end
end

------------------------------------------------------------------------------------------
local function machine()
  local cpu = first_line("grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'")
  local lines = {
    "date: " .. T0_STARTED,
    string.format("machine: %s cores, %s, %s, load %s", first_line("nproc"), cpu,
      first_line("uname -sr"), first_line("cut -d' ' -f1-3 /proc/loadavg")),
    "Lua: " .. first_line("lua5.4 -v") .. "; " .. first_line("luajit -v"),
    "lua-cjson: " .. first_line(LUA54 .. " -e 'print(require(\"cjson\")._VERSION)'")
      .. "; libcurl: " .. first_line("curl --version"),
    "nginx: " .. first_line("nginx -v 2>&1 | cat") .. "; wrk: " .. first_line("wrk -v 2>&1 | head -1")
      .. "; geopy: "
      .. first_line(PY .. " -c 'import geopy,sys; print(geopy.__version__, sys.version.split()[0])'")
      .. "; valgrind: " .. first_line("valgrind --version"),
    string.format("counts: %d repetitions; %d geocodes per run (static), %d (emulator)%s", REPS, N_STATIC,
      N_SIM, QUICK and "; BENCH_QUICK=1 (smoke run, not figures)" or ""),
  }
  return table.concat(lines, "\n")
end

local function print_table()
  local head = {"section", "measurement", "median", "ratio", "target (issue 12)"}
  local all = {head}
  for _, r in ipairs(rows) do all[#all + 1] = r end
  print("| " .. table.concat(head, " | ") .. " |")
  print("|---|---|---|---|---|")
  for i = 2, #all do print("| " .. table.concat(all[i], " | ") .. " |") end
end

if not SIM_URL then
  io.stderr:write("bench: no emulator (run through make bench)\n")
  os.exit(1)
end

-- BENCH_SECTIONS=2,4 runs only those sections (while working on one part).
local SECTIONS = {}
for d in (os.getenv("BENCH_SECTIONS") or "0,1,2,3,4"):gmatch("%d") do SECTIONS[tonumber(d)] = true end

local ok, err = pcall(function()
  local surl = static.start()
  local function step(n, fn, ...)
    if not SECTIONS[n] then return end
    fn(...)
    io.stderr:write(string.format("bench: section %d done (%.0f s)\n", n, core.now() - started))
  end
  step(0, section0)
  step(1, function()
    section1("static", surl, "BenchKey", N_STATIC)
    section1("emulator", SIM_URL, SIM_KEY, N_SIM)
  end)
  step(2, section2)
  step(3, section3)
  step(4, section4, surl)
end)
static.stop()
print(machine())
print(string.format("elapsed: %.0f s", core.now() - started))
print()
print_table()
print()
for _, n in ipairs(notes) do print("- " .. n) end
os.execute("rm -rf " .. q(TMP))
if not ok then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
