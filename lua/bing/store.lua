--- Stores: where a client's billing meter and rate limiter keep their state when it must be
-- shared, by several clients of one process, by the workers of one nginx, or by machines.
--
-- A store is any object with three methods (keys are short strings the library picks, values
-- numbers; the list of keys is in doc/INTERNALS.md):
--
--   store:incr(key, n)            -> the new value. Atomic: adds n (an integer, may be
--                                    negative) to the value of key, a missing key counting 0.
--   store:get(key)                -> the value, or nil for a key never incremented.
--   store:take(key, interval, now) -> at. Atomic: at = max(now, the value of key), and the
--                                    value of key becomes at + interval (a missing key: at = now).
--
-- `incr` carries the meter: every total is a counter, and a budget is checked by adding the
-- cost to the counter of what is spent or in flight and reading the sum that came back, so two
-- workers can never both take the last transaction. `take` carries the rate limiter: each
-- caller gets its own slot, 1/qps after the one before. `now` and `at` are the client's
-- clock (`clock.now()`): every client of a store must read the same clock (nginx's workers
-- share the machine's monotonic clock; machines must use a wall clock).
--
-- A store raises when it cannot do an operation (a full shared dict): a budget that can no
-- longer be kept must not be ignored in silence.
--
-- Two stores come with the library: `store.memory()`, a plain Lua table (several clients of
-- one process share a budget and a rate; a client given no store has one of its own, so the
-- meter and the rate limiter are one piece of code either way), and
-- `store.shared_dict(name[, prefix])`, nginx's `lua_shared_dict` (every worker of an nginx
-- shares them). Another store (Redis, memcached,
-- a database) is a table with the three methods; see doc/billing.md.
-- @module bing.store
local errors = require "bing.errors"

local type, tostring = type, tostring

local _M = {}

local Memory = {}
Memory.__index = Memory
-- The class of memory stores: bing.billing recognises one by its `incr` and adds to its `data`
-- table directly (the same arithmetic as Memory:incr, without a method call per counter).
_M.Memory = Memory

--- A store in a Lua table: atomic because a Lua state runs one coroutine at a time.
function _M.memory()
  return setmetatable({data = {}}, Memory)
end

function Memory:incr(key, n)
  local v = (self.data[key] or 0) + n
  self.data[key] = v
  return v
end

function Memory:get(key)
  return self.data[key]
end

function Memory:take(key, interval, now)
  local t = self.data[key]
  local at = (t and t > now) and t or now
  self.data[key] = at + interval
  return at
end

--- Raises unless `s` has the three methods of a store (bing.new's `store` option).
function _M.check(s, level)
  for _, m in ipairs{"incr", "get", "take"} do
    if type(s[m]) ~= "function" then
      errors.raise("bing.new: store must have the methods incr, get and take (see bing.store); "
        .. "it has no " .. m, (level or 1) + 1)
    end
  end
  return s
end

-- nginx's lua_shared_dict ----------------------------------------------------------------

-- The lock of a `take` is held for a get and a set, never across a yield: microseconds. It
-- expires by itself (LOCK_TTL) should a worker die holding it; a waiter retries every
-- LOCK_WAIT seconds and gives up after LOCK_TRIES.
local LOCK_TTL = 1
local LOCK_WAIT = 0.001
local LOCK_TRIES = 3000

local Shared = {}
Shared.__index = Shared

local function failed(self, what, key, err)
  local hint = err == "no memory" and " (make the lua_shared_dict bigger, or keep other data "
    .. "out of it)" or ""
  error(("bing.store: lua_shared_dict '%s': %s of '%s' failed: %s%s"):format(self.name, what,
    key, tostring(err), hint), 3)
end

--- A store over `ngx.shared[name]` (nginx.conf: `lua_shared_dict <name> 1m;`). Every key the
-- library writes is prefixed with `prefix` (default ""): two prefixes in one dict are two
-- separate meters and rate limits. Entries are added with safe_add / safe_set, so a full dict
-- raises instead of evicting a total.
function _M.shared_dict(name, prefix)
  local n = rawget(_G, "ngx")
  if type(n) ~= "table" or type(n.shared) ~= "table" then
    errors.raise("bing.store.shared_dict: needs nginx's Lua module (ngx.shared)", 2)
  end
  if type(name) ~= "string" then errors.raise("bing.store.shared_dict: name must be a string", 2) end
  if prefix ~= nil and type(prefix) ~= "string" then
    errors.raise("bing.store.shared_dict: prefix must be a string", 2)
  end
  local dict = n.shared[name]
  if not dict then
    errors.raise("bing.store.shared_dict: no lua_shared_dict '" .. name .. "' (nginx.conf, http "
      .. "block: lua_shared_dict " .. name .. " 1m;)", 2)
  end
  return setmetatable({dict = dict, name = name, prefix = prefix or "", sleep = n.sleep}, Shared)
end

function Shared:incr(key, n)
  local k = self.prefix .. key
  local dict = self.dict
  local v, err = dict:incr(k, n)
  if v then return v end
  if err ~= "not found" then failed(self, "incr", k, err) end
  -- First use of the key: made without evicting anything (incr's `init` would evict the
  -- least recently used entries of a full dict, perhaps a total).
  local ok, aerr = dict:safe_add(k, 0)
  if not ok and aerr ~= "exists" then failed(self, "add", k, aerr) end
  v, err = dict:incr(k, n)
  if not v then failed(self, "incr", k, err) end
  return v
end

function Shared:get(key)
  local k = self.prefix .. key
  local v, err = self.dict:get(k)
  if v == nil and err then failed(self, "get", k, err) end
  return v
end

-- nginx's shared dict has no compare-and-set: a short lock (an entry added with safe_add,
-- which only one worker can add) makes the read and the write of the slot one step. Two
-- workers can never read the same value.
function Shared:take(key, interval, now)
  local k = self.prefix .. key
  local lock = k .. ":lock"
  local dict = self.dict
  for _ = 1, LOCK_TRIES do
    local ok, err = dict:safe_add(lock, 1, LOCK_TTL)
    if ok then
      local t, gerr = dict:get(k)
      if t == nil and gerr then
        dict:delete(lock)
        failed(self, "get", k, gerr)
      end
      local at = (t and t > now) and t or now
      local sok, serr = dict:safe_set(k, at + interval)
      dict:delete(lock)
      if not sok then failed(self, "set", k, serr) end
      return at
    end
    if err ~= "exists" then failed(self, "lock", lock, err) end
    self.sleep(LOCK_WAIT)
  end
  error(("bing.store: lua_shared_dict '%s': the lock of '%s' stayed taken"):format(self.name, k), 2)
end

return _M
