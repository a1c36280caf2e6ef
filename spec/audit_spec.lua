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

-- bing.cli.main in-process: argv, the environment, stdin text; returns rc, stdout, stderr.
local function cli(argv, env, stdin, client_options)
  local out, err = {}, {}
  local function sink(t) return {write = function(self, ...)
    for _, s in ipairs{...} do t[#t + 1] = s end
    return self
  end} end
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb"))
  f:write(stdin or "")
  f:close()
  local inf = assert(io.open(tmp, "rb"))
  local rc = require("bing.cli").main(argv, {stdout = sink(out), stderr = sink(err), stdin = inf,
    getenv = function(k) return (env or {})[k] end, stderr_tty = function() return false end,
    client_options = client_options})
  inf:close()
  os.remove(tmp)
  return rc, table.concat(out), table.concat(err)
end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

describe("audit: cli config file", function()
  local dir
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. q(dir .. "/bing")))
  end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  -- stat prints the mode without leading zeros: 006 is "6", 040 is "40". Those were read as
  -- a missing digit: arithmetic on nil, exit 1 "internal error" instead of the refusal.
  for _, mode in ipairs{"6", "4", "40", "2"} do
    it("refuses a config file of mode " .. mode .. " with exit 12", function()
      local path = dir .. "/bing/config.lua"
      local f = assert(io.open(path, "wb"))
      f:write('key = "' .. KEY .. '"\n')
      f:close()
      assert(os.execute("chmod " .. mode .. " " .. q(path)))
      local rc, out, err = cli({"geocode", "Seattle"}, {XDG_CONFIG_HOME = dir})
      assert.equal(12, rc)
      assert.equal("", out)
      assert.matches("chmod 600", err, 1, true)
      assert.not_matches("internal error", err, 1, true)
      assert.not_matches(KEY, err, 1, true)
    end)
  end
end)

local function envelope(resource)
  return '{"statusCode":200,"authenticationResultCode":"ValidCredentials","resourceSets":'
    .. '[{"estimatedTotal":1,"resources":[' .. resource .. ']}]}'
end

describe("audit: elevations", function()
  -- A JSON null for the field the call does not use ("elevations": null beside the offsets
  -- of SeaLevel): values_of took the null (a userdata) for the list, :pairs() and
  -- :geojson() raised "attempt to index a userdata value".
  it("reads a sea-level answer with \"elevations\": null", function()
    local c = canned(envelope('{"__type":"SeaLevelData:http://schemas.microsoft.com/search/'
      .. 'local/ws/rest/v1","elevations":null,"offsets":[-23,-24],"zoomLevel":14}'))
    local e = assert(c.elevations.sea_level{points = {{35.89431, -110.72522}, {35.89393, -110.72578}}})
    assert.is_nil(e.elevations)
    local got = {}
    for i, p, v in e:pairs() do got[i] = {p[1], p[2], v} end
    assert.same({{35.89431, -110.72522, -23}, {35.89393, -110.72578, -24}}, got)
    local gj = e:geojson()
    assert.equal(-24, gj.features[2].properties.offset)
    assert.is_nil(gj.features[2].properties.elevation)
  end)

  it("reads an elevations answer with \"offsets\": null and \"zoomLevel\": null", function()
    local c = canned(envelope('{"elevations":[1776,1775],"offsets":null,"zoomLevel":null}'))
    local e = assert(c.elevations.list{points = {{35.89431, -110.72522}, {35.89393, -110.72578}}})
    assert.is_nil(e.offsets)
    assert.is_nil(e.zoomLevel)
    local n = 0
    for _ in e:pairs() do n = n + 1 end
    assert.equal(2, n)
    assert.equal(1775, e:geojson().features[2].properties.elevation)
  end)
end)

