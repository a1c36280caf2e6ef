--- A transport for OpenResty and nginx's Lua module: HTTP/1.1 over cosockets (ngx.socket.tcp).
--
-- Inside nginx a blocking libcurl call would stall the worker and every request it serves;
-- a cosocket yields to nginx's event loop instead. This is a small hand-written HTTP/1.1
-- client because Debian packages no lua-resty-http (nginx-light + libnginx-mod-http-lua
-- bring lua-resty-core and lua-resty-lrucache only), and the library needs little of one:
--
--     local ngx_transport = require "bing.ngx_transport"
--     local client = bing.new{key = os.getenv "BING_MAPS_KEY",
--                             transport = ngx_transport.new{pool_size = 16},
--                             clock = ngx_transport.clock()}
--     -- or, the same in one line:
--     local client = bing.new(ngx_transport.options{key = os.getenv "BING_MAPS_KEY"})
--
-- What it does: HTTP and HTTPS (server name and certificate verification on by default;
-- nginx takes the trusted CAs from `lua_ssl_trusted_certificate`, there is no per-socket CA
-- file), one deadline over the whole call taken from `req.timeout` (name lookup, connect,
-- TLS, sending, and reading however slowly the bytes come), Content-Length,
-- chunked and read-until-close bodies, a size cap enforced while reading, keep-alive through
-- nginx's connection pool (one pool per scheme, host, port and TLS settings), one new
-- connection when a pooled one turns out to be closed by the server before it answered. No
-- Accept-Encoding is sent (no gzip to inflate in Lua; an encoded answer anyway is
-- CURLE_BAD_CONTENT_ENCODING), no redirect is followed (a redirect
-- could carry the key to another host), no proxy, no HTTP/2.
--
-- Errors are the library's error objects with the C transport's codes (`CURLE_*` names, so
-- that bing.retry treats both alike) and texts passed through core.redact: the key never
-- appears in them.
-- @module bing.ngx_transport
local core = require "bing.core"
local errors = require "bing.errors"

local concat, tonumber, tostring, type = table.concat, tonumber, tostring, type
local floor, min, max = math.floor, math.min, math.max

local _M = {_VERSION = core.VERSION}

