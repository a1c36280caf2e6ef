-- examples/tiles.lua against the emulator: the view's quadkeys and tile URLs, the metadata
-- request it makes for the template, and the tiles it downloads with --fetch.
local sim = require "support.sim"
local examples = require "support.examples"
local tiles = require "bing.tiles"

-- Runs the example with `env` (a shell prefix) and `args`.
local function run(env, args) return examples.run("tiles", args, env) end

local EMULATOR = examples.EMULATOR

-- The tiles of a width x height view centred on lat, lon, worked out here from bing.tiles'
-- pixel of the centre: quadkey -> {x, y} screen position of the tile's corner.
local function expected_view(lat, lon, level, w, h)
  local cx, cy = tiles.latlon_to_pixel(lat, lon, level)
  -- math.floor(a / b): `//` for integers below 2^53, in a form LuaJIT parses.
  local left, top = cx - math.floor(w / 2), cy - math.floor(h / 2)
  local n = math.floor(2 ^ level)
  local out, count = {}, 0
  for row = math.floor(top / 256), math.floor((top + h - 1) / 256) do
    if row >= 0 and row < n then
      for col = math.floor(left / 256), math.floor((left + w - 1) / 256) do
        out[tiles.tile_to_quadkey(col % n, row, level)] = {col * 256 - left, row * 256 - top}
        count = count + 1
      end
    end
  end
  return out, count
end

-- The printed tiles: quadkey -> {x, y, url}, and how many lines.
local function printed(out)
  local got, count = {}, 0
  for key, x, y, url in out:gmatch("\n  ([0-3]+) +at %( *(%-?%d+), *(%-?%d+)%)  (%S+)") do
    got[key] = {tonumber(x), tonumber(y), url}
    count = count + 1
  end
  return got, count
end

describe("examples/tiles.lua", function()
  it("asks the imagery metadata for the template and prints the view's quadkeys and URLs", function()
    local out, rc = run(EMULATOR, "47.6205 -122.3493 12 800 600")
    assert.equal(0, rc, out)
    assert.truthy(out:find("quadkey " .. tiles.latlon_to_quadkey(47.6205, -122.3493, 12), 1, true))

    local req = sim.last_request()
    assert.equal("/REST/v1/Imagery/Metadata/RoadOnDemand", req.path)
    assert.equal("SIM_KEY", req.key_label)
    assert.same({key = "<redacted>"}, req.query)

    assert.equal(200, req.status)
    local _, doc = sim.get("/REST/v1/Imagery/Metadata/RoadOnDemand", {output = "json", key = sim.key})
    local md = doc.resourceSets[1].resources[1]
    assert.truthy(out:find("template from the imagery metadata: " .. md.imageUrl, 1, true), out)
    local want, n = expected_view(47.6205, -122.3493, 12, 800, 600)
    local got, m = printed(out)
    assert.equal(n, m)
    for key, pos in pairs(want) do
      assert.same(pos, {got[key][1], got[key][2]})
      assert.equal(tiles.url(md.imageUrl, key, {subdomains = md.imageUrlSubdomains}), got[key][3])
    end
  end)

  it("wraps the view's columns across the antimeridian", function()
    local out, rc = run(EMULATOR, "0 180 3 800 300")
    assert.equal(0, rc, out)
    local want, n = expected_view(0, 180, 3, 800, 300)
    local got, m = printed(out)
    assert.equal(n, m)
    for key, pos in pairs(want) do assert.same(pos, {got[key][1], got[key][2]}) end
    assert.truthy(got["311"] and got["200"])   -- x = 7 and x = 0 side by side
  end)

  it("takes --template as it is, without asking the service", function()
    local before = #sim.log()
    local out, rc = run("", "10 20 5 256 256 --template 'http://tiles.example/{quadkey}.png'")
    assert.equal(0, rc, out)
    assert.equal(before, #sim.log())
    assert.truthy(out:find("http://tiles.example/" .. tiles.latlon_to_quadkey(10, 20, 5) .. ".png", 1,
      true))
  end)

  it("says what is missing without a template or a key, and on bad arguments", function()
    local out, rc = run("BING_MAPS_KEY= BING_TILE_TEMPLATE=", "")
    assert.equal(2, rc)
    assert.truthy(out:find("no tile URL template", 1, true))
    out, rc = run("BING_BASE_URL=" .. sim.url .. " BING_MAPS_KEY=not-a-key", "")
    assert.equal(1, rc)
    assert.truthy(out:find("imagery metadata failed: bing: auth 401", 1, true), out)
    assert.is_nil(out:find("not-a-key", 1, true))
    out, rc = run(EMULATOR, "north 20 5")
    assert.equal(2, rc)
    assert.truthy(out:find("usage: ", 1, true))
  end)

  it("downloads the view's tiles from the emulator with --fetch", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    local out, rc = run(EMULATOR, "47.6205 -122.3493 12 512 256 --fetch " .. dir)
    assert.equal(0, rc, out)
    local want = expected_view(47.6205, -122.3493, 12, 512, 256)
    for key in pairs(want) do
      local f = assert(io.open(dir .. "/" .. key .. ".png", "rb"))
      assert.equal("\137PNG\r\n\26\n", f:read(8))
      f:close()
      os.remove(dir .. "/" .. key .. ".png")
    end
    os.remove(dir)
    local tile_requests = 0
    for _, r in ipairs(sim.log()) do
      if r.path:find("^/tiles/") then
        tile_requests = tile_requests + 1
        -- Through the client's pipeline, without the key (tiles are keyless, not billed).
        assert.equal("missing", r.key_kind)
        assert.truthy(r.headers["user-agent"]:find("^lua%-bing/"))
      end
    end
    local count = 0
    for _ in pairs(want) do count = count + 1 end
    assert.equal(count, tile_requests)
  end)
end)
