// The page of the OpenResty example: a Leaflet map whose tiles come from the imagery
// metadata's template (/tiles-template), with a route (/route) between two places found by
// /geocode, and the area reachable from the first in some minutes (/isochrone).
// Everything goes through the example's nginx; the Bing key stays there (tile URLs are
// keyless, as Bing's own are).
//
// The address bar sets the first view: /?from=Space%20Needle&to=Redmond%2C%20WA&minutes=10
// (`set=Aerial` for another imagery set; `view=lat,lon,zoom` pins the view instead of fitting
// the route, which spec/ngx_web_spec.lua uses to know where the route must be drawn).
(function () {
  'use strict';

  var ROUTE_COLOURS = ['#e6007e', '#7b2cbf'];  // legs alternate; the spec looks for the first
  var CASING = '#ffffff';
  var AREA = {color: '#00897b', weight: 2, fillColor: '#26a69a', fillOpacity: 0.25};
  var POINT = {radius: 7, color: '#000000', weight: 2, fillColor: '#ffd60a', fillOpacity: 1};

  var params = new URLSearchParams(window.location.search);
  var form = document.getElementById('panel');
  var statusLine = document.getElementById('status');
  form.from.value = params.get('from') || 'Space Needle';
  form.to.value = params.get('to') || '1 Microsoft Way, Redmond, WA';
  form.minutes.value = params.get('minutes') || '10';

  // No tile fade: a tile is fully drawn as soon as it has loaded (for a screenshot too).
  var map = L.map('map', {zoomSnap: 1, fadeAnimation: false});
  // What the page is doing, for tests and the console: state 'loading', 'ready' (data drawn
  // and every tile of the view loaded) or 'error' (with the message).
  var page = window.bingExample = {map: map, state: 'loading', error: null, tiles: null,
                                   viewSet: false};
  // The map gets its view when the first data is drawn (or pinned from the address bar), and
  // its tiles then: no tile of a view nobody sees is fetched.
  var drawn = L.featureGroup();
  var template = null;
  var pinned = null;
  var view = /^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?),(\d+)$/.exec(params.get('view') || '');
  if (view) pinned = [[+view[1], +view[2]], +view[3]];

  // Gives the map a view (pinned, else `fallback` when it has none yet), its drawings and its
  // tiles, once.
  function ready(fallback) {
    if (pinned && !page.viewSet) map.setView(pinned[0], pinned[1]);
    else if (!page.viewSet && fallback) map.setView(fallback[0], fallback[1]);
    page.viewSet = true;
    if (!map.hasLayer(drawn)) drawn.addTo(map);
    if (template && !page.tiles) addTiles(template);
  }

  function tilesLoaded() {
    return new Promise(function (resolve) {
      if (!page.tiles || !page.tiles.isLoading()) resolve();
      else page.tiles.once('load', function () { resolve(); });
    });
  }

  function failed(e) {
    ready([[47.62, -122.24], 11]);
    page.state = 'error';
    page.error = e.message;
    say(e.message, true);
  }

  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.className = isError ? 'error' : '';
  }

  // GET a JSON document from the service; rejects with the service's error message.
  function getJSON(path, query) {
    var qs = new URLSearchParams();
    Object.keys(query || {}).forEach(function (k) {
      [].concat(query[k]).forEach(function (v) { qs.append(k, v); });
    });
    var url = path + (qs.toString() ? '?' + qs.toString() : '');
    return fetch(url).then(function (resp) {
      return resp.json().then(function (doc) {
        if (!resp.ok) {
          var e = doc && doc.error;
          throw new Error(path + ': ' + (e ? e.kind + ': ' + e.message : 'HTTP ' + resp.status));
        }
        return doc;
      });
    });
  }

  // Bing tiles are named by quadkey: the tile's x and y bits interleaved, one digit a level.
  var QuadkeyLayer = L.TileLayer.extend({
    getTileUrl: function (coords) {
      var quadkey = '';
      for (var i = coords.z; i > 0; i--) {
        var mask = 1 << (i - 1), digit = 0;
        if (coords.x & mask) digit += 1;
        if (coords.y & mask) digit += 2;
        quadkey += digit;
      }
      return L.Util.template(this._url, {subdomain: this._getSubdomain(coords), quadkey: quadkey});
    }
  });

  function addTiles(t) {
    var copyright = (t.copyright || '').split('. ')[0];
    var subdomains = t.subdomains && t.subdomains.length ? t.subdomains : [''];
    page.tiles = new QuadkeyLayer(t.template, {
      subdomains: subdomains, minZoom: t.zoomMin || 1, maxZoom: t.zoomMax || 19,
      tileSize: t.tileSize || 256, attribution: copyright
    }).addTo(map);
  }

  // "47.6,-122.3" stays a point; anything else goes through /geocode.
  function place(text) {
    var m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
    if (m) return Promise.resolve({lat: +m[1], lon: +m[2], name: text});
    return getJSON('/geocode', {q: text});
  }

  function distance(d, unit) {
    return Math.round(d * 10) / 10 + (/^mi/i.test(unit || '') ? ' mi' : ' km');
  }

  function minutes(text) {
    var n = parseFloat(text);
    return n > 0 ? n : null;
  }

  function drawArea(fc) {
    L.geoJSON(fc, {
      filter: function (f) { return f.properties.kind === 'isochrone'; },
      style: function () { return AREA; }
    }).addTo(drawn);
  }

  function drawRoute(fc) {
    var legs = fc.features.filter(function (f) { return f.properties.kind === 'leg'; });
    var route = fc.features.filter(function (f) { return f.properties.kind === 'route'; });
    var unit = route[0] && route[0].properties.distanceUnit;
    L.geoJSON(route, {style: function () { return {color: CASING, weight: 9, opacity: 1}; }})
      .addTo(drawn);
    L.geoJSON(legs, {
      style: function (f) {
        return {color: ROUTE_COLOURS[(f.properties.leg - 1) % ROUTE_COLOURS.length],
                weight: 5, opacity: 1};
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip('leg ' + p.leg + ': ' + (p.startLocation || '') + ' \u2192 ' + (p.endLocation || '') +
                          ', ' + distance(p.travelDistance, unit) + ', ' +
                          Math.round(p.travelDuration / 60) + ' min');
      }
    }).addTo(drawn);
    L.geoJSON(fc, {
      filter: function (f) { return f.properties.kind === 'waypoint'; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, POINT)
          .bindTooltip(f.properties.label + ' ' + (f.properties.name || ''));
      }
    }).addTo(drawn);
    return route[0] && route[0].properties;
  }

  function show() {
    var from = form.from.value, to = form.to.value, mins = minutes(form.minutes.value);
    say('finding ' + from + ' and ' + to + '...');
    return Promise.all([place(from), place(to)]).then(function (ends) {
      var wp = ends.map(function (p) { return p.lat + ',' + p.lon; });
      var jobs = [getJSON('/route', {wp: wp})];
      if (mins) jobs.push(getJSON('/isochrone', {wp: wp[0], maxTime: mins, timeUnit: 'minute'}));
      return Promise.all(jobs).then(function (docs) {
        drawn.clearLayers();
        if (docs[1]) drawArea(docs[1]);
        var r = drawRoute(docs[0]);
        // Not animated: the view is final as soon as the data is drawn (a screenshot taken
        // then shows it, not a zoom in progress).
        if (!pinned && drawn.getLayers().length) {
          map.fitBounds(drawn.getBounds(), {padding: [20, 20], animate: false});
          page.viewSet = true;
        }
        ready();
        say(r ? distance(r.travelDistance, r.distanceUnit) + ', ' +
                Math.round(r.travelDuration / 60) + ' min' +
                (mins ? '; shaded: ' + mins + ' min from A' : '') : 'no route');
      });
    });
  }

  function run() {
    page.state = 'loading';
    return show().then(tilesLoaded).then(function () { page.state = 'ready'; }, failed);
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    run();
  });

  getJSON('/tiles-template', {set: params.get('set') || 'Road'})
    .then(function (t) { template = t; return run(); }, failed);
}());
