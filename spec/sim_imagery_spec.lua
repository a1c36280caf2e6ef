-- The emulator's Imagery API (sim/lua/bingsim/imagery.lua): imagery metadata and basic
-- metadata against the reference's examples, the map tiles its templates point at, static
-- maps as real PNG / GIF / JPEG images with the pushpins drawn, their limits and billing.
-- Talks to the emulator through spec/support/sim.lua; images are decoded independently of the
-- encoders (PNG: stored deflate, in spec/support/png.lua; GIF: LZW, here) so that a pixel can
-- be checked.
local sim = require "support.sim"
local reference = require "support.reference"
local cjson = require "cjson.safe"
local bitops = require "support.bitops"
local pngread = require "support.png"

local band, bor, lshift, rshift = bitops.band, bitops.bor, bitops.lshift, bitops.rshift
local unpack = table.unpack or unpack -- LuaJIT: the 5.1 global

local IMG = "/REST/v1/Imagery"

local get = sim.get_keyed

-- A raw GET with the query string as given (pushpins repeat a name; order matters).
local function get_raw(path, query)
  local status, body, h = sim.request("GET", path .. "?" .. query .. "&key=" .. sim.encode(sim.key))
  assert(status, body)
  return status, body, h
end

local function fixture(name) return assert(cjson.decode(reference.read("imagery", name))) end

local function resource(doc) return doc.resourceSets[1].resources[1] end

-- JSON type names, with cjson's null as "null" and every number "number".
local function jtype(v)
  if v == cjson.null then return "null" end
  if type(v) == "table" then
    return (next(v) == nil or v[1] ~= nil) and "array" or "object"
  end
  return type(v)
end

