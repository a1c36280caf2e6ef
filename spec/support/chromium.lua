-- Headless Chromium driven through the DevTools protocol over pipes (--remote-debugging-pipe:
-- JSON messages ended by a NUL byte, read from fd 3, answers on fd 4), so that a spec can set
-- the viewport, wait for a page to say it is ready and take a screenshot of exactly that
-- moment. `chromium --screenshot` cannot wait for a condition: it shoots when a time budget
-- runs out, and in Debian 12's Chromium lays the page out at another height than it shoots.
--
--   local chromium = require "support.chromium"
--   chromium.available()                     the binary is there (Debian `chromium`)
--   local b = chromium.start{width = 800, height = 600, timeout = 60}
--   b:navigate(url)
--   b:poll(js_expression, seconds)           value of the expression once truthy (bounded)
--   b:eval(js_expression)                    its value (JSON-able, returnByValue)
--   local png = b:screenshot()               the PNG's bytes
--   b:close()                                Chromium and its profile gone
--
-- Chromium runs as `timeout -k 5 <timeout> chromium ...`: whatever happens, it is gone after
-- the timeout, and then every read of its pipe ends (EOF), so nothing here can hang. As root
-- it runs with --no-sandbox (Chromium refuses root otherwise). Its output goes to a log file
-- (b.log), never to the spec's output. CHROMIUM=/path overrides the binary.
local cjson = require "cjson.safe"
local socket = require "socket"

local M = {}

M.BIN = os.getenv("CHROMIUM") or "/usr/bin/chromium"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.available()
  return sh("test -x " .. shell_quote(M.BIN))
end

