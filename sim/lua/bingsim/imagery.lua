-- The Imagery API of the emulator (rest-services/imagery/) and its map tiles.
--
--   GET /REST/v1/Imagery/Metadata/{imagerySet}[/{centerPoint}]        RESTImagery-Metadata
--   GET /REST/v1/Imagery/BasicMetadata/{imagerySet}[/{centerPoint}]   RESTImagery-BasicMetadata
--   GET|POST /REST/v1/Imagery/Map/{imagerySet}[/{centerPoint}/{zoomLevel} | /{query}]
--                                                                     RESTImagery-StaticMap
--   GET|POST /REST/v1/Imagery/Map/{imagerySet}[/{centerPoint}/{zoomLevel}]/Routes[/{travelMode}]
--                                                                     RESTImagery-StaticMapWithRoute
--   GET /tiles/{subdomain}/{code}{quadkey}.png      keyless, not booked (dispatch row "tile")
--
-- Static maps are drawn (bingsim.canvas) and encoded as PNG (bingsim.png), GIF (bingsim.gif)
-- or baseline JPEG (bingsim.jpeg): a flat background in the imagery set's colour with the
-- tile grid, the route as a line, the pushpins as coloured icons with their labels. The
-- metadata's imageUrl templates point at this emulator's own /tiles/ endpoint, which draws a
-- deterministic 256x256 PNG per imagery set and quadkey (512x512 for Birdseye).
--
-- Test-only request header: X-Bingsim-Account: basic (the Streetside size limit of a Basic
-- key; the emulator's keys are Enterprise by default, as every working key is).
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local canvas = require "bingsim.canvas"

local _M = {_VERSION = "0.1.0"}

local A, O = json.array, json.object
local floor, min, max, abs = math.floor, math.min, math.max, math.abs
local sin, log, atan, exp, pi = math.sin, math.log, math.atan, math.exp, math.pi
local format = string.format

json.order{"imageHeight", "imageUrl", "imageUrlSubdomains", "imageWidth", "imageryProviders",
  "vintageEnd", "vintageStart", "zoomMax", "zoomMin", "orientation", "tilesX", "tilesY",
  "he", "lat", "lon", "pi", "ro", "attribution", "coverageAreas"}

-- Documented limits (get-a-static-map.md, get-imagery-metadata.md).
_M.LIMITS = {
  pins_get = 18, pins_post = 100, label = 3, width = {80, 2000}, height = {80, 1500},
  default_size = {350, 350}, static_zoom = {0, 20}, birdseye_zoom = {18, 22},
  metadata_zoom = {1, 21}, waypoints = 25, streetside_basic = 400, icon_max = 136,
}

local SUBDOMAINS = {"t0", "t1", "t2", "t3"}

-- Imagery sets. kind: "tiles" (quadkey tiles), "birdseye", "streetside". code: the tile
-- name prefix (distinct per set, so tiles differ per set). zoom: the set's range.
-- labels: the set draws labels. rgb: its background colour.
local SETS = {
  aerial = {name = "Aerial", kind = "tiles", code = "a", zoom = {1, 20}, rgb = {58, 86, 52},
            vintage = true},
  aerialwithlabels = {name = "AerialWithLabels", kind = "tiles", code = "h", zoom = {1, 20},
                      rgb = {66, 92, 60}, vintage = true, labels = true},
  aerialwithlabelsondemand = {name = "AerialWithLabelsOnDemand", kind = "tiles", code = "ho",
                              zoom = {1, 20}, rgb = {70, 96, 64}, vintage = true, labels = true},
  birdseye = {name = "Birdseye", kind = "birdseye", code = "be", zoom = {18, 21},
              rgb = {96, 104, 88}, vintage = true},
  birdseyewithlabels = {name = "BirdseyeWithLabels", kind = "birdseye", code = "bel",
                        zoom = {18, 21}, rgb = {100, 108, 92}, vintage = true, labels = true},
  birdseyev2 = {name = "BirdseyeV2", kind = "birdseye", code = "bev", zoom = {18, 21},
                rgb = {92, 100, 96}, vintage = true},
  birdseyev2withlabels = {name = "BirdseyeV2WithLabels", kind = "birdseye", code = "bevl",
                          zoom = {18, 21}, rgb = {96, 104, 100}, vintage = true, labels = true},
  canvasdark = {name = "CanvasDark", kind = "tiles", code = "cd", zoom = {1, 21},
                rgb = {36, 40, 48}, labels = true},
  canvaslight = {name = "CanvasLight", kind = "tiles", code = "cl", zoom = {1, 21},
                 rgb = {246, 244, 240}, labels = true},
  canvasgray = {name = "CanvasGray", kind = "tiles", code = "cg", zoom = {1, 21},
                rgb = {200, 200, 200}, labels = true},
  ordnancesurvey = {name = "OrdnanceSurvey", kind = "tiles", code = "os", zoom = {10, 17},
                    rgb = {250, 246, 226}, labels = true},
  road = {name = "Road", kind = "tiles", code = "r", zoom = {1, 19}, rgb = {242, 239, 233},
          labels = true},
  roadondemand = {name = "RoadOnDemand", kind = "tiles", code = "ro", zoom = {1, 21},
                  rgb = {236, 233, 226}, labels = true},
  streetside = {name = "Streetside", kind = "streetside", code = "hs", zoom = {1, 4},
                rgb = {150, 190, 230}, vintage = true},
}
_M.SETS = SETS
local SET_BY_CODE = {}
for _, s in pairs(SETS) do SET_BY_CODE[s.code] = s end

-- The imagerySet values of get-a-static-map.md ("BirdsEye" spelled so there).
local STATIC_SETS = {aerial = true, aerialwithlabels = true, aerialwithlabelsondemand = true,
  streetside = true, birdseye = true, birdseyewithlabels = true, road = true, canvasdark = true,
  canvaslight = true, canvasgray = true}

-- Sets for which a centerPoint needs a zoomLevel (get-imagery-metadata.md).
local NEEDS_ZOOM = {road = true, aerial = true, aerialwithlabels = true}

local META_LAYERS = {basemap = true, background = true, foreground = true, trafficflow = true,
  buildings = true}
local STATIC_LAYERS = {basemap = true, buildings = true, ordnancesurvey = true, trafficflow = true}

local PROVIDERS = {
  aerial = {{"\194\169 2025 Microsoft Corporation", 1, 20}, {"\194\169 2025 Maxar", 13, 20},
            {"Earthstar Geographics SIO", 1, 12}},
  road = {{"\194\169 2025 Microsoft Corporation", 1, 21}, {"\194\169 2025 TomTom", 1, 21}},
  ordnancesurvey = {{"\194\169 Crown copyright and database rights 2025 OS", 10, 17,
                     {51.28, -0.51, 51.69, 0.33}}},
}

---------------------------------------------------------------------------------------------
-- Tile system (articles/bing-maps-tile-system.md)
---------------------------------------------------------------------------------------------

local MAX_LAT = 85.05112878

local function clip(v, lo, hi) return min(max(v, lo), hi) end

local function map_size(level) return 256 * 2 ^ level end

-- Global pixel coordinates (fractional) of a point at a level.
local function to_pixel(lat, lon, level)
  lat = clip(lat, -MAX_LAT, MAX_LAT)
  lon = clip(lon, -180, 180)
  local s = sin(lat * pi / 180)
  local size = map_size(level)
  local x = (lon + 180) / 360 * size
  local y = (0.5 - log((1 + s) / (1 - s)) / (4 * pi)) * size
  return x, y
end
_M.to_pixel = to_pixel

local function to_latlon(x, y, level)
  local size = map_size(level)
  local lon = x / size * 360 - 180
  local yy = 0.5 - y / size
  local lat = 90 - 360 * atan(exp(-yy * 2 * pi)) / pi
  return lat, lon
end
_M.to_latlon = to_latlon

local function quadkey(tx, ty, level)
  local out = {}
  for i = level, 1, -1 do
    local mask = 2 ^ (i - 1)
    local d = 0
    if floor(tx / mask) % 2 == 1 then d = d + 1 end
    if floor(ty / mask) % 2 == 1 then d = d + 2 end
    out[#out + 1] = tostring(d)
  end
  return table.concat(out)
end
_M.quadkey = quadkey

local function quadkey_tile(qk)
  local tx, ty = 0, 0
  for i = 1, #qk do
    local d = qk:byte(i) - 48
    tx, ty = tx * 2 + d % 2, ty * 2 + floor(d / 2)
  end
  return tx, ty, #qk
end
_M.quadkey_tile = quadkey_tile

local function point_quadkey(lat, lon, level)
  local x, y = to_pixel(lat, lon, level)
  local n = 2 ^ level
  return quadkey(clip(floor(x / 256), 0, n - 1), clip(floor(y / 256), 0, n - 1), level)
end

---------------------------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------------------------

local function hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) % 2147483648 end
  return h
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function header(req, name)
  local v = req.headers and req.headers[name]
  if type(v) == "table" then v = v[1] end
  return v
end

local function parse_numbers(s, n)
  if type(s) ~= "string" then return nil end
  local out = {}
  for part in (s .. ","):gmatch("([^,]*),") do
    local v = tonumber(trim(part))
    if not v then return nil end
    out[#out + 1] = v
  end
  if n and #out ~= n then return nil end
  return out
end

local function parse_point(s)
  local p = parse_numbers(s, 2)
  if not p then return nil end
  return p
end

-- Characters of a UTF-8 string (labels are limited to three characters, not bytes).
local function chars(s)
  local _, continuation = s:gsub("[\128-\191]", "")
  return #s - continuation
end

local function in_range(lat, lon) return lat >= -90 and lat <= 90 and lon >= -180 and lon <= 180 end

local function integer_of(v)
  local n = tonumber(v)
  if not n or n ~= floor(n) then return nil end
  return n
end

-- Shortest text of a coordinate (the static map metadata prints them as strings).
local function coord_text(v)
  local s = format("%.6f", v):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end

local MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
-- "17 Oct 2013 GMT", as the metadata examples print dates.
local function vintage(h, shift)
  local year = 2010 + h % 14
  local month = 1 + floor(h / 14) % 12
  local day = 1 + floor(h / 168) % 28
  local m2 = month + (shift or 0)
  if m2 > 12 then year, m2 = year + 1, m2 - 12 end
  return format("%02d %s %d GMT", day, MONTHS[m2], year)
end

-- This emulator's base URL for a scheme: the request's host name with the port of the
-- emulator's listener for that scheme ($SIM_DIR/env names both).
local listeners
local function read_listeners()
  if listeners then return listeners end
  listeners = {}
  local ok, server = pcall(require, "bingsim.server")
  local dir = ok and server.config and server.config.sim_dir
  local fh = dir and io.open(dir .. "/env", "r")
  if fh then
    for line in fh:lines() do
      local name, url = line:match("^(SIM_[A-Z_]*URL)=['\"]?([^'\"]+)")
      if name == "SIM_URL" then listeners.http = url:match(":(%d+)$") end
      if name == "SIM_HTTPS_URL" then listeners.https = url:match(":(%d+)$") end
    end
    fh:close()
  end
  return listeners
end

local function base_url(req, scheme)
  local host = header(req, "host") or "127.0.0.1"
  local name, port = host:match("^(.-):(%d+)$")
  if not name then name, port = host, nil end
  local current = (ngx and ngx.var and ngx.var.scheme) or "http"
  if scheme ~= current then
    local l = read_listeners()
    port = l[scheme] or port
  end
  return scheme .. "://" .. name .. (port and (":" .. port) or "")
end

local function bad(req, name, problem)
  return nil, envelope.invalid(req, name, problem or envelope.NOT_VALID)
end

---------------------------------------------------------------------------------------------
-- Imagery metadata
---------------------------------------------------------------------------------------------

local function providers(key, set)
  local list = PROVIDERS[key] or ((set.kind ~= "tiles" or set.vintage) and PROVIDERS.aerial)
    or PROVIDERS.road
  local out = A()
  for i, p in ipairs(list) do
    local b = p[4] or {-90, -180, 90, 180}
    out[i] = O{attribution = p[1], coverageAreas = A{O{bbox = A{b[1], b[2], b[3], b[4]},
      zoomMax = p[3], zoomMin = p[2]}}}
  end
  return out
end

local function metadata_options(req)
  local o = {}
  local incl = req.param("include", "incl")
  if incl then
    for v in incl:gmatch("[^,]+") do
      if trim(v):lower() ~= "imageryproviders" then return bad(req, "include") end
      o.providers = true
    end
  end
  local dir = req.param("orientation", "dir")
  if dir then
    local d = tonumber(dir)
    if not d then return bad(req, "orientation") end
    if d < 0 or d > 360 then return bad(req, "orientation", envelope.OUT_OF_RANGE) end
    o.orientation = d
  end
  local scheme = req.param("uriScheme")
  o.scheme = "http"
  if scheme then
    scheme = scheme:lower()
    if scheme ~= "http" and scheme ~= "https" then return bad(req, "uriScheme") end
    o.scheme = scheme
  end
  local zl = req.param("zoomLevel", "zl")
  if zl then
    local z = integer_of(zl)
    if not z then return bad(req, "zoomLevel") end
    if z < _M.LIMITS.metadata_zoom[1] or z > _M.LIMITS.metadata_zoom[2] then
      return bad(req, "zoomLevel", envelope.OUT_OF_RANGE)
    end
    o.zoom = z
  end
  local ml = req.param("mapLayer", "ml")
  if ml then
    for v in ml:gmatch("[^,]+") do
      if not META_LAYERS[trim(v):lower()] then return bad(req, "mapLayer") end
    end
  end
  o.culture = req.param("culture", "c")
  return o
end

local function metadata(req, basic)
  local rest = req.rest
  local set_name = rest[2]
  if not set_name then return envelope.invalid(req, "imagerySet", envelope.MISSING) end
  local key = set_name:lower()
  local set = SETS[key]
  if not set then return envelope.invalid(req, "imagerySet", envelope.NOT_VALID) end
  if #rest > 3 then return envelope.error(req, 404) end
  local o, err = metadata_options(req)
  if not o then return err end
  local center
  if rest[3] then
    -- The reference documents a centerPoint here and nothing else (no query): a place
    -- name is refused rather than geocoded, as a user of the real service would be.
    local p = parse_point(rest[3])
    if not p then return envelope.invalid(req, "centerPoint", envelope.NOT_VALID) end
    if not in_range(p[1], p[2]) then return envelope.invalid(req, "centerPoint") end
    center = p
  end
  if set.kind ~= "tiles" and not center then
    return envelope.invalid(req, "centerPoint", envelope.MISSING)
  end
  if NEEDS_ZOOM[key] and (center ~= nil) ~= (o.zoom ~= nil) then
    -- "If only one of these values were specified, this URL would return an error."
    return envelope.invalid(req, center and "zoomLevel" or "centerPoint", envelope.MISSING)
  end
  local base = base_url(req, o.scheme)
  local r = O{__type = envelope.type_of("ImageryMetadata")}
  local tile_w = set.kind == "birdseye" and 512 or 256
  r.imageHeight, r.imageWidth = tile_w, tile_w
  r.imageryProviders = o.providers and providers(key, set) or json.null
  r.vintageStart, r.vintageEnd = json.null, json.null
  if set.kind == "tiles" then
    if center and o.zoom then
      -- One tile: the URL of the tile under the point, on one subdomain.
      local qk = point_quadkey(center[1], center[2], o.zoom)
      local h = hash(set.code .. qk)
      r.imageUrl = format("%s/tiles/%s/%s%s.png?g=1&mkt={culture}", base,
        SUBDOMAINS[h % 4 + 1], set.code, qk)
      r.imageUrlSubdomains = json.null
      r.zoomMin, r.zoomMax = o.zoom, o.zoom
      if set.vintage then
        r.vintageStart, r.vintageEnd = vintage(h), vintage(h, 1)
      end
    else
      r.imageUrl = format("%s/tiles/{subdomain}/%s{quadkey}.png?g=1&mkt={culture}", base, set.code)
      r.imageUrlSubdomains = A{SUBDOMAINS[1], SUBDOMAINS[2], SUBDOMAINS[3], SUBDOMAINS[4]}
      r.zoomMin, r.zoomMax = set.zoom[1], set.zoom[2]
    end
  elseif set.kind == "birdseye" then
    r.__type = envelope.type_of("BirdseyeMetadata")
    local dir = floor(((o.orientation or 0) + 45) / 90) % 4 * 90
    local qk = point_quadkey(center[1], center[2], 18)
    local h = hash(set.code .. qk .. dir)
    local tx, ty = 9, 14
    if dir == 90 or dir == 270 then tx, ty = 14, 9 end
    r.imageUrl = format("%s/tiles/{subdomain}/%s%s-%d-%d-{zoom}-{tileId}.png?g=1", base, set.code,
      qk, tx, ty)
    r.imageUrlSubdomains = A{SUBDOMAINS[1], SUBDOMAINS[2], SUBDOMAINS[3], SUBDOMAINS[4]}
    r.zoomMin, r.zoomMax = set.zoom[1], set.zoom[2]
    r.vintageStart = vintage(h)
    r.vintageEnd = r.vintageStart
    r.orientation, r.tilesX, r.tilesY = dir, tx, ty
  else
    r.__type = envelope.type_of("StreetsideMetadata")
    -- The nearest capture point: the center snapped to a 0.0001 degree grid.
    local lat = floor(center[1] * 10000 + 0.5) / 10000
    local lon = floor(center[2] * 10000 + 0.5) / 10000
    local qk = point_quadkey(lat, lon, 18)
    local h = hash(set.code .. qk)
    r.imageUrl = format("%s/tiles/{subdomain}/%s%s{faceId}{tileId}.png?g=1", base, set.code, qk)
    r.imageUrlSubdomains = A{SUBDOMAINS[1], SUBDOMAINS[2], SUBDOMAINS[3], SUBDOMAINS[4]}
    r.zoomMin, r.zoomMax = set.zoom[1], set.zoom[2]
    r.vintageStart = vintage(h)
    r.vintageEnd = r.vintageStart
    r.he = (h % 36000) / 100
    r.lat, r.lon = lat, lon
    r.pi = ((h % 200) - 100) / 100
    r.ro = ((floor(h / 200) % 100) - 50) / 100
  end
  if basic then r.imageUrl = nil end
  return envelope.success(req, {r})
end

---------------------------------------------------------------------------------------------
-- Map tiles
---------------------------------------------------------------------------------------------

local function shade(rgb, d)
  return {clip(rgb[1] + d, 0, 255), clip(rgb[2] + d, 0, 255), clip(rgb[3] + d, 0, 255)}
end

local function light(rgb) return (rgb[1] + rgb[2] + rgb[3]) / 3 > 128 end

-- The gazetteer's cities, most important first (drawn on tiles and static maps).
local cities
local function city_list()
  if cities then return cities end
  local ok, g = pcall(require, "bingsim.gazetteer")
  cities = {}
  if not ok or not pcall(g.load) then return cities end
  for _, e in ipairs(g.entries) do
    if e.kind == "PopulatedPlace" then cities[#cities + 1] = e end
  end
  table.sort(cities, function(a, b)
    if a.importance ~= b.importance then return a.importance > b.importance end
    return a.name < b.name
  end)
  return cities
end

local GRATICULE = {30, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005,
  0.0002, 0.0001}

-- What every map of this emulator shows, so that tiles join into one map and a static map
-- looks like the tiles of its area: a graticule (about one line per 200-500 pixels) and the
-- gazetteer's cities as dots, named on sets with labels (more of them as the zoom grows).
-- (x0, y0): the global pixel of the canvas's top left corner at level z.
local function paint_world(c, set, z, x0, y0)
  local size = map_size(z)
  local w, h = c.width, c.height
  local step = GRATICULE[1]
  for _, s in ipairs(GRATICULE) do
    if s * size / 360 >= 200 then step = s end
  end
  local line = c:color(shade(set.rgb, light(set.rgb) and -14 or 14))
  local _, west = to_latlon(x0, y0, z)
  local _, east = to_latlon(x0 + w, y0, z)
  for k = math.ceil(west / step), floor(east / step) do
    local x = floor(((k * step) + 180) / 360 * size - x0)
    c:rect(x, 0, x, h - 1, line)
  end
  local north = to_latlon(x0, y0, z)
  local south = to_latlon(x0, y0 + h, z)
  for k = math.ceil(south / step), floor(north / step) do
    local _, y = to_pixel(k * step, 0, z)
    y = floor(y - y0)
    c:rect(0, y, w - 1, y, line)
  end
  local min_importance = z <= 3 and 5000 or z <= 5 and 1500 or z <= 7 and 300 or 0
  local dot = c:color(light(set.rgb) and {90, 90, 100} or {230, 230, 220})
  for _, e in ipairs(city_list()) do
    if e.importance < min_importance then break end
    local px, py = to_pixel(e.lat, e.lon, z)
    px, py = px - x0, py - y0
    if px > -80 and px < w + 80 and py > -10 and py < h + 10 then
      local r = z <= 5 and 2 or z <= 10 and 3 or 4
      c:disc(px, py, r, dot)
      if set.labels then
        c:text(floor(px + r + 2), floor(py - 2), (e.name:match("^[^,]+") or e.name):upper(), dot, 1)
      end
    end
  end
end

-- A map tile: what a static map of the same level shows there (paint_world, and the tile
-- edges as the static map's grid), with the quadkey written in the top left corner so that
-- every tile differs and can be read. Birdseye and Streetside tiles (not on the quadkey
-- grid of the world) are the set's colour tinted by the name, a 32-pixel grid and a border.
function _M.render_tile(set, qk, size, extra)
  local base = set.rgb
  if set.kind ~= "tiles" then
    base = shade(set.rgb, (hash(set.code .. qk .. (extra or "")) % 25) - 12)
  end
  local c = canvas.new(size, size, base)
  local edge = c:color(shade(base, light(base) and -22 or 22))
  if set.kind == "tiles" then
    local tx, ty, level = quadkey_tile(qk)
    paint_world(c, set, level, tx * 256, ty * 256)
  else
    local grid = c:color(shade(base, light(base) and -12 or 12))
    for k = 32, size - 1, 32 do
      c:rect(k, 0, k, size - 1, grid)
      c:rect(0, k, size - 1, k, grid)
    end
  end
  c:rect(0, 0, size - 1, 0, edge)
  c:rect(0, 0, 0, size - 1, edge)
  local ink = c:color(light(base) and {110, 110, 110} or {200, 200, 200})
  c:text(4, 4, qk ~= "" and qk or set.code, ink, 1)
  if extra and extra ~= "" then c:text(4, 12, extra, ink, 1) end
  return c
end

local TILE_PATTERN = "^(%a+)([0-3]*)(.-)%.png$"

function _M.tile(req)
  local rest = req.rest
  if req.method ~= "GET" and req.method ~= "HEAD" then return envelope.error(req, 405) end
  local file = rest[#rest]
  if #rest < 1 or #rest > 2 or not file then return envelope.error(req, 404) end
  local code, qk, extra = file:match(TILE_PATTERN)
  local set = code and SET_BY_CODE[code:lower()]
  if not set then return envelope.error(req, 404) end
  if set.kind == "tiles" and (#qk < 1 or #qk > 23 or extra ~= "") then
    return envelope.error(req, 404)
  end
  local size = set.kind == "birdseye" and 512 or 256
  local c = _M.render_tile(set, qk, size, extra:gsub("^%-", ""))
  return {status = 200, body = require("bingsim.png").encode(c), content_type = "image/png",
          billing = false,
          -- Cached and usable from any page (a map control's canvas may read them).
          headers = {["Cache-Control"] = "max-age=86400", ["Access-Control-Allow-Origin"] = "*"}}
end

-- Tiles are no Bing transaction (the metadata request that gave their URL is).
function _M.tile_classify() return nil end

---------------------------------------------------------------------------------------------
-- Static maps: parameters
---------------------------------------------------------------------------------------------

-- Pushpin icon styles (pushpin-syntax-and-icon-styles.md), drawn as: box (a rectangle
-- standing on its anchor, with a pointer), circle (centred on the anchor), sign (a
-- triangle standing on the anchor). w, h: icon size; fill, edge: colours. The default
-- style 1's size and the centred circle of style 22 are those of the reference's static map
-- metadata example (12+13 wide, 28 high above the anchor; 16x16 centred).
local BLUE, DBLUE, LBLUE = {33, 76, 160}, {20, 45, 110}, {120, 170, 230}
local RED, DRED, LRED = {214, 40, 40}, {140, 20, 20}, {240, 140, 140}
local ORANGE, GREEN, PURPLE, YELLOW = {240, 140, 30}, {40, 150, 60}, {120, 60, 160}, {240, 200, 30}
local ICONS = {
  [0] = {shape = "circle", w = 20, h = 20, fill = RED, edge = DRED},
  [1] = {shape = "box", w = 25, h = 28, fill = BLUE, edge = DBLUE},
  [2] = {shape = "box", w = 21, h = 24, fill = BLUE, edge = DBLUE},
  [3] = {shape = "box", w = 17, h = 20, fill = BLUE, edge = DBLUE},
  [4] = {shape = "box", w = 25, h = 28, fill = LBLUE, edge = DBLUE},
  [5] = {shape = "box", w = 21, h = 24, fill = LBLUE, edge = DBLUE},
  [6] = {shape = "box", w = 17, h = 20, fill = LBLUE, edge = DBLUE},
  [7] = {shape = "box", w = 25, h = 28, fill = RED, edge = DRED},
  [8] = {shape = "box", w = 21, h = 24, fill = RED, edge = DRED},
  [9] = {shape = "box", w = 17, h = 20, fill = RED, edge = DRED},
  [10] = {shape = "box", w = 25, h = 28, fill = LRED, edge = DRED},
  [11] = {shape = "box", w = 21, h = 24, fill = LRED, edge = DRED},
  [12] = {shape = "box", w = 17, h = 20, fill = LRED, edge = DRED},
  [13] = {shape = "box", w = 21, h = 24, fill = PURPLE, edge = DBLUE},
  [14] = {shape = "circle", w = 20, h = 20, fill = BLUE, edge = DBLUE},
  [15] = {shape = "circle", w = 20, h = 20, fill = BLUE, edge = DBLUE},
  [16] = {shape = "circle", w = 20, h = 20, fill = GREEN, edge = {20, 90, 30}},
  [17] = {shape = "sign", w = 24, h = 22, fill = YELLOW, edge = {90, 70, 0}},
  [18] = {shape = "sign", w = 24, h = 22, fill = ORANGE, edge = {110, 60, 0}},
  [19] = {shape = "sign", w = 24, h = 22, fill = RED, edge = DRED},
  [20] = {shape = "box", w = 25, h = 28, fill = LBLUE, edge = BLUE},
  [21] = {shape = "box", w = 25, h = 27, fill = ORANGE, edge = {110, 60, 0}, lift = 2},
  [22] = {shape = "circle", w = 16, h = 16, fill = RED, edge = DRED},
  [23] = {shape = "box", w = 25, h = 28, fill = ORANGE, edge = {110, 60, 0}},
}
local FAMILY = {BLUE, RED, GREEN, ORANGE, PURPLE, {0, 130, 140}, {90, 90, 90}}

local function icon_of(style)
  local ic = ICONS[style]
  if ic then return ic end
  -- Styles 24-136: boxes and circles in a few colours, by style number.
  local fill = FAMILY[style % #FAMILY + 1]
  local shape = (style % 3 == 0) and "circle" or "box"
  return {shape = shape, w = shape == "circle" and 20 or 23, h = shape == "circle" and 20 or 26,
          fill = fill, edge = shade(fill, -70)}
end

-- The icon's rectangle relative to its anchor: left, top, right, bottom offsets (as
-- static-map-data.md's topLeftOffset / bottomRightOffset: positive numbers).
local function icon_offsets(ic)
  if ic.shape == "circle" then
    local hw = floor(ic.w / 2)
    return hw, hw, ic.w - hw, ic.w - hw
  end
  local left = floor((ic.w - 1) / 2)
  local lift = ic.lift or 0
  return left, ic.h - lift, ic.w - left, lift
end

-- "lat,lon;icon;label" -> pin or nil, problem (pushpin-syntax-and-icon-styles.md).
local function parse_pin(s)
  s = trim(s)
  local coords, rest = s:match("^([^;]*);?(.*)$")
  local p = parse_point(coords)
  if not p then return nil, envelope.NOT_VALID end
  if not in_range(p[1], p[2]) then return nil, envelope.OUT_OF_RANGE end
  local style_s, label = rest:match("^([^;]*);?(.*)$")
  local pin = {lat = p[1], lon = p[2], label = label ~= "" and label or nil}
  style_s = trim(style_s or "")
  if style_s ~= "" then
    local st = integer_of(style_s)
    if not st then return nil, envelope.NOT_VALID end
    if st < 0 or st > _M.LIMITS.icon_max then return nil, envelope.OUT_OF_RANGE end
    pin.style = st
  end
  if pin.label and chars(pin.label) > _M.LIMITS.label then
    return nil, "A pushpin label can have up to three (3) characters."
  end
  return pin
end
_M.parse_pin = parse_pin

local function unescape_form(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Every value of a repeatable parameter, in the order sent (names, any case, in `names`).
local function url_values(req, names)
  local out = {}
  for part in ((req.raw_query or "") .. "&"):gmatch("([^&]*)&") do
    local name, value = part:match("^([^=]*)=?(.*)$")
    if names[unescape_form(name):lower()] then out[#out + 1] = unescape_form(value) end
  end
  return out
end

local function url_pins(req) return url_values(req, {pushpin = true, pp = true}) end

-- Google's encoded polyline format (the drawCurve "enc:" coordinates): {{lat, lon}, ...}.
local function decode_polyline(s)
  local out, i, lat, lon = {}, 1, 0, 0
  local function next_value()
    local result, factor = 0, 1
    while true do
      if i > #s then return nil end
      local b = s:byte(i) - 63
      i = i + 1
      if b < 0 or b > 63 then return nil end
      result = result + (b % 32) * factor
      factor = factor * 32
      if b < 32 then break end
    end
    if result % 2 == 1 then return -(result + 1) / 2 end
    return result / 2
  end
  while i <= #s do
    local dlat = next_value()
    local dlon = next_value()
    if not dlat or not dlon then return nil end
    lat, lon = lat + dlat, lon + dlon
    out[#out + 1] = {lat / 1e5, lon / 1e5}
  end
  return out
end
_M.decode_polyline = decode_polyline

local CURVE_FIELDS = {l = {"line", "width"}, cv = {"line", "width"},
  p = {"line", "fill", "width"}, c = {"line", "fill", "width", "radius"}}

-- One drawCurve value: "<l|p|c|cv>,<style...>[;coordinates]" (get-a-static-map.md) ->
-- {kind, line, fill (ARGB lists), width, radius, points} or nil.
local function parse_curve(v)
  local head, coords = v:match("^([^;]*);?(.*)$")
  local parts = {}
  for f in (head .. ","):gmatch("([^,]*),") do parts[#parts + 1] = trim(f) end
  local kind = (parts[1] or ""):lower()
  local fields = CURVE_FIELDS[kind]
  if not fields or #parts - 1 > #fields then return nil end
  local d = {kind = kind, width = 3, radius = 20}
  for k, name in ipairs(fields) do
    local f = parts[k + 1] or ""
    if f ~= "" then
      if name == "line" or name == "fill" then
        if not f:match("^%x%x%x%x%x%x%x%x$") then return nil end
        d[name] = {tonumber(f:sub(1, 2), 16), tonumber(f:sub(3, 4), 16), tonumber(f:sub(5, 6), 16),
          tonumber(f:sub(7, 8), 16)}
      else
        local n = integer_of(f)
        if not n or n <= 0 then return nil end
        d[name] = n
      end
    end
  end
  coords = trim(coords or "")
  if coords ~= "" then
    if coords:sub(1, 4):lower() == "enc:" then
      d.points = decode_polyline(coords:sub(5))
      if not d.points or #d.points == 0 then return nil end
    else
      d.points = {}
      for pair in (coords .. "_"):gmatch("([^_]*)_") do
        local pt = parse_point(pair)
        if not pt or not in_range(pt[1], pt[2]) then return nil end
        d.points[#d.points + 1] = pt
      end
    end
  end
  return d
end
_M.parse_curve = parse_curve

-- The pushpins of a POST body: "pp=..." items separated by CRLF (or LF) and "&".
local function body_pins(body)
  local out = {}
  for line in ((body or "") .. "\n"):gmatch("([^\n]*)\n") do
    for item in (line:gsub("\r$", "") .. "&"):gmatch("([^&]*)&") do
      item = trim(item)
      if item ~= "" then
        local name, value = item:match("^([^=]*)=(.*)$")
        local lname = name and unescape_form(name):lower()
        if lname ~= "pushpin" and lname ~= "pp" then return nil end
        out[#out + 1] = unescape_form(value)
      end
    end
  end
  return out
end

local AVOID = {highways = true, tolls = true, minimizehighways = true, minimizetolls = true}
local MODES = {driving = "driving", walking = "walking", transit = "transit"}

-- The waypoints of a route map: wp.N / waypoint.N, each "place[;icon;label]".
local function route_waypoints(req)
  local by_index, idx = {}, {}
  for name, v in pairs(req.args) do
    local n = name:lower():match("^waypoint%.(%d+)$") or name:lower():match("^wp%.(%d+)$")
    if n then
      n = tonumber(n)
      if type(v) == "table" or by_index[n] then return nil, "waypoint." .. n end
      by_index[n] = v
      idx[#idx + 1] = n
    end
  end
  table.sort(idx)
  if #idx < 2 then return nil, "waypoint." .. (#idx == 0 and 1 or idx[1] + 1), envelope.MISSING end
  if idx[1] > 1 then return nil, "waypoint." .. idx[1] end
  for k = 2, #idx do
    if idx[k] ~= idx[k - 1] + 1 then return nil, "waypoint." .. idx[k] end
  end
  if #idx > _M.LIMITS.waypoints then return nil, "waypoint." .. idx[#idx], envelope.OUT_OF_RANGE end
  local out = {}
  for k, n in ipairs(idx) do
    local v = by_index[n]
    local place, style_s, label = v:match("^([^;]*);?([^;]*);?(.*)$")
    local w = {index = n, value = trim(place or v), label = label ~= "" and label or nil}
    if style_s and trim(style_s) ~= "" then
      w.style = integer_of(trim(style_s))
      if not w.style or w.style < 0 or w.style > _M.LIMITS.icon_max then
        return nil, "waypoint." .. n
      end
    end
    if w.label and chars(w.label) > _M.LIMITS.label then return nil, "waypoint." .. n end
    if w.value == "" then return nil, "waypoint." .. n, envelope.MISSING end
    out[k] = w
  end
  return out
end

-- What the path says: set, center, zoom, query, route (travel mode) or nil, error.
local function map_path(req)
  local rest = req.rest
  local p = {set_name = rest[2]}
  local i = 3
  local function is_routes(s) return s and s:lower() == "routes" end
  if rest[i] and not is_routes(rest[i]) then
    local pt = parse_point(rest[i])
    if pt then
      p.center = pt
      i = i + 1
      if rest[i] and not is_routes(rest[i]) then
        p.zoom_s = rest[i]
        i = i + 1
      end
    else
      p.query = rest[i]
      i = i + 1
    end
  end
  if is_routes(rest[i]) then
    if p.query then return nil end
    p.route = true
    p.mode_s = rest[i + 1]
    i = i + 2
  end
  if rest[i] then return nil end
  return p
end

local function map_request(req)
  local p = map_path(req)
  if not p then return nil, envelope.error(req, 404) end
  if not p.set_name then return bad(req, "imagerySet", envelope.MISSING) end
  local key = p.set_name:lower()
  if not STATIC_SETS[key] then return bad(req, "imagerySet") end
  local m = {set_key = key, set = SETS[key], route = p.route, query = p.query}
  local L = _M.LIMITS
  -- centerPoint and query may also be given as parameters.
  local cp = p.center
  if not cp and req.param("centerPoint") then
    cp = parse_point(req.param("centerPoint"))
    if not cp then return bad(req, "centerPoint") end
  end
  if cp and not in_range(cp[1], cp[2]) then return bad(req, "centerPoint", envelope.OUT_OF_RANGE) end
  m.center = cp
  if not m.query and not cp and req.param("query") then m.query = req.param("query") end
  local zs = p.zoom_s or req.param("zoomLevel", "zl")
  if zs then
    local z = integer_of(zs)
    if not z then return bad(req, "zoomLevel") end
    local zr = m.set.kind == "birdseye" and L.birdseye_zoom or L.static_zoom
    if z < zr[1] or z > zr[2] then return bad(req, "zoomLevel", envelope.OUT_OF_RANGE) end
    m.zoom = z
  end
  -- Streetside may give fieldOfView instead of a zoom level.
  if m.center and not m.zoom and not m.route and m.set.kind ~= "streetside" then
    return bad(req, "zoomLevel", envelope.MISSING)
  end
  local ma = req.param("mapArea", "ma")
  if ma then
    local b = parse_numbers(ma, 4)
    if not b then return bad(req, "mapArea") end
    if not in_range(b[1], b[2]) or not in_range(b[3], b[4]) or b[1] >= b[3] then
      return bad(req, "mapArea", envelope.OUT_OF_RANGE)
    end
    m.area = b
  end
  -- mapSize: width 80-2000, height 80-1500 (350x350 by default).
  local ms = req.param("mapSize", "ms")
  m.w, m.h = L.default_size[1], L.default_size[2]
  if ms then
    local s = parse_numbers(ms, 2)
    if not s or s[1] ~= floor(s[1]) or s[2] ~= floor(s[2]) then return bad(req, "mapSize") end
    if s[1] < L.width[1] or s[1] > L.width[2] or s[2] < L.height[1] or s[2] > L.height[2] then
      return bad(req, "mapSize", envelope.OUT_OF_RANGE)
    end
    m.w, m.h = s[1], s[2]
    if key == "streetside" and (s[1] > L.streetside_basic or s[2] > L.streetside_basic)
      and (header(req, "x-bingsim-account") or ""):lower() == "basic" then
      return bad(req, "mapSize", envelope.OUT_OF_RANGE)
    end
  end
  local ml = req.param("mapLayer", "ml")
  m.layers = {}
  if ml then
    for v in ml:gmatch("[^,]+") do
      local l = trim(v):lower()
      if not STATIC_LAYERS[l] then return bad(req, "mapLayer") end
      m.layers[l] = true
    end
    if m.set.kind == "birdseye" then return bad(req, "mapLayer") end
  end
  -- format: JPEG is the documented default for Road, Aerial and AerialWithLabels (we use it
  -- for every set); PNG for Ordnance Survey imagery (the mapLayer here).
  local fmt = req.param("format", "fmt")
  if fmt then
    fmt = fmt:lower()
    if fmt ~= "png" and fmt ~= "jpeg" and fmt ~= "gif" then return bad(req, "format") end
  else
    fmt = m.layers.ordnancesurvey and "png" or "jpeg"
  end
  m.format = fmt
  local dcl = req.param("declutterPins", "dcl", "declutter")
  if dcl and dcl ~= "0" and dcl ~= "1" then return bad(req, "declutterPins") end
  m.declutter = dcl == "1"
  local mmd = req.param("mapMetadata", "mmd")
  if mmd and mmd ~= "0" and mmd ~= "1" then return bad(req, "mapMetadata") end
  m.metadata = mmd == "1"
  local dpi = req.param("dpi")
  if dpi and dpi:lower() ~= "large" then return bad(req, "dpi") end
  for _, name in ipairs{"heading", "orientation", "pitch"} do
    local v = name == "orientation" and req.param(name, "dir") or req.param(name)
    if v then
      local d = tonumber(v)
      if not d then return bad(req, name) end
      local lo, hi = 0, 360
      if name == "pitch" then lo, hi = -90, 90 end
      if d < lo or d > hi then return bad(req, name, envelope.OUT_OF_RANGE) end
      m[name] = d
    end
  end
  -- Pushpins: up to 18 in the URL; with POST, up to 100 and only in the body.
  local texts
  if req.method == "POST" then
    if #url_pins(req) > 0 then
      return bad(req, "pushpin", "With HTTP POST, all pushpins must be in the body of the request.")
    end
    local ctype = (header(req, "content-type") or ""):lower()
    if not ctype:match("^%s*text/plain") then
      return nil, envelope.error(req, 400, {envelope.INVALID_PARAMETERS,
        "Content-Type: the body of a static map POST must be text/plain; charset=utf-8."})
    end
    texts = body_pins(req.body)
    if not texts then return bad(req, "pushpin", "The body may only hold pushpins (pp=...).") end
    if #texts > L.pins_post then return bad(req, "pushpin", envelope.OUT_OF_RANGE) end
  else
    texts = url_pins(req)
    if #texts > L.pins_get then return bad(req, "pushpin", envelope.OUT_OF_RANGE) end
  end
  m.pins = {}
  for i, t in ipairs(texts) do
    local pin, problem = parse_pin(t)
    if not pin then return bad(req, "pushpin", problem) end
    m.pins[i] = pin
  end
  if m.route then
    local mode_s = p.mode_s or req.param("travelMode") or "Driving"
    m.mode = MODES[mode_s:lower()]
    if not m.mode then return bad(req, "travelMode") end
    local wps, name, problem = route_waypoints(req)
    if not wps then return bad(req, name, problem) end
    m.waypoints = wps
    local avoid = req.param("avoid")
    m.avoid = {}
    if avoid then
      for v in avoid:gmatch("[^,]+") do
        local a = trim(v):lower()
        if not AVOID[a] then return bad(req, "avoid") end
        m.avoid[a] = true
      end
    end
    if m.mode == "transit" then
      if not req.param("dateTime", "dt") then return bad(req, "dateTime", envelope.MISSING) end
      local tt = req.param("timeType", "tt")
      if not tt then return bad(req, "timeType", envelope.MISSING) end
      local l = tt:lower()
      if l ~= "arrival" and l ~= "departure" and l ~= "lastavailable" then
        return bad(req, "timeType")
      end
    end
    local ms_ = req.param("maxSolutions", "maxSolns")
    if ms_ and (not integer_of(ms_) or integer_of(ms_) < 1 or integer_of(ms_) > 3) then
      return bad(req, "maxSolutions", envelope.OUT_OF_RANGE)
    end
    local opt = req.param("optimize", "optmz")
    if opt then
      local l = opt:lower()
      if l ~= "distance" and l ~= "time" and l ~= "timewithtraffic" then return bad(req, "optimize") end
      m.optimize = l == "timewithtraffic" and "timeWithTraffic" or l
    end
    m.date_time = req.param("dateTime", "dt")
  end
  m.curves = {}
  for _, v in ipairs(url_values(req, {drawcurve = true, dv = true, dc = true})) do
    local d = parse_curve(v)
    if not d then return bad(req, "drawCurve") end
    m.curves[#m.curves + 1] = d
  end
  local fov = req.param("fieldOfView", "fov")
  if fov then
    local n = integer_of(fov)
    if not n then return bad(req, "fieldOfView") end
    if n < 15 or n > 120 then return bad(req, "fieldOfView", envelope.OUT_OF_RANGE) end
  end
  local he = req.param("highlightEntity", "he")
  if he and he ~= "0" and he ~= "1" then return bad(req, "highlightEntity") end
  m.highlight = he == "1"
  if not (m.center or m.area or m.query or m.route or #m.pins > 0) then
    return bad(req, "mapArea", envelope.MISSING)
  end
  return m
end

---------------------------------------------------------------------------------------------
-- Static maps: the view and the drawing
---------------------------------------------------------------------------------------------

-- The largest zoom level (at most zmax) at which the box s,w,n,e fits in w x h pixels
-- less `pad` on each side.
local function fit_zoom(b, w, h, pad, zmax)
  for z = zmax, 1, -1 do
    local x0, y0 = to_pixel(b[3], b[2], z)
    local x1, y1 = to_pixel(b[1], b[4], z)
    if abs(x1 - x0) <= w - 2 * pad and abs(y1 - y0) <= h - 2 * pad then return z end
  end
  return 1
end

local function box_center(b, z)
  local x0, y0 = to_pixel(b[3], b[2], z)
  local x1, y1 = to_pixel(b[1], b[4], z)
  return to_latlon((x0 + x1) / 2, (y0 + y1) / 2, z)
end

local function points_box(points)
  local s, w, n, e = 90, 180, -90, -180
  for _, p in ipairs(points) do
    s, n = min(s, p[1]), max(n, p[1])
    w, e = min(w, p[2]), max(e, p[2])
  end
  return {s, w, n, e}
end

-- Resolves the view: m.center (lat, lon), m.zoom; returns true or nil, error response.
local function resolve_view(req, m)
  local route_points = {}
  if m.route then
    local routes = require "bingsim.routes"
    local synth = require "bingsim.route_synth"
    local wps = {}
    for i, w in ipairs(m.waypoints) do
      local pt = parse_point(w.value)
      local r
      if pt then
        if not in_range(pt[1], pt[2]) then return bad(req, "waypoint." .. w.index, envelope.OUT_OF_RANGE) end
        r = {lat = pt[1], lon = pt[2]}
      else
        r = routes.geocode(w.value)
        if not r then
          return nil, envelope.error(req, 404, format("The waypoint '%s' could not be geocoded.", w.value))
        end
      end
      wps[i] = {lat = r.lat, lon = r.lon, label = "wp." .. w.index}
      w.lat, w.lon = r.lat, r.lon
    end
    local route = synth.routes(wps, {mode = m.mode, path = true, avoid = m.avoid,
      optimize = m.optimize, date_time = m.date_time})[1]
    m.path = {}
    for k, c in ipairs(route.routePath.line.coordinates) do
      m.path[k] = {c[1], c[2]}
      route_points[k] = m.path[k]
    end
  end
  if m.center then
    if not m.zoom then
      m.zoom = #route_points > 0 and fit_zoom(points_box(route_points), m.w, m.h, 24, 19) or 15
    end
    return true
  end
  if m.area then
    m.zoom = fit_zoom(m.area, m.w, m.h, 0, 20)
    m.center = {box_center(m.area, m.zoom)}
    return true
  end
  if m.query then
    local g = require("bingsim.gazetteer")
    local e = g.lookup(m.query)
    if not e then
      return nil, envelope.error(req, 404, format("The query '%s' did not match a location.", m.query))
    end
    if m.highlight then m.entity_box = e.bbox end
    if m.zoom then
      m.center = {e.lat, e.lon}
    else
      m.zoom = fit_zoom(e.bbox, m.w, m.h, 0, 19)
      m.center = {box_center(e.bbox, m.zoom)}
    end
    return true
  end
  local pts = {}
  for _, p in ipairs(m.pins) do pts[#pts + 1] = {p.lat, p.lon} end
  for _, p in ipairs(route_points) do pts[#pts + 1] = p end
  local b = points_box(pts)
  -- A single point (or several at one place) is shown at street level.
  local zmax = (b[1] == b[3] and b[2] == b[4]) and 15 or 19
  m.zoom = m.zoom or fit_zoom(b, m.w, m.h, 30, zmax)
  m.center = {box_center(b, m.zoom)}
  return true
end

local function draw_icon(c, ic, ax, ay, left, top, right, bottom, label)
  local fill, edge = c:color(ic.fill), c:color(ic.edge)
  local x0, y0, x1, y1 = ax - left, ay - top, ax + right - 1, ay + bottom - 1
  if ic.shape == "circle" then
    local r = ic.w / 2
    c:disc(x0 + r, y0 + r, r, edge)
    c:disc(x0 + r, y0 + r, r - 2, fill)
  elseif ic.shape == "sign" then
    c:polygon({{x0, y1 + 1}, {x1 + 1, y1 + 1}, {(x0 + x1 + 1) / 2, y0}}, edge)
    c:polygon({{x0 + 3, y1 - 1}, {x1 - 2, y1 - 1}, {(x0 + x1 + 1) / 2, y0 + 4}}, fill)
  else
    -- A box above the anchor with a pointer down to it.
    local by1 = y1 - 6
    c:rect(x0, y0, x1, by1, edge)
    c:rect(x0 + 2, y0 + 2, x1 - 2, by1 - 2, fill)
    c:polygon({{ax - 5, by1}, {ax + 6, by1}, {ax + 0.5, y1 + 1}}, edge)
  end
  if label then
    local white = c:color(light(ic.fill) and {20, 20, 20} or {255, 255, 255})
    local tw = canvas.text_width(label, 1)
    local cy = ic.shape == "box" and (y0 + y1 - 6) / 2 or (y0 + y1) / 2
    c:text(floor((x0 + x1 + 1) / 2 - tw / 2), floor(cy - 2), label, white, 1)
  end
end

local function overlaps(a, b)
  return a[1] <= b[3] and b[1] <= a[3] and a[2] <= b[4] and b[2] <= a[4]
end

-- Every pin's anchor (pixel of its point) and icon rectangle; with declutter, pins of the
-- default style whose icons overlap an earlier one are moved up and to the right (their
-- anchor stays; the offsets say where the icon went) and joined to their point by a line.
local function place_pins(m, x0, y0)
  local placed = {}
  for _, pin in ipairs(m.all_pins) do
    local px, py = to_pixel(pin.lat, pin.lon, m.zoom)
    local ax, ay = floor(px - x0 + 0.5), floor(py - y0 + 0.5)
    local ic = icon_of(pin.style or 1)
    local l, t, r, b = icon_offsets(ic)
    local dx, dy = 0, 0
    if m.declutter and pin.style == nil then
      for _ = 1, 50 do
        local rect = {ax + dx - l, ay + dy - t, ax + dx + r - 1, ay + dy + b - 1}
        local hit = false
        for _, q in ipairs(placed) do
          if overlaps(rect, q.rect) then hit = true; break end
        end
        if not hit then break end
        dx, dy = dx + floor(l / 2) + 2, dy - floor(t / 2) - 2
      end
    end
    local rect = {ax + dx - l, ay + dy - t, ax + dx + r - 1, ay + dy + b - 1}
    placed[#placed + 1] = {pin = pin, ax = ax, ay = ay, ic = ic, dx = dx, dy = dy,
      l = l - dx, t = t - dy, r = r + dx, b = b + dy, rect = rect}
  end
  return placed
end

local function render_map(m)
  local set = m.set
  local z = m.zoom
  local cx, cy = to_pixel(m.center[1], m.center[2], z)
  local x0, y0 = cx - m.w / 2, cy - m.h / 2
  local c = canvas.new(m.w, m.h, set.rgb)
  if set.kind == "streetside" then
    -- A street scene: sky, road, the horizon moved by the pitch.
    local horizon = floor(m.h / 2 + (m.pitch or 0) / 90 * m.h / 2)
    c:rect(0, horizon, m.w - 1, m.h - 1, c:color{120, 120, 118})
    c:rect(0, horizon, m.w - 1, horizon + 2, c:color{90, 140, 70})
    c:text(6, 6, format("HEADING %d", floor(m.heading or 0)), c:color{30, 30, 60}, 2)
    return c, {}
  end
  -- The tile grid of the level, as the tiles of this set would show it.
  local grid = c:color(shade(set.rgb, light(set.rgb) and -22 or 22))
  for gx = floor(x0 / 256) * 256, x0 + m.w, 256 do
    if gx >= x0 then c:rect(gx - x0, 0, gx - x0, m.h - 1, grid) end
  end
  for gy = floor(y0 / 256) * 256, y0 + m.h, 256 do
    if gy >= y0 then c:rect(0, gy - y0, m.w - 1, gy - y0, grid) end
  end
  paint_world(c, set, z, x0, y0)
  if m.layers.trafficflow then
    c:rect(0, floor(m.h * 0.7), m.w - 1, floor(m.h * 0.7) + 3, c:color{60, 180, 60})
  end
  if m.path then
    local ink = c:color{120, 40, 200}
    local prev
    for _, p in ipairs(m.path) do
      local px, py = to_pixel(p[1], p[2], z)
      px, py = px - x0, py - y0
      if prev then c:line(prev[1], prev[2], px, py, ink, 5) end
      prev = {px, py}
    end
  end
  local function xy_of(p)
    local px, py = to_pixel(p[1], p[2], z)
    return px - x0, py - y0
  end
  if m.entity_box then
    local b = m.entity_box
    local ax, ay = xy_of{b[3], b[2]}
    local bx, by = xy_of{b[1], b[4]}
    local edge = c:color{200, 60, 160}
    c:line(ax, ay, bx, ay, edge, 3)
    c:line(bx, ay, bx, by, edge, 3)
    c:line(bx, by, ax, by, edge, 3)
    c:line(ax, by, ax, ay, edge, 3)
  end
  for _, d in ipairs(m.curves or {}) do
    local pts = d.points
    if not pts then
      pts = {}
      for _, pin in ipairs(m.all_pins) do pts[#pts + 1] = {pin.lat, pin.lon} end
    end
    -- ARGB over the background (a palette image has no alpha).
    local function ink_of(argb, default)
      argb = argb or default
      local a = argb[1] / 255
      return c:color{argb[2] * a + set.rgb[1] * (1 - a), argb[3] * a + set.rgb[2] * (1 - a),
        argb[4] * a + set.rgb[3] * (1 - a)}
    end
    local line = ink_of(d.line, {255, 0, 90, 200})
    local xys = {}
    for k, p in ipairs(pts) do xys[k] = {xy_of(p)} end
    if d.kind == "c" then
      for _, p in ipairs(xys) do
        if d.fill then c:disc(p[1], p[2], d.radius, ink_of(d.fill)) end
        c:ring(p[1], p[2], d.radius, line, d.width)
      end
    else
      if d.kind == "p" and d.fill then c:polygon(xys, ink_of(d.fill)) end
      local n = #xys
      local last = (d.kind == "p") and n or n - 1
      for k = 1, last do
        local a, b = xys[k], xys[k % n + 1]
        if d.kind == "cv" then
          -- A quadratic curve bulging to the left of a -> b by a fifth of its length.
          local mx, my = (a[1] + b[1]) / 2, (a[2] + b[2]) / 2
          local cx_, cy_ = mx + (b[2] - a[2]) / 5, my - (b[1] - a[1]) / 5
          local prev = a
          for t = 1, 16 do
            local f = t / 16
            local px = (1 - f) ^ 2 * a[1] + 2 * (1 - f) * f * cx_ + f * f * b[1]
            local py = (1 - f) ^ 2 * a[2] + 2 * (1 - f) * f * cy_ + f * f * b[2]
            c:line(prev[1], prev[2], px, py, line, d.width)
            prev = {px, py}
          end
        else
          c:line(a[1], a[2], b[1], b[2], line, d.width)
        end
      end
    end
  end
  local placed = place_pins(m, x0, y0)
  for _, q in ipairs(placed) do
    if q.dx ~= 0 or q.dy ~= 0 then
      c:line(q.ax, q.ay, q.ax + q.dx, q.ay + q.dy, c:color{40, 40, 40}, 1)
    end
    draw_icon(c, q.ic, q.ax, q.ay, q.l, q.t, q.r, q.b, q.pin.label)
  end
  return c, placed, x0, y0
end

local function xy(x, y) return O{x = tostring(x), y = tostring(y)} end

-- StaticMapMetadata (static-map-data.md). The reference's JSON prints the sizes, the zoom,
-- the coordinates and the offsets as strings and the bbox as numbers; so do we.
local function map_metadata(req, m)
  local z = m.zoom
  local cx, cy = to_pixel(m.center[1], m.center[2], z)
  local x0, y0 = cx - m.w / 2, cy - m.h / 2
  local placed = m.set.kind == "streetside" and {} or place_pins(m, x0, y0)
  local south, west = to_latlon(x0, y0 + m.h, z)
  local north, east = to_latlon(x0 + m.w, y0, z)
  local pins = A()
  for i, q in ipairs(placed) do
    pins[i] = O{
      anchor = xy(q.ax, q.ay), bottomRightOffset = xy(q.r, q.b),
      point = O{type = "Point", coordinates = A{coord_text(q.pin.lat), coord_text(q.pin.lon)}},
      topLeftOffset = xy(q.l, q.t),
    }
  end
  local r = O{
    __type = envelope.type_of("StaticMapMetadata"),
    bbox = A{south, west, north, east},
    imageHeight = tostring(m.h), imageWidth = tostring(m.w),
    mapCenter = O{type = "Point", coordinates = A{coord_text(m.center[1]), coord_text(m.center[2])}},
    pushpins = pins, zoom = tostring(z),
  }
  return envelope.success(req, {r})
end

local CONTENT_TYPES = {png = "image/png", jpeg = "image/jpeg", gif = "image/gif"}

local function static_map(req)
  local m, err = map_request(req)
  if not m then return err end
  local ok, err2 = resolve_view(req, m)
  if not ok then return err2 end
  -- Waypoints are drawn as pushpins too (their icon and label from the wp.N value).
  m.all_pins = {}
  for _, p in ipairs(m.pins) do m.all_pins[#m.all_pins + 1] = p end
  for k, w in ipairs(m.waypoints or {}) do
    m.all_pins[#m.all_pins + 1] = {lat = w.lat, lon = w.lon, style = w.style,
      label = w.label or string.char(64 + min(k, 26))}
  end
  if m.metadata then return map_metadata(req, m) end
  local c = render_map(m)
  local body = require("bingsim." .. m.format).encode(c)
  local headers
  if m.set.kind == "streetside" then
    headers = {["X-VE-SS-CaptureDate"] = "Wed, 16 Jul 2014 17:13:06 GMT"}
  end
  return {status = 200, body = body, content_type = CONTENT_TYPES[m.format], headers = headers}
end

---------------------------------------------------------------------------------------------
-- Dispatch
---------------------------------------------------------------------------------------------

local function kind_of(req)
  local op = (req.rest[1] or ""):lower()
  if op == "metadata" then return "metadata" end
  if op == "basicmetadata" then return "basic" end
  if op == "map" then
    for _, s in ipairs(req.rest) do
      if s:lower() == "routes" then return "route_map" end
    end
    return "map"
  end
  return nil
end

local CATEGORY = {metadata = "RESTImagery-Metadata", basic = "RESTImagery-BasicMetadata",
  map = "RESTImagery-StaticMap", route_map = "RESTImagery-StaticMapWithRoute"}

function _M.classify(req)
  local k = kind_of(req)
  if not k then return nil end
  return {category = CATEGORY[k], transactions = 1}
end

function _M.handle(req)
  local k = kind_of(req)
  if not k then return envelope.error(req, 404) end
  if k == "metadata" or k == "basic" then
    if req.method ~= "GET" then return envelope.error(req, 405) end
    return metadata(req, k == "basic")
  end
  return static_map(req)
end

return _M
