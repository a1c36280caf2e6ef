-- 32-bit operations for the image encoders: LuaJIT's `bit` library inside nginx, Lua 5.3+
-- operators elsewhere (unit use). Results are the `bit` library's: LuaJIT's may be
-- negative (signed 32-bit); callers reduce with `% 2^32` where the sign matters.
local ok, bit = pcall(require, "bit")
if ok then return bit end

-- Lua 5.3+: the operators, compiled from a string so that LuaJIT never parses them.
return assert(load([[
  local M = 0xFFFFFFFF
  return {
    band = function(a, b) return (a & b) & M end,
    bor = function(a, b) return (a | b) & M end,
    bxor = function(a, b) return (a ~ b) & M end,
    lshift = function(a, n) return (a << n) & M end,
    rshift = function(a, n) return (a & M) >> n end,
  }
]], "=bingsim.bitops"))()