local DEFAULTS = {
  timeout = 30,               -- seconds, the whole request, when req.timeout is nil
  connect_timeout = 10,       -- seconds, at most (never past the request's deadline)
  keepalive_timeout = 60,     -- seconds an idle connection stays in the pool
  max_size = 64 * 1024 * 1024, -- bytes of body, as the C transport
  verify = true,
  keepalive = true,
}
_M.DEFAULTS = DEFAULTS

local OPTIONS = {
  pool_size = "number", keepalive_timeout = "number", keepalive = "boolean",
  cafile = "string", verify = "boolean", max_size = "number", ssl_server_name = "string",
  timeout = "number", connect_timeout = "number", user_agent = "string",
}

local MAX_HEADER_BYTES = 1024 * 1024 -- as the C transport
local PIECE = 65536                  -- bytes read at a time, so the deadline is checked often
local MAX_STALE = 3                  -- pooled connections tried before a new one

local METHODS = {GET = true, POST = true, PUT = true, DELETE = true}

-- Error codes as the C transport names them (csrc/http.c), retryable as it decides.
local RETRYABLE = {
  CURLE_OPERATION_TIMEDOUT = true, CURLE_COULDNT_CONNECT = true,
  CURLE_COULDNT_RESOLVE_HOST = true, CURLE_SSL_CONNECT_ERROR = true, CURLE_SEND_ERROR = true,
  CURLE_RECV_ERROR = true, CURLE_GOT_NOTHING = true, CURLE_PARTIAL_FILE = true,
}

local function ngx_api()
  local n = rawget(_G, "ngx")
  if type(n) ~= "table" or type(n.socket) ~= "table" then
    errors.raise("bing.ngx_transport: needs nginx's Lua module (ngx.socket.tcp); outside "
      .. "nginx use the default libcurl transport", 3)
  end
  return n
end

--- A clock for the client's `clock` option: `now` reads nginx's monotonic time (after
-- ngx.update_time, so it moves inside one request) and `sleep` is ngx.sleep, which yields:
-- retry back-offs and the rate limiter then wait without blocking the worker.
-- Returns `{now = fn, sleep = fn}`.
function _M.clock()
  local n = ngx_api()
  local update, now = n.update_time, n.now
  -- lua-resty-core (loaded by ngx_lua >= 0.10.16) reads the monotonic clock; ngx.now is the
  -- wall clock, a fallback that a clock step could move.
  local ok, t = pcall(require, "resty.core.time")
  if ok and type(t) == "table" and type(t.monotonic_time) == "function" then
    local mono = t.monotonic_time
    return {now = function() update(); return mono() end, sleep = n.sleep}
  end
  return {now = function() update(); return now() end, sleep = n.sleep}
end

local function valid_value(v)
  return not v:find("[\r\n%z]")
end

local function check_options(opts, level)
  for name, value in pairs(opts) do
    local want = OPTIONS[name]
    if not want then
      errors.raise("bing.ngx_transport: unknown option '" .. tostring(name) .. "'", level + 1)
    end
    if type(value) ~= want then
      errors.raise(("bing.ngx_transport: option '%s' must be a %s, got %s"):format(name, want,
        type(value)), level + 1)
    end
  end
  if opts.cafile then
    -- Silently ignoring a trust setting would be worse than refusing it.
    errors.raise("bing.ngx_transport: cosockets take their trusted CAs from nginx "
      .. "(lua_ssl_trusted_certificate in the http block), not from a cafile option",
      level + 1)
  end
  for _, name in ipairs{"timeout", "connect_timeout", "max_size", "pool_size"} do
    local v = opts[name]
    if v and not (v > 0 and v < math.huge) then
      errors.raise("bing.ngx_transport: " .. name .. " must be a number > 0", level + 1)
    end
  end
  for _, name in ipairs{"user_agent", "ssl_server_name"} do
    if opts[name] and not valid_value(opts[name]) then
      errors.raise("bing.ngx_transport: " .. name .. " has CR, LF or NUL in it", level + 1)
    end
  end
  local k = opts.keepalive_timeout
  if k and not (k >= 0 and k < math.huge) then
    errors.raise("bing.ngx_transport: keepalive_timeout must be a number >= 0", level + 1)
  end
  if opts.pool_size and opts.pool_size ~= floor(opts.pool_size) then
    errors.raise("bing.ngx_transport: pool_size must be an integer", level + 1)
  end
end

-- The key value(s) of a URL's query, as sent (percent-encoded), for redaction.
local function url_keys(url)
  local keys = {}
  for v in url:gmatch("[?&][Kk][Ee][Yy]=([^&#]*)") do
    if v ~= "" then keys[#keys + 1] = v end
  end
  return keys
end

local function redact(text, keys)
  text = core.redact(text)
  for i = 1, #keys do text = core.redact(text, keys[i]) end
  return text
end

-- scheme, host (brackets removed), port, request target. nil, reason when not absolute
-- http(s).
local function parse_url(url)
  -- Anywhere in the URL (the authority goes into the Host line): a CR/LF would start a header.
  if url:find("[%s%c]") then return nil, "spaces or control bytes in the URL" end
  local scheme, rest = url:match("^([Hh][Tt][Tt][Pp][Ss]?)://(.*)$")
  if not scheme then return nil, "not an http:// or https:// URL" end
  scheme = scheme:lower()
  local authority, target = rest:match("^([^/?#]*)(.*)$")
  if authority:find("@", 1, true) then return nil, "user info in the URL" end
  local host, port = authority:match("^%[([%x:.]+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host or host == "" then return nil, "no host in the URL" end
  port = port ~= "" and tonumber(port) or (scheme == "https" and 443 or 80)
  if port < 1 or port > 65535 then return nil, "bad port in the URL" end
  target = target:gsub("#.*$", "")
  if target == "" then
    target = "/"
  elseif target:sub(1, 1) == "?" then
    target = "/" .. target
  end
  if target:find("[%s%c]") then return nil, "spaces or control bytes in the URL" end
  return scheme, host, port, target, authority
end


--- The default User-Agent: `lua-bing/<VERSION> ngx_lua/<0.10.23> <LuaJIT 2.1...>`.
function _M.user_agent(n)
  n = n or ngx_api()
  local v = n.config and tonumber(n.config.ngx_lua_version)
  local lua_version = rawget(_G, "jit") and rawget(_G, "jit").version or _VERSION
  return ("lua-bing/%s ngx_lua/%s %s"):format(core.VERSION, v and ("%d.%d.%d"):format(
    floor(v / 1000000), floor(v / 1000) % 1000, v % 1000) or "?", lua_version)
end

-- `sent`: whether the request left (as the C transport says; bing.billing does not count a
-- timeout of a request that never left).
local function fail(code, text, ctx, sent)
  local kind = code == "CURLE_OPERATION_TIMEDOUT" and "timeout" or "transport"
  return nil, errors.new(kind, redact(("%s (%s %s)"):format(text, ctx.method, ctx.url), ctx.keys),
    {code = code, retryable = RETRYABLE[code] == true, url = redact(ctx.url, ctx.keys), sent = sent})
end

-- The socket's timeout for its next operation: the time left before the deadline, capped.
-- false when the deadline has passed.
local function arm(sock, deadline, now, cap)
  local left = deadline - now()
  if left <= 0 then return false end
  sock:settimeout(max(1, floor(min(left, cap or left) * 1000)))
  return true
end

local TIMED_OUT = "CURLE_OPERATION_TIMEDOUT"

-- A reader over one connection that keeps the call's deadline. A cosocket's read timeout
-- starts again whenever a byte arrives (a server sending 1 byte a second never times out a
-- receive("*l") or receive(n)), so everything is read with receiveany, which returns what
-- has arrived, and the deadline is checked between reads. Lines are cut from the reader's
-- own buffer, so a header line with no end stops at the header cap instead of growing.
local Reader = {}
Reader.__index = Reader

local function reader(sock, deadline, now)
  return setmetatable({sock = sock, deadline = deadline, now = now, buf = "", pos = 1, got = 0},
    Reader)
end

-- Reads more into the buffer. true, or nil, code, text, closed (closed: the peer closed).
function Reader:fill(what)
  if not arm(self.sock, self.deadline, self.now) then
    return nil, TIMED_OUT, "timed out reading the " .. what
  end
  local data, err = self.sock:receiveany(PIECE)
  if not data then
    if err == "timeout" then return nil, TIMED_OUT, "timed out reading the " .. what end
    local why = err == "closed" and "connection closed" or tostring(err)
    return nil, "CURLE_RECV_ERROR", why .. " reading the " .. what, err == "closed"
  end
  self.got = self.got + #data
  if self.pos > #self.buf then
    self.buf, self.pos = data, 1
  else
    self.buf = self.buf:sub(self.pos) .. data
    self.pos = 1
  end
  return true
end

function Reader:buffered() return #self.buf - self.pos + 1 end

-- The next line without its CR LF. `limit`: the most bytes it may take (the header cap).
-- nil, code, text, closed on failure; nil, "BING_TOO_LARGE" past the limit.
function Reader:line(limit, what)
  while true do
    local e = self.buf:find("\n", self.pos, true)
    if e then
      if e - self.pos + 1 > limit then break end
      local line = self.buf:sub(self.pos, e - 1)
      self.pos = e + 1
      return (line:gsub("\r$", ""))
    end
    if self:buffered() > limit then break end
    local ok, code, text, closed = self:fill(what)
    if not ok then return nil, code, text, closed end
  end
  return nil, "BING_TOO_LARGE", ("response headers larger than %d bytes"):format(MAX_HEADER_BYTES)
end

-- Appends exactly `count` bytes to `chunks`. true, or nil, code, text.
function Reader:exactly(count, chunks, what)
  while count > 0 do
    if self:buffered() == 0 then
      local ok, code, text, closed = self:fill(what)
      if not ok then
        if closed then
          return nil, "CURLE_PARTIAL_FILE", ("connection closed with %d bytes of the %s missing")
            :format(count, what)
        end
        return nil, code, text
      end
    end
    local take = min(count, self:buffered())
    chunks[#chunks + 1] = self.buf:sub(self.pos, self.pos + take - 1)
    self.pos = self.pos + take
    count = count - take
  end
  return true
end

-- Appends everything up to the close of the connection, at most `limit` bytes.
function Reader:rest(chunks, limit, what)
  local total = 0
  while true do
    local n = self:buffered()
    if n > 0 then
      total = total + n
      if total > limit then return nil, "BING_TOO_LARGE" end
      chunks[#chunks + 1] = self.buf:sub(self.pos)
      self.buf, self.pos = "", 1
    end
    local ok, code, text, closed = self:fill(what)
    if not ok then
      if closed then return true end
      return nil, code, text
    end
  end
end

local function too_large(max_size)
  return nil, "BING_TOO_LARGE", ("response larger than max_size (%d bytes)"):format(max_size)
end

-- Sends in pieces, each under the time left: a server that reads slowly cannot hold the call.
-- true, or nil, code, text, stale, unsent.
local function send_all(sock, request, deadline, now, reused)
  for i = 1, #request, PIECE do
    if not arm(sock, deadline, now) then
      return nil, TIMED_OUT, "timed out sending the request", nil, i == 1
    end
    local ok, err = sock:send(request:sub(i, i + PIECE - 1))
    if not ok then
      if err == "timeout" then return nil, TIMED_OUT, "timed out sending the request" end
      return nil, "CURLE_SEND_ERROR", "send failed: " .. tostring(err), reused and i == 1
    end
  end
  return true
end

-- The status line and headers of the final answer (1xx answers are skipped). status,
-- version, headers, or nil, code, text, stale.
local function read_head(r, reused)
  local budget = MAX_HEADER_BYTES
  local first = true
  while true do
    local line, code, text = r:line(budget, "response headers")
    if not line then
      if first and r.got == 0 and code == "CURLE_RECV_ERROR" then
        return nil, "CURLE_GOT_NOTHING", "no response: " .. text, reused
      end
      return nil, code, text
    end
    first = false
    budget = budget - #line - 2
    local major, minor, status = line:match("^HTTP/(%d)%.(%d) (%d%d%d)")
    if not status then return nil, "CURLE_WEIRD_SERVER_REPLY", "not an HTTP/1.x status line" end
    local headers = {}
    while true do
      local h, hcode, htext = r:line(budget, "response headers")
      if not h then return nil, hcode, htext end
      budget = budget - #h - 2
      if h == "" then break end
      -- A NUL or a lone CR inside a header is no HTTP/1.1 (RFC 9112 5.1): refused, not
      -- passed on to whoever reads the headers.
      if h:find("[\r%z]") then
        return nil, "CURLE_WEIRD_SERVER_REPLY", "CR or NUL inside a response header"
      end
      local name, value = h:match("^([^:%s]+):[ \t]*(.-)[ \t]*$")
      -- Lower-case names, the last of repeated names wins (as the C transport).
      if name then headers[name:lower()] = value end
    end
    status = tonumber(status)
    -- 1xx (100 Continue, 103 Early Hints) precede the real answer; 101 is no answer of ours.
    if status >= 200 or status == 101 then return status, major .. "." .. minor, headers end
  end
end

local function read_chunked(r, chunks, max_size)
  local total = 0
  while true do
    local line, code, text, closed = r:line(MAX_HEADER_BYTES, "body")
    if not line then
      if closed then return nil, "CURLE_PARTIAL_FILE", "connection closed inside a chunked body" end
      return nil, code, text
    end
    local size = tonumber(line:match("^%s*(%x+)%s*[;]?") or "", 16)
    if not size then return nil, "CURLE_RECV_ERROR", "bad chunk size line" end
    if size == 0 then
      -- Trailers, up to the empty line.
      repeat
        local t, tcode, ttext, tclosed = r:line(MAX_HEADER_BYTES, "body")
        if not t then
          if tclosed then return nil, "CURLE_PARTIAL_FILE", "connection closed in the trailers" end
          return nil, tcode, ttext
        end
      until t == ""
      return true
    end
    total = total + size
    if total > max_size then return too_large(max_size) end
    local ok, ecode, etext = r:exactly(size, chunks, "body")
    if not ok then return nil, ecode, etext end
    local crlf = {}
    ok, ecode, etext = r:exactly(2, crlf, "body")
    if not ok then return nil, ecode, etext end
    if concat(crlf) ~= "\r\n" then return nil, "CURLE_RECV_ERROR", "bad chunk end" end
  end
end

-- The body, by its framing. body, framed, or nil, code, text.
local function read_body(r, method, status, headers, max_size)
  local chunks = {}
  if method == "HEAD" or status == 204 or status == 304 or status < 200 then return "", true end
  -- No Accept-Encoding is sent, so an encoded body is one this transport cannot undo (a gzip
  -- handed on would only fail later as JSON, and a bomb would not meet max_size here).
  local ce = (headers["content-encoding"] or "identity"):lower()
  if ce ~= "identity" and ce ~= "" then
    return nil, "CURLE_BAD_CONTENT_ENCODING", "unrequested Content-Encoding: " .. ce
  end
  local te = (headers["transfer-encoding"] or ""):lower()
  local clen = headers["content-length"]
  if te ~= "" then
    if not te:find("chunked%s*$") then
      return nil, "CURLE_WEIRD_SERVER_REPLY", "unsupported Transfer-Encoding: " .. te
    end
    local ok, code, text = read_chunked(r, chunks, max_size)
    if not ok then return nil, code, text end
    return concat(chunks), true
  end
  if clen then
    local len = tonumber(clen:match("^%d+$") or "")
    if not len then return nil, "CURLE_WEIRD_SERVER_REPLY", "bad Content-Length" end
    if len > max_size then return too_large(max_size) end
    local ok, code, text = r:exactly(len, chunks, "body")
    if not ok then return nil, code, text end
    return concat(chunks), true
  end
  -- No framing: the body ends when the server closes the connection.
  local ok, code, text = r:rest(chunks, max_size, "body")
  if not ok then
    if code == "BING_TOO_LARGE" then return too_large(max_size) end
    return nil, code, text
  end
  return concat(chunks), false
end

-- One attempt on one connection. Returns resp, keep, or nil, code, text, stale, unsent
-- (stale: a pooled connection that the server had closed before answering, worth a new
-- connection; unsent: nothing of the request was written).
local function exchange(sock, reused, deadline, now, request, method, max_size)
  local ok, code, text, stale, unsent = send_all(sock, request, deadline, now, reused)
  if not ok then return nil, code, text, stale, unsent end
  local r = reader(sock, deadline, now)
  local status, version, headers, hstale = read_head(r, reused)
  if not status then return nil, version, headers, hstale end
  local body, framed, btext = read_body(r, method, status, headers, max_size)
  if not body then return nil, framed, btext end
  local conn = (headers["connection"] or ""):lower()
  local keep = framed and status ~= 101 and not conn:find("close", 1, true)
    and (version == "1.1" or conn:find("keep-alive", 1, true) ~= nil)
  return {status = status, headers = headers, body = body, http_version = version,
          reused = reused}, keep
end

local function is_ip(host)
  return host:find("^%d+%.%d+%.%d+%.%d+$") ~= nil or host:find(":", 1, true) ~= nil
end

-- sock:connect under the call's deadline. For a host name nginx's resolver runs first, and it
-- waits for `resolver_timeout` whatever the socket's timeout says: the connect then runs in a
-- light thread raced against a sleep for the time left, and the loser is killed. true, or
-- nil, err ("timeout" when the deadline came first).
local function connect(n, sock, host, port, opts, deadline, now)
  if is_ip(host) or type(n.thread) ~= "table" then return sock:connect(host, port, opts) end
  local spawned, worker = pcall(n.thread.spawn, function()
    local ok, err = sock:connect(host, port, opts)
    return ok and "connected" or "failed", err
  end)
  -- No light threads in this phase (init_worker, header_filter...): the plain connect.
  if not spawned then return sock:connect(host, port, opts) end
  local left = deadline - now()
  local timer = n.thread.spawn(function()
    n.sleep(max(left, 0.001))
    return "deadline"
  end)
  local done, what, err = n.thread.wait(worker, timer)
  n.thread.kill(worker)
  n.thread.kill(timer)
  if done and what == "connected" then return true end
  if done and what == "failed" then return nil, err end
  return nil, "timeout"
end

local function connect_failure(ctx, cerr)
  local where = ("connect to %s:%d failed: %s"):format(ctx.host, ctx.port, tostring(cerr))
  if cerr == "timeout" then return fail(TIMED_OUT, where, ctx, false) end
  if tostring(cerr):find("resolve", 1, true) then
    return fail("CURLE_COULDNT_RESOLVE_HOST", where .. " (is nginx's resolver directive set?)",
      ctx, false)
  end
  return fail("CURLE_COULDNT_CONNECT", where, ctx, false)
end

-- The TLS handshake of a new connection. true, or nil, err (the socket is closed).
local function handshake(sock, ctx, cfg, deadline, now)
  local sni = cfg.ssl_server_name or ctx.host
  if not arm(sock, deadline, now) then
    sock:close()
    return fail(TIMED_OUT, "timed out before the TLS handshake", ctx, false)
  end
  local session, herr = sock:sslhandshake(false, sni, cfg.verify)
  if not session then
    sock:close()
    local text = ("TLS handshake with %s:%d (name %s) failed: %s"):format(ctx.host, ctx.port, sni,
      tostring(herr))
    if herr == "timeout" then return fail(TIMED_OUT, text, ctx, false) end
    -- ngx_lua reports a verification failure as "<X509 error number>: <text>" or
    -- "certificate host mismatch": the same answer next time, not retryable.
    if tostring(herr):find("^%d+: ") then
      return fail("CURLE_PEER_FAILED_VERIFICATION", text
        .. " (nginx verifies against lua_ssl_trusted_certificate)", ctx, false)
    end
    if tostring(herr):find("certificate", 1, true) then
      return fail("CURLE_PEER_FAILED_VERIFICATION", text
        .. " (ssl_server_name names the certificate's host when the URL has another)", ctx, false)
    end
    return fail("CURLE_SSL_CONNECT_ERROR", text, ctx, false)
  end
  -- ngx_lua (0.10.23 at least) has a hole: when the handshake completes without waiting and
  -- verification then fails, it closes the connection but reports success. A closed socket
  -- right after a successful handshake can only mean that.
  if not sock:getreusedtimes() then
    return fail("CURLE_PEER_FAILED_VERIFICATION", ("TLS handshake with %s:%d (name %s): "
      .. "certificate verification failed (nginx's error log says why; it verifies "
      .. "against lua_ssl_trusted_certificate and ssl_server_name)"):format(ctx.host, ctx.port,
      sni), ctx, false)
  end
  return true
end

-- A connection for one attempt: pooled or new, TLS done. sock, reused, or nil, err.
local function open(n, ctx, cfg, deadline, now)
  local sock, serr = n.socket.tcp()
  if not sock then return fail("CURLE_FAILED_INIT", tostring(serr), ctx, false) end
  if not arm(sock, deadline, now, cfg.connect_timeout) then
    return fail(TIMED_OUT, "timed out before connecting", ctx, false)
  end
  local ok, cerr = connect(n, sock, ctx.host, ctx.port, ctx.connect_opts, deadline, now)
  if not ok then
    sock:close()
    return connect_failure(ctx, cerr)
  end
  local reused = (sock:getreusedtimes() or 0) > 0
  if ctx.scheme == "https" and not reused then
    local hok, herr = handshake(sock, ctx, cfg, deadline, now)
    if not hok then return nil, herr end
  end
  return sock, reused
end

-- Header names are RFC 9110 tokens; values hold no CR, LF or NUL (each would end the line
-- and start a header the caller never meant). Raises argument errors at the caller's caller.
local function check_header(name, value, level)
  if type(name) ~= "string" or (type(value) ~= "string" and type(value) ~= "number") then
    errors.raise("bing.ngx_transport: headers must map names to strings", level + 1)
  end
  value = tostring(value)
  if not name:find("^[!#$%%&'*+%-.^_`|~%w]+$") then
    errors.raise("bing.ngx_transport: invalid header name (not an RFC 9110 token)", level + 1)
  end
  if not valid_value(value) then
    errors.raise("bing.ngx_transport: header '" .. name .. "' has CR, LF or NUL in its value",
      level + 1)
  end
  local lname = name:lower()
  if lname == "content-length" or lname == "transfer-encoding" or lname == "host"
    or lname == "connection" then
    errors.raise("bing.ngx_transport: header '" .. name .. "' is set by the transport", level + 1)
  end
  return lname, value
end

-- The request's bytes: request line, headers, body.
local function request_bytes(ctx, req, cfg, level)
  local lines = {ctx.method .. " " .. ctx.target .. " HTTP/1.1", "Host: " .. ctx.authority,
                 "User-Agent: " .. cfg.user_agent, "Accept: */*"}
  if req.headers ~= nil then
    if type(req.headers) ~= "table" then
      errors.raise("bing.ngx_transport: req.headers must be a table", level + 1)
    end
    for name, value in pairs(req.headers) do
      local lname, v = check_header(name, value, level + 1)
      if lname == "user-agent" then
        lines[3] = name .. ": " .. v
      else
        lines[#lines + 1] = name .. ": " .. v
      end
    end
  end
  local body = req.body
  if body or ctx.method == "POST" or ctx.method == "PUT" then
    lines[#lines + 1] = "Content-Length: " .. #(body or "")
  end
  if not cfg.keepalive then lines[#lines + 1] = "Connection: close" end
  return concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

-- Checks a request and describes it: {method, url, keys, scheme, host, port, target,
-- authority, timeout, request, connect_opts}. Programmer errors raise (argument errors).
local function describe_request(req, cfg, level)
  if type(req) ~= "table" then errors.raise("bing.ngx_transport: req must be a table", level + 1) end
  local method = req.method or "GET"
  if not METHODS[method] then
    errors.raise("bing.ngx_transport: method must be GET, POST, PUT or DELETE", level + 1)
  end
  local url = req.url
  if type(url) ~= "string" then errors.raise("bing.ngx_transport: req.url must be a string", level + 1) end
  local body = req.body
  if body ~= nil and type(body) ~= "string" then
    errors.raise("bing.ngx_transport: req.body must be a string", level + 1)
  end
  if body and method == "GET" then
    errors.raise("bing.ngx_transport: a GET request has no body", level + 1)
  end
  local timeout = req.timeout or cfg.timeout
  if type(timeout) ~= "number" or timeout ~= timeout or timeout <= 0 then
    errors.raise("bing.ngx_transport: req.timeout must be a number > 0", level + 1)
  end
  local keys = url_keys(url)
  local scheme, host, port, target, authority = parse_url(url)
  if not scheme then
    -- `host` holds the reason; the URL is redacted in the text.
    errors.raise(redact("bing.ngx_transport: " .. host .. ": " .. url, keys), level + 1)
  end
  local ctx = {method = method, url = url, keys = keys, scheme = scheme, host = host,
               port = port, target = target, authority = authority, timeout = timeout}
  ctx.request = request_bytes(ctx, req, cfg, level + 1)
  local pool = ("bing:%s:%s:%d"):format(scheme, host, port)
  if scheme == "https" then
    pool = pool .. ":" .. (cfg.ssl_server_name or host) .. (cfg.verify and ":v" or ":nv")
  end
  -- connect() takes an idle connection of its pool when there is one: without keep-alive,
  -- a pool nothing is ever put into.
  if not cfg.keepalive then pool = pool .. ":once" end
  ctx.connect_opts = {pool = pool, pool_size = cfg.pool_size}
  return ctx
end

-- The transport's settings: DEFAULTS, then the options.
local function config(opts, n)
  local cfg = {}
  for k, v in pairs(DEFAULTS) do cfg[k] = v end
  for k, v in pairs(opts) do cfg[k] = v end
  cfg.keepalive_ms = floor(cfg.keepalive_timeout * 1000)
  cfg.user_agent = cfg.user_agent or _M.user_agent(n)
  return cfg
end

-- One call: attempts on pooled connections the server closed meanwhile, then a new one.
local function perform(n, cfg, ctx, now)
  local started = now()
  local deadline = started + ctx.timeout
  for try = 1, MAX_STALE + 1 do
    local sock, reused = open(n, ctx, cfg, deadline, now)
    if not sock then return nil, reused end
    local resp, code, text, stale, unsent = exchange(sock, reused, deadline, now, ctx.request,
      ctx.method, cfg.max_size)
    if resp then
      if code and cfg.keepalive then -- (exchange's second value on success: keep)
        -- A failure here only means the connection is closed instead of kept.
        sock:setkeepalive(cfg.keepalive_ms, cfg.pool_size)
      else
        sock:close()
      end
      resp.time = now() - started
      return resp
    end
    sock:close()
    if not (stale and try <= MAX_STALE) then return fail(code, text, ctx, not unsent) end
    -- The server closed this pooled connection while it was idle: another one (pooled or
    -- new) gets the request, as curl does. Nothing of an answer came back, so the server
    -- did not process it.
  end
end

--- Makes a transport function for the client option `transport`.
-- Options (all optional): `timeout` (seconds, when a request gives none; default 30),
-- `connect_timeout` (seconds, default 10), `pool_size` (connections kept per pool; default
-- nginx's lua_socket_pool_size), `keepalive_timeout` (seconds an idle connection is kept,
-- default 60; 0 = nginx's lua_socket_keepalive_timeout), `keepalive` (false: a new
-- connection per request), `verify` (TLS certificate and name verification, default true;
-- false only to test the failure itself), `ssl_server_name` (the name sent by SNI and
-- verified, default the URL's host; for a server reached by IP address), `max_size` (bytes
-- of body accepted, default 64 MiB), `user_agent`. `cafile` is refused: nginx's
-- `lua_ssl_trusted_certificate` holds the CAs.
-- The request's timeout covers the whole call: name lookup, connect, TLS, sending and reading,
-- however slowly the bytes come.
-- Returns `function(req) -> resp | nil, err` (shapes in doc/INTERNALS.md).
function _M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then errors.raise("bing.ngx_transport.new: options must be a table", 2) end
  check_options(opts, 2)
  local n = ngx_api()
  local now = _M.clock().now
  local cfg = config(opts, n)
  -- It yields by itself (cosockets): client:batch runs its items as ngx.threads over it.
  return require("bing.batch").yields(function(req)
    return perform(n, cfg, describe_request(req, cfg, 2), now)
  end)
end

--- The options of `bing.new` for a client inside nginx: `opts` plus `transport =
-- ngx_transport.new{...}` and `clock = ngx_transport.clock()`. The transport's own options
-- (pool_size, keepalive_timeout, keepalive, ssl_server_name, verify, max_size,
-- connect_timeout, user_agent) go to the transport; `timeout` to both. `shared = "<dict>"`
-- gives `store = bing.store.shared_dict("<dict>")`: the meter, budget and qps of the
-- clients of every worker live in that lua_shared_dict.
--     local client = bing.new(ngx_transport.options{key = os.getenv "BING_MAPS_KEY", pool_size = 16,
--                                                   shared = "bing", budget = {billable = 5000}})
function _M.options(opts)
  if type(opts) ~= "table" then errors.raise("bing.ngx_transport.options: options must be a table", 2) end
  local t, c = {}, {}
  for k, v in pairs(opts) do
    if OPTIONS[k] then t[k] = v elseif k ~= "shared" then c[k] = v end
  end
  local shared = opts.shared
  if shared ~= nil then
    if type(shared) ~= "string" then
      errors.raise("bing.ngx_transport.options: shared must be the name of a lua_shared_dict", 2)
    end
    if opts.store ~= nil then
      errors.raise("bing.ngx_transport.options: give shared or store, not both", 2)
    end
    c.store = require("bing.store").shared_dict(shared)
  end
  if opts.timeout then c.timeout = opts.timeout end
  c.transport = c.transport or _M.new(t)
  c.clock = c.clock or _M.clock()
  return c
end

return _M
