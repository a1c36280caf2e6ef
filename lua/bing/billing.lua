--- Billing hints: the transaction table as data, and the meter that counts a client's calls.
--
-- The table is `understanding-bing-maps-transactions.md`: every request the library can make
-- names one row here (`spec.billing`), and nothing else in the library knows about money.
-- A later family gets billing by adding rows, not code.
--
-- Row fields:
--   billable      the table's "Billable" column for a Bing Maps key.
--   session_free  footnote 3 (REST) / 4 (SDS): not billable with a session key from a map
--                 control, for the first 25 requests of that session (the 26th and later are).
--   per           how the count is made: "request" (1 per request, the default), "cells4"
--                 (1 per 4 matrix cells, rounded up), "fixed" (row.count per request: truck
--                 routes count 3), "product" (agents x items), "tenth" (1 per 10 requests:
--                 autosuggest), "entity" (1 per entity: batch geocoding).
-- @module bing.billing
local errors = require "bing.errors"

local _M = {}

-- Session keys are non-billable for this many requests of the session (the seed rule).
_M.SESSION_FREE_REQUESTS = 25

local ROWS = {
  -- locations
  ["RestLocations-Unstructured"] = {billable = true, session_free = true},
  ["RestLocations-Structured"] = {billable = true, session_free = true},
  ["RESTLocations-Reverse"] = {billable = true, session_free = true},
  ["RESTLocationRecog"] = {billable = true, session_free = true},
  ["RESTLocalSearch"] = {billable = true, session_free = true},
  -- routes
  ["RESTRoutes"] = {billable = true, session_free = true},
  ["Route-DistanceMatrix"] = {billable = true, per = "cells4"},
  ["Route-DistanceMatrixAsync"] = {billable = true, per = "cells4"},
  ["Route-DistanceMatrixAsyncCallback"] = {billable = false},
  ["Route-Isochrone"] = {billable = true, session_free = true},
  ["Route-IsochroneAsync"] = {billable = true, session_free = true},
  ["Route-IsochroneAsyncCallback"] = {billable = false},
  ["Routes-OptimizeItinerary"] = {billable = true, per = "product"},
  ["Routes-OptimizeItineraryAsync"] = {billable = true, per = "product"},
  ["Routes-OptimizeItineraryAsyncCallback"] = {billable = false},
  ["Route-SnapToRoad"] = {billable = true, session_free = true},
  ["Route-SnapToRoadAsync"] = {billable = true, session_free = true},
  ["Route-SnapToRoadAsyncCallback"] = {billable = false},
  ["Route-Truck"] = {billable = true, per = "fixed", count = 3},
  ["Route-TruckAsync"] = {billable = true, per = "fixed", count = 3},
  ["Route-TruckAsyncCallback"] = {billable = false},
  -- other REST families
  ["RESTAutosuggest"] = {billable = true, session_free = true, per = "tenth"},
  ["RESTElevations"] = {billable = true, session_free = true},
  ["RESTImagery-Metadata"] = {billable = true, session_free = true},
  ["RESTImagery-BasicMetadata"] = {billable = false},
  ["RESTImagery-StaticMap"] = {billable = true, session_free = true},
  ["RESTImagery-StaticMapWithRoute"] = {billable = true, session_free = true},
  ["RESTTimezone"] = {billable = true, session_free = true},
  ["RESTTraffic"] = {billable = true, session_free = true},
  -- spatial data services
  ["Dataflow:BatchGeocode"] = {billable = true, per = "entity"},
  ["Dataflow:Create"] = {billable = false},
  ["Dataflow:Get"] = {billable = false},
  ["Dataflow:Download"] = {billable = false},
  ["RESTSpatialDataService:Query"] = {billable = true, session_free = true},
  ["RESTSpatialDataService:QueryPointsOfInterest"] = {billable = true, session_free = true},
  ["RESTSpatialDataService:Geodata"] = {billable = true},
}
_M.ROWS = ROWS

