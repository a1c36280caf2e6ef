-- The endpoint layer (bing.endpoint, bing.check): what every family gets from it.
local bing = require "bing"
local sim = require "support.sim"
local check = require "bing.check"

local client = sim.client

local function last_id()
  local log = sim.log()
  return log[#log] and log[#log].id or 0
end

-- A result object read as a point through its :latlon() (a Location of locations.find).
local function located(lat, lon)
  return setmetatable({name = "somewhere"}, {__index = {latlon = function() return lat, lon end}})
end

describe("the URL limit (2083 characters, key included)", function()
  it("refuses a GET past it before sending, naming the call, when the API has no POST form", function()
    local c = client()
    local since = last_id()
    local locs, err = c.locations.find{q = string.rep("a", 100 * 1024)}
    assert.is_nil(locs)
    assert.equal("argument", err.kind)
    assert.matches("^locations.find: the request URL would be %d+ characters, more than the 2083",
      err.message)
    assert.equal(since, last_id())
    local long = {}
    for i = 1, 25 do long[i] = string.rep("Main Street ", 8) .. i end
    local routes, rerr = c.routes.calc{waypoints = long}
    assert.is_nil(routes)
    assert.matches("^routes.calc: the request URL would be", rerr.message)
    assert.equal(since, last_id())
  end)

  it("counts the key as sent: a URL that fits with a short key is refused with a long one", function()
    local q = string.rep("b", 2000)
    local short = bing.new{key = "k", base_url = "http://127.0.0.1:9"}
    assert.equal("GET", short.locations.find{q = q, dry_run = true}.method)
    local long = bing.new{key = string.rep("K", 100), base_url = "http://127.0.0.1:9"}
    local _, err = long.locations.find{q = q, dry_run = true}
    assert.equal("argument", err.kind)
    assert.is_nil(tostring(err):find(string.rep("K", 100), 1, true))
  end)
end)

describe("one point reader everywhere", function()
  it("takes a result object with :latlon() in locations.find, recognize and local_search", function()
    local c = client()
    assert(c.locations.find{point = located(47.64054, -122.12934)})
    assert.equal("/REST/v1/Locations/47.64054,-122.12934", sim.last_request().path)
    assert(c.locations.recognize{point = located(47.640068, -122.12986)})
    assert.equal("/REST/v1/LocationRecog/47.640068,-122.12986", sim.last_request().path)
    assert(c.locations.local_search{query = "coffee", userLocation = located(47.602038, -122.333964)})
    assert.equal("47.602038,-122.333964", sim.last_request().query.userLocation)
    local loc = assert(c.locations.find{q = "Space Needle"})[1]
    assert(c.locations.find{point = loc})
    local lat, lon = loc:latlon()
    assert.equal(check.coord(lat) .. "," .. check.coord(lon), sim.last_request().path:match("[^/]+$"))
  end)

  it("reads every accepted form the same way", function()
    local forms = {{47.6, -122.3}, {lat = 47.6, lon = -122.3}, {latitude = 47.6, longitude = -122.3},
                   {type = "Point", coordinates = {47.6, -122.3}}, {point = {coordinates = {47.6, -122.3}}},
                   located(47.6, -122.3)}
    for _, p in ipairs(forms) do assert.equal("47.6,-122.3", (check.point("t", "p", p))) end
  end)
end)

describe("client:job(id, kind)", function()
  insulate("in a process that has not used the family", function()
    it("resumes any kind without its family being required first", function()
      for name in pairs(package.loaded) do
        if name:match("^bing") and name ~= "bing.core" then package.loaded[name] = nil end
      end
      local fresh = require "bing"
      assert.is_nil(package.loaded["bing.api.routes"])
      local c = fresh.new{key = sim.key, base_url = sim.url}
      local job = c:job("00000000-0000-0000-0000-000000000000", "DistanceMatrixAsync")
      assert.equal("matrix", job.kind)
      assert.has_error(function() c:job("x", "nonsense") end)
    end)
  end)
end)

describe("job:wait options", function()
  it("gives an argument error object for a bad value, not a plain string", function()
    local job = client():job("00000000-0000-0000-0000-000000000000", "snap")
    for _, opts in ipairs{{timeout = "x"}, {interval = {}}, {on_progress = 1}, {timeout = 0 / 0}} do
      local ok, err = pcall(job.wait, job, opts)
      assert.is_false(ok)
      assert.equal("argument", err.kind)
      assert.matches("endpoint_spec.lua:%d+: job:wait: [%a_]+ must be a", err.message)
    end
  end)
end)

describe("the URL limit decided by a bound, the built length past it", function()
  local endpoint = require "bing.endpoint"

  -- Seeded: a failure names the seed and the case, and repeats.
  local SEED = 20261130
  local rnd = math.random

  local function bytes(n, lo, hi)
    local t = {}
    for i = 1, n do t[i] = string.char(rnd(lo or 0, hi or 255)) end
    return table.concat(t)
  end

  -- Text as users give it: plain words, spaces and punctuation, or any byte at all.
  local function text(min)
    local pick = rnd(1, 4)
    local n = rnd(min or 0, 40)
    if pick == 1 then return bytes(n, 0, 255) end
    if pick == 2 then return bytes(n, 32, 126) end
    if pick == 3 then return bytes(n, 97, 122) end
    local words = {"Main Street", "1 Microsoft Way", "47.64,-122.13", "a+b", "~x_y.z", "Köln", "é"}
    return words[rnd(#words)] .. bytes(rnd(0, 3), 33, 126)
  end

  local function number()
    local pick = rnd(1, 6)
    if pick == 1 then return rnd(-100000, 100000) end
    if pick == 2 then return rnd(-2 ^ 31, 2 ^ 31) * 2 ^ rnd(0, 30) end
    if pick == 3 then return (rnd() - 0.5) * 10 ^ rnd(-30, 30) end
    if pick == 4 then return rnd(-1000, 1000) + 0.0 end
    if pick == 5 then return (rnd() > 0.5 and -1 or 1) * 2 ^ rnd(40, 70) end
    local specials = {0, -0.0, 0.1, 1 / 3, 1e15, 1e16, 123456789012345678, -1e-300, 2 ^ 53, 2 ^ 53 + 2}
    return specials[rnd(#specials)]
  end

  local function value()
    local pick = rnd(1, 5)
    if pick <= 2 then return text() end
    if pick == 3 then return number() end
    if pick == 4 then return rnd() > 0.5 end
    return nil
  end

  local NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
  local function name()
    local t = {}
    for i = 1, rnd(1, 12) do
      local k = rnd(#NAME_CHARS)
      t[i] = NAME_CHARS:sub(k, k)
    end
    local n = table.concat(t)
    return n:lower() == "key" and "keys" or n
  end

  local function segment()
    if rnd() < 0.3 then return number() end
    local s = text(1)
    return (s == "." or s == "..") and "..." or s
  end

  local function random_spec()
    local paths = {"/REST/v1/Locations", "/REST/v1/Routes/Driving", "REST/v1/x", "", "/", "//a/",
                   "/" .. bytes(rnd(0, 20), 33, 126):gsub("[?#]", "")}
    local apis = {"rest", "sds", "geodata"}
    local spec = {api = rnd() < 0.5 and apis[rnd(#apis)] or nil, path = paths[rnd(#paths)],
                  keyless = rnd() < 0.1 or nil}
    if rnd() < 0.5 then
      spec.segments = {}
      for i = 1, rnd(0, 4) do spec.segments[i] = segment() end
    end
    if rnd() < 0.9 then
      spec.params = {}
      for i = 1, rnd(0, 12) do spec.params[i] = {name(), value()} end
    end
    return spec
  end

  local function random_client()
    local key
    local pick = rnd(1, 4)
    if pick == 1 then key = bytes(64, 48, 122) elseif pick == 2 then key = text(1) elseif pick == 3 then
      key = string.rep("K", rnd(1, 200))
    end
    local slashes = string.rep("/", rnd(0, 2))
    local opts = {base_url = "http://127.0.0.1:9" .. (rnd() < 0.3 and "/base" or "") .. slashes,
                  sds_url = "https://spatial.example" .. slashes, geodata_url = "https://g.example/x",
                  transport = function() end}
    if key and rnd() < 0.2 then opts.session_key = key else opts.key = key end
    if not key then opts.key = "" end -- never BING_MAPS_KEY from the environment
    return bing.new(opts)
  end

  it("bounds the URL as built and sent (key included) from above, over random inputs", function()
    math.randomseed(SEED)
    local clients = {}
    for i = 1, 12 do clients[i] = random_client() end
    for case = 1, 3000 do
      local c = clients[rnd(#clients)]
      local spec = random_spec()
      local bound = endpoint.url_length_bound(c, spec)
      local built = c:url_length(spec)
      -- (Only the rest and sds bases are bounded: another api is measured on its URL.)
      if spec.api == "geodata" then
        assert.is_nil(bound)
      elseif not bound or bound < built then
        error(string.format("seed %d case %d: bound %s, built %d for %s", SEED, case, tostring(bound),
          built, require("cjson").encode(spec)))
      end
      assert.equal(built, endpoint.url_length(c, spec))
    end
  end)

  it("decides as the built URL's length does, around the limit", function()
    math.randomseed(SEED + 1)
    local limit = endpoint.URL_LIMIT
    local c = bing.new{key = string.rep("k", 64), base_url = "http://127.0.0.1:9", transport = function() end}
    local near, long = 0, 0
    for case = 1, 1500 do
      local spec = random_spec()
      spec.params = spec.params or {}
      -- A value that brings the URL to within a few hundred bytes of the limit, either side.
      local room = limit - c:url_length(spec) - 12
      local filler = rnd() < 0.5 and string.rep("a", math.max(0, room + rnd(-300, 300)))
        or string.rep(" ", math.max(0, math.floor((room + rnd(-300, 300)) / 3)))
      table.insert(spec.params, rnd(1, #spec.params + 1), {"fill", filler})
      local built = c:url_length(spec)
      local want = built > limit
      if math.abs(built - limit) <= 300 then near = near + 1 end
      if want then long = long + 1 end
      if endpoint.too_long(c, spec) ~= want then
        error(string.format("seed %d case %d: built %d, too_long %s", SEED + 1, case, built,
          tostring(endpoint.too_long(c, spec))))
      end
    end
    assert.is_true(near > 1000 and long > 300 and long < 1200)
  end)

  it("leaves what build_url refuses to build_url, which raises as before", function()
    local c = bing.new{key = "k", transport = function() end}
    local refused = {
      {path = "/x", segments = {".."}}, {path = "/x", segments = {""}}, {path = "/x", segments = {true}},
      {path = "/x", segments = {{}}}, {path = "/x", params = {{"key", "v"}}},
      {path = "/x", params = {{"a b", "v"}}}, {path = "/x", params = {{"n", 0 / 0}}},
      {path = "/x", params = {{"n", math.huge}}}, {path = "/x", params = {{"n", {}}}},
      {path = "/x", params = {"n"}}, {path = "/x?y"}, {path = "/x", segments = "s"},
    }
    for _, spec in ipairs(refused) do
      local ok1, e1 = pcall(c.url_length, c, spec)
      local ok2, e2 = pcall(endpoint.url_length, c, spec)
      assert.is_false(ok1)
      assert.same({ok1, e1}, {ok2, e2})
      -- The limit is not the place that refuses them: the call that builds the URL is.
      -- (The reason in parentheses: LuaJIT names the function by its call site.)
      local reason = e1:match("%((.*)%)$")
      local ok3, e3 = pcall(endpoint.too_long, c, spec)
      if not ok3 then assert.equal(reason, e3:match("%((.*)%)$")) end
      local ok4, e4 = pcall(c.call, c, {path = spec.path, segments = spec.segments, params = spec.params,
                                        billing = false, dry_run = true})
      assert.is_false(ok4)
      assert.equal(reason, e4:match("%((.*)%)$"))
    end
  end)
end)

describe("options given through a table with metamethods", function()
  -- (__pairs is Lua 5.2+; LuaJIT's pairs ignores it.)
  local has_pairs_mm = _VERSION ~= "Lua 5.1"

  local function proxy(t)
    return setmetatable({}, {__index = t, __pairs = function() return next, t, nil end})
  end

  it("reads them through __index, and refuses an unknown one that __pairs lists", function()
    if not has_pairs_mm then return end
    local c = bing.new{key = "k", base_url = "http://127.0.0.1:9", transport = function() end}
    local plan = c.locations.find(proxy{q = "Tower of London", maxResults = 3, dry_run = true})
    assert.matches("q=Tower%%20of%%20London&maxResults=3&key=<redacted>$", plan.url)
    local ok, err = pcall(c.locations.find, proxy{q = "x", colour = "red"})
    assert.is_false(ok)
    assert.matches("locations.find: unknown option 'colour'", err.message)
  end)
end)
