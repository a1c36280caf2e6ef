-- The OData pieces of the Query API: a $filter parser/evaluator and the spatial filters
-- (query-options.md, query-by-*.md). Pure Lua, no ngx.
--
-- $filter grammar (operators case-insensitive, as the reference writes them: Eq, And...):
--   expr    := and ("or" and)*
--   and     := unary ("and" unary)*
--   unary   := "not" unary | cmp
--   cmp     := primary [("eq"|"ne"|"gt"|"ge"|"lt"|"le") primary] | primary "in" "(" lits ")"
--   primary := "(" expr ")" | ("startswith"|"endswith") "(" prop "," string ")" | literal | prop
--   literal := 'text' ('' inside is one quote) | number | true | false | null
--              | datetime'2010-11-10T17:19:36'
-- Rules from query-options.md: at most one StartsWith/EndsWith, never combined with And/Or;
-- Latitude and Longitude cannot be filtered on. Errors are returned as text (the caller turns
-- them into the 400).
local geocode = require "bingsim.geocode"

local _M = {_VERSION = "0.1.0"}

local lower = string.lower

local KEYWORDS = {eq = true, ne = true, gt = true, ge = true, lt = true, le = true, ["and"] = true,
  ["or"] = true, ["not"] = true, ["in"] = true}

