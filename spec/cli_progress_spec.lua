-- The progress bar of `bing`: drawn on stderr for batches and jobs when stderr is a terminal
-- (a pseudo-terminal from `script`, util-linux/bsdutils), absent when it is a pipe or a file.
local sim = require "support.sim"
local cjson = require "cjson"
local output = require "bing.cli.output"

local LUA = rawget(_G, "jit") and "luajit" or "lua5.4"

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local state = os.tmpname()
os.remove(state)

local function env_prefix()
  return table.concat({"env -u BING_SDS_URL", "BING_MAPS_KEY=" .. q(sim.key), "BING_BASE_URL=" .. q(sim.url),
    "XDG_CONFIG_HOME=" .. q(state), "XDG_STATE_HOME=" .. q(state), "HOME=" .. q(state)}, " ")
end

-- Runs bin/bing under a pseudo-terminal: stdin, stdout and stderr are the terminal, so stdout
-- goes to a file (-o) and what comes back is what the terminal showed (stderr).
local function in_terminal(args)
  local cmd = env_prefix() .. " " .. LUA .. " bin/bing " .. args
  local p = assert(io.popen("script -qec " .. q(cmd) .. " /dev/null </dev/null; echo \"rc=$?\""))
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return out:gsub("rc=%d+%s*$", ""), rc
end

-- The same with stderr a pipe (and a file): what it wrote.
local function piped(args)
  local errf = os.tmpname()
  local p = assert(io.popen(env_prefix() .. " " .. LUA .. " bin/bing " .. args .. " 2>" .. q(errf)
    .. " </dev/null; echo \"rc=$?\""))
  local out = p:read("a")
  p:close()
  local err = slurp(errf)
  os.remove(errf)
  return out:gsub("rc=%d+\n$", ""), err, tonumber(out:match("rc=(%d+)\n$"))
end

describe("bing's progress bar", function()
  teardown(function()
    os.execute("rm -rf " .. q(state))
  end)

  it("draws done/total, the rate and the time left (the bar itself)", function()
    local written = {}
    local stream = {write = function(_, ...) for _, s in ipairs{...} do written[#written + 1] = s end end,
                    flush = function() end}
    local t = 100
    local p = output.progress(stream, true, "geocode", function() return t end)
    t = 104
    p.update(6, 10, 0) -- 1.5 a second; 4 left take 2.7 s
    assert.equal("\rgeocode [############--------] 6/10  1.5/s  0:03 left\27[K", table.concat(written))
    written = {}
    t = 110
    p.update(10, 10, 2)
    assert.equal("\rgeocode [####################] 10/10  1.0/s  0:00 left  2 failed\27[K",
                 table.concat(written))
    written = {}
    p.finish()
    assert.equal("\n", table.concat(written))
    -- hours past an hour, an unknown total
    t = 100 + 3 * 3600
    local p2 = output.progress(stream, true, "job", function() return t end)
    written = {}
    t = t + 10
    p2.update(1, 400, 0)
    assert.equal("\rjob [--------------------] 1/400  0.1/s  1:06:30 left\27[K", table.concat(written))
    written = {}
    p2.update(3, nil)
    assert.matches("3/%?", table.concat(written))
    -- disabled: nothing at all
    written = {}
    local off = output.progress(stream, false, "x", function() return t end)
    off.update(1, 2)
    off.finish()
    assert.same({}, written)
  end)

  it("shows on a terminal for a list of queries, ending at total/total", function()
    local path = os.tmpname()
    local shown, rc = in_terminal("geocode 'Space Needle' Seattle Denver --concurrency 1 --csv -o "
      .. q(path))
    assert.equal(0, rc, shown)
    assert.matches("\rgeocode %[%-+%] 0/3", shown)
    assert.matches("\rgeocode %[#+%-*%] 1/3  [%d.]+/s  %d+:%d%d left", shown)
    assert.matches("\rgeocode %[#+%] 3/3  [%d.]+/s  0:00 left", shown)
    -- and stdout still has the rows
    local out = slurp(path)
    os.remove(path)
    assert.matches("Space Needle", out)
    assert.is_nil(out:find("\r", 1, true))
  end)

  it("shows on a terminal for a dataflow job, with the failed count", function()
    local path = os.tmpname()
    local shown, rc = in_terminal("batch-geocode examples/data/addresses.csv -o " .. q(path))
    assert.equal(0, rc, shown)
    assert.matches("\rjob %[%-+%] 0/6", shown)
    assert.matches("\rjob %[#+%] 6/6  [%d.]+/s  0:00 left  1 failed", shown)
    assert.equal(6, #cjson.decode(slurp(path)).features)
    os.remove(path)
  end)

  it("shows on a terminal for an asynchronous isochrone (one job), the service's time left", function()
    local path = os.tmpname()
    local shown, rc = in_terminal("isochrone 47.6,-122.3 --minutes 45 -o " .. q(path))
    assert.equal(0, rc, shown)
    assert.matches("\rjob %[%-+%] 0/1  0.0/s  %-%-:%-%- left", shown)
    assert.matches("\rjob %[#+%] 1/1  [%d.]+/s  0:00 left", shown)
    assert.matches("polygon%s+rings%s+vertices", slurp(path))
    os.remove(path)
    local out, err
    out, err, rc = piped("isochrone 47.6,-122.3 --minutes 45")
    assert.equal(0, rc, err)
    assert.equal("", err)
    assert.matches("polygon", out)
  end)

  it("is absent when stderr is a pipe, and with --no-progress on a terminal", function()
    local _, err, rc = piped("geocode 'Space Needle' Seattle Denver --csv")
    assert.equal(0, rc, err)
    assert.equal("", err)
    local out
    out, err, rc = piped("batch-geocode examples/data/addresses.csv")
    assert.equal(0, rc, err)
    assert.is_nil(err:find("\r", 1, true))
    assert.is_nil(err:find("[#", 1, true))
    assert.equal("FeatureCollection", cjson.decode(out).type)
    local path = os.tmpname()
    local shown
    shown, rc = in_terminal("geocode 'Space Needle' Seattle --no-progress -o " .. q(path))
    os.remove(path)
    assert.equal(0, rc, shown)
    assert.is_nil(shown:find("geocode [", 1, true))
  end)

  it("is not drawn for one query (no batch) even on a terminal", function()
    local path = os.tmpname()
    local shown, rc = in_terminal("geocode 'Space Needle' -o " .. q(path))
    os.remove(path)
    assert.equal(0, rc, shown)
    assert.is_nil(shown:find("geocode [", 1, true))
  end)
end)
