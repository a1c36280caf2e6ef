-- Writes the reference of every `client.<family>.<name>` (one LDoc module per family) from the
-- families' declarations themselves, so that the reference cannot drift from the code: the
-- options and their Bing names, aliases, whether required, the limits the checkers enforce,
-- the billing category (the declaration's, else bing.billing.REQUESTS), the errors and an
-- example found in the family's notes, README.md or examples/. Run by `make docs`:
--   lua5.4 doc/gen_reference.lua OUTDIR
-- spec/reference_spec.lua runs it as loadfile(...)(OUTDIR, true): it then returns what it did
-- instead of exiting.
-- A declaration's description is the comment right above `_M.<name> = {` in its file.
local outdir, as_library = ...
assert(outdir, "usage: gen_reference.lua OUTDIR")

local bing = require "bing"
local check = require "bing.check"
local billing = require "bing.billing"
local endpoint = require "bing.endpoint"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function lines_of(text)
  local t = {}
  for l in (text .. "\n"):gmatch("(.-)\r?\n") do t[#t + 1] = l end
  return t
end

local function source_path(modname)
  return package.searchpath(modname, package.path)
end

-- The comment block (plain `--` lines) that ends right above line `n`, without the dashes.
local function comment_above(lines, n)
  local out, i = {}, n - 1
  while i >= 1 and lines[i]:match("^%s*%-%-") do
    table.insert(out, 1, (lines[i]:gsub("^%s*%-%-%-?%s?", "")))
    i = i - 1
  end
  return out
end

-- Checkers of bing.check by identity, and what each accepts.
local NAMED = {
  text = "a string", required_text = "a non-empty string", positive = "a number > 0",
  number = "a number", boolean = "a boolean", flag = "true or false (sent as 1/0)",
  points = "a list of points ({lat, lon} each, or any form bing.check.latlon reads)",
  point = "a point {lat, lon}", where = "a point {lat, lon} or a place name",
  latlon = "a point {lat, lon}", bbox = "a box {south, west, north, east}",
  circle = "a circle {lat, lon, radius}", culture = "a culture code (\"en-US\")",
  iso2 = "an ISO 3166-1 alpha-2 country code", ipv4 = "an IPv4 address",
  bing_time = "a date-time (Bing's forms, or os.time())", iso_time = "an ISO 8601 date-time",
  span = "a time span", list = "a list", number_list = "a list of numbers",
  type_ids = "a list of entity type names or ids", waypoint = "a waypoint (point, address or table)",
}
local by_fn = {}
for name, desc in pairs(NAMED) do
  if type(check[name]) == "function" then by_fn[check[name]] = desc end
end

local function line_of(fn) return debug.getinfo(fn, "S").linedefined end
local LINE_INT, LINE_ONE, LINE_SOME = line_of(check.int(0, 1)), line_of(check.one_of{}),
                                      line_of(check.some_of{})

local function upvalues(fn)
  local t, i = {}, 1
  while true do
    local k, v = debug.getupvalue(fn, i)
    if not k then return t end
    t[k], i = v, i + 1
  end
end

local function sorted_values(set)
  local t = {}
  for _, v in pairs(set) do t[#t + 1] = "`" .. tostring(v) .. "`" end
  table.sort(t)
  return table.concat(t, ", ")
end

-- What a parameter's checker accepts, in words: the limits of bing.check's factories are read
-- from the closures; a family's own checker is described by the comment above it.
local function describe(fn)
  if type(fn) ~= "function" then return nil end
  if by_fn[fn] then return by_fn[fn] end
  local info = debug.getinfo(fn, "S")
  if info.source == debug.getinfo(check.int, "S").source then
    local up = upvalues(fn)
    if info.linedefined == LINE_INT then
      return ("an integer from %s to %s"):format(tostring(up.lo), tostring(up.hi))
    elseif info.linedefined == LINE_ONE and up.set then
      return "one of " .. sorted_values(up.set)
    elseif info.linedefined == LINE_SOME and up.set then
      return "one or more of " .. sorted_values(up.set)
    end
  end
  local src = info.source:match("^@(.*)")
  local text = src and read(src)
  if text and info.linedefined > 0 then
    local c = comment_above(lines_of(text), info.linedefined)
    if #c > 0 then
      local s = table.concat(c, " "):gsub("%s+", " ")
      -- What the checker gives back is the runner's business, not the caller's.
      s = s:gsub(" %->.*", ""):gsub(",? or nil, err%.?", ""):gsub("%.$", "")
      return s
    end
  end
  return nil
end

-- Finds `.<family>.<name>{...}` or `(...)` in text: the whole statement it is in.
local function find_call(text, fam, name)
  local pat = "%." .. fam .. "%." .. name .. "%s*[{(]"
  local s = text:find(pat)
  if not s then return nil end
  local start = s
  while start > 1 and text:sub(start - 1, start - 1) ~= "\n" do start = start - 1 end
  local depth, i, seen = 0, start, false
  while i <= #text do
    local ch = text:sub(i, i)
    if ch == '"' or ch == "'" then
      local j = text:find(ch, i + 1, true)
      i = j or #text
    elseif ch:match("[{(%[]") then depth, seen = depth + 1, true
    elseif ch:match("[})%]]") then depth = depth - 1
    elseif ch == "\n" and seen and depth <= 0 and i > s then break end
    i = i + 1
  end
  local out = text:sub(start, i - 1)
  -- Indentation of the block removed (examples indented in comments or code blocks).
  local indent = out:match("^( *)")
  return (out:gsub("\n" .. indent, "\n"):gsub("^" .. indent, ""))
end

local README = read("README.md") or ""
local readme_code = {}
for block in README:gmatch("```lua\n(.-)```") do readme_code[#readme_code + 1] = block end
readme_code = table.concat(readme_code, "\n")
local example_files = {}
do
  local p = io.popen("ls examples/*.lua 2>/dev/null")
  for f in p:lines() do example_files[#example_files + 1] = read(f) or "" end
  p:close()
end

local function example(fam, name, header)
  for _, text in ipairs({header, readme_code, (table.unpack or unpack)(example_files)}) do
    local e = find_call(text, fam, name)
    if e then return e end
  end
  return nil
end

-- The billing rows of bing.billing.REQUESTS that name this call.
local function requests_of(fam, name)
  local out, exact = {}, fam .. "." .. name
  for _, r in ipairs(billing.REQUESTS) do
    local label = r[1]
    local head = label:match("^([%w_%.%*]+)")
    if head == exact or head == fam .. ".*" or label:sub(1, #exact + 1) == exact .. "{" then
      out[#out + 1] = r
    end
  end
  return out
end

local function billing_line(category)
  local ok, row = pcall(billing.row, category)
  if not ok then return "`" .. tostring(category) .. "`" end
  local words = {row.billable and "billable" or "non-billable"}
  if row.session_free then words[#words + 1] = "free with a session key" end
  if row.per == "every" then words[#words + 1] = ("one transaction per %d requests"):format(row.every) end
  if row.per == "cells4" then words[#words + 1] = "per origin-destination cells (see doc/billing.md)" end
  if row.per == "product" then words[#words + 1] = "per agents x items (see doc/billing.md)" end
  if row.per == "entity" then words[#words + 1] = "per entity" end
  if row.per == "fixed" then words[#words + 1] = ("%d transactions each"):format(row.count) end
  if row.job then words[#words + 1] = "creates a job" end
  return ("`%s` (%s)"):format(category, table.concat(words, ", "))
end

-- The categories named as strings in a function's body (a family function that builds its
-- requests itself, bing.api.sds's): what it can be billed.
local function categories_in(fn)
  local info = debug.getinfo(fn, "S")
  local src = info.source:match("^@(.*)")
  local text = src and read(src)
  if not text then return {} end
  local out, seen = {}, {}
  local ls = lines_of(text)
  for i = info.linedefined, info.lastlinedefined do
    for c in (ls[i] or ""):gmatch('"([^"]+)"') do
      if billing.ROWS[c] and not seen[c] then seen[c], out[#out + 1] = true, c end
    end
  end
  return out
end

-- bing.billing.REQUESTS first (it names the categories a call's options choose, where the
-- declaration's own `billing` is only the usual one), else the declaration's or the
-- categories in the function's body; then a job's creation and polls.
local function billing_of(fam, name, d)
  local out, seen = {}, {}
  local function add(category, text)
    if not seen[category] then seen[category], out[#out + 1] = true, text end
  end
  for _, r in ipairs(requests_of(fam, name)) do
    local label = r[1]:gsub("^[%w_%.%*]+%s*", "")
    local s = billing_line(r[2]) .. (label ~= "" and ": " .. label or "")
    if r.also then s = s .. ", also " .. billing_line(r.also) end
    add(r[2] .. "+" .. tostring(r.also), s)
  end
  if #out == 0 and type(d) == "function" then
    for _, c in ipairs(categories_in(d)) do add(c, billing_line(c)) end
  elseif #out == 0 and type(d) == "table" and type(d.billing) == "string" then
    add(d.billing, billing_line(d.billing))
  end
  local a = type(d) == "table" and d.async
  if a and a.billing then add(a.billing, billing_line(a.billing) .. " with `async = true`") end
  if a and a.status_billing then
    add(a.status_billing, billing_line(a.status_billing) .. " for each poll of the job")
  end
  if #out == 0 and type(d) == "function" then
    out[1] = "none of its own (the calls it makes are billed as theirs)"
  elseif #out == 0 then
    out[1] = "set per call from the options (see the family's notes)"
  end
  return out
end

local ERRORS = "raises an `argument` error (a programmer error, with the file:line of the " ..
  "call) for an unknown option, a missing required option or a value of the wrong type; " ..
  "returns nil, err (bing.errors) otherwise: `argument` for a value outside its documented " ..
  "limits, before anything is sent; `budget` when the client's budget would be passed; " ..
  "`transport`, `timeout`, `http`, `auth`, `throttled`, `decode` and (jobs) `job` from the " ..
  "service (`err.retryable` says whether a retry may help)"

-- One line of Markdown: LDoc joins a tag's text, and a line break would end the tag.
local function md(s) return (tostring(s):gsub("\n", " ")) end

local missing

-- The parameters of a family function after its client.
local function args_of(fn)
  local out, n = {}, debug.getinfo(fn, "u").nparams
  for i = 2, n do out[#out + 1] = debug.getlocal(fn, i) end
  return out
end

local function write_family(fam)
  local mod = require("bing.api." .. fam)
  local path = source_path("bing.api." .. fam)
  local text = read(path)
  local lines = lines_of(text)
  local header = {}
  for _, l in ipairs(lines) do
    if not l:match("^%-%-") then break end
    header[#header + 1] = l:gsub("^%-%-%-?%s?", "")
  end
  local header_text = table.concat(header, "\n")
  -- Where each declaration is: the family's file, or a file of its own beside it
  -- (lua/bing/api/sds_query.lua for sds.query): the comment above it describes it.
  local decl_line, decl_lines = {}, {}
  local function scan(ls)
    for i, l in ipairs(ls) do
      local n = l:match("^_M%.([%w_]+)%s*=%s*{") or l:match("^function _M%.([%w_]+)%(")
      if n and not decl_line[n] then decl_line[n], decl_lines[n] = i, ls end
    end
  end
  scan(lines)
  do
    local dir = path:match("^(.*)/[^/]+$")
    local p = io.popen("ls " .. dir .. "/" .. fam .. "_*.lua 2>/dev/null")
    for f in p:lines() do scan(lines_of(read(f) or "")) end
    p:close()
  end

  local names = {}
  for name, entry in pairs(mod) do
    -- A plain function is a call when it takes the client first (bing.endpoint.bind); other
    -- functions a family exports (traffic's `seconds`) are helpers of its own.
    local call = type(entry) == "table"
      or (type(entry) == "function" and debug.getlocal(entry, 1) == "client")
    if type(name) == "string" and name:sub(1, 1) ~= "_" and call and endpoint.bind(false, entry) then
      names[#names + 1] = name
    end
  end
  table.sort(names)

  local o = {}
  local function w(s) o[#o + 1] = s end
  w(("--- The calls of `client.%s` (generated by doc/gen_reference.lua from lua/bing/api/%s.lua;")
    :format(fam, fam))
  w("-- the family's notes and result types: @{bing.api." .. fam .. "}).")
  w("--")
  w(("-- Each call is `client.%s.<name>{options}` (or `bing.%s.<name>{...}` on the default"):format(fam, fam))
  w("-- client). Options use Bing's names; `dry_run = true` returns the request(s) without")
  w("-- sending, `timeout` (seconds) bounds it.")
  local static = rawget(mod, "_static")
  if static then
    local keys = {}
    for k in pairs(static) do keys[#keys + 1] = k end
    table.sort(keys)
    w("--")
    w(("-- Of no client (`bing.%s.<name>`): "):format(fam))
    for i, k in ipairs(keys) do
      local v, ref = static[k], nil
      if type(v) == "function" then
        local src = debug.getinfo(v, "S").source:match("([%w_]+)%.lua$")
        local found = src and read(source_path("bing.api." .. src) or "")
        for n, fn in pairs(found and require("bing.api." .. src) or {}) do
          -- Linked only where LDoc documents it (`function _M.<n>(` with its comment).
          if fn == v and type(n) == "string" and found:find("\nfunction _M%." .. n .. "%(") then
            ref = ("@{bing.api.%s.%s}"):format(src, n)
          end
        end
      end
      w(("-- `%s`%s%s"):format(k, ref and " (" .. ref .. ")" or "", i < #keys and "," or "."))
    end
  end
  w("-- @module client." .. fam)
  w("")
  for _, name in ipairs(names) do
    local d = mod[name]
    local desc, home = {}, nil
    if type(d) == "function" then
      -- A function's own LDoc comment, in the module that defines it (its options are there).
      local info = debug.getinfo(d, "S")
      local src = info.source:match("^@(.*)")
      if src then
        desc = comment_above(lines_of(read(src)), info.linedefined)
        home = "bing.api." .. src:match("([%w_]+)%.lua$")
      end
    elseif decl_line[name] then
      desc = comment_above(decl_lines[name], decl_line[name])
    end
    if #desc == 0 and type(d) == "table" and d.path then
      desc = {("Bing's `%s`."):format(d.path)}
    elseif #desc == 0 then
      desc = {("`client.%s.%s`."):format(fam, name)}
    end
    local has_usage = false
    for _, l in ipairs(desc) do if l:match("^@usage") then has_usage = true end end
    for i, l in ipairs(desc) do w((i == 1 and "--- " or "-- ") .. l) end
    if type(d) == "table" then
      w("--")
      local method = d.post and "GET (or POST: `method = \"POST\"`, or when the URL is too long)"
        or d.body and "POST (the data in the body)" or d.method or "GET"
      -- The path with its segments: `/REST/v1/data/<source>/$commit`.
      local shown = d.path
      for _, p in ipairs(d.params or {}) do if p.segment then shown = shown .. "/<" .. p[1] .. ">" end end
      for _, seg in ipairs(d.tail or {}) do shown = shown .. "/" .. seg end
      if d.path then w(("-- Request: %s `%s`; answer: %s."):format(method, shown, d.answer or "rest")) end
      w(("-- @tparam table opts the options (unknown ones are an `argument` error)"))
      for _, p in ipairs(d.params or {}) do
        local bits = {}
        local lim = describe(p[2])
        if lim then bits[#bits + 1] = md(lim) end
        if p.bing and p.bing ~= p[1] then bits[#bits + 1] = ("sent as Bing's `%s`"):format(p.bing) end
        local al = endpoint.aliases(p)
        if #al > 0 then bits[#bits + 1] = "also spelled `" .. table.concat(al, "`, `") .. "`" end
        if p.segment then bits[#bits + 1] = "a path segment" end
        if p.default then bits[#bits + 1] = "default from the client" end
        w(("-- @param%s opts.%s %s"):format(p.required and "" or "[opt]", p[1],
          #bits > 0 and table.concat(bits, "; ") or "see the family's notes"))
      end
      for _, k in ipairs(d.options or {}) do
        w(("-- @param[opt] opts.%s the library's own option (see @{bing.api.%s})"):format(k, fam))
      end
      w("-- @param[opt] opts.dry_run `true`: return the request(s) without sending")
      w("-- @param[opt] opts.timeout seconds")
      if d.pages then
        w("-- @return the first page (a list with `:pages()`, `:each()`, `:all{max =}`: bing.pager;"
          .. " the next pages asked " .. (d.pages.top and "by `" .. d.pages.skip .. "` moved on"
          or "") .. (d.pages.next and ", or by the answer's next link" or "") .. "), or nil, err")
      elseif d.async and d.async.always then
        w("-- @return a bing.jobs Job (`job:wait()`), or nil, err")
      elseif d.async then
        w("-- @return the result object, or a bing.jobs Job with `async = true`; or nil, err")
      else
        w("-- @return the result object (see @{bing.api." .. fam .. "}), or nil, err")
      end
      w("-- @limits refused before sending: each option's limits above" ..
        (d.rules and "; the family's rules across options (see its notes)" or "") ..
        (d.plan and "; a call over the service's per-request limits is split or refused (see the notes)"
          or ""))
    else
      w("--")
      if not table.concat(desc, "\n"):match("@param") then
        w(("-- Defined as @{%s.%s}."):format(home or "bing.api." .. fam, name))
        for _, a in ipairs(args_of(d)) do
          if a == "args" or a == "opts" then
            w("-- @tparam table " .. a .. " the options (see its definition)")
          else
            w("-- @param " .. a .. " see its definition")
          end
        end
      end
      if not table.concat(desc, "\n"):match("@return") then w("-- @return the result, or nil, err") end
    end
    for _, b in ipairs(billing_of(fam, name, d)) do w("-- @billing " .. md(b)) end
    w("-- @errors " .. ERRORS)
    local ex = not has_usage and example(fam, name, header_text)
    if not ex and not has_usage then missing[#missing + 1] = fam .. "." .. name end
    if ex then
      w("-- @usage")
      for l in (ex .. "\n"):gmatch("(.-)\n") do w("-- " .. l) end
    end
    local sig = type(d) == "function" and table.concat(args_of(d), ", ") or "opts"
    w(("function %s(%s) end"):format(name, sig))
    w("")
  end
  local f = assert(io.open(outdir .. "/client_" .. fam .. ".lua", "wb"))
  f:write(table.concat(o, "\n"))
  f:close()
  return #names
end

-- Every call has an example: one in its comment (@usage), its family's notes, README.md's
-- code or examples/. A call without one fails `make docs`.
missing = {}
local total = 0
for _, fam in ipairs(bing.FAMILIES) do total = total + write_family(fam) end
if as_library then return {calls = total, missing = missing} end
if #missing > 0 then
  io.stderr:write("gen_reference: no example for " .. table.concat(missing, ", ") .. "\n")
  os.exit(1)
end
io.stderr:write(("gen_reference: %d calls of %d families in %s\n"):format(total, #bing.FAMILIES, outdir))
