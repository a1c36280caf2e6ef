/* Response decoding: the Bing envelope, HTTP status -> error kind, and JSON
 * through lua-cjson.
 *
 * lua-cjson has no C API, so luaopen keeps a decode function of a private
 * cjson.safe instance in the registry and every call goes through lua_pcall:
 * bad bytes give nil, never a raise or a crash. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bing.h"

/* Deep enough for every Bing document (a route's itinerary is about ten
 * levels); cjson itself stops at 1000. */
#define WALK_DEPTH 64

static int load_cjson(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushstring(L, "cjson.safe");
  lua_call(L, 1, 1);
  /* A fresh instance: settings a program makes on its own cjson.safe (say
   * decode_max_depth) must not change how the core reads responses. */
  lua_getfield(L, -1, "new");
  if (lua_isfunction(L, -1)) {
    lua_call(L, 0, 1);
  } else {
    lua_pop(L, 1);
  }
  lua_getfield(L, -1, "decode");
  if (!lua_isfunction(L, -1))
    return luaL_error(L, "cjson.safe has no decode function");
  return 1;
}

void bing_decode_open(lua_State *L) {
  lua_createtable(L, 0, 8);
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "statusCode");
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "estimatedTotal");
  lua_setfield(L, LUA_REGISTRYINDEX, BING_REG_INTFIELDS);

  /* A missing lua-cjson must not stop URL building from loading: decode
   * reports it when it is called. */
  lua_pushcfunction(L, load_cjson);
  if (lua_pcall(L, 0, 1, 0) != LUA_OK && lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushstring(L, "cannot load cjson.safe");
  }
  lua_setfield(L, LUA_REGISTRYINDEX, BING_REG_DECODE);
}

/* core.integer_fields{name, ...} */
int bing_l_integer_fields(lua_State *L) {
  int i;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, LUA_REGISTRYINDEX, BING_REG_INTFIELDS);
  for (i = 1;; i++) {
    lua_rawgeti(L, 1, i);
    if (lua_isnil(L, -1))
      break;
    if (lua_type(L, -1) != LUA_TSTRING)
      return luaL_argerror(L, 1, "field names must be strings");
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
  }
  return 0;
}

#if LUA_VERSION_NUM >= 503
/* lua-cjson 2.1 gives floats for every number under 5.4; turn the integral
 * ones under the keys of the set (at index set) into integers, so counts,
 * indices and codes print and compare as the integers they are. */
static void fix_integers(lua_State *L, int t, int set, int depth) {
  lua_Integer n;

  if (depth > WALK_DEPTH)
    return;
  luaL_checkstack(L, 4, "JSON document too deep");
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_type(L, -1) == LUA_TTABLE) {
      fix_integers(L, lua_gettop(L), set, depth + 1);
    } else if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TNUMBER &&
               !lua_isinteger(L, -1) && lua_numbertointeger(lua_tonumber(L, -1), &n) &&
               (lua_Number)n == lua_tonumber(L, -1)) {
      lua_pushvalue(L, -2);
      lua_rawget(L, set);
      if (lua_toboolean(L, -1)) {
        /* Assigning to an existing field is allowed during lua_next. */
        lua_pushvalue(L, -3);
        lua_pushinteger(L, n);
        lua_rawset(L, t);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
}
#endif

/* Pushes the decoded body; returns 1 when it is a table, else 0 (with nil or
 * the decoded non-table value, and cjson's message, left on the stack). */
static int json_decode(lua_State *L, const char *body, size_t len) {
  lua_getfield(L, LUA_REGISTRYINDEX, BING_REG_DECODE);
  if (!lua_isfunction(L, -1)) {
    const char *why = lua_tostring(L, -1);
    luaL_error(L, "bing.core.decode needs lua-cjson (%s)", why ? why : "not loaded");
  }
  /* .NET servers may prefix a UTF-8 byte order mark, which cjson rejects. */
  if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
    body += 3;
    len -= 3;
  }
  lua_pushlstring(L, body, len);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 0;
  }
  if (!lua_istable(L, -2))
    return 0;
#if LUA_VERSION_NUM >= 503
  lua_getfield(L, LUA_REGISTRYINDEX, BING_REG_INTFIELDS);
  fix_integers(L, lua_gettop(L) - 2, lua_gettop(L), 0);
  lua_pop(L, 1);
#endif
  return 1;
}

/* Copies header name (lower case) from the headers table at index h into
 * out, trimmed; returns out, or NULL when absent. */
static const char *header(lua_State *L, int h, const char *name, char *out, size_t outsz) {
  const char *s;
  size_t n;

  if (!lua_istable(L, h))
    return NULL;
  lua_getfield(L, h, name);
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
  if (s) {
    while (n > 0 && isspace((unsigned char)*s))
      s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
      n--;
    if (n >= outsz)
      n = outsz - 1;
    memcpy(out, s, n);
    out[n] = '\0';
  }
  lua_pop(L, 1);
  return s ? out : NULL;
}

/* Retry-After is delta-seconds or an HTTP-date. Returns -1 when absent or
 * unreadable. */
