-- The fault matrix's own server (spec/faults_spec.lua, spec/ngx_faults_spec.lua): a small
-- HTTP/1.1 server on 127.0.0.1 that answers like the Bing REST service once, or misbehaves in
-- the way it was armed for, plus two DNS servers for nginx's resolver (one answering
-- ok.fault.test with 127.0.0.1 and NXDOMAIN to every other name, one that never answers).
-- Plain Lua 5.4 and luasocket; one process, coroutines over socket.select. It stops by
-- itself: on GET /_stop, or after LIFETIME seconds.
--
--   lua5.4 spec/support/fault_server.lua LIFETIME
--   prints one line: "http=<port> dns_nx=<port> dns_silent=<port>", then serves.
--
-- Control (never armed, never counted): GET /_arm?fault=<name>[&times=N] (the next N requests
-- get that fault, default 1), GET /_count (requests served, by fault), GET /_stop.
-- Every other request gets the armed fault, or when none is armed an envelope with one
-- Location ("Fault Town"). Faults:
--   never           reads the request and never answers (keeps the connection open)
--   trickle_head    a status line, then header bytes at 1 byte/s, never ending
--   trickle_body    headers with Content-Length 1000, then the body at 1 byte/s
--   endless_header  a status line, then one header line with no end, 64 KiB at a time
--   reset_before    reads the request, resets the connection (RST) without a byte
--   reset_mid       headers and half of the body, then RST
--   short_length    Content-Length of 2000, 100 bytes, then closed (FIN)
--   gzip_truncated  Content-Encoding: gzip whose stream is cut, Content-Length exact
--   gzip_bomb       Content-Encoding: gzip of 16 MiB of an envelope-ish padding
--   t429_bare       429 envelope without Retry-After
--   bad_header      200 whose header X-Bad holds a lone CR and a NUL
--   malformed       200 application/json that is not JSON
--   not_envelope    200 application/json "{}"
--   redirect302, redirect307  to http://127.0.0.2:<port>/... with the request's query (key)
--   bad_utf8        200 envelope whose name holds invalid UTF-8 bytes
--   lone_surrogate  200 envelope whose name holds the escape \ud800 alone
--   many            200 envelope with 10,000 Location resources
--   stale           answers normally, then closes the connection 50 ms later (no
--                   "Connection: close"): the client's pooled connection goes stale
local socket = require "socket"

local LIFETIME = tonumber(arg and arg[1]) or 120
local started = socket.gettime()

local function location(i)
  return ('{"__type":"Location:http:\\/\\/schemas.microsoft.com\\/search\\/local\\/ws\\/rest\\/v1",'
    .. '"bbox":[47.5,-122.4,47.7,-122.2],"name":"%s","point":{"type":"Point",'
    .. '"coordinates":[47.6,-122.3]},"address":{"formattedAddress":"Fault Town",'
    .. '"countryRegion":"United States"},"confidence":"High","entityType":"PopulatedPlace",'
    .. '"geocodePoints":[{"type":"Point","coordinates":[47.6,-122.3],"calculationMethod":'
    .. '"Rooftop","usageTypes":["Display"]}],"matchCodes":["Good"]}'):format(i)
end

local function envelope(resources)
  return '{"authenticationResultCode":"ValidCredentials","brandLogoUri":"http:\\/\\/dev.'
    .. 'virtualearth.net\\/Branding\\/logo_powered_by.png","copyright":"Copyright",'
    .. '"resourceSets":[{"estimatedTotal":' .. #resources .. ',"resources":['
    .. table.concat(resources, ",") .. ']}],"statusCode":200,"statusDescription":"OK",'
    .. '"traceId":"fault-trace"}'
end

local OK_BODY = envelope{location("Fault Town")}

local function many_body()
  local r = {}
  for i = 1, 10000 do r[i] = location("Place " .. i) end
  return envelope(r)
end

local function gzip(data)
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb"))
  f:write(data)
  f:close()
  local p = assert(io.popen("gzip -c -n " .. tmp))
  local out = p:read("a")
  p:close()
  os.remove(tmp)
  return out
end

local GZIP_OK = gzip(OK_BODY)
local GZIP_BOMB = gzip(OK_BODY:sub(1, -3) .. ',"pad":"' .. ("0"):rep(16 * 1024 * 1024) .. '"}')
local MANY -- made on first use (about 5 MB)

