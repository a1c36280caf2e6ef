-- client.imagery (rest-services/imagery/): metadata with tile URLs, basic metadata, static
-- maps as images (PNG header, size, a pixel under a pushpin), their metadata, pushpins by GET
-- and by POST, route maps, the documented limits, billing against the emulator's ledger, and
-- the reference's example answers through a Lua transport.
local sim = require "support.sim"
local reference = require "support.reference"
local cjson = require "cjson.safe"
local tiles = require "bing.tiles"
local imagery = require "bing.api.imagery"

local FIXTURES = "spec/fixtures/reference/imagery/"

local read = reference.file

local function fixture(name) return assert(cjson.decode(read(FIXTURES .. name))) end

-- The text of a fixture's "response" (its last member), every digit as the page has it.
local function response_text(name)
  local text = read(FIXTURES .. name)
  local body = text:match('"response"%s*:%s*(.*)}%s*$')
  assert(cjson.decode(body), name)
  return body
end

-- A client whose transport answers `body` with `ctype`,
-- and records the request.
local function canned(body, ctype)
  return reference.client{key = "ImageryKey-0123456789", body = body, content_type = ctype}
end

-- The meter's per-category counts next to the ledger's, for the emulator's key.
local function meter_matches_ledger(c)
  local usage = c:usage()
  local ledger = sim.ledger().SIM_KEY or {}
  for cat, row in pairs(ledger) do
    local mine = usage.categories[cat]
    assert.is_table(mine, cat)
    assert.same({row.billable, row.non_billable, row.requests},
      {mine.billable, mine.non_billable, mine.requests}, cat)
  end
  local n = 0
  for _ in pairs(usage.categories) do n = n + 1 end
  local m = 0
  for _ in pairs(ledger) do m = m + 1 end
  assert.equal(m, n)
end

-- A PNG reader for what the emulator writes, independent of the library's header reader.
local decode_png = require("support.png").decode