local function count(row, billing)
  local per = row.per or "request"
  if per == "request" then return 1 end
  if per == "fixed" then return row.count end
  local n = billing.units or 0
  if per == "cells4" then return (n + 3) // 4 end
  if per == "tenth" then return billing.fraction and 0 or 1 end
  return n -- product, entity: the caller gives the number of units
end

--- Describes the billing of one request: `{category=, billable=, transactions=}`.
-- `billing` is a category name or `{category=, units=}` (units: matrix cells, agents x items,
-- entities). `session` is the session state when the client uses a session key (or nil);
-- describing does not change it.
function _M.describe(billing, session)
  if type(billing) == "string" then billing = {category = billing} end
  local row = ROWS[billing.category]
  if not row then error("bing.billing: no row for category " .. tostring(billing.category), 2) end
  local billable = row.billable
  if billable and session and row.session_free and session.count < _M.SESSION_FREE_REQUESTS then
    billable = false
  end
  return {category = billing.category, billable = billable, transactions = count(row, billing)}
end

--- Sums a list of billing descriptions of one category into one (split and batched calls).
function _M.sum(parts)
  local total = {category = parts[1] and parts[1].category, billable = false, transactions = 0,
                 parts = #parts}
  for _, p in ipairs(parts) do
    total.transactions = total.transactions + p.transactions
    total.billable = total.billable or p.billable
  end
  return total
end

local Meter = {}
Meter.__index = Meter

--- A meter: per-category totals for one client, and an optional budget.
function _M.meter(budget)
  return setmetatable({budget = budget, categories = {}, billable = 0, non_billable = 0,
                       requests = 0}, Meter)
end

--- Refuses (kind `budget`) a cost that would take the meter past its budget.
-- `cost` is a description or a list of descriptions (a split call checks its whole cost).
function Meter:check(cost)
  local b = self.budget
  if not b then return true end
  local list = cost.category and {cost} or cost
  local want, per_cat = 0, {}
  for _, c in ipairs(list) do
    if c.billable then
      want = want + c.transactions
      per_cat[c.category] = (per_cat[c.category] or 0) + c.transactions
    end
  end
  if b.billable and self.billable + want > b.billable then
    return nil, errors.new("budget", string.format(
      "budget of %d billable transactions would be passed (%d spent, this call %d)",
      b.billable, self.billable, want), {billing = cost})
  end
  for cat, n in pairs(per_cat) do
    local limit = b.per_category and b.per_category[cat]
    local spent = self.categories[cat] and self.categories[cat].billable or 0
    if limit and spent + n > limit then
      return nil, errors.new("budget", string.format(
        "budget of %d billable %s transactions would be passed (%d spent, this call %d)",
        limit, cat, spent, n), {billing = cost})
    end
  end
  return true
end

--- Records one request the server billed (or counted as non-billable).
function Meter:record(desc)
  local c = self.categories[desc.category]
  if not c then
    c = {billable = 0, non_billable = 0, requests = 0}
    self.categories[desc.category] = c
  end
  c.requests = c.requests + 1
  self.requests = self.requests + 1
  if desc.billable then
    c.billable = c.billable + desc.transactions
    self.billable = self.billable + desc.transactions
  else
    c.non_billable = c.non_billable + desc.transactions
    self.non_billable = self.non_billable + desc.transactions
  end
end

--- A copy of the totals: `{billable=, non_billable=, requests=, categories={[name]={...}}}`.
function Meter:totals()
  local cats = {}
  for name, c in pairs(self.categories) do
    cats[name] = {billable = c.billable, non_billable = c.non_billable, requests = c.requests}
  end
  return {billable = self.billable, non_billable = self.non_billable, requests = self.requests,
          categories = cats}
end

function Meter:reset()
  self.categories, self.billable, self.non_billable, self.requests = {}, 0, 0, 0
end

return _M
