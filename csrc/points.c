/* Bing's point compression (rest-services/elevations/point-compression-
 * algorithm.md), used by the Elevations API's `points=` and by the Spatial
 * Data Services' Geodata polygon rings (spatial-data-services/geodata-api.md,
 * "Decompression Algorithm"). Coordinates travel as integers in units of
 * 1e-5 degree, so a round trip is exact at five decimals.
 *
 * The codec itself (bing_points_*) makes no Lua API call: the fuzz target in
 * fuzz/fuzz_points.c drives it directly. The Lua functions below it raise an
 * `argument` error (with the caller's file:line) for bad input and never read
 * past the string they are given. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bing.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

#define LAT_MAX5 9000000LL  /* 90 degrees in 1e-5 */
#define LON_MAX5 18000000LL /* 180 degrees */

static int char_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '_')
    return 62;
  if (c == '-')
    return 63;
  return -1;
}

/* JavaScript's Math.round(deg * 100000) (the page's reference code): halves
 * round up, toward +infinity, so -0.000005 gives 0 and 0.000005 gives 1.
 * v - r is exact here (Sterbenz), so the comparison decides correctly. */
int bing_points_round5(double deg, long long *out) {
  double v, r;
  if (deg != deg)
    return BING_POINTS_ERANGE;
  v = deg * 100000.0;
  r = floor(v);
  if (v - r >= 0.5)
    r += 1.0;
  if (r < -(double)LON_MAX5 * 2 || r > (double)LON_MAX5 * 2)
    return BING_POINTS_ERANGE;
  *out = (long long)r;
  return 0;
}

/* Steps 3-10 for one point: the deltas from the previous point (in 1e-5
 * degree) to at most 12 characters in out, returning how many. Both deltas
 * must come from coordinates in range (|dlat| <= 180e5, |dlon| <= 360e5):
 * the pair index then stays below 2^53 and fits 11 characters.
 *
 * Two choices where the page and its JavaScript differ:
 * - A pair index of zero (a point repeated) is written as "A", as step 7
 *   says ("If you start at zero, just record a zero"); the JavaScript writes
 *   nothing, and a decoder would then lose the point.
 * - Longitude deltas are not wrapped by +-360 degrees (step 3's text), as in
 *   the JavaScript: every in-range list then round-trips exactly and the
 *   output is what Bing's own encoder produces. The decoder accepts wrapped
 *   deltas from other encoders. */
size_t bing_points_encode_delta(long long dlat, long long dlon, char *out) {
  unsigned long long y =
      dlat >= 0 ? (unsigned long long)dlat * 2 : (unsigned long long)(-dlat) * 2 - 1;
  unsigned long long x =
      dlon >= 0 ? (unsigned long long)dlon * 2 : (unsigned long long)(-dlon) * 2 - 1;
  unsigned long long index = (y + x) * (y + x + 1) / 2 + y;
  size_t n = 0;
  do {
    unsigned rem = (unsigned)(index & 31);
    index >>= 5;
    if (index > 0)
      rem += 32;
    out[n++] = ALPHABET[rem];
  } while (index > 0);
  return n;
}

/* Decodes the point that starts at s[*pos], adding its deltas to *lat and
 * *lon (1e-5 degree) and moving *pos past it. The C# decoder of the Geodata
 * page, made safe for any bytes: at most 12 characters (60 bits) per value,
 * the diagonal found with integers (the page's Math.Sqrt is inexact past 2^52),
 * deltas no larger than the coordinate ranges allow, and a latitude that must
 * stay within +-90. A longitude that leaves +-180 (an encoder that wrapped
 * its delta across the antimeridian) is brought back by 360 degrees. */
