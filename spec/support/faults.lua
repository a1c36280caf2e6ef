-- The fault matrix's servers, seen from a spec (spec/faults_spec.lua, spec/ngx_faults_spec.lua).
-- Luasocket and the openssl command only; everything listens on 127.0.0.1 and stops by itself.
--
--   local faults = require "support.faults"
--   local srv = faults.start()          the fault server (spec/support/fault_server.lua)
--   srv.base, srv.http, srv.dns_nx, srv.dns_silent
--   srv:arm("trickle_body"[, times])    the next request(s) get that fault
--   srv:count()                         {[fault] = requests served}
--   srv:stop()                          asks it to stop and waits for it (bounded)
--   faults.wait_until(fn, timeout, what)  calls fn until true, or raises "what within N s"
--   faults.listening(port)              something accepts connections on 127.0.0.1:port
--   faults.closed_port()                a port with nothing listening (connection refused)
--   faults.full_backlog()               port, close: a listener whose accept queue is full, so a
--                                       connect to it hangs (a connect timeout on loopback)
--   faults.UNRESOLVABLE                 a host name no resolver can ask about (a 64-byte label:
--                                       refused by the resolver library, no query is sent)
--   local tls = faults.tls(dir)         certificates made with openssl in dir, and one
--                                       `openssl s_server` per bad certificate:
--   tls.ca                              the CA that signed wrong_host and expired (the good
--                                       names are IP 127.0.0.1 and DNS localhost)
--   tls.wrong_host, tls.expired, tls.untrusted   ports (IP 127.0.0.1 in each URL)
--   tls:stop()
local socket = require "socket"
local http = require "socket.http"
local cjson = require "cjson.safe"

local M = {}

M.UNRESOLVABLE = ("a"):rep(64) .. ".invalid"

local LUA = os.getenv("FAULT_SERVER_LUA") or "lua5.4"

-- Under `make sanitize` the spec's process has the ASan runtime preloaded; the servers started
-- here are no instrumented programs, and LeakSanitizer would abort them at exit.
local CLEAN_ENV = "env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS "

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function wait_until(fn, timeout, what)
  local deadline = socket.gettime() + timeout
  repeat
    if fn() then return true end
    socket.sleep(0.02)
  until socket.gettime() > deadline
  error(what .. " within " .. timeout .. " s", 2)
end
M.wait_until = wait_until

local function listening(port)
  local c = socket.tcp()
  c:settimeout(0.5)
  local ok = c:connect("127.0.0.1", port)
  c:close()
  return ok ~= nil
end
M.listening = listening

function M.closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

function M.full_backlog()
  local srv = assert(socket.bind("127.0.0.1", 0, 0))
  local _, port = srv:getsockname()
  local fill = {}
  for i = 1, 4 do
    fill[i] = socket.tcp()
    fill[i]:settimeout(0)
    fill[i]:connect("127.0.0.1", port)
  end
  return tonumber(port), function()
    for _, s in ipairs(fill) do s:close() end
    srv:close()
  end
end

local Server = {}
Server.__index = Server

local function get(url)
  local body, status = http.request(url)
  return status, body
end

function Server:arm(fault, times)
  local status, body = get(("%s/_arm?fault=%s&times=%d"):format(self.base, fault, times or 1))
  assert(status == 200, "fault server: cannot arm " .. fault .. ": " .. tostring(body))
end

function Server:count()
  local _, body = get(self.base .. "/_count")
  return cjson.decode(body or "") or {}
end

function Server:stop()
  if not self.proc then return end
  get(self.base .. "/_stop")
  self.proc:close() -- waits for the process, which stops within one select round (0.5 s)
  self.proc = nil
end

--- Starts the fault server; it stops by itself after `lifetime` seconds (default 300).
function M.start(lifetime)
  local proc = assert(io.popen((CLEAN_ENV .. "%s spec/support/fault_server.lua %d"):format(LUA,
    lifetime or 300)))
  local line = proc:read("*l")
  assert(line, "spec/support/fault_server.lua did not start (is " .. LUA .. " installed?)")
  local s = setmetatable({proc = proc}, Server)
  for k, v in line:gmatch("(%w+_?%w*)=(%d+)") do s[k] = tonumber(v) end
  s.base = "http://127.0.0.1:" .. s.http
  return s
