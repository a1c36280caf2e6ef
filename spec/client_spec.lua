-- The client and its pipeline, driven through a Lua transport: no server needed.
local bing = require "bing"
local cjson = require "cjson"

local KEY = "SecretKey-abc123XYZ"

local OK_BODY = cjson.encode{
  authenticationResultCode = "ValidCredentials", statusCode = 200, statusDescription = "OK",
  traceId = "trace-1", copyright = "Copyright", brandLogoUri = "http://x/logo.png",
  resourceSets = {{estimatedTotal = 1, resources = {{
    __type = "Location:http://schemas.microsoft.com/search/local/ws/rest/v1",
    name = "Seattle, WA", point = {type = "Point", coordinates = {47.6, -122.3}},
  }}}},
}

-- A transport that records requests and answers from a list of responses.
local function scripted(responses)
  local t = {requests = {}}
  local i = 0
  t.fn = function(req)
    t.requests[#t.requests + 1] = req
    i = i + 1
    local r = responses[math.min(i, #responses)]
    if type(r) == "function" then return r(req) end
    return r
  end
  return t
end

local function ok_response()
  return {status = 200, headers = {["content-type"] = "application/json"}, body = OK_BODY}
end

local fake_clock = require "support.fake_clock"

local function contains_key(v, seen)
  seen = seen or {}
  if type(v) == "string" then return v:find(KEY, 1, true) ~= nil end
  if type(v) ~= "table" or seen[v] then return false end
  seen[v] = true
  for k, x in pairs(v) do
    if contains_key(k, seen) or contains_key(x, seen) then return true end
  end
  return false
end

describe("bing.new", function()
  it("rejects unknown options and wrong types with an argument error", function()
    local ok, err = pcall(bing.new, {kye = "x"})
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.matches("unknown option 'kye'", err.message)
    ok, err = pcall(bing.new, {timeout = "10"})
    assert.is_false(ok)
    assert.matches("timeout", tostring(err))
  end)

  it("rejects an account it does not know and matrix_limits it cannot use", function()
    -- A typo would silently give the Basic limits.
    for _, opts in ipairs{{account = "enterprize"}, {account = "premium"},
                          {matrix_limits = {drving = 100}}, {matrix_limits = {driving = "100"}},
                          {matrix_limits = {walking = 0}}, {matrix_limits = {async = 1.5}}} do
      local ok, err = pcall(bing.new, opts)
      assert.is_false(ok)
      assert.equal("argument", err.kind)
    end
    for _, opts in ipairs{{account = "basic"}, {account = "Enterprise"},
                          {matrix_limits = {driving = 100, walking = 50, async = 4000}}} do
      assert.has_no_error(function() bing.new(opts) end)
    end
  end)

  -- os.getenv cannot be changed from Lua: these run a child lua5.4 with its own environment.
  local function child(env, code)
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(code)
    f:close()
    -- The interpreter the suite runs under: the C core on LUA_CPATH is built for it.
    local lua = rawget(_G, "jit") and "luajit" or "lua5.4"
    local p = assert(io.popen(env .. " " .. lua .. " " .. script .. " 2>&1"))
    local out = p:read("a")
    p:close()
    os.remove(script)
    return out
  end
  local PRELUDE = [[
    local bing = require "bing"
    local sent = {}
    local c = bing.new{transport = function(req)
      sent[#sent + 1] = req.url
      return {status = 200, headers = {}, body = '{"statusCode":200,"resourceSets":[]}'}
    end}
    local locs, err = c.locations.find{q = "Seattle"}
  ]]

  it("takes the key from BING_MAPS_KEY when none is given", function()
    local out = child("BING_MAPS_KEY=env-key-42", PRELUDE .. [[ print(#sent, sent[1]) ]])
    assert.equal("1\thttps://dev.virtualearth.net/REST/v1/Locations?q=Seattle&key=env-key-42\n", out)
  end)

  it("fails with kind auth, before sending, when there are no credentials", function()
    local out = child("env -u BING_MAPS_KEY", PRELUDE .. [[ print(#sent, locs, err.kind, err.code) ]])
    assert.equal("0\tnil\tauth\tNoCredentials\n", out)
  end)

  it("never shows the key when the client is printed or dumped", function()
    local c = bing.new{key = KEY, transport = scripted{ok_response()}.fn}
    assert.is_false(contains_key(c))
    assert.is_nil(tostring(c):find(KEY, 1, true))
  end)
end)

describe("client:call", function()
  it("builds the URL with the key last and decodes the envelope", function()
    local t = scripted{ok_response()}
    local c = bing.new{key = KEY, transport = t.fn, base_url = "http://sim.test"}
    local doc, meta = c:call{path = "/REST/v1/Locations", params = {{"q", "a b&c=d"}},
                             billing = "RestLocations-Unstructured"}
    assert.is_table(doc)
    assert.equal("http://sim.test/REST/v1/Locations?q=a%20b%26c%3Dd&key=" .. KEY, t.requests[1].url)
    assert.equal("GET", t.requests[1].method)
    assert.equal("trace-1", meta.trace_id)
    assert.equal(1, meta.estimated_total)
    assert.equal(1, meta.attempts)
    assert.equal("http://sim.test/REST/v1/Locations?q=a%20b%26c%3Dd&key=<redacted>", meta.url)
    assert.same({category = "RestLocations-Unstructured", billable = true, transactions = 1},
      meta.billing)
  end)

  it("sends a table body as JSON with a Content-Type", function()
    local t = scripted{ok_response()}
    local c = bing.new{key = KEY, transport = t.fn}
    assert(c:call{path = "/REST/v1/Routes/DistanceMatrix", method = "POST",
                  body = {origins = {{latitude = 1, longitude = 2}}}, billing = "RESTRoutes"})
    assert.equal("POST", t.requests[1].method)
    assert.equal("application/json", t.requests[1].headers["Content-Type"])
    assert.same({origins = {{latitude = 1, longitude = 2}}}, cjson.decode(t.requests[1].body))
  end)

  it("returns the estimate without sending on dry_run", function()
    local t = scripted{ok_response()}
    local c = bing.new{key = KEY, transport = t.fn}
    local est = assert(c:call{path = "/REST/v1/Locations", params = {{"q", "x"}},
                              billing = "RestLocations-Unstructured", dry_run = true})
    assert.is_true(est.dry_run)
    assert.equal(1, est.billing.transactions)
    assert.equal(0, #t.requests)
    assert.is_nil(est.url:find(KEY, 1, true))
  end)

  it("client:url() names the URL a spec goes to, as call sends it, key redacted", function()
    local c = bing.new{key = KEY, transport = scripted{ok_response()}.fn, base_url = "http://sim.test"}
    assert.equal("http://sim.test/REST/v1/Locations?q=x&key=<redacted>",
      c:url{path = "/REST/v1/Locations", params = {{"q", "x"}}, billing = "RESTRoutes"})
    -- A job's result on another host goes as the service gave it, without the key; the
    -- shown URL hides its signature, the length is the one sent.
    local blob = {url = "https://blob.example/finalresults/1?sv=1&sig=abc", keyless = true,
                  billing = false}
    assert.equal("https://blob.example/finalresults/1?sv=1&sig=<redacted>", c:url(blob))
    assert.equal(#blob.url, c:url_length(blob))
  end)

  it("reads the envelope's fields when they are JSON null (lua-cjson's null)", function()
    for _, body in ipairs{
      '{"statusCode":200,"traceId":null,"copyright":null,"resourceSets":[]}',
      '{"statusCode":200,"traceId":"t","resourceSets":[{"estimatedTotal":null,"resources":[]}]}',
    } do
      local c = bing.new{key = KEY, transport = scripted{{status = 200, headers = {}, body = body}}.fn}
      local ok, doc, meta = pcall(c.call, c, {path = "/REST/v1/Locations", billing = "RESTRoutes"})
      assert.is_true(ok, doc)
      assert.is_table(doc, body)
      assert.is_nil(meta.estimated_total, body)
      assert.is_true(meta.trace_id == nil or meta.trace_id == "t", body)
      assert.is_nil(meta.copyright, body)
    end
    local locs = assert(bing.new{key = KEY, transport = scripted{{status = 200, headers = {},
      body = '{"statusCode":200,"resourceSets":[]}'}}.fn}.locations.find{q = "x"})
    assert.equal(0, #locs)
  end)

  -- A proxy's {} must not read as "nothing found" (issue 8): an envelope whose resourceSets is
  -- null, or holds a null set, is no answer of the service.
  it("refuses a 200 whose resourceSets is null or holds a null set, as kind decode", function()
    for body, why in pairs{
      ['{"statusCode":200,"traceId":null,"copyright":null,"resourceSets":null}'] =
        "resourceSets is null",
      ['{"statusCode":200,"traceId":"t","resourceSets":[null]}'] =
        "resourceSets[1] has no resources list",
      ["{}"] = "no resourceSets",
    } do
      local c = bing.new{key = KEY, retry = false,
        transport = scripted{{status = 200, headers = {}, body = body}}.fn}
      local doc, err = c.locations.find{q = "x"}
      assert.is_nil(doc, body)
      assert.equal("decode", err.kind)
      assert.equal("HTTP 200 answer is not a REST envelope: " .. why, err.message)
    end
  end)
end)

describe("errors through the pipeline", function()
  local cases = {
    {name = "401", resp = {status = 401, headers = {}, body = cjson.encode{
      authenticationResultCode = "InvalidCredentials", statusCode = 401,
      statusDescription = "Unauthorized", errorDetails = {"Access was denied for key=" .. KEY},
      resourceSets = {}, traceId = "t401"}}, kind = "auth"},
    {name = "400", resp = {status = 400, headers = {}, body = cjson.encode{
      statusCode = 400, statusDescription = "Bad Request",
      errorDetails = {"One or more parameters are not valid.", "q: " .. KEY}}}, kind = "http"},
    {name = "429", resp = {status = 429, headers = {["retry-after"] = "0"}, body = "{}"},
     kind = "throttled"},
    {name = "HTML 502", resp = {status = 502, headers = {["content-type"] = "text/html"},
      body = "<html>bad gateway " .. KEY .. "</html>"}, kind = "http"},
    {name = "malformed JSON", resp = {status = 200, headers = {}, body = "{\"a\": [1, 2"},
     kind = "decode"},
    {name = "throttled-empty", resp = {status = 200, headers = {["x-ms-bm-ws-info"] = "1"},
      body = cjson.encode{statusCode = 200, resourceSets = {{estimatedTotal = 0, resources = {}}}}},
     kind = "throttled"},
    {name = "transport", fail = {"transport", "could not connect to http://h/?key=" .. KEY},
     kind = "transport"},
    {name = "timeout", fail = {"timeout", "timed out after 1000 ms: http://h/?key=" .. KEY},
     kind = "timeout"},
  }
  for _, case in ipairs(cases) do
    it("gives kind " .. case.kind .. " for " .. case.name .. " and never the key", function()
      local errors = require "bing.errors"
      local fn
      if case.fail then
        fn = function()
          return nil, errors.new(case.fail[1], case.fail[2]:gsub("key=[^&]*", "key=<redacted>"),
            {retryable = true})
        end
      else
        fn = function() return case.resp end
      end
      local c = bing.new{key = KEY, transport = fn, retry = false}
      local locs, err = c.locations.find{q = "Seattle"}
      assert.is_nil(locs)
      assert.equal(case.kind, err.kind)
      assert.equal(1, err.attempts)
      assert.is_nil(tostring(err):find(KEY, 1, true))
      assert.is_false(contains_key(err))
    end)
  end
end)

describe("retries", function()
  it("retries a 429, obeying Retry-After, then succeeds", function()
    local t = scripted{{status = 429, headers = {["retry-after"] = "3"}, body = "{}"}, ok_response()}
    local clock = fake_clock()
    local c = bing.new{key = KEY, transport = t.fn, clock = clock}
    local locs = assert(c.locations.find{q = "Seattle"})
    assert.equal(2, #t.requests)
    assert.same({3}, clock.sleeps)
    assert.equal(2, locs.meta.attempts)
  end)

  it("never retries a 400", function()
    local t = scripted{{status = 400, headers = {}, body = "{}"}, ok_response()}
    local c = bing.new{key = KEY, transport = t.fn, clock = fake_clock()}
    local _, err = c.locations.find{q = "Seattle"}
    assert.equal(1, #t.requests)
    assert.equal("http", err.kind)
  end)

  it("calls on_retry under pcall: a failing hook does not break the request", function()
    local t = scripted{{status = 503, headers = {}, body = "{}"}, ok_response()}
    local seen = {}
    local c = bing.new{key = KEY, transport = t.fn, clock = fake_clock(), retry = {
      jitter = false, base = 0.25,
      on_retry = function(info) seen[#seen + 1] = info.attempt; error("hook broke") end}}
    local locs = assert(c.locations.find{q = "Seattle"})
    assert.same({1}, seen)
    assert.equal(2, locs.meta.attempts)
  end)

  it("gives up at the deadline instead of sleeping past it", function()
    local t = scripted{{status = 429, headers = {["retry-after"] = "50"}, body = "{}"}}
    local clock = fake_clock()
    local c = bing.new{key = KEY, transport = t.fn, clock = clock, retry = {deadline = 10}}
    local _, err = c.locations.find{q = "Seattle"}
    assert.equal("throttled", err.kind)
    assert.equal(1, #t.requests)
    assert.same({}, clock.sleeps)
  end)
end)

describe("qps", function()
  it("spaces requests 1/qps apart", function()
    local t = scripted{ok_response()}
    local clock = fake_clock()
    local stamps = {}
    local fn = function(req)
      stamps[#stamps + 1] = clock.t
      return t.fn(req)
    end
    local c = bing.new{key = KEY, transport = fn, clock = clock, qps = 4}
    for _ = 1, 5 do assert(c.locations.find{q = "Seattle"}) end
    assert.same({0, 0.25, 0.5, 0.75, 1.0}, stamps)
  end)
end)

describe("budget", function()
  it("refuses before sending a call that would pass the budget", function()
    local t = scripted{ok_response()}
    local c = bing.new{key = KEY, transport = t.fn, budget = {billable = 2}}
    assert(c.locations.find{q = "a"})
    assert(c.locations.find{q = "b"})
    local locs, err = c.locations.find{q = "c"}
    assert.is_nil(locs)
    assert.equal("budget", err.kind)
    assert.equal(2, #t.requests)
    assert.equal(2, c:usage().billable)
  end)
end)

describe("a transport that raises", function()
  it("re-raises its error with the key redacted", function()
    local c = bing.new{key = KEY, transport = function(req) error("boom at " .. req.url, 0) end}
    local ok, msg = pcall(c.locations.find, {q = "Seattle"})
    assert.is_false(ok)
    assert.matches("boom at", msg)
    assert.is_nil(msg:find(KEY, 1, true))
  end)
end)

-- "file:line" of the line that calls here(): where an argument error must point.
local function here()
  local i = debug.getinfo(2, "Sl")
  return i.short_src .. ":" .. i.currentline
end

describe("argument errors", function()
  it("say the file:line of the bad call to bing.new, in the message and as err.where", function()
    local w, ok, err = here(), pcall(bing.new, {kye = "x"})
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.equal(w, err.where)
    assert.equal(w .. ": bing.new: unknown option 'kye'", err.message)
    assert.equal("bing: argument: " .. w .. ": bing.new: unknown option 'kye'", tostring(err))
    -- the same through a function of the user's own, one frame deeper
    local function make(o) return bing.new(o) end
    w, ok, err = here(), pcall(function() make{retry = {tries = 1}} end)
    assert.is_false(ok)
    assert.matches("^" .. w:gsub("%p", "%%%0") .. ": bing.new: unknown retry option", err.message)
  end)

  it("honour the level, as error() does, when raised from code outside the library", function()
    local errors = require "bing.errors"
    local function mine(x)
      if not x then errors.raise("mine: x is required", 2) end
    end
    local w, ok, err = here(), pcall(function() mine() end)
    assert.is_false(ok)
    assert.equal(w, err.where)
    assert.equal(w .. ": mine: x is required", err.message)
  end)

  it("say the file:line of the bad call to a family function", function()
    local c = bing.new{key = KEY, transport = function() error("nothing may be sent") end}
    local w, ok, err = here(), pcall(function() return c.locations.find{q = "x", maxResult = 5} end)
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.equal(w, err.where)
    assert.matches(w .. ": locations.find: unknown option 'maxResult'", err.message, 1, true)
    w, ok, err = here(), pcall(c.locations.find, {})
    assert.is_false(ok)
    assert.equal(w, err.where)
  end)
end)

describe("bing.new option values", function()
  -- name, options: each accepted before, then raised a plain string on first use (or turned
  -- the budget off)
  local BAD = {
    {"timeout -1", {timeout = -1}}, {"timeout 0", {timeout = 0}}, {"timeout NaN", {timeout = 0 / 0}},
    {"timeout inf", {timeout = math.huge}}, {"connect_timeout -5", {connect_timeout = -5}},
    {"max_size 0", {max_size = 0}}, {"max_size 1.5", {max_size = 1.5}},
    {"base_url empty", {base_url = ""}}, {"base_url with a query", {base_url = "http://h/?x=1"}},
    {"base_url with a fragment", {base_url = "http://h/#x"}}, {"base_url ftp", {base_url = "ftp://h"}},
    {"base_url without host", {base_url = "http://"}}, {"base_url with a space", {base_url = "http://h/a b"}},
    {"sds_url empty", {sds_url = ""}}, {"sds_url with a query", {sds_url = "http://h/?x=1"}},
    {"clock {}", {clock = {}}}, {"clock without sleep", {clock = {now = os.time}}},
    {"user_agent CR LF", {user_agent = "ua\r\nX-Injected: 1"}}, {"user_agent LF", {user_agent = "ua\nx"}},
    {"user_agent NUL", {user_agent = "ua\0x"}},
    {"header value CR LF", {headers = {["X-A"] = "v\r\nX-Injected: 1"}}},
    {"header value NUL", {headers = {["X-A"] = "v\0"}}},
    {"header name CR LF", {headers = {["X-A\r\nX-Injected"] = "v"}}},
    {"header name with a space", {headers = {["X A"] = "v"}}},
    {"header name empty", {headers = {[""] = "v"}}},
    {"header value not a string", {headers = {["X-A"] = 5}}},
    {"budget.billable NaN", {budget = {billable = 0 / 0}}},
    {"budget.billable inf", {budget = {billable = math.huge}}},
    {"budget.per_category NaN", {budget = {per_category = {RESTRoutes = 0 / 0}}}},
    {"budget.per_category inf", {budget = {per_category = {RESTRoutes = math.huge}}}},
  }
  for _, case in ipairs(BAD) do
    it("refuses " .. case[1] .. " with an argument error at the call", function()
      local o = {key = KEY}
      for k, v in pairs(case[2]) do o[k] = v end
      local w, ok, err = here(), pcall(bing.new, o)
      assert.is_false(ok)
      assert.equal("argument", err.kind)
      assert.equal(w, err.where)
      assert.is_nil(tostring(err):find("[\r\n%z]"))
    end)
  end

  it("takes the values that make sense", function()
    assert.has_no_error(function()
      bing.new{key = KEY, timeout = 0.5, connect_timeout = 1, max_size = 1, budget = {billable = 0},
               base_url = "http://127.0.0.1:8080/prefix/", sds_url = "https://h", clock = fake_clock(),
               user_agent = "my-app/1.0 (+https://example.org)", headers = {["X-Trace-Id"] = "a b;c"}}
    end)
  end)

  it("refuses a per-call timeout of 0 at the family call, before sending", function()
    local t = scripted{ok_response()}
    local c = bing.new{key = KEY, transport = t.fn}
    for _, v in ipairs{0, -1, 0 / 0} do
      local w, ok, err = here(), pcall(c.locations.find, {q = "Seattle", timeout = v})
      assert.is_false(ok)
      assert.equal("argument", err.kind)
      assert.equal(w, err.where)
      assert.matches("timeout", err.message, 1, true)
      w, ok, err = here(), pcall(c.call, c, {path = "/x", billing = "RESTRoutes", timeout = v})
      assert.is_false(ok)
      assert.equal(w, err.where)
    end
    assert.equal(0, #t.requests)
    assert(c.locations.find{q = "Seattle", timeout = 2})
    assert.equal(2, t.requests[1].timeout)
  end)

  it("defaults to an Enterprise account (Basic keys ended on 2025-06-30); basic is selectable", function()
    assert.equal("enterprise", bing.new{key = KEY}.account)
    assert.equal("basic", bing.new{key = KEY, account = "basic"}.account)
  end)
end)

describe("a transport that returns what is no answer", function()
  local GARBAGE = {
    {"a string", "hello"}, {"a number", 42}, {"true", true}, {"an empty table", {}},
    {"a string status", {status = "200", body = OK_BODY}},
    {"a status 200.5", {status = 200.5, body = OK_BODY}}, {"a status 42", {status = 42, body = OK_BODY}},
    {"headers as a string", {status = 200, headers = "x", body = OK_BODY}},
    {"a table body", {status = 200, headers = {}, body = {}}},
  }
  for _, case in ipairs(GARBAGE) do
    it("gives a transport error for " .. case[1] .. ", holding no budget", function()
      local n = 0
      local c = bing.new{key = KEY, budget = {billable = 1}, retry = false, transport = function()
        n = n + 1
        if n == 1 then return case[2] end
        return ok_response()
      end}
      local okc, doc, err = pcall(c.call, c, {path = "/x", billing = "RESTRoutes"})
      assert.is_true(okc, tostring(doc))
      assert.is_nil(doc)
      assert.equal("transport", err.kind)
      assert.equal("BadAnswer", err.code)
      assert.equal(1, err.attempts)
      assert.is_false(err.billing.billable)
      assert.equal(0, c.meter:in_flight().billable)
      assert(c:call{path = "/x", billing = "RESTRoutes"}) -- the budget of one is still there
    end)
  end

  it("says so when the transport gives neither an answer nor an error", function()
    local c = bing.new{key = KEY, retry = false, transport = function() return nil end}
    local _, err = c:call{path = "/x", billing = "RESTRoutes"}
    assert.equal("transport", err.kind)
    assert.equal("the transport returned neither an answer nor an error", err.message)
  end)

  it("gives a decode error, not a raise, when the decoder gives neither a document nor an error", function()
    local core = require "bing.core"
    local decode = core.decode
    core.decode = function() return nil, nil end
    local c = bing.new{key = KEY, budget = {billable = 1}, transport = scripted{ok_response()}.fn}
    local okc, doc, err = pcall(c.call, c, {path = "/x", billing = "RESTRoutes"})
    core.decode = decode
    assert.is_true(okc, tostring(doc))
    assert.equal("decode", err.kind)
    assert.equal(1, err.attempts)
    assert.equal(0, c.meter:in_flight().billable)
  end)

  it("turns a decoder that raises into a decode error, holding no budget", function()
    local core = require "bing.core"
    local decode = core.decode
    core.decode = function() error("decoder broke on key=" .. KEY, 0) end
    local c = bing.new{key = KEY, budget = {billable = 1}, transport = scripted{ok_response()}.fn}
    local okc, doc, err = pcall(c.call, c, {path = "/x", billing = "RESTRoutes"})
    core.decode = decode
    assert.is_true(okc, tostring(doc))
    assert.is_nil(doc)
    assert.equal("decode", err.kind)
    assert.equal("the answer could not be decoded: decoder broke on key=<redacted>", err.message)
    assert.equal(0, c.meter:in_flight().billable)
    assert(c:call{path = "/x", billing = "RESTRoutes"})
  end)
end)

describe("bing.configure", function()
  it("keeps the client an earlier call returned usable until it is collected", function()
    local t = scripted{ok_response()}
    local old = bing.configure{key = KEY, transport = t.fn}
    local new = bing.configure{key = KEY, transport = t.fn}
    assert.are_not.equal(old, new)
    assert.equal(new, bing.default())
    assert(old:call{path = "/x", billing = "RESTRoutes"})
    assert(new:call{path = "/x", billing = "RESTRoutes"})
    assert.equal(2, #t.requests)
    -- Nothing else keeps it: collected, its __gc closes its connections.
    local closed = 0
    rawset(old, "http", {close = function() closed = closed + 1 end})
    local weak = setmetatable({old}, {__mode = "v"})
    old = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
    -- (LuaJIT runs no __gc of a table: there the curl handle's own __gc closes it.)
    if not rawget(_G, "jit") then assert.equal(1, closed) end
  end)
end)
