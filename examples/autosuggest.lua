-- Type-ahead suggestions, as a search box asks for them while the user types.
--
--   lua5.4 examples/autosuggest.lua [text [lat lon]] [--types Address,Place,Business]
--   make example-autosuggest     (against the local emulator, one command; EXAMPLE_ARGS=...)
--
-- Reads BING_MAPS_KEY and BING_BASE_URL (unset: the real service). Asks once per typed
-- character from the third on ("El " ... "El bur"), as a search box would, then geocodes the
-- top suggestion of the full text. Autosuggest is billed one transaction per ten requests:
-- the last lines show what the client counted.
local bing = require "bing"

local args, types = {}, nil
do
  local i = 1
  while arg[i] do
    if arg[i] == "--types" then
      types = assert(arg[i + 1], "--types needs a value")
      i = i + 2
    else
      args[#args + 1] = arg[i]
      i = i + 1
    end
  end
end
local text = args[1] or "El bur"
-- The reference's user, in Ballard (Seattle), sure of the position to 5 m.
local lat, lon = tonumber(args[2] or "47.668697"), tonumber(args[3] or "-122.376373")

local client = bing.new{key = os.getenv "BING_MAPS_KEY", base_url = os.getenv "BING_BASE_URL"}

local last
for n = math.min(3, #text), #text do
  local prefix = text:sub(1, n)
  local list, err = client.autosuggest.find{query = prefix, userLocation = {lat, lon, 5},
                                            maxResults = 5, includeEntityTypes = types}
  if not list then
    io.stderr:write("autosuggest.find: ", tostring(err), "\n")
    os.exit(1)
  end
  print(string.format("%q: %d suggestion(s)", prefix, #list))
  for i, s in ipairs(list) do print(string.format("  %d. [%s] %s", i, s:type(), s:text())) end
  last = list
end

if last and last[1] then
  local locs = client.locations.find{q = last[1]:text(), maxResults = 1}
  if locs and locs[1] then
    print(string.format("top suggestion geocoded: %.5f, %.5f", locs[1]:latlon()))
  end
end

local u = client:usage().categories.RESTAutosuggest
print(string.format("autosuggest: %d request(s), %d transaction(s) (one per ten requests)",
  u.requests, u.billable))
