--- Imagery (rest-services/imagery/): tile URL templates and static maps.
--
--     local list = assert(client.imagery.metadata{imagerySet = "RoadOnDemand"})
--     print(list[1]:tile_url(tx, ty, level), list[1]:tile_url("0231"))
--     local img = assert(client.imagery.static_map{imagerySet = "Road",
--       centerPoint = {47.62, -122.35}, zoomLevel = 15, mapSize = {500, 400},
--       pushpins = {{47.6205, -122.3493, iconStyle = 7, label = "SN"}}, format = "png"})
--     print(img.content_type, img.width, img.height); img:save("map.png")
--     client.imagery.basic_metadata{imagerySet = "Aerial", centerPoint = {47.62, -122.35},
--                                   zoomLevel = 15}   -- vintage, zoom range; no imageUrl
--
-- `metadata` (get-imagery-metadata.md) returns a list of ImageryMetadata (Bing's fields:
-- `imageUrl`, `imageUrlSubdomains`, `imageWidth`, `imageHeight`, `vintageStart`, `vintageEnd`,
-- `zoomMin`, `zoomMax`, `imageryProviders`; Birdseye and Streetside fields too) with
-- `:tile_url(...)`; `metadata{basic = true}` (or `basic_metadata{...}`) asks the
-- BasicMetadata URL, a non-billable category, whose answer has no imageUrl.
-- `static_map` (get-a-static-map.md) returns an Image (`bytes`, `content_type`, `width`,
-- `height` read from the image header, `meta`, `:save(path)`), or with `mapMetadata = true`
-- a StaticMapMetadata (static-map-data.md). Pushpins (pushpin-syntax-and-icon-styles.md) go
-- in the URL up to 18, in a text/plain POST body up to 100 (switched to by itself); a
-- `route` draws a route and is billed RESTImagery-StaticMapWithRoute.
-- @module bing.api.imagery
local check = require "bing.check"
local endpoint = require "bing.endpoint"
local errors = require "bing.errors"

local _M = {}

local fmt, floor, concat = string.format, math.floor, table.concat
-- An integral float as an integer (5.4), anything else as it is: math.tointeger alone gives
-- nil for 22.5, and a double parameter (orientation, heading, pitch) would go unsent.
local function int(x) return math.tointeger and math.tointeger(x) or x end

-- The documented limits, with their pages.
_M.LIMITS = {
  pins_get = 18, pins_post = 100,       -- get-a-static-map.md, "Pushpin Limits"
  label = 3,                            -- pushpin syntax: "limited to three characters"
  icon_max = 136,                       -- the icon style table: 0 to 136
  width = {80, 2000}, height = {80, 1500}, streetside_basic = 400,   -- mapSize
  zoom = {0, 20}, birdseye_zoom = {18, 22},                          -- zoomLevel
  metadata_zoom = {1, 21},              -- get-imagery-metadata.md, zoomLevel
  waypoints = 25,                       -- waypoint.n: "a maximum of 25 waypoints"
  field_of_view = {15, 120},
}
local L = _M.LIMITS

-- get-imagery-metadata.md's imagerySet values.
local METADATA_SETS = {"Aerial", "AerialWithLabels", "AerialWithLabelsOnDemand", "Birdseye",
  "BirdseyeWithLabels", "BirdseyeV2", "BirdseyeV2WithLabels", "CanvasDark", "CanvasLight",
  "CanvasGray", "OrdnanceSurvey", "Road", "RoadOnDemand", "Streetside"}
-- get-a-static-map.md's imagerySet values ("BirdsEye" spelled so there).
local STATIC_SETS = {"Aerial", "AerialWithLabels", "AerialWithLabelsOnDemand", "Streetside",
  "BirdsEye", "BirdsEyeWithLabels", "Road", "CanvasDark", "CanvasLight", "CanvasGray"}

local function lower(s) return type(s) == "string" and s:lower() or "" end
local function birdseye(set) return lower(set):find("^birdseye") ~= nil end
local function streetside(set) return lower(set) == "streetside" end


local ImageryMetadata = {}
ImageryMetadata.__index = ImageryMetadata
_M.ImageryMetadata = ImageryMetadata

