--- A token bucket that spaces requests to at most `qps` per second.
--
-- The bucket holds at most one token: requests are spaced evenly, 1/qps apart, rather than
-- sent in a burst and then held back (a limiter that starts every request before it limits,
-- as the official toolkit's does, does not keep a key under its rate limit). Every attempt,
-- retries included, takes a token, and the spacing is measured from the moment each request
-- was let go, read on the clock after sleeping, so a late wake-up never shortens the next gap.
-- @module bing.ratelimit
local errors = require "bing.errors"

local _M = {}

local Bucket = {}
Bucket.__index = Bucket

-- The key of the slots in a store (bing.store).
_M.STORE_KEY = "qps"

--- `clock` gives `now()` (seconds, monotonic) and `sleep(seconds)`. With a `store`
-- (bing.store), the slots are taken in the store: every bucket of that store (other clients,
-- nginx workers, machines on one clock) shares one spacing.
function _M.new(qps, clock, store)
  if type(qps) ~= "number" or qps ~= qps or qps <= 0 or qps == math.huge then
    errors.raise("bing.new: qps must be a number > 0", 4)
  end
  return setmetatable({qps = qps, interval = 1 / qps, clock = clock, next_at = nil,
                       store = store}, Bucket)
end

-- A shared bucket: store:take gives this request its own slot, 1/qps after the slot before
-- it (whichever worker took that one), and the request waits for it. The slots, not the
-- moments the requests leave, are spaced: a worker that wakes late for its slot leaves less
-- than 1/qps before the next slot (the store cannot move a slot another worker holds).
local function take_shared(self)
  local clock = self.clock
  local now = clock.now()
  local at = self.store:take(_M.STORE_KEY, self.interval, now)
  local waited, guard = 0, 0
  while at > now and guard < 100 do
    clock.sleep(at - now)
    local after = clock.now()
    waited = waited + (after - now)
    now = after
    guard = guard + 1
  end
  return waited
end

--- Waits until a request may be sent, then takes the token. Returns the seconds waited.
function Bucket:take()
  if self.store then return take_shared(self) end
  local clock = self.clock
  local now = clock.now()
  local at = self.next_at
  local waited = 0
  -- A sleep may end early (a signal, a coarse timer): wait again until the time has come.
  local guard = 0
  -- next_at is read again after each sleep: with a clock that yields (ngx.sleep under
  -- OpenResty) other requests of the same client may have taken the slot meanwhile.
  while at and at > now and guard < 100 do
    clock.sleep(at - now)
    local after = clock.now()
    waited = waited + (after - now)
    now = after
    guard = guard + 1
    at = self.next_at
  end
  self.next_at = now + self.interval
  return waited
end

--- Seconds until the next request may be sent (0 when it may go now).
function Bucket:wait_time()
  local at = self.next_at
  if self.store then at = self.store:get(_M.STORE_KEY) end
  if not at then return 0 end
  return math.max(0, at - self.clock.now())
end

return _M
