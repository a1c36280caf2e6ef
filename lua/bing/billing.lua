--- Billing: the transaction table as data, and the meter that counts a client's calls.
--
-- The table is `understanding-bing-maps-transactions.md` (REST Services and Spatial Data
-- Services sections). Every request the library makes names one row (`spec.billing`), and
-- nothing else in the library knows about money: a later family gets billing, budgets, dry
-- runs and usage hints by naming rows, not by writing code.
--
-- Row fields:
--   billable      the table's "Billable" column for a Bing Maps key.
--   session_free  footnote 3 (REST) / 4 (SDS): not billable with a session key from a map
--                 control, for the first 25 requests of that session (the 26th and later are).
--   per           how a request is counted: "request" (1 per request, the default), "cells4"
--                 (1 per 4 matrix cells, rounded up), "fixed" (`count` per request: a truck
--                 route counts 3), "product" (itinerary agents x items), "every" (1 per
--                 `every` requests: autosuggest counts 1 per 10), "entity" (1 per entity:
--                 batch geocoding).
--   job           the request creates a job on the server: a repeat after an answer that was
--                 lost could create (and bill) a second job, so it is retried only when the
--                 service refused it (bing.retry).
--   superseded    the table marks the row as superseded by more specific ones; the library
--                 names it only where another page says it is counted (geocoding an address
--                 inside a Geodata or Query by Area request counts one RESTLocations).
--
-- Counting decisions, where the table leaves room (the emulator's ledger makes the same ones):
--
-- * Billed or not. Getting-started says "transactions are counted for each ... request sent
--   with a valid Bing Maps Key", and the table counts requests "made to get" data. We count:
--   every 2xx answer that carries the service's answer, and every 4xx answer in the service's
--   JSON envelope other than 401/403/429 (a 400 or 404 was sent with a valid key and handled).
--   We do not count a throttled answer: a 429 ("the account is being rate limited") or the
--   throttled-empty 200 (X-MS-BM-WS-INFO: 1, "no results for queries that you would normally
--   receive a result") is the service refusing the work, and a user would not expect to pay
--   for a refusal (the reference is silent; this is our decision, and the emulator's ledger
--   switch RECORD.throttled says the same). Nor 401/403 (no valid key to bill), 5xx and
--   gateway pages (the service failed), or answers that never arrived intact (connection
--   reset, cut-off body, a 2xx body that does not decode): the client cannot tell whether the
--   service or the network broke them. A transfer that timed out waiting for the answer IS
--   counted: the service had the request and bills the work it finishes even when nobody
--   waits for the answer, and a budget must not count less than the service (a connection
--   or name lookup that timed out never reached it, and is not counted). See `billed` below.
-- * Session keys. Every request the service counts under a session key uses one of the 25 of
--   the session, whatever its category: the reference counts "requests per session" ("non-
--   billable up to 25 requests per session. The 26th transaction and every transaction
--   thereafter will be billable"), not requests of some categories. The rows with footnote 3
--   or 4 are non-billable while the session has used fewer than 25; the other rows are billed
--   as with a key. The count belongs to the session key, so every client of the process
--   using that key shares it (bing.client keeps it per key).
-- * "Any time ten (10) Autosuggest URL requests are made, one (1) transaction is counted":
--   the 1st, 11th, 21st... request of a key counts the transaction (n requests count
--   ceil(n/10)), so a meter never shows less than the service can bill, and a budget refuses
--   the request that opens a new ten. The count is per key and category, shared like the
--   session count.
-- * Matrix cells (`units` of a "cells4" row): origins x destinations, less the pairs with the
--   same index and the same coordinate (calculate-a-distance-matrix.md); a split matrix sums
--   its parts' cells per request, each rounded up (the service bills each request).
-- * Footnote 2 ("All Spatial Data Services requests over one (1) million per year are billable
--   even when a session ID is used"): the account counts its SDS requests (categories
--   Dataflow:* and RESTSpatialDataService:*); from the 1,000,001st on, footnote 4 no longer
--   makes them free. A process sees only its own requests: the client option
--   `sds_requests_this_year` seeds the count with the year's total so far (the Dev Center's
--   usage report). The emulator keeps no year, and agrees below a million.
-- @module bing.billing
local errors = require "bing.errors"
local store_mod = require "bing.store"

local _M = {}

-- Session keys are non-billable for this many requests of the session (the seed rule).
_M.SESSION_FREE_REQUESTS = 25

-- Single geocodes from which usage() points to the batch geocode dataflow.
_M.BATCH_HINT_REQUESTS = 50

local ROWS = {
  -- REST Services: Locations
  ["RestLocations-Unstructured"] = {billable = true, session_free = true},
  ["RestLocations-Structured"] = {billable = true, session_free = true},
  ["RESTLocations-Reverse"] = {billable = true, session_free = true},
  ["RESTLocations"] = {billable = true, session_free = true, superseded = true},
  ["RESTLocationRecog"] = {billable = true, session_free = true},
  ["RESTLocalSearch"] = {billable = true, session_free = true},
  -- REST Services: Routes
  ["RESTRoutes"] = {billable = true, session_free = true},
  ["Route-DistanceMatrix"] = {billable = true, per = "cells4"},
  ["Route-DistanceMatrixAsync"] = {billable = true, per = "cells4", job = true},
  ["Route-DistanceMatrixAsyncCallback"] = {billable = false},
  ["Route-Isochrone"] = {billable = true, session_free = true},
  ["Route-IsochroneAsync"] = {billable = true, session_free = true, job = true},
  ["Route-IsochroneAsyncCallback"] = {billable = false},
  ["Routes-OptimizeItinerary"] = {billable = true, per = "product"},
  ["Routes-OptimizeItineraryAsync"] = {billable = true, per = "product", job = true},
  ["Routes-OptimizeItineraryAsyncCallback"] = {billable = false},
  ["Route-SnapToRoad"] = {billable = true, session_free = true},
  ["Route-SnapToRoadAsync"] = {billable = true, session_free = true, job = true},
  ["Route-SnapToRoadAsyncCallback"] = {billable = false},
  ["Route-Truck"] = {billable = true, per = "fixed", count = 3},
  ["Route-TruckAsync"] = {billable = true, per = "fixed", count = 3, job = true},
  ["Route-TruckAsyncCallback"] = {billable = false},
  -- REST Services: the other families
  ["RESTAutosuggest"] = {billable = true, session_free = true, per = "every", every = 10},
  ["RESTElevations"] = {billable = true, session_free = true},
  ["RESTImagery"] = {billable = true, session_free = true, superseded = true},
  ["RESTImagery-Metadata"] = {billable = true, session_free = true},
  ["RESTImagery-BasicMetadata"] = {billable = false},
  ["RESTImagery-StaticMap"] = {billable = true, session_free = true},
  ["RESTImagery-StaticMapWithRoute"] = {billable = true, session_free = true},
  ["RESTTimezone"] = {billable = true, session_free = true},
  ["RESTTraffic"] = {billable = true, session_free = true},
  ["GeospatialEndpoint"] = {billable = false},
  -- Spatial Data Services
  ["Dataflow:BatchGeocode"] = {billable = true, per = "entity", job = true},
  ["Dataflow:Create"] = {billable = false, job = true},
  ["Dataflow:Get"] = {billable = false},
  ["Dataflow:Download"] = {billable = false},
  ["RESTSpatialDataService:GetAllMetadata"] = {billable = false},
  ["RESTSpatialDataService:GetDataSource"] = {billable = false},
  ["RESTSpatialDataService:GetDataSourceMetadata"] = {billable = false},
  ["RESTSpatialDataService:ListDataSources"] = {billable = false},
  ["RESTSpatialDataService:DownloadDatasource"] = {billable = false},
  ["RESTSpatialDataService:DeleteDataSource"] = {billable = false},
  ["RESTSpatialDataService:SetDataSourcePublicOrPrivate"] = {billable = false},
  ["RESTSpatialDataService:Query"] = {billable = true, session_free = true},
  ["RESTSpatialDataService:QueryPointsOfInterest"] = {billable = true, session_free = true},
  ["RESTSpatialDataService:Geodata"] = {billable = true},
}
_M.ROWS = ROWS

-- Every request the library makes (or will make, as families land), and the row it names.
-- doc/billing.md shows this list; a spec checks that each category has a row. `billing` of a
-- request is written {category, also} when one request counts in two categories.
_M.REQUESTS = {
  {"locations.find{q=}", "RestLocations-Unstructured"},
  {"locations.find{address=}", "RestLocations-Structured"},
  {"locations.find{point=}", "RESTLocations-Reverse"},
  {"locations.recognize", "RESTLocationRecog"},
  {"locations.local_search", "RESTLocalSearch"},
  {"routes.calc (driving, walking, transit; each part of a split)", "RESTRoutes"},
  {"routes.major_roads", "RESTRoutes"},
  {"routes.calc{travelMode='truck'}", "Route-Truck"},
  {"routes.calc{travelMode='truck', async=true}", "Route-TruckAsync"},
  {"routes.matrix (each part of a split)", "Route-DistanceMatrix"},
  {"routes.matrix{async=true}", "Route-DistanceMatrixAsync"},
  {"routes.isochrone", "Route-Isochrone"},
  {"routes.isochrone{async=true}", "Route-IsochroneAsync"},
  {"routes.snap", "Route-SnapToRoad"},
  {"routes.snap{async=true}", "Route-SnapToRoadAsync"},
  {"routes.optimize", "Routes-OptimizeItinerary"},
  {"routes.optimize{async=true}", "Routes-OptimizeItineraryAsync"},
  {"job:poll(), job:result() of a truck route", "Route-TruckAsyncCallback"},
  {"job:poll(), job:result() of a matrix", "Route-DistanceMatrixAsyncCallback"},
  {"job:poll(), job:result() of an isochrone", "Route-IsochroneAsyncCallback"},
  {"job:poll(), job:result() of a snap to road", "Route-SnapToRoadAsyncCallback"},
  {"job:poll(), job:result() of an itinerary", "Routes-OptimizeItineraryAsyncCallback"},
  {"elevations.*", "RESTElevations"},
  {"imagery.static_map", "RESTImagery-StaticMap"},
  {"imagery.static_map with a route", "RESTImagery-StaticMapWithRoute"},
  {"imagery.metadata", "RESTImagery-Metadata"},
  {"imagery.metadata{basic=true}", "RESTImagery-BasicMetadata"},
  {"imagery.basic_metadata", "RESTImagery-BasicMetadata"},
  {"traffic.incidents", "RESTTraffic"},
  {"timezone.*", "RESTTimezone"},
  {"autosuggest.find", "RESTAutosuggest"},
  {"sds.geocode_job (create a geocode job)", "Dataflow:BatchGeocode", also = "Dataflow:Create"},
  {"sds job:poll() (geocode, load or download job status)", "Dataflow:Get"},
  {"sds job:download() (each of succeeded and failed)", "Dataflow:Download"},
  {"sds.query", "RESTSpatialDataService:Query"},
  {"sds.query by area with an address", "RESTSpatialDataService:Query", also = "RESTLocations"},
  {"sds.query of PointsOfInterest", "RESTSpatialDataService:QueryPointsOfInterest"},
  {"sds.boundary", "RESTSpatialDataService:Geodata"},
  {"sds.boundary with an address", "RESTSpatialDataService:Geodata", also = "RESTLocations"},
  {"sds.load / publish / rollback (create a job)", "Dataflow:Create"},
  {"sds.datasources", "RESTSpatialDataService:ListDataSources"},
  {"sds.info (general information)", "RESTSpatialDataService:GetDataSource"},
  {"sds.metadata of a data source", "RESTSpatialDataService:GetDataSourceMetadata"},
  {"sds.metadata of all", "RESTSpatialDataService:GetAllMetadata"},
  {"sds.download (create a job, get the data)", "RESTSpatialDataService:DownloadDatasource"},
  {"sds.delete", "RESTSpatialDataService:DeleteDataSource"},
  {"sds.set_public", "RESTSpatialDataService:SetDataSourcePublicOrPrivate"},
}

--- Whether the service bills an answer (the decision in the header): `status` is the HTTP
-- status of the answer (nil when none arrived), `err` the error the answer decoded to, if any.
function _M.billed(status, err)
  if not status then
    if not (err and err.kind == "timeout") then return false end
    -- The transports say when nothing left (`sent = false`: name lookup, connect or TLS
    -- handshake); libcurl's wording of those timeouts varies, so the text is only a fallback
    -- for Lua transports that do not say.
    if err.sent == false then return false end
    local msg = type(err.message) == "string" and err.message or ""
    return not (msg:find("Connection timed out", 1, true) or msg:find("Resolving timed out", 1, true))
  end
  if status >= 200 and status < 300 then
    return err == nil -- throttled-empty, or a body that does not decode
  end
  if status >= 400 and status < 500 and status ~= 401 and status ~= 403 and status ~= 429 then
    -- the service's JSON envelope, not a proxy's page (decode.c's one wording for those)
    local msg = err and err.message
    return not (type(msg) == "string" and msg:find("(non-JSON body)", 1, true))
  end
  return false
end

--- Whether a request (its `billing`) creates a job on the server (the row's `job` mark).
function _M.creates_job(billing)
  if type(billing) == "table" then billing = billing.category end
  local row = type(billing) == "string" and ROWS[billing]
  return row and row.job or false
end

-- Footnote 2: SDS requests a year that a session key keeps free (footnote 4) at most.
_M.SDS_FREE_PER_YEAR = 1000000

-- (Remembered per category of the table: every counted request asks, Account:advance.)
local SDS = {}
local function is_sds(category)
  if type(category) ~= "string" then return false end
  local v = SDS[category]
  if v ~= nil then return v end
  v = (category:find("^Dataflow:") or category:find("^RESTSpatialDataService:")) ~= nil
  if ROWS[category] then SDS[category] = v end
  return v
end
_M.is_sds = is_sds

local function row_of(category, level)
  local row = ROWS[category]
  if not row then
    errors.raise("bing.billing: no row for category " .. tostring(category), (level or 1) + 1)
  end
  return row
end

--- The row of a category (raises for an unknown category: a typo in a family is a bug).
function _M.row(category) return row_of(category, 2) end

-- Account: what the service counts per credential, and that decides how the next request
-- is billed: how many requests a session key has used, and the position of an "every" row
-- (autosuggest) in its run of ten. It belongs to the key, not to a client.
local Account = {}
Account.__index = Account

--- A new account state; `session` when the credential is a session key.
function _M.account(session)
  return setmetatable({session = session and true or false, requests = 0, every = {},
                       sds_requests = 0}, Account)
end

--- A copy that can be advanced without touching this one (estimates of split calls).
function Account:fork()
  local every = {}
  for k, v in pairs(self.every) do every[k] = v end
  return setmetatable({session = self.session, requests = self.requests, every = every,
                       sds_requests = self.sds_requests}, Account)
end

--- Moves the account past one request the service counted (`desc` from describe).
function Account:advance(desc)
  if not desc.category then return end
  self.requests = self.requests + 1
  if is_sds(desc.category) then self.sds_requests = (self.sds_requests or 0) + 1 end
  local row = ROWS[desc.category]
  if row.per == "every" then self.every[desc.category] = (self.every[desc.category] or 0) + 1 end
end

local function number_of(v, what)
  if v == nil then return 0 end
  if type(v) ~= "number" or v < 0 or v ~= math.floor(v) then
    errors.raise("bing.billing: " .. what .. " must be an integer >= 0", 4)
  end
  return v
end

local function count(row, units, account, category)
  local per = row.per
  -- (units on a per-request row: one request that counts several, e.g. the two addresses
  -- a Query API nearRoute geocodes count two RESTLocations)
  if per == nil or per == "request" then
    return units ~= nil and number_of(units, category .. " units") or 1
  end
  if per == "fixed" then return row.count end
  if per == "every" then
    local seen = account and account.every[category] or 0
    return seen % row.every == 0 and 1 or 0
  end
  local n = number_of(units, category .. " units")
  if per == "cells4" then return math.ceil(n / 4) end
  return n -- product (agents x items), entity (entities): the family gives the units
end

-- A category name or {category=, units=}; no table is made for a name (every call describes
-- its request at least once).
local function line_of(b, account, session_free_now)
  local category, units = b, nil
  if type(b) ~= "string" then category, units = b.category, b.units end
  local row = row_of(category, 3)
  local billable = row.billable
  if billable and row.session_free and session_free_now
      and not (is_sds(category) and account and (account.sds_requests or 0) >= _M.SDS_FREE_PER_YEAR) then
    billable = false
  end
  return {category = category, billable = billable, transactions = count(row, units, account, category)}
end

--- Describes how the service will bill one request: `{category=, billable=, transactions=}`.
-- `billing` is a category name, `{category=, units=, also=}` (units: matrix cells, agents x
-- items, entities; also: more categories the same request counts in, each a name or
-- `{category=, units=}`), or `false` for a request that is no Bing transaction at all (it
-- gives `{billable = false, transactions = 0}`). `account` is the credential's state (nil:
-- a key with no history); describing does not change it.
function _M.describe(billing, account)
  if billing == false then return {billable = false, transactions = 0} end
  local tb = type(billing)
  if tb == "string" then
    -- The usual request: a category counted 1 per request, under a key (no session's 25).
    local row = ROWS[billing]
    if row and row.per == nil and not (account and account.session) then
      return {category = billing, billable = row.billable, transactions = 1}
    end
  elseif tb ~= "table" then
    errors.raise("bing.billing: a request names its billing category (got "
      .. tostring(billing) .. ")", 2)
  end
  local free = account and account.session and account.requests < _M.SESSION_FREE_REQUESTS
  local desc = line_of(billing, account, free)
  local also = type(billing) == "table" and billing.also
  if also then
    if type(also) ~= "table" then also = {also} end
    if also.category then also = {also} end
    desc.also = {}
    for i, b in ipairs(also) do desc.also[i] = line_of(b, account, free) end
  end
  return desc
end

-- Calls fn(line) for the main line of a description and each of its `also` lines.
local function each_line(desc, fn)
  if desc.category then fn(desc) end
  if desc.also then
    for _, l in ipairs(desc.also) do fn(l) end
  end
end
_M.each_line = each_line

-- One line of a description into a sum (the body of _M.sum's walk; a function of its own, not a
-- closure made per call).
local function sum_line(total, names, l)
  local c = total.categories[l.category]
  if not c then
    c = {billable = 0, non_billable = 0, requests = 0}
    total.categories[l.category] = c
    names[#names + 1] = l.category
  end
  c.requests = c.requests + 1
  total.transactions = total.transactions + l.transactions
  if l.billable then
    total.billable = true
    c.billable = c.billable + l.transactions
    total.billable_transactions = total.billable_transactions + l.transactions
  else
    c.non_billable = c.non_billable + l.transactions
    total.non_billable_transactions = total.non_billable_transactions + l.transactions
  end
end

--- Sums the descriptions of the requests of one call (split and batched calls) into one:
-- `{category=, billable=, transactions=, billable_transactions=, non_billable_transactions=,
-- requests=, categories = {[name] = {billable=, non_billable=, requests=}}}`. `category` is
-- the one category of every part, or the names joined by "+" when they differ; `billable`
-- is true when any transaction is.
function _M.sum(parts)
  local total = {billable = false, transactions = 0, billable_transactions = 0,
                 non_billable_transactions = 0, requests = 0, categories = {}}
  local names = {}
  for _, p in ipairs(parts) do
    if p.category then
      total.requests = total.requests + 1
      sum_line(total, names, p)
    end
    if p.also then
      for _, l in ipairs(p.also) do sum_line(total, names, l) end
    end
  end
  table.sort(names)
  total.category = names[1] and table.concat(names, "+") or nil
  return total
end

local function amount_ok(n)
  return type(n) == "number" and n >= 0 and n < math.huge -- (NaN fails n >= 0)
end

--- Checks the `budget` client option: `{billable = n, per_category = {[name] = n}}`.
function _M.check_budget(b, level)
  level = (level or 1) + 1
  if b == nil then return nil end
  for k in pairs(b) do
    if k ~= "billable" and k ~= "per_category" then
      errors.raise("bing.new: unknown budget option '" .. tostring(k) .. "'", level)
    end
  end
  -- NaN and infinity are refused: no cost is ever greater than either, so each would turn
  -- the budget off in silence (no budget is written by leaving billable out).
  if b.billable ~= nil and not amount_ok(b.billable) then
    errors.raise("bing.new: budget.billable must be a finite number >= 0, got "
      .. tostring(b.billable), level)
  end
  if b.per_category ~= nil then
    if type(b.per_category) ~= "table" then
      errors.raise("bing.new: budget.per_category must be a table {[category] = n}", level)
    end
    for name, n in pairs(b.per_category) do
      if not ROWS[name] then
        errors.raise("bing.new: budget.per_category names no category of the transaction "
          .. "table: '" .. tostring(name) .. "'", level)
      end
      if not amount_ok(n) then
        errors.raise("bing.new: budget.per_category['" .. name .. "'] must be a finite number "
          .. ">= 0, got " .. tostring(n), level)
      end
    end
  end
  return {billable = b.billable, per_category = b.per_category}
end

-- The meter ------------------------------------------------------------------------------
--
-- One meter, over a store (bing.store): its own `store.memory()` for a client alone, or the
-- store shared by several clients (nginx workers, machines). Keys, under the store's own
-- prefix: "billable", "non_billable", "requests" (the totals); "cat:<category>:billable",
-- ":non_billable", ":requests" (per category); "held" and "cat:<category>:held" (billable
-- transactions recorded plus those in flight: what a budget checks); "tally:<name>" (the
-- hints' tallies, zero_hints' fields). Every change is one store:incr, so meters in other
-- workers or on other machines never lose each other's counts.
local Meter = {}
Meter.__index = Meter

-- A plain `store.memory()` (its incr is the table arithmetic of bing.store, and it cannot
-- fail): the meter adds to its table directly, without a method call per counter or the
-- protection a store that may raise part way needs. Any other store goes through its methods.
local MEM_INCR = store_mod.Memory.incr

local function mem_data(s)
  return s.incr == MEM_INCR and s.data or nil
end

-- The store keys of a category, made once (a per-call concatenation otherwise).
local KEYS = {}
local function keys_of(cat)
  local k = KEYS[cat]
  if k then return k end
  local prefix = "cat:" .. cat .. ":"
  k = {requests = prefix .. "requests", billable = prefix .. "billable",
       non_billable = prefix .. "non_billable", held = prefix .. "held"}
  if ROWS[cat] then KEYS[cat] = k end -- only the table's categories are kept: the set is bounded
  return k
end

local function cat_key(cat, field)
  return keys_of(cat)[field]
end

-- store:incr through the table of a memory store (`d`, from mem_data) or the store's method.
local function add(s, d, key, n)
  if d then
    local v = (d[key] or 0) + n
    d[key] = v
    return v
  end
  return s:incr(key, n)
end

local function zero_hints()
  return {key_requests = 0, f3_billable = 0, f3_first = 0, geocodes = 0, geocode_tx = 0,
          past_session = 0}
end

--- A meter: per-category totals, an optional budget (checked with check_budget), and the
-- tallies behind the usage hints. `mode` is "key" or "session". `store` (bing.store) holds
-- them, with the reservations in flight; without one the meter has a store of its own.
function _M.meter(budget, mode, store)
  return setmetatable({budget = budget, mode = mode or "key", store = store or store_mod.memory()},
                      Meter)
end

-- Adds the billable transactions of one description (its main line and `also` lines) to
-- `want` and `per_cat`; returns the new `want`.
local function billable_desc(d, want, per_cat)
  if d.category and d.billable then
    local n = d.transactions
    want = want + n
    per_cat[d.category] = (per_cat[d.category] or 0) + n
  end
  local also = d.also
  if also then
    for _, l in ipairs(also) do
      if l.billable then
        want = want + l.transactions
        per_cat[l.category] = (per_cat[l.category] or 0) + l.transactions
      end
    end
  end
  return want
end

-- The billable transactions of a cost (a description or a list of them), in total and per
-- category.
local function billable_of(cost)
  local want, per_cat = 0, {}
  if cost.category or cost.also or cost.transactions then
    want = billable_desc(cost, want, per_cat)
  else
    for _, d in ipairs(cost) do want = billable_desc(d, want, per_cat) end
  end
  return want, per_cat
end

local function refuse(cost, message, budget)
  local sum = cost.category and _M.sum{cost} or _M.sum(cost)
  return nil, errors.new("budget", message, {
    billing = {category = sum.category, billable = false, transactions = 0},
    cost = sum, budget = budget, attempts = 0, retryable = false,
  })
end

-- A budget as written: "%d" raises on 2.5 under Lua 5.4 (the option takes any number >= 0).
local function amount(n)
  return string.format("%.15g", n)
end

-- The budget's verdict on a cost of `want` billable transactions (`per_cat` of them per
-- category), given what is spent or in flight: `spent` in total and, in a category, `cats[name]`
-- less this cost (acquire: the values the store gave back) or, without `cats`, what the store
-- holds (check). True, or nil and the budget error.
local function verdict(cost, b, want, per_cat, spent, cats, store)
  if b.billable and spent + want > b.billable then
    return refuse(cost, string.format(
      "budget of %s billable transactions would be passed (%d spent, this call %d)",
      amount(b.billable), spent, want), {limit = b.billable, spent = spent, wanted = want})
  end
  local limits = b.per_category
  if not limits then return true end
  local names = {}
  for cat in pairs(per_cat) do names[#names + 1] = cat end
  table.sort(names)
  for _, cat in ipairs(names) do
    local limit = limits[cat]
    if limit then
      local s
      if cats then s = cats[cat] - per_cat[cat] else s = store:get(cat_key(cat, "held")) or 0 end
      if s + per_cat[cat] > limit then
        return refuse(cost, string.format(
          "budget of %s billable %s transactions would be passed (%d spent, this call %d)",
          amount(limit), cat, s, per_cat[cat]),
          {category = cat, limit = limit, spent = s, wanted = per_cat[cat]})
      end
    end
  end
  return true
end

-- Takes back what a failed hold added (the raise that stopped it goes on after).
local function undo(store, done, sign)
  for _, d in ipairs(done) do pcall(store.incr, store, d[1], -sign * d[2]) end
end

-- Adds (sign 1) or takes back (sign -1) a cost's billable transactions from what is held, in
-- total and per category. Returns the new total and the new value of each category. A store
-- that raises part way (a full lua_shared_dict refusing a new key) has what was added taken
-- back before the raise goes on: no reservation is left behind half made. A memory store
-- cannot fail part way: its table is changed directly.
local function hold(store, want, per_cat, sign)
  local d = mem_data(store)
  local total, cats = nil, {}
  if d then
    if want ~= 0 then total = add(store, d, "held", sign * want) end
    for cat, n in pairs(per_cat) do
      if n ~= 0 then cats[cat] = add(store, d, cat_key(cat, "held"), sign * n) end
    end
    return total, cats
  end
  local done = {}
  -- The first increment needs no protection: when it raises, nothing was added.
  if want ~= 0 then
    total = store:incr("held", sign * want) or nil
    if total then done[1] = {"held", want} end
  end
  for cat, n in pairs(per_cat) do
    if n ~= 0 then
      local key = cat_key(cat, "held")
      local ok, v = pcall(store.incr, store, key, sign * n)
      if not ok then
        undo(store, done, sign)
        error(v, 0)
      end
      cats[cat] = v
      done[#done + 1] = {key, n}
    end
  end
  return total, cats
end

-- The hold of one description without `also` lines (the cost of most requests): `n` billable
-- transactions of one category, and no table made.
local function hold_one(store, cat, n, sign)
  local d = store.incr == MEM_INCR and store.data
  if d then
    n = sign * n
    d.held = (d.held or 0) + n
    local k = (KEYS[cat] or keys_of(cat)).held
    d[k] = (d[k] or 0) + n
    return
  end
  local total = store:incr("held", sign * n)
  local ok, err = pcall(store.incr, store, cat_key(cat, "held"), sign * n)
  if not ok then
    if total then pcall(store.incr, store, "held", -sign * n) end
    error(err, 0)
  end
end

-- Whether a cost is one description without `also` lines, and its billable transactions if so
-- (0 for one that is not billable).
local function single(cost)
  local cat = cost.category
  if not cat or cost.also then return nil end
  return cat, cost.billable and cost.transactions or 0
end

--- Refuses (kind `budget`) a cost that would take the meter past its budget, reading what
-- every meter of the store has spent or holds in flight. `cost` is a description or a list
-- of them (a split call checks its whole cost). Returns true or nil, err (`err.cost` = the
-- summed cost refused). A preflight or a dry run: the call itself is checked again by
-- acquire, atomically.
function Meter:check(cost)
  local b = self.budget
  if not b then return true end
  local want, per_cat = billable_of(cost)
  local s = self.store
  return verdict(cost, b, want, per_cat, s:get("held") or 0, nil, s)
end

--- Holds a cost as spent while its request is in flight; `release` gives it back once the
-- real count is recorded.
function Meter:reserve(cost)
  local cat, n = single(cost)
  if cat then
    if n ~= 0 then hold_one(self.store, cat, n, 1) end
    return
  end
  local want, per_cat = billable_of(cost)
  hold(self.store, want, per_cat, 1)
end

function Meter:release(cost)
  local cat, n = single(cost)
  if cat then
    if n ~= 0 then hold_one(self.store, cat, n, -1) end
    return
  end
  local want, per_cat = billable_of(cost)
  hold(self.store, want, per_cat, -1)
end

--- Checks a cost and holds it as spent in one step that other workers cannot split
-- (client:call): the cost is added to what is held first, and the sums that come back are
-- what the budget checks; a cost that does not fit is taken back. Two workers racing for the
-- last transaction cannot both have it. A cost that fits may be refused in the moment a cost
-- that did not fit is added and not yet taken back (a budget errs on the safe side). True,
-- or nil and the budget error with nothing held. The caller releases what it acquired.
function Meter:acquire(cost)
  local b = self.budget
  if not b then
    -- No budget: the cost is held (in_flight() shows it), nothing is checked.
    local cat, n = single(cost)
    if cat then
      if n ~= 0 then hold_one(self.store, cat, n, 1) end
      return true
    end
  end
  local want, per_cat = billable_of(cost)
  if want == 0 then
    if not b then return true end
    return self:check(cost)
  end
  local total, cats = hold(self.store, want, per_cat, 1)
  if not b then return true end
  local ok, err = verdict(cost, b, want, per_cat, total - want, cats)
  if not ok then hold(self.store, want, per_cat, -1) end
  return ok, err
end

--- The billable transactions held for requests in flight (acquired, not yet released):
-- `{billable = n, categories = {[name] = n}}` (categories holding none left out).
function Meter:in_flight()
  local s = self.store
  local cats = {}
  for name in pairs(ROWS) do
    local n = (s:get(cat_key(name, "held")) or 0) - (s:get(cat_key(name, "billable")) or 0)
    if n ~= 0 then cats[name] = n end
  end
  return {billable = (s:get("held") or 0) - (s:get("billable") or 0), categories = cats}
end

local GEOCODES = {["RestLocations-Unstructured"] = true, ["RestLocations-Structured"] = true,
                  ["RESTLocations-Reverse"] = true}

-- Records one line of a description (Meter:record), in the order a shared store sees them.
local function record_line(self, s, d, l, key_requests)
  local cat, n = l.category, l.transactions
  local k = keys_of(cat)
  add(s, d, k.requests, 1)
  if l.billable then
    add(s, d, k.billable, n)
    add(s, d, "billable", n)
    -- Held before the caller releases its reservation: what is held never dips below
    -- what is spent, even for a moment another worker could see.
    if n ~= 0 then
      add(s, d, "held", n)
      add(s, d, k.held, n)
    end
    if ROWS[cat].session_free then
      if self.mode == "session" then
        add(s, d, "tally:past_session", n)
      else
        add(s, d, "tally:f3_billable", n)
        if key_requests <= _M.SESSION_FREE_REQUESTS then add(s, d, "tally:f3_first", n) end
      end
    end
  else
    add(s, d, k.non_billable, n)
    add(s, d, "non_billable", n)
  end
end

-- Meter:record of a description without `also` lines into a memory store's table: the same
-- changes as record_line's, in the same order, without a call per counter (every call
-- records one). spec/store_spec.lua compares the two ways on random operations.
local function record_memory(self, d, desc)
  local cat, n = desc.category, desc.transactions
  local k = KEYS[cat] or keys_of(cat)
  d.requests = (d.requests or 0) + 1
  local key_requests = (d["tally:key_requests"] or 0) + 1
  d["tally:key_requests"] = key_requests
  d[k.requests] = (d[k.requests] or 0) + 1
  if desc.billable then
    d[k.billable] = (d[k.billable] or 0) + n
    d.billable = (d.billable or 0) + n
    if n ~= 0 then
      d.held = (d.held or 0) + n
      d[k.held] = (d[k.held] or 0) + n
    end
    if ROWS[cat].session_free then
      if self.mode == "session" then
        d["tally:past_session"] = (d["tally:past_session"] or 0) + n
      else
        d["tally:f3_billable"] = (d["tally:f3_billable"] or 0) + n
        if key_requests <= _M.SESSION_FREE_REQUESTS then
          d["tally:f3_first"] = (d["tally:f3_first"] or 0) + n
        end
      end
    end
  else
    d[k.non_billable] = (d[k.non_billable] or 0) + n
    d.non_billable = (d.non_billable or 0) + n
  end
  if GEOCODES[cat] then
    d["tally:geocodes"] = (d["tally:geocodes"] or 0) + 1
    d["tally:geocode_tx"] = (d["tally:geocode_tx"] or 0) + n
  end
end

--- Records one request the service counted (`desc` from describe, with its `also` lines).
function Meter:record(desc)
  if not desc.category then return end
  local s = self.store
  local d = mem_data(s)
  if d and not desc.also then return record_memory(self, d, desc) end
  add(s, d, "requests", 1)
  local key_requests = add(s, d, "tally:key_requests", 1)
  record_line(self, s, d, desc, key_requests)
  local also = desc.also
  if also then
    for _, l in ipairs(also) do record_line(self, s, d, l, key_requests) end
  end
  if GEOCODES[desc.category] then
    add(s, d, "tally:geocodes", 1)
    add(s, d, "tally:geocode_tx", desc.transactions)
  end
end

--- A copy of the totals: `{billable=, non_billable=, requests=, categories={[name]={...}}}`.
function Meter:totals()
  local s = self.store
  local cats = {}
  for name in pairs(ROWS) do
    local r = s:get(cat_key(name, "requests"))
    if r and r ~= 0 then
      cats[name] = {billable = s:get(cat_key(name, "billable")) or 0,
                    non_billable = s:get(cat_key(name, "non_billable")) or 0, requests = r}
    end
  end
  return {billable = s:get("billable") or 0, non_billable = s:get("non_billable") or 0,
          requests = s:get("requests") or 0, categories = cats}
end

-- The hints of a tally (zero_hints' fields), keyed by id; each has a one-line `message`.
local function hints_of(t)
  local h = {}
  local per = _M.SESSION_FREE_REQUESTS
  if t.f3_billable > 0 then
    local sessions = math.ceil(t.key_requests / per)
    h.session_key = {
      transactions = t.f3_billable, saved_by_one_session = t.f3_first,
      sessions_to_save_all = sessions,
      message = string.format(
        "%d billable transactions are in categories a session key makes non-billable "
        .. "(footnotes 3 and 4): the first %d requests of a map-control session are free, so one "
        .. "session would have saved %d of them, and %d session(s) all of them",
        t.f3_billable, per, t.f3_first, sessions),
    }
  end
  if t.past_session > 0 then
    h.session_allowance = {
      transactions = t.past_session,
      message = string.format(
        "%d transactions were billable because they came after request %d of the session "
        .. "key; a new map-control session gives a new session key", t.past_session, per),
    }
  end
  if t.geocodes >= _M.BATCH_HINT_REQUESTS then
    h.batch_geocode = {
      requests = t.geocodes, transactions = t.geocode_tx,
      message = string.format(
        "%d single geocoding requests (%d transactions): the geocode dataflow "
        .. "(Dataflow:BatchGeocode, Spatial Data Services) takes up to 200,000 addresses in one "
        .. "job, counted 1 transaction per entity, with one request instead of %d",
        t.geocodes, t.geocode_tx, t.geocodes),
    }
  end
  return h
end

--- The hints for the calls recorded so far, keyed by id; each has a one-line `message`.
function Meter:hints()
  local t = zero_hints()
  for name in pairs(t) do t[name] = self.store:get("tally:" .. name) or 0 end
  return hints_of(t)
end

--- The totals and the hints (client:usage()).
function Meter:usage()
  local u = self:totals()
  u.hints = self:hints()
  return u
end

-- Takes what a key holds off it (and off `also`): counts other workers add meanwhile are
-- kept, where writing 0 would lose them.
local function drain(s, key, also)
  local v = s:get(key)
  if v and v ~= 0 then
    s:incr(key, -v)
    if also then s:incr(also, -v) end
  end
end

--- Zeroes the totals and the hint tallies (every meter of the store sees it), not the
-- reservations in flight, and not the accounts: the session's 25 and the autosuggest tens
-- belong to the service's count.
function Meter:reset()
  local s = self.store
  drain(s, "billable", "held")
  drain(s, "non_billable")
  drain(s, "requests")
  for name in pairs(ROWS) do
    drain(s, cat_key(name, "billable"), cat_key(name, "held"))
    drain(s, cat_key(name, "non_billable"))
    drain(s, cat_key(name, "requests"))
  end
  for name in pairs(zero_hints()) do drain(s, "tally:" .. name) end
end

return _M
