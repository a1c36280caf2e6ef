/* URL building and percent-encoding.
 *
 * User input reaches a URL only through bing_encode_into, which leaves
 * nothing but unreserved bytes (and ",") unescaped, so a segment cannot add a
 * path level and a value cannot add a parameter. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bing.h"

/* Bing separates lists (points, includes) with ","; keeping it readable
 * matches the URLs of the reference and is safe inside a query value. */
static int is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == ',';
}

int bing_encode_into(bing_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  char esc[3];

  if (bing_buf_reserve(b, n))
    return -1;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_unreserved(c)) {
      if (bing_buf_addc(b, (char)c))
        return -1;
    } else {
      esc[0] = '%';
      esc[1] = hex[c >> 4];
      esc[2] = hex[c & 15];
      if (bing_buf_add(b, esc, 3))
        return -1;
    }
  }
  return 0;
}

/* Formats the number at idx for a URL: integers with %d, floats with %.14g.
 * Returns -1 for NaN and infinities, which no Bing parameter accepts. */
int bing_format_number(lua_State *L, int idx, char *out, size_t outsz) {
  lua_Number n;
  char *p;

#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, idx)) {
    snprintf(out, outsz, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
    return 0;
  }
#endif
  n = lua_tonumber(L, idx);
  if (isnan(n) || isinf(n))
    return -1;
#if LUA_VERSION_NUM < 503
  /* LuaJIT has no integer subtype: integral doubles print as integers, as
   * they would under 5.4. 2^53 bounds the exactly representable ones. */
  if (n == floor(n) && fabs(n) < 9007199254740992.0) {
    snprintf(out, outsz, "%.0f", n);
    return 0;
  }
#endif
  snprintf(out, outsz, "%.14g", n);
  /* A host program may have set a locale whose decimal point is ",". */
  for (p = out; *p; p++)
    if (*p == ',')
      *p = '.';
  return 0;
}

int bing_l_encode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  bing_buf b;

  bing_buf_init(&b, 0);
  if (bing_encode_into(&b, s, n)) {
    bing_buf_free(&b);
    return luaL_error(L, "not enough memory");
  }
  lua_pushlstring(L, b.data ? b.data : "", b.len);
  bing_buf_free(&b);
  return 1;
}

/* Parameter names come from the library, not from users, but a typo must not
 * produce a URL that silently means something else. A leading '$' is allowed:
 * the OData system query options of the Spatial Data Services ($filter, $top). */
static int valid_name(const char *s, size_t n) {
  size_t i = 0;
  if (n > 1 && s[0] == '$')
    i = 1;
  if (n == 0)
    return 0;
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return 0;
  }
  return 1;
}

static int is_key_name(const char *s, size_t n) {
  return n == 3 && (s[0] == 'k' || s[0] == 'K') && (s[1] == 'e' || s[1] == 'E') &&
         (s[2] == 'y' || s[2] == 'Y');
}

/* The base and the path come from the library and the client's options, not
 * from users: printable ASCII with no query or fragment, so that the query we
 * append is the only one. */
static int valid_path(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#')
      return 0;
  }
  return 1;
}

/* Appends the value at the top of the stack (string, number or boolean).
 * Returns 0, -1 on memory failure, -2 for a type or number we refuse. */
static int add_value(lua_State *L, bing_buf *b) {
  char num[64];
  size_t n;
  const char *s;

  switch (lua_type(L, -1)) {
  case LUA_TSTRING:
    s = lua_tolstring(L, -1, &n);
    return bing_encode_into(b, s, n);
  case LUA_TNUMBER:
    if (bing_format_number(L, -1, num, sizeof num))
      return -2;
    return bing_encode_into(b, num, strlen(num));
  case LUA_TBOOLEAN:
    return bing_buf_addstr(b, lua_toboolean(L, -1) ? "true" : "false");
  default:
    return -2;
  }
}

