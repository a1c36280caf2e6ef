--- Asynchronous jobs: one helper for every API that answers "accepted, come back later".
--
--     local job = assert(client.routes.matrix{origins = o, startTime = t, async = true})
--     print(job.id)                                  -- keep it: the job survives a restart
--     local m, err = job:wait{timeout = 600, on_progress = function(st) print(st.callback_in) end}
--     -- after a crash: client:job(id, "matrix"):wait()
--
-- A job kind is registered once (`jobs.register`, by bing.endpoint from the `async` field of
-- an endpoint declaration; `client:job(id, kind)` loads the families to find it) with how to
-- ask for its status, how to read a status answer, and how to decode the result; the Routes
-- APIs (truck routes, distance
-- matrices, isochrones, snap to road, itinerary optimization) use the default status reader
-- (RouteProxyAsyncResult, asynchronous-requests.md) and the Spatial Data Services can register
-- their own (dataflow jobs have `status` and `links` instead). Every request goes through
-- `client:call`, so status checks are metered under their own, non-billable, categories
-- (`Route-TruckAsyncCallback`, ...), and retries, budgets and QPS limits apply to them too.
--
-- A status is normalized to `{id=, accepted=, completed=, failed=, callback_in=, message=,
-- resource=, meta=}`; `resource` is the answer's resource with any key in its URLs redacted
-- (the service echoes the caller's key in `callbackUrl` and `resultUrl`); `meta` is the meta of
-- the status request (`meta.billing`: an `*AsyncCallback` category, not billable).
-- @module bing.jobs
local core = require "bing.core"
local errors = require "bing.errors"
local billing_rows = require "bing.billing"

local _M = {}

local KINDS = {}
_M.KINDS = KINDS

-- Default bounds of one wait between polls, in seconds.
_M.DEFAULT_INTERVAL = 1
_M.MAX_INTERVAL = 60
_M.DEFAULT_TIMEOUT = 300

--- Registers a job kind. `desc` fields:
--   `name`         words for messages ("truck route");
--   `status_spec`  function(id) -> request spec of one status check (billing included);
--   `parse`        function(doc) -> status (optional; default `jobs.async_status`);
--   `result_spec`  function(job, status, url) -> request spec of the result download
--                  (optional; default: `url` turned into a spec, see `jobs.url_spec`);
--   `result_billing`  billing of the default result download;
--   `decode`       function(doc, meta, job) -> result, or nil, err.
-- Aliases (other names for the same kind) may be given as a list in `aliases`.
function _M.register(kind, desc)
  assert(type(desc.status_spec) == "function", "jobs.register: status_spec is required")
  assert(type(desc.decode) == "function", "jobs.register: decode is required")
  desc.kind = kind
  KINDS[kind:lower()] = desc
  for _, a in ipairs(desc.aliases or {}) do KINDS[a:lower()] = desc end
  return desc
end

--- The registered kind named `kind` (case-insensitive), or nil.
function _M.kind(kind)
  return type(kind) == "string" and KINDS[kind:lower()] or nil
end

-- Replaces the value of every `key=` parameter in a URL (the service echoes the key).
local function redact_url(s)
  if type(s) ~= "string" then return s end
  return (core.redact(s, nil))
end
_M.redact_url = redact_url

local function first_resource(doc)
  local sets = type(doc) == "table" and doc.resourceSets
  local set = type(sets) == "table" and sets[1]
  local res = type(set) == "table" and set.resources
  return type(res) == "table" and res[1] or nil
end
_M.first_resource = first_resource

--- Reads a RouteProxyAsyncResult / DistanceMatrixAsyncStatus answer (or, for itinerary
-- optimization, the completed result itself, which carries `isCompleted`).
-- Returns a status and, separately, the result URL (with its key, for the download only).
function _M.async_status(doc)
  local r = first_resource(doc)
  if type(r) ~= "table" then
    return nil, nil, errors.new("decode", "asynchronous status answer has no resource")
  end
  -- Fields may be absent or JSON null (a light userdata): only strings and numbers are read.
  local function text(v) return type(v) == "string" and v or nil end
  local st = {
    id = text(r.requestId), accepted = r.isAccepted ~= false, completed = r.isCompleted == true,
    callback_in = type(r.callbackInSeconds) == "number" and r.callbackInSeconds or nil,
    message = text(r.errorMessage),
  }
  local url = r.resultUrl
  if type(url) ~= "string" or url == "" then url = nil end
  local t = type(r.__type) == "string" and r.__type:match("^([^:]+)")
  local is_status = r.callbackInSeconds ~= nil or r.callbackUrl ~= nil
    or t == "RouteProxyAsyncResult" or t == "DistanceMatrixAsyncStatus"
  if st.completed and not url and not is_status then
    st.inline = true -- the result is this resource (optimize itinerary)
  end
  if not st.accepted then
    st.failed = true
  elseif st.completed and not url and not st.inline then
    -- Completed without a result: the service's errorMessage says why ("Timeout occurred").
    st.failed = true
  end
  local shown = {}
  for k, v in pairs(r) do shown[k] = v end
  shown.callbackUrl = redact_url(r.callbackUrl)
  shown.resultUrl = redact_url(r.resultUrl)
  st.resource = shown
  return st, url
end

local DEFAULT_PORT = {http = "80", https = "443"}

-- An absolute URL -> {scheme=, host=, port=, default_port=}, path, query; or nil.
local function split_url(url)
  local scheme, authority, rest = url:match("^(%a[%w+.-]*)://([^/?#]+)(.*)$")
  if not scheme then return nil end
  scheme, authority = scheme:lower(), authority:lower():gsub("^.*@", "")
  local host, port = authority:match("^(.-):(%d*)$")
  if not host then host = authority end
  if port == nil or port == "" then port = DEFAULT_PORT[scheme] end
  local path, query = rest:match("^([^?#]*)%??([^#]*)")
  local origin = {scheme = scheme, host = host, port = port, default_port = port == DEFAULT_PORT[scheme]}
  return origin, path ~= "" and path or "/", query
end

-- Whether two origins are the same service: the same host and port, where the service's
-- http:// and the client's https:// (each on its default port) count as one (the service
-- writes http:// in some of its URLs; the request then goes over the client's own scheme).
local function same_service(a, b)
  if a.host ~= b.host then return false end
  return a.port == b.port or (a.default_port and b.default_port)
end

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- Turns an absolute URL from the service into a request spec. On the client's own REST or
-- SDS host, the spec is a path with params sent to the client's base URL (its scheme, and
-- the key parameter dropped: the pipeline adds the client's own key); elsewhere (result
-- blobs on another host) the spec carries the absolute `url` as the service gave it and
-- `keyless = true`, so the client adds no key for that host.
function _M.url_spec(client, url, billing)
  local origin, path, query = split_url(url)
  if not origin then return nil end
  local api
  for _, name in ipairs{"rest", "sds"} do
    local base = name == "rest" and client.base_url or client.sds_url
    local bo = type(base) == "string" and split_url(base)
    if not api and bo and same_service(bo, origin) then api = name end
  end
  if not api then
    -- Another host (the distance matrix blob on Azure storage): no Bing key goes there, and
    -- the download is no Bing transaction. Its body is the bare result (a DistanceMatrix),
    -- not a REST envelope.
    return {url = url, keyless = true, billing = false, method = "GET", answer = "json"}
  end
  local params = {}
  for pair in query:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k = unescape(k)
    if k:lower() ~= "key" and k ~= "" then params[#params + 1] = {k, unescape(v)} end
  end
  return {api = api, path = path, params = params, billing = billing, method = "GET"}
end

local Job = {}
Job.__index = Job
_M.Job = Job

-- Private state (the result URL holds the key the service echoed): kept off the job table so
-- that printing a job never shows it.
local private = setmetatable({}, {__mode = "k"})

local function new_job(client, desc, id, meta)
  local job = setmetatable({id = id, kind = desc.kind, meta = meta, polls = 0}, Job)
  private[job] = {client = client, desc = desc, bills = {}}
  return job
end

-- Keeps the billing of one request made for the job (its meta, or its error: both have one).
local function note(job, meta)
  local bills = private[job].bills
  if type(meta) == "table" and type(meta.billing) == "table" then bills[#bills + 1] = meta.billing end
end
-- For kinds whose result is several downloads (a geocode job's succeeded and failed files):
-- their `decode` notes the billing of the extra requests, and reaches the job's client.
_M.note = note
function _M.client_of(job) return private[job].client end

--- What every request this job object made cost (the creating request when it started the
-- job, status checks, the download): the sum of their billing (`billing.sum`).
function _M.billing_of(job)
  return billing_rows.sum(private[job].bills)
end

local function apply_status(job, st, url)
  job.status = st
  if st.id and not job.id then job.id = st.id end
  private[job].url = url or private[job].url
end

local function job_error(job, st)
  local msg = st.message
  if not msg or msg == "" then msg = st.accepted and "job completed without a result"
    or "job was not accepted" end
  return errors.new("job", string.format("%s job %s failed: %s", private[job].desc.name or job.kind,
    tostring(job.id), msg), {code = st.accepted and "JobFailed" or "JobNotAccepted",
    job_id = job.id, details = {msg}})
end

-- An error about an answer that did arrive: it carries what that request cost and how it
-- went (`billing`, `attempts`, `url`, `status`, `trace_id` of its meta), as every error does.
local function with_meta(err, meta)
  if type(meta) == "table" then
    for _, k in ipairs{"billing", "attempts", "url", "status", "trace_id"} do
      if err[k] == nil then err[k] = meta[k] end
    end
  end
  return err
end

--- Starts a job: sends `spec` (the creating request) and reads its status answer.
-- Returns the Job, or nil, err (err kind `job` when the service did not accept it).
function _M.start(client, kind, spec)
  local desc = assert(_M.kind(kind), "jobs.start: unknown kind")
  local doc, meta = client:call(spec)
  if not doc then return nil, meta end
  if spec.dry_run then return doc end
  local parse = desc.parse or _M.async_status
  local st, url, perr = parse(doc, meta)
  if not st then return nil, with_meta(perr, meta) end
  local job = new_job(client, desc, st.id, meta)
  note(job, meta)
  private[job].last_doc = doc
  apply_status(job, st, url)
  if st.failed then return nil, with_meta(job_error(job, st), meta) end
  if not job.id then
    return nil, with_meta(errors.new("decode", "asynchronous answer has no requestId"), meta)
  end
  return job
end

--- A job known only by its id (say, saved before a restart), in an unknown state.
function _M.resume(client, kind, id)
  local desc = _M.kind(kind)
  if not desc then
    local names = {}
    for k, d in pairs(KINDS) do if k == d.kind:lower() then names[#names + 1] = d.kind end end
    table.sort(names)
    errors.raise("jobs: unknown job kind '" .. tostring(kind) .. "' (one of "
      .. table.concat(names, ", ") .. ")", 2)
  end
  if type(id) ~= "string" or id == "" then
    errors.raise("jobs: job id must be a non-empty string", 2)
  end
  return new_job(client, desc, id, nil)
end

--- One status request. Returns the normalized status, or nil, err (kind `job` when the
-- service reports the job failed; the pipeline's kinds for transport and HTTP failures).
function Job:poll()
  local p = private[self]
  local spec = p.desc.status_spec(self.id)
  local doc, meta = p.client:call(spec)
  self.polls = self.polls + 1
  note(self, meta)
  if not doc then return nil, meta end
  local parse = p.desc.parse or _M.async_status
  -- The job goes along (a kind may pace its polls by what the job's earlier answers said).
  local st, url, perr = parse(doc, meta, self)
  if not st then return nil, with_meta(perr, meta) end
  st.id = st.id or self.id
  st.meta = meta -- the status check's own meta: billing says it is not billable
  p.last_doc, p.last_meta = doc, meta
  apply_status(self, st, url)
  if st.failed then return nil, with_meta(job_error(self, st), meta) end
  return st
end

--- Whether the last known status says the job is done.
function Job:done()
  return self.status ~= nil and self.status.completed == true
end

--- Downloads and decodes the result of a completed job (cached). nil, err otherwise.
function Job:result()
  local p = private[self]
  if p.result then return p.result, p.result_meta end
  if not self:done() then
    return nil, errors.new("job", "job " .. tostring(self.id) .. " is not completed",
      {code = "JobNotCompleted", job_id = self.id, retryable = true})
  end
  local doc, meta
  if self.status.inline then
    doc, meta = p.last_doc, p.last_meta or self.meta
  else
    local spec
    if p.desc.result_spec then
      spec = p.desc.result_spec(self, self.status, p.url)
    elseif p.url then
      spec = _M.url_spec(p.client, p.url, p.desc.result_billing)
    end
    if not spec then
      return nil, errors.new("job", "job " .. tostring(self.id) .. " has no usable result URL",
        {code = "JobNoResult", job_id = self.id})
    end
    doc, meta = p.client:call(spec)
    note(self, meta)
    if not doc then return nil, meta end
  end
  meta = meta or {}
  meta.job = {id = self.id, kind = self.kind, polls = self.polls}
  local res, derr = p.desc.decode(doc, meta, self)
  if res == nil then return nil, derr end
  p.result, p.result_meta = res, meta
  return res, meta
end

local WAIT_OPTIONS = {timeout = "number", on_progress = "function", interval = "number",
                      max_interval = "number"}

--- Waits for the job and returns its result (`Job:result()`), or nil, err.
-- Options: `timeout` (seconds, default 300; err kind `timeout`, code `JobTimeout`, with
-- `err.job` to keep waiting), `on_progress` (function(status, job), called after each
-- status; returning false stops the wait with err kind `job`, code `Cancelled`),
-- `interval` (seconds between polls when the service gives no `callbackInSeconds`),
-- `max_interval` (cap on one wait, default 60). Between polls it waits what the service's
-- `callbackInSeconds` says, with the client's clock: inside an item of client:batch the
-- default clock's sleep yields (bing.batch), so the jobs of many items are polled at once.
function Job:wait(opts)
  opts = opts or {}
  if type(opts) ~= "table" then errors.raise("job:wait: options must be a table", 2) end
  for k, v in pairs(opts) do
    local want = WAIT_OPTIONS[k]
    if not want then errors.raise("job:wait: unknown option '" .. tostring(k) .. "'", 2) end
    -- A timeout of "x" would raise a plain string in the arithmetic below.
    if type(v) ~= want or (want == "number" and (v ~= v or v < 0)) then
      errors.raise(string.format("job:wait: %s must be a %s%s", k, want,
        want == "number" and " >= 0" or ""), 2)
    end
  end
  local p = private[self]
  local clock = p.client.clock or {now = os.time, sleep = function() end}
  local timeout = opts.timeout or _M.DEFAULT_TIMEOUT
  local interval = opts.interval or _M.DEFAULT_INTERVAL
  local max_interval = opts.max_interval or _M.MAX_INTERVAL
  local deadline = clock.now() + timeout
  while not self:done() do
    if self.status then
      local delay = self.status.callback_in
      if not delay or delay <= 0 then delay = interval end
      delay = math.min(delay, max_interval)
      local left = deadline - clock.now()
      if left <= 0 then
        return nil, errors.new("timeout", string.format("job %s not completed after %gs",
          tostring(self.id), timeout), {code = "JobTimeout", job_id = self.id, job = self,
          retryable = true})
      end
      clock.sleep(math.min(delay, left))
    end
    local st, err = self:poll()
    if not st then return nil, err end
    if opts.on_progress and opts.on_progress(st, self) == false then
      return nil, errors.new("job", "waiting for job " .. tostring(self.id) .. " was cancelled",
        {code = "Cancelled", job_id = self.id, job = self})
    end
    if not st.completed and clock.now() >= deadline then
      return nil, errors.new("timeout", string.format("job %s not completed after %gs",
        tostring(self.id), timeout), {code = "JobTimeout", job_id = self.id, job = self,
        retryable = true})
    end
  end
  return self:result()
end

function Job:__tostring()
  local st = self.status
  return string.format("bing.job %s %s (%s)", self.kind, tostring(self.id),
    st == nil and "unknown" or st.completed and "completed" or "pending")
end

return _M
