--- A token bucket that spaces requests to at most `qps` per second.
--
-- The bucket holds at most one token: requests are spaced evenly, 1/qps apart, rather than
-- sent in a burst and then held back (a limiter that starts every request before it limits,
-- as the official toolkit's does, does not keep a key under its rate limit). Every attempt,
-- retries included, takes a token.
--
-- The slots live in a store (bing.store): the bucket's own `store.memory()`, or a store
-- shared by every bucket of it (other clients, nginx workers, machines on one clock), which
-- then share one spacing. store:take gives each request its own slot, 1/qps after the slot
-- before it (whoever took that one), and the request waits for it.
-- @module bing.ratelimit
local errors = require "bing.errors"
local store_mod = require "bing.store"

local _M = {}

local Bucket = {}
Bucket.__index = Bucket

-- The key of the slots in a store (bing.store).
_M.STORE_KEY = "qps"

--- `clock` gives `now()` (seconds, monotonic) and `sleep(seconds)`; `store` (bing.store)
-- holds the slots, shared with every bucket of that store (default: a store of its own).
function _M.new(qps, clock, store)
  if type(qps) ~= "number" or qps ~= qps or qps <= 0 or qps == math.huge then
    errors.raise("bing.new: qps must be a number > 0", 4)
  end
  return setmetatable({qps = qps, interval = 1 / qps, clock = clock,
                       store = store or store_mod.memory()}, Bucket)
end

--- Waits until a request may be sent, then takes the token. Returns the seconds waited.
function Bucket:take()
  local clock, store = self.clock, self.store
  local now = clock.now()
  local at = store:take(_M.STORE_KEY, self.interval, now)
  local waited, guard = 0, 0
  -- A sleep may end early (a signal, a coarse timer): wait again until the time has come.
  while at > now and guard < 100 do
    clock.sleep(at - now)
    local after = clock.now()
    waited = waited + (after - now)
    now = after
    guard = guard + 1
  end
  -- A late wake-up (read on the clock after sleeping) moves the next free slot to 1/qps after
  -- the moment this request really leaves, so it never shortens the next gap: take with no
  -- interval at `now + interval` makes the slot at least that, and leaves a later one alone
  -- (slots other workers already hold cannot be moved).
  if now > at then store:take(_M.STORE_KEY, 0, now + self.interval) end
  return waited
end

--- Seconds until the next request may be sent (0 when it may go now).
function Bucket:wait_time()
  local at = self.store:get(_M.STORE_KEY)
  if not at then return 0 end
  return math.max(0, at - self.clock.now())
end

return _M
