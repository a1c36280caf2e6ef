-- routes.optimize (multi-itinerary optimization) against the emulator.
local cjson = require "cjson"
local socket = require "socket"
local sim = require "support.sim"
local client, last_id = sim.client, sim.last_id
local assert_refused = sim.assert_refused

local START = {47.694117204371, -122.378188970181}
local FINISH = {47.7070790545669, -122.355226696231}

local function agent(name, shifts)
  local list = {}
  for i = 1, shifts or 1 do
    list[i] = {startTime = string.format("2018-12-%02dT08:00:00", 10 + i), startLocation = START,
               endTime = string.format("2018-12-%02dT18:00:00", 10 + i), endLocation = FINISH}
  end
  return {name = name, shifts = list}
end

-- The reference's five items (optimized-itinerary.md), named.
local function items(n)
  local base = {
    {"01:31:08.3850000", {47.692290770423, -122.385954752402}, 5},
    {"01:00:32.6770000", {47.6798098928389, -122.383036445391}, 88},
    {"01:18:33.1900000", {47.6846639223203, -122.364839942855}, 1},
    {"01:04:48.7630000", {47.6867440824094, -122.354711700877}, 3},
    {"02:34:48.5430000", {47.6962193175262, -122.342180147243}, 16},
  }
  local out = {}
  for i = 1, n or 5 do
    local b = base[(i - 1) % #base + 1]
    out[i] = {name = "loc" .. i, openingTime = "2018-12-11T09:00:00", closingTime = "2018-12-11T18:00:00",
              dwellTime = i > 5 and "00:10:00" or b[1], location = {b[2][1] + i * 1e-4, b[2][2]},
              priority = b[3]}
  end
  return out
end

describe("routes.optimize", function()
  -- Faults or jobs left by other spec files must not leak in.
  setup(function() sim.reset() end)

  local c
  before_each(function() c = client() end)

  it("sends no breaks for a shift with an empty list of breaks (lua-cjson would write {})", function()
    local a = agent("agentX")
    a.shifts[1].breaks = {}
    assert(c.routes.optimize{agents = {a}, items = items(2)})
    local body = sim.last_request().body
    assert.is_nil(body:find('"breaks":{}', 1, true))
    assert.is_nil(cjson.decode(body).agents[1].shifts[1].breaks)
  end)

  it("posts agents and items, and decodes the agent's itinerary", function()
    local it = assert(c.routes.optimize{agents = {agent("agentX")}, items = items(5)})
    local req = sim.last_request()
    assert.equal("POST", req.method)
    assert.equal("/REST/V1/Routes/OptimizeItinerary", req.path)
    local body = cjson.decode(req.body)
    assert.equal("agentX", body.agents[1].name)
    assert.equal(START[1], body.agents[1].shifts[1].startLocation.latitude)
    assert.equal(5, #body.itineraryItems)
    assert.equal("01:31:08.3850000", body.itineraryItems[1].dwellTime)
    assert.equal("Routes-OptimizeItinerary", it.meta.billing.category)
    assert.equal(5, it.meta.billing.transactions) -- 1 agent x 5 items
    assert.is_nil(req.body:find("breaks", 1, true))
    local ai = assert(it:agent("agentX"))
    local ins = ai.instructions
    assert.equal("LeaveFromStartPoint", ins[1].instructionType)
    assert.equal("ArriveToEndPoint", ins[#ins].instructionType)
    assert.equal(it:scheduled_count(), #it:visits("agentX"))
    assert.is_true(it:scheduled_count() >= 4)
    -- The highest priority goes first.
    assert.equal("loc2", it:visits("agentX")[1])
    assert.equal(5, it:scheduled_count() + #it.unscheduledItems)
    assert.is_number(ai.route.totalTravelDistance)
  end)

  it("sends type, roadnetwork and costvalue", function()
    assert(c.routes.optimize{agents = {agent("a")}, items = items(2), type = "TrafficRequest",
                             roadnetwork = false, costvalue = "Distance"})
    local q = sim.last_request().query
    assert.equal("TrafficRequest", q.type)
    assert.equal("false", q.roadnetwork)
    assert.equal("Distance", q.costvalue)
  end)

  it("uses the GET syntax when asked", function()
    local its = items(2)
    for _, x in ipairs(its) do x.name = nil end
    local it = assert(c.routes.optimize{agents = {agent("agentX", 2)}, items = its, method = "GET"})
    local q = sim.last_request().query
    assert.equal("GET", sim.last_request().method)
    assert.equal("agentX_2018-12-11T08:00:00|47.6941172,-122.378189|2018-12-11T18:00:00|47.7070791,"
      .. "-122.3552267_2018-12-12T08:00:00|47.6941172,-122.378189|2018-12-12T18:00:00|"
      .. "47.7070791,-122.3552267",
      q.itineraryAgents)
    assert.matches("^2018%-12%-11T09:00:00_2018%-12%-11T18:00:00_01:31:08%.3850000_47%.69", q.itineraryItems)
    assert.is_true(it:scheduled_count() >= 1)
  end)

  it("takes a break and respects dropOffFrom", function()
    local a = agent("agentX")
    a.shifts[1].startTime, a.shifts[1].endTime = "2018-12-11T08:00:00", "2018-12-11T18:00:00"
    a.shifts[1].breaks = {{startTime = "2018-12-11T12:00:00", endTime = "2018-12-11T14:00:00",
      duration = "00:30:00"}}
    local its = items(3)
    its[2].priority = 100
    its[2].dropOffFrom = {"loc3"}
    local it = assert(c.routes.optimize{agents = {a}, items = its})
    local types = {}
    for _, ins in ipairs(it:agent("agentX").instructions) do types[ins.instructionType] = true end
    assert.is_true(types.TakeABreak)
    local visits = it:visits("agentX")
    local pos = {}
    for i, n in ipairs(visits) do pos[n] = i end
    assert.is_true(pos.loc3 < pos.loc2)
  end)

  it("goes asynchronous by itself beyond 5 shifts, and the completed status is the result", function()
    local c2 = client{headers = {["X-Bingsim-Job-Delay"] = "0.2"},
                      clock = {now = socket.gettime, sleep = function() socket.sleep(0.1) end}}
    local since = last_id()
    local it = assert(c2.routes.optimize{agents = {agent("a", 3), agent("b", 3)}, items = items(4)})
    local log = sim.log(since)
    assert.equal("/REST/V1/Routes/OptimizeItineraryAsync", log[1].path)
    assert.equal("/REST/v1/Routes/OptimizeItineraryAsyncCallback", log[#log].path)
    assert.is_nil(log[#log].query.DownloadResult)
    assert.is_true(it.meta.async)
    assert.equal(4, it:scheduled_count() + #it.unscheduledItems)
    assert.equal(8, it.meta.created.billing.transactions)
  end)

  it("returns a job with async = true, which resumes from its id", function()
    local c2 = client{headers = {["X-Bingsim-Job-Delay"] = "0"}}
    local job = assert(c2.routes.optimize{agents = {agent("a")}, items = items(3), async = true})
    assert.equal("optimize", job.kind)
    local it = assert(client().routes.job(job.id, "optimize"):wait{timeout = 10})
    assert.equal(3, it:scheduled_count() + #it.unscheduledItems)
  end)
end)

describe("routes.optimize limits", function()
  local c
  before_each(function() c = client{account = "basic", headers = {["X-Bingsim-Account"] = "basic"}} end)

  local cases = {
    {"4 agents on a Basic account", function() return {agents = {agent("a"), agent("b"), agent("c"),
      agent("d")},
                                                       items = items(2)} end},
    {"21 items on a Basic account", function() return {agents = {agent("a")}, items = items(21)} end},
    {"6 shifts synchronously", function() return {agents = {agent("a", 6)}, items = items(2),
      async = false} end},
    {"8 shifts for one agent (Basic: 7)", function() return {agents = {agent("a", 8)}, items = items(2)} end},
    {"a priority of 101", function()
      local its = items(1)
      its[1].priority = 101
      return {agents = {agent("a")}, items = its}
    end},
    {"dropOffFrom naming no item", function()
      local its = items(2)
      its[1].dropOffFrom = {"nowhere"}
      return {agents = {agent("a")}, items = its}
    end},
    {"two items with one name", function()
      local its = items(2)
      its[2].name = its[1].name
      return {agents = {agent("a")}, items = its}
    end},
    {"a time that is not ISO", function()
      local its = items(1)
      its[1].openingTime = "12/11/2018 09:00"
      return {agents = {agent("a")}, items = its}
    end},
    {"a shift ending before it starts", function()
      local a = agent("a")
      a.shifts[1].endTime = "2018-12-11T07:00:00"
      return {agents = {a}, items = items(1)}
    end},
    {"GET with a capacity", function()
      local a = agent("a")
      a.capacity = {10}
      local its = items(1)
      its[1].name = nil
      return {agents = {a}, items = its, method = "GET"}
    end},
    {"GET with '_' in a shift address (the GET syntax's separator)", function()
      local a = agent("a")
      a.shifts[1].endLocation = nil
      a.shifts[1].endAddress = "Depot_2, Seattle, WA"
      local its = items(1)
      its[1].name = nil
      return {agents = {a}, items = its, method = "GET"}
    end},
    {"GET with ';' in an item address", function()
      local its = items(1)
      its[1].name, its[1].location, its[1].address = nil, nil, "1 Main St; Suite 2, Seattle, WA"
      return {agents = {agent("a")}, items = its, method = "GET"}
    end},
  }
  for _, case in ipairs(cases) do
    it("refuses " .. case[1] .. " before sending", function()
      assert_refused(function() return c.routes.optimize(case[2]()) end)
    end)
  end

  it("takes the Enterprise limits by default: 21 items are not refused before sending", function()
    local since = last_id()
    local plan = assert(client().routes.optimize{agents = {agent("a", 2)}, items = items(21),
                                                 dry_run = true})
    assert.equal(1, plan.requests)
    assert.equal(0, #sim.log(since))
    local _, err = client{account = "basic"}.routes.optimize{agents = {agent("a", 2)},
                                                             items = items(21), dry_run = true}
    assert.equal("argument", err.kind)
  end)

  it("lets an Enterprise account send 21 items (asynchronously)", function()
    local c2 = client{account = "enterprise", headers = {["X-Bingsim-Account"] = "enterprise",
                                                          ["X-Bingsim-Job-Delay"] = "0"},
                      clock = {now = socket.gettime, sleep = function() socket.sleep(0.05) end}}
    local it = assert(c2.routes.optimize{agents = {agent("a", 2)}, items = items(21)})
    assert.is_true(it.meta.async)
    assert.equal(21, it:scheduled_count() + #it.unscheduledItems)
  end)

  it("raises on unknown fields and missing arguments", function()
    assert.has_error(function() c.routes.optimize{agents = {agent("a")}} end)
    assert.has_error(function()
      local a = agent("a")
      a.vehicle = "van"
      c.routes.optimize{agents = {a}, items = items(1)}
    end)
    assert.has_error(function()
      local its = items(1)
      its[1].location = nil
      c.routes.optimize{agents = {agent("a")}, items = its}
    end)
  end)

  it("is answered 400 by the emulator for 4 agents and for 6 synchronous shifts", function()
    local function body(agents, n)
      local its = items(n)
      local b = {agents = {}, itineraryItems = {}}
      for i, a in ipairs(agents) do
        b.agents[i] = {name = a.name, shifts = {}}
        for k, s in ipairs(a.shifts) do
          b.agents[i].shifts[k] = {startTime = s.startTime, endTime = s.endTime,
            startLocation = {latitude = START[1], longitude = START[2]},
            endLocation = {latitude = FINISH[1], longitude = FINISH[2]}}
        end
      end
      for i, x in ipairs(its) do
        b.itineraryItems[i] = {name = x.name, openingTime = x.openingTime, closingTime = x.closingTime,
          dwellTime = x.dwellTime, priority = x.priority,
          location = {latitude = x.location[1], longitude = x.location[2]}}
      end
      return b
    end
    local doc, err = c:call{api = "rest", path = "/REST/V1/Routes/OptimizeItinerary", method = "POST",
      body = body({agent("a"), agent("b"), agent("c"), agent("d")}, 2),
      billing = {category = "Routes-OptimizeItinerary", units = 8}}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    doc, err = c:call{api = "rest", path = "/REST/V1/Routes/OptimizeItinerary", method = "POST",
      body = body({agent("a", 6)}, 2), billing = {category = "Routes-OptimizeItinerary", units = 2}}
    assert.is_nil(doc)
    assert.equal(400, err.status)
    assert.matches("asynchronous", err.message)
  end)
end)

describe("routes optimize time checks", function()
  local before = require("bing.api.routes")._before

  it("orders ISO times by the instant, across offsets", function()
    assert.is_true(before("2024-06-03T08:00:00-07:00", "2024-06-03T16:00:00Z"))
    assert.is_false(before("2024-06-03T16:00:00+01:00", "2024-06-03T08:00:00-07:00"))
    assert.is_false(before("2024-06-03T08:00:00-07:00", "2024-06-03T15:00:00Z")) -- same instant
    assert.is_true(before("2024-02-28T23:00:00", "2024-02-29T01:00:00"))        -- leap day
    assert.is_true(before("2023-12-31T23:59:59", "2024-01-01T00:00:00"))
    assert.is_true(before("2024-06-03T9:00:00", "2024-06-03T10:00:00"))         -- one-digit hour
  end)

  it("does not order a wall-clock time against one with an offset", function()
    assert.is_nil(before("2024-06-03T08:00:00", "2024-06-03T08:00:00Z"))
  end)
end)
