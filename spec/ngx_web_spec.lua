-- The OpenResty example as a map service (examples/openresty/: nginx.conf, geocode.lua,
-- mapservice.lua, www/): a private nginx runs the example's config as it is (two workers, the
-- shared dict) against the emulator; the spec checks its GeoJSON answers and what reached the
-- emulator, then loads the page in headless Chromium (spec/support/chromium.lua, the DevTools
-- protocol over pipes), waits until the page says it has drawn everything, takes a screenshot
-- and checks its pixels (spec/support/png_inflate.lua): the emulator's tiles, the route line where the
-- route is (projected by the page's map, checked against our own Web Mercator), the isochrone's
-- shading, and the emulator's log of the page's geocode, route, isochrone and tile requests.
-- The screenshot is kept as build/web/ngx_web_spec.png for a person to look at.
-- Needs `make LUA=luajit`, `make web-assets` (both done by `make test`) and Debian's chromium.
if not os.getenv("SIM_URL") then
  error("spec/ngx_web_spec.lua needs the emulator: run it through `make test`, "
    .. "or `eval \"$(sim/bingsim start)\"` first (SIM_URL is not set)", 0)
end

local sim = require "support.sim"
local ngx_server = require "support.ngx_server"
local chromium = require "support.chromium"
local png = require "support.png_inflate"
local cjson = require "cjson.safe"
local imagery = require "bing.api.imagery"
local geojson = require "bing.geojson"

local replace_once, read_file = ngx_server.replace_once, ngx_server.read_file
local ROOT = ngx_server.ROOT
local SHOT = ROOT .. "/build/web/ngx_web_spec.png"

-- The page's colours (www/app.js) and the emulator's Road tile background
-- (sim/lua/bingsim/imagery.lua).
local ROUTE = {230, 0, 126}
local WAYPOINT = {255, 214, 10}
local ROAD = {242, 239, 233}
-- The isochrone's fill, #26a69a at 25% over the Road background, as Chromium blends it.
local AREA = {191, 221, 213}

local FROM, TO = "Space Needle", "1 Microsoft Way, Redmond, WA"

-- The example's config as it is, on a free port, with its two relative paths (page and
-- Leaflet) made absolute: the spec's nginx runs with its own prefix.
local function derive(conf, port)
  conf = replace_once(conf, "listen 127.0.0.1:8080;", "listen 127.0.0.1:" .. port .. ";")
  conf = replace_once(conf, "root examples/openresty/www;",
    "root " .. ROOT .. "/examples/openresty/www;")
  conf = replace_once(conf, "alias build/web/leaflet/;", "alias " .. ROOT .. "/build/web/leaflet/;")
  return conf
end

local function near(c, want, tol)
  tol = tol or 3
  return math.abs(c[1] - want[1]) <= tol and math.abs(c[2] - want[2]) <= tol
    and math.abs(c[3] - want[3]) <= tol
end

