-- The Elevations family: a height profile along a path, a grid over a box, the geoid's offset,
-- and a long list of points split into requests by the library.
--   BING_MAPS_KEY=... lua5.4 examples/elevations.lua
-- Against the local emulator (one command): make example-elevations
local bing = require "bing"

local base = os.getenv "BING_BASE_URL"
local client = bing.new{
  key = os.getenv "BING_MAPS_KEY",
  base_url = base ~= "" and base or nil, -- nil: the real service
}

local function check(v, err, what)
  if v == nil then
    io.stderr:write(what, " failed: ", tostring(err), "\n")
    os.exit(1)
  end
  return v
end

-- A profile: 12 heights equally spaced along a path (the first and the last on its ends).
local path = {{36.0544, -112.1401}, {36.0800, -112.1300}, {36.1069, -112.1129}}
local prof = check(client.elevations.polyline{points = path, samples = 12})
print(("Profile along %d points, zoom level %d:"):format(#path, prof.zoomLevel))
local lo, hi = math.huge, -math.huge
for _, h in ipairs(prof.elevations) do lo, hi = math.min(lo, h), math.max(hi, h) end
for i, p, h in prof:pairs() do
  local bar = ("#"):rep(1 + math.floor((h - lo) / math.max(hi - lo, 1) * 39))
  print(("  %2d  %9.5f %10.5f  %5d m  %s"):format(i, p[1], p[2], h, bar))
end

-- A grid: 4 rows by 5 columns over a box, printed north at the top.
local box = {36.0, -112.2, 36.2, -111.9}
local grid = check(client.elevations.bounds{bounds = box, rows = 4, cols = 5, heights = "ellipsoid"})
print("Grid over " .. table.concat(box, ", ") .. " (ellipsoid heights, m):")
for row = 4, 1, -1 do
  local line = {}
  for col = 1, 5 do line[col] = ("%6d"):format(grid.elevations[(row - 1) * 5 + col]) end
  print("  " .. table.concat(line))
end

-- The geoid's offset from the ellipsoid at two points.
local sea = check(client.elevations.sea_level{points = {{35.89431, -110.72522}, {10, 10}}})
for _, p, off in sea:pairs() do print(("Sea level offset at %g, %g: %d m"):format(p[1], p[2], off)) end

-- 2,500 points: more than the 1,024 a request takes, so three requests, merged in order.
local many = {}
for i = 1, 2500 do many[i] = {40 + i / 1000, -105 + i / 2000} end
local plan = check(client.elevations.list{points = many, dry_run = true})
print(("2500 points: %d requests planned, %d transactions"):format(plan.requests,
  plan.billing.transactions))
local all = check(client.elevations.list{points = many})
print(("2500 points: %d heights from %d requests, the last %d m"):format(#all.elevations,
  all.meta.requests, all.elevations[2500]))

local usage = client:usage()
print(("Billed: %d transactions (RESTElevations)"):format(usage.categories.RESTElevations.billable))
