-- Decode cost and peak memory for `make bench` (section 3), one case per process:
--   decode.lua gen route|matrix FILE       writes the answer's bytes (deterministic, Bing's shape)
--   decode.lua run cjson|core|client route|matrix FILE K
-- `run` prints "median_seconds peak_rss_kb heap_kb": the median of K decodes, the growth of
-- the process's peak RSS (VmHWM) over one decode, and the Lua heap allocated by one decode
-- with the collector stopped (an upper bound of the heap it needs at its peak).
--   cjson  - lua-cjson's decode of the bytes, alone
--   core   - core.decode(200, headers, bytes): lua-bing's C decoder (envelope, checks, cjson)
--   client - the whole call: client.routes.calc / routes.matrix through a Lua transport that
--            returns the bytes (decode + the result type's wrapping)

local function route_json()
  local n_points, n_items = 10000, 200
  local coords = {}
  for i = 1, n_points do
    local t = (i - 1) / (n_points - 1)
    coords[i] = string.format("[%.6f,%.6f]", 47.6 + 0.9 * t + 0.01 * math.sin(i / 7),
      -122.3 + 1.3 * t + 0.01 * math.cos(i / 11))
  end
  local items = {}
  local step = math.floor(n_points / n_items)
  for k = 1, n_items do
    local s, e = (k - 1) * step, math.min(k * step, n_points - 1)
    local man = k % 3 == 0 and "TurnLeft" or k % 3 == 1 and "TurnRight" or "KeepStraight"
    local name = "Road " .. k
    items[k] = string.format(
      '{"compassDirection":"north","details":[{"compassDegrees":%d,"endPathIndices":[%d],'
      .. '"maneuverType":"%s","mode":"Driving","names":["%s"],"roadType":"Street",'
      .. '"startPathIndices":[%d]}],"exit":"","iconType":"Auto","instruction":{"formattedText":null,'
      .. '"maneuverType":"%s","text":"Turn onto %s"},"isRealTimeTransit":false,'
      .. '"maneuverPoint":{"type":"Point","coordinates":%s},"realTimeTransitDelay":0,'
      .. '"sideOfStreet":"Unknown","tollZone":"","towardsRoadName":"%s","transitTerminus":"",'
      .. '"travelDistance":%.3f,"travelDuration":%d,"travelMode":"Driving"}',
      (k * 37) % 360, e, man, name, s, man, name, coords[s + 1], name, 0.5 + (k % 7) * 0.1, 30 + k % 50)
  end
  local point = function(i) return '{"type":"Point","coordinates":' .. coords[i] .. '}' end
  local route = '{"__type":"Route:http:\\/\\/schemas.microsoft.com\\/search\\/local\\/ws\\/rest\\/v1",'
    .. '"bbox":[47.59,-122.31,48.51,-120.99],'
    .. '"id":"v70,h-1,i0,a0,cen-US,dAAAAAAAAAAA1,y0,s1,m1,o1,t4,wAAAAAAAAAAA~",'
    .. '"distanceUnit":"Kilometer","durationUnit":"Second","routeLegs":[{"actualEnd":' .. point(n_points)
    .. ',"actualStart":' .. point(1) .. ',"alternateVias":[],"description":"Road 1, Road 200",'
    .. '"endTime":"\\/Date(1700003600000-0800)\\/","itineraryItems":[' .. table.concat(items, ",")
    .. '],"routeRegion":"NAm","routeSubLegs":[{"endWaypoint":{"type":"Point","coordinates":'
    .. coords[n_points] .. ',"description":"B","isVia":false,"locationIdentifier":"","routePathIndex":'
    .. (n_points - 1) .. '},"startWaypoint":{"type":"Point","coordinates":' .. coords[1]
    .. ',"description":"A","isVia":false,"locationIdentifier":"","routePathIndex":0},'
    .. '"travelDistance":180.5,"travelDuration":7200}],"startTime":"\\/Date(1700000000000-0800)\\/",'
    .. '"travelDistance":180.5,"travelDuration":7200,"travelMode":"Driving"}],"routePath":'
    .. '{"generalizations":[],"line":{"type":"LineString","coordinates":[' .. table.concat(coords, ",")
    .. ']}},"trafficCongestion":"None","trafficDataUsed":"None","travelDistance":180.5,'
    .. '"travelDuration":7200,"travelDurationTraffic":7300,"travelMode":"Driving"}'
  return route
end

local N_SIDE = 50 -- 50 origins x 50 destinations = 2,500 cells

local function matrix_points(k)
  local pts = {}
  for i = 1, N_SIDE do
    pts[i] = {47 + (i * 0.013 + k * 0.5) % 1.5, -123 + (i * 0.029 + k * 0.7) % 2.5}
  end
  return pts
end

local function matrix_json()
  local function list(pts)
    local out = {}
    for i, p in ipairs(pts) do out[i] = string.format('{"latitude":%.6f,"longitude":%.6f}', p[1], p[2]) end
    return table.concat(out, ",")
  end
  local cells = {}
  for i = 0, N_SIDE - 1 do
    for j = 0, N_SIDE - 1 do
      cells[#cells + 1] = string.format('{"destinationIndex":%d,"originIndex":%d,"totalWalkDuration":0,'
        .. '"travelDistance":%.3f,"travelDuration":%.2f}', j, i, 1 + ((i * 31 + j * 17) % 997) / 10,
        2 + ((i * 13 + j * 29) % 1193) / 7)
    end
  end
  return '{"__type":"DistanceMatrix:http:\\/\\/schemas.microsoft.com\\/search\\/local\\/ws\\/rest\\/v1",'
    .. '"destinations":[' .. list(matrix_points(2)) .. '],"errorMessage":"Request completed.",'
    .. '"origins":[' .. list(matrix_points(1)) .. '],"results":[' .. table.concat(cells, ",") .. ']}'
end

local function envelope(resource)
  return '{"authenticationResultCode":"ValidCredentials","brandLogoUri":'
    .. '"http:\\/\\/dev.virtualearth.net\\/Branding\\/logo_powered_by.png","copyright":'
    .. '"Copyright \\u00a9 2026 Microsoft and its suppliers. All rights reserved.",'
    .. '"resourceSets":[{"estimatedTotal":1,"resources":[' .. resource .. ']}],"statusCode":200,'
    .. '"statusDescription":"OK","traceId":"0123456789abcdef0123456789abcdef|BN00000000|0.0.0.0"}'
end

local mode, kind = arg[1], arg[2]
if mode == "gen" then
  local f = assert(io.open(arg[3], "wb"))
  f:write(envelope(kind == "route" and route_json() or matrix_json()))
  f:close()
  return
end

local variant, file, k
variant, kind, file, k = arg[2], arg[3], arg[4], tonumber(arg[5])
assert(mode == "run" and file and k, "usage: decode.lua gen KIND FILE | run VARIANT KIND FILE K")

local bing = require "bing"
local core = require "bing.core"
local cjson = require "cjson"

local fh = assert(io.open(file, "rb"))
local bytes = fh:read("a")
fh:close()
local headers = {["content-type"] = "application/json; charset=utf-8"}

local one
if variant == "cjson" then
  one = function() return cjson.decode(bytes) end
elseif variant == "core" then
  one = function() return assert(core.decode(200, headers, bytes, false, "BenchKey")) end
elseif variant == "client" then
  local answer = {status = 200, headers = headers, body = bytes}
  local c = bing.new{key = "BenchKey", transport = function() return answer end}
  if kind == "route" then
    local wps = {{47.6, -122.3}, {48.5, -121.0}}
    one = function()
      local r = assert(c.routes.calc{waypoints = wps, routeAttributes = "routePath"})
      assert(#r[1].routePath.line.coordinates == 10000)
      return r
    end
  else
    local origins, dests = matrix_points(1), matrix_points(2)
    one = function()
      local m = assert(c.routes.matrix{origins = origins, destinations = dests})
      assert(m:get(50, 50))
      return m
    end
  end
else
  error("unknown variant " .. tostring(variant))
end

local function hwm_kb()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) or 0
end

-- Peak first, in a process that has decoded nothing yet.
collectgarbage("collect")
local hwm0 = hwm_kb()
-- The result is held while memory is read, as a caller would hold it.
local hold = {}
hold.result = one()
local peak = hwm_kb() - hwm0
hold.result = nil
collectgarbage("collect")
collectgarbage("stop")
local h0 = collectgarbage("count")
hold.result = one()
local heap = collectgarbage("count") - h0
assert(hold.result)
hold.result = nil
collectgarbage("restart")
collectgarbage("collect")

local times = {}
for i = 1, k do
  local t0 = core.now()
  one()
  times[i] = core.now() - t0
end
table.sort(times)
print(string.format("%.9f %d %d", times[math.floor((k + 1) / 2)], peak, math.floor(heap)))
