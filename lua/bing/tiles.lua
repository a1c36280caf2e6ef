--- The Bing Maps Tile System: Mercator pixels, 256-pixel tiles and quadkeys, levels 1-23.
--
-- The math is the article "Bing Maps Tile System" (its formulas and sample code), done in C
-- (csrc/tiles.c); those functions are exported as they are. On top, what a tile fetcher
-- needs: the tiles covering a bounding box (`covering`) and a tile URL from the imagery
-- metadata's template (`url`). An `argument` error from any function here names the file and
-- line of the user's call (`err.where`).
--
-- C functions (see csrc/tiles.c for the exact rules):
--   map_size(level) -> pixels (256 * 2^level)
--   latlon_to_pixel(lat, lon, level) -> px, py      pixel_to_latlon(px, py, level) -> lat, lon
--   pixel_to_tile(px, py) -> tx, ty                 tile_to_pixel(tx, ty) -> px, py
--   tile_to_quadkey(tx, ty, level) -> quadkey       quadkey_to_tile(quadkey) -> tx, ty, level
--   ground_resolution(lat, level) -> metres/pixel   map_scale(lat, level[, dpi = 96]) -> N (1 : N)
--   latlon_to_tile(lat, lon, level) -> tx, ty       latlon_to_quadkey(lat, lon, level) -> quadkey
--   tile_bounds(tx, ty, level) -> south, west, north, east
-- @module bing.tiles
local core = require "bing.core"
local errors = require "bing.errors"

local _M = {}

for name, value in pairs(core.tiles) do _M[name] = value end

local latlon_to_tile, tile_to_quadkey = core.tiles.latlon_to_tile, core.tiles.tile_to_quadkey
local floor, type, tostring, format = math.floor, type, tostring, string.format

-- How many tiles `covering` returns unless told otherwise, and the most it can be told: a
-- screen needs tens of tiles, and a bounding box at a deep level can cover billions.
_M.DEFAULT_MAX_TILES = 1024
_M.MAX_TILES = 1048576

-- An `argument` error at the user's call (errors.raise finds the first frame outside the
-- library, so the checks below may sit at any depth).
local raise = errors.raise

-- tostring, with NaN as "nan" whatever its sign bit (x86 prints 0/0 as "-nan").
local function show(v)
  if v ~= v then return "nan" end
  return tostring(v)
end

local function is_int(v, lo, hi)
  return type(v) == "number" and v == floor(v) and v >= lo and v <= hi
end

-- A finite number within -limit..limit (NaN fails every comparison).
local function in_range(v, limit)
  return type(v) == "number" and v >= -limit and v <= limit
end

