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
-- file), a deadline over connect + send + read taken from `req.timeout`, Content-Length,
-- chunked and read-until-close bodies, a size cap enforced while reading, keep-alive through
-- nginx's connection pool (one pool per scheme, host, port and TLS settings), one new
-- connection when a pooled one turns out to be closed by the server before it answered. No
-- Accept-Encoding is sent (no gzip to inflate in Lua), no redirect is followed (a redirect
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

local function valid_value(v)
  return not v:find("[\r\n%z]")
end

--- The default User-Agent: `lua-bing/<VERSION> ngx_lua/<0.10.23> <LuaJIT 2.1...>`.
function _M.user_agent(n)
  n = n or ngx_api()
  local v = n.config and tonumber(n.config.ngx_lua_version)
  local lua_version = rawget(_G, "jit") and rawget(_G, "jit").version or _VERSION
  return ("lua-bing/%s ngx_lua/%s %s"):format(core.VERSION, v and ("%d.%d.%d"):format(
    floor(v / 1000000), floor(v / 1000) % 1000, v % 1000) or "?", lua_version)
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
-- Returns `function(req) -> resp | nil, err` (shapes in doc/INTERNALS.md).
function _M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then errors.raise("bing.ngx_transport.new: options must be a table", 2) end
  check_options(opts, 2)
  local n = ngx_api()
  local tcp = n.socket.tcp
  local clock = _M.clock()
  local now = clock.now
  local cfg = {}
  for k, v in pairs(DEFAULTS) do cfg[k] = v end
  for k, v in pairs(opts) do cfg[k] = v end
  local keepalive_ms = floor(cfg.keepalive_timeout * 1000)
  local pool_size = cfg.pool_size
  local max_size = cfg.max_size
  local verify = cfg.verify
  local user_agent = cfg.user_agent or _M.user_agent(n)

  -- `sent`: whether the request left (as the C transport says; bing.billing does not count a
  -- timeout of a request that never left).
  local function fail(code, text, method, url, keys, sent)
    local kind = code == "CURLE_OPERATION_TIMEDOUT" and "timeout" or "transport"
    return nil, errors.new(kind, redact(("%s (%s %s)"):format(text, method, url), keys),
      {code = code, retryable = RETRYABLE[code] == true, url = redact(url, keys), sent = sent})
  end

  -- The socket's timeout for its next operation: the time left before the deadline, capped.
  local function arm(sock, deadline, cap)
    local left = deadline - now()
    if left <= 0 then return false end
    sock:settimeout(max(1, floor(min(left, cap or left) * 1000)))
    return true
  end

  -- One attempt on one connection. Returns resp, or nil, code, text, stale, unsent (stale: a
  -- pooled connection that the server had closed before answering; worth a new connection;
  -- unsent: nothing of the request was written).
  local function exchange(sock, reused, deadline, request, method)
    if not arm(sock, deadline) then return nil, "CURLE_OPERATION_TIMEDOUT", "timed out", nil, true end
    local sent, serr = sock:send(request)
    if not sent then
      if serr == "timeout" then return nil, "CURLE_OPERATION_TIMEDOUT", "timed out sending the request" end
      return nil, "CURLE_SEND_ERROR", "send failed: " .. tostring(serr), reused
    end

    local status, version, headers
    local header_bytes = 0
    local first = true
    repeat
      if not arm(sock, deadline) then
        return nil, "CURLE_OPERATION_TIMEDOUT", "timed out waiting for the response"
      end
      local line, rerr = sock:receive("*l")
      if not line then
        if rerr == "timeout" then
          return nil, "CURLE_OPERATION_TIMEDOUT", "timed out waiting for the response"
        end
        if first then
          return nil, "CURLE_GOT_NOTHING", "connection closed before any response (" ..
            tostring(rerr) .. ")", reused
        end
        return nil, "CURLE_RECV_ERROR", "receiving the response headers failed: " .. tostring(rerr)
      end
      first = false
      local major, minor, code = line:match("^HTTP/(%d)%.(%d) (%d%d%d)")
      if not code then
        return nil, "CURLE_WEIRD_SERVER_REPLY", "not an HTTP/1.x status line"
      end
      status, version, headers = tonumber(code), major .. "." .. minor, {}
      while true do
        if not arm(sock, deadline) then
          return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the response headers"
        end
        local h, herr = sock:receive("*l")
        if not h then
          if herr == "timeout" then
            return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the response headers"
          end
          return nil, "CURLE_RECV_ERROR", "receiving the response headers failed: " .. tostring(herr)
        end
        if h == "" then break end
        header_bytes = header_bytes + #h + 2
        if header_bytes > MAX_HEADER_BYTES then
          return nil, "BING_TOO_LARGE", ("response headers larger than %d bytes"):format(MAX_HEADER_BYTES)
        end
        local name, value = h:match("^([^:%s]+):[ \t]*(.-)[ \t]*$")
        -- Lower-case names, the last of repeated names wins (as the C transport).
        if name then headers[name:lower()] = value end
      end
    -- 1xx (100 Continue, 103 Early Hints) precede the real answer; 101 is no answer of ours.
    until status >= 200 or status == 101

    local chunks, total = {}, 0
    local te = (headers["transfer-encoding"] or ""):lower()
    local clen = headers["content-length"]
    local framed = true
    local function too_large()
      return nil, "BING_TOO_LARGE", ("response larger than max_size (%d bytes)"):format(max_size)
    end
    local function read_exactly(count, what)
      while count > 0 do
        if not arm(sock, deadline) then
          return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the " .. what
        end
        local want = min(count, PIECE)
        local data, rerr, partial = sock:receive(want)
        if not data then
          if partial and partial ~= "" then chunks[#chunks + 1] = partial end
          if rerr == "timeout" then
            return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the " .. what
          end
          return nil, "CURLE_PARTIAL_FILE", ("connection %s with %d bytes of the %s missing")
            :format(tostring(rerr), count - #(partial or ""), what)
        end
        chunks[#chunks + 1] = data
        count = count - want
      end
      return true
    end

    local has_body = not (method == "HEAD" or status == 204 or status == 304 or status < 200)
    if has_body and te ~= "" then
      if not te:find("chunked%s*$") then
        return nil, "CURLE_WEIRD_SERVER_REPLY", "unsupported Transfer-Encoding: " .. te
      end
      while true do
        if not arm(sock, deadline) then
          return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the body"
        end
        local line, rerr = sock:receive("*l")
        if not line then
          if rerr == "timeout" then
            return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the body"
          end
          return nil, "CURLE_PARTIAL_FILE", "connection " .. tostring(rerr) .. " inside a chunked body"
        end
        local size = tonumber(line:match("^%s*(%x+)%s*[;]?") or "", 16)
        if not size then return nil, "CURLE_RECV_ERROR", "bad chunk size line" end
        if size == 0 then
          -- Trailers, up to the empty line.
          repeat
            if not arm(sock, deadline) then
              return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the body"
            end
            local t, terr = sock:receive("*l")
            if not t then
              if terr == "timeout" then
                return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the body"
              end
              return nil, "CURLE_PARTIAL_FILE", "connection " .. tostring(terr) .. " in the trailers"
            end
          until t == ""
          break
        end
        total = total + size
        if total > max_size then return too_large() end
        local ok, code, text = read_exactly(size, "body")
        if not ok then return nil, code, text end
        ok, code, text = read_exactly(2, "body") -- the chunk's CRLF
        if not ok then return nil, code, text end
        if chunks[#chunks] ~= "\r\n" then return nil, "CURLE_RECV_ERROR", "bad chunk end" end
        chunks[#chunks] = nil
      end
    elseif has_body and clen then
      local len = tonumber(clen:match("^%d+$") or "")
      if not len then return nil, "CURLE_WEIRD_SERVER_REPLY", "bad Content-Length" end
      if len > max_size then return too_large() end
      local ok, code, text = read_exactly(len, "body")
      if not ok then return nil, code, text end
    elseif has_body then
      -- No framing: the body ends when the server closes the connection.
      framed = false
      while true do
        if not arm(sock, deadline) then
          return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the body"
        end
        local data, rerr = sock:receiveany(PIECE)
        if not data then
          if rerr == "closed" then break end
          if rerr == "timeout" then
            return nil, "CURLE_OPERATION_TIMEDOUT", "timed out reading the body"
          end
          return nil, "CURLE_RECV_ERROR", "receiving the body failed: " .. tostring(rerr)
        end
        total = total + #data
        if total > max_size then return too_large() end
        chunks[#chunks + 1] = data
      end
    end

    local conn = (headers["connection"] or ""):lower()
    local keep = framed and status ~= 101 and not conn:find("close", 1, true)
      and (version == "1.1" or conn:find("keep-alive", 1, true) ~= nil)
    return {status = status, headers = headers, body = concat(chunks),
            http_version = version, reused = reused}, keep
  end

  return function(req)
    if type(req) ~= "table" then error("bing.ngx_transport: req must be a table", 2) end
    local method = req.method or "GET"
    if not METHODS[method] then
      error("bing.ngx_transport: method must be GET, POST, PUT or DELETE", 2)
    end
    local url = req.url
    if type(url) ~= "string" then error("bing.ngx_transport: req.url must be a string", 2) end
    local body = req.body
    if body ~= nil and type(body) ~= "string" then
      error("bing.ngx_transport: req.body must be a string", 2)
    end
    if body and method == "GET" then error("bing.ngx_transport: a GET request has no body", 2) end
    local timeout = req.timeout or cfg.timeout
    if type(timeout) ~= "number" or timeout ~= timeout or timeout <= 0 then
      error("bing.ngx_transport: req.timeout must be a number > 0", 2)
    end
    local keys = url_keys(url)
    local scheme, host, port, target, authority = parse_url(url)
    if not scheme then
      -- `host` holds the reason; the URL is redacted in the text.
      error(redact("bing.ngx_transport: " .. host .. ": " .. url, keys), 2)
    end

    local lines = {method .. " " .. target .. " HTTP/1.1", "Host: " .. authority,
                   "User-Agent: " .. user_agent, "Accept: */*"}
    if req.headers ~= nil then
      if type(req.headers) ~= "table" then error("bing.ngx_transport: req.headers must be a table", 2) end
      for name, value in pairs(req.headers) do
        if type(name) ~= "string" or (type(value) ~= "string" and type(value) ~= "number") then
          error("bing.ngx_transport: headers must map names to strings", 2)
        end
        value = tostring(value)
        if not name:find("^[!#$%%&'*+%-.^_`|~%w]+$") then
          error("bing.ngx_transport: invalid header name '" .. name .. "'", 2)
        end
        if not valid_value(value) then
          error("bing.ngx_transport: header '" .. name .. "' has CR, LF or NUL in its value", 2)
        end
        local lname = name:lower()
        if lname == "content-length" or lname == "transfer-encoding" or lname == "host"
          or lname == "connection" then
          error("bing.ngx_transport: header '" .. name .. "' is set by the transport", 2)
        end
        if lname == "user-agent" then
          lines[3] = name .. ": " .. value
        else
          lines[#lines + 1] = name .. ": " .. value
        end
      end
    end
    if body or method == "POST" or method == "PUT" then
      lines[#lines + 1] = "Content-Length: " .. #(body or "")
    end
    if not cfg.keepalive then lines[#lines + 1] = "Connection: close" end
    local request = concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")

    local started = now()
    local deadline = started + timeout
    local sni = cfg.ssl_server_name or host
    local pool = ("bing:%s:%s:%d"):format(scheme, host, port)
    if scheme == "https" then pool = pool .. ":" .. sni .. (verify and ":v" or ":nv") end
    -- connect() takes an idle connection of its pool when there is one: without keep-alive,
    -- a pool nothing is ever put into.
    if not cfg.keepalive then pool = pool .. ":once" end
    local connect_opts = {pool = pool, pool_size = pool_size}

    for try = 1, MAX_STALE + 1 do
      local sock, serr = tcp()
      if not sock then return fail("CURLE_FAILED_INIT", tostring(serr), method, url, keys, false) end
      if not arm(sock, deadline, cfg.connect_timeout) then
        return fail("CURLE_OPERATION_TIMEDOUT", "timed out before connecting", method, url, keys, false)
      end
      local ok, cerr = sock:connect(host, port, connect_opts)
      if not ok then
        local where = ("connect to %s:%d failed: %s"):format(host, port, tostring(cerr))
        if cerr == "timeout" then return fail("CURLE_OPERATION_TIMEDOUT", where, method, url, keys, false) end
        if tostring(cerr):find("resolve", 1, true) or tostring(cerr):find("resolver", 1, true) then
          return fail("CURLE_COULDNT_RESOLVE_HOST", where .. " (is nginx's resolver directive set?)",
            method, url, keys, false)
        end
        return fail("CURLE_COULDNT_CONNECT", where, method, url, keys, false)
      end
      local reused = (sock:getreusedtimes() or 0) > 0
      if scheme == "https" and not reused then
        if not arm(sock, deadline) then
          sock:close()
          return fail("CURLE_OPERATION_TIMEDOUT", "timed out before the TLS handshake", method, url,
            keys, false)
        end
        local session, herr = sock:sslhandshake(false, sni, verify)
        if not session then
          sock:close()
          local text = ("TLS handshake with %s:%d (name %s) failed: %s"):format(host, port, sni,
            tostring(herr))
          if herr == "timeout" then
            return fail("CURLE_OPERATION_TIMEDOUT", text, method, url, keys, false)
          end
          -- ngx_lua reports a verification failure as "<X509 error number>: <text>" or
          -- "certificate host mismatch": the same answer next time, not retryable.
          if tostring(herr):find("^%d+: ") then
            return fail("CURLE_PEER_FAILED_VERIFICATION", text
              .. " (nginx verifies against lua_ssl_trusted_certificate)", method, url, keys, false)
          end
          if tostring(herr):find("certificate", 1, true) then
            return fail("CURLE_PEER_FAILED_VERIFICATION", text
              .. " (ssl_server_name names the certificate's host when the URL has another)",
              method, url, keys, false)
          end
          return fail("CURLE_SSL_CONNECT_ERROR", text, method, url, keys, false)
        end
        -- ngx_lua (0.10.23 at least) has a hole: when the handshake completes without
        -- waiting and verification then fails, it closes the connection but reports success.
        -- A closed socket right after a successful handshake can only mean that.
        if not sock:getreusedtimes() then
          return fail("CURLE_PEER_FAILED_VERIFICATION", ("TLS handshake with %s:%d (name %s): "
            .. "certificate verification failed (nginx's error log says why; it verifies "
            .. "against lua_ssl_trusted_certificate and ssl_server_name)"):format(host, port, sni),
            method, url, keys, false)
        end
      end
      local resp, code, text, stale, unsent = exchange(sock, reused, deadline, request, method)
      if resp then
        local keep = code -- (exchange's second value on success)
        if keep and cfg.keepalive then
          -- A failure here only means the connection is closed instead of kept.
          sock:setkeepalive(keepalive_ms, pool_size)
        else
          sock:close()
        end
        resp.time = now() - started
        return resp
      end
      sock:close()
      if not (stale and try <= MAX_STALE) then
        return fail(code, text, method, url, keys, not unsent)
      end
      -- The server closed this pooled connection while it was idle: another one (pooled or
      -- new) gets the request, as curl does. Nothing of an answer came back, so the server
      -- did not process it.
    end
  end
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
