-- The request log: one JSON entry per non-/_sim request, in ngx.shared.bingsim_log so every
-- worker writes to and reads from the same log.
--
-- An entry is written when the request arrives (status null) and rewritten when it is
-- answered, so a reader sees a slow (delayed) request before its answer. Ids come from one
-- counter that /_sim/reset does not rewind, so `since=N` never skips a new request.
-- The last MAX entries are kept.
local json = require "bingsim.json"

local _M = {_VERSION = "0.1.0"}

_M.MAX = 10000
_M.BODY_MAX = 1024 * 1024 -- bytes of a request body kept in the log

local function log_dict() return ngx.shared.bingsim_log end
local function state() return ngx.shared.bingsim_state end

function _M.next_id() return state():incr("request_id", 1, 0) end
function _M.last_id() return state():get("request_id") or 0 end

-- Stores `entry` (a table with .id) as JSON; drops the entry MAX ids older.
function _M.put(entry)
  local d = log_dict()
  local ok, err = d:set("e:" .. entry.id, json.encode(entry))
  if not ok then ngx.log(ngx.WARN, "bingsim: request log: ", err) end
  if entry.id > _M.MAX then d:delete("e:" .. (entry.id - _M.MAX)) end
end

-- JSON array text of the entries with id > since (all kept ones when since is nil),
-- oldest first; `last`: only the last n of them.
function _M.dump(since, last)
  local d, top = log_dict(), _M.last_id()
  local first = math.max((since or 0) + 1, top - _M.MAX + 1, 1)
  local out = {}
  if last and last >= 0 then
    -- newest first until we have `last` of them, then put them back in order
    local rev = {}
    for id = top, first, -1 do
      if #rev >= last then break end
      local s = d:get("e:" .. id)
      if s then rev[#rev + 1] = s end
    end
    for i = #rev, 1, -1 do out[#out + 1] = rev[i] end
  else
    for id = first, top do
      local s = d:get("e:" .. id)
      if s then out[#out + 1] = s end
    end
  end
  return "[" .. table.concat(out, ",") .. "]"
end

-- Bumped by /_sim/reset; a request remembers the generation it started in.
function _M.generation() return state():get("generation") or 0 end

function _M.reset()
  state():incr("generation", 1, 0)
  log_dict():flush_all()
  log_dict():flush_expired()
end

-- Body as logged: the bytes when they are UTF-8 (cut at BODY_MAX), plus body_base64 when
-- they are not, so binary uploads can still be checked byte for byte.
function _M.body_fields(entry, body)
  if body == nil then return end
  local cut = body
  if #cut > _M.BODY_MAX then
    cut = cut:sub(1, _M.BODY_MAX)
    entry.body_truncated = true
    entry.body_length = #body
  end
  if json.is_utf8(cut) then
    entry.body = cut
  else
    entry.body = json.utf8_clean(cut)
    entry.body_base64 = ngx.encode_base64(cut)
  end
end

return _M