int bing_points_decode_next(const char *s, size_t n, size_t *pos, long long *lat, long long *lon) {
  unsigned long long v = 0, d, base, ny, nx;
  long long dy, dx;
  int k = 0;
  size_t i = *pos;

  for (;;) {
    int b;
    if (i >= n)
      return BING_POINTS_ETRUNCATED;
    b = char_value((unsigned char)s[i]);
    if (b < 0)
      return BING_POINTS_ECHAR;
    i++;
    if (k >= 60)
      return BING_POINTS_ELONG;
    v |= (unsigned long long)(b & 31) << k;
    k += 5;
    if (b < 32)
      break;
  }

  /* v = d(d+1)/2 + ny with 0 <= ny <= d; d < 2^31 for v < 2^60. */
  d = (unsigned long long)((sqrt(8.0 * (double)v + 1.0) - 1.0) / 2.0);
  while (d > 0 && d * (d + 1) / 2 > v)
    d--;
  while ((d + 1) * (d + 2) / 2 <= v)
    d++;
  base = d * (d + 1) / 2;
  ny = v - base;
  nx = d - ny;
  dy = (ny & 1) ? -(long long)(ny >> 1) - 1 : (long long)(ny >> 1);
  dx = (nx & 1) ? -(long long)(nx >> 1) - 1 : (long long)(nx >> 1);
  if (dy < -2 * LAT_MAX5 || dy > 2 * LAT_MAX5 || dx < -2 * LON_MAX5 || dx > 2 * LON_MAX5)
    return BING_POINTS_ERANGE;
  dy += *lat;
  dx += *lon;
  if (dy < -LAT_MAX5 || dy > LAT_MAX5)
    return BING_POINTS_ERANGE;
  if (dx > LON_MAX5)
    dx -= 2 * LON_MAX5;
  else if (dx < -LON_MAX5)
    dx += 2 * LON_MAX5;
  /* Only a point that decoded moves the position and the sums. */
  *lat = dy;
  *lon = dx;
  *pos = i;
  return 0;
}

const char *bing_points_strerror(int code) {
  switch (code) {
  case BING_POINTS_ECHAR:
    return "is not in the point compression alphabet (A-Z a-z 0-9 _ -)";
  case BING_POINTS_ETRUNCATED:
    return "is cut short (truncated)";
  case BING_POINTS_ELONG:
    return "holds a value longer than 12 characters";
  case BING_POINTS_ERANGE:
    return "gives a coordinate outside -90..90 / -180..180";
  default:
    return "is not a compressed point list";
  }
}

/* Raises an `argument` error (bing.errors shape) for a bad call of the
 * running C function. When the Lua face is loaded, bing.errors.raise makes
 * it, so C and Lua name the same place: the file:line of the user's call,
 * past any of the library's own frames (err.where, and the message's start).
 * Without it (the core used alone, the fuzz target), the caller's position
 * from luaL_where: a table raised as an error gets none from Lua itself.
 * Shared with tiles.c. */
int bing_argument_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  int msg;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  msg = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "bing.errors");
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "raise");
      if (lua_isfunction(L, -1)) {
        lua_pushvalue(L, msg);
        lua_pushinteger(L, 2); /* the caller of this C function */
        lua_call(L, 2, 0);     /* raises */
      }
    }
  }
  lua_settop(L, msg);
  luaL_where(L, 1);
  lua_pushvalue(L, msg);
  lua_concat(L, 2);
  bing_error_push(L, "argument", 0, NULL, lua_tostring(L, -1), 0);
  luaL_where(L, 1);
  if (lua_rawlen(L, -1) > 2) {
    /* "file:line: " without its ": " */
    lua_pushlstring(L, lua_tostring(L, -1), lua_rawlen(L, -1) - 2);
    lua_setfield(L, -3, "where");
  }
  lua_pop(L, 1);
  return lua_error(L);
}

/* The string argument at idx, or an argument error naming the function. */
static const char *check_string(lua_State *L, int idx, const char *fn, size_t *len) {
  if (lua_type(L, idx) != LUA_TSTRING)
    bing_argument_error(L, "%s: expected a string, got %s", fn, luaL_typename(L, idx));
  return lua_tolstring(L, idx, len);
}

/* Describes the byte at s[i] for a message: printable ASCII as 'c', anything
 * else as its code, so no control byte reaches a log line. */