/* core.build_url(base, path, segments, params, key) -> url, redacted_url */
int bing_l_build_url(lua_State *L) {
  size_t baselen, pathlen, keylen = 0, n;
  const char *base = luaL_checklstring(L, 1, &baselen);
  const char *path = luaL_checklstring(L, 2, &pathlen);
  const char *key = luaL_optlstring(L, 5, NULL, &keylen);
  const char *s;
  char err[160];
  int i, rc, sep = '?', errarg = 0;
  size_t mark;
  bing_buf b;

  if (!lua_isnoneornil(L, 3))
    luaL_checktype(L, 3, LUA_TTABLE);
  if (!lua_isnoneornil(L, 4))
    luaL_checktype(L, 4, LUA_TTABLE);
  /* The base comes from the client's options: it may not bring a query either. */
  if (!valid_path(base, baselen))
    return luaL_argerror(L, 1, "base URL must be printable ASCII without '?' or '#'");
  if (!valid_path(path, pathlen))
    return luaL_argerror(L, 2, "path must be printable ASCII without '?' or '#'");
  while (baselen > 0 && base[baselen - 1] == '/')
    baselen--;
  luaL_checkstack(L, 4, NULL);

  bing_buf_init(&b, 0);
  bing_buf_add(&b, base, baselen);
  if (pathlen > 0 && path[0] != '/')
    bing_buf_addc(&b, '/');
  bing_buf_add(&b, path, pathlen);

  if (lua_istable(L, 3)) {
    for (i = 1;; i++) {
      lua_rawgeti(L, 3, i);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        break;
      }
      /* "." and ".." would be squashed by curl or the server and climb the
       * path; "" would make an empty level. None is a valid Bing value. */
      if (lua_type(L, -1) == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &n);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
          errarg = 3;
          snprintf(err, sizeof err, "segment %d must not be empty, '.' or '..'", i);
          goto fail;
        }
      }
      bing_buf_addc(&b, '/');
      rc = lua_type(L, -1) == LUA_TBOOLEAN ? -2 : add_value(L, &b);
      lua_pop(L, 1);
      if (rc == -2) {
        errarg = 3;
        snprintf(err, sizeof err, "segment %d must be a string or a finite number", i);
        goto fail;
      }
    }
  }

  if (lua_istable(L, 4)) {
    for (i = 1;; i++) {
      lua_rawgeti(L, 4, i);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        break;
      }
      if (!lua_istable(L, -1)) {
        errarg = 4;
        snprintf(err, sizeof err, "parameter %d must be a {name, value} pair", i);
        goto fail;
      }
      lua_rawgeti(L, -1, 1);
      s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
      if (!s || !valid_name(s, n)) {
        errarg = 4;
        snprintf(err, sizeof err, "parameter %d: name must match [A-Za-z0-9_.-]+", i);
        goto fail;
      }
      if (is_key_name(s, n)) {
        errarg = 4;
        snprintf(err, sizeof err, "parameter %d: 'key' is reserved, pass the key separately", i);
        goto fail;
      }
      lua_rawgeti(L, -2, 2);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 3);
        continue;
      }
      mark = b.len;
      bing_buf_addc(&b, (char)sep);
      bing_buf_add(&b, s, n);
      bing_buf_addc(&b, '=');
      rc = add_value(L, &b);
      lua_pop(L, 3);
      if (rc == -2) {
        b.len = mark;
        errarg = 4;
        snprintf(err, sizeof err, "parameter %d: value must be a string, finite number or boolean",
                 i);
        goto fail;
      }
      sep = '&';
    }
  }

  if (key && keylen > 0) {
    bing_buf_addc(&b, (char)sep);
    bing_buf_add(&b, "key=", 4);
    mark = b.len;
    bing_encode_into(&b, key, keylen);
    if (bing_buf_failed(&b))
      goto fail;
    lua_pushlstring(L, b.data, b.len);
    b.len = mark;
    bing_buf_add(&b, "<redacted>", 10);
  }
  if (bing_buf_failed(&b))
    goto fail;
  if (!(key && keylen > 0))
    lua_pushlstring(L, b.data, b.len);
  lua_pushlstring(L, b.data, b.len);
  bing_buf_free(&b);
  return 2;

fail:
  /* The buffer is freed before raising: luaL_error does not return. */
  bing_buf_free(&b);
  if (errarg)
    return luaL_argerror(L, errarg, err);
  return luaL_error(L, "not enough memory");
}
