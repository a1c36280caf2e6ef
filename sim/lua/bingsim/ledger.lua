-- The server-side transaction ledger: what the real service would put on a usage report.
--
-- A handler (or its module's classify function) names the transaction category and count
-- of a request; the server calls ledger.record() once the answer is known. The rules are
-- data, below, so the client's meter (lua/bing/billing.lua) can follow the same ones:
--
--   CATEGORIES  the transaction table of understanding-bing-maps-transactions.md:
--               billable or not, footnote 3/4 (free with a session key for the first
--               SESSION_FREE_REQUESTS requests of that session), `every` (one transaction
--               per N requests, RESTAutosuggest).
--   RECORD      which outcomes are recorded at all (see sim/README.md, "Billing").
--
-- Shape of GET /_sim/ledger:
--   {[key_label] = {[category] = {billable = n, non_billable = n, requests = n}}}
local json = require "bingsim.json"

local _M = {_VERSION = "0.1.0"}

-- Requests per session key that are non-billable ("up to 25 requests per session; the
-- 26th transaction and every transaction thereafter will be billable").
_M.SESSION_FREE_REQUESTS = 25

-- Which answers put a request in the ledger. The reference says "transactions are counted
-- for each ... request sent with a valid Bing Maps Key" and is silent on refusals.
_M.RECORD = {
  ok = true,            -- 2xx, including zero results (estimatedTotal 0)
  client_error = true,  -- 400/404/405...: sent with a valid key, the service handled it
  auth_error = false,   -- 401/403: no valid key, nothing to bill (not a choice)
  throttled = false,    -- 429 and the throttled-empty 200 (X-MS-BM-WS-INFO: 1): our choice
  server_error = false, -- 500, 502 (HTML page), 503: the service failed
  transport = false,    -- reset, truncated, malformed: the answer never arrived intact
}

-- billable: the table's Billable column; session_free: footnote 3 (REST) or 4 (SDS);
-- every: one transaction per N requests. Unknown categories count as billable.
local B, BS, N = {billable = true}, {billable = true, session_free = true}, {billable = false}
_M.CATEGORIES = {
  ["RESTAutosuggest"] = {billable = true, session_free = true, every = 10},
  ["RESTElevations"] = BS,
  ["RESTImagery"] = BS,
  ["RESTImagery-Metadata"] = BS,
  ["RESTImagery-StaticMap"] = BS,
  ["RESTImagery-StaticMapWithRoute"] = BS,
  ["RESTImagery-BasicMetadata"] = N,
  ["RESTLocalSearch"] = BS,
  ["RESTLocationRecog"] = BS,
  ["RESTLocations"] = BS,
  ["RestLocations-Structured"] = BS,
  ["RestLocations-Unstructured"] = BS,
  ["RESTLocations-Reverse"] = BS,
  ["RESTRoutes"] = BS,
  ["RESTTimezone"] = BS,
  ["RESTTraffic"] = BS,
  ["Route-DistanceMatrix"] = B,
  ["Route-DistanceMatrixAsync"] = B,
  ["Route-DistanceMatrixAsyncCallback"] = N,
  ["Route-Isochrone"] = BS,
  ["Route-IsochroneAsync"] = BS,
  ["Route-IsochroneAsyncCallback"] = N,
  ["Routes-OptimizeItinerary"] = B,
  ["Routes-OptimizeItineraryAsync"] = B,
  ["Routes-OptimizeItineraryAsyncCallback"] = N,
  ["Route-SnapToRoad"] = BS,
  ["Route-SnapToRoadAsync"] = BS,
  ["Route-SnapToRoadAsyncCallback"] = N,
  ["Route-Truck"] = B,
  ["Route-TruckAsync"] = B,
  ["Route-TruckAsyncCallback"] = N,
  ["GeospatialEndpoint"] = N,
  ["Dataflow:BatchGeocode"] = B,
  ["Dataflow:Create"] = N,
  ["Dataflow:Get"] = N,
  ["Dataflow:Download"] = N,
  ["RESTSpatialDataService:GetAllMetadata"] = N,
  ["RESTSpatialDataService:GetDataSource"] = N,
  ["RESTSpatialDataService:GetDataSourceMetadata"] = N,
  ["RESTSpatialDataService:ListDataSources"] = N,
  ["RESTSpatialDataService:DownloadDatasource"] = N,
  ["RESTSpatialDataService:DeleteDataSource"] = N,
  ["RESTSpatialDataService:SetDataSourcePublicOrPrivate"] = N,
  ["RESTSpatialDataService:Query"] = BS,
  ["RESTSpatialDataService:Geodata"] = B,
  ["RESTSpatialDataService:QueryPointsOfInterest"] = BS,
}

-- The outcome name of an answer, for RECORD.
-- status: HTTP status sent; fault: the fault applied (nil when none).
function _M.outcome(status, fault)
  if fault == "throttled_empty" or fault == "429" or status == 429 then return "throttled" end
  if fault == "reset" or fault == "truncated" or fault == "malformed" then return "transport" end
  if status == 401 or status == 403 then return "auth_error" end
  if status >= 500 or fault == "html" then return "server_error" end
  if status >= 400 then return "client_error" end
  return "ok"
end

local function dict() return ngx.shared.bingsim_ledger end
local SEP = "\t"

-- Records one request. label/kind: the key's label and kind ("key"|"session");
-- billing = {category =, transactions =}. Returns the log's billing entry:
-- {category, transactions, billable, recorded, session_request}.
function _M.record(label, kind, billing, outcome)
  local category = billing.category
  local entry = {category = category, transactions = billing.transactions or 1,
    recorded = false, outcome = outcome}
  if not label or not category or not _M.RECORD[outcome] then return entry end
  local rule = _M.CATEGORIES[category] or B
  local d = dict()
  local base = "L" .. SEP .. label .. SEP .. category .. SEP
  d:add(base .. "billable", 0)
  d:add(base .. "non_billable", 0)
  local nreq = d:incr(base .. "requests", 1, 0)
  local tx = entry.transactions
  -- The 1st, 11th, 21st... request counts the transaction (lua/bing/billing.lua, header).
  if rule.every then tx = ((nreq - 1) % rule.every == 0) and 1 or 0 end
  local billable = rule.billable and true or false
  if kind == "session" then
    -- Every recorded request of a session uses one of its 25, whatever its category
    -- (lua/bing/billing.lua, header); only footnote-3/4 categories are free within them.
    local n = d:incr("S" .. SEP .. label, 1, 0)
    entry.session_request = n
    if billable and rule.session_free and n <= _M.SESSION_FREE_REQUESTS then billable = false end
  end
  d:incr(base .. (billable and "billable" or "non_billable"), tx, 0)
  entry.transactions, entry.billable, entry.recorded = tx, billable, true
  return entry
end

-- The whole ledger as a Lua table (objects marked, so an empty ledger encodes as {}).
function _M.snapshot()
  local out = json.object()
  for _, k in ipairs(dict():get_keys(0)) do
    local kind, label, category, field = k:match("^(%a)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
    if kind == "L" then
      local per_key = out[label] or json.object()
      out[label] = per_key
      local c = per_key[category] or json.object{billable = 0, non_billable = 0, requests = 0}
      per_key[category] = c
      c[field] = dict():get(k) or 0
    end
  end
  return out
end

function _M.reset() dict():flush_all(); dict():flush_expired() end

-- The rules as data (GET /_sim/rules), so client specs can check they agree.
function _M.rules()
  local cats = json.object()
  for name, r in pairs(_M.CATEGORIES) do
    cats[name] = json.object{billable = r.billable, session_free = r.session_free or false,
      every = r.every}
  end
  local rec = json.object()
  for k, v in pairs(_M.RECORD) do rec[k] = v end
  return json.object{record = rec, categories = cats,
    session_free_requests = _M.SESSION_FREE_REQUESTS}
end

return _M
