-- The emulator's credentials: fixed strings, so every run and every machine agree.
--
-- A label (SIM_KEY, SIM_SESSION_KEY_2, ...) names each key in the request log and the
-- ledger; the key itself never appears there. Session keys are valid keys that the
-- emulator treats as map-control session ids for billing (the footnote-3 rule).
local _M = {_VERSION = "0.1.0"}

-- Shaped like real Bing Maps keys: long strings of [A-Za-z0-9_-].
_M.list = {
  {label = "SIM_KEY",           kind = "key",
   key = "AkBingSimKey1-Valid_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"},
  {label = "SIM_KEY_2",         kind = "key",
   key = "AkBingSimKey2-Valid_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"},
  {label = "SIM_KEY_3",         kind = "key",
   key = "AkBingSimKey3-Valid_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"},
  {label = "SIM_SESSION_KEY",   kind = "session",
   key = "SeBingSimSession1_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJK"},
  {label = "SIM_SESSION_KEY_2", kind = "session",
   key = "SeBingSimSession2_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJK"},
  {label = "SIM_SESSION_KEY_3", kind = "session",
   key = "SeBingSimSession3_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJK"},
  {label = "SIM_SESSION_KEY_4", kind = "session",
   key = "SeBingSimSession4_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJK"},
}

local by_key = {}
for _, k in ipairs(_M.list) do by_key[k.key] = k end

-- Returns kind ("key"|"session"|"invalid"|"missing") and label (nil unless valid).
-- Keys are compared exactly: Bing keys are case-sensitive.
function _M.classify(key)
  if key == nil or key == "" then return "missing" end
  local k = by_key[key]
  if not k then return "invalid" end
  return k.kind, k.label
end

function _M.get(label)
  for _, k in ipairs(_M.list) do
    if k.label == label then return k.key end
  end
end

return _M
