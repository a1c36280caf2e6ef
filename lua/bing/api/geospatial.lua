--- Geospatial Endpoint Service (articles/geospatial-endpoint-service.md): which service
-- endpoints to use for a language and a region, and whether a point is in a disputed area.
--
--     local ep = assert(client.geospatial.endpoint{language = "fr-fr", userRegion = "FR"})
--     print(ep.isSupported, ep.ur, ep:service("MapTiles").endpoint)
--     ep = assert(client.geospatial.endpoint{language = "hi-in", userRegion = "IN",
--                                            point = {32.750323, 79.376221}})
--     print(ep.isDisputedArea)
--
-- `endpoint` returns one `GeospatialEndpoint` object with Bing's fields (`isDisputedArea`,
-- `isSupported`, `ur`, `services`: a list of {serviceName, endpoint, languageSupported,
-- fallbackLanguage}) and `meta`; or nil, err. `services` is an empty list where the service
-- sends null (an embargoed region: `isSupported` false). `language` defaults to the client's
-- culture, else "en-us" (the service's own fallback language); `userRegion` is required
-- (the template has no request without it). Not a billable request (the transaction table
-- lists it as non-billable).
-- @module bing.api.geospatial
local check = require "bing.check"
local endpoint = require "bing.endpoint"
local types = require "bing.api.location_types"

local _M = {}

-- An IETF language tag: a 2-3 letter language, then subtags of 1-8 letters or digits
-- ("en-us", "zh-hans", "sr-latn-rs"), or nil, err. It goes in the path.
local function language(what, name, v)
  if check.typed(what, name, v, "string") == nil then return nil end
  local ok = false
  local first = true
  for part in (v .. "-"):gmatch("([^-]*)-") do
    if first then ok = part:match("^%a%a%a?$") ~= nil; first = false
    elseif not part:match("^%w%w?%w?%w?%w?%w?%w?%w?$") then ok = false end
  end
  if not ok then
    return check.bad(what, "%s must be an IETF language tag such as 'en-us' or 'zh-hans', got '%s'",
      name, v)
  end
  return v
end

local GeospatialEndpoint = {}
GeospatialEndpoint.__index = GeospatialEndpoint
_M.GeospatialEndpoint = GeospatialEndpoint

--- The service of that name ("MapTiles", "Geocode", "Route", ... any name the service
-- sends, compared without regard to case), or nil when the region has none.
function GeospatialEndpoint:service(name)
  if type(name) ~= "string" then error("geospatial: service(name) needs a string", 2) end
  local want = name:lower()
  for _, s in ipairs(self.services) do
    if type(s.serviceName) == "string" and s.serviceName:lower() == want then return s end
  end
  return nil
end

--- The names of the services offered, in the answer's order.
function GeospatialEndpoint:service_names()
  local out = {}
  for i, s in ipairs(self.services) do out[i] = s.serviceName end
  return out
end

local function drop_nulls(t)
  for k, v in pairs(t) do
    if type(v) == "userdata" then t[k] = nil end
  end
end

local function result(doc, meta)
  local r = types.resources(doc)[1]
  r = type(r) == "table" and r or {}
  drop_nulls(r)
  local services = {}
  for _, s in ipairs(type(r.services) == "table" and r.services or {}) do
    if type(s) == "table" then
      drop_nulls(s)
      services[#services + 1] = s
    end
  end
  r.services = services
  r.meta = meta
  return setmetatable(r, GeospatialEndpoint)
end

_M.endpoint = {
  -- /REST/V1/GeospatialEndpoint/{language}/{userRegion}[/{lat},{lon}] (the page writes V1;
  -- the REST paths are not case-sensitive, and every other family writes v1).
  path = "/REST/v1/GeospatialEndpoint", billing = "GeospatialEndpoint", result = result,
  params = {
    {"language", language, segment = true,
     default = function(client) return client.culture or "en-us" end},
    {"userRegion", check.iso2, segment = true, required = true},
    {"point", check.point, segment = true},
  },
}

return endpoint.family("geospatial", _M)
