-- A private nginx running a config derived from examples/openresty/nginx.conf, for specs of
-- the library inside nginx (spec/ngx_shared_spec.lua, spec/ngx_transport_spec.lua). Luasocket
-- only, never the library.
--
--   local ngx_server = require "support.ngx_server"
--   local srv = ngx_server.start(function(conf, port) ... return conf end)
--   srv.base, srv.port, srv.pid, srv.logs          http://127.0.0.1:PORT, the master's pid
--   srv:workers([n])                               pids of the master's children (waits for n)
--   local c = srv:connect(); c:send(path); local status, body, headers = c:receive()
--   srv:stop()                                     master and workers gone (bounded, KILL last);
--                                                  srv.stopped_pid, srv.stopped_workers after
--   ngx_server.free_port(), .alive(pid), .listening(port), .read_file(path), .wait_until(...)
--
-- `derive(conf, port)` gets the example's text with $prefix already pointing at the checkout,
-- the error log at info level, the emulator's CA trusted, and must return the config to run
-- (ngx_server.replace_once helps: the example changing under a spec fails loudly).
-- KEEP_NGX_DIR=1 keeps the directory (/tmp/bing-ngx-spec.*: config, logs).
local socket = require "socket"
local sim = require "support.sim"
local faults = require "support.faults"

local M = {}

M.ROOT = assert(io.popen("pwd")):read("*l")
M.EXAMPLE = M.ROOT .. "/examples/openresty/nginx.conf"
M.LUAJIT_CORE = M.ROOT .. "/build/luajit/bing/core.so"
M.NGINX = os.getenv("BINGSIM_NGINX") or "/usr/sbin/nginx"

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
M.read_file = read_file

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- Replaces the one occurrence of `old` (plain text) in `text`.
function M.replace_once(text, old, new)
  local i, j = text:find(old, 1, true)
  assert(i, "examples/openresty/nginx.conf no longer holds: " .. old)
  assert(not text:find(old, j + 1, true), "examples/openresty/nginx.conf holds twice: " .. old)
  return text:sub(1, i - 1) .. new .. text:sub(j + 1)
end
local replace_once = M.replace_once

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end
M.free_port = free_port

local function alive(pid)
  return pid and sh("kill -0 " .. pid .. " 2>/dev/null")
end
M.alive = alive

