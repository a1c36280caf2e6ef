-- Time Zone (find-time-zone.md, convert-local-time-zone.md, list-time-zones.md) on the endpoint
-- layer: what is sent, the TimeZone objects and their methods, the documented parameter names
-- and aliases, refusals before sending, billing against the ledger, the reference's examples.
local sim = require "support.sim"
local reference = require "support.reference"

local function read(name) return reference.read("timezone", name) end

local function refused(fn, pattern) return sim.assert_refused(fn, pattern) end

describe("timezone.find", function()
  local c
  before_each(function() c = sim.client() end)

  it("finds the zone of a point: TimeZone/{point} with dateTime and includeDstRules", function()
    local zones = assert(c.timezone.find{point = {47.6, -122.3}, datetime = "2018-05-15T13:14:15Z",
                                         includeDstRules = true})
    local req = sim.last_request()
    assert.equal("GET", req.method)
    assert.equal("/REST/v1/TimeZone/47.6,-122.3", req.path)
    assert.same({dateTime = "2018-05-15T13:14:15Z", includeDstRules = "true", key = "<redacted>"},
      req.query)
    assert.equal(1, #zones)
    local z = zones[1]
    assert.equal("America/Los_Angeles", z.ianaTimeZoneId)
    assert.equal("Pacific Standard Time", z.windowsTimeZoneId)
    assert.equal("Pacific Standard Time", z.genericName)
    assert.equal("PST", z.abbreviation)
    assert.equal("-8:00", z.utcOffset)
    assert.equal(-8 * 3600, z:utc_offset())
    assert.equal(-7 * 3600, z:utc_offset_with_dst())
    assert.is_true(z:is_dst())
    assert.equal("2018-05-15T06:14:15", z.convertedTime.localTime)
    assert.same({year = 2018, month = 5, day = 15, hour = 6, min = 14, sec = 15}, z:local_time())
    -- 2018-05-15T13:14:15Z
    assert.equal(1526390055, z:epoch())
    if math.type then assert.equal("integer", math.type(z:epoch())) end
    assert.equal("America/Los_Angeles", z:id())
    assert.same({dstStartMonth = "Mar", dstStartDateRule = "Sun>=8", dstStartTime = "2:00",
                 dstAdjust1 = "1:00", dstEndMonth = "Nov", dstEndDateRule = "Sun>=1",
                 dstEndTime = "2:00", dstAdjust2 = "0"}, z.dstRule)
    assert.is_nil(z.placeName)
    assert.equal("RESTTimezone", zones.meta.billing.category)
    assert.is_true(zones.meta.billing.billable)
  end)

  it("takes datetime as Bing's dateTime or dt, as seconds or as a table, sent in UTC", function()
    local t = 1526390055
    for _, args in ipairs{{datetime = t}, {dateTime = "2018-05-15 13:14:15Z"}, {dt = t},
                          {datetime = os.date("!*t", t)}} do
      args.point = {47.6, -122.3}
      assert(c.timezone.find(args))
      assert.equal("2018-05-15T13:14:15Z", sim.last_request().query.dateTime)
    end
    assert(c.timezone.find{point = {47.6, -122.3}, datetime = {year = 2018, month = 1, day = 15}})
    assert.equal("2018-01-15T00:00:00Z", sim.last_request().query.dateTime)
    local ok, err = pcall(c.timezone.find, {point = {0, 0}, datetime = t, dt = t})
    assert.is_false(ok)
    assert.matches("give datetime or dt, not both", err.message)
  end)

  it("finds by query (or q): one TimeZone per place, with its placeName", function()
    local zones = assert(c.timezone.find{query = "Vancouver", datetime = "2018-01-15T13:14:15Z"})
    local req = sim.last_request()
    assert.equal("/REST/v1/TimeZone/", req.path)
    assert.same({query = "Vancouver", dateTime = "2018-01-15T13:14:15Z", key = "<redacted>"}, req.query)
    assert.equal(1, #zones)
    assert.equal("Vancouver, BC", zones[1].placeName)
    assert.equal("America/Vancouver", zones[1].ianaTimeZoneId)
    assert.is_false(zones[1]:is_dst())
    assert.equal(-8 * 3600, zones[1]:utc_offset_with_dst())
    local two = assert(c.timezone.find{q = "Moscow"})
    assert.equal("Moscow", sim.last_request().query.query)
    assert.is_true(#two >= 2)
    local names = {}
    for i, z in ipairs(two) do names[i] = z.placeName end
    assert.equal(#two, #names)
    assert.equal("Europe/Moscow", two[1].ianaTimeZoneId)
  end)

  it("gives an empty list when no place matched and at sea", function()
    local none = assert(c.timezone.find{query = "Qxzzyv Nowhere"})
    assert.equal(0, #none)
    assert.equal(200, none.meta.status)
    local sea = assert(c.timezone.find{point = {-45, -140}})
    assert.equal(0, #sea)
  end)

  it("refuses bad input before sending, and raises on programmer errors", function()
    refused(function() return c.timezone.find{point = {91, 0}} end, "point latitude must be within")
    refused(function() return c.timezone.find{query = "  "} end, "query must not be empty")
    refused(function() return c.timezone.find{point = {0, 0}, datetime = "2018-05-15T13:14:15"} end,
      "datetime must be a UTC time such as '2018%-05%-15T13:14:15Z'")
    refused(function() return c.timezone.find{point = {0, 0}, datetime = "2018-02-30T00:00:00Z"} end,
      "datetime is not a valid date and time")
    refused(function() return c.timezone.find{point = {0, 0}, datetime = 0 / 0} end)
    local ok, err = pcall(c.timezone.find, {})
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.matches("timezone_spec.lua:%d+: timezone.find: give exactly one of point, query$", err.message)
    assert.has_error(function() c.timezone.find{point = {0, 0}, query = "x"} end)
    assert.has_error(function() c.timezone.find{point = {0, 0}, includeDstRules = "yes"} end)
    assert.has_error(function() c.timezone.find{point = {0, 0}, desttz = "UTC"} end)
    assert.has_error(function() c.timezone.find{point = {0, 0}, datetime = {year = 2018}} end)
  end)
end)

describe("timezone.convert", function()
  local c
  before_each(function() c = sim.client() end)

  it("converts a UTC time to a zone: Convert/?dateTime=&desttz=", function()
    local z = assert(c.timezone.convert{datetime = "2018-05-15T13:14:15Z", destination = "Asia/Kolkata"})
    local req = sim.last_request()
    assert.equal("/REST/v1/TimeZone/Convert/", req.path)
    assert.equal("dateTime=2018-05-15T13%3A14%3A15Z&desttz=Asia%2FKolkata",
      req.raw_query:gsub("&key=.*$", ""))
    assert.equal("Asia/Kolkata", z.ianaTimeZoneId)
    assert.equal(5 * 3600 + 1800, z:utc_offset())
    assert.same({year = 2018, month = 5, day = 15, hour = 18, min = 44, sec = 15}, z:local_time())
    assert.equal(1526390055, z:epoch())
    assert.is_false(z:is_dst())
    assert.equal("RESTTimezone", z.meta.billing.category)
    local la = assert(c.timezone.convert{dt = 1526390055, desttz = "america/Los_Angeles",
                                         includeDstRules = true})
    assert.same({dateTime = "2018-05-15T13:14:15Z", desttz = "america/Los_Angeles",
                 includeDstRules = "true", key = "<redacted>"}, sim.last_request().query)
    assert.equal("2018-05-15T06:14:15", la.convertedTime.localTime)
    assert.equal("Sun>=8", la.dstRule.dstStartDateRule)
  end)

  it("refuses what the service would, before sending", function()
    refused(function() return c.timezone.convert{datetime = "yesterday", destination = "UTC"} end,
      "datetime must be a UTC time")
    refused(function() return c.timezone.convert{datetime = 0, destination = ""} end,
      "destination must not be empty")
    assert.has_error(function() c.timezone.convert{destination = "UTC"} end)
    assert.has_error(function() c.timezone.convert{datetime = 0} end)
    assert.has_error(function() c.timezone.convert{datetime = 0, destination = "UTC", desttz = "UTC"} end)
    -- An unknown zone is the service's to judge: its 400 comes back as an error.
    local z, err = c.timezone.convert{datetime = 0, destination = "Mars/Olympus_Mons"}
    assert.is_nil(z)
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.matches("desttz", err.message)
  end)
end)

describe("timezone.list", function()
  local c
  before_each(function() c = sim.client() end)

  it("lists the IANA zones by default, or the Windows ones (timezonestandard, tzstd, standard)", function()
    local iana = assert(c.timezone.list{})
    local req = sim.last_request()
    assert.equal("/REST/v1/TimeZone/List/", req.path)
    assert.same({timezonestandard = "IANA", key = "<redacted>"}, req.query)
    local win = assert(c.timezone.list{tzstd = "windows"})
    assert.same({timezonestandard = "Windows", key = "<redacted>"}, sim.last_request().query)
    assert.is_true(#iana > #win and #win > 10)
    assert.equal(iana.meta.estimated_total, #iana)
    local ids = {}
    for _, z in ipairs(win) do ids[z.windowsTimeZoneId] = z:utc_offset() end
    assert.equal(5 * 3600 + 1800, ids["India Standard Time"])
    assert.equal(-11 * 3600, ids["UTC-11"])
    assert(c.timezone.list{standard = "IANA", includeDstRules = true})
    assert.same({timezonestandard = "IANA", includeDstRules = "true", key = "<redacted>"},
      sim.last_request().query)
  end)

  it("gives one zone by its Windows or IANA ID: TimeZone/?desttz=", function()
    local zs = assert(c.timezone.list{desttz = "Pacific Standard Time"})
    local req = sim.last_request()
    assert.equal("/REST/v1/TimeZone/", req.path)
    assert.same({desttz = "Pacific Standard Time", key = "<redacted>"}, req.query)
    assert.equal(1, #zs)
    -- time-zone-data.md: a Windows ID gives no ianaTimeZoneId.
    assert.is_nil(zs[1].ianaTimeZoneId)
    assert.equal("Pacific Standard Time", zs[1]:id())
    assert(c.timezone.list{destination = "Europe/Berlin", includeDstRules = true})
    assert.equal("Europe/Berlin", sim.last_request().query.desttz)
  end)

  it("refuses before sending", function()
    refused(function() return c.timezone.list{timezonestandard = "posix"} end,
      "timezonestandard 'posix' is not one of IANA, Windows")
    assert.has_error(function() c.timezone.list{tzstd = "IANA", desttz = "UTC"} end)
    assert.has_error(function() c.timezone.list{timezonestandard = "IANA", tzstd = "IANA"} end)
  end)
end)

describe("timezone billing", function()
  it("books one RESTTimezone transaction a call, as the emulator's ledger does", function()
    local c = sim.client()
    local before = ((sim.ledger().SIM_KEY or {}).RESTTimezone or {}).billable or 0
    assert(c.timezone.find{point = {47.6, -122.3}})
    assert(c.timezone.convert{datetime = 0, destination = "UTC"})
    assert(c.timezone.list{})
    local plan = c.timezone.list{dry_run = true}
    assert.equal("RESTTimezone", plan.billing.category)
    local usage = c:usage()
    assert.equal(3, usage.categories.RESTTimezone.billable)
    assert.equal(before + 3, sim.ledger().SIM_KEY.RESTTimezone.billable)
  end)
end)

describe("the Time Zone examples of the reference", function()
  local function client(body, sent)
    return (reference.client{key = "TzKey-0123456789", body = body, sent = sent})
  end

  it("decodes the point example (find-time-zone.md) to the values in it", function()
    local sent = {}
    local zones = assert(client(read("find-time-zone.point.json"), sent).timezone.find{
      point = {61.768335, -158.808765}})
    assert.equal("https://dev.virtualearth.net/REST/v1/TimeZone/61.768335,-158.808765?key=TzKey-0123456789",
      sent[1].url)
    assert.equal(1, #zones)
    local z = zones[1]
    assert.equal("Alaskan Standard Time", z.genericName)
    assert.equal("AKST", z.abbreviation)
    assert.equal("America/Anchorage", z.ianaTimeZoneId)
    assert.equal("Alaskan Standard Time", z.windowsTimeZoneId)
    assert.equal(-9 * 3600, z:utc_offset())
    assert.equal(-8 * 3600, z:utc_offset_with_dst())
    assert.is_true(z:is_dst())
    assert.equal("AKDT", z.convertedTime.timeZoneDisplayAbbr)
    -- 2018-08-06T12:12:41 at -8:00 is 20:12:41Z.
    assert.equal(1533586361, z:epoch())
    assert.equal("b4f9374415454a24afcfe11438997869|CO37D54CC8|7.7.0.0", zones.meta.trace_id)
  end)

  it("decodes the query resource (Vancouver, BC) in an envelope", function()
    local body = '{"statusCode":200,"authenticationResultCode":"ValidCredentials","resourceSets":'
      .. '[{"estimatedTotal":1,"resources":[' .. read("find-time-zone.query-resource.json") .. ']}]}'
    local sent = {}
    local zones = assert(client(body, sent).timezone.find{query = "Vancouver, BC"})
    assert.equal("https://dev.virtualearth.net/REST/v1/TimeZone/?query=Vancouver,%20BC&key=TzKey-0123456789",
      sent[1].url)
    assert.equal(1, #zones)
    assert.equal("Vancouver, BC", zones[1].placeName)
    assert.equal("America/Vancouver", zones[1].ianaTimeZoneId)
    assert.same({year = 2018, month = 8, day = 6, hour = 12, min = 54, sec = 46}, zones[1]:local_time())
    assert.equal(-7 * 3600, zones[1]:utc_offset_with_dst())
  end)

  it("decodes the list examples: the Windows list and Los Angeles by desttz (\"dstEndTime \")", function()
    local sent = {}
    local win = assert(client(read("list-time-zones.windows.json"), sent).timezone.list{
      timezonestandard = "windows"})
    assert.matches("/REST/v1/TimeZone/List/%?timezonestandard=Windows&key=", sent[1].url)
    assert.equal(1, #win)
    assert.equal("UTC-11", win[1].windowsTimeZoneId)
    assert.equal("Pacific/Niue", win[1]:id())
    assert.equal(-11 * 3600, win[1]:utc_offset())
    assert.is_nil(win[1].abbreviation)
    assert.is_nil(win[1]:utc_offset_with_dst())
    assert.is_nil(win[1]:is_dst())
    assert.is_nil(win[1]:epoch())
    assert.equal(128, win.meta.estimated_total)

    local la = assert(client(read("list-time-zones.desttz.json"), sent).timezone.list{
      desttz = "America/Los_Angeles", includeDstRules = true})
    assert.equal("https://dev.virtualearth.net/REST/v1/TimeZone/?desttz=America%2FLos_Angeles"
      .. "&includeDstRules=true&key=TzKey-0123456789", sent[2].url)
    local r = la[1].dstRule
    assert.equal("2:00", r.dstEndTime)
    assert.equal("2:00", r["dstEndTime "])
    assert.equal("0", r.dstAdjust2)
    assert.equal("Sun>=1", r.dstEndDateRule)
    assert.equal(-7 * 3600, la[1]:utc_offset_with_dst())
  end)

  it("never crashes on missing, null or odd fields", function()
    local body = '{"statusCode":200,"resourceSets":[{"resources":[{"timeZone":{"utcOffset":null,'
      .. '"convertedTime":{"localTime":"junk","utcOffsetWithDst":"+05:45"}}},{"timeZoneAtLocation":'
      .. '[{"placeName":null,"timeZone":{"utcOffset":"0:00"}}, 7]}, 3, {"timeZone":[]}]}]}'
    local zones = assert(client(body, {}).timezone.find{query = "x"})
    assert.equal(2, #zones)
    assert.is_nil(zones[1]:utc_offset())
    assert.equal(5 * 3600 + 45 * 60, zones[1]:utc_offset_with_dst())
    assert.is_nil(zones[1]:local_time())
    assert.is_nil(zones[1]:epoch())
    assert.is_nil(zones[1]:is_dst())
    assert.is_nil(zones[1]:id())
    assert.equal(0, zones[2]:utc_offset())
    assert.is_nil(zones[2].placeName)
  end)
end)
