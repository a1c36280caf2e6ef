-- The gazetteer: sim/data/gazetteer.lua expanded into Location entries, built once.
--
-- An entry:
--   {id, kind, entityType, name, lat, lon, bbox = {s, w, n, e}, address = {...},
--    iso2, admin1_name, importance, level, keys = {{words}...}, key_prop,
--    context = {{words =, prop =}...}, geocode_points, calc, cross, street}
-- kind is what the entry is for matching and includeEntityTypes: Address, Landmark,
-- Neighborhood, Postcode1, PopulatedPlace, AdminDivision2, AdminDivision1, CountryRegion.
-- keys are the names the entry answers to; context the words that may accompany them
-- ("Redmond WA 98052" around "1 Microsoft Way"), each with the queryParse property it
-- stands for.
local text = require "bingsim.text"

local _M = {_VERSION = "0.1.0", entries = {}, loaded = false}

-- Specificity: lower is more specific.
_M.LEVEL = {
  Address = 1, Landmark = 1, Neighborhood = 2, Postcode1 = 3, PopulatedPlace = 4,
  AdminDivision2 = 5, AdminDivision1 = 6, CountryRegion = 7,
}

local cos, rad, max, min, log = math.cos, math.rad, math.max, math.min, math.log
local unpack = table.unpack or unpack -- luacheck: ignore 143

-- bbox around a point: half-height `h` degrees, width scaled by latitude.
local function box(lat, lon, h)
  local w = h / max(cos(rad(lat)), 0.05)
  return {max(lat - h, -90), max(lon - w, -180), min(lat + h, 90), min(lon + w, 180)}
end
_M.box = box

