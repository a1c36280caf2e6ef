-- The emulator, seen from a spec. Talks to it with luasocket and cjson only, never with
-- the library under test, so a spec can check what the library sent.
--
--   local sim = require "support.sim"       -- needs SIM_URL etc. (eval "$(sim/bingsim start)")
--   sim.url, sim.https_url, sim.ca          base URLs, CA file of the emulator's TLS cert
--   sim.key, sim.session_key                a valid key, a session key (SIM_KEY, SIM_SESSION_KEY)
--   sim.keys, sim.session_keys              the OTHER valid keys / session keys (arrays)
--   sim.labels[key]                         the emulator's label of a key ("SIM_KEY_2")
--   sim.log([since])                        request log entries with id > since, oldest first
--   sim.last_request()                      the last logged request (nil when none)
--   sim.reset()                             clears log, faults, ledger and jobs
--   sim.fault{fault=, times=, path=, key=, retry_after=, seconds=, status=} | sim.fault"503"
--   sim.faults(), sim.clear_faults()        stored faults (with uses left) / drop them
--   sim.ledger()                            {[label] = {[category] = {billable, non_billable, requests}}}
--   sim.rules()                             the ledger's rules (categories, RECORD switches)
--   sim.get(path, query, headers)           status, decoded JSON (or nil), body, headers
--   sim.get_keyed(path, params, headers)    sim.get with params.key = sim.key unless params has
--                                           a key (key = false: none); raises when the
--                                           connection fails
--   sim.request(method, path, opts)         status, body, headers (opts: query, headers, body)
--   sim.connect([url])                      a raw keep-alive HTTP/1.1 connection (see below)
--   sim.poll(fn[, timeout])                 calls fn until it returns a true value (bounded)
--   sim.settle([timeout])                   waits until every logged request is answered
--   sim.last_id()                           id of the last logged request (0 when none)
--   sim.entries(path[, since])              the log's entries for that path (id > since)
--   sim.peak(entries)                       the most of these log entries the emulator was
--                                           serving at one moment (from each one's time and
--                                           done): an end and a start at one time do not overlap
--   sim.client([opts])                      bing.new(opts) on the emulator, with sim.key unless
--                                           opts has a key or session_key (opts is completed)
--   sim.sds_client([opts[, job_delay]])    sim.client with the Spatial Data Services' URLs on
--                                           the emulator too (sds_url, geodata_url); job_delay
--                                           (seconds) sends X-Bingsim-Job-Delay unless
--                                           opts.headers is given
--   sim.assert_refused(fn[, pattern])       fn() refused before sending: returns nil and an
--                                           `argument` error (message matching pattern), and
--                                           the log holds nothing new; returns the error
--   sim.assert_invalid(doc, name, problem)  doc is the emulator's 400 for one bad parameter:
--                                           "name: problem" (problem: sim.MISSING,
--                                           sim.NOT_VALID, sim.OUT_OF_RANGE or other text)
--   sim.fast_clock(sleeps)                  a clock whose sleeps are recorded, then 0.1 s each
-- Integral numbers in decoded JSON come back as Lua integers.
local http = require "socket.http"
local ltn12 = require "ltn12"
local socket = require "socket"
local cjson = require "cjson.safe"

local sim = {}

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then
    error(("spec/support/sim.lua: %s is not set. Run the specs through `make test`, or start "
      .. "the emulator and export its settings:\n"
      .. '  eval "$(sim/bingsim start)"; export SIM_URL SIM_HTTPS_URL SIM_CA SIM_KEY '
      .. "SIM_SESSION_KEY SIM_DIR"):format(name), 0)
  end
  return v
end

sim.url = env "SIM_URL"
sim.https_url = env "SIM_HTTPS_URL"
sim.ca = env "SIM_CA"
sim.key = env "SIM_KEY"
sim.session_key = env "SIM_SESSION_KEY"
sim.dir = os.getenv "SIM_DIR"

local tointeger = math.tointeger
local function integers(v)
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = integers(x) end
  elseif type(v) == "number" and tointeger then
    return tointeger(v) or v
  end
  return v
end

function sim.decode(text)
  if type(text) ~= "string" then return nil end
  local v = cjson.decode(text)
  return integers(v)
end

