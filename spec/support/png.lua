-- A PNG reader for what the emulator writes, for the specs of the library and of the emulator
-- alike: written here, independently of both encoders (sim/lua/bingsim/png.lua) and of the
-- library's header reader.
--
--   local png = require "support.png"
--   png.decode(s)              {width, height, depth, color, rgb(x, y) -> {r, g, b}}; raises
--                              on a bad signature, CRC, zlib header, LEN/NLEN or Adler-32
--   png.crc32(s), png.adler32(s), png.u32be(s, i)
local bitops = require "support.bitops"

local band, bor, bxor, lshift, rshift = bitops.band, bitops.bor, bitops.bxor, bitops.lshift, bitops.rshift

local _M = {}

function _M.u32be(s, i)
  local hi = bor(lshift(s:byte(i), 24), lshift(s:byte(i + 1), 16))
  return bor(hi, bor(lshift(s:byte(i + 2), 8), s:byte(i + 3)))
end

local CRC = {}
for n = 0, 255 do
  local c = n
  for _ = 1, 8 do c = (band(c, 1) == 1) and bxor(0xEDB88320, rshift(c, 1)) or rshift(c, 1) end
  CRC[n] = c
end
function _M.crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = bxor(CRC[band(bxor(c, s:byte(i)), 0xFF)], rshift(c, 8)) end
  return bxor(c, 0xFFFFFFFF)
end
function _M.adler32(s)
  local a, b = 1, 0
  for i = 1, #s do a = (a + s:byte(i)) % 65521; b = (b + a) % 65521 end
  return bor(lshift(b, 16), a)
end

-- {width, height, rgb(x, y) -> {r, g, b}} of a PNG; checks every CRC, the zlib header and
-- the Adler-32. Handles what the emulator writes: indexed colour, stored deflate, filter 0.
function _M.decode(s)
  assert(s:sub(1, 8) == "\137PNG\r\n\26\n", "PNG signature")
  local i, img, idat, plte = 9, {}, {}, nil
  while i <= #s do
    local len, kind = _M.u32be(s, i), s:sub(i + 4, i + 7)
    local data = s:sub(i + 8, i + 7 + len)
    assert(_M.crc32(kind .. data) == _M.u32be(s, i + 8 + len), "CRC of " .. kind)
    if kind == "IHDR" then
      img.width, img.height = _M.u32be(data, 1), _M.u32be(data, 5)
      img.depth, img.color = data:byte(9), data:byte(10)
    elseif kind == "PLTE" then plte = data
    elseif kind == "IDAT" then idat[#idat + 1] = data end
    i = i + 12 + len
  end
  local z = table.concat(idat)
  assert(z:byte(1) == 0x78 and bor(lshift(z:byte(1), 8), z:byte(2)) % 31 == 0, "zlib header")
  local raw, p = {}, 3
  repeat
    local hdr = z:byte(p)
    assert(band(hdr, 6) == 0, "stored deflate block")
    local len = bor(z:byte(p + 1), lshift(z:byte(p + 2), 8))
    local nlen = bor(z:byte(p + 3), lshift(z:byte(p + 4), 8))
    assert(bxor(len, 0xFFFF) == nlen, "LEN/NLEN")
    raw[#raw + 1] = z:sub(p + 5, p + 4 + len)
    p = p + 5 + len
  until band(hdr, 1) == 1
  raw = table.concat(raw)
  assert(_M.adler32(raw) == _M.u32be(z, p), "Adler-32")
  assert(#raw == img.height * (img.width + 1), "scanline bytes")
  function img.rgb(x, y)
    local off = y * (img.width + 1) + 1
    assert(raw:byte(off) == 0, "filter type 0")
    local k = raw:byte(off + 1 + x)
    return {plte:byte(3 * k + 1), plte:byte(3 * k + 2), plte:byte(3 * k + 3)}
  end
  return img
end

return _M