describe("imagery.metadata", function()
  local c
  before_each(function()
    sim.reset()
    c = sim.client()
  end)

  it("asks Imagery/Metadata/{set} and fills the template through bing.tiles", function()
    local list = assert(c.imagery.metadata{imagerySet = "RoadOnDemand", include = "ImageryProviders"})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Imagery/Metadata/RoadOnDemand", req.path)
    assert.same({include = "ImageryProviders", key = "<redacted>"}, req.query)
    assert.equal(1, #list)
    local m = list[1]
    assert.equal(sim.url .. "/tiles/{subdomain}/ro{quadkey}.png?g=1&mkt={culture}", m.imageUrl)
    assert.same({"t0", "t1", "t2", "t3"}, m.imageUrlSubdomains)
    assert.same({256, 256, 1, 21}, {m.imageWidth, m.imageHeight, m.zoomMin, m.zoomMax})
    if math.type then assert.equal("integer", math.type(m.zoomMax)) end
    assert.is_nil(m.vintageStart)            -- JSON null
    assert.is_table(m.imageryProviders[1].coverageAreas)
    local qk = tiles.tile_to_quadkey(3, 5, 4)
    local want = tiles.url(m.imageUrl, qk, {subdomains = m.imageUrlSubdomains, culture = "en-US"})
    assert.equal(want, m:tile_url(3, 5, 4))
    assert.equal(want, m:tile_url(qk))
    assert.equal((want:gsub("mkt=en%-US", "mkt=fr-FR")), m:tile_url(qk, {culture = "fr-FR"}))
    -- The URL is a tile the emulator serves (keyless).
    local st, body = sim.request("GET", (m:tile_url(qk):gsub("^https?://[^/]+", "")))
    assert.equal(200, st)
    assert.same({"png", 256, 256}, {imagery.Image.size_of(body)})
    assert.equal("RESTImagery-Metadata", list.meta.billing.category)
    assert.is_true(list.meta.billing.billable)
    meter_matches_ledger(c)
  end)

  it("downloads a tile as an Image through the client, keyless and not billed", function()
    local m = assert(c.imagery.metadata{imagerySet = "CanvasLight"})[1]
    local since = sim.last_id()
    local img = assert(m:tile(1, 2, 3))
    local req = sim.log(since)[1]
    assert.equal("/tiles/" .. m:tile_url(1, 2, 3):match("/tiles/(.-)%?"), req.path)
    assert.equal("missing", req.key_kind)
    assert.same({"png", "image/png", 256, 256}, {img.format, img.content_type, img.width, img.height})
    assert.is_false(img.meta.billing.billable)
    meter_matches_ledger(c)
    local saved = imagery.ImageryMetadata.new({imageUrl = m.imageUrl, imageUrlSubdomains = {"t2"}}, c)
    assert.equal(m:tile_url("120", {subdomain = "t2"}), saved:tile_url("120"))
    assert(saved:tile("120"))
    -- A set code the emulator does not have: its 404 comes back as an error, not an Image.
    local none = imagery.ImageryMetadata.new({imageUrl = sim.url .. "/tiles/{subdomain}/zz{quadkey}.png",
      imageUrlSubdomains = {"t0"}}, c)
    local img2, err = none:tile("0")
    assert.is_nil(img2)
    assert.same({"http", 404}, {err.kind, err.status})
    local orphan = imagery.ImageryMetadata.new{imageUrl = m.imageUrl, imageUrlSubdomains = {"t0"}}
    assert.has_error(function() orphan:tile("0") end)
  end)

  it("sends a centerPoint segment with zoomLevel, and gives that tile's URL", function()
    local list = assert(c.imagery.metadata{imagerySet = "Aerial", centerPoint = {40.71455, -74.007125},
      zoomLevel = 15, culture = "de-DE"})
    local req = sim.last_request()
    assert.equal("/REST/v1/Imagery/Metadata/Aerial/40.71455,-74.007125", req.path)
    assert.same({zoomLevel = "15", culture = "de-DE", key = "<redacted>"}, req.query)
    local m = list[1]
    local qk = tiles.latlon_to_quadkey(40.71455, -74.007125, 15)
    assert.truthy(m.imageUrl:find("/a" .. qk .. ".png", 1, true))
    assert.equal((m.imageUrl:gsub("{culture}", "de-DE")), m:tile_url())
    assert.has_error(function() m:tile_url(qk) end)
  end)

  it("fills Birdseye's {zoom} and {tileId}; refuses levels outside zoomMin..zoomMax", function()
    local m = assert(c.imagery.metadata{imagerySet = "Birdseye", centerPoint = {47.62, -122.35},
      orientation = 90})[1]
    assert.equal("90", sim.last_request().query.orientation)
    assert.equal(90, m.orientation)
    local url = m:tile_url{zoom = 19, tileId = 5}
    assert.truthy(url:find("-19-5.png", 1, true), url)
    assert.is_nil(url:find("{", 1, true))
    local ok, err = pcall(m.tile_url, m, {zoom = 19})
    assert.is_false(ok)
    assert.matches("{tileId} is not filled", err.message)
    local road = assert(c.imagery.metadata{imagerySet = "Road"})[1]
    ok, err = pcall(road.tile_url, road, 0, 0, 20)
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.matches("outside this imagery's zoomMin..zoomMax %(1..19%)", err.message)
  end)

  it("asks BasicMetadata with basic = true, a non-billable category without imageUrl", function()
    local list = assert(c.imagery.metadata{imagerySet = "Aerial", centerPoint = {47.6, -122.3},
      zoomLevel = 10, basic = true})
    assert.equal("/REST/v1/Imagery/BasicMetadata/Aerial/47.6,-122.3", sim.last_request().path)
    assert.is_nil(list[1].imageUrl)
    assert.equal(10, list[1].zoomMin)
    assert.same({category = "RESTImagery-BasicMetadata", billable = false},
      {category = list.meta.billing.category, billable = list.meta.billing.billable})
    assert.has_error(function() list[1]:tile_url("0") end)
    assert(c.imagery.basic_metadata{imagerySet = "Streetside", centerPoint = {47.668687, -122.384795}})
    assert.equal("/REST/v1/Imagery/BasicMetadata/Streetside/47.668687,-122.384795",
      sim.last_request().path)
    assert(c.imagery.metadata{imagerySet = "RoadOnDemand"})
    meter_matches_ledger(c)
    local usage = c:usage()
    assert.same({0, 2}, {usage.categories["RESTImagery-BasicMetadata"].billable,
                        usage.categories["RESTImagery-BasicMetadata"].non_billable})
  end)

  it("refuses query (geocode first), missing centerPoints and the limits, sending nothing", function()
    local since = sim.last_id()
    local ok, err = pcall(c.imagery.metadata, {imagerySet = "Road", query = "Seattle"})
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.matches("query is not a parameter of the Imagery Metadata API.*geocode first", err.message)
    assert.has_error(function() c.imagery.metadata{imagerySet = "Birdseye"} end)
    assert.has_error(function() c.imagery.metadata{imagerySet = "Road", centerPoint = {1, 2}} end)
    assert.has_error(function() c.imagery.metadata{imagerySet = "Aerial", zoomLevel = 3} end)
    assert.has_error(function() c.imagery.metadata{} end)
    sim.assert_refused(function() return c.imagery.metadata{imagerySet = "Satellite"} end,
      "imagerySet 'Satellite' is not one of")
    sim.assert_refused(function()
      return c.imagery.metadata{imagerySet = "RoadOnDemand", centerPoint = {1, 2}, zoomLevel = 22}
    end, "zoomLevel must be an integer from 1 to 21, got 22")
    sim.assert_refused(function()
      return c.imagery.metadata{imagerySet = "Birdseye", centerPoint = {1, 2}, orientation = 361}
    end, "orientation must be within %[0, 360%]")
    sim.assert_refused(function()
      return c.imagery.metadata{imagerySet = "Road", orientation = 90}
    end, "orientation only applies to Birdseye")
    sim.assert_refused(function()
      return c.imagery.metadata{imagerySet = "Road", include = "Vintage"}
    end, "include%[1%] 'Vintage' is not one of ImageryProviders")
    sim.assert_refused(function()
      return c.imagery.metadata{imagerySet = "Road", centerPoint = {91, 0}, zoomLevel = 3}
    end, "centerPoint latitude must be within")
    assert.equal(0, #sim.log(since))
  end)
end)

describe("imagery.static_map", function()
  local c
  before_each(function()
    sim.reset()
    c = sim.client()
  end)

  it("returns the PNG as an Image with its size from the header and a pin where it is drawn", function()
    local args = {imagerySet = "Road", centerPoint = {47.615, -122.34}, zoomLevel = 14,
      mapSize = {400, 300}, pushpins = {{47.62, -122.35}, {point = {47.61, -122.33}, iconStyle = 7,
      label = "AB"}}, format = "png"}
    local img = assert(c.imagery.static_map(args))
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/Imagery/Map/Road/47.615,-122.34/14", req.path)
    assert.same({mapSize = "400,300", pp = {"47.62,-122.35", "47.61,-122.33;7;AB"}, format = "png",
                 key = "<redacted>"}, req.query)
    assert.equal("image/png", img.content_type)
    assert.same({400, 300}, {img.width, img.height})
    local png = decode_png(img.bytes)
    assert.same({400, 300}, {png.width, png.height})
    args.mapMetadata = true
    local md = assert(c.imagery.static_map(args))
    assert.equal("1", sim.last_request().query.mapMetadata)
    local a = md.pushpins[2].anchor
    if math.type then assert.equal("integer", math.type(a.x)) end
    -- The emulator's style 7 is a red box standing on its anchor.
    assert.same({214, 40, 40}, png.rgb(a.x - 8, a.y - 20))
    assert.is_false(png.rgb(5, 290)[1] == 214 and png.rgb(5, 290)[2] == 40)
    assert.same({400, 300, 14}, {md.imageWidth, md.imageHeight, md.zoom})
    assert.same({47.615, -122.34}, md.mapCenter.coordinates)
    local gj = md:geojson()
    assert.equal("FeatureCollection", gj.type)
    assert.equal("Polygon", gj.features[1].geometry.type)
    assert.same({-122.33, 47.61}, gj.features[3].geometry.coordinates)
    assert.equal("RESTImagery-StaticMap", img.meta.billing.category)
    meter_matches_ledger(c)
  end)

  it("reads GIF and the default JPEG headers; saves the bytes", function()
    local gif = assert(c.imagery.static_map{imagerySet = "Aerial", query = "Seattle, WA",
      mapSize = {123, 87}, format = "gif"})
    assert.equal("/REST/v1/Imagery/Map/Aerial/Seattle,%20WA", sim.last_request().raw_path)
    assert.same({"image/gif", "gif", 123, 87}, {gif.content_type, gif.format, gif.width, gif.height})
    local jpeg = assert(c.imagery.static_map{imagerySet = "CanvasDark", mapArea = {45.219, -122.325,
      47.61, -122.107}, mapSize = {81, 1500}})
    assert.equal("45.219,-122.325,47.61,-122.107", sim.last_request().query.mapArea)
    assert.same({"image/jpeg", 81, 1500}, {jpeg.content_type, jpeg.width, jpeg.height})
    local path = os.tmpname()
    assert.is_true(jpeg:save(path))
    assert.equal(jpeg.bytes, read(path))
    os.remove(path)
    local ok, err = jpeg:save("/nonexistent-dir/x.jpg")
    assert.is_nil(ok)
    assert.equal("argument", err.kind)
  end)

  it("POSTs more than 18 pushpins as a text/plain body, up to 100", function()
    local pins = {}
    for i = 1, 19 do pins[i] = {47.6 + i / 1000, -122.3, label = tostring(i)} end
    local img = assert(c.imagery.static_map{imagerySet = "Road", pushpins = pins, mapSize = {300, 200},
      declutterPins = true})
    local req = sim.last_request()
    assert.equal("POST", req.method)
    assert.equal("/REST/v1/Imagery/Map/Road", req.path)
    assert.same({mapSize = "300,200", declutterPins = "1", key = "<redacted>"}, req.query)
    assert.equal("text/plain; charset=utf-8", req.headers["content-type"])
    local lines = {}
    for line in (req.body .. "\r\n"):gmatch("(.-)\r\n") do lines[#lines + 1] = line end
    assert.equal(19, #lines)
    assert.equal("pp=47.601,-122.3;;1", lines[1])
    assert.equal("pp=47.619,-122.3;;19", lines[19])
    assert.same({300, 200}, {img.width, img.height})
    for i = 20, 100 do pins[i] = {40 + i / 100, -100} end
    assert(c.imagery.static_map{imagerySet = "Road", pushpins = pins})
    assert.equal("POST", sim.last_request().method)
    -- Few pins by POST when asked.
    assert(c.imagery.static_map{imagerySet = "Road", pushpins = {{1, 2}}, method = "POST"})
    assert.equal("pp=1,2", sim.last_request().body)
    -- 18 pins that would take a long URL past 2,083 characters go by POST too.
    local curve, few = {}, {}
    for i = 1, 90 do curve[i] = string.format("%.4f,%.4f", 47 + i / 1000, -122 - i / 1000) end
    for i = 1, 18 do few[i] = {47.05 + i / 1000, -122.05, label = "P" .. i} end
    assert(c.imagery.static_map{imagerySet = "Road", pushpins = few,
      drawCurve = "l,FF009900,3;" .. table.concat(curve, "_")})
    local long = sim.last_request()
    assert.same({"POST", 200, nil}, {long.method, long.status, long.query.pp})
    assert.equal(18, select(2, long.body:gsub("pp=", "")))
    assert.equal("l,FF009900,3;" .. table.concat(curve, "_"), long.query.drawCurve)
    pins[101] = {0, 0}
    sim.assert_refused(function() return c.imagery.static_map{imagerySet = "Road", pushpins = pins} end,
      "at most 100 pushpins %(by POST; 18 in a URL%), got 101")
    pins[101] = nil
    sim.assert_refused(function()
      return c.imagery.static_map{imagerySet = "Road", pushpins = pins, method = "GET"}
    end, "at most 18 pushpins in a GET URL, got 100")
    meter_matches_ledger(c)
  end)

  it("draws a route map, billed RESTImagery-StaticMapWithRoute", function()
    local loc = setmetatable({}, {__index = {latlon = function() return 47.64, -122.13 end}})
    local img = assert(c.imagery.static_map{imagerySet = "Road", mapSize = {500, 400}, format = "png",
      route = {waypoints = {"Seattle, WA", {query = "Redmond, WA", iconStyle = 66, label = "2"},
                            loc, {47.6, -122.2}}, travelMode = "Walking"}})
    local req = sim.last_request()
    assert.equal("/REST/v1/Imagery/Map/Road/Routes/Walking", req.path)
    assert.same({mapSize = "500,400", ["waypoint.1"] = "Seattle, WA", ["waypoint.2"] = "Redmond, WA;66;2",
      ["waypoint.3"] = "47.64,-122.13", ["waypoint.4"] = "47.6,-122.2", format = "png",
      key = "<redacted>"}, req.query)
    assert.same({500, 400}, {img.width, img.height})
    assert.equal("RESTImagery-StaticMapWithRoute", img.meta.billing.category)
    assert(c.imagery.static_map{imagerySet = "Road", centerPoint = {47.6, -122.3}, zoomLevel = 12,
      route = {waypoints = {{47.6, -122.3}, {47.7, -122.2}}, avoid = {"tolls", "minimizeHighways"}}})
    req = sim.last_request()
    assert.equal("/REST/v1/Imagery/Map/Road/47.6,-122.3/12/Routes/Driving", req.path)
    assert.equal("tolls,minimizeHighways", req.query.avoid)
    local plan = c.imagery.static_map{imagerySet = "Road", route = {waypoints = {"a", "b"}}, dry_run = true}
    assert.equal("RESTImagery-StaticMapWithRoute", plan.billing.category)
    meter_matches_ledger(c)
    assert.equal(2, sim.ledger().SIM_KEY["RESTImagery-StaticMapWithRoute"].billable)
  end)

  it("refuses every documented limit before sending, and raises on shape errors", function()
    local since = sim.last_id()
    local function refused(args, pattern)
      args.imagerySet = args.imagerySet or "Road"
      sim.assert_refused(function() return c.imagery.static_map(args) end, pattern)
    end
    local at = {centerPoint = {47.6, -122.3}, zoomLevel = 10}
    local function with(t)
      local out = {centerPoint = at.centerPoint, zoomLevel = at.zoomLevel}
      for k, v in pairs(t) do out[k] = v end
      return out
    end
    refused(with{mapSize = {79, 300}}, "mapSize width must be an integer from 80 to 2000 pixels, got 79")
    refused(with{mapSize = {2001, 300}}, "width must be an integer from 80 to 2000")
    refused(with{mapSize = {300, 1501}}, "height must be an integer from 80 to 1500 pixels, got 1501")
    refused(with{zoomLevel = 21}, "zoomLevel must be an integer from 0 to 20 for Road imagery, got 21")
    refused(with{imagerySet = "BirdsEye", zoomLevel = 17}, "from 18 to 22 for BirdsEye imagery, got 17")
    refused(with{imagerySet = "BirdsEye", zoomLevel = 20, mapLayer = "TrafficFlow"},
      "mapLayer is not supported for Bird's Eye")
    refused(with{pushpins = {{1, 2, label = "ABCD"}}}, "pushpins%[1%].label must have at most 3 characters")
    refused(with{pushpins = {{1, 2, label = "A;B"}}}, "must not hold ';'")
    refused(with{pushpins = {{1, 2, iconStyle = 137}}}, "iconStyle must be an integer from 0 to 136")
    refused(with{pushpins = {{91, 2}}}, "pushpins%[1%] latitude must be within")
    refused(with{format = "bmp"}, "format 'bmp' is not one of gif, jpeg, png")
    refused(with{mapLayer = "Clouds"}, "mapLayer%[1%] 'Clouds' is not one of")
    refused(with{drawCurve = "x,FF000000"}, "drawCurve%[1%] must start with a shape type")
    refused(with{heading = 90}, "heading only applies to Streetside imagery")
    refused(with{imagerySet = "Streetside", pitch = 91}, "pitch must be within %[%-90, 90%]")
    refused({imagerySet = "Streetside", centerPoint = {1, 2}, fieldOfView = 121},
      "fieldOfView must be an integer from 15 to 120")
    refused({mapArea = {45, -122, 46, -121}, zoomLevel = 5}, "zoomLevel needs a centerPoint or a query")
    local many = {}
    for i = 1, 26 do many[i] = {40, -100 + i / 10} end
    refused({route = {waypoints = many}}, "route.waypoints must hold 2 to 25 waypoints, got 26")
    refused({route = {waypoints = {"a"}}}, "must hold 2 to 25 waypoints, got 1")
    refused({route = {waypoints = {"a", "b"}, travelMode = "Transit"}},
      "Transit routes require dateTime and timeType")
    refused({route = {waypoints = {"a", "b"}, travelMode = "Truck"}}, "travelMode 'Truck' is not one of")
    refused({route = {waypoints = {"a", {1, 2, label = "LONG"}}}}, "label must have at most 3")
    refused({route = {waypoints = {"a", "b"}, timeType = "Arrival"}}, "only apply to Transit routes")
    local curve = {}
    for i = 1, 200 do curve[i] = string.format("%.4f,%.4f", 47 + i / 1000, -122 - i / 1000) end
    refused(with{drawCurve = "l,FF009900,3;" .. table.concat(curve, "_")},
      "the request URL would be %d+ characters without its pushpins, more than the 2083")
    local basic = sim.client{account = "basic"}
    sim.assert_refused(function()
      return basic.imagery.static_map{imagerySet = "Streetside", centerPoint = {1, 2}, mapSize = {401, 300}}
    end, "at most 400x400 with a basic account")
    assert.has_error(function() c.imagery.static_map{imagerySet = "Road"} end)
    assert.has_error(function()
      c.imagery.static_map{imagerySet = "Road", query = "Seattle", centerPoint = {1, 2}, zoomLevel = 3}
    end)
    assert.has_error(function() c.imagery.static_map{imagerySet = "Road", centerPoint = {1, 2}} end)
    assert.has_error(function()
      c.imagery.static_map{imagerySet = "Road", query = "x", route = {waypoints = {"a", "b"}}}
    end)
    assert.has_error(function() c.imagery.static_map{imagerySet = "Road", pushpins = "1,2"} end)
    assert.has_error(function()
      c.imagery.static_map{imagerySet = "Road", route = {waypoints = {"a", "b"}, via = 1}}
    end)
    assert.has_error(function() c.imagery.static_map{imagerySet = "Road", size = {100, 100}} end)
    assert.equal(0, #sim.log(since))
  end)

  it("passes the emulator's drawing options: drawCurve, highlightEntity, Streetside angles", function()
    assert(c.imagery.static_map{imagerySet = "Road", centerPoint = {37.6288, -122.2565}, zoomLevel = 10,
      drawCurve = {"c,64009900,FF009900,2,50;37.428175,-122.16968", "l,FF009900,3"}, dpi = "large"})
    local req = sim.last_request()
    assert.equal(200, req.status)
    assert.same({"c,64009900,FF009900,2,50;37.428175,-122.16968", "l,FF009900,3"}, req.query.drawCurve)
    assert.equal("Large", req.query.dpi)
    assert(c.imagery.static_map{imagerySet = "Road", query = "Redmond", zoomLevel = 12,
      highlightEntity = true})
    req = sim.last_request()
    assert.same({"/REST/v1/Imagery/Map/Road/Redmond", "12", "1"}, {req.path, req.query.zoomLevel,
      req.query.highlightEntity})
    local ss = assert(c.imagery.static_map{imagerySet = "Streetside", centerPoint = {47.668687, -122.384795},
      heading = 145, pitch = 5, zoomLevel = 5})
    assert.equal("/REST/v1/Imagery/Map/Streetside/47.668687,-122.384795/5", sim.last_request().path)
    assert.same({350, 350}, {ss.width, ss.height})
  end)
end)

describe("imagery on the reference's example answers", function()
  it("decodes Get Road imagery metadata and fills its template", function()
    local c, sent = canned(response_text("metadata-road.json"))
    local list = assert(c.imagery.metadata{imagerySet = "Road"})
    assert.equal("https://dev.virtualearth.net/REST/v1/Imagery/Metadata/Road?key=ImageryKey-0123456789",
      sent[1].url)
    local m = list[1]
    assert.same({256, 256, 1, 19}, {m.imageWidth, m.imageHeight, m.zoomMin, m.zoomMax})
    assert.equal("d709a168fde44fe496dcbfafd829185d", list.meta.trace_id)
    -- 0231: x = 3, y = 6 (sum 9): subdomain t1 of four, as bing.tiles.url spreads them.
    assert.same({3, 6, 4}, {tiles.quadkey_to_tile("0231")})
    assert.equal("http://ecn.t1.tiles.virtualearth.net/tiles/r0231.jpeg?g=129&mkt=en-US&shading=hill&stl=H",
      m:tile_url("0231"))
    assert.equal(m:tile_url("0231"), m:tile_url(3, 6, 4))
  end)

  it("decodes the Aerial street-level, Birdseye and Streetside examples", function()
    local aerial = assert(canned(response_text("metadata-aerial-point.json")).imagery.metadata{
      imagerySet = "Aerial", centerPoint = {40.714550167322159, -74.007124900817871}, zoomLevel = 15})[1]
    assert.same({"01 Jan 2006 GMT", "31 Jan 2006 GMT", 15, 15},
      {aerial.vintageStart, aerial.vintageEnd, aerial.zoomMin, aerial.zoomMax})
    assert.is_nil(aerial.imageUrlSubdomains)
    -- The page's own "{culture}}" typo stays as it came.
    assert.equal("http://ecn.t3.tiles.virtualearth.net/tiles/a032010110123333.jpeg?g=471&mkt=en-US}",
      aerial:tile_url())
    local be = assert(canned(response_text("metadata-birdseye.json")).imagery.metadata{
      imagerySet = "Birdseye", centerPoint = {37.779160067439079, -122.42004945874214}})[1]
    assert.same({512, 9, 14, 0, 18, 21}, {be.imageWidth, be.tilesX, be.tilesY, be.orientation, be.zoomMin,
      be.zoomMax})
    assert.equal("http://ak.t3.tiles.virtualearth.net/tiles/be000122033113001-9-14-19-7.jpeg?g=5777"
      .. "&key={BingMapsKey}", be:tile_url{zoom = 19, tileId = 7})
    local ss = assert(canned(response_text("metadata-streetside.json")).imagery.metadata{
      imagerySet = "Streetside", centerPoint = {47.668687, -122.384795}})[1]
    assert.same({52.286, 47.668696, -122.384813, 0.638, -0.326}, {ss.he, ss.lat, ss.lon, ss.pi, ss.ro})
    assert.equal("http://ecn.t2.tiles.virtualearth.net/tiles/hs0203232101212100" .. "12"
      .. "?g={BingMapsAPIKey}", ss:tile_url{faceId = 1, tileId = 2})
  end)

  it("decodes the static map metadata example, numbers from its strings", function()
    local f = fixture("static-map-metadata.json")
    local c, sent = canned(response_text("static-map-metadata.json"))
    local md = assert(c.imagery.static_map{imagerySet = "Road", centerPoint = {47.619048, -122.35384},
      zoomLevel = 15, mapSize = {500, 500}, mapMetadata = true, pushpins = {
        {47.620495, -122.34931, iconStyle = 21, label = "AA"}, {47.619385, -122.351485, label = "AB"},
        {47.616295, -122.3556, iconStyle = 22}}})
    -- The request is the page's, with our parameter order and the mapMetadata flag's name.
    local path = sent[1].url:match("^https://dev.virtualearth.net(/[^?]*)")
    assert.equal(f.request:match("^[^?]*"), path)
    local q = sent[1].url:match("%?(.*)$"):gsub("%%3B", ";")
    assert.equal("mapSize=500,500&pp=47.620495,-122.34931;21;AA&pp=47.619385,-122.351485;;AB"
      .. "&pp=47.616295,-122.3556;22&mapMetadata=1&key=ImageryKey-0123456789", q)
    assert.same({500, 500, 15}, {md.imageWidth, md.imageHeight, md.zoom})
    assert.same({47.619048, -122.35384}, md.mapCenter.coordinates)
    assert.same({47.611833900404896, -122.36456394195557, 47.626268662877358, -122.34314918518068}, md.bbox)
    assert.same({x = 355, y = 200}, md.pushpins[1].anchor)
    assert.same({x = 12, y = 25}, md.pushpins[1].topLeftOffset)
    assert.same({x = 13, y = 2}, md.pushpins[1].bottomRightOffset)
    assert.same({47.616295, -122.3556}, md.pushpins[3].point.coordinates)
    assert.equal("bfc64b786a054288a4b160743ddfec65", md.meta.trace_id)
  end)

  it("reads a JPEG's SOF size and refuses a body that is no image", function()
    -- SOI, an APP0 segment, SOF0 (precision 8, height 480, width 640).
    local jpeg = "\255\216\255\224\0\16JFIF\0\1\1\0\0\1\0\1\0\0" .. "\255\192\0\17\8\1\224\2\128\3"
      .. ("\0"):rep(12) .. "\255\217"
    local img = assert(canned(jpeg, "image/jpeg").imagery.static_map{imagerySet = "Road",
      centerPoint = {1, 2}, zoomLevel = 3})
    assert.same({"image/jpeg", 640, 480}, {img.content_type, img.width, img.height})
    local res, err = canned("GIF89a", "image/gif").imagery.static_map{imagerySet = "Road", query = "x"}
    assert.is_nil(res)
    assert.equal("decode", err.kind)
    res, err = canned("not an image", "image/png").imagery.static_map{imagerySet = "Road", query = "x"}
    assert.is_nil(res)
    assert.equal("decode", err.kind)
    -- A 200 JSON answer where an image was asked for is never decoded as a map.
    res, err = canned('{"resourceSets": []}').imagery.static_map{imagerySet = "Road", query = "x"}
    assert.is_nil(res)
    assert.equal("decode", err.kind)
  end)
end)
