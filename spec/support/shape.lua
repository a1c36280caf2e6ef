-- The shape of a JSON document: field names and JSON types, recursively. Used to check that
-- the emulator answers with the same shape as the reference's example answers.
--
--   local shape = require "support.shape"
--   shape.load("timezone/find-time-zone.point.json")   decoded fixture of spec/fixtures/reference
--   shape.diff(reference, answer)                       nil, or "$.path: what differs"
--
-- Objects must have the same keys. Arrays of the same length are compared element by
-- element; otherwise every element of each must have the shape of some element of the
-- other (a list of 7 suggestions against the reference's 3 of the same kinds). An empty
-- table (cjson decodes [] and {} alike) matches an empty array or object.
local cjson = require "cjson.safe"

local shape = {}

local DIR = "spec/fixtures/reference/"

function shape.load(rel)
  local fh = assert(io.open(DIR .. rel, "rb"))
  local text = fh:read("a")
  fh:close()
  return assert(cjson.decode(text)), text
end

local function kind(v)
  if v == cjson.null then return "null" end
  local t = type(v)
  if t ~= "table" then return t end
  if next(v) == nil then return "empty" end
  if v[1] ~= nil then return "array" end
  return "object"
end
shape.kind = kind

local diff

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = tostring(k) end
  table.sort(out)
  return out
end

diff = function(ref, got, path)
  path = path or "$"
  local kr, kg = kind(ref), kind(got)
  if kr == "empty" or kg == "empty" then
    if kr == kg or (kr == "empty" and (kg == "array" or kg == "object"))
        or (kg == "empty" and (kr == "array" or kr == "object")) then
      return nil
    end
  end
  if kr ~= kg then return ("%s: %s in the reference, %s in the answer"):format(path, kr, kg) end
  if kr == "object" then
    for _, k in ipairs(keys(ref)) do
      if got[k] == nil then return ("%s.%s: missing from the answer"):format(path, k) end
      local d = diff(ref[k], got[k], path .. "." .. k)
      if d then return d end
    end
    for _, k in ipairs(keys(got)) do
      if ref[k] == nil then return ("%s.%s: not in the reference"):format(path, k) end
    end
  elseif kr == "array" then
    if #ref == #got then
      for i = 1, #ref do
        local d = diff(ref[i], got[i], ("%s[%d]"):format(path, i))
        if d then return d end
      end
      return nil
    end
    local function covered(list, other, p, what)
      for i, v in ipairs(list) do
        local first
        for _, w in ipairs(other) do
          local d = (what == "answer") and diff(w, v, p) or diff(v, w, p)
          if not d then first = nil; break end
          first = first or d
        end
        if first then
          return ("%s[%d] of the %s has no counterpart (%s)"):format(p, i, what, first)
        end
      end
    end
    return covered(got, ref, path, "answer") or covered(ref, got, path, "reference")
  end
  return nil
end
shape.diff = diff

return shape
