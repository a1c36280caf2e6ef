-- A clock for the client's `clock` option: time only moves when the client sleeps, and every
-- sleep is recorded, so retry and rate-limit specs check delays without ever timing anything.
return function()
  local c = {t = 0, sleeps = {}}
  c.now = function() return c.t end
  c.sleep = function(s)
    c.sleeps[#c.sleeps + 1] = s
    c.t = c.t + s
  end
  return c
end
