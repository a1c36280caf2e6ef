/* libFuzzer target: the point decoders of csrc/points.c (and the quadkey
 * parser of csrc/tiles.c) on any bytes.
 *
 * Checks, for every input:
 * - the codec (bing_points_decode_next) stops with a result or an error code
 *   within the input, and every point it yields is within -90..90/-180..180;
 * - what decodes re-encodes (bing_points_encode_delta) to a string that
 *   decodes to the same points (the round trip the library promises);
 * - the Lua functions points.decode and points.decode_shape return a list or
 *   raise/return bing's error table, and a decoded list encodes again;
 * - tiles.quadkey_to_tile accepts exactly what tile_to_quadkey gives back.
 * A failed check aborts, which libFuzzer reports as a crash.
 *
 * Corpus: fuzz/corpus/points/. By hand (from the repository root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     $(pkg-config --cflags lua5.4) fuzz/fuzz_points.c csrc/points.c \
 *     csrc/tiles.c csrc/error.c csrc/url.c csrc/buf.c $(pkg-config --libs lua5.4) -lm \
 *     -o build/fuzz_points
 *   build/fuzz_points -max_total_time=60 fuzz/corpus/points */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../csrc/bing.h"

#define MAX_POINTS 4096

static long long lats[MAX_POINTS], lons[MAX_POINTS];

static void check(int ok) {
  if (!ok)
    abort();
}

/* Decodes data[0..n) with the codec: the number of points (up to MAX_POINTS
 * kept) or -1 on an error code. */
static long decode_all(const char *s, size_t n, long long *la, long long *lo) {
  long long lat = 0, lon = 0;
  size_t pos = 0;
  long count = 0;
  while (pos < n) {
    size_t before = pos;
    long long plat = lat, plon = lon;
    int rc = bing_points_decode_next(s, n, &pos, &lat, &lon);
    if (rc != 0) {
      check(rc >= BING_POINTS_ECHAR && rc <= BING_POINTS_ERANGE);
      check(pos == before && lat == plat && lon == plon);
      return -1;
    }
    check(pos > before && pos <= n && pos - before <= 12);
    check(lat >= -9000000 && lat <= 9000000 && lon >= -18000000 && lon <= 18000000);
    if (count < MAX_POINTS) {
      la[count] = lat;
      lo[count] = lon;
    }
    count++;
  }
  return count;
}

static void round_trip(const char *s, size_t n) {
  static char out[MAX_POINTS * 12];
  static long long lat2[MAX_POINTS], lon2[MAX_POINTS];
  long count = decode_all(s, n, lats, lons), i, again;
  long long plat = 0, plon = 0;
  size_t len = 0;
  if (count <= 0 || count > MAX_POINTS)
    return;
  for (i = 0; i < count; i++) {
    long long lat, lon;
    /* Through the doubles the Lua face hands out, as a user would. */
    check(bing_points_round5((double)lats[i] / 100000.0, &lat) == 0 && lat == lats[i]);
    check(bing_points_round5((double)lons[i] / 100000.0, &lon) == 0 && lon == lons[i]);
    len += bing_points_encode_delta(lat - plat, lon - plon, out + len);
    plat = lat;
    plon = lon;
  }
  again = decode_all(out, len, lat2, lon2);
  check(again == count);
  check(memcmp(lats, lat2, sizeof lats[0] * (size_t)count) == 0);
  check(memcmp(lons, lon2, sizeof lons[0] * (size_t)count) == 0);
}

static lua_State *state(void) {
  static lua_State *L = NULL;
  if (!L) {
    L = luaL_newstate();
    check(L != NULL);
    luaL_openlibs(L);
    bing_error_open(L);
    lua_newtable(L);
    bing_points_open(L);
    bing_tiles_open(L);
    lua_getfield(L, -1, "points");
    lua_setglobal(L, "points");
    lua_getfield(L, -1, "tiles");
    lua_setglobal(L, "tiles");
    lua_pop(L, 1);
    check(luaL_dostring(L, "local points = points\n"
                           "local mt = debug.getregistry()['bing.error']\n"
                           "function check_decode(s)\n"
                           "  local ok, list = pcall(points.decode, s)\n"
                           "  if not ok then\n"
                           "    assert(getmetatable(list) == mt and list.kind == 'argument')\n"
                           "    return\n"
                           "  end\n"
                           "  local again = points.decode(points.encode(list))\n"
                           "  assert(#again == #list)\n"
                           "  for i = 1, #list do\n"
                           "    assert(again[i][1] == list[i][1] and again[i][2] == list[i][2])\n"
                           "  end\n"
                           "end\n"
                           "function check_shape(s)\n"
                           "  local rings, err = points.decode_shape(s)\n"
                           "  if rings == nil then\n"
                           "    assert(getmetatable(err) == mt and err.kind == 'decode')\n"
                           "    return\n"
                           "  end\n"
                           "  assert(err == 1)\n"
                           "  for _, ring in ipairs(rings) do points.encode(ring) end\n"
                           "end\n"
                           "local tiles = tiles\n"
                           "function check_quadkey(s)\n"
                           "  local ok, x, y, level = pcall(tiles.quadkey_to_tile, s)\n"
                           "  if not ok then\n"
                           "    assert(getmetatable(x) == mt and x.kind == 'argument')\n"
                           "    return\n"
                           "  end\n"
                           "  assert(tiles.tile_to_quadkey(x, y, level) == s)\n"
                           "end\n") == LUA_OK);
  }
  return L;
}

static void call(lua_State *L, const char *fn, const char *s, size_t n) {
  lua_getglobal(L, fn);
  lua_pushlstring(L, s, n);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "%s: %s\n", fn, lua_tostring(L, -1));
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned runs = 0;
  const char *s = (const char *)data;
  lua_State *L = state();
  round_trip(s, size);
  call(L, "check_decode", s, size);
  /* The same bytes as the rings of a version 1 shape too. */
  lua_pushliteral(L, "1,");
  lua_pushlstring(L, s, size);
  lua_concat(L, 2);
  {
    size_t n;
    const char *shape = lua_tolstring(L, -1, &n);
    call(L, "check_shape", shape, n);
  }
  lua_settop(L, 0);
  call(L, "check_shape", s, size);
  call(L, "check_quadkey", s, size);
  if (++runs % 4096 == 0)
    lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