static void describe_byte(char *out, size_t outsz, const char *s, size_t i) {
  unsigned char c = (unsigned char)s[i];
  if (c >= 0x20 && c < 0x7f && c != '\'')
    snprintf(out, outsz, "'%c'", c);
  else
    snprintf(out, outsz, "byte 0x%02x", c);
}

/* One point's coordinate as a number in range, or an argument error. */
static long long point_coord(lua_State *L, int i, int which, const char *fn) {
  static const char *const names[] = {"latitude", "longitude"};
  double limit = which == 1 ? 90.0 : 180.0, deg;
  char num[64];
  long long out = 0;
  lua_rawgeti(L, -1, which);
  if (lua_type(L, -1) != LUA_TNUMBER)
    bing_argument_error(L, "%s: point %d: %s must be a number, got %s", fn, i, names[which - 1],
                        luaL_typename(L, -1));
  deg = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(deg >= -limit && deg <= limit) || bing_points_round5(deg, &out) != 0) {
    snprintf(num, sizeof num, "%.17g", deg != deg ? 0.0 : deg);
    if (deg != deg)
      strcpy(num, "nan");
    bing_argument_error(L, "%s: point %d: %s %s is outside -%d..%d", fn, i, names[which - 1], num,
                        (int)limit, (int)limit);
  }
  return out;
}

/* points.encode({{lat, lon}, ...}) -> string */
static int points_encode(lua_State *L) {
  static const char fn[] = "bing.points.encode";
  luaL_Buffer b;
  long long plat = 0, plon = 0;
  size_t n, i;

  if (lua_type(L, 1) != LUA_TTABLE)
    return bing_argument_error(L, "%s: expected a list of {lat, lon}, got %s", fn,
                               luaL_typename(L, 1));
  lua_settop(L, 1);
  n = lua_rawlen(L, 1);
  /* Checked before the buffer takes stack slots: the error paths then raise
   * with nothing half-built. */
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, (int)i);
    if (lua_type(L, -1) != LUA_TTABLE)
      return bing_argument_error(L, "%s: point %d must be a {lat, lon} table, got %s", fn, (int)i,
                                 luaL_typename(L, -1));
    (void)point_coord(L, (int)i, 1, fn);
    (void)point_coord(L, (int)i, 2, fn);
    lua_pop(L, 1);
  }
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    char chunk[16];
    long long lat = 0, lon = 0;
    size_t len;
    lua_rawgeti(L, 1, (int)i);
    lua_rawgeti(L, -1, 1);
    bing_points_round5(lua_tonumber(L, -1), &lat);
    lua_rawgeti(L, -2, 2);
    bing_points_round5(lua_tonumber(L, -1), &lon);
    lua_pop(L, 3);
    len = bing_points_encode_delta(lat - plat, lon - plon, chunk);
    luaL_addlstring(&b, chunk, len);
    plat = lat;
    plon = lon;
  }
  luaL_pushresult(&b);
  return 1;
}

/* Decodes s[0..n) into a new list of {lat, lon} on the stack. On failure
 * nothing is pushed, the error code is returned and *at is the offset of the
 * value that failed (its first byte, or the bad byte for ECHAR). */
static int push_point_list(lua_State *L, const char *s, size_t n, size_t *at) {
  long long lat = 0, lon = 0;
  size_t pos = 0;
  int count = 0;
  lua_newtable(L);
  while (pos < n) {
    size_t start = pos;
    int rc = bing_points_decode_next(s, n, &pos, &lat, &lon);
    if (rc != 0) {
      *at = start;
      if (rc == BING_POINTS_ECHAR)
        while (*at < n && char_value((unsigned char)s[*at]) >= 0)
          (*at)++;
      lua_pop(L, 1);
      return rc;
    }
    /* Division, not the page's * 0.00001: n / 1e5 is the double nearest the
     * five-decimal value, the same number Lua reads from "35.89431". */
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, (lua_Number)lat / 100000.0);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, (lua_Number)lon / 100000.0);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, ++count);
  }
  return 0;
}

