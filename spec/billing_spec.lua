-- bing.billing: the transaction table as data, the counting rules, the meter and its hints.
-- Pure Lua: no server. (The emulator's ledger is compared in ledger_spec.lua.)
local billing = require "bing.billing"
local bing = require "bing"
local cjson = require "cjson"

-- The REST Services and Spatial Data Services tables of understanding-bing-maps-transactions.md:
-- category -> {billable, footnote 3/4}. Spelled exactly as the reference spells them.
local TABLE = {
  ["RESTAutosuggest"] = {true, true}, ["RESTElevations"] = {true, true},
  ["RESTImagery"] = {true, true}, ["RESTImagery-Metadata"] = {true, true},
  ["RESTImagery-StaticMap"] = {true, true}, ["RESTImagery-StaticMapWithRoute"] = {true, true},
  ["RESTImagery-BasicMetadata"] = {false, false}, ["RESTLocalSearch"] = {true, true},
  ["RESTLocationRecog"] = {true, true}, ["RESTLocations"] = {true, true},
  ["RestLocations-Structured"] = {true, true}, ["RestLocations-Unstructured"] = {true, true},
  ["RESTLocations-Reverse"] = {true, true}, ["RESTRoutes"] = {true, true},
  ["RESTTimezone"] = {true, true}, ["RESTTraffic"] = {true, true},
  ["Route-DistanceMatrix"] = {true, false}, ["Route-DistanceMatrixAsync"] = {true, false},
  ["Route-DistanceMatrixAsyncCallback"] = {false, false},
  ["Route-Isochrone"] = {true, true}, ["Route-IsochroneAsync"] = {true, true},
  ["Route-IsochroneAsyncCallback"] = {false, false},
  ["Routes-OptimizeItinerary"] = {true, false}, ["Routes-OptimizeItineraryAsync"] = {true, false},
  ["Routes-OptimizeItineraryAsyncCallback"] = {false, false},
  ["Route-SnapToRoad"] = {true, true}, ["Route-SnapToRoadAsync"] = {true, true},
  ["Route-SnapToRoadAsyncCallback"] = {false, false},
  ["Route-Truck"] = {true, false}, ["Route-TruckAsync"] = {true, false},
  ["Route-TruckAsyncCallback"] = {false, false}, ["GeospatialEndpoint"] = {false, false},
  ["Dataflow:BatchGeocode"] = {true, false}, ["Dataflow:Create"] = {false, false},
  ["Dataflow:Get"] = {false, false}, ["Dataflow:Download"] = {false, false},
  ["RESTSpatialDataService:GetAllMetadata"] = {false, false},
  ["RESTSpatialDataService:GetDataSource"] = {false, false},
  ["RESTSpatialDataService:GetDataSourceMetadata"] = {false, false},
  ["RESTSpatialDataService:ListDataSources"] = {false, false},
  ["RESTSpatialDataService:DownloadDatasource"] = {false, false},
  ["RESTSpatialDataService:DeleteDataSource"] = {false, false},
  ["RESTSpatialDataService:SetDataSourcePublicOrPrivate"] = {false, false},
  ["RESTSpatialDataService:Query"] = {true, true},
  ["RESTSpatialDataService:Geodata"] = {true, false},
  ["RESTSpatialDataService:QueryPointsOfInterest"] = {true, true},
}

-- The page's table rows, kept in spec/fixtures/reference/billing/.
local REFERENCE = "understanding-bing-maps-transactions.md"

local function desc_of(cat) return billing.describe(cat) end

local function session_account(used)
  local a = billing.account(true)
  for _ = 1, used or 0 do a:advance{category = "RESTRoutes"} end
  return a
end

describe("billing.ROWS", function()
  it("has exactly the REST and SDS rows of the transaction table, billable and footnote as there", function()
    for name, want in pairs(TABLE) do
      local row = billing.ROWS[name]
      assert.is_table(row, name)
      assert.equal(want[1], row.billable, name .. " billable")
      assert.equal(want[2], row.session_free == true, name .. " footnote 3/4")
    end
    for name in pairs(billing.ROWS) do assert.is_table(TABLE[name], "extra row " .. name) end
  end)

  it("agrees with the reference page's rows", function()
    local text = require("support.reference").read("billing", REFERENCE)
    local seen = 0
    -- Rows of the REST and SDS tables: |Category|REST Services or Spatial Data Services|Yes...|
    for line in text:gmatch("[^\n]+") do
      local cat, api, bill = line:match("^|([^|]+)|%s*([^|]-)%s*|([^|]+)|")
      if cat and (api == "REST Services" or api == "Spatial Data Services") then
        cat = cat:gsub("<br />", ""):gsub("%s", "")
        local row = billing.ROWS[cat]
        assert.is_table(row, "no row for " .. cat)
        assert.equal(bill:match("^%s*Yes") ~= nil, row.billable, cat)
        assert.equal(bill:find("<sup>[34]") ~= nil, row.session_free == true, cat .. " footnote")
        seen = seen + 1
      end
    end
    local rows = 0
    for _ in pairs(TABLE) do rows = rows + 1 end
    assert.equal(rows, seen)
  end)

  it("names a row for every request of billing.REQUESTS", function()
    for _, r in ipairs(billing.REQUESTS) do
      assert.is_table(billing.ROWS[r[2]], r[1])
      if r.also then assert.is_table(billing.ROWS[r.also], r[1]) end
    end
  end)

  it("marks the requests that create a job, and only those", function()
    local jobs = {}
    for name, row in pairs(billing.ROWS) do if row.job then jobs[#jobs + 1] = name end end
    table.sort(jobs)
    assert.same({"Dataflow:BatchGeocode", "Dataflow:Create", "Route-DistanceMatrixAsync",
      "Route-IsochroneAsync", "Route-SnapToRoadAsync", "Route-TruckAsync",
      "Routes-OptimizeItineraryAsync"}, jobs)
    assert.is_true(billing.creates_job("Route-TruckAsync"))
    assert.is_true(billing.creates_job{category = "Route-DistanceMatrixAsync", units = 9})
    assert.is_false(billing.creates_job("Route-TruckAsyncCallback"))
    assert.is_false(billing.creates_job(false))
  end)
end)

describe("billing.describe", function()
  it("counts 1 per request", function()
    assert.same({category = "RESTRoutes", billable = true, transactions = 1},
      billing.describe("RESTRoutes"))
    assert.same({category = "RESTImagery-BasicMetadata", billable = false, transactions = 1},
      billing.describe("RESTImagery-BasicMetadata"))
  end)

  it("counts 1 per 4 matrix cells, rounded up", function()
    local function tx(cells)
      return billing.describe{category = "Route-DistanceMatrix", units = cells}.transactions
    end
    assert.equal(0, tx(0))
    assert.equal(1, tx(1))
    assert.equal(1, tx(4))
    assert.equal(2, tx(5))
    assert.equal(3, tx(10)) -- the reference's example: 2 origins x 5 destinations
    assert.equal(3600, tx(120 * 120))
    assert.equal(3, billing.describe{category = "Route-DistanceMatrixAsync", units = 9}.transactions)
  end)

  it("counts 3 per truck route, sync or async", function()
    assert.equal(3, billing.describe("Route-Truck").transactions)
    assert.equal(3, billing.describe("Route-TruckAsync").transactions)
    assert.equal(0 + 1, billing.describe("Route-TruckAsyncCallback").transactions)
    assert.is_false(billing.describe("Route-TruckAsyncCallback").billable)
  end)

  it("counts agents x items for optimized itineraries, 1 per entity for batch geocoding", function()
    assert.equal(12, billing.describe{category = "Routes-OptimizeItinerary", units = 3 * 4}.transactions)
    assert.equal(1000, billing.describe{category = "Dataflow:BatchGeocode", units = 1000}.transactions)
  end)

  it("counts the 1st, 11th, 21st... autosuggest request of a key", function()
    local a = billing.account(false)
    local counts = {}
    for i = 1, 25 do
      local d = billing.describe("RESTAutosuggest", a)
      counts[i] = d.transactions
      a:advance(d)
    end
    local total = 0
    for i, n in ipairs(counts) do
      assert.equal((i == 1 or i == 11 or i == 21) and 1 or 0, n, "request " .. i)
      total = total + n
    end
    assert.equal(3, total) -- ceil(25 / 10)
    -- the runs of ten are per category: a geocode in between does not move them
    a:advance(billing.describe("RESTRoutes", a))
    assert.equal(0, billing.describe("RESTAutosuggest", a).transactions)
  end)

  it("adds the categories of `also` (a geodata request with an address counts RESTLocations too)", function()
    local d = billing.describe{category = "RESTSpatialDataService:Geodata", also = "RESTLocations"}
    assert.same({category = "RESTSpatialDataService:Geodata", billable = true, transactions = 1,
      also = {{category = "RESTLocations", billable = true, transactions = 1}}}, d)
    d = billing.describe{category = "Dataflow:BatchGeocode", units = 7, also = {"Dataflow:Create"}}
    assert.equal(7, d.transactions)
    assert.same({{category = "Dataflow:Create", billable = false, transactions = 1}}, d.also)
  end)

  it("describes false as no transaction at all", function()
    assert.same({billable = false, transactions = 0}, billing.describe(false))
  end)

  it("raises for a category that is not in the table, and for bad units", function()
    local ok, err = pcall(billing.describe, "RESTLocation")
    assert.is_false(ok)
    assert.equal("argument", err.kind)
    assert.matches("no row for category RESTLocation", err.message)
    ok = pcall(billing.describe, {category = "Route-DistanceMatrix", units = -1})
    assert.is_false(ok)
    ok = pcall(billing.describe, nil)
    assert.is_false(ok)
  end)
end)

describe("session keys", function()
  it("makes footnote-3 rows non-billable for the first 25 requests of the session", function()
    assert.is_false(billing.describe("RestLocations-Unstructured", session_account(0)).billable)
    assert.is_false(billing.describe("RestLocations-Unstructured", session_account(24)).billable)
    assert.is_true(billing.describe("RestLocations-Unstructured", session_account(25)).billable)
    assert.is_true(billing.describe("RestLocations-Unstructured", session_account(100)).billable)
  end)

  it("bills rows without the footnote as with a key", function()
    local d = billing.describe({category = "Route-DistanceMatrix", units = 8}, session_account(0))
    assert.same({category = "Route-DistanceMatrix", billable = true, transactions = 2}, d)
    assert.is_true(billing.describe("Route-Truck", session_account(0)).billable)
  end)

  it("counts every request the service counts toward the 25, whatever its category", function()
    local a = billing.account(true)
    for _ = 1, 20 do a:advance(billing.describe({category = "Route-DistanceMatrix", units = 4}, a)) end
    for _ = 1, 5 do a:advance(billing.describe("Route-TruckAsyncCallback", a)) end
    assert.equal(25, a.requests)
    assert.is_true(billing.describe("RESTRoutes", a).billable)
  end)

  it("does not touch a key's account", function()
    local a = billing.account(false)
    assert.is_true(billing.describe("RESTRoutes", a).billable)
  end)

  it("forks an account for estimates without moving the original", function()
    local a = session_account(24)
    local f = a:fork()
    f:advance(billing.describe("RESTRoutes", f))
    assert.equal(24, a.requests)
    assert.equal(25, f.requests)
    assert.is_true(billing.describe("RESTRoutes", f).billable)
    assert.is_false(billing.describe("RESTRoutes", a).billable)
  end)
end)

describe("billing.billed", function()
  local function e(kind, message) return {kind = kind, message = message or "x"} end
  it("counts 2xx answers and the service's own 4xx answers", function()
    assert.is_true(billing.billed(200, nil))
    assert.is_true(billing.billed(201, nil))
    assert.is_true(billing.billed(400, e("http", "One or more parameters are not valid.")))
    assert.is_true(billing.billed(404, e("http", "HTTP 404")))
  end)

  it("does not count throttled answers: 429 and the throttled-empty 200", function()
    assert.is_false(billing.billed(429, e("throttled")))
    assert.is_false(billing.billed(200, e("throttled")))
  end)

  it("does not count auth failures, 5xx, proxy pages, bodies that do not decode, lost answers", function()
    assert.is_false(billing.billed(401, e("auth")))
    assert.is_false(billing.billed(403, e("auth")))
    for _, status in ipairs{500, 502, 503, 504} do assert.is_false(billing.billed(status, e("http"))) end
    assert.is_false(billing.billed(404, e("http", "HTTP 404 (non-JSON body)")))
    assert.is_false(billing.billed(200, e("decode")))
    assert.is_false(billing.billed(nil, e("transport", "Connection reset by peer")))
    assert.is_false(billing.billed(nil, e("timeout", "Connection timed out after 10001 milliseconds")))
    assert.is_false(billing.billed(301, e("http")))
  end)

  it("counts a transfer that timed out waiting for the answer", function()
    assert.is_true(billing.billed(nil, e("timeout",
      "Operation timed out after 1000 milliseconds with 0 bytes received (GET http://h/)")))
  end)
end)

describe("billing.sum", function()
  it("sums the parts of a split call per category", function()
    local parts = {}
    for i = 1, 3 do parts[i] = billing.describe("RESTRoutes") end
    local s = billing.sum(parts)
    assert.equal("RESTRoutes", s.category)
    assert.is_true(s.billable)
    assert.equal(3, s.transactions)
    assert.equal(3, s.billable_transactions)
    assert.equal(0, s.non_billable_transactions)
    assert.equal(3, s.requests)
    assert.same({RESTRoutes = {billable = 3, non_billable = 0, requests = 3}}, s.categories)
  end)

  it("splits billable and non-billable parts across a session's 25th request", function()
    local a = session_account(23)
    local parts = {}
    for i = 1, 4 do
      parts[i] = billing.describe("RESTRoutes", a)
      a:advance(parts[i])
    end
    local s = billing.sum(parts)
    assert.equal(2, s.billable_transactions)
    assert.equal(2, s.non_billable_transactions)
    assert.is_true(s.billable)
  end)

  it("names mixed categories together and counts `also` lines", function()
    local s = billing.sum{billing.describe{category = "RESTSpatialDataService:Query", also = "RESTLocations"},
                          billing.describe("Dataflow:Get")}
    assert.equal("Dataflow:Get+RESTLocations+RESTSpatialDataService:Query", s.category)
    assert.equal(3, s.transactions)
    assert.equal(2, s.billable_transactions)
    assert.equal(2, s.requests)
  end)
end)

describe("billing.check_budget", function()
  it("accepts billable and per_category of known categories", function()
    assert.same({billable = 10, per_category = {RESTRoutes = 2}},
      billing.check_budget{billable = 10, per_category = {RESTRoutes = 2}})
  end)

  it("raises for unknown fields, misspelt categories and bad numbers", function()
    for _, b in ipairs{{billabel = 1}, {per_category = {RESTRoute = 1}}, {billable = -1},
                       {billable = "10"}, {per_category = {RESTRoutes = "2"}}} do
      local ok, err = pcall(billing.check_budget, b)
      assert.is_false(ok, cjson.encode(b))
      assert.equal("argument", err.kind)
    end
    local ok, err = pcall(bing.new, {key = "k", budget = {per_category = {["RESTLocations-Structured"] = 1}}})
    assert.is_false(ok)
    assert.matches("names no category", err.message)
  end)
end)

describe("meter", function()
  local function desc(cat, units) return billing.describe{category = cat, units = units} end

  it("records per category and in total", function()
    local m = billing.meter(nil, "key")
    m:record(desc("RESTRoutes"))
    m:record(desc("Route-DistanceMatrix", 9))
    m:record(desc("Route-TruckAsyncCallback"))
    local t = m:totals()
    assert.equal(4, t.billable)
    assert.equal(1, t.non_billable)
    assert.equal(3, t.requests)
    assert.same({billable = 3, non_billable = 0, requests = 1}, t.categories["Route-DistanceMatrix"])
    assert.same({billable = 0, non_billable = 1, requests = 1}, t.categories["Route-TruckAsyncCallback"])
  end)

  it("records the `also` lines of a request", function()
    local m = billing.meter(nil, "key")
    m:record(billing.describe{category = "Dataflow:BatchGeocode", units = 5, also = "Dataflow:Create"})
    local t = m:totals()
    assert.equal(5, t.billable)
    assert.equal(1, t.non_billable)
    assert.equal(1, t.requests)
    assert.equal(1, t.categories["Dataflow:Create"].requests)
  end)

  it("checks a cost against the total and the per-category budget", function()
    local m = billing.meter(billing.check_budget{billable = 10, per_category = {["Route-Truck"] = 6}}, "key")
    assert.is_true(m:check(desc("Route-Truck")))
    m:record(desc("Route-Truck"))
    m:record(desc("Route-Truck"))
    local ok, err = m:check(desc("Route-Truck"))
    assert.is_nil(ok)
    assert.equal("budget", err.kind)
    assert.equal(0, err.attempts)
    assert.matches("budget of 6 billable Route%-Truck transactions would be passed %(6 spent, this call 3%)",
      err.message)
    assert.same({category = "Route-Truck", limit = 6, spent = 6, wanted = 3}, err.budget)
    assert.same({category = "Route-Truck", billable = false, transactions = 0}, err.billing)
    assert.equal(3, err.cost.transactions)
    -- 6 spent of 10: 4 more fit, 5 do not
    assert.is_true(m:check{desc("RESTRoutes"), desc("RESTRoutes"), desc("RESTRoutes"), desc("RESTRoutes")})
    ok, err = m:check{desc("RESTRoutes"), desc("RESTRoutes"), desc("RESTRoutes"), desc("RESTRoutes"),
                      desc("RESTRoutes")}
    assert.is_nil(ok)
    assert.matches("budget of 10 billable transactions would be passed %(6 spent, this call 5%)", err.message)
    assert.equal(5, err.cost.requests)
  end)

  it("refuses with a budget error, not a Lua error, when the budget is not a whole number", function()
    local m = billing.meter(billing.check_budget{billable = 2.5, per_category = {RESTRoutes = 1.5}}, "key")
    m:record(desc("RESTRoutes"))
    local ok, err = pcall(m.check, m, desc("RESTRoutes"))
    assert.is_true(ok, err)
    local _, berr = m:check(desc("RESTRoutes"))
    assert.equal("budget", berr.kind)
    assert.matches("budget of 1.5 billable RESTRoutes transactions", berr.message, 1, true)
    m:record(desc("RESTElevations"))
    _, berr = m:check(desc("RESTElevations"))
    assert.matches("budget of 2.5 billable transactions", berr.message, 1, true)
  end)

  it("never refuses non-billable transactions", function()
    local m = billing.meter(billing.check_budget{billable = 0}, "key")
    assert.is_true(m:check(desc("Route-DistanceMatrixAsyncCallback")))
    assert.is_true(m:check(billing.describe("RESTRoutes", session_account(0))))
    assert.is_nil((m:check(desc("RESTRoutes"))))
  end)

  it("counts reservations in flight as spent until released", function()
    local m = billing.meter(billing.check_budget{billable = 2}, "key")
    local d = desc("RESTRoutes")
    m:reserve(d)
    m:reserve(d)
    assert.is_nil((m:check(d)))
    m:release(d)
    assert.is_true(m:check(d))
    m:release(d)
    assert.same({billable = 0, categories = {}}, m:in_flight())
  end)

  it("resets the totals and the hint tallies", function()
    local m = billing.meter(nil, "key")
    m:record(desc("RESTRoutes"))
    m:reset()
    assert.same({billable = 0, non_billable = 0, requests = 0, categories = {}, hints = {}}, m:usage())
  end)
end)

describe("usage hints", function()
  it("says what a session key would have saved (footnote-3 rows, 25 per session)", function()
    local m = billing.meter(nil, "key")
    for _ = 1, 30 do m:record(desc_of("RESTRoutes")) end
    for _ = 1, 10 do m:record(billing.describe{category = "Route-DistanceMatrix", units = 4}) end
    local h = m:hints().session_key
    assert.equal(30, h.transactions)         -- the matrix is billable with a session key too
    assert.equal(25, h.saved_by_one_session) -- the first 25 requests were routes
    assert.equal(2, h.sessions_to_save_all)  -- 40 requests, 25 per session
    assert.matches("one session would have saved 25", h.message)
    assert.is_nil(m:hints().batch_geocode)
  end)

  it("counts only the footnote-3 requests among the first 25 as saved by one session", function()
    local m = billing.meter(nil, "key")
    for _ = 1, 20 do m:record(billing.describe{category = "Route-DistanceMatrix", units = 4}) end
    for _ = 1, 10 do m:record(desc_of("RestLocations-Unstructured")) end
    local h = m:hints().session_key
    assert.equal(10, h.transactions)
    assert.equal(5, h.saved_by_one_session)
  end)

  it("points many single geocodes to the batch geocode dataflow", function()
    local m = billing.meter(nil, "key")
    for i = 1, 49 do
      m:record(desc_of(({"RestLocations-Unstructured", "RestLocations-Structured",
                         "RESTLocations-Reverse"})[i % 3 + 1]))
    end
    assert.is_nil(m:hints().batch_geocode)
    m:record(desc_of("RestLocations-Unstructured"))
    local h = m:hints().batch_geocode
    assert.equal(50, h.requests)
    assert.equal(50, h.transactions)
    assert.matches("Dataflow:BatchGeocode", h.message)
    assert.matches("Spatial Data Services", h.message)
  end)

  it("with a session key, says how many came after the session's 25", function()
    local m = billing.meter(nil, "session")
    local a = billing.account(true)
    for _ = 1, 28 do
      local d = billing.describe("RESTRoutes", a)
      a:advance(d)
      m:record(d)
    end
    local u = m:usage()
    assert.equal(3, u.billable)
    assert.equal(25, u.non_billable)
    assert.is_nil(u.hints.session_key)
    assert.equal(3, u.hints.session_allowance.transactions)
  end)
end)

-- The client side: preflight, call_all, estimates, meta.billing, budgets, shared accounts.
-- Through a Lua transport (the emulator's ledger is in ledger_spec.lua).
describe("client billing", function()
  local client_mod = require "bing.client"
  local OK = cjson.encode{authenticationResultCode = "ValidCredentials", statusCode = 200,
    resourceSets = {{estimatedTotal = 0, resources = {}}}}

  local function transport(answers)
    local t = {sent = {}}
    t.fn = function(req)
      t.sent[#t.sent + 1] = req
      local a = answers and answers[math.min(#t.sent, #answers)]
      if a then return a end
      return {status = 200, headers = {}, body = OK}
    end
    return t
  end
  local function spec(cat, units)
    return {path = "/x", billing = units and {category = cat, units = units} or cat}
  end
  local function specs(n, cat)
    local list = {}
    for i = 1, n do list[i] = spec(cat or "RESTRoutes") end
    return list
  end
  local clock = {now = function() return 0 end, sleep = function() end}

  before_each(function() client_mod.reset_accounts() end)

  describe("client:preflight", function()
    it("prices the parts in order, and sends nothing", function()
      local t = transport()
      local c = bing.new{key = "k", transport = t.fn}
      local plan = assert(c:preflight{spec("RESTRoutes"), spec("Route-DistanceMatrix", 10),
                                      spec("Route-Truck")})
      assert.equal(0, #t.sent)
      assert.is_true(plan.dry_run)
      assert.is_true(plan.fits)
      assert.equal(3, plan.requests)
      assert.is_true(plan.split)
      assert.equal(1 + 3 + 3, plan.billing.transactions)
      local p = plan.parts
      assert.same({1, 3, 3}, {p[1].transactions, p[2].transactions, p[3].transactions})
      assert.equal(3, #plan.urls)
      assert.equal("https://dev.virtualearth.net/x?key=<redacted>", plan.url)
      assert.equal("GET", plan.calls[1].method)
    end)

    it("refuses the whole call when it does not fit the budget", function()
      local c = bing.new{key = "k", transport = transport().fn, budget = {billable = 2}}
      local plan, err = c:preflight(specs(3))
      assert.is_nil(plan)
      assert.equal("budget", err.kind)
      assert.equal(0, err.attempts)
      assert.equal(3, err.cost.transactions)
      assert.equal(3, err.cost.requests)
    end)

    it("still gives the plan of a call that does not fit on a dry run, with fits = false", function()
      local c = bing.new{key = "k", transport = transport().fn, budget = {billable = 2}}
      local plan = assert(c:preflight(specs(3), true))
      assert.is_false(plan.fits)
      assert.equal("budget", plan.budget_error.kind)
      assert.equal(3, plan.billing.transactions)
    end)

    it("prices a session key's 25th and 26th requests as the service will", function()
      local c = bing.new{session_key = "sess-1", transport = transport().fn}
      for _ = 1, 23 do assert(c:call(spec("RESTRoutes"))) end
      local plan = assert(c:preflight(specs(4)))
      assert.same({false, false, true, true}, {plan.parts[1].billable, plan.parts[2].billable,
                                               plan.parts[3].billable, plan.parts[4].billable})
      assert.equal(2, plan.billing.billable_transactions)
      assert.equal(2, plan.billing.non_billable_transactions)
      -- a plan does not use up the session
      assert.is_false(c:describe(spec("RESTRoutes")).billable)
    end)

    it("fails with kind auth without credentials, but still estimates on a dry run", function()
      local c = bing.new{key = "", transport = transport().fn}
      local ok = pcall(c.preflight, c, {})
      assert.is_false(ok)
      local _, err = c:preflight(specs(1))
      if err then assert.equal("auth", err.kind) end -- (BING_MAPS_KEY may be set in the environment)
      assert.is_true(c:preflight(specs(2), true).dry_run)
    end)
  end)

  describe("client:call_all", function()
    it("sends every part and sums their billing", function()
      local t = transport()
      local c = bing.new{key = "k", transport = t.fn}
      local docs, meta = assert(c:call_all{spec("RESTRoutes"), spec("RESTRoutes"), spec("Route-Truck")})
      assert.equal(3, #docs)
      assert.equal(3, #t.sent)
      assert.equal(5, meta.billing.transactions)
      assert.equal("RESTRoutes+Route-Truck", meta.billing.category)
      assert.equal(3, meta.attempts)
      assert.equal(3, meta.requests)
      assert.equal(3, #meta.parts)
    end)

    it("sends nothing when the whole call does not fit", function()
      local t = transport()
      local c = bing.new{key = "k", transport = t.fn, budget = {billable = 4}}
      assert(c:call(spec("RESTRoutes")))
      local docs, err = c:call_all(specs(4))
      assert.is_nil(docs)
      assert.equal("budget", err.kind)
      assert.equal(1, #t.sent)
      assert.equal(1, c:usage().billable)
    end)

    it("stops at the first failing part, and bills what the parts sent were billed", function()
      local t = transport{{status = 200, headers = {}, body = OK},
                          {status = 400, headers = {}, body = cjson.encode{statusCode = 400,
                            statusDescription = "Bad Request", errorDetails = {"bad"}}}}
      local c = bing.new{key = "k", transport = t.fn}
      local docs, err = c:call_all(specs(3))
      assert.is_nil(docs)
      assert.equal(2, #t.sent)
      assert.equal(2, err.part)
      assert.equal(3, err.parts)
      assert.equal(2, err.billing.transactions) -- the 200 and the 400 (both counted)
      assert.equal(2, c:usage().billable)
    end)

    it("returns the plan on a dry run", function()
      local t = transport()
      local plan = assert(bing.new{key = "k", transport = t.fn}:call_all(specs(2), true))
      assert.is_true(plan.dry_run)
      assert.equal(0, #t.sent)
    end)
  end)

  describe("estimates", function()
    it("bing.estimate and client:estimate are the call with dry_run = true", function()
      local t = transport()
      local c = bing.new{key = "k", transport = t.fn}
      local est = assert(bing.estimate(c, "locations", "find", {q = "Seattle"}))
      assert.is_true(est.dry_run)
      assert.same({category = "RestLocations-Unstructured", billable = true, transactions = 1}, est.billing)
      est = assert(c:estimate("locations", "find", {point = {47.6, -122.3}}))
      assert.equal("RESTLocations-Reverse", est.billing.category)
      assert.equal(0, #t.sent)
      local ok, err = pcall(c.estimate, c, "locations", "nope", {})
      assert.is_false(ok)
      assert.equal("argument", err.kind)
    end)

    it("does not change the meter or the session", function()
      local c = bing.new{session_key = "sess-2", transport = transport().fn}
      for _ = 1, 30 do assert(c:call{path = "/x", billing = "RESTRoutes", dry_run = true}) end
      assert.equal(0, c:usage().requests)
      assert.is_false(c:describe(spec("RESTRoutes")).billable)
    end)
  end)

  describe("meta.billing", function()
    it("is on every result: what the service counted for the request", function()
      local c = bing.new{key = "k", transport = transport().fn}
      local _, meta = assert(c:call(spec("Route-DistanceMatrix", 9)))
      assert.same({category = "Route-DistanceMatrix", billable = true, transactions = 3}, meta.billing)
    end)

    it("is on every error: nothing for a throttled or failed request, the count for a 400", function()
      local answers = {
        {status = 429, headers = {}, body = "{}"},
        {status = 503, headers = {}, body = "{}"},
        {status = 200, headers = {["x-ms-bm-ws-info"] = "1"},
         body = cjson.encode{statusCode = 200, resourceSets = {{estimatedTotal = 0, resources = {}}}}},
        {status = 400, headers = {},
         body = cjson.encode{statusCode = 400, statusDescription = "Bad Request"}},
        {status = 401, headers = {}, body = cjson.encode{statusCode = 401,
          authenticationResultCode = "InvalidCredentials"}},
      }
      local want = {0, 0, 0, 1, 0}
      for i, a in ipairs(answers) do
        local c = bing.new{key = "k", transport = transport{a}.fn, retry = false}
        local _, err = c:call(spec("RESTRoutes"))
        assert.equal("RESTRoutes", err.billing.category, i)
        assert.equal(want[i], err.billing.transactions, i)
        assert.equal(want[i], c:usage().billable, i)
      end
    end)

    it("is counted again for each attempt the service counted", function()
      -- a 408 in the service's envelope was handled (counted), and is retried on a GET
      local t = transport{{status = 408, headers = {}, body = cjson.encode{statusCode = 408,
        statusDescription = "Request Timeout"}}, {status = 200, headers = {}, body = OK}}
      local c = bing.new{key = "k", transport = t.fn, clock = clock, retry = {base = 0}}
      local _, meta = assert(c:call(spec("RESTRoutes")))
      assert.equal(2, meta.attempts)
      assert.equal(2, meta.billing.transactions)
      assert.equal(2, c:usage().billable)
    end)

    it("does not count a connection that timed out before the request left (libcurl)", function()
      -- A listener whose accept queue is full: the connect hangs until connect_timeout.
      -- libcurl 7.88 says "Failed to connect to ... after 300 ms: Timeout was reached".
      local port, unfill = require("support.faults").full_backlog()
      local c = bing.new{key = "k", base_url = "http://127.0.0.1:" .. port, connect_timeout = 0.3,
                         timeout = 5, retry = false}
      local _, err = c:call(spec("RESTRoutes"))
      unfill()
      c:close()
      assert.equal("timeout", err.kind)
      assert.is_false(err.sent)
      assert.equal(0, err.billing.transactions)
      assert.equal(0, c:usage().requests)
    end)

    it("does not count a transport error that says the request was never sent", function()
      local c = bing.new{key = "k", retry = false, transport = function()
        return nil, require("bing.errors").new("timeout", "timed out before the TLS handshake",
          {code = "CURLE_OPERATION_TIMEDOUT", retryable = true, sent = false})
      end}
      local _, err = c:call(spec("RESTRoutes"))
      assert.equal(0, err.billing.transactions)
      assert.equal(0, c:usage().requests)
    end)
  end)

  describe("budget through the client", function()
    it("refuses before sending, per category too, and says what it refused", function()
      local t = transport()
      local c = bing.new{key = "k", transport = t.fn, budget = {per_category = {["Route-Truck"] = 5}}}
      assert(c:call(spec("Route-Truck")))
      local _, err = c:call(spec("Route-Truck"))
      assert.equal("budget", err.kind)
      assert.equal(1, #t.sent)
      assert.equal(0, err.attempts)
      assert.equal("https://dev.virtualearth.net/x?key=<redacted>", err.url)
      assert(c:call(spec("RESTRoutes"))) -- other categories are not limited
    end)

    it("lets non-billable calls through a spent budget", function()
      local c = bing.new{key = "k", transport = transport().fn, budget = {billable = 0}}
      assert(c:call(spec("Route-TruckAsyncCallback")))
      assert.is_nil((c:call(spec("RESTRoutes"))))
    end)

    it("gives the reservation back whatever the outcome", function()
      local c = bing.new{key = "k", transport = transport{{status = 500, headers = {}, body = "{}"}}.fn,
                         budget = {billable = 1}, retry = false}
      assert.is_nil((c:call(spec("RESTRoutes"))))
      assert.equal(0, c.meter:in_flight().billable)
      local boom = bing.new{key = "k", budget = {billable = 1}, transport = function() error("boom") end}
      assert.is_false(pcall(boom.call, boom, spec("RESTRoutes")))
      assert.equal(0, boom.meter:in_flight().billable)
    end)

    it("does not retry past the budget when the failed attempt was counted", function()
      -- A 408 in the service's envelope is counted and retried on a GET: a second attempt would
      -- be a second transaction, over a budget of one.
      local t = transport{{status = 408, headers = {}, body = cjson.encode{statusCode = 408,
        statusDescription = "Request Timeout"}}, {status = 200, headers = {}, body = OK}}
      local c = bing.new{key = "k", transport = t.fn, clock = clock, retry = {base = 0},
                         budget = {billable = 1}}
      local doc, err = c:call(spec("RESTRoutes"))
      assert.is_nil(doc)
      assert.equal(1, #t.sent)
      assert.equal("timeout", err.kind)
      assert.equal(408, err.status)
      assert.equal("budget", err.gave_up)
      assert.equal("budget", err.budget_error.kind)
      assert.equal(1, err.billing.transactions)
      assert.equal(1, c:usage().billable)
      assert.equal(0, c.meter:in_flight().billable)
      -- With room for it, the retry goes.
      local t2 = transport{{status = 408, headers = {}, body = cjson.encode{statusCode = 408}},
                           {status = 200, headers = {}, body = OK}}
      local c2 = bing.new{key = "k", transport = t2.fn, clock = clock, retry = {base = 0},
                          budget = {billable = 2}}
      assert(c2:call(spec("RESTRoutes")))
      assert.equal(2, #t2.sent)
    end)
  end)

  describe("session keys across clients", function()
    it("share the session's 25 between every client of the key, and outlive them", function()
      local a = bing.new{session_key = "sess-3", transport = transport().fn}
      for _ = 1, 20 do assert(a:call(spec("RESTRoutes"))) end
      a = nil -- luacheck: ignore 311
      collectgarbage()
      local b = bing.new{session_key = "sess-3", transport = transport().fn}
      for _ = 1, 10 do assert(b:call(spec("RESTRoutes"))) end
      assert.same({billable = 5, non_billable = 5, requests = 10}, b:usage().categories.RESTRoutes)
      local other = bing.new{session_key = "sess-4", transport = transport().fn}
      assert.is_false(select(2, other:call(spec("RESTRoutes"))).billing.billable)
    end)

    it("count every category toward the 25, and bill non-footnote rows from the first", function()
      local c = bing.new{session_key = "sess-5", transport = transport().fn}
      for _ = 1, 24 do assert(c:call(spec("Route-DistanceMatrix", 4))) end
      local _, m25 = assert(c:call(spec("RESTRoutes")))
      local _, m26 = assert(c:call(spec("RESTRoutes")))
      assert.is_false(m25.billing.billable)
      assert.is_true(m26.billing.billable)
      local u = c:usage()
      assert.equal(24 + 1, u.billable)
      assert.equal(1, u.non_billable)
      assert.equal(1, u.hints.session_allowance.transactions)
    end)

    it("are not counted by throttled answers", function()
      local t = transport{{status = 429, headers = {}, body = "{}"}}
      local c = bing.new{session_key = "sess-6", transport = t.fn, retry = false}
      for _ = 1, 30 do c:call(spec("RESTRoutes")) end
      assert.equal(0, c:usage().requests)
      assert.is_false(c:describe(spec("RESTRoutes")).billable)
    end)
  end)

  describe("client:usage", function()
    it("gives totals, categories and hints, and resets on request", function()
      local c = bing.new{key = "k", transport = transport().fn}
      for _ = 1, 50 do assert(c.locations.find{q = "Seattle"}) end
      local u = c:usage{reset = true}
      assert.equal(50, u.billable)
      assert.equal(0, u.non_billable)
      assert.equal(50, u.requests)
      assert.same({billable = 50, non_billable = 0, requests = 50},
        u.categories["RestLocations-Unstructured"])
      assert.equal(50, u.hints.batch_geocode.requests)
      assert.equal(50, u.hints.session_key.transactions)
      assert.equal(25, u.hints.session_key.saved_by_one_session)
      assert.equal(2, u.hints.session_key.sessions_to_save_all)
      assert.same({billable = 0, non_billable = 0, requests = 0, categories = {}, hints = {}}, c:usage())
    end)
  end)
end)
