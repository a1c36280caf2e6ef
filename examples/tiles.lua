-- Which map tiles to draw for a view, and their URLs: what a LOVE or Defold map viewer calls
-- each time the view moves.
--
--   lua5.4 examples/tiles.lua [lat lon level [width height]] [--template URL] [--fetch DIR]
--   make example-tiles          (against the local emulator, one command)
--
-- The URL template is the `imageUrl` the Imagery Metadata API returns, for example
-- "http://ecn.{subdomain}.tiles.virtualearth.net/tiles/r{quadkey}.jpeg?g=1&mkt={culture}",
-- with its `imageUrlSubdomains`. Bing's tile URLs change: take them from the metadata each
-- time the application starts, never from a constant. Here the template comes from
-- --template or BING_TILE_TEMPLATE (subdomains from BING_TILE_SUBDOMAINS, "t0,t1,t2,t3" by
-- default); without either, from the Imagery Metadata API (client.imagery.metadata) at
-- BING_BASE_URL (default: the real service) with BING_MAPS_KEY, for the imagery set
-- BING_IMAGERY_SET (default RoadOnDemand). --fetch DIR downloads the view's tiles into DIR
-- (ImageryMetadata:tile, through the client's pipeline).
local tiles = require "bing.tiles"

-- An environment variable, with an empty one taken as unset (VAR= in a shell).
local function env(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

local args, opts = {}, {}
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--template" or a == "--fetch" then
      opts[a:sub(3)] = assert(arg[i + 1], a .. " needs a value")
      i = i + 2
    else
      args[#args + 1] = a
      i = i + 1
    end
  end
end

local lat = tonumber(args[1] or "47.6205")   -- the Space Needle
local lon = tonumber(args[2] or "-122.3493")
-- A whole number or nil: math.tointeger on Lua 5.4; LuaJIT has neither it nor integers.
local function whole(v)
  if math.tointeger then return math.tointeger(v) end
  if v and v == math.floor(v) and math.abs(v) < 2 ^ 53 then return v end
  return nil
end

local level = whole(tonumber(args[3] or "12"))
local width = whole(tonumber(args[4] or "800"))
local height = whole(tonumber(args[5] or "600"))
if not (lat and lon and level and width and height and width > 0 and height > 0) then
  io.stderr:write("usage: lua5.4 examples/tiles.lua [lat lon level [width height]] "
    .. "[--template URL] [--fetch DIR]\n")
  os.exit(2)
end

local bing = require "bing"
local imagery = require "bing.api.imagery"

-- The library's client: the metadata request, and the tile downloads (keyless, no Bing
-- transaction) through the same pipeline (transport, retries).
local client = bing.new{key = env "BING_MAPS_KEY", base_url = env "BING_BASE_URL", timeout = 10}

-- The ImageryMetadata whose template fills the tile URLs (bing.tiles under :tile_url).
local meta
local template = opts.template or env "BING_TILE_TEMPLATE"
if template then
  local subdomains = {}
  for s in (env "BING_TILE_SUBDOMAINS" or "t0,t1,t2,t3"):gmatch("[^,]+") do
    subdomains[#subdomains + 1] = s
  end
  meta = imagery.ImageryMetadata.new({imageUrl = template, imageUrlSubdomains = subdomains}, client)
else
  if not env "BING_MAPS_KEY" then
    io.stderr:write("no tile URL template: pass --template (the imagery metadata's imageUrl), "
      .. "set BING_TILE_TEMPLATE, or BING_MAPS_KEY (make example-tiles runs the emulator)\n")
    os.exit(2)
  end
  local list, err = client.imagery.metadata{imagerySet = env "BING_IMAGERY_SET" or "RoadOnDemand"}
  if not list or not list[1] or not list[1].imageUrl then
    io.stderr:write("imagery metadata failed: " .. tostring(err or "no imageUrl") .. "\n")
    os.exit(1)
  end
  meta = list[1]
  print("template from the imagery metadata: " .. meta.imageUrl)
end

--- The tiles to draw for a `width` x `height` view centred on lat, lon at `level`: a list of
-- {quadkey =, url =, x =, y =} where x, y is the tile's top-left corner in view pixels. The
-- columns wrap around the antimeridian (the world repeats sideways); rows stop at the
-- Mercator limits (nothing to draw above or below the map).
local function view(clat, clon, zoom, w, h)
  local cx, cy = tiles.latlon_to_pixel(clat, clon, zoom)
  -- math.floor(a / b) rather than `//`, so that LuaJIT (OpenResty) runs this too; exact for
  -- integers below 2^53, and it floors negative pixels left of the map as `//` does.
  local left, top = cx - math.floor(w / 2), cy - math.floor(h / 2)
  local n = math.floor(tiles.map_size(zoom) / 256)
  local list = {}
  for row = math.floor(top / 256), math.floor((top + h - 1) / 256) do
    if row >= 0 and row < n then
      for col = math.floor(left / 256), math.floor((left + w - 1) / 256) do
        local key = tiles.tile_to_quadkey(col % n, row, zoom)
        list[#list + 1] = {
          quadkey = key,
          url = meta:tile_url(key, {culture = "en-US"}),
          x = col * 256 - left, y = row * 256 - top,
        }
      end
    end
  end
  return list
end

local tx, ty = tiles.latlon_to_tile(lat, lon, level)
print(string.format("%.6f, %.6f at level %d", lat, lon, level))
print(string.format("  quadkey %s, tile (%d, %d), pixel (%d, %d)", tiles.latlon_to_quadkey(lat, lon, level),
  tx, ty, tiles.latlon_to_pixel(lat, lon, level)))
print(string.format("  %.4f m/pixel, scale 1 : %.0f at 96 dpi", tiles.ground_resolution(lat, level),
  tiles.map_scale(lat, level)))

local list = view(lat, lon, level, width, height)
print(string.format("%d tiles for a %dx%d view:", #list, width, height))
for _, t in ipairs(list) do
  print(string.format("  %-24s at (%5d, %5d)  %s", t.quadkey, t.x, t.y, t.url))
end

if opts.fetch then
  local failed = 0
  for _, t in ipairs(list) do
    local img, err = meta:tile(t.quadkey, {culture = "en-US"})
    if img then
      local path = opts.fetch .. "/" .. t.quadkey .. "." .. img.format
      assert(img:save(path))
      print(string.format("  fetched %s (%d bytes, %s, %dx%d)", path, #img.bytes, img.content_type,
        img.width, img.height))
    else
      failed = failed + 1
      io.stderr:write(string.format("  %s: %s\n", t.quadkey, tostring(err)))
    end
  end
  if failed > 0 then os.exit(1) end
end
