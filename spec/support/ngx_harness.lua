-- Runs inside the test nginx of spec/ngx_transport_spec.lua (not the library's code, nor the
-- example's): endpoints through which the spec drives bing.ngx_transport directly, and an
-- origin whose answers the emulator does not give (chunked with trailers, no framing, 204).
--
--   GET /transport?url=&with_key=1&method=&body=&max_size=&keepalive=0&timeout=&header=Name:value
--     &option=&value= calls a transport made with those options once and answers JSON:
--     {status, headers, body (first 200 bytes), body_length, body_ok (the origin's pattern),
--      reused, http_version} or {error = {kind, code, message, retryable, url, sent, billed}}
--      or {raised}
--   GET /origin/length/<n>, /origin/chunked/<n>, /origin/close/<n>: n bytes of the pattern,
--     with Content-Length, chunked (in pieces, with a trailer), or ended by closing
--   GET /origin/status/<code>: that status, no body
--   Every origin answer names its connection (X-Origin-Conn, X-Origin-Requests).
local cjson = require "cjson.safe"
local ngx_transport = require "bing.ngx_transport"

local _M = {}

local function pattern(n)
  return ("0123456789"):rep(math.ceil(n / 10)):sub(1, n)
end

local function reply(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(t))
end

function _M.transport()
  local args = ngx.req.get_uri_args()
  local opts = {}
  if args.max_size then opts.max_size = tonumber(args.max_size) end
  if args.keepalive == "0" then opts.keepalive = false end
  if args.option then opts[args.option] = args.value or true end
  local url = args.url
  -- The key is added here, from the worker's environment: in the spec's own request it would
  -- land in nginx's access and error logs (which the spec checks for the key).
  if args.with_key then url = url .. (url:find("?", 1, true) and "&" or "?") .. "key="
    .. os.getenv("BING_MAPS_KEY") end
  local req = {method = args.method or "GET", url = url, body = args.body,
               timeout = tonumber(args.timeout)}
  if args.header then
    local name, value = args.header:match("^([^:]+):(.*)$")
    req.headers = {[name] = value}
  end
  local ok, t = pcall(ngx_transport.new, opts)
  if not ok then return reply{raised = tostring(t)} end
  local ok2, resp, err = pcall(t, req)
  if not ok2 then return reply{raised = tostring(resp)} end
  if not resp then
    return reply{error = {kind = err.kind, code = err.code, message = err.message,
                          retryable = err.retryable, url = err.url, text = tostring(err),
                          sent = err.sent, billed = require("bing.billing").billed(nil, err)}}
  end
  local n = tonumber(resp.headers["x-origin-length"])
  reply{status = resp.status, headers = resp.headers, body = resp.body:sub(1, 200),
        body_length = #resp.body, body_ok = n and resp.body == pattern(n) or nil,
        reused = resp.reused, http_version = resp.http_version, time = resp.time}
end

function _M.origin()
  local kind, arg = ngx.var.uri:match("^/origin/(%w+)/(%d+)$")
  if kind == "status" then
    ngx.header["X-Origin-Conn"] = ngx.var.connection
    return ngx.exit(tonumber(arg))
  end
  local n = tonumber(arg)
  local body = pattern(n)
  ngx.header["Content-Type"] = "text/plain"
  ngx.header["X-Origin-Length"] = n
  ngx.header["X-Origin-Conn"] = ngx.var.connection
  ngx.header["X-Origin-Requests"] = ngx.var.connection_requests
  if kind == "length" then
    ngx.header["Content-Length"] = n
    ngx.print(body)
    return
  end
  -- chunked (or, with chunked_transfer_encoding off, unframed): several writes, flushed.
  local piece = 7000
  for i = 1, n, piece do
    ngx.print(body:sub(i, i + piece - 1))
    ngx.flush(true)
  end
end

return _M
