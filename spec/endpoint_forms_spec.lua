-- The endpoint layer's forms beyond one plain GET, on a family of its own (not the Spatial
-- Data Services' code): a declared paging form, parameters read but not sent, constant
-- parameters and segments, a path parameter of several segments, a call with no argument
-- table, another method, an upload body. Through a Lua transport: what went over the wire.
local bing = require "bing"
local endpoint = require "bing.endpoint"
local check = require "bing.check"
local cjson = require "cjson"

local BASE = "https://sds.example.test"

-- A client whose transport answers with `answer(req, n)` and records every request.
local function client_with(answer)
  local sent = {}
  local c = bing.new{key = "forms-spec-key-0123456789", sds_url = BASE, retry = false,
    transport = function(req)
      sent[#sent + 1] = req
      local status, body = answer(req, #sent)
      return {status = status or 200, headers = {["content-type"] = "application/json"},
              body = type(body) == "string" and body or cjson.encode(body)}
    end}
  return c, sent
end

local function query_of(url)
  local q = {}
  for k, v in (url:match("%?(.*)$") or ""):gmatch("([^&=]+)=([^&]*)") do q[k] = v end
  return q
end

local function rows(from, n)
  local out = {}
  for i = 1, n do out[i] = {Id = from + i} end
  return out
end

local TOTAL = 7

local demo = endpoint.family("demo", {
  list = {api = "sds", path = "/REST/v1/data", answer = "odata", billing = false,
    fixed = {{"$format", "json"}},
    params = {{"source", function(_, _, v) return {v, "Items"} end, required = true,
               segment = true},
              {"near", check.point, send = false},
              {"top", check.int(0, 250), bing = "$top"}, {"skip", check.int(0, 1000), bing = "$skip"}},
    rules = function(call)
      if call.values.near then call.params = {{"spatialFilter", "nearby(" .. call.values.near .. ")"}} end
    end,
    pages = {top = "top", skip = "skip",
             next = function(doc) return doc.d.__next end,
             count = function(doc) return tonumber(doc.d.__count) end},
    result = function(doc)
      local page = {}
      for i, r in ipairs(doc.d.results) do page[i] = r end
      return page
    end},
  meta = {api = "sds", path = "/REST/v1/data", tail = {"$metadata"}, no_args = true,
    raw = true, answer = "text", billing = false,
    params = {{"source", function(_, _, v) return {v, "Items"} end, segment = true}},
    result = function(text) return text end},
  remove = {api = "sds", path = "/REST/v1/data", method = "DELETE", raw = true, answer = "text",
    billing = false, params = {{"source", check.required_text, required = true, segment = true}},
    result = function() return true end},
  upload = {api = "sds", path = "/REST/v1/upload", answer = "rest", billing = false,
    params = {{"name", check.required_text, required = true}, {"lines", nil, send = false}},
    body = function(call)
      if #call.args.lines == 0 then return check.bad(call.what, "lines is empty") end
      return table.concat(call.args.lines, "\n"), "text/plain; charset=utf-8"
    end,
    result = function(doc) return doc end},
})

describe("the endpoint layer's declared forms", function()
  it("pages by $top/$skip: page after page, no gap, no duplicate, the last page short", function()
    local c, sent = client_with(function(req)
      local q = query_of(req.url)
      local skip, top = tonumber(q["$skip"] or 0), tonumber(q["$top"])
      return 200, {d = {results = rows(skip, math.min(top, TOTAL - skip)), __count = TOTAL}}
    end)
    local first = assert(endpoint.run(c, demo.list, {source = "acc", top = 3}))
    assert.equal(1, #sent)
    assert.equal(0, first.skip)
    local ids = {}
    for row in first:each() do ids[#ids + 1] = row.Id end
    assert.same({1, 2, 3, 4, 5, 6, 7}, ids)
    assert.equal(3, #sent)
    assert.matches("/REST/v1/data/acc/Items%?%$top=3&%$format=json&key=", sent[1].url)
    assert.matches("%$top=3&%$skip=3&%$format=json", sent[2].url)
    assert.matches("%$top=3&%$skip=6&%$format=json", sent[3].url)
  end)

  it("pages by the answer's __next link (on the client's host), sends the rules' pairs first "
    .. "and not a send = false option", function()
    local c, sent = client_with(function(_, n)
      if n == 1 then
        return 200, {d = {results = rows(0, 2), __next = BASE .. "/REST/v1/data/acc/Items?$skip=2"}}
      end
      return 200, {d = {results = rows(2, 1)}}
    end)
    local all = assert(assert(endpoint.run(c, demo.list, {source = "acc", near = {47.5, -122.25}})):all())
    assert.equal(3, #all)
    assert.equal(2, #sent)
    assert.matches("/REST/v1/data/acc/Items%?spatialFilter=nearby%%2847%.5,%-122%.25%%29&%$format=json&key=",
      sent[1].url)
    assert.is_nil(query_of(sent[1].url).near)
    assert.matches("^" .. BASE .. "/REST/v1/data/acc/Items%?%$skip=2&key=", sent[2].url)
  end)

  it("takes no argument table where declared, and puts constant segments after the parameters'", function()
    local c, sent = client_with(function() return 200, "<edmx/>" end)
    assert.equal("<edmx/>", endpoint.run(c, demo.meta))
    assert.matches("/REST/v1/data/%%24metadata%?key=", sent[1].url)
    assert(endpoint.run(c, demo.meta, {source = "acc"}))
    assert.matches("/REST/v1/data/acc/Items/%%24metadata%?key=", sent[2].url)
    local ok, e = pcall(endpoint.run, c, demo.remove)
    assert.is_false(ok)
    assert.matches("demo%.remove: argument must be a table$", e.message)
  end)

  it("sends another method, and an upload body made by the declaration", function()
    local c, sent = client_with(function() return 200, {resourceSets = {{resources = {{ok = true}}}}} end)
    assert.is_true(endpoint.run(c, demo.remove, {source = "acc"}))
    assert.equal("DELETE", sent[1].method)
    assert(endpoint.run(c, demo.upload, {name = "n", lines = {"a", "b"}}))
    assert.equal("POST", sent[2].method)
    assert.equal("a\nb", sent[2].body)
    assert.equal("text/plain; charset=utf-8", sent[2].headers["Content-Type"])
    assert.matches("/REST/v1/upload%?name=n&key=", sent[2].url)
    local res, err = endpoint.run(c, demo.upload, {name = "n", lines = {}})
    assert.is_nil(res)
    assert.equal("demo.upload: lines is empty", err.message)
    assert.equal(2, #sent)
  end)
end)