--- The tiles covering `bbox = {south, west, north, east}` (Bing's order) at `level`, north row
-- first, west to east: a list of `{x =, y =, level =, quadkey =, row =, col =}` (`row`, `col`:
-- 1-based place in the grid, for drawing), with `rows` and `cols` set on the list. A box whose
-- west is greater than its east crosses the antimeridian: its columns run from the west edge to
-- the end of the map and on from column 0. An edge exactly on a tile boundary takes the tile
-- to its east or south too, as the article's pixel rounding does. More than `opts.max` tiles
-- (default DEFAULT_MAX_TILES, at most MAX_TILES) is an `argument` error, before any is built.
function _M.covering(bbox, level, opts)
  local fn = "bing.tiles.covering"
  if type(bbox) ~= "table" then
    raise(format("%s: bbox must be a {south, west, north, east} table, got %s", fn, type(bbox)), 2)
  end
  local south, west, north, east = bbox[1], bbox[2], bbox[3], bbox[4]
  if not (in_range(south, 90) and in_range(north, 90) and in_range(west, 180)
          and in_range(east, 180)) then
    raise(format("%s: bbox must be {south, west, north, east} with latitudes -90..90 and "
      .. "longitudes -180..180, got {%s, %s, %s, %s}", fn, show(south), show(west),
      show(north), show(east)), 2)
  end
  if south > north then
    raise(format("%s: bbox south (%s) is north of its north (%s)", fn, show(south),
      show(north)), 2)
  end
  if not is_int(level, 1, 23) then
    raise(format("%s: level must be an integer from 1 to 23, got %s", fn, show(level)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    raise(format("%s: opts must be a table, got %s", fn, type(opts)), 2)
  end
  local max = opts and opts.max or _M.DEFAULT_MAX_TILES
  if not is_int(max, 1, _M.MAX_TILES) then
    raise(format("%s: max must be an integer from 1 to %d, got %s", fn, _M.MAX_TILES,
      show(max)), 2)
  end

  local n = floor(2 ^ level)
  local x0, y0 = latlon_to_tile(north, west, level)
  local x1, y1 = latlon_to_tile(south, east, level)
  local rows = y1 - y0 + 1
  local cols
  if west <= east then
    cols = x1 - x0 + 1
  else
    cols = math.min(n, n - x0 + x1 + 1)
  end
  local count = rows * cols
  if count > max then
    raise(format("%s: the bbox covers %d tiles at level %d, more than max (%d); use a lower "
      .. "level or a larger opts.max", fn, count, level, max), 2)
  end

  local list = {rows = rows, cols = cols, level = level}
  for r = 1, rows do
    local y = y0 + r - 1
    for c = 1, cols do
      local x = (x0 + c - 1) % n
      list[#list + 1] = {x = x, y = y, level = level, quadkey = tile_to_quadkey(x, y, level),
                         row = r, col = c}
    end
  end
  return list
end

--- A tile's URL from an imagery metadata template (`imageUrl`), such as
-- "http://ecn.{subdomain}.tiles.virtualearth.net/tiles/r{quadkey}.jpeg?g=1&mkt={culture}".
-- Fills `{quadkey}`, `{subdomain}` (from `opts.subdomains`, the metadata's
-- `imageUrlSubdomains`; the tile (x, y) picks one as (x + y) % count, so neighbours spread
-- over the subdomains and a tile always comes from the same one, which keeps caches warm) and
-- `{culture}` (`opts.culture`, default "en-US"). Other placeholders (Streetside's `{faceId}`,
-- `{tileId}`, the key) are left as they are: they are not quadkey tiles.
function _M.url(template, quadkey, opts)
  local fn = "bing.tiles.url"
  if type(template) ~= "string" then
    raise(format("%s: template must be a string, got %s", fn, type(template)), 2)
  end
  if type(quadkey) ~= "string" or #quadkey < 1 or #quadkey > 23 or quadkey:find("[^0-3]") then
    raise(format("%s: quadkey must be 1 to 23 digits 0-3, got %s", fn,
      type(quadkey) == "string" and format("%q", quadkey) or type(quadkey)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    raise(format("%s: opts must be a table, got %s", fn, type(opts)), 2)
  end
  opts = opts or {}
  local culture = opts.culture or "en-US"
  if type(culture) ~= "string" or not culture:find("^[%w%-]+$") then
    raise(format("%s: culture must be a culture code such as \"en-US\", got %s", fn,
      show(culture)), 2)
  end
  local url = template:gsub("{quadkey}", quadkey):gsub("{culture}", culture)
  if url:find("{subdomain}", 1, true) then
    local subs = opts.subdomains
    if type(subs) ~= "table" or #subs == 0 then
      raise(format("%s: the template has {subdomain}: opts.subdomains (the metadata's "
        .. "imageUrlSubdomains) must be a non-empty list", fn), 2)
    end
    local x, y = core.tiles.quadkey_to_tile(quadkey)
    local sub = subs[(x + y) % #subs + 1]
    if type(sub) ~= "string" or not sub:find("^[%w%-%.]+$") then
      raise(format("%s: subdomain %s is not a host name label", fn, show(sub)), 2)
    end
    url = url:gsub("{subdomain}", sub)
  end
  return url
end

return _M
