--- The `bing` command: the library at a shell (bin/bing is a launcher for `main`).
--
--     bing geocode "1 Microsoft Way, Redmond, WA"      an aligned table
--     bing route Seattle Redmond --geojson > r.json     GeoJSON for QGIS or geojson.io
--     cut -d, -f1 places.csv | bing geocode --csv      one query a line from stdin
--
-- `main(argv, io)` runs one command and returns its exit code (EXIT); `io` gives the streams
-- and the environment (`stdout`, `stderr`, `stdin`, `getenv`, `stderr_tty`), so that specs can
-- run it in-process as well as through bin/bing.
--
-- The command line is parsed by hand. Debian's lua-argparse (0.7.1) exists, but it calls
-- os.exit on --help and on every usage error from inside the parser (main could not be run
-- in-process, nor choose the exit code of a usage error), echoes option values in its
-- messages (a mistyped `--kye SECRET` would print the key), and would be a rock dependency
-- for one screen of code.
-- @module bing.cli
local bing = require "bing"
local core = require "bing.core"
local errors = require "bing.errors"
local tiles = require "bing.tiles"
local output = require "bing.cli.output"
local geojson = require "bing.geojson"
local cjson = require "cjson"

local _M = {}

--- Exit codes, one per kind of error (README "The bing command" has this table).
local EXIT = {
  ok = 0, internal = 1, usage = 2, argument = 3, auth = 4, budget = 5, throttled = 6,
  timeout = 7, transport = 8, http = 9, decode = 10, job = 11, config = 12,
}
_M.EXIT = EXIT

-- A failure of the command line itself (kind "usage") or of the config file (kind "config"):
-- raised as a table and turned into a message and an exit code by main.
local function fail(kind, message)
  error({cli_kind = kind, message = message}, 0)
end
local function usage(message) fail("usage", message) end

-- A value on the command line that is not valid (a latitude of 95): the library's own kind.
local function bad_value(message)
  error(errors.argument(message), 0)
end

local GLOBAL_OPTS = {
  ["--key"] = "string", ["--base-url"] = "string", ["--sds-url"] = "string",
  ["--budget"] = "number", ["--qps"] = "number", ["--dry-run"] = "flag", ["--json"] = "flag",
  ["--geojson"] = "flag", ["--csv"] = "flag", ["--config"] = "string", ["--no-progress"] = "flag",
  ["--culture"] = "string", ["--timeout"] = "number", ["--help"] = "flag",
  ["--concurrency"] = "number", ["-o"] = "string", ["--output"] = "string",
  ["--verbose"] = "flag",
}
local SHORT = {["-h"] = "--help", ["-v"] = "--verbose"}

local GLOBAL_HELP = [[
Options for every command:
  --json | --geojson | --csv   output for tools (default: an aligned table)
  -o, --output FILE            write the output to FILE instead of stdout
  --key KEY                    the Bing Maps key (else BING_MAPS_KEY, else the config file)
  --base-url URL               where requests go (the emulator); also SDS, unless --sds-url
  --sds-url URL                the Spatial Data Services host
  --budget N                   refuse to pass N billable transactions in this command
  --qps N                      at most N requests a second
  --timeout S                  seconds per request
  --culture C                  e.g. en-US
  --dry-run                    price the command, send nothing (same as `bing estimate`)
  --concurrency N              requests in flight for lists (default 4)
  --no-progress                no progress bar even on a terminal
  -v, --verbose                each request on stderr: URL (key redacted), billing, attempts
  --config FILE                the config file (default $XDG_CONFIG_HOME/bing/config.lua)
]]

