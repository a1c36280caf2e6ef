-- A palette raster for the emulator's images: what the PNG, GIF and JPEG encoders take.
--
--   local c = canvas.new(w, h, {r, g, b})    every pixel the background (index 0)
--   local ink = c:color{r, g, b}             palette index (at most 256 colours; past that,
--                                            the nearest one already there)
--   c:set(x, y, ink), c:get(x, y), c:rgb(x, y)
--   c:rect(x0, y0, x1, y1, ink)              filled, inclusive, clipped
--   c:line(x0, y0, x1, y1, ink, width)       square brush of `width` pixels
--   c:disc(cx, cy, r, ink), c:ring(cx, cy, r, ink, width)
--   c:polygon(points, ink)                   filled (even-odd), points = {{x, y}, ...}
--   c:text(x, y, s, ink, scale)              3x5 capitals and digits, `scale` pixels a dot
--   canvas.text_width(s, scale)
--
-- Pixels are a flat 1-based list of palette indices, row by row. Coordinates are 0-based,
-- x to the right, y down; everything outside the canvas is clipped.
local _M = {_VERSION = "0.1.0"}

local floor, abs, max, min, sqrt = math.floor, math.abs, math.max, math.min, math.sqrt

local ok_new, table_new = pcall(require, "table.new")

local Canvas = {}
Canvas.__index = Canvas

function _M.new(w, h, bg)
  local n = w * h
  local px = ok_new and table_new(n, 0) or {}
  for i = 1, n do px[i] = 0 end
  local c = setmetatable({width = w, height = h, pixels = px, palette = {}, index = {}}, Canvas)
  c:color(bg or {255, 255, 255})
  return c
end