-- Base64 (the screenshot's encoding), with arithmetic only: both Lua 5.4 and LuaJIT.
local B64 = {}
do
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  for i = 1, 64 do B64[alphabet:byte(i)] = i - 1 end
end

function M.base64_decode(s)
  s = s:gsub("[^%w%+/]", "")
  local out, n = {}, 0
  local char = string.char
  for i = 1, #s, 4 do
    local a, b = B64[s:byte(i)], B64[s:byte(i + 1)]
    local c, d = B64[s:byte(i + 2) or 0], B64[s:byte(i + 3) or 0]
    local v = a * 262144 + b * 4096 + (c or 0) * 64 + (d or 0)
    local b1, b2, b3 = math.floor(v / 65536), math.floor(v / 256) % 256, v % 256
    n = n + 1
    if d then out[n] = char(b1, b2, b3)
    elseif c then out[n] = char(b1, b2)
    else out[n] = char(b1) end
  end
  return table.concat(out)
end

local Browser = {}
Browser.__index = Browser

local FLAGS = {
  "--headless", "--disable-gpu", "--hide-scrollbars", "--mute-audio", "--no-first-run",
  "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
  "--disable-component-update", "--disable-default-apps", "--disable-sync",
  "--password-store=basic", "--use-mock-keychain", "--remote-debugging-pipe",
}

--- Starts Chromium with an empty page of `width` x `height` CSS pixels (scale 1).
function M.start(opts)
  opts = opts or {}
  local timeout = opts.timeout or 60
  local dir = assert(io.popen("mktemp -d /tmp/bing-chromium.XXXXXX")):read("*l")
  assert(dir and dir ~= "", "mktemp -d failed")
  local b = setmetatable({dir = dir, log = dir .. "/chromium.log", next_id = 0}, Browser)
  assert(sh("mkfifo " .. shell_quote(dir .. "/in") .. " " .. shell_quote(dir .. "/out")))
  local flags = table.concat(FLAGS, " ")
  local uid = assert(io.popen("id -u")):read("*l")
  if uid == "0" then flags = flags .. " --no-sandbox" end
  -- The shell opens fd 3 (the commands) and fd 4 (the answers) in that order; this process
  -- opens them in the same order below, so neither side blocks the other.
  -- Under `make sanitize` this process has the ASan runtime preloaded: Chromium is no
  -- instrumented program and must not inherit it.
  local cmd = ("(env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS timeout -k 5 %d %s %s "
    .. "--user-data-dir=%s about:blank 3<%s 4>%s >%s 2>&1; echo $? >%s) >/dev/null 2>&1 &")
    :format(timeout, shell_quote(M.BIN), flags,
      shell_quote(dir .. "/profile"), shell_quote(dir .. "/in"), shell_quote(dir .. "/out"),
      shell_quote(b.log), shell_quote(dir .. "/rc"))
  assert(sh("sh -c " .. shell_quote(cmd)))
  b.w = assert(io.open(dir .. "/in", "wb"))
  b.w:setvbuf("no")
  b.r = assert(io.open(dir .. "/out", "rb"))
  local target = b:send("Target.createTarget", {url = "about:blank"})
  local attached = b:send("Target.attachToTarget", {targetId = target.targetId, flatten = true})
  b.session = attached.sessionId
  b:send("Emulation.setDeviceMetricsOverride", {width = opts.width or 800,
    height = opts.height or 600, deviceScaleFactor = 1, mobile = false})
  b:send("Page.enable")
  return b
end

-- One message from Chromium (the bytes up to NUL), decoded; nil at EOF.
function Browser:receive()
  local parts, n = {}, 0
  while true do
    local c = self.r:read(1)
    if c == nil then return nil end
    if c == "\0" then break end
    n = n + 1
    parts[n] = c
  end
  return cjson.decode(table.concat(parts))
end

--- Sends a command (to the page once attached; `browser_level` for the browser itself) and
-- returns its result, skipping events. Raises with Chromium's error or when it went away.
function Browser:send(method, params, browser_level)
  self.next_id = self.next_id + 1
  local id = self.next_id
  -- cjson writes an empty table as {} (an object), as the protocol wants params.
  local msg = {id = id, method = method, params = params or {}}
  if self.session and not browser_level then msg.sessionId = self.session end
  local text = assert(cjson.encode(msg))
  assert(self.w:write(text, "\0"))
  while true do
    local m = self:receive()
    if not m then
      error(("chromium went away during %s (log: %s)\n%s"):format(method, self.log,
        (read_file(self.log) or ""):sub(-2000)), 2)
    end
    if m.id == id then
      if m.error then
        error(("chromium: %s: %s"):format(method, cjson.encode(m.error)), 2)
      end
      return m.result
    end
  end
end

function Browser:navigate(url)
  local r = self:send("Page.navigate", {url = url})
  if r.errorText then error("chromium: navigate " .. url .. ": " .. r.errorText, 2) end
  return r
end

--- The value of a JavaScript expression (awaited when a promise), or raises with the
-- exception text.
function Browser:eval(expr)
  local r = self:send("Runtime.evaluate", {expression = expr, returnByValue = true,
                                           awaitPromise = true})
  if r.exceptionDetails then
    local ex = r.exceptionDetails.exception
    error("chromium: " .. expr .. ": " .. tostring(ex and ex.description or r.exceptionDetails.text), 2)
  end
  return r.result and r.result.value
end

--- Evaluates `expr` until it gives a truthy value (at most `seconds`), and returns it.
function Browser:poll(expr, seconds)
  local deadline = socket.gettime() + (seconds or 20)
  repeat
    local v = self:eval(expr)
    if v and v ~= cjson.null then return v end
    socket.sleep(0.05)
  until socket.gettime() > deadline
  error(("chromium: %s still false after %g s"):format(expr, seconds or 20), 2)
end

function Browser:screenshot()
  local r = self:send("Page.captureScreenshot", {format = "png"})
  return M.base64_decode(r.data)
end

--- Closes Chromium (bounded: the timeout wrapper kills it at the latest) and its profile.
function Browser:close()
  if self.w then
    pcall(self.send, self, "Browser.close", nil, true)
    self.w:close()
    self.w = nil
  end
  if self.r then
    -- Chromium closes its end when it exits: reading to EOF waits for that (bounded by the
    -- timeout wrapper).
    repeat until self.r:read(65536) == nil
    self.r:close()
    self.r = nil
  end
  local deadline = socket.gettime() + 10
  while not read_file(self.dir .. "/rc") and socket.gettime() < deadline do socket.sleep(0.05) end
  self.rc = tonumber((read_file(self.dir .. "/rc") or ""):match("%d+"))
  if self.dir:match("^/tmp/bing%-chromium%.") and not os.getenv("KEEP_CHROMIUM_DIR") then
    sh("rm -rf " .. shell_quote(self.dir))
  end
end

return M
