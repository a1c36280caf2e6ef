--- The endpoint layer: an API call declared as data, and the one runner that turns a
-- declaration into `client.<family>.<name>{...}`.
--
-- A declaration (see doc/INTERNALS.md for a worked example):
--   path        "/REST/v1/Elevation/List" (or set `call.path` in `rules`)
--   api         the base: "rest" (default), "sds", "geodata" (client:call's spec.api)
--   method      "GET" (default), "DELETE", ...: the method of the plain form
--   params      {{option, checker, bing = <Bing's name>, alias = <other name or names>,
--                 required = true, segment = true (a path segment; a list: several),
--                 default = fn(client), expand = true (the checker gives a list of
--                 {name, value}), send = false (read and checked, not sent: `rules`
--                 combine it)}, ...}; no checker: the value is left to `rules`
--               one list for the query string and the POST body; sent in this order,
--               after the pairs `rules` put in `call.params`, before `fixed`
--   fixed       {{name, value}, ...}: constant parameters sent after the others ($format)
--   tail        {segment, ...}: constant path segments after the parameters' ($metadata)
--   no_args     true: the call may be made without an argument table (`client.sds.datasources()`)
--   raw         true: the answer's body as it came (answer "text")
--   too_long    the message (a format of the limit) of a GET URL over URL_LIMIT, when the
--               default's advice (method = "POST", or send less) is not the call's
--   options     our own options besides dry_run and timeout ("async", "method", "split", ...)
--   before      fn(call): shape rules that raise, before the parameters are read
--   rules       fn(call) -> nil, err to refuse: cross-field rules; may set call.billing,
--               call.path, call.segments, call.params, call.answer, and call.client (the
--               call goes with another client: the Query API's query key)
--   billing     the transaction category (bing.billing), or set call.billing in rules
--   body        fn(call) -> body, content_type | nil, err: an upload, the body made by the
--               family (serialized entities, a data file's contents) after `rules`; sent
--               with POST, every parameter in the query string
--   post        {body = fn(call, body) -> body, headers = {...}, query = {names kept in the
--               query} or fn(name) -> keep, when = fn(call)}: the POST form, used with
--               method = "POST", when
--               `when` says, or when the GET URL would pass URL_LIMIT; the body is by default
--               the JSON object of the parameters (Bing's names) that `body` may adjust
--   async       {kind=, name=, aliases=, status=<path>, status_billing=, result=fn(doc, meta)}:
--               the job kind, registered with bing.jobs when the family loads; with
--               `path`, `billing` and `when = fn(call)` (async unset: whether to go async)
--               the runner makes the switch (call.async, call.auto) before `rules`;
--               `always = true`: the call is always the job's creation (returns the Job);
--               the kind is registered here when `status` is given (else by the family)
--   pages       {top = <option>, skip = <option>, next = fn(doc) -> link, count = fn(doc)
--               -> n, when = fn(call)}: the call answers a page of a longer list; the next
--               page is asked by moving `skip` on by the page (when `top` sized it) or by
--               following the answer's `next` link: bing.pager serves it (`result` makes
--               each page; the call returns the first with :pages(), :each(), :all())
--   plan        fn(call) -> {specs=, async=, auto=, merge=fn(results, meta), extra=} or
--               nil, err: for calls that are several requests or a job (the family's rules)
--   answer      the kind of answer: "rest" (default), "odata", "dataflow", "bytes", "text";
--               `rules` may set call.answer for one call (a static map's metadata)
--   result      fn(doc, meta, call) -> the result object
-- @module bing.endpoint
local check = require "bing.check"
local jobs = require "bing.jobs"
local pager = require "bing.pager"

local _M = {}

-- routes/snap-points-to-roads.md: "it is best to keep your URLs under 2083 characters". The
-- only figure the REST reference gives; it holds for every REST API (same front end).
_M.URL_LIMIT = 2083
_M.DEFAULT_JOB_TIMEOUT = 300

local add = check.add
local type, pairs, ipairs = type, pairs, ipairs

-- A declaration's parameter list as flat arrays, made on its first call: the runner walks it
-- twice per call (reading the arguments, building the spec), and most parameters are absent.
-- `special[i]` is the parameter when it has an alias, is required or has a default (what an
-- absent argument must still look at), else false; `kind[i]` is SEGMENT, EXPAND or PLAIN.
local SEGMENT, EXPAND, PLAIN = 1, 2, 3
local compiled = setmetatable({}, {__mode = "k"})

local NO_PARAMS = {}

local function compile(d)
  local ps = d.params or NO_PARAMS
  local c = {src = ps, name = {}, check = {}, special = {}, kind = {}, bing = {}, aliases = {},
             send = {}}
  local n = 0
  for i, p in ipairs(ps) do
    n = i
    c.name[i], c.check[i], c.bing[i] = p[1], p[2] or false, p.bing or p[1]
    c.special[i] = (p.alias ~= nil or p.required or p.default ~= nil) and p or false
    c.aliases[i] = _M.aliases(p)
    c.kind[i] = p.segment and SEGMENT or p.expand and EXPAND or PLAIN
    c.send[i] = p.send ~= false
  end
  c.n = n
  compiled[d] = c
  return c
end

-- The compiled form of `d`, made again should its parameter list have been replaced or grown.
local function compiled_of(d)
  local c = compiled[d]
  local ps = d.params or NO_PARAMS
  if c and c.src == ps and ps[c.n + 1] == nil then return c end
  return compile(d)
end

local function status_spec(path, category)
  return function(id)
    return {api = "rest", path = path, params = {{"requestId", id}}, billing = category,
            method = "GET", answer = "rest"}
  end
end

--- Prepares a family's declarations (fills `what` and the allowed option set, registers job
-- kinds) and returns the family table.
function _M.family(family, decls)
  for name, d in pairs(decls) do
    if type(d) == "table" and (d.path or d.plan) then
      d.what = family .. "." .. name
      local allowed = {dry_run = true, timeout = true}
      for _, p in ipairs(d.params or {}) do
        allowed[p[1]] = true
        for _, a in ipairs(_M.aliases(p)) do allowed[a] = true end
      end
      for _, k in ipairs(d.options or {}) do allowed[k] = true end
      d.allowed = allowed
      local a = d.async
      if a and a.kind and a.status then
        jobs.register(a.kind, {name = a.name, aliases = a.aliases, result_billing = a.status_billing,
                               status_spec = status_spec(a.status, a.status_billing), decode = a.result})
      end
    end
  end
  return decls
end

local NO_ALIASES = {}

--- The other option names of a parameter: `alias` is one name or a list of names (Bing's
-- documented aliases beside a spelling of our own, e.g. datetime / dateTime / dt).
function _M.aliases(p)
  local a = p.alias
  if a == nil then return NO_ALIASES end
  return type(a) == "table" and a or {a}
end

local OWN_TYPES = {timeout = "number", job_timeout = "number", dry_run = "boolean", async = "boolean"}
-- Our own options (OWN_TYPES and method): own_options runs only when one of them is given.
local OWN = {timeout = true, job_timeout = true, dry_run = true, async = true, method = true}

-- Checks our own options; returns the method asked for ("GET", "POST" or nil).
local function own_options(what, args)
  for k, t in pairs(OWN_TYPES) do check.typed(what, k, args[k], t) end
  local m = args.method
  if m == nil then return nil end
  if type(m) ~= "string" then check.raise(what, "method must be a string") end
  m = m:upper()
  if m ~= "GET" and m ~= "POST" then check.raise(what, "method must be \"GET\" or \"POST\"") end
  return m
end

-- The URL limit without building the URL (with the key) once more than sending it does: a
-- bound by arithmetic on the parts core.build_url (csrc/url.c) joins, which no URL it builds
-- passes, decides almost every call (a geocode's URL is a tenth of the limit); only a spec
-- whose bound passes the limit has its URL built to be measured exactly. The bound counts
-- the base and the path as they are (build_url drops a trailing "/" and may add a leading
-- one), each segment as "/" and each parameter as "&name=", every byte of a string as
-- encoded (%XX, three bytes), a number as NUMBER_MAX bytes and a boolean as five, and the
-- key exactly as the client sends it. An exact computation by arithmetic was measured
-- slower than building the URL in C on Lua 5.4 (Lua's pattern scan of each value to count
-- the bytes to encode costs more than build_url's encoding and allocation): the exact
-- length is the built one. spec/endpoint_spec.lua checks on random inputs that the bound
-- is never below the built length and that the decision is the built URL's.

-- The longest a number can be in a URL: %d of a 64-bit integer is 20 bytes, %.14g at most
-- 21 (its "+" encoded: 23), %.0f of LuaJIT's integral doubles below 2^53 at most 17; with
-- room for a locale's longer decimal point.
local NUMBER_MAX = 40

-- What the key adds to a URL ("?key=" or "&key=" and the encoded key; 0 without a key), per
-- client: measured once on two built URLs, so that the key itself is never read here.
local key_lengths = setmetatable({}, {__mode = "k"})

local function key_length(client)
  local n = key_lengths[client]
  if n then return n end
  local ok, with = pcall(client.url_length, client, {path = "/"})
  local ok2, without = pcall(client.url_length, client, {path = "/", keyless = true})
  if not (ok and ok2) then return nil end
  n = with - without
  key_lengths[client] = n
  return n
end

-- A bound of the length of the URL of a GET spec, or nil for a spec the bound does not know
-- (a value of another type, a malformed list: build_url decides, and raises for those).
local function length_bound(client, spec)
  -- The base client:url_length takes for the api; another api (geodata, ...) is measured
  -- on its built URL.
  local api = spec.api
  local base
  if api == nil or api == "rest" then
    base = client.base_url
  elseif api == "sds" then
    base = client.sds_url
  else
    return nil
  end
  local path = spec.path
  if type(base) ~= "string" or type(path) ~= "string" then return nil end
  local len = #base + #path + 1
  local segs, params = spec.segments, spec.params
  if segs ~= nil then
    if type(segs) ~= "table" then return nil end
    for i = 1, #segs do
      local x = segs[i]
      local t = type(x)
      if t == "string" then
        len = len + 1 + 3 * #x
      elseif t == "number" then
        len = len + 1 + NUMBER_MAX
      else
        return nil
      end
    end
  end
  if params ~= nil then
    if type(params) ~= "table" then return nil end
    for i = 1, #params do
      local pair = params[i]
      if type(pair) ~= "table" then return nil end
      local name, x = pair[1], pair[2]
      if type(name) ~= "string" then return nil end
      if x ~= nil then
        local t = type(x)
        if t == "string" then
          len = len + 2 + #name + 3 * #x
        elseif t == "number" then
          len = len + 2 + #name + NUMBER_MAX
        elseif t == "boolean" then
          len = len + 2 + #name + 5
        else
          return nil
        end
      end
    end
  end
  if not spec.keyless then
    local k = key_length(client)
    if not k then return nil end
    len = len + k
  end
  return len
end
_M.url_length_bound = length_bound

-- The length of the URL of a GET spec, key included (as sent): the built URL's.
local function url_length(client, spec)
  return client:url_length(spec)
end
_M.url_length = url_length

-- The length of a GET spec's URL when it passes the limit, else nil.
local function over_limit(client, spec)
  local limit = _M.URL_LIMIT
  local bound = length_bound(client, spec)
  if bound and bound <= limit then return nil end
  local n = url_length(client, spec)
  if n > limit then return n end
  return nil
end

--- Whether a GET spec's URL (with the key as sent) passes the service's limit.
function _M.too_long(client, spec)
  return (spec.method or "GET") == "GET" and not spec.url and over_limit(client, spec) ~= nil
end

--- The request spec of a plain call: the parameters (in declaration order) in the query
-- string, or in the POST body where the declaration has one and the URL is too long or
-- `method = "POST"` was asked for.
function _M.spec(call)
  local d, v, args, m = call.decl, call.values, call.args, call.method
  local c = compiled_of(d)
  local names, kinds, bings, send = c.name, c.kind, c.bing, c.send
  local params, segments = {}, call.segments
  if call.params then for i, pr in ipairs(call.params) do params[i] = pr end end
  if segments and (c.n > 0 or d.tail) then
    -- a copy: a call may build its spec more than once (paging, the POST switch)
    local s = {}
    for i, x in ipairs(segments) do s[i] = x end
    segments = s
  end
  for i = 1, c.n do
    local x = v[names[i]]
    if x ~= nil and send[i] then
      local kind = kinds[i]
      if kind == PLAIN then
        params[#params + 1] = {bings[i], x}
      elseif kind == SEGMENT then
        segments = segments or {}
        if type(x) == "table" then
          for _, seg in ipairs(x) do segments[#segments + 1] = seg end
        else
          segments[#segments + 1] = x
        end
      else
        for _, pair in ipairs(x) do add(params, pair[1], pair[2]) end
      end
    end
  end
  if d.fixed then for _, pr in ipairs(d.fixed) do params[#params + 1] = pr end end
  if d.tail then
    segments = segments or {}
    for _, seg in ipairs(d.tail) do segments[#segments + 1] = seg end
  end
  local a = call.async and d.async
  local spec = {api = d.api or "rest", path = a and a.path or call.path or d.path,
                segments = segments, params = params, method = d.method or "GET",
                billing = a and a.billing or call.billing or d.billing,
                answer = call.answer or d.answer or "rest", timeout = args.timeout,
                dry_run = args.dry_run, raw = d.raw}
  if call.body ~= nil then
    spec.method, spec.body, spec.headers = "POST", call.body, {["Content-Type"] = call.content_type}
  end
  local post = d.post
  local use_post = post and m == "POST"
  if post and m == nil then use_post = post.when and post.when(call) or _M.too_long(call.client, spec) end
  if use_post then
    local body = {}
    for _, pr in ipairs(params) do body[pr[1]] = v[pr[1]] end
    local keep, query = post.query, {}
    if type(keep) ~= "function" then
      local set = {}
      for _, name in ipairs(keep or {}) do set[name] = true end
      keep = function(name) return set[name] end
    end
    for _, pr in ipairs(params) do if keep(pr[1]) then query[#query + 1] = pr end end
    spec.method, spec.params = "POST", query
    spec.body, spec.headers = post.body and post.body(call, body) or body, post.headers
  end
  return spec
end

-- Sends the specs of one call (client:call_all: the whole cost is checked against the budget
-- before anything is sent). Returns the list of {doc=, meta=} and the call's meta (the
-- envelope fields of the first answer, plus `split`, `requests`, `parts`, `billing` = the sum).
local function run_all(client, specs, extra)
  local docs, meta = client:call_all(specs)
  if not docs then return nil, meta end
  local results = {}
  for i, doc in ipairs(docs) do results[i] = {doc = doc, meta = meta.parts[i]} end
  local first = meta.parts[1] or {}
  for _, k in ipairs{"status", "trace_id", "copyright", "brand_logo_uri", "url"} do meta[k] = first[k] end
  for k, x in pairs(extra or {}) do meta[k] = x end
  return results, meta
end

-- Runs a job's creation: the Job (`auto` false) or, waited for, its result. In auto mode
-- meta.billing (err.billing) sums every request of the job; `meta.created` is the creation's.
local function run_async(client, kind, spec, args, auto)
  if spec.dry_run then return client:call(spec) end
  local job, err = jobs.start(client, kind, spec)
  if not job or not auto then return job, err end
  local res, werr = job:wait{timeout = args.job_timeout or _M.DEFAULT_JOB_TIMEOUT}
  if res == nil then
    werr.billing = jobs.billing_of(job)
    return nil, werr
  end
  if type(res) == "table" and type(res.meta) == "table" then
    -- A copy: the download's (or the last status check's) own meta stays as it was.
    local meta = {}
    for k, x in pairs(res.meta) do meta[k] = x end
    meta.async, meta.created, meta.billing = true, job.meta, jobs.billing_of(job)
    res.meta = meta
  end
  return res
end

--- Runs one call of declaration `d` for `client` with the caller's `args`.
function _M.run(client, d, args)
  local what = d.what
  if args == nil and d.no_args then args = {} end
  if type(args) ~= "table" then check.raise(what, "argument must be a table") end
  -- Unknown options raise (as check.known), and our own options are checked when one is given.
  -- (pairs, as check.known: a table of options with __pairs lists its own.)
  local allowed, own = d.allowed, false
  for k in pairs(args) do
    if not allowed[k] then check.raise(what, "unknown option '%s'", tostring(k)) end
    if OWN[k] then own = true end
  end
  local values = {}
  local call = {client = client, decl = d, what = what, args = args, values = values,
                method = own and own_options(what, args) or nil}
  if d.before then d.before(call) end
  local c = compiled_of(d)
  local names, checks, special, aliases = c.name, c.check, c.special, c.aliases
  for i = 1, c.n do
    local name = names[i]
    local v = args[name]
    local p = special[i]
    if p then
      local al, given = aliases[i], name
      for j = 1, #al do
        local a = al[j]
        if args[a] ~= nil then
          if v ~= nil then check.raise(what, "give %s or %s, not both", given, a) end
          v, given = args[a], a
        end
      end
      if v == nil then
        if p.required then check.raise(what, "%s is required", name) end
        if p.default then values[name] = p.default(client) end
      end
    end
    if v ~= nil then
      local chk = checks[i]
      if chk then
        local val, err = chk(what, name, v)
        if val == nil and err ~= nil then return nil, err end
        values[name] = val
      else
        values[name] = v -- checked by the declaration's rules
      end
    end
  end
  if d.async and d.async.path then
    -- The async switch: asked for, or (async unset) where the declaration's `when` says.
    call.async, call.auto = args.async, args.async == nil
    if call.auto then call.async = d.async.when and d.async.when(call) or false end
  elseif d.async and d.async.always then
    call.async, call.auto = true, false
  end
  if d.rules then
    local ok, err = d.rules(call)
    if ok == nil and err ~= nil then return nil, err end
    client = call.client
  end
  if d.body then
    local body, ctype = d.body(call)
    if body == nil then return nil, ctype end
    call.body, call.content_type = body, ctype
  end
  local specs, async, auto, result, plan
  if d.plan then
    local perr
    plan, perr = d.plan(call)
    if not plan then return nil, perr end
    specs, async, auto, result = plan.specs, plan.async, plan.auto, plan.result or d.result
  else
    specs, async, auto, result = {_M.spec(call)}, call.async, call.auto, d.result
  end
  for _, s in ipairs(specs) do
    s.answer = s.answer or d.answer or "rest"
    if (s.method or "GET") == "GET" and not s.url then
      local len = over_limit(client, s)
      if len then
        if d.too_long then return check.bad(what, d.too_long, _M.URL_LIMIT) end
        return check.bad(what, "the request URL would be %d characters, more than the %d the "
          .. "service takes%s", len, _M.URL_LIMIT,
          d.post and ": use method = \"POST\"" or " (this API has no POST form): send less")
      end
    end
  end
  if async then return run_async(client, d.async.kind, specs[1], args, auto) end
  if d.pages and not args.dry_run then
    local skip = d.pages.skip
    return pager.declared(d.pages, call, specs[1], function(at)
      call.values[skip] = at
      return _M.spec(call)
    end, result)
  end
  if #specs == 1 then
    local doc, meta = client:call(specs[1])
    if not doc then return nil, meta end
    if args.dry_run then return doc end
    return result(doc, meta, call)
  end
  if args.dry_run then return client:call_all(specs, true) end
  local results, meta = run_all(client, specs, plan.extra)
  if not results then return nil, meta end
  return plan.merge(results, meta, call)
end

--- The function `client.<family>.<name>` of a family entry: a declaration runs through
-- `run`; a plain function fn(client, ...) is bound as it is.
function _M.bind(client, entry)
  if type(entry) == "function" then return function(...) return entry(client, ...) end end
  if type(entry) == "table" and entry.what then
    return function(args) return _M.run(client, entry, args) end
  end
  return nil
end

return _M