/* The message of a failed decode, pushed: where it failed and why. `what`
 * names the part of a shape (a ring), or is NULL for a whole string. */
static void push_decode_message(lua_State *L, const char *fn, const char *what, const char *s,
                                size_t n, size_t at, int rc) {
  char where[80];
  if (rc == BING_POINTS_ECHAR && at < n) {
    char byte[24];
    describe_byte(byte, sizeof byte, s, at);
    snprintf(where, sizeof where, "%s at offset %lu", byte, (unsigned long)at);
  } else {
    snprintf(where, sizeof where, "the value at offset %lu", (unsigned long)at);
  }
  lua_pushfstring(L, "%s: %s%s%s %s", fn, what ? what : "", what ? ": " : "", where,
                  bing_points_strerror(rc));
}

/* points.decode(str) -> {{lat, lon}, ...} */
static int points_decode(lua_State *L) {
  static const char fn[] = "bing.points.decode";
  size_t n, at = 0;
  const char *s = check_string(L, 1, fn, &n);
  int rc = push_point_list(L, s, n, &at);
  if (rc != 0) {
    push_decode_message(L, fn, NULL, s, n, at, rc);
    return bing_argument_error(L, "%s", lua_tostring(L, -1));
  }
  return 1;
}

/* points.decode_shape(shape) -> {ring, ...}, version | nil, err
 *
 * A Geodata Primitive's `Shape`: a version number, then compressed rings,
 * all separated by commas ("1,<ring>,<ring>"). The shape comes from the
 * service, so a malformed one is a `decode` error returned, not raised; only
 * a non-string argument raises. Only version 1 is documented: another
 * version may encode rings differently, so it is refused rather than decoded
 * into wrong coordinates. */
static int points_decode_shape(lua_State *L) {
  static const char fn[] = "bing.points.decode_shape";
  size_t n, i = 0, start;
  const char *s = check_string(L, 1, fn, &n);
  int rings = 0;

  while (i < n && s[i] >= '0' && s[i] <= '9')
    i++;
  if (i == 0 || i > 9 || (i < n && s[i] != ',')) {
    lua_pushnil(L);
    bing_error_push(L, "decode", 0, "BadShape",
                    "bing.points.decode_shape: a Shape starts with its version number and a comma",
                    0);
    return 2;
  }
  if (i != 1 || s[0] != '1') {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: Shape version %.*s is not known (only 1 is)", fn, (int)i, s);
    lua_pushnil(L);
    bing_error_push(L, "decode", 0, "BadShape", msg, 0);
    return 2;
  }
  lua_newtable(L);
  while (i < n) {
    size_t at = 0, len;
    int rc;
    start = ++i; /* past the comma */
    while (i < n && s[i] != ',')
      i++;
    len = i - start;
    rc = len == 0 ? BING_POINTS_EEMPTY : push_point_list(L, s + start, len, &at);
    if (rc != 0) {
      char what[40];
      snprintf(what, sizeof what, "ring %d", rings + 1);
      if (rc == BING_POINTS_EEMPTY)
        lua_pushfstring(L, "%s: %s is empty", fn, what);
      else
        push_decode_message(L, fn, what, s + start, len, at, rc);
      bing_error_push(L, "decode", 0, "BadShape", lua_tostring(L, -1), 0);
      lua_pushnil(L);
      lua_insert(L, -2);
      return 2;
    }
    lua_rawseti(L, -2, ++rings);
  }
  lua_pushinteger(L, 1);
  return 2;
}

void bing_points_open(lua_State *L) {
  static const luaL_Reg funcs[] = {{"encode", points_encode},
                                   {"decode", points_decode},
                                   {"decode_shape", points_decode_shape},
                                   {NULL, NULL}};
  luaL_newlib(L, funcs);
  lua_pushstring(L, ALPHABET);
  lua_setfield(L, -2, "ALPHABET");
  lua_setfield(L, -2, "points");
}
