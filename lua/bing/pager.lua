--- Paging: one helper for every API of the library that answers a long list a page at a time
-- (the Spatial Data Services' Query API, its data source lists, ...).
--
--     local q = assert(client.sds.query{source = src, filter = {PrimaryCity = "Seattle"}, top = 50})
--     for page in q:pages() do print(#page) end            -- page after page, lazily
--     for row in q:each() do print(row.Name) end           -- row after row
--     local rows, err = q:all{max = 500}                   -- collected (at most 500)
--
-- A page is a list of items with its own fields, made by the API's `fetch` function:
-- `fetch(state) -> page, next_state | nil, err`, where `next_state` is nil after the last
-- page. The first page is fetched by the call that returns it; the next ones only when an
-- iterator asks. Iteration stops at the first error: `q:each()` raises it (its loop has no
-- place for an error value), `q:pages()` and `q:all()` return it (`q.error` keeps it).
-- @module bing.pager
local errors = require "bing.errors"
local jobs = require "bing.jobs"

local _M = {}

local Pager = {}
Pager.__index = Pager
_M.Pager = Pager

--- A pager whose first page is `page` (already fetched), the next ones from `fetch(state)`.
-- `page` gets the pager's methods: `page:pages()`, `page:each()`, `page:all{max =}`,
-- `page:next_page()`. Returns `page`.
function _M.new(page, state, fetch)
  local mt = getmetatable(page)
  local own = mt and mt.__index
  -- The page keeps its own methods (a query page's :geojson()); the pager's come after them.
  local index = function(_, k)
    if type(own) == "table" and own[k] ~= nil then return own[k] end
    if type(own) == "function" then
      local v = own(page, k)
      if v ~= nil then return v end
    end
    return Pager[k]
  end
  local pmt = {__index = index, __len = mt and mt.__len, __tostring = mt and mt.__tostring}
  rawset(page, "_pager", {state = state, fetch = fetch, pages = {page}})
  return setmetatable(page, pmt)
end

--- The pages of a declared call (bing.endpoint, a declaration's `pages`): `spec` is the
-- first page's request, `build(skip)` the request of the page at `skip`, `result(doc, meta,
-- call)` makes a page (a list) of an answer. The next page is asked the way the form says:
-- with `top` given (the caller sized the pages) a full page that is not the last of
-- `count(doc)` moves `skip` on by the page (a short page is the last); else the answer's
-- `next(doc)` link (OData's __next: the same query, $skip moved on) is followed when it is
-- on the client's own host, or `skip` moved on when it is not. `when(call)` false: one page.
-- Each page gets `skip` (its first item's offset). Returns the first page, or nil, err.
function _M.declared(form, call, spec, build, result)
  local client, v = call.client, call.values
  local top = form.top and v[form.top]
  local more = not form.when or form.when(call)
  local function fetch(state)
    local s = state.spec or build(state.skip)
    local doc, meta = client:call(s)
    if not doc then return nil, meta end
    local page, err = result(doc, meta, call)
    if not page then return nil, err end
    local skip = state.skip or 0
    page.skip = skip
    if not more then return page, nil end
    local after = skip + #page
    if top then
      local count = form.count and form.count(doc)
      if top > 0 and #page == top and not (count and after >= count) then return page, {skip = after} end
      return page, nil
    end
    local link = form.next and form.next(doc)
    if not link then return page, nil end
    local ns = jobs.url_spec(client, link, s.billing)
    if ns and not ns.keyless then
      ns.answer, ns.timeout = s.answer, s.timeout
      return page, {spec = ns, skip = after}
    end
    return page, {skip = after}
  end
  local page, state = fetch({spec = spec, skip = form.skip and v[form.skip]})
  if not page then return nil, state end
  return _M.new(page, state, fetch)
end

--- The page after this one (fetched once, then kept), or nil when this was the last;
-- nil, err on a failure.
function Pager:next_page()
  local p = rawget(self, "_pager")
  if p.next ~= nil then return p.next end
  if p.state == nil then return nil end
  local page, state = p.fetch(p.state)
  if page == nil then return nil, state end
  p.next = _M.new(page, state, p.fetch)
  return p.next
end

--- Iterates over the pages from this one on: `for page in q:pages() do ... end`. After a
-- failure the loop ends; `q.error` holds the error.
function Pager:pages()
  local cur, started = self, false
  return function()
    if not started then started = true; return cur end
    if cur == nil then return nil end
    local nxt, err = cur:next_page()
    if nxt == nil and err ~= nil then rawset(self, "error", err) end
    cur = nxt
    return nxt
  end
end

--- Iterates over the items of every page from this one on, in order: `for item, i in
-- q:each() do`. A failure to fetch a page raises it (the error object).
function Pager:each()
  local page, i, n = self, 0, 0
  return function()
    while page ~= nil do
      i = i + 1
      local item = page[i]
      if item ~= nil then n = n + 1; return item, n end
      local nxt, err = page:next_page()
      if nxt == nil and err ~= nil then error(err, 2) end
      page, i = nxt, 0
    end
    return nil
  end
end

--- Collects the items of every page from this one on (at most `max`, when given) into one
-- list. Returns the list, or nil, err (the list so far is `err.partial`).
function Pager:all(opts)
  opts = opts or {}
  if type(opts) ~= "table" then errors.raise("all: options must be a table", 2) end
  for k in pairs(opts) do
    if k ~= "max" then errors.raise("all: unknown option '" .. tostring(k) .. "'", 2) end
  end
  local max = opts.max
  if max ~= nil and (math.type and math.type(max) ~= "integer" and max ~= math.floor(max)
                     or type(max) ~= "number" or max < 0 or max ~= math.floor(max)) then
    errors.raise("all: max must be an integer >= 0", 2)
  end
  local out, page = {}, self
  while page ~= nil do
    for _, item in ipairs(page) do
      if max and #out >= max then return out end
      out[#out + 1] = item
    end
    if max and #out >= max then return out end
    local nxt, err = page:next_page()
    if nxt == nil and err ~= nil then
      err.partial = out
      return nil, err
    end
    page = nxt
  end
  return out
end

return _M
