-- The Locations family: geocode, reverse-geocode, recognize what is at a point, search nearby.
--   BING_MAPS_KEY=... lua5.4 examples/locations.lua
-- Against the local emulator:
--   eval "$(sim/bingsim start)"; eval "$(make -s env)"
--   BING_MAPS_KEY=$SIM_KEY BING_BASE_URL=$SIM_URL lua5.4 examples/locations.lua
local bing = require "bing"

local client = bing.new{
  key = os.getenv "BING_MAPS_KEY",
  base_url = os.getenv "BING_BASE_URL", -- nil: the real service
}

local function check(v, err, what)
  if v == nil then
    io.stderr:write(what, " failed: ", tostring(err), "\n")
    os.exit(1)
  end
  return v
end

-- Geocode a query.
local locs = check(client.locations.find{q = "Space Needle, Seattle", maxResults = 1}, nil, "find")
local lat, lon = locs[1]:latlon()
print(string.format("%s is at %.5f, %.5f", locs[1].name, lat, lon))

-- Reverse-geocode a point.
local here, err = client.locations.find{point = {47.64054, -122.12934}}
check(here, err, "find{point=}")
print("47.64054, -122.12934 is " .. (here[1] and here[1].address.formattedAddress or "unknown"))

-- What is at 1 Microsoft Way: businesses within 500 m, natural features, the address.
local rec
rec, err = client.locations.recognize{point = {47.640068, -122.12986}, radius = 0.5, top = 5,
                                      includeEntityTypes = {"businessAndPOI", "naturalPOI",
                                                            "address"}}
check(rec, err, "recognize")
local addr = rec:address()
print(string.format("At 47.640068, -122.12986 (%s; private residence: %s):",
  addr and addr.formattedAddress or "no address", tostring(rec:is_private_residence())))
for _, b in ipairs(rec:businesses()) do
  local info = b.businessInfo
  print(string.format("  %-28s %-22s %s", info.entityName, info.type or "?", info.phone or ""))
end
for _, n in ipairs(rec:natural()) do print(string.format("  %-28s %s", n.entityName, n.type)) end

-- Coffee near Pioneer Square, then cinemas and Korean food within 300 m of central Ballard.
local found
found, err = client.locations.local_search{query = "coffee", userLocation = {47.602038, -122.333964},
                                           maxResults = 3}
check(found, err, "local_search{query=}")
print(string.format("coffee near Pioneer Square (%d found, first %d):",
  found.meta.estimated_total or #found, #found))
for _, r in ipairs(found) do
  print(string.format("  %-28s %-36s %s", r.name, r.Address.formattedAddress, r.PhoneNumber or ""))
end
found, err = client.locations.local_search{type = {"MovieTheaters", "KoreanRestaurants"},
                                           userCircularMapView = {47.668979, -122.387562, 300}}
check(found, err, "local_search{type=}")
print("movie theaters and Korean restaurants in Ballard:")
for _, r in ipairs(found) do
  print(string.format("  %-28s %-14s %s", r.name, r.entityType, r.Website or "(no website)"))
end

local u = client:usage()
print(string.format("billable transactions: %d", u.billable))
local cats = {}
for cat in pairs(u.categories) do cats[#cats + 1] = cat end
table.sort(cats)
for _, cat in ipairs(cats) do
  print(string.format("  %-28s %d", cat, u.categories[cat].billable))
end
