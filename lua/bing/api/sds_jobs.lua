--- The Spatial Data Services' dataflow jobs (geocode, load, download, rollback, publish):
-- their status answers, the pace of waiting, and the job kinds registered with bing.jobs.
-- @module bing.api.sds_jobs
local errors = require "bing.errors"
local jobs = require "bing.jobs"

local _M = {}

-- Pacing: a job's answers carry no "come back in" (callbackInSeconds), but a geocode job's
-- carry its counts. The next poll is when the job, at the rate its counts grew, should be
-- done; with no count to go by, the wait doubles from MIN_WAIT up to MAX_WAIT.
_M.MIN_WAIT, _M.MAX_WAIT = 0.5, 60
local pace = setmetatable({}, {__mode = "k"})

local toint = math.tointeger or function(x) return x end
local function num(v)
  local n = type(v) == "number" and v or tonumber(v)
  return n and (toint(n) or n)
end

local function next_wait(job, st)
  if not job then return nil end
  local client = jobs.client_of(job)
  local now = client.clock.now()
  local prev = pace[job]
  local wait
  local done, total = st.processed, st.total
  if prev and done and total and prev.processed and done > prev.processed and now > prev.t then
    local rate = (done - prev.processed) / (now - prev.t)
    wait = (total - done) / rate
  elseif prev then
    wait = prev.wait * 2
  else
    wait = 1
  end
  wait = math.max(_M.MIN_WAIT, math.min(_M.MAX_WAIT, wait))
  pace[job] = {t = now, processed = done, wait = wait}
  return wait
end

--- Reads a DataflowJob / DataServiceJob answer into a bing.jobs status: `status` (Bing's
-- word: Pending, Completed, Aborted, Accepted, Created), `processed`, `failed_count`,
-- `total`, `links` ({[name or role] = url}), `resource` (the job as the service sent it).
function _M.parse(doc, _, job)
  local r = jobs.first_resource(doc)
  if type(r) ~= "table" then
    return nil, nil, errors.new("decode", "dataflow job answer has no resource")
  end
  local word = type(r.status) == "string" and r.status or "Pending"
  local st = {
    id = type(r.id) == "string" and r.id or nil, status = word, accepted = word ~= "Aborted",
    completed = word == "Completed" or word == "Created", failed = word == "Aborted",
    message = type(r.errorMessage) == "string" and r.errorMessage or nil,
    processed = num(r.processedEntityCount), failed_count = num(r.failedEntityCount),
    total = num(r.totalEntityCount), links = {}, resource = r,
  }
  if st.failed and not st.message then st.message = "the job was aborted" end
  for _, l in ipairs(type(r.links) == "table" and r.links or {}) do
    if type(l) == "table" and type(l.url) == "string" then
      st.links[l.name or l.role or "self"] = l.url
    end
  end
  -- The result is read from the links of this answer by the kind's decode (several files).
  st.inline = st.completed
  st.callback_in = not st.completed and next_wait(job, st) or nil
  return st
end

--- A job kind of the dataflows. `status` = function(id) -> path, segments (the status URL).
function _M.kind(kind, desc)
  local status = desc.status
  jobs.register(kind, {
    name = desc.name, aliases = desc.aliases, parse = _M.parse, decode = desc.decode,
    status_spec = function(id)
      local path, segments = status(id)
      return {api = "sds", path = path, segments = segments, billing = "Dataflow:Get",
              method = "GET", answer = "dataflow"}
    end,
  })
end

--- Downloads one output link of a completed job (billing its category), noting the cost on
-- the job. Returns the text, meta or nil, err.
function _M.download(job, url, billing)
  local client = jobs.client_of(job)
  local spec = jobs.url_spec(client, url, billing)
  if not spec or spec.keyless then
    return nil, errors.new("job", "job " .. tostring(job.id) .. ": the output link is not on the "
      .. "Spatial Data Services host (" .. jobs.redact_url(url) .. ")", {code = "JobNoResult"})
  end
  spec.raw, spec.answer = true, "text"
  local text, meta = client:call(spec)
  jobs.note(job, meta)
  if not text then return nil, meta end
  if type(text) == "table" then text = text.text or text.body or "" end
  return text, meta
end

--- Several jobs of one call (a list of entities over the per-job limit), waited for and
-- merged as one: `group:wait{}`, `group:poll()`, `group:result()`, `group.jobs`, `group.ids`.
local Group = {}
Group.__index = Group
_M.Group = Group

--- The Group of the jobs in `list`; `merge(results, group)` makes one result of theirs.
function _M.group(list, merge)
  local ids = {}
  for i, j in ipairs(list) do ids[i] = j.id end
  return setmetatable({jobs = list, ids = ids, id = table.concat(ids, ","), kind = list[1].kind,
                       merge = merge}, Group)
end

--- Polls every job not done yet; returns the list of their statuses, or nil, err.
function Group:poll()
  local out = {}
  for i, j in ipairs(self.jobs) do
    if not j:done() then
      local st, err = j:poll()
      if not st then return nil, err end
    end
    out[i] = j.status
  end
  return out
end

--- Whether every job is done.
function Group:done()
  for _, j in ipairs(self.jobs) do if not j:done() then return false end end
  return true
end

--- Waits for each job in turn (`opts` as Job:wait's) and merges their results; an error
-- says which job (`err.part`).
function Group:wait(opts)
  local results = {}
  for i, j in ipairs(self.jobs) do
    local res, err = j:wait(opts)
    if not res then err.part = i; return nil, err end
    results[i] = res
  end
  return self.merge(results, self)
end

--- The merged results of jobs that are done, or nil, err.
function Group:result()
  local results = {}
  for i, j in ipairs(self.jobs) do
    local res, err = j:result()
    if not res then return nil, err end
    results[i] = res
  end
  return self.merge(results, self)
end

function Group:__tostring()
  return string.format("bing.job group %s (%d jobs)", self.kind, #self.jobs)
end

return _M