local function tokenize(s)
  local toks, i, n = {}, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif c == "(" or c == ")" or c == "," then
      toks[#toks + 1] = {t = c}; i = i + 1
    elseif c == "'" then
      local buf, k = {}, i + 1
      while true do
        local q = s:find("'", k, true)
        if not q then return nil, "unterminated string literal" end
        buf[#buf + 1] = s:sub(k, q - 1)
        if s:sub(q + 1, q + 1) == "'" then buf[#buf + 1] = "'"; k = q + 2 else k = q + 1; break end
      end
      toks[#toks + 1] = {t = "lit", v = table.concat(buf), kind = "string"}
      i = k
    elseif s:find("^[%-%+]?%d", i) then
      local num = s:match("^[%-%+]?%d+%.?%d*[eE]?[%-%+]?%d*", i)
      local rest = s:sub(i + #num, i + #num)
      if rest:match("[LlMmDdFf]") then rest = rest:lower() else rest = "" end
      toks[#toks + 1] = {t = "lit", v = tonumber(num), kind = "number"}
      if not toks[#toks].v then return nil, "bad number " .. num end
      i = i + #num + #rest
    elseif c:match("[%a_]") then
      local w = s:match("^[%w_%.]+", i)
      i = i + #w
      local lw = lower(w)
      if lw == "datetime" and s:sub(i, i) == "'" then
        local e = s:find("'", i + 1, true)
        if not e then return nil, "unterminated datetime literal" end
        toks[#toks + 1] = {t = "lit", v = s:sub(i + 1, e - 1), kind = "datetime"}
        i = e + 1
      elseif lw == "true" or lw == "false" then
        toks[#toks + 1] = {t = "lit", v = lw == "true", kind = "boolean"}
      elseif lw == "null" then
        toks[#toks + 1] = {t = "lit", v = nil, kind = "null"}
      elseif KEYWORDS[lw] then
        toks[#toks + 1] = {t = lw}
      else
        toks[#toks + 1] = {t = "name", v = w}
      end
    else
      return nil, "unexpected character '" .. c .. "'"
    end
  end
  return toks
end

-- Parses a $filter. props: lower-case name -> {name =, type =} of the entity type.
-- Returns the tree or nil, error text.
function _M.parse_filter(s, props)
  local toks, err = tokenize(s)
  if not toks then return nil, err end
  local pos = 1
  local wildcards, logical = 0, 0
  local function peek() return toks[pos] and toks[pos].t end
  local function take(t)
    if peek() ~= t then
      error({msg = ("expected %s near token %d"):format(t == "lit" and "a value" or "'" .. t .. "'",
        pos)}, 0)
    end
    pos = pos + 1
    return toks[pos - 1]
  end
  local function prop(tok)
    local p = props[lower(tok.v)]
    if not p then error({msg = "unknown property '" .. tok.v .. "'"}, 0) end
    if p.name == "Latitude" or p.name == "Longitude" then
      error({msg = "you cannot filter on the latitude and longitude properties"}, 0)
    end
    return {op = "prop", p = p}
  end
  local expr
  local function primary()
    local t = peek()
    if t == "(" then
      take("(")
      local e = expr()
      take(")")
      return e
    elseif t == "lit" then
      local tok = take("lit")
      return {op = "lit", v = tok.v, kind = tok.kind}
    elseif t == "name" then
      local tok = take("name")
      local lw = lower(tok.v)
      if peek() == "(" and (lw == "startswith" or lw == "endswith") then
        take("(")
        local p = prop(take("name"))
        take(",")
        local lit = take("lit")
        if lit.kind ~= "string" then error({msg = tok.v .. " needs a string"}, 0) end
        take(")")
        wildcards = wildcards + 1
        return {op = lw, p = p.p, v = lit.v}
      elseif peek() == "(" then
        error({msg = "unknown function '" .. tok.v .. "'"}, 0)
      end
      return prop(tok)
    end
    error({msg = "expected a property or a value near token " .. pos}, 0)
  end
  local CMP = {eq = true, ne = true, gt = true, ge = true, lt = true, le = true}
  local function cmp()
    local left = primary()
    local t = peek()
    if t and CMP[t] then
      pos = pos + 1
      return {op = t, a = left, b = primary()}
    elseif t == "in" then
      pos = pos + 1
      take("(")
      local list = {}
      repeat
        local lit = take("lit")
        list[#list + 1] = lit.v
      until peek() ~= "," or not take(",")
      take(")")
      return {op = "in", a = left, list = list}
    end
    return left
  end
  local function unary()
    if peek() == "not" then pos = pos + 1; return {op = "not", a = unary()} end
    return cmp()
  end
  local function and_()
    local e = unary()
    while peek() == "and" do pos = pos + 1; logical = logical + 1; e = {op = "and", a = e, b = unary()} end
    return e
  end
  expr = function()
    local e = and_()
    while peek() == "or" do pos = pos + 1; logical = logical + 1; e = {op = "or", a = e, b = and_()} end
    return e
  end
  local ok, tree = pcall(function()
    local e = expr()
    if pos <= #toks then error({msg = "unexpected '" .. (toks[pos].v or toks[pos].t) .. "'"}, 0) end
    return e
  end)
  if not ok then return nil, type(tree) == "table" and tree.msg or tostring(tree) end
  if wildcards > 1 then return nil, "only one StartsWith or EndsWith search is allowed" end
  if wildcards == 1 and logical > 0 then
    return nil, "a StartsWith or EndsWith search cannot be combined with And or Or"
  end
  tree.wildcard = wildcards > 0
  return tree
end

-- Values: strings compare case-insensitively (SQL Server's default collation), booleans
-- accept 1/0, numbers compare as numbers, null equals only a missing value.
local function norm(v, ty)
  if v == nil then return nil end
  if ty == "Edm.Boolean" then
    if v == true or v == 1 or v == "1" or (type(v) == "string" and lower(v) == "true") then return 1 end
    if v == false or v == 0 or v == "0" or (type(v) == "string" and lower(v) == "false") then return 0 end
    return v
  end
  if ty == "Edm.Double" or ty == "Edm.Int64" then return tonumber(v) or v end
  if type(v) == "string" then return lower(v) end
  return v
end

local function compare(a, b)
  if a == nil or b == nil then return nil end
  if type(a) ~= type(b) then a, b = tostring(a), tostring(b) end
  if a < b then return -1 elseif a > b then return 1 end
  return 0
end

local eval
local function value(node, ent, ty)
  if node.op == "prop" then return norm(ent[node.p.name], node.p.type), node.p.type end
  if node.op == "lit" then
    if type(node.v) == "boolean" and not ty then return node.v and 1 or 0, "Edm.Boolean" end
    return norm(node.v, ty), ty
  end
  return eval(node, ent) and 1 or 0, "Edm.Boolean"
end

eval = function(node, ent)
  local op = node.op
  if op == "and" then return eval(node.a, ent) and eval(node.b, ent) end
  if op == "or" then return eval(node.a, ent) or eval(node.b, ent) end
  if op == "not" then return not eval(node.a, ent) end
  if op == "startswith" or op == "endswith" then
    local v = ent[node.p.name]
    if v == nil then return false end
    v, node.lv = lower(tostring(v)), node.lv or lower(node.v)
    if op == "startswith" then return v:sub(1, #node.lv) == node.lv end
    return #node.lv == 0 or v:sub(-#node.lv) == node.lv
  end
  if op == "in" then
    local ty = node.a.op == "prop" and node.a.p.type or nil
    local a = value(node.a, ent, ty)
    for _, x in ipairs(node.list) do
      if compare(a, norm(x, ty)) == 0 then return true end
    end
    return false
  end
  if op == "prop" then return norm(ent[node.p.name], node.p.type) == 1 end
  if op == "lit" then return node.v == true or node.v == 1 end
  local ty = (node.a.op == "prop" and node.a.p.type) or (node.b.op == "prop" and node.b.p.type)
  local a, b = value(node.a, ent, ty), value(node.b, ent, ty)
  if op == "eq" then return a == b or compare(a, b) == 0 end
  if op == "ne" then return not (a == b or compare(a, b) == 0) end
  local c = compare(a, b)
  if c == nil then return false end
  if op == "gt" then return c > 0 elseif op == "ge" then return c >= 0
  elseif op == "lt" then return c < 0 else return c <= 0 end
end
_M.eval = eval

---------------------------------------------------------------------------------------------
-- Spatial filters
---------------------------------------------------------------------------------------------

local distance_km = geocode.distance_km

local function split_args(s)
  local out, buf, q = {}, {}, false
  for i = 1, #s do
    local c = s:sub(i, i)
    if c == "'" then q = not q; buf[#buf + 1] = c
    elseif c == "," and not q then out[#out + 1] = table.concat(buf); buf = {}
    else buf[#buf + 1] = c end
  end
  out[#out + 1] = table.concat(buf)
  for i, v in ipairs(out) do out[i] = v:match("^%s*(.-)%s*$") end
  return out
end

local function unquote(s)
  local v = s:match("^'(.*)'$")
  return v and v:gsub("''", "'") or nil
end

-- WKT: POINT, LINESTRING, POLYGON, MULTIPOLYGON (x = longitude, y = latitude).
function _M.parse_wkt(s)
  local kind, body = s:match("^%s*(%a+)%s*(%b())%s*$")
  if not kind then return nil end
  kind = kind:upper()
  local function ring(txt)
    local pts = {}
    for pair in txt:gmatch("[^,]+") do
      local x, y = pair:match("^%s*([%-%d%.eE]+)%s+([%-%d%.eE]+)")
      x, y = tonumber(x), tonumber(y)
      if not x or not y then return nil end
      pts[#pts + 1] = {y, x}
    end
    return pts
  end
  if kind == "POINT" then
    local r = ring(body:sub(2, -2))
    return r and #r == 1 and {kind = "point", points = r} or nil
  elseif kind == "LINESTRING" then
    local r = ring(body:sub(2, -2))
    return r and #r >= 2 and {kind = "line", points = r} or nil
  elseif kind == "POLYGON" or kind == "MULTIPOLYGON" then
    local polys = {}
    local inner = body:sub(2, -2)
    local list = kind == "POLYGON" and {"(" .. inner .. ")"} or {}
    if kind == "MULTIPOLYGON" then for p in inner:gmatch("%b()") do list[#list + 1] = p end end
    for _, p in ipairs(list) do
      local rings = {}
      for r in p:sub(2, -2):gmatch("%b()") do
        local pts = ring(r:sub(2, -2))
        if not pts or #pts < 4 then return nil end
        rings[#rings + 1] = pts
      end
      if #rings == 0 then return nil end
      polys[#polys + 1] = rings
    end
    return #polys > 0 and {kind = "polygon", polygons = polys} or nil
  end
  return nil
end

local function in_ring(lat, lon, ring)
  local inside = false
  local j = #ring
  for i = 1, #ring do
    local yi, xi, yj, xj = ring[i][1], ring[i][2], ring[j][1], ring[j][2]
    if ((yi > lat) ~= (yj > lat)) and (lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) then
      inside = not inside
    end
    j = i
  end
  return inside
end

-- Distance (km) from a point to a segment, on a local flat projection (fine at these scales).
local function seg_distance(lat, lon, a, b)
  local k = math.cos(math.rad(lat))
  local ax, ay = (a[2] - lon) * k, a[1] - lat
  local bx, by = (b[2] - lon) * k, b[1] - lat
  local dx, dy = bx - ax, by - ay
  local t = 0
  local len2 = dx * dx + dy * dy
  if len2 > 0 then t = math.max(0, math.min(1, -(ax * dx + ay * dy) / len2)) end
  local px, py = ax + t * dx, ay + t * dy
  return math.sqrt(px * px + py * py) * 111.195, t
end
_M.seg_distance = seg_distance

function _M.shape_contains(shape, lat, lon)
  if shape.kind == "polygon" then
    for _, rings in ipairs(shape.polygons) do
      if in_ring(lat, lon, rings[1]) then
        local hole = false
        for r = 2, #rings do if in_ring(lat, lon, rings[r]) then hole = true; break end end
        if not hole then return true end
      end
    end
    return false
  end
  -- A point entity "intersects" a point or a line within 50 m of it.
  local pts = shape.points
  if #pts == 1 then return distance_km(lat, lon, pts[1][1], pts[1][2]) <= 0.05 end
  for i = 1, #pts - 1 do
    if seg_distance(lat, lon, pts[i], pts[i + 1]) <= 0.05 then return true end
  end
  return false
end

-- Resolves a place: 'lat,lon' inside quotes or an address (gazetteer). Returns lat, lon.
local function place(s)
  local lat, lon = s:match("^%s*([%-%d%.]+)%s*,%s*([%-%d%.]+)%s*$")
  if lat then return tonumber(lat), tonumber(lon), false end
  local gaz = require "bingsim.gazetteer"
  local e = gaz.lookup(s)
  if e then return e.lat, e.lon, true end
  return nil
end

-- Parses spatialFilter. Returns {kind =, test = function(lat, lon) -> ok, distance,
-- geocoded = n (addresses that were geocoded)} or nil, error text.
function _M.parse_spatial(s)
  local fn, args = s:match("^%s*(%a+)%s*(%b())%s*$")
  if not fn then return nil, "the spatial filter is not valid" end
  fn = lower(fn)
  local a = split_args(args:sub(2, -2))
  if fn == "nearby" then
    local lat, lon, dist, geocoded
    if #a == 3 then
      lat, lon, dist = tonumber(a[1]), tonumber(a[2]), tonumber(a[3])
      if not lat or not lon or lat < -90 or lat > 90 or lon < -180 or lon > 180 then
        return nil, "the point of nearby() is not valid"
      end
    elseif #a == 2 and unquote(a[1]) then
      dist = tonumber(a[2])
      lat, lon = place(unquote(a[1]))
      geocoded = 1
      if not lat then return {kind = "nearby", none = true, geocoded = 1} end
    else
      return nil, "nearby() takes latitude, longitude and distance, or an address and distance"
    end
    -- query-by-area.md: "between 0.16 and 1000 kilometers".
    if not dist or dist < 0.16 or dist > 1000 then
      return nil, "the distance must be between 0.16 and 1000 kilometers"
    end
    return {kind = "nearby", geocoded = geocoded, center = {lat, lon},
      test = function(la, lo)
        local d = distance_km(lat, lon, la, lo)
        return d <= dist, d
      end}
  elseif fn == "bbox" then
    if #a ~= 4 then return nil, "bbox() takes south, west, north and east" end
    local so, we, no, ea = tonumber(a[1]), tonumber(a[2]), tonumber(a[3]), tonumber(a[4])
    if not (so and we and no and ea) or so > no or so < -90 or no > 90 then
      return nil, "the bounding box is not valid"
    end
    return {kind = "bbox", test = function(la, lo)
      local inlon
      if we <= ea then inlon = lo >= we and lo <= ea else inlon = lo >= we or lo <= ea end
      return la >= so and la <= no and inlon
    end}
  elseif fn == "nearroute" then
    if #a ~= 2 then return nil, "nearRoute() takes a start and an end" end
    local p1, p2 = unquote(a[1]) or a[1], unquote(a[2]) or a[2]
    local lat1, lon1, g1 = place(p1)
    local lat2, lon2, g2 = place(p2)
    local geocoded = (g1 and 1 or 0) + (g2 and 1 or 0)
    if not lat1 or not lat2 then return {kind = "nearRoute", none = true, geocoded = geocoded} end
    local A, B = {lat1, lon1}, {lat2, lon2}
    local total = distance_km(lat1, lon1, lat2, lon2)
    -- query-near-route.md: entities within 1 mile (1.6 km) of the route; the route is
    -- the straight line between its ends here. Sorted by distance from the start.
    return {kind = "nearRoute", geocoded = geocoded, test = function(la, lo)
      local d, t = seg_distance(la, lo, A, B)
      return d <= 1.6, t * total
    end}
  elseif fn == "intersects" then
    local wkt = #a == 1 and unquote(a[1])
    local shape = wkt and _M.parse_wkt(wkt)
    if not shape then return nil, "the geography of intersects() is not valid WKT" end
    return {kind = "intersects", shape = shape, wkt = wkt, test = function(la, lo)
      return _M.shape_contains(shape, la, lo)
    end}
  end
  return nil, "unknown spatial filter " .. fn
end

return _M
