-- The routing result types and the pure planning behind split calls (no network), and the
-- decoders checked against the reference's own JSON examples (spec/fixtures/reference/routes/).
local rt = require "bing.api.route_types"
local routes = require "bing.api.routes"
local cjson = require "cjson.safe"

local reference = require "support.reference"

-- The ```json blocks of a reference example page, decoded.
local function examples(page)
  local text = reference.read("routes", page)
  local out = {}
  for block in text:gmatch("```[jJ][sS][oO][nN]%s*\n(.-)```") do
    local v = cjson.decode((block:gsub("\r", ""):gsub("\194\160", " ")))
    if v then out[#out + 1] = v end
  end
  return out
end

local function with_examples(page, fn)
  fn(examples(page))
end

local function stops(n) local t = {} for i = 1, n do t[i] = {} end return t end

describe("route_types.plan_split", function()
  it("keeps 25 waypoints in one request", function()
    assert.same({{first = 1, last = 25}}, rt.plan_split(stops(25), 25))
  end)

  it("shares the boundary waypoint: N waypoints, N-1 legs, none twice", function()
    for _, n in ipairs{26, 30, 49, 50, 73, 74, 200} do
      local parts = rt.plan_split(stops(n), 25)
      local legs = 0
      for k, p in ipairs(parts) do
        assert.is_true(p.last - p.first + 1 <= 25)
        if k > 1 then assert.equal(parts[k - 1].last, p.first) end
        legs = legs + (p.last - p.first)
      end
      assert.equal(1, parts[1].first)
      assert.equal(n, parts[#parts].last)
      assert.equal(n - 1, legs)
      assert.equal(math.ceil((n - 1) / 24), #parts)
    end
  end)

  it("counts vias against a truck's 25 points, and keeps them with their leg", function()
    local w = stops(20)
    for i = 1, 10 do table.insert(w, 2 * i, {via = true}) end
    local parts = rt.plan_split(w, 25, 25)
    for _, p in ipairs(parts) do
      assert.is_true(p.last - p.first + 1 <= 25)
      assert.is_nil(w[p.first].via)
      assert.is_nil(w[p.last].via)
    end
    assert.equal(#w, parts[#parts].last)
  end)
end)

-- Two tiny routes as the service would give them for waypoints A-B and B-C.
local function part(a, b, path_from, n_pts, first, last)
  local coords = {}
  for i = 0, n_pts - 1 do coords[#coords + 1] = {path_from + i, 0} end
  local function item(m, s, e) return {instruction = {maneuverType = m, text = m},
    details = {{maneuverType = m, startPathIndices = {s}, endPathIndices = {e}}}} end
  return {
    __type = "Route", distanceUnit = "Kilometer", durationUnit = "Second", bbox = {a, 0, b, 1},
    travelDistance = 10, travelDuration = 100, travelDurationTraffic = 120,
    routeLegs = {{travelDistance = 10, travelDuration = 100,
      itineraryItems = {item(first, 0, n_pts - 1), item(last, n_pts - 1, n_pts - 1)},
      routeSubLegs = {{startWaypoint = {routePathIndex = 0}, endWaypoint = {routePathIndex = n_pts - 1}}}}},
    routePath = {line = {type = "LineString", coordinates = coords},
                 generalizations = {{latLongTolerance = 0.1, pathIndices = {0, n_pts - 1}}}},
  }
end

describe("route_types.merge_routes", function()
  it("joins legs, sums, unions bboxes and shifts path indices past the shared point", function()
    local p1 = part(0, 4, 0, 5, "DepartStart", "ArriveFinish")
    local p2 = part(4, 9, 4, 6, "DepartStart", "ArriveFinish")
    local m = rt.merge_routes({p1, p2})
    assert.equal(2, #m:legs())
    assert.equal(20, m.travelDistance)
    assert.equal(200, m.travelDuration)
    assert.equal(240, m.travelDurationTraffic)
    assert.same({0, 0, 9, 1}, m.bbox)
    local path = m:path()
    assert.equal(10, #path) -- 5 + 6 - the shared point
    for i, p in ipairs(path) do assert.equal(i - 1, p[1]) end
    local leg2 = m:legs()[2]
    assert.same({4}, leg2.itineraryItems[1].details[1].startPathIndices)
    assert.same({9}, leg2.itineraryItems[2].details[1].endPathIndices)
    assert.equal(4, leg2.routeSubLegs[1].startWaypoint.routePathIndex)
    assert.equal(9, leg2.routeSubLegs[1].endWaypoint.routePathIndex)
    assert.same({0, 4, 9}, m.routePath.generalizations[1].pathIndices)
    assert.same({{0, 0}, {4, 0}, {9, 0}}, m:path(0.1))
    -- One route reads as one: an intermediate arrival and departure at the boundary.
    assert.equal("ArriveIntermediate", m:legs()[1].itineraryItems[2].instruction.maneuverType)
    assert.equal("DepartIntermediateStop", leg2.itineraryItems[1].instruction.maneuverType)
    assert.equal("DepartIntermediateStop", leg2.itineraryItems[1].details[1].maneuverType)
    assert.equal("ArriveFinish", leg2.itineraryItems[2].instruction.maneuverType)
    -- The inputs are left alone.
    assert.equal("ArriveFinish", p1.routeLegs[1].itineraryItems[2].instruction.maneuverType)
    assert.same({0}, p2.routeLegs[1].itineraryItems[1].details[1].startPathIndices)
  end)

  it("shifts indices without a route path, from the path indices of the parts", function()
    local p1 = part(0, 4, 0, 5, "DepartStart", "ArriveFinish")
    local p2 = part(4, 9, 4, 6, "DepartStart", "ArriveFinish")
    p1.routePath, p2.routePath = nil, nil
    local m = rt.merge_routes({p1, p2})
    assert.is_nil(m.routePath)
    assert.same({4}, m:legs()[2].itineraryItems[1].details[1].startPathIndices)
  end)
end)

describe("route_types.plan_blocks", function()
  it("keeps a matrix that fits in one block", function()
    assert.same({{o1 = 1, o2 = 50, d1 = 1, d2 = 50}}, rt.plan_blocks(50, 50, 2500))
  end)

  it("covers every pair exactly once with blocks inside the limit, as few as possible", function()
    for _, case in ipairs{{60, 60, 2500}, {3000, 1, 2500}, {1, 3000, 2500}, {100, 100, 650}, {7, 300, 100},
                          {55, 55, 2500, true}, {120, 120, 2500, true}} do
      local no, nd, limit, square = case[1], case[2], case[3], case[4]
      local blocks = rt.plan_blocks(no, nd, limit, square)
      local seen = {}
      for _, b in ipairs(blocks) do
        assert.is_true((b.o2 - b.o1 + 1) * (b.d2 - b.d1 + 1) <= limit)
        for i = b.o1, b.o2 do
          for j = b.d1, b.d2 do
            local k = i * 100000 + j
            assert.is_nil(seen[k])
            seen[k] = true
          end
        end
      end
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.equal(no * nd, n)
      if not square then assert.is_true(#blocks <= math.ceil(no * nd / limit) + 1) end
    end
  end)

  it("gives a square matrix one partition on both axes", function()
    for _, b in ipairs(rt.plan_blocks(55, 55, 2500, true)) do
      assert.is_true(b.o1 == b.d1 or b.o2 < b.d1 or b.d2 < b.o1)
    end
  end)
end)

describe("route_types.stitch_matrix", function()
  it("shifts block indices and sorts the cells", function()
    local o = {{latitude = 1, longitude = 1}, {latitude = 2, longitude = 2}}
    local d = {{latitude = 3, longitude = 3}, {latitude = 4, longitude = 4}}
    local s = rt.stitch_matrix({
      {block = {o1 = 2, o2 = 2, d1 = 1, d2 = 2}, res = {results = {
        {originIndex = 0, destinationIndex = 1, travelDistance = 22}, {originIndex = 0, destinationIndex = 0,
        travelDistance = 21}}}},
      {block = {o1 = 1, o2 = 1, d1 = 1, d2 = 2}, res = {results = {
        {originIndex = 0, destinationIndex = 0, travelDistance = 11}, {originIndex = 0, destinationIndex = 1,
        travelDistance = 12}}}},
    }, o, d)
    local m = rt.matrix(s)
    assert.equal(11, m:get(1, 1))
    assert.equal(12, m:get(1, 2))
    assert.equal(21, m:get(2, 1))
    assert.equal(22, m:get(2, 2))
    assert.equal(0, s.results[1].originIndex)
    assert.equal(1, s.results[4].destinationIndex)
  end)

  it("fills a pair a block skipped as 'same index and coordinate' when globally it is not", function()
    local p = {latitude = 5, longitude = 5}
    local s = rt.stitch_matrix({{block = {o1 = 2, o2 = 2, d1 = 1, d2 = 1}, res = {results = {}}}},
      {{latitude = 1, longitude = 1}, p}, {p})
    local m = rt.matrix(s)
    assert.equal(0, m:get(2, 1))
    assert.equal(1, #m:cells())
  end)
end)

describe("route_types.Matrix", function()
  it("reads histogram answers: several departure times per pair, earliest first", function()
    local m = rt.matrix({origins = {{latitude = 1, longitude = 1}}, destinations = {{latitude = 2,
      longitude = 2}},
      results = {
        {originIndex = 0, destinationIndex = 0, travelDistance = 10, travelDuration = 30,
         departureTime = "2017-06-15T21:00:00.0000000+00:00"},
        {originIndex = 0, destinationIndex = 0, travelDistance = 10, travelDuration = 20,
         departureTime = "2017-06-15T20:00:00.0000000+00:00"},
      }})
    local h = m:histogram(1, 1)
    assert.equal(2, #h)
    assert.equal(20, h[1].travelDuration)
    assert.equal(30, h[2].travelDuration)
    assert.equal(20, select(2, m:get(1, 1)))
    assert.same({}, m:histogram(2, 2))
  end)

  it("keeps every slot of interleaved pairs, and a one-cell pair's histogram is that cell", function()
    local function cell(i, j, minutes, hour)
      return {originIndex = i, destinationIndex = j, travelDistance = 1, travelDuration = minutes,
              departureTime = string.format("2017-06-15T%02d:00:00.0000000+00:00", hour)}
    end
    local m = rt.matrix({origins = {{1, 1}, {3, 3}}, destinations = {{2, 2}, {4, 4}},
      results = {cell(0, 1, 7, 8), cell(0, 0, 30, 22), cell(1, 1, 5, 9), cell(0, 0, 20, 21),
                 cell(0, 1, 6, 7), cell(0, 0, 10, 20)}})
    local h = m:histogram(1, 1)
    assert.same({10, 20, 30}, {h[1].travelDuration, h[2].travelDuration, h[3].travelDuration})
    assert.equal(10, select(2, m:get(1, 1)))
    assert.equal(6, select(2, m:get(1, 2)))
    assert.equal(2, #m:histogram(1, 2))
    local one = m:histogram(2, 2)
    assert.equal(1, #one)
    assert.equal(5, one[1].travelDuration)
    one[1], one[2] = nil, "x" -- a copy: the matrix keeps its cells
    assert.equal(5, select(2, m:get(2, 2)))
    assert.equal(1, #m:histogram(2, 2))
    assert.same({}, m:histogram(2, 1))
    assert.equal(6, #m:cells())
  end)

  it("leaves out cells that are not objects (JSON nulls, strings), wherever they stand", function()
    local function cell(i, j) return {originIndex = i, destinationIndex = j, travelDuration = 10 * i + j} end
    for _, list in ipairs{{cjson.null, cell(0, 0), cell(0, 1)}, {cell(0, 0), "x", cell(0, 1), cjson.null},
                          {cell(0, 0), cell(0, 1), 5}} do
      local m = rt.matrix({origins = {{1, 1}}, destinations = {{2, 2}, {3, 3}}, results = list})
      assert.equal(2, #m:cells())
      assert.same({0, 1}, {m:cells()[1].travelDuration, m:cells()[2].travelDuration})
      assert.equal(1, select(2, m:get(1, 2)))
    end
  end)

  it("reads the cell list named 'result' too", function()
    local m = rt.matrix({origins = {{latitude = 1, longitude = 1}}, destinations = {{latitude = 2,
      longitude = 2}},
      result = {{originIndex = 0, destinationIndex = 0, travelDistance = 7, travelDuration = 8}}})
    assert.equal(7, m:get(1, 1))
    assert.is_nil(m:get(1, 2))
  end)

  it("decodes the reference's distance matrix example", function()
    with_examples("examples/distance-matrix-example.md", function(ex)
      local doc
      for _, v in ipairs(ex) do if v.resourceSets then doc = v end end
      local m = rt.matrix(doc.resourceSets[1].resources[1])
      local d, t = m:get(1, 1)
      assert.equal(281.261777777778, d)
      assert.equal(9560.7, t)
      assert.equal(18.1444166666667, (m:get(3, 2)))
    end)
  end)

  it("decodes the reference's asynchronous download (a bare DistanceMatrix)", function()
    with_examples("examples/distance-matrix-asynchronous-example.md", function(ex)
      local bare = ex[#ex]
      assert.is_nil(bare.resourceSets)
      local m = rt.matrix(bare)
      assert.equal(281.244, (m:get(1, 1)))
      assert.equal("2017-06-15T20:00:00.0000000+00:00", select(3, m:get(2, 1)).departureTime)
    end)
  end)
end)

describe("route_types.Route on the reference's examples", function()
  it("lists the driving example's instructions and warnings", function()
    with_examples("examples/driving-route-example.md", function(ex)
      local list = rt.routes(ex[1])
      assert.equal(1, #list)
      local ins = list[1]:instructions()
      assert.equal("DepartStart", ins[1].maneuverType)
      assert.equal("Depart NE 85th St toward 154th Ave NE", ins[1].text)
      assert.same({47.678583, -122.131459}, ins[1].point)
      assert.equal("ArriveFinish", ins[#ins].maneuverType)
      local flow = 0
      for _, i in ipairs(ins) do
        for _, w in ipairs(i.warningTypes) do if w == "TrafficFlow" then flow = flow + 1 end end
      end
      assert.equal(2, flow)
      assert.equal(28.803, list[1].travelDistance)
    end)
  end)

  it("reads the route path example", function()
    with_examples("examples/driving-route-with-route-path-example.md", function(ex)
      local r = rt.routes(ex[1])[1]
      local path = assert(r:path())
      assert.same({44.979062, -93.264908}, path[1])
      local gj = r:geojson().features[1] -- the route's line comes first
      assert.same({-93.264908, 44.979062}, gj.geometry.coordinates[1])
    end)
  end)

  it("reads the transit example's child items", function()
    with_examples("examples/transit-route-example.md", function(ex)
      local r = rt.routes(ex[1])[1]
      local found = false
      for _, i in ipairs(r:instructions()) do
        if i.maneuverType == "TakeTransit" then found = i.item.transitLine.abbreviatedName == "10" end
      end
      assert.is_true(found)
    end)
  end)
end)

describe("route_types.Isochrone, SnapResult and Itinerary on the reference's examples", function()
  it("reads the isochrone example's rings", function()
    with_examples("examples/isochrone-example.md", function(ex)
      local iso = rt.isochrone(ex[1].resourceSets[1].resources[1])
      local rings = iso:rings()
      assert.equal(1, #rings)
      assert.same({32.19802, -97.09152}, rings[1][1][1])
      assert.is_true(iso:contains(31.520759, -97.133597))
    end)
  end)

  it("reads the snap example", function()
    with_examples("examples/snap-to-road-example.md", function(ex)
      local doc
      for _, v in ipairs(ex) do if v.resourceSets then doc = v end end
      local s = rt.snap(doc.resourceSets[1].resources[1])
      assert.equal(4, #s:path())
      assert.equal("WA-99 N / Alaskan Way Viaduct", s:point(1).name)
    end)
  end)

  it("reads the optimized itinerary example", function()
    with_examples("routes/optimized-itinerary.md", function(ex)
      local doc
      for _, v in ipairs(ex) do if v.resourceSets then doc = v break end end
      local it = rt.itinerary(doc.resourceSets[1].resources[1])
      assert.is_table(it:agent("agentName")) -- the example's name has a leading space
      assert.equal(4, it:scheduled_count())
      assert.equal(47.6846639223203, it:visits("agentName")[1].latitude)
    end)
  end)
end)

describe("routes limits as data", function()
  it("holds the documented numbers", function()
    local L = routes._LIMITS
    assert.equal(25, L.waypoints)
    assert.equal(10, L.vias_between)
    assert.equal(2500, L.matrix.basic.driving)
    assert.equal(10000, L.matrix.enterprise.driving)
    assert.equal(650, L.matrix.basic.walking)
    assert.equal(100, L.snap.sync)
    assert.equal(1000, L.snap.async)
    assert.equal(60, L.isochrone.async_max_minutes)
  end)

  it("picks the pair limit from the account and matrix_limits, walking never above 650", function()
    local ml = routes._matrix_limit
    assert.equal(2500, ml({}, "driving"))
    assert.equal(10000, ml({account = "enterprise"}, "driving"))
    assert.equal(650, ml({account = "enterprise"}, "walking"))
    assert.equal(40000, ml({account = "enterprise"}, "driving", true))
    assert.equal(100, ml({matrix_limits = {driving = 100}}, "driving"))
    assert.equal(650, ml({matrix_limits = {walking = 5000}}, "walking"))
  end)
end)

describe("route_types decoders on JSON nulls and absent optional fields", function()
  local core = require "bing.core"
  local jobs = require "bing.jobs"
  local function decode(text) return assert(core.decode(200, {}, text, "json")) end

  it("reads a route whose warnings, maneuver point and items are null", function()
    local doc = decode([==[{"resourceSets":[{"resources":[{"__type":"Route:x","routeLegs":[
      {"itineraryItems":[{"warnings":null,"maneuverPoint":null,
        "instruction":{"text":"Depart","maneuverType":"DepartStart","formattedText":null}},null],
       "routeSubLegs":null}],
      "routePath":{"line":{"coordinates":[[1,2],null]},"generalizations":null}}]}]}]==])
    local r = rt.routes(doc, {})[1]
    local ins = r:instructions()
    assert.equal(1, #ins)
    assert.same({}, ins[1].warningTypes)
    assert.is_nil(ins[1].point)
    assert.same({{1, 2}}, r:path())
    assert.is_nil(r:path(0.1))
    assert.equal(1, #r:legs())
    local merged = rt.merge_routes({r, r})
    assert.equal(2, #merged:legs())
  end)

  it("merges split parts whose bbox, legs, sub-legs or path coordinates are null", function()
    local p1 = part(0, 4, 0, 5, "DepartStart", "ArriveFinish")
    local p2 = part(4, 9, 4, 6, "DepartStart", "ArriveFinish")
    local cases = {
      function(a) a.bbox = cjson.null end,
      function(a) a.bbox[1] = cjson.null end,
      function(a) a.routeLegs[1] = cjson.null end,
      function(a) a.routeLegs[1].routeSubLegs[1] = cjson.null end,
      function(a) a.routePath.line.coordinates = cjson.null end,
    }
    for i, spoil in ipairs(cases) do
      for _, order in ipairs{{1, 2}, {2, 1}} do
        local parts = {rt.deep_copy(p1), rt.deep_copy(p2)}
        spoil(parts[order[1]])
        local ok, m = pcall(rt.merge_routes, parts)
        assert.is_true(ok, "case " .. i .. ": " .. tostring(m))
        assert.is_true(pcall(m.geojson, m), "case " .. i)
      end
    end
  end)

  it("reads a matrix with null cells and cells without indices", function()
    local m = rt.matrix(decode([==[{"origins":[{"latitude":1,"longitude":2}],"destinations":null,
      "results":[{"originIndex":0,"destinationIndex":0,"travelDistance":-1,"travelDuration":-1,
        "hasError":true},{"travelDistance":2},null]}]==]), {})
    local d, t, cell = m:get(1, 1)
    assert.same({-1, -1, true}, {d, t, cell.hasError})
    assert.equal(2, #m:cells())
    local s = rt.stitch_matrix({{block = {o1 = 1, o2 = 1, d1 = 1, d2 = 1}, res = m}},
      {{latitude = 1, longitude = 2}}, {{latitude = 1, longitude = 3}})
    assert.equal(1, #s.results)
  end)

  it("reads isochrones, snapped points and itineraries with nulls", function()
    local iso = rt.isochrone(decode([==[{"origin":null,"polygons":[{"coordinates":null},null,
      {"coordinates":[[[0,0],null,[0,2],[2,2],[2,0]]]}]}]==]), {})
    assert.equal(2, #iso:rings())
    assert.is_true(iso:contains(1, 1))
    assert.is_nil(iso:geojson().properties.origin)
    local s = rt.snap(decode([==[{"snappedPoints":[{"coordinate":null,"index":null},null,
      {"coordinate":{"latitude":1,"longitude":2},"index":0}]}]==]), {})
    assert.equal(2, #s:path())
    assert.same({{1, 2}}, s:path(true))
    local it_ = rt.itinerary(decode([==[{"agentItineraries":[null,{"agent":null,"instructions":null}],
      "unscheduledItems":null,"unusedAgents":null}]==]), {})
    assert.equal(0, it_:scheduled_count())
    assert.is_nil(it_:agent("a"))
    assert.same({}, it_.unscheduledItems)
  end)

  it("reads an asynchronous status whose errorMessage and callbackInSeconds are null", function()
    local st = jobs.async_status(decode([==[{"resourceSets":[{"resources":[{"requestId":"r-1",
      "errorMessage":null,"callbackInSeconds":null,"isAccepted":true}]}]}]==]))
    assert.equal("r-1", st.id)
    assert.is_nil(st.message)
    assert.is_nil(st.callback_in)
    assert.is_false(st.completed)
  end)
end)
