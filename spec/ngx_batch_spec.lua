-- client:batch inside a real nginx: the items run as ngx.threads over the cosocket transport
-- (bing.ngx_transport marks its transport as one that yields). A private nginx runs the
-- OpenResty example's config plus /batch (spec/support/ngx_batch_harness.lua), pointed at the
-- emulator; the spec checks the answers and what reached the emulator: order, failures in
-- place, requests overlapping at the emulator up to the concurrency and never more, the
-- budget held.
-- Run through `make test`, or after `eval "$(sim/bingsim start)"` and `make LUA=luajit`.
local cjson = require "cjson"
local sim = require "support.sim"
local ngx_server = require "support.ngx_server"
local replace_once = ngx_server.replace_once

local LOCATIONS = "/REST/v1/Locations"

local function derive(conf, port)
  conf = replace_once(conf, "/examples/openresty/?.lua;",
    "/examples/openresty/?.lua;" .. ngx_server.ROOT .. "/spec/support/?.lua;")
  -- One worker: the threads of one request, on one worker's event loop.
  conf = replace_once(conf, "worker_processes 2;", "worker_processes 1;")
  conf = replace_once(conf, "listen 127.0.0.1:8080;", "listen 127.0.0.1:" .. port .. ";")
  conf = replace_once(conf, "        location = /geocode {\n", [[
        location = /batch {
            content_by_lua_block { require("ngx_batch_harness").handle() }
        }

        location = /geocode {
]])
  return conf
end

local peak = sim.peak

describe("client:batch under OpenResty (ngx.thread over cosockets)", function()
  local srv

  setup(function() srv = ngx_server.start(derive) end)
  teardown(function() if srv then srv:stop() end end)
  before_each(function()
    sim.settle(10)
    sim.reset()
  end)

  local function batch(query)
    local conn = srv:connect()
    local status, body = conn:get("/batch?" .. query)
    conn:close()
    assert.equal(200, status, body)
    return cjson.decode(body)
  end

  it("runs the items in `concurrency` threads, results in order, failures in place", function()
    local since = sim.last_id()
    local r = batch("n=12&c=4&delay=0.2&fail=5")
    assert.equal(12, #r.results)
    for i = 1, 12 do
      if i == 5 then
        assert.same({ok = false, kind = "argument", code = "Raised", traceback = true}, r.results[i])
      else
        assert.same({ok = true, q = "Item " .. i}, r.results[i])
      end
    end
    assert.same({done = 12, failed = 1, total = 12}, r.summary)
    assert.same({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, r.progress)
    assert.equal(4, r.threads)
    sim.settle(10)
    local list = sim.entries(LOCATIONS, since)
    assert.equal(11, #list)
    local p = peak(list)
    assert.is_true(p >= 2, "peak in flight " .. p)
    assert.is_true(p <= 4, "peak in flight " .. p)
  end)

  it("lets exactly `budget` billable requests reach the emulator", function()
    local since = sim.last_id()
    local r = batch("n=10&c=5&delay=0.1&budget=3")
    local ok, refused = 0, 0
    for i = 1, 10 do
      if r.results[i].ok then ok = ok + 1 else
        assert.equal("budget", r.results[i].kind)
        refused = refused + 1
      end
    end
    assert.equal(3, ok)
    assert.equal(7, refused)
    assert.equal(3, r.billable)
    sim.settle(10)
    assert.equal(3, #sim.entries(LOCATIONS, since))
  end)
end)
