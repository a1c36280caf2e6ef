-- bing.ngx_transport inside a real nginx: a private nginx runs the OpenResty example
-- (examples/openresty/nginx.conf + geocode.lua, with the library from this tree and the LuaJIT
-- core from build/luajit) pointed at the emulator; the spec talks to it with luasocket only and
-- checks the answers and what reached the emulator: values, keep-alive, TLS, retries that
-- yield, timeouts, and the key kept out of every log and answer.
-- Run through `make test`, or after `eval "$(sim/bingsim start)"` and `make LUA=luajit`.
-- KEEP_NGX_DIR=1 keeps the test nginx's directory (/tmp/bing-ngx-spec.*: config, logs).
local socket = require "socket"
local sim = require "support.sim"

local ngx_server = require "support.ngx_server"
local read_file, free_port = ngx_server.read_file, ngx_server.free_port
local alive, listening, replace_once = ngx_server.alive, ngx_server.listening, ngx_server.replace_once
local LOCATIONS = "/REST/v1/Locations"

-- The test nginx (spec/support/ngx_server.lua: the example's config with the checkout as
-- $prefix, the emulator's CA as the trusted CAs, info-level logging, since the key check reads
-- everything nginx writes, on a free port) with spec/support on the package path, one worker
-- (keep-alive and "does not block" are about one worker), and three more clients of the
-- example's module next to its default one:
--   /geocode/tls     HTTPS to the emulator, verifying the name "localhost" of its certificate
--   /geocode/tls_ip  HTTPS to the emulator, verifying the URL's host 127.0.0.1 (not in it)
--   /geocode/short   timeout 0.5 s and no retries
--   /geocode/qps     at most 4 requests per second
-- The default client is made exactly as the example makes it, from BING_BASE_URL.
local function derive_conf(conf, port)
  conf = replace_once(conf, "/examples/openresty/?.lua;",
    "/examples/openresty/?.lua;" .. ngx_server.ROOT .. "/spec/support/?.lua;")
  conf = replace_once(conf, "worker_processes 2;", "worker_processes 1;")
  conf = replace_once(conf, "listen 127.0.0.1:8080;", "listen 127.0.0.1:" .. port .. ";")
  conf = replace_once(conf, "    init_worker_by_lua_block {\n", ([[
    init_worker_by_lua_block {
        require("geocode").init{name = "tls", base_url = %q, ssl_server_name = "localhost"}
        require("geocode").init{name = "tls_ip", base_url = %q}
        require("geocode").init{name = "short", base_url = %q, timeout = 0.5, retry = false}
        require("geocode").init{name = "qps", base_url = %q, qps = 4}
]]):format(sim.https_url, sim.https_url, sim.url, sim.url))
  conf = replace_once(conf, "        location = /geocode {\n", [[
        location ~ ^/geocode/(\w+)$ {
            default_type application/json;
            content_by_lua_block {
                require("geocode").handle(ngx.var[1])
            }
        }

        location = /geocode {
]])
  -- spec/support/ngx_harness.lua: the transport driven directly, and an origin.
  conf = replace_once(conf, "        listen 127.0.0.1:" .. port .. ";\n", [[
        listen 127.0.0.1:]] .. port .. [[;

        location = /transport {
            content_by_lua_block { require("ngx_harness").transport() }
        }
        location /origin/ {
            content_by_lua_block { require("ngx_harness").origin() }
        }
        location /origin/chunked/ {
            add_trailer X-Origin-Trailer done;
            content_by_lua_block { require("ngx_harness").origin() }
        }
        location /origin/close/ {
            chunked_transfer_encoding off;
            content_by_lua_block { require("ngx_harness").origin() }
        }
]])
  return conf
end

-- The running test nginx (ngx_server.start's server), from setup to its stop.
local nginx

-- Every answer the spec saw, for the key check at the end.
local answers = {}

-- GET through the test nginx: status, decoded JSON, body, headers.
local function get(path)
  local status, body, headers = sim.request("GET", nginx.base .. path)
  assert(status, "request to nginx failed: " .. tostring(body))
  answers[#answers + 1] = body
  return status, sim.decode(body), body, headers
end

local last_id = sim.last_id

-- A request sent on a raw connection and read later: for "another request is served
-- meanwhile".
local function send_raw(path)
  local c = assert(socket.tcp())
  c:settimeout(10)
  assert(c:connect("127.0.0.1", nginx.port))
  assert(c:send(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"):format(path)))
  return c
end

local function read_raw(c)
  local data = assert(c:receive("*a"))
  c:close()
  local head, body = data:match("^(.-)\r\n\r\n(.*)$")
  local status = tonumber(head:match("^HTTP/1%.%d (%d+)"))
  -- nginx answers ngx.say with chunked encoding on a keep-alive capable request; Connection:
  -- close gives a plain body, but undo chunks in case.
  if head:lower():find("transfer-encoding: chunked", 1, true) then
    local out, pos = {}, 1
    while true do
      local size_hex, after = body:match("^(%x+)[^\r\n]*\r\n()", pos)
      local size = tonumber(size_hex, 16)
      if not size or size == 0 then break end
      out[#out + 1] = body:sub(after, after + size - 1)
      pos = after + size + 2
    end
    body = table.concat(out)
  end
  answers[#answers + 1] = body
  return status, sim.decode(body)
end

local function entries_since(mark) return sim.entries(LOCATIONS, mark) end

describe("bing.ngx_transport outside nginx", function()
  local ngx_transport = require "bing.ngx_transport"

  local function raised(fn)
    local ok, e = pcall(fn)
    assert.is_false(ok)
    return e
  end

  it("checks its options first, raising argument errors", function()
    for _, case in ipairs{
      {{bogus = 1}, "unknown option 'bogus'"},
      {{pool_size = "8"}, "option 'pool_size' must be a number, got string"},
      {{pool_size = 0}, "pool_size must be a number > 0"},
      {{pool_size = 1.5}, "pool_size must be an integer"},
      {{max_size = -1}, "max_size must be a number > 0"},
      {{keepalive_timeout = -1}, "keepalive_timeout must be a number >= 0"},
      {{cafile = "/etc/ssl/certs/ca-certificates.crt"}, "lua_ssl_trusted_certificate"},
    } do
      local e = raised(function() ngx_transport.new(case[1]) end)
      assert.equal("argument", e.kind)
      assert.matches(case[2], tostring(e), 1, true)
    end
  end)

  it("refuses CR, LF and NUL in user_agent and ssl_server_name (argument errors)", function()
    for _, bad in ipairs{"a\rb", "a\nb", "a\0b", "ua\r\nX-Injected: 1"} do
      for _, name in ipairs{"user_agent", "ssl_server_name"} do
        local e = raised(function() ngx_transport.new{[name] = bad} end)
        assert.equal("argument", e.kind)
        assert.matches(name .. " has CR, LF or NUL", tostring(e), 1, true)
      end
    end
  end)

  it("refuses to make a transport or a clock without nginx's Lua module", function()
    assert.is_nil(rawget(_G, "ngx"))
    assert.matches("needs nginx's Lua module", tostring(raised(function() ngx_transport.new{} end)))
    assert.matches("needs nginx's Lua module", tostring(raised(ngx_transport.clock)))
  end)

  it("options{} splits transport and client options into bing.new's", function()
    -- Just enough of ngx for new() and clock() to be made (no I/O happens).
    local slept = {}
    rawset(_G, "ngx", {socket = {tcp = function() end}, update_time = function() end,
                       now = function() return 12.5 end,
                       sleep = function(s) slept[#slept + 1] = s end,
                       config = {ngx_lua_version = 10023}})
    local ok, opts = pcall(ngx_transport.options, {key = "k", base_url = sim.url, timeout = 5,
                                                   pool_size = 4, ssl_server_name = "localhost",
                                                   retry = {attempts = 2}})
    local ua = ngx_transport.user_agent()
    rawset(_G, "ngx", nil)
    assert(ok, opts)
    assert.is_function(opts.transport)
    assert.is_function(opts.clock.now)
    assert.is_function(opts.clock.sleep)
    assert.equal(5, opts.timeout)
    assert.equal("k", opts.key)
    assert.is_nil(opts.pool_size)
    assert.is_nil(opts.ssl_server_name)
    assert.same({attempts = 2}, opts.retry)
    opts.clock.sleep(0.25)
    assert.same({0.25}, slept)
    assert.matches("^lua%-bing/%S+ ngx_lua/0%.10%.23 ", ua)
    local client = require("bing").new(opts) -- every option is one bing.new knows
    client:close()
  end)
end)

describe("bing.ngx_transport in nginx (examples/openresty)", function()
  setup(function()
    sim.clear_faults()
    nginx = ngx_server.start(derive_conf)
  end)

  teardown(function()
    if nginx then nginx:stop() end
  end)

  before_each(function()
    sim.settle(10)
    sim.clear_faults()
  end)

  it("answers /geocode?q=Space Needle with the first location, sent with the key", function()
    local status, doc = get("/geocode?q=Space%20Needle")
    assert.equal(200, status)
    assert.equal("Space Needle, Seattle, WA", doc.name)
    assert.near(47.6205, doc.lat, 1e-4)
    assert.near(-122.3493, doc.lon, 1e-4)
    assert.equal(1, doc.matches)
    assert.equal(1, doc.attempts)
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal(LOCATIONS, req.path)
    assert.equal("Space Needle", req.query.q)
    assert.equal("5", req.query.maxResults)
    assert.equal("key", req.key_kind)
    assert.equal("SIM_KEY", req.key_label)
    assert.equal(doc.trace_id, req.trace_id)
    assert.equal("HTTP/1.1", req.http)
    assert.equal(sim.url:match("^http://(.*)$"), req.headers.host)
    assert.matches("^lua%-bing/%S+ ngx_lua/0%.%d+%.%d+ ", req.headers["user-agent"])
    -- No gzip: there would be nothing to inflate it with in Lua.
    assert.is_nil(req.headers["accept-encoding"])
  end)

  it("answers 400 without q and sends nothing", function()
    local mark = last_id()
    local status, doc = get("/geocode")
    assert.equal(400, status)
    assert.equal("argument", doc.error.kind)
    assert.same({}, entries_since(mark))
  end)

  it("keeps the connection alive: the worker's calls share one connection", function()
    get("/geocode?q=Seattle") -- a pooled connection exists from here on
    local mark = last_id()
    for _, q in ipairs{"Paris", "Space%20Needle", "Seattle", "London"} do
      local status = get("/geocode?q=" .. q)
      assert.equal(200, status)
    end
    local es = entries_since(mark)
    assert.equal(4, #es)
    for i = 2, #es do
      assert.equal(es[1].conn, es[i].conn)
      assert.equal(es[i - 1].conn_requests + 1, es[i].conn_requests)
    end
    assert.is_true(es[1].conn_requests >= 2)
  end)

  it("speaks TLS to the emulator's HTTPS port, verified against SIM_CA, kept alive", function()
    local mark = last_id()
    local status, doc = get("/geocode/tls?q=Space%20Needle")
    assert.equal(200, status)
    assert.equal("Space Needle, Seattle, WA", doc.name)
    assert.near(47.6205, doc.lat, 1e-4)
    status, doc = get("/geocode/tls?q=Seattle")
    assert.equal(200, status)
    assert.equal("Seattle, WA", doc.name)
    local es = entries_since(mark)
    assert.equal(2, #es)
    assert.equal(sim.https_url:match("^https://(.*)$"), es[1].headers.host)
    assert.equal("HTTP/1.1", es[1].http) -- cosockets do not negotiate h2
    assert.equal("key", es[1].key_kind)
    assert.equal("Space Needle", es[1].query.q)
    assert.equal(es[1].conn, es[2].conn)
    assert.equal(es[1].conn_requests + 1, es[2].conn_requests)
  end)

  it("refuses a certificate that does not name the host, and does not retry", function()
    local mark = last_id()
    local status, doc, body = get("/geocode/tls_ip?q=Space%20Needle")
    assert.equal(502, status, body)
    assert.equal("transport", doc.error.kind)
    assert.equal("CURLE_PEER_FAILED_VERIFICATION", doc.error.code)
    assert.is_false(doc.error.retryable)
    assert.equal(1, doc.error.attempts)
    -- "certificate host mismatch", or, when the handshake completed at once, "certificate
    -- verification failed" (ngx_lua only closes the socket then; see ngx_transport.lua).
    assert.matches("certificate", doc.error.message)
    assert.matches("key=<redacted>", doc.error.message, 1, true)
    assert.same({}, entries_since(mark))
  end)

  it("retries a 503 after its Retry-After with ngx.sleep: the worker serves others meanwhile",
    function()
      local mark = last_id()
      sim.fault{fault = "503", retry_after = 1, path = LOCATIONS}
      local a = send_raw("/geocode?q=Space%20Needle")
      -- A's first attempt got the 503; A now waits 1 s before its second.
      local first = sim.poll(function()
        local es = entries_since(mark)
        return es[1] and es[1].done and es[1]
      end, 5)
      assert.equal(503, first.status)
      assert.equal("503", first.fault)
      local t0 = socket.gettime()
      local status, doc = get("/geocode?q=Seattle")
      local took = socket.gettime() - t0
      assert.equal(200, status)
      assert.equal("Seattle, WA", doc.name)
      -- One worker: a blocking sleep would hold this request until A's second attempt.
      assert.is_true(took < 0.5, ("the other request took %.3f s"):format(took))
      local astatus, adoc = read_raw(a)
      assert.equal(200, astatus)
      assert.equal("Space Needle, Seattle, WA", adoc.name)
      assert.equal(2, adoc.attempts)
      local es = entries_since(mark)
      assert.equal(3, #es)
      assert.equal("Seattle", es[2].query.q)
      assert.equal("Space Needle", es[3].query.q)
      assert.equal(200, es[3].status)
      assert.is_true(es[3].time - first.done >= 0.95,
        ("retried %.3f s after the 503"):format(es[3].time - first.done))
    end)

  it("waits for a slow answer without blocking the worker", function()
    local mark = last_id()
    sim.fault{fault = "delay", seconds = 1, path = LOCATIONS}
    local a = send_raw("/geocode?q=Space%20Needle")
    sim.poll(function() return entries_since(mark)[1] end, 5)
    local t0 = socket.gettime()
    local status = get("/geocode?q=Seattle")
    local took = socket.gettime() - t0
    assert.equal(200, status)
    assert.is_true(took < 0.5, ("the other request took %.3f s"):format(took))
    local astatus, adoc = read_raw(a)
    assert.equal(200, astatus)
    assert.equal("Space Needle, Seattle, WA", adoc.name)
    assert.equal(1, adoc.attempts)
  end)

  it("spaces the calls of concurrent requests by qps (one client, one worker)", function()
    local mark = last_id()
    local conns = {}
    for i = 1, 4 do conns[i] = send_raw("/geocode/qps?q=Seattle") end
    for _, c in ipairs(conns) do
      local status, doc = read_raw(c)
      assert.equal(200, status)
      assert.equal("Seattle, WA", doc.name)
    end
    local es = entries_since(mark)
    assert.equal(4, #es)
    table.sort(es, function(x, y) return x.time < y.time end)
    for i = 2, #es do
      -- 1/4 s apart; the log's times have millisecond resolution.
      local gap = es[i].time - es[i - 1].time
      assert.is_true(gap >= 0.245, ("request %d came %.3f s after the one before"):format(i, gap))
    end
  end)

  it("gives kind timeout when the answer comes after the client's timeout", function()
    local mark = last_id()
    sim.fault{fault = "delay", seconds = 2, path = LOCATIONS}
    local t0 = socket.gettime()
    local status, doc = get("/geocode/short?q=Space%20Needle")
    local took = socket.gettime() - t0
    assert.equal(504, status)
    assert.equal("timeout", doc.error.kind)
    assert.equal("CURLE_OPERATION_TIMEDOUT", doc.error.code)
    assert.is_true(doc.error.retryable)
    assert.equal(1, doc.error.attempts)
    assert.matches("key=<redacted>", doc.error.message, 1, true)
    assert.is_true(took >= 0.45 and took < 1.5, ("answered after %.3f s"):format(took))
    assert.equal(1, #entries_since(mark))
    sim.settle(5) -- the delayed request still runs on the emulator
  end)

  describe("the transport itself (spec/support/ngx_harness.lua)", function()
    -- One call of a transport made in nginx with the given options: the harness's JSON.
    local function call(params)
      local parts = {}
      for _, p in ipairs(params) do parts[#parts + 1] = p[1] .. "=" .. sim.encode(p[2]) end
      local status, doc, body = get("/transport?" .. table.concat(parts, "&"))
      assert.equal(200, status, body)
      return doc
    end
    local function origin(path) return nginx.base .. "/origin/" .. path end

    it("reads a Content-Length body and keeps the connection for the next call", function()
      local a = call{{"url", origin("length/100000")}}
      assert.equal(200, a.status)
      assert.equal("1.1", a.http_version)
      assert.equal("100000", a.headers["content-length"])
      assert.equal(100000, a.body_length)
      assert.is_true(a.body_ok)
      local b = call{{"url", origin("length/10")}}
      assert.is_true(b.reused)
      assert.equal(a.headers["x-origin-conn"], b.headers["x-origin-conn"])
      assert.equal(tonumber(a.headers["x-origin-requests"]) + 1, tonumber(b.headers["x-origin-requests"]))
      assert.equal("0123456789", b.body)
    end)

    it("reads a chunked body (with a trailer) and keeps the connection", function()
      local a = call{{"url", origin("chunked/150001")}}
      assert.equal(200, a.status)
      assert.equal("chunked", a.headers["transfer-encoding"])
      assert.is_nil(a.headers["content-length"])
      assert.equal(150001, a.body_length)
      assert.is_true(a.body_ok)
      local b = call{{"url", origin("chunked/3")}}
      assert.is_true(b.reused)
      assert.equal(a.headers["x-origin-conn"], b.headers["x-origin-conn"])
      assert.equal("012", b.body)
    end)

    it("reads a body that ends when the server closes the connection", function()
      local a = call{{"url", origin("close/50000")}}
      assert.equal(200, a.status)
      assert.is_nil(a.headers["content-length"])
      assert.is_nil(a.headers["transfer-encoding"])
      assert.equal("close", a.headers["connection"])
      assert.equal(50000, a.body_length)
      assert.is_true(a.body_ok)
    end)

    it("answers a 204 without reading a body, and keeps the connection", function()
      local a = call{{"url", origin("status/204")}}
      assert.equal(204, a.status)
      assert.equal(0, a.body_length)
      local b = call{{"url", origin("length/1")}}
      assert.is_true(b.reused)
      assert.equal(a.headers["x-origin-conn"], b.headers["x-origin-conn"])
    end)

    it("enforces max_size while reading, whatever the framing; not retryable", function()
      for _, kind in ipairs{"length", "chunked", "close"} do
        local a = call{{"url", origin(kind .. "/20000")}, {"max_size", 1000}}
        assert.equal("transport", a.error.kind, kind)
        assert.equal("BING_TOO_LARGE", a.error.code, kind)
        assert.is_false(a.error.retryable, kind)
        assert.matches("max_size (1000 bytes)", a.error.message, 1, true)
      end
      local ok = call{{"url", origin("chunked/1000")}, {"max_size", 1000}}
      assert.equal(1000, ok.body_length)
    end)

    it("sends a POST body with its Content-Length, and the caller's headers", function()
      local a = call{{"url", sim.url .. LOCATIONS .. "?q=x"}, {"with_key", 1}, {"method", "POST"},
                     {"body", '{"a":1}'}, {"header", "Content-Type:application/json"}}
      assert.equal(405, a.status)
      local req = sim.last_request()
      assert.equal("POST", req.method)
      assert.equal('{"a":1}', req.body)
      assert.equal("7", req.headers["content-length"])
      assert.equal("application/json", req.headers["content-type"])
      assert.equal("key", req.key_kind)
    end)

    it("reports a body cut short as CURLE_PARTIAL_FILE, retryable, the key redacted", function()
      sim.fault{fault = "truncated", path = LOCATIONS}
      local a = call{{"url", sim.url .. LOCATIONS .. "?q=Seattle"}, {"with_key", 1}}
      assert.equal("transport", a.error.kind)
      assert.equal("CURLE_PARTIAL_FILE", a.error.code)
      assert.is_true(a.error.retryable)
      assert.matches("key=<redacted>", a.error.message, 1, true)
      assert.matches("key=<redacted>", a.error.url, 1, true)
    end)

    it("reports a new connection closed without an answer as CURLE_GOT_NOTHING", function()
      sim.fault{fault = "reset", path = LOCATIONS}
      local a = call{{"url", sim.url .. LOCATIONS .. "?q=Seattle"}, {"with_key", 1}, {"keepalive", "0"}}
      assert.is_table(a.error, require("cjson").encode(a))
      assert.equal("transport", a.error.kind)
      assert.equal("CURLE_GOT_NOTHING", a.error.code)
      assert.is_true(a.error.retryable)
    end)

    it("sends again on a new connection when a pooled one closes without answering", function()
      local url = sim.url .. LOCATIONS .. "?q=Seattle"
      assert.equal(200, call{{"url", url}, {"with_key", 1}}.status)
      local pooled = sim.last_request().conn
      local mark = last_id()
      sim.fault{fault = "reset", path = LOCATIONS}
      local a = call{{"url", url}, {"with_key", 1}}
      assert.equal(200, a.status)
      assert.is_false(a.reused)
      local es = entries_since(mark)
      assert.equal(2, #es)
      assert.equal("reset", es[1].fault)
      assert.equal(pooled, es[1].conn)
      assert.equal(200, es[2].status)
      assert.are_not.equal(pooled, es[2].conn)
    end)

    it("reports a refused connection as CURLE_COULDNT_CONNECT, retryable, key redacted", function()
      local a = call{{"url", "http://127.0.0.1:" .. free_port() .. "/x?q=1&key=SeCrEtKeY-123"}}
      assert.equal("transport", a.error.kind)
      assert.equal("CURLE_COULDNT_CONNECT", a.error.code)
      assert.is_true(a.error.retryable)
      assert.is_false(a.error.sent)
      for _, text in ipairs{a.error.message, a.error.url, a.error.text} do
        assert.is_nil(text:find("SeCrEtKeY", 1, true))
        assert.matches("key=<redacted>", text, 1, true)
      end
    end)

    it("says that a connect that timed out sent nothing (not billed); a slow answer was sent", function()
      -- A listener whose accept queue is full: the connect hangs until the request's timeout.
      local port, unfill = require("support.faults").full_backlog()
      local a = call{{"url", "http://127.0.0.1:" .. port .. "/x"}, {"timeout", "0.3"}}
      unfill()
      assert.equal("timeout", a.error.kind)
      assert.is_false(a.error.sent)
      assert.is_false(a.error.billed)
      sim.fault{fault = "delay", seconds = 2, path = LOCATIONS}
      local b = call{{"url", sim.url .. LOCATIONS .. "?q=Seattle"}, {"with_key", 1}, {"timeout", "0.3"}}
      assert.equal("timeout", b.error.kind)
      assert.is_true(b.error.sent)
      assert.is_true(b.error.billed)
      sim.settle(5)
    end)

    it("raises on programmer errors: header injection, a GET body, unknown options", function()
      local url = origin("length/1")
      assert.matches("CR, LF or NUL", call{{"url", url}, {"header", "X-A:b\r\nX-Injected: 1"}}.raised)
      assert.matches("is set by the transport", call{{"url", url}, {"header", "Host:evil"}}.raised)
      assert.matches("a GET request has no body", call{{"url", url}, {"body", "x"}}.raised)
      assert.matches("lua_ssl_trusted_certificate",
        call{{"url", url}, {"option", "cafile"}, {"value", "/etc/ssl/x.pem"}}.raised)
      assert.matches("unknown option 'bogus'", call{{"url", url}, {"option", "bogus"}}.raised)
      assert.matches("not an http:// or https:// URL", call{{"url", "ftp://x/?key=k"}}.raised)
    end)

    it("refuses CR, LF and NUL in header names, values and the URL as argument errors", function()
      local url = origin("length/1")
      for _, bad in ipairs{"a\rb", "a\nb", "a\0b"} do
        assert.matches("^bing: argument: .*CR, LF or NUL",
          call{{"url", url}, {"header", "X-A:" .. bad}}.raised)
        assert.matches("^bing: argument: .*invalid header name",
          call{{"url", url}, {"header", "X-" .. bad .. ":v"}}.raised)
        assert.matches("^bing: argument: .*CR, LF or NUL",
          call{{"url", url}, {"header", "User-Agent:" .. bad}}.raised)
        assert.matches("^bing: argument: .*user_agent has CR, LF or NUL",
          call{{"url", url}, {"option", "user_agent"}, {"value", "ua" .. bad}}.raised)
      end
      -- The authority goes into the Host line.
      assert.matches("^bing: argument: .*control bytes in the URL",
        call{{"url", nginx.base:gsub("127.0.0.1", "127.0.0.1\r\nX-Injected: 1")
          .. "/origin/length/1"}}.raised)
    end)
  end)

  it("never writes the key into nginx's logs or an answer", function()
    local error_log = assert(read_file(nginx.logs .. "/error.log"))
    local access_log = assert(read_file(nginx.logs .. "/access.log"))
    assert.is_nil(error_log:find(sim.key, 1, true))
    assert.is_nil(access_log:find(sim.key, 1, true))
    -- Not vacuous: the failures above were logged, with the URL redacted.
    assert.truthy(error_log:find("key=<redacted>", 1, true))
    assert.truthy(error_log:find("CURLE_OPERATION_TIMEDOUT", 1, true))
    assert.is_true(#answers >= 10)
    for _, body in ipairs(answers) do
      assert.is_nil(body:find(sim.key, 1, true))
    end
  end)

  it("stops nginx and its workers", function()
    local pid = assert(nginx.pid)
    local port = nginx.port
    assert.is_true(#nginx:workers(1) >= 1)
    nginx:stop()
    assert.is_false(alive(pid))
    for _, w in ipairs(nginx.stopped_workers) do assert.is_false(alive(w)) end
    assert.is_false(listening(port))
  end)
end)