local function encode_component(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end
sim.encode = encode_component

-- query: a string, {name = value} (sent in name order) or {{name, value}, ...} (in order)
local function query_string(q)
  if q == nil then return nil end
  if type(q) == "string" then return q end
  local pairs_list = {}
  if q[1] ~= nil then
    pairs_list = q
  else
    local names = {}
    for k in pairs(q) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do pairs_list[#pairs_list + 1] = {k, q[k]} end
  end
  local out = {}
  for _, p in ipairs(pairs_list) do
    out[#out + 1] = encode_component(p[1]) .. "=" .. encode_component(p[2])
  end
  return table.concat(out, "&")
end

-- One HTTP request (a new connection each time). Returns status, body, headers
-- (lower-case names) or nil, err when the connection failed.
function sim.request(method, path, opts)
  opts = opts or {}
  local url = path:match("^https?://") and path or (sim.url .. path)
  local qs = query_string(opts.query)
  if qs and qs ~= "" then url = url .. (url:find("?", 1, true) and "&" or "?") .. qs end
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k:lower()] = v end
  local body = opts.body
  if type(body) == "table" then
    body = assert(cjson.encode(body))
    headers["content-type"] = headers["content-type"] or "application/json"
  end
  if body then headers["content-length"] = tostring(#body) end
  local chunks = {}
  local ok, status, resp_headers = http.request{
    url = url, method = method, headers = headers,
    source = body and ltn12.source.string(body) or nil, sink = ltn12.sink.table(chunks),
  }
  if not ok then return nil, status end
  return status, table.concat(chunks), resp_headers or {}
end

-- GET path?query with optional headers: status, decoded JSON (nil if not JSON), body, headers.
function sim.get(path, query, headers)
  local status, body, h = sim.request("GET", path, {query = query, headers = headers})
  if not status then return nil, body end
  return status, sim.decode(body), body, h
end

function sim.get_keyed(path, params, headers)
  params = params or {}
  if params.key == nil then params.key = sim.key end
  if params.key == false then params.key = nil end
  local status, doc, body, h = sim.get(path, params, headers)
  assert(status, doc)
  return status, doc, body, h
end

local function control(method, path, body)
  local status, text = sim.request(method, path, {body = body})
  if not status then
    error(("bingsim %s %s: %s (is the emulator running at %s?)"):format(method, path,
      tostring(text), sim.url), 3)
  end
  local v = sim.decode(text)
  if status ~= 200 then
    error(("bingsim %s %s: HTTP %s: %s"):format(method, path, tostring(status),
      type(v) == "table" and tostring(v.error) or tostring(text)), 3)
  end
  return v
end

function sim.log(since)
  if since then return control("GET", ("/_sim/log?since=%d"):format(math.floor(since))) end
  return control("GET", "/_sim/log")
end

function sim.last_request() return control("GET", "/_sim/log?last=1")[1] end

function sim.reset() return control("POST", "/_sim/reset") end

function sim.fault(t)
  if type(t) ~= "table" then t = {fault = tostring(t)} end
  return control("POST", "/_sim/fault", t).fault
end

function sim.faults() return control("GET", "/_sim/faults") end
function sim.clear_faults() return control("DELETE", "/_sim/faults") end
function sim.ledger() return control("GET", "/_sim/ledger") end
function sim.rules() return control("GET", "/_sim/rules") end
function sim.health() return control("GET", "/_sim/health") end

-- sim.keys, sim.session_keys, sim.labels: fetched from the emulator on first use.
local function load_keys()
  local keys, sessions, labels = {}, {}, {}
  for _, k in ipairs(control("GET", "/_sim/keys").keys) do
    labels[k.key] = k.label
    if k.kind == "key" and k.key ~= sim.key then keys[#keys + 1] = k.key end
    if k.kind == "session" and k.key ~= sim.session_key then sessions[#sessions + 1] = k.key end
  end
  rawset(sim, "keys", keys)
  rawset(sim, "session_keys", sessions)
  rawset(sim, "labels", labels)
end
setmetatable(sim, {__index = function(t, name)
  if name == "keys" or name == "session_keys" or name == "labels" then
    load_keys()
    return rawget(t, name)
  end
end})

function sim.poll(fn, timeout, interval)
  local deadline = socket.gettime() + (timeout or 5)
  repeat
    local v = fn()
    if v then return v end
    socket.sleep(interval or 0.02)
  until socket.gettime() > deadline
  error("sim.poll: condition not met within " .. tostring(timeout or 5) .. " s", 2)
end

-- Waits until every logged request has its answer (a delayed request the client gave up
-- on is still running on the server).
function sim.settle(timeout)
  return sim.poll(function()
    for _, e in ipairs(sim.log()) do
      if not e.done then return false end
    end
    return true
  end, timeout)
end

function sim.last_id()
  local last = sim.last_request()
  return last and last.id or 0
end

function sim.entries(path, since)
  local out = {}
  for _, e in ipairs(sim.log(since)) do
    if e.path == path then out[#out + 1] = e end
  end
  return out
end

function sim.peak(list)
  local ev = {}
  for _, e in ipairs(list) do
    ev[#ev + 1] = {e.time, 1}
    ev[#ev + 1] = {e.done, -1}
  end
  table.sort(ev, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  local n, top = 0, 0
  for _, x in ipairs(ev) do
    n = n + x[2]
    if n > top then top = n end
  end
  return top
end

-- The client under test, on the emulator. Only these helpers load the library: the rest of
-- this module talks to the emulator without it.
function sim.client(opts)
  opts = opts or {}
  if opts.key == nil and opts.session_key == nil then opts.key = sim.key end
  if opts.base_url == nil then opts.base_url = sim.url end
  return require("bing").new(opts)
end

function sim.sds_client(opts, job_delay)
  opts = opts or {}
  opts.sds_url, opts.geodata_url = sim.url, sim.url
  if job_delay ~= nil and opts.headers == nil then
    opts.headers = {["X-Bingsim-Job-Delay"] = tostring(job_delay)}
  end
  return sim.client(opts)
end

function sim.assert_refused(fn, pattern)
  local luassert = require "luassert"
  local since = sim.last_id()
  local res, err = fn()
  luassert.is_nil(res)
  luassert.is_table(err)
  luassert.equal("argument", err.kind)
  if pattern then luassert.matches(pattern, err.message) end
  luassert.equal(0, #sim.log(since))
  return err
end

sim.MISSING = "This parameter is missing or invalid."
sim.NOT_VALID = "This parameter value is not valid."
sim.OUT_OF_RANGE = "This parameter value is out of range."

function sim.assert_invalid(doc, name, problem)
  local luassert = require "luassert"
  luassert.equal(400, doc.statusCode)
  luassert.same({"One or more parameters are not valid.", name .. ": " .. problem},
    doc.errorDetails)
end

-- For job waits: records what the client asked to sleep, and sleeps a little instead.
function sim.fast_clock(sleeps)
  return {now = socket.gettime, sleep = function(s)
    sleeps[#sleeps + 1] = s
    socket.sleep(0.1)
  end}
end

-- A raw HTTP/1.1 connection that stays open between requests (keep-alive), for specs of
-- the transport itself: conn:request(method, path, headers, body) -> resp | nil, err where
-- resp = {status, headers, body, truncated = bool, expected = n}; conn:close().
function sim.connect(url)
  local host, port = (url or sim.url):match("^http://([^:/]+):(%d+)")
  assert(host, "sim.connect: needs an http:// URL")
  local c = assert(socket.tcp())
  c:settimeout(10)
  assert(c:connect(host, tonumber(port)))
  local conn = {sock = c}
  function conn.request(_, method, path, headers, body)
    local lines = {("%s %s HTTP/1.1"):format(method, path), "Host: " .. host .. ":" .. port}
    for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
    if body then lines[#lines + 1] = "Content-Length: " .. #body end
    local ok, err = c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or ""))
    if not ok then return nil, err end
    local status_line, serr = c:receive("*l")
    if not status_line then return nil, serr end
    local resp = {status = tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)")), headers = {}}
    while true do
      local line, herr = c:receive("*l")
      if not line then return nil, herr end
      if line == "" then break end
      local k, v = line:match("^([^:]+):%s*(.-)%s*$")
      if k then resp.headers[k:lower()] = v end
    end
    local len = tonumber(resp.headers["content-length"])
    if len then
      local data, rerr, partial = c:receive(len)
      if data then
        resp.body = data
      else
        resp.body, resp.truncated, resp.expected, resp.err = partial or "", true, len, rerr
      end
    elseif (resp.headers["transfer-encoding"] or ""):lower() == "chunked" then
      local parts = {}
      while true do
        local size_line = c:receive("*l")
        local size = size_line and tonumber(size_line:match("^(%x+)"), 16)
        if not size then resp.truncated = true; break end
        if size == 0 then c:receive("*l"); break end
        local chunk = c:receive(size)
        if not chunk then resp.truncated = true; break end
        parts[#parts + 1] = chunk
        c:receive("*l")
      end
      resp.body = table.concat(parts)
    end
    return resp
  end
  function conn.close() c:close() end
  return conn
end

return sim
