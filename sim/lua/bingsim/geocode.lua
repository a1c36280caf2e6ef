-- Geocoding over the gazetteer: free-text queries, structured addresses, points.
-- Pure Lua (no ngx), deterministic: same input, same list in the same order.
--
-- A result is {entry =, quality =, parse = {{prop, i, j}}, confidence =, match_codes =,
-- dist =}. Ranking, confidence and match codes follow location-data.md:
--   * one match -> High, Good; several equally good matches -> the major ones (importance
--     >= MAJOR: big cities, states, countries, famous landmarks) High/Good, the others
--     Medium/Ambiguous ("Paris" -> Paris, France High; Paris, TX Medium/Ambiguous);
--   * only a less precise level matched (the street of an address is unknown) ->
--     Medium/UpHierarchy;
--   * userLocation/userMapView: among equally good matches the nearest (the ones in
--     view) come first, and the first gets High/Good when it is within NEAR_KM / in view.
local text = require "bingsim.text"
local gaz = require "bingsim.gazetteer"

local _M = {_VERSION = "0.1.0"}

_M.MAJOR = 1000
_M.NEAR_KM = 100

local rad, sin, cos, asin, sqrt, min = math.rad, math.sin, math.cos, math.asin, math.sqrt,
  math.min

function _M.distance_km(lat1, lon1, lat2, lon2)
  local dlat, dlon = rad(lat2 - lat1), rad(lon2 - lon1)
  local a = sin(dlat / 2) ^ 2 + cos(rad(lat1)) * cos(rad(lat2)) * sin(dlon / 2) ^ 2
  return 2 * 6371.0088 * asin(min(1, sqrt(a)))
end
local distance_km = _M.distance_km

local AREA_KINDS = {Postcode1 = true, PopulatedPlace = true, Neighborhood = true,
  AdminDivision2 = true, AdminDivision1 = true, CountryRegion = true}

