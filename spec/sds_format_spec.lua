-- The Geocode Dataflow's data files on our side: entities written to csv, tab, pipe and xml
-- (quoting and escaping of hostile text), and results files read back (the reference's
-- samples of data schema 2.0, spec/fixtures/reference/sds/).
local bing = require "bing"
local sds = require "bing.api.sds"
local fmt = require "bing.api.sds_format"
local reference = require "support.reference"

local REF = "spec/fixtures/reference/sds/"

local read = reference.file

-- Every character the data files treat specially, and some that are only text.
local HOSTILE = {
  'comma, inside', 'pipe | inside', 'tab\tinside', 'quote " inside', '"starts with a quote',
  'hash # inside', 'new\nline', 'crlf\r\nline', '  blanks around  ', "apostrophe ' inside",
  "Zürich – 東京 ☃", "<xml> & 'entities' \"too\"", "trailing comma,", ",", "|", "\t", '""',
}

describe("sds data files", function()
  it("write each format so that the same parser reads every hostile value back", function()
    local ents = {}
    for i, q in ipairs(HOSTILE) do
      ents[i] = {Id = "id " .. q, GeocodeRequest = {Query = q, Culture = "en-US",
        Address = {Locality = q}}}
    end
    for _, f in ipairs{"csv", "tab", "pipe", "xml"} do
      local flat = assert(fmt.prepare("t", ents, f == "xml"))
      local text = table.concat(fmt.serialize(flat, f))
      local back = assert(bing.sds.parse_results(text, f))
      assert.equal(#ents, #back, f)
      for i, e in ipairs(back) do
        -- The service trims unquoted fields; ours are quoted where blanks would be lost.
        assert.equal("id " .. HOSTILE[i], e.Id, f .. " Id " .. i)
        assert.equal(HOSTILE[i], e.GeocodeRequest.Query, f .. " Query " .. i)
        assert.equal(HOSTILE[i], e.GeocodeRequest.Address.Locality, f .. " Locality " .. i)
      end
    end
  end)

  it("quotes only what needs it, doubles quotes, and writes the version and header lines", function()
    local flat = assert(fmt.prepare("t", {{GeocodeRequest = {Query = 'a "b", c'}},
      {ReverseGeocodeRequest = {Location = {Latitude = 47.5, Longitude = -122}}}}))
    local text = table.concat(fmt.serialize(flat, "csv"))
    local lines = {}
    for l in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
    assert.equal("Bing Spatial Data Services, 2.0\r", lines[1])
    assert.truthy(lines[2]:find("^Id,GeocodeRequest/Query,ReverseGeocodeRequest/Location/Latitude,"))
    assert.truthy(lines[2]:find("GeocodeResponse/Point/Latitude", 1, true))
    assert.truthy(lines[2]:find(",StatusCode,FaultReason,TraceId\r$"))
    assert.truthy(lines[3]:find('^1,"a ""b"", c",,', 1))
    assert.truthy(lines[4]:find("^2,,47.5,%-122,"))
  end)

  it("gives Ids in input order where none is given, skipping the caller's own", function()
    local flat, ids = assert(fmt.prepare("t", {{GeocodeRequest = {Query = "a"}},
      {Id = "1", GeocodeRequest = {Query = "b"}}, {GeocodeRequest = {Query = "c"}}}))
    assert.same({"2", "1", "3"}, ids)
    assert.equal("2", flat[1].Id)
  end)

  it("refuses what the schema has not, names the entity, and sends nothing", function()
    local c = bing.new{key = "k", sds_url = "http://127.0.0.1:9"}
    local cases = {
      {{{GeocodeRequest = {Qery = "x"}}}, "entities%[1%]: GeocodeRequest/Qery is not a request field"},
      {{{GeocodeResponse = {Name = "x"}}}, "not a request field"},
      {{{Id = "1", GeocodeRequest = {Query = "a"}}, {Id = "1", GeocodeRequest = {Query = "b"}}},
        "Id \"1\" is used twice"},
      {{{Id = "x"}}, "has no GeocodeRequest"},
      {{{GeocodeRequest = {Query = "bell\7"}}}, "control character"},
      {{{GeocodeRequest = {Query = {}}}}, "must be a string, number or boolean"},
      {{{GeocodeRequest = {MaxResults = 3, Query = "x"}}}, "format = \"xml\" only"},
      {{{GeocodeRequest = {Query = "\255\254"}}}, "not UTF%-8"},
    }
    for _, case in ipairs(cases) do
      local res, err = c.sds.geocode_job{entities = case[1], check_pending = false}
      assert.is_nil(res)
      assert.equal("argument", err.kind)
      assert.matches(case[2], err.message)
    end
    assert.has_error(function() c.sds.geocode_job{entities = {}, bogus = 1} end)
    assert.has_error(function() c.sds.geocode_job{} end)
  end)

  it("writes the XML feed of the schema, escaping markup and line breaks", function()
    local flat = assert(fmt.prepare("t", {{Id = "a&b", GeocodeRequest = {Query = "<x>\n\"y\"",
      MaxResults = 3, Address = {Locality = "L"}}}}, true))
    local text = table.concat(fmt.serialize(flat, "xml"))
    assert.truthy(text:find('<GeocodeFeed Version="2.0" xmlns="'
      .. "http://schemas.microsoft.com/search/local/2010/5/geocode\">", 1, true))
    assert.truthy(text:find('<GeocodeEntity Id="a&amp;b">', 1, true))
    assert.truthy(text:find('Query="&lt;x&gt;&#10;&quot;y&quot;"', 1, true))
    assert.truthy(text:find('MaxResults="3"', 1, true))
    assert.truthy(text:find('<Address Locality="L" />', 1, true))
    local back = assert(bing.sds.parse_results(text, "xml"))
    assert.equal(3, back[1].GeocodeRequest.MaxResults)
  end)
end)

describe("bing.sds.parse_results on the reference's samples", function()
  for _, f in ipairs{"csv", "tab", "pipe"} do
    it("reads the " .. f .. " succeeded and failed files nested by column path", function()
      local name = REF .. "geocode-v2.0-sample." .. f
      local ok = assert(bing.sds.parse_results(read(name .. ".succeeded.txt"), f))
      local bad = assert(bing.sds.parse_results(read(REF .. "geocode-v2.0-sample." .. f .. ".failed.txt"), f))
      local e
      for _, x in ipairs(ok) do if x.Id == "1" then e = x end end
      assert.equal("1", e.Id)
      assert.equal("string", type(e.Id))
      assert.equal("en-US", e.GeocodeRequest.Culture)
      -- ("One Microsoft Way" or "16630 Redmond Way": the page's pipe sample numbers its rows differently)
      assert.matches("^%d*%s?[%w ]+ Way$", e.GeocodeRequest.Address.AddressLine)
      assert.matches("Redmond, WA 98052$", e.GeocodeResponse.Name)
      assert.equal("number", type(e.GeocodeResponse.Point.Latitude))
      assert.equal("number", type(e.GeocodeResponse.BoundingBox.SouthLatitude))
      assert.equal("table", type(e.GeocodeResponse.GeocodePoints))
      assert.equal("number", type(e.GeocodeResponse.GeocodePoints[1].Latitude))
      assert.equal("Success", e.StatusCode)
      for _, x in ipairs(bad) do
        assert.is_not.equal("Success", x.StatusCode)
        assert.equal("string", type(x.Id))
      end
      assert.equal(f, sds._detect_format(read(REF .. "geocode-v2.0-sample." .. f .. ".succeeded.txt")))
    end)
  end

  it("refuses a file that is not a results file, as a decode error", function()
    local res, err = bing.sds.parse_results("hello\nworld", "csv")
    assert.is_nil(res)
    assert.equal("decode", err.kind)
    assert.has_error(function() bing.sds.parse_results("x", "json") end)
  end)
end)
