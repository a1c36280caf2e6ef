-- bing.tiles: the Bing Maps Tile System (articles/bing-maps-tile-system.md). Expected values
-- are computed here, in Lua, from the article's formulas and sample code (the `article`
-- table below), and compared exactly; the article's own numbers (its table at the Equator, the
-- quadkey example) are data in spec/fixtures/reference/tiles/tile-system.json.
local tiles = require "bing.tiles"
local errors = require "bing.errors"
local cjson = require "cjson"
local bitops = require "support.bitops"

local REF
do
  local f = assert(io.open("spec/fixtures/reference/tiles/tile-system.json"))
  REF = cjson.decode(f:read("a"))
  f:close()
end

-- The article's sample code, line by line in Lua.
local article = {}
do
  local MIN_LAT, MAX_LAT = REF.min_latitude, REF.max_latitude
  local function clip(n, lo, hi) return math.min(math.max(n, lo), hi) end
  function article.map_size(level) return 256 * 2 ^ level end
  function article.ground_resolution(lat, level)
    lat = clip(lat, MIN_LAT, MAX_LAT)
    return math.cos(lat * math.pi / 180) * 2 * math.pi * REF.earth_radius / article.map_size(level)
  end
  function article.map_scale(lat, level, dpi)
    return article.ground_resolution(lat, level) * dpi / 0.0254
  end
  function article.latlon_to_pixel(lat, lon, level)
    lat = clip(lat, MIN_LAT, MAX_LAT)
    lon = clip(lon, REF.min_longitude, REF.max_longitude)
    local x = (lon + 180) / 360
    local sin_lat = math.sin(lat * math.pi / 180)
    local y = 0.5 - math.log((1 + sin_lat) / (1 - sin_lat)) / (4 * math.pi)
    local size = article.map_size(level)
    return math.floor(clip(x * size + 0.5, 0, size - 1)), math.floor(clip(y * size + 0.5, 0, size - 1))
  end
  function article.pixel_to_latlon(px, py, level)
    local size = article.map_size(level)
    local x = (clip(px, 0, size - 1) / size) - 0.5
    local y = 0.5 - (clip(py, 0, size - 1) / size)
    return 90 - 360 * math.atan(math.exp(-y * 2 * math.pi)) / math.pi, 360 * x
  end
  function article.tile_to_quadkey(tx, ty, level)
    local key = {}
    for i = level, 1, -1 do
      local digit = 0
      local mask = bitops.lshift(1, i - 1)
      if bitops.band(tx, mask) ~= 0 then digit = digit + 1 end
      if bitops.band(ty, mask) ~= 0 then digit = digit + 2 end
      key[#key + 1] = tostring(digit)
    end
    return table.concat(key)
  end
end

local rng = 1130
local function random()
  rng = (rng * 1103515245 + 12345) % 2147483648
  return rng / 2147483648
end

-- Latitudes and longitudes worth checking at every level: poles, Mercator limits, the Equator,
-- the antimeridian, a few cities and random ones.
local LATS = {90, -90, 85.05112878, -85.05112878, 85.06, -85.06, 85.05, 0, 47.6062, -33.8688,
              64.1466, 1e-9, -1e-9}
local LONS = {-180, 180, 0, -122.3321, 151.2093, 179.999999, -179.999999, 1e-9}
for _ = 1, 40 do
  LATS[#LATS + 1] = random() * 180 - 90
  LONS[#LONS + 1] = random() * 360 - 180
end

-- Calls f(...) from this file and returns the error it raised and the line of the call.
local unpack = table.unpack or unpack -- LuaJIT: the 5.1 global

-- An integer result: a Lua integer on 5.4; on LuaJIT, which has no integer subtype, a number
-- with no fractional part.
local function assert_integer(v)
  if math.type then
    assert.equal("integer", math.type(v))
  else
    assert.equal("number", type(v))
    assert.equal(math.floor(v), v)
  end
end

local function raised(f, ...)
  local args = {n = select("#", ...), ...}
  local line = debug.getinfo(1, "l").currentline + 2
  -- Not a tail call: the called function's caller must be this line, not pcall.
  local ok, err = pcall(function() local r = f(unpack(args, 1, args.n)); return r end)
  assert.is_false(ok, "expected an error")
  return err, line
end

local function assert_argument(pattern, f, ...)
  local err, line = raised(f, ...)
  assert.is_true(errors.is_error(err), tostring(err))
  assert.equal("argument", err.kind)
  assert.equal("spec/tiles_spec.lua:" .. line, err.where)
  assert.equal(err.where .. ": ", err.message:sub(1, #err.where + 2))
  assert.truthy(err.message:find(pattern, 1, true), err.message)
end

describe("tiles.map_size", function()
  it("is 256 * 2^level, the article's widths, at levels 1-23", function()
    for _, row in ipairs(REF.equator_table) do
      assert.equal(row.map_width, tiles.map_size(row.level))
      assert_integer(tiles.map_size(row.level))
    end
  end)
end)

describe("tiles.ground_resolution", function()
  it("equals the article's formula at every level and latitude", function()
    for level = 1, 23 do
      for _, lat in ipairs(LATS) do
        assert.equal(article.ground_resolution(lat, level), tiles.ground_resolution(lat, level))
      end
    end
  end)

  it("gives the article's table at the Equator to its four decimals", function()
    for _, row in ipairs(REF.equator_table) do
      assert.near(row.ground_resolution, tiles.ground_resolution(0, row.level), 0.00005 + 1e-12)
    end
  end)

  it("is clipped at the Mercator limit: the poles read as 85.05112878", function()
    assert.equal(tiles.ground_resolution(85.05112878, 10), tiles.ground_resolution(90, 10))
    assert.equal(tiles.ground_resolution(-85.05112878, 10), tiles.ground_resolution(-90, 10))
    assert.truthy(tiles.ground_resolution(90, 10) > 0)
  end)
end)

describe("tiles.map_scale", function()
  it("equals the article's formula, at 96 dpi by default", function()
    for level = 1, 23 do
      for _, lat in ipairs(LATS) do
        assert.equal(article.map_scale(lat, level, 96), tiles.map_scale(lat, level))
        assert.equal(article.map_scale(lat, level, 300), tiles.map_scale(lat, level, 300))
        assert.equal(article.map_scale(lat, level, 72.5), tiles.map_scale(lat, level, 72.5))
      end
    end
  end)

  it("gives the article's table at the Equator (1 : N at 96 dpi)", function()
    for _, row in ipairs(REF.equator_table) do
      -- The table rounds deep levels loosely (9,027.977 is shown as 9,028.00, 282.1249 as
      -- 282.12): within 3e-5 of the value.
      local n = tiles.map_scale(0, row.level, REF.screen_dpi)
      assert.near(row.map_scale, n, row.map_scale * 3e-5)
    end
    assert.near(295829355.45, tiles.map_scale(0, 1), 0.005)
  end)

  it("raises an argument error for a dpi that is not above 0", function()
    assert_argument("dpi must be above 0, got 0", tiles.map_scale, 0, 1, 0)
    assert_argument("dpi must be a finite number, got nan", tiles.map_scale, 0, 1, 0 / 0)
    assert_argument("dpi must be a number, got string", tiles.map_scale, 0, 1, "96")
  end)
end)

describe("tiles.latlon_to_pixel", function()
  it("equals the article's LatLongToPixelXY at every level", function()
    for level = 1, 23 do
      for _, lat in ipairs(LATS) do
        for _, lon in ipairs(LONS) do
          local ex, ey = article.latlon_to_pixel(lat, lon, level)
          local px, py = tiles.latlon_to_pixel(lat, lon, level)
          assert.equal(ex, px)
          assert.equal(ey, py)
          assert_integer(px)
        end
      end
    end
  end)

  it("maps the level 3 corners to (0, 0) and (2047, 2047), as the article's picture shows", function()
    local lo, hi = REF.level3_pixel_range[1], REF.level3_pixel_range[2]
    assert.same(lo, {tiles.latlon_to_pixel(REF.max_latitude, -180, 3)})
    assert.same(hi, {tiles.latlon_to_pixel(REF.min_latitude, 180, 3)})
  end)

  it("puts the poles on the top and bottom rows and the antimeridian on the edge columns", function()
    for level = 1, 23 do
      local size = tiles.map_size(level)
      assert.same({math.floor(size / 2), 0}, {tiles.latlon_to_pixel(90, 0, level)})
      assert.same({math.floor(size / 2), size - 1}, {tiles.latlon_to_pixel(-90, 0, level)})
      assert.same({0, math.floor(size / 2)}, {tiles.latlon_to_pixel(0, -180, level)})
      assert.same({size - 1, math.floor(size / 2)}, {tiles.latlon_to_pixel(0, 180, level)})
    end
  end)

  it("raises an argument error for bad input", function()
    assert_argument("level must be an integer from 1 to 23, got 0", tiles.latlon_to_pixel, 0, 0, 0)
    assert_argument("level must be an integer from 1 to 23, got 24", tiles.latlon_to_pixel, 0, 0, 24)
    assert_argument("level must be an integer from 1 to 23, got 2.5", tiles.latlon_to_pixel, 0, 0, 2.5)
    assert_argument("level must be a number, got nil", tiles.latlon_to_pixel, 0, 0)
    assert_argument("latitude must be a finite number, got nan", tiles.latlon_to_pixel, 0 / 0, 0, 3)
    assert_argument("longitude must be a finite number, got nan", tiles.latlon_to_pixel, 0, 0 / 0, 3)
    assert_argument("latitude must be a finite number, got inf", tiles.latlon_to_pixel, math.huge, 0, 3)
    assert_argument("latitude must be from -90 to 90, got 90.5", tiles.latlon_to_pixel, 90.5, 0, 3)
    assert_argument("longitude must be from -180 to 180, got -181", tiles.latlon_to_pixel, 0, -181, 3)
    assert_argument("latitude must be a number, got string", tiles.latlon_to_pixel, "47", 0, 3)
    assert_argument("bing.tiles.latlon_to_pixel: ", tiles.latlon_to_pixel, 0, 0, 24)
  end)
end)

describe("tiles.pixel_to_latlon", function()
  it("equals the article's PixelXYToLatLong at every level, corners and clipping included", function()
    for level = 1, 23 do
      local size = tiles.map_size(level)
      local pxs = {0, 1, math.floor(size / 2), size - 1, size, size + 1000, -5, 12345.75}
      for _ = 1, 10 do pxs[#pxs + 1] = math.floor(random() * size) end
      for _, px in ipairs(pxs) do
        for _, py in ipairs(pxs) do
          local elat, elon = article.pixel_to_latlon(px, py, level)
          local lat, lon = tiles.pixel_to_latlon(px, py, level)
          assert.equal(elat, lat)
          assert.equal(elon, lon)
        end
      end
    end
  end)

  it("inverts latlon_to_pixel to within a pixel", function()
    for level = 1, 23 do
      for _, lat in ipairs(LATS) do
        for _, lon in ipairs(LONS) do
          local px, py = tiles.latlon_to_pixel(lat, lon, level)
          local lat2, lon2 = tiles.pixel_to_latlon(px, py, level)
          local qx, qy = tiles.latlon_to_pixel(lat2, lon2, level)
          assert.truthy(math.abs(qx - px) <= 1 and math.abs(qy - py) <= 1)
        end
      end
    end
  end)

  it("raises an argument error for bad input", function()
    assert_argument("px must be a finite number, got nan", tiles.pixel_to_latlon, 0 / 0, 0, 3)
    assert_argument("py must be a number, got nil", tiles.pixel_to_latlon, 0, nil, 3)
    assert_argument("level must be an integer from 1 to 23, got 0", tiles.pixel_to_latlon, 0, 0, 0)
  end)
end)

describe("tiles.pixel_to_tile and tiles.tile_to_pixel", function()
  it("divide and multiply by 256", function()
    assert.same({0, 0}, {tiles.pixel_to_tile(0, 255)})
    assert.same({1, 3}, {tiles.pixel_to_tile(256, 1023.9)})
    assert.same(REF.level3_tile_range[2], {tiles.pixel_to_tile(2047, 2047)})
    assert.same({2 ^ 23 - 1, 0}, {tiles.pixel_to_tile(2 ^ 31 - 1, 0)})
    assert.same({768, 1280}, {tiles.tile_to_pixel(3, 5)})
    assert.same({(2 ^ 23 - 1) * 256, 0}, {tiles.tile_to_pixel(2 ^ 23 - 1, 0)})
    assert_integer((tiles.tile_to_pixel(3, 5)))
  end)

  it("raises an argument error off the largest map", function()
    assert_argument("px must be from 0 to below 2^31", tiles.pixel_to_tile, -1, 0)
    assert_argument("py must be from 0 to below 2^31", tiles.pixel_to_tile, 0, 2 ^ 31)
    assert_argument("tx must be an integer from 0 to 8388607, got -1", tiles.tile_to_pixel, -1, 0)
    assert_argument("ty must be an integer from 0 to 8388607, got 8388608", tiles.tile_to_pixel, 0,
      2 ^ 23)
    assert_argument("tx must be an integer from 0 to 8388607, got 1.5", tiles.tile_to_pixel, 1.5, 0)
  end)
end)

describe("tiles.tile_to_quadkey and tiles.quadkey_to_tile", function()
  it("give the article's example: tile (3, 5) at level 3 is \"213\"", function()
    local ex = REF.quadkey_example
    assert.equal(ex.quadkey, tiles.tile_to_quadkey(ex.tileX, ex.tileY, ex.level))
    assert.same({ex.tileX, ex.tileY, ex.level}, {tiles.quadkey_to_tile(ex.quadkey)})
    assert.equal(tonumber(ex.quadkey_binary, 2), tonumber(ex.quadkey, 4))
  end)

  it("give the article's parents: a child's quadkey starts with its parent's", function()
    for parent, children in pairs(REF.quadkey_parents) do
      local px, py, plevel = tiles.quadkey_to_tile(parent)
      local got = {}
      for dy = 0, 1 do
        for dx = 0, 1 do
          got[#got + 1] = tiles.tile_to_quadkey(px * 2 + dx, py * 2 + dy, plevel + 1)
        end
      end
      assert.same(children, got)
    end
  end)

  it("equal the article's TileXYToQuadKey and invert each other at every level", function()
    for level = 1, 23 do
      local n = 2 ^ level
      local xs = {0, n - 1, math.floor(n / 2)}
      for _ = 1, 20 do xs[#xs + 1] = math.floor(random() * n) end
      for _, tx in ipairs(xs) do
        for _, ty in ipairs(xs) do
          local key = tiles.tile_to_quadkey(tx, ty, level)
          assert.equal(article.tile_to_quadkey(tx, ty, level), key)
          assert.equal(level, #key)
          assert.same({tx, ty, level}, {tiles.quadkey_to_tile(key)})
        end
      end
    end
  end)

  it("raise an argument error for bad input", function()
    assert_argument("quadkey digit 3 is '4'; digits are 0 to 3", tiles.quadkey_to_tile, "214")
    assert_argument("quadkey digit 1 is byte 0x00", tiles.quadkey_to_tile, "\0")
    assert_argument("a quadkey has 1 to 23 digits, got 0", tiles.quadkey_to_tile, "")
    assert_argument("a quadkey has 1 to 23 digits, got 24", tiles.quadkey_to_tile, ("1"):rep(24))
    assert_argument("quadkey must be a string, got number", tiles.quadkey_to_tile, 213)
    assert_argument("tx must be an integer from 0 to 7, got 8", tiles.tile_to_quadkey, 8, 0, 3)
    assert_argument("ty must be an integer from 0 to 1, got -1", tiles.tile_to_quadkey, 0, -1, 1)
    assert_argument("level must be an integer from 1 to 23, got 24", tiles.tile_to_quadkey, 0, 0, 24)
    assert_argument("level must be an integer from 1 to 23, got 0", tiles.tile_to_quadkey, 0, 0, 0)
  end)
end)

describe("tiles.latlon_to_tile and tiles.latlon_to_quadkey", function()
  it("are latlon_to_pixel followed by pixel_to_tile and tile_to_quadkey", function()
    for level = 1, 23 do
      for _, lat in ipairs(LATS) do
        for _, lon in ipairs(LONS) do
          local px, py = article.latlon_to_pixel(lat, lon, level)
          local tx, ty = math.floor(px / 256), math.floor(py / 256)
          assert.same({tx, ty}, {tiles.latlon_to_tile(lat, lon, level)})
          assert.equal(article.tile_to_quadkey(tx, ty, level), tiles.latlon_to_quadkey(lat, lon, level))
        end
      end
    end
  end)

  it("raise an argument error for bad input", function()
    assert_argument("level must be an integer from 1 to 23, got 24", tiles.latlon_to_quadkey, 0, 0, 24)
    assert_argument("longitude must be from -180 to 180", tiles.latlon_to_tile, 0, 200, 3)
  end)
end)

describe("tiles.tile_bounds", function()
  it("gives the edges of a tile: the corner pixels' latitudes and longitudes", function()
    for level = 1, 23 do
      local n = 2 ^ level
      for _ = 1, 10 do
        local tx, ty = math.floor(random() * n), math.floor(random() * n)
        local s, w, no, e = tiles.tile_bounds(tx, ty, level)
        local elat, elon = article.pixel_to_latlon(tx * 256, ty * 256, level)
        assert.near(elat, no, 1e-9)
        assert.near(elon, w, 1e-9)
        if tx + 1 < n and ty + 1 < n then
          elat, elon = article.pixel_to_latlon((tx + 1) * 256, (ty + 1) * 256, level)
          assert.near(elat, s, 1e-9)
          assert.near(elon, e, 1e-9)
        end
      end
    end
  end)

  it("reaches the antimeridian and the Mercator limits at the map's edges", function()
    local s, w, n, e = tiles.tile_bounds(0, 0, 1)
    assert.equal(-180, w)
    assert.equal(0, e)
    assert.equal(0, s)
    assert.near(REF.max_latitude, n, 1e-8)
    s, w, n, e = tiles.tile_bounds(7, 7, 3)
    assert.equal(180, e)
    assert.equal(135, w)
    assert.near(REF.min_latitude, s, 1e-8)
    assert.truthy(n < 0)
  end)
end)

describe("tiles.covering", function()
  it("lists the tiles of a bbox, north row first, west to east, with quadkeys", function()
    local bbox = {47.5, -122.5, 47.8, -122.0}  -- south, west, north, east (Bing's order)
    local list = tiles.covering(bbox, 10)
    local x0, y0 = tiles.latlon_to_tile(47.8, -122.5, 10)
    local x1, y1 = tiles.latlon_to_tile(47.5, -122.0, 10)
    assert.equal((x1 - x0 + 1) * (y1 - y0 + 1), #list)
    assert.equal(y1 - y0 + 1, list.rows)
    assert.equal(x1 - x0 + 1, list.cols)
    assert.equal(10, list.level)
    local i = 0
    for y = y0, y1 do
      for x = x0, x1 do
        i = i + 1
        assert.same({x = x, y = y, level = 10, quadkey = tiles.tile_to_quadkey(x, y, 10),
                     row = y - y0 + 1, col = x - x0 + 1}, list[i])
      end
    end
  end)

  it("wraps across the antimeridian when west is greater than east", function()
    local list = tiles.covering({-10, 170, 10, -170}, 3)
    assert.equal(2, list.cols)
    assert.same({7, 0, 7, 0}, {list[1].x, list[2].x, list[3].x, list[4].x})
    assert.same({1, 2, 1, 2}, {list[1].col, list[2].col, list[3].col, list[4].col})
    assert.equal(3, list[1].y)
    assert.equal(4, list[3].y)
    -- A box that wraps almost all the way round takes every column once.
    list = tiles.covering({0, 1, 1, -1}, 2)
    assert.equal(4, list.cols)
    assert.same({2, 3, 0, 1}, {list[1].x, list[2].x, list[3].x, list[4].x})
  end)

  it("covers the whole world at level 1 with four tiles, poles included", function()
    local list = tiles.covering({-90, -180, 90, 180}, 1)
    assert.same({"0", "1", "2", "3"}, {list[1].quadkey, list[2].quadkey, list[3].quadkey,
                                       list[4].quadkey})
  end)

  it("refuses more tiles than max, before building any", function()
    assert_argument("the bbox covers 4096 tiles at level 6, more than max (1024)", tiles.covering,
      {-90, -180, 90, 180}, 6)
    assert_argument("more than max (10)", tiles.covering, {-90, -180, 90, 180}, 2, {max = 10})
    assert.equal(4096, #tiles.covering({-90, -180, 90, 180}, 6, {max = 4096}))
    assert_argument("covers 70368744177664 tiles at level 23", tiles.covering,
      {-90, -180, 90, 180}, 23, {max = tiles.MAX_TILES})
  end)

  it("raises an argument error for a bad bbox, level or max", function()
    assert_argument("bbox must be a {south, west, north, east} table, got nil", tiles.covering, nil, 3)
    assert_argument("latitudes -90..90 and longitudes -180..180, got {0, 0, 91, 1}",
      tiles.covering, {0, 0, 91, 1}, 3)
    assert_argument("got {nan, 0, 1, 1}", tiles.covering, {0 / 0, 0, 1, 1}, 3)
    assert_argument("bbox south (2) is north of its north (1)", tiles.covering, {2, 0, 1, 1}, 3)
    assert_argument("level must be an integer from 1 to 23, got 24", tiles.covering, {0, 0, 1, 1}, 24)
    assert_argument("level must be an integer from 1 to 23, got 0", tiles.covering, {0, 0, 1, 1}, 0)
    assert_argument("max must be an integer from 1 to 1048576, got 0", tiles.covering,
      {0, 0, 1, 1}, 3, {max = 0})
    assert_argument("opts must be a table, got number", tiles.covering, {0, 0, 1, 1}, 3, 5)
  end)
end)

describe("tiles.url", function()
  local TEMPLATE = "http://ecn.{subdomain}.tiles.virtualearth.net/tiles/r{quadkey}.jpeg?g=6644"
    .. "&mkt={culture}&shading=hill"
  local SUBS = {"t0", "t1", "t2", "t3"}

  it("fills the quadkey, the culture and a subdomain picked by (x + y) % count", function()
    assert.equal("http://ecn.t0.tiles.virtualearth.net/tiles/r213.jpeg?g=6644&mkt=en-US&shading=hill",
      tiles.url(TEMPLATE, "213", {subdomains = SUBS}))
    -- "0" is (0, 0): t0; "1" is (1, 0): t1; "3" is (1, 1): t2.
    assert.truthy(tiles.url(TEMPLATE, "1", {subdomains = SUBS}):find("//ecn.t1.", 1, true))
    assert.truthy(tiles.url(TEMPLATE, "3", {subdomains = SUBS}):find("//ecn.t2.", 1, true))
    assert.truthy(tiles.url(TEMPLATE, "3", {subdomains = SUBS, culture = "fr-FR"})
      :find("mkt=fr-FR", 1, true))
  end)

  it("leaves a template without placeholders other than the quadkey as it is", function()
    assert.equal("http://127.0.0.1/tiles/a0212.png", tiles.url("http://127.0.0.1/tiles/a{quadkey}.png",
      "0212"))
  end)

  it("raises an argument error for bad input", function()
    assert_argument("quadkey must be 1 to 23 digits 0-3, got \"214\"", tiles.url, TEMPLATE, "214",
      {subdomains = SUBS})
    assert_argument("quadkey must be 1 to 23 digits 0-3, got \"\"", tiles.url, TEMPLATE, "")
    assert_argument("template must be a string, got nil", tiles.url, nil, "0")
    assert_argument("opts.subdomains (the metadata's imageUrlSubdomains) must be a non-empty list",
      tiles.url, TEMPLATE, "0")
    assert_argument("culture must be a culture code", tiles.url, TEMPLATE, "0",
      {subdomains = SUBS, culture = "en US&x=1"})
    assert_argument("subdomain t/0 is not a host name label", tiles.url, TEMPLATE, "0",
      {subdomains = {"t/0"}})
  end)
end)