static long retry_after(lua_State *L, int h) {
  char v[128];
  const char *p;
  long secs = 0;
  time_t when;

  if (!header(L, h, "retry-after", v, sizeof v) || !v[0])
    return -1;
  for (p = v; *p >= '0' && *p <= '9'; p++) {
    if (secs > 100000000L)
      return 100000000L;
    secs = secs * 10 + (*p - '0');
  }
  if (*p == '\0')
    return secs;
  when = curl_getdate(v, NULL);
  if (when == (time_t)-1)
    return -1;
  return when > time(NULL) ? (long)(when - time(NULL)) : 0;
}

static const char *reason(long status) {
  switch (status) {
  case 300:
    return "MultipleChoices";
  case 301:
    return "MovedPermanently";
  case 302:
    return "Found";
  case 303:
    return "SeeOther";
  case 304:
    return "NotModified";
  case 307:
    return "TemporaryRedirect";
  case 308:
    return "PermanentRedirect";
  case 400:
    return "BadRequest";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "NotFound";
  case 405:
    return "MethodNotAllowed";
  case 406:
    return "NotAcceptable";
  case 408:
    return "RequestTimeout";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 411:
    return "LengthRequired";
  case 413:
    return "PayloadTooLarge";
  case 414:
    return "URITooLong";
  case 415:
    return "UnsupportedMediaType";
  case 422:
    return "UnprocessableEntity";
  case 429:
    return "TooManyRequests";
  case 500:
    return "InternalServerError";
  case 501:
    return "NotImplemented";
  case 502:
    return "BadGateway";
  case 503:
    return "ServiceUnavailable";
  case 504:
    return "GatewayTimeout";
  default:
    return NULL;
  }
}

/* Sets err.retry_after (err at the top) from the headers at h. */
static void set_retry_after(lua_State *L, int h) {
  long ra = retry_after(L, h);
  if (ra >= 0) {
    lua_pushinteger(L, (lua_Integer)ra);
    lua_setfield(L, -2, "retry_after");
  }
}

/* Copies doc.traceId (doc at index d) to err.trace_id (err at the top). */
static void set_trace_id(lua_State *L, int d) {
  lua_getfield(L, d, "traceId");
  if (lua_type(L, -1) == LUA_TSTRING)
    lua_setfield(L, -2, "trace_id");
  else
    lua_pop(L, 1);
}

/* True when some resourceSets[i].resources of doc (at d) is non-empty. */
static int has_resources(lua_State *L, int d) {
  int found = 0;
  lua_getfield(L, d, "resourceSets");
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (!found && lua_next(L, -2)) {
      if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "resources");
        if (lua_istable(L, -1)) {
          lua_pushnil(L);
          if (lua_next(L, -2)) {
            found = 1;
            lua_pop(L, 2);
          }
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    if (found)
      lua_pop(L, 1); /* the key lua_next left */
  }
  lua_pop(L, 1);
  return found;
}

static int decode_success(lua_State *L, long status, const char *body, size_t len, int h) {
  char v[16];
  int doc;

  if (status == 204 || (len == 0 && status == 202)) {
    lua_newtable(L);
    return 1;
  }
  if (!json_decode(L, body, len)) {
    const char *why = lua_tostring(L, -1);
    char msg[256];
    if (lua_isnil(L, -2))
      snprintf(msg, sizeof msg, "invalid JSON in HTTP %ld response: %s", status,
               why ? why : "decode failed");
    else
      snprintf(msg, sizeof msg, "HTTP %ld response is JSON but not an object", status);
    lua_pushnil(L);
    bing_error_push(L, "decode", status, "InvalidJSON", msg, 0);
    return 2;
  }
  lua_pop(L, 1);
  doc = lua_gettop(L);
  if (header(L, h, "x-ms-bm-ws-info", v, sizeof v) && strcmp(v, "1") == 0 &&
      !has_resources(L, doc)) {
    lua_pushnil(L);
    bing_error_push(L, "throttled", status, "ThrottledEmpty",
                    "empty response while the service is overloaded (X-MS-BM-WS-INFO: 1); "
                    "retry in a few seconds",
                    1);
    set_trace_id(L, doc);
    set_retry_after(L, h);
    return 2;
  }
  return 1;
}

/* Joins doc.errorDetails (doc at d) with "; " onto the stack; returns 0 when
 * there is no string detail. */
