-- What calls cost: estimates before sending, a budget, retries and a rate limit, and the
-- usage report with its hints.
--   BING_MAPS_KEY=... lua5.4 examples/billing.lua
-- Against the local emulator: BING_MAPS_KEY="$SIM_KEY" BING_BASE_URL="$SIM_URL" (see README).
local bing = require "bing"

local client = bing.new{
  key = os.getenv "BING_MAPS_KEY",
  base_url = os.getenv "BING_BASE_URL", -- nil: the real service
  budget = {billable = 100, per_category = {["Route-Truck"] = 9}},
  retry = {attempts = 4, base = 0.5, deadline = 60, on_retry = function(info)
    io.stderr:write(string.format("retry %d in %.2f s after: %s\n", info.attempt, info.delay,
      tostring(info.err)))
  end},
  qps = 5,
}

local function line(n)
  local t = {}
  for i = 1, n do t[i] = {47.60 + i * 0.01, -122.33 + i * 0.005} end
  return t
end

-- 1. Prices, without sending anything.
local function show_estimate(what, est)
  print(string.format("%-34s %d request(s), %d transaction(s) (%s), fits the budget: %s",
    what, est.requests, est.billing.transactions, est.billing.category, tostring(est.fits)))
end
show_estimate("geocode one address", assert(bing.estimate(client, "locations", "find",
  {q = "1 Microsoft Way, Redmond, WA"})))
show_estimate("a route through 60 waypoints", assert(client:estimate("routes", "calc",
  {waypoints = line(60)})))
show_estimate("a 30 x 30 distance matrix", assert(client:estimate("routes", "matrix",
  {origins = line(30)})))
show_estimate("a truck route", assert(client:estimate("routes", "calc",
  {waypoints = line(2), travelMode = "Truck"})))

-- 2. Calls, each with what it cost.
for _, q in ipairs{"Space Needle", "Pike Place Market", "1 Microsoft Way, Redmond, WA"} do
  local locs, err = client.locations.find{q = q}
  if locs then
    local b = locs.meta.billing
    print(string.format("%-30s %d result(s): %s, %d transaction(s), billable %s, %d attempt(s)",
      q, #locs, b.category, b.transactions, tostring(b.billable), locs.meta.attempts))
  else
    print(q, "failed:", tostring(err))
  end
end
local routes, rerr = client.routes.calc{waypoints = line(30)}
if routes then
  print(string.format("route through 30 waypoints: %d request(s), %d transaction(s)",
    routes.meta.requests or 1, routes.meta.billing.transactions))
else
  print("route failed:", tostring(rerr))
end

-- 3. The budget refuses before sending.
for i = 1, 4 do
  local r, err = client.routes.calc{waypoints = line(2), travelMode = "Truck"}
  print(string.format("truck route %d: %s", i, r and "ok" or tostring(err)))
end

-- 4. What was spent, and what could be cheaper.
local u = client:usage()
print(string.format("\nbillable %d, non-billable %d, requests %d", u.billable, u.non_billable, u.requests))
local names = {}
for name in pairs(u.categories) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  local c = u.categories[name]
  print(string.format("  %-34s billable %4d  non-billable %4d  requests %4d", name, c.billable,
    c.non_billable, c.requests))
end
for id, hint in pairs(u.hints) do print("hint " .. id .. ": " .. hint.message) end