-- The pids whose parent is `pid`, read from /proc (no procps needed).
local function children(pid)
  local out = {}
  local p = io.popen("ls /proc")
  for name in p:lines() do
    if name:match("^%d+$") then
      local stat = read_file("/proc/" .. name .. "/stat")
      local ppid = stat and stat:match("^%d+ %b() %S+ (%d+)")
      if ppid == tostring(pid) then out[#out + 1] = tonumber(name) end
    end
  end
  p:close()
  return out
end

local wait_until = faults.wait_until
M.wait_until = wait_until

local listening = faults.listening
M.listening = listening

local function base_conf(derive, port)
  local conf = assert(read_file(M.EXAMPLE))
  local uses
  conf, uses = conf:gsub("%$prefix/", (M.ROOT:gsub("%%", "%%%%")) .. "/")
  assert(uses >= 4, "the example's lua_package_path/cpath no longer use $prefix")
  conf = replace_once(conf, "error_log tmp/openresty/error.log warn;",
    "error_log tmp/openresty/error.log info;")
  conf = replace_once(conf, "lua_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;",
    "lua_ssl_trusted_certificate " .. sim.ca .. ";")
  local modules = os.getenv("BINGSIM_MODULES_DIR")
  if modules then conf = conf:gsub("/usr/lib/nginx/modules/", modules .. "/") end
  conf = derive(conf, port)
  -- As root the workers would run as "nobody", who may not read the checkout.
  local uid = assert(io.popen("id -u")):read("*l")
  if uid == "0" then conf = "user root root;\n" .. conf end
  return conf
end

local Server = {}
Server.__index = Server

--- Starts nginx on a free port with the config `derive` makes; waits until it listens.
function M.start(derive)
  assert(read_file(M.LUAJIT_CORE), "build/luajit/bing/core.so is missing: run `make LUA=luajit`")
  local dir = assert(io.popen("mktemp -d /tmp/bing-ngx-spec.XXXXXX")):read("*l")
  assert(dir and dir ~= "", "mktemp -d failed")
  assert(sh("mkdir -p " .. shell_quote(dir .. "/tmp/openresty")))
  local srv = setmetatable({dir = dir, logs = dir .. "/tmp/openresty"}, Server)
  for _ = 1, 5 do
    local port = free_port()
    local conf_path = dir .. "/nginx.conf"
    local f = assert(io.open(conf_path, "w"))
    f:write(base_conf(derive, port))
    f:close()
    srv.conf = conf_path
    -- The key goes through the environment (`env BING_MAPS_KEY;`), never on a command line.
    -- Under `make sanitize` the spec's own process has the ASan runtime preloaded: nginx is
    -- no instrumented program and must not inherit it.
    local cmd = ("env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS BING_MAPS_KEY=\"$SIM_KEY\" "
      .. "BING_BASE_URL=%s %s -p %s -c %s -e %s >%s 2>&1")
      :format(shell_quote(sim.url), M.NGINX, shell_quote(dir .. "/"), shell_quote(conf_path),
        shell_quote(srv.logs .. "/error.log"), shell_quote(dir .. "/start.log"))
    if sh(cmd) then
      srv.port = port
      srv.base = "http://127.0.0.1:" .. port
      wait_until(function()
        srv.pid = tonumber((read_file(srv.logs .. "/nginx.pid") or ""):match("%d+"))
        return srv.pid and listening(port)
      end, 10, "nginx did not answer on 127.0.0.1:" .. port)
      return srv
    end
    local out = (read_file(dir .. "/start.log") or "") .. (read_file(srv.logs .. "/error.log") or "")
    if not out:find("Address already in use", 1, true) then
      sh("rm -rf " .. shell_quote(dir))
      error("nginx failed to start:\n" .. out, 0)
    end
  end
  error("nginx: no free port after 5 tries", 0)
end

-- With `n`, waits (bounded) until the master has at least n children: nginx listens as soon
-- as the master has bound its sockets, before it has forked its workers.
function Server:workers(n)
  if n then
    wait_until(function() return #children(self.pid) >= n end, 10,
      "nginx did not start " .. n .. " worker(s)")
  end
  return children(self.pid)
end

--- Stops the master, then makes sure it and its workers are gone (bounded; KILL at the end),
-- and removes the directory unless KEEP_NGX_DIR is set.
function Server:stop()
  local pid = self.pid
  if pid then
    local workers = children(pid)
    sh("kill -TERM " .. pid .. " 2>/dev/null")
    local ok = pcall(wait_until, function() return not alive(pid) end, 5, "nginx did not stop")
    if not ok then
      sh("kill -KILL " .. pid .. " 2>/dev/null")
      for _, w in ipairs(workers) do sh("kill -KILL " .. w .. " 2>/dev/null") end
    end
    pcall(wait_until, function()
      for _, w in ipairs(workers) do if alive(w) then return false end end
      return not alive(pid)
    end, 5, "nginx workers did not stop")
    self.pid, self.stopped_workers, self.stopped_pid = nil, workers, pid
  end
  local dir = self.dir
  if dir and dir:match("^/tmp/bing%-ngx%-spec%.") and not os.getenv("KEEP_NGX_DIR") then
    sh("rm -rf " .. shell_quote(dir))
  end
end

-- A keep-alive HTTP/1.1 connection whose requests can be sent first and read later (several
-- in flight on several connections at once): conn:send(path), conn:receive() -> status,
-- body, headers (lower-case names); conn:close().
local Conn = {}
Conn.__index = Conn

function Server:connect()
  local c = assert(socket.tcp())
  c:settimeout(10)
  assert(c:connect("127.0.0.1", self.port))
  return setmetatable({sock = c}, Conn)
end

function Conn:send(path)
  assert(self.sock:send(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"):format(path)))
end

function Conn:receive()
  local c = self.sock
  local line = assert(c:receive("*l"))
  local status = tonumber(line:match("^HTTP/1%.%d (%d+)"))
  local headers = {}
  while true do
    line = assert(c:receive("*l"))
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  end
  local body
  local len = tonumber(headers["content-length"])
  if len then
    body = assert(c:receive(len))
  elseif (headers["transfer-encoding"] or ""):lower() == "chunked" then
    local parts = {}
    while true do
      local size = tonumber(assert(c:receive("*l")):match("^(%x+)"), 16)
      if size == 0 then
        assert(c:receive("*l"))
        break
      end
      parts[#parts + 1] = assert(c:receive(size))
      assert(c:receive("*l"))
    end
    body = table.concat(parts)
  else
    body = assert(c:receive("*a"))
  end
  return status, body, headers
end

--- GET path on this connection: status, body, headers.
function Conn:get(path)
  self:send(path)
  return self:receive()
end

function Conn:close()
  self.sock:close()
end

return M