describe("audit: static map metadata", function()
  -- static-map-data.md; a null in the pushpin list (or a null point) made :geojson() raise
  -- "attempt to index a userdata value".
  it("reads null pushpins and null points", function()
    local c = canned(envelope('{"__type":"StaticMapMetadata:http://schemas.microsoft.com/search/'
      .. 'local/ws/rest/v1","bbox":["47.6","-122.4","47.7","-122.3"],"imageHeight":"350",'
      .. '"imageWidth":"350","mapCenter":null,"pushpins":[null,{"point":null,"anchor":null},'
      .. '{"point":{"type":"Point","coordinates":["47.62","-122.35"]},"anchor":{"x":"175",'
      .. '"y":"170"}}],"zoom":"15"}'))
    local md = assert(c.imagery.static_map{imagerySet = "Road", centerPoint = {47.65, -122.35},
                                           zoomLevel = 15, mapMetadata = true})
    assert.equal(2, #md.pushpins)
    assert.is_nil(md.pushpins[1].point)
    assert.same({x = 175, y = 170}, md.pushpins[2].anchor)
    local gj = md:geojson()
    assert(require("bing.geojson").validate(gj))
    assert.equal(2, #gj.features)
    assert.same({-122.35, 47.62}, gj.features[2].geometry.coordinates)
  end)
end)

describe("audit: cli batch-geocode", function()
  -- A CSV saved by Excel ("CSV UTF-8") starts with a byte order mark: the first column was
  -- named "\239\187\191query", so the file was refused ("must name a 'query' column"), or
  -- with the BOM before another first column, the column's name in every feature carried it.
  it("reads a CSV that starts with a UTF-8 byte order mark", function()
    local sent = {}
    local body = envelope('{"__type":"Location:http://schemas.microsoft.com/search/local/ws/rest/v1",'
      .. '"name":"Seattle, WA","point":{"type":"Point","coordinates":[47.60357,-122.32945]},'
      .. '"confidence":"High","entityType":"PopulatedPlace"}')
    local rc, out, err = cli({"batch-geocode", "--via", "batch", "-"}, {BING_MAPS_KEY = KEY},
      "\239\187\191query,id\nSeattle,7\n", {transport = function(req)
        sent[#sent + 1] = req
        return {status = 200, headers = {["content-type"] = "application/json"}, body = body}
      end})
    assert.equal(0, rc, err)
    assert.equal(1, #sent)
    assert.equal("Seattle", query_of(sent[1].url).q)
    local gj = require("cjson").decode(out)
    local props = gj.features[1].properties
    assert.equal("Seattle", props.query)
    assert.equal("7", props.id)
    assert.same({-122.32945, 47.60357}, gj.features[1].geometry.coordinates)
  end)
end)

describe("audit: cli lists on stdin", function()
  -- Notepad's UTF-8 files start with a byte order mark: the first line was not "LAT,LON"
  -- (exit 3), or the first query went to Bing with the mark in front of it.
  it("reads a list whose first line starts with a byte order mark", function()
    local sent = {}
    local rc, out, err = cli({"elevation", "--json"}, {BING_MAPS_KEY = KEY},
      "\239\187\19147.6,-122.3\r\n47.7,-122.4\r\n", {transport = function(req)
        sent[#sent + 1] = req
        return {status = 200, headers = {["content-type"] = "application/json"},
                body = envelope('{"elevations":[50,60],"zoomLevel":14}')}
      end})
    assert.equal(0, rc, err)
    assert.equal("47.6,-122.3,47.7,-122.4", query_of(sent[1].url).points)
    assert.same({50, 60}, require("cjson").decode(out).elevations)
  end)

  it("sends the first query of a list on stdin without the byte order mark", function()
    local sent = {}
    local rc, _, err = cli({"geocode", "--json"}, {BING_MAPS_KEY = KEY},
      "\239\187\191Seattle\nRedmond\n", {transport = function(req)
        sent[#sent + 1] = req
        return {status = 200, headers = {["content-type"] = "application/json"}, body = EMPTY}
      end})
    assert.equal(0, rc, err)
    local qs = {}
    for i, r in ipairs(sent) do qs[i] = query_of(r.url).q end
    table.sort(qs)
    assert.same({"Redmond", "Seattle"}, qs)
  end)
end)

describe("audit: cli config file that is not a file", function()
  -- --config pointing at a directory (or $XDG_CONFIG_HOME/bing/config.lua made a directory):
  -- io.open succeeds on Linux, the read gives nil, and load(nil) raised: exit 1, "internal
  -- error", where the config file is refused (exit 12).
  it("refuses a directory as the config file with exit 12", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -m 700 " .. q(dir)))
    local rc, out, err = cli({"geocode", "Seattle", "--config", dir}, {BING_MAPS_KEY = KEY})
    os.execute("rm -rf " .. q(dir))
    assert.equal(12, rc)
    assert.equal("", out)
    assert.matches(dir, err, 1, true)
    assert.not_matches("internal error", err, 1, true)
  end)
end)

describe("audit: cli staticmap -o", function()
  -- The output file was opened "wb" (truncated) before the request and removed when the
  -- call failed: a typo (--zoom 25) or a refused key destroyed the map saved by an earlier run.
  it("leaves an existing file as it was when the call fails", function()
    local path = os.tmpname() .. ".png"
    local f = assert(io.open(path, "wb"))
    f:write("OLD MAP")
    f:close()
    local sent = 0
    local rc, _, err = cli({"staticmap", "47.6,-122.3", "--zoom", "25", "-o", path},
      {BING_MAPS_KEY = KEY}, nil, {transport = function() sent = sent + 1 end})
    assert.equal(3, rc, err)
    assert.equal(0, sent)
    rc, _, err = cli({"staticmap", "47.6,-122.3", "-o", path}, {BING_MAPS_KEY = KEY}, nil,
      {transport = function()
        sent = sent + 1
        return {status = 401, headers = {["content-type"] = "application/json"},
                body = '{"statusCode":401,"authenticationResultCode":"InvalidCredentials",'
                  .. '"errorDetails":["Access was denied."],"resourceSets":[]}'}
      end})
    assert.equal(4, rc, err)
    assert.equal(1, sent)
    f = assert(io.open(path, "rb"), "the file is gone")
    local text = f:read("a")
    f:close()
    os.remove(path)
    assert.equal("OLD MAP", text)
  end)

  it("removes no file it did not create, and still refuses a path it cannot write", function()
    local rc, _, err = cli({"staticmap", "47.6,-122.3", "-o", "/nonexistent-dir/map.png"},
      {BING_MAPS_KEY = KEY}, nil, {transport = function() error("nothing may be sent") end})
    assert.equal(3, rc)
    assert.matches("cannot write", err, 1, true)
  end)
end)

describe("audit: GeoJSON text is UTF-8", function()
  -- RFC 8259 §8.1 / RFC 7946: JSON text is UTF-8. A Latin-1 byte in an answer (a proxy's
  -- re-encoding, "Caf\233") went into the file as it was: Python's json.load, a browser's
  -- fetch().json() and GDAL refuse or garble such a file. Invalid bytes become U+FFFD.
  it("writes U+FFFD for bytes that are not UTF-8, and valid UTF-8 as it is", function()
    local c = canned(envelope('{"incidentId":1,"description":"Caf\233 \255 \195\169 \240\159\154\151",'
      .. '"point":{"type":"Point","coordinates":[47.58,-122.35]}}'))
    local list = assert(c.traffic.incidents{mapArea = {47.55, -122.4, 47.6, -122.3}})
    local text = require("bing.geojson").encode(list:geojson())
    local doc = require("cjson").decode(text)
    assert.equal("Caf\239\191\189 \239\191\189 \195\169 \240\159\154\151",
      doc.features[1].properties.description)
    -- Every byte sequence of the text is UTF-8.
    assert.is_nil(text:find("[\192\193\245-\255]"))
  end)

  it("replaces truncated and overlong sequences and encoded surrogates", function()
    local enc = require("bing.geojson").encode
    assert.equal('"a\239\191\189b"', enc("a\195b"))           -- a lead byte without its tail
    assert.equal('"\239\191\189\239\191\189"', enc("\192\175")) -- overlong "/"
    assert.equal('"\239\191\189\239\191\189\239\191\189"', enc("\237\160\128")) -- U+D800
    assert.equal('"\226\130\172"', enc("\226\130\172"))        -- the euro sign, valid
  end)
end)

describe("audit: elevations answer without its values", function()
  -- A 200 whose resources are empty (or hold fewer values than points asked) came back as an
  -- Elevations object with no values: e.elevations[1] was nil, and :pairs() paired the values
  -- it had with the wrong points silently. It is a `decode` error, billed as the meter saw.
  it("is a decode error when the answer holds no elevation resource", function()
    local c = canned(EMPTY)
    local e, err = c.elevations.list{points = {{35.89431, -110.72522}}}
    assert.is_nil(e)
    assert.equal("decode", err.kind)
    assert.equal(1, c:usage().categories.RESTElevations.billable)
    e, err = c.elevations.bounds{bounds = {50.995391, -1.320763, 51.000577, -1.311836},
                                 rows = 2, cols = 2}
    assert.is_nil(e)
    assert.equal("decode", err.kind)
  end)

  it("is a decode error when a list answer has fewer values than points", function()
    local c = canned(envelope('{"elevations":[1776],"zoomLevel":14}'))
    local e, err = c.elevations.list{points = {{35.89431, -110.72522}, {35.89393, -110.72578}}}
    assert.is_nil(e)
    assert.equal("decode", err.kind)
    assert.matches("1 value", err.message, 1, true)
  end)

  it("is a decode error when a part of a split list has no values", function()
    local n = 0
    local c = canned(function()
      n = n + 1
      if n == 2 then return EMPTY end
      local v = {}
      for i = 1, 1024 do v[i] = "7" end
      return envelope('{"elevations":[' .. table.concat(v, ",") .. '],"zoomLevel":14}')
    end)
    local pts = {}
    for i = 1, 1030 do pts[i] = {10 + i / 10000, 20} end
    local e, err = c.elevations.list{points = pts}
    assert.is_nil(e)
    assert.equal("decode", err.kind)
    assert.equal(2, n)
  end)
end)
