/* The Bing Maps Tile System (articles/bing-maps-tile-system.md): spherical
 * Mercator pixels, 256-pixel tiles and quadkeys at levels 1-23. The formulas
 * and their order of operations are the article's sample code, so results
 * match a straight reading of the article to the last bit.
 *
 * Where the article's code is silent or lenient, a user is better told:
 * - a latitude outside -90..90 or a longitude outside -180..180 is an
 *   `argument` error (the article clips any number). Within range, latitude
 *   is clipped to the Mercator limit +-85.05112878 as in the article, so the
 *   poles map to the top and bottom rows.
 * - a tile outside 0..2^level-1 is an error, where the article's quadkey
 *   code would silently drop its high bits.
 * - NaN, infinities, level 0 or 24, and quadkey digits other than 0-3 are
 *   errors. Every error is raised as bing.errors' `argument` table with the
 *   caller's file:line in its message. */
#include <math.h>
#include <stdio.h>

#include "bing.h"

#define PI 3.14159265358979323846
#define EARTH_RADIUS 6378137.0
#define MIN_LATITUDE -85.05112878
#define MAX_LATITUDE 85.05112878
#define MIN_LEVEL 1
#define MAX_LEVEL 23
/* The map at level 23 is 2^31 pixels wide: 2^23 tiles. */
#define MAX_PIXEL 2147483648.0
#define MAX_TILE 8388608LL

static double clip(double n, double lo, double hi) {
  return fmin(fmax(n, lo), hi);
}

static void fmt_number(char *out, size_t sz, double d) {
  if (d != d)
    snprintf(out, sz, "nan");
  else
    snprintf(out, sz, "%.17g", d);
}

/* A finite number at idx, or an argument error naming it. */
static double check_number(lua_State *L, int idx, const char *fn, const char *name) {
  double d;
  if (lua_type(L, idx) != LUA_TNUMBER)
    bing_argument_error(L, "%s: %s must be a number, got %s", fn, name,
                        lua_isnone(L, idx) ? "nil" : luaL_typename(L, idx));
  d = lua_tonumber(L, idx);
  if (d != d || d == HUGE_VAL || d == -HUGE_VAL)
    bing_argument_error(L, "%s: %s must be a finite number, got %s", fn, name,
                        d != d ? "nan" : (d > 0 ? "inf" : "-inf"));
  return d;
}

static int check_level(lua_State *L, int idx, const char *fn) {
  char num[64];
  double d = check_number(L, idx, fn, "level");
  if (d != floor(d) || d < MIN_LEVEL || d > MAX_LEVEL) {
    fmt_number(num, sizeof num, d);
    bing_argument_error(L, "%s: level must be an integer from 1 to 23, got %s", fn, num);
  }
  return (int)d;
}

static double check_range(lua_State *L, int idx, const char *fn, const char *name, double limit) {
  char num[64];
  double d = check_number(L, idx, fn, name);
  if (d < -limit || d > limit) {
    fmt_number(num, sizeof num, d);
    bing_argument_error(L, "%s: %s must be from %d to %d, got %s", fn, name, -(int)limit,
                        (int)limit, num);
  }
  return d;
}

static double map_size(int level) {
  return (double)(256LL << level);
}

/* LatLongToPixelXY without the range check: lat and lon already checked. */
static void latlon_pixel(double lat, double lon, int level, long long *px, long long *py) {
  double x, y, sin_lat, size = map_size(level);
  lat = clip(lat, MIN_LATITUDE, MAX_LATITUDE);
  x = (lon + 180) / 360;
  sin_lat = sin(lat * PI / 180);
  y = 0.5 - log((1 + sin_lat) / (1 - sin_lat)) / (4 * PI);
  *px = (long long)clip(x * size + 0.5, 0, size - 1);
  *py = (long long)clip(y * size + 0.5, 0, size - 1);
}

static double ground_resolution(double lat, int level) {
  lat = clip(lat, MIN_LATITUDE, MAX_LATITUDE);
  return cos(lat * PI / 180) * 2 * PI * EARTH_RADIUS / map_size(level);
}

/* Latitude of the northern edge of pixel row y (a fraction of the map). */
static double row_latitude(double y) {
  return 90 - 360 * atan(exp(-y * 2 * PI)) / PI;
}

/* tiles.map_size(level) -> pixels */
static int tiles_map_size(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)(256LL << check_level(L, 1, "bing.tiles.map_size")));
  return 1;
}

/* tiles.latlon_to_pixel(lat, lon, level) -> px, py */
static int tiles_latlon_to_pixel(lua_State *L) {
  static const char fn[] = "bing.tiles.latlon_to_pixel";
  double lat = check_range(L, 1, fn, "latitude", 90);
  double lon = check_range(L, 2, fn, "longitude", 180);
  int level = check_level(L, 3, fn);
  long long px, py;
  latlon_pixel(lat, lon, level, &px, &py);
  lua_pushinteger(L, (lua_Integer)px);
  lua_pushinteger(L, (lua_Integer)py);
  return 2;
}

