-- Geocodes a CSV file of addresses into GeoJSON through one batch geocode job (the Spatial
-- Data Services' Geocode Dataflow): thousands of addresses for the price of one transaction
-- each, and no per-request rate limit.
--
--   lua5.4 examples/csv_to_geojson.lua [input.csv [output.geojson]]
--   make example-csv-geojson      (against the local emulator, one command)
--
-- The input's first line names its columns. An `address` column (a street line), with
-- `city`, `state`, `zip` and `country` where present, becomes a structured address; a `query`
-- column is sent as free text. Every column goes into the feature's properties, and rows
-- that could not be geocoded are listed on stderr with the service's reason. BING_MAPS_KEY
-- is the key; BING_SDS_URL points at another host (the emulator).
local bing = require "bing"
local geojson = require "bing.geojson"
local sds_format = require "bing.api.sds_format"

local input = arg[1] or "examples/data/addresses.csv"
local output = arg[2]

local function env(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

local f = assert(io.open(input, "rb"))
local text = f:read("a")
f:close()
-- The library's reader of delimited text (quoted fields, "" for a quote, CRLF or LF).
local rows = sds_format.records(text, ",")
local header = table.remove(rows, 1)
local col = {}
for i, name in ipairs(header) do col[name:lower()] = i end

local FIELDS = {address = "AddressLine", city = "Locality", state = "AdminDistrict",
                zip = "PostalCode", country = "CountryRegion"}
local entities, records = {}, {}
for _, row in ipairs(rows) do
  local props, request = {}, {}
  for i, name in ipairs(header) do props[name] = row[i] end
  local q = col.query and row[col.query]
  if q and q ~= "" then
    request.Query = q
  else
    local address = {}
    for name, field in pairs(FIELDS) do
      local v = col[name] and row[col[name]]
      if v and v ~= "" then address[field] = v end
    end
    if next(address) then request.Address = address end
  end
  if next(request) then
    entities[#entities + 1] = {GeocodeRequest = request}
    records[#entities] = props
  else
    io.stderr:write("skipped a row with no address: ", table.concat(row, ","), "\n")
  end
end

local client = bing.new{sds_url = env "BING_SDS_URL"}
local job = assert(client.sds.geocode_job{entities = entities, description = "csv_to_geojson"})
io.stderr:write(("job %s: %d entities\n"):format(job.id, #entities))
local res = assert(job:wait{on_progress = function(st)
  io.stderr:write(("  %s: %s of %s processed, %s failed\n"):format(st.status, tostring(st.processed),
    tostring(st.total), tostring(st.failed_count)))
end})

local features = {}
for i, e in res:each() do
  local r = e.GeocodeResponse
  if r and r.Point then
    local props = records[i]
    props.formatted_address = r.Address and r.Address.FormattedAddress or r.Name
    props.confidence = r.Confidence
    props.match_codes = r.MatchCodes
    features[#features + 1] = {type = "Feature", properties = props,
      geometry = {type = "Point", coordinates = {r.Point.Longitude, r.Point.Latitude}}}
  else
    io.stderr:write(("not geocoded: %s (%s: %s)\n"):format(records[i].name or e.Id,
      tostring(e.StatusCode), tostring(e.FaultReason)))
  end
end
io.stderr:write(("%d of %d geocoded\n"):format(#res.succeeded, #res))

-- bing.geojson.encode: numbers exact (cjson writes 14 digits), no features as [] (not {}).
local doc = geojson.encode({type = "FeatureCollection", features = features})
if output then
  local out = assert(io.open(output, "wb"))
  out:write(doc, "\n")
  out:close()
else
  print(doc)
end