local function words_list(names)
  local out, seen = {}, {}
  for _, n in ipairs(names) do
    local w = text.words(n)
    local k = table.concat(w, " ")
    if #w > 0 and not seen[k] then
      seen[k] = true
      out[#out + 1] = w
    end
  end
  return out
end

local function add_context(ctx, names, prop)
  for _, w in ipairs(words_list(names)) do ctx[#ctx + 1] = {words = w, prop = prop} end
end

local function data_dir_default()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/lua/bingsim/[^/]+$") or "sim"
  return dir .. "/data"
end

local function build(data)
  local entries = {}
  local countries, admin1 = {}, {}
  local function add(e)
    e.id = #entries + 1
    e.level = _M.LEVEL[e.kind]
    -- longest context phrases first, so "new york" wins over "york"
    table.sort(e.context, function(a, b)
      if #a.words ~= #b.words then return #a.words > #b.words end
      return table.concat(a.words, " ") < table.concat(b.words, " ")
    end)
    entries[#entries + 1] = e
    return e
  end

  for _, c in ipairs(data.countries) do
    local iso2, name, iso3, lat, lon, half, aliases = c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    local names = {name, iso3}
    for _, a in ipairs(aliases or {}) do names[#names + 1] = a end
    local country = {iso2 = iso2, name = name, iso3 = iso3, names = names,
      context_names = {name, iso2, iso3, unpack(aliases or {})}}
    countries[iso2] = country
    country.entry = add{
      kind = "CountryRegion", entityType = "CountryRegion", name = name, lat = lat, lon = lon,
      bbox = c.bbox or box(lat, lon, half), iso2 = iso2, importance = 100000,
      address = {countryRegion = name, formattedAddress = name},
      keys = words_list(names), key_prop = "CountryRegion", context = {},
    }
  end

  local function country_ctx(ctx, iso2)
    add_context(ctx, countries[iso2].context_names, "CountryRegion")
  end

  for _, a in ipairs(data.admin1) do
    local iso2, code, name, lat, lon = a[1], a[2], a[3], a[4], a[5]
    admin1[iso2 .. "/" .. code] = {iso2 = iso2, code = code, name = name, lat = lat, lon = lon}
  end
  local function admin_of(iso2, code)
    return code and admin1[iso2 .. "/" .. code] or nil
  end
  local function admin_ctx(ctx, iso2, code)
    local a = admin_of(iso2, code)
    if a then add_context(ctx, {a.code, a.name}, "AdminDistrict") end
  end

  -- Cities first: other kinds borrow their admin2 and point (synthesised divisions).
  local cities_by = {}
  local best_city_of_admin1, counties = {}, {}
  for _, c in ipairs(data.cities) do
    local name, lat, lon, iso2, code, admin2, postal, pop, aliases =
      c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]
    local country = countries[iso2]
    local formatted = iso2 == "US" and (name .. ", " .. code) or (name .. ", " .. country.name)
    local names = {name}
    for _, al in ipairs(aliases or {}) do names[#names + 1] = al end
    local ctx = {}
    admin_ctx(ctx, iso2, code)
    if admin2 then add_context(ctx, {admin2}, "AdminDistrict2") end
    if postal then add_context(ctx, {postal}, "PostalCode") end
    country_ctx(ctx, iso2)
    local e = add{
      kind = "PopulatedPlace", entityType = "PopulatedPlace", name = formatted,
      lat = lat, lon = lon, bbox = box(lat, lon, 0.03 + 0.04 * log(pop + 1) / log(10)),
      iso2 = iso2, importance = pop, admin1_name = admin_of(iso2, code) and admin_of(iso2, code).name,
      postal = postal,
      address = {adminDistrict = code, adminDistrict2 = admin2, countryRegion = country.name,
        formattedAddress = formatted, locality = name},
      keys = words_list(names), key_prop = "Locality", context = ctx,
    }
    local k = iso2 .. "/" .. name
    cities_by[k] = cities_by[k] or {}
    table.insert(cities_by[k], {entry = e, code = code, names = names})
    local ak = iso2 .. "/" .. tostring(code)
    if code and (not best_city_of_admin1[ak] or best_city_of_admin1[ak].importance < pop) then
      best_city_of_admin1[ak] = e
    end
    if iso2 == "US" and admin2 then
      local ck = code .. "/" .. admin2
      if not counties[ck] then
        counties[ck] = {code = code, admin2 = admin2, city = e, order = #entries}
      elseif counties[ck].city.importance < pop then
        counties[ck].city = e
      end
    end
  end

  -- The city a neighbourhood, postcode, landmark or address belongs to.
  local function city_of(iso2, name, code)
    local list = name and cities_by[iso2 .. "/" .. name]
    if not list then return nil end
    for _, c in ipairs(list) do
      if c.code == code then return c end
    end
    return list[1]
  end
  local function locality_ctx(ctx, iso2, name, code)
    if not name then return end
    local c = city_of(iso2, name, code)
    add_context(ctx, c and c.names or {name}, "Locality")
  end

  for _, a in ipairs(data.admin1) do
    local iso2, code, name = a[1], a[2], a[3]
    local lat, lon, half = a[4], a[5], 2.5
    if not lat then
      local best = best_city_of_admin1[iso2 .. "/" .. code]
      if best then lat, lon, half = best.lat, best.lon, 1.0 end
    end
    if lat then
      local country = countries[iso2]
      local formatted = iso2 == "US" and name or (name .. ", " .. country.name)
      -- A division named like its main city (Zürich, Berlin, Tokyo) ranks after the city.
      local importance = 5000
      local best = best_city_of_admin1[iso2 .. "/" .. code]
      if best and text.key(best.address.locality) == text.key(name) then
        importance = math.min(importance, best.importance - 1)
      end
      local ctx = {}
      country_ctx(ctx, iso2)
      add{
        kind = "AdminDivision1", entityType = "AdminDivision1", name = formatted,
        lat = lat, lon = lon, bbox = box(lat, lon, half), iso2 = iso2, importance = importance,
        admin1_name = name,
        address = {adminDistrict = code, countryRegion = country.name,
          formattedAddress = formatted},
        keys = words_list({code, name}), key_prop = "AdminDistrict", context = ctx,
      }
    end
  end

  local county_list = {}
  for _, c in pairs(counties) do county_list[#county_list + 1] = c end
  table.sort(county_list, function(a, b) return a.order < b.order end)
  for _, c in ipairs(county_list) do
    local formatted = c.admin2 .. ", " .. c.code
    local ctx = {}
    admin_ctx(ctx, "US", c.code)
    country_ctx(ctx, "US")
    local e = add{
      kind = "AdminDivision2", entityType = "AdminDivision2", name = formatted,
      lat = c.city.lat, lon = c.city.lon, bbox = box(c.city.lat, c.city.lon, 0.5),
      iso2 = "US", importance = 300, admin1_name = admin_of("US", c.code).name,
      address = {adminDistrict = c.code, adminDistrict2 = c.admin2,
        countryRegion = countries.US.name, formattedAddress = formatted},
      keys = words_list({c.admin2}), key_prop = "AdminDistrict2", context = ctx,
    }
    _M.county_entries = _M.county_entries or {}
    _M.county_entries[c.code .. "/" .. c.admin2] = e
  end

  for _, n in ipairs(data.neighborhoods) do
    local name, lat, lon, city, iso2, code, postal = n[1], n[2], n[3], n[4], n[5], n[6], n[7]
    local country = countries[iso2]
    local c = city_of(iso2, city, code)
    local admin2 = n.admin2 or (c and c.entry.address.adminDistrict2)
    local formatted = iso2 == "US" and (name .. ", " .. code)
      or (name .. ", " .. city .. ", " .. country.name)
    local ctx = {}
    locality_ctx(ctx, iso2, city, code)
    admin_ctx(ctx, iso2, code)
    if admin2 then add_context(ctx, {admin2}, "AdminDistrict2") end
    if postal then add_context(ctx, {postal}, "PostalCode") end
    country_ctx(ctx, iso2)
    add{
      kind = "Neighborhood", entityType = "Neighborhood", name = formatted, lat = lat, lon = lon,
      bbox = n.bbox or box(lat, lon, 0.02), iso2 = iso2, importance = 50,
      admin1_name = admin_of(iso2, code) and admin_of(iso2, code).name,
      address = {adminDistrict = code, adminDistrict2 = admin2, countryRegion = country.name,
        formattedAddress = formatted, locality = city, neighborhood = name},
      keys = words_list({name}), key_prop = "Locality", context = ctx,
    }
  end

  for _, p in ipairs(data.postcodes) do
    local code, lat, lon, city, iso2, acode = p[1], p[2], p[3], p[4], p[5], p[6]
    local country = countries[iso2]
    local c = city_of(iso2, city, acode)
    local admin2 = c and c.entry.address.adminDistrict2
    local formatted = iso2 == "US" and (city .. ", " .. acode .. " " .. code)
      or (code .. ", " .. city .. ", " .. country.name)
    local ctx = {}
    locality_ctx(ctx, iso2, city, acode)
    admin_ctx(ctx, iso2, acode)
    if admin2 then add_context(ctx, {admin2}, "AdminDistrict2") end
    country_ctx(ctx, iso2)
    add{
      kind = "Postcode1", entityType = "Postcode1", name = formatted, lat = lat, lon = lon,
      bbox = box(lat, lon, code:find(" ") and 0.002 or 0.03), iso2 = iso2, importance = 10,
      admin1_name = admin_of(iso2, acode) and admin_of(iso2, acode).name, postal = code,
      address = {adminDistrict = acode, adminDistrict2 = admin2, countryRegion = country.name,
        formattedAddress = formatted, locality = city, postalCode = code},
      keys = words_list({code, (code:gsub("[%s%-]", ""))}), key_prop = "PostalCode",
      context = ctx,
    }
  end

  for _, l in ipairs(data.landmarks) do
    local name, lat, lon, etype, city, iso2, code = l[1], l[2], l[3], l[4], l[5], l[6], l[7]
    local country = countries[iso2]
    local c = city_of(iso2, city, code)
    local admin2 = l.admin2 or (c and c.entry.address.adminDistrict2)
    local formatted = l.formatted
    if not formatted then
      local where = city or (iso2 == "US" and code) or country.name
      if city then where = city .. ", " .. (iso2 == "US" and code or country.name) end
      formatted = name .. ", " .. where
    end
    local names = {name}
    for _, al in ipairs(l.aliases or {}) do names[#names + 1] = al end
    local ctx = {}
    locality_ctx(ctx, iso2, city, code)
    if l.neighborhood then add_context(ctx, {l.neighborhood}, "Locality") end
    admin_ctx(ctx, iso2, code)
    if admin2 then add_context(ctx, {admin2}, "AdminDistrict2") end
    if l.postal then add_context(ctx, {l.postal}, "PostalCode") end
    country_ctx(ctx, iso2)
    add{
      kind = "Landmark", entityType = etype, name = formatted, lat = lat, lon = lon,
      bbox = l.bbox or box(lat, lon, 0.001), iso2 = iso2, importance = l.importance or 1000,
      admin1_name = admin_of(iso2, code) and admin_of(iso2, code).name,
      address = {adminDistrict = code, adminDistrict2 = admin2, countryRegion = country.name,
        formattedAddress = formatted, locality = city, neighborhood = l.neighborhood,
        postalCode = l.postal, landmark = name},
      keys = words_list(names), key_prop = "Landmark", context = ctx, calc = "Rooftop",
    }
  end

  for _, a in ipairs(data.addresses) do
    local line, lat, lon, city, iso2, code, postal = a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    local country = countries[iso2]
    local c = city_of(iso2, city, code)
    local admin2 = a.admin2 or (c and c.entry.address.adminDistrict2)
    local formatted = a.formatted or (line .. ", " .. city .. ", " .. code .. " " .. postal)
    local ctx = {}
    locality_ctx(ctx, iso2, city, code)
    if a.neighborhood then add_context(ctx, {a.neighborhood}, "Locality") end
    admin_ctx(ctx, iso2, code)
    if admin2 then add_context(ctx, {admin2}, "AdminDistrict2") end
    local postals = {postal}
    local outward = postal:match("^(%S+)%s")
    if outward then postals[2] = outward end
    add_context(ctx, postals, "PostalCode")
    country_ctx(ctx, iso2)
    local gp
    if a.route then
      gp = {
        {lat = lat, lon = lon, calc = "InterpolationOffset", usage = {"Display"}},
        {lat = a.route[1], lon = a.route[2], calc = "Interpolation", usage = {"Route"}},
      }
    end
    -- The street without the house number, for address.intersection.
    local street = line:gsub("^%s*%d+%a?%s+", ""):gsub("%s+%d+%a?%s*$", "")
    add{
      kind = "Address", entityType = "Address", name = formatted, lat = lat, lon = lon,
      bbox = a.bbox or box(lat, lon, 0.00386), iso2 = iso2, importance = 1,
      admin1_name = admin_of(iso2, code) and admin_of(iso2, code).name, postal = postal,
      address = {addressLine = line, adminDistrict = code, adminDistrict2 = admin2,
        countryRegion = country.name, formattedAddress = formatted, locality = city,
        neighborhood = a.neighborhood, postalCode = postal},
      keys = words_list({line}), key_prop = "AddressLine", context = ctx,
      geocode_points = gp, calc = "Rooftop", cross = a.cross, street = street,
    }
  end

  _M.countries = countries
  _M.admin1 = admin1
  return entries
end

-- Loads and builds the gazetteer (once). data_dir: the directory of gazetteer.lua.
function _M.load(data_dir)
  if _M.loaded then return _M end
  local data = dofile((data_dir or data_dir_default()) .. "/gazetteer.lua")
  _M.entries = build(data)
  -- first-word index: word -> list of {entry, key}
  local index = {}
  for _, e in ipairs(_M.entries) do
    for _, k in ipairs(e.keys) do
      local w = k[1]
      index[w] = index[w] or {}
      table.insert(index[w], {entry = e, key = k})
    end
  end
  _M.index = index
  _M.loaded = true
  return _M
end

function _M.country(iso2) return _M.countries[iso2] end

-- The best entry for a free-text place ("Space Needle", "Redmond, WA") or nil: what
-- other emulated APIs use to resolve waypoints given as addresses or landmarks.
function _M.lookup(query)
  if type(query) ~= "string" then return nil end
  _M.load()
  local results = require("bingsim.geocode").search(query)
  return results[1] and results[1].entry or nil
end

-- The country record for a name, ISO2 or ISO3 code (any case), or nil.
function _M.find_country(s)
  if not s then return nil end
  local k = text.key(s)
  for _, c in pairs(_M.countries) do
    if k == c.iso2:lower() or k == c.iso3:lower() or k == text.key(c.name) then return c end
    for _, n in ipairs(c.names) do
      if k == text.key(n) then return c end
    end
  end
  return nil
end

return _M
