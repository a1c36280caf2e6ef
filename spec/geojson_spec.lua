-- GeoJSON of every kind of result that has geometry, from the emulator's answers: each one
-- checked against RFC 7946's structure in Lua (bing.geojson.validate), written with
-- bing.geojson.encode and read back by GDAL's `ogrinfo -ro -al -so` (Debian gdal-bin), which
-- must report the expected feature count, geometry type and extent (lon, lat).
local cjson = require "cjson"
local geojson = require "bing.geojson"
local sim = require "support.sim"

local function exists(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
    or os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == 0
end
if not exists("ogrinfo") then
  error("spec/geojson_spec.lua needs ogrinfo (Debian gdal-bin; make deps installs it)", 0)
end

-- What ogrinfo says of the file: {count=, geometry=, extent={minx, miny, maxx, maxy}, fields=}.
local function ogrinfo(gj)
  local path = os.tmpname()
  os.remove(path)
  path = path .. ".geojson"
  local f = assert(io.open(path, "wb"))
  f:write(geojson.encode(gj))
  f:close()
  local p = assert(io.popen("ogrinfo -ro -al -so " .. path .. " 2>&1"))
  local out = p:read("a")
  p:close()
  os.remove(path)
  local info = {text = out, fields = {}}
  info.count = tonumber(out:match("Feature Count: (%d+)"))
  info.geometry = out:match("\nGeometry: ([^\n]+)")
  local x1, y1, x2, y2 = out:match("Extent: %(([%-%d%.]+), ([%-%d%.]+)%) %- %(([%-%d%.]+), ([%-%d%.]+)%)")
  if x1 then info.extent = {tonumber(x1), tonumber(y1), tonumber(x2), tonumber(y2)} end
  for name, ty in out:gmatch("\n([%w_]+): ([%a]+[^\n]*)") do info.fields[name] = ty end
  return info
end

-- min lon, min lat, max lon, max lat of every position of a GeoJSON table.
local function extent(gj)
  local e = {math.huge, math.huge, -math.huge, -math.huge}
  local function walk(c)
    if type(c) ~= "table" then return end
    if type(c[1]) == "number" then
      e[1], e[2] = math.min(e[1], c[1]), math.min(e[2], c[2])
      e[3], e[4] = math.max(e[3], c[1]), math.max(e[4], c[2])
    else
      for _, x in ipairs(c) do walk(x) end
    end
  end
  for _, f in ipairs(gj.features or {gj}) do
    if f.geometry ~= cjson.null then walk(f.geometry.coordinates) end
  end
  return e
end

-- Valid in Lua, and ogrinfo reads `count` features of `geometry` over the same extent.
local function check(gj, geometry, count)
  assert(geojson.validate(gj))
  local info = ogrinfo(gj)
  assert.equal(count, info.count, info.text)
  assert.equal(geometry, info.geometry, info.text)
  local want = extent(gj)
  for i = 1, 4 do assert.near(want[i], info.extent[i], 1e-5) end
  return info
end

local function kinds(gj)
  local n = {}
  for _, f in ipairs(gj.features) do n[f.properties.kind] = (n[f.properties.kind] or 0) + 1 end
  return n
end

describe("GeoJSON of each kind, read by ogrinfo", function()
  local c
  setup(function() sim.reset() end)
  before_each(function() c = sim.client{sds_url = sim.url, geodata_url = sim.url} end)

  it("locations.find: a Point per location, bbox and properties from Bing's fields", function()
    local locs = assert(c.locations.find{q = "Space Needle"})
    local gj = locs:geojson()
    check(gj, "Point", #locs)
    local lat, lon = locs[1]:latlon()
    assert.same({lon, lat}, gj.features[1].geometry.coordinates)
    assert.same({locs[1].bbox[2], locs[1].bbox[1], locs[1].bbox[4], locs[1].bbox[3]},
      gj.features[1].bbox)
    assert.equal(locs[1].name, gj.features[1].properties.name)
  end)

  it("routes.calc: the route, each leg and each maneuver point", function()
    local routes = assert(c.routes.calc{waypoints = {{47.6062, -122.3321}, {47.6740, -122.1215},
      {47.6420, -122.1370}}, routeAttributes = "routePath"})
    local r = routes[1]
    local gj = r:geojson()
    local steps = r:instructions()
    check(gj, "Unknown (any)", 1 + #r:legs() + #steps)
    assert.same({route = 1, leg = #r:legs(), maneuver = #steps}, kinds(gj))
    local line = gj.features[1]
    assert.equal("LineString", line.geometry.type)
    assert.equal(r.travelDistance, line.properties.travelDistance)
    assert.equal(#assert(r:path()), #line.geometry.coordinates)
    local path = r:path()
    assert.same({path[1][2], path[1][1]}, line.geometry.coordinates[1])
    -- The legs cut the path at the waypoints: the first starts where the route does, the
    -- last ends where it does.
    local leg1, leg2 = gj.features[2], gj.features[3]
    assert.equal("LineString", leg1.geometry.type)
    assert.same(line.geometry.coordinates[1], leg1.geometry.coordinates[1])
    assert.same(line.geometry.coordinates[#line.geometry.coordinates],
      leg2.geometry.coordinates[#leg2.geometry.coordinates])
    local m = gj.features[4]
    assert.equal("Point", m.geometry.type)
    assert.equal(steps[1].text, m.properties.text)
    assert.equal(steps[1].maneuverType, m.properties.maneuverType)
    assert.same({steps[1].point[2], steps[1].point[1]}, m.geometry.coordinates)
    -- A list of routes: the same features, with the route's number.
    local all = routes:geojson()
    check(all, "Unknown (any)", #gj.features)
    assert.equal(1, all.features[#all.features].properties.route)
  end)

  it("routes.calc without a route path: lines through the maneuver points, approximate", function()
    local r = assert(c.routes.calc{waypoints = {{47.60, -122.33}, {47.70, -122.20}}})[1]
    local gj = r:geojson()
    check(gj, "Unknown (any)", 2 + #r:instructions())
    assert.is_true(gj.features[1].properties.approximate)
    assert.is_true(gj.features[2].properties.approximate)
  end)

  it("routes.matrix: origins, destinations and a line per cell", function()
    local m = assert(c.routes.matrix{origins = {{47.6044, -122.3345}, {47.6731, -122.1185}},
      destinations = {{45.5347, -122.6231}, {47.4747, -122.2057}, {47.6731, -122.1185}}})
    local gj = m:geojson()
    check(gj, "Unknown (any)", 5 + #m:cells())
    assert.same({origin = 2, destination = 3, cell = #m:cells()}, kinds(gj))
    for _, f in ipairs(gj.features) do
      if f.properties.kind == "cell" then
        local p = f.properties
        local d, t = m:get(p.originIndex + 1, p.destinationIndex + 1)
        assert.equal(d, p.travelDistance)
        assert.equal(t, p.travelDuration)
        assert.same({m.origins[p.originIndex + 1].longitude, m.origins[p.originIndex + 1].latitude},
          f.geometry.coordinates[1])
      end
    end
  end)

  it("routes.isochrone: a Polygon (or MultiPolygon), exteriors counter-clockwise", function()
    local iso = assert(c.routes.isochrone{waypoint = {31.5493, -97.1467}, maxTime = 10,
      timeUnit = "minute"})
    local gj = iso:geojson()
    check(gj, #iso.polygons == 1 and "Polygon" or "Multi Polygon", 1)
    local ring = gj.geometry.type == "Polygon" and gj.geometry.coordinates[1]
      or gj.geometry.coordinates[1][1]
    assert.is_true(geojson.signed_area(ring) > 0)
  end)

  it("routes.snap: the snapped path and each snapped point", function()
    local res = assert(c.routes.snap{points = {{47.590868, -122.336729}, {47.601604, -122.336042},
      {47.60849, -122.34241}, {47.610, -122.342679}}, includeSpeedLimit = true, interpolate = true})
    local gj = res:geojson()
    check(gj, "Unknown (any)", 1 + #res.snappedPoints)
    assert.equal("path", gj.features[1].properties.kind)
    assert.equal(res.snappedPoints[1].name, gj.features[2].properties.name)
    assert.equal(res.snappedPoints[1].speedLimit, gj.features[2].properties.speedLimit)
  end)

  it("routes.optimize: each stop of each agent, in order", function()
    local start, finish = {47.694117204371, -122.378188970181}, {47.7070790545669, -122.355226696231}
    local it_ = assert(c.routes.optimize{
      agents = {{name = "agentX", shifts = {{startTime = "2018-12-11T08:00:00", startLocation = start,
        endTime = "2018-12-11T18:00:00", endLocation = finish}}}},
      items = {
        {name = "a", openingTime = "2018-12-11T09:00:00", closingTime = "2018-12-11T18:00:00",
         dwellTime = "00:30:00", location = {47.692290770423, -122.385954752402}, priority = 5},
        {name = "b", openingTime = "2018-12-11T09:00:00", closingTime = "2018-12-11T18:00:00",
         dwellTime = "00:30:00", location = {47.6798098928389, -122.383036445391}, priority = 1},
      }})
    local gj = it_:geojson()
    local n = 0
    for _, ai in ipairs(it_.agentItineraries) do
      for _, ins in ipairs(ai.instructions) do
        if type(ins.itineraryItem) == "table" and type(ins.itineraryItem.location) == "table" then
          n = n + 1
        end
      end
    end
    check(gj, "Point", n + #it_.unscheduledItems)
    assert.is_true(n >= 2)
    local names = {}
    for _, f in ipairs(gj.features) do
      assert.equal("agentX", f.properties.agent)
      if f.properties.instructionType == "VisitLocation" then names[#names + 1] = f.properties.name end
    end
    assert.same(it_:visits("agentX"), names)
  end)

  it("elevations: a Point per value with its height; a polyline as a LineString with Z", function()
    local e = assert(c.elevations.list{points = {{35.89431, -110.72522}, {35.89393, -110.72578}}})
    local gj = e:geojson()
    check(gj, "Point", 2)
    assert.equal(e.elevations[2], gj.features[2].properties.elevation)
    local p = assert(c.elevations.polyline{points = {{35.89431, -110.72522}, {35.89337, -110.72662}},
      samples = 5})
    local line = p:geojson{line = true}
    check(line, "3D Line String", 1)
    local coords = line.features[1].geometry.coordinates
    assert.equal(5, #coords)
    assert.equal(p.elevations[3], coords[3][3])
    check(p:geojson(), "Point", 5)
  end)

  it("traffic.incidents: a Point per incident, ids beyond 2^53 as strings", function()
    local list = assert(c.traffic.incidents{mapArea = {39.6, -105.05, 39.8, -104.9}})
    assert.is_true(#list > 0)
    local gj = list:geojson()
    local info = check(gj, "Point", #list)
    assert.matches("^String", info.fields.incidentId)
    for i, f in ipairs(gj.features) do
      assert.equal("string", type(f.id))
      assert.equal(tostring(list[i].incidentId):gsub("%.0$", ""), f.properties.incidentId)
    end
  end)

  it("locations.local_search and recognize: Points with Bing's fields", function()
    local res = assert(c.locations.local_search{query = "coffee", userLocation = {47.602038, -122.333964}})
    check(res:geojson(), "Point", #res)
    local rec = assert(c.locations.recognize{point = {47.64054, -122.12934}})
    local gj = rec:geojson()
    check(gj, "Point", #rec:businesses() + #rec:natural() + #rec:addresses())
  end)

  it("sds.query: a Point per entity with its properties", function()
    local q = assert(c.sds.query{
      source = "20181f26d9e94c81acdf9496133d4f23/FourthCoffeeSample/FourthCoffeeShops",
      bbox = {47, -123, 48, -122}, top = 25})
    assert.is_true(#q > 0)
    local gj = q:geojson()
    local info = check(gj, "Point", #q)
    assert.is_truthy(info.fields.Name)
    local lat, lon = q[1]:latlon()
    assert.same({lon, lat}, gj.features[1].geometry.coordinates)
  end)

  it("sds.boundary: a Polygon or MultiPolygon per boundary", function()
    local b = assert(c.sds.boundary{point = {47.64054, -122.12934}, entityType = "Postcode1"})
    assert.is_true(#b > 0)
    local gj = assert(b:geojson())
    local single = #assert(b[1]:polygons()) == 1
    check(gj, single and "Polygon" or "Multi Polygon", #b)
  end)

  it("sds.boundary with several primitives: a MultiPolygon", function()
    local b = assert(c.sds.boundary{address = "Paris, France", entityType = "CountryRegion",
      getAllPolygons = true})
    assert.equal("GetBoundary('Paris, France',0,'CountryRegion',1,0)", sim.last_request().query.SpatialFilter)
    local gj = assert(b:geojson())
    check(gj, "Multi Polygon", #b)
    assert.equal(2, #gj.features[1].geometry.coordinates)
  end)

  it("an isochrone of two polygons, one clockwise: a MultiPolygon, both wound counter-clockwise", function()
    local rt = require "bing.api.route_types"
    local iso = rt.isochrone(cjson.decode([==[{"origin":{"latitude":1,"longitude":1},"polygons":[
      {"coordinates":[[[0,0],[0,2],[2,2],[2,0],[0,0]]]},
      {"coordinates":[[[5,5],[6,5],[6,6],[5,6],[5,5]],[[5.2,5.2],[5.4,5.2],[5.4,5.4],[5.2,5.4],[5.2,5.2]]]}
    ]}]==]), {})
    local gj = iso:geojson()
    check(gj, "Multi Polygon", 1)
    for _, poly in ipairs(gj.geometry.coordinates) do
      assert.is_true(geojson.signed_area(poly[1]) > 0)
      for k = 2, #poly do assert.is_true(geojson.signed_area(poly[k]) < 0) end
    end
    assert.same({latitude = 1, longitude = 1}, gj.properties.origin)
  end)

  it("an empty list: a FeatureCollection of no features that ogrinfo opens", function()
    local list = assert(c.traffic.incidents{mapArea = {10.0, 10.0, 10.1, 10.1}})
    assert.equal(0, #list)
    local gj = list:geojson()
    assert(geojson.validate(gj))
    assert.matches('"features":%[%]', geojson.encode(gj))
    assert.equal(0, ogrinfo(gj).count)
  end)

  it("sds.geocode_job results: a Point per geocoded entity", function()
    local job = assert(c.sds.geocode_job{entities = {
      {Id = "1", GeocodeRequest = {Query = "Seattle"}},
      {Id = "2", GeocodeRequest = {Query = "Denver, CO"}},
      {Id = "3", GeocodeRequest = {Query = "no such place qq"}}}})
    local res = assert(job:wait{timeout = 60})
    check(res:geojson(), "Point", #res.succeeded)
    local all = res:geojson{failed = true}
    check(all, "Point", 3)
    assert.equal(cjson.null, all.features[3].geometry)
  end)
end)

describe("bing.geojson", function()
  it("winds exteriors counter-clockwise and holes clockwise, and closes rings", function()
    -- {lat, lon}: a clockwise square seen on a map (lon east, lat north), not closed.
    local cw = {{0, 0}, {1, 0}, {1, 1}, {0, 1}}
    local r = geojson.ring(cw)
    assert.equal(5, #r)
    assert.same(r[1], r[5])
    assert.is_true(geojson.signed_area(r) > 0)
    assert.is_true(geojson.signed_area(geojson.ring(cw, true)) < 0)
    local poly = geojson.polygons{{cw, {{0.2, 0.2}, {0.2, 0.4}, {0.4, 0.4}, {0.4, 0.2}}}}
    assert.equal("Polygon", poly.type)
    assert(geojson.validate(poly))
  end)

  it("keeps integers beyond 2^53 exact as strings, and encodes every number exactly", function()
    local big = math.tointeger and math.tointeger(9007199254740993) or "9007199254740993"
    local f = geojson.feature(geojson.point(47.1234567891234, -122.98765432109876),
      {id = big, n = 3, x = 0.1, nan = 0 / 0})
    assert.equal("9007199254740993", f.properties.id)
    assert.is_nil(f.properties.nan)
    local text = geojson.encode(f)
    local back = cjson.decode(text)
    assert.equal(-122.98765432109876, back.geometry.coordinates[1])
    assert.equal(47.1234567891234, back.geometry.coordinates[2])
    assert.matches('"n":3[,}]', text)
    assert.matches('"x":0%.1[,}]', text)
    assert.equal('{"features":[],"type":"FeatureCollection"}', geojson.encode(geojson.collection{}))
    assert.matches('"geometry":null', geojson.encode(geojson.feature(nil, {})))
  end)

  it("refuses what RFC 7946 does not allow", function()
    local function bad(g, pattern)
      local ok, err = geojson.validate(g)
      assert.is_nil(ok)
      assert.matches(pattern, err)
    end
    local function pt(c)
      return {type = "Feature", geometry = {type = "Point", coordinates = c}, properties = {}}
    end
    bad(pt{-122.3, 147.6}, "latitude")
    bad(pt{0 / 0, 1}, "finite")
    bad({type = "Feature", properties = {}}, "no geometry")
    bad({type = "Feature", geometry = {type = "Polygon", coordinates = {{{0, 0}, {0, 1}, {1, 1}, {0, 0}}}},
         properties = {}}, "clockwise")
    bad({type = "Feature", geometry = {type = "Polygon", coordinates = {{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}},
         properties = {}}, "not closed")
    bad({type = "Feature", geometry = {type = "LineString", coordinates = {{0, 0}}}, properties = {}},
      "at least 2")
    local f = pt{1, 2}
    f.properties.fn = print
    bad(f, "not JSON")
    f = pt{1, 2}
    f.properties.inf = math.huge
    bad(f, "NaN or infinity")
    f = pt{1, 2}
    f.properties.big = 2 ^ 60
    bad(f, "2%^53")
  end)
end)
