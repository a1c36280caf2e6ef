-- The Time Zone family: the zone of a point and of a place, a UTC time in other zones, the
-- zones of a standard.
--   BING_MAPS_KEY=... lua5.4 examples/timezone.lua
-- Against the local emulator (one command): make example-timezone
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

local function hours(s) return s and ("%+.2f h"):format(s / 3600) or "?" end

-- The moment everything below is about (a UTC time; os.time() for now).
local when = "2018-05-15T13:14:15Z"

-- The zone of a point, with its DST rule.
local zones = check(client.timezone.find{point = {47.6, -122.3}, datetime = when,
                                         includeDstRules = true})
local z = zones[1]
local t = z:local_time()
print(("47.6, -122.3: %s (%s), standard %s, now %s%s, local %04d-%02d-%02d %02d:%02d"):format(
  z:id(), z.windowsTimeZoneId, hours(z:utc_offset()), hours(z:utc_offset_with_dst()),
  z:is_dst() and " (DST)" or "", t.year, t.month, t.day, t.hour, t.min))
print(("  DST from %s %s %s to %s %s %s"):format(z.dstRule.dstStartMonth, z.dstRule.dstStartDateRule,
  z.dstRule.dstStartTime, z.dstRule.dstEndMonth, z.dstRule.dstEndDateRule, z.dstRule.dstEndTime))

-- The zone of a place: one TimeZone per place the query matched.
for _, p in ipairs(check(client.timezone.find{query = "Vancouver, BC", datetime = when})) do
  print(("%s: %s, %s"):format(p.placeName, p:id(), p.convertedTime.localTime))
end

-- The same instant in other zones (IANA or Windows IDs).
for _, id in ipairs{"Asia/Kolkata", "Europe/London", "Tokyo Standard Time"} do
  local c = check(client.timezone.convert{datetime = when, destination = id})
  print(("%s in %s: %s (%s), epoch %d"):format(when, id, c.convertedTime.localTime,
    c.convertedTime.timeZoneDisplayAbbr or "", c:epoch()))
end

-- The zones of each standard.
local iana = check(client.timezone.list{})
local windows = check(client.timezone.list{timezonestandard = "Windows"})
print(("%d IANA zones, %d Windows zones"):format(#iana, #windows))
