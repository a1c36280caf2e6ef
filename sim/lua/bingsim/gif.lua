-- A GIF89a encoder for the emulator's images: one image, the canvas's palette as the
-- global colour table (padded to 256 entries), LZW with 8-bit minimum code size, codes
-- of 9 to 12 bits and a clear code when the table is full (the scheme of every GIF
-- decoder, as in omggif / giflib).
local _M = {_VERSION = "0.1.0"}

local char, concat = string.char, table.concat
local floor = math.floor

local unpack = table.unpack or unpack -- luacheck: ignore 143

local function u16le(v) return char(v % 256, floor(v / 256) % 256) end

-- LZW-compressed data of a list of 8-bit indices, as GIF sub-blocks.
local function lzw(px, n)
  local clear, eoi = 256, 257
  local out, nout = {}, 0
  local acc, nbits = 0, 0 -- bit accumulator (LSB first)
  local size = 9
  local function emit(code)
    acc = acc + code * 2 ^ nbits
    nbits = nbits + size
    while nbits >= 8 do
      nout = nout + 1
      out[nout] = acc % 256
      acc = floor(acc / 256)
      nbits = nbits - 8
    end
  end
  local dict = {}
  local next_code = 258
  emit(clear)
  local prefix = px[1]
  for i = 2, n do
    local k = px[i]
    local key = prefix * 256 + k
    local code = dict[key]
    if code then
      prefix = code
    else
      emit(prefix)
      if next_code == 4096 then
        emit(clear)
        dict, next_code, size = {}, 258, 9
      else
        if next_code >= 2 ^ size then size = size + 1 end
        dict[key] = next_code
        next_code = next_code + 1
      end
      prefix = k
    end
  end
  emit(prefix)
  emit(eoi)
  if nbits > 0 then
    nout = nout + 1
    out[nout] = acc % 256
  end
  -- Sub-blocks of at most 255 bytes, then the block terminator.
  local blocks = {}
  local i = 1
  while i <= nout do
    local last = math.min(nout, i + 254)
    local parts = {char(last - i + 1)}
    for j = i, last, 4096 do
      parts[#parts + 1] = char(unpack(out, j, math.min(last, j + 4095)))
    end
    blocks[#blocks + 1] = concat(parts)
    i = last + 1
  end
  blocks[#blocks + 1] = "\0"
  return concat(blocks)
end

function _M.encode(c)
  local pal = {}
  for i = 1, 256 do
    local rgb = c.palette[i] or {0, 0, 0}
    pal[i] = char(rgb[1], rgb[2], rgb[3])
  end
  return "GIF89a" .. u16le(c.width) .. u16le(c.height)
    .. char(0xF7, 0, 0) -- global colour table of 2^(7+1) entries, 8 bits a colour
    .. concat(pal)
    .. "," .. u16le(0) .. u16le(0) .. u16le(c.width) .. u16le(c.height) .. char(0)
    .. char(8) .. lzw(c.pixels, c.width * c.height)
    .. ";"
end

return _M