-- Tries one entry against the tokens, its key found at toks[i .. i+n-1]. Every other
-- token must be a context word of the entry (or a stopword; with `lenient`, anything
-- with a digit: an unknown house number or postcode when we are already up-hierarchy).
local function match_entry(e, toks, i, n, lenient)
  local used = {}
  for k = i, i + n - 1 do used[k] = true end
  local parse = {{prop = e.key_prop, i = i, j = i + n - 1}}
  for _, c in ipairs(e.context) do
    local w = c.words
    for s = 1, #toks - #w + 1 do
      local ok = true
      for k = 1, #w do
        if used[s + k - 1] or toks[s + k - 1].t ~= w[k] then ok = false; break end
      end
      if ok then
        for k = s, s + #w - 1 do used[k] = true end
        parse[#parse + 1] = {prop = c.prop, i = s, j = s + #w - 1}
        break
      end
    end
  end
  for k, tok in ipairs(toks) do
    if not used[k] and not text.STOPWORDS[tok.t] and not (lenient and tok.t:find("%d")) then
      return nil
    end
  end
  return {entry = e, quality = n, parse = parse}
end

-- All entries that explain every token of toks.
local function match_all(toks, kinds, lenient)
  local hits, order = {}, {}
  for i, tok in ipairs(toks) do
    for _, cand in ipairs(gaz.index[tok.t] or {}) do
      local e, key = cand.entry, cand.key
      if (not kinds or kinds[e.kind]) and i + #key - 1 <= #toks then
        local ok = true
        for k = 2, #key do
          if toks[i + k - 1].t ~= key[k] then ok = false; break end
        end
        if ok then
          if not hits[e] then hits[e] = {}; order[#order + 1] = e end
          table.insert(hits[e], {i = i, n = #key})
        end
      end
    end
  end
  local results = {}
  for _, e in ipairs(order) do
    local hs = hits[e]
    table.sort(hs, function(a, b)
      if a.n ~= b.n then return a.n > b.n end
      return a.i < b.i
    end)
    for _, h in ipairs(hs) do
      local r = match_entry(e, toks, h.i, h.n, lenient)
      if r then results[#results + 1] = r; break end
    end
  end
  return results
end

-- User context: {lat, lon} from userLocation, {s, w, n, e} from userMapView.
local function apply_user(results, user)
  if not user then return end
  local ref = user.location
  local view = user.view
  if not ref and view then ref = {(view[1] + view[3]) / 2, (view[2] + view[4]) / 2} end
  for _, r in ipairs(results) do
    local e = r.entry
    if ref then r.dist = distance_km(ref[1], ref[2], e.lat, e.lon) end
    if view then
      r.in_view = e.lat >= view[1] and e.lat <= view[3] and e.lon >= view[2] and e.lon <= view[4]
    end
  end
end

local function sort_results(results, by_level)
  table.sort(results, function(a, b)
    if by_level and a.entry.level ~= b.entry.level then return a.entry.level < b.entry.level end
    if (a.penalty or 0) ~= (b.penalty or 0) then return (a.penalty or 0) < (b.penalty or 0) end
    if a.quality ~= b.quality then return a.quality > b.quality end
    if (a.in_view and 1 or 0) ~= (b.in_view and 1 or 0) then return a.in_view == true end
    if a.dist and b.dist and a.dist ~= b.dist then return a.dist < b.dist end
    if a.entry.importance ~= b.entry.importance then
      return a.entry.importance > b.entry.importance
    end
    return a.entry.id < b.entry.id
  end)
end

local function grade(results, mode, user)
  if #results == 0 then return end
  if mode == "up" then
    local ambiguous = #results > 1 and results[2].entry.level == results[1].entry.level
    for _, r in ipairs(results) do
      r.confidence = "Medium"
      r.match_codes = ambiguous and {"Ambiguous", "UpHierarchy"} or {"UpHierarchy"}
    end
    return
  end
  if #results == 1 and (results[1].penalty or 0) == 0 then
    results[1].confidence, results[1].match_codes = "High", {"Good"}
    return
  end
  local top = results[1]
  for _, r in ipairs(results) do
    if (r.penalty or 0) > 0 or r.quality < top.quality then
      r.confidence, r.match_codes = "Medium", {"Good"}
    elseif r.entry.importance >= _M.MAJOR then
      r.confidence, r.match_codes = "High", {"Good"}
    else
      r.confidence, r.match_codes = "Medium", {"Ambiguous"}
    end
  end
  if user and ((top.dist and top.dist <= _M.NEAR_KM) or top.in_view) then
    top.confidence, top.match_codes = "High", {"Good"}
  end
end

-- Free-text query ("1 Microsoft Way, Redmond, WA 98052", "Paris", "Space Needle").
-- opts: kinds (set of entry kinds to keep), user. Returns results (ranked, graded), the
-- query tokens (for queryParseValues) and the mode: "exact" | "up" | "none".
function _M.search(query, opts)
  opts = opts or {}
  -- ZIP+4: the extension narrows nothing here
  local q = query:gsub("(%d%d%d%d%d)%-%d%d%d%d", "%1")
  local toks = text.tokens(q)
  if #toks == 0 then return {}, toks, "none", q end
  local results = match_all(toks, opts.kinds)
  local mode = "exact"
  if #results == 0 then
    -- Up the hierarchy: drop leading words (whole comma-separated parts first) until
    -- the rest names an area.
    mode = "none"
    local starts, seen = {}, {}
    for k = 2, #toks do
      if q:sub(toks[k - 1].e + 1, toks[k].s - 1):find(",") then
        starts[#starts + 1] = k; seen[k] = true
      end
    end
    for k = 2, #toks do
      if not seen[k] then starts[#starts + 1] = k end
    end
    local kinds = AREA_KINDS
    if opts.kinds then
      kinds = {}
      for k in pairs(AREA_KINDS) do kinds[k] = opts.kinds[k] end
    end
    for _, s in ipairs(starts) do
      local sub = {}
      for k = s, #toks do sub[#sub + 1] = toks[k] end
      local found = match_all(sub, kinds, true)
      if #found > 0 then
        local prop = toks[1].t:find("^%d") and "AddressLine" or "Landmark"
        for _, r in ipairs(found) do
          for _, p in ipairs(r.parse) do p.i, p.j = p.i + s - 1, p.j + s - 1 end
          table.insert(r.parse, 1, {prop = prop, i = 1, j = s - 1})
        end
        results, mode = found, "up"
        break
      end
    end
  end
  apply_user(results, opts.user)
  sort_results(results, mode == "up")
  grade(results, mode, opts.user)
  return results, toks, mode, q
end

local PARSE_ORDER = {AddressLine = 1, Landmark = 2, Locality = 3, PostalCode = 4,
  AdminDistrict = 5, AdminDistrict2 = 6, CountryRegion = 7}

-- queryParseValues of a result: {{property =, value =}} with the text as typed.
function _M.parse_values(r, toks, q)
  local seen, out = {}, {}
  local parts = {}
  for _, p in ipairs(r.parse) do parts[#parts + 1] = p end
  table.sort(parts, function(a, b)
    local oa, ob = PARSE_ORDER[a.prop] or 99, PARSE_ORDER[b.prop] or 99
    if oa ~= ob then return oa < ob end
    return a.i < b.i
  end)
  for _, p in ipairs(parts) do
    if not seen[p.prop] and p.j >= p.i then
      seen[p.prop] = true
      out[#out + 1] = {property = p.prop, value = q:sub(toks[p.i].s, toks[p.j].e)}
    end
  end
  return out
end

local function compact(s) return (text.fold(s):gsub("[%s%-]", "")) end

local function has_phrase(e, prop, value)
  local k = text.key(value)
  for _, c in ipairs(e.context) do
    if c.prop == prop and table.concat(c.words, " ") == k then return true end
  end
  return false
end

local function key_equals(e, value)
  local k = text.key(value)
  for _, w in ipairs(e.keys) do
    if table.concat(w, " ") == k then return true end
  end
  return false
end

local function postal_matches(code, given)
  local a, b = compact(code), compact(given)
  return a == b or a:sub(1, #b) == b or b:sub(1, #a) == a
end

local LEVELS = {
  {kinds = {Address = true, Landmark = true}, field = "addressLine"},
  {kinds = {Postcode1 = true}, field = "postalCode"},
  {kinds = {PopulatedPlace = true, Neighborhood = true}, field = "locality"},
  {kinds = {AdminDivision1 = true}, field = "adminDistrict"},
  {kinds = {CountryRegion = true}, field = "countryRegion"},
}

-- Structured address: f = {addressLine, locality, adminDistrict, postalCode,
-- countryRegion} (nil when absent). opts: strict (strictMatch=1: country and
-- adminDistrict must match), strict_country (the country templates), user.
-- Returns results, mode.
function _M.find_address(f, opts)
  opts = opts or {}
  local country = f.countryRegion and gaz.find_country(f.countryRegion)
  local start
  for i, lv in ipairs(LEVELS) do
    if f[lv.field] then start = start or i end
  end
  if not start then return {}, "none" end
  for li = start, #LEVELS do
    local lv = LEVELS[li]
    local results = {}
    if f[lv.field] then
      local exact_postal = false
      if lv.field == "postalCode" then
        for _, e in ipairs(gaz.entries) do
          if e.kind == "Postcode1" and compact(e.postal) == compact(f.postalCode) then
            exact_postal = true
          end
        end
      end
      for _, e in ipairs(gaz.entries) do
        local ok = lv.kinds[e.kind]
        if ok then
          if lv.field == "addressLine" then ok = key_equals(e, f.addressLine)
          elseif lv.field == "postalCode" then
            ok = exact_postal and compact(e.postal) == compact(f.postalCode)
              or (not exact_postal and postal_matches(e.postal, f.postalCode))
          elseif lv.field == "locality" then ok = key_equals(e, f.locality)
          elseif lv.field == "adminDistrict" then ok = key_equals(e, f.adminDistrict)
          else ok = country ~= nil and e.iso2 == country.iso2 end
        end
        local penalty = 0
        if ok and lv.field ~= "locality" and f.locality and e.kind ~= "CountryRegion"
            and e.kind ~= "AdminDivision1" then
          ok = has_phrase(e, "Locality", f.locality)
        end
        if ok and lv.field ~= "postalCode" and f.postalCode and e.postal then
          if not postal_matches(e.postal, f.postalCode) then
            if e.kind == "Address" or e.kind == "Landmark" then ok = false
            else penalty = penalty + 1 end
          end
        end
        if ok and lv.field ~= "adminDistrict" and f.adminDistrict and e.kind ~= "CountryRegion" then
          if not (has_phrase(e, "AdminDistrict", f.adminDistrict)
              or (e.kind == "AdminDivision1" and key_equals(e, f.adminDistrict))) then
            if opts.strict then ok = false else penalty = penalty + 1 end
          end
        end
        if ok and lv.field ~= "countryRegion" and f.countryRegion then
          if not country or e.iso2 ~= country.iso2 then
            if opts.strict or opts.strict_country then ok = false else penalty = penalty + 1 end
          end
        end
        if ok then
          results[#results + 1] = {entry = e, quality = 1, penalty = penalty, parse = {}}
        end
      end
    end
    if #results > 0 then
      local mode = li == start and "exact" or "up"
      apply_user(results, opts.user)
      sort_results(results, false)
      grade(results, mode, opts.user)
      return results, mode
    end
  end
  return {}, "none"
end

-- Reverse geocoding -------------------------------------------------------------------

_M.REVERSE_TYPES = {"Address", "Neighborhood", "PopulatedPlace", "Postcode1",
  "AdminDivision2", "AdminDivision1", "CountryRegion"}

local function nearest(lat, lon, kind, max_km)
  local best, best_d
  for _, e in ipairs(gaz.entries) do
    if e.kind == kind then
      local d = distance_km(lat, lon, e.lat, e.lon)
      if d <= max_km and (not best_d or d < best_d or (d == best_d and e.id < best.id)) then
        best, best_d = e, d
      end
    end
  end
  return best, best_d
end

local admin1_entries
local function admin1_entry(iso2, code)
  if not admin1_entries then
    admin1_entries = {}
    for _, e in ipairs(gaz.entries) do
      if e.kind == "AdminDivision1" then
        admin1_entries[e.iso2 .. "/" .. e.address.adminDistrict] = e
      end
    end
  end
  return code and admin1_entries[iso2 .. "/" .. code]
end

-- A division or postcode made from a city's fields (the point is the city's).
local function synth(city, kind)
  local a = city.address
  local addr = {countryRegion = a.countryRegion, adminDistrict = a.adminDistrict}
  local name
  if kind == "Postcode1" then
    addr.adminDistrict2, addr.locality, addr.postalCode = a.adminDistrict2, a.locality, city.postal
    name = city.iso2 == "US" and (a.locality .. ", " .. a.adminDistrict .. " " .. city.postal)
      or (city.postal .. ", " .. a.locality .. ", " .. a.countryRegion)
  else
    addr.adminDistrict2 = a.adminDistrict2
    name = a.adminDistrict2 .. ", " .. (city.iso2 == "US" and a.adminDistrict or a.countryRegion)
  end
  addr.formattedAddress = name
  return {kind = kind, entityType = kind, name = name, lat = city.lat, lon = city.lon,
    bbox = gaz.box(city.lat, city.lon, kind == "Postcode1" and 0.03 or 0.5), iso2 = city.iso2,
    admin1_name = city.admin1_name, address = addr, importance = 0, id = city.id,
    synthetic = true, level = gaz.LEVEL[kind]}
end

local finders = {
  Address = function(lat, lon) return nearest(lat, lon, "Address", 1.0) end,
  Neighborhood = function(lat, lon) return nearest(lat, lon, "Neighborhood", 3) end,
  PopulatedPlace = function(lat, lon) return nearest(lat, lon, "PopulatedPlace", 40) end,
  Postcode1 = function(lat, lon)
    local p = nearest(lat, lon, "Postcode1", 5)
    if p then return p end
    local city = nearest(lat, lon, "PopulatedPlace", 40)
    if city and city.postal then return synth(city, "Postcode1") end
  end,
  AdminDivision2 = function(lat, lon)
    local city = nearest(lat, lon, "PopulatedPlace", 100)
    if not (city and city.address.adminDistrict2) then return nil end
    local county = gaz.county_entries and
      gaz.county_entries[tostring(city.address.adminDistrict) .. "/" .. city.address.adminDistrict2]
    if city.iso2 == "US" and county then return county end
    return synth(city, "AdminDivision2")
  end,
  AdminDivision1 = function(lat, lon)
    local city = nearest(lat, lon, "PopulatedPlace", 300)
    if city then
      local e = admin1_entry(city.iso2, city.address.adminDistrict)
      if e then return e end
    end
    return nearest(lat, lon, "AdminDivision1", 800)
  end,
  CountryRegion = function(lat, lon)
    local city = nearest(lat, lon, "PopulatedPlace", 1000)
    if city then return gaz.countries[city.iso2].entry end
    return nearest(lat, lon, "CountryRegion", 2000)
  end,
}

-- Entries for a point. types: set of REVERSE_TYPES names (nil: all). The most specific
-- type found wins; Neighborhood and PopulatedPlace come together when both are asked
-- for and found (find-a-location-by-point.md). Returns results (graded).
function _M.reverse(lat, lon, types)
  local found = {}
  for _, t in ipairs(_M.REVERSE_TYPES) do
    if not types or types[t] then
      local e = finders[t](lat, lon)
      if e then found[#found + 1] = {type = t, entry = e} end
    end
  end
  local out = {}
  if #found > 0 then
    out[1] = found[1]
    if found[1].type == "Neighborhood" and found[2] and found[2].type == "PopulatedPlace" then
      out[2] = found[2]
    end
  end
  local results = {}
  for i, f in ipairs(out) do
    results[i] = {entry = f.entry, quality = 1, parse = {},
      confidence = f.type == "Address" and "Medium" or "High", match_codes = {"Good"},
      reverse = true}
  end
  return results
end

return _M
