-- The Bing Maps reference data the specs compare against, kept in the repository under
-- spec/fixtures/reference/<area>/ (see the NOTICE there): never read from beside the checkout.
--
--   local reference = require "support.reference"
--   reference.read("routes", "examples/driving-route-example.md")    the fixture's text
--   reference.path("billing", "understanding-bing-maps-transactions.md")
--   reference.file(path)                     any file, read whole (a missing one is an error)
--   reference.client{key=, body=[, content_type=][, sent=]}
--       a client whose Lua transport answers every request with body (200, JSON unless
--       content_type says otherwise) and appends each request to sent; returns client, sent
--
-- A fixture keeps the name of its page (the page's folder is dropped: the first line of each
-- file names the whole source) and holds only the page's data: its fenced example requests
-- and answers, byte for byte, or the rows of its tables. A missing fixture is an error, never
-- a skip.
local _M = {}

local function root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/spec/support/[^/]*$")
  if dir then return dir end
  -- Loaded through a relative path: relative to where busted runs (the checkout).
  return "."
end

_M.DIR = root() .. "/spec/fixtures/reference"

function _M.path(area, page)
  return _M.DIR .. "/" .. area .. "/" .. page:match("([^/]+)$")
end

function _M.read(area, page)
  local path = _M.path(area, page)
  local f, err = io.open(path, "rb")
  if not f then error("reference fixture missing: " .. tostring(err), 2) end
  local text = f:read("a")
  f:close()
  return text
end

function _M.file(path)
  local f, err = io.open(path, "rb")
  if not f then error(err, 2) end
  local text = f:read("a")
  f:close()
  return text
end

-- Loads the library only when called: the rest of this module is data.
function _M.client(opts)
  local sent = opts.sent or {}
  local headers = {["content-type"] = opts.content_type or "application/json; charset=utf-8"}
  local c = require("bing").new{key = opts.key, transport = function(req)
    sent[#sent + 1] = req
    return {status = 200, headers = headers, body = opts.body}
  end}
  return c, sent
end

return _M