-- The client and culture each metadata object came with (kept beside it, not in Bing's fields).
local owner = setmetatable({}, {__mode = "k"})

--- An ImageryMetadata from fields kept earlier (a saved `imageUrl` and `imageUrlSubdomains`,
-- say), bound to `client` for `:tile`.
function ImageryMetadata.new(fields, client)
  if type(fields) ~= "table" then
    errors.raise("imagery ImageryMetadata.new: fields must be a table, got " .. type(fields), 2)
  end
  local m = {}
  for k, v in pairs(fields) do m[k] = v end
  owner[m] = {client = client, culture = client and client.culture}
  return setmetatable(m, ImageryMetadata)
end

local function tile_error(f, ...)
  errors.raise("imagery ImageryMetadata:tile_url: " .. fmt(f, ...), 3)
end

-- A placeholder's value as URL text (numbers as integers).
local function text_of(v)
  if type(v) == "number" then return fmt("%d", v) end
  return tostring(v)
end

--- The URL of one tile from the `imageUrl` template (imagery-metadata.md, "Understanding the
-- Image URL Placeholders"): `:tile_url(x, y, level)` or `:tile_url(quadkey)` for quadkey
-- templates (bing.tiles fills {quadkey}, {subdomain} from `imageUrlSubdomains`, {culture});
-- `:tile_url{zoom =, tileId =, faceId =}` for Birdseye and Streetside templates; `:tile_url()`
-- for the one tile of a metadata asked at a centerPoint and zoomLevel. A last table argument
-- may give `culture` (default: the client's culture, else "en-US") and `subdomain`. A level
-- outside zoomMin..zoomMax, or a placeholder left unfilled, raises (kind `argument`).
function ImageryMetadata:tile_url(a, b, c, d)
  local template = self.imageUrl
  if type(template) ~= "string" then
    tile_error("this metadata has no imageUrl (basic metadata never has one)")
  end
  local quadkey, fill, opts
  if type(a) == "number" then
    if type(c) ~= "number" then tile_error("give x, y, level (numbers) or a quadkey") end
    local level = c
    local lo, hi = tonumber(self.zoomMin), tonumber(self.zoomMax)
    if lo and hi and (level < lo or level > hi) then
      tile_error("level %s is outside this imagery's zoomMin..zoomMax (%d..%d)", tostring(level), lo, hi)
    end
    quadkey = require("bing.tiles").tile_to_quadkey(a, b, level)
    opts = d
  elseif type(a) == "string" then
    quadkey, opts = a, b
    local lo, hi = tonumber(self.zoomMin), tonumber(self.zoomMax)
    if lo and hi and (#quadkey < lo or #quadkey > hi) and template:find("{quadkey}", 1, true) then
      tile_error("quadkey %q (level %d) is outside this imagery's zoomMin..zoomMax (%d..%d)",
        quadkey, #quadkey, lo, hi)
    end
  elseif type(a) == "table" then
    fill, opts = a, a
  elseif a ~= nil then
    tile_error("give x, y, level, a quadkey or a table, got %s", type(a))
  end
  if opts ~= nil and type(opts) ~= "table" then tile_error("options must be a table") end
  opts = opts or {}
  local culture = opts.culture or (owner[self] or {}).culture or "en-US"
  local subs = type(self.imageUrlSubdomains) == "table" and self.imageUrlSubdomains or nil
  if opts.subdomain then subs = {opts.subdomain} end
  local url
  if quadkey then
    if not template:find("{quadkey}", 1, true) then
      tile_error("this imageUrl has no {quadkey} (it is one tile, or a Birdseye/Streetside "
        .. "template): call :tile_url() or :tile_url{zoom =, tileId =}")
    end
    url = require("bing.tiles").url(template, quadkey, {subdomains = subs, culture = culture})
  else
    url = template:gsub("{culture}", culture)
    if url:find("{subdomain}", 1, true) then
      if not subs or #subs == 0 then tile_error("the template has {subdomain} but no subdomains") end
      -- Spread over the subdomains by the tile's identity, as bing.tiles does for quadkeys.
      local n = tonumber(fill and fill.tileId) or 0
      url = url:gsub("{subdomain}", subs[n % #subs + 1])
    end
    for _, name in ipairs{"zoom", "tileId", "faceId"} do
      if fill and fill[name] ~= nil then
        local v = fill[name]
        if not (type(v) == "number" and v == floor(v) and v >= 0) and not (type(v) == "string"
            and v:find("^[%w]+$")) then
          tile_error("%s must be a non-negative integer, got %s", name, tostring(v))
        end
        url = url:gsub("{" .. name .. "}", (text_of(v):gsub("%%", "%%%%")))
      end
    end
  end
  -- The placeholders of the page (and Streetside's {faceId}) must be filled; others, such as
  -- the reference examples' {BingMapsKey}, are the service's business and stay as they are.
  for _, name in ipairs{"quadkey", "subdomain", "culture", "zoom", "tileId", "faceId"} do
    if url:find("{" .. name .. "}", 1, true) then
      tile_error("the imageUrl's {%s} is not filled: give it in the table argument", name)
    end
  end
  return url
end

local image -- the static map's answer as an Image (below)

--- Downloads one tile (the arguments of `:tile_url`) through the client's pipeline (its
-- transport, retries, qps): an Image, or nil, err. Tiles are no Bing transaction and their
-- host never gets the key.
function ImageryMetadata:tile(...)
  local url = self:tile_url(...)
  local client = (owner[self] or {}).client
  if not client then
    errors.raise("imagery ImageryMetadata:tile: this metadata has no client (use "
      .. "ImageryMetadata.new(fields, client))", 2)
  end
  local doc, meta = client:call{url = url, keyless = true, billing = false, method = "GET",
                                answer = "bytes", idempotent = true}
  if not doc then return nil, meta end
  return image(doc, meta)
end

-- The resources of the answer as a list of ImageryMetadata (numbers as integers on 5.4).
local function metadata_list(doc, meta, call)
  local sets = type(doc) == "table" and doc.resourceSets
  local rs = type(sets) == "table" and type(sets[1]) == "table" and sets[1].resources
  local list = {meta = meta}
  for _, r in ipairs(type(rs) == "table" and rs or {}) do
    if type(r) == "table" then
      for _, k in ipairs{"imageWidth", "imageHeight", "zoomMin", "zoomMax", "tilesX", "tilesY"} do
        local n = tonumber(r[k])
        if n and n == floor(n) then r[k] = int(n) end
      end
      -- JSON null (lua-cjson's lightuserdata) reads as nil: `if m.imageUrlSubdomains`.
      for k, v in pairs(r) do
        if type(v) == "userdata" then r[k] = nil end
      end
      owner[r] = {client = call.client, culture = call.values.culture}
      list[#list + 1] = setmetatable(r, ImageryMetadata)
    end
  end
  return list
end

local function metadata_before(call)
  if call.args.query ~= nil then
    -- get-imagery-metadata.md documents a centerPoint only: geocode the place first.
    check.raise(call.what, "query is not a parameter of the Imagery Metadata API (it takes a "
      .. "centerPoint): geocode first, e.g. centerPoint = client.locations.find{q = ...}[1]")
  end
end

local function metadata_rules(call)
  local v, what = call.values, call.what
  local set = v.imagerySet
  local basic = call.args.basic == true or call.decl.basic
  check.typed(what, "basic", call.args.basic, "boolean")
  if v.centerPoint then
    call.segments = {set, v.centerPoint}
  else
    call.segments = {set}
    if birdseye(set) or streetside(set) then
      check.raise(what, "centerPoint is required for %s imagery", set)
    end
  end
  -- "Required if a centerPoint is specified and imagerySet is set to Road, Aerial or
  -- AerialWithLabels"; the Aerial example: "If only one of these values were specified, this
  -- URL would return an error."
  local pair = ({road = true, aerial = true, aerialwithlabels = true})[lower(set)]
  if pair and (v.centerPoint ~= nil) ~= (v.zoomLevel ~= nil) then
    check.raise(what, "%s imagery takes centerPoint and zoomLevel together", set)
  end
  if v.orientation ~= nil and not birdseye(set) then
    return check.bad(what, "orientation only applies to Birdseye imagery")
  end
  v.imagerySet, v.centerPoint = nil, nil
  call.path = basic and "/REST/v1/Imagery/BasicMetadata" or "/REST/v1/Imagery/Metadata"
  call.billing = basic and "RESTImagery-BasicMetadata" or "RESTImagery-Metadata"
  return true
end

local function center(what, name, p)
  local text, err = check.point(what, name, p)
  if not text then return nil, err end
  return text
end

local function orientation(what, name, v)
  if v == nil then return nil end
  if type(v) ~= "number" then check.raise(what, "%s must be a number", name) end
  if not check.finite(v) or v < 0 or v > 360 then
    return check.bad(what, "%s must be within [0, 360] degrees, got %s", name, tostring(v))
  end
  return int(v)
end

local function metadata_decl(basic)
  return {
    path = "/REST/v1/Imagery/Metadata", billing = "RESTImagery-Metadata", basic = basic,
    result = metadata_list, before = metadata_before, rules = metadata_rules,
    params = {
      {"imagerySet", check.one_of(METADATA_SETS), required = true, segment = true},
      {"centerPoint", center, segment = true},
      {"zoomLevel", check.int(L.metadata_zoom[1], L.metadata_zoom[2])},
      {"include", check.some_of{"ImageryProviders"}},
      {"orientation", orientation},
      {"uriScheme", check.one_of{"http", "https"}},
      {"mapLayer", check.some_of{"Basemap", "Background", "Foreground", "TrafficFlow", "Buildings"}},
      {"culture", check.culture, default = function(client) return client.culture end},
    },
    options = {"basic", "query"},
  }
end

_M.metadata = metadata_decl(false)
_M.basic_metadata = metadata_decl(true)


local Image = {}
Image.__index = Image
_M.Image = Image

--- Writes the image bytes to `path`: true, or nil, err (kind `argument`: the file could not
-- be written).
function Image:save(path)
  if type(path) ~= "string" then
    errors.raise("imagery Image:save: path must be a string, got " .. type(path), 2)
  end
  local f, why = io.open(path, "wb")
  if not f then return nil, errors.argument("imagery Image:save: " .. tostring(why)) end
  local ok, werr = f:write(self.bytes)
  local closed, cerr = f:close()
  if not ok or not closed then
    return nil, errors.argument("imagery Image:save: " .. tostring(werr or cerr))
  end
  return true
end

local function u16be(s, i) return s:byte(i) * 256 + s:byte(i + 1) end
local function u16le(s, i) return s:byte(i) + s:byte(i + 1) * 256 end

--- The format and size of an image from its header: "png"|"jpeg"|"gif", width, height; or
-- nil. PNG: the IHDR chunk; GIF: the logical screen descriptor; JPEG: the first SOFn frame.
-- (`require("bing.api.imagery").Image.size_of(bytes)`.)
function Image.size_of(s)
  if type(s) ~= "string" then return nil end
  if s:sub(1, 8) == "\137PNG\r\n\26\n" and s:sub(13, 16) == "IHDR" and #s >= 24 then
    local w = u16be(s, 17) * 65536 + u16be(s, 19)
    local h = u16be(s, 21) * 65536 + u16be(s, 23)
    return "png", w, h
  end
  if (s:sub(1, 6) == "GIF87a" or s:sub(1, 6) == "GIF89a") and #s >= 10 then
    return "gif", u16le(s, 7), u16le(s, 9)
  end
  if s:sub(1, 2) == "\255\216" then
    local i = 3
    while i + 3 <= #s do
      if s:byte(i) ~= 0xFF then return nil end
      local m = s:byte(i + 1)
      if m == 0xFF then
        i = i + 1                                 -- fill byte
      elseif m == 0x01 or (m >= 0xD0 and m <= 0xD8) then
        i = i + 2                                 -- markers without a length
      else
        local len = u16be(s, i + 2)
        -- SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if m >= 0xC0 and m <= 0xCF and m ~= 0xC4 and m ~= 0xC8 and m ~= 0xCC then
          if i + 8 > #s then return nil end
          return "jpeg", u16be(s, i + 7), u16be(s, i + 5)
        end
        if m == 0xD9 or m == 0xDA or len < 2 then return nil end
        i = i + 2 + len
      end
    end
  end
  return nil
end

local CONTENT_TYPES = {png = "image/png", jpeg = "image/jpeg", gif = "image/gif"}

-- The answer as an Image: the decoder's "bytes" answer is {bytes =, content_type =} (it has
-- already refused an empty body and a JSON, XML or text content type).
function image(doc, meta)
  local bytes, ctype = doc, nil
  if type(doc) == "table" then bytes, ctype = doc.bytes, doc.content_type end
  local kind, w, h = Image.size_of(bytes)
  if not kind then
    return nil, errors.new("decode", "the answer is not a PNG, JPEG or GIF image ("
      .. tostring(ctype or "no content type") .. ", " .. #tostring(bytes or "") .. " bytes)",
      {status = meta and meta.status, retryable = false})
  end
  return setmetatable({bytes = bytes, content_type = ctype or CONTENT_TYPES[kind], format = kind,
                       width = w, height = h, meta = meta}, Image)
end

local StaticMapMetadata = {}
StaticMapMetadata.__index = StaticMapMetadata
_M.StaticMapMetadata = StaticMapMetadata

-- static-map-data.md's example prints sizes, zoom, coordinates and offsets as strings: they
-- are read as numbers here (a string that is no number stays as it was).
local function num(v)
  local n = tonumber(v)
  if n == nil then return v end
  if n == floor(n) then return int(n) end
  return n
end

local function xy(t)
  if type(t) == "table" then t.x, t.y = num(t.x), num(t.y) end
  return t
end

local function point_of(p)
  if type(p) == "table" and type(p.coordinates) == "table" then
    p.coordinates[1], p.coordinates[2] = num(p.coordinates[1]), num(p.coordinates[2])
  end
  return p
end

--- The map's bbox as a polygon and each pushpin as a point (lon/lat order): a GeoJSON
-- FeatureCollection.
function StaticMapMetadata:geojson()
  local features = {}
  local b = self.bbox
  if type(b) == "table" and #b == 4 and type(b[1]) == "number" and type(b[2]) == "number"
      and type(b[3]) == "number" and type(b[4]) == "number" then
    local s, w, n, e = b[1], b[2], b[3], b[4]
    features[1] = {type = "Feature", properties = {kind = "map", zoom = self.zoom,
      imageWidth = self.imageWidth, imageHeight = self.imageHeight},
      geometry = {type = "Polygon", coordinates = {{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}}}}
  end
  for i, p in ipairs(self.pushpins or {}) do
    local c = type(p.point) == "table" and p.point.coordinates
    if type(c) == "table" and type(c[1]) == "number" then
      features[#features + 1] = {type = "Feature", properties = {kind = "pushpin", index = i,
        anchor = p.anchor, topLeftOffset = p.topLeftOffset, bottomRightOffset = p.bottomRightOffset},
        geometry = {type = "Point", coordinates = {c[2], c[1]}}}
    end
  end
  return {type = "FeatureCollection", features = features}
end

local function map_metadata(doc, meta)
  local sets = type(doc) == "table" and doc.resourceSets
  local rs = type(sets) == "table" and type(sets[1]) == "table" and sets[1].resources
  local r = type(rs) == "table" and type(rs[1]) == "table" and rs[1] or {}
  for k, v in pairs(r) do
    if type(v) == "userdata" then r[k] = nil end
  end
  r.imageWidth, r.imageHeight, r.zoom = num(r.imageWidth), num(r.imageHeight), num(r.zoom)
  if type(r.bbox) == "table" then
    for i = 1, #r.bbox do r.bbox[i] = num(r.bbox[i]) end
  end
  point_of(r.mapCenter)
  -- The table names the list pushpinMetadata; the example (what the service sends) pushpins.
  local pins = type(r.pushpins) == "table" and r.pushpins
    or type(r.pushpinMetadata) == "table" and r.pushpinMetadata or {}
  -- JSON nulls (cjson.null, a userdata) are nil for a Lua user: a null pin is left out, a
  -- null member of a pin is absent.
  local kept = {}
  for _, p in ipairs(pins) do
    if type(p) == "table" then
      for k, v in pairs(p) do
        if type(v) == "userdata" then p[k] = nil end
      end
      point_of(p.point)
      xy(p.anchor)
      xy(p.topLeftOffset)
      xy(p.bottomRightOffset)
      kept[#kept + 1] = p
    end
  end
  r.pushpins = kept
  r.meta = meta
  return setmetatable(r, StaticMapMetadata)
end


-- Characters of a UTF-8 string (a label has up to three characters, not bytes).
local function chars(s)
  local _, cont = s:gsub("[\128-\191]", "")
  return #s - cont
end

-- iconStyle and label of a pin or a waypoint -> ";icon;label" (empty when neither), or nil, err.
local function style_text(what, name, t)
  local icon, label = t.iconStyle, t.label
  if icon ~= nil then
    if type(icon) ~= "number" then check.raise(what, "%s.iconStyle must be a number", name) end
    if icon ~= floor(icon) or icon < 0 or icon > L.icon_max then
      return check.bad(what, "%s.iconStyle must be an integer from 0 to %d (the icon style table), "
        .. "got %s", name, L.icon_max, tostring(icon))
    end
  end
  if label ~= nil then
    if type(label) ~= "string" then check.raise(what, "%s.label must be a string", name) end
    if chars(label) > L.label then
      return check.bad(what, "%s.label must have at most %d characters, got %q", name, L.label, label)
    end
    -- The syntax's separators (and the POST body's) cannot be written in a label.
    if label:find("[;&%c]") then
      return check.bad(what, "%s.label must not hold ';', '&' or control characters, got %q",
        name, label)
    end
  end
  local icon_text = icon and fmt("%d", icon) or ""
  if label == nil or label == "" then return icon and ";" .. icon_text or "" end
  return ";" .. icon_text .. ";" .. label
end

-- One pushpin: a point in any form of check.latlon (a Location too), with `iconStyle` and
-- `label` beside it or around it ({point = ..., iconStyle =, label =}) -> "lat,lon;icon;label".
local function pin_text(what, name, p)
  if type(p) ~= "table" then check.raise(what, "%s must be a table (a point with iconStyle, label)", name) end
  local where = p
  if type(p.point) == "table" and getmetatable(p) == nil and check.latlon(p.point) then where = p.point end
  local text, err = check.point(what, name, where)
  if not text then return nil, err end
  local style, serr = style_text(what, name, p)
  if not style then return nil, serr end
  return text .. style
end

local function pushpins(what, name, list)
  if type(list) ~= "table" then check.raise(what, "%s must be a list of pushpins", name) end
  if #list > L.pins_post then
    return check.bad(what, "at most %d %s (by POST; %d in a URL), got %d", L.pins_post, name,
      L.pins_get, #list)
  end
  local out = {}
  for i, p in ipairs(list) do
    local t, err = pin_text(what, name .. "[" .. i .. "]", p)
    if not t then return nil, err end
    out[i] = {"pp", t}
  end
  return out
end

local function map_size(what, name, v)
  if v == nil then return nil end
  local w, h
  if type(v) == "table" then
    w, h = v[1] or v.width, v[2] or v.height
  elseif type(v) == "string" then
    w, h = v:match("^%s*(%d+)%s*,%s*(%d+)%s*$")
    w, h = tonumber(w), tonumber(h)
  end
  if type(w) ~= "number" or type(h) ~= "number" then
    check.raise(what, "%s must be {width, height}", name)
  end
  if w ~= floor(w) or w < L.width[1] or w > L.width[2] then
    return check.bad(what, "%s width must be an integer from %d to %d pixels, got %s", name,
      L.width[1], L.width[2], tostring(w))
  end
  if h ~= floor(h) or h < L.height[1] or h > L.height[2] then
    return check.bad(what, "%s height must be an integer from %d to %d pixels, got %s", name,
      L.height[1], L.height[2], tostring(h))
  end
  return fmt("%d,%d", w, h)
end

local function number_in(lo, hi)
  return function(what, name, v)
    if v == nil then return nil end
    if type(v) ~= "number" then check.raise(what, "%s must be a number", name) end
    if not check.finite(v) or v < lo or v > hi then
      return check.bad(what, "%s must be within [%s, %s], got %s", name, lo, hi, tostring(v))
    end
    return int(v)
  end
end

local CURVES = {l = true, p = true, c = true, cv = true}

-- drawCurve: one string "<l|p|c|cv>,<style>[;coordinates]" or a list of them (sent as given).
local function draw_curve(what, name, v)
  if v == nil then return nil end
  local list = type(v) == "string" and {v} or v
  if type(list) ~= "table" then check.raise(what, "%s must be a string or a list of strings", name) end
  local out = {}
  for i, s in ipairs(list) do
    if type(s) ~= "string" then check.raise(what, "%s[%d] must be a string", name, i) end
    local shape = s:match("^(%a+)")
    if not shape or not CURVES[shape:lower()] then
      return check.bad(what, "%s[%d] must start with a shape type l, p, c or cv, got %q", name, i, s)
    end
    out[i] = {"drawCurve", s}
  end
  return out
end

local MODES = check.set_of{"Driving", "Walking", "Transit"}
local ROUTE_KEYS = check.set_of{"waypoints", "travelMode", "avoid", "optimize", "timeType",
  "dateTime", "maxSolutions", "distanceBeforeFirstTurn"}
local avoid = check.some_of{"highways", "tolls", "minimizeHighways", "minimizeTolls"}
local optimize = check.one_of{"distance", "time", "timeWithTraffic"}
local time_type = check.one_of{"Arrival", "Departure", "LastAvailable"}

-- One waypoint: a point in any form, a place or address string, or a table with `iconStyle`
-- and `label` around a point or a `query` string -> "place;icon;label".
local function waypoint_text(what, name, w)
  local style = ""
  if type(w) == "table" and getmetatable(w) == nil and (w.iconStyle ~= nil or w.label ~= nil
      or w.query ~= nil or w.point ~= nil) then
    local serr
    style, serr = style_text(what, name, w)
    if not style then return nil, serr end
    if w.query ~= nil then w = w.query
    elseif type(w.point) == "table" then w = w.point end
  end
  local p, err = check.waypoint(what, name, w)
  if not p then return nil, err end
  if p.via then return check.bad(what, "%s: a static map's route has no via waypoints", name) end
  if p.address and p.address:find("[;%c]") then
    return check.bad(what, "%s must not hold ';' or control characters, got %q", name, p.address)
  end
  return p.text .. style
end

-- route = {waypoints = {...}, travelMode =, avoid =, ...} -> the waypoint.N and route
-- parameters as {name, value} pairs, with `mode` (the travelMode path segment) on the list.
local function route(what, name, r)
  if r == nil then return nil end
  if type(r) ~= "table" then check.raise(what, "%s must be a table {waypoints = ..., ...}", name) end
  for k in pairs(r) do
    if not ROUTE_KEYS[type(k) == "string" and k:lower() or ""] then
      check.raise(what, "%s: unknown option '%s'", name, tostring(k))
    end
  end
  local wps = r.waypoints
  if type(wps) ~= "table" then check.raise(what, "%s.waypoints must be a list", name) end
  if #wps < 2 or #wps > L.waypoints then
    return check.bad(what, "%s.waypoints must hold 2 to %d waypoints, got %d", name, L.waypoints, #wps)
  end
  local out = {}
  for i, w in ipairs(wps) do
    local t, err = waypoint_text(what, fmt("%s.waypoints[%d]", name, i), w)
    if not t then return nil, err end
    out[i] = {"waypoint." .. i, t}
  end
  local mode, err = check.choice(what, name .. ".travelMode", r.travelMode or "Driving", MODES)
  if not mode then return nil, err end
  out.mode = mode
  local function opt(bname, checker, key)
    local v, e = checker(what, name .. "." .. key, r[key])
    if v == nil and e ~= nil then return nil, e end
    check.add(out, bname, v)
    return true
  end
  local ok, oerr
  for _, o in ipairs{{"avoid", avoid}, {"optimize", optimize}, {"timeType", time_type},
                     {"dateTime", check.text}, {"maxSolutions", check.int(1, 3)},
                     {"distanceBeforeFirstTurn", check.int(0, 1e9)}} do
    ok, oerr = opt(o[1], o[2], o[1])
    if not ok then return nil, oerr end
  end
  if mode == "Transit" and (r.dateTime == nil or r.timeType == nil) then
    return check.bad(what, "%s: Transit routes require dateTime and timeType", name)
  end
  if mode ~= "Transit" and (r.timeType ~= nil or r.maxSolutions ~= nil) then
    return check.bad(what, "%s: timeType and maxSolutions only apply to Transit routes", name)
  end
  if mode ~= "Driving" and (r.avoid ~= nil or r.distanceBeforeFirstTurn ~= nil) then
    return check.bad(what, "%s: avoid and distanceBeforeFirstTurn only apply to Driving routes", name)
  end
  return out
end

local function static_before(call)
  local a, what = call.args, call.what
  local n = 0
  for _, k in ipairs{"centerPoint", "mapArea", "query"} do
    if a[k] ~= nil then n = n + 1 end
  end
  if n > 1 then check.raise(what, "give one of centerPoint, mapArea or query") end
  if n == 0 and not (type(a.pushpins) == "table" and #a.pushpins > 0) and a.route == nil then
    check.raise(what, "centerPoint, mapArea or query is required (or pushpins or a route to fit "
      .. "the map to)")
  end
  if a.query ~= nil and a.route ~= nil then
    check.raise(what, "a route map takes a centerPoint or a mapArea, not a query")
  end
end

local function static_rules(call)
  local v, what = call.values, call.what
  local set = v.imagerySet
  local segs = {set}
  if v.zoomLevel ~= nil then
    local zr = birdseye(set) and L.birdseye_zoom or L.zoom
    if v.zoomLevel < zr[1] or v.zoomLevel > zr[2] then
      return check.bad(what, "zoomLevel must be an integer from %d to %d for %s imagery, got %d",
        zr[1], zr[2], set, v.zoomLevel)
    end
  end
  if v.fieldOfView ~= nil and not streetside(set) then
    return check.bad(what, "fieldOfView only applies to Streetside imagery")
  end
  if v.fieldOfView ~= nil and v.zoomLevel ~= nil then
    return check.bad(what, "give fieldOfView or zoomLevel, not both")
  end
  for _, k in ipairs{"heading", "pitch"} do
    if v[k] ~= nil and not streetside(set) then
      return check.bad(what, "%s only applies to Streetside imagery", k)
    end
  end
  if v.orientation ~= nil and not birdseye(set) then
    return check.bad(what, "orientation only applies to Bird's Eye imagery")
  end
  if v.mapLayer ~= nil and birdseye(set) then
    return check.bad(what, "mapLayer is not supported for Bird's Eye imagery")
  end
  if v.mapSize and streetside(set) and lower(call.client.account) == "basic" then
    local w, h = v.mapSize:match("^(%d+),(%d+)$")
    if tonumber(w) > L.streetside_basic or tonumber(h) > L.streetside_basic then
      return check.bad(what, "mapSize of Streetside maps is at most %dx%d with a basic account",
        L.streetside_basic, L.streetside_basic)
    end
  end
  if v.centerPoint then
    segs[#segs + 1] = v.centerPoint
    -- "When you specify a center point, you must also specify a zoom level" (Streetside
    -- may give a fieldOfView instead, or neither).
    if v.zoomLevel ~= nil then
      segs[#segs + 1] = fmt("%d", v.zoomLevel)
      v.zoomLevel = nil
    elseif not streetside(set) then
      check.raise(what, "a centerPoint needs a zoomLevel")
    end
  elseif v.query then
    segs[#segs + 1] = v.query
  elseif v.zoomLevel ~= nil then
    -- Without a center or a query, Bing fits the map to the area, the pushpins or the route:
    -- no template takes a zoomLevel there.
    return check.bad(what, "zoomLevel needs a centerPoint or a query (a mapArea, pushpins or a "
      .. "route set the zoom themselves)")
  end
  local pins = v.pushpins and #v.pushpins or 0
  if pins > L.pins_get and call.method == "GET" then
    return check.bad(what, "at most %d pushpins in a GET URL, got %d: leave method unset (or "
      .. "\"POST\") to send up to %d in the body", L.pins_get, pins, L.pins_post)
  end
  if v.route then
    segs[#segs + 1] = "Routes"
    segs[#segs + 1] = v.route.mode
    call.billing = "RESTImagery-StaticMapWithRoute"
  end
  call.segments = segs
  v.imagerySet, v.centerPoint, v.query = nil, nil, nil
  if not v.mapMetadata or v.mapMetadata == "0" then call.answer = "bytes" end
  -- Only the pushpins can move to a POST body: the rest of the URL (drawCurve, waypoints)
  -- must fit in the service's 2,083 characters either way.
  local method = call.method
  call.method = "GET"
  local spec = endpoint.spec(call)
  call.method = method
  local kept = {}
  for _, pr in ipairs(spec.params) do
    if pr[1] ~= "pp" then kept[#kept + 1] = pr end
  end
  spec.params = kept
  if endpoint.too_long(call.client, spec) then
    return check.bad(what, "the request URL would be %d characters without its pushpins, more "
      .. "than the %d the service takes: shorten drawCurve or the waypoints",
      endpoint.url_length(call.client, spec), endpoint.URL_LIMIT)
  end
  return true
end

local function static_result(doc, meta, call)
  if call.answer == "bytes" then return image(doc, meta) end
  return map_metadata(doc, meta)
end

_M.static_map = {
  path = "/REST/v1/Imagery/Map", billing = "RESTImagery-StaticMap",
  before = static_before, rules = static_rules, result = static_result,
  params = {
    {"imagerySet", check.one_of(STATIC_SETS), required = true, segment = true},
    {"centerPoint", center, segment = true},
    {"query", check.text, segment = true},
    {"zoomLevel", check.int(0, L.birdseye_zoom[2])},
    {"mapArea", check.bbox},
    {"mapSize", map_size},
    {"pushpins", pushpins, expand = true},
    {"route", route, expand = true},
    {"format", check.one_of{"png", "jpeg", "gif"}},
    {"declutterPins", check.flag},
    {"mapLayer", check.some_of{"Basemap", "Buildings", "OrdnanceSurvey", "TrafficFlow"}},
    {"mapMetadata", check.flag},
    {"dpi", check.one_of{"Large"}},
    {"drawCurve", draw_curve, expand = true},
    {"highlightEntity", check.flag},
    {"heading", number_in(0, 360)},
    {"pitch", number_in(-90, 90)},
    {"fieldOfView", check.int(L.field_of_view[1], L.field_of_view[2])},
    {"orientation", number_in(0, 360)},
    {"culture", check.culture, default = function(client) return client.culture end},
  },
  options = {"method"},
  -- get-a-static-map.md, "Pushpin Limits": past 18 pushpins, POST them all in a text/plain
  -- body (CRLF between them, as the page's example 1); everything else stays in the URL.
  post = {
    when = function(call) return call.values.pushpins ~= nil and #call.values.pushpins > L.pins_get end,
    body = function(call)
      local lines = {}
      for i, pr in ipairs(call.values.pushpins or {}) do lines[i] = "pp=" .. pr[2] end
      return concat(lines, "\r\n")
    end,
    headers = {["Content-Type"] = "text/plain; charset=utf-8"},
    query = function(name) return name ~= "pp" end,
  },
}

return endpoint.family("imagery", _M)
