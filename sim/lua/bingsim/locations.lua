local envelope = require "bingsim.envelope"
local _M = {}
function _M.classify() return {category = "RestLocations-Unstructured", transactions = 1} end
function _M.handle(req) return envelope.success(req, {}) end
return _M
