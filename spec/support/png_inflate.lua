-- A general PNG reader for specs (support.png is the strict one, without zlib, for the
-- emulator's own stored-deflate images): 8-bit greyscale, RGB, palette, grey+alpha and RGBA
-- images, not interlaced, every filter type, the zlib stream inflated by lua-zlib (Debian
-- lua-zlib, in the Makefile's DEBS). Enough for what Chromium's screenshots and the emulator's images are;
-- CRCs are left to zlib's Adler-32 (spec/sim_imagery_spec.lua checks chunk CRCs itself).
--
--   local png = require "support.png_inflate"
--   local img = png.decode(bytes)     img.width, img.height, img.channels
--   local r, g, b, a = img:rgba(x, y) 0-based pixel (a = 255 without alpha)
local zlib = require "zlib"

local M = {}

local floor = math.floor

local function u32be(s, i)
  local a, b, c, d = s:byte(i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local CHANNELS = {[0] = 1, [2] = 3, [3] = 1, [4] = 2, [6] = 4}

local function paeth(a, b, c)
  local p = a + b - c
  local pa, pb, pc = math.abs(p - a), math.abs(p - b), math.abs(p - c)
  if pa <= pb and pa <= pc then return a end
  if pb <= pc then return b end
  return c
end

-- Undoes the filter of one scanline (`line`: its bytes as numbers) against the previous one.
local function unfilter(kind, line, prev, bpp)
  local n = #line
  if kind == 0 then return line end
  if kind == 1 then
    for i = bpp + 1, n do line[i] = (line[i] + line[i - bpp]) % 256 end
  elseif kind == 2 then
    for i = 1, n do line[i] = (line[i] + prev[i]) % 256 end
  elseif kind == 3 then
    for i = 1, n do
      local left = i > bpp and line[i - bpp] or 0
      line[i] = (line[i] + floor((left + prev[i]) / 2)) % 256
    end
  elseif kind == 4 then
    for i = 1, n do
      local left = i > bpp and line[i - bpp] or 0
      local upleft = i > bpp and prev[i - bpp] or 0
      line[i] = (line[i] + paeth(left, prev[i], upleft)) % 256
    end
  else
    error("PNG: unknown filter type " .. kind)
  end
  return line
end

local Image = {}
Image.__index = Image

--- r, g, b, a of the pixel at 0-based (x, y).
function Image:rgba(x, y)
  local row = self.rows[y + 1]
  assert(row and x >= 0 and x < self.width, "PNG: pixel out of the image")
  local c = self.channels
  local i = x * c + 1
  local ct = self.color
  if ct == 6 then return row[i], row[i + 1], row[i + 2], row[i + 3] end
  if ct == 2 then return row[i], row[i + 1], row[i + 2], 255 end
  if ct == 0 then return row[i], row[i], row[i], 255 end
  if ct == 4 then return row[i], row[i], row[i], row[i + 1] end
  local k = row[i]
  local p = self.palette
  return p:byte(3 * k + 1), p:byte(3 * k + 2), p:byte(3 * k + 3), 255
end

--- Decodes a PNG file's bytes; raises on anything it does not read.
function M.decode(s)
  assert(type(s) == "string" and s:sub(1, 8) == "\137PNG\r\n\26\n", "PNG: no PNG signature")
  local img = setmetatable({}, Image)
  local idat, i = {}, 9
  while i + 7 <= #s do
    local len, kind = u32be(s, i), s:sub(i + 4, i + 7)
    local data = s:sub(i + 8, i + 7 + len)
    if kind == "IHDR" then
      img.width, img.height = u32be(data, 1), u32be(data, 5)
      img.depth, img.color = data:byte(9), data:byte(10)
      assert(img.depth == 8, "PNG: only 8-bit samples, got " .. img.depth)
      assert(CHANNELS[img.color], "PNG: colour type " .. img.color)
      assert(data:byte(13) == 0, "PNG: interlaced")
      img.channels = CHANNELS[img.color]
    elseif kind == "PLTE" then
      img.palette = data
    elseif kind == "IDAT" then
      idat[#idat + 1] = data
    elseif kind == "IEND" then
      break
    end
    i = i + 12 + len
  end
  assert(img.width, "PNG: no IHDR")
  local raw = zlib.inflate()(table.concat(idat))
  local stride = img.width * img.channels
  assert(#raw == img.height * (stride + 1),
    ("PNG: %d bytes of scanlines, expected %d"):format(#raw, img.height * (stride + 1)))
  local rows, prev = {}, {}
  for k = 1, stride do prev[k] = 0 end
  local p = 1
  -- Bytes are read a piece at a time: string.byte returns its values on the C stack.
  local PIECE = 4096
  for y = 1, img.height do
    local kind = raw:byte(p)
    local line, n = {}, 0
    local from, to = p + 1, p + stride
    while from <= to do
      local last = math.min(to, from + PIECE - 1)
      local bytes = {raw:byte(from, last)}
      for k = 1, #bytes do line[n + k] = bytes[k] end
      n = n + #bytes
      from = last + 1
    end
    rows[y] = unfilter(kind, line, prev, img.channels)
    prev = rows[y]
    p = p + stride + 1
  end
  img.rows = rows
  return img
end

return M
