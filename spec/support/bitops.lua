-- 32-bit operations for specs that must load under Lua 5.4 and LuaJIT: LuaJIT's `bit`
-- library where present, the Lua 5.3+ operators elsewhere (compiled from a string so that
-- LuaJIT never parses them). Every result is an unsigned 32-bit value in [0, 2^32) on both
-- (LuaJIT's `bit` answers signed 32-bit; `% 2^32` reduces it), so a CRC or a mask compares
-- equal whichever Lua runs. Arguments beyond 32 bits are the caller's business: use
-- arithmetic (exact to 2^53) there.
local U32 = 4294967296 -- an integer literal on 5.4, so results stay integers there

local ok, bit = pcall(require, "bit")
if ok then
  local band, bor, bxor, lshift, rshift = bit.band, bit.bor, bit.bxor, bit.lshift, bit.rshift
  return {
    band = function(a, b) return band(a, b) % U32 end,
    bor = function(a, b) return bor(a, b) % U32 end,
    bxor = function(a, b) return bxor(a, b) % U32 end,
    lshift = function(a, n) return lshift(a, n) % U32 end,
    rshift = function(a, n) return rshift(a, n) % U32 end,
  }
end

return assert(load([[
  local M = 0xFFFFFFFF
  return {
    band = function(a, b) return (a & b) & M end,
    bor = function(a, b) return (a | b) & M end,
    bxor = function(a, b) return (a ~ b) & M end,
    lshift = function(a, n) return (a << n) & M end,
    rshift = function(a, n) return (a & M) >> n end,
  }
]], "=support.bitops"))()