-- Asserts that `actual` has the shape of `expected`: the same field names (only those of
-- `expected` when `subset`) with the same JSON types, recursively (arrays: every element
-- against the reference's first). Reports the path of the first difference.
local function assert_shape(expected, actual, subset, path)
  path = path or "$"
  local te, ta = jtype(expected), jtype(actual)
  assert(te == ta, ("%s: expected %s, got %s"):format(path, te, ta))
  if te == "object" then
    for k, v in pairs(expected) do
      assert(actual[k] ~= nil, ("%s.%s: missing"):format(path, k))
      assert_shape(v, actual[k], subset, path .. "." .. k)
    end
    if not subset then
      for k in pairs(actual) do
        assert(expected[k] ~= nil, ("%s.%s: not in the reference"):format(path, k))
      end
    end
  elseif te == "array" and expected[1] ~= nil then
    for i, v in ipairs(actual) do assert_shape(expected[1], v, subset, path .. "[" .. i .. "]") end
  end
end

---------------------------------------------------------------------------------------------
-- Image decoding (PNG in spec/support/png.lua; GIF, JPEG header)
---------------------------------------------------------------------------------------------

local decode_png, crc32 = pngread.decode, pngread.crc32

-- A GIF decoder for one image with a global colour table (what the emulator writes).
local function decode_gif(s)
  assert(s:sub(1, 6) == "GIF89a", "GIF signature")
  local w, h = bor(s:byte(7), lshift(s:byte(8), 8)), bor(s:byte(9), lshift(s:byte(10), 8))
  local flags = s:byte(11)
  assert(band(flags, 0x80) ~= 0, "global colour table")
  local ncolors = lshift(1, band(flags, 7) + 1)
  local pal = s:sub(14, 13 + 3 * ncolors)
  local p = 14 + 3 * ncolors
  assert(s:sub(p, p) == ",", "image descriptor")
  local min_size = s:byte(p + 10)
  p = p + 11
  local data = {}
  while s:byte(p) ~= 0 do
    data[#data + 1] = s:sub(p + 1, p + s:byte(p))
    p = p + 1 + s:byte(p)
  end
  assert(s:sub(p + 1, p + 1) == ";", "trailer")
  data = table.concat(data)
  local clear, eoi = lshift(1, min_size), lshift(1, min_size) + 1
  local size, next_code, dict, prev = min_size + 1, eoi + 1, {}, nil
  local out, bitpos = {}, 0
  local function read()
    local v = 0
    for b = 0, size - 1 do
      local byte = data:byte(rshift(bitpos, 3) + 1) or 0
      if band(rshift(byte, band(bitpos, 7)), 1) == 1 then v = bor(v, lshift(1, b)) end
      bitpos = bitpos + 1
    end
    return v
  end
  for k = 0, clear - 1 do dict[k] = {k} end
  while true do
    local code = read()
    if code == clear then
      size, next_code, prev = min_size + 1, eoi + 1, nil
      for k = eoi + 1, 4095 do dict[k] = nil end
    elseif code == eoi then
      break
    else
      local entry
      if dict[code] then
        entry = dict[code]
      else
        assert(code == next_code and prev, "LZW code")
        entry = {unpack(prev)}
        entry[#entry + 1] = prev[1]
      end
      for _, v in ipairs(entry) do out[#out + 1] = v end
      if prev and next_code < 4096 then
        local e = {unpack(prev)}
        e[#e + 1] = entry[1]
        dict[next_code] = e
        next_code = next_code + 1
        if next_code == lshift(1, size) and size < 12 then size = size + 1 end
      end
      prev = entry
    end
  end
  assert(#out == w * h, "pixel count")
  return {width = w, height = h, rgb = function(x, y)
    local k = out[y * w + x + 1]
    return {pal:byte(3 * k + 1), pal:byte(3 * k + 2), pal:byte(3 * k + 3)}
  end}
end

-- Width and height from a baseline JPEG's SOF0; checks SOI, EOI and the segments' order.
local function jpeg_size(s)
  assert(s:sub(1, 2) == "\255\216", "SOI")
  assert(s:sub(-2) == "\255\217", "EOI")
  local p, seen = 3, {}
  while p < #s do
    assert(s:byte(p) == 0xFF, "marker")
    local m = s:byte(p + 1)
    local len = bor(lshift(s:byte(p + 2), 8), s:byte(p + 3))
    seen[#seen + 1] = m
    if m == 0xC0 then
      local h, w = bor(lshift(s:byte(p + 5), 8), s:byte(p + 6)), bor(lshift(s:byte(p + 7), 8), s:byte(p + 8))
      return w, h, seen
    end
    assert(m ~= 0xDA, "SOS before SOF0")
    p = p + 2 + len
  end
  error("no SOF0")
end

-- Decodes a JPEG with libjpeg's djpeg (Debian libjpeg-turbo-progs, in the Makefile's DEBS):
-- {width, height, rgb(x, y)}, an independent check of the emulator's encoder.
local function decode_jpeg(s)
  local path = os.tmpname()
  local fh = assert(io.open(path, "wb"))
  fh:write(s)
  fh:close()
  local p = assert(io.popen("djpeg -pnm '" .. path .. "' 2>&1"))
  local ppm = p:read("a")
  p:close()
  os.remove(path)
  local w, h, maxv, pos = ppm:match("^P6%s+(%d+)%s+(%d+)%s+(%d+)%s()")
  assert(w, "djpeg (libjpeg-turbo-progs) could not decode the JPEG: " .. ppm:sub(1, 200))
  assert(maxv == "255")
  w, h = tonumber(w), tonumber(h)
  assert(#ppm - pos + 1 == w * h * 3, "PPM size")
  return {width = w, height = h, rgb = function(x, y)
    local o = pos + (y * w + x) * 3
    return {ppm:byte(o), ppm:byte(o + 1), ppm:byte(o + 2)}
  end}
end

-- Each channel within `tol` (JPEG is lossy).
local function near_rgb(expected, actual, tol)
  for k = 1, 3 do
    if math.abs(expected[k] - actual[k]) > tol then
      error(("expected about {%d, %d, %d}, got {%d, %d, %d}"):format(expected[1], expected[2],
        expected[3], actual[1], actual[2], actual[3]), 2)
    end
  end
end

local function same_rgb(a, b) return a[1] == b[1] and a[2] == b[2] and a[3] == b[3] end

local ROAD_BG = {242, 239, 233}
local BLUE = {33, 76, 160} -- style 1, the default pushpin
local RED = {214, 40, 40} -- style 7

before_each(function() sim.reset() end)

describe("sim imagery metadata", function()
  it("answers the reference's Aerial street-level request with the same shape and tile", function()
    local ref = fixture("metadata-aerial-point.json")
    local status, doc = get(IMG .. "/Metadata/Aerial/40.714550167322159,-74.007124900817871",
      {zl = 15})
    assert.equal(200, status)
    assert_shape(ref.response, doc)
    local r, rr = resource(doc), resource(ref.response)
    assert.equal(rr.__type, r.__type)
    -- The reference's tile is quadkey 032010110123333: ours is the same tile, on this server.
    assert.truthy(rr.imageUrl:find("a032010110123333", 1, true))
    assert.equal(sim.url .. "/tiles/", r.imageUrl:sub(1, #sim.url + 7))
    assert.truthy(r.imageUrl:find("/a032010110123333.png?", 1, true))
    assert.truthy(r.imageUrl:find("mkt={culture}", 1, true))
    assert.equal(15, r.zoomMin)
    assert.equal(15, r.zoomMax)
    assert.equal(cjson.null, r.imageUrlSubdomains)
    assert.matches("^%d%d %a%a%a %d%d%d%d GMT$", r.vintageStart)
  end)

  it("answers a set without a point with a {subdomain}/{quadkey}/{culture} template", function()
    local ref = fixture("metadata-road.json")
    local status, doc = get(IMG .. "/Metadata/Road")
    assert.equal(200, status)
    assert_shape(ref.response, doc)
    local r = resource(doc)
    assert.same({"t0", "t1", "t2", "t3"}, r.imageUrlSubdomains)
    assert.equal(sim.url .. "/tiles/{subdomain}/r{quadkey}.png?g=1&mkt={culture}", r.imageUrl)
    assert.equal(256, r.imageWidth)
    assert.equal(256, r.imageHeight)
    assert.equal(1, r.zoomMin)
    assert.equal(cjson.null, r.vintageStart)
    assert_shape(fixture("imagery-metadata-resource.json").response,
      resource(select(2, get(IMG .. "/Metadata/RoadOnDemand"))))
  end)

  it("fills the template into a tile the emulator serves without a key", function()
    local _, doc = get(IMG .. "/Metadata/CanvasDark")
    local url = resource(doc).imageUrl:gsub("{subdomain}", "t2"):gsub("{quadkey}", "0231")
      :gsub("{culture}", "en-US")
    local status, body, h = sim.request("GET", url)
    assert.equal(200, status)
    assert.equal("image/png", h["content-type"])
    assert.equal("*", h["access-control-allow-origin"])
    local img = decode_png(body)
    assert.equal(256, img.width)
    assert.equal(256, img.height)
    -- Deterministic, different per quadkey and per imagery set.
    assert.equal(body, select(2, sim.request("GET", url)))
    assert.not_equal(body, select(2, sim.request("GET", (url:gsub("0231", "0232")))))
    assert.not_equal(body, select(2, sim.request("GET", (url:gsub("/cd0231", "/r0231")))))
    assert.equal(404, (sim.request("GET", sim.url .. "/tiles/t0/zz0231.png")))
    -- Tiles are no transaction; the metadata request is.
    assert.same({SIM_KEY = {["RESTImagery-Metadata"] = {billable = 1, non_billable = 0, requests = 1}}},
      sim.ledger())
  end)

  it("gives https templates with uriScheme=https and the providers with include", function()
    local _, doc = get(IMG .. "/Metadata/Aerial", {uriScheme = "https", include = "ImageryProviders"})
    local r = resource(doc)
    assert.equal(sim.https_url .. "/tiles/{subdomain}/a{quadkey}.png?g=1&mkt={culture}", r.imageUrl)
    assert.is_true(#r.imageryProviders >= 1)
    local p = r.imageryProviders[1]
    assert.equal("string", type(p.attribution))
    assert.equal(4, #p.coverageAreas[1].bbox)
    assert.equal("number", type(p.coverageAreas[1].zoomMin))
  end)

  it("answers Birdseye and Streetside with their own resources", function()
    local ref = fixture("metadata-birdseye.json")
    local _, doc = get(IMG .. "/Metadata/Birdseye/37.779160067439079,-122.42004945874214")
    assert_shape(ref.response, doc)
    local r = resource(doc)
    assert.equal(512, r.imageWidth)
    assert.truthy(r.imageUrl:find("{zoom}-{tileId}", 1, true))
    assert.equal(0, r.orientation)
    local _, turned = get(IMG .. "/Metadata/Birdseye/37.779160067439079,-122.42004945874214",
      {dir = 270})
    assert.equal(270, resource(turned).orientation)
    local tile = resource(turned).imageUrl:gsub("{subdomain}", "t1"):gsub("{zoom}", "19")
      :gsub("{tileId}", "3")
    local status, body = sim.request("GET", tile)
    assert.equal(200, status)
    assert.equal(512, decode_png(body).width)

    local sref = fixture("metadata-streetside.json")
    local _, sdoc = get(IMG .. "/MetaData/Streetside/47.668687,-122.384795")
    assert_shape(sref.response, sdoc)
    assert.truthy(resource(sdoc).imageUrl:find("{faceId}{tileId}", 1, true))
  end)

  it("leaves the tile URL out of basic metadata, billed as its own category", function()
    local _, full = get(IMG .. "/Metadata/Aerial/47.61,-122.107", {zoomLevel = 12})
    local status, doc = get(IMG .. "/BasicMetadata/Aerial/47.61,-122.107", {zoomLevel = 12})
    assert.equal(200, status)
    local r = resource(doc)
    assert.is_nil(r.imageUrl)
    resource(full).imageUrl = nil
    assert.same(resource(full), r)
    assert.same({
      ["RESTImagery-Metadata"] = {billable = 1, non_billable = 0, requests = 1},
      ["RESTImagery-BasicMetadata"] = {billable = 0, non_billable = 1, requests = 1},
    }, sim.ledger().SIM_KEY)
  end)

  it("refuses what the reference does not allow with the documented 400", function()
    local cases = {
      {IMG .. "/Metadata/Foo", {}, "imagerySet"},
      {IMG .. "/Metadata/Birdseye", {}, "centerPoint"},
      {IMG .. "/Metadata/Streetside", {}, "centerPoint"},
      {IMG .. "/Metadata/Aerial/47.6,-122.3", {}, "zoomLevel"},
      {IMG .. "/Metadata/Aerial", {zl = 10}, "centerPoint"},
      {IMG .. "/Metadata/Road/47.6,-122.3", {zl = 22}, "zoomLevel"},
      {IMG .. "/Metadata/Road/47.6,-122.3", {zl = 0}, "zoomLevel"},
      {IMG .. "/Metadata/Road/95,-122.3", {zl = 3}, "centerPoint"},
      {IMG .. "/Metadata/Road/Seattle", {zl = 3}, "centerPoint"},
      {IMG .. "/Metadata/Road", {uriScheme = "ftp"}, "uriScheme"},
      {IMG .. "/Metadata/Road", {include = "Everything"}, "include"},
      {IMG .. "/Metadata/Birdseye/47.6,-122.3", {dir = 400}, "orientation"},
    }
    for _, c in ipairs(cases) do
      local status, doc = get(c[1], c[2])
      assert.equal(400, status, c[1])
      assert.equal("One or more parameters are not valid.", doc.errorDetails[1])
      assert.equal(c[3], doc.errorDetails[2]:match("^(%w+):"), c[1])
    end
    assert.equal(405, (sim.request("POST", IMG .. "/Metadata/Road?key=" .. sim.encode(sim.key),
      {body = "x"})))
  end)
end)

describe("sim static maps", function()
  it("answers the reference's metadata example with its shape and anchors", function()
    local ref = fixture("static-map-metadata.json")
    local status, body = get_raw(IMG .. "/Map/Road/47.619048,-122.35384/15",
      "mapSize=500,500&pp=47.620495,-122.34931;21;AA&pp=47.619385,-122.351485;;AB"
      .. "&pp=47.616295,-122.3556;22&mapMetadata=1")
    assert.equal(200, status)
    local doc = sim.decode(body)
    assert_shape(ref.response, doc)
    local r, rr = resource(doc), resource(ref.response)
    assert.equal("500", r.imageWidth)
    assert.equal("15", r.zoom)
    assert.same(rr.mapCenter, r.mapCenter)
    for i, pin in ipairs(rr.pushpins) do
      local mine = r.pushpins[i]
      assert.same(pin.point, mine.point)
      -- Within a pixel of the reference's anchor; the same icon rectangles.
      assert.is_true(math.abs(tonumber(pin.anchor.x) - tonumber(mine.anchor.x)) <= 1)
      assert.is_true(math.abs(tonumber(pin.anchor.y) - tonumber(mine.anchor.y)) <= 1)
      assert.same(pin.topLeftOffset, mine.topLeftOffset)
      assert.same(pin.bottomRightOffset, mine.bottomRightOffset)
    end
    for k = 1, 4 do assert.is_true(math.abs(rr.bbox[k] - r.bbox[k]) < 1e-4) end
  end)

  it("draws a PNG of the requested size with the pushpin under its anchor", function()
    local query = "mapSize=400,300&pp=47.62,-122.35&pp=47.61,-122.33;7&format=png"
    local status, body, h = get_raw(IMG .. "/Map/Road/47.615,-122.34/14", query)
    assert.equal(200, status)
    assert.equal("image/png", h["content-type"])
    local img = decode_png(body)
    assert.equal(400, img.width)
    assert.equal(300, img.height)
    local _, meta = get_raw(IMG .. "/Map/Road/47.615,-122.34/14", query .. "&mmd=1")
    local pins = resource(sim.decode(meta)).pushpins
    local ax, ay = tonumber(pins[1].anchor.x), tonumber(pins[1].anchor.y)
    local bx, by = tonumber(pins[2].anchor.x), tonumber(pins[2].anchor.y)
    assert.same(BLUE, img.rgb(ax - 8, ay - 20))
    assert.same(RED, img.rgb(bx - 8, by - 20))
    assert.same(ROAD_BG, img.rgb(5, 290))
    assert.is_false(same_rgb(BLUE, img.rgb(ax - 60, ay + 40)))
    assert.same({SIM_KEY = {["RESTImagery-StaticMap"] = {billable = 2, non_billable = 0, requests = 2}}},
      sim.ledger())
  end)

  it("answers gif and the default jpeg as real images", function()
    local status, body, h = get_raw(IMG .. "/Map/Road/47.615,-122.34/14",
      "mapSize=120,90&pp=47.615,-122.34&fmt=gif")
    assert.equal(200, status)
    assert.equal("image/gif", h["content-type"])
    local img = decode_gif(body)
    assert.equal(120, img.width)
    assert.equal(90, img.height)
    assert.same(BLUE, img.rgb(60 - 8, 45 - 20))
    assert.same(ROAD_BG, img.rgb(3, 87))

    status, body, h = get_raw(IMG .. "/Map/Aerial/47.615,-122.34/14", "mapSize=640,480")
    assert.equal(200, status)
    assert.equal("image/jpeg", h["content-type"])
    local w, hgt, markers = jpeg_size(body)
    assert.equal(640, w)
    assert.equal(480, hgt)
    assert.same({0xE0, 0xDB, 0xC0}, markers)
    status, body = get_raw(IMG .. "/Map/Road/47.615,-122.34/14", "mapSize=300,200&pp=47.615,-122.34;7")
    assert.equal(200, status)
    local jpg = decode_jpeg(body)
    assert.equal(300, jpg.width)
    assert.equal(200, jpg.height)
    near_rgb(RED, jpg.rgb(150 - 6, 100 - 18), 12)
    near_rgb(ROAD_BG, jpg.rgb(5, 195), 6)
    -- Without a size: the documented 350x350; Ordnance Survey defaults to PNG.
    local _, raw
    status, _, raw = get(IMG .. "/Map/Road/51.506666,-0.129436/15", {ml = "OrdnanceSurvey"})
    assert.equal(200, status)
    local os_img = decode_png(raw)
    assert.equal(350, os_img.width)
    assert.equal(350, os_img.height)
  end)

  it("takes up to 100 pushpins by POST, in the documented body format", function()
    local lines = {}
    for i = 1, 100 do lines[i] = ("pp=38.%03d,-77.%03d;%d;%d"):format(880 + i % 20, 30 + i, i % 30, i) end
    local body = table.concat(lines, "&", 1, 50) .. "\r\n" .. table.concat(lines, "\r\n", 51, 100)
    local path = IMG .. "/Map/Road/?fmt=png&key=" .. sim.encode(sim.key)
    local status, png = sim.request("POST", path, {body = body,
      headers = {["Content-Type"] = "text/plain; charset=utf-8"}})
    assert.equal(200, status)
    assert.equal(350, decode_png(png).width)
    local entry = sim.last_request()
    assert.equal("POST", entry.method)
    status = sim.request("POST", path .. "&mmd=1", {body = body,
      headers = {["Content-Type"] = "text/plain; charset=utf-8"}})
    assert.equal(200, status)
    local _, meta = sim.request("POST", path .. "&mmd=1", {body = body,
      headers = {["Content-Type"] = "text/plain; charset=utf-8"}})
    assert.equal(100, #resource(sim.decode(meta)).pushpins)

    local over = body .. "\r\npp=38.9,-77.1"
    status = sim.request("POST", path, {body = over, headers = {["Content-Type"] = "text/plain"}})
    assert.equal(400, status)
    -- With POST every pushpin goes in the body.
    status = sim.request("POST", path .. "&pp=38.9,-77.1", {body = lines[1],
      headers = {["Content-Type"] = "text/plain"}})
    assert.equal(400, status)
  end)

  it("refuses the documented limits with a 400 naming the parameter", function()
    local pins = {}
    for i = 1, 19 do pins[i] = ("pp=47.%02d,-122.3"):format(i) end
    local cases = {
      {"/Map/Road", table.concat(pins, "&"), "pushpin"},
      {"/Map/Road/47.6,-122.3/10", "ms=79,300", "mapSize"},
      {"/Map/Road/47.6,-122.3/10", "ms=2001,300", "mapSize"},
      {"/Map/Road/47.6,-122.3/10", "ms=300,1501", "mapSize"},
      {"/Map/Road/47.6,-122.3/10", "fmt=bmp", "format"},
      {"/Map/Road/47.6,-122.3/21", "", "zoomLevel"},
      {"/Map/Road/47.6,-122.3", "", "zoomLevel"},
      {"/Map/Road/47.6,-122.3/10", "pp=47.6,-122.3;5;ABCD", "pushpin"},
      {"/Map/Road/47.6,-122.3/10", "pp=47.6,-122.3;137", "pushpin"},
      {"/Map/Road/47.6,-122.3/10", "pp=97.6,-122.3", "pushpin"},
      {"/Map/Road/47.6,-122.3/10", "dcl=2", "declutterPins"},
      {"/Map/Road/47.6,-122.3/10", "ml=Satellite", "mapLayer"},
      {"/Map/Road", "", "mapArea"},
      {"/Map/Road", "ma=47,-122,46,-121", "mapArea"},
      {"/Map/RoadOnDemand/47.6,-122.3/10", "", "imagerySet"},
      {"/Map/Road/Routes", "wp.1=Seattle", "waypoint.2"},
      {"/Map/Road/Routes/Flying", "wp.1=Seattle&wp.2=Redmond", "travelMode"},
      {"/Map/Road/Routes", "wp.1=Seattle&wp.3=Redmond", "waypoint.3"},
      {"/Map/Road/Routes", "wp.1=Seattle&wp.2=Redmond&avoid=bridges", "avoid"},
      {"/Map/Road/Routes/Transit", "wp.1=Seattle&wp.2=Redmond", "dateTime"},
      {"/Map/Road/Routes", "wp.0=;5;A&wp.1=Seattle", "waypoint.0"},
      {"/Map/Road/Routes", "wp.0=Seattle;1;ABCD&wp.1=Tacoma", "waypoint.0"},
    }
    for _, c in ipairs(cases) do
      local status, body = get_raw(IMG .. c[1], c[2])
      assert.equal(400, status, c[1] .. "?" .. c[2])
      local doc = sim.decode(body)
      assert.equal("One or more parameters are not valid.", doc.errorDetails[1])
      assert.equal(c[3], doc.errorDetails[2]:match("^([%w.]+):"), c[1] .. "?" .. c[2])
    end
    -- Streetside: at most 400x400 with a Basic key.
    local ss = IMG .. "/Map/Streetside/47.668687,-122.384795?zoomLevel=1&mapSize=500,350&key="
      .. sim.encode(sim.key)
    assert.equal(200, (sim.request("GET", ss)))
    assert.equal(400, (sim.request("GET", ss, {headers = {["X-Bingsim-Account"] = "basic"}})))
    local status = get_raw(IMG .. "/Map/Road/Qwzx%20Nowhere", "")
    assert.equal(404, status)
    -- Three characters, not bytes: "€€€" is a label.
    assert.equal(200, (get_raw(IMG .. "/Map/Road/47.6,-122.3/10", "fmt=gif&pp=47.6,-122.3;1;"
      .. sim.encode("\226\130\172\226\130\172\226\130\172"))))
  end)

  it("draws a route map, billed StaticMapWithRoute, with its waypoints as pushpins", function()
    local status, body = get_raw(IMG .. "/Map/Road/Routes",
      "wp.0=Seattle,WA;64;1&wp.1=Redmond,WA;66;2&fmt=png&ms=500,400")
    assert.equal(200, status)
    local img = decode_png(body)
    assert.equal(500, img.width)
    local _, meta = get_raw(IMG .. "/Map/Road/Routes/Driving",
      "wp.0=Seattle,WA;64;1&wp.1=Redmond,WA;66;2&ms=500,400&avoid=highways&mmd=1")
    local r = resource(sim.decode(meta))
    assert.equal(2, #r.pushpins)
    -- The route's line (purple) runs between the two waypoints.
    local a, b = r.pushpins[1].anchor, r.pushpins[2].anchor
    local mx = math.floor((tonumber(a.x) + tonumber(b.x)) / 2)
    local found = false
    for y = 0, 399 do
      local px = img.rgb(mx, y)
      if px[1] == 120 and px[2] == 40 and px[3] == 200 then found = true end
    end
    assert.is_true(found)
    assert.same({["RESTImagery-StaticMapWithRoute"] = {billable = 2, non_billable = 0, requests = 2}},
      sim.ledger().SIM_KEY)
  end)

  it("fits a query, a map area and pushpins alone; declutters overlapping pins", function()
    local _, body = get_raw(IMG .. "/Map/AerialWithLabels/eiffel%20tower", "mapSize=500,400&mmd=1")
    local r = resource(sim.decode(body))
    assert.equal("500", r.imageWidth)
    assert.is_true(math.abs(tonumber(r.mapCenter.coordinates[1]) - 48.858) < 0.01)
    _, body = get_raw(IMG .. "/Map/Road", "mapArea=37.317227,-122.318439,37.939081,-122.194565"
      .. "&ms=500,600&mmd=1")
    r = resource(sim.decode(body))
    assert.is_true(r.bbox[1] <= 37.317227 and r.bbox[3] >= 37.939081)
    local near = "pp=47.6156352,-122.2043549;;1&pp=47.612441,-122.204533;;2&mmd=1"
    _, body = get_raw(IMG .. "/Map/Road/47.6156352,-122.2043549/12", near)
    local plain = resource(sim.decode(body)).pushpins
    _, body = get_raw(IMG .. "/Map/Road/47.6156352,-122.2043549/12", near .. "&dcl=1")
    local moved = resource(sim.decode(body)).pushpins
    assert.same(plain[1], moved[1])
    assert.same(plain[2].anchor, moved[2].anchor)
    assert.are_not.same(plain[2].topLeftOffset, moved[2].topLeftOffset)
  end)
end)

describe("sim static maps: drawCurve and highlightEntity", function()
  it("draws the reference's circle, polygon, line and curve examples", function()
    local status, body = get_raw(IMG .. "/Map/Road/37.6288,-122.2565/10",
      "mapSize=500,600&dc=c,64009900,FF009900,2,50;37.428175,-122.16968&fmt=png&mmd=0")
    assert.equal(200, status)
    local img = decode_png(body)
    -- The circle's centre, at the pixel of its point, has the fill colour (alpha FF).
    local _, meta = get_raw(IMG .. "/Map/Road/37.6288,-122.2565/10",
      "mapSize=500,600&pp=37.428175,-122.16968&mmd=1")
    local a = resource(sim.decode(meta)).pushpins[1].anchor
    assert.same({0, 153, 0}, img.rgb(tonumber(a.x), tonumber(a.y)))
    for _, dc in ipairs{"p,64009900,FF009900,2;enc:aemcFngthVojs@asV%7d_GhahA%7bxXcw%5C",
                        "l,FF009900,3;37.428175,-122.16968_37.737368,-122.422845_37.869505,-122.2705",
                        "cv,FF009900,3;37.428175,-122.16968_37.737368,-122.422845"} do
      status = get_raw(IMG .. "/Map/Road/37.6288,-122.2565/9", "mapSize=400,500&fmt=gif&dc=" .. dc)
      assert.equal(200, status, dc)
    end
    status = get_raw(IMG .. "/Map/Road/41.03824,-100.76646/3",
      "mapSize=500,500&pp=47.620495,-122.34931;90;&pp=41.88446,-71.23319;90&&pp=25.81692,-80.32291;90"
      .. "&dc=l,,3&fmt=png")
    assert.equal(200, status)
    for _, dc in ipairs{"x,FF009900,3", "l,GG009900,3", "l,FF009900,0", "l,FF009900,3;91,0_0,0",
                        "c,1,2,3,4,5"} do
      local st, b = get_raw(IMG .. "/Map/Road/37.6,-122.2/9", "dc=" .. sim.encode(dc))
      assert.equal(400, st, dc)
      assert.matches("^drawCurve:", sim.decode(b).errorDetails[2])
    end
  end)

  it("outlines the entity of a query with he=1", function()
    local status, body = get_raw(IMG .. "/Map/Road/Redmond%20Washington", "ms=500,270&zl=12&he=1&fmt=png")
    assert.equal(200, status)
    local plain = select(2, get_raw(IMG .. "/Map/Road/Redmond%20Washington", "ms=500,270&zl=12&fmt=png"))
    assert.not_equal(plain, body)
  end)
end)

describe("sim image encoders (unit, under this Lua)", function()
  package.path = "sim/lua/?.lua;" .. package.path
  local canvas = require "bingsim.canvas"
  local png = require "bingsim.png"
  local gif = require "bingsim.gif"
  local imagery = require "bingsim.imagery"

  it("computes CRC-32 and Adler-32 as the standards' examples do", function()
    assert.equal(0xAE426082, png.crc32("IEND"))
    assert.equal(0xCBF43926, png.crc32("123456789"))
    assert.equal(0x11E60398, png.adler32("Wikipedia"))
    assert.equal(crc32("a longer string of bytes \255\0\1"), png.crc32("a longer string of bytes \255\0\1"))
  end)

  it("round-trips a drawing through PNG and GIF", function()
    local c = canvas.new(97, 61, {10, 20, 30})
    c:line(0, 0, 96, 60, c:color{200, 0, 0}, 3)
    c:text(40, 5, "AB1", c:color{255, 255, 255}, 2)
    for i = 0, 60 do c:set(i, 50, c:color{i * 4, 255 - i * 4, 7}) end
    local p, g = decode_png(png.encode(c)), decode_gif(gif.encode(c))
    for y = 0, 60 do
      for x = 0, 96 do
        assert.same(c:rgb(x, y), p.rgb(x, y))
        assert.same(c:rgb(x, y), g.rgb(x, y))
      end
    end
  end)

  it("decodes Google's encoded polyline example and parses pushpins", function()
    local pts = imagery.decode_polyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@")
    assert.same({{38.5, -120.2}, {40.7, -120.95}, {43.252, -126.453}}, pts)
    assert.same({lat = 47.620548, lon = -122.34874, style = 5, label = "P10"},
      imagery.parse_pin("47.620548,-122.34874;5;P10"))
    assert.same({lat = 47.620548, lon = -122.34874, label = "P10"},
      imagery.parse_pin("47.620548,-122.34874;;P10"))
    assert.same({lat = 47.620548, lon = -122.34874}, imagery.parse_pin("47.620548,-122.34874"))
    assert.is_nil(imagery.parse_pin("47.620548,-122.34874;5;P100"))
    -- bing-maps-tile-system.md: tile (3, 5) at level 3 is quadkey 213.
    assert.equal("213", imagery.quadkey(3, 5, 3))
  end)
end)
