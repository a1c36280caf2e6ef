-- The Bing Maps response envelope, shared by every emulated API.
--
-- A handler returns a response table; the server turns it into bytes:
--   resp = {status = 200, body = <table (JSON-encoded) | string>, headers = {Name = value},
--           content_type = "...", billing = {category =, transactions =} | false}
-- Helpers here build the usual ones. Field names, values and texts follow
-- rest-services/common-response-description.md and status-codes-and-error-handling.md.
local json = require "bingsim.json"

local _M = {_VERSION = "0.1.0"}

_M.CONTENT_TYPE = "application/json; charset=utf-8"
_M.BRAND_LOGO_URI = "http://dev.virtualearth.net/Branding/logo_powered_by.png"
-- A fixed year keeps responses byte-for-byte reproducible.
_M.COPYRIGHT = "Copyright \194\169 2025 Microsoft and its suppliers. All rights reserved. This API "
  .. "cannot be accessed and the content and any results may not be used, reproduced or "
  .. "transmitted in any manner without express written permission from Microsoft Corporation."
_M.SCHEMA = "http://schemas.microsoft.com/search/local/ws/rest/v1"

-- statusDescription per HTTP status, as the service writes it.
_M.STATUS_TEXT = {
  [200] = "OK", [201] = "Created", [202] = "Accepted",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [413] = "Payload Too Large",
  [429] = "Too Many Requests",
  [500] = "Internal Server Error", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}

-- errorDetails text per status (the table in status-codes-and-error-handling.md).
_M.DETAILS = {
  [401] = "Access was denied. You may have entered your credentials incorrectly, or you might "
    .. "not have access to the requested resource or operation.",
  [403] = "The request is for something forbidden. Authorization will not help.",
  [404] = "The requested resource was not found.",
  [405] = "The requested HTTP method is not supported for this resource.",
  [429] = "The user has sent too many requests in a given amount of time. The account is "
    .. "being rate limited.",
  [500] = "Your request could not be completed because there was a problem with the service.",
  [503] = "There's a problem with the service right now. Please try again later.",
}

-- Texts of a 400: the first line is always the same, the second names the parameter.
_M.INVALID_PARAMETERS = "One or more parameters are not valid."
_M.OUT_OF_RANGE = "This parameter value is out of range."
_M.NOT_VALID = "This parameter value is not valid."
_M.MISSING = "This parameter is missing or invalid."

-- `__type` of a resource: "<Kind>:<schema>".
function _M.type_of(kind) return kind .. ":" .. _M.SCHEMA end

-- traceId: 32 hex digits, a function of the request id only (so reproducible).
function _M.trace_id(id)
  local s = "bingsim-trace:" .. tostring(id)
  if ngx and ngx.md5 then return ngx.md5(s) end
  -- Outside nginx (unit use): a simple deterministic digest.
  local h, out = 5381, {}
  for round = 1, 4 do
    for i = 1, #s do h = (h * 33 + s:byte(i) + round) % 4294967296 end
    out[round] = string.format("%08x", h)
  end
  return table.concat(out)
end

local function base(req, status, auth)
  return json.object{
    authenticationResultCode = auth or "ValidCredentials",
    brandLogoUri = _M.BRAND_LOGO_URI,
    copyright = _M.COPYRIGHT,
    statusCode = status,
    statusDescription = _M.STATUS_TEXT[status] or "Unknown",
    traceId = req and req.trace_id or _M.trace_id(0),
  }
end
_M.base = base

-- One resource set. `opts.estimated_total` (default #resources), `opts.status` (200).
function _M.success(req, resources, opts)
  opts = opts or {}
  local status = opts.status or 200
  local env = base(req, status)
  env.resourceSets = json.array{json.object{
    estimatedTotal = opts.estimated_total or #resources,
    resources = json.array(resources),
  }}
  return {status = status, body = env, headers = opts.headers}
end

-- Several resource sets: `sets` is a list of {resources = {...}, estimated_total = n}.
function _M.sets(req, sets, opts)
  opts = opts or {}
  local status = opts.status or 200
  local env = base(req, status)
  local out = json.array()
  for i, s in ipairs(sets) do
    out[i] = json.object{estimatedTotal = s.estimated_total or #s.resources,
      resources = json.array(s.resources)}
  end
  env.resourceSets = out
  return {status = status, body = env, headers = opts.headers}
end

-- An error answer. `details`: string or list of strings (default: the status text).
-- `opts.code`: the errorCode printed when the request asks for errorDetail=true;
-- `opts.auth`: authenticationResultCode; `opts.headers`.
function _M.error(req, status, details, opts)
  opts = opts or {}
  if details == nil then details = _M.DETAILS[status] or _M.STATUS_TEXT[status] or "Error" end
  if type(details) == "string" then details = {details} end
  local env = base(req, status, opts.auth)
  env.errorDetails = json.array(details)
  env.resourceSets = json.array()
  if opts.code and req and req.error_detail then env.errorCode = opts.code end
  return {status = status, body = env, headers = opts.headers}
end

-- 400 naming one parameter: "One or more parameters are not valid." then
-- "<name>: <problem>" (problem defaults to OUT_OF_RANGE).
function _M.invalid(req, name, problem, opts)
  return _M.error(req, 400, {_M.INVALID_PARAMETERS, name .. ": " .. (problem or _M.OUT_OF_RANGE)},
    opts)
end

-- 401: kind "missing" -> NoCredentials, anything else -> InvalidCredentials.
function _M.unauthorized(req, kind)
  return _M.error(req, 401, _M.DETAILS[401],
    {auth = kind == "missing" and "NoCredentials" or "InvalidCredentials"})
end

-- The overloaded-server answer: 200, header X-MS-BM-WS-INFO: 1, one empty resource set.
function _M.throttled_empty(req)
  local r = _M.success(req, {}, {estimated_total = 0})
  r.headers = {["X-MS-BM-WS-INFO"] = "1"}
  return r
end

return _M
