-- Geospatial Endpoint Service (articles/geospatial-endpoint-service.md).
--
--   GET /REST/v1/GeospatialEndpoint/{language}/{userRegion}[/{lat},{lon}]   GeospatialEndpoint
--
-- language: an IETF tag (en-us, zh-hans); userRegion: ISO 3166-1 alpha-2 (any case, answered
-- upper-case as in the Cuba example); the point: "lat,lon". Missing or malformed: 400
-- naming language, userRegion or point.
--
-- One GeospatialEndpointResponse resource (the __type of the page's examples; its
-- general-structure sample says "GeospatialEndpoint", the examples win), keys in the
-- examples' order: isDisputedArea, isSupported, services, ur.
--   * ur: the country the point is in (the nearest gazetteer place within 800 km, as the
--     Time Zone API places a point) when it is not in a disputed area; else userRegion.
--   * isDisputedArea: the point lies in one of DISPUTED (a few boxes around real disputed
--     areas, the page's India/China point among them); false without a point.
--   * isSupported false and services null for embargoed regions (EMBARGOED; the page's
--     text says true for Cuba, its JSON example says false: the example wins).
--   * services: the service table of the region (CN: the ditu.live.com set of the page's
--     China example; IN and PK: the on-demand tile set of its India example; elsewhere the
--     set of its France example), each {endpoint, fallbackLanguage, languageSupported,
--     serviceName}. languageSupported is true when the language is one of the region's
--     (LANGUAGES, plus en-us everywhere), and then fallbackLanguage is null; otherwise
--     fallbackLanguage is the region's (FALLBACK: "fr" for France as in the example), or
--     "en-US" ("If the requested language is not supported and a fallback language is not
--     available, United States English (en-us) is used").
local json = require "bingsim.json"
local envelope = require "bingsim.envelope"
local recog = require "bingsim.recog"
local timezone = require "bingsim.timezone"

local _M = {_VERSION = "0.1.0"}

local RESOURCE_TYPE = envelope.type_of("GeospatialEndpointResponse")
local RESOURCE_MT = {__order = {"__type", "isDisputedArea", "isSupported", "services", "ur"}}
local SERVICE_MT = {__order = {"endpoint", "fallbackLanguage", "languageSupported",
  "serviceName"}}

_M.EMBARGOED = {CU = true, IR = true, KP = true, SY = true}

-- {south, west, north, east, claimants}
_M.DISPUTED = {
  {32.0, 77.5, 36.5, 80.5, "IN CN"},   -- Aksai Chin and eastern Ladakh (the page's point)
  {32.5, 73.0, 37.0, 77.5, "IN PK"},   -- Kashmir
  {26.5, 91.5, 29.5, 97.5, "IN CN"},   -- Arunachal Pradesh
  {44.3, 32.4, 46.2, 36.7, "UA RU"},   -- Crimea
  {20.7, -17.1, 27.7, -8.7, "MA EH"},  -- Western Sahara
  {43.5, 145.4, 45.6, 148.9, "JP RU"}, -- southern Kuril Islands
  {32.6, 35.6, 33.35, 35.95, "IL SY"}, -- Golan Heights
}

-- The Region Localities table's culture codes, and a few more, per region.
_M.LANGUAGES = {
  US = {"en-us"}, GB = {"en-gb"}, CA = {"en-ca", "fr-ca"}, AU = {"en-au"}, FR = {"fr"},
  DE = {"de", "de-de"}, ES = {"es", "es-es"}, IT = {"it", "it-it"}, JP = {"ja", "ja-jp"},
  CN = {"zh-hans", "zh-cn"}, IN = {"en-in"}, IL = {"he-il"}, KR = {"ko-kr"}, PK = {"pa-pk"},
  AR = {"es-ar"}, BH = {"ar-bh"}, EG = {"ar-eg"}, JO = {"ar-jo"}, SA = {"ar-sa"},
  KW = {"ar-kw"}, OM = {"ar-om"}, QA = {"ar-qa"}, MA = {"ar-ma"}, AE = {"ar-ae"},
}
_M.FALLBACK = {FR = "fr", DE = "de", ES = "es", IT = "it", JP = "ja", CN = "zh-hans"}

local WORLD = {
  {"MapTiles", "ecn.dynamic.t{0-3}.tiles.virtualearth.net/comp/ch/{quadkey}?mkt={market}"
    .. "&it=G,VE,BX,L,LA&shading=hill&n=z&ur={userregion}"},
  {"TrafficTiles", "ecn.t{0-7}.tiles.virtualearth.net/tiles/dp/content?mkt={market}&p=tf"
    .. "&a={quadkey}&n=z"},
  {"StaticMapsB2B", "dev.virtualearth.net/REST/V1/Imagery/Map"},
  {"MetadataB2B", "dev.virtualearth.net/REST/V1/Imagery/Metadata"},
  {"Geocode", "dev.virtualearth.net/REST/v1/Locations"},
  {"Route", "dev.virtualearth.net/REST/v1/Routes"},
  {"BingLogo", "ecn.dev.virtualearth.net/Branding/logo_powered_by.png"},
  {"CombinedLogo", "ecn.dev.virtualearth.net/Branding/logo_powered_by.png"},
}
local ON_DEMAND = {
  {"RoadWithLabels", "ecn.dynamic.t{0-3}.tiles.virtualearth.net/comp/ch/{quadkey}?mkt=en-us"
    .. "&it=G,L&shading=hil&n=z"},
  {"AerialWithLabels", "ecn.dynamic.t{0-3}.tiles.virtualearth.net/comp/ch/{quadkey}?mkt=en-us"
    .. "&it=A,G,L&n=z"},
  {"RoadWithoutLabels", "ecn.dynamic.t{0-3}.tiles.virtualearth.net/comp/ch/{quadkey}"
    .. "?mkt=en-us&it=G&shading=hill&n=z"},
  {"AerialWithoutLabels", "ecn.dynamic.t{0-3}.tiles.virtualearth.net/comp/ch/{quadkey}"
    .. "?mkt=en-us&it=A,G&n=z"},
  WORLD[1], WORLD[2], WORLD[3], WORLD[4], WORLD[5], WORLD[6],
}
local CHINA = {
  {"RoadWithLabels", "r{0-3}.tiles.ditu.live.com/tiles/r{quadkey}.png?g={generation}"},
  {"MapTiles", "r{0-3}.tiles.ditu.live.com/tiles/r{quadkey}.png?g={generation}"},
  {"TrafficTiles", "traftile.mapabc.com/trafficengine/traffictile?Key={quadkey}"},
  {"StaticMapsB2B", "dev.ditu.live.com/REST/V1/Imagery/Map"},
  {"Geocode", "dev.ditu.live.com/REST/V1/Locations"},
  {"Route", "dev.ditu.live.com/REST/V1/Routes"},
}
_M.SERVICES = {CN = CHINA, IN = ON_DEMAND, PK = ON_DEMAND}

function _M.classify() return {category = "GeospatialEndpoint", transactions = 1} end

local function disputed(lat, lon)
  for _, d in ipairs(_M.DISPUTED) do
    if lat >= d[1] and lat <= d[3] and lon >= d[2] and lon <= d[4] then return d end
  end
  return nil
end

local function language_supported(region, lang)
  if lang == "en-us" then return true end
  for _, l in ipairs(_M.LANGUAGES[region] or {}) do
    if l == lang then return true end
  end
  return false
end

function _M.handle(req)
  local rest = req.rest or {}
  if #rest > 3 then return envelope.error(req, 404) end
  local lang, region = rest[1], rest[2]
  if not lang or lang == "" then return envelope.invalid(req, "language", envelope.MISSING) end
  if not lang:match("^%a%a%a?$") and not lang:match("^%a%a%a?%-[%w%-]+$") then
    return envelope.invalid(req, "language", envelope.NOT_VALID)
  end
  if not region or region == "" then
    return envelope.invalid(req, "userRegion", envelope.MISSING)
  end
  if not region:match("^%a%a$") then return envelope.invalid(req, "userRegion", envelope.NOT_VALID) end
  region = region:upper()
  local is_disputed, ur = false, region
  if rest[3] then
    local p = recog.parse_numbers(rest[3])
    if not p or #p ~= 2 then return envelope.invalid(req, "point", envelope.NOT_VALID) end
    if p[1] < -90 or p[1] > 90 or p[2] < -180 or p[2] > 180 then
      return envelope.invalid(req, "point")
    end
    if disputed(p[1], p[2]) then
      is_disputed = true
    else
      local _, place = timezone.zone_at(p[1], p[2])
      if place then ur = place.iso2 end
    end
  end
  local r = setmetatable({__type = RESOURCE_TYPE, isDisputedArea = is_disputed, ur = ur},
    RESOURCE_MT)
  if _M.EMBARGOED[ur] then
    r.isSupported, r.services = false, json.null
  else
    r.isSupported = true
    local supported = language_supported(ur, lang:lower())
    local fallback = json.null
    if not supported then fallback = _M.FALLBACK[ur] or "en-US" end
    local services = json.array()
    for i, s in ipairs(_M.SERVICES[ur] or WORLD) do
      services[i] = setmetatable({endpoint = s[2], fallbackLanguage = fallback,
        languageSupported = supported, serviceName = s[1]}, SERVICE_MT)
    end
    r.services = services
  end
  return envelope.success(req, {r})
end

return _M