end

local function run(cmd)
  assert(sh(cmd .. " >/dev/null 2>&1"), "failed: " .. cmd)
end

-- openssl ca wants a database, a serial and a config to sign with chosen dates.
local function ca_config(dir)
  local f = assert(io.open(dir .. "/ca.cnf", "w"))
  f:write(([[
[ca]
default_ca = fault_ca
[fault_ca]
database = %s/index.txt
new_certs_dir = %s
serial = %s/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
]]):format(dir, dir, dir))
  f:close()
  assert(io.open(dir .. "/index.txt", "w")):close()
  local s = assert(io.open(dir .. "/serial", "w"))
  s:write("1000\n")
  s:close()
end

local TLS = {}
TLS.__index = TLS

function TLS:stop()
  for _, pid in ipairs(self.pids) do sh("kill " .. pid .. " 2>/dev/null") end
  self.pids = {}
end

--- Certificates and TLS servers for the three certificate faults, in `dir`.
function M.tls(dir)
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  run(("openssl req -x509 %s -keyout %s/ca.key -out %s/ca.pem -days 3 -subj /CN=lua-bing-fault-ca")
    :format(ec, dir, dir))
  ca_config(dir)
  -- wrong host: a good certificate for another name, signed by the CA.
  run(("openssl req %s -keyout %s/wrong.key -out %s/wrong.csr -subj /CN=wrong.example "
    .. "-addext subjectAltName=DNS:wrong.example"):format(ec, dir, dir))
  run(("openssl ca -batch -config %s/ca.cnf -cert %s/ca.pem -keyfile %s/ca.key -in %s/wrong.csr "
    .. "-out %s/wrong.pem -days 2"):format(dir, dir, dir, dir, dir))
  -- expired: the right name, signed by the CA, valid for one day in 2020.
  run(("openssl req %s -keyout %s/expired.key -out %s/expired.csr -subj /CN=127.0.0.1 "
    .. "-addext subjectAltName=IP:127.0.0.1,DNS:localhost"):format(ec, dir, dir))
  run(("openssl ca -batch -config %s/ca.cnf -cert %s/ca.pem -keyfile %s/ca.key -in %s/expired.csr "
    .. "-out %s/expired.pem -startdate 20200101000000Z -enddate 20200102000000Z")
    :format(dir, dir, dir, dir, dir))
  -- untrusted: the right name, self-signed.
  run(("openssl req -x509 %s -keyout %s/untrusted.key -out %s/untrusted.pem -days 2 "
    .. "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost"):format(ec, dir, dir))
  local t = setmetatable({ca = dir .. "/ca.pem", pids = {}}, TLS)
  for _, name in ipairs{"wrong", "expired", "untrusted"} do
    -- A free port can be taken between closed_port() and the bind: another one then.
    for try = 1, 3 do
      local port = M.closed_port()
      -- `timeout` stops it by itself if the spec dies before tls:stop().
      local p = assert(io.popen((CLEAN_ENV .. "timeout 300 openssl s_server -quiet -www -accept 127.0.0.1:%d "
        .. "-cert %s/%s.pem -key %s/%s.key </dev/null >/dev/null 2>&1 & echo $!")
        :format(port, dir, name, dir, name)))
      local pid = assert(tonumber(p:read("*l")))
      p:close()
      t.pids[#t.pids + 1] = pid
      local up = pcall(wait_until, function() return listening(port) end, 5, "s_server")
      if up then
        t[name == "wrong" and "wrong_host" or name] = port
        break
      end
      sh("kill " .. pid .. " 2>/dev/null")
      assert(try < 3, "openssl s_server did not listen (3 tries)")
    end
  end
  return t
end

return M