local COMMANDS, ORDER = {}, {}
local function command(name, def)
  COMMANDS[name] = def
  ORDER[#ORDER + 1] = name
end


local NUM = "([%+%-]?%d+%.?%d*)"
local POINT_PAT = "^%s*" .. NUM .. "%s*,%s*" .. NUM .. "%s*$"

-- "LAT,LON" as a point, or nil when the text is not of that shape (an address, then).
local function point_of(s)
  local a, b = s:match(POINT_PAT)
  if not a then return nil end
  local lat, lon = tonumber(a), tonumber(b)
  if not lat or not lon then return nil end
  if lat < -90 or lat > 90 or lon < -180 or lon > 180 then
    bad_value(("%s: latitude must be within -90..90 and longitude within -180..180"):format(s))
  end
  return {lat, lon}
end

local function need_point(s)
  local p = point_of(s)
  if not p then bad_value(("'%s' is not LAT,LON"):format(s)) end
  return p
end

local function numbers(s, n, what)
  local out = {}
  for part in (s .. ","):gmatch("([^,]*),") do
    local v = tonumber(part)
    if not v then bad_value(("%s: '%s' is not a number"):format(what, part)) end
    out[#out + 1] = v
  end
  if n and #out ~= n then bad_value(("%s takes %d numbers separated by commas"):format(what, n)) end
  return out
end

-- Parses argv: options anywhere (`--name value`, `--name=value`), `--` ends them, `-` alone
-- is an operand (stdin). The command is the first operand.
local function parse(argv, ctx)
  local opts, operands, cmd = {}, {}, nil
  local i, n, ended = 1, #argv, false
  while i <= n do
    local a = argv[i]
    if ended or a == "-" or a:sub(1, 1) ~= "-" or a:match("^%-%d") then
      if cmd == nil then
        cmd = a
        if COMMANDS[cmd] then ctx.cmd = cmd end
      else
        operands[#operands + 1] = a
      end
    elseif a == "--" then
      ended = true
    else
      local name, value = a:match("^(%-%-[%w%-]+)=(.*)$")
      name = name or a
      name = SHORT[name] or name
      -- `bing estimate route ...` takes the options of route
      local def = COMMANDS[cmd or ""]
      if def and def.estimate and operands[1] then def = COMMANDS[operands[1]] end
      local ty = GLOBAL_OPTS[name] or (def and def.opts and def.opts[name])
      if not ty then
        -- Only the option's name is shown: a value may be a secret.
        usage(("unknown option %s%s"):format(name:match("^[^=]*"), cmd and (" for '" .. cmd .. "'") or ""))
      end
      if ty == "flag" then
        if value then usage(name .. " takes no value") end
        opts[name] = true
      else
        if not value then
          i = i + 1
          value = argv[i]
          if value == nil then usage(name .. " needs a value") end
        end
        if ty == "number" then
          local v = tonumber(value)
          if not v then usage(name .. " needs a number") end
          value = v
        end
        if ty == "list" then
          opts[name] = opts[name] or {}
          table.insert(opts[name], value)
        else
          opts[name] = value
        end
      end
    end
    i = i + 1
  end
  return cmd, opts, operands
end

-- Operands, or stdin's lines (one item a line, blank lines skipped) when there are none or
-- the only one is "-".
local function items_of(ctx, operands, what)
  if #operands == 0 or (#operands == 1 and operands[1] == "-") then
    local list = {}
    for line in ctx.io.stdin:lines() do
      line = line:gsub("\r$", "")
      if #list == 0 then line = line:gsub("^\239\187\191", "") end -- a UTF-8 byte order mark
      if line:match("%S") then list[#list + 1] = line end
    end
    if #list == 0 then usage("no " .. what .. " given (as arguments, or one a line on stdin)") end
    return list
  end
  return operands
end

local function read_file(ctx, path)
  if path == "-" then return ctx.io.stdin:read("a") end
  local f, err = io.open(path, "rb")
  if not f then bad_value("cannot read " .. tostring(err)) end
  local text = f:read("a")
  f:close()
  return text
end

local function lines_of(text)
  local list = {}
  text = text:gsub("^\239\187\191", "") -- a UTF-8 byte order mark (Notepad writes one)
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("\r$", "")
    if line:match("%S") then list[#list + 1] = line end
  end
  return list
end


local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- The permission bits of a file (an octal string such as "600"), or nil when it is missing.
local function mode_of(path)
  local p = io.popen("stat -L -c %a -- " .. shell_quote(path) .. " 2>/dev/null")
  if not p then return nil end
  local m = p:read("l")
  p:close()
  return m and m:match("^%d+$") and m or nil
end

local CONFIG_KEYS = {key = "string", base_url = "string", sds_url = "string", budget = "number",
                     qps = "number", culture = "string", timeout = "number", concurrency = "number"}

-- The config file is data: a Lua chunk of assignments (key = "...", base_url = "...") run in
-- an empty environment (no functions to call) and as text only (no bytecode). It holds a key,
-- so it is refused when its group or others may read or write it (chmod 600).
local function load_config(ctx, explicit)
  local path = explicit
  if not path then
    local xdg, home = ctx.getenv("XDG_CONFIG_HOME"), ctx.getenv("HOME")
    if xdg and xdg ~= "" then path = xdg .. "/bing/config.lua"
    elseif home and home ~= "" then path = home .. "/.config/bing/config.lua" end
  end
  if not path then return {} end
  local mode = mode_of(path)
  if not mode then
    if explicit then fail("config", path .. ": no such file") end
    return {}
  end
  -- stat drops leading zeros (mode 006 is "6"): pad to the three digits of owner, group, others.
  mode = ("000" .. mode):sub(-math.max(3, #mode))
  local g, o = tonumber(mode:sub(-2, -2)), tonumber(mode:sub(-1))
  -- read (4) or write (2) for the group or others
  if g % 8 >= 2 or o % 8 >= 2 then
    fail("config", ("%s can be read or written by others (mode %s): chmod 600 %s")
      :format(path, mode, path))
  end
  local f, ferr = io.open(path, "rb")
  if not f then fail("config", tostring(ferr)) end
  local text, why = f:read("a")
  f:close()
  -- A directory opens on Linux and reads as nothing.
  if not text then fail("config", ("%s: not a readable file (%s)"):format(path, tostring(why))) end
  local env = {}
  local chunk, err = load(text, "=" .. path, "t", env)
  if not chunk then fail("config", tostring(err)) end
  -- LuaJIT's load takes no environment argument (Lua 5.1): set it.
  if setfenv then setfenv(chunk, env) end
  local ok, rerr = pcall(chunk)
  if not ok then fail("config", tostring(rerr)) end
  for k, v in pairs(env) do
    if not CONFIG_KEYS[k] then fail("config", ("%s: unknown setting '%s'"):format(path, tostring(k))) end
    if type(v) ~= CONFIG_KEYS[k] then
      fail("config", ("%s: %s must be a %s"):format(path, k, CONFIG_KEYS[k]))
    end
  end
  return env
end

local function client_of(ctx)
  if ctx.client then return ctx.client end
  local o, cfg = ctx.opts, ctx.config
  local function env(name)
    local v = ctx.getenv(name)
    if v == "" then return nil end
    return v
  end
  local key = o["--key"] or env "BING_MAPS_KEY" or cfg.key
  local base = o["--base-url"] or env "BING_BASE_URL" or cfg.base_url
  -- A base URL given alone is taken for the SDS host too: it points at an emulator or a
  -- proxy that answers both (the real service has two hosts, each with its default).
  local sds = o["--sds-url"] or env "BING_SDS_URL" or cfg.sds_url or base
  local budget = o["--budget"] or cfg.budget
  ctx.key = key
  local opts = {key = key, base_url = base, sds_url = sds, qps = o["--qps"] or cfg.qps,
                culture = o["--culture"] or cfg.culture, timeout = o["--timeout"] or cfg.timeout,
                budget = budget and {billable = budget} or nil}
  -- Specs running main in-process add options here (a Lua transport, a clock).
  for k, v in pairs(ctx.io.client_options or {}) do opts[k] = v end
  local ok, c = pcall(bing.new, opts)
  if not ok then error(c, 0) end
  ctx.client = c
  return c
end


-- Every list (several queries, a CSV) runs through client:batch: concurrent requests over the
-- client's one curl multi handle, `--concurrency` in flight, each item's error kept in its
-- place. A dry run sends nothing, so it goes through a plain loop with the same contract:
-- fn(client, item, i) returns a result or nil, err, and an error it raises (a value refused by
-- a family) stays in its item.
local function run_batch(ctx, items, fn, label)
  local client = client_of(ctx)
  local prog = output.progress(ctx.io.stderr, #items > 1 and ctx.progress(), label, core.now)
  prog.update(0, #items, 0)
  local results
  if not ctx.dry_run then
    results = client:batch(items, fn, {concurrency = ctx.concurrency, on_progress = function(p)
      prog.update(p.done, p.total, p.failed)
    end})
  else
    results = {n = #items}
    local failed = 0
    for i, item in ipairs(items) do
      local ok, r, err = pcall(fn, client, item, i)
      if not ok then
        if not errors.is_error(r) then prog.finish(); error(r, 0) end
        err, r = r, nil
      end
      if r == nil then
        r = err
        failed = failed + 1
      end
      results[i] = r
      prog.update(i, #items, failed)
    end
  end
  prog.finish()
  return results
end

-- Reports a failed item on stderr and remembers the first kind for the exit code.
local function report(ctx, what, err)
  ctx.failed = ctx.failed or err
  ctx.io.stderr:write(ctx.scrub(("bing: %s: %s\n"):format(what, tostring(err):gsub("^bing: ", ""))))
end

-- --verbose: what a call sent, from its result's meta or its error (URLs come redacted from
-- the library; the scrub is the second line of defence).
local function trace(ctx, v)
  if not ctx.verbose or type(v) ~= "table" then return end
  local m = errors.is_error(v) and v or rawget(v, "meta")
  if type(m) ~= "table" or not m.url then return end
  local b = m.billing or {}
  ctx.io.stderr:write(ctx.scrub(("bing: %s %s -> %s%s x%s%s, %s attempt(s)%s\n"):format(
    tostring(m.method or "GET"), tostring(m.url), errors.is_error(v) and (v.kind .. " ") or "",
    tostring(b.category), tostring(b.transactions), b.billable and " billable" or "",
    tostring(m.attempts), m.trace_id and (", trace " .. tostring(m.trace_id)) or "")))
end

-- The command being run (main sets it), for call's trace.
local current

-- One call: the result, or the error raised for main to report.
local function call(fn, args)
  local ok, r, err = pcall(fn, args)
  if not ok then error(r, 0) end
  trace(current, r or err)
  if r == nil then error(err, 0) end
  return r
end


local function plan_rows(plans, labels)
  local rows, total = {}, 0
  for i, plan in ipairs(plans) do
    local calls = plan.calls or {{method = plan.method, url = plan.url, billing = plan.billing}}
    for j, c in ipairs(calls) do
      local b = c.billing or {}
      local n = b.transactions or 0
      if b.billable then total = total + n end
      rows[#rows + 1] = {item = labels and labels[i] or i, request = j, method = c.method,
                         category = b.category, transactions = n,
                         billable = b.billable and "yes" or "no", url = c.url}
    end
  end
  return rows, total
end

local function show_plans(_, plans, labels)
  local rows, total = plan_rows(plans, labels)
  local fits = true
  for _, p in ipairs(plans) do if p.fits == false then fits = false end end
  return {columns = {"item", "request", "method", "category", "transactions", "billable", "url"},
          rows = rows, json = {requests = #rows, billable_transactions = total, fits = fits,
                               plans = plans},
          footer = ("%d request(s), %d billable transaction(s)%s"):format(#rows, total,
            fits and "" or "; over the budget")}
end

-- Runs fn(client, item, i) over items, or their dry runs; errors are reported per item.
-- Returns the results that succeeded, each with its item: {{item =, i =, value =}, ...}.
local function each(ctx, items, fn, label)
  local results = run_batch(ctx, items, fn, label)
  local ok = {}
  for i = 1, #items do
    local r = results[i]
    trace(ctx, r)
    if errors.is_error(r) then report(ctx, items[i], r)
    elseif r ~= nil then ok[#ok + 1] = {item = items[i], i = i, value = r} end
  end
  return ok
end

local function dry(ctx, items, fn)
  local done = each(ctx, items, fn, "estimate")
  local plans, labels = {}, {}
  for _, d in ipairs(done) do plans[#plans + 1] = d.value; labels[#labels + 1] = d.item end
  return show_plans(ctx, plans, labels)
end


local function fc(features)
  return geojson.collection(features)
end

local function loc_rows(ctx, done)
  local rows, feats, json = {}, {}, {}
  for _, d in ipairs(done) do
    local entry = {query = d.item, locations = geojson.empty_array()}
    for _, loc in ipairs(d.value) do
      local lat, lon = loc:latlon()
      rows[#rows + 1] = {query = d.item, name = loc.name, lat = lat, lon = lon,
                         confidence = loc.confidence, type = loc.entityType}
      local f = loc:geojson()
      f.properties = f.properties or {}
      f.properties.query = d.item
      feats[#feats + 1] = f
      entry.locations[#entry.locations + 1] = loc
    end
    if #d.value == 0 then
      ctx.io.stderr:write(ctx.scrub(("bing: %s: nothing found\n"):format(d.item)))
    end
    json[#json + 1] = entry
  end
  return {columns = {"query", "name", "lat", "lon", "confidence", "type"}, rows = rows,
          json = json, geojson = fc(feats)}
end

command("geocode", {
  summary = "addresses or places to coordinates",
  usage = "bing geocode [--max N] QUERY... (or one query a line on stdin)",
  opts = {["--max"] = "number"},
  run = function(ctx, o, operands)
    local items = items_of(ctx, operands, "query")
    local fn = function(c, q)
      return c.locations.find{q = q, maxResults = o["--max"] or 1, dry_run = ctx.dry_run or nil}
    end
    if ctx.dry_run then return dry(ctx, items, fn) end
    return loc_rows(ctx, each(ctx, items, fn, "geocode"))
  end,
})

command("reverse", {
  summary = "coordinates to addresses",
  usage = "bing reverse LAT,LON... (or one a line on stdin)",
  run = function(ctx, _, operands)
    local items = items_of(ctx, operands, "point")
    for _, s in ipairs(items) do need_point(s) end
    local fn = function(c, s)
      return c.locations.find{point = need_point(s), dry_run = ctx.dry_run or nil}
    end
    if ctx.dry_run then return dry(ctx, items, fn) end
    return loc_rows(ctx, each(ctx, items, fn, "reverse"))
  end,
})

local function waypoint_of(s)
  return point_of(s) or s
end

command("route", {
  summary = "a route through two or more waypoints",
  usage = "bing route [--mode driving|walking|transit|truck] [--optimize time|distance|...]\n"
    .. "                  [--avoid tolls,...] [--steps] A B [C...]   (addresses or LAT,LON)",
  opts = {["--mode"] = "string", ["--optimize"] = "string", ["--avoid"] = "string",
          ["--steps"] = "flag"},
  run = function(ctx, o, operands)
    local items = items_of(ctx, operands, "waypoint")
    if #items < 2 then usage("a route needs at least two waypoints") end
    local wps = {}
    for i, s in ipairs(items) do wps[i] = waypoint_of(s) end
    local args = {waypoints = wps, travelMode = o["--mode"], optimize = o["--optimize"],
                  avoid = o["--avoid"], dry_run = ctx.dry_run or nil}
    if ctx.format == "geojson" then args.routeAttributes = "routePath" end
    local c = client_of(ctx)
    local routes = call(c.routes.calc, args)
    if ctx.dry_run then return show_plans(ctx, {routes}) end
    if o["--steps"] then
      local rows = {}
      for _, st in ipairs(routes[1]:instructions()) do
        rows[#rows + 1] = {leg = st.leg, maneuver = st.maneuverType, distance = st.travelDistance,
                           duration = st.travelDuration, text = st.text}
      end
      return {columns = {"leg", "maneuver", "distance", "duration", "text"}, rows = rows,
              json = routes, geojson = routes:geojson()}
    end
    local rows = {}
    for i, r in ipairs(routes) do
      rows[i] = {route = i, distance = r.travelDistance, unit = r.distanceUnit,
                 duration = output.hms(r.travelDuration), traffic = output.hms(r.travelDurationTraffic),
                 legs = #r:legs()}
    end
    return {columns = {"route", "distance", "unit", "duration", "traffic", "legs"}, rows = rows,
            json = routes, geojson = routes:geojson()}
  end,
})

local function points_file(ctx, path, what)
  local list = {}
  for _, line in ipairs(lines_of(read_file(ctx, path))) do list[#list + 1] = need_point(line) end
  if #list == 0 then bad_value(what .. ": no points in " .. path) end
  return list
end

command("matrix", {
  summary = "distances and times between origins and destinations",
  usage = "bing matrix --origins FILE [--destinations FILE] [--mode driving|walking]\n"
    .. "       (FILE: one LAT,LON a line; - is stdin; no destinations: origins x origins)",
  opts = {["--origins"] = "string", ["--destinations"] = "string", ["--mode"] = "string"},
  run = function(ctx, o, operands)
    if #operands > 0 then usage("matrix takes its points from --origins and --destinations") end
    if not o["--origins"] then usage("--origins FILE is required") end
    if o["--origins"] == "-" and o["--destinations"] == "-" then
      usage("only one of --origins and --destinations can be stdin")
    end
    local origins = points_file(ctx, o["--origins"], "--origins")
    local dests = o["--destinations"] and points_file(ctx, o["--destinations"], "--destinations")
    local c = client_of(ctx)
    local m = call(c.routes.matrix, {origins = origins, destinations = dests,
                                     travelMode = o["--mode"], dry_run = ctx.dry_run or nil})
    if ctx.dry_run then return show_plans(ctx, {m}) end
    dests = dests or origins
    local rows = {}
    for i = 1, #origins do
      for j = 1, #dests do
        local dist, dur = m:get(i, j)
        rows[#rows + 1] = {origin = i, destination = j, distance = dist, duration = dur}
      end
    end
    -- GeoJSON: the library's (origin and destination points, a line per cell)
    return {columns = {"origin", "destination", "distance", "duration"}, rows = rows,
            json = {origins = origins, destinations = dests, distances = m:distances(),
                    durations = m:durations()}, geojson = m:geojson()}
  end,
})

command("isochrone", {
  summary = "the area reachable within a time or distance",
  usage = "bing isochrone (LAT,LON | ADDRESS) (--minutes N | --km N)",
  opts = {["--minutes"] = "number", ["--km"] = "number"},
  run = function(ctx, o, operands)
    if #operands ~= 1 then usage("isochrone takes one waypoint") end
    if (o["--minutes"] == nil) == (o["--km"] == nil) then usage("give one of --minutes and --km") end
    local c = client_of(ctx)
    -- Past 30 minutes or 24 km the library uses the asynchronous API (the reference's advice):
    -- the CLI then starts the job itself and waits with a progress bar (one job: 0/1, then 1/1;
    -- the time left is the service's callbackInSeconds).
    local async = not ctx.dry_run and ((o["--minutes"] or 0) > 30 or (o["--km"] or 0) > 24) or nil
    local iso = call(c.routes.isochrone, {waypoint = waypoint_of(operands[1]),
      maxTime = o["--minutes"], timeUnit = o["--minutes"] and "minute" or nil,
      maxDistance = o["--km"], distanceUnit = o["--km"] and "km" or nil,
      dry_run = ctx.dry_run or nil, async = async})
    if ctx.dry_run then return show_plans(ctx, {iso}) end
    if async then
      local prog = output.progress(ctx.io.stderr, ctx.progress(), "job", core.now)
      prog.update(0, 1, 0)
      local res, err = iso:wait{on_progress = function(st)
        prog.update(st.completed and 1 or 0, 1, st.failed and 1 or 0,
                    (st.completed or st.failed) and 0 or st.callback_in)
      end}
      if res then prog.update(1, 1, 0, 0) end
      prog.finish()
      trace(ctx, res or err)
      if not res then error(err, 0) end
      iso = res
    end
    local rows = {}
    for i, poly in ipairs(iso:rings()) do
      local n = 0
      for _, ring in ipairs(poly) do n = n + #ring end
      rows[i] = {polygon = i, rings = #poly, vertices = n}
    end
    return {columns = {"polygon", "rings", "vertices"}, rows = rows, json = iso,
            geojson = geojson.collection({iso:geojson()})}
  end,
})

command("elevation", {
  summary = "heights of points",
  usage = "bing elevation [--heights sealevel|ellipsoid] LAT,LON... (or one a line on stdin)",
  opts = {["--heights"] = "string"},
  run = function(ctx, o, operands)
    local pts = {}
    for i, s in ipairs(items_of(ctx, operands, "point")) do pts[i] = need_point(s) end
    local c = client_of(ctx)
    local e = call(c.elevations.list, {points = pts, heights = o["--heights"],
                                       dry_run = ctx.dry_run or nil})
    if ctx.dry_run then return show_plans(ctx, {e}) end
    local rows = {}
    for i, p, m in e:pairs() do rows[#rows + 1] = {i = i, lat = p[1], lon = p[2], elevation = m} end
    return {columns = {"lat", "lon", "elevation"}, rows = rows, json = e, geojson = e:geojson()}
  end,
})

command("timezone", {
  summary = "the time zone of a point or a place",
  usage = "bing timezone [--datetime 2018-05-15T13:14:15Z] (LAT,LON | PLACE)",
  opts = {["--datetime"] = "string"},
  run = function(ctx, o, operands)
    if #operands ~= 1 then usage("timezone takes one point or place") end
    local p = point_of(operands[1])
    local c = client_of(ctx)
    local zones = call(c.timezone.find, {point = p, query = not p and operands[1] or nil,
                                         datetime = o["--datetime"], dry_run = ctx.dry_run or nil})
    if ctx.dry_run then return show_plans(ctx, {zones}) end
    local rows = {}
    for i, z in ipairs(zones) do
      rows[i] = {place = z.placeName, iana = z.ianaTimeZoneId, windows = z.windowsTimeZoneId,
                 utc_offset = z.utcOffset, abbreviation = z.abbreviation,
                 ["local"] = z.convertedTime and z.convertedTime.localTime}
    end
    return {columns = {"place", "iana", "windows", "utc_offset", "abbreviation", "local"},
            rows = rows, json = zones}
  end,
})

command("traffic", {
  summary = "traffic incidents in a box",
  usage = "bing traffic [--severity 3,4] [--type 1,9] SOUTH,WEST,NORTH,EAST",
  opts = {["--severity"] = "string", ["--type"] = "string"},
  run = function(ctx, o, operands)
    if #operands ~= 1 then usage("traffic takes one box SOUTH,WEST,NORTH,EAST") end
    local box = numbers(operands[1], 4, "the box")
    local c = client_of(ctx)
    local list = call(c.traffic.incidents, {mapArea = box, severity = o["--severity"],
                                            type = o["--type"], dry_run = ctx.dry_run or nil})
    if ctx.dry_run then return show_plans(ctx, {list}) end
    local rows = {}
    for i, inc in ipairs(list) do
      local lat, lon = inc:latlon()
      rows[i] = {id = tostring(inc.incidentId), severity = inc:severity_name(), type = inc:type_name(),
                 closed = inc.roadClosed and "yes" or "no", lat = lat, lon = lon,
                 description = inc.description or inc.title}
    end
    return {columns = {"id", "severity", "type", "closed", "lat", "lon", "description"},
            rows = rows, json = list, geojson = list:geojson()}
  end,
})

command("autosuggest", {
  summary = "suggestions for what a user is typing",
  usage = "bing autosuggest --near LAT,LON[,RADIUS_M] [--max N] [--types Address,Place,Business] TEXT",
  opts = {["--near"] = "string", ["--max"] = "number", ["--types"] = "string"},
  run = function(ctx, o, operands)
    if #operands ~= 1 then usage("autosuggest takes one text") end
    if not o["--near"] then
      usage("--near LAT,LON[,RADIUS_M] is required (the service needs the user's place)")
    end
    local near = numbers(o["--near"], nil, "--near")
    if #near == 2 then near[3] = 5000 end
    if #near ~= 3 then bad_value("--near takes LAT,LON or LAT,LON,RADIUS_M") end
    local c = client_of(ctx)
    local list = call(c.autosuggest.find, {query = operands[1], userLocation = near,
      maxResults = o["--max"], includeEntityTypes = o["--types"], dry_run = ctx.dry_run or nil})
    if ctx.dry_run then return show_plans(ctx, {list}) end
    local rows = {}
    for i, s in ipairs(list) do rows[i] = {type = s:type(), text = s:text()} end
    return {columns = {"type", "text"}, rows = rows, json = list}
  end,
})

-- The tile URL template: --template, BING_TILE_TEMPLATE, or the Imagery Metadata API (one
-- billable RESTImagery-Metadata request; a tile viewer keeps the template and asks it once).
local function tile_template(ctx, o)
  local t = o["--template"] or ctx.getenv("BING_TILE_TEMPLATE")
  if t and t ~= "" then return t, nil end
  local c = client_of(ctx)
  local md = call(c.imagery.metadata, {imagerySet = o["--set"] or "RoadOnDemand",
                                       dry_run = ctx.dry_run or nil})
  return nil, md
end

command("tile", {
  summary = "the tile of a point: quadkey, x, y and URL",
  usage = "bing tile --level N [--set RoadOnDemand] [--template URL [--subdomains t0,t1]] LAT,LON",
  opts = {["--level"] = "number", ["--set"] = "string", ["--template"] = "string",
          ["--subdomains"] = "string"},
  run = function(ctx, o, operands)
    if #operands ~= 1 then usage("tile takes one LAT,LON") end
    if not o["--level"] then usage("--level N is required (1-23)") end
    local p = need_point(operands[1])
    local level = o["--level"]
    local qk = tiles.latlon_to_quadkey(p[1], p[2], level)
    local x, y = tiles.quadkey_to_tile(qk)
    local template, md = tile_template(ctx, o)
    if ctx.dry_run then return show_plans(ctx, {md}) end
    local url
    if template then
      -- Bing's tile hosts (imageUrlSubdomains of the metadata) unless given
      local subs = {}
      for sd in (o["--subdomains"] or "t0,t1,t2,t3"):gmatch("[^,]+") do subs[#subs + 1] = sd end
      url = tiles.url(template, qk, {subdomains = subs})
    else
      url = md[1]:tile_url(qk)
    end
    local s, w, n, e = tiles.tile_bounds(x, y, level)
    local row = {quadkey = qk, x = x, y = y, level = level, url = url}
    return {columns = {"quadkey", "x", "y", "level", "url"}, rows = {row}, json = row,
            geojson = fc({{type = "Feature", properties = row, geometry = {type = "Polygon",
              coordinates = {{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}}}}})}
  end,
})

command("staticmap", {
  summary = "a map image (PNG, JPEG or GIF) of a point or a place, with pushpins",
  usage = "bing staticmap [--set Road] [--zoom N] [--size WxH] [--format png|jpeg|gif]\n"
    .. "                [--pin LAT,LON]... (LAT,LON | QUERY) -o map.png",
  opts = {["--set"] = "string", ["--zoom"] = "number", ["--size"] = "string",
          ["--format"] = "string", ["--pin"] = "list"},
  run = function(ctx, o, operands)
    if #operands ~= 1 then usage("staticmap takes one centre point or query") end
    local file = ctx.opts["-o"] or ctx.opts["--output"]
    if not file and not ctx.dry_run then usage("-o FILE is required (the image)") end
    local c = client_of(ctx)
    local p = point_of(operands[1])
    local size
    if o["--size"] then
      local w, h = o["--size"]:match("^(%d+)x(%d+)$")
      if not w then bad_value("--size takes WIDTHxHEIGHT") end
      size = {tonumber(w), tonumber(h)}
    end
    local pins
    if o["--pin"] then
      pins = {}
      for i, s in ipairs(o["--pin"]) do pins[i] = need_point(s) end
    end
    -- Without --format, the file's extension says it (the service's default is JPEG).
    local format = o["--format"]
    if not format and file then
      local ext = file:lower():match("%.(%a+)$")
      format = ({png = "png", gif = "gif", jpg = "jpeg", jpeg = "jpeg"})[ext or ""]
    end
    -- The path is tried first: one that cannot be written costs no transaction. It is opened
    -- to append (nothing truncated), so that a failed call leaves a file of an earlier run as
    -- it was; a file made by the try is removed again.
    local f = ctx.io.stdout
    local to_file = file ~= "-" and not ctx.dry_run
    local existed = false
    if to_file then
      local old = io.open(file, "rb")
      if old then existed = true; old:close() end
      local probe, ferr = io.open(file, "ab")
      if not probe then bad_value("cannot write " .. tostring(ferr)) end
      probe:close()
    end
    -- A point needs a zoom level (the service's own rule); 15 shows a few streets.
    local ok, img = pcall(call, c.imagery.static_map, {imagerySet = o["--set"] or "Road",
      centerPoint = p, query = not p and operands[1] or nil, zoomLevel = o["--zoom"] or (p and 15 or nil),
      mapSize = size, format = format, pushpins = pins, dry_run = ctx.dry_run or nil})
    if not ok then
      if to_file and not existed then os.remove(file) end
      error(img, 0)
    end
    if ctx.dry_run then return show_plans(ctx, {img}) end
    if to_file then
      local ferr
      f, ferr = io.open(file, "wb")
      if not f then bad_value("cannot write " .. tostring(ferr)) end
    end
    f:write(img.bytes)
    if f ~= ctx.io.stdout then f:close() end
    local row = {file = file, content_type = img.content_type, width = img.width,
                 height = img.height, bytes = #img.bytes}
    ctx.io.stderr:write(output.table({"file", "content_type", "width", "height", "bytes"}, {row}))
    return nil
  end,
})

-- CSV rows of an input file into geocode requests (the columns of examples/csv_to_geojson.lua):
-- a `query` column is free text; else address, city, state, zip, country make an address.
local ADDRESS_COLS = {address = "AddressLine", city = "Locality", state = "AdminDistrict",
                      zip = "PostalCode", country = "CountryRegion"}
local ADDRESS_REST = {address = "addressLine", city = "locality", state = "adminDistrict",
                      zip = "postalCode", country = "countryRegion"}

local function csv_requests(text)
  -- Excel's "CSV UTF-8" starts the file with a byte order mark: not part of the first name.
  text = text:gsub("^\239\187\191", "")
  local records = require("bing.api.sds_format").records(text, ",")
  local header = table.remove(records, 1)
  if not header then bad_value("the CSV file is empty") end
  local col = {}
  for i, name in ipairs(header) do col[name:lower():gsub("^%s+", ""):gsub("%s+$", "")] = i end
  if not col.query and not col.address and not col.city then
    bad_value("the CSV's first line must name a 'query' column, or 'address' (city, state, zip, country)")
  end
  local reqs = {}
  for _, row in ipairs(records) do
    local props = {}
    for i, name in ipairs(header) do props[name] = row[i] end
    local q = col.query and row[col.query]
    local r = {props = props}
    if q and q:match("%S") then
      r.query = q
    else
      local addr, rest = {}, {}
      for name in pairs(ADDRESS_COLS) do
        local v = col[name] and row[col[name]]
        if v and v:match("%S") then addr[ADDRESS_COLS[name]], rest[ADDRESS_REST[name]] = v, v end
      end
      if next(addr) then r.address, r.rest = addr, rest end
    end
    if r.query or r.address then reqs[#reqs + 1] = r end
  end
  if #reqs == 0 then bad_value("the CSV file has no row to geocode") end
  return reqs, header
end

local function feature_of(props, lat, lon, extra)
  local p = {}
  for k, v in pairs(props) do p[k] = v end
  for k, v in pairs(extra) do p[k] = v end
  return {type = "Feature", properties = p,
          geometry = lat and {type = "Point", coordinates = {lon, lat}} or cjson.null}
end

command("batch-geocode", {
  summary = "a CSV file of addresses to GeoJSON (a dataflow job, or concurrent requests)",
  usage = "bing batch-geocode [--via job|batch] IN.csv [-o OUT.geojson]\n"
    .. "       (IN.csv: a 'query' column, or address, city, state, zip, country; - is stdin)",
  opts = {["--via"] = "string"},
  run = function(ctx, o, operands)
    if #operands ~= 1 then usage("batch-geocode takes one CSV file (- for stdin)") end
    local via = o["--via"] or "job"
    if via ~= "job" and via ~= "batch" then usage("--via is job or batch") end
    local reqs, header = csv_requests(read_file(ctx, operands[1]))
    local c = client_of(ctx)
    local found = {} -- [i] = {lat, lon, name, confidence} or {status =, reason =}
    if via == "job" then
      local entities = {}
      for i, r in ipairs(reqs) do
        entities[i] = {GeocodeRequest = r.query and {Query = r.query} or {Address = r.address}}
      end
      local job = call(c.sds.geocode_job, {entities = entities, description = "bing batch-geocode",
                                           dry_run = ctx.dry_run or nil})
      if ctx.dry_run then return show_plans(ctx, {job}) end
      ctx.io.stderr:write(("bing: job %s: %d entities\n"):format(tostring(job.id), #entities))
      local prog = output.progress(ctx.io.stderr, ctx.progress(), "job", core.now)
      prog.update(0, #entities, 0)
      local res, err = job:wait{on_progress = function(st)
        prog.update(st.processed or 0, st.total or #entities, st.failed_count)
      end}
      prog.finish()
      if not res then error(err, 0) end
      for i, e in res:each() do
        local g = e.GeocodeResponse
        if g and g.Point then
          found[i] = {lat = g.Point.Latitude, lon = g.Point.Longitude, confidence = g.Confidence,
                      name = g.Address and g.Address.FormattedAddress or g.Name}
        else
          found[i] = {status = e.StatusCode, reason = e.FaultReason}
        end
      end
    else
      local fn = function(cl, r)
        return cl.locations.find{q = r.query, address = r.rest, maxResults = 1,
                                 dry_run = ctx.dry_run or nil}
      end
      if ctx.dry_run then
        local labels = {}
        for i, r in ipairs(reqs) do labels[i] = r.query or tostring(i) end
        local results = run_batch(ctx, reqs, fn, "estimate")
        local plans = {}
        for i = 1, #reqs do
          if errors.is_error(results[i]) then report(ctx, labels[i], results[i])
          else plans[#plans + 1] = results[i] end
        end
        return show_plans(ctx, plans, labels)
      end
      local results = run_batch(ctx, reqs, fn, "geocode")
      for i = 1, #reqs do
        local r = results[i]
        if errors.is_error(r) then
          found[i] = {status = r.kind, reason = tostring(r)}
          ctx.failed = ctx.failed or r
        elseif r[1] then
          local lat, lon = r[1]:latlon()
          found[i] = {lat = lat, lon = lon, confidence = r[1].confidence, name = r[1].name}
        else
          found[i] = {status = "NotFound"}
        end
      end
    end
    local feats, rows, ok = {}, {}, 0
    for i, r in ipairs(reqs) do
      local f = found[i] or {status = "Missing"}
      local extra = {formatted_address = f.name, confidence = f.confidence, status = f.status or "OK"}
      if f.lat then ok = ok + 1 else
        ctx.io.stderr:write(ctx.scrub(("bing: not geocoded: row %d (%s%s)\n"):format(i,
          tostring(f.status), f.reason and (": " .. tostring(f.reason)) or "")))
      end
      feats[#feats + 1] = feature_of(r.props, f.lat, f.lon, extra)
      local row = {}
      for k, v in pairs(r.props) do row[k] = v end
      row.lat, row.lon, row.status, row.formatted_address = f.lat, f.lon, extra.status, f.name
      rows[#rows + 1] = row
    end
    ctx.io.stderr:write(("bing: %d of %d geocoded\n"):format(ok, #reqs))
    local columns = {}
    for i, h in ipairs(header) do columns[i] = h end
    for _, k in ipairs{"lat", "lon", "status", "formatted_address"} do columns[#columns + 1] = k end
    -- GeoJSON is what this command is for: it is the default output here.
    return {columns = columns, rows = rows, json = fc(feats), geojson = fc(feats),
            default = "geojson"}
  end,
})

-- The command's own ledger of what it spent, across runs: $XDG_STATE_HOME/bing/usage.json
-- (~/.local/state/bing/usage.json). A process's meter starts at zero; this file is what makes
-- `bing usage` tell the transactions of every earlier command.
local function state_path(ctx)
  local xdg, home = ctx.getenv("XDG_STATE_HOME"), ctx.getenv("HOME")
  local dir
  if xdg and xdg ~= "" then dir = xdg .. "/bing"
  elseif home and home ~= "" then dir = home .. "/.local/state/bing" end
  return dir and dir .. "/usage.json", dir
end

local function read_usage(ctx)
  local path = state_path(ctx)
  local f = path and io.open(path, "rb")
  if not f then return {categories = {}} end
  local text = f:read("a")
  f:close()
  local ok, u = pcall(cjson.decode, text)
  if not ok or type(u) ~= "table" or type(u.categories) ~= "table" then return {categories = {}} end
  return u
end

local function write_usage(ctx, u)
  local path, dir = state_path(ctx)
  if not path then return end
  os.execute("mkdir -p -m 700 " .. shell_quote(dir) .. " 2>/dev/null")
  local f = io.open(path, "wb")
  if not f then return end
  f:write(cjson.encode(u))
  f:close()
end

local function record_usage(ctx)
  if not ctx.client or ctx.dry_run then return end
  local now = ctx.client:usage()
  if (now.requests or 0) == 0 then return end
  local u = read_usage(ctx)
  u.since = u.since or os.date("!%Y-%m-%dT%H:%M:%SZ")
  for name, c in pairs(now.categories or {}) do
    local t = u.categories[name] or {requests = 0, billable = 0, non_billable = 0}
    t.requests = t.requests + (c.requests or 0)
    t.billable = t.billable + (c.billable or 0)
    t.non_billable = t.non_billable + (c.non_billable or 0)
    u.categories[name] = t
  end
  write_usage(ctx, u)
end

command("usage", {
  summary = "the transactions this command has spent (kept across runs)",
  usage = "bing usage [--reset]",
  opts = {["--reset"] = "flag"},
  run = function(ctx, o, operands)
    if #operands > 0 then usage("usage takes no operands") end
    local u = read_usage(ctx)
    if o["--reset"] then write_usage(ctx, {categories = {}}) end
    local names = {}
    for name in pairs(u.categories) do names[#names + 1] = name end
    table.sort(names)
    local rows, tot = {}, {category = "total", requests = 0, billable = 0, non_billable = 0}
    for _, name in ipairs(names) do
      local c = u.categories[name]
      rows[#rows + 1] = {category = name, requests = c.requests, billable = c.billable,
                         non_billable = c.non_billable}
      for _, k in ipairs{"requests", "billable", "non_billable"} do tot[k] = tot[k] + (c[k] or 0) end
    end
    local json = {since = u.since, categories = u.categories, requests = tot.requests,
                  billable = tot.billable, non_billable = tot.non_billable}
    rows[#rows + 1] = tot
    return {columns = {"category", "requests", "billable", "non_billable"}, rows = rows, json = json,
            footer = u.since and ("since " .. u.since) or "nothing spent yet"}
  end,
})

command("estimate", {
  summary = "price a command without sending it (bing estimate route A B)",
  usage = "bing estimate COMMAND [ARGS...]",
  estimate = true,
})


local function help_text(cmd)
  if cmd and COMMANDS[cmd] then
    local d = COMMANDS[cmd]
    return ("%s\n\nusage: %s\n\n%s"):format(d.summary, d.usage, GLOBAL_HELP)
  end
  local lines = {"bing: Bing Maps at the shell (lua-bing)", "", "usage: bing COMMAND [OPTIONS] [ARGS]", "",
                 "Commands:"}
  for _, name in ipairs(ORDER) do lines[#lines + 1] = ("  %-14s %s"):format(name, COMMANDS[name].summary) end
  lines[#lines + 1] = "  help           this text; bing COMMAND --help for one command"
  lines[#lines + 1] = ""
  lines[#lines + 1] = GLOBAL_HELP
  lines[#lines + 1] = [[Exit codes: 0 ok, 1 internal error, 2 usage, 3 argument, 4 auth, 5 budget,
  6 throttled, 7 timeout, 8 transport, 9 http, 10 decode, 11 job, 12 config file.]]
  return table.concat(lines, "\n") .. "\n"
end

local function default_io()
  return {stdout = io.stdout, stderr = io.stderr, stdin = io.stdin, getenv = os.getenv,
          stderr_tty = function()
            -- Lua has no isatty: a shell started by os.execute inherits our stderr as its fd 2.
            -- 5.4 answers true (or nil, "exit", 1); LuaJIT the status number.
            local r = os.execute("[ -t 2 ]")
            return r == true or r == 0
          end}
end

local function emit(ctx, result)
  if result == nil then return end
  local fmt = ctx.format or result.default or "table"
  -- Every item failed: the errors on stderr are the whole answer for a person.
  if fmt == "table" and ctx.failed and #result.rows == 0 then return end
  local text
  if fmt == "json" then text = output.json(result.json)
  elseif fmt == "geojson" then
    if not result.geojson then usage("--geojson: '" .. ctx.cmd .. "' has no geometry") end
    -- RFC 7946's structure checked: a document QGIS would refuse is a bug of ours (exit 1)
    local valid, why = geojson.validate(result.geojson)
    if not valid then error("GeoJSON not valid: " .. tostring(why), 0) end
    text = output.json(result.geojson)
  elseif fmt == "csv" then text = output.csv(result.columns, result.rows)
  else
    text = output.table(result.columns, result.rows)
    if result.footer then text = text .. result.footer .. "\n" end
  end
  text = ctx.scrub(text)
  local file = ctx.opts["-o"] or ctx.opts["--output"]
  if file and file ~= "-" then
    local f, err = io.open(file, "wb")
    if not f then bad_value("cannot write " .. tostring(err)) end
    f:write(text)
    f:close()
  else
    ctx.io.stdout:write(text)
  end
end

--- Runs the command line `argv` (a list of strings, as `arg`); returns the exit code.
function _M.main(argv, stdio)
  local sio = stdio or default_io()
  sio.stdin = sio.stdin or io.stdin
  local getenv = sio.getenv or os.getenv
  local ctx = {io = sio, getenv = getenv, opts = {}}
  current = ctx
  -- The last line of defence for the key: every text we write has it replaced.
  ctx.scrub = function(s)
    local keys = {ctx.key, ctx.opts["--key"], getenv("BING_MAPS_KEY"), ctx.config and ctx.config.key}
    for _, k in ipairs(keys) do
      if type(k) == "string" and #k >= 4 then
        local plain = k:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
        s = s:gsub(plain, "<redacted>")
      end
    end
    return s
  end
  local ok, rc = pcall(function()
    local args = {}
    for i = 1, #argv do args[i] = argv[i] end
    local cmd, opts, operands = parse(args, ctx)
    ctx.opts = opts
    if cmd == "help" then
      sio.stdout:write(help_text(operands[1]))
      return EXIT.ok
    end
    if cmd == nil then
      if opts["--help"] then sio.stdout:write(help_text()); return EXIT.ok end
      usage("no command (bing --help lists them)")
    end
    if not COMMANDS[cmd] then usage(("unknown command '%s' (bing --help lists them)"):format(cmd)) end
    if COMMANDS[cmd].estimate then
      -- bing estimate CMD ARGS... is CMD ARGS... --dry-run
      local target = operands[1]
      if opts["--help"] or not target then
        if not target and not opts["--help"] then usage("estimate needs a command to price") end
        sio.stdout:write(help_text(target and COMMANDS[target] and target or cmd))
        return EXIT.ok
      end
      if not COMMANDS[target] or COMMANDS[target].estimate or target == "usage" then
        usage(("cannot estimate '%s'"):format(target))
      end
      local rest = {}
      local skipped = false
      for _, a in ipairs(args) do
        if not skipped and a == "estimate" then skipped = true else rest[#rest + 1] = a end
      end
      cmd, opts, operands = parse(rest, ctx)
      opts["--dry-run"] = true
      ctx.opts = opts
    end
    if opts["--help"] then sio.stdout:write(help_text(cmd)); return EXIT.ok end
    local n = (opts["--json"] and 1 or 0) + (opts["--geojson"] and 1 or 0) + (opts["--csv"] and 1 or 0)
    if n > 1 then usage("give one of --json, --geojson, --csv") end
    ctx.cmd = cmd
    ctx.format = opts["--json"] and "json" or opts["--geojson"] and "geojson"
      or opts["--csv"] and "csv" or nil
    ctx.dry_run = opts["--dry-run"] or false
    ctx.verbose = opts["--verbose"] or false
    if ctx.dry_run and ctx.format == "geojson" then
      usage("--dry-run answers a plan: --json, --csv or a table")
    end
    ctx.config = load_config(ctx, opts["--config"])
    ctx.concurrency = opts["--concurrency"] or ctx.config.concurrency or 4
    if ctx.concurrency < 1 or ctx.concurrency ~= math.floor(ctx.concurrency) then
      usage("--concurrency takes a whole number >= 1")
    end
    -- asked only when a bar could be drawn (it starts a shell)
    local tty
    ctx.progress = function()
      if tty == nil then tty = not opts["--no-progress"] and sio.stderr_tty and sio.stderr_tty() or false end
      return tty
    end
    local result = COMMANDS[cmd].run(ctx, opts, operands)
    emit(ctx, result)
    record_usage(ctx)
    if ctx.failed then return EXIT[ctx.failed.kind] or EXIT.internal end
    return EXIT.ok
  end)
  if ok then return rc end
  local e = rc
  if ctx.client then pcall(record_usage, ctx) end
  if type(e) == "table" and e.cli_kind then
    sio.stderr:write(ctx.scrub("bing: " .. e.message .. "\n"))
    if e.cli_kind == "usage" then
      sio.stderr:write(("Try 'bing %s--help'.\n"):format(ctx.cmd and (ctx.cmd .. " ") or ""))
    end
    return EXIT[e.cli_kind]
  end
  if errors.is_error(e) then
    sio.stderr:write(ctx.scrub("bing: " .. tostring(e):gsub("^bing: ", "") .. "\n"))
    return EXIT[e.kind] or EXIT.internal
  end
  sio.stderr:write(ctx.scrub("bing: internal error: " .. tostring(e) .. "\n"))
  return EXIT.internal
end

return _M