static int join_details(lua_State *L, int d) {
  int i, t, n = 0;
  luaL_Buffer b;

  lua_getfield(L, d, "errorDetails");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  t = lua_gettop(L);
  luaL_buffinit(L, &b);
  for (i = 1;; i++) {
    int type;
    lua_rawgeti(L, t, i);
    type = lua_type(L, -1);
    lua_pop(L, 1);
    if (type == LUA_TNIL)
      break;
    if (type != LUA_TSTRING)
      continue;
    if (n++)
      luaL_addstring(&b, "; ");
    /* luaL_addvalue is the one buffer call that may follow a push. */
    lua_rawgeti(L, t, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_remove(L, t);
  if (n == 0) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* Replaces the string at the top with its redacted copy. */
static void redact_top(lua_State *L, const char *key, size_t keylen) {
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  bing_push_redacted(L, s, n, key, keylen);
  lua_remove(L, -2);
}

/* Redacts the strings of the array at t in place: the service may echo a
 * request (and its key) in errorDetails. */
static void redact_array(lua_State *L, int t, const char *key, size_t keylen) {
  int i;
  for (i = 1;; i++) {
    lua_rawgeti(L, t, i);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      return;
    }
    if (lua_type(L, -1) == LUA_TSTRING) {
      redact_top(L, key, keylen);
      lua_rawseti(L, t, i);
    } else {
      lua_pop(L, 1);
    }
  }
}

static int decode_failure(lua_State *L, long status, const char *body, size_t len, int h,
                          const char *key, size_t keylen) {
  const char *kind = "http", *code = NULL;
  int retryable = 0, doc = 0, err;
  char codebuf[128], msg[128];
  const char *s;
  size_t n, i, j;

  if (status == 401 || status == 403) {
    kind = "auth";
  } else if (status == 429) {
    kind = "throttled";
    retryable = 1;
  } else if (status == 408) {
    kind = "timeout";
    retryable = 1;
  } else if (status == 500 || status == 502 || status == 503 || status == 504) {
    retryable = 1;
  }

  if (len > 0) {
    if (json_decode(L, body, len)) {
      lua_pop(L, 1);
      doc = lua_gettop(L);
    } else {
      lua_pop(L, 2);
    }
  }

  lua_pushnil(L);
  if (!doc) {
    /* An empty body counts as non-JSON: one wording to match on. */
    snprintf(msg, sizeof msg, "HTTP %ld (non-JSON body)", status);
    bing_error_push(L, kind, status, reason(status), msg, retryable);
  } else {
    snprintf(msg, sizeof msg, "HTTP %ld", status);
    bing_error_push(L, kind, status, NULL, msg, retryable);
    err = lua_gettop(L);

    /* code: authenticationResultCode unless it says all is well, then
     * statusDescription without spaces ("Bad Request" -> "BadRequest"). */
    lua_getfield(L, doc, "authenticationResultCode");
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (s && *s && strcmp(s, "ValidCredentials") != 0)
      code = s;
    lua_getfield(L, doc, "statusDescription");
    if (!code && lua_type(L, -1) == LUA_TSTRING) {
      s = lua_tolstring(L, -1, &n);
      for (i = j = 0; i < n && j < sizeof codebuf - 1; i++)
        if (!isspace((unsigned char)s[i]))
          codebuf[j++] = s[i];
      codebuf[j] = '\0';
      if (j)
        code = codebuf;
    }
    if (!code)
      code = reason(status);
    if (code) {
      lua_pushstring(L, code);
      redact_top(L, key, keylen);
      lua_setfield(L, err, "code");
    }

    /* The details are redacted before they are joined, so that the "; "
     * between them cannot be taken for part of a key value. */
    lua_getfield(L, doc, "errorDetails");
    if (lua_istable(L, -1))
      redact_array(L, lua_gettop(L), key, keylen);
    lua_pop(L, 1);

    /* message: errorDetails, else statusDescription, else "HTTP <status>". */
    if (join_details(L, doc)) {
      lua_setfield(L, err, "message");
    } else if (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
      lua_pushvalue(L, -1);
      redact_top(L, key, keylen);
      lua_setfield(L, err, "message");
    }
    lua_pop(L, 2);

    lua_getfield(L, doc, "errorDetails");
    if (lua_istable(L, -1))
      lua_setfield(L, err, "details");
    else
      lua_pop(L, 1);
    set_trace_id(L, doc);
  }
  set_retry_after(L, h);
  return 2;
}

/* core.decode(status, headers, body[, want_raw[, key]]) -> doc | body | nil, err
 * With key, error texts taken from the body are redacted of it too (key=...
 * values always are). */
int bing_l_decode(lua_State *L) {
  lua_Integer status = luaL_checkinteger(L, 1);
  size_t len = 0, keylen = 0;
  const char *body, *key = luaL_optlstring(L, 5, NULL, &keylen);
  int want_raw = lua_toboolean(L, 4);

  luaL_argcheck(L, status >= 100 && status <= 999, 1, "HTTP status out of range");
  if (!lua_isnoneornil(L, 2))
    luaL_checktype(L, 2, LUA_TTABLE);
  body = luaL_optlstring(L, 3, "", &len);
  lua_settop(L, 5); /* body and key stay referenced from the stack */
  luaL_checkstack(L, 16, NULL);

  if (status >= 200 && status < 300) {
    if (want_raw) {
      lua_pushvalue(L, 3);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "");
      }
      return 1;
    }
    return decode_success(L, (long)status, body, len, 2);
  }
  if (status >= 400)
    return decode_failure(L, (long)status, body, len, 2, key, keylen);

  /* 1xx and 3xx: redirects are not followed (the key would go along). */
  {
    char msg[96];
    snprintf(msg, sizeof msg, "unexpected HTTP %ld (redirects are not followed)", (long)status);
    lua_pushnil(L);
    bing_error_push(L, "http", (long)status, reason((long)status), msg, 0);
    set_retry_after(L, 2);
    return 2;
  }
}
