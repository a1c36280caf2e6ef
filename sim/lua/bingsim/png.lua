-- A small PNG encoder for the emulator's images (static maps and map tiles).
--
--   png.encode(canvas) -> bytes      indexed colour (type 3, 8 bits), one PLTE of the
--                                    canvas's palette, IDAT as a zlib stream of stored
--                                    (uncompressed) deflate blocks, IEND
--   png.crc32(s[, crc]), png.adler32(s[, adler])
--
-- The canvas is bingsim.canvas's: {width, height, pixels (flat, 1-based, palette
-- indices 0..255), palette = {{r, g, b}, ...} (index 0 first)}. Stored deflate keeps the
-- encoder short and lets a spec read the pixels back without zlib; a 350x350 map is 123 kB,
-- the largest (2000x1500) 3 MB. Runs under nginx's LuaJIT (the `bit` library) and, for
-- unit use, under Lua 5.3+ (native operators through bingsim.bitops).
local bitops = require "bingsim.bitops"

local _M = {_VERSION = "0.1.0"}

local band, bxor, rshift = bitops.band, bitops.bxor, bitops.rshift
local byte, char, concat = string.byte, string.char, table.concat
local floor = math.floor
local unpack = table.unpack or unpack -- luacheck: ignore 143

local CRC_TABLE = {}
for n = 0, 255 do
  local c = n
  for _ = 1, 8 do
    if band(c, 1) == 1 then c = bxor(0xEDB88320, rshift(c, 1)) else c = rshift(c, 1) end
  end
  CRC_TABLE[n] = c
end

local U32 = 4294967296

-- CRC-32 (ISO 3309, as PNG chunks use): of s, continuing from crc (default a new one).
function _M.crc32(s, crc)
  local c = bxor(crc or 0, 0xFFFFFFFF)
  for i = 1, #s do
    c = bxor(rshift(c, 8), CRC_TABLE[band(bxor(c, byte(s, i)), 0xFF)])
  end
  return bxor(c, 0xFFFFFFFF) % U32
end

-- Adler-32 (RFC 1950) of s, continuing from adler (default 1). The sums are reduced every
-- 3800 bytes, well before they could lose precision.
function _M.adler32(s, adler)
  adler = adler or 1
  local a, b = adler % 65536, floor(adler / 65536)
  local n = #s
  local i = 1
  while i <= n do
    local last = i + 3799
    if last > n then last = n end
    for k = i, last do
      a = a + byte(s, k)
      b = b + a
    end
    a, b = a % 65521, b % 65521
    i = last + 1
  end
  return b * 65536 + a
end

local function u32be(v)
  v = v % U32
  return char(floor(v / 16777216) % 256, floor(v / 65536) % 256, floor(v / 256) % 256, v % 256)
end
_M.u32be = u32be

local function chunk(kind, data)
  return u32be(#data) .. kind .. data .. u32be(_M.crc32(kind .. data))
end

-- zlib stream (RFC 1950) of `raw` in stored deflate blocks of at most 65535 bytes.
function _M.zlib_stored(raw)
  local out = {"\120\1"} -- CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (check bits, level 0)
  local n = #raw
  local i = 1
  repeat
    local len = n - i + 1
    if len > 65535 then len = 65535 end
    local final = (i + len > n) and 1 or 0
    local nlen = 65535 - len
    out[#out + 1] = char(final, len % 256, floor(len / 256), nlen % 256, floor(nlen / 256))
    out[#out + 1] = raw:sub(i, i + len - 1)
    i = i + len
  until i > n
  out[#out + 1] = u32be(_M.adler32(raw))
  return concat(out)
end

-- The scanlines (filter type 0 before each row) of a canvas.
local function scanlines(c)
  local w, px = c.width, c.pixels
  local rows = {}
  for y = 0, c.height - 1 do
    local base = y * w
    rows[y + 1] = char(0, unpack(px, base + 1, base + w))
  end
  return concat(rows)
end

function _M.encode(c)
  local plte = {}
  for i, rgb in ipairs(c.palette) do plte[i] = char(rgb[1], rgb[2], rgb[3]) end
  local ihdr = u32be(c.width) .. u32be(c.height) .. char(8, 3, 0, 0, 0)
  return "\137PNG\r\n\26\n" .. chunk("IHDR", ihdr) .. chunk("PLTE", concat(plte))
    .. chunk("IDAT", _M.zlib_stored(scanlines(c))) .. chunk("IEND", "")
end

return _M
