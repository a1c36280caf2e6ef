-- Async jobs for the emulated APIs that answer "accepted, poll later" (the Routes async
-- APIs, the Spatial Data Services dataflows). A job is a JSON blob in
-- ngx.shared.bingsim_jobs; POST /_sim/reset clears them.
--
--   local job = jobs.create{kind = "matrix", delay = 2, data = {...}}
--   job.id                 -- GUID-shaped, deterministic (a counter)
--   jobs.get(id)           -- the job, with job.done = (now >= job.ready_at), or nil
--   jobs.update(id, {...}) -- merges fields, returns the job
local json = require "bingsim.json"

local _M = {_VERSION = "0.1.0"}

-- Seconds a job takes when the creator does not say.
_M.DEFAULT_DELAY = 1

local function dict() return ngx.shared.bingsim_jobs end

local function guid(n)
  local h = ngx.md5("bingsim-job:" .. n)
  return string.format("%s-%s-%s-%s-%s", h:sub(1, 8), h:sub(9, 12), h:sub(13, 16),
    h:sub(17, 20), h:sub(21, 32))
end

function _M.create(t)
  t = t or {}
  local n = ngx.shared.bingsim_state:incr("job_id", 1, 0)
  ngx.update_time()
  local now = ngx.now()
  local job = {id = guid(n), n = n, kind = t.kind, created = now,
    ready_at = now + (t.delay or _M.DEFAULT_DELAY), data = t.data, key_label = t.key_label}
  local ok, err = dict():set("job:" .. job.id, json.encode(job))
  if not ok then return nil, err end
  return job
end

function _M.get(id)
  local s = dict():get("job:" .. tostring(id))
  if not s then return nil end
  local job = json.decode(s)
  if not job then return nil end
  ngx.update_time()
  job.done = ngx.now() >= (job.ready_at or 0)
  return job
end

function _M.update(id, fields)
  local job = _M.get(id)
  if not job then return nil, "no such job" end
  for k, v in pairs(fields) do job[k] = v end
  job.done = nil
  dict():set("job:" .. job.id, json.encode(job))
  return job
end

function _M.reset() dict():flush_all(); dict():flush_expired() end

return _M
