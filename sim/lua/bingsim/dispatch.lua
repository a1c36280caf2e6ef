-- The dispatch table: URL path prefix -> handler module (sim/lua/bingsim/<module>.lua).
--
-- Adding an API family to the emulator is one row here plus one module. The longest
-- matching prefix wins (so row order does not matter); prefixes are compared segment by
-- segment, case-insensitively, on the decoded segments. A module is loaded by name on
-- first use and exports:
--
--   M.handle(req) -> resp              (or the function named by the row's `fn`)
--   M.classify(req) -> {category =, transactions =} | nil   (optional; or row.classify)
--       the request's transaction category, known before the handler runs, so that a
--       fault answer can be booked too; the handler may override it with resp.billing.
--
-- Row fields: prefix, module, fn (default "handle"), classify (default "classify"),
-- methods (default {GET = true}), keyless (true: answered without a Bing key, as the
-- blob storage that holds async distance matrix results is).
local _M = {_VERSION = "0.1.0"}

_M.ROUTES = {
  {prefix = "/REST/v1/Locations", module = "locations"},
  {prefix = "/REST/v1/LocationRecog", module = "recog"},
  {prefix = "/REST/v1/LocalSearch", module = "localsearch"},
  {prefix = "/REST/v1/Routes", module = "routes", methods = {GET = true, POST = true}},
  {prefix = "/finalresults", module = "routes", fn = "blob", classify = "blob_classify",
   keyless = true},
  {prefix = "/REST/v1/TimeZone", module = "timezone"},
  {prefix = "/REST/v1/Traffic/Incidents", module = "traffic"},
  {prefix = "/REST/v1/Autosuggest", module = "autosuggest"},
  {prefix = "/REST/v1/GeospatialEndpoint", module = "geospatial"},
  {prefix = "/REST/v1/Imagery", module = "imagery", methods = {GET = true, POST = true}},
  {prefix = "/tiles", module = "imagery", fn = "tile", classify = "tile_classify", keyless = true,
   methods = {GET = true, HEAD = true}},
  {prefix = "/REST/v1/Elevation", module = "elevations", methods = {GET = true, POST = true}},
  -- Spatial Data Services (spatial.virtualearth.net) and Geodata (platform.bing.com)
  {prefix = "/REST/v1/Dataflows", module = "sds", methods = {GET = true, POST = true}},
  {prefix = "/REST/v1/data", module = "sds_query",
   methods = {GET = true, HEAD = true, POST = true, DELETE = true}},
  {prefix = "/geo/spatial/v1/public/Geodata", module = "geodata"},
  -- Routes (issue 4), Elevations, Imagery, ... and the Spatial Data Services go here.
}

local function lower_segments(prefix)
  local out = {}
  for seg in prefix:gmatch("[^/]+") do out[#out + 1] = seg:lower() end
  return out
end

local compiled
local function compile()
  compiled = {}
  for i, row in ipairs(_M.ROUTES) do
    compiled[i] = {row = row, segs = lower_segments(row.prefix)}
  end
end

-- Returns row, rest (decoded segments after the prefix) or nil.
function _M.match(segments)
  if not compiled or #compiled ~= #_M.ROUTES then compile() end
  local best, best_n
  for _, c in ipairs(compiled) do
    local n = #c.segs
    if n <= #segments and (not best_n or n > best_n) then
      local ok = true
      for i = 1, n do
        if segments[i]:lower() ~= c.segs[i] then ok = false; break end
      end
      if ok then best, best_n = c.row, n end
    end
  end
  if not best then return nil end
  local rest = {}
  for i = best_n + 1, #segments do rest[#rest + 1] = segments[i] end
  return best, rest
end

function _M.module(row) return require("bingsim." .. row.module) end

return _M
