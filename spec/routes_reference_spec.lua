-- The Routes family fed with the reference's own examples (rest-services/examples/*.md and the
-- worked examples of rest-services/routes/*.md): for each example that shows a real request
-- and a real JSON answer, the library builds the same call through a Lua transport, and
--   (a) the URL (or POST body) it sends is compared with the example's, parameter by parameter
--       and order-insensitively (aliases such as optmz / tl / rpo read as their full names,
--       names compared case-insensitively, coordinates and other numbers numerically: the
--       library writes at most 7 decimals, about 1 cm);
--   (b) the example's JSON answer is decoded and its documented fields read back through the
--       result objects' methods.
-- No emulator in that part: the examples are the service's own words, written by somebody
-- else. A second part replays each example's own request on the emulator and checks that the
-- answer has the example's shape (every field, its JSON type, the __type).
--
-- The examples are kept in spec/fixtures/reference/routes/ (one file per page, its fenced
-- blocks only), read through spec/support/reference.lua.
local bing = require "bing"
local cjson = require "cjson"

local KEY = "RefSpecKey-0123456789"

---------------------------------------------------------------------------------------------
-- Reading the reference
---------------------------------------------------------------------------------------------

local reference = require "support.reference"

local function read(rel)
  return reference.read("routes", rel)
end

-- The fenced blocks of a markdown file: {lang = "json" | "url" | ..., text = "..."}.
local function blocks(rel)
  local text = assert(read(rel), "cannot read " .. rel)
  local out, cur = {}, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local fence, lang = line:match("^%s*(```+)%s*(%S*)")
    if fence then
      if cur then
        cur.text = table.concat(cur.lines, "\n")
        out[#out + 1] = cur
        cur = nil
      else
        cur = {lang = lang:lower(), lines = {}}
      end
    elseif cur then
      cur.lines[#cur.lines + 1] = line
    end
  end
  return out
end

-- The request URL of an example: the first url block holding `needle`.
local function example_url(rel, needle)
  for _, b in ipairs(blocks(rel)) do
    if b.text:find(needle, 1, true) then
      for line in b.text:gmatch("[^\n]+") do
        local u = line:match("(https?://%S+)")
        if u and u:find(needle, 1, true) then return u end
      end
    end
  end
  error("no example URL with '" .. needle .. "' in " .. rel)
end

-- The JSON blocks of a file that decode, in order, filtered by `pred(doc)`; the `nth` one.
-- The nth JSON block of an example file that `pred` accepts: decoded, and as its text.
local function example_block(rel, pred, nth)
  local n = 0
  for _, b in ipairs(blocks(rel)) do
    if b.lang == "json" then
      local ok, doc = pcall(cjson.decode, b.text)
      if ok and type(doc) == "table" and (not pred or pred(doc)) then
        n = n + 1
        if n == (nth or 1) then return doc, b.text end
      end
    end
  end
  error("no matching JSON block in " .. rel)
end

-- One value only: these calls stand last in argument lists and table constructors, where a
-- second return value would become one more argument (or one more queued answer).
local function example_json(rel, pred, nth)
  return (example_block(rel, pred, nth))
end

local function example_text(rel, pred, nth)
  return select(2, example_block(rel, pred, nth))
end

local function type_is(name)
  return function(doc)
    local r = doc.resourceSets and doc.resourceSets[1] and doc.resourceSets[1].resources
      and doc.resourceSets[1].resources[1]
    return type(r) == "table" and type(r.__type) == "string" and r.__type:match("^([^:]+)") == name
  end
end

---------------------------------------------------------------------------------------------
-- Comparing requests
---------------------------------------------------------------------------------------------

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Documented aliases (the parameter tables of the routes/*.md pages), lower-case.
local ALIAS = {
  optmz = "optimize", rpo = "routepathoutput", tl = "tolerances", du = "distanceunit",
  ra = "routeattributes", hd = "heading", dt = "datetime", tt = "timetype",
  maxsolns = "maxsolutions", dbft = "distancebeforefirstturn", optwp = "optimizewaypoints",
  ig = "itinerarygroups", wp = "waypoint", maxdis = "maxdistance", tu = "timeunit",
  pts = "points", intpl = "interpolate", spdl = "includespeedlimit", spu = "speedunit",
  itinagt = "itineraryagents", itinitm = "itineraryitems", rn = "roadnetwork", cv = "costvalue",
  dims = "dimensionunit", wu = "weightunit", height = "vehicleheight", width = "vehiclewidth",
  vl = "vehiclelength", weight = "vehicleweight", axles = "vehicleaxles", vt = "vehicletrailers",
  semi = "vehiclesemi", vhm = "vehiclehazardousmaterials",
}

local function canon(name)
  local n = name:lower():gsub("^waypoint%.", "wp."):gsub("^viawaypoint%.", "vwp.")
  return ALIAS[n] or n
end

-- Parameters the comparison leaves out: the key (compared on its own) and the output format
-- (two examples ask for XML; the library decodes JSON and never asks for XML).
local IGNORED = {key = true, o = true, output = true}

local function parse_url(u)
  u = u:match("^%s*(.-)%s*$")
  local host, path, query = u:match("^%a+://([^/?#]+)([^?#]*)%??([^#]*)")
  assert(host, "not a URL: " .. u)
  local params, keys = {}, {}
  for pair in query:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k, v = unescape(k), unescape(v)
    if k:lower() == "key" then keys[#keys + 1] = v end
    if not IGNORED[k:lower()] then params[canon(k)] = v:match("^%s*(.-)%s*$") end
  end
  return {host = host:lower(), path = path, params = params, keys = keys}
end

local function close(x, y)
  if x == y then return true end
  local d = math.abs(x - y)
  -- Coordinates are written with 7 decimals (|error| <= 5e-8); small numbers (tolerances in
  -- degrees) must be equal to 1e-9 relative.
  if math.abs(x) >= 1 or math.abs(y) >= 1 then return d <= 6e-8 end
  return d <= 1e-9 * math.max(math.abs(x), math.abs(y))
end

-- Two parameter values: equal, equal but for case (values are not case-sensitive,
-- calculate-a-route.md), or the same tokens between the same separators with numbers equal.
local function same_value(a, b)
  if a == b or a:lower() == b:lower() then return true end
  local function split(s)
    local t = {}
    for tok, sep in s:gmatch("([^,;|_]*)([,;|_]?)") do
      t[#t + 1] = tok
      t[#t + 1] = sep
    end
    return t
  end
  local ta, tb = split(a), split(b)
  if #ta ~= #tb then return false end
  for i = 1, #ta do
    local x, y = ta[i], tb[i]
    if x ~= y and x:lower() ~= y:lower() then
      local nx, ny = tonumber(x), tonumber(y)
      if not (nx and ny and close(nx, ny)) then return false end
    end
  end
  return true
end

-- Asserts that the URL sent is the example's: host, path (case-insensitively: /REST/V1 and
-- /REST/v1 are one path), every parameter and no other, and the client's key once.
local function assert_same_url(sent, example)
  local got, want = parse_url(sent), parse_url(example)
  assert.equal(want.host, got.host)
  assert.equal(want.path:lower(), got.path:lower())
  local problems = {}
  for k, v in pairs(want.params) do
    if got.params[k] == nil then
      problems[#problems + 1] = "missing " .. k .. "=" .. v
    elseif not same_value(got.params[k], v) then
      problems[#problems + 1] = string.format("%s: sent '%s', example '%s'", k, got.params[k], v)
    end
  end
  for k, v in pairs(got.params) do
    if want.params[k] == nil then problems[#problems + 1] = "extra " .. k .. "=" .. v end
  end
  table.sort(problems)
  assert(#problems == 0, "URL differs from the example:\n  " .. table.concat(problems, "\n  ")
    .. "\n  sent:    " .. sent .. "\n  example: " .. example)
  assert.same({KEY}, got.keys)
end

-- Deep comparison of two JSON values (object keys in any order, numbers as in `close`).
local function json_diff(a, b, path)
  if type(a) == "number" and type(b) == "number" then
    return not close(a, b) and path .. string.format(": %s vs %s", tostring(a), tostring(b)) or nil
  end
  if type(a) ~= type(b) then
    return string.format("%s: %s vs %s", path, type(a), type(b))
  end
  if type(a) ~= "table" then
    return a ~= b and string.format("%s: %s vs %s", path, tostring(a), tostring(b)) or nil
  end
  for k, v in pairs(a) do
    local d = json_diff(v, b[k], path .. "." .. tostring(k))
    if d then return d end
  end
  for k in pairs(b) do
    if a[k] == nil then return path .. "." .. tostring(k) .. ": missing" end
  end
  return nil
end

local function assert_same_body(req, example_body)
  assert.equal("POST", req.method)
  assert.equal("application/json", req.headers["Content-Type"])
  local d = json_diff(cjson.decode(req.body), cjson.decode(example_body), "body")
  assert(d == nil, "POST body differs from the example: " .. tostring(d) .. "\n  sent:    "
    .. req.body)
end

---------------------------------------------------------------------------------------------
-- A client whose transport answers with the example's JSON
---------------------------------------------------------------------------------------------

-- `answers`: list of JSON texts (or tables), one per request, in order. Returns the client,
-- the list of requests sent, and the virtual clock (sleeps advance it; nothing waits).
local function fake(answers)
  local sent, t = {}, 0
  local queue = {}
  for i, a in ipairs(answers or {}) do queue[i] = a end
  local function transport(req)
    sent[#sent + 1] = req
    local a = table.remove(queue, 1)
    if a == nil then
      error("unexpected request: " .. req.method .. " " .. req.url, 0)
    end
    if type(a) == "table" then a = cjson.encode(a) end
    return {status = 200, headers = {["content-type"] = "application/json; charset=utf-8"}, body = a}
  end
  local clock = {now = function() return t end, sleep = function(s) t = t + s end}
  local c = bing.new{key = KEY, transport = transport, clock = clock}
  return c, sent, function() return t end
end

local function is_integer(v)
  if math.type then return math.type(v) == "integer" end
  return type(v) == "number" and v == math.floor(v)
end

---------------------------------------------------------------------------------------------
-- The examples
---------------------------------------------------------------------------------------------

describe("the Routes reference examples", function()
  describe("driving-route-example.md", function()
    local F = "examples/driving-route-example.md"

    it("sends the example's URL", function()
      local c, sent = fake{example_json(F, type_is("Route"))}
      assert(c.routes.calc{waypoints = {"redmond,wa", "Issaquah,wa"}, avoid = "minimizeTolls"})
      assert.equal(1, #sent)
      assert.equal("GET", sent[1].method)
      assert_same_url(sent[1].url, example_url(F, "/Routes/Driving?"))
    end)

    it("decodes the answer: route, leg, itinerary, warnings, integer fields", function()
      local doc = example_json(F, type_is("Route"))
      local c = fake{doc}
      local routes = assert(c.routes.calc{waypoints = {"redmond,wa", "Issaquah,wa"},
                                          avoid = "minimizeTolls"})
      assert.equal(1, #routes)
      local r = routes[1]
      assert.equal(28.803, r.travelDistance)
      assert.equal(1368, r.travelDuration)
      assert.equal(1887, r.travelDurationTraffic)
      assert.equal("Kilometer", r.distanceUnit)
      assert.equal("Second", r.durationUnit)
      assert.equal(1, #r:legs())
      local ins = r:instructions()
      assert.equal(10, #ins)
      assert.equal("DepartStart", ins[1].maneuverType)
      assert.equal("ArriveFinish", ins[10].maneuverType)
      assert.equal(1, ins[1].leg)
      assert.is_string(ins[1].text)
      assert.near(47.678583, ins[1].point[1], 1e-9)
      assert.equal(0.243, ins[1].travelDistance)
      assert.same({"TrafficFlow"}, ins[5].warningTypes)
      assert.same({}, ins[1].warningTypes)
      assert.equal(10, #r.routeLegs[1].itineraryItems)
      -- No route path was asked for: path() says so, geojson() falls back on maneuver points.
      local p, msg = r:path()
      assert.is_nil(p)
      assert.matches("routePath", msg)
      local g = r:geojson().features[1]
      assert.is_true(g.properties.approximate)
      assert.equal(10, #g.geometry.coordinates)
      assert.near(-122.0 - 0.0, math.floor(g.geometry.coordinates[1][1]), 1) -- [lon, lat]
      assert.near(r.bbox[2], g.bbox[1], 1e-12)
      -- Documented integers come back as integers (Lua 5.4).
      local sub = r.routeLegs[1].routeSubLegs[1]
      assert.is_true(is_integer(sub.endWaypoint.routePathIndex))
      assert.equal(122, sub.endWaypoint.routePathIndex)
      local detail = r.routeLegs[1].itineraryItems[1].details[1]
      assert.is_true(is_integer(detail.compassDegrees))
      assert.is_true(is_integer(detail.startPathIndices[1]))
      assert.is_true(is_integer(detail.endPathIndices[1]))
      assert.equal(doc.traceId, routes.meta.trace_id)
      assert.equal("RESTRoutes", routes.meta.billing.category)
    end)
  end)

  describe("driving-route-with-route-path-example.md", function()
    local F = "examples/driving-route-with-route-path-example.md"
    local args = {waypoints = {"Minneapolis,MN", "St Paul,MN"}, optimize = "distance",
                  routeAttributes = "routePath"}

    it("sends the example's URL", function()
      local c, sent = fake{example_json(F, type_is("Route"))}
      assert(c.routes.calc(args))
      assert_same_url(sent[1].url, example_url(F, "/Routes/Driving?"))
    end)

    it("decodes the route path", function()
      local c = fake{example_json(F, type_is("Route"))}
      local r = assert(c.routes.calc(args))[1]
      local path = assert(r:path())
      assert.equal(67, #path)
      assert.near(44.979062, path[1][1], 1e-9)
      local g = r:geojson().features[1]
      assert.is_nil(g.properties.approximate)
      assert.equal("LineString", g.geometry.type)
      assert.equal(67, #g.geometry.coordinates)
      assert.equal(path[1][2], g.geometry.coordinates[1][1])
      assert.equal(path[1][1], g.geometry.coordinates[1][2])
      assert.equal(15.217, r.travelDistance)
    end)
  end)

  describe("driving-route-using-tolerances-example.md", function()
    local F = "examples/driving-route-using-tolerances-example.md"
    local TL = {0.00000344978, 0.0000218840, 0.000220577, 0.00188803, 0.0169860, 0.0950130, 0.846703}

    it("sends the example's URL (routePathOutput=Points and seven tolerances)", function()
      local c, sent = fake{example_json("examples/driving-route-with-route-path-example.md",
                                        type_is("Route"))}
      assert(c.routes.calc{waypoints = {{44.979035, -93.26493}, {44.943828508257866, -93.09332862496376}},
                           optimize = "distance", routePathOutput = "Points", tolerances = TL})
      local example = example_url(F, "/Routes/Driving?")
      assert_same_url(sent[1].url, example)
      -- Written as the example writes them (decimals, no exponent): "0.00000344978,...".
      local got = parse_url(sent[1].url).params.tolerances
      assert.is_nil(got:find("e", 1, true))
      assert.equal("0.00000344978,0.000021884,0.000220577,0.00188803,0.016986,0.095013,0.846703", got)
    end)

    it("reads each generalization of the route path by its tolerance", function()
      -- The example shows the generalizations only ("added to the complete response shown in
      -- Driving Route with Route Path Example"): they are put into that response.
      local doc = example_json("examples/driving-route-with-route-path-example.md", type_is("Route"))
      local fragment
      for _, b in ipairs(blocks(F)) do
        if b.lang == "json" then fragment = b.text:gsub("%-%- route path points %-%-", "") end
      end
      local gens = cjson.decode(fragment).routePath.generalizations
      assert.equal(7, #gens)
      doc.resourceSets[1].resources[1].routePath.generalizations = gens
      local c = fake{doc}
      local r = assert(c.routes.calc{waypoints = {"Minneapolis,MN", "St Paul,MN"},
                                     routeAttributes = "routePath", tolerances = TL})[1]
      local full = r:path()
      local coarse = assert(r:path(0.00188803))
      assert.equal(7, #coarse)                          -- pathIndices 0,15,25,30,41,47,66
      assert.same(full[1], coarse[1])
      assert.same(full[16], coarse[2])
      assert.same(full[67], coarse[7])
      assert.equal(2, #assert(r:path(0.846703)))
      assert.is_true(is_integer(r.routePath.generalizations[4].pathIndices[2]))
      assert.equal(15, r.routePath.generalizations[4].pathIndices[2])
      assert.equal(64, #assert(r:path(0.00000344978)))
      local none, msg = r:path(0.5)
      assert.is_nil(none)
      assert.matches("no generalization", msg)
    end)
  end)

  describe("walking-route-example.md", function()
    local F = "examples/walking-route-example.md"
    local args = {waypoints = {"Eiffel Tower", "louvre museum"}, travelMode = "Walking",
                  optimize = "distance"}

    it("sends the example's URL (but JSON: output=xml is not asked for)", function()
      local c, sent = fake{example_json(F, type_is("Route"))}
      assert(c.routes.calc(args))
      assert_same_url(sent[1].url, example_url(F, "/Routes/Walking?"))
    end)

    it("decodes a walking route", function()
      local c = fake{example_json(F, type_is("Route"))}
      local r = assert(c.routes.calc(args))[1]
      assert.equal(3.627, r.travelDistance)
      assert.equal(2611, r.travelDuration)
      local ins = r:instructions()
      assert.equal(15, #ins)
      assert.equal("Walking", ins[1].travelMode)
      assert.equal("DepartStart", ins[1].maneuverType)
      assert.equal("ArriveFinish", ins[15].maneuverType)
    end)
  end)

  describe("transit-route-example.md", function()
    local F = "examples/transit-route-example.md"
    local args = {waypoints = {"Golden Gate Bridge", "Fishermans Wharf"}, travelMode = "Transit",
                  timeType = "Departure", dateTime = "3:00:00PM"}

    it("sends the example's URL", function()
      local c, sent = fake{example_json(F, type_is("Route"))}
      assert(c.routes.calc(args))
      assert_same_url(sent[1].url, example_url(F, "/Routes/Transit?"))
    end)

    it("decodes transit legs, lines and child items", function()
      local c = fake{example_json(F, type_is("Route"))}
      local r = assert(c.routes.calc(args))[1]
      assert.equal(8.314, r.travelDistance)
      local leg = r:legs()[1]
      assert.equal("/Date(1397599488000-0700)/", leg.startTime)
      assert.equal("/Date(1397602707000-0700)/", leg.endTime)
      local ins = r:instructions()
      assert.equal(3, #ins)
      assert.equal("TakeTransit", ins[2].maneuverType)
      local line = ins[2].item.transitLine
      assert.equal("10", line.abbreviatedName)
      assert.equal(1178, line.agencyId)
      assert.is_true(is_integer(line.agencyId))
      assert.is_true(is_integer(line.lineColor))
      local child = ins[2].item.childItineraryItems
      assert.equal(2, #child)
      assert.equal("TransitDepart", child[1].instruction.maneuverType)
      assert.equal(1186806, child[1].transitStopId)
      assert.equal(517611, child[1].tripId)
      assert.equal("/Date(1397600460000-0700)/", child[1].time)
    end)
  end)

  describe("optimized-waypoints-example.md", function()
    local F = "examples/optimized-waypoints-example.md"
    local args = {waypoints = {"86 Pike Pl, Seattle, WA 98101", "Troll Ave N, Seattle, WA 98103",
                               "3800 Montlake Blvd NE, Seattle, WA 98195", "1000 4th Ave, Seattle, WA 98104",
                               "5400 Ballard Ave NW, Seattle, WA 98107"},
                  optimizeWaypoints = true, optimize = "timeWithTraffic"}

    it("sends the example's URL", function()
      local c, sent = fake{example_json(F, type_is("Route"))}
      assert(c.routes.calc(args))
      assert_same_url(sent[1].url, example_url(F, "/Routes/Driving?"))
    end)

    it("decodes the waypoint order", function()
      local c = fake{example_json(F, type_is("Route"))}
      local r = assert(c.routes.calc(args))[1]
      assert.same({"wp.0", "wp.3", "wp.2", "wp.1", "wp.4"}, r.waypointsOrder)
      assert.equal(4, #r:legs())
      assert.equal(2992, r.travelDurationTraffic)
      assert.equal("Heavy", r.trafficCongestion)
    end)
  end)

  describe("truck-route-example.md", function()
    local F = "examples/truck-route-example.md"
    local args = {waypoints = {"590 Crane Ave, Pittsburgh, PA", "600 Forbes Ave, Pittsburgh, PA"},
                  travelMode = "Truck", vehicle = {vehicleHazardousMaterials = "Flammable"}}

    it("sends the example's GET URL", function()
      local c, sent = fake{example_json(F, type_is("Route"))}
      assert(c.routes.calc(args))
      assert.equal("GET", sent[1].method)
      assert_same_url(sent[1].url, example_url(F, "/Routes/Truck?wp.0"))
    end)

    it("sends the example's POST body (vehicleSpec) to the example's URL", function()
      local c, sent = fake{example_json(F, type_is("Route"))}
      local a = {method = "POST"}
      for k, v in pairs(args) do a[k] = v end
      assert(c.routes.calc(a))
      assert_same_url(sent[1].url, example_url(F, "/Routes/Truck?key="))
      local body = example_text(F, function(d) return d.vehicleSpec ~= nil end)
      assert_same_body(sent[1], body)
    end)

    it("decodes the truck route", function()
      local c = fake{example_json(F, type_is("Route"))}
      local routes = assert(c.routes.calc(args))
      local r = routes[1]
      assert.equal("Mile", r.distanceUnit)
      assert.equal(3.284568, r.travelDistance)
      assert.equal(536, r.travelDuration)
      local ins = r:instructions()
      assert.equal(10, #ins)
      assert.equal("Depart Crane Ave toward US-19 TRUCK / PA-51 / Saw Mill Run Blvd", ins[1].text)
      assert.equal("ArriveFinish", ins[10].maneuverType)
      assert.equal("Route-Truck", routes.meta.billing.category)
      assert.equal(3, routes.meta.billing.transactions)
    end)
  end)

  describe("truck-route-asynchronous-example.md", function()
    local F = "examples/truck-route-asynchronous-example.md"
    local args = {waypoints = {"590 Crane Ave, Pittsburgh, PA", "600 Forbes Ave, Pittsburgh, PA"},
                  travelMode = "Truck", vehicle = {vehicleHazardousMaterials = "Flammable"}, async = true}
    local ID = "9d721ef1-8ae1-4aef-a9b3-9badf01b4b1d"

    local function answers()
      local accepted = example_json(F, function(d) return type_is("RouteProxyAsyncResult")(d)
        and d.resourceSets[1].resources[1].isCompleted == nil end)
      local done = example_json(F, function(d) return type_is("RouteProxyAsyncResult")(d)
        and d.resourceSets[1].resources[1].isCompleted == true end)
      return {accepted, done, example_json(F, type_is("Route"))}, done
    end

    it("sends the example's GET and POST to TruckAsync", function()
      local list = answers()
      local c, sent = fake{list[1]}
      local job = assert(c.routes.calc(args))
      assert_same_url(sent[1].url, example_url(F, "/Routes/TruckAsync?wp.0"))
      assert.equal(ID, job.id)
      local c2, sent2 = fake{list[1]}
      local a = {method = "POST"}
      for k, v in pairs(args) do a[k] = v end
      assert(c2.routes.calc(a))
      assert_same_url(sent2[1].url, example_url(F, "/Routes/TruckAsync?key="))
      local body = example_text(F, function(d) return d.vehicleSpec ~= nil end)
      assert_same_body(sent2[1], body)
    end)

    it("reads the accepted answer, polls the example's status URL, downloads resultUrl", function()
      local list, done = answers()
      local c, sent, now = fake(list)
      local job = assert(c.routes.calc(args))
      assert.equal(ID, job.id)
      assert.equal("truck", job.kind)
      assert.equal(3, job.status.callback_in)
      assert.equal("Request accepted", job.status.message)
      assert.is_false(job:done())
      local routes = assert(job:wait())
      assert.equal(3, now())                            -- waited what callbackInSeconds said
      assert.equal(3, #sent)
      assert_same_url(sent[2].url, example_url(F, "/Routes/TruckAsyncCallback?requestId=" .. ID))
      -- resultUrl is on the REST host: fetched with the client's own key, once.
      local result_url = done.resourceSets[1].resources[1].resultUrl
      assert_same_url(sent[3].url, result_url)
      assert.equal(ID, job.id)
      assert.equal(3.284568, routes[1].travelDistance)
      assert.equal(10, #routes[1]:instructions())
      assert.equal("Route-TruckAsyncCallback", routes.meta.billing.category)
      assert.is_false(routes.meta.billing.billable)
    end)

    it("re-creates the job from its id and polls the same URL", function()
      local list = answers()
      local c, sent = fake{list[2], list[3]}
      local routes = assert(c.routes.job(ID, "truck"):wait())
      assert_same_url(sent[1].url, example_url(F, "/Routes/TruckAsyncCallback?requestId=" .. ID))
      assert.equal(3.284568, routes[1].travelDistance)
    end)
  end)

  describe("distance-matrix-example.md", function()
    local F = "examples/distance-matrix-example.md"
    local args = {origins = {{47.6044, -122.3345}, {47.6731, -122.1185}, {47.6149, -122.1936}},
                  destinations = {{45.5347, -122.6231}, {47.4747, -122.2057}}, travelMode = "driving"}

    it("sends the example's GET URL", function()
      local c, sent = fake{example_json(F, type_is("DistanceMatrix"))}
      assert(c.routes.matrix(args))
      assert.equal("GET", sent[1].method)
      assert_same_url(sent[1].url, example_url(F, "/Routes/DistanceMatrix?origins"))
    end)

    it("sends the example's POST body", function()
      local c, sent = fake{example_json(F, type_is("DistanceMatrix"))}
      local a = {method = "POST"}
      for k, v in pairs(args) do a[k] = v end
      assert(c.routes.matrix(a))
      assert_same_url(sent[1].url, example_url(F, "/Routes/DistanceMatrix?key="))
      local body = example_text(F, function(d) return d.origins ~= nil and d.resourceSets == nil end)
      assert_same_body(sent[1], body)
    end)

    it("decodes the cells by (origin, destination)", function()
      local c = fake{example_json(F, type_is("DistanceMatrix"))}
      local m = assert(c.routes.matrix(args))
      assert.same({3, 2}, {m:size()})
      local d, t, cell = m:get(1, 1)
      -- (near: lua-cjson and Lua's own parser may round the 15th digit differently)
      assert.near(281.261777777778, d, 1e-9)
      assert.equal(9560.7, t)
      assert.equal(0, cell.originIndex)
      assert.is_true(is_integer(cell.destinationIndex))
      d, t = m:get(3, 2)
      assert.near(18.1444166666667, d, 1e-9)
      assert.equal(770.9, t)
      assert.near(296.074722222222, m:distances()[2][1], 1e-9)
      assert.equal(1155.6, m:durations()[2][2])
      assert.equal(6, #m:cells())
      assert.equal("Route-DistanceMatrix", m.meta.billing.category)
      assert.equal(2, m.meta.billing.transactions)       -- ceil(6 / 4)
    end)

    it("sends the URL and body of calculate-a-distance-matrix.md's startTime example", function()
      local R = "routes/calculate-a-distance-matrix.md"
      local a = {startTime = "2017-06-15T13:00:00-07:00"}
      for k, v in pairs(args) do a[k] = v end
      local c, sent = fake{example_json(F, type_is("DistanceMatrix"))}
      assert(c.routes.matrix(a))
      assert_same_url(sent[1].url, example_url(R, "/Routes/DistanceMatrix?origins=47.6044,-122.3345;"
        .. "47.6731,-122.1185;47.6149,-122.1936&destinations=45.5347,-122.6231;47.4747,-122.2057"
        .. "&travelMode=driving&startTime"))
    end)
  end)

  describe("distance-matrix-asynchronous-example.md", function()
    local F = "examples/distance-matrix-asynchronous-example.md"
    local ID = "9d721ef1-8ae1-4aef-a9b3-9badf01b4b1d"
    local args = {origins = {{47.6044, -122.3345}, {47.6731, -122.1185}, {47.6149, -122.1936}},
                  destinations = {{45.5347, -122.6231}, {47.4747, -122.2057}}, travelMode = "driving",
                  startTime = "2017-06-15T13:00:00-07:00", async = true}

    local function answers()
      local accepted = example_json(F, function(d) return type_is("DistanceMatrixAsyncStatus")(d)
        and not d.resourceSets[1].resources[1].isCompleted end)
      local done = example_json(F, function(d) return type_is("DistanceMatrixAsyncStatus")(d)
        and d.resourceSets[1].resources[1].isCompleted == true end)
      local result = example_json(F, function(d) return d.results ~= nil end)
      return {accepted, done, result}, done
    end

    it("sends the example's GET and POST to DistanceMatrixAsync", function()
      local list = answers()
      local c, sent = fake{list[1]}
      local job = assert(c.routes.matrix(args))
      assert_same_url(sent[1].url, example_url(F, "/Routes/DistanceMatrixAsync?origins"))
      assert.equal(ID, job.id)
      assert.equal(10, job.status.callback_in)
      local c2, sent2 = fake{list[1]}
      local a = {method = "POST"}
      for k, v in pairs(args) do a[k] = v end
      assert(c2.routes.matrix(a))
      assert_same_url(sent2[1].url, example_url(F, "/Routes/DistanceMatrixAsync?key="))
      local body = example_text(F, function(d) return d.origins ~= nil and d.results == nil end)
      assert_same_body(sent2[1], body)
    end)

    it("polls the example's status URL and downloads the blob without the key", function()
      local list, done = answers()
      local c, sent, now = fake(list)
      local job = assert(c.routes.matrix(args))
      local m = assert(job:wait())
      assert.equal(10, now())
      assert.equal(3, #sent)
      assert_same_url(sent[2].url, example_url(F, "/Routes/DistanceMatrixAsyncCallback?requestId=" .. ID))
      -- The result lives on another host (a blob): fetched as given, the key never sent there.
      local result_url = done.resourceSets[1].resources[1].resultUrl
      assert.equal(result_url, sent[3].url)
      assert.is_nil(sent[3].url:find(KEY, 1, true))
      assert.equal("GET", sent[3].method)
      -- The downloaded DistanceMatrix (no envelope) decodes into a Matrix.
      assert.same({3, 2}, {m:size()})
      local d, t = m:get(1, 1)
      assert.same({281.244, 10893}, {d, t})
      d, t = m:get(2, 2)
      assert.same({28.43, 1318}, {d, t})
      local _, _, cell = m:get(3, 1)
      assert.equal(285.669, cell.travelDistance)
      assert.is_false(cell.hasError)
      assert.equal(0, cell.totalWalkDuration)
      assert.equal("2017-06-15T20:00:00.0000000+00:00", cell.departureTime)
      assert.equal(1, #m:histogram(1, 2))
      -- The blob download is no Bing transaction (the status polls were the callbacks).
      assert.is_false(m.meta.billing.billable)
      assert.equal(0, m.meta.billing.transactions)
    end)
  end)

  describe("isochrone-example.md", function()
    local F = "examples/isochrone-example.md"
    local args = {waypoint = {31.520759, -97.133597}, maxDistance = 50, distanceUnit = "mile",
                  optimize = "distance", async = false}

    it("sends the example's URL", function()
      local c, sent = fake{example_json(F, type_is("IsochroneResponse"))}
      assert(c.routes.isochrone(args))
      assert_same_url(sent[1].url, example_url(F, "/Routes/Isochrones?"))
    end)

    it("sends calculate-an-isochrone.md's POST body", function()
      local R = "routes/calculate-an-isochrone.md"
      local c, sent = fake{example_json(F, type_is("IsochroneResponse"))}
      assert(c.routes.isochrone{waypoint = {31.520759, -97.133597}, maxDistance = 30,
                                distanceUnit = "mile", optimize = "distance", async = false,
                                method = "POST"})
      assert_same_url(sent[1].url, example_url(R, "/Routes/Isochrones?key="))
      local body = example_text(R, function(d) return d.waypoint ~= nil end)
      assert_same_body(sent[1], body)
    end)

    it("decodes the polygon", function()
      local c = fake{example_json(F, type_is("IsochroneResponse"))}
      local iso = assert(c.routes.isochrone(args))
      local rings = iso:rings()
      assert.equal(1, #rings)
      assert.equal(1, #rings[1])
      assert.equal(237, #rings[1][1])
      assert.same({32.19802, -97.09152}, rings[1][1][1])
      local g = iso:geojson()
      assert.equal("Polygon", g.geometry.type) -- one polygon
      assert.same({-97.09152, 32.19802}, g.geometry.coordinates[1][1])
      assert.is_nil(g.properties.origin)                 -- this answer has no origin
      assert.is_true(iso:contains(31.520759, -97.133597))
      assert.is_false(iso:contains(40, -97.133597))
    end)
  end)

  describe("isochrone-asynchronous-example.md", function()
    local F = "examples/isochrone-asynchronous-example.md"
    local ID = "9d721ef1-8ae1-4aef-a9b3-9badf01b4b1d"
    local args = {waypoint = "1 Microsoft Way Redmond WA", maxTime = 30, timeUnit = "Minutes",
                  dateTime = "2017-11-27T18:00:00-08:00", async = true}

    local function answers()
      local accepted = example_json(F, function(d) return type_is("RouteProxyAsyncResult")(d)
        and d.resourceSets[1].resources[1].isCompleted == nil end)
      local done = example_json(F, function(d) return type_is("RouteProxyAsyncResult")(d)
        and d.resourceSets[1].resources[1].isCompleted == true end)
      return {accepted, done, example_json(F, type_is("IsochroneResponse"))}, done
    end

    it("sends the example's URL to IsochronesAsync", function()
      local c, sent = fake{answers()[1]}
      local job = assert(c.routes.isochrone(args))
      assert_same_url(sent[1].url, example_url(F, "/Routes/IsochronesAsync?"))
      assert.equal(ID, job.id)
      assert.equal("isochrone", job.kind)
    end)

    it("polls the example's status URL and downloads resultUrl with the client's key", function()
      local list, done = answers()
      local c, sent, now = fake(list)
      local iso = assert(assert(c.routes.isochrone(args)):wait())
      assert.equal(3, now())
      assert.equal(3, #sent)
      assert_same_url(sent[2].url, example_url(F, "/Routes/IsochroneAsyncCallback?requestId=" .. ID))
      assert_same_url(sent[3].url, done.resourceSets[1].resources[1].resultUrl)
      assert.same({latitude = 47.640068, longitude = -122.129858}, iso.origin)
      assert.equal(298, #iso:rings()[1][1])
      assert.same({latitude = 47.640068, longitude = -122.129858}, iso:geojson().properties.origin)
      assert.is_true(iso:contains(47.640068, -122.129858))
      assert.equal("Route-IsochroneAsyncCallback", iso.meta.billing.category)
    end)
  end)

  describe("snap-to-road-example.md", function()
    local F = "examples/snap-to-road-example.md"
    local args = {points = {{47.590868, -122.336729}, {47.601604, -122.336042}, {47.60849, -122.34241},
                            {47.610568, -122.345064}},
                  includeTruckSpeedLimit = true, includeSpeedLimit = true, speedUnit = "MPH",
                  travelMode = "driving"}

    it("sends the example's GET URL", function()
      local c, sent = fake{example_json(F, type_is("SnapToRoadResponse"))}
      assert(c.routes.snap(args))
      assert_same_url(sent[1].url, example_url(F, "/Routes/SnapToRoad?points"))
    end)

    it("sends the example's POST body", function()
      local c, sent = fake{example_json(F, type_is("SnapToRoadResponse"))}
      local a = {method = "POST"}
      for k, v in pairs(args) do a[k] = v end
      assert(c.routes.snap(a))
      assert_same_url(sent[1].url, example_url(F, "/Routes/SnapToRoad?key="))
      local body = example_text(F, function(d) return d.points ~= nil end)
      assert_same_body(sent[1], body)
    end)

    it("decodes the snapped points", function()
      local c = fake{example_json(F, type_is("SnapToRoadResponse"))}
      local s = assert(c.routes.snap(args))
      assert.equal(4, #s.snappedPoints)
      assert.equal(4, #s:path())
      assert.same({47.590862, -122.336719}, s:path()[1])
      local p3 = s:point(3)
      assert.equal(2, p3.index)
      assert.is_true(is_integer(p3.index))
      assert.equal(50, p3.speedLimit)
      assert.equal(40, p3.truckSpeedLimit)
      assert.equal("MPH", p3.speedUnit)
      assert.equal("WA-99 N / Alaskan Way Viaduct", p3.name)
      assert.equal("", s:point(4).name)
      assert.is_nil(s:point(5))
      assert.equal(4, #s:geojson().features[1].geometry.coordinates)
    end)
  end)

  describe("optimized-itinerary.md", function()
    local R = "routes/optimized-itinerary.md"
    local function shift(s, e)
      return {startTime = s, startLocation = {47.694117204371, -122.378188970181},
              endTime = e, endLocation = {47.7070790545669, -122.355226696231}}
    end
    local function item(dwell, lat, lon, priority)
      return {openingTime = "2018-12-24T09:00:00", closingTime = "2018-12-24T18:00:00",
              dwellTime = dwell, location = {lat, lon}, priority = priority}
    end
    -- The example's agent name has a leading space (" agentName", echoed by the answer).
    local get_args = {
      agents = {{name = " agentName", shifts = {shift("2018-12-24T08:00:00", "2018-12-24T11:00:00"),
                                                shift("2018-12-24T13:00:00", "2018-12-24T19:00:00")}}},
      items = {item("01:31:08.3850000", 47.692290770423, -122.385954752402, 5),
               item("01:00:32.6770000", 47.6798098928389, -122.383036445391, 88),
               item("01:18:33.1900000", 47.6846639223203, -122.364839942855, 1),
               item("01:04:48.7630000", 47.6867440824094, -122.354711700877, 3),
               item("02:34:48.5430000", 47.6962193175262, -122.342180147243, 16)},
      method = "GET",
    }
    local function sync_get_answer()
      return example_json(R, type_is("OptimizeItinerary"), 1)
    end

    it("sends the synchronous GET example's URL", function()
      local c, sent = fake{sync_get_answer()}
      assert(c.routes.optimize(get_args))
      assert_same_url(sent[1].url, example_url(R, "/Routes/OptimizeItinerary?itineraryAgents=%20agentName"))
    end)

    it("decodes the synchronous GET answer", function()
      local c = fake{sync_get_answer()}
      local it_ = assert(c.routes.optimize(get_args))
      local ai = assert(it_:agent("agentName"))
      assert.equal(2, #ai.agent.shifts)
      assert.equal(4, it_:scheduled_count())
      local visits = it_:visits("agentName")
      assert.equal(4, #visits)
      assert.near(47.6846639223203, visits[1].latitude, 1e-12)
      assert.equal(18576, ai.route.totalTravelDistance)
      assert.is_true(is_integer(ai.route.totalTravelDistance))
      assert.equal("00:37:00", ai.route.totalTravelTime)
      assert.equal(6, #ai.route.wayPoints)
      assert.same({}, it_.unscheduledItems)
      assert.equal("Routes-OptimizeItinerary", it_.meta.billing.category)
      assert.equal(5, it_.meta.billing.transactions)     -- 1 agent x 5 items
    end)

    it("sends the synchronous POST example's body", function()
      local body = example_text(R, function(d)
        return type(d.agents) == "table" and type(d.agents[1].price) == "table" end)
      local ex = cjson.decode(body)
      local a = ex.agents[1]
      local shifts = {}
      for i, s in ipairs(a.shifts) do
        shifts[i] = {startTime = s.startTime, endTime = s.endTime, breaks = s.breaks,
                     startLocation = {s.startLocation.latitude, s.startLocation.longitude},
                     endLocation = {s.endLocation.latitude, s.endLocation.longitude}}
      end
      local items = {}
      for i, x in ipairs(ex.itineraryItems) do
        items[i] = {name = x.name, openingTime = x.openingTime, closingTime = x.closingTime,
                    dwellTime = x.dwellTime, priority = x.priority, quantity = x.quantity,
                    location = {x.location.latitude, x.location.longitude}, dropOffFrom = x.dropOffFrom}
      end
      local c, sent = fake{example_json(R, type_is("OptimizeItinerary"), 2)}
      local it_ = assert(c.routes.optimize{agents = {{name = a.name, shifts = shifts, price = a.price,
                                                     capacity = a.capacity}}, items = items})
      assert.equal("POST", sent[1].method)
      local u = parse_url(sent[1].url)
      assert.equal("/rest/v1/routes/optimizeitinerary", u.path:lower())
      assert.same({}, u.params)
      assert_same_body(sent[1], body)
      -- The answer of that request.
      assert.same({"loc1", "loc2", "loc3", "loc4", "loc5"}, it_:visits("agentName"))
      assert.equal(5, it_:scheduled_count())
      local ai = it_:agent("agentName")
      assert.same({16}, ai.agent.capacity)
      assert.is_true(is_integer(ai.agent.capacity[1]))
      assert.is_true(is_integer(ai.instructions[2].distance))
      assert.is_true(is_integer(ai.instructions[3].itineraryItem.quantity[1]))
      assert.equal(100, ai.agent.price.fixedPrice)
      assert.equal(10313, ai.route.totalTravelDistance)
      assert.same({}, it_.unusedAgents)
    end)

    it("sends the asynchronous GET example's URL and reads the completed itinerary inline", function()
      local accepted = example_json(R, type_is("RouteProxyAsyncResult"))
      local c, sent, now = fake{accepted, sync_get_answer()}
      local a = {async = true}
      for k, v in pairs(get_args) do a[k] = v end
      local job = assert(c.routes.optimize(a))
      assert_same_url(sent[1].url,
        example_url(R, "/Routes/OptimizeItineraryAsync?itineraryAgents=%20agentName"))
      assert.equal("9cdc842e-51ad-46c4-ac37-3ab465c7e877", job.id)
      assert.equal(1, job.status.callback_in)
      local it_ = assert(job:wait())
      assert.equal(1, now())
      assert.equal(2, #sent)                             -- no download: the status is the result
      local st = parse_url(sent[2].url)
      assert.equal("/rest/v1/routes/optimizeitineraryasynccallback", st.path:lower())
      assert.same({requestid = "9cdc842e-51ad-46c4-ac37-3ab465c7e877"}, st.params)
      assert.equal(4, it_:scheduled_count())
    end)
  end)
end)

---------------------------------------------------------------------------------------------
-- The emulator against the same examples: the example's own request (its URL or body, with
-- the emulator's host and key) answered in the example's shape: every field the example has,
-- with the same JSON type, and the same __type. The library is not involved here.
---------------------------------------------------------------------------------------------

-- Fields whose presence depends on the road or place (not on the API): a synthetic route
-- has its own hints, signs and traffic codes, a synthetic place its own address lines.
local DATA_DEPENDENT = {
  "%.hints%f[%W]", "%.signs%f[%W]", "%.warnings%f[%W]", "%.locationCodes%f[%W]",
  "%.roadShieldRequestParameters%f[%W]", "%.address%.",
  -- snap-points-to-roads.md: truck speed limits are no longer returned (2024-09-30).
  "%.truckSpeedLimit$",
}

local function shape(v, path, out)
  out = out or {}
  if type(v) ~= "table" then
    out[path] = v == cjson.null and "null" or type(v)
  elseif next(v) == nil then
    out[path] = out[path] or "empty"
  elseif #v > 0 then
    for _, x in ipairs(v) do shape(x, path .. "[]", out) end
  else
    for k, x in pairs(v) do shape(x, path .. "." .. tostring(k), out) end
  end
  return out
end

-- Problems of `got` (the emulator's answer) against `want` (the example's): fields missing
-- or of another JSON type. `allowed`: more path patterns that may be missing.
local function shape_problems(got, want, allowed)
  local g, w = shape(got, ""), shape(want, "")
  local function present(p)
    if g[p] then return true end
    for k in pairs(g) do
      if k:sub(1, #p + 1) == p .. "[" or k:sub(1, #p + 1) == p .. "." then return true end
    end
    return false
  end
  local problems = {}
  for p, t in pairs(w) do
    local skip = false
    for _, pat in ipairs(DATA_DEPENDENT) do if p:find(pat) then skip = true end end
    for _, pat in ipairs(allowed or {}) do if p:find(pat) then skip = true end end
    if not skip then
      if t == "null" or t == "empty" then
        if not present(p) then problems[#problems + 1] = p .. ": missing" end
      elseif g[p] == nil then
        problems[#problems + 1] = p .. ": missing (" .. t .. ")"
      elseif g[p] ~= t and g[p] ~= "null" then
        problems[#problems + 1] = string.format("%s: %s, example %s", p, g[p], t)
      end
    end
  end
  table.sort(problems)
  return problems
end

local function first_resource(doc)
  local sets = type(doc) == "table" and doc.resourceSets
  return type(sets) == "table" and sets[1] and sets[1].resources and sets[1].resources[1] or nil
end

describe("the emulator on the Routes reference examples' requests", function()
  local sim = require "support.sim"
  setup(function() sim.reset() end)

  -- The example's URL on the emulator: its host, its key; `o`/`output` dropped (JSON);
  -- `values` replaces parameter values (places the emulator's gazetteer does not hold).
  local function on_sim(example, values)
    local rest = example:match("^%s*%a+://[^/]+(.-)%s*$")
    local path, query = rest:match("^([^?]*)%??(.*)$")
    local parts = {}
    for pair in query:gmatch("[^&]+") do
      local k = pair:match("^([^=]*)")
      local lk = unescape(k):lower()
      if lk ~= "key" and lk ~= "o" and lk ~= "output" then
        if values and values[unescape(k)] then pair = k .. "=" .. values[unescape(k)] end
        parts[#parts + 1] = pair
      end
    end
    parts[#parts + 1] = "key=" .. sim.key
    return sim.url .. path .. "?" .. table.concat(parts, "&")
  end

  local function fetch(method, url, body)
    local status, text = sim.request(method, url, {body = body,
      headers = {["X-Bingsim-Job-Delay"] = "0", ["Content-Type"] = body and "application/json" or nil}})
    assert.equal(200, status, tostring(text))
    return cjson.decode(text)
  end

  local function assert_shape(got, want, allowed)
    local problems = shape_problems(got, want, allowed)
    assert(#problems == 0, "the emulator's answer differs from the example's shape:\n  "
      .. table.concat(problems, "\n  "))
    local gr, wr = first_resource(got), first_resource(want)
    if wr then assert.equal(wr.__type, gr and gr.__type) end
  end

  -- Polls an accepted job's callbackUrl until it completes; returns the completed status.
  local function completed(accepted)
    local url = first_resource(accepted).callbackUrl
    local done
    sim.poll(function()
      done = fetch("GET", url)
      return first_resource(done).isCompleted == true
    end, 10)
    return done
  end

  it("answers the driving, route path, walking and optimized-waypoints examples", function()
    for _, case in ipairs{
      {"examples/driving-route-example.md", "/Routes/Driving?"},
      {"examples/driving-route-with-route-path-example.md", "/Routes/Driving?"},
      {"examples/walking-route-example.md", "/Routes/Walking?"},
      {"examples/optimized-waypoints-example.md", "/Routes/Driving?"},
    } do
      local got = fetch("GET", on_sim(example_url(case[1], case[2])))
      assert_shape(got, example_json(case[1], type_is("Route")))
    end
  end)

  it("answers the transit example (from its actual start and end points)", function()
    local F = "examples/transit-route-example.md"
    local want = example_json(F, type_is("Route"))
    local got = fetch("GET", on_sim(example_url(F, "/Routes/Transit?"),
      {["wp.0"] = "37.818314,-122.478302", ["wp.1"] = "37.808316,-122.414979"}))
    -- route-data.md: startLocation / endLocation "only when the waypoint is specified as a
    -- landmark or an address", and these are points.
    assert_shape(got, want, {"%.startLocation", "%.endLocation"})
  end)

  it("answers the truck example, GET and POST", function()
    local F = "examples/truck-route-example.md"
    local want = example_json(F, type_is("Route"))
    assert_shape(fetch("GET", on_sim(example_url(F, "/Routes/Truck?wp.0"))), want)
    local body = example_text(F, function(d) return d.vehicleSpec ~= nil end)
    assert_shape(fetch("POST", on_sim(example_url(F, "/Routes/Truck?key=")), body), want)
  end)

  it("answers the truck asynchronous example: accepted, completed, downloaded", function()
    local F = "examples/truck-route-asynchronous-example.md"
    local accepted = fetch("GET", on_sim(example_url(F, "/Routes/TruckAsync?wp.0")))
    assert_shape(accepted, example_json(F, function(d) return type_is("RouteProxyAsyncResult")(d)
      and d.resourceSets[1].resources[1].isCompleted == nil end))
    assert.is_nil(first_resource(accepted).isCompleted)
    local done = completed(accepted)
    assert_shape(done, example_json(F, function(d) return type_is("RouteProxyAsyncResult")(d)
      and d.resourceSets[1].resources[1].isCompleted == true end))
    assert_shape(fetch("GET", first_resource(done).resultUrl), example_json(F, type_is("Route")))
  end)

  it("answers the distance matrix examples, GET and POST, sync and async", function()
    local F = "examples/distance-matrix-example.md"
    local want = example_json(F, type_is("DistanceMatrix"))
    assert_shape(fetch("GET", on_sim(example_url(F, "/Routes/DistanceMatrix?origins"))), want)
    local body = example_text(F, function(d) return d.origins ~= nil and d.resourceSets == nil end)
    assert_shape(fetch("POST", on_sim(example_url(F, "/Routes/DistanceMatrix?key=")), body), want)

    local A = "examples/distance-matrix-asynchronous-example.md"
    local accepted = fetch("GET", on_sim(example_url(A, "/Routes/DistanceMatrixAsync?origins")))
    assert_shape(accepted, example_json(A, function(d) return type_is("DistanceMatrixAsyncStatus")(d)
      and not d.resourceSets[1].resources[1].isCompleted end))
    local done = completed(accepted)
    assert_shape(done, example_json(A, function(d) return type_is("DistanceMatrixAsyncStatus")(d)
      and d.resourceSets[1].resources[1].isCompleted == true end))
    -- The download is a bare DistanceMatrix (no envelope), on another host.
    local url = first_resource(done).resultUrl
    assert.are_not.equal(sim.url:match("^%a+://([^/]+)"), url:match("^%a+://([^/]+)"))
    assert_shape(fetch("GET", url), example_json(A, function(d) return d.results ~= nil end))
  end)

  it("answers the isochrone examples, sync and async", function()
    local F = "examples/isochrone-example.md"
    assert_shape(fetch("GET", on_sim(example_url(F, "/Routes/Isochrones?"))),
      example_json(F, type_is("IsochroneResponse")))
    local R = "routes/calculate-an-isochrone.md"
    local body = example_text(R, function(d) return d.waypoint ~= nil end)
    assert_shape(fetch("POST", on_sim(example_url(R, "/Routes/Isochrones?key=")), body),
      example_json(F, type_is("IsochroneResponse")))

    local A = "examples/isochrone-asynchronous-example.md"
    local accepted = fetch("GET", on_sim(example_url(A, "/Routes/IsochronesAsync?")))
    assert_shape(accepted, example_json(A, function(d) return type_is("RouteProxyAsyncResult")(d)
      and d.resourceSets[1].resources[1].isCompleted == nil end))
    local done = completed(accepted)
    assert_shape(done, example_json(A, function(d) return type_is("RouteProxyAsyncResult")(d)
      and d.resourceSets[1].resources[1].isCompleted == true end))
    assert_shape(fetch("GET", first_resource(done).resultUrl),
      example_json(A, type_is("IsochroneResponse")))
  end)

  it("answers the snap to road example, GET and POST", function()
    local F = "examples/snap-to-road-example.md"
    local want = example_json(F, type_is("SnapToRoadResponse"))
    assert_shape(fetch("GET", on_sim(example_url(F, "/Routes/SnapToRoad?points"))), want)
    local body = example_text(F, function(d) return d.points ~= nil end)
    assert_shape(fetch("POST", on_sim(example_url(F, "/Routes/SnapToRoad?key=")), body), want)
  end)

  it("answers the itinerary optimization examples: GET, POST, and async completing inline", function()
    local R = "routes/optimized-itinerary.md"
    local get_answer = example_json(R, type_is("OptimizeItinerary"), 1)
    assert_shape(fetch("GET",
      on_sim(example_url(R, "/Routes/OptimizeItinerary?itineraryAgents=%20agentName"))), get_answer)
    local body = example_text(R, function(d)
      return type(d.agents) == "table" and type(d.agents[1].price) == "table" end)
    assert_shape(fetch("POST", on_sim("https://dev.virtualearth.net/REST/V1/Routes/OptimizeItinerary"),
      body), example_json(R, type_is("OptimizeItinerary"), 2))
    local accepted = fetch("GET",
      on_sim(example_url(R, "/Routes/OptimizeItineraryAsync?itineraryAgents=%20agentName")))
    assert_shape(accepted, example_json(R, type_is("RouteProxyAsyncResult")))
    assert.is_false(first_resource(accepted).isCompleted)
    -- optimized-itinerary.md: completed, the status is the itinerary itself.
    local url = first_resource(accepted).callbackUrl
    local done
    sim.poll(function()
      done = fetch("GET", url)
      return first_resource(done).__type:match("^OptimizeItinerary:") ~= nil
    end, 10)
    assert_shape(done, get_answer)
  end)
end)