local function head(status, reason, headers, length)
  local lines = {("HTTP/1.1 %d %s"):format(status, reason)}
  for _, h in ipairs(headers or {}) do lines[#lines + 1] = h end
  if length then lines[#lines + 1] = "Content-Length: " .. length end
  return table.concat(lines, "\r\n") .. "\r\n\r\n"
end

local function answer(status, reason, body, headers)
  local h = {"Content-Type: application/json; charset=utf-8", "X-MS-BM-WS-INFO: 0"}
  for _, x in ipairs(headers or {}) do h[#h + 1] = x end
  return head(status, reason, h, #body) .. body
end

-- The scheduler: a task yields ("read", sock), ("write", sock) or ("sleep", seconds).
local tasks = {}

local function spawn(fn, ...)
  local co = coroutine.create(fn)
  tasks[#tasks + 1] = {co = co, args = table.pack(...), wake = 0}
end

local function sleep(s) coroutine.yield("sleep", s) end

local function send(c, data)
  local i = 1
  while i <= #data do
    local last, err, partial = c:send(data, i)
    if last then return true end
    if err ~= "timeout" then return nil, err end
    i = partial + 1
    coroutine.yield("write", c)
  end
  return true
end

-- Reads one request head (up to the empty line). head, or nil when the peer closed.
local function read_head(c, state)
  while true do
    local e = state.buf:find("\r\n\r\n", 1, true)
    if e then
      local h = state.buf:sub(1, e + 3)
      state.buf = state.buf:sub(e + 4)
      return h
    end
    local data, err, partial = c:receive(8192)
    data = data or partial
    if data and #data > 0 then state.buf = state.buf .. data end
    if err == "closed" then return nil end
    if err == "timeout" and not (data and #data > 0) then coroutine.yield("read", c) end
  end
end

local function reset(c)
  c:setoption("linger", {on = true, timeout = 0})
  c:close()
end

local armed = {} -- {fault, left}
local counts = {}
local stop = false
local http_port

-- Answers on one fault; returns true when the connection may serve another request.
local FAULTS = {}

function FAULTS.never(c)
  while true do
    local data, err = c:receive(1)
    if err == "closed" then return false end
    if not data then coroutine.yield("read", c) end
  end
end

function FAULTS.trickle_head(c)
  if not send(c, "HTTP/1.1 200 OK\r\nX-Slow: ") then return false end
  while true do
    sleep(1)
    if not send(c, "a") then return false end
  end
end

function FAULTS.trickle_body(c)
  if not send(c, head(200, "OK", {"Content-Type: application/json"}, 1000)) then return false end
  while true do
    sleep(1)
    if not send(c, " ") then return false end
  end
end

function FAULTS.endless_header(c)
  if not send(c, "HTTP/1.1 200 OK\r\nX-Endless: ") then return false end
  local piece = ("b"):rep(65536)
  for _ = 1, 1024 do -- 64 MiB at most
    if not send(c, piece) then return false end
  end
  return false
end

function FAULTS.reset_before(c)
  reset(c)
  return false
end

function FAULTS.reset_mid(c)
  send(c, head(200, "OK", {"Content-Type: application/json"}, #OK_BODY)
    .. OK_BODY:sub(1, #OK_BODY // 2))
  sleep(0.05)
  reset(c)
  return false
end

function FAULTS.short_length(c)
  send(c, head(200, "OK", {"Content-Type: application/json"}, 2000) .. OK_BODY:sub(1, 100))
  c:close()
  return false
end

function FAULTS.gzip_truncated(c)
  local cut = GZIP_OK:sub(1, #GZIP_OK // 2)
  send(c, head(200, "OK", {"Content-Type: application/json", "Content-Encoding: gzip"}, #cut) .. cut)
  return true
end

function FAULTS.gzip_bomb(c)
  send(c, head(200, "OK", {"Content-Type: application/json", "Content-Encoding: gzip"},
    #GZIP_BOMB) .. GZIP_BOMB)
  return true
end

function FAULTS.malformed(c)
  return send(c, answer(200, "OK", '{"resourceSets": [{"resources": [ not json'))
end

function FAULTS.t429_bare(c)
  return send(c, answer(429, "Too Many Requests", '{"authenticationResultCode":"ValidCredentials",'
    .. '"errorDetails":["Too many requests."],"resourceSets":[],"statusCode":429,'
    .. '"statusDescription":"Too Many Requests","traceId":"fault-trace"}'))
end

function FAULTS.bad_header(c)
  return send(c, head(200, "OK", {"Content-Type: application/json", "X-Bad: a\rb\0c"}, #OK_BODY)
    .. OK_BODY)
end

function FAULTS.not_envelope(c)
  return send(c, answer(200, "OK", "{}"))
end

local function redirect(status, reason)
  return function(c, req)
    local target = req:match("^%S+ (%S+)")
    return send(c, head(status, reason, {"Location: http://127.0.0.2:" .. http_port .. target,
      "Content-Type: text/html"}, 0))
  end
end
FAULTS.redirect302 = redirect(302, "Found")
FAULTS.redirect307 = redirect(307, "Temporary Redirect")

function FAULTS.bad_utf8(c)
  return send(c, answer(200, "OK", envelope{location("Caf\xC3 \xFF\xFE Town")}))
end

function FAULTS.lone_surrogate(c)
  return send(c, answer(200, "OK", envelope{location("Lone \\ud800 Town")}))
end

function FAULTS.many(c)
  MANY = MANY or many_body()
  return send(c, answer(200, "OK", MANY))
end

function FAULTS.stale(c)
  send(c, answer(200, "OK", OK_BODY))
  sleep(0.05)
  c:close()
  return false
end

local function ok_answer(c, req)
  if req:lower():find("\naccept%-encoding:[^\n]*gzip") then
    return send(c, answer(200, "OK", GZIP_OK, {"Content-Encoding: gzip"}))
  end
  return send(c, answer(200, "OK", OK_BODY))
end

local function control(c, target)
  local path, query = target:match("^([^?]*)%??(.*)$")
  local body = '{"ok":true}'
  if path == "/_arm" then
    local fault = query:match("fault=([%w_]+)")
    if not FAULTS[fault] then
      return send(c, answer(400, "Bad Request", '{"error":"unknown fault"}', {"Connection: close"}))
    end
    armed = {fault = fault, left = tonumber(query:match("times=(%d+)")) or 1}
  elseif path == "/_count" then
    local parts = {}
    for k, v in pairs(counts) do parts[#parts + 1] = ('"%s":%d'):format(k, v) end
    body = "{" .. table.concat(parts, ",") .. "}"
  elseif path == "/_stop" then
    stop = true
  end
  return send(c, answer(200, "OK", body, {"Connection: close"}))
end

local function serve(c)
  c:settimeout(0)
  local state = {buf = ""}
  while true do
    local req = read_head(c, state)
    if not req then break end
    local target = req:match("^%S+ (%S+)") or "/"
    if target:sub(1, 2) == "/_" then
      control(c, target)
      break
    end
    local fault = armed.left and armed.left > 0 and armed.fault or "ok"
    if fault ~= "ok" then armed.left = armed.left - 1 end
    counts[fault] = (counts[fault] or 0) + 1
    local again
    if fault == "ok" then again = ok_answer(c, req) else again = FAULTS[fault](c, req) end
    if not again then break end
  end
  c:close()
end

-- DNS: A 127.0.0.1 for ok.fault.test, NXDOMAIN (RCODE 3) for every other name; the
-- question is copied from the query.
local function dns_answer(q)
  if #q < 17 then return nil end
  local labels, i = {}, 13
  while i <= #q and q:byte(i) ~= 0 do
    local n = q:byte(i)
    labels[#labels + 1] = q:sub(i + 1, i + n)
    i = i + n + 1
  end
  local question = q:sub(13, i + 4)
  local rd = q:byte(3) & 1
  local id = q:sub(1, 2)
  if table.concat(labels, "."):lower() == "ok.fault.test" and q:sub(i + 1, i + 2) == "\0\1" then
    return id .. string.char(0x80 | rd, 0x80) .. "\0\1\0\1\0\0\0\0" .. question
      .. "\192\12\0\1\0\1\0\0\0\60\0\4\127\0\0\1"
  end
  return id .. string.char(0x80 | rd, 0x83) .. "\0\1\0\0\0\0\0\0" .. question
end

local server = assert(socket.bind("127.0.0.1", 0, 64))
server:settimeout(0)
http_port = select(2, server:getsockname())
local dns_nx = assert(socket.udp())
assert(dns_nx:setsockname("127.0.0.1", 0))
dns_nx:settimeout(0)
local dns_silent = assert(socket.udp())
assert(dns_silent:setsockname("127.0.0.1", 0))
io.stdout:write(("http=%s dns_nx=%s dns_silent=%s\n"):format(http_port,
  select(2, dns_nx:getsockname()), select(2, dns_silent:getsockname())))
io.stdout:flush()

while not stop and socket.gettime() - started < LIFETIME do
  local readers, writers = {server, dns_nx}, {}
  local waiting = {}
  local now = socket.gettime()
  local timeout = 0.5
  for _, t in ipairs(tasks) do
    if t.why == "read" then
      readers[#readers + 1] = t.sock
      waiting[t.sock] = t
    elseif t.why == "write" then
      writers[#writers + 1] = t.sock
      waiting[t.sock] = t
    else
      timeout = math.max(0, math.min(timeout, t.wake - now))
    end
  end
  local r, w = socket.select(readers, writers, timeout)
  local ready = {}
  for _, s in ipairs(r) do
    if s == server then
      local c = server:accept()
      if c then spawn(serve, c) end
    elseif s == dns_nx then
      local q, ip, port = dns_nx:receivefrom()
      local a = q and dns_answer(q)
      if a then dns_nx:sendto(a, ip, port) end
    elseif waiting[s] then
      ready[waiting[s]] = true
    end
  end
  for _, s in ipairs(w) do if waiting[s] then ready[waiting[s]] = true end end
  now = socket.gettime()
  local alive = {}
  for _, t in ipairs(tasks) do
    local run = t.why == nil or ready[t] or (t.why == "sleep" and now >= t.wake)
    if run then
      local ok, why, x = coroutine.resume(t.co, table.unpack(t.args, 1, t.args.n))
      t.args = {n = 0}
      if not ok then io.stderr:write("fault_server: ", tostring(why), "\n") end
      if coroutine.status(t.co) ~= "dead" then
        t.why = why
        if why == "sleep" then t.wake = now + x else t.sock = x end
        alive[#alive + 1] = t
      end
    else
      alive[#alive + 1] = t
    end
  end
  tasks = alive
end
