-- bing.points: Bing's point compression, checked step by step against the worked example of
-- rest-services/elevations/point-compression-algorithm.md and against the Geodata page's
-- polygon (spatial-data-services/geodata-api.md), both copied as data into
-- spec/fixtures/reference/points/. The expected values come from an independent Lua reading
-- of the page's steps below, never from the C code under test.
local points = require "bing.points"
local cjson = require "cjson"

local function fixture(name)
  local f = assert(io.open("spec/fixtures/reference/points/" .. name))
  local doc = cjson.decode(f:read("a"))
  f:close()
  return doc
end

local EXAMPLE = fixture("point-compression.json")
local GEODATA = fixture("geodata-shape.json")
local ALPHABET = EXAMPLE.alphabet

-- The page's steps, one function each, as a reader of the page would write them.
local model = {}

-- Step 2: multiply by 100000 and round as the page's JavaScript does (Math.round: halves up).
function model.round5(deg)
  local v = deg * 100000
  local r = math.floor(v)
  if v - r >= 0.5 then r = r + 1 end
  return r
end

-- Step 3 (with the optional wrap of longitude deltas past +-180 degrees).
function model.deltas(rounded, wrap)
  local out, plat, plon = {}, 0, 0
  for i, p in ipairs(rounded) do
    local dlat, dlon = p[1] - plat, p[2] - plon
    if wrap and dlon > 18000000 then dlon = dlon - 36000000 end
    if wrap and dlon < -18000000 then dlon = dlon + 36000000 end
    out[i] = {dlat, dlon}
    plat, plon = p[1], p[2]
  end
  return out
end

-- Steps 4 and 5.
function model.positive(v)
  v = v * 2
  if v < 0 then v = -v - 1 end
  return v
end

-- Step 6.
function model.pair(lat, lon)
  -- math.floor(a / b) is `//` for integers below 2^53 (LuaJIT has no `//`).
  return math.floor((lat + lon) * (lat + lon + 1) / 2) + lat
end