/* tiles.pixel_to_latlon(px, py, level) -> lat, lon. Pixels are clipped to
 * the map as in the article; fractional pixels are allowed (a viewer's
 * smooth pan). */
static int tiles_pixel_to_latlon(lua_State *L) {
  static const char fn[] = "bing.tiles.pixel_to_latlon";
  double px = check_number(L, 1, fn, "px");
  double py = check_number(L, 2, fn, "py");
  double size = map_size(check_level(L, 3, fn));
  double x = (clip(px, 0, size - 1) / size) - 0.5;
  double y = 0.5 - (clip(py, 0, size - 1) / size);
  lua_pushnumber(L, row_latitude(y));
  lua_pushnumber(L, 360 * x);
  return 2;
}

static long long check_pixel(lua_State *L, int idx, const char *fn, const char *name) {
  char num[64];
  double d = check_number(L, idx, fn, name);
  if (d < 0 || d >= MAX_PIXEL) {
    fmt_number(num, sizeof num, d);
    bing_argument_error(L, "%s: %s must be from 0 to below 2^31 (the level 23 map), got %s", fn,
                        name, num);
  }
  return (long long)floor(d);
}

static long long check_tile(lua_State *L, int idx, const char *fn, const char *name,
                            long long count) {
  char num[64];
  double d = check_number(L, idx, fn, name);
  if (d != floor(d) || d < 0 || d >= (double)count) {
    fmt_number(num, sizeof num, d);
    bing_argument_error(L, "%s: %s must be an integer from 0 to %d, got %s", fn, name,
                        (int)(count - 1), num);
  }
  return (long long)d;
}

/* tiles.pixel_to_tile(px, py) -> tx, ty */
static int tiles_pixel_to_tile(lua_State *L) {
  static const char fn[] = "bing.tiles.pixel_to_tile";
  long long px = check_pixel(L, 1, fn, "px");
  long long py = check_pixel(L, 2, fn, "py");
  lua_pushinteger(L, (lua_Integer)(px / 256));
  lua_pushinteger(L, (lua_Integer)(py / 256));
  return 2;
}

/* tiles.tile_to_pixel(tx, ty) -> px, py of the tile's upper-left pixel */
static int tiles_tile_to_pixel(lua_State *L) {
  static const char fn[] = "bing.tiles.tile_to_pixel";
  long long tx = check_tile(L, 1, fn, "tx", MAX_TILE);
  long long ty = check_tile(L, 2, fn, "ty", MAX_TILE);
  lua_pushinteger(L, (lua_Integer)(tx * 256));
  lua_pushinteger(L, (lua_Integer)(ty * 256));
  return 2;
}

static void push_quadkey(lua_State *L, long long tx, long long ty, int level) {
  char key[MAX_LEVEL + 1];
  int i, n = 0;
  for (i = level; i > 0; i--) {
    long long mask = 1LL << (i - 1);
    char digit = '0';
    if (tx & mask)
      digit++;
    if (ty & mask)
      digit += 2;
    key[n++] = digit;
  }
  lua_pushlstring(L, key, (size_t)n);
}

/* tiles.tile_to_quadkey(tx, ty, level) -> quadkey */
static int tiles_tile_to_quadkey(lua_State *L) {
  static const char fn[] = "bing.tiles.tile_to_quadkey";
  int level = check_level(L, 3, fn);
  long long tx = check_tile(L, 1, fn, "tx", 1LL << level);
  long long ty = check_tile(L, 2, fn, "ty", 1LL << level);
  push_quadkey(L, tx, ty, level);
  return 1;
}

/* tiles.quadkey_to_tile(quadkey) -> tx, ty, level */
static int tiles_quadkey_to_tile(lua_State *L) {
  static const char fn[] = "bing.tiles.quadkey_to_tile";
  size_t n, i;
  const char *key;
  long long tx = 0, ty = 0;
  if (lua_type(L, 1) != LUA_TSTRING)
    return bing_argument_error(L, "%s: quadkey must be a string, got %s", fn, luaL_typename(L, 1));
  key = lua_tolstring(L, 1, &n);
  if (n < MIN_LEVEL || n > MAX_LEVEL)
    return bing_argument_error(L, "%s: a quadkey has 1 to 23 digits, got %d", fn, (int)n);
  for (i = 0; i < n; i++) {
    long long mask = 1LL << (n - 1 - i);
    unsigned char c = (unsigned char)key[i];
    if (c < '0' || c > '3') {
      char what[24];
      if (c >= 0x20 && c < 0x7f)
        snprintf(what, sizeof what, "'%c'", c);
      else
        snprintf(what, sizeof what, "byte 0x%02x", c);
      return bing_argument_error(L, "%s: quadkey digit %d is %s; digits are 0 to 3", fn, (int)i + 1,
                                 what);
    }
    if (c & 1)
      tx |= mask;
    if (c & 2)
      ty |= mask;
  }
  lua_pushinteger(L, (lua_Integer)tx);
  lua_pushinteger(L, (lua_Integer)ty);
  lua_pushinteger(L, (lua_Integer)n);
  return 3;
}

