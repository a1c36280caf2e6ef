rockspec_format = "3.0"
package = "bing-maps"
version = "scm-1"
source = {
  url = "git+file:///dev/null",  -- built from a checkout with `luarocks make`
}
description = {
  summary = "Bing Maps REST Services and Spatial Data Services for Lua",
  detailed = [[
A C core (libcurl transport, key and session-key auth, response decoding) under an idiomatic
Lua face: bing.locations.find{...}, bing.routes.calc{...}, with retries, rate limiting,
async jobs and billing hints.]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson",
}
-- By library, not by header: Debian's multiarch libcurl keeps curl/curl.h under
-- /usr/include/<triplet>, where luarocks' header check does not look (the compiler does).
external_dependencies = {
  CURL = {library = "curl"},
}
build = {
  type = "builtin",
  modules = {
    ["bing.core"] = {
      sources = {
        "csrc/core.c", "csrc/buf.c", "csrc/url.c", "csrc/auth.c", "csrc/decode.c",
        "csrc/error.c", "csrc/http.c", "csrc/clock.c", "csrc/points.c", "csrc/tiles.c",
        "csrc/jsonnum.c",
      },
      libraries = {"curl", "m"},
      incdirs = {"$(CURL_INCDIR)"},
      libdirs = {"$(CURL_LIBDIR)"},
      defines = {"_POSIX_C_SOURCE=200809L"},
    },
    ["bing"] = "lua/bing/init.lua",
    ["bing.client"] = "lua/bing/client.lua",
    ["bing.errors"] = "lua/bing/errors.lua",
    ["bing.billing"] = "lua/bing/billing.lua",
    ["bing.retry"] = "lua/bing/retry.lua",
    ["bing.ratelimit"] = "lua/bing/ratelimit.lua",
    ["bing.check"] = "lua/bing/check.lua",
    ["bing.endpoint"] = "lua/bing/endpoint.lua",
    ["bing.api.locations"] = "lua/bing/api/locations.lua",
    ["bing.api.location_types"] = "lua/bing/api/location_types.lua",
    ["bing.api.routes"] = "lua/bing/api/routes.lua",
    ["bing.api.route_types"] = "lua/bing/api/route_types.lua",
    ["bing.api.elevations"] = "lua/bing/api/elevations.lua",
    ["bing.api.timezone"] = "lua/bing/api/timezone.lua",
    ["bing.api.traffic"] = "lua/bing/api/traffic.lua",
    ["bing.api.autosuggest"] = "lua/bing/api/autosuggest.lua",
    ["bing.api.geospatial"] = "lua/bing/api/geospatial.lua",
    ["bing.api.sds"] = "lua/bing/api/sds.lua",
    ["bing.api.sds_format"] = "lua/bing/api/sds_format.lua",
    ["bing.api.sds_jobs"] = "lua/bing/api/sds_jobs.lua",
    ["bing.api.sds_query"] = "lua/bing/api/sds_query.lua",
    ["bing.api.sds_datasource"] = "lua/bing/api/sds_datasource.lua",
    ["bing.pager"] = "lua/bing/pager.lua",
    ["bing.api.imagery"] = "lua/bing/api/imagery.lua",
    ["bing.jobs"] = "lua/bing/jobs.lua",
    ["bing.ngx_transport"] = "lua/bing/ngx_transport.lua",
    ["bing.store"] = "lua/bing/store.lua",
    ["bing.points"] = "lua/bing/points.lua",
    ["bing.tiles"] = "lua/bing/tiles.lua",
    ["bing.batch"] = "lua/bing/batch.lua",
    ["bing.geojson"] = "lua/bing/geojson.lua",
    ["bing.cli"] = "lua/bing/cli.lua",
    ["bing.cli.output"] = "lua/bing/cli/output.lua",
  },
  -- the `bing` command (luarocks writes a wrapper that sets the rock tree's paths)
  install = {
    bin = {bing = "bin/bing"},
  },
}
