-- A tour of the Routes APIs: routes (and one through 40 stops), a truck route in the
-- background, a distance matrix larger than one request, an isochrone, snapping a GPS track,
-- and a delivery schedule.
--   BING_MAPS_KEY=... lua5.4 examples/routes.lua
-- Against the local emulator: BING_MAPS_KEY="$SIM_KEY" BING_BASE_URL="$SIM_URL" (see README).
local bing = require "bing"

local client = bing.new{key = os.getenv "BING_MAPS_KEY", base_url = os.getenv "BING_BASE_URL"}

local function check(v, err)
  if v == nil then
    io.stderr:write("error: ", tostring(err), "\n")
    os.exit(1)
  end
  return v
end

local function km(x) return string.format("%.1f km", x) end
local function mins(s) return string.format("%d min", math.floor(s / 60 + 0.5)) end

-- 1. A driving route between two places, with its path and turn-by-turn instructions.
local routes = check(client.routes.calc{
  waypoints = {"Space Needle", {address = "1 Microsoft Way, Redmond, WA 98052"}},
  routeAttributes = "routePath", optimize = "timeWithTraffic",
})
local r = routes[1]
print(("Space Needle -> Microsoft: %s, %s (%s with traffic), %d path points")
  :format(km(r.travelDistance), mins(r.travelDuration), mins(r.travelDurationTraffic), #r:path()))
for i, ins in ipairs(r:instructions()) do
  if i > 5 then print("  ...") break end
  print(("  %-22s %s"):format(ins.maneuverType, ins.text))
end

-- 2. Forty delivery stops: more than the 25 one request takes. The library splits the route
-- into requests that share their boundary stop, and merges one route of 39 legs.
local stops = {}
for i = 1, 40 do stops[i] = {47.45 + i * 0.01, -122.35 + (i % 7) * 0.015} end
local long = check(client.routes.calc{waypoints = stops})
print(("40 stops: %d legs, %s, %d requests, %d transactions")
  :format(#long[1]:legs(), km(long[1].travelDistance), long.meta.requests,
    long.meta.billing.transactions))

-- 3. A truck carrying flammable goods, computed asynchronously; the job id survives a restart.
local job = check(client.routes.calc{
  waypoints = {{40.4259, -80.0076}, {40.4365, -79.9929}}, travelMode = "Truck", async = true,
  vehicle = {vehicleHeight = 4, vehicleWeight = 30000, vehicleAxles = 5, vehicleSemi = true,
             vehicleHazardousMaterials = {"Flammable"}},
})
print("truck job " .. job.id .. " started")
local same_job = client.routes.job(job.id, "truck") -- as a new process would
local truck = check(same_job:wait{timeout = 120, on_progress = function(st)
  if not st.completed then print(("  not ready, next check in %ds"):format(st.callback_in or 1)) end
end})
print(("truck route: %s, %s"):format(km(truck[1].travelDistance), mins(truck[1].travelDuration)))

-- 4. A 60 x 60 distance matrix: more pairs than a Basic key may ask at once (2,500).
local points = {}
for i = 1, 60 do points[i] = {47.45 + (i * 7 % 23) * 0.013, -122.45 + (i * 11 % 29) * 0.011} end
local m = check(client.routes.matrix{origins = points})
local d, t = m:get(1, 2)
print(("60 x 60 matrix: %d requests, %d cells, 1 -> 2 is %s in %s")
  :format(m.meta.requests or 1, #m:cells(), km(d), mins(t * 60)))

-- 5. Where can I drive in 20 minutes?
local iso = check(client.routes.isochrone{waypoint = {47.6062, -122.3321}, maxTime = 20,
                                          timeUnit = "minute"})
print(("20-minute isochrone: %d ring(s); Bellevue inside: %s")
  :format(#iso:rings()[1], tostring(iso:contains(47.6101, -122.2015))))

-- 6. Snap a GPS track to the roads, with speed limits.
local track = {}
for i = 1, 20 do track[i] = {47.5909 + i * 0.001, -122.3367 + math.sin(i / 4) * 0.0008} end
local snapped = check(client.routes.snap{points = track, includeSpeedLimit = true, speedUnit = "MPH"})
local first = snapped.snappedPoints[1]
print(("snapped %d points; first on %s (%s mph)"):format(#snapped:path(true), first.name,
  tostring(first.speedLimit)))

-- 7. Schedule five deliveries for one driver.
local items = {}
for i = 1, 5 do
  items[i] = {name = "stop" .. i, openingTime = "2024-06-03T09:00:00",
              closingTime = "2024-06-03T17:00:00", dwellTime = "00:20:00", priority = i,
              location = {47.66 + i * 0.01, -122.38 + i * 0.005}}
end
local plan = check(client.routes.optimize{
  agents = {{name = "driver", shifts = {{
    startTime = "2024-06-03T08:00:00", startLocation = {47.694, -122.378},
    endTime = "2024-06-03T18:00:00", endLocation = {47.707, -122.355}}}}},
  items = items,
})
print("driver visits: " .. table.concat(plan:visits("driver"), ", "))

print(("billable transactions used: %d"):format(client:usage().billable))