/* tiles.ground_resolution(lat, level) -> meters per pixel */
static int tiles_ground_resolution(lua_State *L) {
  static const char fn[] = "bing.tiles.ground_resolution";
  double lat = check_range(L, 1, fn, "latitude", 90);
  lua_pushnumber(L, ground_resolution(lat, check_level(L, 2, fn)));
  return 1;
}

/* tiles.map_scale(lat, level[, dpi]) -> N of the scale 1 : N. The article's
 * "typically 96 dpi" is the default. */
static int tiles_map_scale(lua_State *L) {
  static const char fn[] = "bing.tiles.map_scale";
  double lat = check_range(L, 1, fn, "latitude", 90);
  int level = check_level(L, 2, fn);
  double dpi = 96;
  if (!lua_isnoneornil(L, 3)) {
    dpi = check_number(L, 3, fn, "dpi");
    if (dpi <= 0) {
      char num[64];
      fmt_number(num, sizeof num, dpi);
      return bing_argument_error(L, "%s: dpi must be above 0, got %s", fn, num);
    }
  }
  lua_pushnumber(L, ground_resolution(lat, level) * dpi / 0.0254);
  return 1;
}

/* tiles.latlon_to_tile(lat, lon, level) -> tx, ty */
static int tiles_latlon_to_tile(lua_State *L) {
  static const char fn[] = "bing.tiles.latlon_to_tile";
  double lat = check_range(L, 1, fn, "latitude", 90);
  double lon = check_range(L, 2, fn, "longitude", 180);
  int level = check_level(L, 3, fn);
  long long px, py;
  latlon_pixel(lat, lon, level, &px, &py);
  lua_pushinteger(L, (lua_Integer)(px / 256));
  lua_pushinteger(L, (lua_Integer)(py / 256));
  return 2;
}

/* tiles.latlon_to_quadkey(lat, lon, level) -> quadkey */
static int tiles_latlon_to_quadkey(lua_State *L) {
  static const char fn[] = "bing.tiles.latlon_to_quadkey";
  double lat = check_range(L, 1, fn, "latitude", 90);
  double lon = check_range(L, 2, fn, "longitude", 180);
  int level = check_level(L, 3, fn);
  long long px, py;
  latlon_pixel(lat, lon, level, &px, &py);
  push_quadkey(L, px / 256, py / 256, level);
  return 1;
}

/* tiles.tile_bounds(tx, ty, level) -> south, west, north, east of the tile's
 * edges. Computed from the edges themselves, not from the article's
 * PixelXYToLatLong (which clips to the last pixel and so would leave the
 * last column short of 180 degrees). */
static int tiles_tile_bounds(lua_State *L) {
  static const char fn[] = "bing.tiles.tile_bounds";
  int level = check_level(L, 3, fn);
  long long count = 1LL << level;
  long long tx = check_tile(L, 1, fn, "tx", count);
  long long ty = check_tile(L, 2, fn, "ty", count);
  double n = (double)count;
  lua_pushnumber(L, row_latitude(0.5 - (double)(ty + 1) / n));
  lua_pushnumber(L, 360 * ((double)tx / n - 0.5));
  lua_pushnumber(L, row_latitude(0.5 - (double)ty / n));
  lua_pushnumber(L, 360 * ((double)(tx + 1) / n - 0.5));
  return 4;
}

void bing_tiles_open(lua_State *L) {
  static const luaL_Reg funcs[] = {{"map_size", tiles_map_size},
                                   {"latlon_to_pixel", tiles_latlon_to_pixel},
                                   {"pixel_to_latlon", tiles_pixel_to_latlon},
                                   {"pixel_to_tile", tiles_pixel_to_tile},
                                   {"tile_to_pixel", tiles_tile_to_pixel},
                                   {"tile_to_quadkey", tiles_tile_to_quadkey},
                                   {"quadkey_to_tile", tiles_quadkey_to_tile},
                                   {"ground_resolution", tiles_ground_resolution},
                                   {"map_scale", tiles_map_scale},
                                   {"latlon_to_tile", tiles_latlon_to_tile},
                                   {"latlon_to_quadkey", tiles_latlon_to_quadkey},
                                   {"tile_bounds", tiles_tile_bounds},
                                   {NULL, NULL}};
  luaL_newlib(L, funcs);
  lua_pushnumber(L, MIN_LATITUDE);
  lua_setfield(L, -2, "MIN_LATITUDE");
  lua_pushnumber(L, MAX_LATITUDE);
  lua_setfield(L, -2, "MAX_LATITUDE");
  lua_pushinteger(L, MIN_LEVEL);
  lua_setfield(L, -2, "MIN_LEVEL");
  lua_pushinteger(L, MAX_LEVEL);
  lua_setfield(L, -2, "MAX_LEVEL");
  lua_setfield(L, -2, "tiles");
}