function Canvas:color(rgb)
  local r, g, b = floor(rgb[1] + 0.5), floor(rgb[2] + 0.5), floor(rgb[3] + 0.5)
  r, g, b = min(255, max(0, r)), min(255, max(0, g)), min(255, max(0, b))
  local key = r * 65536 + g * 256 + b
  local i = self.index[key]
  if i then return i end
  local pal = self.palette
  if #pal < 256 then
    pal[#pal + 1] = {r, g, b}
    self.index[key] = #pal - 1
    return #pal - 1
  end
  local best, best_d
  for k, p in ipairs(pal) do
    local d = (p[1] - r) ^ 2 + (p[2] - g) ^ 2 + (p[3] - b) ^ 2
    if not best_d or d < best_d then best, best_d = k - 1, d end
  end
  return best
end

function Canvas:set(x, y, ink)
  x, y = floor(x), floor(y)
  if x < 0 or y < 0 or x >= self.width or y >= self.height then return end
  self.pixels[y * self.width + x + 1] = ink
end

function Canvas:get(x, y) return self.pixels[y * self.width + x + 1] end

function Canvas:rgb(x, y) return self.palette[self:get(x, y) + 1] end

function Canvas:rect(x0, y0, x1, y1, ink)
  x0, x1 = max(0, floor(min(x0, x1))), min(self.width - 1, floor(max(x0, x1)))
  y0, y1 = max(0, floor(min(y0, y1))), min(self.height - 1, floor(max(y0, y1)))
  local w, px = self.width, self.pixels
  for y = y0, y1 do
    local base = y * w + 1
    for x = x0, x1 do px[base + x] = ink end
  end
end

function Canvas:line(x0, y0, x1, y1, ink, width)
  width = width or 1
  local lo = -floor((width - 1) / 2)
  local hi = lo + width - 1
  local dx, dy = x1 - x0, y1 - y0
  local steps = max(abs(dx), abs(dy))
  -- Segments far outside the canvas are drawn only where they can touch it.
  if steps > 100000 then steps = 100000 end
  steps = max(1, floor(steps + 0.5))
  for i = 0, steps do
    local x = floor(x0 + dx * i / steps + 0.5)
    local y = floor(y0 + dy * i / steps + 0.5)
    if width == 1 then
      self:set(x, y, ink)
    else
      self:rect(x + lo, y + lo, x + hi, y + hi, ink)
    end
  end
end

function Canvas:disc(cx, cy, r, ink)
  for y = floor(cy - r), floor(cy + r) do
    local half = r * r - (y + 0.5 - cy) ^ 2
    if half >= 0 then
      half = sqrt(half)
      self:rect(floor(cx - half + 0.5), y, floor(cx + half - 0.5), y, ink)
    end
  end
end

function Canvas:ring(cx, cy, r, ink, width)
  width = width or 1
  for y = floor(cy - r), floor(cy + r) do
    for x = floor(cx - r), floor(cx + r) do
      local d = sqrt((x + 0.5 - cx) ^ 2 + (y + 0.5 - cy) ^ 2)
      if d <= r and d > r - width then self:set(x, y, ink) end
    end
  end
end

function Canvas:polygon(points, ink)
  if #points < 3 then return end
  local y_lo, y_hi = math.huge, -math.huge
  for _, p in ipairs(points) do y_lo, y_hi = min(y_lo, p[2]), max(y_hi, p[2]) end
  y_lo, y_hi = max(0, floor(y_lo)), min(self.height - 1, floor(y_hi))
  for y = y_lo, y_hi do
    local yc = y + 0.5
    local xs = {}
    for i = 1, #points do
      local a, b = points[i], points[i % #points + 1]
      if (a[2] <= yc and b[2] > yc) or (b[2] <= yc and a[2] > yc) then
        xs[#xs + 1] = a[1] + (yc - a[2]) / (b[2] - a[2]) * (b[1] - a[1])
      end
    end
    table.sort(xs)
    for i = 1, #xs - 1, 2 do
      self:rect(floor(xs[i] + 0.5), y, floor(xs[i + 1] - 0.5), y, ink)
    end
  end
end

-- 3x5 glyphs, one number per row, bit 4 the left column.
local GLYPHS = {
  ["0"] = {7, 5, 5, 5, 7}, ["1"] = {2, 6, 2, 2, 7}, ["2"] = {7, 1, 7, 4, 7},
  ["3"] = {7, 1, 7, 1, 7}, ["4"] = {5, 5, 7, 1, 1}, ["5"] = {7, 4, 7, 1, 7},
  ["6"] = {7, 4, 7, 5, 7}, ["7"] = {7, 1, 1, 1, 1}, ["8"] = {7, 5, 7, 5, 7},
  ["9"] = {7, 5, 7, 1, 7},
  A = {2, 5, 7, 5, 5}, B = {6, 5, 6, 5, 6}, C = {3, 4, 4, 4, 3}, D = {6, 5, 5, 5, 6},
  E = {7, 4, 6, 4, 7}, F = {7, 4, 6, 4, 4}, G = {3, 4, 5, 5, 3}, H = {5, 5, 7, 5, 5},
  I = {7, 2, 2, 2, 7}, J = {1, 1, 1, 5, 2}, K = {5, 5, 6, 5, 5}, L = {4, 4, 4, 4, 7},
  M = {5, 7, 7, 5, 5}, N = {6, 5, 5, 5, 5}, O = {2, 5, 5, 5, 2}, P = {6, 5, 6, 4, 4},
  Q = {2, 5, 5, 6, 3}, R = {6, 5, 6, 5, 5}, S = {3, 4, 2, 1, 6}, T = {7, 2, 2, 2, 2},
  U = {5, 5, 5, 5, 7}, V = {5, 5, 5, 5, 2}, W = {5, 5, 7, 7, 5}, X = {5, 5, 2, 5, 5},
  Y = {5, 5, 2, 2, 2}, Z = {7, 1, 2, 4, 7},
  ["-"] = {0, 0, 7, 0, 0}, ["."] = {0, 0, 0, 0, 2}, [","] = {0, 0, 0, 2, 4},
  [":"] = {0, 2, 0, 2, 0}, ["/"] = {1, 1, 2, 4, 4}, [" "] = {0, 0, 0, 0, 0},
}
local UNKNOWN = {7, 5, 5, 5, 7}

-- UTF-8 characters (a character without a glyph is drawn as a box).
local CHAR = "[%z\1-\127\194-\244][\128-\191]*"

function _M.text_width(s, scale)
  scale = scale or 1
  local n = 0
  for _ in s:gmatch(CHAR) do n = n + 1 end
  if n == 0 then return 0 end
  return (n * 4 - 1) * scale
end

function Canvas:text(x, y, s, ink, scale)
  scale = scale or 1
  local i = 0
  for ch in s:gmatch(CHAR) do
    i = i + 1
    local g = GLYPHS[ch:upper()] or UNKNOWN
    local gx = x + (i - 1) * 4 * scale
    for row = 1, 5 do
      local bits = g[row]
      for col = 0, 2 do
        if floor(bits / 2 ^ (2 - col)) % 2 == 1 then
          self:rect(gx + col * scale, y + (row - 1) * scale, gx + (col + 1) * scale - 1,
            y + row * scale - 1, ink)
        end
      end
    end
  end
end

return _M