local function entries_since(mark, prefix)
  local out = {}
  for _, e in ipairs(sim.log(mark)) do
    if e.path:sub(1, #prefix) == prefix then out[#out + 1] = e end
  end
  return out
end

local function query(t)
  local parts = {}
  for _, kv in ipairs(t) do parts[#parts + 1] = kv[1] .. "=" .. sim.encode(kv[2]) end
  return table.concat(parts, "&")
end

describe("the OpenResty example's map service (examples/openresty)", function()
  local srv

  local function get(path)
    local c = srv:connect()
    local status, body, headers = c:get(path)
    c:close()
    return status, sim.decode(body), body, headers
  end

  setup(function()
    assert(read_file(ROOT .. "/build/web/leaflet/leaflet.js"),
      "build/web/leaflet/ is empty: run `make web-assets` (make test does)")
    srv = ngx_server.start(derive)
  end)

  teardown(function()
    if srv then srv:stop() end
  end)

  describe("GeoJSON endpoints", function()
    it("/route answers the route, its legs, maneuvers and waypoints, lon/lat order", function()
      local mark = sim.last_id()
      local status, doc, _, headers = get("/route?" .. query{{"wp", FROM}, {"wp", "47.6405,-122.1297"},
                                                          {"wp", "Seattle"}})
      assert.equal(200, status)
      assert.equal("application/geo+json", headers["content-type"])
      assert.equal("FeatureCollection", doc.type)
      assert(geojson.validate(doc))
      local by_kind = {}
      for _, f in ipairs(doc.features) do
        local k = f.properties.kind
        by_kind[k] = by_kind[k] or {}
        table.insert(by_kind[k], f)
      end
      assert.same({1, 2, 3}, {#by_kind.route, #by_kind.leg, #by_kind.waypoint})
      assert.is_true(#by_kind.maneuver >= 4)
      local route, leg1, leg2 = by_kind.route[1], by_kind.leg[1], by_kind.leg[2]
      assert.equal(doc.features[1], route)
      assert.equal("LineString", route.geometry.type)
      local line = route.geometry.coordinates
      assert.same({-122.3493, 47.6205}, line[1])              -- the Space Needle, lon first
      assert.same({-122.3321, 47.6062}, line[#line])          -- Seattle, the gazetteer's
      -- The legs split the line at the middle waypoint, without a gap.
      assert.same(line[1], leg1.geometry.coordinates[1])
      assert.same({-122.1297, 47.6405}, leg1.geometry.coordinates[#leg1.geometry.coordinates])
      assert.same(leg1.geometry.coordinates[#leg1.geometry.coordinates], leg2.geometry.coordinates[1])
      assert.same(line[#line], leg2.geometry.coordinates[#leg2.geometry.coordinates])
      assert.equal(#line + 1, #leg1.geometry.coordinates + #leg2.geometry.coordinates)
      assert.near(route.properties.travelDistance,
        leg1.properties.travelDistance + leg2.properties.travelDistance, 1e-6)
      assert.equal("Space Needle, Seattle, WA", leg1.properties.startLocation)
      local a, b, c = by_kind.waypoint[1], by_kind.waypoint[2], by_kind.waypoint[3]
      assert.same({"A", "B", "C"}, {a.properties.label, b.properties.label, c.properties.label})
      assert.same({-122.3493, 47.6205}, a.geometry.coordinates)
      assert.same({-122.1297, 47.6405}, b.geometry.coordinates)
      assert.same({-122.3321, 47.6062}, c.geometry.coordinates)
      assert.equal("Space Needle, Seattle, WA", a.properties.name)
      assert.equal("Seattle, WA", c.properties.name)
      -- The wire: one route request with the path asked for, sent with the key.
      local sent = entries_since(mark, "/REST/v1/Routes")
      assert.equal(1, #sent)
      assert.equal(sent[1].trace_id, headers["x-bing-trace-id"])
      assert.equal("/REST/v1/Routes/Driving", sent[1].path)
      assert.same({key = "<redacted>", routeAttributes = "routePath", ["wp.0"] = FROM,
                   ["wp.1"] = "47.6405,-122.1297", ["wp.2"] = "Seattle"}, sent[1].query)
      assert.equal("SIM_KEY", sent[1].key_label)
    end)

    it("/route refuses fewer than two waypoints and bad ones, sending nothing", function()
      local mark = sim.last_id()
      local status, doc = get("/route?wp=Seattle")
      assert.equal(400, status)
      assert.equal("argument", doc.error.kind)
      status, doc = get("/route?wp=95,10&wp=Seattle")   -- latitude out of range: the library's
      assert.equal(400, status)
      assert.equal("argument", doc.error.kind)
      assert.matches("routes.calc", doc.error.message, 1, true)
      assert.same({}, sim.log(mark))
    end)

    it("/isochrone answers the area (a Polygon here) and its origin", function()
      local mark = sim.last_id()
      local status, doc, _, headers = get("/isochrone?wp=47.6205,-122.3493&maxTime=10&timeUnit=minute")
      assert.equal(200, status)
      assert.equal("application/geo+json", headers["content-type"])
      assert.equal("FeatureCollection", doc.type)
      assert(geojson.validate(doc))
      local area, origin = doc.features[1], doc.features[2]
      assert.equal("isochrone", area.properties.kind)
      assert.equal(10, area.properties.maxTime)
      assert.equal("Polygon", area.geometry.type)             -- the emulator's one polygon
      local ring = area.geometry.coordinates[1]
      assert.is_true(#ring >= 4)
      assert.same(ring[1], ring[#ring])                       -- closed, as GeoJSON wants
      for _, p in ipairs(ring) do                             -- lon/lat around Seattle
        assert.is_true(p[1] < -121.5 and p[1] > -123.2 and p[2] > 47.2 and p[2] < 48.1)
      end
      assert.same({type = "Point", coordinates = {-122.3493, 47.6205}}, origin.geometry)
      local sent = entries_since(mark, "/REST/v1/Routes")
      assert.equal(1, #sent)
      assert.equal("/REST/v1/Routes/Isochrones", sent[1].path)
      assert.same({key = "<redacted>", waypoint = "47.6205,-122.3493", maxTime = "10",
                   timeUnit = "minute"}, sent[1].query)
    end)

    it("/isochrone refuses what is not a number or breaks a documented rule, sending nothing", function()
      local mark = sim.last_id()
      for _, path in ipairs{"/isochrone?wp=47.6,-122.3", "/isochrone?maxTime=10",
                            "/isochrone?wp=47.6,-122.3&maxTime=ten",
                            "/isochrone?wp=47.6,-122.3&maxTime=-3",
                            "/isochrone?wp=47.6,-122.3&maxTime=10&maxDistance=5",
                            "/isochrone?wp=47.6,-122.3&maxTime=10&timeUnit=fortnight"} do
        local status, doc = get(path)
        assert.equal(400, status, path)
        assert.equal("argument", doc.error.kind, path)
      end
      assert.same({}, sim.log(mark))
    end)

    it("/tiles-template gives the Road template once per worker, keyless", function()
      local mark = sim.last_id()
      local status, doc, body = get("/tiles-template")
      assert.equal(200, status)
      assert.equal("Road", doc.set)
      assert.equal(sim.url .. "/tiles/{subdomain}/r{quadkey}.png?g=1&mkt=en-US", doc.template)
      assert.same({"t0", "t1", "t2", "t3"}, doc.subdomains)
      assert.same({1, 19, 256}, {doc.zoomMin, doc.zoomMax, doc.tileSize})
      assert.is_nil(body:find(sim.key, 1, true))
      -- Two workers: at most one metadata request each, however often the page asks, in
      -- whichever culture (filled in by the service: not another billable request).
      for _ = 1, 6 do assert.equal(200, (get("/tiles-template"))) end
      for _, culture in ipairs{"fr-FR", "de-DE", "ja-JP", "en-GB", "zh-Hans", "fr-FR"} do
        local st, t = get("/tiles-template?culture=" .. culture)
        assert.equal(200, st)
        assert.equal(sim.url .. "/tiles/{subdomain}/r{quadkey}.png?g=1&mkt=" .. culture, t.template)
      end
      local sent = entries_since(mark, "/REST/v1/Imagery/Metadata/")
      assert.is_true(#sent >= 1 and #sent <= 2, #sent .. " metadata requests")
      assert.equal("/REST/v1/Imagery/Metadata/Road", sent[1].path)
      assert.same({key = "<redacted>", uriScheme = "http"}, sent[1].query)
      assert.equal(400, (get("/tiles-template?set=Birdseye")))
      assert.equal(400, (get("/tiles-template?culture=%7Bx%7D")))
    end)

    it("serves the page, its script and Leaflet with the types a browser needs", function()
      local status, _, html, h = get("/")
      assert.equal(200, status)
      assert.matches("^text/html", h["content-type"])
      assert.matches('<script src="/leaflet/leaflet.js">', html, 1, true)
      local js
      status, _, js, h = get("/app.js")
      assert.equal(200, status)
      assert.equal("application/javascript", h["content-type"])
      assert.matches("/tiles-template", js, 1, true)
      status, _, _, h = get("/leaflet/leaflet.js")
      assert.equal(200, status)
      assert.equal("application/javascript", h["content-type"])
      status, _, _, h = get("/leaflet/leaflet.css")
      assert.equal(200, status)
      assert.equal("text/css", h["content-type"])
      assert.is_nil(html:find(sim.key, 1, true))
      assert.is_nil(js:find(sim.key, 1, true))
    end)
  end)

  describe("the page in headless Chromium", function()
    local browser, img, mark, state
    local W, H = 800, 600

    setup(function()
      assert(chromium.available(), chromium.BIN .. " is missing: install Debian's chromium "
        .. "(make deps)")
      mark = sim.last_id()
      browser = chromium.start{width = W, height = H, timeout = 60}
      browser:navigate(srv.base .. "/?" .. query{{"from", FROM}, {"to", TO}, {"minutes", "10"}})
      state = browser:poll("window.bingExample && bingExample.state !== 'loading' && "
        .. "bingExample.state", 30)
      local shot = browser:screenshot()
      local f = assert(io.open(SHOT, "wb"))
      f:write(shot)
      f:close()
      img = png.decode(shot)
    end)

    teardown(function()
      if browser then browser:close() end
    end)

    -- Container pixels of {lat, lon} points, projected by the page's own map.
    local function project(points)
      return cjson.decode(browser:eval(("JSON.stringify(%s.map(function (p) {"
        .. "var q = bingExample.map.latLngToContainerPoint(p); return [q.x, q.y]; }))")
        :format(cjson.encode(points))))
    end

    local function pixel(x, y)
      local r, g, b = img:rgba(x, y)
      return {r, g, b}
    end

    -- Whether a pixel of colour `want` lies within `radius` of (x, y).
    local function colour_near(x, y, want, radius)
      for dy = -radius, radius do
        for dx = -radius, radius do
          local px, py = math.floor(x + 0.5) + dx, math.floor(y + 0.5) + dy
          if px >= 0 and py >= 0 and px < img.width and py < img.height
            and near(pixel(px, py), want) then
            return true
          end
        end
      end
      return false
    end

    -- The service's route between the places the page geocoded (the same requests).
    local function route_points()
      local _, a = get("/geocode?q=" .. sim.encode(FROM))
      local _, b = get("/geocode?q=" .. sim.encode(TO))
      local _, fc = get("/route?wp=" .. a.lat .. "," .. a.lon .. "&wp=" .. b.lat .. "," .. b.lon)
      local pts = {}
      for i, c in ipairs(fc.features[1].geometry.coordinates) do pts[i] = {c[2], c[1]} end
      return pts
    end

    it("is ready: the data drawn and every tile of the view loaded", function()
      assert.equal("ready", state, browser:eval("bingExample.error"))
      assert.same({W, H}, {img.width, img.height})
    end)

    it("shows the emulator's Road tiles", function()
      local road, total = 0, 0
      for y = 0, H - 1, 4 do
        for x = 0, W - 1, 4 do
          total = total + 1
          if near(pixel(x, y), ROAD, 1) then road = road + 1 end
        end
      end
      -- Most of the map is tile background (no grey where a tile is missing).
      assert.is_true(road / total > 0.6, ("%.0f%% road background"):format(100 * road / total))
      -- No map background (Leaflet's #ddd) shows where a tile is missing, outside the
      -- page's controls (their rectangles, with room for the shadows).
      local boxes = cjson.decode(browser:eval("JSON.stringify([].map.call(document."
        .. "querySelectorAll('#panel, .leaflet-control'), function (e) {"
        .. "var r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }))"))
      assert.is_true(#boxes >= 3)
      local function on_control(x, y)
        for _, b in ipairs(boxes) do
          if x >= b[1] - 6 and x <= b[3] + 6 and y >= b[2] - 6 and y <= b[4] + 6 then return true end
        end
      end
      local missing = {}
      for y = 0, H - 1, 4 do
        for x = 0, W - 1, 4 do
          if not on_control(x, y) and near(pixel(x, y), {221, 221, 221}, 1) then
            missing[#missing + 1] = x .. "," .. y
          end
        end
      end
      assert.same({}, missing)
    end)

    it("draws the route line where the route is, and nowhere else", function()
      local pts = route_points()
      local px = project(pts)
      -- The page's projection is Web Mercator at its zoom: checked against our own.
      local zoom = browser:eval("bingExample.map.getZoom()")
      local function merc(p)
        local s = 256 * 2 ^ zoom
        local lat = math.rad(p[1])
        return (p[2] + 180) / 360 * s,
          (1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * s
      end
      local x0, y0 = merc(pts[1])
      for i = 2, #pts, 7 do
        local x, y = merc(pts[i])
        assert.near(px[1][1] + (x - x0), px[i][1], 1)
        assert.near(px[1][2] + (y - y0), px[i][2], 1)
      end
      -- Samples every 3 px along the line (away from the two waypoint markers): the route's
      -- colour within 2 px of each.
      local hits, tries = 0, 0
      local ax, ay = px[1][1], px[1][2]
      local bx, by = px[#px][1], px[#px][2]
      for i = 2, #px do
        local x1, y1, x2, y2 = px[i - 1][1], px[i - 1][2], px[i][1], px[i][2]
        local len = math.sqrt((x2 - x1) ^ 2 + (y2 - y1) ^ 2)
        for k = 0, math.floor(len / 3) do
          local t = len > 0 and k * 3 / len or 0
          local x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
          local far_a = (x - ax) ^ 2 + (y - ay) ^ 2 > 12 ^ 2
          local far_b = (x - bx) ^ 2 + (y - by) ^ 2 > 12 ^ 2
          if far_a and far_b and x >= 2 and y >= 2 and x < W - 2 and y < H - 2 then
            tries = tries + 1
            if colour_near(x, y, ROUTE, 2) then hits = hits + 1 end
          end
        end
      end
      assert.is_true(tries > 50, tries .. " samples: the route is off screen")
      assert.equal(tries, hits)
      -- Every route-coloured pixel lies on the line (within its half width and a bit).
      local function dist_to_line(x, y)
        local best = math.huge
        for i = 2, #px do
          local x1, y1, x2, y2 = px[i - 1][1], px[i - 1][2], px[i][1], px[i][2]
          local dx, dy = x2 - x1, y2 - y1
          local l2 = dx * dx + dy * dy
          local t = l2 > 0 and math.max(0, math.min(1, ((x - x1) * dx + (y - y1) * dy) / l2)) or 0
          local d = math.sqrt((x - x1 - t * dx) ^ 2 + (y - y1 - t * dy) ^ 2)
          if d < best then best = d end
        end
        return best
      end
      local coloured = 0
      for y = 0, H - 1 do
        for x = 0, W - 1 do
          if near(pixel(x, y), ROUTE, 10) then
            coloured = coloured + 1
            assert.is_true(dist_to_line(x, y) <= 5, ("route colour at %d,%d, off the route"):format(x, y))
          end
        end
      end
      assert.is_true(coloured > 4 * tries, coloured .. " route pixels")
      -- The waypoints: yellow markers on the route's ends.
      assert.is_true(colour_near(ax, ay, WAYPOINT, 3))
      assert.is_true(colour_near(bx, by, WAYPOINT, 3))
    end)

    it("shades the isochrone around the start", function()
      local _, fc = get("/isochrone?wp=47.6205,-122.3493&maxTime=10&timeUnit=minute")
      local ring = {}
      local g = fc.features[1].geometry
      local outer = g.type == "Polygon" and g.coordinates[1] or g.coordinates[1][1]
      for i, c in ipairs(outer) do ring[i] = {c[2], c[1]} end
      local px = project(ring)
      local minx, miny, maxx, maxy = math.huge, math.huge, -math.huge, -math.huge
      for _, p in ipairs(px) do
        minx, maxx = math.min(minx, p[1]), math.max(maxx, p[1])
        miny, maxy = math.min(miny, p[2]), math.max(maxy, p[2])
      end
      local inside, outside = 0, 0
      for y = 0, H - 1, 2 do
        for x = 0, W - 1, 2 do
          if near(pixel(x, y), AREA, 3) then
            if x >= minx - 2 and x <= maxx + 2 and y >= miny - 2 and y <= maxy + 2 then
              inside = inside + 1
            else
              outside = outside + 1
            end
          end
        end
      end
      -- A quarter of its bounding box at least (sampled every other pixel), none outside.
      assert.is_true(inside > (maxx - minx) * (maxy - miny) / 4 / 4,
        inside .. " shaded samples in a box of " .. (maxx - minx) .. "x" .. (maxy - miny))
      assert.equal(0, outside)
    end)

    it("asked the service, which asked the emulator: geocode, route, isochrone, tiles", function()
      local log = sim.log(mark)
      local seen = {locations = {}, routes = 0, isochrones = 0, tiles = {}}
      for _, e in ipairs(log) do
        if e.path == "/REST/v1/Locations" then
          seen.locations[#seen.locations + 1] = e.query.q
          assert.equal("SIM_KEY", e.key_label)
        elseif e.path == "/REST/v1/Routes/Driving" then
          seen.routes = seen.routes + 1
          assert.equal("routePath", e.query.routeAttributes)
        elseif e.path == "/REST/v1/Routes/Isochrones" then
          seen.isochrones = seen.isochrones + 1
          assert.same({"47.6205,-122.3493", "10", "minute"},
            {e.query.waypoint, e.query.maxTime, e.query.timeUnit})
        elseif e.path:match("^/tiles/") then
          seen.tiles[#seen.tiles + 1] = e
        end
      end
      -- The page's own requests come first (the spec's route_points and isochrone follow).
      -- (concurrently: in either order).
      local first_two, want = {seen.locations[1], seen.locations[2]}, {FROM, TO}
      table.sort(first_two)
      table.sort(want)
      assert.same(want, first_two)
      assert.is_true(seen.routes >= 1 and seen.isochrones >= 1)
      -- Tiles: straight from the browser to the emulator's tile host (keyless, Referer the
      -- page), at the map's zoom, enough to cover 800x600.
      -- Each URL is the one the library's ImageryMetadata:tile_url makes of the service's
      -- template for that quadkey and subdomain (the page's quadkey math is the library's).
      local zoom = browser:eval("bingExample.map.getZoom()")
      local _, t = get("/tiles-template")
      local meta = imagery.ImageryMetadata.new{imageUrl = t.template, zoomMin = t.zoomMin,
        zoomMax = t.zoomMax, imageUrlSubdomains = t.subdomains}
      assert.is_true(#seen.tiles >= 12, #seen.tiles .. " tile requests")
      for _, e in ipairs(seen.tiles) do
        assert.equal(200, e.status)
        assert.equal("missing", e.key_kind)
        assert.is_nil(e.raw_query:find("key", 1, true))
        assert.equal(srv.base .. "/", e.headers.referer)
        local sub, quadkey = e.path:match("^/tiles/(t[0-3])/r([0-3]+)%.png$")
        assert.truthy(quadkey, e.path)
        assert.equal(zoom, #quadkey)
        assert.equal(meta:tile_url(quadkey, {subdomain = sub}), sim.url .. e.raw_path .. "?" .. e.raw_query)
      end
    end)

    it("says so when a place is not found, and still shows the map", function()
      -- Last: it navigates away from the page the tests above look at.
      browser:navigate(srv.base .. "/?" .. query{{"from", "Xyzzy Nowhere"}, {"to", TO}})
      local st = browser:poll("window.bingExample && bingExample.state !== 'loading' && "
        .. "bingExample.state", 30)
      assert.equal("error", st)
      assert.equal("/geocode: not_found: no location matches q", browser:eval("bingExample.error"))
      assert.equal("/geocode: not_found: no location matches q",
        browser:eval("document.getElementById('status').textContent"))
      assert.is_true(browser:eval("bingExample.map.hasLayer(bingExample.tiles)"))
    end)

    it("never gives the key to the browser or writes it to nginx's logs", function()
      local html = browser:eval("document.documentElement.outerHTML")
      assert.is_nil(html:find(sim.key, 1, true))
      local resources = browser:eval("JSON.stringify(performance.getEntriesByType('resource')"
        .. ".map(function (r) { return r.name; }))")
      assert.is_nil(resources:find(sim.key, 1, true))
      assert.matches("/tiles-template", resources, 1, true)
      for _, name in ipairs{"error.log", "access.log"} do
        local text = read_file(srv.logs .. "/" .. name) or ""
        assert.is_nil(text:find(sim.key, 1, true), name)
      end
    end)
  end)
end)
