-- Defects found by an independent review against the reference (rest-services/, articles/):
-- each spec failed before its fix. Canned Lua transports: values and what went over the wire.
local bing = require "bing"

local KEY = "AuditKey-0123456789abcdef"

-- A client whose transport answers `body` (JSON text, or a function of the request) and
-- records every request.
local function canned(body, ctype)
  local sent = {}
  local c = bing.new{key = KEY, transport = function(req)
    sent[#sent + 1] = req
    local b = type(body) == "function" and body(req) or body
    return {status = 200, headers = {["content-type"] = ctype or "application/json; charset=utf-8"},
            body = b}
  end}
  return c, sent
end

local EMPTY = '{"statusCode":200,"authenticationResultCode":"ValidCredentials",'
  .. '"resourceSets":[{"estimatedTotal":0,"resources":[]}]}'

local function query_of(url)
  local q = {}
  for k, v in (url:match("%?(.*)$") or ""):gmatch("([^&=]+)=([^&]*)") do q[k] = v end
  return q
end

describe("audit: imagery", function()
  -- get-imagery-metadata.md: orientation "A double value between 0 to 360";
  -- get-a-static-map.md: heading "Valid values of type double from 0 to 360", pitch
  -- "type double in [-90, 90]". Lua 5.4's math.tointeger(22.5) is nil: the value was dropped.
  it("sends a fractional orientation of imagery metadata", function()
    local c, sent = canned(EMPTY)
    assert(c.imagery.metadata{imagerySet = "Birdseye", centerPoint = {47.6, -122.3},
                              orientation = 22.5})
    assert.equal("22.5", query_of(sent[1].url).orientation)
  end)

  it("sends a fractional heading, pitch and orientation of a static map", function()
    local png = "\137PNG\r\n\26\n\0\0\0\13IHDR\0\0\1\94\0\0\1\94\8\2\0\0\0"
    local c, sent = canned(png, "image/png")
    assert(c.imagery.static_map{imagerySet = "Streetside", centerPoint = {47.6, -122.3},
                                heading = 90.5, pitch = -10.25})
    local q = query_of(sent[1].url)
    assert.equal("90.5", q.heading)
    assert.equal("-10.25", q.pitch)
    assert(c.imagery.static_map{imagerySet = "BirdsEye", centerPoint = {47.6, -122.3},
                                zoomLevel = 19, orientation = 270.5})
    assert.equal("270.5", query_of(sent[2].url).orientation)
  end)
end)
