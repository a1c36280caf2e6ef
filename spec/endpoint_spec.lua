-- The endpoint layer (bing.endpoint, bing.check): what every family gets from it.
local bing = require "bing"
local sim = require "support.sim"
local check = require "bing.check"

local function client(opts)
  opts = opts or {}
  opts.key = opts.key or sim.key
  opts.base_url = opts.base_url or sim.url
  return bing.new(opts)
end

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