-- Step 7 ("If you start at zero, just record a zero").
function model.remainders(n)
  local out = {}
  repeat
    out[#out + 1] = n % 32
    n = math.floor(n / 32)
  until n == 0
  return out
end

-- Steps 8 and 9.
function model.chars(rems)
  local s = {}
  for i, r in ipairs(rems) do
    if i < #rems then r = r + 32 end
    s[i] = ALPHABET:sub(r + 1, r + 1)
  end
  return table.concat(s)
end

-- Steps 3-10 from already rounded points, optionally wrapping longitude deltas (step 3's text).
function model.encode_rounded(rounded, wrap)
  local out = {}
  for i, d in ipairs(model.deltas(rounded, wrap)) do
    out[i] = model.chars(model.remainders(model.pair(model.positive(d[1]), model.positive(d[2]))))
  end
  return table.concat(out)
end

function model.encode(list)
  local rounded = {}
  for i, p in ipairs(list) do rounded[i] = {model.round5(p[1]), model.round5(p[2])} end
  return model.encode_rounded(rounded)
end

-- Calls f(...) from this file and returns the error it raises and the line of the call.
local unpack = table.unpack or unpack -- LuaJIT: the 5.1 global

local function raised(f, ...)
  local args = {n = select("#", ...), ...}
  local line = debug.getinfo(1, "l").currentline + 2
  -- Not a tail call: the called function's caller must be this line, not pcall.
  local ok, err = pcall(function() local r = f(unpack(args, 1, args.n)); return r end)
  assert.is_false(ok, "expected an error")
  return err, line
end

-- The error is bing.errors' argument table and names this file and the line of the call.
local function assert_argument(err, line, pattern)
  assert.is_true(require("bing.errors").is_error(err))
  assert.equal("argument", err.kind)
  assert.equal("spec/points_spec.lua:" .. line, err.where)
  assert.equal(err.where .. ": ", err.message:sub(1, #err.where + 2))
  if pattern then
    assert.truthy(err.message:find(pattern, 1, true), err.message)
  end
end

describe("points.encode", function()
  it("follows the page's worked example step by step", function()
    local rounded = {}
    for i, p in ipairs(EXAMPLE.step1_points) do
      rounded[i] = {model.round5(p[1]), model.round5(p[2])}
    end
    assert.same(EXAMPLE.step2_rounded, rounded)
    local deltas = model.deltas(rounded)
    assert.same(EXAMPLE.step3_deltas, deltas)
    for i, d in ipairs(deltas) do
      assert.same(EXAMPLE.step4_doubled[i], {d[1] * 2, d[2] * 2})
      local y, x = model.positive(d[1]), model.positive(d[2])
      assert.same(EXAMPLE.step5_positive[i], {y, x})
      assert.equal(EXAMPLE.step6_values[i], model.pair(y, x))
      local rems = model.remainders(model.pair(y, x))
      assert.same(EXAMPLE.step7_remainders[i], rems)
      local plus = {}
      for j, r in ipairs(rems) do plus[j] = j < #rems and r + 32 or r end
      assert.same(EXAMPLE.step8_plus32[i], plus)
      assert.equal(EXAMPLE.step9_strings[i], model.chars(rems))
    end
    assert.equal(EXAMPLE.step10_encoded, points.encode(EXAMPLE.step1_points))
  end)

  it("gives the value of the page's Polyline example URL for its points", function()
    local list = {}
    for lat, lon in EXAMPLE.original_points_param:gmatch("([^,]+),([^,]+)") do
      list[#list + 1] = {tonumber(lat), tonumber(lon)}
    end
    assert.equal(4, #list)
    local value = EXAMPLE.example_polyline_url:match("points=([^&]+)")
    assert.equal(value, points.encode(list))
  end)

  it("encodes the page's three test points as the start of its test answer", function()
    -- The page's PointCompression test sends three points but shows the value of all four:
    -- the three give its first three segments.
    local list = {}
    for lat, lon in EXAMPLE.test_request_points_param:gmatch("([^,]+),([^,]+)") do
      list[#list + 1] = {tonumber(lat), tonumber(lon)}
    end
    assert.equal(3, #list)
    assert.equal("vx1vilihnM6hR7mE", points.encode(list))
    assert.equal(1, EXAMPLE.test_response_value:find(points.encode(list), 1, true))
  end)

  it("encodes an empty list as an empty string", function()
    assert.equal("", points.encode({}))
  end)

  it("writes a repeated point as 'A' (step 7's zero), so it survives decoding", function()
    assert.equal("AA", points.encode({{0, 0}, {0, 0}}))
    local s = points.encode({{47.6, -122.3}, {47.6, -122.3}})
    assert.equal("A", s:sub(-1))
    assert.same({{47.6, -122.3}, {47.6, -122.3}}, points.decode(s))
  end)

  it("rounds halves up, as the page's Math.round does", function()
    assert.equal(model.encode({{0.000005, 0}}), points.encode({{0.000005, 0}}))
    assert.equal("F", points.encode({{0.000005, 0}}))   -- +0.5e-5 -> 1
    assert.equal("A", points.encode({{-0.000005, 0}}))  -- -0.5e-5 -> 0
    assert.equal(points.encode({{0.00001, 0}}), points.encode({{0.000005, 0}}))
  end)

  it("agrees with the page's steps on random lists and round-trips them at five decimals", function()
    local rng = 20261130
    local function random()  -- a small LCG: the same lists on every Lua
      rng = (rng * 1103515245 + 12345) % 2147483648
      return rng / 2147483648
    end
    for _ = 1, 300 do
      local list, expect = {}, {}
      for i = 1, 1 + math.floor(random() * 40) do
        local lat, lon = random() * 180 - 90, random() * 360 - 180
        list[i] = {lat, lon}
        expect[i] = {model.round5(lat) / 100000, model.round5(lon) / 100000}
      end
      local s = points.encode(list)
      assert.equal(model.encode(list), s)
      assert.same(expect, points.decode(s))
      assert.equal(s, points.encode(points.decode(s)))
    end
  end)

  it("round-trips the corners of the world and a jump across the antimeridian", function()
    local list = {{90, 180}, {-90, -180}, {90, -180}, {-90, 180}, {0, 0},
                  {10.5, 179.99999}, {10.5, -179.99999}, {-0.00001, -0.00001}}
    assert.same(list, points.decode(points.encode(list)))
    assert.equal(model.encode(list), points.encode(list))
  end)

  it("reads five-decimal strings back as the same numbers Lua reads", function()
    local list = points.decode(points.encode({{35.89431, -110.72522}}))
    assert.equal(35.89431, list[1][1])
    assert.equal(-110.72522, list[1][2])
  end)

  it("raises an argument error at the caller for bad input", function()
    local err, line = raised(points.encode, "vx1v")
    assert_argument(err, line, "expected a list of {lat, lon}, got string")
    err, line = raised(points.encode, nil)
    assert_argument(err, line, "got nil")
    err, line = raised(points.encode, {{1, 2}, 5})
    assert_argument(err, line, "point 2 must be a {lat, lon} table, got number")
    err, line = raised(points.encode, {{"1", 2}})
    assert_argument(err, line, "point 1: latitude must be a number, got string")
    err, line = raised(points.encode, {{1}})
    assert_argument(err, line, "point 1: longitude must be a number, got nil")
    err, line = raised(points.encode, {{0 / 0, 2}})
    assert_argument(err, line, "point 1: latitude nan is outside -90..90")
    err, line = raised(points.encode, {{1, 2}, {3, 0 / 0}})
    assert_argument(err, line, "point 2: longitude nan is outside -180..180")
    err, line = raised(points.encode, {{90.000001, 0}})
    assert_argument(err, line, "latitude 90.000000999999997 is outside -90..90")
    err, line = raised(points.encode, {{0, -180.5}})
    assert_argument(err, line, "longitude -180.5 is outside -180..180")
    err, line = raised(points.encode, {{math.huge, 0}})
    assert_argument(err, line, "latitude inf is outside")
  end)
end)

describe("bing.core.points without bing.errors loaded", function()
  it("still raises an argument error with the caller's position", function()
    local saved = package.loaded["bing.errors"]
    package.loaded["bing.errors"] = nil
    local err, line = raised(require("bing.core").points.encode, 5)
    package.loaded["bing.errors"] = saved
    assert_argument(err, line, "bing.points.encode: expected a list of {lat, lon}, got number")
  end)
end)

describe("points.decode", function()
  it("decodes the page's example to its rounded points", function()
    local expect = {}
    for i, p in ipairs(EXAMPLE.step2_rounded) do expect[i] = {p[1] / 100000, p[2] / 100000} end
    assert.same(expect, points.decode(EXAMPLE.step10_encoded))
    assert.same({{35.89431, -110.72522}, {35.89393, -110.72578}, {35.89374, -110.72606},
                 {35.89337, -110.72662}}, points.decode(EXAMPLE.step10_encoded))
  end)

  it("decodes an empty string to an empty list", function()
    assert.same({}, points.decode(""))
  end)

  it("brings longitudes wrapped across the antimeridian by another encoder back in range", function()
    -- Step 3's wrap: 179.5 -> -179.5 is sent as +1 degree; the sum 180.5 means -179.5.
    local s = model.encode_rounded({{1000000, 17950000}, {1000000, -17950000},
                                    {1000000, 17950000}}, true)
    assert.are_not.equal(model.encode_rounded({{1000000, 17950000}, {1000000, -17950000},
                                               {1000000, 17950000}}), s)
    assert.same({{10, 179.5}, {10, -179.5}, {10, 179.5}}, points.decode(s))
  end)

  it("raises an argument error naming the offset of a character outside the alphabet", function()
    local err, line = raised(points.decode, "vx1v!ihnM")
    assert_argument(err, line, "'!' at offset 4 is not in the point compression alphabet")
    err, line = raised(points.decode, "vx1vilihnM6h\0R")
    assert_argument(err, line, "byte 0x00 at offset 12")
    err, line = raised(points.decode, "\255")
    assert_argument(err, line, "byte 0xff at offset 0")
    assert.is_nil(err.message:find("\255", 1, true))
  end)

  it("raises an argument error for a value cut short", function()
    local err, line = raised(points.decode, "vx1vilihn")
    assert_argument(err, line, "the value at offset 0 is cut short (truncated)")
    err, line = raised(points.decode, "vx1vilihnM6h")
    assert_argument(err, line, "the value at offset 10 is cut short")
  end)

  it("raises an argument error for a value longer than any coordinate needs", function()
    local err, line = raised(points.decode, string.rep("g", 12) .. "A")
    assert_argument(err, line, "longer than 12 characters")
    err, line = raised(points.decode, string.rep("-", 5000))
    assert_argument(err, line, "longer than 12 characters")
  end)

  it("raises an argument error when a latitude leaves -90..90", function()
    -- From 90 degrees one step north: a well-formed value, but no such place.
    local err, line = raised(points.decode, model.encode_rounded({{9000000, 0}, {9000001, 0}}))
    assert_argument(err, line, "the value at offset 10 gives a coordinate outside")
    err, line = raised(points.decode, model.encode_rounded({{9000001, 0}}))
    assert_argument(err, line, "outside -90..90")
  end)

  it("raises an argument error for a non-string", function()
    local err, line = raised(points.decode, {})
    assert_argument(err, line, "bing.points.decode: expected a string, got table")
    err, line = raised(points.decode, 42)
    assert_argument(err, line, "got number")
  end)

  it("returns a list or raises an argument error on any bytes, never anything else", function()
    local rng = 7
    local function byte()
      rng = (rng * 1103515245 + 12345) % 2147483648
      return rng % 256
    end
    local lists = 0
    for n = 1, 3000 do
      local b = {}
      for i = 1, n % 40 do
        -- Mostly alphabet characters, so that many strings decode some way.
        local v = byte()
        b[i] = v < 200 and ALPHABET:byte(v % 64 + 1) or v
      end
      local ok, res = pcall(points.decode, string.char(unpack(b)))
      if ok then
        lists = lists + 1
        assert.equal("table", type(res))
        for _, p in ipairs(res) do
          assert.truthy(p[1] >= -90 and p[1] <= 90 and p[2] >= -180 and p[2] <= 180)
        end
      else
        assert.equal("argument", res.kind)
      end
    end
    assert.truthy(lists > 100)
  end)
end)

describe("points.decode_shape", function()
  it("decodes the Geodata page's PostCode1 polygon: one closed ring in its BestMapViewBox", function()
    local rings, version = points.decode_shape(GEODATA.Shape)
    assert.equal(1, version)
    assert.equal(1, #rings)
    local ring = rings[1]
    assert.equal(1642, #ring)
    assert.same({47.62698, -122.09266}, ring[1])
    assert.same(ring[1], ring[#ring])
    local w, s, e, n = GEODATA.BestMapViewBox:match(
      "MULTIPOINT %(%(([%-%d%.]+) ([%-%d%.]+)%), %(([%-%d%.]+) ([%-%d%.]+)%)%)")
    w, s, e, n = tonumber(w), tonumber(s), tonumber(e), tonumber(n)
    local lo = {math.huge, math.huge}
    local hi = {-math.huge, -math.huge}
    for _, p in ipairs(ring) do
      lo[1], lo[2] = math.min(lo[1], p[1]), math.min(lo[2], p[2])
      hi[1], hi[2] = math.max(hi[1], p[1]), math.max(hi[2], p[2])
    end
    -- The box is the ring's extent, given at more decimals than the ring has.
    assert.near(s, lo[1], 1.01e-5)
    assert.near(w, lo[2], 1.01e-5)
    assert.near(n, hi[1], 1.01e-5)
    assert.near(e, hi[2], 1.01e-5)
    -- Bing's encoder wrote it: encoding the ring gives the ring's text back.
    assert.equal(GEODATA.Shape:sub(3), points.encode(ring))
  end)

  it("decodes several rings in order", function()
    local a = points.encode({{1, 2}, {3, 4}, {1, 2}})
    local b = points.encode({{-1, -2}, {-3, -4}, {-5, -6}, {-1, -2}})
    local rings, version = points.decode_shape("1," .. a .. "," .. b)
    assert.equal(1, version)
    assert.same({{{1, 2}, {3, 4}, {1, 2}}, {{-1, -2}, {-3, -4}, {-5, -6}, {-1, -2}}}, rings)
  end)

  it("decodes a shape with no ring to an empty list", function()
    assert.same({}, (points.decode_shape("1")))
  end)

  it("returns a decode error for a malformed shape from the service", function()
    local cases = {
      {"", "starts with its version number"},
      {"x,AA", "starts with its version number"},
      {"1x", "starts with its version number"},
      {"2,AA", "Shape version 2 is not known"},
      {"1,", "ring 1 is empty"},
      {"1,AA,,AA", "ring 2 is empty"},
      {"1,AA,A!", "ring 2: '!' at offset 1"},
      {"1,vx1vilihn", "ring 1: the value at offset 0 is cut short"},
    }
    for _, c in ipairs(cases) do
      local rings, err = points.decode_shape(c[1])
      assert.is_nil(rings, c[1])
      assert.equal("decode", err.kind)
      assert.equal("BadShape", err.code)
      assert.truthy(err.message:find(c[2], 1, true), err.message)
    end
  end)

  it("raises an argument error for a non-string", function()
    local err, line = raised(points.decode_shape, nil)
    assert_argument(err, line, "bing.points.decode_shape: expected a string, got nil")
  end)
end)
