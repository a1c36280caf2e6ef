--- A token bucket that spaces requests to at most `qps` per second.
--
-- The bucket holds at most one token: requests are spaced evenly (1/qps apart) rather than
-- sent in a burst and then held back, which is what keeps a Bing key under its rate limit.
-- Every attempt, retries included, takes a token.
-- @module bing.ratelimit
local _M = {}

local Bucket = {}
Bucket.__index = Bucket

--- `clock` gives `now()` (seconds, monotonic) and `sleep(seconds)`.
function _M.new(qps, clock)
  if type(qps) ~= "number" or qps <= 0 then error("bing.new: qps must be a number > 0", 3) end
  return setmetatable({interval = 1 / qps, clock = clock, next_at = nil}, Bucket)
end

--- Waits until a request may be sent, then takes the token.
function Bucket:take()
  local now = self.clock.now()
  local at = self.next_at
  if at and at > now then
    self.clock.sleep(at - now)
    now = at
  end
  self.next_at = now + self.interval
end

return _M
