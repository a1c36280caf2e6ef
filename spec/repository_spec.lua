-- The repository passes its own tests on its own: nothing under test reads the Bing Maps
-- reference (or anything else) from beside the checkout, and the reference data the specs do
-- use is kept in spec/fixtures/reference/, each file naming the page it comes from.
local reference = require "support.reference"

local ROOT = reference.DIR:gsub("/spec/fixtures/reference$", "")

local read = reference.file

local function files(dir, extra)
  local out = {}
  local p = assert(io.popen(("find '%s' -type f %s 2>/dev/null"):format(dir, extra or "")))
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  table.sort(out)
  return out
end

describe("the repository", function()
  it("reads nothing from beside the checkout, nor a reference path from the environment", function()
    -- Spelled in two parts so that this file does not find itself.
    local needles = {"../" .. "shared", "BING_" .. "REFERENCE"}
    local scanned, found = 0, {}
    for _, dir in ipairs{"spec", "sim", "bench", "examples", ".ci"} do
      for _, path in ipairs(files(ROOT .. "/" .. dir, "-not -path '*/spec/fixtures/*'")) do
        local text = read(path)
        scanned = scanned + 1
        for _, n in ipairs(needles) do
          if text:find(n, 1, true) then found[#found + 1] = path:sub(#ROOT + 2) .. ": " .. n end
        end
      end
    end
    local makefile = read(ROOT .. "/Makefile")
    for _, n in ipairs(needles) do
      if makefile:find(n, 1, true) then found[#found + 1] = "Makefile: " .. n end
    end
    assert.is_true(scanned > 20)
    assert.same({}, found)
  end)

  it("keeps the reference data with its NOTICE and licence", function()
    assert.matches("CC BY 4.0", read(reference.DIR .. "/NOTICE"), 1, true)
    assert.matches("Attribution 4.0 International", read(reference.DIR .. "/LICENSE-docs.txt"), 1, true)
  end)

  it("names the source page in every reference fixture (in the file, or in its folder's README)", function()
    local unnamed, n = {}, 0
    for _, path in ipairs(files(reference.DIR, "-mindepth 2")) do
      local dir, name = path:match("^(.*)/([^/]+)$")
      if not name:match("^README") then
        n = n + 1
        local named = read(path):sub(1, 400):find("source", 1, true) ~= nil
        if not named then
          for _, readme in ipairs(files(dir, "-maxdepth 1 -name 'README*'")) do
            if read(readme):find(name, 1, true) then named = true end
          end
        end
        if not named then unnamed[#unnamed + 1] = path:sub(#ROOT + 2) end
      end
    end
    assert.is_true(n >= 20)
    assert.same({}, unnamed)
  end)

  it("copies no prose into the markdown fixtures: a source line, then fenced blocks or table rows", function()
    local prose = {}
    -- A folder's own README (the project's words, naming the sources) is not a fixture.
    for _, path in ipairs(files(reference.DIR, "-mindepth 2 -name '*.md' -not -name 'README*'")) do
      local text = read(path)
      assert.matches("^[^\n]*source", text)
      local inside, first = false, true
      for line in text:gmatch("([^\n]*)\n?") do
        if first then
          first = false
        elseif line:match("^%s*```") then
          inside = not inside
        elseif not inside and not line:match("^%s*$") and not line:match("^|") then
          prose[#prose + 1] = path:sub(#ROOT + 2) .. ": " .. line:sub(1, 60)
        end
      end
      assert.is_false(inside, path .. ": a fence is not closed")
    end
    assert.same({}, prose)
  end)
end)
