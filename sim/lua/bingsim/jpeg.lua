-- A baseline JPEG (JFIF) encoder for the emulator's images: YCbCr without subsampling,
-- the Annex K quantization tables at quality 90, an 8x8 floating-point DCT, and Huffman
-- tables of our own that are simple and valid (every DC category a 4-bit code, every AC
-- run/size symbol an 8-bit code), so no table has to be copied. Blocks of one colour (most
-- of a map) skip the DCT: only their DC coefficient is not zero.
local _M = {_VERSION = "0.1.0"}

local char, concat = string.char, table.concat
local floor, cos, pi, abs, min, max = math.floor, math.cos, math.pi, math.abs, math.min, math.max

local ZIGZAG = {0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48,
  41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37,
  44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63}

local LUMA = {16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40,
  57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64,
  81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99}
local CHROMA = {17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99,
  99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99}
for i = #CHROMA + 1, 64 do CHROMA[i] = 99 end

local QUALITY = 90

local function scaled(t)
  local s = QUALITY < 50 and floor(5000 / QUALITY) or 200 - 2 * QUALITY
  local out = {}
  for i = 1, 64 do out[i] = min(255, max(1, floor((t[i] * s + 50) / 100))) end
  return out
end
local QY, QC = scaled(LUMA), scaled(CHROMA)

-- cos table: C[x * 8 + u + 1] = c(u) / 2 * cos((2x + 1) u pi / 16)
local C = {}
for x = 0, 7 do
  for u = 0, 7 do
    C[x * 8 + u + 1] = (u == 0 and 1 / math.sqrt(2) or 1) / 2 * cos((2 * x + 1) * u * pi / 16)
  end
end

-- Huffman codes: DC category s -> 4-bit code s; AC symbols in the order below -> 8-bit codes.
local AC_SYMBOLS = {0x00, 0xF0}
for r = 0, 15 do
  for s = 1, 10 do AC_SYMBOLS[#AC_SYMBOLS + 1] = r * 16 + s end
end
local AC_CODE = {}
for i, sym in ipairs(AC_SYMBOLS) do AC_CODE[sym] = i - 1 end

local function u16(v) return char(floor(v / 256) % 256, v % 256) end

local function segment(marker, data) return "\255" .. char(marker) .. u16(#data + 2) .. data end

local function category(v)
  v = abs(v)
  local s = 0
  while v > 0 do s, v = s + 1, floor(v / 2) end
  return s
end

function _M.encode(c)
  local w, h, px = c.width, c.height, c.pixels
  -- YCbCr (JFIF) of every palette entry, level-shifted by 128.
  local Y, CB, CR = {}, {}, {}
  for i, rgb in ipairs(c.palette) do
    local r, g, b = rgb[1], rgb[2], rgb[3]
    Y[i - 1] = 0.299 * r + 0.587 * g + 0.114 * b - 128
    CB[i - 1] = -0.168736 * r - 0.331264 * g + 0.5 * b
    CR[i - 1] = 0.5 * r - 0.418688 * g - 0.081312 * b
  end

  local out, nout = {}, 0
  local acc, nbits = 0, 0
  local function put(code, len)
    acc = acc * 2 ^ len + code
    nbits = nbits + len
    while nbits >= 8 do
      local d = 2 ^ (nbits - 8)
      local byte = floor(acc / d)
      acc = acc - byte * d
      nbits = nbits - 8
      nout = nout + 1
      out[nout] = byte
      if byte == 255 then nout = nout + 1; out[nout] = 0 end
    end
  end
  local function put_value(v, s)
    if s == 0 then return end
    if v < 0 then v = v + 2 ^ s - 1 end
    put(v, s)
  end

  local block, tmp, coef = {}, {}, {}
  local pred = {0, 0, 0}
  local function encode_block(comp, q, uniform)
    local zz = {}
    if uniform then
      -- DCT of a constant block: F(0,0) = 8 * value, everything else 0.
      zz[1] = floor(8 * uniform / q[1] + 0.5)
      for k = 2, 64 do zz[k] = 0 end
    else
      for y = 0, 7 do
        for u = 0, 7 do
          local s = 0
          for x = 0, 7 do s = s + block[y * 8 + x + 1] * C[x * 8 + u + 1] end
          tmp[y * 8 + u + 1] = s
        end
      end
      for u = 0, 7 do
        for v = 0, 7 do
          local s = 0
          for y = 0, 7 do s = s + tmp[y * 8 + u + 1] * C[y * 8 + v + 1] end
          coef[v * 8 + u + 1] = s
        end
      end
      for k = 1, 64 do
        local n = ZIGZAG[k] + 1
        local v = coef[n] / q[n]
        zz[k] = v < 0 and -floor(-v + 0.5) or floor(v + 0.5)
      end
    end
    local diff = zz[1] - pred[comp]
    pred[comp] = zz[1]
    local s = category(diff)
    put(s, 4)
    put_value(diff, s)
    local run = 0
    for k = 2, 64 do
      local v = zz[k]
      if v == 0 then
        run = run + 1
      else
        while run > 15 do put(AC_CODE[0xF0], 8); run = run - 16 end
        local sz = category(v)
        put(AC_CODE[run * 16 + sz], 8)
        put_value(v, sz)
        run = 0
      end
    end
    if run > 0 then put(AC_CODE[0x00], 8) end
  end

  local idx = {}
  for by = 0, h - 1, 8 do
    for bx = 0, w - 1, 8 do
      local first, same = nil, true
      for y = 0, 7 do
        local row = min(by + y, h - 1) * w + 1
        for x = 0, 7 do
          local p = px[row + min(bx + x, w - 1)]
          idx[y * 8 + x + 1] = p
          if first == nil then first = p elseif p ~= first then same = false end
        end
      end
      for comp, tab in ipairs{Y, CB, CR} do
        local q = comp == 1 and QY or QC
        if same then
          encode_block(comp, q, tab[first])
        else
          for k = 1, 64 do block[k] = tab[idx[k]] end
          encode_block(comp, q, nil)
        end
      end
    end
  end
  if nbits > 0 then put(2 ^ (8 - nbits) - 1, 8 - nbits) end -- pad with 1 bits

  local data = {}
  for i = 1, nout, 4096 do
    data[#data + 1] = char((table.unpack or unpack)(out, i, min(nout, i + 4095))) -- luacheck: ignore 143
  end

  local function dqt(id, q)
    local t = {char(id)}
    for k = 1, 64 do t[k + 1] = char(q[ZIGZAG[k] + 1]) end
    return concat(t)
  end
  local function dht(class_id, counts, symbols)
    local t = {char(class_id)}
    for l = 1, 16 do t[#t + 1] = char(counts[l] or 0) end
    for _, s in ipairs(symbols) do t[#t + 1] = char(s) end
    return concat(t)
  end
  local dc_symbols = {}
  for s = 0, 11 do dc_symbols[s + 1] = s end
  local comps = char(3) .. char(1, 0x11, 0) .. char(2, 0x11, 1) .. char(3, 0x11, 1)
  return "\255\216"
    .. segment(0xE0, "JFIF\0" .. char(1, 1, 0) .. u16(1) .. u16(1) .. char(0, 0))
    .. segment(0xDB, dqt(0, QY) .. dqt(1, QC))
    .. segment(0xC0, char(8) .. u16(h) .. u16(w) .. comps)
    .. segment(0xC4, dht(0x00, {[4] = 12}, dc_symbols) .. dht(0x10, {[8] = #AC_SYMBOLS}, AC_SYMBOLS))
    .. segment(0xDA, char(3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0))
    .. concat(data) .. "\255\217"
end

return _M
