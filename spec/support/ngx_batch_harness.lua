-- The handler of spec/ngx_batch_spec.lua inside nginx: GET /batch?n=&c=&delay=&fail=&budget=
-- runs client:batch over n geocodes ("Item 1".."Item n") with concurrency c through the
-- cosocket transport (bing.ngx_transport.options), each request delayed `delay` seconds by
-- the emulator; item `fail` raises in fn, and `budget` sets a billable budget. Answers JSON:
-- {results = {{ok=, q=, kind=, code=}...}, progress = {done...}, summary = {...},
-- mode = "ngx.thread" | "other"}.
local bing = require "bing"
local cjson = require "cjson.safe"
local core = require "bing.core"
local ngx_transport = require "bing.ngx_transport"

local _M = {}

function _M.handle()
  local a = ngx.req.get_uri_args()
  local n, conc = tonumber(a.n) or 8, tonumber(a.c) or 4
  local c = bing.new(ngx_transport.options{
    key = os.getenv("BING_MAPS_KEY"), base_url = os.getenv("BING_BASE_URL"),
    budget = a.budget and {billable = tonumber(a.budget)} or nil,
    headers = a.delay and {["X-Bingsim-Fault"] = "delay;seconds=" .. a.delay} or nil,
  })
  local items = {}
  for i = 1, n do items[i] = "Item " .. i end
  local fail = tonumber(a.fail)
  local progress, threads = {}, {}
  local out, sum = c:batch(items, function(cl, q, i)
    -- Which light thread runs the item: the batch's own ngx.threads, not the request's.
    threads[coroutine.running()] = true
    if i == fail then error("raised in item " .. i) end
    local locs, err = cl.locations.find{q = q}
    return locs and {q = q} or nil, err
  end, {concurrency = conc, on_progress = function(p) progress[#progress + 1] = p.done end})
  local results = {}
  for i = 1, out.n do
    local r = out[i]
    if core.is_error(r) then
      -- Whether the traceback of a raise in fn names fn's own file (where it raised).
      results[i] = {ok = false, kind = r.kind, code = r.code,
                    traceback = type(r.traceback) == "string"
                      and r.traceback:find("ngx_batch_harness", 1, true) ~= nil or nil}
    else
      results[i] = {ok = true, q = r.q}
    end
  end
  local nthreads = 0
  for _ in pairs(threads) do nthreads = nthreads + 1 end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode{results = results, progress = progress, threads = nthreads,
                       summary = {done = sum.done, failed = sum.failed, total = sum.total},
                       billable = c:usage().billable})
end

return _M
