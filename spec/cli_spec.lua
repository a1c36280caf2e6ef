-- The `bing` command end to end: bin/bing run as a subprocess against the emulator (every
-- command, every format, stdin lists, exit codes, the config file), and what it sent.
local sim = require "support.sim"
local cjson = require "cjson"

local LUA = rawget(_G, "jit") and "luajit" or "lua5.4"
local _ -- the outputs a test does not look at

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- A private HOME, config and state folder for every run of this file.
local home = os.tmpname()
os.remove(home)
assert(os.execute("mkdir -p " .. q(home) .. "/cfg/bing " .. q(home) .. "/state"))

-- Runs bin/bing with argv (a list); opts.stdin (text), opts.env ({NAME = value | false}),
-- opts.key (false: no BING_MAPS_KEY). Returns stdout, stderr, exit code.
local function bing(argv, opts)
  opts = opts or {}
  local env = {BING_MAPS_KEY = sim.key, BING_BASE_URL = sim.url, BING_SDS_URL = false,
               BING_TILE_TEMPLATE = false, HOME = home, XDG_CONFIG_HOME = home .. "/cfg",
               XDG_STATE_HOME = home .. "/state"}
  if opts.key == false then env.BING_MAPS_KEY = false end
  for k, v in pairs(opts.env or {}) do env[k] = v end
  -- env takes its -u options before the assignments
  local parts, sets = {"env"}, {}
  for k, v in pairs(env) do
    if v == false then parts[#parts + 1] = "-u " .. k else sets[#sets + 1] = k .. "=" .. q(v) end
  end
  for _, s in ipairs(sets) do parts[#parts + 1] = s end
  parts[#parts + 1] = LUA .. " bin/bing"
  for _, a in ipairs(argv) do parts[#parts + 1] = q(a) end
  local errf, inf = os.tmpname(), os.tmpname()
  spit(inf, opts.stdin or "")
  local cmd = table.concat(parts, " ") .. " <" .. q(inf) .. " 2>" .. q(errf) .. "; echo \"rc=$?\""
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  out = out:gsub("rc=%d+\n$", "")
  local err = slurp(errf)
  os.remove(errf)
  os.remove(inf)
  return out, err, rc
end

local function csv_rows(text)
  local rows = require("bing.api.sds_format").records(text, ",")
  local header = table.remove(rows, 1)
  local out = {}
  for i, r in ipairs(rows) do
    out[i] = {}
    for j, h in ipairs(header) do out[i][h] = r[j] end
  end
  return out, header
end

-- The table's lines, split on runs of two or more spaces.
local function table_rows(text)
  local rows = {}
  for line in text:gmatch("[^\n]+") do
    local cells = {}
    for c in (line .. "  "):gmatch("%s*(.-)%s%s+") do cells[#cells + 1] = c end
    rows[#rows + 1] = cells
  end
  return rows
end

local function no_key(...)
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    assert.is_nil(s:find(sim.key, 1, true), "the key was printed")
  end
end

local function paths(since)
  local list = {}
  for _, e in ipairs(sim.log(since)) do list[#list + 1] = e.path end
  return list
end

describe("bing (the command)", function()
  before_each(function()
    sim.clear_faults()
  end)

  teardown(function()
    os.execute("rm -rf " .. q(home))
  end)

  describe("geocode", function()
    it("prints an aligned table of each query's best match, and sends one request each", function()
      local since = sim.last_id()
      local out, err, rc = bing{"geocode", "Space Needle", "1 Microsoft Way, Redmond"}
      assert.equal(0, rc, err)
      local rows = table_rows(out)
      assert.same({"query", "name", "lat", "lon", "confidence", "type"}, rows[1])
      assert.same({"Space Needle", "Space Needle, Seattle, WA", "47.6205", "-122.3493", "High",
                   "LandmarkBuilding"}, rows[2])
      assert.equal("1 Microsoft Way, Redmond, WA 98052", rows[3][2])
      -- the columns line up: every line has "lat" values ending at the same place
      local lines = {}
      for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      local e1 = lines[1]:find("lat") + 2
      assert.equal("5", lines[2]:sub(e1, e1))
      local log = sim.log(since)
      assert.equal(2, #log)
      assert.equal("/REST/v1/Locations", log[1].path)
      no_key(out, err)
    end)

    it("reads one query a line from stdin (blank lines skipped); --csv, --json, --geojson", function()
      local since = sim.last_id()
      local out, err, rc = bing({"geocode", "--csv"}, {stdin = "Space Needle\n\n  \nSeattle\r\n"})
      assert.equal(0, rc, err)
      local rows = csv_rows(out)
      assert.equal(2, #rows)
      assert.equal("Space Needle", rows[1].query)
      assert.equal("47.6205", rows[1].lat)
      assert.equal("Seattle", rows[2].query)
      assert.equal(2, #sim.log(since))

      out, err, rc = bing({"geocode", "--json", "-"}, {stdin = "Space Needle\n"})
      assert.equal(0, rc, err)
      local doc = cjson.decode(out)
      assert.equal("Space Needle", doc[1].query)
      assert.equal("Space Needle, Seattle, WA", doc[1].locations[1].name)

      out, err, rc = bing{"geocode", "--geojson", "Space Needle"}
      assert.equal(0, rc, err)
      doc = cjson.decode(out)
      assert.equal("FeatureCollection", doc.type)
      assert.same({-122.3493, 47.6205}, doc.features[1].geometry.coordinates) -- lon, lat
      assert.equal("Space Needle", doc.features[1].properties.query)
    end)

    it("--max asks for more results; nothing found is said on stderr, exit 0", function()
      local _, err, rc = bing{"geocode", "--max", "3", "Springfield"}
      assert.equal(0, rc, err)
      local req = sim.last_request()
      assert.equal("3", req.query.maxResults)
      local out
      out, err, rc = bing{"geocode", "Qqqqzzzz Xyzzyville Nowhere"}
      assert.equal(0, rc, err)
      assert.matches("nothing found", err)
      assert.equal(1, #table_rows(out)) -- the header only
      -- --json: the empty list of locations is a JSON array, as a tool reading it expects
      out, err, rc = bing{"geocode", "--json", "Qqqqzzzz Xyzzyville Nowhere"}
      assert.equal(0, rc, err)
      assert.equal('[{"locations":[],"query":"Qqqqzzzz Xyzzyville Nowhere"}]\n', out)
    end)

    it("writes to a file with -o", function()
      local path = home .. "/out.csv"
      local out, err, rc = bing{"geocode", "Space Needle", "--csv", "-o", path}
      assert.equal(0, rc, err)
      assert.equal("", out)
      assert.equal("Space Needle", csv_rows(slurp(path))[1].query)
    end)
  end)

  it("reverse: points to addresses, from arguments or stdin", function()
    local since = sim.last_id()
    local out, err, rc = bing({"reverse", "--csv"}, {stdin = "47.64054,-122.12934\n"})
    assert.equal(0, rc, err)
    local rows = csv_rows(out)
    assert.equal("1 Microsoft Way, Redmond, WA 98052", rows[1].name)
    local log = sim.log(since)
    assert.equal(1, #log)
    assert.equal("/REST/v1/Locations/47.64054,-122.12934", log[1].path)
  end)

  describe("route", function()
    it("summarises the route; --steps lists the maneuvers; points and addresses mix", function()
      local out, err, rc = bing{"route", "Seattle", "47.674,-122.1215", "--json"}
      assert.equal(0, rc, err)
      local req = sim.last_request()
      assert.equal("/REST/v1/Routes/Driving", req.path)
      assert.equal("Seattle", req.query["wp.0"])
      assert.equal("47.674,-122.1215", req.query["wp.1"])
      local doc = cjson.decode(out)
      assert.near(21.858, doc[1].travelDistance, 0.5)

      out, err, rc = bing{"route", "Seattle", "Redmond"}
      assert.equal(0, rc, err)
      local rows = table_rows(out)
      assert.same({"route", "distance", "unit", "duration", "traffic", "legs"}, rows[1])
      assert.equal("Kilometer", rows[2][3])
      assert.matches("^%d+:%d%d$", rows[2][4])

      out, err, rc = bing{"route", "Seattle", "Redmond", "--steps", "--csv"}
      assert.equal(0, rc, err)
      rows = csv_rows(out)
      assert.equal("DepartStart", rows[1].maneuver)
      assert.equal("ArriveFinish", rows[#rows].maneuver)
    end)

    it("--geojson asks for the route path and answers a LineString", function()
      local out, err, rc = bing{"route", "Seattle", "Redmond", "--mode", "walking", "--geojson"}
      assert.equal(0, rc, err)
      local req = sim.last_request()
      assert.equal("/REST/v1/Routes/Walking", req.path)
      assert.equal("routePath", req.query.routeAttributes)
      local doc = cjson.decode(out)
      local g = doc.features[1].geometry
      assert.equal("LineString", g.type)
      assert.near(-122.33, g.coordinates[1][1], 0.01)
    end)

    it("needs two waypoints (exit 2)", function()
      local _, err, rc = bing{"route", "Seattle"}
      assert.equal(2, rc)
      assert.matches("two waypoints", err)
    end)
  end)

  it("matrix: origins and destinations from files (or stdin), one row per pair", function()
    local o, d = home .. "/o.txt", home .. "/d.txt"
    spit(o, "47.6,-122.3\n47.7,-122.1\n")
    spit(d, "45.5,-122.6\n")
    local out, err, rc = bing{"matrix", "--origins", o, "--destinations", d, "--csv"}
    assert.equal(0, rc, err)
    local rows = csv_rows(out)
    assert.equal(2, #rows)
    assert.equal("1", rows[1].origin)
    assert.equal("1", rows[1].destination)
    assert.is_true(tonumber(rows[1].distance) > 100)
    assert.equal("/REST/v1/Routes/DistanceMatrix", sim.last_request().path)

    out, err, rc = bing({"matrix", "--origins", "-", "--geojson"}, {stdin = "47.6,-122.3\n47.7,-122.1\n"})
    assert.equal(0, rc, err)
    -- the library's GeoJSON: the points, then a line per cell (the service skips a point to itself)
    local doc = cjson.decode(out)
    local kinds, cells = {}, {}
    for _, f in ipairs(doc.features) do
      kinds[f.properties.kind] = (kinds[f.properties.kind] or 0) + 1
      if f.properties.kind == "cell" then cells[#cells + 1] = f end
    end
    assert.same({origin = 2, destination = 2, cell = 2}, kinds)
    assert.same({{-122.3, 47.6}, {-122.1, 47.7}}, cells[1].geometry.coordinates)
    assert.near(23.3, cells[1].properties.travelDistance, 0.5)

    _, err, rc = bing{"matrix", "--origins", home .. "/nope.txt"}
    assert.equal(3, rc)
    assert.matches("cannot read", err)
    _, _, rc = bing{"matrix"}
    assert.equal(2, rc)
  end)

  it("isochrone: a MultiPolygon around the waypoint", function()
    local out, err, rc = bing{"isochrone", "47.6,-122.3", "--minutes", "10", "--geojson"}
    assert.equal(0, rc, err)
    local req = sim.last_request()
    assert.equal("/REST/v1/Routes/Isochrones", req.path)
    assert.equal("10", req.query.maxTime)
    assert.equal("minute", req.query.timeUnit)
    local doc = cjson.decode(out)
    assert.equal("Polygon", doc.features[1].geometry.type)
    local ring = doc.features[1].geometry.coordinates[1]
    assert.same(ring[1], ring[#ring])
    -- past 30 minutes: the asynchronous API, waited for
    local since = sim.last_id()
    out, err, rc = bing{"isochrone", "47.6,-122.3", "--minutes", "45", "--geojson"}
    assert.equal(0, rc, err)
    local p = paths(since)
    assert.equal("/REST/v1/Routes/IsochronesAsync", p[1])
    assert.equal("/REST/v1/Routes/IsochroneAsyncCallback", p[#p])
    assert.equal("Polygon", cjson.decode(out).features[1].geometry.type)
    out, err, rc = bing{"isochrone", "47.6,-122.3", "--km", "5"}
    assert.equal(0, rc, err)
    assert.same({"polygon", "rings", "vertices"}, table_rows(out)[1])
    _, _, rc = bing{"isochrone", "47.6,-122.3"}
    assert.equal(2, rc)
  end)

  it("elevation: one row per point; points from stdin", function()
    local out, err, rc = bing({"elevation", "--json"},
                              {stdin = "35.89431,-110.72522\n35.89393,-110.72578\n"})
    assert.equal(0, rc, err)
    local doc = cjson.decode(out)
    assert.equal(2, #doc.elevations)
    assert.equal("/REST/v1/Elevation/List", sim.last_request().path)
    out, err, rc = bing{"elevation", "35.89431,-110.72522", "--geojson"}
    assert.equal(0, rc, err)
    assert.same({-110.72522, 35.89431}, cjson.decode(out).features[1].geometry.coordinates)
  end)

  it("timezone: by point or by place; it has no geometry", function()
    local out, err, rc = bing{"timezone", "47.6,-122.3", "--csv"}
    assert.equal(0, rc, err)
    assert.equal("America/Los_Angeles", csv_rows(out)[1].iana)
    assert.matches("^/REST/v1/TimeZone/47.6,%-122.3", sim.last_request().path)
    out, err, rc = bing{"timezone", "Vancouver, BC", "--csv"}
    assert.equal(0, rc, err)
    assert.equal("Vancouver, BC", csv_rows(out)[1].place)
    assert.equal("Vancouver, BC", sim.last_request().query.query)
    _, err, rc = bing{"timezone", "47.6,-122.3", "--geojson"}
    assert.equal(2, rc)
    assert.matches("no geometry", err)
  end)

  it("traffic: incidents of a box, ids exact; a box over 10,000 km2 is refused (exit 3)", function()
    local out, err, rc = bing{"traffic", "47.55,-122.40,47.70,-122.10", "--severity", "3,4", "--csv"}
    assert.equal(0, rc, err)
    local req = sim.last_request()
    assert.matches("^/REST/v1/Traffic/Incidents/47.55,%-122.4,47.7,%-122.1", req.path)
    local rows = csv_rows(out)
    assert.is_true(#rows >= 1)
    for _, r in ipairs(rows) do assert.matches("^%d+$", r.id) end
    -- --json keeps ids past 2^53 exact (lua-cjson would write 9.007199254741e+15)
    out, err, rc = bing{"traffic", "47.55,-122.40,47.70,-122.10", "--json"}
    assert.equal(0, rc, err)
    assert.matches('"incidentId":"?9007199254740993"?[,}]', out)
    out, err, rc = bing{"traffic", "47.55,-122.40,47.70,-122.10", "--geojson"}
    assert.equal(0, rc, err)
    assert.equal("Point", cjson.decode(out).features[1].geometry.type)
    local since = sim.last_id()
    _, err, rc = bing{"traffic", "40,-120,45,-110"}
    assert.equal(3, rc)
    assert.matches("10000 km", err)
    assert.same({}, paths(since))
  end)

  it("autosuggest: the lines of a suggestion box", function()
    local out, err, rc = bing{"autosuggest", "El bur", "--near", "47.668697,-122.376373,5", "--max", "3"}
    assert.equal(0, rc, err)
    local rows = table_rows(out)
    assert.same({"type", "text"}, rows[1])
    assert.equal("LocalBusiness", rows[2][1])
    local req = sim.last_request()
    assert.equal("El bur", req.query.query)
    assert.equal("3", req.query.maxResults)
    _, _, rc = bing{"autosuggest", "El bur"}
    assert.equal(2, rc)
  end)

  it("tile: quadkey, x, y and the URL from a template; GeoJSON of the tile's edges", function()
    local out, err, rc = bing{"tile", "47.6205,-122.3493", "--level", "12", "--csv",
                              "--template", "http://{subdomain}.example/tiles/r{quadkey}.png?g=1"}
    assert.equal(0, rc, err)
    local r = csv_rows(out)[1]
    assert.equal("021230021331", r.quadkey)
    assert.equal("655", r.x)
    assert.equal("1430", r.y)
    -- Bing's subdomains t0..t3, picked by (x + y) mod 4
    assert.equal("http://t1.example/tiles/r021230021331.png?g=1", r.url)
    out, err, rc = bing{"tile", "47.6205,-122.3493", "--level", "12", "--csv",
                        "--template", "http://{subdomain}.example/{quadkey}", "--subdomains", "a,b"}
    assert.equal(0, rc, err)
    assert.equal("http://b.example/021230021331", csv_rows(out)[1].url)
    out, err, rc = bing{"tile", "47.6205,-122.3493", "--level", "12", "--geojson",
                        "--template", "http://x/{quadkey}"}
    assert.equal(0, rc, err)
    local ring = cjson.decode(out).features[1].geometry.coordinates[1]
    assert.equal(5, #ring)
    assert.is_true(ring[1][1] <= -122.3493 and ring[2][1] >= -122.3493)
    _, _, rc = bing{"tile", "47.6,-122.3"}
    assert.equal(2, rc)
    _, _, rc = bing{"tile", "47.6,-122.3", "--level", "30", "--template", "http://x/{quadkey}"}
    assert.equal(3, rc)
  end)

  it("tile: without a template, the URL comes from the imagery metadata", function()
    local since = sim.last_id()
    local out, err, rc = bing{"tile", "47.6205,-122.3493", "--level", "12", "--csv"}
    assert.equal(0, rc, err)
    local r = csv_rows(out)[1]
    assert.equal("021230021331", r.quadkey)
    assert.matches("^" .. sim.url:gsub("%p", "%%%0") .. "/tiles/t%d/r%a*021230021331", r.url)
    local log = sim.log(since)
    assert.equal(1, #log)
    assert.equal("/REST/v1/Imagery/Metadata/RoadOnDemand", log[1].path)
    out, err, rc = bing{"tile", "47.6205,-122.3493", "--level", "12", "--set", "Aerial", "--csv"}
    assert.equal(0, rc, err)
    assert.equal("/REST/v1/Imagery/Metadata/Aerial", sim.last_request().path)
    assert.matches("/a%a*021230021331", csv_rows(out)[1].url)
    -- its price: the metadata request
    out, err, rc = bing{"estimate", "tile", "47.6205,-122.3493", "--level", "12", "--json"}
    assert.equal(0, rc, err)
    assert.equal("RESTImagery-Metadata", cjson.decode(out).plans[1].billing.category)
  end)

  describe("batch-geocode", function()
    local csv = "name,query\nneedle,Space Needle\nms,\"1 Microsoft Way, Redmond, WA\"\n"
      .. "none,Qqqqzzzz Xyzzyville\n"

    it("--via job: one dataflow job, GeoJSON with the CSV's columns, failures on stderr", function()
      local since = sim.last_id()
      local path = home .. "/out.geojson"
      local out, err, rc = bing({"batch-geocode", "-", "-o", path}, {stdin = csv})
      assert.equal(0, rc, err)
      assert.equal("", out)
      local doc = cjson.decode(slurp(path))
      assert.equal(3, #doc.features)
      assert.equal("needle", doc.features[1].properties.name)
      assert.near(-122.349, doc.features[1].geometry.coordinates[1], 0.01)
      assert.equal(cjson.null, doc.features[3].geometry)
      assert.matches("not geocoded: row 3", err)
      assert.matches("2 of 3 geocoded", err)
      local creates, locations = 0, 0
      for _, e in ipairs(sim.log(since)) do
        if e.method == "POST" and e.path == "/REST/v1/Dataflows/Geocode" then creates = creates + 1 end
        if e.path == "/REST/v1/Locations" then locations = locations + 1 end
      end
      assert.equal(1, creates)
      assert.equal(0, locations)
    end)

    it("--via batch: one Locations request per row, the same GeoJSON; --csv adds lat/lon", function()
      local since = sim.last_id()
      local out, err, rc = bing({"batch-geocode", "--via", "batch", "-"}, {stdin = csv})
      assert.equal(0, rc, err)
      local doc = cjson.decode(out)
      assert.equal(3, #doc.features)
      assert.equal("ms", doc.features[2].properties.name)
      assert.near(47.64, doc.features[2].geometry.coordinates[2], 0.01)
      assert.equal("NotFound", doc.features[3].properties.status)
      local n = 0
      for _, e in ipairs(sim.log(since)) do
        if e.path == "/REST/v1/Locations" then n = n + 1 end
      end
      assert.equal(3, n)
      out, err, rc = bing({"batch-geocode", "--via", "batch", "-", "--csv"}, {stdin = csv})
      assert.equal(0, rc, err)
      local rows, header = csv_rows(out)
      assert.same({"name", "query", "lat", "lon", "status", "formatted_address"}, header)
      assert.equal("needle", rows[1].name)
      assert.equal("47.6205", rows[1].lat)
    end)

    it("a CSV without a query or address column is refused before sending (exit 3)", function()
      local since = sim.last_id()
      local _, err, rc = bing({"batch-geocode", "-"}, {stdin = "a,b\n1,2\n"})
      assert.equal(3, rc)
      assert.matches("query", err)
      assert.same({}, paths(since))
      _, _, rc = bing({"batch-geocode", "--via", "carrier-pigeon", "-"}, {stdin = csv})
      assert.equal(2, rc)
    end)
  end)

  describe("estimate and --dry-run", function()
    it("price a command and send nothing, key or no key", function()
      local since = sim.last_id()
      local out, err, rc = bing{"estimate", "route", "Seattle", "Redmond", "--json"}
      assert.equal(0, rc, err)
      local doc = cjson.decode(out)
      assert.equal(1, doc.requests)
      assert.equal(1, doc.billable_transactions)
      assert.equal("RESTRoutes", doc.plans[1].billing.category)
      out, err, rc = bing({"geocode", "a", "b", "c", "--dry-run"}, {key = false})
      assert.equal(0, rc, err)
      assert.matches("3 request%(s%), 3 billable transaction%(s%)", out)
      _, err, rc = bing{"estimate", "batch-geocode", "--via", "batch", "-", "--csv"}
      assert.equal(3, rc) -- an empty CSV
      assert.matches("empty", err)
      out, err, rc = bing({"estimate", "batch-geocode", "--via", "batch", "-", "--csv"},
                          {stdin = "query\nSeattle\nDenver\n"})
      assert.equal(0, rc, err)
      assert.equal(2, #csv_rows(out))
      -- a dataflow job: one request, a transaction per entity
      out, err, rc = bing{"estimate", "batch-geocode", "examples/data/addresses.csv", "--json"}
      assert.equal(0, rc, err)
      doc = cjson.decode(out)
      assert.equal(1, doc.requests)
      assert.equal(6, doc.billable_transactions)
      assert.equal("Dataflow:BatchGeocode", doc.plans[1].billing.category)
      out, err, rc = bing{"estimate", "elevation", "47,-122", "48,-121"}
      assert.equal(0, rc, err)
      assert.matches("RESTElevations", out)
      assert.same({}, paths(since))
      no_key(out, err)
    end)

    it("shows a plan over the budget", function()
      local out, err, rc = bing{"estimate", "geocode", "a", "--budget", "0", "--json"}
      assert.equal(0, rc, err)
      assert.is_false(cjson.decode(out).fits)
    end)
  end)

  describe("exit codes", function()
    it("usage 2: unknown command, unknown option (its value never shown), missing values", function()
      local out, err, rc = bing{"frobnicate"}
      assert.equal(2, rc)
      assert.matches("unknown command", err)
      assert.equal("", out)
      _, err, rc = bing{"geocode", "--kye=SECRETVALUE", "x"}
      assert.equal(2, rc)
      assert.is_nil(err:find("SECRETVALUE", 1, true))
      assert.matches("Try 'bing geocode %-%-help'", err)
      _, _, rc = bing{"geocode", "x", "--budget"}
      assert.equal(2, rc)
      _, _, rc = bing{"geocode", "x", "--budget", "many"}
      assert.equal(2, rc)
      _, _, rc = bing{"geocode", "x", "--json", "--csv"}
      assert.equal(2, rc)
      _, _, rc = bing{}
      assert.equal(2, rc)
      _, _, rc = bing({"geocode"}, {stdin = "\n\n"})
      assert.equal(2, rc)
    end)

    it("argument 3, auth 4 (a bad key, no key), budget 5: nothing sent for 3 and 5", function()
      local since = sim.last_id()
      local _, err, rc = bing{"reverse", "95,10"}
      assert.equal(3, rc)
      assert.matches("latitude", err)
      _, err, rc = bing{"route", "Seattle", "Redmond", "--budget", "0"}
      assert.equal(5, rc)
      assert.matches("budget", err)
      assert.same({}, paths(since))
      _, err, rc = bing({"geocode", "x"}, {key = false})
      assert.equal(4, rc)
      assert.matches("NoCredentials", err)
      _, err, rc = bing{"geocode", "x", "--key", "AkNotAValidKeyAtAll_0123456789"}
      assert.equal(4, rc)
      assert.is_nil(err:find("AkNotAValidKeyAtAll_0123456789", 1, true))
    end)

    it("throttled 6, timeout 7, transport 8, http 9, decode 10", function()
      sim.fault{fault = "429", times = -1, retry_after = 0, path = "/REST/v1/Locations"}
      local _, err, rc = bing{"geocode", "x"}
      sim.clear_faults()
      assert.equal(6, rc, err)
      sim.fault{fault = "delay", seconds = 2, times = -1, path = "/REST/v1/Locations"}
      _, err, rc = bing{"geocode", "x", "--timeout", "0.3"}
      sim.clear_faults()
      assert.equal(7, rc, err)
      _, err, rc = bing{"geocode", "x", "--base-url", "http://127.0.0.1:1"}
      assert.equal(8, rc, err)
      sim.fault{fault = "html", status = 404, times = -1, path = "/REST/v1/Locations"}
      _, err, rc = bing{"geocode", "x"}
      sim.clear_faults()
      assert.equal(9, rc, err)
      sim.fault{fault = "malformed", times = -1, path = "/REST/v1/Locations"}
      _, err, rc = bing{"geocode", "x"}
      sim.clear_faults()
      assert.equal(10, rc, err)
      no_key(err)
    end)

    it("one failed item of several: the others printed, the exit code of the failure", function()
      sim.fault{fault = "html", status = 404, times = 1, path = "/REST/v1/Locations"}
      local out, err, rc = bing{"geocode", "Space Needle", "Seattle", "--concurrency", "1", "--csv"}
      sim.clear_faults()
      assert.equal(9, rc)
      assert.matches("Space Needle: http 404", err)
      local rows = csv_rows(out)
      assert.equal(1, #rows)
      assert.equal("Seattle", rows[1].query)
    end)
  end)

  describe("the key", function()
    it("comes from --key, BING_MAPS_KEY or the config file, in that order", function()
      local cfg = home .. "/cfg/bing/config.lua"
      spit(cfg, ("key = %q\nbase_url = %q\n"):format(sim.key, sim.url))
      assert(os.execute("chmod 600 " .. q(cfg)))
      local out, err, rc = bing({"geocode", "Space Needle", "--csv"},
                                {key = false, env = {BING_BASE_URL = false}})
      assert.equal(0, rc, err)
      assert.equal("47.6205", csv_rows(out)[1].lat)
      -- BING_MAPS_KEY wins over the file, --key over both
      _, _, rc = bing({"geocode", "x"}, {env = {BING_MAPS_KEY = "AkWrongWrongWrong_123456"}})
      assert.equal(4, rc)
      _, err, rc = bing({"geocode", "x", "--key", sim.key},
                        {env = {BING_MAPS_KEY = "AkWrongWrongWrong_123456"}})
      assert.equal(0, rc, err)
      os.remove(cfg)
    end)

    it("a config file others can read is refused (exit 12), and so is code in it", function()
      local cfg = home .. "/cfg/bing/config.lua"
      spit(cfg, ("key = %q\n"):format(sim.key))
      assert(os.execute("chmod 644 " .. q(cfg)))
      local since = sim.last_id()
      local out, err, rc = bing({"geocode", "x"}, {key = false})
      assert.equal(12, rc)
      assert.matches("chmod 600", err)
      assert.same({}, paths(since))
      no_key(out, err)
      assert(os.execute("chmod 620 " .. q(cfg)))
      _, _, rc = bing({"geocode", "x"}, {key = false})
      assert.equal(12, rc)
      -- data only: no functions in its environment
      spit(cfg, 'key = os.getenv("HOME")\n')
      assert(os.execute("chmod 600 " .. q(cfg)))
      _, err, rc = bing({"geocode", "x"}, {key = false})
      assert.equal(12, rc)
      assert.matches("os", err)
      spit(cfg, 'colour = "blue"\n')
      _, err, rc = bing({"geocode", "x"}, {key = false})
      assert.equal(12, rc)
      assert.matches("unknown setting 'colour'", err)
      _, err, rc = bing({"geocode", "x", "--config", home .. "/nowhere.lua"}, {key = false})
      assert.equal(12, rc)
      assert.matches("no such file", err)
      os.remove(cfg)
      -- ~/.config/bing/config.lua without XDG_CONFIG_HOME
      assert(os.execute("mkdir -p " .. q(home) .. "/.config/bing"))
      local hcfg = home .. "/.config/bing/config.lua"
      spit(hcfg, ("key = %q\n"):format(sim.key))
      assert(os.execute("chmod 604 " .. q(hcfg)))
      _, _, rc = bing({"geocode", "x"}, {key = false, env = {XDG_CONFIG_HOME = false}})
      assert.equal(12, rc)
      assert(os.execute("chmod 600 " .. q(hcfg)))
      _, err, rc = bing({"geocode", "Seattle"}, {key = false, env = {XDG_CONFIG_HOME = false}})
      assert.equal(0, rc, err)
      os.remove(hcfg)
    end)

    it("is in no --help text, error or output", function()
      for _, cmd in ipairs{"geocode", "reverse", "route", "matrix", "isochrone", "elevation", "timezone",
                           "traffic", "autosuggest", "tile", "staticmap", "batch-geocode", "usage",
                           "estimate"} do
        local out, err, rc = bing({cmd, "--help"}, {env = {BING_MAPS_KEY = sim.key}})
        assert.equal(0, rc, cmd)
        assert.matches("usage: bing " .. cmd:gsub("%-", "%%-"), out)
        no_key(out, err)
      end
      local out, err, rc = bing{"--help", "--key", sim.key}
      assert.equal(0, rc)
      assert.matches("Exit codes", out)
      no_key(out, err)
      -- an error that would echo the URL
      out, err = bing{"geocode", "x", "--key", sim.key, "--base-url", "http://127.0.0.1:1"}
      assert.matches("key=<redacted>", err)
      no_key(out, err)
    end)
  end)

  it("--verbose: each request on stderr, its key redacted", function()
    local out, err, rc = bing{"geocode", "Space Needle", "Seattle", "-v", "--key", sim.key}
    assert.equal(0, rc, err)
    local n = 0
    for line in err:gmatch("[^\n]+") do
      if line:match("^bing: GET .-/REST/v1/Locations%?q=.-key=<redacted> %-> RestLocations%-Unstructured x1 "
                    .. "billable, 1 attempt%(s%), trace %x+$") then n = n + 1 end
    end
    assert.equal(2, n, err)
    no_key(out, err)
    _, err, rc = bing{"route", "a", "b", "-v", "--base-url", "http://127.0.0.1:1"}
    assert.equal(8, rc)
    assert.matches("%-> transport RESTRoutes", err)
    no_key(err)
  end)

  it("every --geojson is a file ogrinfo (GDAL) reads, with the features it should have", function()
    local o = home .. "/og.txt"
    spit(o, "47.6,-122.3\n47.7,-122.1\n")
    local cases = {
      {{"geocode", "Space Needle", "Seattle"}, 2, "Point"},
      {{"reverse", "47.64054,-122.12934"}, 1, "Point"},
      {{"route", "Seattle", "Redmond"}, nil, nil}, -- the route, its leg, its maneuver points
      {{"matrix", "--origins", o}, 6, nil},         -- 4 points, 2 cells
      {{"isochrone", "47.6,-122.3", "--minutes", "10"}, 1, "Polygon"},
      {{"elevation", "47.6,-122.3", "47.7,-122.2"}, 2, "Point"},
      {{"traffic", "47.55,-122.40,47.70,-122.10"}, nil, "Point"},
      {{"tile", "47.6,-122.3", "--level", "10", "--template", "http://h/{quadkey}"}, 1, "Polygon"},
      {{"batch-geocode", "examples/data/addresses.csv"}, 6, nil},
    }
    for _, case in ipairs(cases) do
      local path = home .. "/ogr.geojson"
      local argv = {}
      for i, a in ipairs(case[1]) do argv[i] = a end
      argv[#argv + 1] = "--geojson"
      argv[#argv + 1] = "-o"
      argv[#argv + 1] = path
      local _, err, rc = bing(argv)
      assert.equal(0, rc, err)
      local p = assert(io.popen("ogrinfo -ro -al -so " .. q(path) .. " 2>&1; echo rc=$?"))
      local info = p:read("a")
      p:close()
      assert.matches("rc=0\n$", info, case[1][1])
      local count = tonumber(info:match("Feature Count: (%d+)"))
      if case[2] then assert.equal(case[2], count, case[1][1]) else assert.is_true(count > 0) end
      if case[3] then assert.matches("Geometry: " .. case[3], info, 1, true) end
      os.remove(path)
    end
  end)

  it("lists go through client:batch with --concurrency; a dry run does not", function()
    local cli = require "bing.cli"
    local Client = require("bing.client").Client
    local real = assert(rawget(Client, "batch"))
    local seen = {}
    Client.batch = function(self, items, fn, opts)
      seen[#seen + 1] = {n = #items, concurrency = opts.concurrency}
      return real(self, items, fn, opts)
    end
    local out = {}
    local function sink(list)
      return {write = function(_, ...) for _, x in ipairs{...} do list[#list + 1] = x end end,
              flush = function() end}
    end
    local argv = {"geocode", "Space Needle", "Seattle", "Denver", "--concurrency", "3", "--csv"}
    local ok, rc = pcall(cli.main, argv,
      {stdout = sink(out), stderr = sink({}), getenv = function(name)
        if name == "BING_MAPS_KEY" then return sim.key end
        if name == "BING_BASE_URL" then return sim.url end
      end})
    Client.batch = real
    assert.is_true(ok, rc)
    assert.equal(0, rc)
    assert.same({{n = 3, concurrency = 3}}, seen)
    local rows = csv_rows(table.concat(out))
    assert.same({"Space Needle", "Seattle", "Denver"}, {rows[1].query, rows[2].query, rows[3].query})
    Client.batch = function() error("a dry run went through client:batch") end
    out = {}
    argv[#argv + 1] = "--dry-run"
    ok, rc = pcall(cli.main, argv, {stdout = sink(out), stderr = sink({}), getenv = function() end})
    Client.batch = real
    assert.is_true(ok, rc)
    assert.equal(0, rc)
    assert.equal(3, #csv_rows(table.concat(out)))
  end)

  it("usage: the transactions of every earlier command, kept across runs; --reset", function()
    local _, err, rc = bing{"usage", "--reset"}
    assert.equal(0, rc, err)
    bing{"geocode", "Space Needle", "Seattle"}
    bing{"route", "Seattle", "Redmond"}
    bing{"estimate", "route", "Seattle", "Redmond"} -- a dry run spends nothing
    local out
    out, err, rc = bing{"usage", "--json"}
    assert.equal(0, rc, err)
    local u = cjson.decode(out)
    assert.equal(3, u.requests)
    assert.equal(3, u.billable)
    assert.equal(2, u.categories["RestLocations-Unstructured"].billable)
    assert.equal(1, u.categories.RESTRoutes.requests)
    out = bing{"usage"}
    local rows = table_rows(out)
    assert.same({"category", "requests", "billable", "non_billable"}, rows[1])
    assert.same({"total", "3", "3", "0"}, rows[#rows - 1])
  end)

  it("job 11: a dataflow job the service aborts (in-process, through a Lua transport)", function()
    local cli = require "bing.cli"
    local seen = {}
    local function answer(status, resources)
      return {status = status, headers = {["content-type"] = "application/json"},
        body = cjson.encode{statusCode = status, statusDescription = "OK", traceId = "t",
          authenticationResultCode = "ValidCredentials",
          resourceSets = {{estimatedTotal = #resources, resources = resources}}}}
    end
    local function transport(req)
      seen[#seen + 1] = req.method .. " " .. req.url:match("^[^?]*")
      if req.url:find("ListJobs", 1, true) then return answer(200, {}) end
      if req.method == "POST" then return answer(201, {{id = "j1", status = "Pending"}}) end
      return answer(200, {{id = "j1", status = "Aborted", errorMessage = "the file was bad",
                           totalEntityCount = 1, processedEntityCount = 0, failedEntityCount = 0}})
    end
    local out, err = {}, {}
    local function sink(list)
      return {write = function(_, ...) for _, x in ipairs{...} do list[#list + 1] = x end end,
              flush = function() end}
    end
    local t = 0
    local rc = cli.main({"batch-geocode", "-"}, {stdout = sink(out), stderr = sink(err),
      stdin = {read = function() return "query\nSeattle\n" end},
      getenv = function(name) if name == "BING_MAPS_KEY" then return "AkFakeKey_0123456789" end end,
      client_options = {transport = transport,
                        clock = {now = function() return t end, sleep = function(s) t = t + s end}}})
    assert.equal(11, rc)
    assert.matches("the file was bad", table.concat(err))
    assert.equal("", table.concat(out))
    assert.same({"GET https://spatial.virtualearth.net/REST/v1/Dataflows/ListJobs",
                 "POST https://spatial.virtualearth.net/REST/v1/Dataflows/Geocode",
                 "GET https://spatial.virtualearth.net/REST/v1/Dataflows/Geocode/j1"}, seen)
    assert.is_nil(table.concat(err):find("AkFakeKey_0123456789", 1, true))
  end)

  it("is installed by make install (running without LUA_PATH) and by the rockspec", function()
    local prefix = home .. "/prefix"
    local lua = rawget(_G, "jit") and "luajit" or "lua5.4"
    local p = assert(io.popen("make -s install LUA=" .. lua .. " PREFIX=" .. q(prefix)
      .. " 2>&1; echo rc=$?"))
    local log = p:read("a")
    p:close()
    assert.matches("rc=0\n$", log)
    p = assert(io.popen("env -u LUA_PATH -u LUA_CPATH " .. q(prefix .. "/bin/bing")
      .. " tile 47.6205,-122.3493 --level 12 --csv --template 'http://h/{quadkey}' 2>&1; echo rc=$?"))
    local out = p:read("a")
    p:close()
    assert.matches("rc=0\n$", out)
    assert.matches("021230021331", out)
    local f = assert(io.open(prefix .. "/bin/bing"))
    assert.equal("#!/usr/bin/env " .. lua, f:read("l"))
    f:close()
    local spec = {}
    assert(loadfile("rockspec/bing-maps-scm-1.rockspec", "t", spec))()
    assert.equal("bin/bing", spec.build.install.bin.bing)
  end)

  it("staticmap: writes the image with -o (format from its extension), pins, a query", function()
    local path = home .. "/map.png"
    local since = sim.last_id()
    local out, err, rc = bing{"staticmap", "47.62,-122.35", "--zoom", "12", "--size", "200x150",
                              "--pin", "47.62,-122.35", "--pin", "47.63,-122.34", "-o", path}
    assert.equal(0, rc, err)
    assert.equal("", out)
    assert.equal("\137PNG", slurp(path):sub(1, 4))
    assert.matches("image/png%s+200%s+150", err)
    local log = sim.log(since)
    assert.equal(1, #log)
    assert.equal("/REST/v1/Imagery/Map/Road/47.62,-122.35/12", log[1].path)
    assert.equal("png", log[1].query.format)
    assert.equal("200,150", log[1].query.mapSize)
    path = home .. "/map.jpg"
    _, err, rc = bing{"staticmap", "Seattle", "--set", "Aerial", "-o", path}
    assert.equal(0, rc, err)
    assert.equal("\255\216\255", slurp(path):sub(1, 3))
    assert.equal("/REST/v1/Imagery/Map/Aerial/Seattle", sim.last_request().path)
    -- -o - : the image on stdout, the summary on stderr
    out, err, rc = bing{"staticmap", "47.62,-122.35", "--format", "gif", "-o", "-"}
    assert.equal(0, rc, err)
    assert.equal("GIF8", out:sub(1, 4))
    _, err, rc = bing{"staticmap", "47.62,-122.35"}
    assert.equal(2, rc)
    assert.matches("%-o FILE", err)
    _, _, rc = bing{"staticmap", "47.62,-122.35", "--size", "big", "-o", path}
    assert.equal(3, rc)
    since = sim.last_id()
    _, err, rc = bing{"staticmap", "47.62,-122.35", "-o", home .. "/no/such/dir/map.png"}
    assert.equal(3, rc)
    assert.matches("cannot write", err)
    assert.same({}, paths(since)) -- nothing spent
    -- a refused call leaves no empty file behind
    _, _, rc = bing{"staticmap", "47.62,-122.35", "--zoom", "40", "-o", home .. "/z.png"}
    assert.equal(3, rc)
    assert.is_nil(io.open(home .. "/z.png"))
    out, err, rc = bing{"estimate", "staticmap", "Seattle", "--json"}
    assert.equal(0, rc, err)
    assert.equal("RESTImagery-StaticMap", cjson.decode(out).plans[1].billing.category)
  end)
end)
